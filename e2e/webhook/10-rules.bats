#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# The webhook's rules (SPEC section 7) as a user meets them: `kubectl apply`
# of each misconfiguration is refused by the real API server with the
# webhook's message; what is fine is admitted (with a warning when it
# cannot be checked yet) and normalized.

setup() {
    # shellcheck source=lib.bash
    . "$BATS_TEST_DIRNAME/lib.bash"
    e2e_setup webhook
    AUDIT_MARK=$(wh_audit_count)
}

teardown() {
    if ! e2e_alive webhook; then
        wh_start webhook && wait_for 30 wh_ready webhook && wh_register webhook
    fi
    e2e_teardown
}

# svc_doc NAME ANNOTATIONS-JSON [SPEC-JSON]: a Service document (JSON is
# YAML) with selector app=NAME and port http 80 -> 8080 unless SPEC says.
svc_doc() {
    local spec=${3:-'{"selector": {"app": "'"$1"'"}, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}'}
    jq -n --arg name "$1" --argjson ann "$2" --argjson spec "$spec" \
        '{apiVersion: "v1", kind: "Service", metadata: {name: $name, annotations: $ann}, spec: $spec}'
}

# refused DOC TEXT...: `kubectl apply` of DOC fails, and its message names
# the webhook and holds every TEXT.
refused() {
    local doc=$1 t
    shift
    run kubectl -n "$NS" apply -f - <<<"$doc"
    if [ "$status" -eq 0 ]; then
        printf 'admitted, want refused: %s\n' "$output" >&2
        return 1
    fi
    for t in "validate.zen-lead.io" "$@"; do
        if [[ "$output" != *"$t"* ]]; then
            printf 'refusal lacks "%s":\n%s\n' "$t" "$output" >&2
            return 1
        fi
    done
}

# audited JQ-CONDITION: an audit line since the test began for this
# namespace matches the condition (waits 5 s).
audited() {
    wait_for 5 bash -c 'tail -n +"$1" "$2" | jq -s -e --arg ns "$3" "any(.[]; .namespace == \$ns and ($4))" >/dev/null' \
        _ "$((AUDIT_MARK + 1))" "$WH_AUDIT" "$NS" "$1"
}

@test "a bad boolean, a bad duration and an unknown zen-lead.io key are refused with what to write instead" {
    refused "$(svc_doc a '{"zen-lead.io/enabled": "yes"}')" "zen-lead.io/enabled" "true"
    refused "$(svc_doc b '{"zen-lead.io/enabled": "true", "zen-lead.io/min-ready-duration": "5 seconds"}')" \
        "zen-lead.io/min-ready-duration"
    refused "$(svc_doc c '{"zen-lead.io/enabled": "true", "zen-lead.io/stickyy": "true"}')" "zen-lead.io/stickyy"
    run kubectl -n "$NS" get services -o name
    [ -z "$output" ]
}

@test "an enabled Service without a selector, or of type ExternalName, is refused" {
    refused "$(svc_doc nosel '{"zen-lead.io/enabled": "true"}' '{"ports": [{"port": 80}]}')" selector
    refused "$(svc_doc ext '{"zen-lead.io/enabled": "true"}' '{"type": "ExternalName", "externalName": "db.example.com"}')" ExternalName
}

@test "a 60-character name needs zen-lead.io/leader-service-name, and is admitted with it" {
    local name
    name=$(printf 'a%.0s' {1..60})
    refused "$(svc_doc "$name" '{"zen-lead.io/enabled": "true"}')" "zen-lead.io/leader-service-name"
    kubectl -n "$NS" apply -f - >/dev/null <<<"$(svc_doc "$name" '{"zen-lead.io/enabled": "true", "zen-lead.io/leader-service-name": "long-leader"}')"
    wait_for 10 kubectl -n "$NS" get service long-leader
}

@test "a named targetPort the matching pods lack (by name or by protocol) is refused; declared, it is admitted" {
    k8s_create_pods "$NS" db 2 app=db "$E2E_NODE" >/dev/null
    local spec='{"selector": {"app": "db"}, "ports": [{"name": "pg", "port": 5432, "targetPort": "postgres"}]}'
    refused "$(svc_doc db '{"zen-lead.io/enabled": "true"}' "$spec")" postgres
    # Pods that declare "postgres" over UDP only: still no match for TCP.
    kubectl -n "$NS" delete pods --all --grace-period=0 --force >/dev/null 2>&1
    k8s_create_pods "$NS" dbu 2 app=db "$E2E_NODE" postgres:5432/UDP >/dev/null
    refused "$(svc_doc db '{"zen-lead.io/enabled": "true"}' "$spec")" postgres TCP
    local udp='{"selector": {"app": "db"}, "ports": [{"name": "pg", "port": 5432, "targetPort": "postgres", "protocol": "UDP"}]}'
    kubectl -n "$NS" apply -f - >/dev/null <<<"$(svc_doc db '{"zen-lead.io/enabled": "true"}' "$udp")"
}

@test "a Service applied before its pods is admitted with a warning" {
    local spec='{"selector": {"app": "later"}, "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}'
    run kubectl -n "$NS" apply -f - <<<"$(svc_doc later '{"zen-lead.io/enabled": "true"}' "$spec")"
    [ "$status" -eq 0 ]
    [[ "$output" == *"Warning:"* ]]
    [[ "$output" == *"http"* ]]
}

@test "a leader name taken by a Service zen-lead does not manage, or claimed by another source, is refused" {
    kubectl -n "$NS" create service clusterip web-leader --tcp=80:8080 >/dev/null
    refused "$(svc_doc web '{"zen-lead.io/enabled": "true"}')" web-leader
    kubectl -n "$NS" apply -f - >/dev/null <<<"$(svc_doc one '{"zen-lead.io/enabled": "true", "zen-lead.io/leader-service-name": "shared"}')"
    refused "$(svc_doc two '{"zen-lead.io/enabled": "true", "zen-lead.io/leader-service-name": "shared"}')" shared
}

@test "values are stored canonical: True becomes true, spaces go; applying again changes nothing" {
    local doc
    doc=$(svc_doc canon '{"zen-lead.io/enabled": "True", "zen-lead.io/sticky": " false "}')
    kubectl -n "$NS" apply -f - >/dev/null <<<"$doc"
    run kubectl -n "$NS" get service canon -o jsonpath='{.metadata.annotations.zen-lead\.io/enabled} {.metadata.annotations.zen-lead\.io/sticky}'
    [ "$output" = "true false" ]
    local rv
    rv=$(kubectl -n "$NS" get service canon -o jsonpath='{.metadata.resourceVersion}')
    kubectl -n "$NS" apply -f - >/dev/null <<<"$doc"
    [ "$(kubectl -n "$NS" get service canon -o jsonpath='{.metadata.resourceVersion}')" = "$rv" ]
}

@test "kubectl apply --dry-run=server is answered the same and audited as dry-run" {
    run kubectl -n "$NS" apply --dry-run=server -f - <<<"$(svc_doc dry '{"zen-lead.io/enabled": "maybe"}')"
    [ "$status" -ne 0 ]
    [[ "$output" == *"zen-lead.io/enabled"* ]]
    kubectl -n "$NS" apply --dry-run=server -f - >/dev/null <<<"$(svc_doc dry '{"zen-lead.io/enabled": "true"}')"
    run kubectl -n "$NS" get service dry
    [ "$status" -ne 0 ]
    audited '.name == "dry" and .dryRun == true and .allowed == false'
    audited '.name == "dry" and .dryRun == true and .allowed == true'
}

@test "a user cannot edit or delete what zen-lead manages; the controller's writes pass" {
    kubectl -n "$NS" apply -f - >/dev/null <<<"$(svc_doc guard '{"zen-lead.io/enabled": "true"}')"
    pods_up "$NS" guard 2 app=guard
    wait_slice "$NS" guard-leader-ipv4 "guard-0 true"
    run kubectl -n "$NS" label service guard-leader edited=yes
    [ "$status" -ne 0 ]
    [[ "$output" == *"guard"* ]]
    run kubectl -n "$NS" delete endpointslice guard-leader-ipv4
    [ "$status" -ne 0 ]
    run kubectl -n "$NS" delete service guard-leader
    [ "$status" -ne 0 ]
    audited '.name == "guard-leader" and .allowed == false and .rule == "V5"'
    # The controller still moves the leader: its writes are admitted.
    k8s_set_pod_ready "$NS" guard-0 false
    wait_slice "$NS" guard-leader-ipv4 "guard-1 true"
}

# requests_still: the webhook's request counter did not move for a second
# (earlier scenarios' namespaces may still be going away); prints it.
requests_still() {
    local a b
    a=$(wh_requests webhook)
    for _ in $(seq 50); do
        sleep 1
        b=$(wh_requests webhook)
        [ "$a" = "$b" ] && { printf '%s\n' "$b"; return 0; }
        a=$b
    done
    return 1
}

@test "Services without zen-lead annotations never reach the webhook" {
    local before after
    before=$(requests_still)
    kubectl -n "$NS" create service clusterip plain --tcp=80:8080 >/dev/null
    kubectl -n "$NS" label service plain team=a >/dev/null
    kubectl -n "$NS" delete service plain >/dev/null
    after=$(wh_requests webhook)
    [ "$after" = "$before" ]
    ! grep -q "\"namespace\":\"$NS\",\"name\":\"plain\"" "$WH_AUDIT"
    # The counter does count: a Service with an annotation moves it.
    kubectl -n "$NS" apply -f - >/dev/null <<<"$(svc_doc seen '{"zen-lead.io/enabled": "false"}')"
    [ "$(wh_requests webhook)" != "$before" ]
}

@test "every decision has its audit line, with uid and rule" {
    refused "$(svc_doc aud '{"zen-lead.io/enabled": "nope"}')" "zen-lead.io/enabled"
    kubectl -n "$NS" apply -f - >/dev/null <<<"$(svc_doc aud '{"zen-lead.io/enabled": "true"}')"
    audited '.name == "aud" and .allowed == false and .rule == "V1" and (.uid | length) > 0'
    audited '.name == "aud" and .allowed == true and (.uid | length) > 0 and (.latencyMs | type) == "number"'
    # As many lines as decisions the webhook counted (undecodable bodies
    # are not decisions): none is missing, none is extra.
    wait_for 5 audit_matches_decisions
}

# audit_matches_decisions: the audit log has one line per decision counted.
audit_matches_decisions() {
    local decided lines
    decided=$(ctl_metrics webhook | awk '/^zen_lead_webhook_requests_total\{/ && !/operation="invalid"/ { s += $NF } END { print s + 0 }')
    lines=$(wh_audit_count)
    echo "decisions $decided, audit lines $lines"
    [ "$decided" -eq "$lines" ]
}

@test "deleting the source: the garbage collector removes the leader objects past the tamper guard" {
    kubectl -n "$NS" apply -f - >/dev/null <<<"$(svc_doc gc '{"zen-lead.io/enabled": "true"}')"
    pods_up "$NS" gc 2 app=gc
    wait_slice "$NS" gc-leader-ipv4 "gc-0 true"
    kubectl -n "$NS" delete service gc >/dev/null
    wait_for 30 gone "$NS" service gc-leader
    wait_slice "$NS" gc-leader-ipv4 gone 30
    # The collector's deletes are not even sent (matchConditions).
    ! grep -q "\"namespace\":\"$NS\",\"name\":\"gc-leader\"" <(grep '"operation":"DELETE"' "$WH_AUDIT")
}

@test "a webhook outage refuses annotated Services but holds up neither a failover nor a source's deletion" {
    kubectl -n "$NS" apply -f - >/dev/null <<<"$(svc_doc down '{"zen-lead.io/enabled": "true"}')"
    pods_up "$NS" down 2 app=down
    wait_slice "$NS" down-leader-ipv4 "down-0 true"
    e2e_stop webhook >/dev/null || true
    ! e2e_alive webhook
    run kubectl -n "$NS" apply -f - <<<"$(svc_doc other '{"zen-lead.io/enabled": "true"}')"
    [ "$status" -ne 0 ]
    [[ "$output" == *"failed calling webhook"* ]]
    k8s_set_pod_ready "$NS" down-0 false
    wait_slice "$NS" down-leader-ipv4 "down-1 true"
    wait_for 10 k8s_eq down-1 kubectl -n "$NS" get service down-leader \
        -o jsonpath='{.metadata.annotations.zen-lead\.io/current-leader}'
    # Deleting the source takes the user's webhook call (refused while it
    # is down): the leader objects go with it once it is back.
    wh_start webhook
    wait_for 30 wh_ready webhook
    wh_register webhook
    kubectl -n "$NS" delete service down >/dev/null
    wait_for 30 gone "$NS" service down-leader
}

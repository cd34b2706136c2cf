#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# kubectl zenlead status, why and drill against the real API server, with the
# controller running: healthy, no ready pods, a port mismatch, a
# terminating leader, min-ready-duration, the table, -o json against its
# schema, a view-only user, and a stopped controller. Output is compared
# with golden/ (times, uids and the namespace masked). Run through
# e2e/plugin/run.

setup() {
    # shellcheck source=lib.bash
    . "$BATS_TEST_DIRNAME/lib.bash"
    plugin_setup plug
}

teardown() {
    plugin_teardown
}

# check NAME CMD...: runs the plugin command, expects exit 0, compares
# its output with golden/NAME.txt.
check() {
    local name=$1
    shift
    run "$@"
    [ "$status" -eq 0 ] || { printf 'exit %s: %s\n' "$status" "$output" >&2; return 1; }
    plugin_golden "$name" "$NS" <<<"$output"
}

# drill_check NAME STATUS ARG...: kubectl zenlead drill ARG... --yes exits
# with STATUS; its output (plan, progress and report) against
# golden/NAME.txt.
drill_check() {
    local name=$1 want=$2
    shift 2
    run zenlead -n "$NS" drill "$@" --yes --timeout 20s
    [ "$status" -eq "$want" ] || { printf 'exit %s, want %s: %s\n' "$status" "$want" "$output" >&2; return 1; }
    plugin_golden "$name" "$NS" <<<"$output"
}

# json NAME ARG...: status -o json into $E2E_DIR/NAME.json, checked
# against the schema.
json() {
    local name=$1
    shift
    zenlead -n "$NS" status "$@" -o json >"$E2E_DIR/$name.json"
    plugin_schema "$E2E_DIR/$name.json"
}

# The pods come before their Service in each scenario, so the controller's
# first look already sees them all and the Events do not depend on timing.

@test "healthy: status, why and -o json name the leader and the next in line" {
    pods_up "$NS" db 3 app=db http:8080
    source_svc "$NS" db
    wait_slice "$NS" db-leader-ipv4 "db-0 true"
    wait_for 10 plugin_annotated db-leader db-0
    check healthy-status zenlead -n "$NS" status db
    check healthy-why zenlead -n "$NS" why db
    json healthy db
    jq_ok "$(cat "$E2E_DIR/healthy.json")" '.state == "Healthy"' '.leader.pod == "db-0"' \
        '.chosen == "db-0"' '.candidatesReady == 3' '.podsMatching == 3' \
        '[.candidates[].verdict] == ["leader", "eligible", "eligible"]' \
        '.leaderService.slices[0].endpoints[0].address == "10.244.0.1"' \
        '.controller.state == "running"' '.switches[-1].reason == "LeaderElected"'
    drill_check healthy-drill 0 db
    wait_slice "$NS" db-leader-ipv4 "db-1 true"
    local out
    out=$(zenlead -n "$NS" drill db --yes -o json 2>/dev/null)
    jq_ok "$out" '.oldLeader == "db-1"' '.newLeader == "db-2"' '.deleted == true' \
        '.timeToNewLeaderMs >= 0 and .timeToNewLeaderMs < 5000'
}

@test "no ready pods: NoLeader, each pod's reason and the fix" {
    k8s_create_pods "$NS" db 2 app=db "$E2E_NODE" http:8080
    pod_up "$NS" db-0 0
    pod_up "$NS" db-1 1
    k8s_set_pod_ready "$NS" db-0 false
    k8s_set_pod_ready "$NS" db-1 false
    source_svc "$NS" db
    wait_slice "$NS" db-leader-ipv4 none
    check noready-status zenlead -n "$NS" status db
    check noready-why zenlead -n "$NS" why db
    json noready db
    jq_ok "$(cat "$E2E_DIR/noready.json")" '.state == "NoLeader"' '.leader == null' \
        '[.candidates[].verdict] == ["notReady", "notReady"]' \
        '[.problems[].code] == ["NoReadyPods"]'
    drill_check noready-drill 1 db
}

@test "port mismatch: the named targetPort and protocol the pods lack" {
    k8s_create_pods "$NS" db 2 app=db "$E2E_NODE" web:8080
    pod_up "$NS" db-0 0
    pod_up "$NS" db-1 1
    source_svc "$NS" db
    wait_slice "$NS" db-leader-ipv4 none
    check ports-status zenlead -n "$NS" status db
    check ports-why zenlead -n "$NS" why db
    json ports db
    jq_ok "$(cat "$E2E_DIR/ports.json")" '.state == "NoLeader"' \
        '[.candidates[].verdict] == ["portMissing", "portMissing"]' \
        '[.candidates[].missingPort] == ["http", "http"]' \
        '.problems[0].code == "PortResolutionFailed"' \
        '.problems[0].message | test("named targetPort \"http\" \\(TCP\\)")'
    drill_check ports-drill 1 db
}

@test "terminating leader: the next pod leads, the old one is shown terminating" {
    pods_up "$NS" db 3 app=db http:8080
    source_svc "$NS" db
    wait_slice "$NS" db-leader-ipv4 "db-0 true"
    kubectl -n "$NS" delete pod db-0 --wait=false >/dev/null
    wait_slice "$NS" db-leader-ipv4 "db-1 true"
    wait_for 10 plugin_annotated db-leader db-1
    check terminating-status zenlead -n "$NS" status db
    check terminating-why zenlead -n "$NS" why db
    json terminating db
    jq_ok "$(cat "$E2E_DIR/terminating.json")" '.state == "Healthy"' '.leader.pod == "db-1"' \
        '[.candidates[].verdict] == ["terminating", "leader", "eligible"]' \
        '.switches[-1].reason == "LeaderChanged"' \
        '.switches[-1].message | test("db-0 to db-1 \\(terminating\\)")'
    drill_check terminating-drill 0 db
    wait_slice "$NS" db-leader-ipv4 "db-2 true"
    run zenlead -n "$NS" drill db --yes
    [ "$status" -eq 1 ]
    grep -F -- '--force' <<<"$output"
}

@test "min-ready-duration: pods wait, with the time left" {
    pods_up "$NS" db 2 app=db http:8080
    source_svc "$NS" db zen-lead.io/min-ready-duration=1h
    wait_slice "$NS" db-leader-ipv4 none
    check minready-status zenlead -n "$NS" status db
    check minready-why zenlead -n "$NS" why db
    json minready db
    jq_ok "$(cat "$E2E_DIR/minready.json")" '.state == "NoLeader"' \
        '[.candidates[].verdict] == ["waiting", "waiting"]' \
        '.candidates[0].eligibleInSeconds > 3500 and .candidates[0].eligibleInSeconds <= 3600' \
        '.settings.minReadyDuration == "1h0m0s"'
    drill_check minready-drill 1 db
}

@test "the table: every annotated Service of the namespace, and -A" {
    pods_up "$NS" db 2 app=db http:8080
    source_svc "$NS" db
    source_svc "$NS" cache
    wait_slice "$NS" db-leader-ipv4 "db-0 true"
    wait_slice "$NS" cache-leader-ipv4 none
    wait_for 10 plugin_annotated db-leader db-0
    check table zenlead -n "$NS" status
    run zenlead status -A
    [ "$status" -eq 0 ]
    grep -E "^$NS +cache +<none> .* NoLeader$" <<<"$output"
    grep -E "^$NS +db +db-0 .* 2/2 +Healthy$" <<<"$output"
    json list
    jq_ok "$(cat "$E2E_DIR/list.json")" '.kind == "ZenLeadStatusList"' \
        '[.items[].service] == ["cache", "db"]'
}

@test "a view-only user runs status and why; the Lease it may not read is said so" {
    source_svc "$NS" db
    pods_up "$NS" db 2 app=db http:8080
    wait_slice "$NS" db-leader-ipv4 "db-0 true"
    wait_for 10 plugin_annotated db-leader db-0
    run zenlead_viewer -n "$NS" status db
    [ "$status" -eq 0 ]
    grep -F "Service $NS/db  Healthy" <<<"$output"
    grep -E '^Controller  unknown: get lease zen-lead-system/zen-lead-controller: .*forbidden' <<<"$output"
    run zenlead_viewer -n "$NS" why db
    [ "$status" -eq 0 ]
    grep -F 'db-leader routes to pod db-0 (10.244.0.1).' <<<"$output"
    run zenlead_viewer -n "$NS" status
    [ "$status" -eq 0 ]
    grep -E '^db +db-0 ' <<<"$output"
    # and it may not drill
    run zenlead_viewer -n "$NS" drill db --yes
    [ "$status" -eq 1 ]
    grep -i 'forbidden' <<<"$output"
}

@test "a stopped controller: its released Lease is a problem, and a missing Service exits 1" {
    source_svc "$NS" db
    pods_up "$NS" db 2 app=db http:8080
    wait_slice "$NS" db-leader-ipv4 "db-0 true"
    e2e_stop main >/dev/null || true
    run e2e_alive main
    [ "$status" -ne 0 ]
    run zenlead -n "$NS" status db
    [ "$status" -eq 0 ]
    grep -E '^Controller  released ' <<<"$output"
    grep -F 'ControllerNotRunning: no controller replica holds the Lease zen-lead-system/zen-lead-controller (released)' <<<"$output"
    run zenlead -n "$NS" status nosuch
    [ "$status" -eq 1 ]
    grep -F 'no such Service' <<<"$output"
    run zenlead -n "$NS" why nosuch
    [ "$status" -eq 1 ]
    run zenlead -n "$NS" status db --bogus
    [ "$status" -eq 2 ]
    [ "$output" = "error: unknown flag --bogus (see kubectl zenlead --help)" ]
}

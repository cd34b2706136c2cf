#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# The webhook on certificates from real cert-manager: the cainjector writes
# the caBundle, the webhook serves the issued certificate and refuses a bad
# Service, and 20 renewals under a load of admissions fail no request.

setup() {
    # shellcheck source=lib.bash
    . "$BATS_TEST_DIRNAME/lib.bash"
    NS=$(k8s_new_namespace cm)
}

teardown() {
    kubectl delete namespace "$NS" --wait=false >/dev/null 2>&1 || true
}

good_svc() {
    jq -n --arg name "$1" '{apiVersion: "v1", kind: "Service", metadata: {name: $name,
        annotations: {"zen-lead.io/enabled": "true"}},
        spec: {selector: {app: $name}, ports: [{name: "http", port: 80, targetPort: 8080}]}}'
}

@test "the cainjector injects the CA of the serving certificate into the webhook configurations" {
    wait_for 60 cm_injected
    want=$(kubectl -n "$CM_NS" get secret "$CM_SECRET" -o jsonpath='{.data.ca\.crt}' | base64 -d)
    [ "$(cm_ca_bundle | base64 -d)" = "$want" ]
    mut=$(kubectl get mutatingwebhookconfiguration zen-lead-webhook -o jsonpath='{.webhooks[0].clientConfig.caBundle}')
    [ "$(base64 -d <<<"$mut")" = "$want" ]
}

@test "the webhook serves the issued certificate and refuses a bad Service with its message" {
    wait_for 60 cm_injected
    [ "$(cm_served_serial)" = "$(cm_secret_serial)" ]
    doc=$(jq -n '{apiVersion: "v1", kind: "Service", metadata: {name: "bad",
        annotations: {"zen-lead.io/enabled": "yes"}},
        spec: {selector: {app: "bad"}, ports: [{name: "http", port: 80, targetPort: 8080}]}}')
    run kubectl -n "$NS" apply -f - <<<"$doc"
    [ "$status" -ne 0 ]
    [[ "$output" == *"validate.zen-lead.io"* ]]
    [[ "$output" == *"zen-lead.io/enabled"* ]]
}

# load_loop FILE: server-side dry runs of a good Service until FILE.stop
# exists; one line "ok" or the error per request in FILE.
load_loop() {
    local out=$1 doc msg
    doc=$(good_svc load)
    while ! [ -e "$out.stop" ]; do
        if msg=$(kubectl -n "$NS" apply --dry-run=server -f - <<<"$doc" 2>&1); then
            echo ok >>"$out"
        else
            printf 'FAIL %s\n' "$(tr '\n' ' ' <<<"$msg")" >>"$out"
        fi
    done
}

@test "20 renewals under a load of admissions: no failed request, one reload per certificate, the expiry of the last" {
    wait_for 60 cm_injected
    renewals=20
    reloads0=$(ctl_metric webhook zen_lead_webhook_tls_reloads_total result=success)
    load="$BATS_TEST_TMPDIR/load"
    : >"$load"
    load_loop "$load" 3>&- &
    loader=$!
    t0=$(date +%s.%N)
    prev=$(cm_secret_serial)
    for i in $(seq "$renewals"); do
        cm_renew
        wait_for 60 cm_serial_is_not "$prev" ||
            { echo "renewal $i: the Secret did not change" >&2; return 1; }
        prev=$(cm_secret_serial)
        wait_for 30 cm_serves "$prev" ||
            { echo "renewal $i: the webhook does not serve $prev" >&2; return 1; }
    done
    t1=$(date +%s.%N)
    touch "$load.stop"
    wait "$loader"
    requests=$(wc -l <"$load")
    failures=$(grep -c '^FAIL' "$load" || true)
    reloads=$(ctl_metric webhook zen_lead_webhook_tls_reloads_total result=success)
    expiry=$(ctl_metrics webhook | awk '$1 == "zen_lead_webhook_certificate_expiry_timestamp_seconds" { print $2 }')
    not_after=$(kubectl -n "$CM_NS" get secret "$CM_SECRET" -o jsonpath='{.data.tls\.crt}' | base64 -d |
        openssl x509 -noout -enddate | cut -d= -f2)
    want_expiry=$(date -u -d "$not_after" +%s)
    per=$(awk -v a="$t0" -v b="$t1" -v n="$renewals" 'BEGIN { printf "%.2f", (b - a) / n }')
    printf '# renewals %d, requests %d, failures %d, reloads %g (+%g), expiry %s (notAfter %s), %s s per renewal\n' \
        "$renewals" "$requests" "$failures" "$reloads" "$(awk -v a="$reloads" -v b="$reloads0" 'BEGIN{print a-b}')" \
        "$expiry" "$want_expiry" "$per" >&3
    grep '^FAIL' "$load" | head -n 5 >&2 || true
    [ "$failures" -eq 0 ]
    [ "$requests" -gt 0 ]
    awk -v a="$reloads" -v b="$reloads0" -v n="$renewals" 'BEGIN { exit !(a - b >= n) }'
    awk -v a="$expiry" -v b="$want_expiry" 'BEGIN { exit !(a == b) }'
}

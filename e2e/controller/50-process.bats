#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# The process around the rules (SPEC section 6): a controller restart keeps
# the leader, an API server restart does not lose a pending failover, and
# two replicas with --leader-elect: one writes, the other takes over when
# it is killed.

setup() {
    # shellcheck source=lib.bash
    . "$BATS_TEST_DIRNAME/lib.bash"
    e2e_setup process
}

teardown() {
    e2e_teardown
}

# zl_events NS: zen-lead-controller's Events in NS as "object reason count"
# lines, sorted.
zl_events() {
    kubectl -n "$1" get events -o json | jq -r '.items[] | select((.source.component // .reportingComponent)
        == "zen-lead-controller") | "\(.involvedObject.name) \(.reason) \(.series.count // .count // 1)"' | sort
}

@test "controller restart keeps the same leader: no switch, no write, no Event" {
    source_svc "$NS" web
    pods_up "$NS" web 2 app=web http:8080
    wait_slice "$NS" web-leader-ipv4 "web-0 true"
    # web-1 leads while the preferred web-0 is Ready: only the cluster's
    # objects tell a new process who leads.
    k8s_set_pod_ready "$NS" web-0 false
    wait_slice "$NS" web-leader-ipv4 "web-1 true"
    k8s_set_pod_ready "$NS" web-0 true
    wait_event "$NS" web LeaderChanged "" web-0 web-1
    sleep 1
    before_svc=$(kubectl -n "$NS" get service web-leader -o jsonpath='{.metadata.resourceVersion}')
    before_slice=$(kubectl -n "$NS" get endpointslice web-leader-ipv4 -o jsonpath='{.metadata.resourceVersion}')
    before_events=$(zl_events "$NS")
    mark=$(watch_mark)
    t0=$(e2e_now)
    rc=$(e2e_stop main)
    [ "$rc" = 0 ] || { echo "SIGTERM: exit status $rc"; false; }
    t1=$(e2e_now)
    ctl_start main
    ctl_wait_ready main
    t2=$(e2e_now)
    printf '# SIGTERM to exit %s ms; start to ready %s ms\n' "$(e2e_ms "$t0" "$t1")" "$(e2e_ms "$t1" "$t2")" >&3
    # The new process has looked at the Service (its per-Service series) ...
    wait_for 10 k8s_eq 2 ctl_metric main zen_lead_pods_available "namespace=$NS" service=web
    sleep 1
    # ... and changed nothing.
    [ "$(slice_state "$NS" web-leader-ipv4)" = "web-1 true" ]
    [ -z "$(watch_since "$mark" "$NS" web-leader-ipv4)" ] || { watch_since "$mark" "$NS" web-leader-ipv4; false; }
    [ "$(kubectl -n "$NS" get service web-leader -o jsonpath='{.metadata.resourceVersion}')" = "$before_svc" ]
    [ "$(kubectl -n "$NS" get endpointslice web-leader-ipv4 -o jsonpath='{.metadata.resourceVersion}')" = "$before_slice" ]
    after_events=$(zl_events "$NS")
    [ "$after_events" = "$before_events" ] ||
        { echo "Events changed:"; diff <(echo "$before_events") <(echo "$after_events"); false; }
}

@test "API server restart while a failover is pending: applied within 1 s of the API server answering again" {
    source_svc "$NS" web zen-lead.io/failover-min-delay=500ms
    pods_up "$NS" web 2 app=web http:8080
    wait_slice "$NS" web-leader-ipv4 "web-0 true"
    mark=$(watch_mark)
    url=$(cat "$ZL_RUN_DIR/ready")
    tmp=$BATS_TEST_TMPDIR
    kubectl config view --raw -o jsonpath='{.users[0].user.client-certificate-data}' | base64 -d >"$tmp/admin.crt"
    kubectl config view --raw -o jsonpath='{.users[0].user.client-key-data}' | base64 -d >"$tmp/admin.key"
    api=(curl -sk --max-time 0.5 --cert "$tmp/admin.crt" --key "$tmp/admin.key")
    # NotReady since T, a whole second just past: the delay ends at T + 0.5 s
    # (the controller counts from the condition's lastTransitionTime). The
    # status write goes by curl (milliseconds, not kubectl's start-up), the
    # API server goes down right after it (within 0.2 s) and stays down for
    # 0.8 s (an idle machine) to 2 s or more (a busy one), so the delay runs
    # out while it is down.
    e2e_sleep_until "$(($(date +%s) + 1)).02"
    T=$(date +%s)
    t=$(date -u -d "@$T" +%Y-%m-%dT%H:%M:%SZ)
    "${api[@]}" -f -o /dev/null -X PATCH -H 'Content-Type: application/strategic-merge-patch+json' \
        "$url/api/v1/namespaces/$NS/pods/web-0/status" -d "$(jq -nc --arg t "$t" '{status: {conditions: [
            {type: "ContainersReady", status: "False", lastTransitionTime: $t},
            {type: "Ready", status: "False", lastTransitionTime: $t}]}}')"
    # A background poll (curl, every 10 ms) notes when the API server stops
    # answering /version, when it answers again, and when the slice names
    # web-1.
    slice_url="$url/apis/discovery.k8s.io/v1/namespaces/$NS/endpointslices/web-leader-ipv4"
    (
        state=up
        end=$((SECONDS + 60))
        while [ $SECONDS -lt $end ]; do
            case $state in
            up | down)
                code=$(curl -sk --max-time 0.2 -o /dev/null -w '%{http_code}' "$url/version" || true)
                if [ "$state" = up ] && [ "$code" != 200 ]; then
                    state=down
                    e2e_now >"$tmp/down"
                elif [ "$state" = down ] && [ "$code" = 200 ]; then
                    state=back
                    e2e_now >"$tmp/up"
                fi
                ;;
            back)
                if "${api[@]}" "$slice_url" |
                    jq -e '.endpoints[0].targetRef.name == "web-1"' >/dev/null 2>&1; then
                    e2e_now >"$tmp/moved"
                    exit 0
                fi
                ;;
            esac
            sleep 0.01
        done
    ) </dev/null >/dev/null 2>&1 3>&- &
    poller=$!
    "$ZL_REPO/e2e/cluster/restart-apiserver" 2>&1
    wait "$poller" || true
    [ -f "$tmp/up" ] || { echo "the poll never saw the API server go down and come back"; false; }
    td=$(cat "$tmp/down")
    tu=$(cat "$tmp/up")
    awk -v td="$td" -v tu="$tu" -v T="$T" 'BEGIN { exit !(td < T + 0.5 && tu > T + 0.5) }' ||
        { echo "down at $td, up at $tu: the delay (0.5 s from $T) did not run out while the API server was down"; false; }
    [ -f "$tmp/moved" ] || { echo "no failover within 60 s of the API server coming back"; false; }
    ts=$(cat "$tmp/moved")
    late=$(e2e_ms "$tu" "$ts")
    printf '# API server not answering for %s ms (delay ran out %s ms before it answered); failover seen %s ms after it answered again\n' \
        "$(e2e_ms "$td" "$tu")" "$(e2e_ms "$T.5" "$tu")" "$late" >&3
    if watch_since "$mark" "$NS" web-leader-ipv4 | grep -q '"pod":"web-0".*"ready":false'; then
        echo "# (the controller had marked web-0 not ready before the API server went down)" >&3
    fi
    awk -v l="$late" 'BEGIN { exit !(l <= 1000) }' || { echo "failover $late ms after the API server answered (want <= 1000)"; false; }
    wait_slice "$NS" web-leader-ipv4 "web-1 true" 2
    wait_event "$NS" web LeaderChanged "" web-0 web-1 notReady
    ctl_ready main
}

# holder_of A B: prints which of the replicas A, B reports
# zen_lead_is_leader 1; fails unless exactly one does.
holder_of() {
    local a b
    a=$(ctl_metric "$1" zen_lead_is_leader) || return 1
    b=$(ctl_metric "$2" zen_lead_is_leader) || return 1
    if [ "$a" = 1 ] && [ "$b" = 0 ]; then echo "$1"; return 0; fi
    if [ "$a" = 0 ] && [ "$b" = 1 ]; then echo "$2"; return 0; fi
    printf 'zen_lead_is_leader: %s=%s %s=%s\n' "$1" "$a" "$2" "$b"
    return 1
}

# writes NAME: the write requests NAME made for Services, EndpointSlices
# and Events (zen_lead_api_requests_total).
writes() {
    local verbs='(POST|PUT|PATCH|DELETE|APPLY|post|put|patch|delete|apply|create|update)' r n=0 c
    for r in services endpointslices events; do
        c=$(ctl_metric "$1" zen_lead_api_requests_total "verb=$verbs" "resource=$r") || return 1
        n=$(awk -v a="$n" -v b="$c" 'BEGIN { print a + b }')
    done
    echo "$n"
}

@test "two replicas with --leader-elect: only the holder writes; kill -9 it and the other takes over" {
    rc=$(e2e_stop main)
    [ "$rc" = 0 ]
    flags=(--leader-elect --leader-election-namespace "$E2E_SYSTEM_NS"
        --lease-duration 3s --renew-deadline 2s --retry-period 500ms)
    ctl_start ha-1 "${flags[@]}"
    ctl_start ha-2 "${flags[@]}"
    wait_for 10 holder_of ha-1 ha-2
    holder=$(holder_of ha-1 ha-2)
    standby=ha-1
    [ "$holder" = ha-1 ] && standby=ha-2
    ctl_wait_ready "$holder"
    ctl_wait_ready "$standby" # warm standby: caches synced
    lease=$(kubectl -n "$E2E_SYSTEM_NS" get lease zen-lead-controller -o json)
    jq_ok "$lease" '.spec.holderIdentity | length > 0'
    printf '# Lease held by %s (%s)\n' "$(jq -r .spec.holderIdentity <<<"$lease")" "$holder" >&3

    source_svc "$NS" web
    pods_up "$NS" web 3 app=web http:8080
    wait_slice "$NS" web-leader-ipv4 "web-0 true"
    k8s_set_pod_ready "$NS" web-0 false
    wait_slice "$NS" web-leader-ipv4 "web-1 true"
    wait_event "$NS" web LeaderChanged "" web-0 web-1
    [ "$(writes "$holder")" != 0 ]
    [ "$(writes "$standby")" = 0 ] || { echo "the standby wrote:"; ctl_metrics "$standby" | grep zen_lead_api_requests_total; false; }
    [ "$(ctl_metric "$standby" zen_lead_is_leader)" = 0 ]

    # kill -9 the holder; a failover becomes due at once.
    km=$(watch_mark)
    tk=$(e2e_now)
    e2e_kill "$holder" KILL
    k8s_set_pod_ready "$NS" web-1 false
    wait_for 15 k8s_eq 1 ctl_metric "$standby" zen_lead_is_leader
    tl=$(e2e_now)
    wait_slice "$NS" web-leader-ipv4 "web-2 true" 10
    tf=$(first_time "$km" "$NS" web-leader-ipv4 '.n > 0 and .eps[0].pod == "web-2"' 2>/dev/null || e2e_now)
    printf '# takeover after kill -9: leader %s ms, failover applied %s ms (lease 3s, retry 500ms)\n' \
        "$(e2e_ms "$tk" "$tl")" "$(e2e_ms "$tk" "$tf")" >&3
    awk -v l="$(e2e_ms "$tk" "$tf")" 'BEGIN { exit !(l <= 5000) }'
    [ "$(e2e_wait_exit "$holder" 1)" = 137 ]
    [ "$(kubectl -n "$E2E_SYSTEM_NS" get lease zen-lead-controller -o jsonpath='{.spec.holderIdentity}')" != \
        "$(jq -r .spec.holderIdentity <<<"$lease")" ]

    # SIGTERM releases the Lease and exits 0.
    rc=$(e2e_stop "$standby")
    [ "$rc" = 0 ]
    [ -z "$(kubectl -n "$E2E_SYSTEM_NS" get lease zen-lead-controller -o jsonpath='{.spec.holderIdentity}')" ]
}

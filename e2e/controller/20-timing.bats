#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# Timed rules (SPEC section 1): min-ready-duration acts at the exact moment
# a pod qualifies, with no other event to wake the controller;
# failover-min-delay rides out a short NotReady blip with the endpoint
# marked not ready, and fails over when the delay runs out.

setup() {
    # shellcheck source=lib.bash
    . "$BATS_TEST_DIRNAME/lib.bash"
    e2e_setup timing
}

teardown() {
    e2e_teardown
}

@test "min-ready-duration: the leader appears within 100 ms of the pod qualifying, with no other event" {
    source_svc "$NS" web zen-lead.io/min-ready-duration=3s
    k8s_create_pods "$NS" web 1 app=web "$E2E_NODE" http:8080
    k8s_set_pod_ips "$NS" web-0 "$(k8s_ipv4 0)"
    k8s_set_pod_ready "$NS" web-0 false
    wait_slice "$NS" web-leader-ipv4 none
    mark=$(watch_mark)
    # Ready since T (the API keeps whole seconds): qualifies at T + 3 s.
    T=$(date +%s)
    pod_ready_at "$NS" web-0 true "$T"
    wait_slice "$NS" web-leader-ipv4 "web-0 true" 6
    ts=$(first_time "$mark" "$NS" web-leader-ipv4 '.n > 0')
    late=$(e2e_ms "$((T + 3))" "$ts")
    printf '# the leader appeared %s ms after the pod qualified\n' "$late" >&3
    # Nothing in between: the slice stayed empty until then.
    watch_since "$mark" "$NS" web-leader-ipv4 | jq -e -s 'map(select(.n > 0)) | .[0].eps[0].pod == "web-0"' >/dev/null
    awk -v l="$late" 'BEGIN { exit !(l >= 0 && l <= 100) }' ||
        { echo "leader appeared $late ms after qualifying (want 0..100 ms)"; watch_since "$mark" "$NS" web-leader-ipv4; false; }
    # A sitting leader is not affected by the wait.
    kubectl -n "$NS" annotate service web zen-lead.io/min-ready-duration=1h --overwrite >/dev/null
    hold_slice "$NS" web-leader-ipv4 "web-0 true" 1
}

@test "failover-min-delay: a short blip keeps the leader (endpoint not ready meanwhile); a long one fails over when the delay ends" {
    source_svc "$NS" web zen-lead.io/failover-min-delay=3s
    pods_up "$NS" web 3 app=web http:8080
    wait_slice "$NS" web-leader-ipv4 "web-0 true"
    mark=$(watch_mark)
    tb=$(e2e_now)
    k8s_set_pod_ready "$NS" web-0 false
    # Nothing routes to a NotReady pod: same leader, ready=false.
    wait_slice "$NS" web-leader-ipv4 "web-0 false" 2
    jq_ok "$(slice_json "$NS" web-leader-ipv4)" '.endpoints[0].conditions.ready == false' \
        '.endpoints[0].conditions.terminating == false'
    e2e_sleep_until "$(e2e_add "$tb" 1)"
    k8s_set_pod_ready "$NS" web-0 true
    wait_slice "$NS" web-leader-ipv4 "web-0 true" 2
    # Past the end of the first delay: still web-0 (no stale timer).
    hold_slice "$NS" web-leader-ipv4 "web-0 true" "$(e2e_ms "$(e2e_now)" "$(e2e_add "$tb" 4)" | awk '{ printf "%.3f\n", $1 / 1000 }')"
    watch_since "$mark" "$NS" web-leader-ipv4 | jq -e -s 'all(.n == 1 and .eps[0].pod == "web-0")' >/dev/null ||
        { watch_since "$mark" "$NS" web-leader-ipv4; false; }
    [ "$(ev_count "$NS" web LeaderChanged)" = 0 ]

    # A NotReady longer than the delay: failover once it runs out, counted
    # from the Ready condition's transition (T, whole seconds) at the
    # earliest and from the status write at the latest.
    mark=$(watch_mark)
    T=$(date +%s)
    pod_ready_at "$NS" web-0 false "$T"
    t1=$(e2e_now)
    wait_slice "$NS" web-leader-ipv4 "web-0 false" 2
    wait_slice "$NS" web-leader-ipv4 "web-1 true" 6
    ts=$(first_time "$mark" "$NS" web-leader-ipv4 '.n > 0 and .eps[0].pod == "web-1"')
    printf '# failover %s ms after the transition time + delay, %s ms after the status write + delay\n' \
        "$(e2e_ms "$((T + 3))" "$ts")" "$(e2e_ms "$(e2e_add "$t1" 3)" "$ts")" >&3
    awk -v ts="$ts" -v lo="$((T + 3))" -v hi="$t1" 'BEGIN { exit !(ts >= lo && ts <= hi + 3.25) }' ||
        { echo "failover at $ts, want between $((T + 3)) and $t1 + 3.25 s"; false; }
    wait_event "$NS" web LeaderChanged "" web-0 web-1 notReady

    # Terminating does not wait for the delay.
    k8s_set_pod_ready "$NS" web-1 false
    wait_slice "$NS" web-leader-ipv4 "web-1 false" 2
    t2=$(e2e_now)
    k8s_start_termination "$NS" web-1
    wait_slice "$NS" web-leader-ipv4 "web-2 true" 1
    printf '# terminating during the delay: failover after %s ms\n' \
        "$(e2e_ms "$t2" "$(first_time "$mark" "$NS" web-leader-ipv4 '.n > 0 and .eps[0].pod == "web-2"')")" >&3
}

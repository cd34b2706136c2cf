#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# Who leads (SPEC sections 2-4): creation of the leader Service and slice,
# every failover reason, sticky and not sticky, no pods and no ready pods.
# Run through e2e/controller/run (cluster, RBAC, controller, slice watcher).

setup() {
    # shellcheck source=lib.bash
    . "$BATS_TEST_DIRNAME/lib.bash"
    e2e_setup leader
}

teardown() {
    e2e_teardown
}

# leader_annotations_are POD UID [SINCE]: web-leader names POD (and UID)
# as its leader, with a switch time (RFC 3339, UTC) not before SINCE (epoch
# seconds) when given.
leader_annotations_are() {
    local since=${3:-0}
    jq_ok "$(svc_json "$NS" web-leader)" \
        ".metadata.annotations[\"zen-lead.io/current-leader\"] == \"$1\"" \
        ".metadata.annotations[\"zen-lead.io/leader-pod-name\"] == \"$1\"" \
        ".metadata.annotations[\"zen-lead.io/leader-pod-uid\"] == \"$2\"" \
        '.metadata.annotations["zen-lead.io/leader-last-switch-time"] | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$")' \
        ".metadata.annotations[\"zen-lead.io/leader-last-switch-time\"] | sub(\"\\\\.[0-9]+Z$\"; \"Z\") | fromdateiso8601 >= $since"
}

@test "creation: leader Service and slice route to the earliest Ready pod, with metadata, owners and Events" {
    kubectl -n "$NS" apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Service
metadata:
  name: web
  labels:
    team: a
    app.kubernetes.io/instance: web-prod
    app.kubernetes.io/managed-by: Helm
    app.kubernetes.io/part-of: shop
    app.kubernetes.io/version: "1.2"
    argocd.argoproj.io/instance: shop
  annotations:
    zen-lead.io/enabled: "true"
    argocd.argoproj.io/tracking-id: "shop:/Service:web"
spec:
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: http, protocol: TCP}
EOF
    since=$(date +%s)
    pods_up "$NS" web 3 app=web http:8080
    wait_slice "$NS" web-leader-ipv4 "web-0 true"

    src=$(svc_json "$NS" web)
    src_uid=$(jq -r .metadata.uid <<<"$src")
    pod_uid=$(kubectl -n "$NS" get pod web-0 -o jsonpath='{.metadata.uid}')
    svc=$(svc_json "$NS" web-leader)
    jq_ok "$svc" \
        '.metadata.labels["app.kubernetes.io/managed-by"] == "zen-lead"' \
        '.metadata.labels["zen-lead.io/source-service"] == "web"' \
        '.metadata.labels.team == "a"' \
        '[.metadata.labels | keys[] | select(IN("app.kubernetes.io/instance", "app.kubernetes.io/part-of",
            "app.kubernetes.io/version", "argocd.argoproj.io/instance"))] == []' \
        '[.metadata.annotations | keys[] | select(startswith("argocd.argoproj.io/")
            or . == "kubectl.kubernetes.io/last-applied-configuration" or . == "zen-lead.io/enabled")] == []' \
        "[.metadata.ownerReferences[] | select(.kind == \"Service\" and .name == \"web\" and .uid == \"$src_uid\"
            and .controller == true and (.blockOwnerDeletion // false) == false)] | length == 1" \
        '.metadata.ownerReferences | length == 1' \
        '.spec.type == "ClusterIP"' \
        '.spec.selector == null' \
        '[.spec.ports[] | {name, port, protocol, targetPort}] == [{name: "http", port: 80, protocol: "TCP", targetPort: 8080}]'
    [ "$(jq -c .spec.ipFamilies <<<"$svc")" = "$(jq -c .spec.ipFamilies <<<"$src")" ]
    svc_uid=$(jq -r .metadata.uid <<<"$svc")

    slice=$(slice_json "$NS" web-leader-ipv4)
    jq_ok "$slice" \
        '.addressType == "IPv4"' \
        '.metadata.labels["kubernetes.io/service-name"] == "web-leader"' \
        '.metadata.labels["endpointslice.kubernetes.io/managed-by"] == "zen-lead"' \
        '.metadata.labels["app.kubernetes.io/managed-by"] == "zen-lead"' \
        '.metadata.labels["zen-lead.io/source-service"] == "web"' \
        "[.metadata.ownerReferences[] | select(.kind == \"Service\" and .name == \"web-leader\" and .uid == \"$svc_uid\")] | length == 1" \
        '.endpoints | length == 1' \
        ".endpoints[0].addresses == [\"$(k8s_ipv4 0)\"]" \
        '.endpoints[0].conditions == {ready: true, serving: true, terminating: false}' \
        ".endpoints[0].targetRef | .kind == \"Pod\" and .namespace == \"$NS\" and .name == \"web-0\" and .uid == \"$pod_uid\"" \
        ".endpoints[0].nodeName == \"$E2E_NODE\"" \
        '[.ports[] | {name, port, protocol}] == [{name: "http", port: 8080, protocol: "TCP"}]'
    # One slice per family of the leader Service: an IPv4 one here.
    [ "$(kubectl -n "$NS" get endpointslices -l "$E2E_MANAGED" -o name)" = endpointslice.discovery.k8s.io/web-leader-ipv4 ]

    wait_event "$NS" web LeaderServiceCreated Normal web-leader
    wait_event "$NS" web LeaderElected Normal web-0
    wait_for 10 k8s_eq 3 ctl_metric main zen_lead_pods_available "namespace=$NS" service=web
    wait_for 10 k8s_eq 0 ctl_metric main zen_lead_leader_service_without_endpoints "namespace=$NS" service=web
    # A first election is not a failover.
    [ "$(ctl_metric main zen_lead_failover_count_total "namespace=$NS")" = 0 ]
    # The leader Service's annotations follow the slice, and stay.
    wait_for 5 leader_annotations_are web-0 "$pod_uid" "$since"
    sleep 1
    leader_annotations_are web-0 "$pod_uid" "$since"
}

# failover TRIGGER REASON...: three Ready pods, web-0 leads; TRIGGER acts
# on web-0; the slice must move straight to web-1 (no other state in
# between), for one of the REASONs, with the leader Service's annotations,
# LeaderChanged on both Services and the failover counter following.
failover() {
    local trigger=$1
    shift
    source_svc "$NS" web
    pods_up "$NS" web 3 app=web http:8080
    wait_slice "$NS" web-leader-ipv4 "web-0 true"
    local old_uid new_uid mark reason ok=0 r
    old_uid=$(kubectl -n "$NS" get pod web-0 -o jsonpath='{.metadata.uid}')
    mark=$(watch_mark)
    since=$(date +%s)
    "$trigger"
    wait_slice "$NS" web-leader-ipv4 "web-1 true" 5
    # Straight from web-0 (ready) to web-1: never an empty or other state.
    watch_since "$mark" "$NS" web-leader-ipv4 | jq -e -s 'all(.n == 1 and
        ((.eps[0].pod == "web-0" and .eps[0].ready) or .eps[0].pod == "web-1"))' >/dev/null ||
        { watch_since "$mark" "$NS" web-leader-ipv4; false; }
    wait_for 5 test -n "$(decision "$NS" web web-1 reason)"
    reason=$(decision "$NS" web web-1 reason)
    for r in "$@"; do [ "$reason" = "$r" ] && ok=1; done
    [ "$ok" = 1 ] || { echo "failover reason $reason, want one of: $*"; false; }
    printf '# %s: event to slice accepted in %s ms (decision log)\n' "$reason" "$(decision "$NS" web web-1 latency_ms)" >&3
    new_uid=$(kubectl -n "$NS" get pod web-1 -o jsonpath='{.metadata.uid}')
    [ "$new_uid" != "$old_uid" ]
    wait_event "$NS" web LeaderChanged "" web-0 web-1 "$reason"
    wait_event "$NS" web-leader LeaderChanged "" web-0 web-1
    wait_for 5 k8s_eq 1 ctl_metric main zen_lead_failover_count_total "namespace=$NS" service=web "reason=$reason"
    [ "$(ctl_metric main zen_lead_failover_latency_seconds_count "reason=$reason")" != 0 ]
    # The annotations follow (switch time: this failover), and stay.
    wait_for 5 leader_annotations_are web-1 "$new_uid" "$since"
    sleep 1
    leader_annotations_are web-1 "$new_uid" "$since"
}

trigger_not_ready() { k8s_set_pod_ready "$NS" web-0 false; }
trigger_terminating() { k8s_start_termination "$NS" web-0; }
trigger_no_ip() { k8s_set_pod_ips "$NS" web-0; }
trigger_deleted() { k8s_force_delete "$NS" web-0; }
trigger_relabeled() { kubectl -n "$NS" label pod web-0 app=elsewhere --overwrite >/dev/null; }

@test "failover: leader turns NotReady" {
    failover trigger_not_ready notReady
}

@test "failover: leader starts terminating (deletionTimestamp, still Ready)" {
    failover trigger_terminating terminating
    # Still there, still Ready, terminating: never chosen again.
    jq_ok "$(kubectl -n "$NS" get pod web-0 -o json)" '.metadata.deletionTimestamp != null' \
        '.status.conditions[] | select(.type == "Ready") | .status == "True"'
    hold_slice "$NS" web-leader-ipv4 "web-1 true" 1
}

@test "failover: leader loses its pod IP" {
    failover trigger_no_ip noIP
}

@test "failover: leader is deleted (at once, and while the controller is down)" {
    # The API server writes the deletionTimestamp (grace 0) just before it
    # removes the pod: the controller may act on either event.
    failover trigger_deleted terminating deleted
    gone "$NS" pod web-0
    # Deleted while no controller runs: the next one finds the leader the
    # slice names gone.
    rc=$(e2e_stop main)
    [ "$rc" = 0 ]
    k8s_force_delete "$NS" web-1
    wait_for 5 gone "$NS" pod web-1
    ctl_start main
    wait_slice "$NS" web-leader-ipv4 "web-2 true" 10
    [ "$(decision "$NS" web web-2 reason)" = deleted ]
    wait_event "$NS" web LeaderChanged "" web-1 web-2 deleted
}

@test "failover: leader is relabeled out of the selector" {
    failover trigger_relabeled relabeled
}

@test "sticky (default): a recovered earlier pod does not take leadership back" {
    source_svc "$NS" web
    pods_up "$NS" web 2 app=web http:8080
    wait_slice "$NS" web-leader-ipv4 "web-0 true"
    k8s_set_pod_ready "$NS" web-0 false
    wait_slice "$NS" web-leader-ipv4 "web-1 true"
    k8s_set_pod_ready "$NS" web-0 true
    # web-0 is preferred (earliest) and Ready again; web-1 keeps leading.
    hold_slice "$NS" web-leader-ipv4 "web-1 true" 2
    [ "$(ev_count "$NS" web LeaderChanged)" = 1 ]
}

@test "not sticky: the preferred pod takes leadership back (reason preempted)" {
    source_svc "$NS" web zen-lead.io/sticky=false
    pods_up "$NS" web 2 app=web http:8080
    wait_slice "$NS" web-leader-ipv4 "web-0 true"
    k8s_set_pod_ready "$NS" web-0 false
    wait_slice "$NS" web-leader-ipv4 "web-1 true"
    k8s_set_pod_ready "$NS" web-0 true
    wait_slice "$NS" web-leader-ipv4 "web-0 true" 5
    wait_event "$NS" web LeaderChanged "" web-1 web-0 preempted
    wait_for 5 k8s_eq 1 ctl_metric main zen_lead_failover_count_total "namespace=$NS" service=web reason=preempted
    # Turning sticky on keeps whoever leads.
    kubectl -n "$NS" annotate service web zen-lead.io/sticky=true --overwrite >/dev/null
    k8s_set_pod_ready "$NS" web-0 false
    wait_slice "$NS" web-leader-ipv4 "web-1 true"
    k8s_set_pod_ready "$NS" web-0 true
    hold_slice "$NS" web-leader-ipv4 "web-1 true" 1.5
}

@test "no pods: empty endpoints and Warning NoPodsFound, then a leader once a pod is Ready" {
    source_svc "$NS" web
    wait_slice "$NS" web-leader-ipv4 none
    jq_ok "$(slice_json "$NS" web-leader-ipv4)" '(.endpoints // []) == []'
    svc_json "$NS" web-leader >/dev/null
    wait_event "$NS" web NoPodsFound Warning
    wait_for 5 k8s_eq 1 ctl_metric main zen_lead_leader_service_without_endpoints "namespace=$NS" service=web
    pods_up "$NS" web 1 app=web http:8080
    wait_slice "$NS" web-leader-ipv4 "web-0 true"
    wait_for 5 k8s_eq 0 ctl_metric main zen_lead_leader_service_without_endpoints "namespace=$NS" service=web
}

@test "no ready pods: empty endpoints and Warning NoReadyPods; losing the last one gives LeaderLost" {
    source_svc "$NS" web
    k8s_create_pods "$NS" web 2 app=web "$E2E_NODE" http:8080
    for i in 0 1; do
        k8s_set_pod_ips "$NS" "web-$i" "$(k8s_ipv4 "$i")"
        k8s_set_pod_ready "$NS" "web-$i" false
    done
    wait_slice "$NS" web-leader-ipv4 none
    wait_event "$NS" web NoReadyPods Warning
    k8s_set_pod_ready "$NS" web-1 true
    wait_slice "$NS" web-leader-ipv4 "web-1 true"
    mark=$(watch_mark)
    since=$(date +%s)
    k8s_set_pod_ready "$NS" web-1 false
    # No stale ready endpoint: the slice empties.
    wait_slice "$NS" web-leader-ipv4 none 5
    watch_since "$mark" "$NS" web-leader-ipv4 | jq -e -s 'all(.n == 0 or .eps[0].ready == true)' >/dev/null
    jq_ok "$(slice_json "$NS" web-leader-ipv4)" '(.endpoints // []) == []'
    wait_event "$NS" web LeaderLost "" web-1
    wait_event "$NS" web-leader LeaderLost "" web-1
    # No leader named; the switch (to none) is dated.
    wait_for 5 svc_ok "$NS" web-leader '(.metadata.annotations["zen-lead.io/current-leader"] // "") == ""' \
        "(.metadata.annotations[\"zen-lead.io/leader-last-switch-time\"] // \"1970-01-01T00:00:00Z\") | sub(\"\\\\.[0-9]+Z$\"; \"Z\") | fromdateiso8601 >= $since"
    wait_for 5 k8s_eq 1 ctl_metric main zen_lead_leader_service_without_endpoints "namespace=$NS" service=web
    wait_for 5 k8s_eq 0 ctl_metric main zen_lead_pods_available "namespace=$NS" service=web
}

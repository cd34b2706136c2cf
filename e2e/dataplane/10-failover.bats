#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# A leader's traffic through a real kube-proxy: a 3-pod annotated Service,
# its ClusterIP answering from the pods and the leader Service's ClusterIP
# from exactly the pod the leader slice names; then the leader dies (its
# link down, NotReady as a kubelet would report a crash) and the leader
# ClusterIP answers the new leader within seconds; it comes back, and the
# leadership stays where it is (sticky). Run through
# e2e/dataplane/run (cluster, controller, kube-proxy in network namespaces).

setup_file() {
    # shellcheck source=lib.bash
    . "$BATS_TEST_DIRNAME/lib.bash"
    NS=$(k8s_new_namespace dataplane)
    export NS
    printf '%s\n' "$NS" >>"$DP_DIR/namespaces"
    kubectl -n "$NS" apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Service
metadata:
  name: web
  annotations:
    zen-lead.io/enabled: "true"
spec:
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: 8080, protocol: TCP}
YAML
    local i
    for i in 0 1 2; do
        dp_add_pod "$NS" "web-$i" app=web
    done
}

setup() {
    # shellcheck source=lib.bash
    . "$BATS_TEST_DIRNAME/lib.bash"
    e2e_alive main || { e2e_log "the controller is not running"; tail -n 20 "$E2E_DIR/main.log" >&2; return 1; }
    e2e_alive kube-proxy || { e2e_log "kube-proxy is not running"; tail -n 20 "$E2E_DIR/kube-proxy.log" >&2; return 1; }
    # Each test starts without old DNAT state.
    dp_flush_conntrack
}

teardown() {
    if [ "${BATS_TEST_COMPLETED:-}" != 1 ]; then
        e2e_dump "$NS" >&2
        printf -- '--- kube-proxy (last 20 lines)\n' >&2
        tail -n 20 "$E2E_DIR/kube-proxy.log" >&2
    fi
}

# cluster_ip SERVICE: its ClusterIP.
cluster_ip() { kubectl -n "$NS" get service "$1" -o jsonpath='{.spec.clusterIP}'; }

# leader_pod: the one Ready endpoint's pod of the leader slice; fails when
# there is not exactly one endpoint.
leader_pod() {
    kubectl -n "$NS" get endpointslice web-leader-ipv4 -o json |
        jq -er '.endpoints // [] | if length == 1 and .[0].conditions.ready
            then .[0].targetRef.name else error("not one ready endpoint: \(.)") end'
}

# leader_is_not POD: the leader slice names one Ready pod other than POD.
leader_is_not() {
    local p
    p=$(leader_pod) || return 1
    [ "$p" != "$1" ] || { echo "still $1"; return 1; }
}

# answers N IP: N requests (new connections) to IP:80; prints the sorted
# distinct answers.
answers() {
    local i
    for ((i = 0; i < $1; i++)); do
        dp_get "$2" || echo "(failed)"
    done | sort -u
}

@test "the source ClusterIP answers from the pods, the leader ClusterIP from the leader slice's pod" {
    src=$(cluster_ip web)
    dp_wait_answer 20 "$src" 80
    got=$(answers 12 "$src")
    while IFS= read -r name; do
        case "$name" in web-0 | web-1 | web-2) ;; *) echo "source answered '$name'"; false ;; esac
    done <<<"$got"

    wait_for 20 leader_pod
    leader=$(leader_pod)
    wait_for 20 cluster_ip web-leader
    lip=$(cluster_ip web-leader)
    dp_wait_answer 20 "$lip" 80 "$leader"
    got=$(answers 12 "$lip")
    [ "$got" = "$leader" ] || { echo "leader ClusterIP answered: $got (leader slice: $leader)"; false; }
}

@test "the leader dies: the leader ClusterIP answers the new leader within a few seconds" {
    lip=$(cluster_ip web-leader)
    old=$(leader_pod)
    dp_wait_answer 10 "$lip" 80 "$old"

    t0=$(e2e_now)
    dp_pod_link_set "$NS" "$old" down
    k8s_set_pod_ready "$NS" "$old" false
    wait_for 5 leader_is_not "$old"
    new=$(leader_pod)
    t_slice=$(e2e_now)
    dp_wait_answer 5 "$lip" 80 "$new"
    t_answer=$(e2e_now)
    e2e_log "leader $old -> $new: slice after $(e2e_ms "$t0" "$t_slice") ms, first answer after $(e2e_ms "$t0" "$t_answer") ms" 2>&3
    got=$(answers 12 "$lip")
    [ "$got" = "$new" ] || { echo "leader ClusterIP answered: $got (leader slice: $new)"; false; }

    # The source Service drops the dead pod too (the built-in controller).
    src=$(cluster_ip web)
    wait_for 10 src_without "$src" "$old"
}

# src_without IP POD: 12 answers from the source ClusterIP, none of them
# POD or a failure.
src_without() {
    local got
    got=$(answers 12 "$1")
    if grep -qx -e "$2" -e "(failed)" <<<"$got"; then
        echo "source still answers: $got"
        return 1
    fi
}

# src_includes IP POD: POD is among 24 answers from the source ClusterIP.
src_includes() {
    local got
    got=$(answers 24 "$1")
    grep -qx -e "$2" <<<"$got" || { echo "source answers only: $got"; return 1; }
}

@test "the old leader recovers: the source ClusterIP answers from it again, the leader stays (sticky)" {
    old=$(kubectl -n "$NS" get pods -o json | jq -r '[.items[] | select(any(.status.conditions[];
        .type == "Ready" and .status == "False")) | .metadata.name] | first // empty')
    [ -n "$old" ] || { echo "no NotReady pod left by the previous test"; false; }
    leader=$(leader_pod)
    dp_pod_link_set "$NS" "$old" up
    k8s_set_pod_ready "$NS" "$old" true
    src=$(cluster_ip web)
    wait_for 10 src_includes "$src" "$old"
    [ "$(leader_pod)" = "$leader" ]
    got=$(answers 12 "$(cluster_ip web-leader)")
    [ "$got" = "$leader" ] || { echo "leader ClusterIP answered: $got (leader slice: $leader)"; false; }
}

#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# The objects the controller keeps (SPEC section 2): leader names, name
# conflicts with Services that are not ours, long source names, NodePort and
# LoadBalancer sources, cleanup, garbage collection and drift repair.

setup() {
    # shellcheck source=lib.bash
    . "$BATS_TEST_DIRNAME/lib.bash"
    e2e_setup objects
}

teardown() {
    e2e_teardown
}

# managed_in NS: names of the managed objects (Services and slices) in NS.
managed_in() {
    kubectl -n "$1" get services,endpointslices -l app.kubernetes.io/managed-by=zen-lead -o name | sort | tr '\n' ' '
}

@test "custom leader name, then renaming it: new objects, the old ones removed" {
    source_svc "$NS" web zen-lead.io/leader-service-name=primary
    pods_up "$NS" web 2 app=web http:8080
    wait_slice "$NS" primary-ipv4 "web-0 true"
    jq_ok "$(svc_json "$NS" primary)" '.metadata.labels["zen-lead.io/source-service"] == "web"'
    [ "$(managed_in "$NS")" = "endpointslice.discovery.k8s.io/primary-ipv4 service/primary " ]
    kubectl -n "$NS" annotate service web zen-lead.io/leader-service-name=main --overwrite >/dev/null
    wait_slice "$NS" main-ipv4 "web-0 true"
    wait_slice "$NS" primary-ipv4 gone
    wait_for 10 gone "$NS" service primary
    wait_for 5 k8s_eq "endpointslice.discovery.k8s.io/main-ipv4 service/main " managed_in "$NS"
    wait_event "$NS" web LeaderServiceDeleted "" primary
    # Back to the default name.
    kubectl -n "$NS" annotate service web zen-lead.io/leader-service-name- >/dev/null
    wait_slice "$NS" web-leader-ipv4 "web-0 true"
    wait_for 10 k8s_eq "endpointslice.discovery.k8s.io/web-leader-ipv4 service/web-leader " managed_in "$NS"
}

@test "name conflict: an unmanaged Service named <source>-leader is left untouched, with Warning LeaderNameConflict" {
    kubectl -n "$NS" apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Service
metadata:
  name: web-leader
  labels: {owner: someone-else}
spec:
  selector: {app: other}
  ports:
  - {name: http, port: 80, targetPort: 8080}
EOF
    before=$(svc_json "$NS" web-leader)
    source_svc "$NS" web
    pods_up "$NS" web 1 app=web http:8080
    wait_event "$NS" web LeaderNameConflict Warning web-leader
    sleep 1
    after=$(svc_json "$NS" web-leader)
    [ "$(jq -c '{metadata: (.metadata | del(.managedFields)), spec}' <<<"$after")" = \
        "$(jq -c '{metadata: (.metadata | del(.managedFields)), spec}' <<<"$before")" ] ||
        { echo "web-leader changed:"; diff <(jq . <<<"$before") <(jq . <<<"$after"); false; }
    [ "$(managed_in "$NS")" = "" ]
    [ "$(slice_state "$NS" web-leader-ipv4)" = gone ]
    # Opting out does not delete it either.
    kubectl -n "$NS" annotate service web zen-lead.io/enabled=false --overwrite >/dev/null
    sleep 1
    [ "$(kubectl -n "$NS" get service web-leader -o jsonpath='{.metadata.resourceVersion}')" = \
        "$(jq -r .metadata.resourceVersion <<<"$before")" ]

    # A leader Service that is ours for another source is not taken over.
    source_svc "$NS" a zen-lead.io/leader-service-name=shared
    pods_up "$NS" a 1 app=a http:8080
    wait_slice "$NS" shared-ipv4 "a-0 true"
    rv=$(kubectl -n "$NS" get service shared -o jsonpath='{.metadata.resourceVersion}')
    source_svc "$NS" b zen-lead.io/leader-service-name=shared
    pods_up "$NS" b 1 app=b http:8080
    wait_event "$NS" b LeaderNameConflict Warning shared
    hold_slice "$NS" shared-ipv4 "a-0 true" 1
    jq_ok "$(svc_json "$NS" shared)" '.metadata.labels["zen-lead.io/source-service"] == "a"' \
        ".metadata.resourceVersion == \"$rv\""
}

@test "60-character source name: Warning InvalidLeaderName without leader-service-name, a leader with it" {
    name="svc-$(printf 'x%.0s' $(seq 56))"
    [ "${#name}" = 60 ]
    source_svc "$NS" "$name"
    pods_up "$NS" long 1 "app=$name" http:8080
    wait_event "$NS" "$name" InvalidLeaderName Warning
    [ "$(managed_in "$NS")" = "" ]
    kubectl -n "$NS" annotate service "$name" zen-lead.io/leader-service-name=long-leader >/dev/null
    wait_slice "$NS" long-leader-ipv4 "long-0 true"
    jq_ok "$(svc_json "$NS" long-leader)" ".metadata.labels[\"zen-lead.io/source-service\"] == \"$name\"" \
        ".metadata.ownerReferences[0].name == \"$name\""
}

@test "NodePort and LoadBalancer sources: the leader Service is ClusterIP, without nodePorts" {
    for type in NodePort LoadBalancer; do
        name=$(tr '[:upper:]' '[:lower:]' <<<"$type")
        kubectl -n "$NS" apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Service
metadata:
  name: $name
  annotations: {zen-lead.io/enabled: "true"}
spec:
  type: $type
  selector: {app: $name}
  ports:
  - {name: http, port: 80, targetPort: http, protocol: TCP}
  - {name: admin, port: 81, targetPort: 9000, protocol: TCP}
EOF
        [ "$(kubectl -n "$NS" get service "$name" -o jsonpath='{.spec.ports[0].nodePort}')" != "" ]
        pods_up "$NS" "$name" 1 "app=$name" http:8080
    done
    for name in nodeport loadbalancer; do
        wait_slice "$NS" "$name-leader-ipv4" "$name-0 true"
        jq_ok "$(svc_json "$NS" "$name-leader")" '.spec.type == "ClusterIP"' \
            '[.spec.ports[] | select(.nodePort != null)] == []' \
            '[.spec.ports[] | {name, port, targetPort}] | sort_by(.name) ==
                [{name: "admin", port: 81, targetPort: 9000}, {name: "http", port: 80, targetPort: 8080}]' \
            '(.status.loadBalancer.ingress // []) == []' '.spec.loadBalancerClass == null'
    done
}

@test "cleanup: opting out (false, then annotation removed) deletes the leader Service and slice; re-enabling recreates them" {
    source_svc "$NS" web
    pods_up "$NS" web 1 app=web http:8080
    wait_slice "$NS" web-leader-ipv4 "web-0 true"
    wait_for 5 k8s_eq 1 ctl_metric main zen_lead_pods_available "namespace=$NS" service=web
    kubectl -n "$NS" annotate service web zen-lead.io/enabled=false --overwrite >/dev/null
    wait_slice "$NS" web-leader-ipv4 gone
    wait_for 10 gone "$NS" service web-leader
    wait_event "$NS" web LeaderServiceDeleted "" web-leader
    # Its per-Service series are gone; the source is untouched.
    wait_for 5 bash -c "! curl -fsS http://127.0.0.1:$(ctl_port main metrics)/metrics | grep -F 'namespace=\"$NS\"'"
    jq_ok "$(svc_json "$NS" web)" '.spec.selector == {app: "web"}' '.metadata.annotations["zen-lead.io/enabled"] == "false"'
    kubectl -n "$NS" annotate service web zen-lead.io/enabled=true --overwrite >/dev/null
    wait_slice "$NS" web-leader-ipv4 "web-0 true"
    kubectl -n "$NS" annotate service web zen-lead.io/enabled- >/dev/null
    wait_slice "$NS" web-leader-ipv4 gone
    wait_for 10 gone "$NS" service web-leader
}

@test "cleanup: removing the source's selector deletes the leader Service and slice, with Warning InvalidService" {
    source_svc "$NS" web
    pods_up "$NS" web 1 app=web http:8080
    wait_slice "$NS" web-leader-ipv4 "web-0 true"
    kubectl -n "$NS" patch service web --type=json -p '[{"op": "remove", "path": "/spec/selector"}]' >/dev/null
    wait_slice "$NS" web-leader-ipv4 gone
    wait_for 10 gone "$NS" service web-leader
    wait_event "$NS" web InvalidService Warning
}

@test "source deletion: kube-controller-manager's garbage collector removes the leader Service and slice" {
    source_svc "$NS" web
    pods_up "$NS" web 1 app=web http:8080
    wait_slice "$NS" web-leader-ipv4 "web-0 true"
    # With the controller stopped, only the ownerReferences can do it.
    rc=$(e2e_stop main)
    [ "$rc" = 0 ] || { echo "controller exited $rc on SIGTERM"; false; }
    kubectl -n "$NS" delete service web --wait=false >/dev/null
    t0=$(e2e_now)
    wait_slice "$NS" web-leader-ipv4 gone 30
    wait_for 30 gone "$NS" service web-leader
    printf '# collected %s ms after the source was deleted\n' "$(e2e_ms "$t0" "$(e2e_now)")" >&3
    ctl_start main
    ctl_wait_ready main
    # And the controller does not bring them back.
    sleep 1
    gone "$NS" service web-leader
    [ "$(slice_state "$NS" web-leader-ipv4)" = gone ]
}

@test "drift repair: manual edits of the slice and of the leader Service are undone" {
    source_svc "$NS" web
    pods_up "$NS" web 2 app=web http:8080
    wait_slice "$NS" web-leader-ipv4 "web-0 true"
    ip0=$(k8s_ipv4 0)
    # The slice's endpoint replaced by another one, then its ports.
    kubectl -n "$NS" patch endpointslice web-leader-ipv4 --type=merge \
        -p '{"endpoints": [{"addresses": ["10.244.9.9"], "conditions": {"ready": true}}]}' >/dev/null
    wait_for 5 k8s_eq "$ip0 web-0" kubectl -n "$NS" get endpointslice web-leader-ipv4 \
        -o jsonpath='{.endpoints[0].addresses[0]} {.endpoints[0].targetRef.name}'
    kubectl -n "$NS" patch endpointslice web-leader-ipv4 --type=merge \
        -p '{"ports": [{"name": "http", "port": 9999, "protocol": "TCP"}]}' >/dev/null
    wait_for 5 k8s_eq 8080 kubectl -n "$NS" get endpointslice web-leader-ipv4 -o jsonpath='{.ports[0].port}'
    # Deleted: made again.
    uid=$(kubectl -n "$NS" get endpointslice web-leader-ipv4 -o jsonpath='{.metadata.uid}')
    kubectl -n "$NS" delete endpointslice web-leader-ipv4 --wait=false >/dev/null
    wait_for 5 bash -c "[ \"\$(kubectl -n $NS get endpointslice web-leader-ipv4 -o jsonpath='{.metadata.uid}')\" != $uid ]"
    wait_slice "$NS" web-leader-ipv4 "web-0 true"
    # The leader Service's annotations, labels and ports.
    kubectl -n "$NS" annotate service web-leader zen-lead.io/current-leader=intruder --overwrite >/dev/null
    wait_for 5 k8s_eq web-0 kubectl -n "$NS" get service web-leader -o jsonpath='{.metadata.annotations.zen-lead\.io/current-leader}'
    kubectl -n "$NS" label service web-leader team=b --overwrite >/dev/null
    wait_for 5 k8s_eq a kubectl -n "$NS" get service web-leader -o jsonpath='{.metadata.labels.team}'
    # Its own label gone too (the ownerReference still names the source).
    kubectl -n "$NS" label service web-leader zen-lead.io/source-service- >/dev/null
    wait_for 5 k8s_eq web kubectl -n "$NS" get service web-leader -o jsonpath='{.metadata.labels.zen-lead\.io/source-service}'
    kubectl -n "$NS" patch service web-leader --type=json \
        -p '[{"op": "replace", "path": "/spec/ports/0/targetPort", "value": 9999}]' >/dev/null
    wait_for 5 k8s_eq 8080 kubectl -n "$NS" get service web-leader -o jsonpath='{.spec.ports[0].targetPort}'
    # None of it moved the leader.
    [ "$(ev_count "$NS" web LeaderChanged)" = 0 ]
}

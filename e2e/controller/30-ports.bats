#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# Ports and address families (SPEC sections 2-3): named targetPorts resolved
# per leader with their protocol (sidecar containers included), the
# fail-closed case, several ports, IPv6 and dual-stack sources.

setup() {
    # shellcheck source=lib.bash
    . "$BATS_TEST_DIRNAME/lib.bash"
    e2e_setup ports
}

teardown() {
    e2e_teardown
}

# pod_json NAME LABEL CONTAINER-PORTS-JSON SIDECAR-PORTS-JSON: a pod on the
# suite's node with app=LABEL, its ports on the main container and on a
# sidecar (an init container with restartPolicy Always).
pod_json() {
    jq -n --arg name "$1" --arg app "$2" --argjson ports "$3" --argjson side "$4" --arg node "$E2E_NODE" '{
        apiVersion: "v1", kind: "Pod", metadata: {name: $name, labels: {app: $app}},
        spec: {nodeName: $node, containers: [{name: "app", image: "zl-test.invalid/app:0", ports: $ports}],
            initContainers: (if $side == [] then [] else [{name: "proxy", image: "zl-test.invalid/proxy:0",
                restartPolicy: "Always", ports: $side}] end)}}'
}

@test "named targetPort with protocol: resolved per leader, from sidecars too, wrong protocol excluded" {
    kubectl -n "$NS" apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Service
metadata:
  name: dns
  annotations: {zen-lead.io/enabled: "true"}
spec:
  selector: {app: dns}
  ports:
  - {name: dns, port: 53, targetPort: dns, protocol: UDP}
EOF
    # dns-0 (earliest by name) declares "dns" over TCP only; dns-1 declares
    # it over UDP in a sidecar; dns-2 in its main container, another number.
    pod_json dns-0 dns '[{"name":"dns", "containerPort":5300, "protocol":"TCP"}]' '[]' | kubectl -n "$NS" create -f - >/dev/null
    pod_json dns-1 dns '[]' '[{"name":"dns", "containerPort":5353, "protocol":"UDP"}]' | kubectl -n "$NS" create -f - >/dev/null
    pod_json dns-2 dns '[{"name":"dns", "containerPort":5354, "protocol":"UDP"}]' '[]' | kubectl -n "$NS" create -f - >/dev/null
    for i in 0 1 2; do pod_up "$NS" "dns-$i" "$i"; done
    wait_slice "$NS" dns-leader-ipv4 "dns-1 true"
    jq_ok "$(slice_json "$NS" dns-leader-ipv4)" '[.ports[] | {name, port, protocol}] == [{name: "dns", port: 5353, protocol: "UDP"}]'
    wait_for 5 k8s_eq "dns 53 UDP 5353" kubectl -n "$NS" get service dns-leader -o \
        jsonpath='{.spec.ports[0].name} {.spec.ports[0].port} {.spec.ports[0].protocol} {.spec.ports[0].targetPort}'
    # The next leader's number is its own.
    k8s_force_delete "$NS" dns-1
    wait_slice "$NS" dns-leader-ipv4 "dns-2 true" 5
    wait_for 5 k8s_eq 5354 kubectl -n "$NS" get endpointslice dns-leader-ipv4 -o jsonpath='{.ports[0].port}'
    wait_for 5 k8s_eq 5354 kubectl -n "$NS" get service dns-leader -o jsonpath='{.spec.ports[0].targetPort}'
}

@test "named targetPort no pod declares: fail closed (no endpoint, Warning PortResolutionFailed), then a pod that declares it leads" {
    kubectl -n "$NS" apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Service
metadata:
  name: web
  annotations: {zen-lead.io/enabled: "true"}
spec:
  selector: {app: web}
  ports:
  - {name: admin, port: 9000, targetPort: admin, protocol: TCP}
EOF
    pods_up "$NS" web 2 app=web http:8080
    wait_slice "$NS" web-leader-ipv4 none
    wait_event "$NS" web PortResolutionFailed Warning admin web-0
    wait_for 5 k8s_eq 1 ctl_metric main zen_lead_leader_service_without_endpoints "namespace=$NS" service=web
    [ "$(ctl_metric main zen_lead_port_resolution_failures_total "namespace=$NS" service=web port_name=admin)" != 0 ]
    hold_slice "$NS" web-leader-ipv4 none 1
    pod_json web-2 web '[{"name":"admin", "containerPort":9443, "protocol":"TCP"}]' '[]' | kubectl -n "$NS" create -f - >/dev/null
    pod_up "$NS" web-2 2
    wait_slice "$NS" web-leader-ipv4 "web-2 true"
    jq_ok "$(slice_json "$NS" web-leader-ipv4)" '[.ports[] | {name, port, protocol}] == [{name: "admin", port: 9443, protocol: "TCP"}]'
}

@test "multi-port: every port mirrored with protocol and appProtocol, named and numeric targets" {
    kubectl -n "$NS" apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Service
metadata:
  name: multi
  annotations: {zen-lead.io/enabled: "true"}
spec:
  selector: {app: multi}
  ports:
  - {name: http, port: 80, targetPort: http, protocol: TCP}
  - {name: metrics, port: 9090, targetPort: 9091, protocol: TCP}
  - {name: grpc, port: 81, targetPort: grpc, protocol: TCP, appProtocol: kubernetes.io/h2c}
  - {name: dns, port: 53, targetPort: dns, protocol: UDP}
EOF
    pods_up "$NS" multi 2 app=multi http:8080 grpc:9000 dns:5353/UDP
    wait_slice "$NS" multi-leader-ipv4 "multi-0 true"
    want='[{"name":"dns", "port":53, "protocol":"UDP", "targetPort":5353, "appProtocol":null},
        {"name":"grpc", "port":81, "protocol":"TCP", "targetPort":9000, "appProtocol":"kubernetes.io/h2c"},
        {"name":"http", "port":80, "protocol":"TCP", "targetPort":8080, "appProtocol":null},
        {"name":"metrics", "port":9090, "protocol":"TCP", "targetPort":9091, "appProtocol":null}]'
    jq_ok "$(svc_json "$NS" multi-leader)" "[.spec.ports[] | {name, port, protocol, targetPort, appProtocol}] | sort_by(.name) == $want" \
        '[.spec.ports[] | select(.nodePort)] == []'
    jq_ok "$(slice_json "$NS" multi-leader-ipv4)" "[.ports[] | {name, port, protocol, appProtocol}] | sort_by(.name) ==
        [$want | .[] | {name, port: .targetPort, protocol, appProtocol}]"
}

@test "IPv6 source: an IPv6 slice, candidates need an IPv6 address" {
    kubectl -n "$NS" apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Service
metadata:
  name: web
  annotations: {zen-lead.io/enabled: "true"}
spec:
  ipFamilyPolicy: SingleStack
  ipFamilies: [IPv6]
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: http, protocol: TCP}
EOF
    k8s_create_pods "$NS" web 3 app=web "$E2E_NODE" http:8080
    # web-0 (earliest) has only an IPv4 address: not a candidate.
    pod_up "$NS" web-0 0 "$(k8s_ipv4 0)"
    pod_up "$NS" web-1 1 "$(k8s_ipv6 1)"
    pod_up "$NS" web-2 2 "$(k8s_ipv6 2)"
    wait_slice "$NS" web-leader-ipv6 "web-1 true"
    jq_ok "$(slice_json "$NS" web-leader-ipv6)" '.addressType == "IPv6"' ".endpoints[0].addresses == [\"$(k8s_ipv6 1)\"]"
    jq_ok "$(svc_json "$NS" web-leader)" '.spec.ipFamilies == ["IPv6"]' '.spec.ipFamilyPolicy == "SingleStack"' \
        '.spec.clusterIPs | length == 1 and (.[0] | contains(":"))'
    gone "$NS" endpointslice web-leader-ipv4
    k8s_set_pod_ready "$NS" web-1 false
    wait_slice "$NS" web-leader-ipv6 "web-2 true" 5
    jq_ok "$(slice_json "$NS" web-leader-ipv6)" ".endpoints[0].addresses == [\"$(k8s_ipv6 2)\"]"
}

@test "dual-stack source: one slice per family, both naming the same pod, moving together" {
    kubectl -n "$NS" apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Service
metadata:
  name: web
  annotations: {zen-lead.io/enabled: "true"}
spec:
  ipFamilyPolicy: RequireDualStack
  ipFamilies: [IPv4, IPv6]
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: http, protocol: TCP}
EOF
    k8s_create_pods "$NS" web 2 app=web "$E2E_NODE" http:8080
    for i in 0 1; do pod_up "$NS" "web-$i" "$i" "$(k8s_ipv4 "$i")" "$(k8s_ipv6 "$i")"; done
    wait_slice "$NS" web-leader-ipv4 "web-0 true"
    wait_slice "$NS" web-leader-ipv6 "web-0 true"
    jq_ok "$(slice_json "$NS" web-leader-ipv4)" '.addressType == "IPv4"' ".endpoints[0].addresses == [\"$(k8s_ipv4 0)\"]"
    jq_ok "$(slice_json "$NS" web-leader-ipv6)" '.addressType == "IPv6"' ".endpoints[0].addresses == [\"$(k8s_ipv6 0)\"]" \
        '.metadata.labels["kubernetes.io/service-name"] == "web-leader"'
    jq_ok "$(svc_json "$NS" web-leader)" '.spec.ipFamilies == ["IPv4", "IPv6"]' '.spec.ipFamilyPolicy == "RequireDualStack"'
    k8s_set_pod_ready "$NS" web-0 false
    wait_slice "$NS" web-leader-ipv4 "web-1 true" 5
    wait_slice "$NS" web-leader-ipv6 "web-1 true" 5
    jq_ok "$(slice_json "$NS" web-leader-ipv6)" ".endpoints[0].addresses == [\"$(k8s_ipv6 1)\"]"
}

#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# Smoke tests of the loopback test control plane (e2e/cluster). Run via
# e2e/smoke/run, which brings the cluster up. Each test works in its own
# namespace and asserts real API state.

setup() {
    # shellcheck source=../lib/k8s.bash
    . "$BATS_TEST_DIRNAME/../lib/k8s.bash"
    NS=$(k8s_new_namespace smoke)
    NODE="node-$NS"
}

teardown() {
    if [ -n "${WEBHOOK_PID:-}" ]; then
        kubectl delete validatingwebhookconfiguration "zl-smoke-$NS" --ignore-not-found >/dev/null || true
        kill "$WEBHOOK_PID" 2>/dev/null || true
        wait "$WEBHOOK_PID" 2>/dev/null || true
    fi
    kubectl delete node "$NODE" --ignore-not-found --wait=false >/dev/null || true
    k8s_delete_namespace "$NS" || true
}

@test "control plane is ready and kubectl matches its version" {
    run kubectl get --raw /readyz
    [ "$status" -eq 0 ]
    [ "$output" = ok ]
    server=$(kubectl version -o json | jq -r .serverVersion.gitVersion)
    client=$(kubectl version -o json | jq -r .clientVersion.gitVersion)
    [ "$server" = "$ZL_K8S_VERSION" ]
    [ "$client" = "$server" ]
    # kube-controller-manager runs: its namespace controller finishes
    # deleting a namespace (finalizer "kubernetes" removed).
    tmp=$(k8s_new_namespace smoke-del)
    kubectl delete namespace "$tmp" --wait=false
    wait_for 60 bash -c "! kubectl get namespace $tmp >/dev/null 2>&1"
}

@test "EndpointSlice controller follows pod readiness of an annotated Service" {
    k8s_create_node "$NODE" zone-a
    kubectl -n "$NS" apply -f - <<EOF
apiVersion: v1
kind: Service
metadata:
  name: web
  annotations:
    zen-lead.io/enabled: "true"
spec:
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: http, protocol: TCP}
EOF
    [ "$(kubectl -n "$NS" get svc web -o jsonpath='{.metadata.annotations.zen-lead\.io/enabled}')" = true ]
    k8s_create_pods "$NS" web 2 app=web,tier=fe "$NODE" http:8080/TCP metrics:9090
    [ "$(kubectl -n "$NS" get pods -l app=web -o name | wc -l)" -eq 2 ]
    [ "$(kubectl -n "$NS" get pod web-0 -o jsonpath='{.spec.nodeName}')" = "$NODE" ]
    ip0=$(k8s_ipv4 1)
    ip1=$(k8s_ipv4 2)
    k8s_set_pod_ips "$NS" web-0 "$ip0"
    k8s_set_pod_ips "$NS" web-1 "$ip1"
    k8s_set_pod_ready "$NS" web-0 true
    k8s_set_pod_ready "$NS" web-1 false
    wait_for 30 k8s_eq true k8s_slice_endpoint_ready "$NS" web "$ip0"
    wait_for 30 k8s_eq false k8s_slice_endpoint_ready "$NS" web "$ip1"
    # The slice carries the named target port and the node's zone.
    slice=$(kubectl -n "$NS" get endpointslices -l kubernetes.io/service-name=web -o json)
    [ "$(jq -r '.items[0].ports[0].port' <<<"$slice")" = 8080 ]
    [ "$(jq -r --arg a "$ip0" '.items[0].endpoints[] | select(.addresses[0] == $a) | .zone' <<<"$slice")" = zone-a ]
    # Flip: web-0 NotReady, web-1 Ready.
    k8s_set_pod_ready "$NS" web-0 false
    k8s_set_pod_ready "$NS" web-1 true
    wait_for 30 k8s_eq false k8s_slice_endpoint_ready "$NS" web "$ip0"
    wait_for 30 k8s_eq true k8s_slice_endpoint_ready "$NS" web "$ip1"
    # Losing its IP removes the endpoint.
    k8s_set_pod_ips "$NS" web-1
    [ -z "$(kubectl -n "$NS" get pod web-1 -o jsonpath='{.status.podIP}')" ]
    wait_for 30 bash -c "! k8s_slice_endpoint_ready $NS web $ip1"
}

@test "dual-stack: IPv6 pod addresses reach an IPv6 EndpointSlice" {
    k8s_create_node "$NODE"
    kubectl -n "$NS" apply -f - <<EOF
apiVersion: v1
kind: Service
metadata: {name: ds}
spec:
  ipFamilyPolicy: RequireDualStack
  ipFamilies: [IPv4, IPv6]
  selector: {app: ds}
  ports: [{name: http, port: 80, targetPort: 8080}]
EOF
    [ "$(kubectl -n "$NS" get svc ds -o jsonpath='{.spec.clusterIPs[1]}')" != "" ]
    k8s_create_pods "$NS" ds 1 app=ds "$NODE" 8080
    k8s_set_pod_ips "$NS" ds-0 "$(k8s_ipv4 7)" "$(k8s_ipv6 7)"
    k8s_set_pod_ready "$NS" ds-0 true
    wait_for 30 k8s_eq true k8s_slice_endpoint_ready "$NS" ds "$(k8s_ipv6 7)"
    wait_for 30 k8s_eq true k8s_slice_endpoint_ready "$NS" ds "$(k8s_ipv4 7)"
    [ "$(kubectl -n "$NS" get endpointslices -l kubernetes.io/service-name=ds \
        -o jsonpath='{.items[*].addressType}' | tr ' ' '\n' | sort | tr '\n' ' ')" = "IPv4 IPv6 " ]
}

@test "terminating pod stays until force-deleted and is reported terminating" {
    k8s_create_node "$NODE"
    kubectl -n "$NS" create service clusterip term --tcp=80:8080
    k8s_create_pods "$NS" term 1 app=term "$NODE" 8080
    ip=$(k8s_ipv4 3)
    k8s_set_pod_ips "$NS" term-0 "$ip"
    k8s_set_pod_ready "$NS" term-0 true
    wait_for 30 k8s_eq true k8s_slice_endpoint_ready "$NS" term "$ip"
    k8s_start_termination "$NS" term-0
    [ -n "$(kubectl -n "$NS" get pod term-0 -o jsonpath='{.metadata.deletionTimestamp}')" ]
    wait_for 30 bash -c "kubectl -n $NS get endpointslices -l kubernetes.io/service-name=term -o json |
        jq -e '.items[].endpoints[]? | select(.conditions.terminating == true)' >/dev/null"
    sleep 1
    [ -n "$(kubectl -n "$NS" get pod term-0 -o jsonpath='{.metadata.deletionTimestamp}')" ]
    k8s_force_delete "$NS" term-0
    wait_for 30 bash -c "! kubectl -n $NS get pod term-0 >/dev/null 2>&1"
}

@test "garbage collector deletes an ownerReference dependent" {
    kubectl -n "$NS" create configmap owner --from-literal=a=b
    uid=$(kubectl -n "$NS" get configmap owner -o jsonpath='{.metadata.uid}')
    kubectl -n "$NS" apply -f - <<EOF
apiVersion: v1
kind: ConfigMap
metadata:
  name: dependent
  ownerReferences:
  - {apiVersion: v1, kind: ConfigMap, name: owner, uid: "$uid"}
data: {c: d}
EOF
    kubectl -n "$NS" create configmap bystander --from-literal=e=f
    kubectl -n "$NS" delete configmap owner
    wait_for 90 bash -c "! kubectl -n $NS get configmap dependent >/dev/null 2>&1"
    kubectl -n "$NS" get configmap bystander
}

@test "URL admission webhook is called over TLS with a caBundle" {
    wh="$BATS_TEST_TMPDIR/webhook"
    "$ZL_BIN_DIR/zl-cluster" webhook --dir "$wh" >"$BATS_TEST_TMPDIR/webhook.log" 2>&1 3>&- &
    WEBHOOK_PID=$!
    wait_for 20 test -s "$wh/port"
    port=$(cat "$wh/port")
    kubectl apply -f - <<EOF
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: zl-smoke-$NS}
webhooks:
- name: deny.smoke.zen-lead.io
  clientConfig:
    url: https://127.0.0.1:$port/validate
    caBundle: $(base64 -w0 <"$wh/ca.crt")
  rules:
  - {apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [configmaps]}
  namespaceSelector:
    matchLabels: {kubernetes.io/metadata.name: $NS}
  failurePolicy: Fail
  sideEffects: None
  admissionReviewVersions: [v1]
  timeoutSeconds: 5
EOF
    cat >"$BATS_TEST_TMPDIR/denied.yaml" <<EOF
apiVersion: v1
kind: ConfigMap
metadata: {name: denied, labels: {zl-smoke/deny: "true"}}
EOF
    # The apiserver picks the configuration up asynchronously: wait until a
    # dry run is denied, then do it for real.
    denied() {
        local out
        out=$(kubectl -n "$NS" apply --dry-run=server -f "$BATS_TEST_TMPDIR/denied.yaml" 2>&1) && return 1
        [[ "$out" == *"zl-smoke webhook denies"* ]]
    }
    wait_for 30 denied
    run kubectl -n "$NS" apply -f "$BATS_TEST_TMPDIR/denied.yaml"
    [ "$status" -ne 0 ]
    [[ "$output" == *"zl-smoke webhook denies ConfigMap $NS/denied"* ]]
    run kubectl -n "$NS" get configmap denied
    [ "$status" -ne 0 ]
    kubectl -n "$NS" create configmap allowed --from-literal=k=v
    kubectl -n "$NS" get configmap allowed
    grep -q "CREATE ConfigMap $NS/denied allowed=false" "$wh/reviews.log"
    grep -q "CREATE ConfigMap $NS/allowed allowed=true" "$wh/reviews.log"
}

@test "ServiceAccount kubeconfig has exactly its RBAC" {
    kubectl -n "$NS" create serviceaccount reader
    kubectl -n "$NS" create role pod-reader --verb=get,list,watch --resource=pods
    kubectl -n "$NS" create rolebinding reader --role=pod-reader --serviceaccount="$NS:reader"
    kc="$BATS_TEST_TMPDIR/reader.kubeconfig"
    "$ZL_REPO/e2e/cluster/sa-kubeconfig" "$NS" reader "$kc" 10m
    [ "$(kubectl --kubeconfig "$kc" auth whoami -o jsonpath='{.status.userInfo.username}')" = "system:serviceaccount:$NS:reader" ]
    wait_for 20 k8s_eq yes kubectl --kubeconfig "$kc" -n "$NS" auth can-i list pods
    run kubectl --kubeconfig "$kc" -n "$NS" auth can-i create pods
    [ "$output" = no ]
    run kubectl --kubeconfig "$kc" -n "$NS" auth can-i get secrets
    [ "$output" = no ]
    run kubectl --kubeconfig "$kc" -n default auth can-i list pods
    [ "$output" = no ]
    # Real requests, not only SubjectAccessReviews.
    kubectl --kubeconfig "$kc" -n "$NS" get pods
    run kubectl --kubeconfig "$kc" -n "$NS" create configmap nope --from-literal=a=b
    [ "$status" -ne 0 ]
    [[ "$output" == *"is forbidden"* ]]
    run kubectl --kubeconfig "$kc" -n default get pods
    [ "$status" -ne 0 ]
    [[ "$output" == *"is forbidden"* ]]
    run kubectl -n "$NS" get configmap nope
    [ "$status" -ne 0 ]
}

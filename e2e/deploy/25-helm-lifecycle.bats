#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# The chart's life on the real API server, as docs/install.md tells it:
# helm install (cert-manager mode), an upgrade that keeps the caBundle
# cert-manager's cainjector wrote, the webhook configurations refusing
# zen-lead Services while no webhook answers (failurePolicy Fail), and the
# uninstall that deletes them first and leaves nothing of the release
# behind. No pod runs (no kubelet): the webhook never answers here, which
# is the state an uninstall must not leave the configurations in.
# Run via e2e/deploy/run, before 30-rbac.bats (which applies the same
# cluster-wide RBAC names with kubectl).

setup_file() {
    # shellcheck source=lib.bash
    . "$BATS_TEST_DIRNAME/lib.bash"
    ensure_system_ns
}

setup() {
    # shellcheck source=lib.bash
    . "$BATS_TEST_DIRNAME/lib.bash"
}

teardown_file() {
    # shellcheck source=lib.bash
    . "$BATS_TEST_DIRNAME/lib.bash"
    zl_helm uninstall zen-lead -n "$SYSTEM_NS" --ignore-not-found >/dev/null 2>&1 || true
    kubectl delete validatingwebhookconfiguration,mutatingwebhookconfiguration zen-lead-webhook --ignore-not-found >/dev/null
}

# zl_service NS NAME: applies a Service that opts in to zen-lead.
zl_service() {
    kubectl apply -f - <<YAML
apiVersion: v1
kind: Service
metadata:
  name: $2
  namespace: $1
  annotations:
    zen-lead.io/enabled: "true"
spec:
  selector: {app: $2}
  ports: [{port: 80, targetPort: 8080}]
YAML
}

@test "helm install: every object of the chart is created" {
    run zl_helm install zen-lead "$CHART" -n "$SYSTEM_NS" --set certificates.mode=cert-manager \
        --set monitoring.prometheusRule.enabled=true --set monitoring.dashboard.enabled=true
    echo "$output"
    [ "$status" -eq 0 ]
    # its notes say how to uninstall without a blocking webhook
    [[ "$output" == *"kubectl delete validatingwebhookconfiguration,mutatingwebhookconfiguration zen-lead-webhook"* ]]
    zl_helm status zen-lead -n "$SYSTEM_NS" -o json | jq -e '.info.status == "deployed"' >/dev/null
    kubectl -n "$SYSTEM_NS" get deployment/zen-lead-controller deployment/zen-lead-webhook \
        service/zen-lead-webhook service/zen-lead-metrics pdb/zen-lead-controller pdb/zen-lead-webhook \
        certificate/zen-lead-ca certificate/zen-lead-webhook issuer/zen-lead-ca issuer/zen-lead-selfsigned \
        prometheusrule/zen-lead configmap/zen-lead-dashboard >/dev/null
    kubectl get validatingwebhookconfiguration zen-lead-webhook -o json |
        jq -e '.metadata.annotations["cert-manager.io/inject-ca-from"] == "zen-lead-system/zen-lead-webhook"' >/dev/null
}

@test "while no webhook answers, a zen-lead Service is refused and any other admitted" {
    local ns
    ns=$(k8s_new_namespace helm)
    run zl_service "$ns" shop
    [ "$status" -ne 0 ]
    [[ "$output" == *'failed calling webhook "mutate.zen-lead.io"'* ]]
    kubectl -n "$ns" create service clusterip plain --tcp=80:8080 >/dev/null
    k8s_delete_namespace "$ns"
}

@test "helm upgrade changes the Deployments and keeps the caBundle cainjector wrote" {
    local ca
    ca=$(printf 'not a real CA, a stand-in for the injected one' | base64 -w0)
    kubectl patch validatingwebhookconfiguration zen-lead-webhook --type=json \
        -p "[{\"op\": \"add\", \"path\": \"/webhooks/0/clientConfig/caBundle\", \"value\": \"$ca\"}]" >/dev/null
    kubectl patch mutatingwebhookconfiguration zen-lead-webhook --type=json \
        -p "[{\"op\": \"add\", \"path\": \"/webhooks/0/clientConfig/caBundle\", \"value\": \"$ca\"}]" >/dev/null
    zl_helm upgrade zen-lead "$CHART" -n "$SYSTEM_NS" --reuse-values \
        --set controller.replicas=3 --set image.tag=0.1.1
    [ "$(kubectl -n "$SYSTEM_NS" get deployment zen-lead-controller -o jsonpath='{.spec.replicas}')" = 3 ]
    [ "$(kubectl -n "$SYSTEM_NS" get deployment zen-lead-webhook -o jsonpath='{.spec.template.spec.containers[0].image}')" = zen-lead:0.1.1 ]
    [ "$(kubectl get validatingwebhookconfiguration zen-lead-webhook -o jsonpath='{.webhooks[0].clientConfig.caBundle}')" = "$ca" ]
    [ "$(kubectl get mutatingwebhookconfiguration zen-lead-webhook -o jsonpath='{.webhooks[0].clientConfig.caBundle}')" = "$ca" ]
}

@test "uninstall as docs/install.md says: configurations first, then nothing of the release is left" {
    local ns left
    kubectl delete validatingwebhookconfiguration,mutatingwebhookconfiguration zen-lead-webhook
    ns=$(k8s_new_namespace helm)
    zl_service "$ns" shop >/dev/null
    zl_helm uninstall zen-lead -n "$SYSTEM_NS"
    left=$(kubectl get clusterrole,clusterrolebinding -l app.kubernetes.io/instance=zen-lead -o name)
    [ -z "$left" ] || { echo "left: $left"; false; }
    left=$(kubectl -n "$SYSTEM_NS" get deployment,service,pdb,serviceaccount,role,rolebinding,configmap,certificate,issuer,prometheusrule \
        -l app.kubernetes.io/instance=zen-lead -o name)
    [ -z "$left" ] || { echo "left: $left"; false; }
    zl_service "$ns" shop >/dev/null
    k8s_delete_namespace "$ns"
}

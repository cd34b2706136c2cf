#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# Every kustomization under deploy/ and the Helm chart's output pass the real
# API server's validation (kubectl apply --dry-run=server), with the
# cert-manager and PrometheusRule CRDs registered by e2e/deploy/run. Nothing
# is created. Run via e2e/deploy/run.

setup() {
    # shellcheck source=lib.bash
    . "$BATS_TEST_DIRNAME/lib.bash"
    ensure_system_ns
}

@test "the cert-manager and PrometheusRule APIs are served" {
    kubectl get crd certificates.cert-manager.io issuers.cert-manager.io prometheusrules.monitoring.coreos.com \
        -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Established")].status}{"\n"}{end}' |
        { ! grep -v True; }
}

@test "each kustomization passes kubectl apply --dry-run=server" {
    local k
    for k in "${KUSTOMIZATIONS[@]}"; do
        echo "# deploy/$k"
        run kubectl apply --dry-run=server -k "$ZL_REPO/deploy/$k"
        echo "$output"
        [ "$status" -eq 0 ]
        # the namespace enforces Pod Security "restricted": a pod that broke it warns
        [[ "$output" != *Warning* ]]
    done
}

@test "helm template passes kubectl apply --dry-run=server in both certificate modes, monitoring on" {
    local mode
    for mode in cert-manager self-managed; do
        echo "# certificates.mode=$mode"
        render_helm "$mode" >"$BATS_TEST_TMPDIR/$mode.yaml"
        run kubectl apply --dry-run=server -f "$BATS_TEST_TMPDIR/$mode.yaml"
        echo "$output"
        [ "$status" -eq 0 ]
        [[ "$output" != *Warning* ]]
    done
}

@test "the dry runs do validate: a broken Certificate, Job or webhook configuration is refused" {
    run bash -c 'kubectl kustomize "$1/deploy/overlays/cert-manager" |
        sed "s/isCA: true/isCA: maybe/" | kubectl apply --dry-run=server -f -' _ "$ZL_REPO"
    [ "$status" -ne 0 ]
    [[ "$output" == *'The Certificate "zen-lead-ca" is invalid: spec.isCA'* ]]
    run bash -c 'kubectl kustomize "$1/deploy/overlays/self-managed" |
        sed "s/restartPolicy: OnFailure/restartPolicy: Always/" | kubectl apply --dry-run=server -f -' _ "$ZL_REPO"
    [ "$status" -ne 0 ]
    [[ "$output" == *'The Job "zen-lead-certs-init" is invalid: spec.template.spec.restartPolicy'* ]]
    run bash -c 'kubectl kustomize "$1/deploy/webhook" |
        sed "s/timeoutSeconds: 5/timeoutSeconds: 31/" | kubectl apply --dry-run=server -f -' _ "$ZL_REPO"
    [ "$status" -ne 0 ]
    [[ "$output" == *'"zen-lead-webhook" is invalid: webhooks[0].timeoutSeconds'* ]]
    run bash -c 'kubectl kustomize "$1/deploy/monitoring" |
        sed "s/for: 2m/for: soon/" | kubectl apply --dry-run=server -f -' _ "$ZL_REPO"
    [ "$status" -ne 0 ]
    [[ "$output" == *'The PrometheusRule "zen-lead" is invalid: spec.groups[0].rules[0].for'* ]]
    run bash -c 'kubectl kustomize "$1/deploy/base" |
        sed "0,/allowPrivilegeEscalation: false/s//allowPrivilegeEscalation: true/" | kubectl apply --dry-run=server -f -' _ "$ZL_REPO"
    [[ "$output" == *'Warning: would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false'* ]]
}

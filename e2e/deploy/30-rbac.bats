#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# The RBAC that deploy/overlays/self-managed installs (deploy/rbac's plus the
# certificate Job's), applied for real, checked with kubectl auth can-i as
# each ServiceAccount: neither daemon writes pods or reads secrets, the
# controller writes Services and EndpointSlices, the webhook only reads, the
# Job touches only its Secret and the two webhook configurations. (The
# chart's rules are the same: 10-render.bats.) Run via e2e/deploy/run.

# rbac_objects: the overlay's identities and RBAC as one List (JSON).
rbac_objects() {
    render_kustomize overlays/self-managed | yaml2json |
        jq '{apiVersion: "v1", kind: "List", items: [.[] | select(.kind |
            test("^(ServiceAccount|Role|RoleBinding|ClusterRole|ClusterRoleBinding)$"))]}'
}

setup_file() {
    # shellcheck source=lib.bash
    . "$BATS_TEST_DIRNAME/lib.bash"
    ensure_system_ns
    rbac_objects | kubectl apply -f - >/dev/null
}

# The cluster-wide names are the Helm chart's too (25-helm-lifecycle.bats).
teardown_file() {
    # shellcheck source=lib.bash
    . "$BATS_TEST_DIRNAME/lib.bash"
    rbac_objects | kubectl delete --ignore-not-found -f - >/dev/null
}

setup() {
    # shellcheck source=lib.bash
    . "$BATS_TEST_DIRNAME/lib.bash"
}

@test "neither daemon can write pods or read secrets, anywhere" {
    local u v ns
    for u in "$CONTROLLER" "$WEBHOOK"; do
        for ns in default "$SYSTEM_NS" kube-system; do
            for v in create update patch delete deletecollection; do
                can "$u" no "$v" pods "$ns"
            done
            for v in get list watch; do
                can "$u" no "$v" secrets "$ns"
            done
            can "$u" no create pods/exec "$ns"
            can "$u" no patch pods/status "$ns"
        done
    done
}

@test "the controller reads pods and writes Services, EndpointSlices and Events in any namespace" {
    local v ns
    for ns in default shop; do
        for v in get list watch; do can "$CONTROLLER" yes "$v" pods "$ns"; done
        for v in get list watch create update patch delete; do
            can "$CONTROLLER" yes "$v" services "$ns"
            can "$CONTROLLER" yes "$v" endpointslices.discovery.k8s.io "$ns"
        done
        can "$CONTROLLER" yes create events "$ns"
        can "$CONTROLLER" yes patch events "$ns"
        can "$CONTROLLER" no delete events "$ns"
        can "$CONTROLLER" no create leases.coordination.k8s.io "$ns"
        can "$CONTROLLER" no create configmaps "$ns"
    done
}

@test "the controller's Leases: get, create and update in its own namespace only" {
    local v
    for v in get create update; do can "$CONTROLLER" yes "$v" leases.coordination.k8s.io "$SYSTEM_NS"; done
    can "$CONTROLLER" no delete leases.coordination.k8s.io "$SYSTEM_NS"
    can "$CONTROLLER" no get leases.coordination.k8s.io kube-system
    can "$CONTROLLER" no update leases.coordination.k8s.io kube-node-lease
}

@test "the webhook only reads pods and Services" {
    local v ns
    for ns in default shop; do
        can "$WEBHOOK" yes list pods "$ns"
        can "$WEBHOOK" yes watch pods "$ns"
        for v in get list watch; do can "$WEBHOOK" yes "$v" services "$ns"; done
        for v in create update patch delete; do
            can "$WEBHOOK" no "$v" services "$ns"
            can "$WEBHOOK" no "$v" endpointslices.discovery.k8s.io "$ns"
        done
        can "$WEBHOOK" no list endpointslices.discovery.k8s.io "$ns"
        can "$WEBHOOK" no create events "$ns"
        can "$WEBHOOK" no get configmaps "$ns"
    done
    can "$WEBHOOK" no create leases.coordination.k8s.io "$SYSTEM_NS"
    can "$WEBHOOK" no patch validatingwebhookconfigurations.admissionregistration.k8s.io "" zen-lead-webhook
}

@test "the certificate Job: its Secret and the two webhook configurations, nothing else" {
    local v r
    can "$CERTS" yes create secrets "$SYSTEM_NS"
    for v in get update patch; do
        can "$CERTS" yes "$v" secrets "$SYSTEM_NS" zen-lead-webhook-tls
        can "$CERTS" no "$v" secrets "$SYSTEM_NS" zen-lead-ca-other
    done
    can "$CERTS" no list secrets "$SYSTEM_NS"
    can "$CERTS" no delete secrets "$SYSTEM_NS" zen-lead-webhook-tls
    can "$CERTS" no get secrets default zen-lead-webhook-tls
    can "$CERTS" no create secrets default
    for r in validatingwebhookconfigurations mutatingwebhookconfigurations; do
        for v in get update patch; do
            can "$CERTS" yes "$v" "$r.admissionregistration.k8s.io" "" zen-lead-webhook
            can "$CERTS" no "$v" "$r.admissionregistration.k8s.io" "" another-webhook
        done
        can "$CERTS" no list "$r.admissionregistration.k8s.io"
        can "$CERTS" no delete "$r.admissionregistration.k8s.io" "" zen-lead-webhook
    done
    can "$CERTS" no get pods "$SYSTEM_NS"
    can "$CERTS" no create services "$SYSTEM_NS"
}

#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# The RBAC shipped in deploy/rbac (SPEC section 8) on the real API server:
# it applies (server-side dry run, then for real), each daemon's
# ServiceAccount may do exactly what it needs, and neither can write pods
# or read secrets. Run via e2e/smoke/run, which brings the cluster up.

SYSTEM_NS=zen-lead-system
CONTROLLER="system:serviceaccount:$SYSTEM_NS:zen-lead-controller"
WEBHOOK="system:serviceaccount:$SYSTEM_NS:zen-lead-webhook"

setup() {
    # shellcheck source=../lib/k8s.bash
    . "$BATS_TEST_DIRNAME/../lib/k8s.bash"
    kubectl create namespace "$SYSTEM_NS" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
    NS=$(k8s_new_namespace rbac)
}

teardown() {
    k8s_delete_namespace "$NS" || true
}

# can USER WANT VERB RESOURCE [NAMESPACE]: kubectl auth can-i as USER says WANT.
can() {
    local user=$1 want=$2 verb=$3 res=$4 ns=${5:-$NS} got
    got=$(kubectl auth can-i --as="$user" -n "$ns" "$verb" "$res" 2>/dev/null || true)
    if [ "$got" != "$want" ]; then
        echo "$user: can-i $verb $res -n $ns: got '$got', want '$want'" >&2
        return 1
    fi
}

@test "deploy/rbac applies on the API server" {
    kubectl apply --dry-run=server -k "$ZL_REPO/deploy/rbac"
    kubectl apply -k "$ZL_REPO/deploy/rbac"
    kubectl -n "$SYSTEM_NS" get serviceaccount zen-lead-controller zen-lead-webhook
}

@test "the webhook reads pods and Services and nothing else" {
    kubectl apply -k "$ZL_REPO/deploy/rbac" >/dev/null
    for v in list watch; do can "$WEBHOOK" yes "$v" pods; done
    for v in get list watch; do can "$WEBHOOK" yes "$v" services; done
    can "$WEBHOOK" yes list pods default
    for v in create update patch delete deletecollection; do
        can "$WEBHOOK" no "$v" pods
        can "$WEBHOOK" no "$v" services
    done
    for r in secrets configmaps endpointslices.discovery.k8s.io leases.coordination.k8s.io; do
        for v in get list watch create update; do can "$WEBHOOK" no "$v" "$r"; done
    done
    can "$WEBHOOK" no create events
    can "$WEBHOOK" no get secrets "$SYSTEM_NS"
    can "$WEBHOOK" no update leases.coordination.k8s.io "$SYSTEM_NS"
    can "$WEBHOOK" no create validatingwebhookconfigurations.admissionregistration.k8s.io
}

@test "the controller writes only leader objects, events and its Lease" {
    kubectl apply -k "$ZL_REPO/deploy/rbac" >/dev/null
    for v in get list watch; do can "$CONTROLLER" yes "$v" pods; done
    for r in services endpointslices.discovery.k8s.io; do
        for v in get list watch create update patch delete; do can "$CONTROLLER" yes "$v" "$r"; done
    done
    can "$CONTROLLER" yes create events
    can "$CONTROLLER" yes update leases.coordination.k8s.io "$SYSTEM_NS"
    can "$CONTROLLER" no update leases.coordination.k8s.io
    for v in create update patch delete; do can "$CONTROLLER" no "$v" pods; done
    for v in get list watch; do can "$CONTROLLER" no "$v" secrets; done
}

@test "the webhook's token works for its reads and is refused writes" {
    kubectl apply -k "$ZL_REPO/deploy/rbac" >/dev/null
    kc="$BATS_TEST_TMPDIR/webhook.kubeconfig"
    "$ZL_REPO/e2e/cluster/sa-kubeconfig" "$SYSTEM_NS" zen-lead-webhook "$kc" 10m
    wait_for 20 k8s_eq yes kubectl --kubeconfig "$kc" -n "$NS" auth can-i list pods
    # What the lookups send: namespaced LISTs (with a labelSelector for
    # pods) and cluster-wide list+watch for the caches.
    kubectl --kubeconfig "$kc" -n "$NS" get pods -l app=web
    kubectl --kubeconfig "$kc" -n "$NS" get services
    kubectl --kubeconfig "$kc" get --raw "/api/v1/pods?limit=1" >/dev/null
    kubectl --kubeconfig "$kc" get --raw "/api/v1/services?watch=1&timeoutSeconds=1" >/dev/null
    run kubectl --kubeconfig "$kc" -n "$NS" create service clusterip nope --tcp=80
    [ "$status" -ne 0 ]
    [[ "$output" == *"is forbidden"* ]]
    run kubectl --kubeconfig "$kc" -n "$NS" get secrets
    [ "$status" -ne 0 ]
    [[ "$output" == *"is forbidden"* ]]
}

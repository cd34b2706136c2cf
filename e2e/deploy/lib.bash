# SPDX-License-Identifier: Apache-2.0
# Shared by the e2e/deploy .bats files: what zen-lead ships under deploy/,
# rendered with the cluster's kubectl (kustomize built in) and with helm
# (e2e/helm), and read back as JSON. Sourced from bats; e2e/deploy/run
# brings the cluster up, builds helm and registers the CRDs first.

# shellcheck source=../lib/k8s.bash
. "$BATS_TEST_DIRNAME/../lib/k8s.bash"
# shellcheck source=../helm/lib.sh
. "$BATS_TEST_DIRNAME/../helm/lib.sh"

SYSTEM_NS=zen-lead-system
CHART="$ZL_REPO/deploy/helm/zen-lead"
# Every kustomization under deploy/ (the test below checks none is missed).
KUSTOMIZATIONS=(rbac webhook base overlays/cert-manager overlays/self-managed monitoring)
CONTROLLER="system:serviceaccount:$SYSTEM_NS:zen-lead-controller"
WEBHOOK="system:serviceaccount:$SYSTEM_NS:zen-lead-webhook"
CERTS="system:serviceaccount:$SYSTEM_NS:zen-lead-certs"

# helm with its homes in the test's temporary folder (no user state read).
zl_helm() {
    local home="${BATS_RUN_TMPDIR:-/tmp}/helm-home"
    HELM_CACHE_HOME="$home/cache" HELM_CONFIG_HOME="$home/config" \
        HELM_DATA_HOME="$home/data" "$ZL_HELM_BIN" "$@"
}

# render_kustomize DIR: kubectl kustomize deploy/DIR.
render_kustomize() { kubectl kustomize "$ZL_REPO/deploy/$1"; }

# render_helm MODE [HELM-ARGS...]: helm template of the chart in
# zen-lead-system with certificates.mode=MODE, the PrometheusRule and the
# dashboard on.
render_helm() {
    local mode=$1
    shift
    zl_helm template zen-lead "$CHART" --namespace "$SYSTEM_NS" \
        --set certificates.mode="$mode" \
        --set monitoring.prometheusRule.enabled=true \
        --set monitoring.dashboard.enabled=true "$@"
}

# yaml2json: a multi-document YAML stream on stdin -> a JSON array.
yaml2json() {
    python3 -c 'import sys, yaml, json
print(json.dumps([d for d in yaml.safe_load_all(sys.stdin) if d]))'
}

# pod_templates: JSON array on stdin -> every pod spec of a Deployment or Job.
pod_specs() { jq -c '.[] | select(.kind == "Deployment" or .kind == "Job") | {kind, name: .metadata.name, spec: .spec.template.spec}'; }

# ensure_system_ns: the namespace the server-side dry runs need to exist,
# as deploy/base makes it (Pod Security "restricted" enforced).
ensure_system_ns() {
    render_kustomize base | yaml2json | jq '.[] | select(.kind == "Namespace")' | kubectl apply -f - >/dev/null
}

# can USER WANT VERB RESOURCE [NAMESPACE] [NAME]: kubectl auth can-i says WANT.
can() {
    local user=$1 want=$2 verb=$3 res=$4 ns=${5:-default} name=${6:-} got
    [ -n "$name" ] && res="$res/$name"
    got=$(kubectl auth can-i --as="$user" -n "$ns" "$verb" "$res" 2>/dev/null || true)
    if [ "$got" != "$want" ]; then
        echo "$user: can-i $verb $res -n $ns: got '$got', want '$want'" >&2
        return 1
    fi
}

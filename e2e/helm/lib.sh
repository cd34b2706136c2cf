# SPDX-License-Identifier: Apache-2.0
# The tools of e2e/deploy, built from the Go module proxy: helm v3 (this
# folder is a Go module whose only content is helm's tool line) and
# zl-promql (e2e/promql, Prometheus's PromQL parser). Sourced, never
# executed. Defines:
#   ZL_HELM_BIN, ZL_PROMQL_BIN        $ZL_HELM_CACHE_DIR/bin/{helm,zl-promql}
#   zl_helm_build, zl_promql_build    build one unless its stamp is current
# The cache folder is ZL_HELM_CACHE_DIR, else ZL_CACHE_DIR (the cluster's).

ZL_HELM_SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../lib/gotool.sh
. "$ZL_HELM_SRC/../lib/gotool.sh"
ZL_HELM_VERSION="v3.22.0"
# the Kubernetes minor of helm's client-go (go.mod), for lint and capabilities
ZL_HELM_K8S_MINOR="37"
ZL_HELM_CACHE_DIR="${ZL_HELM_CACHE_DIR:-${ZL_CACHE_DIR:-$ZL_HELM_SRC/../cluster/.cache}}"
ZL_HELM_BIN="$ZL_HELM_CACHE_DIR/bin/helm"
ZL_PROMQL_SRC="$(cd "$ZL_HELM_SRC/../promql" && pwd)"
ZL_PROMQL_BIN="$ZL_HELM_CACHE_DIR/bin/zl-promql"

zl_helm_ldflags() {
    local ld="-s -w -X helm.sh/helm/v3/internal/version.version=$ZL_HELM_VERSION" p
    ld="$ld -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
    for p in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
        ld="$ld -X $p.k8sVersionMajor=1 -X $p.k8sVersionMinor=$ZL_HELM_K8S_MINOR"
    done
    printf '%s' "$ld"
}

zl_helm_build() {
    zl_gotool_build "$ZL_HELM_SRC" "$ZL_HELM_BIN" helm.sh/helm/v3/cmd/helm "$(zl_helm_ldflags)"
}

# zl-promql (e2e/promql): Prometheus's PromQL parser, for the alert rules.
zl_promql_build() {
    zl_gotool_build "$ZL_PROMQL_SRC" "$ZL_PROMQL_BIN" . "-s -w"
}

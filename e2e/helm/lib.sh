# SPDX-License-Identifier: Apache-2.0
# Builds helm v3 from the Go module proxy for the e2e suites (e2e/deploy).
# Sourced, never executed. Defines:
#   ZL_HELM_SRC   this folder (a Go module whose only content is helm's tool)
#   ZL_HELM_BIN   the built binary: $ZL_HELM_CACHE_DIR/bin/helm
#   zl_helm_build build it unless the stamp (hash of go.mod, go.sum, the
#                 flags and the Go version) says it is up to date
# The cache folder is ZL_HELM_CACHE_DIR, else ZL_CACHE_DIR (the cluster's).

ZL_HELM_SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ZL_HELM_VERSION="v3.22.0"
ZL_HELM_K8S_MINOR="37"
ZL_HELM_CACHE_DIR="${ZL_HELM_CACHE_DIR:-${ZL_CACHE_DIR:-$ZL_HELM_SRC/../cluster/.cache}}"
ZL_HELM_BIN="$ZL_HELM_CACHE_DIR/bin/helm"

zl_helm_ldflags() {
    local ld="-s -w -X helm.sh/helm/v3/internal/version.version=$ZL_HELM_VERSION"
    ld="$ld -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
    local p
    for p in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
        ld="$ld -X $p.k8sVersionMajor=1 -X $p.k8sVersionMinor=$ZL_HELM_K8S_MINOR"
    done
    printf '%s' "$ld"
}

zl_helm_hash() {
    (
        cd "$ZL_HELM_SRC"
        go version
        printf '%s\n' "$ZL_HELM_VERSION" "$(zl_helm_ldflags)"
        cat go.mod go.sum
    ) | sha256sum | cut -d' ' -f1
}

zl_helm_build() {
    command -v go >/dev/null 2>&1 ||
        { echo "e2e: the Go toolchain is needed to build helm; 'go' is not on PATH" >&2; return 1; }
    mkdir -p "$ZL_HELM_CACHE_DIR/bin"
    local fd want have=""
    exec {fd}>"$ZL_HELM_CACHE_DIR/helm-build.lock"
    flock "$fd"
    want="$(zl_helm_hash)"
    [ -f "$ZL_HELM_BIN.stamp" ] && have="$(cat "$ZL_HELM_BIN.stamp")"
    if [ "$want" = "$have" ] && [ -x "$ZL_HELM_BIN" ]; then
        exec {fd}>&-
        return 0
    fi
    echo "e2e: building helm $ZL_HELM_VERSION from the Go module proxy" >&2
    local t0=$SECONDS
    (
        cd "$ZL_HELM_SRC"
        go build -trimpath -ldflags="$(zl_helm_ldflags)" -o "$ZL_HELM_BIN.new" helm.sh/helm/v3/cmd/helm
    ) || { exec {fd}>&-; return 1; }
    mv -f "$ZL_HELM_BIN.new" "$ZL_HELM_BIN"
    printf '%s\n' "$want" >"$ZL_HELM_BIN.stamp"
    echo "e2e: built helm in $((SECONDS - t0)) s: $ZL_HELM_BIN" >&2
    exec {fd}>&-
}

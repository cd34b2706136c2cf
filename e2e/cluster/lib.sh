# SPDX-License-Identifier: Apache-2.0
# Shared by e2e/cluster/{up,down,bin-path,sa-kubeconfig} and e2e/lib/env.sh.
# Sourced, never executed. Defines:
#   ZL_CLUSTER_SRC  this folder (the Go module of the harness)
#   ZL_REPO         repository root
#   ZL_RUN_DIR      run folder of the cluster (env override; default <repo>/.run)
#   ZL_CACHE_DIR    build cache (env override; default <repo>/e2e/cluster/.cache)
#   ZL_BIN_DIR      $ZL_CACHE_DIR/bin: zl-cluster and kubectl (a symlink to it)
#   zl_build        build the harness binary unless it is up to date

ZL_CLUSTER_SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ZL_REPO="$(cd "$ZL_CLUSTER_SRC/../.." && pwd)"
ZL_RUN_DIR="${ZL_RUN_DIR:-$ZL_REPO/.run}"
ZL_CACHE_DIR="${ZL_CACHE_DIR:-$ZL_CLUSTER_SRC/.cache}"
ZL_BIN_DIR="$ZL_CACHE_DIR/bin"
ZL_K8S_VERSION="v1.35.4"
# Marker that makes a folder ours to delete in `down`.
ZL_RUN_MARKER=".zl-cluster-run"

zl_log() { printf 'zl-cluster: %s\n' "$*" >&2; }

# Hash of everything the binary depends on: sources, module files, the
# flags below and the Go toolchain version.
zl_src_hash() {
    (
        cd "$ZL_CLUSTER_SRC"
        go version
        printf '%s\n' "$ZL_K8S_VERSION" "$(zl_ldflags)"
        cat go.mod go.sum ./*.go
    ) | sha256sum | cut -d' ' -f1
}

zl_ldflags() {
    local ld="-s -w" p minor
    minor="${ZL_K8S_VERSION#v1.}"
    minor="${minor%%.*}"
    for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
        ld="$ld -X $p.gitVersion=$ZL_K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
    done
    printf '%s' "$ld"
}

zl_build() {
    if ! command -v go >/dev/null 2>&1; then
        zl_log "the Go toolchain (>= 1.25) is needed to build the test cluster; 'go' is not on PATH"
        return 1
    fi
    mkdir -p "$ZL_BIN_DIR"
    # Serialise builds: two clusters may come up at the same time.
    exec {zl_lock_fd}>"$ZL_CACHE_DIR/build.lock"
    flock "$zl_lock_fd"
    local want have=""
    want="$(zl_src_hash)"
    [ -f "$ZL_BIN_DIR/zl-cluster.stamp" ] && have="$(cat "$ZL_BIN_DIR/zl-cluster.stamp")"
    if [ "$want" = "$have" ] && [ -x "$ZL_BIN_DIR/zl-cluster" ]; then
        exec {zl_lock_fd}>&-
        return 0
    fi
    zl_log "building kube-apiserver+kube-controller-manager+etcd+kubectl $ZL_K8S_VERSION (cold: several minutes)"
    local t0=$SECONDS
    (
        cd "$ZL_CLUSTER_SRC"
        go build -trimpath -ldflags="$(zl_ldflags)" -o "$ZL_BIN_DIR/zl-cluster.new" .
    ) || { exec {zl_lock_fd}>&-; return 1; }
    mv -f "$ZL_BIN_DIR/zl-cluster.new" "$ZL_BIN_DIR/zl-cluster"
    ln -sfn zl-cluster "$ZL_BIN_DIR/kubectl"
    printf '%s\n' "$want" >"$ZL_BIN_DIR/zl-cluster.stamp"
    zl_log "built in $((SECONDS - t0)) s: $ZL_BIN_DIR/zl-cluster"
    exec {zl_lock_fd}>&-
}

# Prints the pid of the running supervisor of $ZL_RUN_DIR, or fails.
zl_running_pid() {
    local pid
    [ -f "$ZL_RUN_DIR/harness.pid" ] || return 1
    pid="$(cat "$ZL_RUN_DIR/harness.pid")"
    [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q 'zl-cluster run' || return 1
    printf '%s\n' "$pid"
}

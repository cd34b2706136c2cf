# SPDX-License-Identifier: Apache-2.0
# Builds a Go program of a small test-only module (e2e/helm, e2e/promql) into
# a cache folder, unless the stamp beside the binary (a hash of the module's
# go.mod, go.sum and .go files, the flags and the Go version) says it is up
# to date. Sourced, never executed. Defines:
#   zl_gotool_build SRC OUT PKG LDFLAGS
#       SRC the module folder, OUT the binary, PKG what to build (a package
#       of the module or of a dependency named by a tool line of go.mod)

zl_gotool_hash() {
    local src=$1 pkg=$2 ldflags=$3
    (
        cd "$src"
        go version
        printf '%s\n' "$pkg" "$ldflags"
        cat go.mod go.sum
        cat ./*.go 2>/dev/null || true
    ) | sha256sum | cut -d' ' -f1
}

zl_gotool_build() {
    local src=$1 out=$2 pkg=$3 ldflags=$4 fd want have="" t0
    command -v go >/dev/null 2>&1 ||
        { echo "e2e: the Go toolchain is needed to build $out; 'go' is not on PATH" >&2; return 1; }
    mkdir -p "$(dirname "$out")"
    exec {fd}>"$out.lock"
    flock "$fd"
    want="$(zl_gotool_hash "$src" "$pkg" "$ldflags")"
    [ -f "$out.stamp" ] && have="$(cat "$out.stamp")"
    if [ "$want" = "$have" ] && [ -x "$out" ]; then
        exec {fd}>&-
        return 0
    fi
    echo "e2e: building $pkg (module $src)" >&2
    t0=$SECONDS
    (cd "$src" && go build -trimpath -ldflags="$ldflags" -o "$out.new" "$pkg") ||
        { exec {fd}>&-; return 1; }
    mv -f "$out.new" "$out"
    printf '%s\n' "$want" >"$out.stamp"
    echo "e2e: built $(basename "$out") in $((SECONDS - t0)) s: $out" >&2
    exec {fd}>&-
}

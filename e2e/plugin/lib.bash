# SPDX-License-Identifier: Apache-2.0
# Helpers of kubectl-zenlead's end-to-end scenarios (e2e/plugin/*.bats):
# the controller's helpers (processes, pods, Services) plus the plugin's
# binary, a read-only identity, and the masking that turns its output into
# golden text. Sourced by e2e/plugin/run and every .bats file.

# shellcheck source=../controller/lib.bash
. "$(dirname "${BASH_SOURCE[0]}")/../controller/lib.bash"

PLUGIN_HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PLUGIN_BIN="${ZL_PLUGIN_BIN:-$ZL_REPO/build/plugin/kubectl-zenlead}"
PLUGIN_VIEWER_KUBECONFIG="$E2E_DIR/viewer.kubeconfig"
PLUGIN_GOLDEN="$PLUGIN_HERE/golden"

# zenlead ARG...: the plugin as the cluster's admin.
zenlead() { "$PLUGIN_BIN" --color never "$@"; }

# zenlead_viewer ARG...: the plugin as a user bound to the built-in view
# ClusterRole only.
zenlead_viewer() { "$PLUGIN_BIN" --color never --kubeconfig "$PLUGIN_VIEWER_KUBECONFIG" "$@"; }

# plugin_viewer: a ServiceAccount with the view ClusterRole cluster-wide,
# and a kubeconfig for it.
plugin_viewer() {
    kubectl -n "$E2E_SYSTEM_NS" create serviceaccount zenlead-viewer --dry-run=client -o yaml |
        kubectl apply -f - >/dev/null || return 1
    kubectl create clusterrolebinding zenlead-viewer --clusterrole=view \
        --serviceaccount="$E2E_SYSTEM_NS:zenlead-viewer" --dry-run=client -o yaml |
        kubectl apply -f - >/dev/null || return 1
    "$ZL_REPO/e2e/cluster/sa-kubeconfig" "$E2E_SYSTEM_NS" zenlead-viewer "$PLUGIN_VIEWER_KUBECONFIG"
}

# plugin_mask NS: the output on stdin with what changes from run to run
# replaced: the namespace, ages and spans, addresses, holder identities,
# timestamps and uids.
plugin_mask() {
    sed -E -e "s/$1/NS/g" \
        -e 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z/TIME/g' \
        -e 's/\b[0-9]+d[0-9]+h\b|\b[0-9]+h[0-9]+m\b|\b[0-9]+m[0-9]+s\b|\b[0-9]+(\.[0-9]+)?(ms|s)\b/AGE/g' \
        -e 's/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/UID/g' \
        -e 's/held by [^ ,]+/held by HOLDER/g' \
        -e 's/ +$//'
}

# plugin_golden NAME NS: compares stdin, masked, with golden/NAME.txt.
# ZL_GOLDEN_UPDATE=1 rewrites the file instead.
plugin_golden() {
    local got
    got=$(plugin_mask "$2")
    if [ "${ZL_GOLDEN_UPDATE:-0}" = 1 ]; then
        printf '%s\n' "$got" >"$PLUGIN_GOLDEN/$1.txt"
        return 0
    fi
    diff -u "$PLUGIN_GOLDEN/$1.txt" <(printf '%s\n' "$got")
}

# plugin_schema FILE: validates the JSON in FILE against the status schema.
plugin_schema() {
    python3 "$PLUGIN_HERE/check-schema" "$ZL_REPO/docs/reference/kubectl-zenlead-status.schema.json" "$1"
}

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
# replaced: the namespace, timestamps, uids, holder identities, and ages
# and spans ("3s", "2m5s", "59m58s", "8 ms"; not the durations of the settings,
# which follow a '='); runs of spaces become two, so column widths do not
# matter.
plugin_mask() {
    perl -pe "s/\Q$1\E/NS/g;
        s/\d{4}-\d{2}-\d{2}T[\d:.]+Z/TIME/g;
        s/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/UID/g;
        s/held by \S+,/held by HOLDER,/g;
        s/\b\d+ ms\b/AGE/g;
        s/(?<![=\w.])\d+(\.\d+)?(ms|[smhd])(\d+(\.\d+)?(ms|[smh]))*(?![\w])/AGE/g;
        s/ {2,}/  /g; s/ +\n/\n/"
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

# plugin_ctl_start: the suite's controller (main), with --leader-elect so
# its Lease is there to be read.
plugin_ctl_start() {
    ctl_start main --leader-elect --leader-election-namespace "$E2E_SYSTEM_NS" &&
        ctl_wait_ready main &&
        wait_for 30 plugin_lease_held
}

# plugin_lease_held: the controller's Lease has a holder.
plugin_lease_held() {
    [ -n "$(kubectl -n "$E2E_SYSTEM_NS" get lease zen-lead-controller \
        -o jsonpath='{.spec.holderIdentity}' 2>/dev/null)" ]
}

# plugin_setup PREFIX / plugin_teardown: e2e_setup and e2e_teardown, with
# the suite's controller started again as plugin_ctl_start starts it.
plugin_setup() {
    e2e_alive main || plugin_ctl_start || return 1
    e2e_setup "$1"
}

plugin_teardown() {
    e2e_alive main || plugin_ctl_start || true
    e2e_teardown
}

# plugin_annotated LEADER POD: the leader Service's annotations name POD
# (they follow the slice by a few milliseconds).
plugin_annotated() {
    [ "$(kubectl -n "$NS" get service "$1" \
        -o jsonpath='{.metadata.annotations.zen-lead\.io/current-leader}')" = "$2" ]
}

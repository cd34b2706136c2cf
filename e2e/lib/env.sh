# SPDX-License-Identifier: Apache-2.0
# Source this (bash) to use the test cluster of $ZL_RUN_DIR (default
# <repo>/.run): puts the harness bin folder first on PATH, so `kubectl` is
# the cluster's own version, and exports KUBECONFIG (admin), ZL_RUN_DIR,
# ZL_BIN_DIR, ZL_REPO. Does not build or start anything: run
# e2e/cluster/up (make cluster-up) first.
# shellcheck source=../cluster/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../cluster/lib.sh"
export ZL_RUN_DIR ZL_BIN_DIR ZL_REPO
export KUBECONFIG="$ZL_RUN_DIR/kubeconfig"
case ":$PATH:" in
    *":$ZL_BIN_DIR:"*) ;;
    *) PATH="$ZL_BIN_DIR:$PATH" ;;
esac
export PATH

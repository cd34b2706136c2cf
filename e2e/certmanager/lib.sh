# SPDX-License-Identifier: Apache-2.0
# zl-certmanager (this Go module: cert-manager v1.21.2's controllers, its
# cainjector and a Secret projector), built into the clone's cache like
# e2e/helm. Sourced, never executed. Defines:
#   ZL_CERTMANAGER_BIN     $ZL_CERTMANAGER_CACHE_DIR/bin/zl-certmanager
#   zl_certmanager_build   builds it unless its stamp is current
# The cache folder is ZL_CERTMANAGER_CACHE_DIR, else ZL_CACHE_DIR (the cluster's).

ZL_CERTMANAGER_SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../lib/gotool.sh
. "$ZL_CERTMANAGER_SRC/../lib/gotool.sh"
ZL_CERTMANAGER_CACHE_DIR="${ZL_CERTMANAGER_CACHE_DIR:-${ZL_CACHE_DIR:-$ZL_CERTMANAGER_SRC/../cluster/.cache}}"
ZL_CERTMANAGER_BIN="$ZL_CERTMANAGER_CACHE_DIR/bin/zl-certmanager"

zl_certmanager_build() {
    zl_gotool_build "$ZL_CERTMANAGER_SRC" "$ZL_CERTMANAGER_BIN" . "-s -w"
}

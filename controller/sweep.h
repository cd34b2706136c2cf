/* SPDX-License-Identifier: Apache-2.0 */
/* The sweep run whenever this replica starts writing (at start-up, or on
 * gaining the Lease): every enabled Service, and the source of every
 * leader Service and slice we made, is queued, so objects whose source is
 * gone or opted out are cleaned up and every leader is checked on a warm
 * cache. */
#ifndef ZL_CONTROLLER_SWEEP_H
#define ZL_CONTROLLER_SWEEP_H

#include <stddef.h>

#include "base/err.h"
#include "controller/mapping.h"
#include "kube/store.h"

/* Emits the keys described above from the two stores (slices may be
 * NULL); a key may come more than once (the work queue dedups). *count
 * (may be NULL) gets how many were emitted. ZL_ERR_NOMEM. */
enum zl_err sweep_keys(struct store *services, struct store *slices,
                       mapping_emit_fn emit, void *ctx, size_t *count);

#endif

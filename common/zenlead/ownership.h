/* SPDX-License-Identifier: Apache-2.0 */
/* Whether an existing Service is the leader Service zen-lead made for a
 * given source (SPEC section 2, "Ownership and safety"): the one test the
 * controller (before it writes <L>) and the webhook (rule V4) share, so they
 * agree on which names are taken. Pure. */
#ifndef ZL_ZENLEAD_OWNERSHIP_H
#define ZL_ZENLEAD_OWNERSHIP_H

#include <stdbool.h>

#include "kube/views.h"

/* True when leader is the leader Service made for the source Service named
 * source: its controlling ownerReference is a Service named source, and
 * either that reference's uid is source_uid (the current source; NULL or ""
 * when unknown, e.g. the source is gone) or leader carries our labels
 * (app.kubernetes.io/managed-by: zen-lead, zen-lead.io/source-service:
 * source), i.e. it was made for an earlier Service of that name. Labels
 * alone are not trusted (anyone may copy them) and not required by uid
 * (drift on them is repaired, not taken for a stranger). */
bool ownership_leader_is_ours(const struct views_service *leader,
                              const char *source, const char *source_uid);

/* True when eps is an EndpointSlice zen-lead made for the source Service
 * named source: owned by a Service and labelled for source by zen-lead, or
 * owned by the leader Service leader_name with uid leader_uid (when both
 * are known; its labels may have drifted). */
bool ownership_slice_is_ours(const struct views_endpointslice *eps,
                             const char *source, const char *leader_name,
                             const char *leader_uid);

#endif

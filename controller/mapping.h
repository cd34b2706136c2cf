/* SPDX-License-Identifier: Apache-2.0 */
/* Which source Services an informer event concerns (DESIGN "The controller
 * at run time"): a pod maps to the enabled Services of its namespace whose
 * selector matches its old or its new labels; a Service maps to itself
 * (or, when it is a leader Service we manage, to its source) and to the
 * enabled sources of its namespace that claim its name; a managed
 * EndpointSlice maps to its source. Pure: the caller passes the Services
 * of the namespace and gets keys "namespace/name" back. */
#ifndef ZL_CONTROLLER_MAPPING_H
#define ZL_CONTROLLER_MAPPING_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "kube/views.h"

/* Longest key: a namespace (63), '/', a Service name (63), NUL. */
#define MAPPING_MAX_KEY 128

/* Called once per key; the string is valid during the call only. */
typedef void (*mapping_emit_fn)(void *ctx, const char *key);

/* True when the Service's zen-lead.io/enabled is "true" after trimming
 * white space, in any case (the rules' normalization). */
bool mapping_service_enabled(const struct views_service *svc);

/* True when the Service carries our managed-by label and a
 * zen-lead.io/source-service label (a leader Service we made). *source
 * (may be NULL) is then the source's name (borrowed from svc). */
bool mapping_service_managed(const struct views_service *svc,
                             const char **source);

/* The source a managed EndpointSlice belongs to (its
 * zen-lead.io/source-service label), or NULL. */
const char *mapping_slice_source(const struct views_endpointslice *eps);

/* The leader name a source claims: the leader-service-name annotation
 * (trimmed) or "<name>-leader". Writes "" when it does not fit. */
void mapping_claimed_name(const struct views_service *svc,
                          char out[static MAPPING_MAX_KEY]);

/* True when a pod update can change a decision: readiness (and its
 * transition time), phase, deletionTimestamp, IPs, labels, container
 * ports or uid. Adds and deletes (one side NULL) always count. */
bool mapping_pod_relevant(const struct views_pod *old_pod,
                          const struct views_pod *new_pod);

/* Emits the enabled Services among services (those of the pod's namespace)
 * whose selector matches old_pod's or new_pod's labels (either may be
 * NULL), each once. Returns how many. */
size_t mapping_pod(const struct views_pod *old_pod,
                   const struct views_pod *new_pod,
                   const struct views_service *const *services,
                   size_t service_count, mapping_emit_fn emit, void *ctx);

/* Emits the key of a changed Service svc: its source when it is managed,
 * else itself and, when a Service controls it, that owner (a leader
 * Service whose labels were edited away); then every enabled Service among
 * services (same namespace) other than svc that claims svc's name as leader
 * name (so a source waiting on a name conflict is looked at again). Returns how
 * many. */
size_t mapping_service(const struct views_service *svc,
                       const struct views_service *const *services,
                       size_t service_count, mapping_emit_fn emit, void *ctx);

/* Emits the source key of a managed slice (nothing when it has no source
 * label). Returns how many (0 or 1). */
size_t mapping_slice(const struct views_endpointslice *eps,
                     mapping_emit_fn emit, void *ctx);

/* Emits "namespace/name" of every pod a managed slice routes to: its
 * ready endpoints whose targetRef is a Pod (the leader, normally one).
 * Returns how many. */
size_t mapping_slice_pods(const struct views_endpointslice *eps,
                          mapping_emit_fn emit, void *ctx);

/* Writes "ns/name" into out; ZL_ERR_LIMIT when it does not fit. */
enum zl_err mapping_key(const char *ns, const char *name,
                        char out[static MAPPING_MAX_KEY]);

/* Splits a key at its '/' into ns and name (each MAPPING_MAX_KEY).
 * ZL_ERR_INVALID without one. */
enum zl_err mapping_split(const char *key, char ns[static MAPPING_MAX_KEY],
                          char name[static MAPPING_MAX_KEY]);

#endif

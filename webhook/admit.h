/* SPDX-License-Identifier: Apache-2.0 */
/* The webhook's rules (SPEC section 7): from a decoded AdmissionReview to a
 * decision. Validation runs the same checks the controller does
 * (common/zenlead), so nothing is admitted that the controller would
 * refuse; mutation rewrites zen-lead.io/ values to their canonical
 * spelling. Pure: cluster state comes in through struct admit_lookups
 * (a cache, in the daemon); no clock, no I/O. */
#ifndef ZL_WEBHOOK_ADMIT_H
#define ZL_WEBHOOK_ADMIT_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "kube/views.h"
#include "webhook/patch.h"
#include "webhook/review.h"

/* The users besides the controller that may write zen-lead's objects: the
 * garbage collector (owner references) and the namespace controller
 * (namespace deletion). */
#define ADMIT_USER_GC                                                          \
    "system:serviceaccount:kube-system:generic-garbage-collector"
#define ADMIT_USER_NAMESPACE_CONTROLLER                                        \
    "system:serviceaccount:kube-system:namespace-controller"

/* Codes of a decision. */
#define ADMIT_CODE_OK 200
#define ADMIT_CODE_BAD_REQUEST 400 /* an object zen-lead cannot read */
#define ADMIT_CODE_FORBIDDEN 403   /* a rule refuses */
#define ADMIT_CODE_UNAVAILABLE 503 /* a lookup failed, policy deny */

/* A decision holds at most this many warnings (later ones are dropped;
 * review_encode bounds their size). */
#define ADMIT_MAX_WARNINGS 32

enum admit_hook {
    ADMIT_VALIDATE = 0, /* POST /validate: rules V1-V5, never a patch */
    ADMIT_MUTATE,       /* POST /mutate: canonical values, never a denial
                           except for an object it cannot read */
};

enum admit_named_port_policy {
    ADMIT_NAMED_PORT_REJECT = 0,
    ADMIT_NAMED_PORT_WARN,
};

enum admit_lookup_policy {
    ADMIT_LOOKUP_ALLOW = 0,
    ADMIT_LOOKUP_DENY,
};

struct admit_config {
    /* The controller's user (--controller-username): may write managed
     * objects and controller-owned keys. "" or NULL: nobody is. */
    const char *controller_username;
    enum admit_named_port_policy named_port_policy;
    enum admit_lookup_policy lookup_failure_policy;
};

/* What the rules may ask of the cluster (the daemon's caches). */
struct admit_lookups {
    void *ctx;
    /* Pods of ns whose labels match selector. ZL_OK: *out is a malloc'd
     * array of *count views, each retained (caller: views_release each,
     * then free(*out)). ZL_ERR_TIMEOUT / ZL_ERR_IO / ZL_ERR_TRANSIENT: the
     * API server could not answer; ZL_ERR_WOULDBLOCK: not answered, the
     * lookup would have had to wait (admit_decide passes it on). */
    enum zl_err (*pods)(void *ctx, const char *ns,
                        const struct views_map *selector,
                        struct views_pod ***out, size_t *count);
    /* Services of ns (all of them), same ownership and errors; used for V4
     * (an existing Service named <L>, or another source claiming <L>). */
    enum zl_err (*services)(void *ctx, const char *ns,
                            struct views_service ***out, size_t *count);
};

/* The answer. rule is the rule that denied, else the first that warned,
 * else "". message (one sentence: what is wrong and how to fix it) is set
 * when denied, NULL otherwise. Every string is owned by the decision. */
struct admit_decision {
    bool allowed;
    int code; /* ADMIT_CODE_* */
    char rule[4];
    char *message;
    char *warnings[ADMIT_MAX_WARNINGS];
    size_t warning_count;
    struct patch patch; /* ADMIT_MUTATE only; empty when nothing changes */
};

/* Decides on req for hook. out is initialised here (no need to before)
 * and freed with admit_decision_cleanup, also after an error.
 * Validation (Services and EndpointSlices; other kinds and CONNECT are
 * allowed without a rule):
 * - V5: CREATE, UPDATE or DELETE of an object zen-lead manages (the new
 *   or the old one labelled app.kubernetes.io/managed-by: zen-lead, a
 *   Service or EndpointSlice labelled zen-lead.io/source-service, or an
 *   EndpointSlice labelled endpointslice.kubernetes.io/managed-by:
 *   zen-lead) by anyone but the controller, ADMIT_USER_GC and
 *   ADMIT_USER_NAMESPACE_CONTROLLER is denied; those three are allowed
 *   without further rules.
 * - V1, V2 (Service CREATE/UPDATE of the main resource, not of a
 *   subresource such as status, and not of a Service being deleted, whose
 *   finalizers must come off): annotations_check_service's errors
 *   deny (the first is the message, the others become warnings), its
 *   warnings are warnings; controller-owned keys are let through for the
 *   controller's user only.
 * - V3, V4 (enabled Services that passed V1/V2): pods lookup for named
 *   targetPorts (policy reject|warn when pods match and none declares one;
 *   a warning when no pod matches), services lookup for leader name
 *   conflicts (deny). A lookup error is decided by lookup_failure_policy:
 *   allow with a warning, or deny with ADMIT_CODE_UNAVAILABLE.
 * Mutation (Service CREATE/UPDATE of an unmanaged Service, main resource
 * only): replace ops
 * for each zen-lead.io/ value annotations_normalize rewrites; none for a
 * canonical Service.
 * An object that is required and missing, or that views cannot read, is
 * denied with ADMIT_CODE_BAD_REQUEST. lookups may be NULL for
 * ADMIT_MUTATE (and counts as a failed lookup for validation).
 * Returns ZL_OK whatever the decision; ZL_ERR_NOMEM (the daemon answers
 * 500), ZL_ERR_INVALID for a NULL argument, or ZL_ERR_WOULDBLOCK passed on
 * from a lookup (a cache-only one that would have asked the API server:
 * out is then no decision, to be made again with blocking lookups). */
enum zl_err admit_decide(enum admit_hook hook, const struct review_request *req,
                         const struct admit_config *cfg,
                         const struct admit_lookups *lookups,
                         struct admit_decision *out);

void admit_decision_cleanup(struct admit_decision *d);

/* Appends to out the AdmissionReview answer the API server gets for d, a
 * decision on req (both borrowed): req's uid, allowed, code, message and
 * warnings, the patch when d has one, and the auditAnnotations
 * audit_annotations gives (the uid; the rule when one was hit). Errors of
 * review_encode (out may then hold part of the answer). */
enum zl_err admit_encode(const struct review_request *req,
                         const struct admit_decision *d, struct buf *out);

/* "validate" / "mutate", for logs and metrics labels. */
const char *admit_hook_name(enum admit_hook hook);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* POST /validate and POST /mutate: an AdmissionReview in, the decision of
 * webhook/admit out as an AdmissionReview with the same uid, one audit
 * line and the request metrics. A body that is not JSON or not a review
 * is answered 400 (415 for another content type) with a line of text, as
 * controller-runtime's webhook server does; the API server then applies
 * the configuration's failurePolicy. Handlers run on the server's pool. */
#ifndef ZL_WEBHOOK_HANDLER_H
#define ZL_WEBHOOK_HANDLER_H

#include "serve/serve.h"
#include "webhook/admit.h"
#include "webhook/auditlog.h"
#include "webhook/whmetrics.h"

/* What the handlers use; all borrowed, shared by every pool thread. */
struct handler_deps {
    const struct admit_config *cfg;
    const struct admit_lookups *lookups;
    /* The same lookups from the caches only (lookup_*_cached), used when
     * the handler runs on the server's I/O thread; NULL: such a request is
     * always deferred to a pool thread. */
    const struct admit_lookups *lookups_inline;
    struct auditlog *audit;    /* NULL: no audit lines */
    struct whmetrics *metrics; /* NULL: no metrics */
};

/* serve_handler_fn for POST /validate; ctx is a struct handler_deps. */
void handler_validate(void *ctx, const struct serve_request *req,
                      struct serve_response *resp);

/* serve_handler_fn for POST /mutate; ctx is a struct handler_deps. */
void handler_mutate(void *ctx, const struct serve_request *req,
                    struct serve_response *resp);

#endif

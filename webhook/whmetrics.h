/* SPDX-License-Identifier: Apache-2.0 */
/* The webhook's metric families (SPEC section 5): requests by hook,
 * operation and decision with their latency, the serving certificate's
 * expiry and reloads, the API requests of its lookups, build info and
 * process_* (base/procmetrics). The lookups register their own. */
#ifndef ZL_WEBHOOK_WHMETRICS_H
#define ZL_WEBHOOK_WHMETRICS_H

#include <stdbool.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/metrics.h"
#include "serve/serve.h"

struct whmetrics;

enum zl_err whmetrics_new(const char *version, const char *commit,
                          struct whmetrics **out);
void whmetrics_free(struct whmetrics *m);

/* The registry (for the lookups' families). */
struct metrics_registry *whmetrics_registry(struct whmetrics *m);

/* One answered AdmissionReview: hook "validate" or "mutate", operation
 * as in the request ("invalid" for a body that could not be decoded). */
void whmetrics_request(struct whmetrics *m, const char *hook,
                       const char *operation, bool allowed, double seconds);

/* client_options.observe for the lookups' clients: ctx is the whmetrics. */
void whmetrics_observe_api(void *ctx, const char *verb, const char *resource,
                           long http_code, double seconds);

/* Takes the certificate state: the expiry gauge, and reloads since the
 * last call added to zen_lead_webhook_tls_reloads_total{result}. */
void whmetrics_tls(struct whmetrics *m, const struct serve_tls_status *st);

/* Refreshes the process figures and appends the exposition to out. */
enum zl_err whmetrics_render(struct whmetrics *m, struct buf *out);

#endif

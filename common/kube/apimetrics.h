/* SPDX-License-Identifier: Apache-2.0 */
/* The Kubernetes API request metrics (SPEC section 5) both daemons' clients
 * feed: zen_lead_api_requests_total{verb,resource,code} and
 * zen_lead_api_request_duration_seconds{verb,resource}, registered on the
 * daemon's base/metrics registry. Each daemon chooses the buckets; the
 * registry owns the families. */
#ifndef ZL_KUBE_APIMETRICS_H
#define ZL_KUBE_APIMETRICS_H

#include <stddef.h>

#include "base/err.h"
#include "base/metrics.h"

/* The two families; borrowed from the registry they were registered on. */
struct apimetrics {
    struct metrics_family *requests;
    struct metrics_family *duration;
};

/* Registers both families on reg, the histogram with buckets[0..count).
 * Errors of metrics_register (ZL_ERR_NOMEM; ZL_ERR_EXISTS when reg has
 * either already). */
enum zl_err apimetrics_register(struct apimetrics *a,
                                struct metrics_registry *reg,
                                const double *buckets, size_t bucket_count);

/* One attempt, as client_options.observe reports it: counts it by verb,
 * resource and HTTP code (0: no answer) and observes its seconds. */
void apimetrics_observe(const struct apimetrics *a, const char *verb,
                        const char *resource, long http_code, double seconds);

#endif

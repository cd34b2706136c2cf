/* SPDX-License-Identifier: Apache-2.0 */
/* The API request families, the same in both daemons. */
#include "kube/apimetrics.h"

#include <stdio.h>

static const char *const labels[] = {"verb", "resource", "code"};

enum zl_err apimetrics_register(struct apimetrics *a,
                                struct metrics_registry *reg,
                                const double *buckets, size_t bucket_count)
{
    enum zl_err rc = metrics_register(
        reg, METRICS_COUNTER, "zen_lead_api_requests_total",
        "Kubernetes API requests by verb, resource and HTTP code.", labels, 3,
        NULL, 0, &a->requests);
    if (rc == ZL_OK)
        rc = metrics_register(reg, METRICS_HISTOGRAM,
                              "zen_lead_api_request_duration_seconds",
                              "Kubernetes API request latency.", labels, 2,
                              buckets, bucket_count, &a->duration);
    return rc;
}

void apimetrics_observe(const struct apimetrics *a, const char *verb,
                        const char *resource, long http_code, double seconds)
{
    char code[16];
    snprintf(code, sizeof(code), "%ld", http_code);
    const char *values[] = {verb, resource, code};
    metrics_inc(a->requests, values);
    metrics_observe(a->duration, values, seconds);
}

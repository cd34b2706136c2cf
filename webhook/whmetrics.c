/* SPDX-License-Identifier: Apache-2.0 */
/* Registration and update of the webhook's metric families. */
#include "webhook/whmetrics.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "base/procmetrics.h"
#include "kube/apimetrics.h"

enum wm_fam {
    WM_REQUESTS,
    WM_DURATION,
    WM_CERT_EXPIRY,
    WM_TLS_RELOADS,
    WM_COUNT
};

struct wm_def {
    const char *name;
    const char *help;
    enum metrics_type type;
    size_t label_count;
    const char *labels[3];
};

static const struct wm_def wm_defs[WM_COUNT] = {
    {"zen_lead_webhook_requests_total",
     "AdmissionReviews answered, by webhook, operation and decision.",
     METRICS_COUNTER,
     3,
     {"webhook", "operation", "allowed"}},
    {"zen_lead_webhook_request_duration_seconds",
     "From the request body read to the answer ready, by webhook.",
     METRICS_HISTOGRAM,
     1,
     {"webhook"}},
    {"zen_lead_webhook_certificate_expiry_timestamp_seconds",
     "notAfter of the serving certificate in service, Unix seconds.",
     METRICS_GAUGE,
     0,
     {0}},
    {"zen_lead_webhook_tls_reloads_total",
     "Certificate pairs read after a file change: success (in service) or "
     "failure (refused, the previous pair kept).",
     METRICS_COUNTER,
     1,
     {"result"}},
};

/* Admission answers take microseconds to milliseconds; the API server
 * gives up after timeoutSeconds (5 s). */
static const double wm_buckets[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025,
                                    0.005,  0.01,    0.025,  0.05,  0.1,
                                    0.25,   0.5,     1,      2.5,   5};

struct whmetrics {
    struct metrics_registry *reg;
    struct metrics_family *f[WM_COUNT];
    struct apimetrics api;
    struct procmetrics *proc;
    pthread_mutex_t mu; /* guards the last_* counts */
    uint64_t last_reloads, last_failures;
};

static enum zl_err wm_register(struct whmetrics *m)
{
    enum zl_err rc = ZL_OK;
    for (int i = 0; rc == ZL_OK && i < WM_COUNT; i++) {
        const struct wm_def *d = &wm_defs[i];
        bool hist = d->type == METRICS_HISTOGRAM;
        rc = metrics_register(
            m->reg, d->type, d->name, d->help,
            d->label_count > 0 ? d->labels : NULL, d->label_count,
            hist ? wm_buckets : NULL,
            hist ? sizeof(wm_buckets) / sizeof(*wm_buckets) : 0, &m->f[i]);
    }
    static const char *const results[] = {"success", "failure"};
    for (int i = 0; rc == ZL_OK && i < 2; i++)
        rc = metrics_add(m->f[WM_TLS_RELOADS], &results[i], 0);
    return rc;
}

enum zl_err whmetrics_new(const char *version, const char *commit,
                          struct whmetrics **out)
{
    *out = NULL;
    struct whmetrics *m = calloc(1, sizeof(*m));
    if (m == NULL)
        return ZL_ERR_NOMEM;
    if (pthread_mutex_init(&m->mu, NULL) != 0) {
        free(m);
        return ZL_ERR_NOMEM;
    }
    enum zl_err rc = metrics_registry_new(&m->reg);
    if (rc == ZL_OK)
        rc = wm_register(m);
    if (rc == ZL_OK)
        rc = apimetrics_register(&m->api, m->reg, wm_buckets,
                                 sizeof(wm_buckets) / sizeof(*wm_buckets));
    if (rc == ZL_OK)
        rc = procmetrics_new(m->reg, version, commit, &m->proc);
    if (rc != ZL_OK) {
        whmetrics_free(m);
        return rc;
    }
    *out = m;
    return ZL_OK;
}

void whmetrics_free(struct whmetrics *m)
{
    if (m == NULL)
        return;
    procmetrics_free(m->proc);
    metrics_registry_free(m->reg);
    pthread_mutex_destroy(&m->mu);
    free(m);
}

struct metrics_registry *whmetrics_registry(struct whmetrics *m)
{
    return m->reg;
}

void whmetrics_request(struct whmetrics *m, const char *hook,
                       const char *operation, bool allowed, double seconds)
{
    const char *l[] = {hook, operation, allowed ? "true" : "false"};
    const char *h[] = {hook};
    metrics_inc(m->f[WM_REQUESTS], l);
    metrics_observe(m->f[WM_DURATION], h, seconds);
}

void whmetrics_observe_api(void *ctx, const char *verb, const char *resource,
                           long http_code, double seconds)
{
    const struct whmetrics *m = ctx;
    apimetrics_observe(&m->api, verb, resource, http_code, seconds);
}

void whmetrics_tls(struct whmetrics *m, const struct serve_tls_status *st)
{
    static const char *const ok[] = {"success"};
    static const char *const bad[] = {"failure"};
    if (st->loaded)
        metrics_set(m->f[WM_CERT_EXPIRY], NULL, (double)st->not_after);
    pthread_mutex_lock(&m->mu);
    if (st->reloads > m->last_reloads)
        metrics_add(m->f[WM_TLS_RELOADS], ok,
                    (double)(st->reloads - m->last_reloads));
    if (st->reload_failures > m->last_failures)
        metrics_add(m->f[WM_TLS_RELOADS], bad,
                    (double)(st->reload_failures - m->last_failures));
    m->last_reloads = st->reloads;
    m->last_failures = st->reload_failures;
    pthread_mutex_unlock(&m->mu);
}

enum zl_err whmetrics_render(struct whmetrics *m, struct buf *out)
{
    procmetrics_refresh(m->proc);
    return metrics_render(m->reg, out);
}

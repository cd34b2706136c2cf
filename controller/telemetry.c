/* SPDX-License-Identifier: Apache-2.0 */
/* Registration and update of the controller's metric families. */
#include "controller/telemetry.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/procmetrics.h"
#include "kube/apimetrics.h"
#include "kube/informer.h"
#include "kube/workqueue.h"

enum fam {
    F_FAILOVER_COUNT,
    F_FAILOVER_LATENCY,
    F_RECONCILE_DURATION,
    F_RECONCILES,
    F_RECONCILE_ERRORS,
    F_LEADER_SERVICES,
    F_PODS_AVAILABLE,
    F_WITHOUT_ENDPOINTS,
    F_PORT_FAILURES,
    F_ENDPOINT_WRITE_ERRORS,
    F_WATCH_RESTARTS,
    F_QUEUE_DEPTH,
    F_QUEUE_RETRIES,
    F_IS_LEADER,
    F_COUNT
};

struct def {
    const char *name;
    const char *help;
    size_t label_count;
    const char *labels[3];
    enum metrics_type type;
    int buckets; /* 0 none, 1 latency (fast), 2 durations */
};

static const struct def defs[F_COUNT] = {
    {"zen_lead_failover_count_total",
     "Real leader changes (a first election is not counted).",
     3,
     {"namespace", "service", "reason"},
     METRICS_COUNTER,
     0},
    {"zen_lead_failover_latency_seconds",
     "From the informer event that showed the loss to the API server "
     "accepting the new EndpointSlice.",
     1,
     {"reason"},
     METRICS_HISTOGRAM,
     1},
    {"zen_lead_reconciliation_duration_seconds",
     "Time of one reconcile.",
     1,
     {"result"},
     METRICS_HISTOGRAM,
     2},
    {"zen_lead_reconciliations_total",
     "Reconciles by result.",
     1,
     {"result"},
     METRICS_COUNTER,
     0},
    {"zen_lead_reconciliation_errors_total",
     "Failed reconciles by error type.",
     1,
     {"error_type"},
     METRICS_COUNTER,
     0},
    {"zen_lead_leader_services",
     "Source Services managed (enabled and valid).",
     0,
     {0},
     METRICS_GAUGE,
     0},
    {"zen_lead_pods_available",
     "Candidate pods of a managed Service.",
     2,
     {"namespace", "service"},
     METRICS_GAUGE,
     0},
    {"zen_lead_leader_service_without_endpoints",
     "1 while a managed Service's leader slice has no endpoint.",
     2,
     {"namespace", "service"},
     METRICS_GAUGE,
     0},
    {"zen_lead_port_resolution_failures_total",
     "Times no pod declared a named targetPort.",
     3,
     {"namespace", "service", "port_name"},
     METRICS_COUNTER,
     0},
    {"zen_lead_endpoint_write_errors_total",
     "EndpointSlice writes the API server refused or that failed.",
     0,
     {0},
     METRICS_COUNTER,
     0},
    {"zen_lead_watch_restarts_total",
     "Watches started after the first, by resource.",
     1,
     {"resource"},
     METRICS_COUNTER,
     0},
    {"zen_lead_workqueue_depth",
     "Keys ready in the queue.",
     0,
     {0},
     METRICS_GAUGE,
     0},
    {"zen_lead_workqueue_retries_total",
     "Keys requeued with backoff after a failure.",
     0,
     {0},
     METRICS_COUNTER,
     0},
    {"zen_lead_is_leader",
     "1 while this replica holds the Lease (or runs without election).",
     0,
     {0},
     METRICS_GAUGE,
     0},
};

static const double fast_buckets[] = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
static const double slow_buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01,
                                      0.025,  0.05,  0.1,    0.25,  0.5,
                                      1,      2.5,   5,      10,    30};

struct telemetry {
    struct metrics_registry *reg;
    struct metrics_family *f[F_COUNT];
    struct apimetrics api;
    struct procmetrics *proc;
    pthread_mutex_t mu; /* guards last_restarts */
    uint64_t last_restarts[TELEMETRY_MAX_INFORMERS];
};

static enum zl_err register_one(struct telemetry *t, enum fam i)
{
    const struct def *d = &defs[i];
    const double *b = NULL;
    size_t bn = 0;
    if (d->buckets == 1) {
        b = fast_buckets;
        bn = sizeof(fast_buckets) / sizeof(*fast_buckets);
    } else if (d->buckets == 2) {
        b = slow_buckets;
        bn = sizeof(slow_buckets) / sizeof(*slow_buckets);
    }
    return metrics_register(t->reg, d->type, d->name, d->help,
                            d->label_count > 0 ? d->labels : NULL,
                            d->label_count, b, bn, &t->f[i]);
}

enum zl_err telemetry_new(const char *version, const char *commit,
                          struct telemetry **out)
{
    struct telemetry *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return ZL_ERR_NOMEM;
    enum zl_err rc = metrics_registry_new(&t->reg);
    if (rc != ZL_OK)
        goto out;
    rc = ZL_ERR_NOMEM;
    if (pthread_mutex_init(&t->mu, NULL) != 0)
        goto out;
    for (int i = 0; i < F_COUNT; i++) {
        rc = register_one(t, (enum fam)i);
        if (rc != ZL_OK)
            goto out;
    }
    rc = apimetrics_register(&t->api, t->reg, fast_buckets,
                             sizeof(fast_buckets) / sizeof(*fast_buckets));
    if (rc != ZL_OK)
        goto out;
    rc = procmetrics_new(t->reg, version, commit, &t->proc);
    if (rc != ZL_OK)
        goto out;
    *out = t;
    return ZL_OK;
out:
    metrics_registry_free(t->reg);
    free(t);
    return rc;
}

void telemetry_free(struct telemetry *t)
{
    if (t == NULL)
        return;
    procmetrics_free(t->proc);
    metrics_registry_free(t->reg);
    pthread_mutex_destroy(&t->mu);
    free(t);
}

struct metrics_registry *telemetry_registry(struct telemetry *t)
{
    return t->reg;
}

void telemetry_observe_api(void *ctx, const char *verb, const char *resource,
                           long http_code, double seconds)
{
    const struct telemetry *t = ctx;
    apimetrics_observe(&t->api, verb, resource, http_code, seconds);
}

void telemetry_reconciled(struct telemetry *t, const char *result,
                          const char *error_type, double seconds)
{
    const char *r[] = {result};
    metrics_inc(t->f[F_RECONCILES], r);
    metrics_observe(t->f[F_RECONCILE_DURATION], r, seconds);
    if (error_type != NULL) {
        const char *e[] = {error_type};
        metrics_inc(t->f[F_RECONCILE_ERRORS], e);
    }
}

void telemetry_failover(struct telemetry *t, const char *ns,
                        const char *service, const char *reason,
                        double latency_s)
{
    const char *c[] = {ns, service, reason};
    metrics_inc(t->f[F_FAILOVER_COUNT], c);
    if (latency_s >= 0) {
        const char *r[] = {reason};
        metrics_observe(t->f[F_FAILOVER_LATENCY], r, latency_s);
    }
}

void telemetry_service_state(struct telemetry *t, const char *ns,
                             const char *service, size_t pods_available,
                             bool without_endpoints)
{
    const char *l[] = {ns, service};
    metrics_set(t->f[F_PODS_AVAILABLE], l, (double)pods_available);
    metrics_set(t->f[F_WITHOUT_ENDPOINTS], l, without_endpoints ? 1 : 0);
}

void telemetry_port_resolution_failure(struct telemetry *t, const char *ns,
                                       const char *service,
                                       const char *port_name)
{
    const char *l[] = {ns, service, port_name != NULL ? port_name : ""};
    metrics_inc(t->f[F_PORT_FAILURES], l);
}

void telemetry_endpoint_write_error(struct telemetry *t)
{
    metrics_inc(t->f[F_ENDPOINT_WRITE_ERRORS], NULL);
}

void telemetry_workqueue_retry(struct telemetry *t)
{
    metrics_inc(t->f[F_QUEUE_RETRIES], NULL);
}

void telemetry_forget_service(struct telemetry *t, const char *ns,
                              const char *service)
{
    const char *names[] = {"namespace", "service"};
    const char *values[] = {ns, service};
    metrics_delete_matching(t->reg, names, values, 2);
}

void telemetry_set_leader_services(struct telemetry *t, size_t count)
{
    metrics_set(t->f[F_LEADER_SERVICES], NULL, (double)count);
}

void telemetry_set_is_leader(struct telemetry *t, bool leader)
{
    metrics_set(t->f[F_IS_LEADER], NULL, leader ? 1 : 0);
}

static void refresh_watches(struct telemetry *t,
                            struct informer *const *informers, size_t n)
{
    for (size_t i = 0; i < n && i < TELEMETRY_MAX_INFORMERS; i++) {
        if (informers[i] == NULL)
            continue;
        struct informer_stats st;
        informer_get_stats(informers[i], &st);
        const char *r[] = {informer_resource(informers[i])};
        if (st.watch_restarts > t->last_restarts[i])
            metrics_add(t->f[F_WATCH_RESTARTS], r,
                        (double)(st.watch_restarts - t->last_restarts[i]));
        else
            metrics_add(t->f[F_WATCH_RESTARTS], r, 0);
        t->last_restarts[i] = st.watch_restarts;
    }
}

void telemetry_refresh(struct telemetry *t, struct informer *const *informers,
                       size_t informer_count, struct workqueue *queue)
{
    pthread_mutex_lock(&t->mu);
    refresh_watches(t, informers, informer_count);
    pthread_mutex_unlock(&t->mu);
    if (queue != NULL)
        metrics_set(t->f[F_QUEUE_DEPTH], NULL, (double)workqueue_len(queue));
    procmetrics_refresh(t->proc);
}

enum zl_err telemetry_render(struct telemetry *t, struct buf *out)
{
    return metrics_render(t->reg, out);
}

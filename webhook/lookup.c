/* SPDX-License-Identifier: Apache-2.0 */
/* Cache-first pod and Service lookups with a bounded direct LIST when the
 * caches cannot be trusted. The caches are two cluster-wide informers on
 * one loop thread; lookups run on the HTTP server's threads. */
#include "webhook/lookup.h"

#include <json-c/json.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/json.h"
#include "base/log.h"
#include "kube/client.h"
#include "kube/informer.h"
#include "kube/listviews.h"
#include "kube/store.h"
#include "zenlead/selector.h"

#define SELECTOR_MAX 8192 /* labelSelector text of one lookup */

enum source {
    SOURCE_CACHE = 0,
    SOURCE_API,
};

static const char *const source_names[] = {"cache", "api"};

struct lookup {
    struct client *client; /* the informers' (limited by qps/burst) */
    struct client *direct; /* direct LISTs: one attempt, timeout_ms */
    struct informer_loop *loop;
    struct informer *pods;
    struct informer *services;
    long stale_max_ms;
    int max_inflight;
    atomic_bool started; /* read by the lookups' threads */
    atomic_int inflight;
    _Atomic uint64_t hits;
    _Atomic uint64_t fallbacks;
    _Atomic uint64_t failures;
    struct metrics_family *m_lookups;
    struct metrics_family *m_errors;
    struct metrics_family *m_duration;
};

/* ---- metrics ------------------------------------------------------------ */

static enum zl_err register_metrics(struct lookup *lk,
                                    struct metrics_registry *reg)
{
    static const char *const rs[] = {"resource", "source"};
    static const char *const r[] = {"resource"};
    static const double buckets[] = {0.0001, 0.0005, 0.001, 0.005, 0.025,
                                     0.1,    0.5,    1,     2,     4};
    enum zl_err rc = metrics_register(
        reg, METRICS_COUNTER, "zen_lead_webhook_lookups_total",
        "Pod and Service lookups by where they were answered from", rs, 2, NULL,
        0, &lk->m_lookups);
    if (rc == ZL_OK)
        rc = metrics_register(reg, METRICS_COUNTER,
                              "zen_lead_webhook_lookup_errors_total",
                              "Lookups the API server could not answer", r, 1,
                              NULL, 0, &lk->m_errors);
    if (rc == ZL_OK)
        rc = metrics_register(
            reg, METRICS_HISTOGRAM, "zen_lead_webhook_lookup_duration_seconds",
            "Time to answer a lookup", rs, 2, buckets,
            sizeof(buckets) / sizeof(*buckets), &lk->m_duration);
    return rc;
}

static void count_lookup(struct lookup *lk, const char *resource,
                         enum source src, enum zl_err rc, int64_t t0)
{
    double secs = (double)(clock_mono_ns() - t0) / 1e9;
    if (src == SOURCE_CACHE) {
        atomic_fetch_add(&lk->hits, 1);
    } else {
        atomic_fetch_add(&lk->fallbacks, 1);
        if (rc != ZL_OK)
            atomic_fetch_add(&lk->failures, 1);
    }
    if (lk->m_lookups == NULL)
        return;
    const char *labels[] = {resource, source_names[src]};
    metrics_inc(lk->m_lookups, labels);
    metrics_observe(lk->m_duration, labels, secs);
    if (rc != ZL_OK && src == SOURCE_API)
        metrics_inc(lk->m_errors, labels);
}

/* ---- life cycle ---------------------------------------------------------- */

static enum zl_err make_clients(struct lookup *lk,
                                const struct lookup_options *opt)
{
    struct client_options co = {.qps = opt->qps,
                                .burst = opt->burst,
                                .observe = opt->observe,
                                .observe_ctx = opt->observe_ctx};
    enum zl_err rc = client_new(opt->cfg, &co, &lk->client);
    if (rc != ZL_OK)
        return rc;
    /* No limiter (its wait could outlast the timeout; LOOKUP_MAX_INFLIGHT
     * bounds the load instead) and no retry: the timeout is the bound. */
    struct client_options dco = {
        .timeout_ms = opt->timeout_ms,
        .connect_timeout_ms = opt->timeout_ms,
        .max_retries = -1,
        .observe = opt->observe,
        .observe_ctx = opt->observe_ctx,
    };
    return client_new(opt->cfg, &dco, &lk->direct);
}

static enum zl_err make_informer(struct lookup *lk,
                                 const struct client_resource *res,
                                 enum views_kind kind, struct informer **out)
{
    struct informer_options io = {.resource = res, .kind = kind};
    return informer_new(lk->loop, lk->client, &io, out);
}

enum zl_err lookup_new(const struct lookup_options *opt, struct lookup **out)
{
    *out = NULL;
    if (opt == NULL || opt->cfg == NULL || opt->timeout_ms <= 0)
        return ZL_ERR_INVALID;
    struct lookup *lk = calloc(1, sizeof(*lk));
    if (lk == NULL)
        return ZL_ERR_NOMEM;
    lk->stale_max_ms =
        opt->stale_max_ms > 0 ? opt->stale_max_ms : LOOKUP_STALE_MAX_MS;
    lk->max_inflight =
        opt->max_inflight > 0 ? opt->max_inflight : LOOKUP_MAX_INFLIGHT;
    enum zl_err rc = make_clients(lk, opt);
    if (rc == ZL_OK)
        rc = informer_loop_new(&lk->loop);
    if (rc == ZL_OK)
        rc = make_informer(lk, &CLIENT_PODS, VIEWS_KIND_POD, &lk->pods);
    if (rc == ZL_OK)
        rc = make_informer(lk, &CLIENT_SERVICES, VIEWS_KIND_SERVICE,
                           &lk->services);
    if (rc == ZL_OK && opt->metrics != NULL)
        rc = register_metrics(lk, opt->metrics);
    if (rc != ZL_OK) {
        lookup_free(lk);
        return rc;
    }
    *out = lk;
    return ZL_OK;
}

enum zl_err lookup_start(struct lookup *lk)
{
    enum zl_err rc = informer_loop_start(lk->loop);
    if (rc == ZL_OK)
        atomic_store(&lk->started, true);
    return rc;
}

void lookup_stop(struct lookup *lk)
{
    if (lk == NULL || lk->loop == NULL)
        return;
    atomic_store(&lk->started, false);
    informer_loop_stop(lk->loop);
}

void lookup_free(struct lookup *lk)
{
    if (lk == NULL)
        return;
    lookup_stop(lk);
    informer_free(lk->pods);
    informer_free(lk->services);
    informer_loop_free(lk->loop);
    client_free(lk->direct);
    client_free(lk->client);
    free(lk);
}

/* ---- state --------------------------------------------------------------- */

static bool cache_usable(const struct lookup *lk, const struct informer *inf)
{
    return atomic_load(&lk->started) && informer_has_synced(inf) &&
           informer_out_of_step_for_ms(inf) <= lk->stale_max_ms;
}

bool lookup_synced(const struct lookup *lk)
{
    return informer_has_synced(lk->pods) && informer_has_synced(lk->services);
}

bool lookup_healthy(const struct lookup *lk)
{
    return cache_usable(lk, lk->pods) && cache_usable(lk, lk->services);
}

void lookup_get_stats(const struct lookup *lk, struct lookup_stats *out)
{
    out->cache_hits = atomic_load(&lk->hits);
    out->fallbacks = atomic_load(&lk->fallbacks);
    out->fallback_failures = atomic_load(&lk->failures);
}

void lookup_test_pause(struct lookup *lk, bool paused)
{
    void (*fn)(struct informer *) = paused ? informer_pause : informer_resume;
    fn(lk->pods);
    fn(lk->services);
}

/* ---- direct LISTs -------------------------------------------------------- */

/* The server filtered by labelSelector already; matching again keeps both
 * paths answering with exactly the same rule. */
static bool keep_selected(const void *ctx, const void *view)
{
    const struct views_map *selector = ctx;
    return selector_matches(selector, &views_meta_of(view)->labels);
}

static enum zl_err put_selector(struct buf *b, const struct views_map *sel)
{
    enum zl_err rc = ZL_OK;
    for (size_t i = 0; i < sel->count && rc == ZL_OK; i++)
        rc = buf_printf(b, "%s%s=%s", i > 0 ? "," : "", sel->items[i].key,
                        sel->items[i].value);
    return rc;
}

/* One namespaced LIST (unpaged: one request, one deadline). */
static enum zl_err direct_list(struct lookup *lk,
                               const struct client_resource *res,
                               const char *ns, const char *label_selector,
                               struct listviews *l)
{
    if (atomic_fetch_add(&lk->inflight, 1) >= lk->max_inflight) {
        atomic_fetch_sub(&lk->inflight, 1);
        log_warn("lookup %s of %s: %d direct LISTs already running",
                 res->plural, ns, lk->max_inflight);
        return ZL_ERR_TRANSIENT;
    }
    struct client_response resp;
    client_response_init(&resp);
    struct client_list_options lo = {.label_selector = label_selector};
    enum zl_err rc = listviews_list(lk->direct, res, ns, &lo, 0, l, &resp);
    atomic_fetch_sub(&lk->inflight, 1);
    if (rc != ZL_OK)
        log_warn("lookup %s of %s from the API server: %s (HTTP %ld: %s)",
                 res->plural, ns, zl_err_str(rc), resp.http_code,
                 resp.status.message);
    client_response_cleanup(&resp);
    return rc;
}

/* ---- lookups ------------------------------------------------------------- */

struct match {
    const struct views_map *selector;
};

static bool keep_matching(void *ctx, const struct views_pod *pod)
{
    const struct match *m = ctx;
    return selector_matches(m->selector, &pod->meta.labels);
}

static enum zl_err pods_from_api(struct lookup *lk, const char *ns,
                                 const struct views_map *selector,
                                 struct views_pod ***out, size_t *count)
{
    struct buf sel;
    buf_init(&sel, SELECTOR_MAX);
    struct listviews l = {
        .kind = VIEWS_KIND_POD, .keep = keep_selected, .keep_ctx = selector};
    enum zl_err rc = put_selector(&sel, selector);
    if (rc == ZL_OK)
        rc = direct_list(lk, &CLIENT_PODS, ns, sel.data, &l);
    buf_cleanup(&sel);
    if (rc == ZL_OK) {
        void **items;
        listviews_take(&l, &items, count);
        void *block = items;
        *out = block;
    }
    return rc;
}

static enum zl_err pods_of(struct lookup *lk, bool may_block, const char *ns,
                           const struct views_map *selector,
                           struct views_pod ***out, size_t *count)
{
    *out = NULL;
    *count = 0;
    if (ns == NULL || ns[0] == '\0' || selector == NULL)
        return ZL_ERR_INVALID;
    int64_t t0 = clock_mono_ns();
    if (selector->count == 0) /* matches nothing: nothing to ask */
        return ZL_OK;
    if (!cache_usable(lk, lk->pods)) {
        if (!may_block)
            return ZL_ERR_WOULDBLOCK;
        enum zl_err rc = pods_from_api(lk, ns, selector, out, count);
        count_lookup(lk, "pods", SOURCE_API, rc, t0);
        return rc;
    }
    const struct views_pod **pods = NULL;
    struct match m = {selector};
    enum zl_err rc = store_select_pods(informer_store(lk->pods), ns,
                                       keep_matching, &m, &pods, count);
    /* The array is the caller's now, in the contract's type (the views
     * stay immutable: they are shared). */
    void *block = pods;
    *out = block;
    count_lookup(lk, "pods", SOURCE_CACHE, rc, t0);
    return rc;
}

static enum zl_err services_of(struct lookup *lk, bool may_block,
                               const char *ns, struct views_service ***out,
                               size_t *count)
{
    *out = NULL;
    *count = 0;
    if (ns == NULL || ns[0] == '\0')
        return ZL_ERR_INVALID;
    int64_t t0 = clock_mono_ns();
    if (!cache_usable(lk, lk->services)) {
        if (!may_block)
            return ZL_ERR_WOULDBLOCK;
        struct listviews l = {.kind = VIEWS_KIND_SERVICE};
        enum zl_err rc = direct_list(lk, &CLIENT_SERVICES, ns, NULL, &l);
        if (rc == ZL_OK) {
            void **items;
            listviews_take(&l, &items, count);
            void *block = items;
            *out = block;
        }
        count_lookup(lk, "services", SOURCE_API, rc, t0);
        return rc;
    }
    const struct views_service **svcs = NULL;
    enum zl_err rc =
        store_select_services(informer_store(lk->services), ns, &svcs, count);
    void *block = svcs;
    *out = block;
    count_lookup(lk, "services", SOURCE_CACHE, rc, t0);
    return rc;
}

enum zl_err lookup_pods(void *ctx, const char *ns,
                        const struct views_map *selector,
                        struct views_pod ***out, size_t *count)
{
    return pods_of(ctx, true, ns, selector, out, count);
}

enum zl_err lookup_services(void *ctx, const char *ns,
                            struct views_service ***out, size_t *count)
{
    return services_of(ctx, true, ns, out, count);
}

enum zl_err lookup_pods_cached(void *ctx, const char *ns,
                               const struct views_map *selector,
                               struct views_pod ***out, size_t *count)
{
    return pods_of(ctx, false, ns, selector, out, count);
}

enum zl_err lookup_services_cached(void *ctx, const char *ns,
                                   struct views_service ***out, size_t *count)
{
    return services_of(ctx, false, ns, out, count);
}

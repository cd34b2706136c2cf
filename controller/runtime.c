/* SPDX-License-Identifier: Apache-2.0 */
/* Wiring of the controller: clients, informers, mapping, workers, Lease. */
#include "controller/runtime.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "base/sync.h"
#include "controller/keymap.h"
#include "controller/mapping.h"
#include "controller/sweep.h"
#include "controller/telemetry.h"
#include "kube/client.h"
#include "kube/events.h"
#include "kube/informer.h"
#include "kube/kubeconfig.h"
#include "kube/lease.h"
#include "kube/workqueue.h"
#include "zenlead/render.h"

#define MAX_WORKERS 64
/* Keys of one round of pod events that the loop answers itself. */
#define URGENT_MAX 16
/* The loop's own failover writes: one attempt, soon given up (a worker
 * then retries with backoff), as the informers wait meanwhile. */
#define URGENT_TIMEOUT_MS 2000
#define URGENT_CONNECT_TIMEOUT_MS 1000
#define SLICE_SELECTOR RENDER_LABEL_SLICE_MANAGED_BY "=" RENDER_MANAGER

/* The informers of one namespace (or of all: ns NULL). */
struct scope {
    struct runtime *rt;
    char *ns;
    struct informer *services;
    struct informer *pods;
    struct informer *slices;
};

struct runtime {
    const struct options *opt;
    int notify_fd;
    char identity[LEASE_MAX_IDENTITY + 1];
    struct kube_config cfg;
    bool cfg_loaded;
    struct client *client;
    struct client *urgent_client; /* the loop's own writes, no retries */
    struct client *lease_client;
    struct client *events_client; /* own limiter: Events never delay writes */
    struct telemetry *tel;
    struct events_recorder *events;
    struct workqueue *queue;
    struct keymap *stamps, *warned, *managed;
    /* Loop thread only: "namespace/pod" -> how many managed slices route
     * to that pod now (the leaders), and the keys of Services whose leader
     * an event of this round changed, which the loop reconciles itself
     * before it reads anything more, rather than wait for a worker. */
    struct keymap *routed;
    char urgent[URGENT_MAX][MAPPING_MAX_KEY];
    size_t urgent_count;
    struct informer_loop *loop;
    struct scope *scopes;
    size_t scope_count;
    struct lease *lease;
    pthread_t workers[MAX_WORKERS];
    size_t worker_count;
    atomic_bool writing; /* workers started and not stopping */
    atomic_bool lost;    /* leadership lost */
    bool started;
    bool stopped;
};

/* ---- event mapping (informer loop thread) ------------------------------- */

static void enqueue(void *ctx, const char *key)
{
    struct runtime *rt = ctx;
    keymap_set_min(rt->stamps, key, clock_mono_ns());
    workqueue_add(rt->queue, key);
}

/* A Service whose leader pod changed: kept for the loop to answer at the
 * end of this round (run_urgent), not queued, so no worker woken by it
 * takes it first; queued when the round has too many. */
static void enqueue_urgent(void *ctx, const char *key)
{
    struct runtime *rt = ctx;
    keymap_set_min(rt->stamps, key, clock_mono_ns());
    for (size_t i = 0; i < rt->urgent_count; i++)
        if (strcmp(rt->urgent[i], key) == 0)
            return;
    if (rt->urgent_count < URGENT_MAX)
        snprintf(rt->urgent[rt->urgent_count++], MAPPING_MAX_KEY, "%s", key);
    else
        workqueue_add(rt->queue, key);
}

static struct store *service_store(struct scope *sc)
{
    return informer_store(sc->services);
}

static bool routed_to(struct runtime *rt, const struct views_pod *pod)
{
    char key[MAPPING_MAX_KEY];
    int64_t n = 0;
    return pod != NULL &&
           mapping_key(pod->meta.namespace_name, pod->meta.name, key) ==
               ZL_OK &&
           keymap_get(rt->routed, key, &n) && n > 0;
}

static void route_add(void *ctx, const char *pod_key)
{
    struct runtime *rt = ctx;
    int64_t n = 0;
    (void)keymap_get(rt->routed, pod_key, &n);
    if (keymap_set(rt->routed, pod_key, n + 1) != ZL_OK)
        log_warn("out of memory: %s may fail over through a worker", pod_key);
}

static void route_drop(void *ctx, const char *pod_key)
{
    struct runtime *rt = ctx;
    int64_t n = 0;
    if (!keymap_take(rt->routed, pod_key, &n) || n <= 1)
        return;
    (void)keymap_set(rt->routed, pod_key, n - 1);
}

static void on_pod(void *ctx, enum store_change change, const void *old_view,
                   const void *new_view)
{
    struct scope *sc = ctx;
    const struct views_pod *old_pod = views_pod_of(old_view);
    const struct views_pod *new_pod = views_pod_of(new_view);
    const struct views_pod *any = new_pod != NULL ? new_pod : old_pod;
    (void)change;
    if (!mapping_pod_relevant(old_pod, new_pod))
        return;
    const struct views_service **svcs = NULL;
    size_t n = 0;
    /* No order needed: every matching Service is queued. */
    if (store_select_services(service_store(sc), any->meta.namespace_name,
                              &svcs, &n) != ZL_OK)
        return;
    /* A change of a pod a leader slice routes to is a failover, or may be:
     * the loop answers it itself. */
    bool leader = routed_to(sc->rt, old_pod) || routed_to(sc->rt, new_pod);
    mapping_pod(old_pod, new_pod, svcs, n, leader ? enqueue_urgent : enqueue,
                sc->rt);
    store_release_services(svcs, n);
}

static void on_service(void *ctx, enum store_change change,
                       const void *old_view, const void *new_view)
{
    struct scope *sc = ctx;
    const struct views_service *svc =
        views_service_of(new_view != NULL ? new_view : old_view);
    (void)change;
    const struct views_service **svcs = NULL;
    size_t n = 0;
    if (store_select_services(service_store(sc), svc->meta.namespace_name,
                              &svcs, &n) != ZL_OK)
        return;
    mapping_service(svc, svcs, n, enqueue, sc->rt);
    store_release_services(svcs, n);
}

/* A managed slice maps to its source label; when that label is gone
 * (drift), through its owner, the leader Service. */
static void on_slice(void *ctx, enum store_change change, const void *old_view,
                     const void *new_view)
{
    struct scope *sc = ctx;
    const struct views_endpointslice *eps =
        views_endpointslice_of(new_view != NULL ? new_view : old_view);
    (void)change;
    if (old_view != NULL)
        mapping_slice_pods(views_endpointslice_of(old_view), route_drop,
                           sc->rt);
    if (new_view != NULL)
        mapping_slice_pods(views_endpointslice_of(new_view), route_add, sc->rt);
    if (mapping_slice(eps, enqueue, sc->rt) > 0 || !eps->has_owner ||
        eps->owner.name == NULL)
        return;
    const struct views_service *owner = store_get_service(
        service_store(sc), eps->meta.namespace_name, eps->owner.name);
    if (owner != NULL) {
        mapping_service(owner, NULL, 0, enqueue, sc->rt);
        store_release(service_store(sc), owner);
    }
}

/* ---- workers --------------------------------------------------------------
 */

static bool may_write(void *ctx)
{
    struct runtime *rt = ctx;
    if (!atomic_load(&rt->writing))
        return false;
    return rt->lease == NULL || lease_is_leader(rt->lease);
}

static struct scope *scope_of(struct runtime *rt, const char *key)
{
    for (size_t i = 0; i < rt->scope_count; i++) {
        struct scope *sc = &rt->scopes[i];
        size_t n = sc->ns != NULL ? strlen(sc->ns) : 0;
        if (sc->ns == NULL || (strncmp(key, sc->ns, n) == 0 && key[n] == '/'))
            return sc;
    }
    return NULL;
}

static void deps_for(struct runtime *rt, struct scope *sc,
                     struct client *client, struct reconcile_deps *d)
{
    *d = (struct reconcile_deps){
        .client = client,
        .services = informer_store(sc->services),
        .pods = informer_store(sc->pods),
        .slices = informer_store(sc->slices),
        .events = rt->events,
        .telemetry = rt->tel,
        .stamps = rt->stamps,
        .warned = rt->warned,
        .managed = rt->managed,
        .may_write = may_write,
        .may_write_ctx = rt,
        .slice_write = RUNTIME_SLICE_WRITE,
        .decision_log = stdout,
    };
}

static void process(struct runtime *rt, const char *key, struct client *client)
{
    struct scope *sc = scope_of(rt, key);
    if (sc == NULL)
        return;
    struct reconcile_deps d;
    struct reconcile_result res;
    deps_for(rt, sc, client, &d);
    int64_t t0 = clock_mono_ns();
    enum zl_err rc = reconcile_key(&d, key, &res);
    double secs = (double)(clock_mono_ns() - t0) / 1e9;
    if (rc == ZL_OK) {
        workqueue_forget(rt->queue, key);
        if (res.requeue_after_ns >= 0)
            workqueue_add_after(rt->queue, key, res.requeue_after_ns);
        telemetry_reconciled(rt->tel,
                             res.requeue_after_ns >= 0 ? "requeue" : "success",
                             NULL, secs);
    } else if (rc != ZL_ERR_CANCELLED) {
        log_printf(rc == ZL_ERR_CONFLICT || rc == ZL_ERR_EXISTS
                       ? LOG_LEVEL_DEBUG
                       : LOG_LEVEL_WARN,
                   "reconcile %s failed: %s; retrying with backoff", key,
                   zl_err_str(rc));
        telemetry_reconciled(rt->tel, "error", reconcile_error_type(rc), secs);
        telemetry_workqueue_retry(rt->tel);
        workqueue_add_rate_limited(rt->queue, key);
        /* The earliest instant wins: a timed rule, or soon again when no
         * API server answered, never a backoff grown over an outage. */
        if (res.requeue_after_ns >= 0)
            workqueue_add_after(rt->queue, key, res.requeue_after_ns);
        int64_t soon = reconcile_retry_soon_ns(rc, client_unreachable(client));
        if (soon >= 0)
            workqueue_add_after(rt->queue, key, soon);
    }
}

static void *worker_main(void *arg)
{
    struct runtime *rt = arg;
    const char *key = NULL;
    for (;;) {
        enum zl_err rc = workqueue_get(rt->queue, &key);
        if (rc == ZL_ERR_CANCELLED)
            break;
        if (rc != ZL_OK)
            continue;
        process(rt, key, rt->client);
        workqueue_done(rt->queue, key);
    }
    return NULL;
}

/* The loop's after hook: the Services whose leader pod changed in this
 * round are reconciled here and now, their writes riding the loop's
 * connection, instead of waking a worker which would hand its writes back
 * to the loop (two thread wake-ups on the failover path). A key a worker
 * is processing stays with it (marked to run again); a failure requeues
 * with backoff, for the workers. */
static void run_urgent(void *ctx)
{
    struct runtime *rt = ctx;
    size_t n = rt->urgent_count;
    rt->urgent_count = 0;
    if (n == 0)
        return;
    bool now = atomic_load(&rt->writing) && may_write(rt);
    /* The loop answers the first one; the others go to the workers first,
     * so a node's worth of failovers at once still runs in parallel. */
    for (size_t i = now ? 1 : 0; i < n; i++)
        workqueue_add(rt->queue, rt->urgent[i]);
    const char *key = NULL;
    /* False: a worker has it and runs it again (claim marked it). */
    if (!now || !workqueue_claim(rt->queue, rt->urgent[0], &key))
        return;
    process(rt, key, rt->urgent_client);
    workqueue_done(rt->queue, key);
}

/* Sweep keys carry no event stamp: no event showed anything. */
static void enqueue_plain(void *ctx, const char *key)
{
    struct runtime *rt = ctx;
    workqueue_add(rt->queue, key);
}

static void sweep(struct runtime *rt)
{
    size_t total = 0;
    for (size_t i = 0; i < rt->scope_count; i++) {
        size_t n = 0;
        struct scope *sc = &rt->scopes[i];
        sweep_keys(informer_store(sc->services), informer_store(sc->slices),
                   enqueue_plain, rt, &n);
        total += n;
    }
    log_info("sweep: %zu keys queued", total);
}

static enum zl_err start_workers(struct runtime *rt)
{
    atomic_store(&rt->writing, true);
    telemetry_set_is_leader(rt->tel, true);
    /* Stamps a standby gathered are no failover this replica can answer
     * for: latencies count from events seen while writing. */
    keymap_clear(rt->stamps);
    sweep(rt);
    size_t want = (size_t)rt->opt->workers;
    while (rt->worker_count < want && rt->worker_count < MAX_WORKERS) {
        if (pthread_create(&rt->workers[rt->worker_count], NULL, worker_main,
                           rt) != 0)
            return ZL_ERR_INTERNAL;
        rt->worker_count++;
    }
    log_info("writing: %zu workers started", rt->worker_count);
    return ZL_OK;
}

/* ---- the Lease --------------------------------------------------------------
 */

static void notify(struct runtime *rt)
{
    char c = 1;
    ssize_t n = write(rt->notify_fd, &c, 1);
    (void)n;
}

static void on_started_leading(void *ctx)
{
    struct runtime *rt = ctx;
    log_info("became the leader (Lease held by %s)", rt->identity);
    notify(rt);
}

static void on_stopped_leading(void *ctx)
{
    struct runtime *rt = ctx;
    atomic_store(&rt->lost, true);
    telemetry_set_is_leader(rt->tel, false);
    notify(rt);
}

static void on_new_leader(void *ctx, const char *identity)
{
    struct runtime *rt = ctx;
    if (strcmp(identity, rt->identity) != 0)
        log_info("Lease held by %s", identity[0] != '\0' ? identity : "nobody");
}

static const char *lease_namespace(const struct runtime *rt)
{
    if (rt->opt->leader_election_namespace != NULL)
        return rt->opt->leader_election_namespace;
    if (rt->cfg.namespace_name != NULL && rt->cfg.source != NULL &&
        strcmp(rt->cfg.source, "in-cluster") == 0)
        return rt->cfg.namespace_name;
    return RUNTIME_DEFAULT_LEASE_NAMESPACE;
}

static enum zl_err make_lease(struct runtime *rt)
{
    const struct options *o = rt->opt;
    struct client_options co = {
        .timeout_ms = (long)(o->renew_deadline / 2000000),
        .max_retries = 1,
        .user_agent = RUNTIME_COMPONENT "/lease",
    };
    enum zl_err rc = client_new(&rt->cfg, &co, &rt->lease_client);
    if (rc != ZL_OK)
        return rc;
    struct lease_options lo = {
        .lease_namespace = lease_namespace(rt),
        .name = o->leader_election_id,
        .identity = rt->identity,
        .duration_ms = (long)(o->lease_duration / 1000000),
        .renew_deadline_ms = (long)(o->renew_deadline / 1000000),
        .retry_period_ms = (long)(o->retry_period / 1000000),
        .cb = {on_started_leading, on_stopped_leading, on_new_leader, rt},
    };
    log_info("leader election on Lease %s/%s as %s", lo.lease_namespace,
             lo.name, rt->identity);
    return lease_new(rt->lease_client, &lo, &rt->lease);
}

/* ---- building ---------------------------------------------------------------
 */

static void make_identity(struct runtime *rt)
{
    char host[128] = "unknown";
    const char *pod = getenv("POD_NAME");
    if (gethostname(host, sizeof(host) - 1) != 0)
        snprintf(host, sizeof(host), "unknown");
    snprintf(rt->identity, sizeof(rt->identity), "%s_%ld",
             pod != NULL && pod[0] != '\0' ? pod : host, (long)getpid());
}

static enum zl_err make_informer(struct runtime *rt, struct scope *sc,
                                 const struct client_resource *res,
                                 enum views_kind kind, const char *selector,
                                 informer_handler_fn fn, struct informer **out)
{
    struct informer_options io = {
        .resource = res,
        .kind = kind,
        .namespace_name = sc->ns,
        .label_selector = selector,
        .handler = fn,
        .handler_ctx = sc,
    };
    return informer_new(rt->loop, rt->client, &io, out);
}

static enum zl_err make_scope(struct runtime *rt, struct scope *sc,
                              const char *ns)
{
    sc->rt = rt;
    if (ns != NULL && (sc->ns = strdup(ns)) == NULL)
        return ZL_ERR_NOMEM;
    enum zl_err rc = make_informer(rt, sc, &CLIENT_SERVICES, VIEWS_KIND_SERVICE,
                                   NULL, on_service, &sc->services);
    if (rc == ZL_OK)
        rc = make_informer(rt, sc, &CLIENT_PODS, VIEWS_KIND_POD, NULL, on_pod,
                           &sc->pods);
    if (rc == ZL_OK)
        rc = make_informer(rt, sc, &CLIENT_ENDPOINTSLICES,
                           VIEWS_KIND_ENDPOINTSLICE, SLICE_SELECTOR, on_slice,
                           &sc->slices);
    return rc;
}

static enum zl_err make_scopes(struct runtime *rt)
{
    const struct config_list *nss = &rt->opt->namespaces;
    size_t n = nss->count > 0 ? nss->count : 1;
    rt->scopes = calloc(n, sizeof(*rt->scopes));
    if (rt->scopes == NULL)
        return ZL_ERR_NOMEM;
    rt->scope_count = n;
    enum zl_err rc = ZL_OK;
    for (size_t i = 0; rc == ZL_OK && i < n; i++)
        rc = make_scope(rt, &rt->scopes[i],
                        nss->count > 0 ? nss->items[i] : NULL);
    return rc;
}

static enum zl_err load_config(struct runtime *rt)
{
    struct kubeconfig_error kerr = {{0}};
    enum zl_err rc =
        kubeconfig_resolve(rt->opt->common.kubeconfig, NULL, &rt->cfg, &kerr);
    if (rc != ZL_OK) {
        log_error("kubeconfig: %s", kerr.text);
        return rc;
    }
    rt->cfg_loaded = true;
    log_info("API server %s (%s)", rt->cfg.server, rt->cfg.source);
    return ZL_OK;
}

/* The Events get a client of their own, with its own --qps/--burst budget
 * (as client-go's event broadcaster rate-limits Events apart from the
 * controller's writes): a burst of Events after convergence must never make
 * a failover's slice write wait for a limiter token. */
static enum zl_err make_clients(struct runtime *rt, const char *version)
{
    struct client_options co = {
        .qps = (double)rt->opt->qps,
        .burst = (int)rt->opt->burst,
        .user_agent = RUNTIME_COMPONENT,
        .observe = telemetry_observe_api,
        .observe_ctx = rt->tel,
    };
    (void)version;
    enum zl_err rc = client_new(&rt->cfg, &co, &rt->client);
    struct client_options uo = co;
    uo.timeout_ms = URGENT_TIMEOUT_MS;
    uo.connect_timeout_ms = URGENT_CONNECT_TIMEOUT_MS;
    uo.max_retries = -1;
    if (rc == ZL_OK)
        rc = client_new(&rt->cfg, &uo, &rt->urgent_client);
    co.user_agent = RUNTIME_COMPONENT "/events";
    if (rc == ZL_OK)
        rc = client_new(&rt->cfg, &co, &rt->events_client);
    struct events_options eo = {
        .source = {RUNTIME_COMPONENT, NULL, rt->identity},
    };
    if (rc == ZL_OK)
        rc = events_recorder_new(rt->events_client, &eo, &rt->events);
    return rc;
}

static enum zl_err make_all(struct runtime *rt, const char *version)
{
    enum zl_err rc = telemetry_new(version, ZL_COMMIT, &rt->tel);
    if (rc == ZL_OK)
        rc = load_config(rt);
    if (rc == ZL_OK)
        rc = make_clients(rt, version);
    if (rc == ZL_OK)
        rc = workqueue_new(NULL, &rt->queue);
    if (rc == ZL_OK)
        rc = keymap_new(&rt->stamps);
    if (rc == ZL_OK)
        rc = keymap_new(&rt->warned);
    if (rc == ZL_OK)
        rc = keymap_new(&rt->managed);
    if (rc == ZL_OK)
        rc = keymap_new(&rt->routed);
    if (rc == ZL_OK)
        rc = informer_loop_new(&rt->loop);
    if (rc == ZL_OK)
        informer_loop_set_after(rt->loop, run_urgent, rt);
    if (rc == ZL_OK)
        rc = make_scopes(rt);
    if (rc == ZL_OK && rt->opt->leader_elect)
        rc = make_lease(rt);
    return rc;
}

enum zl_err runtime_new(const struct options *opt, const char *version,
                        int notify_fd, struct runtime **out)
{
    struct runtime *rt = calloc(1, sizeof(*rt));
    if (rt == NULL)
        return ZL_ERR_NOMEM;
    rt->opt = opt;
    rt->notify_fd = notify_fd;
    make_identity(rt);
    enum zl_err rc = make_all(rt, version);
    if (rc != ZL_OK) {
        log_error("start-up failed: %s", zl_err_str(rc));
        runtime_free(rt);
        return rc;
    }
    *out = rt;
    return ZL_OK;
}

/* ---- running --------------------------------------------------------------
 */

enum zl_err runtime_start(struct runtime *rt)
{
    enum zl_err rc = informer_loop_start(rt->loop);
    if (rc != ZL_OK)
        return rc;
    rt->started = true;
    /* The writes ride the watches' connection, which never goes idle: the
     * first failover after a quiet spell needs no new handshake. The
     * Lease and the Events keep their own connections, so neither waits
     * behind the loop. */
    rc = informer_loop_carry(rt->loop, rt->client);
    if (rc == ZL_OK)
        rc = informer_loop_carry(rt->loop, rt->urgent_client);
    if (rc != ZL_OK)
        return rc;
    telemetry_set_is_leader(rt->tel, false);
    if (rt->lease != NULL)
        return lease_start(rt->lease);
    return ZL_OK;
}

bool runtime_ready(struct runtime *rt)
{
    for (size_t i = 0; i < rt->scope_count; i++) {
        struct scope *sc = &rt->scopes[i];
        if (!informer_has_synced(sc->services) ||
            !informer_has_synced(sc->pods) || !informer_has_synced(sc->slices))
            return false;
    }
    return rt->scope_count > 0;
}

enum zl_err runtime_step(struct runtime *rt)
{
    if (atomic_load(&rt->lost)) {
        atomic_store(&rt->writing, false);
        return ZL_ERR_CANCELLED;
    }
    if (rt->stopped || atomic_load(&rt->writing) || !runtime_ready(rt))
        return ZL_OK;
    if (rt->lease != NULL && !lease_is_leader(rt->lease))
        return ZL_OK;
    return start_workers(rt);
}

enum zl_err runtime_metrics(struct runtime *rt, struct buf *out)
{
    struct informer *infs[TELEMETRY_MAX_INFORMERS] = {0};
    size_t n = 0;
    for (size_t i = 0; i < rt->scope_count && n + 3 <= TELEMETRY_MAX_INFORMERS;
         i++) {
        infs[n++] = rt->scopes[i].services;
        infs[n++] = rt->scopes[i].pods;
        infs[n++] = rt->scopes[i].slices;
    }
    telemetry_refresh(rt->tel, infs, n, rt->queue);
    return telemetry_render(rt->tel, out);
}

void runtime_stop(struct runtime *rt)
{
    if (rt == NULL || rt->stopped)
        return;
    rt->stopped = true;
    if (rt->queue != NULL)
        workqueue_shutdown_with_drain(rt->queue);
    for (size_t i = 0; i < rt->worker_count; i++)
        pthread_join(rt->workers[i], NULL);
    rt->worker_count = 0;
    atomic_store(&rt->writing, false);
    if (rt->lease != NULL)
        lease_stop(rt->lease); /* releases the Lease when held */
    if (rt->loop != NULL)
        informer_loop_stop(rt->loop);
    if (rt->events != NULL && events_flush(rt->events, 2000) != ZL_OK)
        log_warn("some Events were not written before shutdown");
    log_info("stopped");
}

void runtime_free(struct runtime *rt)
{
    if (rt == NULL)
        return;
    runtime_stop(rt);
    lease_free(rt->lease);
    for (size_t i = 0; i < rt->scope_count; i++) {
        informer_free(rt->scopes[i].services);
        informer_free(rt->scopes[i].pods);
        informer_free(rt->scopes[i].slices);
        free(rt->scopes[i].ns);
    }
    free(rt->scopes);
    informer_loop_free(rt->loop);
    events_recorder_free(rt->events);
    workqueue_free(rt->queue);
    keymap_free(rt->stamps);
    keymap_free(rt->warned);
    keymap_free(rt->managed);
    keymap_free(rt->routed);
    client_free(rt->client);
    client_free(rt->urgent_client);
    client_free(rt->events_client);
    client_free(rt->lease_client);
    if (rt->cfg_loaded)
        kubeconfig_cleanup(&rt->cfg);
    telemetry_free(rt->tel);
    free(rt);
}

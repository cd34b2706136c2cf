/* SPDX-License-Identifier: Apache-2.0 */
/* The webhook's lookups against a real API server (run by
 * tests/integration/run), as zen-lead-webhook with the RBAC of deploy/rbac:
 * answers from the API server before the caches start, the same answers
 * from the caches once synced (and following changes through the watch),
 * the fallback while a cache is out of step, refusal without the RBAC, and
 * the bound on a server that never answers. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "kube/client.h"
#include "kube/kubeconfig.h"
#include "webhook/lookup.h"

#define TIMEOUT_MS 2000

struct it {
    struct kube_config cfg;    /* admin: sets the scene */
    struct kube_config wh_cfg; /* zen-lead-webhook: looks up */
    struct client *c;
    char ns[64];
};

static void load_env_config(const char *var, struct kube_config *out)
{
    struct kubeconfig_error err;
    const char *path = getenv(var);
    cr_assert(path != NULL && path[0] != '\0',
              "%s is not set (run via tests/integration/run)", var);
    cr_assert_eq(kubeconfig_load_file(path, NULL, out, &err), ZL_OK, "%s",
                 err.text);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int64_t now_ms(void)
{
    return clock_mono_ns() / CLOCK_NS_PER_MS;
}

static void create(struct it *t, const struct client_resource *r,
                   const char *json)
{
    struct client_response resp;
    client_response_init(&resp);
    cr_assert_eq(client_create(t->c, r, t->ns, json, &resp), ZL_OK,
                 "create %s: %ld %s", r->plural, resp.http_code,
                 resp.status.message);
    client_response_cleanup(&resp);
}

static void create_pod(struct it *t, const char *name, const char *labels)
{
    char body[512];
    snprintf(body, sizeof(body),
             "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{"
             "\"name\":\"%s\",\"labels\":{%s}},\"spec\":{\"containers\":[{"
             "\"name\":\"c\",\"image\":\"zl/none\",\"ports\":[{\"name\":"
             "\"http\",\"containerPort\":8080}]}]}}",
             name, labels);
    create(t, &CLIENT_PODS, body);
}

static void create_service(struct it *t, const char *name)
{
    char body[512];
    snprintf(body, sizeof(body),
             "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{"
             "\"name\":\"%s\"},\"spec\":{\"selector\":{\"app\":\"web\"},"
             "\"ports\":[{\"port\":80,\"targetPort\":\"http\"}]}}",
             name);
    create(t, &CLIENT_SERVICES, body);
}

static void delete_pod(struct it *t, const char *name)
{
    struct client_response resp;
    client_response_init(&resp);
    struct client_delete_options o = {.grace_period_seconds = 0};
    cr_assert_eq(client_delete(t->c, &CLIENT_PODS, t->ns, name, &o, &resp),
                 ZL_OK, "delete pod %s: %ld", name, resp.http_code);
    client_response_cleanup(&resp);
}

/* A namespace with pods web-0, web-1 (app=web), db-0 (app=db) and the
 * Services front and back. */
static void it_open(struct it *t, const char *prefix)
{
    memset(t, 0, sizeof(*t));
    log_configure(LOG_LEVEL_ERROR, LOG_FORMAT_TEXT, stderr);
    load_env_config("KUBECONFIG", &t->cfg);
    load_env_config("ZL_IT_WEBHOOK_KUBECONFIG", &t->wh_cfg);
    struct client_options opt = {.qps = 0};
    cr_assert_eq(client_new(&t->cfg, &opt, &t->c), ZL_OK);
    snprintf(t->ns, sizeof(t->ns), "%s-%d-%lld", prefix, (int)getpid(),
             (long long)(now_ms() % 100000));
    char body[256];
    snprintf(body, sizeof(body),
             "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\","
             "\"metadata\":{\"name\":\"%s\"}}",
             t->ns);
    struct client_response r;
    client_response_init(&r);
    cr_assert_eq(client_create(t->c, &CLIENT_NAMESPACES, NULL, body, &r), ZL_OK,
                 "create namespace: %ld %s", r.http_code, r.status.message);
    client_response_cleanup(&r);
    create_pod(t, "web-0", "\"app\":\"web\",\"tier\":\"front\"");
    create_pod(t, "web-1", "\"app\":\"web\"");
    create_pod(t, "db-0", "\"app\":\"db\"");
    create_service(t, "front");
    create_service(t, "back");
}

static void it_close(struct it *t)
{
    struct client_response r;
    client_response_init(&r);
    client_delete(t->c, &CLIENT_NAMESPACES, NULL, t->ns, NULL, &r);
    client_response_cleanup(&r);
    client_free(t->c);
    kubeconfig_cleanup(&t->cfg);
    kubeconfig_cleanup(&t->wh_cfg);
}

static struct lookup *new_lookup(struct kube_config *cfg, long stale_max_ms)
{
    struct lookup *lk = NULL;
    struct lookup_options o = {.cfg = cfg,
                               .qps = 50,
                               .burst = 100,
                               .timeout_ms = TIMEOUT_MS,
                               .stale_max_ms = stale_max_ms};
    cr_assert_eq(lookup_new(&o, &lk), ZL_OK);
    return lk;
}

static struct views_kv web_kv = {"app", "web"};
static const struct views_map web = {&web_kv, 1};

static int by_name(const void *a, const void *b)
{
    const char *x = (*(struct views_pod *const *)a)->meta.name;
    const char *y = (*(struct views_pod *const *)b)->meta.name;
    return strcmp(x, y);
}

/* The app=web pods of ns as "a,b,c", sorted by name. */
static enum zl_err pod_names(struct lookup *lk, const char *ns, char *out,
                             size_t out_len)
{
    struct views_pod **pods = NULL;
    size_t n = 0;
    out[0] = '\0';
    enum zl_err rc = lookup_pods(lk, ns, &web, &pods, &n);
    if (rc != ZL_OK)
        return rc;
    if (n > 0)
        qsort(pods, n, sizeof(*pods), by_name);
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        used += (size_t)snprintf(out + used, out_len - used, "%s%s",
                                 i > 0 ? "," : "", pods[i]->meta.name);
        cr_expect_str_eq(pods[i]->meta.namespace_name, ns);
        cr_expect_eq(pods[i]->port_count, 1, "the view has its ports");
        views_release(pods[i]);
    }
    free(pods);
    return ZL_OK;
}

/* How many Services ns has; each must be one of it_open's when ours. */
static size_t service_count(struct lookup *lk, const char *ns, bool ours)
{
    struct views_service **svcs = NULL;
    size_t n = 0;
    cr_assert_eq(lookup_services(lk, ns, &svcs, &n), ZL_OK);
    for (size_t i = 0; i < n; i++) {
        cr_expect_str_eq(svcs[i]->meta.namespace_name, ns);
        if (ours) {
            cr_expect(svcs[i]->has_selector);
            cr_expect_str_eq(svcs[i]->ports[0].target_port_name, "http");
        }
        views_release(svcs[i]);
    }
    free(svcs);
    return n;
}

static void wait_synced(struct lookup *lk)
{
    int64_t t0 = now_ms();
    while (!lookup_synced(lk) && now_ms() - t0 < 30000)
        sleep_ms(20);
    cr_assert(lookup_synced(lk), "caches synced within 30 s");
    cr_log_info("caches synced in %lld ms", (long long)(now_ms() - t0));
}

Test(lookup_it, answers_from_the_api_server_before_the_caches_start)
{
    struct it t;
    it_open(&t, "zl-lookup-api");
    struct lookup *lk = new_lookup(&t.wh_cfg, 0);
    char names[256];
    cr_assert_eq(pod_names(lk, t.ns, names, sizeof(names)), ZL_OK);
    cr_expect_str_eq(names, "web-0,web-1", "only app=web");
    cr_expect_eq(service_count(lk, t.ns, true), 2);
    cr_expect_eq(service_count(lk, "default", false), 1,
                 "the kubernetes Service");
    struct lookup_stats st;
    lookup_get_stats(lk, &st);
    cr_expect_eq(st.fallbacks, 3);
    cr_expect_eq(st.fallback_failures, 0);
    cr_expect_eq(st.cache_hits, 0);
    cr_expect_not(lookup_synced(lk));
    lookup_free(lk);
    it_close(&t);
}

Test(lookup_it, answers_from_the_caches_once_synced_and_follows_changes)
{
    struct it t;
    it_open(&t, "zl-lookup-cache");
    struct lookup *lk = new_lookup(&t.wh_cfg, 0);
    cr_assert_eq(lookup_start(lk), ZL_OK);
    wait_synced(lk);
    cr_expect(lookup_healthy(lk));
    struct lookup_stats before, after;
    lookup_get_stats(lk, &before);
    char names[256];
    int64_t t0 = clock_mono_ns();
    cr_assert_eq(pod_names(lk, t.ns, names, sizeof(names)), ZL_OK);
    cr_log_info("cached pod lookup: %lld us",
                (long long)((clock_mono_ns() - t0) / 1000));
    cr_expect_str_eq(names, "web-0,web-1");
    cr_expect_eq(service_count(lk, t.ns, true), 2);
    lookup_get_stats(lk, &after);
    cr_expect_eq(after.fallbacks, before.fallbacks, "no request");
    cr_expect_eq(after.cache_hits, before.cache_hits + 2);
    /* The cache-only variants (the I/O thread's) answer the same. */
    struct views_pod **pods = NULL;
    struct views_service **svcs = NULL;
    size_t np = 0, ns = 0;
    cr_expect_eq(lookup_pods_cached(lk, t.ns, &web, &pods, &np), ZL_OK);
    cr_expect_eq(lookup_services_cached(lk, t.ns, &svcs, &ns), ZL_OK);
    cr_expect_eq(np, 2);
    cr_expect_eq(ns, 2);
    for (size_t i = 0; i < np; i++)
        views_release(pods[i]);
    for (size_t i = 0; i < ns; i++)
        views_release(svcs[i]);
    free(pods);
    free(svcs);

    /* Changes arrive through the watch. */
    create_pod(&t, "web-2", "\"app\":\"web\"");
    delete_pod(&t, "web-0");
    int64_t t1 = now_ms();
    while (now_ms() - t1 < 10000) {
        cr_assert_eq(pod_names(lk, t.ns, names, sizeof(names)), ZL_OK);
        if (strcmp(names, "web-1,web-2") == 0)
            break;
        sleep_ms(20);
    }
    cr_expect_str_eq(names, "web-1,web-2", "the cache followed the watch");
    cr_log_info("watch delivered the changes in %lld ms",
                (long long)(now_ms() - t1));

    /* The API server's answer is the same. */
    struct lookup *direct = new_lookup(&t.wh_cfg, 0);
    char direct_names[256];
    cr_assert_eq(pod_names(direct, t.ns, direct_names, sizeof(direct_names)),
                 ZL_OK);
    cr_expect_str_eq(direct_names, names);
    lookup_free(direct);
    lookup_free(lk);
    it_close(&t);
}

Test(lookup_it, falls_back_while_a_cache_is_out_of_step)
{
    struct it t;
    it_open(&t, "zl-lookup-stale");
    struct lookup *lk = new_lookup(&t.wh_cfg, 200);
    cr_assert_eq(lookup_start(lk), ZL_OK);
    wait_synced(lk);
    lookup_test_pause(lk, true);
    int64_t t0 = now_ms();
    while (lookup_healthy(lk) && now_ms() - t0 < 5000)
        sleep_ms(20);
    cr_assert_not(lookup_healthy(lk), "paused caches fall out of step");
    cr_expect(lookup_synced(lk), "still synced: the data is there");
    struct views_pod **cached = NULL;
    size_t nc = 0;
    cr_expect_eq(lookup_pods_cached(lk, t.ns, &web, &cached, &nc),
                 ZL_ERR_WOULDBLOCK,
                 "an out-of-step cache is not answered from");
    cr_expect_null(cached);

    /* A pod the paused cache cannot know of: the fallback sees it. */
    create_pod(&t, "web-9", "\"app\":\"web\"");
    struct lookup_stats before, after;
    lookup_get_stats(lk, &before);
    char names[256];
    cr_assert_eq(pod_names(lk, t.ns, names, sizeof(names)), ZL_OK);
    cr_expect_str_eq(names, "web-0,web-1,web-9");
    cr_expect_eq(service_count(lk, t.ns, true), 2);
    lookup_get_stats(lk, &after);
    cr_expect_eq(after.fallbacks, before.fallbacks + 2);
    cr_expect_eq(after.cache_hits, before.cache_hits);

    /* Resumed: the watch catches up (web-9 is an event) and the cache is
     * trusted again. */
    lookup_test_pause(lk, false);
    t0 = now_ms();
    while (!lookup_healthy(lk) && now_ms() - t0 < 15000)
        sleep_ms(20);
    cr_assert(lookup_healthy(lk), "healthy again after resume");
    cr_log_info("in step again %lld ms after resume",
                (long long)(now_ms() - t0));
    lookup_get_stats(lk, &before);
    cr_assert_eq(pod_names(lk, t.ns, names, sizeof(names)), ZL_OK);
    cr_expect_str_eq(names, "web-0,web-1,web-9");
    lookup_get_stats(lk, &after);
    cr_expect_eq(after.cache_hits, before.cache_hits + 1);
    lookup_free(lk);
    it_close(&t);
}

Test(lookup_it, an_identity_without_the_rbac_is_forbidden)
{
    struct it t;
    it_open(&t, "zl-lookup-rbac");
    struct kube_config nobody;
    memset(&nobody, 0, sizeof(nobody));
    load_env_config("ZL_IT_SA_KUBECONFIG", &nobody);
    struct lookup *lk = new_lookup(&nobody, 0);
    char names[256];
    cr_expect_eq(pod_names(lk, t.ns, names, sizeof(names)), ZL_ERR_FORBIDDEN);
    struct views_service **svcs = NULL;
    size_t n = 0;
    cr_expect_eq(lookup_services(lk, t.ns, &svcs, &n), ZL_ERR_FORBIDDEN);
    cr_expect_null(svcs);
    lookup_free(lk);
    kubeconfig_cleanup(&nobody);
    it_close(&t);
}

/* A listening socket that never accepts: the kernel completes the TCP
 * handshake, nobody answers the TLS ClientHello. */
static int black_hole(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    cr_assert_eq(listen(fd, 16), 0);
    cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

/* One pods lookup: fails with want; returns the time it took. */
static int64_t timed_pods(struct lookup *lk, enum zl_err want)
{
    struct views_pod **pods = NULL;
    size_t n = 0;
    int64_t t0 = now_ms();
    enum zl_err rc = lookup_pods(lk, "ns", &web, &pods, &n);
    int64_t ms = now_ms() - t0;
    cr_expect_eq(rc, want, "pods: %s", zl_err_str(rc));
    cr_expect_null(pods);
    return ms;
}

static int64_t timed_services(struct lookup *lk, enum zl_err want)
{
    struct views_service **svcs = NULL;
    size_t n = 0;
    int64_t t0 = now_ms();
    enum zl_err rc = lookup_services(lk, "ns", &svcs, &n);
    int64_t ms = now_ms() - t0;
    cr_expect_eq(rc, want, "services: %s", zl_err_str(rc));
    cr_expect_null(svcs);
    return ms;
}

/* Lookups against server fail with want within timeout_ms (a timeout not
 * much sooner). The first request of a client is not measured: it also
 * sets up the connection pool and TLS context, which takes a second or
 * more under valgrind (milliseconds natively). */
static void expect_bounded(const char *server, long timeout_ms,
                           enum zl_err want)
{
    struct kube_config cfg = {.server = strdup(server),
                              .insecure_skip_tls_verify = true};
    struct lookup *lk = NULL;
    struct lookup_options o = {.cfg = &cfg, .timeout_ms = timeout_ms};
    cr_assert_eq(lookup_new(&o, &lk), ZL_OK);
    int64_t first_ms = timed_services(lk, want);
    int64_t pods_ms = timed_pods(lk, want);
    int64_t svcs_ms = timed_services(lk, want);
    cr_log_info("%s: %s after %lld, %lld and %lld ms (bound %ld ms)", server,
                zl_err_str(want), (long long)first_ms, (long long)pods_ms,
                (long long)svcs_ms, timeout_ms);
    cr_expect_leq(pods_ms, timeout_ms + 250);
    cr_expect_leq(svcs_ms, timeout_ms + 250);
    if (want == ZL_ERR_TIMEOUT) {
        cr_expect_geq(pods_ms, timeout_ms - 50, "it did wait for an answer");
        cr_expect_geq(svcs_ms, timeout_ms - 50, "it did wait for an answer");
    }
    struct lookup_stats st;
    lookup_get_stats(lk, &st);
    cr_expect_eq(st.fallbacks, 3);
    cr_expect_eq(st.fallback_failures, 3);
    lookup_free(lk);
    kubeconfig_cleanup(&cfg);
}

Test(lookup_it, a_server_that_never_answers_times_out_within_the_bound)
{
    int port = 0;
    int fd = black_hole(&port);
    char server[64];
    snprintf(server, sizeof(server), "https://127.0.0.1:%d", port);
    expect_bounded(server, 500, ZL_ERR_TIMEOUT);
    expect_bounded(server, 1500, ZL_ERR_TIMEOUT);
    close(fd);
    /* Now closed: refused at once. */
    expect_bounded(server, 1500, ZL_ERR_TRANSIENT);
}

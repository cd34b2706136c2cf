/* SPDX-License-Identifier: Apache-2.0 */
/* The lookups' contract without an API server: option checks, state
 * before start, answers that need no request, the failure codes and
 * counters when the server cannot be reached (a closed loopback port, a
 * listener that never answers), the bound on LISTs at once, and the metric
 * families. Cache and fallback answers against a real API
 * server are in tests/integration/lookup_it.c. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/metrics.h"
#include "kube/kubeconfig.h"
#include "webhook/lookup.h"

static struct kube_config cfg;
static struct lookup *lk;
static struct metrics_registry *reg;

/* A loopback port nothing listens on: bound, then closed. */
static int closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static void setup(void)
{
    char server[64];
    log_configure(LOG_LEVEL_ERROR, LOG_FORMAT_TEXT, stderr);
    snprintf(server, sizeof(server), "https://127.0.0.1:%d", closed_port());
    memset(&cfg, 0, sizeof(cfg));
    cfg.server = strdup(server);
    cfg.insecure_skip_tls_verify = true;
    cr_assert_eq(metrics_registry_new(&reg), ZL_OK);
    struct lookup_options o = {.cfg = &cfg, .timeout_ms = 1000, .metrics = reg};
    cr_assert_eq(lookup_new(&o, &lk), ZL_OK);
}

static void teardown(void)
{
    lookup_free(lk);
    lk = NULL;
    metrics_registry_free(reg);
    kubeconfig_cleanup(&cfg);
}

TestSuite(lookup, .init = setup, .fini = teardown);

Test(lookup, rejects_bad_options)
{
    static const long timeouts[] = {0, -1};
    struct lookup *other = (struct lookup *)&cfg; /* must be reset */
    cr_expect_eq(lookup_new(NULL, &other), ZL_ERR_INVALID);
    cr_expect_null(other);
    struct lookup_options o = {.timeout_ms = 100};
    cr_expect_eq(lookup_new(&o, &other), ZL_ERR_INVALID, "no cfg");
    for (size_t i = 0; i < sizeof(timeouts) / sizeof(*timeouts); i++) {
        o = (struct lookup_options){.cfg = &cfg, .timeout_ms = timeouts[i]};
        cr_expect_eq(lookup_new(&o, &other), ZL_ERR_INVALID, "timeout %ld",
                     timeouts[i]);
        cr_expect_null(other);
    }
    o = (struct lookup_options){.cfg = &cfg, .timeout_ms = 100, .metrics = reg};
    cr_expect_eq(lookup_new(&o, &other), ZL_ERR_EXISTS,
                 "the metric names are taken in reg");
    cr_expect_null(other);
}

Test(lookup, not_started_is_neither_synced_nor_healthy)
{
    cr_expect_not(lookup_synced(lk));
    cr_expect_not(lookup_healthy(lk));
    struct lookup_stats st;
    lookup_get_stats(lk, &st);
    cr_expect_eq(st.cache_hits + st.fallbacks + st.fallback_failures, 0);
}

Test(lookup, bad_arguments_are_invalid)
{
    struct views_kv kv = {"app", "web"};
    struct views_map sel = {&kv, 1};
    struct views_pod **pods = (struct views_pod **)&cfg;
    struct views_service **svcs = (struct views_service **)&cfg;
    size_t n = 7;
    static const char *const bad_ns[] = {NULL, ""};
    for (size_t i = 0; i < 2; i++) {
        cr_expect_eq(lookup_pods(lk, bad_ns[i], &sel, &pods, &n),
                     ZL_ERR_INVALID);
        cr_expect_null(pods);
        cr_expect_eq(n, 0);
        cr_expect_eq(lookup_services(lk, bad_ns[i], &svcs, &n), ZL_ERR_INVALID);
        cr_expect_null(svcs);
    }
    cr_expect_eq(lookup_pods(lk, "ns", NULL, &pods, &n), ZL_ERR_INVALID);
}

Test(lookup, empty_selector_matches_none_without_asking)
{
    struct views_map empty = {NULL, 0};
    struct views_pod **pods = NULL;
    size_t n = 3;
    cr_expect_eq(lookup_pods(lk, "ns", &empty, &pods, &n), ZL_OK,
                 "the server is unreachable: no request was made");
    cr_expect_eq(n, 0);
    cr_expect_null(pods);
    struct lookup_stats st;
    lookup_get_stats(lk, &st);
    cr_expect_eq(st.fallbacks, 0);
}

Test(lookup, unreachable_server_fails_fast_and_counts)
{
    struct views_kv kv = {"app", "web"};
    struct views_map sel = {&kv, 1};
    struct views_pod **pods = NULL;
    struct views_service **svcs = NULL;
    size_t n = 0;
    int64_t t0 = clock_mono_ns();
    enum zl_err rc = lookup_pods(lk, "ns", &sel, &pods, &n);
    cr_expect(rc == ZL_ERR_TRANSIENT || rc == ZL_ERR_IO || rc == ZL_ERR_TIMEOUT,
              "%s", zl_err_str(rc));
    cr_expect_null(pods);
    rc = lookup_services(lk, "ns", &svcs, &n);
    cr_expect(rc == ZL_ERR_TRANSIENT || rc == ZL_ERR_IO || rc == ZL_ERR_TIMEOUT,
              "%s", zl_err_str(rc));
    cr_expect_null(svcs);
    int64_t ms = (clock_mono_ns() - t0) / CLOCK_NS_PER_MS;
    cr_expect_lt(ms, 2000, "two lookups within their 1 s bounds: %lld ms",
                 (long long)ms);
    struct lookup_stats st;
    lookup_get_stats(lk, &st);
    cr_expect_eq(st.fallbacks, 2);
    cr_expect_eq(st.fallback_failures, 2);
    cr_expect_eq(st.cache_hits, 0);

    struct buf text;
    buf_init(&text, 1 << 20);
    cr_assert_eq(metrics_render(reg, &text), ZL_OK);
    cr_expect(strstr(text.data, "zen_lead_webhook_lookups_total{resource="
                                "\"pods\",source=\"api\"} 1") != NULL,
              "%s", text.data);
    cr_expect(strstr(text.data, "zen_lead_webhook_lookup_errors_total{"
                                "resource=\"services\"") != NULL,
              "%s", text.data);
    cr_expect(strstr(text.data,
                     "zen_lead_webhook_lookup_duration_seconds_"
                     "count{resource=\"pods\",source=\"api\"} 1") != NULL,
              "%s", text.data);
    buf_cleanup(&text);
}

Test(lookup, cache_only_lookups_would_block_instead_of_asking)
{
    struct views_kv kv = {"app", "web"};
    struct views_map sel = {&kv, 1};
    struct views_pod **pods = (struct views_pod **)&cfg;
    struct views_service **svcs = (struct views_service **)&cfg;
    size_t n = 5;
    int64_t t0 = clock_mono_ns();
    cr_expect_eq(lookup_pods_cached(lk, "ns", &sel, &pods, &n),
                 ZL_ERR_WOULDBLOCK);
    cr_expect_null(pods);
    cr_expect_eq(n, 0);
    cr_expect_eq(lookup_services_cached(lk, "ns", &svcs, &n),
                 ZL_ERR_WOULDBLOCK);
    cr_expect_null(svcs);
    cr_expect_lt((clock_mono_ns() - t0) / CLOCK_NS_PER_MS, 100,
                 "no request, no wait");
    struct lookup_stats st;
    lookup_get_stats(lk, &st);
    cr_expect_eq(st.cache_hits + st.fallbacks + st.fallback_failures, 0,
                 "nothing counted");
    /* What needs no cache is answered as by the blocking lookups. */
    struct views_map empty = {NULL, 0};
    cr_expect_eq(lookup_pods_cached(lk, "ns", &empty, &pods, &n), ZL_OK);
    cr_expect_eq(lookup_pods_cached(lk, "", &sel, &pods, &n), ZL_ERR_INVALID);
    cr_expect_eq(lookup_services_cached(lk, NULL, &svcs, &n), ZL_ERR_INVALID);
}

Test(lookup, stop_and_free_without_start)
{
    lookup_stop(lk);
    lookup_stop(lk);
    lookup_free(NULL);
}

struct observed {
    int calls;
    char verb[16];
    char resource[16];
    long code;
};

static void observe(void *ctx, const char *verb, const char *resource,
                    long http_code, double seconds)
{
    struct observed *o = ctx;
    (void)seconds;
    o->calls++;
    snprintf(o->verb, sizeof(o->verb), "%s", verb);
    snprintf(o->resource, sizeof(o->resource), "%s", resource);
    o->code = http_code;
}

Test(lookup, every_direct_request_is_observed_once)
{
    struct observed seen = {0};
    struct lookup *other = NULL;
    struct lookup_options o = {.cfg = &cfg,
                               .timeout_ms = 1000,
                               .observe = observe,
                               .observe_ctx = &seen};
    cr_assert_eq(lookup_new(&o, &other), ZL_OK);
    struct views_kv kv = {"app", "web"};
    struct views_map sel = {&kv, 1};
    struct views_pod **pods = NULL;
    size_t n = 0;
    cr_expect_neq(lookup_pods(other, "ns", &sel, &pods, &n), ZL_OK);
    cr_expect_eq(seen.calls, 1, "one attempt, no retry");
    cr_expect_str_eq(seen.verb, "LIST");
    cr_expect_str_eq(seen.resource, "pods");
    cr_expect_eq(seen.code, 0, "no HTTP answer");
    lookup_free(other);
}

struct blocked {
    struct lookup *lk;
    enum zl_err rc;
};

static void *lookup_in_thread(void *arg)
{
    struct blocked *b = arg;
    struct views_kv kv = {"app", "web"};
    struct views_map sel = {&kv, 1};
    struct views_pod **pods = NULL;
    size_t n = 0;
    b->rc = lookup_pods(b->lk, "ns", &sel, &pods, &n);
    return NULL;
}

Test(lookup, lists_beyond_the_inflight_bound_fail_at_once)
{
    /* A listener that never accepts: a LIST there waits for its timeout. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    cr_assert_eq(listen(fd, 4), 0);
    cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    char server[64];
    snprintf(server, sizeof(server), "https://127.0.0.1:%d", ntohs(a.sin_port));
    struct kube_config hole = {.server = strdup(server),
                               .insecure_skip_tls_verify = true};
    struct lookup_options o = {
        .cfg = &hole, .timeout_ms = 1500, .max_inflight = 1};
    struct blocked b = {0};
    cr_assert_eq(lookup_new(&o, &b.lk), ZL_OK);
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, lookup_in_thread, &b), 0);
    struct timespec ts = {0, 300 * 1000000L};
    nanosleep(&ts, NULL); /* the thread's LIST is waiting now */
    struct views_service **svcs = NULL;
    size_t n = 0;
    int64_t t0 = clock_mono_ns();
    cr_expect_eq(lookup_services(b.lk, "ns", &svcs, &n), ZL_ERR_TRANSIENT);
    int64_t ms = (clock_mono_ns() - t0) / CLOCK_NS_PER_MS;
    cr_expect_lt(ms, 100, "refused at once: %lld ms", (long long)ms);
    pthread_join(th, NULL);
    cr_expect_eq(b.rc, ZL_ERR_TIMEOUT, "%s", zl_err_str(b.rc));
    struct lookup_stats st;
    lookup_get_stats(b.lk, &st);
    cr_expect_eq(st.fallbacks, 2);
    cr_expect_eq(st.fallback_failures, 2);
    lookup_free(b.lk);
    kubeconfig_cleanup(&hole);
    close(fd);
}

/* SPDX-License-Identifier: Apache-2.0 */
/* The benchmarks' client and raw watch (see benchkube.h). Every use of
 * common/kube by the benchmarks is in this file. */
#include "benchkube.h"

#include <json-c/json.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/log.h"
#include "kube/client.h"
#include "kube/kubeconfig.h"

#define BK_PATH_MAX 4096
#define BK_RV_MAX 64

struct bk {
    struct kube_config cfg;
    struct client *client;
};

struct bk_watch {
    struct bk *b;
    const struct client_resource *res;
    char *ns;
    char *selector;
    bk_event_fn fn;
    void *ctx;
    pthread_t thread;
    atomic_bool stop;
    atomic_uint restarts;
    struct watch_decoder dec;
    char rv[BK_RV_MAX];
    bool done; /* the stream ended (watch thread only) */
};

static const struct client_resource *bk_resource(enum bk_kind kind)
{
    switch (kind) {
    case BK_NAMESPACE:
        return &CLIENT_NAMESPACES;
    case BK_NODE:
        return &CLIENT_NODES;
    case BK_SERVICE:
        return &CLIENT_SERVICES;
    case BK_POD:
        return &CLIENT_PODS;
    case BK_SLICE:
        return &CLIENT_ENDPOINTSLICES;
    }
    return &CLIENT_PODS;
}

enum zl_err bk_open(const char *kubeconfig, struct bk **out)
{
    struct bk *b = calloc(1, sizeof(*b));
    if (b == NULL)
        return ZL_ERR_NOMEM;
    log_configure(LOG_LEVEL_WARN, LOG_FORMAT_TEXT, stderr);
    struct kubeconfig_error kerr;
    enum zl_err rc = kubeconfig_load_file(kubeconfig, NULL, &b->cfg, &kerr);
    if (rc != ZL_OK) {
        fprintf(stderr, "bench: kubeconfig %s: %s\n", kubeconfig, kerr.text);
        free(b);
        return rc;
    }
    struct client_options opt = {.qps = 0, .burst = 0};
    rc = client_new(&b->cfg, &opt, &b->client);
    if (rc != ZL_OK) {
        kubeconfig_cleanup(&b->cfg);
        free(b);
        return rc;
    }
    *out = b;
    return ZL_OK;
}

void bk_free(struct bk *b)
{
    if (b == NULL)
        return;
    client_free(b->client);
    kubeconfig_cleanup(&b->cfg);
    free(b);
}

/* Says why a request failed, except for the answers callers expect. */
static enum zl_err bk_report(enum zl_err rc, const char *what, const char *name,
                             struct client_response *r)
{
    if (rc != ZL_OK && rc != ZL_ERR_NOTFOUND && rc != ZL_ERR_EXISTS)
        fprintf(stderr, "bench: %s %s: %s (HTTP %ld) %s\n", what,
                name != NULL ? name : "", zl_err_str(rc), r->http_code,
                r->status.message);
    client_response_cleanup(r);
    return rc;
}

enum zl_err bk_create(struct bk *b, enum bk_kind kind, const char *ns,
                      const char *json)
{
    struct client_response r;
    client_response_init(&r);
    enum zl_err rc = client_create(b->client, bk_resource(kind), ns, json, &r);
    return bk_report(rc, "create", bk_resource(kind)->plural, &r);
}

enum zl_err bk_patch(struct bk *b, enum bk_kind kind, const char *ns,
                     const char *name, const char *sub, const char *json)
{
    struct client_response r;
    client_response_init(&r);
    enum zl_err rc = client_patch(b->client, bk_resource(kind), ns, name, sub,
                                  "application/merge-patch+json", json, &r);
    return bk_report(rc, "patch", name, &r);
}

enum zl_err bk_delete(struct bk *b, enum bk_kind kind, const char *ns,
                      const char *name, long grace_s)
{
    struct client_response r;
    client_response_init(&r);
    struct client_delete_options opt = {.grace_period_seconds = grace_s};
    enum zl_err rc =
        client_delete(b->client, bk_resource(kind), ns, name, &opt, &r);
    return bk_report(rc, "delete", name, &r);
}

enum zl_err bk_delete_all(struct bk *b, enum bk_kind kind, const char *ns,
                          long grace_s)
{
    struct client_response r;
    struct buf path;
    client_response_init(&r);
    buf_init(&path, BK_PATH_MAX);
    enum zl_err rc = client_path(bk_resource(kind), ns, NULL, NULL, &path);
    if (rc == ZL_OK && grace_s >= 0)
        rc = buf_printf(&path, "?gracePeriodSeconds=%ld", grace_s);
    if (rc == ZL_OK)
        rc = client_request(b->client, "DELETE", path.data, NULL, NULL, 0, &r);
    buf_cleanup(&path);
    return bk_report(rc, "delete all", bk_resource(kind)->plural, &r);
}

static long bk_page_count(struct json_object *list)
{
    struct json_object *items;
    struct json_object *meta;
    struct json_object *rem;
    long n = 0;
    if (json_object_object_get_ex(list, "items", &items))
        n = (long)json_object_array_length(items);
    if (json_object_object_get_ex(list, "metadata", &meta) &&
        json_object_object_get_ex(meta, "remainingItemCount", &rem))
        n += (long)json_object_get_int64(rem);
    return n;
}

enum zl_err bk_count(struct bk *b, enum bk_kind kind, const char *ns, long *out)
{
    struct client_response r;
    struct buf path;
    client_response_init(&r);
    buf_init(&path, BK_PATH_MAX);
    enum zl_err rc = client_path(bk_resource(kind), ns, NULL, NULL, &path);
    if (rc == ZL_OK)
        rc = buf_puts(&path, "?limit=1");
    if (rc == ZL_OK)
        rc = client_request(b->client, "GET", path.data, NULL, NULL, 0, &r);
    if (rc == ZL_OK) {
        struct json_object *list = json_tokener_parse(r.body.data);
        rc = list == NULL ? ZL_ERR_PARSE : ZL_OK;
        if (list != NULL)
            *out = bk_page_count(list);
        json_object_put(list);
    }
    buf_cleanup(&path);
    return bk_report(rc, "count", bk_resource(kind)->plural, &r);
}

enum zl_err bk_get(struct bk *b, enum bk_kind kind, const char *ns,
                   const char *name, struct json_object **out)
{
    struct client_response r;
    client_response_init(&r);
    enum zl_err rc = client_get(b->client, bk_resource(kind), ns, name, &r);
    if (rc == ZL_OK) {
        *out = json_tokener_parse(r.body.data);
        if (*out == NULL)
            rc = ZL_ERR_PARSE;
    }
    return bk_report(rc, "get", name, &r);
}

void bk_now_rfc3339(char out[32])
{
    clock_format_ns(clock_real_ns(), CLOCK_PREC_S, out);
}

void bk_now_stamp(char out[32])
{
    char text[CLOCK_RFC3339_MAX];
    size_t k = 0;
    clock_format_ns(clock_real_ns(), CLOCK_PREC_S, text);
    for (size_t i = 0; text[i] != '\0' && k + 1 < 32; i++)
        if (text[i] != '-' && text[i] != ':')
            out[k++] = text[i];
    out[k] = '\0';
}

/* ---- the watch ---------------------------------------------------------- */

static enum zl_err bk_on_event(void *ctx, enum watch_type type,
                               struct json_object *object)
{
    struct bk_watch *w = ctx;
    int64_t t = clock_mono_ns();
    if (type == WATCH_ERROR) {
        /* 410 and the like: start over from now (ADDED events again). */
        w->rv[0] = '\0';
        return ZL_ERR_GONE;
    }
    const char *rv = watch_object_rv(object);
    if (rv != NULL)
        snprintf(w->rv, sizeof(w->rv), "%s", rv);
    if (type != WATCH_BOOKMARK)
        w->fn(w->ctx, t, type, object);
    return ZL_OK;
}

static bool bk_on_data(void *ctx, const char *data, size_t len, long code)
{
    struct bk_watch *w = ctx;
    if (code != 200 || atomic_load(&w->stop))
        return false;
    return watch_feed(&w->dec, data, len) == ZL_OK;
}

static void bk_on_done(void *ctx, const struct client_stream_result *r)
{
    struct bk_watch *w = ctx;
    (void)r;
    w->done = true;
}

static enum zl_err bk_watch_path(struct bk_watch *w, struct buf *path)
{
    enum zl_err rc = client_path(w->res, w->ns, NULL, NULL, path);
    if (rc == ZL_OK)
        rc = buf_puts(path, "?watch=1&allowWatchBookmarks=true"
                            "&timeoutSeconds=3600");
    if (rc == ZL_OK)
        rc = client_put_query(path, "labelSelector", w->selector);
    if (rc == ZL_OK)
        rc = client_put_query(path, "resourceVersion", w->rv);
    return rc;
}

/* One stream, until it ends or the watch is stopped; the stop flag is seen
 * within one 50 ms wait. */
static void bk_watch_once(struct bk_watch *w, struct client_multi *m)
{
    struct buf path;
    buf_init(&path, BK_PATH_MAX);
    struct client_stream *st = NULL;
    struct client_stream_options so = {.low_speed_time_s = 60,
                                       .on_data = bk_on_data,
                                       .on_done = bk_on_done,
                                       .ctx = w};
    w->done = false;
    watch_reset(&w->dec);
    if (bk_watch_path(w, &path) == ZL_OK) {
        so.path = path.data;
        if (client_stream_open(w->b->client, m, &so, &st) != ZL_OK)
            st = NULL;
    }
    while (st != NULL && !w->done && !atomic_load(&w->stop)) {
        client_multi_perform(m);
        if (!w->done)
            client_multi_wait(m, 50);
    }
    client_stream_close(st);
    buf_cleanup(&path);
}

static void *bk_watch_main(void *arg)
{
    struct bk_watch *w = arg;
    struct client_multi *m = NULL;
    if (client_multi_new(&m) != ZL_OK)
        return NULL;
    bool first = true;
    while (!atomic_load(&w->stop)) {
        if (!first) {
            atomic_fetch_add(&w->restarts, 1);
            struct timespec ts = {0, 100L * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        first = false;
        bk_watch_once(w, m);
    }
    client_multi_free(m);
    return NULL;
}

static char *bk_strdup_or_null(const char *s)
{
    return s != NULL && s[0] != '\0' ? strdup(s) : NULL;
}

enum zl_err bk_watch_start(struct bk *b, enum bk_kind kind, const char *ns,
                           const char *label_selector, bk_event_fn fn,
                           void *ctx, struct bk_watch **out)
{
    struct bk_watch *w = calloc(1, sizeof(*w));
    if (w == NULL)
        return ZL_ERR_NOMEM;
    w->b = b;
    w->res = bk_resource(kind);
    w->ns = bk_strdup_or_null(ns);
    w->selector = bk_strdup_or_null(label_selector);
    w->fn = fn;
    w->ctx = ctx;
    watch_init(&w->dec, 0, bk_on_event, w);
    if (pthread_create(&w->thread, NULL, bk_watch_main, w) != 0) {
        watch_cleanup(&w->dec);
        free(w->ns);
        free(w->selector);
        free(w);
        return ZL_ERR_IO;
    }
    *out = w;
    return ZL_OK;
}

void bk_watch_stop(struct bk_watch *w)
{
    if (w == NULL)
        return;
    atomic_store(&w->stop, true);
    pthread_join(w->thread, NULL);
    watch_cleanup(&w->dec);
    free(w->ns);
    free(w->selector);
    free(w);
}

unsigned bk_watch_restarts(const struct bk_watch *w)
{
    return atomic_load(&w->restarts);
}

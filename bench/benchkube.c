/* SPDX-License-Identifier: Apache-2.0 */
/* The benchmarks' client and raw watch (see benchkube.h). Every use of
 * common/kube by the benchmarks is in this file. */
#include "benchkube.h"

#include <curl/curl.h>
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
    struct kube_client *client;
};

struct bk_watch {
    struct bk *b;
    const struct kube_resource *res;
    char *ns;
    char *selector;
    bk_event_fn fn;
    void *ctx;
    pthread_t thread;
    atomic_bool stop;
    atomic_uint restarts;
    struct watch_decoder dec;
    char rv[BK_RV_MAX];
};

static const struct kube_resource *bk_resource(enum bk_kind kind)
{
    switch (kind) {
    case BK_NAMESPACE:
        return &KUBE_NAMESPACES;
    case BK_NODE:
        return &KUBE_NODES;
    case BK_SERVICE:
        return &KUBE_SERVICES;
    case BK_POD:
        return &KUBE_PODS;
    case BK_SLICE:
        return &KUBE_ENDPOINTSLICES;
    }
    return &KUBE_PODS;
}

enum zl_err bk_open(const char *kubeconfig, struct bk **out)
{
    struct bk *b = calloc(1, sizeof(*b));
    if (b == NULL)
        return ZL_ERR_NOMEM;
    log_configure(LOG_WARN, LOG_FORMAT_TEXT, stderr);
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
                             struct kube_response *r)
{
    if (rc != ZL_OK && rc != ZL_ERR_NOTFOUND && rc != ZL_ERR_EXISTS)
        fprintf(stderr, "bench: %s %s: %s (HTTP %ld) %s\n", what,
                name != NULL ? name : "", zl_err_str(rc), r->http_code,
                r->status.message);
    kube_response_cleanup(r);
    return rc;
}

enum zl_err bk_create(struct bk *b, enum bk_kind kind, const char *ns,
                      const char *json)
{
    struct kube_response r;
    kube_response_init(&r);
    enum zl_err rc = client_create(b->client, bk_resource(kind), ns, json, &r);
    return bk_report(rc, "create", bk_resource(kind)->plural, &r);
}

enum zl_err bk_patch(struct bk *b, enum bk_kind kind, const char *ns,
                     const char *name, const char *sub, const char *json)
{
    struct kube_response r;
    kube_response_init(&r);
    enum zl_err rc = client_patch(b->client, bk_resource(kind), ns, name, sub,
                                  "application/merge-patch+json", json, &r);
    return bk_report(rc, "patch", name, &r);
}

enum zl_err bk_delete(struct bk *b, enum bk_kind kind, const char *ns,
                      const char *name, long grace_s)
{
    struct kube_response r;
    kube_response_init(&r);
    struct delete_options opt = {.grace_period_seconds = grace_s};
    enum zl_err rc =
        client_delete(b->client, bk_resource(kind), ns, name, &opt, &r);
    return bk_report(rc, "delete", name, &r);
}

enum zl_err bk_delete_all(struct bk *b, enum bk_kind kind, const char *ns,
                          long grace_s)
{
    struct kube_response r;
    struct buf path;
    kube_response_init(&r);
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
    struct kube_response r;
    struct buf path;
    kube_response_init(&r);
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
    struct kube_response r;
    kube_response_init(&r);
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

static size_t bk_on_data(char *data, size_t size, size_t n, void *ctx)
{
    struct bk_watch *w = ctx;
    if (watch_feed(&w->dec, data, size * n) != ZL_OK)
        return 0;
    return size * n;
}

static int bk_on_progress(void *ctx, curl_off_t a, curl_off_t b, curl_off_t c,
                          curl_off_t d)
{
    struct bk_watch *w = ctx;
    (void)a;
    (void)b;
    (void)c;
    (void)d;
    return atomic_load(&w->stop) ? 1 : 0;
}

static enum zl_err bk_watch_path(struct bk_watch *w, struct buf *path)
{
    enum zl_err rc = client_path(w->res, w->ns, NULL, NULL, path);
    if (rc == ZL_OK)
        rc = buf_puts(path, "?watch=1&allowWatchBookmarks=true"
                            "&timeoutSeconds=3600");
    if (rc == ZL_OK && w->selector != NULL) {
        char *esc = curl_easy_escape(NULL, w->selector, 0);
        rc = esc == NULL ? ZL_ERR_NOMEM
                         : buf_printf(path, "&labelSelector=%s", esc);
        curl_free(esc);
    }
    if (rc == ZL_OK && w->rv[0] != '\0')
        rc = buf_printf(path, "&resourceVersion=%s", w->rv);
    return rc;
}

/* One stream, until it ends or the watch is stopped. */
static void bk_watch_once(struct bk_watch *w)
{
    struct buf path;
    buf_init(&path, BK_PATH_MAX);
    CURL *h = curl_easy_init();
    void *headers = NULL;
    if (h == NULL || bk_watch_path(w, &path) != ZL_OK ||
        client_prepare_stream(w->b->client, h, path.data, 60, &headers) !=
            ZL_OK)
        goto out;
    watch_reset(&w->dec);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, bk_on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, w);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, bk_on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, w);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_perform(h);
out:
    client_free_headers(headers);
    if (h != NULL)
        curl_easy_cleanup(h);
    buf_cleanup(&path);
}

static void *bk_watch_main(void *arg)
{
    struct bk_watch *w = arg;
    bool first = true;
    while (!atomic_load(&w->stop)) {
        if (!first) {
            atomic_fetch_add(&w->restarts, 1);
            struct timespec ts = {0, 100L * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        first = false;
        bk_watch_once(w);
    }
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

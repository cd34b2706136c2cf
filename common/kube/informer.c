/* SPDX-License-Identifier: Apache-2.0 */
/* Informers as a state machine per resource, driven by one loop thread that
 * owns a client_multi. List pages and watches are both non-blocking
 * streams on it, so one slow list never stalls another informer's
 * watch. Only the loop thread touches an informer's transfer
 * state; other threads see atomics (synced, stats, pause) and the store. */
#include "kube/informer.h"

#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/json.h"
#include "base/log.h"
#include "kube/listpage.h"
#include "kube/watch.h"

#define INFORMER_RV_MAX 64
#define INFORMER_ERROR_BODY_MAX ((size_t)64 << 10)
#define INFORMER_LOOP_TICK_MS 1000
#define INFORMER_LIST_LOW_SPEED_S 30L

enum informer_state {
    INFORMER_IDLE,     /* waiting for next_at_ms to list or watch */
    INFORMER_LISTING,  /* a list page transfer is running */
    INFORMER_WATCHING, /* a watch transfer is running */
};

/* How a watch ended, as seen by the event callback. */
enum informer_end {
    INFORMER_END_NONE,
    INFORMER_END_GONE,  /* ERROR event: 410 or too large RV */
    INFORMER_END_ERROR, /* other ERROR event */
};

struct informer {
    struct informer_loop *loop;
    struct informer *next;
    struct client *client;
    const struct client_resource *res;
    enum views_kind kind;
    struct store *store;
    char *ns;
    char *label_selector;
    char *field_selector;
    informer_handler_fn handler;
    void *handler_ctx;
    long page_limit;
    long idle_max_ms;
    long watch_timeout_s;

    /* Loop thread only. */
    enum informer_state state;
    bool need_list;
    bool list_no_limit; /* a continue token expired: list in one piece */
    bool watched_once;
    bool have_token; /* a limiter token is reserved for the next start */
    int64_t next_at_ms;
    int64_t last_byte_ms;
    int64_t list_started_ms;
    char rv[INFORMER_RV_MAX];
    struct client_stream *stream; /* the list page or watch running */
    long http_code;
    struct buf body; /* list page, or the body of an HTTP error */
    struct watch_decoder dec;
    enum informer_end end;
    void **items; /* views of the pages listed so far */
    size_t item_count;
    size_t item_cap;
    char *continue_token;
    char list_rv[INFORMER_RV_MAX];
    struct informer_backoff backoff;
    unsigned rand_state;

    /* Any thread. */
    atomic_bool synced;
    atomic_bool paused;
    _Atomic uint64_t lists;
    _Atomic uint64_t relists_gone;
    _Atomic uint64_t watch_restarts;
    _Atomic uint64_t watch_errors;
    _Atomic uint64_t events;
    _Atomic int64_t last_sync_ms;
    _Atomic int64_t out_of_step_ms; /* monotonic ms, 0: in step */
    _Atomic int64_t watch_since_ms; /* the running watch began; 0: none */
};

struct informer_loop {
    struct client_multi *multi;
    pthread_t thread;
    bool started;
    bool joined;
    atomic_bool stop;
    struct informer *head;
    pthread_mutex_t carried_mu;
    struct client *carried[INFORMER_LOOP_MAX_CARRIED]; /* informer_loop_carry */
    size_t carried_count;
    bool uncarried; /* the loop is stopping: no more clients (carried_mu) */
    informer_after_fn after; /* informer_loop_set_after */
    void *after_ctx;
};

static int64_t informer_now_ms(void)
{
    return clock_mono_ns() / CLOCK_NS_PER_MS;
}

static double informer_rand01(struct informer *inf)
{
    return (double)rand_r(&inf->rand_state) / ((double)RAND_MAX + 1.0);
}

long informer_backoff_next(struct informer_backoff *b, int64_t now_ms,
                           double rand01)
{
    if (b->step_ms == 0 || now_ms - b->last_fail_ms > INFORMER_BACKOFF_RESET_MS)
        b->step_ms = INFORMER_BACKOFF_INITIAL_MS;
    long base = b->step_ms;
    b->last_fail_ms = now_ms;
    b->step_ms = base >= INFORMER_BACKOFF_MAX_MS / 2 ? INFORMER_BACKOFF_MAX_MS
                                                     : base * 2;
    long delay = base + (long)((double)base * rand01);
    return delay > INFORMER_BACKOFF_MAX_MS ? INFORMER_BACKOFF_MAX_MS : delay;
}

/* ---- store updates and handlers ---------------------------------------- */

static void informer_notify(struct informer *inf, enum store_change change,
                            const void *old_view, const void *new_view)
{
    if (inf->handler != NULL)
        inf->handler(inf->handler_ctx, change, old_view, new_view);
}

static void informer_replace_cb(void *ctx, enum store_change change,
                                const void *old_view, const void *new_view)
{
    informer_notify(ctx, change, old_view, new_view);
}

static void informer_set_rv(char *dst, const char *rv)
{
    if (rv == NULL || strlen(rv) >= INFORMER_RV_MAX) {
        log_warn("informer: resourceVersion missing or too long; kept %s", dst);
        return;
    }
    memcpy(dst, rv, strlen(rv) + 1);
}

/* Applies an ADDED/MODIFIED/DELETED object to the store. A view that does
 * not parse is skipped with a warning (retrying would not help); running
 * out of memory fails the watch, which resumes from the RV before it. */
static enum zl_err informer_apply(struct informer *inf, enum watch_type type,
                                  struct json_object *object)
{
    void *view = NULL;
    const void *old = NULL;
    enum zl_err err = views_from_json(inf->kind, object, &view);
    if (err == ZL_ERR_NOMEM)
        return err;
    if (err != ZL_OK) {
        log_warn("informer %s: skipping a %s object: %s", inf->res->plural,
                 watch_type_name(type), zl_err_str(err));
        return ZL_OK;
    }
    if (type == WATCH_DELETED) {
        store_delete(inf->store, views_meta_of(view)->namespace_name,
                     views_meta_of(view)->name, &old);
        if (old != NULL)
            informer_notify(inf, STORE_DELETED, old, NULL);
        views_release(view);
        goto out;
    }
    err = store_put(inf->store, view, &old); /* consumes view, even on error */
    if (err != ZL_OK)
        return err;
    /* The store holds the new view and only this thread writes it. */
    informer_notify(inf, old == NULL ? STORE_ADDED : STORE_UPDATED, old, view);
out:
    if (old != NULL)
        views_release(old);
    return ZL_OK;
}

static enum zl_err informer_on_event(void *ctx, enum watch_type type,
                                     struct json_object *object)
{
    struct informer *inf = ctx;
    if (type == WATCH_ERROR) {
        enum watch_status st = watch_classify(object);
        inf->end =
            st == WATCH_STATUS_OTHER ? INFORMER_END_ERROR : INFORMER_END_GONE;
        log_info(
            "informer %s: watch ERROR event: %s", inf->res->plural,
            json_object_to_json_string_ext(object, JSON_C_TO_STRING_PLAIN));
        return ZL_ERR_CANCELLED;
    }
    if (type != WATCH_BOOKMARK) {
        enum zl_err err = informer_apply(inf, type, object);
        if (err != ZL_OK)
            return err;
    }
    /* The RV advances on every event, bookmarks included. */
    informer_set_rv(inf->rv, watch_object_rv(object));
    atomic_fetch_add(&inf->events, 1);
    return ZL_OK;
}

/* ---- transfers ----------------------------------------------------------- */

static bool informer_write(void *ctx, const char *data, size_t len,
                           long http_code)
{
    struct informer *inf = ctx;
    inf->last_byte_ms = informer_now_ms();
    inf->http_code = http_code;
    if (inf->state == INFORMER_WATCHING && http_code == 200) {
        if (atomic_load_explicit(&inf->out_of_step_ms, memory_order_relaxed))
            atomic_store(&inf->out_of_step_ms, 0);
        enum zl_err err = watch_feed(&inf->dec, data, len);
        if (err != ZL_OK && err != ZL_ERR_CANCELLED)
            log_warn("informer %s: watch stream: %s", inf->res->plural,
                     zl_err_str(err));
        return err == ZL_OK;
    }
    if (http_code != 200 && inf->body.len + len > INFORMER_ERROR_BODY_MAX)
        return true; /* keep the head of an error body only */
    return buf_append(&inf->body, data, len) == ZL_OK;
}

static void informer_end_transfer(struct informer *inf)
{
    atomic_store(&inf->watch_since_ms, 0);
    client_stream_close(inf->stream);
    inf->stream = NULL;
}

static void informer_done(void *ctx, const struct client_stream_result *r);

static enum zl_err informer_build_path(struct informer *inf, bool watch,
                                       struct buf *path)
{
    enum zl_err err = client_path(inf->res, inf->ns, NULL, NULL, path);
    if (err != ZL_OK)
        return err;
    if (watch) {
        long timeout = inf->watch_timeout_s;
        if (timeout <= 0)
            timeout = INFORMER_WATCH_TIMEOUT_MIN_S +
                      (long)(informer_rand01(inf) *
                             (INFORMER_WATCH_TIMEOUT_MIN_S + 1));
        err = buf_printf(path,
                         "?watch=1&allowWatchBookmarks=true"
                         "&timeoutSeconds=%ld",
                         timeout);
        if (err == ZL_OK)
            err = client_put_query(path, "resourceVersion", inf->rv);
    } else {
        long limit = inf->list_no_limit ? 0 : inf->page_limit;
        err = buf_printf(path, "?limit=%ld", limit);
        if (err == ZL_OK)
            err = client_put_query(path, "continue", inf->continue_token);
    }
    if (err == ZL_OK)
        err = client_put_query(path, "labelSelector", inf->label_selector);
    if (err == ZL_OK)
        err = client_put_query(path, "fieldSelector", inf->field_selector);
    return err;
}

static enum zl_err informer_start_transfer(struct informer *inf, bool watch)
{
    struct buf path;
    buf_init(&path, CLIENT_MAX_PATH);
    enum zl_err err = informer_build_path(inf, watch, &path);
    if (err != ZL_OK)
        goto out;
    inf->http_code = 0;
    inf->end = INFORMER_END_NONE;
    buf_reset(&inf->body);
    watch_reset(&inf->dec);
    inf->last_byte_ms = informer_now_ms();
    struct client_stream_options so = {
        .path = path.data,
        .low_speed_time_s =
            watch ? (inf->idle_max_ms + 999) / 1000 : INFORMER_LIST_LOW_SPEED_S,
        .on_data = informer_write,
        .on_done = informer_done,
        .ctx = inf};
    err = client_stream_open(inf->client, inf->loop->multi, &so, &inf->stream);
    if (err != ZL_OK)
        goto out;
    inf->state = watch ? INFORMER_WATCHING : INFORMER_LISTING;
    if (watch)
        atomic_store(&inf->watch_since_ms, inf->last_byte_ms);
    log_debug("informer %s: GET %s", inf->res->plural, path.data);
out:
    buf_cleanup(&path);
    return err;
}

static void informer_drop_items(struct informer *inf)
{
    for (size_t i = 0; i < inf->item_count; i++)
        views_release(inf->items[i]);
    inf->item_count = 0;
    free(inf->continue_token);
    inf->continue_token = NULL;
}

/* From now on the store may miss changes, until a list completes or a watch
 * answers again; the first such moment is kept. */
static void informer_out_of_step(struct informer *inf, int64_t now)
{
    int64_t none = 0;
    atomic_compare_exchange_strong(&inf->out_of_step_ms, &none,
                                   now > 0 ? now : 1);
}

/* After a failure: wait with backoff, then list or watch again. */
static void informer_retry_later(struct informer *inf, const char *why)
{
    int64_t now = informer_now_ms();
    informer_out_of_step(inf, now);
    long delay =
        informer_backoff_next(&inf->backoff, now, informer_rand01(inf));
    log_warn("informer %s: %s; retrying in %ld ms", inf->res->plural, why,
             delay);
    inf->state = INFORMER_IDLE;
    inf->next_at_ms = now + delay;
}

static void informer_relist_now(struct informer *inf)
{
    informer_out_of_step(inf, informer_now_ms());
    informer_drop_items(inf);
    inf->need_list = true;
    inf->state = INFORMER_IDLE;
    inf->next_at_ms = 0;
}

/* ---- lists --------------------------------------------------------------- */

static enum zl_err informer_add_item(struct informer *inf, void *view)
{
    if (inf->item_count == inf->item_cap) {
        size_t cap = inf->item_cap == 0 ? 256 : inf->item_cap * 2;
        void **items = realloc(inf->items, cap * sizeof(*items));
        if (items == NULL)
            return ZL_ERR_NOMEM;
        inf->items = items;
        inf->item_cap = cap;
    }
    inf->items[inf->item_count++] = view;
    return ZL_OK;
}

static const char *informer_meta_str(struct json_object *meta, const char *key)
{
    struct json_object *v = NULL;
    if (!json_object_object_get_ex(meta, key, &v) ||
        !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

/* One listed object: parsed on its own, so only its json-c tree is alive
 * (listpage.h says why). */
static enum zl_err informer_take_item(void *ctx, const char *text, size_t len)
{
    struct informer *inf = ctx;
    struct json_object *obj = NULL;
    void *view = NULL;
    enum zl_err err = json_parse_object(text, len, &obj);
    if (err != ZL_OK)
        return err;
    enum zl_err perr = views_from_json(inf->kind, obj, &view);
    json_object_put(obj);
    if (perr == ZL_OK) {
        err = informer_add_item(inf, view);
        if (err != ZL_OK)
            views_release(view);
    } else if (perr == ZL_ERR_NOMEM) {
        err = perr;
    } else {
        log_warn("informer %s: skipping a listed object: %s", inf->res->plural,
                 zl_err_str(perr));
    }
    return err;
}

/* Parses one list page into views; keeps the continue token and RV. A page
 * that fails to parse drops the views already taken from it with the rest
 * (the caller's informer_drop_items). */
static enum zl_err informer_take_page(struct informer *inf)
{
    struct json_object *meta = NULL;
    enum zl_err err = listpage_walk(inf->body.data, inf->body.len,
                                    informer_take_item, inf, &meta);
    /* The page's text is not needed any more: give its memory back. */
    buf_cleanup(&inf->body);
    if (err != ZL_OK)
        return err;
    err = ZL_ERR_PARSE;
    const char *rv = informer_meta_str(meta, "resourceVersion");
    if (rv == NULL || strlen(rv) >= INFORMER_RV_MAX)
        goto out;
    memcpy(inf->list_rv, rv, strlen(rv) + 1);
    err = ZL_OK;
    free(inf->continue_token);
    inf->continue_token = NULL;
    const char *cont = informer_meta_str(meta, "continue");
    if (cont != NULL && cont[0] != '\0') {
        inf->continue_token = strdup(cont);
        if (inf->continue_token == NULL)
            err = ZL_ERR_NOMEM;
    }
out:
    json_object_put(meta);
    return err;
}

static void informer_list_complete(struct informer *inf)
{
    enum zl_err err = store_replace(inf->store, inf->items, inf->item_count,
                                    informer_replace_cb, inf);
    /* store_replace took the references, even when it failed. */
    inf->item_count = 0;
    if (err != ZL_OK) {
        informer_retry_later(inf, "replacing the store failed");
        return;
    }
    memcpy(inf->rv, inf->list_rv, sizeof(inf->rv));
    inf->need_list = false;
    inf->list_no_limit = false;
    atomic_fetch_add(&inf->lists, 1);
    atomic_store(&inf->last_sync_ms, informer_now_ms() - inf->list_started_ms);
    atomic_store(&inf->synced, true);
    atomic_store(&inf->out_of_step_ms, 0);
    log_info("informer %s: listed %zu objects at resourceVersion %s in %lld "
             "ms",
             inf->res->plural, store_count(inf->store), inf->rv,
             (long long)atomic_load(&inf->last_sync_ms));
    inf->state = INFORMER_IDLE;
    inf->next_at_ms = 0;
}

static void informer_list_done(struct informer *inf,
                               const struct client_stream_result *r)
{
    if (r->err != ZL_OK || inf->http_code == 0) {
        informer_drop_items(inf);
        informer_retry_later(inf, r->message);
        return;
    }
    if (inf->http_code == 410 && inf->continue_token != NULL) {
        /* The continue token expired (~5 min): list again in one piece. */
        log_info("informer %s: continue token expired; listing without "
                 "limit",
                 inf->res->plural);
        informer_relist_now(inf);
        inf->list_no_limit = true;
        return;
    }
    if (inf->http_code != 200) {
        char why[96];
        snprintf(why, sizeof(why), "list answered HTTP %ld", inf->http_code);
        informer_drop_items(inf);
        informer_retry_later(inf, why);
        return;
    }
    enum zl_err err = informer_take_page(inf);
    if (err != ZL_OK) {
        informer_drop_items(inf);
        informer_retry_later(inf, zl_err_str(err));
        return;
    }
    if (inf->continue_token == NULL) {
        informer_list_complete(inf);
        return;
    }
    /* The next page needs a limiter token too: informer_tick takes one. */
    inf->state = INFORMER_IDLE;
    inf->next_at_ms = 0;
}

/* ---- watches ------------------------------------------------------------- */

static void informer_watch_done(struct informer *inf,
                                const struct client_stream_result *r)
{
    atomic_fetch_add(&inf->watch_restarts, 1);
    long code = inf->http_code;
    bool gone = inf->end == INFORMER_END_GONE;
    if (code != 200 && code != 0) {
        struct json_object *st = NULL;
        if (json_parse_object(inf->body.data, inf->body.len, &st) != ZL_OK)
            st = NULL;
        enum watch_status ws = st != NULL
                                   ? watch_classify(st)
                                   : watch_classify_fields(code, NULL, NULL);
        json_object_put(st);
        gone = gone || ws != WATCH_STATUS_OTHER;
    }
    if (gone) {
        log_info("informer %s: resourceVersion %s expired; relisting",
                 inf->res->plural, inf->rv);
        atomic_fetch_add(&inf->relists_gone, 1);
        informer_relist_now(inf);
        return;
    }
    if (r->err == ZL_OK && code == 200 && inf->end == INFORMER_END_NONE &&
        watch_finish(&inf->dec) == ZL_OK) {
        /* The server's timeout: resume at once from the last RV. */
        log_debug("informer %s: watch closed at resourceVersion %s",
                  inf->res->plural, inf->rv);
        inf->state = INFORMER_IDLE;
        inf->next_at_ms = 0;
        return;
    }
    atomic_fetch_add(&inf->watch_errors, 1);
    char why[128];
    snprintf(why, sizeof(why), "watch ended: HTTP %ld, %s", code,
             inf->end == INFORMER_END_ERROR ? "ERROR event" : r->message);
    informer_retry_later(inf, why);
}

/* A list page or watch ended (client_multi_perform, loop thread). */
static void informer_done(void *ctx, const struct client_stream_result *r)
{
    struct informer *inf = ctx;
    enum informer_state was = inf->state;
    if (inf->http_code == 0)
        inf->http_code = r->http_code;
    informer_end_transfer(inf);
    inf->state = INFORMER_IDLE;
    if (was == INFORMER_LISTING)
        informer_list_done(inf, r);
    else
        informer_watch_done(inf, r);
}

/* True when a limiter token is there for the next list page or watch.
 * Else one is reserved without waiting and the start is put off until it
 * is due (next_at_ms): the loop thread never sleeps on the limiter, so
 * other informers' events keep flowing while writes use up the budget. */
static bool informer_take_token(struct informer *inf, int64_t now)
{
    if (!inf->have_token) {
        int64_t delay_ns = 0;
        enum zl_err err = client_stream_reserve(inf->client, &delay_ns);
        if (err != ZL_OK) {
            informer_retry_later(inf, zl_err_str(err));
            return false;
        }
        inf->have_token = true;
        if (delay_ns > 0) {
            inf->next_at_ms =
                now + (delay_ns + CLOCK_NS_PER_MS - 1) / CLOCK_NS_PER_MS;
            return false;
        }
    }
    inf->have_token = false; /* spent on the start that follows */
    return true;
}

/* Starts what is due and checks the watch for silence; returns when it
 * wants to be called again. */
static int64_t informer_tick(struct informer *inf, int64_t now)
{
    bool paused = atomic_load(&inf->paused);
    if (inf->state == INFORMER_WATCHING) {
        if (paused || now - inf->last_byte_ms > inf->idle_max_ms) {
            informer_end_transfer(inf);
            if (paused) {
                informer_out_of_step(inf, now);
                inf->state = INFORMER_IDLE;
                inf->next_at_ms = 0;
                return now + INFORMER_LOOP_TICK_MS;
            }
            atomic_fetch_add(&inf->watch_restarts, 1);
            atomic_fetch_add(&inf->watch_errors, 1);
            informer_retry_later(inf, "watch silent for too long");
            return inf->next_at_ms;
        }
        return inf->last_byte_ms + inf->idle_max_ms + 1;
    }
    if (inf->state == INFORMER_LISTING) {
        /* A big list may take a while to start: allow at least as long as
         * the stream's low-speed limit. */
        long idle = inf->idle_max_ms > INFORMER_LIST_LOW_SPEED_S * 1000
                        ? inf->idle_max_ms
                        : INFORMER_LIST_LOW_SPEED_S * 1000;
        if (now - inf->last_byte_ms > idle) {
            informer_end_transfer(inf);
            informer_drop_items(inf);
            informer_retry_later(inf, "list silent for too long");
            return inf->next_at_ms;
        }
        return inf->last_byte_ms + idle + 1;
    }
    if (now < inf->next_at_ms)
        return inf->next_at_ms;
    if (paused && !inf->need_list)
        return now + INFORMER_LOOP_TICK_MS;
    if (!informer_take_token(inf, now))
        return inf->next_at_ms;
    bool list = inf->need_list;
    if (list && inf->continue_token == NULL)
        inf->list_started_ms = now;
    else if (!list && inf->watched_once)
        log_debug("informer %s: watching again from %s", inf->res->plural,
                  inf->rv);
    enum zl_err err = informer_start_transfer(inf, !list);
    if (err != ZL_OK) {
        informer_drop_items(inf);
        informer_retry_later(inf, zl_err_str(err));
        return inf->next_at_ms;
    }
    if (!list)
        inf->watched_once = true;
    return now + INFORMER_LOOP_TICK_MS;
}

/* ---- the loop ------------------------------------------------------------ */

static void *informer_loop_main(void *arg)
{
    struct informer_loop *l = arg;
    while (!atomic_load(&l->stop)) {
        int64_t now = informer_now_ms();
        int64_t next = now + INFORMER_LOOP_TICK_MS;
        for (struct informer *inf = l->head; inf != NULL; inf = inf->next) {
            int64_t at = informer_tick(inf, now);
            if (at < next)
                next = at;
        }
        int ended = client_multi_perform(l->multi);
        if (l->after != NULL)
            l->after(l->after_ctx);
        if (ended > 0)
            continue; /* what follows may be due now */
        int64_t wait = next - informer_now_ms();
        if (wait < 0)
            wait = 0;
        if (wait > INFORMER_LOOP_TICK_MS)
            wait = INFORMER_LOOP_TICK_MS;
        client_multi_wait(l->multi, (long)wait);
    }
    client_multi_close(l->multi); /* requests still handed over */
    for (struct informer *inf = l->head; inf != NULL; inf = inf->next) {
        informer_end_transfer(inf);
        informer_drop_items(inf);
        inf->state = INFORMER_IDLE;
    }
    return NULL;
}

enum zl_err informer_loop_new(struct informer_loop **out)
{
    *out = NULL;
    struct informer_loop *l = calloc(1, sizeof(*l));
    if (l == NULL)
        return ZL_ERR_NOMEM;
    enum zl_err err = client_multi_new(&l->multi);
    if (err != ZL_OK) {
        free(l);
        return err;
    }
    atomic_init(&l->stop, false);
    pthread_mutex_init(&l->carried_mu, NULL);
    *out = l;
    return ZL_OK;
}

enum zl_err informer_loop_start(struct informer_loop *l)
{
    assert(!l->started);
    if (pthread_create(&l->thread, NULL, informer_loop_main, l) != 0)
        return ZL_ERR_IO;
    l->started = true;
    return ZL_OK;
}

void informer_loop_set_after(struct informer_loop *l, informer_after_fn fn,
                             void *ctx)
{
    assert(!l->started);
    l->after = fn;
    l->after_ctx = ctx;
}

enum zl_err informer_loop_carry(struct informer_loop *l, struct client *c)
{
    assert(l->started);
    pthread_mutex_lock(&l->carried_mu);
    enum zl_err rc = ZL_ERR_LIMIT;
    if (!l->uncarried && l->carried_count < INFORMER_LOOP_MAX_CARRIED) {
        l->carried[l->carried_count++] = c;
        client_use_multi(c, l->multi);
        rc = ZL_OK;
    }
    pthread_mutex_unlock(&l->carried_mu);
    return rc;
}

/* Hands the carried clients back to their own connections. */
static void informer_loop_uncarry(struct informer_loop *l)
{
    pthread_mutex_lock(&l->carried_mu);
    for (size_t i = 0; i < l->carried_count; i++)
        client_use_multi(l->carried[i], NULL);
    l->carried_count = 0;
    l->uncarried = true;
    pthread_mutex_unlock(&l->carried_mu);
}

void informer_loop_stop(struct informer_loop *l)
{
    if (!l->started || l->joined)
        return;
    informer_loop_uncarry(l);
    atomic_store(&l->stop, true);
    client_multi_wakeup(l->multi);
    pthread_join(l->thread, NULL);
    l->joined = true;
}

void informer_loop_free(struct informer_loop *l)
{
    if (l == NULL)
        return;
    informer_loop_stop(l);
    assert(l->head == NULL);
    client_multi_free(l->multi);
    pthread_mutex_destroy(&l->carried_mu);
    free(l);
}

/* ---- informers ----------------------------------------------------------- */

static enum zl_err informer_dup(const char *s, char **out)
{
    *out = NULL;
    if (s == NULL || s[0] == '\0')
        return ZL_OK;
    *out = strdup(s);
    return *out == NULL ? ZL_ERR_NOMEM : ZL_OK;
}

enum zl_err informer_new(struct informer_loop *l, struct client *client,
                         const struct informer_options *opt,
                         struct informer **out)
{
    *out = NULL;
    if (opt->resource == NULL || opt->kind == VIEWS_KIND_NONE)
        return ZL_ERR_INVALID;
    assert(!l->started);
    struct informer *inf = calloc(1, sizeof(*inf));
    if (inf == NULL)
        return ZL_ERR_NOMEM;
    inf->loop = l;
    inf->client = client;
    inf->res = opt->resource;
    inf->kind = opt->kind;
    inf->handler = opt->handler;
    inf->handler_ctx = opt->handler_ctx;
    inf->page_limit =
        opt->page_limit > 0 ? opt->page_limit : INFORMER_PAGE_LIMIT;
    inf->idle_max_ms =
        opt->idle_max_ms > 0 ? opt->idle_max_ms : INFORMER_IDLE_MAX_MS;
    inf->watch_timeout_s = opt->watch_timeout_s;
    inf->need_list = true;
    inf->rand_state = (unsigned)informer_now_ms() ^ (unsigned)(uintptr_t)inf;
    buf_init(&inf->body, CLIENT_MAX_BODY);
    watch_init(&inf->dec,
               opt->max_event > 0 ? opt->max_event : INFORMER_MAX_EVENT,
               informer_on_event, inf);
    enum zl_err err = store_new(opt->kind, &inf->store);
    if (err == ZL_OK)
        err = informer_dup(opt->namespace_name, &inf->ns);
    if (err == ZL_OK)
        err = informer_dup(opt->label_selector, &inf->label_selector);
    if (err == ZL_OK)
        err = informer_dup(opt->field_selector, &inf->field_selector);
    if (err != ZL_OK) {
        informer_free(inf);
        return err;
    }
    inf->next = l->head;
    l->head = inf;
    *out = inf;
    return ZL_OK;
}

void informer_free(struct informer *inf)
{
    if (inf == NULL)
        return;
    struct informer_loop *l = inf->loop;
    assert(!l->started || l->joined);
    for (struct informer **p = &l->head; *p != NULL; p = &(*p)->next) {
        if (*p == inf) {
            *p = inf->next;
            break;
        }
    }
    informer_end_transfer(inf);
    informer_drop_items(inf);
    free(inf->items);
    buf_cleanup(&inf->body);
    watch_cleanup(&inf->dec);
    store_free(inf->store);
    free(inf->ns);
    free(inf->label_selector);
    free(inf->field_selector);
    free(inf);
}

struct store *informer_store(struct informer *inf)
{
    return inf->store;
}

bool informer_has_synced(const struct informer *inf)
{
    return atomic_load(&inf->synced);
}

enum zl_err informer_wait_synced(const struct informer *inf, long timeout_ms)
{
    int64_t deadline = informer_now_ms() + timeout_ms;
    while (!informer_has_synced(inf)) {
        if (informer_now_ms() >= deadline)
            return ZL_ERR_TIMEOUT;
        struct timespec ts = {0, 10000000L};
        nanosleep(&ts, NULL);
    }
    return ZL_OK;
}

int64_t informer_out_of_step_for_ms(const struct informer *inf)
{
    int64_t since = atomic_load(&inf->out_of_step_ms);
    if (since == 0)
        return 0;
    int64_t now = informer_now_ms();
    /* A quiet watch sends nothing for up to a minute; one that began after
     * the trouble and is still open past the connect timeout has been
     * answered 200 (any other answer ends it) and is in step. */
    int64_t watch = atomic_load(&inf->watch_since_ms);
    if (watch != 0 && watch >= since &&
        now - watch >= INFORMER_WATCH_CONNECTED_MS)
        return 0;
    return now - since > 0 ? now - since : 1;
}

void informer_get_stats(const struct informer *inf, struct informer_stats *out)
{
    out->lists = atomic_load(&inf->lists);
    out->relists_gone = atomic_load(&inf->relists_gone);
    out->watch_restarts = atomic_load(&inf->watch_restarts);
    out->watch_errors = atomic_load(&inf->watch_errors);
    out->events = atomic_load(&inf->events);
    out->last_sync_ms = atomic_load(&inf->last_sync_ms);
}

const char *informer_resource(const struct informer *inf)
{
    return inf->res->plural;
}

void informer_pause(struct informer *inf)
{
    atomic_store(&inf->paused, true);
    client_multi_wakeup(inf->loop->multi);
}

void informer_resume(struct informer *inf)
{
    atomic_store(&inf->paused, false);
    client_multi_wakeup(inf->loop->multi);
}

/* SPDX-License-Identifier: Apache-2.0 */
/* Events: the aggregation LRU and JSON rendering (pure), and the recorder
 * whose single thread owns the cache and does every write, so callers only
 * ever take the queue lock for a moment. */
#include "kube/events.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/sync.h"

#define KEY_MAX 2048 /* 3 x 253 + 16 + 128 + 1024 and separators fit */
#define BODY_MAX ((size_t)EVENTS_MAX_MESSAGE * 16)

/* ---- small helpers ---- */

/* Bytes of s to keep so it fits max without splitting a UTF-8 character. */
static size_t cut_len(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n <= max)
        return n;
    n = max;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return n;
}

static const char *or_empty(const char *s)
{
    return s != NULL ? s : "";
}

static const char *type_name(enum events_type t)
{
    return t == EVENTS_WARNING ? "Warning" : "Normal";
}

static uint64_t fnv(const char *s, size_t n, uint64_t h)
{
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= UINT64_C(1099511628211);
    }
    return h;
}

/* The aggregation key: the object (uid, or kind/ns/name without one),
 * type, reason and message, as they will be written. Built on the stack so
 * deciding never allocates. Returns its length. */
static size_t build_key(const struct events_event *ev, char key[KEY_MAX])
{
    const struct events_object *o = ev->object;
    int n;
    if (o->uid != NULL && o->uid[0] != '\0')
        n = snprintf(key, KEY_MAX, "%.253s", o->uid);
    else
        n = snprintf(key, KEY_MAX, "%.253s/%.253s/%.253s", or_empty(o->kind),
                     or_empty(o->ns), or_empty(o->name));
    size_t used = n > 0 ? (size_t)n : 0;
    n = snprintf(key + used, KEY_MAX - used, "\x1f%s\x1f%.*s\x1f%.*s",
                 type_name(ev->type),
                 (int)cut_len(or_empty(ev->reason), EVENTS_MAX_REASON),
                 or_empty(ev->reason),
                 (int)cut_len(or_empty(ev->message), EVENTS_MAX_MESSAGE),
                 or_empty(ev->message));
    used += n > 0 ? (size_t)n : 0;
    return used < KEY_MAX ? used : KEY_MAX - 1;
}

/* ---- the aggregation cache ---- */

struct ev_entry {
    char *key;
    uint64_t hash;
    struct ev_entry *hnext;       /* hash chain */
    struct ev_entry *prev, *next; /* LRU list, most recent first */
    char name[EVENTS_MAX_NAME + 1];
    long count;
    int64_t first_ns, last_ns;
};

struct events_cache {
    struct ev_entry **buckets;
    size_t bucket_count;
    size_t len, max;
    int64_t window_ns;
    struct ev_entry *head, *tail;
};

enum zl_err events_cache_new(size_t max_entries, long window_s,
                             struct events_cache **out)
{
    *out = NULL;
    struct events_cache *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return ZL_ERR_NOMEM;
    c->max = max_entries > 0 ? max_entries : EVENTS_CACHE_MAX;
    c->window_ns = (window_s > 0 ? window_s : EVENTS_WINDOW_S) * CLOCK_NS_PER_S;
    c->bucket_count = c->max < 64 ? 64 : c->max;
    c->buckets = calloc(c->bucket_count, sizeof(*c->buckets));
    if (c->buckets == NULL) {
        free(c);
        return ZL_ERR_NOMEM;
    }
    *out = c;
    return ZL_OK;
}

void events_cache_free(struct events_cache *c)
{
    if (c == NULL)
        return;
    struct ev_entry *e = c->head;
    while (e != NULL) {
        struct ev_entry *next = e->next;
        free(e->key);
        free(e);
        e = next;
    }
    free(c->buckets);
    free(c);
}

size_t events_cache_len(const struct events_cache *c)
{
    return c->len;
}

static struct ev_entry *cache_find(const struct events_cache *c,
                                   const char *key, size_t key_len)
{
    uint64_t h = fnv(key, key_len, UINT64_C(1469598103934665603));
    struct ev_entry *e = c->buckets[h % c->bucket_count];
    for (; e != NULL; e = e->hnext)
        if (e->hash == h && strcmp(e->key, key) == 0)
            return e;
    return NULL;
}

static void lru_unlink(struct events_cache *c, struct ev_entry *e)
{
    if (e->prev != NULL)
        e->prev->next = e->next;
    else
        c->head = e->next;
    if (e->next != NULL)
        e->next->prev = e->prev;
    else
        c->tail = e->prev;
    e->prev = e->next = NULL;
}

static void lru_push_front(struct events_cache *c, struct ev_entry *e)
{
    e->next = c->head;
    if (c->head != NULL)
        c->head->prev = e;
    c->head = e;
    if (c->tail == NULL)
        c->tail = e;
}

static void cache_remove(struct events_cache *c, struct ev_entry *e)
{
    struct ev_entry **pp = &c->buckets[e->hash % c->bucket_count];
    while (*pp != e)
        pp = &(*pp)->hnext;
    *pp = e->hnext;
    lru_unlink(c, e);
    c->len--;
    free(e->key);
    free(e);
}

static void new_name(const char *object_name, int64_t unique_ns, char *out)
{
    char hex[24];
    int hex_len =
        snprintf(hex, sizeof(hex), "%llx", (unsigned long long)unique_ns);
    size_t keep =
        cut_len(or_empty(object_name), EVENTS_MAX_NAME - 1 - (size_t)hex_len);
    snprintf(out, EVENTS_MAX_NAME + 1, "%.*s.%s", (int)keep,
             or_empty(object_name), hex);
}

void events_cache_decide(const struct events_cache *c,
                         const struct events_event *ev, int64_t now_unix_ns,
                         int64_t unique_ns, struct events_decision *out)
{
    memset(out, 0, sizeof(*out));
    char key[KEY_MAX];
    size_t key_len = build_key(ev, key);
    const struct ev_entry *e = cache_find(c, key, key_len);
    if (e != NULL && now_unix_ns - e->last_ns <= c->window_ns) {
        out->patch = true;
        memcpy(out->name, e->name, sizeof(out->name));
        out->count = e->count + 1;
        out->first_unix_ns = e->first_ns;
        return;
    }
    new_name(ev->object->name, unique_ns, out->name);
    out->count = 1;
    out->first_unix_ns = now_unix_ns;
}

enum zl_err events_cache_commit(struct events_cache *c,
                                const struct events_event *ev,
                                const struct events_decision *d,
                                int64_t now_unix_ns)
{
    char key[KEY_MAX];
    size_t key_len = build_key(ev, key);
    struct ev_entry *e = cache_find(c, key, key_len);
    if (e == NULL) {
        e = calloc(1, sizeof(*e));
        char *copy = malloc(key_len + 1);
        if (e == NULL || copy == NULL) {
            free(e);
            free(copy);
            return ZL_ERR_NOMEM;
        }
        /* Make room only once the new entry exists (e is not linked yet,
         * so it cannot be the tail). */
        if (c->len >= c->max && c->tail != NULL)
            cache_remove(c, c->tail);
        memcpy(copy, key, key_len + 1);
        e->key = copy;
        e->hash = fnv(key, key_len, UINT64_C(1469598103934665603));
        e->hnext = c->buckets[e->hash % c->bucket_count];
        c->buckets[e->hash % c->bucket_count] = e;
        c->len++;
    } else {
        lru_unlink(c, e);
    }
    lru_push_front(c, e);
    memcpy(e->name, d->name, sizeof(e->name));
    e->count = d->count;
    e->first_ns = d->first_unix_ns;
    e->last_ns = now_unix_ns;
    return ZL_OK;
}

void events_cache_forget(struct events_cache *c, const struct events_event *ev)
{
    char key[KEY_MAX];
    size_t key_len = build_key(ev, key);
    struct ev_entry *e = cache_find(c, key, key_len);
    if (e != NULL)
        cache_remove(c, e);
}

/* ---- rendering ---- */

/* metav1.Time: whole seconds, never before the epoch. */
static void format_time(int64_t unix_ns, char out[CLOCK_RFC3339_MAX])
{
    clock_format_ns(unix_ns > 0 ? unix_ns : 0, CLOCK_PREC_S, out);
}

/* Appends ,"key":"value" with value cut to max bytes. */
static enum zl_err put_str(struct buf *out, const char *key, const char *value,
                           size_t max)
{
    char tmp[EVENTS_MAX_MESSAGE + 1];
    size_t n = cut_len(or_empty(value),
                       max < EVENTS_MAX_MESSAGE ? max : EVENTS_MAX_MESSAGE);
    memcpy(tmp, or_empty(value), n);
    tmp[n] = '\0';
    enum zl_err rc = buf_printf(out, ",\"%s\":", key);
    if (rc == ZL_OK)
        rc = buf_put_json_string(out, tmp);
    return rc;
}

static enum zl_err put_object(struct buf *out, const struct events_object *o)
{
    enum zl_err rc = buf_puts(out, ",\"involvedObject\":{\"kind\":");
    if (rc == ZL_OK)
        rc = buf_put_json_string(out, or_empty(o->kind));
    if (rc == ZL_OK && o->ns != NULL && o->ns[0] != '\0')
        rc = put_str(out, "namespace", o->ns, EVENTS_MAX_NAME);
    if (rc == ZL_OK)
        rc = put_str(out, "name", o->name, EVENTS_MAX_NAME);
    if (rc == ZL_OK && o->uid != NULL && o->uid[0] != '\0')
        rc = put_str(out, "uid", o->uid, EVENTS_MAX_NAME);
    if (rc == ZL_OK && o->api_version != NULL && o->api_version[0] != '\0')
        rc = put_str(out, "apiVersion", o->api_version, EVENTS_MAX_NAME);
    if (rc == ZL_OK && o->resource_version != NULL &&
        o->resource_version[0] != '\0')
        rc = put_str(out, "resourceVersion", o->resource_version,
                     EVENTS_MAX_NAME);
    if (rc == ZL_OK)
        rc = buf_putc(out, '}');
    return rc;
}

static enum zl_err put_source(struct buf *out, const struct events_source *src)
{
    enum zl_err rc = buf_puts(out, ",\"source\":{\"component\":");
    if (rc == ZL_OK)
        rc = buf_put_json_string(out, or_empty(src->component));
    if (rc == ZL_OK && src->host != NULL && src->host[0] != '\0')
        rc = put_str(out, "host", src->host, EVENTS_MAX_NAME);
    if (rc == ZL_OK)
        rc = buf_putc(out, '}');
    if (rc == ZL_OK)
        rc = put_str(out, "reportingComponent", src->component,
                     EVENTS_MAX_REASON);
    if (rc == ZL_OK)
        rc =
            put_str(out, "reportingInstance", src->instance, EVENTS_MAX_REASON);
    return rc;
}

enum zl_err events_render(const struct events_event *ev, const char *name,
                          const struct events_source *src, struct buf *out)
{
    const struct events_object *o = ev->object;
    char first[CLOCK_RFC3339_MAX], last[CLOCK_RFC3339_MAX];
    format_time(ev->first_unix_ns, first);
    format_time(ev->last_unix_ns, last);
    enum zl_err rc = buf_puts(out, "{\"apiVersion\":\"v1\",\"kind\":\"Event\","
                                   "\"metadata\":{\"name\":");
    if (rc == ZL_OK)
        rc = buf_put_json_string(out, name);
    if (rc == ZL_OK)
        rc = put_str(out, "namespace",
                     o->ns != NULL && o->ns[0] != '\0' ? o->ns : "default",
                     EVENTS_MAX_NAME);
    if (rc == ZL_OK)
        rc = buf_putc(out, '}');
    if (rc == ZL_OK)
        rc = put_object(out, o);
    if (rc == ZL_OK)
        rc = put_str(out, "reason", ev->reason, EVENTS_MAX_REASON);
    if (rc == ZL_OK)
        rc = put_str(out, "message", ev->message, EVENTS_MAX_MESSAGE);
    if (rc == ZL_OK)
        rc = put_str(out, "type", type_name(ev->type), 16);
    if (rc == ZL_OK)
        rc = put_source(out, src);
    if (rc == ZL_OK)
        rc = buf_printf(out,
                        ",\"firstTimestamp\":\"%s\",\"lastTimestamp\":\"%s\","
                        "\"count\":%ld}",
                        first, last, ev->count);
    return rc;
}

enum zl_err events_render_patch(long count, int64_t last_unix_ns,
                                struct buf *out)
{
    char last[CLOCK_RFC3339_MAX];
    format_time(last_unix_ns, last);
    return buf_printf(out, "{\"count\":%ld,\"lastTimestamp\":\"%s\"}", count,
                      last);
}

/* ---- the recorder ---- */

struct pending {
    struct pending *next;
    enum events_type type;
    int64_t at_unix_ns;
    char *kind, *api_version, *ns, *name, *uid, *resource_version;
    char *reason, *message;
};

struct events_recorder {
    struct client *client;
    char *component, *host, *instance;
    struct events_cache *cache; /* worker thread only */
    size_t queue_max;
    int max_tries;
    int64_t retry_ns;
    int64_t last_unique;

    pthread_mutex_t mu;
    pthread_cond_t cond; /* queue changed, stop, or went idle */
    struct pending *head, *tail;
    size_t queued;
    bool busy, stopping;
    pthread_t thread;
    atomic_uint_fast64_t dropped, written;
};

static char *dup_cut(const char *s, size_t max)
{
    s = or_empty(s);
    size_t n = cut_len(s, max);
    char *d = malloc(n + 1);
    if (d != NULL) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

static void pending_free(struct pending *p)
{
    if (p == NULL)
        return;
    free(p->kind);
    free(p->api_version);
    free(p->ns);
    free(p->name);
    free(p->uid);
    free(p->resource_version);
    free(p->reason);
    free(p->message);
    free(p);
}

static struct pending *pending_new(const struct events_object *o,
                                   enum events_type type, const char *reason,
                                   const char *message)
{
    struct pending *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return NULL;
    p->type = type;
    p->at_unix_ns = clock_real_ns();
    p->kind = dup_cut(o->kind, EVENTS_MAX_NAME);
    p->api_version = dup_cut(o->api_version, EVENTS_MAX_NAME);
    p->ns = dup_cut(o->ns, EVENTS_MAX_NAME);
    p->name = dup_cut(o->name, EVENTS_MAX_NAME);
    p->uid = dup_cut(o->uid, EVENTS_MAX_NAME);
    p->resource_version = dup_cut(o->resource_version, EVENTS_MAX_NAME);
    p->reason = dup_cut(reason, EVENTS_MAX_REASON);
    p->message = dup_cut(message, EVENTS_MAX_MESSAGE);
    if (!p->kind || !p->api_version || !p->ns || !p->name || !p->uid ||
        !p->resource_version || !p->reason || !p->message) {
        pending_free(p);
        return NULL;
    }
    return p;
}

void events_record(struct events_recorder *r, const struct events_object *obj,
                   enum events_type type, const char *reason, const char *fmt,
                   ...)
{
    char message[EVENTS_MAX_MESSAGE + 1];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    struct pending *p = NULL;
    pthread_mutex_lock(&r->mu);
    bool room = !r->stopping && r->queued < r->queue_max;
    pthread_mutex_unlock(&r->mu);
    if (room)
        p = pending_new(obj, type, reason, message);
    pthread_mutex_lock(&r->mu);
    if (p != NULL && !r->stopping && r->queued < r->queue_max) {
        if (r->tail != NULL)
            r->tail->next = p;
        else
            r->head = p;
        r->tail = p;
        r->queued++;
        p = NULL;
        pthread_cond_broadcast(&r->cond);
    } else {
        atomic_fetch_add(&r->dropped, 1);
    }
    pthread_mutex_unlock(&r->mu);
    pending_free(p);
}

/* Sleeps delay_ns unless stopping; false when stopping. */
static bool pause_unless_stopping(struct events_recorder *r, int64_t delay_ns)
{
    int64_t until = clock_mono_ns() + delay_ns;
    struct timespec ts = sync_timespec(until);
    pthread_mutex_lock(&r->mu);
    while (!r->stopping && clock_mono_ns() < until)
        pthread_cond_timedwait(&r->cond, &r->mu, &ts);
    bool go_on = !r->stopping;
    pthread_mutex_unlock(&r->mu);
    return go_on;
}

/* One write of the decided create or patch. */
static enum zl_err write_once(struct events_recorder *r,
                              const struct events_event *ev,
                              const struct events_decision *d)
{
    struct events_source src = {r->component, r->host, r->instance};
    const char *ns = ev->object->ns[0] != '\0' ? ev->object->ns : "default";
    struct buf body;
    struct client_response resp;
    buf_init(&body, BODY_MAX);
    client_response_init(&resp);
    enum zl_err rc =
        d->patch ? events_render_patch(d->count, ev->last_unix_ns, &body)
                 : events_render(ev, d->name, &src, &body);
    if (rc != ZL_OK)
        goto out;
    if (d->patch)
        rc = client_patch(r->client, &CLIENT_EVENTS, ns, d->name, NULL,
                          "application/merge-patch+json", body.data, &resp);
    else
        rc = client_create(r->client, &CLIENT_EVENTS, ns, body.data, &resp);
out:
    client_response_cleanup(&resp);
    buf_cleanup(&body);
    return rc;
}

static bool worth_retry(enum zl_err rc)
{
    return rc == ZL_ERR_TRANSIENT || rc == ZL_ERR_TIMEOUT ||
           rc == ZL_ERR_CONFLICT || rc == ZL_ERR_EXISTS ||
           rc == ZL_ERR_NOTFOUND || rc == ZL_ERR_IO;
}

static void deliver(struct events_recorder *r, const struct pending *p)
{
    struct events_object obj = {p->kind, p->api_version, p->ns,
                                p->name, p->uid,         p->resource_version};
    struct events_event ev = {&obj, p->type,       p->reason,    p->message,
                              1,    p->at_unix_ns, p->at_unix_ns};
    enum zl_err rc = ZL_ERR_INTERNAL;
    for (int tries = 0; tries < r->max_tries; tries++) {
        if (tries > 0 && !pause_unless_stopping(r, r->retry_ns))
            break;
        struct events_decision d;
        int64_t unique = clock_real_ns();
        r->last_unique = unique > r->last_unique ? unique : r->last_unique + 1;
        events_cache_decide(r->cache, &ev, p->at_unix_ns, r->last_unique, &d);
        ev.count = d.count;
        ev.first_unix_ns = d.first_unix_ns;
        rc = write_once(r, &ev, &d);
        if (rc == ZL_OK) {
            (void)events_cache_commit(r->cache, &ev, &d, p->at_unix_ns);
            atomic_fetch_add(&r->written, 1);
            return;
        }
        /* A patched Event that is gone (TTL): create anew next try. */
        if (d.patch && rc == ZL_ERR_NOTFOUND)
            events_cache_forget(r->cache, &ev);
        if (!worth_retry(rc))
            break;
    }
    atomic_fetch_add(&r->dropped, 1);
    log_warn("events: dropped %s %s on %s/%s: %s", type_name(p->type),
             p->reason, p->ns, p->name, zl_err_str(rc));
}

static void *events_thread(void *arg)
{
    struct events_recorder *r = arg;
    pthread_mutex_lock(&r->mu);
    for (;;) {
        while (r->head == NULL && !r->stopping)
            pthread_cond_wait(&r->cond, &r->mu);
        if (r->stopping)
            break;
        struct pending *p = r->head;
        r->head = p->next;
        if (r->head == NULL)
            r->tail = NULL;
        r->queued--;
        r->busy = true;
        pthread_mutex_unlock(&r->mu);
        deliver(r, p);
        pending_free(p);
        pthread_mutex_lock(&r->mu);
        r->busy = false;
        pthread_cond_broadcast(&r->cond);
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

static enum zl_err init_sync(struct events_recorder *r)
{
    pthread_cond_t *conds[] = {&r->cond};
    return sync_init(&r->mu, conds, 1);
}

static void free_fields(struct events_recorder *r)
{
    events_cache_free(r->cache);
    free(r->component);
    free(r->host);
    free(r->instance);
    free(r);
}

enum zl_err events_recorder_new(struct client *client,
                                const struct events_options *opt,
                                struct events_recorder **out)
{
    *out = NULL;
    if (opt->source.component == NULL || opt->source.component[0] == '\0')
        return ZL_ERR_INVALID;
    struct events_recorder *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return ZL_ERR_NOMEM;
    r->client = client;
    r->queue_max = opt->queue_max > 0 ? opt->queue_max : EVENTS_QUEUE_MAX;
    r->max_tries = opt->max_tries > 0 ? opt->max_tries : EVENTS_MAX_TRIES;
    r->retry_ns =
        (opt->retry_ms > 0 ? opt->retry_ms : EVENTS_RETRY_MS) * CLOCK_NS_PER_MS;
    r->component = dup_cut(opt->source.component, EVENTS_MAX_REASON);
    r->host = dup_cut(opt->source.host, EVENTS_MAX_NAME);
    r->instance = dup_cut(opt->source.instance, EVENTS_MAX_REASON);
    enum zl_err rc = ZL_ERR_NOMEM;
    if (r->component == NULL || r->host == NULL || r->instance == NULL)
        goto fail;
    rc = events_cache_new(opt->cache_max, opt->window_s, &r->cache);
    if (rc != ZL_OK)
        goto fail;
    rc = init_sync(r);
    if (rc != ZL_OK)
        goto fail;
    if (pthread_create(&r->thread, NULL, events_thread, r) != 0) {
        pthread_cond_destroy(&r->cond);
        pthread_mutex_destroy(&r->mu);
        rc = ZL_ERR_INTERNAL;
        goto fail;
    }
    *out = r;
    return ZL_OK;
fail:
    free_fields(r);
    return rc;
}

void events_recorder_free(struct events_recorder *r)
{
    if (r == NULL)
        return;
    pthread_mutex_lock(&r->mu);
    r->stopping = true;
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->mu);
    pthread_join(r->thread, NULL);
    while (r->head != NULL) {
        struct pending *p = r->head;
        r->head = p->next;
        pending_free(p);
    }
    pthread_cond_destroy(&r->cond);
    pthread_mutex_destroy(&r->mu);
    free_fields(r);
}

enum zl_err events_flush(struct events_recorder *r, long timeout_ms)
{
    int64_t until = clock_mono_ns() + (int64_t)timeout_ms * CLOCK_NS_PER_MS;
    struct timespec ts = sync_timespec(until);
    pthread_mutex_lock(&r->mu);
    while ((r->head != NULL || r->busy) && clock_mono_ns() < until)
        pthread_cond_timedwait(&r->cond, &r->mu, &ts);
    enum zl_err rc = r->head == NULL && !r->busy ? ZL_OK : ZL_ERR_TIMEOUT;
    pthread_mutex_unlock(&r->mu);
    return rc;
}

uint64_t events_dropped(struct events_recorder *r)
{
    return atomic_load(&r->dropped);
}

uint64_t events_written(struct events_recorder *r)
{
    return atomic_load(&r->written);
}

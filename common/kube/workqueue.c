/* SPDX-License-Identifier: Apache-2.0 */
/* The work queue: one entry per known key in a hash table carries the
 * key's whole state (queued, processing, waiting in the delay heap, failure
 * count); a FIFO ring and a min-heap point into those entries. One mutex
 * guards all of it. */
#include "kube/workqueue.h"

#include <assert.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/ratelimit.h"
#include "base/sync.h"

#define NO_POS SIZE_MAX
#define MIN_BUCKETS 64

struct wq_item {
    char *key;
    uint64_t hash;
    struct wq_item *next; /* hash chain */
    bool dirty;           /* queued, or to be queued on done */
    bool processing;      /* handed to a worker */
    size_t heap_pos;      /* index in the delay heap, NO_POS when absent */
    int64_t ready_ns;     /* when waiting: the instant it comes due */
    int failures;         /* rate-limited adds since forget */
};

struct workqueue {
    pthread_mutex_t mu;
    pthread_cond_t ready_cond; /* a key became ready, or shutdown */
    pthread_cond_t idle_cond;  /* a key finished processing */
    struct wq_item **buckets;
    size_t bucket_count;
    size_t item_count;
    struct wq_item **fifo; /* ring of dirty, not processing items */
    size_t fifo_cap, fifo_head, fifo_len;
    struct wq_item **heap; /* min-heap on ready_ns */
    size_t heap_len, heap_cap;
    size_t processing_count;
    size_t dirty_count; /* fifo_cap stays above it: done never allocates */
    bool shutting_down;
    bool limiter_on;
    struct ratelimit limiter;
    int64_t base_ns, max_ns;
    workqueue_clock_fn clock;
    void *clock_ctx;
};

static int64_t mono_ns(void *ctx)
{
    (void)ctx;
    return clock_mono_ns();
}

static uint64_t key_hash(const char *key)
{
    uint64_t h = UINT64_C(1469598103934665603);
    for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
        h ^= *p;
        h *= UINT64_C(1099511628211);
    }
    return h;
}

int64_t workqueue_backoff_ns(int64_t base_ns, int64_t max_ns, int failures)
{
    int64_t d = base_ns;
    for (int i = 0; i < failures && d < max_ns; i++) {
        if (d > INT64_MAX / 2)
            return max_ns;
        d *= 2;
    }
    return d < max_ns ? d : max_ns;
}

static enum zl_err init_sync(struct workqueue *q)
{
    pthread_cond_t *conds[] = {&q->ready_cond, &q->idle_cond};
    return sync_init(&q->mu, conds, 2);
}

static void apply_options(struct workqueue *q,
                          const struct workqueue_options *opt, double *qps,
                          int *burst)
{
    long base = WORKQUEUE_BASE_DELAY_MS, max = WORKQUEUE_MAX_BACKOFF_MS;
    *qps = WORKQUEUE_QPS;
    *burst = WORKQUEUE_BURST;
    q->clock = mono_ns;
    if (opt != NULL) {
        base = opt->base_delay_ms > 0 ? opt->base_delay_ms : base;
        max = opt->max_delay_ms > 0 ? opt->max_delay_ms : max;
        *qps = opt->qps != 0 ? opt->qps : *qps;
        *burst = opt->burst > 0 ? opt->burst : *burst;
        if (opt->clock != NULL) {
            q->clock = opt->clock;
            q->clock_ctx = opt->clock_ctx;
        }
    }
    q->base_ns = (int64_t)base * 1000000;
    q->max_ns = (int64_t)max * 1000000;
}

enum zl_err workqueue_new(const struct workqueue_options *opt,
                          struct workqueue **out)
{
    enum zl_err rc = ZL_ERR_NOMEM;
    struct workqueue *q = calloc(1, sizeof(*q));
    *out = NULL;
    if (q == NULL)
        return ZL_ERR_NOMEM;
    double qps;
    int burst;
    apply_options(q, opt, &qps, &burst);
    q->buckets = calloc(MIN_BUCKETS, sizeof(*q->buckets));
    if (q->buckets == NULL)
        goto fail;
    q->bucket_count = MIN_BUCKETS;
    rc = init_sync(q);
    if (rc != ZL_OK)
        goto fail;
    if (qps > 0) {
        rc = ratelimit_init(&q->limiter, qps, burst, q->clock(q->clock_ctx));
        if (rc != ZL_OK) {
            pthread_cond_destroy(&q->idle_cond);
            pthread_cond_destroy(&q->ready_cond);
            pthread_mutex_destroy(&q->mu);
            goto fail;
        }
        q->limiter_on = true;
    }
    *out = q;
    return ZL_OK;
fail:
    free(q->buckets);
    free(q);
    return rc;
}

void workqueue_free(struct workqueue *q)
{
    if (q == NULL)
        return;
    for (size_t i = 0; i < q->bucket_count; i++) {
        struct wq_item *it = q->buckets[i];
        while (it != NULL) {
            struct wq_item *next = it->next;
            free(it->key);
            free(it);
            it = next;
        }
    }
    free(q->buckets);
    free(q->fifo);
    free(q->heap);
    if (q->limiter_on)
        ratelimit_cleanup(&q->limiter);
    pthread_cond_destroy(&q->idle_cond);
    pthread_cond_destroy(&q->ready_cond);
    pthread_mutex_destroy(&q->mu);
    free(q);
}

/* ---- the key table ---- */

static struct wq_item *find(struct workqueue *q, const char *key, uint64_t hash)
{
    struct wq_item *it = q->buckets[hash % q->bucket_count];
    for (; it != NULL; it = it->next)
        if (it->hash == hash && strcmp(it->key, key) == 0)
            return it;
    return NULL;
}

/* Doubles the table when it is dense; a failed grow only costs speed. */
static void maybe_grow(struct workqueue *q)
{
    if (q->item_count < q->bucket_count * 2)
        return;
    size_t n = q->bucket_count * 2;
    struct wq_item **nb = calloc(n, sizeof(*nb));
    if (nb == NULL)
        return;
    for (size_t i = 0; i < q->bucket_count; i++) {
        struct wq_item *it = q->buckets[i];
        while (it != NULL) {
            struct wq_item *next = it->next;
            it->next = nb[it->hash % n];
            nb[it->hash % n] = it;
            it = next;
        }
    }
    free(q->buckets);
    q->buckets = nb;
    q->bucket_count = n;
}

static enum zl_err find_or_make(struct workqueue *q, const char *key,
                                struct wq_item **out)
{
    size_t key_len = strlen(key);
    if (key_len == 0 || key_len > WORKQUEUE_MAX_KEY)
        return ZL_ERR_LIMIT;
    uint64_t hash = key_hash(key);
    *out = find(q, key, hash);
    if (*out != NULL)
        return ZL_OK;
    struct wq_item *it = calloc(1, sizeof(*it));
    if (it == NULL)
        return ZL_ERR_NOMEM;
    it->key = malloc(key_len + 1);
    if (it->key == NULL) {
        free(it);
        return ZL_ERR_NOMEM;
    }
    memcpy(it->key, key, key_len + 1);
    it->hash = hash;
    it->heap_pos = NO_POS;
    maybe_grow(q);
    it->next = q->buckets[hash % q->bucket_count];
    q->buckets[hash % q->bucket_count] = it;
    q->item_count++;
    *out = it;
    return ZL_OK;
}

/* Frees an entry that no longer carries any state. */
static void maybe_release(struct workqueue *q, struct wq_item *it)
{
    if (it->dirty || it->processing || it->heap_pos != NO_POS ||
        it->failures != 0)
        return;
    struct wq_item **pp = &q->buckets[it->hash % q->bucket_count];
    while (*pp != it)
        pp = &(*pp)->next;
    *pp = it->next;
    q->item_count--;
    free(it->key);
    free(it);
}

/* ---- the FIFO ---- */

/* Makes room for one more dirty key. Every dirty key has a FIFO slot, so
 * re-queueing one in workqueue_done cannot fail. */
static enum zl_err fifo_reserve(struct workqueue *q)
{
    if (q->dirty_count < q->fifo_cap)
        return ZL_OK;
    size_t n = q->fifo_cap ? q->fifo_cap * 2 : 16;
    while (n <= q->dirty_count)
        n *= 2;
    struct wq_item **nf = malloc(n * sizeof(*nf));
    if (nf == NULL)
        return ZL_ERR_NOMEM;
    for (size_t i = 0; q->fifo_cap > 0 && i < q->fifo_len; i++)
        nf[i] = q->fifo[(q->fifo_head + i) % q->fifo_cap];
    free(q->fifo);
    q->fifo = nf;
    q->fifo_cap = n;
    q->fifo_head = 0;
    return ZL_OK;
}

static void fifo_push(struct workqueue *q, struct wq_item *it)
{
    assert(q->fifo_len < q->fifo_cap);
    q->fifo[(q->fifo_head + q->fifo_len) % q->fifo_cap] = it;
    q->fifo_len++;
}

static struct wq_item *fifo_pop(struct workqueue *q)
{
    struct wq_item *it = q->fifo[q->fifo_head];
    q->fifo_head = (q->fifo_head + 1) % q->fifo_cap;
    q->fifo_len--;
    return it;
}

/* client-go's Add on an entry, with room in the FIFO already made. */
static void mark_dirty(struct workqueue *q, struct wq_item *it)
{
    if (it->dirty)
        return;
    it->dirty = true;
    q->dirty_count++;
    if (it->processing)
        return;
    fifo_push(q, it);
    pthread_cond_signal(&q->ready_cond);
}

/* ---- the delay heap ---- */

static void heap_swap(struct workqueue *q, size_t a, size_t b)
{
    struct wq_item *t = q->heap[a];
    q->heap[a] = q->heap[b];
    q->heap[b] = t;
    q->heap[a]->heap_pos = a;
    q->heap[b]->heap_pos = b;
}

static void heap_up(struct workqueue *q, size_t i)
{
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (q->heap[parent]->ready_ns <= q->heap[i]->ready_ns)
            break;
        heap_swap(q, i, parent);
        i = parent;
    }
}

static void heap_down(struct workqueue *q, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < q->heap_len && q->heap[l]->ready_ns < q->heap[m]->ready_ns)
            m = l;
        if (r < q->heap_len && q->heap[r]->ready_ns < q->heap[m]->ready_ns)
            m = r;
        if (m == i)
            return;
        heap_swap(q, i, m);
        i = m;
    }
}

static enum zl_err heap_reserve(struct workqueue *q)
{
    if (q->heap_len < q->heap_cap)
        return ZL_OK;
    size_t n = q->heap_cap ? q->heap_cap * 2 : 16;
    struct wq_item **nh = realloc(q->heap, n * sizeof(*nh));
    if (nh == NULL)
        return ZL_ERR_NOMEM;
    q->heap = nh;
    q->heap_cap = n;
    return ZL_OK;
}

static struct wq_item *heap_pop(struct workqueue *q)
{
    struct wq_item *top = q->heap[0];
    q->heap_len--;
    if (q->heap_len > 0) {
        q->heap[0] = q->heap[q->heap_len];
        q->heap[0]->heap_pos = 0;
        heap_down(q, 0);
    }
    top->heap_pos = NO_POS;
    return top;
}

/* Moves the keys that came due into the FIFO. A key that cannot get FIFO
 * room stays in the heap: false then (out of memory). */
static bool move_due(struct workqueue *q, int64_t now)
{
    while (q->heap_len > 0 && q->heap[0]->ready_ns <= now) {
        if (!q->heap[0]->dirty && fifo_reserve(q) != ZL_OK)
            return false;
        struct wq_item *it = heap_pop(q);
        mark_dirty(q, it);
        maybe_release(q, it);
    }
    return true;
}

/* ---- adding ---- */

static enum zl_err add_locked(struct workqueue *q, const char *key,
                              int64_t delay_ns, bool rate_limited)
{
    struct wq_item *it;
    enum zl_err rc = find_or_make(q, key, &it);
    if (rc != ZL_OK)
        return rc;
    if (rate_limited) {
        int64_t d = workqueue_backoff_ns(q->base_ns, q->max_ns, it->failures);
        int64_t overall =
            q->limiter_on
                ? ratelimit_reserve(&q->limiter, q->clock(q->clock_ctx))
                : 0;
        delay_ns = d > overall ? d : overall;
        if (it->failures < INT32_MAX)
            it->failures++;
    }
    if (delay_ns <= 0) {
        rc = it->dirty ? ZL_OK : fifo_reserve(q);
        if (rc == ZL_OK)
            mark_dirty(q, it);
        goto out;
    }
    int64_t ready = q->clock(q->clock_ctx) + delay_ns;
    if (it->heap_pos != NO_POS) {
        if (ready < it->ready_ns) {
            it->ready_ns = ready;
            heap_up(q, it->heap_pos);
        }
        goto out;
    }
    rc = heap_reserve(q);
    if (rc != ZL_OK)
        goto out;
    it->ready_ns = ready;
    it->heap_pos = q->heap_len;
    q->heap[q->heap_len++] = it;
    heap_up(q, it->heap_pos);
    /* A getter may be sleeping until a later instant. */
    pthread_cond_broadcast(&q->ready_cond);
out:
    maybe_release(q, it);
    return rc;
}

static enum zl_err add_common(struct workqueue *q, const char *key,
                              int64_t delay_ns, bool rate_limited)
{
    pthread_mutex_lock(&q->mu);
    enum zl_err rc = ZL_OK;
    if (!q->shutting_down)
        rc = add_locked(q, key, delay_ns, rate_limited);
    pthread_mutex_unlock(&q->mu);
    return rc;
}

enum zl_err workqueue_add(struct workqueue *q, const char *key)
{
    return add_common(q, key, 0, false);
}

enum zl_err workqueue_add_after(struct workqueue *q, const char *key,
                                int64_t delay_ns)
{
    return add_common(q, key, delay_ns, false);
}

enum zl_err workqueue_add_rate_limited(struct workqueue *q, const char *key)
{
    return add_common(q, key, 0, true);
}

void workqueue_forget(struct workqueue *q, const char *key)
{
    pthread_mutex_lock(&q->mu);
    struct wq_item *it = find(q, key, key_hash(key));
    if (it != NULL) {
        it->failures = 0;
        maybe_release(q, it);
    }
    pthread_mutex_unlock(&q->mu);
}

int workqueue_num_requeues(struct workqueue *q, const char *key)
{
    pthread_mutex_lock(&q->mu);
    struct wq_item *it = find(q, key, key_hash(key));
    int n = it != NULL ? it->failures : 0;
    pthread_mutex_unlock(&q->mu);
    return n;
}

/* ---- taking ---- */

static struct timespec abs_after(int64_t delta_ns)
{
    return sync_timespec(clock_mono_ns() + delta_ns);
}

/* How long a getter may sleep: until the first delayed key is due or the
 * caller's deadline (real monotonic), whichever is first; -1 = no limit. */
static int64_t sleep_for(struct workqueue *q, int64_t deadline)
{
    int64_t d = -1;
    if (q->heap_len > 0) {
        d = q->heap[0]->ready_ns - q->clock(q->clock_ctx);
        d = d > 0 ? d : 0;
    }
    if (deadline >= 0) {
        int64_t left = deadline - clock_mono_ns();
        left = left > 0 ? left : 0;
        d = d < 0 || left < d ? left : d;
    }
    return d;
}

static enum zl_err get_locked(struct workqueue *q, int64_t deadline,
                              const char **key_out)
{
    for (;;) {
        /* A due key that cannot be moved is reported even when others are
         * ready, so no failure passes silently; the next get retries. */
        if (!move_due(q, q->clock(q->clock_ctx)))
            return ZL_ERR_NOMEM;
        if (q->fifo_len > 0)
            break;
        if (q->shutting_down)
            return ZL_ERR_CANCELLED;
        if (deadline >= 0 && clock_mono_ns() >= deadline)
            return ZL_ERR_TIMEOUT;
        int64_t d = sleep_for(q, deadline);
        if (d < 0) {
            pthread_cond_wait(&q->ready_cond, &q->mu);
        } else if (d > 0) {
            struct timespec ts = abs_after(d);
            pthread_cond_timedwait(&q->ready_cond, &q->mu, &ts);
        }
    }
    struct wq_item *it = fifo_pop(q);
    it->dirty = false;
    q->dirty_count--;
    it->processing = true;
    q->processing_count++;
    *key_out = it->key;
    return ZL_OK;
}

enum zl_err workqueue_get_timeout(struct workqueue *q, int64_t timeout_ns,
                                  const char **key_out)
{
    *key_out = NULL;
    int64_t deadline = clock_mono_ns() + (timeout_ns > 0 ? timeout_ns : 0);
    pthread_mutex_lock(&q->mu);
    enum zl_err rc = get_locked(q, deadline, key_out);
    pthread_mutex_unlock(&q->mu);
    return rc;
}

enum zl_err workqueue_get(struct workqueue *q, const char **key_out)
{
    *key_out = NULL;
    pthread_mutex_lock(&q->mu);
    enum zl_err rc = get_locked(q, -1, key_out);
    pthread_mutex_unlock(&q->mu);
    return rc;
}

/* Takes it out of the FIFO, keeping the order of the others. */
static void fifo_remove(struct workqueue *q, struct wq_item *it)
{
    size_t i = 0;
    while (i < q->fifo_len && q->fifo[(q->fifo_head + i) % q->fifo_cap] != it)
        i++;
    if (i == q->fifo_len)
        return;
    for (; i + 1 < q->fifo_len; i++)
        q->fifo[(q->fifo_head + i) % q->fifo_cap] =
            q->fifo[(q->fifo_head + i + 1) % q->fifo_cap];
    q->fifo_len--;
}

bool workqueue_claim(struct workqueue *q, const char *key, const char **key_out)
{
    struct wq_item *it = NULL;
    bool claimed = false;
    *key_out = NULL;
    pthread_mutex_lock(&q->mu);
    if (q->shutting_down || find_or_make(q, key, &it) != ZL_OK)
        goto out;
    if (it->processing) {
        if (it->dirty || fifo_reserve(q) == ZL_OK)
            mark_dirty(q, it);
        goto out;
    }
    if (it->dirty) {
        fifo_remove(q, it);
        it->dirty = false;
        q->dirty_count--;
    }
    it->processing = true;
    q->processing_count++;
    *key_out = it->key;
    claimed = true;
out:
    if (it != NULL)
        maybe_release(q, it);
    pthread_mutex_unlock(&q->mu);
    return claimed;
}

void workqueue_done(struct workqueue *q, const char *key)
{
    pthread_mutex_lock(&q->mu);
    struct wq_item *it = find(q, key, key_hash(key));
    if (it == NULL || !it->processing)
        goto out;
    it->processing = false;
    q->processing_count--;
    if (it->dirty) {
        fifo_push(q, it); /* its slot was reserved when it was marked */
        pthread_cond_signal(&q->ready_cond);
    }
    if (q->processing_count == 0)
        pthread_cond_broadcast(&q->idle_cond);
    maybe_release(q, it);
out:
    pthread_mutex_unlock(&q->mu);
}

/* ---- stopping and sizes ---- */

void workqueue_shutdown(struct workqueue *q)
{
    pthread_mutex_lock(&q->mu);
    q->shutting_down = true;
    while (q->heap_len > 0) {
        struct wq_item *it = heap_pop(q);
        maybe_release(q, it);
    }
    pthread_cond_broadcast(&q->ready_cond);
    pthread_mutex_unlock(&q->mu);
}

void workqueue_shutdown_with_drain(struct workqueue *q)
{
    workqueue_shutdown(q);
    pthread_mutex_lock(&q->mu);
    while (q->processing_count > 0)
        pthread_cond_wait(&q->idle_cond, &q->mu);
    pthread_mutex_unlock(&q->mu);
}

void workqueue_kick(struct workqueue *q)
{
    pthread_mutex_lock(&q->mu);
    pthread_cond_broadcast(&q->ready_cond);
    pthread_mutex_unlock(&q->mu);
}

size_t workqueue_len(struct workqueue *q)
{
    pthread_mutex_lock(&q->mu);
    (void)move_due(q, q->clock(q->clock_ctx)); /* due keys count as ready */
    size_t n = q->fifo_len;
    pthread_mutex_unlock(&q->mu);
    return n;
}

size_t workqueue_delayed_len(struct workqueue *q)
{
    pthread_mutex_lock(&q->mu);
    size_t n = q->heap_len;
    pthread_mutex_unlock(&q->mu);
    return n;
}

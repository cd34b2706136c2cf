/* SPDX-License-Identifier: Apache-2.0 */
/* Work queue: dedup, single flight under many threads, the backoff
 * sequence, the overall bucket, delayed adds in order, and draining. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "base/clock.h"
#include "kube/workqueue.h"

#define MS CLOCK_NS_PER_MS

static _Atomic int64_t fake_now;

static int64_t fake_clock(void *ctx)
{
    (void)ctx;
    return atomic_load(&fake_now);
}

static struct workqueue *fake_queue(double qps, int burst)
{
    struct workqueue_options opt = {
        .qps = qps, .burst = burst, .clock = fake_clock};
    struct workqueue *q = NULL;
    atomic_store(&fake_now, 1000 * MS);
    cr_assert_eq(workqueue_new(&opt, &q), ZL_OK);
    return q;
}

static void advance(struct workqueue *q, int64_t ns)
{
    atomic_fetch_add(&fake_now, ns);
    workqueue_kick(q);
}

static void expect_get(struct workqueue *q, const char *want)
{
    const char *key = NULL;
    cr_assert_eq(workqueue_get_timeout(q, 0, &key), ZL_OK, "want %s", want);
    cr_assert_str_eq(key, want);
    workqueue_done(q, key);
}

static void expect_empty(struct workqueue *q)
{
    const char *key = NULL;
    cr_assert_eq(workqueue_get_timeout(q, 0, &key), ZL_ERR_TIMEOUT);
}

Test(workqueue, adding_a_queued_key_is_a_no_op)
{
    struct workqueue *q = fake_queue(-1, 0);
    cr_assert_eq(workqueue_add(q, "ns/a"), ZL_OK);
    cr_assert_eq(workqueue_add(q, "ns/b"), ZL_OK);
    cr_assert_eq(workqueue_add(q, "ns/a"), ZL_OK);
    cr_assert_eq(workqueue_len(q), 2);
    expect_get(q, "ns/a");
    expect_get(q, "ns/b");
    expect_empty(q);
    workqueue_free(q);
}

Test(workqueue, rejects_empty_and_oversized_keys)
{
    struct workqueue *q = fake_queue(-1, 0);
    char big[WORKQUEUE_MAX_KEY + 2];
    memset(big, 'k', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    cr_assert_eq(workqueue_add(q, ""), ZL_ERR_LIMIT);
    cr_assert_eq(workqueue_add(q, big), ZL_ERR_LIMIT);
    big[WORKQUEUE_MAX_KEY] = '\0';
    cr_assert_eq(workqueue_add(q, big), ZL_OK);
    workqueue_free(q);
}

Test(workqueue, key_added_while_processing_is_queued_on_done)
{
    struct workqueue *q = fake_queue(-1, 0);
    const char *key = NULL;
    cr_assert_eq(workqueue_add(q, "a"), ZL_OK);
    cr_assert_eq(workqueue_get_timeout(q, 0, &key), ZL_OK);
    cr_assert_eq(workqueue_add(q, "a"), ZL_OK);
    cr_assert_eq(workqueue_add(q, "a"), ZL_OK);
    cr_assert_eq(workqueue_len(q), 0, "never handed out while processing");
    expect_empty(q);
    workqueue_done(q, key);
    cr_assert_eq(workqueue_len(q), 1);
    expect_get(q, "a");
    expect_empty(q);
    workqueue_free(q);
}

Test(workqueue, claim_takes_a_queued_key_out_of_line)
{
    struct workqueue *q = fake_queue(-1, 0);
    const char *key = NULL;
    cr_assert_eq(workqueue_add(q, "a"), ZL_OK);
    cr_assert_eq(workqueue_add(q, "b"), ZL_OK);
    cr_assert_eq(workqueue_add(q, "c"), ZL_OK);
    cr_assert(workqueue_claim(q, "b", &key));
    cr_assert_str_eq(key, "b");
    cr_assert_eq(workqueue_len(q), 2, "b left the FIFO");
    expect_get(q, "a");
    expect_get(q, "c");
    expect_empty(q);
    workqueue_done(q, key);
    expect_empty(q);
    workqueue_free(q);
}

Test(workqueue, claim_of_an_unknown_key_processes_it)
{
    struct workqueue *q = fake_queue(-1, 0);
    const char *key = NULL;
    cr_assert(workqueue_claim(q, "x", &key));
    cr_assert_eq(workqueue_add(q, "x"), ZL_OK);
    expect_empty(q); /* processing: the add waits for done */
    const char *again = NULL;
    cr_assert_not(workqueue_claim(q, "x", &again), "never two at once");
    cr_assert_null(again);
    workqueue_done(q, key);
    expect_get(q, "x");
    expect_empty(q);
    workqueue_free(q);
}

Test(workqueue, claim_of_a_key_a_worker_has_marks_it_to_run_again)
{
    struct workqueue *q = fake_queue(-1, 0);
    const char *key = NULL;
    const char *mine = NULL;
    cr_assert_eq(workqueue_add(q, "a"), ZL_OK);
    cr_assert_eq(workqueue_get_timeout(q, 0, &key), ZL_OK);
    cr_assert_not(workqueue_claim(q, "a", &mine));
    cr_assert_null(mine);
    expect_empty(q);
    workqueue_done(q, key);
    expect_get(q, "a"); /* the claim's event is not lost */
    expect_empty(q);
    workqueue_free(q);
}

Test(workqueue,
     claim_leaves_a_delayed_key_delayed_and_is_refused_after_shutdown)
{
    struct workqueue *q = fake_queue(-1, 0);
    const char *key = NULL;
    cr_assert_eq(workqueue_add_after(q, "d", 50 * MS), ZL_OK);
    cr_assert(workqueue_claim(q, "d", &key));
    workqueue_done(q, key);
    cr_assert_eq(workqueue_delayed_len(q), 1);
    expect_empty(q);
    advance(q, 50 * MS);
    expect_get(q, "d");
    workqueue_shutdown(q);
    cr_assert_not(workqueue_claim(q, "e", &key));
    cr_assert_null(key);
    workqueue_free(q);
}

Test(workqueue, claim_keeps_the_fifo_order_across_its_wrap)
{
    struct workqueue *q = fake_queue(-1, 0);
    char name[8];
    const char *key = NULL;
    /* Advance the ring's head so the queued keys wrap around its end. */
    for (int i = 0; i < 12; i++) {
        snprintf(name, sizeof(name), "w%d", i);
        cr_assert_eq(workqueue_add(q, name), ZL_OK);
    }
    for (int i = 0; i < 12; i++) {
        snprintf(name, sizeof(name), "w%d", i);
        expect_get(q, name);
    }
    for (int i = 0; i < 10; i++) {
        snprintf(name, sizeof(name), "k%d", i);
        cr_assert_eq(workqueue_add(q, name), ZL_OK);
    }
    cr_assert(workqueue_claim(q, "k3", &key));
    workqueue_done(q, key);
    cr_assert(workqueue_claim(q, "k9", &key));
    workqueue_done(q, key);
    for (int i = 0; i < 10; i++) {
        if (i == 3 || i == 9)
            continue;
        snprintf(name, sizeof(name), "k%d", i);
        expect_get(q, name);
    }
    expect_empty(q);
    workqueue_free(q);
}

/* Backoff: 5 ms doubling, capped at 1000 s. */
Test(workqueue, backoff_sequence_doubles_from_5ms_to_1000s)
{
    static const struct {
        int failures;
        int64_t want_ms;
    } table[] = {
        {0, 5},
        {1, 10},
        {2, 20},
        {3, 40},
        {4, 80},
        {5, 160},
        {6, 320},
        {7, 640},
        {8, 1280},
        {9, 2560},
        {10, 5120},
        {11, 10240},
        {12, 20480},
        {13, 40960},
        {14, 81920},
        {15, 163840},
        {16, 327680},
        {17, 655360},
        {18, 1000000},
        {19, 1000000},
        {40, 1000000},
        {100, 1000000},
        {INT32_MAX, 1000000},
    };
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        int64_t got = workqueue_backoff_ns(WORKQUEUE_BASE_DELAY_MS * MS,
                                           WORKQUEUE_MAX_BACKOFF_MS * MS,
                                           table[i].failures);
        cr_assert_eq(got, table[i].want_ms * MS, "failures %d: got %lld ns",
                     table[i].failures, (long long)got);
    }
}

Test(workqueue, rate_limited_add_waits_per_key_backoff)
{
    struct workqueue *q = fake_queue(-1, 0);
    for (int n = 0; n < 6; n++) {
        int64_t want = (INT64_C(5) << n) * MS;
        cr_assert_eq(workqueue_add_rate_limited(q, "k"), ZL_OK);
        cr_assert_eq(workqueue_num_requeues(q, "k"), n + 1);
        cr_assert_eq(workqueue_delayed_len(q), 1);
        advance(q, want - 1);
        expect_empty(q);
        advance(q, 1);
        expect_get(q, "k");
    }
    workqueue_forget(q, "k");
    cr_assert_eq(workqueue_num_requeues(q, "k"), 0);
    cr_assert_eq(workqueue_add_rate_limited(q, "k"), ZL_OK);
    advance(q, 5 * MS);
    expect_get(q, "k");
    workqueue_free(q);
}

/* MaxOf(per-key, overall): with 10 qps burst 2 the third key in the same
 * instant waits for the bucket (100 ms), not its own 5 ms. */
Test(workqueue, overall_bucket_limits_many_keys)
{
    struct workqueue *q = fake_queue(10, 2);
    cr_assert_eq(workqueue_add_rate_limited(q, "a"), ZL_OK);
    cr_assert_eq(workqueue_add_rate_limited(q, "b"), ZL_OK);
    cr_assert_eq(workqueue_add_rate_limited(q, "c"), ZL_OK);
    advance(q, 5 * MS);
    expect_get(q, "a");
    expect_get(q, "b");
    expect_empty(q);
    advance(q, 94 * MS);
    expect_empty(q);
    advance(q, 1 * MS);
    expect_get(q, "c");
    workqueue_free(q);
}

Test(workqueue, defaults_allow_a_burst_of_100)
{
    struct workqueue *q = fake_queue(0, 0);
    char key[16];
    for (int i = 0; i < 101; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        cr_assert_eq(workqueue_add_rate_limited(q, key), ZL_OK);
    }
    advance(q, 5 * MS);
    cr_assert_eq(workqueue_len(q), 100);
    advance(q, 95 * MS);
    cr_assert_eq(workqueue_get_timeout(q, 0, &(const char *){NULL}), ZL_OK);
    cr_assert_eq(workqueue_delayed_len(q), 0);
    workqueue_free(q);
}

Test(workqueue, add_after_comes_out_in_due_order)
{
    struct workqueue *q = fake_queue(-1, 0);
    cr_assert_eq(workqueue_add_after(q, "c", 30 * MS), ZL_OK);
    cr_assert_eq(workqueue_add_after(q, "a", 10 * MS), ZL_OK);
    cr_assert_eq(workqueue_add_after(q, "d", 40 * MS), ZL_OK);
    cr_assert_eq(workqueue_add_after(q, "b", 20 * MS), ZL_OK);
    /* A second add of a waiting key keeps the earlier instant. */
    cr_assert_eq(workqueue_add_after(q, "d", 5 * MS), ZL_OK);
    cr_assert_eq(workqueue_add_after(q, "a", 50 * MS), ZL_OK);
    cr_assert_eq(workqueue_delayed_len(q), 4);
    cr_assert_eq(workqueue_len(q), 0);
    advance(q, 100 * MS);
    expect_get(q, "d");
    expect_get(q, "a");
    expect_get(q, "b");
    expect_get(q, "c");
    expect_empty(q);
    workqueue_free(q);
}

Test(workqueue, add_after_of_a_queued_key_does_not_duplicate)
{
    struct workqueue *q = fake_queue(-1, 0);
    cr_assert_eq(workqueue_add(q, "a"), ZL_OK);
    cr_assert_eq(workqueue_add_after(q, "a", 10 * MS), ZL_OK);
    advance(q, 10 * MS);
    expect_get(q, "a");
    expect_empty(q);
    workqueue_free(q);
}

/* Real clock: a getter blocked on an empty queue wakes for a delayed key. */
Test(workqueue, blocked_get_wakes_when_delayed_key_is_due)
{
    struct workqueue *q = NULL;
    cr_assert_eq(workqueue_new(NULL, &q), ZL_OK);
    int64_t t0 = clock_mono_ns();
    cr_assert_eq(workqueue_add_after(q, "x", 30 * MS), ZL_OK);
    const char *key = NULL;
    cr_assert_eq(workqueue_get(q, &key), ZL_OK);
    int64_t waited = clock_mono_ns() - t0;
    cr_assert_str_eq(key, "x");
    cr_assert_geq(waited, 30 * MS);
    cr_assert_lt(waited, 1000 * MS);
    workqueue_done(q, key);
    t0 = clock_mono_ns();
    cr_assert_eq(workqueue_get_timeout(q, 20 * MS, &key), ZL_ERR_TIMEOUT);
    cr_assert_geq(clock_mono_ns() - t0, 20 * MS);
    workqueue_free(q);
}

Test(workqueue, shutdown_hands_out_ready_keys_then_cancels)
{
    struct workqueue *q = fake_queue(-1, 0);
    cr_assert_eq(workqueue_add(q, "a"), ZL_OK);
    cr_assert_eq(workqueue_add_after(q, "late", 10 * MS), ZL_OK);
    workqueue_shutdown(q);
    cr_assert_eq(workqueue_add(q, "b"), ZL_OK);
    cr_assert_eq(workqueue_len(q), 1, "adds after shutdown are ignored");
    cr_assert_eq(workqueue_delayed_len(q), 0, "delayed keys dropped");
    const char *key = NULL;
    cr_assert_eq(workqueue_get(q, &key), ZL_OK);
    cr_assert_str_eq(key, "a");
    workqueue_done(q, key);
    cr_assert_eq(workqueue_get(q, &key), ZL_ERR_CANCELLED);
    cr_assert_null(key);
    workqueue_free(q);
}

struct drain_ctx {
    struct workqueue *q;
    atomic_int drained;
};

static void *drainer(void *arg)
{
    struct drain_ctx *ctx = arg;
    workqueue_shutdown_with_drain(ctx->q);
    atomic_store(&ctx->drained, 1);
    return NULL;
}

static void *blocked_getter(void *arg)
{
    const char *key = NULL;
    return (void *)(intptr_t)workqueue_get(arg, &key);
}

Test(workqueue, drain_waits_for_keys_in_processing)
{
    struct drain_ctx ctx = {0};
    cr_assert_eq(workqueue_new(NULL, &ctx.q), ZL_OK);
    pthread_t getter, drain;
    cr_assert_eq(workqueue_add(ctx.q, "busy"), ZL_OK);
    const char *key = NULL;
    cr_assert_eq(workqueue_get(ctx.q, &key), ZL_OK);
    cr_assert_eq(pthread_create(&getter, NULL, blocked_getter, ctx.q), 0);
    cr_assert_eq(pthread_create(&drain, NULL, drainer, &ctx), 0);
    struct timespec pause = {.tv_nsec = 50 * 1000 * 1000};
    nanosleep(&pause, NULL);
    cr_assert_eq(atomic_load(&ctx.drained), 0, "returned while processing");
    void *getter_rc = NULL;
    cr_assert_eq(pthread_join(getter, &getter_rc), 0);
    cr_assert_eq((intptr_t)getter_rc, ZL_ERR_CANCELLED);
    workqueue_done(ctx.q, key);
    cr_assert_eq(pthread_join(drain, NULL), 0);
    cr_assert_eq(atomic_load(&ctx.drained), 1);
    workqueue_free(ctx.q);
}

/* ---- many threads: a key is never processed by two workers at once ---- */

#define STRESS_KEYS 16
#define STRESS_WORKERS 8
#define STRESS_ADDS 20000

struct stress {
    struct workqueue *q;
    atomic_int in_flight[STRESS_KEYS];
    atomic_int processed[STRESS_KEYS];
    atomic_int violations;
    atomic_int added_since[STRESS_KEYS]; /* adds not yet seen processed */
};

static int key_index(const char *key)
{
    int i = 0;
    cr_assert_eq(sscanf(key, "key-%d", &i), 1);
    return i;
}

static void *stress_worker(void *arg)
{
    struct stress *s = arg;
    const char *key = NULL;
    unsigned seed = (unsigned)(uintptr_t)&key;
    while (workqueue_get(s->q, &key) == ZL_OK) {
        int i = key_index(key);
        atomic_store(&s->added_since[i], 0);
        if (atomic_fetch_add(&s->in_flight[i], 1) != 0)
            atomic_fetch_add(&s->violations, 1);
        for (int spin = rand_r(&seed) % 64; spin > 0; spin--)
            sched_yield();
        atomic_fetch_sub(&s->in_flight[i], 1);
        atomic_fetch_add(&s->processed[i], 1);
        workqueue_done(s->q, key);
    }
    return NULL;
}

static void *stress_producer(void *arg)
{
    struct stress *s = arg;
    unsigned seed = 7;
    char key[32];
    for (int n = 0; n < STRESS_ADDS; n++) {
        int i = rand_r(&seed) % STRESS_KEYS;
        snprintf(key, sizeof(key), "key-%d", i);
        atomic_store(&s->added_since[i], 1);
        if (workqueue_add(s->q, key) != ZL_OK)
            atomic_fetch_add(&s->violations, 1);
    }
    return NULL;
}

Test(workqueue, never_two_workers_on_one_key, .timeout = 60)
{
    static struct stress s;
    memset(&s, 0, sizeof(s));
    cr_assert_eq(workqueue_new(NULL, &s.q), ZL_OK);
    pthread_t workers[STRESS_WORKERS], producers[2];
    for (int i = 0; i < STRESS_WORKERS; i++)
        cr_assert_eq(pthread_create(&workers[i], NULL, stress_worker, &s), 0);
    for (int i = 0; i < 2; i++)
        cr_assert_eq(pthread_create(&producers[i], NULL, stress_producer, &s),
                     0);
    for (int i = 0; i < 2; i++)
        pthread_join(producers[i], NULL);
    /* Every key added must still be processed after its last add. */
    const char *k = NULL;
    for (;;) {
        int pending = 0;
        for (int i = 0; i < STRESS_KEYS; i++)
            pending += atomic_load(&s.added_since[i]);
        if (pending == 0 && workqueue_len(s.q) == 0)
            break;
        sched_yield();
    }
    workqueue_shutdown_with_drain(s.q);
    for (int i = 0; i < STRESS_WORKERS; i++)
        pthread_join(workers[i], NULL);
    cr_assert_eq(atomic_load(&s.violations), 0);
    int total = 0;
    for (int i = 0; i < STRESS_KEYS; i++) {
        cr_assert_gt(atomic_load(&s.processed[i]), 0);
        total += atomic_load(&s.processed[i]);
    }
    cr_assert_leq(total, 2 * STRESS_ADDS);
    cr_assert_eq(workqueue_get(s.q, &k), ZL_ERR_CANCELLED);
    workqueue_free(s.q);
}

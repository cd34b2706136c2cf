/* SPDX-License-Identifier: Apache-2.0 */
/* A rate-limited work queue of string keys, like client-go's: adding a
 * queued key is a no-op, a key is never handed to two workers at once,
 * failures requeue with per-key exponential backoff combined with an overall
 * token bucket, and keys can be added after a delay. Thread safe. It runs no
 * thread of its own and never sleeps in the adding caller. */
#ifndef ZL_KUBE_WORKQUEUE_H
#define ZL_KUBE_WORKQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

#define WORKQUEUE_BASE_DELAY_MS 5L
#define WORKQUEUE_MAX_BACKOFF_MS 1000000L /* 1000 s */
#define WORKQUEUE_QPS 10.0
#define WORKQUEUE_BURST 100
#define WORKQUEUE_MAX_KEY 1024 /* longest key accepted, in bytes */

/* A clock: monotonic nanoseconds. Tests pass a fake one and call
 * workqueue_kick after moving it. */
typedef int64_t (*workqueue_clock_fn)(void *ctx);

struct workqueue_options {
    long base_delay_ms;       /* first backoff; <= 0: WORKQUEUE_BASE_DELAY_MS */
    long max_delay_ms;        /* backoff cap; <= 0: WORKQUEUE_MAX_BACKOFF_MS */
    double qps;               /* overall bucket; 0: WORKQUEUE_QPS; < 0: none */
    int burst;                /* <= 0: WORKQUEUE_BURST */
    workqueue_clock_fn clock; /* NULL: CLOCK_MONOTONIC */
    void *clock_ctx;
};

struct workqueue;

/* Makes an empty queue. opt may be NULL (all defaults). ZL_ERR_NOMEM,
 * ZL_ERR_INTERNAL when a lock cannot be made. Free with workqueue_free. */
enum zl_err workqueue_new(const struct workqueue_options *opt,
                          struct workqueue **out);

/* Frees the queue and every key in it. No thread may still use it (shut it
 * down and join the workers first). NULL is a no-op. */
void workqueue_free(struct workqueue *q);

/* Queues key (copied) unless it is queued already; a key being processed
 * is queued again when its worker calls workqueue_done. A no-op after
 * shutdown. ZL_ERR_LIMIT for a key longer than WORKQUEUE_MAX_KEY or empty,
 * ZL_ERR_NOMEM. */
enum zl_err workqueue_add(struct workqueue *q, const char *key);

/* Queues key once delay_ns has passed (at once when delay_ns <= 0). A key
 * already waiting keeps the earlier of its two instants. Errors as
 * workqueue_add. */
enum zl_err workqueue_add_after(struct workqueue *q, const char *key,
                                int64_t delay_ns);

/* Queues key after max(per-key backoff, overall bucket delay) and counts a
 * requeue for it: the n-th call (from 0) since workqueue_forget waits
 * base * 2^n, capped. Errors as workqueue_add. */
enum zl_err workqueue_add_rate_limited(struct workqueue *q, const char *key);

/* Resets key's backoff and requeue count (call after a success). */
void workqueue_forget(struct workqueue *q, const char *key);

/* How many times key was rate-limited since it was last forgotten. */
int workqueue_num_requeues(struct workqueue *q, const char *key);

/* Takes the next key, waiting for one (and moving delayed keys that came
 * due). *key_out is borrowed: valid until workqueue_done for it. The key is
 * then "processing": adds of it only mark it for later. ZL_ERR_CANCELLED
 * once the queue is shut down and no key is ready; ZL_ERR_NOMEM when a
 * delayed key that came due could not be queued (it stays delayed; try
 * again). */
enum zl_err workqueue_get(struct workqueue *q, const char **key_out);

/* As workqueue_get, but waits at most timeout_ns (0: does not wait).
 * ZL_ERR_TIMEOUT when nothing came in time. */
enum zl_err workqueue_get_timeout(struct workqueue *q, int64_t timeout_ns,
                                  const char **key_out);

/* Takes key on the caller's thread, now, as workqueue_get would once it
 * came first: true when the caller now processes it (end with
 * workqueue_done; *key_out as with workqueue_get). A queued key leaves the
 * FIFO; a delayed one stays delayed. False when a worker processes it
 * (it is then marked to run again, as workqueue_add does), the queue is
 * shut down or out of memory. For an event loop that answers an urgent
 * event itself rather than wait for a worker to wake up. */
bool workqueue_claim(struct workqueue *q, const char *key,
                     const char **key_out);

/* Ends the processing of key (the string from workqueue_get or an equal
 * one); if it was added meanwhile, it is queued again. */
void workqueue_done(struct workqueue *q, const char *key);

/* Stops the queue: adds are ignored, delayed keys dropped, workqueue_get
 * returns the keys still ready and then ZL_ERR_CANCELLED. */
void workqueue_shutdown(struct workqueue *q);

/* workqueue_shutdown, then waits until no key is being processed. */
void workqueue_shutdown_with_drain(struct workqueue *q);

/* Wakes waiting getters so they re-read the clock (for fake clocks). */
void workqueue_kick(struct workqueue *q);

/* Keys ready to be taken, delayed ones that came due included: the
 * zen_lead_workqueue_depth gauge. */
size_t workqueue_len(struct workqueue *q);

/* Keys waiting for their delay to pass. */
size_t workqueue_delayed_len(struct workqueue *q);

/* The per-key backoff for a key that failed `failures` times before:
 * base_ns * 2^failures, capped at max_ns (pure). */
int64_t workqueue_backoff_ns(int64_t base_ns, int64_t max_ns, int failures);

#endif

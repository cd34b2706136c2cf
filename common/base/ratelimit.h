/* SPDX-License-Identifier: Apache-2.0 */
/* A token-bucket rate limiter (qps tokens a second, at most burst saved),
 * like Go's golang.org/x/time/rate used by client-go. It can block until a
 * token is due (with cancel) or only say how long until it is due, so the
 * same limiter serves the REST client and a workqueue. It does no I/O. */
#ifndef ZL_BASE_RATELIMIT_H
#define ZL_BASE_RATELIMIT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"

struct ratelimit {
    pthread_mutex_t mu;
    pthread_cond_t cond; /* signalled by ratelimit_cancel */
    double qps;          /* <= 0: no limit */
    double burst;        /* bucket size, at least 1 */
    double tokens;       /* may go negative: tokens already promised */
    int64_t last_ns;     /* instant tokens was computed for */
    bool cancelled;
};

/* Starts a full bucket at now_ns (clock_mono_ns() for ratelimit_wait
 * users; any monotonic clock for ratelimit_reserve-only users). qps <= 0
 * disables the limit; burst < 1 counts as 1. ZL_ERR_NOMEM/ZL_ERR_INTERNAL when
 * the mutex or condition cannot be made. */
enum zl_err ratelimit_init(struct ratelimit *rl, double qps, int burst,
                           int64_t now_ns);

/* Destroys the mutex and condition. No waiter may remain. */
void ratelimit_cleanup(struct ratelimit *rl);

/* Takes one token and returns how many nanoseconds from now_ns the caller
 * must wait before using it (0 when one is available). Never blocks beyond
 * the mutex; pure arithmetic on the bucket given now_ns. A now_ns earlier
 * than a previous call counts as no time passed. */
int64_t ratelimit_reserve(struct ratelimit *rl, int64_t now_ns);

/* Takes one token, sleeping until it is due (clock_mono_ns). ZL_OK, or
 * ZL_ERR_CANCELLED when ratelimit_cancel was called before or during the
 * wait (the token is given back). */
enum zl_err ratelimit_wait(struct ratelimit *rl);

/* Sleeps delay_ns unless cancelled first (for retry backoff sharing the
 * limiter's cancel). ZL_OK or ZL_ERR_CANCELLED. */
enum zl_err ratelimit_sleep(struct ratelimit *rl, int64_t delay_ns);

/* Wakes every waiter with ZL_ERR_CANCELLED; later waits fail at once. */
void ratelimit_cancel(struct ratelimit *rl);

#endif

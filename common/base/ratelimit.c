/* SPDX-License-Identifier: Apache-2.0 */
/* Token bucket. Reservations may drive the bucket negative: each caller
 * is promised a token at a later instant, so waiters are served in the
 * order they asked, as with Go's rate.Limiter.Reserve. */
#include "base/ratelimit.h"

#include "base/clock.h"
#include "base/sync.h"

#include <errno.h>
#include <time.h>

enum zl_err ratelimit_init(struct ratelimit *rl, double qps, int burst,
                           int64_t now_ns)
{
    rl->qps = qps;
    rl->burst = burst < 1 ? 1.0 : (double)burst;
    rl->tokens = rl->burst;
    rl->last_ns = now_ns;
    rl->cancelled = false;
    pthread_cond_t *conds[] = {&rl->cond};
    return sync_init(&rl->mu, conds, 1);
}

void ratelimit_cleanup(struct ratelimit *rl)
{
    if (rl == NULL)
        return;
    pthread_cond_destroy(&rl->cond);
    pthread_mutex_destroy(&rl->mu);
}

/* Called with rl->mu held. */
static int64_t reserve_locked(struct ratelimit *rl, int64_t now_ns)
{
    if (rl->qps <= 0)
        return 0;
    if (now_ns > rl->last_ns) {
        double add =
            (double)(now_ns - rl->last_ns) * rl->qps / (double)CLOCK_NS_PER_S;
        rl->tokens =
            rl->tokens + add > rl->burst ? rl->burst : rl->tokens + add;
        rl->last_ns = now_ns;
    }
    rl->tokens -= 1.0;
    if (rl->tokens >= 0)
        return 0;
    double wait = -rl->tokens / rl->qps * (double)CLOCK_NS_PER_S;
    return (int64_t)(wait + 0.5);
}

int64_t ratelimit_reserve(struct ratelimit *rl, int64_t now_ns)
{
    pthread_mutex_lock(&rl->mu);
    int64_t d = reserve_locked(rl, now_ns);
    pthread_mutex_unlock(&rl->mu);
    return d;
}

/* Called with rl->mu held; waits until deadline or cancel. */
static enum zl_err wait_locked(struct ratelimit *rl, int64_t deadline_ns)
{
    struct timespec ts = sync_timespec(deadline_ns);
    while (!rl->cancelled && clock_mono_ns() < deadline_ns) {
        int rc = pthread_cond_timedwait(&rl->cond, &rl->mu, &ts);
        if (rc == ETIMEDOUT)
            break;
    }
    return rl->cancelled ? ZL_ERR_CANCELLED : ZL_OK;
}

enum zl_err ratelimit_wait(struct ratelimit *rl)
{
    enum zl_err rc = ZL_OK;
    pthread_mutex_lock(&rl->mu);
    if (rl->cancelled) {
        rc = ZL_ERR_CANCELLED;
        goto out;
    }
    int64_t now = clock_mono_ns();
    int64_t delay = reserve_locked(rl, now);
    if (delay > 0)
        rc = wait_locked(rl, now + delay);
    if (rc != ZL_OK && rl->qps > 0)
        rl->tokens += 1.0; /* give the unused promise back */
out:
    pthread_mutex_unlock(&rl->mu);
    return rc;
}

enum zl_err ratelimit_sleep(struct ratelimit *rl, int64_t delay_ns)
{
    pthread_mutex_lock(&rl->mu);
    enum zl_err rc = rl->cancelled ? ZL_ERR_CANCELLED : ZL_OK;
    if (rc == ZL_OK && delay_ns > 0)
        rc = wait_locked(rl, clock_mono_ns() + delay_ns);
    pthread_mutex_unlock(&rl->mu);
    return rc;
}

void ratelimit_cancel(struct ratelimit *rl)
{
    pthread_mutex_lock(&rl->mu);
    rl->cancelled = true;
    pthread_cond_broadcast(&rl->cond);
    pthread_mutex_unlock(&rl->mu);
}

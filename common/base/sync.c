/* SPDX-License-Identifier: Apache-2.0 */
/* Mutex and monotonic condition variables, and their deadlines. */
#include "base/sync.h"

#include "base/clock.h"

enum zl_err sync_init(pthread_mutex_t *mu, pthread_cond_t *const *conds,
                      size_t cond_count)
{
    pthread_condattr_t attr;
    size_t made = 0;
    if (pthread_condattr_init(&attr) != 0)
        return ZL_ERR_NOMEM;
    if (pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) != 0 ||
        pthread_mutex_init(mu, NULL) != 0) {
        pthread_condattr_destroy(&attr);
        return ZL_ERR_NOMEM;
    }
    while (made < cond_count && pthread_cond_init(conds[made], &attr) == 0)
        made++;
    pthread_condattr_destroy(&attr);
    if (made == cond_count)
        return ZL_OK;
    sync_destroy(mu, conds, made);
    return ZL_ERR_NOMEM;
}

void sync_destroy(pthread_mutex_t *mu, pthread_cond_t *const *conds,
                  size_t cond_count)
{
    for (size_t i = 0; i < cond_count; i++)
        pthread_cond_destroy(conds[i]);
    pthread_mutex_destroy(mu);
}

struct timespec sync_timespec(int64_t monotonic_ns)
{
    struct timespec ts = {
        .tv_sec = (time_t)(monotonic_ns / CLOCK_NS_PER_S),
        .tv_nsec = (long)(monotonic_ns % CLOCK_NS_PER_S),
    };
    return ts;
}

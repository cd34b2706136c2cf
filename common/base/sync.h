/* SPDX-License-Identifier: Apache-2.0 */
/* Small helpers for the threads of common/: a mutex with condition
 * variables on the monotonic clock (so a wall-clock jump never stretches or
 * cuts a wait), and absolute deadlines for pthread_cond_timedwait. The time
 * itself comes from base/clock (clock_mono_ns). */
#ifndef ZL_BASE_SYNC_H
#define ZL_BASE_SYNC_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "base/err.h"

/* Initialises mu and cond_count condition variables that time out on
 * CLOCK_MONOTONIC. On failure nothing stays initialised and the result is
 * ZL_ERR_NOMEM. */
enum zl_err sync_init(pthread_mutex_t *mu, pthread_cond_t *const *conds,
                      size_t cond_count);

/* Destroys what sync_init initialised. */
void sync_destroy(pthread_mutex_t *mu, pthread_cond_t *const *conds,
                  size_t cond_count);

/* A monotonic instant (clock_mono_ns) as the timespec
 * pthread_cond_timedwait takes. */
struct timespec sync_timespec(int64_t monotonic_ns);

#endif

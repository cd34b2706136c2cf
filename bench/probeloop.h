/* SPDX-License-Identifier: Apache-2.0 */
/* zl-probe's open loop: request i starts at t_start + i * interval on a new
 * non-blocking TCP connection whatever became of the earlier ones, and
 * every connection, deadline and backoff is driven by one epoll set and
 * one timerfd. It hands each finished request to a callback; it does not
 * format, write or summarise anything (probecore and main do). */
#ifndef ZL_BENCH_PROBELOOP_H
#define ZL_BENCH_PROBELOOP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "base/err.h"
#include "probecore.h"

/* Called once per request when it is over (r is valid during the call). */
typedef void (*probeloop_done_fn)(void *ctx, const struct probe_request *r);

struct probeloop_options {
    struct sockaddr_storage addr; /* the target, IPv4 or IPv6 */
    socklen_t addr_len;
    const char *request; /* the bytes sent on every attempt */
    size_t request_len;
    bool head;            /* HEAD: the answer has no body */
    bool guided;          /* else naive: one attempt under timeout_ns */
    bool retry;           /* guided and the method is idempotent */
    unsigned max_retries; /* <= PROBE_MAX_RETRIES */
    int64_t interval_ns;  /* > 0 */
    uint64_t count;       /* requests to start; 0: no limit */
    int64_t duration_ns;  /* start requests due before this; 0: no limit */
    int64_t timeout_ns;   /* naive: the whole request */
    int64_t connect_timeout_ns; /* guided: per attempt, to connect */
    int64_t attempt_timeout_ns; /* guided: per attempt, in all */
    struct probe_backoff backoff;
    uint64_t seed;
    int stop_fd; /* readable: stop starting requests (the signal pipe); -1 */
    probeloop_done_fn done;
    void *done_ctx;
};

/* Runs the loop until the count or duration is reached or stop_fd turns
 * readable, then until every request in flight is over (each within its
 * timeouts and retries). A request that cannot get a socket is over at
 * once, with PROBE_OTHER. ZL_ERR_IO when epoll or the timer fail (the
 * requests in flight are then not reported), ZL_ERR_NOMEM. */
enum zl_err probeloop_run(const struct probeloop_options *o);

#endif

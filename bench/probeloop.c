/* SPDX-License-Identifier: Apache-2.0 */
/* The open loop on epoll and a timerfd. Requests live in slots; a slot's
 * epoll tag carries its index and an attempt generation, so an event left
 * over from a closed connection can never act on the next attempt. What
 * must stay true: a request starts when it is due even when every earlier
 * one hangs (nothing here blocks, and starting never waits for a slot). */
#include "probeloop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "base/clock.h"

#define LOOP_EVENTS 64
#define LOOP_READ_CHUNK 4096
#define TAG_TIMER UINT64_MAX
#define TAG_STOP (UINT64_MAX - 1)

enum slot_state {
    SLOT_FREE = 0,
    SLOT_CONNECTING,
    SLOT_SENDING,
    SLOT_READING,
    SLOT_BACKOFF,
};

struct slot {
    enum slot_state state;
    uint32_t gen; /* bumped per attempt */
    int fd;
    int64_t req_mono, att_mono; /* starts, CLOCK_MONOTONIC */
    int64_t connect_deadline, deadline, wake;
    int64_t next_backoff_ns;
    size_t sent;
    struct buf resp;
    struct probe_request req;
};

struct loop {
    const struct probeloop_options *o;
    int ep, timer;
    struct slot *slots;
    size_t slot_cap;
    size_t active;
    uint64_t started;
    int64_t t0_mono, t0_real;
    struct probe_rng rng;
    bool stopping;
};

static void end_attempt(struct loop *l, size_t idx, enum probe_kind kind,
                        int err, int status);

static uint64_t slot_tag(size_t idx, uint32_t gen)
{
    return ((uint64_t)gen << 32) | (uint64_t)idx;
}

static enum zl_err grow(struct loop *l)
{
    size_t cap = l->slot_cap != 0 ? l->slot_cap * 2 : 64;
    if (cap > UINT32_MAX)
        return ZL_ERR_LIMIT;
    struct slot *grown = realloc(l->slots, cap * sizeof(*grown));
    if (grown == NULL)
        return ZL_ERR_NOMEM;
    memset(grown + l->slot_cap, 0, (cap - l->slot_cap) * sizeof(*grown));
    for (size_t i = l->slot_cap; i < cap; i++) {
        grown[i].fd = -1;
        buf_init(&grown[i].resp, PROBE_MAX_RESPONSE);
    }
    l->slots = grown;
    l->slot_cap = cap;
    return ZL_OK;
}

static enum zl_err take_slot(struct loop *l, size_t *idx)
{
    for (size_t i = 0; i < l->slot_cap; i++) {
        if (l->slots[i].state == SLOT_FREE) {
            *idx = i;
            return ZL_OK;
        }
    }
    *idx = l->slot_cap;
    return grow(l);
}

static bool done_starting(const struct loop *l)
{
    const struct probeloop_options *o = l->o;
    return l->stopping || (o->count != 0 && l->started >= o->count) ||
           (o->duration_ns != 0 &&
            (int64_t)l->started * o->interval_ns >= o->duration_ns);
}

static int64_t due_mono(const struct loop *l)
{
    return l->t0_mono + (int64_t)l->started * l->o->interval_ns;
}

static void set_deadlines(struct loop *l, struct slot *s)
{
    const struct probeloop_options *o = l->o;
    if (o->guided) {
        s->connect_deadline = s->att_mono + o->connect_timeout_ns;
        s->deadline = s->att_mono + o->attempt_timeout_ns;
    } else {
        s->deadline = s->req_mono + o->timeout_ns;
        s->connect_deadline = s->deadline;
    }
    if (s->connect_deadline > s->deadline)
        s->connect_deadline = s->deadline;
}

/* A new connection; the answer to connect() comes as EPOLLOUT. */
static void start_attempt(struct loop *l, size_t idx, int64_t backoff_ns)
{
    struct slot *s = &l->slots[idx];
    struct probe_attempt *a = &s->req.attempts[s->req.attempt_count++];
    memset(a, 0, sizeof(*a));
    a->backoff_ns = backoff_ns;
    s->att_mono = clock_mono_ns();
    a->start_ns = clock_real_ns();
    set_deadlines(l, s);
    s->sent = 0;
    s->gen++;
    buf_reset(&s->resp);
    s->state = SLOT_CONNECTING;
    s->fd = socket(l->o->addr.ss_family,
                   SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->fd < 0) {
        end_attempt(l, idx, PROBE_OTHER, errno, 0);
        return;
    }
    if (connect(s->fd, (const struct sockaddr *)&l->o->addr, l->o->addr_len) !=
            0 &&
        errno != EINPROGRESS) {
        int err = errno;
        end_attempt(l, idx, probe_classify_errno(err, PROBE_PHASE_CONNECT), err,
                    0);
        return;
    }
    struct epoll_event ev = {.events = EPOLLOUT,
                             .data.u64 = slot_tag(idx, s->gen)};
    if (epoll_ctl(l->ep, EPOLL_CTL_ADD, s->fd, &ev) != 0)
        end_attempt(l, idx, PROBE_OTHER, errno, 0);
}

static void end_request(struct loop *l, size_t idx, int64_t now_mono,
                        int64_t now_real)
{
    struct slot *s = &l->slots[idx];
    struct probe_request *r = &s->req;
    const struct probe_attempt *last = &r->attempts[r->attempt_count - 1];
    r->end_ns = now_real;
    r->duration_ns = now_mono - s->req_mono;
    r->kind = last->kind;
    r->status = last->status;
    if (r->kind != PROBE_OK)
        r->pod[0] = '\0';
    l->o->done(l->o->done_ctx, r);
    s->state = SLOT_FREE;
    l->active--;
}

static bool may_retry(const struct loop *l, const struct slot *s,
                      enum probe_kind kind, int status)
{
    const struct probeloop_options *o = l->o;
    return o->guided && o->retry && s->req.attempt_count <= o->max_retries &&
           s->req.attempt_count < PROBE_MAX_ATTEMPTS &&
           probe_kind_retryable(kind, status);
}

static void end_attempt(struct loop *l, size_t idx, enum probe_kind kind,
                        int err, int status)
{
    struct slot *s = &l->slots[idx];
    struct probe_attempt *a = &s->req.attempts[s->req.attempt_count - 1];
    if (s->fd >= 0)
        close(s->fd); /* also leaves the epoll set */
    s->fd = -1;
    int64_t now_mono = clock_mono_ns(), now_real = clock_real_ns();
    a->end_ns = now_real;
    a->duration_ns = now_mono - s->att_mono;
    a->kind = kind;
    a->sys_errno = err;
    a->status = status;
    if (!may_retry(l, s, kind, status)) {
        end_request(l, idx, now_mono, now_real);
        return;
    }
    s->next_backoff_ns =
        probe_backoff_delay(&l->o->backoff, s->req.attempt_count, &l->rng);
    s->wake = now_mono + s->next_backoff_ns;
    s->state = SLOT_BACKOFF;
}

static void send_request(struct loop *l, size_t idx)
{
    struct slot *s = &l->slots[idx];
    const struct probeloop_options *o = l->o;
    while (s->sent < o->request_len) {
        ssize_t n = send(s->fd, o->request + s->sent, o->request_len - s->sent,
                         MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n < 0) {
            int err = errno;
            end_attempt(l, idx, probe_classify_errno(err, PROBE_PHASE_EXCHANGE),
                        err, 0);
            return;
        }
        s->sent += (size_t)n;
    }
    struct epoll_event ev = {.events = EPOLLIN,
                             .data.u64 = slot_tag(idx, s->gen)};
    s->state = SLOT_READING;
    if (epoll_ctl(l->ep, EPOLL_CTL_MOD, s->fd, &ev) != 0)
        end_attempt(l, idx, PROBE_OTHER, errno, 0);
}

static void on_writable(struct loop *l, size_t idx)
{
    struct slot *s = &l->slots[idx];
    if (s->state == SLOT_CONNECTING) {
        int err = 0;
        socklen_t len = sizeof(err);
        if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
            err = errno;
        if (err != 0) {
            end_attempt(l, idx, probe_classify_errno(err, PROBE_PHASE_CONNECT),
                        err, 0);
            return;
        }
        s->state = SLOT_SENDING;
    }
    send_request(l, idx);
}

/* After new bytes or the close: true when the attempt is over. */
static bool judge(struct loop *l, size_t idx, bool eof)
{
    struct slot *s = &l->slots[idx];
    struct probe_response r;
    enum zl_err rc =
        probe_response_parse(s->resp.data, s->resp.len, l->o->head, eof, &r);
    if (rc != ZL_OK) {
        end_attempt(l, idx, PROBE_BAD_RESPONSE, 0, r.status);
        return true;
    }
    if (!r.complete)
        return false;
    enum probe_kind kind = probe_status_kind(r.status);
    if (kind == PROBE_OK)
        probe_pod_name(s->resp.data + r.body_off, r.body_len, s->req.pod);
    end_attempt(l, idx, kind, 0, r.status);
    return true;
}

static void on_readable(struct loop *l, size_t idx)
{
    char chunk[LOOP_READ_CHUNK];
    struct slot *s = &l->slots[idx];
    for (;;) {
        size_t room = s->resp.max - s->resp.len;
        if (room == 0) {
            end_attempt(l, idx, PROBE_BAD_RESPONSE, 0, 0);
            return;
        }
        ssize_t n =
            recv(s->fd, chunk, room < sizeof(chunk) ? room : sizeof(chunk), 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n < 0) {
            int err = errno;
            end_attempt(l, idx, probe_classify_errno(err, PROBE_PHASE_EXCHANGE),
                        err, 0);
            return;
        }
        if (n > 0 && buf_append(&s->resp, chunk, (size_t)n) != ZL_OK) {
            end_attempt(l, idx, PROBE_OTHER, ENOMEM, 0);
            return;
        }
        if (judge(l, idx, n == 0))
            return;
    }
}

static void on_event(struct loop *l, uint64_t tag)
{
    size_t idx = (size_t)(tag & UINT32_MAX);
    if (idx >= l->slot_cap || l->slots[idx].gen != (uint32_t)(tag >> 32))
        return; /* a connection closed since */
    switch (l->slots[idx].state) {
    case SLOT_CONNECTING:
    case SLOT_SENDING:
        on_writable(l, idx);
        break;
    case SLOT_READING:
        on_readable(l, idx);
        break;
    case SLOT_FREE:
    case SLOT_BACKOFF:
        break;
    }
}

static void expire_one(struct loop *l, size_t idx, int64_t now)
{
    struct slot *s = &l->slots[idx];
    switch (s->state) {
    case SLOT_CONNECTING:
        if (now >= s->connect_deadline)
            end_attempt(l, idx, PROBE_TIMEOUT_CONNECT, 0, 0);
        break;
    case SLOT_SENDING:
    case SLOT_READING:
        if (now >= s->deadline)
            end_attempt(l, idx, PROBE_TIMEOUT_READ, 0, 0);
        break;
    case SLOT_BACKOFF:
        if (now >= s->wake)
            start_attempt(l, idx, s->next_backoff_ns);
        break;
    case SLOT_FREE:
        break;
    }
}

static enum zl_err start_due(struct loop *l)
{
    while (!done_starting(l) && due_mono(l) <= clock_mono_ns()) {
        size_t idx;
        enum zl_err rc = take_slot(l, &idx);
        if (rc != ZL_OK)
            return rc;
        struct slot *s = &l->slots[idx];
        memset(&s->req, 0, sizeof(s->req));
        s->req.seq = l->started;
        s->req.sched_ns = l->t0_real + (int64_t)l->started * l->o->interval_ns;
        s->req_mono = clock_mono_ns();
        s->req.start_ns = clock_real_ns();
        l->started++;
        l->active++;
        start_attempt(l, idx, 0);
    }
    return ZL_OK;
}

static int64_t slot_wake(const struct slot *s)
{
    switch (s->state) {
    case SLOT_CONNECTING:
        return s->connect_deadline;
    case SLOT_SENDING:
    case SLOT_READING:
        return s->deadline;
    case SLOT_BACKOFF:
        return s->wake;
    case SLOT_FREE:
        break;
    }
    return INT64_MAX;
}

static enum zl_err arm_timer(struct loop *l)
{
    int64_t when = done_starting(l) ? INT64_MAX : due_mono(l);
    for (size_t i = 0; i < l->slot_cap; i++) {
        int64_t w = slot_wake(&l->slots[i]);
        when = w < when ? w : when;
    }
    if (when == INT64_MAX)
        return ZL_OK; /* only the stop pipe or the sockets can wake us */
    when = when > 0 ? when : 1; /* zero would disarm the timer */
    struct itimerspec its = {
        .it_value = {.tv_sec = (time_t)(when / CLOCK_NS_PER_S),
                     .tv_nsec = (long)(when % CLOCK_NS_PER_S)}};
    return timerfd_settime(l->timer, TFD_TIMER_ABSTIME, &its, NULL) == 0
               ? ZL_OK
               : ZL_ERR_IO;
}

static void drain(int fd)
{
    char sink[64];
    while (read(fd, sink, sizeof(sink)) > 0) {
    }
}

static enum zl_err wait_events(struct loop *l)
{
    struct epoll_event ev[LOOP_EVENTS];
    int n = epoll_wait(l->ep, ev, LOOP_EVENTS, -1);
    if (n < 0)
        return errno == EINTR ? ZL_OK : ZL_ERR_IO;
    for (int i = 0; i < n; i++) {
        if (ev[i].data.u64 == TAG_TIMER) {
            drain(l->timer);
        } else if (ev[i].data.u64 == TAG_STOP) {
            drain(l->o->stop_fd);
            l->stopping = true;
        } else {
            on_event(l, ev[i].data.u64);
        }
    }
    return ZL_OK;
}

static enum zl_err loop_open(struct loop *l)
{
    struct epoll_event tev = {.events = EPOLLIN, .data.u64 = TAG_TIMER};
    struct epoll_event sev = {.events = EPOLLIN, .data.u64 = TAG_STOP};
    l->ep = epoll_create1(EPOLL_CLOEXEC);
    l->timer = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (l->ep < 0 || l->timer < 0 ||
        epoll_ctl(l->ep, EPOLL_CTL_ADD, l->timer, &tev) != 0)
        return ZL_ERR_IO;
    if (l->o->stop_fd >= 0 &&
        epoll_ctl(l->ep, EPOLL_CTL_ADD, l->o->stop_fd, &sev) != 0)
        return ZL_ERR_IO;
    return grow(l);
}

static void loop_close(struct loop *l)
{
    for (size_t i = 0; i < l->slot_cap; i++) {
        if (l->slots[i].fd >= 0)
            close(l->slots[i].fd);
        buf_cleanup(&l->slots[i].resp);
    }
    free(l->slots);
    if (l->timer >= 0)
        close(l->timer);
    if (l->ep >= 0)
        close(l->ep);
}

enum zl_err probeloop_run(const struct probeloop_options *o)
{
    struct loop l = {.o = o, .ep = -1, .timer = -1};
    probe_rng_seed(&l.rng, o->seed);
    enum zl_err rc = loop_open(&l);
    l.t0_mono = clock_mono_ns();
    l.t0_real = clock_real_ns();
    while (rc == ZL_OK) {
        rc = start_due(&l);
        int64_t now = clock_mono_ns();
        for (size_t i = 0; rc == ZL_OK && i < l.slot_cap; i++)
            expire_one(&l, i, now);
        if (rc != ZL_OK || (done_starting(&l) && l.active == 0))
            break;
        rc = arm_timer(&l);
        if (rc == ZL_OK)
            rc = wait_events(&l);
    }
    loop_close(&l);
    return rc;
}

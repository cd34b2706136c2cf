/* SPDX-License-Identifier: Apache-2.0 */
/* The dataplane's pod server: one epoll loop, non-blocking sockets, a fixed
 * table of connections each with a deadline. A connection is read until the
 * blank line that ends the request head, answered with a prebuilt response
 * and closed; it never waits on a slow client past its deadline. */
#define _GNU_SOURCE /* accept4 */
#include "podsrv.h"

#include <errno.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/clock.h"

/* epoll tags beyond the connection slots. */
#define PODSRV_TAG_LISTEN ((uint64_t)PODSRV_MAX_CONNS)
#define PODSRV_TAG_STOP ((uint64_t)PODSRV_MAX_CONNS + 1)
#define PODSRV_TAG_STOP_FD ((uint64_t)PODSRV_MAX_CONNS + 2)
/* The longest epoll wait, so deadlines are enforced within it. */
#define PODSRV_TICK_MS 50
#define PODSRV_EVENTS 64
#define PODSRV_RESPONSE_MAX (PODSRV_MAX_NAME + 160)

struct podsrv_conn {
    int fd;           /* -1: slot free */
    bool writing;     /* the head is in; sending the answer */
    uint32_t last4;   /* the last four bytes read, for the blank line */
    size_t in_len;    /* bytes of request read */
    size_t out_off;   /* bytes of the answer sent */
    int64_t deadline; /* monotonic ns */
};

struct podsrv {
    int listen_fd;
    int epoll_fd;
    int stop_efd;
    int stop_fd;
    int port;
    int64_t timeout_ns;
    char response[PODSRV_RESPONSE_MAX];
    size_t response_len;
    struct podsrv_conn conns[PODSRV_MAX_CONNS];
    int free_slots[PODSRV_MAX_CONNS];
    int n_free;
    struct podsrv_stats stats;
};

/* Splits "ADDR:PORT" / "[ADDR6]:PORT" into host and port (both copied). */
static enum zl_err split_hostport(const char *text, char *host, size_t host_len,
                                  const char **port)
{
    const char *colon = strrchr(text, ':');
    const char *h = text;
    size_t n;
    if (colon == NULL || colon[1] == '\0')
        return ZL_ERR_INVALID;
    n = (size_t)(colon - text);
    if (n >= 2 && text[0] == '[' && text[n - 1] == ']') {
        h = text + 1;
        n -= 2;
    }
    if (n == 0 || n >= host_len)
        return ZL_ERR_INVALID;
    memcpy(host, h, n);
    host[n] = '\0';
    *port = colon + 1;
    return ZL_OK;
}

static enum zl_err bind_listen(const char *listen_addr, int *fd_out)
{
    char host[NI_MAXHOST];
    const char *port = NULL;
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    int fd = -1, one = 1;
    enum zl_err rc = split_hostport(listen_addr, host, sizeof(host), &port);
    if (rc != ZL_OK)
        return rc;
    if (getaddrinfo(host, port, &hints, &ai) != 0)
        return ZL_ERR_INVALID;
    rc = ZL_ERR_IO;
    fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        goto out;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
        listen(fd, SOMAXCONN) != 0) {
        fprintf(stderr, "podsrv: %s: %s\n", listen_addr, strerror(errno));
        goto out;
    }
    *fd_out = fd;
    fd = -1;
    rc = ZL_OK;
out:
    if (fd >= 0)
        close(fd);
    freeaddrinfo(ai);
    return rc;
}

static int bound_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    char port[NI_MAXSERV];
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0 ||
        getnameinfo((struct sockaddr *)&ss, len, NULL, 0, port, sizeof(port),
                    NI_NUMERICSERV) != 0)
        return -1;
    return (int)strtol(port, NULL, 10);
}

static enum zl_err epoll_watch(struct podsrv *s, int fd, uint32_t events,
                               uint64_t tag)
{
    struct epoll_event ev = {.events = events, .data.u64 = tag};
    return epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, fd, &ev) == 0 ? ZL_OK
                                                               : ZL_ERR_IO;
}

static enum zl_err build_response(struct podsrv *s, const char *name)
{
    size_t name_len = strlen(name);
    int n;
    if (name_len == 0 || name_len > PODSRV_MAX_NAME ||
        strpbrk(name, "\r\n") != NULL)
        return ZL_ERR_INVALID;
    n = snprintf(s->response, sizeof(s->response),
                 "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                 "Content-Length: %zu\r\nConnection: close\r\n\r\n%s\n",
                 name_len + 1, name);
    if (n < 0 || (size_t)n >= sizeof(s->response))
        return ZL_ERR_LIMIT;
    s->response_len = (size_t)n;
    return ZL_OK;
}

static void init_slots(struct podsrv *s)
{
    for (int i = 0; i < PODSRV_MAX_CONNS; i++) {
        s->conns[i].fd = -1;
        s->free_slots[i] = PODSRV_MAX_CONNS - 1 - i;
    }
    s->n_free = PODSRV_MAX_CONNS;
}

static enum zl_err setup_fds(struct podsrv *s, const struct podsrv_options *o)
{
    enum zl_err rc = bind_listen(o->listen, &s->listen_fd);
    if (rc != ZL_OK)
        return rc;
    s->port = bound_port(s->listen_fd);
    s->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    s->stop_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (s->epoll_fd < 0 || s->stop_efd < 0)
        return ZL_ERR_IO;
    rc = epoll_watch(s, s->listen_fd, EPOLLIN, PODSRV_TAG_LISTEN);
    if (rc == ZL_OK)
        rc = epoll_watch(s, s->stop_efd, EPOLLIN, PODSRV_TAG_STOP);
    if (rc == ZL_OK && s->stop_fd >= 0)
        rc = epoll_watch(s, s->stop_fd, EPOLLIN, PODSRV_TAG_STOP_FD);
    return rc;
}

enum zl_err podsrv_new(const struct podsrv_options *opts, struct podsrv **out)
{
    enum zl_err rc;
    struct podsrv *s;
    *out = NULL;
    if (opts->listen == NULL || opts->name == NULL || opts->timeout_ms < 0)
        return ZL_ERR_INVALID;
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return ZL_ERR_NOMEM;
    s->listen_fd = s->epoll_fd = s->stop_efd = -1;
    s->stop_fd = opts->stop_fd;
    s->timeout_ns =
        (opts->timeout_ms > 0 ? opts->timeout_ms : PODSRV_DEFAULT_TIMEOUT_MS) *
        CLOCK_NS_PER_MS;
    init_slots(s);
    rc = build_response(s, opts->name);
    if (rc == ZL_OK)
        rc = setup_fds(s, opts);
    if (rc != ZL_OK) {
        podsrv_free(s);
        return rc;
    }
    *out = s;
    return ZL_OK;
}

int podsrv_port(const struct podsrv *s)
{
    return s->port;
}

struct podsrv_stats podsrv_stats(const struct podsrv *s)
{
    return s->stats;
}

void podsrv_stop(struct podsrv *s)
{
    uint64_t one = 1;
    /* A full counter means a stop is pending already. */
    if (write(s->stop_efd, &one, sizeof(one)) < 0)
        return;
}

static void conn_close(struct podsrv *s, int slot)
{
    struct podsrv_conn *c = &s->conns[slot];
    /* close() removes the fd from the epoll set. */
    close(c->fd);
    c->fd = -1;
    s->free_slots[s->n_free++] = slot;
}

static void accept_all(struct podsrv *s, int64_t now)
{
    for (;;) {
        int fd =
            accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return; /* EAGAIN, or a peer gone before accept */
        if (s->n_free == 0) {
            close(fd);
            s->stats.dropped++;
            continue;
        }
        int slot = s->free_slots[--s->n_free];
        s->conns[slot] =
            (struct podsrv_conn){.fd = fd, .deadline = now + s->timeout_ns};
        if (epoll_watch(s, fd, EPOLLIN, (uint64_t)slot) != ZL_OK)
            conn_close(s, slot);
    }
}

/* Feeds read bytes to the blank-line detector; true once the head ended
 * ("\r\n\r\n", or "\n\n" from a lax client). */
static bool head_done(struct podsrv_conn *c, const char *buf, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        c->last4 = (c->last4 << 8) | (uint8_t)buf[i];
        if (c->last4 == 0x0d0a0d0a || (c->last4 & 0xffff) == 0x0a0a)
            return true;
    }
    return false;
}

/* Sends what is left of the answer; true when the connection is done
 * (sent, or failed). */
static bool conn_write(struct podsrv *s, struct podsrv_conn *c)
{
    while (c->out_off < s->response_len) {
        ssize_t n = send(c->fd, s->response + c->out_off,
                         s->response_len - c->out_off, MSG_NOSIGNAL);
        if (n < 0)
            return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
        c->out_off += (size_t)n;
    }
    s->stats.served++;
    (void)shutdown(c->fd, SHUT_WR);
    return true;
}

static void conn_start_writing(struct podsrv *s, int slot)
{
    struct podsrv_conn *c = &s->conns[slot];
    struct epoll_event ev = {.events = EPOLLOUT, .data.u64 = (uint64_t)slot};
    c->writing = true;
    if (conn_write(s, c)) {
        conn_close(s, slot);
        return;
    }
    if (epoll_ctl(s->epoll_fd, EPOLL_CTL_MOD, c->fd, &ev) != 0)
        conn_close(s, slot);
}

/* Reads what is there; returns true when the connection must close. */
static bool conn_read(struct podsrv *s, int slot)
{
    struct podsrv_conn *c = &s->conns[slot];
    char buf[4096];
    for (;;) {
        ssize_t n = recv(c->fd, buf, sizeof(buf), 0);
        if (n == 0)
            return true;
        if (n < 0)
            return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
        c->in_len += (size_t)n;
        if (head_done(c, buf, (size_t)n)) {
            conn_start_writing(s, slot);
            return false;
        }
        if (c->in_len > PODSRV_MAX_REQUEST) {
            s->stats.dropped++;
            return true;
        }
    }
}

static void conn_event(struct podsrv *s, int slot, uint32_t events)
{
    struct podsrv_conn *c = &s->conns[slot];
    if (c->fd < 0)
        return;
    if (c->writing) {
        if ((events & (EPOLLERR | EPOLLHUP)) != 0 || conn_write(s, c))
            conn_close(s, slot);
        return;
    }
    if (conn_read(s, slot) && c->fd >= 0)
        conn_close(s, slot);
}

static void expire(struct podsrv *s, int64_t now)
{
    for (int i = 0; i < PODSRV_MAX_CONNS; i++) {
        if (s->conns[i].fd >= 0 && now >= s->conns[i].deadline) {
            conn_close(s, i);
            s->stats.timed_out++;
        }
    }
}

enum zl_err podsrv_run(struct podsrv *s)
{
    struct epoll_event evs[PODSRV_EVENTS];
    int64_t next_sweep = clock_mono_ns();
    for (;;) {
        int n = epoll_wait(s->epoll_fd, evs, PODSRV_EVENTS, PODSRV_TICK_MS);
        int64_t now = clock_mono_ns();
        if (n < 0 && errno != EINTR)
            return ZL_ERR_IO;
        for (int i = 0; i < n; i++) {
            uint64_t tag = evs[i].data.u64;
            if (tag == PODSRV_TAG_STOP || tag == PODSRV_TAG_STOP_FD)
                return ZL_OK;
            if (tag == PODSRV_TAG_LISTEN)
                accept_all(s, now);
            else
                conn_event(s, (int)tag, evs[i].events);
        }
        if (now >= next_sweep) {
            expire(s, now);
            next_sweep = now + PODSRV_TICK_MS * CLOCK_NS_PER_MS;
        }
    }
}

void podsrv_free(struct podsrv *s)
{
    if (s == NULL)
        return;
    for (int i = 0; i < PODSRV_MAX_CONNS; i++) {
        if (s->conns[i].fd >= 0)
            close(s->conns[i].fd);
    }
    if (s->listen_fd >= 0)
        close(s->listen_fd);
    if (s->epoll_fd >= 0)
        close(s->epoll_fd);
    if (s->stop_efd >= 0)
        close(s->stop_efd);
    free(s);
}

/* SPDX-License-Identifier: Apache-2.0 */
/* The dataplane's pod server on loopback: the exact answer, a head split
 * across writes, thousands of short connections, hundreds open at once, a
 * silent client closed at its deadline while others are served, oversized
 * heads and bad options. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "podsrv.h"

static char WANT[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                     "Content-Length: 6\r\nConnection: close\r\n\r\n"
                     "web-1\n";
static const char GET[] = "GET / HTTP/1.1\r\nHost: x\r\nUser-Agent: t\r\n\r\n";

struct running {
    struct podsrv *srv;
    pthread_t thread;
    enum zl_err rc;
};

static void *run_thread(void *arg)
{
    struct running *r = arg;
    r->rc = podsrv_run(r->srv);
    return NULL;
}

static void start(struct running *r, int timeout_ms)
{
    struct podsrv_options o = {.listen = "127.0.0.1:0",
                               .name = "web-1",
                               .timeout_ms = timeout_ms,
                               .stop_fd = -1};
    cr_assert(eq(int, podsrv_new(&o, &r->srv), ZL_OK));
    cr_assert(gt(int, podsrv_port(r->srv), 0));
    cr_assert(eq(int, pthread_create(&r->thread, NULL, run_thread, r), 0));
}

static struct podsrv_stats finish(struct running *r)
{
    podsrv_stop(r->srv);
    cr_assert(eq(int, pthread_join(r->thread, NULL), 0));
    cr_assert(eq(int, r->rc, ZL_OK));
    struct podsrv_stats st = podsrv_stats(r->srv);
    podsrv_free(r->srv);
    return st;
}

static int dial(int port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port)};
    struct timeval tv = {.tv_sec = 5};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    cr_assert(ge(int, fd, 0));
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    cr_assert(eq(int, connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0));
    return fd;
}

/* Reads until EOF (or the 5 s receive timeout) into buf; returns the
 * length, -1 on a timeout or error. */
static ssize_t read_all(int fd, char *buf, size_t cap)
{
    size_t used = 0;
    for (;;) {
        ssize_t n = recv(fd, buf + used, cap - 1 - used, 0);
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        used += (size_t)n;
        if (used == cap - 1)
            break;
    }
    buf[used] = '\0';
    return (ssize_t)used;
}

/* One request on a new connection; the answer in buf. */
static ssize_t request(int port, const char *req, char *buf, size_t cap)
{
    int fd = dial(port);
    cr_assert(eq(sz, (size_t)send(fd, req, strlen(req), 0), strlen(req)));
    ssize_t n = read_all(fd, buf, cap);
    close(fd);
    return n;
}

Test(podsrv, answers_its_name_and_closes)
{
    struct running r;
    char buf[1024];
    start(&r, 0);
    cr_expect(eq(sz, (size_t)request(podsrv_port(r.srv), GET, buf, sizeof(buf)),
                 strlen(WANT)));
    cr_expect(eq(str, buf, WANT));
    cr_expect(eq(u64, finish(&r).served, 1));
}

Test(podsrv, answers_a_head_sent_in_pieces_and_lax_line_ends)
{
    struct running r;
    char buf[1024];
    start(&r, 0);
    int fd = dial(podsrv_port(r.srv));
    struct timespec pause = {0, 20 * 1000 * 1000};
    size_t len = strlen(GET);
    for (size_t i = 0; i < len; i += 5) {
        size_t n = len - i < 5 ? len - i : 5;
        cr_assert(eq(sz, (size_t)send(fd, GET + i, n, 0), n));
        nanosleep(&pause, NULL);
    }
    cr_expect(eq(sz, (size_t)read_all(fd, buf, sizeof(buf)), strlen(WANT)));
    close(fd);
    cr_expect(eq(sz,
                 (size_t)request(podsrv_port(r.srv), "GET / HTTP/1.0\n\n", buf,
                                 sizeof(buf)),
                 strlen(WANT)));
    cr_expect(eq(str, buf, WANT));
    cr_expect(eq(u64, finish(&r).served, 2));
}

Test(podsrv, serves_thousands_of_short_connections)
{
    struct running r;
    char buf[1024];
    int bad = 0;
    start(&r, 0);
    for (int i = 0; i < 3000; i++) {
        if (request(podsrv_port(r.srv), GET, buf, sizeof(buf)) !=
                (ssize_t)strlen(WANT) ||
            strcmp(buf, WANT) != 0)
            bad++;
    }
    cr_expect(eq(int, bad, 0));
    struct podsrv_stats st = finish(&r);
    cr_expect(eq(u64, st.served, 3000));
    cr_expect(eq(u64, st.timed_out, 0));
}

Test(podsrv, serves_hundreds_of_connections_open_at_once)
{
    enum { OPEN = 300 };
    struct running r;
    static int fds[OPEN];
    char buf[1024];
    int bad = 0;
    start(&r, 0);
    for (int i = 0; i < OPEN; i++)
        fds[i] = dial(podsrv_port(r.srv));
    /* Answered in the reverse order of connection. */
    for (int i = OPEN - 1; i >= 0; i--) {
        if (send(fds[i], GET, strlen(GET), 0) != (ssize_t)strlen(GET) ||
            read_all(fds[i], buf, sizeof(buf)) != (ssize_t)strlen(WANT) ||
            strcmp(buf, WANT) != 0)
            bad++;
        close(fds[i]);
    }
    cr_expect(eq(int, bad, 0));
    cr_expect(eq(u64, finish(&r).served, OPEN));
}

Test(podsrv, closes_a_silent_client_at_its_deadline_and_serves_others)
{
    struct running r;
    char buf[1024];
    start(&r, 300);
    int silent = dial(podsrv_port(r.srv));
    int64_t t0 = clock_mono_ns();
    /* Others are answered while the silent one waits. */
    cr_expect(eq(sz, (size_t)request(podsrv_port(r.srv), GET, buf, sizeof(buf)),
                 strlen(WANT)));
    cr_expect(lt(i64, clock_mono_ns() - t0, 200 * CLOCK_NS_PER_MS));
    /* Then the silent one gets EOF, no answer, near its deadline. */
    cr_expect(eq(sz, (size_t)read_all(silent, buf, sizeof(buf)), 0));
    int64_t waited_ms = (clock_mono_ns() - t0) / CLOCK_NS_PER_MS;
    cr_expect(ge(i64, waited_ms, 250), "closed after %lld ms",
              (long long)waited_ms);
    cr_expect(lt(i64, waited_ms, 1500), "closed after %lld ms",
              (long long)waited_ms);
    close(silent);
    struct podsrv_stats st = finish(&r);
    cr_expect(eq(u64, st.served, 1));
    cr_expect(eq(u64, st.timed_out, 1));
}

Test(podsrv, drops_an_oversized_head_without_answer)
{
    struct running r;
    static char big[PODSRV_MAX_REQUEST + 4096];
    char buf[1024];
    start(&r, 0);
    static const char head[] = "GET / HTTP/1.1\r\nX-Pad: ";
    memcpy(big, head, sizeof(head) - 1);
    memset(big + sizeof(head) - 1, 'a', sizeof(big) - sizeof(head));
    big[sizeof(big) - 1] = '\0';
    int fd = dial(podsrv_port(r.srv));
    /* The server may close before all is sent: no assert on send. */
    (void)send(fd, big, strlen(big), MSG_NOSIGNAL);
    cr_expect(le(int, (int)read_all(fd, buf, sizeof(buf)), 0));
    close(fd);
    struct podsrv_stats st = finish(&r);
    cr_expect(eq(u64, st.served, 0));
    cr_expect(eq(u64, st.dropped, 1));
}

struct bad_case {
    const char *listen;
    const char *name;
};

Test(podsrv, rejects_bad_options)
{
    static const struct bad_case cases[] = {
        {"127.0.0.1", "a"},      {"127.0.0.1:", "a"},  {":8080", "a"},
        {"300.0.0.1:80", "a"},   {"[::1:80", "a"},     {"127.0.0.1:0", ""},
        {"127.0.0.1:0", "a\nb"}, {"127.0.0.1:x", "a"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct podsrv_options o = {
            .listen = cases[i].listen, .name = cases[i].name, .stop_fd = -1};
        struct podsrv *s = NULL;
        cr_expect(eq(int, podsrv_new(&o, &s), ZL_ERR_INVALID), "case %zu: %s",
                  i, cases[i].listen);
        cr_expect(s == NULL);
    }
}

Test(podsrv, listens_on_ipv6_loopback)
{
    struct podsrv_options o = {
        .listen = "[::1]:0", .name = "v6", .stop_fd = -1};
    struct podsrv *s = NULL;
    enum zl_err rc = podsrv_new(&o, &s);
    /* A machine without IPv6 loopback cannot bind; anything else is a bug. */
    cr_expect(rc == ZL_OK || rc == ZL_ERR_IO);
    if (rc == ZL_OK)
        cr_expect(gt(int, podsrv_port(s), 0));
    podsrv_free(s);
}

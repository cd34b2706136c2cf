/* SPDX-License-Identifier: Apache-2.0 */
/* zl-probe end to end on loopback: each test starts its own servers in
 * threads (one that answers pod names, one that accepts and never answers,
 * one that resets, one that answers 503 first; a port that refuses and a
 * listener whose full queue drops SYNs), runs the built program with short
 * timeouts and reads back its JSON lines. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "probecore.h"

#define MS CLOCK_NS_PER_MS
#define SRV_MAX_HELD 256
#define SRV_NAMES 2
/* Slack for the scheduler of a loaded machine shared with others, under
 * valgrind too. It is well under every effect a test looks for. */
#define SLACK_NS (100 * MS)

extern char **environ;

enum srv_kind {
    SRV_ANSWER,     /* reads the request, answers 200 and its name */
    SRV_HANG,       /* accepts and never reads or answers */
    SRV_RESET,      /* reads the request, answers with a RST */
    SRV_FAIL_FIRST, /* the first fail_first connections get 503 */
};

struct srv {
    enum srv_kind kind;
    int family;
    int fd;
    int stop[2];
    int port;
    int fail_first;
    pthread_t thread;
    atomic_int accepted;
    atomic_int answered[SRV_NAMES];
    int held[SRV_MAX_HELD];
    int n_held;
};

static const char *const srv_names[SRV_NAMES] = {"pod-a", "pod-b"};

/* A listening (or, with backlog < 0, only bound) socket on loopback. */
static int loopback_socket(int family, int backlog, int *port)
{
    struct sockaddr_storage ss = {0};
    socklen_t len;
    if (family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_addr = in6addr_loopback;
        len = sizeof(*a);
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        len = sizeof(*a);
    }
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    cr_assert(fd >= 0);
    cr_assert(bind(fd, (struct sockaddr *)&ss, len) == 0, "%s",
              strerror(errno));
    if (backlog >= 0)
        cr_assert(listen(fd, backlog) == 0);
    cr_assert(getsockname(fd, (struct sockaddr *)&ss, &len) == 0);
    *port = ntohs(family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                     : ((struct sockaddr_in *)&ss)->sin_port);
    return fd;
}

/* Reads until the blank line that ends a request (or 2 s pass). */
static void read_request(int fd)
{
    char b[2048];
    size_t n = 0;
    struct timeval tv = {.tv_sec = 2};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    while (n < sizeof(b) - 1) {
        ssize_t r = recv(fd, b + n, sizeof(b) - 1 - n, 0);
        if (r <= 0)
            return;
        n += (size_t)r;
        b[n] = '\0';
        if (strstr(b, "\r\n\r\n") != NULL)
            return;
    }
}

static void answer(int fd, int status, const char *name)
{
    char resp[256];
    int n = snprintf(resp, sizeof(resp),
                     "HTTP/1.1 %d %s\r\nContent-Length: %zu\r\nConnection: "
                     "close\r\n\r\n%s\n",
                     status, status == 200 ? "OK" : "Service Unavailable",
                     strlen(name) + 1, name);
    ssize_t w = send(fd, resp, (size_t)n, MSG_NOSIGNAL);
    (void)w;
}

static void serve_one(struct srv *s, int fd, int nth)
{
    if (s->kind == SRV_HANG && s->n_held < SRV_MAX_HELD) {
        s->held[s->n_held++] = fd;
        return;
    }
    read_request(fd);
    if (s->kind == SRV_RESET) {
        struct linger lg = {.l_onoff = 1, .l_linger = 0};
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    } else if (s->kind == SRV_FAIL_FIRST && nth < s->fail_first) {
        answer(fd, 503, "busy");
    } else {
        int k = nth % SRV_NAMES;
        answer(fd, 200, srv_names[k]);
        atomic_fetch_add(&s->answered[k], 1);
    }
    close(fd);
}

static void *srv_main(void *arg)
{
    struct srv *s = arg;
    struct pollfd p[2] = {{.fd = s->fd, .events = POLLIN},
                          {.fd = s->stop[0], .events = POLLIN}};
    for (;;) {
        if (poll(p, 2, -1) < 0 && errno != EINTR)
            break;
        if (p[1].revents != 0)
            break;
        if ((p[0].revents & POLLIN) == 0)
            continue;
        int fd = accept(s->fd, NULL, NULL);
        if (fd >= 0)
            serve_one(s, fd, atomic_fetch_add(&s->accepted, 1));
    }
    return NULL;
}

static void srv_start(struct srv *s, enum srv_kind kind, int family)
{
    memset(s, 0, sizeof(*s));
    s->kind = kind;
    s->family = family;
    s->fd = loopback_socket(family, 128, &s->port);
    cr_assert(pipe(s->stop) == 0);
    cr_assert(pthread_create(&s->thread, NULL, srv_main, s) == 0);
}

static void srv_stop(struct srv *s)
{
    char c = 'x';
    ssize_t w = write(s->stop[1], &c, 1);
    (void)w;
    pthread_join(s->thread, NULL);
    for (int i = 0; i < s->n_held; i++)
        close(s->held[i]);
    close(s->fd);
    close(s->stop[0]);
    close(s->stop[1]);
}

static void target_of(int family, int port, char out[64])
{
    snprintf(out, 64, family == AF_INET6 ? "[::1]:%d" : "127.0.0.1:%d", port);
}

/* What a run wrote: requests by seq, and the summary line. */
struct run {
    int status; /* exit code, or -1 */
    json_object *req[64];
    size_t n_req;
    json_object *summary;
    char err[512];
};

static int64_t i64_of(json_object *o, const char *key)
{
    json_object *v = NULL;
    cr_assert(json_object_object_get_ex(o, key, &v), "no %s", key);
    return json_object_get_int64(v);
}

static const char *str_of(json_object *o, const char *key)
{
    json_object *v = NULL;
    cr_assert(json_object_object_get_ex(o, key, &v), "no %s", key);
    return v != NULL ? json_object_get_string(v) : NULL;
}

static json_object *try_of(json_object *req, size_t i)
{
    json_object *tries = NULL;
    cr_assert(json_object_object_get_ex(req, "tries", &tries));
    cr_assert(i < json_object_array_length(tries));
    return json_object_array_get_idx(tries, i);
}

static void read_lines(struct run *r, const char *path)
{
    FILE *f = fopen(path, "r");
    char line[8192];
    cr_assert(f != NULL);
    while (fgets(line, sizeof(line), f) != NULL) {
        json_object *j = json_tokener_parse(line);
        cr_assert(j != NULL, "not JSON: %s", line);
        if (strcmp(str_of(j, "type"), "summary") == 0) {
            cr_assert(r->summary == NULL, "one summary line");
            r->summary = j;
            continue;
        }
        cr_assert(r->summary == NULL, "the summary comes last");
        int64_t seq = i64_of(j, "seq");
        cr_assert(seq >= 0 && seq < 64 && r->req[seq] == NULL);
        r->req[seq] = j;
        r->n_req++;
    }
    fclose(f);
    for (size_t i = 0; i < r->n_req; i++)
        cr_assert(r->req[i] != NULL, "seq %zu missing", i);
}

static void read_err(struct run *r, const char *path)
{
    FILE *f = fopen(path, "r");
    cr_assert(f != NULL);
    size_t n = fread(r->err, 1, sizeof(r->err) - 1, f);
    r->err[n] = '\0';
    fclose(f);
}

static pid_t spawn_probe(const char *const *args, const char *out,
                         const char *err)
{
    char *argv[40];
    size_t n = 0;
    argv[n++] = strdup(ZL_PROBE_BIN);
    for (; *args != NULL && n < 36; args++)
        argv[n++] = strdup(*args);
    argv[n++] = strdup("--out");
    argv[n++] = strdup(out);
    argv[n] = NULL;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 2, err, O_WRONLY | O_CREAT | O_TRUNC,
                                     0600);
    pid_t pid;
    int rc = posix_spawn(&pid, ZL_PROBE_BIN, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    for (size_t i = 0; i < n; i++)
        free(argv[i]);
    cr_assert(eq(int, rc, 0), "posix_spawn: %s", strerror(rc));
    return pid;
}

static void paths(char out[64], char err[64])
{
    static int n;
    snprintf(out, 64, "/tmp/zl-probe-test-%d-%d.jsonl", (int)getpid(), n);
    snprintf(err, 64, "/tmp/zl-probe-test-%d-%d.err", (int)getpid(), n++);
}

static int wait_exit(pid_t pid)
{
    int st;
    cr_assert(waitpid(pid, &st, 0) == pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void finish_run(struct run *r, pid_t pid, const char *out,
                       const char *err)
{
    r->status = wait_exit(pid);
    read_err(r, err);
    if (r->status == 0)
        read_lines(r, out);
    unlink(out);
    unlink(err);
}

/* Runs the probe with args (NULL-terminated) and reads what it wrote. */
static void run_probe(struct run *r, const char *const *args)
{
    char out[64], err[64];
    memset(r, 0, sizeof(*r));
    paths(out, err);
    finish_run(r, spawn_probe(args, out, err), out, err);
    cr_assert(eq(int, r->status, 0), "zl-probe failed: %s", r->err);
    cr_assert(r->summary != NULL, "no summary line");
}

static void run_free(struct run *r)
{
    for (size_t i = 0; i < r->n_req; i++)
        json_object_put(r->req[i]);
    json_object_put(r->summary);
}

static int64_t failures_of(const struct run *r, const char *kind)
{
    json_object *f = NULL;
    cr_assert(json_object_object_get_ex(r->summary, "failures", &f));
    return i64_of(f, kind);
}

/* Every request ended with kind after attempts attempts, each of them too. */
static void expect_all(const struct run *r, const char *kind, int64_t attempts)
{
    for (size_t i = 0; i < r->n_req; i++) {
        json_object *q = r->req[i];
        cr_expect(strcmp(str_of(q, "error"), kind) == 0, "seq %zu: %s", i,
                  str_of(q, "error"));
        cr_expect(eq(i64, i64_of(q, "attempts"), attempts), "seq %zu", i);
        for (int64_t k = 0; k < i64_of(q, "attempts"); k++)
            cr_expect(strcmp(str_of(try_of(q, (size_t)k), "error"), kind) == 0,
                      "seq %zu try %lld", i, (long long)k);
    }
    cr_expect(eq(i64, failures_of(r, kind), (int64_t)r->n_req));
}

static void answers_on(int family)
{
    struct srv s;
    char target[64];
    struct run r;
    srv_start(&s, SRV_ANSWER, family);
    target_of(family, s.port, target);
    const char *args[] = {"--target",   target, "--count", "20",
                          "--interval", "5ms",  NULL};
    run_probe(&r, args);
    srv_stop(&s);
    cr_expect(eq(sz, r.n_req, 20));
    cr_expect(eq(i64, i64_of(r.summary, "ok"), 20));
    cr_expect(eq(i64, i64_of(r.summary, "failed"), 0));
    cr_expect(eq(int, atomic_load(&s.accepted), 20));
    json_object *pods = NULL;
    cr_assert(json_object_object_get_ex(r.summary, "pods", &pods));
    for (int k = 0; k < SRV_NAMES; k++)
        cr_expect(
            eq(i64, i64_of(pods, srv_names[k]), atomic_load(&s.answered[k])),
            "%s", srv_names[k]);
    for (size_t i = 0; i < r.n_req; i++) {
        const char *pod = str_of(r.req[i], "pod");
        cr_expect(pod != NULL && strncmp(pod, "pod-", 4) == 0);
        cr_expect(eq(i64, i64_of(r.req[i], "status"), 200));
        cr_expect(eq(i64, i64_of(r.req[i], "attempts"), 1));
    }
    cr_expect(ge(i64, i64_of(r.summary, "max_ok_gap_ns"), 0));
    run_free(&r);
}

Test(probe, answers_are_counted_per_pod)
{
    answers_on(AF_INET);
}

Test(probe, answers_over_ipv6)
{
    answers_on(AF_INET6);
}

Test(probe, refused_port)
{
    int port;
    int fd = loopback_socket(AF_INET, -1, &port); /* bound, not listening */
    char target[64];
    struct run r;
    target_of(AF_INET, port, target);
    const char *naive[] = {"--target", target, "--mode", "naive",
                           "--count",  "3",    NULL};
    run_probe(&r, naive);
    cr_expect(eq(sz, r.n_req, 3));
    expect_all(&r, "refused", 1);
    cr_expect(eq(i64, i64_of(try_of(r.req[0], 0), "errno"), ECONNREFUSED));
    run_free(&r);
    const char *guided[] = {"--target",       target, "--count", "2",
                            "--backoff-base", "5ms",  NULL};
    run_probe(&r, guided);
    expect_all(&r, "refused", 4);
    cr_expect(eq(i64, i64_of(r.summary, "retried"), 2));
    run_free(&r);
    close(fd);
}

/* Four attempts, each cut at --attempt-timeout, separated by exactly the
 * backoffs the seeded schedule gives. */
Test(probe, hanging_server_times_out_and_guided_retries_on_schedule)
{
    struct srv s;
    char target[64];
    struct run r;
    srv_start(&s, SRV_HANG, AF_INET);
    target_of(AF_INET, s.port, target);
    const char *args[] = {"--target",
                          target,
                          "--count",
                          "1",
                          "--connect-timeout",
                          "100ms",
                          "--attempt-timeout",
                          "150ms",
                          "--backoff-base",
                          "40ms",
                          "--backoff-cap",
                          "200ms",
                          "--seed",
                          "12345",
                          NULL};
    run_probe(&r, args);
    srv_stop(&s);
    expect_all(&r, "timeout-read", 4);
    cr_expect(eq(int, atomic_load(&s.accepted), 4), "a new connection each");
    struct probe_backoff b = {40 * MS, 200 * MS};
    struct probe_rng rng;
    probe_rng_seed(&rng, 12345);
    for (size_t k = 0; k < 4; k++) {
        json_object *t = try_of(r.req[0], k);
        int64_t d = i64_of(t, "duration_ns");
        cr_expect(d >= 150 * MS && d <= 150 * MS + SLACK_NS, "try %zu: %lld", k,
                  (long long)d);
        if (k == 0) {
            cr_expect(eq(i64, i64_of(t, "backoff_ns"), 0));
            continue;
        }
        int64_t want = probe_backoff_delay(&b, (unsigned)k, &rng);
        int64_t gap =
            i64_of(t, "start_ns") - i64_of(try_of(r.req[0], k - 1), "end_ns");
        cr_expect(eq(i64, i64_of(t, "backoff_ns"), want), "try %zu", k);
        cr_expect(want <= probe_backoff_ceiling(&b, (unsigned)k));
        cr_expect(gap >= want && gap <= want + SLACK_NS,
                  "try %zu: gap %lld, backoff %lld", k, (long long)gap,
                  (long long)want);
    }
    run_free(&r);
}

Test(probe, hanging_server_naive_waits_its_one_timeout)
{
    struct srv s;
    char target[64];
    struct run r;
    srv_start(&s, SRV_HANG, AF_INET);
    target_of(AF_INET, s.port, target);
    const char *args[] = {"--target", target,      "--count", "1", "--mode",
                          "naive",    "--timeout", "200ms",   NULL};
    run_probe(&r, args);
    srv_stop(&s);
    expect_all(&r, "timeout-read", 1);
    int64_t d = i64_of(r.req[0], "duration_ns");
    cr_expect(d >= 200 * MS && d <= 200 * MS + SLACK_NS, "%lld", (long long)d);
    run_free(&r);
}

Test(probe, resetting_server)
{
    struct srv s;
    char target[64];
    struct run r;
    srv_start(&s, SRV_RESET, AF_INET);
    target_of(AF_INET, s.port, target);
    const char *naive[] = {"--target", target, "--mode", "naive",
                           "--count",  "2",    NULL};
    run_probe(&r, naive);
    expect_all(&r, "reset", 1);
    run_free(&r);
    const char *guided[] = {"--target",       target, "--count", "1",
                            "--backoff-base", "5ms",  NULL};
    run_probe(&r, guided);
    expect_all(&r, "reset", 4);
    srv_stop(&s);
    cr_expect(eq(int, atomic_load(&s.accepted), 6));
    run_free(&r);
}

Test(probe, guided_retries_a_503_and_naive_reports_it)
{
    struct srv s;
    char target[64];
    struct run r;
    srv_start(&s, SRV_FAIL_FIRST, AF_INET);
    s.fail_first = 1;
    target_of(AF_INET, s.port, target);
    const char *guided[] = {"--target",       target, "--count", "1",
                            "--backoff-base", "5ms",  NULL};
    run_probe(&r, guided);
    srv_stop(&s);
    cr_expect(eq(i64, i64_of(r.req[0], "attempts"), 2));
    cr_expect(eq(int, str_of(r.req[0], "error") == NULL, 1));
    cr_expect(eq(i64, i64_of(r.req[0], "status"), 200));
    cr_expect(strcmp(str_of(r.req[0], "pod"), "pod-b") == 0);
    cr_expect(eq(i64, i64_of(try_of(r.req[0], 0), "status"), 503));
    cr_expect(strcmp(str_of(try_of(r.req[0], 0), "error"), "http-status") == 0);
    run_free(&r);

    srv_start(&s, SRV_FAIL_FIRST, AF_INET);
    s.fail_first = 1;
    target_of(AF_INET, s.port, target);
    const char *naive[] = {"--target", target, "--mode", "naive",
                           "--count",  "1",    NULL};
    run_probe(&r, naive);
    srv_stop(&s);
    expect_all(&r, "http-status", 1);
    cr_expect(eq(i64, i64_of(r.req[0], "status"), 503));
    run_free(&r);
}

Test(probe, post_is_never_retried)
{
    struct srv s;
    char target[64];
    struct run r;
    srv_start(&s, SRV_FAIL_FIRST, AF_INET);
    s.fail_first = 1000;
    target_of(AF_INET, s.port, target);
    const char *post[] = {"--target",   target,    "--method",
                          "POST",       "--count", "2",
                          "--interval", "50ms",    NULL};
    run_probe(&r, post);
    srv_stop(&s);
    expect_all(&r, "http-status", 1);
    cr_expect(eq(int, atomic_load(&s.accepted), 2));
    run_free(&r);
    int port;
    int fd = loopback_socket(AF_INET, -1, &port);
    target_of(AF_INET, port, target);
    const char *refused[] = {"--target", target, "--method", "POST",
                             "--count",  "1",    NULL};
    run_probe(&r, refused);
    expect_all(&r, "refused", 1);
    close(fd);
    run_free(&r);
}

/* Every request hangs until its 1 s timeout, and they still start on the
 * interval: all twenty start before the first one ends (a closed loop
 * would start request i after i seconds). */
Test(probe, open_loop_starts_on_schedule_while_requests_hang)
{
    struct srv s;
    char target[64];
    struct run r;
    srv_start(&s, SRV_HANG, AF_INET);
    target_of(AF_INET, s.port, target);
    const char *args[] = {"--target",  target, "--mode",     "naive",
                          "--count",   "20",   "--interval", "10ms",
                          "--timeout", "1s",   NULL};
    run_probe(&r, args);
    srv_stop(&s);
    cr_assert(eq(sz, r.n_req, 20));
    expect_all(&r, "timeout-read", 1);
    int64_t sched0 = i64_of(r.req[0], "sched_ns");
    int64_t first_end = i64_of(r.req[0], "end_ns");
    for (size_t i = 0; i < r.n_req; i++) {
        int64_t sched = i64_of(r.req[i], "sched_ns");
        int64_t start = i64_of(r.req[i], "start_ns");
        cr_expect(eq(i64, sched, sched0 + (int64_t)i * 10 * MS), "seq %zu", i);
        cr_expect(start >= sched - MS && start <= sched + SLACK_NS,
                  "seq %zu started %lld ns after its time", i,
                  (long long)(start - sched));
        cr_expect(start < first_end, "seq %zu waited for seq 0", i);
    }
    run_free(&r);
}

/* A listener whose accept queue is full drops SYNs, as a dead pod does. */
Test(probe, dropped_syn_is_a_connect_timeout)
{
    int port;
    int fd = loopback_socket(AF_INET, 0, &port);
    int fillers[4];
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                            .sin_port = htons((uint16_t)port)};
    for (int i = 0; i < 4; i++) {
        fillers[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        (void)connect(fillers[i], (struct sockaddr *)&a, sizeof(a));
    }
    struct timespec settle = {.tv_nsec = 50 * MS};
    nanosleep(&settle, NULL);
    char target[64];
    struct run r;
    target_of(AF_INET, port, target);
    const char *args[] = {"--target",
                          target,
                          "--count",
                          "1",
                          "--retries",
                          "1",
                          "--connect-timeout",
                          "100ms",
                          "--attempt-timeout",
                          "300ms",
                          NULL};
    run_probe(&r, args);
    expect_all(&r, "timeout-connect", 2);
    for (size_t k = 0; k < 2; k++) {
        int64_t d = i64_of(try_of(r.req[0], k), "duration_ns");
        cr_expect(d >= 100 * MS && d <= 100 * MS + SLACK_NS, "%lld",
                  (long long)d);
    }
    run_free(&r);
    for (int i = 0; i < 4; i++)
        close(fillers[i]);
    close(fd);
}

Test(probe, duration_bounds_the_starts)
{
    struct srv s;
    char target[64];
    struct run r;
    srv_start(&s, SRV_ANSWER, AF_INET);
    target_of(AF_INET, s.port, target);
    const char *args[] = {"--target",   target, "--duration", "100ms",
                          "--interval", "10ms", NULL};
    run_probe(&r, args);
    srv_stop(&s);
    cr_expect(eq(sz, r.n_req, 10));
    cr_expect(eq(i64, i64_of(r.summary, "requests"), 10));
    run_free(&r);
}

/* SIGTERM stops the starts; what is in flight runs to its timeout and is
 * written, then the probe exits 0. */
Test(probe, sigterm_drains_in_flight_requests)
{
    struct srv s;
    char target[64], out[64], err[64];
    struct run r;
    srv_start(&s, SRV_HANG, AF_INET);
    target_of(AF_INET, s.port, target);
    const char *args[] = {"--target",  target,       "--mode",
                          "naive",     "--interval", "20ms",
                          "--timeout", "300ms",      NULL};
    memset(&r, 0, sizeof(r));
    paths(out, err);
    pid_t pid = spawn_probe(args, out, err);
    struct timespec tick = {.tv_nsec = 5 * MS};
    while (atomic_load(&s.accepted) < 3)
        nanosleep(&tick, NULL);
    int64_t signalled = clock_real_ns();
    kill(pid, SIGTERM);
    finish_run(&r, pid, out, err);
    srv_stop(&s);
    cr_assert(eq(int, r.status, 0), "%s", r.err);
    cr_assert(r.summary != NULL);
    cr_expect(ge(sz, r.n_req, 3));
    expect_all(&r, "timeout-read", 1);
    for (size_t i = 0; i < r.n_req; i++) {
        cr_expect(i64_of(r.req[i], "start_ns") < signalled + SLACK_NS / 2);
        cr_expect(ge(i64, i64_of(r.req[i], "duration_ns"), 300 * MS));
    }
    run_free(&r);
}

Test(probe, reads_a_config_file_under_its_flags)
{
    int port;
    int fd = loopback_socket(AF_INET, -1, &port);
    char target[64], path[64];
    struct run r;
    target_of(AF_INET, port, target);
    snprintf(path, sizeof(path), "/tmp/zl-probe-test-%d.yaml", (int)getpid());
    FILE *f = fopen(path, "w");
    cr_assert(f != NULL);
    fprintf(f, "mode: naive\ncount: 5\ninterval: 1ms\n");
    fclose(f);
    const char *args[] = {"--config", path, "--target", target,
                          "--count",  "3",  NULL};
    run_probe(&r, args);
    unlink(path);
    close(fd);
    cr_expect(eq(sz, r.n_req, 3), "the flag wins over the file");
    expect_all(&r, "refused", 1); /* naive, from the file */
    run_free(&r);
}

struct flag_case {
    const char *args[8];
    const char *says; /* in the one line */
};

Test(probe, bad_flags_exit_2_with_one_line)
{
    static const struct flag_case cases[] = {
        {{"--count", "1", NULL}, "--target"},
        {{"--target", "nonsense", NULL}, "--target"},
        {{"--target", "localhost:80", NULL}, "--target"},
        {{"--target", "127.0.0.1:0", NULL}, "--target"},
        {{"--target", ":80", NULL}, "--target"},
        {{"--target", "127.0.0.1:1", "--interval", "-1s", NULL}, "--interval"},
        {{"--target", "127.0.0.1:1", "--mode", "fast", NULL}, "--mode"},
        {{"--target", "127.0.0.1:1", "--method", "PUT", NULL}, "--method"},
        {{"--target", "127.0.0.1:1", "--retries", "4", NULL}, "--retries"},
        {{"--target", "127.0.0.1:1", "--connect-timeout", "2s",
          "--attempt-timeout", "1s", NULL},
         "--attempt-timeout"},
        {{"--target", "127.0.0.1:1", "--backoff-base", "2s", "--backoff-cap",
          "1s", NULL},
         "--backoff-cap"},
        {{"--target", "127.0.0.1:1", "--path", "nope", NULL}, "--path"},
        {{"--target", "127.0.0.1:1", "--bogus", NULL}, "--bogus"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[64], err[64];
        struct run r;
        memset(&r, 0, sizeof(r));
        paths(out, err);
        finish_run(&r, spawn_probe(cases[i].args, out, err), out, err);
        cr_expect(eq(int, r.status, 2), "case %zu", i);
        cr_expect(strncmp(r.err, "zl-probe: ", 10) == 0, "case %zu: %s", i,
                  r.err);
        cr_expect(strstr(r.err, cases[i].says) != NULL, "case %zu: %s", i,
                  r.err);
        char *nl = strchr(r.err, '\n');
        cr_expect(nl != NULL && nl[1] == '\0', "case %zu: one line", i);
    }
}

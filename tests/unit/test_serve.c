/* SPDX-License-Identifier: Apache-2.0 */
/* Tests of common/serve against real servers on 127.0.0.1:0, [::1]:0 and
 * the dual-stack ":0", spoken to over plain sockets: routing, 404/405/413,
 * bodies, HEAD, the idle timeout, concurrency, stopping with a handler in
 * flight, bind errors, and the bind-address parser. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/metrics.h"
#include "base/sync.h"
#include "serve/serve.h"

#define REPLY_MAX 65536

/* ---- A small HTTP client on plain sockets ------------------------------ */

static int connect_to(int family, int port)
{
    int fd = socket(family, SOCK_STREAM, 0);
    cr_assert(fd >= 0, "socket: %s", strerror(errno));
    struct timeval tv = {.tv_sec = 8};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    struct sockaddr_storage ss = {0};
    socklen_t len;
    if (family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;
        in->sin_family = AF_INET;
        in->sin_port = htons((uint16_t)port);
        in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        len = sizeof(*in);
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        in6->sin6_addr = in6addr_loopback;
        len = sizeof(*in6);
    }
    if (connect(fd, (struct sockaddr *)&ss, len) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void send_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n <= 0)
            return; /* the server may close early (413); read what it said */
        data += n;
        len -= (size_t)n;
    }
}

/* Reads until the server closes; returns the bytes read, NUL-terminated. */
static size_t read_all(int fd, char *out, size_t out_size)
{
    size_t used = 0;
    while (used + 1 < out_size) {
        ssize_t n = recv(fd, out + used, out_size - used - 1, 0);
        if (n <= 0)
            break;
        used += (size_t)n;
    }
    out[used] = '\0';
    return used;
}

/* One request on a fresh connection; the reply is read to EOF (requests
 * say "Connection: close"). Returns the status, 0 when there was none. */
static int exchange(int family, int port, const char *request, char *reply)
{
    int fd = connect_to(family, port);
    cr_assert(fd >= 0, "connect to port %d: %s", port, strerror(errno));
    send_all(fd, request, strlen(request));
    read_all(fd, reply, REPLY_MAX);
    close(fd);
    int status = 0;
    if (sscanf(reply, "HTTP/1.%*d %d", &status) != 1)
        return 0;
    return status;
}

static int get(int family, int port, const char *path, char *reply)
{
    char req[512];
    snprintf(req, sizeof(req),
             "GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", path);
    return exchange(family, port, req, reply);
}

static const char *body_of(const char *reply)
{
    const char *p = strstr(reply, "\r\n\r\n");
    return p != NULL ? p + 4 : "";
}

/* ---- Handlers used by the tests ---------------------------------------- */

static atomic_int handler_calls;

static void echo(void *ctx, const struct serve_request *req,
                 struct serve_response *resp)
{
    (void)ctx;
    atomic_fetch_add(&handler_calls, 1);
    buf_printf(&resp->body, "%s %s [%s] %zu:%s", req->method, req->path,
               req->content_type ? req->content_type : "-", req->body_len,
               req->body);
}

static void bad_status(void *ctx, const struct serve_request *req,
                       struct serve_response *resp)
{
    (void)ctx;
    (void)req;
    resp->status = 42;
    buf_puts(&resp->body, "never sent");
}

struct slow {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    int entered;
    atomic_int done;
    unsigned sleep_ms;
};

static void slow_handler(void *ctx, const struct serve_request *req,
                         struct serve_response *resp)
{
    (void)req;
    struct slow *sl = ctx;
    pthread_mutex_lock(&sl->mu);
    sl->entered++;
    pthread_cond_broadcast(&sl->cond);
    pthread_mutex_unlock(&sl->mu);
    struct timespec ts = {.tv_sec = sl->sleep_ms / 1000,
                          .tv_nsec = (long)(sl->sleep_ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    atomic_fetch_add(&sl->done, 1);
    buf_puts(&resp->body, "slow ok");
}

static void slow_init(struct slow *sl, unsigned sleep_ms)
{
    memset(sl, 0, sizeof(*sl));
    pthread_mutex_init(&sl->mu, NULL);
    pthread_cond_init(&sl->cond, NULL);
    sl->sleep_ms = sleep_ms;
}

static void slow_cleanup(struct slow *sl)
{
    pthread_cond_destroy(&sl->cond);
    pthread_mutex_destroy(&sl->mu);
}

/* ---- Fixture ----------------------------------------------------------- */

static struct serve *start(const char *addr, const struct serve_options *base)
{
    struct serve_options opt = {0};
    if (base != NULL)
        opt = *base;
    opt.bind_address = addr;
    struct serve *s = NULL;
    cr_assert_eq(serve_new(&opt, &s), ZL_OK);
    cr_assert_eq(serve_route(s, "GET", "/healthz", serve_handle_health, NULL),
                 ZL_OK);
    cr_assert_eq(serve_route(s, "POST", "/echo", echo, NULL), ZL_OK);
    cr_assert_eq(serve_route(s, "PUT", "/echo", echo, NULL), ZL_OK);
    cr_assert_eq(serve_route(s, "GET", "/bad", bad_status, NULL), ZL_OK);
    cr_assert_eq(serve_start(s), ZL_OK);
    cr_assert_gt(serve_port(s), 0);
    return s;
}

static double seconds_since(int64_t t0)
{
    return (double)(clock_mono_ns() - t0) / 1e9;
}

/* ---- Address parsing --------------------------------------------------- */

struct addr_case {
    const char *text;
    enum zl_err err;
    bool disabled;
    int family;
    const char *host;
    int port;
};

static const struct addr_case addr_cases[] = {
    {"0", ZL_OK, true, AF_UNSPEC, "", 0},
    {":8080", ZL_OK, false, AF_UNSPEC, "", 8080},
    {":0", ZL_OK, false, AF_UNSPEC, "", 0},
    {":65535", ZL_OK, false, AF_UNSPEC, "", 65535},
    {"127.0.0.1:8080", ZL_OK, false, AF_INET, "127.0.0.1", 8080},
    {"0.0.0.0:80", ZL_OK, false, AF_INET, "0.0.0.0", 80},
    {"[::1]:0", ZL_OK, false, AF_INET6, "::1", 0},
    {"[::]:9443", ZL_OK, false, AF_INET6, "::", 9443},
    {"[fd00::2]:8443", ZL_OK, false, AF_INET6, "fd00::2", 8443},
    {"[::ffff:127.0.0.1]:1", ZL_OK, false, AF_INET6, "::ffff:127.0.0.1", 1},
    {":008080", ZL_OK, false, AF_UNSPEC, "", 8080},
    {"", ZL_ERR_PARSE, false, 0, "", 0},
    {"00", ZL_ERR_PARSE, false, 0, "", 0},
    {"8080", ZL_ERR_PARSE, false, 0, "", 0},
    {":", ZL_ERR_PARSE, false, 0, "", 0},
    {":65536", ZL_ERR_PARSE, false, 0, "", 0},
    {":99999999999999999999", ZL_ERR_PARSE, false, 0, "", 0},
    {":-1", ZL_ERR_PARSE, false, 0, "", 0},
    {":+80", ZL_ERR_PARSE, false, 0, "", 0},
    {":80a", ZL_ERR_PARSE, false, 0, "", 0},
    {": 80", ZL_ERR_PARSE, false, 0, "", 0},
    {" :80", ZL_ERR_PARSE, false, 0, "", 0},
    {"localhost:8080", ZL_ERR_PARSE, false, 0, "", 0},
    {"1.2.3:80", ZL_ERR_PARSE, false, 0, "", 0},
    {"256.0.0.1:80", ZL_ERR_PARSE, false, 0, "", 0},
    {"::1:80", ZL_ERR_PARSE, false, 0, "", 0},
    {"[::1]", ZL_ERR_PARSE, false, 0, "", 0},
    {"[::1]:", ZL_ERR_PARSE, false, 0, "", 0},
    {"[::1]80", ZL_ERR_PARSE, false, 0, "", 0},
    {"[]:80", ZL_ERR_PARSE, false, 0, "", 0},
    {"[::1:80", ZL_ERR_PARSE, false, 0, "", 0},
    {"[127.0.0.1]:80", ZL_ERR_PARSE, false, 0, "", 0},
    {"[fe80::1%eth0]:80", ZL_ERR_PARSE, false, 0, "", 0},
    {"[::1]:80:80", ZL_ERR_PARSE, false, 0, "", 0},
    {"[aaaa:bbbb:cccc:dddd:eeee:ffff:0000:1111:2222:3333]:1", ZL_ERR_PARSE,
     false, 0, "", 0},
};

Test(serve, parses_bind_addresses)
{
    for (size_t i = 0; i < sizeof(addr_cases) / sizeof(addr_cases[0]); i++) {
        const struct addr_case *c = &addr_cases[i];
        struct serve_address a;
        memset(&a, 0x5a, sizeof(a));
        enum zl_err err = serve_parse_address(c->text, &a);
        cr_expect_eq(err, c->err, "\"%s\": %s, want %s", c->text,
                     zl_err_str(err), zl_err_str(c->err));
        cr_expect_eq(a.disabled, c->disabled, "\"%s\": disabled", c->text);
        cr_expect_eq(a.family, c->family, "\"%s\": family %d", c->text,
                     a.family);
        cr_expect_str_eq(a.host, c->host, "\"%s\": host", c->text);
        cr_expect_eq(a.port, c->port, "\"%s\": port %d", c->text, a.port);
    }
    struct serve_address a;
    cr_expect_eq(serve_parse_address(NULL, &a), ZL_ERR_PARSE);
}

/* ---- Construction ------------------------------------------------------ */

Test(serve, refuses_bad_options)
{
    static char sentinel;
    struct serve *s = (struct serve *)(void *)&sentinel; /* must be reset */
    struct serve_options opt = {.bind_address = "localhost:80"};
    cr_expect_eq(serve_new(&opt, &s), ZL_ERR_PARSE);
    cr_expect_null(s);
    opt.bind_address = NULL;
    cr_expect_eq(serve_new(&opt, &s), ZL_ERR_INVALID);
    cr_expect_eq(serve_new(NULL, &s), ZL_ERR_INVALID);
    opt.bind_address = ":0";
    opt.threads = SERVE_MAX_THREADS + 1;
    cr_expect_eq(serve_new(&opt, &s), ZL_ERR_INVALID);
    opt.threads = 0;
    opt.timeout_s = SERVE_MAX_TIMEOUT_S + 1;
    cr_expect_eq(serve_new(&opt, &s), ZL_ERR_INVALID);
}

Test(serve, validates_routes)
{
    struct serve_options opt = {.bind_address = "127.0.0.1:0"};
    struct serve *s = NULL;
    cr_assert_eq(serve_new(&opt, &s), ZL_OK);
    cr_expect_eq(serve_route(s, "GET", "/a", echo, NULL), ZL_OK);
    cr_expect_eq(serve_route(s, "GET", "/a", echo, NULL), ZL_ERR_EXISTS);
    cr_expect_eq(serve_route(s, "POST", "/a", echo, NULL), ZL_OK);
    cr_expect_eq(serve_route(s, "HEAD", "/a", echo, NULL), ZL_ERR_INVALID);
    cr_expect_eq(serve_route(s, "get", "/b", echo, NULL), ZL_ERR_INVALID);
    cr_expect_eq(serve_route(s, "", "/b", echo, NULL), ZL_ERR_INVALID);
    cr_expect_eq(serve_route(s, "GET", "b", echo, NULL), ZL_ERR_INVALID);
    cr_expect_eq(serve_route(s, "GET", "/b?x", echo, NULL), ZL_ERR_INVALID);
    cr_expect_eq(serve_route(s, "GET", "/b c", echo, NULL), ZL_ERR_INVALID);
    cr_expect_eq(serve_route(s, "GET", "/b", NULL, NULL), ZL_ERR_INVALID);
    char path[32];
    enum zl_err err = ZL_OK;
    for (int i = 0; i < SERVE_MAX_ROUTES && err == ZL_OK; i++) {
        snprintf(path, sizeof(path), "/r%d", i);
        err = serve_route(s, "GET", path, echo, NULL);
    }
    cr_expect_eq(err, ZL_ERR_LIMIT);
    serve_free(s);

    cr_assert_eq(serve_new(&opt, &s), ZL_OK);
    cr_assert_eq(serve_start(s), ZL_OK);
    cr_expect_eq(serve_route(s, "GET", "/late", echo, NULL), ZL_ERR_INVALID);
    cr_expect_eq(serve_start(s), ZL_ERR_INVALID);
    serve_stop(s);
    serve_stop(s);
    cr_expect_eq(serve_port(s), -1);
    cr_expect_eq(serve_start(s), ZL_ERR_INVALID);
    serve_free(s);
    serve_free(NULL);
}

Test(serve, disabled_address_serves_nothing)
{
    struct serve_options opt = {.bind_address = "0"};
    struct serve *s = NULL;
    cr_assert_eq(serve_new(&opt, &s), ZL_OK);
    cr_expect_eq(serve_route(s, "GET", "/healthz", serve_handle_health, NULL),
                 ZL_OK);
    cr_expect_eq(serve_port(s), -1);
    cr_expect_eq(serve_start(s), ZL_OK);
    cr_expect_eq(serve_port(s), -1);
    serve_free(s);
}

/* ---- Serving ----------------------------------------------------------- */

Test(serve, answers_routes_on_ipv4)
{
    struct serve *s = start("127.0.0.1:0", NULL);
    static char reply[REPLY_MAX];
    cr_expect_eq(get(AF_INET, serve_port(s), "/healthz", reply), 200);
    cr_expect_str_eq(body_of(reply), "ok");
    cr_expect_not_null(
        strstr(reply, "Content-Type: text/plain; charset=utf-8\r\n"));
    cr_expect_eq(get(AF_INET, serve_port(s), "/healthz?verbose=1", reply), 200,
                 "the query is not part of the path");
    serve_free(s);
}

Test(serve, answers_routes_on_ipv6)
{
    struct serve *s = start("[::1]:0", NULL);
    static char reply[REPLY_MAX];
    cr_expect_eq(get(AF_INET6, serve_port(s), "/healthz", reply), 200);
    cr_expect_str_eq(body_of(reply), "ok");
    cr_expect_eq(connect_to(AF_INET, serve_port(s)), -1,
                 "[::1] must not listen on IPv4");
    serve_free(s);
}

Test(serve, every_interface_is_dual_stack)
{
    struct serve *s = start(":0", NULL);
    static char reply[REPLY_MAX];
    cr_expect_eq(get(AF_INET6, serve_port(s), "/healthz", reply), 200);
    cr_expect_eq(get(AF_INET, serve_port(s), "/healthz", reply), 200);
    serve_free(s);
}

Test(serve, unknown_path_is_404)
{
    struct serve *s = start("127.0.0.1:0", NULL);
    static char reply[REPLY_MAX];
    cr_expect_eq(get(AF_INET, serve_port(s), "/nope", reply), 404);
    cr_expect_eq(get(AF_INET, serve_port(s), "/healthz/", reply), 404);
    cr_expect_eq(get(AF_INET, serve_port(s), "/", reply), 404);
    serve_free(s);
}

Test(serve, wrong_method_is_405_with_allow)
{
    struct serve *s = start("127.0.0.1:0", NULL);
    static char reply[REPLY_MAX];
    const char *post = "POST /healthz HTTP/1.1\r\nHost: t\r\nConnection: "
                       "close\r\nContent-Length: 0\r\n\r\n";
    cr_expect_eq(exchange(AF_INET, serve_port(s), post, reply), 405);
    cr_expect_not_null(strstr(reply, "Allow: GET, HEAD\r\n"), "%s", reply);
    cr_expect_eq(get(AF_INET, serve_port(s), "/echo", reply), 405);
    cr_expect_not_null(strstr(reply, "Allow: POST, PUT\r\n"), "%s", reply);
    serve_free(s);
}

Test(serve, head_follows_get_without_body)
{
    struct serve *s = start("127.0.0.1:0", NULL);
    static char reply[REPLY_MAX];
    const char *head = "HEAD /healthz HTTP/1.1\r\nHost: t\r\nConnection: "
                       "close\r\n\r\n";
    cr_expect_eq(exchange(AF_INET, serve_port(s), head, reply), 200);
    cr_expect_str_eq(body_of(reply), "");
    serve_free(s);
}

Test(serve, hands_body_and_content_type_to_the_handler)
{
    atomic_store(&handler_calls, 0);
    struct serve *s = start("127.0.0.1:0", NULL);
    static char reply[REPLY_MAX];
    const char *post =
        "POST /echo?timeout=10s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
        "Content-Type: application/json\r\nContent-Length: 7\r\n\r\n{\"a\":1}";
    cr_expect_eq(exchange(AF_INET, serve_port(s), post, reply), 200);
    cr_expect_str_eq(body_of(reply),
                     "POST /echo [application/json] 7:{\"a\":1}");
    const char *empty = "POST /echo HTTP/1.1\r\nHost: t\r\nConnection: "
                        "close\r\nContent-Length: 0\r\n\r\n";
    cr_expect_eq(exchange(AF_INET, serve_port(s), empty, reply), 200);
    cr_expect_str_eq(body_of(reply), "POST /echo [-] 0:");
    const char *chunked =
        "PUT /echo HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
        "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
    cr_expect_eq(exchange(AF_INET, serve_port(s), chunked, reply), 200);
    cr_expect_str_eq(body_of(reply), "PUT /echo [-] 5:abcde");
    cr_expect_eq(atomic_load(&handler_calls), 3);
    serve_free(s);
}

Test(serve, keeps_connections_alive)
{
    struct serve *s = start("127.0.0.1:0", NULL);
    int fd = connect_to(AF_INET, serve_port(s));
    cr_assert(fd >= 0);
    const char *two = "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"
                      "GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: "
                      "close\r\n\r\n";
    send_all(fd, two, strlen(two));
    static char reply[REPLY_MAX];
    read_all(fd, reply, sizeof(reply));
    close(fd);
    const char *second = strstr(reply + 1, "HTTP/1.1 200");
    cr_expect(strncmp(reply, "HTTP/1.1 200", 12) == 0, "%s", reply);
    cr_expect_not_null(second, "%s", reply);
    serve_free(s);
}

Test(serve, body_over_limit_is_413_without_the_handler)
{
    atomic_store(&handler_calls, 0);
    struct serve_options opt = {.max_body = 16};
    struct serve *s = start("127.0.0.1:0", &opt);
    static char reply[REPLY_MAX];
    /* Announced as 100 MB, never sent: the answer cannot wait for it. */
    const char *huge = "POST /echo HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
                       "Content-Length: 100000000\r\n\r\n0123456789";
    cr_expect_eq(exchange(AF_INET, serve_port(s), huge, reply), 413);
    const char *exact =
        "POST /echo HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
        "Content-Length: 16\r\n\r\n0123456789abcdef";
    cr_expect_eq(exchange(AF_INET, serve_port(s), exact, reply), 200);
    const char *over = "POST /echo HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
                       "Content-Length: 17\r\n\r\n0123456789abcdefg";
    cr_expect_eq(exchange(AF_INET, serve_port(s), over, reply), 413);
    cr_expect_eq(atomic_load(&handler_calls), 1);
    serve_free(s);
}

Test(serve, chunked_body_over_limit_is_413_without_the_handler)
{
    atomic_store(&handler_calls, 0);
    struct serve_options opt = {.max_body = 16};
    struct serve *s = start("127.0.0.1:0", &opt);
    static char reply[REPLY_MAX];
    /* 17 bytes: read to its end (dropped), then answered 413. */
    const char *over = "POST /echo HTTP/1.1\r\nHost: t\r\nConnection: close"
                       "\r\nTransfer-Encoding: chunked\r\n\r\n"
                       "10\r\n0123456789abcdef\r\n1\r\nX\r\n0\r\n\r\n";
    cr_expect_eq(exchange(AF_INET, serve_port(s), over, reply), 413);
    cr_expect(strstr(body_of(reply), "too large") != NULL, "%s", reply);
    /* 16 + 17 bytes: more than max_body dropped, the connection closed
     * without an answer. */
    const char *far = "POST /echo HTTP/1.1\r\nHost: t\r\nConnection: close"
                      "\r\nTransfer-Encoding: chunked\r\n\r\n"
                      "10\r\n0123456789abcdef\r\n11\r\n0123456789abcdefg"
                      "\r\n0\r\n\r\n";
    cr_expect_eq(exchange(AF_INET, serve_port(s), far, reply), 0);
    /* The limit itself is fine. */
    const char *exact = "POST /echo HTTP/1.1\r\nHost: t\r\nConnection: close"
                        "\r\nTransfer-Encoding: chunked\r\n\r\n"
                        "10\r\n0123456789abcdef\r\n0\r\n\r\n";
    cr_expect_eq(exchange(AF_INET, serve_port(s), exact, reply), 200);
    cr_expect_eq(atomic_load(&handler_calls), 1);
    serve_free(s);
}

Test(serve, bad_handler_status_is_500)
{
    struct serve *s = start("127.0.0.1:0", NULL);
    static char reply[REPLY_MAX];
    cr_expect_eq(get(AF_INET, serve_port(s), "/bad", reply), 500);
    cr_expect_null(strstr(reply, "never sent"));
    serve_free(s);
}

Test(serve, drops_a_request_that_never_completes)
{
    struct serve_options opt = {.timeout_s = 1};
    struct serve *s = start("127.0.0.1:0", &opt);
    int fd = connect_to(AF_INET, serve_port(s));
    cr_assert(fd >= 0);
    const char *partial = "GET /healthz HTTP/1.1\r\nHost: t\r\nX-Slow: ";
    int64_t t0 = clock_mono_ns();
    send_all(fd, partial, strlen(partial));
    /* Others are served meanwhile. */
    static char reply[REPLY_MAX];
    cr_expect_eq(get(AF_INET, serve_port(s), "/healthz", reply), 200);
    char byte;
    ssize_t n = recv(fd, &byte, 1, 0);
    double waited = seconds_since(t0);
    cr_expect(n == 0 || (n < 0 && errno == ECONNRESET), "recv gave %zd (%s)", n,
              strerror(errno));
    cr_expect(waited >= 0.8 && waited < 5.0, "dropped after %.2f s", waited);
    close(fd);
    serve_free(s);
}

struct client_arg {
    int family;
    int port;
    const char *path;
    int status;
    char reply[1024];
};

static void *client_thread(void *p)
{
    struct client_arg *a = p;
    int fd = connect_to(a->family, a->port);
    if (fd < 0)
        return NULL;
    char req[256];
    snprintf(req, sizeof(req),
             "GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
             a->path);
    send_all(fd, req, strlen(req));
    read_all(fd, a->reply, sizeof(a->reply));
    close(fd);
    if (sscanf(a->reply, "HTTP/1.%*d %d", &a->status) != 1)
        a->status = 0;
    return NULL;
}

/* Handlers that wait (up to 5 s) until `want` of them are inside at once:
 * requests served one after the other never get there. */
struct meet {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    int want;
    int inside;
    int peak;
};

static void meet_handler(void *ctx, const struct serve_request *req,
                         struct serve_response *resp)
{
    (void)req;
    struct meet *m = ctx;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 5;
    pthread_mutex_lock(&m->mu);
    m->inside++;
    if (m->inside > m->peak)
        m->peak = m->inside;
    pthread_cond_broadcast(&m->cond);
    while (m->peak < m->want &&
           pthread_cond_timedwait(&m->cond, &m->mu, &until) == 0)
        ;
    m->inside--;
    pthread_mutex_unlock(&m->mu);
    buf_puts(&resp->body, "met");
}

/* A client that sends head at once, then one byte every 100 ms (for at
 * most 5 s) until the server closes the connection. */
struct dribble {
    int port;
    const char *head;
    double cut_after; /* seconds from the start; -1: never cut */
};

static bool cut_off(int fd)
{
    char byte;
    if (send(fd, "a", 1, MSG_NOSIGNAL) < 0)
        return true;
    ssize_t n = recv(fd, &byte, 1, MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

static void *dribble_main(void *p)
{
    struct dribble *d = p;
    d->cut_after = -1;
    int fd = connect_to(AF_INET, d->port);
    int64_t t0 = clock_mono_ns();
    send_all(fd, d->head, strlen(d->head));
    while (seconds_since(t0) < 5.0) {
        if (cut_off(fd)) {
            d->cut_after = seconds_since(t0);
            break;
        }
        struct timespec ts = {.tv_nsec = 100000000};
        nanosleep(&ts, NULL);
    }
    close(fd);
    return NULL;
}

Test(serve, slow_clients_are_cut_off_without_holding_up_others)
{
    atomic_store(&handler_calls, 0);
    struct serve_options opt = {.timeout_s = 1};
    struct serve *s = start("127.0.0.1:0", &opt);
    struct dribble d[] = {
        /* Slowloris: headers a byte at a time, never idle for 1 s. */
        {.head = "GET /healthz HTTP/1.1\r\nHost: t\r\nX-Slow: "},
        /* The same with the body. */
        {.head = "POST /echo HTTP/1.1\r\nHost: t\r\n"
                 "Content-Length: 1000\r\n\r\n"},
        /* A second request on a kept-alive connection. */
        {.head = "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"
                 "GET /healthz HTTP/1.1\r\nX-Slow: "},
    };
    size_t n = sizeof(d) / sizeof(d[0]);
    pthread_t t[3];
    for (size_t i = 0; i < n; i++) {
        d[i].port = serve_port(s);
        cr_assert_eq(pthread_create(&t[i], NULL, dribble_main, &d[i]), 0);
    }
    static char reply[REPLY_MAX];
    for (int i = 0; i < 5; i++) {
        int64_t t0 = clock_mono_ns();
        cr_expect_eq(get(AF_INET, serve_port(s), "/healthz", reply), 200);
        cr_expect_lt(seconds_since(t0), 0.5);
        struct timespec ts = {.tv_nsec = 200000000};
        nanosleep(&ts, NULL);
    }
    for (size_t i = 0; i < n; i++) {
        pthread_join(t[i], NULL);
        cr_log_info("client %zu cut off after %.2f s", i, d[i].cut_after);
        cr_expect(d[i].cut_after >= 0.9 && d[i].cut_after < 2.5,
                  "client %zu cut off after %.2f s", i, d[i].cut_after);
    }
    cr_expect_eq(atomic_load(&handler_calls), 0);
    serve_free(s);
}

Test(serve, serves_requests_concurrently)
{
    enum { N = 4 };
    struct meet m = {.want = N};
    pthread_mutex_init(&m.mu, NULL);
    pthread_cond_init(&m.cond, NULL);
    struct serve_options opt = {.bind_address = "127.0.0.1:0", .threads = N};
    struct serve *s = NULL;
    cr_assert_eq(serve_new(&opt, &s), ZL_OK);
    cr_assert_eq(serve_route(s, "GET", "/meet", meet_handler, &m), ZL_OK);
    cr_assert_eq(serve_start(s), ZL_OK);
    struct client_arg args[N];
    pthread_t th[N];
    for (int i = 0; i < N; i++) {
        args[i] = (struct client_arg){AF_INET, serve_port(s), "/meet", 0, ""};
        cr_assert_eq(pthread_create(&th[i], NULL, client_thread, &args[i]), 0);
    }
    for (int i = 0; i < N; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < N; i++) {
        cr_expect_eq(args[i].status, 200, "client %d: %s", i, args[i].reply);
        cr_expect_str_eq(body_of(args[i].reply), "met");
    }
    cr_expect_eq(m.peak, N, "at most %d handlers ran at once", m.peak);
    serve_free(s);
    pthread_cond_destroy(&m.cond);
    pthread_mutex_destroy(&m.mu);
}

Test(serve, slow_handler_does_not_hold_up_other_connections)
{
    struct slow sl;
    slow_init(&sl, 2000);
    struct serve_options opt = {.bind_address = "127.0.0.1:0", .threads = 2};
    struct serve *s = NULL;
    cr_assert_eq(serve_new(&opt, &s), ZL_OK);
    cr_assert_eq(serve_route(s, "GET", "/slow", slow_handler, &sl), ZL_OK);
    cr_assert_eq(serve_route(s, "GET", "/healthz", serve_handle_health, NULL),
                 ZL_OK);
    cr_assert_eq(serve_start(s), ZL_OK);
    struct client_arg arg = {AF_INET, serve_port(s), "/slow", 0, ""};
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, client_thread, &arg), 0);
    pthread_mutex_lock(&sl.mu);
    while (sl.entered == 0)
        pthread_cond_wait(&sl.cond, &sl.mu);
    pthread_mutex_unlock(&sl.mu);
    static char reply[REPLY_MAX];
    cr_expect_eq(get(AF_INET, serve_port(s), "/healthz", reply), 200);
    cr_expect_eq(atomic_load(&sl.done), 0, "/healthz waited behind /slow");
    pthread_join(th, NULL);
    cr_expect_eq(arg.status, 200);
    serve_free(s);
    slow_cleanup(&sl);
}

Test(serve, stop_waits_for_the_handler_in_flight)
{
    struct slow sl;
    slow_init(&sl, 500);
    struct serve_options opt = {.bind_address = "127.0.0.1:0"};
    struct serve *s = NULL;
    cr_assert_eq(serve_new(&opt, &s), ZL_OK);
    cr_assert_eq(serve_route(s, "GET", "/slow", slow_handler, &sl), ZL_OK);
    cr_assert_eq(serve_start(s), ZL_OK);
    int port = serve_port(s);
    struct client_arg arg = {AF_INET, port, "/slow", 0, ""};
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, client_thread, &arg), 0);
    pthread_mutex_lock(&sl.mu);
    while (sl.entered == 0)
        pthread_cond_wait(&sl.cond, &sl.mu);
    pthread_mutex_unlock(&sl.mu);
    serve_stop(s);
    cr_expect_eq(atomic_load(&sl.done), 1, "stop returned before the handler");
    cr_expect_eq(serve_port(s), -1);
    int fd = connect_to(AF_INET, port);
    cr_expect_eq(fd, -1, "a stopped server still accepts");
    if (fd >= 0)
        close(fd);
    pthread_join(th, NULL);
    cr_expect_eq(arg.status, 200, "the answer in flight was lost: %s",
                 arg.reply);
    serve_free(s);
    slow_cleanup(&sl);
}

struct loader {
    int port;
    atomic_int *ok;
    atomic_int *odd;
};

/* Sends requests until the server refuses the connection. */
static void *load_thread(void *p)
{
    struct loader *l = p;
    static const char req[] =
        "GET /quick HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
    char reply[1024];
    for (;;) {
        int fd = connect_to(AF_INET, l->port);
        if (fd < 0)
            return NULL;
        send_all(fd, req, sizeof(req) - 1);
        size_t n = read_all(fd, reply, sizeof(reply));
        close(fd);
        int status = 0;
        if (sscanf(reply, "HTTP/1.%*d %d", &status) == 1 && status == 200)
            atomic_fetch_add(l->ok, 1);
        else if (n > 0 && status != 503)
            atomic_fetch_add(l->odd, 1);
    }
}

Test(serve, stops_cleanly_under_load)
{
    enum { CLIENTS = 6 };
    struct slow sl;
    slow_init(&sl, 20);
    struct serve_options opt = {.bind_address = "127.0.0.1:0", .threads = 2};
    struct serve *s = NULL;
    cr_assert_eq(serve_new(&opt, &s), ZL_OK);
    cr_assert_eq(serve_route(s, "GET", "/quick", slow_handler, &sl), ZL_OK);
    cr_assert_eq(serve_start(s), ZL_OK);
    atomic_int ok = 0, odd = 0;
    struct loader l = {serve_port(s), &ok, &odd};
    pthread_t th[CLIENTS];
    for (int i = 0; i < CLIENTS; i++)
        cr_assert_eq(pthread_create(&th[i], NULL, load_thread, &l), 0);
    struct timespec ts = {.tv_nsec = 300 * 1000000L};
    nanosleep(&ts, NULL);
    serve_stop(s);
    for (int i = 0; i < CLIENTS; i++)
        pthread_join(th[i], NULL);
    cr_expect_gt(atomic_load(&ok), 0);
    cr_expect_eq(atomic_load(&odd), 0, "answers other than 200 or 503");
    serve_free(s);
    slow_cleanup(&sl);
}

Test(serve, stop_answers_503_to_requests_still_queued_after_the_grace)
{
    enum { N = 6 };
    struct slow sl;
    slow_init(&sl, 400);
    struct serve_options opt = {
        .bind_address = "127.0.0.1:0", .threads = 1, .timeout_s = 1};
    struct serve *s = NULL;
    cr_assert_eq(serve_new(&opt, &s), ZL_OK);
    cr_assert_eq(serve_route(s, "GET", "/slow", slow_handler, &sl), ZL_OK);
    cr_assert_eq(serve_start(s), ZL_OK);
    struct client_arg args[N];
    pthread_t th[N];
    for (int i = 0; i < N; i++) {
        args[i] = (struct client_arg){AF_INET, serve_port(s), "/slow", 0, ""};
        cr_assert_eq(pthread_create(&th[i], NULL, client_thread, &args[i]), 0);
    }
    pthread_mutex_lock(&sl.mu);
    while (sl.entered == 0)
        pthread_cond_wait(&sl.cond, &sl.mu);
    pthread_mutex_unlock(&sl.mu);
    struct timespec ts = {.tv_nsec = 200 * 1000000L}; /* all queued */
    nanosleep(&ts, NULL);
    int64_t t0 = clock_mono_ns();
    serve_stop(s);
    double took = seconds_since(t0);
    int ok = 0, unavailable = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        ok += args[i].status == 200;
        unavailable += args[i].status == 503;
    }
    /* 6 x 0.4 s of work on one thread; the grace is 1 s. */
    cr_expect_eq(ok + unavailable, N, "%d ok, %d 503", ok, unavailable);
    cr_expect_geq(ok, 2);
    cr_expect_geq(unavailable, 1);
    cr_expect_eq(ok, atomic_load(&sl.done));
    cr_expect_lt(took, 2.0, "stop took %.2f s", took);
    serve_free(s);
    slow_cleanup(&sl);
}

Test(serve, port_in_use_is_io_error)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert(fd >= 0);
    struct sockaddr_in in = {.sin_family = AF_INET,
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert_eq(bind(fd, (struct sockaddr *)&in, sizeof(in)), 0);
    cr_assert_eq(listen(fd, 4), 0);
    socklen_t len = sizeof(in);
    getsockname(fd, (struct sockaddr *)&in, &len);
    char addr[64];
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", ntohs(in.sin_port));
    struct serve_options opt = {.bind_address = addr};
    struct serve *s = NULL;
    cr_assert_eq(serve_new(&opt, &s), ZL_OK);
    cr_expect_eq(serve_start(s), ZL_ERR_IO);
    cr_expect_eq(serve_port(s), -1);
    close(fd);

    /* And against a server of ours: the second one fails, the first goes on. */
    struct serve *first = start("127.0.0.1:0", NULL);
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", serve_port(first));
    struct serve *second = NULL;
    cr_assert_eq(serve_new(&opt, &second), ZL_OK);
    cr_expect_eq(serve_start(second), ZL_ERR_IO);
    static char reply[REPLY_MAX];
    cr_expect_eq(get(AF_INET, serve_port(first), "/healthz", reply), 200);
    serve_free(second);
    serve_free(first);
    serve_free(s);
}

/* ---- Reusable handlers ------------------------------------------------- */

static bool check_fn(void *ctx, struct buf *reason)
{
    const atomic_int *ready = ctx;
    if (atomic_load(ready))
        return true;
    buf_puts(reason, "informers not synced");
    return false;
}

Test(serve, readiness_follows_the_flag_and_the_check)
{
    struct serve_readiness ready;
    serve_readiness_init(&ready, "starting");
    atomic_int flag = 0;
    struct serve_check check = {check_fn, &flag};
    struct serve_options opt = {.bind_address = "127.0.0.1:0"};
    struct serve *s = NULL;
    cr_assert_eq(serve_new(&opt, &s), ZL_OK);
    cr_assert_eq(
        serve_route(s, "GET", "/readyz", serve_handle_readiness, &ready),
        ZL_OK);
    cr_assert_eq(serve_route(s, "GET", "/check", serve_handle_check, &check),
                 ZL_OK);
    cr_assert_eq(serve_start(s), ZL_OK);
    static char reply[REPLY_MAX];
    cr_expect_eq(get(AF_INET, serve_port(s), "/readyz", reply), 503);
    cr_expect_str_eq(body_of(reply), "starting");
    cr_expect_eq(get(AF_INET, serve_port(s), "/check", reply), 503);
    cr_expect_str_eq(body_of(reply), "informers not synced");
    serve_readiness_set(&ready, NULL);
    atomic_store(&flag, 1);
    cr_expect_eq(get(AF_INET, serve_port(s), "/readyz", reply), 200);
    cr_expect_str_eq(body_of(reply), "ok");
    cr_expect_eq(get(AF_INET, serve_port(s), "/check", reply), 200);
    serve_readiness_set(&ready, "shutting down");
    cr_expect_eq(get(AF_INET, serve_port(s), "/readyz", reply), 503);
    cr_expect_str_eq(body_of(reply), "shutting down");
    serve_free(s);
}

Test(serve, metrics_handler_writes_the_exposition)
{
    struct metrics_registry *reg = NULL;
    cr_assert_eq(metrics_registry_new(&reg), ZL_OK);
    struct metrics_family *fam = NULL;
    cr_assert_eq(metrics_register(reg, METRICS_COUNTER, "zen_lead_test_total",
                                  "A test counter.", NULL, 0, NULL, 0, &fam),
                 ZL_OK);
    cr_assert_eq(metrics_add(fam, NULL, 3), ZL_OK);
    struct serve_options opt = {.bind_address = "[::1]:0"};
    struct serve *s = NULL;
    cr_assert_eq(serve_new(&opt, &s), ZL_OK);
    cr_assert_eq(serve_route(s, "GET", "/metrics", serve_handle_metrics, reg),
                 ZL_OK);
    cr_assert_eq(serve_start(s), ZL_OK);
    static char reply[REPLY_MAX];
    cr_expect_eq(get(AF_INET6, serve_port(s), "/metrics", reply), 200);
    cr_expect_not_null(strstr(
        reply, "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
    struct buf want;
    buf_init(&want, 1 << 16);
    cr_assert_eq(metrics_render(reg, &want), ZL_OK);
    cr_expect_str_eq(body_of(reply), want.data);
    cr_expect_not_null(strstr(body_of(reply), "zen_lead_test_total 3\n"));
    buf_cleanup(&want);
    serve_free(s);
    metrics_registry_free(reg);
}

/* ---- Inline routes ----------------------------------------------------- */

/* Says where it ran; with ctx set ("defer") it defers when inline, after
 * writing a body and a status that must not reach the client. */
static void where(void *ctx, const struct serve_request *req,
                  struct serve_response *resp)
{
    atomic_fetch_add(&handler_calls, 1);
    if (ctx != NULL && req->inline_run) {
        resp->status = 418;
        buf_puts(&resp->body, "must not be sent");
        resp->defer = true;
        return;
    }
    buf_puts(&resp->body, req->inline_run ? "inline" : "pool");
}

static int defer_mark; /* as where's ctx: defer when inline */

static struct serve *start_inline(struct slow *sl)
{
    struct serve_options opt = {.bind_address = "127.0.0.1:0", .threads = 2};
    struct serve *s = NULL;
    cr_assert_eq(serve_new(&opt, &s), ZL_OK);
    cr_assert_eq(serve_route_inline(s, "GET", "/where", where, NULL), ZL_OK);
    cr_assert_eq(serve_route_inline(s, "GET", "/defer", where, &defer_mark),
                 ZL_OK);
    cr_assert_eq(serve_route(s, "GET", "/pool", where, NULL), ZL_OK);
    cr_assert_eq(serve_route(s, "GET", "/slow", slow_handler, sl), ZL_OK);
    cr_assert_eq(serve_route_inline(s, "GET", "/where", where, NULL),
                 ZL_ERR_EXISTS);
    cr_assert_eq(serve_start(s), ZL_OK);
    return s;
}

Test(serve, inline_route_alone_in_flight_runs_on_the_io_thread)
{
    struct slow sl;
    slow_init(&sl, 0);
    struct serve *s = start_inline(&sl);
    static char reply[REPLY_MAX];
    for (int i = 0; i < 3; i++) {
        atomic_store(&handler_calls, 0);
        cr_expect_eq(get(AF_INET, serve_port(s), "/where", reply), 200);
        cr_expect_str_eq(body_of(reply), "inline");
        cr_expect_eq(atomic_load(&handler_calls), 1);
    }
    cr_expect_eq(get(AF_INET, serve_port(s), "/pool", reply), 200);
    cr_expect_str_eq(body_of(reply), "pool", "serve_route never runs inline");
    serve_free(s);
    slow_cleanup(&sl);
}

Test(serve, inline_handler_that_defers_is_answered_from_the_pool)
{
    struct slow sl;
    slow_init(&sl, 0);
    struct serve *s = start_inline(&sl);
    static char reply[REPLY_MAX];
    atomic_store(&handler_calls, 0);
    cr_expect_eq(get(AF_INET, serve_port(s), "/defer", reply), 200);
    cr_expect_str_eq(body_of(reply), "pool");
    cr_expect_null(strstr(reply, "must not be sent"));
    cr_expect_not_null(strstr(reply, "text/plain; charset=utf-8"),
                       "the default content type is back: %s", reply);
    cr_expect_eq(atomic_load(&handler_calls), 2, "inline, then the pool");
    serve_free(s);
    slow_cleanup(&sl);
}

Test(serve, inline_route_goes_to_the_pool_while_another_request_runs)
{
    struct slow sl;
    slow_init(&sl, 1000);
    struct serve *s = start_inline(&sl);
    struct client_arg arg = {AF_INET, serve_port(s), "/slow", 0, ""};
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, client_thread, &arg), 0);
    pthread_mutex_lock(&sl.mu);
    while (sl.entered == 0)
        pthread_cond_wait(&sl.cond, &sl.mu);
    pthread_mutex_unlock(&sl.mu);
    static char reply[REPLY_MAX];
    cr_expect_eq(get(AF_INET, serve_port(s), "/where", reply), 200);
    cr_expect_str_eq(body_of(reply), "pool");
    cr_expect_eq(atomic_load(&sl.done), 0, "/where waited behind /slow");
    pthread_join(th, NULL);
    cr_expect_eq(arg.status, 200);
    cr_expect_eq(get(AF_INET, serve_port(s), "/where", reply), 200);
    cr_expect_str_eq(body_of(reply), "inline", "alone again");
    serve_free(s);
    slow_cleanup(&sl);
}

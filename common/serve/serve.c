/* SPDX-License-Identifier: Apache-2.0 */
/* The HTTP server on libmicrohttpd: we open the listening socket ourselves
 * (so a bind error is reported with its errno), libmicrohttpd's one epoll
 * thread does all socket I/O (TLS included), and a complete request is
 * suspended and handed to our pool of handler threads, so a slow handler
 * never holds up other connections (a route of serve_route_inline is
 * answered on the I/O thread itself while it is the only request in
 * flight, unless its handler defers). Each request's state is freed in the
 * completion callback. With TLS the certificate comes per handshake from
 * serve_tls (libmicrohttpd's certificate callback). Every libmicrohttpd
 * type and constant stays in this file. */
#include "serve/serve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/metrics.h"
#include "base/sync.h"
#include "serve/serve_tls.h"

#define SERVE_MAX_REASON 1024
#define SERVE_STOP_FLUSH_MS 1000
/* After a stop, requests clients had already sent (on connections open
 * before it) go on arriving while the I/O thread reads them: the stop
 * waits until none has begun for this long. */
#define SERVE_STOP_SETTLE_MS 100
#define SERVE_REAP_INTERVAL_MS 250
#define SERVE_ALLOW_MAX (SERVE_MAX_ROUTES * (SERVE_MAX_METHOD + 2) + 8)

struct route {
    char *method;
    char *path;
    serve_handler_fn fn;
    void *ctx;
    bool inline_ok; /* serve_route_inline */
};

struct serve {
    struct serve_address addr;
    char *bind_text; /* for log lines */
    unsigned threads;
    unsigned timeout_s;
    unsigned max_connections;
    size_t max_body;
    struct serve_tls_creds *tls; /* NULL: plain HTTP */
    struct route routes[SERVE_MAX_ROUTES];
    size_t route_count;
    bool started; /* serve_start succeeded once */
    struct MHD_Daemon *daemon;
    int listen_fd;
    int port;
    pthread_t *workers; /* threads of them, running while daemon != NULL */
    pthread_mutex_t mu;
    pthread_cond_t idle;             /* active dropped to 0 */
    pthread_cond_t work;             /* a request queued, or stopping */
    unsigned active;                 /* requests begun, not completed */
    uint64_t begun;                  /* requests begun since the start */
    struct request_state *queue;     /* suspended, waiting for a worker */
    struct request_state *queue_end; /* last of them */
    bool stopping;                   /* queued requests get 503 */
    pthread_mutex_t conn_mu;         /* conns, reaper_stop */
    pthread_cond_t reaper_wake;      /* reaper_stop set */
    struct conn_track *conns;        /* every open connection */
    bool reaper_stop;
    bool reaper_running;
    pthread_t reaper;
};

/* One connection, as its socket context: each request on it must arrive
 * whole (headers and body; the first one after the TLS handshake) within
 * timeout_s of the connection's start or of the previous request's end.
 * libmicrohttpd's own timeout counts idle time only, so a client sending a
 * byte now and then (slowloris) would otherwise hold a connection for
 * ever. */
struct conn_track {
    struct serve *s;
    int fd;
    int64_t deadline_ns; /* monotonic; 0 while a request is being served */
    struct conn_track *prev;
    struct conn_track *next;
};

enum request_phase {
    REQUEST_READING, /* headers and body arriving (libmicrohttpd thread) */
    REQUEST_QUEUED,  /* suspended: queued or in a handler */
    REQUEST_DONE,    /* resp is ready; resumed to be sent */
};

/* One request, from its first access-handler call to its completion. The
 * libmicrohttpd thread owns it except while QUEUED, when a worker does. */
struct request_state {
    struct serve *s;
    const struct route *route;
    struct buf body;
    size_t discarded; /* body bytes past max_body, dropped */
    bool too_large;   /* a chunked body went past max_body: 413 */
    struct MHD_Connection *conn;
    struct serve_request req;
    struct serve_response resp;
    enum request_phase phase;   /* under s->mu */
    struct request_state *next; /* in s->queue */
};

/* ---- Bind addresses ---------------------------------------------------- */

static enum zl_err parse_port(const char *text, uint16_t *out)
{
    unsigned long v = 0;
    if (*text == '\0')
        return ZL_ERR_PARSE;
    for (const char *p = text; *p != '\0'; p++) {
        if (*p < '0' || *p > '9')
            return ZL_ERR_PARSE;
        v = v * 10 + (unsigned long)(*p - '0');
        if (v > 65535)
            return ZL_ERR_PARSE;
    }
    *out = (uint16_t)v;
    return ZL_OK;
}

/* Splits "host:port" or "[host]:port"; sets out->host, out->family (the
 * family the host must have) and *port_text. */
static enum zl_err split_host_port(const char *text, struct serve_address *out,
                                   const char **port_text)
{
    const char *host = text;
    const char *end;
    if (text[0] == '[') {
        host = text + 1;
        end = strchr(host, ']');
        if (end == NULL || end == host || end[1] != ':')
            return ZL_ERR_PARSE;
        *port_text = end + 2;
        out->family = AF_INET6;
    } else {
        end = strchr(text, ':');
        if (end == NULL || strchr(end + 1, ':') != NULL)
            return ZL_ERR_PARSE;
        *port_text = end + 1;
        out->family = end == text ? AF_UNSPEC : AF_INET;
    }
    size_t host_len = (size_t)(end - host);
    if (host_len >= sizeof(out->host))
        return ZL_ERR_PARSE;
    memcpy(out->host, host, host_len);
    out->host[host_len] = '\0';
    return ZL_OK;
}

enum zl_err serve_parse_address(const char *text, struct serve_address *out)
{
    memset(out, 0, sizeof(*out));
    if (text == NULL)
        return ZL_ERR_PARSE;
    if (strcmp(text, "0") == 0) {
        out->disabled = true;
        return ZL_OK;
    }
    const char *port_text = NULL;
    enum zl_err err = split_host_port(text, out, &port_text);
    if (err == ZL_OK)
        err = parse_port(port_text, &out->port);
    if (err == ZL_OK && out->family != AF_UNSPEC) {
        unsigned char bin[sizeof(struct in6_addr)];
        if (inet_pton(out->family, out->host, bin) != 1)
            err = ZL_ERR_PARSE;
    }
    if (err != ZL_OK)
        memset(out, 0, sizeof(*out));
    return err;
}

bool serve_address_ok(const char *text)
{
    struct serve_address a;
    return serve_parse_address(text, &a) == ZL_OK;
}

/* ---- Lifecycle --------------------------------------------------------- */

static enum zl_err check_options(const struct serve_options *opt)
{
    if (opt->tls != NULL &&
        (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES ||
         MHD_is_feature_supported(MHD_FEATURE_HTTPS_CERT_CALLBACK2) !=
             MHD_YES)) {
        log_error("serve: %s: this libmicrohttpd has no TLS with "
                  "certificate callbacks (GnuTLS 3.6.3 or later)",
                  opt->bind_address);
        return ZL_ERR_INVALID;
    }
    if (opt->threads > SERVE_MAX_THREADS ||
        opt->timeout_s > SERVE_MAX_TIMEOUT_S) {
        log_error("serve: %s: threads %u (at most %u) or timeout %u s (at "
                  "most %u) out of range",
                  opt->bind_address, opt->threads, SERVE_MAX_THREADS,
                  opt->timeout_s, SERVE_MAX_TIMEOUT_S);
        return ZL_ERR_INVALID;
    }
    return ZL_OK;
}

static void apply_options(struct serve *s, const struct serve_options *opt)
{
    s->threads = opt->threads ? opt->threads : SERVE_DEFAULT_THREADS;
    s->timeout_s = opt->timeout_s ? opt->timeout_s : SERVE_DEFAULT_TIMEOUT_S;
    s->max_body = opt->max_body ? opt->max_body : SERVE_DEFAULT_MAX_BODY;
    s->max_connections = opt->max_connections ? opt->max_connections
                                              : SERVE_DEFAULT_MAX_CONNECTIONS;
    s->listen_fd = -1;
    s->port = -1;
}

/* The server's locks: s->mu with its two conditions, s->conn_mu with the
 * reaper's. All or none. */
static enum zl_err init_locks(struct serve *s)
{
    pthread_cond_t *conds[] = {&s->idle, &s->work};
    pthread_cond_t *reaper_conds[] = {&s->reaper_wake};
    if (sync_init(&s->mu, conds, 2) != ZL_OK)
        return ZL_ERR_NOMEM;
    if (sync_init(&s->conn_mu, reaper_conds, 1) != ZL_OK) {
        sync_destroy(&s->mu, conds, 2);
        return ZL_ERR_NOMEM;
    }
    return ZL_OK;
}

static void destroy_locks(struct serve *s)
{
    pthread_cond_t *conds[] = {&s->idle, &s->work};
    pthread_cond_t *reaper_conds[] = {&s->reaper_wake};
    sync_destroy(&s->mu, conds, 2);
    sync_destroy(&s->conn_mu, reaper_conds, 1);
}

enum zl_err serve_new(const struct serve_options *opt, struct serve **out)
{
    *out = NULL;
    if (opt == NULL || opt->bind_address == NULL)
        return ZL_ERR_INVALID;
    struct serve_address addr;
    enum zl_err err = serve_parse_address(opt->bind_address, &addr);
    if (err != ZL_OK) {
        log_error("serve: bad bind address \"%s\" (want \"0\", \":PORT\", "
                  "\"IPV4:PORT\" or \"[IPV6]:PORT\")",
                  opt->bind_address);
        return err;
    }
    if ((err = check_options(opt)) != ZL_OK)
        return err;
    struct serve_tls_creds *tls = NULL;
    if (opt->tls != NULL &&
        (err = serve_tls_creds_new(opt->tls, opt->bind_address, &tls)) != ZL_OK)
        return err;
    struct serve *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        serve_tls_creds_free(tls);
        return ZL_ERR_NOMEM;
    }
    s->tls = tls;
    s->addr = addr;
    apply_options(s, opt);
    s->bind_text = strdup(opt->bind_address);
    s->workers = calloc(s->threads, sizeof(*s->workers));
    if (s->bind_text == NULL || s->workers == NULL || init_locks(s) != ZL_OK) {
        serve_tls_creds_free(s->tls);
        free(s->workers);
        free(s->bind_text);
        free(s);
        return ZL_ERR_NOMEM;
    }
    *out = s;
    return ZL_OK;
}

static bool valid_method(const char *method)
{
    size_t n = strlen(method);
    if (n == 0 || n > SERVE_MAX_METHOD || strcmp(method, "HEAD") == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (method[i] < 'A' || method[i] > 'Z')
            return false;
    }
    return true;
}

static bool valid_path(const char *path)
{
    size_t n = strlen(path);
    if (n == 0 || n > SERVE_MAX_PATH || path[0] != '/')
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)path[i];
        if (c <= ' ' || c >= 0x7f || c == '?' || c == '#')
            return false;
    }
    return true;
}

static const struct route *find_route(const struct serve *s, const char *method,
                                      const char *path, bool *path_known)
{
    *path_known = false;
    for (size_t i = 0; i < s->route_count; i++) {
        const struct route *r = &s->routes[i];
        if (strcmp(r->path, path) != 0)
            continue;
        *path_known = true;
        if (strcmp(r->method, method) == 0)
            return r;
    }
    return NULL;
}

static enum zl_err add_route(struct serve *s, const char *method,
                             const char *path, serve_handler_fn fn, void *ctx,
                             bool inline_ok)
{
    if (s->started || fn == NULL || method == NULL || path == NULL ||
        !valid_method(method) || !valid_path(path))
        return ZL_ERR_INVALID;
    bool path_known;
    if (find_route(s, method, path, &path_known) != NULL)
        return ZL_ERR_EXISTS;
    if (s->route_count == SERVE_MAX_ROUTES)
        return ZL_ERR_LIMIT;
    struct route *r = &s->routes[s->route_count];
    r->method = strdup(method);
    r->path = strdup(path);
    if (r->method == NULL || r->path == NULL) {
        free(r->method);
        free(r->path);
        r->method = r->path = NULL;
        return ZL_ERR_NOMEM;
    }
    r->fn = fn;
    r->ctx = ctx;
    r->inline_ok = inline_ok;
    s->route_count++;
    return ZL_OK;
}

enum zl_err serve_route(struct serve *s, const char *method, const char *path,
                        serve_handler_fn fn, void *ctx)
{
    return add_route(s, method, path, fn, ctx, false);
}

enum zl_err serve_route_inline(struct serve *s, const char *method,
                               const char *path, serve_handler_fn fn, void *ctx)
{
    return add_route(s, method, path, fn, ctx, true);
}

/* ---- Responses --------------------------------------------------------- */

static enum MHD_Result send_response(struct MHD_Connection *conn, int status,
                                     const char *content_type, const char *body,
                                     size_t body_len, const char *allow)
{
    /* MUST_COPY only reads the buffer; the API just lacks the const. */
    void *data;
    memcpy(&data, &body, sizeof(data));
    struct MHD_Response *r =
        MHD_create_response_from_buffer(body_len, data, MHD_RESPMEM_MUST_COPY);
    if (r == NULL)
        return MHD_NO;
    enum MHD_Result ret = MHD_NO;
    if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                                content_type) == MHD_YES &&
        (allow == NULL ||
         MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow) == MHD_YES))
        ret = MHD_queue_response(conn, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result send_text(struct MHD_Connection *conn, int status,
                                 const char *text, const char *allow)
{
    return send_response(conn, status, SERVE_DEFAULT_CONTENT_TYPE, text,
                         strlen(text), allow);
}

/* The methods routed for path, as an Allow header value ("GET, HEAD"). */
static void allowed_methods(const struct serve *s, const char *path, char *out,
                            size_t out_size)
{
    size_t used = 0;
    bool get = false;
    out[0] = '\0';
    for (size_t i = 0; i < s->route_count; i++) {
        const struct route *r = &s->routes[i];
        if (strcmp(r->path, path) != 0)
            continue;
        get = get || strcmp(r->method, "GET") == 0;
        int n = snprintf(out + used, out_size - used, "%s%s", used ? ", " : "",
                         r->method);
        if (n > 0 && (size_t)n < out_size - used)
            used += (size_t)n;
    }
    if (get)
        snprintf(out + used, out_size - used, ", HEAD");
}

/* ---- Request deadlines ------------------------------------------------ */

static int64_t request_deadline(const struct serve *s)
{
    return clock_mono_ns() + (int64_t)s->timeout_s * CLOCK_NS_PER_S;
}

static struct conn_track *track_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci != NULL ? ci->socket_context : NULL;
}

/* Arms conn's deadline (a request may begin) or clears it (a request is
 * in: it is being answered). */
static void track_deadline(struct MHD_Connection *conn, bool arm)
{
    struct conn_track *t = track_of(conn);
    if (t == NULL)
        return;
    pthread_mutex_lock(&t->s->conn_mu);
    t->deadline_ns = arm ? request_deadline(t->s) : 0;
    pthread_mutex_unlock(&t->s->conn_mu);
}

static void track_start(struct serve *s, struct MHD_Connection *conn,
                        void **socket_context)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    struct conn_track *t = ci != NULL ? calloc(1, sizeof(*t)) : NULL;
    *socket_context = t;
    if (t == NULL) {
        log_warn("serve: %s: a connection without a deadline (out of "
                 "memory)",
                 s->bind_text);
        return;
    }
    t->s = s;
    t->fd = ci->connect_fd;
    pthread_mutex_lock(&s->conn_mu);
    t->deadline_ns = request_deadline(s);
    t->next = s->conns;
    if (s->conns != NULL)
        s->conns->prev = t;
    s->conns = t;
    pthread_mutex_unlock(&s->conn_mu);
}

/* Called before libmicrohttpd closes the socket: from here on the reaper
 * never touches the fd. */
static void track_end(struct serve *s, void **socket_context)
{
    struct conn_track *t = *socket_context;
    if (t == NULL)
        return;
    *socket_context = NULL;
    pthread_mutex_lock(&s->conn_mu);
    if (t->prev != NULL)
        t->prev->next = t->next;
    else
        s->conns = t->next;
    if (t->next != NULL)
        t->next->prev = t->prev;
    pthread_mutex_unlock(&s->conn_mu);
    free(t);
}

/* Each connection's socket context is its conn_track. */
static void on_connection(void *cls, struct MHD_Connection *conn,
                          void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    if (code == MHD_CONNECTION_NOTIFY_STARTED)
        track_start(cls, conn, socket_context);
    else if (code == MHD_CONNECTION_NOTIFY_CLOSED)
        track_end(cls, socket_context);
}

/* Cuts off the connections past their deadline. shutdown() makes
 * libmicrohttpd see the stream end and close the connection itself; the
 * fd is still open, since a connection leaves the list (under conn_mu)
 * before libmicrohttpd closes its socket. Called with conn_mu held. */
static void reap_expired(struct serve *s, int64_t now)
{
    for (struct conn_track *t = s->conns; t != NULL; t = t->next) {
        if (t->deadline_ns == 0 || t->deadline_ns > now)
            continue;
        t->deadline_ns = 0;
        shutdown(t->fd, SHUT_RDWR);
        log_warn("serve: %s: a request not in whole within %u s: closing "
                 "its connection",
                 s->bind_text, s->timeout_s);
    }
}

static void *reaper_main(void *arg)
{
    struct serve *s = arg;
    pthread_mutex_lock(&s->conn_mu);
    while (!s->reaper_stop) {
        struct timespec ts = sync_timespec(
            clock_mono_ns() + SERVE_REAP_INTERVAL_MS * CLOCK_NS_PER_MS);
        pthread_cond_timedwait(&s->reaper_wake, &s->conn_mu, &ts);
        reap_expired(s, clock_mono_ns());
    }
    pthread_mutex_unlock(&s->conn_mu);
    return NULL;
}

static enum zl_err start_reaper(struct serve *s)
{
    s->reaper_stop = false;
    int rc = pthread_create(&s->reaper, NULL, reaper_main, s);
    if (rc != 0) {
        log_error("serve: %s: cannot start the deadline thread: %s",
                  s->bind_text, strerror(rc));
        return ZL_ERR_NOMEM;
    }
    s->reaper_running = true;
    return ZL_OK;
}

static void stop_reaper(struct serve *s)
{
    if (!s->reaper_running)
        return;
    pthread_mutex_lock(&s->conn_mu);
    s->reaper_stop = true;
    pthread_cond_broadcast(&s->reaper_wake);
    pthread_mutex_unlock(&s->conn_mu);
    pthread_join(s->reaper, NULL);
    s->reaper_running = false;
}

/* ---- Requests ---------------------------------------------------------- */

/* True when the request announces a body longer than max. */
static bool announced_too_large(struct MHD_Connection *conn, size_t max)
{
    const char *cl = MHD_lookup_connection_value(
        conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl == NULL)
        return false;
    errno = 0;
    char *end = NULL;
    unsigned long long n = strtoull(cl, &end, 10);
    if (errno == ERANGE)
        return true;
    return end != cl && (unsigned long long)max < n;
}

/* An answer given before a request is in whole (the rest is not read):
 * the request is being answered, so its deadline no longer runs. */
static enum MHD_Result send_early(struct MHD_Connection *conn, int status,
                                  const char *text, const char *allow)
{
    track_deadline(conn, false);
    return send_text(conn, status, text, allow);
}

static struct request_state *request_state_new(struct serve *s)
{
    struct request_state *rs = calloc(1, sizeof(*rs));
    if (rs == NULL)
        return NULL;
    rs->s = s;
    buf_init(&rs->body, s->max_body);
    rs->resp.status = 200;
    rs->resp.content_type = SERVE_DEFAULT_CONTENT_TYPE;
    buf_init(&rs->resp.body, SERVE_MAX_RESPONSE_BODY);
    pthread_mutex_lock(&s->mu);
    s->active++;
    s->begun++;
    pthread_mutex_unlock(&s->mu);
    return rs;
}

/* First call for a request: its headers are in. Answers at once what can
 * be answered without the body (404, 405, 413). */
static enum MHD_Result begin_request(struct serve *s,
                                     struct MHD_Connection *conn,
                                     const char *url, const char *method,
                                     void **con_cls)
{
    struct request_state *rs = request_state_new(s);
    if (rs == NULL)
        return MHD_NO;
    *con_cls = rs;
    bool path_known;
    const char *lookup = strcmp(method, "HEAD") == 0 ? "GET" : method;
    rs->route = find_route(s, lookup, url, &path_known);
    if (rs->route == NULL && !path_known)
        return send_early(conn, 404, "404 page not found\n", NULL);
    if (rs->route == NULL) {
        char allow[SERVE_ALLOW_MAX];
        allowed_methods(s, url, allow, sizeof(allow));
        return send_early(conn, 405, "405 method not allowed\n", allow);
    }
    if (announced_too_large(conn, s->max_body)) {
        log_warn("serve: %s %s: body longer than %zu bytes: 413", method, url,
                 s->max_body);
        return send_early(conn, 413, "413 request body too large\n", NULL);
    }
    return MHD_YES;
}

/* A body chunk. Over the limit without a Content-Length (chunked), no
 * response can be queued mid-body (libmicrohttpd refuses one while a chunk
 * is handed over), so the rest is read and dropped and 413 answered at its
 * end; past another max_body bytes dropped the connection is closed. */
static enum MHD_Result take_body(struct request_state *rs, const char *url,
                                 const char *data, size_t *data_size)
{
    size_t n = *data_size;
    *data_size = 0;
    if (!rs->too_large) {
        enum zl_err err = buf_append(&rs->body, data, n);
        if (err == ZL_OK)
            return MHD_YES;
        if (err != ZL_ERR_LIMIT)
            return MHD_NO;
        log_warn("serve: %s: body over %zu bytes without a length: 413", url,
                 rs->s->max_body);
        rs->too_large = true;
        buf_cleanup(&rs->body);
    }
    rs->discarded += n;
    if (rs->discarded > rs->s->max_body) {
        log_warn("serve: %s: body still going %zu bytes past the limit: "
                 "closing the connection",
                 url, rs->discarded);
        return MHD_NO;
    }
    return MHD_YES;
}

/* The handler's answer, checked and sent (libmicrohttpd thread). */
static enum MHD_Result send_answer(struct request_state *rs,
                                   struct MHD_Connection *conn)
{
    struct serve_response *resp = &rs->resp;
    if (resp->status < 100 || resp->status > 599) {
        log_error("serve: %s %s: handler gave status %d: 500", rs->req.method,
                  rs->req.path, resp->status);
        buf_reset(&resp->body);
        resp->status = 500;
    }
    const char *ct = resp->content_type != NULL ? resp->content_type
                                                : SERVE_DEFAULT_CONTENT_TYPE;
    enum MHD_Result ret = send_response(
        conn, resp->status, ct, resp->body.data != NULL ? resp->body.data : "",
        resp->body.len, NULL);
    buf_cleanup(&resp->body);
    return ret;
}

/* Calls the handler on this (the I/O) thread. False when it deferred:
 * the answer is reset for a pool thread. */
static bool run_inline(struct request_state *rs)
{
    rs->req.inline_run = true;
    rs->route->fn(rs->route->ctx, &rs->req, &rs->resp);
    rs->req.inline_run = false;
    if (!rs->resp.defer)
        return true;
    rs->resp.defer = false;
    rs->resp.status = 200;
    rs->resp.content_type = SERVE_DEFAULT_CONTENT_TYPE;
    buf_reset(&rs->resp.body);
    return false;
}

/* The request is complete: answer it here when its route allows and
 * nothing else is in flight, else suspend it and queue it for a worker. */
static enum MHD_Result dispatch(struct request_state *rs,
                                struct MHD_Connection *conn, const char *url,
                                const char *method)
{
    struct serve *s = rs->s;
    track_deadline(conn, false);
    rs->conn = conn;
    rs->req = (struct serve_request){
        .method = method,
        .path = url,
        .body = rs->body.data != NULL ? rs->body.data : "",
        .body_len = rs->body.len,
        .content_type = MHD_lookup_connection_value(
            conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE),
    };
    pthread_mutex_lock(&s->mu);
    if (s->stopping) {
        pthread_mutex_unlock(&s->mu);
        return send_text(conn, 503, "503 shutting down\n", NULL);
    }
    /* Alone in flight: this thread has nothing else to do meanwhile. */
    if (rs->route->inline_ok && s->active == 1 && s->queue == NULL) {
        pthread_mutex_unlock(&s->mu);
        if (run_inline(rs))
            return send_answer(rs, conn);
        pthread_mutex_lock(&s->mu);
        if (s->stopping) {
            pthread_mutex_unlock(&s->mu);
            return send_text(conn, 503, "503 shutting down\n", NULL);
        }
    }
    /* Suspended before a worker can see it, so resume follows suspend. */
    MHD_suspend_connection(conn);
    rs->phase = REQUEST_QUEUED;
    if (s->queue_end != NULL)
        s->queue_end->next = rs;
    else
        s->queue = rs;
    s->queue_end = rs;
    pthread_cond_signal(&s->work);
    pthread_mutex_unlock(&s->mu);
    return MHD_YES;
}

static bool request_done(struct request_state *rs)
{
    pthread_mutex_lock(&rs->s->mu);
    bool done = rs->phase == REQUEST_DONE;
    pthread_mutex_unlock(&rs->s->mu);
    return done;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
                                  const char *url, const char *method,
                                  const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)version;
    struct request_state *rs = *con_cls;
    if (rs == NULL)
        return begin_request(cls, conn, url, method, con_cls);
    if (*upload_data_size > 0)
        return take_body(rs, url, upload_data, upload_data_size);
    if (rs->too_large)
        return send_early(conn, 413, "413 request body too large\n", NULL);
    if (request_done(rs))
        return send_answer(rs, conn);
    return dispatch(rs, conn, url, method);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    /* The connection may carry another request: its clock starts. */
    track_deadline(conn, true);
    struct request_state *rs = *con_cls;
    if (rs == NULL)
        return;
    *con_cls = NULL;
    if (toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED)
        log_debug("serve: request dropped after the idle timeout");
    struct serve *s = rs->s;
    buf_cleanup(&rs->body);
    buf_cleanup(&rs->resp.body);
    free(rs);
    pthread_mutex_lock(&s->mu);
    if (--s->active == 0)
        pthread_cond_broadcast(&s->idle);
    pthread_mutex_unlock(&s->mu);
}

__attribute__((format(printf, 2, 0))) static void
on_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    size_t n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    log_warn("serve: libmicrohttpd: %s", msg);
}

/* ---- Listening --------------------------------------------------------- */

/* Fills the socket address for a; every interface is "::" (dual stack). */
static socklen_t make_sockaddr(const struct serve_address *a, int family,
                               struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof(*ss));
    if (family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)ss;
        in->sin_family = AF_INET;
        in->sin_port = htons(a->port);
        in->sin_addr.s_addr = htonl(INADDR_ANY);
        if (a->host[0] != '\0')
            inet_pton(AF_INET, a->host, &in->sin_addr);
        return sizeof(*in);
    }
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(a->port);
    in6->sin6_addr = in6addr_any;
    if (a->host[0] != '\0')
        inet_pton(AF_INET6, a->host, &in6->sin6_addr);
    return sizeof(*in6);
}

/* A socket of the address's family; for every interface IPv6 taking IPv4
 * too, or IPv4 alone on a host without IPv6. */
static int open_socket(const struct serve_address *a, int *family)
{
    *family = a->family == AF_UNSPEC ? AF_INET6 : a->family;
    int fd = socket(*family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 && a->family == AF_UNSPEC && errno == EAFNOSUPPORT) {
        *family = AF_INET;
        fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    }
    if (fd < 0)
        return -1;
    int one = 1;
    int v6only = a->family == AF_INET6;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        (*family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY,
                                           &v6only, sizeof(v6only)) != 0)) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

static int bound_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
        return -1;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

static enum zl_err listen_on(struct serve *s, int *family)
{
    const char *step = "socket";
    int fd = open_socket(&s->addr, family);
    if (fd >= 0) {
        struct sockaddr_storage ss;
        socklen_t len = make_sockaddr(&s->addr, *family, &ss);
        step = "bind";
        if (bind(fd, (struct sockaddr *)&ss, len) == 0) {
            step = "listen";
            if (listen(fd, SOMAXCONN) == 0) {
                s->listen_fd = fd;
                s->port = bound_port(fd);
                return ZL_OK;
            }
        }
        int saved = errno;
        close(fd);
        errno = saved;
    }
    log_error("serve: %s: %s: %s", s->bind_text, step, strerror(errno));
    return ZL_ERR_IO;
}

/* ---- Workers ----------------------------------------------------------- */

/* Runs one queued request's handler, or answers 503 when stopping, then
 * resumes its connection. Called and returns with s->mu held. */
static void work_one(struct serve *s, struct request_state *rs)
{
    bool run = !s->stopping;
    pthread_mutex_unlock(&s->mu);
    if (run) {
        rs->route->fn(rs->route->ctx, &rs->req, &rs->resp);
    } else {
        buf_reset(&rs->resp.body);
        rs->resp.status = 503;
        rs->resp.content_type = SERVE_DEFAULT_CONTENT_TYPE;
        buf_puts(&rs->resp.body, "503 shutting down\n");
    }
    struct MHD_Connection *conn = rs->conn;
    pthread_mutex_lock(&s->mu);
    rs->phase = REQUEST_DONE;
    pthread_mutex_unlock(&s->mu);
    /* rs may be freed from here on: the connection is libmicrohttpd's. */
    MHD_resume_connection(conn);
    pthread_mutex_lock(&s->mu);
}

/* A worker: takes queued requests until stopping with the queue empty, so
 * no connection is left suspended for MHD_stop_daemon. */
static void *worker_main(void *arg)
{
    struct serve *s = arg;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (s->queue == NULL && !s->stopping)
            pthread_cond_wait(&s->work, &s->mu);
        struct request_state *rs = s->queue;
        if (rs == NULL)
            break;
        s->queue = rs->next;
        if (s->queue == NULL)
            s->queue_end = NULL;
        rs->next = NULL;
        work_one(s, rs);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* Stops the first n workers once the queue is empty. */
static void join_workers(struct serve *s, unsigned n)
{
    pthread_mutex_lock(&s->mu);
    s->stopping = true;
    pthread_cond_broadcast(&s->work);
    pthread_mutex_unlock(&s->mu);
    for (unsigned i = 0; i < n; i++)
        pthread_join(s->workers[i], NULL);
}

static enum zl_err start_workers(struct serve *s)
{
    s->stopping = false;
    for (unsigned i = 0; i < s->threads; i++) {
        int rc = pthread_create(&s->workers[i], NULL, worker_main, s);
        if (rc != 0) {
            log_error("serve: %s: cannot start a handler thread: %s",
                      s->bind_text, strerror(rc));
            join_workers(s, i);
            return ZL_ERR_NOMEM;
        }
    }
    return ZL_OK;
}

/* ---- Daemon ------------------------------------------------------------ */

/* The transport's flags: none for plain HTTP. */
static unsigned transport_flags(const struct serve *s)
{
    return s->tls != NULL ? MHD_USE_TLS : 0;
}

/* GnuTLS asks for the certificate of one handshake: libmicrohttpd's
 * session pointer is the connection. */
static int on_certificate(gnutls_session_t session,
                          const struct gnutls_cert_retr_st *info,
                          gnutls_pcert_st **certs, unsigned int *certs_length,
                          gnutls_ocsp_data_st **ocsp, unsigned int *ocsp_length,
                          gnutls_privkey_t *privkey, unsigned int *flags)
{
    (void)info;
    *ocsp = NULL;
    *ocsp_length = 0;
    struct MHD_Connection *conn = gnutls_session_get_ptr(session);
    const union MHD_ConnectionInfo *ci =
        conn != NULL
            ? MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT)
            : NULL;
    const struct conn_track *t = ci != NULL ? ci->socket_context : NULL;
    struct serve *s = t != NULL ? t->s : NULL;
    if (s == NULL || s->tls == NULL)
        return GNUTLS_E_INTERNAL_ERROR;
    return serve_tls_creds_retrieve(s->tls, certs, certs_length, privkey,
                                    flags);
}

static struct MHD_Daemon *start_daemon(struct serve *s, int family)
{
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ERROR_LOG | transport_flags(s);
    if (family == AF_INET6)
        flags |= MHD_USE_IPv6;
    struct MHD_OptionItem ops[] = {
        {MHD_OPTION_LISTEN_SOCKET, s->listen_fd, NULL},
        {MHD_OPTION_CONNECTION_TIMEOUT, (intptr_t)s->timeout_s, NULL},
        {MHD_OPTION_CONNECTION_LIMIT, (intptr_t)s->max_connections, NULL},
        {MHD_OPTION_END, 0, NULL},
    };
    if (s->tls == NULL)
        return MHD_start_daemon(flags, 0, NULL, NULL, on_request, s,
                                MHD_OPTION_EXTERNAL_LOGGER, on_log, NULL,
                                MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                                MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
                                MHD_OPTION_ARRAY, ops, MHD_OPTION_END);
    return MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, on_log,
        NULL, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
        MHD_OPTION_HTTPS_PRIORITIES, serve_tls_creds_priorities(s->tls),
        MHD_OPTION_HTTPS_CERT_CALLBACK2, on_certificate, MHD_OPTION_ARRAY, ops,
        MHD_OPTION_END);
}

enum zl_err serve_start(struct serve *s)
{
    if (s->started)
        return ZL_ERR_INVALID;
    if (s->addr.disabled) {
        s->started = true;
        return ZL_OK;
    }
    int family;
    enum zl_err err = listen_on(s, &family);
    if (err == ZL_OK && s->tls != NULL)
        err = serve_tls_creds_start(s->tls);
    if (err == ZL_OK)
        err = start_reaper(s);
    if (err == ZL_OK && (err = start_workers(s)) == ZL_OK) {
        s->daemon = start_daemon(s, family);
        if (s->daemon == NULL) {
            log_error("serve: %s: libmicrohttpd did not start", s->bind_text);
            join_workers(s, s->threads);
            err = ZL_ERR_IO;
        }
    }
    if (err != ZL_OK) {
        stop_reaper(s);
        serve_tls_creds_stop(s->tls);
        if (s->listen_fd >= 0)
            close(s->listen_fd);
        s->listen_fd = -1;
        s->port = -1;
        return err;
    }
    s->started = true;
    return ZL_OK;
}

enum zl_err serve_tls_state(struct serve *s, struct serve_tls_status *out)
{
    if (s == NULL || s->tls == NULL) {
        memset(out, 0, sizeof(*out));
        return ZL_ERR_INVALID;
    }
    serve_tls_creds_status(s->tls, out);
    return ZL_OK;
}

int serve_port(const struct serve *s)
{
    return s != NULL && s->daemon != NULL ? s->port : -1;
}

/* Waits until no request is in flight, for at most wait_ms; says how many
 * are left (and why it matters) when the wait runs out. */
static void wait_idle(struct serve *s, int64_t wait_ms, const char *then)
{
    int64_t deadline = clock_mono_ns() + wait_ms * (CLOCK_NS_PER_MS);
    struct timespec ts = sync_timespec(deadline);
    pthread_mutex_lock(&s->mu);
    while (s->active > 0) {
        if (pthread_cond_timedwait(&s->idle, &s->mu, &ts) == ETIMEDOUT) {
            log_warn("serve: %s: %u request(s) still in flight after "
                     "%lld ms: %s",
                     s->bind_text, s->active, (long long)wait_ms, then);
            break;
        }
    }
    pthread_mutex_unlock(&s->mu);
}

static uint64_t begun(struct serve *s)
{
    pthread_mutex_lock(&s->mu);
    uint64_t n = s->begun;
    pthread_mutex_unlock(&s->mu);
    return n;
}

/* Answers every request in flight, and those that arrive on open
 * connections meanwhile, until none has begun for SERVE_STOP_SETTLE_MS
 * or wait_ms have passed. */
static void drain_requests(struct serve *s, int64_t wait_ms)
{
    int64_t deadline = clock_mono_ns() + wait_ms * CLOCK_NS_PER_MS;
    for (;;) {
        uint64_t before = begun(s);
        struct timespec pause = {0, SERVE_STOP_SETTLE_MS * 1000L * 1000L};
        nanosleep(&pause, NULL);
        int64_t left_ms = (deadline - clock_mono_ns()) / CLOCK_NS_PER_MS;
        wait_idle(s, left_ms > 0 ? left_ms : 0, "queued ones are answered 503");
        if (begun(s) == before || clock_mono_ns() >= deadline)
            return;
    }
}

void serve_stop(struct serve *s)
{
    if (s == NULL || s->daemon == NULL)
        return;
    /* Quiesce, then shut the listening socket down so new clients are
     * refused at once; it may only be closed after MHD_stop_daemon. */
    if (MHD_quiesce_daemon(s->daemon) != MHD_INVALID_SOCKET)
        shutdown(s->listen_fd, SHUT_RDWR);
    drain_requests(s, (int64_t)s->timeout_s * 1000);
    join_workers(s, s->threads);
    /* Answers the workers gave last (503 included) are sent by the
     * libmicrohttpd thread: give them a moment before closing. */
    wait_idle(s, SERVE_STOP_FLUSH_MS, "closing them");
    MHD_stop_daemon(s->daemon);
    s->daemon = NULL;
    stop_reaper(s);
    serve_tls_creds_stop(s->tls);
    close(s->listen_fd);
    s->listen_fd = -1;
    s->port = -1;
}

void serve_free(struct serve *s)
{
    if (s == NULL)
        return;
    serve_stop(s);
    for (size_t i = 0; i < s->route_count; i++) {
        free(s->routes[i].method);
        free(s->routes[i].path);
    }
    destroy_locks(s);
    serve_tls_creds_free(s->tls);
    free(s->workers);
    free(s->bind_text);
    free(s);
}

/* ---- Handlers ---------------------------------------------------------- */

static void answer(struct serve_response *resp, int status, const char *text)
{
    buf_reset(&resp->body);
    resp->status = status;
    if (buf_puts(&resp->body, text) != ZL_OK)
        resp->status = 500;
}

void serve_handle_health(void *ctx, const struct serve_request *req,
                         struct serve_response *resp)
{
    (void)ctx;
    (void)req;
    answer(resp, 200, "ok");
}

void serve_readiness_init(struct serve_readiness *r, const char *reason)
{
    atomic_init(&r->reason, reason);
}

void serve_readiness_set(struct serve_readiness *r, const char *reason)
{
    atomic_store(&r->reason, reason);
}

void serve_handle_readiness(void *ctx, const struct serve_request *req,
                            struct serve_response *resp)
{
    (void)req;
    struct serve_readiness *r = ctx;
    const char *reason = atomic_load(&r->reason);
    if (reason == NULL)
        answer(resp, 200, "ok");
    else
        answer(resp, 503, reason);
}

void serve_handle_check(void *ctx, const struct serve_request *req,
                        struct serve_response *resp)
{
    (void)req;
    const struct serve_check *check = ctx;
    struct buf reason;
    buf_init(&reason, SERVE_MAX_REASON);
    if (check->fn(check->ctx, &reason))
        answer(resp, 200, "ok");
    else
        answer(resp, 503, reason.len > 0 ? reason.data : "not ready");
    buf_cleanup(&reason);
}

void serve_handle_metrics(void *ctx, const struct serve_request *req,
                          struct serve_response *resp)
{
    (void)req;
    enum zl_err err = metrics_render(ctx, &resp->body);
    if (err != ZL_OK) {
        log_error("serve: /metrics: rendering failed: %s", zl_err_str(err));
        answer(resp, 500, "metrics rendering failed\n");
        return;
    }
    resp->content_type = METRICS_CONTENT_TYPE;
}

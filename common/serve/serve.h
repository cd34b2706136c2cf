/* SPDX-License-Identifier: Apache-2.0 */
/* A small HTTP/1.1 server on libmicrohttpd for /healthz, /readyz, /metrics
 * and the webhook: exact-path routes, a body limit, idle timeouts, handlers
 * on a thread pool, and a graceful stop. Plain HTTP, or HTTPS (TLS 1.2/1.3
 * on GnuTLS) with a certificate re-read from its files when they change.
 * libmicrohttpd's and GnuTLS's types never leave common/serve. */
#ifndef ZL_SERVE_SERVE_H
#define ZL_SERVE_SERVE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"

#define SERVE_DEFAULT_THREADS 2u
#define SERVE_DEFAULT_TIMEOUT_S 10u
#define SERVE_DEFAULT_MAX_BODY ((size_t)1 << 20) /* 1 MiB */
#define SERVE_DEFAULT_MAX_CONNECTIONS 256u
#define SERVE_MAX_RESPONSE_BODY ((size_t)64 << 20) /* resp->body.max */
#define SERVE_MAX_THREADS 256u
#define SERVE_MAX_TIMEOUT_S 86400u
#define SERVE_MAX_ROUTES 64
#define SERVE_MAX_METHOD 16 /* longest method name, bytes */
#define SERVE_MAX_PATH 256  /* longest route path, bytes */
#define SERVE_HOST_MAX 46   /* INET6_ADDRSTRLEN */
#define SERVE_DEFAULT_CONTENT_TYPE "text/plain; charset=utf-8"

/* One request, borrowed for the duration of the handler call. */
struct serve_request {
    const char *method;       /* "GET", "POST" (HEAD arrives as "HEAD") */
    const char *path;         /* "/metrics", without the query */
    const char *body;         /* NUL-terminated, "" when none */
    size_t body_len;          /* at most serve_options.max_body */
    const char *content_type; /* NULL when absent */
    /* True when the handler runs on the socket I/O thread (a route of
     * serve_route_inline, with no other request in flight): it must not
     * block, and may set resp->defer to be called again on a pool thread,
     * where inline_run is false. */
    bool inline_run;
};

/* What the handler answers. serve initialises it (status 200, the default
 * content type, an empty body of at most SERVE_MAX_RESPONSE_BODY bytes),
 * sends it after the handler returns and frees the body. A status outside
 * 100..599 is sent as 500. */
struct serve_response {
    int status;
    const char *content_type; /* must outlive the request: a static string */
    struct buf body;
    /* An inline handler (req->inline_run) that cannot answer without
     * blocking sets it and returns having done nothing else: serve drops
     * status, content type and body and queues the request for a pool
     * thread. Ignored on a pool thread. */
    bool defer;
};

/* A route's handler. Handlers run on the server's pool threads, up to
 * serve_options.threads at once (those of serve_route_inline also on the
 * I/O thread, see there), so they and their ctx must be thread safe.
 * A handler may block (an API lookup): socket I/O runs on another thread, so
 * other connections go on; the idle timeout does not run meanwhile. They
 * must not call serve_stop or serve_free on their own server. For a HEAD
 * request to a GET route the handler runs as for GET; no body is sent. */
typedef void (*serve_handler_fn)(void *ctx, const struct serve_request *req,
                                 struct serve_response *resp);

#define SERVE_TLS_DEFAULT_RELOAD_MS 1000u
#define SERVE_TLS_MAX_RELOAD_MS 3600000u
#define SERVE_TLS_MAX_FILE ((size_t)1 << 20) /* per PEM file */
#define SERVE_TLS_ERROR_MAX 512

/* The transport when it is HTTPS (serve_options.tls; NULL = plain HTTP).
 * Strings are copied by serve_new.
 *
 * The pair is read by serve_new (an error there when it cannot be had) and
 * then checked every reload_interval_ms by a thread of the server: when the
 * identity of either file changes (the path resolved through its symlinks,
 * device, inode, size, mtime; so both a rewrite in place and a kubelet
 * secret volume's "..data" symlink swap are seen), the pair is read again.
 * A pair whose bytes differ from the one in service replaces it for the
 * following handshakes; connections open go on with the one they had. A
 * pair that cannot be used (a file missing or unreadable, not PEM, the key
 * not matching the certificate) leaves the previous one in service, counts
 * a failed reload and is logged once: it is tried again when a file
 * changes again. Files written one after the other (certificate, then key)
 * may thus log one mismatch before the second write completes the pair.
 * Polling, not inotify: it needs no watch to be re-armed after a symlink
 * swap, costs a few stat calls per interval, and keeps the reading and
 * parsing off the socket I/O thread. */
struct serve_tls {
    /* PEM certificate chain, the serving certificate first (cert-manager's
     * and kubelet's tls.crt). At most SERVE_TLS_MAX_FILE bytes. */
    const char *cert_file;
    /* PEM private key, unencrypted (PKCS#8, PKCS#1 or SEC1: tls.key),
     * matching the first certificate. */
    const char *key_file;
    /* Lowest TLS version accepted: 12 (TLS 1.2, also when 0) or 13. TLS 1.3
     * is always allowed, nothing below 1.2 ever is. */
    int min_version;
    /* How often the files are checked; 0: SERVE_TLS_DEFAULT_RELOAD_MS, at
     * most SERVE_TLS_MAX_RELOAD_MS. */
    unsigned reload_interval_ms;
};

/* The certificate state, for readiness and metrics (serve_tls_state). */
struct serve_tls_status {
    bool loaded;              /* a pair is in service */
    int64_t not_after;        /* its serving certificate's, Unix seconds */
    uint64_t reloads;         /* new pairs put in service after the first */
    uint64_t reload_failures; /* changed files whose pair was refused */
    /* Why the last reload was refused; "" when the last one read
     * succeeded (or none was refused yet). */
    char last_error[SERVE_TLS_ERROR_MAX];
};

struct serve_options {
    /* ":8080" (every interface, IPv6 and IPv4), "127.0.0.1:8080",
     * "[::1]:0" (port 0: any free port, see serve_port), or "0": disabled
     * (the controller-runtime convention): serve_start then does nothing. */
    const char *bind_address;
    unsigned threads; /* handler threads, 0: SERVE_DEFAULT_THREADS */
    /* 0: SERVE_DEFAULT_TIMEOUT_S. A connection idle that long is closed, and
     * so is one whose request (headers and body; the first one after the
     * TLS handshake) has not arrived whole within timeout_s of the
     * connection's start or of the previous request's end, checked every
     * 250 ms (a client dribbling bytes). Not while a request is answered.
     * Also the grace of serve_stop. */
    unsigned timeout_s;
    /* Request body limit; 0: SERVE_DEFAULT_MAX_BODY. A Content-Length over
     * it is answered 413 before the body is read. A chunked body over it is
     * read to its end without being kept and answered 413, unless it goes
     * on past another max_body bytes: then the connection is closed. The
     * handler is not called either way. */
    size_t max_body;
    unsigned max_connections;    /* 0: SERVE_DEFAULT_MAX_CONNECTIONS */
    const struct serve_tls *tls; /* NULL: plain HTTP; else HTTPS */
};

/* A parsed bind address. */
struct serve_address {
    bool disabled; /* "0" */
    int family;    /* <sys/socket.h> AF_UNSPEC (every interface), AF_INET(6) */
    char host[SERVE_HOST_MAX]; /* numeric, no brackets; "" for every one */
    uint16_t port;             /* 0: any free port */
};

struct serve;

/* Parses a bind address: "0", ":PORT", "IPV4:PORT" or "[IPV6]:PORT", with
 * numeric hosts only (no names, no zone ids) and PORT 0..65535 in decimal.
 * Pure. ZL_ERR_PARSE for anything else (out is then zeroed). */
enum zl_err serve_parse_address(const char *text, struct serve_address *out);

/* True when serve_parse_address accepts text (a flags_address_fn, for the
 * daemons' bind-address flags). */
bool serve_address_ok(const char *text);

/* Makes a server from opt (copied; bind_address required). No socket is
 * opened until serve_start; with tls the pair is read here. ZL_ERR_PARSE
 * for a bad address or a certificate or key that cannot be used (not PEM,
 * not matching), ZL_ERR_IO for a certificate or key file that cannot be
 * read (the log says which and why), ZL_ERR_INVALID for a limit or TLS
 * option out of range (or TLS without certificate callbacks in this
 * libmicrohttpd), ZL_ERR_NOMEM. Free with serve_free. */
enum zl_err serve_new(const struct serve_options *opt, struct serve **out);

/* Adds a route for an exact method and path (strings copied), before
 * serve_start. ZL_ERR_INVALID when started, for a path not starting with
 * '/', a method that is not an upper-case token or "HEAD" (HEAD follows
 * GET), or names longer than SERVE_MAX_METHOD/SERVE_MAX_PATH;
 * ZL_ERR_EXISTS for a method and path taken; ZL_ERR_LIMIT past
 * SERVE_MAX_ROUTES; ZL_ERR_NOMEM. An unknown path is answered 404, a known
 * path with another method 405 with an Allow header. */
enum zl_err serve_route(struct serve *s, const char *method, const char *path,
                        serve_handler_fn fn, void *ctx);

/* As serve_route, for a handler that answers most requests without
 * blocking: when a request to it is complete and no other request is in
 * flight on the server (none being read, queued, handled or sent), fn is
 * called on the socket I/O thread itself, with req->inline_run set, and
 * its answer sent from there. That saves the hand-off to a pool thread and
 * back, two thread wake-ups a request, which is most of the latency of a
 * quick handler on one keep-alive connection. Under concurrent requests
 * fn runs on the pool as for serve_route, so a busy server still uses
 * every pool thread. fn must then be safe to call from both. */
enum zl_err serve_route_inline(struct serve *s, const char *method,
                               const char *path, serve_handler_fn fn,
                               void *ctx);

/* Binds, listens and starts the pool. ZL_OK without doing anything when
 * the address is "0". ZL_ERR_IO when the socket cannot be had (address in
 * use, address not available, permission: the log says which),
 * ZL_ERR_INVALID when started before (a stopped server does not restart). */
enum zl_err serve_start(struct serve *s);

/* The bound port (useful with port 0); -1 when disabled, not started or
 * stopped. */
int serve_port(const struct serve *s);

/* The TLS certificate state (any thread). ZL_ERR_INVALID for a plain HTTP
 * server (out is then zeroed). */
enum zl_err serve_tls_state(struct serve *s, struct serve_tls_status *out);

/* Stops accepting at once, lets requests in flight finish and be sent,
 * including those that arrive on connections already open, until none has
 * begun for 100 ms (waiting at most timeout_s; requests still queued then
 * are answered 503;
 * a handler already running is always waited for; then at most 1 s more
 * for the last answers to go out), then closes every connection and joins
 * the threads. Idempotent; does nothing for a server never started. */
void serve_stop(struct serve *s);

/* Stops the server, then frees it. NULL is a no-op. */
void serve_free(struct serve *s);

/* Reusable handlers. */

/* Liveness: always 200 "ok". ctx unused. */
void serve_handle_health(void *ctx, const struct serve_request *req,
                         struct serve_response *resp);

/* Readiness driven by a flag: ready answers 200 "ok", not ready 503 with
 * the reason. Lock free; set from any thread. */
struct serve_readiness {
    _Atomic(const char *) reason; /* NULL when ready */
};

/* Starts not ready with the given reason (a string that outlives the
 * readiness, typically a literal; NULL = ready). */
void serve_readiness_init(struct serve_readiness *r, const char *reason);
/* NULL marks ready; otherwise not ready for that (static) reason. */
void serve_readiness_set(struct serve_readiness *r, const char *reason);
/* ctx is a struct serve_readiness. */
void serve_handle_readiness(void *ctx, const struct serve_request *req,
                            struct serve_response *resp);

/* Readiness driven by a callback: fn returns true when ready; when not it
 * may append a reason to reason (a buffer of at most 1 KiB). fn runs on the
 * pool threads: it must be thread safe. */
typedef bool (*serve_check_fn)(void *ctx, struct buf *reason);
struct serve_check {
    serve_check_fn fn;
    void *ctx;
};
/* ctx is a struct serve_check: 200 "ok" or 503 with the reason ("not
 * ready" when fn gave none). */
void serve_handle_check(void *ctx, const struct serve_request *req,
                        struct serve_response *resp);

/* ctx is a struct metrics_registry: its Prometheus text exposition with
 * METRICS_CONTENT_TYPE; 500 when rendering fails. */
void serve_handle_metrics(void *ctx, const struct serve_request *req,
                          struct serve_response *resp);

#endif

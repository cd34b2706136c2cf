/* SPDX-License-Identifier: Apache-2.0 */
/* REST client for the Kubernetes API over HTTP/1.1 and HTTP/2 with TLS:
 * connection reuse, timeouts, a client-side QPS/burst limiter, retries with
 * exponential backoff and jitter on 429, 5xx and connection errors
 * (honouring Retry-After), and Status errors decoded. Thread safe: many
 * threads may call it at once. It knows nothing of zen-lead and keeps no
 * cache. Watches do not go through client_request: they are streams on an
 * event loop's client_multi. The HTTP library stays behind this header. */
#ifndef ZL_KUBE_CLIENT_H
#define ZL_KUBE_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "kube/kubeconfig.h"

#define CLIENT_MAX_BODY (64u << 20) /* largest response body accepted */
#define CLIENT_MAX_PATH 2048
/* The longest wait before retrying an attempt that reached no server
 * (refused, reset, no answer at all): an API server that restarts answers
 * a pending request within this of listening again, and a connection it
 * refuses costs it nothing. Answers (429, 5xx) keep the full backoff. */
#define CLIENT_RECONNECT_MAX_MS 250

/* A resource kind's URL pieces. */
struct client_resource {
    const char *prefix;      /* "/api/v1" or "/apis/discovery.k8s.io/v1" */
    const char *plural;      /* "pods" */
    const char *kind;        /* "Pod" */
    const char *api_version; /* "v1", "discovery.k8s.io/v1" */
    bool namespaced;
};

extern const struct client_resource CLIENT_PODS;
extern const struct client_resource CLIENT_SERVICES;
extern const struct client_resource CLIENT_ENDPOINTSLICES;
extern const struct client_resource CLIENT_EVENTS;
extern const struct client_resource CLIENT_LEASES;
extern const struct client_resource CLIENT_NAMESPACES;
extern const struct client_resource CLIENT_NODES;
extern const struct client_resource CLIENT_CONFIGMAPS;

struct client_options {
    double qps; /* <= 0: no client-side limit */
    int burst;
    long timeout_ms;         /* per attempt; default 30000 */
    long connect_timeout_ms; /* default 5000 */
    int max_retries;         /* attempts after the first; default 5 (0);
                                < 0: no retries */
    long backoff_base_ms;    /* first retry delay; default 200 */
    long backoff_max_ms;     /* cap; default 10000 */
    const char *user_agent;  /* default "zen-lead" */
    /* Called after every attempt (for metrics): verb ("GET", "LIST",
     * "WATCH", "APPLY", ...), resource plural ("" when unknown), HTTP code
     * (0 for a connection error) and seconds taken. May be NULL. */
    void (*observe)(void *ctx, const char *verb, const char *resource,
                    long http_code, double seconds);
    void *observe_ctx;
    /* Largest response body accepted (ZL_ERR_LIMIT beyond); 0 or more
     * than CLIENT_MAX_BODY means CLIENT_MAX_BODY. */
    size_t max_body;
    /* Called after every completed attempt with the HTTP version used:
     * 10, 11, 20 or 30 (0 when unknown); for tests and diagnostics. Gets
     * observe_ctx. May be NULL. */
    void (*on_http_version)(void *ctx, long http_version);
};

/* A decoded metav1.Status (or the HTTP status when the body is not one). */
struct client_status {
    long code;       /* HTTP code */
    char reason[64]; /* "NotFound", "AlreadyExists", "Conflict", ... */
    char message[512];
};

struct client_response {
    long http_code;              /* 0 when no HTTP answer was received */
    struct buf body;             /* the response body, NUL-terminated */
    struct client_status status; /* filled for non-2xx answers */
    int attempts;                /* how many requests were sent */
    long retry_after_s;          /* from the last answer, -1 when absent */
};

void client_response_init(struct client_response *resp);
void client_response_cleanup(struct client_response *resp);

struct client;

/* Makes a client; cfg is borrowed and must outlive the client. */
enum zl_err client_new(struct kube_config *cfg,
                       const struct client_options *opt, struct client **out);
/* Frees the client. Requests still running in other threads must have
 * ended. NULL is a no-op. */
void client_free(struct client *c);

/* Aborts waits (limiter, backoff) of requests in flight and makes new ones
 * fail with ZL_ERR_CANCELLED; for shutdown. A transfer in progress is
 * aborted at its next progress check (within about a second). Streams are
 * not aborted; new ones fail. */
void client_cancel(struct client *c);

/* Whether the latest attempt of any request on c ended with a connection
 * error (no HTTP answer; not a timeout): the API server is not there, as
 * far as c last saw. Callers that pace their own retries (a workqueue) use
 * it to retry soon rather than back off, so that work pending while the
 * API server restarts goes out once it answers. Any thread. */
bool client_unreachable(const struct client *c);

/* One request. path includes the query ("/api/v1/pods?limit=500"). body
 * may be NULL. Retries as described above, except for non-idempotent
 * requests (POST) after a connection error that may have reached the
 * server. Returns ZL_OK for a 2xx answer, else: ZL_ERR_NOTFOUND 404,
 * ZL_ERR_EXISTS 409 AlreadyExists, ZL_ERR_CONFLICT 409 Conflict and 412,
 * ZL_ERR_GONE 410, ZL_ERR_INVALID 400/422, ZL_ERR_FORBIDDEN 401/403,
 * ZL_ERR_LIMIT 413 or a body over CLIENT_MAX_BODY, ZL_ERR_TRANSIENT 429,
 * 5xx and connection errors once retries are used up, ZL_ERR_TIMEOUT,
 * ZL_ERR_CANCELLED. resp (initialised by the caller) always says what
 * happened; the caller cleans it up. */
enum zl_err client_request(struct client *c, const char *method,
                           const char *path, const char *content_type,
                           const char *body, size_t body_len,
                           struct client_response *resp);

/* Builds "<prefix>[/namespaces/<ns>]/<plural>[/<name>][/<sub>]" into out
 * (reset first). ns NULL or "" for cluster-wide lists. Names are escaped. */
enum zl_err client_path(const struct client_resource *r, const char *ns,
                        const char *name, const char *subresource,
                        struct buf *out);

struct client_list_options {
    const char *label_selector;
    const char *field_selector;
    long limit; /* 0: no paging */
    const char *continue_token;
    const char *resource_version;
    const char *resource_version_match; /* "NotOlderThan" / "Exact" */
};

enum zl_err client_get(struct client *c, const struct client_resource *r,
                       const char *ns, const char *name,
                       struct client_response *resp);
/* One page; follow metadata.continue for the next. */
enum zl_err client_list(struct client *c, const struct client_resource *r,
                        const char *ns, const struct client_list_options *opt,
                        struct client_response *resp);
enum zl_err client_create(struct client *c, const struct client_resource *r,
                          const char *ns, const char *json,
                          struct client_response *resp);
/* PUT of a whole object (carries its resourceVersion: compare-and-swap).
 * subresource NULL or "status". */
enum zl_err client_update(struct client *c, const struct client_resource *r,
                          const char *ns, const char *name,
                          const char *subresource, const char *json,
                          struct client_response *resp);

struct client_delete_options {
    const char *uid;              /* precondition, or NULL */
    const char *resource_version; /* precondition, or NULL */
    long grace_period_seconds;    /* < 0: server default */
    const char *propagation;      /* "Background", "Foreground", NULL */
};

enum zl_err client_delete(struct client *c, const struct client_resource *r,
                          const char *ns, const char *name,
                          const struct client_delete_options *opt,
                          struct client_response *resp);

/* PATCH with patch_type "application/merge-patch+json",
 * "application/strategic-merge-patch+json" or "application/json-patch+json".
 * subresource NULL or "status". */
enum zl_err client_patch(struct client *c, const struct client_resource *r,
                         const char *ns, const char *name,
                         const char *subresource, const char *patch_type,
                         const char *body, struct client_response *resp);

/* Server-side apply: PATCH application/apply-patch+yaml with fieldManager
 * (and force=true when force). json is the full desired object. */
enum zl_err client_apply(struct client *c, const struct client_resource *r,
                         const char *ns, const char *name,
                         const char *subresource, const char *json,
                         const char *field_manager, bool force,
                         struct client_response *resp);

/* ---- streams --------------------------------------------------------------
 * Long-lived GETs (lists read as they arrive, watches) run on an event
 * loop's client_multi: one thread drives many streams without blocking,
 * and their data and end arrive through callbacks on that thread. */

/* The streams of one event loop, and what it waits on. */
struct client_multi;

/* One streaming GET, on one client_multi. */
struct client_stream;

/* A piece of the answer's body as it arrives, with the answer's HTTP code.
 * Returns false to stop the transfer (its result is then
 * ZL_ERR_CANCELLED). Runs on the thread of client_multi_perform. */
typedef bool (*client_stream_data_fn)(void *ctx, const char *data, size_t len,
                                      long http_code);

/* How a stream ended. */
struct client_stream_result {
    /* ZL_OK: the server ended the answer (whatever its HTTP code);
     * ZL_ERR_CANCELLED: the data callback stopped it; ZL_ERR_TIMEOUT: the
     * low-speed limit; ZL_ERR_TRANSIENT: the connection failed or broke;
     * ZL_ERR_IO: any other transfer error. */
    enum zl_err err;
    long http_code;      /* 0 when no answer came */
    const char *message; /* static text saying why; "No error" for ZL_OK */
};

/* The end of a stream. The stream is finished but still the caller's:
 * close it (here or later) with client_stream_close. Runs on the thread of
 * client_multi_perform. */
typedef void (*client_stream_done_fn)(void *ctx,
                                      const struct client_stream_result *r);

struct client_stream_options {
    const char *path;      /* with the query, escaped (client_put_query) */
    long low_speed_time_s; /* below 1 byte/s this long: ZL_ERR_TIMEOUT;
                              <= 0: 60 s */
    client_stream_data_fn on_data; /* required */
    client_stream_done_fn on_done; /* required */
    void *ctx;
};

/* Makes an empty multi. ZL_ERR_NOMEM. */
enum zl_err client_multi_new(struct client_multi **out);

/* Frees the multi; its streams must be closed before. NULL is a no-op. */
void client_multi_free(struct client_multi *m);

/* Moves every stream on as far as it can go without waiting, calling the
 * data and done callbacks; returns how many streams ended. Thread of the
 * loop only. */
int client_multi_perform(struct client_multi *m);

/* Waits until a stream has something to do, client_multi_wakeup is
 * called, or timeout_ms passed. Thread of the loop only. */
void client_multi_wait(struct client_multi *m, long timeout_ms);

/* Ends a client_multi_wait early; from any thread. */
void client_multi_wakeup(struct client_multi *m);

/* From now on c's requests (client_request and all that builds on it) are
 * handed to the loop of m and sent there as HTTP/2 streams beside its
 * watches, on the connection those keep busy; the calling thread waits for
 * the answer as before. Without this each request thread keeps a connection
 * of its own, which the API server closes after 90 s without a request, so
 * the first write after a quiet spell (a failover, typically) pays a new
 * TCP and TLS handshake; client-go shares one connection the same way. The
 * thread of client_multi_perform must be running. A request from that
 * thread itself, outside curl's callbacks, rides the same connection and
 * that thread drives it: the streams' data and ends that arrive meanwhile
 * are held back and given to their callbacks by the next
 * client_multi_perform (from a callback, where curl forbids that, it runs
 * on a connection of its own). m == NULL: back to own connections;
 * requests already handed over still finish. From any thread. */
void client_use_multi(struct client *c, struct client_multi *m);

/* Takes no more requests on m: those not yet started run on their own
 * connection instead, those in flight end cancelled; returns once no
 * thread waits on m. Call it on the loop thread when the loop ends (it
 * stops calling client_multi_perform); client_multi_free calls it too. */
void client_multi_close(struct client_multi *m);

/* Takes a token of the client's rate limiter for a stream without waiting
 * for it: *delay_ns says how long from now the stream may start (0: at
 * once). The token is the caller's from then on. ZL_ERR_CANCELLED after
 * client_cancel. For event loops, which must never sleep. */
enum zl_err client_stream_reserve(struct client *c, int64_t *delay_ns);

/* Starts a streaming GET of opt->path on m with the client's server, TLS,
 * credentials, HTTP/2 and keepalive, no total timeout but the low-speed
 * limit, so a silently dead connection is noticed. It does not take a
 * limiter token (see client_stream_reserve). The transfer moves on in
 * client_multi_perform. ZL_ERR_INVALID (path not absolute or over
 * CLIENT_MAX_PATH), ZL_ERR_CANCELLED, ZL_ERR_NOMEM. */
enum zl_err client_stream_open(struct client *c, struct client_multi *m,
                               const struct client_stream_options *opt,
                               struct client_stream **out);

/* Stops the transfer if it still runs (no callback is called any more) and
 * frees the stream; the bearer token is wiped. NULL is a no-op. Thread of
 * the loop only. */
void client_stream_close(struct client_stream *s);

/* Appends "?key=value" (or "&key=value" when b already has a query) with
 * value percent-escaped; nothing when value is NULL or "". Errors as
 * buf_append. */
enum zl_err client_put_query(struct buf *b, const char *key, const char *value);

/* Decodes a metav1.Status JSON body into st; false when it is not one. */
bool client_decode_status(const char *json, size_t len,
                          struct client_status *st);

/* Maps an HTTP code (and Status reason) to the error codes above. */
enum zl_err client_error_for(long http_code, const char *reason);

#endif

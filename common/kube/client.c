/* SPDX-License-Identifier: Apache-2.0 */
/* The REST client over libcurl. Easy handles come from a small pool so each
 * keeps its connection (and HTTP/2 session) alive between requests; DNS and
 * TLS sessions are shared between all handles through one CURLSH. The
 * connection cache itself is not shared: libcurl 7.88 documents that as
 * unsafe across threads. Streams are easy handles of their own on an event
 * loop's multi handle; a client can also hand its requests to such a loop
 * (client_use_multi), so they ride the HTTP/2 connection its watches keep
 * busy. This is the only file of the tree that uses curl. */
#include "kube/client.h"

#include <curl/curl.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/clock.h"
#include "base/json.h"
#include "base/log.h"
#include "base/ratelimit.h"

#define CLIENT_POOL_MAX 8
#define CLIENT_MAX_RETRY_AFTER_S 60
#define CLIENT_MAX_HEADER 256

const struct client_resource CLIENT_PODS = {"/api/v1", "pods", "Pod", "v1",
                                            true};
const struct client_resource CLIENT_SERVICES = {"/api/v1", "services",
                                                "Service", "v1", true};
const struct client_resource CLIENT_ENDPOINTSLICES = {
    "/apis/discovery.k8s.io/v1", "endpointslices", "EndpointSlice",
    "discovery.k8s.io/v1", true};
const struct client_resource CLIENT_EVENTS = {"/api/v1", "events", "Event",
                                              "v1", true};
const struct client_resource CLIENT_LEASES = {"/apis/coordination.k8s.io/v1",
                                              "leases", "Lease",
                                              "coordination.k8s.io/v1", true};
const struct client_resource CLIENT_NAMESPACES = {"/api/v1", "namespaces",
                                                  "Namespace", "v1", false};
const struct client_resource CLIENT_NODES = {"/api/v1", "nodes", "Node", "v1",
                                             false};
const struct client_resource CLIENT_CONFIGMAPS = {"/api/v1", "configmaps",
                                                  "ConfigMap", "v1", true};

struct client {
    struct kube_config *cfg; /* borrowed */
    struct client_options opt;
    char *user_agent;
    CURLSH *share;
    pthread_mutex_t share_mu[CURL_LOCK_DATA_LAST];
    pthread_mutex_t pool_mu;
    CURL *pool[CLIENT_POOL_MAX];
    int pool_count;
    struct ratelimit limiter; /* also carries cancel for backoff sleeps */
    bool limiter_ok;          /* limiter initialised */
    atomic_bool cancelled;
    atomic_bool unreachable; /* the latest attempt made no connection */
    pthread_mutex_t rand_mu;
    uint64_t rand_state;
    pthread_mutex_t multi_mu;   /* guards multi */
    struct client_multi *multi; /* client_use_multi; NULL: own connections */
};

/* One attempt's transfer state, seen by the curl callbacks. */
struct transfer {
    struct client *c;
    struct buf *body;
    long retry_after_s;
    bool over_limit;
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_OK;

static void global_init(void)
{
    global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

void client_response_init(struct client_response *resp)
{
    memset(resp, 0, sizeof(*resp));
    buf_init(&resp->body, CLIENT_MAX_BODY);
    resp->retry_after_s = -1;
}

void client_response_cleanup(struct client_response *resp)
{
    if (resp == NULL)
        return;
    buf_cleanup(&resp->body);
}

/* ---- shared handle locking ---------------------------------------------- */

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access access,
                       void *ctx)
{
    struct client *c = ctx;
    (void)h;
    (void)access;
    if (data >= 0 && data < CURL_LOCK_DATA_LAST)
        pthread_mutex_lock(&c->share_mu[data]);
}

static void share_unlock(CURL *h, curl_lock_data data, void *ctx)
{
    struct client *c = ctx;
    (void)h;
    if (data >= 0 && data < CURL_LOCK_DATA_LAST)
        pthread_mutex_unlock(&c->share_mu[data]);
}

/* ---- life cycle -----------------------------------------------------------
 */

static void apply_defaults(struct client_options *o)
{
    if (o->timeout_ms <= 0)
        o->timeout_ms = 30000;
    if (o->connect_timeout_ms <= 0)
        o->connect_timeout_ms = 5000;
    if (o->max_retries == 0)
        o->max_retries = 5;
    else if (o->max_retries < 0)
        o->max_retries = 0;
    if (o->backoff_base_ms <= 0)
        o->backoff_base_ms = 200;
    if (o->backoff_max_ms <= 0)
        o->backoff_max_ms = 10000;
    if (o->backoff_max_ms < o->backoff_base_ms)
        o->backoff_max_ms = o->backoff_base_ms;
    if (o->max_body == 0 || o->max_body > CLIENT_MAX_BODY)
        o->max_body = CLIENT_MAX_BODY;
}

static enum zl_err make_share(struct client *c)
{
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_init(&c->share_mu[i], NULL);
    c->share = curl_share_init();
    if (c->share == NULL)
        return ZL_ERR_NOMEM;
    if (curl_share_setopt(c->share, CURLSHOPT_LOCKFUNC, share_lock) ||
        curl_share_setopt(c->share, CURLSHOPT_UNLOCKFUNC, share_unlock) ||
        curl_share_setopt(c->share, CURLSHOPT_USERDATA, c) ||
        curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) ||
        curl_share_setopt(c->share, CURLSHOPT_SHARE,
                          CURL_LOCK_DATA_SSL_SESSION))
        return ZL_ERR_NOMEM;
    return ZL_OK;
}

enum zl_err client_new(struct kube_config *cfg,
                       const struct client_options *opt, struct client **out)
{
    *out = NULL;
    pthread_once(&global_once, global_init);
    if (global_rc != CURLE_OK)
        return ZL_ERR_NOMEM;
    if (cfg == NULL || cfg->server == NULL)
        return ZL_ERR_INVALID;
    struct client *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return ZL_ERR_NOMEM;
    enum zl_err rc = ZL_ERR_NOMEM;
    c->cfg = cfg;
    if (opt != NULL)
        c->opt = *opt;
    apply_defaults(&c->opt);
    c->user_agent =
        strdup(c->opt.user_agent != NULL ? c->opt.user_agent : "zen-lead");
    c->opt.user_agent = NULL;
    pthread_mutex_init(&c->pool_mu, NULL);
    pthread_mutex_init(&c->rand_mu, NULL);
    pthread_mutex_init(&c->multi_mu, NULL);
    c->rand_state = (uint64_t)clock_mono_ns() ^ (uint64_t)(uintptr_t)c;
    atomic_init(&c->cancelled, false);
    atomic_init(&c->unreachable, false);
    if (ratelimit_init(&c->limiter, c->opt.qps, c->opt.burst,
                       clock_mono_ns()) != ZL_OK)
        goto fail;
    c->limiter_ok = true;
    if (c->user_agent == NULL)
        goto fail;
    rc = make_share(c);
    if (rc != ZL_OK)
        goto fail;
    *out = c;
    return ZL_OK;
fail:
    client_free(c);
    return rc;
}

void client_free(struct client *c)
{
    if (c == NULL)
        return;
    for (int i = 0; i < c->pool_count; i++)
        curl_easy_cleanup(c->pool[i]);
    if (c->share != NULL)
        curl_share_cleanup(c->share);
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_destroy(&c->share_mu[i]);
    if (c->limiter_ok)
        ratelimit_cleanup(&c->limiter);
    pthread_mutex_destroy(&c->pool_mu);
    pthread_mutex_destroy(&c->rand_mu);
    pthread_mutex_destroy(&c->multi_mu);
    free(c->user_agent);
    free(c);
}

void client_cancel(struct client *c)
{
    atomic_store(&c->cancelled, true);
    ratelimit_cancel(&c->limiter);
}

bool client_unreachable(const struct client *c)
{
    return atomic_load(&c->unreachable);
}

/* ---- pool ------------------------------------------------------------------
 */

static CURL *pool_get(struct client *c)
{
    CURL *h = NULL;
    pthread_mutex_lock(&c->pool_mu);
    if (c->pool_count > 0)
        h = c->pool[--c->pool_count];
    pthread_mutex_unlock(&c->pool_mu);
    if (h != NULL) {
        curl_easy_reset(h); /* keeps the live connection and caches */
        return h;
    }
    return curl_easy_init();
}

static void pool_put(struct client *c, CURL *h)
{
    if (h == NULL)
        return;
    pthread_mutex_lock(&c->pool_mu);
    if (c->pool_count < CLIENT_POOL_MAX) {
        c->pool[c->pool_count++] = h;
        h = NULL;
    }
    pthread_mutex_unlock(&c->pool_mu);
    if (h != NULL)
        curl_easy_cleanup(h);
}

/* ---- helpers ---------------------------------------------------------------
 */

static double now_s(void)
{
    return (double)clock_mono_ns() / (double)CLOCK_NS_PER_S;
}

static uint64_t next_rand(struct client *c)
{
    pthread_mutex_lock(&c->rand_mu);
    uint64_t x = c->rand_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c->rand_state = x;
    pthread_mutex_unlock(&c->rand_mu);
    return x;
}

/* Full jitter: uniform in [0, min(max, base * 2^retry)] milliseconds. */
static long backoff_ms(struct client *c, int retry)
{
    long cap = c->opt.backoff_base_ms;
    for (int i = 0; i < retry && cap < c->opt.backoff_max_ms; i++)
        cap *= 2;
    if (cap > c->opt.backoff_max_ms)
        cap = c->opt.backoff_max_ms;
    return (long)(next_rand(c) % (uint64_t)(cap + 1));
}

/* Secrets in a header list are wiped before the list is freed. */
static void free_headers(struct curl_slist *h)
{
    for (struct curl_slist *p = h; p != NULL; p = p->next)
        explicit_bzero(p->data, strlen(p->data));
    curl_slist_free_all(h);
}

static enum zl_err add_header(struct curl_slist **list, const char *line)
{
    struct curl_slist *n = curl_slist_append(*list, line);
    if (n == NULL)
        return ZL_ERR_NOMEM;
    *list = n;
    return ZL_OK;
}

/* Accept, User-Agent, Content-Type and the current bearer token. */
static enum zl_err build_headers(struct client *c, const char *content_type,
                                 struct curl_slist **out)
{
    char line[CLIENT_MAX_HEADER];
    char *token = NULL;
    struct curl_slist *h = NULL;
    enum zl_err rc = add_header(&h, "Accept: application/json");
    if (rc == ZL_OK) {
        snprintf(line, sizeof(line), "User-Agent: %s", c->user_agent);
        rc = add_header(&h, line);
    }
    if (rc == ZL_OK && content_type != NULL) {
        snprintf(line, sizeof(line), "Content-Type: %s", content_type);
        rc = add_header(&h, line);
    }
    if (rc == ZL_OK)
        rc = kubeconfig_current_token(c->cfg, &token);
    if (rc == ZL_OK && token != NULL) {
        struct buf b;
        buf_init(&b, KUBECONFIG_MAX_FILE);
        rc = buf_printf(&b, "Authorization: Bearer %s", token);
        if (rc == ZL_OK)
            rc = add_header(&h, b.data);
        if (b.data != NULL)
            explicit_bzero(b.data, b.len);
        buf_cleanup(&b);
    }
    if (token != NULL) {
        explicit_bzero(token, strlen(token));
        free(token);
    }
    if (rc != ZL_OK) {
        free_headers(h);
        return rc;
    }
    *out = h;
    return ZL_OK;
}

static bool setopt_failed(CURLcode r)
{
    return r != CURLE_OK;
}

/* TLS material, HTTP/2, keepalive and the shared caches: what both
 * requests and streams set. */
static enum zl_err set_common(struct client *c, CURL *h, const char *url,
                              struct curl_slist *headers)
{
    struct kube_config *cfg = c->cfg;
    bool bad = false;
    bad |= setopt_failed(curl_easy_setopt(h, CURLOPT_URL, url));
    bad |= setopt_failed(curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers));
    bad |= setopt_failed(curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L));
    bad |= setopt_failed(curl_easy_setopt(h, CURLOPT_SHARE, c->share));
    bad |= setopt_failed(curl_easy_setopt(h, CURLOPT_HTTP_VERSION,
                                          (long)CURL_HTTP_VERSION_2TLS));
    bad |= setopt_failed(curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L));
    bad |= setopt_failed(curl_easy_setopt(h, CURLOPT_TCP_KEEPIDLE, 30L));
    bad |= setopt_failed(curl_easy_setopt(h, CURLOPT_TCP_KEEPINTVL, 15L));
    bad |= setopt_failed(curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                                          c->opt.connect_timeout_ms));
    bad |=
        setopt_failed(curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https"));
    if (cfg->ca_pem != NULL) {
        struct curl_blob blob = {cfg->ca_pem, cfg->ca_pem_len, CURL_BLOB_COPY};
        bad |= setopt_failed(curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob));
    }
    if (cfg->client_cert_pem != NULL && cfg->client_key_pem != NULL) {
        struct curl_blob cert = {cfg->client_cert_pem, cfg->client_cert_pem_len,
                                 CURL_BLOB_COPY};
        struct curl_blob key = {cfg->client_key_pem, cfg->client_key_pem_len,
                                CURL_BLOB_COPY};
        bad |= setopt_failed(curl_easy_setopt(h, CURLOPT_SSLCERT_BLOB, &cert));
        bad |= setopt_failed(curl_easy_setopt(h, CURLOPT_SSLKEY_BLOB, &key));
    }
    if (cfg->insecure_skip_tls_verify) {
        bad |= setopt_failed(curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L));
        bad |= setopt_failed(curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L));
    }
    return bad ? ZL_ERR_NOMEM : ZL_OK;
}

/* Initialises url first, so the caller may clean it up whatever the
 * result. */
static enum zl_err make_url(struct client *c, const char *path, struct buf *url)
{
    buf_init(url, strlen(c->cfg->server) + CLIENT_MAX_PATH + 1);
    if (path == NULL || path[0] != '/' || strlen(path) > CLIENT_MAX_PATH)
        return ZL_ERR_INVALID;
    enum zl_err rc = buf_puts(url, c->cfg->server);
    if (rc == ZL_OK)
        rc = buf_puts(url, path);
    return rc;
}

/* ---- callbacks -------------------------------------------------------------
 */

static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
    struct transfer *t = ctx;
    size_t len = size * n;
    if (buf_append(t->body, data, len) != ZL_OK) {
        t->over_limit = t->body->len + len > t->body->max;
        return 0; /* CURLE_WRITE_ERROR */
    }
    return len;
}

static size_t on_header(char *data, size_t size, size_t n, void *ctx)
{
    struct transfer *t = ctx;
    size_t len = size * n;
    static const char name[] = "retry-after:";
    if (len > sizeof(name) && strncasecmp(data, name, sizeof(name) - 1) == 0) {
        char value[32];
        size_t vlen = len - (sizeof(name) - 1);
        if (vlen >= sizeof(value))
            vlen = sizeof(value) - 1;
        memcpy(value, data + sizeof(name) - 1, vlen);
        value[vlen] = '\0';
        char *end;
        long s = strtol(value, &end, 10);
        while (*end == ' ' || *end == '\r' || *end == '\n')
            end++;
        if (end != value && *end == '\0' && s >= 0)
            t->retry_after_s = s; /* an HTTP-date form is ignored */
    }
    return len;
}

static int on_progress(void *ctx, curl_off_t dlt, curl_off_t dln,
                       curl_off_t ult, curl_off_t uln)
{
    struct transfer *t = ctx;
    (void)dlt;
    (void)dln;
    (void)ult;
    (void)uln;
    return atomic_load(&t->c->cancelled) ? 1 : 0;
}

/* ---- classification --------------------------------------------------------
 */

static bool copy_field(struct json_object *o, const char *key, char *dst,
                       size_t dst_len)
{
    struct json_object *v;
    if (!json_object_object_get_ex(o, key, &v) ||
        !json_object_is_type(v, json_type_string))
        return false;
    snprintf(dst, dst_len, "%s", json_object_get_string(v));
    return true;
}

bool client_decode_status(const char *json, size_t len,
                          struct client_status *st)
{
    struct json_object *root = NULL, *v;
    bool ok = false;
    if (json == NULL || len == 0 ||
        json_parse_object(json, len, &root) != ZL_OK)
        return false;
    char kind[32] = "";
    if (!copy_field(root, "kind", kind, sizeof(kind)) ||
        strcmp(kind, "Status") != 0)
        goto out;
    st->reason[0] = '\0';
    st->message[0] = '\0';
    copy_field(root, "reason", st->reason, sizeof(st->reason));
    copy_field(root, "message", st->message, sizeof(st->message));
    if (json_object_object_get_ex(root, "code", &v) &&
        json_object_is_type(v, json_type_int))
        st->code = (long)json_object_get_int64(v);
    ok = true;
out:
    json_object_put(root);
    return ok;
}

enum zl_err client_error_for(long http_code, const char *reason)
{
    if (http_code >= 200 && http_code < 300)
        return ZL_OK;
    switch (http_code) {
    case 400:
    case 422:
        return ZL_ERR_INVALID;
    case 401:
    case 403:
        return ZL_ERR_FORBIDDEN;
    case 404:
        return ZL_ERR_NOTFOUND;
    case 409:
        return reason != NULL && strcmp(reason, "AlreadyExists") == 0
                   ? ZL_ERR_EXISTS
                   : ZL_ERR_CONFLICT;
    case 410:
        return ZL_ERR_GONE;
    case 412:
        return ZL_ERR_CONFLICT;
    case 413:
        return ZL_ERR_LIMIT;
    case 429:
        return ZL_ERR_TRANSIENT;
    default:
        break;
    }
    if (http_code >= 500 || http_code == 0)
        return ZL_ERR_TRANSIENT;
    return ZL_ERR_INVALID;
}

static void fill_status(struct client_response *resp)
{
    struct client_status *st = &resp->status;
    memset(st, 0, sizeof(*st));
    if (!client_decode_status(resp->body.data, resp->body.len, st)) {
        st->reason[0] = '\0';
        snprintf(st->message, sizeof(st->message), "HTTP %ld", resp->http_code);
    }
    st->code = resp->http_code;
}

static bool retryable_http(long code)
{
    return code == 429 || (code >= 500 && code != 501);
}

/* Errors where no byte of the request can have reached the server. */
static bool never_sent(CURLcode r)
{
    return r == CURLE_COULDNT_CONNECT || r == CURLE_COULDNT_RESOLVE_HOST ||
           r == CURLE_COULDNT_RESOLVE_PROXY;
}

static bool connection_error(CURLcode r)
{
    return never_sent(r) || r == CURLE_SEND_ERROR || r == CURLE_RECV_ERROR ||
           r == CURLE_GOT_NOTHING || r == CURLE_PARTIAL_FILE ||
           r == CURLE_HTTP2 || r == CURLE_HTTP2_STREAM ||
           r == CURLE_SSL_CONNECT_ERROR;
}

/* ---- verbs for observe ------------------------------------------------------
 */

/* Resource plural and whether the path names one object. */
static void parse_path(const char *path, char *plural, size_t plural_len,
                       bool *named)
{
    char segs[6][64];
    int n = 0;
    const char *p = path;
    size_t qlen = strcspn(path, "?");
    plural[0] = '\0';
    *named = false;
    while (p < path + qlen && n < 6) {
        while (*p == '/')
            p++;
        size_t l = strcspn(p, "/?");
        if (l == 0)
            break;
        snprintf(segs[n++], sizeof(segs[0]), "%.*s", (int)l, p);
        p += l;
    }
    int skip = n > 0 && strcmp(segs[0], "apis") == 0 ? 3 : 2;
    int rest = n - skip;
    if (rest <= 0)
        return;
    int res = skip;
    if (strcmp(segs[skip], "namespaces") == 0 && rest >= 3)
        res = skip + 2;
    snprintf(plural, plural_len, "%s", segs[res]);
    *named = n - res >= 2;
}

static const char *verb_for(const char *method, const char *path,
                            const char *content_type, char *plural,
                            size_t plural_len)
{
    bool named = false;
    parse_path(path, plural, plural_len, &named);
    if (strcmp(method, "GET") == 0) {
        if (strstr(path, "watch=1") != NULL ||
            strstr(path, "watch=true") != NULL)
            return "WATCH";
        return named ? "GET" : "LIST";
    }
    if (strcmp(method, "POST") == 0)
        return "CREATE";
    if (strcmp(method, "PUT") == 0)
        return "UPDATE";
    if (strcmp(method, "PATCH") == 0)
        return content_type != NULL &&
                       strncmp(content_type, "application/apply-patch", 23) == 0
                   ? "APPLY"
                   : "PATCH";
    if (strcmp(method, "DELETE") == 0)
        return "DELETE";
    return method;
}

/* ---- one attempt ------------------------------------------------------------
 */

struct request {
    const char *method;
    const char *url;
    const char *content_type;
    const char *body;
    size_t body_len;
};

static enum zl_err set_request(struct client *c, CURL *h,
                               const struct request *rq,
                               struct curl_slist *headers, struct transfer *t)
{
    enum zl_err rc = set_common(c, h, rq->url, headers);
    bool bad = rc != ZL_OK;
    bad |= setopt_failed(
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->opt.timeout_ms));
    bad |= setopt_failed(curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body));
    bad |= setopt_failed(curl_easy_setopt(h, CURLOPT_WRITEDATA, t));
    bad |=
        setopt_failed(curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header));
    bad |= setopt_failed(curl_easy_setopt(h, CURLOPT_HEADERDATA, t));
    bad |= setopt_failed(
        curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress));
    bad |= setopt_failed(curl_easy_setopt(h, CURLOPT_XFERINFODATA, t));
    bad |= setopt_failed(curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L));
    if (strcmp(rq->method, "GET") != 0)
        bad |= setopt_failed(
            curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, rq->method));
    if (rq->body != NULL) {
        bad |= setopt_failed(curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                                              (curl_off_t)rq->body_len));
        bad |= setopt_failed(curl_easy_setopt(h, CURLOPT_POSTFIELDS, rq->body));
    } else if (strcmp(rq->method, "POST") == 0 ||
               strcmp(rq->method, "PUT") == 0 ||
               strcmp(rq->method, "PATCH") == 0) {
        bad |= setopt_failed(
            curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0));
        bad |= setopt_failed(curl_easy_setopt(h, CURLOPT_POSTFIELDS, ""));
    }
    return bad ? ZL_ERR_NOMEM : ZL_OK;
}

/* CURL_HTTP_VERSION_* as 10, 11, 20, 30; 0 when unknown. */
static long http_version_of(long curl_version)
{
    switch (curl_version) {
    case CURL_HTTP_VERSION_1_0:
        return 10;
    case CURL_HTTP_VERSION_1_1:
        return 11;
    case CURL_HTTP_VERSION_2_0:
        return 20;
    case CURL_HTTP_VERSION_3:
        return 30;
    default:
        return 0;
    }
}

static CURLcode perform_transfer(struct client *c, CURL *h);

/* Runs one attempt; *cr is curl's result. */
static enum zl_err attempt(struct client *c, const struct request *rq,
                           struct client_response *resp, CURLcode *cr,
                           bool *over_limit)
{
    struct curl_slist *headers = NULL;
    struct transfer t = {c, &resp->body, -1, false};
    CURL *h = pool_get(c);
    if (h == NULL)
        return ZL_ERR_NOMEM;
    enum zl_err rc = build_headers(c, rq->content_type, &headers);
    if (rc == ZL_OK)
        rc = set_request(c, h, rq, headers, &t);
    if (rc != ZL_OK)
        goto out;
    buf_reset(&resp->body);
    resp->body.max = c->opt.max_body;
    *cr = perform_transfer(c, h);
    resp->http_code = 0;
    if (*cr == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->http_code);
    else
        buf_reset(&resp->body);
    resp->retry_after_s = t.retry_after_s;
    *over_limit = t.over_limit;
    if (c->opt.on_http_version != NULL) {
        long v = 0;
        curl_easy_getinfo(h, CURLINFO_HTTP_VERSION, &v);
        c->opt.on_http_version(c->opt.observe_ctx, http_version_of(v));
    }
out:
    if (rc != ZL_OK || *cr != CURLE_OK) {
        curl_easy_cleanup(h); /* do not keep a broken connection */
        h = NULL;
    }
    pool_put(c, h);
    free_headers(headers);
    return rc;
}

/* What an attempt's outcome means. *retry: worth another attempt. */
static enum zl_err classify(const struct request *rq, CURLcode cr,
                            bool over_limit, struct client_response *resp,
                            bool *retry)
{
    *retry = false;
    if (cr == CURLE_OK) {
        if (resp->http_code >= 200 && resp->http_code < 300)
            return ZL_OK;
        fill_status(resp);
        *retry = retryable_http(resp->http_code);
        return client_error_for(resp->http_code, resp->status.reason);
    }
    memset(&resp->status, 0, sizeof(resp->status));
    snprintf(resp->status.message, sizeof(resp->status.message), "%s",
             curl_easy_strerror(cr));
    if (cr == CURLE_ABORTED_BY_CALLBACK)
        return ZL_ERR_CANCELLED;
    if (cr == CURLE_WRITE_ERROR && over_limit)
        return ZL_ERR_LIMIT;
    if (cr == CURLE_OPERATION_TIMEDOUT)
        return ZL_ERR_TIMEOUT;
    if (connection_error(cr)) {
        *retry = never_sent(cr) || strcmp(rq->method, "POST") != 0;
        return ZL_ERR_TRANSIENT;
    }
    return ZL_ERR_IO;
}

enum zl_err client_request(struct client *c, const char *method,
                           const char *path, const char *content_type,
                           const char *body, size_t body_len,
                           struct client_response *resp)
{
    struct buf url;
    char plural[64];
    const char *verb = verb_for(method, path != NULL ? path : "", content_type,
                                plural, sizeof(plural));
    enum zl_err rc = make_url(c, path, &url);
    struct request rq = {method, url.data, content_type, body, body_len};
    resp->attempts = 0;
    for (int retry = 0; rc == ZL_OK; retry++) {
        if (atomic_load(&c->cancelled) ||
            ratelimit_wait(&c->limiter) != ZL_OK) {
            rc = ZL_ERR_CANCELLED;
            break;
        }
        CURLcode cr = CURLE_OK;
        bool over_limit = false, again = false;
        double t0 = now_s();
        rc = attempt(c, &rq, resp, &cr, &over_limit);
        if (rc != ZL_OK)
            break;
        resp->attempts++;
        if (c->opt.observe != NULL)
            c->opt.observe(c->opt.observe_ctx, verb, plural, resp->http_code,
                           now_s() - t0);
        rc = classify(&rq, cr, over_limit, resp, &again);
        bool no_server = cr != CURLE_OK && connection_error(cr);
        atomic_store(&c->unreachable, no_server);
        log_debug("%s %s: HTTP %ld (%s), attempt %d", method, path,
                  resp->http_code, zl_err_str(rc), resp->attempts);
        if (!again || retry >= c->opt.max_retries)
            break;
        long wait_ms = backoff_ms(c, retry);
        if (no_server && wait_ms > CLIENT_RECONNECT_MAX_MS)
            wait_ms = CLIENT_RECONNECT_MAX_MS;
        if (resp->retry_after_s >= 0)
            wait_ms = (resp->retry_after_s > CLIENT_MAX_RETRY_AFTER_S
                           ? CLIENT_MAX_RETRY_AFTER_S
                           : resp->retry_after_s) *
                      1000;
        if (ratelimit_sleep(&c->limiter, (int64_t)wait_ms * CLOCK_NS_PER_MS) !=
            ZL_OK) {
            rc = ZL_ERR_CANCELLED;
            break;
        }
        rc = ZL_OK;
    }
    buf_cleanup(&url);
    return rc;
}

/* ---- paths ------------------------------------------------------------------
 */

static enum zl_err put_escaped(struct buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    enum zl_err rc = ZL_OK;
    for (const unsigned char *p = (const unsigned char *)s;
         *p != '\0' && rc == ZL_OK; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
            (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' ||
            *p == '~') {
            rc = buf_putc(b, (char)*p);
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            rc = buf_append(b, e, 3);
        }
    }
    return rc;
}

enum zl_err client_path(const struct client_resource *r, const char *ns,
                        const char *name, const char *subresource,
                        struct buf *out)
{
    buf_reset(out);
    enum zl_err rc = buf_puts(out, r->prefix);
    if (rc == ZL_OK && r->namespaced && ns != NULL && ns[0] != '\0') {
        rc = buf_puts(out, "/namespaces/");
        if (rc == ZL_OK)
            rc = put_escaped(out, ns);
    }
    if (rc == ZL_OK)
        rc = buf_printf(out, "/%s", r->plural);
    if (rc == ZL_OK && name != NULL && name[0] != '\0') {
        rc = buf_putc(out, '/');
        if (rc == ZL_OK)
            rc = put_escaped(out, name);
    }
    if (rc == ZL_OK && subresource != NULL && subresource[0] != '\0') {
        rc = buf_putc(out, '/');
        if (rc == ZL_OK)
            rc = put_escaped(out, subresource);
    }
    return rc;
}

enum zl_err client_put_query(struct buf *b, const char *key, const char *value)
{
    if (value == NULL || value[0] == '\0')
        return ZL_OK;
    enum zl_err rc =
        buf_printf(b, "%c%s=", strchr(b->data, '?') ? '&' : '?', key);
    return rc == ZL_OK ? put_escaped(b, value) : rc;
}

enum zl_err client_get(struct client *c, const struct client_resource *r,
                       const char *ns, const char *name,
                       struct client_response *resp)
{
    struct buf path;
    buf_init(&path, CLIENT_MAX_PATH);
    enum zl_err rc = client_path(r, ns, name, NULL, &path);
    if (rc == ZL_OK)
        rc = client_request(c, "GET", path.data, NULL, NULL, 0, resp);
    buf_cleanup(&path);
    return rc;
}

enum zl_err client_list(struct client *c, const struct client_resource *r,
                        const char *ns, const struct client_list_options *opt,
                        struct client_response *resp)
{
    struct buf path;
    char limit[32] = "";
    buf_init(&path, CLIENT_MAX_PATH);
    enum zl_err rc = client_path(r, ns, NULL, NULL, &path);
    if (opt != NULL) {
        if (opt->limit > 0)
            snprintf(limit, sizeof(limit), "%ld", opt->limit);
        if (rc == ZL_OK)
            rc = client_put_query(&path, "labelSelector", opt->label_selector);
        if (rc == ZL_OK)
            rc = client_put_query(&path, "fieldSelector", opt->field_selector);
        if (rc == ZL_OK)
            rc = client_put_query(&path, "limit", limit);
        if (rc == ZL_OK)
            rc = client_put_query(&path, "continue", opt->continue_token);
        if (rc == ZL_OK)
            rc = client_put_query(&path, "resourceVersion",
                                  opt->resource_version);
        if (rc == ZL_OK)
            rc = client_put_query(&path, "resourceVersionMatch",
                                  opt->resource_version_match);
    }
    if (rc == ZL_OK)
        rc = client_request(c, "GET", path.data, NULL, NULL, 0, resp);
    buf_cleanup(&path);
    return rc;
}

static enum zl_err with_body(struct client *c, const char *method,
                             const struct client_resource *r, const char *ns,
                             const char *name, const char *subresource,
                             const char *query, const char *content_type,
                             const char *body, struct client_response *resp)
{
    struct buf path;
    buf_init(&path, CLIENT_MAX_PATH);
    enum zl_err rc = client_path(r, ns, name, subresource, &path);
    if (rc == ZL_OK && query != NULL)
        rc = buf_puts(&path, query);
    if (rc == ZL_OK)
        rc = client_request(c, method, path.data, content_type, body,
                            body != NULL ? strlen(body) : 0, resp);
    buf_cleanup(&path);
    return rc;
}

enum zl_err client_create(struct client *c, const struct client_resource *r,
                          const char *ns, const char *json,
                          struct client_response *resp)
{
    return with_body(c, "POST", r, ns, NULL, NULL, NULL, "application/json",
                     json, resp);
}

enum zl_err client_update(struct client *c, const struct client_resource *r,
                          const char *ns, const char *name,
                          const char *subresource, const char *json,
                          struct client_response *resp)
{
    return with_body(c, "PUT", r, ns, name, subresource, NULL,
                     "application/json", json, resp);
}

enum zl_err client_patch(struct client *c, const struct client_resource *r,
                         const char *ns, const char *name,
                         const char *subresource, const char *patch_type,
                         const char *body, struct client_response *resp)
{
    return with_body(c, "PATCH", r, ns, name, subresource, NULL, patch_type,
                     body, resp);
}

enum zl_err client_apply(struct client *c, const struct client_resource *r,
                         const char *ns, const char *name,
                         const char *subresource, const char *json,
                         const char *field_manager, bool force,
                         struct client_response *resp)
{
    struct buf q;
    buf_init(&q, CLIENT_MAX_PATH);
    enum zl_err rc = buf_puts(&q, "?fieldManager=");
    if (rc == ZL_OK)
        rc =
            put_escaped(&q, field_manager != NULL ? field_manager : "zen-lead");
    if (rc == ZL_OK && force)
        rc = buf_puts(&q, "&force=true");
    if (rc == ZL_OK)
        rc = with_body(c, "PATCH", r, ns, name, subresource, q.data,
                       "application/apply-patch+yaml", json, resp);
    buf_cleanup(&q);
    return rc;
}

static enum zl_err delete_body(const struct client_delete_options *opt,
                               struct buf *b)
{
    enum zl_err rc =
        buf_puts(b, "{\"kind\":\"DeleteOptions\",\"apiVersion\":\"v1\"");
    if (rc == ZL_OK && (opt->uid != NULL || opt->resource_version != NULL)) {
        rc = buf_puts(b, ",\"preconditions\":{");
        if (rc == ZL_OK && opt->uid != NULL) {
            rc = buf_puts(b, "\"uid\":");
            if (rc == ZL_OK)
                rc = buf_put_json_string(b, opt->uid);
        }
        if (rc == ZL_OK && opt->resource_version != NULL) {
            rc = buf_puts(b, opt->uid != NULL ? ",\"resourceVersion\":"
                                              : "\"resourceVersion\":");
            if (rc == ZL_OK)
                rc = buf_put_json_string(b, opt->resource_version);
        }
        if (rc == ZL_OK)
            rc = buf_putc(b, '}');
    }
    if (rc == ZL_OK && opt->grace_period_seconds >= 0)
        rc = buf_printf(b, ",\"gracePeriodSeconds\":%ld",
                        opt->grace_period_seconds);
    if (rc == ZL_OK && opt->propagation != NULL) {
        rc = buf_puts(b, ",\"propagationPolicy\":");
        if (rc == ZL_OK)
            rc = buf_put_json_string(b, opt->propagation);
    }
    if (rc == ZL_OK)
        rc = buf_putc(b, '}');
    return rc;
}

enum zl_err client_delete(struct client *c, const struct client_resource *r,
                          const char *ns, const char *name,
                          const struct client_delete_options *opt,
                          struct client_response *resp)
{
    struct buf body;
    buf_init(&body, 4096);
    enum zl_err rc = ZL_OK;
    if (opt != NULL)
        rc = delete_body(opt, &body);
    if (rc == ZL_OK)
        rc = with_body(c, "DELETE", r, ns, name, NULL, NULL,
                       opt != NULL ? "application/json" : NULL,
                       opt != NULL ? body.data : NULL, resp);
    buf_cleanup(&body);
    return rc;
}

/* ---- streams ----------------------------------------------------------------
 */

enum zl_err client_stream_reserve(struct client *c, int64_t *delay_ns)
{
    *delay_ns = 0;
    if (atomic_load(&c->cancelled))
        return ZL_ERR_CANCELLED;
    *delay_ns = ratelimit_reserve(&c->limiter, clock_mono_ns());
    return ZL_OK;
}

/* What a transfer on a multi is, first member of both kinds, so the
 * CURLINFO_PRIVATE pointer says which one ended. */
enum client_transfer_kind { CLIENT_KIND_STREAM = 1, CLIENT_KIND_REQUEST };

/* A request handed to a loop (client_use_multi). It lives on the waiting
 * thread's stack; the loop touches it only under the multi's lock until
 * done is set. */
struct client_queued {
    enum client_transfer_kind kind;
    struct client_queued *next;
    CURL *easy;
    CURLcode result;
    bool run_here; /* the loop closed before taking it: run it locally */
    bool done;
};

/* The curl multi handle of one event loop, and the requests handed to it. */
struct client_multi {
    CURLM *multi;
    pthread_mutex_t mu;
    pthread_cond_t done_cv;        /* a queued request was done */
    pthread_cond_t idle_cv;        /* the last waiter left a closed multi */
    struct client_queued *pending; /* handed over, not yet on multi */
    struct client_queued *running; /* on multi (loop thread only) */
    int waiters;                   /* threads waiting for a request */
    bool closed;                   /* client_multi_close */
    bool has_owner;                /* owner is set (under mu) */
    pthread_t owner;               /* the thread of client_multi_perform */
    /* Loop thread only: > 0 while that thread drives a request of its own
     * (perform_here), when the streams' data and ends are held back on the
     * held list, so no stream callback runs while it waits. */
    int nested;
    struct client_stream *held;
};

struct client_stream {
    enum client_transfer_kind kind;
    struct client_multi *m;
    CURL *easy;
    struct curl_slist *headers; /* carries the bearer token */
    client_stream_data_fn on_data;
    client_stream_done_fn on_done;
    void *ctx;
    long http_code;
    bool added; /* on m->multi */
    /* Held back while the loop drove a request of its own (m->nested):
     * data in arrival order and the end, given to the callbacks by the
     * next client_multi_perform. */
    struct buf held_data;
    bool held_end;
    CURLcode held_result;
    bool stopped; /* on_data refused held data: the transfer is over */
    bool on_held; /* on m->held */
    struct client_stream *held_next;
};

enum zl_err client_multi_new(struct client_multi **out)
{
    *out = NULL;
    pthread_once(&global_once, global_init);
    if (global_rc != CURLE_OK)
        return ZL_ERR_NOMEM;
    struct client_multi *m = calloc(1, sizeof(*m));
    if (m == NULL)
        return ZL_ERR_NOMEM;
    m->multi = curl_multi_init();
    if (m->multi == NULL) {
        free(m);
        return ZL_ERR_NOMEM;
    }
    pthread_mutex_init(&m->mu, NULL);
    pthread_cond_init(&m->done_cv, NULL);
    pthread_cond_init(&m->idle_cv, NULL);
    *out = m;
    return ZL_OK;
}

void client_multi_free(struct client_multi *m)
{
    if (m == NULL)
        return;
    client_multi_close(m);
    curl_multi_cleanup(m->multi);
    pthread_cond_destroy(&m->done_cv);
    pthread_cond_destroy(&m->idle_cv);
    pthread_mutex_destroy(&m->mu);
    free(m);
}

/* ---- requests on a loop -----------------------------------------------------
 */

void client_use_multi(struct client *c, struct client_multi *m)
{
    pthread_mutex_lock(&c->multi_mu);
    c->multi = m;
    pthread_mutex_unlock(&c->multi_mu);
}

/* Marks q done (m->mu held) and wakes its thread. */
static void queued_done(struct client_multi *m, struct client_queued *q,
                        CURLcode result, bool run_here)
{
    q->result = result;
    q->run_here = run_here;
    q->done = true;
    pthread_cond_broadcast(&m->done_cv);
}

static void hold_stream(struct client_multi *m, struct client_stream *s)
{
    if (s->on_held)
        return;
    s->on_held = true;
    s->held_next = NULL;
    struct client_stream **p = &m->held;
    while (*p != NULL)
        p = &(*p)->held_next;
    *p = s;
}

static void unhold_stream(struct client_multi *m, struct client_stream *s)
{
    struct client_stream **p = &m->held;
    while (*p != NULL && *p != s)
        p = &(*p)->held_next;
    if (*p == s)
        *p = s->held_next;
    s->on_held = false;
}

static void request_ended(struct client_multi *m, struct client_queued *q,
                          CURLcode result);
static enum zl_err stream_error(CURLcode cr);
static void take_pending(struct client_multi *m);

/* The transfers that ended: requests are finished; a stream's end goes
 * to its callback, or is held back while the loop drives a request of its
 * own (hold). Returns how many stream ends went to their callbacks. */
static int read_ended(struct client_multi *m, bool hold)
{
    int queued = 0;
    int done = 0;
    CURLMsg *msg;
    while ((msg = curl_multi_info_read(m->multi, &queued)) != NULL) {
        enum client_transfer_kind *kind = NULL;
        if (msg->msg != CURLMSG_DONE ||
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
                              (char **)&kind) != CURLE_OK ||
            kind == NULL)
            continue;
        CURLcode cr = msg->data.result; /* msg dies with the handle */
        if (*kind == CLIENT_KIND_REQUEST) {
            request_ended(m, (struct client_queued *)kind, cr);
            continue;
        }
        struct client_stream *s = (struct client_stream *)kind;
        if (s->http_code == 0)
            curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &s->http_code);
        if (hold) {
            s->held_end = true;
            s->held_result = cr;
            hold_stream(m, s);
            continue;
        }
        struct client_stream_result r = {stream_error(cr), s->http_code,
                                         curl_easy_strerror(cr)};
        s->on_done(s->ctx, &r); /* may close s */
        done++;
    }
    return done;
}

/* A request the loop thread itself makes, between two rounds of
 * client_multi_perform: it rides the loop's connection like any other, and
 * this thread drives the multi until it is done. The other transfers move
 * on meanwhile; requests of other threads finish as usual, the streams'
 * data and ends are held back for the next client_multi_perform. False
 * when curl refuses (inside one of its callbacks): the caller runs the
 * request on a connection of its own. */
static bool perform_here(struct client_multi *m, struct client_queued *q,
                         CURLcode *cr)
{
    if (curl_multi_add_handle(m->multi, q->easy) != CURLM_OK)
        return false;
    pthread_mutex_lock(&m->mu);
    q->next = m->running;
    m->running = q;
    pthread_mutex_unlock(&m->mu);
    m->nested++;
    for (;;) {
        int running = 0;
        take_pending(m);
        curl_multi_perform(m->multi, &running);
        read_ended(m, true);
        pthread_mutex_lock(&m->mu);
        bool done = q->done;
        pthread_mutex_unlock(&m->mu);
        if (done)
            break;
        curl_multi_poll(m->multi, NULL, 0, 1000, NULL);
    }
    m->nested--;
    if (m->held != NULL) /* the loop's next wait must not sleep on them */
        curl_multi_wakeup(m->multi);
    *cr = q->result;
    return true;
}

/* Gives the held-back data and ends to the streams' callbacks, in order;
 * returns how many streams ended. A callback may drive a request of its
 * own again and so hold back more: the loop runs until nothing is held. */
static int deliver_held(struct client_multi *m)
{
    int ended = 0;
    while (m->held != NULL) {
        struct client_stream *s = m->held;
        unhold_stream(m, s);
        if (s->held_data.len > 0 && !s->stopped) {
            struct buf data = s->held_data; /* more may be held meanwhile */
            buf_init(&s->held_data, CLIENT_MAX_BODY);
            bool go = s->on_data(s->ctx, data.data, data.len, s->http_code);
            buf_cleanup(&data);
            if (!go) {
                /* What curl does when the write callback refuses. */
                s->stopped = true;
                if (s->added)
                    curl_multi_remove_handle(m->multi, s->easy);
                s->added = false;
                s->held_end = true;
                s->held_result = CURLE_WRITE_ERROR;
            }
        }
        if (s->held_end && !s->on_held) {
            s->held_end = false;
            struct client_stream_result r = {
                stream_error(s->held_result), s->http_code,
                curl_easy_strerror(s->held_result)};
            s->on_done(s->ctx, &r); /* may close s */
            ended++;
        }
    }
    return ended;
}

/* Hands h to the loop of c's multi and waits for it; false when the client
 * has no multi or it is closed (the caller runs h itself). */
static bool perform_on_multi(struct client *c, CURL *h, CURLcode *cr)
{
    struct client_queued q = {.kind = CLIENT_KIND_REQUEST, .easy = h};
    pthread_mutex_lock(&c->multi_mu);
    struct client_multi *m = c->multi;
    if (m == NULL) {
        pthread_mutex_unlock(&c->multi_mu);
        return false;
    }
    pthread_mutex_lock(&m->mu);
    pthread_mutex_unlock(&c->multi_mu);
    if (m->closed || curl_easy_setopt(h, CURLOPT_PRIVATE, &q) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_PIPEWAIT, 1L) != CURLE_OK) {
        pthread_mutex_unlock(&m->mu);
        return false;
    }
    if (m->has_owner && pthread_equal(m->owner, pthread_self())) {
        pthread_mutex_unlock(&m->mu);
        return perform_here(m, &q, cr);
    }
    q.next = m->pending;
    m->pending = &q;
    m->waiters++;
    curl_multi_wakeup(m->multi);
    while (!q.done)
        pthread_cond_wait(&m->done_cv, &m->mu);
    if (--m->waiters == 0 && m->closed)
        pthread_cond_broadcast(&m->idle_cv);
    pthread_mutex_unlock(&m->mu);
    *cr = q.result;
    return !q.run_here;
}

static CURLcode perform_transfer(struct client *c, CURL *h)
{
    CURLcode cr = CURLE_OK;
    if (perform_on_multi(c, h, &cr))
        return cr;
    return curl_easy_perform(h);
}

/* Puts the requests handed over since the last call on the multi (loop
 * thread). */
static void take_pending(struct client_multi *m)
{
    pthread_mutex_lock(&m->mu);
    if (!m->has_owner) {
        m->owner = pthread_self();
        m->has_owner = true;
    }
    struct client_queued *q = m->pending;
    m->pending = NULL;
    while (q != NULL) {
        struct client_queued *next = q->next;
        if (curl_multi_add_handle(m->multi, q->easy) == CURLM_OK) {
            q->next = m->running;
            m->running = q;
        } else {
            queued_done(m, q, CURLE_OK, true);
        }
        q = next;
    }
    pthread_mutex_unlock(&m->mu);
}

/* A request on the multi ended (loop thread). */
static void request_ended(struct client_multi *m, struct client_queued *q,
                          CURLcode result)
{
    curl_multi_remove_handle(m->multi, q->easy);
    pthread_mutex_lock(&m->mu);
    struct client_queued **p = &m->running;
    while (*p != NULL && *p != q)
        p = &(*p)->next;
    if (*p == q)
        *p = q->next;
    queued_done(m, q, result, false);
    pthread_mutex_unlock(&m->mu);
}

void client_multi_close(struct client_multi *m)
{
    pthread_mutex_lock(&m->mu);
    m->closed = true;
    for (struct client_queued *q = m->pending, *next; q != NULL; q = next) {
        next = q->next;
        queued_done(m, q, CURLE_OK, true);
    }
    m->pending = NULL;
    for (struct client_queued *q = m->running, *next; q != NULL; q = next) {
        next = q->next;
        curl_multi_remove_handle(m->multi, q->easy);
        queued_done(m, q, CURLE_ABORTED_BY_CALLBACK, false);
    }
    m->running = NULL;
    while (m->waiters > 0)
        pthread_cond_wait(&m->idle_cv, &m->mu);
    pthread_mutex_unlock(&m->mu);
}

/* What a finished transfer's curl result means for its stream. */
static enum zl_err stream_error(CURLcode cr)
{
    if (cr == CURLE_OK)
        return ZL_OK;
    if (cr == CURLE_WRITE_ERROR || cr == CURLE_ABORTED_BY_CALLBACK)
        return ZL_ERR_CANCELLED;
    if (cr == CURLE_OPERATION_TIMEDOUT)
        return ZL_ERR_TIMEOUT;
    return connection_error(cr) ? ZL_ERR_TRANSIENT : ZL_ERR_IO;
}

int client_multi_perform(struct client_multi *m)
{
    int running = 0;
    int done = deliver_held(m);
    take_pending(m);
    curl_multi_perform(m->multi, &running);
    return done + read_ended(m, false);
}

void client_multi_wait(struct client_multi *m, long timeout_ms)
{
    if (timeout_ms < 0)
        timeout_ms = 0;
    if (timeout_ms > INT32_MAX)
        timeout_ms = INT32_MAX;
    curl_multi_poll(m->multi, NULL, 0, (int)timeout_ms, NULL);
}

void client_multi_wakeup(struct client_multi *m)
{
    curl_multi_wakeup(m->multi);
}

static size_t on_stream_data(char *data, size_t size, size_t n, void *ctx)
{
    struct client_stream *s = ctx;
    size_t len = size * n;
    if (s->http_code == 0)
        curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &s->http_code);
    if (s->stopped)
        return 0;
    if (s->m->nested > 0 || s->on_held) {
        if (buf_append(&s->held_data, data, len) != ZL_OK)
            return 0;
        hold_stream(s->m, s);
        return len;
    }
    return s->on_data(s->ctx, data, len, s->http_code) ? len : 0;
}

/* What only streams set: a GET without total timeout, but a low-speed
 * limit, and our callback. */
static enum zl_err set_stream(struct client_stream *s, long low_speed_time_s)
{
    CURL *h = s->easy;
    bool bad = false;
    bad |= setopt_failed(curl_easy_setopt(h, CURLOPT_HTTPGET, 1L));
    bad |= setopt_failed(curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 0L));
    bad |= setopt_failed(curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L));
    bad |= setopt_failed(
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME,
                         low_speed_time_s > 0 ? low_speed_time_s : 60L));
    bad |= setopt_failed(
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_stream_data));
    bad |= setopt_failed(curl_easy_setopt(h, CURLOPT_WRITEDATA, s));
    bad |= setopt_failed(curl_easy_setopt(h, CURLOPT_PRIVATE, s));
    bad |= setopt_failed(curl_easy_setopt(h, CURLOPT_PIPEWAIT, 1L));
    return bad ? ZL_ERR_NOMEM : ZL_OK;
}

enum zl_err client_stream_open(struct client *c, struct client_multi *m,
                               const struct client_stream_options *opt,
                               struct client_stream **out)
{
    struct buf url;
    *out = NULL;
    if (atomic_load(&c->cancelled))
        return ZL_ERR_CANCELLED;
    struct client_stream *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return ZL_ERR_NOMEM;
    *s = (struct client_stream){.kind = CLIENT_KIND_STREAM,
                                .m = m,
                                .on_data = opt->on_data,
                                .on_done = opt->on_done,
                                .ctx = opt->ctx};
    buf_init(&s->held_data, CLIENT_MAX_BODY);
    enum zl_err rc = make_url(c, opt->path, &url);
    if (rc == ZL_OK) {
        s->easy = curl_easy_init();
        rc = s->easy != NULL ? build_headers(c, NULL, &s->headers)
                             : ZL_ERR_NOMEM;
    }
    if (rc == ZL_OK)
        rc = set_common(c, s->easy, url.data, s->headers);
    if (rc == ZL_OK)
        rc = set_stream(s, opt->low_speed_time_s);
    if (rc == ZL_OK && curl_multi_add_handle(m->multi, s->easy) != CURLM_OK)
        rc = ZL_ERR_NOMEM;
    s->added = rc == ZL_OK;
    buf_cleanup(&url);
    if (rc != ZL_OK) {
        client_stream_close(s);
        return rc;
    }
    *out = s;
    return ZL_OK;
}

void client_stream_close(struct client_stream *s)
{
    if (s == NULL)
        return;
    if (s->on_held)
        unhold_stream(s->m, s);
    buf_cleanup(&s->held_data);
    if (s->added)
        curl_multi_remove_handle(s->m->multi, s->easy);
    if (s->easy != NULL)
        curl_easy_cleanup(s->easy);
    free_headers(s->headers);
    free(s);
}

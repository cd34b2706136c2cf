/* SPDX-License-Identifier: Apache-2.0 */
/* REST client behaviour against a loopback libmicrohttpd server that
 * replays answers recorded from a real API server (tests/data/client/NAME.http:
 * status line, headers, body) or scripted ones: retries, Retry-After,
 * POST after a dropped connection, body limit, timeouts, cancel, the QPS
 * limiter and bearer token rotation. */
#include <criterion/criterion.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "kube/client.h"
#include "kube/kubeconfig.h"
#include "testutil.h"

#define MAX_STEPS 16

struct step {
    const char *fixture; /* tests/data/client/<fixture>.http, or NULL */
    int code;            /* scripted answer when no fixture */
    const char *body;
    const char *header; /* "Name: value" or NULL */
    int delay_ms;
    bool drop; /* close the connection without answering */
};

struct seen {
    char method[16];
    char url[1024];
    char auth[256];
    char ctype[128];
    char body[1024];
};

struct replay {
    struct MHD_Daemon *d;
    uint16_t port;
    pthread_mutex_t mu;
    struct step steps[MAX_STEPS];
    int nsteps;
    int next;
    struct seen seen[MAX_STEPS];
    int count;
};

struct upload {
    char body[1024];
    size_t len;
};

static int header_cb(void *ctx, enum MHD_ValueKind kind, const char *key,
                     const char *value)
{
    struct seen *s = ctx;
    (void)kind;
    if (strcasecmp(key, "Authorization") == 0)
        snprintf(s->auth, sizeof(s->auth), "%s", value);
    if (strcasecmp(key, "Content-Type") == 0)
        snprintf(s->ctype, sizeof(s->ctype), "%s", value);
    return MHD_YES;
}

static int query_cb(void *ctx, enum MHD_ValueKind kind, const char *key,
                    const char *value)
{
    struct seen *s = ctx;
    size_t n = strlen(s->url);
    (void)kind;
    snprintf(s->url + n, sizeof(s->url) - n, "%c%s=%s",
             strchr(s->url, '?') ? '&' : '?', key, value ? value : "");
    return MHD_YES;
}

/* Builds the answer of a recorded .http file. */
static struct MHD_Response *from_fixture(const char *name, unsigned *code)
{
    char rel[256];
    size_t len = 0;
    snprintf(rel, sizeof(rel), "client/%s.http", name);
    char *text = testutil_read(rel, &len);
    cr_assert(text != NULL, "fixture %s", rel);
    char *sep = strstr(text, "\r\n\r\n");
    cr_assert(sep != NULL);
    *sep = '\0';
    char *body = sep + 4;
    *code = (unsigned)strtoul(strchr(text, ' ') + 1, NULL, 10);
    struct MHD_Response *r = MHD_create_response_from_buffer(
        len - (size_t)(body - text), body, MHD_RESPMEM_MUST_COPY);
    char *save = NULL;
    strtok_r(text, "\r\n", &save); /* status line */
    for (char *h = strtok_r(NULL, "\r\n", &save); h != NULL;
         h = strtok_r(NULL, "\r\n", &save)) {
        char *colon = strchr(h, ':');
        if (colon == NULL)
            continue;
        *colon = '\0';
        if (strcasecmp(h, "content-length") == 0 || strcasecmp(h, "date") == 0)
            continue;
        MHD_add_response_header(r, h, colon + 2);
    }
    free(text);
    return r;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn,
                               const char *url, const char *method,
                               const char *version, const char *upload,
                               size_t *upload_size, void **con_cls)
{
    struct replay *rp = cls;
    struct upload *up = *con_cls;
    (void)version;
    if (up == NULL) {
        *con_cls = calloc(1, sizeof(struct upload));
        return *con_cls ? MHD_YES : MHD_NO;
    }
    if (*upload_size > 0) {
        size_t room = sizeof(up->body) - 1 - up->len;
        size_t n = *upload_size < room ? *upload_size : room;
        memcpy(up->body + up->len, upload, n);
        up->len += n;
        *upload_size = 0;
        return MHD_YES;
    }
    pthread_mutex_lock(&rp->mu);
    struct step st = {NULL, 500, "no step left", NULL, 0, false};
    if (rp->next < rp->nsteps)
        st = rp->steps[rp->next++];
    struct seen *s = rp->count < MAX_STEPS ? &rp->seen[rp->count++] : NULL;
    pthread_mutex_unlock(&rp->mu);
    if (s != NULL) {
        snprintf(s->method, sizeof(s->method), "%s", method);
        snprintf(s->url, sizeof(s->url), "%s", url);
        snprintf(s->body, sizeof(s->body), "%s", up->body);
        MHD_get_connection_values(conn, MHD_HEADER_KIND,
                                  (MHD_KeyValueIterator)header_cb, s);
        MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND,
                                  (MHD_KeyValueIterator)query_cb, s);
    }
    if (st.delay_ms > 0)
        usleep((useconds_t)st.delay_ms * 1000);
    if (st.drop)
        return MHD_NO;
    unsigned code = (unsigned)st.code;
    struct MHD_Response *r;
    if (st.fixture != NULL) {
        r = from_fixture(st.fixture, &code);
    } else {
        const char *b = st.body ? st.body : "{}";
        r = MHD_create_response_from_buffer(strlen(b), (void *)(uintptr_t)b,
                                            MHD_RESPMEM_MUST_COPY);
        MHD_add_response_header(r, "Content-Type", "application/json");
        if (st.header != NULL) {
            char h[128];
            snprintf(h, sizeof(h), "%s", st.header);
            char *colon = strchr(h, ':');
            *colon = '\0';
            MHD_add_response_header(r, h, colon + 2);
        }
    }
    enum MHD_Result ret = MHD_queue_response(conn, code, r);
    MHD_destroy_response(r);
    return ret;
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    free(*con_cls);
    *con_cls = NULL;
}

static void replay_start(struct replay *rp, const struct step *steps, int n)
{
    memset(rp, 0, sizeof(*rp));
    pthread_mutex_init(&rp->mu, NULL);
    cr_assert(n <= MAX_STEPS);
    memcpy(rp->steps, steps, (size_t)n * sizeof(*steps));
    rp->nsteps = n;
    rp->d = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD, 0,
        NULL, NULL, handler, rp, MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
        MHD_OPTION_END);
    cr_assert(rp->d != NULL);
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info(rp->d, MHD_DAEMON_INFO_BIND_PORT);
    rp->port = info->port;
}

static void replay_stop(struct replay *rp)
{
    MHD_stop_daemon(rp->d);
    pthread_mutex_destroy(&rp->mu);
}

/* ---- client fixture ---------------------------------------------------- */

struct obs {
    pthread_mutex_t mu;
    int calls;
    char verbs[MAX_STEPS][16];
    char resources[MAX_STEPS][32];
    long codes[MAX_STEPS];
};

static void observe(void *ctx, const char *verb, const char *resource,
                    long code, double seconds)
{
    struct obs *o = ctx;
    (void)seconds;
    pthread_mutex_lock(&o->mu);
    if (o->calls < MAX_STEPS) {
        snprintf(o->verbs[o->calls], 16, "%s", verb);
        snprintf(o->resources[o->calls], 32, "%s", resource);
        o->codes[o->calls] = code;
    }
    o->calls++;
    pthread_mutex_unlock(&o->mu);
}

struct fx {
    struct replay rp;
    struct kube_config cfg;
    struct client *c;
    struct obs obs;
    struct client_response r;
};

static struct client_options fast_options(struct obs *o)
{
    struct client_options opt = {.timeout_ms = 5000,
                                 .connect_timeout_ms = 1000,
                                 .max_retries = 3,
                                 .backoff_base_ms = 5,
                                 .backoff_max_ms = 20,
                                 .observe = observe,
                                 .observe_ctx = o};
    return opt;
}

static void fx_start(struct fx *f, const struct step *steps, int n,
                     const struct client_options *opt_in)
{
    char yaml[512];
    struct kubeconfig_error err;
    memset(f, 0, sizeof(*f));
    pthread_mutex_init(&f->obs.mu, NULL);
    replay_start(&f->rp, steps, n);
    snprintf(yaml, sizeof(yaml),
             "current-context: t\nclusters:\n- name: c\n  cluster: {server: "
             "\"http://127.0.0.1:%u\"}\nusers:\n- name: u\n  user: {token: "
             "secret-token}\ncontexts:\n- name: t\n  context: {cluster: c, "
             "user: u}\n",
             f->rp.port);
    cr_assert_eq(
        kubeconfig_load_mem(yaml, strlen(yaml), NULL, NULL, &f->cfg, &err),
        ZL_OK, "%s", err.text);
    struct client_options opt =
        opt_in != NULL ? *opt_in : fast_options(&f->obs);
    opt.observe = observe;
    opt.observe_ctx = &f->obs;
    cr_assert_eq(client_new(&f->cfg, &opt, &f->c), ZL_OK);
    client_response_init(&f->r);
}

static void fx_stop(struct fx *f)
{
    client_response_cleanup(&f->r);
    client_free(f->c);
    kubeconfig_cleanup(&f->cfg);
    replay_stop(&f->rp);
    pthread_mutex_destroy(&f->obs.mu);
}

static double since_ms(int64_t t0)
{
    return (double)(clock_mono_ns() - t0) / 1e6;
}

/* ---- tests --------------------------------------------------------------- */

Test(client, lists_recorded_pages_following_continue)
{
    struct fx f;
    const struct step steps[] = {{.fixture = "pods-page1"},
                                 {.fixture = "pods-page2"}};
    fx_start(&f, steps, 2, NULL);
    struct client_list_options lo = {.limit = 2,
                                     .label_selector = "app in (a,b)"};
    cr_assert_eq(client_list(f.c, &CLIENT_PODS, "rec", &lo, &f.r), ZL_OK);
    cr_assert_eq(f.r.http_code, 200);
    cr_assert(strstr(f.r.body.data, "\"continue\"") != NULL);
    cr_assert_eq(f.r.attempts, 1);
    cr_assert_str_eq(f.rp.seen[0].method, "GET");
    cr_assert_str_eq(f.rp.seen[0].url,
                     "/api/v1/namespaces/rec/pods?labelSelector=app in "
                     "(a,b)&limit=2");
    cr_assert_str_eq(f.rp.seen[0].auth, "Bearer secret-token");
    lo.continue_token = "eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6MjI1fQ==";
    cr_assert_eq(client_list(f.c, &CLIENT_PODS, "rec", &lo, &f.r), ZL_OK);
    cr_assert(strstr(f.r.body.data, "\"continue\"") == NULL);
    cr_assert(strstr(f.rp.seen[1].url, "continue=eyJ2Ijoi") != NULL);
    cr_assert_str_eq(f.obs.verbs[0], "LIST");
    cr_assert_str_eq(f.obs.resources[0], "pods");
    fx_stop(&f);
}

struct status_case {
    const char *fixture;
    enum zl_err want;
    long code;
    const char *reason;
};

Test(client, recorded_status_answers_map_to_errors_without_retry)
{
    static const struct status_case cases[] = {
        {"notfound", ZL_ERR_NOTFOUND, 404, "NotFound"},
        {"already-exists", ZL_ERR_EXISTS, 409, "AlreadyExists"},
        {"conflict", ZL_ERR_CONFLICT, 409, "Conflict"},
        {"expired", ZL_ERR_GONE, 410, "Expired"},
        {"invalid", ZL_ERR_INVALID, 422, "Invalid"},
        {"forbidden", ZL_ERR_FORBIDDEN, 403, "Forbidden"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct fx f;
        const struct step steps[] = {{.fixture = cases[i].fixture}};
        fx_start(&f, steps, 1, NULL);
        enum zl_err rc = client_get(f.c, &CLIENT_PODS, "rec", "p", &f.r);
        cr_expect_eq(rc, cases[i].want, "%s: %s", cases[i].fixture,
                     zl_err_str(rc));
        cr_expect_eq(f.r.http_code, cases[i].code);
        cr_expect_eq(f.r.status.code, cases[i].code);
        cr_expect_str_eq(f.r.status.reason, cases[i].reason);
        cr_expect(f.r.status.message[0] != '\0');
        cr_expect_eq(f.r.attempts, 1, "%s retried", cases[i].fixture);
        fx_stop(&f);
    }
}

Test(client, retries_503_twice_then_succeeds)
{
    struct fx f;
    const struct step steps[] = {{.code = 503}, {.code = 503}, {.code = 200}};
    fx_start(&f, steps, 3, NULL);
    cr_assert_eq(client_get(f.c, &CLIENT_PODS, "rec", "p", &f.r), ZL_OK);
    cr_assert_eq(f.r.attempts, 3);
    cr_assert_eq(f.obs.calls, 3);
    cr_assert_eq(f.obs.codes[0], 503);
    cr_assert_str_eq(f.obs.verbs[2], "GET");
    fx_stop(&f);
}

Test(client, honours_retry_after_of_a_recorded_429)
{
    struct fx f;
    const struct step steps[] = {{.fixture = "too-many-requests"},
                                 {.code = 200}};
    fx_start(&f, steps, 2, NULL);
    int64_t t0 = clock_mono_ns();
    cr_assert_eq(client_get(f.c, &CLIENT_PODS, "rec", "p", &f.r), ZL_OK);
    double ms = since_ms(t0);
    cr_assert_eq(f.r.attempts, 2);
    cr_expect(ms >= 990 && ms < 3000, "Retry-After: 1 waited %.1f ms", ms);
    fx_stop(&f);
}

Test(client, gives_up_after_max_retries_with_transient)
{
    struct fx f;
    const struct step steps[] = {{.fixture = "too-large-rv"},
                                 {.code = 500},
                                 {.code = 502},
                                 {.code = 503},
                                 {.code = 200}};
    struct obs dummy;
    struct client_options opt = fast_options(&dummy);
    opt.max_retries = 3;
    fx_start(&f, steps, 5, &opt);
    /* The recorded 504 carries Retry-After: 1; the rest use backoff. */
    cr_assert_eq(client_get(f.c, &CLIENT_PODS, "rec", "p", &f.r),
                 ZL_ERR_TRANSIENT);
    cr_assert_eq(f.r.attempts, 4);
    cr_assert_eq(f.r.http_code, 503);
    fx_stop(&f);
}

Test(client, does_not_retry_501_or_when_retries_disabled)
{
    struct fx f;
    const struct step steps[] = {{.code = 501}, {.code = 503}, {.code = 200}};
    struct obs dummy;
    struct client_options opt = fast_options(&dummy);
    fx_start(&f, steps, 3, NULL);
    cr_assert_eq(client_get(f.c, &CLIENT_PODS, "rec", "p", &f.r),
                 ZL_ERR_TRANSIENT);
    cr_assert_eq(f.r.attempts, 1);
    fx_stop(&f);
    opt.max_retries = -1;
    fx_start(&f, steps + 1, 2, &opt);
    cr_assert_eq(client_get(f.c, &CLIENT_PODS, "rec", "p", &f.r),
                 ZL_ERR_TRANSIENT);
    cr_assert_eq(f.r.attempts, 1);
    fx_stop(&f);
}

Test(client, post_is_not_retried_after_a_dropped_connection)
{
    struct fx f;
    const struct step steps[] = {
        {.drop = true}, {.code = 201}, {.drop = true}, {.code = 200}};
    fx_start(&f, steps, 4, NULL);
    cr_assert_eq(client_create(f.c, &CLIENT_CONFIGMAPS, "rec", "{}", &f.r),
                 ZL_ERR_TRANSIENT);
    cr_assert_eq(f.r.attempts, 1);
    cr_assert_eq(f.r.http_code, 0);
    cr_assert_eq(f.obs.codes[0], 0);
    cr_assert_str_eq(f.obs.verbs[0], "CREATE");
    /* The server did get it: the next step proves no second POST came. */
    cr_assert_eq(client_get(f.c, &CLIENT_PODS, "rec", "p", &f.r), ZL_OK);
    cr_assert_eq(f.r.http_code, 201);
    /* A GET after a drop is retried: by us, or (on a reused connection
     * that died before any answer) by libcurl itself. */
    cr_assert_eq(client_get(f.c, &CLIENT_PODS, "rec", "p", &f.r), ZL_OK);
    cr_assert_eq(f.rp.count, 4);
    fx_stop(&f);
}

/* A client of a server URL where nothing listens (port 1 of loopback):
 * every attempt is refused. */
static struct client *refused_client(struct kube_config *cfg,
                                     const struct client_options *opt)
{
    struct kubeconfig_error err;
    struct client *c = NULL;
    static const char yaml[] =
        "current-context: t\nclusters:\n- name: c\n  cluster: {server: "
        "\"http://127.0.0.1:1\"}\ncontexts:\n- name: t\n  context: "
        "{cluster: c}\n";
    cr_assert_eq(kubeconfig_load_mem(yaml, strlen(yaml), NULL, NULL, cfg, &err),
                 ZL_OK);
    cr_assert_eq(client_new(cfg, opt, &c), ZL_OK);
    return c;
}

Test(client, connection_refused_is_retried_even_for_post)
{
    struct kube_config cfg;
    struct client_response r;
    struct obs o = {.calls = 0};
    pthread_mutex_init(&o.mu, NULL);
    struct client_options opt = fast_options(&o);
    opt.max_retries = 2;
    struct client *c = refused_client(&cfg, &opt);
    client_response_init(&r);
    cr_assert_eq(client_create(c, &CLIENT_CONFIGMAPS, "rec", "{}", &r),
                 ZL_ERR_TRANSIENT);
    cr_assert_eq(r.attempts, 3);
    cr_assert_eq(o.calls, 3);
    cr_assert_eq(r.http_code, 0);
    cr_assert(client_unreachable(c));
    client_response_cleanup(&r);
    client_free(c);
    kubeconfig_cleanup(&cfg);
    pthread_mutex_destroy(&o.mu);
}

/* No server at all: the waits between attempts are capped at
 * CLIENT_RECONNECT_MAX_MS, not the backoff's 0-20, 0-40, 0-60 s; an answer
 * (here a 503) keeps the backoff and clears client_unreachable. */
Test(client, refused_connections_are_retried_within_the_reconnect_cap)
{
    struct kube_config cfg;
    struct client_response r;
    struct obs o = {.calls = 0};
    pthread_mutex_init(&o.mu, NULL);
    struct client_options opt = fast_options(&o);
    opt.max_retries = 3;
    opt.backoff_base_ms = 20000;
    opt.backoff_max_ms = 60000;
    struct client *c = refused_client(&cfg, &opt);
    cr_assert_not(client_unreachable(c));
    client_response_init(&r);
    int64_t t0 = clock_mono_ns();
    cr_assert_eq(client_get(c, &CLIENT_PODS, "rec", "p", &r), ZL_ERR_TRANSIENT);
    int64_t ms = (clock_mono_ns() - t0) / CLOCK_NS_PER_MS;
    cr_assert_eq(r.attempts, 4);
    /* 3 waits of at most 250 ms; uncapped they would sum to under 2 s
     * about 3 times in 10^5. */
    cr_assert_lt(ms, 2000, "4 refused attempts took %lld ms", (long long)ms);
    cr_assert(client_unreachable(c));
    client_response_cleanup(&r);
    client_free(c);
    kubeconfig_cleanup(&cfg);
    pthread_mutex_destroy(&o.mu);

    struct fx f;
    const struct step steps[] = {{.code = 503}};
    opt = fast_options(&f.obs);
    opt.max_retries = -1;
    fx_start(&f, steps, 1, &opt);
    cr_assert_eq(client_get(f.c, &CLIENT_PODS, "rec", "p", &f.r),
                 ZL_ERR_TRANSIENT);
    cr_assert_eq(f.r.http_code, 503);
    cr_assert_not(client_unreachable(f.c));
    fx_stop(&f);
}

Test(client, body_over_the_limit_is_limit)
{
    struct fx f;
    const struct step steps[] = {{.fixture = "pods-page1"}};
    struct obs dummy;
    struct client_options opt = fast_options(&dummy);
    opt.max_body = 100;
    fx_start(&f, steps, 1, &opt);
    cr_assert_eq(client_list(f.c, &CLIENT_PODS, "rec", NULL, &f.r),
                 ZL_ERR_LIMIT);
    cr_assert_eq(f.r.attempts, 1);
    fx_stop(&f);
}

Test(client, slow_answer_is_timeout)
{
    struct fx f;
    const struct step steps[] = {{.code = 200, .delay_ms = 1500}};
    struct obs dummy;
    struct client_options opt = fast_options(&dummy);
    opt.timeout_ms = 300;
    fx_start(&f, steps, 1, &opt);
    int64_t t0 = clock_mono_ns();
    cr_assert_eq(client_get(f.c, &CLIENT_PODS, "rec", "p", &f.r),
                 ZL_ERR_TIMEOUT);
    cr_expect(since_ms(t0) < 1400);
    fx_stop(&f);
}

static void *cancel_soon(void *arg)
{
    usleep(100 * 1000);
    client_cancel(arg);
    return NULL;
}

Test(client, cancel_ends_a_backoff_wait_and_later_requests)
{
    struct fx f;
    const struct step steps[] = {{.code = 503}, {.code = 200}};
    struct obs dummy;
    struct client_options opt = fast_options(&dummy);
    opt.backoff_base_ms = 10000;
    opt.backoff_max_ms = 10000;
    fx_start(&f, steps, 2, &opt);
    /* The 503 has Retry-After absent, so backoff is up to 10 s. Make it
     * certain: a Retry-After would be used instead. */
    f.rp.steps[0].header = "Retry-After: 30";
    pthread_t th;
    pthread_create(&th, NULL, cancel_soon, f.c);
    int64_t t0 = clock_mono_ns();
    cr_assert_eq(client_get(f.c, &CLIENT_PODS, "rec", "p", &f.r),
                 ZL_ERR_CANCELLED);
    cr_expect(since_ms(t0) < 2000, "cancel took %.1f ms", since_ms(t0));
    pthread_join(th, NULL);
    cr_assert_eq(client_get(f.c, &CLIENT_PODS, "rec", "p", &f.r),
                 ZL_ERR_CANCELLED);
    fx_stop(&f);
}

Test(client, qps_limiter_spaces_requests)
{
    struct fx f;
    const struct step steps[] = {{.code = 200},
                                 {.code = 200},
                                 {.code = 200},
                                 {.code = 200},
                                 {.code = 200}};
    struct obs dummy;
    struct client_options opt = fast_options(&dummy);
    opt.qps = 20;
    opt.burst = 1;
    fx_start(&f, steps, 5, &opt);
    int64_t t0 = clock_mono_ns();
    for (int i = 0; i < 5; i++)
        cr_assert_eq(client_get(f.c, &CLIENT_PODS, "rec", "p", &f.r), ZL_OK);
    double ms = since_ms(t0);
    cr_expect(ms >= 190 && ms < 2000, "5 requests at 20 qps: %.1f ms", ms);
    fx_stop(&f);
}

static void write_token(const char *path, const char *token)
{
    char tmp[512];
    snprintf(tmp, sizeof(tmp), "%s.new", path);
    FILE *fp = fopen(tmp, "w");
    cr_assert(fp != NULL);
    fputs(token, fp);
    fclose(fp);
    cr_assert_eq(rename(tmp, path), 0);
}

Test(client, sends_the_rotated_token)
{
    struct fx f;
    const struct step steps[] = {{.code = 200}, {.code = 200}};
    char tok_path[] = "/tmp/zl-client-token-XXXXXX";
    int fd = mkstemp(tok_path);
    cr_assert(fd >= 0);
    close(fd);
    write_token(tok_path, "token-one\n");
    fx_start(&f, steps, 2, NULL);
    /* Switch the loaded config from the inline token to the file. */
    explicit_bzero(f.cfg.token, strlen(f.cfg.token));
    free(f.cfg.token);
    f.cfg.token = NULL;
    f.cfg.token_file = strdup(tok_path);
    cr_assert_eq(client_get(f.c, &CLIENT_PODS, "rec", "p", &f.r), ZL_OK);
    write_token(tok_path, "token-two-rotated\n");
    cr_assert_eq(client_get(f.c, &CLIENT_PODS, "rec", "p", &f.r), ZL_OK);
    cr_assert_str_eq(f.rp.seen[0].auth, "Bearer token-one");
    cr_assert_str_eq(f.rp.seen[1].auth, "Bearer token-two-rotated");
    fx_stop(&f);
    unlink(tok_path);
}

Test(client, write_verbs_send_the_right_shape)
{
    struct fx f;
    const struct step steps[] = {{.code = 201},
                                 {.code = 200},
                                 {.code = 200},
                                 {.code = 200},
                                 {.code = 200}};
    fx_start(&f, steps, 5, NULL);
    cr_assert_eq(client_create(f.c, &CLIENT_SERVICES, "ns", "{\"a\":1}", &f.r),
                 ZL_OK);
    cr_assert_eq(client_apply(f.c, &CLIENT_SERVICES, "ns", "db-leader", NULL,
                              "{\"b\":2}", "zen-lead", true, &f.r),
                 ZL_OK);
    cr_assert_eq(client_patch(f.c, &CLIENT_PODS, "ns", "p", "status",
                              "application/merge-patch+json", "{}", &f.r),
                 ZL_OK);
    cr_assert_eq(
        client_update(f.c, &CLIENT_LEASES, "ns", "l", NULL, "{}", &f.r), ZL_OK);
    struct client_delete_options d = {.uid = "u-1",
                                      .resource_version = "42",
                                      .grace_period_seconds = 0,
                                      .propagation = "Background"};
    cr_assert_eq(
        client_delete(f.c, &CLIENT_ENDPOINTSLICES, "ns", "s", &d, &f.r), ZL_OK);
    const struct seen *s = f.rp.seen;
    cr_assert_str_eq(s[0].method, "POST");
    cr_assert_str_eq(s[0].url, "/api/v1/namespaces/ns/services");
    cr_assert_str_eq(s[0].ctype, "application/json");
    cr_assert_str_eq(s[0].body, "{\"a\":1}");
    cr_assert_str_eq(s[1].method, "PATCH");
    cr_assert_str_eq(
        s[1].url,
        "/api/v1/namespaces/ns/services/db-leader?fieldManager=zen-lead&force="
        "true");
    cr_assert_str_eq(s[1].ctype, "application/apply-patch+yaml");
    cr_assert_str_eq(s[2].url, "/api/v1/namespaces/ns/pods/p/status");
    cr_assert_str_eq(s[3].method, "PUT");
    cr_assert_str_eq(s[3].url,
                     "/apis/coordination.k8s.io/v1/namespaces/ns/leases/l");
    cr_assert_str_eq(s[4].method, "DELETE");
    cr_assert_str_eq(s[4].body,
                     "{\"kind\":\"DeleteOptions\",\"apiVersion\":\"v1\","
                     "\"preconditions\":{\"uid\":\"u-1\",\"resourceVersion\":"
                     "\"42\"},\"gracePeriodSeconds\":0,\"propagationPolicy\":"
                     "\"Background\"}");
    const char *verbs[] = {"CREATE", "APPLY", "PATCH", "UPDATE", "DELETE"};
    const char *res[] = {"services", "services", "pods", "leases",
                         "endpointslices"};
    for (int i = 0; i < 5; i++) {
        cr_expect_str_eq(f.obs.verbs[i], verbs[i]);
        cr_expect_str_eq(f.obs.resources[i], res[i]);
    }
    fx_stop(&f);
}

Test(client, path_escapes_and_skips_namespace_for_cluster_scope)
{
    struct buf b;
    buf_init(&b, CLIENT_MAX_PATH);
    cr_assert_eq(client_path(&CLIENT_PODS, "a b", "x/y", NULL, &b), ZL_OK);
    cr_assert_str_eq(b.data, "/api/v1/namespaces/a%20b/pods/x%2Fy");
    cr_assert_eq(client_path(&CLIENT_NODES, "ignored", "n1", "status", &b),
                 ZL_OK);
    cr_assert_str_eq(b.data, "/api/v1/nodes/n1/status");
    cr_assert_eq(client_path(&CLIENT_ENDPOINTSLICES, NULL, NULL, NULL, &b),
                 ZL_OK);
    cr_assert_str_eq(b.data, "/apis/discovery.k8s.io/v1/endpointslices");
    buf_cleanup(&b);
}

Test(client, error_table_and_status_decoding)
{
    struct client_status st;
    cr_assert_eq(client_error_for(200, NULL), ZL_OK);
    cr_assert_eq(client_error_for(409, "AlreadyExists"), ZL_ERR_EXISTS);
    cr_assert_eq(client_error_for(409, "Conflict"), ZL_ERR_CONFLICT);
    cr_assert_eq(client_error_for(412, NULL), ZL_ERR_CONFLICT);
    cr_assert_eq(client_error_for(401, NULL), ZL_ERR_FORBIDDEN);
    cr_assert_eq(client_error_for(400, NULL), ZL_ERR_INVALID);
    cr_assert_eq(client_error_for(413, NULL), ZL_ERR_LIMIT);
    cr_assert_eq(client_error_for(429, NULL), ZL_ERR_TRANSIENT);
    cr_assert_eq(client_error_for(504, NULL), ZL_ERR_TRANSIENT);
    cr_assert_eq(client_error_for(0, NULL), ZL_ERR_TRANSIENT);
    cr_assert(!client_decode_status("{\"kind\":\"Pod\"}", 14, &st));
    cr_assert(!client_decode_status("Too many requests", 17, &st));
    static const char expired[] =
        "{\"kind\":\"Status\",\"code\":410,\"reason\":\"Expired\"}";
    cr_assert(client_decode_status(expired, strlen(expired), &st));
    /* One strictness for every parse: no trailing garbage, no comments. */
    cr_assert(!client_decode_status(expired, sizeof(expired), &st));
    static const char lax[] = "{\"kind\":\"Status\",/* c */\"code\":410}";
    cr_assert(!client_decode_status(lax, strlen(lax), &st));
    cr_assert_eq(st.code, 410);
    cr_assert_str_eq(st.reason, "Expired");
}

Test(client, plain_text_429_keeps_http_code_in_status)
{
    struct fx f;
    const struct step steps[] = {{.fixture = "too-many-requests"}};
    struct obs dummy;
    struct client_options opt = fast_options(&dummy);
    opt.max_retries = -1;
    fx_start(&f, steps, 1, &opt);
    cr_assert_eq(client_get(f.c, &CLIENT_PODS, "rec", "p", &f.r),
                 ZL_ERR_TRANSIENT);
    cr_assert_eq(f.r.status.code, 429);
    cr_assert_eq(f.r.retry_after_s, 1);
    cr_assert_str_eq(f.r.status.reason, "");
    fx_stop(&f);
}

/* Leaves a recognisable non-NULL pattern where the next call's locals will
 * be, so a local read before it is set is garbage, not a lucky zero. */
static __attribute__((noinline)) void scribble_stack(void)
{
    volatile unsigned char junk[8192];
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = 0xA5;
}

Test(client, relative_or_overlong_path_is_invalid_and_sends_nothing)
{
    struct fx f;
    const struct step steps[] = {{.code = 200}};
    fx_start(&f, steps, 1, NULL);
    char *long_path = malloc(CLIENT_MAX_PATH + 2);
    cr_assert(long_path != NULL);
    memset(long_path, 'a', CLIENT_MAX_PATH + 1);
    long_path[0] = '/';
    long_path[CLIENT_MAX_PATH + 1] = '\0';
    const char *bad[] = {"api/v1/pods", "", long_path};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        scribble_stack();
        cr_expect_eq(client_request(f.c, "GET", bad[i], NULL, NULL, 0, &f.r),
                     ZL_ERR_INVALID, "path %zu", i);
        cr_expect_eq(f.r.attempts, 0);
    }
    cr_assert_eq(f.rp.count, 0);
    free(long_path);
    fx_stop(&f);
}

/* ---- streams ------------------------------------------------------------ */

struct sink {
    struct buf body;
    long data_code; /* HTTP code seen by the data callback */
    bool stop;      /* the data callback refuses the first piece */
    int done;       /* done callbacks */
    struct client_stream_result result;
};

static bool sink_data(void *ctx, const char *data, size_t len, long code)
{
    struct sink *k = ctx;
    k->data_code = code;
    if (k->stop)
        return false;
    cr_assert_eq(buf_append(&k->body, data, len), ZL_OK);
    return true;
}

static void sink_done(void *ctx, const struct client_stream_result *r)
{
    struct sink *k = ctx;
    k->result = *r;
    k->done++;
}

/* Opens path as a stream on a new multi and runs it to its end. */
static enum zl_err run_stream(struct client *c, const char *path,
                              struct sink *k)
{
    struct client_multi *m = NULL;
    struct client_stream *s = NULL;
    cr_assert_eq(client_multi_new(&m), ZL_OK);
    struct client_stream_options so = {.path = path,
                                       .low_speed_time_s = 5,
                                       .on_data = sink_data,
                                       .on_done = sink_done,
                                       .ctx = k};
    scribble_stack();
    enum zl_err rc = client_stream_open(c, m, &so, &s);
    if (rc == ZL_OK) {
        cr_assert(s != NULL);
        for (int i = 0; i < 1000 && k->done == 0; i++)
            if (client_multi_perform(m) == 0)
                client_multi_wait(m, 10);
        cr_assert_eq(k->done, 1);
    } else {
        cr_assert(s == NULL);
    }
    client_stream_close(s);
    client_multi_free(m);
    return rc;
}

Test(client, stream_reads_a_recorded_page_and_reports_its_end)
{
    struct fx f;
    const struct step steps[] = {{.fixture = "pods-page1"}};
    fx_start(&f, steps, 1, NULL);
    struct sink k = {.done = 0};
    buf_init(&k.body, CLIENT_MAX_BODY);
    cr_assert_eq(run_stream(f.c, "/api/v1/pods?limit=2", &k), ZL_OK);
    cr_assert_eq(k.result.err, ZL_OK, "%s", k.result.message);
    cr_assert_eq(k.result.http_code, 200);
    cr_assert_eq(k.data_code, 200);
    cr_assert(strstr(k.body.data, "\"kind\": \"PodList\"") != NULL);
    cr_assert(strstr(k.body.data, "\"continue\"") != NULL);
    cr_assert_str_eq(f.rp.seen[0].method, "GET");
    cr_assert_str_eq(f.rp.seen[0].url, "/api/v1/pods?limit=2");
    cr_assert_str_eq(f.rp.seen[0].auth, "Bearer secret-token");
    buf_cleanup(&k.body);
    fx_stop(&f);
}

struct stream_case {
    const char *name;
    struct step step;
    bool stop;
    enum zl_err want;
    long code;
};

Test(client, stream_ends_map_to_errors_and_http_codes)
{
    static const struct stream_case cases[] = {
        {"recorded 404", {.fixture = "notfound"}, false, ZL_OK, 404},
        {"recorded 410", {.fixture = "expired"}, false, ZL_OK, 410},
        {"stopped by the data callback",
         {.fixture = "pods-page1"},
         true,
         ZL_ERR_CANCELLED,
         200},
        {"dropped without an answer",
         {.drop = true},
         false,
         ZL_ERR_TRANSIENT,
         0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct fx f;
        fx_start(&f, &cases[i].step, 1, NULL);
        struct sink k = {.stop = cases[i].stop};
        buf_init(&k.body, CLIENT_MAX_BODY);
        cr_assert_eq(run_stream(f.c, "/api/v1/pods?watch=1", &k), ZL_OK);
        cr_expect_eq(k.result.err, cases[i].want, "%s: %s (%s)", cases[i].name,
                     zl_err_str(k.result.err), k.result.message);
        cr_expect_eq(k.result.http_code, cases[i].code, "%s", cases[i].name);
        cr_expect(k.result.message != NULL && k.result.message[0] != '\0');
        buf_cleanup(&k.body);
        fx_stop(&f);
    }
}

Test(client, stream_to_a_closed_port_is_transient)
{
    struct kube_config cfg = {.server = strdup("http://127.0.0.1:1")};
    struct client *c = NULL;
    cr_assert_eq(client_new(&cfg, NULL, &c), ZL_OK);
    struct sink k = {.done = 0};
    buf_init(&k.body, CLIENT_MAX_BODY);
    cr_assert_eq(run_stream(c, "/api/v1/pods", &k), ZL_OK);
    cr_assert_eq(k.result.err, ZL_ERR_TRANSIENT, "%s", k.result.message);
    cr_assert_eq(k.result.http_code, 0);
    buf_cleanup(&k.body);
    client_free(c);
    free(cfg.server);
}

Test(client, stream_with_a_relative_path_is_invalid_and_sends_nothing)
{
    struct fx f;
    const struct step steps[] = {{.code = 200}};
    fx_start(&f, steps, 1, NULL);
    struct sink k = {.done = 0};
    buf_init(&k.body, CLIENT_MAX_BODY);
    cr_assert_eq(run_stream(f.c, "api/v1/pods?watch=1", &k), ZL_ERR_INVALID);
    cr_assert_eq(run_stream(f.c, NULL, &k), ZL_ERR_INVALID);
    cr_assert_eq(k.done, 0);
    cr_assert_eq(f.rp.count, 0);
    client_cancel(f.c);
    cr_assert_eq(run_stream(f.c, "/api/v1/pods", &k), ZL_ERR_CANCELLED);
    buf_cleanup(&k.body);
    fx_stop(&f);
}

Test(client, closing_a_running_stream_calls_nothing_more)
{
    struct fx f;
    const struct step steps[] = {{.code = 200, .delay_ms = 300}};
    fx_start(&f, steps, 1, NULL);
    struct client_multi *m = NULL;
    struct client_stream *s = NULL;
    struct sink k = {.done = 0};
    buf_init(&k.body, CLIENT_MAX_BODY);
    cr_assert_eq(client_multi_new(&m), ZL_OK);
    struct client_stream_options so = {.path = "/api/v1/pods",
                                       .on_data = sink_data,
                                       .on_done = sink_done,
                                       .ctx = &k};
    cr_assert_eq(client_stream_open(f.c, m, &so, &s), ZL_OK);
    for (int i = 0; i < 10; i++) {
        client_multi_perform(m);
        client_multi_wait(m, 10);
    }
    client_stream_close(s);
    for (int i = 0; i < 50; i++) {
        cr_assert_eq(client_multi_perform(m), 0);
        client_multi_wait(m, 10);
    }
    cr_assert_eq(k.done, 0);
    cr_assert_eq(k.body.len, 0);
    client_multi_free(m);
    buf_cleanup(&k.body);
    fx_stop(&f);
}

static void *wake_soon(void *arg)
{
    usleep(50 * 1000);
    client_multi_wakeup(arg);
    return NULL;
}

Test(client, multi_wait_ends_on_wakeup_or_timeout)
{
    struct client_multi *m = NULL;
    cr_assert_eq(client_multi_new(&m), ZL_OK);
    int64_t t0 = clock_mono_ns();
    client_multi_wait(m, 30);
    double ms = since_ms(t0);
    cr_expect(ms >= 25 && ms < 1000, "waited %.1f ms for a 30 ms timeout", ms);
    pthread_t th;
    pthread_create(&th, NULL, wake_soon, m);
    t0 = clock_mono_ns();
    client_multi_wait(m, 5000);
    ms = since_ms(t0);
    pthread_join(th, NULL);
    cr_expect(ms < 2000, "a wakeup took %.1f ms to end the wait", ms);
    client_multi_free(m);
}

Test(client, stream_reserve_takes_tokens_without_waiting)
{
    struct fx f;
    const struct step steps[] = {{.code = 200}};
    struct obs dummy;
    struct client_options opt = fast_options(&dummy);
    opt.qps = 2;
    opt.burst = 1;
    fx_start(&f, steps, 1, &opt);
    int64_t d1 = -1, d2 = -1, d3 = -1;
    int64_t t0 = clock_mono_ns();
    cr_assert_eq(client_stream_reserve(f.c, &d1), ZL_OK);
    cr_assert_eq(client_stream_reserve(f.c, &d2), ZL_OK);
    cr_assert_eq(client_stream_reserve(f.c, &d3), ZL_OK);
    cr_expect(since_ms(t0) < 100, "reserving waited %.1f ms", since_ms(t0));
    cr_expect_eq(d1, 0);
    cr_expect(d2 > 450 * CLOCK_NS_PER_MS && d2 <= 500 * CLOCK_NS_PER_MS,
              "second token in %lld ns", (long long)d2);
    cr_expect(d3 > 950 * CLOCK_NS_PER_MS && d3 <= 1000 * CLOCK_NS_PER_MS,
              "third token in %lld ns", (long long)d3);
    client_cancel(f.c);
    cr_assert_eq(client_stream_reserve(f.c, &d1), ZL_ERR_CANCELLED);
    fx_stop(&f);
}

Test(client, put_query_escapes_values_and_skips_empty_ones)
{
    struct buf b;
    buf_init(&b, CLIENT_MAX_PATH);
    cr_assert_eq(buf_puts(&b, "/api/v1/pods"), ZL_OK);
    cr_assert_eq(client_put_query(&b, "labelSelector", "app=a,tier in (db)"),
                 ZL_OK);
    cr_assert_eq(client_put_query(&b, "continue", ""), ZL_OK);
    cr_assert_eq(client_put_query(&b, "fieldSelector", NULL), ZL_OK);
    cr_assert_eq(client_put_query(&b, "resourceVersion", "12/3~4"), ZL_OK);
    cr_assert_str_eq(b.data, "/api/v1/pods?labelSelector=app%3Da%2Ctier%20in"
                             "%20%28db%29&resourceVersion=12%2F3~4");
    buf_cleanup(&b);
}

/* ---- requests handed to a loop (client_use_multi) ------------------------ */

struct loop {
    struct client_multi *m;
    pthread_t th;
    atomic_bool stop;
};

/* What an event loop does: perform, wait; close the multi at its end. */
static void *loop_main(void *arg)
{
    struct loop *l = arg;
    while (!atomic_load(&l->stop))
        if (client_multi_perform(l->m) == 0)
            client_multi_wait(l->m, 10);
    client_multi_close(l->m);
    return NULL;
}

static void loop_start(struct loop *l)
{
    atomic_store(&l->stop, false);
    cr_assert_eq(pthread_create(&l->th, NULL, loop_main, l), 0);
}

static void loop_stop(struct loop *l)
{
    atomic_store(&l->stop, true);
    client_multi_wakeup(l->m);
    pthread_join(l->th, NULL);
}

struct bg_get {
    struct client *c;
    struct client_response r;
    enum zl_err rc;
    atomic_bool done;
};

static void *bg_get_main(void *arg)
{
    struct bg_get *g = arg;
    g->rc = client_get(g->c, &CLIENT_PODS, "rec", "p", &g->r);
    atomic_store(&g->done, true);
    return NULL;
}

static void bg_get_start(struct bg_get *g, struct client *c, pthread_t *th)
{
    g->c = c;
    client_response_init(&g->r);
    atomic_store(&g->done, false);
    cr_assert_eq(pthread_create(th, NULL, bg_get_main, g), 0);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

Test(client, a_request_on_a_multi_waits_for_its_loop_and_keeps_retries)
{
    struct fx f;
    const struct step steps[] = {{.code = 503}, {.fixture = "pods-page1"}};
    fx_start(&f, steps, 2, NULL);
    struct loop l = {0};
    cr_assert_eq(client_multi_new(&l.m), ZL_OK);
    client_use_multi(f.c, l.m);
    struct bg_get g;
    pthread_t th;
    bg_get_start(&g, f.c, &th);
    sleep_ms(200);
    cr_assert_not(atomic_load(&g.done), "ran without the loop");
    cr_assert_eq(f.rp.count, 0);
    loop_start(&l);
    pthread_join(th, NULL);
    cr_assert_eq(g.rc, ZL_OK, "%s", g.r.status.message);
    cr_assert_eq(g.r.http_code, 200);
    cr_assert_eq(g.r.attempts, 2, "the 503 was retried");
    cr_assert(strstr(g.r.body.data, "\"kind\": \"PodList\"") != NULL);
    client_response_cleanup(&g.r);
    loop_stop(&l);
    client_multi_free(l.m);
    fx_stop(&f);
}

Test(client, a_request_not_taken_when_the_loop_closes_runs_on_its_own)
{
    struct fx f;
    const struct step steps[] = {{.fixture = "pods-page1"}, {.code = 404}};
    fx_start(&f, steps, 2, NULL);
    struct client_multi *m = NULL;
    cr_assert_eq(client_multi_new(&m), ZL_OK);
    client_use_multi(f.c, m);
    struct bg_get g;
    pthread_t th;
    bg_get_start(&g, f.c, &th);
    sleep_ms(100); /* handed over; no loop takes it */
    client_multi_close(m);
    pthread_join(th, NULL);
    cr_assert_eq(g.rc, ZL_OK, "%s", g.r.status.message);
    cr_assert_eq(g.r.http_code, 200);
    client_response_cleanup(&g.r);
    /* Closed: the next request does not wait either. */
    cr_assert_eq(client_get(f.c, &CLIENT_PODS, "rec", "p", &f.r),
                 ZL_ERR_NOTFOUND);
    client_multi_free(m);
    fx_stop(&f);
}

Test(client, a_request_in_flight_when_the_loop_ends_is_cancelled)
{
    struct fx f;
    const struct step steps[] = {{.code = 200, .delay_ms = 1500}};
    fx_start(&f, steps, 1, NULL);
    struct loop l = {0};
    cr_assert_eq(client_multi_new(&l.m), ZL_OK);
    client_use_multi(f.c, l.m);
    loop_start(&l);
    struct bg_get g;
    pthread_t th;
    bg_get_start(&g, f.c, &th);
    sleep_ms(300); /* sent, the answer is 1.5 s away */
    int64_t t0 = clock_mono_ns();
    loop_stop(&l);
    pthread_join(th, NULL);
    cr_assert_eq(g.rc, ZL_ERR_CANCELLED, "%s", zl_err_str(g.rc));
    cr_expect(since_ms(t0) < 1000, "did not wait for the answer");
    client_response_cleanup(&g.r);
    client_use_multi(f.c, NULL);
    client_multi_free(l.m);
    fx_stop(&f);
}

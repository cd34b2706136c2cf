/* SPDX-License-Identifier: Apache-2.0 */
/* Informer state machine against a loopback replay server that answers
 * requests, in order, with responses recorded from a real API server
 * (tests/data/watch/): paging, watch parameters, resume from the last RV,
 * relist on 410 both ways and on too large RV, expired continue tokens, a
 * silent watch, oversized events, selectors and namespace scoping. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "kube/client.h"
#include "kube/informer.h"
#include "kube/store.h"
#include "kube/views.h"
#include "testutil.h"

#define MAX_PATHS 32

struct reply {
    int status;
    const char *file; /* under tests/data, or NULL */
    const char *text; /* inline body when file is NULL */
    size_t chunk;     /* write in pieces of this many bytes; 0: whole */
};

struct replay {
    int fd;
    int port;
    pthread_t thread;
    atomic_bool stop;
    const struct reply *replies;
    size_t reply_count;
    pthread_mutex_t mu;
    char paths[MAX_PATHS][2048];
    size_t path_count;
};

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

/* Waits until the client closes the connection or the server stops. */
static void hold_open(struct replay *r, int fd)
{
    while (!atomic_load(&r->stop)) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 50) > 0) {
            char tmp[256];
            if (recv(fd, tmp, sizeof(tmp), 0) <= 0)
                return;
        }
    }
}

static void serve_one(struct replay *r, int fd)
{
    char req[4096];
    size_t got = 0;
    while (got < sizeof(req) - 1) {
        ssize_t n = recv(fd, req + got, sizeof(req) - 1 - got, 0);
        if (n <= 0)
            return;
        got += (size_t)n;
        req[got] = '\0';
        if (strstr(req, "\r\n\r\n") != NULL)
            break;
    }
    char path[2048] = "";
    sscanf(req, "GET %2047s", path);
    pthread_mutex_lock(&r->mu);
    size_t i = r->path_count;
    if (r->path_count < MAX_PATHS)
        snprintf(r->paths[r->path_count++], sizeof(r->paths[0]), "%s", path);
    pthread_mutex_unlock(&r->mu);
    if (i >= r->reply_count) {
        /* Out of script: an idle watch that never sends a byte. */
        char head[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                      "Connection: close\r\n\r\n";
        write_all(fd, head, strlen(head));
        hold_open(r, fd);
        return;
    }
    const struct reply *rep = &r->replies[i];
    size_t len = 0;
    char *body = rep->file != NULL ? testutil_read(rep->file, &len)
                                   : strdup(rep->text != NULL ? rep->text : "");
    if (rep->file == NULL)
        len = strlen(body);
    char head[256];
    snprintf(head, sizeof(head),
             "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
             "Connection: close\r\n\r\n",
             rep->status);
    write_all(fd, head, strlen(head));
    size_t step = rep->chunk == 0 ? len : rep->chunk;
    for (size_t at = 0; at < len; at += step) {
        write_all(fd, body + at, len - at < step ? len - at : step);
        if (rep->chunk != 0)
            sleep_ms(1);
    }
    free(body);
}

static void *replay_main(void *arg)
{
    struct replay *r = arg;
    while (!atomic_load(&r->stop)) {
        struct pollfd p = {r->fd, POLLIN, 0};
        if (poll(&p, 1, 50) <= 0)
            continue;
        int c = accept(r->fd, NULL, NULL);
        if (c < 0)
            continue;
        serve_one(r, c);
        close(c);
    }
    return NULL;
}

static void replay_start(struct replay *r, const struct reply *replies,
                         size_t count)
{
    memset(r, 0, sizeof(*r));
    r->replies = replies;
    r->reply_count = count;
    pthread_mutex_init(&r->mu, NULL);
    r->fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(r->fd, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(bind(r->fd, (struct sockaddr *)&a, sizeof(a)), 0);
    cr_assert_eq(listen(r->fd, 8), 0);
    socklen_t al = sizeof(a);
    getsockname(r->fd, (struct sockaddr *)&a, &al);
    r->port = ntohs(a.sin_port);
    pthread_create(&r->thread, NULL, replay_main, r);
}

static void replay_stop(struct replay *r)
{
    atomic_store(&r->stop, true);
    pthread_join(r->thread, NULL);
    close(r->fd);
    pthread_mutex_destroy(&r->mu);
}

static size_t replay_paths(struct replay *r)
{
    pthread_mutex_lock(&r->mu);
    size_t n = r->path_count;
    pthread_mutex_unlock(&r->mu);
    return n;
}

/* Counts of handler calls (the loop thread writes, the test reads). */
struct counts {
    atomic_int added;
    atomic_int updated;
    atomic_int deleted;
};

static void on_change(void *ctx, enum store_change change, const void *old_view,
                      const void *new_view)
{
    struct counts *c = ctx;
    const struct views_pod *o = old_view;
    const struct views_pod *n = new_view;
    switch (change) {
    case STORE_ADDED:
        cr_assert(o == NULL && n != NULL);
        atomic_fetch_add(&c->added, 1);
        break;
    case STORE_UPDATED:
        cr_assert(o != NULL && n != NULL);
        cr_assert_str_eq(o->meta.name, n->meta.name);
        atomic_fetch_add(&c->updated, 1);
        break;
    case STORE_DELETED:
        cr_assert(o != NULL && n == NULL);
        atomic_fetch_add(&c->deleted, 1);
        break;
    }
}

struct rig {
    struct replay server;
    struct kube_config cfg;
    struct client *client;
    struct informer_loop *loop;
    struct informer *inf;
    struct counts counts;
};

static void rig_start(struct rig *g, const struct reply *replies, size_t count,
                      struct informer_options *opt)
{
    memset(g, 0, sizeof(*g));
    replay_start(&g->server, replies, count);
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", g->server.port);
    g->cfg.server = strdup(url);
    cr_assert_eq(client_new(&g->cfg, NULL, &g->client), ZL_OK);
    cr_assert_eq(informer_loop_new(&g->loop), ZL_OK);
    opt->resource = &CLIENT_PODS;
    opt->kind = VIEWS_KIND_POD;
    opt->handler = on_change;
    opt->handler_ctx = &g->counts;
    cr_assert_eq(informer_new(g->loop, g->client, opt, &g->inf), ZL_OK);
    cr_assert_eq(informer_loop_start(g->loop), ZL_OK);
}

static void rig_stop(struct rig *g)
{
    informer_loop_stop(g->loop);
    informer_free(g->inf);
    informer_loop_free(g->loop);
    client_free(g->client);
    replay_stop(&g->server);
    free(g->cfg.server);
}

/* Polls until at least n requests arrived. */
static void wait_requests(struct rig *g, size_t n, long timeout_ms)
{
    for (long t = 0; replay_paths(&g->server) < n; t += 10) {
        cr_assert_lt(t, timeout_ms, "only %zu of %zu requests",
                     replay_paths(&g->server), n);
        sleep_ms(10);
    }
}

static const char *path_at(struct rig *g, size_t i)
{
    return g->server.paths[i];
}

static bool has_pod(struct rig *g, const char *name)
{
    const void *v = store_get(informer_store(g->inf), "rec-d2cf8f", name);
    store_release(informer_store(g->inf), v);
    return v != NULL;
}

#define PAGE1                                                                  \
    {                                                                          \
        200, "watch/list-page1.json", NULL, 0                                  \
    }
#define PAGE2                                                                  \
    {                                                                          \
        200, "watch/list-page2.json", NULL, 0                                  \
    }

Test(informer, lists_pages_then_watches_and_resumes_from_the_last_rv)
{
    static const struct reply script[] = {
        PAGE1,
        PAGE2,
        {200, "watch/stream-basic.jsonl", NULL, 37},
    };
    struct rig g;
    struct informer_options opt = {0};
    rig_start(&g, script, 3, &opt);
    cr_assert_eq(informer_wait_synced(g.inf, 5000), ZL_OK);
    wait_requests(&g, 4, 5000);
    /* Paged list, then watch from the list's RV with bookmarks and a
     * timeout in [300, 600], then watch again from the last bookmark. */
    cr_assert_str_eq(path_at(&g, 0), "/api/v1/pods?limit=500");
    cr_assert(strstr(path_at(&g, 1), "limit=500&continue=eyJ2") != NULL);
    const char *w = path_at(&g, 2);
    const char *want = "/api/v1/pods?watch=1&allowWatchBookmarks=true"
                       "&timeoutSeconds=";
    cr_assert(strncmp(w, want, strlen(want)) == 0, "%s", w);
    long timeout = strtol(w + strlen(want), NULL, 10);
    cr_assert(timeout >= 300 && timeout <= 600);
    cr_assert(strstr(w, "&resourceVersion=242") != NULL, "%s", w);
    cr_assert(strstr(path_at(&g, 3), "&resourceVersion=248") != NULL, "%s",
              path_at(&g, 3));
    cr_assert(has_pod(&g, "p1") && has_pod(&g, "p2") && has_pod(&g, "p4"));
    cr_assert(!has_pod(&g, "p3"));
    cr_assert_eq(store_count(informer_store(g.inf)), 3);
    const struct views_pod *p1 =
        store_get(informer_store(g.inf), "rec-d2cf8f", "p1");
    cr_assert_str_eq(views_map_get(&p1->meta.labels, "tier"), "db");
    store_release(informer_store(g.inf), p1);
    cr_assert_eq(atomic_load(&g.counts.added), 4);
    cr_assert_eq(atomic_load(&g.counts.updated), 3);
    cr_assert_eq(atomic_load(&g.counts.deleted), 1);
    struct informer_stats st;
    informer_get_stats(g.inf, &st);
    cr_assert_eq(st.lists, 1);
    cr_assert_eq(st.events, 8);
    cr_assert_eq(st.watch_restarts, 1);
    cr_assert_eq(st.watch_errors, 0);
    rig_stop(&g);
}

static void assert_relisted(struct rig *g, size_t relist_at)
{
    wait_requests(g, relist_at + 2, 5000);
    /* A fresh list (no continue, consistent read), then a watch from it. */
    cr_assert_str_eq(path_at(g, relist_at), "/api/v1/pods?limit=500");
    cr_assert(strstr(path_at(g, relist_at + 1), "watch=1") != NULL);
    /* Only p3 is left: p1 and p2 were deleted meanwhile, p3 unchanged. */
    cr_assert_eq(store_count(informer_store(g->inf)), 1);
    cr_assert(has_pod(g, "p3"));
    cr_assert_eq(atomic_load(&g->counts.added), 3);
    cr_assert_eq(atomic_load(&g->counts.deleted), 2);
    cr_assert_eq(atomic_load(&g->counts.updated), 0);
    struct informer_stats st;
    informer_get_stats(g->inf, &st);
    cr_assert_eq(st.lists, 2);
    cr_assert_eq(st.relists_gone, 1);
}

Test(informer, relists_on_410_error_event_and_emits_deletes)
{
    static const struct reply script[] = {
        PAGE1,
        PAGE2,
        {200, "watch/stream-expired.jsonl", NULL, 5},
        PAGE2,
    };
    struct rig g;
    struct informer_options opt = {0};
    rig_start(&g, script, 4, &opt);
    assert_relisted(&g, 3);
    rig_stop(&g);
}

Test(informer, relists_on_http_410)
{
    static const struct reply script[] = {
        PAGE1,
        PAGE2,
        {410, "watch/http-410.json", NULL, 0},
        PAGE2,
    };
    struct rig g;
    struct informer_options opt = {0};
    rig_start(&g, script, 4, &opt);
    assert_relisted(&g, 3);
    rig_stop(&g);
}

Test(informer, relists_on_too_large_resource_version)
{
    static const struct reply script[] = {
        PAGE1,
        PAGE2,
        {504, NULL,
         "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
         "\"status\":\"Failure\",\"message\":\"Timeout: Too large resource "
         "version: 99999999, current: 237\",\"reason\":\"Timeout\","
         "\"code\":504}",
         0},
        PAGE2,
    };
    struct rig g;
    struct informer_options opt = {0};
    rig_start(&g, script, 4, &opt);
    assert_relisted(&g, 3);
    rig_stop(&g);
}

Test(informer, expired_continue_token_restarts_the_list_without_limit)
{
    static const struct reply script[] = {
        PAGE1,
        {410, "watch/http-410.json", NULL, 0},
        PAGE2,
    };
    struct rig g;
    struct informer_options opt = {0};
    rig_start(&g, script, 3, &opt);
    cr_assert_eq(informer_wait_synced(g.inf, 5000), ZL_OK);
    cr_assert_str_eq(path_at(&g, 2), "/api/v1/pods?limit=0");
    /* Nothing of the abandoned first page reached the store. */
    cr_assert_eq(store_count(informer_store(g.inf)), 1);
    cr_assert_eq(atomic_load(&g.counts.added), 1);
    rig_stop(&g);
}

Test(informer, silent_watch_is_restarted_from_the_same_rv)
{
    static const struct reply script[] = {PAGE2};
    struct rig g;
    struct informer_options opt = {0};
    opt.idle_max_ms = 300;
    rig_start(&g, script, 1, &opt);
    /* Idle limit 300 ms, then a backoff of 0.8 to 1.6 s. */
    wait_requests(&g, 3, 5000);
    cr_assert(strstr(path_at(&g, 1), "resourceVersion=242") != NULL);
    cr_assert(strstr(path_at(&g, 2), "watch=1") != NULL);
    cr_assert(strstr(path_at(&g, 2), "resourceVersion=242") != NULL);
    struct informer_stats st;
    informer_get_stats(g.inf, &st);
    cr_assert_geq(st.watch_errors, 1);
    cr_assert_eq(st.lists, 1);
    rig_stop(&g);
}

Test(informer, oversized_event_fails_the_watch_which_resumes_before_it)
{
    static const struct reply script[] = {
        PAGE1,
        PAGE2,
        {200, "watch/stream-basic.jsonl", NULL, 512},
    };
    struct rig g;
    struct informer_options opt = {0};
    opt.max_event = 1024; /* every pod event is larger */
    rig_start(&g, script, 3, &opt);
    wait_requests(&g, 4, 5000);
    cr_assert(strstr(path_at(&g, 3), "resourceVersion=242") != NULL, "%s",
              path_at(&g, 3));
    cr_assert_eq(store_count(informer_store(g.inf)), 3);
    cr_assert(has_pod(&g, "p3"));
    struct informer_stats st;
    informer_get_stats(g.inf, &st);
    cr_assert_eq(st.watch_errors, 1);
    cr_assert_eq(st.events, 0);
    rig_stop(&g);
}

Test(informer, selectors_and_namespace_shape_the_requests)
{
    static const struct reply script[] = {PAGE2};
    struct rig g;
    struct informer_options opt = {0};
    opt.namespace_name = "rec-d2cf8f";
    opt.label_selector = "app=rec,tier in (db)";
    opt.field_selector = "status.phase=Pending";
    opt.page_limit = 2;
    opt.watch_timeout_s = 7;
    rig_start(&g, script, 1, &opt);
    wait_requests(&g, 2, 5000);
    cr_assert_str_eq(path_at(&g, 0),
                     "/api/v1/namespaces/rec-d2cf8f/pods?limit=2"
                     "&labelSelector=app%3Drec%2Ctier%20in%20%28db%29"
                     "&fieldSelector=status.phase%3DPending");
    cr_assert_str_eq(path_at(&g, 1),
                     "/api/v1/namespaces/rec-d2cf8f/pods?watch=1"
                     "&allowWatchBookmarks=true&timeoutSeconds=7"
                     "&resourceVersion=242"
                     "&labelSelector=app%3Drec%2Ctier%20in%20%28db%29"
                     "&fieldSelector=status.phase%3DPending");
    rig_stop(&g);
}

Test(informer, server_errors_back_off_then_retry_the_list)
{
    static const struct reply script[] = {
        {500, NULL, "{\"kind\":\"Status\",\"code\":500}", 0},
        PAGE2,
    };
    struct rig g;
    struct informer_options opt = {0};
    rig_start(&g, script, 2, &opt);
    cr_assert_eq(informer_wait_synced(g.inf, 5000), ZL_OK);
    cr_assert_str_eq(path_at(&g, 1), "/api/v1/pods?limit=500");
    rig_stop(&g);
}

Test(informer, watch_error_without_a_body_backs_off_and_watches_again)
{
    static const struct reply script[] = {
        PAGE2,
        {503, NULL, "", 0},
    };
    struct rig g;
    struct informer_options opt = {0};
    rig_start(&g, script, 2, &opt);
    wait_requests(&g, 3, 5000);
    cr_assert(strstr(path_at(&g, 2), "watch=1") != NULL, "%s", path_at(&g, 2));
    cr_assert(strstr(path_at(&g, 2), "resourceVersion=242") != NULL);
    struct informer_stats st;
    informer_get_stats(g.inf, &st);
    cr_assert_eq(st.watch_errors, 1);
    cr_assert_eq(st.lists, 1);
    rig_stop(&g);
}

Test(informer, pause_stops_watching_and_resume_continues_from_the_rv)
{
    static const struct reply script[] = {PAGE2};
    struct rig g;
    struct informer_options opt = {0};
    rig_start(&g, script, 1, &opt);
    wait_requests(&g, 2, 5000);
    informer_pause(g.inf);
    sleep_ms(200);
    size_t n = replay_paths(&g.server);
    sleep_ms(300);
    cr_assert_eq(replay_paths(&g.server), n);
    informer_resume(g.inf);
    wait_requests(&g, n + 1, 5000);
    cr_assert(strstr(path_at(&g, n), "resourceVersion=242") != NULL);
    rig_stop(&g);
}

Test(informer, backoff_doubles_with_jitter_caps_and_resets)
{
    struct informer_backoff b = {0};
    cr_assert_eq(informer_backoff_next(&b, 1000, 0.0), 800);
    cr_assert_eq(informer_backoff_next(&b, 2000, 0.0), 1600);
    cr_assert_eq(informer_backoff_next(&b, 3000, 0.5), 4800);
    cr_assert_eq(informer_backoff_next(&b, 4000, 0.0), 6400);
    cr_assert_eq(informer_backoff_next(&b, 5000, 0.0), 12800);
    cr_assert_eq(informer_backoff_next(&b, 6000, 0.0), 25600);
    cr_assert_eq(informer_backoff_next(&b, 7000, 0.0), 30000);
    cr_assert_eq(informer_backoff_next(&b, 8000, 0.99), 30000);
    /* Healthy for more than two minutes: start over. */
    cr_assert_eq(informer_backoff_next(&b, 8000 + 120001, 0.25), 1000);
}

/* ---- a saturated limiter ------------------------------------------------
 * A server that answers connections concurrently, routed by what is asked:
 * writes get 200 at once, the "churn" informer's watches close at once (so
 * it asks for a new one, and a token, all the time), and the "quiet"
 * informer's watch is held open for the test to send events on. */

#define BUSY_MAX_CONNS 256
#define BUSY_EVENTS 5

struct busy {
    int fd;
    int port;
    pthread_t thread;
    atomic_bool stop;
    pthread_mutex_t mu;
    pthread_t conns[BUSY_MAX_CONNS];
    size_t conn_count;
    int watch_fd; /* the quiet informer's open watch, or -1 */
    atomic_int writes;
    atomic_int churn_watches;
};

struct busy_conn {
    struct busy *b;
    int fd;
};

/* Reads the request head and any body; false when the peer went away. */
static bool busy_read_request(int fd, char *req, size_t cap)
{
    size_t got = 0;
    char *end = NULL;
    while (end == NULL && got < cap - 1) {
        ssize_t n = recv(fd, req + got, cap - 1 - got, 0);
        if (n <= 0)
            return false;
        got += (size_t)n;
        req[got] = '\0';
        end = strstr(req, "\r\n\r\n");
    }
    if (end == NULL)
        return false;
    /* The client spells the header this way. */
    const char *cl = strstr(req, "\r\nContent-Length:");
    long want = cl != NULL ? strtol(cl + 17, NULL, 10) : 0;
    long have = (long)(got - (size_t)(end + 4 - req));
    char sink[256];
    while (have < want) {
        ssize_t n = recv(fd, sink, sizeof(sink), 0);
        if (n <= 0)
            return false;
        have += n;
    }
    return true;
}

static void busy_answer(int fd, const char *body, size_t len)
{
    char head[160];
    snprintf(head, sizeof(head),
             "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
             "Connection: close\r\n\r\n");
    write_all(fd, head, strlen(head));
    write_all(fd, body, len);
}

static void busy_hold_watch(struct busy *b, int fd)
{
    busy_answer(fd, "", 0);
    pthread_mutex_lock(&b->mu);
    b->watch_fd = fd;
    pthread_mutex_unlock(&b->mu);
    while (!atomic_load(&b->stop)) {
        struct pollfd p = {fd, POLLIN, 0};
        char tmp[256];
        if (poll(&p, 1, 50) > 0 && recv(fd, tmp, sizeof(tmp), 0) <= 0)
            break;
    }
    pthread_mutex_lock(&b->mu);
    b->watch_fd = -1;
    pthread_mutex_unlock(&b->mu);
}

static void *busy_conn_main(void *arg)
{
    struct busy_conn *bc = arg;
    struct busy *b = bc->b;
    char req[4096];
    if (!busy_read_request(bc->fd, req, sizeof(req)))
        goto out;
    bool watch = strstr(req, "watch=1") != NULL;
    if (strncmp(req, "GET ", 4) != 0) {
        busy_answer(bc->fd, "{}", 2);
        atomic_fetch_add(&b->writes, 1);
    } else if (watch && strstr(req, "/namespaces/churn/") != NULL) {
        busy_answer(bc->fd, "", 0); /* a clean, immediate close */
        atomic_fetch_add(&b->churn_watches, 1);
    } else if (watch) {
        busy_hold_watch(b, bc->fd);
    } else {
        size_t len = 0;
        char *page = testutil_read("watch/list-page2.json", &len);
        busy_answer(bc->fd, page, len);
        free(page);
    }
out:
    close(bc->fd);
    free(bc);
    return NULL;
}

static void *busy_main(void *arg)
{
    struct busy *b = arg;
    while (!atomic_load(&b->stop)) {
        struct pollfd p = {b->fd, POLLIN, 0};
        if (poll(&p, 1, 50) <= 0)
            continue;
        int c = accept(b->fd, NULL, NULL);
        if (c < 0)
            continue;
        struct busy_conn *bc = malloc(sizeof(*bc));
        cr_assert(bc != NULL);
        *bc = (struct busy_conn){b, c};
        pthread_mutex_lock(&b->mu);
        cr_assert_lt(b->conn_count, BUSY_MAX_CONNS);
        pthread_create(&b->conns[b->conn_count++], NULL, busy_conn_main, bc);
        pthread_mutex_unlock(&b->mu);
    }
    for (size_t i = 0; i < b->conn_count; i++)
        pthread_join(b->conns[i], NULL);
    return NULL;
}

static void busy_start(struct busy *b)
{
    memset(b, 0, sizeof(*b));
    b->watch_fd = -1;
    pthread_mutex_init(&b->mu, NULL);
    b->fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(b->fd, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(bind(b->fd, (struct sockaddr *)&a, sizeof(a)), 0);
    cr_assert_eq(listen(b->fd, 64), 0);
    socklen_t al = sizeof(a);
    getsockname(b->fd, (struct sockaddr *)&a, &al);
    b->port = ntohs(a.sin_port);
    pthread_create(&b->thread, NULL, busy_main, b);
}

static void busy_stop(struct busy *b)
{
    atomic_store(&b->stop, true);
    pthread_join(b->thread, NULL);
    close(b->fd);
    pthread_mutex_destroy(&b->mu);
}

/* When each quiet event reached the handler (monotonic ns, 0: not yet). */
struct arrivals {
    _Atomic int64_t at[BUSY_EVENTS];
};

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void on_quiet(void *ctx, enum store_change change, const void *old_view,
                     const void *new_view)
{
    struct arrivals *a = ctx;
    const struct views_pod *n = new_view;
    (void)old_view;
    int i = -1;
    if (change == STORE_ADDED && sscanf(n->meta.name, "event-%d", &i) == 1 &&
        i >= 0 && i < BUSY_EVENTS)
        atomic_store(&a->at[i], mono_ns());
}

struct writer {
    struct client *client;
    atomic_bool stop;
    atomic_int done;
};

/* Writes as fast as the limiter lets it, so the budget is always used up. */
static void *writer_main(void *arg)
{
    struct writer *w = arg;
    while (!atomic_load(&w->stop)) {
        struct client_response r;
        client_response_init(&r);
        client_update(w->client, &CLIENT_CONFIGMAPS, "w", "cm", NULL, "{}", &r);
        client_response_cleanup(&r);
        atomic_fetch_add(&w->done, 1);
    }
    return NULL;
}

static int busy_watch_fd(struct busy *b)
{
    pthread_mutex_lock(&b->mu);
    int fd = b->watch_fd;
    pthread_mutex_unlock(&b->mu);
    return fd;
}

/* Sends event i on the quiet watch; returns when it was sent. */
static int64_t send_quiet_event(struct busy *b, int i)
{
    char line[512];
    int n =
        snprintf(line, sizeof(line),
                 "{\"type\":\"ADDED\",\"object\":{\"kind\":\"Pod\","
                 "\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"event-%d\","
                 "\"namespace\":\"quiet\",\"uid\":\"u-%d\","
                 "\"resourceVersion\":\"%d\"}}}\n",
                 i, i, 300 + i);
    int fd = busy_watch_fd(b);
    cr_assert_geq(fd, 0, "the quiet watch is not open");
    int64_t t = mono_ns();
    write_all(fd, line, (size_t)n);
    return t;
}

static void new_pod_informer(struct informer_loop *l, struct client *c,
                             const char *ns, informer_handler_fn handler,
                             void *ctx, struct informer **out)
{
    struct informer_options opt = {.resource = &CLIENT_PODS,
                                   .kind = VIEWS_KIND_POD,
                                   .namespace_name = ns,
                                   .handler = handler,
                                   .handler_ctx = ctx};
    cr_assert_eq(informer_new(l, c, &opt, out), ZL_OK);
}

Test(informer, watch_events_flow_while_writes_use_up_the_limiter, .timeout = 60)
{
    struct busy b;
    busy_start(&b);
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", b.port);
    struct kube_config cfg = {.server = strdup(url)};
    struct client_options copt = {.qps = 1, .burst = 1, .max_retries = -1};
    struct client *client = NULL;
    cr_assert_eq(client_new(&cfg, &copt, &client), ZL_OK);
    struct writer w = {.client = client};
    pthread_t wt;
    pthread_create(&wt, NULL, writer_main, &w);
    struct informer_loop *loop = NULL;
    struct informer *churn = NULL, *quiet = NULL;
    struct arrivals arr = {0};
    cr_assert_eq(informer_loop_new(&loop), ZL_OK);
    new_pod_informer(loop, client, "churn", NULL, NULL, &churn);
    new_pod_informer(loop, client, "quiet", on_quiet, &arr, &quiet);
    cr_assert_eq(informer_loop_start(loop), ZL_OK);
    for (long t = 0; busy_watch_fd(&b) < 0; t += 10) {
        cr_assert_lt(t, 20000, "the quiet informer never watched");
        sleep_ms(10);
    }
    /* Everything runs and competes for the one token a second. */
    for (long t = 0;
         atomic_load(&b.churn_watches) < 1 || atomic_load(&w.done) < 1;
         t += 10) {
        cr_assert_lt(t, 20000, "the churn informer or the writer is stuck");
        sleep_ms(10);
    }
    int writes0 = atomic_load(&b.writes);
    int churns0 = atomic_load(&b.churn_watches);
    double worst_ms = 0;
    for (int i = 0; i < BUSY_EVENTS; i++) {
        sleep_ms(500 + 70 * i); /* land at different points of the budget */
        int64_t sent = send_quiet_event(&b, i);
        for (long t = 0; atomic_load(&arr.at[i]) == 0; t++) {
            cr_assert_lt(t, 10000, "event %d never reached the handler", i);
            sleep_ms(1);
        }
        double ms = (double)(atomic_load(&arr.at[i]) - sent) / 1e6;
        worst_ms = ms > worst_ms ? ms : worst_ms;
        cr_log_info("event %d: %.2f ms to the handler", i, ms);
    }
    int writes = atomic_load(&b.writes) - writes0;
    int churns = atomic_load(&b.churn_watches) - churns0;
    printf("limiter saturated (qps=1 burst=1; meanwhile %d writes, %d churn "
           "watches): slowest of %d watch events took %.2f ms to its "
           "handler\n",
           writes, churns, BUSY_EVENTS, worst_ms);
    cr_expect_geq(writes, 1, "the writer did not keep the limiter busy");
    cr_expect_geq(churns, 1, "the churn informer did not ask for tokens");
    cr_expect_lt(worst_ms, 50.0, "a watch event waited %.2f ms", worst_ms);
    atomic_store(&w.stop, true);
    client_cancel(client);
    pthread_join(wt, NULL);
    informer_loop_stop(loop);
    informer_free(churn);
    informer_free(quiet);
    informer_loop_free(loop);
    client_free(client);
    busy_stop(&b);
    free(cfg.server);
}

Test(informer, list_and_watch_starts_still_obey_the_client_limiter)
{
    struct busy b;
    busy_start(&b);
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", b.port);
    struct kube_config cfg = {.server = strdup(url)};
    struct client_options copt = {.qps = 10, .burst = 1};
    struct client *client = NULL;
    cr_assert_eq(client_new(&cfg, &copt, &client), ZL_OK);
    struct informer_loop *loop = NULL;
    struct informer *churn = NULL;
    cr_assert_eq(informer_loop_new(&loop), ZL_OK);
    new_pod_informer(loop, client, "churn", NULL, NULL, &churn);
    cr_assert_eq(informer_loop_start(loop), ZL_OK);
    for (long t = 0; atomic_load(&b.churn_watches) < 1; t += 10) {
        cr_assert_lt(t, 20000, "the informer never watched");
        sleep_ms(10);
    }
    int64_t t0 = mono_ns();
    int w0 = atomic_load(&b.churn_watches);
    sleep_ms(1000);
    int watches = atomic_load(&b.churn_watches) - w0;
    double s = (double)(mono_ns() - t0) / 1e9;
    informer_loop_stop(loop);
    /* A watch that closes at once, again and again: at 10 qps with a
     * burst of 1 that is at most 10 starts a second (+1 for the edges). */
    printf("10 qps: %d watches in %.2f s\n", watches, s);
    cr_expect_leq(watches, (int)(10 * s) + 1, "%d watches in %.2f s", watches,
                  s);
    cr_expect_geq(watches, 2, "%d watches in %.2f s", watches, s);
    informer_free(churn);
    informer_loop_free(loop);
    client_free(client);
    busy_stop(&b);
    free(cfg.server);
}

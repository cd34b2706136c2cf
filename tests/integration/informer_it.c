/* SPDX-License-Identifier: Apache-2.0 */
/* Informers against a real API server (run by tests/integration/run): sync
 * of 2,000 pods, watch convergence with label-selector exits, resume after
 * the API server restarts, relist after a forced 410. Each test compares
 * the informer's store with a fresh list from the server (names and
 * resourceVersions) and prints the times it measured. Restarts and etcd
 * compaction go through e2e/cluster/restart-apiserver and compact. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <json-c/json.h>
#include <pthread.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "kube/client.h"
#include "kube/informer.h"
#include "kube/kubeconfig.h"
#include "kube/store.h"
#include "kube/views.h"

extern char **environ;

struct counts {
    atomic_long added;
    atomic_long updated;
    atomic_long deleted;
};

struct it {
    struct kube_config cfg;
    struct client *c;
    char ns[64];
    struct informer_loop *loop;
    struct informer *inf;
    struct counts counts;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void on_change(void *ctx, enum store_change change, const void *old_view,
                      const void *new_view)
{
    struct counts *c = ctx;
    (void)old_view;
    (void)new_view;
    if (change == STORE_ADDED)
        atomic_fetch_add(&c->added, 1);
    else if (change == STORE_UPDATED)
        atomic_fetch_add(&c->updated, 1);
    else
        atomic_fetch_add(&c->deleted, 1);
}

static void it_open(struct it *t, const char *prefix)
{
    memset(t, 0, sizeof(*t));
    log_configure(LOG_LEVEL_WARN, LOG_FORMAT_TEXT, stderr);
    struct kubeconfig_error err;
    const char *path = getenv("KUBECONFIG");
    cr_assert(path != NULL && path[0] != '\0', "KUBECONFIG is not set");
    cr_assert_eq(kubeconfig_load_file(path, NULL, &t->cfg, &err), ZL_OK, "%s",
                 err.text);
    struct client_options opt = {.qps = 0, .burst = 0};
    cr_assert_eq(client_new(&t->cfg, &opt, &t->c), ZL_OK);
    snprintf(t->ns, sizeof(t->ns), "%s-%d-%ld", prefix, (int)getpid(),
             (long)(now_ms() % 100000));
    char body[256];
    snprintf(body, sizeof(body),
             "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\","
             "\"metadata\":{\"name\":\"%s\"}}",
             t->ns);
    struct client_response r;
    client_response_init(&r);
    cr_assert_eq(client_create(t->c, &CLIENT_NAMESPACES, NULL, body, &r), ZL_OK,
                 "create namespace: %ld %s", r.http_code, r.status.message);
    client_response_cleanup(&r);
}

static void it_start_informer(struct it *t)
{
    cr_assert_eq(informer_loop_new(&t->loop), ZL_OK);
    struct informer_options opt = {.resource = &CLIENT_PODS,
                                   .kind = VIEWS_KIND_POD,
                                   .namespace_name = t->ns,
                                   .label_selector = "app=it",
                                   .handler = on_change,
                                   .handler_ctx = &t->counts};
    cr_assert_eq(informer_new(t->loop, t->c, &opt, &t->inf), ZL_OK);
    cr_assert_eq(informer_loop_start(t->loop), ZL_OK);
}

static void it_close(struct it *t)
{
    if (t->loop != NULL) {
        informer_loop_stop(t->loop);
        informer_free(t->inf);
        informer_loop_free(t->loop);
    }
    struct client_response r;
    client_response_init(&r);
    client_delete(t->c, &CLIENT_NAMESPACES, NULL, t->ns, NULL, &r);
    client_response_cleanup(&r);
    client_free(t->c);
    kubeconfig_cleanup(&t->cfg);
}

/* ---- writing pods ------------------------------------------------------ */

enum pod_op { POD_CREATE, POD_DELETE, POD_RELABEL, POD_LEAVE };

struct batch {
    struct it *t;
    enum pod_op op;
    int from;
    int to;
    int stride;
};

static void pod_do(struct it *t, enum pod_op op, int i)
{
    char name[32];
    char body[512];
    snprintf(name, sizeof(name), "p-%05d", i);
    struct client_response r;
    client_response_init(&r);
    enum zl_err err = ZL_OK;
    switch (op) {
    case POD_CREATE:
        snprintf(body, sizeof(body),
                 "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":"
                 "{\"name\":\"%s\",\"labels\":{\"app\":\"it\"}},\"spec\":"
                 "{\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]}}",
                 name);
        err = client_create(t->c, &CLIENT_PODS, t->ns, body, &r);
        break;
    case POD_DELETE: {
        struct client_delete_options d = {.grace_period_seconds = 0};
        err = client_delete(t->c, &CLIENT_PODS, t->ns, name, &d, &r);
        break;
    }
    case POD_RELABEL:
    case POD_LEAVE:
        /* LEAVE moves the pod out of the informer's label selector. */
        snprintf(body, sizeof(body),
                 "{\"metadata\":{\"labels\":{\"app\":\"%s\",\"v\":\"%lld\"}}}",
                 op == POD_LEAVE ? "other" : "it", (long long)now_ms());
        err = client_patch(t->c, &CLIENT_PODS, t->ns, name, NULL,
                           "application/merge-patch+json", body, &r);
        break;
    }
    cr_assert_eq(err, ZL_OK, "pod %s op %d: %ld %s", name, (int)op, r.http_code,
                 r.status.message);
    client_response_cleanup(&r);
}

static void *batch_main(void *arg)
{
    struct batch *b = arg;
    for (int i = b->from; i < b->to; i += b->stride)
        pod_do(b->t, b->op, i);
    return NULL;
}

/* Applies op to pods [from, to) with 8 threads. */
static void pods(struct it *t, enum pod_op op, int from, int to)
{
    enum { THREADS = 8 };
    pthread_t th[THREADS];
    struct batch b[THREADS];
    for (int k = 0; k < THREADS; k++) {
        b[k] = (struct batch){t, op, from + k, to, THREADS};
        pthread_create(&th[k], NULL, batch_main, &b[k]);
    }
    for (int k = 0; k < THREADS; k++)
        pthread_join(th[k], NULL);
}

/* ---- comparing with the server ----------------------------------------- */

struct entry {
    char name[64];
    char rv[32];
};

static int entry_cmp(const void *a, const void *b)
{
    return strcmp(((const struct entry *)a)->name,
                  ((const struct entry *)b)->name);
}

/* A fresh, paged, consistent list of the informer's pods. */
static size_t server_pods(struct it *t, struct entry **out)
{
    size_t n = 0;
    size_t cap = 0;
    struct entry *e = NULL;
    char cont[1024] = "";
    do {
        struct client_list_options lo = {.label_selector = "app=it",
                                         .limit = 500,
                                         .continue_token =
                                             cont[0] ? cont : NULL};
        struct client_response r;
        client_response_init(&r);
        cr_assert_eq(client_list(t->c, &CLIENT_PODS, t->ns, &lo, &r), ZL_OK,
                     "list: %ld %s", r.http_code, r.status.message);
        struct json_object *list = json_tokener_parse(r.body.data);
        struct json_object *items = NULL;
        struct json_object *meta = NULL;
        struct json_object *c = NULL;
        json_object_object_get_ex(list, "items", &items);
        for (size_t i = 0; i < json_object_array_length(items); i++) {
            struct json_object *m = NULL;
            struct json_object *v = NULL;
            json_object_object_get_ex(json_object_array_get_idx(items, i),
                                      "metadata", &m);
            if (n == cap) {
                cap = cap == 0 ? 1024 : cap * 2;
                e = realloc(e, cap * sizeof(*e));
            }
            json_object_object_get_ex(m, "name", &v);
            snprintf(e[n].name, sizeof(e[n].name), "%s",
                     json_object_get_string(v));
            json_object_object_get_ex(m, "resourceVersion", &v);
            snprintf(e[n].rv, sizeof(e[n].rv), "%s", json_object_get_string(v));
            n++;
        }
        cont[0] = '\0';
        if (json_object_object_get_ex(list, "metadata", &meta) &&
            json_object_object_get_ex(meta, "continue", &c))
            snprintf(cont, sizeof(cont), "%s", json_object_get_string(c));
        json_object_put(list);
        client_response_cleanup(&r);
    } while (cont[0] != '\0');
    qsort(e, n, sizeof(*e), entry_cmp);
    *out = e;
    return n;
}

/* Differences between the store and the server (missing, extra, or at
 * another resourceVersion); the first one is described in why. */
static size_t differences(struct it *t, char *why, size_t why_len)
{
    struct entry *want = NULL;
    size_t nwant = server_pods(t, &want);
    const void **items = NULL;
    size_t nhave = 0;
    struct store *s = informer_store(t->inf);
    cr_assert_eq(store_list(s, t->ns, &items, &nhave), ZL_OK);
    size_t diff = 0;
    size_t i = 0;
    size_t j = 0;
    why[0] = '\0';
    while (i < nwant || j < nhave) {
        const struct views_pod *p = j < nhave ? items[j] : NULL;
        int c = i == nwant  ? 1
                : p == NULL ? -1
                            : strcmp(want[i].name, p->meta.name);
        if (c == 0 && strcmp(want[i].rv, p->meta.resource_version) == 0) {
            i++;
            j++;
            continue;
        }
        if (diff++ == 0)
            snprintf(why, why_len, "%s: server %s, store %s",
                     c <= 0 ? want[i].name : p->meta.name,
                     c <= 0 ? want[i].rv : "-",
                     c >= 0 ? p->meta.resource_version : "-");
        if (c <= 0)
            i++;
        if (c >= 0)
            j++;
    }
    store_release_list(s, items, nhave);
    free(want);
    return diff;
}

/* Waits until the store equals the server; returns the ms it took. */
static int64_t wait_converged(struct it *t, long timeout_ms)
{
    int64_t t0 = now_ms();
    char why[256];
    size_t diff;
    while ((diff = differences(t, why, sizeof(why))) != 0) {
        cr_assert_lt(now_ms() - t0, timeout_ms,
                     "store differs from the server in %zu objects (%s)", diff,
                     why);
        sleep_ms(50);
    }
    return now_ms() - t0;
}

/* The handler saw every change once: adds minus deletes is what is held. */
static void assert_handler_balance(struct it *t)
{
    long held = atomic_load(&t->counts.added) - atomic_load(&t->counts.deleted);
    cr_assert_eq((size_t)held, store_count(informer_store(t->inf)),
                 "added %ld deleted %ld held %zu",
                 atomic_load(&t->counts.added), atomic_load(&t->counts.deleted),
                 store_count(informer_store(t->inf)));
}

/* Runs e2e/cluster/<script> (a harness command) and waits for it. */
static int64_t harness(const char *script)
{
    const char *repo = getenv("ZL_REPO");
    cr_assert(repo != NULL,
              "ZL_REPO is not set (run via tests/integration/run)");
    char path[1024];
    snprintf(path, sizeof(path), "%s/e2e/cluster/%s", repo, script);
    cr_assert_eq(access(path, X_OK), 0, "harness lacks %s", path);
    char *argv[] = {path, NULL};
    pid_t pid;
    int64_t t0 = now_ms();
    cr_assert_eq(posix_spawn(&pid, path, NULL, NULL, argv, environ), 0);
    int status = 0;
    waitpid(pid, &status, 0);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s failed",
              script);
    return now_ms() - t0;
}

/* Samples informer_out_of_step_for_ms every 10 ms until told to stop and
 * keeps the largest value. */
struct step_sampler {
    struct informer *inf;
    atomic_bool stop;
    _Atomic int64_t max_ms;
};

static void *sample_steps(void *arg)
{
    struct step_sampler *s = arg;
    while (!atomic_load(&s->stop)) {
        int64_t ms = informer_out_of_step_for_ms(s->inf);
        if (ms > atomic_load(&s->max_ms))
            atomic_store(&s->max_ms, ms);
        sleep_ms(10);
    }
    return NULL;
}

/* ---- tests -------------------------------------------------------------- */

Test(informer_it, syncs_2000_pods_and_follows_changes, .timeout = 600)
{
    struct it t;
    it_open(&t, "inf-sync");
    int64_t t0 = now_ms();
    pods(&t, POD_CREATE, 0, 2000);
    printf("informer_it: created 2000 pods in %lld ms\n",
           (long long)(now_ms() - t0));
    t0 = now_ms();
    it_start_informer(&t);
    cr_assert_eq(informer_wait_synced(t.inf, 60000), ZL_OK);
    int64_t sync_ms = now_ms() - t0;
    cr_assert_eq(store_count(informer_store(t.inf)), 2000);
    char why[256];
    cr_assert_eq(differences(&t, why, sizeof(why)), 0, "%s", why);
    printf("informer_it: list of 2000 pods synced in %lld ms (4 pages)\n",
           (long long)sync_ms);

    /* Watch: deletes, updates, creates, and pods leaving the selector. */
    t0 = now_ms();
    pods(&t, POD_DELETE, 0, 100);
    pods(&t, POD_RELABEL, 100, 200);
    pods(&t, POD_LEAVE, 200, 220);
    pods(&t, POD_CREATE, 2000, 2050);
    int64_t writes_ms = now_ms() - t0;
    int64_t conv_ms = wait_converged(&t, 30000);
    cr_assert_eq(store_count(informer_store(t.inf)), 1930);
    assert_handler_balance(&t);
    cr_assert_eq(atomic_load(&t.counts.deleted), 120);
    struct informer_stats st;
    informer_get_stats(t.inf, &st);
    cr_assert_eq(st.lists, 1);
    printf("informer_it: 270 writes in %lld ms; store converged %lld ms "
           "after the last write (%llu events)\n",
           (long long)writes_ms, (long long)conv_ms,
           (unsigned long long)st.events);
    it_close(&t);
}

/* ---- connections ---------------------------------------------------- */

/* Whether inode is one of this process's sockets. */
static bool own_socket(unsigned long inode)
{
    DIR *d = opendir("/proc/self/fd");
    cr_assert_not_null(d);
    char want[64], link[64];
    snprintf(want, sizeof(want), "socket:[%lu]", inode);
    bool found = false;
    struct dirent *e;
    while (!found && (e = readdir(d)) != NULL) {
        char path[300];
        snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
        ssize_t n = readlink(path, link, sizeof(link) - 1);
        if (n > 0) {
            link[n] = '\0';
            found = strcmp(link, want) == 0;
        }
    }
    closedir(d);
    return found;
}

/* How many TCP connections this process has established to the API
 * server's port (IPv4 and IPv6 tables). */
static int connections_to_server(const struct kube_config *cfg)
{
    const char *colon = strrchr(cfg->server, ':');
    cr_assert_not_null(colon, "no port in %s", cfg->server);
    unsigned port = (unsigned)strtoul(colon + 1, NULL, 10);
    int count = 0;
    const char *tables[] = {"/proc/self/net/tcp", "/proc/self/net/tcp6"};
    for (size_t i = 0; i < 2; i++) {
        FILE *f = fopen(tables[i], "r");
        if (f == NULL)
            continue;
        char line[512];
        while (fgets(line, sizeof(line), f) != NULL) {
            char local[64], remote[64];
            unsigned st;
            unsigned long inode;
            if (sscanf(line, " %*d: %63s %63s %x %*s %*s %*s %*d %*d %lu",
                       local, remote, &st, &inode) != 4)
                continue;
            const char *rp = strrchr(remote, ':');
            if (rp != NULL && st == 1 /* ESTABLISHED */ &&
                strtoul(rp + 1, NULL, 16) == port && own_socket(inode))
                count++;
        }
        fclose(f);
    }
    return count;
}

/* A client carried by the loop sends its requests, from many threads at
 * once, over the connection of the loop's watch: no new connection, so none
 * that the API server closes when idle. Once the loop stops, the client
 * uses connections of its own again. */
Test(informer_it, carried_requests_share_the_watch_connection, .timeout = 300)
{
    struct it t;
    it_open(&t, "inf-carry");
    pods(&t, POD_CREATE, 0, 16);
    it_start_informer(&t);
    cr_assert_eq(informer_wait_synced(t.inf, 60000), ZL_OK);
    struct client *setup = t.c, *carried = NULL;
    struct client_options opt = {.qps = 0, .burst = 0};
    cr_assert_eq(client_new(&t.cfg, &opt, &carried), ZL_OK);
    int before = connections_to_server(&t.cfg);
    cr_assert_eq(informer_loop_carry(t.loop, carried), ZL_OK);
    t.c = carried;
    int64_t t0 = now_ms();
    pods(&t, POD_RELABEL, 0, 16);
    pods(&t, POD_CREATE, 16, 48);
    int64_t took = now_ms() - t0;
    int during = connections_to_server(&t.cfg);
    cr_assert_eq(during, before,
                 "48 requests from 8 threads opened %d connection(s)",
                 during - before);
    wait_converged(&t, 30000);
    cr_assert_eq(store_count(informer_store(t.inf)), 48);

    informer_loop_stop(t.loop);
    pods(&t, POD_RELABEL, 0, 1);
    int after = connections_to_server(&t.cfg);
    cr_assert_gt(after, during, "after the loop stopped: own connection");
    printf("informer_it: 48 carried requests from 8 threads in %lld ms on "
           "the watch's connection (%d to the server before and after)\n",
           (long long)took, before);
    t.c = setup;
    client_free(carried);
    it_close(&t);
}

/* The loop's after hook sends requests of a carried client itself: they
 * ride the watch's connection, no handler runs while they are in flight,
 * and the events that arrived meanwhile (the pods it made) are handed to
 * the handler afterwards, in order. */
struct hook_it {
    struct it *t;
    atomic_bool go;
    atomic_bool in_hook;
    atomic_bool done;
    atomic_long reentered; /* handler calls while the hook's requests ran */
    int connections_before, connections_in_hook;
    int64_t took_ms; /* the hook's 4 creates */
    pthread_mutex_t mu;
    char seen[8][32]; /* names of the hook's pods, as the handler got them */
    size_t seen_count;
};

static void hook_change(void *ctx, enum store_change change,
                        const void *old_view, const void *new_view)
{
    struct hook_it *h = ctx;
    (void)old_view;
    if (atomic_load(&h->in_hook))
        atomic_fetch_add(&h->reentered, 1);
    const struct views_pod *p = views_pod_of(new_view);
    if (change != STORE_ADDED || p == NULL ||
        strncmp(p->meta.name, "p-001", 5) != 0)
        return;
    pthread_mutex_lock(&h->mu);
    if (h->seen_count < 8)
        snprintf(h->seen[h->seen_count++], 32, "%s", p->meta.name);
    pthread_mutex_unlock(&h->mu);
}

static void hook_after(void *ctx)
{
    struct hook_it *h = ctx;
    if (!atomic_exchange(&h->go, false))
        return;
    atomic_store(&h->in_hook, true);
    int64_t t0 = now_ms();
    for (int i = 100; i < 104; i++)
        pod_do(h->t, POD_CREATE, i);
    h->took_ms = now_ms() - t0;
    h->connections_in_hook = connections_to_server(&h->t->cfg);
    atomic_store(&h->in_hook, false);
    atomic_store(&h->done, true);
}

Test(informer_it, the_loop_sends_its_own_requests_between_rounds,
     .timeout = 300)
{
    struct it t;
    static struct hook_it h;
    memset(&h, 0, sizeof(h));
    pthread_mutex_init(&h.mu, NULL);
    h.t = &t;
    it_open(&t, "inf-hook");
    pods(&t, POD_CREATE, 0, 4);
    cr_assert_eq(informer_loop_new(&t.loop), ZL_OK);
    informer_loop_set_after(t.loop, hook_after, &h);
    struct informer_options opt = {.resource = &CLIENT_PODS,
                                   .kind = VIEWS_KIND_POD,
                                   .namespace_name = t.ns,
                                   .label_selector = "app=it",
                                   .handler = hook_change,
                                   .handler_ctx = &h};
    cr_assert_eq(informer_new(t.loop, t.c, &opt, &t.inf), ZL_OK);
    cr_assert_eq(informer_loop_start(t.loop), ZL_OK);
    cr_assert_eq(informer_wait_synced(t.inf, 60000), ZL_OK);
    struct client *setup = t.c, *carried = NULL;
    struct client_options co = {.qps = 0, .burst = 0};
    cr_assert_eq(client_new(&t.cfg, &co, &carried), ZL_OK);
    cr_assert_eq(informer_loop_carry(t.loop, carried), ZL_OK);
    t.c = carried;
    h.connections_before = connections_to_server(&t.cfg);
    int64_t t0 = now_ms();
    atomic_store(&h.go, true);
    while (!atomic_load(&h.done) && now_ms() - t0 < 60000)
        sleep_ms(5);
    cr_assert(atomic_load(&h.done), "the after hook never ran");
    size_t n = 0;
    for (int64_t w = now_ms(); now_ms() - w < 30000; sleep_ms(5)) {
        pthread_mutex_lock(&h.mu);
        n = h.seen_count;
        pthread_mutex_unlock(&h.mu);
        if (n >= 4)
            break;
    }
    cr_assert_eq(atomic_load(&h.reentered), 0,
                 "%ld handler call(s) while the hook's requests ran",
                 atomic_load(&h.reentered));
    cr_assert_eq(n, 4, "the handler saw %zu of the hook's 4 pods", n);
    for (size_t i = 0; i < 4; i++) {
        char want[32];
        snprintf(want, sizeof(want), "p-%05zu", 100 + i);
        cr_assert_str_eq(h.seen[i], want, "event %zu out of order", i);
    }
    cr_assert_eq(h.connections_in_hook, h.connections_before,
                 "the hook's requests opened %d connection(s)",
                 h.connections_in_hook - h.connections_before);
    printf("informer_it: 4 creates from the loop's own thread in %lld ms on "
           "the watch's connection, their events handed over afterwards in "
           "order\n",
           (long long)h.took_ms);
    informer_loop_stop(t.loop);
    t.c = setup;
    client_free(carried);
    it_close(&t);
    pthread_mutex_destroy(&h.mu);
}

Test(informer_it, resumes_after_the_apiserver_restarts, .timeout = 600)
{
    struct it t;
    it_open(&t, "inf-resume");
    pods(&t, POD_CREATE, 0, 300);
    it_start_informer(&t);
    cr_assert_eq(informer_wait_synced(t.inf, 60000), ZL_OK);
    wait_converged(&t, 10000);
    cr_assert_eq(informer_out_of_step_for_ms(t.inf), 0, "in step when synced");
    struct step_sampler sampler = {.inf = t.inf};
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, sample_steps, &sampler), 0);
    int64_t restart_ms = harness("restart-apiserver");
    atomic_store(&sampler.stop, true);
    pthread_join(th, NULL);
    cr_assert_gt(atomic_load(&sampler.max_ms), 0,
                 "out of step while the API server was down");
    /* Changes right after the restart: the informer must pick them up
     * whether it resumes its watch or has to relist. */
    int64_t t0 = now_ms();
    pods(&t, POD_DELETE, 0, 30);
    pods(&t, POD_RELABEL, 30, 60);
    pods(&t, POD_CREATE, 300, 330);
    int64_t conv_ms = wait_converged(&t, 60000);
    int64_t resume_ms = now_ms() - t0;
    assert_handler_balance(&t);
    cr_assert_eq(store_count(informer_store(t.inf)), 300);
    struct informer_stats st;
    informer_get_stats(t.inf, &st);
    cr_assert_geq(st.watch_restarts, 1);
    /* In step again: the watch sent the changes (or a relist completed). */
    int64_t t1 = now_ms();
    while (informer_out_of_step_for_ms(t.inf) != 0 && now_ms() - t1 < 15000)
        sleep_ms(10);
    cr_assert_eq(informer_out_of_step_for_ms(t.inf), 0,
                 "in step again after the restart");
    printf("informer_it: out of step for up to %lld ms during the restart\n",
           (long long)atomic_load(&sampler.max_ms));
    printf("informer_it: apiserver restart took %lld ms; store converged "
           "%lld ms after it was back (%lld ms after the last write); "
           "watch restarts %llu, relists on 410 %llu\n",
           (long long)restart_ms, (long long)resume_ms, (long long)conv_ms,
           (unsigned long long)st.watch_restarts,
           (unsigned long long)st.relists_gone);
    it_close(&t);
}

Test(informer_it, relists_after_a_forced_410_and_reports_deletes,
     .timeout = 600)
{
    struct it t;
    it_open(&t, "inf-relist");
    pods(&t, POD_CREATE, 0, 300);
    it_start_informer(&t);
    cr_assert_eq(informer_wait_synced(t.inf, 60000), ZL_OK);
    wait_converged(&t, 10000);
    long deleted_before = atomic_load(&t.counts.deleted);
    informer_pause(t.inf);
    sleep_ms(300);
    pods(&t, POD_DELETE, 0, 50);
    pods(&t, POD_RELABEL, 50, 80);
    pods(&t, POD_CREATE, 300, 330);
    /* The informer's RV is now history: etcd compacts past it and the
     * restarted API server's watch cache starts after it. */
    harness("compact");
    harness("restart-apiserver");
    informer_resume(t.inf);
    int64_t conv_ms = wait_converged(&t, 60000);
    struct informer_stats st;
    informer_get_stats(t.inf, &st);
    cr_assert_geq(st.relists_gone, 1, "no 410 seen");
    cr_assert_eq(st.lists, 2);
    cr_assert_eq(atomic_load(&t.counts.deleted) - deleted_before, 50);
    assert_handler_balance(&t);
    printf("informer_it: relist after 410 converged in %lld ms "
           "(last list %lld ms)\n",
           (long long)conv_ms, (long long)st.last_sync_ms);
    it_close(&t);
}

/* SPDX-License-Identifier: Apache-2.0 */
/* The store: put/get/delete/list semantics, the namespace index, what
 * store_replace reports, reference counting of shared views, readers racing
 * a writer, the ops of every kind, and the memory bound per cached pod. */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/store.h"
#include "kube/views.h"
#include "podgen.h"
#include "testutil.h"

/* A pod view with namespace, name and resourceVersion; uid "uid-<name>". */
static struct views_pod *pod(const char *ns, const char *name, const char *rv)
{
    char json[512];
    int n = snprintf(json, sizeof(json),
                     "{\"metadata\":{\"namespace\":\"%s\",\"name\":\"%s\","
                     "\"uid\":\"uid-%s\",\"resourceVersion\":\"%s\"}}",
                     ns, name, name, rv);
    struct views_pod *p;
    cr_assert_eq(views_pod_parse(json, (size_t)n, &p), ZL_OK);
    return p;
}

static struct store *new_pod_store(void)
{
    struct store *s;
    cr_assert_eq(store_new(VIEWS_KIND_POD, &s), ZL_OK);
    return s;
}

/* "ns/name@rv" of each listed view, joined by spaces. */
static void list_text(struct store *s, const char *ns, char *out, size_t size)
{
    const void **items;
    size_t count;
    size_t n = 0;
    cr_assert_eq(store_list(s, ns, &items, &count), ZL_OK);
    out[0] = '\0';
    for (size_t i = 0; i < count; i++) {
        const struct views_pod *p = items[i];
        n += (size_t)snprintf(out + n, size - n, "%s%s/%s@%s", i ? " " : "",
                              p->meta.namespace_name, p->meta.name,
                              p->meta.resource_version);
    }
    if (count == 0)
        cr_expect_null(items);
    store_release_list(s, items, count);
}

/* One step of a scripted sequence: P ns name rv (put), D ns name (delete). */
struct step {
    char op;
    const char *ns, *name, *rv;
    const char *want_old_rv; /* NULL: no previous object */
};

struct script {
    const char *label;
    struct step steps[8];
    const char *want_all;  /* store_list(NULL) afterwards */
    const char *want_ns_a; /* store_list("a") afterwards */
    size_t want_count;
};

static const struct script scripts[] = {
    {"empty store lists nothing", {{0}}, "", "", 0},
    {"put then get", {{'P', "a", "x", "1", NULL}}, "a/x@1", "a/x@1", 1},
    {"put replaces by namespace/name and hands back the old view",
     {{'P', "a", "x", "1", NULL}, {'P', "a", "x", "2", "1"}},
     "a/x@2",
     "a/x@2",
     1},
    {"same name in two namespaces are two objects",
     {{'P', "b", "x", "1", NULL}, {'P', "a", "x", "2", NULL}},
     "a/x@2 b/x@1",
     "a/x@2",
     2},
    {"list is sorted by namespace then name",
     {{'P', "b", "m", "1", NULL},
      {'P', "a", "z", "2", NULL},
      {'P', "a", "b", "3", NULL},
      {'P', "ab", "a", "4", NULL},
      {'P', "a", "c", "5", NULL}},
     "a/b@3 a/c@5 a/z@2 ab/a@4 b/m@1",
     "a/b@3 a/c@5 a/z@2",
     5},
    {"delete removes and hands back; absent is a no-op",
     {{'P', "a", "x", "1", NULL},
      {'P', "a", "y", "2", NULL},
      {'D', "a", "x", NULL, "1"},
      {'D', "a", "x", NULL, NULL},
      {'D', "zz", "x", NULL, NULL}},
     "a/y@2",
     "a/y@2",
     1},
    {"a namespace emptied by deletes lists nothing and can come back",
     {{'P', "a", "x", "1", NULL},
      {'P', "b", "y", "2", NULL},
      {'D', "a", "x", NULL, "1"},
      {'P', "a", "w", "3", NULL}},
     "a/w@3 b/y@2",
     "a/w@3",
     2},
    {"keys do not collide across the separator",
     {{'P', "a", "bc", "1", NULL}, {'P', "ab", "c", "2", NULL}},
     "a/bc@1 ab/c@2",
     "a/bc@1",
     2},
};

Test(store, scripted_put_delete_get_list)
{
    for (size_t k = 0; k < sizeof(scripts) / sizeof(scripts[0]); k++) {
        const struct script *sc = &scripts[k];
        struct store *s = new_pod_store();
        for (const struct step *st = sc->steps; st->op != 0; st++) {
            const void *old = (const void *)1;
            if (st->op == 'P')
                cr_assert_eq(store_put(s, pod(st->ns, st->name, st->rv), &old),
                             ZL_OK);
            else
                store_delete(s, st->ns, st->name, &old);
            const struct views_pod *o = old;
            if (st->want_old_rv == NULL) {
                cr_expect_null(o, "%s: unexpected old view", sc->label);
            } else {
                cr_assert_not_null(o, "%s: no old view", sc->label);
                cr_expect_str_eq(o->meta.resource_version, st->want_old_rv,
                                 "%s", sc->label);
            }
            store_release(s, old);
            if (st->op == 'P') {
                const struct views_pod *got = store_get(s, st->ns, st->name);
                cr_assert_not_null(got, "%s", sc->label);
                cr_expect_str_eq(got->meta.resource_version, st->rv);
                store_release(s, got);
            } else {
                cr_expect_null(store_get(s, st->ns, st->name), "%s", sc->label);
            }
        }
        char all[512], in_a[512];
        list_text(s, NULL, all, sizeof(all));
        list_text(s, "a", in_a, sizeof(in_a));
        cr_expect_str_eq(all, sc->want_all, "%s", sc->label);
        cr_expect_str_eq(in_a, sc->want_ns_a, "%s", sc->label);
        cr_expect_eq(store_count(s), sc->want_count, "%s", sc->label);
        store_free(s);
    }
}

Test(store, namespace_index_survives_growth_and_churn)
{
    /* Enough objects and namespaces to grow both tables several times,
     * then delete every other object: each namespace must list exactly
     * its own survivors. */
    struct store *s = new_pod_store();
    char ns[16], name[16];
    for (int i = 0; i < 3000; i++) {
        snprintf(ns, sizeof(ns), "ns%d", i % 37);
        snprintf(name, sizeof(name), "p%05d", i);
        cr_assert_eq(store_put(s, pod(ns, name, "1"), NULL), ZL_OK);
    }
    for (int i = 0; i < 3000; i += 2) {
        snprintf(ns, sizeof(ns), "ns%d", i % 37);
        snprintf(name, sizeof(name), "p%05d", i);
        store_delete(s, ns, name, NULL);
    }
    cr_expect_eq(store_count(s), 1500);
    size_t total = 0;
    for (int k = 0; k < 37; k++) {
        const void **items;
        size_t count;
        snprintf(ns, sizeof(ns), "ns%d", k);
        cr_assert_eq(store_list(s, ns, &items, &count), ZL_OK);
        for (size_t i = 0; i < count; i++) {
            const struct views_pod *p = items[i];
            long num = strtol(p->meta.name + 1, NULL, 10);
            cr_expect_str_eq(p->meta.namespace_name, ns);
            cr_expect_eq(num % 2, 1);
            cr_expect_eq(num % 37, k);
            if (i > 0)
                cr_expect_lt(
                    strcmp(views_pod_of(items[i - 1])->meta.name, p->meta.name),
                    0);
        }
        total += count;
        store_release_list(s, items, count);
    }
    cr_expect_eq(total, 1500);
    store_free(s);
}

/* Collects what store_replace reports, as sorted "C ns/name old->new". */
struct changes {
    char lines[16][64];
    size_t count;
};

static void record(void *ctx, enum store_change c, const void *old_view,
                   const void *new_view)
{
    struct changes *ch = ctx;
    const struct views_pod *o = old_view, *n = new_view;
    const struct views_pod *any = n != NULL ? n : o;
    static const char tag[] = {
        [STORE_ADDED] = 'A', [STORE_UPDATED] = 'U', [STORE_DELETED] = 'D'};
    cr_assert_lt(ch->count, 16);
    cr_expect_eq(c == STORE_ADDED, o == NULL);
    cr_expect_eq(c == STORE_DELETED, n == NULL);
    snprintf(ch->lines[ch->count++], 64, "%c %s/%s %s->%s", tag[c],
             any->meta.namespace_name, any->meta.name,
             o ? o->meta.resource_version : "-",
             n ? n->meta.resource_version : "-");
}

static int line_cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}

struct replace_case {
    const char *label;
    const char *before[6]; /* "ns/name@rv" */
    const char *after[6];
    const char *want; /* sorted changes joined by "; " */
    const char *want_all;
};

static const struct replace_case replace_cases[] = {
    {"relist into an empty store adds everything",
     {NULL},
     {"a/x@1", "b/y@2", NULL},
     "A a/x -->1; A b/y -->2",
     "a/x@1 b/y@2"},
    {"unchanged resourceVersions report nothing",
     {"a/x@1", "b/y@2", NULL},
     {"b/y@2", "a/x@1", NULL},
     "",
     "a/x@1 b/y@2"},
    {"a changed resourceVersion is an update",
     {"a/x@1", "a/y@2", NULL},
     {"a/x@1", "a/y@3", NULL},
     "U a/y 2->3",
     "a/x@1 a/y@3"},
    {"objects missing from the relist are deleted",
     {"a/x@1", "a/y@2", "b/z@3", NULL},
     {"a/y@2", NULL},
     "D a/x 1->-; D b/z 3->-",
     "a/y@2"},
    {"add, update and delete at once",
     {"a/x@1", "a/y@2", NULL},
     {"a/y@5", "c/w@9", NULL},
     "A c/w -->9; D a/x 1->-; U a/y 2->5",
     "a/y@5 c/w@9"},
    {"relist to nothing deletes everything",
     {"a/x@1", NULL},
     {NULL},
     "D a/x 1->-",
     ""},
    {"a later duplicate in the relist wins",
     {"a/x@1", NULL},
     {"a/x@2", "a/x@3", NULL},
     "U a/x 1->3",
     "a/x@3"},
};

static struct views_pod *pod_from_key(const char *key)
{
    char ns[32], name[32], rv[32];
    cr_assert_eq(sscanf(key, "%31[^/]/%31[^@]@%31s", ns, name, rv), 3);
    return pod(ns, name, rv);
}

Test(store, replace_reports_added_updated_deleted)
{
    for (size_t k = 0; k < sizeof(replace_cases) / sizeof(*replace_cases);
         k++) {
        const struct replace_case *c = &replace_cases[k];
        struct store *s = new_pod_store();
        for (size_t i = 0; c->before[i] != NULL; i++)
            cr_assert_eq(store_put(s, pod_from_key(c->before[i]), NULL), ZL_OK);
        void *items[6];
        size_t n = 0;
        for (; c->after[n] != NULL; n++)
            items[n] = pod_from_key(c->after[n]);
        struct changes ch = {.count = 0};
        cr_assert_eq(store_replace(s, items, n, record, &ch), ZL_OK);
        qsort(ch.lines, ch.count, sizeof(ch.lines[0]), line_cmp);
        char got[512] = "";
        size_t len = 0;
        for (size_t i = 0; i < ch.count; i++)
            len += (size_t)snprintf(got + len, sizeof(got) - len, "%s%s",
                                    i ? "; " : "", ch.lines[i]);
        cr_expect_str_eq(got, c->want, "%s", c->label);
        char all[256];
        list_text(s, NULL, all, sizeof(all));
        cr_expect_str_eq(all, c->want_all, "%s", c->label);
        store_free(s);
    }
}

Test(store, replace_without_callback_and_empty_store_free)
{
    struct store *s = new_pod_store();
    void *items[] = {pod("a", "x", "1"), pod("a", "y", "1")};
    cr_expect_eq(store_replace(s, items, 2, NULL, NULL), ZL_OK);
    cr_expect_eq(store_count(s), 2);
    cr_expect_eq(store_replace(s, NULL, 0, NULL, NULL), ZL_OK);
    cr_expect_eq(store_count(s), 0);
    store_free(s);
    store_free(NULL);
}

/* A callback that reads the store: replace must not hold the lock. */
static void read_back(void *ctx, enum store_change c, const void *old_view,
                      const void *new_view)
{
    struct store *s = ctx;
    (void)c;
    (void)old_view;
    const struct views_pod *n = new_view;
    const struct views_pod *got =
        store_get(s, n->meta.namespace_name, n->meta.name);
    cr_expect_eq(got, n);
    store_release(s, got);
}

Test(store, replace_callback_may_read_the_store)
{
    struct store *s = new_pod_store();
    void *items[] = {pod("a", "x", "1")};
    cr_expect_eq(store_replace(s, items, 1, read_back, s), ZL_OK);
    store_free(s);
}

Test(store, snapshots_survive_replacement_and_deletion)
{
    struct store *s = new_pod_store();
    cr_assert_eq(store_put(s, pod("a", "x", "1"), NULL), ZL_OK);
    cr_assert_eq(store_put(s, pod("a", "y", "1"), NULL), ZL_OK);
    const struct views_pod *held = store_get_pod(s, "a", "x");
    const struct views_pod **snap;
    size_t count;
    cr_assert_eq(store_list_pods(s, "a", &snap, &count), ZL_OK);
    cr_assert_eq(count, 2);
    /* Replace x, delete y, then relist to nothing: the store drops all of
     * its references, ours stay valid (valgrind and ASan check reads). */
    cr_assert_eq(store_put(s, pod("a", "x", "2"), NULL), ZL_OK);
    store_delete(s, "a", "y", NULL);
    cr_assert_eq(store_replace(s, NULL, 0, NULL, NULL), ZL_OK);
    cr_expect_eq(store_count(s), 0);
    cr_expect_str_eq(held->meta.resource_version, "1");
    cr_expect_str_eq(snap[0]->meta.name, "x");
    cr_expect_str_eq(snap[1]->meta.name, "y");
    cr_expect_str_eq(snap[1]->meta.uid, "uid-y");
    store_free(s);
    /* Even the store's end leaves them alive until released. */
    cr_expect_str_eq(held->meta.name, "x");
    views_release(held);
    store_release_pods(snap, count);
}

/* Readers list and get while a writer puts, deletes and relists. */
struct race {
    struct store *s;
    atomic_int stop;
    long reads;
};

static void *reader(void *arg)
{
    struct race *r = arg;
    while (!atomic_load(&r->stop)) {
        const void **items;
        size_t count;
        if (store_list(r->s, "ns1", &items, &count) != ZL_OK)
            continue;
        for (size_t i = 0; i < count; i++) {
            const struct views_pod *p = items[i];
            /* A view is immutable: its fields stay consistent. */
            if (strcmp(p->meta.namespace_name, "ns1") != 0 ||
                strncmp(p->meta.uid, "uid-", 4) != 0)
                abort();
        }
        store_release_list(r->s, items, count);
        const struct views_pod *p = store_get(r->s, "ns1", "p3");
        if (p != NULL && strcmp(p->meta.name, "p3") != 0)
            abort();
        store_release(r->s, p);
        r->reads++;
    }
    return NULL;
}

Test(store, readers_race_a_writer_safely)
{
    struct race rs[3];
    pthread_t th[3];
    struct store *s = new_pod_store();
    for (int t = 0; t < 3; t++) {
        rs[t] = (struct race){.s = s, .reads = 0};
        atomic_init(&rs[t].stop, 0);
        cr_assert_eq(pthread_create(&th[t], NULL, reader, &rs[t]), 0);
    }
    char name[16], rv[16];
    for (int round = 0; round < 200; round++) {
        for (int i = 0; i < 20; i++) {
            snprintf(name, sizeof(name), "p%d", i);
            snprintf(rv, sizeof(rv), "%d", round);
            cr_assert_eq(
                store_put(s, pod(i % 2 ? "ns1" : "ns2", name, rv), NULL),
                ZL_OK);
        }
        store_delete(s, "ns1", "p3", NULL);
        if (round % 20 == 0) {
            void *items[] = {pod("ns1", "p3", "r"), pod("ns1", "p5", "r")};
            cr_assert_eq(store_replace(s, items, 2, NULL, NULL), ZL_OK);
        }
    }
    long reads = 0;
    for (int t = 0; t < 3; t++) {
        atomic_store(&rs[t].stop, 1);
        pthread_join(th[t], NULL);
        reads += rs[t].reads;
    }
    cr_expect_gt(reads, 0);
    store_free(s);
}

/* The other kinds, through their shared part, from recorded objects. */
struct kind_case {
    enum views_kind kind;
    const char *fixture;
};

static const struct kind_case kind_cases[] = {
    {VIEWS_KIND_ENDPOINTSLICE, "views/eps-recorded-controller-ipv4.in.json"},
    {VIEWS_KIND_SERVICE, "views/svc-clusterip-realistic.in.json"},
    {VIEWS_KIND_POD, "views/pod-running-ready.in.json"},
};

/* The typed accessors see a view (and a store) of their own kind only. */
static void expect_typed(const struct kind_case *c, struct store *s,
                         const void *view, const char *ns, const char *name)
{
    bool pod = c->kind == VIEWS_KIND_POD;
    bool svc = c->kind == VIEWS_KIND_SERVICE;
    bool eps = c->kind == VIEWS_KIND_ENDPOINTSLICE;
    cr_expect_eq(views_pod_of(view) != NULL, pod, "%s", c->fixture);
    cr_expect_eq(views_service_of(view) != NULL, svc, "%s", c->fixture);
    cr_expect_eq(views_endpointslice_of(view) != NULL, eps, "%s", c->fixture);
    const void *got[3] = {store_get_pod(s, ns, name),
                          store_get_service(s, ns, name),
                          store_get_endpointslice(s, ns, name)};
    cr_expect_eq(got[0], pod ? view : NULL, "%s", c->fixture);
    cr_expect_eq(got[1], svc ? view : NULL, "%s", c->fixture);
    cr_expect_eq(got[2], eps ? view : NULL, "%s", c->fixture);
    for (int i = 0; i < 3; i++)
        store_release(s, got[i]);
    const struct views_pod **pods;
    size_t n;
    cr_expect_eq(store_list_pods(s, ns, &pods, &n),
                 pod ? ZL_OK : ZL_ERR_INVALID);
    cr_expect_eq(n, pod ? 1 : 0);
    cr_expect_eq(n > 0 ? (const void *)pods[0] : NULL, pod ? view : NULL);
    store_release_pods(pods, n);
}

/* A store refuses (and releases) a view of another kind. */
static void expect_refused(enum views_kind kind, void *view)
{
    struct store *other;
    enum views_kind k =
        kind == VIEWS_KIND_POD ? VIEWS_KIND_SERVICE : VIEWS_KIND_POD;
    cr_assert_eq(store_new(k, &other), ZL_OK);
    views_retain(view);
    cr_expect_eq(store_put(other, view, NULL), ZL_ERR_INVALID);
    views_retain(view);
    cr_expect_eq(store_replace(other, &view, 1, NULL, NULL), ZL_ERR_INVALID);
    cr_expect_eq(store_count(other), 0);
    store_free(other);
}

Test(store, every_kind_parses_and_is_keyed_by_its_shared_part)
{
    for (size_t k = 0; k < sizeof(kind_cases) / sizeof(*kind_cases); k++) {
        const struct kind_case *c = &kind_cases[k];
        char *text = testutil_read(c->fixture, NULL);
        cr_assert_not_null(text, "%s", c->fixture);
        struct json_object *obj = testutil_json(text);
        struct json_object *meta;
        cr_assert(json_object_object_get_ex(obj, "metadata", &meta));
        void *view;
        cr_assert_eq(views_from_json(c->kind, obj, &view), ZL_OK, "%s",
                     c->fixture);
        const char *want[4];
        static const char *const fields[] = {"namespace", "name", "uid",
                                             "resourceVersion"};
        for (int f = 0; f < 4; f++) {
            struct json_object *v;
            want[f] = json_object_object_get_ex(meta, fields[f], &v)
                          ? json_object_get_string(v)
                          : "";
        }
        const struct views_meta *m = views_meta_of(view);
        cr_expect_eq(m->kind, c->kind);
        cr_expect_str_eq(m->namespace_name, want[0]);
        cr_expect_str_eq(m->name, want[1]);
        cr_expect_str_eq(m->uid, want[2]);
        cr_expect_str_eq(m->resource_version, want[3]);
        struct store *s;
        cr_assert_eq(store_new(c->kind, &s), ZL_OK);
        views_retain(view);
        cr_assert_eq(store_put(s, view, NULL), ZL_OK);
        const void *got = store_get(s, want[0], want[1]);
        cr_expect_eq(got, view, "%s", c->fixture);
        store_release(s, got);
        expect_typed(c, s, view, want[0], want[1]);
        expect_refused(c->kind, view);
        store_free(s);
        views_release(view); /* ours: the last one */
        json_object_put(obj);
        free(text);
    }
}

/* The memory target: at most 1 KiB of heap per cached pod with 10 labels,
 * view and store overhead together, measured as bench/store_memory does. */
Test(store, a_cached_pod_costs_at_most_one_kib)
{
    /* Sanitizers and valgrind own malloc: nothing to measure there (and
     * cr_skip_test itself leaks under valgrind). */
    if (!podgen_heap_measurable())
        return;
    enum { N = 1000 };
    char *json = malloc(PODGEN_JSON_MAX);
    cr_assert_not_null(json);
    /* One pod first, so one-time library setup is not charged. */
    struct views_pod *warm;
    size_t len = podgen_json(N, 100, 1, json);
    cr_assert_eq(views_pod_parse(json, len, &warm), ZL_OK);
    views_release(warm);
    size_t before = podgen_heap_bytes();
    struct store *s;
    cr_assert_eq(store_new(VIEWS_KIND_POD, &s), ZL_OK);
    for (size_t i = 0; i < N; i++) {
        struct views_pod *p;
        len = podgen_json(i, 100, 1000 + i, json);
        cr_assert_gt(len, 0);
        cr_assert_eq(views_pod_parse(json, len, &p), ZL_OK);
        cr_assert_eq(p->meta.labels.count, 10);
        cr_assert_eq(p->port_count, 3);
        cr_assert_not_null(p->ip[VIEWS_IPV6]);
        cr_assert_eq(store_put(s, p, NULL), ZL_OK);
    }
    size_t after = podgen_heap_bytes();
    store_free(s);
    size_t freed = podgen_heap_bytes();
    size_t per_pod = (after - before) / N;
    cr_log_info("%zu bytes of heap per cached pod (N=%d)", per_pod, N);
    cr_expect_leq(per_pod, 1024, "%zu bytes per pod", per_pod);
    cr_expect_eq(freed, before, "the store frees everything: %zu != %zu", freed,
                 before);
    free(json);
}

static bool name_starts_with_k(void *ctx, const struct views_pod *p)
{
    (*(int *)ctx)++;
    return p->meta.name[0] == 'k';
}

/* "name" of each selected view, sorted, joined by spaces. */
static void select_text(struct store *s, const char *ns, bool filtered,
                        char *out, size_t size, int *calls)
{
    const struct views_pod **items;
    size_t count;
    cr_assert_eq(store_select_pods(s, ns, filtered ? name_starts_with_k : NULL,
                                   calls, &items, &count),
                 ZL_OK);
    const char *names[16];
    cr_assert_leq(count, 16);
    for (size_t i = 0; i < count; i++)
        names[i] = items[i]->meta.name;
    for (size_t i = 1; i < count; i++)
        for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            const char *t = names[j];
            names[j] = names[j - 1];
            names[j - 1] = t;
        }
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; i < count; i++)
        n +=
            (size_t)snprintf(out + n, size - n, "%s%s", i ? " " : "", names[i]);
    if (count == 0)
        cr_expect_null(items);
    store_release_pods(items, count);
}

struct select_case {
    const char *ns;
    bool filtered;
    const char *want;
    int want_calls; /* keep is asked once per object of the namespace */
};

static const struct select_case select_cases[] = {
    {"a", false, "j k1 k2", 0},
    {"a", true, "k1 k2", 3},
    {"b", true, "k3", 2},
    {"c", true, "", 0},
    {NULL, false, "j k1 k2 k3 m", 0},
    {NULL, true, "k1 k2 k3", 5},
};

static void check_select(const struct select_case *tc)
{
    struct store *s = new_pod_store();
    cr_assert_eq(store_put(s, pod("a", "k2", "1"), NULL), ZL_OK);
    cr_assert_eq(store_put(s, pod("a", "j", "1"), NULL), ZL_OK);
    cr_assert_eq(store_put(s, pod("a", "k1", "1"), NULL), ZL_OK);
    cr_assert_eq(store_put(s, pod("b", "m", "1"), NULL), ZL_OK);
    cr_assert_eq(store_put(s, pod("b", "k3", "1"), NULL), ZL_OK);
    char text[256];
    int calls = 0;
    select_text(s, tc->ns, tc->filtered, text, sizeof(text), &calls);
    cr_expect_str_eq(text, tc->want, "ns %s", tc->ns ? tc->ns : "(all)");
    cr_expect_eq(calls, tc->want_calls);
    /* The views stay the store's too: a later get still finds them. */
    const struct views_pod *p = store_get_pod(s, "a", "k1");
    cr_expect_not_null(p);
    store_release(s, p);
    store_free(s);
}

Test(store, select_filters_one_namespace)
{
    for (size_t i = 0; i < sizeof(select_cases) / sizeof(*select_cases); i++)
        check_select(&select_cases[i]);
}

Test(store, typed_select_refuses_a_store_of_another_kind)
{
    struct store *s = new_pod_store();
    cr_assert_eq(store_put(s, pod("a", "k1", "1"), NULL), ZL_OK);
    const struct views_service **svcs = (const struct views_service **)1;
    size_t n = 7;
    cr_expect_eq(store_select_services(s, "a", &svcs, &n), ZL_ERR_INVALID);
    cr_expect_null(svcs);
    cr_expect_eq(n, 0);
    store_free(s);
    cr_assert_eq(store_new(VIEWS_KIND_SERVICE, &s), ZL_OK);
    const struct views_pod **pods = (const struct views_pod **)1;
    cr_expect_eq(store_select_pods(s, "a", NULL, NULL, &pods, &n),
                 ZL_ERR_INVALID);
    cr_expect_null(pods);
    cr_expect_eq(store_select_services(s, "a", &svcs, &n), ZL_OK);
    cr_expect_eq(n, 0);
    store_free(s);
}

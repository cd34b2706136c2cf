/* SPDX-License-Identifier: Apache-2.0 */
/* The informers' store: a chained hash table of small entries keyed by
 * namespace/name, and per namespace an array of the same entries, so a
 * namespace lists in time proportional to its own size. The views are the
 * kinds' own reference-counted objects; the store never copies them. */
#include "kube/store.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kube/views.h"

#define STORE_MIN_BUCKETS 16
#define STORE_MIN_NS_BUCKETS 8
#define STORE_MIN_NS_ITEMS 4

/* One cached object. Kept to 24 bytes: it is paid once per object. The
 * namespace is found again by name when the entry leaves it. */
struct store_entry {
    const void *view;
    struct store_entry *next; /* hash chain */
    uint32_t hash;            /* of namespace and name */
    uint32_t ns_pos;          /* index in its namespace's items */
};

/* The entries of one namespace, in no order; gone when empty. */
struct store_ns {
    char *name;
    struct store_entry **items;
    size_t count;
    size_t cap;
    struct store_ns *next;
    uint32_t hash;
};

/* The content: swapped whole by store_replace. */
struct store_table {
    struct store_entry **buckets;
    size_t bucket_count; /* a power of two */
    size_t count;
    struct store_ns **ns_buckets;
    size_t ns_bucket_count; /* a power of two */
    size_t ns_count;
};

struct store {
    enum views_kind kind;
    pthread_rwlock_t lock;
    struct store_table t;
};

static const char *ns_of(const void *view)
{
    return views_meta_of(view)->namespace_name;
}

static const char *name_of(const void *view)
{
    return views_meta_of(view)->name;
}

/* FNV-1a; the namespace hash is a prefix of the key hash's input. */
static uint32_t hash_str(uint32_t h, const char *s)
{
    for (; *s != '\0'; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static uint32_t hash_ns(const char *ns)
{
    return hash_str(2166136261u, ns);
}

static uint32_t hash_key(const char *ns, const char *name)
{
    /* The separator keeps "a"+"bc" apart from "ab"+"c". */
    return hash_str(hash_ns(ns) * 16777619u, name);
}

static enum zl_err table_init(struct store_table *t)
{
    memset(t, 0, sizeof(*t));
    t->buckets = calloc(STORE_MIN_BUCKETS, sizeof(*t->buckets));
    t->ns_buckets = calloc(STORE_MIN_NS_BUCKETS, sizeof(*t->ns_buckets));
    if (t->buckets == NULL || t->ns_buckets == NULL) {
        free(t->buckets);
        free(t->ns_buckets);
        memset(t, 0, sizeof(*t));
        return ZL_ERR_NOMEM;
    }
    t->bucket_count = STORE_MIN_BUCKETS;
    t->ns_bucket_count = STORE_MIN_NS_BUCKETS;
    return ZL_OK;
}

/* Frees the table; with release, drops the views' references too. */
static void table_cleanup(struct store_table *t, bool release)
{
    for (size_t i = 0; i < t->bucket_count; i++) {
        struct store_entry *e = t->buckets[i];
        while (e != NULL) {
            struct store_entry *next = e->next;
            if (release)
                views_release(e->view);
            free(e);
            e = next;
        }
    }
    for (size_t i = 0; i < t->ns_bucket_count; i++) {
        struct store_ns *n = t->ns_buckets[i];
        while (n != NULL) {
            struct store_ns *next = n->next;
            free(n->name);
            free(n->items);
            free(n);
            n = next;
        }
    }
    free(t->buckets);
    free(t->ns_buckets);
    memset(t, 0, sizeof(*t));
}

/* The link pointing at the entry for ns/name, or at the chain's end. */
static struct store_entry **table_link(const struct store_table *t,
                                       const char *ns, const char *name,
                                       uint32_t hash)
{
    struct store_entry **link = &t->buckets[hash & (t->bucket_count - 1)];
    for (; *link != NULL; link = &(*link)->next) {
        const struct store_entry *e = *link;
        if (e->hash == hash && strcmp(name_of(e->view), name) == 0 &&
            strcmp(ns_of(e->view), ns) == 0)
            break;
    }
    return link;
}

static struct store_entry *table_find(const struct store_table *t,
                                      const char *ns, const char *name)
{
    return *table_link(t, ns, name, hash_key(ns, name));
}

/* Doubles the buckets when the load passes 1. Failing to grow only makes
 * chains longer, so it is not an error. */
static void table_grow(struct store_table *t)
{
    if (t->count <= t->bucket_count || t->bucket_count > SIZE_MAX / 4)
        return;
    size_t n = t->bucket_count * 2;
    struct store_entry **b = calloc(n, sizeof(*b));
    if (b == NULL)
        return;
    for (size_t i = 0; i < t->bucket_count; i++) {
        struct store_entry *e = t->buckets[i];
        while (e != NULL) {
            struct store_entry *next = e->next;
            e->next = b[e->hash & (n - 1)];
            b[e->hash & (n - 1)] = e;
            e = next;
        }
    }
    free(t->buckets);
    t->buckets = b;
    t->bucket_count = n;
}

static struct store_ns **ns_link(const struct store_table *t, const char *ns,
                                 uint32_t hash)
{
    struct store_ns **link = &t->ns_buckets[hash & (t->ns_bucket_count - 1)];
    for (; *link != NULL; link = &(*link)->next)
        if ((*link)->hash == hash && strcmp((*link)->name, ns) == 0)
            break;
    return link;
}

static void ns_grow(struct store_table *t)
{
    if (t->ns_count <= t->ns_bucket_count || t->ns_bucket_count > SIZE_MAX / 4)
        return;
    size_t n = t->ns_bucket_count * 2;
    struct store_ns **b = calloc(n, sizeof(*b));
    if (b == NULL)
        return;
    for (size_t i = 0; i < t->ns_bucket_count; i++) {
        struct store_ns *x = t->ns_buckets[i];
        while (x != NULL) {
            struct store_ns *next = x->next;
            x->next = b[x->hash & (n - 1)];
            b[x->hash & (n - 1)] = x;
            x = next;
        }
    }
    free(t->ns_buckets);
    t->ns_buckets = b;
    t->ns_bucket_count = n;
}

/* Appends an entry to its namespace, creating the namespace if needed. */
static enum zl_err ns_add(struct store_table *t, const char *ns,
                          struct store_entry *e)
{
    uint32_t hash = hash_ns(ns);
    struct store_ns **link = ns_link(t, ns, hash);
    struct store_ns *n = *link;
    if (n == NULL) {
        n = calloc(1, sizeof(*n));
        if (n == NULL)
            return ZL_ERR_NOMEM;
        n->name = strdup(ns);
        if (n->name == NULL) {
            free(n);
            return ZL_ERR_NOMEM;
        }
        n->hash = hash;
        *link = n;
        t->ns_count++;
    }
    if (n->count == n->cap) {
        size_t cap = n->cap ? n->cap * 2 : STORE_MIN_NS_ITEMS;
        struct store_entry **items =
            cap <= UINT32_MAX ? realloc(n->items, cap * sizeof(*items)) : NULL;
        if (items == NULL) {
            if (n->count == 0) { /* just created: undo */
                *link = n->next;
                t->ns_count--;
                free(n->name);
                free(n->items);
                free(n);
            }
            return ZL_ERR_NOMEM;
        }
        n->items = items;
        n->cap = cap;
    }
    e->ns_pos = (uint32_t)n->count;
    n->items[n->count++] = e;
    ns_grow(t);
    return ZL_OK;
}

/* Takes an entry out of its namespace; frees the namespace when empty. */
static void ns_remove(struct store_table *t, const char *ns,
                      struct store_entry *e)
{
    struct store_ns **link = ns_link(t, ns, hash_ns(ns));
    struct store_ns *n = *link;
    assert(n != NULL && n->items[e->ns_pos] == e);
    if (n == NULL)
        return; /* every entry is in its namespace's index */
    struct store_entry *last = n->items[--n->count];
    n->items[e->ns_pos] = last;
    last->ns_pos = e->ns_pos;
    if (n->count > 0)
        return;
    *link = n->next;
    t->ns_count--;
    free(n->name);
    free(n->items);
    free(n);
}

/* Inserts or replaces. *old_out gets the replaced view (or NULL). On error
 * nothing changed and the caller still holds view. */
static enum zl_err table_put(struct store_table *t, const void *view,
                             const void **old_out)
{
    const char *ns = ns_of(view);
    const char *name = name_of(view);
    uint32_t hash = hash_key(ns, name);
    struct store_entry **link = table_link(t, ns, name, hash);
    *old_out = NULL;
    if (*link != NULL) {
        /* Same namespace and name: the namespace index is unchanged. */
        *old_out = (*link)->view;
        (*link)->view = view;
        return ZL_OK;
    }
    struct store_entry *e = malloc(sizeof(*e));
    if (e == NULL)
        return ZL_ERR_NOMEM;
    e->view = view;
    e->hash = hash;
    e->next = NULL;
    enum zl_err err = ns_add(t, ns, e);
    if (err != ZL_OK) {
        free(e);
        return err;
    }
    *link = e;
    t->count++;
    table_grow(t);
    return ZL_OK;
}

static const void *table_delete(struct store_table *t, const char *ns,
                                const char *name)
{
    struct store_entry **link = table_link(t, ns, name, hash_key(ns, name));
    struct store_entry *e = *link;
    if (e == NULL)
        return NULL;
    *link = e->next;
    t->count--;
    ns_remove(t, ns, e);
    const void *view = e->view;
    free(e);
    return view;
}

enum zl_err store_new(enum views_kind kind, struct store **out)
{
    *out = NULL;
    if (kind == VIEWS_KIND_NONE)
        return ZL_ERR_INVALID;
    struct store *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return ZL_ERR_NOMEM;
    s->kind = kind;
    enum zl_err err = table_init(&s->t);
    if (err != ZL_OK)
        goto out;
    int rc = pthread_rwlock_init(&s->lock, NULL);
    if (rc != 0) {
        table_cleanup(&s->t, false);
        err = rc == ENOMEM || rc == EAGAIN ? ZL_ERR_NOMEM : ZL_ERR_INTERNAL;
    }
out:
    if (err != ZL_OK)
        free(s);
    else
        *out = s;
    return err;
}

void store_free(struct store *s)
{
    if (s == NULL)
        return;
    table_cleanup(&s->t, true);
    pthread_rwlock_destroy(&s->lock);
    free(s);
}

enum zl_err store_put(struct store *s, void *view, const void **old_out)
{
    const void *old = NULL;
    enum zl_err err = ZL_ERR_INVALID;
    if (views_meta_of(view)->kind == s->kind) {
        pthread_rwlock_wrlock(&s->lock);
        err = table_put(&s->t, view, &old);
        pthread_rwlock_unlock(&s->lock);
    }
    /* The reference is consumed either way. */
    if (err != ZL_OK)
        views_release(view);
    if (old_out != NULL)
        *old_out = old;
    else if (old != NULL)
        views_release(old);
    return err;
}

void store_delete(struct store *s, const char *ns, const char *name,
                  const void **old_out)
{
    pthread_rwlock_wrlock(&s->lock);
    const void *old = table_delete(&s->t, ns, name);
    pthread_rwlock_unlock(&s->lock);
    if (old_out != NULL)
        *old_out = old;
    else if (old != NULL)
        views_release(old);
}

const void *store_get(struct store *s, const char *ns, const char *name)
{
    pthread_rwlock_rdlock(&s->lock);
    struct store_entry *e = table_find(&s->t, ns, name);
    const void *view = e != NULL ? e->view : NULL;
    if (view != NULL)
        views_retain(view);
    pthread_rwlock_unlock(&s->lock);
    return view;
}

/* What a listing sorts on: the keys are read once, not per comparison. */
struct store_sort_item {
    const char *ns;
    const char *name;
    const void *view;
};

static int sort_item_cmp(const void *a, const void *b)
{
    const struct store_sort_item *x = a;
    const struct store_sort_item *y = b;
    int c = strcmp(x->ns, y->ns);
    return c != 0 ? c : strcmp(x->name, y->name);
}

/* Copies the views of one namespace (all when n is NULL and all is set)
 * into sort items, with a new reference each. Runs under the read lock. */
static size_t collect(const struct store *s, const struct store_ns *n, bool all,
                      struct store_sort_item *out)
{
    size_t k = 0;
    if (all) {
        for (size_t i = 0; i < s->t.bucket_count; i++)
            for (const struct store_entry *e = s->t.buckets[i]; e != NULL;
                 e = e->next)
                out[k++].view = e->view;
    } else if (n != NULL) {
        for (size_t i = 0; i < n->count; i++)
            out[k++].view = n->items[i]->view;
    }
    for (size_t i = 0; i < k; i++)
        views_retain(out[i].view);
    return k;
}

enum zl_err store_list(struct store *s, const char *ns, const void ***items,
                       size_t *count)
{
    struct store_sort_item *sorted = NULL;
    const void **views = NULL;
    enum zl_err err = ZL_OK;
    size_t k = 0;
    *items = NULL;
    *count = 0;
    pthread_rwlock_rdlock(&s->lock);
    const struct store_ns *n =
        ns != NULL ? *ns_link(&s->t, ns, hash_ns(ns)) : NULL;
    size_t want = ns == NULL ? s->t.count : n != NULL ? n->count : 0;
    if (want > 0) {
        sorted = malloc(want * sizeof(*sorted));
        views = malloc(want * sizeof(*views));
        if (sorted != NULL && views != NULL)
            k = collect(s, n, ns == NULL, sorted);
        else
            err = ZL_ERR_NOMEM;
    }
    pthread_rwlock_unlock(&s->lock);
    if (err != ZL_OK)
        goto out;
    /* Sorting needs no lock: the views are ours and immutable. */
    for (size_t i = 0; i < k; i++) {
        sorted[i].ns = ns_of(sorted[i].view);
        sorted[i].name = name_of(sorted[i].view);
    }
    if (k > 1)
        qsort(sorted, k, sizeof(*sorted), sort_item_cmp);
    for (size_t i = 0; i < k; i++)
        views[i] = sorted[i].view;
    *items = k > 0 ? views : NULL;
    *count = k;
    if (k > 0)
        views = NULL;
out:
    free(views);
    free(sorted);
    return err;
}

static size_t select_into(const struct store *s, const struct store_ns *n,
                          bool all, bool (*keep)(void *, const void *),
                          void *ctx, const void **out)
{
    size_t k = 0;
    if (all) {
        for (size_t i = 0; i < s->t.bucket_count; i++)
            for (const struct store_entry *e = s->t.buckets[i]; e != NULL;
                 e = e->next)
                if (keep == NULL || keep(ctx, e->view))
                    out[k++] = e->view;
    } else if (n != NULL) {
        for (size_t i = 0; i < n->count; i++)
            if (keep == NULL || keep(ctx, n->items[i]->view))
                out[k++] = n->items[i]->view;
    }
    for (size_t i = 0; i < k; i++)
        views_retain(out[i]);
    return k;
}

enum zl_err store_select(struct store *s, const char *ns,
                         bool (*keep)(void *ctx, const void *view), void *ctx,
                         const void ***items, size_t *count)
{
    const void **views = NULL;
    enum zl_err err = ZL_OK;
    size_t k = 0;
    *items = NULL;
    *count = 0;
    pthread_rwlock_rdlock(&s->lock);
    const struct store_ns *n =
        ns != NULL ? *ns_link(&s->t, ns, hash_ns(ns)) : NULL;
    size_t want = ns == NULL ? s->t.count : n != NULL ? n->count : 0;
    if (want > 0) {
        views = malloc(want * sizeof(*views));
        if (views != NULL)
            k = select_into(s, n, ns == NULL, keep, ctx, views);
        else
            err = ZL_ERR_NOMEM;
    }
    pthread_rwlock_unlock(&s->lock);
    if (k > 0) {
        *items = views;
        *count = k;
        views = NULL;
    }
    free(views);
    return err;
}

void store_release(struct store *s, const void *view)
{
    (void)s; /* any view releases itself */
    views_release(view);
}

void store_release_list(struct store *s, const void **items, size_t count)
{
    for (size_t i = 0; i < count; i++)
        store_release(s, items[i]);
    free(items);
}

size_t store_count(struct store *s)
{
    pthread_rwlock_rdlock(&s->lock);
    size_t n = s->t.count;
    pthread_rwlock_unlock(&s->lock);
    return n;
}

/* One difference found by store_replace. */
struct store_diff {
    enum store_change change;
    const void *old_view;
    const void *new_view;
};

static bool same_version(const void *a, const void *b)
{
    return strcmp(views_meta_of(a)->resource_version,
                  views_meta_of(b)->resource_version) == 0;
}

/* Compares the new content with the old; called with the write lock held.
 * New views get a reference each, so they outlive the lock; the old ones
 * stay alive in the old table until the callbacks are done. */
static size_t diff_tables(const struct store_table *old_t,
                          const struct store_table *new_t,
                          struct store_diff *out)
{
    size_t k = 0;
    for (size_t i = 0; i < new_t->bucket_count; i++) {
        for (const struct store_entry *e = new_t->buckets[i]; e != NULL;
             e = e->next) {
            const struct store_entry *o =
                table_find(old_t, ns_of(e->view), name_of(e->view));
            if (o != NULL && same_version(o->view, e->view))
                continue;
            out[k].change = o != NULL ? STORE_UPDATED : STORE_ADDED;
            out[k].old_view = o != NULL ? o->view : NULL;
            out[k].new_view = e->view;
            views_retain(e->view);
            k++;
        }
    }
    for (size_t i = 0; i < old_t->bucket_count; i++) {
        for (const struct store_entry *o = old_t->buckets[i]; o != NULL;
             o = o->next) {
            if (table_find(new_t, ns_of(o->view), name_of(o->view)) != NULL)
                continue;
            out[k].change = STORE_DELETED;
            out[k].old_view = o->view;
            out[k].new_view = NULL;
            k++;
        }
    }
    return k;
}

/* Builds a table from items, consuming their references (a later duplicate
 * of a namespace/name wins). On error every reference is dropped. */
static enum zl_err build_table(enum views_kind kind, void **items, size_t count,
                               struct store_table *t)
{
    size_t i = 0;
    enum zl_err err = table_init(t);
    for (; err == ZL_OK && i < count; i++) {
        const void *dup = NULL;
        if (views_meta_of(items[i])->kind != kind)
            err = ZL_ERR_INVALID;
        else
            err = table_put(t, items[i], &dup);
        if (err == ZL_OK && dup != NULL)
            views_release(dup);
    }
    if (err == ZL_OK)
        return ZL_OK;
    /* items[i - 1] failed and was not taken; neither were the rest. */
    for (size_t j = i > 0 ? i - 1 : 0; j < count; j++)
        views_release(items[j]);
    if (t->buckets != NULL)
        table_cleanup(t, true);
    return err;
}

enum zl_err store_replace(struct store *s, void **items, size_t count,
                          void (*on_change)(void *ctx, enum store_change c,
                                            const void *old_view,
                                            const void *new_view),
                          void *ctx)
{
    struct store_table fresh;
    struct store_diff *diffs = NULL;
    size_t ndiff = 0;
    enum zl_err err = build_table(s->kind, items, count, &fresh);
    if (err != ZL_OK)
        return err;
    pthread_rwlock_wrlock(&s->lock);
    if (on_change != NULL) {
        /* One slot more: never a zero-size allocation. */
        size_t most = fresh.count + s->t.count + 1;
        diffs = malloc(most * sizeof(*diffs));
        if (diffs == NULL) {
            pthread_rwlock_unlock(&s->lock);
            table_cleanup(&fresh, true);
            return ZL_ERR_NOMEM;
        }
        ndiff = diff_tables(&s->t, &fresh, diffs);
    }
    struct store_table old = s->t;
    s->t = fresh;
    pthread_rwlock_unlock(&s->lock);
    /* Outside the lock: a callback may read the store. */
    for (size_t i = 0; i < ndiff; i++) {
        on_change(ctx, diffs[i].change, diffs[i].old_view, diffs[i].new_view);
        if (diffs[i].new_view != NULL)
            views_release(diffs[i].new_view);
    }
    free(diffs);
    table_cleanup(&old, true);
    return ZL_OK;
}

/* The kinds' own spellings of the above: readers get typed views. */

const struct views_pod *store_get_pod(struct store *s, const char *ns,
                                      const char *name)
{
    if (s->kind != VIEWS_KIND_POD)
        return NULL;
    return views_pod_of(store_get(s, ns, name));
}

const struct views_service *store_get_service(struct store *s, const char *ns,
                                              const char *name)
{
    if (s->kind != VIEWS_KIND_SERVICE)
        return NULL;
    return views_service_of(store_get(s, ns, name));
}

const struct views_endpointslice *
store_get_endpointslice(struct store *s, const char *ns, const char *name)
{
    if (s->kind != VIEWS_KIND_ENDPOINTSLICE)
        return NULL;
    return views_endpointslice_of(store_get(s, ns, name));
}

enum zl_err store_list_pods(struct store *s, const char *ns,
                            const struct views_pod ***pods, size_t *count)
{
    const void **views;
    enum zl_err err = ZL_ERR_INVALID;
    *pods = NULL;
    *count = 0;
    if (s->kind != VIEWS_KIND_POD)
        return err;
    err = store_list(s, ns, &views, count);
    if (err != ZL_OK || *count == 0)
        return err;
    *pods = malloc(*count * sizeof(**pods));
    for (size_t i = 0; *pods != NULL && i < *count; i++)
        (*pods)[i] = views_pod_of(views[i]);
    if (*pods != NULL) {
        free(views);
        return ZL_OK;
    }
    store_release_list(s, views, *count);
    *count = 0;
    return ZL_ERR_NOMEM;
}

void store_release_pods(const struct views_pod **pods, size_t count)
{
    for (size_t i = 0; i < count; i++)
        views_release(pods[i]);
    free(pods);
}

/* store_select for a store of kind alone. */
static enum zl_err select_kind(struct store *s, enum views_kind kind,
                               const char *ns,
                               bool (*keep)(void *ctx, const void *view),
                               void *ctx, const void ***views, size_t *count)
{
    *views = NULL;
    *count = 0;
    if (s->kind != kind)
        return ZL_ERR_INVALID;
    return store_select(s, ns, keep, ctx, views, count);
}

struct pod_keep {
    bool (*keep)(void *ctx, const struct views_pod *pod);
    void *ctx;
};

static bool keep_pod(void *ctx, const void *view)
{
    const struct pod_keep *k = ctx;
    return k->keep == NULL || k->keep(k->ctx, views_pod_of(view));
}

enum zl_err
store_select_pods(struct store *s, const char *ns,
                  bool (*keep)(void *ctx, const struct views_pod *pod),
                  void *ctx, const struct views_pod ***pods, size_t *count)
{
    struct pod_keep k = {keep, ctx};
    const void **views;
    *pods = NULL;
    enum zl_err err =
        select_kind(s, VIEWS_KIND_POD, ns, keep_pod, &k, &views, count);
    if (err != ZL_OK || *count == 0)
        return err;
    *pods = malloc(*count * sizeof(**pods));
    if (*pods == NULL) {
        store_release_list(s, views, *count);
        *count = 0;
        return ZL_ERR_NOMEM;
    }
    for (size_t i = 0; i < *count; i++)
        (*pods)[i] = views_pod_of(views[i]);
    free(views);
    return ZL_OK;
}

enum zl_err store_select_services(struct store *s, const char *ns,
                                  const struct views_service ***svcs,
                                  size_t *count)
{
    const void **views;
    *svcs = NULL;
    enum zl_err err =
        select_kind(s, VIEWS_KIND_SERVICE, ns, NULL, NULL, &views, count);
    if (err != ZL_OK || *count == 0)
        return err;
    *svcs = malloc(*count * sizeof(**svcs));
    if (*svcs == NULL) {
        store_release_list(s, views, *count);
        *count = 0;
        return ZL_ERR_NOMEM;
    }
    for (size_t i = 0; i < *count; i++)
        (*svcs)[i] = views_service_of(views[i]);
    free(views);
    return ZL_OK;
}

void store_release_services(const struct views_service **svcs, size_t count)
{
    for (size_t i = 0; i < count; i++)
        views_release(svcs[i]);
    free(svcs);
}

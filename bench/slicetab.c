/* SPDX-License-Identifier: Apache-2.0 */
/* EndpointSlice table and timed probes (see slicetab.h). */
#include "slicetab.h"

#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"

#define SLICETAB_ZENLEAD "zen-lead"
#define SLICETAB_BUILTIN "endpointslice-controller.k8s.io"

struct slicetab_probe {
    slicetab_pred_fn pred; /* NULL: slot unused */
    void *ctx;
    int64_t fired_ns; /* 0 until it fires */
};

struct slicetab {
    pthread_mutex_t mu;
    pthread_cond_t changed;
    struct slicetab_slice *slices;
    size_t n;
    size_t cap;
    uint64_t events;
    int64_t last_event_ns;
    int max_zenlead_ep;
    struct slicetab_probe probes[SLICETAB_MAX_PROBES];
};

enum zl_err slicetab_new(struct slicetab **out)
{
    struct slicetab *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return ZL_ERR_NOMEM;
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_mutex_init(&t->mu, NULL);
    pthread_cond_init(&t->changed, &attr);
    pthread_condattr_destroy(&attr);
    *out = t;
    return ZL_OK;
}

void slicetab_free(struct slicetab *t)
{
    if (t == NULL)
        return;
    pthread_cond_destroy(&t->changed);
    pthread_mutex_destroy(&t->mu);
    free(t->slices);
    free(t);
}

static const char *slicetab_str(struct json_object *o, const char *key)
{
    struct json_object *v;
    if (o == NULL || !json_object_object_get_ex(o, key, &v) ||
        !json_object_is_type(v, json_type_string))
        return "";
    return json_object_get_string(v);
}

static struct json_object *slicetab_obj(struct json_object *o, const char *key)
{
    struct json_object *v = NULL;
    if (o == NULL || !json_object_object_get_ex(o, key, &v))
        return NULL;
    return v;
}

static bool slicetab_cond(struct json_object *conds, const char *key, bool dflt)
{
    struct json_object *v = slicetab_obj(conds, key);
    if (v == NULL || !json_object_is_type(v, json_type_boolean))
        return dflt;
    return json_object_get_boolean(v);
}

static void slicetab_fill_eps(struct slicetab_slice *s, struct json_object *eps)
{
    s->n_ep = 0;
    if (eps == NULL || !json_object_is_type(eps, json_type_array))
        return;
    size_t n = json_object_array_length(eps);
    s->n_ep = (int)n;
    for (size_t i = 0; i < n && i < SLICETAB_MAX_EP; i++) {
        struct json_object *ep = json_object_array_get_idx(eps, i);
        struct json_object *conds = slicetab_obj(ep, "conditions");
        snprintf(s->ep[i].pod, sizeof(s->ep[i].pod), "%s",
                 slicetab_str(slicetab_obj(ep, "targetRef"), "name"));
        s->ep[i].ready = slicetab_cond(conds, "ready", true);
        s->ep[i].terminating = slicetab_cond(conds, "terminating", false);
    }
}

/* Decodes the fields we keep; false for an object without a name. */
static bool slicetab_decode(struct json_object *obj, struct slicetab_slice *s)
{
    struct json_object *meta = slicetab_obj(obj, "metadata");
    struct json_object *labels = slicetab_obj(meta, "labels");
    const char *managed =
        slicetab_str(labels, "endpointslice.kubernetes.io/managed-by");
    memset(s, 0, sizeof(*s));
    snprintf(s->ns, sizeof(s->ns), "%s", slicetab_str(meta, "namespace"));
    snprintf(s->name, sizeof(s->name), "%s", slicetab_str(meta, "name"));
    snprintf(s->service, sizeof(s->service), "%s",
             slicetab_str(labels, "kubernetes.io/service-name"));
    s->zenlead = strcmp(managed, SLICETAB_ZENLEAD) == 0;
    s->builtin = strcmp(managed, SLICETAB_BUILTIN) == 0;
    slicetab_fill_eps(s, slicetab_obj(obj, "endpoints"));
    return s->name[0] != '\0';
}

static struct slicetab_slice *slicetab_slot(struct slicetab *t,
                                            const struct slicetab_slice *s)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->slices[i].name, s->name) == 0 &&
            strcmp(t->slices[i].ns, s->ns) == 0)
            return &t->slices[i];
    if (t->n == t->cap) {
        size_t cap = t->cap == 0 ? 64 : t->cap * 2;
        struct slicetab_slice *p = realloc(t->slices, cap * sizeof(*p));
        if (p == NULL)
            return NULL;
        t->slices = p;
        t->cap = cap;
    }
    return &t->slices[t->n++];
}

static void slicetab_test_probes(struct slicetab *t, int64_t t_ns)
{
    for (int i = 0; i < SLICETAB_MAX_PROBES; i++) {
        struct slicetab_probe *p = &t->probes[i];
        if (p->pred != NULL && p->fired_ns == 0 && p->pred(t, p->ctx))
            p->fired_ns = t_ns;
    }
}

void slicetab_on_event(void *ctx, int64_t t_ns, enum watch_type type,
                       struct json_object *object)
{
    struct slicetab *t = ctx;
    struct slicetab_slice s;
    if (!slicetab_decode(object, &s))
        return;
    s.gone = type == WATCH_DELETED;
    pthread_mutex_lock(&t->mu);
    struct slicetab_slice *slot = slicetab_slot(t, &s);
    if (slot != NULL)
        *slot = s;
    if (s.zenlead && !s.gone && s.n_ep > t->max_zenlead_ep)
        t->max_zenlead_ep = s.n_ep;
    t->events++;
    t->last_event_ns = t_ns;
    slicetab_test_probes(t, t_ns);
    pthread_cond_broadcast(&t->changed);
    pthread_mutex_unlock(&t->mu);
}

bool slicetab_arm(struct slicetab *t, int slot, slicetab_pred_fn pred,
                  void *ctx)
{
    pthread_mutex_lock(&t->mu);
    bool holds = pred(t, ctx);
    t->probes[slot] = (struct slicetab_probe){pred, ctx, 0};
    pthread_mutex_unlock(&t->mu);
    return !holds;
}

void slicetab_disarm(struct slicetab *t, int slot)
{
    pthread_mutex_lock(&t->mu);
    t->probes[slot] = (struct slicetab_probe){NULL, NULL, 0};
    pthread_mutex_unlock(&t->mu);
}

static struct timespec slicetab_abs(int64_t ns)
{
    struct timespec ts = {(time_t)(ns / CLOCK_NS_PER_S),
                          (long)(ns % CLOCK_NS_PER_S)};
    return ts;
}

static bool slicetab_all_fired(const struct slicetab *t)
{
    for (int i = 0; i < SLICETAB_MAX_PROBES; i++)
        if (t->probes[i].pred != NULL && t->probes[i].fired_ns == 0)
            return false;
    return true;
}

bool slicetab_wait(struct slicetab *t, int64_t deadline_ns,
                   int64_t times[SLICETAB_MAX_PROBES])
{
    struct timespec abs = slicetab_abs(deadline_ns);
    pthread_mutex_lock(&t->mu);
    while (!slicetab_all_fired(t) && clock_mono_ns() < deadline_ns)
        pthread_cond_timedwait(&t->changed, &t->mu, &abs);
    bool all = slicetab_all_fired(t);
    for (int i = 0; i < SLICETAB_MAX_PROBES; i++)
        times[i] = t->probes[i].fired_ns;
    pthread_mutex_unlock(&t->mu);
    return all;
}

bool slicetab_wait_quiet(struct slicetab *t, slicetab_pred_fn pred, void *ctx,
                         int64_t quiet_ns, int64_t deadline_ns)
{
    pthread_mutex_lock(&t->mu);
    bool ok = false;
    for (;;) {
        int64_t now = clock_mono_ns();
        bool holds = pred(t, ctx);
        if (holds && now - t->last_event_ns >= quiet_ns) {
            ok = true;
            break;
        }
        if (now >= deadline_ns)
            break;
        int64_t until = holds ? t->last_event_ns + quiet_ns : deadline_ns;
        if (until > deadline_ns)
            until = deadline_ns;
        struct timespec abs = slicetab_abs(until);
        pthread_cond_timedwait(&t->changed, &t->mu, &abs);
    }
    pthread_mutex_unlock(&t->mu);
    return ok;
}

size_t slicetab_count(const struct slicetab *t)
{
    return t->n;
}

const struct slicetab_slice *slicetab_at(const struct slicetab *t, size_t i)
{
    return i < t->n ? &t->slices[i] : NULL;
}

const struct slicetab_slice *slicetab_find(const struct slicetab *t,
                                           const char *ns, const char *name)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->slices[i].name, name) == 0 &&
            strcmp(t->slices[i].ns, ns) == 0 && !t->slices[i].gone)
            return &t->slices[i];
    return NULL;
}

void slicetab_lock(struct slicetab *t)
{
    pthread_mutex_lock(&t->mu);
}

void slicetab_unlock(struct slicetab *t)
{
    pthread_mutex_unlock(&t->mu);
}

int slicetab_max_zenlead_endpoints(struct slicetab *t)
{
    pthread_mutex_lock(&t->mu);
    int n = t->max_zenlead_ep;
    pthread_mutex_unlock(&t->mu);
    return n;
}

uint64_t slicetab_events(struct slicetab *t)
{
    pthread_mutex_lock(&t->mu);
    uint64_t n = t->events;
    pthread_mutex_unlock(&t->mu);
    return n;
}

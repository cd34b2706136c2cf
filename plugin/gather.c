/* SPDX-License-Identifier: Apache-2.0 */
/* Reading an annotated Service and its surroundings for kubectl-zenlead:
 * GETs and LISTs only, each failure kept as a state beside the data. */
#include "plugin/gather.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/json.h"
#include "kube/lease.h"
#include "kube/listpage.h"
#include "kube/listviews.h"
#include "zenlead/annotations.h"
#include "zenlead/selector.h"

#define PAGE_LIMIT 500

enum gather_state gather_state_of(enum zl_err err)
{
    switch (err) {
    case ZL_OK:
        return GATHER_OK;
    case ZL_ERR_NOTFOUND:
        return GATHER_ABSENT;
    case ZL_ERR_FORBIDDEN:
        return GATHER_FORBIDDEN;
    default:
        return GATHER_FAILED;
    }
}

/* Keeps the first failure's text: which request, and the answer. */
static void note_error(char err[GATHER_ERROR_MAX], const char *what,
                       enum zl_err rc, const struct client_response *resp)
{
    if (err[0] != '\0' || rc == ZL_OK || rc == ZL_ERR_NOTFOUND)
        return;
    if (resp != NULL && resp->http_code != 0 && resp->status.message[0])
        snprintf(err, GATHER_ERROR_MAX, "%.200s: %.280s (HTTP %ld)", what,
                 resp->status.message, resp->http_code);
    else
        snprintf(err, GATHER_ERROR_MAX, "%.200s: %s", what, zl_err_str(rc));
}

static int cmp_meta_name(const void *a, const void *b)
{
    const struct views_meta *ma = *(void *const *)a;
    const struct views_meta *mb = *(void *const *)b;
    int c = strcmp(ma->namespace_name, mb->namespace_name);
    return c != 0 ? c : strcmp(ma->name, mb->name);
}

/* ---- the source and the leader Service ---------------------------------- */

static enum zl_err get_service(struct client *c, const char *ns,
                               const char *name, enum gather_state *state,
                               struct views_service **out, char *err)
{
    struct client_response resp;
    char what[GATHER_ERROR_MAX];
    client_response_init(&resp);
    enum zl_err rc = client_get(c, &CLIENT_SERVICES, ns, name, &resp);
    if (rc == ZL_OK)
        rc = views_service_parse(resp.body.data, resp.body.len, out);
    snprintf(what, sizeof(what), "get service %s/%s", ns, name);
    note_error(err, what, rc, &resp);
    *state = gather_state_of(rc);
    client_response_cleanup(&resp);
    return rc == ZL_ERR_NOMEM ? rc : ZL_OK;
}

/* The leader name the controller would use (the annotation, else
 * <source>-leader), NULL when it has none. */
static enum zl_err leader_name_of(const struct views_service *src, char **out)
{
    struct annotations_result ann;
    enum zl_err rc = annotations_parse(&src->annotations, src->meta.name, &ann);
    *out = NULL;
    if (rc == ZL_OK && ann.settings.leader_name[0] != '\0') {
        *out = strdup(ann.settings.leader_name);
        if (*out == NULL)
            rc = ZL_ERR_NOMEM;
    }
    annotations_result_cleanup(&ann);
    return rc;
}

/* ---- slices and pods ----------------------------------------------------- */

static enum zl_err list_into(struct client *c,
                             const struct client_resource *res, const char *ns,
                             const char *labels, struct listviews *l,
                             enum gather_state *state, char *err)
{
    struct client_response resp;
    struct client_list_options lo = {.label_selector = labels};
    char what[GATHER_ERROR_MAX];
    client_response_init(&resp);
    enum zl_err rc = listviews_list(c, res, ns, &lo, PAGE_LIMIT, l, &resp);
    snprintf(what, sizeof(what), "list %s in %s", res->plural,
             ns != NULL ? ns : "all namespaces");
    note_error(err, what, rc, &resp);
    *state = gather_state_of(rc);
    client_response_cleanup(&resp);
    return rc == ZL_ERR_NOMEM ? rc : ZL_OK;
}

static enum zl_err read_slices(struct client *c, struct gather_service *g)
{
    struct listviews l = {.kind = VIEWS_KIND_ENDPOINTSLICE};
    struct buf sel;
    enum zl_err rc;
    void **items;

    buf_init(&sel, 512);
    rc = buf_printf(&sel, "%s=%s", VIEWS_LABEL_SERVICE_NAME, g->leader_name);
    if (rc == ZL_OK)
        rc = list_into(c, &CLIENT_ENDPOINTSLICES, g->namespace_name, sel.data,
                       &l, &g->slices_state, g->error);
    buf_cleanup(&sel);
    listviews_take(&l, &items, &g->slice_count);
    g->slices = (struct views_endpointslice **)items;
    if (g->slice_count > 1)
        qsort(g->slices, g->slice_count, sizeof(*g->slices), cmp_meta_name);
    return rc;
}

/* The pods worth showing: those the selector matches, and the one a slice
 * names (to say why it no longer leads). */
struct pod_filter {
    const struct gather_service *g;
};

static bool slice_names(const struct gather_service *g,
                        const struct views_pod *pod)
{
    for (size_t i = 0; i < g->slice_count; i++) {
        const struct views_endpointslice *s = g->slices[i];
        for (size_t j = 0; j < s->endpoint_count; j++) {
            const char *uid = s->endpoints[j].target_ref.uid;
            if (uid != NULL && pod->meta.uid != NULL &&
                strcmp(uid, pod->meta.uid) == 0)
                return true;
        }
    }
    return false;
}

static bool keep_pod(const void *ctx, const void *view)
{
    const struct pod_filter *f = ctx;
    const struct views_pod *pod = view;
    if (f->g->source->has_selector && selector_matches_pod(f->g->source, pod))
        return true;
    return slice_names(f->g, pod);
}

static enum zl_err read_pods(struct client *c, struct gather_service *g)
{
    struct pod_filter f = {.g = g};
    struct listviews l = {
        .kind = VIEWS_KIND_POD, .keep = keep_pod, .keep_ctx = &f};
    void **items;
    enum zl_err rc = list_into(c, &CLIENT_PODS, g->namespace_name, NULL, &l,
                               &g->pods_state, g->error);
    listviews_take(&l, &items, &g->pod_count);
    g->pods = (struct views_pod **)items;
    if (g->pod_count > 1)
        qsort(g->pods, g->pod_count, sizeof(*g->pods), cmp_meta_name);
    return rc;
}

/* ---- Events -------------------------------------------------------------- */

struct event_list {
    struct gather_event *items;
    size_t count;
};

static const char *str_field(struct json_object *o, const char *key)
{
    struct json_object *v;
    if (o == NULL || !json_object_object_get_ex(o, key, &v) ||
        !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

static int64_t time_field(struct json_object *o, const char *key)
{
    int64_t ms = VIEWS_TIME_NONE;
    const char *text = str_field(o, key);
    if (text != NULL && clock_parse_rfc3339(text, &ms) != ZL_OK)
        ms = VIEWS_TIME_NONE;
    return ms;
}

static char *dup_or_empty(const char *s)
{
    return strdup(s != NULL ? s : "");
}

static int64_t first_time(int64_t a, int64_t b, int64_t c)
{
    if (a != VIEWS_TIME_NONE)
        return a;
    return b != VIEWS_TIME_NONE ? b : c;
}

static uint64_t resource_version(struct json_object *o)
{
    struct json_object *meta = NULL;
    json_object_object_get_ex(o, "metadata", &meta);
    const char *rv = str_field(meta, "resourceVersion");
    uint64_t v = 0;
    if (rv == NULL || rv[0] == '\0' || strlen(rv) > 19)
        return 0;
    for (const char *p = rv; *p != '\0'; p++) {
        if (*p < '0' || *p > '9')
            return 0;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    return v;
}

static void event_cleanup(struct gather_event *e)
{
    free(e->type);
    free(e->reason);
    free(e->message);
    free(e->object_kind);
    free(e->object_name);
    free(e->component);
    memset(e, 0, sizeof(*e));
}

/* Who reported it: source.component (core Events), else the
 * reportingComponent of events.k8s.io-style writers. */
static const char *component_of(struct json_object *o)
{
    struct json_object *source = NULL;
    json_object_object_get_ex(o, "source", &source);
    const char *c = str_field(source, "component");
    return c != NULL && c[0] != '\0' ? c : str_field(o, "reportingComponent");
}

static enum zl_err event_from(struct json_object *o, struct gather_event *e)
{
    struct json_object *obj = NULL, *series = NULL, *count = NULL;
    json_object_object_get_ex(o, "involvedObject", &obj);
    json_object_object_get_ex(o, "series", &series);
    int64_t event_time = time_field(o, "eventTime");
    e->first_ms = first_time(time_field(o, "firstTimestamp"), event_time,
                             VIEWS_TIME_NONE);
    e->last_ms = first_time(
        time_field(o, "lastTimestamp"), time_field(series, "lastObservedTime"),
        first_time(event_time, e->first_ms, VIEWS_TIME_NONE));
    e->order = resource_version(o);
    e->count = 1;
    if (json_object_object_get_ex(o, "count", &count) &&
        json_object_is_type(count, json_type_int) &&
        json_object_get_int(count) > 1)
        e->count = json_object_get_int(count);
    e->type = dup_or_empty(str_field(o, "type"));
    e->reason = dup_or_empty(str_field(o, "reason"));
    e->message = dup_or_empty(str_field(o, "message"));
    e->object_kind = dup_or_empty(str_field(obj, "kind"));
    e->object_name = dup_or_empty(str_field(obj, "name"));
    e->component = dup_or_empty(component_of(o));
    if (e->type == NULL || e->reason == NULL || e->message == NULL ||
        e->object_kind == NULL || e->object_name == NULL ||
        e->component == NULL) {
        event_cleanup(e);
        return ZL_ERR_NOMEM;
    }
    return ZL_OK;
}

static enum zl_err event_item(void *ctx, const char *text, size_t len)
{
    struct event_list *l = ctx;
    struct json_object *o = NULL;
    enum zl_err rc = json_parse_object(text, len, &o);
    if (rc != ZL_OK)
        return rc;
    /* Grows by powers of two: the capacity is implied by the count. */
    size_t count = l->count;
    if (count == 0 || (count >= 16 && (count & (count - 1)) == 0)) {
        size_t cap = count == 0 ? 16 : count * 2;
        struct gather_event *items = realloc(l->items, cap * sizeof(*items));
        if (items == NULL) {
            json_object_put(o);
            return ZL_ERR_NOMEM;
        }
        l->items = items;
    }
    memset(&l->items[l->count], 0, sizeof(l->items[0]));
    rc = event_from(o, &l->items[l->count]);
    json_object_put(o);
    if (rc == ZL_OK)
        l->count++;
    return rc;
}

static enum zl_err list_events(struct client *c, struct gather_service *g,
                               const char *object, struct event_list *l)
{
    struct client_response resp;
    struct buf sel;
    char what[GATHER_ERROR_MAX];
    enum zl_err rc;

    buf_init(&sel, 512);
    client_response_init(&resp);
    rc = buf_printf(&sel, "involvedObject.kind=Service,involvedObject.name=%s",
                    object);
    if (rc == ZL_OK) {
        struct client_list_options lo = {.field_selector = sel.data};
        rc = client_list(c, &CLIENT_EVENTS, g->namespace_name, &lo, &resp);
    }
    if (rc == ZL_OK)
        rc = gather_events_parse(resp.body.data, resp.body.len, &l->items,
                                 &l->count);
    snprintf(what, sizeof(what), "list events of service %s/%s",
             g->namespace_name, object);
    note_error(g->error, what, rc, &resp);
    if (g->events_state == GATHER_OK)
        g->events_state = gather_state_of(rc);
    client_response_cleanup(&resp);
    buf_cleanup(&sel);
    return rc == ZL_ERR_NOMEM ? rc : ZL_OK;
}

static int cmp_event(const void *a, const void *b)
{
    const struct gather_event *ea = a, *eb = b;
    if (ea->last_ms != eb->last_ms)
        return ea->last_ms < eb->last_ms ? -1 : 1;
    if (ea->order != eb->order)
        return ea->order < eb->order ? -1 : 1;
    return strcmp(ea->reason, eb->reason);
}

void gather_events_sort(struct gather_event *items, size_t count)
{
    if (count > 1)
        qsort(items, count, sizeof(*items), cmp_event);
}

enum zl_err gather_events_parse(const char *body, size_t len,
                                struct gather_event **items, size_t *count)
{
    struct event_list l = {.items = *items, .count = *count};
    struct json_object *meta = NULL;
    enum zl_err rc = listpage_walk(body, len, event_item, &l, &meta);
    json_object_put(meta);
    *items = l.items;
    *count = l.count;
    return rc;
}

void gather_events_free(struct gather_event *items, size_t count)
{
    for (size_t i = 0; i < count; i++)
        event_cleanup(&items[i]);
    free(items);
}

static enum zl_err read_events(struct client *c, struct gather_service *g)
{
    struct event_list l = {0};
    enum zl_err rc = list_events(c, g, g->name, &l);
    if (rc == ZL_OK && g->leader_name != NULL)
        rc = list_events(c, g, g->leader_name, &l);
    gather_events_sort(l.items, l.count);
    g->events = l.items;
    g->event_count = l.count;
    return rc;
}

/* ---- one Service --------------------------------------------------------- */

static enum zl_err set_names(struct gather_service *g, const char *ns,
                             const char *name)
{
    g->namespace_name = strdup(ns);
    g->name = strdup(name);
    return g->namespace_name != NULL && g->name != NULL ? ZL_OK : ZL_ERR_NOMEM;
}

static enum zl_err gather_around(struct client *c, struct gather_service *g,
                                 bool with_events)
{
    enum zl_err rc = leader_name_of(g->source, &g->leader_name);
    if (rc == ZL_OK && g->leader_name != NULL)
        rc = get_service(c, g->namespace_name, g->leader_name, &g->leader_state,
                         &g->leader, g->error);
    if (rc == ZL_OK && g->leader_name != NULL)
        rc = read_slices(c, g);
    if (rc == ZL_OK)
        rc = read_pods(c, g);
    if (rc == ZL_OK && with_events)
        rc = read_events(c, g);
    return rc;
}

enum zl_err gather_service(struct client *c, const char *ns, const char *name,
                           struct gather_service *out)
{
    if (out == NULL)
        return ZL_ERR_INVALID;
    memset(out, 0, sizeof(*out));
    out->leader_state = GATHER_ABSENT;
    out->slices_state = GATHER_ABSENT;
    out->pods_state = GATHER_ABSENT;
    out->events_state = GATHER_OK;
    if (c == NULL || ns == NULL || name == NULL)
        return ZL_ERR_INVALID;
    enum zl_err rc = set_names(out, ns, name);
    if (rc == ZL_OK)
        rc = get_service(c, ns, name, &out->source_state, &out->source,
                         out->error);
    if (rc != ZL_OK || out->source == NULL)
        return rc;
    return gather_around(c, out, true);
}

/* ---- every annotated Service --------------------------------------------- */

static bool keep_annotated(const void *ctx, const void *view)
{
    (void)ctx;
    const struct views_service *svc = view;
    return views_map_get(&svc->annotations, ANNOTATIONS_ENABLED) != NULL;
}

/* The views of one namespace and leader from the cluster-wide lists, each
 * retained for g. */
static enum zl_err pick_slices(struct gather_service *g,
                               const struct listviews *slices)
{
    g->slices = calloc(slices->count + 1, sizeof(*g->slices));
    if (g->slices == NULL)
        return ZL_ERR_NOMEM;
    g->slices_state = GATHER_OK;
    for (size_t i = 0; g->leader_name != NULL && i < slices->count; i++) {
        struct views_endpointslice *s = slices->items[i];
        if (strcmp(s->meta.namespace_name, g->namespace_name) != 0 ||
            s->service_name == NULL ||
            strcmp(s->service_name, g->leader_name) != 0)
            continue;
        views_retain(s);
        g->slices[g->slice_count++] = s;
    }
    return ZL_OK;
}

static enum zl_err pick_pods(struct gather_service *g,
                             const struct listviews *pods)
{
    struct pod_filter f = {.g = g};
    g->pods = calloc(pods->count + 1, sizeof(*g->pods));
    if (g->pods == NULL)
        return ZL_ERR_NOMEM;
    g->pods_state = GATHER_OK;
    for (size_t i = 0; i < pods->count; i++) {
        struct views_pod *p = pods->items[i];
        if (strcmp(p->meta.namespace_name, g->namespace_name) != 0 ||
            !keep_pod(&f, p))
            continue;
        views_retain(p);
        g->pods[g->pod_count++] = p;
    }
    return ZL_OK;
}

static struct views_service *find_service(const struct listviews *all,
                                          const char *ns, const char *name)
{
    for (size_t i = 0; i < all->count; i++) {
        struct views_service *s = all->items[i];
        if (strcmp(s->meta.namespace_name, ns) == 0 &&
            strcmp(s->meta.name, name) == 0)
            return s;
    }
    return NULL;
}

struct lists {
    struct listviews all;    /* every Service */
    struct listviews slices; /* managed slices */
    struct listviews pods;
    enum gather_state slices_state;
    enum gather_state pods_state;
};

static enum zl_err fill_one(struct gather_service *g, struct lists *ls,
                            struct views_service *src)
{
    enum zl_err rc = set_names(g, src->meta.namespace_name, src->meta.name);
    views_retain(src);
    g->source = src;
    g->source_state = GATHER_OK;
    g->events_state = GATHER_ABSENT;
    if (rc == ZL_OK)
        rc = leader_name_of(src, &g->leader_name);
    g->leader_state = GATHER_ABSENT;
    if (rc == ZL_OK && g->leader_name != NULL) {
        struct views_service *l =
            find_service(&ls->all, g->namespace_name, g->leader_name);
        if (l != NULL) {
            views_retain(l);
            g->leader = l;
            g->leader_state = GATHER_OK;
        }
    }
    if (rc == ZL_OK)
        rc = pick_slices(g, &ls->slices);
    if (rc == ZL_OK)
        rc = pick_pods(g, &ls->pods);
    g->slices_state = ls->slices_state;
    g->pods_state = ls->pods_state;
    return rc;
}

static enum zl_err read_lists(struct client *c, const char *ns,
                              struct lists *ls, char err[GATHER_ERROR_MAX])
{
    enum gather_state svc_state;
    enum zl_err rc =
        list_into(c, &CLIENT_SERVICES, ns, NULL, &ls->all, &svc_state, err);
    if (rc != ZL_OK)
        return rc;
    if (svc_state != GATHER_OK)
        return svc_state == GATHER_FORBIDDEN ? ZL_ERR_FORBIDDEN
                                             : ZL_ERR_TRANSIENT;
    char ignored[GATHER_ERROR_MAX] = "";
    rc = list_into(c, &CLIENT_ENDPOINTSLICES, ns,
                   VIEWS_LABEL_MANAGED_BY "=zen-lead", &ls->slices,
                   &ls->slices_state, ignored);
    if (rc == ZL_OK)
        rc = list_into(c, &CLIENT_PODS, ns, NULL, &ls->pods, &ls->pods_state,
                       ignored);
    return rc;
}

enum zl_err gather_annotated(struct client *c, const char *ns,
                             struct gather_service **out, size_t *count,
                             char err[GATHER_ERROR_MAX])
{
    struct lists ls = {
        .all = {.kind = VIEWS_KIND_SERVICE},
        .slices = {.kind = VIEWS_KIND_ENDPOINTSLICE},
        .pods = {.kind = VIEWS_KIND_POD},
    };
    struct gather_service *list = NULL;
    size_t n = 0;

    *out = NULL;
    *count = 0;
    err[0] = '\0';
    enum zl_err rc = read_lists(c, ns, &ls, err);
    if (rc == ZL_OK) {
        list = calloc(ls.all.count + 1, sizeof(*list));
        if (list == NULL)
            rc = ZL_ERR_NOMEM;
    }
    if (rc == ZL_OK && ls.all.count > 1)
        qsort(ls.all.items, ls.all.count, sizeof(void *), cmp_meta_name);
    for (size_t i = 0; rc == ZL_OK && i < ls.all.count; i++) {
        if (!keep_annotated(NULL, ls.all.items[i]))
            continue;
        rc = fill_one(&list[n++], &ls, ls.all.items[i]);
    }
    listviews_clear(&ls.all);
    listviews_clear(&ls.slices);
    listviews_clear(&ls.pods);
    if (rc != ZL_OK) {
        gather_services_free(list, n);
        return rc;
    }
    *out = list;
    *count = n;
    return ZL_OK;
}

/* ---- the Lease ----------------------------------------------------------- */

enum zl_err gather_lease(struct client *c, const char *ns, const char *name,
                         struct gather_lease *out)
{
    struct client_response resp;
    struct lease_record rec;
    char what[GATHER_ERROR_MAX];

    memset(out, 0, sizeof(*out));
    out->renew_ms = VIEWS_TIME_NONE;
    out->namespace_name = strdup(ns);
    out->name = strdup(name);
    if (out->namespace_name == NULL || out->name == NULL)
        return ZL_ERR_NOMEM;
    client_response_init(&resp);
    enum zl_err rc = client_get(c, &CLIENT_LEASES, ns, name, &resp);
    if (rc == ZL_OK)
        rc = lease_record_parse(resp.body.data, resp.body.len, &rec);
    snprintf(what, sizeof(what), "get lease %s/%s", ns, name);
    note_error(out->error, what, rc, &resp);
    out->state = gather_state_of(rc);
    client_response_cleanup(&resp);
    if (rc != ZL_OK)
        return rc == ZL_ERR_NOMEM ? rc : ZL_OK;
    out->duration_s = rec.duration_s;
    out->transitions = rec.transitions;
    if (rec.renew_time[0] != '\0' &&
        clock_parse_rfc3339(rec.renew_time, &out->renew_ms) != ZL_OK)
        out->renew_ms = VIEWS_TIME_NONE;
    if (rec.holder[0] != '\0') {
        out->holder = strdup(rec.holder);
        if (out->holder == NULL)
            return ZL_ERR_NOMEM;
    }
    return ZL_OK;
}

/* ---- cleanup ------------------------------------------------------------- */

void gather_service_cleanup(struct gather_service *g)
{
    if (g == NULL)
        return;
    views_release(g->source);
    views_release(g->leader);
    for (size_t i = 0; i < g->slice_count; i++)
        views_release(g->slices[i]);
    free(g->slices);
    for (size_t i = 0; i < g->pod_count; i++)
        views_release(g->pods[i]);
    free(g->pods);
    gather_events_free(g->events, g->event_count);
    free(g->namespace_name);
    free(g->name);
    free(g->leader_name);
    memset(g, 0, sizeof(*g));
}

void gather_services_free(struct gather_service *list, size_t count)
{
    if (list == NULL)
        return;
    for (size_t i = 0; i < count; i++)
        gather_service_cleanup(&list[i]);
    free(list);
}

void gather_lease_cleanup(struct gather_lease *l)
{
    if (l == NULL)
        return;
    free(l->namespace_name);
    free(l->name);
    free(l->holder);
    memset(l, 0, sizeof(*l));
}

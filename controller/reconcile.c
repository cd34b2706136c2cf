/* SPDX-License-Identifier: Apache-2.0 */
/* Reconcile of one source Service: snapshot, decide, render, write what
 * differs, clean up, report. */
#include "controller/reconcile.h"

#include <json-c/json.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/sync.h"
#include "controller/decision.h"
#include "controller/diff.h"
#include "controller/keymap.h"
#include "controller/mapping.h"
#include "controller/telemetry.h"
#include "kube/views.h"
#include "zenlead/annotations.h"
#include "zenlead/leader.h"
#include "zenlead/ownership.h"
#include "zenlead/render.h"
#include "zenlead/selector.h"

#define MAX_UID 128

struct run {
    const struct reconcile_deps *d;
    const char *key;
    int64_t now_ms;
    const struct views_service *src;
    const char *leader_name;
    const struct views_service *leader_svc;
    size_t family_count;
    const struct views_pod **pods;
    size_t pod_count;
    int64_t stamp_ns;
    int64_t accepted_ns;
    const struct views_endpointslice *slices[2];
    struct leader_current cur;
    struct leader_decision dec;
    struct annotations_result ann;
    enum views_ip_family families[2];
    bool ann_ok;
    bool has_dec;
    bool has_stamp;
    bool slice_written;
    bool created_service;
    char ns[MAPPING_MAX_KEY];
    char name[MAPPING_MAX_KEY];
    char leader_uid[MAX_UID];
    char slice_names[2][RENDER_MAX_SLICE_NAME];
};

static int64_t real_now_ms(void)
{
    return clock_real_ns() / CLOCK_NS_PER_MS;
}

int64_t reconcile_requeue_ns(int64_t next_check_ms, int64_t now_ms)
{
    if (next_check_ms == VIEWS_TIME_NONE)
        return -1;
    int64_t delay_ms = next_check_ms - now_ms;
    if (delay_ms < 1)
        delay_ms = 1;
    return delay_ms * INT64_C(1000000);
}

int64_t reconcile_retry_soon_ns(enum zl_err err, bool unreachable)
{
    if (err == ZL_ERR_TRANSIENT && unreachable)
        return (int64_t)RECONCILE_UNREACHABLE_RETRY_MS * CLOCK_NS_PER_MS;
    return -1;
}

const char *reconcile_error_type(enum zl_err err)
{
    switch (err) {
    case ZL_ERR_CONFLICT:
        return "conflict";
    case ZL_ERR_EXISTS:
        return "exists";
    case ZL_ERR_NOTFOUND:
        return "notFound";
    case ZL_ERR_FORBIDDEN:
        return "forbidden";
    case ZL_ERR_INVALID:
        return "invalid";
    case ZL_ERR_TRANSIENT:
        return "transient";
    case ZL_ERR_TIMEOUT:
        return "timeout";
    case ZL_ERR_NOMEM:
        return "nomem";
    default:
        return "other";
    }
}

/* ---- small helpers ---------------------------------------------------- */

static bool may_write(const struct run *r)
{
    return r->d->may_write == NULL || r->d->may_write(r->d->may_write_ctx);
}

static uint64_t fingerprint(const char *a, const char *b)
{
    uint64_t h = 1469598103934665603ULL;
    for (const char *p = a; p != NULL && *p != '\0'; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    h = (h ^ 0xff) * 1099511628211ULL;
    for (const char *p = b; p != NULL && *p != '\0'; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    return h & INT64_MAX;
}

/* "key#what" for the warned map. */
static void warn_key(const struct run *r, const char *what, char *out, size_t n)
{
    snprintf(out, n, "%s#%s", r->key, what);
}

/* True when the warning (what, text) was not the last one emitted for
 * this key and slot; remembers it. */
static bool warn_is_new(const struct run *r, const char *what, const char *text)
{
    char k[MAPPING_MAX_KEY + 32];
    int64_t old;
    int64_t fp = (int64_t)fingerprint(what, text);
    warn_key(r, what, k, sizeof(k));
    if (r->d->warned == NULL)
        return true;
    if (keymap_get(r->d->warned, k, &old) && old == fp)
        return false;
    keymap_set(r->d->warned, k, fp);
    return true;
}

static void warn_clear(const struct run *r, const char *what)
{
    char k[MAPPING_MAX_KEY + 32];
    warn_key(r, what, k, sizeof(k));
    if (r->d->warned != NULL)
        keymap_take(r->d->warned, k, NULL);
}

static void event_on(const struct run *r, const char *name, const char *uid,
                     enum events_type type, const char *reason, const char *fmt,
                     ...) __attribute__((format(printf, 6, 7)));

static void event_on(const struct run *r, const char *name, const char *uid,
                     enum events_type type, const char *reason, const char *fmt,
                     ...)
{
    if (r->d->events == NULL || name == NULL)
        return;
    char msg[EVENTS_MAX_MESSAGE];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    struct events_object obj = {
        .kind = "Service",
        .api_version = "v1",
        .ns = r->ns,
        .name = name,
        .uid = uid,
    };
    events_record(r->d->events, &obj, type, reason, "%s", msg);
}

/* A Warning on the source, once per distinct text. */
static void warn_once(const struct run *r, const char *reason, const char *text)
{
    if (warn_is_new(r, reason, text))
        event_on(r, r->src->meta.name, r->src->meta.uid, EVENTS_WARNING, reason,
                 "%s", text);
}

/* A leader Service we made for the source called source (src_uid NULL when
 * the source is gone): the rule the webhook's V4 applies too. */
static bool service_ours(const struct views_service *svc, const char *source,
                         const char *src_uid)
{
    return ownership_leader_is_ours(svc, source, src_uid);
}

/* A slice we made for the source called source (ownership.h). */
static bool slice_ours(const struct views_endpointslice *eps,
                       const char *source, const char *leader_name,
                       const char *leader_uid)
{
    return ownership_slice_is_ours(eps, source, leader_name, leader_uid);
}

/* ---- API writes --------------------------------------------------------- */

static void log_write_error(const struct run *r, const char *what,
                            const char *name, enum zl_err rc,
                            const struct client_response *resp)
{
    /* A conflict or AlreadyExists means the cache was behind the API
     * server: expected now and then, retried at once with backoff. */
    enum log_level level = rc == ZL_ERR_CONFLICT || rc == ZL_ERR_EXISTS
                               ? LOG_LEVEL_DEBUG
                               : LOG_LEVEL_WARN;
    log_printf(level, "%s %s/%s failed: %s (HTTP %ld %s: %s)", what, r->ns,
               name, zl_err_str(rc), resp->http_code, resp->status.reason,
               resp->status.message);
}

static enum zl_err delete_object(const struct run *r,
                                 const struct client_resource *res,
                                 const char *name, const char *uid)
{
    if (!may_write(r))
        return ZL_ERR_CANCELLED;
    struct client_response resp;
    struct client_delete_options opt = {
        .uid = uid, .grace_period_seconds = -1, .propagation = "Background"};
    client_response_init(&resp);
    enum zl_err rc = client_delete(r->d->client, res, r->ns, name, &opt, &resp);
    if (rc == ZL_ERR_NOTFOUND)
        rc = ZL_OK; /* gone already */
    if (rc != ZL_OK)
        log_write_error(r, "delete", name, rc, &resp);
    else
        log_info("deleted %s %s/%s (no longer needed)", res->kind, r->ns, name);
    client_response_cleanup(&resp);
    return rc;
}

/* Adds metadata.uid (and resourceVersion when rv is set) to a document. */
static enum zl_err set_preconditions(struct json_object *doc, const char *uid,
                                     const char *rv)
{
    struct json_object *meta = NULL;
    if (!json_object_object_get_ex(doc, "metadata", &meta))
        return ZL_ERR_INTERNAL;
    if (uid != NULL &&
        json_object_object_add(meta, "uid", json_object_new_string(uid)) != 0)
        return ZL_ERR_NOMEM;
    if (rv != NULL && json_object_object_add(meta, "resourceVersion",
                                             json_object_new_string(rv)) != 0)
        return ZL_ERR_NOMEM;
    return ZL_OK;
}

enum write_kind { WRITE_CREATE, WRITE_APPLY, WRITE_UPDATE };

/* Sends doc; resp holds the answer. */
static enum zl_err send_doc(const struct run *r,
                            const struct client_resource *res, const char *name,
                            struct json_object *doc, enum write_kind kind,
                            struct client_response *resp)
{
    if (!may_write(r))
        return ZL_ERR_CANCELLED;
    char *body = NULL;
    enum zl_err rc = render_to_string(doc, &body);
    if (rc != ZL_OK)
        return rc;
    struct client *c = r->d->client;
    if (kind == WRITE_CREATE)
        rc = client_create(c, res, r->ns, body, resp);
    else if (kind == WRITE_APPLY)
        rc = client_apply(c, res, r->ns, name, NULL, body, RENDER_MANAGER, true,
                          resp);
    else
        rc = client_update(c, res, r->ns, name, NULL, body, resp);
    free(body);
    if (rc != ZL_OK)
        log_write_error(r, kind == WRITE_CREATE ? "create" : "write", name, rc,
                        resp);
    return rc;
}

/* ---- snapshot ------------------------------------------------------------ */

static void release_snapshot(struct run *r)
{
    const struct reconcile_deps *d = r->d;
    store_release(d->services, r->src);
    store_release(d->services, r->leader_svc);
    for (size_t i = 0; i < 2; i++)
        store_release(d->slices, r->slices[i]);
    store_release_pods(r->pods, r->pod_count);
    if (r->ann_ok)
        annotations_result_cleanup(&r->ann);
    if (r->has_dec)
        leader_decision_cleanup(&r->dec);
}

/* ---- cleanup of objects no longer needed --------------------------------- */

static bool slice_kept(const struct run *r,
                       const struct views_endpointslice *eps)
{
    if (r->leader_name == NULL || eps->owner.name == NULL ||
        strcmp(eps->owner.name, r->leader_name) != 0)
        return false;
    for (size_t i = 0; i < r->family_count; i++) {
        if (strcmp(eps->meta.name, r->slice_names[i]) == 0)
            return true;
    }
    return false;
}

/* Store filters of cleanup: only what it deletes is taken from the store
 * (every reconcile runs it, most find nothing). */
static bool slice_stale(void *ctx, const void *view)
{
    const struct run *r = ctx;
    return slice_ours(view, r->name, NULL, NULL) && !slice_kept(r, view);
}

static bool service_stale(void *ctx, const void *view)
{
    const struct run *r = ctx;
    const struct views_service *svc = view;
    return service_ours(svc, r->name,
                        r->src != NULL ? r->src->meta.uid : NULL) &&
           (r->leader_name == NULL ||
            strcmp(svc->meta.name, r->leader_name) != 0);
}

static enum zl_err cleanup_slices(struct run *r)
{
    const void **items = NULL;
    size_t n = 0;
    enum zl_err rc =
        store_select(r->d->slices, r->ns, slice_stale, r, &items, &n);
    for (size_t i = 0; rc == ZL_OK && i < n; i++) {
        const struct views_endpointslice *eps = items[i];
        rc = delete_object(r, &CLIENT_ENDPOINTSLICES, eps->meta.name,
                           eps->meta.uid);
    }
    store_release_list(r->d->slices, items, n);
    return rc;
}

/* Deletes our Services and slices for this source except the ones still
 * needed (r->leader_name and its slices; none when leader_name is NULL). */
static enum zl_err cleanup(struct run *r)
{
    const void **items = NULL;
    size_t n = 0;
    enum zl_err rc = cleanup_slices(r);
    if (rc == ZL_OK)
        rc = store_select(r->d->services, r->ns, service_stale, r, &items, &n);
    for (size_t i = 0; rc == ZL_OK && i < n; i++) {
        const struct views_service *svc = items[i];
        rc = delete_object(r, &CLIENT_SERVICES, svc->meta.name, svc->meta.uid);
        if (rc == ZL_OK && r->src != NULL)
            event_on(r, r->name, r->src->meta.uid, EVENTS_NORMAL,
                     "LeaderServiceDeleted",
                     "Deleted leader Service %s: no longer needed",
                     svc->meta.name);
    }
    store_release_list(r->d->services, items, n);
    return rc;
}

static void stop_managing(struct run *r, bool clear_warnings)
{
    struct telemetry *t = r->d->telemetry;
    if (r->d->managed != NULL && keymap_take(r->d->managed, r->key, NULL) &&
        t != NULL) {
        telemetry_forget_service(t, r->ns, r->name);
        telemetry_set_leader_services(t, keymap_len(r->d->managed));
    }
    static const char *const slots[] = {"problem", "annotations",
                                        "LeaderNameConflict"};
    if (!clear_warnings)
        return;
    for (size_t i = 0; i < sizeof(slots) / sizeof(*slots); i++)
        warn_clear(r, slots[i]);
}

/* Not managed (gone, opted out, invalid): remove what we made. */
static enum zl_err unmanage(struct run *r, bool clear_warnings)
{
    r->leader_name = NULL;
    r->family_count = 0;
    stop_managing(r, clear_warnings);
    return cleanup(r);
}

/* ---- validity --------------------------------------------------------------
 */

static void annotation_warnings(struct run *r)
{
    char text[EVENTS_MAX_MESSAGE] = "";
    size_t used = 0;
    for (size_t i = 0; i < r->ann.problem_count; i++) {
        const struct annotations_problem *p = &r->ann.problems[i];
        int n = snprintf(text + used, sizeof(text) - used, "%s%s %s",
                         used > 0 ? " " : "", p->message, p->fix);
        if (n < 0 || (size_t)n >= sizeof(text) - used)
            break;
        used += (size_t)n;
    }
    if (r->ann.problem_count == 0) {
        warn_clear(r, "annotations");
        return;
    }
    if (!warn_is_new(r, "annotations", text))
        return;
    for (size_t i = 0; i < r->ann.problem_count; i++) {
        const struct annotations_problem *p = &r->ann.problems[i];
        event_on(r, r->src->meta.name, r->src->meta.uid, EVENTS_WARNING,
                 p->event_reason, "%s %s", p->message, p->fix);
    }
}

/* The rules found the enabled source unmanageable (ExternalName, no
 * selector, no ports): the same check the webhook's V2 runs. */
static bool invalid_service(const struct annotations_result *ann)
{
    for (size_t i = 0; i < ann->problem_count; i++) {
        if (strcmp(ann->problems[i].event_reason, "InvalidService") == 0)
            return true;
    }
    return false;
}

/* ---- leader objects in the store ---------------------------------------- */

static void load_slices(struct run *r)
{
    r->family_count = render_slice_families(r->src, r->families);
    for (size_t i = 0; i < r->family_count; i++) {
        render_slice_name(r->leader_name, r->families[i], r->slice_names[i]);
        r->slices[i] = store_get(r->d->slices, r->ns, r->slice_names[i]);
    }
}

/* The leader the cluster's objects name: the primary slice routes, so its
 * endpoint (or its having none) is the truth; the leader Service's
 * annotations only when there is no slice (they are written after it, so
 * they may lag behind it in the store). */
static void load_current(struct run *r)
{
    const struct views_endpointslice *eps = r->slices[0];
    if (eps != NULL) {
        if (eps->endpoint_count > 0 &&
            eps->endpoints[0].target_ref.uid != NULL) {
            r->cur.uid = eps->endpoints[0].target_ref.uid;
            r->cur.name = eps->endpoints[0].target_ref.name;
        }
        return;
    }
    if (r->leader_svc != NULL) {
        const struct views_map *a = &r->leader_svc->annotations;
        r->cur.uid = views_map_get(a, ANNOTATIONS_LEADER_POD_UID);
        r->cur.name = views_map_get(a, ANNOTATIONS_LEADER_POD_NAME);
    }
}

/* The pods leader_choose looks at: those the selector matches and the one
 * the cluster's objects name (to tell why it no longer qualifies). The
 * others cannot change its decision, and it needs no order. */
static bool pod_relevant(void *ctx, const struct views_pod *pod)
{
    const struct run *r = ctx;
    if (selector_matches_pod(r->src, pod))
        return true;
    if (r->cur.uid != NULL && r->cur.uid[0] != '\0')
        return pod->meta.uid != NULL && strcmp(pod->meta.uid, r->cur.uid) == 0;
    return r->cur.name != NULL && pod->meta.name != NULL &&
           strcmp(pod->meta.name, r->cur.name) == 0;
}

static enum zl_err decide(struct run *r)
{
    load_current(r);
    enum zl_err rc = store_select_pods(r->d->pods, r->ns, pod_relevant, r,
                                       &r->pods, &r->pod_count);
    if (rc != ZL_OK)
        return rc;
    struct leader_input in = {
        .service = r->src,
        .settings = &r->ann.settings,
        .pods = r->pods,
        .pod_count = r->pod_count,
        .current = r->cur,
        .now_ms = r->now_ms,
    };
    rc = leader_choose(&in, &r->dec);
    r->has_dec = true;
    return rc;
}

/* When the routed pod last changed: now on a change, else what the leader
 * Service says. */
/* The routed pod changes now, or the leader Service does not name the pod
 * the slice routes to yet (its last write failed or the cache lags behind
 * the slice): the switch is this instant. Otherwise it keeps the time it
 * holds. */
static int64_t last_switch(const struct run *r)
{
    int64_t ms = VIEWS_TIME_NONE;
    if (r->dec.changed)
        return r->now_ms;
    if (r->leader_svc == NULL)
        return ms;
    const struct views_map *ann = &r->leader_svc->annotations;
    const char *named = views_map_get(ann, ANNOTATIONS_LEADER_POD_UID);
    const char *routed = r->dec.leader != NULL ? r->dec.leader->meta.uid : NULL;
    if ((named == NULL) != (routed == NULL) ||
        (named != NULL && strcmp(named, routed) != 0))
        return r->now_ms;
    const char *t = views_map_get(ann, ANNOTATIONS_LAST_SWITCH);
    if (t == NULL || clock_parse_rfc3339(t, &ms) != ZL_OK)
        ms = VIEWS_TIME_NONE;
    return ms;
}

static void render_input(const struct run *r, struct render_input *in)
{
    *in = (struct render_input){
        .source = r->src,
        .leader_name = r->leader_name,
        .leader = r->dec.leader,
        .endpoint_ready = r->dec.endpoint_ready,
        .last_switch_ms = last_switch(r),
    };
}

/* ---- writes of the leader objects ------------------------------------------
 */

static enum zl_err render_service_doc(const struct run *r,
                                      struct json_object **doc)
{
    struct render_input in;
    render_input(r, &in);
    return render_leader_service(&in, doc);
}

static void copy_uid(char out[static MAX_UID], const char *uid)
{
    snprintf(out, MAX_UID, "%s", uid != NULL ? uid : "");
}

/* Creates <L> when the store has none (a POST: an object the store has not
 * seen yet is never taken over). */
static enum zl_err ensure_service(struct run *r)
{
    if (r->leader_svc != NULL) {
        copy_uid(r->leader_uid, r->leader_svc->meta.uid);
        return ZL_OK;
    }
    struct json_object *doc = NULL;
    struct client_response resp;
    struct views_service *made = NULL;
    client_response_init(&resp);
    enum zl_err rc = render_service_doc(r, &doc);
    if (rc == ZL_OK)
        rc = send_doc(r, &CLIENT_SERVICES, r->leader_name, doc, WRITE_CREATE,
                      &resp);
    if (rc == ZL_OK)
        rc = views_service_parse(resp.body.data, resp.body.len, &made);
    if (rc == ZL_OK) {
        copy_uid(r->leader_uid, made->meta.uid);
        r->created_service = true;
        event_on(r, r->src->meta.name, r->src->meta.uid, EVENTS_NORMAL,
                 "LeaderServiceCreated", "Created leader Service %s",
                 r->leader_name);
        log_info("created leader Service %s/%s", r->ns, r->leader_name);
    }
    views_release(made);
    json_object_put(doc);
    client_response_cleanup(&resp);
    return rc;
}

static enum zl_err update_service(struct run *r)
{
    if (r->created_service)
        return ZL_OK;
    struct json_object *doc = NULL;
    struct views_service *want = NULL;
    struct client_response resp;
    client_response_init(&resp);
    enum zl_err rc = render_service_doc(r, &doc);
    if (rc == ZL_OK)
        rc = views_service_from_json(doc, &want);
    if (rc == ZL_OK && diff_service(want, r->leader_svc) != DIFF_NONE) {
        /* uid and resourceVersion: an apply computed from a cached copy
         * older than the last write is refused (409) and retried, never
         * applied over that write. */
        rc = set_preconditions(doc, r->leader_svc->meta.uid,
                               r->leader_svc->meta.resource_version);
        if (rc == ZL_OK)
            rc = send_doc(r, &CLIENT_SERVICES, r->leader_name, doc, WRITE_APPLY,
                          &resp);
    }
    views_release(want);
    json_object_put(doc);
    client_response_cleanup(&resp);
    return rc;
}

/* A POST of a slice that met an object the store does not show (our
 * informer sees only slices labelled managed-by zen-lead): our own with
 * drifted labels is rewritten (uid and resourceVersion preconditions); a
 * foreign one is a conflict, warned and left alone. */
static enum zl_err slice_exists(struct run *r, const char *name,
                                struct json_object *doc)
{
    struct client_response resp;
    struct views_endpointslice *seen = NULL;
    client_response_init(&resp);
    enum zl_err rc =
        client_get(r->d->client, &CLIENT_ENDPOINTSLICES, r->ns, name, &resp);
    if (rc == ZL_OK)
        rc = views_endpointslice_parse(resp.body.data, resp.body.len, &seen);
    client_response_cleanup(&resp);
    if (rc == ZL_OK &&
        slice_ours(seen, r->name, r->leader_name, r->leader_uid)) {
        rc =
            set_preconditions(doc, seen->meta.uid, seen->meta.resource_version);
        client_response_init(&resp);
        if (rc == ZL_OK)
            rc = send_doc(r, &CLIENT_ENDPOINTSLICES, name, doc, WRITE_UPDATE,
                          &resp);
        client_response_cleanup(&resp);
    } else if (rc == ZL_OK) {
        char text[512];
        snprintf(text, sizeof(text),
                 "EndpointSlice %s exists and is not managed by zen-lead for "
                 "Service %s; it is left alone: rename it or set "
                 "zen-lead.io/leader-service-name",
                 name, r->name);
        warn_once(r, "LeaderNameConflict", text);
        rc = ZL_ERR_EXISTS;
    }
    views_release(seen);
    return rc;
}

static enum zl_err send_slice(struct run *r, size_t i, struct json_object *doc,
                              unsigned bits)
{
    const struct views_endpointslice *have = r->slices[i];
    const char *name = r->slice_names[i];
    struct client_response resp;
    enum zl_err rc = ZL_OK;
    client_response_init(&resp);
    if (bits & DIFF_ADDRESS_TYPE) { /* immutable: replace */
        rc = delete_object(r, &CLIENT_ENDPOINTSLICES, name, have->meta.uid);
        have = NULL;
    }
    if (rc == ZL_OK && have == NULL) {
        rc =
            send_doc(r, &CLIENT_ENDPOINTSLICES, name, doc, WRITE_CREATE, &resp);
        if (rc == ZL_ERR_EXISTS)
            rc = slice_exists(r, name, doc);
    } else if (rc == ZL_OK) {
        bool put = r->d->slice_write == RECONCILE_WRITE_UPDATE;
        rc = set_preconditions(doc, have->meta.uid,
                               put ? have->meta.resource_version : NULL);
        if (rc == ZL_OK)
            rc = send_doc(r, &CLIENT_ENDPOINTSLICES, name, doc,
                          put ? WRITE_UPDATE : WRITE_APPLY, &resp);
    }
    if (rc != ZL_OK && rc != ZL_ERR_CANCELLED && r->d->telemetry != NULL)
        telemetry_endpoint_write_error(r->d->telemetry);
    client_response_cleanup(&resp);
    return rc;
}

static enum zl_err write_slice(struct run *r, size_t i)
{
    struct render_input in;
    struct json_object *doc = NULL;
    struct views_endpointslice *want = NULL;
    render_input(r, &in);
    enum zl_err rc =
        render_endpoint_slice(&in, r->leader_uid, r->families[i], &doc);
    if (rc == ZL_OK)
        rc = views_endpointslice_from_json(doc, &want);
    unsigned bits = rc == ZL_OK ? diff_slice(want, r->slices[i]) : DIFF_NONE;
    if (rc == ZL_OK && bits != DIFF_NONE) {
        rc = send_slice(r, i, doc, bits);
        if (rc == ZL_OK && !r->slice_written) {
            r->accepted_ns = clock_mono_ns();
            r->slice_written = true;
        }
    }
    views_release(want);
    json_object_put(doc);
    return rc;
}

/* ---- reporting --------------------------------------------------------------
 */

static void log_decision(const struct run *r, const char *reason)
{
    double latency_ms = -1;
    if (r->has_stamp && r->slice_written)
        latency_ms = (double)(r->accepted_ns - r->stamp_ns) / 1e6;
    struct decision_entry e = {
        .time_ms = r->now_ms,
        .ns = r->ns,
        .service = r->name,
        .old_pod = r->cur.name,
        .new_pod = r->dec.leader != NULL ? r->dec.leader->meta.name : NULL,
        .reason = reason,
        .latency_ms = latency_ms,
    };
    if (r->d->decision_log != NULL)
        decision_write(r->d->decision_log, &e);
    if (r->d->telemetry != NULL && r->dec.reason != LEADER_REASON_NONE)
        telemetry_failover(r->d->telemetry, r->ns, r->name, reason,
                           latency_ms < 0 ? -1 : latency_ms / 1000);
}

static void report_change(struct run *r)
{
    const char *reason = leader_reason_name(r->dec.reason);
    const char *old = r->cur.name != NULL ? r->cur.name : "";
    if (r->dec.leader != NULL && r->dec.reason == LEADER_REASON_NONE) {
        event_on(r, r->src->meta.name, r->src->meta.uid, EVENTS_NORMAL,
                 "LeaderElected", "Pod %s elected leader; %s routes to it",
                 r->dec.leader->meta.name, r->leader_name);
        log_decision(r, "elected");
    } else if (r->dec.leader != NULL) {
        static const char fmt[] = "Leader changed from %s to %s (%s)";
        const char *n = r->dec.leader->meta.name;
        event_on(r, r->src->meta.name, r->src->meta.uid, EVENTS_NORMAL,
                 "LeaderChanged", fmt, old, n, reason);
        event_on(r, r->leader_name, r->leader_uid, EVENTS_NORMAL,
                 "LeaderChanged", fmt, old, n, reason);
        log_decision(r, reason);
    } else {
        static const char fmt[] = "Leader %s lost (%s) and no pod is "
                                  "eligible: %s has no endpoints";
        const char *why = reason[0] != '\0' ? reason : "unknown";
        event_on(r, r->src->meta.name, r->src->meta.uid, EVENTS_WARNING,
                 "LeaderLost", fmt, old, why, r->leader_name);
        event_on(r, r->leader_name, r->leader_uid, EVENTS_WARNING, "LeaderLost",
                 fmt, old, why, r->leader_name);
        log_decision(r, reason[0] != '\0' ? reason : "lost");
    }
}

static void report_problem(struct run *r)
{
    char text[EVENTS_MAX_MESSAGE];
    const char *what = leader_problem_name(r->dec.problem);
    if (r->dec.problem == LEADER_PROBLEM_NO_PODS_FOUND)
        snprintf(text, sizeof(text),
                 "No pod matches the selector of Service %s: %s has no "
                 "endpoints",
                 r->name, r->leader_name);
    else if (r->dec.problem == LEADER_PROBLEM_PORT_RESOLUTION_FAILED)
        snprintf(text, sizeof(text), "%s",
                 r->dec.problem_message != NULL ? r->dec.problem_message : "");
    else
        snprintf(text, sizeof(text),
                 "None of the pods matching Service %s is Running, Ready, not "
                 "terminating and with an IP: %s has no endpoints",
                 r->name, r->leader_name);
    if (!warn_is_new(r, "problem", text))
        return;
    event_on(r, r->src->meta.name, r->src->meta.uid, EVENTS_WARNING, what, "%s",
             text);
    if (r->dec.problem == LEADER_PROBLEM_PORT_RESOLUTION_FAILED &&
        r->d->telemetry != NULL)
        telemetry_port_resolution_failure(r->d->telemetry, r->ns, r->name,
                                          r->dec.problem_port);
}

static void report(struct run *r)
{
    if (r->dec.changed)
        report_change(r);
    if (r->dec.leader == NULL)
        report_problem(r);
    else
        warn_clear(r, "problem");
    struct telemetry *t = r->d->telemetry;
    if (r->d->managed != NULL)
        keymap_set(r->d->managed, r->key, 1);
    if (t != NULL) {
        telemetry_service_state(t, r->ns, r->name, r->dec.candidate_count,
                                r->dec.leader == NULL);
        if (r->d->managed != NULL)
            telemetry_set_leader_services(t, keymap_len(r->d->managed));
    }
}

/* ---- the flow -------------------------------------------------------------
 */

/* Checks <L> and its slices are ours (or absent). ZL_OK to go on;
 * ZL_ERR_EXISTS when a foreign object holds a name (warned, left alone). */
static enum zl_err check_names(struct run *r)
{
    char text[512];
    const char *taken = NULL;
    const char *leader_uid =
        r->leader_svc != NULL ? r->leader_svc->meta.uid : NULL;
    if (r->leader_svc != NULL &&
        !service_ours(r->leader_svc, r->name, r->src->meta.uid))
        taken = "Service";
    for (size_t i = 0; taken == NULL && i < r->family_count; i++) {
        if (r->slices[i] != NULL &&
            !slice_ours(r->slices[i], r->name, r->leader_name, leader_uid))
            taken = "EndpointSlice";
    }
    if (taken != NULL) {
        snprintf(text, sizeof(text),
                 "%s %s exists and is not managed by zen-lead for Service %s; "
                 "it is left alone: rename it or set "
                 "zen-lead.io/leader-service-name",
                 taken, r->leader_name, r->name);
        warn_once(r, "LeaderNameConflict", text);
        return ZL_ERR_EXISTS;
    }
    warn_clear(r, "LeaderNameConflict");
    return ZL_OK;
}

static enum zl_err write_all(struct run *r)
{
    enum zl_err rc = ensure_service(r);
    for (size_t i = 0; rc == ZL_OK && i < r->family_count; i++)
        rc = write_slice(r, i);
    if (rc == ZL_OK)
        rc = update_service(r);
    if (rc == ZL_OK)
        rc = cleanup(r);
    return rc;
}

static enum zl_err manage(struct run *r, struct reconcile_result *out)
{
    r->leader_name = r->ann.settings.leader_name;
    r->leader_svc = store_get(r->d->services, r->ns, r->leader_name);
    load_slices(r);
    if (check_names(r) != ZL_OK) {
        r->leader_name = NULL; /* keep nothing: remove what we made */
        r->family_count = 0;
        stop_managing(r, false); /* not managed: its series go */
        return cleanup(r);
    }
    if (r->leader_svc != NULL && r->leader_svc->owner.uid != NULL &&
        strcmp(r->leader_svc->owner.uid, r->src->meta.uid) != 0) {
        /* ours for an earlier Service of the same name: replace it */
        enum zl_err rc = delete_object(r, &CLIENT_SERVICES, r->leader_name,
                                       r->leader_svc->meta.uid);
        return rc == ZL_OK ? ZL_ERR_CONFLICT : rc;
    }
    enum zl_err rc = decide(r);
    if (rc != ZL_OK)
        return rc;
    /* Set before writing: a failed write retries with backoff, but the
     * timed rule still fires on time (never waits for an error backoff). */
    out->requeue_after_ns =
        reconcile_requeue_ns(r->dec.next_check_ms, r->now_ms);
    rc = write_all(r);
    if (rc != ZL_OK)
        return rc;
    report(r);
    return ZL_OK;
}

static enum zl_err run_source(struct run *r, struct reconcile_result *out)
{
    const struct views_service *src = r->src;
    bool has_enabled =
        views_map_get(&src->annotations, ANNOTATIONS_ENABLED) != NULL;
    if (!has_enabled)
        return unmanage(r, true);
    enum zl_err rc = annotations_check_service(src, &r->ann);
    if (rc != ZL_OK)
        return rc;
    r->ann_ok = true;
    annotation_warnings(r); /* InvalidService among them, once */
    if (!r->ann.settings.enabled || !mapping_service_enabled(src) ||
        invalid_service(&r->ann))
        return unmanage(r, false);
    if (r->ann.settings.leader_name[0] == '\0')
        return unmanage(r, false); /* InvalidLeaderName warned above */
    return manage(r, out);
}

enum zl_err reconcile_key(const struct reconcile_deps *d, const char *key,
                          struct reconcile_result *out)
{
    struct run r;
    memset(&r, 0, sizeof(r));
    r.d = d;
    r.key = key;
    out->requeue_after_ns = -1;
    if (mapping_split(key, r.ns, r.name) != ZL_OK)
        return ZL_OK; /* not a key of ours: nothing to do */
    r.now_ms = d->now_ms != NULL ? d->now_ms() : real_now_ms();
    if (d->stamps != NULL)
        r.has_stamp = keymap_take(d->stamps, key, &r.stamp_ns);
    r.src = store_get(d->services, r.ns, r.name);
    enum zl_err rc;
    if (r.src == NULL || r.src->meta.deleted_ms != VIEWS_TIME_NONE)
        rc = unmanage(&r, true);
    else
        rc = run_source(&r, out);
    if (rc != ZL_OK && r.has_stamp)
        keymap_set_min(d->stamps, key, r.stamp_ns);
    release_snapshot(&r);
    return rc;
}

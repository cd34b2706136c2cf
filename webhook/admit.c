/* SPDX-License-Identifier: Apache-2.0 */
/* The webhook's rules. Every check that decides what a valid source is
 * comes from common/zenlead (annotations_check_service, naming, ports); this
 * file only routes a request to them and words the decision. */
#include "webhook/admit.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/viewscan.h"
#include "webhook/audit.h"
#include "zenlead/annotations.h"
#include "zenlead/ownership.h"
#include "zenlead/ports.h"
#include "zenlead/render.h"

/* Longest message or warning written (review_encode cuts warnings). */
#define SENTENCE_MAX 1024
#define KIND_SERVICE "Service"
#define KIND_SLICE "EndpointSlice"
#define GROUP_SLICE "discovery.k8s.io"

enum target {
    TARGET_OTHER = 0,
    TARGET_SERVICE,
    TARGET_SLICE,
};

/* One request being decided. */
struct ctx {
    const struct review_request *req;
    const struct admit_config *cfg;
    const struct admit_lookups *lk;
    struct admit_decision *d;
    const char *ns;
};

const char *admit_hook_name(enum admit_hook hook)
{
    return hook == ADMIT_MUTATE ? "mutate" : "validate";
}

static void set_rule(struct admit_decision *d, const char *rule, bool force)
{
    if (force || d->rule[0] == '\0')
        snprintf(d->rule, sizeof(d->rule), "%s", rule);
}

static enum zl_err add_warning(struct admit_decision *d, const char *rule,
                               const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum zl_err add_warning(struct admit_decision *d, const char *rule,
                               const char *fmt, ...)
{
    char text[SENTENCE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    if (rule != NULL && d->allowed)
        set_rule(d, rule, false);
    if (d->warning_count == ADMIT_MAX_WARNINGS)
        return ZL_OK;
    d->warnings[d->warning_count] = strdup(text);
    if (d->warnings[d->warning_count] == NULL)
        return ZL_ERR_NOMEM;
    d->warning_count++;
    return ZL_OK;
}

static enum zl_err deny(struct admit_decision *d, int code, const char *rule,
                        const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static enum zl_err deny(struct admit_decision *d, int code, const char *rule,
                        const char *fmt, ...)
{
    char text[SENTENCE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    free(d->message);
    d->message = strdup(text);
    if (d->message == NULL)
        return ZL_ERR_NOMEM;
    d->allowed = false;
    d->code = code;
    set_rule(d, rule, true);
    return ZL_OK;
}

static bool str_is(const char *s, const char *want)
{
    return s != NULL && strcmp(s, want) == 0;
}

static enum target target_of(const struct review_request *req)
{
    if (req->kind.group[0] == '\0' && str_is(req->kind.kind, KIND_SERVICE))
        return TARGET_SERVICE;
    if (str_is(req->kind.group, GROUP_SLICE) &&
        str_is(req->kind.kind, KIND_SLICE))
        return TARGET_SLICE;
    return TARGET_OTHER;
}

static bool is_controller(const struct ctx *c)
{
    const char *me = c->cfg->controller_username;
    return me != NULL && me[0] != '\0' && str_is(c->req->username, me);
}

/* Who may write zen-lead's objects (V5). */
static bool is_privileged(const struct ctx *c)
{
    return is_controller(c) || str_is(c->req->username, ADMIT_USER_GC) ||
           str_is(c->req->username, ADMIT_USER_NAMESPACE_CONTROLLER);
}

/* The labels SPEC section 2 puts on the objects zen-lead keeps. */
static bool labelled_ours(const struct views_map *labels, enum target t)
{
    const char *by = views_map_get(labels, RENDER_LABEL_MANAGED_BY);
    const char *slice_by = views_map_get(labels, RENDER_LABEL_SLICE_MANAGED_BY);
    return str_is(by, RENDER_MANAGER) ||
           views_map_get(labels, RENDER_LABEL_SOURCE) != NULL ||
           (t == TARGET_SLICE && str_is(slice_by, RENDER_MANAGER));
}

/* ---- reading the objects ----------------------------------------------- */

struct objects {
    void *now; /* the new object's view, NULL when absent */
    void *old; /* the old object's view, NULL when absent */
};

static void objects_release(struct objects *o)
{
    views_release(o->now);
    views_release(o->old);
}

static enum zl_err read_one(struct ctx *c, enum target t,
                            const struct review_json *obj, const char *which,
                            void **out)
{
    *out = NULL;
    if (obj->text == NULL)
        return ZL_OK;
    /* Services, in every review, without a json-c tree; EndpointSlices,
     * written by the controller alone, through views.c. */
    struct views_service *svc = NULL;
    enum zl_err err =
        t == TARGET_SERVICE
            ? viewscan_service(obj->text, obj->len, &svc)
            : views_parse(VIEWS_KIND_ENDPOINTSLICE, obj->text, obj->len, out);
    if (t == TARGET_SERVICE)
        *out = svc;
    if (err == ZL_ERR_NOMEM)
        return err;
    if (err != ZL_OK)
        return deny(c->d, ADMIT_CODE_BAD_REQUEST, "",
                    "zen-lead cannot read the %s in request.%s (%s); make "
                    "sure it is a complete %s within the API's limits.",
                    c->req->kind.kind, which, zl_err_str(err),
                    c->req->kind.kind);
    return ZL_OK;
}

/* Reads object and oldObject; a missing one the operation needs is a bad
 * request (decision set, ZL_OK returned). */
static enum zl_err read_objects(struct ctx *c, enum target t, struct objects *o)
{
    const struct review_request *req = c->req;
    bool need_now = req->operation != REVIEW_OP_DELETE;
    bool need_old = req->operation == REVIEW_OP_DELETE ||
                    req->operation == REVIEW_OP_UPDATE;
    const char *missing = need_now && req->object.text == NULL ? "object"
                          : need_old && req->old_object.text == NULL
                              ? "oldObject"
                              : NULL;
    if (missing != NULL)
        return deny(c->d, ADMIT_CODE_BAD_REQUEST, "",
                    "The AdmissionReview of this %s has no request.%s; "
                    "send the object the operation acts on.",
                    review_operation_name(req->operation), missing);
    enum zl_err err = read_one(c, t, &req->object, "object", &o->now);
    if (err == ZL_OK && c->d->allowed)
        err = read_one(c, t, &req->old_object, "oldObject", &o->old);
    return err;
}

/* ---- V5: the tamper guard ---------------------------------------------- */

static bool managed(const struct objects *o, enum target t)
{
    for (size_t i = 0; i < 2; i++) {
        const struct views_meta *m = views_meta_of(i == 0 ? o->now : o->old);
        if (m != NULL && labelled_ours(&m->labels, t))
            return true;
    }
    return false;
}

static enum zl_err tamper_guard(struct ctx *c, enum target t,
                                const struct objects *o)
{
    const struct views_meta *m =
        views_meta_of(o->now != NULL ? o->now : o->old);
    const char *what = t == TARGET_SERVICE ? "leader Service" : "EndpointSlice";
    const char *user =
        c->req->username[0] != '\0' ? c->req->username : "an anonymous user";
    return deny(c->d, ADMIT_CODE_FORBIDDEN, "V5",
                "%s %s/%s is managed by zen-lead and only its controller may "
                "change it, not %s; edit the source Service's zen-lead.io/ "
                "annotations instead, and zen-lead updates this %s itself.",
                c->req->kind.kind, c->ns, m->name, user, what);
}

/* ---- V1, V2: annotations and spec -------------------------------------- */

/* The rule a problem of annotations_check_service belongs to. */
static const char *rule_of(const struct annotations_problem *p, bool enabled)
{
    if (str_is(p->event_reason, "InvalidService"))
        return "V2";
    if (str_is(p->event_reason, "InvalidLeaderName") && enabled)
        return "V2";
    return "V1";
}

/* One sentence from a problem: its message, then its fix. The shared
 * message may end by saying which default the controller falls back to;
 * the webhook refuses instead, so that clause is left out. A message that
 * ends in a question ("...; did you mean X?") keeps it in parentheses. */
static void sentence(const struct annotations_problem *p, char *out,
                     size_t out_len)
{
    static const char fallback[] = "; the default (";
    static const char applies[] = ") applies";
    const char *msg = p->message;
    size_t m = strlen(msg);
    bool question = m > 0 && msg[m - 1] == '?';
    if (m > 0 && (msg[m - 1] == '.' || question))
        m--;
    const char *clause = strstr(msg, fallback);
    if (p->severity == ANNOTATIONS_ERROR && clause != NULL &&
        m >= sizeof(applies) - 1 &&
        memcmp(msg + m - (sizeof(applies) - 1), applies, sizeof(applies) - 1) ==
            0)
        m = (size_t)(clause - msg);
    const char *ask = question ? strstr(msg, "; ") : NULL;
    if (ask != NULL && (size_t)(ask - msg) + 2 > m)
        ask = NULL;
    size_t head = ask != NULL ? (size_t)(ask - msg) : m;
    char first = p->fix[0];
    bool lower =
        first >= 'A' && first <= 'Z' && p->fix[1] >= 'a' && p->fix[1] <= 'z';
    if (ask != NULL)
        snprintf(out, out_len, "%.*s (%.*s?); %c%s", (int)head, msg,
                 (int)(m - head - 2), ask + 2,
                 lower ? first - 'A' + 'a' : first,
                 p->fix[0] ? p->fix + 1 : "");
    else
        snprintf(out, out_len, "%.*s; %c%s", (int)m, msg,
                 lower ? first - 'A' + 'a' : first,
                 p->fix[0] ? p->fix + 1 : "");
}

static enum zl_err report_problems(struct ctx *c,
                                   const struct annotations_result *r)
{
    enum zl_err err = ZL_OK;
    char text[SENTENCE_MAX];
    for (size_t i = 0; err == ZL_OK && i < r->problem_count; i++) {
        const struct annotations_problem *p = &r->problems[i];
        if (annotations_is_controller_key(p->key) && is_controller(c))
            continue;
        const char *rule = rule_of(p, r->settings.enabled);
        sentence(p, text, sizeof(text));
        if (p->severity == ANNOTATIONS_ERROR && c->d->allowed)
            err = deny(c->d, ADMIT_CODE_FORBIDDEN, rule, "%s", text);
        else
            err = add_warning(c->d, rule, "%s", text);
    }
    return err;
}

/* ---- V3: named targetPorts --------------------------------------------- */

static void release_pods(struct views_pod **pods, size_t n)
{
    for (size_t i = 0; i < n; i++)
        views_release(pods[i]);
    free(pods);
}

static void release_services(struct views_service **svcs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        views_release(svcs[i]);
    free(svcs);
}

static enum zl_err lookup_failed(struct ctx *c, const char *rule,
                                 const char *what, enum zl_err why)
{
    if (c->cfg->lookup_failure_policy == ADMIT_LOOKUP_DENY)
        return deny(c->d, ADMIT_CODE_UNAVAILABLE, rule,
                    "zen-lead could not list the %s of namespace %s to check "
                    "this Service (%s), and its lookup-failure policy is "
                    "deny; try again once the API server answers.",
                    what, c->ns, zl_err_str(why));
    return add_warning(c->d, rule,
                       "zen-lead could not list the %s of namespace %s (%s), "
                       "so this Service was admitted without that check; "
                       "look at the controller's Events on it.",
                       what, c->ns, zl_err_str(why));
}

static bool pod_declares(const struct views_service_port *sp,
                         struct views_pod *const *pods, size_t n)
{
    int32_t target;
    for (size_t i = 0; i < n; i++)
        if (ports_resolve_one(sp, pods[i], &target) == ZL_OK)
            return true;
    return false;
}

static enum zl_err undeclared_port(struct ctx *c,
                                   const struct views_service *svc,
                                   const struct views_service_port *sp,
                                   size_t pod_count)
{
    static const char fmt[] =
        "No pod matching the selector of Service %s (%zu found) declares a "
        "container port named \"%s\" with protocol %s, which the targetPort "
        "of port %d refers to; add that port to the pods' containers or set "
        "targetPort to a number.";
    const char *proto = views_protocol_name(sp->protocol);
    if (c->cfg->named_port_policy == ADMIT_NAMED_PORT_WARN)
        return add_warning(c->d, "V3", fmt, svc->meta.name, pod_count,
                           sp->target_port_name, proto, sp->port);
    return deny(c->d, ADMIT_CODE_FORBIDDEN, "V3", fmt, svc->meta.name,
                pod_count, sp->target_port_name, proto, sp->port);
}

/* Pods match: each named targetPort must be declared by one of them. */
static enum zl_err check_pods(struct ctx *c, const struct views_service *svc,
                              struct views_pod *const *pods, size_t n)
{
    bool any_leader = false;
    for (size_t i = 0; i < svc->port_count; i++) {
        const struct views_service_port *sp = &svc->ports[i];
        if (sp->target_port_name != NULL && !pod_declares(sp, pods, n))
            return undeclared_port(c, svc, sp, n);
    }
    for (size_t i = 0; i < n && !any_leader; i++)
        any_leader = ports_pod_declares_all(svc, pods[i]);
    if (any_leader)
        return ZL_OK;
    return add_warning(c->d, "V3",
                       "No single pod matching the selector of Service %s "
                       "declares every named targetPort, so none can lead; "
                       "declare all of them in the same pod.",
                       svc->meta.name);
}

static const char *first_named(const struct views_service *svc)
{
    for (size_t i = 0; i < svc->port_count; i++)
        if (svc->ports[i].target_port_name != NULL)
            return svc->ports[i].target_port_name;
    return "";
}

static enum zl_err check_named_ports(struct ctx *c,
                                     const struct views_service *svc)
{
    struct views_pod **pods = NULL;
    size_t n = 0;
    if (!ports_has_named(svc))
        return ZL_OK;
    enum zl_err err = ZL_ERR_IO;
    if (c->lk != NULL && c->lk->pods != NULL)
        err = c->lk->pods(c->lk->ctx, c->ns, &svc->selector, &pods, &n);
    if (err == ZL_ERR_NOMEM || err == ZL_ERR_WOULDBLOCK)
        return err;
    if (err != ZL_OK)
        return lookup_failed(c, "V3", "pods", err);
    if (n == 0)
        err = add_warning(c->d, "V3",
                          "No pod matches the selector of Service %s yet, so "
                          "its named targetPort \"%s\" cannot be checked; "
                          "zen-lead routes to a pod once one declares it.",
                          svc->meta.name, first_named(svc));
    else
        err = check_pods(c, svc, pods, n);
    release_pods(pods, n);
    return err;
}

/* ---- V4: leader name conflicts ----------------------------------------- */

/* True when other is an enabled source whose leader name is leader. */
static enum zl_err claims(const struct views_service *other, const char *leader,
                          bool *out)
{
    struct annotations_result r;
    enum zl_err err =
        annotations_parse(&other->annotations, other->meta.name, &r);
    if (err != ZL_OK)
        return err;
    *out = r.settings.enabled && strcmp(r.settings.leader_name, leader) == 0;
    annotations_result_cleanup(&r);
    return ZL_OK;
}

static enum zl_err conflict_with(struct ctx *c, const struct views_service *svc,
                                 const struct views_service *other,
                                 const char *leader)
{
    bool claimed = false;
    if (strcmp(other->meta.name, leader) == 0) {
        if (ownership_leader_is_ours(other, svc->meta.name, svc->meta.uid))
            return ZL_OK;
        return deny(
            c->d, ADMIT_CODE_FORBIDDEN, "V4",
            "Service %s already exists in namespace %s and is not "
            "zen-lead's leader Service for %s; set " ANNOTATIONS_LEADER_NAME
            " to a free name, or remove that "
            "Service.",
            leader, c->ns, svc->meta.name);
    }
    enum zl_err err = claims(other, leader, &claimed);
    if (err != ZL_OK || !claimed)
        return err;
    return deny(c->d, ADMIT_CODE_FORBIDDEN, "V4",
                "Service %s already claims %s as its leader Service; "
                "set " ANNOTATIONS_LEADER_NAME " on %s to another name.",
                other->meta.name, leader, svc->meta.name);
}

static enum zl_err check_leader_name(struct ctx *c,
                                     const struct views_service *svc,
                                     const char *leader)
{
    struct views_service **svcs = NULL;
    size_t n = 0;
    enum zl_err err = ZL_ERR_IO;
    if (c->lk != NULL && c->lk->services != NULL)
        err = c->lk->services(c->lk->ctx, c->ns, &svcs, &n);
    if (err == ZL_ERR_NOMEM || err == ZL_ERR_WOULDBLOCK)
        return err;
    if (err != ZL_OK)
        return lookup_failed(c, "V4", "Services", err);
    for (size_t i = 0; err == ZL_OK && c->d->allowed && i < n; i++)
        if (strcmp(svcs[i]->meta.name, svc->meta.name) != 0)
            err = conflict_with(c, svc, svcs[i], leader);
    release_services(svcs, n);
    return err;
}

/* ---- entry points ------------------------------------------------------- */

static enum zl_err validate_service(struct ctx *c,
                                    const struct views_service *svc)
{
    struct annotations_result r;
    enum zl_err err = annotations_check_service(svc, &r);
    if (err != ZL_OK)
        return err;
    err = report_problems(c, &r);
    if (err == ZL_OK && c->d->allowed && r.settings.enabled)
        err = check_named_ports(c, svc);
    if (err == ZL_OK && c->d->allowed && r.settings.enabled)
        err = check_leader_name(c, svc, r.settings.leader_name);
    annotations_result_cleanup(&r);
    return err;
}

static enum zl_err validate(struct ctx *c, enum target t,
                            const struct objects *o)
{
    if (managed(o, t))
        return is_privileged(c) ? ZL_OK : tamper_guard(c, t, o);
    if (t != TARGET_SERVICE || c->req->operation == REVIEW_OP_DELETE ||
        c->req->sub_resource[0] != '\0')
        return ZL_OK;
    /* A Service being deleted only loses finalizers now: refusing that
     * would keep it forever. */
    const struct views_service *svc = views_service_of(o->now);
    if (svc->meta.deleted_ms != VIEWS_TIME_NONE)
        return ZL_OK;
    return validate_service(c, svc);
}

static enum zl_err mutate(struct ctx *c, enum target t, const struct objects *o)
{
    const struct views_service *svc = views_service_of(o->now);
    const size_t plen = strlen(ANNOTATIONS_PREFIX);
    enum zl_err err = ZL_OK;
    if (t != TARGET_SERVICE || svc == NULL || managed(o, t) ||
        c->req->sub_resource[0] != '\0')
        return ZL_OK;
    for (size_t i = 0; err == ZL_OK && i < svc->annotations.count; i++) {
        const struct views_kv *kv = &svc->annotations.items[i];
        char *canon = NULL;
        if (strncmp(kv->key, ANNOTATIONS_PREFIX, plen) != 0)
            continue;
        err = annotations_normalize(kv->key, kv->value, &canon);
        if (err == ZL_OK && canon != NULL)
            err = patch_annotation(&c->d->patch, PATCH_OP_REPLACE, kv->key,
                                   canon);
        free(canon);
    }
    return err;
}

static void decision_init(struct admit_decision *d)
{
    memset(d, 0, sizeof(*d));
    d->allowed = true;
    d->code = ADMIT_CODE_OK;
    patch_init(&d->patch);
}

enum zl_err admit_decide(enum admit_hook hook, const struct review_request *req,
                         const struct admit_config *cfg,
                         const struct admit_lookups *lookups,
                         struct admit_decision *out)
{
    struct objects o = {NULL, NULL};
    if (out == NULL)
        return ZL_ERR_INVALID;
    decision_init(out);
    if (req == NULL || cfg == NULL)
        return ZL_ERR_INVALID;
    struct ctx c = {req, cfg, lookups, out, req->namespace_name};
    enum target t = target_of(req);
    if (t == TARGET_OTHER || req->operation == REVIEW_OP_CONNECT)
        return ZL_OK;
    enum zl_err err = read_objects(&c, t, &o);
    const struct views_meta *m = views_meta_of(o.now != NULL ? o.now : o.old);
    if (c.ns[0] == '\0' && m != NULL)
        c.ns = m->namespace_name;
    if (err == ZL_OK && out->allowed)
        err = hook == ADMIT_MUTATE ? mutate(&c, t, &o) : validate(&c, t, &o);
    objects_release(&o);
    if (err == ZL_OK && !out->allowed)
        patch_cleanup(&out->patch);
    return err;
}

void admit_decision_cleanup(struct admit_decision *d)
{
    if (d == NULL)
        return;
    free(d->message);
    for (size_t i = 0; i < d->warning_count; i++)
        free(d->warnings[i]);
    patch_cleanup(&d->patch);
    memset(d, 0, sizeof(*d));
}

enum zl_err admit_encode(const struct review_request *req,
                         const struct admit_decision *d, struct buf *out)
{
    struct review_audit_annotation ann[AUDIT_ANNOTATION_COUNT];
    size_t patch_len = 0;
    const char *patch = patch_text(&d->patch, &patch_len);
    struct review_response r = {
        .uid = req->uid,
        .allowed = d->allowed,
        .code = d->code,
        .message = d->message,
        .warnings = (const char *const *)d->warnings,
        .warning_count = d->warning_count,
        .patch = patch,
        .patch_len = patch_len,
        .audit = ann,
        .audit_count = audit_annotations(req->uid, d->rule, ann),
    };
    return review_encode(&r, out);
}

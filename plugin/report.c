/* SPDX-License-Identifier: Apache-2.0 */
/* The report of one annotated Service: the controller's rules applied to a
 * gathered snapshot, with each problem's fix. Pure. */
#include "plugin/report.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/duration.h"
#include "zenlead/ownership.h"
#include "zenlead/render.h"
#include "zenlead/selector.h"

#define MAX_SENTENCE 4096

static bool str_is(const char *a, const char *b)
{
    return a != NULL && b != NULL && strcmp(a, b) == 0;
}

/* A span to come in whole seconds, rounded up ("12s", "59m58s"). */
static void span_text(int64_t ms, char out[DURATION_FORMAT_MAX])
{
    duration_format((ms + 999) / 1000 * 1000000000, out);
}

/* ---- problems ------------------------------------------------------------ */

__attribute__((format(printf, 1, 0))) static char *vformat(const char *fmt,
                                                           va_list ap)
{
    struct buf b;
    buf_init(&b, MAX_SENTENCE);
    enum zl_err rc = buf_vprintf(&b, fmt, ap);
    char *s = rc == ZL_OK ? buf_take(&b) : NULL;
    buf_cleanup(&b);
    return s;
}

/* Adds a problem; fix is a printf format (its arguments follow what's). */
__attribute__((format(printf, 5, 6))) static enum zl_err
add_problem(struct report *r, bool error, const char *code, const char *what,
            const char *fix_fmt, ...)
{
    struct report_problem *items =
        realloc(r->problems, (r->problem_count + 1) * sizeof(*items));
    if (items == NULL)
        return ZL_ERR_NOMEM;
    r->problems = items;
    struct report_problem *p = &items[r->problem_count];
    va_list ap;
    va_start(ap, fix_fmt);
    p->fix = vformat(fix_fmt, ap);
    va_end(ap);
    p->what = strdup(what);
    p->code = strdup(code);
    p->error = error;
    r->problem_count++;
    if (p->fix == NULL || p->what == NULL || p->code == NULL)
        return ZL_ERR_NOMEM;
    return ZL_OK;
}

/* A sentence built with printf, then added as a problem. */
__attribute__((format(printf, 5, 6))) static enum zl_err
add_problemf(struct report *r, bool error, const char *code, const char *fix,
             const char *what_fmt, ...)
{
    va_list ap;
    va_start(ap, what_fmt);
    char *what = vformat(what_fmt, ap);
    va_end(ap);
    if (what == NULL)
        return ZL_ERR_NOMEM;
    enum zl_err rc = add_problem(r, error, code, what, "%s", fix);
    free(what);
    return rc;
}

/* ---- the annotations ----------------------------------------------------- */

static bool refused(const struct report *r)
{
    for (size_t i = 0; i < r->ann.problem_count; i++) {
        const struct annotations_problem *p = &r->ann.problems[i];
        if (p->severity == ANNOTATIONS_ERROR &&
            (str_is(p->event_reason, "InvalidService") ||
             str_is(p->key, ANNOTATIONS_ENABLED)))
            return true;
    }
    return r->ann.settings.leader_name[0] == '\0';
}

static enum zl_err annotation_problems(struct report *r)
{
    enum zl_err rc = ZL_OK;
    for (size_t i = 0; rc == ZL_OK && i < r->ann.problem_count; i++) {
        const struct annotations_problem *p = &r->ann.problems[i];
        rc = add_problem(r, p->severity == ANNOTATIONS_ERROR, p->event_reason,
                         p->message, "%s", p->fix);
    }
    return rc;
}

/* ---- the leader objects -------------------------------------------------- */

static const struct views_endpointslice *primary_slice(const struct report *r)
{
    enum views_ip_family fam[2];
    char name[RENDER_MAX_SLICE_NAME];
    const struct gather_service *g = r->g;
    if (render_slice_families(g->source, fam) == 0)
        return NULL;
    render_slice_name(g->leader_name, fam[0], name);
    for (size_t i = 0; i < g->slice_count; i++) {
        const struct views_endpointslice *s = g->slices[i];
        if (str_is(s->meta.name, name) &&
            ownership_slice_is_ours(s, g->name, g->leader_name,
                                    g->leader != NULL ? g->leader->meta.uid
                                                      : NULL))
            return s;
    }
    return NULL;
}

static void read_routed(struct report *r)
{
    r->last_switch_ms = VIEWS_TIME_NONE;
    if (r->leader_ours) {
        const char *t =
            views_map_get(&r->g->leader->annotations, ANNOTATIONS_LAST_SWITCH);
        if (t == NULL || clock_parse_rfc3339(t, &r->last_switch_ms) != ZL_OK)
            r->last_switch_ms = VIEWS_TIME_NONE;
    }
    r->slice = primary_slice(r);
    if (r->slice != NULL && r->slice->endpoint_count > 0) {
        r->endpoint = &r->slice->endpoints[0];
        r->routed_name = r->endpoint->target_ref.name;
    }
}

/* ---- the pods ------------------------------------------------------------ */

static enum report_verdict verdict_of(const struct leader_pod_check *c,
                                      const struct views_pod *pod,
                                      int64_t now_ms)
{
    switch (c->fault) {
    case LEADER_REASON_TERMINATING:
        return REPORT_POD_TERMINATING;
    case LEADER_REASON_RELABELED:
        return REPORT_POD_NOT_MATCHING;
    case LEADER_REASON_NO_IP:
        return REPORT_POD_NO_IP;
    case LEADER_REASON_PORT_RESOLUTION:
        return REPORT_POD_PORT_MISSING;
    case LEADER_REASON_NOT_READY:
        return pod->phase != VIEWS_PHASE_RUNNING ? REPORT_POD_NOT_RUNNING
                                                 : REPORT_POD_NOT_READY;
    default:
        return c->eligible_at_ms > now_ms ? REPORT_POD_WAITING
                                          : REPORT_POD_ELIGIBLE;
    }
}

static bool is_routed(const struct report *r, const struct views_pod *pod)
{
    return r->endpoint != NULL && r->endpoint->target_ref.uid != NULL &&
           str_is(r->endpoint->target_ref.uid, pod->meta.uid);
}

static enum zl_err judge_pods(struct report *r)
{
    const struct gather_service *g = r->g;
    r->pods = calloc(g->pod_count + 1, sizeof(*r->pods));
    if (r->pods == NULL)
        return ZL_ERR_NOMEM;
    for (size_t i = 0; i < g->pod_count; i++) {
        struct report_pod *p = &r->pods[r->pod_count++];
        struct leader_pod_check c;
        p->pod = g->pods[i];
        if (leader_check_pod(g->source, &r->ann.settings, p->pod, &c) != ZL_OK)
            return ZL_ERR_INTERNAL;
        p->verdict = verdict_of(&c, p->pod, r->now_ms);
        p->eligible_at_ms = c.eligible_at_ms;
        p->missing_port = c.missing_port;
        p->routed = is_routed(r, p->pod);
        p->expected = r->has_decision && r->decision.leader == p->pod;
        if (p->routed && c.fault == LEADER_REASON_NONE)
            p->verdict = REPORT_POD_LEADER;
        if (selector_matches_pod(g->source, p->pod))
            r->matching++;
        if (c.fault == LEADER_REASON_NONE)
            r->candidates++;
        if (c.fault == LEADER_REASON_NONE && c.eligible_at_ms <= r->now_ms)
            r->eligible++;
    }
    return ZL_OK;
}

static enum zl_err decide(struct report *r)
{
    const struct gather_service *g = r->g;
    struct leader_input in = {
        .service = g->source,
        .settings = &r->ann.settings,
        .pods = (const struct views_pod *const *)g->pods,
        .pod_count = g->pod_count,
        .now_ms = r->now_ms,
    };
    if (r->endpoint != NULL && r->endpoint->target_ref.uid != NULL) {
        in.current.uid = r->endpoint->target_ref.uid;
        in.current.name = r->endpoint->target_ref.name;
    }
    enum zl_err rc = leader_choose(&in, &r->decision);
    r->has_decision = rc == ZL_OK;
    return rc;
}

/* ---- the controller ------------------------------------------------------ */

static enum report_controller controller_of(const struct gather_lease *l,
                                            int64_t now_ms)
{
    if (l == NULL || l->state != GATHER_OK)
        return REPORT_CONTROLLER_UNKNOWN;
    if (l->holder == NULL || l->holder[0] == '\0')
        return REPORT_CONTROLLER_RELEASED;
    if (l->renew_ms == VIEWS_TIME_NONE ||
        l->renew_ms + l->duration_s * 1000 < now_ms)
        return REPORT_CONTROLLER_STALE;
    return REPORT_CONTROLLER_RUNNING;
}

static enum zl_err controller_problem(struct report *r, bool pending)
{
    const struct gather_lease *l = r->lease;
    if (r->controller != REPORT_CONTROLLER_STALE &&
        r->controller != REPORT_CONTROLLER_RELEASED)
        return ZL_OK;
    char what[MAX_SENTENCE];
    snprintf(what, sizeof(what),
             "no controller replica holds the Lease %s/%s (%s): nothing "
             "moves the leader until one runs",
             l->namespace_name, l->name,
             r->controller == REPORT_CONTROLLER_STALE ? "not renewed in time"
                                                      : "released");
    return add_problem(r, pending, "ControllerNotRunning", what,
                       "kubectl -n %s get pods; kubectl -n %s logs "
                       "deploy/zen-lead-controller",
                       l->namespace_name, l->namespace_name);
}

/* ---- states and their problems ------------------------------------------- */

static const struct report_pod *first_with(const struct report *r,
                                           enum report_verdict v)
{
    for (size_t i = 0; i < r->pod_count; i++)
        if (r->pods[i].verdict == v)
            return &r->pods[i];
    return NULL;
}

static enum zl_err selector_text(const struct views_service *svc, struct buf *b)
{
    enum zl_err rc = ZL_OK;
    for (size_t i = 0; i < svc->selector.count && rc == ZL_OK; i++)
        rc = buf_printf(b, "%s%s=%s", i > 0 ? "," : "",
                        svc->selector.items[i].key,
                        svc->selector.items[i].value);
    return rc;
}

static enum zl_err no_pods_problem(struct report *r)
{
    struct buf sel;
    buf_init(&sel, MAX_SENTENCE);
    enum zl_err rc = selector_text(r->g->source, &sel);
    if (rc == ZL_OK)
        rc = add_problem(
            r, true, "NoPodsFound",
            "no pod in the namespace matches the Service's selector",
            "kubectl -n %s get pods -l %s --show-labels  # then fix "
            "spec.selector or the pods' labels",
            r->g->namespace_name, sel.data != NULL ? sel.data : "");
    buf_cleanup(&sel);
    return rc;
}

static enum zl_err port_problem(struct report *r)
{
    const struct report_pod *p = first_with(r, REPORT_POD_PORT_MISSING);
    const char *port = r->decision.problem_port;
    return add_problem(
        r, true, "PortResolutionFailed",
        r->decision.problem_message != NULL ? r->decision.problem_message
                                            : "a named targetPort is not "
                                              "declared by the pods",
        "name a containerPort \"%s\" (%s) in the pods, or set the Service's "
        "targetPort to a port they declare: kubectl -n %s get pod %s -o "
        "jsonpath='{.spec.containers[*].ports}'; kubectl -n %s edit service %s",
        port != NULL ? port : "",
        p != NULL && p->missing_port != NULL
            ? views_protocol_name(p->missing_port->protocol)
            : "TCP",
        r->g->namespace_name, p != NULL ? p->pod->meta.name : "POD",
        r->g->namespace_name, r->g->name);
}

/* The waiting pod that qualifies first (the rules' next leader). */
static const struct report_pod *first_to_qualify(const struct report *r)
{
    const struct report_pod *w = NULL;
    for (size_t i = 0; i < r->pod_count; i++)
        if (r->pods[i].verdict == REPORT_POD_WAITING &&
            (w == NULL || r->pods[i].eligible_at_ms < w->eligible_at_ms))
            w = &r->pods[i];
    return w;
}

static enum zl_err not_ready_problem(struct report *r)
{
    const struct report_pod *w = first_to_qualify(r);
    if (w != NULL) {
        char left[DURATION_FORMAT_MAX];
        span_text(w->eligible_at_ms - r->now_ms, left);
        return add_problemf(r, true, "NoReadyPods", "",
                            "no pod has been Ready for min-ready-duration yet; "
                            "%s qualifies in %s",
                            w->pod->meta.name, left);
    }
    const struct report_pod *p = r->pod_count > 0 ? &r->pods[0] : NULL;
    return add_problem(r, true, "NoReadyPods",
                       "none of the pods the selector matches can lead: see "
                       "each pod's verdict",
                       "kubectl -n %s describe pod %s", r->g->namespace_name,
                       p != NULL ? p->pod->meta.name : "POD");
}

static enum zl_err no_leader_problems(struct report *r)
{
    switch (r->decision.problem) {
    case LEADER_PROBLEM_NO_PODS_FOUND:
        return no_pods_problem(r);
    case LEADER_PROBLEM_PORT_RESOLUTION_FAILED:
        return port_problem(r);
    default:
        return not_ready_problem(r);
    }
}

static enum zl_err pending_problem(struct report *r)
{
    const char *want =
        r->decision.leader != NULL ? r->decision.leader->meta.name : NULL;
    if (r->slice == NULL)
        return add_problemf(
            r, true, "Pending", "",
            "the leader Service's EndpointSlice "
            "does not exist yet: the controller has not written it");
    return add_problemf(r, true, "Pending", "",
                        "the slice routes to %s but the rules choose %s: "
                        "the controller has not applied the change",
                        r->routed_name != NULL ? r->routed_name : "no pod",
                        want != NULL ? want : "no pod");
}

static enum zl_err standby_problem(struct report *r)
{
    if (r->state != REPORT_HEALTHY || r->eligible > 1)
        return ZL_OK;
    return add_problemf(r, false, "NoStandby", "",
                        "only the leader can lead now: if it fails, %s has "
                        "no endpoint until another pod is eligible",
                        r->g->leader_name);
}

static enum report_state routed_state(const struct report *r)
{
    const struct views_pod *want = r->decision.leader;
    if (r->slice == NULL)
        return REPORT_PENDING;
    if (want == NULL)
        return r->endpoint == NULL ? REPORT_NO_LEADER : REPORT_PENDING;
    if (r->endpoint == NULL ||
        !str_is(r->endpoint->target_ref.uid, want->meta.uid))
        return REPORT_PENDING;
    if (r->decision.grace)
        return REPORT_GRACE;
    return r->endpoint->ready == r->decision.endpoint_ready ? REPORT_HEALTHY
                                                            : REPORT_PENDING;
}

static enum zl_err managed_report(struct report *r)
{
    enum zl_err rc;
    read_routed(r);
    rc = decide(r);
    if (rc == ZL_OK)
        rc = judge_pods(r);
    if (rc != ZL_OK)
        return rc;
    r->state = routed_state(r);
    if (r->decision.leader == NULL)
        rc = no_leader_problems(r);
    if (rc == ZL_OK && r->state == REPORT_PENDING)
        rc = pending_problem(r);
    if (rc == ZL_OK && r->state == REPORT_GRACE)
        rc = add_problemf(r, false, "Grace", "",
                          "the leader is NotReady and kept for "
                          "failover-min-delay; its endpoint is not ready");
    if (rc == ZL_OK)
        rc = standby_problem(r);
    if (rc == ZL_OK)
        rc = controller_problem(r, r->state == REPORT_PENDING);
    return rc;
}

static enum zl_err conflict_problem(struct report *r)
{
    return add_problemf(
        r, true, "LeaderNameConflict",
        "rename that Service, or set zen-lead.io/leader-service-name on the "
        "source to a free name",
        "Service %s exists and is not managed by zen-lead for %s; zen-lead "
        "leaves it alone",
        r->g->leader_name, r->g->name);
}

static enum zl_err missing_leader_problem(struct report *r)
{
    r->state = REPORT_PENDING;
    enum zl_err rc = add_problemf(
        r, true, "Pending", "",
        "the leader Service %s does not exist yet: the controller has not "
        "created it",
        r->g->leader_name);
    if (rc == ZL_OK)
        rc = controller_problem(r, true);
    return rc;
}

static enum zl_err enabled_report(struct report *r)
{
    const struct gather_service *g = r->g;
    if (refused(r)) {
        r->state = REPORT_INVALID;
        return ZL_OK;
    }
    if (g->leader_state == GATHER_OK) {
        if (!r->leader_ours) {
            r->state = REPORT_CONFLICT;
            return conflict_problem(r);
        }
        if (g->slices_state != GATHER_OK || g->pods_state != GATHER_OK) {
            r->state = REPORT_UNKNOWN; /* the rules need both */
            return ZL_OK;
        }
        return managed_report(r);
    }
    if (g->leader_state == GATHER_ABSENT)
        return missing_leader_problem(r);
    r->state = REPORT_UNKNOWN;
    return ZL_OK;
}

static enum zl_err not_enabled(struct report *r)
{
    r->state = REPORT_NOT_ENABLED;
    return add_problem(r, true, "NotEnabled",
                       "the Service has no zen-lead.io/enabled annotation",
                       "kubectl -n %s annotate service %s "
                       "zen-lead.io/enabled=true",
                       r->g->namespace_name, r->g->name);
}

/* ---- Events -------------------------------------------------------------- */

static bool is_switch(const char *reason)
{
    return str_is(reason, "LeaderElected") || str_is(reason, "LeaderChanged") ||
           str_is(reason, "LeaderLost");
}

/* Keeps the last REPORT_MAX_EVENTS indices of a sequence. */
static void keep_last(size_t *list, size_t *count, size_t index)
{
    if (*count == REPORT_MAX_EVENTS) {
        memmove(list, list + 1, (REPORT_MAX_EVENTS - 1) * sizeof(*list));
        (*count)--;
    }
    list[(*count)++] = index;
}

/* Switches on the source, and the Warnings on it since the last switch
 * (a switch to a leader answers the Warnings before it), both reported by
 * the controller: other components' Events on the Service (the API
 * server's IP repair, a cloud's load balancer) are not about its leader. */
static bool ours(const struct gather_service *g, const struct gather_event *e)
{
    return str_is(e->object_name, g->name) &&
           str_is(e->component, REPORT_COMPONENT);
}

static void pick_events(struct report *r)
{
    const struct gather_service *g = r->g;
    int64_t since = VIEWS_TIME_NONE;
    for (size_t i = 0; i < g->event_count; i++) {
        const struct gather_event *e = &g->events[i];
        if (ours(g, e) && is_switch(e->reason)) {
            keep_last(r->switches, &r->switch_count, i);
            if (!str_is(e->reason, "LeaderLost"))
                since = e->last_ms;
        }
    }
    for (size_t i = 0; i < g->event_count; i++) {
        const struct gather_event *e = &g->events[i];
        if (ours(g, e) && str_is(e->type, "Warning") &&
            (since == VIEWS_TIME_NONE || e->last_ms > since))
            keep_last(r->warnings, &r->warning_count, i);
    }
}

/* ---- the entry points ---------------------------------------------------- */

enum zl_err report_build(const struct gather_service *g,
                         const struct gather_lease *lease, int64_t now_ms,
                         struct report *out)
{
    if (out == NULL)
        return ZL_ERR_INVALID;
    memset(out, 0, sizeof(*out));
    out->last_switch_ms = VIEWS_TIME_NONE;
    if (g == NULL)
        return ZL_ERR_INVALID;
    out->g = g;
    out->lease = lease;
    out->now_ms = now_ms;
    out->controller = controller_of(lease, now_ms);
    if (g->source == NULL) {
        out->state = g->source_state == GATHER_ABSENT ? REPORT_NOT_FOUND
                                                      : REPORT_UNKNOWN;
        return ZL_OK;
    }
    pick_events(out);
    /* Whatever the state: a leader Service left after an opt-out is still
     * zen-lead's, not someone else's. */
    out->leader_ours =
        g->leader_state == GATHER_OK && g->leader != NULL &&
        ownership_leader_is_ours(g->leader, g->name, g->source->meta.uid);
    out->has_enabled =
        views_map_get(&g->source->annotations, ANNOTATIONS_ENABLED) != NULL;
    enum zl_err rc = annotations_check_service(g->source, &out->ann);
    if (rc == ZL_OK)
        rc = annotation_problems(out);
    if (rc != ZL_OK)
        return rc;
    if (!out->has_enabled)
        return not_enabled(out);
    if (!out->ann.settings.enabled) {
        out->state = refused(out) ? REPORT_INVALID : REPORT_NOT_ENABLED;
        return ZL_OK;
    }
    return enabled_report(out);
}

void report_cleanup(struct report *r)
{
    if (r == NULL)
        return;
    annotations_result_cleanup(&r->ann);
    if (r->has_decision)
        leader_decision_cleanup(&r->decision);
    free(r->pods);
    for (size_t i = 0; i < r->problem_count; i++) {
        free(r->problems[i].what);
        free(r->problems[i].fix);
        free(r->problems[i].code);
    }
    free(r->problems);
    memset(r, 0, sizeof(*r));
}

const struct report_pod *report_routed(const struct report *r)
{
    for (size_t i = 0; i < r->pod_count; i++)
        if (r->pods[i].routed)
            return &r->pods[i];
    return NULL;
}

const char *report_state_name(enum report_state s)
{
    static const char *const names[] = {
        "Healthy", "Grace",      "NoLeader", "Pending", "Conflict",
        "Invalid", "NotEnabled", "NotFound", "Unknown",
    };
    return (size_t)s < sizeof(names) / sizeof(names[0]) ? names[s] : "Unknown";
}

const char *report_verdict_name(enum report_verdict v)
{
    static const char *const names[] = {
        "leader", "eligible",    "waiting",    "terminating", "notMatching",
        "noIP",   "portMissing", "notRunning", "notReady",
    };
    return (size_t)v < sizeof(names) / sizeof(names[0]) ? names[v] : "";
}

const char *report_controller_name(enum report_controller c)
{
    static const char *const names[] = {"running", "stale", "released",
                                        "unknown"};
    return (size_t)c < sizeof(names) / sizeof(names[0]) ? names[c] : "unknown";
}

/* SPDX-License-Identifier: Apache-2.0 */
/* Leader choice: candidates, stickiness, failover grace, the preferred pod
 * and the next instant to look again. Pure; the rules are documented in
 * leader.h. */
#include "zenlead/leader.h"

#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "zenlead/ports.h"
#include "zenlead/selector.h"

/* The PortResolutionFailed message never grows past this. */
#define LEADER_MAX_MESSAGE 8192

/* "Ready since forever": a pod without lastTransitionTime. */
#define LEADER_FOREVER INT64_MIN

static int64_t add_saturated(int64_t a, int64_t b)
{
    if (b > 0 && a > INT64_MAX - b)
        return INT64_MAX;
    if (b < 0 && a < INT64_MIN - b)
        return INT64_MIN;
    return a + b;
}

static bool str_empty(const char *s)
{
    return s == NULL || s[0] == '\0';
}

static enum views_ip_family primary_family(const struct views_service *svc)
{
    return svc->ip_family_count > 0 ? svc->ip_families[0] : VIEWS_IPV4;
}

/* True when a is preferred over b: earlier creation, then name. */
static bool pod_before(const struct views_pod *a, const struct views_pod *b)
{
    if (a->meta.created_ms != b->meta.created_ms)
        return a->meta.created_ms < b->meta.created_ms;
    return strcmp(a->meta.name, b->meta.name) < 0;
}

static const struct views_pod *preferred_of(const struct views_pod *a,
                                            const struct views_pod *b)
{
    if (a == NULL)
        return b;
    if (b == NULL)
        return a;
    return pod_before(b, a) ? b : a;
}

static bool same_namespace(const struct views_service *svc,
                           const struct views_pod *pod)
{
    if (svc->meta.namespace_name == NULL || pod->meta.namespace_name == NULL)
        return true;
    return strcmp(svc->meta.namespace_name, pod->meta.namespace_name) == 0;
}

/* An empty or absent selector matches nothing (see selector.h). */
static bool pod_matches(const struct views_service *svc,
                        const struct views_pod *pod)
{
    return selector_matches_pod(svc, pod);
}

/* The first fault that keeps a present pod from being a candidate. */
static enum leader_reason pod_fault(const struct views_service *svc,
                                    const struct views_pod *pod)
{
    if (pod->meta.deleted_ms != VIEWS_TIME_NONE)
        return LEADER_REASON_TERMINATING;
    if (!pod_matches(svc, pod))
        return LEADER_REASON_RELABELED;
    if (pod->ip[primary_family(svc)] == NULL)
        return LEADER_REASON_NO_IP;
    if (!ports_pod_declares_all(svc, pod))
        return LEADER_REASON_PORT_RESOLUTION;
    if (pod->phase != VIEWS_PHASE_RUNNING || !pod->ready)
        return LEADER_REASON_NOT_READY;
    return LEADER_REASON_NONE;
}

/* The instant a Ready pod may become leader. */
static int64_t eligible_at(const struct views_pod *pod, int64_t min_ready_ms)
{
    if (min_ready_ms <= 0 || pod->ready_changed_ms == VIEWS_TIME_NONE)
        return LEADER_FOREVER;
    return add_saturated(pod->ready_changed_ms, min_ready_ms);
}

/* The pod the cluster's objects name as leader; NULL when it is gone.
 * *known tells whether they name one at all. */
static const struct views_pod *find_current(const struct leader_input *in,
                                            bool *known)
{
    const struct leader_current *cur = &in->current;
    bool by_uid = !str_empty(cur->uid);

    *known = by_uid || !str_empty(cur->name);
    if (!*known)
        return NULL;
    for (size_t i = 0; i < in->pod_count; i++) {
        const struct views_pod *pod = in->pods[i];
        if (!same_namespace(in->service, pod))
            continue;
        if (by_uid && pod->meta.uid != NULL &&
            strcmp(pod->meta.uid, cur->uid) == 0)
            return pod;
        if (!by_uid && pod->meta.name != NULL &&
            strcmp(pod->meta.name, cur->name) == 0)
            return pod;
    }
    return NULL;
}

/* Grace for a NotReady leader (rule 2); sets *end_ms when granted. */
static bool grace_applies(const struct leader_input *in,
                          const struct views_pod *cur,
                          const struct views_pod *preferred, int64_t *end_ms)
{
    int64_t delay = in->settings->failover_min_delay_ms;

    if (delay <= 0 || cur->phase != VIEWS_PHASE_RUNNING ||
        cur->ready_changed_ms == VIEWS_TIME_NONE)
        return false;
    *end_ms = add_saturated(cur->ready_changed_ms, delay);
    if (in->now_ms >= *end_ms)
        return false;
    /* Sticky off: waiting only makes sense when it would win back. */
    if (!in->settings->sticky && preferred != NULL &&
        !pod_before(cur, preferred))
        return false;
    return true;
}

static int cmp_pod_names(const void *a, const void *b)
{
    const struct views_pod *pa = *(const struct views_pod *const *)a;
    const struct views_pod *pb = *(const struct views_pod *const *)b;
    return strcmp(pa->meta.name, pb->meta.name);
}

/* The first named targetPort, in Service order, that pod lacks. */
static const struct views_service_port *
first_missing_port(const struct views_service *svc, const struct views_pod *pod)
{
    for (size_t i = 0; i < svc->port_count; i++) {
        const struct views_service_port *sp = &svc->ports[i];
        int32_t target;
        if (sp->target_port_name == NULL)
            continue;
        if (ports_resolve_one(sp, pod, &target) != ZL_OK)
            return sp;
    }
    return NULL;
}

static enum zl_err write_port_message(const struct views_service_port *sp,
                                      const struct views_pod **pods,
                                      size_t count, char **out)
{
    struct buf b;
    size_t named = 0, lacking = 0;
    enum zl_err err;

    buf_init(&b, LEADER_MAX_MESSAGE);
    err = buf_printf(&b, "named targetPort \"%s\" (%s) is not declared by pod",
                     sp->target_port_name, views_protocol_name(sp->protocol));
    for (size_t i = 0; i < count && err == ZL_OK; i++) {
        int32_t target;
        if (ports_resolve_one(sp, pods[i], &target) == ZL_OK)
            continue;
        lacking++;
        if (named == LEADER_MAX_NAMED_PODS)
            continue;
        err =
            buf_printf(&b, "%s %s", named == 0 ? "" : ",", pods[i]->meta.name);
        named++;
    }
    if (err == ZL_OK && lacking > named)
        err = buf_printf(&b, " and %zu more", lacking - named);
    if (err != ZL_OK)
        goto out;
    *out = buf_take(&b);
    if (*out == NULL)
        err = ZL_ERR_NOMEM;
out:
    buf_cleanup(&b);
    return err;
}

/* Fills the PortResolutionFailed detail when no matching pod declares every
 * named targetPort; leaves problem alone otherwise. */
static enum zl_err port_problem(const struct leader_input *in, size_t matching,
                                struct leader_decision *out)
{
    const struct views_pod **pods = NULL;
    const struct views_service_port *sp;
    size_t count = 0;
    enum zl_err err = ZL_OK;

    if (!ports_has_named(in->service))
        return ZL_OK;
    pods = malloc(matching * sizeof(*pods));
    if (pods == NULL)
        return ZL_ERR_NOMEM;
    for (size_t i = 0; i < in->pod_count; i++) {
        const struct views_pod *pod = in->pods[i];
        if (!same_namespace(in->service, pod) || !pod_matches(in->service, pod))
            continue;
        if (ports_pod_declares_all(in->service, pod))
            goto out;
        pods[count++] = pod;
    }
    qsort(pods, count, sizeof(*pods), cmp_pod_names);
    sp = first_missing_port(in->service, pods[0]);
    if (sp == NULL) {
        err = ZL_ERR_INTERNAL;
        goto out;
    }
    err = write_port_message(sp, pods, count, &out->problem_message);
    if (err != ZL_OK)
        goto out;
    out->problem = LEADER_PROBLEM_PORT_RESOLUTION_FAILED;
    out->problem_port = sp->target_port_name;
out:
    free(pods);
    return err;
}

static enum zl_err set_problem(const struct leader_input *in,
                               struct leader_decision *out)
{
    size_t matching = 0;

    for (size_t i = 0; i < in->pod_count; i++) {
        if (same_namespace(in->service, in->pods[i]) &&
            pod_matches(in->service, in->pods[i]))
            matching++;
    }
    if (matching == 0) {
        out->problem = LEADER_PROBLEM_NO_PODS_FOUND;
        return ZL_OK;
    }
    out->problem = LEADER_PROBLEM_NO_READY_PODS;
    return port_problem(in, matching, out);
}

/* The earliest instant a waiting candidate qualifies and matters. */
static int64_t next_qualifying(const struct leader_input *in,
                               const struct views_pod *leader)
{
    int64_t next = VIEWS_TIME_NONE;

    if (leader != NULL && in->settings->sticky)
        return VIEWS_TIME_NONE;
    for (size_t i = 0; i < in->pod_count; i++) {
        const struct views_pod *pod = in->pods[i];
        int64_t at;
        if (!same_namespace(in->service, pod) ||
            pod_fault(in->service, pod) != LEADER_REASON_NONE)
            continue;
        at = eligible_at(pod, in->settings->min_ready_ms);
        if (at <= in->now_ms)
            continue;
        if (leader != NULL && !pod_before(pod, leader))
            continue;
        if (next == VIEWS_TIME_NONE || at < next)
            next = at;
    }
    return next;
}

static int64_t earliest(int64_t a, int64_t b)
{
    if (a == VIEWS_TIME_NONE)
        return b;
    if (b == VIEWS_TIME_NONE)
        return a;
    return a < b ? a : b;
}

/* Counts candidates and finds the preferred eligible pod. */
static const struct views_pod *scan(const struct leader_input *in,
                                    size_t *candidates)
{
    const struct views_pod *preferred = NULL;

    *candidates = 0;
    for (size_t i = 0; i < in->pod_count; i++) {
        const struct views_pod *pod = in->pods[i];
        if (!same_namespace(in->service, pod) ||
            pod_fault(in->service, pod) != LEADER_REASON_NONE)
            continue;
        (*candidates)++;
        if (eligible_at(pod, in->settings->min_ready_ms) <= in->now_ms)
            preferred = preferred_of(preferred, pod);
    }
    return preferred;
}

static bool input_valid(const struct leader_input *in,
                        const struct leader_decision *out)
{
    return in != NULL && out != NULL && in->service != NULL &&
           in->settings != NULL && (in->pods != NULL || in->pod_count == 0);
}

enum zl_err leader_choose(const struct leader_input *in,
                          struct leader_decision *out)
{
    const struct views_pod *preferred, *cur, *leader;
    enum leader_reason fault = LEADER_REASON_NONE;
    int64_t grace_end = VIEWS_TIME_NONE;
    bool known;

    if (out != NULL)
        memset(out, 0, sizeof(*out));
    if (!input_valid(in, out))
        return ZL_ERR_INVALID;
    out->next_check_ms = VIEWS_TIME_NONE;
    preferred = scan(in, &out->candidate_count);
    cur = find_current(in, &known);
    if (known)
        fault =
            cur == NULL ? LEADER_REASON_DELETED : pod_fault(in->service, cur);

    leader = preferred;
    out->endpoint_ready = true;
    if (known && fault == LEADER_REASON_NONE) {
        leader = in->settings->sticky ? cur : preferred_of(preferred, cur);
        if (leader != cur)
            fault = LEADER_REASON_PREEMPTED;
    } else if (known && fault == LEADER_REASON_NOT_READY &&
               grace_applies(in, cur, preferred, &grace_end)) {
        leader = cur;
        out->endpoint_ready = false;
        out->grace = true;
    }
    out->leader = leader;
    if (leader == NULL)
        out->endpoint_ready = false;
    out->changed = known ? (cur == NULL || leader != cur) : leader != NULL;
    if (out->changed && known)
        out->reason = fault;
    out->next_check_ms = earliest(out->grace ? grace_end : VIEWS_TIME_NONE,
                                  next_qualifying(in, leader));
    if (leader == NULL)
        return set_problem(in, out);
    return ZL_OK;
}

enum zl_err leader_check_pod(const struct views_service *service,
                             const struct annotations_settings *settings,
                             const struct views_pod *pod,
                             struct leader_pod_check *out)
{
    if (service == NULL || settings == NULL || pod == NULL || out == NULL)
        return ZL_ERR_INVALID;
    memset(out, 0, sizeof(*out));
    out->fault = pod_fault(service, pod);
    out->eligible_at_ms = LEADER_FOREVER;
    if (out->fault == LEADER_REASON_PORT_RESOLUTION)
        out->missing_port = first_missing_port(service, pod);
    else if (out->fault == LEADER_REASON_NONE)
        out->eligible_at_ms = eligible_at(pod, settings->min_ready_ms);
    return ZL_OK;
}

void leader_decision_cleanup(struct leader_decision *decision)
{
    if (decision == NULL)
        return;
    free(decision->problem_message);
    memset(decision, 0, sizeof(*decision));
    decision->next_check_ms = VIEWS_TIME_NONE;
}

const char *leader_reason_name(enum leader_reason reason)
{
    switch (reason) {
    case LEADER_REASON_TERMINATING:
        return "terminating";
    case LEADER_REASON_NOT_READY:
        return "notReady";
    case LEADER_REASON_NO_IP:
        return "noIP";
    case LEADER_REASON_DELETED:
        return "deleted";
    case LEADER_REASON_RELABELED:
        return "relabeled";
    case LEADER_REASON_PORT_RESOLUTION:
        return "portResolution";
    case LEADER_REASON_PREEMPTED:
        return "preempted";
    case LEADER_REASON_NONE:
        break;
    }
    return "";
}

const char *leader_problem_name(enum leader_problem problem)
{
    switch (problem) {
    case LEADER_PROBLEM_NO_PODS_FOUND:
        return "NoPodsFound";
    case LEADER_PROBLEM_PORT_RESOLUTION_FAILED:
        return "PortResolutionFailed";
    case LEADER_PROBLEM_NO_READY_PODS:
        return "NoReadyPods";
    case LEADER_PROBLEM_NONE:
        break;
    }
    return "";
}

/* SPDX-License-Identifier: Apache-2.0 */
/* Explanations in sentences, from a report and the rules themselves. */
#include "plugin/why.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/duration.h"
#include "plugin/screen.h"

static void ms_text(int64_t ms, char out[DURATION_FORMAT_MAX])
{
    duration_format(ms * 1000000, out);
}

/* A span to come in whole seconds, rounded up. */
static void span_text(int64_t ms, char out[DURATION_FORMAT_MAX])
{
    duration_format((ms + 999) / 1000 * 1000000000, out);
}

/* Who would lead if the current leader went away now: the rules run on
 * the pods without it and with no current leader. */
static enum zl_err next_in_line(const struct report *r,
                                const struct views_pod *leader,
                                const struct views_pod **out)
{
    const struct gather_service *g = r->g;
    const struct views_pod **pods = calloc(g->pod_count + 1, sizeof(*pods));
    struct leader_decision dec;
    size_t n = 0;
    *out = NULL;
    if (pods == NULL)
        return ZL_ERR_NOMEM;
    for (size_t i = 0; i < g->pod_count; i++)
        if (g->pods[i] != leader)
            pods[n++] = g->pods[i];
    struct leader_input in = {.service = g->source,
                              .settings = &r->ann.settings,
                              .pods = pods,
                              .pod_count = n,
                              .now_ms = r->now_ms};
    enum zl_err rc = leader_choose(&in, &dec);
    if (rc == ZL_OK)
        *out = dec.leader;
    leader_decision_cleanup(&dec);
    free(pods);
    return rc;
}

static enum zl_err say_leader(const struct report *r, struct buf *b)
{
    const struct report_pod *p = report_routed(r);
    const struct views_pod *pod = p->pod;
    const char *ip =
        r->endpoint->address_count > 0 ? r->endpoint->addresses[0] : "?";
    enum zl_err rc = buf_printf(b, "%s routes to pod %s (%s). ",
                                r->g->leader_name, pod->meta.name, ip);
    if (rc != ZL_OK)
        return rc;
    if (r->ann.settings.sticky)
        return buf_printf(b,
                          "It is Running and Ready, has an IP of the "
                          "Service's first family and every named "
                          "targetPort, and zen-lead.io/sticky is true, so it "
                          "keeps leading for as long as that holds.\n");
    return buf_printf(b, "zen-lead.io/sticky is false, so the oldest eligible "
                         "pod leads, and this is it.\n");
}

static enum zl_err say_next(const struct report *r, struct buf *b)
{
    const struct report_pod *p = report_routed(r);
    const struct views_pod *next = NULL;
    enum zl_err rc = next_in_line(r, p != NULL ? p->pod : NULL, &next);
    if (rc != ZL_OK)
        return rc;
    if (next == NULL)
        return buf_printf(b,
                          "If it fails now, no other pod can take over: "
                          "%s would have no endpoint.\n",
                          r->g->leader_name);
    return buf_printf(b,
                      "If it fails now, %s takes over (the oldest eligible "
                      "pod, by creation time then name).\n",
                      next->meta.name);
}

static enum zl_err say_grace(const struct report *r, struct buf *b)
{
    char delay[DURATION_FORMAT_MAX], left[DURATION_FORMAT_MAX];
    const struct report_pod *p = report_routed(r);
    ms_text(r->ann.settings.failover_min_delay_ms, delay);
    span_text(r->decision.next_check_ms - r->now_ms, left);
    return buf_printf(b,
                      "%s leads but is NotReady: zen-lead.io/failover-min-"
                      "delay (%s) keeps it for %s more in case it recovers. "
                      "Its endpoint is marked not ready meanwhile, so no "
                      "traffic goes to it.\n",
                      p != NULL ? p->pod->meta.name : r->routed_name, delay,
                      left);
}

static const char *pod_reason(const struct report_pod *p)
{
    switch (p->verdict) {
    case REPORT_POD_TERMINATING:
        return "is terminating (it has a deletionTimestamp) and can never "
               "lead again";
    case REPORT_POD_NOT_MATCHING:
        return "no longer matches the Service's selector";
    case REPORT_POD_NO_IP:
        return "has no IP of the Service's first IP family";
    case REPORT_POD_NOT_RUNNING:
        return "is not Running";
    case REPORT_POD_NOT_READY:
        return "is Running but not Ready (its readiness probe fails)";
    default:
        return "";
    }
}

static enum zl_err say_pod_fix(const struct report *r,
                               const struct report_pod *p, struct buf *b)
{
    const char *ns = r->g->namespace_name, *name = p->pod->meta.name;
    switch (p->verdict) {
    case REPORT_POD_NOT_MATCHING:
        return buf_printf(b,
                          "    check: kubectl -n %s get pod %s "
                          "--show-labels\n",
                          ns, name);
    case REPORT_POD_NO_IP:
        return buf_printf(b, "    check: kubectl -n %s get pod %s -o wide\n",
                          ns, name);
    case REPORT_POD_PORT_MISSING:
        return buf_printf(b,
                          "    check: kubectl -n %s get pod %s -o "
                          "jsonpath='{.spec.containers[*].ports}'\n",
                          ns, name);
    case REPORT_POD_NOT_RUNNING:
    case REPORT_POD_NOT_READY:
        return buf_printf(b, "    check: kubectl -n %s describe pod %s\n", ns,
                          name);
    default:
        return ZL_OK;
    }
}

/* "declares no container port named "pg" with protocol TCP; it declares
 * http/TCP, metrics/TCP." */
static enum zl_err say_ports(const struct report_pod *p, struct buf *b)
{
    const struct views_pod *pod = p->pod;
    size_t named = 0;
    enum zl_err rc = buf_printf(
        b, "  - %s declares no container port named \"%s\" with protocol %s",
        pod->meta.name, p->missing_port->target_port_name,
        views_protocol_name(p->missing_port->protocol));
    for (size_t i = 0; rc == ZL_OK && i < pod->port_count; i++) {
        const struct views_container_port *cp = &pod->ports[i];
        if (cp->name[0] == '\0')
            continue;
        rc = buf_printf(b, "%s%s/%s", named++ == 0 ? "; it declares " : ", ",
                        cp->name, views_protocol_name(cp->protocol));
    }
    if (rc == ZL_OK && named == 0)
        rc = buf_puts(b, "; it declares no named port");
    return rc == ZL_OK ? buf_puts(b, ".\n") : rc;
}

static enum zl_err say_pod(const struct report *r, const struct report_pod *p,
                           struct buf *b)
{
    char t[DURATION_FORMAT_MAX], mr[DURATION_FORMAT_MAX];
    enum zl_err rc;
    if (p->verdict == REPORT_POD_LEADER || p->verdict == REPORT_POD_ELIGIBLE)
        return ZL_OK;
    if (p->verdict == REPORT_POD_WAITING) {
        span_text(p->eligible_at_ms - r->now_ms, t);
        ms_text(r->ann.settings.min_ready_ms, mr);
        return buf_printf(b,
                          "  - %s is Ready but may only become leader in %s "
                          "(zen-lead.io/min-ready-duration is %s).\n",
                          p->pod->meta.name, t, mr);
    }
    if (p->verdict == REPORT_POD_PORT_MISSING)
        rc = say_ports(p, b);
    else
        rc = buf_printf(b, "  - %s %s.\n", p->pod->meta.name, pod_reason(p));
    return rc == ZL_OK ? say_pod_fix(r, p, b) : rc;
}

static size_t count_blocked(const struct report *r)
{
    size_t n = 0;
    for (size_t i = 0; i < r->pod_count; i++)
        if (r->pods[i].verdict != REPORT_POD_LEADER &&
            r->pods[i].verdict != REPORT_POD_ELIGIBLE)
            n++;
    return n;
}

static enum zl_err say_pods(const struct report *r, struct buf *b)
{
    if (count_blocked(r) == 0)
        return ZL_OK;
    enum zl_err rc = buf_puts(b, "\nPods that cannot lead now:\n");
    for (size_t i = 0; rc == ZL_OK && i < r->pod_count; i++)
        rc = say_pod(r, &r->pods[i], b);
    return rc;
}

static enum zl_err say_problems(const struct report *r, bool errors,
                                struct buf *b)
{
    enum zl_err rc = ZL_OK;
    for (size_t i = 0; rc == ZL_OK && i < r->problem_count; i++) {
        const struct report_problem *p = &r->problems[i];
        if (p->error != errors)
            continue;
        size_t n = strlen(p->what);
        rc = buf_printf(b, "%s %s%s\n", errors ? "Problem:" : "Note:", p->what,
                        n > 0 && p->what[n - 1] == '.' ? "" : ".");
        if (rc == ZL_OK && p->fix[0] != '\0')
            rc = buf_printf(b, "    fix: %s\n", p->fix);
    }
    return rc;
}

static bool has_warnings(const struct report *r)
{
    for (size_t i = 0; i < r->problem_count; i++)
        if (!r->problems[i].error)
            return true;
    return false;
}

static enum zl_err say_state(const struct report *r, struct buf *b)
{
    const struct gather_service *g = r->g;
    switch (r->state) {
    case REPORT_NOT_FOUND:
        return buf_printf(b, "Service %s/%s does not exist.\n",
                          g->namespace_name, g->name);
    case REPORT_UNKNOWN:
        return buf_printf(b, "Service %s/%s could not be read: %s\n",
                          g->namespace_name, g->name, g->error);
    case REPORT_NOT_ENABLED:
        return buf_printf(b,
                          "zen-lead does not manage %s/%s: it is not "
                          "opted in.\n",
                          g->namespace_name, g->name);
    case REPORT_INVALID:
        return buf_printf(b,
                          "zen-lead refuses %s/%s as it is, so it keeps "
                          "no leader Service for it.\n",
                          g->namespace_name, g->name);
    case REPORT_CONFLICT:
        return ZL_OK;
    case REPORT_HEALTHY:
        return say_leader(r, b);
    case REPORT_GRACE:
        return say_grace(r, b);
    case REPORT_NO_LEADER:
        return buf_printf(b, "%s has no endpoint: no pod can lead.\n",
                          g->leader_name);
    case REPORT_PENDING:
        return buf_printf(b,
                          "%s does not route to the pod the rules choose "
                          "yet.\n",
                          g->leader_name);
    }
    return ZL_OK;
}

enum zl_err why_explain(const struct report *r, struct buf *out)
{
    enum zl_err rc = say_state(r, out);
    if (rc == ZL_OK)
        rc = say_problems(r, true, out);
    if (rc == ZL_OK && r->state == REPORT_HEALTHY)
        rc = say_next(r, out);
    if (rc == ZL_OK && r->has_decision)
        rc = say_pods(r, out);
    if (rc == ZL_OK && has_warnings(r))
        rc = buf_putc(out, '\n');
    if (rc == ZL_OK)
        rc = say_problems(r, false, out);
    return rc;
}

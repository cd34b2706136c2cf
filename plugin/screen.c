/* SPDX-License-Identifier: Apache-2.0 */
/* Status screens, the Service table and their JSON. */
#include "plugin/screen.h"

#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "base/clock.h"
#include "base/duration.h"

#define C_RESET "\033[0m"
#define C_BOLD "\033[1m"
#define C_RED "\033[31m"
#define C_GREEN "\033[32m"
#define C_YELLOW "\033[33m"

/* ---- small pieces -------------------------------------------------------- */

void screen_age(int64_t since_ms, int64_t now_ms, char out[SCREEN_AGE_MAX])
{
    if (since_ms == VIEWS_TIME_NONE) {
        snprintf(out, SCREEN_AGE_MAX, "-");
        return;
    }
    int64_t s = now_ms > since_ms ? (now_ms - since_ms) / 1000 : 0;
    if (s < 60)
        snprintf(out, SCREEN_AGE_MAX, "%" PRId64 "s", s);
    else if (s < 3600)
        snprintf(out, SCREEN_AGE_MAX, "%" PRId64 "m%" PRId64 "s", s / 60,
                 s % 60);
    else if (s < 86400)
        snprintf(out, SCREEN_AGE_MAX, "%" PRId64 "h%" PRId64 "m", s / 3600,
                 s % 3600 / 60);
    else
        snprintf(out, SCREEN_AGE_MAX, "%" PRId64 "d%" PRId64 "h", s / 86400,
                 s % 86400 / 3600);
}

static const char *state_color(enum report_state s)
{
    switch (s) {
    case REPORT_HEALTHY:
        return C_GREEN;
    case REPORT_GRACE:
    case REPORT_PENDING:
    case REPORT_NOT_ENABLED:
    case REPORT_UNKNOWN:
        return C_YELLOW;
    default:
        return C_RED;
    }
}

static const char *verdict_color(enum report_verdict v)
{
    if (v == REPORT_POD_LEADER)
        return C_GREEN;
    if (v == REPORT_POD_ELIGIBLE)
        return "";
    return v == REPORT_POD_WAITING ? C_YELLOW : C_RED;
}

/* text in colour (when on) padded to width. */
static enum zl_err put_colored(struct buf *b, bool color, const char *code,
                               const char *text, int width)
{
    if (!color || code[0] == '\0')
        return buf_printf(b, "%-*s", width, text);
    int pad = width - (int)strlen(text);
    return buf_printf(b, "%s%s%s%*s", code, text, C_RESET, pad > 0 ? pad : 0,
                      "");
}

static const char *phase_name(enum views_pod_phase p)
{
    static const char *const names[] = {"Unknown", "Pending", "Running",
                                        "Succeeded", "Failed"};
    return (size_t)p < sizeof(names) / sizeof(names[0]) ? names[p] : "Unknown";
}

static void ms_duration(int64_t ms, char out[DURATION_FORMAT_MAX])
{
    duration_format(ms * 1000000, out);
}

/* ---- the status screen --------------------------------------------------- */

static enum zl_err put_header(const struct report *r, bool color, struct buf *b)
{
    const struct gather_service *g = r->g;
    enum zl_err rc =
        buf_printf(b, "%sService %s/%s%s  ", color ? C_BOLD : "",
                   g->namespace_name, g->name, color ? C_RESET : "");
    if (rc == ZL_OK)
        rc = put_colored(b, color, state_color(r->state),
                         report_state_name(r->state), 0);
    return rc == ZL_OK ? buf_putc(b, '\n') : rc;
}

static enum zl_err put_settings(const struct report *r, struct buf *b)
{
    const struct annotations_settings *s = &r->ann.settings;
    char mr[DURATION_FORMAT_MAX], fd[DURATION_FORMAT_MAX];
    if (r->g->source == NULL || !r->has_enabled)
        return ZL_OK;
    ms_duration(s->min_ready_ms, mr);
    ms_duration(s->failover_min_delay_ms, fd);
    return buf_printf(
        b,
        "  settings    enabled=%s sticky=%s "
        "leader-service-name=%s min-ready-duration=%s "
        "failover-min-delay=%s\n",
        s->enabled ? "true" : "false", s->sticky ? "true" : "false",
        s->leader_name[0] != '\0' ? s->leader_name : "(none)", mr, fd);
}

static enum zl_err put_leader(const struct report *r, struct buf *b)
{
    char led[SCREEN_AGE_MAX], rdy[SCREEN_AGE_MAX], age[SCREEN_AGE_MAX];
    const struct report_pod *p = report_routed(r);
    if (r->slice == NULL)
        return ZL_OK;
    if (r->endpoint == NULL)
        return buf_puts(b, "  leader      none (the slice has no endpoint)\n");
    screen_age(r->last_switch_ms, r->now_ms, led);
    if (p == NULL)
        return buf_printf(b, "  leader      %s (not found)  leading for %s\n",
                          r->routed_name != NULL ? r->routed_name : "?", led);
    screen_age(p->pod->ready_changed_ms, r->now_ms, rdy);
    screen_age(p->pod->meta.created_ms, r->now_ms, age);
    return buf_printf(b,
                      "  leader      %s  leading for %s  Ready=%s for %s  "
                      "pod age %s\n",
                      p->pod->meta.name, led, p->pod->ready ? "True" : "False",
                      rdy, age);
}

static enum zl_err put_endpoint_ports(const struct views_endpointslice *s,
                                      struct buf *b)
{
    enum zl_err rc = ZL_OK;
    for (size_t i = 0; i < s->port_count && rc == ZL_OK; i++) {
        const struct views_endpoint_port *p = &s->ports[i];
        char num[16] = "-";
        if (p->port > 0)
            snprintf(num, sizeof(num), "%" PRId32, p->port);
        rc = buf_printf(b, "%s%s%s%s/%s", i == 0 ? "  port " : ", ",
                        p->name != NULL ? p->name : "",
                        p->name != NULL && p->name[0] != '\0' ? " " : "", num,
                        views_protocol_name(p->protocol));
    }
    return rc;
}

static enum zl_err put_slice(const struct views_endpointslice *s, struct buf *b)
{
    enum zl_err rc = buf_printf(b, "  slice       %s", s->meta.name);
    if (rc == ZL_OK && s->endpoint_count == 0)
        rc = buf_puts(b, "  no endpoints");
    for (size_t i = 0; rc == ZL_OK && i < s->endpoint_count; i++) {
        const struct views_endpoint *e = &s->endpoints[i];
        rc = buf_printf(b, "  %s %s%s%s -> %s",
                        e->address_count > 0 ? e->addresses[0] : "-",
                        e->ready ? "ready" : "not-ready",
                        e->serving ? ",serving" : "",
                        e->terminating ? ",terminating" : "",
                        e->target_ref.name != NULL ? e->target_ref.name : "?");
    }
    if (rc == ZL_OK)
        rc = put_endpoint_ports(s, b);
    return rc == ZL_OK ? buf_putc(b, '\n') : rc;
}

static enum zl_err put_leader_service(const struct report *r, struct buf *b)
{
    const struct gather_service *g = r->g;
    enum zl_err rc = ZL_OK;
    if (g->leader_name == NULL || !r->has_enabled)
        return ZL_OK;
    if (g->leader == NULL)
        return buf_printf(b, "  leader svc  %s (absent)\n", g->leader_name);
    rc = buf_printf(b, "  leader svc  %s%s\n", g->leader_name,
                    r->leader_ours ? "" : " (not managed by zen-lead)");
    for (size_t i = 0; rc == ZL_OK && r->leader_ours && i < g->slice_count; i++)
        rc = put_slice(g->slices[i], b);
    return rc;
}

static enum zl_err pod_note(const struct report *r, const struct report_pod *p,
                            struct buf *b)
{
    char t[SCREEN_AGE_MAX];
    switch (p->verdict) {
    case REPORT_POD_WAITING:
        screen_age(r->now_ms, p->eligible_at_ms, t);
        return buf_printf(b, "min-ready: eligible in %s", t);
    case REPORT_POD_TERMINATING:
        screen_age(p->pod->meta.deleted_ms, r->now_ms, t);
        return buf_printf(b, "terminating for %s", t);
    case REPORT_POD_NOT_MATCHING:
        return buf_puts(b, "labels no longer match the selector");
    case REPORT_POD_NO_IP:
        return buf_puts(b, "no IP of the Service's first family");
    case REPORT_POD_PORT_MISSING:
        return buf_printf(b, "declares no port \"%s\" (%s)",
                          p->missing_port->target_port_name,
                          views_protocol_name(p->missing_port->protocol));
    case REPORT_POD_NOT_RUNNING:
        return buf_printf(b, "phase %s", phase_name(p->pod->phase));
    case REPORT_POD_NOT_READY:
        screen_age(p->pod->ready_changed_ms, r->now_ms, t);
        return buf_printf(b, "Ready=False for %s%s", t,
                          p->routed ? " (still routed)" : "");
    default:
        return ZL_OK;
    }
}

static enum zl_err put_pod_row(const struct report *r,
                               const struct report_pod *p, bool color,
                               struct buf *b)
{
    char age[SCREEN_AGE_MAX];
    const struct views_pod *pod = p->pod;
    const char *ip = pod->ip[VIEWS_IPV4] != NULL   ? pod->ip[VIEWS_IPV4]
                     : pod->ip[VIEWS_IPV6] != NULL ? pod->ip[VIEWS_IPV6]
                                                   : "-";
    screen_age(pod->meta.created_ms, r->now_ms, age);
    enum zl_err rc = buf_printf(b, "  %-24s ", pod->meta.name);
    if (rc == ZL_OK)
        rc = put_colored(b, color, verdict_color(p->verdict),
                         report_verdict_name(p->verdict), 12);
    if (rc == ZL_OK)
        rc = buf_printf(b, " %-6s %-16s %-7s ", pod->ready ? "True" : "False",
                        ip, age);
    if (rc == ZL_OK)
        rc = pod_note(r, p, b);
    if (rc == ZL_OK && p->expected && !p->routed)
        rc = buf_puts(b, p->verdict == REPORT_POD_ELIGIBLE
                             ? "  <- the rules choose it"
                             : "  <- the rules keep it");
    return rc == ZL_OK ? buf_putc(b, '\n') : rc;
}

static enum zl_err put_candidates(const struct report *r, bool color,
                                  struct buf *b)
{
    if (!r->has_decision)
        return ZL_OK;
    enum zl_err rc =
        buf_printf(b,
                   "\nPods (%zu match%s the selector, %zu candidate%s, %zu "
                   "eligible now)\n",
                   r->matching, r->matching == 1 ? "es" : "", r->candidates,
                   r->candidates == 1 ? "" : "s", r->eligible);
    if (rc == ZL_OK && r->pod_count == 0)
        return buf_puts(b, "  no pod matches the selector\n");
    if (rc == ZL_OK)
        rc = buf_printf(b, "  %-24s %-12s %-6s %-16s %-7s %s\n", "POD",
                        "VERDICT", "READY", "IP", "AGE", "NOTE");
    for (size_t i = 0; rc == ZL_OK && i < r->pod_count; i++)
        rc = put_pod_row(r, &r->pods[i], color, b);
    return rc;
}

static enum zl_err put_events(const struct report *r, const char *title,
                              const size_t *idx, size_t count, struct buf *b)
{
    char ago[SCREEN_AGE_MAX];
    if (count == 0)
        return ZL_OK;
    enum zl_err rc = buf_printf(b, "\n%s\n", title);
    for (size_t i = 0; rc == ZL_OK && i < count; i++) {
        const struct gather_event *e = &r->g->events[idx[i]];
        screen_age(e->last_ms, r->now_ms, ago);
        rc = buf_printf(b, "  %s ago  %s", ago, e->reason);
        if (rc == ZL_OK && e->count > 1)
            rc = buf_printf(b, " (x%" PRId32 ")", e->count);
        if (rc == ZL_OK)
            rc = buf_printf(b, "  %s\n", e->message);
    }
    return rc;
}

static enum zl_err put_problems(const struct report *r, bool color,
                                struct buf *b)
{
    if (r->problem_count == 0)
        return ZL_OK;
    enum zl_err rc = buf_puts(b, "\nProblems\n");
    for (size_t i = 0; rc == ZL_OK && i < r->problem_count; i++) {
        const struct report_problem *p = &r->problems[i];
        rc = buf_puts(b, "  ");
        if (rc == ZL_OK)
            rc = put_colored(b, color, p->error ? C_RED : C_YELLOW,
                             p->error ? "error" : "warning", 0);
        if (rc == ZL_OK)
            rc = buf_printf(b, " %s: %s\n", p->code, p->what);
        if (rc == ZL_OK && p->fix[0] != '\0')
            rc = buf_printf(b, "    fix: %s\n", p->fix);
    }
    return rc;
}

static enum zl_err put_controller(const struct report *r, struct buf *b)
{
    const struct gather_lease *l = r->lease;
    char ago[SCREEN_AGE_MAX];
    if (l == NULL)
        return ZL_OK;
    if (l->state != GATHER_OK)
        return buf_printf(b, "\nController  unknown: %s\n",
                          l->state == GATHER_ABSENT
                              ? "no Lease (not installed, or runs without "
                                "--leader-elect)"
                              : l->error);
    screen_age(l->renew_ms, r->now_ms, ago);
    return buf_printf(b,
                      "\nController  %s  Lease %s/%s held by %s, renewed %s "
                      "ago\n",
                      report_controller_name(r->controller), l->namespace_name,
                      l->name, l->holder != NULL ? l->holder : "nobody", ago);
}

enum zl_err screen_status(const struct report *r, bool color, struct buf *out)
{
    enum zl_err rc = put_header(r, color, out);
    if (rc == ZL_OK && r->g->source == NULL)
        return buf_printf(out, "  %s\n",
                          r->state == REPORT_NOT_FOUND ? "no such Service"
                                                       : r->g->error);
    if (rc == ZL_OK)
        rc = put_settings(r, out);
    if (rc == ZL_OK)
        rc = put_leader_service(r, out);
    if (rc == ZL_OK)
        rc = put_leader(r, out);
    if (rc == ZL_OK)
        rc = put_candidates(r, color, out);
    if (rc == ZL_OK)
        rc = put_events(r, "Last switches", r->switches, r->switch_count, out);
    if (rc == ZL_OK)
        rc = put_events(r,
                        r->switch_count > 0
                            ? "Warning Events since the last switch"
                            : "Warning Events",
                        r->warnings, r->warning_count, out);
    if (rc == ZL_OK)
        rc = put_problems(r, color, out);
    if (rc == ZL_OK)
        rc = put_controller(r, out);
    if (rc == ZL_OK && r->g->error[0] != '\0')
        rc = buf_printf(out, "\nNot shown: %s\n", r->g->error);
    return rc;
}

/* ---- the table ----------------------------------------------------------- */

static enum zl_err put_row(const struct report *r, bool all, bool color,
                           struct buf *b)
{
    char led[SCREEN_AGE_MAX], ready[32];
    const char *leader = r->routed_name != NULL ? r->routed_name : "<none>";
    enum zl_err rc = ZL_OK;
    screen_age(r->endpoint != NULL ? r->last_switch_ms : VIEWS_TIME_NONE,
               r->now_ms, led);
    snprintf(ready, sizeof(ready), "%zu/%zu", r->eligible, r->matching);
    if (all)
        rc = buf_printf(b, "%-20s ", r->g->namespace_name);
    if (rc == ZL_OK)
        rc = buf_printf(b, "%-28s %-28s %-8s %-7s ", r->g->name, leader, led,
                        ready);
    if (rc == ZL_OK)
        rc = put_colored(b, color, state_color(r->state),
                         report_state_name(r->state), 0);
    return rc == ZL_OK ? buf_putc(b, '\n') : rc;
}

enum zl_err screen_table(const struct report *const *reports, size_t count,
                         bool all_namespaces, bool color, struct buf *out)
{
    enum zl_err rc = ZL_OK;
    if (all_namespaces)
        rc = buf_printf(out, "%-20s ", "NAMESPACE");
    if (rc == ZL_OK)
        rc = buf_printf(out, "%-28s %-28s %-8s %-7s %s\n", "SERVICE", "LEADER",
                        "AGE", "READY", "STATE");
    for (size_t i = 0; rc == ZL_OK && i < count; i++)
        rc = put_row(reports[i], all_namespaces, color, out);
    return rc;
}

/* ---- JSON ---------------------------------------------------------------- */

static struct json_object *jstr(const char *s)
{
    return s != NULL ? json_object_new_string(s) : NULL;
}

static struct json_object *jtime(int64_t ms)
{
    char text[CLOCK_RFC3339_MAX];
    if (ms == VIEWS_TIME_NONE)
        return NULL;
    clock_format_ms(ms, CLOCK_PREC_S, text);
    return json_object_new_string(text);
}

static struct json_object *jseconds(int64_t since_ms, int64_t now_ms)
{
    if (since_ms == VIEWS_TIME_NONE)
        return NULL;
    return json_object_new_int64(now_ms > since_ms ? (now_ms - since_ms) / 1000
                                                   : 0);
}

static struct json_object *settings_json(const struct report *r)
{
    const struct annotations_settings *s = &r->ann.settings;
    char mr[DURATION_FORMAT_MAX], fd[DURATION_FORMAT_MAX];
    struct json_object *o = json_object_new_object();
    ms_duration(s->min_ready_ms, mr);
    ms_duration(s->failover_min_delay_ms, fd);
    json_object_object_add(o, "enabled", json_object_new_boolean(s->enabled));
    json_object_object_add(o, "sticky", json_object_new_boolean(s->sticky));
    json_object_object_add(o, "leaderServiceName",
                           s->leader_name[0] != '\0' ? jstr(s->leader_name)
                                                     : NULL);
    json_object_object_add(o, "minReadyDuration", jstr(mr));
    json_object_object_add(o, "failoverMinDelay", jstr(fd));
    return o;
}

static struct json_object *slice_json(const struct views_endpointslice *s)
{
    struct json_object *o = json_object_new_object();
    struct json_object *eps = json_object_new_array();
    struct json_object *ports = json_object_new_array();
    json_object_object_add(o, "name", jstr(s->meta.name));
    for (size_t i = 0; i < s->endpoint_count; i++) {
        const struct views_endpoint *e = &s->endpoints[i];
        struct json_object *j = json_object_new_object();
        json_object_object_add(
            j, "address", jstr(e->address_count > 0 ? e->addresses[0] : ""));
        json_object_object_add(j, "pod", jstr(e->target_ref.name));
        json_object_object_add(j, "ready", json_object_new_boolean(e->ready));
        json_object_object_add(j, "serving",
                               json_object_new_boolean(e->serving));
        json_object_object_add(j, "terminating",
                               json_object_new_boolean(e->terminating));
        json_object_array_add(eps, j);
    }
    for (size_t i = 0; i < s->port_count; i++) {
        struct json_object *j = json_object_new_object();
        json_object_object_add(j, "name", jstr(s->ports[i].name));
        json_object_object_add(j, "port",
                               json_object_new_int(s->ports[i].port));
        json_object_object_add(j, "protocol",
                               jstr(views_protocol_name(s->ports[i].protocol)));
        json_object_array_add(ports, j);
    }
    json_object_object_add(o, "endpoints", eps);
    json_object_object_add(o, "ports", ports);
    return o;
}

static struct json_object *leader_service_json(const struct report *r)
{
    const struct gather_service *g = r->g;
    struct json_object *o, *slices;
    if (g->leader_name == NULL)
        return NULL;
    o = json_object_new_object();
    slices = json_object_new_array();
    json_object_object_add(o, "name", jstr(g->leader_name));
    json_object_object_add(o, "exists",
                           json_object_new_boolean(g->leader != NULL));
    json_object_object_add(o, "managed",
                           json_object_new_boolean(r->leader_ours));
    for (size_t i = 0; r->leader_ours && i < g->slice_count; i++)
        json_object_array_add(slices, slice_json(g->slices[i]));
    json_object_object_add(o, "slices", slices);
    return o;
}

static struct json_object *leader_json(const struct report *r)
{
    const struct report_pod *p = report_routed(r);
    struct json_object *o;
    if (r->endpoint == NULL)
        return NULL;
    o = json_object_new_object();
    json_object_object_add(o, "pod", jstr(r->routed_name));
    json_object_object_add(o, "since", jtime(r->last_switch_ms));
    json_object_object_add(o, "leadingSeconds",
                           jseconds(r->last_switch_ms, r->now_ms));
    json_object_object_add(o, "endpointReady",
                           json_object_new_boolean(r->endpoint->ready));
    if (p != NULL) {
        json_object_object_add(o, "ready",
                               json_object_new_boolean(p->pod->ready));
        json_object_object_add(o, "readySince",
                               jtime(p->pod->ready_changed_ms));
        json_object_object_add(o, "ageSeconds",
                               jseconds(p->pod->meta.created_ms, r->now_ms));
    }
    return o;
}

static struct json_object *pod_json(const struct report *r,
                                    const struct report_pod *p)
{
    struct json_object *o = json_object_new_object();
    const struct views_pod *pod = p->pod;
    json_object_object_add(o, "pod", jstr(pod->meta.name));
    json_object_object_add(o, "verdict", jstr(report_verdict_name(p->verdict)));
    json_object_object_add(o, "routed", json_object_new_boolean(p->routed));
    json_object_object_add(o, "chosen", json_object_new_boolean(p->expected));
    json_object_object_add(o, "ready", json_object_new_boolean(pod->ready));
    json_object_object_add(o, "phase", jstr(phase_name(pod->phase)));
    json_object_object_add(o, "ip",
                           jstr(pod->ip[VIEWS_IPV4] != NULL
                                    ? pod->ip[VIEWS_IPV4]
                                    : pod->ip[VIEWS_IPV6]));
    json_object_object_add(o, "ageSeconds",
                           jseconds(pod->meta.created_ms, r->now_ms));
    if (p->verdict == REPORT_POD_WAITING)
        json_object_object_add(
            o, "eligibleInSeconds",
            json_object_new_int64((p->eligible_at_ms - r->now_ms + 999) /
                                  1000));
    if (p->verdict == REPORT_POD_PORT_MISSING)
        json_object_object_add(o, "missingPort",
                               jstr(p->missing_port->target_port_name));
    return o;
}

static struct json_object *events_json(const struct report *r,
                                       const size_t *idx, size_t count)
{
    struct json_object *a = json_object_new_array();
    for (size_t i = 0; i < count; i++) {
        const struct gather_event *e = &r->g->events[idx[i]];
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "reason", jstr(e->reason));
        json_object_object_add(o, "type", jstr(e->type));
        json_object_object_add(o, "message", jstr(e->message));
        json_object_object_add(o, "count", json_object_new_int(e->count));
        json_object_object_add(o, "lastSeen", jtime(e->last_ms));
        json_object_array_add(a, o);
    }
    return a;
}

static struct json_object *problems_json(const struct report *r)
{
    struct json_object *a = json_object_new_array();
    for (size_t i = 0; i < r->problem_count; i++) {
        const struct report_problem *p = &r->problems[i];
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "severity",
                               jstr(p->error ? "error" : "warning"));
        json_object_object_add(o, "code", jstr(p->code));
        json_object_object_add(o, "message", jstr(p->what));
        json_object_object_add(o, "fix", jstr(p->fix));
        json_object_array_add(a, o);
    }
    return a;
}

static struct json_object *controller_json(const struct report *r)
{
    const struct gather_lease *l = r->lease;
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "state",
                           jstr(report_controller_name(r->controller)));
    if (l == NULL)
        return o;
    json_object_object_add(
        o, "lease", json_object_new_string(l->name != NULL ? l->name : ""));
    json_object_object_add(o, "leaseNamespace", jstr(l->namespace_name));
    json_object_object_add(o, "holder", jstr(l->holder));
    json_object_object_add(o, "renewed", jtime(l->renew_ms));
    if (l->state != GATHER_OK)
        json_object_object_add(
            o, "error",
            jstr(l->state == GATHER_ABSENT ? "no Lease" : l->error));
    return o;
}

enum zl_err screen_status_json(const struct report *r, struct json_object **out)
{
    struct json_object *o = json_object_new_object(), *pods;
    if (o == NULL)
        return ZL_ERR_NOMEM;
    json_object_object_add(o, "kind", jstr("ZenLeadStatus"));
    json_object_object_add(o, "namespace", jstr(r->g->namespace_name));
    json_object_object_add(o, "service", jstr(r->g->name));
    json_object_object_add(o, "state", jstr(report_state_name(r->state)));
    if (r->g->source != NULL && r->has_enabled)
        json_object_object_add(o, "settings", settings_json(r));
    json_object_object_add(o, "leaderService", leader_service_json(r));
    json_object_object_add(o, "leader", leader_json(r));
    json_object_object_add(o, "chosen",
                           r->has_decision && r->decision.leader != NULL
                               ? jstr(r->decision.leader->meta.name)
                               : NULL);
    json_object_object_add(o, "candidatesReady",
                           json_object_new_int64((int64_t)r->candidates));
    json_object_object_add(o, "eligibleNow",
                           json_object_new_int64((int64_t)r->eligible));
    json_object_object_add(o, "podsMatching",
                           json_object_new_int64((int64_t)r->matching));
    pods = json_object_new_array();
    for (size_t i = 0; i < r->pod_count; i++)
        json_object_array_add(pods, pod_json(r, &r->pods[i]));
    json_object_object_add(o, "candidates", pods);
    json_object_object_add(o, "switches",
                           events_json(r, r->switches, r->switch_count));
    json_object_object_add(o, "warningEvents",
                           events_json(r, r->warnings, r->warning_count));
    json_object_object_add(o, "problems", problems_json(r));
    json_object_object_add(o, "controller", controller_json(r));
    if (r->g->error[0] != '\0')
        json_object_object_add(o, "readError", jstr(r->g->error));
    *out = o;
    return ZL_OK;
}

enum zl_err screen_list_json(const struct report *const *reports, size_t count,
                             struct json_object **out)
{
    struct json_object *o = json_object_new_object();
    struct json_object *items = json_object_new_array();
    if (o == NULL || items == NULL) {
        json_object_put(o);
        json_object_put(items);
        return ZL_ERR_NOMEM;
    }
    for (size_t i = 0; i < count; i++) {
        struct json_object *item = NULL;
        enum zl_err rc = screen_status_json(reports[i], &item);
        if (rc != ZL_OK) {
            json_object_put(o);
            json_object_put(items);
            return rc;
        }
        json_object_array_add(items, item);
    }
    json_object_object_add(o, "kind", jstr("ZenLeadStatusList"));
    json_object_object_add(o, "items", items);
    *out = o;
    return ZL_OK;
}

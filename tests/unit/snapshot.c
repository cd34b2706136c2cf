/* SPDX-License-Identifier: Apache-2.0 */
/* Snapshots for the plugin's tests, built from the JSON the API server
 * would send for each object. */
#include "snapshot.h"

#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "plugin/report.h"

#define TEXT_MAX 8192

static const char default_spec[] =
    "{'selector':{'app':'db'},'ipFamilies':['IPv4'],"
    "'ports':[{'name':'pg','port':5432,'targetPort':'db','protocol':'TCP'}]}";

void snapshot_time(int ago, char out[32])
{
    clock_format_ms(SNAPSHOT_NOW_MS - (int64_t)ago * 1000, CLOCK_PREC_S, out);
}

/* printf into text, then ' becomes " (the literals stay readable). */
__attribute__((format(printf, 2, 3))) static void
json_text(char text[TEXT_MAX], const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(text, TEXT_MAX, fmt, ap);
    va_end(ap);
    cr_assert(n > 0 && n < TEXT_MAX, "snapshot JSON too long");
    for (char *c = text; *c != '\0'; c++)
        if (*c == '\'')
            *c = '"';
}

static char *dup(const char *s)
{
    char *d = strdup(s);
    cr_assert_not_null(d);
    return d;
}

static const char *pod_ip(const struct snapshot *s, size_t i, char buf[32])
{
    if (s->pods[i].ip != NULL)
        return s->pods[i].ip;
    snprintf(buf, 32, "10.0.0.%zu", 10 + i);
    return buf;
}

static struct views_pod *build_pod(const struct snapshot *s, size_t i)
{
    const struct snapshot_pod *p = &s->pods[i];
    char text[TEXT_MAX], created[32], ready[32], deleted[64] = "";
    char ipbuf[32], ips[128] = "";
    const char *ip = pod_ip(s, i, ipbuf);
    struct views_pod *pod = NULL;
    snapshot_time(p->created_ago, created);
    snapshot_time(p->ready_ago != 0 ? p->ready_ago : p->created_ago, ready);
    if (p->deleted_ago > 0) {
        char t[32];
        snapshot_time(p->deleted_ago, t);
        snprintf(deleted, sizeof(deleted), ",'deletionTimestamp':'%s'", t);
    }
    if (ip[0] != '\0')
        snprintf(ips, sizeof(ips), ",'podIP':'%s','podIPs':[{'ip':'%s'}]", ip,
                 ip);
    json_text(text,
              "{'metadata':{'name':'%s','namespace':'shop','uid':'uid-%s',"
              "'creationTimestamp':'%s','labels':{'app':'%s'}%s},"
              "'spec':{'containers':[{'name':'main','ports':[{'name':'%s',"
              "'containerPort':5432,'protocol':'%s'}]}]},"
              "'status':{'phase':'%s'%s,'conditions':[{'type':'Ready',"
              "'status':'%s','lastTransitionTime':'%s'}]}}",
              p->name, p->name, created, p->app != NULL ? p->app : "db",
              deleted, p->port != NULL ? p->port : "db",
              p->protocol != NULL ? p->protocol : "TCP",
              p->phase != NULL ? p->phase : "Running", ips,
              p->not_ready ? "False" : "True", ready);
    cr_assert_eq(views_pod_parse(text, strlen(text), &pod), ZL_OK, "%s", text);
    return pod;
}

static struct views_service *build_source(const struct snapshot *s)
{
    char text[TEXT_MAX], created[32];
    struct views_service *svc = NULL;
    snapshot_time(86400, created);
    json_text(text,
              "{'metadata':{'name':'db','namespace':'shop','uid':'uid-db',"
              "'creationTimestamp':'%s','annotations':{%s}},'spec':%s}",
              created,
              s->annotations != NULL ? s->annotations
                                     : "'zen-lead.io/enabled':'true'",
              s->spec != NULL ? s->spec : default_spec);
    cr_assert_eq(views_service_parse(text, strlen(text), &svc), ZL_OK, "%s",
                 text);
    return svc;
}

static struct views_service *build_leader(const struct snapshot *s)
{
    char text[TEXT_MAX], switched[96] = "";
    struct views_service *svc = NULL;
    if (s->last_switch_ago > 0) {
        char t[32];
        snapshot_time(s->last_switch_ago, t);
        snprintf(switched, sizeof(switched),
                 "'zen-lead.io/leader-last-switch-time':'%s'", t);
    }
    if (s->leader == SNAPSHOT_LEADER_FOREIGN)
        json_text(text, "{'metadata':{'name':'db-leader','namespace':'shop',"
                        "'uid':'uid-other'},'spec':{'ports':[{'port':80}]}}");
    else
        json_text(text,
                  "{'metadata':{'name':'db-leader','namespace':'shop',"
                  "'uid':'uid-leader','labels':{'app.kubernetes.io/"
                  "managed-by':'zen-lead','zen-lead.io/source-service':'db'},"
                  "'annotations':{%s},'ownerReferences':[{'apiVersion':'v1',"
                  "'kind':'Service','name':'db','uid':'uid-db',"
                  "'controller':true}]},'spec':{'ports':[{'name':'pg',"
                  "'port':5432,'targetPort':5432}]}}",
                  switched);
    cr_assert_eq(views_service_parse(text, strlen(text), &svc), ZL_OK, "%s",
                 text);
    return svc;
}

static void endpoint_json(const struct snapshot *s, char out[1024])
{
    const struct snapshot_slice *sl = &s->slice;
    const char *ip = "10.0.0.99";
    char ipbuf[32];
    out[0] = '\0';
    if (sl->pod == NULL)
        return;
    for (size_t i = 0; i < SNAPSHOT_MAX_PODS && s->pods[i].name != NULL; i++)
        if (strcmp(s->pods[i].name, sl->pod) == 0)
            ip = pod_ip(s, i, ipbuf);
    snprintf(out, 1024,
             "{'addresses':['%s'],'conditions':{'ready':%s,'serving':%s,"
             "'terminating':%s},'targetRef':{'kind':'Pod','namespace':"
             "'shop','name':'%s','uid':'uid-%s'}}",
             ip, sl->not_ready || sl->terminating ? "false" : "true",
             sl->terminating ? "false" : "true",
             sl->terminating ? "true" : "false", sl->pod, sl->pod);
}

static struct views_endpointslice *build_slice(const struct snapshot *s)
{
    char text[TEXT_MAX], ep[1024];
    struct views_endpointslice *eps = NULL;
    endpoint_json(s, ep);
    json_text(text,
              "{'metadata':{'name':'db-leader-ipv4','namespace':'shop',"
              "'uid':'uid-slice','labels':{'kubernetes.io/service-name':"
              "'db-leader','endpointslice.kubernetes.io/managed-by':"
              "'zen-lead','app.kubernetes.io/managed-by':'zen-lead',"
              "'zen-lead.io/source-service':'db'},'ownerReferences':[{"
              "'apiVersion':'v1','kind':'Service','name':'db-leader',"
              "'uid':'uid-leader','controller':true}]},'addressType':'IPv4',"
              "'endpoints':[%s],'ports':[{'name':'pg','port':5432,"
              "'protocol':'TCP'}]}",
              ep);
    cr_assert_eq(views_endpointslice_parse(text, strlen(text), &eps), ZL_OK,
                 "%s", text);
    return eps;
}

static void build_pods(const struct snapshot *s, struct gather_service *g)
{
    g->pods = calloc(SNAPSHOT_MAX_PODS, sizeof(*g->pods));
    cr_assert_not_null(g->pods);
    for (size_t i = 0; i < SNAPSHOT_MAX_PODS && s->pods[i].name != NULL; i++)
        g->pods[g->pod_count++] = build_pod(s, i);
    g->pods_state = GATHER_OK;
}

/* The reads s says failed: empty, with the first one's error. */
static void fail_reads(const struct snapshot *s, struct gather_service *g)
{
    if (s->pods_state != GATHER_OK) {
        for (size_t i = 0; i < g->pod_count; i++)
            views_release(g->pods[i]);
        g->pod_count = 0;
        g->pods_state = s->pods_state;
        snprintf(g->error, sizeof(g->error), "%s",
                 "list pods in shop: forbidden (HTTP 403)");
    }
    if (s->slices_state != GATHER_OK) {
        for (size_t i = 0; i < g->slice_count; i++)
            views_release(g->slices[i]);
        g->slice_count = 0;
        g->slices_state = s->slices_state;
        if (g->error[0] == '\0')
            snprintf(g->error, sizeof(g->error), "%s",
                     "list endpointslices in shop: timeout");
    }
}

void snapshot_build(const struct snapshot *s, struct gather_service *out)
{
    memset(out, 0, sizeof(*out));
    out->namespace_name = dup("shop");
    out->name = dup("db");
    out->source_state = GATHER_OK;
    out->source = build_source(s);
    out->leader_name = dup("db-leader");
    out->leader_state =
        s->leader == SNAPSHOT_LEADER_ABSENT ? GATHER_ABSENT : GATHER_OK;
    if (s->leader != SNAPSHOT_LEADER_ABSENT)
        out->leader = build_leader(s);
    out->slices_state = GATHER_OK;
    out->slices = calloc(1, sizeof(*out->slices));
    cr_assert_not_null(out->slices);
    if (s->leader == SNAPSHOT_LEADER_OURS && !s->slice.absent)
        out->slices[out->slice_count++] = build_slice(s);
    build_pods(s, out);
    out->events_state = GATHER_OK;
    fail_reads(s, out);
}

void snapshot_add_event(struct gather_service *g, const char *type,
                        const char *reason, const char *object, int ago,
                        int count, const char *message)
{
    struct gather_event *items =
        realloc(g->events, (g->event_count + 1) * sizeof(*items));
    cr_assert_not_null(items);
    g->events = items;
    struct gather_event *e = &items[g->event_count++];
    e->type = dup(type);
    e->reason = dup(reason);
    e->message = dup(message);
    e->object_kind = dup("Service");
    e->object_name = dup(object);
    e->component = dup(REPORT_COMPONENT);
    e->count = count > 0 ? count : 1;
    e->last_ms = SNAPSHOT_NOW_MS - (int64_t)ago * 1000;
    e->first_ms = e->last_ms;
}

void snapshot_lease(const struct snapshot_lease *s, struct gather_lease *out)
{
    memset(out, 0, sizeof(*out));
    out->namespace_name = dup("zen-lead-system");
    out->name = dup("zen-lead-controller");
    out->state = s->state;
    out->renew_ms = VIEWS_TIME_NONE;
    if (s->state != GATHER_OK) {
        snprintf(out->error, sizeof(out->error), "%s",
                 s->state == GATHER_FORBIDDEN
                     ? "get lease zen-lead-system/zen-lead-controller: "
                       "forbidden (HTTP 403)"
                     : "");
        return;
    }
    if (!s->released)
        out->holder = dup(s->holder != NULL ? s->holder
                                            : "zen-lead-controller-7d9f-x2k4p");
    out->renew_ms = SNAPSHOT_NOW_MS -
                    (int64_t)(s->renew_ago != 0 ? s->renew_ago : 2) * 1000;
    out->duration_s = s->duration_s != 0 ? s->duration_s : 15;
    out->transitions = 1;
}

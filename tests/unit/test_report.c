/* SPDX-License-Identifier: Apache-2.0 */
/* kubectl-zenlead's report, table-driven over hand-written snapshots: the
 * state, each pod's verdict, the counts, the problems with their fixes and
 * the controller's state, then the Events kept. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "plugin/report.h"
#include "snapshot.h"

#define MAX_PHRASES 4

struct report_case {
    const char *name;
    struct snapshot snap;
    struct snapshot_lease lease;
    enum report_state state;
    enum report_controller controller;
    const char *verdicts; /* "leader,eligible", in the snapshot's order */
    size_t candidates;
    size_t matching;
    const char *routed;   /* the pod the slice routes to; NULL: none */
    const char *chosen;   /* the pod the rules choose; NULL: none */
    const char *problems; /* "E:Code W:Code", in order */
    const char *phrases[MAX_PHRASES]; /* each in some problem's text or fix */
};

/* The usual two pods: db-0 the older. */
#define POD0                                                                   \
    {                                                                          \
        .name = "db-0", .created_ago = 3000, .ready_ago = 2900                 \
    }
#define POD1                                                                   \
    {                                                                          \
        .name = "db-1", .created_ago = 2000, .ready_ago = 1900                 \
    }
#define ENABLED "'zen-lead.io/enabled':'true'"

static const struct report_case cases[] = {
    {
        .name = "healthy, sticky keeps the younger leader",
        .snap = {.last_switch_ago = 1000,
                 .slice = {.pod = "db-1"},
                 .pods = {POD0, POD1}},
        .state = REPORT_HEALTHY,
        .verdicts = "eligible,leader",
        .candidates = 2,
        .matching = 2,
        .routed = "db-1",
        .chosen = "db-1",
        .problems = "",
    },
    {
        .name = "healthy, the oldest leads",
        .snap = {.slice = {.pod = "db-0"}, .pods = {POD0, POD1}},
        .state = REPORT_HEALTHY,
        .verdicts = "leader,eligible",
        .candidates = 2,
        .matching = 2,
        .routed = "db-0",
        .chosen = "db-0",
        .problems = "",
    },
    {
        .name = "sticky off: the older eligible pod is chosen",
        .snap = {.annotations = ENABLED ",'zen-lead.io/sticky':'false'",
                 .slice = {.pod = "db-1"},
                 .pods = {POD0, POD1}},
        .state = REPORT_PENDING,
        .verdicts = "eligible,leader",
        .candidates = 2,
        .matching = 2,
        .routed = "db-1",
        .chosen = "db-0",
        .problems = "E:Pending",
        .phrases = {"the slice routes to db-1 but the rules choose db-0"},
    },
    {
        .name = "no pods",
        .snap = {.slice = {.pod = NULL}},
        .state = REPORT_NO_LEADER,
        .verdicts = "",
        .problems = "E:NoPodsFound",
        .phrases = {"no pod in the namespace matches",
                    "kubectl -n shop get pods -l app=db --show-labels"},
    },
    {
        .name = "pods of another app only",
        .snap = {.pods = {{.name = "web-0", .created_ago = 100, .app = "web"}}},
        .state = REPORT_NO_LEADER,
        .verdicts = "notMatching",
        .problems = "E:NoPodsFound",
        .phrases = {"-l app=db"},
    },
    {
        .name = "no ready pods",
        .snap = {.pods = {{.name = "db-0",
                           .created_ago = 3000,
                           .not_ready = true,
                           .ready_ago = 100},
                          {.name = "db-1",
                           .created_ago = 50,
                           .not_ready = true,
                           .phase = "Pending"}}},
        .state = REPORT_NO_LEADER,
        .verdicts = "notReady,notRunning",
        .matching = 2,
        .problems = "E:NoReadyPods",
        .phrases = {"none of the pods the selector matches can lead",
                    "kubectl -n shop describe pod db-0"},
    },
    {
        .name = "port mismatch",
        .snap =
            {.pods =
                 {{.name = "db-0", .created_ago = 3000, .port = "postgres"},
                  {.name = "db-1", .created_ago = 2000, .port = "postgres"}}},
        .state = REPORT_NO_LEADER,
        .verdicts = "portMissing,portMissing",
        .matching = 2,
        .problems = "E:PortResolutionFailed",
        .phrases = {"named targetPort \"db\" (TCP) is not declared by pod "
                    "db-0, db-1",
                    "name a containerPort \"db\" (TCP) in the pods",
                    "kubectl -n shop get pod db-0 -o jsonpath=",
                    "kubectl -n shop edit service db"},
    },
    {
        .name = "port mismatch on the protocol",
        .snap = {.spec = "{'selector':{'app':'db'},'ports':[{'name':'dns',"
                         "'port':53,'targetPort':'db','protocol':'UDP'}]}",
                 .pods = {POD0}},
        .state = REPORT_NO_LEADER,
        .verdicts = "portMissing",
        .matching = 1,
        .problems = "E:PortResolutionFailed",
        .phrases = {"\"db\" (UDP) is not declared by pod db-0",
                    "name a containerPort \"db\" (UDP)"},
    },
    {
        .name = "terminating leader still in the slice",
        .snap =
            {.slice = {.pod = "db-0", .terminating = true},
             .pods = {{.name = "db-0", .created_ago = 3000, .deleted_ago = 5},
                      POD1}},
        .state = REPORT_PENDING,
        .verdicts = "terminating,eligible",
        .candidates = 1,
        .matching = 2,
        .routed = "db-0",
        .chosen = "db-1",
        .problems = "E:Pending",
        .phrases = {"the slice routes to db-0 but the rules choose db-1",
                    "the controller has not applied the change"},
    },
    {
        .name = "grace: a NotReady leader kept for failover-min-delay",
        .snap = {.annotations = ENABLED ",'zen-lead.io/failover-min-delay':"
                                        "'30s'",
                 .slice = {.pod = "db-0", .not_ready = true},
                 .pods = {{.name = "db-0",
                           .created_ago = 3000,
                           .not_ready = true,
                           .ready_ago = 10},
                          POD1}},
        .state = REPORT_GRACE,
        .verdicts = "notReady,eligible",
        .candidates = 1,
        .matching = 2,
        .routed = "db-0",
        .chosen = "db-0",
        .problems = "W:Grace",
        .phrases = {"kept for failover-min-delay"},
    },
    {
        .name = "grace over: the next pod is chosen",
        .snap = {.annotations = ENABLED ",'zen-lead.io/failover-min-delay':"
                                        "'30s'",
                 .slice = {.pod = "db-0", .not_ready = true},
                 .pods = {{.name = "db-0",
                           .created_ago = 3000,
                           .not_ready = true,
                           .ready_ago = 30},
                          POD1}},
        .state = REPORT_PENDING,
        .verdicts = "notReady,eligible",
        .candidates = 1,
        .matching = 2,
        .routed = "db-0",
        .chosen = "db-1",
        .problems = "E:Pending",
    },
    {
        .name = "min-ready: the only pod is waiting",
        .snap =
            {.annotations = ENABLED ",'zen-lead.io/min-ready-duration':"
                                    "'1m'",
             .pods = {{.name = "db-0", .created_ago = 3000, .ready_ago = 20}}},
        .state = REPORT_NO_LEADER,
        .verdicts = "waiting",
        .candidates = 1,
        .matching = 1,
        .problems = "E:NoReadyPods",
        .phrases = {"no pod has been Ready for min-ready-duration yet",
                    "db-0 qualifies in 40s"},
    },
    {
        .name = "leader Service absent",
        .snap = {.leader = SNAPSHOT_LEADER_ABSENT, .pods = {POD0}},
        .state = REPORT_PENDING,
        .verdicts = "",
        .problems = "E:Pending",
        .phrases = {"the leader Service db-leader does not exist yet"},
    },
    {
        .name = "leader slice absent",
        .snap = {.slice = {.absent = true}, .pods = {POD0, POD1}},
        .state = REPORT_PENDING,
        .verdicts = "eligible,eligible",
        .candidates = 2,
        .matching = 2,
        .chosen = "db-0",
        .problems = "E:Pending",
        .phrases = {"EndpointSlice does not exist yet"},
    },
    {
        .name = "pods unreadable: the rules cannot be applied",
        .snap = {.slice = {.pod = "db-0"},
                 .pods = {POD0, POD1},
                 .pods_state = GATHER_FORBIDDEN},
        .state = REPORT_UNKNOWN,
        .verdicts = "",
        .problems = "",
    },
    {
        .name = "slices unreadable: who is routed is not known",
        .snap = {.slice = {.pod = "db-0"},
                 .pods = {POD0, POD1},
                 .slices_state = GATHER_FAILED},
        .state = REPORT_UNKNOWN,
        .verdicts = "",
        .problems = "",
    },
    {
        .name = "IPv6 first: pods with only an IPv4 address cannot lead",
        .snap = {.spec = "{'selector':{'app':'db'},'ipFamilies':['IPv6'],"
                         "'ports':[{'name':'pg','port':5432,'targetPort':"
                         "'db'}]}",
                 .pods = {POD0, POD1}},
        .state = REPORT_PENDING,
        .verdicts = "noIP,noIP",
        .matching = 2,
        .problems = "E:NoReadyPods E:Pending",
        .phrases = {"EndpointSlice does not exist yet"},
    },
    {
        .name = "IPv6 first: the IPv4 slice is not the one that routes",
        .snap = {.spec = "{'selector':{'app':'db'},'ipFamilies':['IPv6'],"
                         "'ports':[{'name':'pg','port':5432,'targetPort':"
                         "'db'}]}",
                 .slice = {.pod = "db-0"},
                 .pods =
                     {{.name = "db-0", .created_ago = 3000, .ip = "fd00::10"}}},
        .state = REPORT_PENDING,
        .verdicts = "eligible",
        .candidates = 1,
        .matching = 1,
        .chosen = "db-0",
        .problems = "E:Pending",
        .phrases = {"EndpointSlice does not exist yet"},
    },
    {
        .name = "leader Service not ours",
        .snap = {.leader = SNAPSHOT_LEADER_FOREIGN, .pods = {POD0}},
        .state = REPORT_CONFLICT,
        .verdicts = "",
        .problems = "E:LeaderNameConflict",
        .phrases = {"Service db-leader exists and is not managed by zen-lead "
                    "for db",
                    "zen-lead.io/leader-service-name"},
    },
    {
        .name = "not enabled",
        .snap = {.annotations = "", .pods = {POD0}},
        .state = REPORT_NOT_ENABLED,
        .verdicts = "",
        .problems = "E:NotEnabled",
        .phrases = {"kubectl -n shop annotate service db "
                    "zen-lead.io/enabled=true"},
    },
    {
        .name = "enabled: false",
        .snap = {.annotations = "'zen-lead.io/enabled':'false'",
                 .pods = {POD0}},
        .state = REPORT_NOT_ENABLED,
        .verdicts = "",
        .problems = "",
    },
    {
        .name = "enabled: yes",
        .snap = {.annotations = "'zen-lead.io/enabled':'yes'", .pods = {POD0}},
        .state = REPORT_INVALID,
        .verdicts = "",
        .problems = "E:InvalidAnnotation",
        .phrases = {"\"yes\", which is neither true nor false",
                    "Set it to \"true\" to opt in"},
    },
    {
        .name = "no selector",
        .snap = {.spec = "{'ports':[{'name':'pg','port':5432}]}",
                 .pods = {POD0}},
        .state = REPORT_INVALID,
        .verdicts = "",
        .problems = "E:InvalidService",
        .phrases = {"selector"},
    },
    {
        .name = "a bad duration keeps the default and warns as an error",
        .snap = {.annotations = ENABLED ",'zen-lead.io/min-ready-duration':"
                                        "'soon'",
                 .slice = {.pod = "db-0"},
                 .pods = {POD0, POD1}},
        .state = REPORT_HEALTHY,
        .verdicts = "leader,eligible",
        .candidates = 2,
        .matching = 2,
        .routed = "db-0",
        .chosen = "db-0",
        .problems = "E:InvalidAnnotation",
        .phrases = {"not a Go duration"},
    },
    {
        .name = "a pod inside min-ready is no standby yet: NoStandby",
        .snap = {.annotations = ENABLED ",'zen-lead.io/min-ready-duration':"
                                        "'1m'",
                 .slice = {.pod = "db-0"},
                 .pods = {POD0, {.name = "db-1", .created_ago = 20}}},
        .state = REPORT_HEALTHY,
        .verdicts = "leader,waiting",
        .candidates = 2,
        .matching = 2,
        .routed = "db-0",
        .chosen = "db-0",
        .problems = "W:NoStandby",
        .phrases = {"until another pod is eligible"},
    },
    {
        .name = "only one candidate: NoStandby",
        .snap = {.slice = {.pod = "db-0"}, .pods = {POD0}},
        .state = REPORT_HEALTHY,
        .verdicts = "leader",
        .candidates = 1,
        .matching = 1,
        .routed = "db-0",
        .chosen = "db-0",
        .problems = "W:NoStandby",
        .phrases = {"only the leader can lead now: if it fails, "
                    "db-leader has no endpoint"},
    },
    {
        .name = "lease stale",
        .snap = {.slice = {.pod = "db-0"}, .pods = {POD0, POD1}},
        .lease = {.renew_ago = 60, .duration_s = 15},
        .state = REPORT_HEALTHY,
        .controller = REPORT_CONTROLLER_STALE,
        .verdicts = "leader,eligible",
        .candidates = 2,
        .matching = 2,
        .routed = "db-0",
        .chosen = "db-0",
        .problems = "W:ControllerNotRunning",
        .phrases = {"Lease zen-lead-system/zen-lead-controller (not renewed "
                    "in time)",
                    "kubectl -n zen-lead-system logs "
                    "deploy/zen-lead-controller"},
    },
    {
        .name = "lease released",
        .snap = {.slice = {.pod = "db-0"}, .pods = {POD0, POD1}},
        .lease = {.released = true},
        .state = REPORT_HEALTHY,
        .controller = REPORT_CONTROLLER_RELEASED,
        .verdicts = "leader,eligible",
        .candidates = 2,
        .matching = 2,
        .routed = "db-0",
        .chosen = "db-0",
        .problems = "W:ControllerNotRunning",
        .phrases = {"(released)"},
    },
    {
        .name = "lease stale while a change is pending: an error",
        .snap = {.annotations = ENABLED ",'zen-lead.io/sticky':'false'",
                 .slice = {.pod = "db-1"},
                 .pods = {POD0, POD1}},
        .lease = {.renew_ago = 16, .duration_s = 15},
        .state = REPORT_PENDING,
        .controller = REPORT_CONTROLLER_STALE,
        .verdicts = "eligible,leader",
        .candidates = 2,
        .matching = 2,
        .routed = "db-1",
        .chosen = "db-0",
        .problems = "E:Pending E:ControllerNotRunning",
        .phrases = {"nothing moves the leader until one runs"},
    },
    {
        .name = "lease renewed exactly at its duration: still running",
        .snap = {.slice = {.pod = "db-0"}, .pods = {POD0, POD1}},
        .lease = {.renew_ago = 15, .duration_s = 15},
        .state = REPORT_HEALTHY,
        .controller = REPORT_CONTROLLER_RUNNING,
        .verdicts = "leader,eligible",
        .candidates = 2,
        .matching = 2,
        .routed = "db-0",
        .chosen = "db-0",
        .problems = "",
    },
    {
        .name = "lease forbidden",
        .snap = {.slice = {.pod = "db-0"}, .pods = {POD0, POD1}},
        .lease = {.state = GATHER_FORBIDDEN},
        .state = REPORT_HEALTHY,
        .controller = REPORT_CONTROLLER_UNKNOWN,
        .verdicts = "leader,eligible",
        .candidates = 2,
        .matching = 2,
        .routed = "db-0",
        .chosen = "db-0",
        .problems = "",
    },
    {
        .name = "lease absent",
        .snap = {.slice = {.pod = "db-0"}, .pods = {POD0, POD1}},
        .lease = {.state = GATHER_ABSENT},
        .state = REPORT_HEALTHY,
        .controller = REPORT_CONTROLLER_UNKNOWN,
        .verdicts = "leader,eligible",
        .candidates = 2,
        .matching = 2,
        .routed = "db-0",
        .chosen = "db-0",
        .problems = "",
    },
};

static void verdicts_text(const struct report *r, char *out, size_t size)
{
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; i < r->pod_count; i++)
        n += (size_t)snprintf(out + n, size - n, "%s%s", i > 0 ? "," : "",
                              report_verdict_name(r->pods[i].verdict));
}

static void problems_text(const struct report *r, char *out, size_t size)
{
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; i < r->problem_count; i++)
        n += (size_t)snprintf(out + n, size - n, "%s%s:%s", i > 0 ? " " : "",
                              r->problems[i].error ? "E" : "W",
                              r->problems[i].code);
}

static bool in_problems(const struct report *r, const char *phrase)
{
    for (size_t i = 0; i < r->problem_count; i++)
        if (strstr(r->problems[i].what, phrase) != NULL ||
            strstr(r->problems[i].fix, phrase) != NULL)
            return true;
    return false;
}

static const char *name_or_null(const struct views_pod *pod)
{
    return pod != NULL ? pod->meta.name : NULL;
}

static void expect_name(const char *label, const char *c, const char *want,
                        const char *got)
{
    if (want == NULL)
        cr_expect_null(got, "%s: %s is %s, want none", c, label, got);
    else
        cr_expect(got != NULL && strcmp(got, want) == 0,
                  "%s: %s is %s, want %s", c, label, got ? got : "none", want);
}

static void check_case(const struct report_case *c, const struct report *r)
{
    char text[1024];
    cr_expect_str_eq(report_state_name(r->state), report_state_name(c->state),
                     "%s: state", c->name);
    cr_expect_str_eq(report_controller_name(r->controller),
                     report_controller_name(c->controller), "%s: controller",
                     c->name);
    verdicts_text(r, text, sizeof(text));
    cr_expect_str_eq(text, c->verdicts, "%s: verdicts", c->name);
    cr_expect_eq(r->candidates, c->candidates, "%s: candidates %zu", c->name,
                 r->candidates);
    cr_expect_eq(r->matching, c->matching, "%s: matching %zu", c->name,
                 r->matching);
    const struct report_pod *routed = report_routed(r);
    expect_name("routed", c->name, c->routed,
                routed != NULL ? routed->pod->meta.name : NULL);
    expect_name("chosen", c->name, c->chosen,
                r->has_decision ? name_or_null(r->decision.leader) : NULL);
    problems_text(r, text, sizeof(text));
    cr_expect_str_eq(text, c->problems, "%s: problems", c->name);
    for (size_t i = 0; i < MAX_PHRASES && c->phrases[i] != NULL; i++)
        cr_expect(in_problems(r, c->phrases[i]), "%s: no problem says \"%s\"",
                  c->name, c->phrases[i]);
}

TestSuite(report);

Test(report, decides_state_verdicts_and_problems_per_snapshot)
{
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        struct gather_service g;
        struct gather_lease lease;
        struct report r;
        snapshot_build(&cases[k].snap, &g);
        snapshot_lease(&cases[k].lease, &lease);
        cr_assert_eq(report_build(&g, &lease, SNAPSHOT_NOW_MS, &r), ZL_OK, "%s",
                     cases[k].name);
        check_case(&cases[k], &r);
        report_cleanup(&r);
        gather_lease_cleanup(&lease);
        gather_service_cleanup(&g);
    }
}

/* Builds the report of a snapshot with the default (running) Lease. */
static void build(const struct snapshot *s, struct gather_service *g,
                  struct gather_lease *lease, struct report *r)
{
    static const struct snapshot_lease running = {0};
    snapshot_build(s, g);
    snapshot_lease(&running, lease);
    cr_assert_eq(report_build(g, lease, SNAPSHOT_NOW_MS, r), ZL_OK);
}

static void cleanup(struct gather_service *g, struct gather_lease *lease,
                    struct report *r)
{
    report_cleanup(r);
    gather_lease_cleanup(lease);
    gather_service_cleanup(g);
}

Test(report, names_the_missing_port_of_each_pod)
{
    const struct snapshot s = {
        .spec = "{'selector':{'app':'db'},'ports':[{'name':'pg','port':5432,"
                "'targetPort':'db'},{'name':'metrics','port':9187,"
                "'targetPort':'metrics'}]}",
        .pods = {POD0, {.name = "db-1", .created_ago = 2000, .port = "other"}}};
    struct gather_service g;
    struct gather_lease lease;
    struct report r;
    build(&s, &g, &lease, &r);
    cr_assert_eq(r.pod_count, 2);
    /* db-0 declares "db" but not "metrics"; db-1 neither: the first the
     * Service lists that it lacks. */
    cr_expect_eq(r.pods[0].verdict, REPORT_POD_PORT_MISSING);
    cr_assert_not_null(r.pods[0].missing_port);
    cr_expect_str_eq(r.pods[0].missing_port->target_port_name, "metrics");
    cr_expect_eq(r.pods[1].verdict, REPORT_POD_PORT_MISSING);
    cr_assert_not_null(r.pods[1].missing_port);
    cr_expect_str_eq(r.pods[1].missing_port->target_port_name, "db");
    cr_expect_eq(r.pods[1].missing_port->protocol, VIEWS_PROTO_TCP);
    cleanup(&g, &lease, &r);
}

Test(report, waiting_pod_has_its_eligible_instant)
{
    const struct snapshot s = {
        .annotations = ENABLED ",'zen-lead.io/min-ready-duration':'1m'",
        .pods = {{.name = "db-0", .created_ago = 3000, .ready_ago = 20},
                 {.name = "db-1", .created_ago = 2000, .ready_ago = 2000}}};
    struct gather_service g;
    struct gather_lease lease;
    struct report r;
    build(&s, &g, &lease, &r);
    cr_expect_eq(r.pods[0].verdict, REPORT_POD_WAITING);
    cr_expect_eq(r.pods[0].eligible_at_ms, SNAPSHOT_NOW_MS + 40000);
    /* db-1 qualified long ago: it leads although db-0 is older. */
    cr_expect_eq(r.pods[1].verdict, REPORT_POD_ELIGIBLE);
    cr_expect(r.pods[1].expected);
    cr_expect(!r.pods[0].expected);
    cr_expect_eq(r.candidates, 2);
    cleanup(&g, &lease, &r);
}

Test(report, no_ready_pods_names_the_first_pod_to_qualify)
{
    const struct snapshot s = {
        .annotations = ENABLED ",'zen-lead.io/min-ready-duration':'1m'",
        .pods = {{.name = "db-0", .created_ago = 3000, .ready_ago = 10},
                 {.name = "db-1", .created_ago = 2000, .ready_ago = 50}}};
    struct gather_service g;
    struct gather_lease lease;
    struct report r;
    build(&s, &g, &lease, &r);
    cr_expect_eq(r.state, REPORT_NO_LEADER);
    cr_assert_eq(r.problem_count, 1);
    cr_expect_str_eq(r.problems[0].code, "NoReadyPods");
    cr_expect(strstr(r.problems[0].what, "db-1 qualifies in 10s") != NULL, "%s",
              r.problems[0].what);
    cleanup(&g, &lease, &r);
}

Test(report, keeps_switches_and_the_warnings_after_the_last_one)
{
    const struct snapshot s = {.slice = {.pod = "db-0"}, .pods = {POD0, POD1}};
    size_t switches[16], n_switches = 0, warnings[16], n_warnings = 0;
    struct gather_service g;
    struct gather_lease lease;
    struct report r;
    char msg[64];
    snapshot_build(&s, &g);
    /* Oldest first: a Warning answered by the first election, eleven
     * switches with a Warning among them, a Warning on the leader Service
     * and a LeaderChanged on it (neither is the source's), ten Warnings,
     * a LeaderLost (it answers nothing) and one more Warning. */
    snapshot_add_event(&g, "Warning", "NoReadyPods", "db", 5000, 3, "none");
    switches[n_switches++] = g.event_count;
    snapshot_add_event(&g, "Normal", "LeaderElected", "db", 4000, 1, "db-0");
    for (int i = 0; i < 10; i++) {
        snprintf(msg, sizeof(msg), "switch %d", i);
        switches[n_switches++] = g.event_count;
        snapshot_add_event(&g, "Normal", "LeaderChanged", "db", 3900 - i * 50,
                           1, msg);
        if (i == 5)
            snapshot_add_event(&g, "Warning", "PortResolutionFailed", "db",
                               3620, 1, "answered");
    }
    snapshot_add_event(&g, "Warning", "Other", "db-leader", 3000, 1, "x");
    snapshot_add_event(&g, "Normal", "LeaderChanged", "db-leader", 2950, 1,
                       "not the source's");
    for (int i = 0; i < 10; i++) {
        snprintf(msg, sizeof(msg), "warning %d", i);
        warnings[n_warnings++] = g.event_count;
        snapshot_add_event(&g, "Warning", "NoReadyPods", "db", 2900 - i * 50, 1,
                           msg);
    }
    switches[n_switches++] = g.event_count;
    snapshot_add_event(&g, "Normal", "LeaderLost", "db", 1000, 1, "lost");
    warnings[n_warnings++] = g.event_count;
    snapshot_add_event(&g, "Warning", "NoPodsFound", "db", 900, 1, "last");
    /* The API server's Warning on the source, after everything: not the
     * controller's, so neither listed nor counted. */
    snapshot_add_event(&g, "Warning", "ClusterIPNotAllocated", "db", 800, 1,
                       "repairing");
    free(g.events[g.event_count - 1].component);
    g.events[g.event_count - 1].component = strdup("ipallocator-repair");
    snapshot_lease(&(struct snapshot_lease){0}, &lease);
    cr_assert_eq(report_build(&g, &lease, SNAPSHOT_NOW_MS, &r), ZL_OK);

    cr_assert_eq(r.switch_count, REPORT_MAX_EVENTS);
    for (size_t i = 0; i < REPORT_MAX_EVENTS; i++)
        cr_expect_eq(r.switches[i],
                     switches[n_switches - REPORT_MAX_EVENTS + i],
                     "switch %zu is event %zu", i, r.switches[i]);
    cr_assert_eq(r.warning_count, REPORT_MAX_EVENTS);
    for (size_t i = 0; i < REPORT_MAX_EVENTS; i++)
        cr_expect_eq(r.warnings[i],
                     warnings[n_warnings - REPORT_MAX_EVENTS + i],
                     "warning %zu is event %zu", i, r.warnings[i]);
    cr_expect_str_eq(g.events[r.warnings[REPORT_MAX_EVENTS - 1]].message,
                     "last");
    cleanup(&g, &lease, &r);
}

Test(report, without_a_switch_every_warning_counts)
{
    const struct snapshot s = {.slice = {.pod = "db-0"}, .pods = {POD0, POD1}};
    struct gather_service g;
    struct gather_lease lease;
    struct report r;
    snapshot_build(&s, &g);
    snapshot_add_event(&g, "Warning", "InvalidAnnotation", "db", 600, 2, "a");
    snapshot_add_event(&g, "Normal", "Created", "db", 500, 1, "b");
    snapshot_add_event(&g, "Warning", "NoReadyPods", "db", 400, 1, "c");
    snapshot_lease(&(struct snapshot_lease){0}, &lease);
    cr_assert_eq(report_build(&g, &lease, SNAPSHOT_NOW_MS, &r), ZL_OK);
    cr_expect_eq(r.switch_count, 0);
    cr_assert_eq(r.warning_count, 2);
    cr_expect_eq(r.warnings[0], 0);
    cr_expect_eq(r.warnings[1], 2);
    cleanup(&g, &lease, &r);
}

Test(report, source_absent_or_unreadable)
{
    struct {
        enum gather_state source_state;
        enum report_state want;
    } const table[] = {
        {GATHER_ABSENT, REPORT_NOT_FOUND},
        {GATHER_FORBIDDEN, REPORT_UNKNOWN},
        {GATHER_FAILED, REPORT_UNKNOWN},
    };
    char ns[] = "shop", name[] = "db";
    for (size_t k = 0; k < sizeof(table) / sizeof(table[0]); k++) {
        struct gather_service g = {.namespace_name = ns,
                                   .name = name,
                                   .source_state = table[k].source_state};
        struct report r;
        cr_assert_eq(report_build(&g, NULL, SNAPSHOT_NOW_MS, &r), ZL_OK);
        cr_expect_eq(r.state, table[k].want, "case %zu: %s", k,
                     report_state_name(r.state));
        cr_expect_eq(r.controller, REPORT_CONTROLLER_UNKNOWN);
        cr_expect_eq(r.problem_count, 0);
        cr_expect_eq(r.pod_count, 0);
        report_cleanup(&r);
    }
}

Test(report, without_a_lease_the_controller_is_unknown)
{
    const struct snapshot s = {.slice = {.pod = "db-0"}, .pods = {POD0}};
    struct gather_service g;
    struct report r;
    snapshot_build(&s, &g);
    cr_assert_eq(report_build(&g, NULL, SNAPSHOT_NOW_MS, &r), ZL_OK);
    cr_expect_eq(r.state, REPORT_HEALTHY);
    cr_expect_eq(r.controller, REPORT_CONTROLLER_UNKNOWN);
    cr_expect_eq(r.last_switch_ms, VIEWS_TIME_NONE);
    report_cleanup(&r);
    gather_service_cleanup(&g);
}

Test(report, reads_the_last_switch_time)
{
    const struct snapshot s = {
        .last_switch_ago = 125, .slice = {.pod = "db-0"}, .pods = {POD0}};
    struct gather_service g;
    struct gather_lease lease;
    struct report r;
    build(&s, &g, &lease, &r);
    cr_expect_eq(r.last_switch_ms, SNAPSHOT_NOW_MS - 125000);
    cr_assert_not_null(r.endpoint);
    cr_expect_str_eq(r.routed_name, "db-0");
    cr_expect_str_eq(r.slice->meta.name, "db-leader-ipv4");
    cleanup(&g, &lease, &r);
}

Test(report, refuses_null_arguments)
{
    struct report r;
    struct gather_service g = {0};
    cr_expect_eq(report_build(NULL, NULL, 0, &r), ZL_ERR_INVALID);
    report_cleanup(&r);
    cr_expect_eq(report_build(&g, NULL, 0, NULL), ZL_ERR_INVALID);
    report_cleanup(NULL);
}

Test(report, names_every_value)
{
    cr_expect_str_eq(report_state_name(REPORT_HEALTHY), "Healthy");
    cr_expect_str_eq(report_state_name(REPORT_NOT_ENABLED), "NotEnabled");
    cr_expect_str_eq(report_state_name(REPORT_UNKNOWN), "Unknown");
    cr_expect_str_eq(report_state_name((enum report_state)99), "Unknown");
    cr_expect_str_eq(report_verdict_name(REPORT_POD_LEADER), "leader");
    cr_expect_str_eq(report_verdict_name(REPORT_POD_PORT_MISSING),
                     "portMissing");
    cr_expect_str_eq(report_verdict_name(REPORT_POD_NOT_READY), "notReady");
    cr_expect_str_eq(report_verdict_name((enum report_verdict)99), "");
    cr_expect_str_eq(report_controller_name(REPORT_CONTROLLER_STALE), "stale");
    cr_expect_str_eq(report_controller_name((enum report_controller)99),
                     "unknown");
}

Test(report, tells_whose_leader_service_it_is_whatever_the_state)
{
    static const struct {
        struct snapshot snap;
        enum report_state state;
        bool ours;
    } table[] = {
        {{.slice = {.pod = "db-0"}, .pods = {POD0}}, REPORT_HEALTHY, true},
        {{.leader = SNAPSHOT_LEADER_FOREIGN}, REPORT_CONFLICT, false},
        {{.leader = SNAPSHOT_LEADER_ABSENT}, REPORT_PENDING, false},
        /* left behind after an opt-out, or a Service now refused */
        {{.annotations = "'zen-lead.io/enabled':'false'"},
         REPORT_NOT_ENABLED,
         true},
        {{.annotations = "'zen-lead.io/enabled':'yes'"}, REPORT_INVALID, true},
        {{.annotations = "'zen-lead.io/enabled':'false'",
          .leader = SNAPSHOT_LEADER_FOREIGN},
         REPORT_NOT_ENABLED,
         false},
    };
    for (size_t k = 0; k < sizeof(table) / sizeof(table[0]); k++) {
        struct gather_service g;
        struct gather_lease lease;
        struct report r;
        build(&table[k].snap, &g, &lease, &r);
        cr_expect_eq(r.state, table[k].state, "case %zu: %s", k,
                     report_state_name(r.state));
        cr_expect_eq(r.leader_ours, table[k].ours, "case %zu", k);
        cleanup(&g, &lease, &r);
    }
}

/* SPDX-License-Identifier: Apache-2.0 */
/* kubectl zenlead why, table-driven: the explanation of each state against
 * exact text, with who takes over next and the fix of each problem. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "plugin/report.h"
#include "plugin/why.h"
#include "snapshot.h"

#define POD0                                                                   \
    {                                                                          \
        .name = "db-0", .created_ago = 3000, .ready_ago = 2900                 \
    }
#define POD1                                                                   \
    {                                                                          \
        .name = "db-1", .created_ago = 2000, .ready_ago = 1900                 \
    }
#define ENABLED "'zen-lead.io/enabled':'true'"
#define STICKY_LEADS                                                           \
    "db-leader routes to pod db-0 (10.0.0.10). It is Running and Ready, has "  \
    "an IP of the Service's first family and every named targetPort, and "     \
    "zen-lead.io/sticky is true, so it keeps leading for as long as that "     \
    "holds.\n"

struct why_case {
    const char *name;
    struct snapshot snap;
    struct snapshot_lease lease;
    const char *want;
};

static const struct why_case cases[] = {
    {
        "healthy, sticky on, one pod behind it",
        {.slice = {.pod = "db-0"}, .pods = {POD0, POD1}},
        {0},
        STICKY_LEADS "If it fails now, db-1 takes over (the oldest eligible "
                     "pod, by creation time then name).\n",
    },
    {
        "healthy, sticky off",
        {.annotations = ENABLED ",'zen-lead.io/sticky':'false'",
         .slice = {.pod = "db-0"},
         .pods = {POD0, POD1}},
        {0},
        "db-leader routes to pod db-0 (10.0.0.10). zen-lead.io/sticky is "
        "false, so the oldest eligible pod leads, and this is it.\n"
        "If it fails now, db-1 takes over (the oldest eligible pod, by "
        "creation time then name).\n",
    },
    {
        "healthy, nobody behind it",
        {.slice = {.pod = "db-0"}, .pods = {POD0}},
        {0},
        STICKY_LEADS
        "If it fails now, no other pod can take over: db-leader would have "
        "no endpoint.\n"
        "\n"
        "Note: only the leader can lead now: if it fails, db-leader has no "
        "endpoint until another pod is eligible.\n",
    },
    {
        "healthy: the next in line skips pods that cannot lead",
        {.slice = {.pod = "db-0"},
         .pods = {{.name = "db-0", .created_ago = 100},
                  {.name = "db-1", .created_ago = 2000},
                  {.name = "db-2", .created_ago = 3000, .not_ready = true},
                  {.name = "db-3", .created_ago = 4000, .deleted_ago = 2}}},
        {0},
        STICKY_LEADS "If it fails now, db-1 takes over (the oldest eligible "
                     "pod, by creation time then name).\n"
                     "\n"
                     "Pods that cannot lead now:\n"
                     "  - db-2 is Running but not Ready (its readiness probe "
                     "fails).\n"
                     "    check: kubectl -n shop describe pod db-2\n"
                     "  - db-3 is terminating (it has a deletionTimestamp) "
                     "and can never lead again.\n",
    },
    {
        "healthy: the next in line by name among pods of one age",
        {.slice = {.pod = "db-0"},
         .pods = {POD0,
                  {.name = "db-b", .created_ago = 500},
                  {.name = "db-a", .created_ago = 500}}},
        {0},
        STICKY_LEADS "If it fails now, db-a takes over (the oldest eligible "
                     "pod, by creation time then name).\n",
    },
    {
        "healthy: a pod inside min-ready cannot take over yet",
        {.annotations = ENABLED ",'zen-lead.io/min-ready-duration':'1m'",
         .slice = {.pod = "db-0"},
         .pods = {POD0, {.name = "db-1", .created_ago = 20}}},
        {0},
        STICKY_LEADS "If it fails now, no other pod can take over: db-leader "
                     "would have no endpoint.\n"
                     "\n"
                     "Pods that cannot lead now:\n"
                     "  - db-1 is Ready but may only become leader in 40s "
                     "(zen-lead.io/min-ready-duration is 1m0s).\n"
                     "\n"
                     "Note: only the leader can lead now: if it fails, "
                     "db-leader has no endpoint until another pod is "
                     "eligible.\n",
    },
    {
        "grace",
        {.annotations = ENABLED ",'zen-lead.io/failover-min-delay':'30s'",
         .slice = {.pod = "db-0", .not_ready = true},
         .pods = {{.name = "db-0",
                   .created_ago = 3000,
                   .not_ready = true,
                   .ready_ago = 10},
                  POD1}},
        {0},
        "db-0 leads but is NotReady: zen-lead.io/failover-min-delay (30s) "
        "keeps it for 20s more in case it recovers. Its endpoint is marked "
        "not ready meanwhile, so no traffic goes to it.\n"
        "\n"
        "Pods that cannot lead now:\n"
        "  - db-0 is Running but not Ready (its readiness probe fails).\n"
        "    check: kubectl -n shop describe pod db-0\n"
        "\n"
        "Note: the leader is NotReady and kept for failover-min-delay; its "
        "endpoint is not ready.\n",
    },
    {
        "no leader: min-ready",
        {.annotations = ENABLED ",'zen-lead.io/min-ready-duration':'1m'",
         .pods = {{.name = "db-0", .created_ago = 3000, .ready_ago = 20}}},
        {0},
        "db-leader has no endpoint: no pod can lead.\n"
        "Problem: no pod has been Ready for min-ready-duration yet; db-0 "
        "qualifies in 40s.\n"
        "\n"
        "Pods that cannot lead now:\n"
        "  - db-0 is Ready but may only become leader in 40s "
        "(zen-lead.io/min-ready-duration is 1m0s).\n",
    },
    {
        "no leader: no pods",
        {.slice = {.pod = NULL}},
        {0},
        "db-leader has no endpoint: no pod can lead.\n"
        "Problem: no pod in the namespace matches the Service's selector.\n"
        "    fix: kubectl -n shop get pods -l app=db --show-labels  # then "
        "fix spec.selector or the pods' labels\n",
    },
    {
        "no leader: a port no pod declares",
        {.pods = {{.name = "db-0", .created_ago = 3000, .port = "postgres"},
                  {.name = "db-1", .created_ago = 2000, .port = "postgres"}}},
        {0},
        "db-leader has no endpoint: no pod can lead.\n"
        "Problem: named targetPort \"db\" (TCP) is not declared by pod db-0, "
        "db-1.\n"
        "    fix: name a containerPort \"db\" (TCP) in the pods, or set the "
        "Service's targetPort to a port they declare: kubectl -n shop get pod "
        "db-0 -o jsonpath='{.spec.containers[*].ports}'; kubectl -n shop edit "
        "service db\n"
        "\n"
        "Pods that cannot lead now:\n"
        "  - db-0 declares no container port named \"db\" with protocol TCP; "
        "it declares postgres/TCP.\n"
        "    check: kubectl -n shop get pod db-0 -o "
        "jsonpath='{.spec.containers[*].ports}'\n"
        "  - db-1 declares no container port named \"db\" with protocol TCP; "
        "it declares postgres/TCP.\n"
        "    check: kubectl -n shop get pod db-1 -o "
        "jsonpath='{.spec.containers[*].ports}'\n",
    },
    {
        "no leader: pods that cannot lead for other reasons",
        {.pods = {{.name = "db-0", .created_ago = 3000, .port = "postgres"},
                  {.name = "db-1", .created_ago = 2000, .ip = ""},
                  {.name = "db-2",
                   .created_ago = 10,
                   .phase = "Pending",
                   .not_ready = true}}},
        {0},
        "db-leader has no endpoint: no pod can lead.\n"
        "Problem: none of the pods the selector matches can lead: see each "
        "pod's verdict.\n"
        "    fix: kubectl -n shop describe pod db-0\n"
        "\n"
        "Pods that cannot lead now:\n"
        "  - db-0 declares no container port named \"db\" with protocol TCP; "
        "it declares postgres/TCP.\n"
        "    check: kubectl -n shop get pod db-0 -o "
        "jsonpath='{.spec.containers[*].ports}'\n"
        "  - db-1 has no IP of the Service's first IP family.\n"
        "    check: kubectl -n shop get pod db-1 -o wide\n"
        "  - db-2 is not Running.\n"
        "    check: kubectl -n shop describe pod db-2\n",
    },
    {
        "pending: sticky off, the older pod is chosen",
        {.annotations = ENABLED ",'zen-lead.io/sticky':'false'",
         .slice = {.pod = "db-1"},
         .pods = {POD0, POD1}},
        {0},
        "db-leader does not route to the pod the rules choose yet.\n"
        "Problem: the slice routes to db-1 but the rules choose db-0: the "
        "controller has not applied the change.\n",
    },
    {
        "pending with the controller stopped",
        {.annotations = ENABLED ",'zen-lead.io/sticky':'false'",
         .slice = {.pod = "db-1"},
         .pods = {POD0, POD1}},
        {.released = true},
        "db-leader does not route to the pod the rules choose yet.\n"
        "Problem: the slice routes to db-1 but the rules choose db-0: the "
        "controller has not applied the change.\n"
        "Problem: no controller replica holds the Lease "
        "zen-lead-system/zen-lead-controller (released): nothing moves the "
        "leader until one runs.\n"
        "    fix: kubectl -n zen-lead-system get pods; kubectl -n "
        "zen-lead-system logs deploy/zen-lead-controller\n",
    },
    {
        "pending: the leader was relabeled",
        {.slice = {.pod = "db-0"},
         .pods = {{.name = "db-0", .created_ago = 3000, .app = "web"}, POD1}},
        {0},
        "db-leader does not route to the pod the rules choose yet.\n"
        "Problem: the slice routes to db-0 but the rules choose db-1: the "
        "controller has not applied the change.\n"
        "\n"
        "Pods that cannot lead now:\n"
        "  - db-0 no longer matches the Service's selector.\n"
        "    check: kubectl -n shop get pod db-0 --show-labels\n",
    },
    {
        "pending: no leader Service yet",
        {.leader = SNAPSHOT_LEADER_ABSENT, .pods = {POD0}},
        {0},
        "db-leader does not route to the pod the rules choose yet.\n"
        "Problem: the leader Service db-leader does not exist yet: the "
        "controller has not created it.\n",
    },
    {
        "conflict",
        {.leader = SNAPSHOT_LEADER_FOREIGN, .pods = {POD0}},
        {0},
        "Problem: Service db-leader exists and is not managed by zen-lead for "
        "db; zen-lead leaves it alone.\n"
        "    fix: rename that Service, or set zen-lead.io/leader-service-name "
        "on the source to a free name\n",
    },
    {
        "invalid: enabled is yes",
        {.annotations = "'zen-lead.io/enabled':'yes'", .pods = {POD0}},
        {0},
        "zen-lead refuses shop/db as it is, so it keeps no leader Service for "
        "it.\n"
        "Problem: zen-lead.io/enabled is \"yes\", which is neither true nor "
        "false, so the Service is not opted in.\n"
        "    fix: Set it to \"true\" to opt in or \"false\" to opt out.\n",
    },
    {
        "invalid: no selector",
        {.spec = "{'ports':[{'name':'pg','port':5432}]}", .pods = {POD0}},
        {0},
        "zen-lead refuses shop/db as it is, so it keeps no leader Service for "
        "it.\n"
        "Problem: The Service has no selector, so there are no pods to choose "
        "a leader from.\n"
        "    fix: Add a spec.selector that matches the pods, or remove "
        "zen-lead.io/enabled.\n",
    },
    {
        "not enabled",
        {.annotations = "", .pods = {POD0}},
        {0},
        "zen-lead does not manage shop/db: it is not opted in.\n"
        "Problem: the Service has no zen-lead.io/enabled annotation.\n"
        "    fix: kubectl -n shop annotate service db "
        "zen-lead.io/enabled=true\n",
    },
    {
        "opted out",
        {.annotations = "'zen-lead.io/enabled':'false'"},
        {0},
        "zen-lead does not manage shop/db: it is not opted in.\n",
    },
};

static void expect_text(const char *name, const char *got, const char *want)
{
    cr_expect_str_eq(got, want, "%s", name);
    if (strcmp(got, want) != 0)
        fprintf(stderr, "%s, got:\n%s\nwant:\n%s\n", name, got, want);
}

TestSuite(why);

Test(why, explains_each_state_with_its_fixes)
{
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        const struct why_case *c = &cases[k];
        struct gather_service g;
        struct gather_lease lease;
        struct report r;
        struct buf b;
        snapshot_build(&c->snap, &g);
        snapshot_lease(&c->lease, &lease);
        cr_assert_eq(report_build(&g, &lease, SNAPSHOT_NOW_MS, &r), ZL_OK, "%s",
                     c->name);
        buf_init(&b, 1u << 20);
        cr_assert_eq(why_explain(&r, &b), ZL_OK, "%s", c->name);
        expect_text(c->name, b.data, c->want);
        buf_cleanup(&b);
        report_cleanup(&r);
        gather_lease_cleanup(&lease);
        gather_service_cleanup(&g);
    }
}

Test(why, explains_a_service_it_could_not_read)
{
    static const struct {
        enum gather_state state;
        const char *error;
        const char *want;
    } table[] = {
        {GATHER_ABSENT, "", "Service shop/db does not exist.\n"},
        {GATHER_FORBIDDEN, "get service shop/db: forbidden (HTTP 403)",
         "Service shop/db could not be read: get service shop/db: forbidden "
         "(HTTP 403)\n"},
    };
    char ns[] = "shop", name[] = "db";
    for (size_t k = 0; k < sizeof(table) / sizeof(table[0]); k++) {
        struct gather_service g = {
            .namespace_name = ns, .name = name, .source_state = table[k].state};
        struct report r;
        struct buf b;
        snprintf(g.error, sizeof(g.error), "%s", table[k].error);
        cr_assert_eq(report_build(&g, NULL, SNAPSHOT_NOW_MS, &r), ZL_OK);
        buf_init(&b, 1u << 20);
        cr_assert_eq(why_explain(&r, &b), ZL_OK);
        expect_text(table[k].error, b.data, table[k].want);
        buf_cleanup(&b);
        report_cleanup(&r);
    }
}

Test(why, reports_a_full_buffer)
{
    const struct snapshot s = {.slice = {.pod = "db-0"}, .pods = {POD0, POD1}};
    struct gather_service g;
    struct gather_lease lease;
    struct report r;
    struct buf b;
    snapshot_build(&s, &g);
    snapshot_lease(&(struct snapshot_lease){0}, &lease);
    cr_assert_eq(report_build(&g, &lease, SNAPSHOT_NOW_MS, &r), ZL_OK);
    buf_init(&b, 64);
    cr_expect_neq(why_explain(&r, &b), ZL_OK);
    buf_cleanup(&b);
    report_cleanup(&r);
    gather_lease_cleanup(&lease);
    gather_service_cleanup(&g);
}

/* SPDX-License-Identifier: Apache-2.0 */
/* kubectl-zenlead's output forms: ages, the status screen against exact
 * text (the instant is fixed, so every age is), colour on and off, the
 * table with and without -A, and the JSON read back with json-c. */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "plugin/report.h"
#include "plugin/screen.h"
#include "snapshot.h"
#include "testutil.h"

#define POD0                                                                   \
    {                                                                          \
        .name = "db-0", .created_ago = 3000, .ready_ago = 2900                 \
    }
#define POD1                                                                   \
    {                                                                          \
        .name = "db-1", .created_ago = 2000, .ready_ago = 1900                 \
    }
#define ENABLED "'zen-lead.io/enabled':'true'"
#define OUT_MAX (1u << 20)

/* ---- ages ---------------------------------------------------------------- */

Test(screen, prints_ages_the_way_kubectl_does)
{
    static const struct {
        int64_t since_ms;
        int64_t now_ms;
        const char *want;
    } cases[] = {
        {VIEWS_TIME_NONE, 1000, "-"},
        {1000, 1000, "0s"},
        {1000, 1999, "0s"},
        {0, 45000, "45s"},
        {0, 59999, "59s"},
        {0, 60000, "1m0s"},
        {0, 192000, "3m12s"},
        {0, 3599000, "59m59s"},
        {0, 3600000, "1h0m"},
        {0, 7500000, "2h5m"},
        {0, 86399000, "23h59m"},
        {0, 86400000, "1d0h"},
        {0, 273600000, "3d4h"},
        {0, INT64_C(400) * 86400000, "400d0h"},
        {5000, 1000, "0s"}, /* in the future: clocks disagree */
        /* 1970 to the last instant RFC 3339 can write */
        {0, INT64_C(253402300799000), "2932896d23h"},
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        char out[SCREEN_AGE_MAX];
        memset(out, 'x', sizeof(out));
        screen_age(cases[k].since_ms, cases[k].now_ms, out);
        cr_expect_str_eq(out, cases[k].want, "case %zu", k);
    }
}

/* ---- reports from snapshots ---------------------------------------------- */

/* A snapshot's report with everything it borrows, freed together. */
struct fixture {
    struct gather_service g;
    struct gather_lease lease;
    struct report r;
};

static void fixture_build(struct fixture *f, const struct snapshot *s,
                          const struct snapshot_lease *lease)
{
    static const struct snapshot_lease running = {0};
    snapshot_build(s, &f->g);
    snapshot_lease(lease != NULL ? lease : &running, &f->lease);
    cr_assert_eq(report_build(&f->g, &f->lease, SNAPSHOT_NOW_MS, &f->r), ZL_OK);
}

static void fixture_cleanup(struct fixture *f)
{
    report_cleanup(&f->r);
    gather_lease_cleanup(&f->lease);
    gather_service_cleanup(&f->g);
}

static const struct snapshot healthy = {
    .last_switch_ago = 1000,
    .slice = {.pod = "db-0"},
    .pods = {POD0, POD1},
};

static const struct snapshot port_mismatch = {
    .pods = {{.name = "db-0", .created_ago = 3000, .port = "postgres"},
             {.name = "db-1",
              .created_ago = 90000,
              .not_ready = true,
              .ready_ago = 200,
              .port = "postgres"}},
};

/* A NotReady leader in grace, and a pod of each other verdict. */
static const struct snapshot grace = {
    .annotations = ENABLED ",'zen-lead.io/failover-min-delay':'30s',"
                           "'zen-lead.io/min-ready-duration':'1m'",
    .last_switch_ago = 4000,
    .slice = {.pod = "db-0", .not_ready = true},
    .pods = {{.name = "db-0",
              .created_ago = 5000,
              .not_ready = true,
              .ready_ago = 10},
             POD1,
             {.name = "db-2", .created_ago = 30, .ready_ago = 15},
             {.name = "db-3", .created_ago = 100, .deleted_ago = 3},
             {.name = "db-4", .created_ago = 100, .ip = ""},
             {.name = "db-5",
              .created_ago = 100,
              .phase = "Failed",
              .not_ready = true}},
};

static const char healthy_text[] =
    "Service shop/db  Healthy\n"
    "  settings    enabled=true sticky=true leader-service-name=db-leader "
    "min-ready-duration=0s failover-min-delay=0s\n"
    "  leader svc  db-leader\n"
    "  slice       db-leader-ipv4  10.0.0.10 ready,serving -> db-0  port pg "
    "5432/TCP\n"
    "  leader      db-0  leading for 16m40s  Ready=True for 48m20s  pod age "
    "50m0s\n"
    "\n"
    "Pods (2 match the selector, 2 candidates, 2 eligible now)\n"
    "  POD                      VERDICT      READY  IP               AGE     "
    "NOTE\n"
    "  db-0                     leader       True   10.0.0.10        50m0s   "
    "\n"
    "  db-1                     eligible     True   10.0.0.11        33m20s  "
    "\n"
    "\n"
    "Controller  running  Lease zen-lead-system/zen-lead-controller held by "
    "zen-lead-controller-7d9f-x2k4p, renewed 2s ago\n";

static const char port_mismatch_text[] =
    "Service shop/db  NoLeader\n"
    "  settings    enabled=true sticky=true leader-service-name=db-leader "
    "min-ready-duration=0s failover-min-delay=0s\n"
    "  leader svc  db-leader\n"
    "  slice       db-leader-ipv4  no endpoints  port pg 5432/TCP\n"
    "  leader      none (the slice has no endpoint)\n"
    "\n"
    "Pods (2 match the selector, 0 candidates, 0 eligible now)\n"
    "  POD                      VERDICT      READY  IP               AGE     "
    "NOTE\n"
    "  db-0                     portMissing  True   10.0.0.10        50m0s   "
    "declares no port \"db\" (TCP)\n"
    "  db-1                     portMissing  False  10.0.0.11        1d1h    "
    "declares no port \"db\" (TCP)\n"
    "\n"
    "Problems\n"
    "  error PortResolutionFailed: named targetPort \"db\" (TCP) is not "
    "declared by pod db-0, db-1\n"
    "    fix: name a containerPort \"db\" (TCP) in the pods, or set the "
    "Service's targetPort to a port they declare: kubectl -n shop get pod "
    "db-0 -o jsonpath='{.spec.containers[*].ports}'; kubectl -n shop edit "
    "service db\n"
    "\n"
    "Controller  running  Lease zen-lead-system/zen-lead-controller held by "
    "zen-lead-controller-7d9f-x2k4p, renewed 2s ago\n";

static const char grace_text[] =
    "Service shop/db  Grace\n"
    "  settings    enabled=true sticky=true leader-service-name=db-leader "
    "min-ready-duration=1m0s failover-min-delay=30s\n"
    "  leader svc  db-leader\n"
    "  slice       db-leader-ipv4  10.0.0.10 not-ready,serving -> db-0  port "
    "pg 5432/TCP\n"
    "  leader      db-0  leading for 1h6m  Ready=False for 10s  pod age "
    "1h23m\n"
    "\n"
    "Pods (6 match the selector, 2 candidates, 1 eligible now)\n"
    "  POD                      VERDICT      READY  IP               AGE     "
    "NOTE\n"
    "  db-0                     notReady     False  10.0.0.10        1h23m   "
    "Ready=False for 10s (still routed)\n"
    "  db-1                     eligible     True   10.0.0.11        33m20s  "
    "\n"
    "  db-2                     waiting      True   10.0.0.12        30s     "
    "min-ready: eligible in 45s\n"
    "  db-3                     terminating  True   10.0.0.13        1m40s   "
    "terminating for 3s\n"
    "  db-4                     noIP         True   -                1m40s   "
    "no IP of the Service's first family\n"
    "  db-5                     notRunning   False  10.0.0.15        1m40s   "
    "phase Failed\n"
    "\n"
    "Last switches\n"
    "  1h6m ago  LeaderElected  db-0 leads\n"
    "\n"
    "Warning Events since the last switch\n"
    "  5m0s ago  NoReadyPods (x4)  no pod is ready\n"
    "\n"
    "Problems\n"
    "  warning Grace: the leader is NotReady and kept for failover-min-delay; "
    "its endpoint is not ready\n"
    "  warning ControllerNotRunning: no controller replica holds the Lease "
    "zen-lead-system/zen-lead-controller (not renewed in time): nothing "
    "moves the leader until one runs\n"
    "    fix: kubectl -n zen-lead-system get pods; kubectl -n zen-lead-system "
    "logs deploy/zen-lead-controller\n"
    "\n"
    "Controller  stale  Lease zen-lead-system/zen-lead-controller held by "
    "zen-lead-controller-7d9f-x2k4p, renewed 1m40s ago\n";

static void grace_fixture(struct fixture *f)
{
    const struct snapshot_lease stale = {.renew_ago = 100};
    fixture_build(f, &grace, &stale);
    /* Events added after the report are still read by the screen: build
     * the report again on the completed snapshot. */
    report_cleanup(&f->r);
    snapshot_add_event(&f->g, "Normal", "LeaderElected", "db", 4000, 1,
                       "db-0 leads");
    snapshot_add_event(&f->g, "Warning", "NoReadyPods", "db", 300, 4,
                       "no pod is ready");
    cr_assert_eq(report_build(&f->g, &f->lease, SNAPSHOT_NOW_MS, &f->r), ZL_OK);
}

static void expect_status(struct fixture *f, const char *want)
{
    struct buf b;
    buf_init(&b, OUT_MAX);
    cr_assert_eq(screen_status(&f->r, false, &b), ZL_OK);
    cr_expect_str_eq(b.data, want);
    if (strcmp(b.data, want) != 0)
        fprintf(stderr, "got:\n%s\nwant:\n%s\n", b.data, want);
    buf_cleanup(&b);
}

Test(screen, status_of_a_healthy_service)
{
    struct fixture f;
    fixture_build(&f, &healthy, NULL);
    expect_status(&f, healthy_text);
    fixture_cleanup(&f);
}

Test(screen, status_of_a_port_mismatch)
{
    struct fixture f;
    fixture_build(&f, &port_mismatch, NULL);
    expect_status(&f, port_mismatch_text);
    fixture_cleanup(&f);
}

Test(screen, status_of_a_leader_in_grace_with_every_verdict_and_events)
{
    struct fixture f;
    grace_fixture(&f);
    expect_status(&f, grace_text);
    fixture_cleanup(&f);
}

/* Services zen-lead does not route, or not as they are. */
static const struct {
    struct snapshot snap;
    const char *want;
} unrouted[] = {
    {{.annotations = "", .pods = {POD0}},
     "Service shop/db  NotEnabled\n"
     "\n"
     "Problems\n"
     "  error NotEnabled: the Service has no zen-lead.io/enabled "
     "annotation\n"
     "    fix: kubectl -n shop annotate service db "
     "zen-lead.io/enabled=true\n"
     "\n"
     "Controller  running  Lease zen-lead-system/zen-lead-controller "
     "held by zen-lead-controller-7d9f-x2k4p, renewed 2s ago\n"},
    {{.leader = SNAPSHOT_LEADER_FOREIGN, .pods = {POD0}},
     "Service shop/db  Conflict\n"
     "  settings    enabled=true sticky=true leader-service-name="
     "db-leader min-ready-duration=0s failover-min-delay=0s\n"
     "  leader svc  db-leader (not managed by zen-lead)\n"
     "\n"
     "Problems\n"
     "  error LeaderNameConflict: Service db-leader exists and is not "
     "managed by zen-lead for db; zen-lead leaves it alone\n"
     "    fix: rename that Service, or set "
     "zen-lead.io/leader-service-name on the source to a free name\n"
     "\n"
     "Controller  running  Lease zen-lead-system/zen-lead-controller "
     "held by zen-lead-controller-7d9f-x2k4p, renewed 2s ago\n"},
    {{.annotations = "'zen-lead.io/enabled':'false'",
      .slice = {.pod = "db-0"},
      .pods = {POD0}},
     /* the leader Service an opt-out leaves until it is removed */
     "Service shop/db  NotEnabled\n"
     "  settings    enabled=false sticky=true leader-service-name="
     "db-leader min-ready-duration=0s failover-min-delay=0s\n"
     "  leader svc  db-leader\n"
     "  slice       db-leader-ipv4  10.0.0.10 ready,serving -> db-0  "
     "port pg 5432/TCP\n"
     "\n"
     "Controller  running  Lease zen-lead-system/zen-lead-controller "
     "held by zen-lead-controller-7d9f-x2k4p, renewed 2s ago\n"},
    {{.slice = {.pod = "db-0"}, .pods = {POD0}, .pods_state = GATHER_FORBIDDEN},
     /* without the pods the rules cannot be applied */
     "Service shop/db  Unknown\n"
     "  settings    enabled=true sticky=true leader-service-name="
     "db-leader min-ready-duration=0s failover-min-delay=0s\n"
     "  leader svc  db-leader\n"
     "  slice       db-leader-ipv4  10.0.0.10 ready,serving -> db-0  "
     "port pg 5432/TCP\n"
     "\n"
     "Controller  running  Lease zen-lead-system/zen-lead-controller "
     "held by zen-lead-controller-7d9f-x2k4p, renewed 2s ago\n"
     "\n"
     "Not shown: list pods in shop: forbidden (HTTP 403)\n"},
    {{.leader = SNAPSHOT_LEADER_ABSENT, .pods = {POD0}},
     "Service shop/db  Pending\n"
     "  settings    enabled=true sticky=true leader-service-name="
     "db-leader min-ready-duration=0s failover-min-delay=0s\n"
     "  leader svc  db-leader (absent)\n"
     "\n"
     "Problems\n"
     "  error Pending: the leader Service db-leader does not exist yet: "
     "the controller has not created it\n"
     "\n"
     "Controller  running  Lease zen-lead-system/zen-lead-controller "
     "held by zen-lead-controller-7d9f-x2k4p, renewed 2s ago\n"},
};

Test(screen, status_of_services_zen_lead_does_not_route)
{
    for (size_t k = 0; k < sizeof(unrouted) / sizeof(unrouted[0]); k++) {
        struct fixture f;
        fixture_build(&f, &unrouted[k].snap, NULL);
        expect_status(&f, unrouted[k].want);
        fixture_cleanup(&f);
    }
}

Test(screen, status_of_a_missing_or_unreadable_service)
{
    char ns[] = "shop", name[] = "db";
    struct gather_service g = {
        .namespace_name = ns, .name = name, .source_state = GATHER_ABSENT};
    struct report r;
    struct buf b;
    buf_init(&b, OUT_MAX);
    cr_assert_eq(report_build(&g, NULL, SNAPSHOT_NOW_MS, &r), ZL_OK);
    cr_assert_eq(screen_status(&r, false, &b), ZL_OK);
    cr_expect_str_eq(b.data, "Service shop/db  NotFound\n  no such Service\n");
    report_cleanup(&r);
    buf_cleanup(&b);

    g.source_state = GATHER_FORBIDDEN;
    snprintf(g.error, sizeof(g.error), "%s",
             "get service shop/db: forbidden (HTTP 403)");
    buf_init(&b, OUT_MAX);
    cr_assert_eq(report_build(&g, NULL, SNAPSHOT_NOW_MS, &r), ZL_OK);
    cr_assert_eq(screen_status(&r, false, &b), ZL_OK);
    cr_expect_str_eq(b.data, "Service shop/db  Unknown\n"
                             "  get service shop/db: forbidden (HTTP 403)\n");
    report_cleanup(&r);
    buf_cleanup(&b);
}

Test(screen, status_says_what_could_not_be_read)
{
    struct fixture f;
    struct buf b;
    fixture_build(&f, &healthy,
                  &(struct snapshot_lease){.state = GATHER_FORBIDDEN});
    snprintf(f.g.error, sizeof(f.g.error), "%s",
             "list events of service shop/db: forbidden (HTTP 403)");
    buf_init(&b, OUT_MAX);
    cr_assert_eq(screen_status(&f.r, false, &b), ZL_OK);
    const char *tail =
        "\nController  unknown: get lease zen-lead-system/"
        "zen-lead-controller: forbidden (HTTP 403)\n"
        "\nNot shown: list events of service shop/db: forbidden (HTTP 403)\n";
    cr_assert_geq(b.len, strlen(tail));
    cr_expect_str_eq(b.data + b.len - strlen(tail), tail);
    buf_cleanup(&b);
    fixture_cleanup(&f);
}

/* ---- colour -------------------------------------------------------------- */

/* text without its ANSI escape sequences (ESC [ ... m). */
static void strip_ansi(const char *in, struct buf *out)
{
    for (const char *c = in; *c != '\0'; c++) {
        if (*c == '\033' && c[1] == '[') {
            c += 2;
            while (*c != '\0' && *c != 'm')
                c++;
            continue;
        }
        cr_assert_eq(buf_putc(out, *c), ZL_OK);
    }
}

static void status_text(const struct report *r, bool color, struct buf *b)
{
    buf_init(b, OUT_MAX);
    cr_assert_eq(screen_status(r, color, b), ZL_OK);
}

Test(screen, colour_only_adds_escapes)
{
    struct fixture f;
    struct buf plain, color, stripped;
    grace_fixture(&f);
    status_text(&f.r, false, &plain);
    status_text(&f.r, true, &color);
    cr_expect_null(strchr(plain.data, '\033'), "escapes without colour");
    buf_init(&stripped, OUT_MAX);
    strip_ansi(color.data, &stripped);
    cr_expect_str_eq(stripped.data, plain.data);
    static const char *const want[] = {
        "\033[1mService shop/db\033[0m  \033[33mGrace\033[0m\n",
        "\033[31mnotReady\033[0m    ", /* padded after the reset */
        "\033[33mwaiting\033[0m     ",
        "\033[31mterminating\033[0m ",
        "  db-1                     eligible     ", /* no colour */
        "  \033[33mwarning\033[0m Grace:",
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        cr_expect(strstr(color.data, want[i]) != NULL, "no %zu in:\n%s", i,
                  color.data);
    buf_cleanup(&plain);
    buf_cleanup(&color);
    buf_cleanup(&stripped);
    fixture_cleanup(&f);
}

Test(screen, colour_marks_health_and_errors)
{
    struct fixture a, b;
    struct buf t;
    fixture_build(&a, &healthy, NULL);
    fixture_build(&b, &port_mismatch, NULL);
    status_text(&a.r, true, &t);
    cr_expect(strstr(t.data, "\033[32mHealthy\033[0m") != NULL);
    cr_expect(strstr(t.data, "\033[32mleader\033[0m      ") != NULL);
    buf_cleanup(&t);
    status_text(&b.r, true, &t);
    cr_expect(strstr(t.data, "\033[31mNoLeader\033[0m") != NULL);
    cr_expect(strstr(t.data, "\033[31mportMissing\033[0m ") != NULL);
    cr_expect(strstr(t.data, "  \033[31merror\033[0m PortResolutionFailed") !=
              NULL);
    buf_cleanup(&t);
    fixture_cleanup(&a);
    fixture_cleanup(&b);
}

/* ---- the table ----------------------------------------------------------- */

Test(screen, table_with_and_without_all_namespaces)
{
    struct fixture f[3];
    const struct report *reports[3];
    struct buf b;
    fixture_build(&f[0], &healthy, NULL);
    fixture_build(&f[1], &port_mismatch, NULL);
    fixture_build(&f[2], &(struct snapshot){.annotations = "", .pods = {POD0}},
                  NULL);
    for (size_t i = 0; i < 3; i++)
        reports[i] = &f[i].r;

    buf_init(&b, OUT_MAX);
    cr_assert_eq(screen_table(reports, 3, false, false, &b), ZL_OK);
    cr_expect_str_eq(
        b.data,
        "SERVICE                      LEADER                       AGE      "
        "READY   STATE\n"
        "db                           db-0                         16m40s   "
        "2/2     Healthy\n"
        "db                           <none>                       -        "
        "0/2     NoLeader\n"
        "db                           <none>                       -        "
        "0/0     NotEnabled\n");
    buf_cleanup(&b);

    buf_init(&b, OUT_MAX);
    cr_assert_eq(screen_table(reports, 2, true, true, &b), ZL_OK);
    cr_expect_str_eq(
        b.data,
        "NAMESPACE            SERVICE                      LEADER         "
        "              AGE      READY   STATE\n"
        "shop                 db                           db-0           "
        "              16m40s   2/2     \033[32mHealthy\033[0m\n"
        "shop                 db                           <none>         "
        "              -        0/2     \033[31mNoLeader\033[0m\n");
    buf_cleanup(&b);

    buf_init(&b, OUT_MAX);
    cr_assert_eq(screen_table(reports, 0, false, false, &b), ZL_OK);
    cr_expect_str_eq(b.data, "SERVICE                      LEADER         "
                             "              AGE      READY   STATE\n");
    buf_cleanup(&b);
    for (size_t i = 0; i < 3; i++)
        fixture_cleanup(&f[i]);
}

/* ---- JSON ---------------------------------------------------------------- */

/* The status JSON of f, written out and parsed back as a script would. */
static struct json_object *status_json(const struct report *r)
{
    struct json_object *o = NULL;
    cr_assert_eq(screen_status_json(r, &o), ZL_OK);
    struct json_object *back = testutil_json(
        json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
    cr_assert_not_null(back);
    return back;
}

/* The value at a path of keys and array indices ("leader.pod",
 * "candidates.0.verdict"); *present tells whether the last key exists
 * (its value may be null). */
static struct json_object *at(struct json_object *o, const char *path,
                              bool *present)
{
    char key[128];
    const char *p = path;
    *present = true;
    while (*p != '\0') {
        size_t n = strcspn(p, ".");
        cr_assert_lt(n, sizeof(key));
        memcpy(key, p, n);
        key[n] = '\0';
        p += n + (p[n] == '.');
        if (json_object_is_type(o, json_type_array)) {
            o = json_object_array_get_idx(o, (size_t)strtoul(key, NULL, 10));
            *present = o != NULL;
        } else if (!json_object_object_get_ex(o, key, &o)) {
            *present = false;
            return NULL;
        }
    }
    return o;
}

static void expect_str(struct json_object *o, const char *path,
                       const char *want)
{
    bool present;
    struct json_object *v = at(o, path, &present);
    cr_expect(present && json_object_is_type(v, json_type_string) &&
                  strcmp(json_object_get_string(v), want) == 0,
              "%s is %s, want \"%s\"", path,
              present ? json_object_to_json_string(v) : "absent", want);
}

static void expect_int(struct json_object *o, const char *path, int64_t want)
{
    bool present;
    struct json_object *v = at(o, path, &present);
    cr_expect(present && json_object_is_type(v, json_type_int) &&
                  json_object_get_int64(v) == want,
              "%s is %s, want %lld", path,
              present ? json_object_to_json_string(v) : "absent",
              (long long)want);
}

static void expect_bool(struct json_object *o, const char *path, bool want)
{
    bool present;
    struct json_object *v = at(o, path, &present);
    cr_expect(present && json_object_is_type(v, json_type_boolean) &&
                  json_object_get_boolean(v) == want,
              "%s is %s, want %s", path,
              present ? json_object_to_json_string(v) : "absent",
              want ? "true" : "false");
}

static void expect_null(struct json_object *o, const char *path)
{
    bool present;
    struct json_object *v = at(o, path, &present);
    cr_expect(present && v == NULL, "%s is %s, want null", path,
              present ? json_object_to_json_string(v) : "absent");
}

static void expect_absent(struct json_object *o, const char *path)
{
    bool present;
    struct json_object *v = at(o, path, &present);
    cr_expect(!present, "%s is %s, want it absent", path,
              json_object_to_json_string(v));
}

static void expect_len(struct json_object *o, const char *path, size_t want)
{
    bool present;
    struct json_object *v = at(o, path, &present);
    cr_expect(present && json_object_is_type(v, json_type_array) &&
                  json_object_array_length(v) == want,
              "%s is %s, want %zu items", path,
              present ? json_object_to_json_string(v) : "absent", want);
}

Test(screen, json_of_a_healthy_service)
{
    struct fixture f;
    fixture_build(&f, &healthy, NULL);
    struct json_object *o = status_json(&f.r);
    expect_str(o, "kind", "ZenLeadStatus");
    expect_str(o, "namespace", "shop");
    expect_str(o, "service", "db");
    expect_str(o, "state", "Healthy");
    expect_bool(o, "settings.enabled", true);
    expect_bool(o, "settings.sticky", true);
    expect_str(o, "settings.leaderServiceName", "db-leader");
    expect_str(o, "settings.minReadyDuration", "0s");
    expect_str(o, "settings.failoverMinDelay", "0s");
    expect_str(o, "leaderService.name", "db-leader");
    expect_bool(o, "leaderService.exists", true);
    expect_bool(o, "leaderService.managed", true);
    expect_str(o, "leaderService.slices.0.name", "db-leader-ipv4");
    expect_str(o, "leaderService.slices.0.endpoints.0.address", "10.0.0.10");
    expect_str(o, "leaderService.slices.0.endpoints.0.pod", "db-0");
    expect_bool(o, "leaderService.slices.0.endpoints.0.ready", true);
    expect_bool(o, "leaderService.slices.0.endpoints.0.serving", true);
    expect_bool(o, "leaderService.slices.0.endpoints.0.terminating", false);
    expect_str(o, "leaderService.slices.0.ports.0.name", "pg");
    expect_int(o, "leaderService.slices.0.ports.0.port", 5432);
    expect_str(o, "leaderService.slices.0.ports.0.protocol", "TCP");
    expect_str(o, "leader.pod", "db-0");
    expect_str(o, "leader.since", "2026-03-01T11:43:20Z");
    expect_int(o, "leader.leadingSeconds", 1000);
    expect_bool(o, "leader.endpointReady", true);
    expect_bool(o, "leader.ready", true);
    expect_str(o, "leader.readySince", "2026-03-01T11:11:40Z");
    expect_int(o, "leader.ageSeconds", 3000);
    expect_str(o, "chosen", "db-0");
    expect_int(o, "candidatesReady", 2);
    expect_int(o, "podsMatching", 2);
    expect_len(o, "candidates", 2);
    expect_str(o, "candidates.0.pod", "db-0");
    expect_str(o, "candidates.0.verdict", "leader");
    expect_bool(o, "candidates.0.routed", true);
    expect_bool(o, "candidates.0.chosen", true);
    expect_bool(o, "candidates.0.ready", true);
    expect_str(o, "candidates.0.phase", "Running");
    expect_str(o, "candidates.0.ip", "10.0.0.10");
    expect_int(o, "candidates.0.ageSeconds", 3000);
    expect_absent(o, "candidates.0.eligibleInSeconds");
    expect_absent(o, "candidates.0.missingPort");
    expect_str(o, "candidates.1.verdict", "eligible");
    expect_bool(o, "candidates.1.routed", false);
    expect_bool(o, "candidates.1.chosen", false);
    expect_len(o, "switches", 0);
    expect_len(o, "warningEvents", 0);
    expect_len(o, "problems", 0);
    expect_str(o, "controller.state", "running");
    expect_str(o, "controller.lease", "zen-lead-controller");
    expect_str(o, "controller.leaseNamespace", "zen-lead-system");
    expect_str(o, "controller.holder", "zen-lead-controller-7d9f-x2k4p");
    expect_str(o, "controller.renewed", "2026-03-01T11:59:58Z");
    expect_absent(o, "controller.error");
    expect_absent(o, "readError");
    json_object_put(o);
    fixture_cleanup(&f);
}

Test(screen, json_of_a_leader_in_grace_with_events)
{
    struct fixture f;
    grace_fixture(&f);
    struct json_object *o = status_json(&f.r);
    expect_str(o, "state", "Grace");
    expect_str(o, "settings.minReadyDuration", "1m0s");
    expect_str(o, "settings.failoverMinDelay", "30s");
    expect_bool(o, "leaderService.slices.0.endpoints.0.ready", false);
    expect_bool(o, "leader.endpointReady", false);
    expect_bool(o, "leader.ready", false);
    expect_str(o, "leader.readySince", "2026-03-01T11:59:50Z");
    expect_str(o, "chosen", "db-0");
    expect_int(o, "candidatesReady", 2);
    expect_int(o, "podsMatching", 6);
    expect_str(o, "candidates.0.verdict", "notReady");
    expect_bool(o, "candidates.0.routed", true);
    expect_str(o, "candidates.2.verdict", "waiting");
    expect_int(o, "candidates.2.eligibleInSeconds", 45);
    expect_str(o, "candidates.3.verdict", "terminating");
    expect_str(o, "candidates.4.verdict", "noIP");
    expect_null(o, "candidates.4.ip");
    expect_str(o, "candidates.5.verdict", "notRunning");
    expect_str(o, "candidates.5.phase", "Failed");
    expect_len(o, "switches", 1);
    expect_str(o, "switches.0.reason", "LeaderElected");
    expect_str(o, "switches.0.type", "Normal");
    expect_str(o, "switches.0.message", "db-0 leads");
    expect_int(o, "switches.0.count", 1);
    expect_str(o, "switches.0.lastSeen", "2026-03-01T10:53:20Z");
    expect_len(o, "warningEvents", 1);
    expect_str(o, "warningEvents.0.reason", "NoReadyPods");
    expect_int(o, "warningEvents.0.count", 4);
    expect_len(o, "problems", 2);
    expect_str(o, "problems.0.severity", "warning");
    expect_str(o, "problems.0.code", "Grace");
    expect_str(o, "problems.0.fix", "");
    expect_str(o, "problems.1.code", "ControllerNotRunning");
    expect_str(o, "problems.1.fix",
               "kubectl -n zen-lead-system get pods; kubectl -n "
               "zen-lead-system logs deploy/zen-lead-controller");
    expect_str(o, "controller.state", "stale");
    expect_str(o, "controller.renewed", "2026-03-01T11:58:20Z");
    json_object_put(o);
    fixture_cleanup(&f);
}

Test(screen, json_without_a_leader)
{
    const struct snapshot waiting = {
        .annotations = ENABLED ",'zen-lead.io/min-ready-duration':'1m'",
        .pods = {{.name = "db-0", .created_ago = 3000, .ready_ago = 20}}};
    struct fixture f;
    fixture_build(&f, &waiting, NULL);
    struct json_object *o = status_json(&f.r);
    expect_str(o, "state", "NoLeader");
    expect_len(o, "leaderService.slices", 1);
    expect_len(o, "leaderService.slices.0.endpoints", 0);
    expect_null(o, "leader");
    expect_null(o, "chosen");
    expect_int(o, "candidatesReady", 1);
    expect_str(o, "candidates.0.verdict", "waiting");
    expect_int(o, "candidates.0.eligibleInSeconds", 40);
    expect_str(o, "problems.0.severity", "error");
    expect_str(o, "problems.0.code", "NoReadyPods");
    json_object_put(o);
    fixture_cleanup(&f);

    fixture_build(&f, &port_mismatch, NULL);
    o = status_json(&f.r);
    expect_str(o, "candidates.0.verdict", "portMissing");
    expect_str(o, "candidates.0.missingPort", "db");
    expect_absent(o, "candidates.0.eligibleInSeconds");
    json_object_put(o);
    fixture_cleanup(&f);
}

Test(screen, json_rounds_a_wait_up_to_whole_seconds)
{
    /* Ready 20.5 s ago of a 1m min-ready: 39.5 s left, said as 40. */
    const struct snapshot waiting = {
        .annotations = ENABLED ",'zen-lead.io/min-ready-duration':'1m'",
        .pods = {{.name = "db-0", .created_ago = 3000, .ready_ago = 20}}};
    struct fixture f;
    snapshot_build(&waiting, &f.g);
    snapshot_lease(&(struct snapshot_lease){0}, &f.lease);
    cr_assert_eq(report_build(&f.g, &f.lease, SNAPSHOT_NOW_MS + 500, &f.r),
                 ZL_OK);
    struct json_object *o = status_json(&f.r);
    expect_int(o, "candidates.0.eligibleInSeconds", 40);
    json_object_put(o);
    fixture_cleanup(&f);
}

Test(screen, json_of_services_zen_lead_does_not_route)
{
    struct fixture f;
    fixture_build(&f, &(struct snapshot){.annotations = "", .pods = {POD0}},
                  &(struct snapshot_lease){.state = GATHER_FORBIDDEN});
    struct json_object *o = status_json(&f.r);
    expect_str(o, "state", "NotEnabled");
    expect_absent(o, "settings");
    expect_null(o, "leader");
    expect_null(o, "chosen");
    expect_len(o, "candidates", 0);
    expect_str(o, "problems.0.code", "NotEnabled");
    expect_str(o, "controller.state", "unknown");
    expect_null(o, "controller.holder");
    expect_null(o, "controller.renewed");
    expect_str(o, "controller.error",
               "get lease zen-lead-system/zen-lead-controller: forbidden "
               "(HTTP 403)");
    json_object_put(o);
    fixture_cleanup(&f);

    fixture_build(&f, &(struct snapshot){.leader = SNAPSHOT_LEADER_ABSENT},
                  &(struct snapshot_lease){.state = GATHER_ABSENT});
    o = status_json(&f.r);
    expect_str(o, "state", "Pending");
    expect_bool(o, "leaderService.exists", false);
    expect_bool(o, "leaderService.managed", false);
    expect_len(o, "leaderService.slices", 0);
    expect_null(o, "leader");
    expect_str(o, "controller.error", "no Lease");
    json_object_put(o);
    fixture_cleanup(&f);
}

Test(screen, json_of_a_leader_pod_that_was_not_read)
{
    /* The slice names a pod the snapshot lacks: the leader object has what
     * the slice says and nothing about the pod. */
    struct fixture f;
    fixture_build(
        &f, &(struct snapshot){.slice = {.pod = "db-9"}, .pods = {POD0}}, NULL);
    struct json_object *o = status_json(&f.r);
    expect_str(o, "state", "Pending");
    expect_str(o, "leader.pod", "db-9");
    expect_null(o, "leader.since");
    expect_null(o, "leader.leadingSeconds");
    expect_bool(o, "leader.endpointReady", true);
    expect_absent(o, "leader.ready");
    expect_absent(o, "leader.readySince");
    expect_absent(o, "leader.ageSeconds");
    expect_str(o, "chosen", "db-0");
    json_object_put(o);
    fixture_cleanup(&f);
}

Test(screen, json_of_a_missing_service_and_of_a_read_error)
{
    char ns[] = "shop", name[] = "db";
    struct gather_service g = {
        .namespace_name = ns, .name = name, .source_state = GATHER_ABSENT};
    struct report r;
    cr_assert_eq(report_build(&g, NULL, SNAPSHOT_NOW_MS, &r), ZL_OK);
    struct json_object *o = status_json(&r);
    expect_str(o, "state", "NotFound");
    expect_absent(o, "settings");
    expect_null(o, "leaderService");
    expect_null(o, "leader");
    expect_str(o, "controller.state", "unknown");
    expect_absent(o, "controller.lease");
    expect_absent(o, "readError");
    json_object_put(o);
    report_cleanup(&r);

    g.source_state = GATHER_FAILED;
    snprintf(g.error, sizeof(g.error), "%s", "get service shop/db: timeout");
    cr_assert_eq(report_build(&g, NULL, SNAPSHOT_NOW_MS, &r), ZL_OK);
    o = status_json(&r);
    expect_str(o, "state", "Unknown");
    expect_str(o, "readError", "get service shop/db: timeout");
    json_object_put(o);
    report_cleanup(&r);
}

Test(screen, json_list_of_statuses)
{
    struct fixture f[2];
    const struct report *reports[2];
    struct json_object *o = NULL;
    fixture_build(&f[0], &healthy, NULL);
    fixture_build(&f[1], &port_mismatch, NULL);
    reports[0] = &f[0].r;
    reports[1] = &f[1].r;
    cr_assert_eq(screen_list_json(reports, 2, &o), ZL_OK);
    expect_str(o, "kind", "ZenLeadStatusList");
    expect_len(o, "items", 2);
    expect_str(o, "items.0.kind", "ZenLeadStatus");
    expect_str(o, "items.0.state", "Healthy");
    expect_str(o, "items.1.state", "NoLeader");
    json_object_put(o);
    cr_assert_eq(screen_list_json(reports, 0, &o), ZL_OK);
    expect_len(o, "items", 0);
    json_object_put(o);
    fixture_cleanup(&f[0]);
    fixture_cleanup(&f[1]);
}

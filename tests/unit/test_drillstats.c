/* SPDX-License-Identifier: Apache-2.0 */
/* The drill's bookkeeping: the primary slice's events (replaced in one
 * write, a new endpoint not ready yet, old and new together, the slice
 * deleted or emptied, endpoints without a targetRef, the first new pod
 * kept); and the probe's figures from hand-made runs of records: a clean
 * switch, a gap measured from the old leader's last answer or from the
 * delete, a new leader that never answers, runs with no records or no
 * answers, a probe of a Service that answered from the new pod before the
 * delete, and more distinct pods than are counted; and the trimming of
 * answers into pod names. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <string.h>

#include "kube/views.h"
#include "plugin/drillstats.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_RECORDS 24

/* A record: start, end, and the pod that answered (NULL: failed). */
struct rec {
    int64_t start;
    int64_t end;
    const char *pod;
};

struct pod_count {
    const char *name;
    size_t count;
};

struct summary_case {
    const char *name;
    struct rec records[MAX_RECORDS];
    size_t count;
    int64_t t0;
    const char *old_pod;
    const char *new_pod;
    size_t failures;
    int64_t gap_ms;
    int64_t gap_from_ms;
    int64_t longest_outage_ms;
    struct pod_count pods[4];
};

static const struct summary_case summary_cases[] = {
    {"clean_switch_gap_from_last_old_answer",
     {{990, 995, "a"},
      {1005, 1008, "a"},
      {1015, 1020, "a"},
      {1025, 1026, NULL},
      {1035, 1040, "b"},
      {1045, 1050, "b"}},
     6,
     1000,
     "a",
     "b",
     1,
     20,
     1020,
     20,
     {{"a", 3}, {"b", 2}}},
    {"old_silent_before_delete_gap_from_delete",
     {{900, 905, "a"},
      {950, 1950, NULL},
      {1960, 2961, NULL},
      {2970, 2980, "b"}},
     4,
     1000,
     "a",
     "b",
     2,
     1980,
     1000,
     2075,
     {{"a", 1}, {"b", 1}}},
    {"new_pod_never_answers",
     {{990, 995, "a"}, {1005, 1010, "a"}, {1020, 2020, NULL}},
     3,
     1000,
     "a",
     "b",
     1,
     -1,
     -1,
     1010,
     {{"a", 2}}},
    {"no_new_pod_known",
     {{990, 995, "a"}, {1005, 1010, "b"}},
     2,
     1000,
     "a",
     NULL,
     0,
     -1,
     -1,
     15,
     {{"a", 1}, {"b", 1}}},
    {"no_records", {{0}}, 0, 1000, "a", "b", 0, -1, -1, 0, {{NULL, 0}}},
    {"only_failures",
     {{1000, 2000, NULL}, {2010, 3010, NULL}},
     2,
     1000,
     "a",
     "b",
     2,
     -1,
     -1,
     2010,
     {{NULL, 0}}},
    {"new_pod_answered_before_delete_counts_after_it_only",
     {{900, 905, "b"}, {1010, 1015, "a"}, {1020, 1030, "b"}},
     3,
     1000,
     "a",
     "b",
     0,
     15,
     1015,
     110,
     {{"b", 2}, {"a", 1}}},
    {"old_answer_after_the_first_new_one_ignored",
     {{995, 1010, "b"}, {1015, 1020, "a"}, {1025, 1030, "b"}},
     3,
     1000,
     "a",
     "b",
     0,
     10,
     1000,
     15,
     {{"b", 2}, {"a", 1}}},
    {"third_pod_answers_do_not_end_the_gap",
     {{1001, 1005, "a"}, {1010, 1015, "c"}, {1020, 1040, "b"}},
     3,
     1000,
     "a",
     "b",
     0,
     35,
     1005,
     25,
     {{"a", 1}, {"c", 1}, {"b", 1}}},
};

static void fill(const struct summary_case *c, struct drillstats_record *out)
{
    for (size_t i = 0; i < c->count; i++) {
        memset(&out[i], 0, sizeof(out[i]));
        out[i].start_ms = c->records[i].start;
        out[i].end_ms = c->records[i].end;
        if (c->records[i].pod == NULL) {
            snprintf(out[i].error, sizeof(out[i].error), "timeout");
            continue;
        }
        out[i].ok = true;
        snprintf(out[i].pod, sizeof(out[i].pod), "%s", c->records[i].pod);
    }
}

Test(drillstats, summarises_runs)
{
    for (size_t k = 0; k < N(summary_cases); k++) {
        const struct summary_case *c = &summary_cases[k];
        struct drillstats_record records[MAX_RECORDS];
        struct drillstats_summary s;
        fill(c, records);
        drillstats_summarise(records, c->count, c->t0, c->old_pod, c->new_pod,
                             &s);
        cr_expect(eq(sz, s.requests, c->count), "%s", c->name);
        cr_expect(eq(sz, s.failures, c->failures), "%s", c->name);
        cr_expect(eq(i64, s.gap_ms, c->gap_ms), "%s: gap", c->name);
        cr_expect(eq(i64, s.gap_from_ms, c->gap_from_ms), "%s: from", c->name);
        if (c->gap_ms >= 0)
            cr_expect(eq(i64, s.gap_to_ms, c->gap_from_ms + c->gap_ms), "%s",
                      c->name);
        cr_expect(eq(i64, s.longest_outage_ms, c->longest_outage_ms),
                  "%s: outage", c->name);
        size_t pods = 0;
        for (; pods < N(c->pods) && c->pods[pods].name != NULL; pods++) {
            cr_expect(strcmp(s.pods[pods].name, c->pods[pods].name) == 0,
                      "%s: pod %zu is %s", c->name, pods, s.pods[pods].name);
            cr_expect(eq(sz, s.pods[pods].count, c->pods[pods].count), "%s: %s",
                      c->name, c->pods[pods].name);
        }
        cr_expect(eq(sz, s.pod_count, pods), "%s: pods", c->name);
        cr_expect(eq(sz, s.other, 0), "%s", c->name);
        cr_expect(eq(sz, s.error_count, c->failures > 0 ? 1 : 0), "%s",
                  c->name);
        if (c->failures > 0) {
            cr_expect(strcmp(s.errors[0].name, "timeout") == 0, "%s", c->name);
            cr_expect(eq(sz, s.errors[0].count, c->failures), "%s", c->name);
        }
    }
}

Test(drillstats, counts_past_the_pod_limit_as_other)
{
    struct drillstats_record records[DRILLSTATS_MAX_PODS + 3];
    memset(records, 0, sizeof(records));
    for (size_t i = 0; i < N(records); i++) {
        records[i].start_ms = (int64_t)i * 10;
        records[i].end_ms = (int64_t)i * 10 + 1;
        records[i].ok = true;
        snprintf(records[i].pod, sizeof(records[i].pod), "pod-%zu",
                 i % (DRILLSTATS_MAX_PODS + 1));
    }
    struct drillstats_summary s;
    drillstats_summarise(records, N(records), 0, "pod-0", "pod-1", &s);
    cr_expect(eq(sz, s.pod_count, DRILLSTATS_MAX_PODS));
    /* pod-16 once, then pod-0 and pod-1 again (counted as theirs). */
    cr_expect(eq(sz, s.other, 1));
    cr_expect(eq(sz, drillstats_pod_count(&s, "pod-0"), 2));
    cr_expect(eq(sz, drillstats_pod_count(&s, "pod-1"), 2));
    cr_expect(eq(sz, drillstats_pod_count(&s, "pod-16"), 0));
    cr_expect(eq(i64, s.gap_ms, 10)); /* from pod-0's answer at 1 */
    cr_expect(eq(i64, s.longest_outage_ms, 10));
}

Test(drillstats, counts_failures_per_error)
{
    static const char *const errors[] = {"Timeout was reached",
                                         "Couldn't connect to server",
                                         "Timeout was reached",
                                         "HTTP 503",
                                         "e4",
                                         "e5",
                                         "e6",
                                         "e7",
                                         "e8",
                                         "e9",
                                         "e10",
                                         "HTTP 503"};
    struct drillstats_record records[N(errors) + 1];
    memset(records, 0, sizeof(records));
    for (size_t i = 0; i < N(errors); i++) {
        records[i].start_ms = (int64_t)i * 10;
        records[i].end_ms = (int64_t)i * 10 + 5;
        snprintf(records[i].error, sizeof(records[i].error), "%s", errors[i]);
    }
    records[N(errors)].ok = true;
    records[N(errors)].start_ms = 200;
    records[N(errors)].end_ms = 201;
    snprintf(records[N(errors)].pod, sizeof(records[N(errors)].pod), "web-1");
    struct drillstats_summary s;
    drillstats_summarise(records, N(records), 0, "web-0", "web-1", &s);
    cr_expect(eq(sz, s.failures, N(errors)));
    cr_expect(eq(sz, s.error_count, DRILLSTATS_MAX_ERRORS));
    cr_expect(strcmp(s.errors[0].name, "Timeout was reached") == 0);
    cr_expect(eq(sz, s.errors[0].count, 2));
    cr_expect(strcmp(s.errors[2].name, "HTTP 503") == 0);
    cr_expect(eq(sz, s.errors[2].count, 2));
    cr_expect(eq(sz, s.errors[1].count, 1));
    /* "e9" and "e10" came after eight distinct errors. */
    cr_expect(eq(sz, s.other_errors, 2));
    cr_expect(eq(i64, s.gap_ms, 201));
    cr_expect(eq(i64, s.longest_outage_ms, 201));
}

struct pod_case {
    const char *body;
    bool ok;
    const char *pod;
};

Test(drillstats, trims_answers_into_pod_names)
{
    static const char long_name[] = "012345678901234567890123456789012345678901"
                                    "2345678901234567890123456789";
    static const struct pod_case cases[] = {
        {"web-0\n", true, "web-0"},
        {"  web-1 \r\n", true, "web-1"},
        {"\t\n ", false, ""},
        {"", false, ""},
        {"a b\n", true, "a b"},
        {long_name, true,
         "012345678901234567890123456789012345678901234567890123456789012"},
    };
    for (size_t i = 0; i < N(cases); i++) {
        struct drillstats_record r;
        memset(&r, 'x', sizeof(r));
        bool ok = drillstats_set_pod(&r, cases[i].body, strlen(cases[i].body));
        cr_expect(eq(int, ok, cases[i].ok), "%zu", i);
        cr_expect(strcmp(r.pod, cases[i].pod) == 0, "%zu: \"%s\"", i, r.pod);
    }
}

/* ---- the slice's events ------------------------------------------------ */

#define MAX_EVENTS 4
#define DELETED "(deleted)"

/* One event: the slice's endpoints as JSON (DELETED: the slice is gone)
 * and when it came. */
struct slice_event {
    const char *endpoints;
    int64_t at;
};

struct switch_case {
    const char *name;
    struct slice_event events[MAX_EVENTS];
    int64_t removed_ms;
    int64_t new_ms;
    const char *new_pod;
};

#define EP(pod, ready)                                                         \
    "{\"addresses\":[\"10.0.0.1\"],\"conditions\":{\"ready\":" ready           \
    "},\"targetRef\":{\"kind\":\"Pod\",\"name\":\"" pod "\"}}"

static const struct switch_case switch_cases[] = {
    {"old_still_leading", {{EP("web-0", "true"), 5}}, -1, -1, ""},
    {"replaced_in_one_write",
     {{EP("web-0", "true"), 5}, {EP("web-1", "true"), 12}},
     12,
     12,
     "web-1"},
    {"new_endpoint_not_ready_yet",
     {{EP("web-1", "false"), 7}, {EP("web-1", "true"), 20}},
     7,
     20,
     "web-1"},
    {"old_and_new_together_then_old_leaves",
     {{EP("web-0", "true") "," EP("web-1", "true"), 3},
      {EP("web-1", "true"), 9}},
     9,
     3,
     "web-1"},
    {"old_not_ready_is_still_there", {{EP("web-0", "false"), 3}}, -1, -1, ""},
    {"slice_deleted", {{DELETED, 4}}, 4, -1, ""},
    {"emptied_then_new", {{"", 4}, {EP("web-2", "true"), 30}}, 4, 30, "web-2"},
    {"endpoint_without_target_ref_ignored",
     {{"{\"addresses\":[\"10.0.0.9\"]}", 5}},
     5,
     -1,
     ""},
    {"first_new_pod_kept",
     {{EP("web-1", "true"), 5}, {EP("web-2", "true"), 8}},
     5,
     5,
     "web-1"},
    {"ready_defaults_to_true",
     {{"{\"addresses\":[\"10.0.0.2\"],\"targetRef\":{\"name\":\"web-3\"}}", 6}},
     6,
     6,
     "web-3"},
};

static void see(struct drillstats_switch *sw, const struct slice_event *ev)
{
    if (strcmp(ev->endpoints, DELETED) == 0) {
        drillstats_switch_seen(sw, NULL, true, "web-0", ev->at);
        return;
    }
    char json[2048];
    int n = snprintf(json, sizeof(json),
                     "{\"metadata\":{\"name\":\"web-leader-ipv4\","
                     "\"namespace\":\"ns\"},\"addressType\":\"IPv4\","
                     "\"endpoints\":[%s]}",
                     ev->endpoints);
    cr_assert(n > 0 && (size_t)n < sizeof(json));
    struct views_endpointslice *s = NULL;
    cr_assert(eq(int, views_endpointslice_parse(json, (size_t)n, &s), ZL_OK),
              "%s", json);
    bool known = drillstats_switch_seen(sw, s, false, "web-0", ev->at);
    cr_expect(eq(int, known, sw->new_ms >= 0));
    views_release(s);
}

Test(drillstats, follows_the_primary_slice)
{
    for (size_t k = 0; k < N(switch_cases); k++) {
        const struct switch_case *c = &switch_cases[k];
        struct drillstats_switch sw;
        drillstats_switch_init(&sw);
        for (size_t i = 0; i < MAX_EVENTS && c->events[i].endpoints != NULL;
             i++)
            see(&sw, &c->events[i]);
        cr_expect(eq(i64, sw.removed_ms, c->removed_ms), "%s: removed",
                  c->name);
        cr_expect(eq(i64, sw.new_ms, c->new_ms), "%s: new", c->name);
        cr_expect(strcmp(sw.new_pod, c->new_pod) == 0, "%s: new pod %s",
                  c->name, sw.new_pod);
    }
}

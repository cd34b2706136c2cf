/* SPDX-License-Identifier: Apache-2.0 */
/* Metrics registry and Prometheus text exposition, checked line by line. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "base/metrics.h"

static struct metrics_registry *reg;
static struct buf out;

static void setup(void)
{
    cr_assert_eq(metrics_registry_new(&reg), ZL_OK);
    cr_assert_not_null(reg);
    buf_init(&out, 1 << 20);
}

static void teardown(void)
{
    metrics_registry_free(reg);
    buf_cleanup(&out);
}

TestSuite(metrics, .init = setup, .fini = teardown);

/* Compares the rendering with the expected lines, naming the first line
 * that differs. */
static void expect_lines(const char *const *want, size_t count)
{
    buf_reset(&out);
    cr_assert_eq(metrics_render(reg, &out), ZL_OK);
    const char *p = out.len > 0 ? out.data : "";
    for (size_t i = 0; i < count; i++) {
        const char *nl = strchr(p, '\n');
        cr_assert_not_null(nl, "line %zu missing; want: %s", i + 1, want[i]);
        size_t n = (size_t)(nl - p);
        cr_assert(n == strlen(want[i]) && memcmp(p, want[i], n) == 0,
                  "line %zu: got \"%.*s\", want \"%s\"", i + 1, (int)n, p,
                  want[i]);
        p = nl + 1;
    }
    cr_expect_str_eq(p, "", "unexpected extra output");
}

Test(metrics, renders_counter_with_labels_sorted)
{
    struct metrics_family *f;
    const char *labels[] = {"namespace", "service", "reason"};
    cr_assert_eq(metrics_register(reg, METRICS_COUNTER,
                                  "zen_lead_failover_count_total",
                                  "Leader changes.", labels, 3, NULL, 0, &f),
                 ZL_OK);
    const char *a[] = {"prod", "db", "notReady"};
    const char *b[] = {"dev", "db", "terminating"};
    cr_assert_eq(metrics_inc(f, a), ZL_OK);
    cr_assert_eq(metrics_add(f, a, 2), ZL_OK);
    cr_assert_eq(metrics_inc(f, b), ZL_OK);
    const char *want[] = {
        "# HELP zen_lead_failover_count_total Leader changes.",
        "# TYPE zen_lead_failover_count_total counter",
        "zen_lead_failover_count_total{namespace=\"dev\",service=\"db\","
        "reason=\"terminating\"} 1",
        "zen_lead_failover_count_total{namespace=\"prod\",service=\"db\","
        "reason=\"notReady\"} 3",
    };
    expect_lines(want, 4);
}

Test(metrics, unlabeled_family_starts_at_zero_and_labeled_is_hidden)
{
    struct metrics_family *g, *c;
    const char *labels[] = {"verb"};
    cr_assert_eq(metrics_register(reg, METRICS_GAUGE, "zen_lead_is_leader",
                                  "1 when this replica writes.", NULL, 0, NULL,
                                  0, &g),
                 ZL_OK);
    cr_assert_eq(metrics_register(reg, METRICS_COUNTER, "a_total", "x", labels,
                                  1, NULL, 0, &c),
                 ZL_OK);
    const char *want[] = {
        "# HELP zen_lead_is_leader 1 when this replica writes.",
        "# TYPE zen_lead_is_leader gauge",
        "zen_lead_is_leader 0",
    };
    expect_lines(want, 3);
    cr_assert_eq(metrics_set(g, NULL, 1), ZL_OK);
    double v = 0;
    cr_assert_eq(metrics_value(g, NULL, &v), ZL_OK);
    cr_expect(v == 1.0);
}

Test(metrics, renders_histogram_with_inf_sum_and_count)
{
    struct metrics_family *h;
    const char *labels[] = {"reason"};
    const double buckets[] = {0.005, 0.1, 1};
    cr_assert_eq(metrics_register(reg, METRICS_HISTOGRAM,
                                  "zen_lead_failover_latency_seconds",
                                  "Failover latency.", labels, 1, buckets, 3,
                                  &h),
                 ZL_OK);
    const char *r[] = {"notReady"};
    cr_assert_eq(metrics_observe(h, r, 0.005), ZL_OK); /* le is inclusive */
    cr_assert_eq(metrics_observe(h, r, 0.05), ZL_OK);
    cr_assert_eq(metrics_observe(h, r, 7.5), ZL_OK);
    const char *want[] = {
        "# HELP zen_lead_failover_latency_seconds Failover latency.",
        "# TYPE zen_lead_failover_latency_seconds histogram",
        "zen_lead_failover_latency_seconds_bucket{reason=\"notReady\","
        "le=\"0.005\"} 1",
        "zen_lead_failover_latency_seconds_bucket{reason=\"notReady\","
        "le=\"0.1\"} 2",
        "zen_lead_failover_latency_seconds_bucket{reason=\"notReady\","
        "le=\"1\"} 2",
        "zen_lead_failover_latency_seconds_bucket{reason=\"notReady\","
        "le=\"+Inf\"} 3",
        "zen_lead_failover_latency_seconds_sum{reason=\"notReady\"} 7.555",
        "zen_lead_failover_latency_seconds_count{reason=\"notReady\"} 3",
    };
    expect_lines(want, 8);
}

Test(metrics, unlabeled_histogram_puts_le_alone)
{
    struct metrics_family *h;
    const double buckets[] = {1};
    cr_assert_eq(metrics_register(reg, METRICS_HISTOGRAM, "d_seconds", "d",
                                  NULL, 0, buckets, 1, &h),
                 ZL_OK);
    cr_assert_eq(metrics_observe(h, NULL, 2), ZL_OK);
    const char *want[] = {
        "# HELP d_seconds d",
        "# TYPE d_seconds histogram",
        "d_seconds_bucket{le=\"1\"} 0",
        "d_seconds_bucket{le=\"+Inf\"} 1",
        "d_seconds_sum 2",
        "d_seconds_count 1",
    };
    expect_lines(want, 6);
}

Test(metrics, escapes_label_values_and_help)
{
    struct metrics_family *f;
    const char *labels[] = {"v"};
    cr_assert_eq(metrics_register(reg, METRICS_GAUGE, "g",
                                  "back\\slash and\nnewline \"kept\"", labels,
                                  1, NULL, 0, &f),
                 ZL_OK);
    const char *v[] = {"a\"b\\c\nd"};
    cr_assert_eq(metrics_set(f, v, -2.5), ZL_OK);
    const char *want[] = {
        "# HELP g back\\\\slash and\\nnewline \"kept\"",
        "# TYPE g gauge",
        "g{v=\"a\\\"b\\\\c\\nd\"} -2.5",
    };
    expect_lines(want, 3);
}

Test(metrics, families_render_sorted_by_name)
{
    struct metrics_family *f;
    cr_assert_eq(
        metrics_register(reg, METRICS_GAUGE, "zz", "z", NULL, 0, NULL, 0, &f),
        ZL_OK);
    cr_assert_eq(
        metrics_register(reg, METRICS_GAUGE, "aa", "a", NULL, 0, NULL, 0, &f),
        ZL_OK);
    const char *want[] = {"# HELP aa a", "# TYPE aa gauge", "aa 0",
                          "# HELP zz z", "# TYPE zz gauge", "zz 0"};
    expect_lines(want, 6);
}

Test(metrics, deletes_series_of_one_service_across_families)
{
    struct metrics_family *a, *b, *c;
    const char *l2[] = {"namespace", "service"};
    const char *l3[] = {"namespace", "service", "port_name"};
    const char *l1[] = {"reason"};
    cr_assert_eq(
        metrics_register(reg, METRICS_GAUGE, "avail", "a", l2, 2, NULL, 0, &a),
        ZL_OK);
    cr_assert_eq(metrics_register(reg, METRICS_COUNTER, "portfail_total", "p",
                                  l3, 3, NULL, 0, &b),
                 ZL_OK);
    cr_assert_eq(metrics_register(reg, METRICS_COUNTER, "other_total", "o", l1,
                                  1, NULL, 0, &c),
                 ZL_OK);
    const char *db[] = {"prod", "db"}, *web[] = {"prod", "web"};
    const char *dbp[] = {"prod", "db", "http"}, *r[] = {"db"};
    cr_assert_eq(metrics_set(a, db, 2), ZL_OK);
    cr_assert_eq(metrics_set(a, web, 3), ZL_OK);
    cr_assert_eq(metrics_inc(b, dbp), ZL_OK);
    cr_assert_eq(metrics_inc(c, r), ZL_OK);
    const char *names[] = {"namespace", "service"};
    cr_expect_eq(metrics_delete_matching(reg, names, db, 2), 2);
    const char *want[] = {
        "# HELP avail a",
        "# TYPE avail gauge",
        "avail{namespace=\"prod\",service=\"web\"} 3",
        "# HELP other_total o",
        "# TYPE other_total counter",
        "other_total{reason=\"db\"} 1",
    };
    expect_lines(want, 6);
    cr_expect_eq(metrics_delete(a, web), ZL_OK);
    cr_expect_eq(metrics_delete(a, web), ZL_ERR_NOTFOUND);
}

Test(metrics, rejects_misuse)
{
    struct metrics_family *c, *g;
    const char *bad_label[] = {"le"};
    const char *dup[] = {"a", "a"};
    const double unsorted[] = {1, 1};
    const double nan_bucket[] = {(double)NAN};
    cr_expect_eq(metrics_register(reg, METRICS_COUNTER, "9bad", "", NULL, 0,
                                  NULL, 0, &c),
                 ZL_ERR_INVALID);
    cr_expect_eq(metrics_register(reg, METRICS_COUNTER, "bad-name", "", NULL, 0,
                                  NULL, 0, &c),
                 ZL_ERR_INVALID);
    cr_expect_eq(metrics_register(reg, METRICS_HISTOGRAM, "h", "", bad_label, 1,
                                  unsorted, 1, &c),
                 ZL_ERR_INVALID);
    cr_expect_eq(
        metrics_register(reg, METRICS_GAUGE, "g", "", dup, 2, NULL, 0, &c),
        ZL_ERR_INVALID);
    cr_expect_eq(metrics_register(reg, METRICS_HISTOGRAM, "h", "", NULL, 0,
                                  unsorted, 2, &c),
                 ZL_ERR_INVALID);
    cr_expect_eq(metrics_register(reg, METRICS_HISTOGRAM, "h", "", NULL, 0,
                                  nan_bucket, 1, &c),
                 ZL_ERR_INVALID);
    cr_expect_eq(
        metrics_register(reg, METRICS_HISTOGRAM, "h", "", NULL, 0, NULL, 0, &c),
        ZL_ERR_INVALID);
    cr_assert_eq(metrics_register(reg, METRICS_COUNTER, "c_total", "", NULL, 0,
                                  NULL, 0, &c),
                 ZL_OK);
    cr_expect_eq(metrics_register(reg, METRICS_GAUGE, "c_total", "", NULL, 0,
                                  NULL, 0, &g),
                 ZL_ERR_EXISTS);
    cr_expect_eq(metrics_add(c, NULL, -1), ZL_ERR_INVALID);
    cr_expect_eq(metrics_add(c, NULL, (double)NAN), ZL_ERR_INVALID);
    cr_expect_eq(metrics_set(c, NULL, 1), ZL_ERR_INVALID);
    cr_expect_eq(metrics_observe(c, NULL, 1), ZL_ERR_INVALID);
    const char *one[] = {"x"};
    cr_assert_eq(
        metrics_register(reg, METRICS_GAUGE, "lg", "", one, 1, NULL, 0, &g),
        ZL_OK);
    cr_expect_eq(metrics_set(g, NULL, 1), ZL_ERR_INVALID);
}

struct value_case {
    double v;
    const char *text;
};

Test(metrics, formats_values_like_prometheus)
{
    static const struct value_case cases[] = {
        {0, "0"},
        {1, "1"},
        {-1, "-1"},
        {0.1, "0.1"},
        {2.5e-7, "2.5e-07"},
        {1e6, "1e+06"},
        {123456, "123456"},
        {1.0 / 3, "0.3333333333333333"},
        {(double)INFINITY, "+Inf"},
        {-(double)INFINITY, "-Inf"},
        {(double)NAN, "NaN"},
        {1e21, "1e+21"},
        {0.005, "0.005"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        char out_text[32];
        metrics_format_value(cases[i].v, out_text);
        cr_expect_str_eq(out_text, cases[i].text);
    }
}

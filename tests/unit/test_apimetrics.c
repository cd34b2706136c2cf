/* SPDX-License-Identifier: Apache-2.0 */
/* The API request families: names, labels and the daemon's buckets, and
 * one attempt counted by verb, resource and code. */
#include <criterion/criterion.h>
#include <string.h>

#include "base/buf.h"
#include "base/metrics.h"
#include "kube/apimetrics.h"

static struct metrics_registry *reg;

static void setup(void)
{
    cr_assert_eq(metrics_registry_new(&reg), ZL_OK);
}

static void teardown(void)
{
    metrics_registry_free(reg);
}

TestSuite(apimetrics, .init = setup, .fini = teardown);

static const double buckets[] = {0.01, 1};

Test(apimetrics, counts_an_attempt_by_verb_resource_and_code)
{
    struct apimetrics a;
    cr_assert_eq(apimetrics_register(&a, reg, buckets, 2), ZL_OK);
    apimetrics_observe(&a, "GET", "pods", 200, 0.005);
    apimetrics_observe(&a, "GET", "pods", 200, 2);
    apimetrics_observe(&a, "LIST", "services", 0, 0.5);
    const char *ok[] = {"GET", "pods", "200"};
    const char *none[] = {"LIST", "services", "0"};
    double v = 0;
    cr_assert_eq(metrics_value(a.requests, ok, &v), ZL_OK);
    cr_expect_eq(v, 2);
    cr_assert_eq(metrics_value(a.requests, none, &v), ZL_OK);
    cr_expect_eq(v, 1, "a connection error is code 0");
    cr_assert_eq(metrics_value(a.duration, ok, &v), ZL_OK);
    cr_expect_eq(v, 2, "the histogram counts both");
}

Test(apimetrics, renders_the_families_with_the_given_buckets)
{
    struct apimetrics a;
    struct buf out;
    cr_assert_eq(apimetrics_register(&a, reg, buckets, 2), ZL_OK);
    apimetrics_observe(&a, "GET", "pods", 404, 0.005);
    buf_init(&out, 1 << 20);
    cr_assert_eq(metrics_render(reg, &out), ZL_OK);
    static const char *const want[] = {
        "# TYPE zen_lead_api_requests_total counter\n",
        "zen_lead_api_requests_total{verb=\"GET\",resource=\"pods\","
        "code=\"404\"} 1\n",
        "# TYPE zen_lead_api_request_duration_seconds histogram\n",
        "zen_lead_api_request_duration_seconds_bucket{verb=\"GET\","
        "resource=\"pods\",le=\"0.01\"} 1\n",
        "zen_lead_api_request_duration_seconds_bucket{verb=\"GET\","
        "resource=\"pods\",le=\"1\"} 1\n",
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(*want); i++)
        cr_expect(strstr(out.data, want[i]) != NULL, "no %s in\n%s", want[i],
                  out.data);
    cr_expect(strstr(out.data, "le=\"0.001\"") == NULL, "only its buckets");
    buf_cleanup(&out);
}

Test(apimetrics, refuses_a_second_registration)
{
    struct apimetrics a, b;
    cr_assert_eq(apimetrics_register(&a, reg, buckets, 2), ZL_OK);
    cr_expect_eq(apimetrics_register(&b, reg, buckets, 2), ZL_ERR_EXISTS);
}

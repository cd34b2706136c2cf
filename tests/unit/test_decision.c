/* SPDX-License-Identifier: Apache-2.0 */
/* Decision log lines: exact JSON for a change, a loss, an election and an
 * unknown latency; strings escaped. */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <string.h>

#include "controller/decision.h"

static const struct {
    const char *title;
    struct decision_entry e;
    const char *want;
} cases[] = {
    {"failover",
     {1700000000123, "prod", "web", "web-0", "web-1", "notReady", 4.25},
     "{\"ts\":\"2023-11-14T22:13:20.123Z\",\"msg\":\"leader decision\","
     "\"namespace\":\"prod\",\"service\":\"web\",\"old\":\"web-0\",\"new\":"
     "\"web-1\",\"reason\":\"notReady\",\"latency_ms\":4.250}\n"},
    {"loss",
     {1700000000000, "prod", "web", "web-1", NULL, "terminating", 0.5},
     "{\"ts\":\"2023-11-14T22:13:20.000Z\",\"msg\":\"leader decision\","
     "\"namespace\":\"prod\",\"service\":\"web\",\"old\":\"web-1\",\"new\":"
     "\"\",\"reason\":\"terminating\",\"latency_ms\":0.500}\n"},
    {"first election, timed (no event)",
     {1700000000000, "prod", "web", NULL, "web-0", "elected", -1},
     "{\"ts\":\"2023-11-14T22:13:20.000Z\",\"msg\":\"leader decision\","
     "\"namespace\":\"prod\",\"service\":\"web\",\"old\":\"\",\"new\":"
     "\"web-0\",\"reason\":\"elected\",\"latency_ms\":null}\n"},
    {"escaping",
     {0, "n\"s", "a\\b", "x\ny", "", "r", 1},
     "{\"ts\":\"1970-01-01T00:00:00.000Z\",\"msg\":\"leader decision\","
     "\"namespace\":\"n\\\"s\",\"service\":\"a\\\\b\",\"old\":\"x\\ny\","
     "\"new\":\"\",\"reason\":\"r\",\"latency_ms\":1.000}\n"},
};

Test(decision, format)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        struct buf b;
        buf_init(&b, 4096);
        cr_assert_eq(decision_format(&cases[i].e, &b), ZL_OK);
        cr_expect_str_eq(b.data, cases[i].want, "%s", cases[i].title);
        struct json_object *o = json_tokener_parse(b.data);
        cr_expect_not_null(o, "%s: valid JSON", cases[i].title);
        json_object_put(o);
        buf_cleanup(&b);
    }
}

Test(decision, limit)
{
    struct buf b;
    buf_init(&b, 16);
    cr_expect_eq(decision_format(&cases[0].e, &b), ZL_ERR_LIMIT);
    buf_cleanup(&b);
}

/* SPDX-License-Identifier: Apache-2.0 */
/* whpatch: the JSON patch for each webhook of a configuration, its
 * resourceVersion precondition, webhooks that have the bundle already, and
 * objects that are not webhook configurations. */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <string.h>

#include "certs/whpatch.h"

static const struct {
    const char *object;
    enum zl_err want;
    size_t webhooks;
    size_t up_to_date;
    const char *patch;
} CASES[] = {
    {"{\"metadata\":{\"resourceVersion\":\"7\"},\"webhooks\":[{\"name\":\"a\","
     "\"clientConfig\":{\"url\":\"https://x\"}},{\"name\":\"b\","
     "\"clientConfig\":{\"caBundle\":\"T0xE\"}}]}",
     ZL_OK, 2, 0,
     "[{\"op\":\"replace\",\"path\":\"/metadata/resourceVersion\",\"value\":"
     "\"7\"},{\"op\":\"add\",\"path\":\"/webhooks/0/clientConfig/caBundle\","
     "\"value\":\"TkVX\"},{\"op\":\"add\",\"path\":\"/webhooks/1/clientConfig/"
     "caBundle\",\"value\":\"TkVX\"}]"},
    {"{\"metadata\":{\"resourceVersion\":\"9\"},\"webhooks\":[{\"name\":\"a\","
     "\"clientConfig\":{\"caBundle\":\"TkVX\"}}]}",
     ZL_OK, 1, 1,
     "[{\"op\":\"replace\",\"path\":\"/metadata/resourceVersion\",\"value\":"
     "\"9\"},{\"op\":\"add\",\"path\":\"/webhooks/0/clientConfig/caBundle\","
     "\"value\":\"TkVX\"}]"},
    {"{\"metadata\":{\"resourceVersion\":\"3\"},\"webhooks\":[{"
     "\"clientConfig\":{\"caBundle\":null}},{\"clientConfig\":null}]}",
     ZL_OK, 2, 0,
     "[{\"op\":\"replace\",\"path\":\"/metadata/resourceVersion\",\"value\":"
     "\"3\"},{\"op\":\"add\",\"path\":\"/webhooks/0/clientConfig/caBundle\","
     "\"value\":\"TkVX\"},{\"op\":\"add\",\"path\":\"/webhooks/1/clientConfig/"
     "caBundle\",\"value\":\"TkVX\"}]"},
    {"{\"metadata\":{\"resourceVersion\":\"1\"},\"webhooks\":[]}",
     ZL_ERR_INVALID, 0, 0, NULL},
    {"{\"metadata\":{},\"webhooks\":[{}]}", ZL_ERR_PARSE, 0, 0, NULL},
    {"{\"metadata\":{\"resourceVersion\":1},\"webhooks\":[{}]}", ZL_ERR_PARSE,
     0, 0, NULL},
    {"{\"metadata\":{\"resourceVersion\":\"1\"}}", ZL_ERR_PARSE, 0, 0, NULL},
    {"{\"metadata\":{\"resourceVersion\":\"1\"},\"webhooks\":{}}", ZL_ERR_PARSE,
     0, 0, NULL},
    {"{\"metadata\":{\"resourceVersion\":\"1\"},\"webhooks\":[1]}",
     ZL_ERR_PARSE, 1, 0, NULL},
    {"[]", ZL_ERR_PARSE, 0, 0, NULL},
    {"{\"metadata\":", ZL_ERR_PARSE, 0, 0, NULL},
};

Test(whpatch, builds_one_add_per_webhook_behind_the_resource_version)
{
    for (size_t i = 0; i < sizeof(CASES) / sizeof(CASES[0]); i++) {
        struct buf patch;
        struct whpatch_plan plan;
        buf_init(&patch, 1u << 16);
        enum zl_err rc = whpatch_build(CASES[i].object, strlen(CASES[i].object),
                                       "TkVX", &patch, &plan);
        cr_expect_eq(rc, CASES[i].want, "case %zu: %s", i, zl_err_str(rc));
        if (rc == ZL_OK) {
            cr_expect_eq(plan.webhooks, CASES[i].webhooks, "case %zu", i);
            cr_expect_eq(plan.up_to_date, CASES[i].up_to_date, "case %zu", i);
            cr_expect_str_eq(patch.data, CASES[i].patch, "case %zu", i);
            struct json_object *parsed = json_tokener_parse(patch.data);
            cr_expect(json_object_is_type(parsed, json_type_array));
            json_object_put(parsed);
        }
        buf_cleanup(&patch);
    }
}

Test(whpatch, escapes_the_resource_version_and_limits_webhooks)
{
    struct buf patch;
    struct buf obj;
    struct whpatch_plan plan;
    buf_init(&patch, 1u << 20);
    buf_init(&obj, 1u << 20);
    const char *odd = "{\"metadata\":{\"resourceVersion\":\"1\\\"2\"},"
                      "\"webhooks\":[{}]}";
    cr_assert_eq(whpatch_build(odd, strlen(odd), "X", &patch, &plan), ZL_OK);
    cr_expect(strstr(patch.data, "\"value\":\"1\\\"2\"") != NULL, "%s",
              patch.data);
    cr_assert_eq(buf_puts(&obj, "{\"metadata\":{\"resourceVersion\":\"1\"},"
                                "\"webhooks\":["),
                 ZL_OK);
    for (size_t i = 0; i <= WHPATCH_MAX_WEBHOOKS; i++)
        cr_assert_eq(buf_puts(&obj, i == 0 ? "{}" : ",{}"), ZL_OK);
    cr_assert_eq(buf_puts(&obj, "]}"), ZL_OK);
    cr_expect_eq(whpatch_build(obj.data, obj.len, "X", &patch, &plan),
                 ZL_ERR_LIMIT);
    buf_cleanup(&obj);
    buf_cleanup(&patch);
}

/* SPDX-License-Identifier: Apache-2.0 */
/* Audit lines and auditAnnotations: the fields of SPEC section 7, escaped,
 * one line each, from a decision as the rules make it. */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "webhook/audit.h"

Test(audit, renders_every_field_on_one_line)
{
    const char *groups[] = {"system:authenticated", "dev\"s"};
    const char *warnings[] = {"first.", "second\nline."};
    struct audit_record r = {
        .time_ms = 1764590400123, /* 2025-12-01T12:00:00.123Z */
        .webhook = "validate",
        .uid = "u-1",
        .user = "alice",
        .groups = groups,
        .group_count = 2,
        .operation = "UPDATE",
        .kind = "Service",
        .namespace_name = "shop",
        .name = "web",
        .dry_run = true,
        .allowed = false,
        .code = 403,
        .rule = "V1",
        .message = "zen-lead.io/sticky is \"maybe\".",
        .warnings = warnings,
        .warning_count = 2,
        .patch_bytes = 0,
        .latency_us = 1234,
    };
    struct buf b;
    buf_init(&b, 1 << 16);
    cr_assert_eq(audit_render(&r, &b), ZL_OK);
    cr_assert_str_eq(
        b.data,
        "{\"time\":\"2025-12-01T12:00:00.123Z\",\"webhook\":\"validate\","
        "\"uid\":\"u-1\",\"user\":\"alice\",\"groups\":[\"system:"
        "authenticated\",\"dev\\\"s\"],\"operation\":\"UPDATE\",\"kind\":"
        "\"Service\",\"namespace\":\"shop\",\"name\":\"web\",\"dryRun\":true,"
        "\"allowed\":false,\"code\":403,\"rule\":\"V1\",\"message\":"
        "\"zen-lead.io/sticky is \\\"maybe\\\".\",\"warnings\":[\"first.\","
        "\"second\\nline.\"],\"patchBytes\":0,\"latencyMs\":1.234}\n");
    cr_assert_eq(strchr(b.data, '\n'), b.data + b.len - 1);
    buf_cleanup(&b);
}

Test(audit, writes_null_message_and_empty_strings_when_allowed)
{
    struct audit_record r = {.time_ms = 0,
                             .allowed = true,
                             .code = 200,
                             .patch_bytes = 87,
                             .latency_us = -5};
    struct buf b;
    buf_init(&b, 1 << 16);
    cr_assert_eq(audit_render(&r, &b), ZL_OK);
    struct json_object *o = testutil_json(b.data);
    cr_assert_not_null(o, "%s", b.data);
    struct json_object *v;
    cr_assert(json_object_object_get_ex(o, "message", &v) && v == NULL);
    cr_assert(json_object_object_get_ex(o, "time", &v));
    cr_assert_str_eq(json_object_get_string(v), "1970-01-01T00:00:00.000Z");
    cr_assert(json_object_object_get_ex(o, "user", &v));
    cr_assert_str_eq(json_object_get_string(v), "");
    cr_assert(json_object_object_get_ex(o, "patchBytes", &v));
    cr_assert_eq(json_object_get_int(v), 87);
    cr_assert(strstr(b.data, "\"latencyMs\":0.000}") != NULL, "%s", b.data);
    json_object_put(o);
    buf_cleanup(&b);
}

Test(audit, fills_the_record_from_a_request_and_its_decision)
{
    char why[REVIEW_WHY_MAX];
    size_t len;
    char *body = testutil_read("admission/review-service-create.json", &len);
    struct review_request req;
    cr_assert_eq(review_decode(body, len, &req, why), ZL_OK, "%s", why);
    struct admit_decision d;
    struct admit_config cfg = {"controller", ADMIT_NAMED_PORT_REJECT,
                               ADMIT_LOOKUP_ALLOW};
    /* A mutate decision on a canonical Service: allowed, no patch. */
    cr_assert_eq(admit_decide(ADMIT_MUTATE, &req, &cfg, NULL, &d), ZL_OK);
    struct audit_record r;
    audit_record_of(&r, ADMIT_MUTATE, &req, &d, 1000, 2500);
    cr_assert_str_eq(r.webhook, "mutate");
    cr_assert_str_eq(r.uid, "7f0b2c5e-3a91-4d3e-9b0a-58c1f0d2e6a4");
    cr_assert_str_eq(r.user, "kubernetes-admin");
    cr_assert_eq(r.group_count, 2);
    cr_assert_str_eq(r.operation, "CREATE");
    cr_assert_str_eq(r.kind, "Service");
    cr_assert_str_eq(r.namespace_name, "shop");
    cr_assert_str_eq(r.name, "web");
    cr_assert(r.allowed);
    cr_assert_eq(r.code, 200);
    cr_assert_str_eq(r.rule, "");
    cr_assert_null(r.message);
    cr_assert_eq(r.patch_bytes, 0);
    cr_assert_eq(r.latency_us, 2500);
    struct buf b;
    buf_init(&b, 1 << 16);
    cr_assert_eq(audit_render(&r, &b), ZL_OK);
    cr_assert(strstr(b.data, "\"latencyMs\":2.500") != NULL, "%s", b.data);
    buf_cleanup(&b);
    admit_decision_cleanup(&d);
    review_cleanup(&req);
    free(body);
}

Test(audit, annotates_the_uid_and_the_rule_when_one_was_hit)
{
    struct review_audit_annotation a[AUDIT_ANNOTATION_COUNT];
    cr_assert_eq(audit_annotations("u-1", "V4", a), 2);
    cr_assert_str_eq(a[0].key, AUDIT_KEY_UID);
    cr_assert_str_eq(a[0].value, "u-1");
    cr_assert_str_eq(a[1].key, AUDIT_KEY_RULE);
    cr_assert_str_eq(a[1].value, "V4");
    cr_assert(review_audit_key_valid(a[0].key) &&
              review_audit_key_valid(a[1].key));
    cr_assert_eq(audit_annotations("u-1", "", a), 1);
    cr_assert_eq(audit_annotations("u-1", NULL, a), 1);
}

Test(audit, stops_at_the_buffer_limit)
{
    struct audit_record r = {.uid = "u-1"};
    struct buf b;
    buf_init(&b, 64);
    cr_assert_eq(audit_render(&r, &b), ZL_ERR_LIMIT);
    buf_cleanup(&b);
}

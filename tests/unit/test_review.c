/* SPDX-License-Identifier: Apache-2.0 */
/* AdmissionReview decoding, driven by tests/data/admission/decode.json (each
 * case edits the recorded-shape review-*.json or gives a raw body), and the
 * answer encoding: exact texts, base64 patches, warning cleaning and bounds,
 * audit annotation keys. */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "testutil.h"
#include "webhook/review.h"

static struct json_object *load(const char *rel)
{
    struct json_object *obj = testutil_load_json(rel);
    cr_assert_not_null(obj, "%s", rel);
    return obj;
}

static struct json_object *get(struct json_object *o, const char *key)
{
    struct json_object *v = NULL;
    if (o == NULL || !json_object_object_get_ex(o, key, &v))
        return NULL;
    return v;
}

/* The object holding the last segment of a dotted path, and that segment. */
static struct json_object *parent_of(struct json_object *root, const char *path,
                                     char *last, size_t n)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", path);
    char *seg = buf, *dot;
    struct json_object *o = root;
    while ((dot = strchr(seg, '.')) != NULL) {
        *dot = '\0';
        o = get(o, seg);
        cr_assert_not_null(o, "no %s in %s", seg, path);
        seg = dot + 1;
    }
    cr_assert_lt(strlen(seg), n, "path segment too long: %s", path);
    memcpy(last, seg, strlen(seg) + 1);
    return o;
}

static char *body_of(struct json_object *c)
{
    struct json_object *v = get(c, "body");
    if (v != NULL)
        return strdup(json_object_get_string(v));
    char rel[256], last[64];
    v = get(c, "base");
    snprintf(rel, sizeof(rel), "admission/%s",
             v != NULL ? json_object_get_string(v)
                       : "review-service-create.json");
    struct json_object *root = load(rel);
    struct json_object *set = get(c, "set");
    if (set != NULL) {
        json_object_object_foreach(set, key, val)
        {
            struct json_object *p = parent_of(root, key, last, sizeof(last));
            json_object_object_add(p, last,
                                   val != NULL ? json_object_get(val) : NULL);
        }
    }
    struct json_object *del = get(c, "delete");
    for (size_t i = 0; del != NULL && i < json_object_array_length(del); i++) {
        const char *path =
            json_object_get_string(json_object_array_get_idx(del, i));
        json_object_object_del(parent_of(root, path, last, sizeof(last)), last);
    }
    char *text =
        strdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN));
    json_object_put(root);
    return text;
}

static enum zl_err err_named(const char *name)
{
    if (strcmp(name, "PARSE") == 0)
        return ZL_ERR_PARSE;
    if (strcmp(name, "LIMIT") == 0)
        return ZL_ERR_LIMIT;
    cr_assert_str_eq(name, "INVALID");
    return ZL_ERR_INVALID;
}

static void expect_str(const char *name, struct json_object *want,
                       const char *key, const char *got)
{
    struct json_object *v = get(want, key);
    if (v != NULL)
        cr_assert_str_eq(got, json_object_get_string(v), "%s: %s", name, key);
}

static void check_fields(const char *name, struct json_object *want,
                         const struct review_request *r)
{
    expect_str(name, want, "uid", r->uid);
    expect_str(name, want, "operation", review_operation_name(r->operation));
    expect_str(name, want, "kind", r->kind.kind);
    expect_str(name, want, "group", r->kind.group);
    expect_str(name, want, "version", r->kind.version);
    expect_str(name, want, "resource", r->resource.resource);
    expect_str(name, want, "subResource", r->sub_resource);
    expect_str(name, want, "namespace", r->namespace_name);
    expect_str(name, want, "name", r->name);
    expect_str(name, want, "username", r->username);
    struct json_object *v = get(want, "groups");
    if (v != NULL) {
        cr_assert_eq(r->group_count, json_object_array_length(v), "%s", name);
        for (size_t i = 0; i < r->group_count; i++)
            cr_assert_str_eq(
                r->groups[i],
                json_object_get_string(json_object_array_get_idx(v, i)));
    }
    if ((v = get(want, "dryRun")) != NULL)
        cr_assert_eq(r->dry_run, json_object_get_boolean(v), "%s", name);
    if ((v = get(want, "object")) != NULL)
        cr_assert_eq(r->object.text != NULL, json_object_get_boolean(v), "%s",
                     name);
    if ((v = get(want, "oldObject")) != NULL)
        cr_assert_eq(r->old_object.text != NULL, json_object_get_boolean(v),
                     "%s", name);
}

Test(review, decodes_every_case_of_the_table)
{
    struct json_object *cases = load("admission/decode.json");
    size_t n = json_object_array_length(cases);
    cr_assert_gt(n, 40);
    for (size_t i = 0; i < n; i++) {
        struct json_object *c = json_object_array_get_idx(cases, i);
        const char *name = json_object_get_string(get(c, "name"));
        char *body = body_of(c);
        struct review_request r;
        char why[REVIEW_WHY_MAX];
        enum zl_err err = review_decode(body, strlen(body), &r, why);
        struct json_object *want_err = get(c, "err");
        if (want_err != NULL) {
            cr_assert_eq(err, err_named(json_object_get_string(want_err)),
                         "%s: %s (%s)", name, zl_err_str(err), why);
            cr_assert_null(r.mem, "%s", name);
            cr_assert(why[0] != '\0', "%s: no reason", name);
            struct json_object *has = get(c, "whyHas");
            if (has != NULL)
                cr_assert(strstr(why, json_object_get_string(has)) != NULL,
                          "%s: why \"%s\"", name, why);
        } else {
            cr_assert_eq(err, ZL_OK, "%s: %s", name, why);
            check_fields(name, get(c, "expect"), &r);
        }
        review_cleanup(&r);
        free(body);
    }
    json_object_put(cases);
}

Test(review, cleanup_of_nothing_is_a_no_op)
{
    struct review_request r;
    memset(&r, 0, sizeof(r));
    review_cleanup(&r);
    review_cleanup(NULL);
    cr_assert_str_eq(review_operation_name(REVIEW_OP_DELETE), "DELETE");
    cr_assert_str_eq(review_operation_name((enum review_operation)9),
                     "UNKNOWN");
}

static char *encode(const struct review_response *resp, enum zl_err want)
{
    struct buf b;
    buf_init(&b, 1 << 20);
    cr_assert_eq(review_encode(resp, &b), want);
    if (want != ZL_OK) {
        buf_cleanup(&b);
        return NULL;
    }
    struct json_object *parsed = testutil_json(b.data);
    cr_assert_not_null(parsed, "not JSON: %s", b.data);
    json_object_put(parsed);
    return buf_take(&b);
}

#define HEAD                                                                   \
    "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\","    \
    "\"response\":{\"uid\":\"u-1\","

Test(review, encodes_an_allowed_answer_with_nothing_else)
{
    struct review_response r = {.uid = "u-1", .allowed = true};
    char *got = encode(&r, ZL_OK);
    cr_assert_str_eq(got, HEAD "\"allowed\":true}}");
    free(got);
}

Test(review, encodes_a_denial_with_its_status)
{
    struct review_response r = {.uid = "u-1",
                                .code = 403,
                                .message = "Say \"no\".\n",
                                .patch = "[]",
                                .patch_len = 0};
    char *got = encode(&r, ZL_OK);
    cr_assert_str_eq(got, HEAD "\"allowed\":false,\"status\":{\"code\":403,"
                               "\"message\":\"Say \\\"no\\\".\\n\","
                               "\"reason\":\"Forbidden\"}}}");
    free(got);
}

Test(review, forces_a_denial_code_into_the_error_range)
{
    int codes[] = {0, 200, 399, 600, -1};
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        struct review_response r = {.uid = "u-1", .code = codes[i]};
        char *got = encode(&r, ZL_OK);
        cr_assert(strstr(got, "\"code\":400,") != NULL, "%d: %s", codes[i],
                  got);
        cr_assert(strstr(got, "\"reason\":\"BadRequest\"") != NULL, "%s", got);
        free(got);
    }
    struct review_response r = {.uid = "u-1", .code = 503};
    char *got = encode(&r, ZL_OK);
    cr_assert(strstr(got, "\"code\":503,\"message\":\"\",\"reason\":"
                          "\"ServiceUnavailable\"}") != NULL,
              "%s", got);
    free(got);
    r.code = 409;
    got = encode(&r, ZL_OK);
    cr_assert(strstr(got, "\"code\":409,\"message\":\"\"}") != NULL, "%s", got);
    free(got);
}

struct b64_case {
    const char *in;
    size_t len;
    const char *out;
};

Test(review, encodes_the_patch_in_base64_with_its_type)
{
    static const struct b64_case cases[] = {
        {"[{\"op\":\"replace\",\"path\":\"/metadata/annotations/"
         "zen-lead.io~1enabled\",\"value\":\"true\"}]",
         0,
         "W3sib3AiOiJyZXBsYWNlIiwicGF0aCI6Ii9tZXRhZGF0YS9hbm5vdGF0aW9ucy96ZW4t"
         "bGVhZC5pb34xZW5hYmxlZCIsInZhbHVlIjoidHJ1ZSJ9XQ=="},
        {"a", 0, "YQ=="},
        {"ab", 0, "YWI="},
        {"abc", 0, "YWJj"},
        {"\xff\x00\x10", 3, "/wAQ"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t len = cases[i].len ? cases[i].len : strlen(cases[i].in);
        struct review_response r = {.uid = "u-1",
                                    .allowed = true,
                                    .patch = cases[i].in,
                                    .patch_len = len};
        char want[512];
        snprintf(want, sizeof(want),
                 HEAD "\"allowed\":true,\"patchType\":\"JSONPatch\","
                      "\"patch\":\"%s\"}}",
                 cases[i].out);
        char *got = encode(&r, ZL_OK);
        cr_assert_str_eq(got, want);
        free(got);
    }
}

Test(review, encodes_audit_annotations_and_refuses_invalid_keys)
{
    struct review_audit_annotation ok[] = {{"request-uid", "u-1"},
                                           {"rule", "V5"}};
    struct review_response r = {
        .uid = "u-1", .allowed = true, .audit = ok, .audit_count = 2};
    char *got = encode(&r, ZL_OK);
    cr_assert_str_eq(got, HEAD "\"allowed\":true,\"auditAnnotations\":{"
                               "\"request-uid\":\"u-1\",\"rule\":\"V5\"}}}");
    free(got);
    const char *bad[] = {"zen-lead.io/rule",
                         "",
                         "-rule",
                         "rule-",
                         "a b",
                         "rule\n",
                         ("a234567890123456789012345678901234567890123456789012"
                          "345678901234")};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct review_audit_annotation one = {bad[i], "x"};
        r.audit = &one;
        r.audit_count = 1;
        encode(&r, ZL_ERR_INVALID);
        cr_assert_not(review_audit_key_valid(bad[i]), "%s", bad[i]);
    }
    cr_assert(review_audit_key_valid("a"));
    cr_assert(review_audit_key_valid("a_b.c-D9"));
    cr_assert(review_audit_key_valid(
        "a23456789012345678901234567890123456789012345678901234567890123"));
    cr_assert_not(review_audit_key_valid(NULL));
}

Test(review, refuses_to_answer_with_a_uid_it_would_not_accept)
{
    const char *bad[] = {NULL, "", "a b", "tab\t", "caf\xc3\xa9"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct review_response r = {.uid = bad[i], .allowed = true};
        encode(&r, ZL_ERR_INVALID);
    }
    struct review_response r = {.uid = "u-1", .allowed = true, .patch_len = 3};
    encode(&r, ZL_ERR_INVALID);
}

Test(review, stops_at_the_buffer_limit)
{
    struct buf b;
    struct review_response r = {.uid = "u-1", .allowed = true};
    buf_init(&b, 40);
    cr_assert_eq(review_encode(&r, &b), ZL_ERR_LIMIT);
    buf_cleanup(&b);
}

struct clean_case {
    const char *in;
    const char *out;
};

Test(review, cleans_a_warning_as_the_api_server_keeps_it)
{
    static const struct clean_case cases[] = {
        {"plain text.", "plain text."},
        {"line\none\ttab\r", "line one tab "},
        {"del\x7f", "del "},
        {"c1 \xc2\x85 next line", "c1   next line"},
        {"bad \xff byte", "bad ? byte"},
        {"overlong \xc0\xaf", "overlong ??"},
        {"surrogate \xed\xa0\x80", "surrogate ???"},
        {"cut \xe2\x82", "cut ??"},
        {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
         "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"},
        {"", ""},
    };
    char out[REVIEW_WARNING_MAX + 1];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t n = review_clean_warning(cases[i].in, out);
        cr_assert_str_eq(out, cases[i].out, "case %zu", i);
        cr_assert_eq(n, strlen(out));
    }
}

Test(review, cuts_a_long_warning_at_a_character_boundary)
{
    char in[600], out[REVIEW_WARNING_MAX + 1];
    /* 'a' then two-byte characters: the cut must not split one. */
    in[0] = 'a';
    for (size_t i = 1; i + 2 < sizeof(in); i += 2) {
        in[i] = (char)0xc3;
        in[i + 1] = (char)0xa9;
        in[i + 2] = '\0';
    }
    size_t n = review_clean_warning(in, out);
    cr_assert_leq(n, REVIEW_WARNING_MAX);
    cr_assert_eq(memcmp(out + n - 3, "...", 3), 0);
    cr_assert_eq(n, 1 + 126 * 2 + 3);
    memset(in, 'x', REVIEW_WARNING_MAX);
    in[REVIEW_WARNING_MAX] = '\0';
    cr_assert_eq(review_clean_warning(in, out), REVIEW_WARNING_MAX);
    cr_assert_str_eq(out, in, "exactly the limit is kept whole");
    in[REVIEW_WARNING_MAX] = 'x';
    in[REVIEW_WARNING_MAX + 1] = '\0';
    cr_assert_eq(review_clean_warning(in, out), REVIEW_WARNING_MAX);
    cr_assert_eq(memcmp(out + REVIEW_WARNING_MAX - 3, "...", 3), 0);
}

Test(review, drops_empty_and_duplicate_warnings_and_bounds_the_total)
{
    const char *few[] = {"one.", "", "one.", "two\n.", "two ."};
    struct review_response r = {
        .uid = "u-1", .allowed = true, .warnings = few, .warning_count = 5};
    char *got = encode(&r, ZL_OK);
    cr_assert_str_eq(got, HEAD "\"allowed\":true,\"warnings\":[\"one.\","
                               "\"two .\"]}}");
    free(got);

    enum { MANY = 40 };
    static char texts[MANY][300];
    const char *many[MANY];
    for (size_t i = 0; i < MANY; i++) {
        memset(texts[i], 'w', 299);
        texts[i][299] = '\0';
        snprintf(texts[i], 8, "%03zu", i);
        texts[i][3] = ' ';
        many[i] = texts[i];
    }
    r.warnings = many;
    r.warning_count = MANY;
    got = encode(&r, ZL_OK);
    struct json_object *root = testutil_json(got);
    struct json_object *resp, *w;
    cr_assert(json_object_object_get_ex(root, "response", &resp));
    cr_assert(json_object_object_get_ex(resp, "warnings", &w));
    size_t total = 0, n = json_object_array_length(w);
    for (size_t i = 0; i < n; i++) {
        size_t len =
            strlen(json_object_get_string(json_object_array_get_idx(w, i)));
        cr_assert_leq(len, REVIEW_WARNING_MAX);
        total += len + REVIEW_WARNING_OVERHEAD;
    }
    cr_assert_leq(total, REVIEW_WARNINGS_TOTAL);
    cr_assert_eq(n, REVIEW_WARNINGS_TOTAL /
                        (REVIEW_WARNING_MAX + REVIEW_WARNING_OVERHEAD));
    json_object_put(root);
    free(got);
}

Test(review, answers_a_decoded_request_with_its_uid)
{
    struct review_request req;
    char why[REVIEW_WHY_MAX];
    size_t len;
    char *body = testutil_read("admission/review-service-create.json", &len);
    cr_assert_eq(review_decode(body, len, &req, why), ZL_OK, "%s", why);
    struct review_response r = {.uid = req.uid, .allowed = true};
    char *got = encode(&r, ZL_OK);
    cr_assert(strstr(got, "\"uid\":\"7f0b2c5e-3a91-4d3e-9b0a-58c1f0d2e6a4\"") !=
              NULL);
    free(got);
    review_cleanup(&req);
    free(body);
}

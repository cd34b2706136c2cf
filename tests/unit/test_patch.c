/* SPDX-License-Identifier: Apache-2.0 */
/* JSONPatch text: RFC 6901 escaping of keys, the operations for annotation
 * changes, the empty patch and the size bound. */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "webhook/patch.h"

struct escape_case {
    const char *in;
    const char *out;
};

Test(patch, escapes_reference_tokens_as_rfc6901_says)
{
    static const struct escape_case cases[] = {
        {"zen-lead.io/enabled", "zen-lead.io~1enabled"},
        {"a~b", "a~0b"},
        {"~/", "~0~1"},
        {"/~1", "~1~01"},
        {"plain", "plain"},
        {"", ""},
        {"k\"\\", "k\"\\"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct buf b;
        buf_init(&b, 1024);
        cr_assert_eq(patch_escape_token(&b, cases[i].in), ZL_OK);
        cr_assert_str_eq(b.data != NULL ? b.data : "", cases[i].out);
        buf_cleanup(&b);
    }
}

Test(patch, an_empty_patch_is_no_text)
{
    struct patch p;
    size_t len = 99;
    patch_init(&p);
    cr_assert_str_eq(patch_text(&p, &len), "");
    cr_assert_eq(len, 0);
    patch_cleanup(&p);
    patch_cleanup(NULL);
}

Test(patch, builds_the_operations_in_order)
{
    struct patch p;
    size_t len;
    patch_init(&p);
    cr_assert_eq(patch_annotations_object(&p), ZL_OK);
    cr_assert_eq(
        patch_annotation(&p, PATCH_OP_ADD, "zen-lead.io/enabled", "true"),
        ZL_OK);
    cr_assert_eq(patch_annotation(&p, PATCH_OP_REPLACE, "a~b/c", "say \"hi\""),
                 ZL_OK);
    cr_assert_eq(patch_annotation(&p, PATCH_OP_REMOVE, "gone", NULL), ZL_OK);
    const char *text = patch_text(&p, &len);
    cr_assert_str_eq(
        text,
        "[{\"op\":\"add\",\"path\":\"/metadata/annotations\",\"value\":{}},"
        "{\"op\":\"add\",\"path\":\"/metadata/annotations/"
        "zen-lead.io~1enabled\","
        "\"value\":\"true\"},"
        "{\"op\":\"replace\",\"path\":\"/metadata/annotations/a~0b~1c\","
        "\"value\":\"say \\\"hi\\\"\"},"
        "{\"op\":\"remove\",\"path\":\"/metadata/annotations/gone\"}]");
    cr_assert_eq(len, strlen(text));
    cr_assert_eq(p.op_count, 4);
    struct json_object *parsed = testutil_json(text);
    cr_assert_not_null(parsed);
    cr_assert_eq(json_object_array_length(parsed), 4);
    json_object_put(parsed);
    patch_cleanup(&p);
}

Test(patch, refuses_operations_without_a_key_or_value)
{
    struct patch p;
    size_t len;
    patch_init(&p);
    cr_assert_eq(patch_annotation(&p, PATCH_OP_ADD, "", "x"), ZL_ERR_INVALID);
    cr_assert_eq(patch_annotation(&p, PATCH_OP_ADD, NULL, "x"), ZL_ERR_INVALID);
    cr_assert_eq(patch_annotation(&p, PATCH_OP_REPLACE, "k", NULL),
                 ZL_ERR_INVALID);
    cr_assert_eq(patch_annotation(&p, (enum patch_op)7, "k", "v"),
                 ZL_ERR_INVALID);
    patch_text(&p, &len);
    cr_assert_eq(len, 0);
    patch_cleanup(&p);
}

Test(patch, stays_whole_at_the_size_bound)
{
    struct patch p;
    size_t len, before;
    char *big = malloc(PATCH_MAX_TEXT / 3);
    cr_assert_not_null(big);
    memset(big, 'v', PATCH_MAX_TEXT / 3 - 1);
    big[PATCH_MAX_TEXT / 3 - 1] = '\0';
    patch_init(&p);
    cr_assert_eq(patch_annotation(&p, PATCH_OP_ADD, "a", big), ZL_OK);
    cr_assert_eq(patch_annotation(&p, PATCH_OP_ADD, "b", big), ZL_OK);
    patch_text(&p, &before);
    cr_assert_eq(patch_annotation(&p, PATCH_OP_ADD, "c", big), ZL_ERR_LIMIT);
    const char *text = patch_text(&p, &len);
    cr_assert_eq(len, before);
    cr_assert_eq(p.op_count, 2);
    struct json_object *parsed = testutil_json(text);
    cr_assert_not_null(parsed, "the patch is still valid JSON");
    json_object_put(parsed);
    patch_cleanup(&p);
    free(big);
}

/* SPDX-License-Identifier: Apache-2.0 */
/* The one JSON parser entry point: what it accepts, what it refuses and
 * with which error, including the depth and size limits. */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"

struct json_case {
    const char *text;
    enum zl_err err;
};

/* json-c's strict mode still takes single-quoted strings and NaN; the API
 * server never sends them, so they are not listed either way. */
static const struct json_case cases[] = {
    {"{}", ZL_OK},
    {" {\"a\":1} \n", ZL_OK},
    {"{\"a\":[1,2,{\"b\":null}],\"c\":\"\\u00e9\"}", ZL_OK},
    {"{\"a\":1}\r\n\t ", ZL_OK},
    {"", ZL_ERR_PARSE},
    {"   ", ZL_ERR_PARSE},
    {"null", ZL_ERR_PARSE},
    {"[1,2]", ZL_ERR_PARSE},
    {"\"text\"", ZL_ERR_PARSE},
    {"42", ZL_ERR_PARSE},
    {"{\"a\":1} {}", ZL_ERR_PARSE},
    {"{\"a\":1}x", ZL_ERR_PARSE},
    {"{\"a\":1,}", ZL_ERR_PARSE},
    {"{\"a\":1 /* c */}", ZL_ERR_PARSE},
    {"{\"a\":tru}", ZL_ERR_PARSE},
    {"{\"a\":", ZL_ERR_PARSE},
};

Test(json, parses_one_strict_object)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        struct json_object *obj = (struct json_object *)1;
        enum zl_err err =
            json_parse_object(cases[i].text, strlen(cases[i].text), &obj);
        cr_expect_eq(err, cases[i].err, "%s: %d", cases[i].text, err);
        if (err == ZL_OK)
            cr_expect(json_object_is_type(obj, json_type_object));
        else
            cr_expect_null(obj, "%s", cases[i].text);
        json_object_put(err == ZL_OK ? obj : NULL);
    }
}

Test(json, check_value_takes_any_type_under_the_same_rules)
{
    static const struct json_case values[] = {
        {"null", ZL_OK},         {" [1, {\"a\": true}] ", ZL_OK},
        {"\"text\"", ZL_OK},     {"-1.5e3", ZL_OK},
        {"[1 2]", ZL_ERR_PARSE}, {"tru", ZL_ERR_PARSE},
        {"1 x", ZL_ERR_PARSE},   {"", ZL_ERR_PARSE},
    };
    for (size_t i = 0; i < sizeof(values) / sizeof(*values); i++)
        cr_expect_eq(json_check_value(values[i].text, strlen(values[i].text)),
                     values[i].err, "%s", values[i].text);
}

Test(json, refuses_nul_bytes)
{
    const char text[] = "{\"a\":1}\0 ";
    struct json_object *obj = NULL;
    cr_assert_eq(json_parse_object(text, sizeof(text) - 1, &obj), ZL_ERR_PARSE);
    const char inner[] = "{\"a\":\"x\0y\"}";
    cr_assert_eq(json_parse_object(inner, sizeof(inner) - 1, &obj),
                 ZL_ERR_PARSE);
    cr_assert_null(obj);
}

/* n levels of {"a": ... } around an empty object. */
static char *nested(int n)
{
    size_t len = (size_t)n * 6 + 3;
    char *s = malloc(len);
    cr_assert_not_null(s);
    size_t p = 0;
    for (int i = 0; i < n; i++) {
        memcpy(s + p, "{\"a\":", 5);
        p += 5;
    }
    memcpy(s + p, "{}", 2);
    p += 2;
    memset(s + p, '}', (size_t)n);
    s[p + (size_t)n] = '\0';
    return s;
}

Test(json, depth_limit_is_json_max_depth)
{
    char *ok = nested(JSON_MAX_DEPTH - 1);
    char *deep = nested(JSON_MAX_DEPTH);
    struct json_object *obj = NULL;
    cr_expect_eq(json_parse_object(ok, strlen(ok), &obj), ZL_OK);
    json_object_put(obj);
    cr_expect_eq(json_parse_object(deep, strlen(deep), &obj), ZL_ERR_LIMIT);
    cr_expect_null(obj);
    free(ok);
    free(deep);
}

Test(json, size_limit_is_checked_before_parsing)
{
    struct json_object *obj = NULL;
    /* Only the length is read before the limit check. */
    cr_assert_eq(json_parse_object("{}", JSON_MAX_TEXT + 1, &obj),
                 ZL_ERR_LIMIT);
    cr_assert_null(obj);
}

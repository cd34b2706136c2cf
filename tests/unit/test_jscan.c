/* SPDX-License-Identifier: Apache-2.0 */
/* base/jscan: the grammar (what a whole-text skip accepts, against
 * json_check_value), the readers, string decoding and jscan_collect. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/jscan.h"
#include "base/json.h"

/* Skips one value and checks that nothing follows. */
static enum zl_err scan_all(const char *text, size_t len)
{
    struct jscan s;
    jscan_init(&s, text, len);
    if (jscan_skip(&s))
        jscan_finish(&s);
    return jscan_error(&s);
}

struct grammar_case {
    const char *text;
    enum zl_err want;
    bool json_c_accepts; /* json_check_value's answer, where it differs */
};

static const struct grammar_case grammar[] = {
    {"{}", ZL_OK, true},
    {" \t\r\n{ } \n", ZL_OK, true},
    {"[]", ZL_OK, true},
    {"0", ZL_OK, true},
    {"-0", ZL_OK, true},
    {"-12.5e+3", ZL_OK, true},
    {"1E-2", ZL_OK, true},
    {"true", ZL_OK, true},
    {"false", ZL_OK, true},
    {"null", ZL_OK, true},
    {"\"a\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\uD83D\\uDE00\"", ZL_OK, true},
    {"{\"a\":[1,{\"b\":null},\"c\"],\"d\":{}}", ZL_OK, true},
    {"{\"a\":1,\"a\":2}", ZL_OK, true},
    {"", ZL_ERR_PARSE, false},
    {"   ", ZL_ERR_PARSE, false},
    {"{", ZL_ERR_PARSE, false},
    {"{\"a\"}", ZL_ERR_PARSE, false},
    {"{\"a\":}", ZL_ERR_PARSE, false},
    {"{\"a\":1,}", ZL_ERR_PARSE, false},
    {"[1,]", ZL_ERR_PARSE, false},
    {"[,1]", ZL_ERR_PARSE, false},
    {"[1 2]", ZL_ERR_PARSE, false},
    {"{a:1}", ZL_ERR_PARSE, false},
    {"{\"a\":1}}", ZL_ERR_PARSE, false},
    {"{} {}", ZL_ERR_PARSE, false},
    {"01", ZL_ERR_PARSE, false},
    {"-", ZL_ERR_PARSE, false},
    {"1e", ZL_ERR_PARSE, false},
    {"1e+", ZL_ERR_PARSE, false},
    {".5", ZL_ERR_PARSE, false},
    {"+1", ZL_ERR_PARSE, false},
    {"True", ZL_ERR_PARSE, false},
    {"nul", ZL_ERR_PARSE, false},
    {"tru", ZL_ERR_PARSE, false},
    {"\"abc", ZL_ERR_PARSE, false},
    {"\"\\x\"", ZL_ERR_PARSE, false},
    {"\"\\u12\"", ZL_ERR_PARSE, false},
    {"\"\\u12g4\"", ZL_ERR_PARSE, false},
    {"\"a\\", ZL_ERR_PARSE, false},
    {"/* c */ {}", ZL_ERR_PARSE, false},
    {"\xef\xbb\xbf{}", ZL_ERR_PARSE, false},
    /* Stricter than json-c (even in its strict mode), by design. */
    {"1.", ZL_ERR_PARSE, true},
    {"1.e5", ZL_ERR_PARSE, true},
    {"NaN", ZL_ERR_PARSE, true},
    {"{'a':1}", ZL_ERR_PARSE, true},
    {"\"a\tb\"", ZL_ERR_PARSE, true},
    {"\"a\x01\"", ZL_ERR_PARSE, true},
};

Test(jscan, grammar_table_and_json_c_agree_where_they_should)
{
    for (size_t i = 0; i < sizeof(grammar) / sizeof(grammar[0]); i++) {
        const struct grammar_case *c = &grammar[i];
        size_t len = strlen(c->text);
        cr_expect_eq(scan_all(c->text, len), c->want, "%s", c->text);
        bool jc = json_check_value(c->text, len) == ZL_OK;
        cr_expect_eq(jc, c->json_c_accepts, "json-c on %s", c->text);
    }
}

Test(jscan, nul_bytes_are_refused_outside_escapes)
{
    static const char in_string[] = "\"a\0b\"";
    static const char after[] = "{}\0";
    cr_expect_eq(scan_all(in_string, sizeof(in_string) - 1), ZL_ERR_PARSE);
    cr_expect_eq(scan_all(after, sizeof(after) - 1), ZL_ERR_PARSE);
    cr_expect_eq(scan_all("\"a\\u0000b\"", 10), ZL_OK);
}

Test(jscan, nesting_is_bounded_like_json_c)
{
    char text[2 * (JSON_MAX_DEPTH + 2)];
    for (int depth = JSON_MAX_DEPTH - 1; depth <= JSON_MAX_DEPTH + 1; depth++) {
        size_t n = 0;
        for (int i = 0; i < depth; i++)
            text[n++] = '[';
        for (int i = 0; i < depth; i++)
            text[n++] = ']';
        enum zl_err want = depth > JSON_MAX_DEPTH ? ZL_ERR_LIMIT : ZL_OK;
        cr_expect_eq(scan_all(text, n), want, "depth %d", depth);
        cr_expect_eq(json_check_value(text, n), want, "json-c depth %d", depth);
    }
}

Test(jscan, no_text_is_an_empty_text)
{
    struct jscan s;
    jscan_init(&s, NULL, 0);
    cr_expect_eq(jscan_peek(&s), JSCAN_ERROR);
    cr_expect_not(jscan_skip(&s));
    cr_expect_eq(jscan_error(&s), ZL_ERR_PARSE);
}

Test(jscan, text_past_the_size_limit_fails_at_once)
{
    struct jscan s;
    jscan_init(&s, "{}", JSON_MAX_TEXT + 1);
    cr_expect_eq(jscan_error(&s), ZL_ERR_LIMIT);
    cr_expect_eq(jscan_peek(&s), JSCAN_ERROR);
    cr_expect_not(jscan_skip(&s));
}

struct int_case {
    const char *text;
    bool ok;
    int64_t want;
};

static const struct int_case ints[] = {
    {"0", true, 0},
    {"-0", true, 0},
    {"8080", true, 8080},
    {"-42", true, -42},
    {"9223372036854775807", true, INT64_MAX},
    {"-9223372036854775808", true, INT64_MIN},
    {"9223372036854775808", false, 0},
    {"-9223372036854775809", false, 0},
    {"99999999999999999999", false, 0},
    {"1.0", false, 0},
    {"1e2", false, 0},
    {"\"1\"", false, 0},
    {"true", false, 0},
};

Test(jscan, int64_reads_integers_within_range_only)
{
    for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
        struct jscan s;
        int64_t v = -1;
        jscan_init(&s, ints[i].text, strlen(ints[i].text));
        bool ok = jscan_int64(&s, &v);
        cr_expect_eq(ok, ints[i].ok, "%s", ints[i].text);
        if (ok)
            cr_expect_eq(v, ints[i].want, "%s", ints[i].text);
        else
            cr_expect_eq(jscan_error(&s), ZL_ERR_PARSE, "%s", ints[i].text);
    }
}

struct decode_case {
    const char *text; /* a JSON string */
    const char *want;
    size_t want_len;
};

static const struct decode_case decodes[] = {
    {"\"plain\"", "plain", 5},
    {"\"\"", "", 0},
    {"\"a\\\"b\\\\c\\/d\"", "a\"b\\c/d", 7},
    {"\"\\b\\f\\n\\r\\t\"", "\b\f\n\r\t", 5},
    {"\"\\u0041\\u00e9\\u20AC\"", "A\xc3\xa9\xe2\x82\xac", 6},
    {"\"\\ud83d\\ude00\"", "\xf0\x9f\x98\x80", 4},
    {"\"\\ud800x\"", "\xef\xbf\xbdx", 4},
    {"\"\\udc00\"", "\xef\xbf\xbd", 3},
    {"\"\\ud800\\u0041\"",
     "\xef\xbf\xbd"
     "A",
     4},
    {"\"\\ud800\\ud800\\udc00\"", "\xef\xbf\xbd\xf0\x90\x80\x80", 7},
    {"\"a\\u0000b\"", "a\0b", 3},
    {"\"caf\xc3\xa9\"", "caf\xc3\xa9", 5},
};

Test(jscan, strings_decode_like_json_c)
{
    for (size_t i = 0; i < sizeof(decodes) / sizeof(decodes[0]); i++) {
        const struct decode_case *c = &decodes[i];
        struct jscan s;
        struct jscan_str str;
        char out[64];
        jscan_init(&s, c->text, strlen(c->text));
        cr_assert(jscan_string(&s, &str), "%s", c->text);
        size_t n = jscan_decode(&str, out);
        cr_expect_leq(n, str.len, "%s", c->text);
        cr_expect_eq(n, c->want_len, "%s", c->text);
        cr_expect_eq(memcmp(out, c->want, n), 0, "%s", c->text);
        cr_expect_eq(out[n], '\0');
        if (memchr(c->want, '\0', c->want_len) == NULL)
            cr_expect(jscan_str_is(&str, c->want), "%s", c->text);
    }
}

Test(jscan, str_is_compares_decoded_text_exactly)
{
    struct jscan s;
    struct jscan_str str;
    const char *text = "\"\\u0061pi\\u0056ersion\"";
    jscan_init(&s, text, strlen(text));
    cr_assert(jscan_string(&s, &str));
    cr_expect(jscan_str_is(&str, "apiVersion"));
    cr_expect_not(jscan_str_is(&str, "apiVersio"));
    cr_expect_not(jscan_str_is(&str, "apiVersionX"));
    jscan_init(&s, "\"a\\u0000\"", 9);
    cr_assert(jscan_string(&s, &str));
    cr_expect_not(jscan_str_is(&str, "a"));
}

Test(jscan, readers_walk_objects_and_arrays)
{
    const char *text =
        "{\"n\":-7,\"b\":true,\"z\":null,\"a\":[\"x\",{}],\"s\":\"v\"}";
    struct jscan s;
    struct jscan_str key, str;
    int64_t n = 0;
    bool b = false;
    size_t items = 0;
    jscan_init(&s, text, strlen(text));
    cr_assert(jscan_object(&s));
    cr_assert(jscan_member(&s, &key) && jscan_str_is(&key, "n"));
    cr_assert(jscan_int64(&s, &n) && n == -7);
    cr_assert(jscan_member(&s, &key) && jscan_str_is(&key, "b"));
    cr_assert(jscan_bool(&s, &b) && b);
    cr_assert(jscan_member(&s, &key) && jscan_str_is(&key, "z"));
    cr_assert_eq(jscan_peek(&s), JSCAN_NULL);
    cr_assert(jscan_null(&s));
    cr_assert(jscan_member(&s, &key) && jscan_str_is(&key, "a"));
    cr_assert(jscan_array(&s));
    for (; jscan_item(&s); items++)
        cr_assert(jscan_skip(&s));
    cr_expect_eq(items, 2);
    cr_assert(jscan_member(&s, &key) && jscan_str_is(&key, "s"));
    cr_assert(jscan_string(&s, &str) && str.len == 1 && !str.escaped);
    cr_expect_not(jscan_member(&s, &key));
    cr_expect(jscan_finish(&s));
    cr_expect_eq(jscan_error(&s), ZL_OK);
}

Test(jscan, a_reader_of_the_wrong_type_fails_and_stays_failed)
{
    struct jscan s;
    bool b;
    jscan_init(&s, "[1]", 3);
    cr_expect_not(jscan_bool(&s, &b));
    cr_expect_eq(jscan_error(&s), ZL_ERR_PARSE);
    cr_expect_not(jscan_array(&s));
    cr_expect_eq(jscan_peek(&s), JSCAN_ERROR);
}

enum { C_A = 0, C_B, C_BX, C_BY, C_COUNT };

static const struct jscan_field collect_fields[C_COUNT] = {
    [C_A] = {"a", JSCAN_TOP},
    [C_B] = {"b", JSCAN_TOP},
    [C_BX] = {"x", C_B},
    [C_BY] = {"y", C_B},
};

static bool collect(const char *text, struct jscan_value v[C_COUNT])
{
    struct jscan s;
    memset(v, 0, C_COUNT * sizeof(*v));
    jscan_init(&s, text, strlen(text));
    return jscan_collect(&s, collect_fields, C_COUNT, v) && jscan_finish(&s);
}

static bool value_is(const struct jscan_value *v, const char *text)
{
    return v->len == strlen(text) && memcmp(v->start, text, v->len) == 0;
}

Test(jscan, collect_keeps_the_last_value_and_forgets_replaced_children)
{
    struct jscan_value v[C_COUNT];
    cr_assert(
        collect("{\"a\":1,\"q\":{\"x\":9},\"b\":{\"x\":\"1\",\"y\":[2]}}", v));
    cr_expect(v[C_A].type == JSCAN_NUMBER && value_is(&v[C_A], "1"));
    cr_expect(v[C_B].type == JSCAN_OBJECT);
    cr_expect(v[C_BX].type == JSCAN_STRING && value_is(&v[C_BX], "\"1\""));
    cr_expect(v[C_BY].type == JSCAN_ARRAY && value_is(&v[C_BY], "[2]"));
    cr_assert(collect(
        "{\"b\":{\"x\":1,\"y\":2},\"a\":3,\"b\":{\"y\":4},\"a\":5}", v));
    cr_expect(value_is(&v[C_A], "5"));
    cr_expect_eq(v[C_BX].type, JSCAN_ERROR, "x of the replaced b is gone");
    cr_expect(value_is(&v[C_BY], "4"));
    cr_assert(collect("{\"b\":[1],\"a\":null}", v));
    cr_expect_eq(v[C_B].type, JSCAN_ARRAY);
    cr_expect_eq(v[C_A].type, JSCAN_NULL);
    cr_assert(collect("{\"a\":\"x\\\"y\" ,\"b\":{\"x\":\"\"}}", v));
    struct jscan_str str;
    cr_assert(jscan_value_str(&v[C_A], &str));
    cr_expect(str.len == 4 && str.escaped && memcmp(str.raw, "x\\\"y", 4) == 0);
    cr_assert(jscan_value_str(&v[C_BX], &str));
    cr_expect(str.len == 0 && !str.escaped);
    cr_expect_not(jscan_value_str(&v[C_B], &str));
    cr_expect_not(collect("{\"a\":1,\"z\":[}", v));
    cr_expect_not(collect("[]", v));
}

/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: arbitrary bytes through base/jscan. What the scanner
 * accepts, json-c must accept too (it is the stricter of the two); every
 * string it hands out decodes within its raw length; jscan_collect
 * accepts exactly what a plain skip accepts for an object. */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/jscan.h"
#include "base/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Walks one value, decoding every key and string on the way. */
static bool walk(struct jscan *s, char *scratch)
{
    struct jscan_str str;
    int64_t n;
    bool b;
    switch (jscan_peek(s)) {
    case JSCAN_OBJECT:
        if (!jscan_object(s))
            return false;
        while (jscan_member(s, &str)) {
            assert(jscan_decode(&str, scratch) <= str.len);
            if (!walk(s, scratch))
                return false;
        }
        return jscan_error(s) == ZL_OK;
    case JSCAN_ARRAY:
        if (!jscan_array(s))
            return false;
        while (jscan_item(s))
            if (!walk(s, scratch))
                return false;
        return jscan_error(s) == ZL_OK;
    case JSCAN_STRING:
        if (!jscan_string(s, &str))
            return false;
        assert(jscan_decode(&str, scratch) <= str.len);
        return true;
    case JSCAN_NUMBER: {
        struct jscan copy = *s;
        if (jscan_int64(&copy, &n)) {
            *s = copy;
            return true;
        }
        return jscan_skip(s);
    }
    case JSCAN_BOOL:
        return jscan_bool(s, &b);
    case JSCAN_NULL:
        return jscan_null(s);
    default:
        return jscan_skip(s);
    }
}

static const struct jscan_field fields[] = {
    {"metadata", JSCAN_TOP}, {"name", 0},  {"labels", 0},
    {"spec", JSCAN_TOP},     {"ports", 3},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    char *scratch = malloc(size + 1);
    struct jscan s, t;
    assert(scratch != NULL);
    jscan_init(&s, text, size);
    if (walk(&s, scratch))
        jscan_finish(&s);
    enum zl_err err = jscan_error(&s);
    assert(err == ZL_OK || err == ZL_ERR_PARSE || err == ZL_ERR_LIMIT);
    if (err == ZL_OK)
        assert(json_check_value(text, size) == ZL_OK);
    jscan_init(&t, text, size);
    if (jscan_peek(&t) == JSCAN_OBJECT) {
        struct jscan_value v[sizeof(fields) / sizeof(fields[0])] = {0};
        if (jscan_collect(&t, fields, sizeof(fields) / sizeof(fields[0]), v))
            jscan_finish(&t);
        assert(jscan_error(&t) == err);
        for (size_t i = 0; err == ZL_OK && i < sizeof(v) / sizeof(v[0]); i++)
            assert(
                v[i].type == JSCAN_ERROR ||
                (v[i].start >= text && v[i].start + v[i].len <= text + size));
    }
    free(scratch);
    return 0;
}

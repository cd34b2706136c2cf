/* SPDX-License-Identifier: Apache-2.0 */
/* List page splitting by a structural scan: strings (with their escapes)
 * and bracket depth are tracked so every item's extent is found; the text
 * of each item and of the metadata is then parsed strictly by json-c. */
#include "kube/listpage.h"

#include <ctype.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <string.h>

#include "base/json.h"

struct lp_scan {
    const char *p;
    const char *end;
};

static void lp_ws(struct lp_scan *s)
{
    while (s->p < s->end &&
           (*s->p == ' ' || *s->p == '\t' || *s->p == '\r' || *s->p == '\n'))
        s->p++;
}

static bool lp_peek(struct lp_scan *s, char c)
{
    lp_ws(s);
    return s->p < s->end && *s->p == c;
}

static bool lp_eat(struct lp_scan *s, char c)
{
    if (!lp_peek(s, c))
        return false;
    s->p++;
    return true;
}

/* Skips the escape whose backslash is at s->p, leaving s->p on its last
 * character: one of "\\/bfnrt, or u and four hex digits (RFC 8259). */
static bool lp_escape(struct lp_scan *s)
{
    if (++s->p == s->end || strchr("\"\\/bfnrtu", *s->p) == NULL ||
        *s->p == '\0')
        return false;
    if (*s->p != 'u')
        return true;
    for (int i = 0; i < 4; i++) {
        if (++s->p == s->end || !isxdigit((unsigned char)*s->p))
            return false;
    }
    return true;
}

/* Skips a string whose opening quote is at s->p. */
static enum zl_err lp_string(struct lp_scan *s)
{
    for (s->p++; s->p < s->end; s->p++) {
        unsigned char c = (unsigned char)*s->p;
        if (c == '"') {
            s->p++;
            return ZL_OK;
        }
        if (c < 0x20 || (c == '\\' && !lp_escape(s)))
            return ZL_ERR_PARSE;
    }
    return ZL_ERR_PARSE;
}

static bool lp_scalar_char(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '-' ||
           c == '+' || c == '.' || c == 'E';
}

/* Skips one value (after white space); the shape of nested values is left
 * to json-c when they are parsed, only strings and brackets are tracked. */
static enum zl_err lp_value(struct lp_scan *s)
{
    lp_ws(s);
    if (s->p == s->end)
        return ZL_ERR_PARSE;
    if (*s->p == '"')
        return lp_string(s);
    if (*s->p != '{' && *s->p != '[') {
        const char *start = s->p;
        while (s->p < s->end && lp_scalar_char(*s->p))
            s->p++;
        return s->p == start ? ZL_ERR_PARSE : ZL_OK;
    }
    char stack[JSON_MAX_DEPTH];
    size_t depth = 0;
    while (s->p < s->end) {
        char c = *s->p;
        if (c == '"') {
            if (lp_string(s) != ZL_OK)
                return ZL_ERR_PARSE;
            continue;
        }
        if (c == '{' || c == '[') {
            if (depth == JSON_MAX_DEPTH)
                return ZL_ERR_LIMIT;
            stack[depth++] = c == '{' ? '}' : ']';
        } else if (c == '}' || c == ']') {
            if (depth == 0 || stack[depth - 1] != c)
                return ZL_ERR_PARSE;
            depth--;
        }
        s->p++;
        if (depth == 0)
            return ZL_OK;
    }
    return ZL_ERR_PARSE;
}

/* The elements of the array at s->p, each handed to on_item. */
static enum zl_err lp_items(struct lp_scan *s, listpage_item_fn on_item,
                            void *ctx)
{
    if (!lp_eat(s, '['))
        return ZL_ERR_PARSE;
    if (lp_eat(s, ']'))
        return ZL_OK;
    do {
        lp_ws(s);
        const char *start = s->p;
        enum zl_err err = lp_value(s);
        if (err == ZL_OK)
            err = on_item(ctx, start, (size_t)(s->p - start));
        if (err != ZL_OK)
            return err;
    } while (lp_eat(s, ','));
    return lp_eat(s, ']') ? ZL_OK : ZL_ERR_PARSE;
}

/* One member of the top-level object: its key, then its value. */
static enum zl_err lp_member(struct lp_scan *s, listpage_item_fn on_item,
                             void *ctx, bool *seen_items,
                             struct json_object **meta)
{
    if (!lp_peek(s, '"'))
        return ZL_ERR_PARSE;
    const char *key = s->p + 1;
    if (lp_string(s) != ZL_OK)
        return ZL_ERR_PARSE;
    size_t klen = (size_t)(s->p - 1 - key); /* without the quotes */
    if (!lp_eat(s, ':'))
        return ZL_ERR_PARSE;
    if (klen == 5 && memcmp(key, "items", 5) == 0) {
        if (*seen_items)
            return ZL_ERR_PARSE;
        *seen_items = true;
        return lp_items(s, on_item, ctx);
    }
    lp_ws(s);
    const char *start = s->p;
    enum zl_err err = lp_value(s);
    size_t vlen = (size_t)(s->p - start);
    if (err != ZL_OK)
        return err;
    /* Other members (kind, apiVersion) are small: checked whole, so the
     * walk accepts exactly what one parse of the page would. */
    if (klen != 8 || memcmp(key, "metadata", 8) != 0)
        return json_check_value(start, vlen);
    if (*meta != NULL)
        return ZL_ERR_PARSE;
    return json_parse_object(start, vlen, meta);
}

enum zl_err listpage_walk(const char *text, size_t len,
                          listpage_item_fn on_item, void *ctx,
                          struct json_object **meta)
{
    struct lp_scan s = {text, text + len};
    bool seen_items = false;
    enum zl_err err = ZL_ERR_PARSE;
    *meta = NULL;
    if (len > JSON_MAX_TEXT)
        return ZL_ERR_LIMIT;
    if (!lp_eat(&s, '{') || lp_eat(&s, '}'))
        goto out;
    do {
        err = lp_member(&s, on_item, ctx, &seen_items, meta);
    } while (err == ZL_OK && lp_eat(&s, ','));
    if (err == ZL_OK && (!lp_eat(&s, '}') || !seen_items || *meta == NULL))
        err = ZL_ERR_PARSE;
    lp_ws(&s);
    if (err == ZL_OK && s.p != s.end)
        err = ZL_ERR_PARSE;
out:
    if (err != ZL_OK) {
        json_object_put(*meta);
        *meta = NULL;
    }
    return err;
}

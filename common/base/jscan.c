/* SPDX-License-Identifier: Apache-2.0 */
/* The JSON pull scanner: one pass over the text, no allocation, every
 * byte checked on the way (skipped values too). */
#include "base/jscan.h"

#include <string.h>

#include "base/json.h"

/* Records the first error and stops the scan. Always false. */
static bool fail(struct jscan *s, enum zl_err err)
{
    if (s->err == ZL_OK)
        s->err = err;
    s->p = s->end;
    return false;
}

void jscan_init(struct jscan *s, const char *text, size_t len)
{
    *s = (struct jscan){.p = text, .end = text != NULL ? text + len : NULL};
    if (len > JSON_MAX_TEXT)
        fail(s, ZL_ERR_LIMIT);
}

enum zl_err jscan_error(const struct jscan *s)
{
    return s->err;
}

static void skip_space(struct jscan *s)
{
    const char *p = s->p, *end = s->end;
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    s->p = p;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

enum jscan_type jscan_peek(struct jscan *s)
{
    if (s->err != ZL_OK)
        return JSCAN_ERROR;
    skip_space(s);
    if (s->p == s->end)
        return JSCAN_ERROR;
    switch (*s->p) {
    case '{':
        return JSCAN_OBJECT;
    case '[':
        return JSCAN_ARRAY;
    case '"':
        return JSCAN_STRING;
    case 't':
    case 'f':
        return JSCAN_BOOL;
    case 'n':
        return JSCAN_NULL;
    default:
        return *s->p == '-' || is_digit(*s->p) ? JSCAN_NUMBER : JSCAN_ERROR;
    }
}

const char *jscan_pos(struct jscan *s)
{
    skip_space(s);
    return s->p;
}

/* Consumes the opening bracket of a container of type t: at most
 * JSON_MAX_DEPTH containers open at once, as json-c counts them. */
static bool open_container(struct jscan *s, enum jscan_type t)
{
    if (jscan_peek(s) != t)
        return fail(s, ZL_ERR_PARSE);
    if (s->depth >= JSON_MAX_DEPTH)
        return fail(s, ZL_ERR_LIMIT);
    s->depth++;
    s->p++;
    s->fresh = true;
    return true;
}

bool jscan_object(struct jscan *s)
{
    return open_container(s, JSCAN_OBJECT);
}

bool jscan_array(struct jscan *s)
{
    return open_container(s, JSCAN_ARRAY);
}

/* Before the next member or item: true when one follows (its comma, if
 * any, consumed), false after the closing bracket or on an error. */
static bool next(struct jscan *s, char close)
{
    if (s->err != ZL_OK)
        return false;
    skip_space(s);
    if (s->p == s->end)
        return fail(s, ZL_ERR_PARSE);
    bool first = s->fresh;
    s->fresh = false;
    if (*s->p == close) {
        s->p++;
        s->depth--;
        return false;
    }
    if (!first) {
        if (*s->p != ',')
            return fail(s, ZL_ERR_PARSE);
        s->p++;
    }
    return true;
}

static bool hex4(const char *p)
{
    for (size_t i = 0; i < 4; i++) {
        char c = p[i];
        if (!is_digit(c) && !(c >= 'a' && c <= 'f') && !(c >= 'A' && c <= 'F'))
            return false;
    }
    return true;
}

/* A byte that ends a run of plain string bytes: '"', '\\' or a control
 * character. */
static bool string_stop(unsigned char c)
{
    return c < 0x20 || c == '"' || c == '\\';
}

#define ONES 0x0101010101010101u
#define HIGHS 0x8080808080808080u

/* True when one of the 8 bytes of w is a string_stop byte. */
static bool word_stops(uint64_t w)
{
    uint64_t quote = w ^ (ONES * '"'), slash = w ^ (ONES * '\\');
    uint64_t low = (w - ONES * 0x20) & ~w;
    quote = (quote - ONES) & ~quote;
    slash = (slash - ONES) & ~slash;
    return ((low | quote | slash) & HIGHS) != 0;
}

/* The first string_stop byte at or after q, or end. */
static const char *plain_run(const char *q, const char *end)
{
    uint64_t w;
    while (end - q >= 8) {
        memcpy(&w, q, sizeof(w));
        if (word_stops(w))
            break;
        q += 8;
    }
    while (q < end && !string_stop((unsigned char)*q))
        q++;
    return q;
}

/* Checks the escape after a backslash at q[-1]; the byte past it, or
 * NULL. */
static const char *escape_end(const char *q, const char *end)
{
    if (q == end)
        return NULL;
    switch (*q) {
    case '"':
    case '\\':
    case '/':
    case 'b':
    case 'f':
    case 'n':
    case 'r':
    case 't':
        return q + 1;
    case 'u':
        return end - q >= 5 && hex4(q + 1) ? q + 5 : NULL;
    default:
        return NULL;
    }
}

bool jscan_string(struct jscan *s, struct jscan_str *out)
{
    if (jscan_peek(s) != JSCAN_STRING)
        return fail(s, ZL_ERR_PARSE);
    const char *q = s->p + 1, *end = s->end;
    bool escaped = false;
    for (;;) {
        q = plain_run(q, end);
        if (q == end || (unsigned char)*q < 0x20)
            return fail(s, ZL_ERR_PARSE);
        if (*q == '"')
            break;
        escaped = true;
        q = escape_end(q + 1, end);
        if (q == NULL)
            return fail(s, ZL_ERR_PARSE);
    }
    *out = (struct jscan_str){s->p + 1, (size_t)(q - s->p - 1), escaped};
    s->p = q + 1;
    return true;
}

bool jscan_member(struct jscan *s, struct jscan_str *key)
{
    if (!next(s, '}'))
        return false;
    if (!jscan_string(s, key))
        return false;
    skip_space(s);
    if (s->p == s->end || *s->p != ':')
        return fail(s, ZL_ERR_PARSE);
    s->p++;
    return true;
}

bool jscan_item(struct jscan *s)
{
    return next(s, ']');
}

/* A word ("true", "null") at the scan position. */
static bool word(struct jscan *s, const char *w)
{
    size_t n = strlen(w);
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, w, n) != 0)
        return fail(s, ZL_ERR_PARSE);
    s->p += n;
    return true;
}

bool jscan_bool(struct jscan *s, bool *out)
{
    if (jscan_peek(s) != JSCAN_BOOL)
        return fail(s, ZL_ERR_PARSE);
    *out = *s->p == 't';
    return word(s, *out ? "true" : "false");
}

bool jscan_null(struct jscan *s)
{
    if (jscan_peek(s) != JSCAN_NULL)
        return fail(s, ZL_ERR_PARSE);
    return word(s, "null");
}

/* Consumes a number; *integer says whether it has neither fraction nor
 * exponent. */
static bool number(struct jscan *s, bool *integer)
{
    if (jscan_peek(s) != JSCAN_NUMBER)
        return fail(s, ZL_ERR_PARSE);
    const char *q = s->p, *end = s->end;
    if (*q == '-')
        q++;
    if (q == end || !is_digit(*q))
        return fail(s, ZL_ERR_PARSE);
    if (*q++ != '0')
        while (q < end && is_digit(*q))
            q++;
    *integer = true;
    if (q < end && *q == '.') {
        *integer = false;
        if (++q == end || !is_digit(*q))
            return fail(s, ZL_ERR_PARSE);
        while (q < end && is_digit(*q))
            q++;
    }
    if (q < end && (*q == 'e' || *q == 'E')) {
        *integer = false;
        if (++q < end && (*q == '+' || *q == '-'))
            q++;
        if (q == end || !is_digit(*q))
            return fail(s, ZL_ERR_PARSE);
        while (q < end && is_digit(*q))
            q++;
    }
    s->p = q;
    return true;
}

bool jscan_int64(struct jscan *s, int64_t *out)
{
    const char *start = jscan_pos(s);
    bool integer;
    if (!number(s, &integer))
        return false;
    if (!integer)
        return fail(s, ZL_ERR_PARSE);
    bool negative = *start == '-';
    /* Accumulated negative, so INT64_MIN fits. */
    int64_t v = 0;
    for (const char *q = start + negative; q < s->p; q++) {
        int d = *q - '0';
        if (v < (INT64_MIN + d) / 10)
            return fail(s, ZL_ERR_PARSE);
        v = v * 10 - d;
    }
    if (!negative && v == INT64_MIN)
        return fail(s, ZL_ERR_PARSE);
    *out = negative ? v : -v;
    return true;
}

bool jscan_skip(struct jscan *s)
{
    struct jscan_str str;
    bool b;
    switch (jscan_peek(s)) {
    case JSCAN_OBJECT:
        if (!jscan_object(s))
            return false;
        while (jscan_member(s, &str))
            if (!jscan_skip(s))
                return false;
        return s->err == ZL_OK;
    case JSCAN_ARRAY:
        if (!jscan_array(s))
            return false;
        while (jscan_item(s))
            if (!jscan_skip(s))
                return false;
        return s->err == ZL_OK;
    case JSCAN_STRING:
        return jscan_string(s, &str);
    case JSCAN_NUMBER:
        return number(s, &b);
    case JSCAN_BOOL:
        return jscan_bool(s, &b);
    case JSCAN_NULL:
        return jscan_null(s);
    default:
        return fail(s, ZL_ERR_PARSE);
    }
}

bool jscan_finish(struct jscan *s)
{
    if (s->err != ZL_OK)
        return false;
    skip_space(s);
    return s->p == s->end || fail(s, ZL_ERR_PARSE);
}

/* ---- collecting fields ----------------------------------------------------
 */

static bool has_children(const struct jscan_field *fields, size_t n,
                         size_t parent)
{
    for (size_t i = 0; i < n; i++)
        if (fields[i].parent == parent)
            return true;
    return false;
}

static void forget_children(const struct jscan_field *fields, size_t n,
                            size_t parent, struct jscan_value *values)
{
    for (size_t i = 0; i < n; i++) {
        if (fields[i].parent == parent) {
            values[i] = (struct jscan_value){0};
            forget_children(fields, n, i, values);
        }
    }
}

static size_t field_of(const struct jscan_field *fields, size_t n,
                       size_t parent, const struct jscan_str *key)
{
    for (size_t i = 0; i < n; i++)
        if (fields[i].parent == parent && jscan_str_is(key, fields[i].key))
            return i;
    return n;
}

static bool collect(struct jscan *s, const struct jscan_field *fields, size_t n,
                    size_t parent, struct jscan_value *values)
{
    struct jscan_str key;
    if (!jscan_object(s))
        return false;
    while (jscan_member(s, &key)) {
        size_t at = field_of(fields, n, parent, &key);
        if (at == n) {
            if (!jscan_skip(s))
                return false;
            continue;
        }
        struct jscan_value *v = &values[at];
        forget_children(fields, n, at, values);
        v->type = jscan_peek(s);
        v->start = jscan_pos(s);
        bool ok = v->type == JSCAN_OBJECT && has_children(fields, n, at)
                      ? collect(s, fields, n, at, values)
                      : jscan_skip(s);
        if (!ok)
            return false;
        v->len = (size_t)(s->p - v->start);
    }
    return s->err == ZL_OK;
}

bool jscan_collect(struct jscan *s, const struct jscan_field *fields, size_t n,
                   struct jscan_value *values)
{
    return collect(s, fields, n, JSCAN_TOP, values);
}

void jscan_init_value(struct jscan *s, const struct jscan_value *v)
{
    jscan_init(s, v->start, v->len);
}

bool jscan_value_str(const struct jscan_value *v, struct jscan_str *out)
{
    if (v->type != JSCAN_STRING)
        return false;
    size_t len = v->len;
    while (len > 2 && v->start[len - 1] != '"') /* white space after it */
        len--;
    const char *raw = v->start + 1;
    *out = (struct jscan_str){raw, len - 2, memchr(raw, '\\', len - 2) != NULL};
    return true;
}

/* ---- decoding ------------------------------------------------------------ */

static unsigned hex_value(const char *p)
{
    unsigned v = 0;
    for (size_t i = 0; i < 4; i++) {
        char c = p[i];
        unsigned d = is_digit(c)              ? (unsigned)(c - '0')
                     : (c >= 'a' && c <= 'f') ? (unsigned)(c - 'a' + 10)
                                              : (unsigned)(c - 'A' + 10);
        v = v << 4 | d;
    }
    return v;
}

static size_t put_utf8(unsigned cp, char out[4])
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | cp >> 12);
        out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | cp >> 18);
    out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
    out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* The byte a one-letter escape stands for (escape_end checked it). */
static char simple_escape(char c)
{
    switch (c) {
    case 'b':
        return '\b';
    case 'f':
        return '\f';
    case 'n':
        return '\n';
    case 'r':
        return '\r';
    case 't':
        return '\t';
    default:
        return c; /* '"', '\\', '/' */
    }
}

/* Decodes the escape at *pp (its backslash; the scan checked it) into
 * out and moves *pp past it. An escaped surrogate pair is one character;
 * an unpaired surrogate is U+FFFD. */
static size_t decode_escape(const char **pp, const char *end, char out[4])
{
    const char *p = *pp + 1;
    if (*p != 'u') {
        *pp = p + 1;
        out[0] = simple_escape(*p);
        return 1;
    }
    unsigned cp = hex_value(p + 1);
    p += 5;
    if (cp >= 0xd800 && cp <= 0xdbff && end - p >= 6 && p[0] == '\\' &&
        p[1] == 'u') {
        unsigned lo = hex_value(p + 2);
        if (lo >= 0xdc00 && lo <= 0xdfff) {
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            p += 6;
        }
    }
    if (cp >= 0xd800 && cp <= 0xdfff)
        cp = 0xfffd;
    *pp = p;
    return put_utf8(cp, out);
}

size_t jscan_decode(const struct jscan_str *str, char *out)
{
    const char *p = str->raw, *end = str->raw + str->len;
    size_t n = 0;
    if (!str->escaped) {
        memcpy(out, p, str->len);
        out[str->len] = '\0';
        return str->len;
    }
    while (p < end) {
        const char *bs = memchr(p, '\\', (size_t)(end - p));
        size_t run = (size_t)((bs != NULL ? bs : end) - p);
        memcpy(out + n, p, run);
        n += run;
        p += run;
        if (p < end)
            n += decode_escape(&p, end, out + n);
    }
    out[n] = '\0';
    return n;
}

bool jscan_str_is(const struct jscan_str *str, const char *lit)
{
    size_t want = strlen(lit);
    if (!str->escaped)
        return str->len == want && memcmp(str->raw, lit, want) == 0;
    const char *p = str->raw, *end = str->raw + str->len;
    size_t n = 0;
    while (p < end) {
        char ch[4];
        size_t k = 1;
        if (*p == '\\')
            k = decode_escape(&p, end, ch);
        else
            ch[0] = *p++;
        if (n + k > want || memcmp(lit + n, ch, k) != 0)
            return false;
        n += k;
    }
    return n == want;
}

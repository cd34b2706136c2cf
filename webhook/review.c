/* SPDX-License-Identifier: Apache-2.0 */
/* AdmissionReview v1 decode and encode. Decoding is strict about what the
 * answer depends on (apiVersion, kind, uid, operation) and about field
 * types; fields zen-lead does not read are not looked at. */
#include "webhook/review.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/jscan.h"

static const char *const op_names[] = {"CREATE", "UPDATE", "DELETE", "CONNECT"};

const char *review_operation_name(enum review_operation op)
{
    if ((size_t)op >= sizeof(op_names) / sizeof(op_names[0]))
        return "UNKNOWN";
    return op_names[op];
}

/* ---- decoding ---------------------------------------------------------- */

/* Every field the decoder reads, by where it sits. One scan of the body
 * records each one's value (the last of duplicate keys, as json-c and the
 * API server's own decoder keep); the checks then run in a fixed order,
 * so a body with several faults is always refused for the same one. */
enum slot {
    S_API_VERSION = 0,
    S_KIND,
    S_REQUEST,
    S_UID,
    S_RKIND,
    S_RKIND_GROUP,
    S_RKIND_VERSION,
    S_RKIND_KIND,
    S_RES,
    S_RES_GROUP,
    S_RES_VERSION,
    S_RES_RESOURCE,
    S_SUB_RESOURCE,
    S_NAMESPACE,
    S_NAME,
    S_OPERATION,
    S_USER,
    S_USERNAME,
    S_GROUPS,
    S_DRY_RUN,
    S_OBJECT,
    S_OLD_OBJECT,
    S_COUNT,
};

static const struct jscan_field fields[S_COUNT] = {
    [S_API_VERSION] = {"apiVersion", JSCAN_TOP},
    [S_KIND] = {"kind", JSCAN_TOP},
    [S_REQUEST] = {"request", JSCAN_TOP},
    [S_UID] = {"uid", S_REQUEST},
    [S_RKIND] = {"kind", S_REQUEST},
    [S_RKIND_GROUP] = {"group", S_RKIND},
    [S_RKIND_VERSION] = {"version", S_RKIND},
    [S_RKIND_KIND] = {"kind", S_RKIND},
    [S_RES] = {"resource", S_REQUEST},
    [S_RES_GROUP] = {"group", S_RES},
    [S_RES_VERSION] = {"version", S_RES},
    [S_RES_RESOURCE] = {"resource", S_RES},
    [S_SUB_RESOURCE] = {"subResource", S_REQUEST},
    [S_NAMESPACE] = {"namespace", S_REQUEST},
    [S_NAME] = {"name", S_REQUEST},
    [S_OPERATION] = {"operation", S_REQUEST},
    [S_USER] = {"userInfo", S_REQUEST},
    [S_USERNAME] = {"username", S_USER},
    [S_GROUPS] = {"groups", S_USER},
    [S_DRY_RUN] = {"dryRun", S_REQUEST},
    [S_OBJECT] = {"object", S_REQUEST},
    [S_OLD_OBJECT] = {"oldObject", S_REQUEST},
};

/* Decoding state: the values, the arena the strings are decoded into and
 * the refusal text (why). */
struct dec {
    struct jscan_value v[S_COUNT];
    char *arena;
    size_t used;
    char *why;
};

/* Explains a refusal as "<field> <what>". */
static enum zl_err refuse(struct dec *d, enum zl_err err, const char *what,
                          const char *field)
{
    snprintf(d->why, REVIEW_WHY_MAX, "%s %s", field, what);
    return err;
}

/* An optional string: "" when absent or null; else decoded into the
 * arena (which holds every string of the body, decoded, with its NUL). */
static enum zl_err get_string(struct dec *d, enum slot at, const char *field,
                              const char **out)
{
    const struct jscan_value *v = &d->v[at];
    *out = "";
    if (v->type == JSCAN_ERROR || v->type == JSCAN_NULL)
        return ZL_OK;
    if (v->type != JSCAN_STRING)
        return refuse(d, ZL_ERR_PARSE, "is not a string.", field);
    struct jscan_str str;
    jscan_value_str(v, &str);
    char *text = d->arena + d->used;
    size_t n = jscan_decode(&str, text);
    if (strlen(text) != n)
        return refuse(d, ZL_ERR_PARSE, "holds a NUL character.", field);
    d->used += n + 1;
    *out = text;
    return ZL_OK;
}

/* An optional object: false when absent or null. */
static enum zl_err get_object(struct dec *d, enum slot at, const char *field,
                              bool *present)
{
    enum jscan_type t = d->v[at].type;
    *present = t == JSCAN_OBJECT;
    if (t != JSCAN_ERROR && t != JSCAN_NULL && t != JSCAN_OBJECT)
        return refuse(d, ZL_ERR_PARSE, "is not an object.", field);
    return ZL_OK;
}

static enum zl_err expect_exact(struct dec *d, enum slot at, const char *want)
{
    const char *got;
    const char *key = fields[at].key;
    enum zl_err err = get_string(d, at, key, &got);
    if (err != ZL_OK)
        return err;
    if (strcmp(got, want) != 0) {
        snprintf(d->why, REVIEW_WHY_MAX, "%s must be %s.", key, want);
        return ZL_ERR_INVALID;
    }
    return ZL_OK;
}

static enum zl_err get_uid(struct dec *d, const char **out)
{
    enum zl_err err = get_string(d, S_UID, "request.uid", out);
    if (err != ZL_OK)
        return err;
    size_t n = strlen(*out);
    if (n == 0)
        return refuse(d, ZL_ERR_INVALID, "is missing.", "request.uid");
    if (n > REVIEW_MAX_UID)
        return refuse(d, ZL_ERR_INVALID, "is too long.", "request.uid");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)(*out)[i];
        if (c <= 0x20 || c >= 0x7f)
            return refuse(d, ZL_ERR_INVALID,
                          "holds a character other than printable ASCII.",
                          "request.uid");
    }
    return ZL_OK;
}

/* Where each field of request.kind and request.resource is, for refusals. */
static const char *const triple_paths[S_COUNT] = {
    [S_RKIND] = "request.kind",
    [S_RKIND_GROUP] = "request.kind.group",
    [S_RKIND_VERSION] = "request.kind.version",
    [S_RKIND_KIND] = "request.kind.kind",
    [S_RES] = "request.resource",
    [S_RES_GROUP] = "request.resource.group",
    [S_RES_VERSION] = "request.resource.version",
    [S_RES_RESOURCE] = "request.resource.resource",
};

/* request.kind and request.resource: an object of three strings. */
static enum zl_err get_triple(struct dec *d, enum slot obj, const char *out[3])
{
    bool present;
    enum zl_err err = get_object(d, obj, triple_paths[obj], &present);
    for (size_t i = 0; err == ZL_OK && i < 3; i++) {
        enum slot at = (enum slot)(obj + 1 + i);
        err = get_string(d, at, triple_paths[at], &out[i]);
    }
    return err;
}

static enum zl_err get_kinds(struct dec *d, struct review_request *out)
{
    const char *gvk[3], *gvr[3];
    enum zl_err err = get_triple(d, S_RKIND, gvk);
    if (err == ZL_OK)
        err = get_triple(d, S_RES, gvr);
    if (err != ZL_OK)
        return err;
    if (gvk[1][0] == '\0' || gvk[2][0] == '\0')
        return refuse(d, ZL_ERR_INVALID, "needs a version and a kind.",
                      "request.kind");
    out->kind = (struct review_gvk){gvk[0], gvk[1], gvk[2]};
    out->resource = (struct review_gvr){gvr[0], gvr[1], gvr[2]};
    return ZL_OK;
}

static enum zl_err get_operation(struct dec *d, enum review_operation *out)
{
    const char *op;
    enum zl_err err = get_string(d, S_OPERATION, "request.operation", &op);
    if (err != ZL_OK)
        return err;
    if (op[0] == '\0')
        return refuse(d, ZL_ERR_INVALID, "is missing.", "request.operation");
    for (size_t i = 0; i < sizeof(op_names) / sizeof(op_names[0]); i++) {
        if (strcmp(op, op_names[i]) == 0) {
            *out = (enum review_operation)i;
            return ZL_OK;
        }
    }
    return refuse(d, ZL_ERR_INVALID,
                  "is none of CREATE, UPDATE, DELETE and CONNECT.",
                  "request.operation");
}

/* Counts the groups (checked first, so that a huge array is refused for
 * its length whatever it holds), then decodes them. */
static enum zl_err get_groups(struct dec *d, struct review_request *out)
{
    static const char field[] = "request.userInfo.groups";
    const struct jscan_value *v = &d->v[S_GROUPS];
    if (v->type == JSCAN_ERROR || v->type == JSCAN_NULL)
        return ZL_OK;
    if (v->type != JSCAN_ARRAY)
        return refuse(d, ZL_ERR_PARSE, "is not an array.", field);
    struct jscan s;
    size_t n = 0;
    jscan_init_value(&s, v);
    for (jscan_array(&s); jscan_item(&s); n++)
        jscan_skip(&s);
    if (n > REVIEW_MAX_GROUPS)
        return refuse(d, ZL_ERR_LIMIT, "has too many entries.", field);
    if (n == 0)
        return ZL_OK;
    out->groups = calloc(n, sizeof(*out->groups));
    if (out->groups == NULL)
        return ZL_ERR_NOMEM;
    jscan_init_value(&s, v);
    for (jscan_array(&s); jscan_item(&s);) {
        struct jscan_str str;
        char *text = d->arena + d->used;
        if (jscan_peek(&s) != JSCAN_STRING || !jscan_string(&s, &str) ||
            jscan_decode(&str, text) != strlen(text))
            return refuse(d, ZL_ERR_PARSE, "holds a non-string.", field);
        d->used += strlen(text) + 1;
        out->groups[out->group_count++] = text;
    }
    return ZL_OK;
}

static enum zl_err get_user(struct dec *d, struct review_request *out)
{
    bool present;
    enum zl_err err = get_object(d, S_USER, "request.userInfo", &present);
    if (err == ZL_OK)
        err = get_string(d, S_USERNAME, "request.userInfo.username",
                         &out->username);
    if (err == ZL_OK)
        err = get_groups(d, out);
    return err;
}

static enum zl_err get_dry_run(struct dec *d, bool *out)
{
    const struct jscan_value *v = &d->v[S_DRY_RUN];
    *out = false;
    if (v->type == JSCAN_ERROR || v->type == JSCAN_NULL)
        return ZL_OK;
    if (v->type != JSCAN_BOOL)
        return refuse(d, ZL_ERR_PARSE, "is not a boolean.", "request.dryRun");
    *out = v->start[0] == 't';
    return ZL_OK;
}

static enum zl_err get_json(struct dec *d, enum slot at, const char *field,
                            struct review_json *out)
{
    bool present;
    enum zl_err err = get_object(d, at, field, &present);
    if (err == ZL_OK && present)
        *out = (struct review_json){d->v[at].start, d->v[at].len};
    return err;
}

static enum zl_err decode_request(struct dec *d, struct review_request *out)
{
    enum zl_err err = get_uid(d, &out->uid);
    if (err == ZL_OK)
        err = get_kinds(d, out);
    if (err == ZL_OK)
        err = get_string(d, S_SUB_RESOURCE, "request.subResource",
                         &out->sub_resource);
    if (err == ZL_OK)
        err = get_string(d, S_NAMESPACE, "request.namespace",
                         &out->namespace_name);
    if (err == ZL_OK)
        err = get_string(d, S_NAME, "request.name", &out->name);
    if (err == ZL_OK)
        err = get_operation(d, &out->operation);
    if (err == ZL_OK)
        err = get_user(d, out);
    if (err == ZL_OK)
        err = get_dry_run(d, &out->dry_run);
    if (err == ZL_OK)
        err = get_json(d, S_OBJECT, "request.object", &out->object);
    if (err == ZL_OK)
        err = get_json(d, S_OLD_OBJECT, "request.oldObject", &out->old_object);
    return err;
}

/* The scan of the whole body: JSON, one object, within the limits. A body
 * that is other JSON is still scanned, to tell a limit apart. */
static enum zl_err scan_body(struct dec *d, const char *body, size_t body_len)
{
    struct jscan s;
    jscan_init(&s, body, body_len);
    bool object = jscan_peek(&s) == JSCAN_OBJECT;
    if (object ? jscan_collect(&s, fields, S_COUNT, d->v) : jscan_skip(&s))
        jscan_finish(&s);
    enum zl_err err = jscan_error(&s);
    return err == ZL_OK && !object ? ZL_ERR_PARSE : err;
}

enum zl_err review_decode(const char *body, size_t body_len,
                          struct review_request *out,
                          char why[static REVIEW_WHY_MAX])
{
    struct dec d = {.why = why};
    bool present = false;
    memset(out, 0, sizeof(*out));
    why[0] = '\0';
    enum zl_err err = scan_body(&d, body, body_len);
    if (err != ZL_OK) {
        snprintf(why, REVIEW_WHY_MAX, "The body is %s.",
                 err == ZL_ERR_LIMIT ? "too large or too deeply nested"
                                     : "not a JSON object");
        goto out;
    }
    /* Decoded strings, each with its NUL, fit in the body's length. */
    out->mem = malloc(body_len + 1);
    if (out->mem == NULL) {
        err = ZL_ERR_NOMEM;
        goto out;
    }
    d.arena = out->mem;
    err = expect_exact(&d, S_API_VERSION, REVIEW_API_VERSION);
    if (err == ZL_OK)
        err = expect_exact(&d, S_KIND, REVIEW_KIND);
    if (err == ZL_OK)
        err = get_object(&d, S_REQUEST, "request", &present);
    if (err == ZL_OK && !present)
        err = refuse(&d, ZL_ERR_INVALID, "is missing.", "request");
    if (err == ZL_OK)
        err = decode_request(&d, out);
out:
    if (err == ZL_ERR_NOMEM)
        snprintf(why, REVIEW_WHY_MAX, "Out of memory.");
    if (err != ZL_OK)
        review_cleanup(out);
    return err;
}

void review_cleanup(struct review_request *req)
{
    if (req == NULL)
        return;
    free(req->mem);
    free(req->groups);
    memset(req, 0, sizeof(*req));
}

/* ---- encoding ---------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at p (1 to 4), 0 when invalid; *cp is
 * its code point. Overlong forms, surrogates and values past U+10FFFF are
 * invalid, as for Go's utf8.ValidString. */
static size_t utf8_seq(const unsigned char *p, uint32_t *cp)
{
    size_t n;
    uint32_t min;
    if (p[0] < 0x80) {
        *cp = p[0];
        return 1;
    }
    if ((p[0] & 0xe0) == 0xc0) {
        n = 2, min = 0x80, *cp = p[0] & 0x1f;
    } else if ((p[0] & 0xf0) == 0xe0) {
        n = 3, min = 0x800, *cp = p[0] & 0x0f;
    } else if ((p[0] & 0xf8) == 0xf0) {
        n = 4, min = 0x10000, *cp = p[0] & 0x07;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        *cp = (*cp << 6) | (p[i] & 0x3f);
    }
    if (*cp < min || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff))
        return 0;
    return n;
}

size_t review_clean_warning(const char *text,
                            char out[static REVIEW_WARNING_MAX + 1])
{
    const unsigned char *p = (const unsigned char *)text;
    const size_t keep = REVIEW_WARNING_MAX - 3; /* room for "..." */
    size_t len = 0, cut = 0;
    while (*p != '\0') {
        uint32_t cp = 0;
        size_t n = utf8_seq(p, &cp);
        bool plain = n > 0 && cp >= 0x20 && (cp < 0x7f || cp > 0x9f);
        size_t width = plain ? n : 1;
        if (len <= keep)
            cut = len;
        if (len + width > REVIEW_WARNING_MAX) {
            memcpy(out + cut, "...", 3);
            out[cut + 3] = '\0';
            return cut + 3;
        }
        if (plain)
            memcpy(out + len, p, n);
        else
            out[len] = n == 0 ? '?' : ' ';
        len += width;
        p += n == 0 ? 1 : n;
    }
    out[len] = '\0';
    return len;
}

static bool alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9');
}

bool review_audit_key_valid(const char *key)
{
    size_t n = key != NULL ? strlen(key) : 0;
    if (n == 0 || n > REVIEW_AUDIT_KEY_MAX || !alnum(key[0]) ||
        !alnum(key[n - 1]))
        return false;
    for (size_t i = 1; i + 1 < n; i++)
        if (!alnum(key[i]) && key[i] != '-' && key[i] != '_' && key[i] != '.')
            return false;
    return true;
}

static bool uid_valid(const char *uid)
{
    size_t n = uid != NULL ? strlen(uid) : 0;
    if (n == 0 || n > REVIEW_MAX_UID)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)uid[i] <= 0x20 || (unsigned char)uid[i] >= 0x7f)
            return false;
    return true;
}

static enum zl_err put_base64(struct buf *b, const char *data, size_t n)
{
    static const char tab[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *p = (const unsigned char *)data;
    enum zl_err err = buf_reserve(b, (n + 2) / 3 * 4 + 2);
    if (err == ZL_OK)
        err = buf_putc(b, '"');
    for (size_t i = 0; err == ZL_OK && i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        char q[4] = {tab[(v >> 18) & 63], tab[(v >> 12) & 63], '=', '='};
        if (i + 1 < n)
            q[2] = tab[(v >> 6) & 63];
        if (i + 2 < n)
            q[3] = tab[v & 63];
        err = buf_append(b, q, sizeof(q));
    }
    if (err == ZL_OK)
        err = buf_putc(b, '"');
    return err;
}

/* Writes the cleaned, deduplicated, bounded warnings as a JSON array. */
static enum zl_err put_warnings(struct buf *b, const struct review_response *r)
{
    char(*kept)[REVIEW_WARNING_MAX + 1] = NULL;
    size_t kept_count = 0, total = 0;
    enum zl_err err = buf_puts(b, ",\"warnings\":[");
    if (err == ZL_OK && r->warning_count > 0) {
        kept = malloc(r->warning_count * sizeof(*kept));
        if (kept == NULL)
            err = ZL_ERR_NOMEM;
    }
    for (size_t i = 0; err == ZL_OK && i < r->warning_count; i++) {
        size_t n = review_clean_warning(r->warnings[i], kept[kept_count]);
        bool dup = n == 0;
        for (size_t j = 0; !dup && j < kept_count; j++)
            dup = strcmp(kept[j], kept[kept_count]) == 0;
        if (dup || total + n + REVIEW_WARNING_OVERHEAD > REVIEW_WARNINGS_TOTAL)
            continue;
        total += n + REVIEW_WARNING_OVERHEAD;
        if (kept_count > 0)
            err = buf_putc(b, ',');
        if (err == ZL_OK)
            err = buf_put_json_string(b, kept[kept_count++]);
    }
    free(kept);
    return err == ZL_OK ? buf_putc(b, ']') : err;
}

static enum zl_err put_audit(struct buf *b, const struct review_response *r)
{
    enum zl_err err = buf_puts(b, ",\"auditAnnotations\":{");
    for (size_t i = 0; err == ZL_OK && i < r->audit_count; i++) {
        if (i > 0)
            err = buf_putc(b, ',');
        if (err == ZL_OK)
            err = buf_put_json_string(b, r->audit[i].key);
        if (err == ZL_OK)
            err = buf_putc(b, ':');
        if (err == ZL_OK)
            err = buf_put_json_string(
                b, r->audit[i].value != NULL ? r->audit[i].value : "");
    }
    return err == ZL_OK ? buf_putc(b, '}') : err;
}

/* metav1.Status reason for a code, so kubectl says "Error from server
 * (Forbidden)"; NULL for codes without one of ours. */
static const char *reason_of(int code)
{
    switch (code) {
    case 400:
        return "BadRequest";
    case 403:
        return "Forbidden";
    case 503:
        return "ServiceUnavailable";
    default:
        return NULL;
    }
}

static enum zl_err put_status(struct buf *b, const struct review_response *r)
{
    int code = r->code < 400 || r->code > 599 ? 400 : r->code;
    const char *reason = reason_of(code);
    enum zl_err err =
        buf_printf(b, ",\"status\":{\"code\":%d,\"message\":", code);
    if (err == ZL_OK)
        err = buf_put_json_string(b, r->message != NULL ? r->message : "");
    if (err == ZL_OK && reason != NULL)
        err = buf_printf(b, ",\"reason\":\"%s\"", reason);
    return err == ZL_OK ? buf_putc(b, '}') : err;
}

static enum zl_err check_response(const struct review_response *r)
{
    if (!uid_valid(r->uid) || (r->patch_len > 0 && r->patch == NULL))
        return ZL_ERR_INVALID;
    for (size_t i = 0; i < r->audit_count; i++)
        if (!review_audit_key_valid(r->audit[i].key))
            return ZL_ERR_INVALID;
    for (size_t i = 0; i < r->warning_count; i++)
        if (r->warnings[i] == NULL)
            return ZL_ERR_INVALID;
    return ZL_OK;
}

enum zl_err review_encode(const struct review_response *resp, struct buf *out)
{
    enum zl_err err = check_response(resp);
    if (err == ZL_OK)
        err = buf_puts(out, "{\"apiVersion\":\"" REVIEW_API_VERSION
                            "\",\"kind\":\"" REVIEW_KIND
                            "\",\"response\":{\"uid\":");
    if (err == ZL_OK)
        err = buf_put_json_string(out, resp->uid);
    if (err == ZL_OK)
        err = buf_printf(out, ",\"allowed\":%s",
                         resp->allowed ? "true" : "false");
    if (err == ZL_OK && !resp->allowed)
        err = put_status(out, resp);
    if (err == ZL_OK && resp->patch_len > 0) {
        err = buf_puts(out, ",\"patchType\":\"JSONPatch\",\"patch\":");
        if (err == ZL_OK)
            err = put_base64(out, resp->patch, resp->patch_len);
    }
    if (err == ZL_OK && resp->warning_count > 0)
        err = put_warnings(out, resp);
    if (err == ZL_OK && resp->audit_count > 0)
        err = put_audit(out, resp);
    if (err == ZL_OK)
        err = buf_puts(out, "}}");
    return err;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* Audit lines. Never the object itself: only who asked what and what was
 * answered, so the line stays small and holds no secrets. */
#include "webhook/audit.h"

#include <inttypes.h>

#include "base/clock.h"

void audit_record_of(struct audit_record *r, enum admit_hook hook,
                     const struct review_request *req,
                     const struct admit_decision *d, int64_t time_ms,
                     int64_t latency_us)
{
    size_t patch_bytes = 0;
    patch_text(&d->patch, &patch_bytes);
    *r = (struct audit_record){
        .time_ms = time_ms,
        .webhook = admit_hook_name(hook),
        .uid = req->uid,
        .user = req->username,
        .groups = req->groups,
        .group_count = req->group_count,
        .operation = review_operation_name(req->operation),
        .kind = req->kind.kind,
        .namespace_name = req->namespace_name,
        .name = req->name,
        .dry_run = req->dry_run,
        .allowed = d->allowed,
        .code = d->code,
        .rule = d->rule,
        .message = d->message,
        .warnings = (const char *const *)d->warnings,
        .warning_count = d->warning_count,
        .patch_bytes = patch_bytes,
        .latency_us = latency_us,
    };
}

static enum zl_err put_field(struct buf *b, const char *key, const char *value)
{
    enum zl_err err = buf_printf(b, ",\"%s\":", key);
    if (err == ZL_OK)
        err = buf_put_json_string(b, value != NULL ? value : "");
    return err;
}

static enum zl_err put_list(struct buf *b, const char *key,
                            const char *const *items, size_t count)
{
    enum zl_err err = buf_printf(b, ",\"%s\":[", key);
    for (size_t i = 0; err == ZL_OK && i < count; i++) {
        if (i > 0)
            err = buf_putc(b, ',');
        if (err == ZL_OK)
            err = buf_put_json_string(b, items[i] != NULL ? items[i] : "");
    }
    return err == ZL_OK ? buf_putc(b, ']') : err;
}

/* The request half of the line: who asked for what. */
static enum zl_err put_request(struct buf *b, const struct audit_record *r)
{
    enum zl_err err = put_field(b, "webhook", r->webhook);
    if (err == ZL_OK)
        err = put_field(b, "uid", r->uid);
    if (err == ZL_OK)
        err = put_field(b, "user", r->user);
    if (err == ZL_OK)
        err = put_list(b, "groups", r->groups, r->group_count);
    if (err == ZL_OK)
        err = put_field(b, "operation", r->operation);
    if (err == ZL_OK)
        err = put_field(b, "kind", r->kind);
    if (err == ZL_OK)
        err = put_field(b, "namespace", r->namespace_name);
    if (err == ZL_OK)
        err = put_field(b, "name", r->name);
    if (err == ZL_OK)
        err = buf_printf(b, ",\"dryRun\":%s", r->dry_run ? "true" : "false");
    return err;
}

/* The answer half: what was decided and why. */
static enum zl_err put_answer(struct buf *b, const struct audit_record *r)
{
    int64_t lat = r->latency_us < 0 ? 0 : r->latency_us;
    enum zl_err err = buf_printf(b, ",\"allowed\":%s,\"code\":%d",
                                 r->allowed ? "true" : "false", r->code);
    if (err == ZL_OK)
        err = put_field(b, "rule", r->rule);
    if (err == ZL_OK && r->message == NULL)
        err = buf_puts(b, ",\"message\":null");
    else if (err == ZL_OK)
        err = put_field(b, "message", r->message);
    if (err == ZL_OK)
        err = put_list(b, "warnings", r->warnings, r->warning_count);
    if (err == ZL_OK)
        err = buf_printf(
            b, ",\"patchBytes\":%zu,\"latencyMs\":%" PRId64 ".%03" PRId64,
            r->patch_bytes, lat / 1000, lat % 1000);
    return err;
}

enum zl_err audit_render(const struct audit_record *r, struct buf *out)
{
    char ts[CLOCK_RFC3339_MAX];
    clock_format_ms(r->time_ms, CLOCK_PREC_MS, ts);
    enum zl_err err = buf_printf(out, "{\"time\":\"%s\"", ts);
    if (err == ZL_OK)
        err = put_request(out, r);
    if (err == ZL_OK)
        err = put_answer(out, r);
    if (err == ZL_OK)
        err = buf_puts(out, "}\n");
    return err;
}

size_t audit_annotations(
    const char *uid, const char *rule,
    struct review_audit_annotation out[static AUDIT_ANNOTATION_COUNT])
{
    size_t n = 0;
    out[n++] = (struct review_audit_annotation){AUDIT_KEY_UID, uid};
    if (rule != NULL && rule[0] != '\0')
        out[n++] = (struct review_audit_annotation){AUDIT_KEY_RULE, rule};
    return n;
}

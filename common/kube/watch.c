/* SPDX-License-Identifier: Apache-2.0 */
/* Watch stream decoding by line framing: the API server ends every event
 * with '\n' and JSON text never contains a raw newline, so a line is an
 * event. Complete lines inside a chunk are parsed in place; only the
 * trailing partial line is copied, once, and parsed when its end arrives. */
#include "kube/watch.h"

#include <assert.h>
#include <string.h>

#include <json-c/json.h>

#include "base/json.h"
#include "base/log.h"

static const char *const WATCH_TYPE_NAMES[] = {
    [WATCH_ADDED] = "ADDED",     [WATCH_MODIFIED] = "MODIFIED",
    [WATCH_DELETED] = "DELETED", [WATCH_BOOKMARK] = "BOOKMARK",
    [WATCH_ERROR] = "ERROR",
};

void watch_init(struct watch_decoder *d, size_t max_event,
                watch_event_fn on_event, void *ctx)
{
    d->max_event = max_event == 0 ? WATCH_DEFAULT_MAX_EVENT : max_event;
    buf_init(&d->line, d->max_event);
    d->on_event = on_event;
    d->ctx = ctx;
    d->events = 0;
    d->failed = false;
}

void watch_cleanup(struct watch_decoder *d)
{
    if (d == NULL)
        return;
    buf_cleanup(&d->line);
}

void watch_reset(struct watch_decoder *d)
{
    buf_reset(&d->line);
    d->failed = false;
}

const char *watch_type_name(enum watch_type type)
{
    if ((size_t)type < sizeof(WATCH_TYPE_NAMES) / sizeof(WATCH_TYPE_NAMES[0]))
        return WATCH_TYPE_NAMES[type];
    return "UNKNOWN";
}

static bool watch_type_parse(const char *text, enum watch_type *out)
{
    for (size_t i = 0;
         i < sizeof(WATCH_TYPE_NAMES) / sizeof(WATCH_TYPE_NAMES[0]); i++) {
        if (strcmp(text, WATCH_TYPE_NAMES[i]) == 0) {
            *out = (enum watch_type)i;
            return true;
        }
    }
    return false;
}

static bool watch_blank(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
            return false;
    }
    return true;
}

/* Parses one complete line (without its '\n') and hands the event on. */
static enum zl_err watch_line(struct watch_decoder *d, const char *p, size_t n)
{
    /* The limit first: a chunked feed could not have buffered more. */
    if (n > d->max_event)
        return ZL_ERR_LIMIT;
    if (watch_blank(p, n))
        return ZL_OK;
    struct json_object *ev = NULL;
    enum zl_err err = json_parse_object(p, n, &ev);
    if (err != ZL_OK) {
        log_debug("%s: event %lu is not a JSON object: %s", __func__,
                  d->events + 1, zl_err_str(err));
        return err;
    }
    err = ZL_ERR_PARSE;
    struct json_object *jtype = NULL;
    struct json_object *object = NULL;
    enum watch_type type;
    if (!json_object_object_get_ex(ev, "type", &jtype) ||
        !json_object_is_type(jtype, json_type_string) ||
        !watch_type_parse(json_object_get_string(jtype), &type) ||
        !json_object_object_get_ex(ev, "object", &object) ||
        !json_object_is_type(object, json_type_object)) {
        log_debug("%s: event %lu lacks a known type or object", __func__,
                  d->events + 1);
        goto out;
    }
    d->events++;
    err = d->on_event(d->ctx, type, object);
out:
    json_object_put(ev);
    return err;
}

enum zl_err watch_feed(struct watch_decoder *d, const char *data, size_t len)
{
    enum zl_err err = ZL_OK;
    if (d->failed)
        return ZL_ERR_INVALID;
    while (len > 0) {
        const char *nl = memchr(data, '\n', len);
        if (nl == NULL) {
            /* Keep the tail; buf enforces max_event. */
            err = buf_append(&d->line, data, len);
            goto out;
        }
        size_t n = (size_t)(nl - data);
        if (d->line.len == 0) {
            err = watch_line(d, data, n);
        } else {
            err = buf_append(&d->line, data, n);
            if (err == ZL_OK)
                err = watch_line(d, d->line.data, d->line.len);
            buf_reset(&d->line);
        }
        if (err != ZL_OK)
            goto out;
        data = nl + 1;
        len -= n + 1;
    }
out:
    if (err != ZL_OK)
        d->failed = true;
    return err;
}

enum zl_err watch_finish(struct watch_decoder *d)
{
    if (d->failed)
        return ZL_ERR_INVALID;
    enum zl_err err = ZL_OK;
    if (d->line.len > 0)
        err = watch_line(d, d->line.data, d->line.len);
    buf_reset(&d->line);
    if (err != ZL_OK)
        d->failed = true;
    return err;
}

static const char *watch_str(struct json_object *obj, const char *key)
{
    struct json_object *v = NULL;
    if (!json_object_object_get_ex(obj, key, &v) ||
        !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

enum watch_status watch_classify_fields(long code, const char *reason,
                                        const char *message)
{
    if (code == 410)
        return WATCH_STATUS_EXPIRED;
    if (reason != NULL &&
        (strcmp(reason, "Expired") == 0 || strcmp(reason, "Gone") == 0))
        return WATCH_STATUS_EXPIRED;
    /* The watch cache's answer to an RV it has not reached in 3 s
     * (apiserver storage.NewTooLargeResourceVersionError). */
    if (code == 504 && message != NULL &&
        strstr(message, "Too large resource version") != NULL)
        return WATCH_STATUS_TOO_LARGE_RV;
    return WATCH_STATUS_OTHER;
}

enum watch_status watch_classify(struct json_object *status)
{
    if (status == NULL || !json_object_is_type(status, json_type_object))
        return WATCH_STATUS_OTHER;
    const char *kind = watch_str(status, "kind");
    if (kind == NULL || strcmp(kind, "Status") != 0)
        return WATCH_STATUS_OTHER;
    struct json_object *jcode = NULL;
    long code = 0;
    if (json_object_object_get_ex(status, "code", &jcode) &&
        json_object_is_type(jcode, json_type_int))
        code = (long)json_object_get_int64(jcode);
    return watch_classify_fields(code, watch_str(status, "reason"),
                                 watch_str(status, "message"));
}

const char *watch_object_rv(struct json_object *object)
{
    struct json_object *meta = NULL;
    if (object == NULL ||
        !json_object_object_get_ex(object, "metadata", &meta) ||
        !json_object_is_type(meta, json_type_object))
        return NULL;
    return watch_str(meta, "resourceVersion");
}

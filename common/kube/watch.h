/* SPDX-License-Identifier: Apache-2.0 */
/* Incremental decoder of the API server's watch stream: newline-delimited
 * JSON events that arrive in chunks cut at any byte. Every byte is scanned
 * once and parsed once (O(n) per stream). It does no I/O and keeps no
 * state beyond the partial line it waits to complete. */
#ifndef ZL_KUBE_WATCH_H
#define ZL_KUBE_WATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"
#include "base/err.h"

struct json_object;

/* Largest event line accepted by default: the API server's request body
 * limit (3 MiB) plus room for the event envelope. */
#define WATCH_DEFAULT_MAX_EVENT ((size_t)4 << 20)

enum watch_type {
    WATCH_ADDED,
    WATCH_MODIFIED,
    WATCH_DELETED,
    WATCH_BOOKMARK,
    WATCH_ERROR,
};

/* What an ERROR event (or an HTTP error body) means to a reflector. */
enum watch_status {
    WATCH_STATUS_OTHER,        /* anything else: back off and retry */
    WATCH_STATUS_EXPIRED,      /* 410, reason Expired or Gone: relist */
    WATCH_STATUS_TOO_LARGE_RV, /* 504 "Too large resource version": relist */
};

/* Called once per decoded event. object is borrowed: it lives until the
 * callback returns (take a reference with json_object_get to keep it).
 * Returning anything but ZL_OK stops watch_feed, which returns that code. */
typedef enum zl_err (*watch_event_fn)(void *ctx, enum watch_type type,
                                      struct json_object *object);

struct watch_decoder {
    struct buf line;  /* the incomplete last line, at most max_event */
    size_t max_event; /* longest event line accepted */
    watch_event_fn on_event;
    void *ctx;
    unsigned long events; /* events decoded so far */
    bool failed;          /* a previous feed failed: the stream is unusable */
};

/* Starts a decoder; max_event 0 means WATCH_DEFAULT_MAX_EVENT. Allocates
 * nothing; on_event is called from watch_feed/watch_finish. */
void watch_init(struct watch_decoder *d, size_t max_event,
                watch_event_fn on_event, void *ctx);

/* Frees the partial line. NULL is a no-op. */
void watch_cleanup(struct watch_decoder *d);

/* Forgets any partial line (a new stream starts). */
void watch_reset(struct watch_decoder *d);

/* Decodes the complete events in data (len bytes, any split) and keeps the
 * trailing partial line. Each line is parsed with json_parse_object.
 * Errors: ZL_ERR_LIMIT an event longer than max_event or nested deeper
 * than JSON_MAX_DEPTH, ZL_ERR_PARSE a line that is not a JSON object with a
 * known "type" and an "object", ZL_ERR_NOMEM, or the callback's error. After an
 * error the decoder refuses further input (ZL_ERR_INVALID) until
 * watch_reset: the stream must be restarted. */
enum zl_err watch_feed(struct watch_decoder *d, const char *data, size_t len);

/* The stream ended: decodes a last event without its newline, if any.
 * ZL_ERR_PARSE when the stream stopped inside an event. */
enum zl_err watch_finish(struct watch_decoder *d);

/* "ADDED", ... for a type; never NULL. */
const char *watch_type_name(enum watch_type type);

/* Classifies a metav1.Status (the object of an ERROR event, or the body of
 * an HTTP error answer; borrowed). Any object that is not a Status with a
 * known meaning is WATCH_STATUS_OTHER. */
enum watch_status watch_classify(struct json_object *status);

/* The same from decoded fields: code is the Status (or HTTP) code, reason
 * and message may be NULL. */
enum watch_status watch_classify_fields(long code, const char *reason,
                                        const char *message);

/* metadata.resourceVersion of an event object, or NULL when absent; the
 * string is borrowed from object. */
const char *watch_object_rv(struct json_object *object);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* core/v1 Events, best effort: events_record copies the event into a
 * bounded queue and returns at once; a background thread aggregates
 * repeats (same object uid, type, reason, message within a window bump
 * count by PATCH instead of creating another Event) and writes with a few
 * retries. The aggregation cache and the JSON rendering are pure and
 * usable alone. It does not do client-go's similar-event combining or spam
 * filter. */
#ifndef ZL_KUBE_EVENTS_H
#define ZL_KUBE_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "kube/client.h"

#define EVENTS_QUEUE_MAX 1000   /* pending events; more are dropped */
#define EVENTS_CACHE_MAX 4096   /* aggregation keys remembered (LRU) */
#define EVENTS_WINDOW_S 600     /* a repeat within this bumps count */
#define EVENTS_MAX_MESSAGE 1024 /* longer messages are cut */
#define EVENTS_MAX_REASON 128   /* longer reasons are cut */
#define EVENTS_MAX_TRIES 3      /* writes of one event, first included */
#define EVENTS_RETRY_MS 1000L   /* pause between tries */
#define EVENTS_MAX_NAME 253

enum events_type {
    EVENTS_NORMAL = 0,
    EVENTS_WARNING,
};

/* The object an event is about (involvedObject). Strings are borrowed by
 * the calls that take it; ns "" for cluster-scoped objects (the Event then
 * goes to "default"); uid and resource_version may be NULL or "". */
struct events_object {
    const char *kind;
    const char *api_version;
    const char *ns;
    const char *name;
    const char *uid;
    const char *resource_version;
};

/* Who reports: source.component and reportingComponent (component, e.g.
 * "zen-lead-controller"), source.host, reportingInstance (instance, e.g.
 * the pod name). host and instance may be NULL. */
struct events_source {
    const char *component;
    const char *host;
    const char *instance;
};

/* One event as the renderer sees it: the aggregated state included. */
struct events_event {
    const struct events_object *object;
    enum events_type type;
    const char *reason;
    const char *message;
    long count;
    int64_t first_unix_ns;
    int64_t last_unix_ns;
};

/* ---- pure: aggregation ---- */

struct events_cache;

/* What to write for an event: a PATCH of `name` to `count`, or a create
 * of a new Event called `name` with count 1. */
struct events_decision {
    bool patch;
    char name[EVENTS_MAX_NAME + 1];
    long count;
    int64_t first_unix_ns;
};

/* An LRU of at most max_entries keys (0: EVENTS_CACHE_MAX); a repeat
 * aggregates while it comes within window_s of the previous one (0:
 * EVENTS_WINDOW_S). ZL_ERR_NOMEM. */
enum zl_err events_cache_new(size_t max_entries, long window_s,
                             struct events_cache **out);
void events_cache_free(struct events_cache *c);

/* Decides for an event seen at now_unix_ns, without changing the cache.
 * A new name is `<object name>.<hex>` where hex is unique_ns in hex (the
 * caller keeps it unique: client-go uses the time in ns); the object name
 * is cut so the whole fits EVENTS_MAX_NAME. */
void events_cache_decide(const struct events_cache *c,
                         const struct events_event *ev, int64_t now_unix_ns,
                         int64_t unique_ns, struct events_decision *out);

/* Remembers a decision that was written (marks the key most recently
 * used, evicting the least recently used beyond the bound). ZL_ERR_NOMEM
 * leaves the cache as it was (the next repeat creates a new Event). */
enum zl_err events_cache_commit(struct events_cache *c,
                                const struct events_event *ev,
                                const struct events_decision *d,
                                int64_t now_unix_ns);

/* Forgets the key of ev (its Event was deleted: the next one creates). */
void events_cache_forget(struct events_cache *c, const struct events_event *ev);

/* Keys remembered. */
size_t events_cache_len(const struct events_cache *c);

/* ---- pure: rendering ---- */

/* Appends the whole Event for a create, named name, in the object's
 * namespace ("default" for ""). Reason and message are cut to their
 * limits at a UTF-8 boundary; timestamps are RFC 3339 in whole seconds
 * ("2006-01-02T15:04:05Z", instants before 1970 written as the epoch).
 * Errors as buf_append. */
enum zl_err events_render(const struct events_event *ev, const char *name,
                          const struct events_source *src, struct buf *out);

/* Appends the merge patch that bumps an Event: count, lastTimestamp.
 * Errors as buf_append. */
enum zl_err events_render_patch(long count, int64_t last_unix_ns,
                                struct buf *out);

/* ---- the recorder ---- */

struct events_options {
    struct events_source source; /* strings copied */
    size_t queue_max;            /* 0: EVENTS_QUEUE_MAX */
    size_t cache_max;            /* 0: EVENTS_CACHE_MAX */
    long window_s;               /* 0: EVENTS_WINDOW_S */
    int max_tries;               /* 0: EVENTS_MAX_TRIES */
    long retry_ms;               /* 0: EVENTS_RETRY_MS */
};

struct events_recorder;

/* Makes a recorder and starts its thread. client is borrowed and must
 * outlive it. ZL_ERR_INVALID without a component, ZL_ERR_NOMEM,
 * ZL_ERR_INTERNAL when the thread cannot start. */
enum zl_err events_recorder_new(struct client *client,
                                const struct events_options *opt,
                                struct events_recorder **out);

/* Stops the thread (pending events are dropped; a write in flight ends
 * first) and frees. NULL is a no-op. */
void events_recorder_free(struct events_recorder *r);

/* Queues an event (all strings copied; the message printf-formatted) and
 * returns without waiting for the API server. When the queue is full or
 * memory is short, the event is dropped and counted. Never fails. */
void events_record(struct events_recorder *r, const struct events_object *obj,
                   enum events_type type, const char *reason, const char *fmt,
                   ...) __attribute__((format(printf, 5, 6)));

/* Waits until the queue is empty and no write is in flight, at most
 * timeout_ms. ZL_OK or ZL_ERR_TIMEOUT. For tests and shutdown. */
enum zl_err events_flush(struct events_recorder *r, long timeout_ms);

/* Events dropped (queue full, out of memory, or writes that failed every
 * try) and Events written (creates + patches), since the start. */
uint64_t events_dropped(struct events_recorder *r);
uint64_t events_written(struct events_recorder *r);

#endif

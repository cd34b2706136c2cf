/* SPDX-License-Identifier: Apache-2.0 */
/* List+watch informers that keep a store of views in step with the API
 * server, the way client-go's reflector does (paged list, watch with
 * bookmarks, resume from the last resourceVersion, relist on 410, backoff).
 * All informers of a process share one loop thread and one client_multi;
 * handlers run on that thread and must not block. It does not
 * resync periodically and does not write to the API server. */
#ifndef ZL_KUBE_INFORMER_H
#define ZL_KUBE_INFORMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "kube/client.h"
#include "kube/store.h"

#define INFORMER_PAGE_LIMIT 500
#define INFORMER_WATCH_TIMEOUT_MIN_S 300 /* timeoutSeconds in [min, 2*min] */
#define INFORMER_BACKOFF_INITIAL_MS 800
#define INFORMER_BACKOFF_MAX_MS 30000
#define INFORMER_BACKOFF_RESET_MS 120000 /* healthy this long: start over */
/* A watch that has sent no byte for this long is taken as dead. The API
 * server sends bookmarks about a minute apart (~2 s before its timeout
 * too), but the first one of a quiet watch came after 121 s in our
 * measurements (docs/internals/informer.md): 180 s leaves room for that. */
#define INFORMER_IDLE_MAX_MS 180000
#define INFORMER_MAX_EVENT ((size_t)4 << 20)
/* A watch still open this long has connected (the client's default connect
 * timeout, TLS included, is 5 s) and was answered 200. */
#define INFORMER_WATCH_CONNECTED_MS 6000

/* The loop thread and its client_multi. */
struct informer_loop;

/* Makes a loop (no thread yet). ZL_ERR_NOMEM. */
enum zl_err informer_loop_new(struct informer_loop **out);

/* Starts the thread, which starts every informer added so far. ZL_ERR_IO
 * when the thread cannot start. Call once. */
enum zl_err informer_loop_start(struct informer_loop *l);

/* Stops the thread: transfers in flight are aborted, handlers are not
 * called any more. Returns after the thread has ended. Idempotent. */
void informer_loop_stop(struct informer_loop *l);

/* Sends c's requests over the loop's connection from now on
 * (client_use_multi) until the loop stops, which hands them back to c's
 * own connections first. Call after informer_loop_start; at most
 * INFORMER_LOOP_MAX_CARRIED clients (ZL_ERR_LIMIT). The loop's handlers
 * never send requests (they run inside curl's callbacks); its after hook
 * may (see informer_loop_set_after). */
#define INFORMER_LOOP_MAX_CARRIED 4
enum zl_err informer_loop_carry(struct informer_loop *l, struct client *c);

/* fn(ctx) runs on the loop thread after every round of transfers, when
 * the handlers of what arrived have run and no curl callback is active.
 * It may send requests, also of a carried client: those ride the loop's
 * connection and the loop thread drives them itself, holding back what
 * arrives for the informers meanwhile (their handlers run once fn has
 * returned), so an urgent change can be answered without waking another
 * thread. fn should be quick: the informers wait while it runs. Call
 * before informer_loop_start. */
typedef void (*informer_after_fn)(void *ctx);
void informer_loop_set_after(struct informer_loop *l, informer_after_fn fn,
                             void *ctx);

/* Frees the loop; stops it first. Informers must be freed before. NULL is
 * a no-op. */
void informer_loop_free(struct informer_loop *l);

/* The handler for changes: old_view NULL on add, new_view NULL on delete.
 * Views are borrowed for the duration of the call (retain to keep one).
 * Runs on the loop thread: it must return quickly (enqueue a key). */
typedef void (*informer_handler_fn)(void *ctx, enum store_change change,
                                    const void *old_view, const void *new_view);

struct informer_options {
    const struct client_resource *resource; /* borrowed, static */
    enum views_kind kind;                   /* what the resource holds */
    const char *namespace_name;  /* NULL or "": every namespace; copied */
    const char *label_selector;  /* NULL: none; copied */
    const char *field_selector;  /* NULL: none; copied */
    informer_handler_fn handler; /* may be NULL */
    void *handler_ctx;
    long page_limit;      /* 0: INFORMER_PAGE_LIMIT */
    long idle_max_ms;     /* 0: INFORMER_IDLE_MAX_MS */
    size_t max_event;     /* 0: INFORMER_MAX_EVENT */
    long watch_timeout_s; /* 0: random in [300, 600] per watch */
};

struct informer;

/* Makes an informer on loop l (which must not be started yet) with its own
 * store. client and l are borrowed and must outlive it; strings in opt are
 * copied. ZL_ERR_NOMEM, ZL_ERR_INVALID (no resource or kind). */
enum zl_err informer_new(struct informer_loop *l, struct client *client,
                         const struct informer_options *opt,
                         struct informer **out);

/* Frees the informer and its store. Its loop must be stopped (or never
 * started). NULL is a no-op. */
void informer_free(struct informer *inf);

/* The store the informer fills; borrowed, readable from any thread. */
struct store *informer_store(struct informer *inf);

/* True once the first full list is in the store (any thread). */
bool informer_has_synced(const struct informer *inf);

/* Waits (polling every 10 ms) until synced or timeout_ms passed;
 * ZL_ERR_TIMEOUT then. For tests and start-up. */
enum zl_err informer_wait_synced(const struct informer *inf, long timeout_ms);

/* For how long (ms) the store may have been missing changes: since a list
 * or watch failed, a relist began or the informer was paused, until a list
 * completes, a watch sends data, or a watch begun since has stayed open
 * INFORMER_WATCH_CONNECTED_MS. 0 when in step (and before the first list,
 * which informer_has_synced tells). Any thread. */
int64_t informer_out_of_step_for_ms(const struct informer *inf);

/* Counters, readable from any thread. watch_restarts counts every new
 * watch after the first (clean close, error or relist): the value of
 * zen_lead_watch_restarts_total{resource}. */
struct informer_stats {
    uint64_t lists;          /* complete lists (initial + relists) */
    uint64_t relists_gone;   /* relists caused by 410 / too large RV */
    uint64_t watch_restarts; /* watches started after the first */
    uint64_t watch_errors;   /* watches that ended with an error */
    uint64_t events;         /* watch events applied */
    int64_t last_sync_ms;    /* duration of the last complete list */
};

void informer_get_stats(const struct informer *inf, struct informer_stats *out);

/* The resource plural ("pods") the informer watches, for metric labels. */
const char *informer_resource(const struct informer *inf);

/* Test hooks, called from any thread. informer_pause stops watching
 * (aborts the watch, starts no new one) and informer_resume resumes from
 * the last resourceVersion. */
void informer_pause(struct informer *inf);
void informer_resume(struct informer *inf);

/* The exponential backoff with jitter used after errors (exposed for
 * tests). */
struct informer_backoff {
    long step_ms;         /* next base delay; 0 before the first failure */
    int64_t last_fail_ms; /* when the last failure was */
};

/* The delay before the next attempt after a failure at now_ms. rand01 is
 * uniform in [0, 1). Starts at INFORMER_BACKOFF_INITIAL_MS, doubles, and
 * returns base * (1 + rand01) capped at INFORMER_BACKOFF_MAX_MS; starts
 * over when the last failure is more than INFORMER_BACKOFF_RESET_MS old. */
long informer_backoff_next(struct informer_backoff *b, int64_t now_ms,
                           double rand01);

#endif

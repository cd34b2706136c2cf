/* SPDX-License-Identifier: Apache-2.0 */
/* One reconcile of a source Service key "namespace/name" (SPEC sections
 * 2-4): a snapshot from the informers' stores, the rules' decision
 * (common/zenlead), the rendered leader Service and EndpointSlice(s), and
 * the writes that differ, in SPEC's order: the slice first, then the
 * leader Service, then Events. Writes to existing objects carry the uid
 * the store knows; creates are POSTs, so an object the store has not seen
 * yet is never taken over; objects not ours are never written. Objects we
 * made and no longer need are deleted with uid preconditions. Timed rules
 * come back as an exact requeue delay; nothing here sleeps. */
#ifndef ZL_CONTROLLER_RECONCILE_H
#define ZL_CONTROLLER_RECONCILE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "base/err.h"
#include "kube/client.h"
#include "kube/events.h"
#include "kube/store.h"

struct telemetry;
struct keymap;

/* How an existing EndpointSlice is rewritten on a change. */
enum reconcile_write {
    RECONCILE_WRITE_APPLY = 0, /* server-side apply, manager zen-lead,
                                  force, uid in the body */
    RECONCILE_WRITE_UPDATE,    /* PUT with uid and resourceVersion */
};

/* Everything a reconcile uses; all borrowed. events, telemetry and
 * decision_log may be NULL. */
struct reconcile_deps {
    struct client *client;
    struct store *services;
    struct store *pods;
    struct store *slices;
    struct events_recorder *events;
    struct telemetry *telemetry;
    struct keymap *stamps;        /* key -> monotonic ns of the first event not
                                     yet reconciled (set by the informers) */
    struct keymap *warned;        /* "key#what" -> fingerprint of the last
                                     warning emitted */
    struct keymap *managed;       /* keys of Services with metric series */
    bool (*may_write)(void *ctx); /* checked before every write */
    void *may_write_ctx;
    enum reconcile_write slice_write;
    FILE *decision_log;
    int64_t (*now_ms)(void); /* wall clock; NULL: the real one */
};

struct reconcile_result {
    int64_t requeue_after_ns; /* < 0: no timed requeue */
};

/* Reconciles key. ZL_OK (with maybe a timed requeue); ZL_ERR_CANCELLED
 * when writing is no longer allowed; any other error means "retry with
 * backoff" (the caller counts it). out->requeue_after_ns is set on errors
 * too once the rules have decided: the caller schedules both, so a timed
 * rule never waits for an error backoff. */
enum zl_err reconcile_key(const struct reconcile_deps *d, const char *key,
                          struct reconcile_result *out);

/* The delay until next_check_ms seen at now_ms, in nanoseconds: -1 when
 * next_check_ms is VIEWS_TIME_NONE, at least 1 ms when it is due or past
 * (so a due instant is looked at again, never spun on). Pure. */
int64_t reconcile_requeue_ns(int64_t next_check_ms, int64_t now_ms);

/* How soon a key whose reconcile failed with err is retried whatever its
 * backoff, or -1 to leave it to the backoff. unreachable: the client's
 * latest attempt found no API server (client_unreachable). Such a failure
 * is retried every RECONCILE_UNREACHABLE_RETRY_MS, so a write pending while
 * the API server restarts (a failover) goes out within that of it
 * answering, however long it was away; the exponential backoff would by
 * then wait about as long as the outage lasted. Pure. */
#define RECONCILE_UNREACHABLE_RETRY_MS 500
int64_t reconcile_retry_soon_ns(enum zl_err err, bool unreachable);

/* A short name for the error class of a failed reconcile, for the
 * error_type metric label ("conflict", "forbidden", "transient", ...). */
const char *reconcile_error_type(enum zl_err err);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* Leader election on a coordination.k8s.io/v1 Lease with client-go's
 * semantics: expiry judged from the local instant the record was last seen
 * to change, acquire by create or compare-and-swap update, renew, step down
 * when renewing fails for renewDeadline, release on stop. The decision rules
 * are pure functions; lease_start runs them in a thread of its own. */
#ifndef ZL_KUBE_LEASE_H
#define ZL_KUBE_LEASE_H

#include <stdbool.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/err.h"
#include "kube/client.h"

#define LEASE_DURATION_MS 15000L
#define LEASE_RENEW_DEADLINE_MS 10000L
#define LEASE_RETRY_PERIOD_MS 2000L
#define LEASE_JITTER 1.2 /* client-go's JitterFactor */
#define LEASE_MAX_IDENTITY 253
/* A MicroTime, "2006-01-02T15:04:05.000000Z" + NUL: what clock_format_ns
 * writes with CLOCK_PREC_US. */
#define LEASE_TIME_LEN CLOCK_RFC3339_MAX

/* The election fields of a Lease, as read or to be written. */
struct lease_record {
    char holder[LEASE_MAX_IDENTITY + 1]; /* "" when nobody holds it */
    long duration_s;                     /* leaseDurationSeconds */
    char acquire_time[LEASE_TIME_LEN];   /* MicroTime text, "" if absent */
    char renew_time[LEASE_TIME_LEN];
    long transitions; /* leaseTransitions */
    char resource_version[64];
};

enum lease_action {
    LEASE_WAIT,    /* someone else holds an unexpired lease */
    LEASE_CREATE,  /* no Lease exists: create it as holder */
    LEASE_ACQUIRE, /* expired or released: update it as the new holder */
    LEASE_RENEW,   /* we hold it: update renewTime */
};

/* ---- pure rules ---- */

/* Checks leaseDuration > renewDeadline > LEASE_JITTER * retryPeriod and all
 * positive; ZL_ERR_INVALID otherwise (with a log line saying which). */
enum zl_err lease_validate(long duration_ms, long renew_deadline_ms,
                           long retry_period_ms);

/* What to do given the record last observed (NULL: the Lease does not
 * exist), the local monotonic instant observed_ns it was seen to change,
 * and now_ns. For LEASE_WAIT, *expires_ns (may be NULL) is the instant
 * the holder's lease lapses: observed_ns + leaseDurationSeconds. */
enum lease_action lease_decide(const struct lease_record *rec,
                               int64_t observed_ns, int64_t now_ns,
                               const char *identity, int64_t *expires_ns);

/* True when the election fields differ (resourceVersion is ignored). */
bool lease_record_changed(const struct lease_record *a,
                          const struct lease_record *b);

/* The record to write for action (not LEASE_WAIT): holder identity,
 * duration, renewTime now; acquireTime and transitions kept when renewing,
 * acquireTime now and transitions + 1 when the holder changes (a create
 * starts at 0). observed may be NULL for LEASE_CREATE. now_text is a
 * MicroTime (clock_format_ns with CLOCK_PREC_US). The resourceVersion is
 * carried over for the CAS. */
void lease_next_record(const struct lease_record *observed,
                       enum lease_action action, const char *identity,
                       long duration_s, const char *now_text,
                       struct lease_record *out);

/* The record a leader writes when it steps down: empty holder,
 * leaseDurationSeconds 1, times now, transitions kept. */
void lease_release_record(const struct lease_record *observed,
                          const char *now_text, struct lease_record *out);

/* Reads a Lease JSON object (parsed with json_parse_object). ZL_ERR_PARSE
 * when it is not one JSON object, ZL_ERR_LIMIT when it is too deep or too
 * long for json_parse_object or a field is longer than the record holds,
 * ZL_ERR_NOMEM. */
enum zl_err lease_record_parse(const char *json, size_t json_len,
                               struct lease_record *out);

/* Appends the whole Lease object for a create (resource_version "") or a
 * compare-and-swap update. Errors as buf_append. */
enum zl_err lease_render(const char *ns, const char *name,
                         const struct lease_record *rec, struct buf *out);

/* ---- the elector ---- */

/* Called from the election thread; keep them short. on_new_leader gets the
 * holder each time the observed holder changes ("" when released). */
struct lease_callbacks {
    void (*on_started_leading)(void *ctx);
    void (*on_stopped_leading)(void *ctx);
    void (*on_new_leader)(void *ctx, const char *identity);
    void *ctx;
};

struct lease_options {
    const char *lease_namespace;
    const char *name;
    const char *identity;   /* unique per process, e.g. pod name + uid */
    long duration_ms;       /* 0: LEASE_DURATION_MS */
    long renew_deadline_ms; /* 0: LEASE_RENEW_DEADLINE_MS */
    long retry_period_ms;   /* 0: LEASE_RETRY_PERIOD_MS */
    double jitter;          /* 0: LEASE_JITTER; < 0: none */
    bool keep_on_stop;      /* true: do not release on lease_stop */
    struct lease_callbacks cb;
};

struct lease;

/* Makes an elector. client is borrowed and must outlive it; give it a
 * per-attempt timeout and retries that fit within renewDeadline. Strings
 * are copied. ZL_ERR_INVALID for bad durations or missing names,
 * ZL_ERR_LIMIT for an identity over LEASE_MAX_IDENTITY, ZL_ERR_NOMEM. */
enum zl_err lease_new(struct client *client, const struct lease_options *opt,
                      struct lease **out);

/* Starts the election thread. ZL_ERR_INTERNAL when it cannot start,
 * ZL_ERR_INVALID when started already. */
enum zl_err lease_start(struct lease *l);

/* True while this process holds the lease: set after a successful acquire,
 * false from the moment renewDeadline passes without a successful renew
 * (even while a request is still hanging) and before any release. Lock
 * free; callers check it before every write. */
bool lease_is_leader(struct lease *l);

/* True once the election thread ended by itself (leadership lost, as in
 * client-go the elector does not run again) or after lease_stop. */
bool lease_finished(struct lease *l);

/* Stops the thread: a leader first stops leading (flag, then callback),
 * then releases the lease unless keep_on_stop. Waits for a request in
 * flight to end. Safe to call more than once, and without lease_start. */
void lease_stop(struct lease *l);

/* Stops (as lease_stop) and frees. NULL is a no-op. */
void lease_free(struct lease *l);

#endif

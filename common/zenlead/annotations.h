/* SPDX-License-Identifier: Apache-2.0 */
/* The zen-lead.io/ annotations a user sets on a source Service (SPEC section
 * 1): parsing, validation and normalization. Pure: no I/O, no clock. Every
 * problem is reported with its key, a one-sentence message and how to fix
 * it, so the webhook and the controller say the same thing. */
#ifndef ZL_ZENLEAD_ANNOTATIONS_H
#define ZL_ZENLEAD_ANNOTATIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "kube/views.h"

#define ANNOTATIONS_PREFIX "zen-lead.io/"
#define ANNOTATIONS_ENABLED "zen-lead.io/enabled"
#define ANNOTATIONS_STICKY "zen-lead.io/sticky"
#define ANNOTATIONS_LEADER_NAME "zen-lead.io/leader-service-name"
#define ANNOTATIONS_MIN_READY "zen-lead.io/min-ready-duration"
#define ANNOTATIONS_FAILOVER_DELAY "zen-lead.io/failover-min-delay"
/* Written by the controller on the leader Service only. */
#define ANNOTATIONS_CURRENT_LEADER "zen-lead.io/current-leader"
#define ANNOTATIONS_LEADER_POD_NAME "zen-lead.io/leader-pod-name"
#define ANNOTATIONS_LEADER_POD_UID "zen-lead.io/leader-pod-uid"
#define ANNOTATIONS_LAST_SWITCH "zen-lead.io/leader-last-switch-time"

/* Durations are accepted from 0 to this many milliseconds (24h). */
#define ANNOTATIONS_MAX_DURATION_MS (24LL * 3600 * 1000)
/* A DNS-1035 label: 1 to 63 characters. */
#define ANNOTATIONS_MAX_NAME 63

/* What the annotations mean once parsed; defaults where absent or invalid.
 * Values are read AFTER the normalization annotations_normalize describes
 * (surrounding white space trimmed, booleans case-insensitive), so " True "
 * enables a Service whether or not the mutating webhook rewrote it first:
 * the outcome never depends on the webhook being installed. leader_name is
 * the explicit annotation when valid, else "<source>-leader" when that is a
 * valid name and no explicit one was given, else "" (the controller then
 * refuses: an invalid explicit name never falls back to the default, which
 * would route through a Service the user did not ask for). */
struct annotations_settings {
    bool enabled; /* exactly "true" (after normalization) */
    bool sticky;  /* default true */
    char leader_name[ANNOTATIONS_MAX_NAME + 1]; /* "" when no valid name */
    int64_t min_ready_ms;          /* default 0; sub-ms values round up */
    int64_t failover_min_delay_ms; /* default 0; sub-ms values round up */
};

enum annotations_severity {
    ANNOTATIONS_ERROR,   /* the webhook rejects; the controller refuses or
                            falls back to the default and warns */
    ANNOTATIONS_WARNING, /* admitted with a warning */
};

/* message, fix and key share one allocation, owned by the result through
 * message: free them only with annotations_result_cleanup. */
struct annotations_problem {
    enum annotations_severity severity;
    const char *key; /* the annotation key (static or owned by result) */
    char *message;   /* one sentence: what is wrong; owned */
    char *fix;       /* one sentence: how to fix it; owned */
    const char *event_reason; /* InvalidAnnotation, InvalidLeaderName or
                                 InvalidService */
};

struct annotations_result {
    struct annotations_settings settings;
    struct annotations_problem *problems;
    size_t problem_count;
};

/* Reads the zen-lead.io/ annotations of a source Service named
 * service_name. Fills out->settings (defaults for anything missing or
 * invalid) and out->problems (possibly none). Returns ZL_OK even when there
 * are problems; ZL_ERR_NOMEM only when allocation fails (out is then
 * empty). The caller frees with annotations_result_cleanup.
 * Problems, in key order, then the leader name:
 * - enabled neither true nor false: ERROR, InvalidAnnotation, not enabled
 *   (the webhook rejects it: whoever wrote "yes" meant to opt in);
 * - sticky neither true nor false, a duration that is not a Go duration, is
 *   negative or above 24h: ERROR, InvalidAnnotation, default kept;
 * - a controller-owned key, or an unknown zen-lead.io/ key (with "did you
 *   mean" when a known key is close): ERROR, InvalidAnnotation, ignored;
 * - leader-service-name invalid or equal to service_name: ERROR,
 *   InvalidLeaderName; and, only when enabled, a source name over 56
 *   characters (or not a DNS-1035 label) without that annotation: ERROR,
 *   InvalidLeaderName. service_name NULL counts as "". */
enum zl_err annotations_parse(const struct views_map *annotations,
                              const char *service_name,
                              struct annotations_result *out);

/* Checks a source Service as a whole, the one check the webhook (V1, V2)
 * and the controller both run, so they refuse the same Services:
 * annotations_parse of its annotations and name, then, only when it is
 * enabled, what an enabled Service's spec needs, each an ERROR with reason
 * InvalidService and key zen-lead.io/enabled (enabling is what makes it
 * wrong), after the annotation problems:
 * - type ExternalName (reported alone: such a Service routes to no pods);
 * - no selector (nothing to choose a leader from);
 * - no ports (a leader Service needs at least one port; the API server
 *   refuses a ClusterIP Service without one, headless sources included).
 * Errors and cleanup as annotations_parse. */
enum zl_err annotations_check_service(const struct views_service *svc,
                                      struct annotations_result *out);

void annotations_result_cleanup(struct annotations_result *result);

/* True when the result holds at least one ANNOTATIONS_ERROR. */
bool annotations_has_errors(const struct annotations_result *result);

/* The canonical spelling of one annotation value, for the mutating webhook:
 * trims surrounding white space; booleans become "true"/"false" whatever
 * their case. *out is NULL when the value is already canonical or the key is
 * not one of ours; otherwise a new string the caller frees. */
enum zl_err annotations_normalize(const char *key, const char *value,
                                  char **out);

/* True for keys only the controller may write (current-leader etc.). */
bool annotations_is_controller_key(const char *key);

#endif

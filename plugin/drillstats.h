/* SPDX-License-Identifier: Apache-2.0 */
/* The bookkeeping of kubectl zenlead drill: what each event of the leader
 * Service's primary slice says (when the old leader's endpoint left it, the
 * first other pod it names ready); and for the probe one record per request
 * (when it started and ended, the pod that answered or why it failed) and
 * from a run's records the figures a client saw: failures, the gap from the
 * delete to the first answer of the new leader, the longest stretch without
 * an answer, and which pods answered. Pure: no I/O and no clock. */
#ifndef ZL_PLUGIN_DRILLSTATS_H
#define ZL_PLUGIN_DRILLSTATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kube/views.h"

#define DRILLSTATS_POD_MAX 64   /* answering pod name kept, NUL included */
#define DRILLSTATS_ERROR_MAX 64 /* why a request failed, NUL included */
#define DRILLSTATS_MAX_PODS 16  /* distinct names counted; more: "other" */
#define DRILLSTATS_MAX_ERRORS 8 /* distinct errors counted; more: "other" */

/* The switch as the primary slice's events show it. Start zeroed with
 * the times at -1 (drillstats_switch_init). */
struct drillstats_switch {
    int64_t removed_ms; /* the old pod's endpoint left the slice; -1 */
    int64_t new_ms;     /* another pod was named ready; -1 */
    char new_pod[DRILLSTATS_POD_MAX]; /* that pod; "" until new_ms */
};

void drillstats_switch_init(struct drillstats_switch *sw);

/* Records one state of the primary slice at at_ms (deleted: the slice is
 * gone): the first instant the old pod's endpoint (by targetRef name) is
 * absent, and the first instant an endpoint of another pod is ready, with
 * its name (truncated to DRILLSTATS_POD_MAX - 1 bytes). Endpoints without a
 * targetRef name are ignored; what was seen is never overwritten. Returns
 * whether the new leader is known. s is borrowed (NULL when deleted). */
bool drillstats_switch_seen(struct drillstats_switch *sw,
                            const struct views_endpointslice *s, bool deleted,
                            const char *old_pod, int64_t at_ms);

/* One probe request. Times are milliseconds on one monotonic clock. */
struct drillstats_record {
    int64_t start_ms;
    int64_t end_ms;
    bool ok;                          /* a 2xx answer with a non-empty body */
    char pod[DRILLSTATS_POD_MAX];     /* the body, trimmed; "" unless ok */
    char error[DRILLSTATS_ERROR_MAX]; /* "" when ok */
};

/* A pod name (or an error) and how many requests it ended. */
struct drillstats_tally {
    char name[DRILLSTATS_POD_MAX > DRILLSTATS_ERROR_MAX ? DRILLSTATS_POD_MAX
                                                        : DRILLSTATS_ERROR_MAX];
    size_t count;
};

struct drillstats_summary {
    size_t requests;
    size_t failures;
    /* From t0, or the last answer of the old pod when later, to the first
     * answer of the new pod after t0; -1 when the new pod never answered
     * (or no new pod is known). */
    int64_t gap_ms;
    int64_t gap_from_ms; /* the instants of gap_ms; -1 with it */
    int64_t gap_to_ms;
    /* The longest time between two answers (any pod), the run's first
     * start and last end counting as answers; 0 without records. */
    int64_t longest_outage_ms;
    /* Answers per pod, in order of first answer; past DRILLSTATS_MAX_PODS
     * distinct names the rest are counted in other. */
    struct drillstats_tally pods[DRILLSTATS_MAX_PODS];
    size_t pod_count;
    size_t other;
    /* Failures per error, the same way. */
    struct drillstats_tally errors[DRILLSTATS_MAX_ERRORS];
    size_t error_count;
    size_t other_errors;
};

/* Copies body[0..len) into rec->pod without leading and trailing white
 * space, truncated to DRILLSTATS_POD_MAX - 1 bytes; returns whether
 * anything is left. */
bool drillstats_set_pod(struct drillstats_record *rec, const char *body,
                        size_t len);

/* Summarises records[0..count) (in the order they were sent; ends never
 * decrease) around t0_ms, the delete. old_pod and new_pod may be NULL (no
 * gap then when new_pod is). Records and names are borrowed. */
void drillstats_summarise(const struct drillstats_record *records, size_t count,
                          int64_t t0_ms, const char *old_pod,
                          const char *new_pod, struct drillstats_summary *out);

/* The count of answers from name in s (0 when it never answered). */
size_t drillstats_pod_count(const struct drillstats_summary *s,
                            const char *name);

#endif

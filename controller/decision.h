/* SPDX-License-Identifier: Apache-2.0 */
/* The decision log: one JSON line per leader change or loss, with the
 * namespace, the source Service, the old and new leader pods ("" for
 * none), the reason, and the milliseconds from the informer event that
 * showed it to the API server accepting the slice. Formatting is pure;
 * decision_write puts one line on the stream with a single write. */
#ifndef ZL_CONTROLLER_DECISION_H
#define ZL_CONTROLLER_DECISION_H

#include <stdint.h>
#include <stdio.h>

#include "base/buf.h"
#include "base/err.h"

struct decision_entry {
    int64_t time_ms;     /* wall clock, ms since the epoch */
    const char *ns;      /* namespace */
    const char *service; /* the source Service */
    const char *old_pod; /* NULL or "" for none */
    const char *new_pod; /* NULL or "" for none */
    const char *reason;  /* "elected", "lost", or a failover reason */
    double latency_ms;   /* < 0: unknown (a timed requeue), written null */
};

/* Appends the line, '\n' included:
 * {"ts":"...","msg":"leader decision","namespace":..,"service":..,
 *  "old":..,"new":..,"reason":..,"latency_ms":..}. Errors as buf_append. */
enum zl_err decision_format(const struct decision_entry *e, struct buf *out);

/* Formats and writes one line to f (stdout in the daemon). */
void decision_write(FILE *f, const struct decision_entry *e);

#endif

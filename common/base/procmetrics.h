/* SPDX-License-Identifier: Apache-2.0 */
/* The metrics every zen-lead daemon exports about itself:
 * zen_lead_build_info{version,commit} and Prometheus' process_* families
 * (resident memory, CPU seconds, open file descriptors, start time), read
 * from /proc and getrusage when refreshed (before each scrape). */
#ifndef ZL_BASE_PROCMETRICS_H
#define ZL_BASE_PROCMETRICS_H

#include "base/err.h"
#include "base/metrics.h"

struct procmetrics;

/* Registers the families in reg (borrowed; it must outlive pm) and sets
 * build info and the start time. ZL_ERR_EXISTS when a name is taken,
 * ZL_ERR_NOMEM. Free with procmetrics_free (the families stay in reg). */
enum zl_err procmetrics_new(struct metrics_registry *reg, const char *version,
                            const char *commit, struct procmetrics **out);

void procmetrics_free(struct procmetrics *pm);

/* Reads memory, CPU and descriptors now (any thread). */
void procmetrics_refresh(struct procmetrics *pm);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* A metrics registry: counters, gauges and histograms with label sets, series
 * deletion, and the Prometheus text exposition format 0.0.4. Thread safe (one
 * lock per registry). It serves nothing itself: render into a buffer and let
 * the HTTP layer send it. */
#ifndef ZL_BASE_METRICS_H
#define ZL_BASE_METRICS_H

#include <stddef.h>

#include "base/buf.h"
#include "base/err.h"

#define METRICS_MAX_LABELS 8
#define METRICS_MAX_BUCKETS 32
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

enum metrics_type {
    METRICS_COUNTER,
    METRICS_GAUGE,
    METRICS_HISTOGRAM,
};

struct metrics_registry;
struct metrics_family; /* one metric name; owned by its registry */

/* Makes an empty registry. ZL_ERR_NOMEM (*out NULL). */
enum zl_err metrics_registry_new(struct metrics_registry **out);
/* Frees the registry and every family and series in it. NULL is a no-op. */
void metrics_registry_free(struct metrics_registry *reg);

/* Registers a family. label_names (label_count of them, at most
 * METRICS_MAX_LABELS) are copied. Histograms need 1..METRICS_MAX_BUCKETS
 * strictly increasing finite upper bounds (copied; +Inf is implicit) and may
 * not use the label "le". ZL_ERR_INVALID for a bad metric or label name or
 * bad buckets, ZL_ERR_EXISTS for a name taken. *out stays valid until the
 * registry is freed. A family without labels starts with one series at 0. */
enum zl_err metrics_register(struct metrics_registry *reg,
                             enum metrics_type type, const char *name,
                             const char *help, const char *const *label_names,
                             size_t label_count, const double *buckets,
                             size_t bucket_count, struct metrics_family **out);

/* The operations take one label value per label name, in order (NULL when the
 * family has no labels); a missing series is created. ZL_ERR_INVALID when the
 * operation does not fit the type (counters only go up, set is for gauges,
 * observe for histograms) or a value is NaN for a counter. */
enum zl_err metrics_add(struct metrics_family *fam,
                        const char *const *label_values, double delta);
enum zl_err metrics_inc(struct metrics_family *fam,
                        const char *const *label_values);
enum zl_err metrics_set(struct metrics_family *fam,
                        const char *const *label_values, double value);
enum zl_err metrics_observe(struct metrics_family *fam,
                            const char *const *label_values, double value);

/* Reads a counter's or gauge's value (histograms: the count).
 * ZL_ERR_NOTFOUND when the series does not exist. */
enum zl_err metrics_value(struct metrics_family *fam,
                          const char *const *label_values, double *out);

/* Deletes one series. ZL_ERR_NOTFOUND when it does not exist. */
enum zl_err metrics_delete(struct metrics_family *fam,
                           const char *const *label_values);

/* Deletes every series of every family of the registry whose labels include
 * all the given name=value pairs (pair_count pairs: names[i]=values[i]).
 * Families lacking one of the names are untouched. Returns how many series
 * were deleted. Used when a Service stops being managed. */
size_t metrics_delete_matching(struct metrics_registry *reg,
                               const char *const *names,
                               const char *const *values, size_t pair_count);

/* Appends the exposition of every family, sorted by name, series sorted by
 * label values, to out. Families with labels but no series are omitted. */
enum zl_err metrics_render(struct metrics_registry *reg, struct buf *out);

/* Formats a sample value as Prometheus does: shortest round-trip decimal,
 * "+Inf", "-Inf", "NaN". out must hold 32 bytes. */
void metrics_format_value(double value, char out[static 32]);

#endif

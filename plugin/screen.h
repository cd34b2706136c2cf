/* SPDX-License-Identifier: Apache-2.0 */
/* kubectl-zenlead's output forms of reports: the one-screen status of a
 * Service, the table of every annotated Service, and both as JSON for
 * scripts. Pure: text into a buffer, JSON into a json-c tree. */
#ifndef ZL_PLUGIN_SCREEN_H
#define ZL_PLUGIN_SCREEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "plugin/report.h"

struct json_object;

/* An age or span the way kubectl prints one: "45s", "3m12s", "2h5m",
 * "3d4h"; "-" for VIEWS_TIME_NONE instants. out holds at least 24
 * bytes. */
#define SCREEN_AGE_MAX 24
void screen_age(int64_t since_ms, int64_t now_ms, char out[SCREEN_AGE_MAX]);

/* The one-screen status of r. color adds ANSI colours. Errors as
 * buf_append. */
enum zl_err screen_status(const struct report *r, bool color, struct buf *out);

/* The table: one row per report (NAMESPACE column when all_namespaces). */
enum zl_err screen_table(const struct report *const *reports, size_t count,
                         bool all_namespaces, bool color, struct buf *out);

/* The status as JSON (schema: docs/reference/kubectl-zenlead-status.schema.json).
 * *out is a new object. ZL_ERR_NOMEM. */
enum zl_err screen_status_json(const struct report *r,
                               struct json_object **out);

/* {"kind":"ZenLeadStatusList","items":[status...]}. */
enum zl_err screen_list_json(const struct report *const *reports,
                             size_t count, struct json_object **out);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* kubectl zenlead why: a report told in sentences. Why the leader is who it
 * is (or why there is none), who would follow it, why each other pod
 * cannot lead, and the command that fixes each problem found. Pure. */
#ifndef ZL_PLUGIN_WHY_H
#define ZL_PLUGIN_WHY_H

#include "base/buf.h"
#include "base/err.h"
#include "plugin/report.h"

/* Appends the explanation of r. Errors as buf_append, ZL_ERR_NOMEM. */
enum zl_err why_explain(const struct report *r, struct buf *out);

#endif

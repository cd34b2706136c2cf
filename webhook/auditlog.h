/* SPDX-License-Identifier: Apache-2.0 */
/* Where the webhook's audit lines go (--audit-log): a file opened for
 * appending, or standard output for "-". Each line is one write under a
 * lock, so lines from several handler threads never interleave. */
#ifndef ZL_WEBHOOK_AUDITLOG_H
#define ZL_WEBHOOK_AUDITLOG_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

struct auditlog;

/* Opens path ("-": standard output) for appending, creating the file
 * (mode 0640). ZL_ERR_IO when it cannot be opened (the log says why),
 * ZL_ERR_NOMEM. */
enum zl_err auditlog_open(const char *path, struct auditlog **out);

/* Writes line[0..len) (which ends with its newline) whole. A failed write
 * is logged once per run of failures and counted; the request is answered
 * all the same. */
void auditlog_write(struct auditlog *a, const char *line, size_t len);

/* Lines that could not be written since the start. */
uint64_t auditlog_failures(struct auditlog *a);

/* Closes the file (not standard output) and frees. NULL is a no-op. */
void auditlog_close(struct auditlog *a);

#endif

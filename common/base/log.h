/* SPDX-License-Identifier: Apache-2.0 */
/* Process logger: one line per record, JSON lines by default (ts, level,
 * msg, then caller fields in order) or human text. Thread safe; a record is
 * written with one write so lines never interleave. It never fails the
 * caller: a record that cannot be built is replaced by a short notice.
 * Never pass secrets (tokens, keys) as fields. */
#ifndef ZL_BASE_LOG_H
#define ZL_BASE_LOG_H

#include <stdint.h>
#include <stdio.h>

#include "base/err.h"

enum log_level {
    LOG_LEVEL_DEBUG = 0,
    LOG_LEVEL_INFO,
    LOG_LEVEL_WARN,
    LOG_LEVEL_ERROR,
};

enum log_format {
    LOG_FORMAT_JSON = 0,
    LOG_FORMAT_TEXT,
};

/* A record longer than this is replaced by a short "record dropped" notice;
 * log_printf messages are cut at 2 KiB. */
#define LOG_MAX_RECORD 16384

/* One extra key/value of a record; value NULL is written as null. */
struct log_field {
    const char *key;
    const char *value;
};

/* Sets the minimum level, the format and the stream (stderr when NULL).
 * The stream is borrowed: keep it open while logging. */
void log_configure(enum log_level min_level, enum log_format format,
                   FILE *sink);

/* Replaces the clock (milliseconds since the epoch); NULL restores the real
 * one. For tests. */
void log_set_clock(int64_t (*now_ms)(void));

/* "debug", "info", "warn"/"warning", "error" (any case). ZL_ERR_INVALID
 * otherwise. */
enum zl_err log_level_parse(const char *text, enum log_level *out);
/* "json" or "text". ZL_ERR_INVALID otherwise. */
enum zl_err log_format_parse(const char *text, enum log_format *out);
const char *log_level_name(enum log_level level);

/* True when records of this level are written (cheap; check before
 * building expensive fields). */
int log_enabled(enum log_level level);

/* Writes a record with fields. */
void log_record(enum log_level level, const char *msg,
                const struct log_field *fields, size_t field_count);

/* Writes a record whose message is printf-formatted. */
void log_printf(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_printf(LOG_LEVEL_DEBUG, __VA_ARGS__)
#define log_info(...) log_printf(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_warn(...) log_printf(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_error(...) log_printf(LOG_LEVEL_ERROR, __VA_ARGS__)

#endif

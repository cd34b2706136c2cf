/* SPDX-License-Identifier: Apache-2.0 */
/* The clocks of zen-lead: one monotonic clock (for timeouts, deadlines and
 * latencies) and one real-time clock (for timestamps that leave the
 * process), and RFC 3339 text for real-time instants. Nothing else in the
 * tree reads a clock or spells a timestamp. It does not sleep or wait. */
#ifndef ZL_BASE_CLOCK_H
#define ZL_BASE_CLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

#define CLOCK_NS_PER_S INT64_C(1000000000)
#define CLOCK_NS_PER_MS INT64_C(1000000)
#define CLOCK_NS_PER_US INT64_C(1000)
#define CLOCK_MS_PER_S INT64_C(1000)

/* The largest RFC 3339 text clock_format_* writes, NUL included
 * ("2024-05-01T10:00:00.123456Z" is 27 bytes plus the NUL). */
#define CLOCK_RFC3339_MAX 32

/* Nanoseconds on CLOCK_MONOTONIC: never jumps, meaningless across
 * processes. */
int64_t clock_mono_ns(void);

/* Nanoseconds since the Unix epoch on CLOCK_REALTIME (UTC). */
int64_t clock_real_ns(void);

/* Digits after the seconds: metav1.Time has none, the log has
 * milliseconds, metav1.MicroTime (Leases) has microseconds. */
enum clock_precision {
    CLOCK_PREC_S = 0,
    CLOCK_PREC_MS,
    CLOCK_PREC_US,
};

/* Formats an instant as RFC 3339 in UTC ("2024-05-01T10:00:00Z",
 * "...00.123Z", "...00.123456Z") into out (CLOCK_RFC3339_MAX bytes) and
 * returns the length written. Fractions are truncated, not rounded, and
 * instants outside years 0000-9999 are clamped to them. The _ns variant
 * covers the years int64 nanoseconds can hold (1677-2262). */
size_t clock_format_ms(int64_t unix_ms, enum clock_precision prec,
                       char out[CLOCK_RFC3339_MAX]);
size_t clock_format_ns(int64_t unix_ns, enum clock_precision prec,
                       char out[CLOCK_RFC3339_MAX]);

/* Parses an RFC 3339 timestamp ("2024-05-01T10:00:00Z"; a fraction of any
 * length and a +hh:mm / -hh:mm offset allowed; 'T' and 'Z' in either case)
 * into milliseconds since the epoch (fraction truncated). The whole text
 * must be the timestamp. ZL_ERR_PARSE when malformed or out of range
 * (month 13, February 30, hour 24, second 60); *unix_ms is left
 * unchanged then. */
enum zl_err clock_parse_rfc3339(const char *text, int64_t *unix_ms);

#endif

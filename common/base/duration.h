/* SPDX-License-Identifier: Apache-2.0 */
/* Go-style durations ("1h2m3.5s", "500ms", "1.5h", "-2us", "0"), parsed to
 * and formatted from signed 64-bit nanoseconds exactly as Go's
 * time.ParseDuration and Duration.String do. The nanosecond constants are
 * base/clock's CLOCK_NS_PER_*. */
#ifndef ZL_BASE_DURATION_H
#define ZL_BASE_DURATION_H

#include <stdint.h>

#include "base/err.h"

/* Longest text duration_format writes, terminator included. */
#define DURATION_FORMAT_MAX 32

/* Parses text into nanoseconds. Units: ns, us (also µs and μs), ms, s, m, h;
 * every number needs a unit except a lone "0"; an optional leading sign.
 * ZL_ERR_PARSE for an empty string, a missing or unknown unit or a stray
 * character; ZL_ERR_RANGE when the value overflows int64 nanoseconds. */
enum zl_err duration_parse(const char *text, int64_t *out_ns);

/* Formats like Go's Duration.String: "1h2m3.5s", "500ms", "1.5µs", "0s". */
void duration_format(int64_t ns, char out[static DURATION_FORMAT_MAX]);

#endif

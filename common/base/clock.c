/* SPDX-License-Identifier: Apache-2.0 */
/* Clocks and RFC 3339 text. Civil-date arithmetic is done by hand
 * (proleptic Gregorian), so formatting and parsing need neither the time
 * zone database nor gmtime/timegm, and behave the same for every year
 * 0000-9999. */
#include "base/clock.h"

#include <stdbool.h>
#include <time.h>

int64_t clock_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * CLOCK_NS_PER_S + ts.tv_nsec;
}

int64_t clock_real_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * CLOCK_NS_PER_S + ts.tv_nsec;
}

/* Days from 1970-01-01 to a civil date (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* Writes value as exactly width digits at out. */
static void put_digits(char *out, int64_t value, int width)
{
    for (int k = width - 1; k >= 0; k--, value /= 10)
        out[k] = (char)('0' + value % 10);
}

/* secs: seconds since the epoch; frac_ns: 0..999999999. */
static size_t format_parts(int64_t secs, int64_t frac_ns,
                           enum clock_precision prec,
                           char out[CLOCK_RFC3339_MAX])
{
    const int64_t min_s = days_from_civil(0, 1, 1) * 86400;
    const int64_t max_s = days_from_civil(9999, 12, 31) * 86400 + 86399;
    if (secs < min_s) {
        secs = min_s;
        frac_ns = 0;
    } else if (secs > max_s) {
        secs = max_s;
        frac_ns = CLOCK_NS_PER_S - 1;
    }
    int64_t days = secs / 86400 - (secs % 86400 < 0);
    int64_t rem = secs - days * 86400;
    int64_t y;
    int m, d;
    civil_from_days(days, &y, &m, &d);
    const int64_t parts[] = {y, m, d, rem / 3600, rem / 60 % 60, rem % 60};
    const char seps[] = {'-', '-', 'T', ':', ':', '\0'};
    size_t n = 0;
    for (int i = 0; i < 6; i++) {
        int width = i == 0 ? 4 : 2;
        put_digits(out + n, parts[i], width);
        n += (size_t)width;
        if (seps[i] != '\0')
            out[n++] = seps[i];
    }
    if (prec != CLOCK_PREC_S) {
        int width = prec == CLOCK_PREC_MS ? 3 : 6;
        out[n++] = '.';
        put_digits(out + n, frac_ns / (prec == CLOCK_PREC_MS ? 1000000 : 1000),
                   width);
        n += (size_t)width;
    }
    out[n++] = 'Z';
    out[n] = '\0';
    return n;
}

size_t clock_format_ms(int64_t unix_ms, enum clock_precision prec,
                       char out[CLOCK_RFC3339_MAX])
{
    /* Floor division without multiplying back: INT64_MIN must not
     * overflow. */
    int64_t frac_ms = unix_ms % CLOCK_MS_PER_S;
    int64_t secs = unix_ms / CLOCK_MS_PER_S - (frac_ms < 0);
    if (frac_ms < 0)
        frac_ms += CLOCK_MS_PER_S;
    return format_parts(secs, frac_ms * CLOCK_NS_PER_MS, prec, out);
}

size_t clock_format_ns(int64_t unix_ns, enum clock_precision prec,
                       char out[CLOCK_RFC3339_MAX])
{
    int64_t frac_ns = unix_ns % CLOCK_NS_PER_S;
    int64_t secs = unix_ns / CLOCK_NS_PER_S - (frac_ns < 0);
    if (frac_ns < 0)
        frac_ns += CLOCK_NS_PER_S;
    return format_parts(secs, frac_ns, prec, out);
}

/* Reads exactly n digits. */
static bool digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (c - '0');
    }
    *p += n;
    *out = v;
    return true;
}

static bool expect(const char **p, char c)
{
    if (**p != c)
        return false;
    (*p)++;
    return true;
}

static int days_in_month(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

/* Parses the zone: Z or +hh:mm / -hh:mm, into seconds east of UTC. */
static bool parse_zone(const char **p, int *offset_s)
{
    int hh, mm;
    char sign = **p;
    *offset_s = 0;
    if (sign == 'Z' || sign == 'z') {
        (*p)++;
        return true;
    }
    if (sign != '+' && sign != '-')
        return false;
    (*p)++;
    if (!digits(p, 2, &hh) || !expect(p, ':') || !digits(p, 2, &mm) ||
        hh > 23 || mm > 59)
        return false;
    *offset_s = (hh * 3600 + mm * 60) * (sign == '-' ? -1 : 1);
    return true;
}

/* Reads ".ddd..." (any number of digits, at least one) as milliseconds. */
static bool parse_fraction(const char **p, int *ms)
{
    *ms = 0;
    if (**p != '.')
        return true;
    (*p)++;
    int n = 0;
    for (; **p >= '0' && **p <= '9'; (*p)++, n++)
        if (n < 3)
            *ms = *ms * 10 + (**p - '0');
    for (int k = n; k < 3; k++)
        *ms *= 10;
    return n > 0;
}

enum zl_err clock_parse_rfc3339(const char *text, int64_t *unix_ms)
{
    const char *p = text;
    int y, mo, d, h, mi, s, ms, offset;
    if (!digits(&p, 4, &y) || !expect(&p, '-') || !digits(&p, 2, &mo) ||
        !expect(&p, '-') || !digits(&p, 2, &d))
        return ZL_ERR_PARSE;
    if (*p != 'T' && *p != 't')
        return ZL_ERR_PARSE;
    p++;
    if (!digits(&p, 2, &h) || !expect(&p, ':') || !digits(&p, 2, &mi) ||
        !expect(&p, ':') || !digits(&p, 2, &s) || !parse_fraction(&p, &ms))
        return ZL_ERR_PARSE;
    if (!parse_zone(&p, &offset) || *p != '\0')
        return ZL_ERR_PARSE;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 ||
        mi > 59 || s > 59)
        return ZL_ERR_PARSE;
    int64_t secs = days_from_civil(y, mo, d) * 86400 + (int64_t)h * 3600 +
                   (int64_t)mi * 60 + s - offset;
    *unix_ms = secs * 1000 + ms;
    return ZL_OK;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* Go-compatible duration parsing and formatting. Parsing follows
 * time.ParseDuration digit by digit so the same text gives the same
 * nanoseconds (fractions are truncated as Go truncates them); formatting
 * follows Duration.String. */
#include "base/duration.h"

#include <stdbool.h>
#include <string.h>

#include "base/clock.h"

#define DURATION_MAX_MAGNITUDE (UINT64_C(1) << 63)

struct duration_unit {
    const char *name;
    uint64_t ns;
};

static const struct duration_unit duration_units[] = {
    {"ns", 1},
    {"us", CLOCK_NS_PER_US},
    {"\xc2\xb5s", CLOCK_NS_PER_US}, /* U+00B5 micro sign */
    {"\xce\xbcs", CLOCK_NS_PER_US}, /* U+03BC Greek small letter mu */
    {"ms", CLOCK_NS_PER_MS},
    {"s", CLOCK_NS_PER_S},
    {"m", 60 * CLOCK_NS_PER_S},
    {"h", 3600 * CLOCK_NS_PER_S},
};

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Consumes leading digits into *x; false on overflow past 2^63. */
static bool leading_int(const char **s, uint64_t *x, bool *any)
{
    uint64_t v = 0;
    *any = false;
    while (is_digit(**s)) {
        if (v > (DURATION_MAX_MAGNITUDE - 1) / 10)
            return false;
        v = v * 10 + (uint64_t)(**s - '0');
        if (v > DURATION_MAX_MAGNITUDE)
            return false;
        (*s)++;
        *any = true;
    }
    *x = v;
    return true;
}

/* Consumes fraction digits; stops accumulating (but keeps consuming) once
 * more precision could overflow, as Go does. */
static void leading_fraction(const char **s, uint64_t *x, double *scale,
                             bool *any)
{
    uint64_t v = 0;
    double sc = 1;
    bool overflow = false;
    *any = false;
    while (is_digit(**s)) {
        *any = true;
        if (!overflow) {
            if (v > (UINT64_MAX >> 1) / 10) {
                overflow = true;
            } else {
                uint64_t y = v * 10 + (uint64_t)(**s - '0');
                if (y > DURATION_MAX_MAGNITUDE) {
                    overflow = true;
                } else {
                    v = y;
                    sc *= 10;
                }
            }
        }
        (*s)++;
    }
    *x = v;
    *scale = sc;
}

static const struct duration_unit *find_unit(const char *start, size_t len)
{
    for (size_t i = 0; i < sizeof(duration_units) / sizeof(*duration_units);
         i++) {
        if (strlen(duration_units[i].name) == len &&
            memcmp(duration_units[i].name, start, len) == 0)
            return &duration_units[i];
    }
    return NULL;
}

/* Parses one "<number><unit>" element and adds it to *total. */
static enum zl_err parse_element(const char **s, uint64_t *total)
{
    uint64_t whole = 0, frac = 0;
    double scale = 1;
    bool pre = false, post = false;
    if (!(is_digit(**s) || **s == '.'))
        return ZL_ERR_PARSE;
    if (!leading_int(s, &whole, &pre))
        return ZL_ERR_RANGE;
    if (**s == '.') {
        (*s)++;
        leading_fraction(s, &frac, &scale, &post);
    }
    if (!pre && !post)
        return ZL_ERR_PARSE;
    const char *unit_start = *s;
    while (**s != '\0' && **s != '.' && !is_digit(**s))
        (*s)++;
    size_t unit_len = (size_t)(*s - unit_start);
    if (unit_len == 0)
        return ZL_ERR_PARSE;
    const struct duration_unit *unit = find_unit(unit_start, unit_len);
    if (unit == NULL)
        return ZL_ERR_PARSE;
    if (whole > DURATION_MAX_MAGNITUDE / unit->ns)
        return ZL_ERR_RANGE;
    uint64_t v = whole * unit->ns;
    if (frac > 0) {
        v += (uint64_t)((double)frac * ((double)unit->ns / scale));
        if (v > DURATION_MAX_MAGNITUDE)
            return ZL_ERR_RANGE;
    }
    *total += v;
    if (*total > DURATION_MAX_MAGNITUDE)
        return ZL_ERR_RANGE;
    return ZL_OK;
}

enum zl_err duration_parse(const char *text, int64_t *out_ns)
{
    const char *s = text;
    bool neg = false;
    uint64_t total = 0;

    if (*s == '-' || *s == '+') {
        neg = *s == '-';
        s++;
    }
    if (strcmp(s, "0") == 0) {
        *out_ns = 0;
        return ZL_OK;
    }
    if (*s == '\0')
        return ZL_ERR_PARSE;
    while (*s != '\0') {
        enum zl_err err = parse_element(&s, &total);
        if (err != ZL_OK)
            return err;
    }
    if (neg) {
        *out_ns = total == DURATION_MAX_MAGNITUDE ? INT64_MIN : -(int64_t)total;
        return ZL_OK;
    }
    if (total > (uint64_t)INT64_MAX)
        return ZL_ERR_RANGE;
    *out_ns = (int64_t)total;
    return ZL_OK;
}

/* Writes the fraction of v (prec digits, trailing zeros dropped) ending at
 * *w and returns v without those digits. */
static uint64_t fmt_frac(char *buf, size_t *w, uint64_t v, int prec)
{
    bool print = false;
    for (int i = 0; i < prec; i++) {
        char digit = (char)(v % 10);
        print = print || digit != 0;
        if (print)
            buf[--*w] = (char)('0' + digit);
        v /= 10;
    }
    if (print)
        buf[--*w] = '.';
    return v;
}

static void fmt_int(char *buf, size_t *w, uint64_t v)
{
    if (v == 0) {
        buf[--*w] = '0';
        return;
    }
    while (v > 0) {
        buf[--*w] = (char)('0' + v % 10);
        v /= 10;
    }
}

static void fmt_small(char *buf, size_t *w, uint64_t u)
{
    int prec;
    buf[--*w] = 's';
    if (u == 0) {
        buf[--*w] = '0';
        return;
    }
    if (u < (uint64_t)CLOCK_NS_PER_US) {
        prec = 0;
        buf[--*w] = 'n';
    } else if (u < (uint64_t)CLOCK_NS_PER_MS) {
        prec = 3;
        buf[--*w] = '\xb5';
        buf[--*w] = '\xc2';
    } else {
        prec = 6;
        buf[--*w] = 'm';
    }
    u = fmt_frac(buf, w, u, prec);
    fmt_int(buf, w, u);
}

void duration_format(int64_t ns, char out[static DURATION_FORMAT_MAX])
{
    char buf[DURATION_FORMAT_MAX];
    size_t w = sizeof(buf);
    bool neg = ns < 0;
    uint64_t u = neg ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns;

    if (u < (uint64_t)CLOCK_NS_PER_S) {
        fmt_small(buf, &w, u);
    } else {
        buf[--w] = 's';
        u = fmt_frac(buf, &w, u, 9);
        fmt_int(buf, &w, u % 60);
        u /= 60;
        if (u > 0) {
            buf[--w] = 'm';
            fmt_int(buf, &w, u % 60);
            u /= 60;
            if (u > 0) {
                buf[--w] = 'h';
                fmt_int(buf, &w, u);
            }
        }
    }
    if (neg)
        buf[--w] = '-';
    size_t n = sizeof(buf) - w;
    memcpy(out, buf + w, n);
    out[n] = '\0';
}

/* SPDX-License-Identifier: Apache-2.0 */
/* The clocks and RFC 3339 text: formatting at each precision, clamping,
 * parsing of every accepted and refused shape, and round trips. */
#include <criterion/criterion.h>
#include <string.h>

#include "base/clock.h"

struct parse_case {
    const char *text;
    enum zl_err err;
    int64_t ms;
};

static const struct parse_case parse_cases[] = {
    {"1970-01-01T00:00:00Z", ZL_OK, 0},
    {"2024-05-01T10:00:00Z", ZL_OK, INT64_C(1714557600000)},
    {"2024-05-01t10:00:00z", ZL_OK, INT64_C(1714557600000)},
    {"2024-05-01T10:00:00.5Z", ZL_OK, INT64_C(1714557600500)},
    {"2024-05-01T10:00:00.123456789Z", ZL_OK, INT64_C(1714557600123)},
    {"2024-05-01T10:00:00.999999999Z", ZL_OK, INT64_C(1714557600999)},
    {"2000-02-29T23:59:59Z", ZL_OK, INT64_C(951868799000)},
    {"1969-12-31T23:59:59.5Z", ZL_OK, -500},
    {"2024-05-01T12:00:00+02:00", ZL_OK, INT64_C(1714557600000)},
    {"2024-05-01T05:30:00-04:30", ZL_OK, INT64_C(1714557600000)},
    {"1969-12-31T23:59:59Z", ZL_OK, -1000},
    {"2024-02-29T00:00:00Z", ZL_OK, INT64_C(1709164800000)},
    {"0000-01-01T00:00:00Z", ZL_OK, INT64_C(-62167219200000)},
    {"9999-12-31T23:59:59Z", ZL_OK, INT64_C(253402300799000)},
    {"2023-02-29T00:00:00Z", ZL_ERR_PARSE, 0},
    {"1900-02-29T00:00:00Z", ZL_ERR_PARSE, 0},
    {"2024-04-31T00:00:00Z", ZL_ERR_PARSE, 0},
    {"2024-5-01T10:00:00Z", ZL_ERR_PARSE, 0},
    {"2024-13-01T00:00:00Z", ZL_ERR_PARSE, 0},
    {"2024-00-01T00:00:00Z", ZL_ERR_PARSE, 0},
    {"2024-05-01T24:00:00Z", ZL_ERR_PARSE, 0},
    {"2024-05-01T10:60:00Z", ZL_ERR_PARSE, 0},
    {"2024-05-01T10:00:60Z", ZL_ERR_PARSE, 0},
    {"2024-05-01T10:00:00", ZL_ERR_PARSE, 0},
    {"2024-05-01 10:00:00Z", ZL_ERR_PARSE, 0},
    {"2024-05-01T10:00:00.Z", ZL_ERR_PARSE, 0},
    {"2024-05-01T10:00:00Zx", ZL_ERR_PARSE, 0},
    {"2024-05-01T10:00:00+0200", ZL_ERR_PARSE, 0},
    {"2024-05-01T10:00:00+24:00", ZL_ERR_PARSE, 0},
    {"24-05-01T10:00:00Z", ZL_ERR_PARSE, 0},
    {"", ZL_ERR_PARSE, 0},
};

Test(clock, parse_accepts_rfc3339_only)
{
    for (size_t i = 0; i < sizeof(parse_cases) / sizeof(*parse_cases); i++) {
        const struct parse_case *c = &parse_cases[i];
        int64_t ms = 42;
        enum zl_err err = clock_parse_rfc3339(c->text, &ms);
        cr_expect_eq(err, c->err, "%s: %d", c->text, err);
        cr_expect_eq(ms, c->err == ZL_OK ? c->ms : 42, "%s: %lld", c->text,
                     (long long)ms);
    }
}

struct format_case {
    int64_t ms;
    enum clock_precision prec;
    const char *text;
};

static const struct format_case format_cases[] = {
    {0, CLOCK_PREC_S, "1970-01-01T00:00:00Z"},
    {INT64_C(1714557600123), CLOCK_PREC_S, "2024-05-01T10:00:00Z"},
    {INT64_C(1714557600123), CLOCK_PREC_MS, "2024-05-01T10:00:00.123Z"},
    {INT64_C(1714557600123), CLOCK_PREC_US, "2024-05-01T10:00:00.123000Z"},
    {-1, CLOCK_PREC_MS, "1969-12-31T23:59:59.999Z"},
    {-1, CLOCK_PREC_S, "1969-12-31T23:59:59Z"},
    {INT64_C(1709164800000), CLOCK_PREC_S, "2024-02-29T00:00:00Z"},
    {INT64_MAX, CLOCK_PREC_S, "9999-12-31T23:59:59Z"},
    {INT64_MIN, CLOCK_PREC_S, "0000-01-01T00:00:00Z"},
    {INT64_MAX, CLOCK_PREC_MS, "9999-12-31T23:59:59.999Z"},
};

Test(clock, format_ms_is_utc_and_truncates)
{
    for (size_t i = 0; i < sizeof(format_cases) / sizeof(*format_cases); i++) {
        const struct format_case *c = &format_cases[i];
        char out[CLOCK_RFC3339_MAX];
        size_t n = clock_format_ms(c->ms, c->prec, out);
        cr_expect_str_eq(out, c->text);
        cr_expect_eq(n, strlen(c->text));
    }
}

Test(clock, format_ns_has_microseconds)
{
    char out[CLOCK_RFC3339_MAX];
    clock_format_ns(INT64_C(1772359200123456789), CLOCK_PREC_US, out);
    cr_assert_str_eq(out, "2026-03-01T10:00:00.123456Z");
    clock_format_ns(-1, CLOCK_PREC_US, out);
    cr_assert_str_eq(out, "1969-12-31T23:59:59.999999Z");
    clock_format_ns(0, CLOCK_PREC_S, out);
    cr_assert_str_eq(out, "1970-01-01T00:00:00Z");
    /* The extremes of int64 nanoseconds, without overflow on the way. */
    clock_format_ns(INT64_MIN, CLOCK_PREC_US, out);
    cr_assert_str_eq(out, "1677-09-21T00:12:43.145224Z");
    clock_format_ns(INT64_MAX, CLOCK_PREC_US, out);
    cr_assert_str_eq(out, "2262-04-11T23:47:16.854775Z");
}

Test(clock, format_then_parse_round_trips)
{
    for (int64_t s = -90001; s < INT64_C(250000000000); s = s * 3 + 7777) {
        if (s < 0)
            s = -s;
        char out[CLOCK_RFC3339_MAX];
        clock_format_ms(s * 1000 + 250, CLOCK_PREC_MS, out);
        int64_t back = 0;
        cr_assert_eq(clock_parse_rfc3339(out, &back), ZL_OK, "%s", out);
        cr_assert_eq(back, s * 1000 + 250, "%s", out);
    }
}

/* Whole seconds, weekly over the years around the epoch, negative ones
 * included. */
Test(clock, format_seconds_then_parse_round_trips_around_1970)
{
    for (int64_t s = -INT64_C(86400) * 800; s < INT64_C(86400) * 366 * 60;
         s += INT64_C(86400) * 7 + 3607) {
        char out[CLOCK_RFC3339_MAX];
        int64_t back = 0;
        clock_format_ms(s * 1000, CLOCK_PREC_S, out);
        cr_assert_eq(clock_parse_rfc3339(out, &back), ZL_OK, "%s", out);
        cr_assert_eq(back, s * 1000, "%s", out);
    }
}

Test(clock, clocks_advance)
{
    int64_t m0 = clock_mono_ns(), r0 = clock_real_ns();
    int64_t m1 = clock_mono_ns(), r1 = clock_real_ns();
    cr_assert_geq(m1, m0);
    /* The real clock is past 2024 and within a second of itself. */
    cr_assert_gt(r0, INT64_C(1704067200) * CLOCK_NS_PER_S);
    cr_assert_lt(r1 - r0, CLOCK_NS_PER_S);
}

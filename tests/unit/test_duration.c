/* SPDX-License-Identifier: Apache-2.0 */
/* Go-style duration parsing and formatting, checked against the values Go's
 * own time package gives for the same text. */
#include <criterion/criterion.h>
#include <stdio.h>

#include "base/duration.h"

struct parse_case {
    const char *text;
    enum zl_err err;
    int64_t ns;
};

static const struct parse_case parse_cases[] = {
    {"0", ZL_OK, 0},
    {"5s", ZL_OK, INT64_C(5000000000)},
    {"30s", ZL_OK, INT64_C(30000000000)},
    {"1478s", ZL_OK, INT64_C(1478000000000)},
    {"-5s", ZL_OK, INT64_C(-5000000000)},
    {"+5s", ZL_OK, INT64_C(5000000000)},
    {"-0", ZL_OK, 0},
    {"+0", ZL_OK, 0},
    {"5.0s", ZL_OK, INT64_C(5000000000)},
    {"5.6s", ZL_OK, INT64_C(5600000000)},
    {"5.s", ZL_OK, INT64_C(5000000000)},
    {".5s", ZL_OK, INT64_C(500000000)},
    {"1.0s", ZL_OK, INT64_C(1000000000)},
    {"1.00s", ZL_OK, INT64_C(1000000000)},
    {"1.004s", ZL_OK, INT64_C(1004000000)},
    {"1.0040s", ZL_OK, INT64_C(1004000000)},
    {"100.00100s", ZL_OK, INT64_C(100001000000)},
    {"10ns", ZL_OK, 10},
    {"11us", ZL_OK, 11000},
    {"12\xc2\xb5s", ZL_OK, 12000},
    {"12\xce\xbcs", ZL_OK, 12000},
    {"13ms", ZL_OK, 13000000},
    {"500ms", ZL_OK, 500000000},
    {"14s", ZL_OK, INT64_C(14000000000)},
    {"15m", ZL_OK, INT64_C(900000000000)},
    {"16h", ZL_OK, INT64_C(57600000000000)},
    {"1.5h", ZL_OK, INT64_C(5400000000000)},
    {"24h", ZL_OK, INT64_C(86400000000000)},
    {"3h30m", ZL_OK, INT64_C(12600000000000)},
    {"1m30s", ZL_OK, INT64_C(90000000000)},
    {"1h2m3.5s", ZL_OK, INT64_C(3723500000000)},
    {"10.5s4m", ZL_OK, INT64_C(250500000000)},
    {"-2m3.4s", ZL_OK, INT64_C(-123400000000)},
    {"1h2m3s4ms5us6ns", ZL_OK, INT64_C(3723004005006)},
    {"39h9m14.425s", ZL_OK, INT64_C(140954425000000)},
    {"52763797000ns", ZL_OK, INT64_C(52763797000)},
    {"0.3333333333333333333h", ZL_OK, INT64_C(1200000000000)},
    {"9007199254740993ns", ZL_OK, INT64_C(9007199254740993)},
    {"9223372036854775807ns", ZL_OK, INT64_MAX},
    {"9223372036854775.807us", ZL_OK, INT64_MAX},
    {"9223372036s854ms775us807ns", ZL_OK, INT64_MAX},
    {"-9223372036854775808ns", ZL_OK, INT64_MIN},
    {"-9223372036854775.808us", ZL_OK, INT64_MIN},
    {"0.100000000000000000000h", ZL_OK, INT64_C(360000000000)},
    {"0.830103483285477580700h", ZL_OK, INT64_C(2988372539827)},
    /* errors */
    {"", ZL_ERR_PARSE, 0},
    {"3", ZL_ERR_PARSE, 0},
    {"-", ZL_ERR_PARSE, 0},
    {"+", ZL_ERR_PARSE, 0},
    {"s", ZL_ERR_PARSE, 0},
    {".", ZL_ERR_PARSE, 0},
    {"-.", ZL_ERR_PARSE, 0},
    {".s", ZL_ERR_PARSE, 0},
    {"+.s", ZL_ERR_PARSE, 0},
    {"1d", ZL_ERR_PARSE, 0},
    {"1sec", ZL_ERR_PARSE, 0},
    {"1 s", ZL_ERR_PARSE, 0},
    {" 1s", ZL_ERR_PARSE, 0},
    {"1s ", ZL_ERR_PARSE, 0},
    {"1S", ZL_ERR_PARSE, 0},
    {"true", ZL_ERR_PARSE, 0},
    {"\x85\x85", ZL_ERR_PARSE, 0},
    {"9223372036854775808ns", ZL_ERR_RANGE, 0},
    {"9223372036854775.808us", ZL_ERR_RANGE, 0},
    {"9223372036854ms775us808ns", ZL_ERR_RANGE, 0},
    {"-9223372036854775809ns", ZL_ERR_RANGE, 0},
    {"3000000h", ZL_ERR_RANGE, 0},
    {"99999999999999999999s", ZL_ERR_RANGE, 0},
};

Test(duration, parses_go_syntax_like_go)
{
    size_t n = sizeof(parse_cases) / sizeof(*parse_cases);
    for (size_t i = 0; i < n; i++) {
        const struct parse_case *c = &parse_cases[i];
        int64_t ns = -12345;
        enum zl_err err = duration_parse(c->text, &ns);
        cr_expect_eq(err, c->err, "\"%s\": err %s, want %s", c->text,
                     zl_err_str(err), zl_err_str(c->err));
        if (c->err == ZL_OK && err == ZL_OK)
            cr_expect_eq(ns, c->ns, "\"%s\": %lld ns, want %lld", c->text,
                         (long long)ns, (long long)c->ns);
    }
}

struct format_case {
    int64_t ns;
    const char *text;
};

static const struct format_case format_cases[] = {
    {0, "0s"},
    {1, "1ns"},
    {1100, "1.1\xc2\xb5s"},
    {2200000, "2.2ms"},
    {3300000000, "3.3s"},
    {500000000, "500ms"},
    {INT64_C(4) * 60 * 1000000000 + 5000000000, "4m5s"},
    {INT64_C(4) * 60 * 1000000000 + 5001000000, "4m5.001s"},
    {INT64_C(5) * 3600 * 1000000000 + 6 * INT64_C(60000000000) +
         INT64_C(7001000000),
     "5h6m7.001s"},
    {INT64_C(8) * 60 * 1000000000 + 1, "8m0.000000001s"},
    {INT64_C(3723500000000), "1h2m3.5s"},
    {INT64_C(5400000000000), "1h30m0s"},
    {INT64_C(86400000000000), "24h0m0s"},
    {INT64_MAX, "2562047h47m16.854775807s"},
    {INT64_MIN, "-2562047h47m16.854775808s"},
    {-1, "-1ns"},
    {-1500000, "-1.5ms"},
};

Test(duration, formats_like_go)
{
    size_t n = sizeof(format_cases) / sizeof(*format_cases);
    for (size_t i = 0; i < n; i++) {
        char out[DURATION_FORMAT_MAX];
        duration_format(format_cases[i].ns, out);
        cr_expect_str_eq(out, format_cases[i].text, "%lld ns",
                         (long long)format_cases[i].ns);
    }
}

Test(duration, format_then_parse_round_trips)
{
    const int64_t values[] = {0,          1,           999,           1000,
                              123456789,  INT64_MAX,   INT64_MIN,     -1,
                              3600000000, 60000000000, 86400000000000};
    for (size_t i = 0; i < sizeof(values) / sizeof(*values); i++) {
        char out[DURATION_FORMAT_MAX];
        int64_t back = 0;
        duration_format(values[i], out);
        cr_assert_eq(duration_parse(out, &back), ZL_OK, "%s", out);
        cr_expect_eq(back, values[i], "%s", out);
    }
}

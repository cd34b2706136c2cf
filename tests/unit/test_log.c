/* SPDX-License-Identifier: Apache-2.0 */
/* The logger: JSON lines and text, levels, escaping, oversized records. */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* Before base/log.h on purpose: syslog's macros (LOG_DEBUG, LOG_INFO, ...)
 * must not collide with the logger's names. */
#include <syslog.h>

#include "base/json.h"
#include "base/log.h"

static char *out_data;
static size_t out_len;
static FILE *out;

static int64_t fixed_clock(void)
{
    return INT64_C(1764118923456); /* 2025-11-26T01:02:03.456Z */
}

static void setup(void)
{
    out = open_memstream(&out_data, &out_len);
    log_set_clock(fixed_clock);
}

static void teardown(void)
{
    log_configure(LOG_LEVEL_INFO, LOG_FORMAT_JSON, NULL);
    log_set_clock(NULL);
    fclose(out);
    free(out_data);
}

TestSuite(log, .init = setup, .fini = teardown);

Test(log, writes_one_json_line_with_fields_in_order)
{
    log_configure(LOG_LEVEL_DEBUG, LOG_FORMAT_JSON, out);
    struct log_field f[] = {{"service", "db"}, {"pod", NULL}};
    log_record(LOG_LEVEL_WARN, "leader lost", f, 2);
    fflush(out);
    cr_expect_str_eq(out_data,
                     "{\"ts\":\"2025-11-26T01:02:03.456Z\",\"level\":\"warn\","
                     "\"msg\":\"leader lost\",\"service\":\"db\",\"pod\":null}"
                     "\n");
}

Test(log, escapes_json_so_every_line_parses)
{
    log_configure(LOG_LEVEL_DEBUG, LOG_FORMAT_JSON, out);
    struct log_field f[] = {{"k\"ey", "tab\there \\ \"q\" \x01 nl\n"}};
    log_record(LOG_LEVEL_INFO, "m\"s\ng", f, 1);
    fflush(out);
    cr_assert_eq(strchr(out_data, '\n'), out_data + out_len - 1);
    struct json_object *o = NULL;
    cr_assert_eq(json_parse_object(out_data, out_len, &o), ZL_OK);
    struct json_object *v;
    cr_assert(json_object_object_get_ex(o, "k\"ey", &v));
    cr_expect_str_eq(json_object_get_string(v), "tab\there \\ \"q\" \x01 nl\n");
    cr_assert(json_object_object_get_ex(o, "msg", &v));
    cr_expect_str_eq(json_object_get_string(v), "m\"s\ng");
    json_object_put(o);
}

Test(log, drops_records_below_the_level)
{
    log_configure(LOG_LEVEL_WARN, LOG_FORMAT_JSON, out);
    log_info("not shown %d", 1);
    log_debug("not shown");
    log_error("shown %d", 2);
    fflush(out);
    cr_expect_null(strstr(out_data, "not shown"));
    cr_expect_not_null(strstr(out_data, "\"msg\":\"shown 2\""));
    cr_expect_not(log_enabled(LOG_LEVEL_INFO));
    cr_expect(log_enabled(LOG_LEVEL_ERROR));
}

Test(log, writes_text_format)
{
    log_configure(LOG_LEVEL_INFO, LOG_FORMAT_TEXT, out);
    struct log_field f[] = {{"service", "db"}, {"why", "two words"}};
    log_record(LOG_LEVEL_INFO, "elected", f, 2);
    fflush(out);
    cr_expect_str_eq(out_data, "2025-11-26T01:02:03.456Z info  elected "
                               "service=db why=\"two words\"\n");
}

Test(log, replaces_oversized_record_with_notice)
{
    log_configure(LOG_LEVEL_INFO, LOG_FORMAT_JSON, out);
    char *big = malloc(LOG_MAX_RECORD + 10);
    memset(big, 'x', LOG_MAX_RECORD + 9);
    big[LOG_MAX_RECORD + 9] = '\0';
    struct log_field f[] = {{"big", big}};
    log_record(LOG_LEVEL_ERROR, "huge", f, 1);
    free(big);
    fflush(out);
    struct json_object *o = NULL;
    cr_assert_eq(json_parse_object(out_data, out_len, &o), ZL_OK);
    struct json_object *v;
    cr_assert(json_object_object_get_ex(o, "truncated", &v));
    cr_expect(json_object_get_boolean(v));
    json_object_put(o);
}

struct level_case {
    const char *text;
    enum zl_err err;
    enum log_level level;
};

Test(log, parses_level_names)
{
    static const struct level_case cases[] = {
        {"debug", ZL_OK, LOG_LEVEL_DEBUG}, {"INFO", ZL_OK, LOG_LEVEL_INFO},
        {"warn", ZL_OK, LOG_LEVEL_WARN},   {"warning", ZL_OK, LOG_LEVEL_WARN},
        {"error", ZL_OK, LOG_LEVEL_ERROR}, {"", ZL_ERR_INVALID, LOG_LEVEL_INFO},
        {"fatal", ZL_ERR_INVALID, 0},      {"info ", ZL_ERR_INVALID, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        enum log_level l = LOG_LEVEL_INFO;
        cr_expect_eq(log_level_parse(cases[i].text, &l), cases[i].err, "%s",
                     cases[i].text);
        if (cases[i].err == ZL_OK)
            cr_expect_eq(l, cases[i].level, "%s", cases[i].text);
    }
    enum log_format f;
    cr_expect_eq(log_format_parse("json", &f), ZL_OK);
    cr_expect_eq(f, LOG_FORMAT_JSON);
    cr_expect_eq(log_format_parse("text", &f), ZL_OK);
    cr_expect_eq(f, LOG_FORMAT_TEXT);
    cr_expect_eq(log_format_parse("yaml", &f), ZL_ERR_INVALID);
}

Test(log, level_names_live_beside_syslog)
{
    /* syslog's priorities keep their values next to the logger's levels. */
    cr_expect_eq(LOG_DEBUG, 7);
    cr_expect_eq(LOG_ERR, 3);
    cr_expect_str_eq(log_level_name(LOG_LEVEL_DEBUG), "debug");
    cr_expect_str_eq(log_level_name(LOG_LEVEL_ERROR), "error");
    cr_expect_lt(LOG_LEVEL_DEBUG, LOG_LEVEL_ERROR);
}

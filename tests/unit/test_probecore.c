/* SPDX-License-Identifier: Apache-2.0 */
/* zl-probe's pure logic: the response parser on a table of well-formed,
 * partial, malformed and oversize answers (and every prefix of the good
 * ones), the request text, error kinds, the retry rule, the backoff
 * schedule, pod names, the JSON lines and the summary. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probecore.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

struct parse_case {
    const char *name;
    const char *in;
    bool head; /* answer to HEAD */
    bool eof;
    enum zl_err rc;
    bool complete;
    int status;
    const char *body; /* NULL: not checked */
};

static const char nul_in_value[] = "HTTP/1.1 200 OK\r\nX: a\0b\r\n\r\n";

static const struct parse_case parse_cases[] = {
    {"length", "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\npod-a\n", false,
     false, ZL_OK, true, 200, "pod-a\n"},
    {"length_eof", "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\npod-a\n", false,
     true, ZL_OK, true, 200, "pod-a\n"},
    {"length_extra_ignored", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nabcd",
     false, false, ZL_OK, true, 200, "ab"},
    {"length_short", "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\npod", false,
     false, ZL_OK, false, 200, NULL},
    {"length_short_eof", "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\npod",
     false, true, ZL_ERR_PARSE, false, 200, NULL},
    {"length_zero", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", false,
     false, ZL_OK, true, 200, ""},
    {"length_case_and_spaces",
     "HTTP/1.1 200 OK\r\ncOnTeNt-LeNgTh: \t 3 \t\r\n\r\nabc", false, false,
     ZL_OK, true, 200, "abc"},
    {"length_repeated_same",
     "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
     false, false, ZL_OK, true, 200, "abc"},
    {"length_conflict",
     "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabc",
     false, false, ZL_ERR_INVALID, false, 200, NULL},
    {"length_not_digits", "HTTP/1.1 200 OK\r\nContent-Length: 3x\r\n\r\nabc",
     false, false, ZL_ERR_PARSE, false, 200, NULL},
    {"length_negative", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", false,
     false, ZL_ERR_PARSE, false, 200, NULL},
    {"length_empty", "HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n", false, false,
     ZL_ERR_PARSE, false, 200, NULL},
    {"length_list", "HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\n\r\nabc", false,
     false, ZL_ERR_PARSE, false, 200, NULL},
    {"length_over_limit", "HTTP/1.1 200 OK\r\nContent-Length: 65537\r\n\r\n",
     false, false, ZL_ERR_LIMIT, false, 200, NULL},
    {"length_huge",
     "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n",
     false, false, ZL_ERR_LIMIT, false, 200, NULL},
    {"length_at_limit", "HTTP/1.1 200 OK\r\nContent-Length: 65536\r\n\r\n",
     false, false, ZL_OK, false, 200, NULL},
    {"close_delimited_open", "HTTP/1.1 200 OK\r\n\r\npod-b\n", false, false,
     ZL_OK, false, 200, NULL},
    {"close_delimited_eof", "HTTP/1.1 200 OK\r\n\r\npod-b\n", false, true,
     ZL_OK, true, 200, "pod-b\n"},
    {"close_delimited_empty", "HTTP/1.0 200 OK\r\n\r\n", false, true, ZL_OK,
     true, 200, ""},
    {"http10", "HTTP/1.0 404 Not Found\r\nContent-Length: 1\r\n\r\nx", false,
     false, ZL_OK, true, 404, "x"},
    {"status_503",
     "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n", false,
     false, ZL_OK, true, 503, ""},
    {"no_reason", "HTTP/1.1 200\r\nContent-Length: 1\r\n\r\nx", false, false,
     ZL_OK, true, 200, "x"},
    {"empty_reason", "HTTP/1.1 200 \r\nContent-Length: 1\r\n\r\nx", false,
     false, ZL_OK, true, 200, "x"},
    {"reason_obs_text", "HTTP/1.1 200 \xc3\xa9t\xc3\xa9\r\n\r\n", false, true,
     ZL_OK, true, 200, ""},
    {"bare_lf", "HTTP/1.1 200 OK\nContent-Length: 2\n\nok", false, false, ZL_OK,
     true, 200, "ok"},
    {"mixed_line_ends", "HTTP/1.1 200 OK\r\nContent-Length: 2\n\r\nok", false,
     false, ZL_OK, true, 200, "ok"},
    {"head_ignores_length", "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n",
     true, false, ZL_OK, true, 200, ""},
    {"no_content", "HTTP/1.1 204 No Content\r\n\r\n", false, false, ZL_OK, true,
     204, ""},
    {"not_modified", "HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n",
     false, false, ZL_OK, true, 304, ""},
    {"interim_skipped",
     "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n"
     "x",
     false, false, ZL_OK, true, 200, "x"},
    {"interim_only", "HTTP/1.1 100 Continue\r\n\r\n", false, false, ZL_OK,
     false, 0, NULL},
    {"interim_only_eof", "HTTP/1.1 100 Continue\r\n\r\n", false, true,
     ZL_ERR_PARSE, false, 0, NULL},
    {"switching_protocols", "HTTP/1.1 101 Switching\r\n\r\n", false, false,
     ZL_ERR_PARSE, false, 101, NULL},
    {"transfer_encoding",
     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n",
     false, false, ZL_ERR_INVALID, false, 200, NULL},
    {"empty", "", false, false, ZL_OK, false, 0, NULL},
    {"empty_eof", "", false, true, ZL_ERR_PARSE, false, 0, NULL},
    {"partial_status", "HTTP/1.", false, false, ZL_OK, false, 0, NULL},
    {"partial_status_eof", "HTTP/1.1 20", false, true, ZL_ERR_PARSE, false, 0,
     NULL},
    {"partial_headers", "HTTP/1.1 200 OK\r\nContent-Le", false, false, ZL_OK,
     false, 0, NULL},
    {"partial_headers_eof", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n", false,
     true, ZL_ERR_PARSE, false, 0, NULL},
    {"not_http_early", "SSH-2.0-OpenSSH", false, false, ZL_ERR_PARSE, false, 0,
     NULL},
    {"http2_preface", "HTTP/2 200\r\n\r\n", false, false, ZL_ERR_PARSE, false,
     0, NULL},
    {"lower_case_version", "http/1.1 200 OK\r\n\r\n", false, false,
     ZL_ERR_PARSE, false, 0, NULL},
    {"version_letter", "HTTP/1.x 200 OK\r\n\r\n", false, false, ZL_ERR_PARSE,
     false, 0, NULL},
    {"status_two_digits", "HTTP/1.1 20 OK\r\n\r\n", false, false, ZL_ERR_PARSE,
     false, 0, NULL},
    {"status_four_digits", "HTTP/1.1 2000 OK\r\n\r\n", false, false,
     ZL_ERR_PARSE, false, 0, NULL},
    {"status_leading_zero", "HTTP/1.1 099 OK\r\n\r\n", false, false,
     ZL_ERR_PARSE, false, 0, NULL},
    {"status_letters", "HTTP/1.1 2x0 OK\r\n\r\n", false, false, ZL_ERR_PARSE,
     false, 0, NULL},
    {"two_spaces", "HTTP/1.1  200 OK\r\n\r\n", false, false, ZL_ERR_PARSE,
     false, 0, NULL},
    {"control_in_reason", "HTTP/1.1 200 O\x01K\r\n\r\n", false, false,
     ZL_ERR_PARSE, false, 0, NULL},
    {"bare_cr_in_reason", "HTTP/1.1 200 O\rK\r\n\r\n", false, false,
     ZL_ERR_PARSE, false, 0, NULL},
    {"header_no_colon", "HTTP/1.1 200 OK\r\nBroken\r\n\r\n", false, false,
     ZL_ERR_PARSE, false, 200, NULL},
    {"header_empty_name", "HTTP/1.1 200 OK\r\n: x\r\n\r\n", false, false,
     ZL_ERR_PARSE, false, 200, NULL},
    {"header_space_before_colon",
     "HTTP/1.1 200 OK\r\nContent-Length : 1\r\n\r\nx", false, false,
     ZL_ERR_PARSE, false, 200, NULL},
    {"header_control_in_value", "HTTP/1.1 200 OK\r\nX: a\x02\r\n\r\n", false,
     false, ZL_ERR_PARSE, false, 200, NULL},
    {"header_nul_in_value", nul_in_value, false, false, ZL_ERR_PARSE, false,
     200, NULL},
    {"obs_fold", "HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n", false, false,
     ZL_ERR_PARSE, false, 200, NULL},
    {"empty_header_value",
     "HTTP/1.1 200 OK\r\nX:\r\nContent-Length: 1\r\n\r\nx", false, false, ZL_OK,
     true, 200, "x"},
};

/* The input of a case: all of nul_in_value (it holds a NUL), else strlen. */
static size_t case_len(const struct parse_case *c)
{
    return c->in == nul_in_value ? sizeof(nul_in_value) - 1 : strlen(c->in);
}

Test(probecore, parses_responses_from_table)
{
    for (size_t i = 0; i < N(parse_cases); i++) {
        const struct parse_case *c = &parse_cases[i];
        struct probe_response r;
        enum zl_err rc =
            probe_response_parse(c->in, case_len(c), c->head, c->eof, &r);
        cr_expect(eq(int, rc, c->rc), "%s: rc", c->name);
        if (rc != ZL_OK || c->rc != ZL_OK)
            continue;
        cr_expect(eq(int, r.complete, c->complete), "%s: complete", c->name);
        if (c->status != 0)
            cr_expect(eq(int, r.status, c->status), "%s: status", c->name);
        if (c->body != NULL && r.complete) {
            cr_expect(eq(sz, r.body_len, strlen(c->body)), "%s: body_len",
                      c->name);
            cr_expect(memcmp(c->in + r.body_off, c->body, r.body_len) == 0,
                      "%s: body", c->name);
        }
    }
}

/* Every strict prefix of a complete answer that is not close-delimited
 * asks for more bytes, and is an error at eof. */
Test(probecore, every_prefix_waits_for_more)
{
    for (size_t i = 0; i < N(parse_cases); i++) {
        const struct parse_case *c = &parse_cases[i];
        struct probe_response whole, r;
        size_t len = case_len(c);
        if (c->rc != ZL_OK || !c->complete || c->eof ||
            probe_response_parse(c->in, len, c->head, false, &whole) != ZL_OK)
            continue;
        size_t need = whole.body_off + whole.body_len;
        for (size_t n = 0; n < need; n++) {
            cr_expect(eq(int,
                         probe_response_parse(c->in, n, c->head, false, &r),
                         ZL_OK),
                      "%s: prefix %zu", c->name, n);
            cr_expect(eq(int, r.complete, false), "%s: prefix %zu complete",
                      c->name, n);
            cr_expect(eq(int, probe_response_parse(c->in, n, c->head, true, &r),
                         ZL_ERR_PARSE),
                      "%s: prefix %zu at eof", c->name, n);
        }
    }
}

Test(probecore, head_and_body_limits)
{
    size_t n = PROBE_MAX_HEAD + 64;
    char *big = malloc(n + PROBE_MAX_BODY + 64);
    cr_assert(big != NULL);
    struct probe_response r;
    /* A header line that never ends. */
    memcpy(big, "HTTP/1.1 200 OK\r\nX: ", 20);
    memset(big + 20, 'a', n - 20);
    cr_expect(eq(int,
                 probe_response_parse(big, PROBE_MAX_HEAD, false, false, &r),
                 ZL_OK));
    cr_expect(
        eq(int, probe_response_parse(big, PROBE_MAX_HEAD + 1, false, false, &r),
           ZL_ERR_LIMIT));
    /* A close-delimited body one byte past the limit. */
    size_t head = (size_t)snprintf(big, 64, "HTTP/1.1 200 OK\r\n\r\n");
    memset(big + head, 'b', PROBE_MAX_BODY + 1);
    cr_expect(eq(
        int, probe_response_parse(big, head + PROBE_MAX_BODY, false, true, &r),
        ZL_OK));
    cr_expect(eq(sz, r.body_len, PROBE_MAX_BODY));
    cr_expect(eq(
        int,
        probe_response_parse(big, head + PROBE_MAX_BODY + 1, false, false, &r),
        ZL_ERR_LIMIT));
    cr_expect(gt(sz, PROBE_MAX_RESPONSE, PROBE_MAX_HEAD + PROBE_MAX_BODY));
    free(big);
}

struct errno_case {
    int err;
    enum probe_phase phase;
    enum probe_kind kind;
};

Test(probecore, classifies_errno)
{
    static const struct errno_case cases[] = {
        {ECONNREFUSED, PROBE_PHASE_CONNECT, PROBE_REFUSED},
        {ECONNREFUSED, PROBE_PHASE_EXCHANGE, PROBE_REFUSED},
        {ECONNRESET, PROBE_PHASE_EXCHANGE, PROBE_RESET},
        {ECONNRESET, PROBE_PHASE_CONNECT, PROBE_RESET},
        {EPIPE, PROBE_PHASE_EXCHANGE, PROBE_RESET},
        {ECONNABORTED, PROBE_PHASE_EXCHANGE, PROBE_RESET},
        {ENETUNREACH, PROBE_PHASE_CONNECT, PROBE_UNREACHABLE},
        {EHOSTUNREACH, PROBE_PHASE_CONNECT, PROBE_UNREACHABLE},
        {EHOSTUNREACH, PROBE_PHASE_EXCHANGE, PROBE_UNREACHABLE},
        {ENETDOWN, PROBE_PHASE_CONNECT, PROBE_UNREACHABLE},
        {EHOSTDOWN, PROBE_PHASE_CONNECT, PROBE_UNREACHABLE},
        {ETIMEDOUT, PROBE_PHASE_CONNECT, PROBE_TIMEOUT_CONNECT},
        {ETIMEDOUT, PROBE_PHASE_EXCHANGE, PROBE_TIMEOUT_READ},
        {EMFILE, PROBE_PHASE_CONNECT, PROBE_OTHER},
        {EADDRNOTAVAIL, PROBE_PHASE_CONNECT, PROBE_OTHER},
        {ENOBUFS, PROBE_PHASE_EXCHANGE, PROBE_OTHER},
        {0, PROBE_PHASE_CONNECT, PROBE_OTHER},
    };
    for (size_t i = 0; i < N(cases); i++)
        cr_expect(eq(int, probe_classify_errno(cases[i].err, cases[i].phase),
                     cases[i].kind),
                  "case %zu (errno %d)", i, cases[i].err);
}

Test(probecore, kind_names_are_distinct_and_total)
{
    static const char *const want[PROBE_KIND_COUNT] = {
        "ok",          "timeout-connect", "timeout-read", "refused", "reset",
        "unreachable", "http-status",     "bad-response", "other"};
    for (int k = 0; k < PROBE_KIND_COUNT; k++)
        cr_expect(strcmp(probe_kind_str((enum probe_kind)k), want[k]) == 0,
                  "kind %d", k);
    cr_expect(strcmp(probe_kind_str(PROBE_KIND_COUNT), "other") == 0);
}

struct retry_case {
    enum probe_kind kind;
    int status;
    bool retry;
};

Test(probecore, retries_transport_failures_and_gateway_statuses)
{
    static const struct retry_case cases[] = {
        {PROBE_OK, 200, false},          {PROBE_TIMEOUT_CONNECT, 0, true},
        {PROBE_TIMEOUT_READ, 0, true},   {PROBE_REFUSED, 0, true},
        {PROBE_RESET, 0, true},          {PROBE_UNREACHABLE, 0, true},
        {PROBE_BAD_RESPONSE, 200, true}, {PROBE_OTHER, 0, true},
        {PROBE_HTTP_STATUS, 502, true},  {PROBE_HTTP_STATUS, 503, true},
        {PROBE_HTTP_STATUS, 504, true},  {PROBE_HTTP_STATUS, 500, false},
        {PROBE_HTTP_STATUS, 501, false}, {PROBE_HTTP_STATUS, 404, false},
        {PROBE_HTTP_STATUS, 429, false}, {PROBE_HTTP_STATUS, 301, false},
        {PROBE_KIND_COUNT, 0, false},
    };
    for (size_t i = 0; i < N(cases); i++)
        cr_expect(eq(int, probe_kind_retryable(cases[i].kind, cases[i].status),
                     cases[i].retry),
                  "case %zu", i);
}

Test(probecore, idempotent_methods_and_status_kinds)
{
    static const char *const yes[] = {"GET",    "HEAD",    "PUT",
                                      "DELETE", "OPTIONS", "TRACE"};
    static const char *const no[] = {"POST", "PATCH", "CONNECT",
                                     "get",  "",      "GETX"};
    for (size_t i = 0; i < N(yes); i++)
        cr_expect(probe_method_idempotent(yes[i]), "%s", yes[i]);
    for (size_t i = 0; i < N(no); i++)
        cr_expect(eq(int, probe_method_idempotent(no[i]), false), "%s", no[i]);
    cr_expect(eq(int, probe_method_idempotent(NULL), false));
    static const int statuses[] = {100, 199, 200, 204, 299, 300, 404, 503, 999};
    static const enum probe_kind kinds[] = {
        PROBE_HTTP_STATUS, PROBE_HTTP_STATUS, PROBE_OK,
        PROBE_OK,          PROBE_OK,          PROBE_HTTP_STATUS,
        PROBE_HTTP_STATUS, PROBE_HTTP_STATUS, PROBE_HTTP_STATUS};
    for (size_t i = 0; i < N(statuses); i++)
        cr_expect(eq(int, probe_status_kind(statuses[i]), kinds[i]), "%d",
                  statuses[i]);
}

struct text_case {
    const char *method, *path, *host;
    enum zl_err rc;
    const char *want;
};

Test(probecore, request_text)
{
    static const struct text_case cases[] = {
        {"GET", "/", "10.0.0.1:80", ZL_OK,
         "GET / HTTP/1.1\r\nHost: 10.0.0.1:80\r\nUser-Agent: zl-probe\r\n"
         "Accept: */*\r\nConnection: close\r\n\r\n"},
        {"POST", "/a?b=c", "[::1]:8080", ZL_OK,
         "POST /a?b=c HTTP/1.1\r\nHost: [::1]:8080\r\nUser-Agent: zl-probe\r\n"
         "Accept: */*\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"},
        {"HEAD", "/x", "h", ZL_OK,
         "HEAD /x HTTP/1.1\r\nHost: h\r\nUser-Agent: zl-probe\r\n"
         "Accept: */*\r\nConnection: close\r\n\r\n"},
        {"GET", "x", "h", ZL_ERR_INVALID, NULL},
        {"GET", "", "h", ZL_ERR_INVALID, NULL},
        {"GET", "/a b", "h", ZL_ERR_INVALID, NULL},
        {"GET", "/a\r\nX: y", "h", ZL_ERR_INVALID, NULL},
        {"GET", "/", "", ZL_ERR_INVALID, NULL},
        {"GET", "/", "h\r\nX: y", ZL_ERR_INVALID, NULL},
        {"get", "/", "h", ZL_ERR_INVALID, NULL},
        {"G T", "/", "h", ZL_ERR_INVALID, NULL},
        {"", "/", "h", ZL_ERR_INVALID, NULL},
        {NULL, "/", "h", ZL_ERR_INVALID, NULL},
    };
    for (size_t i = 0; i < N(cases); i++) {
        struct buf b;
        buf_init(&b, 4096);
        enum zl_err rc = probe_request_text(cases[i].method, cases[i].path,
                                            cases[i].host, &b);
        cr_expect(eq(int, rc, cases[i].rc), "case %zu", i);
        if (cases[i].want != NULL)
            cr_expect(strcmp(b.data, cases[i].want) == 0, "case %zu: %s", i,
                      b.data);
        buf_cleanup(&b);
    }
}

Test(probecore, request_text_limits)
{
    char path[PROBE_MAX_PATH + 2];
    struct buf b;
    buf_init(&b, 8192);
    memset(path, 'p', sizeof(path));
    path[0] = '/';
    path[PROBE_MAX_PATH] = '\0';
    cr_expect(eq(int, probe_request_text("GET", path, "h", &b), ZL_OK));
    path[PROBE_MAX_PATH] = 'p';
    path[PROBE_MAX_PATH + 1] = '\0';
    buf_reset(&b);
    cr_expect(eq(int, probe_request_text("GET", path, "h", &b), ZL_ERR_LIMIT));
    buf_cleanup(&b);
}

struct pod_case {
    const char *body;
    const char *want;
};

Test(probecore, pod_names_are_trimmed_and_clean)
{
    static const struct pod_case cases[] = {
        {"pod-a\n", "pod-a"},
        {"  pod-b \r\n", "pod-b"},
        {"\t\v\fpod-c", "pod-c"},
        {"", ""},
        {" \n ", ""},
        {"a b", "a b"},
        {"x\x01y", "x?y"},
        {"x\x7fy", "x?y"},
        {"\xc3\xa9t\xc3\xa9", "\xc3\xa9t\xc3\xa9"},
    };
    char out[PROBE_POD_MAX];
    for (size_t i = 0; i < N(cases); i++) {
        size_t n = probe_pod_name(cases[i].body, strlen(cases[i].body), out);
        cr_expect(strcmp(out, cases[i].want) == 0, "case %zu: %s", i, out);
        cr_expect(eq(sz, n, strlen(cases[i].want)));
    }
    char nul[] = {'a', '\0', 'b'};
    probe_pod_name(nul, sizeof(nul), out);
    cr_expect(strcmp(out, "a?b") == 0);
    char big[PROBE_POD_MAX * 2];
    memset(big, 'n', sizeof(big));
    cr_expect(eq(sz, probe_pod_name(big, sizeof(big), out), PROBE_POD_MAX - 1));
    cr_expect(eq(sz, strlen(out), PROBE_POD_MAX - 1));
}

struct ceiling_case {
    int64_t base, cap;
    unsigned retry;
    int64_t want;
};

Test(probecore, backoff_ceilings_double_up_to_the_cap)
{
    static const struct ceiling_case cases[] = {
        {50, 1000, 0, 0},
        {50, 1000, 1, 50},
        {50, 1000, 2, 100},
        {50, 1000, 3, 200},
        {50, 1000, 4, 400},
        {50, 1000, 5, 800},
        {50, 1000, 6, 1000},
        {50, 1000, 64, 1000},
        {50, 1000, 4000000000u, 1000},
        {300, 1000, 3, 1000},
        {1000, 1000, 1, 1000},
        {INT64_MAX / 2 + 1, INT64_MAX, 2, INT64_MAX},
        {0, 1000, 1, 0},
        {50, 0, 1, 0},
    };
    for (size_t i = 0; i < N(cases); i++) {
        struct probe_backoff b = {cases[i].base, cases[i].cap};
        cr_expect(
            eq(i64, probe_backoff_ceiling(&b, cases[i].retry), cases[i].want),
            "case %zu", i);
    }
}

Test(probecore, backoff_delays_are_seeded_and_within_ceiling)
{
    struct probe_backoff b = {50 * 1000000LL, 1000 * 1000000LL};
    struct probe_rng r1, r2, r3;
    probe_rng_seed(&r1, 42);
    probe_rng_seed(&r2, 42);
    probe_rng_seed(&r3, 43);
    bool differs = false;
    int64_t low = INT64_MAX, high = 0;
    for (unsigned i = 0; i < 3000; i++) {
        unsigned retry = 1 + i % 6;
        int64_t d1 = probe_backoff_delay(&b, retry, &r1);
        int64_t d2 = probe_backoff_delay(&b, retry, &r2);
        int64_t d3 = probe_backoff_delay(&b, retry, &r3);
        cr_assert(eq(i64, d1, d2), "same seed, same schedule");
        differs |= d1 != d3;
        cr_assert(d1 >= 0 && d1 <= probe_backoff_ceiling(&b, retry));
        if (retry == 1) {
            low = d1 < low ? d1 : low;
            high = d1 > high ? d1 : high;
        }
    }
    cr_expect(differs, "another seed, another schedule");
    /* Full jitter spreads over the whole span. */
    cr_expect(low < 5 * 1000000LL && high > 45 * 1000000LL);
    struct probe_rng z;
    probe_rng_seed(&z, 7);
    cr_expect(eq(i64, probe_backoff_delay(&b, 0, &z), 0));
}

Test(probecore, splitmix64_reference_values)
{
    /* The first outputs of splitmix64 seeded with 0 (Vigna's reference). */
    struct probe_rng r;
    probe_rng_seed(&r, 0);
    cr_expect(eq(u64, probe_rng_next(&r), UINT64_C(0xe220a8397b1dcdaf)));
    cr_expect(eq(u64, probe_rng_next(&r), UINT64_C(0x6e789e6aa1b965f4)));
}

static struct probe_request make_request(uint64_t seq, int64_t start,
                                         int64_t end, enum probe_kind kind,
                                         int status, const char *pod)
{
    struct probe_request r;
    memset(&r, 0, sizeof(r));
    r.seq = seq;
    r.sched_ns = start;
    r.start_ns = start;
    r.end_ns = end;
    r.duration_ns = end - start;
    r.attempt_count = 1;
    r.attempts[0] =
        (struct probe_attempt){start, end, end - start, 0, kind, status, 0};
    r.kind = kind;
    r.status = status;
    snprintf(r.pod, sizeof(r.pod), "%s", pod);
    return r;
}

Test(probecore, request_json_line)
{
    struct probe_request r =
        make_request(7, 1000, 3000, PROBE_OK, 200, "pod-\"a\"");
    r.attempt_count = 2;
    r.attempts[0] = (struct probe_attempt){1000,          1500, 500,         0,
                                           PROBE_REFUSED, 0,    ECONNREFUSED};
    r.attempts[1] =
        (struct probe_attempt){1600, 3000, 1400, 100, PROBE_OK, 200, 0};
    struct buf b;
    buf_init(&b, 4096);
    cr_assert(eq(int, probe_request_json(&r, &b), ZL_OK));
    json_object *j = json_tokener_parse(b.data);
    cr_assert(j != NULL, "%s", b.data);
    char want[512];
    snprintf(want, sizeof(want),
             "{\"type\":\"request\",\"seq\":7,\"sched_ns\":1000,"
             "\"start_ns\":1000,\"end_ns\":3000,\"duration_ns\":2000,"
             "\"attempts\":2,\"status\":200,\"pod\":\"pod-\\\"a\\\"\","
             "\"error\":null,\"tries\":[{\"start_ns\":1000,\"end_ns\":1500,"
             "\"duration_ns\":500,\"backoff_ns\":0,\"status\":null,"
             "\"error\":\"refused\",\"errno\":%d},{\"start_ns\":1600,"
             "\"end_ns\":3000,\"duration_ns\":1400,\"backoff_ns\":100,"
             "\"status\":200,\"error\":null,\"errno\":0}]}",
             ECONNREFUSED);
    cr_expect(eq(str, b.data, want));
    json_object_put(j);
    buf_cleanup(&b);
}

Test(probecore, failed_request_json_has_error_and_no_pod)
{
    struct probe_request r =
        make_request(0, 5, 9, PROBE_HTTP_STATUS, 503, "ignored");
    struct buf b;
    buf_init(&b, 4096);
    cr_assert(eq(int, probe_request_json(&r, &b), ZL_OK));
    json_object *j = json_tokener_parse(b.data), *v;
    cr_assert(j != NULL);
    cr_expect(json_object_object_get_ex(j, "pod", &v) && v == NULL);
    cr_expect(json_object_object_get_ex(j, "error", &v));
    cr_expect(strcmp(json_object_get_string(v), "http-status") == 0);
    cr_expect(json_object_object_get_ex(j, "status", &v));
    cr_expect(eq(int, json_object_get_int(v), 503));
    json_object_put(j);
    buf_cleanup(&b);
}

/* Successes end at 10, 20, 70, 75 (shuffled, with failures between): the
 * largest gap is 20 -> 70. */
Test(probecore, summary_counts_and_largest_gap_in_any_order)
{
    struct probe_request rs[] = {
        make_request(3, 60, 75, PROBE_OK, 200, "pod-b"),
        make_request(0, 0, 10, PROBE_OK, 200, "pod-a"),
        make_request(4, 30, 40, PROBE_TIMEOUT_READ, 0, ""),
        make_request(2, 50, 70, PROBE_OK, 200, "pod-b"),
        make_request(1, 15, 20, PROBE_OK, 200, "pod-a"),
        make_request(5, 35, 36, PROBE_REFUSED, 0, ""),
        make_request(6, 36, 37, PROBE_REFUSED, 0, ""),
    };
    rs[2].attempt_count = 4;
    struct probe_summary s;
    probe_summary_init(&s);
    for (size_t i = 0; i < N(rs); i++)
        cr_assert(eq(int, probe_summary_add(&s, &rs[i]), ZL_OK));
    probe_summary_finish(&s);
    cr_expect(eq(u64, s.requests, 7));
    cr_expect(eq(u64, s.ok, 4));
    cr_expect(eq(u64, s.failed, 3));
    cr_expect(eq(u64, s.retried, 1));
    cr_expect(eq(u64, s.attempts, 10));
    cr_expect(eq(u64, s.by_kind[PROBE_REFUSED], 2));
    cr_expect(eq(u64, s.by_kind[PROBE_TIMEOUT_READ], 1));
    cr_expect(eq(u64, s.by_kind[PROBE_OK], 4));
    cr_expect(eq(sz, s.pod_count, 2));
    cr_expect(strcmp(s.pods[0].name, "pod-b") == 0);
    cr_expect(eq(u64, s.pods[0].count, 2));
    cr_expect(eq(u64, s.pods[1].count, 2));
    cr_expect(eq(i64, s.max_gap_ns, 50));
    cr_expect(eq(i64, s.gap_from_ns, 20));
    cr_expect(eq(i64, s.gap_to_ns, 70));
    cr_expect(eq(i64, s.first_start_ns, 0));
    cr_expect(eq(i64, s.last_end_ns, 75));

    struct buf b;
    buf_init(&b, 8192);
    struct probe_run run = {"guided", "GET", "127.0.0.1:1", "/", 10, 42};
    cr_assert(eq(int, probe_summary_json(&s, &run, &b), ZL_OK));
    json_object *j = json_tokener_parse(b.data), *v, *f;
    cr_assert(j != NULL, "%s", b.data);
    cr_expect(json_object_object_get_ex(j, "max_ok_gap_ns", &v));
    cr_expect(eq(i64, json_object_get_int64(v), 50));
    cr_expect(json_object_object_get_ex(j, "failures", &f));
    cr_expect(eq(int, json_object_object_length(f), PROBE_KIND_COUNT - 1));
    cr_expect(json_object_object_get_ex(f, "refused", &v));
    cr_expect(eq(int, json_object_get_int(v), 2));
    cr_expect(json_object_object_get_ex(j, "pods", &f));
    cr_expect(json_object_object_get_ex(f, "pod-a", &v));
    cr_expect(eq(int, json_object_get_int(v), 2));
    cr_expect(json_object_object_get_ex(j, "run", &f));
    cr_expect(json_object_object_get_ex(f, "seed", &v));
    cr_expect(eq(i64, json_object_get_int64(v), 42));
    json_object_put(j);
    buf_reset(&b);
    cr_assert(eq(int, probe_summary_text(&s, &b), ZL_OK));
    cr_expect(strstr(b.data, "requests 7: ok 4, failed 3") != NULL, "%s",
              b.data);
    cr_expect(strstr(b.data, "largest gap between successes: 0.000 ms") !=
              NULL);
    buf_cleanup(&b);
    probe_summary_cleanup(&s);
}

Test(probecore, summary_without_two_successes_has_no_gap)
{
    struct probe_summary s;
    struct buf b;
    buf_init(&b, 8192);
    probe_summary_init(&s);
    probe_summary_finish(&s);
    cr_expect(eq(i64, s.max_gap_ns, -1));
    struct probe_request r = make_request(0, 1, 2, PROBE_OK, 200, "p");
    cr_assert(eq(int, probe_summary_add(&s, &r), ZL_OK));
    probe_summary_finish(&s);
    cr_expect(eq(i64, s.max_gap_ns, -1));
    cr_assert(eq(int, probe_summary_json(&s, NULL, &b), ZL_OK));
    json_object *j = json_tokener_parse(b.data), *v;
    cr_assert(j != NULL, "%s", b.data);
    cr_expect(json_object_object_get_ex(j, "max_ok_gap_ns", &v) && v == NULL);
    cr_expect(eq(int, json_object_object_get_ex(j, "run", &v), 0));
    json_object_put(j);
    buf_cleanup(&b);
    probe_summary_cleanup(&s);
}

Test(probecore, summary_counts_names_past_the_pod_table_as_other)
{
    struct probe_summary s;
    char name[32];
    probe_summary_init(&s);
    for (int i = 0; i < PROBE_MAX_PODS + 5; i++) {
        snprintf(name, sizeof(name), "pod-%d", i);
        struct probe_request r =
            make_request((uint64_t)i, i, i + 1, PROBE_OK, 200, name);
        cr_assert(eq(int, probe_summary_add(&s, &r), ZL_OK));
    }
    cr_expect(eq(sz, s.pod_count, PROBE_MAX_PODS));
    cr_expect(eq(u64, s.pods_other, 5));
    probe_summary_finish(&s);
    cr_expect(eq(i64, s.max_gap_ns, 1));
    probe_summary_cleanup(&s);
}

/* SPDX-License-Identifier: Apache-2.0 */
/* The pure parts of reconcile: the exact timed requeue delay computed from
 * the rules' next_check_ms, and the error_type label of failures. (The
 * writes are exercised against the real API server.) */
#include <criterion/criterion.h>

#include "controller/reconcile.h"
#include "kube/views.h"

#define MS INT64_C(1000000)

Test(reconcile, requeue_delay)
{
    static const struct {
        const char *title;
        int64_t next, now, want_ns;
    } cases[] = {
        {"no timed condition", VIEWS_TIME_NONE, 1000, -1},
        {"min-ready 5 s from now", 6000, 1000, 5000 * MS},
        {"failover-min-delay ends in 1 ms", 1001, 1000, 1 * MS},
        {"due now: look again in 1 ms, never spin", 1000, 1000, 1 * MS},
        {"already past", 500, 1000, 1 * MS},
        {"24 h", 86400000 + 1000, 1000, 86400000 * MS},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++)
        cr_expect_eq(reconcile_requeue_ns(cases[i].next, cases[i].now),
                     cases[i].want_ns, "%s", cases[i].title);
}

Test(reconcile, retry_soon_only_when_no_api_server_answered)
{
    static const struct {
        const char *title;
        enum zl_err err;
        bool unreachable;
        int64_t want_ns;
    } cases[] = {
        {"connection refused: soon", ZL_ERR_TRANSIENT, true,
         RECONCILE_UNREACHABLE_RETRY_MS * MS},
        {"429 or 5xx answered: backoff", ZL_ERR_TRANSIENT, false, -1},
        {"timeout: backoff", ZL_ERR_TIMEOUT, false, -1},
        {"timeout, an earlier attempt refused: backoff", ZL_ERR_TIMEOUT, true,
         -1},
        {"conflict: backoff", ZL_ERR_CONFLICT, false, -1},
        {"conflict after another thread saw no server", ZL_ERR_CONFLICT, true,
         -1},
        {"forbidden: backoff", ZL_ERR_FORBIDDEN, false, -1},
        {"invalid: backoff", ZL_ERR_INVALID, true, -1},
        {"other I/O: backoff", ZL_ERR_IO, true, -1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++)
        cr_expect_eq(
            reconcile_retry_soon_ns(cases[i].err, cases[i].unreachable),
            cases[i].want_ns, "%s", cases[i].title);
}

Test(reconcile, error_types)
{
    static const struct {
        enum zl_err err;
        const char *want;
    } cases[] = {
        {ZL_ERR_CONFLICT, "conflict"}, {ZL_ERR_EXISTS, "exists"},
        {ZL_ERR_NOTFOUND, "notFound"}, {ZL_ERR_FORBIDDEN, "forbidden"},
        {ZL_ERR_INVALID, "invalid"},   {ZL_ERR_TRANSIENT, "transient"},
        {ZL_ERR_TIMEOUT, "timeout"},   {ZL_ERR_NOMEM, "nomem"},
        {ZL_ERR_INTERNAL, "other"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++)
        cr_expect_str_eq(reconcile_error_type(cases[i].err), cases[i].want);
}

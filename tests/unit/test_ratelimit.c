/* SPDX-License-Identifier: Apache-2.0 */
/* Token bucket: table-driven reservations on an injected clock, then the
 * blocking wait and its cancel on the real clock (loose bounds). */
#include <criterion/criterion.h>
#include <pthread.h>
#include <time.h>

#include "base/clock.h"
#include "base/ratelimit.h"

#define MS INT64_C(1000000)

struct step {
    int64_t at_ms;   /* injected clock */
    int64_t wait_ms; /* expected delay for one reservation at at_ms */
};

struct rl_case {
    const char *name;
    double qps;
    int burst;
    struct step steps[8];
    int count;
};

static const struct rl_case cases[] = {
    {"burst is free then one per 1/qps",
     10,
     3,
     {{0, 0}, {0, 0}, {0, 0}, {0, 100}, {0, 200}},
     5},
    {"tokens refill with time",
     10,
     2,
     {{0, 0}, {0, 0}, {100, 0}, {100, 100}, {500, 0}},
     5},
    {"refill never exceeds burst",
     100,
     2,
     {{10000, 0}, {10000, 0}, {10000, 10}},
     3},
    {"burst below one counts as one", 2, 0, {{0, 0}, {0, 500}, {0, 1000}}, 3},
    {"no limit when qps is zero", 0, 1, {{0, 0}, {0, 0}, {0, 0}}, 3},
    {"clock going back counts as no time",
     10,
     1,
     {{1000, 0}, {500, 100}, {1000, 200}},
     3},
    {"fractional qps", 0.5, 1, {{0, 0}, {0, 2000}, {4000, 0}}, 3},
};

Test(ratelimit, reservations_follow_the_table)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct rl_case *tc = &cases[i];
        struct ratelimit rl;
        cr_assert_eq(ratelimit_init(&rl, tc->qps, tc->burst, 0), ZL_OK);
        for (int s = 0; s < tc->count; s++) {
            int64_t got = ratelimit_reserve(&rl, tc->steps[s].at_ms * MS);
            cr_expect_eq(got, tc->steps[s].wait_ms * MS,
                         "%s: step %d: got %lld ns, want %lld ms", tc->name, s,
                         (long long)got, (long long)tc->steps[s].wait_ms);
        }
        ratelimit_cleanup(&rl);
    }
}

Test(ratelimit, wait_blocks_for_the_next_token)
{
    struct ratelimit rl;
    cr_assert_eq(ratelimit_init(&rl, 20, 1, clock_mono_ns()), ZL_OK);
    int64_t t0 = clock_mono_ns();
    for (int i = 0; i < 5; i++)
        cr_assert_eq(ratelimit_wait(&rl), ZL_OK);
    double ms = (double)(clock_mono_ns() - t0) / 1e6;
    /* 1 free + 4 at 50 ms each = 200 ms. */
    cr_expect(ms >= 190 && ms < 1000, "5 waits at 20 qps took %.1f ms", ms);
    ratelimit_cleanup(&rl);
}

static void *cancel_later(void *arg)
{
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
    ratelimit_cancel(arg);
    return NULL;
}

Test(ratelimit, cancel_wakes_a_waiter_and_fails_later_waits)
{
    struct ratelimit rl;
    pthread_t th;
    cr_assert_eq(ratelimit_init(&rl, 0.1, 1, clock_mono_ns()), ZL_OK);
    cr_assert_eq(ratelimit_wait(&rl), ZL_OK);
    int64_t t0 = clock_mono_ns();
    pthread_create(&th, NULL, cancel_later, &rl);
    cr_assert_eq(ratelimit_wait(&rl), ZL_ERR_CANCELLED); /* would be 10 s */
    double ms = (double)(clock_mono_ns() - t0) / 1e6;
    pthread_join(th, NULL);
    cr_expect(ms < 2000, "cancel took %.1f ms", ms);
    cr_assert_eq(ratelimit_wait(&rl), ZL_ERR_CANCELLED);
    cr_assert_eq(ratelimit_sleep(&rl, 1000 * MS), ZL_ERR_CANCELLED);
    ratelimit_cleanup(&rl);
}

Test(ratelimit, sleep_sleeps_about_the_delay)
{
    struct ratelimit rl;
    cr_assert_eq(ratelimit_init(&rl, 0, 1, 0), ZL_OK);
    int64_t t0 = clock_mono_ns();
    cr_assert_eq(ratelimit_sleep(&rl, 30 * MS), ZL_OK);
    double ms = (double)(clock_mono_ns() - t0) / 1e6;
    cr_expect(ms >= 29 && ms < 1000, "slept %.1f ms", ms);
    ratelimit_cleanup(&rl);
}

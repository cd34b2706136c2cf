/* SPDX-License-Identifier: Apache-2.0 */
/* The benchmarks' order statistics: nearest-rank percentiles, summaries of
 * unsorted and signed samples, the ratio guard. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "benchstat.h"

struct pct_case {
    size_t n;
    double q;
    double want; /* samples are 1..n */
};

Test(benchstat, nearest_rank_percentiles)
{
    static const struct pct_case cases[] = {
        {1, 50, 1},     {2, 50, 1},   {3, 50, 2},    {4, 50, 2},
        {10, 90, 9},    {10, 99, 10}, {100, 99, 99}, {200, 99, 198},
        {200, 50, 100}, {50, 99, 50}, {5, 100, 5},   {5, 1, 1},
    };
    double v[200];
    for (size_t i = 0; i < 200; i++)
        v[i] = (double)(i + 1);
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++)
        cr_expect(eq(dbl, benchstat_percentile(v, cases[k].n, cases[k].q),
                     cases[k].want),
                  "n=%zu q=%g", cases[k].n, cases[k].q);
}

Test(benchstat, summarises_unsorted_signed_samples)
{
    double v[] = {3.5, -0.25, 12.0, 1.0, 7.0};
    struct benchstat s;
    benchstat_summarise(v, 5, &s);
    cr_expect(eq(sz, s.n, 5));
    cr_expect(eq(dbl, s.p50, 3.5));
    cr_expect(eq(dbl, s.p90, 12.0));
    cr_expect(eq(dbl, s.max, 12.0));
    cr_expect(eq(dbl, v[0], -0.25), "sorted in place");
}

Test(benchstat, empty_and_ratio_guard)
{
    struct benchstat s;
    benchstat_summarise(NULL, 0, &s);
    cr_expect(eq(dbl, s.p50, 0));
    cr_expect(eq(dbl, s.max, 0));
    cr_expect(eq(dbl, benchstat_ratio(2, 0), 0));
    cr_expect(eq(dbl, benchstat_ratio(2, -1), 0));
    cr_expect(eq(dbl, benchstat_ratio(3, 2), 1.5));
}

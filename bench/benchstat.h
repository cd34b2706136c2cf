/* SPDX-License-Identifier: Apache-2.0 */
/* Order statistics of latency samples (milliseconds): p50, p90, p99 and max
 * by nearest rank, and their JSON text. Pure: no I/O but the writer. */
#ifndef ZL_BENCH_BENCHSTAT_H
#define ZL_BENCH_BENCHSTAT_H

#include <stddef.h>
#include <stdio.h>

struct benchstat {
    size_t n;
    double p50;
    double p90;
    double p99;
    double max;
};

/* Summarises n samples (sorted in place). n == 0 gives all zeros. */
void benchstat_summarise(double *samples, size_t n, struct benchstat *out);

/* The nearest-rank percentile q (0..100] of n sorted samples. */
double benchstat_percentile(const double *sorted, size_t n, double q);

/* a / b, or 0 when b is not positive. */
double benchstat_ratio(double a, double b);

/* {"n":..,"p50":..,"p90":..,"p99":..,"max":..} */
void benchstat_json(FILE *f, const struct benchstat *s);

#endif

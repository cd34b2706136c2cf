/* SPDX-License-Identifier: Apache-2.0 */
/* Latency order statistics (see benchstat.h). */
#include "benchstat.h"

#include <math.h>
#include <stdlib.h>

static int benchstat_cmp(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;
    return (x > y) - (x < y);
}

double benchstat_percentile(const double *sorted, size_t n, double q)
{
    if (n == 0)
        return 0;
    double rank = ceil(q * (double)n / 100.0); /* exact for whole q */
    size_t i = rank < 1 ? 0 : (size_t)rank - 1;
    return sorted[i < n ? i : n - 1];
}

void benchstat_summarise(double *samples, size_t n, struct benchstat *out)
{
    if (n > 0) /* qsort's array may not be NULL, even when empty */
        qsort(samples, n, sizeof(*samples), benchstat_cmp);
    out->n = n;
    out->p50 = benchstat_percentile(samples, n, 50);
    out->p90 = benchstat_percentile(samples, n, 90);
    out->p99 = benchstat_percentile(samples, n, 99);
    out->max = n > 0 ? samples[n - 1] : 0;
}

double benchstat_ratio(double a, double b)
{
    return b > 0 ? a / b : 0;
}

void benchstat_json(FILE *f, const struct benchstat *s)
{
    fprintf(f,
            "{\"n\":%zu,\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"max\":%.3f}",
            s->n, s->p50, s->p90, s->p99, s->max);
}

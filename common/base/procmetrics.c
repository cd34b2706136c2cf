/* SPDX-License-Identifier: Apache-2.0 */
/* Build info and process_* metrics from /proc and getrusage. */
#include "base/procmetrics.h"

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include "base/clock.h"

enum pm_fam { PM_BUILD_INFO, PM_RSS, PM_CPU, PM_FDS, PM_START, PM_COUNT };

struct procmetrics {
    struct metrics_family *f[PM_COUNT];
    pthread_mutex_t mu; /* guards last_cpu */
    double last_cpu;
};

static enum zl_err pm_register(struct metrics_registry *reg,
                               struct procmetrics *pm)
{
    static const char *const build_labels[] = {"version", "commit"};
    enum zl_err rc =
        metrics_register(reg, METRICS_GAUGE, "zen_lead_build_info",
                         "Build of the running binary (always 1).",
                         build_labels, 2, NULL, 0, &pm->f[PM_BUILD_INFO]);
    if (rc == ZL_OK)
        rc = metrics_register(
            reg, METRICS_GAUGE, "process_resident_memory_bytes",
            "Resident memory size in bytes.", NULL, 0, NULL, 0, &pm->f[PM_RSS]);
    if (rc == ZL_OK)
        rc = metrics_register(reg, METRICS_COUNTER, "process_cpu_seconds_total",
                              "User and system CPU time spent in seconds.",
                              NULL, 0, NULL, 0, &pm->f[PM_CPU]);
    if (rc == ZL_OK)
        rc = metrics_register(reg, METRICS_GAUGE, "process_open_fds",
                              "Open file descriptors.", NULL, 0, NULL, 0,
                              &pm->f[PM_FDS]);
    if (rc == ZL_OK)
        rc = metrics_register(reg, METRICS_GAUGE, "process_start_time_seconds",
                              "Start time of the process since the Unix "
                              "epoch in seconds.",
                              NULL, 0, NULL, 0, &pm->f[PM_START]);
    return rc;
}

enum zl_err procmetrics_new(struct metrics_registry *reg, const char *version,
                            const char *commit, struct procmetrics **out)
{
    *out = NULL;
    struct procmetrics *pm = calloc(1, sizeof(*pm));
    if (pm == NULL)
        return ZL_ERR_NOMEM;
    if (pthread_mutex_init(&pm->mu, NULL) != 0) {
        free(pm);
        return ZL_ERR_NOMEM;
    }
    enum zl_err rc = pm_register(reg, pm);
    const char *bi[] = {version, commit};
    if (rc == ZL_OK)
        rc = metrics_set(pm->f[PM_BUILD_INFO], bi, 1);
    if (rc == ZL_OK)
        rc = metrics_set(pm->f[PM_START], NULL,
                         (double)clock_real_ns() / (double)CLOCK_NS_PER_S);
    if (rc != ZL_OK) {
        procmetrics_free(pm);
        return rc;
    }
    *out = pm;
    return ZL_OK;
}

void procmetrics_free(struct procmetrics *pm)
{
    if (pm == NULL)
        return;
    pthread_mutex_destroy(&pm->mu);
    free(pm);
}

static double pm_rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, resident = 0;
    if (f == NULL)
        return 0;
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
        resident = 0;
    fclose(f);
    return (double)resident * (double)sysconf(_SC_PAGESIZE);
}

static double pm_open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    double n = 0;
    if (d == NULL)
        return 0;
    while (readdir(d) != NULL)
        n++;
    closedir(d);
    return n > 3 ? n - 3 : 0; /* ".", ".." and the DIR's own fd */
}

static double pm_cpu_seconds(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

void procmetrics_refresh(struct procmetrics *pm)
{
    pthread_mutex_lock(&pm->mu);
    double cpu = pm_cpu_seconds();
    if (cpu > pm->last_cpu) {
        metrics_add(pm->f[PM_CPU], NULL, cpu - pm->last_cpu);
        pm->last_cpu = cpu;
    }
    pthread_mutex_unlock(&pm->mu);
    metrics_set(pm->f[PM_RSS], NULL, pm_rss_bytes());
    metrics_set(pm->f[PM_FDS], NULL, pm_open_fds());
}

/* SPDX-License-Identifier: Apache-2.0 */
/* The controller process a benchmark measures: started with the admin
 * kubeconfig (optionally under a wrapper such as valgrind), or attached to
 * by pid; its readiness (GET /readyz), resident memory (VmRSS) and a clean
 * stop (SIGTERM, then SIGKILL after a grace period). */
#ifndef ZL_BENCH_BENCHPROC_H
#define ZL_BENCH_BENCHPROC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/err.h"

#define BENCHPROC_MAX_ARGS 32
#define BENCHPROC_ARGS_BYTES 8192 /* all of argv's strings */
/* Nothing listening on the probe address this long after the start: the
 * process has no probe server, fall back to waiting for it to go idle. */
#define BENCHPROC_NO_PROBE_NS (3 * INT64_C(1000000000))

struct benchproc {
    pid_t pid;          /* 0: none */
    bool owned;         /* started by us: stop it at the end */
    int64_t started_ns; /* clock_mono_ns just before the spawn */
    char health[64];    /* host:port of the probe server */
    long idle_ticks;    /* "at rest" below this CPU per second (2) */
};

/* Starts argv[0] with argv (NULL-terminated), stdout and stderr appended
 * to log_path. health is the --health-probe-bind-address given. */
enum zl_err benchproc_spawn(struct benchproc *p, const char *const argv[],
                            const char *log_path, const char *health);

/* Writes "127.0.0.1:<port>" of a loopback TCP port free right now. */
enum zl_err benchproc_free_address(char out[32]);

/* Takes a running process (not stopped at the end). */
void benchproc_attach(struct benchproc *p, pid_t pid, const char *health);

/* Polls http://<health>/readyz every 20 ms until 200 or timeout. When
 * nothing listens there for BENCHPROC_NO_PROBE_NS, waits instead until the
 * process used under idle_ticks clock ticks of CPU in a second. */
enum zl_err benchproc_wait_ready(struct benchproc *p, int64_t timeout_ns);

/* A field in KiB ("VmRSS", "RssAnon", "RssFile") from
 * /proc/<pid>/status; -1 when unreadable. */
long benchproc_status_kib(const struct benchproc *p, const char *field);
/* VmRSS in KiB; -1 when unreadable. */
long benchproc_rss_kib(const struct benchproc *p);

/* utime + stime in clock ticks from /proc/<pid>/stat; -1 when
 * unreadable. */
long benchproc_cpu_ticks(const struct benchproc *p);

/* Waits until the process used less than max_ticks_per_s of CPU over one
 * second, or timeout. ZL_ERR_TIMEOUT then. */
enum zl_err benchproc_wait_idle(struct benchproc *p, long max_ticks_per_s,
                                int64_t timeout_ns);

/* The sum of every sample of metric (a counter's series) on
 * http://<metrics>/metrics; -1 when it cannot be read. */
double benchproc_metric_sum(const char *metrics, const char *metric);

/* Waits until the sum of metric on http://<metrics>/metrics has not moved
 * for quiet_ns (the process has stopped sending requests), or timeout. */
enum zl_err benchproc_wait_metric_still(const char *metrics, const char *metric,
                                        int64_t quiet_ns, int64_t timeout_ns);

/* True while the process runs. */
bool benchproc_alive(struct benchproc *p);

/* SIGTERM, waits up to grace_ns, then SIGKILL. Returns the exit status
 * (as waitpid gives it) or -1. Only for owned processes. */
int benchproc_stop(struct benchproc *p, int64_t grace_ns);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* bench/scale: the controller at 1,000 enabled Services and 10,000 pods
 * (docs/performance.md): idle RSS with no Service, time to converge from
 * start (every leader slice holds its endpoint), RSS after sync, failover
 * latency at that scale, and instructions per pod status event measured
 * with callgrind (Ir over N events minus the idle rate). Writes JSON. */
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "benchkube.h"
#include "benchproc.h"
#include "benchstat.h"
#include "fixture.h"
#include "round.h"
#include "slicetab.h"

#define SC_NODE "zl-bench-node"
#define SC_MAX_THREADS 64
#define SC_MAX_EXTRA 8
#define SC_FAILOVERS 5
#define SC_RSS_TARGET_KIB (32L * 1024)
#define SC_IDLE_TARGET_KIB (8L * 1024)

struct sc_opts {
    const char *kubeconfig;
    const char *controller;
    const char *extra[SC_MAX_EXTRA]; /* more controller flags */
    int n_extra;
    int services;
    int pods_per_service;
    int namespaces;
    int threads;
    int events; /* pod status events under callgrind; 0: skip */
    bool quick;
    const char *out_dir;
    const char *work_dir; /* logs and callgrind files */
};

struct sc_result {
    double create_s;
    double create_rps;
    double ready_s;    /* start to /readyz */
    double converge_s; /* start to every leader slice with its endpoint */
    long idle_rss_kib;
    long sync_rss_kib;
    long sync_anon_kib; /* RssAnon: the heap and stacks */
    long sync_file_kib; /* RssFile: mapped code of the binary and libs */
    long idle_anon_kib;
    double failover_ms[SC_FAILOVERS]; /* t1 - ts */
    double builtin_ms[SC_FAILOVERS];  /* tb - ts */
    int failovers;
    double quiet_s; /* start to no API request for 2 s (backlog drained) */
    double ir_per_event;
    double idle_ir_per_s;
    int max_zenlead_ep;
};

struct sc {
    struct sc_opts o;
    struct bk *b;
    struct slicetab *all; /* zen-lead slices of every namespace */
    struct bk_watch *all_watch;
    struct sc_result r;
    pid_t pid;          /* names the namespaces of this run */
    char metrics[32];   /* the running controller's --metrics-bind-address */
    int64_t t_start;    /* for the progress lines */
    atomic_int next;    /* next service to create */
    atomic_int errors;  /* failed creations */
    atomic_long writes; /* requests sent */
};

static void sc_usage(void)
{
    fprintf(stderr,
            "usage: scale [--controller BINARY] [--kubeconfig FILE] [--quick]\n"
            "             [--services N] [--pods-per-service N] "
            "[--namespaces N] [--threads N]\n"
            "             [--events N] [--controller-arg ARG]... "
            "[--out DIR] [--work DIR]\n");
}

static int sc_int(const char *s)
{
    return (int)strtol(s, NULL, 10);
}

static int sc_parse_one(int c, struct sc_opts *o)
{
    switch (c) {
    case 'k':
        o->kubeconfig = optarg;
        return 0;
    case 'c':
        o->controller = optarg;
        return 0;
    case 'x':
        if (o->n_extra == SC_MAX_EXTRA)
            return -1;
        o->extra[o->n_extra++] = optarg;
        return 0;
    case 'q':
        o->quick = true;
        o->services = 50;
        o->namespaces = 5;
        o->events = 100;
        return 0;
    case 's':
        o->services = sc_int(optarg);
        return 0;
    case 'p':
        o->pods_per_service = sc_int(optarg);
        return 0;
    case 'n':
        o->namespaces = sc_int(optarg);
        return 0;
    case 't':
        o->threads = sc_int(optarg);
        return 0;
    case 'e':
        o->events = sc_int(optarg);
        return 0;
    case 'o':
        o->out_dir = optarg;
        return 0;
    case 'w':
        o->work_dir = optarg;
        return 0;
    default:
        return -1;
    }
}

static int sc_parse(int argc, char **argv, struct sc_opts *o)
{
    static const struct option longs[] = {
        {"kubeconfig", required_argument, NULL, 'k'},
        {"controller", required_argument, NULL, 'c'},
        {"controller-arg", required_argument, NULL, 'x'},
        {"quick", no_argument, NULL, 'q'},
        {"services", required_argument, NULL, 's'},
        {"pods-per-service", required_argument, NULL, 'p'},
        {"namespaces", required_argument, NULL, 'n'},
        {"threads", required_argument, NULL, 't'},
        {"events", required_argument, NULL, 'e'},
        {"out", required_argument, NULL, 'o'},
        {"work", required_argument, NULL, 'w'},
        {NULL, 0, NULL, 0}};
    *o = (struct sc_opts){.kubeconfig = getenv("KUBECONFIG"),
                          .services = 1000,
                          .pods_per_service = 10,
                          .namespaces = 10,
                          .threads = 16,
                          .events = 1000,
                          .out_dir = "bench/results",
                          .work_dir = "."};
    int c;
    while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1)
        if (sc_parse_one(c, o) != 0)
            return -1;
    bool bad = optind != argc || o->kubeconfig == NULL || o->services < 1 ||
               o->pods_per_service < 2 ||
               o->pods_per_service > ROUND_MAX_PODS || o->namespaces < 1 ||
               o->threads < 1 || o->threads > SC_MAX_THREADS;
    return bad ? -1 : 0;
}

/* ---- names -------------------------------------------------------------- */

static void sc_ns(const struct sc *s, int svc, char out[64])
{
    snprintf(out, 64, "zl-bench-sc%d-%d", (int)s->pid, svc % s->o.namespaces);
}

static void sc_svc(int svc, char out[32])
{
    snprintf(out, 32, "s%04d", svc);
}

static double sc_since(int64_t t0)
{
    return (double)(clock_mono_ns() - t0) / (double)CLOCK_NS_PER_S;
}

/* ---- creating the objects ----------------------------------------------- */

static enum zl_err sc_create_service(struct sc *s, int j)
{
    char ns[64];
    char svc[32];
    char pod[64];
    char ip[FIXTURE_IP_MAX];
    sc_ns(s, j, ns);
    sc_svc(j, svc);
    enum zl_err rc = fixture_service(s->b, ns, svc);
    atomic_fetch_add(&s->writes, 1);
    for (int i = 0; rc == ZL_OK && i < s->o.pods_per_service; i++) {
        snprintf(pod, sizeof(pod), "%s-%d", svc, i);
        fixture_ipv4((unsigned)(j * s->o.pods_per_service + i), ip);
        rc = fixture_ready_pod(s->b, ns, pod, svc, SC_NODE, ip);
        atomic_fetch_add(&s->writes, 2);
    }
    return rc;
}

static void *sc_creator(void *arg)
{
    struct sc *s = arg;
    for (;;) {
        int j = atomic_fetch_add(&s->next, 1);
        if (j >= s->o.services)
            break;
        if (sc_create_service(s, j) != ZL_OK)
            atomic_fetch_add(&s->errors, 1);
    }
    return NULL;
}

static enum zl_err sc_create_all(struct sc *s)
{
    char ns[64];
    for (int k = 0; k < s->o.namespaces; k++) {
        sc_ns(s, k, ns);
        enum zl_err rc = fixture_namespace(s->b, ns);
        if (rc != ZL_OK)
            return rc;
    }
    pthread_t th[SC_MAX_THREADS];
    int64_t t0 = clock_mono_ns();
    int started = 0;
    for (; started < s->o.threads; started++)
        if (pthread_create(&th[started], NULL, sc_creator, s) != 0)
            break;
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    double secs = (double)(clock_mono_ns() - t0) / (double)CLOCK_NS_PER_S;
    s->r.create_s = secs;
    s->r.create_rps = (double)atomic_load(&s->writes) / secs;
    printf("[%5.0f s] created %d Services and %d Ready pods in %.1f s (%.0f "
           "requests/s, "
           "%d threads)\n",
           sc_since(s->t_start), s->o.services,
           s->o.services * s->o.pods_per_service, secs, s->r.create_rps,
           started);
    return started == 0 || atomic_load(&s->errors) != 0 ? ZL_ERR_IO : ZL_OK;
}

/* ---- the controller ----------------------------------------------------- */

static enum zl_err sc_spawn(struct sc *s, struct benchproc *p, const char *log,
                            bool callgrind)
{
    const char *argv[BENCHPROC_MAX_ARGS];
    char cg_out[512];
    char *metrics = s->metrics;
    char health[32];
    int n = 0;
    if (benchproc_free_address(metrics) != ZL_OK ||
        benchproc_free_address(health) != ZL_OK)
        return ZL_ERR_IO;
    if (callgrind) {
        snprintf(cg_out, sizeof(cg_out),
                 "--callgrind-out-file=%s/callgrind.out.%%p", s->o.work_dir);
        argv[n++] = "/usr/bin/valgrind";
        argv[n++] = "--tool=callgrind";
        argv[n++] = cg_out;
    }
    argv[n++] = s->o.controller;
    argv[n++] = "--kubeconfig";
    argv[n++] = s->o.kubeconfig;
    argv[n++] = "--metrics-bind-address";
    argv[n++] = metrics;
    argv[n++] = "--health-probe-bind-address";
    argv[n++] = health;
    argv[n++] = "--log-level";
    argv[n++] = "warn";
    for (int i = 0; i < s->o.n_extra; i++)
        argv[n++] = s->o.extra[i];
    argv[n] = NULL;
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", s->o.work_dir, log);
    return benchproc_spawn(p, argv, path, health);
}

/* Idle means no Service of ours and no pod anywhere: waits (up to 10
 * minutes) for what an earlier run left to be deleted. */
static enum zl_err sc_wait_empty(struct sc *s)
{
    long pods = -1;
    long svcs = -1;
    for (int k = 0; k < 600; k++) {
        if (bk_count(s->b, BK_POD, NULL, &pods) != ZL_OK ||
            bk_count(s->b, BK_SERVICE, NULL, &svcs) != ZL_OK)
            return ZL_ERR_IO;
        if (pods == 0 && svcs <= 1) /* default/kubernetes */
            return ZL_OK;
        struct timespec ts = {1, 0};
        nanosleep(&ts, NULL);
    }
    fprintf(stderr, "scale: %ld pods and %ld Services still there\n", pods,
            svcs);
    return ZL_ERR_TIMEOUT;
}

static enum zl_err sc_idle_rss(struct sc *s)
{
    struct benchproc p;
    enum zl_err rc = sc_wait_empty(s);
    if (rc != ZL_OK)
        return rc;
    rc = sc_spawn(s, &p, "scale-idle.log", false);
    if (rc == ZL_OK)
        rc = benchproc_wait_ready(&p, 60 * CLOCK_NS_PER_S);
    if (rc == ZL_OK) {
        benchproc_wait_idle(&p, 2, 10 * CLOCK_NS_PER_S);
        s->r.idle_rss_kib = benchproc_rss_kib(&p);
        s->r.idle_anon_kib = benchproc_status_kib(&p, "RssAnon");
        printf("[%5.0f s] idle RSS (no Service): %ld KiB (anonymous %ld)\n",
               sc_since(s->t_start), s->r.idle_rss_kib, s->r.idle_anon_kib);
    }
    benchproc_stop(&p, 10 * CLOCK_NS_PER_S);
    return rc;
}

/* Every enabled Service's leader slice holds one ready endpoint. */
static bool sc_converged(const struct slicetab *t, void *ctx)
{
    const struct sc *s = ctx;
    int done = 0;
    for (size_t i = 0; i < slicetab_count(t); i++) {
        const struct slicetab_slice *sl = slicetab_at(t, i);
        done += sl->zenlead && !sl->gone && sl->n_ep == 1 && sl->ep[0].ready;
    }
    return done >= s->o.services;
}

static enum zl_err sc_converge(struct sc *s, struct benchproc *p)
{
    slicetab_arm(s->all, 0, sc_converged, s);
    enum zl_err rc = sc_spawn(s, p, "scale-controller.log", false);
    if (rc == ZL_OK)
        rc = benchproc_wait_ready(p, 600 * CLOCK_NS_PER_S);
    if (rc == ZL_OK)
        s->r.ready_s = sc_since(p->started_ns);
    int64_t times[SLICETAB_MAX_PROBES];
    if (rc == ZL_OK &&
        !slicetab_wait(s->all, p->started_ns + 900 * CLOCK_NS_PER_S, times))
        rc = ZL_ERR_TIMEOUT;
    slicetab_disarm(s->all, 0);
    if (rc != ZL_OK) {
        fprintf(stderr, "scale: controller did not converge (%s)\n",
                zl_err_str(rc));
        return rc;
    }
    s->r.converge_s = (double)(times[0] - p->started_ns) / 1e9;
    benchproc_wait_idle(p, 2, 30 * CLOCK_NS_PER_S);
    s->r.sync_rss_kib = benchproc_rss_kib(p);
    s->r.sync_anon_kib = benchproc_status_kib(p, "RssAnon");
    s->r.sync_file_kib = benchproc_status_kib(p, "RssFile");
    printf("[%5.0f s] ready in %.2f s, converged in %.2f s; RSS after sync "
           "%ld KiB (anonymous %ld, file %ld)\n",
           sc_since(s->t_start), s->r.ready_s, s->r.converge_s,
           s->r.sync_rss_kib, s->r.sync_anon_kib, s->r.sync_file_kib);
    /* Writes still queued behind the client's rate limiter (Events)
     * would delay the failover write: wait until the controller sends
     * nothing for 2 s. */
    rc = benchproc_wait_metric_still(s->metrics, "zen_lead_api_requests_total",
                                     2 * CLOCK_NS_PER_S, 600 * CLOCK_NS_PER_S);
    if (rc == ZL_OK) {
        s->r.quiet_s = sc_since(p->started_ns) - 2.0;
        printf("[%5.0f s] no API request for 2 s since %.2f s after start\n",
               sc_since(s->t_start), s->r.quiet_s);
    } else {
        fprintf(stderr, "scale: no quiet /metrics (%s); going on\n",
                zl_err_str(rc));
    }
    return ZL_OK;
}

/* Failover rounds on the first Service while everything else is there. */
static enum zl_err sc_failover(struct sc *s)
{
    char ns[64];
    char svc[32];
    struct slicetab *tab = NULL;
    struct bk_watch *w = NULL;
    struct round_env env;
    sc_ns(s, 0, ns);
    sc_svc(0, svc);
    enum zl_err rc = slicetab_new(&tab);
    if (rc == ZL_OK)
        rc = bk_watch_start(s->b, BK_SLICE, ns, NULL, slicetab_on_event, tab,
                            &w);
    round_env_init(&env, s->b, tab, ns, svc, SC_NODE, s->o.pods_per_service, 0,
                   s->o.controller != NULL);
    /* The built-in controller may still be catching up on 10,000 pods:
     * start when this namespace has been quiet for 2 s. */
    env.quiet_ns = 2 * CLOCK_NS_PER_S;
    for (int k = 0; rc == ZL_OK && k < 30; k++) {
        rc = round_wait_settled(&env);
        if (rc != ZL_ERR_TIMEOUT)
            break;
        rc = k < 29 ? ZL_OK : rc;
    }
    env.quiet_ns = ROUND_QUIET_NS;
    int n = s->o.quick ? 3 : SC_FAILOVERS;
    for (int i = 0; rc == ZL_OK && i < n; i++) {
        struct round_result r;
        rc = round_run(&env, ROUND_NOTREADY, &r);
        if (rc != ZL_OK)
            break;
        s->r.failover_ms[i] = r.t1 != 0 ? (double)(r.t1 - r.ts) / 1e6 : 0;
        s->r.builtin_ms[i] = (double)(r.tb - r.ts) / 1e6;
        s->r.failovers++;
        printf("failover at scale: t1-ts %.2f ms, tb-ts %.2f ms (%s -> %s)\n",
               s->r.failover_ms[i], s->r.builtin_ms[i], r.old_pod, r.new_pod);
    }
    bk_watch_stop(w);
    slicetab_free(tab);
    return rc;
}

/* ---- instructions per event (callgrind) --------------------------------- */

static int sc_run_tool(const char *cmd, const char *arg, pid_t pid)
{
    char pidtext[16];
    snprintf(pidtext, sizeof(pidtext), "%d", (int)pid);
    const char *argv[] = {cmd, arg, pidtext, NULL};
    struct benchproc t;
    if (benchproc_spawn(&t, argv, "/dev/null", "") != ZL_OK)
        return -1;
    while (benchproc_alive(&t)) {
        struct timespec ts = {0, 20L * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return 0;
}

/* The Ir of one callgrind dump part: its "summary:" line (what
 * callgrind_annotate calls PROGRAM TOTALS); -1 when absent. */
static double sc_dump_ir(const char *path)
{
    char line[512];
    double ir = -1;
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof(line), f) != NULL)
        if (strncmp(line, "summary:", 8) == 0)
            ir = strtod(line + 8, NULL);
    fclose(f);
    return ir;
}

/* Zeroes the counters, runs fn, waits until idle, dumps: the Ir and the
 * seconds between zeroing and dumping. */
static double sc_measure(struct sc *s, struct benchproc *p, int dump,
                         void (*fn)(struct sc *s), double *secs)
{
    char path[512];
    sc_run_tool("/usr/bin/callgrind_control", "--zero", p->pid);
    int64_t t0 = clock_mono_ns();
    fn(s);
    benchproc_wait_idle(p, 10, 300 * CLOCK_NS_PER_S);
    sc_run_tool("/usr/bin/callgrind_control", "--dump", p->pid);
    *secs = sc_since(t0);
    snprintf(path, sizeof(path), "%s/callgrind.out.%d.%d", s->o.work_dir,
             (int)p->pid, dump);
    return sc_dump_ir(path);
}

static void sc_idle_phase(struct sc *s)
{
    (void)s;
    struct timespec ts = {10, 0};
    nanosleep(&ts, NULL);
}

/* A pod of service j that is not its leader (pods 0 and 1 in turn). */
static void sc_non_leader(struct sc *s, int j, char pod[64])
{
    char ns[64];
    char svc[32];
    char slice[64];
    sc_ns(s, j, ns);
    sc_svc(j, svc);
    snprintf(slice, sizeof(slice), "%s-leader-ipv4", svc);
    slicetab_lock(s->all);
    const struct slicetab_slice *l = slicetab_find(s->all, ns, slice);
    snprintf(pod, 64, "%s-0", svc);
    if (l != NULL && l->n_ep == 1 && strcmp(l->ep[0].pod, pod) == 0)
        snprintf(pod, 64, "%s-1", svc);
    slicetab_unlock(s->all);
}

/* events status patches: a non-leader pod NotReady, then Ready again. */
static void sc_event_phase(struct sc *s)
{
    char ns[64];
    char pod[64];
    for (int k = 0; k < s->o.events; k++) {
        int j = 1 + (k / 2) % (s->o.services > 1 ? s->o.services - 1 : 1);
        sc_ns(s, j, ns);
        sc_non_leader(s, j, pod);
        fixture_pod_status(s->b, ns, pod, k % 2 == 1, NULL);
    }
}

static enum zl_err sc_callgrind(struct sc *s)
{
    struct benchproc p;
    double idle_s;
    double busy_s;
    enum zl_err rc = sc_spawn(s, &p, "scale-callgrind.log", true);
    p.idle_ticks = 10; /* valgrind's own overhead at rest */
    if (rc == ZL_OK)
        rc = benchproc_wait_ready(&p, 1200 * CLOCK_NS_PER_S);
    if (rc == ZL_OK)
        rc = benchproc_wait_idle(&p, 10, 1200 * CLOCK_NS_PER_S);
    if (rc != ZL_OK) {
        fprintf(stderr, "scale: controller under callgrind not ready\n");
        benchproc_stop(&p, 30 * CLOCK_NS_PER_S);
        return rc;
    }
    double idle_ir = sc_measure(s, &p, 1, sc_idle_phase, &idle_s);
    double busy_ir = sc_measure(s, &p, 2, sc_event_phase, &busy_s);
    benchproc_stop(&p, 60 * CLOCK_NS_PER_S);
    if (idle_ir < 0 || busy_ir < 0) {
        fprintf(stderr, "scale: no callgrind dump in %s\n", s->o.work_dir);
        return ZL_ERR_IO;
    }
    s->r.idle_ir_per_s = idle_ir / idle_s;
    s->r.ir_per_event =
        (busy_ir - s->r.idle_ir_per_s * busy_s) / (double)s->o.events;
    printf("[%5.0f s] callgrind: %.0f Ir per pod status event (%d events, %.0f "
           "Ir in "
           "%.1f s; idle %.0f Ir/s)\n",
           sc_since(s->t_start), s->r.ir_per_event, s->o.events, busy_ir,
           busy_s, s->r.idle_ir_per_s);
    return ZL_OK;
}

/* ---- report ------------------------------------------------------------- */

static double sc_median(const double *v, int n)
{
    double tmp[SC_FAILOVERS];
    struct benchstat st;
    memcpy(tmp, v, (size_t)n * sizeof(double));
    benchstat_summarise(tmp, (size_t)n, &st);
    return st.p50;
}

static bool sc_targets_met(const struct sc *s)
{
    return s->r.sync_rss_kib > 0 && s->r.sync_rss_kib <= SC_RSS_TARGET_KIB &&
           s->r.idle_rss_kib > 0 && s->r.idle_rss_kib <= SC_IDLE_TARGET_KIB &&
           s->r.max_zenlead_ep <= 1;
}

static void sc_write_json(const struct sc *s, bool met)
{
    char date[32];
    char path[512];
    bk_now_stamp(date);
    snprintf(path, sizeof(path), "%s/scale-%s%s.json", s->o.out_dir, date,
             s->o.quick ? "-quick" : "");
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        fprintf(stderr, "scale: cannot write %s\n", path);
        return;
    }
    const struct sc_result *r = &s->r;
    fprintf(f,
            "{\"bench\":\"scale\",\"date\":\"%s\",\"quick\":%s,"
            "\"services\":%d,\"pods\":%d,\"namespaces\":%d,"
            "\"create_s\":%.2f,\"create_requests_per_s\":%.0f,"
            "\"ready_s\":%.3f,\"converge_s\":%.3f,\"api_quiet_s\":%.3f,"
            "\"idle_rss_kib\":%ld,\"idle_anon_kib\":%ld,"
            "\"sync_rss_kib\":%ld,\"sync_anon_kib\":%ld,"
            "\"sync_file_kib\":%ld,",
            date, s->o.quick ? "true" : "false", s->o.services,
            s->o.services * s->o.pods_per_service, s->o.namespaces, r->create_s,
            r->create_rps, r->ready_s, r->converge_s, r->quiet_s,
            r->idle_rss_kib, r->idle_anon_kib, r->sync_rss_kib,
            r->sync_anon_kib, r->sync_file_kib);
    fprintf(f, "\"failover_t1_ts_ms\":[");
    for (int i = 0; i < r->failovers; i++)
        fprintf(f, "%s%.3f", i ? "," : "", r->failover_ms[i]);
    fprintf(f, "],\"failover_tb_ts_ms\":[");
    for (int i = 0; i < r->failovers; i++)
        fprintf(f, "%s%.3f", i ? "," : "", r->builtin_ms[i]);
    fprintf(f,
            "],\"events\":%d,\"ir_per_event\":%.0f,\"idle_ir_per_s\":%.0f,"
            "\"max_zenlead_endpoints\":%d,\"targets_met\":%s}\n",
            s->o.events, r->ir_per_event, r->idle_ir_per_s, r->max_zenlead_ep,
            met ? "true" : "false");
    fclose(f);
    printf("wrote %s\n", path);
}

static enum zl_err sc_run(struct sc *s)
{
    struct benchproc p = {0};
    enum zl_err rc = bk_open(s->o.kubeconfig, &s->b);
    if (rc == ZL_OK)
        rc = slicetab_new(&s->all);
    if (rc == ZL_OK)
        rc = fixture_node(s->b, SC_NODE);
    bool c = s->o.controller != NULL;
    if (rc == ZL_OK && c)
        rc = sc_idle_rss(s);
    if (rc == ZL_OK)
        rc = sc_create_all(s);
    if (rc == ZL_OK)
        rc = bk_watch_start(s->b, BK_SLICE, NULL,
                            "endpointslice.kubernetes.io/managed-by=zen-lead",
                            slicetab_on_event, s->all, &s->all_watch);
    if (rc == ZL_OK && c)
        rc = sc_converge(s, &p);
    if (rc == ZL_OK)
        rc = sc_failover(s);
    if (p.owned)
        benchproc_stop(&p, 10 * CLOCK_NS_PER_S);
    if (rc == ZL_OK && c && s->o.events > 0)
        rc = sc_callgrind(s);
    s->r.max_zenlead_ep =
        s->all != NULL ? slicetab_max_zenlead_endpoints(s->all) : 0;
    return rc;
}

static void sc_teardown(struct sc *s)
{
    char ns[64];
    bk_watch_stop(s->all_watch);
    for (int k = 0; s->b != NULL && k < s->o.namespaces; k++) {
        sc_ns(s, k, ns);
        fixture_namespace_delete(s->b, ns);
    }
    slicetab_free(s->all);
    bk_free(s->b);
}

int main(int argc, char **argv)
{
    static struct sc s;
    setvbuf(stdout, NULL, _IOLBF, 0); /* progress lines through pipes */
    s.pid = getpid();
    s.t_start = clock_mono_ns();
    if (sc_parse(argc, argv, &s.o) != 0) {
        sc_usage();
        return 2;
    }
    enum zl_err rc = sc_run(&s);
    int status = 1;
    if (rc == ZL_OK) {
        bool met = sc_targets_met(&s);
        if (s.r.failovers > 0)
            printf("failover at scale: median t1-ts %.2f ms, tb-ts %.2f ms\n",
                   sc_median(s.r.failover_ms, s.r.failovers),
                   sc_median(s.r.builtin_ms, s.r.failovers));
        sc_write_json(&s, met);
        status = 0;
        if (!s.o.quick && s.o.controller != NULL) {
            printf("targets (RSS after sync <= 32 MiB, idle <= 8 MiB, one "
                   "endpoint at most): %s\n",
                   met ? "met" : "NOT met");
            status = met ? 0 : 3;
        }
    } else {
        fprintf(stderr, "scale: %s\n", zl_err_str(rc));
    }
    sc_teardown(&s);
    return status;
}

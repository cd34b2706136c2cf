/* SPDX-License-Identifier: Apache-2.0 */
/* bench/failover: how fast the leader slice moves when the leader pod goes
 * NotReady, starts terminating or loses its IP, against how fast the
 * built-in EndpointSlice controller marks the same pod not ready in the
 * same run (docs/performance.md). Prints p50/p90/p99/max per trigger and
 * writes JSON. Without a controller (--no-controller) it times the
 * built-in controller alone, which validates the measuring. */
#include <getopt.h>
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

#define FO_SVC "fo"
#define FO_NODE "zl-bench-node"
#define FO_PODS 3

enum fo_series { FO_T1_T0, FO_TB_T0, FO_T1_TS, FO_TB_TS, FO_REQ, FO_SERIES };

static const char *const fo_series_names[FO_SERIES] = {
    "t1_t0", "tb_t0", "t1_ts", "tb_ts", "t0_ts"};

struct fo_opts {
    const char *kubeconfig;
    const char *controller; /* binary to start, or NULL */
    bool attach;            /* a controller already runs */
    int rounds[ROUND_TRIGGERS];
    bool quick;
    const char *out_dir;
    const char *log_path;
};

struct fo_trigger_stats {
    double *samples[FO_SERIES];
    size_t n;
    int failed;
    size_t first; /* rounds whose leader slice change came before tb */
    struct benchstat s[FO_SERIES];
};

struct fo {
    struct fo_opts o;
    struct bk *b;
    struct slicetab *tab;
    struct bk_watch *watch;
    struct benchproc proc;
    struct round_env env;
    char ns[64];
    struct fo_trigger_stats st[ROUND_TRIGGERS];
};

static void fo_usage(void)
{
    fprintf(stderr,
            "usage: failover [--kubeconfig FILE] [--controller BINARY | "
            "--attach | --no-controller]\n"
            "                [--quick] [--rounds N] [--rounds-other N] "
            "[--out DIR] [--log FILE]\n");
}

static int fo_parse(int argc, char **argv, struct fo_opts *o)
{
    static const struct option longs[] = {
        {"kubeconfig", required_argument, NULL, 'k'},
        {"controller", required_argument, NULL, 'c'},
        {"attach", no_argument, NULL, 'a'},
        {"no-controller", no_argument, NULL, 'n'},
        {"quick", no_argument, NULL, 'q'},
        {"rounds", required_argument, NULL, 'r'},
        {"rounds-other", required_argument, NULL, 'R'},
        {"out", required_argument, NULL, 'o'},
        {"log", required_argument, NULL, 'l'},
        {NULL, 0, NULL, 0}};
    *o = (struct fo_opts){.kubeconfig = getenv("KUBECONFIG"),
                          .rounds = {200, 50, 50},
                          .out_dir = "bench/results",
                          .log_path = "failover-controller.log"};
    int c;
    while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        switch (c) {
        case 'k':
            o->kubeconfig = optarg;
            break;
        case 'c':
            o->controller = optarg;
            break;
        case 'a':
            o->attach = true;
            break;
        case 'n':
            o->controller = NULL;
            o->attach = false;
            break;
        case 'q':
            o->quick = true;
            o->rounds[0] = o->rounds[1] = o->rounds[2] = 5;
            break;
        case 'r':
            o->rounds[ROUND_NOTREADY] = (int)strtol(optarg, NULL, 10);
            break;
        case 'R':
            o->rounds[ROUND_TERMINATING] = o->rounds[ROUND_NOIP] =
                (int)strtol(optarg, NULL, 10);
            break;
        case 'o':
            o->out_dir = optarg;
            break;
        case 'l':
            o->log_path = optarg;
            break;
        default:
            return -1;
        }
    }
    if (optind != argc || o->kubeconfig == NULL || o->kubeconfig[0] == '\0')
        return -1;
    return 0;
}

static enum zl_err fo_start_controller(struct fo *f)
{
    char metrics[32];
    char health[32];
    if (benchproc_free_address(metrics) != ZL_OK ||
        benchproc_free_address(health) != ZL_OK)
        return ZL_ERR_IO;
    const char *argv[] = {f->o.controller, "--kubeconfig",
                          f->o.kubeconfig, "--namespace",
                          f->ns,           "--metrics-bind-address",
                          metrics,         "--health-probe-bind-address",
                          health,          "--log-level",
                          "info",          NULL};
    enum zl_err rc = benchproc_spawn(&f->proc, argv, f->o.log_path, health);
    if (rc == ZL_OK)
        rc = benchproc_wait_ready(&f->proc, 60 * CLOCK_NS_PER_S);
    if (rc != ZL_OK)
        fprintf(stderr, "failover: controller not ready (log: %s)\n",
                f->o.log_path);
    return rc;
}

static enum zl_err fo_setup(struct fo *f)
{
    snprintf(f->ns, sizeof(f->ns), "zl-bench-fo-%d", (int)getpid());
    enum zl_err rc = bk_open(f->o.kubeconfig, &f->b);
    if (rc == ZL_OK)
        rc = slicetab_new(&f->tab);
    if (rc == ZL_OK)
        rc = fixture_namespace(f->b, f->ns);
    if (rc == ZL_OK)
        rc = fixture_node(f->b, FO_NODE);
    if (rc == ZL_OK)
        rc = bk_watch_start(f->b, BK_SLICE, f->ns, NULL, slicetab_on_event,
                            f->tab, &f->watch);
    bool controller = f->o.controller != NULL || f->o.attach;
    round_env_init(&f->env, f->b, f->tab, f->ns, FO_SVC, FO_NODE, FO_PODS, 0,
                   controller);
    if (rc == ZL_OK && f->o.controller != NULL)
        rc = fo_start_controller(f);
    if (rc == ZL_OK)
        rc = round_setup(&f->env);
    return rc;
}

static double fo_ms(int64_t a, int64_t b)
{
    return (double)(a - b) / (double)CLOCK_NS_PER_MS;
}

static void fo_record(struct fo *f, enum round_trigger trig,
                      const struct round_result *r)
{
    struct fo_trigger_stats *st = &f->st[trig];
    size_t i = st->n++;
    st->samples[FO_T1_T0][i] = fo_ms(r->t1, r->t0);
    st->samples[FO_TB_T0][i] = fo_ms(r->tb, r->t0);
    st->samples[FO_T1_TS][i] = fo_ms(r->t1, r->ts);
    st->samples[FO_TB_TS][i] = fo_ms(r->tb, r->ts);
    st->samples[FO_REQ][i] = fo_ms(r->t0, r->ts);
    /* One watch carries both slices in the order etcd committed them, and
     * each probe fires at its event's decode time: t1 < tb means zen-lead's
     * write landed first. */
    if (r->t1 < r->tb)
        st->first++;
}

static enum zl_err fo_run_trigger(struct fo *f, enum round_trigger trig)
{
    struct fo_trigger_stats *st = &f->st[trig];
    int n = f->o.rounds[trig];
    for (int k = 0; k < FO_SERIES; k++) {
        st->samples[k] = calloc((size_t)(n > 0 ? n : 1), sizeof(double));
        if (st->samples[k] == NULL)
            return ZL_ERR_NOMEM;
    }
    for (int i = 0; i < n; i++) {
        struct round_result r;
        enum zl_err rc = round_run(&f->env, trig, &r);
        if (rc == ZL_ERR_TIMEOUT && r.ts != 0) {
            fprintf(stderr, "failover: %s round %d: not seen in time\n",
                    round_trigger_name(trig), i);
            st->failed++;
            continue;
        }
        if (rc != ZL_OK)
            return rc;
        if (!f->env.controller)
            r.t1 = r.tb; /* no t1: keep the arrays aligned, not reported */
        fo_record(f, trig, &r);
    }
    return ZL_OK;
}

static void fo_summarise(struct fo *f)
{
    for (int t = 0; t < ROUND_TRIGGERS; t++)
        for (int k = 0; k < FO_SERIES; k++)
            benchstat_summarise(f->st[t].samples[k], f->st[t].n,
                                &f->st[t].s[k]);
}

static void fo_print_line(const char *label, const struct benchstat *s)
{
    printf("  %-22s p50 %7.2f  p90 %7.2f  p99 %7.2f  max %7.2f ms\n", label,
           s->p50, s->p90, s->p99, s->max);
}

static void fo_print(const struct fo *f)
{
    bool c = f->env.controller;
    for (int t = 0; t < ROUND_TRIGGERS; t++) {
        const struct fo_trigger_stats *st = &f->st[t];
        printf("%s: %zu rounds, %d not seen in time\n",
               round_trigger_name((enum round_trigger)t), st->n, st->failed);
        if (c)
            fo_print_line("zen-lead t1-t0", &st->s[FO_T1_T0]);
        fo_print_line("built-in tb-t0", &st->s[FO_TB_T0]);
        if (c)
            fo_print_line("zen-lead t1-ts", &st->s[FO_T1_TS]);
        fo_print_line("built-in tb-ts", &st->s[FO_TB_TS]);
        fo_print_line("trigger request t0-ts", &st->s[FO_REQ]);
        if (c)
            printf("  ratio t1/tb from ts:  p50 %.2f  p99 %.2f   from t0: "
                   "p50 %.2f  p99 %.2f\n",
                   benchstat_ratio(st->s[FO_T1_TS].p50, st->s[FO_TB_TS].p50),
                   benchstat_ratio(st->s[FO_T1_TS].p99, st->s[FO_TB_TS].p99),
                   benchstat_ratio(st->s[FO_T1_T0].p50, st->s[FO_TB_T0].p50),
                   benchstat_ratio(st->s[FO_T1_T0].p99, st->s[FO_TB_T0].p99));
        if (c)
            printf("  zen-lead's slice landed first in %zu of %zu rounds "
                   "(%.0f %%)\n",
                   st->first, st->n,
                   st->n ? 100.0 * (double)st->first / (double)st->n : 0.0);
    }
    if (c)
        printf("max endpoints ever seen in a zen-lead slice: %d\n",
               slicetab_max_zenlead_endpoints(f->tab));
}

/* Targets, per trigger: p50 and p99 from ts no worse than the built-in
 * controller's, every round seen, never more than one endpoint. */
static bool fo_targets_met(struct fo *f)
{
    bool ok = slicetab_max_zenlead_endpoints(f->tab) <= 1;
    for (int t = 0; t < ROUND_TRIGGERS; t++) {
        const struct fo_trigger_stats *st = &f->st[t];
        ok = ok && st->failed == 0 &&
             st->s[FO_T1_TS].p50 <= st->s[FO_TB_TS].p50 &&
             st->s[FO_T1_TS].p99 <= st->s[FO_TB_TS].p99;
    }
    return ok;
}

static void fo_json_trigger(FILE *out, const struct fo *f, int t)
{
    const struct fo_trigger_stats *st = &f->st[t];
    fprintf(out, "\"%s\":{\"rounds\":%zu,\"not_seen\":%d",
            round_trigger_name((enum round_trigger)t), st->n, st->failed);
    for (int k = 0; k < FO_SERIES; k++) {
        if (!f->env.controller && (k == FO_T1_T0 || k == FO_T1_TS))
            continue;
        fprintf(out, ",\"%s\":", fo_series_names[k]);
        benchstat_json(out, &st->s[k]);
    }
    if (f->env.controller)
        fprintf(out, ",\"ratio_ts\":{\"p50\":%.3f,\"p99\":%.3f}",
                benchstat_ratio(st->s[FO_T1_TS].p50, st->s[FO_TB_TS].p50),
                benchstat_ratio(st->s[FO_T1_TS].p99, st->s[FO_TB_TS].p99));
    if (f->env.controller)
        fprintf(out, ",\"zenlead_first\":%zu", st->first);
    fprintf(out, ",\"samples_tb_ts\":[");
    for (size_t i = 0; i < st->n; i++)
        fprintf(out, "%s%.3f", i ? "," : "", st->samples[FO_TB_TS][i]);
    fprintf(out, "]}");
}

static void fo_write_json(struct fo *f, bool met)
{
    char date[32];
    char path[512];
    bk_now_stamp(date);
    snprintf(path, sizeof(path), "%s/failover-%s%s.json", f->o.out_dir, date,
             f->o.quick ? "-quick" : "");
    FILE *out = fopen(path, "w");
    if (out == NULL) {
        fprintf(stderr, "failover: cannot write %s\n", path);
        return;
    }
    fprintf(out,
            "{\"bench\":\"failover\",\"date\":\"%s\",\"quick\":%s,"
            "\"controller\":%s,\"pods\":%d,\"units\":\"ms\",",
            date, f->o.quick ? "true" : "false",
            f->env.controller ? "true" : "false", FO_PODS);
    for (int t = 0; t < ROUND_TRIGGERS; t++) {
        fo_json_trigger(out, f, t);
        fputc(',', out);
    }
    fprintf(out,
            "\"max_zenlead_endpoints\":%d,\"watch_restarts\":%u,"
            "\"targets_met\":%s}\n",
            slicetab_max_zenlead_endpoints(f->tab), bk_watch_restarts(f->watch),
            met ? "true" : "false");
    fclose(out);
    printf("wrote %s\n", path);
}

static void fo_teardown(struct fo *f)
{
    if (f->proc.owned)
        benchproc_stop(&f->proc, 10 * CLOCK_NS_PER_S);
    bk_watch_stop(f->watch);
    if (f->b != NULL && f->ns[0] != '\0')
        fixture_namespace_delete(f->b, f->ns);
    for (int t = 0; t < ROUND_TRIGGERS; t++)
        for (int k = 0; k < FO_SERIES; k++)
            free(f->st[t].samples[k]);
    slicetab_free(f->tab);
    bk_free(f->b);
}

int main(int argc, char **argv)
{
    static struct fo f;
    setvbuf(stdout, NULL, _IOLBF, 0); /* progress lines through pipes */
    if (fo_parse(argc, argv, &f.o) != 0) {
        fo_usage();
        return 2;
    }
    enum zl_err rc = fo_setup(&f);
    for (int t = 0; rc == ZL_OK && t < ROUND_TRIGGERS; t++)
        rc = fo_run_trigger(&f, (enum round_trigger)t);
    int status = 1;
    if (rc == ZL_OK) {
        fo_summarise(&f);
        fo_print(&f);
        bool met = f.env.controller && fo_targets_met(&f);
        fo_write_json(&f, met);
        status = 0;
        if (f.env.controller && !f.o.quick) {
            printf("targets (ratio <= 1.0 at p50 and p99, every trigger; "
                   "one endpoint at most): %s\n",
                   met ? "met" : "NOT met");
            status = met ? 0 : 3;
        }
    } else {
        fprintf(stderr, "failover: %s\n", zl_err_str(rc));
    }
    fo_teardown(&f);
    return status;
}

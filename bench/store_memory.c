/* SPDX-License-Identifier: Apache-2.0 */
/* Heap per cached pod and the store's speed: parses N realistic pods (see
 * podgen.h), inserts them into a pod store and prints, per N, the median
 * over the runs of bytes per pod (view + store), time per parse, per insert
 * and per listing of one namespace; with --out DIR also as
 * DIR/store_memory-<date>.json. Usage: store_memory [--runs R] [--out DIR]
 * [N...] (default: 5 runs of N = 1000, 10000, 100000). Not a test. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "kube/store.h"
#include "kube/views.h"
#include "podgen.h"

/* Pods per namespace: a listing's cost must not grow with N. */
#define BENCH_PER_NS 100
#define BENCH_LISTS 2000
#define BENCH_MAX_RUNS 99

struct result {
    double view_bytes;  /* per pod, views only */
    double store_bytes; /* per pod, the store's own overhead */
    double parse_us;    /* per pod */
    double insert_ns;   /* per store_put */
    double list_us;     /* per store_list of one namespace */
};

/* The result file when --out is given, else NULL; one object per N. */
static FILE *json_out;
static size_t json_sizes;

static double now_s(void)
{
    return (double)clock_mono_ns() / (double)CLOCK_NS_PER_S;
}

static int parse_all(size_t n, struct views_pod **pods, char *json)
{
    for (size_t i = 0; i < n; i++) {
        size_t len = podgen_json(i, BENCH_PER_NS, 1000 + i, json);
        if (len == 0 || views_pod_parse(json, len, &pods[i]) != ZL_OK)
            return -1;
    }
    return 0;
}

/* Lists namespaces round robin; returns seconds per listing. */
static double time_lists(struct store *s, size_t n)
{
    size_t namespaces = (n + BENCH_PER_NS - 1) / BENCH_PER_NS;
    char ns[32];
    double t0 = now_s();
    for (size_t k = 0; k < BENCH_LISTS; k++) {
        const void **items;
        size_t count;
        podgen_namespace(k % namespaces, ns);
        if (store_list(s, ns, &items, &count) != ZL_OK)
            return -1;
        store_release_list(s, items, count);
    }
    return (now_s() - t0) / BENCH_LISTS;
}

static int run_once(size_t n, struct result *r)
{
    struct views_pod **pods = calloc(n, sizeof(*pods));
    char *json = malloc(PODGEN_JSON_MAX);
    struct store *s = NULL;
    int rc = -1;
    if (pods == NULL || json == NULL)
        goto out;
    size_t base = podgen_heap_bytes();
    double t0 = now_s();
    if (parse_all(n, pods, json) != 0)
        goto out;
    double t1 = now_s();
    size_t views = podgen_heap_bytes();
    if (store_new(VIEWS_KIND_POD, &s) != ZL_OK)
        goto out;
    double t2 = now_s();
    for (size_t i = 0; i < n; i++) {
        enum zl_err err = store_put(s, pods[i], NULL);
        pods[i] = NULL; /* the store has it, even on error */
        if (err != ZL_OK)
            goto out;
    }
    double t3 = now_s();
    size_t stored = podgen_heap_bytes();
    r->view_bytes = (double)(views - base) / (double)n;
    r->store_bytes = (double)(stored - views) / (double)n;
    r->parse_us = (t1 - t0) / (double)n * 1e6;
    r->insert_ns = (t3 - t2) / (double)n * 1e9;
    r->list_us = time_lists(s, n) * 1e6;
    rc = r->list_us >= 0 ? 0 : -1;
out:
    store_free(s);
    for (size_t i = 0; pods != NULL && i < n; i++)
        views_release(pods[i]);
    free(pods);
    free(json);
    return rc;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
    qsort(v, n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int bench(size_t n, size_t runs)
{
    double view[BENCH_MAX_RUNS] = {0}, store[BENCH_MAX_RUNS] = {0};
    double parse[BENCH_MAX_RUNS] = {0}, insert[BENCH_MAX_RUNS] = {0};
    double list[BENCH_MAX_RUNS] = {0};
    for (size_t k = 0; k < runs; k++) {
        struct result r;
        if (run_once(n, &r) != 0) {
            fprintf(stderr, "store_memory: run failed at N=%zu\n", n);
            return 1;
        }
        view[k] = r.view_bytes;
        store[k] = r.store_bytes;
        parse[k] = r.parse_us;
        insert[k] = r.insert_ns;
        list[k] = r.list_us;
    }
    double v = median(view, runs), st = median(store, runs);
    printf("N=%-7zu bytes/pod=%6.1f (view %6.1f + store %5.1f)  "
           "parse=%6.2f us/pod  insert=%6.1f ns  list(ns of %d)=%6.2f us\n",
           n, v + st, v, st, median(parse, runs), median(insert, runs),
           BENCH_PER_NS, median(list, runs));
    if (json_out != NULL)
        fprintf(json_out,
                "%s{\"n\":%zu,\"bytes_per_pod\":%.1f,\"view_bytes\":%.1f,"
                "\"store_bytes\":%.1f,\"parse_us\":%.2f,\"insert_ns\":%.1f,"
                "\"list_us\":%.2f}",
                json_sizes++ ? "," : "", n, v + st, v, st, median(parse, runs),
                median(insert, runs), median(list, runs));
    return 0;
}

/* Opens DIR/store_memory-<date>.json and writes its head. */
static int json_open(const char *dir, size_t runs, size_t pod_bytes)
{
    char text[CLOCK_RFC3339_MAX], stamp[32], path[4096];
    size_t k = 0;
    clock_format_ns(clock_real_ns(), CLOCK_PREC_S, text);
    for (size_t i = 0; text[i] != '\0' && k + 1 < sizeof(stamp); i++)
        if (text[i] != '-' && text[i] != ':')
            stamp[k++] = text[i];
    stamp[k] = '\0';
    int len =
        snprintf(path, sizeof(path), "%s/store_memory-%s.json", dir, stamp);
    if (len < 0 || (size_t)len >= sizeof(path))
        return 1;
    json_out = fopen(path, "w");
    if (json_out == NULL) {
        fprintf(stderr, "store_memory: cannot write %s\n", path);
        return 1;
    }
    fprintf(json_out,
            "{\"bench\":\"store_memory\",\"date\":\"%s\",\"runs\":%zu,"
            "\"pod_json_bytes\":%zu,\"per_namespace\":%d,\"units\":"
            "\"bytes per pod, us, ns; medians over the runs\",\"sizes\":[",
            stamp, runs, pod_bytes, BENCH_PER_NS);
    printf("store_memory: writing %s\n", path);
    return 0;
}

/* Closes the result file; nonzero when the writes failed. */
static int json_close(void)
{
    if (json_out == NULL)
        return 0;
    fprintf(json_out, "]}\n");
    int bad = ferror(json_out);
    return (fclose(json_out) != 0 || bad) ? 1 : 0;
}

int main(int argc, char **argv)
{
    size_t runs = 5;
    size_t sizes[16];
    size_t count = 0;
    const char *out_dir = NULL;
    for (int i = 1; i < argc; i++) {
        char *end;
        if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
            runs = strtoul(argv[++i], &end, 10);
            if (*end != '\0' || runs == 0 || runs > BENCH_MAX_RUNS)
                goto usage;
            continue;
        }
        if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
            out_dir = argv[++i];
            continue;
        }
        unsigned long v = strtoul(argv[i], &end, 10);
        if (*end != '\0' || v == 0 || count == 16)
            goto usage;
        sizes[count++] = v;
    }
    if (count == 0) {
        sizes[0] = 1000;
        sizes[1] = 10000;
        sizes[2] = 100000;
        count = 3;
    }
    if (!podgen_heap_measurable()) {
        fprintf(stderr, "store_memory: heap not measurable (not glibc "
                        "malloc); run without valgrind or sanitizers\n");
        return 1;
    }
    char sample[PODGEN_JSON_MAX];
    size_t pod_bytes = podgen_json(0, BENCH_PER_NS, 1000, sample);
    printf("store_memory: pod JSON %zu bytes, %zu runs, medians\n", pod_bytes,
           runs);
    if (out_dir != NULL && json_open(out_dir, runs, pod_bytes) != 0)
        return 1;
    for (size_t i = 0; i < count; i++)
        if (bench(sizes[i], runs) != 0) {
            json_close();
            return 1;
        }
    return json_close();
usage:
    fprintf(stderr,
            "usage: store_memory [--runs R (1-%d)] [--out DIR] [N...]\n",
            BENCH_MAX_RUNS);
    return 2;
}

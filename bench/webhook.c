/* SPDX-License-Identifier: Apache-2.0 */
/* bench/webhook: zen-lead-webhook under TLS keep-alive load from wrk (a
 * recorded-style Service CREATE review with zen-lead annotations and a
 * named targetPort, its pods in the cache) at 1, 16 and 64 connections,
 * against nginx serving the same answer bytes over TLS as the ceiling;
 * then its RSS idle and with N more pods cached (docs/performance.md). */
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "benchkube.h"
#include "benchproc.h"
#include "fixture.h"

#define WH_NODE "zl-bench-node"
#define WH_MAX_COUNTS 3
#define WH_MAX_RUNS 5
#define WH_THREADS 16
#define WH_PODS_PER_NS 1000
#define WH_MAX_NS 64
#define WH_APP_PODS 3
#define WH_P99_TARGET_MS 2.0
#define WH_TARGET_CONNS 16
#define WH_RATIO_TARGET 0.5
#define WH_PATH_MAX 512
#define WH_BODY_MAX 8192
#define WH_OUT_MAX 65536

enum wh_target { WH_WEBHOOK = 0, WH_NGINX, WH_TARGETS };

static const char *const wh_target_names[WH_TARGETS] = {"webhook", "nginx"};

struct wh_opts {
    const char *kubeconfig;
    const char *webhook;
    const char *nginx;
    const char *wrk;
    bool quick;
    int duration_s;
    int runs;
    int pods; /* cached on top of the bench's own; 0: skip */
    int counts[WH_MAX_COUNTS];
    int n_counts;
    const char *out_dir;
    const char *work_dir;
};

/* One wrk run. */
struct wh_load {
    double rps;
    double p50_ms;
    double p99_ms;
    long requests;
    long errors;       /* socket errors and non-2xx answers */
    double cpu_us_req; /* the server's CPU time (user + system) a request */
};

struct wh_result {
    struct wh_load run[WH_TARGETS][WH_MAX_COUNTS][WH_MAX_RUNS];
    struct wh_load med[WH_TARGETS][WH_MAX_COUNTS];
    struct wh_load cached; /* webhook with the extra pods cached */
    long idle_rss_kib;
    long idle_anon_kib;
    long loaded_rss_kib; /* after the load runs, before the extra pods */
    long loaded_anon_kib;
    long cached_rss_kib;
    long cached_anon_kib;
    long nginx_rss_kib;
    double create_s;
    double load_before; /* 1-minute load average before and after the load */
    double load_after;
    size_t review_bytes;
    size_t answer_bytes;
};

struct wh {
    struct wh_opts o;
    struct bk *b;
    pid_t pid; /* names the namespaces of this run */
    char ns[64];
    char port[WH_TARGETS][8];
    char metrics[32];
    char health[32];
    struct benchproc proc[WH_TARGETS];
    atomic_int next;
    atomic_int errors;
    int64_t t_start;
    struct wh_result r;
};

static void wh_usage(void)
{
    fprintf(stderr,
            "usage: webhook --webhook BINARY [--kubeconfig FILE] [--quick]\n"
            "               [--duration S] [--runs N] [--pods N] [--nginx "
            "BINARY]\n"
            "               [--wrk BINARY] [--out DIR] [--work DIR]\n");
}

static int wh_parse_one(int c, struct wh_opts *o)
{
    switch (c) {
    case 'k':
        o->kubeconfig = optarg;
        return 0;
    case 'w':
        o->webhook = optarg;
        return 0;
    case 'N':
        o->nginx = optarg;
        return 0;
    case 'W':
        o->wrk = optarg;
        return 0;
    case 'q':
        *o = (struct wh_opts){.kubeconfig = o->kubeconfig,
                              .webhook = o->webhook,
                              .nginx = o->nginx,
                              .wrk = o->wrk,
                              .quick = true,
                              .duration_s = 2,
                              .runs = 1,
                              .pods = 200,
                              .counts = {WH_TARGET_CONNS},
                              .n_counts = 1,
                              .out_dir = o->out_dir,
                              .work_dir = o->work_dir};
        return 0;
    case 'd':
        o->duration_s = (int)strtol(optarg, NULL, 10);
        return 0;
    case 'r':
        o->runs = (int)strtol(optarg, NULL, 10);
        return 0;
    case 'p':
        o->pods = (int)strtol(optarg, NULL, 10);
        return 0;
    case 'o':
        o->out_dir = optarg;
        return 0;
    case 'x':
        o->work_dir = optarg;
        return 0;
    default:
        return -1;
    }
}

static int wh_parse(int argc, char **argv, struct wh_opts *o)
{
    static const struct option longs[] = {
        {"kubeconfig", required_argument, NULL, 'k'},
        {"webhook", required_argument, NULL, 'w'},
        {"nginx", required_argument, NULL, 'N'},
        {"wrk", required_argument, NULL, 'W'},
        {"quick", no_argument, NULL, 'q'},
        {"duration", required_argument, NULL, 'd'},
        {"runs", required_argument, NULL, 'r'},
        {"pods", required_argument, NULL, 'p'},
        {"out", required_argument, NULL, 'o'},
        {"work", required_argument, NULL, 'x'},
        {NULL, 0, NULL, 0}};
    *o = (struct wh_opts){.kubeconfig = getenv("KUBECONFIG"),
                          .nginx = "/usr/sbin/nginx",
                          .wrk = "/usr/bin/wrk",
                          .duration_s = 10,
                          .runs = 3,
                          .pods = 10000,
                          .counts = {1, WH_TARGET_CONNS, 64},
                          .n_counts = 3,
                          .out_dir = "bench/results",
                          .work_dir = "."};
    int c;
    while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1)
        if (wh_parse_one(c, o) != 0)
            return -1;
    bool bad = optind != argc || o->kubeconfig == NULL || o->webhook == NULL ||
               o->duration_s < 1 || o->runs < 1 || o->runs > WH_MAX_RUNS ||
               o->pods < 0 || o->pods > WH_PODS_PER_NS * WH_MAX_NS;
    return bad ? -1 : 0;
}

static double wh_since(int64_t t0)
{
    return (double)(clock_mono_ns() - t0) / (double)CLOCK_NS_PER_S;
}

/* <work dir>/name; "" when too long (the open that follows fails). */
static void wh_path(const struct wh *w, const char *name, char out[WH_PATH_MAX])
{
    int n = snprintf(out, WH_PATH_MAX, "%s/%s", w->o.work_dir, name);
    if (n < 0 || n >= WH_PATH_MAX)
        out[0] = '\0';
}

/* ---- helpers: commands and files ----------------------------------------- */

/* Runs argv to its end, output appended to log: its exit code, or -1. */
static int wh_exec(const char *const argv[], const char *log)
{
    struct benchproc p;
    int status = 0;
    if (benchproc_spawn(&p, argv, log, "") != ZL_OK)
        return -1;
    if (waitpid(p.pid, &status, 0) != p.pid || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

static enum zl_err wh_write_file(const char *path, const char *text, size_t n)
{
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return ZL_ERR_IO;
    bool ok = fwrite(text, 1, n, f) == n;
    ok = fclose(f) == 0 && ok;
    return ok ? ZL_OK : ZL_ERR_IO;
}

/* The whole file (at most max - 1 bytes, NUL-terminated); its length or
 * -1. */
static long wh_read_file(const char *path, char *out, size_t max)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    size_t n = fread(out, 1, max - 1, f);
    out[n] = '\0';
    fclose(f);
    return (long)n;
}

/* ---- the objects --------------------------------------------------------- */

/* A Deployment-style pod labelled app=<app>, two containers with named
 * ports (http 8080, grpc 9000; metrics 9102), bound to the bench node. */
static enum zl_err wh_pod(struct bk *b, const char *ns, const char *name,
                          const char *app)
{
    char json[2048];
    snprintf(json, sizeof(json),
             "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":"
             "\"%s\",\"labels\":{\"app\":\"%s\",\"app.kubernetes.io/name\":"
             "\"%s\",\"app.kubernetes.io/component\":\"backend\","
             "\"pod-template-hash\":\"7d9f8c6b5d\",\"team\":\"payments\"},"
             "\"annotations\":{\"prometheus.io/scrape\":\"true\","
             "\"prometheus.io/port\":\"9102\"}},\"spec\":{\"nodeName\":\"%s\","
             "\"terminationGracePeriodSeconds\":30,\"containers\":[{\"name\":"
             "\"app\",\"image\":\"zl-test.invalid/app:0\",\"ports\":["
             "{\"name\":\"http\",\"containerPort\":%d,\"protocol\":\"TCP\"},"
             "{\"name\":\"grpc\",\"containerPort\":9000,\"protocol\":\"TCP\"}]"
             "},{\"name\":\"metrics-exporter\",\"image\":"
             "\"zl-test.invalid/exporter:0\",\"ports\":[{\"name\":\"metrics\","
             "\"containerPort\":9102,\"protocol\":\"TCP\"}]}]}}",
             name, app, app, WH_NODE, FIXTURE_PORT);
    return bk_create(b, BK_POD, ns, json);
}

static enum zl_err wh_ready_pod(struct bk *b, const char *ns, const char *name,
                                const char *app, unsigned n)
{
    char ip[FIXTURE_IP_MAX];
    fixture_ipv4(n, ip);
    enum zl_err rc = wh_pod(b, ns, name, app);
    if (rc == ZL_OK)
        rc = fixture_pod_status(b, ns, name, true, ip);
    return rc;
}

static void wh_bulk_ns(const struct wh *w, int k, char out[64])
{
    snprintf(out, 64, "zl-bench-wh%d-b%d", (int)w->pid, k);
}

static void *wh_creator(void *arg)
{
    struct wh *w = arg;
    char ns[64];
    char name[32];
    char app[32];
    for (;;) {
        int i = atomic_fetch_add(&w->next, 1);
        if (i >= w->o.pods)
            break;
        wh_bulk_ns(w, i / WH_PODS_PER_NS, ns);
        snprintf(name, sizeof(name), "p%05d", i);
        snprintf(app, sizeof(app), "svc%03d", i % WH_PODS_PER_NS / 10);
        if (wh_ready_pod(w->b, ns, name, app, (unsigned)(WH_APP_PODS + i)) !=
            ZL_OK)
            atomic_fetch_add(&w->errors, 1);
    }
    return NULL;
}

/* The extra pods: WH_PODS_PER_NS a namespace, 10 a selector, created and
 * made Ready by WH_THREADS threads. */
static enum zl_err wh_create_bulk(struct wh *w)
{
    char ns[64];
    int n_ns = (w->o.pods + WH_PODS_PER_NS - 1) / WH_PODS_PER_NS;
    for (int k = 0; k < n_ns; k++) {
        wh_bulk_ns(w, k, ns);
        enum zl_err rc = fixture_namespace(w->b, ns);
        if (rc != ZL_OK)
            return rc;
    }
    pthread_t th[WH_THREADS];
    int64_t t0 = clock_mono_ns();
    int started = 0;
    for (; started < WH_THREADS; started++)
        if (pthread_create(&th[started], NULL, wh_creator, w) != 0)
            break;
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    w->r.create_s = wh_since(t0);
    printf("[%5.0f s] created %d Ready pods in %d namespaces in %.1f s (%d "
           "threads)\n",
           wh_since(w->t_start), w->o.pods, n_ns, w->r.create_s, started);
    return started == 0 || atomic_load(&w->errors) != 0 ? ZL_ERR_IO : ZL_OK;
}

/* Idle means no pod in the cluster: waits (up to 10 minutes) for what an
 * earlier run left to be deleted, or the caches would hold it. */
static enum zl_err wh_wait_no_pods(struct wh *w)
{
    long pods = -1;
    for (int k = 0; k < 600; k++) {
        if (bk_count(w->b, BK_POD, NULL, &pods) != ZL_OK)
            return ZL_ERR_IO;
        if (pods == 0)
            return ZL_OK;
        struct timespec ts = {1, 0};
        nanosleep(&ts, NULL);
    }
    fprintf(stderr, "webhook: %ld pods still there\n", pods);
    return ZL_ERR_TIMEOUT;
}

/* The bench namespace with the Service's WH_APP_PODS pods. */
static enum zl_err wh_create_app(struct wh *w)
{
    char name[32];
    snprintf(w->ns, sizeof(w->ns), "zl-bench-wh%d", (int)w->pid);
    enum zl_err rc = fixture_node(w->b, WH_NODE);
    if (rc == ZL_OK)
        rc = fixture_namespace(w->b, w->ns);
    for (int i = 0; rc == ZL_OK && i < WH_APP_PODS; i++) {
        snprintf(name, sizeof(name), "web-7d9f8c6b5d-%d", i);
        rc = wh_ready_pod(w->b, w->ns, name, "web", (unsigned)i);
    }
    return rc;
}

/* ---- the review and its answer ------------------------------------------- */

/* A Service CREATE as the API server sends it after kubectl apply
 * (modelled on tests/data/admission/recorded/validate-create-source.json):
 * zen-lead annotations, targetPort by name, managedFields. */
static size_t wh_review(const char *ns, char out[WH_BODY_MAX])
{
    int n = snprintf(
        out, WH_BODY_MAX,
        "{\"kind\":\"AdmissionReview\",\"apiVersion\":\"admission.k8s.io/v1\","
        "\"request\":{\"uid\":\"db8bfe7e-57f7-4ce5-bca6-8f617ce42472\","
        "\"kind\":{\"group\":\"\",\"version\":\"v1\",\"kind\":\"Service\"},"
        "\"resource\":{\"group\":\"\",\"version\":\"v1\",\"resource\":"
        "\"services\"},\"requestKind\":{\"group\":\"\",\"version\":\"v1\","
        "\"kind\":\"Service\"},\"requestResource\":{\"group\":\"\","
        "\"version\":\"v1\",\"resource\":\"services\"},\"name\":\"web\","
        "\"namespace\":\"%s\",\"operation\":\"CREATE\",\"userInfo\":{"
        "\"username\":\"admin\",\"groups\":[\"system:masters\","
        "\"system:authenticated\"],\"extra\":{\"authentication.kubernetes.io/"
        "credential-id\":[\"X509SHA256=5a1cc2f1befdd5f02449a5da46eca18fed1b3e"
        "d795921b5161217eb06e4e5747\"]}},\"object\":{\"kind\":\"Service\","
        "\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"web\",\"namespace\":"
        "\"%s\",\"uid\":\"ff829028-915e-405f-ab5e-62000f7f5033\","
        "\"creationTimestamp\":\"2026-12-01T13:23:54Z\",\"labels\":{\"app\":"
        "\"web\"},\"annotations\":{\"kubectl.kubernetes.io/last-applied-"
        "configuration\":\"{\\\"apiVersion\\\":\\\"v1\\\",\\\"kind\\\":\\\""
        "Service\\\",\\\"metadata\\\":{\\\"annotations\\\":{\\\"zen-lead.io/"
        "enabled\\\":\\\"true\\\",\\\"zen-lead.io/sticky\\\":\\\"false\\\","
        "\\\"zen-lead.io/min-ready-duration\\\":\\\"10s\\\",\\\"zen-lead.io/"
        "failover-min-delay\\\":\\\"2s\\\"},\\\"labels\\\":{\\\"app\\\":\\\""
        "web\\\"},\\\"name\\\":\\\"web\\\",\\\"namespace\\\":\\\"%s\\\"},\\\""
        "spec\\\":{\\\"ports\\\":[{\\\"name\\\":\\\"http\\\",\\\"port\\\":80,"
        "\\\"targetPort\\\":\\\"http\\\"}],\\\"selector\\\":{\\\"app\\\":\\\""
        "web\\\"}}}\\n\",\"zen-lead.io/enabled\":\"true\",\"zen-lead.io/"
        "sticky\":\"false\",\"zen-lead.io/min-ready-duration\":\"10s\","
        "\"zen-lead.io/failover-min-delay\":\"2s\"},\"managedFields\":[{"
        "\"manager\":\"kubectl-client-side-apply\",\"operation\":\"Update\","
        "\"apiVersion\":\"v1\",\"time\":\"2026-12-01T13:23:54Z\","
        "\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{\"f:metadata\":{"
        "\"f:annotations\":{\".\":{},\"f:kubectl.kubernetes.io/last-applied-"
        "configuration\":{},\"f:zen-lead.io/enabled\":{},\"f:zen-lead.io/"
        "failover-min-delay\":{},\"f:zen-lead.io/min-ready-duration\":{},"
        "\"f:zen-lead.io/sticky\":{}},\"f:labels\":{\".\":{},\"f:app\":{}}},"
        "\"f:spec\":{\"f:internalTrafficPolicy\":{},\"f:ports\":{\".\":{},"
        "\"k:{\\\"port\\\":80,\\\"protocol\\\":\\\"TCP\\\"}\":{\".\":{},"
        "\"f:name\":{},\"f:port\":{},\"f:protocol\":{},\"f:targetPort\":{}}},"
        "\"f:selector\":{},\"f:sessionAffinity\":{},\"f:type\":{}}}}]},"
        "\"spec\":{\"ports\":[{\"name\":\"http\",\"protocol\":\"TCP\","
        "\"port\":80,\"targetPort\":\"http\"}],\"selector\":{\"app\":\"web\"},"
        "\"clusterIP\":\"10.96.99.137\",\"clusterIPs\":[\"10.96.99.137\"],"
        "\"type\":\"ClusterIP\",\"sessionAffinity\":\"None\",\"ipFamilies\":"
        "[\"IPv4\"],\"ipFamilyPolicy\":\"SingleStack\","
        "\"internalTrafficPolicy\":\"Cluster\"},\"status\":{\"loadBalancer\":"
        "{}}},\"oldObject\":null,\"dryRun\":false,\"options\":{\"kind\":"
        "\"CreateOptions\",\"apiVersion\":\"meta.k8s.io/v1\",\"fieldManager\":"
        "\"kubectl-client-side-apply\",\"fieldValidation\":\"Strict\"}}}",
        ns, ns, ns);
    return n > 0 && n < WH_BODY_MAX ? (size_t)n : 0;
}

/* The review file and the wrk script that POSTs it. */
static enum zl_err wh_write_review(struct wh *w)
{
    char body[WH_BODY_MAX];
    char path[WH_PATH_MAX];
    char lua[WH_PATH_MAX + 256];
    w->r.review_bytes = wh_review(w->ns, body);
    wh_path(w, "webhook-review.json", path);
    if (w->r.review_bytes == 0 ||
        wh_write_file(path, body, w->r.review_bytes) != ZL_OK)
        return ZL_ERR_IO;
    int n = snprintf(lua, sizeof(lua),
                     "wrk.method = \"POST\"\n"
                     "wrk.headers[\"Content-Type\"] = \"application/json\"\n"
                     "local f = assert(io.open([[%s]], \"rb\"))\n"
                     "wrk.body = f:read(\"*a\")\nf:close()\n",
                     path);
    wh_path(w, "webhook-post.lua", path);
    return wh_write_file(path, lua, (size_t)n);
}

/* One answer of the webhook (curl), kept as nginx's static file; it must
 * allow the review. */
static enum zl_err wh_capture_answer(struct wh *w)
{
    char review[WH_PATH_MAX + 1];
    char answer[WH_PATH_MAX];
    char url[64];
    char text[WH_OUT_MAX];
    review[0] = '@';
    wh_path(w, "webhook-review.json", review + 1);
    wh_path(w, "webhook-nginx/validate", answer);
    snprintf(url, sizeof(url), "https://127.0.0.1:%s/validate",
             w->port[WH_WEBHOOK]);
    const char *argv[] = {"/usr/bin/curl",
                          "-sSfk",
                          "-o",
                          answer,
                          "-H",
                          "Content-Type: application/json",
                          "--data-binary",
                          review,
                          url,
                          NULL};
    if (wh_exec(argv, "/dev/null") != 0)
        return ZL_ERR_IO;
    long n = wh_read_file(answer, text, sizeof(text));
    if (n <= 0 || strstr(text, "\"allowed\":true") == NULL ||
        strstr(text, "db8bfe7e-57f7-4ce5-bca6-8f617ce42472") == NULL) {
        fprintf(stderr, "webhook: unexpected answer: %s\n", text);
        return ZL_ERR_INVALID;
    }
    w->r.answer_bytes = (size_t)n;
    printf("[%5.0f s] review %zu bytes, answer %zu bytes: %s\n",
           wh_since(w->t_start), w->r.review_bytes, w->r.answer_bytes, text);
    return ZL_OK;
}

/* ---- the servers --------------------------------------------------------- */

static enum zl_err wh_certs(const struct wh *w)
{
    char key[WH_PATH_MAX];
    char crt[WH_PATH_MAX];
    wh_path(w, "webhook-tls.key", key);
    wh_path(w, "webhook-tls.crt", crt);
    const char *argv[] = {"/usr/bin/openssl",
                          "req",
                          "-x509",
                          "-newkey",
                          "ec",
                          "-pkeyopt",
                          "ec_paramgen_curve:P-256",
                          "-nodes",
                          "-keyout",
                          key,
                          "-out",
                          crt,
                          "-days",
                          "1",
                          "-subj",
                          "/CN=127.0.0.1",
                          "-addext",
                          "subjectAltName=IP:127.0.0.1",
                          NULL};
    return wh_exec(argv, "/dev/null") == 0 ? ZL_OK : ZL_ERR_IO;
}

static enum zl_err wh_free_port(char out[8])
{
    char addr[32];
    if (benchproc_free_address(addr) != ZL_OK)
        return ZL_ERR_IO;
    snprintf(out, 8, "%s", strrchr(addr, ':') + 1);
    return ZL_OK;
}

static enum zl_err wh_start_webhook(struct wh *w)
{
    char key[WH_PATH_MAX];
    char crt[WH_PATH_MAX];
    char audit[WH_PATH_MAX];
    char log[WH_PATH_MAX];
    wh_path(w, "webhook-tls.key", key);
    wh_path(w, "webhook-tls.crt", crt);
    wh_path(w, "webhook-audit.jsonl", audit);
    wh_path(w, "webhook.log", log);
    if (wh_free_port(w->port[WH_WEBHOOK]) != ZL_OK ||
        benchproc_free_address(w->metrics) != ZL_OK ||
        benchproc_free_address(w->health) != ZL_OK)
        return ZL_ERR_IO;
    const char *argv[] = {w->o.webhook,
                          "--kubeconfig",
                          w->o.kubeconfig,
                          "--port",
                          w->port[WH_WEBHOOK],
                          "--tls-cert-file",
                          crt,
                          "--tls-key-file",
                          key,
                          "--audit-log",
                          audit,
                          "--metrics-bind-address",
                          w->metrics,
                          "--health-probe-bind-address",
                          w->health,
                          "--log-level",
                          "warn",
                          NULL};
    struct benchproc *p = &w->proc[WH_WEBHOOK];
    enum zl_err rc = benchproc_spawn(p, argv, log, w->health);
    if (rc == ZL_OK)
        rc = benchproc_wait_ready(p, 60 * CLOCK_NS_PER_S);
    if (rc == ZL_OK)
        printf("[%5.0f s] webhook ready in %.2f s (port %s)\n",
               wh_since(w->t_start), wh_since(p->started_ns),
               w->port[WH_WEBHOOK]);
    return rc;
}

/* nginx.conf: one process (no master), TLS with the webhook's certificate,
 * keep-alive, no access log; POST /validate answers the static file (a
 * POST to a file is 405, turned into a GET of it). */
static enum zl_err wh_nginx_conf(const struct wh *w, const char *path)
{
    char dir[WH_PATH_MAX];
    char text[4096];
    wh_path(w, "webhook-nginx", dir);
    int n = snprintf(
        text, sizeof(text),
        "daemon off;\nmaster_process off;\nworker_processes 1;\n"
        "pid %s/nginx.pid;\nerror_log %s/error.log warn;\n"
        "events { worker_connections 1024; }\n"
        "http {\n  access_log off;\n  server_tokens off;\n"
        "  keepalive_requests 10000000;\n"
        "  client_body_temp_path %s/tmp;\n  proxy_temp_path %s/tmp;\n"
        "  fastcgi_temp_path %s/tmp;\n  uwsgi_temp_path %s/tmp;\n"
        "  scgi_temp_path %s/tmp;\n"
        "  server {\n    listen 127.0.0.1:%s ssl;\n"
        "    ssl_certificate %s/webhook-tls.crt;\n"
        "    ssl_certificate_key %s/webhook-tls.key;\n"
        "    root %s;\n    default_type application/json;\n    etag off;\n"
        "    location = /validate { error_page 405 =200 $uri; }\n  }\n}\n",
        dir, dir, dir, dir, dir, dir, dir, w->port[WH_NGINX], w->o.work_dir,
        w->o.work_dir, dir);
    if (n <= 0 || (size_t)n >= sizeof(text))
        return ZL_ERR_INVALID;
    return wh_write_file(path, text, (size_t)n);
}

/* Waits until the port accepts TLS: one POST answered 200 by curl. */
static enum zl_err wh_wait_https(const char *port, const char *review)
{
    char url[64];
    snprintf(url, sizeof(url), "https://127.0.0.1:%s/validate", port);
    const char *argv[] = {"/usr/bin/curl", "-sSfk", "-o", "/dev/null",
                          "--data-binary", review,  url,  NULL};
    for (int i = 0; i < 100; i++) {
        if (wh_exec(argv, "/dev/null") == 0)
            return ZL_OK;
        struct timespec ts = {0, 50L * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return ZL_ERR_TIMEOUT;
}

static enum zl_err wh_start_nginx(struct wh *w)
{
    char conf[WH_PATH_MAX];
    char log[WH_PATH_MAX];
    char review[WH_PATH_MAX + 1];
    wh_path(w, "webhook-nginx/tmp", conf);
    mkdir(conf, 0755);
    wh_path(w, "webhook-nginx/nginx.conf", conf);
    wh_path(w, "webhook-nginx/nginx.log", log);
    review[0] = '@';
    wh_path(w, "webhook-review.json", review + 1);
    if (wh_free_port(w->port[WH_NGINX]) != ZL_OK ||
        wh_nginx_conf(w, conf) != ZL_OK)
        return ZL_ERR_IO;
    const char *argv[] = {w->o.nginx, "-c", conf, NULL};
    enum zl_err rc = benchproc_spawn(&w->proc[WH_NGINX], argv, log, "");
    if (rc == ZL_OK)
        rc = wh_wait_https(w->port[WH_NGINX], review);
    if (rc != ZL_OK)
        fprintf(stderr, "webhook: nginx does not answer (see %s)\n", log);
    return rc;
}

/* ---- wrk ----------------------------------------------------------------- */

/* "557.00us", "1.41ms", "1.00s", "2.00m" in milliseconds; -1 if unknown. */
static double wh_parse_ms(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s)
        return -1;
    if (strncmp(end, "us", 2) == 0)
        return v / 1000.0;
    if (strncmp(end, "ms", 2) == 0)
        return v;
    if (end[0] == 's')
        return v * 1000.0;
    if (end[0] == 'm')
        return v * 60000.0;
    return -1;
}

/* The number after key in text, or -1. */
static double wh_after(const char *text, const char *key)
{
    const char *p = strstr(text, key);
    return p != NULL ? strtod(p + strlen(key), NULL) : -1;
}

/* wrk --latency's report: Requests/sec, the 50% and 99% lines, the
 * request count, socket errors and non-2xx answers. */
static enum zl_err wh_parse_wrk(const char *text, struct wh_load *out)
{
    const char *dist = strstr(text, "Latency Distribution");
    const char *p50 = dist != NULL ? strstr(dist, "50%") : NULL;
    const char *p99 = dist != NULL ? strstr(dist, "99%") : NULL;
    const char *sock = strstr(text, "Socket errors:");
    *out = (struct wh_load){.rps = wh_after(text, "Requests/sec:")};
    if (p50 == NULL || p99 == NULL || out->rps < 0)
        return ZL_ERR_PARSE;
    out->p50_ms = wh_parse_ms(p50 + 3 + strspn(p50 + 3, " "));
    out->p99_ms = wh_parse_ms(p99 + 3 + strspn(p99 + 3, " "));
    const char *req = strstr(text, " requests in ");
    while (req != NULL && req > text && req[-1] >= '0' && req[-1] <= '9')
        req--;
    out->requests = req != NULL ? strtol(req, NULL, 10) : 0;
    double non2xx = wh_after(text, "Non-2xx or 3xx responses:");
    out->errors = non2xx > 0 ? (long)non2xx : 0;
    for (const char *k = sock; k != NULL && *k != '\n'; k++)
        if (*k >= '1' && *k <= '9' && k[-1] == ' ')
            out->errors += strtol(k, NULL, 10);
    return out->p50_ms < 0 || out->p99_ms < 0 ? ZL_ERR_PARSE : ZL_OK;
}

/* One wrk run of duration_s against target with conns connections. */
static enum zl_err wh_wrk(struct wh *w, enum wh_target t, int conns,
                          const char *tag, struct wh_load *out)
{
    char c_arg[16];
    char d_arg[16];
    char url[64];
    char lua[WH_PATH_MAX];
    char name[128];
    char log[WH_PATH_MAX];
    static char text[WH_OUT_MAX];
    snprintf(c_arg, sizeof(c_arg), "-c%d", conns);
    snprintf(d_arg, sizeof(d_arg), "-d%ds", w->o.duration_s);
    snprintf(url, sizeof(url), "https://127.0.0.1:%s/validate", w->port[t]);
    snprintf(name, sizeof(name), "wrk-%s-c%d-%s.txt", wh_target_names[t], conns,
             tag);
    wh_path(w, "webhook-post.lua", lua);
    wh_path(w, name, log);
    unlink(log);
    const char *argv[] = {w->o.wrk, "-t1", c_arg, d_arg, "--latency",
                          "-s",     lua,   url,   NULL};
    long ticks = benchproc_cpu_ticks(&w->proc[t]);
    if (wh_exec(argv, log) != 0 || wh_read_file(log, text, sizeof(text)) < 0)
        return ZL_ERR_IO;
    ticks = benchproc_cpu_ticks(&w->proc[t]) - ticks;
    enum zl_err rc = wh_parse_wrk(text, out);
    if (out->requests > 0)
        out->cpu_us_req = (double)ticks * 1e6 / (double)sysconf(_SC_CLK_TCK) /
                          (double)out->requests;
    if (rc != ZL_OK || out->errors != 0 || out->requests == 0) {
        fprintf(stderr, "webhook: wrk against %s: %ld errors, see %s\n",
                wh_target_names[t], out->errors, log);
        return rc != ZL_OK ? rc : ZL_ERR_IO;
    }
    printf("[%5.0f s] %-7s %2d connections (%s): %8.0f requests/s, p50 %.3f "
           "ms, p99 %.3f ms, %.1f us CPU a request\n",
           wh_since(w->t_start), wh_target_names[t], conns, tag, out->rps,
           out->p50_ms, out->p99_ms, out->cpu_us_req);
    return ZL_OK;
}

/* The webhook's answers under load: its request counter must have grown
 * by at least what wrk counted (every request reached the handler). The
 * audit log is emptied between runs so full runs do not fill the disk. */
static enum zl_err wh_wrk_webhook(struct wh *w, int conns, const char *tag,
                                  struct wh_load *out)
{
    char audit[WH_PATH_MAX];
    const char *metric = "zen_lead_webhook_requests_total";
    double before = benchproc_metric_sum(w->metrics, metric);
    enum zl_err rc = wh_wrk(w, WH_WEBHOOK, conns, tag, out);
    double after = benchproc_metric_sum(w->metrics, metric);
    if (rc == ZL_OK && (before < 0 || after - before < (double)out->requests)) {
        fprintf(stderr, "webhook: %s grew by %.0f, wrk counted %ld\n", metric,
                after - before, out->requests);
        rc = ZL_ERR_INVALID;
    }
    wh_path(w, "webhook-audit.jsonl", audit);
    if (truncate(audit, 0) != 0)
        rc = rc == ZL_OK ? ZL_ERR_IO : rc;
    return rc;
}

static int wh_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;
    return (x > y) - (x < y);
}

static double wh_median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), wh_cmp_double);
    return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The median of each figure over the runs (separately). */
static void wh_medians(struct wh *w)
{
    double rps[WH_MAX_RUNS];
    double p50[WH_MAX_RUNS];
    double p99[WH_MAX_RUNS];
    double cpu[WH_MAX_RUNS];
    for (int t = 0; t < WH_TARGETS; t++)
        for (int c = 0; c < w->o.n_counts; c++) {
            for (int k = 0; k < w->o.runs; k++) {
                rps[k] = w->r.run[t][c][k].rps;
                p50[k] = w->r.run[t][c][k].p50_ms;
                p99[k] = w->r.run[t][c][k].p99_ms;
                cpu[k] = w->r.run[t][c][k].cpu_us_req;
            }
            struct wh_load *m = &w->r.med[t][c];
            m->rps = wh_median(rps, w->o.runs);
            m->p50_ms = wh_median(p50, w->o.runs);
            m->p99_ms = wh_median(p99, w->o.runs);
            m->cpu_us_req = wh_median(cpu, w->o.runs);
            m->requests = 0;
            for (int k = 0; k < w->o.runs; k++)
                m->requests += w->r.run[t][c][k].requests;
        }
}

/* The 1-minute load average (other work on the machine); -1 unknown. */
static double wh_loadavg(void)
{
    char text[128];
    return wh_read_file("/proc/loadavg", text, sizeof(text)) > 0
               ? strtod(text, NULL)
               : -1;
}

/* runs x counts x {webhook, nginx}, the two alternating. */
static enum zl_err wh_load_all(struct wh *w)
{
    char tag[16];
    enum zl_err rc = ZL_OK;
    w->r.load_before = wh_loadavg();
    for (int k = 0; rc == ZL_OK && k < w->o.runs; k++)
        for (int c = 0; rc == ZL_OK && c < w->o.n_counts; c++) {
            int conns = w->o.counts[c];
            snprintf(tag, sizeof(tag), "run%d", k + 1);
            rc = wh_wrk_webhook(w, conns, tag, &w->r.run[WH_WEBHOOK][c][k]);
            if (rc == ZL_OK)
                rc = wh_wrk(w, WH_NGINX, conns, tag, &w->r.run[WH_NGINX][c][k]);
        }
    w->r.load_after = wh_loadavg();
    if (rc == ZL_OK)
        wh_medians(w);
    return rc;
}

/* ---- memory -------------------------------------------------------------- */

static void wh_rss(struct wh *w, long *rss, long *anon, const char *what)
{
    struct benchproc *p = &w->proc[WH_WEBHOOK];
    benchproc_wait_idle(p, 2, 60 * CLOCK_NS_PER_S);
    *rss = benchproc_rss_kib(p);
    *anon = benchproc_status_kib(p, "RssAnon");
    printf("[%5.0f s] webhook RSS %s: %ld KiB (anonymous %ld)\n",
           wh_since(w->t_start), what, *rss, *anon);
}

/* The extra pods, the webhook at rest again, its RSS, and one load run
 * (WH_TARGET_CONNS connections) with them in its cache. */
static enum zl_err wh_cached(struct wh *w)
{
    char what[64];
    enum zl_err rc = wh_create_bulk(w);
    if (rc != ZL_OK)
        return rc;
    snprintf(what, sizeof(what), "with %d more pods cached", w->o.pods);
    wh_rss(w, &w->r.cached_rss_kib, &w->r.cached_anon_kib, what);
    return wh_wrk_webhook(w, WH_TARGET_CONNS, "cached", &w->r.cached);
}

/* ---- report -------------------------------------------------------------- */

static bool wh_targets_met(const struct wh *w)
{
    bool met = true;
    for (int c = 0; c < w->o.n_counts; c++) {
        const struct wh_load *h = &w->r.med[WH_WEBHOOK][c];
        const struct wh_load *n = &w->r.med[WH_NGINX][c];
        met = met && h->rps >= WH_RATIO_TARGET * n->rps;
        if (w->o.counts[c] == WH_TARGET_CONNS)
            met = met && h->p99_ms <= WH_P99_TARGET_MS;
    }
    return met;
}

static void wh_print_table(const struct wh *w)
{
    printf("\nmedian of %d run(s) of %d s, wrk -t1 (wrk shares the %ld CPUs "
           "with the server under test; load average %.2f before, %.2f "
           "after)\n",
           w->o.runs, w->o.duration_s, sysconf(_SC_NPROCESSORS_ONLN),
           w->r.load_before, w->r.load_after);
    printf("| connections | webhook req/s | p50 ms | p99 ms | CPU us/req | "
           "nginx req/s | p50 ms | p99 ms | CPU us/req | webhook / nginx "
           "|\n|---|---|---|---|---|---|---|---|---|---|\n");
    for (int c = 0; c < w->o.n_counts; c++) {
        const struct wh_load *h = &w->r.med[WH_WEBHOOK][c];
        const struct wh_load *n = &w->r.med[WH_NGINX][c];
        printf("| %d | %.0f | %.3f | %.3f | %.1f | %.0f | %.3f | %.3f | %.1f "
               "| %.0f %% |\n",
               w->o.counts[c], h->rps, h->p50_ms, h->p99_ms, h->cpu_us_req,
               n->rps, n->p50_ms, n->p99_ms, n->cpu_us_req,
               100.0 * h->rps / (n->rps > 0 ? n->rps : 1));
    }
    if (w->r.cached.requests > 0)
        printf("webhook with %d more pods cached, %d connections: %.0f "
               "requests/s, p50 %.3f ms, p99 %.3f ms, %.1f us CPU a request\n",
               w->o.pods, WH_TARGET_CONNS, w->r.cached.rps, w->r.cached.p50_ms,
               w->r.cached.p99_ms, w->r.cached.cpu_us_req);
}

static void wh_json_load(FILE *f, const struct wh_load *l)
{
    fprintf(f,
            "{\"requests_per_s\":%.1f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,"
            "\"requests\":%ld,\"cpu_us_per_request\":%.2f}",
            l->rps, l->p50_ms, l->p99_ms, l->requests, l->cpu_us_req);
}

static void wh_json_target(FILE *f, const struct wh *w, int t)
{
    fprintf(f, "\"%s\":[", wh_target_names[t]);
    for (int c = 0; c < w->o.n_counts; c++) {
        fprintf(f, "%s{\"connections\":%d,\"median\":", c ? "," : "",
                w->o.counts[c]);
        wh_json_load(f, &w->r.med[t][c]);
        fprintf(f, ",\"runs\":[");
        for (int k = 0; k < w->o.runs; k++) {
            fprintf(f, "%s", k ? "," : "");
            wh_json_load(f, &w->r.run[t][c][k]);
        }
        fprintf(f, "]}");
    }
    fprintf(f, "],");
}

static void wh_write_json(const struct wh *w, bool met)
{
    char date[32];
    char path[WH_PATH_MAX];
    bk_now_stamp(date);
    snprintf(path, sizeof(path), "%s/webhook-%s%s.json", w->o.out_dir, date,
             w->o.quick ? "-quick" : "");
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        fprintf(stderr, "webhook: cannot write %s\n", path);
        return;
    }
    const struct wh_result *r = &w->r;
    fprintf(f,
            "{\"bench\":\"webhook\",\"date\":\"%s\",\"quick\":%s,"
            "\"duration_s\":%d,\"runs\":%d,\"cpus\":%ld,\"wrk_threads\":1,"
            "\"loadavg_before\":%.2f,\"loadavg_after\":%.2f,"
            "\"review_bytes\":%zu,\"answer_bytes\":%zu,",
            date, w->o.quick ? "true" : "false", w->o.duration_s, w->o.runs,
            sysconf(_SC_NPROCESSORS_ONLN), r->load_before, r->load_after,
            r->review_bytes, r->answer_bytes);
    for (int t = 0; t < WH_TARGETS; t++)
        wh_json_target(f, w, t);
    fprintf(f,
            "\"idle_rss_kib\":%ld,\"idle_anon_kib\":%ld,"
            "\"loaded_rss_kib\":%ld,\"loaded_anon_kib\":%ld,\"cached_pods\":%d,"
            "\"create_s\":%.1f,\"cached_rss_kib\":%ld,\"cached_anon_kib\":%ld,"
            "\"nginx_rss_kib\":%ld,\"cached_load_16\":",
            r->idle_rss_kib, r->idle_anon_kib, r->loaded_rss_kib,
            r->loaded_anon_kib, w->o.pods, r->create_s, r->cached_rss_kib,
            r->cached_anon_kib, r->nginx_rss_kib);
    wh_json_load(f, &r->cached);
    fprintf(f, ",\"targets_met\":%s}\n", met ? "true" : "false");
    fclose(f);
    printf("wrote %s\n", path);
}

/* ---- main ---------------------------------------------------------------- */

static enum zl_err wh_prepare(struct wh *w)
{
    static char work[PATH_MAX];
    char dir[WH_PATH_MAX];
    /* nginx reads relative paths from its own prefix */
    if (realpath(w->o.work_dir, work) == NULL)
        return ZL_ERR_IO;
    w->o.work_dir = work;
    wh_path(w, "webhook-nginx", dir);
    mkdir(dir, 0755);
    enum zl_err rc = bk_open(w->o.kubeconfig, &w->b);
    if (rc == ZL_OK)
        rc = wh_wait_no_pods(w);
    if (rc == ZL_OK)
        rc = wh_certs(w);
    if (rc == ZL_OK)
        rc = wh_create_app(w);
    if (rc == ZL_OK)
        rc = wh_write_review(w);
    return rc;
}

static enum zl_err wh_run(struct wh *w)
{
    enum zl_err rc = wh_prepare(w);
    if (rc == ZL_OK)
        rc = wh_start_webhook(w);
    if (rc == ZL_OK)
        wh_rss(w, &w->r.idle_rss_kib, &w->r.idle_anon_kib, "idle (synced)");
    if (rc == ZL_OK)
        rc = wh_capture_answer(w);
    if (rc == ZL_OK)
        rc = wh_start_nginx(w);
    if (rc == ZL_OK)
        rc = wh_load_all(w);
    if (rc == ZL_OK)
        w->r.nginx_rss_kib = benchproc_rss_kib(&w->proc[WH_NGINX]);
    if (w->proc[WH_NGINX].owned)
        benchproc_stop(&w->proc[WH_NGINX], 5 * CLOCK_NS_PER_S);
    if (rc == ZL_OK)
        wh_rss(w, &w->r.loaded_rss_kib, &w->r.loaded_anon_kib,
               "after the load runs");
    if (rc == ZL_OK && w->o.pods > 0)
        rc = wh_cached(w);
    if (w->proc[WH_WEBHOOK].owned)
        benchproc_stop(&w->proc[WH_WEBHOOK], 10 * CLOCK_NS_PER_S);
    return rc;
}

static void wh_teardown(struct wh *w)
{
    char ns[64];
    if (w->b == NULL)
        return;
    int n_ns = (w->o.pods + WH_PODS_PER_NS - 1) / WH_PODS_PER_NS;
    for (int k = 0; k < n_ns; k++) {
        wh_bulk_ns(w, k, ns);
        fixture_namespace_delete(w->b, ns);
    }
    if (w->ns[0] != '\0')
        fixture_namespace_delete(w->b, w->ns);
    bk_free(w->b);
}

static int wh_report(const struct wh *w)
{
    bool met = wh_targets_met(w);
    wh_print_table(w);
    wh_write_json(w, met);
    if (w->o.quick)
        return 0;
    printf("targets (p99 <= %.0f ms at %d connections, throughput >= %.0f %% "
           "of nginx at every count): %s\n",
           WH_P99_TARGET_MS, WH_TARGET_CONNS, 100 * WH_RATIO_TARGET,
           met ? "met" : "NOT met");
    return met ? 0 : 3;
}

int main(int argc, char **argv)
{
    static struct wh w;
    setvbuf(stdout, NULL, _IOLBF, 0); /* progress lines through pipes */
    w.pid = getpid();
    w.t_start = clock_mono_ns();
    if (wh_parse(argc, argv, &w.o) != 0) {
        wh_usage();
        return 2;
    }
    enum zl_err rc = wh_run(&w);
    int status = 1;
    if (rc == ZL_OK)
        status = wh_report(&w);
    else
        fprintf(stderr, "webhook: %s\n", zl_err_str(rc));
    wh_teardown(&w);
    return status;
}

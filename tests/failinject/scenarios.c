/* SPDX-License-Identifier: Apache-2.0 */
/* Failure-injection scenarios, one per module of common/ that allocates:
 * parsing views, annotations, leader choice, rendering, metrics, config,
 * logging, buffers, the HTTP server's setup and the client's streams; and
 * the webhook's core, from a review to its answer and audit line. */
#include "scenarios.h"

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/config.h"
#include "base/json.h"
#include "base/log.h"
#include "base/metrics.h"
#include "kube/client.h"
#include "kube/events.h"
#include "kube/execcred.h"
#include "kube/kubeconfig.h"
#include "kube/lease.h"
#include "kube/store.h"
#include "kube/views.h"
#include "kube/watch.h"
#include "kube/workqueue.h"
#include "serve/serve.h"
#include "webhook/admit.h"
#include "webhook/audit.h"
#include "webhook/review.h"
#include "zenlead/annotations.h"
#include "zenlead/leader.h"
#include "zenlead/render.h"

#define DATA ZL_TEST_DATA_DIR

static uint64_t fnv(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    if (h == 0)
        h = UINT64_C(1469598103934665603);
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= UINT64_C(1099511628211);
    }
    return h;
}

static uint64_t fnv_str(uint64_t h, const char *s)
{
    return fnv(h, s != NULL ? s : "(null)", s != NULL ? strlen(s) + 1 : 7);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    struct buf b;
    buf_init(&b, 1 << 22);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (buf_append(&b, chunk, n) != ZL_OK) {
            buf_cleanup(&b);
            fclose(f);
            return NULL;
        }
    }
    fclose(f);
    return buf_take(&b);
}

/* The fixture shared by most scenarios: a dual-stack source with a leader. */
struct fixture {
    char *source_json;
    char *leader_json;
};

static int fixture_setup(void **ctx)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    char *text = slurp(DATA "/render/dual-stack.in.json");
    struct json_object *root = NULL, *src, *leader;
    if (text != NULL)
        (void)json_parse_object(text, strlen(text), &root);
    int rc = 1;
    if (fx != NULL && root != NULL &&
        json_object_object_get_ex(root, "source", &src) &&
        json_object_object_get_ex(root, "leader", &leader)) {
        fx->source_json = strdup(json_object_to_json_string(src));
        fx->leader_json = strdup(json_object_to_json_string(leader));
        rc = fx->source_json && fx->leader_json ? 0 : 1;
    }
    json_object_put(root);
    free(text);
    *ctx = fx;
    return rc;
}

static void fixture_teardown(void *ctx)
{
    struct fixture *fx = ctx;
    if (fx == NULL)
        return;
    free(fx->source_json);
    free(fx->leader_json);
    free(fx);
}

static int run_views(void *ctx, uint64_t *digest)
{
    struct fixture *fx = ctx;
    struct views_pod *pod = NULL;
    struct views_service *svc = NULL;
    enum zl_err err =
        views_pod_parse(fx->leader_json, strlen(fx->leader_json), &pod);
    if (err == ZL_OK)
        err =
            views_service_parse(fx->source_json, strlen(fx->source_json), &svc);
    if (err == ZL_OK) {
        uint64_t h = fnv_str(0, pod->meta.name);
        h = fnv_str(h, pod->ip[0]);
        h = fnv_str(h, pod->ip[1]);
        h = fnv(h, &pod->port_count, sizeof(pod->port_count));
        h = fnv(h, &svc->port_count, sizeof(svc->port_count));
        *digest =
            fnv(h, &svc->meta.labels.count, sizeof(svc->meta.labels.count));
    }
    views_release(pod);
    views_release(svc);
    return (int)err;
}

static int text_setup(void **ctx, const char *path)
{
    char *text = slurp(path);
    *ctx = text;
    return text != NULL ? 0 : 1;
}

static void text_teardown(void *ctx)
{
    free(ctx);
}

static int slice_setup(void **ctx)
{
    return text_setup(ctx, DATA "/views/eps-recorded-controller-ipv4.in.json");
}

static int run_endpointslice(void *ctx, uint64_t *digest)
{
    const char *text = ctx;
    struct views_endpointslice *eps = NULL;
    enum zl_err err = views_endpointslice_parse(text, strlen(text), &eps);
    if (err == ZL_OK) {
        uint64_t h = fnv_str(0, eps->service_name);
        for (size_t i = 0; i < eps->endpoint_count; i++)
            h = fnv_str(h, eps->endpoints[i].addresses[0]);
        *digest = fnv(h, &eps->port_count, sizeof(eps->port_count));
    }
    views_release(eps);
    return (int)err;
}

/* A pod view for the store scenario. */
static enum zl_err store_pod(const char *ns, const char *name, const char *rv,
                             void **out)
{
    char json[256];
    struct views_pod *pod = NULL;
    int n = snprintf(json, sizeof(json),
                     "{\"metadata\":{\"namespace\":\"%s\",\"name\":\"%s\","
                     "\"resourceVersion\":\"%s\"}}",
                     ns, name, rv);
    enum zl_err err = views_pod_parse(json, (size_t)n, &pod);
    *out = pod;
    return err;
}

static void count_change(void *ctx, enum store_change c, const void *old_view,
                         const void *new_view)
{
    uint64_t *h = ctx;
    (void)old_view;
    (void)new_view;
    *h = fnv(*h, &c, sizeof(c));
}

/* Puts, gets, lists, deletes and relists; each step may fail cleanly. */
static enum zl_err store_steps(struct store *s, uint64_t *h)
{
    static const char *const keys[][3] = {
        {"a", "x", "1"}, {"a", "y", "1"}, {"b", "x", "1"}, {"a", "x", "2"}};
    void *view;
    const void **items = NULL;
    size_t count = 0;
    enum zl_err err = ZL_OK;
    for (size_t i = 0; i < 4 && err == ZL_OK; i++) {
        err = store_pod(keys[i][0], keys[i][1], keys[i][2], &view);
        if (err == ZL_OK)
            err = store_put(s, view, NULL);
    }
    const struct views_pod **pods = NULL;
    if (err == ZL_OK)
        err = store_list_pods(s, "a", &pods, &count);
    if (err != ZL_OK)
        return err;
    *h = fnv(*h, &count, sizeof(count));
    store_release_pods(pods, count);
    const struct views_pod *got = store_get_pod(s, "a", "x");
    *h = fnv_str(*h, got != NULL ? got->meta.resource_version : "-");
    store_release(s, got);
    store_delete(s, "a", "y", NULL);
    void *relist[3] = {NULL, NULL, NULL};
    err = store_pod("a", "x", "2", &relist[0]);
    if (err == ZL_OK)
        err = store_pod("c", "z", "1", &relist[1]);
    if (err == ZL_OK)
        err = store_pod("a", "x", "3", &relist[2]);
    if (err != ZL_OK) {
        for (size_t i = 0; i < 3; i++)
            views_release(relist[i]);
        return err;
    }
    err = store_replace(s, relist, 3, count_change, h);
    if (err == ZL_OK)
        err = store_list(s, NULL, &items, &count);
    if (err == ZL_OK) {
        *h = fnv(*h, &count, sizeof(count));
        store_release_list(s, items, count);
    }
    return err;
}

static int run_store(void *ctx, uint64_t *digest)
{
    struct store *s = NULL;
    uint64_t h = 0;
    (void)ctx;
    enum zl_err err = store_new(VIEWS_KIND_POD, &s);
    if (err == ZL_OK)
        err = store_steps(s, &h);
    if (err == ZL_OK)
        *digest = fnv(h, &(size_t){store_count(s)}, sizeof(size_t));
    store_free(s);
    return (int)err;
}

/* An enabled Service with bad annotations, no selector and no ports: every
 * kind of problem, InvalidService included. */
static const char annotations_service[] =
    "{\"metadata\":{\"name\":\"db\",\"namespace\":\"prod\","
    "\"annotations\":{\"zen-lead.io/enabled\":\" True \","
    "\"zen-lead.io/failover-min-delay\":\"25h\","
    "\"zen-lead.io/leader-service-name\":\"Bad_Name\","
    "\"zen-lead.io/min-ready-duration\":\"500ms\","
    "\"zen-lead.io/stiky\":\"true\"}},\"spec\":{\"clusterIP\":\"None\"}}";

static int run_annotations(void *ctx, uint64_t *digest)
{
    (void)ctx;
    struct views_service *svc = NULL;
    struct annotations_result res;
    char *norm = NULL;
    enum zl_err err = views_service_parse(
        annotations_service, sizeof(annotations_service) - 1, &svc);
    if (err == ZL_OK)
        err = annotations_check_service(svc, &res);
    if (err == ZL_OK) {
        uint64_t h = fnv(0, &res.problem_count, sizeof(res.problem_count));
        for (size_t i = 0; i < res.problem_count; i++) {
            h = fnv_str(h, res.problems[i].message);
            h = fnv_str(h, res.problems[i].fix);
        }
        *digest = fnv(h, &res.settings, sizeof(res.settings));
        annotations_result_cleanup(&res);
        err = annotations_normalize("zen-lead.io/sticky", " FALSE", &norm);
    }
    if (err == ZL_OK)
        *digest = fnv_str(*digest, norm);
    free(norm);
    views_release(svc);
    return (int)err;
}

/* Parses the fixture into views for the leader and render scenarios. */
static enum zl_err parse_fixture(struct fixture *fx, struct views_service **svc,
                                 struct views_pod **pod)
{
    enum zl_err err =
        views_service_parse(fx->source_json, strlen(fx->source_json), svc);
    if (err == ZL_OK)
        err = views_pod_parse(fx->leader_json, strlen(fx->leader_json), pod);
    return err;
}

static int run_leader(void *ctx, uint64_t *digest)
{
    struct views_service *svc = NULL;
    struct views_pod *pod = NULL;
    struct annotations_result res = {0};
    struct leader_decision dec = {0};
    enum zl_err err = parse_fixture(ctx, &svc, &pod);
    if (err == ZL_OK)
        err = annotations_parse(&svc->annotations, svc->meta.name, &res);
    if (err == ZL_OK) {
        const struct views_pod *pods[] = {pod};
        struct leader_input in = {
            .service = svc,
            .settings = &res.settings,
            .pods = pods,
            .pod_count = 1,
            .current = {NULL, NULL},
            .now_ms = pod->meta.created_ms + 3600 * 1000,
        };
        err = leader_choose(&in, &dec);
    }
    if (err == ZL_OK) {
        uint64_t h = fnv_str(0, dec.leader ? dec.leader->meta.name : NULL);
        h = fnv(h, &dec.candidate_count, sizeof(dec.candidate_count));
        *digest = fnv_str(h, dec.problem_message);
        leader_decision_cleanup(&dec);
    }
    annotations_result_cleanup(&res);
    views_release(pod);
    views_release(svc);
    return (int)err;
}

static enum zl_err render_all(const struct render_input *in, uint64_t *digest)
{
    struct json_object *obj = NULL;
    char *text = NULL;
    enum views_ip_family fams[2];
    enum zl_err err = render_leader_service(in, &obj);
    if (err == ZL_OK)
        err = render_to_string(obj, &text);
    if (err == ZL_OK)
        *digest = fnv_str(0, text);
    json_object_put(obj);
    free(text);
    size_t n = render_slice_families(in->source, fams);
    for (size_t i = 0; err == ZL_OK && i < n; i++) {
        obj = NULL;
        text = NULL;
        err = render_endpoint_slice(in, "2f1c0c2e-0000-4a4a-9b9b-000000000099",
                                    fams[i], &obj);
        if (err == ZL_OK)
            err = render_to_string(obj, &text);
        if (err == ZL_OK)
            *digest = fnv_str(*digest, text);
        json_object_put(obj);
        free(text);
    }
    return err;
}

static int run_render(void *ctx, uint64_t *digest)
{
    struct views_service *svc = NULL;
    struct views_pod *pod = NULL;
    enum zl_err err = parse_fixture(ctx, &svc, &pod);
    if (err == ZL_OK) {
        struct render_input in = {
            .source = svc,
            .leader_name = "db-leader",
            .leader = pod,
            .endpoint_ready = true,
            .last_switch_ms = INT64_C(1714554000000),
        };
        err = render_all(&in, digest);
    }
    views_release(pod);
    views_release(svc);
    return (int)err;
}

static int none_setup(void **ctx)
{
    *ctx = NULL;
    return 0;
}

static void none_teardown(void *ctx)
{
    (void)ctx;
}

static enum zl_err fill_metrics(struct metrics_registry *reg)
{
    struct metrics_family *c, *h, *g;
    const char *labels[] = {"namespace", "service", "reason"};
    const char *values[] = {"prod", "db", "notReady"};
    const char *other[] = {"prod", "web", "terminating"};
    const char *hl[] = {"reason"};
    const double buckets[] = {0.01, 0.1, 1};
    enum zl_err err = metrics_register(reg, METRICS_COUNTER, "f_total", "f",
                                       labels, 3, NULL, 0, &c);
    if (err == ZL_OK)
        err = metrics_register(reg, METRICS_HISTOGRAM, "l_seconds", "l", hl, 1,
                               buckets, 3, &h);
    if (err == ZL_OK)
        err = metrics_register(reg, METRICS_GAUGE, "g", "g", NULL, 0, NULL, 0,
                               &g);
    if (err == ZL_OK)
        err = metrics_inc(c, values);
    if (err == ZL_OK)
        err = metrics_inc(c, other);
    if (err == ZL_OK)
        err = metrics_observe(h, hl, 0.05);
    if (err == ZL_OK)
        err = metrics_set(g, NULL, 3);
    return err;
}

static int run_metrics(void *ctx, uint64_t *digest)
{
    (void)ctx;
    struct buf out;
    buf_init(&out, 1 << 20);
    struct metrics_registry *reg = NULL;
    enum zl_err err = metrics_registry_new(&reg);
    if (err == ZL_OK)
        err = fill_metrics(reg);
    if (err == ZL_OK) {
        const char *names[] = {"namespace", "service"};
        const char *values[] = {"prod", "db"};
        if (metrics_delete_matching(reg, names, values, 2) != 1)
            err = ZL_ERR_INTERNAL;
    }
    if (err == ZL_OK)
        err = metrics_render(reg, &out);
    if (err == ZL_OK)
        *digest = fnv_str(0, out.data);
    metrics_registry_free(reg);
    buf_cleanup(&out);
    return (int)err;
}

struct fi_cfg {
    char *config;
    char *level;
    int64_t qps;
    int64_t lease;
    struct config_list namespaces;
};

static const char *const fi_levels[] = {"debug", "info", "warn", "error", NULL};
static const struct config_key fi_keys[] = {
    {.name = "config",
     .type = CONFIG_STRING,
     .offset = offsetof(struct fi_cfg, config),
     .flag_only = true},
    {.name = "log-level",
     .type = CONFIG_STRING,
     .offset = offsetof(struct fi_cfg, level),
     .def = "info",
     .choices = fi_levels},
    {.name = "log-format",
     .type = CONFIG_STRING,
     .offset = 0,
     .flag_only = true},
    {.name = "qps",
     .type = CONFIG_INT,
     .offset = offsetof(struct fi_cfg, qps),
     .def = "50",
     .min = 1,
     .max = 10000},
    {.name = "leader-elect", .type = CONFIG_BOOL, .flag_only = true},
    {.name = "lease-duration",
     .type = CONFIG_DURATION,
     .offset = offsetof(struct fi_cfg, lease),
     .def = "15s",
     .min = 0,
     .max = INT64_MAX},
    {.name = "namespace",
     .type = CONFIG_LIST,
     .offset = offsetof(struct fi_cfg, namespaces)},
};

static int run_config(void *ctx, uint64_t *digest)
{
    (void)ctx;
    /* log-format and leader-elect are flag-only here, so the file's
     * log-format line makes this load fail after most of the work; the
     * second load succeeds. Both must free everything. */
    static const struct config_key keys_ok[] = {
        {.name = "config",
         .type = CONFIG_STRING,
         .offset = offsetof(struct fi_cfg, config),
         .flag_only = true},
        {.name = "qps",
         .type = CONFIG_INT,
         .offset = offsetof(struct fi_cfg, qps),
         .min = 1,
         .max = 100},
        {.name = "namespace",
         .type = CONFIG_LIST,
         .offset = offsetof(struct fi_cfg, namespaces)},
    };
    const struct config_schema bad = {fi_keys,
                                      sizeof(fi_keys) / sizeof(*fi_keys)};
    const struct config_schema good = {keys_ok,
                                       sizeof(keys_ok) / sizeof(*keys_ok)};
    char a0[] = "prog", a1[] = "--config", a2[] = DATA "/config/full.yaml";
    char a3[] = "--namespace=x", a4[] = "--qps=7";
    char *argv[] = {a0, a1, a2, a3, a4};
    struct config_error cerr;
    struct fi_cfg cfg;
    memset(&cfg, 0, sizeof(cfg));
    enum zl_err err = config_load(&bad, &cfg, 3, argv, &cerr);
    config_cleanup(&bad, &cfg);
    if (err == ZL_ERR_NOMEM)
        return (int)err;
    *digest = fnv_str(0, cerr.text);
    static const char good_yaml[] = "qps: 9\nnamespace: [a, b]\n";
    FILE *f = fopen("failinject-good.yaml", "w");
    if (f == NULL)
        return (int)ZL_ERR_IO;
    fputs(good_yaml, f);
    fclose(f);
    char g2[] = "failinject-good.yaml";
    char *argv2[] = {a0, a1, g2, a3, a4};
    memset(&cfg, 0, sizeof(cfg));
    err = config_load(&good, &cfg, 5, argv2, &cerr);
    if (err == ZL_OK) {
        *digest = fnv(*digest, &cfg.qps, sizeof(cfg.qps));
        *digest = fnv_str(*digest, cfg.namespaces.items[0]);
    }
    config_cleanup(&good, &cfg);
    remove("failinject-good.yaml");
    return (int)err;
}

static int run_log(void *ctx, uint64_t *digest)
{
    (void)ctx;
    char *data = NULL;
    size_t len = 0;
    FILE *f = fopen("/dev/null", "w");
    if (f == NULL)
        return (int)ZL_ERR_IO;
    /* The logger never fails its caller; it must not leak either. */
    log_configure(LOG_LEVEL_DEBUG, LOG_FORMAT_JSON, f);
    struct log_field fields[] = {{"service", "db"}, {"why", "a \"quoted\""}};
    log_record(LOG_LEVEL_INFO, "leader elected", fields, 2);
    log_configure(LOG_LEVEL_DEBUG, LOG_FORMAT_TEXT, f);
    log_warn("lost %s", "db-0");
    log_configure(LOG_LEVEL_INFO, LOG_FORMAT_JSON, NULL);
    fclose(f);
    (void)data;
    (void)len;
    *digest = 1;
    return 0;
}

static int run_buf(void *ctx, uint64_t *digest)
{
    (void)ctx;
    struct buf b;
    buf_init(&b, 1 << 16);
    enum zl_err err = ZL_OK;
    for (int i = 0; err == ZL_OK && i < 200; i++)
        err = buf_printf(&b, "%d,", i);
    if (err == ZL_OK)
        err = buf_put_json_string(&b, "q\"\n");
    char *s = err == ZL_OK ? buf_take(&b) : NULL;
    if (err == ZL_OK && s == NULL)
        err = ZL_ERR_NOMEM;
    if (err == ZL_OK)
        *digest = fnv_str(0, s);
    free(s);
    buf_cleanup(&b);
    return (int)err;
}

/* base/json on a nested document, and base/clock's text round trip
 * (which must not allocate at all). */
static int run_json_clock(void *ctx, uint64_t *digest)
{
    (void)ctx;
    static const char text[] =
        "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"web-0\",\"labels\":"
        "{\"app\":\"web\"}},\"status\":{\"podIPs\":[{\"ip\":\"10.0.0.1\"}]}}";
    struct json_object *obj = NULL;
    enum zl_err err = json_parse_object(text, sizeof(text) - 1, &obj);
    if (err != ZL_OK)
        return (int)err;
    const char *out =
        json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN);
    if (out == NULL) {
        json_object_put(obj);
        return (int)ZL_ERR_NOMEM;
    }
    uint64_t h = fnv_str(0, out);
    json_object_put(obj);
    char when[CLOCK_RFC3339_MAX];
    clock_format_ms(INT64_C(1714557600123), CLOCK_PREC_MS, when);
    int64_t ms = 0;
    err = clock_parse_rfc3339(when, &ms);
    if (err == ZL_OK)
        *digest = fnv_str(h, when) ^ (uint64_t)ms;
    return (int)err;
}

/* Kubeconfig: inline certificates (base64), relative files and a token
 * file, then the token read that the client does per request. */
static int run_kubeconfig(void *ctx, uint64_t *digest)
{
    (void)ctx;
    static const char *const files[] = {
        "valid-certs-inline.yaml", "valid-certs-files.yaml",
        "valid-token-file.yaml", "invalid-exec.yaml"};
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        char path[512];
        struct kube_config cfg;
        struct kubeconfig_error kerr;
        char *tok = NULL;
        snprintf(path, sizeof(path), "%s/kubeconfig/%s", DATA, files[i]);
        enum zl_err err = kubeconfig_load_file(path, NULL, &cfg, &kerr);
        if (i == 3) {
            if (err == ZL_ERR_NOMEM)
                return (int)err;
            *digest = fnv_str(*digest, kerr.text);
            continue;
        }
        if (err != ZL_OK)
            return (int)err;
        err = kubeconfig_current_token(&cfg, &tok);
        if (err == ZL_OK) {
            *digest = fnv_str(*digest, cfg.server);
            *digest = fnv(*digest, cfg.ca_pem, cfg.ca_pem_len);
            *digest = fnv_str(*digest, tok);
        }
        free(tok);
        kubeconfig_cleanup(&cfg);
        if (err != ZL_OK)
            return (int)err;
    }
    return 0;
}

/* kubectl's rules: two $KUBECONFIG files merged (one missing entry
 * skipped), an unknown context's error, and an exec plugin's output. */
static int run_kubeconfig_kubectl(void *ctx, uint64_t *digest)
{
    (void)ctx;
    char env[1200];
    struct kube_config cfg;
    struct kubeconfig_error kerr;
    struct execcred_result cred;
    char why[256];
    static const char out[] =
        "{\"apiVersion\":\"client.authentication.k8s.io/v1\","
        "\"kind\":\"ExecCredential\",\"status\":{\"token\":\"t\","
        "\"clientCertificateData\":\"C\",\"clientKeyData\":\"K\"}}";
    snprintf(env, sizeof(env),
             "%s/kubeconfig/valid-certs-files.yaml:/nonexistent:"
             "%s/kubeconfig/valid-token.yaml",
             DATA, DATA);
    enum zl_err err = kubeconfig_load_kubectl_sa(NULL, NULL, NULL, env,
                                                 "/nonexistent", &cfg, &kerr);
    if (err != ZL_OK)
        return (int)err;
    *digest = fnv_str(*digest, cfg.server);
    *digest = fnv_str(*digest, cfg.context_name);
    kubeconfig_cleanup(&cfg);
    err = kubeconfig_load_kubectl_sa(NULL, "nope", NULL, env, "/nonexistent",
                                     &cfg, &kerr);
    if (err == ZL_ERR_NOMEM)
        return (int)err;
    *digest = fnv_str(*digest, kerr.text);
    err = execcred_parse(out, sizeof(out) - 1, EXECCRED_V1, &cred, why,
                         sizeof(why));
    if (err != ZL_OK)
        return (int)err;
    *digest = fnv_str(*digest, cred.token);
    *digest = fnv(*digest, cred.key_pem, cred.key_pem_len);
    execcred_result_cleanup(&cred);
    return 0;
}

/* Work queue: dedup, processing re-adds, delayed and rate-limited adds
 * under a fake clock, draining. */
static int64_t fi_clock_ns;

static int64_t fi_clock(void *ctx)
{
    (void)ctx;
    return fi_clock_ns;
}

static enum zl_err workqueue_steps(struct workqueue *q, uint64_t *digest)
{
    char key[32];
    enum zl_err err = ZL_OK;
    for (int i = 0; i < 40 && err == ZL_OK; i++) {
        snprintf(key, sizeof(key), "ns/key-%d", i % 25);
        err = i % 3 == 0   ? workqueue_add_after(q, key, 10)
              : i % 3 == 1 ? workqueue_add_rate_limited(q, key)
                           : workqueue_add(q, key);
    }
    fi_clock_ns += 1000000000;
    const char *got = NULL;
    int gets = 0;
    while (err == ZL_OK && (err = workqueue_get_timeout(q, 0, &got)) == ZL_OK) {
        *digest = fnv_str(*digest, got);
        /* The first few keys are re-added while processing: queued again
         * on done, once. */
        bool again = gets++ < 5;
        if (again)
            err = workqueue_add(q, got);
        workqueue_done(q, got);
        workqueue_forget(q, got);
    }
    return err == ZL_ERR_TIMEOUT ? ZL_OK : err;
}

static int run_workqueue(void *ctx, uint64_t *digest)
{
    (void)ctx;
    struct workqueue_options opt = {.qps = -1, .clock = fi_clock};
    struct workqueue *q = NULL;
    fi_clock_ns = 0;
    enum zl_err err = workqueue_new(&opt, &q);
    if (err != ZL_OK)
        return (int)err;
    *digest = 0;
    err = workqueue_steps(q, digest);
    workqueue_shutdown_with_drain(q);
    workqueue_free(q);
    return (int)err;
}

/* Events: aggregation decisions and commits with a small LRU, rendering of
 * the Event and of the count patch. */
static int run_events(void *ctx, uint64_t *digest)
{
    (void)ctx;
    struct events_cache *cache = NULL;
    enum zl_err err = events_cache_new(3, 600, &cache);
    if (err != ZL_OK)
        return (int)err;
    struct buf out;
    buf_init(&out, 1 << 16);
    struct events_object obj = {"Service", "v1", "shop", "db", "u1", "7"};
    struct events_source src = {"zen-lead-controller", "host", "pod-0"};
    const char *reasons[] = {"NoReadyPods",   "LeaderElected",  "NoReadyPods",
                             "LeaderChanged", "InvalidService", "NoReadyPods"};
    *digest = 0;
    for (size_t i = 0; i < 6 && err == ZL_OK; i++) {
        struct events_event ev = {
            &obj, EVENTS_WARNING, reasons[i], "message \"quoted\"", 1, 0, 0};
        struct events_decision d;
        int64_t now = (int64_t)(i + 1) * 1000000000;
        events_cache_decide(cache, &ev, now, now, &d);
        ev.count = d.count;
        ev.first_unix_ns = d.first_unix_ns;
        ev.last_unix_ns = now;
        buf_reset(&out);
        err = d.patch ? events_render_patch(d.count, now, &out)
                      : events_render(&ev, d.name, &src, &out);
        if (err == ZL_OK)
            err = events_cache_commit(cache, &ev, &d, now);
        if (err == ZL_OK)
            *digest = fnv_str(*digest, out.data);
    }
    buf_cleanup(&out);
    events_cache_free(cache);
    return (int)err;
}

/* Lease: parse a recorded Lease, decide, render the next record. */
static int lease_setup(void **ctx)
{
    *ctx = slurp(DATA "/lease/lease.json");
    return *ctx != NULL ? 0 : 1;
}

static void lease_teardown(void *ctx)
{
    free(ctx);
}

static int run_lease(void *ctx, uint64_t *digest)
{
    const char *text = ctx;
    struct lease_record rec, next;
    enum zl_err err = lease_record_parse(text, strlen(text), &rec);
    if (err != ZL_OK)
        return (int)err;
    enum lease_action act =
        lease_decide(&rec, 0, INT64_C(20000000000), "me", NULL);
    lease_next_record(&rec, act, "me", 15, "2026-03-01T10:00:00.000000Z",
                      &next);
    struct buf out;
    buf_init(&out, 1 << 16);
    err = lease_render("ns", "zen-lead-controller", &next, &out);
    if (err == ZL_OK)
        *digest = fnv_str(0, out.data);
    buf_cleanup(&out);
    return (int)err;
}

/* Watch stream: the recorded stream decoded in 97-byte chunks, each event
 * applied to a store the way the informer does. */
static int watch_setup(void **ctx)
{
    return text_setup(ctx, DATA "/watch/stream-basic.jsonl");
}

struct fi_watch {
    struct store *store;
    uint64_t digest;
};

static enum zl_err fi_watch_event(void *ctx, enum watch_type type,
                                  struct json_object *object)
{
    struct fi_watch *w = ctx;
    const char *rv = watch_object_rv(object);
    w->digest = fnv_str(w->digest * 31 + (uint64_t)type, rv ? rv : "");
    if (type == WATCH_BOOKMARK || type == WATCH_ERROR)
        return ZL_OK;
    void *view = NULL;
    enum zl_err err = views_from_json(VIEWS_KIND_POD, object, &view);
    if (err != ZL_OK)
        return err;
    const void *old = NULL;
    if (type == WATCH_DELETED) {
        store_delete(w->store, views_meta_of(view)->namespace_name,
                     views_meta_of(view)->name, &old);
        views_release(view);
    } else {
        err = store_put(w->store, view, &old);
    }
    store_release(w->store, old);
    return err;
}

static int run_watch(void *ctx, uint64_t *digest)
{
    const char *text = ctx;
    struct fi_watch w = {NULL, 0};
    enum zl_err err = store_new(VIEWS_KIND_POD, &w.store);
    if (err != ZL_OK)
        return (int)err;
    struct watch_decoder d;
    watch_init(&d, 0, fi_watch_event, &w);
    size_t len = strlen(text);
    for (size_t at = 0; at < len && err == ZL_OK; at += 97)
        err = watch_feed(&d, text + at, len - at < 97 ? len - at : 97);
    if (err == ZL_OK)
        err = watch_finish(&d);
    watch_cleanup(&d);
    if (err == ZL_OK)
        *digest = w.digest * 31 + store_count(w.store);
    store_free(w.store);
    return (int)err;
}

/* The HTTP server: options, routes, then a start and stop on a free
 * loopback port (the threads and libmicrohttpd's blocks are leak-checked). */
static int run_serve(void *ctx, uint64_t *digest)
{
    (void)ctx;
    struct serve_options opt = {.bind_address = "127.0.0.1:0", .threads = 2};
    struct serve *s = NULL;
    static const char *const paths[] = {"/healthz", "/readyz", "/metrics"};
    enum zl_err err = serve_new(&opt, &s);
    for (size_t i = 0; err == ZL_OK && i < 3; i++)
        err = serve_route(s, "GET", paths[i], serve_handle_health, NULL);
    if (err == ZL_OK)
        err = serve_start(s);
    if (err == ZL_OK) {
        *digest = fnv_str(0, serve_port(s) > 0 ? "listening" : "no port");
        serve_stop(s);
    }
    serve_free(s);
    return (int)err;
}

/* Client: a stream opened (not run) on a multi with an escaped query and
 * the bearer token, closed again, and a Status body decoded. */
static int client_setup(void **ctx)
{
    static const char yaml[] =
        "current-context: t\nclusters:\n- name: c\n  cluster: {server: "
        "\"http://127.0.0.1:1\"}\nusers:\n- name: u\n  user: {token: "
        "fi-token}\ncontexts:\n- name: t\n  context: {cluster: c, user: "
        "u}\n";
    struct kube_config *cfg = calloc(1, sizeof(*cfg));
    struct kubeconfig_error kerr;
    struct client_multi *m = NULL;
    /* A first multi sets up the HTTP library's global state, once. */
    if (cfg == NULL ||
        kubeconfig_load_mem(yaml, strlen(yaml), NULL, NULL, cfg, &kerr) !=
            ZL_OK ||
        client_multi_new(&m) != ZL_OK) {
        free(cfg);
        return 1;
    }
    client_multi_free(m);
    *ctx = cfg;
    return 0;
}

static void client_teardown(void *ctx)
{
    kubeconfig_cleanup(ctx);
    free(ctx);
}

static bool fi_stream_data(void *ctx, const char *data, size_t len, long code)
{
    (void)ctx;
    (void)data;
    (void)len;
    (void)code;
    return true;
}

static void fi_stream_done(void *ctx, const struct client_stream_result *r)
{
    (void)ctx;
    (void)r;
}

static enum zl_err client_steps(struct client *c, struct client_multi *m,
                                struct buf *path)
{
    enum zl_err err = client_path(&CLIENT_PODS, "shop", NULL, NULL, path);
    if (err == ZL_OK)
        err = client_put_query(path, "labelSelector", "app in (db, web)");
    if (err == ZL_OK)
        err = client_put_query(path, "watch", "1");
    struct client_stream *st = NULL;
    struct client_stream_options so = {.path = path->data,
                                       .on_data = fi_stream_data,
                                       .on_done = fi_stream_done};
    if (err == ZL_OK)
        err = client_stream_open(c, m, &so, &st);
    client_stream_close(st);
    return err;
}

static int run_client(void *ctx, uint64_t *digest)
{
    static const char status[] = "{\"kind\":\"Status\",\"code\":409,"
                                 "\"reason\":\"AlreadyExists\"}";
    struct client *c = NULL;
    struct client_multi *m = NULL;
    struct buf path;
    buf_init(&path, CLIENT_MAX_PATH);
    enum zl_err err = client_new(ctx, NULL, &c);
    if (err == ZL_OK)
        err = client_multi_new(&m);
    if (err == ZL_OK)
        err = client_steps(c, m, &path);
    struct client_status st = {0};
    if (err == ZL_OK && !client_decode_status(status, strlen(status), &st))
        err = ZL_ERR_NOMEM; /* only running out of memory can refuse it */
    if (err == ZL_OK)
        *digest = fnv_str(fnv_str(0, path.data), st.reason);
    buf_cleanup(&path);
    client_multi_free(m);
    client_free(c);
    return (int)err;
}

/* The HTTPS server: a certificate and key made here (not under injection)
 * in a temporary directory; under injection serve_new reads and checks
 * them, the server starts with its reload thread, reports its state and
 * stops. */
struct fi_tls {
    char dir[64];
    char cert[96];
    char key[96];
};

static int write_pem(const char *path, const gnutls_datum_t *d)
{
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return 1;
    size_t n = fwrite(d->data, 1, d->size, f);
    return fclose(f) != 0 || n != d->size;
}

/* A self-signed ECDSA certificate for 127.0.0.1 and its key, as PEM. */
static int make_pair(gnutls_datum_t *cert, gnutls_datum_t *key)
{
    gnutls_x509_privkey_t k = NULL;
    gnutls_x509_crt_t c = NULL;
    unsigned char serial[1] = {7};
    int rc = gnutls_x509_privkey_init(&k);
    rc = rc < 0 ? rc
                : gnutls_x509_privkey_generate(
                      k, GNUTLS_PK_ECDSA,
                      GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0);
    rc = rc < 0 ? rc : gnutls_x509_crt_init(&c);
    rc = rc < 0 ? rc : gnutls_x509_crt_set_version(c, 3);
    rc = rc < 0 ? rc : gnutls_x509_crt_set_serial(c, serial, 1);
    rc = rc < 0 ? rc
                : gnutls_x509_crt_set_dn_by_oid(c, GNUTLS_OID_X520_COMMON_NAME,
                                                0, "fi", 2);
    rc = rc < 0 ? rc : gnutls_x509_crt_set_activation_time(c, 1700000000);
    rc = rc < 0 ? rc : gnutls_x509_crt_set_expiration_time(c, 4000000000);
    rc = rc < 0 ? rc : gnutls_x509_crt_set_key(c, k);
    rc = rc < 0 ? rc : gnutls_x509_crt_sign2(c, c, k, GNUTLS_DIG_SHA256, 0);
    rc = rc < 0 ? rc : gnutls_x509_crt_export2(c, GNUTLS_X509_FMT_PEM, cert);
    rc = rc < 0 ? rc : gnutls_x509_privkey_export2(k, GNUTLS_X509_FMT_PEM, key);
    gnutls_x509_crt_deinit(c);
    gnutls_x509_privkey_deinit(k);
    return rc < 0;
}

static int tls_setup(void **ctx)
{
    struct fi_tls *t = calloc(1, sizeof(*t));
    gnutls_datum_t cert = {0};
    gnutls_datum_t key = {0};
    if (t == NULL)
        return 1;
    *ctx = t;
    snprintf(t->dir, sizeof(t->dir), "/tmp/zl-fi-tls-XXXXXX");
    if (mkdtemp(t->dir) == NULL)
        return 1;
    snprintf(t->cert, sizeof(t->cert), "%s/tls.crt", t->dir);
    snprintf(t->key, sizeof(t->key), "%s/tls.key", t->dir);
    int rc = make_pair(&cert, &key);
    rc = rc != 0 ? rc : write_pem(t->cert, &cert);
    rc = rc != 0 ? rc : write_pem(t->key, &key);
    gnutls_free(cert.data);
    gnutls_free(key.data);
    return rc;
}

static void tls_teardown(void *ctx)
{
    struct fi_tls *t = ctx;
    if (t == NULL)
        return;
    unlink(t->cert);
    unlink(t->key);
    rmdir(t->dir);
    free(t);
}

static int run_serve_tls(void *ctx, uint64_t *digest)
{
    const struct fi_tls *t = ctx;
    struct serve_tls tls = {.cert_file = t->cert, .key_file = t->key};
    struct serve_options opt = {.bind_address = "127.0.0.1:0", .tls = &tls};
    struct serve *s = NULL;
    enum zl_err err = serve_new(&opt, &s);
    if (err == ZL_OK)
        err = serve_route(s, "GET", "/healthz", serve_handle_health, NULL);
    if (err == ZL_OK)
        err = serve_start(s);
    struct serve_tls_status st;
    if (err == ZL_OK)
        err = serve_tls_state(s, &st);
    if (err == ZL_OK) {
        *digest = fnv_str((uint64_t)st.not_after,
                          serve_port(s) > 0 ? "listening" : "no port");
        serve_stop(s);
    }
    serve_free(s);
    return (int)err;
}

/* The webhook core: decode a review, decide it with both hooks against a
 * namespace of one pod and two Services, answer and audit. The lookups'
 * arrays are allocated under injection, as the daemon's cache would. */
struct webhook_fx {
    char *body;
    char *mutate_body;
    struct views_pod *pod;
    struct views_service *svcs[2];
};

static const char webhook_pod[] =
    "{\"metadata\":{\"name\":\"web-0\",\"namespace\":\"shop\",\"labels\":"
    "{\"app\":\"web\"}},\"spec\":{\"containers\":[{\"ports\":[{\"name\":"
    "\"http\",\"containerPort\":8080}]}]}}";
static const char *const webhook_svcs[2] = {
    "{\"metadata\":{\"name\":\"db\",\"namespace\":\"shop\"},\"spec\":{"
    "\"selector\":{\"app\":\"db\"},\"ports\":[{\"port\":5432}]}}",
    "{\"metadata\":{\"name\":\"web-leader\",\"namespace\":\"shop\","
    "\"ownerReferences\":[{\"kind\":\"Service\",\"name\":\"web\",\"uid\":"
    "\"3c1d9a7e-5b2f-4e80-a1c4-9f6e2d7b8a10\",\"controller\":true}]},"
    "\"spec\":{\"ports\":[{\"port\":80,\"targetPort\":8080}]}}",
};

static void webhook_teardown(void *ctx)
{
    struct webhook_fx *fx = ctx;
    if (fx == NULL)
        return;
    free(fx->body);
    free(fx->mutate_body);
    views_release(fx->pod);
    views_release(fx->svcs[0]);
    views_release(fx->svcs[1]);
    free(fx);
}

static int webhook_setup(void **ctx)
{
    static const char canonical[] = "\"zen-lead.io/enabled\": \"true\"";
    static const char spaced[] = "\"zen-lead.io/enabled\": \" True \"";
    struct webhook_fx *fx = calloc(1, sizeof(*fx));
    *ctx = fx;
    if (fx == NULL)
        return 1;
    fx->body = slurp(DATA "/admission/review-service-create.json");
    char *at = fx->body != NULL ? strstr(fx->body, canonical) : NULL;
    if (at == NULL)
        return 1;
    struct buf b;
    buf_init(&b, 1 << 20);
    if (buf_append(&b, fx->body, (size_t)(at - fx->body)) != ZL_OK ||
        buf_puts(&b, spaced) != ZL_OK ||
        buf_puts(&b, at + strlen(canonical)) != ZL_OK) {
        buf_cleanup(&b);
        return 1;
    }
    fx->mutate_body = buf_take(&b);
    int rc = views_pod_parse(webhook_pod, strlen(webhook_pod), &fx->pod);
    for (size_t i = 0; rc == ZL_OK && i < 2; i++)
        rc = views_service_parse(webhook_svcs[i], strlen(webhook_svcs[i]),
                                 &fx->svcs[i]);
    return fx->mutate_body != NULL && rc == ZL_OK ? 0 : 1;
}

static enum zl_err webhook_pods(void *ctx, const char *ns,
                                const struct views_map *selector,
                                struct views_pod ***out, size_t *count)
{
    struct webhook_fx *fx = ctx;
    (void)ns;
    (void)selector;
    *count = 0;
    *out = malloc(sizeof(**out));
    if (*out == NULL)
        return ZL_ERR_NOMEM;
    views_retain(fx->pod);
    (*out)[(*count)++] = fx->pod;
    return ZL_OK;
}

static enum zl_err webhook_services(void *ctx, const char *ns,
                                    struct views_service ***out, size_t *count)
{
    struct webhook_fx *fx = ctx;
    (void)ns;
    *count = 0;
    *out = malloc(2 * sizeof(**out));
    if (*out == NULL)
        return ZL_ERR_NOMEM;
    for (size_t i = 0; i < 2; i++) {
        views_retain(fx->svcs[i]);
        (*out)[(*count)++] = fx->svcs[i];
    }
    return ZL_OK;
}

/* One hook on one body: decode, decide, answer, audit. */
static enum zl_err webhook_once(struct webhook_fx *fx, const char *body,
                                enum admit_hook hook, uint64_t *h)
{
    struct admit_config cfg = {"system:serviceaccount:zen-lead-system:c",
                               ADMIT_NAMED_PORT_REJECT, ADMIT_LOOKUP_DENY};
    struct admit_lookups lk = {fx, webhook_pods, webhook_services};
    struct review_request req;
    struct admit_decision d;
    struct audit_record rec;
    char why[REVIEW_WHY_MAX];
    struct buf out;
    buf_init(&out, 1 << 20);
    enum zl_err err = review_decode(body, strlen(body), &req, why);
    if (err == ZL_OK)
        err = admit_decide(hook, &req, &cfg, &lk, &d);
    else
        memset(&d, 0, sizeof(d));
    if (err == ZL_OK)
        err = admit_encode(&req, &d, &out);
    if (err == ZL_OK) {
        audit_record_of(&rec, hook, &req, &d, 0, 0);
        err = audit_render(&rec, &out);
    }
    if (err == ZL_OK)
        *h = fnv_str(*h, out.data);
    buf_cleanup(&out);
    admit_decision_cleanup(&d);
    review_cleanup(&req);
    return err;
}

static int run_webhook(void *ctx, uint64_t *digest)
{
    struct webhook_fx *fx = ctx;
    uint64_t h = 0;
    enum zl_err err = webhook_once(fx, fx->body, ADMIT_VALIDATE, &h);
    if (err == ZL_OK)
        err = webhook_once(fx, fx->mutate_body, ADMIT_MUTATE, &h);
    if (err == ZL_OK)
        *digest = h;
    return (int)err;
}

static const struct scenario all_scenarios[] = {
    {"views", fixture_setup, run_views, fixture_teardown},
    {"endpointslice", slice_setup, run_endpointslice, text_teardown},
    {"store", none_setup, run_store, none_teardown},
    {"annotations", none_setup, run_annotations, none_teardown},
    {"leader", fixture_setup, run_leader, fixture_teardown},
    {"render", fixture_setup, run_render, fixture_teardown},
    {"metrics", none_setup, run_metrics, none_teardown},
    {"config", none_setup, run_config, none_teardown},
    {"log", none_setup, run_log, none_teardown},
    {"buf", none_setup, run_buf, none_teardown},
    {"json+clock", none_setup, run_json_clock, none_teardown},
    {"kubeconfig", none_setup, run_kubeconfig, none_teardown},
    {"kubeconfig+kubectl", none_setup, run_kubeconfig_kubectl, none_teardown},
    {"client", client_setup, run_client, client_teardown},
    {"workqueue", none_setup, run_workqueue, none_teardown},
    {"events", none_setup, run_events, none_teardown},
    {"lease", lease_setup, run_lease, lease_teardown},
    {"watch", watch_setup, run_watch, text_teardown},
    {"serve", none_setup, run_serve, none_teardown},
    {"serve+tls", tls_setup, run_serve_tls, tls_teardown},
    {"webhook", webhook_setup, run_webhook, webhook_teardown},
};

const struct scenario *scenarios_all(size_t *count)
{
    *count = sizeof(all_scenarios) / sizeof(*all_scenarios);
    return all_scenarios;
}

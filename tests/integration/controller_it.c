/* SPDX-License-Identifier: Apache-2.0 */
/* The controller's runtime (informers, mapping, workers, reconcile) against
 * the real API server: a 3-pod Service gets its leader Service and slice,
 * leadership moves on NotReady, on a graceful delete (terminating) and on
 * IP loss, the slice empties when nobody is eligible, an unrelated Service
 * holding the leader name is never touched, and opting out removes what
 * was made. Each test watches the namespace through its own runtime
 * limited to it (--namespace). */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/duration.h"
#include "base/log.h"
#include "controller/options.h"
#include "controller/runtime.h"
#include "kube/client.h"
#include "kube/kubeconfig.h"

/* How long a change may take; ZL_IT_WAIT_MS stretches it (valgrind). */
static int64_t wait_ms(void)
{
    const char *v = getenv("ZL_IT_WAIT_MS");
    long ms = v != NULL ? strtol(v, NULL, 10) : 0;
    return ms > 0 ? ms : 5000;
}

struct it {
    struct kube_config cfg;
    struct client *c;
    char ns[64];
    char *ns_item;
    struct options opt;
    int pipe[2];
    struct runtime *rt;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void request(struct it *t, const char *method,
                    const struct client_resource *res, const char *name,
                    const char *sub, const char *body)
{
    struct client_response r;
    enum zl_err rc;
    client_response_init(&r);
    if (strcmp(method, "POST") == 0)
        rc = client_create(t->c, res, res->namespaced ? t->ns : NULL, body, &r);
    else if (strcmp(method, "PATCH") == 0)
        rc = client_patch(t->c, res, t->ns, name, sub,
                          "application/merge-patch+json", body, &r);
    else
        rc = client_delete(t->c, res, t->ns, name, NULL, &r);
    cr_assert_eq(rc, ZL_OK, "%s %s %s: %ld %s", method, res->plural,
                 name ? name : "", r.http_code, r.status.message);
    client_response_cleanup(&r);
}

static void it_open(struct it *t, const char *prefix)
{
    memset(t, 0, sizeof(*t));
    log_configure(LOG_LEVEL_WARN, LOG_FORMAT_TEXT, stderr);
    struct kubeconfig_error err;
    const char *path = getenv("KUBECONFIG");
    cr_assert(path != NULL && path[0] != '\0', "KUBECONFIG is not set");
    cr_assert_eq(kubeconfig_load_file(path, NULL, &t->cfg, &err), ZL_OK, "%s",
                 err.text);
    struct client_options co = {0};
    cr_assert_eq(client_new(&t->cfg, &co, &t->c), ZL_OK);
    snprintf(t->ns, sizeof(t->ns), "%s-%d-%ld", prefix, (int)getpid(),
             (long)(now_ms() % 100000));
    char body[256];
    snprintf(body, sizeof(body),
             "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{"
             "\"name\":\"%s\"}}",
             t->ns);
    request(t, "POST", &CLIENT_NAMESPACES, NULL, NULL, body);
}

/* A runtime as main builds it, for this namespace only. */
static void it_start(struct it *t)
{
    char kc[512];
    snprintf(kc, sizeof(kc), "--kubeconfig=%s", getenv("KUBECONFIG"));
    char nsflag[128];
    snprintf(nsflag, sizeof(nsflag), "--namespace=%s", t->ns);
    char prog[] = "zen-lead-controller";
    char metrics[] = "--metrics-bind-address=0";
    char probes[] = "--health-probe-bind-address=0";
    char *argv[] = {prog, kc, nsflag, metrics, probes, NULL};
    enum flags_action action;
    struct config_error err;
    cr_assert_eq(options_load(5, argv, &t->opt, &action, &err), ZL_OK, "%s",
                 err.text);
    cr_assert_eq(pipe(t->pipe), 0);
    fcntl(t->pipe[1], F_SETFL, O_NONBLOCK);
    cr_assert_eq(runtime_new(&t->opt, "it", t->pipe[1], &t->rt), ZL_OK);
    cr_assert_eq(runtime_start(t->rt), ZL_OK);
    int64_t end = now_ms() + wait_ms();
    while (!runtime_ready(t->rt) && now_ms() < end)
        sleep_ms(10);
    cr_assert(runtime_ready(t->rt), "caches synced");
    cr_assert_eq(runtime_step(t->rt), ZL_OK);
}

static void it_close(struct it *t)
{
    runtime_free(t->rt);
    options_cleanup(&t->opt);
    close(t->pipe[0]);
    close(t->pipe[1]);
    struct client_response r;
    client_response_init(&r);
    client_delete(t->c, &CLIENT_NAMESPACES, NULL, t->ns, NULL, &r);
    client_response_cleanup(&r);
    client_free(t->c);
    kubeconfig_cleanup(&t->cfg);
}

static void create_pod(struct it *t, const char *name, const char *app)
{
    char body[1024];
    snprintf(body, sizeof(body),
             "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":"
             "\"%s\",\"labels\":{\"app\":\"%s\"}},\"spec\":{\"nodeName\":"
             "\"it-node\",\"containers\":[{\"name\":\"c\",\"image\":\"x\","
             "\"ports\":[{\"name\":\"http\",\"containerPort\":8080}]}]}}",
             name, app);
    request(t, "POST", &CLIENT_PODS, NULL, NULL, body);
}

static const char *ready_since = "2024-01-01T00:00:00Z";

/* Ready or not, with an IP (ip NULL: none), Ready condition changed at
 * ready_since. */
static void set_status(struct it *t, const char *pod, bool ready,
                       const char *ip)
{
    char body[1024], ips[128] = "null", podip[64] = "null";
    if (ip != NULL) {
        snprintf(ips, sizeof(ips), "[{\"ip\":\"%s\"}]", ip);
        snprintf(podip, sizeof(podip), "\"%s\"", ip);
    }
    snprintf(body, sizeof(body),
             "{\"status\":{\"phase\":\"Running\",\"podIP\":%s,\"podIPs\":%s,"
             "\"conditions\":[{\"type\":\"Ready\",\"status\":\"%s\","
             "\"lastTransitionTime\":\"%s\"}]}}",
             podip, ips, ready ? "True" : "False", ready_since);
    request(t, "PATCH", &CLIENT_PODS, pod, "status", body);
}

static void create_service(struct it *t, const char *name, bool enabled)
{
    char body[1024];
    snprintf(body, sizeof(body),
             "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{"
             "\"name\":\"%s\",\"annotations\":{%s}},\"spec\":{\"selector\":{"
             "\"app\":\"%s\"},\"ports\":[{\"name\":\"http\",\"port\":80,"
             "\"targetPort\":\"http\"}]}}",
             name, enabled ? "\"zen-lead.io/enabled\":\"true\"" : "", name);
    request(t, "POST", &CLIENT_SERVICES, NULL, NULL, body);
}

/* The slice's endpoint pods as "a,b" ("" for none, "-" when absent). */
static void slice_pods(struct it *t, const char *slice, char *out, size_t n)
{
    struct client_response r;
    client_response_init(&r);
    snprintf(out, n, "-");
    if (client_get(t->c, &CLIENT_ENDPOINTSLICES, t->ns, slice, &r) == ZL_OK) {
        struct json_object *o = json_tokener_parse(r.body.data), *eps;
        out[0] = '\0';
        if (json_object_object_get_ex(o, "endpoints", &eps) &&
            json_object_is_type(eps, json_type_array)) {
            for (size_t i = 0; i < json_object_array_length(eps); i++) {
                struct json_object *e = json_object_array_get_idx(eps, i), *ref,
                                   *nm;
                if (json_object_object_get_ex(e, "targetRef", &ref) &&
                    json_object_object_get_ex(ref, "name", &nm))
                    snprintf(out + strlen(out), n - strlen(out), "%s%s",
                             i ? "," : "", json_object_get_string(nm));
            }
        }
        json_object_put(o);
    }
    client_response_cleanup(&r);
}

/* Waits until the slice routes to want; returns the ms it took. */
static int64_t wait_slice(struct it *t, const char *slice, const char *want)
{
    char got[256] = "";
    int64_t start = now_ms();
    while (now_ms() - start < wait_ms()) {
        runtime_step(t->rt);
        slice_pods(t, slice, got, sizeof(got));
        if (strcmp(got, want) == 0)
            return now_ms() - start;
        sleep_ms(5);
    }
    cr_assert_fail("slice %s: want \"%s\", got \"%s\"", slice, want, got);
    return -1;
}

static bool exists(struct it *t, const struct client_resource *res,
                   const char *name, char *rv, size_t rv_len)
{
    struct client_response r;
    client_response_init(&r);
    bool found = client_get(t->c, res, t->ns, name, &r) == ZL_OK;
    if (found && rv != NULL) {
        struct json_object *o = json_tokener_parse(r.body.data), *m, *v;
        if (json_object_object_get_ex(o, "metadata", &m) &&
            json_object_object_get_ex(m, "resourceVersion", &v))
            snprintf(rv, rv_len, "%s", json_object_get_string(v));
        json_object_put(o);
    }
    client_response_cleanup(&r);
    return found;
}

Test(controller_it, creates_then_fails_over_on_every_trigger, .timeout = 120)
{
    struct it t;
    it_open(&t, "ctl-it");
    static const char *const pods[] = {"web-0", "web-1", "web-2"};
    static const char *const ips[] = {"10.244.7.1", "10.244.7.2", "10.244.7.3"};
    for (int i = 0; i < 3; i++) {
        create_pod(&t, pods[i], "web");
        set_status(&t, pods[i], true, ips[i]);
    }
    it_start(&t);
    create_service(&t, "web", true);
    printf("created in %lld ms\n",
           (long long)wait_slice(&t, "web-leader-ipv4", "web-0"));
    cr_assert(exists(&t, &CLIENT_SERVICES, "web-leader", NULL, 0));

    set_status(&t, "web-0", false, ips[0]);
    printf("notReady in %lld ms\n",
           (long long)wait_slice(&t, "web-leader-ipv4", "web-1"));
    request(&t, "DELETE", &CLIENT_PODS, "web-1", NULL, NULL); /* graceful */
    printf("terminating in %lld ms\n",
           (long long)wait_slice(&t, "web-leader-ipv4", "web-2"));
    set_status(&t, "web-2", true, NULL);
    printf("noIP (nobody left) in %lld ms\n",
           (long long)wait_slice(&t, "web-leader-ipv4", ""));
    set_status(&t, "web-0", true, ips[0]);
    wait_slice(&t, "web-leader-ipv4", "web-0");
    request(&t, "PATCH", &CLIENT_PODS, "web-0", NULL,
            "{\"metadata\":{\"labels\":{\"app\":\"other\"}}}");
    printf("relabeled in %lld ms\n",
           (long long)wait_slice(&t, "web-leader-ipv4", ""));
    it_close(&t);
}

Test(controller_it, leaves_a_foreign_leader_name_alone_and_cleans_up,
     .timeout = 120)
{
    struct it t;
    it_open(&t, "ctl-it");
    create_pod(&t, "a-0", "a");
    set_status(&t, "a-0", true, "10.244.8.1");
    create_pod(&t, "b-0", "b");
    set_status(&t, "b-0", true, "10.244.8.2");
    create_service(&t, "a-leader", false); /* someone else's */
    char rv_before[64] = "", rv_after[64] = "";
    cr_assert(
        exists(&t, &CLIENT_SERVICES, "a-leader", rv_before, sizeof(rv_before)));
    it_start(&t);
    create_service(&t, "a", true);
    create_service(&t, "b", true);
    wait_slice(&t, "b-leader-ipv4", "b-0"); /* the controller is working */
    cr_assert(
        exists(&t, &CLIENT_SERVICES, "a-leader", rv_after, sizeof(rv_after)));
    cr_expect_str_eq(rv_after, rv_before, "the foreign Service is untouched");
    cr_expect_not(exists(&t, &CLIENT_ENDPOINTSLICES, "a-leader-ipv4", NULL, 0));

    request(&t, "PATCH", &CLIENT_SERVICES, "b", NULL,
            "{\"metadata\":{\"annotations\":{\"zen-lead.io/enabled\":null}}}");
    int64_t end = now_ms() + wait_ms();
    while ((exists(&t, &CLIENT_SERVICES, "b-leader", NULL, 0) ||
            exists(&t, &CLIENT_ENDPOINTSLICES, "b-leader-ipv4", NULL, 0)) &&
           now_ms() < end)
        sleep_ms(10);
    cr_expect_not(exists(&t, &CLIENT_SERVICES, "b-leader", NULL, 0),
                  "opt-out removes the leader Service");
    cr_expect_not(exists(&t, &CLIENT_ENDPOINTSLICES, "b-leader-ipv4", NULL, 0),
                  "and its slice");
    it_close(&t);
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* min-ready-duration: the leader appears when the pod has been Ready for
 * 2 s (from its Ready condition's second-precision lastTransitionTime),
 * within 100 ms of that instant and not before, with no other event. */
Test(controller_it, min_ready_duration_elects_on_time, .timeout = 120)
{
    struct it t;
    it_open(&t, "ctl-it");
    it_start(&t);
    char body[1024];
    snprintf(body, sizeof(body),
             "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{"
             "\"name\":\"m\",\"annotations\":{\"zen-lead.io/enabled\":"
             "\"true\",\"zen-lead.io/min-ready-duration\":\"2s\"}},"
             "\"spec\":{\"selector\":{\"app\":\"m\"},\"ports\":[{"
             "\"port\":80}]}}");
    request(&t, "POST", &CLIENT_SERVICES, NULL, NULL, body);
    create_pod(&t, "m-0", "m");
    char since[32];
    int64_t now = wall_ms();
    time_t secs = (time_t)(now / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    strftime(since, sizeof(since), "%Y-%m-%dT%H:%M:%SZ", &tm);
    ready_since = since;
    set_status(&t, "m-0", true, "10.244.9.1");
    ready_since = "2024-01-01T00:00:00Z";
    int64_t due = (int64_t)secs * 1000 + 2000;
    char got[64] = "-";
    while (wall_ms() < due - 150) {
        slice_pods(&t, "m-leader-ipv4", got, sizeof(got));
        cr_assert(strcmp(got, "m-0") != 0, "leader %lld ms early",
                  (long long)(due - wall_ms()));
        sleep_ms(20);
    }
    while (strcmp(got, "m-0") != 0 && wall_ms() < due + 2000) {
        slice_pods(&t, "m-leader-ipv4", got, sizeof(got));
        sleep_ms(2);
    }
    int64_t late = wall_ms() - due;
    printf("min-ready: leader %lld ms after qualifying\n", (long long)late);
    cr_expect_str_eq(got, "m-0");
    cr_expect_leq(late, 100, "within 100 ms of qualifying: %lld",
                  (long long)late);
    it_close(&t);
}

/* SPDX-License-Identifier: Apache-2.0 */
/* Measures the two ways to rewrite an existing EndpointSlice on the
 * failover path against a real API server: server-side apply (field
 * manager zen-lead, force, uid in the body) and PUT with uid and
 * resourceVersion preconditions. Alternates them round by round, moving
 * the one endpoint between two addresses, and prints p50/p90/p99/max of
 * each. Also checks that both refuse a wrong uid.
 * usage: slicewrite KUBECONFIG NAMESPACE [ROUNDS] */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/sync.h"
#include "kube/client.h"
#include "kube/kubeconfig.h"

#define NAME "slicewrite-bench"

static char uid[128], rv[64];

static void remember(const struct kube_response *resp)
{
    struct json_object *o = json_tokener_parse(resp->body.data), *m, *v;
    if (o != NULL && json_object_object_get_ex(o, "metadata", &m)) {
        if (json_object_object_get_ex(m, "uid", &v))
            snprintf(uid, sizeof(uid), "%s", json_object_get_string(v));
        if (json_object_object_get_ex(m, "resourceVersion", &v))
            snprintf(rv, sizeof(rv), "%s", json_object_get_string(v));
    }
    json_object_put(o);
}

static void body(char *out, size_t n, const char *ns, int ip, const char *u,
                 const char *r)
{
    snprintf(out, n,
             "{\"apiVersion\":\"discovery.k8s.io/v1\",\"kind\":"
             "\"EndpointSlice\",\"metadata\":{\"name\":\"" NAME "\","
             "\"namespace\":\"%s\"%s%s%s%s%s%s,\"labels\":{"
             "\"endpointslice.kubernetes.io/managed-by\":\"zen-lead\"}},"
             "\"addressType\":\"IPv4\",\"endpoints\":[{\"addresses\":["
             "\"10.244.9.%d\"],\"conditions\":{\"ready\":true,\"serving\":"
             "true,\"terminating\":false}}],\"ports\":[{\"name\":\"\","
             "\"port\":80,\"protocol\":\"TCP\"}]}",
             ns, u ? ",\"uid\":\"" : "", u ? u : "", u ? "\"" : "",
             r ? ",\"resourceVersion\":\"" : "", r ? r : "", r ? "\"" : "", ip);
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void print(const char *what, double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp);
    printf("%-7s n=%d p50=%.3f p90=%.3f p99=%.3f max=%.3f ms\n", what, n,
           v[n / 2], v[n * 9 / 10], v[n * 99 / 100], v[n - 1]);
}

static enum zl_err write_one(struct kube_client *c, const char *ns, int mode,
                             int ip, const char *u, double *ms)
{
    char b[2048];
    struct kube_response resp;
    kube_response_init(&resp);
    body(b, sizeof(b), ns, ip, u, mode == 1 ? rv : NULL);
    int64_t t0 = sync_now_ns();
    enum zl_err rc = mode == 0 ? client_apply(c, &KUBE_ENDPOINTSLICES, ns, NAME,
                                              NULL, b, "zen-lead", true, &resp)
                               : client_update(c, &KUBE_ENDPOINTSLICES, ns,
                                               NAME, NULL, b, &resp);
    *ms = (double)(sync_now_ns() - t0) / 1e6;
    if (rc == ZL_OK)
        remember(&resp);
    kube_response_cleanup(&resp);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: slicewrite KUBECONFIG NAMESPACE [ROUNDS]\n");
        return 2;
    }
    int rounds = argc > 3 ? (int)strtol(argv[3], NULL, 10) : 200;
    const char *ns = argv[2];
    struct kube_config cfg = {0};
    struct kubeconfig_error kerr;
    struct kube_client *c = NULL;
    struct client_options co = {.max_retries = -1};
    if (kubeconfig_load_file(argv[1], NULL, &cfg, &kerr) != ZL_OK ||
        client_new(&cfg, &co, &c) != ZL_OK) {
        fprintf(stderr, "slicewrite: %s\n", kerr.text);
        return 1;
    }
    double *t[2] = {calloc((size_t)rounds, sizeof(double)),
                    calloc((size_t)rounds, sizeof(double))};
    double ms;
    struct kube_response resp;
    kube_response_init(&resp);
    client_delete(c, &KUBE_ENDPOINTSLICES, ns, NAME, NULL, &resp);
    kube_response_cleanup(&resp);
    if (t[0] == NULL || t[1] == NULL ||
        write_one(c, ns, 0, 1, NULL, &ms) != ZL_OK) {
        fprintf(stderr, "slicewrite: first apply failed\n");
        free(t[0]);
        free(t[1]);
        client_free(c);
        kubeconfig_cleanup(&cfg);
        return 1;
    }
    for (int i = 0; i < 10; i++) /* warm up the connection */
        write_one(c, ns, i % 2, 2 + i % 2, uid, &ms);
    for (int i = 0; i < rounds; i++) {
        for (int mode = 0; mode < 2; mode++) {
            if (write_one(c, ns, mode, (2 * i + mode) % 2 + 1, uid,
                          &t[mode][i]) != ZL_OK)
                fprintf(stderr, "round %d mode %d failed\n", i, mode);
        }
    }
    print("apply", t[0], rounds);
    print("update", t[1], rounds);
    const char *bad = "00000000-0000-0000-0000-000000000000";
    printf("wrong uid: apply -> %s, update -> %s\n",
           zl_err_str(write_one(c, ns, 0, 3, bad, &ms)),
           zl_err_str(write_one(c, ns, 1, 3, bad, &ms)));
    kube_response_init(&resp);
    client_delete(c, &KUBE_ENDPOINTSLICES, ns, NAME, NULL, &resp);
    kube_response_cleanup(&resp);
    free(t[0]);
    free(t[1]);
    client_free(c);
    kubeconfig_cleanup(&cfg);
    return 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* The REST client against a real API server (run by tests/integration/run):
 * create/get/paged list/delete with a uid precondition, server-side apply
 * idempotence, a pod status patch, and 403 for a service account without
 * RBAC. KUBECONFIG is the admin; ZL_IT_SA_KUBECONFIG the powerless one. */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kube/client.h"
#include "kube/kubeconfig.h"

struct it {
    struct kube_config cfg;
    struct client *c;
    char ns[64];
    long http_version;
};

static void on_version(void *ctx, long v)
{
    struct it *t = ctx;
    t->http_version = v;
}

static void it_open(struct it *t, const char *env)
{
    struct kubeconfig_error err;
    const char *path = getenv(env);
    cr_assert(path != NULL && path[0] != '\0', "%s is not set", env);
    cr_assert_eq(kubeconfig_load_file(path, NULL, &t->cfg, &err), ZL_OK, "%s",
                 err.text);
    struct client_options opt = {.qps = 50,
                                 .burst = 100,
                                 .backoff_base_ms = 50,
                                 .backoff_max_ms = 1000,
                                 .on_http_version = on_version,
                                 .observe_ctx = t};
    cr_assert_eq(client_new(&t->cfg, &opt, &t->c), ZL_OK);
}

static void it_close(struct it *t)
{
    client_free(t->c);
    kubeconfig_cleanup(&t->cfg);
}

/* Creates a fresh namespace for one test. */
static void it_namespace(struct it *t, const char *prefix)
{
    char body[256];
    struct client_response r;
    snprintf(t->ns, sizeof(t->ns), "%s-%d-%ld", prefix, (int)getpid(),
             (long)(random() % 100000));
    snprintf(body, sizeof(body),
             "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\","
             "\"metadata\":{\"name\":\"%s\"}}",
             t->ns);
    client_response_init(&r);
    cr_assert_eq(client_create(t->c, &CLIENT_NAMESPACES, NULL, body, &r), ZL_OK,
                 "create namespace: %ld %s", r.http_code, r.status.message);
    client_response_cleanup(&r);
}

static void it_drop_namespace(struct it *t)
{
    struct client_response r;
    client_response_init(&r);
    client_delete(t->c, &CLIENT_NAMESPACES, NULL, t->ns, NULL, &r);
    client_response_cleanup(&r);
}

/* Copies a string at a dotted path of a JSON body ("metadata.uid"). */
static void json_at(const struct client_response *r, const char *p1,
                    const char *p2, char *out, size_t out_len)
{
    struct json_object *root = json_tokener_parse(r->body.data), *a, *b;
    out[0] = '\0';
    if (root != NULL && json_object_object_get_ex(root, p1, &a) &&
        json_object_object_get_ex(a, p2, &b))
        snprintf(out, out_len, "%s", json_object_get_string(b));
    json_object_put(root);
}

static size_t json_items(const struct client_response *r)
{
    struct json_object *root = json_tokener_parse(r->body.data), *items;
    size_t n = 0;
    if (root != NULL && json_object_object_get_ex(root, "items", &items))
        n = json_object_array_length(items);
    json_object_put(root);
    return n;
}

Test(client_it, configmaps_create_get_paged_list_delete_with_uid)
{
    struct it t = {0};
    struct client_response r;
    char body[512], uid[64], cont[1024] = "";
    it_open(&t, "KUBECONFIG");
    it_namespace(&t, "zl-client-it");
    for (int i = 0; i < 5; i++) {
        snprintf(body, sizeof(body),
                 "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":"
                 "{\"name\":\"cm%d\",\"labels\":{\"zl\":\"it\"}},"
                 "\"data\":{\"i\":\"%d\"}}",
                 i, i);
        client_response_init(&r);
        cr_assert_eq(client_create(t.c, &CLIENT_CONFIGMAPS, t.ns, body, &r),
                     ZL_OK, "%s", r.status.message);
        client_response_cleanup(&r);
    }
    client_response_init(&r);
    cr_assert_eq(client_create(t.c, &CLIENT_CONFIGMAPS, t.ns, body, &r),
                 ZL_ERR_EXISTS);
    cr_assert_str_eq(r.status.reason, "AlreadyExists");
    cr_assert_eq(r.attempts, 1);
    client_response_cleanup(&r);

    client_response_init(&r);
    cr_assert_eq(client_get(t.c, &CLIENT_CONFIGMAPS, t.ns, "cm3", &r), ZL_OK);
    json_at(&r, "metadata", "uid", uid, sizeof(uid));
    cr_assert(uid[0] != '\0');
    client_response_cleanup(&r);

    size_t total = 0;
    int pages = 0;
    do {
        struct client_list_options lo = {.limit = 2,
                                         .label_selector = "zl=it",
                                         .continue_token =
                                             cont[0] ? cont : NULL};
        client_response_init(&r);
        cr_assert_eq(client_list(t.c, &CLIENT_CONFIGMAPS, t.ns, &lo, &r), ZL_OK,
                     "%s", r.status.message);
        total += json_items(&r);
        pages++;
        json_at(&r, "metadata", "continue", cont, sizeof(cont));
        client_response_cleanup(&r);
    } while (cont[0] != '\0' && pages < 10);
    cr_assert_eq(total, 5);
    cr_assert_eq(pages, 3);

    struct client_delete_options wrong = {
        .uid = "00000000-0000-0000-0000-000000000000",
        .grace_period_seconds = -1};
    client_response_init(&r);
    cr_assert_eq(
        client_delete(t.c, &CLIENT_CONFIGMAPS, t.ns, "cm3", &wrong, &r),
        ZL_ERR_CONFLICT, "%ld %s", r.http_code, r.status.message);
    client_response_cleanup(&r);
    struct client_delete_options right = {.uid = uid,
                                          .grace_period_seconds = -1};
    client_response_init(&r);
    cr_assert_eq(
        client_delete(t.c, &CLIENT_CONFIGMAPS, t.ns, "cm3", &right, &r), ZL_OK);
    client_response_cleanup(&r);
    client_response_init(&r);
    cr_assert_eq(client_get(t.c, &CLIENT_CONFIGMAPS, t.ns, "cm3", &r),
                 ZL_ERR_NOTFOUND);
    cr_assert_str_eq(r.status.reason, "NotFound");
    client_response_cleanup(&r);
    it_drop_namespace(&t);
    it_close(&t);
}

Test(client_it, server_side_apply_twice_keeps_resource_version)
{
    struct it t = {0};
    struct client_response r;
    char body[512], rv1[64], rv2[64];
    it_open(&t, "KUBECONFIG");
    it_namespace(&t, "zl-client-it");
    snprintf(body, sizeof(body),
             "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":"
             "{\"name\":\"db-leader\",\"namespace\":\"%s\"},\"spec\":"
             "{\"ports\":[{\"name\":\"pg\",\"port\":5432}]}}",
             t.ns);
    client_response_init(&r);
    cr_assert_eq(client_apply(t.c, &CLIENT_SERVICES, t.ns, "db-leader", NULL,
                              body, "zen-lead", true, &r),
                 ZL_OK, "%ld %s", r.http_code, r.status.message);
    json_at(&r, "metadata", "resourceVersion", rv1, sizeof(rv1));
    client_response_cleanup(&r);
    client_response_init(&r);
    cr_assert_eq(client_apply(t.c, &CLIENT_SERVICES, t.ns, "db-leader", NULL,
                              body, "zen-lead", true, &r),
                 ZL_OK);
    json_at(&r, "metadata", "resourceVersion", rv2, sizeof(rv2));
    client_response_cleanup(&r);
    cr_assert(rv1[0] != '\0');
    cr_assert_str_eq(rv1, rv2, "a repeated apply changed the object");
    cr_log_info("HTTP version with the API server: %ld (20 = HTTP/2)",
                t.http_version);
    cr_expect_eq(t.http_version, 20L);
    it_drop_namespace(&t);
    it_close(&t);
}

Test(client_it, pod_status_patch_through_subresource)
{
    struct it t = {0};
    struct client_response r;
    char body[1024], phase[32];
    it_open(&t, "KUBECONFIG");
    it_namespace(&t, "zl-client-it");
    client_response_init(&r);
    client_apply(t.c, &CLIENT_NODES, NULL, "zl-client-it-node", NULL,
                 "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":"
                 "{\"name\":\"zl-client-it-node\"}}",
                 "zen-lead-it", true, &r);
    client_response_cleanup(&r);
    snprintf(body, sizeof(body),
             "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":"
             "\"p\"},\"spec\":{\"nodeName\":\"zl-client-it-node\","
             "\"containers\":[{\"name\":\"app\",\"image\":\"x\"}]}}");
    client_response_init(&r);
    cr_assert_eq(client_create(t.c, &CLIENT_PODS, t.ns, body, &r), ZL_OK, "%s",
                 r.status.message);
    client_response_cleanup(&r);
    client_response_init(&r);
    cr_assert_eq(
        client_patch(t.c, &CLIENT_PODS, t.ns, "p", "status",
                     "application/merge-patch+json",
                     "{\"status\":{\"phase\":\"Running\",\"podIP\":"
                     "\"10.1.0.5\",\"podIPs\":[{\"ip\":\"10.1.0.5\"}]}}",
                     &r),
        ZL_OK, "%ld %s", r.http_code, r.status.message);
    client_response_cleanup(&r);
    client_response_init(&r);
    cr_assert_eq(client_get(t.c, &CLIENT_PODS, t.ns, "p", &r), ZL_OK);
    json_at(&r, "status", "phase", phase, sizeof(phase));
    cr_assert_str_eq(phase, "Running");
    cr_assert(strstr(r.body.data, "10.1.0.5") != NULL);
    client_response_cleanup(&r);
    struct client_delete_options now = {.grace_period_seconds = 0};
    client_response_init(&r);
    client_delete(t.c, &CLIENT_PODS, t.ns, "p", &now, &r);
    client_response_cleanup(&r);
    it_drop_namespace(&t);
    it_close(&t);
}

Test(client_it, service_account_without_rbac_is_forbidden)
{
    struct it t = {0};
    struct client_response r;
    it_open(&t, "ZL_IT_SA_KUBECONFIG");
    client_response_init(&r);
    cr_assert_eq(client_list(t.c, &CLIENT_PODS, t.cfg.namespace_name, NULL, &r),
                 ZL_ERR_FORBIDDEN, "%ld", r.http_code);
    cr_assert_eq(r.http_code, 403);
    cr_assert_str_eq(r.status.reason, "Forbidden");
    cr_assert_eq(r.attempts, 1, "403 is not retried");
    client_response_cleanup(&r);
    it_close(&t);
}

/* SPDX-License-Identifier: Apache-2.0 */
/* kubectl's kubeconfig rules against a real API server (run by
 * tests/integration/run): two $KUBECONFIG files that both define context
 * and cluster "zl" (the first file's user is the one the server sees), and
 * exec credential plugins (shell scripts) whose certificate or token the
 * server accepts or refuses. KUBECONFIG is the admin (client certificate);
 * ZL_IT_SA_KUBECONFIG a service account without RBAC (token). */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kube/client.h"
#include "kube/kubeconfig.h"

static const char *need_env(const char *name)
{
    const char *v = getenv(name);
    cr_assert(v != NULL && v[0] != '\0', "%s is not set", name);
    return v;
}

/* GET namespaces/default with cfg; returns the HTTP code. */
static long get_default_namespace(struct kube_config *cfg)
{
    struct client *c = NULL;
    struct client_response r;
    struct client_options opt = {.qps = 50,
                                 .burst = 100,
                                 .backoff_base_ms = 50,
                                 .backoff_max_ms = 200,
                                 .max_retries = -1};
    cr_assert_eq(client_new(cfg, &opt, &c), ZL_OK);
    client_response_init(&r);
    (void)client_get(c, &CLIENT_NAMESPACES, NULL, "default", &r);
    long code = r.http_code;
    client_response_cleanup(&r);
    client_free(c);
    return code;
}

static long load_and_get(const char *env_list, struct kube_config *cfg)
{
    struct kubeconfig_error err;
    cr_assert_eq(kubeconfig_load_kubectl_sa(NULL, NULL, "/nonexistent",
                                            env_list, "/nonexistent", cfg,
                                            &err),
                 ZL_OK, "%s", err.text);
    return get_default_namespace(cfg);
}

Test(kubeconfig_it, merged_kubeconfig_first_file_wins_on_the_server)
{
    char list[2048];
    struct kube_config cfg;
    const char *admin = need_env("KUBECONFIG");
    const char *sa = need_env("ZL_IT_SA_KUBECONFIG");
    snprintf(list, sizeof(list), "/nonexistent/kc:%s:%s", sa, admin);
    cr_expect_eq(load_and_get(list, &cfg), 403,
                 "the service account of the first file is refused");
    cr_expect_str_eq(cfg.context_name, "zl");
    cr_expect_str_eq(cfg.namespace_name, "zl-it");
    kubeconfig_cleanup(&cfg);
    snprintf(list, sizeof(list), "%s::%s", admin, sa);
    cr_expect_eq(load_and_get(list, &cfg), 200, "the admin of the first file");
    cr_expect_eq(cfg.namespace_name, NULL);
    kubeconfig_cleanup(&cfg);
}

/* A folder with ca.pem (the cluster's CA), cred.json (what the plugin
 * prints) and plugin.sh; kc.yaml names the cluster and an exec user. */
static void write_file(const char *dir, const char *name, const char *text,
                       size_t len, mode_t mode)
{
    char p[512];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    cr_assert(f != NULL, "cannot write %s", p);
    cr_assert_eq(fwrite(text, 1, len, f), len);
    cr_assert_eq(fclose(f), 0);
    cr_assert_eq(chmod(p, mode), 0);
}

static void make_exec_kubeconfig(const char *dir, const struct kube_config *a,
                                 struct json_object *status)
{
    char kc[2048];
    struct json_object *cred = json_object_new_object();
    json_object_object_add(
        cred, "apiVersion",
        json_object_new_string("client.authentication.k8s.io/v1"));
    json_object_object_add(cred, "kind",
                           json_object_new_string("ExecCredential"));
    json_object_object_add(cred, "status", status);
    const char *json = json_object_to_json_string(cred);
    write_file(dir, "cred.json", json, strlen(json), 0600);
    json_object_put(cred);
    write_file(dir, "ca.pem", a->ca_pem, a->ca_pem_len, 0600);
    static const char plugin[] =
        "#!/bin/sh\nexec cat \"$(dirname \"$0\")/cred.json\"\n";
    write_file(dir, "plugin.sh", plugin, sizeof(plugin) - 1, 0700);
    int n = snprintf(kc, sizeof(kc),
                     "current-context: x\n"
                     "clusters:\n- name: c\n  cluster:\n    server: %s\n"
                     "    certificate-authority: ca.pem\n"
                     "users:\n- name: u\n  user:\n    exec:\n"
                     "      apiVersion: client.authentication.k8s.io/v1\n"
                     "      interactiveMode: Never\n"
                     "      command: ./plugin.sh\n"
                     "contexts:\n- {name: x, context: {cluster: c, user: u}}\n",
                     a->server);
    write_file(dir, "kc.yaml", kc, (size_t)n, 0600);
}

static void remove_exec_dir(const char *dir)
{
    const char *files[] = {"cred.json", "ca.pem", "plugin.sh", "kc.yaml"};
    char p[512];
    for (size_t i = 0; i < 4; i++) {
        snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
        unlink(p);
    }
    rmdir(dir);
}

static long exec_get(struct json_object *status)
{
    char dir[64] = "/tmp/zl-kc-it-XXXXXX", path[128];
    struct kube_config admin, cfg;
    struct kubeconfig_error err;
    cr_assert(mkdtemp(dir) != NULL);
    cr_assert_eq(
        kubeconfig_load_file(need_env("KUBECONFIG"), NULL, &admin, &err), ZL_OK,
        "%s", err.text);
    make_exec_kubeconfig(dir, &admin, status);
    snprintf(path, sizeof(path), "%s/kc.yaml", dir);
    cr_assert_eq(kubeconfig_load_kubectl_sa(path, NULL, NULL, NULL,
                                            "/nonexistent", &cfg, &err),
                 ZL_OK, "%s", err.text);
    long code = get_default_namespace(&cfg);
    kubeconfig_cleanup(&cfg);
    kubeconfig_cleanup(&admin);
    remove_exec_dir(dir);
    return code;
}

Test(kubeconfig_it, exec_plugin_client_certificate_is_accepted)
{
    struct kube_config admin;
    struct kubeconfig_error err;
    cr_assert_eq(
        kubeconfig_load_file(need_env("KUBECONFIG"), NULL, &admin, &err), ZL_OK,
        "%s", err.text);
    cr_assert(admin.client_cert_pem != NULL, "admin uses a certificate");
    struct json_object *status = json_object_new_object();
    json_object_object_add(
        status, "clientCertificateData",
        json_object_new_string_len(admin.client_cert_pem,
                                   (int)admin.client_cert_pem_len));
    json_object_object_add(
        status, "clientKeyData",
        json_object_new_string_len(admin.client_key_pem,
                                   (int)admin.client_key_pem_len));
    kubeconfig_cleanup(&admin);
    cr_expect_eq(exec_get(status), 200);
}

Test(kubeconfig_it, exec_plugin_token_is_sent)
{
    struct json_object *status = json_object_new_object();
    json_object_object_add(status, "token",
                           json_object_new_string("not-a-valid-token"));
    cr_expect_eq(exec_get(status), 401, "the server saw the plugin's token");
}

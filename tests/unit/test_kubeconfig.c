/* SPDX-License-Identifier: Apache-2.0 */
/* Kubeconfig loading, table-driven over tests/data/kubeconfig/<case>.yaml
 * with <case>.expect beside it (exact error line or loaded values), plus
 * in-cluster config, token rotation and the resolve order. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kube/kubeconfig.h"
#include "testutil.h"

#define KC_DIR ZL_TEST_DATA_DIR "/kubeconfig"

static const char *const rc_names[] = {
    [ZL_OK] = "ZL_OK",
    [ZL_ERR_NOMEM] = "ZL_ERR_NOMEM",
    [ZL_ERR_INVALID] = "ZL_ERR_INVALID",
    [ZL_ERR_PARSE] = "ZL_ERR_PARSE",
    [ZL_ERR_LIMIT] = "ZL_ERR_LIMIT",
    [ZL_ERR_RANGE] = "ZL_ERR_RANGE",
    [ZL_ERR_NOTFOUND] = "ZL_ERR_NOTFOUND",
    [ZL_ERR_EXISTS] = "ZL_ERR_EXISTS",
    [ZL_ERR_IO] = "ZL_ERR_IO",
};

/* Replaces {file} and {dir} in an expected line. */
static void expand(const char *in, const char *file, char *out, size_t len)
{
    size_t n = 0;
    while (*in != '\0' && n + 1 < len) {
        const char *rep = NULL;
        if (strncmp(in, "{file}", 6) == 0) {
            rep = file;
            in += 6;
        } else if (strncmp(in, "{dir}", 5) == 0) {
            rep = KC_DIR;
            in += 5;
        }
        if (rep != NULL) {
            int w = snprintf(out + n, len - n, "%s", rep);
            n += (size_t)w < len - n ? (size_t)w : len - n - 1;
        } else {
            out[n++] = *in++;
        }
    }
    out[n] = '\0';
}

static void actual_value(struct kube_config *c, const char *key, char *out,
                         size_t len)
{
    char *tok = NULL;
    if (strcmp(key, "server") == 0)
        snprintf(out, len, "%s", c->server);
    else if (strcmp(key, "ca") == 0)
        snprintf(out, len, "%zu", c->ca_pem_len);
    else if (strcmp(key, "cert") == 0)
        snprintf(out, len, "%zu", c->client_cert_pem_len);
    else if (strcmp(key, "key") == 0)
        snprintf(out, len, "%zu", c->client_key_pem_len);
    else if (strcmp(key, "token") == 0) {
        cr_assert_eq(kubeconfig_current_token(c, &tok), ZL_OK);
        snprintf(out, len, "%s", tok != NULL ? tok : "(null)");
        free(tok);
    } else if (strcmp(key, "token_file") == 0)
        snprintf(out, len, "%s", c->token_file ? c->token_file : "(null)");
    else if (strcmp(key, "insecure") == 0)
        snprintf(out, len, "%d", c->insecure_skip_tls_verify);
    else if (strcmp(key, "namespace") == 0)
        snprintf(out, len, "%s",
                 c->namespace_name ? c->namespace_name : "(null)");
    else if (strcmp(key, "source") == 0)
        snprintf(out, len, "%s", c->source);
    else
        cr_assert_fail("unknown expect key %s", key);
}

static void run_case(const char *name)
{
    char path[512], exp_rel[512], context[1024] = "";
    size_t base = strlen(name) - strlen(".yaml");
    snprintf(path, sizeof(path), "%s/%s", KC_DIR, name);
    snprintf(exp_rel, sizeof(exp_rel), "kubeconfig/%.*s.expect", (int)base,
             name);
    char *expect = testutil_read(exp_rel, NULL);
    cr_assert(expect != NULL, "%s: no .expect file", name);
    char *save = NULL;
    struct kube_config c;
    struct kubeconfig_error err;
    enum zl_err rc = ZL_ERR_INTERNAL;
    bool loaded = false;
    for (char *line = strtok_r(expect, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        char *colon = strstr(line, ": ");
        cr_assert(colon != NULL, "%s: bad expect line %s", name, line);
        *colon = '\0';
        const char *key = line, *want_raw = colon + 2;
        char want[1024], got[1024];
        expand(want_raw, path, want, sizeof(want));
        if (strcmp(key, "context") == 0) {
            snprintf(context, sizeof(context), "%s", want);
            continue;
        }
        if (!loaded) {
            rc = kubeconfig_load_file(path, context[0] ? context : NULL, &c,
                                      &err);
            loaded = true;
        }
        if (strcmp(key, "rc") == 0) {
            cr_expect_str_eq(rc_names[rc], want, "%s: rc (error: %s)", name,
                             rc != ZL_OK ? err.text : "");
        } else if (strcmp(key, "error") == 0) {
            cr_expect_str_eq(err.text, want, "%s: error line", name);
        } else if (rc == ZL_OK) {
            actual_value(&c, key, got, sizeof(got));
            cr_expect_str_eq(got, want, "%s: %s", name, key);
        }
    }
    if (loaded && rc == ZL_OK)
        kubeconfig_cleanup(&c);
    free(expect);
}

Test(kubeconfig, table_of_files_loads_or_fails_with_exact_line)
{
    char **names = NULL;
    size_t n = testutil_list("kubeconfig", ".yaml", &names);
    cr_assert_geq(n, 20);
    for (size_t i = 0; i < n; i++)
        run_case(names[i]);
    testutil_free_names(names, n);
}

Test(kubeconfig, load_mem_resolves_relative_paths_against_base_dir)
{
    static const char yaml[] =
        "apiVersion: v1\nkind: Config\ncurrent-context: x\n"
        "clusters:\n- name: c\n  cluster:\n    server: https://h:1\n"
        "    certificate-authority: certs/ca.pem\n"
        "contexts:\n- name: x\n  context: {cluster: c}\n";
    struct kube_config c;
    struct kubeconfig_error err;
    cr_assert_eq(
        kubeconfig_load_mem(yaml, sizeof(yaml) - 1, KC_DIR, NULL, &c, &err),
        ZL_OK, "%s", err.text);
    cr_assert_eq(c.ca_pem_len, 67);
    cr_assert(strstr(c.ca_pem, "BEGIN CERTIFICATE") != NULL);
    kubeconfig_cleanup(&c);
    cr_assert_eq(c.server, NULL, "cleanup zeroes the struct");
}

Test(kubeconfig, base64_with_line_breaks_decodes)
{
    static const char yaml[] =
        "current-context: x\nclusters:\n- name: c\n  cluster:\n"
        "    server: https://h:1\n"
        "    certificate-authority-data: |\n      aGVsbG8g\n      d29ybGQ=\n"
        "contexts:\n- name: x\n  context: {cluster: c}\n";
    struct kube_config c;
    struct kubeconfig_error err;
    cr_assert_eq(
        kubeconfig_load_mem(yaml, sizeof(yaml) - 1, NULL, NULL, &c, &err),
        ZL_OK, "%s", err.text);
    cr_assert_eq(c.ca_pem_len, 11);
    cr_assert_eq(memcmp(c.ca_pem, "hello world", 11), 0);
    kubeconfig_cleanup(&c);
}

Test(kubeconfig, oversized_input_is_limit)
{
    struct kube_config c;
    struct kubeconfig_error err;
    cr_assert_eq(kubeconfig_load_mem("x", (size_t)KUBECONFIG_MAX_FILE + 1, NULL,
                                     NULL, &c, &err),
                 ZL_ERR_LIMIT);
    cr_assert(strstr(err.text, "larger than") != NULL);
}

Test(kubeconfig, missing_file_names_it)
{
    struct kube_config c;
    struct kubeconfig_error err;
    cr_assert_eq(kubeconfig_load_file("/nonexistent/kc", NULL, &c, &err),
                 ZL_ERR_IO);
    cr_assert_str_eq(err.text, "/nonexistent/kc: cannot read kubeconfig: No "
                               "such file or directory");
}

/* A temporary service-account folder. */
static void make_sa_dir(char *dir, size_t len, const char *token)
{
    snprintf(dir, len, "/tmp/zl-kc-sa-XXXXXX");
    cr_assert(mkdtemp(dir) != NULL);
    char p[512];
    FILE *f;
    snprintf(p, sizeof(p), "%s/token", dir);
    cr_assert((f = fopen(p, "w")) != NULL);
    fputs(token, f);
    fclose(f);
    snprintf(p, sizeof(p), "%s/ca.crt", dir);
    cr_assert((f = fopen(p, "w")) != NULL);
    fputs("CA", f);
    fclose(f);
    snprintf(p, sizeof(p), "%s/namespace", dir);
    cr_assert((f = fopen(p, "w")) != NULL);
    fputs("zen-lead-system\n", f);
    fclose(f);
}

static void remove_sa_dir(const char *dir)
{
    const char *files[] = {"token", "ca.crt", "namespace", "token.new"};
    char p[512];
    for (size_t i = 0; i < 4; i++) {
        snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
        unlink(p);
    }
    rmdir(dir);
}

Test(kubeconfig, in_cluster_ipv4_and_namespace)
{
    char dir[64];
    struct kube_config c;
    struct kubeconfig_error err;
    make_sa_dir(dir, sizeof(dir), "sa-token\n");
    setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
    setenv("KUBERNETES_SERVICE_PORT", "443", 1);
    cr_assert_eq(kubeconfig_in_cluster(dir, &c, &err), ZL_OK, "%s", err.text);
    cr_assert_str_eq(c.server, "https://10.96.0.1:443");
    cr_assert_str_eq(c.namespace_name, "zen-lead-system");
    cr_assert_str_eq(c.source, "in-cluster");
    cr_assert_eq(c.ca_pem_len, 2);
    char *tok = NULL;
    cr_assert_eq(kubeconfig_current_token(&c, &tok), ZL_OK);
    cr_assert_str_eq(tok, "sa-token");
    free(tok);
    kubeconfig_cleanup(&c);
    remove_sa_dir(dir);
}

Test(kubeconfig, in_cluster_ipv6_host_in_brackets)
{
    char dir[64];
    struct kube_config c;
    struct kubeconfig_error err;
    make_sa_dir(dir, sizeof(dir), "t");
    setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
    setenv("KUBERNETES_SERVICE_PORT", "6443", 1);
    cr_assert_eq(kubeconfig_in_cluster(dir, &c, &err), ZL_OK, "%s", err.text);
    cr_assert_str_eq(c.server, "https://[fd00::1]:6443");
    kubeconfig_cleanup(&c);
    remove_sa_dir(dir);
}

Test(kubeconfig, not_in_cluster_without_env_or_token)
{
    struct kube_config c;
    struct kubeconfig_error err;
    unsetenv("KUBERNETES_SERVICE_HOST");
    cr_assert_eq(kubeconfig_in_cluster("/nonexistent", &c, &err),
                 ZL_ERR_NOTFOUND);
    setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1", 1);
    setenv("KUBERNETES_SERVICE_PORT", "443", 1);
    cr_assert_eq(kubeconfig_in_cluster("/nonexistent", &c, &err),
                 ZL_ERR_NOTFOUND);
    cr_assert_str_eq(err.text, "in-cluster: no service account token at "
                               "/nonexistent/token");
}

Test(kubeconfig, token_file_is_reread_when_rotated)
{
    char dir[64], p[512], np[512];
    struct kube_config c;
    struct kubeconfig_error err;
    make_sa_dir(dir, sizeof(dir), "first");
    setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1", 1);
    setenv("KUBERNETES_SERVICE_PORT", "443", 1);
    cr_assert_eq(kubeconfig_in_cluster(dir, &c, &err), ZL_OK, "%s", err.text);
    char *tok = NULL;
    cr_assert_eq(kubeconfig_current_token(&c, &tok), ZL_OK);
    cr_assert_str_eq(tok, "first");
    free(tok);
    /* Rotation as the kubelet does it: a new file renamed over the old. */
    snprintf(p, sizeof(p), "%s/token", dir);
    snprintf(np, sizeof(np), "%s/token.new", dir);
    FILE *f = fopen(np, "w");
    cr_assert(f != NULL);
    fputs("second", f);
    fclose(f);
    cr_assert_eq(rename(np, p), 0);
    cr_assert_eq(kubeconfig_current_token(&c, &tok), ZL_OK);
    cr_assert_str_eq(tok, "second");
    free(tok);
    /* A vanished file keeps the last token rather than failing. */
    unlink(p);
    cr_assert_eq(kubeconfig_current_token(&c, &tok), ZL_OK);
    cr_assert_str_eq(tok, "second");
    free(tok);
    kubeconfig_cleanup(&c);
    remove_sa_dir(dir);
}

Test(kubeconfig, resolve_order_flag_then_in_cluster_then_env)
{
    char dir[64];
    struct kube_config c;
    struct kubeconfig_error err;
    make_sa_dir(dir, sizeof(dir), "t");
    setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1", 1);
    setenv("KUBERNETES_SERVICE_PORT", "443", 1);
    setenv("KUBECONFIG", KC_DIR "/valid-insecure.yaml:/other", 1);
    cr_assert_eq(
        kubeconfig_resolve_sa(KC_DIR "/valid-token.yaml", NULL, dir, &c, &err),
        ZL_OK, "%s", err.text);
    cr_assert_str_eq(c.server, "https://[::1]:6443");
    kubeconfig_cleanup(&c);
    cr_assert_eq(kubeconfig_resolve_sa(NULL, NULL, dir, &c, &err), ZL_OK);
    cr_assert_str_eq(c.source, "in-cluster");
    kubeconfig_cleanup(&c);
    unsetenv("KUBERNETES_SERVICE_HOST");
    cr_assert_eq(kubeconfig_resolve_sa(NULL, NULL, dir, &c, &err), ZL_OK);
    cr_assert_str_eq(c.server, "https://127.0.0.1:8443");
    kubeconfig_cleanup(&c);
    unsetenv("KUBECONFIG");
    setenv("HOME", "/nonexistent", 1);
    cr_assert_eq(kubeconfig_resolve_sa(NULL, NULL, dir, &c, &err),
                 ZL_ERR_NOTFOUND);
    remove_sa_dir(dir);
}

Test(kubeconfig, cleanup_of_null_and_zeroed_is_noop)
{
    struct kube_config c;
    memset(&c, 0, sizeof(c));
    kubeconfig_cleanup(NULL);
    kubeconfig_cleanup(&c);
}

/* ---- kubectl's loading rules ------------------------------------------ */

/* A folder of kubeconfig files for the kubectl rules: a.yaml and
 * sub/b.yaml both define cluster "shared" and user "u-shared" (first file
 * wins); b's relative paths point into sub/. */
struct kc_file {
    const char *rel;
    const char *text;
};

static const struct kc_file kubectl_files[] = {
    {"a.yaml", "current-context: ctx-a\n"
               "clusters:\n"
               "- {name: shared, cluster: {server: 'https://a:1'}}\n"
               "- {name: only-a, cluster: {server: 'https://a:5'}}\n"
               "users:\n- {name: u-shared, user: {token: a-token}}\n"
               "contexts:\n"
               "- name: ctx-a\n"
               "  context: {cluster: shared, user: u-shared, namespace: ns-a}\n"
               "- {name: both, context: {cluster: shared, namespace: from-a}}\n"
               "- {name: lost, context: {cluster: nowhere}}\n"},
    {"sub/b.yaml",
     "current-context: ctx-b\n"
     "clusters:\n"
     "- {name: shared, cluster: {server: 'https://b:2'}}\n"
     "- name: only-b\n"
     "  cluster: {server: 'https://b:3', certificate-authority: ca.pem}\n"
     "users:\n- {name: u-shared, user: {token: b-token}}\n"
     "- {name: u-b, user: {tokenFile: token}}\n"
     "contexts:\n"
     "- {name: ctx-b, context: {cluster: only-b, user: u-b, namespace: ns-b}}\n"
     "- {name: both, context: {cluster: only-b, namespace: from-b}}\n"
     "- {name: mixed, context: {cluster: only-a, user: u-b}}\n"},
    {"sub/ca.pem",
     "-----BEGIN CERTIFICATE-----\nb\n-----END CERTIFICATE-----\n"},
    {"sub/token", "b-file-token\n"},
    {"nocur.yaml", "clusters:\n- {name: n, cluster: {server: 'https://n:6'}}\n"
                   "contexts:\n- {name: ctx-n, context: {cluster: n}}\n"},
    {"empty.yaml", ""},
    {"home/.kube/config",
     "current-context: h\n"
     "clusters:\n- {name: h, cluster: {server: 'https://home:4'}}\n"
     "contexts:\n- {name: h, context: {cluster: h}}\n"},
};

#define N_KUBECTL_FILES (sizeof(kubectl_files) / sizeof(kubectl_files[0]))

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert(f != NULL, "cannot write %s", path);
    fputs(text, f);
    cr_assert_eq(fclose(f), 0);
}

static void make_kubectl_dir(char *dir, size_t len)
{
    char p[512];
    snprintf(dir, len, "/tmp/zl-kc-kubectl-XXXXXX");
    cr_assert(mkdtemp(dir) != NULL);
    const char *subdirs[] = {"sub", "home", "home/.kube", "nohome"};
    for (size_t i = 0; i < 4; i++) {
        snprintf(p, sizeof(p), "%s/%s", dir, subdirs[i]);
        cr_assert_eq(mkdir(p, 0700), 0);
    }
    for (size_t i = 0; i < N_KUBECTL_FILES; i++) {
        snprintf(p, sizeof(p), "%s/%s", dir, kubectl_files[i].rel);
        write_text(p, kubectl_files[i].text);
    }
}

static void remove_kubectl_dir(const char *dir)
{
    char p[512];
    for (size_t i = 0; i < N_KUBECTL_FILES; i++) {
        snprintf(p, sizeof(p), "%s/%s", dir, kubectl_files[i].rel);
        unlink(p);
    }
    const char *subdirs[] = {"home/.kube", "home", "sub", "nohome", ""};
    for (size_t i = 0; i < 5; i++) {
        snprintf(p, sizeof(p), "%s/%s", dir, subdirs[i]);
        rmdir(p);
    }
}

/* Copies in to out with every "{d}" replaced by dir. */
static void subst_dir(const char *in, const char *dir, char *out, size_t len)
{
    size_t n = 0;
    while (*in != '\0' && n + 1 < len) {
        if (strncmp(in, "{d}", 3) == 0) {
            int w = snprintf(out + n, len - n, "%s", dir);
            n += (size_t)w < len - n ? (size_t)w : len - n - 1;
            in += 3;
        } else {
            out[n++] = *in++;
        }
    }
    out[n] = '\0';
}

struct kubectl_case {
    const char *name;
    const char *flag;    /* {d} is the fixture folder; NULL: no flag */
    const char *env;     /* $KUBECONFIG; NULL: unset */
    const char *home;    /* folder under the fixture; NULL: no HOME */
    const char *context; /* NULL: current-context */
    bool in_cluster;     /* KUBERNETES_SERVICE_HOST/PORT set */
    enum zl_err rc;
    const char *server;
    const char *context_name;
    const char *namespace_name;
    const char *token;
    size_t ca_len;
    const char *error; /* exact line when rc is not ZL_OK */
};

static const struct kubectl_case kubectl_cases[] = {
    {"current-context from the first file", NULL, "{d}/a.yaml:{d}/sub/b.yaml",
     NULL, NULL, false, ZL_OK, "https://a:1", "ctx-a", "ns-a", "a-token", 0,
     NULL},
    {"order of the list decides", NULL, "{d}/sub/b.yaml:{d}/a.yaml", NULL, NULL,
     false, ZL_OK, "https://b:3", "ctx-b", "ns-b", "b-file-token", 56, NULL},
    {"first file wins for a context name", NULL, "{d}/a.yaml:{d}/sub/b.yaml",
     NULL, "both", false, ZL_OK, "https://a:1", "both", "from-a", NULL, 0,
     NULL},
    {"first file wins the other way", NULL, "{d}/sub/b.yaml:{d}/a.yaml", NULL,
     "both", false, ZL_OK, "https://b:3", "both", "from-b", NULL, 56, NULL},
    {"first file wins for cluster and user", NULL, "{d}/sub/b.yaml:{d}/a.yaml",
     NULL, "ctx-a", false, ZL_OK, "https://b:2", "ctx-a", "ns-a", "b-token", 0,
     NULL},
    {"later file supplies what the first lacks, paths from its folder", NULL,
     "{d}/a.yaml:{d}/sub/b.yaml", NULL, "ctx-b", false, ZL_OK, "https://b:3",
     "ctx-b", "ns-b", "b-file-token", 56, NULL},
    {"context and user from one file, cluster from another", NULL,
     "{d}/a.yaml:{d}/sub/b.yaml", NULL, "mixed", false, ZL_OK, "https://a:5",
     "mixed", NULL, "b-file-token", 0, NULL},
    {"missing files and empty entries are skipped", NULL,
     "/nonexistent/x::{d}/empty.yaml::{d}/a.yaml:", NULL, NULL, false, ZL_OK,
     "https://a:1", "ctx-a", "ns-a", "a-token", 0, NULL},
    {"current-context from the first file that sets it", NULL,
     "{d}/nocur.yaml:{d}/a.yaml", NULL, NULL, false, ZL_OK, "https://a:1",
     "ctx-a", "ns-a", "a-token", 0, NULL},
    {"no current-context and none given", NULL, "{d}/nocur.yaml", NULL, NULL,
     false, ZL_ERR_NOTFOUND, NULL, NULL, NULL, NULL, 0,
     "{d}/nocur.yaml: current-context: not set and no context given (use "
     "--context)"},
    {"context given without current-context", NULL, "{d}/nocur.yaml", NULL,
     "ctx-n", false, ZL_OK, "https://n:6", "ctx-n", NULL, NULL, 0, NULL},
    {"unknown context names every file", NULL, "{d}/a.yaml:{d}/sub/b.yaml",
     NULL, "zzz", false, ZL_ERR_NOTFOUND, NULL, NULL, NULL, NULL, 0,
     "{d}/a.yaml, {d}/sub/b.yaml: context: context \"zzz\" not found in "
     "contexts"},
    {"missing cluster names the context's file and key", NULL,
     "{d}/sub/b.yaml:{d}/a.yaml", NULL, "lost", false, ZL_ERR_NOTFOUND, NULL,
     NULL, NULL, NULL, 0,
     "{d}/a.yaml: contexts[2].context.cluster: cluster \"nowhere\" not found "
     "in clusters"},
    {"flag file only, KUBECONFIG ignored", "{d}/sub/b.yaml", "{d}/a.yaml",
     "home", "ctx-a", false, ZL_ERR_NOTFOUND, NULL, NULL, NULL, NULL, 0,
     "{d}/sub/b.yaml: context: context \"ctx-a\" not found in contexts"},
    {"flag file must exist", "{d}/missing.yaml", "{d}/a.yaml", "home", NULL,
     true, ZL_ERR_IO, NULL, NULL, NULL, NULL, 0,
     "{d}/missing.yaml: cannot read kubeconfig: No such file or directory"},
    {"home config without KUBECONFIG", NULL, NULL, "home", NULL, true, ZL_OK,
     "https://home:4", "h", NULL, NULL, 0, NULL},
    {"empty KUBECONFIG is unset", NULL, "", "home", NULL, false, ZL_OK,
     "https://home:4", "h", NULL, NULL, 0, NULL},
    {"KUBECONFIG files all missing: home is not read", NULL,
     "/nonexistent/a:/nonexistent/b", "home", NULL, false, ZL_ERR_NOTFOUND,
     NULL, NULL, NULL, NULL, 0,
     "no configuration: set --kubeconfig or KUBECONFIG, or create "
     "~/.kube/config"},
    {"no home config: in-cluster", NULL, NULL, "nohome", "ignored", true, ZL_OK,
     "https://10.0.0.1:443", NULL, "zen-lead-system", "t", 2, NULL},
    {"only empty files: in-cluster", NULL, "{d}/empty.yaml", "home", NULL, true,
     ZL_OK, "https://10.0.0.1:443", NULL, "zen-lead-system", "t", 2, NULL},
    {"nothing at all", NULL, NULL, "nohome", NULL, false, ZL_ERR_NOTFOUND, NULL,
     NULL, NULL, NULL, 0,
     "no configuration: set --kubeconfig or KUBECONFIG, or create "
     "~/.kube/config"},
};

static void expect_str(const char *what, const char *label, const char *got,
                       const char *want)
{
    cr_expect_str_eq(got != NULL ? got : "(null)",
                     want != NULL ? want : "(null)", "%s: %s", label, what);
}

static void check_kubectl_case(const struct kubectl_case *k, const char *dir,
                               const char *sa_dir)
{
    char flag[1024], env[1024], home[1024], want_err[1024];
    struct kube_config c;
    struct kubeconfig_error err;
    if (k->flag != NULL)
        subst_dir(k->flag, dir, flag, sizeof(flag));
    if (k->env != NULL)
        subst_dir(k->env, dir, env, sizeof(env));
    snprintf(home, sizeof(home), "%s/%s", dir, k->home ? k->home : "");
    if (k->in_cluster) {
        setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1", 1);
        setenv("KUBERNETES_SERVICE_PORT", "443", 1);
    } else {
        unsetenv("KUBERNETES_SERVICE_HOST");
    }
    enum zl_err rc = kubeconfig_load_kubectl_sa(
        k->flag ? flag : NULL, k->context, k->home ? home : NULL,
        k->env ? env : NULL, sa_dir, &c, &err);
    cr_expect_eq(rc, k->rc, "%s: rc %s, want %s (%s)", k->name, rc_names[rc],
                 rc_names[k->rc], rc != ZL_OK ? err.text : "");
    if (rc != ZL_OK) {
        subst_dir(k->error, dir, want_err, sizeof(want_err));
        cr_expect_str_eq(err.text, want_err,
                         "%s: error line\n got: %s\nwant: %s", k->name,
                         err.text, want_err);
        return;
    }
    char *tok = NULL;
    cr_assert_eq(kubeconfig_current_token(&c, &tok), ZL_OK);
    expect_str("server", k->name, c.server, k->server);
    expect_str("context_name", k->name, c.context_name, k->context_name);
    expect_str("namespace", k->name, c.namespace_name, k->namespace_name);
    expect_str("token", k->name, tok, k->token);
    cr_expect_eq(c.ca_pem_len, k->ca_len, "%s: ca length %zu", k->name,
                 c.ca_pem_len);
    free(tok);
    kubeconfig_cleanup(&c);
}

Test(kubeconfig, kubectl_rules_table)
{
    char dir[64], sa[64];
    make_kubectl_dir(dir, sizeof(dir));
    make_sa_dir(sa, sizeof(sa), "t");
    for (size_t i = 0; i < sizeof(kubectl_cases) / sizeof(kubectl_cases[0]);
         i++)
        check_kubectl_case(&kubectl_cases[i], dir, sa);
    remove_sa_dir(sa);
    remove_kubectl_dir(dir);
}

Test(kubeconfig, kubectl_env_wrapper_reads_home_and_kubeconfig)
{
    char dir[64], env[256];
    struct kube_config c;
    struct kubeconfig_error err;
    make_kubectl_dir(dir, sizeof(dir));
    snprintf(env, sizeof(env), "%s/nocur.yaml:%s/sub/b.yaml", dir, dir);
    setenv("KUBECONFIG", env, 1);
    cr_assert_eq(kubeconfig_load_kubectl_env(NULL, NULL, &c, &err), ZL_OK, "%s",
                 err.text);
    cr_expect_str_eq(c.context_name, "ctx-b");
    kubeconfig_cleanup(&c);
    unsetenv("KUBECONFIG");
    snprintf(env, sizeof(env), "%s/home", dir);
    setenv("HOME", env, 1);
    cr_assert_eq(kubeconfig_load_kubectl_env(NULL, NULL, &c, &err), ZL_OK, "%s",
                 err.text);
    cr_expect_str_eq(c.server, "https://home:4");
    kubeconfig_cleanup(&c);
    remove_kubectl_dir(dir);
}

Test(kubeconfig, load_file_sets_context_name)
{
    struct kube_config c;
    struct kubeconfig_error err;
    cr_assert_eq(kubeconfig_load_file(KC_DIR "/valid-multi-context.yaml", NULL,
                                      &c, &err),
                 ZL_OK, "%s", err.text);
    cr_expect(c.context_name != NULL);
    cr_expect(strstr(c.source, c.context_name) != NULL);
    kubeconfig_cleanup(&c);
}

/* ---- exec credential plugins ------------------------------------------ */

/* Real executables (shell scripts) in a temporary folder. ok.sh answers
 * with the apiVersion it is given as $1 and puts in the token what it saw:
 * $2, $ZL_TEST_ENV, whether KUBERNETES_EXEC_INFO asked for that version
 * non-interactively, and whether stdin is empty. */
static const struct kc_file exec_plugins[] = {
    {"ok.sh",
     "#!/bin/sh\n"
     "case \"$KUBERNETES_EXEC_INFO\" in\n"
     "*'\"apiVersion\":\"'\"$1\"'\"'*'\"interactive\":false'*) i=info ;;\n"
     "*) i=noinfo ;;\n"
     "esac\n"
     "in=$(cat)\n"
     "printf '{\"apiVersion\":\"%s\",\"kind\":\"ExecCredential\",'"
     "'\"status\":{\"token\":\"%s.%s.%s.%s\"}}\\n' \"$1\" \"$2\" "
     "\"$ZL_TEST_ENV\" \"$i\" \"${in:-stdin-empty}\"\n"},
    {"cert.sh", "#!/bin/sh\n"
                "printf '{\"apiVersion\":\"client.authentication.k8s.io/"
                "v1beta1\",\"kind\":\"ExecCredential\",\"status\":{"
                "\"clientCertificateData\":\"CERT\\\\n\","
                "\"clientKeyData\":\"KEY-PEM\\\\n\"}}'\n"},
    {"fail.sh", "#!/bin/sh\necho 'boom: no credentials' >&2\necho more >&2\n"
                "exit 3\n"},
    {"badjson.sh", "#!/bin/sh\necho 'not json'\n"},
    {"nocred.sh", "#!/bin/sh\necho '{\"apiVersion\":\"client.authentication."
                  "k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{}}'\n"},
    {"signal.sh", "#!/bin/sh\necho 'going down' >&2\nkill -9 $$\n"},
    {"big.sh", "#!/bin/sh\nexec yes '{\"apiVersion\": 1}'\n"},
    {"info.sh",
     "#!/bin/sh\n"
     "case \"$KUBERNETES_EXEC_INFO\" in\n"
     "*'\"cluster\":{\"server\":\"https://h:1\",'"
     "'\"certificate-authority-data\":\"aGVsbG8gd29ybGQ=\"}'*) t=cluster ;;\n"
     "*'\"cluster\"'*) t=wrong-cluster ;;\n"
     "*) t=no-cluster ;;\n"
     "esac\n"
     "printf '{\"apiVersion\":\"client.authentication.k8s.io/v1\",'"
     "'\"kind\":\"ExecCredential\",\"status\":{\"token\":\"%s\"}}' "
     "\"$t\"\n"},
    {"bin/zl-test-cred", "#!/bin/sh\nexec \"$(dirname \"$0\")/../ok.sh\" "
                         "\"$@\"\n"},
};

#define N_EXEC_PLUGINS (sizeof(exec_plugins) / sizeof(exec_plugins[0]))

static void make_exec_dir(char *dir, size_t len)
{
    char p[512];
    snprintf(dir, len, "/tmp/zl-kc-exec-XXXXXX");
    cr_assert(mkdtemp(dir) != NULL);
    snprintf(p, sizeof(p), "%s/bin", dir);
    cr_assert_eq(mkdir(p, 0700), 0);
    for (size_t i = 0; i < N_EXEC_PLUGINS; i++) {
        snprintf(p, sizeof(p), "%s/%s", dir, exec_plugins[i].rel);
        write_text(p, exec_plugins[i].text);
        cr_assert_eq(chmod(p, 0700), 0);
    }
}

static void remove_exec_dir(const char *dir)
{
    char p[512];
    for (size_t i = 0; i < N_EXEC_PLUGINS; i++) {
        snprintf(p, sizeof(p), "%s/%s", dir, exec_plugins[i].rel);
        unlink(p);
    }
    snprintf(p, sizeof(p), "%s/kc.yaml", dir);
    unlink(p);
    snprintf(p, sizeof(p), "%s/bin", dir);
    rmdir(p);
    rmdir(dir);
}

struct exec_case {
    const char *name;
    const char *exec; /* the exec mapping's lines, indented by 6 */
    enum zl_err rc;
    const char *token; /* expected token */
    size_t cert_len, key_len;
    const char *error; /* exact line, {d} the plugins' folder */
};

#define V1 "      apiVersion: client.authentication.k8s.io/v1\n"
#define V1B "      apiVersion: client.authentication.k8s.io/v1beta1\n"
#define NEVER "      interactiveMode: Never\n"
#define OK_ARGS(v) "      args: [client.authentication.k8s.io/" v ", arg]\n"
#define ERR_PREFIX "{d}/kc.yaml: users[0].user.exec"

static const struct exec_case exec_cases[] = {
    {"v1 token, args, env over the caller's, info, no stdin",
     V1 NEVER "      command: ./ok.sh\n" OK_ARGS(
         "v1") "      env: [{name: ZL_TEST_ENV, value: from-kubeconfig}]\n",
     ZL_OK, "arg.from-kubeconfig.info.stdin-empty", 0, 0, NULL},
    {"v1beta1 defaults interactiveMode; env null",
     V1B "      command: ./ok.sh\n" OK_ARGS("v1beta1") "      env: null\n",
     ZL_OK, "arg.from-parent.info.stdin-empty", 0, 0, NULL},
    {"command without a slash is looked up in PATH",
     V1 NEVER "      command: zl-test-cred\n" OK_ARGS("v1"), ZL_OK,
     "arg.from-parent.info.stdin-empty", 0, 0, NULL},
    {"client certificate and key; args null, env ~",
     V1B "      command: ./cert.sh\n      args: null\n      env: ~\n", ZL_OK,
     NULL, 5, 8, NULL},
    {"failure names the command, status and first stderr line",
     V1 NEVER "      command: ./fail.sh\n", ZL_ERR_IO, NULL, 0, 0,
     ERR_PREFIX ": command \"{d}/fail.sh\" exited with status 3: boom: no "
                "credentials"},
    {"killed by a signal", V1 NEVER "      command: ./signal.sh\n", ZL_ERR_IO,
     NULL, 0, 0,
     ERR_PREFIX ": command \"{d}/signal.sh\" was killed by signal 9: going "
                "down"},
    {"not JSON", V1 NEVER "      command: ./badjson.sh\n", ZL_ERR_PARSE, NULL,
     0, 0,
     ERR_PREFIX ": command \"{d}/badjson.sh\": output is not a JSON object"},
    {"apiVersion must match", V1B "      command: ./ok.sh\n" OK_ARGS("v1"),
     ZL_ERR_INVALID, NULL, 0, 0,
     ERR_PREFIX ": command \"{d}/ok.sh\": output has apiVersion "
                "\"client.authentication.k8s.io/v1\", the kubeconfig asks for "
                "\"client.authentication.k8s.io/v1beta1\""},
    {"status without a credential", V1 NEVER "      command: ./nocred.sh\n",
     ZL_ERR_INVALID, NULL, 0, 0,
     ERR_PREFIX ": command \"{d}/nocred.sh\": status has neither a token nor a "
                "client certificate and key"},
    {"output is bounded", V1 NEVER "      command: ./big.sh\n", ZL_ERR_LIMIT,
     NULL, 0, 0,
     ERR_PREFIX ": command \"{d}/big.sh\" wrote more than 1048576 bytes"},
    {"command not found", V1 NEVER "      command: zl-no-such-plugin\n",
     ZL_ERR_IO, NULL, 0, 0,
     ERR_PREFIX ": cannot run command \"zl-no-such-plugin\": not found in "
                "PATH"},
    {"v1 needs interactiveMode", V1 "      command: ./ok.sh\n", ZL_ERR_INVALID,
     NULL, 0, 0,
     ERR_PREFIX ".interactiveMode: missing (required by "
                "client.authentication.k8s.io/v1)"},
    {"Always needs a terminal",
     V1 "      interactiveMode: Always\n      command: ./ok.sh\n",
     ZL_ERR_INVALID, NULL, 0, 0,
     ERR_PREFIX ".interactiveMode: Always needs a terminal; plugins run "
                "without one here"},
    {"unknown apiVersion",
     "      apiVersion: client.authentication.k8s.io/v1alpha1\n"
     "      command: ./ok.sh\n",
     ZL_ERR_INVALID, NULL, 0, 0,
     ERR_PREFIX ".apiVersion: \"client.authentication.k8s.io/v1alpha1\" is "
                "not client.authentication.k8s.io/v1 or "
                "client.authentication.k8s.io/v1beta1"},
    {"echo as the plugin, output without kind",
     V1 NEVER "      command: echo\n"
              "      args: ['{\"apiVersion\":\"client.authentication.k8s.io/"
              "v1\",\"status\":{\"token\":\"admin-token\"}}']\n",
     ZL_OK, "admin-token", 0, 0, NULL},
    {"kind must be ExecCredential when given",
     V1 NEVER "      command: echo\n"
              "      args: ['{\"apiVersion\":\"client.authentication.k8s.io/"
              "v1\",\"kind\":\"Status\",\"status\":{\"token\":\"t\"}}']\n",
     ZL_ERR_INVALID, NULL, 0, 0,
     ERR_PREFIX ": command \"echo\": output has kind \"Status\", not "
                "ExecCredential"},
    {"provideClusterInfo sends the cluster",
     V1 NEVER "      command: ./info.sh\n      provideClusterInfo: true\n",
     ZL_OK, "cluster", 0, 0, NULL},
    {"no cluster without provideClusterInfo",
     V1 NEVER "      command: ./info.sh\n      provideClusterInfo: false\n",
     ZL_OK, "no-cluster", 0, 0, NULL},
    {"provideClusterInfo is a boolean",
     V1 NEVER "      command: ./info.sh\n      provideClusterInfo: maybe\n",
     ZL_ERR_INVALID, NULL, 0, 0,
     ERR_PREFIX ".provideClusterInfo: \"maybe\" is not true or false"},
    {"command is required", V1 NEVER, ZL_ERR_INVALID, NULL, 0, 0,
     ERR_PREFIX ".command: missing"},
    {"env entries need a name",
     V1 NEVER "      command: ./ok.sh\n      env: [{value: x}]\n",
     ZL_ERR_INVALID, NULL, 0, 0, ERR_PREFIX ".env[0].name: missing"},
};

static void check_exec_case(const struct exec_case *k, const char *dir)
{
    char path[512], want_err[1024], yaml[2048];
    struct kube_config c;
    struct kubeconfig_error err;
    snprintf(yaml, sizeof(yaml),
             "current-context: x\n"
             "clusters:\n- name: c\n  cluster:\n    server: https://h:1\n"
             "    certificate-authority-data: aGVsbG8gd29ybGQ=\n"
             "users:\n- name: u\n  user:\n    exec:\n%s"
             "contexts:\n- {name: x, context: {cluster: c, user: u}}\n",
             k->exec);
    snprintf(path, sizeof(path), "%s/kc.yaml", dir);
    write_text(path, yaml);
    enum zl_err rc = kubeconfig_load_kubectl_sa(path, NULL, NULL, NULL,
                                                "/nonexistent", &c, &err);
    cr_expect_eq(rc, k->rc, "%s: rc %s, want %s (%s)", k->name, rc_names[rc],
                 rc_names[k->rc], rc != ZL_OK ? err.text : "");
    if (rc != ZL_OK) {
        subst_dir(k->error, dir, want_err, sizeof(want_err));
        cr_expect_str_eq(err.text, want_err,
                         "%s: error line\n got: %s\nwant: %s", k->name,
                         err.text, want_err);
        return;
    }
    expect_str("token", k->name, c.token, k->token);
    cr_expect_eq(c.client_cert_pem_len, k->cert_len, "%s: cert", k->name);
    cr_expect_eq(c.client_key_pem_len, k->key_len, "%s: key", k->name);
    kubeconfig_cleanup(&c);
}

Test(kubeconfig, kubectl_exec_plugins_table)
{
    char dir[64], path[1024];
    make_exec_dir(dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/bin:%s", dir, getenv("PATH"));
    setenv("PATH", path, 1);
    setenv("ZL_TEST_ENV", "from-parent", 1);
    cr_assert_eq(chdir("/"), 0, "relative commands are not from the cwd");
    for (size_t i = 0; i < sizeof(exec_cases) / sizeof(exec_cases[0]); i++)
        check_exec_case(&exec_cases[i], dir);
    remove_exec_dir(dir);
}

/* client-go: a static token, tokenFile or client certificate is used and
 * the plugin (here one that would fail) is not run; its stanza is still
 * checked. */
Test(kubeconfig, static_credentials_win_over_the_exec_plugin)
{
    static const char *const users[] = {
        "    token: static\n",
        "    tokenFile: token\n",
        "    client-certificate-data: Q0VSVA==\n    client-key-data: S0VZ\n",
        "    token: static\n",
    };
    static const char *const execs[] = {
        V1 NEVER "      command: ./fail.sh\n",
        V1 NEVER "      command: ./fail.sh\n",
        V1 NEVER "      command: ./fail.sh\n",
        V1 "      command: ./fail.sh\n",
    };
    static const enum zl_err want[] = {ZL_OK, ZL_OK, ZL_OK, ZL_ERR_INVALID};
    char dir[64], path[512], yaml[2048];
    struct kube_config c;
    struct kubeconfig_error err;
    make_exec_dir(dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/token", dir);
    write_text(path, "file-token\n");
    for (size_t i = 0; i < 4; i++) {
        snprintf(yaml, sizeof(yaml),
                 "current-context: x\n"
                 "clusters:\n- {name: c, cluster: {server: 'https://h'}}\n"
                 "users:\n- name: u\n  user:\n%s    exec:\n%s"
                 "contexts:\n- {name: x, context: {cluster: c, user: u}}\n",
                 users[i], execs[i]);
        snprintf(path, sizeof(path), "%s/kc.yaml", dir);
        write_text(path, yaml);
        enum zl_err rc = kubeconfig_load_kubectl_sa(path, NULL, NULL, NULL,
                                                    "/nonexistent", &c, &err);
        cr_expect_eq(rc, want[i], "case %zu: %s", i, err.text);
        if (rc == ZL_OK) {
            char *tok = NULL;
            cr_assert_eq(kubeconfig_current_token(&c, &tok), ZL_OK);
            static const char *const tokens[] = {"static", "file-token",
                                                 "(null)"};
            expect_str("token", users[i], tok, tokens[i]);
            cr_expect_eq(c.client_cert_pem_len, i == 2 ? 4 : 0);
            free(tok);
            kubeconfig_cleanup(&c);
        }
    }
    snprintf(path, sizeof(path), "%s/token", dir);
    unlink(path);
    remove_exec_dir(dir);
}

Test(kubeconfig, exec_plugin_is_not_run_by_the_daemons_loader)
{
    char dir[64], path[512];
    struct kube_config c;
    struct kubeconfig_error err;
    make_exec_dir(dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/kc.yaml", dir);
    write_text(path,
               "current-context: x\n"
               "clusters:\n- {name: c, cluster: {server: 'https://h'}}\n"
               "users:\n- name: u\n  user:\n    exec:\n" V1B
               "      command: ./ok.sh\n"
               "contexts:\n- {name: x, context: {cluster: c, user: u}}\n");
    cr_assert_eq(kubeconfig_load_file(path, NULL, &c, &err), ZL_ERR_INVALID);
    cr_expect(strstr(err.text, "users[0].user.exec: exec credential plugins "
                               "are not supported") != NULL,
              "%s", err.text);
    remove_exec_dir(dir);
}

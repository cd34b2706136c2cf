/* SPDX-License-Identifier: Apache-2.0 */
/* zen-lead-certs' patch-webhooks against a real API server (run by
 * tests/integration/run): a Validating- and a MutatingWebhookConfiguration
 * of two webhooks each get the caBundle, read back; a second run changes
 * nothing; a patch built from a stale read is refused with a conflict and
 * the retrying path then succeeds; a missing configuration is NotFound.
 * And secret: the TLS Secret created, replaced, and kept on a bad pair. */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "certs/cabundle.h"
#include "certs/certcmd.h"
#include "certs/certkey.h"
#include "certs/certmake.h"
#include "certs/certopts.h"
#include "certs/whsync.h"
#include "kube/client.h"
#include "kube/kubeconfig.h"

struct it {
    struct kube_config cfg;
    struct client *c;
    char name[64];
};

static void it_open(struct it *t)
{
    struct kubeconfig_error err;
    const char *path = getenv("KUBECONFIG");
    cr_assert(path != NULL && path[0] != '\0', "KUBECONFIG is not set");
    cr_assert_eq(kubeconfig_load_file(path, NULL, &t->cfg, &err), ZL_OK, "%s",
                 err.text);
    struct client_options opt = {.backoff_base_ms = 50, .backoff_max_ms = 500};
    cr_assert_eq(client_new(&t->cfg, &opt, &t->c), ZL_OK);
    snprintf(t->name, sizeof(t->name), "zl-certs-it-%d-%ld", (int)getpid(),
             (long)(random() % 100000));
}

#define HOOK                                                                   \
    "{\"name\":\"%s.certs-it.zen-lead.io\",\"clientConfig\":{\"url\":"         \
    "\"https://127.0.0.1:1/%s\"},\"rules\":[{\"apiGroups\":[\"certs-it."       \
    "zen-lead.io\"],\"apiVersions\":[\"v1\"],\"operations\":[\"CREATE\"],"     \
    "\"resources\":[\"nothings\"]}],\"sideEffects\":\"None\","                 \
    "\"admissionReviewVersions\":[\"v1\"],\"failurePolicy\":\"Ignore\"}"

/* A configuration of two webhooks on a resource nothing uses, so it can
 * never get in the way of other requests. */
static void it_create(struct it *t, const struct client_resource *r)
{
    char body[2048];
    char a[512];
    char b[512];
    snprintf(a, sizeof(a), HOOK, "a", "a");
    snprintf(b, sizeof(b), HOOK, "b", "b");
    snprintf(body, sizeof(body),
             "{\"apiVersion\":\"%s\",\"kind\":\"%s\",\"metadata\":{\"name\":"
             "\"%s\"},\"webhooks\":[%s,%s]}",
             r->api_version, r->kind, t->name, a, b);
    struct client_response resp;
    client_response_init(&resp);
    cr_assert_eq(client_create(t->c, r, NULL, body, &resp), ZL_OK, "%s: %s",
                 r->kind, resp.status.message);
    client_response_cleanup(&resp);
}

static void it_close(struct it *t)
{
    const struct client_resource *kinds[] = {&WHSYNC_VALIDATING,
                                             &WHSYNC_MUTATING};
    for (size_t i = 0; i < 2; i++) {
        struct client_response resp;
        client_response_init(&resp);
        client_delete(t->c, kinds[i], NULL, t->name, NULL, &resp);
        client_response_cleanup(&resp);
    }
    client_free(t->c);
    kubeconfig_cleanup(&t->cfg);
}

/* A fresh CA's PEM in pem and its base64 in b64. */
static void make_bundle(struct buf *pem, struct buf *b64)
{
    EVP_PKEY *key = NULL;
    X509 *ca = NULL;
    struct certmake_validity v;
    struct certinfo_list one = {.count = 0};
    certmake_validity_days(time(NULL), 30, &v);
    cr_assert_eq(certkey_generate(CERTKEY_ECDSA, 0, &key), ZL_OK);
    cr_assert_eq(certmake_ca("certs-it CA", &v, key, &ca), ZL_OK);
    cr_assert_eq(certinfo_list_push(&one, ca), ZL_OK);
    buf_init(pem, 1u << 20);
    buf_init(b64, 1u << 21);
    cr_assert_eq(cabundle_pem(&one, pem), ZL_OK);
    cr_assert_eq(cabundle_base64(pem->data, pem->len, b64), ZL_OK);
    certinfo_list_cleanup(&one);
    X509_free(ca);
    EVP_PKEY_free(key);
}

/* Every webhook of the configuration carries want as its caBundle. */
static void expect_bundle(struct it *t, const struct client_resource *r,
                          const char *want)
{
    struct client_response resp;
    struct json_object *root = NULL;
    struct json_object *hooks = NULL;
    client_response_init(&resp);
    cr_assert_eq(client_get(t->c, r, NULL, t->name, &resp), ZL_OK);
    root = json_tokener_parse(resp.body.data);
    cr_assert(json_object_object_get_ex(root, "webhooks", &hooks));
    cr_assert_eq(json_object_array_length(hooks), 2);
    for (size_t i = 0; i < 2; i++) {
        struct json_object *cc = NULL;
        struct json_object *cab = NULL;
        struct json_object *wh = json_object_array_get_idx(hooks, i);
        cr_assert(json_object_object_get_ex(wh, "clientConfig", &cc));
        cr_assert(json_object_object_get_ex(cc, "caBundle", &cab),
                  "%s webhook %zu has no caBundle", r->kind, i);
        cr_assert_str_eq(json_object_get_string(cab), want);
    }
    json_object_put(root);
    client_response_cleanup(&resp);
}

Test(certs_it, patches_every_webhook_and_second_run_changes_nothing)
{
    struct it t = {0};
    struct buf pem;
    struct buf b64;
    it_open(&t);
    make_bundle(&pem, &b64);
    const struct client_resource *kinds[] = {&WHSYNC_VALIDATING,
                                             &WHSYNC_MUTATING};
    for (size_t i = 0; i < 2; i++) {
        struct whsync_result res;
        it_create(&t, kinds[i]);
        cr_assert_eq(whsync_patch(t.c, kinds[i], t.name, b64.data,
                                  WHSYNC_ATTEMPTS, &res),
                     ZL_OK);
        cr_assert_eq(res.webhooks, 2);
        cr_assert(res.changed);
        expect_bundle(&t, kinds[i], b64.data);
        cr_assert_eq(whsync_patch(t.c, kinds[i], t.name, b64.data,
                                  WHSYNC_ATTEMPTS, &res),
                     ZL_OK);
        cr_assert(!res.changed);
        cr_assert_eq(res.attempts, 0);
    }
    buf_cleanup(&pem);
    buf_cleanup(&b64);
    it_close(&t);
}

Test(certs_it, stale_read_is_a_conflict_and_the_retry_wins)
{
    struct it t = {0};
    struct buf pem1, b641, pem2, b642;
    struct client_response old;
    struct whsync_result res;
    it_open(&t);
    make_bundle(&pem1, &b641);
    make_bundle(&pem2, &b642);
    it_create(&t, &WHSYNC_VALIDATING);
    client_response_init(&old);
    cr_assert_eq(client_get(t.c, &WHSYNC_VALIDATING, NULL, t.name, &old),
                 ZL_OK);
    /* Someone else writes in between. */
    cr_assert_eq(whsync_patch(t.c, &WHSYNC_VALIDATING, t.name, b641.data,
                              WHSYNC_ATTEMPTS, &res),
                 ZL_OK);
    memset(&res, 0, sizeof(res));
    cr_assert_eq(whsync_patch_object(t.c, &WHSYNC_VALIDATING, t.name,
                                     old.body.data, old.body.len, b642.data,
                                     &res),
                 ZL_ERR_CONFLICT);
    expect_bundle(&t, &WHSYNC_VALIDATING, b641.data);
    cr_assert_eq(whsync_patch(t.c, &WHSYNC_VALIDATING, t.name, b642.data,
                              WHSYNC_ATTEMPTS, &res),
                 ZL_OK);
    expect_bundle(&t, &WHSYNC_VALIDATING, b642.data);
    client_response_cleanup(&old);
    buf_cleanup(&pem1);
    buf_cleanup(&b641);
    buf_cleanup(&pem2);
    buf_cleanup(&b642);
    it_close(&t);
}

Test(certs_it, missing_configuration_is_not_found)
{
    struct it t = {0};
    struct whsync_result res;
    it_open(&t);
    cr_assert_eq(whsync_patch(t.c, &WHSYNC_MUTATING, t.name, "AAAA",
                              WHSYNC_ATTEMPTS, &res),
                 ZL_ERR_NOTFOUND);
    it_close(&t);
}

/* Splits line at spaces in place into argv (at most max words). */
static int split(char *line, char **argv, int max)
{
    int n = 0;
    for (char *p = line; *p != '\0' && n < max;) {
        argv[n++] = p;
        char *sp = strchr(p, ' ');
        if (sp == NULL)
            break;
        *sp = '\0';
        p = sp + 1;
    }
    return n;
}

/* The command as users run it: bundle file, both kinds, --kubeconfig. */
Test(certs_it, patch_webhooks_command_writes_both_configurations)
{
    struct it t = {0};
    struct buf pem, b64;
    struct certopts o;
    char dir[] = "/tmp/zl-certs-it-XXXXXX";
    char path[128];
    char err[CERTOPTS_ERR];
    it_open(&t);
    make_bundle(&pem, &b64);
    it_create(&t, &WHSYNC_VALIDATING);
    it_create(&t, &WHSYNC_MUTATING);
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/ca.pem", dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fwrite(pem.data, 1, pem.len, f);
    fclose(f);
    char line[1024];
    char *argv[16];
    snprintf(line, sizeof(line),
             "zen-lead-certs patch-webhooks --ca-bundle %s --validating %s "
             "--mutating %s --kubeconfig %s",
             path, t.name, t.name, getenv("KUBECONFIG"));
    int argc = split(line, argv, 16);
    cr_assert_eq(certopts_parse(argc, argv, &o, err, sizeof(err)), ZL_OK, "%s",
                 err);
    cr_assert_eq(certcmd_run(&o, time(NULL), stdout, stderr), 0);
    expect_bundle(&t, &WHSYNC_VALIDATING, b64.data);
    expect_bundle(&t, &WHSYNC_MUTATING, b64.data);
    certopts_cleanup(&o);
    unlink(path);
    rmdir(dir);
    buf_cleanup(&pem);
    buf_cleanup(&b64);
    it_close(&t);
}

/* Runs one zen-lead-certs command in process (words end with NULL); its
 * exit status. */
static int run_words(const char *const *words)
{
    char *argv[32];
    char err[CERTOPTS_ERR];
    struct certopts o;
    int argc = 0;
    while (words[argc] != NULL && argc < 31) {
        argv[argc] = (char *)(uintptr_t)words[argc];
        argc++;
    }
    argv[argc] = NULL;
    cr_assert_eq(certopts_parse(argc, argv, &o, err, sizeof(err)), ZL_OK, "%s",
                 err);
    int status = certcmd_run(&o, time(NULL), stdout, stderr);
    certopts_cleanup(&o);
    return status;
}

static const struct client_resource SECRETS = {"/api/v1", "secrets", "Secret",
                                               "v1", true};

/* The base64 of data[key] of the Secret, or NULL (the caller frees). */
static char *secret_value(struct it *t, const char *key)
{
    struct client_response resp;
    struct json_object *obj, *data, *v;
    char *out = NULL;
    client_response_init(&resp);
    cr_assert_eq(client_get(t->c, &SECRETS, "default", t->name, &resp), ZL_OK);
    obj = json_tokener_parse(resp.body.data);
    cr_assert_not_null(obj);
    cr_assert_str_eq(
        json_object_get_string(json_object_object_get(obj, "type")),
        "kubernetes.io/tls");
    if (json_object_object_get_ex(obj, "data", &data) &&
        json_object_object_get_ex(data, key, &v))
        out = strdup(json_object_get_string(v));
    json_object_put(obj);
    client_response_cleanup(&resp);
    return out;
}

static void expect_file_in_secret(struct it *t, const char *dir,
                                  const char *file, const char *key)
{
    struct buf pem, b64;
    char path[256];
    char chunk[4096];
    size_t n;
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    buf_init(&pem, 1 << 20);
    buf_init(&b64, 1 << 21);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        cr_assert_eq(buf_append(&pem, chunk, n), ZL_OK);
    fclose(f);
    cr_assert_eq(cabundle_base64(pem.data, pem.len, &b64), ZL_OK);
    char *got = secret_value(t, key);
    cr_assert_not_null(got, "no %s in the Secret", key);
    cr_expect_str_eq(got, b64.data, "%s differs from %s", key, path);
    free(got);
    buf_cleanup(&pem);
    buf_cleanup(&b64);
}

/* ca, serve, then secret: the Secret is created, then replaced by a second
 * pair; a key of another pair is refused and leaves it as it was. */
Test(certs_it, secret_command_creates_then_replaces_the_tls_secret)
{
    struct it t = {0};
    char dir[] = "/tmp/zl-certs-it-XXXXXX";
    char p[6][256];
    static const char *const names[] = {"ca.crt",  "ca.key", "tls.crt",
                                        "tls.key", "x.crt",  "x.key"};
    it_open(&t);
    cr_assert_not_null(mkdtemp(dir));
    for (int i = 0; i < 6; i++)
        snprintf(p[i], sizeof(p[i]), "%s/%s", dir, names[i]);
    const char *kc = getenv("KUBECONFIG");
    for (int round = 0; round < 2; round++) {
        const char *ca[] = {"zen-lead-certs", "ca", "--out-cert", p[0],
                            "--out-key",      p[1], NULL};
        const char *serve[] = {"zen-lead-certs",
                               "serve",
                               "--ca-cert",
                               p[0],
                               "--ca-key",
                               p[1],
                               "--dns",
                               "w.ns.svc",
                               "--out-cert",
                               p[2],
                               "--out-key",
                               p[3],
                               NULL};
        const char *secret[] = {
            "zen-lead-certs", "secret", "--namespace",  "default", "--name",
            t.name,           "--cert", p[2],           "--key",   p[3],
            "--ca-cert",      p[0],     "--kubeconfig", kc,        NULL};
        cr_assert_eq(run_words(ca), 0);
        cr_assert_eq(run_words(serve), 0);
        cr_assert_eq(run_words(secret), 0, "round %d", round);
        expect_file_in_secret(&t, dir, "tls.crt", "tls.crt");
        expect_file_in_secret(&t, dir, "tls.key", "tls.key");
        expect_file_in_secret(&t, dir, "ca.crt", "ca.crt");
    }
    const char *other[] = {"zen-lead-certs", "ca", "--out-cert", p[4],
                           "--out-key",      p[5], NULL};
    const char *mismatch[] = {
        "zen-lead-certs", "secret", "--namespace", "default", "--name",
        t.name,           "--cert", p[2],          "--key",   p[5],
        "--kubeconfig",   kc,       NULL};
    cr_assert_eq(run_words(other), 0);
    cr_expect_eq(run_words(mismatch), 1);
    expect_file_in_secret(&t, dir, "tls.key", "tls.key");
    struct client_response resp;
    client_response_init(&resp);
    cr_expect_eq(client_delete(t.c, &SECRETS, "default", t.name, NULL, &resp),
                 ZL_OK);
    client_response_cleanup(&resp);
    for (int i = 0; i < 6; i++)
        unlink(p[i]);
    rmdir(dir);
    it_close(&t);
}

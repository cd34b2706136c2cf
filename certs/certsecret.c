/* SPDX-License-Identifier: Apache-2.0 */
/* The secret subcommand: a TLS Secret from the serving pair. */
#include "certs/certsecret.h"

#include <json-c/json.h>
#include <openssl/x509.h>
#include <string.h>

#include "base/json.h"
#include "certs/cabundle.h"
#include "certs/certcmd.h"
#include "certs/certfile.h"
#include "certs/certinfo.h"
#include "certs/certkey.h"
#include "certs/certpatch.h"
#include "kube/client.h"
#include "kube/kubeconfig.h"

static const struct client_resource SECRETS = {
    "/api/v1", "secrets", "Secret", "v1", true,
};

static enum zl_err put_b64(struct buf *out, const char *key, const char *data,
                           size_t len, bool last)
{
    enum zl_err rc = buf_printf(out, "\"%s\":\"", key);
    if (rc == ZL_OK)
        rc = cabundle_base64(data, len, out);
    if (rc == ZL_OK)
        rc = buf_puts(out, last ? "\"" : "\",");
    return rc;
}

enum zl_err certsecret_render(const char *ns, const char *name,
                              const struct certsecret_pems *pems,
                              const char *resource_version, struct buf *out)
{
    enum zl_err rc =
        buf_puts(out, "{\"apiVersion\":\"v1\",\"kind\":\"Secret\","
                      "\"type\":\"kubernetes.io/tls\",\"metadata\":{\"name\":");
    if (rc == ZL_OK)
        rc = buf_put_json_string(out, name);
    if (rc == ZL_OK)
        rc = buf_puts(out, ",\"namespace\":");
    if (rc == ZL_OK)
        rc = buf_put_json_string(out, ns);
    if (rc == ZL_OK)
        rc = buf_puts(out, ",\"labels\":{\"app.kubernetes.io/managed-by\":"
                           "\"zen-lead-certs\"}");
    if (rc == ZL_OK && resource_version != NULL) {
        rc = buf_puts(out, ",\"resourceVersion\":");
        if (rc == ZL_OK)
            rc = buf_put_json_string(out, resource_version);
    }
    if (rc == ZL_OK)
        rc = buf_puts(out, "},\"data\":{");
    if (rc == ZL_OK)
        rc = put_b64(out, "tls.crt", pems->cert, pems->cert_len, false);
    if (rc == ZL_OK)
        rc =
            put_b64(out, "tls.key", pems->key, pems->key_len, pems->ca == NULL);
    if (rc == ZL_OK && pems->ca != NULL)
        rc = put_b64(out, "ca.crt", pems->ca, pems->ca_len, true);
    if (rc == ZL_OK)
        rc = buf_puts(out, "}}");
    return rc;
}

/* ---- the files ----------------------------------------------------------- */

struct files {
    struct buf cert;
    struct buf key;
    struct buf ca;
    bool has_ca;
};

static void files_cleanup(struct files *f)
{
    buf_cleanup(&f->cert);
    buf_cleanup(&f->key);
    buf_cleanup(&f->ca);
}

/* The key belongs to the first certificate, which the CA (if any) signed. */
static enum zl_err check_pair(const struct files *f, FILE *err)
{
    struct certinfo_list certs = {.count = 0}, cas = {.count = 0};
    EVP_PKEY *key = NULL;
    const char *what = "the certificate does not parse";
    enum zl_err rc = certinfo_parse(f->cert.data, f->cert.len, &certs);
    if (rc == ZL_OK && certs.count == 0)
        rc = ZL_ERR_PARSE;
    if (rc == ZL_OK) {
        what = "the key does not parse";
        rc = certkey_from_pem(f->key.data, f->key.len, &key);
    }
    if (rc == ZL_OK && !certkey_matches(certs.certs[0], key)) {
        what = "the key does not belong to the certificate";
        rc = ZL_ERR_INVALID;
    }
    char why[256] = "";
    if (rc == ZL_OK && f->has_ca) {
        what = "the certificate is not signed by the CA";
        rc = certinfo_parse(f->ca.data, f->ca.len, &cas);
        if (rc == ZL_OK && (cas.count == 0 ||
                            certinfo_verify(certs.certs[0], cas.certs[0], false,
                                            0, why, sizeof(why)) != ZL_OK))
            rc = ZL_ERR_INVALID;
    }
    if (rc != ZL_OK)
        fprintf(err, "zen-lead-certs: secret: %s (%s%s%s)\n", what,
                zl_err_str(rc), why[0] != '\0' ? ": " : "", why);
    EVP_PKEY_free(key);
    certinfo_list_cleanup(&certs);
    certinfo_list_cleanup(&cas);
    return rc;
}

static enum zl_err read_files(const struct certopts *o, struct files *f,
                              FILE *err)
{
    const char *failed = o->cert;
    enum zl_err rc = certfile_read(o->cert, &f->cert);
    if (rc == ZL_OK) {
        failed = o->key;
        rc = certfile_read(o->key, &f->key);
    }
    if (rc == ZL_OK && o->ca_cert != NULL) {
        failed = o->ca_cert;
        rc = certfile_read(o->ca_cert, &f->ca);
        f->has_ca = rc == ZL_OK;
    }
    if (rc != ZL_OK) {
        fprintf(err, "zen-lead-certs: secret: %s: %s\n", failed,
                zl_err_str(rc));
        return rc;
    }
    return check_pair(f, err);
}

/* ---- the API ------------------------------------------------------------- */

/* The resourceVersion of the existing Secret into rv (NUL-terminated). */
static enum zl_err read_version(struct client *c, const struct certopts *o,
                                char *rv, size_t rv_len)
{
    struct client_response resp;
    struct json_object *obj = NULL, *meta = NULL, *v = NULL;
    client_response_init(&resp);
    enum zl_err rc =
        client_get(c, &SECRETS, o->namespace_name, o->secret_name, &resp);
    if (rc == ZL_OK)
        rc = json_parse_object(resp.body.data, resp.body.len, &obj);
    if (rc == ZL_OK &&
        (!json_object_object_get_ex(obj, "metadata", &meta) ||
         !json_object_object_get_ex(meta, "resourceVersion", &v) ||
         !json_object_is_type(v, json_type_string)))
        rc = ZL_ERR_PARSE;
    if (rc == ZL_OK)
        snprintf(rv, rv_len, "%s", json_object_get_string(v));
    json_object_put(obj);
    client_response_cleanup(&resp);
    return rc;
}

/* One create-or-replace; ZL_ERR_CONFLICT when the Secret changed between
 * the read and the write (or appeared after a failed create). */
static enum zl_err write_once(struct client *c, const struct certopts *o,
                              const struct certsecret_pems *pems,
                              bool *replaced)
{
    struct client_response resp;
    struct buf doc;
    char rv[128] = "";
    buf_init(&doc, (size_t)CERTFILE_MAX * 4);
    client_response_init(&resp);
    enum zl_err rc =
        certsecret_render(o->namespace_name, o->secret_name, pems, NULL, &doc);
    if (rc == ZL_OK)
        rc = client_create(c, &SECRETS, o->namespace_name, doc.data, &resp);
    *replaced = rc == ZL_ERR_EXISTS;
    if (rc == ZL_ERR_EXISTS) {
        buf_reset(&doc);
        rc = read_version(c, o, rv, sizeof(rv));
        if (rc == ZL_ERR_NOTFOUND)
            rc = ZL_ERR_CONFLICT; /* deleted meanwhile: create again */
        if (rc == ZL_OK)
            rc = certsecret_render(o->namespace_name, o->secret_name, pems, rv,
                                   &doc);
        client_response_cleanup(&resp);
        client_response_init(&resp);
        if (rc == ZL_OK)
            rc = client_update(c, &SECRETS, o->namespace_name, o->secret_name,
                               NULL, doc.data, &resp);
    }
    client_response_cleanup(&resp);
    buf_cleanup(&doc);
    return rc;
}

static enum zl_err write_secret(struct client *c, const struct certopts *o,
                                const struct files *f, FILE *out, FILE *err)
{
    struct certsecret_pems pems = {
        .cert = f->cert.data,
        .cert_len = f->cert.len,
        .key = f->key.data,
        .key_len = f->key.len,
        .ca = f->has_ca ? f->ca.data : NULL,
        .ca_len = f->has_ca ? f->ca.len : 0,
    };
    bool replaced = false;
    enum zl_err rc = ZL_ERR_CONFLICT;
    for (int i = 0; i < CERTSECRET_ATTEMPTS && rc == ZL_ERR_CONFLICT; i++)
        rc = write_once(c, o, &pems, &replaced);
    if (rc == ZL_OK)
        fprintf(out, "Secret %s/%s %s\n", o->namespace_name, o->secret_name,
                replaced ? "replaced" : "created");
    else
        fprintf(err, "zen-lead-certs: secret %s/%s: %s\n", o->namespace_name,
                o->secret_name, zl_err_str(rc));
    return rc;
}

int certsecret_run(const struct certopts *o, FILE *out, FILE *err)
{
    struct files f;
    struct kube_config cfg = {0};
    struct client *c = NULL;
    bool have_cfg = false;
    buf_init(&f.cert, CERTFILE_MAX);
    buf_init(&f.key, CERTFILE_MAX);
    buf_init(&f.ca, CERTFILE_MAX);
    f.has_ca = false;
    enum zl_err rc = read_files(o, &f, err);
    if (rc == ZL_OK) {
        rc = certpatch_connect(o->kubeconfig, &cfg, &c, err);
        have_cfg = true;
    }
    if (rc == ZL_OK)
        rc = write_secret(c, o, &f, out, err);
    client_free(c);
    if (have_cfg)
        kubeconfig_cleanup(&cfg);
    files_cleanup(&f);
    return rc == ZL_OK ? CERTCMD_EXIT_OK : CERTCMD_EXIT_FAIL;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* ca, serve, inspect, cabundle and rotate: files in, certificates out.
 * patch-webhooks lives in certpatch.c. */
#include "certs/certcmd.h"

#include <openssl/x509v3.h>
#include <stdbool.h>
#include <string.h>

#include "base/buf.h"
#include "certs/cabundle.h"
#include "certs/certfile.h"
#include "certs/certinfo.h"
#include "certs/certkey.h"
#include "certs/certmake.h"
#include "certs/certpatch.h"
#include "certs/certsecret.h"

#define PEM_MAX (1u << 20)

static int fail(FILE *err, const char *path, const char *what, enum zl_err rc)
{
    fprintf(err, "zen-lead-certs: %s: %s (%s)\n", path, what, zl_err_str(rc));
    return CERTCMD_EXIT_FAIL;
}

static enum zl_err load_certs(const char *path, struct certinfo_list *list,
                              FILE *err)
{
    struct buf data;
    buf_init(&data, CERTFILE_MAX);
    enum zl_err rc = certfile_read(path, &data);
    if (rc != ZL_OK)
        fail(err, path, "cannot read", rc);
    if (rc == ZL_OK) {
        rc = certinfo_parse(data.data, data.len, list);
        if (rc != ZL_OK)
            fail(err, path, "no certificate in it", rc);
    }
    buf_cleanup(&data);
    return rc;
}

static enum zl_err load_key(const char *path, EVP_PKEY **key, FILE *err)
{
    struct buf data;
    buf_init(&data, CERTFILE_MAX);
    enum zl_err rc = certfile_read(path, &data);
    if (rc != ZL_OK)
        fail(err, path, "cannot read", rc);
    if (rc == ZL_OK) {
        rc = certkey_from_pem(data.data, data.len, key);
        if (rc != ZL_OK)
            fail(err, path, "no private key in it", rc);
    }
    if (data.data != NULL)
        explicit_bzero(data.data, data.cap);
    buf_cleanup(&data);
    return rc;
}

/* Writes the key (0600) first, then the certificate (0644). */
static enum zl_err write_pair(X509 *cert, EVP_PKEY *key, const char *cert_path,
                              const char *key_path, FILE *err)
{
    struct buf pem;
    struct certinfo_list one = {.count = 0};
    buf_init(&pem, PEM_MAX);
    enum zl_err rc = certkey_to_pem(key, &pem);
    if (rc == ZL_OK)
        rc = certfile_write(key_path, pem.data, pem.len, CERTFILE_MODE_KEY);
    if (rc != ZL_OK)
        fail(err, key_path, "cannot write the key", rc);
    if (pem.data != NULL)
        explicit_bzero(pem.data, pem.cap);
    buf_reset(&pem);
    one.certs[one.count++] = cert;
    if (rc == ZL_OK) {
        rc = cabundle_pem(&one, &pem);
        if (rc == ZL_OK)
            rc = certfile_write(cert_path, pem.data, pem.len,
                                CERTFILE_MODE_CERT);
        if (rc != ZL_OK)
            fail(err, cert_path, "cannot write the certificate", rc);
    }
    buf_cleanup(&pem);
    return rc;
}

static void time_text(time_t t, char *out, size_t out_len)
{
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL ||
        strftime(out, out_len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(out, out_len, "%lld", (long long)t);
}

static int cmd_ca(const struct certopts *o, time_t now, FILE *out, FILE *err)
{
    EVP_PKEY *key = NULL;
    X509 *ca = NULL;
    struct certmake_validity v;
    certmake_validity_days(now, o->days, &v);
    enum zl_err rc = certkey_generate(o->key_type, o->rsa_bits, &key);
    if (rc == ZL_OK)
        rc = certmake_ca(o->subject, &v, key, &ca);
    if (rc != ZL_OK)
        fail(err, o->out_cert, "cannot make the CA", rc);
    if (rc == ZL_OK)
        rc = write_pair(ca, key, o->out_cert, o->out_key, err);
    if (rc == ZL_OK) {
        char until[32];
        time_text(v.not_after, until, sizeof(until));
        fprintf(out, "wrote CA %s (key %s), CN=%s, valid until %s\n",
                o->out_cert, o->out_key, o->subject, until);
    }
    X509_free(ca);
    EVP_PKEY_free(key);
    return rc == ZL_OK ? CERTCMD_EXIT_OK : CERTCMD_EXIT_FAIL;
}

/* The CA pair of --ca-cert/--ca-key: the first certificate of the file,
 * which must be a CA and match the key. */
static enum zl_err load_ca(const struct certopts *o, X509 **ca, EVP_PKEY **key,
                           FILE *err)
{
    struct certinfo_list list = {.count = 0};
    enum zl_err rc = load_certs(o->ca_cert, &list, err);
    if (rc == ZL_OK)
        rc = load_key(o->ca_key, key, err);
    if (rc == ZL_OK &&
        (X509_get_extension_flags(list.certs[0]) & EXFLAG_CA) == 0) {
        fail(err, o->ca_cert, "not a CA certificate", ZL_ERR_INVALID);
        rc = ZL_ERR_INVALID;
    }
    if (rc == ZL_OK && !certkey_matches(list.certs[0], *key)) {
        fail(err, o->ca_key, "does not match the CA certificate",
             ZL_ERR_INVALID);
        rc = ZL_ERR_INVALID;
    }
    if (rc == ZL_OK)
        rc = X509_up_ref(list.certs[0]) == 1 ? ZL_OK : ZL_ERR_INTERNAL;
    if (rc == ZL_OK)
        *ca = list.certs[0];
    certinfo_list_cleanup(&list);
    return rc;
}

static void names_of(const struct certopts *o, struct certmake_names *names)
{
    names->dns = o->dns.items;
    names->dns_count = o->dns.count;
    names->ips = o->ips.items;
    names->ip_count = o->ips.count;
}

/* A new serving pair signed by ca, written to cert_path and key_path;
 * *until is its notAfter. */
static enum zl_err issue(const struct certopts *o, time_t now, X509 *ca,
                         EVP_PKEY *ca_key, const char *cert_path,
                         const char *key_path, time_t *until, FILE *err)
{
    EVP_PKEY *key = NULL;
    X509 *cert = NULL;
    struct certmake_names names;
    struct certmake_validity v;
    names_of(o, &names);
    certmake_validity_days(now, o->days, &v);
    *until = v.not_after;
    enum zl_err rc = certkey_generate(o->key_type, o->rsa_bits, &key);
    if (rc == ZL_OK)
        rc = certmake_serve(&names, &v, key, ca, ca_key, &cert);
    if (rc != ZL_OK)
        fail(err, cert_path, "cannot make the serving certificate", rc);
    if (rc == ZL_OK)
        rc = write_pair(cert, key, cert_path, key_path, err);
    X509_free(cert);
    EVP_PKEY_free(key);
    return rc;
}

static bool names_ok(const struct certopts *o, FILE *err)
{
    char why[CERTOPTS_ERR];
    struct certmake_names names;
    names_of(o, &names);
    if (certmake_check_names(&names, why, sizeof(why)) == ZL_OK)
        return true;
    fprintf(err, "zen-lead-certs: %s\n", why);
    return false;
}

static int cmd_serve(const struct certopts *o, time_t now, FILE *out, FILE *err)
{
    X509 *ca = NULL;
    EVP_PKEY *ca_key = NULL;
    time_t until = 0;
    if (!names_ok(o, err))
        return CERTCMD_EXIT_USAGE;
    enum zl_err rc = load_ca(o, &ca, &ca_key, err);
    if (rc == ZL_OK)
        rc = issue(o, now, ca, ca_key, o->out_cert, o->out_key, &until, err);
    if (rc == ZL_OK) {
        char text[32];
        time_text(until, text, sizeof(text));
        fprintf(out, "wrote %s (key %s) for %s, valid until %s\n", o->out_cert,
                o->out_key, o->dns.items[0], text);
    }
    X509_free(ca);
    EVP_PKEY_free(ca_key);
    return rc == ZL_OK ? CERTCMD_EXIT_OK : CERTCMD_EXIT_FAIL;
}

/* Prints one certificate; false when it fails the --warn-days check. */
static bool print_one(FILE *out, X509 *cert, size_t i, size_t n,
                      const struct certopts *o, time_t now)
{
    struct certinfo info;
    char nb[32];
    char na[32];
    if (certinfo_describe(cert, &info) != ZL_OK) {
        fprintf(out, "certificate %zu of %zu: unreadable validity\n", i + 1, n);
        return false;
    }
    long left = certinfo_days_left(&info, now);
    bool expired = certinfo_expired(&info, now);
    time_text(info.not_before, nb, sizeof(nb));
    time_text(info.not_after, na, sizeof(na));
    fprintf(out,
            "certificate %zu of %zu\n  subject:    %s\n  issuer:     %s\n"
            "  serial:     %s\n  ca:         %s\n  sans:       %s\n"
            "  not-before: %s\n  not-after:  %s\n  days-left:  %ld%s\n",
            i + 1, n, info.subject, info.issuer, info.serial,
            info.is_ca ? "true" : "false",
            info.sans[0] != '\0' ? info.sans : "(none)", nb, na, left,
            expired               ? " (expired)"
            : left < o->warn_days ? " (under --warn-days)"
                                  : "");
    return !expired && left >= o->warn_days;
}

static bool key_check(const struct certopts *o, X509 *leaf, FILE *out,
                      FILE *err)
{
    EVP_PKEY *key = NULL;
    if (load_key(o->key, &key, err) != ZL_OK)
        return false;
    bool same = certkey_matches(leaf, key);
    fprintf(out, "key %s: %s\n", o->key,
            same ? "matches certificate 1" : "does NOT match certificate 1");
    EVP_PKEY_free(key);
    return same;
}

static int cmd_inspect(const struct certopts *o, time_t now, FILE *out,
                       FILE *err)
{
    bool ok = true;
    for (size_t f = 0; f < o->files.count; f++) {
        struct certinfo_list list = {.count = 0};
        if (load_certs(o->files.items[f], &list, err) != ZL_OK) {
            ok = false;
            continue;
        }
        fprintf(out, "%s:\n", o->files.items[f]);
        for (size_t i = 0; i < list.count; i++)
            ok = print_one(out, list.certs[i], i, list.count, o, now) && ok;
        if (o->key != NULL)
            ok = key_check(o, list.certs[0], out, err) && ok;
        certinfo_list_cleanup(&list);
    }
    return ok ? CERTCMD_EXIT_OK : CERTCMD_EXIT_FAIL;
}

static enum zl_err gather(const struct certopts *o,
                          struct certinfo_list *bundle, FILE *err)
{
    enum zl_err rc = ZL_OK;
    for (size_t f = 0; rc == ZL_OK && f < o->files.count; f++) {
        struct certinfo_list list = {.count = 0};
        rc = load_certs(o->files.items[f], &list, err);
        for (size_t i = 0; rc == ZL_OK && i < list.count; i++) {
            bool added = false;
            rc = cabundle_add(bundle, list.certs[i], &added);
            if (rc == ZL_ERR_INVALID)
                fprintf(err,
                        "zen-lead-certs: %s: certificate %zu is not a CA "
                        "(no basicConstraints CA:TRUE); refusing it\n",
                        o->files.items[f], i + 1);
            else if (rc != ZL_OK)
                fail(err, o->files.items[f], "cannot add to the bundle", rc);
        }
        certinfo_list_cleanup(&list);
    }
    return rc;
}

static int cmd_cabundle(const struct certopts *o, FILE *out, FILE *err)
{
    struct certinfo_list bundle = {.count = 0};
    struct buf pem;
    struct buf b64;
    buf_init(&pem, PEM_MAX);
    buf_init(&b64, (size_t)PEM_MAX * 2);
    enum zl_err rc = gather(o, &bundle, err);
    if (rc == ZL_OK)
        rc = cabundle_pem(&bundle, &pem);
    struct buf *text = &pem;
    if (rc == ZL_OK && o->base64) {
        rc = cabundle_base64(pem.data, pem.len, &b64);
        if (rc == ZL_OK)
            rc = buf_putc(&b64, '\n');
        text = &b64;
    }
    if (rc == ZL_OK && o->out != NULL) {
        rc = certfile_write(o->out, text->data, text->len, CERTFILE_MODE_CERT);
        if (rc != ZL_OK)
            fail(err, o->out, "cannot write", rc);
    } else if (rc == ZL_OK &&
               fwrite(text->data, 1, text->len, out) != text->len) {
        rc = ZL_ERR_IO;
    }
    buf_cleanup(&b64);
    buf_cleanup(&pem);
    certinfo_list_cleanup(&bundle);
    return rc == ZL_OK ? CERTCMD_EXIT_OK : CERTCMD_EXIT_FAIL;
}

/* Why the pair at --cert/--key must be renewed, or NULL when it is good. */
static const char *renew_reason(const struct certopts *o, X509 *ca, time_t now,
                                char *why, size_t why_len, FILE *err)
{
    struct certinfo_list list = {.count = 0};
    struct certinfo info;
    EVP_PKEY *key = NULL;
    char verr[128];
    const char *reason = NULL;
    if (load_certs(o->cert, &list, err) != ZL_OK ||
        load_key(o->key, &key, err) != ZL_OK)
        reason = "the pair cannot be read";
    else if (!certkey_matches(list.certs[0], key))
        reason = "the certificate does not match its key";
    else if (certinfo_verify(list.certs[0], ca, false, now, verr,
                             sizeof(verr)) != ZL_OK)
        reason = "the certificate is not signed by the CA";
    else if (!certinfo_sans_equal(list.certs[0], o->dns.items, o->dns.count,
                                  o->ips.items, o->ips.count))
        reason = "its names differ from --dns/--ip";
    else if (certinfo_describe(list.certs[0], &info) != ZL_OK)
        reason = "its validity cannot be read";
    else if (certinfo_expired(&info, now) ||
             certinfo_days_left(&info, now) < o->renew_days) {
        snprintf(why, why_len, "%ld days left, under --renew-days %ld",
                 certinfo_days_left(&info, now), o->renew_days);
        reason = why;
    } else {
        snprintf(why, why_len, "%ld days left", certinfo_days_left(&info, now));
    }
    EVP_PKEY_free(key);
    certinfo_list_cleanup(&list);
    return reason;
}

static int cmd_rotate(const struct certopts *o, time_t now, FILE *out,
                      FILE *err)
{
    X509 *ca = NULL;
    EVP_PKEY *ca_key = NULL;
    char why[128] = "";
    if (!names_ok(o, err))
        return CERTCMD_EXIT_USAGE;
    enum zl_err rc = load_ca(o, &ca, &ca_key, err);
    if (rc == ZL_OK) {
        const char *reason = renew_reason(o, ca, now, why, sizeof(why), err);
        time_t until = 0;
        char text[32];
        if (reason == NULL) {
            fprintf(out, "kept %s: %s (renews under %ld)\n", o->cert, why,
                    o->renew_days);
        } else if ((rc = issue(o, now, ca, ca_key, o->cert, o->key, &until,
                               err)) == ZL_OK) {
            time_text(until, text, sizeof(text));
            fprintf(out, "renewed %s: %s; valid until %s\n", o->cert, reason,
                    text);
        }
    }
    X509_free(ca);
    EVP_PKEY_free(ca_key);
    return rc == ZL_OK ? CERTCMD_EXIT_OK : CERTCMD_EXIT_FAIL;
}

int certcmd_run(const struct certopts *o, time_t now, FILE *out, FILE *err)
{
    switch (o->cmd) {
    case CERTOPTS_CA:
        return cmd_ca(o, now, out, err);
    case CERTOPTS_SERVE:
        return cmd_serve(o, now, out, err);
    case CERTOPTS_INSPECT:
        return cmd_inspect(o, now, out, err);
    case CERTOPTS_CABUNDLE:
        return cmd_cabundle(o, out, err);
    case CERTOPTS_PATCH_WEBHOOKS:
        return certpatch_run(o, out, err);
    case CERTOPTS_ROTATE:
        return cmd_rotate(o, now, out, err);
    case CERTOPTS_SECRET:
        return certsecret_run(o, out, err);
    case CERTOPTS_NONE:
    case CERTOPTS_HELP:
    case CERTOPTS_VERSION:
        break;
    }
    return CERTCMD_EXIT_USAGE;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* X.509 v3 certificate construction on OpenSSL: serial, names, validity,
 * extensions and signature. */
#include "certs/certmake.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "certs/certkey.h"

#define SERIAL_BYTES 16
#define DAY_S 86400L

void certmake_validity_days(time_t now, long days,
                            struct certmake_validity *out)
{
    out->not_before = now - CERTMAKE_SKEW_S;
    out->not_after = now + (time_t)days * DAY_S;
    if (days <= 0)
        out->not_before = out->not_after - DAY_S;
}

static bool label_ok(const char *s, size_t n)
{
    if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '-')
            return false;
    return true;
}

static bool dns_ok(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len > CERTMAKE_MAX_DNS)
        return false;
    const char *p = strncmp(name, "*.", 2) == 0 ? name + 2 : name;
    for (;;) {
        const char *dot = strchr(p, '.');
        size_t n = dot != NULL ? (size_t)(dot - p) : strlen(p);
        if (!label_ok(p, n))
            return false;
        if (dot == NULL)
            return true;
        p = dot + 1;
    }
}

static bool ip_ok(const char *ip)
{
    unsigned char addr[16];
    return inet_pton(AF_INET, ip, addr) == 1 ||
           inet_pton(AF_INET6, ip, addr) == 1;
}

enum zl_err certmake_check_names(const struct certmake_names *names, char *err,
                                 size_t err_len)
{
    if (names->dns_count == 0) {
        snprintf(err, err_len, "at least one --dns name is needed");
        return ZL_ERR_INVALID;
    }
    if (names->dns_count + names->ip_count > CERTMAKE_MAX_NAMES) {
        snprintf(err, err_len, "more than %d names", CERTMAKE_MAX_NAMES);
        return ZL_ERR_INVALID;
    }
    for (size_t i = 0; i < names->dns_count; i++) {
        if (!dns_ok(names->dns[i])) {
            snprintf(err, err_len, "--dns %s: not a DNS name", names->dns[i]);
            return ZL_ERR_INVALID;
        }
    }
    for (size_t i = 0; i < names->ip_count; i++) {
        if (!ip_ok(names->ips[i])) {
            snprintf(err, err_len, "--ip %s: not an IPv4 or IPv6 address",
                     names->ips[i]);
            return ZL_ERR_INVALID;
        }
    }
    return ZL_OK;
}

/* A positive random serial of SERIAL_BYTES bytes (top bit clear, never 0). */
static enum zl_err set_serial(X509 *x)
{
    unsigned char raw[SERIAL_BYTES];
    if (RAND_bytes(raw, sizeof(raw)) != 1)
        return ZL_ERR_INTERNAL;
    raw[0] = (unsigned char)((raw[0] & 0x7f) | 0x40);
    BIGNUM *bn = BN_bin2bn(raw, sizeof(raw), NULL);
    enum zl_err rc = ZL_ERR_NOMEM;
    if (bn != NULL && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL)
        rc = ZL_OK;
    BN_free(bn);
    return rc;
}

static enum zl_err set_basics(X509 *x, const char *cn,
                              const struct certmake_validity *v, EVP_PKEY *key)
{
    X509_NAME *name = X509_get_subject_name(x);
    if (X509_set_version(x, X509_VERSION_3) != 1 ||
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                   (const unsigned char *)cn, -1, -1, 0) != 1 ||
        ASN1_TIME_set(X509_getm_notBefore(x), v->not_before) == NULL ||
        ASN1_TIME_set(X509_getm_notAfter(x), v->not_after) == NULL ||
        X509_set_pubkey(x, key) != 1)
        return ZL_ERR_INTERNAL;
    return set_serial(x);
}

/* Adds one extension from its OpenSSL configuration text. */
static enum zl_err add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (ext == NULL)
        return ZL_ERR_INTERNAL;
    int ok = X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    return ok == 1 ? ZL_OK : ZL_ERR_NOMEM;
}

static enum zl_err sign(X509 *x, EVP_PKEY *key)
{
    return X509_sign(x, key, EVP_sha256()) > 0 ? ZL_OK : ZL_ERR_INTERNAL;
}

static enum zl_err finish(enum zl_err rc, X509 *x, X509 **out)
{
    ERR_clear_error();
    if (rc != ZL_OK) {
        X509_free(x);
        return rc;
    }
    *out = x;
    return ZL_OK;
}

enum zl_err certmake_ca(const char *cn, const struct certmake_validity *v,
                        EVP_PKEY *key, X509 **out)
{
    *out = NULL;
    X509 *x = X509_new();
    if (x == NULL)
        return ZL_ERR_NOMEM;
    enum zl_err rc = set_basics(x, cn, v, key);
    if (rc == ZL_OK && X509_set_issuer_name(x, X509_get_subject_name(x)) != 1)
        rc = ZL_ERR_INTERNAL;
    if (rc == ZL_OK)
        rc = add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE");
    if (rc == ZL_OK)
        rc = add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign");
    if (rc == ZL_OK)
        rc = add_ext(x, x, NID_subject_key_identifier, "hash");
    if (rc == ZL_OK)
        rc = add_ext(x, x, NID_authority_key_identifier, "keyid:always");
    if (rc == ZL_OK)
        rc = sign(x, key);
    return finish(rc, x, out);
}

static enum zl_err push_name(GENERAL_NAMES *gens, int type, const char *value)
{
    GENERAL_NAME *gen = NULL;
    if (type == GEN_IPADD) {
        ASN1_OCTET_STRING *ip = a2i_IPADDRESS(value);
        gen = ip != NULL ? GENERAL_NAME_new() : NULL;
        if (gen == NULL) {
            ASN1_OCTET_STRING_free(ip);
            return ZL_ERR_INVALID;
        }
        GENERAL_NAME_set0_value(gen, GEN_IPADD, ip);
    } else {
        ASN1_IA5STRING *dns = ASN1_IA5STRING_new();
        gen = dns != NULL ? GENERAL_NAME_new() : NULL;
        if (gen == NULL || ASN1_STRING_set(dns, value, -1) != 1) {
            ASN1_IA5STRING_free(dns);
            GENERAL_NAME_free(gen);
            return ZL_ERR_NOMEM;
        }
        GENERAL_NAME_set0_value(gen, GEN_DNS, dns);
    }
    if (sk_GENERAL_NAME_push(gens, gen) <= 0) {
        GENERAL_NAME_free(gen);
        return ZL_ERR_NOMEM;
    }
    return ZL_OK;
}

static enum zl_err add_sans(X509 *x, const struct certmake_names *names)
{
    GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
    if (gens == NULL)
        return ZL_ERR_NOMEM;
    enum zl_err rc = ZL_OK;
    for (size_t i = 0; rc == ZL_OK && i < names->dns_count; i++)
        rc = push_name(gens, GEN_DNS, names->dns[i]);
    for (size_t i = 0; rc == ZL_OK && i < names->ip_count; i++)
        rc = push_name(gens, GEN_IPADD, names->ips[i]);
    if (rc == ZL_OK &&
        X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, 0) != 1)
        rc = ZL_ERR_INTERNAL;
    GENERAL_NAMES_free(gens);
    return rc;
}

static enum zl_err add_serve_exts(X509 *x, X509 *ca, EVP_PKEY *key,
                                  const struct certmake_names *names)
{
    const char *usage = certkey_is_rsa(key)
                            ? "critical,digitalSignature,keyEncipherment"
                            : "critical,digitalSignature";
    enum zl_err rc = add_ext(x, ca, NID_basic_constraints, "critical,CA:FALSE");
    if (rc == ZL_OK)
        rc = add_ext(x, ca, NID_key_usage, usage);
    if (rc == ZL_OK)
        rc = add_ext(x, ca, NID_ext_key_usage, "serverAuth");
    if (rc == ZL_OK)
        rc = add_ext(x, ca, NID_subject_key_identifier, "hash");
    if (rc == ZL_OK)
        rc = add_ext(x, ca, NID_authority_key_identifier, "keyid:always");
    if (rc == ZL_OK)
        rc = add_sans(x, names);
    return rc;
}

enum zl_err certmake_serve(const struct certmake_names *names,
                           const struct certmake_validity *v, EVP_PKEY *key,
                           X509 *ca, EVP_PKEY *ca_key, X509 **out)
{
    char why[256];
    *out = NULL;
    if (certmake_check_names(names, why, sizeof(why)) != ZL_OK)
        return ZL_ERR_INVALID;
    X509 *x = X509_new();
    if (x == NULL)
        return ZL_ERR_NOMEM;
    enum zl_err rc = set_basics(x, names->dns[0], v, key);
    if (rc == ZL_OK && X509_set_issuer_name(x, X509_get_subject_name(ca)) != 1)
        rc = ZL_ERR_INTERNAL;
    if (rc == ZL_OK)
        rc = add_serve_exts(x, ca, key, names);
    if (rc == ZL_OK)
        rc = sign(x, ca_key);
    return finish(rc, x, out);
}

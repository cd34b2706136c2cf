/* SPDX-License-Identifier: Apache-2.0 */
/* Certificate parsing and description on OpenSSL; every OpenSSL error is
 * cleared here so the callers see only our codes. */
#include "certs/certinfo.h"

#include <arpa/inet.h>
#include <limits.h>
#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define DAY_S 86400L

void certinfo_list_cleanup(struct certinfo_list *list)
{
    for (size_t i = 0; i < list->count; i++)
        X509_free(list->certs[i]);
    list->count = 0;
}

enum zl_err certinfo_list_push(struct certinfo_list *list, X509 *cert)
{
    if (list->count >= CERTINFO_MAX_CERTS)
        return ZL_ERR_LIMIT;
    if (X509_up_ref(cert) != 1)
        return ZL_ERR_INTERNAL;
    list->certs[list->count++] = cert;
    return ZL_OK;
}

static enum zl_err parse_der(const unsigned char *data, size_t len,
                             struct certinfo_list *out)
{
    const unsigned char *p = data;
    if (len > LONG_MAX)
        return ZL_ERR_LIMIT;
    X509 *x = d2i_X509(NULL, &p, (long)len);
    if (x == NULL || p != data + len) {
        X509_free(x);
        return ZL_ERR_PARSE;
    }
    out->certs[out->count++] = x;
    return ZL_OK;
}

/* One PEM block at a time: certificates kept, other blocks skipped. */
static enum zl_err parse_pem(BIO *bio, struct certinfo_list *out)
{
    for (;;) {
        char *name = NULL;
        char *header = NULL;
        unsigned char *body = NULL;
        long body_len = 0;
        if (PEM_read_bio(bio, &name, &header, &body, &body_len) != 1)
            return out->count > 0 ? ZL_OK : ZL_ERR_PARSE;
        enum zl_err rc = ZL_OK;
        if (strcmp(name, PEM_STRING_X509) == 0 ||
            strcmp(name, PEM_STRING_X509_OLD) == 0)
            rc = out->count >= CERTINFO_MAX_CERTS
                     ? ZL_ERR_LIMIT
                     : parse_der(body, (size_t)body_len, out);
        OPENSSL_free(name);
        OPENSSL_free(header);
        OPENSSL_free(body);
        if (rc != ZL_OK)
            return rc;
    }
}

/* True when the text holds a PEM header line ("-----BEGIN "). */
static bool looks_pem(const char *data, size_t len)
{
    static const char mark[] = "-----BEGIN ";
    for (size_t i = 0; i + sizeof(mark) - 1 <= len; i++)
        if (data[i] == '-' && memcmp(data + i, mark, sizeof(mark) - 1) == 0)
            return true;
    return false;
}

enum zl_err certinfo_parse(const void *data, size_t len,
                           struct certinfo_list *out)
{
    out->count = 0;
    if (len > INT_MAX)
        return ZL_ERR_LIMIT;
    if (len == 0)
        return ZL_ERR_PARSE;
    enum zl_err rc;
    if (looks_pem(data, len)) {
        BIO *bio = BIO_new_mem_buf(data, (int)len);
        if (bio == NULL)
            return ZL_ERR_NOMEM;
        rc = parse_pem(bio, out);
        BIO_free(bio);
    } else {
        rc = parse_der(data, len, out);
    }
    ERR_clear_error();
    return rc;
}

static void name_text(const X509_NAME *name, char *out, size_t out_len)
{
    out[0] = '\0';
    BIO *bio = BIO_new(BIO_s_mem());
    if (bio == NULL)
        return;
    if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253) >= 0) {
        int n = BIO_read(bio, out, (int)out_len - 1);
        out[n > 0 ? n : 0] = '\0';
    }
    BIO_free(bio);
}

static void serial_text(X509 *cert, char *out, size_t out_len)
{
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
    char *hex = bn != NULL ? BN_bn2hex(bn) : NULL;
    snprintf(out, out_len, "%s", hex != NULL ? hex : "?");
    OPENSSL_free(hex);
    BN_free(bn);
}

static void append(char *out, size_t out_len, const char *prefix,
                   const char *value, size_t value_len)
{
    size_t used = strlen(out);
    if (used >= out_len - 1)
        return;
    snprintf(out + used, out_len - used, "%s%s%.*s", used > 0 ? ", " : "",
             prefix, (int)value_len, value);
}

static bool ip_text(const ASN1_STRING *s, char *out, size_t out_len)
{
    int n = ASN1_STRING_length(s);
    int family = n == 4 ? AF_INET : n == 16 ? AF_INET6 : 0;
    return family != 0 && inet_ntop(family, ASN1_STRING_get0_data(s), out,
                                    (socklen_t)out_len) != NULL;
}

/* Compares an IP SAN with an address as text, in its canonical form. */
static bool ip_same(const ASN1_STRING *s, const char *value)
{
    unsigned char want[16];
    int n = ASN1_STRING_length(s);
    int family = n == 4 ? AF_INET : AF_INET6;
    return (n == 4 || n == 16) && inet_pton(family, value, want) == 1 &&
           memcmp(want, ASN1_STRING_get0_data(s), (size_t)n) == 0;
}

static void one_san(const GENERAL_NAME *gen, char *out, size_t out_len)
{
    int type = 0;
    const ASN1_STRING *s = GENERAL_NAME_get0_value(gen, &type);
    if (type == GEN_DNS) {
        append(out, out_len, "DNS:", (const char *)ASN1_STRING_get0_data(s),
               (size_t)ASN1_STRING_length(s));
    } else if (type == GEN_IPADD) {
        char ip[INET6_ADDRSTRLEN];
        if (ip_text(s, ip, sizeof(ip)))
            append(out, out_len, "IP:", ip, strlen(ip));
    }
}

static void sans_text(X509 *cert, char *out, size_t out_len)
{
    out[0] = '\0';
    GENERAL_NAMES *gens =
        X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    for (int i = 0; i < sk_GENERAL_NAME_num(gens); i++)
        one_san(sk_GENERAL_NAME_value(gens, i), out, out_len);
    GENERAL_NAMES_free(gens);
}

static enum zl_err time_of(const ASN1_TIME *t, time_t *out)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
        return ZL_ERR_PARSE;
    *out = timegm(&tm);
    return ZL_OK;
}

enum zl_err certinfo_describe(X509 *cert, struct certinfo *out)
{
    memset(out, 0, sizeof(*out));
    name_text(X509_get_subject_name(cert), out->subject, sizeof(out->subject));
    name_text(X509_get_issuer_name(cert), out->issuer, sizeof(out->issuer));
    serial_text(cert, out->serial, sizeof(out->serial));
    sans_text(cert, out->sans, sizeof(out->sans));
    out->is_ca = (X509_get_extension_flags(cert) & EXFLAG_CA) != 0;
    enum zl_err rc = time_of(X509_get0_notBefore(cert), &out->not_before);
    if (rc == ZL_OK)
        rc = time_of(X509_get0_notAfter(cert), &out->not_after);
    ERR_clear_error();
    return rc;
}

long certinfo_days_left(const struct certinfo *info, time_t now)
{
    long long secs = (long long)info->not_after - (long long)now;
    long long days = secs / DAY_S;
    if (secs < 0 && secs % DAY_S != 0)
        days--;
    return (long)days;
}

bool certinfo_expired(const struct certinfo *info, time_t now)
{
    return info->not_after <= now;
}

static enum zl_err run_verify(X509_STORE *store, X509 *cert, bool check_time,
                              time_t now, char *err, size_t err_len)
{
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    if (ctx == NULL || X509_STORE_CTX_init(ctx, store, cert, NULL) != 1) {
        X509_STORE_CTX_free(ctx);
        return ZL_ERR_NOMEM;
    }
    if (check_time)
        X509_STORE_CTX_set_time(ctx, 0, now);
    else
        X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_NO_CHECK_TIME);
    enum zl_err rc = ZL_OK;
    if (X509_verify_cert(ctx) != 1) {
        snprintf(err, err_len, "%s",
                 X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
        rc = ZL_ERR_INVALID;
    }
    X509_STORE_CTX_free(ctx);
    return rc;
}

enum zl_err certinfo_verify(X509 *cert, X509 *ca, bool check_time, time_t now,
                            char *err, size_t err_len)
{
    X509_STORE *store = X509_STORE_new();
    if (store == NULL)
        return ZL_ERR_NOMEM;
    enum zl_err rc = ZL_ERR_NOMEM;
    if (X509_STORE_add_cert(store, ca) == 1)
        rc = run_verify(store, cert, check_time, now, err, err_len);
    X509_STORE_free(store);
    ERR_clear_error();
    return rc;
}

static bool has_name(const GENERAL_NAMES *gens, int type, const char *value)
{
    for (int i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
        const GENERAL_NAME *gen = sk_GENERAL_NAME_value(gens, i);
        int t = 0;
        const ASN1_STRING *s = GENERAL_NAME_get0_value(gen, &t);
        if (t != type)
            continue;
        if (t == GEN_DNS && (size_t)ASN1_STRING_length(s) == strlen(value) &&
            strncasecmp((const char *)ASN1_STRING_get0_data(s), value,
                        strlen(value)) == 0)
            return true;
        if (t == GEN_IPADD && ip_same(s, value))
            return true;
    }
    return false;
}

bool certinfo_sans_equal(X509 *cert, const char *const *dns, size_t dns_count,
                         const char *const *ips, size_t ip_count)
{
    GENERAL_NAMES *gens =
        X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    bool same = gens != NULL &&
                (size_t)sk_GENERAL_NAME_num(gens) == dns_count + ip_count;
    for (size_t i = 0; same && i < dns_count; i++)
        same = has_name(gens, GEN_DNS, dns[i]);
    for (size_t i = 0; same && i < ip_count; i++)
        same = has_name(gens, GEN_IPADD, ips[i]);
    GENERAL_NAMES_free(gens);
    ERR_clear_error();
    return same;
}

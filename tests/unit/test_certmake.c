/* SPDX-License-Identifier: Apache-2.0 */
/* certmake: the CA's and the serving certificate's extensions, serials and
 * validity, for ECDSA and RSA; issued certificates verified with
 * X509_verify_cert against the CA, and once with the openssl CLI. */
#include <criterion/criterion.h>
#include <openssl/bn.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "certs/cabundle.h"
#include "certs/certinfo.h"
#include "certs/certkey.h"
#include "certs/certmake.h"

static const char *const DNS[] = {"zen-lead-webhook.zen-lead-system.svc",
                                  "localhost"};
static const char *const IPS[] = {"127.0.0.1", "::1"};
static const struct certmake_names NAMES = {DNS, 2, IPS, 2};

struct pki {
    EVP_PKEY *ca_key;
    X509 *ca;
    EVP_PKEY *key;
    X509 *cert;
};

static void pki_make(struct pki *p, enum certkey_type type, long days)
{
    struct certmake_validity v;
    memset(p, 0, sizeof(*p));
    certmake_validity_days(time(NULL), days, &v);
    cr_assert_eq(certkey_generate(type, 2048, &p->ca_key), ZL_OK);
    cr_assert_eq(certmake_ca("test CA", &v, p->ca_key, &p->ca), ZL_OK);
    cr_assert_eq(certkey_generate(type, 2048, &p->key), ZL_OK);
    cr_assert_eq(certmake_serve(&NAMES, &v, p->key, p->ca, p->ca_key, &p->cert),
                 ZL_OK);
}

static void pki_free(struct pki *p)
{
    X509_free(p->cert);
    EVP_PKEY_free(p->key);
    X509_free(p->ca);
    EVP_PKEY_free(p->ca_key);
}

static bool ext_critical(X509 *x, int nid)
{
    int at = X509_get_ext_by_NID(x, nid, -1);
    cr_assert(at >= 0, "extension %d missing", nid);
    return X509_EXTENSION_get_critical(X509_get_ext(x, at)) == 1;
}

/* X509_verify_cert of cert with ca the only anchor, at the current time. */
static int verify(X509 *cert, X509 *ca)
{
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    cr_assert_eq(X509_STORE_add_cert(store, ca), 1);
    cr_assert_eq(X509_STORE_CTX_init(ctx, store, cert, NULL), 1);
    X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
    int ok = X509_verify_cert(ctx);
    int why = X509_STORE_CTX_get_error(ctx);
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    return ok == 1 ? X509_V_OK : why;
}

Test(certmake, ca_has_its_extensions_and_a_128_bit_serial)
{
    static const enum certkey_type types[] = {CERTKEY_ECDSA, CERTKEY_RSA};
    for (size_t i = 0; i < 2; i++) {
        struct pki p;
        pki_make(&p, types[i], 10);
        uint32_t flags = X509_get_extension_flags(p.ca);
        cr_expect(flags & EXFLAG_CA);
        cr_expect(ext_critical(p.ca, NID_basic_constraints));
        cr_expect(ext_critical(p.ca, NID_key_usage));
        cr_expect_eq(X509_get_key_usage(p.ca), KU_KEY_CERT_SIGN | KU_CRL_SIGN);
        cr_expect_not_null(X509_get0_subject_key_id(p.ca));
        cr_expect_not_null(X509_get0_authority_key_id(p.ca));
        cr_expect_eq(ASN1_OCTET_STRING_cmp(X509_get0_subject_key_id(p.ca),
                                           X509_get0_authority_key_id(p.ca)),
                     0);
        BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(p.ca), NULL);
        cr_expect_eq(BN_num_bytes(bn), 16);
        cr_expect(!BN_is_negative(bn));
        BN_free(bn);
        cr_expect_eq(X509_check_issued(p.ca, p.ca), X509_V_OK);
        pki_free(&p);
    }
}

Test(certmake, serials_differ)
{
    struct pki a;
    struct pki b;
    pki_make(&a, CERTKEY_ECDSA, 1);
    pki_make(&b, CERTKEY_ECDSA, 1);
    cr_expect_neq(ASN1_INTEGER_cmp(X509_get0_serialNumber(a.cert),
                                   X509_get0_serialNumber(b.cert)),
                  0);
    pki_free(&a);
    pki_free(&b);
}

Test(certmake, serving_certificate_for_each_key_type_verifies)
{
    static const struct {
        enum certkey_type type;
        uint32_t usage;
    } cases[] = {
        {CERTKEY_ECDSA, KU_DIGITAL_SIGNATURE},
        {CERTKEY_RSA, KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT},
    };
    for (size_t i = 0; i < 2; i++) {
        struct pki p;
        struct certinfo info;
        char why[128];
        pki_make(&p, cases[i].type, 30);
        cr_expect_eq(verify(p.cert, p.ca), X509_V_OK);
        cr_expect_eq(
            certinfo_verify(p.cert, p.ca, true, time(NULL), why, sizeof(why)),
            ZL_OK);
        cr_expect_eq(X509_get_key_usage(p.cert), cases[i].usage);
        cr_expect_eq(X509_get_extended_key_usage(p.cert), XKU_SSL_SERVER);
        cr_expect((X509_get_extension_flags(p.cert) & EXFLAG_CA) == 0);
        cr_expect(ext_critical(p.cert, NID_basic_constraints));
        cr_assert_eq(certinfo_describe(p.cert, &info), ZL_OK);
        cr_expect_str_eq(info.subject,
                         "CN=zen-lead-webhook.zen-lead-system.svc");
        cr_expect_str_eq(info.issuer, "CN=test CA");
        cr_expect_str_eq(info.sans, "DNS:zen-lead-webhook.zen-lead-system.svc, "
                                    "DNS:localhost, IP:127.0.0.1, IP:::1");
        cr_expect_eq(X509_check_host(p.cert, "localhost", 0, 0, NULL), 1);
        cr_expect_eq(X509_check_ip_asc(p.cert, "127.0.0.1", 0), 1);
        cr_expect_eq(X509_check_ip_asc(p.cert, "10.0.0.1", 0), 0);
        cr_expect(certkey_matches(p.cert, p.key));
        pki_free(&p);
    }
}

Test(certmake, another_ca_does_not_verify_it)
{
    struct pki a;
    struct pki b;
    char why[128] = "";
    pki_make(&a, CERTKEY_ECDSA, 30);
    pki_make(&b, CERTKEY_ECDSA, 30);
    cr_expect_neq(verify(a.cert, b.ca), X509_V_OK);
    cr_expect_eq(certinfo_verify(a.cert, b.ca, false, 0, why, sizeof(why)),
                 ZL_ERR_INVALID);
    cr_expect(why[0] != '\0');
    pki_free(&a);
    pki_free(&b);
}

Test(certmake, negative_days_make_an_expired_certificate)
{
    struct pki p;
    struct certinfo info;
    char why[128] = "";
    time_t now = time(NULL);
    pki_make(&p, CERTKEY_ECDSA, -1);
    cr_expect_eq(verify(p.cert, p.ca), X509_V_ERR_CERT_HAS_EXPIRED);
    cr_expect_eq(certinfo_verify(p.cert, p.ca, true, now, why, sizeof(why)),
                 ZL_ERR_INVALID);
    cr_expect(strstr(why, "expired") != NULL, "%s", why);
    cr_expect_eq(certinfo_verify(p.cert, p.ca, false, now, why, sizeof(why)),
                 ZL_OK);
    cr_assert_eq(certinfo_describe(p.cert, &info), ZL_OK);
    cr_expect(certinfo_expired(&info, now));
    cr_expect_eq(certinfo_days_left(&info, now), -1);
    pki_free(&p);
}

Test(certmake, validity_from_days)
{
    static const struct {
        long days;
        time_t before, after;
    } cases[] = {
        {1, 1000000 - CERTMAKE_SKEW_S, 1000000 + 86400},
        {365, 1000000 - CERTMAKE_SKEW_S, 1000000 + 365 * 86400},
        {0, 1000000 - 86400, 1000000},
        {-2, 1000000 - 3 * 86400, 1000000 - 2 * 86400},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct certmake_validity v;
        certmake_validity_days(1000000, cases[i].days, &v);
        cr_expect_eq(v.not_before, cases[i].before, "days %ld", cases[i].days);
        cr_expect_eq(v.not_after, cases[i].after, "days %ld", cases[i].days);
    }
}

Test(certmake, checks_names)
{
    static const char *const long_label[] = {
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.io"};
    static const char *const good[] = {"a.b.svc", "*.example.com", "x-1"};
    static const char *const bad_dns[] = {"a..b"};
    static const char *const inject[] = {"a,IP:1.2.3.4"};
    static const char *const dash[] = {"-a.io"};
    static const char *const bad_ip[] = {"1.2.3"};
    static const char *const host_ip[] = {"localhost"};
    static const struct {
        struct certmake_names names;
        enum zl_err want;
    } cases[] = {
        {{good, 3, IPS, 2}, ZL_OK},
        {{NULL, 0, IPS, 2}, ZL_ERR_INVALID},
        {{bad_dns, 1, NULL, 0}, ZL_ERR_INVALID},
        {{inject, 1, NULL, 0}, ZL_ERR_INVALID},
        {{dash, 1, NULL, 0}, ZL_ERR_INVALID},
        {{long_label, 1, NULL, 0}, ZL_ERR_INVALID},
        {{good, 1, bad_ip, 1}, ZL_ERR_INVALID},
        {{good, 1, host_ip, 1}, ZL_ERR_INVALID},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char err[256] = "";
        cr_expect_eq(certmake_check_names(&cases[i].names, err, sizeof(err)),
                     cases[i].want, "case %zu: %s", i, err);
        if (cases[i].want != ZL_OK)
            cr_expect(err[0] != '\0');
    }
}

static void write_pem(const char *path, X509 *x)
{
    struct certinfo_list one = {.count = 0};
    struct buf pem;
    buf_init(&pem, 1u << 16);
    cr_assert_eq(certinfo_list_push(&one, x), ZL_OK);
    cr_assert_eq(cabundle_pem(&one, &pem), ZL_OK);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(pem.data, 1, pem.len, f), pem.len);
    fclose(f);
    buf_cleanup(&pem);
    certinfo_list_cleanup(&one);
}

/* The openssl CLI agrees (when it is installed). */
Test(certmake, openssl_verify_accepts_the_serving_certificate)
{
    if (access("/usr/bin/openssl", X_OK) != 0)
        cr_skip_test("no /usr/bin/openssl");
    struct pki p;
    char dir[] = "/tmp/zl-certmake-XXXXXX";
    char ca[64];
    char leaf[64];
    char cmd[256];
    pki_make(&p, CERTKEY_ECDSA, 30);
    cr_assert_not_null(mkdtemp(dir));
    snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
    snprintf(leaf, sizeof(leaf), "%s/tls.crt", dir);
    write_pem(ca, p.ca);
    write_pem(leaf, p.cert);
    snprintf(cmd, sizeof(cmd),
             "/usr/bin/openssl verify -purpose sslserver -CAfile %s %s", ca,
             leaf);
    FILE *f = popen(cmd, "r");
    char line[256] = "";
    cr_assert_not_null(f);
    cr_assert_not_null(fgets(line, sizeof(line), f));
    cr_expect_eq(pclose(f), 0);
    cr_expect(strstr(line, ": OK") != NULL, "%s", line);
    unlink(ca);
    unlink(leaf);
    rmdir(dir);
    pki_free(&p);
}

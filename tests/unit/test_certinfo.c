/* SPDX-License-Identifier: Apache-2.0 */
/* certinfo: bundles of several certificates (PEM, with other blocks in
 * between), one DER certificate, broken input, the bundle limit, days left
 * around the boundaries, and SAN comparison. */
#include <criterion/criterion.h>
#include <openssl/pem.h>
#include <string.h>

#include "certs/cabundle.h"
#include "certs/certinfo.h"
#include "certs/certkey.h"
#include "certs/certmake.h"

static X509 *new_ca(const char *cn, long days)
{
    EVP_PKEY *key = NULL;
    X509 *ca = NULL;
    struct certmake_validity v;
    certmake_validity_days(time(NULL), days, &v);
    cr_assert_eq(certkey_generate(CERTKEY_ECDSA, 0, &key), ZL_OK);
    cr_assert_eq(certmake_ca(cn, &v, key, &ca), ZL_OK);
    EVP_PKEY_free(key);
    return ca;
}

static void pem_of(X509 *const *certs, size_t n, struct buf *out)
{
    struct certinfo_list list = {.count = 0};
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(certinfo_list_push(&list, certs[i]), ZL_OK);
    cr_assert_eq(cabundle_pem(&list, out), ZL_OK);
    certinfo_list_cleanup(&list);
}

Test(certinfo, parses_a_bundle_of_several_cas_in_order)
{
    X509 *cas[3] = {new_ca("one", 10), new_ca("two", 20), new_ca("three", 30)};
    struct buf pem;
    struct certinfo_list list = {.count = 0};
    buf_init(&pem, 1u << 20);
    pem_of(cas, 3, &pem);
    cr_assert_eq(certinfo_parse(pem.data, pem.len, &list), ZL_OK);
    cr_assert_eq(list.count, 3);
    static const char *const want[] = {"CN=one", "CN=two", "CN=three"};
    for (size_t i = 0; i < 3; i++) {
        struct certinfo info;
        cr_assert_eq(certinfo_describe(list.certs[i], &info), ZL_OK);
        cr_expect_str_eq(info.subject, want[i]);
        cr_expect(info.is_ca);
        cr_expect_str_eq(info.sans, "");
        cr_expect_eq(X509_cmp(list.certs[i], cas[i]), 0);
        X509_free(cas[i]);
    }
    certinfo_list_cleanup(&list);
    buf_cleanup(&pem);
}

Test(certinfo, skips_keys_and_reads_der)
{
    X509 *ca = new_ca("der", 5);
    struct buf text;
    struct certinfo_list list = {.count = 0};
    buf_init(&text, 1u << 20);
    cr_assert_eq(buf_puts(&text, "-----BEGIN PRIVATE KEY-----\nMAA=\n"
                                 "-----END PRIVATE KEY-----\ncomment\n"),
                 ZL_OK);
    pem_of(&ca, 1, &text);
    cr_assert_eq(certinfo_parse(text.data, text.len, &list), ZL_OK);
    cr_expect_eq(list.count, 1);
    certinfo_list_cleanup(&list);

    unsigned char *der = NULL;
    int der_len = i2d_X509(ca, &der);
    cr_assert(der_len > 0);
    cr_assert_eq(certinfo_parse(der, (size_t)der_len, &list), ZL_OK);
    cr_expect_eq(list.count, 1);
    cr_expect_eq(X509_cmp(list.certs[0], ca), 0);
    certinfo_list_cleanup(&list);
    /* A DER certificate with a byte more is not one certificate. */
    unsigned char *longer = OPENSSL_malloc((size_t)der_len + 1);
    memcpy(longer, der, (size_t)der_len);
    longer[der_len] = 0;
    cr_expect_eq(certinfo_parse(longer, (size_t)der_len + 1, &list),
                 ZL_ERR_PARSE);
    certinfo_list_cleanup(&list);
    OPENSSL_free(longer);
    OPENSSL_free(der);
    buf_cleanup(&text);
    X509_free(ca);
}

Test(certinfo, broken_input_is_a_parse_error)
{
    static const char *const texts[] = {
        "",
        "hello",
        "-----BEGIN CERTIFICATE-----\n",
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        "-----BEGIN PRIVATE KEY-----\nMAA=\n-----END PRIVATE KEY-----\n",
        "\x30\x03\x02\x01\x01",
    };
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        struct certinfo_list list = {.count = 0};
        cr_expect_eq(certinfo_parse(texts[i], strlen(texts[i]), &list),
                     ZL_ERR_PARSE, "case %zu", i);
        cr_expect_eq(list.count, 0);
        certinfo_list_cleanup(&list);
    }
}

Test(certinfo, bundle_past_the_limit_is_refused)
{
    X509 *ca = new_ca("many", 5);
    struct buf one;
    struct buf all;
    struct certinfo_list list = {.count = 0};
    buf_init(&one, 1u << 16);
    buf_init(&all, 1u << 20);
    pem_of(&ca, 1, &one);
    for (size_t i = 0; i < CERTINFO_MAX_CERTS; i++)
        cr_assert_eq(buf_append(&all, one.data, one.len), ZL_OK);
    cr_expect_eq(certinfo_parse(all.data, all.len, &list), ZL_OK);
    cr_expect_eq(list.count, CERTINFO_MAX_CERTS);
    certinfo_list_cleanup(&list);
    cr_assert_eq(buf_append(&all, one.data, one.len), ZL_OK);
    cr_expect_eq(certinfo_parse(all.data, all.len, &list), ZL_ERR_LIMIT);
    certinfo_list_cleanup(&list);
    buf_cleanup(&one);
    buf_cleanup(&all);
    X509_free(ca);
}

Test(certinfo, days_left_round_down)
{
    static const struct {
        time_t after;
        long days;
        bool expired;
    } cases[] = {
        {100000 + 86400 * 3, 3, false}, {100000 + 86400 * 3 - 1, 2, false},
        {100000 + 1, 0, false},         {100000, 0, true},
        {100000 - 1, -1, true},         {100000 - 86400, -1, true},
        {100000 - 86401, -2, true},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct certinfo info = {.not_after = cases[i].after};
        cr_expect_eq(certinfo_days_left(&info, 100000), cases[i].days,
                     "case %zu", i);
        cr_expect_eq(certinfo_expired(&info, 100000), cases[i].expired,
                     "case %zu", i);
    }
}

Test(certinfo, sans_compare_as_sets)
{
    static const char *const dns[] = {"a.svc", "b.svc"};
    static const char *const dns_swapped[] = {"B.svc", "a.svc"};
    static const char *const ips[] = {"10.0.0.1", "fd00::1"};
    static const char *const ips_long[] = {"10.0.0.1", "fd00:0:0::1"};
    static const char *const other_ip[] = {"10.0.0.2", "fd00::1"};
    const struct certmake_names names = {dns, 2, ips, 2};
    EVP_PKEY *key = NULL;
    X509 *cert = NULL;
    X509 *ca = new_ca("sans", 1);
    struct certmake_validity v;
    certmake_validity_days(time(NULL), 1, &v);
    cr_assert_eq(certkey_generate(CERTKEY_ECDSA, 0, &key), ZL_OK);
    /* Signed by its own key: only the names matter here. */
    cr_assert_eq(certmake_serve(&names, &v, key, ca, key, &cert), ZL_OK);
    cr_expect(certinfo_sans_equal(cert, dns, 2, ips, 2));
    cr_expect(certinfo_sans_equal(cert, dns_swapped, 2, ips_long, 2));
    cr_expect(!certinfo_sans_equal(cert, dns, 1, ips, 2));
    cr_expect(!certinfo_sans_equal(cert, dns, 2, other_ip, 2));
    cr_expect(!certinfo_sans_equal(cert, dns, 2, NULL, 0));
    cr_expect(!certinfo_sans_equal(ca, dns, 2, ips, 2));
    X509_free(cert);
    X509_free(ca);
    EVP_PKEY_free(key);
}

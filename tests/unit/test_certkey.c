/* SPDX-License-Identifier: Apache-2.0 */
/* certkey: ECDSA and RSA keys generated, through PEM and back, and the
 * key/certificate match (a certificate made for another key is no match). */
#include <criterion/criterion.h>
#include <string.h>
#include <time.h>

#include "certs/certkey.h"
#include "certs/certmake.h"

static const struct {
    enum certkey_type type;
    long bits;
    int base_id;
} KEYS[] = {
    {CERTKEY_ECDSA, 0, EVP_PKEY_EC},
    {CERTKEY_RSA, 2048, EVP_PKEY_RSA},
};

Test(certkey, generates_each_type_and_round_trips_pem)
{
    for (size_t i = 0; i < sizeof(KEYS) / sizeof(KEYS[0]); i++) {
        EVP_PKEY *key = NULL;
        EVP_PKEY *back = NULL;
        struct buf pem;
        buf_init(&pem, 1u << 16);
        cr_assert_eq(certkey_generate(KEYS[i].type, KEYS[i].bits, &key), ZL_OK);
        cr_expect_eq(EVP_PKEY_get_base_id(key), KEYS[i].base_id);
        cr_expect_eq(certkey_is_rsa(key), KEYS[i].type == CERTKEY_RSA);
        cr_assert_eq(certkey_to_pem(key, &pem), ZL_OK);
        cr_expect(strstr(pem.data, "-----BEGIN PRIVATE KEY-----") != NULL);
        cr_assert_eq(certkey_from_pem(pem.data, pem.len, &back), ZL_OK);
        cr_expect_eq(EVP_PKEY_eq(key, back), 1);
        if (KEYS[i].type == CERTKEY_ECDSA)
            cr_expect_eq(EVP_PKEY_get_bits(key), 256);
        else
            cr_expect_eq(EVP_PKEY_get_bits(key), KEYS[i].bits);
        explicit_bzero(pem.data, pem.len);
        buf_cleanup(&pem);
        EVP_PKEY_free(back);
        EVP_PKEY_free(key);
    }
}

Test(certkey, refuses_odd_rsa_sizes)
{
    static const long bad[] = {0, 1024, 2047, 8192, -2048};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        EVP_PKEY *key = NULL;
        cr_expect_eq(certkey_generate(CERTKEY_RSA, bad[i], &key),
                     ZL_ERR_INVALID, "%ld bits", bad[i]);
        cr_expect_null(key);
    }
    cr_expect(certkey_rsa_bits_ok(3072));
    cr_expect(certkey_rsa_bits_ok(4096));
}

Test(certkey, text_without_a_key_is_a_parse_error)
{
    static const char *texts[] = {
        "", "not pem",
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"};
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        EVP_PKEY *key = NULL;
        cr_expect_eq(certkey_from_pem(texts[i], strlen(texts[i]), &key),
                     ZL_ERR_PARSE, "%s", texts[i]);
        cr_expect_null(key);
    }
}

Test(certkey, matches_only_its_own_certificate)
{
    EVP_PKEY *a = NULL;
    EVP_PKEY *b = NULL;
    EVP_PKEY *r = NULL;
    X509 *ca = NULL;
    struct certmake_validity v;
    certmake_validity_days(time(NULL), 1, &v);
    cr_assert_eq(certkey_generate(CERTKEY_ECDSA, 0, &a), ZL_OK);
    cr_assert_eq(certkey_generate(CERTKEY_ECDSA, 0, &b), ZL_OK);
    cr_assert_eq(certkey_generate(CERTKEY_RSA, 2048, &r), ZL_OK);
    cr_assert_eq(certmake_ca("a", &v, a, &ca), ZL_OK);
    cr_expect(certkey_matches(ca, a));
    cr_expect(!certkey_matches(ca, b));
    cr_expect(!certkey_matches(ca, r));
    cr_expect(!certkey_matches(ca, NULL));
    X509_free(ca);
    EVP_PKEY_free(a);
    EVP_PKEY_free(b);
    EVP_PKEY_free(r);
}

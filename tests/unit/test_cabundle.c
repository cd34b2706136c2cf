/* SPDX-License-Identifier: Apache-2.0 */
/* cabundle: duplicates dropped, a certificate that is not a CA refused,
 * PEM out in order, and base64 against RFC 4648's vectors. */
#include <criterion/criterion.h>
#include <string.h>

#include "certs/cabundle.h"
#include "certs/certkey.h"
#include "certs/certmake.h"

Test(cabundle, base64_vectors)
{
    static const struct {
        const char *in;
        const char *out;
    } cases[] = {{"", ""},
                 {"f", "Zg=="},
                 {"fo", "Zm8="},
                 {"foo", "Zm9v"},
                 {"foob", "Zm9vYg=="},
                 {"fooba", "Zm9vYmE="},
                 {"foobar", "Zm9vYmFy"}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct buf b;
        buf_init(&b, 64);
        cr_assert_eq(buf_puts(&b, ">"), ZL_OK);
        cr_assert_eq(cabundle_base64(cases[i].in, strlen(cases[i].in), &b),
                     ZL_OK);
        cr_expect_str_eq(b.data + 1, cases[i].out);
        cr_expect_eq(b.len, 1 + strlen(cases[i].out));
        buf_cleanup(&b);
    }
}

Test(cabundle, base64_respects_the_buffer_maximum)
{
    struct buf b;
    buf_init(&b, 7);
    cr_expect_neq(cabundle_base64("foobar", 6, &b), ZL_OK);
    buf_cleanup(&b);
}

Test(cabundle, drops_duplicates_and_refuses_non_ca)
{
    static const char *const dns[] = {"leaf.svc"};
    const struct certmake_names names = {dns, 1, NULL, 0};
    EVP_PKEY *key = NULL;
    X509 *a = NULL;
    X509 *b = NULL;
    X509 *leaf = NULL;
    struct certmake_validity v;
    struct certinfo_list bundle = {.count = 0};
    bool added = false;
    certmake_validity_days(time(NULL), 1, &v);
    cr_assert_eq(certkey_generate(CERTKEY_ECDSA, 0, &key), ZL_OK);
    cr_assert_eq(certmake_ca("a", &v, key, &a), ZL_OK);
    cr_assert_eq(certmake_ca("b", &v, key, &b), ZL_OK);
    cr_assert_eq(certmake_serve(&names, &v, key, a, key, &leaf), ZL_OK);
    cr_expect_eq(cabundle_add(&bundle, a, &added), ZL_OK);
    cr_expect(added);
    cr_expect_eq(cabundle_add(&bundle, a, &added), ZL_OK);
    cr_expect(!added);
    cr_expect_eq(cabundle_add(&bundle, b, &added), ZL_OK);
    cr_expect(added);
    cr_expect_eq(cabundle_add(&bundle, leaf, &added), ZL_ERR_INVALID);
    cr_expect(!added);
    cr_assert_eq(bundle.count, 2);

    struct buf pem;
    struct certinfo_list back = {.count = 0};
    buf_init(&pem, 1u << 16);
    cr_assert_eq(cabundle_pem(&bundle, &pem), ZL_OK);
    cr_assert_eq(certinfo_parse(pem.data, pem.len, &back), ZL_OK);
    cr_assert_eq(back.count, 2);
    cr_expect_eq(X509_cmp(back.certs[0], a), 0);
    cr_expect_eq(X509_cmp(back.certs[1], b), 0);
    certinfo_list_cleanup(&back);
    buf_cleanup(&pem);
    certinfo_list_cleanup(&bundle);
    X509_free(leaf);
    X509_free(a);
    X509_free(b);
    EVP_PKEY_free(key);
}

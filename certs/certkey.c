/* SPDX-License-Identifier: Apache-2.0 */
/* Key generation, PEM conversion and the key/certificate match, on
 * OpenSSL 3's EVP interface. */
#include "certs/certkey.h"

#include <limits.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "certs/certbio.h"

bool certkey_rsa_bits_ok(long bits)
{
    return bits == 2048 || bits == 3072 || bits == 4096;
}

enum zl_err certkey_generate(enum certkey_type type, long rsa_bits,
                             EVP_PKEY **out)
{
    *out = NULL;
    if (type == CERTKEY_RSA) {
        if (!certkey_rsa_bits_ok(rsa_bits))
            return ZL_ERR_INVALID;
        *out = EVP_RSA_gen((unsigned int)rsa_bits);
    } else {
        *out = EVP_EC_gen("P-256");
    }
    if (*out == NULL) {
        ERR_clear_error();
        return ZL_ERR_INTERNAL;
    }
    return ZL_OK;
}

enum zl_err certkey_to_pem(EVP_PKEY *key, struct buf *out)
{
    BIO *bio = BIO_new(BIO_s_secmem());
    if (bio == NULL)
        return ZL_ERR_NOMEM;
    enum zl_err rc = ZL_ERR_INTERNAL;
    if (PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) == 1)
        rc = certbio_drain(bio, out);
    ERR_clear_error();
    BIO_free(bio);
    return rc;
}

enum zl_err certkey_from_pem(const char *pem, size_t pem_len, EVP_PKEY **out)
{
    *out = NULL;
    if (pem_len > INT_MAX)
        return ZL_ERR_LIMIT;
    BIO *bio = BIO_new_mem_buf(pem, (int)pem_len);
    if (bio == NULL)
        return ZL_ERR_NOMEM;
    *out = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    ERR_clear_error();
    BIO_free(bio);
    return *out != NULL ? ZL_OK : ZL_ERR_PARSE;
}

bool certkey_matches(X509 *cert, const EVP_PKEY *key)
{
    const EVP_PKEY *pub = X509_get0_pubkey(cert);
    bool same = pub != NULL && key != NULL && EVP_PKEY_eq(pub, key) == 1;
    ERR_clear_error();
    return same;
}

bool certkey_is_rsa(const EVP_PKEY *key)
{
    return EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* CA bundle assembly on OpenSSL. */
#include "certs/cabundle.h"

#include <limits.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "certs/certbio.h"

enum zl_err cabundle_add(struct certinfo_list *bundle, X509 *cert, bool *added)
{
    *added = false;
    if ((X509_get_extension_flags(cert) & EXFLAG_CA) == 0)
        return ZL_ERR_INVALID;
    for (size_t i = 0; i < bundle->count; i++)
        if (X509_cmp(bundle->certs[i], cert) == 0)
            return ZL_OK;
    enum zl_err rc = certinfo_list_push(bundle, cert);
    *added = rc == ZL_OK;
    return rc;
}

enum zl_err cabundle_pem(const struct certinfo_list *bundle, struct buf *out)
{
    BIO *bio = BIO_new(BIO_s_mem());
    if (bio == NULL)
        return ZL_ERR_NOMEM;
    enum zl_err rc = ZL_OK;
    for (size_t i = 0; rc == ZL_OK && i < bundle->count; i++)
        if (PEM_write_bio_X509(bio, bundle->certs[i]) != 1)
            rc = ZL_ERR_NOMEM;
    if (rc == ZL_OK)
        rc = certbio_drain(bio, out);
    BIO_free(bio);
    ERR_clear_error();
    return rc;
}

enum zl_err cabundle_base64(const void *data, size_t len, struct buf *out)
{
    if (len > (size_t)INT_MAX / 4 * 3 - 3)
        return ZL_ERR_LIMIT;
    size_t need = (len + 2) / 3 * 4;
    enum zl_err rc = buf_reserve(out, need + 1);
    if (rc != ZL_OK)
        return rc;
    int n =
        EVP_EncodeBlock((unsigned char *)out->data + out->len, data, (int)len);
    if (n < 0 || (size_t)n != need)
        return ZL_ERR_INTERNAL;
    out->len += need;
    out->data[out->len] = '\0';
    return ZL_OK;
}

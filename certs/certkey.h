/* SPDX-License-Identifier: Apache-2.0 */
/* Private keys for zen-lead-certs: generating ECDSA P-256 or RSA keys,
 * PEM (PKCS#8) in and out, and whether a certificate's public key is a
 * key's. OpenSSL's key type stays the only one; no file I/O here. */
#ifndef ZL_CERTS_CERTKEY_H
#define ZL_CERTS_CERTKEY_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"
#include "base/err.h"

#define CERTKEY_RSA_DEFAULT_BITS 2048

enum certkey_type {
    CERTKEY_ECDSA = 0, /* P-256 */
    CERTKEY_RSA,
};

/* True for the RSA sizes offered: 2048, 3072, 4096. */
bool certkey_rsa_bits_ok(long bits);

/* A new key of type (rsa_bits for RSA only); the caller frees *out with
 * EVP_PKEY_free. ZL_ERR_INVALID for bad bits, ZL_ERR_INTERNAL when OpenSSL
 * fails. */
enum zl_err certkey_generate(enum certkey_type type, long rsa_bits,
                             EVP_PKEY **out);

/* Appends key as unencrypted PKCS#8 PEM to out. The caller wipes out
 * (explicit_bzero) before freeing it. */
enum zl_err certkey_to_pem(EVP_PKEY *key, struct buf *out);

/* Reads the first private key of a PEM text. ZL_ERR_PARSE when there is
 * none. The caller frees *out. */
enum zl_err certkey_from_pem(const char *pem, size_t pem_len, EVP_PKEY **out);

/* True when cert's public key is key's public half. */
bool certkey_matches(X509 *cert, const EVP_PKEY *key);

/* True for an RSA key (which also gets keyEncipherment). */
bool certkey_is_rsa(const EVP_PKEY *key);

#endif

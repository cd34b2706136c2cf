/* SPDX-License-Identifier: Apache-2.0 */
/* Building certificates: a self-signed CA and a serving certificate
 * signed by it, with the extensions the webhook's clients expect. Time is
 * an argument (explicit validity), so expired certificates are as easy to
 * make as fresh ones; no file I/O here. */
#ifndef ZL_CERTS_CERTMAKE_H
#define ZL_CERTS_CERTMAKE_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stddef.h>
#include <time.h>

#include "base/err.h"

#define CERTMAKE_MAX_NAMES 64   /* DNS names plus IP addresses */
#define CERTMAKE_MAX_DNS 253    /* longest DNS name */
#define CERTMAKE_MAX_DAYS 36500 /* --days bounds, either sign */
#define CERTMAKE_SKEW_S 300     /* notBefore this far before now */

struct certmake_validity {
    time_t not_before;
    time_t not_after;
};

/* The subject alternative names of a serving certificate. */
struct certmake_names {
    const char *const *dns;
    size_t dns_count;
    const char *const *ips;
    size_t ip_count;
};

/* Validity of days from now: notBefore CERTMAKE_SKEW_S before now; with
 * days <= 0 the certificate has already expired (notAfter now + days, and
 * notBefore a day before notAfter). */
void certmake_validity_days(time_t now, long days,
                            struct certmake_validity *out);

/* Checks the names: at least one DNS name, each a DNS name (labels of
 * letters, digits and '-', a leading "*." allowed) of at most
 * CERTMAKE_MAX_DNS characters, each IP an IPv4 or IPv6 address, at most
 * CERTMAKE_MAX_NAMES in all. ZL_ERR_INVALID with one line in err. */
enum zl_err certmake_check_names(const struct certmake_names *names, char *err,
                                 size_t err_len);

/* A self-signed CA certificate for key with subject CN cn: basicConstraints
 * CA:TRUE critical, keyUsage keyCertSign and cRLSign critical, SKI and AKI,
 * a random 128-bit serial, SHA-256. The caller frees *out. */
enum zl_err certmake_ca(const char *cn, const struct certmake_validity *v,
                        EVP_PKEY *key, X509 **out);

/* A serving certificate for key's public half, signed by ca_key as ca:
 * CN the first DNS name, SANs names (checked as certmake_check_names
 * does), EKU serverAuth, keyUsage digitalSignature (and keyEncipherment
 * for RSA), CA:FALSE, SKI and AKI. The caller frees *out. */
enum zl_err certmake_serve(const struct certmake_names *names,
                           const struct certmake_validity *v, EVP_PKEY *key,
                           X509 *ca, EVP_PKEY *ca_key, X509 **out);

#endif

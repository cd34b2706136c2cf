/* SPDX-License-Identifier: Apache-2.0 */
/* Reading certificates from outside: a PEM bundle (or one DER
 * certificate) parsed into a list, each described in plain text (subject,
 * issuer, SANs, validity), days left at a given time, and whether one was
 * signed by a given CA. No file I/O; time is an argument. */
#ifndef ZL_CERTS_CERTINFO_H
#define ZL_CERTS_CERTINFO_H

#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "base/err.h"

#define CERTINFO_MAX_CERTS 64 /* certificates in one bundle */
#define CERTINFO_TEXT 512     /* subject, issuer */
#define CERTINFO_SANS 4096    /* the SAN list as text */

struct certinfo_list {
    X509 *certs[CERTINFO_MAX_CERTS];
    size_t count;
};

struct certinfo {
    char subject[CERTINFO_TEXT]; /* RFC 2253 text */
    char issuer[CERTINFO_TEXT];
    char serial[CERTINFO_TEXT]; /* hex */
    char sans[CERTINFO_SANS];   /* "DNS:a, IP:127.0.0.1"; "" when none */
    time_t not_before;
    time_t not_after;
    bool is_ca; /* basicConstraints CA:TRUE */
};

/* Parses data: every CERTIFICATE block of a PEM text, else one DER
 * certificate. Other PEM blocks (keys) are skipped. ZL_ERR_PARSE when no
 * certificate is found or a block is broken, ZL_ERR_LIMIT past
 * CERTINFO_MAX_CERTS. out is filled from empty; clean it up in every
 * case. */
enum zl_err certinfo_parse(const void *data, size_t len,
                           struct certinfo_list *out);

/* Frees the certificates and empties the list. */
void certinfo_list_cleanup(struct certinfo_list *list);

/* Takes cert (a reference is added) onto list. ZL_ERR_LIMIT when full. */
enum zl_err certinfo_list_push(struct certinfo_list *list, X509 *cert);

/* Describes cert. Texts are cut to their buffers. ZL_ERR_PARSE when its
 * validity cannot be read. */
enum zl_err certinfo_describe(X509 *cert, struct certinfo *out);

/* Whole days from now to notAfter, rounded down (negative once expired). */
long certinfo_days_left(const struct certinfo *info, time_t now);

/* True when notAfter is at or before now. */
bool certinfo_expired(const struct certinfo *info, time_t now);

/* ZL_OK when cert verifies against ca as the only trust anchor (its
 * signature and issuer chain), at time now when check_time, else ignoring
 * validity. ZL_ERR_INVALID with OpenSSL's reason in err otherwise. */
enum zl_err certinfo_verify(X509 *cert, X509 *ca, bool check_time, time_t now,
                            char *err, size_t err_len);

/* True when cert's SANs are exactly the DNS names and IPs given (in any
 * order). */
bool certinfo_sans_equal(X509 *cert, const char *const *dns, size_t dns_count,
                         const char *const *ips, size_t ip_count);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* serve's TLS credentials: the certificate and key files read, checked and
 * re-read when they change (a small thread polls them), and handed to
 * GnuTLS per handshake. Internal to common/serve: GnuTLS's types appear
 * here, so only serve.c and serve_tls.c include this header. */
#ifndef ZL_SERVE_SERVE_TLS_H
#define ZL_SERVE_SERVE_TLS_H

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>

#include "base/err.h"
#include "serve/serve.h"

struct serve_tls_creds;

/* Checks opt, reads and checks the first pair. ZL_ERR_INVALID for a bad
 * option, ZL_ERR_IO for a file that cannot be read, ZL_ERR_PARSE for
 * contents that are not a certificate chain and a matching key (the log
 * says which). where names the server in log lines. */
enum zl_err serve_tls_creds_new(const struct serve_tls *opt, const char *where,
                                struct serve_tls_creds **out);

/* Starts the thread that re-reads changed files. ZL_ERR_NOMEM when it
 * cannot start. */
enum zl_err serve_tls_creds_start(struct serve_tls_creds *c);

/* Stops that thread (idempotent). */
void serve_tls_creds_stop(struct serve_tls_creds *c);

/* Stops and frees. NULL is a no-op. */
void serve_tls_creds_free(struct serve_tls_creds *c);

/* The GnuTLS priority string for the minimum version. */
const char *serve_tls_creds_priorities(const struct serve_tls_creds *c);

/* For a gnutls_certificate_retrieve_function3: fresh copies of the pair in
 * service, which GnuTLS frees after the handshake (*flags gets
 * GNUTLS_CERT_RETR_DEINIT_ALL). 0, or a negative GnuTLS error. Any thread. */
int serve_tls_creds_retrieve(struct serve_tls_creds *c, gnutls_pcert_st **pcert,
                             unsigned int *pcert_length,
                             gnutls_privkey_t *privkey, unsigned int *flags);

/* The state for readiness and metrics. Any thread. */
void serve_tls_creds_status(struct serve_tls_creds *c,
                            struct serve_tls_status *out);

/* Checks the files now (the thread does the same every interval): reloads
 * them when their identity changed. Returns true when a new pair went into
 * service. */
bool serve_tls_creds_check(struct serve_tls_creds *c);

#endif

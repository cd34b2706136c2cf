/* SPDX-License-Identifier: Apache-2.0 */
/* zen-lead-certs secret: the serving pair (and the CA certificate) as a
 * kubernetes.io/tls Secret, created or replaced through the API, so a
 * cluster without cert-manager gets the Secret the webhook mounts. The
 * rendering is pure; certsecret_run does the I/O. */
#ifndef ZL_CERTS_CERTSECRET_H
#define ZL_CERTS_CERTSECRET_H

#include <stddef.h>
#include <stdio.h>

#include "base/buf.h"
#include "base/err.h"
#include "certs/certopts.h"

#define CERTSECRET_ATTEMPTS 5 /* writes tried while they meet a conflict */

/* The PEM files of one Secret; ca may be NULL (no ca.crt key). */
struct certsecret_pems {
    const char *cert;
    size_t cert_len;
    const char *key;
    size_t key_len;
    const char *ca;
    size_t ca_len;
};

/* Appends the Secret's JSON: apiVersion v1, kind Secret, type
 * kubernetes.io/tls, metadata {name, namespace, labels
 * app.kubernetes.io/managed-by: zen-lead-certs, resourceVersion when
 * resource_version is not NULL}, data {tls.crt, tls.key[, ca.crt]} in
 * base64. Errors as buf_append. */
enum zl_err certsecret_render(const char *ns, const char *name,
                              const struct certsecret_pems *pems,
                              const char *resource_version, struct buf *out);

/* Runs the secret subcommand: reads the files, checks the key belongs to
 * the certificate (and the certificate to the CA, when given), then
 * creates the Secret, or replaces it (PUT with the resourceVersion read)
 * when it exists. Returns the exit status (0 or 1). */
int certsecret_run(const struct certopts *o, FILE *out, FILE *err);

#endif

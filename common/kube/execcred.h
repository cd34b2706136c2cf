/* SPDX-License-Identifier: Apache-2.0 */
/* Client-go exec credential plugins (client.authentication.k8s.io v1 and
 * v1beta1): runs the plugin without a shell or a terminal and reads the
 * ExecCredential it prints. It neither caches nor refreshes the credential:
 * the caller runs it once. */
#ifndef ZL_KUBE_EXECCRED_H
#define ZL_KUBE_EXECCRED_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

/* Plugin stdout read at most (more is ZL_ERR_LIMIT), and stderr kept for
 * the error line. */
#define EXECCRED_MAX_OUTPUT (1 << 20)
#define EXECCRED_MAX_STDERR 4096
#define EXECCRED_V1 "client.authentication.k8s.io/v1"
#define EXECCRED_V1BETA1 "client.authentication.k8s.io/v1beta1"

/* One environment variable set for the plugin (over the caller's own). */
struct execcred_env {
    const char *name;
    const char *value;
};

/* The cluster as a plugin with provideClusterInfo sees it in
 * KUBERNETES_EXEC_INFO's spec.cluster. Borrowed. */
struct execcred_cluster {
    const char *server;
    const char *ca_pem; /* NULL: none; sent base64 encoded */
    size_t ca_pem_len;
    bool insecure_skip_tls_verify;
};

/* What to run. Strings are borrowed. command is looked up in PATH unless
 * it holds a '/'. */
struct execcred_spec {
    const char *api_version; /* EXECCRED_V1 or EXECCRED_V1BETA1 */
    char *command;
    char *const *args; /* args_count words after the command */
    size_t args_count;
    const struct execcred_env *env;
    size_t env_count;
    const struct execcred_cluster *cluster; /* NULL: not provided */
};

/* The credential: a bearer token, a client certificate and key (PEM), or
 * both. Owned; token and key are wiped before free. */
struct execcred_result {
    char *token;
    char *cert_pem;
    size_t cert_pem_len;
    char *key_pem;
    size_t key_pem_len;
};

/* Runs the plugin with stdin from /dev/null, the caller's environment plus
 * spec->env and KUBERNETES_EXEC_INFO (an ExecCredential with
 * spec.interactive false, and spec.cluster when spec->cluster is set),
 * reads its stdout (at most EXECCRED_MAX_OUTPUT
 * bytes; a plugin writing more is killed) and parses it as
 * execcred_parse does. Blocks until the plugin exits. On failure why (one
 * line) names the command and says what went wrong: cannot be run
 * (ZL_ERR_NOTFOUND when not found, else ZL_ERR_IO), exit status or signal
 * with the first line of its stderr (ZL_ERR_IO), output too large
 * (ZL_ERR_LIMIT), bad output (ZL_ERR_PARSE, ZL_ERR_INVALID). */
enum zl_err execcred_run(const struct execcred_spec *spec,
                         struct execcred_result *out, char *why,
                         size_t why_len);

/* Parses a plugin's output: a JSON ExecCredential whose apiVersion is
 * api_version (kind ExecCredential or absent), with status.token and/or
 * status.clientCertificateData with status.clientKeyData. ZL_ERR_PARSE not a
 * JSON object, ZL_ERR_INVALID wrong apiVersion or kind, no status, neither
 * credential, or a certificate without its key (why says which). */
enum zl_err execcred_parse(const char *json, size_t json_len,
                           const char *api_version, struct execcred_result *out,
                           char *why, size_t why_len);

/* Wipes and frees the credential; the struct is zeroed. NULL is a no-op. */
void execcred_result_cleanup(struct execcred_result *r);

#endif

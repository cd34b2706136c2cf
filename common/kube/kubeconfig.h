/* SPDX-License-Identifier: Apache-2.0 */
/* Where the API server is and how to authenticate: kubeconfig files
 * (parsed with libcyaml) or the in-cluster service-account files. It reads
 * files and the environment and, for kubectl's rules only, runs exec
 * credential plugins; it opens no connection. */
#ifndef ZL_KUBE_KUBECONFIG_H
#define ZL_KUBE_KUBECONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

#define KUBECONFIG_MAX_FILE (4 << 20) /* larger files are ZL_ERR_LIMIT */
#define KUBECONFIG_ERROR_MAX 512
#define KUBECONFIG_MAX_FILES 64 /* $KUBECONFIG files merged at most */
#define KUBECONFIG_SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

/* Everything the REST client needs. Strings are owned by the struct; PEM
 * blobs are the decoded bytes of *-data fields or the contents of the named
 * files (read at load time). */
struct kube_config {
    char *server; /* "https://127.0.0.1:6443" (no trailing slash) */
    char *ca_pem; /* NULL: system trust store */
    size_t ca_pem_len;
    char *client_cert_pem; /* NULL when not using client certificates */
    size_t client_cert_pem_len;
    char *client_key_pem; /* wiped before free */
    size_t client_key_pem_len;
    char *token;      /* bearer token; wiped before free */
    char *token_file; /* re-read when it changes (rotation) */
    bool insecure_skip_tls_verify;
    char *namespace_name; /* context namespace, or in-cluster namespace;
                             NULL when unset */
    char *context_name;   /* the chosen context; NULL in-cluster */
    char *source;         /* "kubeconfig FILE (context X)" or "in-cluster" */
    void *internal;       /* token re-read state; owned */
};

struct kubeconfig_error {
    char text[KUBECONFIG_ERROR_MAX]; /* names the file and the key */
};

/* Loads a kubeconfig file; context NULL means current-context. Relative
 * file paths in it are resolved against the file's folder. ZL_ERR_IO
 * unreadable, ZL_ERR_PARSE malformed YAML, ZL_ERR_INVALID missing or bad
 * key (err names file and key path, e.g. "users[0].user.token-file"),
 * ZL_ERR_NOTFOUND context/cluster/user named but absent. */
enum zl_err kubeconfig_load_file(const char *path, const char *context,
                                 struct kube_config *out,
                                 struct kubeconfig_error *err);

/* In-cluster config from KUBERNETES_SERVICE_HOST/PORT and the files in
 * sa_dir (KUBECONFIG_SA_DIR in production): token (as token_file, so it is
 * re-read on rotation), ca.crt, namespace. ZL_ERR_NOTFOUND when not in a
 * cluster (no env or no token file). */
enum zl_err kubeconfig_in_cluster(const char *sa_dir, struct kube_config *out,
                                  struct kubeconfig_error *err);

/* The daemons' order (SPEC 6): flag_path when given, else in-cluster, else
 * $KUBECONFIG (first entry of the list), else ~/.kube/config. */
enum zl_err kubeconfig_resolve(const char *flag_path, const char *context,
                               struct kube_config *out,
                               struct kubeconfig_error *err);

/* kubeconfig_resolve with the service-account folder given (tests use a
 * temporary one). Same errors. */
enum zl_err kubeconfig_resolve_sa(const char *flag_path, const char *context,
                                  const char *sa_dir, struct kube_config *out,
                                  struct kubeconfig_error *err);

/* Loads the config the way kubectl (client-go's clientcmd) does, for
 * command-line tools:
 * - flag_path given: only that file, which must exist (ZL_ERR_IO);
 * - else env_kubeconfig (the value of $KUBECONFIG) when non-empty: a list
 *   separated by ':'; empty entries and files that do not exist are
 *   skipped; the files are merged: for clusters, users and contexts the
 *   first file defining a name wins, current-context comes from the first
 *   file that sets it; relative paths resolve against the folder of the
 *   file the entry came from;
 * - else HOME/.kube/config when it exists.
 * When that finds nothing (no file, or files defining nothing), the
 * in-cluster config is used (sa_dir: KUBECONFIG_SA_DIR in production);
 * when not in a cluster either, ZL_ERR_NOTFOUND ("no configuration: ...").
 * context NULL means current-context; neither set is ZL_ERR_NOTFOUND.
 * out->context_name is the chosen context, out->namespace_name its
 * namespace. Other errors as kubeconfig_load_file, naming the file and the
 * key. At most KUBECONFIG_MAX_FILES files (ZL_ERR_LIMIT).
 * A user's exec plugin (users[].user.exec: apiVersion
 * client.authentication.k8s.io/v1 or v1beta1, command, args, env,
 * interactiveMode, provideClusterInfo) is checked as client-go does and run
 * once, here, without a terminal (kube/execcred), for a token and/or a
 * client certificate; as in client-go it is not run when the user has a
 * static token, tokenFile or client certificate, which is used instead. The
 * credential is not refreshed
 * when it expires, which is enough for a command-line tool; the daemons'
 * loaders (kubeconfig_load_file, kubeconfig_resolve) refuse exec users. A
 * plugin that cannot run or fails is ZL_ERR_IO (err names the command, its exit
 * status and the first line of its stderr), one printing more than
 * EXECCRED_MAX_OUTPUT bytes ZL_ERR_LIMIT, bad output ZL_ERR_PARSE or
 * ZL_ERR_INVALID. */
enum zl_err kubeconfig_load_kubectl(const char *flag_path, const char *context,
                                    const char *home,
                                    const char *env_kubeconfig,
                                    struct kube_config *out,
                                    struct kubeconfig_error *err);

/* kubeconfig_load_kubectl with the service-account folder given (tests use
 * a temporary one). */
enum zl_err kubeconfig_load_kubectl_sa(const char *flag_path,
                                       const char *context, const char *home,
                                       const char *env_kubeconfig,
                                       const char *sa_dir,
                                       struct kube_config *out,
                                       struct kubeconfig_error *err);

/* kubeconfig_load_kubectl with $HOME and $KUBECONFIG from the
 * environment. */
enum zl_err kubeconfig_load_kubectl_env(const char *flag_path,
                                        const char *context,
                                        struct kube_config *out,
                                        struct kubeconfig_error *err);

/* Parses kubeconfig YAML from memory (the fuzz target's entry point);
 * base_dir resolves relative paths. Exec users are refused as in
 * kubeconfig_load_file, so no input makes it run a program. */
enum zl_err kubeconfig_load_mem(const char *yaml, size_t yaml_len,
                                const char *base_dir, const char *context,
                                struct kube_config *out,
                                struct kubeconfig_error *err);

/* The bearer token to send now: re-reads token_file when its mtime or size
 * changed since the last read (thread safe). *out is a new string the
 * caller wipes and frees, or NULL when the config has no token. */
enum zl_err kubeconfig_current_token(struct kube_config *cfg, char **out);

/* Frees and wipes everything; the struct is zeroed. NULL is a no-op. */
void kubeconfig_cleanup(struct kube_config *cfg);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* Kubeconfig and in-cluster configuration. The YAML is read with a fixed
 * libcyaml schema that ignores keys we do not use (preferences, extensions,
 * proxy-url, ...). Exec credential plugins run only under kubectl's rules
 * (kubeconfig_load_kubectl); elsewhere they, like auth-providers, are
 * recognised only so that selecting such a user fails with a clear line. */
#include "kube/kubeconfig.h"

#include "base/yamlerr.h"
#include "kube/execcred.h"

#include <cyaml/cyaml.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/log.h"

/* Re-read a token file at least this often even when stat says nothing
 * changed (client-go re-reads every minute). */
#define KUBECONFIG_TOKEN_MAX_AGE_NS (60 * CLOCK_NS_PER_S)
#define KUBECONFIG_MAX_TOKEN (64 << 10)
#define KUBECONFIG_MAX_ENTRIES 1024

/* ---- what libcyaml loads ---------------------------------------------- */

struct yc_named_context {
    char *cluster;
    char *user;
    char *namespace_name;
};

struct yc_context {
    char *name;
    struct yc_named_context *context;
};

struct yc_named_cluster {
    char *server;
    char *certificate_authority;
    char *certificate_authority_data;
    char *insecure; /* "true"/"false", checked by us for a clear error */
};

struct yc_cluster {
    char *name;
    struct yc_named_cluster *cluster;
};

struct yc_plugin {
    char *name; /* auth-provider */
};

struct yc_exec_env {
    char *name;
    char *value;
};

struct yc_exec {
    char *api_version;
    char *command;
    char **args;
    uint32_t args_count;
    struct yc_exec_env *env;
    uint32_t env_count;
    char *interactive_mode;
    char *provide_cluster_info; /* "true"/"false", checked by us */
};

struct yc_named_user {
    char *client_certificate;
    char *client_certificate_data;
    char *client_key;
    char *client_key_data;
    char *token;
    char *token_file;
    struct yc_exec *exec;
    struct yc_plugin *auth_provider;
};

struct yc_user {
    char *name;
    struct yc_named_user *user;
};

struct yc_root {
    char *api_version;
    char *kind;
    char *current_context;
    struct yc_context *contexts;
    uint32_t contexts_count;
    struct yc_cluster *clusters;
    uint32_t clusters_count;
    struct yc_user *users;
    uint32_t users_count;
};

#define KC_STR(key, st, member)                                                \
    CYAML_FIELD_STRING_PTR(key, CYAML_FLAG_OPTIONAL, st, member, 0,            \
                           KUBECONFIG_MAX_FILE)

static const cyaml_schema_field_t context_fields[] = {
    KC_STR("cluster", struct yc_named_context, cluster),
    KC_STR("user", struct yc_named_context, user),
    KC_STR("namespace", struct yc_named_context, namespace_name),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t context_entry_fields[] = {
    KC_STR("name", struct yc_context, name),
    CYAML_FIELD_MAPPING_PTR("context", CYAML_FLAG_OPTIONAL, struct yc_context,
                            context, context_fields),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t cluster_fields[] = {
    KC_STR("server", struct yc_named_cluster, server),
    KC_STR("certificate-authority", struct yc_named_cluster,
           certificate_authority),
    KC_STR("certificate-authority-data", struct yc_named_cluster,
           certificate_authority_data),
    KC_STR("insecure-skip-tls-verify", struct yc_named_cluster, insecure),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t cluster_entry_fields[] = {
    KC_STR("name", struct yc_cluster, name),
    CYAML_FIELD_MAPPING_PTR("cluster", CYAML_FLAG_OPTIONAL, struct yc_cluster,
                            cluster, cluster_fields),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t plugin_fields[] = {
    KC_STR("name", struct yc_plugin, name),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t exec_env_fields[] = {
    KC_STR("name", struct yc_exec_env, name),
    KC_STR("value", struct yc_exec_env, value),
    CYAML_FIELD_END,
};

static const cyaml_schema_value_t exec_env_entry = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct yc_exec_env,
                        exec_env_fields),
};

static const cyaml_schema_value_t exec_arg_entry = {
    CYAML_VALUE_STRING(CYAML_FLAG_POINTER, char, 0, KUBECONFIG_MAX_FILE),
};

/* Tools write "env: null" and "args: null"; both mean none. */
static const cyaml_schema_field_t exec_fields[] = {
    KC_STR("apiVersion", struct yc_exec, api_version),
    KC_STR("command", struct yc_exec, command),
    CYAML_FIELD_SEQUENCE(
        "args", CYAML_FLAG_POINTER_NULL_STR | CYAML_FLAG_OPTIONAL,
        struct yc_exec, args, &exec_arg_entry, 0, KUBECONFIG_MAX_ENTRIES),
    CYAML_FIELD_SEQUENCE(
        "env", CYAML_FLAG_POINTER_NULL_STR | CYAML_FLAG_OPTIONAL,
        struct yc_exec, env, &exec_env_entry, 0, KUBECONFIG_MAX_ENTRIES),
    KC_STR("interactiveMode", struct yc_exec, interactive_mode),
    KC_STR("provideClusterInfo", struct yc_exec, provide_cluster_info),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t user_fields[] = {
    KC_STR("client-certificate", struct yc_named_user, client_certificate),
    KC_STR("client-certificate-data", struct yc_named_user,
           client_certificate_data),
    KC_STR("client-key", struct yc_named_user, client_key),
    KC_STR("client-key-data", struct yc_named_user, client_key_data),
    KC_STR("token", struct yc_named_user, token),
    KC_STR("tokenFile", struct yc_named_user, token_file),
    CYAML_FIELD_MAPPING_PTR("exec", CYAML_FLAG_OPTIONAL, struct yc_named_user,
                            exec, exec_fields),
    CYAML_FIELD_MAPPING_PTR("auth-provider", CYAML_FLAG_OPTIONAL,
                            struct yc_named_user, auth_provider, plugin_fields),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t user_entry_fields[] = {
    KC_STR("name", struct yc_user, name),
    CYAML_FIELD_MAPPING_PTR("user", CYAML_FLAG_OPTIONAL, struct yc_user, user,
                            user_fields),
    CYAML_FIELD_END,
};

static const cyaml_schema_value_t context_entry = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct yc_context,
                        context_entry_fields),
};
static const cyaml_schema_value_t cluster_entry = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct yc_cluster,
                        cluster_entry_fields),
};
static const cyaml_schema_value_t user_entry = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct yc_user, user_entry_fields),
};

static const cyaml_schema_field_t root_fields[] = {
    KC_STR("apiVersion", struct yc_root, api_version),
    KC_STR("kind", struct yc_root, kind),
    KC_STR("current-context", struct yc_root, current_context),
    CYAML_FIELD_SEQUENCE("contexts", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL,
                         struct yc_root, contexts, &context_entry, 0,
                         KUBECONFIG_MAX_ENTRIES),
    CYAML_FIELD_SEQUENCE("clusters", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL,
                         struct yc_root, clusters, &cluster_entry, 0,
                         KUBECONFIG_MAX_ENTRIES),
    CYAML_FIELD_SEQUENCE("users", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL,
                         struct yc_root, users, &user_entry, 0,
                         KUBECONFIG_MAX_ENTRIES),
    CYAML_FIELD_END,
};

static const cyaml_schema_value_t root_schema = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, struct yc_root, root_fields),
};

/* ---- token re-read state ---------------------------------------------- */

struct token_state {
    pthread_mutex_t mu;
    char *token; /* last token read from the file; wiped before free */
    bool loaded;
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
    int64_t read_ns; /* clock_mono_ns() of the last read */
};

/* ---- errors ------------------------------------------------------------ */

static void set_error(struct kubeconfig_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void set_error(struct kubeconfig_error *err, const char *fmt, ...)
{
    if (err == NULL)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->text, sizeof(err->text), fmt, ap);
    va_end(ap);
    /* Values from the file are quoted in errors: keep it one line. */
    for (char *p = err->text; *p != '\0'; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = ' ';
    }
}

static void explain_cyaml(const char *name, cyaml_err_t cerr,
                          const struct yamlerr *ye,
                          struct kubeconfig_error *err)
{
    if (err != NULL)
        yamlerr_describe(ye, name, cerr, err->text, sizeof(err->text));
}

/* ---- helpers ----------------------------------------------------------- */

static void wipe_free(char *s, size_t len)
{
    if (s == NULL)
        return;
    explicit_bzero(s, len);
    free(s);
}

static void wipe_free_str(char *s)
{
    if (s != NULL)
        wipe_free(s, strlen(s));
}

/* Reads a whole file of at most max bytes into a new NUL-terminated
 * buffer. On error errno-style text goes to *why. */
static enum zl_err read_file(const char *path, size_t max, char **out,
                             size_t *len_out, const char **why)
{
    enum zl_err rc = ZL_OK;
    struct buf b;
    char chunk[4096];
    buf_init(&b, max);
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        *why = strerror(errno);
        return ZL_ERR_IO;
    }
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            *why = strerror(errno);
            rc = ZL_ERR_IO;
            goto out;
        }
        if (n == 0)
            break;
        rc = buf_append(&b, chunk, (size_t)n);
        if (rc != ZL_OK) {
            *why = rc == ZL_ERR_LIMIT ? "file too large" : "out of memory";
            goto out;
        }
    }
    if (len_out != NULL)
        *len_out = b.len;
    *out = buf_take(&b);
    if (*out == NULL) {
        *why = "out of memory";
        rc = ZL_ERR_NOMEM;
    }
out:
    explicit_bzero(chunk, sizeof(chunk));
    if (rc != ZL_OK && b.data != NULL)
        explicit_bzero(b.data, b.len);
    buf_cleanup(&b);
    close(fd);
    return rc;
}

static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Standard base64 with padding; whitespace (line breaks) is skipped. */
static enum zl_err b64_decode(const char *in, char **out, size_t *out_len)
{
    size_t in_len = strlen(in);
    char *dec = malloc(in_len / 4 * 3 + 4);
    if (dec == NULL)
        return ZL_ERR_NOMEM;
    size_t n = 0, quad = 0, pad = 0;
    uint32_t acc = 0;
    for (size_t i = 0; i < in_len; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c == ' ' || c == '\n' || c == '\r' || c == '\t')
            continue;
        int v = b64_value(c);
        if (c == '=') {
            if (quad < 2)
                goto bad;
            pad++;
            v = 0;
        } else if (v < 0 || pad > 0) {
            goto bad;
        }
        acc = acc << 6 | (uint32_t)v;
        if (++quad == 4) {
            dec[n++] = (char)(acc >> 16);
            if (pad < 2)
                dec[n++] = (char)(acc >> 8 & 0xff);
            if (pad < 1)
                dec[n++] = (char)(acc & 0xff);
            quad = 0;
            acc = 0;
            if (pad > 0)
                pad = 3; /* nothing may follow padding */
        }
    }
    if (quad != 0 || n == 0)
        goto bad;
    dec[n] = '\0';
    *out = dec;
    *out_len = n;
    return ZL_OK;
bad:
    wipe_free(dec, in_len / 4 * 3 + 4);
    return ZL_ERR_PARSE;
}

static bool is_set(const char *s)
{
    return s != NULL && s[0] != '\0';
}

/* Joins base_dir and a relative path; absolute paths are copied. */
static char *resolve_path(const char *base_dir, const char *path)
{
    struct buf b;
    buf_init(&b, PATH_MAX);
    if (path[0] != '/' && is_set(base_dir)) {
        if (buf_puts(&b, base_dir) != ZL_OK || buf_putc(&b, '/') != ZL_OK)
            goto fail;
    }
    if (buf_puts(&b, path) != ZL_OK)
        goto fail;
    return buf_take(&b);
fail:
    buf_cleanup(&b);
    return NULL;
}

/* ---- building the config ----------------------------------------------- */

struct load_ctx {
    const char *name;     /* file name (or label) for errors */
    const char *base_dir; /* for relative paths */
    struct kubeconfig_error *err;
    bool kubectl; /* exec plugins run */
};

/* Loads a PEM from "<key>-data" (base64) or from the file named in key. */
static enum zl_err load_pem(const struct load_ctx *lc, const char *key_path,
                            const char *data, const char *file, char **out,
                            size_t *out_len)
{
    if (is_set(data)) {
        enum zl_err rc = b64_decode(data, out, out_len);
        if (rc == ZL_ERR_PARSE)
            set_error(lc->err, "%s: %s-data: not valid base64", lc->name,
                      key_path);
        return rc == ZL_ERR_PARSE ? ZL_ERR_INVALID : rc;
    }
    if (!is_set(file))
        return ZL_OK;
    char *full = resolve_path(lc->base_dir, file);
    if (full == NULL)
        return ZL_ERR_NOMEM;
    const char *why = "";
    enum zl_err rc = read_file(full, KUBECONFIG_MAX_FILE, out, out_len, &why);
    if (rc == ZL_ERR_IO || rc == ZL_ERR_LIMIT)
        set_error(lc->err, "%s: %s: cannot read %s: %s", lc->name, key_path,
                  full, why);
    free(full);
    return rc;
}

static struct token_state *token_state_new(void)
{
    struct token_state *ts = calloc(1, sizeof(*ts));
    if (ts == NULL)
        return NULL;
    if (pthread_mutex_init(&ts->mu, NULL) != 0) {
        free(ts);
        return NULL;
    }
    return ts;
}

static char *dup_or_null(const char *s, enum zl_err *rc)
{
    if (!is_set(s))
        return NULL;
    char *d = strdup(s);
    if (d == NULL)
        *rc = ZL_ERR_NOMEM;
    return d;
}

static enum zl_err apply_cluster(const struct load_ctx *lc, int index,
                                 const struct yc_named_cluster *cl,
                                 struct kube_config *out)
{
    char key[64];
    enum zl_err rc = ZL_OK;
    if (cl == NULL || !is_set(cl->server)) {
        set_error(lc->err, "%s: clusters[%d].cluster.server: missing", lc->name,
                  index);
        return ZL_ERR_INVALID;
    }
    if (strncmp(cl->server, "https://", 8) != 0 &&
        strncmp(cl->server, "http://", 7) != 0) {
        set_error(lc->err,
                  "%s: clusters[%d].cluster.server: \"%s\" is not an http(s) "
                  "URL",
                  lc->name, index, cl->server);
        return ZL_ERR_INVALID;
    }
    out->server = strdup(cl->server);
    if (out->server == NULL)
        return ZL_ERR_NOMEM;
    size_t n = strlen(out->server);
    while (n > 0 && out->server[n - 1] == '/')
        out->server[--n] = '\0';
    if (cl->insecure != NULL) {
        if (strcmp(cl->insecure, "true") == 0) {
            out->insecure_skip_tls_verify = true;
        } else if (strcmp(cl->insecure, "false") != 0) {
            set_error(lc->err,
                      "%s: clusters[%d].cluster.insecure-skip-tls-verify: "
                      "\"%s\" is not true or false",
                      lc->name, index, cl->insecure);
            return ZL_ERR_INVALID;
        }
    }
    snprintf(key, sizeof(key), "clusters[%d].cluster.certificate-authority",
             index);
    rc = load_pem(lc, key, cl->certificate_authority_data,
                  cl->certificate_authority, &out->ca_pem, &out->ca_pem_len);
    return rc;
}

/* Checks an exec stanza as client-go's validation does. */
static enum zl_err check_exec(const struct load_ctx *lc, int index,
                              const struct yc_exec *x)
{
    const char *api = x->api_version, *mode = x->interactive_mode;
    bool v1 = is_set(api) && strcmp(api, EXECCRED_V1) == 0;
    if (!is_set(x->command) || !is_set(api)) {
        set_error(lc->err, "%s: users[%d].user.exec.%s: missing", lc->name,
                  index, !is_set(x->command) ? "command" : "apiVersion");
        return ZL_ERR_INVALID;
    }
    if (!v1 && strcmp(api, EXECCRED_V1BETA1) != 0) {
        set_error(lc->err,
                  "%s: users[%d].user.exec.apiVersion: \"%s\" is not %s or %s",
                  lc->name, index, api, EXECCRED_V1, EXECCRED_V1BETA1);
        return ZL_ERR_INVALID;
    }
    for (uint32_t i = 0; i < x->env_count; i++) {
        if (!is_set(x->env[i].name)) {
            set_error(lc->err, "%s: users[%d].user.exec.env[%u].name: missing",
                      lc->name, index, i);
            return ZL_ERR_INVALID;
        }
    }
    const char *pci = x->provide_cluster_info;
    if (pci != NULL && strcmp(pci, "true") != 0 && strcmp(pci, "false") != 0) {
        set_error(lc->err,
                  "%s: users[%d].user.exec.provideClusterInfo: \"%s\" is not "
                  "true or false",
                  lc->name, index, pci);
        return ZL_ERR_INVALID;
    }
    if (!is_set(mode) && !v1)
        return ZL_OK; /* v1beta1 defaults to IfAvailable */
    if (is_set(mode) &&
        (strcmp(mode, "Never") == 0 || strcmp(mode, "IfAvailable") == 0))
        return ZL_OK;
    set_error(lc->err, "%s: users[%d].user.exec.interactiveMode: %s", lc->name,
              index,
              !is_set(mode) ? "missing (required by "
                              "client.authentication.k8s.io/v1)"
              : strcmp(mode, "Always") == 0
                  ? "Always needs a terminal; plugins run without one here"
                  : "not Never, IfAvailable or Always");
    return ZL_ERR_INVALID;
}

/* Moves the plugin's credential into out (which holds no other). */
static void adopt_exec(struct execcred_result *res, struct kube_config *out)
{
    out->token = res->token;
    res->token = NULL;
    if (res->cert_pem != NULL) {
        out->client_cert_pem = res->cert_pem;
        out->client_cert_pem_len = res->cert_pem_len;
        out->client_key_pem = res->key_pem;
        out->client_key_pem_len = res->key_pem_len;
        res->cert_pem = NULL;
        res->key_pem = NULL;
    }
}

/* Runs the user's exec plugin once. A command with a '/' in it is relative
 * to the kubeconfig's folder, as in client-go. */
static enum zl_err apply_exec(const struct load_ctx *lc, int index,
                              const struct yc_exec *x, struct kube_config *out)
{
    struct execcred_result res;
    char why[KUBECONFIG_ERROR_MAX];
    enum zl_err rc = ZL_OK;
    const char *cmd = x->command;
    while (strncmp(cmd, "./", 2) == 0 && cmd[2] != '\0')
        cmd += 2; /* "./plugin" names base_dir/plugin, as filepath.Join */
    char *command = strchr(x->command, '/') != NULL
                        ? resolve_path(lc->base_dir, cmd)
                        : strdup(cmd);
    struct execcred_env *env =
        calloc(x->env_count > 0 ? x->env_count : 1, sizeof(*env));
    if (command == NULL || env == NULL) {
        rc = ZL_ERR_NOMEM;
        goto out;
    }
    for (uint32_t i = 0; i < x->env_count; i++)
        env[i] = (struct execcred_env){x->env[i].name, x->env[i].value};
    /* out already holds the cluster (apply_cluster runs first). */
    struct execcred_cluster cl = {out->server, out->ca_pem, out->ca_pem_len,
                                  out->insecure_skip_tls_verify};
    bool pci = x->provide_cluster_info != NULL &&
               strcmp(x->provide_cluster_info, "true") == 0;
    struct execcred_spec spec = {x->api_version,  command, x->args,
                                 x->args_count,   env,     x->env_count,
                                 pci ? &cl : NULL};
    rc = execcred_run(&spec, &res, why, sizeof(why));
    if (rc == ZL_OK)
        adopt_exec(&res, out);
    else if (rc != ZL_ERR_NOMEM)
        set_error(lc->err, "%s: users[%d].user.exec: %s", lc->name, index, why);
    if (rc == ZL_ERR_NOTFOUND)
        rc = ZL_ERR_IO; /* NOTFOUND is for names absent from the file */
    execcred_result_cleanup(&res);
out:
    free(env);
    free(command);
    return rc;
}

/* token wins over tokenFile, as in client-go. */
static enum zl_err apply_token(const struct load_ctx *lc, int index,
                               const struct yc_named_user *u,
                               struct kube_config *out)
{
    enum zl_err rc = ZL_OK;
    if (is_set(u->token))
        return (out->token = dup_or_null(u->token, &rc)), rc;
    if (!is_set(u->token_file))
        return ZL_OK;
    out->token_file = resolve_path(lc->base_dir, u->token_file);
    if (out->token_file == NULL)
        return ZL_ERR_NOMEM;
    char *tok = NULL;
    rc = kubeconfig_current_token(out, &tok);
    if (rc == ZL_ERR_IO || rc == ZL_ERR_LIMIT)
        set_error(lc->err, "%s: users[%d].user.tokenFile: cannot read %s",
                  lc->name, index, out->token_file);
    wipe_free_str(tok);
    return rc;
}

static enum zl_err apply_user(const struct load_ctx *lc, int index,
                              const struct yc_named_user *u,
                              struct kube_config *out)
{
    char key[64];
    enum zl_err rc = ZL_OK;
    if (u == NULL)
        return ZL_OK;
    if (u->exec != NULL && !lc->kubectl) {
        set_error(lc->err,
                  "%s: users[%d].user.exec: exec credential plugins are not "
                  "supported (use a token, tokenFile or client certificate)",
                  lc->name, index);
        return ZL_ERR_INVALID;
    }
    if (u->auth_provider != NULL) {
        set_error(lc->err,
                  "%s: users[%d].user.auth-provider: auth provider plugins "
                  "are not supported (use a token, tokenFile or client "
                  "certificate)",
                  lc->name, index);
        return ZL_ERR_INVALID;
    }
    snprintf(key, sizeof(key), "users[%d].user.client-certificate", index);
    rc = load_pem(lc, key, u->client_certificate_data, u->client_certificate,
                  &out->client_cert_pem, &out->client_cert_pem_len);
    if (rc != ZL_OK)
        return rc;
    snprintf(key, sizeof(key), "users[%d].user.client-key", index);
    rc = load_pem(lc, key, u->client_key_data, u->client_key,
                  &out->client_key_pem, &out->client_key_pem_len);
    if (rc != ZL_OK)
        return rc;
    if ((out->client_cert_pem == NULL) != (out->client_key_pem == NULL)) {
        set_error(lc->err,
                  "%s: users[%d].user: client-certificate and client-key "
                  "must be given together",
                  lc->name, index);
        return ZL_ERR_INVALID;
    }
    rc = apply_token(lc, index, u, out);
    if (rc == ZL_OK && u->exec != NULL)
        rc = check_exec(lc, index, u->exec);
    /* As client-go: a static token or certificate is used and the plugin
     * is not run at all. */
    if (rc == ZL_OK && u->exec != NULL && out->token == NULL &&
        out->token_file == NULL && out->client_cert_pem == NULL)
        rc = apply_exec(lc, index, u->exec, out);
    return rc;
}

static int find_context(const struct yc_root *root, const char *name)
{
    for (uint32_t i = 0; i < root->contexts_count; i++) {
        if (root->contexts[i].name != NULL &&
            strcmp(root->contexts[i].name, name) == 0)
            return (int)i;
    }
    return -1;
}

static int find_cluster(const struct yc_root *root, const char *name)
{
    for (uint32_t i = 0; i < root->clusters_count; i++) {
        if (root->clusters[i].name != NULL &&
            strcmp(root->clusters[i].name, name) == 0)
            return (int)i;
    }
    return -1;
}

static int find_user(const struct yc_root *root, const char *name)
{
    for (uint32_t i = 0; i < root->users_count; i++) {
        if (root->users[i].name != NULL &&
            strcmp(root->users[i].name, name) == 0)
            return (int)i;
    }
    return -1;
}

/* ---- parsed files and their merge --------------------------------------- */

/* One parsed file: libcyaml's document and what its errors and relative
 * paths need. */
struct kc_doc {
    char *name;           /* file name (or label), for errors */
    char *base_dir;       /* relative paths resolve against it */
    struct yc_root *root; /* NULL for an empty document */
};

/* The files of one load, in order. A name is looked up in each file in
 * turn and the first file that defines it wins, which is client-go's merge
 * (a later file never overrides an entry of the same name). */
struct kc_set {
    struct kc_doc docs[KUBECONFIG_MAX_FILES];
    size_t docs_count;
    bool kubectl; /* kubectl's rules: exec plugins run, see the header */
    struct kubeconfig_error *err;
};

/* An entry found in the set: its file and its index in that file. */
struct kc_ref {
    const struct kc_doc *doc;
    int index;
};

static void cyaml_cfg_init(cyaml_config_t *cfg, struct yamlerr *cap)
{
    memset(cap, 0, sizeof(*cap));
    memset(cfg, 0, sizeof(*cfg));
    cfg->log_fn = yamlerr_log;
    cfg->log_ctx = cap;
    cfg->mem_fn = cyaml_mem;
    cfg->log_level = CYAML_LOG_ERROR;
    cfg->flags = CYAML_CFG_IGNORE_UNKNOWN_KEYS;
}

/* libcyaml frees with the same function; wipe tokens and keys first. */
static void wipe_root(struct yc_root *root)
{
    for (uint32_t i = 0; i < root->users_count; i++) {
        struct yc_named_user *u = root->users[i].user;
        if (u == NULL)
            continue;
        char *secrets[] = {u->token, u->client_key_data};
        for (size_t j = 0; j < 2; j++) {
            if (secrets[j] != NULL)
                explicit_bzero(secrets[j], strlen(secrets[j]));
        }
    }
}

static void root_free(struct yc_root *root)
{
    struct yamlerr cap;
    cyaml_config_t cfg;
    if (root == NULL)
        return;
    cyaml_cfg_init(&cfg, &cap);
    wipe_root(root);
    cyaml_free(&cfg, &root_schema, root, 0);
}

/* Parses one document; *out is NULL for an empty one. */
static enum zl_err doc_parse(const char *name, const char *yaml,
                             size_t yaml_len, struct yc_root **out,
                             struct kubeconfig_error *err)
{
    struct yamlerr cap;
    cyaml_config_t cfg;
    cyaml_cfg_init(&cfg, &cap);
    *out = NULL;
    if (yaml_len > KUBECONFIG_MAX_FILE) {
        set_error(err, "%s: larger than %d bytes", name, KUBECONFIG_MAX_FILE);
        return ZL_ERR_LIMIT;
    }
    cyaml_err_t cerr = cyaml_load_data((const uint8_t *)yaml, yaml_len, &cfg,
                                       &root_schema, (void **)out, NULL);
    if (cerr == CYAML_OK)
        return ZL_OK;
    root_free(*out);
    *out = NULL;
    if (cerr == CYAML_ERR_OOM)
        return ZL_ERR_NOMEM;
    explain_cyaml(name, cerr, &cap, err);
    return cerr == CYAML_ERR_INVALID_VALUE ||
                   cerr == CYAML_ERR_INVALID_DATA_SIZE ||
                   cerr == CYAML_ERR_SEQUENCE_ENTRIES_MAX
               ? ZL_ERR_INVALID
               : ZL_ERR_PARSE;
}

static void set_init(struct kc_set *set, bool kubectl,
                     struct kubeconfig_error *err)
{
    memset(set, 0, sizeof(*set));
    set->kubectl = kubectl;
    set->err = err;
    if (err != NULL)
        err->text[0] = '\0';
}

static void set_cleanup(struct kc_set *set)
{
    for (size_t i = 0; i < set->docs_count; i++) {
        free(set->docs[i].name);
        free(set->docs[i].base_dir);
        root_free(set->docs[i].root);
    }
    set->docs_count = 0;
}

/* Parses yaml and appends it to the set as the file name. */
static enum zl_err set_add(struct kc_set *set, const char *name,
                           const char *yaml, size_t yaml_len,
                           const char *base_dir)
{
    if (set->docs_count == KUBECONFIG_MAX_FILES) {
        set_error(set->err, "%s: more than %d kubeconfig files", name,
                  KUBECONFIG_MAX_FILES);
        return ZL_ERR_LIMIT;
    }
    struct kc_doc *d = &set->docs[set->docs_count];
    memset(d, 0, sizeof(*d));
    d->name = strdup(name);
    d->base_dir = strdup(base_dir != NULL ? base_dir : "");
    enum zl_err rc = ZL_ERR_NOMEM;
    if (d->name != NULL && d->base_dir != NULL)
        rc = doc_parse(name, yaml, yaml_len, &d->root, set->err);
    if (rc != ZL_OK) {
        free(d->name);
        free(d->base_dir);
        memset(d, 0, sizeof(*d));
        return rc;
    }
    set->docs_count++;
    return ZL_OK;
}

/* The folder of a file path ("" for a bare name, "/" for a file in /). */
static char *dir_of(const char *path)
{
    char *dir = strdup(path);
    if (dir == NULL)
        return NULL;
    char *slash = strrchr(dir, '/');
    if (slash == NULL)
        dir[0] = '\0';
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    return dir;
}

/* Reads path and appends it to the set. With missing_ok a file that does
 * not exist is skipped (client-go skips missing $KUBECONFIG entries). */
static enum zl_err set_add_file(struct kc_set *set, const char *path,
                                bool missing_ok)
{
    char *yaml = NULL, *dir = NULL;
    size_t yaml_len = 0;
    const char *why = "";
    if (missing_ok && access(path, F_OK) != 0 && errno == ENOENT)
        return ZL_OK;
    enum zl_err rc =
        read_file(path, KUBECONFIG_MAX_FILE, &yaml, &yaml_len, &why);
    if (rc != ZL_OK) {
        set_error(set->err, "%s: cannot read kubeconfig: %s", path, why);
        return rc;
    }
    dir = dir_of(path);
    rc = dir != NULL ? set_add(set, path, yaml, yaml_len, dir) : ZL_ERR_NOMEM;
    free(dir);
    wipe_free(yaml, yaml_len);
    return rc;
}

/* The first file defining name in the table find searches. */
static bool set_find(const struct kc_set *set,
                     int (*find)(const struct yc_root *, const char *),
                     const char *name, struct kc_ref *ref)
{
    for (size_t i = 0; i < set->docs_count; i++) {
        const struct yc_root *root = set->docs[i].root;
        int at = root != NULL ? find(root, name) : -1;
        if (at >= 0) {
            ref->doc = &set->docs[i];
            ref->index = at;
            return true;
        }
    }
    return false;
}

/* The first file that sets current-context, or NULL. */
static const struct kc_doc *set_current(const struct kc_set *set)
{
    for (size_t i = 0; i < set->docs_count; i++) {
        const struct yc_root *root = set->docs[i].root;
        if (root != NULL && is_set(root->current_context))
            return &set->docs[i];
    }
    return NULL;
}

/* True when no file defines anything (client-go's empty config). */
static bool set_is_empty(const struct kc_set *set)
{
    for (size_t i = 0; i < set->docs_count; i++) {
        const struct yc_root *r = set->docs[i].root;
        if (r != NULL && (r->contexts_count > 0 || r->clusters_count > 0 ||
                          r->users_count > 0 || is_set(r->current_context)))
            return false;
    }
    return true;
}

/* The files' names joined by ", " for errors about the whole set. */
static void set_label(const struct kc_set *set, char *out, size_t len)
{
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; i < set->docs_count && n < len; i++) {
        int w = snprintf(out + n, len - n, "%s%s", i > 0 ? ", " : "",
                         set->docs[i].name);
        if (w < 0)
            break;
        n += (size_t)w;
    }
}

static struct load_ctx doc_ctx(const struct kc_set *set,
                               const struct kc_doc *doc)
{
    struct load_ctx lc = {doc->name, doc->base_dir, set->err, set->kubectl};
    return lc;
}

/* ---- building the config from a set ------------------------------------ */

static enum zl_err set_source(const char *name, const char *context,
                              struct kube_config *out)
{
    struct buf b;
    buf_init(&b, (size_t)2 * PATH_MAX);
    if (buf_printf(&b, "kubeconfig %s (context %s)", name, context) != ZL_OK) {
        buf_cleanup(&b);
        return ZL_ERR_NOMEM;
    }
    out->source = buf_take(&b);
    return out->source != NULL ? ZL_OK : ZL_ERR_NOMEM;
}

/* The context asked for, else current-context of the first file that sets
 * one. */
static enum zl_err choose_context(const struct kc_set *set, const char *context,
                                  struct kc_ref *ref, const char **want)
{
    char label[KUBECONFIG_ERROR_MAX];
    const struct kc_doc *cur = set_current(set);
    set_label(set, label, sizeof(label));
    *want = is_set(context) ? context
            : cur != NULL   ? cur->root->current_context
                            : NULL;
    if (*want == NULL && set->kubectl) {
        set_error(set->err,
                  "%s: current-context: not set and no context given "
                  "(use --context)",
                  label);
        return ZL_ERR_NOTFOUND;
    }
    if (*want == NULL) {
        set_error(set->err, "%s: current-context: not set", label);
        return ZL_ERR_INVALID;
    }
    if (!set_find(set, find_context, *want, ref)) {
        set_error(set->err, "%s: %s: context \"%s\" not found in contexts",
                  cur != NULL && !is_set(context) ? cur->name : label,
                  is_set(context) ? "context" : "current-context", *want);
        return ZL_ERR_NOTFOUND;
    }
    return ZL_OK;
}

/* Finds the chosen context's cluster and user (user->doc stays NULL when
 * the context names none). */
static enum zl_err find_parts(const struct kc_set *set,
                              const struct kc_ref *cref,
                              const struct yc_named_context *ctx,
                              struct kc_ref *cluster, struct kc_ref *user)
{
    const char *name = cref->doc->name;
    if (ctx == NULL || !is_set(ctx->cluster)) {
        set_error(set->err, "%s: contexts[%d].context.cluster: missing", name,
                  cref->index);
        return ZL_ERR_INVALID;
    }
    if (!set_find(set, find_cluster, ctx->cluster, cluster)) {
        set_error(set->err,
                  "%s: contexts[%d].context.cluster: cluster \"%s\" not found "
                  "in clusters",
                  name, cref->index, ctx->cluster);
        return ZL_ERR_NOTFOUND;
    }
    user->doc = NULL;
    if (is_set(ctx->user) && !set_find(set, find_user, ctx->user, user)) {
        set_error(set->err,
                  "%s: contexts[%d].context.user: user \"%s\" not found "
                  "in users",
                  name, cref->index, ctx->user);
        return ZL_ERR_NOTFOUND;
    }
    return ZL_OK;
}

static enum zl_err build_config(const struct kc_set *set, const char *context,
                                struct kube_config *out)
{
    struct kc_ref cref = {NULL, -1}, clref = {NULL, -1}, uref = {NULL, -1};
    const char *want = NULL;
    enum zl_err rc = choose_context(set, context, &cref, &want);
    if (rc != ZL_OK)
        return rc;
    const struct yc_named_context *ctx =
        cref.doc->root->contexts[cref.index].context;
    rc = find_parts(set, &cref, ctx, &clref, &uref);
    if (rc != ZL_OK)
        return rc;
    out->internal = token_state_new();
    if (out->internal == NULL)
        return ZL_ERR_NOMEM;
    struct load_ctx lc = doc_ctx(set, clref.doc);
    rc = apply_cluster(&lc, clref.index,
                       clref.doc->root->clusters[clref.index].cluster, out);
    if (rc == ZL_OK && uref.doc != NULL) {
        lc = doc_ctx(set, uref.doc);
        rc = apply_user(&lc, uref.index, uref.doc->root->users[uref.index].user,
                        out);
    }
    if (rc == ZL_OK)
        out->namespace_name = dup_or_null(ctx->namespace_name, &rc);
    if (rc == ZL_OK)
        out->context_name = dup_or_null(want, &rc);
    if (rc == ZL_OK)
        rc = set_source(cref.doc->name, want, out);
    return rc;
}

/* Builds out from a set holding exactly one file, for the single-file
 * loaders; frees the set. */
static enum zl_err finish_one(struct kc_set *set, enum zl_err rc,
                              const char *context, struct kube_config *out)
{
    if (rc == ZL_OK && set->docs[0].root == NULL) {
        set_error(set->err, "%s: empty kubeconfig", set->docs[0].name);
        rc = ZL_ERR_INVALID;
    }
    if (rc == ZL_OK)
        rc = build_config(set, context, out);
    if (rc == ZL_ERR_NOMEM && set->docs_count > 0)
        set_error(set->err, "%s: out of memory", set->docs[0].name);
    set_cleanup(set);
    if (rc != ZL_OK)
        kubeconfig_cleanup(out);
    return rc;
}

/* ---- public ------------------------------------------------------------ */

enum zl_err kubeconfig_load_mem(const char *yaml, size_t yaml_len,
                                const char *base_dir, const char *context,
                                struct kube_config *out,
                                struct kubeconfig_error *err)
{
    struct kc_set set;
    memset(out, 0, sizeof(*out));
    set_init(&set, false, err);
    enum zl_err rc = set_add(&set, "kubeconfig", yaml, yaml_len, base_dir);
    if (rc == ZL_ERR_NOMEM)
        set_error(err, "kubeconfig: out of memory");
    return finish_one(&set, rc, context, out);
}

enum zl_err kubeconfig_load_file(const char *path, const char *context,
                                 struct kube_config *out,
                                 struct kubeconfig_error *err)
{
    struct kc_set set;
    memset(out, 0, sizeof(*out));
    set_init(&set, false, err);
    enum zl_err rc = set_add_file(&set, path, false);
    if (rc == ZL_ERR_NOMEM)
        set_error(err, "%s: out of memory", path);
    return finish_one(&set, rc, context, out);
}

/* Adds the files of a $KUBECONFIG list: ':' separated, empty entries and
 * missing files skipped. */
static enum zl_err add_env_list(struct kc_set *set, const char *list)
{
    char path[PATH_MAX];
    const char *p = list;
    while (*p != '\0') {
        size_t n = strcspn(p, ":");
        if (n >= sizeof(path)) {
            set_error(set->err, "KUBECONFIG: an entry is longer than %d bytes",
                      PATH_MAX - 1);
            return ZL_ERR_LIMIT;
        }
        if (n > 0) {
            memcpy(path, p, n);
            path[n] = '\0';
            enum zl_err rc = set_add_file(set, path, true);
            if (rc != ZL_OK)
                return rc;
        }
        p += n;
        if (*p == ':')
            p++;
    }
    return ZL_OK;
}

/* kubectl's files: the flag's file (which must exist), else the $KUBECONFIG
 * list, else ~/.kube/config when it exists. */
static enum zl_err kubectl_files(struct kc_set *set, const char *flag_path,
                                 const char *home, const char *env_kubeconfig)
{
    char path[PATH_MAX];
    if (is_set(flag_path))
        return set_add_file(set, flag_path, false);
    if (is_set(env_kubeconfig))
        return add_env_list(set, env_kubeconfig);
    if (!is_set(home))
        return ZL_OK;
    if ((size_t)snprintf(path, sizeof(path), "%s/.kube/config", home) >=
        sizeof(path)) {
        set_error(set->err, "HOME: longer than %d bytes", PATH_MAX - 16);
        return ZL_ERR_LIMIT;
    }
    return set_add_file(set, path, true);
}

static enum zl_err kubectl_in_cluster(const char *sa_dir,
                                      struct kube_config *out,
                                      struct kubeconfig_error *err)
{
    enum zl_err rc = kubeconfig_in_cluster(sa_dir, out, err);
    if (rc == ZL_ERR_NOTFOUND)
        set_error(err, "no configuration: set --kubeconfig or KUBECONFIG, or "
                       "create ~/.kube/config");
    return rc;
}

enum zl_err kubeconfig_load_kubectl_sa(const char *flag_path,
                                       const char *context, const char *home,
                                       const char *env_kubeconfig,
                                       const char *sa_dir,
                                       struct kube_config *out,
                                       struct kubeconfig_error *err)
{
    struct kc_set set;
    char label[KUBECONFIG_ERROR_MAX];
    memset(out, 0, sizeof(*out));
    set_init(&set, true, err);
    enum zl_err rc = kubectl_files(&set, flag_path, home, env_kubeconfig);
    if (rc == ZL_OK && set_is_empty(&set))
        rc = kubectl_in_cluster(sa_dir, out, err);
    else if (rc == ZL_OK)
        rc = build_config(&set, context, out);
    if (rc == ZL_ERR_NOMEM) {
        set_label(&set, label, sizeof(label));
        set_error(err, "%s: out of memory",
                  label[0] != '\0' ? label : "kubeconfig");
    }
    set_cleanup(&set);
    if (rc != ZL_OK)
        kubeconfig_cleanup(out);
    return rc;
}

enum zl_err kubeconfig_load_kubectl(const char *flag_path, const char *context,
                                    const char *home,
                                    const char *env_kubeconfig,
                                    struct kube_config *out,
                                    struct kubeconfig_error *err)
{
    return kubeconfig_load_kubectl_sa(flag_path, context, home, env_kubeconfig,
                                      KUBECONFIG_SA_DIR, out, err);
}

enum zl_err kubeconfig_load_kubectl_env(const char *flag_path,
                                        const char *context,
                                        struct kube_config *out,
                                        struct kubeconfig_error *err)
{
    return kubeconfig_load_kubectl(flag_path, context, getenv("HOME"),
                                   getenv("KUBECONFIG"), out, err);
}

static enum zl_err in_cluster_server(const char *host, const char *port,
                                     struct kube_config *out)
{
    struct buf b;
    buf_init(&b, 1024);
    bool v6 = strchr(host, ':') != NULL && host[0] != '[';
    enum zl_err rc = buf_printf(&b, "https://%s%s%s:%s", v6 ? "[" : "", host,
                                v6 ? "]" : "", port);
    if (rc == ZL_OK) {
        out->server = buf_take(&b);
        rc = out->server != NULL ? ZL_OK : ZL_ERR_NOMEM;
    }
    buf_cleanup(&b);
    return rc;
}

static enum zl_err in_cluster_files(const char *sa_dir, struct kube_config *out,
                                    struct kubeconfig_error *err)
{
    const char *why = "";
    char *path = resolve_path(sa_dir, "token");
    if (path == NULL)
        return ZL_ERR_NOMEM;
    out->token_file = path;
    if (access(path, R_OK) != 0) {
        set_error(err, "in-cluster: no service account token at %s", path);
        return ZL_ERR_NOTFOUND;
    }
    char *tok = NULL;
    enum zl_err rc = kubeconfig_current_token(out, &tok);
    wipe_free_str(tok);
    if (rc != ZL_OK) {
        set_error(err, "in-cluster: cannot read %s", path);
        return rc;
    }
    path = resolve_path(sa_dir, "ca.crt");
    if (path == NULL)
        return ZL_ERR_NOMEM;
    rc = read_file(path, KUBECONFIG_MAX_FILE, &out->ca_pem, &out->ca_pem_len,
                   &why);
    if (rc == ZL_ERR_IO) {
        log_warn("in-cluster: cannot read %s (%s); using the system trust "
                 "store",
                 path, why);
        rc = ZL_OK;
    }
    free(path);
    if (rc != ZL_OK)
        return rc;
    path = resolve_path(sa_dir, "namespace");
    if (path == NULL)
        return ZL_ERR_NOMEM;
    size_t ns_len = 0;
    rc = read_file(path, 256, &out->namespace_name, &ns_len, &why);
    free(path);
    if (rc == ZL_ERR_IO || rc == ZL_ERR_LIMIT)
        return ZL_OK; /* the namespace file is optional */
    while (ns_len > 0 && (out->namespace_name[ns_len - 1] == '\n' ||
                          out->namespace_name[ns_len - 1] == ' '))
        out->namespace_name[--ns_len] = '\0';
    return rc;
}

enum zl_err kubeconfig_in_cluster(const char *sa_dir, struct kube_config *out,
                                  struct kubeconfig_error *err)
{
    memset(out, 0, sizeof(*out));
    if (err != NULL)
        err->text[0] = '\0';
    const char *host = getenv("KUBERNETES_SERVICE_HOST");
    const char *port = getenv("KUBERNETES_SERVICE_PORT");
    if (!is_set(host) || !is_set(port)) {
        set_error(err, "in-cluster: KUBERNETES_SERVICE_HOST and "
                       "KUBERNETES_SERVICE_PORT are not set");
        return ZL_ERR_NOTFOUND;
    }
    enum zl_err rc = ZL_ERR_NOMEM;
    out->internal = token_state_new();
    out->source = strdup("in-cluster");
    if (out->internal == NULL || out->source == NULL)
        goto out;
    rc = in_cluster_server(host, port, out);
    if (rc == ZL_OK)
        rc = in_cluster_files(sa_dir, out, err);
out:
    if (rc == ZL_ERR_NOMEM)
        set_error(err, "in-cluster: out of memory");
    if (rc != ZL_OK)
        kubeconfig_cleanup(out);
    return rc;
}

enum zl_err kubeconfig_resolve_sa(const char *flag_path, const char *context,
                                  const char *sa_dir, struct kube_config *out,
                                  struct kubeconfig_error *err)
{
    if (is_set(flag_path))
        return kubeconfig_load_file(flag_path, context, out, err);
    enum zl_err rc = kubeconfig_in_cluster(sa_dir, out, err);
    if (rc != ZL_ERR_NOTFOUND)
        return rc;
    const char *env = getenv("KUBECONFIG");
    if (is_set(env)) {
        char first[PATH_MAX];
        size_t n = strcspn(env, ":");
        if (n >= sizeof(first)) {
            set_error(err, "KUBECONFIG: first path is too long");
            return ZL_ERR_LIMIT;
        }
        memcpy(first, env, n);
        first[n] = '\0';
        if (n > 0)
            return kubeconfig_load_file(first, context, out, err);
    }
    const char *home = getenv("HOME");
    char path[PATH_MAX];
    if (is_set(home) &&
        (size_t)snprintf(path, sizeof(path), "%s/.kube/config", home) <
            sizeof(path) &&
        access(path, F_OK) == 0)
        return kubeconfig_load_file(path, context, out, err);
    set_error(err, "no kubeconfig: no --kubeconfig flag, not in a cluster, "
                   "KUBECONFIG unset and no ~/.kube/config");
    return ZL_ERR_NOTFOUND;
}

enum zl_err kubeconfig_resolve(const char *flag_path, const char *context,
                               struct kube_config *out,
                               struct kubeconfig_error *err)
{
    return kubeconfig_resolve_sa(flag_path, context, KUBECONFIG_SA_DIR, out,
                                 err);
}

static bool token_changed(const struct token_state *ts, const struct stat *st)
{
    return !ts->loaded || ts->dev != st->st_dev || ts->ino != st->st_ino ||
           ts->size != st->st_size || ts->mtime.tv_sec != st->st_mtim.tv_sec ||
           ts->mtime.tv_nsec != st->st_mtim.tv_nsec ||
           clock_mono_ns() - ts->read_ns > KUBECONFIG_TOKEN_MAX_AGE_NS;
}

/* Called with ts->mu held. Keeps the old token when a re-read fails. */
static enum zl_err token_refresh(struct token_state *ts, const char *path)
{
    struct stat st;
    const char *why = "";
    if (stat(path, &st) != 0) {
        if (ts->loaded) {
            log_warn("token file %s: %s; keeping the last token", path,
                     strerror(errno));
            return ZL_OK;
        }
        return ZL_ERR_IO;
    }
    if (!token_changed(ts, &st))
        return ZL_OK;
    char *text = NULL;
    size_t len = 0;
    enum zl_err rc = read_file(path, KUBECONFIG_MAX_TOKEN, &text, &len, &why);
    if (rc != ZL_OK) {
        if (ts->loaded && rc != ZL_ERR_NOMEM) {
            log_warn("token file %s: %s; keeping the last token", path, why);
            return ZL_OK;
        }
        return rc;
    }
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r' ||
                       text[len - 1] == ' ' || text[len - 1] == '\t'))
        text[--len] = '\0';
    wipe_free_str(ts->token);
    ts->token = text;
    ts->loaded = true;
    ts->dev = st.st_dev;
    ts->ino = st.st_ino;
    ts->size = st.st_size;
    ts->mtime = st.st_mtim;
    ts->read_ns = clock_mono_ns();
    return ZL_OK;
}

enum zl_err kubeconfig_current_token(struct kube_config *cfg, char **out)
{
    *out = NULL;
    if (cfg->token_file == NULL || cfg->internal == NULL) {
        if (cfg->token == NULL)
            return ZL_OK;
        *out = strdup(cfg->token);
        return *out != NULL ? ZL_OK : ZL_ERR_NOMEM;
    }
    struct token_state *ts = cfg->internal;
    pthread_mutex_lock(&ts->mu);
    enum zl_err rc = token_refresh(ts, cfg->token_file);
    if (rc == ZL_OK && ts->token != NULL && ts->token[0] != '\0') {
        *out = strdup(ts->token);
        if (*out == NULL)
            rc = ZL_ERR_NOMEM;
    }
    pthread_mutex_unlock(&ts->mu);
    return rc;
}

void kubeconfig_cleanup(struct kube_config *cfg)
{
    if (cfg == NULL)
        return;
    free(cfg->server);
    free(cfg->ca_pem);
    free(cfg->client_cert_pem);
    wipe_free(cfg->client_key_pem, cfg->client_key_pem_len);
    wipe_free_str(cfg->token);
    free(cfg->token_file);
    free(cfg->namespace_name);
    free(cfg->context_name);
    free(cfg->source);
    struct token_state *ts = cfg->internal;
    if (ts != NULL) {
        wipe_free_str(ts->token);
        pthread_mutex_destroy(&ts->mu);
        free(ts);
    }
    memset(cfg, 0, sizeof(*cfg));
}

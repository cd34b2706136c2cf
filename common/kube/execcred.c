/* SPDX-License-Identifier: Apache-2.0 */
/* Exec credential plugins: posix_spawnp (PATH lookup, no shell), stdout and
 * stderr read through pipes with poll so neither can fill and block the
 * plugin, then the ExecCredential JSON parsed with json-c. No timeout:
 * kubectl waits for its plugins too. */
#include "kube/execcred.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/json.h"

extern char **environ;

#define EXECCRED_ENV_INFO "KUBERNETES_EXEC_INFO"

static void fail(char *why, size_t why_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail(char *why, size_t why_len, const char *fmt, ...)
{
    va_list ap;
    if (why == NULL || why_len == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(why, why_len, fmt, ap);
    va_end(ap);
}

static void wipe_free(char *s, size_t len)
{
    if (s == NULL)
        return;
    explicit_bzero(s, len);
    free(s);
}

void execcred_result_cleanup(struct execcred_result *r)
{
    if (r == NULL)
        return;
    if (r->token != NULL)
        wipe_free(r->token, strlen(r->token));
    free(r->cert_pem);
    wipe_free(r->key_pem, r->key_pem_len);
    memset(r, 0, sizeof(*r));
}

/* A string member of obj, or NULL when absent or not a string. */
static const char *get_string(struct json_object *obj, const char *key)
{
    struct json_object *v = NULL;
    if (!json_object_object_get_ex(obj, key, &v) ||
        !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

static enum zl_err dup_field(const char *s, char **out, size_t *len_out)
{
    if (s == NULL || s[0] == '\0')
        return ZL_OK;
    *out = strdup(s);
    if (*out == NULL)
        return ZL_ERR_NOMEM;
    if (len_out != NULL)
        *len_out = strlen(s);
    return ZL_OK;
}

/* Checks apiVersion and kind; *status is the status object. */
static enum zl_err check_header(struct json_object *root,
                                const char *api_version,
                                struct json_object **status, char *why,
                                size_t why_len)
{
    const char *got = get_string(root, "apiVersion");
    const char *kind = get_string(root, "kind");
    if (got == NULL || strcmp(got, api_version) != 0) {
        fail(why, why_len,
             "output has apiVersion \"%s\", the kubeconfig asks for \"%s\"",
             got != NULL ? got : "", api_version);
        return ZL_ERR_INVALID;
    }
    /* client-go decodes into an ExecCredential: a missing kind is fine. */
    if (kind != NULL && strcmp(kind, "ExecCredential") != 0) {
        fail(why, why_len, "output has kind \"%s\", not ExecCredential", kind);
        return ZL_ERR_INVALID;
    }
    if (!json_object_object_get_ex(root, "status", status) ||
        !json_object_is_type(*status, json_type_object)) {
        fail(why, why_len, "output has no status object");
        return ZL_ERR_INVALID;
    }
    return ZL_OK;
}

enum zl_err execcred_parse(const char *json, size_t json_len,
                           const char *api_version, struct execcred_result *out,
                           char *why, size_t why_len)
{
    struct json_object *root = NULL, *status = NULL;
    memset(out, 0, sizeof(*out));
    enum zl_err rc = json_parse_object(json, json_len, &root);
    if (rc != ZL_OK) {
        if (rc != ZL_ERR_NOMEM)
            fail(why, why_len, "output is not a JSON object");
        return rc == ZL_ERR_NOMEM ? rc : ZL_ERR_PARSE;
    }
    rc = check_header(root, api_version, &status, why, why_len);
    if (rc != ZL_OK)
        goto out;
    const char *token = get_string(status, "token");
    const char *cert = get_string(status, "clientCertificateData");
    const char *key = get_string(status, "clientKeyData");
    bool has_cert = cert != NULL && cert[0] != '\0';
    bool has_key = key != NULL && key[0] != '\0';
    if (has_cert != has_key) {
        fail(why, why_len,
             "status has only one of clientCertificateData and "
             "clientKeyData");
        rc = ZL_ERR_INVALID;
        goto out;
    }
    if (!has_cert && (token == NULL || token[0] == '\0')) {
        fail(why, why_len,
             "status has neither a token nor a client "
             "certificate and key");
        rc = ZL_ERR_INVALID;
        goto out;
    }
    rc = dup_field(token, &out->token, NULL);
    if (rc == ZL_OK)
        rc = dup_field(cert, &out->cert_pem, &out->cert_pem_len);
    if (rc == ZL_OK)
        rc = dup_field(key, &out->key_pem, &out->key_pem_len);
out:
    if (rc != ZL_OK)
        execcred_result_cleanup(out);
    if (rc == ZL_ERR_NOMEM)
        fail(why, why_len, "out of memory");
    json_object_put(root);
    return rc;
}

/* ---- running the plugin ------------------------------------------------ */

static bool env_overridden(const struct execcred_spec *spec, const char *kv)
{
    size_t n = strcspn(kv, "=");
    if (strncmp(kv, EXECCRED_ENV_INFO "=", sizeof(EXECCRED_ENV_INFO)) == 0)
        return true;
    for (size_t i = 0; i < spec->env_count; i++) {
        if (strlen(spec->env[i].name) == n &&
            strncmp(spec->env[i].name, kv, n) == 0)
            return true;
    }
    return false;
}

static void free_envp(char **envp)
{
    if (envp == NULL)
        return;
    for (size_t i = 0; envp[i] != NULL; i++)
        free(envp[i]);
    free(envp);
}

static char *env_pair(const char *name, const char *value)
{
    struct buf b;
    buf_init(&b, EXECCRED_MAX_OUTPUT);
    if (buf_printf(&b, "%s=%s", name, value != NULL ? value : "") != ZL_OK) {
        buf_cleanup(&b);
        return NULL;
    }
    return buf_take(&b);
}

/* The caller's environment, spec->env over it, then KUBERNETES_EXEC_INFO. */
static enum zl_err build_envp(const struct execcred_spec *spec,
                              const char *info, char ***out)
{
    size_t n_env = 0, n = 0;
    while (environ != NULL && environ[n_env] != NULL)
        n_env++;
    char **envp = calloc(n_env + spec->env_count + 2, sizeof(*envp));
    if (envp == NULL)
        return ZL_ERR_NOMEM;
    for (size_t i = 0; i < n_env; i++) {
        if (env_overridden(spec, environ[i]))
            continue;
        if ((envp[n++] = strdup(environ[i])) == NULL)
            goto nomem;
    }
    for (size_t i = 0; i < spec->env_count; i++) {
        if ((envp[n++] = env_pair(spec->env[i].name, spec->env[i].value)) ==
            NULL)
            goto nomem;
    }
    if ((envp[n++] = env_pair(EXECCRED_ENV_INFO, info)) == NULL)
        goto nomem;
    *out = envp;
    return ZL_OK;
nomem:
    free_envp(envp);
    return ZL_ERR_NOMEM;
}

static char *b64_encode(const char *in, size_t in_len)
{
    static const char tab[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *out = malloc((in_len + 2) / 3 * 4 + 1);
    size_t n = 0;
    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < in_len; i += 3) {
        uint32_t v = (uint32_t)(unsigned char)in[i] << 16;
        if (i + 1 < in_len)
            v |= (uint32_t)(unsigned char)in[i + 1] << 8;
        if (i + 2 < in_len)
            v |= (uint32_t)(unsigned char)in[i + 2];
        out[n++] = tab[v >> 18 & 63];
        out[n++] = tab[v >> 12 & 63];
        out[n++] = tab[v >> 6 & 63];
        out[n++] = tab[v & 63];
        if (i + 2 >= in_len)
            out[n - 1] = '='; /* padding for the missing bytes */
        if (i + 1 >= in_len)
            out[n - 2] = '=';
    }
    out[n] = '\0';
    return out;
}

/* spec.cluster as client-go fills it (empty fields left out). */
static enum zl_err cluster_info(const struct execcred_cluster *cl,
                                struct buf *b)
{
    enum zl_err rc = buf_puts(b, ",\"cluster\":{\"server\":");
    if (rc == ZL_OK)
        rc = buf_put_json_string(b, cl->server != NULL ? cl->server : "");
    if (rc == ZL_OK && cl->insecure_skip_tls_verify)
        rc = buf_puts(b, ",\"insecure-skip-tls-verify\":true");
    if (rc == ZL_OK && cl->ca_pem != NULL && cl->ca_pem_len > 0) {
        char *ca = b64_encode(cl->ca_pem, cl->ca_pem_len);
        rc = ca != NULL ? buf_puts(b, ",\"certificate-authority-data\":")
                        : ZL_ERR_NOMEM;
        if (rc == ZL_OK)
            rc = buf_put_json_string(b, ca);
        free(ca);
    }
    return rc == ZL_OK ? buf_putc(b, '}') : rc;
}

/* KUBERNETES_EXEC_INFO: what client-go sends a plugin it runs without a
 * terminal. */
static char *exec_info(const struct execcred_spec *spec)
{
    struct buf b;
    buf_init(&b, (size_t)2 * EXECCRED_MAX_OUTPUT);
    enum zl_err rc = buf_puts(&b, "{\"apiVersion\":");
    if (rc == ZL_OK)
        rc = buf_put_json_string(&b, spec->api_version);
    if (rc == ZL_OK)
        rc = buf_puts(&b, ",\"kind\":\"ExecCredential\","
                          "\"spec\":{\"interactive\":false");
    if (rc == ZL_OK && spec->cluster != NULL)
        rc = cluster_info(spec->cluster, &b);
    if (rc == ZL_OK)
        rc = buf_puts(&b, "}}");
    if (rc != ZL_OK) {
        buf_cleanup(&b);
        return NULL;
    }
    return buf_take(&b);
}

static int make_pipe(int fds[2])
{
    if (pipe(fds) != 0)
        return errno;
    if (fcntl(fds[0], F_SETFD, FD_CLOEXEC) != 0 ||
        fcntl(fds[1], F_SETFD, FD_CLOEXEC) != 0) {
        int e = errno;
        close(fds[0]);
        close(fds[1]);
        return e;
    }
    return 0;
}

/* Starts file (the plugin, argv[0] its command) with stdout on out_w and stderr
 * on err_w; returns 0 or an errno value. Signals the caller may block or ignore
 * are reset. */
static int spawn_plugin(const struct execcred_spec *spec, const char *file,
                        char **envp, int out_w, int err_w, pid_t *pid)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    sigset_t none, dfl;
    char **argv = calloc(spec->args_count + 2, sizeof(*argv));
    if (argv == NULL)
        return ENOMEM;
    argv[0] = spec->command;
    for (size_t i = 0; i < spec->args_count; i++)
        argv[i + 1] = spec->args[i];
    sigemptyset(&none);
    sigemptyset(&dfl);
    sigaddset(&dfl, SIGPIPE);
    sigaddset(&dfl, SIGINT);
    sigaddset(&dfl, SIGTERM);
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &dfl);
    posix_spawnattr_setflags(&attr,
                             POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, out_w, 1);
    posix_spawn_file_actions_adddup2(&fa, err_w, 2);
    int e = posix_spawnp(pid, file, &fa, &attr, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    free(argv);
    return e;
}

/* Reads one chunk from fd into b. Returns false at end of file (or on an
 * error, which ends the stream too). Past max_keep bytes stderr is read and
 * dropped; stdout past its maximum is ZL_ERR_LIMIT in *rc. */
static bool read_chunk(int fd, struct buf *b, bool is_stdout, enum zl_err *rc)
{
    char chunk[4096];
    ssize_t n = read(fd, chunk, sizeof(chunk));
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return true;
    if (n <= 0)
        return false;
    if (is_stdout) {
        *rc = buf_append(b, chunk, (size_t)n);
        explicit_bzero(chunk, sizeof(chunk));
        return *rc == ZL_OK;
    }
    size_t room = EXECCRED_MAX_STDERR - b->len;
    if (room > 0)
        (void)buf_append(b, chunk, (size_t)n < room ? (size_t)n : room);
    return true;
}

/* Reads both pipes until the plugin closes them. */
static enum zl_err collect(int out_r, int err_r, struct buf *out,
                           struct buf *err)
{
    struct pollfd p[2] = {{out_r, POLLIN, 0}, {err_r, POLLIN, 0}};
    enum zl_err rc = ZL_OK;
    while (p[0].fd >= 0 || p[1].fd >= 0) {
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            return ZL_ERR_IO;
        }
        for (size_t i = 0; i < 2; i++) {
            if (p[i].fd < 0 || p[i].revents == 0)
                continue;
            if (!read_chunk(p[i].fd, i == 0 ? out : err, i == 0, &rc))
                p[i].fd = -1;
            if (rc != ZL_OK)
                return rc;
        }
    }
    return ZL_OK;
}

static int wait_plugin(pid_t pid)
{
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            return -1;
    }
    return status;
}

/* The first line of the plugin's stderr, for the error. */
static const char *first_line(struct buf *err)
{
    if (err->len == 0 || buf_putc(err, '\0') != ZL_OK)
        return "no output on stderr";
    err->data[strcspn(err->data, "\r\n")] = '\0';
    return err->data[0] != '\0' ? err->data : "no output on stderr";
}

/* Explains a finished plugin that did not succeed; ZL_OK when it did. */
static enum zl_err judge_exit(const struct execcred_spec *spec, int status,
                              struct buf *err, char *why, size_t why_len)
{
    if (status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return ZL_OK;
    if (status >= 0 && WIFEXITED(status))
        fail(why, why_len, "command \"%s\" exited with status %d: %s",
             spec->command, WEXITSTATUS(status), first_line(err));
    else if (status >= 0 && WIFSIGNALED(status))
        fail(why, why_len, "command \"%s\" was killed by signal %d: %s",
             spec->command, WTERMSIG(status), first_line(err));
    else
        fail(why, why_len, "command \"%s\": cannot wait for it: %s",
             spec->command, strerror(errno));
    return ZL_ERR_IO;
}

/* Collects the plugin's output and its exit. */
static enum zl_err finish(const struct execcred_spec *spec, pid_t pid,
                          int out_r, int err_r, struct buf *out, char *why,
                          size_t why_len)
{
    struct buf err;
    buf_init(&err, EXECCRED_MAX_STDERR + 1);
    enum zl_err rc = collect(out_r, err_r, out, &err);
    int read_errno = errno;
    if (rc != ZL_OK)
        kill(pid, SIGKILL);
    int status = wait_plugin(pid);
    if (rc == ZL_ERR_LIMIT)
        fail(why, why_len, "command \"%s\" wrote more than %d bytes",
             spec->command, EXECCRED_MAX_OUTPUT);
    else if (rc == ZL_ERR_IO)
        fail(why, why_len, "command \"%s\": cannot read its output: %s",
             spec->command, strerror(read_errno));
    else if (rc == ZL_ERR_NOMEM)
        fail(why, why_len, "out of memory");
    else
        rc = judge_exit(spec, status, &err, why, why_len);
    buf_cleanup(&err);
    return rc;
}

/* The file to run: command itself when it holds a '/', else the first
 * executable regular file of that name in $PATH (as Go's exec.LookPath,
 * which client-go uses). Looked up here rather than left to posix_spawnp so
 * that "not found" is told apart from a plugin that fails. */
static enum zl_err find_command(const char *command, char **out)
{
    struct stat st;
    const char *path = getenv("PATH");
    *out = NULL;
    if (strchr(command, '/') != NULL)
        return (*out = strdup(command)) != NULL ? ZL_OK : ZL_ERR_NOMEM;
    for (const char *p = path != NULL ? path : ""; *p != '\0';) {
        size_t n = strcspn(p, ":");
        struct buf b;
        buf_init(&b, PATH_MAX);
        if (buf_printf(&b, "%.*s/%s", n > 0 ? (int)n : 1, n > 0 ? p : ".",
                       command) != ZL_OK) {
            buf_cleanup(&b);
            return ZL_ERR_NOMEM;
        }
        if (stat(b.data, &st) == 0 && S_ISREG(st.st_mode) &&
            access(b.data, X_OK) == 0)
            return (*out = buf_take(&b)) != NULL ? ZL_OK : ZL_ERR_NOMEM;
        buf_cleanup(&b);
        p += n;
        if (*p == ':')
            p++;
    }
    return ZL_ERR_NOTFOUND;
}

/* Starts the plugin and reads it to the end; *out gets its stdout. */
static enum zl_err run_plugin(const struct execcred_spec *spec, char **envp,
                              struct buf *out, char *why, size_t why_len)
{
    int po[2] = {-1, -1}, pe[2] = {-1, -1};
    pid_t pid = 0;
    char *file = NULL;
    enum zl_err rc = find_command(spec->command, &file);
    if (rc == ZL_ERR_NOTFOUND)
        fail(why, why_len, "cannot run command \"%s\": not found in PATH",
             spec->command);
    if (rc != ZL_OK)
        return rc;
    int e = make_pipe(po);
    if (e == 0 && (e = make_pipe(pe)) != 0) {
        close(po[0]);
        close(po[1]);
    }
    if (e == 0) {
        e = spawn_plugin(spec, file, envp, po[1], pe[1], &pid);
        close(po[1]);
        close(pe[1]);
        if (e != 0) {
            close(po[0]);
            close(pe[0]);
        }
    }
    free(file);
    if (e != 0) {
        fail(why, why_len, "cannot run command \"%s\": %s", spec->command,
             strerror(e));
        return e == ENOENT ? ZL_ERR_NOTFOUND : ZL_ERR_IO;
    }
    rc = finish(spec, pid, po[0], pe[0], out, why, why_len);
    close(po[0]);
    close(pe[0]);
    return rc;
}

enum zl_err execcred_run(const struct execcred_spec *spec,
                         struct execcred_result *out, char *why, size_t why_len)
{
    struct buf stdout_buf;
    char **envp = NULL;
    char sub[256];
    memset(out, 0, sizeof(*out));
    buf_init(&stdout_buf, EXECCRED_MAX_OUTPUT);
    char *info = exec_info(spec);
    enum zl_err rc =
        info != NULL ? build_envp(spec, info, &envp) : ZL_ERR_NOMEM;
    if (rc == ZL_OK)
        rc = run_plugin(spec, envp, &stdout_buf, why, why_len);
    else
        fail(why, why_len, "out of memory");
    if (rc == ZL_OK) {
        rc = execcred_parse(stdout_buf.data != NULL ? stdout_buf.data : "",
                            stdout_buf.len, spec->api_version, out, sub,
                            sizeof(sub));
        if (rc != ZL_OK)
            fail(why, why_len, "command \"%s\": %s", spec->command, sub);
    }
    if (stdout_buf.data != NULL)
        explicit_bzero(stdout_buf.data, stdout_buf.len);
    buf_cleanup(&stdout_buf);
    free_envp(envp);
    free(info);
    return rc;
}

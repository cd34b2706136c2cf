/* SPDX-License-Identifier: Apache-2.0 */
/* The command line of kubectl-zenlead. */
#include "plugin/options.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "base/duration.h"

static const char usage[] =
    "kubectl zenlead: leader routing at a glance, explained, and drilled\n"
    "\n"
    "Usage:\n"
    "  kubectl zenlead status [SERVICE] [-n NS | -A] [-o json]\n"
    "  kubectl zenlead why SERVICE [-n NS]\n"
    "  kubectl zenlead drill SERVICE [-n NS] [--yes] [--watch-only] "
    "[--force]\n"
    "                        [--probe URL] [--timeout 60s] [-o json]\n"
    "\n"
    "Commands:\n"
    "  status   one screen per annotated Service (a table without SERVICE)\n"
    "  why      why the leader is who it is, or why there is none, with "
    "fixes\n"
    "  drill    delete the leader pod gracefully and time the failover\n"
    "\n"
    "Flags:\n"
    "  --kubeconfig FILE        kubeconfig (else $KUBECONFIG, else "
    "~/.kube/config)\n"
    "  --context NAME           kubeconfig context (default: current)\n"
    "  -n, --namespace NS       namespace (default: the context's)\n"
    "  -A, --all-namespaces     status of every namespace\n"
    "  -o, --output text|json   output format (default text)\n"
    "  --color auto|always|never\n"
    "  --controller-namespace NS  where the controller's Lease is "
    "(zen-lead-system)\n"
    "  --lease-name NAME        the controller's Lease "
    "(zen-lead-controller)\n"
    "  --request-timeout D      per request (10s)\n"
    "  -y, --yes                drill: do not ask\n"
    "  --watch-only             drill: delete nothing, wait for a change\n"
    "  --force                  drill: run with fewer than 2 ready pods\n"
    "  --probe URL              drill: GET URL every 10 ms, report the gap\n"
    "  --timeout D              drill: wait this long for a new leader "
    "(60s)\n"
    "  -h, --help, --version\n";

const char *options_usage(void)
{
    return usage;
}

struct parser {
    int argc;
    char **argv;
    int i;
    struct options *o;
    char *err;
};

__attribute__((format(printf, 2, 3))) static enum zl_err
fail(struct parser *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err, OPTIONS_ERROR_MAX, fmt, ap);
    va_end(ap);
    return ZL_ERR_INVALID;
}

/* The value of the flag at argv[i]: after '=' ("--output=json",
 * "-o=json"), attached to a short flag ("-ojson", "-nshop"), or the next
 * argument. */
static enum zl_err value_of(struct parser *p, const char *name,
                            const char **out)
{
    const char *arg = p->argv[p->i];
    const char *eq = strchr(arg, '=');
    if (eq != NULL && (arg[1] == '-' || eq == arg + 2)) {
        *out = eq + 1;
        return ZL_OK;
    }
    if (arg[1] != '-' && arg[2] != '\0') {
        *out = arg + 2;
        return ZL_OK;
    }
    if (p->i + 1 >= p->argc)
        return fail(p, "flag %s needs a value", name);
    *out = p->argv[++p->i];
    return ZL_OK;
}

static bool flag_is(const char *arg, const char *name)
{
    size_t n = strlen(name);
    return strncmp(arg, name, n) == 0 && (arg[n] == '\0' || arg[n] == '=');
}

/* A short flag that takes a value: "-n", "-n=shop" or "-nshop". */
static bool short_is(const char *arg, const char *name)
{
    return name != NULL && arg[0] == '-' && arg[1] == name[1] && arg[1] != '-';
}

static enum zl_err duration_flag(struct parser *p, const char *name,
                                 int64_t *out_ms)
{
    const char *v = "";
    int64_t ns;
    enum zl_err rc = value_of(p, name, &v);
    if (rc != ZL_OK)
        return rc;
    if (duration_parse(v, &ns) != ZL_OK || ns <= 0)
        return fail(p, "%s: not a positive duration (like 30s)", name);
    *out_ms = (ns + 999999) / 1000000;
    return ZL_OK;
}

struct string_flag {
    const char *longname;
    const char *shortname;
    size_t offset;
};

#define STRING_FLAG(l, s, field)                                               \
    {                                                                          \
        l, s, offsetof(struct options, field)                                  \
    }

static const struct string_flag string_flags[] = {
    STRING_FLAG("--kubeconfig", NULL, kubeconfig),
    STRING_FLAG("--context", NULL, context),
    STRING_FLAG("--namespace", "-n", namespace_name),
    STRING_FLAG("--controller-namespace", NULL, controller_namespace),
    STRING_FLAG("--lease-name", NULL, lease_name),
    STRING_FLAG("--probe", NULL, probe_url),
};

static enum zl_err string_flag(struct parser *p, bool *matched)
{
    const char *arg = p->argv[p->i];
    for (size_t k = 0; k < sizeof(string_flags) / sizeof(string_flags[0]);
         k++) {
        const struct string_flag *f = &string_flags[k];
        if (!flag_is(arg, f->longname) && !short_is(arg, f->shortname))
            continue;
        *matched = true;
        const char *v = "";
        enum zl_err rc = value_of(p, f->longname, &v);
        if (rc == ZL_OK && v[0] == '\0')
            rc = fail(p, "flag %s needs a non-empty value", f->longname);
        if (rc == ZL_OK)
            *(const char **)((char *)p->o + f->offset) = v;
        return rc;
    }
    *matched = false;
    return ZL_OK;
}

static enum zl_err output_flag(struct parser *p)
{
    const char *v = "";
    enum zl_err rc = value_of(p, "--output", &v);
    if (rc != ZL_OK)
        return rc;
    if (strcmp(v, "json") == 0 || strcmp(v, "text") == 0) {
        p->o->json = strcmp(v, "json") == 0;
        return ZL_OK;
    }
    return fail(p, "--output: \"%s\" is not one of text, json", v);
}

static enum zl_err color_flag(struct parser *p)
{
    static const char *const names[] = {"auto", "always", "never"};
    const char *v = "";
    enum zl_err rc = value_of(p, "--color", &v);
    if (rc != ZL_OK)
        return rc;
    for (size_t k = 0; k < 3; k++) {
        if (strcmp(v, names[k]) == 0) {
            p->o->color = (enum options_color)k;
            return ZL_OK;
        }
    }
    return fail(p, "--color: \"%s\" is not one of auto, always, never", v);
}

/* A flag without a value; *stop for --help and --version. */
static bool bool_flag(struct parser *p, bool *stop)
{
    const char *arg = p->argv[p->i];
    struct options *o = p->o;
    if (strcmp(arg, "-A") == 0 || strcmp(arg, "--all-namespaces") == 0)
        o->all_namespaces = true;
    else if (strcmp(arg, "--yes") == 0 || strcmp(arg, "-y") == 0)
        o->yes = true;
    else if (strcmp(arg, "--watch-only") == 0)
        o->watch_only = true;
    else if (strcmp(arg, "--force") == 0)
        o->force = true;
    else if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0)
        o->command = OPTIONS_HELP;
    else if (strcmp(arg, "--version") == 0)
        o->command = OPTIONS_VERSION;
    else
        return false;
    *stop = strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0 ||
            strcmp(arg, "--version") == 0;
    return true;
}

static enum zl_err flag(struct parser *p, bool *stop)
{
    const char *arg = p->argv[p->i];
    bool matched;
    *stop = false;
    if (bool_flag(p, stop))
        return ZL_OK;
    enum zl_err rc = string_flag(p, &matched);
    if (rc != ZL_OK || matched)
        return rc;
    if (flag_is(arg, "--output") || short_is(arg, "-o"))
        return output_flag(p);
    if (flag_is(arg, "--color"))
        return color_flag(p);
    if (flag_is(arg, "--request-timeout"))
        return duration_flag(p, "--request-timeout", &p->o->request_timeout_ms);
    if (flag_is(arg, "--timeout"))
        return duration_flag(p, "--timeout", &p->o->timeout_ms);
    return fail(p, "unknown flag %s (see kubectl zenlead --help)", arg);
}

static enum zl_err positional(struct parser *p, int *seen)
{
    const char *arg = p->argv[p->i];
    static const char *const commands[] = {"status", "why", "drill"};
    if (*seen == 0) {
        for (size_t k = 0; k < 3; k++) {
            if (strcmp(arg, commands[k]) == 0) {
                p->o->command = (enum options_command)(OPTIONS_STATUS + k);
                (*seen)++;
                return ZL_OK;
            }
        }
        return fail(p, "unknown command \"%s\" (status, why or drill)", arg);
    }
    if (*seen == 1) {
        p->o->service = arg;
        (*seen)++;
        return ZL_OK;
    }
    return fail(p, "unexpected argument \"%s\"", arg);
}

static enum zl_err check(struct parser *p, int seen)
{
    const struct options *o = p->o;
    if (seen == 0 && p->argc <= 1)
        return ZL_OK; /* no argument at all: the usage */
    if (seen == 0)
        return fail(p, "%s", "no command given (status, why or drill)");
    if (o->command != OPTIONS_STATUS && o->service == NULL)
        return fail(p, "%s needs a SERVICE",
                    o->command == OPTIONS_WHY ? "why" : "drill");
    if (o->all_namespaces && o->service != NULL)
        return fail(p, "%s", "-A lists every Service: give no SERVICE");
    if (o->all_namespaces && o->namespace_name != NULL)
        return fail(p, "%s", "-A and -n exclude each other");
    return ZL_OK;
}

enum zl_err options_parse(int argc, char **argv, struct options *out,
                          char err[OPTIONS_ERROR_MAX])
{
    struct parser p = {
        .argc = argc, .argv = argv, .i = 1, .o = out, .err = err};
    int seen = 0;
    bool only_positional = false;
    memset(out, 0, sizeof(*out));
    err[0] = '\0';
    out->controller_namespace = "zen-lead-system";
    out->lease_name = "zen-lead-controller";
    out->request_timeout_ms = 10000;
    out->timeout_ms = 60000;
    out->command = OPTIONS_HELP;
    for (; p.i < argc; p.i++) {
        const char *arg = argv[p.i];
        bool stop = false;
        enum zl_err rc;
        if (!only_positional && strcmp(arg, "--") == 0) {
            only_positional = true;
            continue;
        }
        if (!only_positional && arg[0] == '-' && arg[1] != '\0')
            rc = flag(&p, &stop);
        else
            rc = positional(&p, &seen);
        if (rc != ZL_OK)
            return rc;
        if (stop)
            return ZL_OK;
    }
    return check(&p, seen);
}

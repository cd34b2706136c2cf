/* SPDX-License-Identifier: Apache-2.0 */
/* A table of flags per subcommand and one loop over argv. */
#include "certs/certopts.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certs/certmake.h"

enum kind { K_STR, K_LONG, K_LIST, K_BOOL, K_KEYTYPE };

#define C(x) (1u << CERTOPTS_##x)
#define SERVING (C(SERVE) | C(ROTATE))

struct flag {
    const char *name;
    enum kind kind;
    size_t offset;
    unsigned cmds; /* which subcommands take it */
    unsigned required;
};

#define F(n, k, field, cmds, req)                                              \
    {                                                                          \
        n, k, offsetof(struct certopts, field), cmds, req                      \
    }

static const struct flag FLAGS[] = {
    F("out-cert", K_STR, out_cert, C(CA) | C(SERVE), C(CA) | C(SERVE)),
    F("out-key", K_STR, out_key, C(CA) | C(SERVE), C(CA) | C(SERVE)),
    F("subject", K_STR, subject, C(CA), 0),
    F("days", K_LONG, days, C(CA) | SERVING, 0),
    F("key-type", K_KEYTYPE, key_type, C(CA) | SERVING, 0),
    F("rsa-bits", K_LONG, rsa_bits, C(CA) | SERVING, 0),
    F("ca-cert", K_STR, ca_cert, SERVING | C(SECRET), SERVING),
    F("ca-key", K_STR, ca_key, SERVING, SERVING),
    F("dns", K_LIST, dns, SERVING, SERVING),
    F("ip", K_LIST, ips, SERVING, 0),
    F("cert", K_STR, cert, C(ROTATE) | C(SECRET), C(ROTATE) | C(SECRET)),
    F("key", K_STR, key, C(ROTATE) | C(INSPECT) | C(SECRET),
      C(ROTATE) | C(SECRET)),
    F("namespace", K_STR, namespace_name, C(SECRET), C(SECRET)),
    F("name", K_STR, secret_name, C(SECRET), C(SECRET)),
    F("renew-days", K_LONG, renew_days, C(ROTATE), C(ROTATE)),
    F("warn-days", K_LONG, warn_days, C(INSPECT), 0),
    F("base64", K_BOOL, base64, C(CABUNDLE), 0),
    F("out", K_STR, out, C(CABUNDLE), 0),
    F("ca-bundle", K_STR, ca_bundle, C(PATCH_WEBHOOKS), C(PATCH_WEBHOOKS)),
    F("validating", K_LIST, validating, C(PATCH_WEBHOOKS), 0),
    F("mutating", K_LIST, mutating, C(PATCH_WEBHOOKS), 0),
    F("kubeconfig", K_STR, kubeconfig, C(PATCH_WEBHOOKS) | C(SECRET), 0),
    F("help", K_BOOL, help, ~0u, 0),
};

#define NFLAGS (sizeof(FLAGS) / sizeof(FLAGS[0]))

static const struct {
    const char *name;
    enum certopts_cmd cmd;
    const char *usage;
} CMDS[] = {
    {"ca", CERTOPTS_CA,
     "ca --out-cert F --out-key F [--subject CN] [--days N] "
     "[--key-type ecdsa|rsa] [--rsa-bits 2048|3072|4096]"},
    {"serve", CERTOPTS_SERVE,
     "serve --ca-cert F --ca-key F --dns NAME... [--ip ADDR...] --out-cert F "
     "--out-key F [--days N] [--key-type ecdsa|rsa] [--rsa-bits N]"},
    {"inspect", CERTOPTS_INSPECT, "inspect F... [--warn-days N] [--key F]"},
    {"cabundle", CERTOPTS_CABUNDLE, "cabundle F... [--base64] [--out F]"},
    {"patch-webhooks", CERTOPTS_PATCH_WEBHOOKS,
     "patch-webhooks --ca-bundle F [--validating NAME...] "
     "[--mutating NAME...] [--kubeconfig F]"},
    {"rotate", CERTOPTS_ROTATE,
     "rotate --ca-cert F --ca-key F --cert F --key F --dns NAME... "
     "[--ip ADDR...] --renew-days N [--days N] [--key-type ecdsa|rsa]"},
    {"secret", CERTOPTS_SECRET,
     "secret --namespace NS --name NAME --cert F --key F [--ca-cert F] "
     "[--kubeconfig F]"},
};

#define NCMDS (sizeof(CMDS) / sizeof(CMDS[0]))

static const char PROGRAM_USAGE[] =
    "COMMAND [FLAGS]   (--help, --version)\n"
    "commands: ca, serve, inspect, cabundle, patch-webhooks, rotate, "
    "secret;\n"
    "zen-lead-certs COMMAND --help for its flags";

const char *certopts_usage(enum certopts_cmd cmd)
{
    for (size_t i = 0; i < NCMDS; i++)
        if (CMDS[i].cmd == cmd)
            return CMDS[i].usage;
    return PROGRAM_USAGE;
}

static enum zl_err parse_long(const char *flag, const char *text, long *out,
                              char *err, size_t err_len)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' ||
        v < -CERTMAKE_MAX_DAYS * 10L || v > CERTMAKE_MAX_DAYS * 10L) {
        snprintf(err, err_len, "--%s %s: not a number in range", flag, text);
        return ZL_ERR_INVALID;
    }
    *out = v;
    return ZL_OK;
}

static enum zl_err list_push(struct certopts_list *l, const char *item,
                             size_t cap)
{
    if (l->items == NULL) {
        l->items = calloc(cap, sizeof(*l->items));
        if (l->items == NULL)
            return ZL_ERR_NOMEM;
    }
    l->items[l->count++] = item;
    return ZL_OK;
}

static enum zl_err set_value(const struct flag *f, const char *value,
                             struct certopts *o, size_t cap, char *err,
                             size_t err_len)
{
    char *field = (char *)o + f->offset;
    switch (f->kind) {
    case K_STR:
        *(const char **)(void *)field = value;
        return ZL_OK;
    case K_LONG:
        return parse_long(f->name, value, (long *)(void *)field, err, err_len);
    case K_LIST:
        return list_push((struct certopts_list *)(void *)field, value, cap);
    case K_KEYTYPE:
        if (strcmp(value, "ecdsa") == 0 || strcmp(value, "rsa") == 0) {
            *(enum certkey_type *)(void *)field =
                value[0] == 'r' ? CERTKEY_RSA : CERTKEY_ECDSA;
            return ZL_OK;
        }
        snprintf(err, err_len, "--key-type %s: want ecdsa or rsa", value);
        return ZL_ERR_INVALID;
    case K_BOOL:
        break;
    }
    *(bool *)(void *)field = true;
    return ZL_OK;
}

static const struct flag *find_flag(const char *name, size_t name_len,
                                    enum certopts_cmd cmd)
{
    for (size_t i = 0; i < NFLAGS; i++)
        if (strlen(FLAGS[i].name) == name_len &&
            strncmp(FLAGS[i].name, name, name_len) == 0 &&
            (FLAGS[i].cmds & (1u << cmd)) != 0)
            return &FLAGS[i];
    return NULL;
}

/* One "--flag[=value]" at argv[*i]; the value may be the next argument. */
static enum zl_err one_flag(int argc, char *const *argv, int *i,
                            struct certopts *o, char *err, size_t err_len)
{
    const char *arg = argv[*i] + 2;
    const char *eq = strchr(arg, '=');
    size_t name_len = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
    const struct flag *f = find_flag(arg, name_len, o->cmd);
    if (f == NULL) {
        snprintf(err, err_len, "unknown flag %.*s for %s", (int)name_len + 2,
                 argv[*i], argv[1]);
        return ZL_ERR_INVALID;
    }
    const char *value = eq != NULL ? eq + 1 : NULL;
    if (f->kind == K_BOOL && value != NULL) {
        snprintf(err, err_len, "--%s takes no value", f->name);
        return ZL_ERR_INVALID;
    }
    if (f->kind != K_BOOL && value == NULL) {
        if (*i + 1 >= argc) {
            snprintf(err, err_len, "--%s needs a value", f->name);
            return ZL_ERR_INVALID;
        }
        value = argv[++*i];
    }
    return set_value(f, value, o, (size_t)argc, err, err_len);
}

static enum zl_err find_cmd(const char *name, struct certopts *o, char *err,
                            size_t err_len)
{
    static const struct {
        const char *name;
        enum certopts_cmd cmd;
    } top[] = {{"--help", CERTOPTS_HELP},
               {"-h", CERTOPTS_HELP},
               {"help", CERTOPTS_HELP},
               {"--version", CERTOPTS_VERSION}};
    for (size_t i = 0; i < sizeof(top) / sizeof(top[0]); i++)
        if (strcmp(name, top[i].name) == 0)
            o->cmd = top[i].cmd;
    for (size_t i = 0; i < NCMDS; i++)
        if (strcmp(name, CMDS[i].name) == 0)
            o->cmd = CMDS[i].cmd;
    if (o->cmd != CERTOPTS_NONE)
        return ZL_OK;
    snprintf(err, err_len, "unknown command %s (see --help)", name);
    return ZL_ERR_INVALID;
}

static bool is_set(const struct flag *f, const struct certopts *o)
{
    const char *field = (const char *)o + f->offset;
    if (f->kind == K_STR)
        return *(const char *const *)(const void *)field != NULL;
    if (f->kind == K_LIST)
        return ((const struct certopts_list *)(const void *)field)->count > 0;
    return *(const long *)(const void *)field != LONG_MIN;
}

static enum zl_err check_cmd(struct certopts *o, char *err, size_t err_len)
{
    for (size_t i = 0; i < NFLAGS; i++) {
        if ((FLAGS[i].required & (1u << o->cmd)) != 0 &&
            !is_set(&FLAGS[i], o)) {
            snprintf(err, err_len, "%s needs --%s",
                     CMDS[o->cmd - CERTOPTS_CA].name, FLAGS[i].name);
            return ZL_ERR_INVALID;
        }
    }
    bool wants_files =
        o->cmd == CERTOPTS_INSPECT || o->cmd == CERTOPTS_CABUNDLE;
    if (wants_files != (o->files.count > 0)) {
        snprintf(err, err_len,
                 wants_files ? "%s needs a file" : "%s takes no file",
                 CMDS[o->cmd - CERTOPTS_CA].name);
        return ZL_ERR_INVALID;
    }
    if (o->cmd == CERTOPTS_PATCH_WEBHOOKS &&
        o->validating.count + o->mutating.count == 0) {
        snprintf(err, err_len,
                 "patch-webhooks needs --validating or --mutating");
        return ZL_ERR_INVALID;
    }
    if (!certkey_rsa_bits_ok(o->rsa_bits)) {
        snprintf(err, err_len, "--rsa-bits %ld: want 2048, 3072 or 4096",
                 o->rsa_bits);
        return ZL_ERR_INVALID;
    }
    if (o->days < -CERTMAKE_MAX_DAYS || o->days > CERTMAKE_MAX_DAYS) {
        snprintf(err, err_len, "--days %ld: out of range", o->days);
        return ZL_ERR_INVALID;
    }
    return ZL_OK;
}

static void defaults(struct certopts *o)
{
    if (o->days == LONG_MIN)
        o->days = o->cmd == CERTOPTS_CA ? CERTOPTS_DEFAULT_CA_DAYS
                                        : CERTOPTS_DEFAULT_SERVE_DAYS;
    if (o->rsa_bits == LONG_MIN)
        o->rsa_bits = CERTKEY_RSA_DEFAULT_BITS;
    if (o->warn_days == LONG_MIN)
        o->warn_days = 0;
    if (o->subject == NULL)
        o->subject = CERTOPTS_DEFAULT_SUBJECT;
}

enum zl_err certopts_parse(int argc, char *const *argv, struct certopts *out,
                           char *err, size_t err_len)
{
    memset(out, 0, sizeof(*out));
    out->days = out->warn_days = out->renew_days = out->rsa_bits = LONG_MIN;
    err[0] = '\0';
    if (argc < 2) {
        snprintf(err, err_len, "no command (see --help)");
        return ZL_ERR_INVALID;
    }
    enum zl_err rc = find_cmd(argv[1], out, err, err_len);
    if (rc != ZL_OK || out->cmd < CERTOPTS_CA)
        return rc;
    for (int i = 2; rc == ZL_OK && i < argc; i++) {
        if (strncmp(argv[i], "--", 2) == 0 && argv[i][2] != '\0')
            rc = one_flag(argc, argv, &i, out, err, err_len);
        else
            rc = list_push(&out->files, argv[i], (size_t)argc);
    }
    if (rc != ZL_OK || out->help)
        return rc;
    defaults(out);
    return check_cmd(out, err, err_len);
}

void certopts_cleanup(struct certopts *o)
{
    free(o->dns.items);
    free(o->ips.items);
    free(o->validating.items);
    free(o->mutating.items);
    free(o->files.items);
    memset(o, 0, sizeof(*o));
}

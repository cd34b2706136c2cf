/* SPDX-License-Identifier: Apache-2.0 */
/* zen-lead-certs' command line: the subcommand, its flags (--flag value
 * or --flag=value; --dns, --ip, --validating and --mutating repeat) and
 * its file arguments, with the checks each subcommand needs. Strings are
 * borrowed from argv. No I/O. */
#ifndef ZL_CERTS_CERTOPTS_H
#define ZL_CERTS_CERTOPTS_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "certs/certkey.h"

#define CERTOPTS_DEFAULT_CA_DAYS 3650
#define CERTOPTS_DEFAULT_SERVE_DAYS 365
#define CERTOPTS_DEFAULT_SUBJECT "zen-lead CA"
#define CERTOPTS_ERR 256

enum certopts_cmd {
    CERTOPTS_NONE = 0,
    CERTOPTS_HELP,
    CERTOPTS_VERSION,
    CERTOPTS_CA,
    CERTOPTS_SERVE,
    CERTOPTS_INSPECT,
    CERTOPTS_CABUNDLE,
    CERTOPTS_PATCH_WEBHOOKS,
    CERTOPTS_ROTATE,
    CERTOPTS_SECRET,
};

/* A repeated flag's values, or the file arguments. */
struct certopts_list {
    const char **items;
    size_t count;
};

struct certopts {
    enum certopts_cmd cmd;
    bool help; /* --help after a subcommand */
    const char *out_cert;
    const char *out_key;
    const char *subject;
    const char *ca_cert;
    const char *ca_key;
    const char *cert;
    const char *key;
    const char *ca_bundle;
    const char *kubeconfig;
    const char *out;
    const char *namespace_name; /* secret */
    const char *secret_name;    /* secret */
    long days;
    long warn_days;
    long renew_days;
    long rsa_bits;
    enum certkey_type key_type;
    bool base64;
    struct certopts_list dns;
    struct certopts_list ips;
    struct certopts_list validating;
    struct certopts_list mutating;
    struct certopts_list files;
};

/* Reads argv (argv[0] is the program) into out. ZL_ERR_INVALID with one
 * line in err for an unknown subcommand or flag, a missing value or
 * required flag, or a bad number; ZL_ERR_NOMEM. Clean out up in every
 * case. */
enum zl_err certopts_parse(int argc, char *const *argv, struct certopts *out,
                           char *err, size_t err_len);

void certopts_cleanup(struct certopts *o);

/* The usage text of a subcommand (CERTOPTS_NONE: of the program). */
const char *certopts_usage(enum certopts_cmd cmd);

#endif

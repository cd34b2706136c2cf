/* SPDX-License-Identifier: Apache-2.0 */
/* What both daemons' command lines share (SPEC section 6): the common keys
 * as base/config table entries, the action they ask for (--help,
 * --version, --check-config) and the checks of those keys. Each daemon
 * embeds struct flags_common in its own options and adds its own keys. */
#ifndef ZL_BASE_FLAGS_H
#define ZL_BASE_FLAGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "base/config.h"
#include "base/err.h"
#include "base/log.h"

/* What main should do once the options are read. */
enum flags_action {
    FLAGS_RUN = 0,
    FLAGS_HELP,
    FLAGS_VERSION,
    FLAGS_CHECK_CONFIG,
};

/* The common keys; strings are owned by the daemon's options (its
 * config_cleanup frees them). */
struct flags_common {
    bool help;
    bool version;
    bool check_config;
    char *config;
    char *kubeconfig;
    char *log_level;
    char *log_format;
    char *metrics_bind_address;
    char *health_probe_bind_address;
    /* Derived by flags_load. */
    enum log_level level;
    enum log_format format;
};

extern const char *const FLAGS_LOG_LEVELS[];  /* debug|info|warn|error */
extern const char *const FLAGS_LOG_FORMATS[]; /* json|text */

/* The config_key entries of the common keys, for the daemon's table: T is
 * the daemon's options struct, whose struct flags_common member is named
 * common. */
#define FLAGS_KEY_(T, f) offsetof(T, common.f)
#define FLAGS_COMMON_KEYS(T)                                                   \
    {.name = "help",                                                           \
     .type = CONFIG_BOOL,                                                      \
     .offset = FLAGS_KEY_(T, help),                                            \
     .flag_only = true,                                                        \
     .help = "print this help and exit"},                                      \
        {.name = "version",                                                    \
         .type = CONFIG_BOOL,                                                  \
         .offset = FLAGS_KEY_(T, version),                                     \
         .flag_only = true,                                                    \
         .help = "print the version and exit"},                                \
        {.name = "config",                                                     \
         .type = CONFIG_STRING,                                                \
         .offset = FLAGS_KEY_(T, config),                                      \
         .flag_only = true,                                                    \
         .help = "YAML file with the same keys as the flags"},                 \
        {.name = "check-config",                                               \
         .type = CONFIG_BOOL,                                                  \
         .offset = FLAGS_KEY_(T, check_config),                                \
         .flag_only = true,                                                    \
         .help = "check the configuration, print it, exit"},                   \
        {.name = "kubeconfig",                                                 \
         .type = CONFIG_STRING,                                                \
         .offset = FLAGS_KEY_(T, kubeconfig),                                  \
         .help = "kubeconfig file (else in-cluster, else $KUBECONFIG)"},       \
        {.name = "log-level",                                                  \
         .type = CONFIG_STRING,                                                \
         .offset = FLAGS_KEY_(T, log_level),                                   \
         .def = "info",                                                        \
         .choices = FLAGS_LOG_LEVELS,                                          \
         .help = "debug|info|warn|error"},                                     \
        {.name = "log-format",                                                 \
         .type = CONFIG_STRING,                                                \
         .offset = FLAGS_KEY_(T, log_format),                                  \
         .def = "json",                                                        \
         .choices = FLAGS_LOG_FORMATS,                                         \
         .help = "json|text"},                                                 \
        {.name = "metrics-bind-address",                                       \
         .type = CONFIG_STRING,                                                \
         .offset = FLAGS_KEY_(T, metrics_bind_address),                        \
         .def = ":8080",                                                       \
         .help = "host:port of /metrics; \"0\" disables it"},                  \
    {                                                                          \
        .name = "health-probe-bind-address", .type = CONFIG_STRING,            \
        .offset = FLAGS_KEY_(T, health_probe_bind_address), .def = ":8081",    \
        .help = "host:port of /healthz and /readyz; \"0\" disables it"         \
    }

/* Tells whether a bind address is acceptable (the daemon passes its
 * server's parser: base knows no sockets). */
typedef bool (*flags_address_fn)(const char *text);

/* A daemon's checks across its own keys; opt is its options struct.
 * ZL_ERR_INVALID with one line naming the flags in err. */
typedef enum zl_err (*flags_check_fn)(void *opt, struct config_error *err);

/* What sets one daemon's command line apart: its table (which holds
 * FLAGS_COMMON_KEYS), the size of its options struct, the line or two
 * --help prints under "Usage:" (ending in a newline), its bind-address
 * parser and its checks across keys (NULL: none). */
struct flags_program {
    const struct config_schema *schema;
    size_t size;
    const char *summary;
    flags_address_fn address_ok;
    flags_check_fn check;
};

/* Zeroes out (prog->size bytes) and reads argv (argv[0] is the program)
 * and the --config file into it with config_load. Then *action from
 * --help / --version / --check-config: help and version skip the checks;
 * otherwise the two addresses of common (out's struct flags_common member)
 * are checked with prog->address_ok, level and format derived, and
 * prog->check run. On error err holds one line naming the flag or file
 * key. ZL_ERR_INVALID, or whatever config_load returns. The caller frees
 * out with config_cleanup(prog->schema, out) in every case. */
enum zl_err flags_load(const struct flags_program *prog, void *out,
                       struct flags_common *common, int argc, char *const *argv,
                       enum flags_action *action, struct config_error *err);

/* Prints the usage text (--help): usage line, prog->summary, the keys. */
void flags_print_help(const struct flags_program *prog, FILE *f,
                      const char *program);

/* True for a DNS-1123 label (a namespace or Lease name). */
bool flags_is_dns_label(const char *name);

#endif

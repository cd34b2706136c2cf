/* SPDX-License-Identifier: Apache-2.0 */
/* The webhook's flags and YAML configuration (SPEC section 6) on
 * base/config and base/flags: one table, defaults < --config file < flags,
 * and the checks that span several keys. Pure apart from reading the
 * --config file: certificate files are read by the TLS layer, not here. */
#ifndef ZL_WEBHOOK_OPTIONS_H
#define ZL_WEBHOOK_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "base/config.h"
#include "base/err.h"
#include "base/flags.h"

#define WHOPTS_PORT 9443
#define WHOPTS_MAX_BODY_BYTES                                                  \
    ((int64_t)7 << 20) /* controller-runtime's cap                             \
                        */
/* The shipped webhook configurations set timeoutSeconds: 5. A lookup may
 * take at most 4 s of it, so an answer (even a failure-policy one) always
 * reaches the API server before it gives up on the call. */
#define WHOPTS_WEBHOOK_TIMEOUT_S 5
#define WHOPTS_LOOKUP_TIMEOUT_MAX_MS 4000
#define WHOPTS_CONTROLLER_USERNAME                                             \
    "system:serviceaccount:zen-lead-system:zen-lead-controller"

enum whopts_tls_version {
    WHOPTS_TLS_1_2 = 0,
    WHOPTS_TLS_1_3,
};

/* V3 (named targetPort no matching pod declares). */
enum whopts_named_port_policy {
    WHOPTS_NAMED_PORT_REJECT = 0,
    WHOPTS_NAMED_PORT_WARN,
};

/* What a rule that needs a lookup does when the API server cannot answer. */
enum whopts_lookup_failure_policy {
    WHOPTS_LOOKUP_ALLOW = 0, /* admit with a warning naming the skipped check */
    WHOPTS_LOOKUP_DENY,
};

/* Every key; strings are owned (whopts_cleanup frees them). Durations are
 * nanoseconds. */
struct whopts {
    struct flags_common common; /* --help ... --health-probe-bind-address */
    int64_t port;
    char *tls_cert_file;
    char *tls_key_file;
    char *tls_min_version;
    char *controller_username;
    char *named_port_policy;
    int64_t lookup_timeout;
    char *lookup_failure_policy;
    int64_t max_body_bytes;
    char *audit_log; /* "-": stdout */
    int64_t qps;
    int64_t burst;
    /* Derived by whopts_load. */
    enum whopts_tls_version tls_min;
    enum whopts_named_port_policy named_port;
    enum whopts_lookup_failure_policy lookup_failure;
};

/* Reads argv (argv[0] is the program) and the --config file into *out,
 * then checks what spans keys (TLS files given, ports distinct). *action
 * says what to do. On error err holds one line naming the flag or file key;
 * the caller prints it and exits 2. ZL_ERR_INVALID, or whatever
 * config_load returns. Always call whopts_cleanup. */
enum zl_err whopts_load(int argc, char *const *argv, struct whopts *out,
                        enum flags_action *action, struct config_error *err);

void whopts_cleanup(struct whopts *opt);

/* Prints the usage text (--help). */
void whopts_print_help(FILE *f, const char *program);

/* Prints the effective configuration (--check-config), one key a line. */
void whopts_print(FILE *f, const struct whopts *opt);

#endif

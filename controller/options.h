/* SPDX-License-Identifier: Apache-2.0 */
/* The controller's flags and YAML configuration (SPEC section 6) on
 * base/config: one table, defaults < --config file < flags, and the checks
 * that span several keys. Pure apart from reading the --config file. */
#ifndef ZL_CONTROLLER_OPTIONS_H
#define ZL_CONTROLLER_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "base/config.h"
#include "base/err.h"
#include "base/flags.h"

/* Every key; strings and lists are owned (options_cleanup frees them).
 * Durations are nanoseconds. */
struct options {
    struct flags_common common; /* --help ... --health-probe-bind-address */
    struct config_list namespaces;
    bool leader_elect;
    char *leader_election_id;
    char *leader_election_namespace;
    int64_t lease_duration;
    int64_t renew_deadline;
    int64_t retry_period;
    int64_t qps;
    int64_t burst;
    int64_t workers;
};

/* Reads argv (argv[0] is the program) and the --config file into *out,
 * then checks what spans keys (lease timings, namespaces, addresses).
 * *action says what to do. On error err holds one line naming the flag
 * or file key; the caller prints it and exits 2. ZL_ERR_INVALID, or
 * whatever config_load returns. Always call options_cleanup. */
enum zl_err options_load(int argc, char *const *argv, struct options *out,
                         enum flags_action *action, struct config_error *err);

void options_cleanup(struct options *opt);

/* Prints the usage text (--help). */
void options_print_help(FILE *f, const char *program);

#endif

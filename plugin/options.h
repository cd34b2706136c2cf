/* SPDX-License-Identifier: Apache-2.0 */
/* kubectl-zenlead's command line, parsed the way kubectl parses its own:
 * global flags anywhere, "--flag value" or "--flag=value", -n/-A/-o. Pure:
 * argv in, options or one error line out. */
#ifndef ZL_PLUGIN_OPTIONS_H
#define ZL_PLUGIN_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"

#define OPTIONS_ERROR_MAX 256

enum options_command {
    OPTIONS_HELP = 0,
    OPTIONS_VERSION,
    OPTIONS_STATUS,
    OPTIONS_WHY,
    OPTIONS_DRILL,
};

enum options_color {
    OPTIONS_COLOR_AUTO = 0,
    OPTIONS_COLOR_ALWAYS,
    OPTIONS_COLOR_NEVER,
};

/* Strings are borrowed from argv or static. */
struct options {
    enum options_command command;
    const char *service; /* NULL: every annotated Service (status only) */
    const char *kubeconfig;
    const char *context;
    const char *namespace_name; /* NULL: the context's, else "default" */
    bool all_namespaces;
    bool json; /* -o json */
    enum options_color color;
    const char *controller_namespace; /* the Lease's; "zen-lead-system" */
    const char *lease_name;           /* "zen-lead-controller" */
    int64_t request_timeout_ms;       /* 10 s */
    /* drill */
    bool yes;
    bool watch_only;
    bool force;
    const char *probe_url;
    int64_t timeout_ms; /* 60 s */
};

/* Parses argv[1..argc). ZL_ERR_INVALID with err filled (one line, no
 * newline) on a bad flag, a missing value or argument, or an unknown
 * command. */
enum zl_err options_parse(int argc, char **argv, struct options *out,
                          char err[OPTIONS_ERROR_MAX]);

/* The usage text. */
const char *options_usage(void);

#endif

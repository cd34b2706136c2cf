/* SPDX-License-Identifier: Apache-2.0 */
/* The daemons' common keys: actions, address and log checks. */
#include "base/flags.h"

#include <ctype.h>
#include <string.h>

const char *const FLAGS_LOG_LEVELS[] = {"debug", "info", "warn", "error", NULL};
const char *const FLAGS_LOG_FORMATS[] = {"json", "text", NULL};

bool flags_is_dns_label(const char *name)
{
    size_t n = name != NULL ? strlen(name) : 0;
    if (n == 0 || n > 63 || name[0] == '-' || name[n - 1] == '-')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!(islower((unsigned char)c) || isdigit((unsigned char)c) ||
              c == '-'))
            return false;
    }
    return true;
}

static enum zl_err check_address(const char *flag, const char *value,
                                 flags_address_fn address_ok,
                                 struct config_error *err)
{
    if (value != NULL && address_ok(value))
        return ZL_OK;
    config_fail(err,
                "--%s: \"%s\" is not :PORT, IPV4:PORT, [IPV6]:PORT (numeric "
                "hosts) or 0",
                flag, value != NULL ? value : "");
    return ZL_ERR_INVALID;
}

/* *action from the action flags, then the checks of the common keys. */
static enum zl_err finish(struct flags_common *c, flags_address_fn address_ok,
                          enum flags_action *action, struct config_error *err)
{
    *action = FLAGS_RUN;
    if (c->help) {
        *action = FLAGS_HELP;
        return ZL_OK;
    }
    if (c->version) {
        *action = FLAGS_VERSION;
        return ZL_OK;
    }
    enum zl_err rc = check_address("metrics-bind-address",
                                   c->metrics_bind_address, address_ok, err);
    if (rc == ZL_OK)
        rc = check_address("health-probe-bind-address",
                           c->health_probe_bind_address, address_ok, err);
    if (rc == ZL_OK && log_level_parse(c->log_level, &c->level) != ZL_OK) {
        config_fail(err, "--log-level: \"%s\" is not debug|info|warn|error",
                    c->log_level != NULL ? c->log_level : "");
        rc = ZL_ERR_INVALID;
    }
    if (rc == ZL_OK && log_format_parse(c->log_format, &c->format) != ZL_OK) {
        config_fail(err, "--log-format: \"%s\" is not json|text",
                    c->log_format != NULL ? c->log_format : "");
        rc = ZL_ERR_INVALID;
    }
    if (rc == ZL_OK && c->check_config)
        *action = FLAGS_CHECK_CONFIG;
    return rc;
}

enum zl_err flags_load(const struct flags_program *prog, void *out,
                       struct flags_common *common, int argc, char *const *argv,
                       enum flags_action *action, struct config_error *err)
{
    memset(out, 0, prog->size);
    *action = FLAGS_RUN;
    enum zl_err rc = config_load(prog->schema, out, argc, argv, err);
    if (rc == ZL_OK)
        rc = finish(common, prog->address_ok, action, err);
    if (rc == ZL_OK && prog->check != NULL &&
        (*action == FLAGS_RUN || *action == FLAGS_CHECK_CONFIG))
        rc = prog->check(out, err);
    return rc;
}

void flags_print_help(const struct flags_program *prog, FILE *f,
                      const char *program)
{
    fprintf(f,
            "Usage: %s [flags]\n%s\n"
            "Flags (a --config YAML file takes the same keys; flags win):\n",
            program, prog->summary);
    config_print_help(prog->schema, f);
}

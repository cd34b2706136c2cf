/* SPDX-License-Identifier: Apache-2.0 */
/* The controller's configuration table and the checks across keys. */
#include "controller/options.h"

#include <ctype.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "base/duration.h"
#include "kube/lease.h"
#include "serve/serve.h"

#define SEC DURATION_NS_PER_SEC
#define MS DURATION_NS_PER_MS

static const char *const levels[] = {"debug", "info", "warn", "error", NULL};
static const char *const formats[] = {"json", "text", NULL};

#define OPT(field) offsetof(struct options, field)

static const struct config_key keys[] = {
    {.name = "help",
     .type = CONFIG_BOOL,
     .offset = OPT(help),
     .flag_only = true,
     .help = "print this help and exit"},
    {.name = "version",
     .type = CONFIG_BOOL,
     .offset = OPT(version),
     .flag_only = true,
     .help = "print the version and exit"},
    {.name = "config",
     .type = CONFIG_STRING,
     .offset = OPT(config),
     .flag_only = true,
     .help = "YAML file with the same keys as the flags"},
    {.name = "check-config",
     .type = CONFIG_BOOL,
     .offset = OPT(check_config),
     .flag_only = true,
     .help = "check the configuration, print it, exit"},
    {.name = "kubeconfig",
     .type = CONFIG_STRING,
     .offset = OPT(kubeconfig),
     .help = "kubeconfig file (else in-cluster, else $KUBECONFIG)"},
    {.name = "log-level",
     .type = CONFIG_STRING,
     .offset = OPT(log_level),
     .def = "info",
     .choices = levels,
     .help = "debug|info|warn|error"},
    {.name = "log-format",
     .type = CONFIG_STRING,
     .offset = OPT(log_format),
     .def = "json",
     .choices = formats,
     .help = "json|text"},
    {.name = "metrics-bind-address",
     .type = CONFIG_STRING,
     .offset = OPT(metrics_bind_address),
     .def = ":8080",
     .help = "host:port of /metrics; \"0\" disables it"},
    {.name = "health-probe-bind-address",
     .type = CONFIG_STRING,
     .offset = OPT(health_probe_bind_address),
     .def = ":8081",
     .help = "host:port of /healthz and /readyz; \"0\" disables it"},
    {.name = "namespace",
     .type = CONFIG_LIST,
     .offset = OPT(namespaces),
     .help = "watch only this namespace (repeatable; default: all)"},
    {.name = "leader-elect",
     .type = CONFIG_BOOL,
     .offset = OPT(leader_elect),
     .def = "false",
     .help = "hold a Lease; only the holder writes"},
    {.name = "leader-election-id",
     .type = CONFIG_STRING,
     .offset = OPT(leader_election_id),
     .def = "zen-lead-controller",
     .help = "name of the Lease"},
    {.name = "leader-election-namespace",
     .type = CONFIG_STRING,
     .offset = OPT(leader_election_namespace),
     .help = "namespace of the Lease (default: the pod's own, else "
             "zen-lead-system)"},
    {.name = "lease-duration",
     .type = CONFIG_DURATION,
     .offset = OPT(lease_duration),
     .def = "15s",
     .min = 100 * MS,
     .max = 3600 * SEC,
     .help = "how long a Lease holds without renewal"},
    {.name = "renew-deadline",
     .type = CONFIG_DURATION,
     .offset = OPT(renew_deadline),
     .def = "10s",
     .min = 50 * MS,
     .max = 3600 * SEC,
     .help = "the holder steps down after failing to "
             "renew for this long"},
    {.name = "retry-period",
     .type = CONFIG_DURATION,
     .offset = OPT(retry_period),
     .def = "2s",
     .min = 10 * MS,
     .max = 3600 * SEC,
     .help = "interval between Lease attempts"},
    {.name = "qps",
     .type = CONFIG_INT,
     .offset = OPT(qps),
     .def = "50",
     .min = 1,
     .max = 100000,
     .help = "API requests per second"},
    {.name = "burst",
     .type = CONFIG_INT,
     .offset = OPT(burst),
     .def = "100",
     .min = 1,
     .max = 100000,
     .help = "API request burst"},
    {.name = "workers",
     .type = CONFIG_INT,
     .offset = OPT(workers),
     .def = "4",
     .min = 1,
     .max = 64,
     .help = "reconcile workers"},
};

static const struct config_schema schema = {keys, sizeof(keys) / sizeof(*keys)};

static void fail(struct config_error *err, const char *text)
{
    snprintf(err->text, sizeof(err->text), "%s", text);
}

bool options_is_namespace(const char *name)
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
                                 struct config_error *err)
{
    struct serve_address a;
    if (serve_parse_address(value, &a) == ZL_OK)
        return ZL_OK;
    snprintf(err->text, sizeof(err->text),
             "--%s: \"%s\" is not :PORT, IPV4:PORT, [IPV6]:PORT (numeric "
             "hosts) or 0",
             flag, value);
    return ZL_ERR_INVALID;
}

static enum zl_err check_namespaces(const struct options *opt,
                                    struct config_error *err)
{
    for (size_t i = 0; i < opt->namespaces.count; i++) {
        if (!options_is_namespace(opt->namespaces.items[i])) {
            snprintf(err->text, sizeof(err->text),
                     "--namespace: \"%s\" is not a namespace name (DNS-1123 "
                     "label)",
                     opt->namespaces.items[i]);
            return ZL_ERR_INVALID;
        }
    }
    const char *ns = opt->leader_election_namespace;
    if (ns != NULL && !options_is_namespace(ns)) {
        snprintf(err->text, sizeof(err->text),
                 "--leader-election-namespace: \"%s\" is not a namespace "
                 "name",
                 ns);
        return ZL_ERR_INVALID;
    }
    return ZL_OK;
}

static enum zl_err check_lease(const struct options *opt,
                               struct config_error *err)
{
    int64_t d = opt->lease_duration, r = opt->renew_deadline;
    int64_t p = opt->retry_period;
    if (d > r && (double)r > LEASE_JITTER * (double)p)
        return ZL_OK;
    fail(err, "--lease-duration, --renew-deadline, --retry-period: need "
              "lease-duration > renew-deadline > 1.2 x retry-period");
    return ZL_ERR_INVALID;
}

static enum zl_err check_all(struct options *opt, struct config_error *err)
{
    enum zl_err rc =
        check_address("metrics-bind-address", opt->metrics_bind_address, err);
    if (rc == ZL_OK)
        rc = check_address("health-probe-bind-address",
                           opt->health_probe_bind_address, err);
    if (rc == ZL_OK)
        rc = check_namespaces(opt, err);
    if (rc == ZL_OK)
        rc = check_lease(opt, err);
    const char *id = opt->leader_election_id;
    if (rc == ZL_OK && (id == NULL || !options_is_namespace(id))) {
        fail(err, "--leader-election-id: must be a DNS-1123 label");
        rc = ZL_ERR_INVALID;
    }
    if (rc == ZL_OK)
        rc = log_level_parse(opt->log_level, &opt->level);
    if (rc == ZL_OK)
        rc = log_format_parse(opt->log_format, &opt->format);
    return rc;
}

enum zl_err options_load(int argc, char *const *argv, struct options *out,
                         enum options_action *action, struct config_error *err)
{
    memset(out, 0, sizeof(*out));
    *action = OPTIONS_RUN;
    enum zl_err rc = config_load(&schema, out, argc, argv, err);
    if (rc != ZL_OK)
        return rc;
    if (out->help) {
        *action = OPTIONS_HELP;
        return ZL_OK;
    }
    if (out->version) {
        *action = OPTIONS_VERSION;
        return ZL_OK;
    }
    rc = check_all(out, err);
    if (rc == ZL_OK && out->check_config)
        *action = OPTIONS_CHECK_CONFIG;
    return rc;
}

void options_cleanup(struct options *opt)
{
    config_cleanup(&schema, opt);
}

void options_print_help(FILE *f, const char *program)
{
    fprintf(f,
            "Usage: %s [flags]\n"
            "Keeps <service>-leader Services routed to exactly one Ready pod "
            "of every Service\nannotated zen-lead.io/enabled: \"true\".\n\n"
            "Flags (a --config YAML file takes the same keys; flags win):\n",
            program);
    config_print_help(&schema, f);
}

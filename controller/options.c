/* SPDX-License-Identifier: Apache-2.0 */
/* The controller's configuration table and the checks across keys. */
#include "controller/options.h"

#include <stddef.h>

#include "base/duration.h"
#include "kube/lease.h"
#include "serve/serve.h"

#define SEC CLOCK_NS_PER_S
#define MS CLOCK_NS_PER_MS

#define OPT(field) offsetof(struct options, field)

static const struct config_key keys[] = {
    FLAGS_COMMON_KEYS(struct options),
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

static enum zl_err check_namespaces(const struct options *opt,
                                    struct config_error *err)
{
    for (size_t i = 0; i < opt->namespaces.count; i++) {
        if (!flags_is_dns_label(opt->namespaces.items[i])) {
            config_fail(err,
                        "--namespace: \"%s\" is not a namespace name "
                        "(DNS-1123 label)",
                        opt->namespaces.items[i]);
            return ZL_ERR_INVALID;
        }
    }
    const char *ns = opt->leader_election_namespace;
    if (ns != NULL && !flags_is_dns_label(ns)) {
        config_fail(err,
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
    config_fail(err, "--lease-duration, --renew-deadline, --retry-period: need "
                     "lease-duration > renew-deadline > 1.2 x retry-period");
    return ZL_ERR_INVALID;
}

static enum zl_err check_all(void *p, struct config_error *err)
{
    const struct options *opt = p;
    enum zl_err rc = check_namespaces(opt, err);
    if (rc == ZL_OK)
        rc = check_lease(opt, err);
    const char *id = opt->leader_election_id;
    if (rc == ZL_OK && (id == NULL || !flags_is_dns_label(id))) {
        config_fail(err, "--leader-election-id: must be a DNS-1123 label");
        rc = ZL_ERR_INVALID;
    }
    return rc;
}

static const struct flags_program cmdline = {
    .schema = &schema,
    .size = sizeof(struct options),
    .summary = "Keeps <service>-leader Services routed to exactly one Ready "
               "pod of every Service\nannotated zen-lead.io/enabled: "
               "\"true\".\n",
    .address_ok = serve_address_ok,
    .check = check_all,
};

enum zl_err options_load(int argc, char *const *argv, struct options *out,
                         enum flags_action *action, struct config_error *err)
{
    return flags_load(&cmdline, out, &out->common, argc, argv, action, err);
}

void options_cleanup(struct options *opt)
{
    config_cleanup(&schema, opt);
}

void options_print_help(FILE *f, const char *program)
{
    flags_print_help(&cmdline, f, program);
}

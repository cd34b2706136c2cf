/* SPDX-License-Identifier: Apache-2.0 */
/* The webhook's configuration table and the checks across keys. */
#include "webhook/options.h"

#include <stddef.h>
#include <string.h>

#include "base/clock.h"
#include "serve/serve.h"

#define MS CLOCK_NS_PER_MS

static const char *const tls_versions[] = {"1.2", "1.3", NULL};
static const char *const named_port_policies[] = {"reject", "warn", NULL};
static const char *const failure_policies[] = {"allow", "deny", NULL};

#define OPT(field) offsetof(struct whopts, field)

static const struct config_key keys[] = {
    FLAGS_COMMON_KEYS(struct whopts),
    {.name = "port",
     .type = CONFIG_INT,
     .offset = OPT(port),
     .def = "9443",
     .min = 1,
     .max = 65535,
     .help = "TLS port of /validate and /mutate (every interface)"},
    {.name = "tls-cert-file",
     .type = CONFIG_STRING,
     .offset = OPT(tls_cert_file),
     .help = "serving certificate, PEM (required; re-read on change)"},
    {.name = "tls-key-file",
     .type = CONFIG_STRING,
     .offset = OPT(tls_key_file),
     .help = "its private key, PEM (required; re-read on change)"},
    {.name = "tls-min-version",
     .type = CONFIG_STRING,
     .offset = OPT(tls_min_version),
     .def = "1.2",
     .choices = tls_versions,
     .help = "1.2|1.3"},
    {.name = "controller-username",
     .type = CONFIG_STRING,
     .offset = OPT(controller_username),
     .def = WHOPTS_CONTROLLER_USERNAME,
     .help = "the only user (besides the garbage collector and namespace "
             "controller) that may edit managed objects"},
    {.name = "named-port-policy",
     .type = CONFIG_STRING,
     .offset = OPT(named_port_policy),
     .def = "reject",
     .choices = named_port_policies,
     .help = "reject|warn: a named targetPort that no matching pod "
             "declares"},
    {.name = "lookup-timeout",
     .type = CONFIG_DURATION,
     .offset = OPT(lookup_timeout),
     .def = "2s",
     .min = 100 * MS,
     .max = WHOPTS_LOOKUP_TIMEOUT_MAX_MS * MS,
     .help = "how long a pod or Service lookup may ask the API server when "
             "the cache cannot answer (at most 4s: timeoutSeconds is 5)"},
    {.name = "lookup-failure-policy",
     .type = CONFIG_STRING,
     .offset = OPT(lookup_failure_policy),
     .def = "allow",
     .choices = failure_policies,
     .help = "allow|deny when a lookup fails. allow admits with a warning "
             "that names the skipped check: the controller never takes over "
             "a Service that is not its own, and deny would block every "
             "zen-lead Service change while the API server is slow"},
    {.name = "max-body-bytes",
     .type = CONFIG_INT,
     .offset = OPT(max_body_bytes),
     .def = "7340032",
     .min = 65536,
     .max = (int64_t)64 << 20,
     .help = "largest AdmissionReview accepted (413 beyond); 7 MiB holds "
             "two 3 MiB objects"},
    {.name = "audit-log",
     .type = CONFIG_STRING,
     .offset = OPT(audit_log),
     .def = "-",
     .help = "file that gets one JSON line per decision; \"-\" is stdout"},
    {.name = "qps",
     .type = CONFIG_INT,
     .offset = OPT(qps),
     .def = "50",
     .min = 1,
     .max = 100000,
     .help = "API requests per second of the pod and Service caches"},
    {.name = "burst",
     .type = CONFIG_INT,
     .offset = OPT(burst),
     .def = "100",
     .min = 1,
     .max = 100000,
     .help = "API request burst of the pod and Service caches"},
};

static const struct config_schema schema = {keys, sizeof(keys) / sizeof(*keys)};

static bool empty(const char *s)
{
    return s == NULL || s[0] == '\0';
}

/* --port must not be the port of the plain listeners (both bind every
 * interface by default, so the second bind would fail at start-up). */
static enum zl_err check_port(const struct whopts *opt, const char *flag,
                              const char *address, struct config_error *err)
{
    struct serve_address a;
    if (serve_parse_address(address, &a) != ZL_OK || a.disabled ||
        a.port != opt->port)
        return ZL_OK;
    config_fail(err, "--port: %lld is also the port of --%s",
                (long long)opt->port, flag);
    return ZL_ERR_INVALID;
}

static enum zl_err check_required(const struct whopts *opt,
                                  struct config_error *err)
{
    const char *tls = empty(opt->tls_cert_file)  ? "tls-cert-file"
                      : empty(opt->tls_key_file) ? "tls-key-file"
                                                 : NULL;
    const char *other = empty(opt->controller_username) ? "controller-username"
                        : empty(opt->audit_log)         ? "audit-log"
                                                        : NULL;
    if (tls != NULL)
        config_fail(err,
                    "--%s: required (the API server calls webhooks over "
                    "TLS only)",
                    tls);
    else if (other != NULL)
        config_fail(err, "--%s: must not be empty", other);
    return tls != NULL || other != NULL ? ZL_ERR_INVALID : ZL_OK;
}

static void derive(struct whopts *opt)
{
    opt->tls_min = strcmp(opt->tls_min_version, "1.3") == 0 ? WHOPTS_TLS_1_3
                                                            : WHOPTS_TLS_1_2;
    opt->named_port = strcmp(opt->named_port_policy, "warn") == 0
                          ? WHOPTS_NAMED_PORT_WARN
                          : WHOPTS_NAMED_PORT_REJECT;
    opt->lookup_failure = strcmp(opt->lookup_failure_policy, "deny") == 0
                              ? WHOPTS_LOOKUP_DENY
                              : WHOPTS_LOOKUP_ALLOW;
}

static enum zl_err check_all(void *p, struct config_error *err)
{
    struct whopts *opt = p;
    enum zl_err rc = check_required(opt, err);
    if (rc == ZL_OK)
        rc = check_port(opt, "metrics-bind-address",
                        opt->common.metrics_bind_address, err);
    if (rc == ZL_OK)
        rc = check_port(opt, "health-probe-bind-address",
                        opt->common.health_probe_bind_address, err);
    if (rc == ZL_OK)
        derive(opt);
    return rc;
}

static const struct flags_program cmdline = {
    .schema = &schema,
    .size = sizeof(struct whopts),
    .summary = "Validates and normalizes zen-lead annotations on Services and "
               "guards the\nobjects zen-lead manages (AdmissionReview v1 on "
               "POST /validate and /mutate).\n",
    .address_ok = serve_address_ok,
    .check = check_all,
};

enum zl_err whopts_load(int argc, char *const *argv, struct whopts *out,
                        enum flags_action *action, struct config_error *err)
{
    return flags_load(&cmdline, out, &out->common, argc, argv, action, err);
}

void whopts_cleanup(struct whopts *opt)
{
    config_cleanup(&schema, opt);
}

void whopts_print_help(FILE *f, const char *program)
{
    flags_print_help(&cmdline, f, program);
}

void whopts_print(FILE *f, const struct whopts *o)
{
    fprintf(f,
            "configuration OK\nmetrics-bind-address: %s\n"
            "health-probe-bind-address: %s\nport: %lld\ntls-cert-file: %s\n"
            "tls-key-file: %s\ntls-min-version: %s\ncontroller-username: %s\n"
            "named-port-policy: %s\nlookup-timeout: %lldms\n"
            "lookup-failure-policy: %s\nmax-body-bytes: %lld\n"
            "audit-log: %s\nqps: %lld\nburst: %lld\n",
            o->common.metrics_bind_address, o->common.health_probe_bind_address,
            (long long)o->port, o->tls_cert_file, o->tls_key_file,
            o->tls_min_version, o->controller_username, o->named_port_policy,
            (long long)(o->lookup_timeout / MS), o->lookup_failure_policy,
            (long long)o->max_body_bytes, o->audit_log, (long long)o->qps,
            (long long)o->burst);
}

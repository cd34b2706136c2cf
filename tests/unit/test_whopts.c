/* SPDX-License-Identifier: Apache-2.0 */
/* The webhook's flags and YAML configuration, table-driven: defaults per
 * SPEC section 6, good and bad flags (one line naming the flag), the YAML
 * file under flags, the actions, and the checks across keys. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "testutil.h"
#include "webhook/options.h"

#define MS CLOCK_NS_PER_MS
#define TLS "--tls-cert-file c.pem --tls-key-file k.pem "

static struct whopts opt;
static struct config_error err;
static enum flags_action action;

static void teardown(void)
{
    whopts_cleanup(&opt);
}

TestSuite(whopts, .fini = teardown);

/* Loads the options of a command line (the program, then line). */
static enum zl_err load_line(const char *line)
{
    static struct testutil_argv args;
    testutil_argv(&args, "zen-lead-webhook", line);
    whopts_cleanup(&opt);
    err.text[0] = '\0';
    return whopts_load(args.argc, args.argv, &opt, &action, &err);
}

Test(whopts, defaults_per_spec)
{
    cr_assert_eq(load_line(TLS), ZL_OK, "%s", err.text);
    cr_expect_eq(action, FLAGS_RUN);
    cr_expect_eq(opt.port, 9443);
    cr_expect_str_eq(opt.tls_min_version, "1.2");
    cr_expect_eq(opt.tls_min, WHOPTS_TLS_1_2);
    cr_expect_str_eq(opt.controller_username,
                     "system:serviceaccount:zen-lead-system:"
                     "zen-lead-controller");
    cr_expect_eq(opt.named_port, WHOPTS_NAMED_PORT_REJECT);
    cr_expect_eq(opt.lookup_timeout, 2000 * MS);
    cr_expect_lt(opt.lookup_timeout,
                 (int64_t)WHOPTS_WEBHOOK_TIMEOUT_S * 1000 * MS);
    cr_expect_eq(opt.lookup_failure, WHOPTS_LOOKUP_ALLOW);
    cr_expect_eq(opt.max_body_bytes, 7 * 1024 * 1024);
    cr_expect_str_eq(opt.audit_log, "-");
    cr_expect_eq(opt.qps, 50);
    cr_expect_eq(opt.burst, 100);
    cr_expect_str_eq(opt.common.metrics_bind_address, ":8080");
    cr_expect_str_eq(opt.common.health_probe_bind_address, ":8081");
    cr_expect_null(opt.common.kubeconfig);
    cr_expect_eq(opt.common.level, LOG_LEVEL_INFO);
    cr_expect_eq(opt.common.format, LOG_FORMAT_JSON);
}

Test(whopts, good_flags)
{
    cr_assert_eq(load_line(TLS "--port=10250 --tls-min-version 1.3 "
                               "--controller-username alice "
                               "--named-port-policy warn --lookup-timeout "
                               "500ms --lookup-failure-policy=deny "
                               "--max-body-bytes 1048576 --audit-log "
                               "/var/log/zl.audit --qps 5 --burst 9 "
                               "--log-level debug --log-format text "
                               "--kubeconfig /k --metrics-bind-address 0 "
                               "--health-probe-bind-address [::1]:9"),
                 ZL_OK, "%s", err.text);
    cr_expect_eq(opt.port, 10250);
    cr_expect_eq(opt.tls_min, WHOPTS_TLS_1_3);
    cr_expect_str_eq(opt.tls_cert_file, "c.pem");
    cr_expect_str_eq(opt.tls_key_file, "k.pem");
    cr_expect_str_eq(opt.controller_username, "alice");
    cr_expect_eq(opt.named_port, WHOPTS_NAMED_PORT_WARN);
    cr_expect_eq(opt.lookup_timeout, 500 * MS);
    cr_expect_eq(opt.lookup_failure, WHOPTS_LOOKUP_DENY);
    cr_expect_eq(opt.max_body_bytes, 1048576);
    cr_expect_str_eq(opt.audit_log, "/var/log/zl.audit");
    cr_expect_eq(opt.qps, 5);
    cr_expect_eq(opt.burst, 9);
    cr_expect_eq(opt.common.level, LOG_LEVEL_DEBUG);
    cr_expect_eq(opt.common.format, LOG_FORMAT_TEXT);
    cr_expect_str_eq(opt.common.kubeconfig, "/k");
}

static const struct {
    const char *line;
    const char *names; /* the error line must contain this */
} bad_cases[] = {
    {"", "--tls-cert-file: required"},
    {"--tls-cert-file c.pem", "--tls-key-file: required"},
    {"--tls-key-file k.pem", "--tls-cert-file: required"},
    {TLS "--bogus", "--bogus: unknown flag"},
    {TLS "--port 0", "--port"},
    {TLS "--port 65536", "--port"},
    {TLS "--port x", "--port"},
    {TLS "--tls-min-version 1.1", "--tls-min-version"},
    {TLS "--tls-min-version 1.0", "--tls-min-version"},
    {TLS "--named-port-policy ignore", "--named-port-policy"},
    {TLS "--lookup-failure-policy maybe", "--lookup-failure-policy"},
    {TLS "--lookup-timeout 5s", "--lookup-timeout"},
    {TLS "--lookup-timeout 4001ms", "--lookup-timeout"},
    {TLS "--lookup-timeout 10ms", "--lookup-timeout"},
    {TLS "--lookup-timeout 2", "--lookup-timeout"},
    {TLS "--max-body-bytes 100", "--max-body-bytes"},
    {TLS "--max-body-bytes 1073741824", "--max-body-bytes"},
    {TLS "--qps 0", "--qps"},
    {TLS "--burst -1", "--burst"},
    {TLS "--controller-username=", "--controller-username"},
    {TLS "--audit-log=", "--audit-log"},
    {TLS "--log-level loud", "--log-level"},
    {TLS "--metrics-bind-address 8080", "--metrics-bind-address"},
    {TLS "--health-probe-bind-address :99999", "--health-probe-bind-address"},
    {TLS "--port 8080", "--port: 8080 is also the port of "
                        "--metrics-bind-address"},
    {TLS "--port 8081", "--health-probe-bind-address"},
    {TLS "--port 9000 --health-probe-bind-address 127.0.0.1:9000",
     "--health-probe-bind-address"},
    {TLS "stray", "unexpected argument"},
    {TLS "--port", "needs a value"},
    {TLS "--config /nonexistent/wh.yaml", "/nonexistent/wh.yaml"},
};

Test(whopts, bad_flags_one_line)
{
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(*bad_cases); i++) {
        cr_expect_neq(load_line(bad_cases[i].line), ZL_OK, "%s",
                      bad_cases[i].line);
        cr_expect(strstr(err.text, bad_cases[i].names) != NULL, "%s -> \"%s\"",
                  bad_cases[i].line, err.text);
        cr_expect(strchr(err.text, '\n') == NULL, "one line: %s", err.text);
    }
}

Test(whopts, bounds_are_inclusive)
{
    static const char *const lines[] = {
        TLS "--lookup-timeout 4s",
        TLS "--lookup-timeout 100ms",
        TLS "--max-body-bytes 65536",
        TLS "--max-body-bytes 67108864",
        TLS "--port 1",
        TLS "--port 65535",
        TLS "--port 8080 --metrics-bind-address 0",
    };
    for (size_t i = 0; i < sizeof(lines) / sizeof(*lines); i++)
        cr_expect_eq(load_line(lines[i]), ZL_OK, "%s: %s", lines[i], err.text);
}

Test(whopts, actions)
{
    static const struct {
        const char *line;
        enum flags_action want;
    } cases[] = {
        {"--help", FLAGS_HELP},
        {"--version", FLAGS_VERSION},
        {"--help --port 0x", FLAGS_HELP}, /* no checks for help... */
        {TLS "--check-config", FLAGS_CHECK_CONFIG},
        {TLS "--check-config --qps 3", FLAGS_CHECK_CONFIG},
        {TLS "--qps 3", FLAGS_RUN},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        enum zl_err rc = load_line(cases[i].line);
        if (strstr(cases[i].line, "0x") != NULL) {
            /* ...but a value of the wrong type is still a parse error. */
            cr_expect_neq(rc, ZL_OK, "%s", cases[i].line);
            continue;
        }
        cr_assert_eq(rc, ZL_OK, "%s: %s", cases[i].line, err.text);
        cr_expect_eq(action, cases[i].want, "%s", cases[i].line);
    }
    cr_expect_neq(load_line("--check-config"), ZL_OK,
                  "check-config still needs the TLS files");
    cr_expect_neq(load_line(TLS "--check-config --port 8080"), ZL_OK,
                  "and still checks across keys");
}

static char *write_file(const char *text)
{
    char *path = testutil_write_temp("whopts", text);
    cr_assert_not_null(path);
    return path;
}

Test(whopts, yaml_file_under_flags)
{
    char *path = write_file("tls-cert-file: /tls/tls.crt\n"
                            "tls-key-file: /tls/tls.key\n"
                            "port: 10250\nnamed-port-policy: warn\n"
                            "lookup-timeout: 1500ms\n"
                            "lookup-failure-policy: deny\n"
                            "audit-log: /audit.log\nqps: 7\n");
    char line[256];
    snprintf(line, sizeof(line), "--config %s --qps 9 --tls-min-version=1.3",
             path);
    cr_assert_eq(load_line(line), ZL_OK, "%s", err.text);
    cr_expect_str_eq(opt.tls_cert_file, "/tls/tls.crt", "from the file");
    cr_expect_eq(opt.port, 10250);
    cr_expect_eq(opt.named_port, WHOPTS_NAMED_PORT_WARN);
    cr_expect_eq(opt.lookup_timeout, 1500 * MS);
    cr_expect_eq(opt.lookup_failure, WHOPTS_LOOKUP_DENY);
    cr_expect_str_eq(opt.audit_log, "/audit.log");
    cr_expect_eq(opt.qps, 9, "the flag wins");
    cr_expect_eq(opt.tls_min, WHOPTS_TLS_1_3);
    unlink(path);
    free(path);
}

Test(whopts, yaml_file_errors)
{
    static const char *const files[] = {
        "port: lots\n",                /* bad value */
        "lookup-timeout: 9s\n",        /* out of bounds */
        "named-port-policy: ignore\n", /* not a choice */
        "unknown-key: 1\n",            /* unknown key */
        "check-config: true\n",        /* flag-only key */
        "tls-cert-file: [a\n",         /* malformed */
        "tls-cert-file: [a, b]\n",     /* a list for a string */
    };
    for (size_t i = 0; i < sizeof(files) / sizeof(*files); i++) {
        char *path = write_file(files[i]);
        char line[256];
        snprintf(line, sizeof(line), "--config=%s " TLS, path);
        cr_expect_neq(load_line(line), ZL_OK, "%s", files[i]);
        cr_expect(strstr(err.text, path) != NULL, "names the file: %s",
                  err.text);
        cr_expect(strchr(err.text, '\n') == NULL, "one line: %s", err.text);
        unlink(path);
        free(path);
    }
}

Test(whopts, help_and_print_name_every_key)
{
    static const char *const keys[] = {
        "port",
        "tls-cert-file",
        "tls-key-file",
        "tls-min-version",
        "controller-username",
        "named-port-policy",
        "lookup-timeout",
        "lookup-failure-policy",
        "max-body-bytes",
        "audit-log",
        "qps",
        "burst",
        "kubeconfig",
        "check-config",
        "metrics-bind-address",
    };
    char *help = NULL, *printed = NULL;
    size_t help_len = 0, printed_len = 0;
    FILE *f = open_memstream(&help, &help_len);
    whopts_print_help(f, "zen-lead-webhook");
    fclose(f);
    cr_assert_eq(load_line(TLS), ZL_OK, "%s", err.text);
    f = open_memstream(&printed, &printed_len);
    whopts_print(f, &opt);
    fclose(f);
    for (size_t i = 0; i < sizeof(keys) / sizeof(*keys); i++) {
        char flag[64];
        snprintf(flag, sizeof(flag), "--%s", keys[i]);
        cr_expect(strstr(help, flag) != NULL, "help names %s", flag);
    }
    cr_expect(strstr(help, "allow admits with a warning") != NULL,
              "help says why allow is the default");
    cr_expect(strstr(printed, "lookup-timeout: 2000ms\n") != NULL, "%s",
              printed);
    cr_expect(strstr(printed, "port: 9443\n") != NULL, "%s", printed);
    free(help);
    free(printed);
}

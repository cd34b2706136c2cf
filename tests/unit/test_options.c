/* SPDX-License-Identifier: Apache-2.0 */
/* The controller's flags and YAML configuration, table-driven: defaults,
 * good and bad flags (one line naming the flag), the YAML file under
 * flags, the actions (--help, --version, --check-config), and addresses. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/duration.h"
#include "controller/options.h"
#include "testutil.h"

#define SEC CLOCK_NS_PER_S

static struct options opt;
static struct config_error err;
static enum flags_action action;

static void teardown(void)
{
    options_cleanup(&opt);
}

TestSuite(options, .fini = teardown);

/* Loads the options of a command line (the program, then line). */
static enum zl_err load_line(const char *line)
{
    static struct testutil_argv args;
    testutil_argv(&args, "zen-lead-controller", line);
    options_cleanup(&opt);
    return options_load(args.argc, args.argv, &opt, &action, &err);
}

Test(options, defaults_per_spec)
{
    cr_assert_eq(load_line(""), ZL_OK, "%s", err.text);
    cr_expect_eq(action, FLAGS_RUN);
    cr_expect_str_eq(opt.common.metrics_bind_address, ":8080");
    cr_expect_str_eq(opt.common.health_probe_bind_address, ":8081");
    cr_expect_not(opt.leader_elect, "off in the binary");
    cr_expect_str_eq(opt.leader_election_id, "zen-lead-controller");
    cr_expect_null(opt.leader_election_namespace);
    cr_expect_eq(opt.lease_duration, 15 * SEC);
    cr_expect_eq(opt.renew_deadline, 10 * SEC);
    cr_expect_eq(opt.retry_period, 2 * SEC);
    cr_expect_eq(opt.qps, 50);
    cr_expect_eq(opt.burst, 100);
    cr_expect_eq(opt.namespaces.count, 0, "all namespaces");
    cr_expect_eq(opt.common.format, LOG_FORMAT_JSON);
    cr_expect_eq(opt.common.level, LOG_LEVEL_INFO);
}

Test(options, good_flags)
{
    cr_assert_eq(load_line("--namespace a --namespace=b --leader-elect "
                           "--lease-duration 30s --renew-deadline=20s "
                           "--retry-period 5s --qps 5 --burst 7 --workers 2 "
                           "--log-level debug --log-format text "
                           "--metrics-bind-address 127.0.0.1:0 "
                           "--health-probe-bind-address [::1]:9 "
                           "--leader-election-namespace ops"),
                 ZL_OK, "%s", err.text);
    cr_expect_eq(opt.namespaces.count, 2);
    cr_expect_str_eq(opt.namespaces.items[1], "b");
    cr_expect(opt.leader_elect);
    cr_expect_eq(opt.lease_duration, 30 * SEC);
    cr_expect_eq(opt.retry_period, 5 * SEC);
    cr_expect_eq(opt.qps, 5);
    cr_expect_eq(opt.workers, 2);
    cr_expect_eq(opt.common.level, LOG_LEVEL_DEBUG);
    cr_expect_eq(opt.common.format, LOG_FORMAT_TEXT);
    cr_expect_str_eq(opt.leader_election_namespace, "ops");
}

static const struct {
    const char *line;
    const char *names; /* the error line must contain this */
} bad_cases[] = {
    {"--bogus", "--bogus: unknown flag"},
    {"--qps x", "--qps"},
    {"--qps 0", "--qps"},
    {"--workers 1000", "--workers"},
    {"--log-level loud", "--log-level"},
    {"--log-format xml", "--log-format"},
    {"--lease-duration 1x", "--lease-duration"},
    {"--namespace Bad_NS", "--namespace"},
    {"--leader-election-namespace -x", "--leader-election-namespace"},
    {"--metrics-bind-address 8080", "--metrics-bind-address"},
    {"--health-probe-bind-address :99999", "--health-probe-bind-address"},
    {"--lease-duration 10s --renew-deadline 10s", "renew-deadline"},
    {"--renew-deadline 2s --retry-period 2s", "retry-period"},
    {"stray", "unexpected argument"},
    {"--qps", "needs a value"},
    {"--config /nonexistent/zl.yaml", "/nonexistent/zl.yaml"},
};

Test(options, bad_flags_one_line)
{
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(*bad_cases); i++) {
        err.text[0] = '\0';
        cr_expect_neq(load_line(bad_cases[i].line), ZL_OK, "%s",
                      bad_cases[i].line);
        cr_expect(strstr(err.text, bad_cases[i].names) != NULL, "%s -> \"%s\"",
                  bad_cases[i].line, err.text);
        cr_expect(strchr(err.text, '\n') == NULL, "one line: %s", err.text);
    }
}

Test(options, actions)
{
    static const struct {
        const char *line;
        enum flags_action want;
    } cases[] = {
        {"--help", FLAGS_HELP},
        {"--version", FLAGS_VERSION},
        {"--check-config", FLAGS_CHECK_CONFIG},
        {"--check-config --qps 3", FLAGS_CHECK_CONFIG},
        {"--workers 3", FLAGS_RUN},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        cr_assert_eq(load_line(cases[i].line), ZL_OK, "%s: %s", cases[i].line,
                     err.text);
        cr_expect_eq(action, cases[i].want, "%s", cases[i].line);
    }
    cr_expect_neq(load_line("--check-config --qps -1"), ZL_OK,
                  "check-config still checks");
}

static char *write_file(const char *text)
{
    char *path = testutil_write_temp("options", text);
    cr_assert_not_null(path);
    return path;
}

Test(options, yaml_file_under_flags)
{
    char *path = write_file("qps: 7\nworkers: 3\nnamespace: [x, y]\n"
                            "leader-elect: true\nlease-duration: 20s\n"
                            "log-format: text\n");
    char line[256];
    snprintf(line, sizeof(line), "--config %s --workers 5", path);
    cr_assert_eq(load_line(line), ZL_OK, "%s", err.text);
    cr_expect_eq(opt.qps, 7, "from the file");
    cr_expect_eq(opt.workers, 5, "the flag wins");
    cr_expect_eq(opt.namespaces.count, 2);
    cr_expect(opt.leader_elect);
    cr_expect_eq(opt.lease_duration, 20 * SEC);
    unlink(path);
    free(path);
}

Test(options, yaml_file_errors)
{
    static const char *const files[] = {
        "qps: lots\n",      /* bad value */
        "unknown-key: 1\n", /* unknown key */
        "help: true\n",     /* flag-only key */
        "qps: [1\n",        /* malformed */
    };
    for (size_t i = 0; i < sizeof(files) / sizeof(*files); i++) {
        char *path = write_file(files[i]);
        char line[256];
        snprintf(line, sizeof(line), "--config=%s", path);
        cr_expect_neq(load_line(line), ZL_OK, "%s", files[i]);
        cr_expect(strstr(err.text, path) != NULL, "names the file: %s",
                  err.text);
        unlink(path);
        free(path);
    }
}

Test(options, a_namespace_with_a_newline_is_refused_in_one_line)
{
    static const char *const files[] = {
        "namespace: [\"a\\nb\"]\n",
        "leader-election-namespace: \"a\\nb\"\n",
    };
    for (size_t i = 0; i < sizeof(files) / sizeof(*files); i++) {
        char *path = write_file(files[i]);
        char line[256];
        snprintf(line, sizeof(line), "--config=%s", path);
        cr_expect_eq(load_line(line), ZL_ERR_INVALID, "%s", files[i]);
        cr_expect(strstr(err.text, "namespace: \"a b\" is not") != NULL, "%s",
                  err.text);
        cr_expect(strchr(err.text, '\n') == NULL, "one line: %s", err.text);
        unlink(path);
        free(path);
    }
}

Test(options, addresses)
{
    static const struct {
        const char *text;
        bool ok;
    } cases[] = {
        {":8080", true},      {"0.0.0.0:1", true},
        {"[::1]:8081", true}, {"0", true},
        {"8080", false},      {"::1:80", false},
        {":", false},         {":65536", false},
        {":80x", false},      {"localhost:80", false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        char line[128];
        snprintf(line, sizeof(line), "--metrics-bind-address %s",
                 cases[i].text);
        cr_expect_eq(load_line(line) == ZL_OK, cases[i].ok, "%s: %s",
                     cases[i].text, err.text);
    }
}

Test(options, help_says_what_and_names_every_key)
{
    static const char *const keys[] = {
        "namespace", "leader-elect",   "leader-election-id",
        "qps",       "lease-duration", "metrics-bind-address",
        "workers",   "check-config",   "health-probe-bind-address",
    };
    char *help = NULL;
    size_t help_len = 0;
    FILE *f = open_memstream(&help, &help_len);
    options_print_help(f, "zen-lead-controller");
    fclose(f);
    const char *head = "Usage: zen-lead-controller [flags]\nKeeps "
                       "<service>-leader Services";
    cr_expect(strncmp(help, head, strlen(head)) == 0, "%s", help);
    cr_expect(strstr(help, "\"true\".\n\nFlags (a --config YAML file") != NULL,
              "%s", help);
    for (size_t i = 0; i < sizeof(keys) / sizeof(*keys); i++) {
        char flag[64];
        snprintf(flag, sizeof(flag), "\n  --%s ", keys[i]);
        cr_expect(strstr(help, flag) != NULL, "help names %s", flag);
    }
    free(help);
}

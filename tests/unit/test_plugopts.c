/* SPDX-License-Identifier: Apache-2.0 */
/* kubectl-zenlead's command line (plugin/options), table-driven: each
 * command line gives either the whole options or one exact error line.
 * Named plugopts: the controller's options have tests/unit/test_options.c. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "plugin/options.h"
#include "testutil.h"

/* The options expected: zero strings and durations mean the defaults. */
struct opt_case {
    const char *line;
    const char *err; /* NULL: parses; else the exact error line */
    struct options want;
};

#define STATUS .command = OPTIONS_STATUS
#define WHY .command = OPTIONS_WHY
#define DRILL .command = OPTIONS_DRILL

static const struct opt_case cases[] = {
    /* commands */
    {"", NULL, {.command = OPTIONS_HELP}},
    {"status", NULL, {STATUS}},
    {"status db", NULL, {STATUS, .service = "db"}},
    {"why db", NULL, {WHY, .service = "db"}},
    {"drill db", NULL, {DRILL, .service = "db"}},
    {"status -- -db", NULL, {STATUS, .service = "-db"}},
    {"status -- --help", NULL, {STATUS, .service = "--help"}},
    /* every flag, both forms */
    {"status --kubeconfig /k", NULL, {STATUS, .kubeconfig = "/k"}},
    {"status --kubeconfig=/k", NULL, {STATUS, .kubeconfig = "/k"}},
    {"status --context kind-a", NULL, {STATUS, .context = "kind-a"}},
    {"status --context=kind-a", NULL, {STATUS, .context = "kind-a"}},
    {"status -n shop", NULL, {STATUS, .namespace_name = "shop"}},
    {"status --namespace shop", NULL, {STATUS, .namespace_name = "shop"}},
    {"status --namespace=shop", NULL, {STATUS, .namespace_name = "shop"}},
    {"status -nshop", NULL, {STATUS, .namespace_name = "shop"}},
    {"status -n=shop", NULL, {STATUS, .namespace_name = "shop"}},
    {"status -ojson", NULL, {STATUS, .json = true}},
    {"status -o=json", NULL, {STATUS, .json = true}},
    {"status -oyaml", "--output: \"yaml\" is not one of text, json", {0}},
    {"status -n=", "flag --namespace needs a non-empty value", {0}},
    {"status -A", NULL, {STATUS, .all_namespaces = true}},
    {"status --all-namespaces", NULL, {STATUS, .all_namespaces = true}},
    {"status -o json", NULL, {STATUS, .json = true}},
    {"status --output json", NULL, {STATUS, .json = true}},
    {"status --output=json", NULL, {STATUS, .json = true}},
    {"status -o json -o text", NULL, {STATUS}},
    {"status --output=text", NULL, {STATUS}},
    {"status --color always", NULL, {STATUS, .color = OPTIONS_COLOR_ALWAYS}},
    {"status --color=never", NULL, {STATUS, .color = OPTIONS_COLOR_NEVER}},
    {"status --color=auto", NULL, {STATUS, .color = OPTIONS_COLOR_AUTO}},
    {"status --controller-namespace ops",
     NULL,
     {STATUS, .controller_namespace = "ops"}},
    {"status --controller-namespace=ops",
     NULL,
     {STATUS, .controller_namespace = "ops"}},
    {"status --lease-name zl", NULL, {STATUS, .lease_name = "zl"}},
    {"status --lease-name=zl", NULL, {STATUS, .lease_name = "zl"}},
    {"status --request-timeout 3s", NULL, {STATUS, .request_timeout_ms = 3000}},
    {"status --request-timeout=1500ms",
     NULL,
     {STATUS, .request_timeout_ms = 1500}},
    {"status --request-timeout=1us", NULL, {STATUS, .request_timeout_ms = 1}},
    {"drill db --yes", NULL, {DRILL, .service = "db", .yes = true}},
    {"drill db -y", NULL, {DRILL, .service = "db", .yes = true}},
    {"drill db --watch-only",
     NULL,
     {DRILL, .service = "db", .watch_only = true}},
    {"drill db --force", NULL, {DRILL, .service = "db", .force = true}},
    {"drill db --probe http://db:8080/",
     NULL,
     {DRILL, .service = "db", .probe_url = "http://db:8080/"}},
    {"drill db --probe=http://db/?a=b",
     NULL,
     {DRILL, .service = "db", .probe_url = "http://db/?a=b"}},
    {"drill db --timeout 2m",
     NULL,
     {DRILL, .service = "db", .timeout_ms = 120000}},
    {"drill db --timeout=90s",
     NULL,
     {DRILL, .service = "db", .timeout_ms = 90000}},
    /* global flags anywhere */
    {"-n shop --context=c why db",
     NULL,
     {WHY, .service = "db", .namespace_name = "shop", .context = "c"}},
    {"--kubeconfig /k drill --yes db -o json",
     NULL,
     {DRILL, .service = "db", .kubeconfig = "/k", .yes = true, .json = true}},
    {"-A -o json status", NULL, {STATUS, .all_namespaces = true, .json = true}},
    /* --help and --version anywhere, whatever is missing */
    {"--help", NULL, {.command = OPTIONS_HELP}},
    {"-h", NULL, {.command = OPTIONS_HELP}},
    {"status --help", NULL, {.command = OPTIONS_HELP}},
    {"why --help", NULL, {.command = OPTIONS_HELP}},
    {"drill db --force -h",
     NULL,
     {.command = OPTIONS_HELP, .service = "db", .force = true}},
    {"status --help --frob", NULL, {.command = OPTIONS_HELP}},
    {"--version", NULL, {.command = OPTIONS_VERSION}},
    {"drill --version", NULL, {.command = OPTIONS_VERSION}},
    {"-n shop --version status",
     NULL,
     {.command = OPTIONS_VERSION, .namespace_name = "shop"}},
    /* unknown flags and commands */
    {"frob", "unknown command \"frob\" (status, why or drill)", {0}},
    {"frob --help", "unknown command \"frob\" (status, why or drill)", {0}},
    {"status --frob", "unknown flag --frob (see kubectl zenlead --help)", {0}},
    {"status --frob --help",
     "unknown flag --frob (see kubectl zenlead --help)",
     {0}},
    {"status -x", "unknown flag -x (see kubectl zenlead --help)", {0}},
    {"drill db --yes=true",
     "unknown flag --yes=true (see kubectl zenlead --help)",
     {0}},
    {"status --namespaces=a",
     "unknown flag --namespaces=a (see kubectl zenlead --help)",
     {0}},
    {"status db extra", "unexpected argument \"extra\"", {0}},
    {"-n shop", "no command given (status, why or drill)", {0}},
    {"--", "no command given (status, why or drill)", {0}},
    /* missing and bad values */
    {"status -n", "flag --namespace needs a value", {0}},
    {"status --namespace", "flag --namespace needs a value", {0}},
    {"status --kubeconfig", "flag --kubeconfig needs a value", {0}},
    {"status --context", "flag --context needs a value", {0}},
    {"status --context=", "flag --context needs a non-empty value", {0}},
    {"status --namespace=", "flag --namespace needs a non-empty value", {0}},
    {"status --controller-namespace",
     "flag --controller-namespace needs a value",
     {0}},
    {"status --lease-name=", "flag --lease-name needs a non-empty value", {0}},
    {"drill db --probe", "flag --probe needs a value", {0}},
    {"status -o", "flag --output needs a value", {0}},
    {"status --output=yaml",
     "--output: \"yaml\" is not one of text, json",
     {0}},
    {"status -o wide", "--output: \"wide\" is not one of text, json", {0}},
    {"status --color", "flag --color needs a value", {0}},
    {"status --color=sometimes",
     "--color: \"sometimes\" is not one of auto, always, never",
     {0}},
    {"drill db --timeout", "flag --timeout needs a value", {0}},
    {"drill db --timeout 0s",
     "--timeout: not a positive duration (like 30s)",
     {0}},
    {"drill db --timeout -5s",
     "--timeout: not a positive duration (like 30s)",
     {0}},
    {"drill db --timeout=10",
     "--timeout: not a positive duration (like 30s)",
     {0}},
    {"drill db --timeout=1d",
     "--timeout: not a positive duration (like 30s)",
     {0}},
    {"status --request-timeout=",
     "--request-timeout: not a positive duration (like 30s)",
     {0}},
    {"status --request-timeout soon",
     "--request-timeout: not a positive duration (like 30s)",
     {0}},
    /* arguments that do not go together */
    {"status -A db", "-A lists every Service: give no SERVICE", {0}},
    {"status db --all-namespaces",
     "-A lists every Service: give no SERVICE",
     {0}},
    {"status -A -n shop", "-A and -n exclude each other", {0}},
    {"why", "why needs a SERVICE", {0}},
    {"why -n shop", "why needs a SERVICE", {0}},
    {"drill --yes", "drill needs a SERVICE", {0}},
};

static bool same(const char *a, const char *b)
{
    return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static void expect_str(const char *line, const char *field, const char *got,
                       const char *want)
{
    cr_expect(same(got, want), "\"%s\": %s is %s, want %s", line, field,
              got != NULL ? got : "NULL", want != NULL ? want : "NULL");
}

static void expect_options(const char *line, const struct options *got,
                           struct options want)
{
    if (want.controller_namespace == NULL)
        want.controller_namespace = "zen-lead-system";
    if (want.lease_name == NULL)
        want.lease_name = "zen-lead-controller";
    if (want.request_timeout_ms == 0)
        want.request_timeout_ms = 10000;
    if (want.timeout_ms == 0)
        want.timeout_ms = 60000;
    cr_expect_eq(got->command, want.command, "\"%s\": command", line);
    expect_str(line, "service", got->service, want.service);
    expect_str(line, "kubeconfig", got->kubeconfig, want.kubeconfig);
    expect_str(line, "context", got->context, want.context);
    expect_str(line, "namespace", got->namespace_name, want.namespace_name);
    expect_str(line, "controller namespace", got->controller_namespace,
               want.controller_namespace);
    expect_str(line, "lease", got->lease_name, want.lease_name);
    expect_str(line, "probe", got->probe_url, want.probe_url);
    cr_expect_eq(got->all_namespaces, want.all_namespaces, "\"%s\": -A", line);
    cr_expect_eq(got->json, want.json, "\"%s\": json", line);
    cr_expect_eq(got->color, want.color, "\"%s\": color", line);
    cr_expect_eq(got->request_timeout_ms, want.request_timeout_ms,
                 "\"%s\": request timeout %lld", line,
                 (long long)got->request_timeout_ms);
    cr_expect_eq(got->timeout_ms, want.timeout_ms, "\"%s\": timeout %lld", line,
                 (long long)got->timeout_ms);
    cr_expect_eq(got->yes, want.yes, "\"%s\": yes", line);
    cr_expect_eq(got->watch_only, want.watch_only, "\"%s\": watch-only", line);
    cr_expect_eq(got->force, want.force, "\"%s\": force", line);
}

TestSuite(plugopts);

Test(plugopts, parses_each_command_line_or_says_what_is_wrong)
{
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        const struct opt_case *c = &cases[k];
        struct testutil_argv args;
        struct options o;
        char err[OPTIONS_ERROR_MAX];
        testutil_argv(&args, "kubectl-zenlead", c->line);
        enum zl_err rc = options_parse(args.argc, args.argv, &o, err);
        if (c->err != NULL) {
            cr_expect_eq(rc, ZL_ERR_INVALID, "\"%s\": parsed", c->line);
            cr_expect_str_eq(err, c->err, "\"%s\"", c->line);
            continue;
        }
        cr_expect_eq(rc, ZL_OK, "\"%s\": %s", c->line, err);
        cr_expect_str_eq(err, "", "\"%s\"", c->line);
        if (rc == ZL_OK)
            expect_options(c->line, &o, c->want);
    }
}

Test(plugopts, values_are_borrowed_from_argv)
{
    struct testutil_argv args;
    struct options o;
    char err[OPTIONS_ERROR_MAX];
    testutil_argv(&args, "kubectl-zenlead", "why db --context=kind-a -n shop");
    cr_assert_eq(options_parse(args.argc, args.argv, &o, err), ZL_OK);
    cr_expect_eq(o.service, args.argv[2]);
    cr_expect_eq(o.context, args.argv[3] + strlen("--context="));
    cr_expect_eq(o.namespace_name, args.argv[5]);
}

Test(plugopts, an_error_is_one_line_within_the_limit)
{
    char line[600] = "status --";
    memset(line + strlen(line), 'x', 400);
    struct testutil_argv args;
    struct options o;
    char err[OPTIONS_ERROR_MAX];
    testutil_argv(&args, "kubectl-zenlead", line);
    cr_assert_eq(options_parse(args.argc, args.argv, &o, err), ZL_ERR_INVALID);
    cr_expect_eq(strlen(err), OPTIONS_ERROR_MAX - 1);
    cr_expect_null(strchr(err, '\n'));
    cr_expect_eq(strncmp(err, "unknown flag --xxx", 18), 0, "%s", err);
}

Test(plugopts, usage_names_every_command_and_flag)
{
    static const char *const words[] = {"status [SERVICE]",
                                        "why SERVICE",
                                        "drill SERVICE",
                                        "--kubeconfig",
                                        "--context",
                                        "-n, --namespace",
                                        "-A, --all-namespaces",
                                        "-o, --output",
                                        "--color",
                                        "--controller-namespace",
                                        "--lease-name",
                                        "--request-timeout",
                                        "--yes",
                                        "--watch-only",
                                        "--force",
                                        "--probe",
                                        "--timeout",
                                        "--help",
                                        "--version"};
    const char *u = options_usage();
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        cr_expect(strstr(u, words[i]) != NULL, "usage lacks %s", words[i]);
}

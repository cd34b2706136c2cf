/* SPDX-License-Identifier: Apache-2.0 */
/* Configuration: defaults < YAML file < flags, and one clear line for every
 * kind of bad input. */
#include <criterion/criterion.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/clock.h"
#include "base/config.h"
#include "base/duration.h"

struct test_cfg {
    char *config;
    char *log_level;
    char *log_format;
    int64_t qps;
    bool leader_elect;
    int64_t lease_duration;
    struct config_list namespaces;
};

static const char *const levels[] = {"debug", "info", "warn", "error", NULL};
static const char *const formats[] = {"json", "text", NULL};

#define SEC CLOCK_NS_PER_S
static const struct config_key keys[] = {
    {.name = "config",
     .type = CONFIG_STRING,
     .offset = offsetof(struct test_cfg, config),
     .flag_only = true},
    {.name = "log-level",
     .type = CONFIG_STRING,
     .offset = offsetof(struct test_cfg, log_level),
     .def = "info",
     .choices = levels},
    {.name = "log-format",
     .type = CONFIG_STRING,
     .offset = offsetof(struct test_cfg, log_format),
     .def = "json",
     .choices = formats},
    {.name = "qps",
     .type = CONFIG_INT,
     .offset = offsetof(struct test_cfg, qps),
     .def = "50",
     .min = 1,
     .max = 10000},
    {.name = "leader-elect",
     .type = CONFIG_BOOL,
     .offset = offsetof(struct test_cfg, leader_elect),
     .def = "false"},
    {.name = "lease-duration",
     .type = CONFIG_DURATION,
     .offset = offsetof(struct test_cfg, lease_duration),
     .def = "15s",
     .min = SEC,
     .max = 3600 * SEC},
    {.name = "namespace",
     .type = CONFIG_LIST,
     .offset = offsetof(struct test_cfg, namespaces)},
};
static const struct config_schema schema = {keys, sizeof(keys) / sizeof(*keys)};

static struct test_cfg cfg;
static struct config_error err;

static void teardown(void)
{
    config_cleanup(&schema, &cfg);
    memset(&cfg, 0, sizeof(cfg));
}

TestSuite(config, .fini = teardown);

static enum zl_err load(int argc, char **argv)
{
    memset(&cfg, 0, sizeof(cfg));
    return config_load(&schema, &cfg, argc, argv, &err);
}

/* Flags as main() gets them: writable strings. */
#define A(s) ((char *)(uintptr_t)(s))
#define DATA(f) ZL_TEST_DATA_DIR "/config/" f

Test(config, applies_defaults)
{
    char *argv[] = {A("prog")};
    cr_assert_eq(load(1, argv), ZL_OK, "%s", err.text);
    cr_expect_str_eq(cfg.log_level, "info");
    cr_expect_eq(cfg.qps, 50);
    cr_expect_not(cfg.leader_elect);
    cr_expect_eq(cfg.lease_duration, 15 * SEC);
    cr_expect_eq(cfg.namespaces.count, 0);
}

Test(config, file_overrides_defaults)
{
    char *argv[] = {A("prog"), A("--config"), A(DATA("full.yaml"))};
    cr_assert_eq(load(3, argv), ZL_OK, "%s", err.text);
    cr_expect_str_eq(cfg.log_level, "debug");
    cr_expect_str_eq(cfg.log_format, "text");
    cr_expect_eq(cfg.qps, 75);
    cr_expect(cfg.leader_elect);
    cr_expect_eq(cfg.lease_duration, 20 * SEC);
    cr_assert_eq(cfg.namespaces.count, 2);
    cr_expect_str_eq(cfg.namespaces.items[0], "prod");
    cr_expect_str_eq(cfg.namespaces.items[1], "staging");
}

Test(config, flags_override_file_wherever_they_stand)
{
    char *argv[] = {A("prog"),
                    A("--qps=99"),
                    A("--namespace"),
                    A("only"),
                    A("--config=" DATA("full.yaml")),
                    A("--leader-elect=false"),
                    A("--lease-duration"),
                    A("1m30s")};
    cr_assert_eq(load(8, argv), ZL_OK, "%s", err.text);
    cr_expect_eq(cfg.qps, 99);
    cr_expect_not(cfg.leader_elect);
    cr_expect_eq(cfg.lease_duration, 90 * SEC);
    cr_expect_str_eq(cfg.log_level, "debug");
    cr_assert_eq(cfg.namespaces.count, 1);
    cr_expect_str_eq(cfg.namespaces.items[0], "only");
}

Test(config, repeated_list_flag_appends_and_bare_bool_is_true)
{
    char *argv[] = {A("prog"), A("--namespace"), A("a"), A("--namespace=b"),
                    A("--leader-elect")};
    cr_assert_eq(load(5, argv), ZL_OK, "%s", err.text);
    cr_assert_eq(cfg.namespaces.count, 2);
    cr_expect_str_eq(cfg.namespaces.items[1], "b");
    cr_expect(cfg.leader_elect);
}

Test(config, empty_file_keeps_defaults)
{
    char *argv[] = {A("prog"), A("--config"), A(DATA("empty.yaml"))};
    cr_assert_eq(load(3, argv), ZL_OK, "%s", err.text);
    cr_expect_eq(cfg.qps, 50);
}

struct bad_case {
    const char *args[4];
    enum zl_err rc;
    const char *message; /* the exact line */
};

static const struct bad_case bad_cases[] = {
    {{"--config", DATA("unknown-key.yaml")}, ZL_ERR_INVALID, NULL},
    {{"--config", DATA("bad-value.yaml")}, ZL_ERR_INVALID, NULL},
    {{"--config", DATA("out-of-range.yaml")}, ZL_ERR_INVALID, NULL},
    {{"--config", DATA("malformed.yaml")}, ZL_ERR_PARSE, NULL},
    {{"--config", DATA("mapping-for-scalar.yaml")}, ZL_ERR_INVALID, NULL},
    {{"--config", DATA("sequence-for-scalar.yaml")}, ZL_ERR_INVALID, NULL},
    {{"--config", DATA("flag-only.yaml")}, ZL_ERR_INVALID, NULL},
    {{"--config", DATA("missing.yaml")}, ZL_ERR_IO, NULL},
    {{"--config"}, ZL_ERR_INVALID, "--config: needs a file name"},
    {{"--qps", "ten"}, ZL_ERR_INVALID, "--qps: \"ten\" is not a whole number"},
    {{"--qps=0"}, ZL_ERR_INVALID, "--qps: \"0\" is out of range (1 to 10000)"},
    {{"--qps= 5"}, ZL_ERR_INVALID, "--qps: \" 5\" is not a whole number"},
    {{"--qps=99999999999999999999"},
     ZL_ERR_INVALID,
     "--qps: \"99999999999999999999\" is not a whole number"},
    {{"--qps"}, ZL_ERR_INVALID, "--qps: needs a value"},
    {{"--lease-duration=0.5s"},
     ZL_ERR_INVALID,
     "--lease-duration: \"0.5s\" is out of range (1s to 1h0m0s)"},
    {{"--lease-duration=15"},
     ZL_ERR_INVALID,
     "--lease-duration: \"15\" is not a duration (examples: 500ms, 15s, "
     "1m30s)"},
    {{"--leader-elect=yes"},
     ZL_ERR_INVALID,
     "--leader-elect: \"yes\" is not true or false"},
    {{"--log-level=loud"},
     ZL_ERR_INVALID,
     "--log-level: \"loud\" is not one of: debug, info, warn, error"},
    /* A value with control characters (a quoted YAML value over lines)
     * is echoed on one line. */
    {{"--log-level=lo\nud\t!"},
     ZL_ERR_INVALID,
     "--log-level: \"lo ud !\" is not one of: debug, info, warn, error"},
    {{"--verbose"}, ZL_ERR_INVALID, "--verbose: unknown flag (see --help)"},
    {{"positional"},
     ZL_ERR_INVALID,
     "unexpected argument \"positional\" (flags start with --)"},
    {{"-q"},
     ZL_ERR_INVALID,
     "unexpected argument \"-q\" (flags start with --)"},
};

Test(config, rejects_bad_input_with_one_clear_line)
{
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(*bad_cases); i++) {
        const struct bad_case *c = &bad_cases[i];
        char *argv[5] = {A("prog")};
        int argc = 1;
        while (argc < 5 && c->args[argc - 1] != NULL) {
            argv[argc] = (char *)(uintptr_t)c->args[argc - 1];
            argc++;
        }
        cr_expect_eq(load(argc, argv), c->rc, "case %zu (%s): got \"%s\"", i,
                     argv[1], err.text);
        cr_expect_neq(err.text[0], '\0', "case %zu has no message", i);
        cr_expect_null(strchr(err.text, '\n'), "case %zu: two lines", i);
        if (c->message != NULL)
            cr_expect_str_eq(err.text, c->message, "case %zu", i);
        teardown();
    }
}

Test(config, file_errors_name_the_file_and_key)
{
    char *argv[] = {A("prog"), A("--config"), A(DATA("unknown-key.yaml"))};
    cr_assert_eq(load(3, argv), ZL_ERR_INVALID);
    cr_expect_not_null(strstr(err.text, "unknown-key.yaml"), "%s", err.text);
    cr_expect_not_null(strstr(err.text, "leader-elction"), "%s", err.text);
    teardown();
    char *argv2[] = {A("prog"), A("--config"), A(DATA("bad-value.yaml"))};
    cr_assert_eq(load(3, argv2), ZL_ERR_INVALID);
    cr_expect_str_eq(err.text,
                     DATA("bad-value.yaml") ": lease-duration: \"15 seconds\" "
                                            "is not a duration (examples: "
                                            "500ms, 15s, 1m30s)");
}

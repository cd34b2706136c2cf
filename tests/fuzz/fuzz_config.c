/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: arbitrary bytes as a daemon's YAML config file, loaded
 * through the same key table shape the daemons use (every value type). A
 * load must either succeed with values inside their bounds or fail with a
 * one-line message; it must never crash or leak. */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_cfg {
    char *config;
    char *level;
    int64_t qps;
    bool elect;
    int64_t lease;
    struct config_list namespaces;
};

static const char *const levels[] = {"debug", "info", "warn", "error", NULL};
static const struct config_key keys[] = {
    {.name = "config",
     .type = CONFIG_STRING,
     .offset = offsetof(struct fuzz_cfg, config),
     .flag_only = true},
    {.name = "log-level",
     .type = CONFIG_STRING,
     .offset = offsetof(struct fuzz_cfg, level),
     .def = "info",
     .choices = levels},
    {.name = "qps",
     .type = CONFIG_INT,
     .offset = offsetof(struct fuzz_cfg, qps),
     .def = "50",
     .min = 1,
     .max = 10000},
    {.name = "leader-elect",
     .type = CONFIG_BOOL,
     .offset = offsetof(struct fuzz_cfg, elect)},
    {.name = "lease-duration",
     .type = CONFIG_DURATION,
     .offset = offsetof(struct fuzz_cfg, lease),
     .def = "15s",
     .min = 1000000000,
     .max = INT64_C(3600) * 1000000000},
    {.name = "namespace",
     .type = CONFIG_LIST,
     .offset = offsetof(struct fuzz_cfg, namespaces)},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[64];
    if (path[0] == '\0')
        snprintf(path, sizeof(path), "/tmp/zl-fuzz-config-%d.yaml",
                 (int)getpid());
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);

    const struct config_schema schema = {keys, sizeof(keys) / sizeof(*keys)};
    char a0[] = "fuzz", a1[] = "--config";
    char *argv[] = {a0, a1, path};
    struct fuzz_cfg cfg;
    struct config_error err;
    memset(&cfg, 0, sizeof(cfg));
    enum zl_err rc = config_load(&schema, &cfg, 3, argv, &err);
    if (rc == ZL_OK) {
        assert(cfg.qps >= 1 && cfg.qps <= 10000);
        assert(cfg.lease >= 1000000000);
        assert(cfg.level != NULL);
        assert(cfg.namespaces.count <= CONFIG_MAX_LIST);
    } else {
        assert(err.text[0] != '\0');
        assert(strchr(err.text, '\n') == NULL);
    }
    config_cleanup(&schema, &cfg);
    return 0;
}

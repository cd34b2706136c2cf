/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: arbitrary bytes as the webhook's YAML config file,
 * loaded by whopts_load with the flags main would get. fuzz_config covers
 * base/config's parsing with a table of every value type; this one adds
 * the webhook's own table and its checks across keys. A load must either
 * succeed with values inside the documented bounds and derived policies
 * that match their text, or fail with one line; never crash or leak. */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "webhook/options.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_ok(const struct whopts *o, enum flags_action action)
{
    if (action == FLAGS_HELP || action == FLAGS_VERSION)
        return;
    assert(o->port >= 1 && o->port <= 65535);
    assert(o->tls_cert_file != NULL && o->tls_cert_file[0] != '\0');
    assert(o->tls_key_file != NULL && o->tls_key_file[0] != '\0');
    assert(o->controller_username != NULL && o->audit_log != NULL);
    assert(o->lookup_timeout >= 100 * INT64_C(1000000));
    assert(o->lookup_timeout <=
           WHOPTS_LOOKUP_TIMEOUT_MAX_MS * INT64_C(1000000));
    assert(o->max_body_bytes >= 65536);
    assert((o->tls_min == WHOPTS_TLS_1_3) ==
           (strcmp(o->tls_min_version, "1.3") == 0));
    assert((o->named_port == WHOPTS_NAMED_PORT_WARN) ==
           (strcmp(o->named_port_policy, "warn") == 0));
    assert((o->lookup_failure == WHOPTS_LOOKUP_DENY) ==
           (strcmp(o->lookup_failure_policy, "deny") == 0));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[64];
    if (path[0] == '\0')
        snprintf(path, sizeof(path), "/tmp/zl-fuzz-whopts-%d.yaml",
                 (int)getpid());
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);

    char a0[] = "zen-lead-webhook", a1[] = "--config", a3[] = "--qps=7";
    char *argv[] = {a0, a1, path, a3};
    struct whopts o;
    struct config_error err;
    enum flags_action action;
    if (whopts_load(4, argv, &o, &action, &err) == ZL_OK) {
        check_ok(&o, action);
        assert(o.qps == 7); /* the flag wins over the file */
    } else {
        assert(err.text[0] != '\0');
        assert(strchr(err.text, '\n') == NULL);
    }
    whopts_cleanup(&o);
    return 0;
}

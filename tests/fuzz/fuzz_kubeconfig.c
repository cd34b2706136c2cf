/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: arbitrary bytes as a kubeconfig, loaded from memory
 * with relative paths resolved against the fixture folder. A load must
 * either give a usable config or fail with one line naming the key; it must
 * never crash or leak. */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kube/kubeconfig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct kube_config cfg;
    struct kubeconfig_error err;
    enum zl_err rc = kubeconfig_load_mem((const char *)data, size,
                                         "/nonexistent", NULL, &cfg, &err);
    if (rc == ZL_OK) {
        assert(cfg.server != NULL);
        assert(strncmp(cfg.server, "http", 4) == 0);
        assert((cfg.client_cert_pem == NULL) == (cfg.client_key_pem == NULL));
        char *tok = NULL;
        if (kubeconfig_current_token(&cfg, &tok) == ZL_OK && tok != NULL)
            free(tok);
        kubeconfig_cleanup(&cfg);
    } else {
        assert(err.text[0] != '\0');
        assert(strchr(err.text, '\n') == NULL);
    }
    return 0;
}

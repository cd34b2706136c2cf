/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: arbitrary bytes as an exec credential plugin's output.
 * A parse must either give a token or a certificate with its key, or fail
 * with a one-line reason; it must never crash or leak. */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kube/execcred.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct execcred_result r;
    char why[256] = "";
    const char *version =
        size > 0 && data[0] % 2 == 0 ? EXECCRED_V1 : EXECCRED_V1BETA1;
    enum zl_err rc =
        execcred_parse((const char *)data, size, version, &r, why, sizeof(why));
    if (rc == ZL_OK) {
        assert(r.token != NULL || r.cert_pem != NULL);
        assert((r.cert_pem == NULL) == (r.key_pem == NULL));
        execcred_result_cleanup(&r);
    } else {
        assert(why[0] != '\0');
        assert(r.token == NULL && r.cert_pem == NULL && r.key_pem == NULL);
    }
    return 0;
}

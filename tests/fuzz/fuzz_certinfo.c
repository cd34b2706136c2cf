/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: arbitrary bytes as the file zen-lead-certs inspect
 * reads (a PEM bundle or one DER certificate). A parse must give 1 to
 * CERTINFO_MAX_CERTS certificates, each described without a crash, or fail
 * with a parse or limit error and an empty list; never leak. */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "certs/cabundle.h"
#include "certs/certinfo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void describe_all(const struct certinfo_list *list)
{
    for (size_t i = 0; i < list->count; i++) {
        struct certinfo info;
        if (certinfo_describe(list->certs[i], &info) == ZL_OK)
            (void)certinfo_days_left(&info, 1700000000);
        assert(memchr(info.subject, '\0', sizeof(info.subject)) != NULL);
        assert(memchr(info.sans, '\0', sizeof(info.sans)) != NULL);
        /* The bundle check and the self-verify must cope with anything. */
        struct certinfo_list bundle = {.count = 0};
        bool added = false;
        char why[128];
        (void)cabundle_add(&bundle, list->certs[i], &added);
        certinfo_list_cleanup(&bundle);
        (void)certinfo_verify(list->certs[i], list->certs[0], false, 0, why,
                              sizeof(why));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct certinfo_list list = {.count = 0};
    enum zl_err rc = certinfo_parse(data, size, &list);
    if (rc == ZL_OK) {
        assert(list.count >= 1 && list.count <= CERTINFO_MAX_CERTS);
        describe_all(&list);
    } else {
        assert(rc == ZL_ERR_PARSE || rc == ZL_ERR_LIMIT);
    }
    certinfo_list_cleanup(&list);
    return 0;
}

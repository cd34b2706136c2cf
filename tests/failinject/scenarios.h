/* SPDX-License-Identifier: Apache-2.0 */
/* The work the failure-injection driver repeats: each scenario exercises one
 * module of common/ end to end and frees everything it made. */
#ifndef ZL_TESTS_FAILINJECT_SCENARIOS_H
#define ZL_TESTS_FAILINJECT_SCENARIOS_H

#include <stddef.h>
#include <stdint.h>

struct scenario {
    const char *name;
    /* Reads fixtures (not under injection). 0 on success. */
    int (*setup)(void **ctx);
    /* The work under injection: 0 on success, else the error code. On
     * success *digest fingerprints the output, so a failure that was
     * swallowed into a different result is caught. */
    int (*run)(void *ctx, uint64_t *digest);
    void (*teardown)(void *ctx);
};

const struct scenario *scenarios_all(size_t *count);

#endif

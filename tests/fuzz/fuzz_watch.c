/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: arbitrary bytes as a watch stream, cut into chunks at
 * points taken from the input's first bytes. The events decoded from the
 * chunks must equal those from the whole stream in one piece (differential
 * oracle), and each event object is classified and its RV read. */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <json-c/json.h>

#include "kube/watch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_EVENTS 256

struct trace {
    size_t count;
    uint64_t sum; /* types and object sizes, order-sensitive */
};

static enum zl_err on_event(void *ctx, enum watch_type type,
                            struct json_object *object)
{
    struct trace *t = ctx;
    (void)watch_classify(object);
    const char *rv = watch_object_rv(object);
    size_t rv_len = rv != NULL ? strlen(rv) : 0;
    t->sum = t->sum * 31 + (uint64_t)type * 7 + rv_len +
             (uint64_t)json_object_object_length(object);
    return ++t->count >= FUZZ_MAX_EVENTS ? ZL_ERR_CANCELLED : ZL_OK;
}

static enum zl_err run(const char *s, size_t len, const uint8_t *cuts,
                       size_t ncuts, size_t max_event, struct trace *t)
{
    struct watch_decoder d;
    watch_init(&d, max_event, on_event, t);
    enum zl_err err = ZL_OK;
    size_t at = 0;
    for (size_t i = 0; i < ncuts && err == ZL_OK; i++) {
        size_t n = cuts[i] % 64;
        if (n > len - at)
            n = len - at;
        err = watch_feed(&d, s + at, n);
        at += n;
    }
    if (err == ZL_OK)
        err = watch_feed(&d, s + at, len - at);
    if (err == ZL_OK)
        err = watch_finish(&d);
    watch_cleanup(&d);
    return err;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t ncuts = data[0] % 16;
    size_t max_event = (data[1] & 1) ? (size_t)data[1] * 8 : 0;
    if (size < 2 + ncuts)
        return 0;
    const uint8_t *cuts = data + 2;
    const char *s = (const char *)(data + 2 + ncuts);
    size_t len = size - 2 - ncuts;

    struct trace whole = {0};
    struct trace split = {0};
    enum zl_err e1 = run(s, len, NULL, 0, max_event, &whole);
    enum zl_err e2 = run(s, len, cuts, ncuts, max_event, &split);
    /* Event boundaries do not depend on chunking: the same events, and the
     * same verdict, come out. */
    assert(e1 == e2);
    assert(whole.count == split.count);
    assert(whole.sum == split.sum);
    return 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: arbitrary bytes as a server's answer to zl-probe, fed
 * to probe_response_parse whole and as every split point a socket could
 * deliver (first byte of the input picks HEAD, eof and the split). A parse
 * must stay inside the input, never report a body past it, agree with
 * itself on a longer input once complete, and never crash. */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "probecore.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const char *in, size_t len, bool head, bool eof,
                  struct probe_response *r)
{
    enum zl_err rc = probe_response_parse(in, len, head, eof, r);
    assert(rc == ZL_OK || rc == ZL_ERR_PARSE || rc == ZL_ERR_LIMIT ||
           rc == ZL_ERR_INVALID);
    if (rc != ZL_OK)
        return;
    assert(!eof || r->complete);
    if (!r->complete)
        return;
    assert(r->status >= 200 && r->status <= 999);
    assert(r->head_len <= len && r->head_len == r->body_off);
    assert(r->body_len <= len - r->body_off);
    assert(r->body_len <= PROBE_MAX_BODY);
    char pod[PROBE_POD_MAX];
    size_t n = probe_pod_name(in + r->body_off, r->body_len, pod);
    assert(n < PROBE_POD_MAX && strlen(pod) == n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    bool head = (data[0] & 1) != 0, eof = (data[0] & 2) != 0;
    size_t len = size - 1;
    /* A copy of exactly len bytes, so ASan sees any read past the end. */
    char *in = malloc(len != 0 ? len : 1);
    if (in == NULL)
        return 0;
    memcpy(in, data + 1, len);
    struct probe_response whole, part;
    check(in, len, head, eof, &whole);
    size_t split = len != 0 ? (size_t)data[0] % (len + 1) : 0;
    check(in, split, head, false, &part);
    /* A response complete in a prefix is the same response in the whole. */
    if (part.complete &&
        probe_response_parse(in, len, head, false, &whole) == ZL_OK) {
        assert(whole.complete && whole.status == part.status);
        assert(whole.body_off == part.body_off);
        assert(whole.content_length < 0 || whole.body_len == part.body_len);
    }
    free(in);
    return 0;
}

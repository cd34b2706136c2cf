/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: arbitrary bytes as an AdmissionReview body. A decoded
 * request is walked whole, then answered with warnings and a message taken
 * from its own (attacker-chosen) strings; the answer must be JSON the API
 * server accepts: same uid, warnings clean and bounded. */
#include <assert.h>
#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/json.h"
#include "webhook/review.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t sink;

static void touch(const char *s)
{
    assert(s != NULL);
    sink += strlen(s);
}

static void walk(const struct review_request *r)
{
    touch(r->uid);
    touch(r->kind.group);
    touch(r->kind.version);
    touch(r->kind.kind);
    touch(r->resource.group);
    touch(r->resource.version);
    touch(r->resource.resource);
    touch(r->sub_resource);
    touch(r->namespace_name);
    touch(r->name);
    touch(r->username);
    touch(review_operation_name(r->operation));
    assert(r->group_count <= REVIEW_MAX_GROUPS);
    for (size_t i = 0; i < r->group_count; i++)
        touch(r->groups[i]);
    assert(strlen(r->uid) > 0 && strlen(r->uid) <= REVIEW_MAX_UID);
}

/* A warning as it left: no control byte, at most REVIEW_WARNING_MAX. */
static size_t check_warning(const char *w)
{
    size_t n = strlen(w);
    assert(n > 0 && n <= REVIEW_WARNING_MAX);
    for (size_t i = 0; i < n; i++)
        assert((unsigned char)w[i] >= 0x20 && (unsigned char)w[i] != 0x7f);
    return n;
}

static void check_answer(const char *text, size_t len, const char *uid,
                         bool allowed)
{
    struct json_object *root = NULL, *resp, *v;
    assert(json_parse_object(text, len, &root) == ZL_OK);
    assert(json_object_object_get_ex(root, "response", &resp));
    assert(json_object_object_get_ex(resp, "uid", &v));
    assert(strcmp(json_object_get_string(v), uid) == 0);
    assert(json_object_object_get_ex(resp, "allowed", &v));
    assert(json_object_get_boolean(v) == allowed);
    assert(json_object_object_get_ex(resp, "patchType", &v) == !allowed);
    if (json_object_object_get_ex(resp, "warnings", &v)) {
        size_t total = 0;
        for (size_t i = 0; i < json_object_array_length(v); i++)
            total += check_warning(json_object_get_string(
                         json_object_array_get_idx(v, i))) +
                     REVIEW_WARNING_OVERHEAD;
        assert(total <= REVIEW_WARNINGS_TOTAL);
    }
    json_object_put(root);
}

static void answer(const struct review_request *r, bool allowed)
{
    const char *warnings[REVIEW_MAX_GROUPS + 3];
    size_t n = 0;
    warnings[n++] = r->name;
    warnings[n++] = r->username;
    warnings[n++] = r->namespace_name;
    for (size_t i = 0; i < r->group_count; i++)
        warnings[n++] = r->groups[i];
    struct review_audit_annotation audit[2] = {{"request-uid", r->uid},
                                               {"rule", r->sub_resource}};
    struct review_response resp = {
        .uid = r->uid,
        .allowed = allowed,
        .code = 403,
        .message = r->name,
        .warnings = warnings,
        .warning_count = n,
        /* a patch only with a denial here, to tell them apart above */
        .patch = r->username,
        .patch_len = allowed ? 0 : strlen(r->username) + 1,
        .audit = audit,
        .audit_count = 2,
    };
    struct buf out;
    buf_init(&out, (size_t)16 << 20);
    enum zl_err err = review_encode(&resp, &out);
    assert(err == ZL_OK || err == ZL_ERR_NOMEM);
    if (err == ZL_OK)
        check_answer(out.data, out.len, r->uid, allowed);
    buf_cleanup(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct review_request r;
    char why[REVIEW_WHY_MAX];
    enum zl_err err = review_decode((const char *)data, size, &r, why);
    if (err != ZL_OK) {
        assert(r.mem == NULL && why[0] != '\0');
        assert(err == ZL_ERR_PARSE || err == ZL_ERR_INVALID ||
               err == ZL_ERR_LIMIT || err == ZL_ERR_NOMEM);
        return 0;
    }
    walk(&r);
    answer(&r, true);
    answer(&r, false);
    review_cleanup(&r);
    return 0;
}

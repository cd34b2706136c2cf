/* SPDX-License-Identifier: Apache-2.0 */
/* JSONPatch (RFC 6902) documents for annotation changes, with RFC 6901
 * escaping of the keys in paths. It builds text only; which changes to make
 * is the rules' call (admit.h). An empty patch is no text at all, so a
 * canonical object is answered without patchType. */
#ifndef ZL_WEBHOOK_PATCH_H
#define ZL_WEBHOOK_PATCH_H

#include <stddef.h>

#include "base/buf.h"
#include "base/err.h"

/* The longest patch text built (annotations are bounded by 256 KiB in the
 * API; a patch rewrites at most all of them, escaped). */
#define PATCH_MAX_TEXT ((size_t)1 << 20)
#define PATCH_ANNOTATIONS_PATH "/metadata/annotations"

enum patch_op {
    PATCH_OP_ADD = 0,
    PATCH_OP_REPLACE,
    PATCH_OP_REMOVE,
};

/* A patch being built: a JSON array of operations in text. */
struct patch {
    struct buf text; /* "" until the first operation */
    size_t op_count;
};

/* Starts an empty patch (allocates nothing); patch_cleanup frees it. */
void patch_init(struct patch *p);
void patch_cleanup(struct patch *p);

/* Appends token escaped as one RFC 6901 reference token: '~' becomes
 * "~0" and '/' becomes "~1", nothing else changes. Errors of buf_append. */
enum zl_err patch_escape_token(struct buf *out, const char *token);

/* Appends {"op": op, "path": "/metadata/annotations/<key escaped>"} with
 * "value": value for add and replace (value is ignored for remove and
 * must not be NULL otherwise). ZL_ERR_INVALID for an empty key or a
 * missing value; ZL_ERR_LIMIT past PATCH_MAX_TEXT (the patch is then
 * unchanged); ZL_ERR_NOMEM. */
enum zl_err patch_annotation(struct patch *p, enum patch_op op, const char *key,
                             const char *value);

/* Appends {"op":"add","path":"/metadata/annotations","value":{}}, needed
 * before adding a key to an object that has no annotations. Errors as
 * patch_annotation. */
enum zl_err patch_annotations_object(struct patch *p);

/* The patch text and its length: "" and 0 when there is no operation.
 * Borrowed from p. */
const char *patch_text(const struct patch *p, size_t *len);

#endif

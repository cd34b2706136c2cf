/* SPDX-License-Identifier: Apache-2.0 */
/* The JSON patch that writes a caBundle into every webhook of a
 * Validating- or MutatingWebhookConfiguration, built from the object as
 * read: it carries the object's resourceVersion, so the API server refuses
 * it (409 Conflict) when the object changed since. Pure: JSON in, JSON
 * out. */
#ifndef ZL_CERTS_WHPATCH_H
#define ZL_CERTS_WHPATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"
#include "base/err.h"

#define WHPATCH_MAX_WEBHOOKS 256

/* What the object says before the patch. */
struct whpatch_plan {
    size_t webhooks;   /* how many webhooks it has */
    size_t up_to_date; /* how many already carry this caBundle */
    char rv[64];       /* its metadata.resourceVersion */
};

/* Builds into patch (reset first) the JSON patch for object (a webhook
 * configuration as JSON, object_len bytes): a replace of
 * /metadata/resourceVersion with its own value (the precondition) and an
 * add of /webhooks/<i>/clientConfig/caBundle = ca_b64 for each webhook.
 * ZL_ERR_PARSE for JSON that is not an object with metadata.resourceVersion
 * and a webhooks array of objects, ZL_ERR_INVALID for no webhooks,
 * ZL_ERR_LIMIT past WHPATCH_MAX_WEBHOOKS. */
enum zl_err whpatch_build(const char *object, size_t object_len,
                          const char *ca_b64, struct buf *patch,
                          struct whpatch_plan *plan);

#endif

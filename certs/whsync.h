/* SPDX-License-Identifier: Apache-2.0 */
/* Writes a caBundle into the webhooks of a named Validating- or
 * MutatingWebhookConfiguration through the API (kube/client): read, JSON
 * patch with the resourceVersion read as precondition, and again on a
 * conflict. For clusters without cert-manager's cainjector. */
#ifndef ZL_CERTS_WHSYNC_H
#define ZL_CERTS_WHSYNC_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "kube/client.h"

#define WHSYNC_ATTEMPTS 5 /* reads and patches before giving up */

extern const struct client_resource WHSYNC_VALIDATING;
extern const struct client_resource WHSYNC_MUTATING;

struct whsync_result {
    size_t webhooks; /* in the configuration */
    bool changed;    /* false when every webhook had the bundle already */
    int attempts;    /* patches sent */
};

/* Patches object (the configuration as read, JSON) once. ZL_ERR_CONFLICT
 * when it changed on the server since; the client's errors otherwise
 * (ZL_ERR_NOTFOUND, ZL_ERR_FORBIDDEN, ...), and whpatch_build's. */
enum zl_err whsync_patch_object(struct client *c,
                                const struct client_resource *r,
                                const char *name, const char *object,
                                size_t object_len, const char *ca_b64,
                                struct whsync_result *out);

/* Reads the configuration name and patches it, up to attempts times while
 * the patch meets a conflict. Errors as whsync_patch_object. */
enum zl_err whsync_patch(struct client *c, const struct client_resource *r,
                         const char *name, const char *ca_b64, int attempts,
                         struct whsync_result *out);

#endif

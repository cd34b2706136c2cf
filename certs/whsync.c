/* SPDX-License-Identifier: Apache-2.0 */
/* Read, patch, retry on conflict: the caBundle of webhook configurations
 * through the API server. */
#include "certs/whsync.h"

#include <string.h>

#include "base/buf.h"
#include "base/log.h"
#include "certs/whpatch.h"

#define PATCH_MAX (4u << 20)

const struct client_resource WHSYNC_VALIDATING = {
    .prefix = "/apis/admissionregistration.k8s.io/v1",
    .plural = "validatingwebhookconfigurations",
    .kind = "ValidatingWebhookConfiguration",
    .api_version = "admissionregistration.k8s.io/v1",
    .namespaced = false,
};

const struct client_resource WHSYNC_MUTATING = {
    .prefix = "/apis/admissionregistration.k8s.io/v1",
    .plural = "mutatingwebhookconfigurations",
    .kind = "MutatingWebhookConfiguration",
    .api_version = "admissionregistration.k8s.io/v1",
    .namespaced = false,
};

enum zl_err whsync_patch_object(struct client *c,
                                const struct client_resource *r,
                                const char *name, const char *object,
                                size_t object_len, const char *ca_b64,
                                struct whsync_result *out)
{
    struct buf patch;
    struct whpatch_plan plan;
    struct client_response resp;
    buf_init(&patch, PATCH_MAX);
    client_response_init(&resp);
    enum zl_err rc = whpatch_build(object, object_len, ca_b64, &patch, &plan);
    if (rc != ZL_OK)
        goto out;
    out->webhooks = plan.webhooks;
    out->changed = plan.up_to_date != plan.webhooks;
    if (!out->changed)
        goto out;
    out->attempts++;
    rc = client_patch(c, r, NULL, name, NULL, "application/json-patch+json",
                      patch.data, &resp);
    if (rc != ZL_OK)
        log_debug("%s: %s %s: %s", __func__, r->kind, name,
                  resp.status.message);
out:
    client_response_cleanup(&resp);
    buf_cleanup(&patch);
    return rc;
}

enum zl_err whsync_patch(struct client *c, const struct client_resource *r,
                         const char *name, const char *ca_b64, int attempts,
                         struct whsync_result *out)
{
    memset(out, 0, sizeof(*out));
    enum zl_err rc = ZL_ERR_CONFLICT;
    for (int i = 0; i < attempts && rc == ZL_ERR_CONFLICT; i++) {
        struct client_response resp;
        client_response_init(&resp);
        rc = client_get(c, r, NULL, name, &resp);
        if (rc == ZL_OK)
            rc = whsync_patch_object(c, r, name, resp.body.data, resp.body.len,
                                     ca_b64, out);
        client_response_cleanup(&resp);
    }
    return rc;
}

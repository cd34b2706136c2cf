/* SPDX-License-Identifier: Apache-2.0 */
/* caBundle JSON patches for webhook configurations, on json-c. */
#include "certs/whpatch.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "base/json.h"

static enum zl_err read_plan(struct json_object *obj, const char *ca_b64,
                             struct whpatch_plan *plan,
                             struct json_object **webhooks)
{
    struct json_object *meta = NULL;
    struct json_object *rv = NULL;
    if (!json_object_is_type(obj, json_type_object) ||
        !json_object_object_get_ex(obj, "metadata", &meta) ||
        !json_object_object_get_ex(meta, "resourceVersion", &rv) ||
        !json_object_is_type(rv, json_type_string) ||
        !json_object_object_get_ex(obj, "webhooks", webhooks) ||
        !json_object_is_type(*webhooks, json_type_array))
        return ZL_ERR_PARSE;
    if ((size_t)json_object_get_string_len(rv) >= sizeof(plan->rv))
        return ZL_ERR_LIMIT;
    snprintf(plan->rv, sizeof(plan->rv), "%s", json_object_get_string(rv));
    plan->webhooks = json_object_array_length(*webhooks);
    if (plan->webhooks == 0)
        return ZL_ERR_INVALID;
    if (plan->webhooks > WHPATCH_MAX_WEBHOOKS)
        return ZL_ERR_LIMIT;
    for (size_t i = 0; i < plan->webhooks; i++) {
        struct json_object *wh = json_object_array_get_idx(*webhooks, i);
        struct json_object *cc = NULL;
        struct json_object *cab = NULL;
        if (!json_object_is_type(wh, json_type_object))
            return ZL_ERR_PARSE;
        if (json_object_object_get_ex(wh, "clientConfig", &cc) &&
            json_object_object_get_ex(cc, "caBundle", &cab) &&
            json_object_is_type(cab, json_type_string) &&
            strcmp(json_object_get_string(cab), ca_b64) == 0)
            plan->up_to_date++;
    }
    return ZL_OK;
}

static enum zl_err write_patch(const struct whpatch_plan *plan,
                               const char *ca_b64, struct buf *patch)
{
    enum zl_err rc =
        buf_puts(patch, "[{\"op\":\"replace\",\"path\":"
                        "\"/metadata/resourceVersion\",\"value\":");
    if (rc == ZL_OK)
        rc = buf_put_json_string(patch, plan->rv);
    for (size_t i = 0; rc == ZL_OK && i < plan->webhooks; i++) {
        rc = buf_printf(patch,
                        "},{\"op\":\"add\",\"path\":\"/webhooks/%zu/"
                        "clientConfig/caBundle\",\"value\":",
                        i);
        if (rc == ZL_OK)
            rc = buf_put_json_string(patch, ca_b64);
    }
    if (rc == ZL_OK)
        rc = buf_puts(patch, "}]");
    return rc;
}

enum zl_err whpatch_build(const char *object, size_t object_len,
                          const char *ca_b64, struct buf *patch,
                          struct whpatch_plan *plan)
{
    memset(plan, 0, sizeof(*plan));
    buf_reset(patch);
    struct json_object *obj = NULL;
    struct json_object *webhooks = NULL;
    enum zl_err rc = json_parse_object(object, object_len, &obj);
    if (rc == ZL_OK)
        rc = read_plan(obj, ca_b64, plan, &webhooks);
    if (rc == ZL_OK)
        rc = write_patch(plan, ca_b64, patch);
    json_object_put(obj);
    return rc;
}

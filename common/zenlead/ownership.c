/* SPDX-License-Identifier: Apache-2.0 */
/* The ownership test of leader Services. */
#include "zenlead/ownership.h"

#include <string.h>

#include "zenlead/render.h"

static bool str_is(const char *s, const char *want)
{
    return s != NULL && want != NULL && strcmp(s, want) == 0;
}

bool ownership_leader_is_ours(const struct views_service *leader,
                              const char *source, const char *source_uid)
{
    const struct views_owner *o = &leader->owner;
    if (!leader->has_owner || !str_is(o->kind, "Service") ||
        !str_is(o->name, source))
        return false;
    if (source_uid != NULL && source_uid[0] != '\0' &&
        str_is(o->uid, source_uid))
        return true;
    return str_is(views_map_get(&leader->meta.labels, RENDER_LABEL_MANAGED_BY),
                  RENDER_MANAGER) &&
           source[0] != '\0' &&
           str_is(views_map_get(&leader->meta.labels, RENDER_LABEL_SOURCE),
                  source);
}

bool ownership_slice_is_ours(const struct views_endpointslice *eps,
                             const char *source, const char *leader_name,
                             const char *leader_uid)
{
    const struct views_owner *o = &eps->owner;
    if (!eps->has_owner || !str_is(o->kind, "Service"))
        return false;
    if (leader_name != NULL && leader_uid != NULL && leader_uid[0] != '\0' &&
        str_is(o->name, leader_name) && str_is(o->uid, leader_uid))
        return true;
    const char *src = views_map_get(&eps->meta.labels, RENDER_LABEL_SOURCE);
    return src != NULL && src[0] != '\0' && str_is(src, source) &&
           str_is(views_map_get(&eps->meta.labels, RENDER_LABEL_MANAGED_BY),
                  RENDER_MANAGER);
}

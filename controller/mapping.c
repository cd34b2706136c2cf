/* SPDX-License-Identifier: Apache-2.0 */
/* Informer events to source Service keys. */
#include "controller/mapping.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "zenlead/annotations.h"
#include "zenlead/render.h"
#include "zenlead/selector.h"

/* Copies value without surrounding white space into out (size n). */
static void trimmed(const char *value, char *out, size_t n)
{
    out[0] = '\0';
    if (value == NULL)
        return;
    while (isspace((unsigned char)*value))
        value++;
    size_t len = strlen(value);
    while (len > 0 && isspace((unsigned char)value[len - 1]))
        len--;
    if (len >= n)
        return;
    memcpy(out, value, len);
    out[len] = '\0';
}

bool mapping_service_enabled(const struct views_service *svc)
{
    char v[8];
    trimmed(views_map_get(&svc->annotations, ANNOTATIONS_ENABLED), v,
            sizeof(v));
    return strcasecmp(v, "true") == 0;
}

bool mapping_service_managed(const struct views_service *svc,
                             const char **source)
{
    const char *by = views_map_get(&svc->meta.labels, RENDER_LABEL_MANAGED_BY);
    const char *src = views_map_get(&svc->meta.labels, RENDER_LABEL_SOURCE);
    if (by == NULL || strcmp(by, RENDER_MANAGER) != 0 || src == NULL ||
        src[0] == '\0')
        return false;
    if (source != NULL)
        *source = src;
    return true;
}

const char *mapping_slice_source(const struct views_endpointslice *eps)
{
    const char *src = views_map_get(&eps->meta.labels, RENDER_LABEL_SOURCE);
    return src != NULL && src[0] != '\0' ? src : NULL;
}

void mapping_claimed_name(const struct views_service *svc,
                          char out[static MAPPING_MAX_KEY])
{
    const char *explicit_name =
        views_map_get(&svc->annotations, ANNOTATIONS_LEADER_NAME);
    if (explicit_name != NULL) {
        trimmed(explicit_name, out, MAPPING_MAX_KEY);
        return;
    }
    int n = snprintf(out, MAPPING_MAX_KEY, "%s-leader", svc->meta.name);
    if (n < 0 || n >= MAPPING_MAX_KEY)
        out[0] = '\0';
}

static bool str_eq(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    return strcmp(a, b) == 0;
}

static bool labels_equal(const struct views_map *a, const struct views_map *b)
{
    if (a->count != b->count)
        return false;
    for (size_t i = 0; i < a->count; i++) {
        if (strcmp(a->items[i].key, b->items[i].key) != 0 ||
            strcmp(a->items[i].value, b->items[i].value) != 0)
            return false;
    }
    return true;
}

static bool ports_equal(const struct views_pod *a, const struct views_pod *b)
{
    if (a->port_count != b->port_count)
        return false;
    for (size_t i = 0; i < a->port_count; i++) {
        const struct views_container_port *x = &a->ports[i];
        const struct views_container_port *y = &b->ports[i];
        if (x->port != y->port || x->protocol != y->protocol ||
            strcmp(x->name, y->name) != 0)
            return false;
    }
    return true;
}

bool mapping_pod_relevant(const struct views_pod *old_pod,
                          const struct views_pod *new_pod)
{
    if (old_pod == NULL || new_pod == NULL)
        return true;
    return old_pod->ready != new_pod->ready ||
           old_pod->ready_changed_ms != new_pod->ready_changed_ms ||
           old_pod->phase != new_pod->phase ||
           old_pod->meta.deleted_ms != new_pod->meta.deleted_ms ||
           !str_eq(old_pod->ip[0], new_pod->ip[0]) ||
           !str_eq(old_pod->ip[1], new_pod->ip[1]) ||
           !str_eq(old_pod->meta.uid, new_pod->meta.uid) ||
           !str_eq(old_pod->node_name, new_pod->node_name) ||
           !labels_equal(&old_pod->meta.labels, &new_pod->meta.labels) ||
           !ports_equal(old_pod, new_pod);
}

static bool emit_key(const char *ns, const char *name, mapping_emit_fn emit,
                     void *ctx)
{
    char key[MAPPING_MAX_KEY];
    if (mapping_key(ns, name, key) != ZL_OK)
        return false;
    emit(ctx, key);
    return true;
}

static bool pod_matches(const struct views_service *svc,
                        const struct views_pod *pod)
{
    return pod != NULL && selector_matches_pod(svc, pod);
}

size_t mapping_pod(const struct views_pod *old_pod,
                   const struct views_pod *new_pod,
                   const struct views_service *const *services,
                   size_t service_count, mapping_emit_fn emit, void *ctx)
{
    const struct views_pod *any = new_pod != NULL ? new_pod : old_pod;
    size_t n = 0;
    if (any == NULL)
        return 0;
    for (size_t i = 0; i < service_count; i++) {
        const struct views_service *svc = services[i];
        if (strcmp(svc->meta.namespace_name, any->meta.namespace_name) != 0 ||
            !mapping_service_enabled(svc))
            continue;
        if (!pod_matches(svc, old_pod) && !pod_matches(svc, new_pod))
            continue;
        if (emit_key(svc->meta.namespace_name, svc->meta.name, emit, ctx))
            n++;
    }
    return n;
}

size_t mapping_service(const struct views_service *svc,
                       const struct views_service *const *services,
                       size_t service_count, mapping_emit_fn emit, void *ctx)
{
    const char *source = NULL;
    size_t n = 0;
    bool managed = mapping_service_managed(svc, &source);
    if (emit_key(svc->meta.namespace_name, managed ? source : svc->meta.name,
                 emit, ctx))
        n++;
    /* A leader Service whose labels drifted still names its source as
     * controlling owner. */
    if (!managed && svc->has_owner && svc->owner.kind != NULL &&
        strcmp(svc->owner.kind, "Service") == 0 && svc->owner.name != NULL &&
        emit_key(svc->meta.namespace_name, svc->owner.name, emit, ctx))
        n++;
    char claimed[MAPPING_MAX_KEY];
    for (size_t i = 0; i < service_count; i++) {
        const struct views_service *other = services[i];
        if (strcmp(other->meta.namespace_name, svc->meta.namespace_name) != 0 ||
            strcmp(other->meta.name, svc->meta.name) == 0 ||
            (managed && strcmp(other->meta.name, source) == 0) ||
            !mapping_service_enabled(other))
            continue;
        mapping_claimed_name(other, claimed);
        if (strcmp(claimed, svc->meta.name) == 0 &&
            emit_key(other->meta.namespace_name, other->meta.name, emit, ctx))
            n++;
    }
    return n;
}

size_t mapping_slice(const struct views_endpointslice *eps,
                     mapping_emit_fn emit, void *ctx)
{
    const char *source = mapping_slice_source(eps);
    if (source == NULL)
        return 0;
    return emit_key(eps->meta.namespace_name, source, emit, ctx) ? 1 : 0;
}

size_t mapping_slice_pods(const struct views_endpointslice *eps,
                          mapping_emit_fn emit, void *ctx)
{
    size_t n = 0;
    for (size_t i = 0; i < eps->endpoint_count; i++) {
        const struct views_endpoint *ep = &eps->endpoints[i];
        if (!ep->ready || ep->target_ref.name == NULL ||
            ep->target_ref.kind == NULL ||
            strcmp(ep->target_ref.kind, "Pod") != 0)
            continue;
        if (emit_key(eps->meta.namespace_name, ep->target_ref.name, emit, ctx))
            n++;
    }
    return n;
}

enum zl_err mapping_key(const char *ns, const char *name,
                        char out[static MAPPING_MAX_KEY])
{
    int n = snprintf(out, MAPPING_MAX_KEY, "%s/%s", ns, name);
    if (n < 0 || n >= MAPPING_MAX_KEY || ns[0] == '\0' || name[0] == '\0') {
        out[0] = '\0';
        return ZL_ERR_LIMIT;
    }
    return ZL_OK;
}

enum zl_err mapping_split(const char *key, char ns[static MAPPING_MAX_KEY],
                          char name[static MAPPING_MAX_KEY])
{
    const char *slash = strchr(key, '/');
    if (slash == NULL || slash == key || slash[1] == '\0')
        return ZL_ERR_INVALID;
    size_t ns_len = (size_t)(slash - key);
    size_t name_len = strlen(slash + 1);
    if (ns_len >= MAPPING_MAX_KEY || name_len >= MAPPING_MAX_KEY)
        return ZL_ERR_LIMIT;
    memcpy(ns, key, ns_len);
    ns[ns_len] = '\0';
    memcpy(name, slash + 1, name_len + 1);
    return ZL_OK;
}

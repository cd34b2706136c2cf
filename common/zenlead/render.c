/* SPDX-License-Identifier: Apache-2.0 */
/* Builds the leader Service and EndpointSlice documents with json-c. Every
 * json-c allocation is checked, so an out-of-memory run frees what it built
 * and returns ZL_ERR_NOMEM. */
#include "zenlead/render.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "zenlead/ports.h"

static const char *const render_dropped_labels[] = {
    "app.kubernetes.io/instance",  "app.kubernetes.io/managed-by",
    "app.kubernetes.io/part-of",   "app.kubernetes.io/version",
    "argocd.argoproj.io/instance", "fluxcd.io/part-of",
};

static const char *const render_dropped_label_prefixes[] = {
    "kustomize.toolkit.fluxcd.io/",
};

static const char *const render_dropped_annotations[] = {
    "kubectl.kubernetes.io/last-applied-configuration",
};

static const char *const render_dropped_annotation_prefixes[] = {
    ANNOTATIONS_PREFIX,
    "argocd.argoproj.io/",
    "fluxcd.io/",
    "kustomize.toolkit.fluxcd.io/",
};

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

static bool in_list(const char *key, const char *const *exact,
                    size_t exact_count, const char *const *prefixes,
                    size_t prefix_count)
{
    for (size_t i = 0; i < exact_count; i++) {
        if (strcmp(key, exact[i]) == 0)
            return true;
    }
    for (size_t i = 0; i < prefix_count; i++) {
        if (strncmp(key, prefixes[i], strlen(prefixes[i])) == 0)
            return true;
    }
    return false;
}

bool render_label_copied(const char *key)
{
    return !in_list(key, render_dropped_labels, COUNT_OF(render_dropped_labels),
                    render_dropped_label_prefixes,
                    COUNT_OF(render_dropped_label_prefixes));
}

bool render_annotation_copied(const char *key)
{
    return !in_list(key, render_dropped_annotations,
                    COUNT_OF(render_dropped_annotations),
                    render_dropped_annotation_prefixes,
                    COUNT_OF(render_dropped_annotation_prefixes));
}

/* Adds val under key; takes val in every case (released on failure). */
static enum zl_err put(struct json_object *obj, const char *key,
                       struct json_object *val)
{
    if (val == NULL)
        return ZL_ERR_NOMEM;
    if (json_object_object_add(obj, key, val) != 0) {
        json_object_put(val);
        return ZL_ERR_NOMEM;
    }
    return ZL_OK;
}

/* Appends val; takes val in every case. */
static enum zl_err push(struct json_object *arr, struct json_object *val)
{
    if (val == NULL)
        return ZL_ERR_NOMEM;
    if (json_object_array_add(arr, val) != 0) {
        json_object_put(val);
        return ZL_ERR_NOMEM;
    }
    return ZL_OK;
}

static enum zl_err put_string(struct json_object *obj, const char *key,
                              const char *value)
{
    return put(obj, key, json_object_new_string(value));
}

static enum zl_err put_int(struct json_object *obj, const char *key,
                           int32_t value)
{
    return put(obj, key, json_object_new_int(value));
}

static enum zl_err put_bool(struct json_object *obj, const char *key,
                            bool value)
{
    return put(obj, key, json_object_new_boolean(value ? 1 : 0));
}

/* Adds an empty object under key and hands it back (borrowed). */
static enum zl_err put_new_object(struct json_object *obj, const char *key,
                                  struct json_object **child)
{
    *child = json_object_new_object();
    return put(obj, key, *child);
}

static enum zl_err put_new_array(struct json_object *obj, const char *key,
                                 struct json_object **child)
{
    *child = json_object_new_array();
    return put(obj, key, *child);
}

static const char *family_name(enum views_ip_family family)
{
    return family == VIEWS_IPV6 ? "IPv6" : "IPv4";
}

static bool str_empty(const char *s)
{
    return s == NULL || s[0] == '\0';
}

static bool input_valid(const struct render_input *in)
{
    return in != NULL && in->source != NULL &&
           !str_empty(in->source->meta.name) &&
           !str_empty(in->source->meta.namespace_name) &&
           !str_empty(in->source->meta.uid) && !str_empty(in->leader_name);
}

/* metadata.ownerReferences: [{v1 Service name uid, controller}]. No
 * blockOwnerDeletion: where OwnerReferencesPermissionEnforcement is on it
 * needs update on services/finalizers, which zen-lead is not granted. */
static enum zl_err put_owner(struct json_object *meta, const char *name,
                             const char *uid)
{
    struct json_object *refs, *ref;
    enum zl_err err;

    err = put_new_array(meta, "ownerReferences", &refs);
    if (err != ZL_OK)
        return err;
    ref = json_object_new_object();
    err = push(refs, ref);
    if (err == ZL_OK)
        err = put_string(ref, "apiVersion", "v1");
    if (err == ZL_OK)
        err = put_string(ref, "kind", "Service");
    if (err == ZL_OK)
        err = put_string(ref, "name", name);
    if (err == ZL_OK)
        err = put_string(ref, "uid", uid);
    if (err == ZL_OK)
        err = put_bool(ref, "controller", true);
    return err;
}

/* A new document {apiVersion, kind, metadata: {name, namespace}}; *meta is
 * borrowed from it. */
static enum zl_err new_document(const char *api_version, const char *kind,
                                const char *name, const char *namespace_name,
                                struct json_object **doc,
                                struct json_object **meta)
{
    enum zl_err err;

    *doc = json_object_new_object();
    if (*doc == NULL)
        return ZL_ERR_NOMEM;
    err = put_string(*doc, "apiVersion", api_version);
    if (err == ZL_OK)
        err = put_string(*doc, "kind", kind);
    if (err == ZL_OK)
        err = put_new_object(*doc, "metadata", meta);
    if (err == ZL_OK)
        err = put_string(*meta, "name", name);
    if (err == ZL_OK)
        err = put_string(*meta, "namespace", namespace_name);
    if (err != ZL_OK) {
        json_object_put(*doc);
        *doc = NULL;
    }
    return err;
}

static enum zl_err put_service_labels(struct json_object *meta,
                                      const struct views_service *source)
{
    struct json_object *labels;
    enum zl_err err;

    err = put_new_object(meta, "labels", &labels);
    for (size_t i = 0; i < source->meta.labels.count && err == ZL_OK; i++) {
        const struct views_kv *kv = &source->meta.labels.items[i];
        if (render_label_copied(kv->key))
            err = put_string(labels, kv->key, kv->value);
    }
    if (err == ZL_OK)
        err = put_string(labels, RENDER_LABEL_MANAGED_BY, RENDER_MANAGER);
    if (err == ZL_OK)
        err = put_string(labels, RENDER_LABEL_SOURCE, source->meta.name);
    return err;
}

static enum zl_err put_leader_annotations(struct json_object *annotations,
                                          const struct render_input *in)
{
    char when[CLOCK_RFC3339_MAX];
    enum zl_err err = ZL_OK;

    if (in->leader != NULL) {
        err = put_string(annotations, ANNOTATIONS_CURRENT_LEADER,
                         in->leader->meta.name);
        if (err == ZL_OK)
            err = put_string(annotations, ANNOTATIONS_LEADER_POD_NAME,
                             in->leader->meta.name);
        if (err == ZL_OK)
            err = put_string(annotations, ANNOTATIONS_LEADER_POD_UID,
                             in->leader->meta.uid);
    }
    if (err == ZL_OK && in->last_switch_ms != VIEWS_TIME_NONE) {
        clock_format_ms(in->last_switch_ms, CLOCK_PREC_S, when);
        err = put_string(annotations, ANNOTATIONS_LAST_SWITCH, when);
    }
    return err;
}

static enum zl_err put_service_annotations(struct json_object *meta,
                                           const struct render_input *in)
{
    const struct views_map *src = &in->source->annotations;
    struct json_object *annotations;
    enum zl_err err;

    err = put_new_object(meta, "annotations", &annotations);
    for (size_t i = 0; i < src->count && err == ZL_OK; i++) {
        const struct views_kv *kv = &src->items[i];
        if (render_annotation_copied(kv->key))
            err = put_string(annotations, kv->key, kv->value);
    }
    if (err == ZL_OK)
        err = put_leader_annotations(annotations, in);
    return err;
}

/* The target port resolved against the leader; false when it cannot be. */
static bool resolve_target(const struct views_service_port *sp,
                           const struct views_pod *leader, int32_t *target)
{
    if (sp->target_port_name == NULL) {
        *target = sp->target_port;
        return true;
    }
    return leader != NULL && ports_resolve_one(sp, leader, target) == ZL_OK;
}

static enum zl_err put_service_port(struct json_object *ports,
                                    const struct views_service_port *sp,
                                    const struct views_pod *leader)
{
    struct json_object *port = json_object_new_object();
    int32_t target;
    enum zl_err err;

    err = push(ports, port);
    if (err == ZL_OK && !str_empty(sp->name))
        err = put_string(port, "name", sp->name);
    if (err == ZL_OK)
        err = put_string(port, "protocol", views_protocol_name(sp->protocol));
    if (err == ZL_OK)
        err = put_int(port, "port", sp->port);
    if (err == ZL_OK && resolve_target(sp, leader, &target))
        err = put_int(port, "targetPort", target);
    else if (err == ZL_OK)
        err = put_string(port, "targetPort", sp->target_port_name);
    if (err == ZL_OK && sp->app_protocol != NULL)
        err = put_string(port, "appProtocol", sp->app_protocol);
    return err;
}

static enum zl_err put_ip_families(struct json_object *spec,
                                   const struct views_service *source)
{
    struct json_object *families;
    enum zl_err err = ZL_OK;

    if (source->ip_family_count > 0) {
        err = put_new_array(spec, "ipFamilies", &families);
        for (size_t i = 0; i < source->ip_family_count && err == ZL_OK; i++)
            err = push(families, json_object_new_string(
                                     family_name(source->ip_families[i])));
    }
    if (err == ZL_OK && source->ip_family_policy != NULL)
        err = put_string(spec, "ipFamilyPolicy", source->ip_family_policy);
    return err;
}

static enum zl_err put_service_spec(struct json_object *doc,
                                    const struct render_input *in)
{
    const struct views_service *source = in->source;
    struct json_object *spec, *ports;
    enum zl_err err;

    err = put_new_object(doc, "spec", &spec);
    if (err == ZL_OK)
        err = put_string(spec, "type", "ClusterIP");
    if (err == ZL_OK)
        err = put_new_array(spec, "ports", &ports);
    for (size_t i = 0; i < source->port_count && err == ZL_OK; i++)
        err = put_service_port(ports, &source->ports[i], in->leader);
    if (err == ZL_OK)
        err = put_ip_families(spec, source);
    return err;
}

enum zl_err render_leader_service(const struct render_input *in,
                                  struct json_object **out)
{
    struct json_object *doc = NULL, *meta;
    enum zl_err err;

    if (out == NULL || !input_valid(in))
        return ZL_ERR_INVALID;
    *out = NULL;
    err = new_document("v1", "Service", in->leader_name,
                       in->source->meta.namespace_name, &doc, &meta);
    if (err != ZL_OK)
        goto out;
    err = put_service_labels(meta, in->source);
    if (err == ZL_OK)
        err = put_service_annotations(meta, in);
    if (err == ZL_OK)
        err = put_owner(meta, in->source->meta.name, in->source->meta.uid);
    if (err == ZL_OK)
        err = put_service_spec(doc, in);
    if (err != ZL_OK)
        goto out;
    *out = doc;
    doc = NULL;
out:
    json_object_put(doc);
    return err;
}

size_t render_slice_families(const struct views_service *source,
                             enum views_ip_family families[static 2])
{
    size_t count = source->ip_family_count;

    if (count == 0) {
        families[0] = VIEWS_IPV4;
        return 1;
    }
    if (count > 2)
        count = 2;
    for (size_t i = 0; i < count; i++)
        families[i] = source->ip_families[i];
    return count;
}

void render_slice_name(const char *leader_name, enum views_ip_family family,
                       char out[static RENDER_MAX_SLICE_NAME])
{
    snprintf(out, RENDER_MAX_SLICE_NAME, "%.*s-%s", ANNOTATIONS_MAX_NAME,
             leader_name, family == VIEWS_IPV6 ? "ipv6" : "ipv4");
}

static enum zl_err put_slice_labels(struct json_object *meta,
                                    const struct render_input *in)
{
    struct json_object *labels;
    enum zl_err err;

    err = put_new_object(meta, "labels", &labels);
    if (err == ZL_OK)
        err = put_string(labels, RENDER_LABEL_SERVICE_NAME, in->leader_name);
    if (err == ZL_OK)
        err = put_string(labels, RENDER_LABEL_SLICE_MANAGED_BY, RENDER_MANAGER);
    if (err == ZL_OK)
        err = put_string(labels, RENDER_LABEL_MANAGED_BY, RENDER_MANAGER);
    if (err == ZL_OK)
        err = put_string(labels, RENDER_LABEL_SOURCE, in->source->meta.name);
    return err;
}

static enum zl_err put_conditions(struct json_object *endpoint,
                                  const struct render_input *in)
{
    struct json_object *cond;
    enum zl_err err;

    err = put_new_object(endpoint, "conditions", &cond);
    if (err == ZL_OK)
        err = put_bool(cond, "ready", in->endpoint_ready);
    if (err == ZL_OK)
        err = put_bool(cond, "serving", in->leader->ready);
    if (err == ZL_OK)
        err = put_bool(cond, "terminating",
                       in->leader->meta.deleted_ms != VIEWS_TIME_NONE);
    return err;
}

static enum zl_err put_target_ref(struct json_object *endpoint,
                                  const struct views_pod *pod,
                                  const char *namespace_name)
{
    struct json_object *ref;
    enum zl_err err;

    err = put_new_object(endpoint, "targetRef", &ref);
    if (err == ZL_OK)
        err = put_string(ref, "kind", "Pod");
    if (err == ZL_OK)
        err = put_string(ref, "namespace", namespace_name);
    if (err == ZL_OK)
        err = put_string(ref, "name", pod->meta.name);
    if (err == ZL_OK)
        err = put_string(ref, "uid", pod->meta.uid);
    return err;
}

/* endpoints: [] or exactly one endpoint, never more. */
static enum zl_err put_endpoints(struct json_object *doc,
                                 const struct render_input *in,
                                 enum views_ip_family family)
{
    struct json_object *endpoints, *endpoint, *addresses;
    const struct views_pod *pod = in->leader;
    enum zl_err err;

    err = put_new_array(doc, "endpoints", &endpoints);
    if (err != ZL_OK || pod == NULL || pod->ip[family] == NULL)
        return err;
    endpoint = json_object_new_object();
    err = push(endpoints, endpoint);
    if (err == ZL_OK)
        err = put_new_array(endpoint, "addresses", &addresses);
    if (err == ZL_OK)
        err = push(addresses, json_object_new_string(pod->ip[family]));
    if (err == ZL_OK)
        err = put_conditions(endpoint, in);
    if (err == ZL_OK)
        err = put_target_ref(endpoint, pod, in->source->meta.namespace_name);
    if (err == ZL_OK && !str_empty(pod->node_name))
        err = put_string(endpoint, "nodeName", pod->node_name);
    return err;
}

static enum zl_err put_slice_port(struct json_object *ports,
                                  const struct views_service_port *sp,
                                  const struct views_pod *leader)
{
    struct json_object *port = json_object_new_object();
    int32_t target;
    enum zl_err err;

    err = push(ports, port);
    if (err == ZL_OK)
        err = put_string(port, "name", sp->name != NULL ? sp->name : "");
    if (err == ZL_OK && resolve_target(sp, leader, &target))
        err = put_int(port, "port", target);
    if (err == ZL_OK)
        err = put_string(port, "protocol", views_protocol_name(sp->protocol));
    if (err == ZL_OK && sp->app_protocol != NULL)
        err = put_string(port, "appProtocol", sp->app_protocol);
    return err;
}

static enum zl_err put_slice_body(struct json_object *doc,
                                  const struct render_input *in,
                                  enum views_ip_family family)
{
    struct json_object *ports;
    enum zl_err err;

    err = put_string(doc, "addressType", family_name(family));
    if (err == ZL_OK)
        err = put_endpoints(doc, in, family);
    if (err == ZL_OK)
        err = put_new_array(doc, "ports", &ports);
    for (size_t i = 0; i < in->source->port_count && err == ZL_OK; i++)
        err = put_slice_port(ports, &in->source->ports[i], in->leader);
    return err;
}

enum zl_err render_endpoint_slice(const struct render_input *in,
                                  const char *leader_service_uid,
                                  enum views_ip_family family,
                                  struct json_object **out)
{
    char name[RENDER_MAX_SLICE_NAME];
    struct json_object *doc = NULL, *meta;
    enum zl_err err;

    if (out == NULL || !input_valid(in) || str_empty(leader_service_uid))
        return ZL_ERR_INVALID;
    *out = NULL;
    render_slice_name(in->leader_name, family, name);
    err = new_document("discovery.k8s.io/v1", "EndpointSlice", name,
                       in->source->meta.namespace_name, &doc, &meta);
    if (err != ZL_OK)
        goto out;
    err = put_slice_labels(meta, in);
    if (err == ZL_OK)
        err = put_owner(meta, in->leader_name, leader_service_uid);
    if (err == ZL_OK)
        err = put_slice_body(doc, in, family);
    if (err != ZL_OK)
        goto out;
    *out = doc;
    doc = NULL;
out:
    json_object_put(doc);
    return err;
}

enum zl_err render_to_string(struct json_object *obj, char **out)
{
    const char *text;

    if (obj == NULL || out == NULL)
        return ZL_ERR_INVALID;
    text = json_object_to_json_string_ext(
        obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    *out = text != NULL ? strdup(text) : NULL;
    return *out != NULL ? ZL_OK : ZL_ERR_NOMEM;
}

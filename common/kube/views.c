/* SPDX-License-Identifier: Apache-2.0 */
/* Pod, Service and EndpointSlice views parsed from the API server's JSON.
 * Each view lives in one allocation: a first pass over the JSON validates it
 * and measures the bytes needed, a second pass copies the kept fields into
 * one block. An atomic count of extra references lets readers share it. */
#include "kube/views.h"

#include <arpa/inet.h>
#include <assert.h>
#include <json-c/json.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/json.h"
#include "base/log.h"

/* The arena of one view. While measuring, base is NULL and only used grows;
 * while filling, base points to cap bytes and every copy lands there, or,
 * should a copy not fit, nowhere: overflow is set and the view dropped. */
struct arena {
    char *base;
    size_t used;
    size_t cap;
    bool overflow;
};

static size_t arena_shortfall;

void views_test_arena_shortfall(size_t bytes)
{
    arena_shortfall = bytes;
}

/* Reserves size bytes at offset off; NULL while measuring or when they do
 * not fit (overflow set, used unchanged). */
static char *arena_take(struct arena *a, size_t off, size_t size)
{
    if (a->base == NULL) {
        a->used = off + size;
        return NULL;
    }
    if (a->overflow || off > a->cap || size > a->cap - off) {
        a->overflow = true;
        return NULL;
    }
    a->used = off + size;
    return a->base + off;
}

static void *arena_alloc(struct arena *a, size_t size)
{
    size_t align = alignof(max_align_t);
    return arena_take(a, (a->used + align - 1) / align * align, size);
}

/* Copies len bytes and a terminator; returns "" while measuring or on
 * overflow. */
static const char *arena_str(struct arena *a, const char *s, size_t len)
{
    char *p = arena_take(a, a->used, len + 1);
    if (p == NULL)
        return "";
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

/* Looks up key in obj. Absent or null: *out NULL. A member of another type
 * than want is ZL_ERR_PARSE. */
static enum zl_err member(struct json_object *obj, const char *key,
                          enum json_type want, struct json_object **out)
{
    struct json_object *v = NULL;
    *out = NULL;
    if (obj == NULL || !json_object_object_get_ex(obj, key, &v) || v == NULL)
        return ZL_OK;
    if (json_object_get_type(v) != want) {
        log_debug("views: field \"%s\" is not a %s", key,
                  json_type_to_name(want));
        return ZL_ERR_PARSE;
    }
    *out = v;
    return ZL_OK;
}

/* Checks that a JSON string fits the limit and has no embedded NUL. */
static enum zl_err check_string(struct json_object *v, size_t max)
{
    const char *s = json_object_get_string(v);
    size_t len = (size_t)json_object_get_string_len(v);
    if (len > max)
        return ZL_ERR_LIMIT;
    if (memchr(s, '\0', len) != NULL)
        return ZL_ERR_PARSE;
    return ZL_OK;
}

/* Copies a string member ("" when absent) into the arena. */
static enum zl_err copy_string(struct arena *a, struct json_object *obj,
                               const char *key, const char **out)
{
    struct json_object *v;
    enum zl_err err = member(obj, key, json_type_string, &v);
    if (err != ZL_OK)
        return err;
    if (v == NULL) {
        *out = arena_str(a, "", 0);
        return ZL_OK;
    }
    err = check_string(v, VIEWS_MAX_STRING);
    if (err != ZL_OK)
        return err;
    *out = arena_str(a, json_object_get_string(v),
                     (size_t)json_object_get_string_len(v));
    return ZL_OK;
}

/* Same, but NULL when absent. */
static enum zl_err copy_opt_string(struct arena *a, struct json_object *obj,
                                   const char *key, const char **out)
{
    struct json_object *v;
    enum zl_err err = member(obj, key, json_type_string, &v);
    *out = NULL;
    if (err != ZL_OK || v == NULL)
        return err;
    return copy_string(a, obj, key, out);
}

/* Reads a timestamp member; VIEWS_TIME_NONE when absent. */
static enum zl_err get_time(struct json_object *obj, const char *key,
                            int64_t *out)
{
    struct json_object *v;
    enum zl_err err = member(obj, key, json_type_string, &v);
    *out = VIEWS_TIME_NONE;
    if (err != ZL_OK || v == NULL)
        return err;
    err = check_string(v, 64);
    if (err == ZL_OK)
        err = clock_parse_rfc3339(json_object_get_string(v), out);
    if (err != ZL_OK)
        log_debug("views: field \"%s\" is not an RFC 3339 time", key);
    return err != ZL_OK ? ZL_ERR_PARSE : ZL_OK;
}

/* Reads an int32 member; ZL_ERR_PARSE when not an integer in range. */
static enum zl_err get_int32(struct json_object *obj, const char *key,
                             bool *present, int32_t *out)
{
    struct json_object *v;
    enum zl_err err = member(obj, key, json_type_int, &v);
    *present = false;
    *out = 0;
    if (err != ZL_OK || v == NULL)
        return err;
    int64_t n = json_object_get_int64(v);
    if (n < INT32_MIN || n > INT32_MAX) {
        log_debug("views: field \"%s\" is out of int32 range", key);
        return ZL_ERR_PARSE;
    }
    *present = true;
    *out = (int32_t)n;
    return ZL_OK;
}

static int kv_cmp(const void *a, const void *b)
{
    const struct views_kv *x = a;
    const struct views_kv *y = b;
    return strcmp(x->key, y->key);
}

/* Copies a string-to-string object into a sorted map. total_max bounds the
 * values (and keys) together; per_value_max bounds each value. */
static enum zl_err copy_map(struct arena *a, struct json_object *obj,
                            const char *key, size_t value_max, size_t total_max,
                            struct views_map *map)
{
    struct json_object *m;
    enum zl_err err = member(obj, key, json_type_object, &m);
    map->items = NULL;
    map->count = 0;
    if (err != ZL_OK || m == NULL)
        return err;
    size_t count = (size_t)json_object_object_length(m);
    if (count > VIEWS_MAX_LABELS) {
        log_debug("views: %s has %zu entries, more than %d", key, count,
                  VIEWS_MAX_LABELS);
        return ZL_ERR_LIMIT;
    }
    if (count == 0)
        return ZL_OK;
    map->items = arena_alloc(a, count * sizeof(*map->items));
    size_t i = 0, total = 0;
    json_object_object_foreach(m, k, v)
    {
        if (v == NULL || json_object_get_type(v) != json_type_string)
            return ZL_ERR_PARSE;
        size_t klen = strlen(k);
        if (klen > VIEWS_MAX_STRING)
            return ZL_ERR_LIMIT;
        err = check_string(v, value_max);
        if (err != ZL_OK)
            return err;
        size_t vlen = (size_t)json_object_get_string_len(v);
        total += klen + vlen;
        if (total > total_max)
            return ZL_ERR_LIMIT;
        const char *ks = arena_str(a, k, klen);
        const char *vs = arena_str(a, json_object_get_string(v), vlen);
        if (map->items != NULL) {
            map->items[i].key = ks;
            map->items[i].value = vs;
        }
        i++;
    }
    map->count = i;
    if (map->items != NULL)
        qsort(map->items, map->count, sizeof(*map->items), kv_cmp);
    return ZL_OK;
}

static enum zl_err copy_labels(struct arena *a, struct json_object *meta,
                               struct views_map *map)
{
    return copy_map(a, meta, "labels", VIEWS_MAX_STRING,
                    (size_t)VIEWS_MAX_LABELS * 2 * VIEWS_MAX_STRING, map);
}

static enum zl_err get_protocol(struct json_object *obj,
                                enum views_protocol *out)
{
    struct json_object *v;
    enum zl_err err = member(obj, "protocol", json_type_string, &v);
    *out = VIEWS_PROTO_TCP;
    if (err != ZL_OK || v == NULL)
        return err;
    return views_protocol_parse(json_object_get_string(v), out);
}

/* Copies the ports of one container list. With sidecars_only, only
 * containers with restartPolicy "Always" count. While measuring, ports is
 * NULL and only *count advances. */
static enum zl_err copy_container_ports(struct arena *a,
                                        struct json_object *spec,
                                        const char *key, bool sidecars_only,
                                        struct views_container_port *ports,
                                        size_t *count)
{
    struct json_object *list;
    enum zl_err err = member(spec, key, json_type_array, &list);
    if (err != ZL_OK || list == NULL)
        return err;
    size_t n = json_object_array_length(list);
    for (size_t i = 0; i < n; i++) {
        struct json_object *c = json_object_array_get_idx(list, i);
        if (c == NULL || json_object_get_type(c) != json_type_object)
            return ZL_ERR_PARSE;
        if (sidecars_only) {
            struct json_object *rp;
            err = member(c, "restartPolicy", json_type_string, &rp);
            if (err != ZL_OK)
                return err;
            if (rp == NULL || strcmp(json_object_get_string(rp), "Always") != 0)
                continue;
        }
        struct json_object *plist;
        err = member(c, "ports", json_type_array, &plist);
        if (err != ZL_OK)
            return err;
        size_t pn = plist ? json_object_array_length(plist) : 0;
        for (size_t j = 0; j < pn; j++) {
            struct json_object *p = json_object_array_get_idx(plist, j);
            if (p == NULL || json_object_get_type(p) != json_type_object)
                return ZL_ERR_PARSE;
            if (*count >= VIEWS_MAX_PORTS)
                return ZL_ERR_LIMIT;
            struct views_container_port cp;
            bool present;
            err = copy_string(a, p, "name", &cp.name);
            if (err == ZL_OK)
                err = get_int32(p, "containerPort", &present, &cp.port);
            if (err == ZL_OK)
                err = get_protocol(p, &cp.protocol);
            if (err != ZL_OK)
                return err;
            if (ports != NULL)
                ports[*count] = cp;
            (*count)++;
        }
    }
    return ZL_OK;
}

static enum views_pod_phase phase_from(const char *s)
{
    static const char *const names[] = {
        [VIEWS_PHASE_PENDING] = "Pending",
        [VIEWS_PHASE_RUNNING] = "Running",
        [VIEWS_PHASE_SUCCEEDED] = "Succeeded",
        [VIEWS_PHASE_FAILED] = "Failed",
    };
    for (size_t i = 1; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(s, names[i]) == 0)
            return (enum views_pod_phase)i;
    return VIEWS_PHASE_UNKNOWN;
}

static enum zl_err read_ready(struct json_object *status, struct views_pod *pod)
{
    struct json_object *conds;
    enum zl_err err = member(status, "conditions", json_type_array, &conds);
    pod->ready = false;
    pod->ready_changed_ms = VIEWS_TIME_NONE;
    if (err != ZL_OK || conds == NULL)
        return err;
    size_t n = json_object_array_length(conds);
    for (size_t i = 0; i < n; i++) {
        struct json_object *c = json_object_array_get_idx(conds, i);
        struct json_object *type, *st;
        if (c == NULL || json_object_get_type(c) != json_type_object)
            return ZL_ERR_PARSE;
        err = member(c, "type", json_type_string, &type);
        if (err == ZL_OK)
            err = member(c, "status", json_type_string, &st);
        if (err != ZL_OK)
            return err;
        if (type == NULL || strcmp(json_object_get_string(type), "Ready") != 0)
            continue;
        /* The first Ready condition counts, as in the kubelet's helpers. */
        pod->ready =
            st != NULL && strcmp(json_object_get_string(st), "True") == 0;
        return get_time(c, "lastTransitionTime", &pod->ready_changed_ms);
    }
    return ZL_OK;
}

/* Classifies an address; -1 when it is not an IP address. */
static int ip_family(const char *s)
{
    unsigned char addr[16];
    if (inet_pton(AF_INET, s, addr) == 1)
        return VIEWS_IPV4;
    if (inet_pton(AF_INET6, s, addr) == 1)
        return VIEWS_IPV6;
    return -1;
}

/* Keeps the first address of each family. Unparseable addresses are ignored:
 * they must never reach an EndpointSlice. */
static enum zl_err keep_ip(struct arena *a, struct json_object *ipv,
                           const char *ip[2])
{
    if (ipv == NULL)
        return ZL_OK;
    if (json_object_get_type(ipv) != json_type_string)
        return ZL_ERR_PARSE;
    if (json_object_get_string_len(ipv) > INET6_ADDRSTRLEN)
        return ZL_OK;
    enum zl_err err = check_string(ipv, VIEWS_MAX_STRING);
    if (err != ZL_OK)
        return err;
    int fam = ip_family(json_object_get_string(ipv));
    if (fam < 0 || ip[fam] != NULL)
        return ZL_OK;
    ip[fam] = arena_str(a, json_object_get_string(ipv),
                        (size_t)json_object_get_string_len(ipv));
    return ZL_OK;
}

static enum zl_err read_ips(struct arena *a, struct json_object *status,
                            struct views_pod *pod)
{
    struct json_object *list, *single;
    enum zl_err err = member(status, "podIPs", json_type_array, &list);
    pod->ip[0] = pod->ip[1] = NULL;
    if (err == ZL_OK)
        err = member(status, "podIP", json_type_string, &single);
    if (err != ZL_OK)
        return err;
    size_t n = list ? json_object_array_length(list) : 0;
    for (size_t i = 0; i < n; i++) {
        struct json_object *e = json_object_array_get_idx(list, i);
        struct json_object *ipv;
        if (e == NULL || json_object_get_type(e) != json_type_object)
            return ZL_ERR_PARSE;
        err = member(e, "ip", json_type_string, &ipv);
        if (err == ZL_OK)
            err = keep_ip(a, ipv, pod->ip);
        if (err != ZL_OK)
            return err;
    }
    if (n == 0)
        err = keep_ip(a, single, pod->ip);
    return err;
}

static enum zl_err check_object(struct json_object *obj)
{
    if (obj == NULL || json_object_get_type(obj) != json_type_object)
        return ZL_ERR_PARSE;
    return ZL_OK;
}

/* The shared part, from the object's metadata (NULL when absent). */
static enum zl_err meta_pass(struct arena *a, struct json_object *meta,
                             struct views_meta *m)
{
    enum zl_err err = copy_string(a, meta, "namespace", &m->namespace_name);
    if (err == ZL_OK)
        err = copy_string(a, meta, "name", &m->name);
    if (err == ZL_OK)
        err = copy_string(a, meta, "uid", &m->uid);
    if (err == ZL_OK)
        err = copy_string(a, meta, "resourceVersion", &m->resource_version);
    if (err == ZL_OK)
        err = copy_labels(a, meta, &m->labels);
    if (err == ZL_OK)
        err = get_time(meta, "creationTimestamp", &m->created_ms);
    if (err == ZL_OK)
        err = get_time(meta, "deletionTimestamp", &m->deleted_ms);
    return err;
}

/* The ports of the containers, then of the restartable init containers:
 * counted first, then copied into one array. */
static enum zl_err read_pod_ports(struct arena *a, struct json_object *spec,
                                  struct views_pod *pod)
{
    size_t count = 0;
    struct arena probe = {.base = NULL};
    enum zl_err err =
        copy_container_ports(&probe, spec, "containers", false, NULL, &count);
    if (err == ZL_OK)
        err = copy_container_ports(&probe, spec, "initContainers", true, NULL,
                                   &count);
    if (err != ZL_OK)
        return err;
    pod->ports = count ? arena_alloc(a, count * sizeof(*pod->ports)) : NULL;
    pod->port_count = 0;
    err = copy_container_ports(a, spec, "containers", false, pod->ports,
                               &pod->port_count);
    if (err == ZL_OK)
        err = copy_container_ports(a, spec, "initContainers", true, pod->ports,
                                   &pod->port_count);
    return err;
}

/* The kind's own part of one pass over an object: measures when a->base
 * is NULL, else fills view. meta is the object's metadata (or NULL). */
typedef enum zl_err (*views_kind_pass)(struct arena *a, struct json_object *obj,
                                       struct json_object *meta, void *view);

static enum zl_err pod_pass(struct arena *a, struct json_object *obj,
                            struct json_object *meta, void *view)
{
    struct views_pod *pod = view;
    struct json_object *spec, *status, *phase;
    (void)meta;
    enum zl_err err = member(obj, "spec", json_type_object, &spec);
    if (err == ZL_OK)
        err = member(obj, "status", json_type_object, &status);
    if (err == ZL_OK)
        err = copy_string(a, spec, "nodeName", &pod->node_name);
    if (err == ZL_OK)
        err = member(status, "phase", json_type_string, &phase);
    if (err != ZL_OK)
        return err;
    pod->phase =
        phase ? phase_from(json_object_get_string(phase)) : VIEWS_PHASE_UNKNOWN;
    err = read_ready(status, pod);
    if (err == ZL_OK)
        err = read_ips(a, status, pod);
    if (err == ZL_OK)
        err = read_pod_ports(a, spec, pod);
    return err;
}

/* Keeps the first ownerReference with controller: true. */
static enum zl_err read_owner(struct arena *a, struct json_object *meta,
                              bool *has_owner, struct views_owner *owner)
{
    struct json_object *list;
    enum zl_err err = member(meta, "ownerReferences", json_type_array, &list);
    *has_owner = false;
    memset(owner, 0, sizeof(*owner));
    if (err != ZL_OK || list == NULL)
        return err;
    size_t n = json_object_array_length(list);
    for (size_t i = 0; i < n; i++) {
        struct json_object *o = json_object_array_get_idx(list, i);
        struct json_object *ctl;
        if (check_object(o) != ZL_OK)
            return ZL_ERR_PARSE;
        err = member(o, "controller", json_type_boolean, &ctl);
        if (err != ZL_OK)
            return err;
        if (ctl == NULL || !json_object_get_boolean(ctl) || *has_owner)
            continue;
        *has_owner = true;
        err = copy_string(a, o, "apiVersion", &owner->api_version);
        if (err == ZL_OK)
            err = copy_string(a, o, "kind", &owner->kind);
        if (err == ZL_OK)
            err = copy_string(a, o, "name", &owner->name);
        if (err == ZL_OK)
            err = copy_string(a, o, "uid", &owner->uid);
        if (err != ZL_OK)
            return err;
    }
    return ZL_OK;
}

static enum zl_err read_type(struct json_object *spec,
                             struct views_service *svc)
{
    struct json_object *v;
    enum zl_err err = member(spec, "type", json_type_string, &v);
    svc->type = VIEWS_SVC_CLUSTER_IP;
    if (err != ZL_OK || v == NULL)
        return err;
    return views_service_type_parse(json_object_get_string(v), &svc->type);
}

static enum zl_err read_families(struct json_object *spec,
                                 struct views_service *svc)
{
    struct json_object *list, *cip;
    enum zl_err err = member(spec, "ipFamilies", json_type_array, &list);
    svc->ip_family_count = 0;
    if (err == ZL_OK)
        err = member(spec, "clusterIP", json_type_string, &cip);
    if (err != ZL_OK)
        return err;
    svc->headless = cip && strcmp(json_object_get_string(cip), "None") == 0;
    size_t n = list ? json_object_array_length(list) : 0;
    if (n > 2)
        return ZL_ERR_LIMIT;
    for (size_t i = 0; i < n; i++) {
        struct json_object *f = json_object_array_get_idx(list, i);
        if (f == NULL || json_object_get_type(f) != json_type_string)
            return ZL_ERR_PARSE;
        err = views_ip_family_parse(json_object_get_string(f),
                                    &svc->ip_families[i]);
        if (err != ZL_OK)
            return err;
    }
    svc->ip_family_count = n;
    return ZL_OK;
}

/* Reads one array element into out (an item of the caller's type). */
typedef enum zl_err (*views_item_reader)(struct arena *a,
                                         struct json_object *item, void *out);

/* Room for the largest array element the views read. */
#define VIEWS_ITEM_MAX 256
_Static_assert(sizeof(struct views_service_port) <= VIEWS_ITEM_MAX &&
                   sizeof(struct views_endpoint) <= VIEWS_ITEM_MAX &&
                   sizeof(struct views_endpoint_port) <= VIEWS_ITEM_MAX,
               "VIEWS_ITEM_MAX too small");

/* Reads the array member key of obj, at most max items of item_size bytes,
 * each through read, into an arena array (*items stays NULL while the
 * arena is only measuring). Absent or empty: *items NULL, *count 0. */
static enum zl_err read_array(struct arena *a, struct json_object *obj,
                              const char *key, size_t max, size_t item_size,
                              views_item_reader read, void **items,
                              size_t *count)
{
    struct json_object *list;
    _Alignas(max_align_t) unsigned char item[VIEWS_ITEM_MAX];
    enum zl_err err = member(obj, key, json_type_array, &list);
    *items = NULL;
    *count = 0;
    assert(item_size <= sizeof(item));
    if (err != ZL_OK || list == NULL)
        return err;
    size_t n = json_object_array_length(list);
    if (n > max)
        return ZL_ERR_LIMIT;
    if (n == 0)
        return ZL_OK;
    unsigned char *base = arena_alloc(a, n * item_size);
    for (size_t i = 0; i < n; i++) {
        memset(item, 0, item_size);
        err = read(a, json_object_array_get_idx(list, i), item);
        if (err != ZL_OK)
            return err;
        if (base != NULL)
            memcpy(base + i * item_size, item, item_size);
    }
    *items = base;
    *count = n;
    return ZL_OK;
}

static enum zl_err read_service_port(struct arena *a, struct json_object *p,
                                     void *out)
{
    struct views_service_port *sp = out;
    struct json_object *tp;
    bool present;
    enum zl_err err = check_object(p);
    if (err == ZL_OK)
        err = copy_string(a, p, "name", &sp->name);
    if (err == ZL_OK)
        err = get_protocol(p, &sp->protocol);
    if (err == ZL_OK)
        err = get_int32(p, "port", &present, &sp->port);
    if (err == ZL_OK)
        err = copy_opt_string(a, p, "appProtocol", &sp->app_protocol);
    if (err != ZL_OK)
        return err;
    sp->target_port = sp->port;
    sp->target_port_name = NULL;
    if (!json_object_object_get_ex(p, "targetPort", &tp) || tp == NULL)
        return ZL_OK;
    if (json_object_get_type(tp) == json_type_int) {
        err = get_int32(p, "targetPort", &present, &sp->target_port);
        /* 0 means "unset", as the API server defaults it. */
        if (err == ZL_OK && sp->target_port == 0)
            sp->target_port = sp->port;
        return err;
    }
    if (json_object_get_type(tp) != json_type_string)
        return ZL_ERR_PARSE;
    if (json_object_get_string_len(tp) == 0)
        return ZL_OK;
    return copy_string(a, p, "targetPort", &sp->target_port_name);
}

static enum zl_err read_service_ports(struct arena *a, struct json_object *spec,
                                      struct views_service *svc)
{
    void *items;
    enum zl_err err =
        read_array(a, spec, "ports", VIEWS_MAX_PORTS, sizeof(*svc->ports),
                   read_service_port, &items, &svc->port_count);
    svc->ports = items;
    return err;
}

static enum zl_err service_pass(struct arena *a, struct json_object *obj,
                                struct json_object *meta, void *view)
{
    struct views_service *svc = view;
    struct json_object *spec;
    enum zl_err err = member(obj, "spec", json_type_object, &spec);
    if (err == ZL_OK)
        err = copy_map(a, meta, "annotations", VIEWS_MAX_ANNOTATIONS_BYTES,
                       VIEWS_MAX_ANNOTATIONS_BYTES, &svc->annotations);
    if (err == ZL_OK)
        err = read_owner(a, meta, &svc->has_owner, &svc->owner);
    if (err == ZL_OK)
        err = copy_map(a, spec, "selector", VIEWS_MAX_STRING,
                       (size_t)VIEWS_MAX_LABELS * 2 * VIEWS_MAX_STRING,
                       &svc->selector);
    if (err == ZL_OK)
        err = read_type(spec, svc);
    if (err == ZL_OK)
        err = read_families(spec, svc);
    if (err == ZL_OK)
        err =
            copy_opt_string(a, spec, "ipFamilyPolicy", &svc->ip_family_policy);
    if (err == ZL_OK)
        err = read_service_ports(a, spec, svc);
    svc->has_selector = err == ZL_OK && svc->selector.count > 0;
    return err;
}

static enum zl_err read_address_type(struct json_object *obj,
                                     enum views_address_type *out)
{
    static const char *const names[] = {
        [VIEWS_ADDR_IPV4] = "IPv4",
        [VIEWS_ADDR_IPV6] = "IPv6",
        [VIEWS_ADDR_FQDN] = "FQDN",
    };
    struct json_object *v;
    enum zl_err err = member(obj, "addressType", json_type_string, &v);
    *out = VIEWS_ADDR_IPV4;
    if (err != ZL_OK || v == NULL)
        return err;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(json_object_get_string(v), names[i]) == 0) {
            *out = (enum views_address_type)i;
            return ZL_OK;
        }
    }
    log_debug("views: unknown addressType");
    return ZL_ERR_PARSE;
}

/* A condition with the API's nil default. */
static enum zl_err get_condition(struct json_object *conds, const char *key,
                                 bool nil_value, bool *out)
{
    struct json_object *v;
    enum zl_err err = member(conds, key, json_type_boolean, &v);
    *out = v != NULL ? json_object_get_boolean(v) : nil_value;
    return err;
}

static enum zl_err read_addresses(struct arena *a, struct json_object *ep,
                                  struct views_endpoint *e)
{
    struct json_object *list;
    enum zl_err err = member(ep, "addresses", json_type_array, &list);
    e->address_count = 0;
    if (err != ZL_OK || list == NULL)
        return err;
    size_t n = json_object_array_length(list);
    for (size_t i = 0; i < n; i++) {
        struct json_object *v = json_object_array_get_idx(list, i);
        if (v == NULL || json_object_get_type(v) != json_type_string)
            return ZL_ERR_PARSE;
        err = check_string(v, VIEWS_MAX_STRING);
        if (err != ZL_OK)
            return err;
        if (e->address_count == VIEWS_ENDPOINT_ADDRESSES)
            continue; /* validated, not kept */
        e->addresses[e->address_count++] =
            arena_str(a, json_object_get_string(v),
                      (size_t)json_object_get_string_len(v));
    }
    return ZL_OK;
}

static enum zl_err read_endpoint(struct arena *a, struct json_object *ep,
                                 void *out)
{
    struct views_endpoint *e = out;
    struct json_object *conds = NULL, *ref = NULL;
    enum zl_err err = check_object(ep);
    memset(e, 0, sizeof(*e));
    if (err == ZL_OK)
        err = read_addresses(a, ep, e);
    if (err == ZL_OK)
        err = member(ep, "conditions", json_type_object, &conds);
    if (err == ZL_OK)
        err = get_condition(conds, "ready", true, &e->ready);
    if (err == ZL_OK)
        err = get_condition(conds, "serving", true, &e->serving);
    if (err == ZL_OK)
        err = get_condition(conds, "terminating", false, &e->terminating);
    if (err == ZL_OK)
        err = copy_opt_string(a, ep, "nodeName", &e->node_name);
    if (err == ZL_OK)
        err = member(ep, "targetRef", json_type_object, &ref);
    if (err != ZL_OK || ref == NULL)
        return err;
    err = copy_opt_string(a, ref, "kind", &e->target_ref.kind);
    if (err == ZL_OK)
        err = copy_opt_string(a, ref, "name", &e->target_ref.name);
    if (err == ZL_OK)
        err = copy_opt_string(a, ref, "uid", &e->target_ref.uid);
    return err;
}

static enum zl_err read_endpoints(struct arena *a, struct json_object *obj,
                                  struct views_endpointslice *eps)
{
    void *items;
    enum zl_err err = read_array(a, obj, "endpoints", VIEWS_MAX_ENDPOINTS,
                                 sizeof(*eps->endpoints), read_endpoint, &items,
                                 &eps->endpoint_count);
    eps->endpoints = items;
    return err;
}

static enum zl_err read_endpoint_port(struct arena *a, struct json_object *p,
                                      void *out)
{
    struct views_endpoint_port *ep = out;
    bool present;
    enum zl_err err = check_object(p);
    if (err == ZL_OK)
        err = copy_opt_string(a, p, "name", &ep->name);
    if (err == ZL_OK)
        err = get_int32(p, "port", &present, &ep->port);
    if (err == ZL_OK)
        err = get_protocol(p, &ep->protocol);
    if (err == ZL_OK)
        err = copy_opt_string(a, p, "appProtocol", &ep->app_protocol);
    return err;
}

static enum zl_err read_endpoint_ports(struct arena *a, struct json_object *obj,
                                       struct views_endpointslice *eps)
{
    void *items;
    enum zl_err err =
        read_array(a, obj, "ports", VIEWS_MAX_PORTS, sizeof(*eps->ports),
                   read_endpoint_port, &items, &eps->port_count);
    eps->ports = items;
    return err;
}

static enum zl_err endpointslice_pass(struct arena *a, struct json_object *obj,
                                      struct json_object *meta, void *view)
{
    struct views_endpointslice *eps = view;
    enum zl_err err = read_owner(a, meta, &eps->has_owner, &eps->owner);
    if (err == ZL_OK)
        err = read_address_type(obj, &eps->address_type);
    if (err == ZL_OK)
        err = read_endpoints(a, obj, eps);
    if (err == ZL_OK)
        err = read_endpoint_ports(a, obj, eps);
    /* The labels are only readable once filled; read them as meta_pass
     * wrote them. */
    if (err == ZL_OK && a->base != NULL && !a->overflow) {
        const struct views_meta *m = view;
        eps->service_name = views_map_get(&m->labels, VIEWS_LABEL_SERVICE_NAME);
        eps->managed_by = views_map_get(&m->labels, VIEWS_LABEL_MANAGED_BY);
    }
    return err;
}

/* Generic code reads a view through a pointer to its shared part, so meta
 * is first in every kind; on LP64 it takes 80 of a pod view's 136
 * (docs/internals/store.md). */
_Static_assert(offsetof(struct views_pod, meta) == 0 &&
                   offsetof(struct views_service, meta) == 0 &&
                   offsetof(struct views_endpointslice, meta) == 0 &&
                   (sizeof(void *) != 8 || sizeof(struct views_pod) == 136),
               "the shared part moved or grew");

/* How each kind is parsed: its size and its own part of a pass. */
struct views_kind_info {
    size_t size;
    views_kind_pass pass;
};

static const struct views_kind_info *kind_info(enum views_kind kind)
{
    static const struct views_kind_info kinds[] = {
        [VIEWS_KIND_POD] = {sizeof(struct views_pod), pod_pass},
        [VIEWS_KIND_SERVICE] = {sizeof(struct views_service), service_pass},
        [VIEWS_KIND_ENDPOINTSLICE] = {sizeof(struct views_endpointslice),
                                      endpointslice_pass},
    };
    if ((size_t)kind >= sizeof(kinds) / sizeof(kinds[0]) ||
        kinds[kind].pass == NULL)
        return NULL;
    return &kinds[kind];
}

/* One pass over an object: the shared part, then the kind's own. */
static enum zl_err view_pass(const struct views_kind_info *k, struct arena *a,
                             struct json_object *obj, void *view)
{
    struct json_object *meta;
    enum zl_err err = member(obj, "metadata", json_type_object, &meta);
    if (err == ZL_OK)
        err = meta_pass(a, meta, view);
    if (err == ZL_OK)
        err = k->pass(a, obj, meta, view);
    return err;
}

/* The second pass, into a block of the size the first one measured. It
 * cannot fail on valid input; if it does, or outgrows the block, that is a
 * bug, and the block is dropped. */
static enum zl_err fill(const struct views_kind_info *k, struct arena *a,
                        struct json_object *obj, void **out)
{
    a->base = malloc(a->cap > 0 ? a->cap : 1);
    if (a->base == NULL)
        return ZL_ERR_NOMEM;
    void *view = arena_alloc(a, k->size);
    enum zl_err err = view != NULL ? view_pass(k, a, obj, view) : ZL_OK;
    if (err != ZL_OK || a->overflow) {
        log_error("views: the fill pass disagrees with the measuring pass "
                  "(%s, %zu bytes)",
                  zl_err_str(err), a->cap);
        free(a->base);
        return ZL_ERR_INTERNAL;
    }
    *out = view;
    return ZL_OK;
}

enum zl_err views_from_json(enum views_kind kind, struct json_object *obj,
                            void **out)
{
    union {
        struct views_pod pod;
        struct views_service svc;
        struct views_endpointslice eps;
    } scratch;
    struct arena a = {.base = NULL};
    const struct views_kind_info *k = kind_info(kind);
    *out = NULL;
    if (k == NULL)
        return ZL_ERR_INVALID;
    enum zl_err err = check_object(obj);
    arena_alloc(&a, k->size);
    if (err == ZL_OK)
        err = view_pass(k, &a, obj, &scratch);
    if (err != ZL_OK)
        return err;
    a.cap = a.used - (arena_shortfall < a.used ? arena_shortfall : a.used);
    a.used = 0;
    err = fill(k, &a, obj, out);
    if (err != ZL_OK)
        return err;
    struct views_meta *m = *out;
    m->mem = a.base;
    m->kind = kind;
    atomic_init(&m->ref.extra, 0);
    return ZL_OK;
}

enum zl_err views_pod_from_json(struct json_object *obj, struct views_pod **out)
{
    void *view;
    enum zl_err err = views_from_json(VIEWS_KIND_POD, obj, &view);
    *out = view;
    return err;
}

enum zl_err views_service_from_json(struct json_object *obj,
                                    struct views_service **out)
{
    void *view;
    enum zl_err err = views_from_json(VIEWS_KIND_SERVICE, obj, &view);
    *out = view;
    return err;
}

enum zl_err views_endpointslice_from_json(struct json_object *obj,
                                          struct views_endpointslice **out)
{
    void *view;
    enum zl_err err = views_from_json(VIEWS_KIND_ENDPOINTSLICE, obj, &view);
    *out = view;
    return err;
}

enum zl_err views_parse(enum views_kind kind, const char *json, size_t json_len,
                        void **out)
{
    struct json_object *obj;
    *out = NULL;
    enum zl_err err = json_parse_object(json, json_len, &obj);
    if (err != ZL_OK)
        return err;
    err = views_from_json(kind, obj, out);
    json_object_put(obj);
    return err;
}

enum zl_err views_pod_parse(const char *json, size_t json_len,
                            struct views_pod **out)
{
    void *view;
    enum zl_err err = views_parse(VIEWS_KIND_POD, json, json_len, &view);
    *out = view;
    return err;
}

enum zl_err views_service_parse(const char *json, size_t json_len,
                                struct views_service **out)
{
    void *view;
    enum zl_err err = views_parse(VIEWS_KIND_SERVICE, json, json_len, &view);
    *out = view;
    return err;
}

enum zl_err views_endpointslice_parse(const char *json, size_t json_len,
                                      struct views_endpointslice **out)
{
    void *view;
    enum zl_err err =
        views_parse(VIEWS_KIND_ENDPOINTSLICE, json, json_len, &view);
    *out = view;
    return err;
}

/* The counter of a view the caller holds: shared views are const to their
 * readers, but the count is the one field that changes after parsing. */
static atomic_uint_least32_t *ref_of(const struct views_meta *m)
{
    struct views_meta *mut;
    memcpy(&mut, &m, sizeof(mut));
    return &mut->ref.extra;
}

void views_retain(const void *view)
{
    if (view != NULL)
        atomic_fetch_add_explicit(ref_of(view), 1, memory_order_relaxed);
}

/* acq_rel: the thread that frees must see every other holder's reads as
 * finished. A hand-built view may own mem apart from itself. */
void views_release(const void *view)
{
    const struct views_meta *m = view;
    if (m == NULL ||
        atomic_fetch_sub_explicit(ref_of(m), 1, memory_order_acq_rel) != 0)
        return;
    void *mem = m->mem;
    void *block;
    memcpy(&block, &view, sizeof(block));
    if (mem != block)
        free(mem);
    free(block);
}

const struct views_meta *views_meta_of(const void *view)
{
    return view;
}

/* view if it is of kind, else NULL. */
static const void *of_kind(const void *view, enum views_kind kind)
{
    const struct views_meta *m = view;
    return m != NULL && m->kind == kind ? view : NULL;
}

const struct views_pod *views_pod_of(const void *view)
{
    return of_kind(view, VIEWS_KIND_POD);
}

const struct views_service *views_service_of(const void *view)
{
    return of_kind(view, VIEWS_KIND_SERVICE);
}

const struct views_endpointslice *views_endpointslice_of(const void *view)
{
    return of_kind(view, VIEWS_KIND_ENDPOINTSLICE);
}

const char *views_map_get(const struct views_map *map, const char *key)
{
    size_t lo = 0, hi = map->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(key, map->items[mid].key);
        if (c == 0)
            return map->items[mid].value;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

static const char *const protocol_names[] = {
    [VIEWS_PROTO_TCP] = "TCP",
    [VIEWS_PROTO_UDP] = "UDP",
    [VIEWS_PROTO_SCTP] = "SCTP",
};

const char *views_protocol_name(enum views_protocol proto)
{
    if ((size_t)proto >= sizeof(protocol_names) / sizeof(protocol_names[0]))
        return "TCP";
    return protocol_names[proto];
}

enum zl_err views_protocol_parse(const char *text, enum views_protocol *out)
{
    for (size_t i = 0; i < sizeof(protocol_names) / sizeof(protocol_names[0]);
         i++) {
        if (strcmp(text, protocol_names[i]) == 0) {
            *out = (enum views_protocol)i;
            return ZL_OK;
        }
    }
    return ZL_ERR_PARSE;
}

enum zl_err views_service_type_parse(const char *text,
                                     enum views_service_type *out)
{
    static const char *const names[] = {
        [VIEWS_SVC_CLUSTER_IP] = "ClusterIP",
        [VIEWS_SVC_NODE_PORT] = "NodePort",
        [VIEWS_SVC_LOAD_BALANCER] = "LoadBalancer",
        [VIEWS_SVC_EXTERNAL_NAME] = "ExternalName",
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(text, names[i]) == 0) {
            *out = (enum views_service_type)i;
            return ZL_OK;
        }
    }
    return ZL_ERR_PARSE;
}

enum zl_err views_ip_family_parse(const char *text, enum views_ip_family *out)
{
    if (strcmp(text, "IPv4") == 0)
        *out = VIEWS_IPV4;
    else if (strcmp(text, "IPv6") == 0)
        *out = VIEWS_IPV6;
    else
        return ZL_ERR_PARSE;
    return ZL_OK;
}

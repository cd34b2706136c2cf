/* SPDX-License-Identifier: Apache-2.0 */
/* Pod, Service and EndpointSlice view parsing. Each
 * tests/data/views/<case>.in.json is parsed (pod-* as a Pod, svc-* as a
 * Service, eps-* as an EndpointSlice) and the view, written back as JSON,
 * must equal <case>.expect.json (or {"error": "PARSE"|"LIMIT"}). */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "kube/views.h"
#include "kube/viewscan.h"
#include "testutil.h"

static struct json_object *str_or_null(const char *s)
{
    return s != NULL ? json_object_new_string(s) : NULL;
}

static struct json_object *time_or_null(int64_t ms)
{
    return ms != VIEWS_TIME_NONE ? json_object_new_int64(ms) : NULL;
}

/* Long values are shown as their length, to keep fixtures readable. */
static struct json_object *map_json(const struct views_map *map)
{
    struct json_object *arr = json_object_new_array();
    for (size_t i = 0; i < map->count; i++) {
        char line[512];
        size_t vlen = strlen(map->items[i].value);
        if (vlen > 200)
            snprintf(line, sizeof(line), "%s=<%zu bytes>", map->items[i].key,
                     vlen);
        else
            snprintf(line, sizeof(line), "%s=%s", map->items[i].key,
                     map->items[i].value);
        json_object_array_add(arr, json_object_new_string(line));
    }
    return arr;
}

static const char *phase_name(enum views_pod_phase p)
{
    static const char *const names[] = {"Unknown", "Pending", "Running",
                                        "Succeeded", "Failed"};
    return names[p];
}

static struct json_object *pod_json(const struct views_pod *pod)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "namespace",
                           json_object_new_string(pod->meta.namespace_name));
    json_object_object_add(o, "name", json_object_new_string(pod->meta.name));
    json_object_object_add(o, "uid", json_object_new_string(pod->meta.uid));
    json_object_object_add(o, "resourceVersion",
                           json_object_new_string(pod->meta.resource_version));
    json_object_object_add(o, "nodeName",
                           json_object_new_string(pod->node_name));
    json_object_object_add(o, "labels", map_json(&pod->meta.labels));
    json_object_object_add(o, "created", time_or_null(pod->meta.created_ms));
    json_object_object_add(o, "deleted", time_or_null(pod->meta.deleted_ms));
    json_object_object_add(o, "phase",
                           json_object_new_string(phase_name(pod->phase)));
    json_object_object_add(o, "ready", json_object_new_boolean(pod->ready));
    json_object_object_add(o, "readyChanged",
                           time_or_null(pod->ready_changed_ms));
    json_object_object_add(o, "ipv4", str_or_null(pod->ip[VIEWS_IPV4]));
    json_object_object_add(o, "ipv6", str_or_null(pod->ip[VIEWS_IPV6]));
    struct json_object *ports = json_object_new_array();
    for (size_t i = 0; i < pod->port_count; i++) {
        struct json_object *p = json_object_new_object();
        json_object_object_add(p, "name",
                               json_object_new_string(pod->ports[i].name));
        json_object_object_add(p, "port",
                               json_object_new_int(pod->ports[i].port));
        json_object_object_add(p, "protocol",
                               json_object_new_string(views_protocol_name(
                                   pod->ports[i].protocol)));
        json_object_array_add(ports, p);
    }
    json_object_object_add(o, "ports", ports);
    return o;
}

static const char *type_name(enum views_service_type t)
{
    static const char *const names[] = {"ClusterIP", "NodePort", "LoadBalancer",
                                        "ExternalName"};
    return names[t];
}

static struct json_object *svc_ports_json(const struct views_service *svc)
{
    struct json_object *ports = json_object_new_array();
    for (size_t i = 0; i < svc->port_count; i++) {
        const struct views_service_port *sp = &svc->ports[i];
        struct json_object *p = json_object_new_object();
        json_object_object_add(p, "name", json_object_new_string(sp->name));
        json_object_object_add(
            p, "protocol",
            json_object_new_string(views_protocol_name(sp->protocol)));
        json_object_object_add(p, "port", json_object_new_int(sp->port));
        json_object_object_add(p, "targetPort",
                               json_object_new_int(sp->target_port));
        json_object_object_add(p, "targetPortName",
                               str_or_null(sp->target_port_name));
        json_object_object_add(p, "appProtocol", str_or_null(sp->app_protocol));
        json_object_array_add(ports, p);
    }
    return ports;
}

static struct json_object *svc_json(const struct views_service *svc)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "namespace",
                           json_object_new_string(svc->meta.namespace_name));
    json_object_object_add(o, "name", json_object_new_string(svc->meta.name));
    json_object_object_add(o, "uid", json_object_new_string(svc->meta.uid));
    json_object_object_add(o, "resourceVersion",
                           json_object_new_string(svc->meta.resource_version));
    json_object_object_add(o, "labels", map_json(&svc->meta.labels));
    json_object_object_add(o, "annotations", map_json(&svc->annotations));
    json_object_object_add(o, "hasSelector",
                           json_object_new_boolean(svc->has_selector));
    json_object_object_add(o, "selector", map_json(&svc->selector));
    json_object_object_add(o, "type",
                           json_object_new_string(type_name(svc->type)));
    json_object_object_add(o, "headless",
                           json_object_new_boolean(svc->headless));
    struct json_object *fams = json_object_new_array();
    for (size_t i = 0; i < svc->ip_family_count; i++)
        json_object_array_add(
            fams, json_object_new_string(
                      svc->ip_families[i] == VIEWS_IPV4 ? "IPv4" : "IPv6"));
    json_object_object_add(o, "ipFamilies", fams);
    json_object_object_add(o, "ipFamilyPolicy",
                           str_or_null(svc->ip_family_policy));
    json_object_object_add(o, "ports", svc_ports_json(svc));
    struct json_object *owner = NULL;
    if (svc->has_owner) {
        owner = json_object_new_object();
        json_object_object_add(owner, "apiVersion",
                               json_object_new_string(svc->owner.api_version));
        json_object_object_add(owner, "kind",
                               json_object_new_string(svc->owner.kind));
        json_object_object_add(owner, "name",
                               json_object_new_string(svc->owner.name));
        json_object_object_add(owner, "uid",
                               json_object_new_string(svc->owner.uid));
    }
    json_object_object_add(o, "owner", owner);
    json_object_object_add(o, "created", time_or_null(svc->meta.created_ms));
    json_object_object_add(o, "deleted", time_or_null(svc->meta.deleted_ms));
    return o;
}

static struct json_object *owner_json(bool has, const struct views_owner *o)
{
    if (!has)
        return NULL;
    struct json_object *j = json_object_new_object();
    json_object_object_add(j, "apiVersion",
                           json_object_new_string(o->api_version));
    json_object_object_add(j, "kind", json_object_new_string(o->kind));
    json_object_object_add(j, "name", json_object_new_string(o->name));
    json_object_object_add(j, "uid", json_object_new_string(o->uid));
    return j;
}

static struct json_object *endpoint_json(const struct views_endpoint *e)
{
    struct json_object *o = json_object_new_object();
    struct json_object *addrs = json_object_new_array();
    for (size_t i = 0; i < e->address_count; i++)
        json_object_array_add(addrs, json_object_new_string(e->addresses[i]));
    json_object_object_add(o, "addresses", addrs);
    json_object_object_add(o, "ready", json_object_new_boolean(e->ready));
    json_object_object_add(o, "serving", json_object_new_boolean(e->serving));
    json_object_object_add(o, "terminating",
                           json_object_new_boolean(e->terminating));
    json_object_object_add(o, "nodeName", str_or_null(e->node_name));
    json_object_object_add(o, "targetKind", str_or_null(e->target_ref.kind));
    json_object_object_add(o, "targetName", str_or_null(e->target_ref.name));
    json_object_object_add(o, "targetUid", str_or_null(e->target_ref.uid));
    return o;
}

static struct json_object *eps_json(const struct views_endpointslice *eps)
{
    static const char *const types[] = {"IPv4", "IPv6", "FQDN"};
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "namespace",
                           json_object_new_string(eps->meta.namespace_name));
    json_object_object_add(o, "name", json_object_new_string(eps->meta.name));
    json_object_object_add(o, "uid", json_object_new_string(eps->meta.uid));
    json_object_object_add(o, "resourceVersion",
                           json_object_new_string(eps->meta.resource_version));
    json_object_object_add(o, "labels", map_json(&eps->meta.labels));
    json_object_object_add(o, "serviceName", str_or_null(eps->service_name));
    json_object_object_add(o, "managedBy", str_or_null(eps->managed_by));
    json_object_object_add(o, "addressType",
                           json_object_new_string(types[eps->address_type]));
    json_object_object_add(o, "owner", owner_json(eps->has_owner, &eps->owner));
    struct json_object *eps_arr = json_object_new_array();
    for (size_t i = 0; i < eps->endpoint_count; i++)
        json_object_array_add(eps_arr, endpoint_json(&eps->endpoints[i]));
    json_object_object_add(o, "endpoints", eps_arr);
    struct json_object *ports = json_object_new_array();
    for (size_t i = 0; i < eps->port_count; i++) {
        const struct views_endpoint_port *ep = &eps->ports[i];
        struct json_object *p = json_object_new_object();
        json_object_object_add(p, "name", str_or_null(ep->name));
        json_object_object_add(p, "port", json_object_new_int(ep->port));
        json_object_object_add(
            p, "protocol",
            json_object_new_string(views_protocol_name(ep->protocol)));
        json_object_object_add(p, "appProtocol", str_or_null(ep->app_protocol));
        json_object_array_add(ports, p);
    }
    json_object_object_add(o, "ports", ports);
    return o;
}

static struct json_object *error_json(enum zl_err err)
{
    const char *name = err == ZL_ERR_PARSE   ? "PARSE"
                       : err == ZL_ERR_LIMIT ? "LIMIT"
                                             : zl_err_str(err);
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "error", json_object_new_string(name));
    return o;
}

/* A Service through views_service_parse, and through viewscan_service,
 * which must give the same view or the same error. */
static struct json_object *svc_case(const char *name, const char *text,
                                    size_t len)
{
    struct views_service *svc, *scanned;
    enum zl_err err = views_service_parse(text, len, &svc);
    enum zl_err serr = viewscan_service(text, len, &scanned);
    struct json_object *got = err == ZL_OK ? svc_json(svc) : error_json(err);
    struct json_object *sgot =
        serr == ZL_OK ? svc_json(scanned) : error_json(serr);
    if (err != ZL_OK)
        cr_expect_null(svc);
    if (serr != ZL_OK)
        cr_expect_null(scanned);
    char label[256];
    snprintf(label, sizeof(label), "%s (viewscan)", name);
    cr_expect(testutil_json_equal(label, sgot, got),
              "%s: viewscan_service differs from views_service_parse", name);
    json_object_put(sgot);
    views_release(svc);
    views_release(scanned);
    return got;
}

/* Parses one fixture; returns its view as JSON, or the error. */
static struct json_object *parse_case(const char *file, const char *text,
                                      size_t len)
{
    struct json_object *got;
    enum zl_err err;
    if (strncmp(file, "pod-", 4) == 0) {
        struct views_pod *pod;
        err = views_pod_parse(text, len, &pod);
        got = err == ZL_OK ? pod_json(pod) : error_json(err);
        if (err != ZL_OK)
            cr_expect_null(pod);
        views_release(pod);
    } else if (strncmp(file, "eps-", 4) == 0) {
        struct views_endpointslice *eps;
        err = views_endpointslice_parse(text, len, &eps);
        got = err == ZL_OK ? eps_json(eps) : error_json(err);
        if (err != ZL_OK)
            cr_expect_null(eps);
        views_release(eps);
    } else {
        got = svc_case(file, text, len);
    }
    return got;
}

Test(views, fixtures_parse_to_expected_views)
{
    char **names;
    size_t count = testutil_list("views", ".in.json", &names);
    cr_assert_geq(count, 40, "fixtures missing: %zu", count);
    size_t failed = 0;
    for (size_t i = 0; i < count; i++) {
        char path[512], expect_path[512];
        size_t len;
        snprintf(path, sizeof(path), "views/%s", names[i]);
        snprintf(expect_path, sizeof(expect_path), "views/%.*s.expect.json",
                 (int)(strlen(names[i]) - strlen(".in.json")), names[i]);
        char *text = testutil_read(path, &len);
        char *expect_text = testutil_read(expect_path, NULL);
        cr_assert_not_null(text);
        cr_assert_not_null(expect_text, "missing %s", expect_path);
        struct json_object *want = testutil_json(expect_text);
        struct json_object *got = parse_case(names[i], text, len);
        if (!testutil_json_equal(names[i], got, want))
            failed++;
        json_object_put(got);
        json_object_put(want);
        free(text);
        free(expect_text);
    }
    testutil_free_names(names, count);
    cr_expect_eq(failed, 0, "%zu fixture(s) differ", failed);
}

/* Generated oversize inputs (kept out of the fixtures for their size). */
enum gen {
    GEN_LABELS,      /* n labels on a pod */
    GEN_LABEL_VALUE, /* one pod label of n bytes */
    GEN_POD_PORTS,   /* n container ports */
    GEN_SVC_PORTS,   /* n service ports */
    GEN_ANNOTATION,  /* one service annotation of n bytes */
    GEN_ANNOTATIONS, /* two service annotations of n bytes each */
    GEN_SELECTOR,    /* n selector entries */
};

struct gen_case {
    const char *label;
    enum gen gen;
    size_t n;
    enum zl_err want;
};

static const struct gen_case gen_cases[] = {
    {"512 labels are allowed", GEN_LABELS, 512, ZL_OK},
    {"513 labels are too many", GEN_LABELS, 513, ZL_ERR_LIMIT},
    {"a 65536-byte label value is allowed", GEN_LABEL_VALUE, 65536, ZL_OK},
    {"a 65537-byte label value is too long", GEN_LABEL_VALUE, 65537,
     ZL_ERR_LIMIT},
    {"1024 container ports are allowed", GEN_POD_PORTS, 1024, ZL_OK},
    {"1025 container ports are too many", GEN_POD_PORTS, 1025, ZL_ERR_LIMIT},
    {"1024 service ports are allowed", GEN_SVC_PORTS, 1024, ZL_OK},
    {"1025 service ports are too many", GEN_SVC_PORTS, 1025, ZL_ERR_LIMIT},
    {"a 200 KiB annotation is allowed", GEN_ANNOTATION, 200 * 1024, ZL_OK},
    {"annotations over 256 KiB in total are too big", GEN_ANNOTATIONS,
     130 * 1024, ZL_ERR_LIMIT},
    {"513 selector entries are too many", GEN_SELECTOR, 513, ZL_ERR_LIMIT},
};

static struct json_object *generate(const struct gen_case *c)
{
    struct json_object *obj = json_object_new_object();
    struct json_object *meta = json_object_new_object();
    struct json_object *spec = json_object_new_object();
    struct json_object *map = json_object_new_object();
    struct json_object *arr = json_object_new_array();
    char key[32];
    char *big = malloc(c->n + 1);
    memset(big, 'v', c->n);
    big[c->n] = '\0';
    json_object_object_add(obj, "metadata", meta);
    json_object_object_add(obj, "spec", spec);
    switch (c->gen) {
    case GEN_LABELS:
    case GEN_SELECTOR:
        for (size_t i = 0; i < c->n; i++) {
            snprintf(key, sizeof(key), "k%zu", i);
            json_object_object_add(map, key, json_object_new_string("v"));
        }
        json_object_object_add(c->gen == GEN_LABELS ? meta : spec,
                               c->gen == GEN_LABELS ? "labels" : "selector",
                               json_object_get(map));
        break;
    case GEN_LABEL_VALUE:
    case GEN_ANNOTATION:
    case GEN_ANNOTATIONS:
        json_object_object_add(map, "big", json_object_new_string(big));
        if (c->gen == GEN_ANNOTATIONS)
            json_object_object_add(map, "big2", json_object_new_string(big));
        json_object_object_add(
            meta, c->gen == GEN_LABEL_VALUE ? "labels" : "annotations",
            json_object_get(map));
        break;
    case GEN_POD_PORTS:
    case GEN_SVC_PORTS:
        for (size_t i = 0; i < c->n; i++) {
            struct json_object *p = json_object_new_object();
            json_object_object_add(
                p, c->gen == GEN_POD_PORTS ? "containerPort" : "port",
                json_object_new_int((int)(i + 1)));
            json_object_array_add(arr, p);
        }
        if (c->gen == GEN_SVC_PORTS) {
            json_object_object_add(spec, "ports", json_object_get(arr));
            break;
        }
        struct json_object *containers = json_object_new_array();
        struct json_object *ctr = json_object_new_object();
        json_object_object_add(ctr, "ports", json_object_get(arr));
        json_object_array_add(containers, ctr);
        json_object_object_add(spec, "containers", containers);
        break;
    }
    json_object_put(map);
    json_object_put(arr);
    free(big);
    return obj;
}

Test(views, limits_are_enforced_exactly)
{
    for (size_t i = 0; i < sizeof(gen_cases) / sizeof(gen_cases[0]); i++) {
        const struct gen_case *c = &gen_cases[i];
        struct json_object *obj = generate(c);
        enum zl_err err;
        bool pod_case = c->gen == GEN_LABELS || c->gen == GEN_LABEL_VALUE ||
                        c->gen == GEN_POD_PORTS;
        if (pod_case) {
            struct views_pod *pod;
            err = views_pod_from_json(obj, &pod);
            if (err == ZL_OK && c->gen == GEN_POD_PORTS)
                cr_expect_eq(pod->port_count, c->n, "%s", c->label);
            if (err == ZL_OK && c->gen == GEN_LABELS)
                cr_expect_eq(pod->meta.labels.count, c->n, "%s", c->label);
            views_release(pod);
        } else {
            struct views_service *svc;
            err = views_service_from_json(obj, &svc);
            if (err == ZL_OK && c->gen == GEN_SVC_PORTS)
                cr_expect_eq(svc->port_count, c->n, "%s", c->label);
            views_release(svc);
            const char *text = json_object_to_json_string(obj);
            enum zl_err serr = viewscan_service(text, strlen(text), &svc);
            cr_expect_eq(serr, c->want, "%s (viewscan): got %s", c->label,
                         zl_err_str(serr));
            if (serr == ZL_OK && c->gen == GEN_SVC_PORTS)
                cr_expect_eq(svc->port_count, c->n, "%s", c->label);
            views_release(svc);
        }
        cr_expect_eq(err, c->want, "%s: got %s", c->label, zl_err_str(err));
        json_object_put(obj);
    }
}

/* Services where a scanner could part ways with json-c's tree: repeated
 * keys, escapes, nulls, number forms, every field of the wrong type. Each
 * must give the same view or the same error both ways (svc_case). */
static const char *const svc_edges[] = {
    "{}",
    "{\"metadata\":null,\"spec\":null}",
    "{\"metadata\":[],\"spec\":{}}",
    "{\"metadata\":{},\"spec\":[]}",
    "{\"metadata\":{\"name\":\"a\"},\"metadata\":{\"uid\":\"u\"}}",
    "{\"metadata\":{\"labels\":{\"a\":\"1\",\"b\":\"2\",\"a\":\"3\"}}}",
    "{\"metadata\":{\"labels\":{\"a\":5,\"a\":\"x\"}}}",
    "{\"metadata\":{\"labels\":{\"a\":\"x\",\"a\":5}}}",
    "{\"metadata\":{\"labels\":{\"a\":null}}}",
    "{\"metadata\":{\"labels\":{\"\\u0061pp\":\"w\\u00e9b\\ud83d\\ude00\"}}}",
    "{\"metadata\":{\"labels\":{\"a\\u0000b\":\"x\",\"a\":\"y\"}}}",
    "{\"metadata\":{\"labels\":{\"a\":\"x\\u0000\"}}}",
    "{\"metadata\":{\"name\":\"\\ud800\\u0041\\udc00\"}}",
    "{\"metadata\":{\"name\":\"a\\u0000\"}}",
    "{\"metadata\":{\"name\":7}}",
    "{\"metadata\":{\"creationTimestamp\":\"2024-05-01T10:00:00Z\","
    "\"deletionTimestamp\":\"2024-05-01T10:00:01.5+02:00\"}}",
    "{\"metadata\":{\"creationTimestamp\":\"yesterday\"}}",
    "{\"metadata\":{\"creationTimestamp\":5}}",
    "{\"metadata\":{\"ownerReferences\":[{\"controller\":false,"
    "\"name\":\"x\"},{\"controller\":true,\"name\":\"y\",\"uid\":\"1\"},"
    "{\"controller\":true,\"name\":\"z\"}]}}",
    "{\"metadata\":{\"ownerReferences\":[{\"controller\":true,\"name\":5}]}}",
    "{\"metadata\":{\"ownerReferences\":[{\"controller\":false,\"name\":5}]}}",
    "{\"metadata\":{\"ownerReferences\":[null]}}",
    "{\"metadata\":{\"ownerReferences\":[{\"controller\":\"yes\"}]}}",
    "{\"metadata\":{\"ownerReferences\":{}}}",
    "{\"spec\":{\"selector\":{\"app\":\"web\"},\"selector\":{}}}",
    "{\"spec\":{\"selector\":{\"app\":\"web\"},\"selector\":null}}",
    "{\"spec\":{\"type\":\"NodePort\",\"clusterIP\":\"None\"}}",
    "{\"spec\":{\"type\":\"nodeport\"}}",
    "{\"spec\":{\"type\":\"ClusterIP\\u0000x\"}}",
    "{\"spec\":{\"type\":null,\"clusterIP\":5}}",
    "{\"spec\":{\"ipFamilies\":[\"IPv6\",\"IPv4\"],\"ipFamilyPolicy\":"
    "\"PreferDualStack\"}}",
    "{\"spec\":{\"ipFamilies\":[\"IPv4\",\"IPv4\",\"IPv6\"]}}",
    "{\"spec\":{\"ipFamilies\":[null]}}",
    "{\"spec\":{\"ipFamilies\":\"IPv4\",\"clusterIP\":5}}",
    "{\"spec\":{\"ipFamilyPolicy\":5}}",
    "{\"spec\":{\"ports\":[{\"port\":80},{\"port\":81,\"targetPort\":0},"
    "{\"port\":82,\"targetPort\":\"\"},{\"port\":83,\"targetPort\":"
    "\"http\",\"protocol\":\"UDP\",\"name\":\"h\",\"appProtocol\":\"x\"},"
    "{\"port\":84,\"targetPort\":null,\"protocol\":null}]}}",
    "{\"spec\":{\"ports\":[{\"port\":80.0}]}}",
    "{\"spec\":{\"ports\":[{\"port\":8e1}]}}",
    "{\"spec\":{\"ports\":[{\"port\":-0}]}}",
    "{\"spec\":{\"ports\":[{\"port\":2147483648}]}}",
    "{\"spec\":{\"ports\":[{\"port\":-2147483648}]}}",
    "{\"spec\":{\"ports\":[{\"port\":99999999999999999999}]}}",
    "{\"spec\":{\"ports\":[{\"port\":80,\"targetPort\":true}]}}",
    "{\"spec\":{\"ports\":[{\"port\":80,\"targetPort\":8080.5}]}}",
    "{\"spec\":{\"ports\":[{\"port\":80,\"protocol\":\"tcp\"}]}}",
    "{\"spec\":{\"ports\":[{\"port\":80,\"port\":\"x\"}]}}",
    "{\"spec\":{\"ports\":[null]}}",
    "{\"spec\":{\"ports\":[]}}",
    "{\"spec\":{\"ports\":[{\"name\":\"a\\u0000\"}]}}",
    "{\"metadata\":{}} x",
    "{\"metadata\":{},}",
    "[]",
    "\"x\"",
    "",
};

Test(views, viewscan_agrees_on_edge_cases)
{
    for (size_t i = 0; i < sizeof(svc_edges) / sizeof(svc_edges[0]); i++) {
        char name[32];
        snprintf(name, sizeof(name), "edge %zu", i);
        json_object_put(svc_case(name, svc_edges[i], strlen(svc_edges[i])));
    }
    /* Nesting up to json-c's limit (JSON_MAX_DEPTH containers open) and
     * one past it, in a field neither reads. */
    for (int depth = JSON_MAX_DEPTH - 1; depth <= JSON_MAX_DEPTH + 1; depth++) {
        char text[512];
        int n = snprintf(text, sizeof(text), "{\"status\":");
        for (int i = 1; i < depth; i++)
            text[n++] = '[';
        for (int i = 1; i < depth; i++)
            text[n++] = ']';
        text[n++] = '}';
        text[n] = '\0';
        struct json_object *got = svc_case("depth", text, (size_t)n);
        bool limit = json_object_object_get_ex(got, "error", NULL);
        cr_expect_eq(limit, depth > JSON_MAX_DEPTH, "depth %d", depth);
        json_object_put(got);
    }
}

Test(views, pod_with_ten_labels_fits_in_one_kib)
{
    char json[4096];
    int n = snprintf(json, sizeof(json),
                     "{\"metadata\":{\"name\":\"web-7c9f8d6b5-x2k4p\","
                     "\"namespace\":\"production\","
                     "\"uid\":\"4b0e2a6c-3f1d-4e8a-9c7b-1a2b3c4d5e6f\","
                     "\"resourceVersion\":\"91827364\","
                     "\"creationTimestamp\":\"2024-05-01T10:00:00Z\","
                     "\"labels\":{");
    for (int i = 0; i < 10; i++)
        n += snprintf(json + n, sizeof(json) - (size_t)n,
                      "%s\"app.kubernetes.io/label-%d\":\"value-%d\"",
                      i ? "," : "", i, i);
    n += snprintf(json + n, sizeof(json) - (size_t)n,
                  "}},\"spec\":{\"nodeName\":\"worker-2\",\"containers\":[{"
                  "\"name\":\"web\",\"ports\":[{\"name\":\"http\","
                  "\"containerPort\":8080}]}]},\"status\":{\"phase\":"
                  "\"Running\",\"podIPs\":[{\"ip\":\"10.244.1.17\"},{\"ip\":"
                  "\"fd00:10:244:1::11\"}],\"conditions\":[{\"type\":"
                  "\"Ready\",\"status\":\"True\",\"lastTransitionTime\":"
                  "\"2024-05-01T10:00:07Z\"}]}}");
    struct views_pod *pod;
    cr_assert_eq(views_pod_parse(json, (size_t)n, &pod), ZL_OK);
    cr_expect_eq(pod->meta.mem, (void *)pod, "one block per view");
    size_t size = malloc_usable_size(pod->meta.mem);
    cr_log_info("a pod view with 10 labels takes %zu bytes", size);
    cr_expect_leq(size, 1024, "pod view takes %zu bytes", size);
    cr_expect_eq(pod->meta.labels.count, 10);
    cr_expect_str_eq(pod->ip[VIEWS_IPV6], "fd00:10:244:1::11");
    views_release(pod);
}

Test(views, map_get_finds_every_key_and_only_those)
{
    struct views_kv items[] = {
        {"a", "1"}, {"b", "2"}, {"c", "3"}, {"d", "4"}, {"e", "5"}};
    for (size_t n = 0; n <= 5; n++) {
        struct views_map map = {items, n};
        for (size_t i = 0; i < n; i++)
            cr_expect_str_eq(views_map_get(&map, items[i].key), items[i].value);
        cr_expect_null(views_map_get(&map, "0"));
        cr_expect_null(views_map_get(&map, "bb"));
        cr_expect_null(views_map_get(&map, "z"));
    }
}

Test(views, protocol_names_round_trip_and_are_case_sensitive)
{
    enum views_protocol p;
    cr_expect_str_eq(views_protocol_name(VIEWS_PROTO_TCP), "TCP");
    cr_expect_str_eq(views_protocol_name(VIEWS_PROTO_UDP), "UDP");
    cr_expect_str_eq(views_protocol_name(VIEWS_PROTO_SCTP), "SCTP");
    cr_expect_eq(views_protocol_parse("UDP", &p), ZL_OK);
    cr_expect_eq(p, VIEWS_PROTO_UDP);
    cr_expect_eq(views_protocol_parse("SCTP", &p), ZL_OK);
    cr_expect_eq(p, VIEWS_PROTO_SCTP);
    cr_expect_eq(views_protocol_parse("TCP", &p), ZL_OK);
    cr_expect_eq(p, VIEWS_PROTO_TCP);
    cr_expect_eq(views_protocol_parse("udp", &p), ZL_ERR_PARSE);
    cr_expect_eq(views_protocol_parse("", &p), ZL_ERR_PARSE);
    cr_expect_eq(views_protocol_parse("HTTP", &p), ZL_ERR_PARSE);
}

Test(views, from_json_rejects_non_objects)
{
    struct views_pod *pod = (void *)1;
    struct views_service *svc = (void *)1;
    struct json_object *arr = json_object_new_array();
    cr_expect_eq(views_pod_from_json(arr, &pod), ZL_ERR_PARSE);
    cr_expect_null(pod);
    cr_expect_eq(views_service_from_json(NULL, &svc), ZL_ERR_PARSE);
    cr_expect_null(svc);
    json_object_put(arr);
    void *view = (void *)1;
    cr_expect_eq(views_from_json(VIEWS_KIND_NONE, NULL, &view), ZL_ERR_INVALID);
    cr_expect_null(view);
    cr_expect_eq(views_from_json((enum views_kind)99, NULL, &view),
                 ZL_ERR_INVALID);
    views_release(NULL);
}

/* A slice of n endpoints with one address each and k addresses on the
 * first. */
static struct json_object *generate_slice(size_t n, size_t k)
{
    struct json_object *obj = json_object_new_object();
    struct json_object *list = json_object_new_array();
    for (size_t i = 0; i < n; i++) {
        struct json_object *ep = json_object_new_object();
        struct json_object *addrs = json_object_new_array();
        for (size_t j = 0; j < (i == 0 ? k : 1); j++) {
            char ip[32];
            snprintf(ip, sizeof(ip), "10.244.%zu.%zu", j, i % 250 + 1);
            json_object_array_add(addrs, json_object_new_string(ip));
        }
        json_object_object_add(ep, "addresses", addrs);
        json_object_array_add(list, ep);
    }
    json_object_object_add(obj, "endpoints", list);
    return obj;
}

Test(views, endpointslice_limits_and_address_bound)
{
    static const struct {
        size_t endpoints, addresses;
        enum zl_err want;
        size_t kept;
    } cases[] = {
        {1000, 1, ZL_OK, 1},
        {1001, 1, ZL_ERR_LIMIT, 0},
        {1, 0, ZL_OK, 0},
        {1, VIEWS_ENDPOINT_ADDRESSES, ZL_OK, VIEWS_ENDPOINT_ADDRESSES},
        {1, 100, ZL_OK, VIEWS_ENDPOINT_ADDRESSES},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct json_object *obj =
            generate_slice(cases[i].endpoints, cases[i].addresses);
        struct views_endpointslice *eps;
        enum zl_err err = views_endpointslice_from_json(obj, &eps);
        cr_expect_eq(err, cases[i].want, "case %zu: %s", i, zl_err_str(err));
        if (err == ZL_OK) {
            cr_expect_eq(eps->endpoint_count, cases[i].endpoints);
            cr_expect_eq(eps->endpoints[0].address_count, cases[i].kept);
            /* Nil conditions: ready and serving true, terminating false. */
            cr_expect(eps->endpoints[0].ready && eps->endpoints[0].serving);
            cr_expect_not(eps->endpoints[0].terminating);
            cr_expect_null(eps->service_name);
        }
        views_release(eps);
        json_object_put(obj);
    }
}

Test(views, references_keep_a_view_until_the_last_release)
{
    static const char pod_json_text[] =
        "{\"metadata\":{\"namespace\":\"a\",\"name\":\"p\"}}";
    static const char svc_json_text[] =
        "{\"metadata\":{\"namespace\":\"a\",\"name\":\"s\"}}";
    struct views_pod *pod;
    struct views_service *svc;
    struct views_endpointslice *eps;
    cr_assert_eq(
        views_pod_parse(pod_json_text, sizeof(pod_json_text) - 1, &pod), ZL_OK);
    cr_assert_eq(
        views_service_parse(svc_json_text, sizeof(svc_json_text) - 1, &svc),
        ZL_OK);
    cr_assert_eq(views_endpointslice_parse(svc_json_text,
                                           sizeof(svc_json_text) - 1, &eps),
                 ZL_OK);
    for (int i = 0; i < 3; i++) {
        views_retain(pod);
        views_retain(svc);
        views_retain(eps);
    }
    for (int i = 0; i < 3; i++) {
        views_release(pod);
        views_release(svc);
        views_release(eps);
        /* Still readable: one reference is left (valgrind checks). */
        cr_expect_str_eq(pod->meta.name, "p");
        cr_expect_str_eq(svc->meta.name, "s");
        cr_expect_str_eq(eps->meta.name, "s");
    }
    views_release(pod); /* the last reference: freed */
    views_release(svc);
    views_release(eps);
    views_retain(NULL);
    views_release(NULL);
}

/* Each kind's view is tagged with its kind, and the typed accessors see
 * only their own. */
Test(views, typed_accessors_check_the_kind)
{
    static const char text[] = "{\"metadata\":{\"namespace\":\"a\","
                               "\"name\":\"x\",\"resourceVersion\":\"7\"}}";
    struct json_object *obj = testutil_json(text);
    void *views[3];
    static const enum views_kind kinds[] = {VIEWS_KIND_POD, VIEWS_KIND_SERVICE,
                                            VIEWS_KIND_ENDPOINTSLICE};
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(views_from_json(kinds[i], obj, &views[i]), ZL_OK);
        const struct views_meta *m = views_meta_of(views[i]);
        cr_expect_eq(m->kind, kinds[i]);
        cr_expect_str_eq(m->name, "x");
        cr_expect_str_eq(m->resource_version, "7");
        cr_expect_eq(m->created_ms, VIEWS_TIME_NONE);
        cr_expect_eq((const void *)views_pod_of(views[i]),
                     i == 0 ? views[i] : NULL);
        cr_expect_eq((const void *)views_service_of(views[i]),
                     i == 1 ? views[i] : NULL);
        cr_expect_eq((const void *)views_endpointslice_of(views[i]),
                     i == 2 ? views[i] : NULL);
    }
    cr_expect_str_eq(views_pod_of(views[0])->meta.name, "x");
    cr_expect_null(views_meta_of(NULL));
    cr_expect_null(views_pod_of(NULL));
    for (int i = 0; i < 3; i++)
        views_release(views[i]);
    json_object_put(obj);
}

/* The fill pass of a parse is bounded by the block the measuring pass
 * sized: made to outgrow it by any number of bytes, the parse refuses with
 * ZL_ERR_INTERNAL, writes nothing past the block and leaks nothing
 * (ASan and valgrind check the last two). */
Test(views, a_fill_pass_that_outgrows_its_block_is_an_internal_error)
{
    static const struct {
        enum views_kind kind;
        const char *fixture;
    } cases[] = {
        {VIEWS_KIND_POD, "views/pod-running-ready.in.json"},
        {VIEWS_KIND_SERVICE, "views/svc-clusterip-realistic.in.json"},
        {VIEWS_KIND_ENDPOINTSLICE,
         "views/eps-recorded-controller-ipv4.in.json"},
    };
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        char *text = testutil_read(cases[c].fixture, NULL);
        cr_assert_not_null(text, "%s", cases[c].fixture);
        struct json_object *obj = testutil_json(text);
        void *view;
        cr_assert_eq(views_from_json(cases[c].kind, obj, &view), ZL_OK);
        size_t size = malloc_usable_size(view);
        views_release(view);
        /* Short by 1 byte up to the whole block, so that the overflow
         * hits a string, an array and the view itself in turn. */
        for (size_t short_by = 1; short_by <= size + 16; short_by += 5) {
            views_test_arena_shortfall(short_by);
            view = (void *)1;
            enum zl_err err = views_from_json(cases[c].kind, obj, &view);
            views_test_arena_shortfall(0);
            cr_assert_eq(err, ZL_ERR_INTERNAL, "%s short by %zu: %s",
                         cases[c].fixture, short_by, zl_err_str(err));
            cr_assert_null(view);
        }
        cr_expect_eq(views_from_json(cases[c].kind, obj, &view), ZL_OK);
        views_release(view);
        json_object_put(obj);
        free(text);
    }
}

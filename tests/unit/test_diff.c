/* SPDX-License-Identifier: Apache-2.0 */
/* Desired versus actual, table-driven: the desired objects are rendered by
 * common/zenlead from a source and a pod; each case edits a copy the way
 * the API server or a user would (defaults added, fields changed) and
 * checks exactly which differences are reported. */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <string.h>

#include "controller/diff.h"
#include "kube/views.h"
#include "zenlead/render.h"

static const char source_json[] =
    "{\"metadata\":{\"namespace\":\"t\",\"name\":\"web\",\"uid\":\"src-uid\","
    "\"labels\":{\"team\":\"a\"}},\"spec\":{\"selector\":{\"app\":\"web\"},"
    "\"ports\":[{\"name\":\"http\",\"port\":80,\"targetPort\":\"http\"}],"
    "\"ipFamilies\":[\"IPv4\"],\"ipFamilyPolicy\":\"SingleStack\"}}";

static const char pod_json[] =
    "{\"metadata\":{\"namespace\":\"t\",\"name\":\"web-0\",\"uid\":\"pod-uid\""
    "},\"spec\":{\"nodeName\":\"n1\",\"containers\":[{\"name\":\"c\","
    "\"ports\":[{\"name\":\"http\",\"containerPort\":8080}]}]},\"status\":{"
    "\"phase\":\"Running\",\"podIP\":\"10.244.0.2\",\"conditions\":[{"
    "\"type\":\"Ready\",\"status\":\"True\"}]}}";

static struct views_service *src;
static struct views_pod *leader;

static void setup(void)
{
    cr_assert_eq(views_service_parse(source_json, strlen(source_json), &src),
                 ZL_OK);
    cr_assert_eq(views_pod_parse(pod_json, strlen(pod_json), &leader), ZL_OK);
}

static void teardown(void)
{
    views_service_free(src);
    views_pod_free(leader);
}

TestSuite(diff, .init = setup, .fini = teardown);

static struct render_input input(const struct views_pod *pod)
{
    return (struct render_input){.source = src,
                                 .leader_name = "web-leader",
                                 .leader = pod,
                                 .endpoint_ready = pod != NULL,
                                 .last_switch_ms = 1700000000000};
}

static struct json_object *at(struct json_object *o, const char *a,
                              const char *b)
{
    struct json_object *v = NULL;
    cr_assert(json_object_object_get_ex(o, a, &v), "%s", a);
    if (b != NULL)
        cr_assert(json_object_object_get_ex(v, b, &v), "%s.%s", a, b);
    return v;
}

static void set_str(struct json_object *o, const char *k, const char *v)
{
    json_object_object_add(o, k, json_object_new_string(v));
}

/* ---- the leader Service ---- */

typedef void (*edit_fn)(struct json_object *doc);

static void svc_none(struct json_object *d)
{
    (void)d;
}
static void svc_server_defaults(struct json_object *d)
{
    struct json_object *spec = at(d, "spec", NULL);
    set_str(spec, "clusterIP", "10.96.0.10");
    set_str(spec, "sessionAffinity", "None");
    set_str(at(d, "metadata", NULL), "resourceVersion", "42");
}
static void svc_extra_label(struct json_object *d)
{
    set_str(at(d, "metadata", "labels"), "added-by-user", "x");
}
static void svc_label_changed(struct json_object *d)
{
    set_str(at(d, "metadata", "labels"), "team", "b");
}
static void svc_stale_leader_key(struct json_object *d)
{
    set_str(at(d, "metadata", "annotations"), "zen-lead.io/other", "x");
}
static void svc_leader_uid_changed(struct json_object *d)
{
    set_str(at(d, "metadata", "annotations"), "zen-lead.io/leader-pod-uid",
            "old");
}
static void svc_foreign_annotation(struct json_object *d)
{
    set_str(at(d, "metadata", "annotations"), "note", "kept");
}
static void svc_port_changed(struct json_object *d)
{
    struct json_object *p =
        json_object_array_get_idx(at(d, "spec", "ports"), 0);
    json_object_object_add(p, "port", json_object_new_int(81));
}
static void svc_selector_added(struct json_object *d)
{
    struct json_object *sel = json_object_new_object();
    set_str(sel, "app", "web");
    json_object_object_add(at(d, "spec", NULL), "selector", sel);
}
static void svc_owner_changed(struct json_object *d)
{
    struct json_object *refs = at(d, "metadata", "ownerReferences");
    set_str(json_object_array_get_idx(refs, 0), "uid", "other");
}
static void svc_type_changed(struct json_object *d)
{
    set_str(at(d, "spec", NULL), "type", "NodePort");
}

static const struct {
    const char *title;
    edit_fn edit;
    unsigned want;
} service_cases[] = {
    {"same", svc_none, DIFF_NONE},
    {"API server defaults only", svc_server_defaults, DIFF_NONE},
    {"a label someone added is left alone", svc_extra_label, DIFF_NONE},
    {"an annotation someone added is left alone", svc_foreign_annotation,
     DIFF_NONE},
    {"a label we set changed", svc_label_changed, DIFF_LABELS},
    {"a zen-lead.io key we no longer set", svc_stale_leader_key,
     DIFF_ANNOTATIONS},
    {"the leader pod uid changed", svc_leader_uid_changed, DIFF_ANNOTATIONS},
    {"a port changed", svc_port_changed, DIFF_SPEC},
    {"a selector appeared", svc_selector_added, DIFF_SPEC},
    {"the type changed", svc_type_changed, DIFF_SPEC},
    {"the owner changed", svc_owner_changed, DIFF_OWNER},
};

Test(diff, leader_service)
{
    struct render_input in = input(leader);
    for (size_t c = 0; c < sizeof(service_cases) / sizeof(*service_cases);
         c++) {
        struct json_object *want_doc = NULL, *have_doc = NULL;
        struct views_service *want = NULL, *have = NULL;
        cr_assert_eq(render_leader_service(&in, &want_doc), ZL_OK);
        cr_assert_eq(render_leader_service(&in, &have_doc), ZL_OK);
        service_cases[c].edit(have_doc);
        cr_assert_eq(views_service_from_json(want_doc, &want), ZL_OK);
        cr_assert_eq(views_service_from_json(have_doc, &have), ZL_OK);
        cr_expect_eq(diff_service(want, have), service_cases[c].want,
                     "%s: got %#x", service_cases[c].title,
                     diff_service(want, have));
        views_service_free(want);
        views_service_free(have);
        json_object_put(want_doc);
        json_object_put(have_doc);
    }
}

/* ---- the EndpointSlice ---- */

static struct json_object *endpoint0(struct json_object *d)
{
    return json_object_array_get_idx(at(d, "endpoints", NULL), 0);
}
static void eps_none(struct json_object *d)
{
    (void)d;
}
static void eps_not_ready(struct json_object *d)
{
    json_object_object_add(at(endpoint0(d), "conditions", NULL), "ready",
                           json_object_new_boolean(false));
}
static void eps_other_pod(struct json_object *d)
{
    set_str(at(endpoint0(d), "targetRef", NULL), "uid", "other-pod");
}
static void eps_address(struct json_object *d)
{
    struct json_object *a = json_object_new_array();
    json_object_array_add(a, json_object_new_string("10.244.0.9"));
    json_object_object_add(endpoint0(d), "addresses", a);
}
static void eps_two_endpoints(struct json_object *d)
{
    struct json_object *e = NULL;
    json_object_deep_copy(endpoint0(d), &e, NULL);
    json_object_array_add(at(d, "endpoints", NULL), e);
}
static void eps_empty(struct json_object *d)
{
    json_object_object_add(d, "endpoints", json_object_new_array());
}
static void eps_port(struct json_object *d)
{
    struct json_object *p = json_object_array_get_idx(at(d, "ports", NULL), 0);
    json_object_object_add(p, "port", json_object_new_int(9090));
}
static void eps_family(struct json_object *d)
{
    set_str(d, "addressType", "IPv6");
}
static void eps_label(struct json_object *d)
{
    set_str(at(d, "metadata", "labels"), "kubernetes.io/service-name", "x");
}
static void eps_owner(struct json_object *d)
{
    struct json_object *refs = at(d, "metadata", "ownerReferences");
    set_str(json_object_array_get_idx(refs, 0), "uid", "old-leader-svc");
}
static void eps_node(struct json_object *d)
{
    set_str(endpoint0(d), "nodeName", "n2");
}

static const struct {
    const char *title;
    edit_fn edit;
    unsigned want;
} slice_cases[] = {
    {"same", eps_none, DIFF_NONE},
    {"ready changed (failover-min-delay)", eps_not_ready, DIFF_ENDPOINTS},
    {"another pod", eps_other_pod, DIFF_ENDPOINTS},
    {"another address", eps_address, DIFF_ENDPOINTS},
    {"two endpoints", eps_two_endpoints, DIFF_ENDPOINTS},
    {"no endpoint", eps_empty, DIFF_ENDPOINTS},
    {"nodeName", eps_node, DIFF_ENDPOINTS},
    {"port", eps_port, DIFF_PORTS},
    {"address type", eps_family, DIFF_ADDRESS_TYPE},
    {"a label we set", eps_label, DIFF_LABELS},
    {"owner (leader Service recreated)", eps_owner, DIFF_OWNER},
};

Test(diff, endpoint_slice)
{
    struct render_input in = input(leader);
    for (size_t c = 0; c < sizeof(slice_cases) / sizeof(*slice_cases); c++) {
        struct json_object *want_doc = NULL, *have_doc = NULL;
        struct views_endpointslice *want = NULL, *have = NULL;
        cr_assert_eq(
            render_endpoint_slice(&in, "svc-uid", VIEWS_IPV4, &want_doc),
            ZL_OK);
        cr_assert_eq(
            render_endpoint_slice(&in, "svc-uid", VIEWS_IPV4, &have_doc),
            ZL_OK);
        slice_cases[c].edit(have_doc);
        cr_assert_eq(views_endpointslice_from_json(want_doc, &want), ZL_OK);
        cr_assert_eq(views_endpointslice_from_json(have_doc, &have), ZL_OK);
        cr_expect_eq(diff_slice(want, have), slice_cases[c].want, "%s: got %#x",
                     slice_cases[c].title, diff_slice(want, have));
        views_endpointslice_free(want);
        views_endpointslice_free(have);
        json_object_put(want_doc);
        json_object_put(have_doc);
    }
}

Test(diff, missing_and_no_leader)
{
    struct render_input with = input(leader), without = input(NULL);
    struct json_object *a = NULL, *b = NULL;
    struct views_endpointslice *va = NULL, *vb = NULL;
    cr_assert_eq(render_endpoint_slice(&with, "u", VIEWS_IPV4, &a), ZL_OK);
    cr_assert_eq(render_endpoint_slice(&without, "u", VIEWS_IPV4, &b), ZL_OK);
    cr_assert_eq(views_endpointslice_from_json(a, &va), ZL_OK);
    cr_assert_eq(views_endpointslice_from_json(b, &vb), ZL_OK);
    cr_expect_eq(diff_slice(va, NULL), DIFF_MISSING);
    cr_expect_eq(diff_slice(vb, va), DIFF_ENDPOINTS | DIFF_PORTS,
                 "losing the leader empties endpoints and the named port");
    cr_expect_eq(diff_service(src, NULL), DIFF_MISSING);
    views_endpointslice_free(va);
    views_endpointslice_free(vb);
    json_object_put(a);
    json_object_put(b);
}

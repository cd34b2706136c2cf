/* SPDX-License-Identifier: Apache-2.0 */
/* Rendering of the leader Service and EndpointSlices against golden JSON:
 * each tests/data/render/<case>.in.json (a source Service and leader Pod as
 * the API server returns them, plus the caller's inputs) must render to
 * <case>.service.json and <case>.slices.json exactly. */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "testutil.h"
#include "zenlead/render.h"

static struct json_object *read_json(const char *rel)
{
    char *text = testutil_read(rel, NULL);
    cr_assert_not_null(text, "missing %s", rel);
    struct json_object *obj = testutil_json(text);
    cr_assert_not_null(obj, "%s is not JSON", rel);
    free(text);
    return obj;
}

static struct json_object *get(struct json_object *obj, const char *key)
{
    struct json_object *v = NULL;
    json_object_object_get_ex(obj, key, &v);
    return v;
}

/* The caller's side of one case, with the views it owns. */
struct render_case {
    struct views_service *source;
    struct views_pod *leader;
    struct render_input in;
    const char *leader_service_uid;
    struct json_object *root;
};

static void case_load(struct render_case *c, const char *rel)
{
    struct json_object *pod, *when, *ready;

    memset(c, 0, sizeof(*c));
    c->root = read_json(rel);
    cr_assert_eq(views_service_from_json(get(c->root, "source"), &c->source),
                 ZL_OK, "%s: source", rel);
    pod = get(c->root, "leader");
    if (pod != NULL)
        cr_assert_eq(views_pod_from_json(pod, &c->leader), ZL_OK, "%s: leader",
                     rel);
    c->in.source = c->source;
    c->in.leader = c->leader;
    c->in.leader_name = json_object_get_string(get(c->root, "leaderName"));
    ready = get(c->root, "endpointReady");
    c->in.endpoint_ready = ready == NULL || json_object_get_boolean(ready);
    c->in.last_switch_ms = VIEWS_TIME_NONE;
    when = get(c->root, "lastSwitch");
    if (when != NULL)
        cr_assert_eq(clock_parse_rfc3339(json_object_get_string(when),
                                         &c->in.last_switch_ms),
                     ZL_OK);
    c->leader_service_uid =
        json_object_get_string(get(c->root, "leaderServiceUid"));
}

static void case_free(struct render_case *c)
{
    views_release(c->source);
    views_release(c->leader);
    json_object_put(c->root);
}

/* Serializes and parses back, so the apply body is what was compared. */
static struct json_object *round_trip(struct json_object *obj)
{
    char *text = NULL;
    cr_assert_eq(render_to_string(obj, &text), ZL_OK);
    struct json_object *back = testutil_json(text);
    cr_assert_not_null(back);
    free(text);
    json_object_put(obj);
    return back;
}

static struct json_object *render_slices(const struct render_case *c)
{
    enum views_ip_family families[2];
    size_t count = render_slice_families(c->source, families);
    struct json_object *slices = json_object_new_array();

    for (size_t i = 0; i < count; i++) {
        struct json_object *slice = NULL;
        cr_assert_eq(render_endpoint_slice(&c->in, c->leader_service_uid,
                                           families[i], &slice),
                     ZL_OK);
        json_object_array_add(slices, round_trip(slice));
    }
    return slices;
}

static bool run_case(const char *in_name)
{
    char rel[512], base[256];
    struct render_case c;
    struct json_object *got, *want;
    bool ok;

    snprintf(base, sizeof(base), "%.*s", (int)(strlen(in_name) - 8), in_name);
    snprintf(rel, sizeof(rel), "render/%s", in_name);
    case_load(&c, rel);

    got = NULL;
    cr_assert_eq(render_leader_service(&c.in, &got), ZL_OK, "%s", base);
    got = round_trip(got);
    snprintf(rel, sizeof(rel), "render/%s.service.json", base);
    want = read_json(rel);
    ok = testutil_json_equal(rel, got, want);
    json_object_put(got);
    json_object_put(want);

    got = render_slices(&c);
    snprintf(rel, sizeof(rel), "render/%s.slices.json", base);
    want = read_json(rel);
    ok &= testutil_json_equal(rel, got, want);
    json_object_put(got);
    json_object_put(want);
    case_free(&c);
    return ok;
}

Test(render, matches_golden_documents)
{
    char **files;
    size_t count = testutil_list("render", ".in.json", &files);
    size_t failed = 0;

    cr_assert_geq(count, 10, "render cases missing");
    for (size_t i = 0; i < count; i++) {
        bool ok = run_case(files[i]);
        cr_expect(ok, "render case %s differs", files[i]);
        failed += !ok;
    }
    fprintf(stderr, "render: %zu cases, %zu failed\n", count, failed);
    testutil_free_names(files, count);
}

/* One ownerReference, controller true and no blockOwnerDeletion (which
 * needs services/finalizers permission where the API server enforces it). */
static void expect_owner(struct json_object *doc, const char *owner_name)
{
    struct json_object *refs = get(get(doc, "metadata"), "ownerReferences");
    cr_assert_eq(json_object_array_length(refs), 1);
    struct json_object *ref = json_object_array_get_idx(refs, 0);
    cr_expect_str_eq(json_object_get_string(get(ref, "kind")), "Service");
    cr_expect_str_eq(json_object_get_string(get(ref, "name")), owner_name);
    cr_expect(json_object_get_boolean(get(ref, "controller")));
    cr_expect_null(get(ref, "blockOwnerDeletion"));
}

Test(render, owner_references_do_not_block_owner_deletion)
{
    struct render_case c;
    struct json_object *svc = NULL, *slice = NULL;

    case_load(&c, "render/dual-stack.in.json");
    cr_assert_eq(render_leader_service(&c.in, &svc), ZL_OK);
    expect_owner(svc, json_object_get_string(
                          get(get(get(c.root, "source"), "metadata"), "name")));
    for (int fam = VIEWS_IPV4; fam <= VIEWS_IPV6; fam++) {
        cr_assert_eq(render_endpoint_slice(&c.in, c.leader_service_uid,
                                           (enum views_ip_family)fam, &slice),
                     ZL_OK);
        expect_owner(slice, c.in.leader_name);
        json_object_put(slice);
    }
    json_object_put(svc);
    case_free(&c);
}

/* Never more than one endpoint, and only the family's address, whatever
 * the pod holds. */
Test(render, slice_has_at_most_one_endpoint)
{
    struct render_case c;
    struct json_object *slice = NULL, *endpoints;

    case_load(&c, "render/dual-stack.in.json");
    for (int fam = VIEWS_IPV4; fam <= VIEWS_IPV6; fam++) {
        cr_assert_eq(render_endpoint_slice(&c.in, c.leader_service_uid,
                                           (enum views_ip_family)fam, &slice),
                     ZL_OK);
        endpoints = get(slice, "endpoints");
        cr_expect_eq(json_object_array_length(endpoints), 1);
        cr_expect_eq(json_object_array_length(get(
                         json_object_array_get_idx(endpoints, 0), "addresses")),
                     1);
        json_object_put(slice);
    }
    case_free(&c);
}

Test(render, slice_needs_the_leader_service_uid)
{
    struct render_case c;
    struct json_object *obj = (struct json_object *)1;

    case_load(&c, "render/ipv4.in.json");
    cr_expect_eq(render_endpoint_slice(&c.in, NULL, VIEWS_IPV4, &obj),
                 ZL_ERR_INVALID);
    cr_expect_eq(render_endpoint_slice(&c.in, "", VIEWS_IPV4, &obj),
                 ZL_ERR_INVALID);
    c.in.leader_name = NULL;
    cr_expect_eq(render_leader_service(&c.in, &obj), ZL_ERR_INVALID);
    cr_expect_eq(render_leader_service(NULL, &obj), ZL_ERR_INVALID);
    cr_expect_eq(render_to_string(NULL, NULL), ZL_ERR_INVALID);
    case_free(&c);
}

Test(render, slice_names_per_family)
{
    char name[RENDER_MAX_SLICE_NAME];
    char longest[ANNOTATIONS_MAX_NAME + 1];

    render_slice_name("db-leader", VIEWS_IPV4, name);
    cr_expect_str_eq(name, "db-leader-ipv4");
    render_slice_name("db-leader", VIEWS_IPV6, name);
    cr_expect_str_eq(name, "db-leader-ipv6");
    memset(longest, 'a', ANNOTATIONS_MAX_NAME);
    longest[ANNOTATIONS_MAX_NAME] = '\0';
    render_slice_name(longest, VIEWS_IPV6, name);
    cr_expect_eq(strlen(name), ANNOTATIONS_MAX_NAME + 5);
    cr_expect_str_eq(name + ANNOTATIONS_MAX_NAME, "-ipv6");
}

struct copy_case {
    const char *key;
    bool label_copied;
    bool annotation_copied;
};

static const struct copy_case copy_cases[] = {
    {"app", true, true},
    {"app.kubernetes.io/name", true, true},
    {"app.kubernetes.io/instance", false, true},
    {"app.kubernetes.io/managed-by", false, true},
    {"app.kubernetes.io/part-of", false, true},
    {"app.kubernetes.io/version", false, true},
    {"argocd.argoproj.io/instance", false, false},
    {"argocd.argoproj.io/tracking-id", true, false},
    {"fluxcd.io/part-of", false, false},
    {"fluxcd.io/sync-checksum", true, false},
    {"kustomize.toolkit.fluxcd.io/name", false, false},
    {"kustomize.toolkit.fluxcd.io/checksum", false, false},
    {"zen-lead.io/enabled", true, false},
    {"zen-lead.io/current-leader", true, false},
    {"kubectl.kubernetes.io/last-applied-configuration", true, false},
    {"kubectl.kubernetes.io/restartedAt", true, true},
    {"zen-lead.io", true, true},
    {"fluxcd.io", true, true},
};

Test(render, filters_gitops_keys)
{
    for (size_t i = 0; i < sizeof(copy_cases) / sizeof(copy_cases[0]); i++) {
        const struct copy_case *c = &copy_cases[i];
        cr_expect_eq(render_label_copied(c->key), c->label_copied, "label %s",
                     c->key);
        cr_expect_eq(render_annotation_copied(c->key), c->annotation_copied,
                     "annotation %s", c->key);
    }
}

Test(render, service_never_has_selector_or_node_ports)
{
    struct render_case c;
    struct json_object *svc = NULL, *spec, *ports;

    case_load(&c, "render/loadbalancer-source.in.json");
    cr_assert_eq(render_leader_service(&c.in, &svc), ZL_OK);
    spec = get(svc, "spec");
    cr_expect_null(get(spec, "selector"));
    cr_expect_null(get(spec, "clusterIP"));
    cr_expect_str_eq(json_object_get_string(get(spec, "type")), "ClusterIP");
    ports = get(spec, "ports");
    for (size_t i = 0; i < json_object_array_length(ports); i++)
        cr_expect_null(get(json_object_array_get_idx(ports, i), "nodePort"));
    json_object_put(svc);
    case_free(&c);
}

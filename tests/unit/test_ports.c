/* SPDX-License-Identifier: Apache-2.0 */
/* Named targetPort resolution, driven by tests/data/ports/cases.json: each
 * case is a pod spec, the service ports and the number each port resolves
 * to (null: not found). */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "kube/views.h"
#include "testutil.h"
#include "zenlead/ports.h"

static struct json_object *wrap(const char *key, struct json_object *inner)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, key, json_object_get(inner));
    return o;
}

static void run_case(struct json_object *c)
{
    struct json_object *name, *spec, *sports, *want;
    cr_assert(json_object_object_get_ex(c, "name", &name));
    cr_assert(json_object_object_get_ex(c, "spec", &spec));
    cr_assert(json_object_object_get_ex(c, "servicePorts", &sports));
    cr_assert(json_object_object_get_ex(c, "want", &want));
    const char *label = json_object_get_string(name);
    struct json_object *pod_obj = wrap("spec", spec);
    struct json_object *svc_spec = wrap("ports", sports);
    struct json_object *svc_obj = wrap("spec", svc_spec);
    struct views_pod *pod;
    struct views_service *svc;
    cr_assert_eq(views_pod_from_json(pod_obj, &pod), ZL_OK, "%s", label);
    cr_assert_eq(views_service_from_json(svc_obj, &svc), ZL_OK, "%s", label);
    size_t n = json_object_array_length(want);
    cr_assert_eq(svc->port_count, n, "%s", label);

    size_t first_fail = SIZE_MAX;
    bool named = false, named_ok = true;
    for (size_t i = 0; i < n; i++) {
        struct json_object *w = json_object_array_get_idx(want, i);
        int32_t got = -1;
        enum zl_err err = ports_resolve_one(&svc->ports[i], pod, &got);
        bool is_named = svc->ports[i].target_port_name != NULL;
        named |= is_named;
        if (w == NULL) {
            cr_expect_eq(err, ZL_ERR_NOTFOUND, "%s: port %zu", label, i);
            if (first_fail == SIZE_MAX)
                first_fail = i;
            if (is_named)
                named_ok = false;
        } else {
            cr_expect_eq(err, ZL_OK, "%s: port %zu", label, i);
            cr_expect_eq(got, json_object_get_int(w), "%s: port %zu got %d",
                         label, i, got);
        }
    }
    int32_t *targets = calloc(n + 1, sizeof(*targets));
    size_t failed = SIZE_MAX;
    enum zl_err err = ports_resolve_all(svc, pod, targets, &failed);
    cr_expect_eq(err, first_fail == SIZE_MAX ? ZL_OK : ZL_ERR_NOTFOUND, "%s",
                 label);
    if (first_fail != SIZE_MAX)
        cr_expect_eq(failed, first_fail, "%s: failed index", label);
    cr_expect_eq(ports_has_named(svc), named, "%s: has named", label);
    cr_expect_eq(ports_pod_declares_all(svc, pod), named_ok, "%s: declares all",
                 label);
    free(targets);
    views_release(pod);
    views_release(svc);
    json_object_put(pod_obj);
    json_object_put(svc_obj);
    json_object_put(svc_spec);
}

Test(ports, table_cases_resolve_as_expected)
{
    char *text = testutil_read("ports/cases.json", NULL);
    cr_assert_not_null(text);
    struct json_object *cases = testutil_json(text);
    free(text);
    cr_assert_not_null(cases);
    size_t n = json_object_array_length(cases);
    cr_assert_geq(n, 15);
    for (size_t i = 0; i < n; i++)
        run_case(json_object_array_get_idx(cases, i));
    json_object_put(cases);
}

Test(ports, hand_built_views_resolve_without_json)
{
    struct views_container_port cps[] = {
        {"http", 8080, VIEWS_PROTO_TCP},
        {"http", 8081, VIEWS_PROTO_UDP},
    };
    struct views_pod pod = {.ports = cps, .port_count = 2};
    struct views_service_port sp = {.name = "",
                                    .protocol = VIEWS_PROTO_UDP,
                                    .port = 80,
                                    .target_port_name = "http"};
    int32_t out = 0;
    cr_expect_eq(ports_resolve_one(&sp, &pod, &out), ZL_OK);
    cr_expect_eq(out, 8081);
    sp.protocol = VIEWS_PROTO_SCTP;
    cr_expect_eq(ports_resolve_one(&sp, &pod, &out), ZL_ERR_NOTFOUND);
    cr_expect_eq(out, 0);
    sp.target_port_name = NULL;
    sp.target_port = 0;
    cr_expect_eq(ports_resolve_one(&sp, &pod, &out), ZL_ERR_NOTFOUND);
    sp.target_port = 65536;
    cr_expect_eq(ports_resolve_one(&sp, &pod, &out), ZL_ERR_NOTFOUND);
}

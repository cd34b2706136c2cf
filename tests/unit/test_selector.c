/* SPDX-License-Identifier: Apache-2.0 */
/* Equality selector matching, from a static table of sorted maps. */
#include <criterion/criterion.h>
#include <json-c/json.h>

#include "kube/views.h"
#include "testutil.h"
#include "zenlead/selector.h"

#define MAP(...)                                                               \
    {                                                                          \
        (struct views_kv[]){__VA_ARGS__},                                      \
            sizeof((struct views_kv[]){__VA_ARGS__}) / sizeof(struct views_kv) \
    }

static struct views_kv none[1];

static const struct {
    const char *label;
    struct views_map selector;
    struct views_map labels;
    bool want;
} cases[] = {
    {"equal single key", MAP({"app", "web"}), MAP({"app", "web"}), true},
    {"subset of labels", MAP({"app", "web"}),
     MAP({"app", "web"}, {"pod-template-hash", "abc"}, {"tier", "fe"}), true},
    {"all selector keys present", MAP({"app", "web"}, {"tier", "fe"}),
     MAP({"app", "web"}, {"hash", "1"}, {"tier", "fe"}), true},
    {"value differs", MAP({"app", "web"}), MAP({"app", "api"}), false},
    {"value differs in case", MAP({"app", "web"}), MAP({"app", "Web"}), false},
    {"key missing", MAP({"app", "web"}, {"tier", "fe"}), MAP({"app", "web"}),
     false},
    {"last key missing", MAP({"app", "web"}, {"zone", "a"}),
     MAP({"app", "web"}, {"tier", "fe"}), false},
    {"first key missing", MAP({"aaa", "1"}, {"app", "web"}),
     MAP({"app", "web"}), false},
    {"empty value matches empty value", MAP({"app", ""}), MAP({"app", ""}),
     true},
    {"empty value does not match absent key", MAP({"app", ""}),
     MAP({"other", ""}), false},
    {"value prefix is not equal", MAP({"app", "web"}), MAP({"app", "webx"}),
     false},
    {"key prefix is not equal", MAP({"app", "web"}), MAP({"appx", "web"}),
     false},
    {"empty selector matches nothing", {none, 0}, MAP({"app", "web"}), false},
    {"no labels, non-empty selector", MAP({"app", "web"}), {none, 0}, false},
    {"empty selector and no labels", {none, 0}, {none, 0}, false},
};

Test(selector, table_cases_match_as_expected)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        cr_expect_eq(selector_matches(&cases[i].selector, &cases[i].labels),
                     cases[i].want, "%s", cases[i].label);
}

Test(selector, matches_pod_views_parsed_from_json)
{
    struct views_pod *pod;
    struct views_service *svc, *bare;
    static const char pod_json[] =
        "{\"metadata\":{\"labels\":{\"tier\":\"fe\",\"app\":\"web\","
        "\"hash\":\"1\"}}}";
    static const char svc_json[] =
        "{\"spec\":{\"selector\":{\"tier\":\"fe\",\"app\":\"web\"}}}";
    static const char bare_json[] = "{\"spec\":{\"selector\":{}}}";
    cr_assert_eq(views_pod_parse(pod_json, sizeof(pod_json) - 1, &pod), ZL_OK);
    cr_assert_eq(views_service_parse(svc_json, sizeof(svc_json) - 1, &svc),
                 ZL_OK);
    cr_assert_eq(views_service_parse(bare_json, sizeof(bare_json) - 1, &bare),
                 ZL_OK);
    cr_expect(selector_matches_pod(svc, pod));
    cr_expect_not(selector_matches_pod(bare, pod));
    cr_expect_not(selector_matches(NULL, &pod->meta.labels));
    views_release(pod);
    views_release(svc);
    views_release(bare);
}

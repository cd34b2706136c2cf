/* SPDX-License-Identifier: Apache-2.0 */
/* Annotation parsing and normalization, driven by the tables in
 * tests/data/annotations/ (cases.json, normalize.json): a new case is a new
 * entry there, no C. */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/views.h"
#include "testutil.h"
#include "zenlead/annotations.h"

static struct json_object *load(const char *rel)
{
    struct json_object *obj = testutil_load_json(rel);
    cr_assert_not_null(obj, "%s", rel);
    return obj;
}

static const char *get_str(struct json_object *o, const char *key,
                           const char *dflt)
{
    struct json_object *v;
    if (!json_object_object_get_ex(o, key, &v) || v == NULL)
        return dflt;
    return json_object_get_string(v);
}

static int64_t get_int(struct json_object *o, const char *key, int64_t dflt)
{
    struct json_object *v;
    if (!json_object_object_get_ex(o, key, &v) || v == NULL)
        return dflt;
    return json_object_get_int64(v);
}

static bool get_bool(struct json_object *o, const char *key, bool dflt)
{
    struct json_object *v;
    if (!json_object_object_get_ex(o, key, &v) || v == NULL)
        return dflt;
    return json_object_get_boolean(v);
}

/* Builds the Service of case c, with annotations ann, the way the
 * controller gets it: through a view. A case without "spec" gets one an
 * enabled Service may have (a selector and one port). */
static struct views_service *
service_of(struct json_object *c, struct json_object *ann, const char *name)
{
    struct json_object *spec = NULL;
    struct json_object *svc = json_object_new_object();
    struct json_object *meta = json_object_new_object();
    json_object_object_add(meta, "name", json_object_new_string(name));
    json_object_object_add(meta, "annotations", json_object_get(ann));
    json_object_object_add(svc, "metadata", meta);
    if (json_object_object_get_ex(c, "spec", &spec))
        json_object_object_add(svc, "spec", json_object_get(spec));
    else
        json_object_object_add(
            svc, "spec",
            testutil_json("{\"selector\":{\"app\":\"web\"},"
                          "\"ports\":[{\"port\":80,\"protocol\":\"TCP\"}]}"));
    struct views_service *view;
    cr_assert_eq(views_service_from_json(svc, &view), ZL_OK, "%s", name);
    json_object_put(svc);
    return view;
}

static bool one_sentence(const char *s)
{
    size_t n = strlen(s);
    return n > 1 && (s[n - 1] == '.' || s[n - 1] == '?') &&
           strchr(s, '\n') == NULL;
}

static void check_problems(const char *name, struct json_object *want,
                           const struct annotations_result *r)
{
    size_t n = json_object_array_length(want);
    cr_expect_eq(r->problem_count, n, "%s: %zu problems, want %zu", name,
                 r->problem_count, n);
    for (size_t i = 0; i < n && i < r->problem_count; i++) {
        struct json_object *w = json_object_array_get_idx(want, i);
        const struct annotations_problem *p = &r->problems[i];
        const char *sev =
            p->severity == ANNOTATIONS_ERROR ? "error" : "warning";
        cr_expect_str_eq(p->key, get_str(w, "key", ""), "%s", name);
        cr_expect_str_eq(sev, get_str(w, "severity", ""), "%s", name);
        cr_expect_str_eq(p->event_reason, get_str(w, "reason", ""), "%s", name);
        cr_expect_not_null(strstr(p->message, get_str(w, "messageHas", "")),
                           "%s: message \"%s\" lacks \"%s\"", name, p->message,
                           get_str(w, "messageHas", ""));
        cr_expect(one_sentence(p->message), "%s: %s", name, p->message);
        cr_expect(one_sentence(p->fix), "%s: %s", name, p->fix);
    }
    for (size_t i = n; i < r->problem_count; i++)
        cr_log_error("%s: extra problem %s: %s", name, r->problems[i].key,
                     r->problems[i].message);
}

static void run_case(struct json_object *c)
{
    const char *name = get_str(c, "name", "?");
    const char *service = get_str(c, "service", "web");
    struct json_object *ann, *problems;
    char dflt_name[128];
    cr_assert(json_object_object_get_ex(c, "annotations", &ann), "%s", name);
    cr_assert(json_object_object_get_ex(c, "problems", &problems), "%s", name);
    snprintf(dflt_name, sizeof(dflt_name), "%s-leader", service);
    struct views_service *svc = service_of(c, ann, service);
    struct annotations_result r;
    cr_assert_eq(annotations_check_service(svc, &r), ZL_OK, "%s", name);
    const struct annotations_settings *s = &r.settings;
    cr_expect_eq(s->enabled, get_bool(c, "enabled", false), "%s: enabled",
                 name);
    cr_expect_eq(s->sticky, get_bool(c, "sticky", true), "%s: sticky", name);
    cr_expect_str_eq(s->leader_name, get_str(c, "leaderName", dflt_name),
                     "%s: leader name", name);
    cr_expect_eq(s->min_ready_ms, get_int(c, "minReadyMs", 0),
                 "%s: min ready %lld", name, (long long)s->min_ready_ms);
    cr_expect_eq(s->failover_min_delay_ms, get_int(c, "failoverMinDelayMs", 0),
                 "%s: failover delay %lld", name,
                 (long long)s->failover_min_delay_ms);
    check_problems(name, problems, &r);
    bool has_error = false;
    for (size_t i = 0; i < json_object_array_length(problems); i++)
        has_error |= strcmp(get_str(json_object_array_get_idx(problems, i),
                                    "severity", ""),
                            "error") == 0;
    cr_expect_eq(annotations_has_errors(&r), has_error, "%s", name);
    annotations_result_cleanup(&r);
    views_release(svc);
}

Test(annotations, table_cases_parse_as_expected)
{
    struct json_object *cases = load("annotations/cases.json");
    size_t n = json_object_array_length(cases);
    cr_assert_geq(n, 30);
    for (size_t i = 0; i < n; i++)
        run_case(json_object_array_get_idx(cases, i));
    json_object_put(cases);
}

Test(annotations, normalize_table)
{
    struct json_object *cases = load("annotations/normalize.json");
    size_t n = json_object_array_length(cases);
    cr_assert_geq(n, 15);
    for (size_t i = 0; i < n; i++) {
        struct json_object *c = json_object_array_get_idx(cases, i);
        const char *key = get_str(c, "key", "");
        const char *value = get_str(c, "value", "");
        const char *want = get_str(c, "out", NULL);
        char *out = (char *)1;
        cr_assert_eq(annotations_normalize(key, value, &out), ZL_OK);
        if (want == NULL)
            cr_expect_null(out, "%s=\"%s\" should be canonical", key, value);
        else
            cr_expect(out != NULL && strcmp(out, want) == 0,
                      "%s=\"%s\": got \"%s\", want \"%s\"", key, value,
                      out ? out : "(null)", want);
        /* Idempotent: the canonical form normalizes to nothing. */
        if (out != NULL) {
            char *again = (char *)1;
            cr_expect_eq(annotations_normalize(key, out, &again), ZL_OK);
            cr_expect_null(again, "%s: not idempotent", key);
            free(again);
        }
        free(out);
    }
    json_object_put(cases);
}

static bool same_settings(const struct annotations_settings *x,
                          const struct annotations_settings *y)
{
    return x->enabled == y->enabled && x->sticky == y->sticky &&
           strcmp(x->leader_name, y->leader_name) == 0 &&
           x->min_ready_ms == y->min_ready_ms &&
           x->failover_min_delay_ms == y->failover_min_delay_ms;
}

Test(annotations, parse_equals_parse_of_normalized_values)
{
    /* The controller without the webhook must decide as with it. */
    struct json_object *cases = load("annotations/cases.json");
    for (size_t i = 0; i < json_object_array_length(cases); i++) {
        struct json_object *c = json_object_array_get_idx(cases, i);
        struct json_object *ann, *norm = json_object_new_object();
        json_object_object_get_ex(c, "annotations", &ann);
        json_object_object_foreach(ann, k, v)
        {
            char *out;
            cr_assert_eq(
                annotations_normalize(k, json_object_get_string(v), &out),
                ZL_OK);
            json_object_object_add(
                norm, k,
                json_object_new_string(out ? out : json_object_get_string(v)));
            free(out);
        }
        const char *service = get_str(c, "service", "web");
        struct views_service *a = service_of(c, ann, service);
        struct views_service *b = service_of(c, norm, service);
        struct annotations_result ra, rb;
        cr_assert_eq(annotations_check_service(a, &ra), ZL_OK);
        cr_assert_eq(annotations_check_service(b, &rb), ZL_OK);
        cr_expect(same_settings(&ra.settings, &rb.settings), "%s",
                  get_str(c, "name", "?"));
        cr_expect_eq(ra.problem_count, rb.problem_count, "%s",
                     get_str(c, "name", "?"));
        annotations_result_cleanup(&ra);
        annotations_result_cleanup(&rb);
        views_release(a);
        views_release(b);
        json_object_put(norm);
    }
    json_object_put(cases);
}

Test(annotations, controller_keys_are_exactly_the_four)
{
    cr_expect(annotations_is_controller_key(ANNOTATIONS_CURRENT_LEADER));
    cr_expect(annotations_is_controller_key(ANNOTATIONS_LEADER_POD_NAME));
    cr_expect(annotations_is_controller_key(ANNOTATIONS_LEADER_POD_UID));
    cr_expect(annotations_is_controller_key(ANNOTATIONS_LAST_SWITCH));
    cr_expect_not(annotations_is_controller_key(ANNOTATIONS_ENABLED));
    cr_expect_not(annotations_is_controller_key(ANNOTATIONS_LEADER_NAME));
    cr_expect_not(annotations_is_controller_key("zen-lead.io/current"));
    cr_expect_not(annotations_is_controller_key(""));
}

Test(annotations, null_map_and_name_give_defaults)
{
    struct annotations_result r;
    cr_assert_eq(annotations_parse(NULL, NULL, &r), ZL_OK);
    cr_expect_not(r.settings.enabled);
    cr_expect(r.settings.sticky);
    cr_expect_str_eq(r.settings.leader_name, "");
    cr_expect_eq(r.problem_count, 0);
    cr_expect_not(annotations_has_errors(&r));
    annotations_result_cleanup(&r);
    annotations_result_cleanup(NULL);
}

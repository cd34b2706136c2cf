/* SPDX-License-Identifier: Apache-2.0 */
/* The webhook's rules, driven by tests/data/admission/admit.json: each case
 * takes a recorded-shape AdmissionReview (review-*.json), overrides a few
 * fields, and names the pods and Services the lookups hold (objects.json).
 * The lookups are a stand-in for the daemon's cache, backed by views parsed
 * from those fixtures. Every decision is also encoded as the answer the API
 * server would get. */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "kube/views.h"
#include "testutil.h"
#include "webhook/admit.h"
#include "webhook/review.h"
#include "zenlead/selector.h"

#define CONTROLLER "system:serviceaccount:zen-lead-system:zen-lead-controller"
#define MAX_OBJECTS 16

static struct json_object *load(const char *rel)
{
    struct json_object *obj = testutil_load_json(rel);
    cr_assert_not_null(obj, "%s", rel);
    return obj;
}

static struct json_object *get(struct json_object *o, const char *key)
{
    struct json_object *v = NULL;
    if (o == NULL || !json_object_object_get_ex(o, key, &v))
        return NULL;
    return v;
}

static const char *get_str(struct json_object *o, const char *key,
                           const char *dflt)
{
    struct json_object *v = get(o, key);
    return v != NULL ? json_object_get_string(v) : dflt;
}

/* ---- the lookups: views from objects.json ------------------------------ */

struct fake {
    struct views_pod *pods[MAX_OBJECTS];
    size_t pod_count;
    struct views_service *svcs[MAX_OBJECTS];
    size_t svc_count;
    enum zl_err pods_err, svcs_err;
    size_t pods_calls, svcs_calls;
};

static enum zl_err fake_pods(void *ctx, const char *ns,
                             const struct views_map *selector,
                             struct views_pod ***out, size_t *count)
{
    struct fake *f = ctx;
    f->pods_calls++;
    *out = NULL;
    *count = 0;
    if (f->pods_err != ZL_OK)
        return f->pods_err;
    *out = calloc(MAX_OBJECTS, sizeof(**out));
    cr_assert_not_null(*out);
    for (size_t i = 0; i < f->pod_count; i++) {
        struct views_pod *p = f->pods[i];
        if (strcmp(p->meta.namespace_name, ns) == 0 &&
            selector_matches(selector, &p->meta.labels)) {
            views_retain(p);
            (*out)[(*count)++] = p;
        }
    }
    return ZL_OK;
}

static enum zl_err fake_services(void *ctx, const char *ns,
                                 struct views_service ***out, size_t *count)
{
    struct fake *f = ctx;
    f->svcs_calls++;
    *out = NULL;
    *count = 0;
    if (f->svcs_err != ZL_OK)
        return f->svcs_err;
    *out = calloc(MAX_OBJECTS, sizeof(**out));
    cr_assert_not_null(*out);
    for (size_t i = 0; i < f->svc_count; i++) {
        if (strcmp(f->svcs[i]->meta.namespace_name, ns) == 0) {
            views_retain(f->svcs[i]);
            (*out)[(*count)++] = f->svcs[i];
        }
    }
    return ZL_OK;
}

static enum zl_err err_named(const char *name)
{
    if (name == NULL)
        return ZL_OK;
    if (strcmp(name, "TIMEOUT") == 0)
        return ZL_ERR_TIMEOUT;
    if (strcmp(name, "TRANSIENT") == 0)
        return ZL_ERR_TRANSIENT;
    cr_assert_str_eq(name, "IO");
    return ZL_ERR_IO;
}

static void fake_fill(struct fake *f, struct json_object *c,
                      struct json_object *objects)
{
    memset(f, 0, sizeof(*f));
    struct json_object *names = get(c, "pods");
    for (size_t i = 0; names != NULL && i < json_object_array_length(names);
         i++) {
        const char *n =
            json_object_get_string(json_object_array_get_idx(names, i));
        struct json_object *o = get(get(objects, "pods"), n);
        cr_assert_not_null(o, "no pod fixture %s", n);
        cr_assert_eq(views_pod_from_json(o, &f->pods[f->pod_count++]), ZL_OK);
    }
    names = get(c, "services");
    for (size_t i = 0; names != NULL && i < json_object_array_length(names);
         i++) {
        const char *n =
            json_object_get_string(json_object_array_get_idx(names, i));
        struct json_object *o = get(get(objects, "services"), n);
        cr_assert_not_null(o, "no service fixture %s", n);
        cr_assert_eq(views_service_from_json(o, &f->svcs[f->svc_count++]),
                     ZL_OK);
    }
    f->pods_err = err_named(get_str(c, "podsError", NULL));
    f->svcs_err = err_named(get_str(c, "servicesError", NULL));
}

static void fake_cleanup(struct fake *f)
{
    for (size_t i = 0; i < f->pod_count; i++)
        views_release(f->pods[i]);
    for (size_t i = 0; i < f->svc_count; i++)
        views_release(f->svcs[i]);
}

/* ---- building the review of a case ------------------------------------- */

static void set(struct json_object *o, const char *key, struct json_object *v)
{
    json_object_object_add(o, key, v != NULL ? json_object_get(v) : NULL);
}

static struct json_object *copy(struct json_object *o)
{
    struct json_object *dst = NULL;
    cr_assert_eq(json_object_deep_copy(o, &dst, NULL), 0);
    return dst;
}

/* Applies the case's overrides to the object in request.object. */
static void shape_object(struct json_object *c, struct json_object *req)
{
    struct json_object *obj = get(req, "object");
    struct json_object *meta = get(obj, "metadata");
    if (get(c, "annotations") != NULL)
        set(meta, "annotations", get(c, "annotations"));
    if (get(c, "labels") != NULL)
        set(meta, "labels", get(c, "labels"));
    if (get(c, "spec") != NULL)
        set(obj, "spec", get(c, "spec"));
    if (get(c, "deletionTimestamp") != NULL)
        set(meta, "deletionTimestamp", get(c, "deletionTimestamp"));
    if (get(c, "objectName") != NULL) {
        set(meta, "name", get(c, "objectName"));
        set(req, "name", get(c, "objectName"));
    }
}

static char *review_text(struct json_object *c)
{
    char rel[256];
    if (get(c, "file") != NULL) {
        /* a recorded review, as the API server sent it */
        snprintf(rel, sizeof(rel), "admission/recorded/%s",
                 get_str(c, "file", ""));
        char *text = testutil_read(rel, NULL);
        cr_assert_not_null(text);
        return text;
    }
    snprintf(rel, sizeof(rel), "admission/%s",
             get_str(c, "base", "review-service-create.json"));
    struct json_object *root = load(rel);
    struct json_object *req = get(root, "request");
    if (get(req, "object") != NULL)
        shape_object(c, req);
    if (get(c, "old") != NULL) {
        struct json_object *old = copy(get(req, "object"));
        if (get(c, "oldLabels") != NULL)
            set(get(old, "metadata"), "labels", get(c, "oldLabels"));
        json_object_object_add(req, "oldObject", old);
    }
    if (get(c, "dropObject") != NULL)
        json_object_object_add(req, "object", NULL);
    const char *fields[] = {"operation", "dryRun", "kind", "subResource"};
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        if (get(c, fields[i]) != NULL)
            set(req, fields[i], get(c, fields[i]));
    if (get(c, "username") != NULL)
        set(get(req, "userInfo"), "username", get(c, "username"));
    char *text =
        strdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN));
    json_object_put(root);
    return text;
}

static void config_of(struct json_object *c, struct admit_config *cfg)
{
    struct json_object *o = get(c, "config");
    cfg->controller_username = get_str(o, "controller", CONTROLLER);
    cfg->named_port_policy =
        strcmp(get_str(o, "namedPorts", "reject"), "warn") == 0
            ? ADMIT_NAMED_PORT_WARN
            : ADMIT_NAMED_PORT_REJECT;
    cfg->lookup_failure_policy =
        strcmp(get_str(o, "lookupFailure", "allow"), "deny") == 0
            ? ADMIT_LOOKUP_DENY
            : ADMIT_LOOKUP_ALLOW;
}

/* ---- checking a decision ------------------------------------------------ */

static bool any_warning_has(const struct admit_decision *d, const char *s)
{
    for (size_t i = 0; i < d->warning_count; i++)
        if (strstr(d->warnings[i], s) != NULL)
            return true;
    return false;
}

static void check_patch(const char *name, struct json_object *want,
                        const struct admit_decision *d)
{
    size_t len;
    const char *text = patch_text(&d->patch, &len);
    if (json_object_array_length(want) == 0) {
        cr_assert_eq(len, 0, "%s: unexpected patch %s", name, text);
        return;
    }
    struct json_object *got = testutil_json(text);
    cr_assert_not_null(got, "%s: patch is not JSON: %s", name, text);
    cr_assert(testutil_json_equal(name, want, got), "%s: patch differs", name);
    json_object_put(got);
}

static void check_decision(const char *name, struct json_object *want,
                           const struct admit_decision *d)
{
    bool allowed = json_object_get_boolean(get(want, "allowed"));
    cr_assert_eq(d->allowed, allowed, "%s: allowed %d (%s)", name, d->allowed,
                 d->message != NULL ? d->message : "no message");
    cr_assert_eq(d->code, json_object_get_int(get(want, "code")), "%s: code %d",
                 name, d->code);
    cr_assert_str_eq(d->rule, get_str(want, "rule", ""), "%s: rule", name);
    if (!allowed) {
        const char *has = get_str(want, "messageHas", "");
        size_t n = strlen(d->message);
        cr_assert(strstr(d->message, has) != NULL, "%s: message \"%s\"", name,
                  d->message);
        cr_assert(n > 0 && d->message[n - 1] == '.' &&
                      strstr(d->message, ". ") == NULL &&
                      strchr(d->message, '\n') == NULL &&
                      strstr(d->message, "the default (") == NULL,
                  "%s: not one sentence: \"%s\"", name, d->message);
    } else {
        cr_assert_null(d->message, "%s", name);
    }
    struct json_object *has = get(want, "warningHas");
    for (size_t i = 0; has != NULL && i < json_object_array_length(has); i++) {
        const char *s =
            json_object_get_string(json_object_array_get_idx(has, i));
        cr_assert(any_warning_has(d, s), "%s: no warning has \"%s\" (%zu)",
                  name, s, d->warning_count);
    }
    if (get(want, "warnings") != NULL)
        cr_assert_eq(d->warning_count,
                     (size_t)json_object_get_int(get(want, "warnings")),
                     "%s: %zu warnings, first: %s", name, d->warning_count,
                     d->warning_count > 0 ? d->warnings[0] : "");
    if (get(want, "patch") != NULL)
        check_patch(name, get(want, "patch"), d);
}

/* The answer the daemon sends for this decision parses back as a review
 * with the same uid and decision, a patch only from mutation, and the
 * auditAnnotations naming the uid and the rule hit. */
static void check_answer(const char *name, const struct review_request *req,
                         const struct admit_decision *d, enum admit_hook hook)
{
    struct buf out;
    size_t patch_len;
    patch_text(&d->patch, &patch_len);
    buf_init(&out, 1 << 20);
    cr_assert_eq(admit_encode(req, d, &out), ZL_OK, "%s", name);
    struct json_object *got = testutil_json(out.data);
    cr_assert_not_null(got, "%s: %s", name, out.data);
    struct json_object *r = get(got, "response");
    cr_assert_str_eq(get_str(r, "uid", ""), req->uid);
    cr_assert_eq(json_object_get_boolean(get(r, "allowed")), d->allowed);
    cr_assert_eq(get(r, "patch") != NULL, hook == ADMIT_MUTATE && patch_len > 0,
                 "%s", name);
    struct json_object *ann = get(r, "auditAnnotations");
    cr_assert_str_eq(get_str(ann, "request-uid", ""), req->uid, "%s", name);
    cr_assert_str_eq(get_str(ann, "rule", ""), d->rule, "%s", name);
    json_object_put(got);
    buf_cleanup(&out);
}

static void run_case(struct json_object *c, struct json_object *objects)
{
    const char *name = get_str(c, "name", get_str(c, "file", "?"));
    enum admit_hook hook = strcmp(get_str(c, "hook", "validate"), "mutate") == 0
                               ? ADMIT_MUTATE
                               : ADMIT_VALIDATE;
    struct fake f;
    struct admit_config cfg;
    struct review_request req;
    struct admit_decision d;
    char why[REVIEW_WHY_MAX];
    fake_fill(&f, c, objects);
    config_of(c, &cfg);
    struct admit_lookups lk = {&f, fake_pods, fake_services};
    char *text = review_text(c);
    cr_assert_eq(review_decode(text, strlen(text), &req, why), ZL_OK, "%s: %s",
                 name, why);
    cr_assert_eq(admit_decide(hook, &req, &cfg, &lk, &d), ZL_OK, "%s", name);
    check_decision(name, get(c, "expect"), &d);
    if (get(c, "dryRun") != NULL)
        cr_assert(req.dry_run, "%s: not a dry run", name);
    check_answer(name, &req, &d, hook);
    admit_decision_cleanup(&d);
    review_cleanup(&req);
    free(text);
    fake_cleanup(&f);
}

Test(admit, decides_every_case_of_the_table)
{
    struct json_object *cases = load("admission/admit.json");
    struct json_object *objects = load("admission/objects.json");
    size_t n = json_object_array_length(cases);
    cr_assert_gt(n, 50);
    for (size_t i = 0; i < n; i++)
        run_case(json_object_array_get_idx(cases, i), objects);
    json_object_put(cases);
    json_object_put(objects);
}

Test(admit, decides_the_reviews_the_api_server_sent)
{
    struct json_object *cases = load("admission/recorded.json");
    struct json_object *objects = load("admission/objects.json");
    size_t n = json_object_array_length(cases);
    cr_assert_gt(n, 15);
    for (size_t i = 0; i < n; i++)
        run_case(json_object_array_get_idx(cases, i), objects);
    json_object_put(cases);
    json_object_put(objects);
}

Test(admit, asks_no_lookup_for_a_source_not_opted_in)
{
    struct json_object *c =
        testutil_json("{\"annotations\":{\"zen-lead.io/enabled\":\"false\"},"
                      "\"pods\":[\"web-0\"],\"services\":[\"db\"]}");
    struct json_object *objects = load("admission/objects.json");
    struct fake f;
    struct admit_config cfg;
    struct review_request req;
    struct admit_decision d;
    char why[REVIEW_WHY_MAX];
    fake_fill(&f, c, objects);
    config_of(c, &cfg);
    struct admit_lookups lk = {&f, fake_pods, fake_services};
    char *text = review_text(c);
    cr_assert_eq(review_decode(text, strlen(text), &req, why), ZL_OK);
    cr_assert_eq(admit_decide(ADMIT_VALIDATE, &req, &cfg, &lk, &d), ZL_OK);
    cr_assert(d.allowed);
    cr_assert_eq(f.pods_calls + f.svcs_calls, 0);
    admit_decision_cleanup(&d);
    review_cleanup(&req);
    free(text);
    fake_cleanup(&f);
    json_object_put(c);
    json_object_put(objects);
}

Test(admit, counts_missing_lookups_as_a_failed_lookup)
{
    struct json_object *c = testutil_json("{}");
    struct admit_config cfg = {CONTROLLER, ADMIT_NAMED_PORT_REJECT,
                               ADMIT_LOOKUP_DENY};
    struct review_request req;
    struct admit_decision d;
    char why[REVIEW_WHY_MAX];
    char *text = review_text(c);
    cr_assert_eq(review_decode(text, strlen(text), &req, why), ZL_OK);
    cr_assert_eq(admit_decide(ADMIT_VALIDATE, &req, &cfg, NULL, &d), ZL_OK);
    cr_assert_not(d.allowed);
    cr_assert_eq(d.code, ADMIT_CODE_UNAVAILABLE);
    cr_assert_str_eq(d.rule, "V3");
    admit_decision_cleanup(&d);
    cr_assert_eq(admit_decide(ADMIT_MUTATE, &req, &cfg, NULL, &d), ZL_OK);
    cr_assert(d.allowed);
    admit_decision_cleanup(&d);
    review_cleanup(&req);
    free(text);
    json_object_put(c);
}

Test(admit, refuses_null_arguments)
{
    struct admit_decision d;
    struct admit_config cfg = {CONTROLLER, ADMIT_NAMED_PORT_REJECT,
                               ADMIT_LOOKUP_ALLOW};
    cr_assert_eq(admit_decide(ADMIT_VALIDATE, NULL, &cfg, NULL, &d),
                 ZL_ERR_INVALID);
    admit_decision_cleanup(&d);
    cr_assert_eq(admit_decide(ADMIT_VALIDATE, NULL, &cfg, NULL, NULL),
                 ZL_ERR_INVALID);
    admit_decision_cleanup(NULL);
    cr_assert_str_eq(admit_hook_name(ADMIT_MUTATE), "mutate");
    cr_assert_str_eq(admit_hook_name(ADMIT_VALIDATE), "validate");
}

/* SPDX-License-Identifier: Apache-2.0 */
/* The webhook's HTTP handlers on AdmissionReviews recorded from the real
 * API server: the answer (status, apiVersion, kind, uid, allowed, patch),
 * the audit line written for each decision, the request metrics, and the
 * refusals of bodies that are not a review. */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "webhook/handler.h"

struct fx {
    char path[64];
    struct auditlog *audit;
    struct whmetrics *metrics;
    struct admit_config cfg;
    struct handler_deps deps;
};

static void fx_init(struct fx *f)
{
    snprintf(f->path, sizeof(f->path), "/tmp/zl-handler-XXXXXX");
    int fd = mkstemp(f->path);
    cr_assert(fd >= 0);
    close(fd);
    cr_assert_eq(auditlog_open(f->path, &f->audit), ZL_OK);
    cr_assert_eq(whmetrics_new("0.0.0", "test", &f->metrics), ZL_OK);
    f->cfg = (struct admit_config){
        .controller_username =
            "system:serviceaccount:zen-lead-system:zen-lead-controller"};
    /* No lookups: V3/V4 count as a failed lookup, allowed with a warning
     * under the default policy. */
    f->deps = (struct handler_deps){
        .cfg = &f->cfg, .audit = f->audit, .metrics = f->metrics};
}

static void fx_cleanup(struct fx *f)
{
    auditlog_close(f->audit);
    whmetrics_free(f->metrics);
    unlink(f->path);
}

/* Runs fn on body with content type ct, as on the server's I/O thread when
 * inline_run; resp must be cleaned up. */
static void call_as(serve_handler_fn fn, struct fx *f, const char *ct,
                    const char *body, bool inline_run,
                    struct serve_response *resp)
{
    struct serve_request req = {.method = "POST",
                                .path = "/validate",
                                .body = body,
                                .body_len = strlen(body),
                                .content_type = ct,
                                .inline_run = inline_run};
    *resp = (struct serve_response){.status = 200,
                                    .content_type = SERVE_DEFAULT_CONTENT_TYPE};
    buf_init(&resp->body, (size_t)1 << 20);
    fn(&f->deps, &req, resp);
}

static void call(serve_handler_fn fn, struct fx *f, const char *ct,
                 const char *body, struct serve_response *resp)
{
    call_as(fn, f, ct, body, false, resp);
}

static char *audit_text(const struct fx *f)
{
    FILE *fp = fopen(f->path, "r");
    cr_assert_not_null(fp);
    static char text[1 << 16];
    size_t n = fread(text, 1, sizeof(text) - 1, fp);
    text[n] = '\0';
    fclose(fp);
    return text;
}

static double metric(struct fx *f, const char *series)
{
    struct buf out;
    buf_init(&out, (size_t)1 << 20);
    cr_assert_eq(whmetrics_render(f->metrics, &out), ZL_OK);
    const char *at = strstr(out.data, series);
    double v = at != NULL ? strtod(at + strlen(series), NULL) : -1;
    buf_cleanup(&out);
    return v;
}

static const char *get(struct json_object *o, const char *a, const char *b)
{
    struct json_object *x, *y;
    if (!json_object_object_get_ex(o, a, &x))
        return NULL;
    if (b == NULL)
        return json_object_get_string(x);
    return json_object_object_get_ex(x, b, &y) ? json_object_get_string(y)
                                               : NULL;
}

struct case_row {
    const char *file; /* under tests/data/admission/recorded/ */
    bool mutate;
    const char *allowed; /* "true" / "false" */
    bool patch;
};

static const struct case_row rows[] = {
    {"validate-create-source.json", false, "true", false},
    {"mutate-create-source-spaced-true.json", true, "true", true},
    {"validate-update-leader-label-by-user.json", false, "false", false},
    {"validate-gc-delete-leader.json", false, "true", false},
    {"validate-create-dry-run-plain.json", false, "true", false},
};

Test(handler, recorded_reviews_get_an_answer_an_audit_line_and_metrics)
{
    for (size_t i = 0; i < sizeof(rows) / sizeof(*rows); i++) {
        struct fx f;
        fx_init(&f);
        char rel[256];
        snprintf(rel, sizeof(rel), "admission/recorded/%s", rows[i].file);
        char *body = testutil_read(rel, NULL);
        cr_assert_not_null(body, "%s", rel);
        struct json_object *in = testutil_json(body);
        struct serve_response resp;
        call(rows[i].mutate ? handler_mutate : handler_validate, &f,
             "application/json; charset=utf-8", body, &resp);
        cr_assert_eq(resp.status, 200, "%s: %d %s", rel, resp.status,
                     resp.body.data);
        struct json_object *out = testutil_json(resp.body.data);
        cr_assert_not_null(out, "%s", rel);
        cr_expect_str_eq(get(out, "apiVersion", NULL), "admission.k8s.io/v1");
        cr_expect_str_eq(get(out, "kind", NULL), "AdmissionReview");
        const char *uid = get(in, "request", "uid");
        cr_expect_str_eq(get(out, "response", "uid"), uid, "%s", rel);
        cr_expect_str_eq(get(out, "response", "allowed"), rows[i].allowed, "%s",
                         rel);
        cr_expect_eq(get(out, "response", "patch") != NULL, rows[i].patch, "%s",
                     rel);
        /* One audit line, for this uid. */
        char *audit = audit_text(&f);
        cr_expect_not_null(strstr(audit, uid), "%s: %s", rel, audit);
        cr_expect_eq(strchr(audit, '\n'), audit + strlen(audit) - 1, "%s", rel);
        char series[160];
        snprintf(series, sizeof(series),
                 "zen_lead_webhook_requests_total{webhook=\"%s\",",
                 rows[i].mutate ? "mutate" : "validate");
        cr_expect_gt(metric(&f, series), -1, "%s", rel);
        json_object_put(out);
        json_object_put(in);
        buf_cleanup(&resp.body);
        free(body);
        fx_cleanup(&f);
    }
}

struct bad_row {
    const char *content_type;
    const char *body;
    int status;
};

static const struct bad_row bad_rows[] = {
    {"text/plain", "{}", 415},
    {NULL, "{}", 415},
    {"application/jsonx", "{}", 415},
    {"application/json", "", 400},
    {"application/json", "[1,2", 400},
    {"application/json",
     "{\"apiVersion\":\"admission.k8s.io/v1beta1\","
     "\"kind\":\"AdmissionReview\",\"request\":{}}",
     400},
    {"application/json",
     "{\"apiVersion\":\"admission.k8s.io/v1\","
     "\"kind\":\"AdmissionReview\"}",
     400},
};

Test(handler, bodies_that_are_not_a_review_are_refused_without_audit)
{
    for (size_t i = 0; i < sizeof(bad_rows) / sizeof(*bad_rows); i++) {
        struct fx f;
        fx_init(&f);
        struct serve_response resp;
        call(handler_validate, &f, bad_rows[i].content_type, bad_rows[i].body,
             &resp);
        cr_expect_eq(resp.status, bad_rows[i].status, "row %zu: %d %s", i,
                     resp.status, resp.body.data);
        cr_expect_gt(resp.body.len, 0, "row %zu: a reason is given", i);
        cr_expect_str_eq(audit_text(&f), "", "row %zu: no decision", i);
        cr_expect_eq(metric(&f, "zen_lead_webhook_requests_total{webhook=\""
                                "validate\",operation=\"invalid\",allowed="
                                "\"false\"} "),
                     1, "row %zu", i);
        buf_cleanup(&resp.body);
        fx_cleanup(&f);
    }
}

/* ---- On the I/O thread ----------------------------------------------------
 */

static int lookup_calls;
static int would_block; /* as a lookup ctx: answer ZL_ERR_WOULDBLOCK */

static enum zl_err no_pods(void *ctx, const char *ns,
                           const struct views_map *selector,
                           struct views_pod ***out, size_t *count)
{
    (void)ns;
    (void)selector;
    lookup_calls++;
    *out = NULL;
    *count = 0;
    return ctx != NULL ? ZL_ERR_WOULDBLOCK : ZL_OK;
}

static enum zl_err no_services(void *ctx, const char *ns,
                               struct views_service ***out, size_t *count)
{
    (void)ns;
    lookup_calls++;
    *out = NULL;
    *count = 0;
    return ctx != NULL ? ZL_ERR_WOULDBLOCK : ZL_OK;
}

/* The source review needs the Services lookup (V4). */
static char *source_review(void)
{
    char *body =
        testutil_read("admission/recorded/validate-create-source.json", NULL);
    cr_assert_not_null(body);
    return body;
}

static const char *requests_series =
    "zen_lead_webhook_requests_total{webhook=\"validate\",";

Test(handler, inline_request_the_cache_cannot_answer_is_deferred_untouched)
{
    struct fx f;
    fx_init(&f);
    struct admit_lookups cached = {&would_block, no_pods, no_services};
    struct admit_lookups direct = {NULL, no_pods, no_services};
    f.deps.lookups = &direct;
    f.deps.lookups_inline = &cached;
    char *body = source_review();
    struct serve_response resp;
    lookup_calls = 0;
    call_as(handler_validate, &f, "application/json", body, true, &resp);
    cr_expect(resp.defer);
    cr_expect_gt(lookup_calls, 0, "the cache-only lookup was asked");
    cr_expect_str_eq(audit_text(&f), "", "no decision yet");
    cr_expect_eq(metric(&f, requests_series), -1, "nothing counted yet");
    buf_cleanup(&resp.body);
    /* Then on a pool thread: the blocking lookups, one decision. */
    call_as(handler_validate, &f, "application/json", body, false, &resp);
    cr_expect_not(resp.defer);
    cr_expect_eq(resp.status, 200, "%d %s", resp.status, resp.body.data);
    cr_expect_not_null(strstr(resp.body.data, "\"allowed\":true"), "%s",
                       resp.body.data);
    char *audit = audit_text(&f);
    cr_expect_eq(strchr(audit, '\n'), audit + strlen(audit) - 1,
                 "one audit line: %s", audit);
    cr_expect_gt(metric(&f, requests_series), -1, "counted once decided");
    buf_cleanup(&resp.body);
    free(body);
    fx_cleanup(&f);
}

Test(handler, inline_request_the_cache_answers_is_decided_there)
{
    struct fx f;
    fx_init(&f);
    struct admit_lookups cached = {NULL, no_pods, no_services};
    f.deps.lookups = &cached;
    f.deps.lookups_inline = &cached;
    char *body = source_review();
    struct serve_response resp;
    call_as(handler_validate, &f, "application/json", body, true, &resp);
    cr_expect_not(resp.defer);
    cr_expect_eq(resp.status, 200, "%d %s", resp.status, resp.body.data);
    cr_expect_null(strstr(resp.body.data, "could not list"),
                   "the lookups answered: %s", resp.body.data);
    cr_expect_neq(audit_text(&f)[0], '\0', "audited");
    buf_cleanup(&resp.body);
    /* Without cache-only lookups, an inline call always defers. */
    f.deps.lookups_inline = NULL;
    call_as(handler_mutate, &f, "application/json", body, true, &resp);
    cr_expect(resp.defer);
    buf_cleanup(&resp.body);
    free(body);
    fx_cleanup(&f);
}

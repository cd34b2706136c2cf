/* SPDX-License-Identifier: Apache-2.0 */
/* From an HTTP request to an AdmissionReview answer, an audit line and
 * the request metrics. */
#include "webhook/handler.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/clock.h"
#include "base/log.h"
#include "webhook/audit.h"
#include "webhook/review.h"

#define HANDLER_JSON "application/json"

static bool is_json(const char *content_type)
{
    size_t n = strlen(HANDLER_JSON);
    return content_type != NULL &&
           strncasecmp(content_type, HANDLER_JSON, n) == 0 &&
           (content_type[n] == '\0' || content_type[n] == ';' ||
            content_type[n] == ' ');
}

/* A refusal of the request itself (not a decision): status and one line. */
static void refuse(struct serve_response *resp, int status, const char *what,
                   const char *why)
{
    resp->status = status;
    buf_reset(&resp->body);
    buf_printf(&resp->body, "%s%s%s\n", what, why[0] != '\0' ? ": " : "", why);
}

static enum zl_err encode(const struct review_request *req,
                          const struct admit_decision *d,
                          struct serve_response *resp)
{
    resp->content_type = HANDLER_JSON;
    return admit_encode(req, d, &resp->body);
}

static void audit(const struct handler_deps *deps, enum admit_hook hook,
                  const struct review_request *req,
                  const struct admit_decision *d, int64_t t0)
{
    struct audit_record rec;
    struct buf line;
    buf_init(&line, (size_t)1 << 20);
    int64_t latency_us = (clock_mono_ns() - t0) / 1000;
    audit_record_of(&rec, hook, req, d, clock_real_ns() / CLOCK_NS_PER_MS,
                    latency_us);
    if (audit_render(&rec, &line) == ZL_OK)
        auditlog_write(deps->audit, line.data, line.len);
    else
        log_warn("audit line for request %s could not be rendered", req->uid);
    buf_cleanup(&line);
}

static void serve_review(const struct handler_deps *deps, enum admit_hook hook,
                         const struct serve_request *http,
                         struct serve_response *resp)
{
    int64_t t0 = clock_mono_ns();
    char why[REVIEW_WHY_MAX] = "";
    struct review_request req;
    struct admit_decision d;
    const char *name = admit_hook_name(hook);
    if (http->inline_run && deps->lookups_inline == NULL) {
        resp->defer = true; /* no cache-only lookups: always the pool */
        return;
    }
    if (!is_json(http->content_type)) {
        refuse(resp, 415, "the body must be application/json", "");
        goto metrics;
    }
    if (review_decode(http->body, http->body_len, &req, why) != ZL_OK) {
        review_cleanup(&req);
        refuse(resp, 400, "not an AdmissionReview v1", why);
        goto metrics;
    }
    const struct admit_lookups *lk =
        http->inline_run ? deps->lookups_inline : deps->lookups;
    enum zl_err rc = admit_decide(hook, &req, deps->cfg, lk, &d);
    if (rc == ZL_ERR_WOULDBLOCK && http->inline_run) {
        /* Again on a pool thread, where a lookup may ask the API server:
         * no decision audited or counted yet (a cache hit before the
         * lookup that would block is counted again there). */
        resp->defer = true;
        admit_decision_cleanup(&d);
        review_cleanup(&req);
        return;
    }
    if (rc == ZL_OK)
        rc = encode(&req, &d, resp);
    if (rc != ZL_OK) {
        log_error("%s %s: %s", name, req.uid, zl_err_str(rc));
        refuse(resp, 500, "cannot answer", zl_err_str(rc));
    } else if (deps->audit != NULL) {
        audit(deps, hook, &req, &d, t0);
    }
    if (deps->metrics != NULL)
        whmetrics_request(
            deps->metrics, name, review_operation_name(req.operation),
            rc == ZL_OK && d.allowed, (double)(clock_mono_ns() - t0) / 1e9);
    admit_decision_cleanup(&d);
    review_cleanup(&req);
    return;
metrics:
    if (deps->metrics != NULL)
        whmetrics_request(deps->metrics, name, "invalid", false,
                          (double)(clock_mono_ns() - t0) / 1e9);
}

void handler_validate(void *ctx, const struct serve_request *req,
                      struct serve_response *resp)
{
    serve_review(ctx, ADMIT_VALIDATE, req, resp);
}

void handler_mutate(void *ctx, const struct serve_request *req,
                    struct serve_response *resp)
{
    serve_review(ctx, ADMIT_MUTATE, req, resp);
}

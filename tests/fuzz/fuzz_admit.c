/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: arbitrary bytes as an AdmissionReview, decoded and
 * decided by both hooks against a fixed namespace (two pods, three
 * Services, held in memory like the daemon's cache). Oracles: a decision is
 * well formed (message iff denied, codes, rule ids, no patch from
 * validation); its answer and audit line are JSON; mutation is idempotent
 * (the patched object yields no patch) and changes no validation outcome,
 * since the rules read values as normalized. */
#include <assert.h>
#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/json.h"
#include "webhook/admit.h"
#include "webhook/audit.h"
#include "webhook/review.h"
#include "zenlead/selector.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const pod_json[] = {
    "{\"metadata\":{\"name\":\"web-0\",\"namespace\":\"shop\",\"uid\":\"p1\","
    "\"labels\":{\"app\":\"web\"}},\"spec\":{\"containers\":[{\"ports\":["
    "{\"name\":\"http\",\"containerPort\":8080}]}]},\"status\":{\"phase\":"
    "\"Running\",\"podIP\":\"10.0.0.1\"}}",
    "{\"metadata\":{\"name\":\"api-0\",\"namespace\":\"shop\",\"uid\":\"p2\","
    "\"labels\":{\"app\":\"api\"}},\"spec\":{\"containers\":[{\"ports\":["
    "{\"name\":\"grpc\",\"containerPort\":9000,\"protocol\":\"UDP\"}]}]}}",
};

static const char *const svc_json[] = {
    "{\"metadata\":{\"name\":\"web-leader\",\"namespace\":\"shop\",\"uid\":"
    "\"s1\",\"labels\":{\"app.kubernetes.io/managed-by\":\"zen-lead\","
    "\"zen-lead.io/source-service\":\"web\"},\"ownerReferences\":[{\"kind\":"
    "\"Service\",\"name\":\"web\",\"uid\":\"s0\",\"controller\":true}]},"
    "\"spec\":{\"ports\":[{\"port\":80,\"targetPort\":8080}]}}",
    "{\"metadata\":{\"name\":\"api\",\"namespace\":\"shop\",\"uid\":\"s2\","
    "\"annotations\":{\"zen-lead.io/enabled\":\"true\",\"zen-lead.io/"
    "leader-service-name\":\"shared\"}},\"spec\":{\"selector\":{\"app\":"
    "\"api\"},\"ports\":[{\"port\":80}]}}",
    "{\"metadata\":{\"name\":\"taken\",\"namespace\":\"shop\",\"uid\":\"s3\"},"
    "\"spec\":{\"selector\":{\"app\":\"x\"},\"ports\":[{\"port\":80}]}}",
};

#define POD_COUNT (sizeof(pod_json) / sizeof(pod_json[0]))
#define SVC_COUNT (sizeof(svc_json) / sizeof(svc_json[0]))

static struct views_pod *pods[POD_COUNT];
static struct views_service *svcs[SVC_COUNT];

static void setup(void)
{
    static bool done;
    if (done)
        return;
    for (size_t i = 0; i < POD_COUNT; i++)
        assert(views_pod_parse(pod_json[i], strlen(pod_json[i]), &pods[i]) ==
               ZL_OK);
    for (size_t i = 0; i < SVC_COUNT; i++)
        assert(views_service_parse(svc_json[i], strlen(svc_json[i]),
                                   &svcs[i]) == ZL_OK);
    done = true;
}

/* The lookups fail for namespace "down", to reach the failure policy. */
static enum zl_err lookup_pods(void *ctx, const char *ns,
                               const struct views_map *selector,
                               struct views_pod ***out, size_t *count)
{
    (void)ctx;
    *count = 0;
    *out = NULL;
    if (strcmp(ns, "down") == 0)
        return ZL_ERR_TIMEOUT;
    *out = calloc(POD_COUNT, sizeof(**out));
    if (*out == NULL)
        return ZL_ERR_NOMEM;
    for (size_t i = 0; i < POD_COUNT; i++) {
        if (strcmp(pods[i]->meta.namespace_name, ns) == 0 &&
            selector_matches(selector, &pods[i]->meta.labels)) {
            views_retain(pods[i]);
            (*out)[(*count)++] = pods[i];
        }
    }
    return ZL_OK;
}

static enum zl_err lookup_services(void *ctx, const char *ns,
                                   struct views_service ***out, size_t *count)
{
    (void)ctx;
    *count = 0;
    *out = NULL;
    if (strcmp(ns, "down") == 0)
        return ZL_ERR_IO;
    *out = calloc(SVC_COUNT, sizeof(**out));
    if (*out == NULL)
        return ZL_ERR_NOMEM;
    for (size_t i = 0; i < SVC_COUNT; i++) {
        if (strcmp(svcs[i]->meta.namespace_name, ns) == 0) {
            views_retain(svcs[i]);
            (*out)[(*count)++] = svcs[i];
        }
    }
    return ZL_OK;
}

static const struct admit_lookups lookups = {NULL, lookup_pods,
                                             lookup_services};

static void check_decision(const struct admit_decision *d, enum admit_hook h)
{
    static const char *const rules[] = {"", "V1", "V2", "V3", "V4", "V5"};
    bool known = false;
    size_t patch_len;
    for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
        known = known || strcmp(d->rule, rules[i]) == 0;
    assert(known);
    assert(d->allowed == (d->message == NULL));
    assert(d->allowed ? d->code == ADMIT_CODE_OK : d->code >= 400);
    assert(d->warning_count <= ADMIT_MAX_WARNINGS);
    const char *patch = patch_text(&d->patch, &patch_len);
    if (h == ADMIT_VALIDATE || !d->allowed) {
        assert(patch_len == 0);
        return;
    }
    if (patch_len > 0) {
        struct json_object *p = NULL;
        assert(json_check_value(patch, patch_len) == ZL_OK);
        assert(json_parse_object(patch, patch_len, &p) == ZL_ERR_PARSE);
    }
}

static void check_outputs(const struct review_request *r,
                          const struct admit_decision *d, enum admit_hook h)
{
    struct audit_record rec;
    struct buf out;
    struct json_object *obj = NULL;
    buf_init(&out, (size_t)16 << 20);
    enum zl_err err = admit_encode(r, d, &out);
    assert(err == ZL_OK);
    assert(json_parse_object(out.data, out.len, &obj) == ZL_OK);
    json_object_put(obj);
    buf_reset(&out);
    audit_record_of(&rec, h, r, d, 0, 0);
    assert(audit_render(&rec, &out) == ZL_OK);
    assert(json_parse_object(out.data, out.len - 1, &obj) == ZL_OK);
    json_object_put(obj);
    buf_cleanup(&out);
}

/* RFC 6901 unescaping of one reference token, in place. */
static void unescape(char *s)
{
    char *w = s;
    for (const char *p = s; *p != '\0'; p++) {
        if (p[0] == '~' && (p[1] == '0' || p[1] == '1')) {
            *w++ = p[1] == '0' ? '~' : '/';
            p++;
        } else {
            *w++ = *p;
        }
    }
    *w = '\0';
}

/* Applies the mutation's replace operations to request.object. */
static void apply(struct json_object *object, const char *patch, size_t len)
{
    struct json_object *ops = json_tokener_parse(patch), *meta, *ann;
    (void)len;
    assert(ops != NULL);
    assert(json_object_object_get_ex(object, "metadata", &meta));
    assert(json_object_object_get_ex(meta, "annotations", &ann));
    for (size_t i = 0; i < json_object_array_length(ops); i++) {
        struct json_object *op = json_object_array_get_idx(ops, i), *v, *path;
        assert(json_object_object_get_ex(op, "op", &v));
        assert(strcmp(json_object_get_string(v), "replace") == 0);
        assert(json_object_object_get_ex(op, "path", &path));
        assert(json_object_object_get_ex(op, "value", &v));
        const char *prefix = "/metadata/annotations/";
        const char *p = json_object_get_string(path);
        assert(strncmp(p, prefix, strlen(prefix)) == 0);
        char *key = strdup(p + strlen(prefix));
        assert(key != NULL);
        unescape(key);
        assert(json_object_object_get_ex(ann, key, NULL));
        json_object_object_add(ann, key, json_object_get(v));
        free(key);
    }
    json_object_put(ops);
}

static void decide(const struct review_request *r, enum admit_hook h,
                   const struct admit_config *cfg, struct admit_decision *d)
{
    enum zl_err err = admit_decide(h, r, cfg, &lookups, d);
    assert(err == ZL_OK || err == ZL_ERR_NOMEM);
    if (err == ZL_OK) {
        check_decision(d, h);
        check_outputs(r, d, h);
    }
}

/* Mutating then deciding again gives no patch and the same validation. */
static void check_idempotent(struct review_request *r,
                             const struct admit_config *cfg,
                             const struct admit_decision *before,
                             const struct admit_decision *mutated)
{
    size_t len;
    const char *patch = patch_text(&mutated->patch, &len);
    struct admit_decision again, valid;
    struct json_object *obj;
    if (len == 0 || r->object.text == NULL)
        return;
    enum zl_err err = json_parse_object(r->object.text, r->object.len, &obj);
    assert(err == ZL_OK);
    apply(obj, patch, len);
    struct review_json was = r->object;
    const char *text = json_object_to_json_string(obj);
    r->object = (struct review_json){text, strlen(text)};
    decide(r, ADMIT_MUTATE, cfg, &again);
    patch_text(&again.patch, &len);
    assert(len == 0);
    decide(r, ADMIT_VALIDATE, cfg, &valid);
    assert(valid.allowed == before->allowed);
    assert(strcmp(valid.rule, before->rule) == 0);
    admit_decision_cleanup(&again);
    admit_decision_cleanup(&valid);
    r->object = was;
    json_object_put(obj);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct review_request r;
    char why[REVIEW_WHY_MAX];
    struct admit_decision v, m;
    setup();
    if (review_decode((const char *)data, size, &r, why) != ZL_OK)
        return 0;
    struct admit_config cfg = {
        "system:serviceaccount:zen-lead-system:zen-lead-controller",
        size % 2 ? ADMIT_NAMED_PORT_WARN : ADMIT_NAMED_PORT_REJECT,
        size % 3 ? ADMIT_LOOKUP_ALLOW : ADMIT_LOOKUP_DENY};
    decide(&r, ADMIT_VALIDATE, &cfg, &v);
    decide(&r, ADMIT_MUTATE, &cfg, &m);
    if (m.allowed)
        check_idempotent(&r, &cfg, &v, &m);
    admit_decision_cleanup(&v);
    admit_decision_cleanup(&m);
    review_cleanup(&r);
    return 0;
}

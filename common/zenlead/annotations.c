/* SPDX-License-Identifier: Apache-2.0 */
/* Annotation parsing, validation and normalization for source Services. The
 * controller parses the value the mutating webhook would have written, so a
 * Service means the same with or without the webhook installed. */
#include "zenlead/annotations.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/clock.h"
#include "base/duration.h"
#include "zenlead/naming.h"

#define REASON_ANNOTATION "InvalidAnnotation"
#define REASON_NAME "InvalidLeaderName"
#define REASON_SERVICE "InvalidService"
/* Longest excerpt of a user's value or key quoted in a message. */
#define QUOTE_MAX 48
#define SENTENCE_MAX 512

enum kind {
    KIND_ENABLED,
    KIND_STICKY,
    KIND_NAME,
    KIND_DURATION,
};

struct known_key {
    const char *key;
    enum kind kind;
};

static const struct known_key user_keys[] = {
    {ANNOTATIONS_ENABLED, KIND_ENABLED},
    {ANNOTATIONS_STICKY, KIND_STICKY},
    {ANNOTATIONS_LEADER_NAME, KIND_NAME},
    {ANNOTATIONS_MIN_READY, KIND_DURATION},
    {ANNOTATIONS_FAILOVER_DELAY, KIND_DURATION},
};
#define USER_KEY_COUNT (sizeof(user_keys) / sizeof(user_keys[0]))

static const char *const controller_keys[] = {
    ANNOTATIONS_CURRENT_LEADER,
    ANNOTATIONS_LEADER_POD_NAME,
    ANNOTATIONS_LEADER_POD_UID,
    ANNOTATIONS_LAST_SWITCH,
};

static const struct known_key *find_user_key(const char *key)
{
    for (size_t i = 0; i < USER_KEY_COUNT; i++)
        if (strcmp(key, user_keys[i].key) == 0)
            return &user_keys[i];
    return NULL;
}

bool annotations_is_controller_key(const char *key)
{
    for (size_t i = 0; i < sizeof(controller_keys) / sizeof(*controller_keys);
         i++)
        if (strcmp(key, controller_keys[i]) == 0)
            return true;
    return false;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
           c == '\v';
}

/* The canonical spelling of value for a key of kind, as a span of value
 * (*start, *len) or a static string (*fixed, for booleans). */
static void canonical(enum kind kind, const char *value, const char **start,
                      size_t *len, const char **fixed)
{
    size_t n = strlen(value);
    while (n > 0 && is_space(value[n - 1]))
        n--;
    while (n > 0 && is_space(*value)) {
        value++;
        n--;
    }
    *start = value;
    *len = n;
    *fixed = NULL;
    if (kind != KIND_ENABLED && kind != KIND_STICKY)
        return;
    if (n == 4 && strncasecmp(value, "true", 4) == 0)
        *fixed = "true";
    else if (n == 5 && strncasecmp(value, "false", 5) == 0)
        *fixed = "false";
}

enum zl_err annotations_normalize(const char *key, const char *value,
                                  char **out)
{
    const struct known_key *k = find_user_key(key);
    const char *start, *fixed;
    size_t len;
    *out = NULL;
    if (k == NULL)
        return ZL_OK;
    canonical(k->kind, value, &start, &len, &fixed);
    if (fixed != NULL) {
        start = fixed;
        len = strlen(fixed);
    }
    if (strlen(value) == len && memcmp(value, start, len) == 0)
        return ZL_OK;
    *out = strndup(start, len);
    return *out != NULL ? ZL_OK : ZL_ERR_NOMEM;
}

/* Writes a printable excerpt of s: control and non-ASCII bytes become '?',
 * and long text is cut with "...". */
static void quote(const char *s, char out[static QUOTE_MAX + 4])
{
    size_t i = 0;
    for (; i < QUOTE_MAX && s[i] != '\0'; i++) {
        unsigned char c = (unsigned char)s[i];
        out[i] = (char)(c >= 0x20 && c < 0x7f && c != '"' ? c : '?');
    }
    if (s[i] != '\0') {
        memcpy(out + i, "...", 3);
        i += 3;
    }
    out[i] = '\0';
}

/* Appends a problem. message, fix and key share one allocation, owned by
 * the problem through message. */
static enum zl_err add_problem(struct annotations_result *r,
                               enum annotations_severity severity,
                               const char *key, const char *reason,
                               const char *message, const char *fix)
{
    size_t mlen = strlen(message), flen = strlen(fix), klen = strlen(key);
    struct annotations_problem *grown =
        realloc(r->problems, (r->problem_count + 1) * sizeof(*grown));
    if (grown == NULL)
        return ZL_ERR_NOMEM;
    r->problems = grown;
    char *block = malloc(mlen + flen + klen + 3);
    if (block == NULL)
        return ZL_ERR_NOMEM;
    memcpy(block, message, mlen + 1);
    memcpy(block + mlen + 1, fix, flen + 1);
    memcpy(block + mlen + flen + 2, key, klen + 1);
    struct annotations_problem *p = &r->problems[r->problem_count++];
    p->severity = severity;
    p->message = block;
    p->fix = block + mlen + 1;
    p->key = block + mlen + flen + 2;
    p->event_reason = reason;
    return ZL_OK;
}

static enum zl_err parse_bool(struct annotations_result *r, const char *key,
                              enum kind kind, const char *value,
                              const char *fixed)
{
    char q[QUOTE_MAX + 4];
    char msg[SENTENCE_MAX];
    bool *dst =
        kind == KIND_ENABLED ? &r->settings.enabled : &r->settings.sticky;
    if (fixed != NULL) {
        *dst = strcmp(fixed, "true") == 0;
        return ZL_OK;
    }
    quote(value, q);
    if (kind == KIND_ENABLED) {
        snprintf(msg, sizeof(msg),
                 "%s is \"%s\", which is neither true nor false, so the "
                 "Service is not opted in.",
                 key, q);
        return add_problem(r, ANNOTATIONS_ERROR, key, REASON_ANNOTATION, msg,
                           "Set it to \"true\" to opt in or \"false\" to opt "
                           "out.");
    }
    snprintf(msg, sizeof(msg),
             "%s is \"%s\", but it must be true or false; the default (true) "
             "applies.",
             key, q);
    return add_problem(r, ANNOTATIONS_ERROR, key, REASON_ANNOTATION, msg,
                       "Set it to \"true\" to keep a healthy leader or "
                       "\"false\" to always route to the oldest ready pod.");
}

static enum zl_err parse_duration(struct annotations_result *r, const char *key,
                                  const char *text)
{
    static const char fix[] = "Use a Go duration from 0s to 24h, such as "
                              "\"500ms\", \"30s\" or \"1m30s\".";
    char q[QUOTE_MAX + 4];
    char msg[SENTENCE_MAX];
    const char *why = NULL;
    int64_t ns = 0;
    enum zl_err err = duration_parse(text, &ns);
    if (err == ZL_ERR_PARSE)
        why = "which is not a Go duration";
    else if (err != ZL_OK || ns > ANNOTATIONS_MAX_DURATION_MS * CLOCK_NS_PER_MS)
        why = text[0] == '-' ? "which is negative" : "which is more than 24h";
    else if (ns < 0)
        why = "which is negative";
    if (why == NULL) {
        /* Sub-millisecond values round up so a wait is never cut short. */
        int64_t ms = ns / CLOCK_NS_PER_MS + (ns % CLOCK_NS_PER_MS != 0);
        if (strcmp(key, ANNOTATIONS_MIN_READY) == 0)
            r->settings.min_ready_ms = ms;
        else
            r->settings.failover_min_delay_ms = ms;
        return ZL_OK;
    }
    quote(text, q);
    snprintf(msg, sizeof(msg), "%s is \"%s\", %s; the default (0s) applies.",
             key, q, why);
    return add_problem(r, ANNOTATIONS_ERROR, key, REASON_ANNOTATION, msg, fix);
}

/* Optimal string alignment distance (a swap of neighbours counts as one
 * edit), for "did you mean". Both strings are short. */
static size_t edit_distance(const char *a, const char *b)
{
    enum { MAXLEN = 40 };
    size_t la = strlen(a), lb = strlen(b);
    size_t d[MAXLEN + 1][MAXLEN + 1];
    assert(la <= MAXLEN && lb <= MAXLEN);
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = a[i - 1] != b[j - 1];
            size_t best = d[i - 1][j - 1] + cost;
            if (d[i - 1][j] + 1 < best)
                best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
                a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    }
    return d[la][lb];
}

/* The user key closest to key, or NULL when none is close: at most a third
 * of the known key's own characters may differ. */
static const char *closest_key(const char *key)
{
    const char *suffix = key + strlen(ANNOTATIONS_PREFIX);
    const char *best = NULL;
    size_t best_d = SIZE_MAX;
    if (strlen(suffix) > 40)
        return NULL;
    for (size_t i = 0; i < USER_KEY_COUNT; i++) {
        const char *known = user_keys[i].key + strlen(ANNOTATIONS_PREFIX);
        size_t d = edit_distance(suffix, known);
        if (d * 3 <= strlen(known) && d < best_d) {
            best = user_keys[i].key;
            best_d = d;
        }
    }
    return best;
}

static enum zl_err report_foreign(struct annotations_result *r, const char *key)
{
    char q[QUOTE_MAX + 4];
    char msg[SENTENCE_MAX];
    char fix[SENTENCE_MAX];
    quote(key, q);
    if (annotations_is_controller_key(key)) {
        snprintf(msg, sizeof(msg),
                 "%s is written by the zen-lead controller on the leader "
                 "Service only, never on a source Service.",
                 key);
        snprintf(fix, sizeof(fix), "Remove %s from this Service.", key);
        return add_problem(r, ANNOTATIONS_ERROR, key, REASON_ANNOTATION, msg,
                           fix);
    }
    const char *near = closest_key(key);
    if (near != NULL) {
        snprintf(msg, sizeof(msg),
                 "%s is not a zen-lead annotation; did you mean %s?", q, near);
        snprintf(fix, sizeof(fix), "Rename it to %s or remove it.", near);
    } else {
        snprintf(msg, sizeof(msg), "%s is not a zen-lead annotation.", q);
        snprintf(fix, sizeof(fix),
                 "Remove it; the known keys are %s, %s, %s, %s and %s.",
                 user_keys[0].key, user_keys[1].key, user_keys[2].key,
                 user_keys[3].key, user_keys[4].key);
    }
    return add_problem(r, ANNOTATIONS_ERROR, key, REASON_ANNOTATION, msg, fix);
}

/* Derives or checks the leader name. Problems about the derived name matter
 * only for an opted-in Service; an explicit bad name is always reported. */
static enum zl_err check_leader_name(struct annotations_result *r,
                                     const char *source,
                                     const char *explicit_name)
{
    char q[QUOTE_MAX + 4];
    char msg[SENTENCE_MAX];
    char fix[SENTENCE_MAX];
    const char *key = ANNOTATIONS_LEADER_NAME;
    enum zl_err err =
        naming_leader_name(source, explicit_name, r->settings.leader_name);
    if (err == ZL_OK || (explicit_name == NULL && !r->settings.enabled))
        return ZL_OK;
    quote(explicit_name != NULL ? explicit_name : source, q);
    if (explicit_name != NULL && explicit_name[0] == '\0') {
        snprintf(msg, sizeof(msg), "%s is empty.", key);
        snprintf(fix, sizeof(fix),
                 "Set it to a DNS-1035 label such as \"%.40s-leader\", or "
                 "remove it to use the default.",
                 naming_is_dns1035_label(source) ? source : "my-service");
    } else if (explicit_name != NULL && strcmp(explicit_name, source) == 0) {
        snprintf(msg, sizeof(msg),
                 "%s is \"%s\", the source Service's own name.", key, q);
        snprintf(fix, sizeof(fix),
                 "Choose a different name, such as \"%.40s-leader\".", q);
    } else if (explicit_name != NULL) {
        snprintf(msg, sizeof(msg),
                 "%s is \"%s\", which is not a valid Service name "
                 "(DNS-1035 label).",
                 key, q);
        snprintf(fix, sizeof(fix),
                 "Use 1 to 63 lowercase letters, digits or '-', starting "
                 "with a letter and ending with a letter or digit.");
    } else if (err == ZL_ERR_LIMIT) {
        snprintf(msg, sizeof(msg),
                 "The Service name \"%s\" is longer than %d characters, so "
                 "the default leader Service name \"<name>-leader\" would "
                 "exceed %d.",
                 q, NAMING_MAX_DERIVED_SOURCE, NAMING_MAX_LABEL);
        snprintf(fix, sizeof(fix),
                 "Set %s to a DNS-1035 label of at most %d characters.", key,
                 NAMING_MAX_LABEL);
    } else {
        snprintf(msg, sizeof(msg),
                 "The Service name \"%s\" is not a DNS-1035 label, so no "
                 "leader Service name can be derived from it.",
                 q);
        snprintf(fix, sizeof(fix), "Set %s to a DNS-1035 label.", key);
    }
    return add_problem(r, ANNOTATIONS_ERROR, key, REASON_NAME, msg, fix);
}

/* Reads one of our keys; *name_out receives the normalized leader name. */
static enum zl_err parse_one(struct annotations_result *r,
                             const struct known_key *k, const char *value,
                             char **name_out)
{
    const char *start, *fixed;
    size_t len;
    canonical(k->kind, value, &start, &len, &fixed);
    if (k->kind == KIND_ENABLED || k->kind == KIND_STICKY) {
        if (fixed == NULL) {
            /* Quote the trimmed text, as the webhook would have stored it. */
            char *trimmed = strndup(start, len);
            if (trimmed == NULL)
                return ZL_ERR_NOMEM;
            enum zl_err err = parse_bool(r, k->key, k->kind, trimmed, NULL);
            free(trimmed);
            return err;
        }
        return parse_bool(r, k->key, k->kind, fixed, fixed);
    }
    char *text = strndup(start, len);
    if (text == NULL)
        return ZL_ERR_NOMEM;
    if (k->kind == KIND_NAME) {
        free(*name_out); /* keys are unique; stay safe if not */
        *name_out = text;
        return ZL_OK;
    }
    enum zl_err err = parse_duration(r, k->key, text);
    free(text);
    return err;
}

enum zl_err annotations_parse(const struct views_map *annotations,
                              const char *service_name,
                              struct annotations_result *out)
{
    const size_t plen = strlen(ANNOTATIONS_PREFIX);
    char *explicit_name = NULL;
    enum zl_err err = ZL_OK;
    memset(out, 0, sizeof(*out));
    out->settings.sticky = true;
    if (service_name == NULL)
        service_name = "";
    for (size_t i = 0; annotations != NULL && i < annotations->count; i++) {
        const struct views_kv *kv = &annotations->items[i];
        if (strncmp(kv->key, ANNOTATIONS_PREFIX, plen) != 0)
            continue;
        const struct known_key *k = find_user_key(kv->key);
        if (k == NULL)
            err = report_foreign(out, kv->key);
        else
            err = parse_one(out, k, kv->value, &explicit_name);
        if (err != ZL_OK)
            goto out;
    }
    err = check_leader_name(out, service_name, explicit_name);
out:
    free(explicit_name);
    if (err != ZL_OK)
        annotations_result_cleanup(out);
    return err;
}

/* What SPEC asks of an enabled Service's spec (webhook rule V2). */
static enum zl_err check_spec(struct annotations_result *r,
                              const struct views_service *svc)
{
    const char *key = ANNOTATIONS_ENABLED;
    enum zl_err err = ZL_OK;
    if (svc->type == VIEWS_SVC_EXTERNAL_NAME)
        return add_problem(
            r, ANNOTATIONS_ERROR, key, REASON_SERVICE,
            "The Service is of type ExternalName, which routes to no pods, "
            "so there is no leader to choose.",
            "Use type ClusterIP, NodePort or LoadBalancer with a selector, or "
            "remove zen-lead.io/enabled.");
    if (!svc->has_selector)
        err = add_problem(r, ANNOTATIONS_ERROR, key, REASON_SERVICE,
                          "The Service has no selector, so there are no pods "
                          "to choose a leader from.",
                          "Add a spec.selector that matches the pods, or "
                          "remove zen-lead.io/enabled.");
    if (err == ZL_OK && svc->port_count == 0)
        err = add_problem(r, ANNOTATIONS_ERROR, key, REASON_SERVICE,
                          "The Service has no ports, and a leader Service "
                          "needs at least one port.",
                          "Add the ports clients connect to under "
                          "spec.ports, or remove zen-lead.io/enabled.");
    return err;
}

enum zl_err annotations_check_service(const struct views_service *svc,
                                      struct annotations_result *out)
{
    enum zl_err err = annotations_parse(&svc->annotations, svc->meta.name, out);
    if (err != ZL_OK || !out->settings.enabled)
        return err;
    err = check_spec(out, svc);
    if (err != ZL_OK)
        annotations_result_cleanup(out);
    return err;
}

void annotations_result_cleanup(struct annotations_result *result)
{
    if (result == NULL)
        return;
    for (size_t i = 0; i < result->problem_count; i++)
        free(result->problems[i].message);
    free(result->problems);
    memset(result, 0, sizeof(*result));
    result->settings.sticky = true;
}

bool annotations_has_errors(const struct annotations_result *result)
{
    for (size_t i = 0; i < result->problem_count; i++)
        if (result->problems[i].severity == ANNOTATIONS_ERROR)
            return true;
    return false;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* The webhook's audit trail (SPEC section 7): one JSON line per decision,
 * and the auditAnnotations that tie it to the API server's audit log. Pure:
 * the caller passes the time and the latency and writes the line where
 * --audit-log says. */
#ifndef ZL_WEBHOOK_AUDIT_H
#define ZL_WEBHOOK_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "webhook/admit.h"
#include "webhook/review.h"

/* auditAnnotations keys (the API server stores them as
 * "<webhook name>/<key>"). */
#define AUDIT_KEY_UID "request-uid"
#define AUDIT_KEY_RULE "rule"
#define AUDIT_ANNOTATION_COUNT 2

/* One decision. Strings are borrowed; NULL is written as "" (message as
 * null). */
struct audit_record {
    int64_t time_ms;     /* when the decision was made, ms since the epoch */
    const char *webhook; /* "validate" or "mutate" */
    const char *uid;
    const char *user;
    const char *const *groups;
    size_t group_count;
    const char *operation;
    const char *kind; /* request.kind.kind */
    const char *namespace_name;
    const char *name;
    bool dry_run;
    bool allowed;
    int code;
    const char *rule;    /* "" when no rule was hit */
    const char *message; /* NULL when allowed */
    const char *const *warnings;
    size_t warning_count;
    size_t patch_bytes;
    int64_t latency_us;
};

/* Fills r from a request and its decision (all borrowed: r is valid while
 * they are). */
void audit_record_of(struct audit_record *r, enum admit_hook hook,
                     const struct review_request *req,
                     const struct admit_decision *d, int64_t time_ms,
                     int64_t latency_us);

/* Appends one line to out: {"time":RFC 3339 UTC with ms,"webhook","uid",
 * "user","groups":[...],"operation","kind","namespace","name","dryRun",
 * "allowed","code","rule","message","warnings":[...],"patchBytes",
 * "latencyMs":decimal with microseconds} and a newline. Strings are JSON
 * escaped. Errors of buf_append (out may then hold part of the line). */
enum zl_err audit_render(const struct audit_record *r, struct buf *out);

/* Writes the auditAnnotations of a decision into out: the request uid
 * (AUDIT_KEY_UID) and, when a rule was hit, the rule (AUDIT_KEY_RULE).
 * Returns how many (1 or 2); the strings are borrowed. */
size_t audit_annotations(
    const char *uid, const char *rule,
    struct review_audit_annotation out[static AUDIT_ANNOTATION_COUNT]);

#endif

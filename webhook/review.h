/* SPDX-License-Identifier: Apache-2.0 */
/* AdmissionReview admission.k8s.io/v1: decoding the API server's request
 * into a compact struct and encoding the answer it accepts (same uid, one
 * patch only from a mutating webhook, warnings and audit annotation keys the
 * API server keeps). Pure: no I/O; the daemon reads the body and writes the
 * answer. */
#ifndef ZL_WEBHOOK_REVIEW_H
#define ZL_WEBHOOK_REVIEW_H

#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"
#include "base/err.h"

#define REVIEW_API_VERSION "admission.k8s.io/v1"
#define REVIEW_KIND "AdmissionReview"
/* The API server sends a UUID (36 characters); anything longer than this,
 * or not printable ASCII, is refused rather than echoed. */
#define REVIEW_MAX_UID 128
/* More userInfo.groups than this is ZL_ERR_LIMIT. */
#define REVIEW_MAX_GROUPS 1024
/* Size of the buffer review_decode explains a refusal in. */
#define REVIEW_WHY_MAX 256
/* The API server drops a warning with control characters or invalid
 * UTF-8, keeps at most 4096 characters of warnings in all and cuts items
 * to 256 once past that: each warning is cleaned and cut to
 * REVIEW_WARNING_MAX bytes, and warnings that would take the total (each
 * counted with REVIEW_WARNING_OVERHEAD for its header framing) past
 * REVIEW_WARNINGS_TOTAL are left out. */
#define REVIEW_WARNING_MAX 256
#define REVIEW_WARNINGS_TOTAL 4096
#define REVIEW_WARNING_OVERHEAD 8
/* An audit annotation key is the name part of a qualified name (the API
 * server prefixes it with "<webhook name>/"): 1 to 63 characters of
 * [A-Za-z0-9-_.], starting and ending with a letter or digit. */
#define REVIEW_AUDIT_KEY_MAX 63

enum review_operation {
    REVIEW_OP_CREATE = 0,
    REVIEW_OP_UPDATE,
    REVIEW_OP_DELETE,
    REVIEW_OP_CONNECT,
};

struct review_gvk {
    const char *group; /* "" for the core group */
    const char *version;
    const char *kind;
};

struct review_gvr {
    const char *group;
    const char *version;
    const char *resource;
};

/* An object of the request as JSON text, checked by the scan of the
 * body: text NULL when absent or null. */
struct review_json {
    const char *text;
    size_t len;
};

/* A decoded request. Every string lives in mem until review_cleanup;
 * absent optional strings are "". object and old_object are borrowed from
 * the body, which must outlive the request (text NULL when absent or null:
 * old_object on CREATE, object on DELETE). */
struct review_request {
    char *mem; /* owns every string below */
    const char *uid;
    struct review_gvk kind;
    struct review_gvr resource;
    const char *sub_resource;
    const char *namespace_name;
    const char *name;
    enum review_operation operation;
    const char *username;
    const char **groups; /* owned array of borrowed strings */
    size_t group_count;
    bool dry_run;
    struct review_json object;
    struct review_json old_object;
};

/* Decodes body[0..body_len) (jscan's grammar and json_parse_object's
 * limits, every byte checked; one scan, no tree built) into *out, which
 * the caller releases with review_cleanup (also after an error: out is
 * then empty). On error why holds one sentence naming the field:
 * ZL_ERR_PARSE   not JSON, not an object, or a field of the wrong type;
 * ZL_ERR_INVALID apiVersion not exactly admission.k8s.io/v1, kind not
 *                AdmissionReview, no request, uid missing, empty, longer
 *                than REVIEW_MAX_UID or not printable ASCII, kind.version
 *                or kind.kind or the operation missing, an unknown
 *                operation;
 * ZL_ERR_LIMIT   a body past json_parse_object's limits, more than
 *                REVIEW_MAX_GROUPS groups;
 * ZL_ERR_NOMEM. */
enum zl_err review_decode(const char *body, size_t body_len,
                          struct review_request *out,
                          char why[static REVIEW_WHY_MAX]);

/* Frees what review_decode kept; NULL or an empty request is a no-op. */
void review_cleanup(struct review_request *req);

/* "CREATE", "UPDATE", "DELETE", "CONNECT". */
const char *review_operation_name(enum review_operation op);

struct review_audit_annotation {
    const char *key; /* see REVIEW_AUDIT_KEY_MAX */
    const char *value;
};

/* What to answer. All borrowed. code and message are used only when
 * denied (code below 400 or above 599 is sent as 400, as the API server
 * would force it; 400, 403 and 503 also get their metav1.Status reason
 * BadRequest, Forbidden, ServiceUnavailable); patch is JSONPatch text sent
 * base64-encoded with patchType "JSONPatch", only when patch_len > 0 (a
 * validating answer passes none). */
struct review_response {
    const char *uid;
    bool allowed;
    int code;
    const char *message;
    const char *const *warnings;
    size_t warning_count;
    const char *patch;
    size_t patch_len;
    const struct review_audit_annotation *audit;
    size_t audit_count;
};

/* Appends the AdmissionReview answer to out. Warnings are cleaned as
 * review_clean_warning does, empty and duplicate ones dropped, and the
 * total bounded as REVIEW_WARNINGS_TOTAL says. ZL_ERR_INVALID for a uid
 * review_decode would refuse, an invalid audit key or a patch without
 * text; errors of buf_append (out may then hold part of the answer). */
enum zl_err review_encode(const struct review_response *resp, struct buf *out);

/* Writes text as the API server keeps a warning: every control character
 * (C0, DEL, C1) becomes a space, every byte of invalid UTF-8 a '?', and
 * text longer than REVIEW_WARNING_MAX bytes is cut at a character
 * boundary with "...". Returns the length written. */
size_t review_clean_warning(const char *text,
                            char out[static REVIEW_WARNING_MAX + 1]);

/* True when key is a valid audit annotation key (REVIEW_AUDIT_KEY_MAX). */
bool review_audit_key_valid(const char *key);

#endif

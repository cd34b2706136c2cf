/* SPDX-License-Identifier: Apache-2.0 */
/* The one way zen-lead turns JSON text from outside (API server answers,
 * watch events, AdmissionReviews) into json-c objects: one depth limit, one
 * size limit, one strictness. It does not read fields; the object views and
 * each module's own readers do that. */
#ifndef ZL_BASE_JSON_H
#define ZL_BASE_JSON_H

#include <stddef.h>

#include "base/err.h"

struct json_object;

/* Nesting deeper than this is refused (Kubernetes objects stay well below
 * 32; the API server itself refuses more than 10,000). */
#define JSON_MAX_DEPTH 64
/* Longest text accepted: the client's largest response body. */
#define JSON_MAX_TEXT ((size_t)64 << 20)

/* Parses text[0..text_len) as exactly one JSON object (RFC 8259, json-c's
 * strict mode: no comments, trailing commas or bare words),
 * followed by nothing but white space. On success *out is a new object the
 * caller releases with json_object_put. Errors (*out NULL): ZL_ERR_LIMIT
 * for text over JSON_MAX_TEXT or nesting deeper than JSON_MAX_DEPTH,
 * ZL_ERR_PARSE for malformed text, a NUL byte, trailing bytes or a value
 * that is not an object, ZL_ERR_NOMEM. The reason is logged at debug
 * level. */
enum zl_err json_parse_object(const char *text, size_t text_len,
                              struct json_object **out);

/* Checks that text[0..text_len) is exactly one JSON value of any type
 * under the same rules and limits as json_parse_object, and builds nothing
 * the caller keeps. ZL_OK, ZL_ERR_PARSE, ZL_ERR_LIMIT, ZL_ERR_NOMEM. */
enum zl_err json_check_value(const char *text, size_t text_len);

#endif

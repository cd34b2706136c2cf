/* SPDX-License-Identifier: Apache-2.0 */
/* Service views straight from JSON text, through base/jscan: no json-c
 * tree, one scan to check the text and find the fields, one allocation
 * for the view. The webhook reads the Service of every AdmissionReview
 * this way, where a tree costs several times what the decision does.
 *
 * The view, and the error for text it refuses, are exactly those of
 * views_service_parse (views.h), but for jscan's stricter grammar (what
 * json-c lets through and RFC 8259 does not is ZL_ERR_PARSE here) and a
 * field name holding an escaped NUL, compared whole here where json-c
 * cuts it at the NUL. The differential tests and fuzz target hold the two
 * to that. */
#ifndef ZL_KUBE_VIEWSCAN_H
#define ZL_KUBE_VIEWSCAN_H

#include <stddef.h>

#include "base/err.h"
#include "kube/views.h"

/* Parses json[0..json_len) as a Service; on success *out is a new view
 * with one reference (views_release). Errors as views_service_parse. */
enum zl_err viewscan_service(const char *json, size_t json_len,
                             struct views_service **out);

#endif

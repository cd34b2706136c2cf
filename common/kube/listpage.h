/* SPDX-License-Identifier: Apache-2.0 */
/* A Kubernetes list body split into its items without building one tree of
 * the whole page: each item is handed on as its own text, so only one
 * object's json-c tree is alive at a time instead of the page's (json-c
 * spends ~70 KB per pod; a 500-pod page costs ~35 MB as one tree). */
#ifndef ZL_KUBE_LISTPAGE_H
#define ZL_KUBE_LISTPAGE_H

#include <stddef.h>

#include "base/err.h"

struct json_object;

/* Called for each element of "items", in order, with its text (not
 * NUL-terminated). A non-ZL_OK return stops the walk and is returned. */
typedef enum zl_err (*listpage_item_fn)(void *ctx, const char *text,
                                        size_t len);

/* Walks text[0..len), which must be one JSON object followed by white space
 * only, holding an "items" array and a "metadata" object (each at most
 * once; other members are checked for shape and skipped). The elements of
 * "items" are not parsed here: the callback parses them (json_parse_object
 * is strict). On success *meta is the parsed "metadata" object, released by
 * the caller with json_object_put. Errors (*meta NULL): ZL_ERR_PARSE for
 * malformed text, ZL_ERR_LIMIT for nesting deeper than JSON_MAX_DEPTH or
 * text over JSON_MAX_TEXT, the callback's error, ZL_ERR_NOMEM. */
enum zl_err listpage_walk(const char *text, size_t len,
                          listpage_item_fn on_item, void *ctx,
                          struct json_object **meta);

#endif

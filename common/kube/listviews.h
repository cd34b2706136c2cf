/* SPDX-License-Identifier: Apache-2.0 */
/* A LIST of one resource read into views, page after page: each item is
 * parsed on its own (listpage) into a view (views), so only one object's
 * JSON tree is alive at a time. For one-shot readers (the webhook's
 * fallback, kubectl-zenlead); the daemons' caches use informers. */
#ifndef ZL_KUBE_LISTVIEWS_H
#define ZL_KUBE_LISTVIEWS_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "kube/client.h"
#include "kube/views.h"

/* A growable array of views of one kind, each holding one reference. */
struct listviews {
    enum views_kind kind;
    void **items;
    size_t count;
    size_t cap;
    /* Optional filter applied to each parsed view; false drops it. */
    bool (*keep)(void *ctx, const void *view);
    void *keep_ctx;
};

/* Parses one LIST answer's body into l (appending). Errors as
 * listpage_walk and views_from_json; on error l keeps what it had. */
enum zl_err listviews_parse(struct listviews *l, const char *body, size_t len,
                            char **continue_token);

/* LISTs res in ns (NULL or "": all namespaces) with opt's selectors,
 * following continue tokens with pages of page_limit items (0: one
 * unpaged request), into l. resp holds the last answer (its status tells
 * what failed). Errors as client_list and listviews_parse; l is emptied
 * on error. */
enum zl_err listviews_list(struct client *c, const struct client_resource *res,
                           const char *ns,
                           const struct client_list_options *opt,
                           long page_limit, struct listviews *l,
                           struct client_response *resp);

/* Releases every view and frees the array; l keeps kind and filter. */
void listviews_clear(struct listviews *l);

/* Hands the array over: *items (count in *count) is the caller's, l is
 * left empty. */
void listviews_take(struct listviews *l, void ***items, size_t *count);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* Paged LISTs read into views. */
#include "kube/listviews.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "kube/listpage.h"

static enum zl_err push(struct listviews *l, void *view)
{
    if (l->count == l->cap) {
        size_t cap = l->cap != 0 ? l->cap * 2 : 16;
        void **items = realloc(l->items, cap * sizeof(*items));
        if (items == NULL)
            return ZL_ERR_NOMEM;
        l->items = items;
        l->cap = cap;
    }
    l->items[l->count++] = view;
    return ZL_OK;
}

static enum zl_err on_item(void *ctx, const char *text, size_t len)
{
    struct listviews *l = ctx;
    struct json_object *obj = NULL;
    void *view = NULL;
    enum zl_err rc = json_parse_object(text, len, &obj);
    if (rc == ZL_OK)
        rc = views_from_json(l->kind, obj, &view);
    json_object_put(obj);
    if (rc != ZL_OK)
        return rc;
    if (l->keep != NULL && !l->keep(l->keep_ctx, view)) {
        views_release(view);
        return ZL_OK;
    }
    rc = push(l, view);
    if (rc != ZL_OK)
        views_release(view);
    return rc;
}

static void truncate_to(struct listviews *l, size_t count)
{
    while (l->count > count)
        views_release(l->items[--l->count]);
}

enum zl_err listviews_parse(struct listviews *l, const char *body, size_t len,
                            char **continue_token)
{
    struct json_object *meta = NULL, *cont = NULL;
    size_t had = l->count;
    enum zl_err rc = listpage_walk(body, len, on_item, l, &meta);
    if (continue_token != NULL)
        *continue_token = NULL;
    if (rc != ZL_OK) {
        truncate_to(l, had);
        return rc;
    }
    if (continue_token != NULL &&
        json_object_object_get_ex(meta, "continue", &cont) &&
        json_object_is_type(cont, json_type_string) &&
        json_object_get_string_len(cont) > 0) {
        *continue_token = strdup(json_object_get_string(cont));
        if (*continue_token == NULL)
            rc = ZL_ERR_NOMEM;
    }
    json_object_put(meta);
    if (rc != ZL_OK)
        truncate_to(l, had);
    return rc;
}

enum zl_err listviews_list(struct client *c, const struct client_resource *res,
                           const char *ns,
                           const struct client_list_options *opt,
                           long page_limit, struct listviews *l,
                           struct client_response *resp)
{
    struct client_list_options lo = {0};
    char *token = NULL;
    enum zl_err rc;

    if (opt != NULL)
        lo = *opt;
    lo.limit = page_limit;
    do {
        lo.continue_token = token;
        client_response_cleanup(resp);
        client_response_init(resp);
        rc = client_list(c, res, ns, &lo, resp);
        free(token);
        token = NULL;
        if (rc == ZL_OK)
            rc = listviews_parse(l, resp->body.data, resp->body.len,
                                 page_limit > 0 ? &token : NULL);
    } while (rc == ZL_OK && token != NULL);
    free(token);
    if (rc != ZL_OK)
        listviews_clear(l);
    return rc;
}

void listviews_clear(struct listviews *l)
{
    if (l == NULL)
        return;
    truncate_to(l, 0);
    free(l->items);
    l->items = NULL;
    l->cap = 0;
}

void listviews_take(struct listviews *l, void ***items, size_t *count)
{
    *items = l->items;
    *count = l->count;
    l->items = NULL;
    l->count = 0;
    l->cap = 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* List page splitting: on a page recorded from a real API server the items
 * and metadata equal what one json-c parse of the whole page gives; table
 * cases for the shapes accepted and refused; a callback error stops it. */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "kube/listpage.h"
#include "testutil.h"

#define MAX_ITEMS 16

struct got {
    size_t count;
    struct json_object *items[MAX_ITEMS];
    size_t fail_at; /* 1-based item whose callback fails; 0: none */
};

static enum zl_err collect(void *ctx, const char *text, size_t len)
{
    struct got *g = ctx;
    if (g->count + 1 == g->fail_at || g->count == MAX_ITEMS)
        return ZL_ERR_CANCELLED;
    struct json_object *obj = NULL;
    enum zl_err err = json_parse_object(text, len, &obj);
    if (err == ZL_OK)
        g->items[g->count++] = obj;
    return err;
}

static void got_clear(struct got *g)
{
    for (size_t i = 0; i < g->count; i++)
        json_object_put(g->items[i]);
    g->count = 0;
}

Test(listpage, matches_one_parse_of_a_recorded_page)
{
    size_t len = 0;
    char *raw = testutil_read("client/pods-page1.http", &len);
    cr_assert_not_null(raw);
    char *body = strstr(raw, "\r\n\r\n");
    body = body != NULL ? body + 4 : strstr(raw, "\n\n") + 2;
    size_t blen = len - (size_t)(body - raw);
    struct json_object *whole = NULL;
    cr_assert_eq(json_parse_object(body, blen, &whole), ZL_OK);
    struct got g = {0};
    struct json_object *meta = NULL;
    cr_assert_eq(listpage_walk(body, blen, collect, &g, &meta), ZL_OK);
    struct json_object *items = json_object_object_get(whole, "items");
    cr_assert_gt(json_object_array_length(items), 0);
    cr_assert_eq(g.count, json_object_array_length(items));
    for (size_t i = 0; i < g.count; i++)
        cr_expect(testutil_json_equal(
            "item", json_object_array_get_idx(items, i), g.items[i]));
    cr_expect(testutil_json_equal(
        "metadata", json_object_object_get(whole, "metadata"), meta));
    got_clear(&g);
    json_object_put(meta);
    json_object_put(whole);
    free(raw);
}

struct lp_case {
    const char *text;
    enum zl_err err;
    size_t items;
};

static const struct lp_case cases[] = {
    {"{\"metadata\":{},\"items\":[]}", ZL_OK, 0},
    {" {\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":"
     "{\"resourceVersion\":\"7\"},\"items\":[{\"a\":\"}]\\\"\"},\n{\"b\":[1,"
     "{\"c\":null}]}],\"x\":[true,false,-1.5e3]} \r\n",
     ZL_OK, 2},
    {"{\"items\":[{}],\"metadata\":{\"continue\":\"t\"}}", ZL_OK, 1},
    {"{\"items\":[]}", ZL_ERR_PARSE, 0},
    {"{\"metadata\":{}}", ZL_ERR_PARSE, 0},
    {"{}", ZL_ERR_PARSE, 0},
    {"[]", ZL_ERR_PARSE, 0},
    {"", ZL_ERR_PARSE, 0},
    {"{\"metadata\":{},\"items\":[]} x", ZL_ERR_PARSE, 0},
    {"{\"metadata\":{},\"items\":[],}", ZL_ERR_PARSE, 0},
    {"{\"metadata\":{},\"items\":[{},]}", ZL_ERR_PARSE, 1},
    {"{\"metadata\":{},\"items\":[{}]", ZL_ERR_PARSE, 1},
    {"{\"metadata\":{},\"items\":[{\"a\":]}]}", ZL_ERR_PARSE, 0},
    {"{\"metadata\":{},\"items\":[{\"a\":\"x}]}", ZL_ERR_PARSE, 0},
    {"{\"metadata\":{},\"items\":[1]}", ZL_ERR_PARSE, 0},
    {"{\"metadata\":[],\"items\":[]}", ZL_ERR_PARSE, 0},
    {"{\"metadata\":{},\"metadata\":{},\"items\":[]}", ZL_ERR_PARSE, 0},
    {"{\"metadata\":{},\"items\":[],\"items\":[]}", ZL_ERR_PARSE, 0},
    {"{\"metadata\":{},\"items\":{}}", ZL_ERR_PARSE, 0},
    {"{\"metadata\" {},\"items\":[]}", ZL_ERR_PARSE, 0},
    {"{\"k\":,\"metadata\":{},\"items\":[]}", ZL_ERR_PARSE, 0},
    {"{\"k\\q\":1,\"metadata\":{},\"items\":[]}", ZL_ERR_PARSE, 0},
    {"{\"k\\u00e\":1,\"metadata\":{},\"items\":[]}", ZL_ERR_PARSE, 0},
    {"{\"k\\u00e9\\n\":1,\"metadata\":{},\"items\":[]}", ZL_OK, 0},
    {"{\"x\":[tru],\"metadata\":{},\"items\":[]}", ZL_ERR_PARSE, 0},
    {"{\"x\":[1 2],\"metadata\":{},\"items\":[]}", ZL_ERR_PARSE, 0},
    {"{\"kind\":\"PodList\",\"metadata\":{},\"items\":[]}", ZL_OK, 0},
};

Test(listpage, accepts_and_refuses_shapes)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        struct got g = {0};
        struct json_object *meta = (struct json_object *)1;
        enum zl_err err = listpage_walk(cases[i].text, strlen(cases[i].text),
                                        collect, &g, &meta);
        cr_expect_eq(err, cases[i].err, "%s: %d", cases[i].text, err);
        cr_expect_eq(g.count, cases[i].items, "%s: %zu items", cases[i].text,
                     g.count);
        if (err == ZL_OK)
            cr_expect(json_object_is_type(meta, json_type_object));
        else
            cr_expect_null(meta, "%s", cases[i].text);
        json_object_put(err == ZL_OK ? meta : NULL);
        got_clear(&g);
    }
}

Test(listpage, refuses_nesting_over_the_limit)
{
    char text[512];
    size_t n = 0;
    n += (size_t)snprintf(text, sizeof(text), "{\"metadata\":{},\"x\":");
    for (int i = 0; i <= JSON_MAX_DEPTH; i++)
        text[n++] = '[';
    for (int i = 0; i <= JSON_MAX_DEPTH; i++)
        text[n++] = ']';
    n += (size_t)snprintf(text + n, sizeof(text) - n, ",\"items\":[]}");
    struct got g = {0};
    struct json_object *meta = NULL;
    cr_expect_eq(listpage_walk(text, n, collect, &g, &meta), ZL_ERR_LIMIT);
    cr_expect_null(meta);
}

Test(listpage, stops_at_a_callback_error)
{
    const char *text = "{\"metadata\":{},\"items\":[{},{},{}]}";
    struct got g = {.fail_at = 2};
    struct json_object *meta = NULL;
    cr_expect_eq(listpage_walk(text, strlen(text), collect, &g, &meta),
                 ZL_ERR_CANCELLED);
    cr_expect_eq(g.count, 1);
    cr_expect_null(meta);
    got_clear(&g);
}

/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: arbitrary bytes as a list body for listpage_walk, with
 * json-c's whole-text parse as the oracle: a page the walk accepts must
 * parse whole, with as many items as the walk handed on, each of them an
 * object equal in size to the one the whole parse holds at that index. */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <json-c/json.h>

#include "base/json.h"
#include "kube/listpage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_ITEMS 64

struct seen {
    size_t count;
    int lengths[FUZZ_MAX_ITEMS]; /* member count of each item */
};

static enum zl_err on_item(void *ctx, const char *text, size_t len)
{
    struct seen *s = ctx;
    struct json_object *obj = NULL;
    enum zl_err err = json_parse_object(text, len, &obj);
    if (err != ZL_OK)
        return err;
    if (s->count < FUZZ_MAX_ITEMS)
        s->lengths[s->count] = json_object_object_length(obj);
    s->count++;
    json_object_put(obj);
    return ZL_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    struct seen s = {0};
    struct json_object *meta = NULL;
    if (listpage_walk(text, size, on_item, &s, &meta) != ZL_OK) {
        assert(meta == NULL);
        return 0;
    }
    assert(json_object_is_type(meta, json_type_object));
    struct json_object *whole = NULL, *items = NULL;
    enum zl_err err = json_parse_object(text, size, &whole);
    assert(err == ZL_OK);
    assert(json_object_object_get_ex(whole, "items", &items));
    assert(json_object_is_type(items, json_type_array));
    assert(json_object_array_length(items) == s.count);
    for (size_t i = 0; i < s.count && i < FUZZ_MAX_ITEMS; i++)
        assert(json_object_object_length(json_object_array_get_idx(items, i)) ==
               s.lengths[i]);
    struct json_object *wm = NULL;
    assert(json_object_object_get_ex(whole, "metadata", &wm));
    assert(json_object_object_length(wm) == json_object_object_length(meta));
    json_object_put(whole);
    json_object_put(meta);
    return 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target for annotations. Input: the first line is the Service
 * name, every further line "key=value" (a key without '/' gets the
 * zen-lead.io/ prefix, to stay near our keys). Checks that parsing never
 * breaks its invariants and that parsing the normalized values decides the
 * same as parsing the raw ones. */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kube/views.h"
#include "zenlead/annotations.h"
#include "zenlead/naming.h"

#define MAX_PAIRS 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int kv_cmp(const void *a, const void *b)
{
    const struct views_kv *x = a, *y = b;
    return strcmp(x->key, y->key);
}

/* Sorts and drops later duplicates, as a view's map is. */
static void make_map(struct views_kv *items, size_t n, struct views_map *map)
{
    size_t out = 0;
    qsort(items, n, sizeof(*items), kv_cmp);
    for (size_t i = 0; i < n; i++)
        if (out == 0 || strcmp(items[out - 1].key, items[i].key) != 0)
            items[out++] = items[i];
    map->items = items;
    map->count = out;
}

static void check(const struct annotations_result *r)
{
    const struct annotations_settings *s = &r->settings;
    assert(s->min_ready_ms >= 0 &&
           s->min_ready_ms <= ANNOTATIONS_MAX_DURATION_MS);
    assert(s->failover_min_delay_ms >= 0 &&
           s->failover_min_delay_ms <= ANNOTATIONS_MAX_DURATION_MS);
    assert(s->leader_name[0] == '\0' ||
           naming_is_dns1035_label(s->leader_name));
    for (size_t i = 0; i < r->problem_count; i++) {
        const struct annotations_problem *p = &r->problems[i];
        size_t m = strlen(p->message), f = strlen(p->fix);
        assert(m > 0 && f > 0 && strlen(p->key) > 0);
        assert(p->message[m - 1] == '.' || p->message[m - 1] == '?');
        assert(p->fix[f - 1] == '.');
        assert(p->event_reason != NULL);
    }
}

static bool same_settings(const struct annotations_settings *x,
                          const struct annotations_settings *y)
{
    return x->enabled == y->enabled && x->sticky == y->sticky &&
           strcmp(x->leader_name, y->leader_name) == 0 &&
           x->min_ready_ms == y->min_ready_ms &&
           x->failover_min_delay_ms == y->failover_min_delay_ms;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    char *norm_values[MAX_PAIRS] = {0};
    char *keys[MAX_PAIRS] = {0};
    struct views_kv raw[MAX_PAIRS], canon[MAX_PAIRS];
    size_t n = 0;
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    char *save = text;
    char *service = strsep(&save, "\n");
    char *line;
    while (n < MAX_PAIRS && (line = strsep(&save, "\n")) != NULL) {
        char *eq = strchr(line, '=');
        if (eq == NULL)
            continue;
        *eq = '\0';
        size_t klen = strlen(line);
        bool bare = strchr(line, '/') == NULL;
        keys[n] = malloc(klen + sizeof(ANNOTATIONS_PREFIX));
        if (keys[n] == NULL)
            break;
        size_t plen = bare ? strlen(ANNOTATIONS_PREFIX) : 0;
        memcpy(keys[n], ANNOTATIONS_PREFIX, plen);
        memcpy(keys[n] + plen, line, klen + 1);
        raw[n].key = keys[n];
        raw[n].value = eq + 1;
        n++;
    }
    struct views_map raw_map, canon_map;
    make_map(raw, n, &raw_map);
    for (size_t i = 0; i < raw_map.count; i++) {
        char *out = NULL, *again = NULL;
        if (annotations_normalize(raw[i].key, raw[i].value, &out) != ZL_OK)
            goto out;
        norm_values[i] = out;
        canon[i].key = raw[i].key;
        canon[i].value = out != NULL ? out : raw[i].value;
        /* Idempotent. */
        if (annotations_normalize(canon[i].key, canon[i].value, &again) ==
            ZL_OK)
            assert(again == NULL);
        free(again);
    }
    canon_map.items = canon;
    canon_map.count = raw_map.count;

    struct annotations_result a, b;
    if (annotations_parse(&raw_map, service, &a) != ZL_OK)
        goto out;
    if (annotations_parse(&canon_map, service, &b) != ZL_OK) {
        annotations_result_cleanup(&a);
        goto out;
    }
    check(&a);
    check(&b);
    assert(same_settings(&a.settings, &b.settings));
    assert(a.problem_count == b.problem_count);
    assert(annotations_has_errors(&a) == annotations_has_errors(&b));
    annotations_result_cleanup(&a);
    annotations_result_cleanup(&b);
out:
    for (size_t i = 0; i < MAX_PAIRS; i++) {
        free(norm_values[i]);
        free(keys[i]);
    }
    free(text);
    return 0;
}

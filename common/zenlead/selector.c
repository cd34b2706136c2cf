/* SPDX-License-Identifier: Apache-2.0 */
/* Equality selector matching by one merge walk over two sorted maps. */
#include "zenlead/selector.h"

#include <string.h>

bool selector_matches(const struct views_map *selector,
                      const struct views_map *labels)
{
    if (selector == NULL || labels == NULL || selector->count == 0)
        return false;
    size_t j = 0;
    for (size_t i = 0; i < selector->count; i++) {
        const struct views_kv *want = &selector->items[i];
        int c = 1;
        /* Both are sorted: skip labels before the wanted key. */
        while (j < labels->count &&
               (c = strcmp(labels->items[j].key, want->key)) < 0)
            j++;
        if (j == labels->count || c != 0)
            return false;
        if (strcmp(labels->items[j].value, want->value) != 0)
            return false;
        j++;
    }
    return true;
}

bool selector_matches_pod(const struct views_service *svc,
                          const struct views_pod *pod)
{
    if (!svc->has_selector)
        return false;
    return selector_matches(&svc->selector, &pod->meta.labels);
}

/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: arbitrary bytes as what kubectl-zenlead reads besides
 * views: an EventList body (gather_events_parse, then the sort) and a
 * Lease (lease_record_parse). Every parsed Event has all its strings and a
 * count of at least 1; the sort leaves them ordered by last_ms. */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#include "kube/lease.h"
#include "plugin/gather.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    struct gather_event *items = NULL;
    size_t count = 0;
    struct lease_record rec;

    (void)gather_events_parse(text, size, &items, &count);
    gather_events_sort(items, count);
    for (size_t i = 0; i < count; i++) {
        assert(items[i].type != NULL && items[i].reason != NULL &&
               items[i].message != NULL && items[i].object_kind != NULL &&
               items[i].object_name != NULL && items[i].component != NULL);
        assert(items[i].count >= 1);
        assert(i == 0 || items[i - 1].last_ms <= items[i].last_ms);
    }
    gather_events_free(items, count);
    (void)lease_record_parse(text, size, &rec);
    return 0;
}

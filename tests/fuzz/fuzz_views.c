/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: arbitrary bytes as Pod, Service and EndpointSlice JSON. A
 * parsed view is walked whole (every string read, every map looked up, times
 * formatted) so out-of-bounds or dangling pointers show under the sanitizers.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "kube/views.h"
#include "zenlead/ports.h"
#include "zenlead/selector.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t sink;

static void touch(const char *s)
{
    if (s != NULL)
        sink += strlen(s);
}

static void walk_map(const struct views_map *map)
{
    for (size_t i = 0; i < map->count; i++) {
        touch(map->items[i].key);
        touch(map->items[i].value);
        /* Sorted and unique: lookup finds each key's own value. */
        assert(views_map_get(map, map->items[i].key) == map->items[i].value);
        if (i > 0)
            assert(strcmp(map->items[i - 1].key, map->items[i].key) < 0);
    }
}

static void walk_time(int64_t ms)
{
    char out[CLOCK_RFC3339_MAX];
    size_t n = clock_format_ms(ms, CLOCK_PREC_S, out);
    assert(n == 20 && strlen(out) == 20);
}

static void walk_pod(const struct views_pod *pod)
{
    touch(pod->meta.namespace_name);
    touch(pod->meta.name);
    touch(pod->meta.uid);
    touch(pod->meta.resource_version);
    touch(pod->node_name);
    touch(pod->ip[0]);
    touch(pod->ip[1]);
    walk_map(&pod->meta.labels);
    walk_time(pod->meta.created_ms);
    walk_time(pod->meta.deleted_ms);
    walk_time(pod->ready_changed_ms);
    assert(pod->port_count <= VIEWS_MAX_PORTS);
    for (size_t i = 0; i < pod->port_count; i++)
        touch(pod->ports[i].name);
}

static void walk_service(const struct views_service *svc)
{
    touch(svc->meta.namespace_name);
    touch(svc->meta.name);
    touch(svc->meta.uid);
    touch(svc->meta.resource_version);
    touch(svc->ip_family_policy);
    walk_map(&svc->meta.labels);
    walk_map(&svc->annotations);
    walk_map(&svc->selector);
    assert(svc->has_selector == (svc->selector.count > 0));
    assert(svc->ip_family_count <= 2);
    for (size_t i = 0; i < svc->port_count; i++) {
        touch(svc->ports[i].name);
        touch(svc->ports[i].target_port_name);
        touch(svc->ports[i].app_protocol);
    }
    if (svc->has_owner) {
        touch(svc->owner.api_version);
        touch(svc->owner.kind);
        touch(svc->owner.name);
        touch(svc->owner.uid);
    }
    walk_time(svc->meta.created_ms);
    walk_time(svc->meta.deleted_ms);
}

static void walk_endpointslice(const struct views_endpointslice *eps)
{
    touch(eps->meta.namespace_name);
    touch(eps->meta.name);
    touch(eps->meta.uid);
    touch(eps->meta.resource_version);
    walk_map(&eps->meta.labels);
    assert(eps->service_name ==
           views_map_get(&eps->meta.labels, VIEWS_LABEL_SERVICE_NAME));
    touch(eps->managed_by);
    assert(eps->endpoint_count <= VIEWS_MAX_ENDPOINTS);
    for (size_t i = 0; i < eps->endpoint_count; i++) {
        const struct views_endpoint *e = &eps->endpoints[i];
        assert(e->address_count <= VIEWS_ENDPOINT_ADDRESSES);
        for (size_t j = 0; j < e->address_count; j++)
            touch(e->addresses[j]);
        touch(e->node_name);
        touch(e->target_ref.kind);
        touch(e->target_ref.name);
        touch(e->target_ref.uid);
    }
    for (size_t i = 0; i < eps->port_count; i++) {
        touch(eps->ports[i].name);
        touch(eps->ports[i].app_protocol);
    }
    if (eps->has_owner) {
        touch(eps->owner.kind);
        touch(eps->owner.uid);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct views_endpointslice *eps = NULL;
    struct views_pod *pod = NULL;
    struct views_service *svc = NULL;
    const char *text = (const char *)data;
    if (views_pod_parse(text, size, &pod) == ZL_OK)
        walk_pod(pod);
    if (views_service_parse(text, size, &svc) == ZL_OK)
        walk_service(svc);
    if (pod != NULL && svc != NULL) {
        int32_t *targets = calloc(svc->port_count + 1, sizeof(*targets));
        size_t failed;
        if (targets != NULL)
            (void)ports_resolve_all(svc, pod, targets, &failed);
        free(targets);
        (void)selector_matches_pod(svc, pod);
    }
    views_release(pod);
    views_release(svc);
    if (views_endpointslice_parse(text, size, &eps) == ZL_OK) {
        /* A second reference, dropped first: the view outlives it. */
        views_retain(eps);
        views_release(eps);
        walk_endpointslice(eps);
    }
    views_release(eps);

    /* The bytes as a timestamp too. */
    if (size < 64) {
        char buf[64];
        int64_t ms;
        memcpy(buf, data, size);
        buf[size] = '\0';
        if (clock_parse_rfc3339(buf, &ms) == ZL_OK)
            walk_time(ms);
    }
    return 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* Field-by-field comparison of rendered and observed leader objects. */
#include "controller/diff.h"

#include <string.h>

#include "zenlead/annotations.h"

static bool str_eq(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return (a == NULL || a[0] == '\0') && (b == NULL || b[0] == '\0');
    return strcmp(a, b) == 0;
}

bool diff_labels_subset(const struct views_map *want,
                        const struct views_map *have)
{
    for (size_t i = 0; i < want->count; i++) {
        const char *v = views_map_get(have, want->items[i].key);
        if (v == NULL || strcmp(v, want->items[i].value) != 0)
            return false;
    }
    return true;
}

static bool no_stale_ours(const struct views_map *want,
                          const struct views_map *have)
{
    size_t plen = strlen(ANNOTATIONS_PREFIX);
    for (size_t i = 0; i < have->count; i++) {
        const char *key = have->items[i].key;
        if (strncmp(key, ANNOTATIONS_PREFIX, plen) == 0 &&
            views_map_get(want, key) == NULL)
            return false;
    }
    return true;
}

static bool owner_eq(bool want_has, const struct views_owner *want,
                     bool have_has, const struct views_owner *have)
{
    if (want_has != have_has)
        return false;
    return !want_has ||
           (str_eq(want->uid, have->uid) && str_eq(want->kind, have->kind) &&
            str_eq(want->name, have->name));
}

static bool service_port_eq(const struct views_service_port *a,
                            const struct views_service_port *b)
{
    return str_eq(a->name, b->name) && a->protocol == b->protocol &&
           a->port == b->port && a->target_port == b->target_port &&
           str_eq(a->target_port_name, b->target_port_name) &&
           str_eq(a->app_protocol, b->app_protocol);
}

static bool families_eq(const struct views_service *want,
                        const struct views_service *have)
{
    if (want->ip_family_count > 0) {
        if (want->ip_family_count != have->ip_family_count)
            return false;
        for (size_t i = 0; i < want->ip_family_count; i++) {
            if (want->ip_families[i] != have->ip_families[i])
                return false;
        }
    }
    return want->ip_family_policy == NULL ||
           str_eq(want->ip_family_policy, have->ip_family_policy);
}

static bool service_spec_eq(const struct views_service *want,
                            const struct views_service *have)
{
    if (want->type != have->type || have->has_selector ||
        want->port_count != have->port_count || !families_eq(want, have))
        return false;
    for (size_t i = 0; i < want->port_count; i++) {
        if (!service_port_eq(&want->ports[i], &have->ports[i]))
            return false;
    }
    return true;
}

unsigned diff_service(const struct views_service *desired,
                      const struct views_service *actual)
{
    if (actual == NULL)
        return DIFF_MISSING;
    unsigned bits = DIFF_NONE;
    if (!diff_labels_subset(&desired->labels, &actual->labels))
        bits |= DIFF_LABELS;
    if (!diff_labels_subset(&desired->annotations, &actual->annotations) ||
        !no_stale_ours(&desired->annotations, &actual->annotations))
        bits |= DIFF_ANNOTATIONS;
    if (!owner_eq(desired->has_owner, &desired->owner, actual->has_owner,
                  &actual->owner))
        bits |= DIFF_OWNER;
    if (!service_spec_eq(desired, actual))
        bits |= DIFF_SPEC;
    return bits;
}

static bool endpoint_eq(const struct views_endpoint *a,
                        const struct views_endpoint *b)
{
    if (a->address_count != b->address_count ||
        (a->address_count > 0 && !str_eq(a->addresses[0], b->addresses[0])))
        return false;
    return a->ready == b->ready && a->serving == b->serving &&
           a->terminating == b->terminating &&
           str_eq(a->target_ref.kind, b->target_ref.kind) &&
           str_eq(a->target_ref.name, b->target_ref.name) &&
           str_eq(a->target_ref.uid, b->target_ref.uid) &&
           str_eq(a->node_name, b->node_name);
}

static bool slice_port_eq(const struct views_endpoint_port *a,
                          const struct views_endpoint_port *b)
{
    if ((a->name == NULL) != (b->name == NULL))
        return false;
    return (a->name == NULL || strcmp(a->name, b->name) == 0) &&
           a->port == b->port && a->protocol == b->protocol &&
           str_eq(a->app_protocol, b->app_protocol);
}

static bool slice_endpoints_eq(const struct views_endpointslice *want,
                               const struct views_endpointslice *have)
{
    if (want->endpoint_count != have->endpoint_count)
        return false;
    for (size_t i = 0; i < want->endpoint_count; i++) {
        if (!endpoint_eq(&want->endpoints[i], &have->endpoints[i]))
            return false;
    }
    return true;
}

static bool slice_ports_eq(const struct views_endpointslice *want,
                           const struct views_endpointslice *have)
{
    if (want->port_count != have->port_count)
        return false;
    for (size_t i = 0; i < want->port_count; i++) {
        if (!slice_port_eq(&want->ports[i], &have->ports[i]))
            return false;
    }
    return true;
}

unsigned diff_slice(const struct views_endpointslice *desired,
                    const struct views_endpointslice *actual)
{
    if (actual == NULL)
        return DIFF_MISSING;
    unsigned bits = DIFF_NONE;
    if (!diff_labels_subset(&desired->labels, &actual->labels))
        bits |= DIFF_LABELS;
    if (!owner_eq(desired->has_owner, &desired->owner, actual->has_owner,
                  &actual->owner))
        bits |= DIFF_OWNER;
    if (desired->address_type != actual->address_type)
        bits |= DIFF_ADDRESS_TYPE;
    if (!slice_endpoints_eq(desired, actual))
        bits |= DIFF_ENDPOINTS;
    if (!slice_ports_eq(desired, actual))
        bits |= DIFF_PORTS;
    return bits;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: arbitrary bytes as a Service, through viewscan_service
 * and views_service_parse. Where jscan's grammar accepts the text, the
 * two must agree on the error or on every field of the view; where it
 * does not, viewscan must refuse it. Texts with an escaped NUL are only
 * run (json-c cuts such a key at the NUL, viewscan.h). */
#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/jscan.h"
#include "kube/views.h"
#include "kube/viewscan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same_str(const char *a, const char *b)
{
    return (a == NULL && b == NULL) ||
           (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static void same_map(const struct views_map *a, const struct views_map *b)
{
    assert(a->count == b->count);
    for (size_t i = 0; i < a->count; i++) {
        assert(same_str(a->items[i].key, b->items[i].key));
        assert(same_str(a->items[i].value, b->items[i].value));
    }
}

static void same_meta(const struct views_meta *a, const struct views_meta *b)
{
    assert(same_str(a->namespace_name, b->namespace_name));
    assert(same_str(a->name, b->name));
    assert(same_str(a->uid, b->uid));
    assert(same_str(a->resource_version, b->resource_version));
    same_map(&a->labels, &b->labels);
    assert(a->created_ms == b->created_ms && a->deleted_ms == b->deleted_ms);
    assert(a->kind == b->kind);
}

static void same_port(const struct views_service_port *a,
                      const struct views_service_port *b)
{
    assert(same_str(a->name, b->name));
    assert(a->protocol == b->protocol && a->port == b->port);
    assert(a->target_port == b->target_port);
    assert(same_str(a->target_port_name, b->target_port_name));
    assert(same_str(a->app_protocol, b->app_protocol));
}

static void same_service(const struct views_service *a,
                         const struct views_service *b)
{
    same_meta(&a->meta, &b->meta);
    same_map(&a->annotations, &b->annotations);
    assert(a->has_selector == b->has_selector);
    same_map(&a->selector, &b->selector);
    assert(a->type == b->type && a->headless == b->headless);
    assert(a->ip_family_count == b->ip_family_count);
    for (size_t i = 0; i < a->ip_family_count; i++)
        assert(a->ip_families[i] == b->ip_families[i]);
    assert(same_str(a->ip_family_policy, b->ip_family_policy));
    assert(a->port_count == b->port_count);
    for (size_t i = 0; i < a->port_count; i++)
        same_port(&a->ports[i], &b->ports[i]);
    assert(a->has_owner == b->has_owner);
    if (a->has_owner) {
        assert(same_str(a->owner.api_version, b->owner.api_version));
        assert(same_str(a->owner.kind, b->owner.kind));
        assert(same_str(a->owner.name, b->owner.name));
        assert(same_str(a->owner.uid, b->owner.uid));
    }
}

static bool grammar_ok(const char *text, size_t size)
{
    struct jscan s;
    jscan_init(&s, text, size);
    if (jscan_skip(&s))
        jscan_finish(&s);
    return jscan_error(&s) == ZL_OK;
}

static bool has_escaped_nul(const char *text, size_t size)
{
    static const char nul[] = "\\u0000";
    for (size_t i = 0; i + sizeof(nul) - 1 <= size; i++)
        if (memcmp(text + i, nul, sizeof(nul) - 1) == 0)
            return true;
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    struct views_service *a = NULL, *b = NULL;
    enum zl_err ea = views_service_parse(text, size, &a);
    enum zl_err eb = viewscan_service(text, size, &b);
    assert((eb == ZL_OK) == (b != NULL));
    if (!grammar_ok(text, size)) {
        assert(eb != ZL_OK);
    } else if (!has_escaped_nul(text, size)) {
        assert(ea == eb);
        if (ea == ZL_OK)
            same_service(a, b);
    }
    views_release(a);
    views_release(b);
    return 0;
}

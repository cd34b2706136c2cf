/* SPDX-License-Identifier: Apache-2.0 */
/* Keys of the start-up sweep from the informers' stores. */
#include "controller/sweep.h"

#include "kube/views.h"

static size_t emit_services(const void **items, size_t n, mapping_emit_fn emit,
                            void *ctx)
{
    size_t emitted = 0;
    char key[MAPPING_MAX_KEY];
    for (size_t i = 0; i < n; i++) {
        const struct views_service *svc = items[i];
        const char *source = NULL;
        const char *name = NULL;
        if (mapping_service_managed(svc, &source))
            name = source;
        else if (mapping_service_enabled(svc))
            name = svc->name;
        if (name != NULL &&
            mapping_key(svc->namespace_name, name, key) == ZL_OK) {
            emit(ctx, key);
            emitted++;
        }
    }
    return emitted;
}

static size_t emit_slices(const void **items, size_t n, mapping_emit_fn emit,
                          void *ctx)
{
    size_t emitted = 0;
    for (size_t i = 0; i < n; i++)
        emitted += mapping_slice(items[i], emit, ctx);
    return emitted;
}

enum zl_err sweep_keys(struct store *services, struct store *slices,
                       mapping_emit_fn emit, void *ctx, size_t *count)
{
    const void **items = NULL;
    size_t n = 0, emitted = 0;
    enum zl_err rc = store_list(services, NULL, &items, &n);
    if (rc != ZL_OK)
        return rc;
    emitted += emit_services(items, n, emit, ctx);
    store_release_list(services, items, n);
    if (slices != NULL) {
        rc = store_list(slices, NULL, &items, &n);
        if (rc != ZL_OK)
            return rc;
        emitted += emit_slices(items, n, emit, ctx);
        store_release_list(slices, items, n);
    }
    if (count != NULL)
        *count = emitted;
    return ZL_OK;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* The informers' cache: immutable compact views of one resource kind, keyed
 * by namespace/name and indexed by namespace. Views are reference counted,
 * so a reader's snapshot stays valid while the informer replaces objects.
 * Thread safe (readers/writer lock). Knows nothing of zen-lead. */
#ifndef ZL_KUBE_STORE_H
#define ZL_KUBE_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "kube/views.h"

struct store;

/* A new empty store for views of one kind (of common/kube/views.h; the
 * store works on their shared part, views_meta). ZL_ERR_INVALID for
 * VIEWS_KIND_NONE, ZL_ERR_NOMEM. */
enum zl_err store_new(enum views_kind kind, struct store **out);
/* Releases every view the store holds. NULL is a no-op. */
void store_free(struct store *s);

/* Inserts or replaces by namespace/name, taking the caller's reference to
 * view. *old_out (may be NULL to drop it) receives the replaced view's
 * reference, or NULL when there was none. ZL_ERR_NOMEM, or ZL_ERR_INVALID
 * for a view of another kind than the store's, leave the content
 * unchanged; the reference to view is consumed (released) even then. */
enum zl_err store_put(struct store *s, void *view, const void **old_out);

/* Removes by namespace/name. *old_out receives the removed view's
 * reference (NULL when absent). */
void store_delete(struct store *s, const char *ns, const char *name,
                  const void **old_out);

/* A new reference to one view, or NULL. Release with store_release. */
const void *store_get(struct store *s, const char *ns, const char *name);

/* A consistent snapshot of one namespace (ns NULL: every namespace), sorted
 * by namespace then name: an array of new references. Release with
 * store_release_list. With no objects, *items is NULL and *count 0.
 * ZL_ERR_NOMEM: nothing to release. Costs O(k log k) for the k objects
 * listed, whatever the store holds elsewhere. */
enum zl_err store_list(struct store *s, const char *ns, const void ***items,
                       size_t *count);

/* Like store_list but in no particular order and only the views for which
 * keep(ctx, view) is true (keep NULL: all): for hot paths that need
 * neither the order nor the rest. keep runs under the store's read lock,
 * so it must be quick and must not call into this store. Costs O(k) for
 * the k objects of the namespace. */
enum zl_err store_select(struct store *s, const char *ns,
                         bool (*keep)(void *ctx, const void *view), void *ctx,
                         const void ***items, size_t *count);

/* Drop a reference from store_get / store_delete / store_put (NULL is a
 * no-op), or every reference and the array from store_list. No lock is
 * taken: the views outlive the store's own references. */
void store_release(struct store *s, const void *view);
void store_release_list(struct store *s, const void **items, size_t count);

/* Number of objects held. */
size_t store_count(struct store *s);

/* What store_replace reports for each difference. */
enum store_change {
    STORE_ADDED,
    STORE_UPDATED,
    STORE_DELETED,
};

/* Replaces the whole content with items (taking their references), as
 * after a relist. For every difference calls on_change(ctx, change, old,
 * new) with borrowed views (old NULL when added, new NULL when deleted);
 * objects whose resourceVersion did not change are not reported. A later
 * item with the same namespace/name as an earlier one wins. on_change may
 * be NULL; it runs after the swap, outside the lock (it may read the
 * store), in no particular order. ZL_ERR_NOMEM (or ZL_ERR_INVALID: an
 * item of another kind) leaves the content unchanged and reports nothing; the
 * items' references are consumed even then (the caller keeps the items array
 * itself). */
enum zl_err store_replace(struct store *s, void **items, size_t count,
                          void (*on_change)(void *ctx, enum store_change c,
                                            const void *old_view,
                                            const void *new_view),
                          void *ctx);

/* Typed spellings for readers: store_get as a view of the store's kind
 * (NULL when absent or when the store holds another kind; release with
 * store_release), and store_list for a pod store (ZL_ERR_INVALID for
 * another kind), released with store_release_pods. */
const struct views_pod *store_get_pod(struct store *s, const char *ns,
                                      const char *name);
const struct views_service *store_get_service(struct store *s, const char *ns,
                                              const char *name);
const struct views_endpointslice *
store_get_endpointslice(struct store *s, const char *ns, const char *name);
enum zl_err store_list_pods(struct store *s, const char *ns,
                            const struct views_pod ***pods, size_t *count);
void store_release_pods(const struct views_pod **pods, size_t count);
/* store_select as typed arrays, for a store of that kind (ZL_ERR_INVALID
 * for another); keep gets the typed view. Released with
 * store_release_pods / store_release_services. */
enum zl_err
store_select_pods(struct store *s, const char *ns,
                  bool (*keep)(void *ctx, const struct views_pod *pod),
                  void *ctx, const struct views_pod ***pods, size_t *count);
enum zl_err store_select_services(struct store *s, const char *ns,
                                  const struct views_service ***svcs,
                                  size_t *count);
void store_release_services(const struct views_service **svcs, size_t count);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* The benchmarks' only door to the Kubernetes client: a client made from a
 * kubeconfig file, the few writes the benchmarks send (JSON in, error
 * out), and a raw watch on its own thread that hands every decoded event
 * to a callback with the CLOCK_MONOTONIC instant it was decoded. It keeps
 * no cache and retries nothing beyond what the client does. */
#ifndef ZL_BENCH_BENCHKUBE_H
#define ZL_BENCH_BENCHKUBE_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "kube/watch.h"

struct json_object;

enum bk_kind { BK_NAMESPACE, BK_NODE, BK_SERVICE, BK_POD, BK_SLICE };

struct bk;

/* Loads the kubeconfig file and makes a client with no client-side rate
 * limit. Prints the reason and returns an error when it cannot. */
enum zl_err bk_open(const char *kubeconfig, struct bk **out);
void bk_free(struct bk *b);

/* POST of a JSON object. ns NULL for cluster-scoped kinds. */
enum zl_err bk_create(struct bk *b, enum bk_kind kind, const char *ns,
                      const char *json);
/* Merge patch of the object (sub NULL) or of its status (sub "status"). */
enum zl_err bk_patch(struct bk *b, enum bk_kind kind, const char *ns,
                     const char *name, const char *sub, const char *json);
/* DELETE; grace_s < 0 uses the object's own grace period. */
enum zl_err bk_delete(struct bk *b, enum bk_kind kind, const char *ns,
                      const char *name, long grace_s);
/* DELETE of every object of kind in ns (a collection), grace_s as above. */
enum zl_err bk_delete_all(struct bk *b, enum bk_kind kind, const char *ns,
                          long grace_s);
/* How many objects of kind exist in ns (NULL: all namespaces), from a
 * one-item list page and its remainingItemCount. */
enum zl_err bk_count(struct bk *b, enum bk_kind kind, const char *ns,
                     long *out);
/* GET; *out (json-c, owned by the caller) is the object. */
enum zl_err bk_get(struct bk *b, enum bk_kind kind, const char *ns,
                   const char *name, struct json_object **out);

/* Called on the watch thread for every event, with when it was decoded
 * (clock_mono_ns). object is borrowed for the call. */
typedef void (*bk_event_fn)(void *ctx, int64_t t_ns, enum watch_type type,
                            struct json_object *object);

struct bk_watch;

/* Watches kind in ns (NULL: all namespaces) with an optional label
 * selector, from now (existing objects arrive first as ADDED). The
 * thread runs until bk_watch_stop; if the stream ends, it is restarted
 * from the last resourceVersion seen. */
enum zl_err bk_watch_start(struct bk *b, enum bk_kind kind, const char *ns,
                           const char *label_selector, bk_event_fn fn,
                           void *ctx, struct bk_watch **out);
/* Stops the thread (within about a second) and frees the watch. */
void bk_watch_stop(struct bk_watch *w);
/* How many times the stream had to be restarted. */
unsigned bk_watch_restarts(const struct bk_watch *w);

/* Real-time now as RFC 3339 with seconds, for condition timestamps. */
void bk_now_rfc3339(char out[32]);
/* Real-time now as 20240501T100000Z, for file names. */
void bk_now_stamp(char out[32]);

#endif

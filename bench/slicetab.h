/* SPDX-License-Identifier: Apache-2.0 */
/* What the benchmarks know of EndpointSlices: a table fed by watch events
 * (benchkube), probes that are tested after every event on the watch
 * thread so the first event that makes one true is timed exactly, and the
 * largest number of endpoints ever seen at once in a zen-lead slice. It
 * sends nothing to the API server. */
#ifndef ZL_BENCH_SLICETAB_H
#define ZL_BENCH_SLICETAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kube/watch.h"

#define SLICETAB_MAX_EP 16
#define SLICETAB_MAX_PROBES 4
#define SLICETAB_NAME_MAX 128

struct json_object;

struct slicetab_ep {
    char pod[SLICETAB_NAME_MAX]; /* targetRef.name, "" when none */
    bool ready;                  /* conditions.ready (absent: true) */
    bool terminating;
};

struct slicetab_slice {
    char ns[64];
    char name[SLICETAB_NAME_MAX];
    char service[SLICETAB_NAME_MAX]; /* label kubernetes.io/service-name */
    bool zenlead;                    /* managed-by zen-lead */
    bool builtin; /* managed-by endpointslice-controller.k8s.io */
    bool gone;    /* deleted */
    int n_ep;     /* endpoints in the object (may exceed the array) */
    struct slicetab_ep ep[SLICETAB_MAX_EP];
};

struct slicetab;

/* Tested with the table locked; must only read it. */
typedef bool (*slicetab_pred_fn)(const struct slicetab *t, void *ctx);

enum zl_err slicetab_new(struct slicetab **out);
void slicetab_free(struct slicetab *t);

/* The benchkube event callback (ctx = the table). */
void slicetab_on_event(void *ctx, int64_t t_ns, enum watch_type type,
                       struct json_object *object);

/* Arms a probe in slot (0..SLICETAB_MAX_PROBES-1): from now, the first
 * event after which pred holds records its time. Returns false when pred
 * already holds (nothing to time). */
bool slicetab_arm(struct slicetab *t, int slot, slicetab_pred_fn pred,
                  void *ctx);
void slicetab_disarm(struct slicetab *t, int slot);

/* Waits until every armed probe has fired or deadline_ns (clock_mono_ns)
 * passed; true when all fired. times[slot] gets each firing time (0 when
 * it did not fire or the slot is not armed). */
bool slicetab_wait(struct slicetab *t, int64_t deadline_ns,
                   int64_t times[SLICETAB_MAX_PROBES]);

/* Waits until pred holds and no event came for quiet_ns, or deadline. */
bool slicetab_wait_quiet(struct slicetab *t, slicetab_pred_fn pred, void *ctx,
                         int64_t quiet_ns, int64_t deadline_ns);

/* Reading the table inside a predicate (or under slicetab_lock). */
size_t slicetab_count(const struct slicetab *t);
const struct slicetab_slice *slicetab_at(const struct slicetab *t, size_t i);
const struct slicetab_slice *slicetab_find(const struct slicetab *t,
                                           const char *ns, const char *name);
void slicetab_lock(struct slicetab *t);
void slicetab_unlock(struct slicetab *t);

/* The most endpoints seen at once in any zen-lead slice, and events. */
int slicetab_max_zenlead_endpoints(struct slicetab *t);
uint64_t slicetab_events(struct slicetab *t);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* The running controller: the API clients, one informer loop with the
 * Service, Pod and managed EndpointSlice informers (every namespace, or
 * each --namespace), the event-to-key mapping feeding the work queue, the
 * reconcile workers, the Lease elector (warm standby: informers always run,
 * workers only while this replica may write) and the metrics. main drives
 * it: new, start, then step on notifications, stop, free. */
#ifndef ZL_CONTROLLER_RUNTIME_H
#define ZL_CONTROLLER_RUNTIME_H

#include <stdbool.h>

#include "base/buf.h"
#include "base/err.h"
#include "controller/options.h"
#include "controller/reconcile.h"

#define RUNTIME_COMPONENT "zen-lead-controller"
#define RUNTIME_DEFAULT_LEASE_NAMESPACE "zen-lead-system"
/* The failover write: chosen by measurement (docs/performance.md). */
#define RUNTIME_SLICE_WRITE RECONCILE_WRITE_UPDATE

struct runtime;

/* Builds everything from the options (nothing runs yet). notify_fd is
 * written one byte whenever main should call runtime_step (leadership
 * gained or lost). ZL_ERR_* with a log line saying what failed. */
enum zl_err runtime_new(const struct options *opt, const char *version,
                        int notify_fd, struct runtime **out);

/* Starts the informers and the elector (or, without --leader-elect, the
 * workers once the caches are synced). */
enum zl_err runtime_start(struct runtime *rt);

/* Reacts to what happened since the last call: starts the workers (and
 * the sweep) once caches are synced and this replica may write. Returns
 * ZL_ERR_CANCELLED when leadership was lost (the process should exit, as
 * client-go's elector does not run again). Cheap; call it on every
 * notification and now and then. */
enum zl_err runtime_step(struct runtime *rt);

/* True once every informer has synced (/readyz). */
bool runtime_ready(struct runtime *rt);

/* The Prometheus text of /metrics. */
enum zl_err runtime_metrics(struct runtime *rt, struct buf *out);

/* Shutdown: stops taking keys and drains the workers, releases the Lease,
 * stops the informers, flushes pending Events (bounded). Idempotent. */
void runtime_stop(struct runtime *rt);

void runtime_free(struct runtime *rt);

#endif

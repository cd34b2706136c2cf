/* SPDX-License-Identifier: Apache-2.0 */
/* The controller's metrics (SPEC section 5) on a base/metrics registry:
 * one place that registers every family with the meaning SPEC gives it,
 * typed helpers for the reconciler, and the process and informer figures
 * refreshed before each scrape. */
#ifndef ZL_CONTROLLER_TELEMETRY_H
#define ZL_CONTROLLER_TELEMETRY_H

#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/metrics.h"

/* Informers whose watch restarts are followed (3 per namespace watched). */
#define TELEMETRY_MAX_INFORMERS 192

struct informer;
struct workqueue;

struct telemetry;

/* Makes the registry and registers every family; build_info is set from
 * version and commit. ZL_ERR_NOMEM. */
enum zl_err telemetry_new(const char *version, const char *commit,
                          struct telemetry **out);
void telemetry_free(struct telemetry *t);

struct metrics_registry *telemetry_registry(struct telemetry *t);

/* The client's observe hook (client_options.observe with ctx = t). */
void telemetry_observe_api(void *ctx, const char *verb, const char *resource,
                           long http_code, double seconds);

/* A reconcile ended: result "success", "error" or "requeue"; error_type
 * (NULL on success) is the zl_err name class, e.g. "conflict". */
void telemetry_reconciled(struct telemetry *t, const char *result,
                          const char *error_type, double seconds);

/* A real leader change (not a first election) with the latency from the
 * event that showed the loss to the API server accepting the slice;
 * latency_s < 0 when unknown (a timed requeue). */
void telemetry_failover(struct telemetry *t, const char *ns,
                        const char *service, const char *reason,
                        double latency_s);

/* The per-Service gauges after a reconcile of a managed Service. */
void telemetry_service_state(struct telemetry *t, const char *ns,
                             const char *service, size_t pods_available,
                             bool without_endpoints);

void telemetry_port_resolution_failure(struct telemetry *t, const char *ns,
                                       const char *service,
                                       const char *port_name);
void telemetry_endpoint_write_error(struct telemetry *t);
void telemetry_workqueue_retry(struct telemetry *t);

/* Deletes every series labelled namespace=ns, service=service (the
 * Service stopped being managed). */
void telemetry_forget_service(struct telemetry *t, const char *ns,
                              const char *service);

void telemetry_set_leader_services(struct telemetry *t, size_t count);
void telemetry_set_is_leader(struct telemetry *t, bool leader);

/* Refreshes the scrape-time figures: watch restarts of each informer,
 * queue depth, process_* from /proc. informers may hold NULLs. */
void telemetry_refresh(struct telemetry *t, struct informer *const *informers,
                       size_t informer_count, struct workqueue *queue);

/* Renders the exposition into out (after telemetry_refresh). */
enum zl_err telemetry_render(struct telemetry *t, struct buf *out);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* The pods and Services the webhook's rules look up, answered from
 * watch-fed caches (kube/informer stores of compact views) so an admission
 * never waits on the API server once they are in step. Before the caches
 * have synced, or while one is out of step for longer than a bound, a
 * lookup asks the API server directly with one namespaced LIST bounded by
 * a timeout. It decides nothing: the rules apply the failure policy. */
#ifndef ZL_WEBHOOK_LOOKUP_H
#define ZL_WEBHOOK_LOOKUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/metrics.h"
#include "kube/kubeconfig.h"
#include "kube/views.h"

/* A cache out of step with the API server (its watch failing, a relist
 * under way) longer than this is not trusted: lookups go to the API
 * server. A dropped watch normally resumes in 0.8 to 1.6 s (the informer's
 * first backoff step) and the next attempts add 1.6-3.2 s and 3.2-6.4 s,
 * so one blip never sends every admission to an API server that is
 * already struggling; past 10 s the cache may miss pods created since,
 * and a fresh answer (or an honest error) beats a stale one. */
#define LOOKUP_STALE_MAX_MS 10000
/* Direct LISTs running at once; more fail at once with ZL_ERR_TRANSIENT,
 * so a broken cache turns into bounded load on the API server, not one
 * LIST per admission. */
#define LOOKUP_MAX_INFLIGHT 8

struct lookup_options {
    struct kube_config *cfg; /* borrowed; must outlive the lookup */
    double qps;              /* the caches' list and watch requests */
    int burst;
    long timeout_ms;   /* a direct LIST, connection included; > 0 */
    long stale_max_ms; /* 0: LOOKUP_STALE_MAX_MS */
    int max_inflight;  /* 0: LOOKUP_MAX_INFLIGHT */
    /* NULL: no metrics. Else registers
     * zen_lead_webhook_lookups_total{resource,source} (source "cache" or
     * "api"), zen_lead_webhook_lookup_errors_total{resource} and
     * zen_lead_webhook_lookup_duration_seconds{resource,source}. Borrowed;
     * must outlive the lookup. */
    struct metrics_registry *metrics;
    /* Passed to both clients' client_options.observe (every API request:
     * zen_lead_api_requests_total and its duration); may be NULL. */
    void (*observe)(void *ctx, const char *verb, const char *resource,
                    long http_code, double seconds);
    void *observe_ctx;
};

struct lookup;

/* Makes the caches (not started: lookups go to the API server until
 * lookup_start and the first lists) and the client of the direct LISTs.
 * ZL_ERR_INVALID (no cfg, timeout_ms <= 0), ZL_ERR_EXISTS (the metric
 * names are taken in that registry), ZL_ERR_NOMEM. */
enum zl_err lookup_new(const struct lookup_options *opt, struct lookup **out);

/* Starts the caches' thread (list, then watch, of every namespace).
 * ZL_ERR_IO when the thread cannot start. Call once. */
enum zl_err lookup_start(struct lookup *lk);

/* Stops the caches' thread; lookups still answer, from the API server.
 * Idempotent. */
void lookup_stop(struct lookup *lk);

/* Stops and frees. No lookup may be running. NULL is a no-op. */
void lookup_free(struct lookup *lk);

/* True once both caches have listed (for /readyz). */
bool lookup_synced(const struct lookup *lk);

/* True when both caches have listed and neither has been out of step for
 * longer than the bound: lookups are answered from memory. */
bool lookup_healthy(const struct lookup *lk);

/* Counters since lookup_new (any thread). */
struct lookup_stats {
    uint64_t cache_hits;        /* answered from a cache */
    uint64_t fallbacks;         /* sent to the API server */
    uint64_t fallback_failures; /* of those, no answer (refused included) */
};

void lookup_get_stats(const struct lookup *lk, struct lookup_stats *out);

/* Pods of ns whose labels match selector (selector_matches: an empty
 * selector matches none). ZL_OK: *out is a malloc'd array of *count
 * views, each retained (caller: views_release each, then free(*out));
 * *out is NULL when *count is 0. ZL_ERR_TIMEOUT / ZL_ERR_IO /
 * ZL_ERR_TRANSIENT: the API server could not answer (ZL_ERR_TRANSIENT
 * also when LOOKUP_MAX_INFLIGHT LISTs already run); ZL_ERR_FORBIDDEN:
 * RBAC; ZL_ERR_INVALID (ns empty), ZL_ERR_NOMEM, and the parse errors of
 * views for an answer that is not a pod list. ctx is the struct lookup. */
enum zl_err lookup_pods(void *ctx, const char *ns,
                        const struct views_map *selector,
                        struct views_pod ***out, size_t *count);

/* Services of ns (all of them), same ownership and errors. */
enum zl_err lookup_services(void *ctx, const char *ns,
                            struct views_service ***out, size_t *count);

/* As lookup_pods and lookup_services from the cache only, for a caller that
 * must not block (a handler on the server's I/O thread): ZL_ERR_WOULDBLOCK,
 * with nothing counted, where those would ask the API server. */
enum zl_err lookup_pods_cached(void *ctx, const char *ns,
                               const struct views_map *selector,
                               struct views_pod ***out, size_t *count);
enum zl_err lookup_services_cached(void *ctx, const char *ns,
                                   struct views_service ***out, size_t *count);

/* Test hook: stops (paused true) or resumes the caches' watches, so a
 * test can see a cache fall out of step. Not for production code. */
void lookup_test_pause(struct lookup *lk, bool paused);

#endif

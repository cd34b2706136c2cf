/* SPDX-License-Identifier: Apache-2.0 */
/* One failover round against the cluster: take the leader out with a
 * trigger (NotReady, graceful delete, IP loss), time when the leader slice
 * names another pod (t1) and when the built-in controller's slice marks
 * the old pod not ready (tb), from just before the trigger was sent (ts)
 * and from when its request returned (t0), then restore the pod and wait
 * until the slices are settled and quiet. Shared by bench/failover and
 * bench/scale. */
#ifndef ZL_BENCH_ROUND_H
#define ZL_BENCH_ROUND_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "benchkube.h"
#include "fixture.h"
#include "slicetab.h"

#define ROUND_MAX_PODS 16
#define ROUND_NAME_MAX 64
#define ROUND_QUIET_NS (100 * INT64_C(1000000))
#define ROUND_TIMEOUT_NS (20 * INT64_C(1000000000))

enum round_trigger {
    ROUND_NOTREADY,
    ROUND_TERMINATING,
    ROUND_NOIP,
    ROUND_TRIGGERS
};

struct round_env {
    struct bk *b;
    struct slicetab *tab; /* fed by a watch of the namespace's slices */
    char ns[ROUND_NAME_MAX];
    char svc[ROUND_NAME_MAX];
    char node[ROUND_NAME_MAX];
    char leader_slice[ROUND_NAME_MAX + 16]; /* <svc>-leader-ipv4 */
    int n_pods;
    char pods[ROUND_MAX_PODS][ROUND_NAME_MAX];
    char ips[ROUND_MAX_PODS][FIXTURE_IP_MAX];
    bool controller;  /* a zen-lead controller keeps the leader slice */
    int64_t quiet_ns; /* settled = no event for this long (ROUND_QUIET_NS) */
    unsigned rounds;  /* rounds run so far */
};

struct round_result {
    int64_t ts; /* just before the trigger was sent */
    int64_t t0; /* the trigger's request returned */
    int64_t t1; /* leader slice names another pod; 0 when not timed */
    int64_t tb; /* built-in slice shows the old pod not ready */
    char old_pod[SLICETAB_NAME_MAX];
    char new_pod[SLICETAB_NAME_MAX];
};

/* Fills env for svc in ns with n_pods pods <svc>-<i> whose addresses are
 * fixture_ipv4(ip_base + i). Writes nothing. */
void round_env_init(struct round_env *env, struct bk *b, struct slicetab *tab,
                    const char *ns, const char *svc, const char *node,
                    int n_pods, unsigned ip_base, bool controller);

/* Creates the Service and its Ready pods, then waits until settled. */
enum zl_err round_setup(struct round_env *env);

/* Waits until every pod is a ready endpoint of the built-in slices, the
 * leader slice (with a controller) holds one ready endpoint, and no event
 * came for ROUND_QUIET_NS. ZL_ERR_TIMEOUT after ROUND_TIMEOUT_NS. */
enum zl_err round_wait_settled(struct round_env *env);

/* One round; ZL_ERR_TIMEOUT when a probe did not fire in time (out has
 * what was measured). */
enum zl_err round_run(struct round_env *env, enum round_trigger trig,
                      struct round_result *out);

const char *round_trigger_name(enum round_trigger trig);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* Failover rounds (see round.h). Probes are tested on the watch thread
 * after every event, so t1 and tb are the decode times of the first events
 * that showed the change. */
#include "round.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"

#define ROUND_PROBE_TB 0
#define ROUND_PROBE_T1 1
#define ROUND_RECREATE_TRIES 250

struct round_ctx {
    const struct round_env *env;
    const char *old; /* the pod taken out */
};

void round_env_init(struct round_env *env, struct bk *b, struct slicetab *tab,
                    const char *ns, const char *svc, const char *node,
                    int n_pods, unsigned ip_base, bool controller)
{
    memset(env, 0, sizeof(*env));
    env->b = b;
    env->tab = tab;
    snprintf(env->ns, sizeof(env->ns), "%s", ns);
    snprintf(env->svc, sizeof(env->svc), "%s", svc);
    snprintf(env->node, sizeof(env->node), "%s", node);
    snprintf(env->leader_slice, sizeof(env->leader_slice), "%s-leader-ipv4",
             svc);
    env->n_pods = n_pods > ROUND_MAX_PODS ? ROUND_MAX_PODS : n_pods;
    for (int i = 0; i < env->n_pods; i++) {
        snprintf(env->pods[i], sizeof(env->pods[i]), "%s-%d", svc, i);
        fixture_ipv4(ip_base + (unsigned)i, env->ips[i]);
    }
    env->controller = controller;
    env->quiet_ns = ROUND_QUIET_NS;
}

const char *round_trigger_name(enum round_trigger trig)
{
    switch (trig) {
    case ROUND_NOTREADY:
        return "notReady";
    case ROUND_TERMINATING:
        return "terminating";
    case ROUND_NOIP:
        return "noIP";
    case ROUND_TRIGGERS:
        break;
    }
    return "?";
}

static bool round_is_builtin(const struct round_env *env,
                             const struct slicetab_slice *s)
{
    return s->builtin && !s->gone && strcmp(s->ns, env->ns) == 0 &&
           strcmp(s->service, env->svc) == 0;
}

/* Every pod is a ready, non-terminating endpoint of the built-in slices
 * (and nothing else is), and the leader slice holds one ready endpoint. */
static bool round_settled(const struct slicetab *t, void *ctx)
{
    const struct round_env *env = ctx;
    int ready = 0;
    int total = 0;
    for (size_t i = 0; i < slicetab_count(t); i++) {
        const struct slicetab_slice *s = slicetab_at(t, i);
        if (!round_is_builtin(env, s))
            continue;
        total += s->n_ep;
        for (int k = 0; k < s->n_ep && k < SLICETAB_MAX_EP; k++)
            ready += s->ep[k].ready && !s->ep[k].terminating;
    }
    if (ready != env->n_pods || total != env->n_pods)
        return false;
    if (!env->controller)
        return true;
    const struct slicetab_slice *l =
        slicetab_find(t, env->ns, env->leader_slice);
    return l != NULL && l->n_ep == 1 && l->ep[0].ready &&
           l->ep[0].pod[0] != '\0';
}

/* The leader slice names a pod other than the old one. */
static bool round_moved(const struct slicetab *t, void *ctx)
{
    const struct round_ctx *c = ctx;
    const struct slicetab_slice *l =
        slicetab_find(t, c->env->ns, c->env->leader_slice);
    if (l == NULL)
        return false;
    for (int k = 0; k < l->n_ep && k < SLICETAB_MAX_EP; k++)
        if (l->ep[k].pod[0] != '\0' && strcmp(l->ep[k].pod, c->old) != 0)
            return true;
    return false;
}

/* No built-in slice of the source has the old pod as a ready endpoint. */
static bool round_builtin_dropped(const struct slicetab *t, void *ctx)
{
    const struct round_ctx *c = ctx;
    for (size_t i = 0; i < slicetab_count(t); i++) {
        const struct slicetab_slice *s = slicetab_at(t, i);
        if (!round_is_builtin(c->env, s))
            continue;
        for (int k = 0; k < s->n_ep && k < SLICETAB_MAX_EP; k++)
            if (strcmp(s->ep[k].pod, c->old) == 0 && s->ep[k].ready)
                return false;
    }
    return true;
}

enum zl_err round_wait_settled(struct round_env *env)
{
    bool ok = slicetab_wait_quiet(env->tab, round_settled, env, env->quiet_ns,
                                  clock_mono_ns() + ROUND_TIMEOUT_NS);
    if (!ok)
        fprintf(stderr, "bench: %s/%s did not settle\n", env->ns, env->svc);
    return ok ? ZL_OK : ZL_ERR_TIMEOUT;
}

enum zl_err round_setup(struct round_env *env)
{
    enum zl_err rc = fixture_service(env->b, env->ns, env->svc);
    for (int i = 0; rc == ZL_OK && i < env->n_pods; i++)
        rc = fixture_ready_pod(env->b, env->ns, env->pods[i], env->svc,
                               env->node, env->ips[i]);
    return rc == ZL_OK ? round_wait_settled(env) : rc;
}

static int round_pod_index(const struct round_env *env, const char *pod)
{
    for (int i = 0; i < env->n_pods; i++)
        if (strcmp(env->pods[i], pod) == 0)
            return i;
    return -1;
}

/* The pod to take out: the leader, or in turn without a controller. */
static int round_victim(struct round_env *env)
{
    if (!env->controller)
        return (int)(env->rounds % (unsigned)env->n_pods);
    slicetab_lock(env->tab);
    const struct slicetab_slice *l =
        slicetab_find(env->tab, env->ns, env->leader_slice);
    int i = l != NULL && l->n_ep == 1 ? round_pod_index(env, l->ep[0].pod) : -1;
    slicetab_unlock(env->tab);
    return i;
}

static enum zl_err round_trigger(struct round_env *env, enum round_trigger trig,
                                 int i)
{
    switch (trig) {
    case ROUND_NOTREADY:
        return fixture_pod_status(env->b, env->ns, env->pods[i], false, NULL);
    case ROUND_TERMINATING:
        return bk_delete(env->b, BK_POD, env->ns, env->pods[i], -1);
    case ROUND_NOIP:
        return fixture_pod_clear_ip(env->b, env->ns, env->pods[i]);
    case ROUND_TRIGGERS:
        break;
    }
    return ZL_ERR_INVALID;
}

/* Force-deletes the terminating pod and makes it again, Ready. */
static enum zl_err round_recreate(struct round_env *env, int i)
{
    enum zl_err rc = bk_delete(env->b, BK_POD, env->ns, env->pods[i], 0);
    if (rc != ZL_OK && rc != ZL_ERR_NOTFOUND)
        return rc;
    for (int k = 0; k < ROUND_RECREATE_TRIES; k++) {
        rc = fixture_pod(env->b, env->ns, env->pods[i], env->svc, env->node);
        if (rc != ZL_ERR_EXISTS)
            break;
        struct timespec ts = {0, 20L * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (rc != ZL_OK)
        return rc;
    return fixture_pod_status(env->b, env->ns, env->pods[i], true, env->ips[i]);
}

static enum zl_err round_restore(struct round_env *env, enum round_trigger trig,
                                 int i)
{
    if (trig == ROUND_TERMINATING)
        return round_recreate(env, i);
    return fixture_pod_status(env->b, env->ns, env->pods[i], true, env->ips[i]);
}

static void round_fill(struct round_env *env, const int64_t times[],
                       struct round_result *out)
{
    out->tb = times[ROUND_PROBE_TB];
    out->t1 = times[ROUND_PROBE_T1];
    slicetab_lock(env->tab);
    const struct slicetab_slice *l =
        slicetab_find(env->tab, env->ns, env->leader_slice);
    if (l != NULL && l->n_ep >= 1)
        snprintf(out->new_pod, sizeof(out->new_pod), "%s", l->ep[0].pod);
    slicetab_unlock(env->tab);
}

enum zl_err round_run(struct round_env *env, enum round_trigger trig,
                      struct round_result *out)
{
    memset(out, 0, sizeof(*out));
    enum zl_err rc = round_wait_settled(env);
    int i = rc == ZL_OK ? round_victim(env) : -1;
    if (i < 0)
        return rc == ZL_OK ? ZL_ERR_INTERNAL : rc;
    env->rounds++;
    snprintf(out->old_pod, sizeof(out->old_pod), "%s", env->pods[i]);
    struct round_ctx ctx = {env, env->pods[i]};
    slicetab_arm(env->tab, ROUND_PROBE_TB, round_builtin_dropped, &ctx);
    if (env->controller)
        slicetab_arm(env->tab, ROUND_PROBE_T1, round_moved, &ctx);
    out->ts = clock_mono_ns();
    rc = round_trigger(env, trig, i);
    out->t0 = clock_mono_ns();
    int64_t times[SLICETAB_MAX_PROBES];
    bool all = rc == ZL_OK &&
               slicetab_wait(env->tab, out->t0 + ROUND_TIMEOUT_NS, times);
    if (rc == ZL_OK)
        round_fill(env, times, out);
    slicetab_disarm(env->tab, ROUND_PROBE_TB);
    slicetab_disarm(env->tab, ROUND_PROBE_T1);
    enum zl_err rr = round_restore(env, trig, i);
    if (rc == ZL_OK && !all)
        rc = ZL_ERR_TIMEOUT;
    return rc != ZL_OK ? rc : rr;
}

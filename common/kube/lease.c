/* SPDX-License-Identifier: Apache-2.0 */
/* Lease-based leader election: the pure rules (decide, next record, parse,
 * render) and the election thread that applies them with the REST client.
 * The thread is the only writer of its state; other threads read the
 * leader flag and its validity deadline through atomics. */
#include "kube/lease.h"

#include <json-c/json.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/json.h"
#include "base/log.h"
#include "base/sync.h"

/* ---- pure rules ---- */

enum zl_err lease_validate(long duration_ms, long renew_deadline_ms,
                           long retry_period_ms)
{
    if (duration_ms <= 0 || renew_deadline_ms <= 0 || retry_period_ms <= 0) {
        log_warn("lease: durations must be positive");
        return ZL_ERR_INVALID;
    }
    if (duration_ms <= renew_deadline_ms) {
        log_warn("lease: leaseDuration (%ld ms) must exceed renewDeadline "
                 "(%ld ms)",
                 duration_ms, renew_deadline_ms);
        return ZL_ERR_INVALID;
    }
    if ((double)renew_deadline_ms <= LEASE_JITTER * (double)retry_period_ms) {
        log_warn("lease: renewDeadline (%ld ms) must exceed %.1f x "
                 "retryPeriod (%ld ms)",
                 renew_deadline_ms, LEASE_JITTER, retry_period_ms);
        return ZL_ERR_INVALID;
    }
    return ZL_OK;
}

enum lease_action lease_decide(const struct lease_record *rec,
                               int64_t observed_ns, int64_t now_ns,
                               const char *identity, int64_t *expires_ns)
{
    if (expires_ns != NULL)
        *expires_ns = 0;
    if (rec == NULL)
        return LEASE_CREATE;
    if (strcmp(rec->holder, identity) == 0)
        return LEASE_RENEW;
    if (rec->holder[0] == '\0')
        return LEASE_ACQUIRE;
    int64_t expires = observed_ns + (int64_t)rec->duration_s * CLOCK_NS_PER_S;
    if (now_ns < expires) {
        if (expires_ns != NULL)
            *expires_ns = expires;
        return LEASE_WAIT;
    }
    return LEASE_ACQUIRE;
}

bool lease_record_changed(const struct lease_record *a,
                          const struct lease_record *b)
{
    return strcmp(a->holder, b->holder) != 0 ||
           a->duration_s != b->duration_s ||
           strcmp(a->acquire_time, b->acquire_time) != 0 ||
           strcmp(a->renew_time, b->renew_time) != 0 ||
           a->transitions != b->transitions;
}

static void copy_text(char *dst, size_t dst_size, const char *src)
{
    size_t n = strlen(src);
    if (n >= dst_size)
        n = dst_size - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

void lease_next_record(const struct lease_record *observed,
                       enum lease_action action, const char *identity,
                       long duration_s, const char *now_text,
                       struct lease_record *out)
{
    memset(out, 0, sizeof(*out));
    copy_text(out->holder, sizeof(out->holder), identity);
    out->duration_s = duration_s;
    copy_text(out->renew_time, sizeof(out->renew_time), now_text);
    copy_text(out->acquire_time, sizeof(out->acquire_time), now_text);
    if (observed == NULL || action == LEASE_CREATE)
        return;
    copy_text(out->resource_version, sizeof(out->resource_version),
              observed->resource_version);
    out->transitions = observed->transitions;
    if (strcmp(observed->holder, identity) == 0 && action == LEASE_RENEW) {
        copy_text(out->acquire_time, sizeof(out->acquire_time),
                  observed->acquire_time);
        return;
    }
    out->transitions = observed->transitions + 1;
}

void lease_release_record(const struct lease_record *observed,
                          const char *now_text, struct lease_record *out)
{
    memset(out, 0, sizeof(*out));
    out->duration_s = 1;
    copy_text(out->acquire_time, sizeof(out->acquire_time), now_text);
    copy_text(out->renew_time, sizeof(out->renew_time), now_text);
    out->transitions = observed->transitions;
    copy_text(out->resource_version, sizeof(out->resource_version),
              observed->resource_version);
}

static enum zl_err get_text(struct json_object *obj, const char *key, char *dst,
                            size_t dst_size)
{
    struct json_object *v;
    dst[0] = '\0';
    if (!json_object_object_get_ex(obj, key, &v) ||
        !json_object_is_type(v, json_type_string))
        return ZL_OK;
    const char *s = json_object_get_string(v);
    if (strlen(s) >= dst_size) {
        log_warn("lease: %s longer than %zu bytes", key, dst_size - 1);
        return ZL_ERR_LIMIT;
    }
    copy_text(dst, dst_size, s);
    return ZL_OK;
}

static long get_long(struct json_object *obj, const char *key)
{
    struct json_object *v;
    if (!json_object_object_get_ex(obj, key, &v) ||
        !json_object_is_type(v, json_type_int))
        return 0;
    return (long)json_object_get_int64(v);
}

enum zl_err lease_record_parse(const char *json, size_t json_len,
                               struct lease_record *out)
{
    memset(out, 0, sizeof(*out));
    struct json_object *root = NULL, *meta = NULL, *spec = NULL;
    enum zl_err rc = json_parse_object(json, json_len, &root);
    if (rc != ZL_OK)
        return rc;
    if (json_object_object_get_ex(root, "metadata", &meta))
        rc = get_text(meta, "resourceVersion", out->resource_version,
                      sizeof(out->resource_version));
    if (rc != ZL_OK || !json_object_object_get_ex(root, "spec", &spec) ||
        !json_object_is_type(spec, json_type_object))
        goto out;
    rc = get_text(spec, "holderIdentity", out->holder, sizeof(out->holder));
    if (rc == ZL_OK)
        rc = get_text(spec, "acquireTime", out->acquire_time,
                      sizeof(out->acquire_time));
    if (rc == ZL_OK)
        rc = get_text(spec, "renewTime", out->renew_time,
                      sizeof(out->renew_time));
    out->duration_s = get_long(spec, "leaseDurationSeconds");
    out->transitions = get_long(spec, "leaseTransitions");
out:
    json_object_put(root);
    return rc;
}

static enum zl_err put_field(struct buf *out, const char *key,
                             const char *value)
{
    enum zl_err rc = buf_printf(out, ",\"%s\":", key);
    if (rc == ZL_OK)
        rc = buf_put_json_string(out, value);
    return rc;
}

enum zl_err lease_render(const char *ns, const char *name,
                         const struct lease_record *rec, struct buf *out)
{
    enum zl_err rc = buf_puts(out, "{\"apiVersion\":\"coordination.k8s.io/"
                                   "v1\",\"kind\":\"Lease\",\"metadata\":{"
                                   "\"name\":");
    if (rc == ZL_OK)
        rc = buf_put_json_string(out, name);
    if (rc == ZL_OK)
        rc = put_field(out, "namespace", ns);
    if (rc == ZL_OK && rec->resource_version[0] != '\0')
        rc = put_field(out, "resourceVersion", rec->resource_version);
    if (rc == ZL_OK)
        rc = buf_puts(out, "},\"spec\":{\"holderIdentity\":");
    if (rc == ZL_OK)
        rc = buf_put_json_string(out, rec->holder);
    if (rc == ZL_OK)
        rc = buf_printf(out, ",\"leaseDurationSeconds\":%ld", rec->duration_s);
    if (rc == ZL_OK && rec->acquire_time[0] != '\0')
        rc = put_field(out, "acquireTime", rec->acquire_time);
    if (rc == ZL_OK && rec->renew_time[0] != '\0')
        rc = put_field(out, "renewTime", rec->renew_time);
    if (rc == ZL_OK)
        rc = buf_printf(out, ",\"leaseTransitions\":%ld}}", rec->transitions);
    return rc;
}

/* ---- the elector ---- */

struct lease {
    struct client *client;
    char *ns, *name, *identity;
    int64_t duration_ns, renew_deadline_ns, retry_ns;
    double jitter;
    bool keep_on_stop;
    struct lease_callbacks cb;

    pthread_t thread;
    bool started, joined;
    pthread_mutex_t mu; /* guards stopping; cond wakes the thread */
    pthread_cond_t cond;
    bool stopping;
    atomic_bool leader;
    atomic_llong valid_until_ns; /* leader only until this instant */
    atomic_bool finished;
    unsigned seed;

    /* Election thread only. */
    bool have_observed;
    struct lease_record observed;
    int64_t observed_ns;
    int64_t last_renew_ns;
};

/* Now as a MicroTime. */
static void now_micro_time(char out[LEASE_TIME_LEN])
{
    clock_format_ns(clock_real_ns(), CLOCK_PREC_US, out);
}

static char *dup_text(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d != NULL)
        memcpy(d, s, n);
    return d;
}

static enum zl_err init_sync(struct lease *l)
{
    pthread_cond_t *conds[] = {&l->cond};
    return sync_init(&l->mu, conds, 1);
}

static long or_default(long v, long def)
{
    return v > 0 ? v : def;
}

enum zl_err lease_new(struct client *client, const struct lease_options *opt,
                      struct lease **out)
{
    *out = NULL;
    if (opt->lease_namespace == NULL || opt->name == NULL ||
        opt->identity == NULL || opt->identity[0] == '\0')
        return ZL_ERR_INVALID;
    if (strlen(opt->identity) > LEASE_MAX_IDENTITY)
        return ZL_ERR_LIMIT;
    long d = or_default(opt->duration_ms, LEASE_DURATION_MS);
    long rd = or_default(opt->renew_deadline_ms, LEASE_RENEW_DEADLINE_MS);
    long rp = or_default(opt->retry_period_ms, LEASE_RETRY_PERIOD_MS);
    enum zl_err rc = lease_validate(d, rd, rp);
    if (rc != ZL_OK)
        return rc;
    struct lease *l = calloc(1, sizeof(*l));
    if (l == NULL)
        return ZL_ERR_NOMEM;
    l->client = client;
    l->duration_ns = (int64_t)d * CLOCK_NS_PER_MS;
    l->renew_deadline_ns = (int64_t)rd * CLOCK_NS_PER_MS;
    l->retry_ns = (int64_t)rp * CLOCK_NS_PER_MS;
    l->jitter = opt->jitter == 0 ? LEASE_JITTER : opt->jitter;
    l->keep_on_stop = opt->keep_on_stop;
    l->cb = opt->cb;
    l->seed = (unsigned)clock_real_ns() ^ (unsigned)(uintptr_t)l;
    l->ns = dup_text(opt->lease_namespace);
    l->name = dup_text(opt->name);
    l->identity = dup_text(opt->identity);
    rc = ZL_ERR_NOMEM;
    if (l->ns == NULL || l->name == NULL || l->identity == NULL)
        goto fail;
    rc = init_sync(l);
    if (rc != ZL_OK)
        goto fail;
    *out = l;
    return ZL_OK;
fail:
    free(l->ns);
    free(l->name);
    free(l->identity);
    free(l);
    return rc;
}

bool lease_is_leader(struct lease *l)
{
    if (!atomic_load(&l->leader))
        return false;
    return clock_mono_ns() < (int64_t)atomic_load(&l->valid_until_ns);
}

bool lease_finished(struct lease *l)
{
    return atomic_load(&l->finished);
}

static bool stop_requested(struct lease *l)
{
    pthread_mutex_lock(&l->mu);
    bool s = l->stopping;
    pthread_mutex_unlock(&l->mu);
    return s;
}

/* Sleeps until the monotonic instant `until` or a stop request. */
static void wait_until(struct lease *l, int64_t until)
{
    struct timespec ts = sync_timespec(until);
    pthread_mutex_lock(&l->mu);
    while (!l->stopping && clock_mono_ns() < until)
        pthread_cond_timedwait(&l->cond, &l->mu, &ts);
    pthread_mutex_unlock(&l->mu);
}

/* Records what was read; the observation time moves only on a change. */
static void observe(struct lease *l, const struct lease_record *rec,
                    int64_t now)
{
    bool holder_changed =
        !l->have_observed || strcmp(l->observed.holder, rec->holder) != 0;
    if (!l->have_observed || lease_record_changed(&l->observed, rec))
        l->observed_ns = now;
    l->observed = *rec;
    l->have_observed = true;
    if (holder_changed && l->cb.on_new_leader != NULL)
        l->cb.on_new_leader(l->cb.ctx, rec->holder);
}

static enum zl_err write_record(struct lease *l, const struct lease_record *rec,
                                bool create)
{
    struct buf body;
    struct client_response resp;
    buf_init(&body, 8192);
    client_response_init(&resp);
    enum zl_err rc = lease_render(l->ns, l->name, rec, &body);
    if (rc != ZL_OK)
        goto out;
    if (create)
        rc = client_create(l->client, &CLIENT_LEASES, l->ns, body.data, &resp);
    else
        rc = client_update(l->client, &CLIENT_LEASES, l->ns, l->name, NULL,
                           body.data, &resp);
    if (rc != ZL_OK)
        goto out;
    struct lease_record written;
    if (lease_record_parse(resp.body.data, resp.body.len, &written) == ZL_OK)
        observe(l, &written, clock_mono_ns());
out:
    client_response_cleanup(&resp);
    buf_cleanup(&body);
    return rc;
}

/* One round of client-go's tryAcquireOrRenew. ZL_OK when we hold the lease
 * afterwards; ZL_ERR_EXISTS when someone else validly does (*expires_ns
 * says until when, as far as we know); other errors from the API. */
static enum zl_err try_acquire_or_renew(struct lease *l, int64_t *expires_ns)
{
    struct client_response resp;
    client_response_init(&resp);
    int64_t now = clock_mono_ns();
    *expires_ns = 0;
    enum zl_err rc =
        client_get(l->client, &CLIENT_LEASES, l->ns, l->name, &resp);
    struct lease_record got, next;
    bool exists = rc == ZL_OK;
    if (rc != ZL_OK && rc != ZL_ERR_NOTFOUND)
        goto out;
    if (exists) {
        rc = lease_record_parse(resp.body.data, resp.body.len, &got);
        if (rc != ZL_OK)
            goto out;
        observe(l, &got, now);
    }
    enum lease_action act =
        lease_decide(exists ? &l->observed : NULL, l->observed_ns, now,
                     l->identity, expires_ns);
    if (act == LEASE_WAIT) {
        rc = ZL_ERR_EXISTS;
        goto out;
    }
    char now_text[LEASE_TIME_LEN];
    now_micro_time(now_text);
    long duration_s =
        (long)((l->duration_ns + CLOCK_NS_PER_S - 1) / CLOCK_NS_PER_S);
    lease_next_record(exists ? &l->observed : NULL, act, l->identity,
                      duration_s, now_text, &next);
    rc = write_record(l, &next, act == LEASE_CREATE);
    if (rc == ZL_OK)
        l->last_renew_ns = now;
out:
    client_response_cleanup(&resp);
    return rc;
}

static int64_t jittered_retry(struct lease *l)
{
    if (l->jitter <= 0)
        return l->retry_ns;
    double f = (double)rand_r(&l->seed) / (double)RAND_MAX;
    return l->retry_ns + (int64_t)(f * l->jitter * (double)l->retry_ns);
}

static void start_leading(struct lease *l)
{
    atomic_store(&l->valid_until_ns,
                 (long long)(l->last_renew_ns + l->renew_deadline_ns));
    atomic_store(&l->leader, true);
    log_info("lease: %s/%s acquired by %s", l->ns, l->name, l->identity);
    if (l->cb.on_started_leading != NULL)
        l->cb.on_started_leading(l->cb.ctx);
}

static void stop_leading(struct lease *l, const char *why)
{
    atomic_store(&l->leader, false);
    log_warn("lease: %s/%s: %s stops leading: %s", l->ns, l->name, l->identity,
             why);
    if (l->cb.on_stopped_leading != NULL)
        l->cb.on_stopped_leading(l->cb.ctx);
}

/* Contends until acquired (true) or stopped (false). A follower retries
 * every retryPeriod (jittered) but never sleeps past the instant the
 * holder's lease lapses, so takeover follows expiry closely. */
static bool acquire_loop(struct lease *l)
{
    while (!stop_requested(l)) {
        int64_t expires = 0;
        enum zl_err rc = try_acquire_or_renew(l, &expires);
        if (rc == ZL_OK)
            return true;
        if (rc != ZL_ERR_EXISTS && rc != ZL_ERR_CONFLICT)
            log_warn("lease: %s/%s: acquire: %s", l->ns, l->name,
                     zl_err_str(rc));
        int64_t now = clock_mono_ns();
        int64_t until = now + jittered_retry(l);
        if (expires > now && expires < until)
            until = expires;
        wait_until(l, until);
    }
    return false;
}

/* Renews every retryPeriod until a stop request (true) or until renewing
 * failed for renewDeadline or another holder was seen (false). */
static bool renew_loop(struct lease *l)
{
    for (;;) {
        wait_until(l, clock_mono_ns() + l->retry_ns);
        if (stop_requested(l))
            return true;
        int64_t expires = 0;
        enum zl_err rc = try_acquire_or_renew(l, &expires);
        if (rc == ZL_OK) {
            atomic_store(&l->valid_until_ns,
                         (long long)(l->last_renew_ns + l->renew_deadline_ns));
            continue;
        }
        if (rc == ZL_ERR_EXISTS) {
            stop_leading(l, "another holder was observed");
            return false;
        }
        log_warn("lease: %s/%s: renew: %s", l->ns, l->name, zl_err_str(rc));
        if (clock_mono_ns() >= l->last_renew_ns + l->renew_deadline_ns) {
            stop_leading(l, "renew deadline passed");
            return false;
        }
    }
}

static void release(struct lease *l)
{
    if (!l->have_observed || strcmp(l->observed.holder, l->identity) != 0)
        return;
    char now_text[LEASE_TIME_LEN];
    struct lease_record rec;
    now_micro_time(now_text);
    lease_release_record(&l->observed, now_text, &rec);
    enum zl_err rc = write_record(l, &rec, false);
    if (rc != ZL_OK)
        log_warn("lease: %s/%s: release: %s", l->ns, l->name, zl_err_str(rc));
    else
        log_info("lease: %s/%s released by %s", l->ns, l->name, l->identity);
}

static void *election_thread(void *arg)
{
    struct lease *l = arg;
    if (acquire_loop(l)) {
        start_leading(l);
        if (renew_loop(l)) {
            stop_leading(l, "stopping");
            if (!l->keep_on_stop)
                release(l);
        }
    }
    atomic_store(&l->finished, true);
    return NULL;
}

enum zl_err lease_start(struct lease *l)
{
    if (l->started)
        return ZL_ERR_INVALID;
    if (pthread_create(&l->thread, NULL, election_thread, l) != 0)
        return ZL_ERR_INTERNAL;
    l->started = true;
    return ZL_OK;
}

void lease_stop(struct lease *l)
{
    pthread_mutex_lock(&l->mu);
    l->stopping = true;
    pthread_cond_broadcast(&l->cond);
    pthread_mutex_unlock(&l->mu);
    if (l->started && !l->joined) {
        pthread_join(l->thread, NULL);
        l->joined = true;
    }
    atomic_store(&l->finished, true);
}

void lease_free(struct lease *l)
{
    if (l == NULL)
        return;
    lease_stop(l);
    pthread_cond_destroy(&l->cond);
    pthread_mutex_destroy(&l->mu);
    free(l->ns);
    free(l->name);
    free(l->identity);
    free(l);
}

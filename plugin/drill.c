/* SPDX-License-Identifier: Apache-2.0 */
/* kubectl zenlead drill (see drill.h): reads the Service as status does,
 * refuses when there is no leader or no other ready candidate, watches the
 * leader Service's EndpointSlices from before the delete, deletes the
 * leader pod with its uid as precondition and times the first slice event
 * that names another ready pod. With a probe URL a second thread asks the
 * URL every 10 ms on new connections; its records become the figures a
 * client saw (drillstats). The watch runs on one client_multi driven by
 * the calling thread; the one write is the DELETE. */
#include "plugin/drill.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/duration.h"
#include "base/json.h"
#include "kube/views.h"
#include "kube/watch.h"
#include "plugin/drillstats.h"
#include "plugin/gather.h"
#include "plugin/report.h"

#define DRILL_PROBE_INTERVAL_MS 10
#define DRILL_PROBE_TIMEOUT_MS 1000
/* After the new leader: the probe goes on this long past its first answer
 * from the new pod, and gives up this long after the new leader. */
#define DRILL_PROBE_TAIL_MS 300
#define DRILL_PROBE_MAX_AFTER_MS 5000
/* Before the delete: the probe's first answer is awaited at most this
 * long, so the run shows the old leader answering. */
#define DRILL_PROBE_WARMUP_MS 1500
#define DRILL_PROBE_MAX_RECORDS ((size_t)1 << 20)
#define DRILL_WAIT_SLICE_MS 100
/* After the new leader, how long the old endpoint's removal is awaited. */
#define DRILL_REMOVAL_WAIT_MS 2000
#define DRILL_WATCH_RESTARTS 5
#define DRILL_ERROR_BODY_MAX 4096
#define DRILL_ERROR_MAX 768 /* a watch error, with the server's message */
#define DRILL_ANSWER_MAX 64
#define DRILL_DEFAULT_GRACE_S 30

/* ---- the probe ----------------------------------------------------------- */

struct drill_probe {
    const char *url; /* borrowed */
    pthread_t thread;
    bool started;
    atomic_bool stop;
    atomic_size_t done; /* requests completed so far */
    /* The new leader and when it came (-1: not yet), under mu. */
    pthread_mutex_t mu;
    bool mu_ready;
    int64_t t1_ms;
    char new_pod[DRILLSTATS_POD_MAX];
    /* The probe thread's own until it is joined: its copy of the above
     * once known, and the records. */
    int64_t seen_t1_ms;
    char seen_new_pod[DRILLSTATS_POD_MAX];
    struct drillstats_record *records;
    size_t count;
    size_t cap;
    bool truncated; /* DRILL_PROBE_MAX_RECORDS reached */
    int64_t first_new_ms;
};

static int64_t drill_now_ms(void)
{
    return clock_mono_ns() / CLOCK_NS_PER_MS;
}

static void drill_sleep_ms(int64_t ms)
{
    if (ms <= 0)
        return;
    struct timespec ts = {.tv_sec = (time_t)(ms / 1000),
                          .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        continue;
}

/* The body of one answer, bounded (a pod answers its name). */
struct drill_answer {
    char data[DRILL_ANSWER_MAX];
    size_t len;
};

static size_t drill_probe_write(char *ptr, size_t size, size_t nmemb, void *ctx)
{
    struct drill_answer *a = ctx;
    size_t n = size * nmemb;
    size_t room = sizeof(a->data) - a->len;
    memcpy(a->data + a->len, ptr, n < room ? n : room);
    a->len += n < room ? n : room;
    return n;
}

static enum zl_err drill_probe_setup(CURL *h, const char *url,
                                     struct drill_answer *a)
{
    CURLcode rc = curl_easy_setopt(h, CURLOPT_URL, url);
    /* Every request on a new connection, as a client that retries would:
     * a kept connection would hide the switch. No proxy: the probe is
     * about the path to the Service. */
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(h, CURLOPT_FORBID_REUSE, 1L);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                              (long)DRILL_PROBE_TIMEOUT_MS);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(h, CURLOPT_TIMEOUT_MS,
                              (long)DRILL_PROBE_TIMEOUT_MS);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(h, CURLOPT_PROXY, "");
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, drill_probe_write);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(h, CURLOPT_WRITEDATA, a);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(h, CURLOPT_USERAGENT, "kubectl-zenlead-drill");
    return rc == CURLE_OK ? ZL_OK : ZL_ERR_INVALID;
}

static void drill_probe_once(CURL *h, struct drill_answer *a,
                             struct drillstats_record *rec)
{
    memset(rec, 0, sizeof(*rec));
    a->len = 0;
    rec->start_ms = drill_now_ms();
    CURLcode rc = curl_easy_perform(h);
    rec->end_ms = drill_now_ms();
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    if (rc != CURLE_OK) {
        snprintf(rec->error, sizeof(rec->error), "%s", curl_easy_strerror(rc));
    } else if (code < 200 || code > 299) {
        snprintf(rec->error, sizeof(rec->error), "HTTP %ld", code);
    } else if (!drillstats_set_pod(rec, a->data, a->len)) {
        snprintf(rec->error, sizeof(rec->error), "empty answer");
    } else {
        rec->ok = true;
    }
}

static struct drillstats_record *drill_probe_slot(struct drill_probe *p)
{
    if (p->count == p->cap) {
        if (p->cap == DRILL_PROBE_MAX_RECORDS) {
            p->truncated = true;
            return NULL;
        }
        size_t cap = p->cap == 0 ? 1024 : p->cap * 2;
        struct drillstats_record *r =
            realloc(p->records, cap * sizeof(*p->records));
        if (r == NULL)
            return NULL;
        p->records = r;
        p->cap = cap;
    }
    return &p->records[p->count];
}

/* Whether the probe has seen enough: the new leader answered and the tail
 * passed, or the new leader came long ago and never answered. */
static bool drill_probe_enough(struct drill_probe *p, int64_t now)
{
    if (p->seen_t1_ms < 0) {
        pthread_mutex_lock(&p->mu);
        p->seen_t1_ms = p->t1_ms;
        memcpy(p->seen_new_pod, p->new_pod, sizeof(p->seen_new_pod));
        pthread_mutex_unlock(&p->mu);
    }
    int64_t t1 = p->seen_t1_ms;
    if (t1 < 0)
        return false;
    if (p->first_new_ms < 0 && p->count > 0) {
        const struct drillstats_record *r = &p->records[p->count - 1];
        if (r->ok && strcmp(r->pod, p->seen_new_pod) == 0)
            p->first_new_ms = r->end_ms;
    }
    if (p->first_new_ms >= 0) {
        int64_t from = p->first_new_ms > t1 ? p->first_new_ms : t1;
        return now >= from + DRILL_PROBE_TAIL_MS;
    }
    return now >= t1 + DRILL_PROBE_MAX_AFTER_MS;
}

static void *drill_probe_main(void *arg)
{
    struct drill_probe *p = arg;
    struct drill_answer answer;
    CURL *h = curl_easy_init();
    if (h == NULL || drill_probe_setup(h, p->url, &answer) != ZL_OK)
        goto out;
    int64_t next = drill_now_ms();
    while (!atomic_load(&p->stop)) {
        int64_t now = drill_now_ms();
        if (drill_probe_enough(p, now))
            break;
        drill_sleep_ms(next - now);
        next += DRILL_PROBE_INTERVAL_MS;
        if (next < drill_now_ms())
            next = drill_now_ms();
        struct drillstats_record *rec = drill_probe_slot(p);
        if (rec == NULL)
            break;
        drill_probe_once(h, &answer, rec);
        p->count++;
        atomic_fetch_add(&p->done, 1);
    }
out:
    curl_easy_cleanup(h);
    atomic_store(&p->stop, true);
    return NULL;
}

static enum zl_err drill_probe_start(struct drill_probe *p, const char *url)
{
    p->url = url;
    p->first_new_ms = p->t1_ms = p->seen_t1_ms = -1;
    if (pthread_mutex_init(&p->mu, NULL) != 0)
        return ZL_ERR_NOMEM;
    p->mu_ready = true;
    if (pthread_create(&p->thread, NULL, drill_probe_main, p) != 0)
        return ZL_ERR_NOMEM;
    p->started = true;
    return ZL_OK;
}

/* Tells the probe who the new leader is and since when. */
static void drill_probe_leader(struct drill_probe *p, const char *pod,
                               int64_t t1_ms)
{
    pthread_mutex_lock(&p->mu);
    snprintf(p->new_pod, sizeof(p->new_pod), "%s", pod);
    p->t1_ms = t1_ms;
    pthread_mutex_unlock(&p->mu);
}

static void drill_probe_join(struct drill_probe *p, bool now)
{
    if (!p->started)
        return;
    if (now)
        atomic_store(&p->stop, true);
    pthread_join(p->thread, NULL);
    p->started = false;
}

static void drill_probe_cleanup(struct drill_probe *p)
{
    drill_probe_join(p, true);
    free(p->records);
    p->records = NULL;
    if (p->mu_ready)
        pthread_mutex_destroy(&p->mu);
    p->mu_ready = false;
}

/* ---- the watch of the leader's slices ------------------------------------ */

struct drill_watch {
    struct client *c;
    const char *ns;
    const char *selector; /* kubernetes.io/service-name=<leader> */
    const char *slice;    /* the primary slice's name */
    const char *old_pod;
    struct client_multi *multi;
    struct client_stream *stream;
    struct watch_decoder dec;
    char *rv;
    int restarts;
    bool done; /* the stream ended */
    long http_code;
    struct buf error_body;
    char error[DRILL_ERROR_MAX]; /* set: the watch failed for good */
    int64_t t0_ms;
    struct drillstats_switch sw; /* times in ms from t0 */
};

/* The new leader's name, or NULL while none is known. */
static const char *drill_new_pod(const struct drill_watch *w)
{
    return w->sw.new_ms >= 0 ? w->sw.new_pod : NULL;
}

static enum zl_err drill_watch_set_rv(struct drill_watch *w, const char *rv)
{
    if (rv == NULL || *rv == '\0')
        return ZL_OK;
    char *copy = strdup(rv);
    if (copy == NULL)
        return ZL_ERR_NOMEM;
    free(w->rv);
    w->rv = copy;
    return ZL_OK;
}

static enum zl_err drill_watch_event(void *ctx, enum watch_type type,
                                     struct json_object *object)
{
    struct drill_watch *w = ctx;
    if (type == WATCH_ERROR) {
        snprintf(
            w->error, sizeof(w->error), "the watch failed: %s",
            json_object_to_json_string_ext(object, JSON_C_TO_STRING_PLAIN));
        return ZL_ERR_CANCELLED;
    }
    enum zl_err err = drill_watch_set_rv(w, watch_object_rv(object));
    if (err != ZL_OK || type == WATCH_BOOKMARK)
        return err;
    struct views_endpointslice *s = NULL;
    err = views_endpointslice_from_json(object, &s);
    if (err != ZL_OK)
        return err;
    if (strcmp(s->meta.name, w->slice) == 0)
        drillstats_switch_seen(&w->sw, s, type == WATCH_DELETED, w->old_pod,
                               drill_now_ms() - w->t0_ms);
    views_release(s);
    return ZL_OK;
}

static bool drill_watch_data(void *ctx, const char *data, size_t len,
                             long http_code)
{
    struct drill_watch *w = ctx;
    w->http_code = http_code;
    if (http_code != 200) {
        if (w->error_body.len + len > DRILL_ERROR_BODY_MAX)
            return true; /* the head of an error body is enough */
        return buf_append(&w->error_body, data, len) == ZL_OK;
    }
    enum zl_err err = watch_feed(&w->dec, data, len);
    if (err != ZL_OK && w->error[0] == '\0')
        snprintf(w->error, sizeof(w->error), "the watch stream: %s",
                 zl_err_str(err));
    return err == ZL_OK;
}

static void drill_watch_done(void *ctx, const struct client_stream_result *r)
{
    struct drill_watch *w = ctx;
    w->done = true;
    if (r->http_code == 200 && r->err == ZL_OK)
        watch_finish(&w->dec);
    if (w->error[0] != '\0')
        return;
    if (r->http_code != 0 && r->http_code != 200) {
        struct client_status st;
        bool is_status =
            client_decode_status(w->error_body.data, w->error_body.len, &st);
        snprintf(w->error, sizeof(w->error), "the watch got HTTP %ld: %s",
                 r->http_code, is_status ? st.message : "");
    }
}

static enum zl_err drill_watch_path(struct drill_watch *w, struct buf *path)
{
    enum zl_err err =
        client_path(&CLIENT_ENDPOINTSLICES, w->ns, NULL, NULL, path);
    if (err == ZL_OK)
        err = buf_puts(path, "?watch=1&timeoutSeconds=1800");
    if (err == ZL_OK)
        err = client_put_query(path, "labelSelector", w->selector);
    if (err == ZL_OK)
        err = client_put_query(path, "resourceVersion", w->rv);
    return err;
}

static enum zl_err drill_watch_open(struct drill_watch *w)
{
    struct buf path;
    buf_init(&path, CLIENT_MAX_PATH);
    int64_t delay_ns = 0;
    enum zl_err err = client_stream_reserve(w->c, &delay_ns);
    if (err == ZL_OK)
        err = drill_watch_path(w, &path);
    if (err != ZL_OK)
        goto out;
    drill_sleep_ms(delay_ns / CLOCK_NS_PER_MS);
    w->done = false;
    w->http_code = 0;
    buf_reset(&w->error_body);
    watch_reset(&w->dec);
    struct client_stream_options so = {.path = path.data,
                                       .on_data = drill_watch_data,
                                       .on_done = drill_watch_done,
                                       .ctx = w};
    err = client_stream_open(w->c, w->multi, &so, &w->stream);
out:
    buf_cleanup(&path);
    return err;
}

/* The primary slice of the LIST must still name the old leader: else the
 * leader changed since the Service was read, and the drill would time a
 * switch that already happened. */
static enum zl_err drill_watch_check_list(struct drill_watch *w,
                                          struct json_object *list)
{
    struct json_object *items = NULL;
    if (!json_object_object_get_ex(list, "items", &items) ||
        !json_object_is_type(items, json_type_array))
        return ZL_ERR_PARSE;
    struct drillstats_switch sw;
    drillstats_switch_init(&sw);
    bool found = false;
    for (size_t i = 0; i < json_object_array_length(items); i++) {
        struct views_endpointslice *s = NULL;
        enum zl_err err = views_endpointslice_from_json(
            json_object_array_get_idx(items, i), &s);
        if (err != ZL_OK)
            return err;
        if (strcmp(s->meta.name, w->slice) == 0) {
            found = true;
            drillstats_switch_seen(&sw, s, false, w->old_pod, 0);
        }
        views_release(s);
    }
    if (!found || sw.removed_ms >= 0) {
        snprintf(w->error, sizeof(w->error),
                 "the leader changed while the drill started (%s no longer "
                 "names %s); run it again",
                 w->slice, w->old_pod);
        return ZL_ERR_CONFLICT;
    }
    return ZL_OK;
}

/* The resourceVersion the watch starts from: a LIST of the slices. */
static enum zl_err drill_watch_list(struct drill_watch *w)
{
    struct client_response resp;
    client_response_init(&resp);
    struct client_list_options lo = {.label_selector = w->selector};
    struct json_object *list = NULL;
    enum zl_err err =
        client_list(w->c, &CLIENT_ENDPOINTSLICES, w->ns, &lo, &resp);
    if (err != ZL_OK) {
        snprintf(w->error, sizeof(w->error),
                 "cannot list the EndpointSlices: %s%s%s", zl_err_str(err),
                 resp.status.message[0] != '\0' ? ": " : "",
                 resp.status.message);
        goto out;
    }
    err = json_parse_object(resp.body.data, resp.body.len, &list);
    struct json_object *meta = NULL, *rv = NULL;
    if (err == ZL_OK && json_object_object_get_ex(list, "metadata", &meta) &&
        json_object_object_get_ex(meta, "resourceVersion", &rv))
        err = drill_watch_set_rv(w, json_object_get_string(rv));
    if (err == ZL_OK && w->rv == NULL)
        err = ZL_ERR_PARSE;
    if (err == ZL_OK)
        err = drill_watch_check_list(w, list);
    if (err != ZL_OK && w->error[0] == '\0')
        snprintf(w->error, sizeof(w->error),
                 "cannot read the EndpointSlice list: %s", zl_err_str(err));
out:
    json_object_put(list);
    client_response_cleanup(&resp);
    return err;
}

static enum zl_err drill_watch_start(struct drill_watch *w)
{
    buf_init(&w->error_body, DRILL_ERROR_BODY_MAX);
    watch_init(&w->dec, 0, drill_watch_event, w);
    drillstats_switch_init(&w->sw);
    enum zl_err err = client_multi_new(&w->multi);
    if (err == ZL_OK)
        err = drill_watch_list(w);
    if (err == ZL_OK)
        err = drill_watch_open(w);
    if (err != ZL_OK && w->error[0] == '\0')
        snprintf(w->error, sizeof(w->error), "cannot start the watch: %s",
                 zl_err_str(err));
    return err;
}

/* A stream that ended without an error (the server's timeout, a broken
 * connection) starts again from the last resourceVersion seen. */
static enum zl_err drill_watch_restart(struct drill_watch *w)
{
    client_stream_close(w->stream);
    w->stream = NULL;
    if (w->error[0] != '\0')
        return ZL_ERR_IO;
    if (++w->restarts > DRILL_WATCH_RESTARTS) {
        snprintf(w->error, sizeof(w->error), "the watch broke %d times",
                 w->restarts);
        return ZL_ERR_TRANSIENT;
    }
    return drill_watch_open(w);
}

/* Drives the watch until the new leader came (ZL_OK) or deadline_ms
 * (absolute) passed (ZL_ERR_TIMEOUT), or fails with the watch's error
 * (w->error says it). */
static enum zl_err drill_watch_wait(struct drill_watch *w, int64_t deadline_ms)
{
    while (drill_new_pod(w) == NULL) {
        int64_t now = drill_now_ms();
        if (now >= deadline_ms)
            return ZL_ERR_TIMEOUT;
        if (w->done) {
            enum zl_err err = drill_watch_restart(w);
            if (err != ZL_OK)
                return err;
        }
        if (client_multi_perform(w->multi) > 0)
            continue;
        long wait = (long)(deadline_ms - now);
        client_multi_wait(
            w->multi, wait < DRILL_WAIT_SLICE_MS ? wait : DRILL_WAIT_SLICE_MS);
    }
    return ZL_OK;
}

/* Moves the stream on for up to ms while nothing else is to be done. */
static void drill_watch_pump(struct drill_watch *w, int64_t until_ms)
{
    while (drill_now_ms() < until_ms && !w->done) {
        if (client_multi_perform(w->multi) > 0)
            continue;
        client_multi_wait(w->multi, 10);
    }
}

static void drill_watch_cleanup(struct drill_watch *w)
{
    client_stream_close(w->stream);
    w->stream = NULL;
    client_multi_free(w->multi);
    w->multi = NULL;
    watch_cleanup(&w->dec);
    buf_cleanup(&w->error_body);
    free(w->rv);
}

/* ---- the drill ----------------------------------------------------------- */

struct drill {
    struct client *c;
    const struct drill_options *o;
    struct gather_service g;
    struct gather_lease lease;
    bool has_lease;
    struct report r;
    const struct views_pod *leader; /* borrowed from g */
    size_t eligible;                /* ready candidates besides the leader */
    long grace_s;                   /* the leader's grace period */
    char selector[GATHER_ERROR_MAX];
    struct drill_watch w;
    struct drill_probe p;
    bool deleted;
    int64_t t0_ms;
};

/* Says why the drill stops, on the error stream; returns the exit code 1. */
__attribute__((format(printf, 2, 3))) static int
drill_refuse(const struct drill *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(d->o->err, "drill %s/%s: ", d->o->namespace_name, d->o->service);
    vfprintf(d->o->err, fmt, ap);
    fputc('\n', d->o->err);
    va_end(ap);
    return 1;
}

static enum zl_err drill_gather(struct drill *d)
{
    const struct drill_options *o = d->o;
    enum zl_err err =
        gather_service(d->c, o->namespace_name, o->service, &d->g);
    if (err == ZL_OK && o->lease_name != NULL && o->lease_namespace != NULL) {
        d->has_lease = true;
        err = gather_lease(d->c, o->lease_namespace, o->lease_name, &d->lease);
    }
    if (err == ZL_OK)
        err = report_build(&d->g, d->has_lease ? &d->lease : NULL,
                           clock_real_ns() / CLOCK_NS_PER_MS, &d->r);
    return err;
}

/* Whether the drill may go on: a leader and, unless forced, another ready
 * candidate. Returns 0, or the exit code after saying why not. */
static int drill_check(struct drill *d)
{
    if (d->g.source_state == GATHER_ABSENT)
        return drill_refuse(d, "no such Service");
    if (d->g.source_state != GATHER_OK)
        return drill_refuse(d, "cannot read the Service%s%s",
                            d->g.error[0] != '\0' ? ": " : "", d->g.error);
    const struct report_pod *routed = report_routed(&d->r);
    if (routed == NULL || d->r.slice == NULL)
        return drill_refuse(d,
                            "no leader: the leader Service's slice routes to "
                            "no pod (state %s); nothing to drill",
                            report_state_name(d->r.state));
    d->leader = routed->pod;
    for (size_t i = 0; i < d->r.pod_count; i++)
        if (d->r.pods[i].verdict == REPORT_POD_ELIGIBLE &&
            d->r.pods[i].pod != d->leader)
            d->eligible++;
    if (d->eligible == 0 && !d->o->force)
        return drill_refuse(
            d,
            "refusing: fewer than 2 ready candidates (only the leader %s); "
            "no other pod could take over. Pass --force to drill anyway",
            d->leader->meta.name);
    int n = snprintf(d->selector, sizeof(d->selector), "%s=%s",
                     VIEWS_LABEL_SERVICE_NAME, d->g.leader_name);
    if (n < 0 || (size_t)n >= sizeof(d->selector))
        return drill_refuse(d, "the leader Service's name is too long");
    return 0;
}

/* The leader pod's terminationGracePeriodSeconds, for the plan (the
 * DELETE leaves it to the server: the pod's own). */
static long drill_grace(struct drill *d)
{
    struct client_response resp;
    client_response_init(&resp);
    struct json_object *pod = NULL, *spec = NULL, *grace = NULL;
    long grace_s = DRILL_DEFAULT_GRACE_S;
    if (client_get(d->c, &CLIENT_PODS, d->o->namespace_name,
                   d->leader->meta.name, &resp) == ZL_OK &&
        json_parse_object(resp.body.data, resp.body.len, &pod) == ZL_OK &&
        json_object_object_get_ex(pod, "spec", &spec) &&
        json_object_object_get_ex(spec, "terminationGracePeriodSeconds",
                                  &grace) &&
        json_object_is_type(grace, json_type_int))
        grace_s = (long)json_object_get_int64(grace);
    json_object_put(pod);
    client_response_cleanup(&resp);
    return grace_s;
}

static void drill_plan(struct drill *d)
{
    const struct drill_options *o = d->o;
    FILE *f = o->err;
    char timeout[DURATION_FORMAT_MAX];
    duration_format(o->timeout_ms * 1000000, timeout);
    fprintf(f, "Drill on Service %s/%s (leader Service %s):\n",
            o->namespace_name, o->service, d->g.leader_name);
    if (o->watch_only)
        fprintf(f, "  delete nothing; wait for leader %s to be replaced\n",
                d->leader->meta.name);
    else
        fprintf(f, "  delete pod %s gracefully (grace period %ld s, uid %s)\n",
                d->leader->meta.name, d->grace_s, d->leader->meta.uid);
    fprintf(f,
            "  watch EndpointSlice %s for another ready pod (%zu ready "
            "candidate%s besides the leader), for at most %s\n",
            d->r.slice->meta.name, d->eligible, d->eligible == 1 ? "" : "s",
            timeout);
    if (o->probe_url != NULL)
        fprintf(f, "  probe %s every %d ms, each on a new connection\n",
                o->probe_url, DRILL_PROBE_INTERVAL_MS);
    if (d->eligible == 0)
        fprintf(f, "  (forced: no other pod is ready to take over)\n");
}

/* Asks unless told yes: returns 0 to go on, else the exit code. */
static int drill_confirm(struct drill *d)
{
    const struct drill_options *o = d->o;
    if (o->yes)
        return 0;
    if (!o->in_is_tty || o->in == NULL)
        return drill_refuse(d, "stdin is not a terminal: pass --yes");
    fprintf(o->err, "Continue? [y/N] ");
    fflush(o->err);
    char line[64];
    if (fgets(line, sizeof(line), o->in) == NULL)
        line[0] = '\0';
    size_t n = strlen(line);
    while (n > 0 && isspace((unsigned char)line[n - 1]))
        line[--n] = '\0';
    if (strcmp(line, "y") == 0 || strcmp(line, "Y") == 0 ||
        strcmp(line, "yes") == 0)
        return 0;
    fprintf(o->err, "drill cancelled: nothing was done\n");
    return 1;
}

/* Waits for the probe's first request to end (at most the warm-up) while
 * the watch gets its connection. */
static void drill_warm_up(struct drill *d)
{
    int64_t until = drill_now_ms() + DRILL_PROBE_WARMUP_MS;
    while (d->p.started && atomic_load(&d->p.done) == 0 &&
           !atomic_load(&d->p.stop) && !d->w.done && drill_now_ms() < until)
        drill_watch_pump(&d->w, drill_now_ms() + 10);
}

static int drill_delete(struct drill *d)
{
    struct client_delete_options del = {.uid = d->leader->meta.uid,
                                        .grace_period_seconds = -1};
    struct client_response resp;
    client_response_init(&resp);
    d->t0_ms = drill_now_ms();
    d->w.t0_ms = d->t0_ms;
    enum zl_err err = client_delete(d->c, &CLIENT_PODS, d->o->namespace_name,
                                    d->leader->meta.name, &del, &resp);
    int rc = 0;
    if (err == ZL_OK) {
        d->deleted = true;
        fprintf(d->o->err, "deleted pod %s\n", d->leader->meta.name);
    } else {
        rc = drill_refuse(d, "cannot delete the leader pod: %s: %s",
                          zl_err_str(err), resp.status.message);
    }
    client_response_cleanup(&resp);
    return rc;
}

/* After the new leader: the watch goes on while the probe finishes, and
 * for a while for the old endpoint to leave when it has not yet. */
static void drill_tail(struct drill *d)
{
    int64_t until = d->t0_ms + d->w.sw.new_ms + DRILL_REMOVAL_WAIT_MS;
    while (!d->w.done) {
        bool probing = d->p.started && !atomic_load(&d->p.stop);
        bool removal = d->w.sw.removed_ms < 0 && drill_now_ms() < until;
        if (!probing && !removal)
            break;
        drill_watch_pump(&d->w, drill_now_ms() + DRILL_WAIT_SLICE_MS);
    }
}

static int drill_execute(struct drill *d)
{
    const struct drill_options *o = d->o;
    d->w.c = d->c;
    d->w.ns = o->namespace_name;
    d->w.selector = d->selector;
    d->w.slice = d->r.slice->meta.name;
    d->w.old_pod = d->leader->meta.name;
    /* Until the delete, times count from the start of the watch (with
     * --watch-only, for good). */
    d->t0_ms = d->w.t0_ms = drill_now_ms();
    if (drill_watch_start(&d->w) != ZL_OK)
        return drill_refuse(d, "%s", d->w.error);
    if (o->probe_url != NULL && drill_probe_start(&d->p, o->probe_url) != ZL_OK)
        return drill_refuse(d, "cannot start the probe");
    if (o->watch_only)
        fprintf(o->err, "watching; delete or stop pod %s now\n",
                d->leader->meta.name);
    drill_warm_up(d);
    if (!o->watch_only && (d->w.sw.removed_ms >= 0 || d->w.sw.new_ms >= 0))
        return drill_refuse(d,
                            "the leader changed while the drill started "
                            "(%s no longer names %s alone); nothing was "
                            "deleted, run it again",
                            d->w.slice, d->w.old_pod);
    if (!o->watch_only && drill_delete(d) != 0)
        return 1;
    enum zl_err err = drill_watch_wait(&d->w, d->t0_ms + o->timeout_ms);
    if (err == ZL_OK && d->p.started)
        drill_probe_leader(&d->p, d->w.sw.new_pod, d->t0_ms + d->w.sw.new_ms);
    if (err == ZL_OK)
        drill_tail(d);
    drill_probe_join(&d->p, err != ZL_OK);
    if (err != ZL_OK && err != ZL_ERR_TIMEOUT)
        return drill_refuse(d, "%s", d->w.error);
    return 0;
}

/* ---- the report ------------------------------------------------------------
 */

static struct json_object *drill_json_ms(int64_t ms)
{
    return ms < 0 ? NULL : json_object_new_int64(ms);
}

static struct json_object *drill_json_probe(const struct drillstats_summary *s)
{
    struct json_object *probe = json_object_new_object();
    struct json_object *pods = json_object_new_object();
    json_object_object_add(probe, "requests",
                           json_object_new_int64((int64_t)s->requests));
    json_object_object_add(probe, "failures",
                           json_object_new_int64((int64_t)s->failures));
    json_object_object_add(probe, "gapMs", drill_json_ms(s->gap_ms));
    json_object_object_add(probe, "longestOutageMs",
                           json_object_new_int64(s->longest_outage_ms));
    for (size_t i = 0; i < s->pod_count; i++)
        json_object_object_add(
            pods, s->pods[i].name,
            json_object_new_int64((int64_t)s->pods[i].count));
    if (s->other > 0)
        json_object_object_add(pods, "(other)",
                               json_object_new_int64((int64_t)s->other));
    json_object_object_add(probe, "pods", pods);
    return probe;
}

static void drill_print_json(const struct drill *d,
                             const struct drillstats_summary *s)
{
    const struct drill_watch *w = &d->w;
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "service", json_object_new_string(d->o->service));
    json_object_object_add(o, "namespace",
                           json_object_new_string(d->o->namespace_name));
    json_object_object_add(o, "oldLeader",
                           json_object_new_string(d->leader->meta.name));
    json_object_object_add(o, "newLeader",
                           drill_new_pod(w) != NULL
                               ? json_object_new_string(w->sw.new_pod)
                               : NULL);
    json_object_object_add(o, "deleted", json_object_new_boolean(d->deleted));
    json_object_object_add(o, "timeToNewLeaderMs", drill_json_ms(w->sw.new_ms));
    json_object_object_add(o, "oldEndpointRemovedMs",
                           drill_json_ms(w->sw.removed_ms));
    json_object_object_add(o, "probe", s != NULL ? drill_json_probe(s) : NULL);
    fprintf(d->o->out, "%s\n",
            json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
                                                  JSON_C_TO_STRING_SPACED));
    json_object_put(o);
}

static void drill_print_probe(const struct drill *d,
                              const struct drillstats_summary *s)
{
    FILE *f = d->o->out;
    fprintf(f, "probe %s: %zu requests, %zu failed\n", d->o->probe_url,
            s->requests, s->failures);
    if (s->gap_ms >= 0)
        fprintf(f,
                "gap a client saw: %lld ms (from the %s at +%lld ms to the "
                "first answer of %s at +%lld ms)\n",
                (long long)s->gap_ms,
                s->gap_from_ms > d->t0_ms ? "last answer of the old leader"
                                          : "delete",
                (long long)(s->gap_from_ms - d->t0_ms), drill_new_pod(&d->w),
                (long long)(s->gap_to_ms - d->t0_ms));
    else
        fprintf(f, "gap a client saw: unknown (the new leader never "
                   "answered the probe)\n");
    fprintf(f, "longest time without an answer: %lld ms\n",
            (long long)s->longest_outage_ms);
    fprintf(f, "answered:");
    for (size_t i = 0; i < s->pod_count; i++)
        fprintf(f, " %s %zu%s", s->pods[i].name, s->pods[i].count,
                i + 1 < s->pod_count ? "," : "");
    if (s->other > 0)
        fprintf(f, ", others %zu", s->other);
    fprintf(f, "%s\n", s->pod_count == 0 ? " nobody" : "");
    if (s->failures == 0)
        return;
    fprintf(f, "failures:");
    for (size_t i = 0; i < s->error_count; i++)
        fprintf(f, " %s %zu%s", s->errors[i].name, s->errors[i].count,
                i + 1 < s->error_count ? "," : "");
    if (s->other_errors > 0)
        fprintf(f, ", others %zu", s->other_errors);
    fputc('\n', f);
}

static void drill_print_text(const struct drill *d,
                             const struct drillstats_summary *s)
{
    const struct drill_watch *w = &d->w;
    FILE *f = d->o->out;
    const char *old = d->leader->meta.name;
    if (drill_new_pod(w) != NULL)
        fprintf(f, "new leader %s after %lld ms (was %s%s)\n", w->sw.new_pod,
                (long long)w->sw.new_ms, old,
                d->deleted ? ", deleted" : ", not deleted by the drill");
    else
        fprintf(f, "no new leader within %lld ms (leader %s%s)\n",
                (long long)d->o->timeout_ms, old,
                d->deleted ? ", deleted" : "");
    if (w->sw.removed_ms >= 0)
        fprintf(f, "old endpoint left the slice after %lld ms\n",
                (long long)w->sw.removed_ms);
    else
        fprintf(f, "old endpoint still in the slice\n");
    if (s != NULL)
        drill_print_probe(d, s);
    if (d->p.truncated)
        fprintf(f, "(the probe stopped after %zu requests)\n", d->p.count);
}

static int drill_finish(struct drill *d)
{
    struct drillstats_summary s;
    bool probed = d->o->probe_url != NULL;
    if (probed)
        drillstats_summarise(d->p.records, d->p.count, d->t0_ms,
                             d->leader->meta.name, drill_new_pod(&d->w), &s);
    if (d->o->json)
        drill_print_json(d, probed ? &s : NULL);
    else
        drill_print_text(d, probed ? &s : NULL);
    if (drill_new_pod(&d->w) == NULL) {
        fprintf(d->o->err, "drill %s/%s: no new leader within %lld ms\n",
                d->o->namespace_name, d->o->service,
                (long long)d->o->timeout_ms);
        return 1;
    }
    return 0;
}

static bool drill_options_ok(const struct drill_options *o)
{
    if (o->out == NULL || o->err == NULL)
        return false;
    if (o->namespace_name == NULL || o->service == NULL ||
        *o->namespace_name == '\0' || *o->service == '\0') {
        fprintf(o->err, "drill: a namespace and a Service are needed\n");
        return false;
    }
    if (o->timeout_ms <= 0) {
        fprintf(o->err, "drill: the timeout must be positive\n");
        return false;
    }
    if (o->probe_url != NULL && strncmp(o->probe_url, "http://", 7) != 0 &&
        strncmp(o->probe_url, "https://", 8) != 0) {
        fprintf(o->err,
                "drill: --probe needs an http:// or https:// URL, "
                "not \"%s\"\n",
                o->probe_url);
        return false;
    }
    return true;
}

int drill_run(struct client *c, const struct drill_options *o)
{
    if (c == NULL || o == NULL || !drill_options_ok(o))
        return 2;
    struct drill d = {.c = c, .o = o};
    int rc = 1;
    if (drill_gather(&d) != ZL_OK) {
        fprintf(o->err, "drill: out of memory\n");
        goto out;
    }
    rc = drill_check(&d);
    if (rc != 0)
        goto out;
    if (!o->watch_only)
        d.grace_s = drill_grace(&d);
    drill_plan(&d);
    rc = o->watch_only ? 0 : drill_confirm(&d);
    if (rc == 0)
        rc = drill_execute(&d);
    if (rc == 0)
        rc = drill_finish(&d);
out:
    drill_probe_cleanup(&d.p);
    drill_watch_cleanup(&d.w);
    report_cleanup(&d.r);
    gather_service_cleanup(&d.g);
    if (d.has_lease)
        gather_lease_cleanup(&d.lease);
    return rc;
}

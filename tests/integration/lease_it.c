/* SPDX-License-Identifier: Apache-2.0 */
/* Leader election against a real API server: forked processes contend for
 * one Lease; at most one leads at any instant (their reported transitions,
 * on the shared monotonic clock, never overlap, and the Lease names the
 * leader); kill -9 of the leader and a graceful stop are timed until the
 * next process leads. Set LEASE_IT_DEFAULTS=1 to also time 15s/10s/2s. */
#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "kube/client.h"
#include "kube/kubeconfig.h"
#include "kube/lease.h"

#define NS "default"
#define MAX_PROCS 4
#define MAX_EVENTS 256
#define MS CLOCK_NS_PER_MS

struct durations {
    long d, rd, rp;
};

struct proc {
    pid_t pid;
    int fd; /* read end of its report pipe */
    char identity[64];
    bool alive;
};

struct event {
    int64_t at;
    int proc;
    char what; /* 'L' started leading, 'F' stopped, 'K' killed */
};

struct scene {
    char lease_name[64];
    struct durations dur;
    struct proc procs[MAX_PROCS];
    int proc_count;
    struct event events[MAX_EVENTS];
    int event_count;
    struct kube_config cfg;
    struct client *c;
};

/* ---- the child: one elector reporting to a pipe ---- */

static int report_fd = -1;

static void report(char what)
{
    char line[48];
    int n = snprintf(line, sizeof(line), "%lld %c\n",
                     (long long)clock_mono_ns(), what);
    if (write(report_fd, line, (size_t)n) != n)
        _exit(3);
}

static void on_started(void *ctx)
{
    (void)ctx;
    report('L');
}

static void on_stopped(void *ctx)
{
    (void)ctx;
    report('F');
}

static void open_client(struct kube_config *cfg, struct client **c,
                        long timeout_ms)
{
    struct kubeconfig_error err;
    const char *path = getenv("KUBECONFIG");
    if (path == NULL || kubeconfig_load_file(path, NULL, cfg, &err) != ZL_OK)
        _exit(4);
    struct client_options opt = {.timeout_ms = timeout_ms,
                                 .max_retries = 1,
                                 .backoff_base_ms = 50,
                                 .backoff_max_ms = 200};
    if (client_new(cfg, &opt, c) != ZL_OK)
        _exit(5);
}

static void child_main(const struct scene *s, const char *identity, int fd)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    report_fd = fd;
    struct kube_config cfg;
    struct client *c = NULL;
    open_client(&cfg, &c, s->dur.rd / 2);
    struct lease_options opt = {
        .lease_namespace = NS,
        .name = s->lease_name,
        .identity = identity,
        .duration_ms = s->dur.d,
        .renew_deadline_ms = s->dur.rd,
        .retry_period_ms = s->dur.rp,
        .cb = {.on_started_leading = on_started,
               .on_stopped_leading = on_stopped},
    };
    struct lease *l = NULL;
    if (lease_new(c, &opt, &l) != ZL_OK || lease_start(l) != ZL_OK)
        _exit(6);
    int sig = 0;
    sigwait(&set, &sig);
    lease_free(l); /* stops leading, releases */
    report('X');
    client_free(c);
    kubeconfig_cleanup(&cfg);
    _exit(0);
}

/* ---- the parent ---- */

static int spawn(struct scene *s)
{
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    int i = s->proc_count++;
    struct proc *p = &s->procs[i];
    snprintf(p->identity, sizeof(p->identity), "lease-it-%d-%d", (int)getpid(),
             i);
    fflush(NULL);
    p->pid = fork();
    cr_assert_geq(p->pid, 0);
    if (p->pid == 0) {
        close(fds[0]);
        child_main(s, p->identity, fds[1]);
    }
    close(fds[1]);
    p->fd = fds[0];
    p->alive = true;
    return i;
}

static void add_event(struct scene *s, int proc, char what, int64_t at)
{
    cr_assert_lt(s->event_count, MAX_EVENTS);
    s->events[s->event_count++] = (struct event){at, proc, what};
}

/* Reads what the children reported, for up to wait_ms. */
static void pump(struct scene *s, int wait_ms)
{
    struct pollfd pfd[MAX_PROCS];
    int n = 0;
    int map[MAX_PROCS];
    for (int i = 0; i < s->proc_count; i++) {
        if (s->procs[i].fd < 0)
            continue;
        pfd[n] = (struct pollfd){.fd = s->procs[i].fd, .events = POLLIN};
        map[n++] = i;
    }
    if (n == 0 || poll(pfd, (nfds_t)n, wait_ms) <= 0)
        return;
    for (int k = 0; k < n; k++) {
        if (!(pfd[k].revents & (POLLIN | POLLHUP)))
            continue;
        char buf[512];
        ssize_t got = read(pfd[k].fd, buf, sizeof(buf) - 1);
        if (got <= 0) {
            close(pfd[k].fd);
            s->procs[map[k]].fd = -1;
            continue;
        }
        buf[got] = '\0';
        char *save = NULL;
        for (char *line = strtok_r(buf, "\n", &save); line != NULL;
             line = strtok_r(NULL, "\n", &save)) {
            long long at = 0;
            char what = '?';
            if (sscanf(line, "%lld %c", &at, &what) == 2)
                add_event(s, map[k], what, (int64_t)at);
        }
    }
}

/* Waits until some process other than `except` reports 'L'; returns it
 * (and its instant in *at), or -1 on timeout. */
static int wait_leader(struct scene *s, int except, int64_t timeout_ns,
                       int64_t *at)
{
    int64_t deadline = clock_mono_ns() + timeout_ns;
    int seen = s->event_count;
    while (clock_mono_ns() < deadline) {
        pump(s, 50);
        for (; seen < s->event_count; seen++) {
            struct event *e = &s->events[seen];
            if (e->what == 'L' && e->proc != except) {
                *at = e->at;
                return e->proc;
            }
        }
    }
    return -1;
}

static void read_lease(struct scene *s, struct lease_record *rec)
{
    struct client_response r;
    client_response_init(&r);
    cr_assert_eq(client_get(s->c, &CLIENT_LEASES, NS, s->lease_name, &r),
                 ZL_OK);
    cr_assert_eq(lease_record_parse(r.body.data, r.body.len, rec), ZL_OK);
    client_response_cleanup(&r);
}

/* Samples the Lease for a while: it always names the one leading process
 * (allowing a retry period for a transition in flight). */
static void sample(struct scene *s, int leader, int64_t for_ns)
{
    int64_t end = clock_mono_ns() + for_ns;
    int samples = 0;
    while (clock_mono_ns() < end) {
        struct lease_record rec;
        read_lease(s, &rec);
        cr_assert_str_eq(rec.holder, s->procs[leader].identity,
                         "sample %d: holder", samples);
        samples++;
        pump(s, 100);
    }
    cr_assert_gt(samples, 3);
}

static int cmp_event(const void *a, const void *b)
{
    const struct event *x = a, *y = b;
    return (x->at > y->at) - (x->at < y->at);
}

/* Replays every report in time order: never two leaders at once. */
static void check_single_leader(struct scene *s)
{
    qsort(s->events, (size_t)s->event_count, sizeof(s->events[0]), cmp_event);
    bool leading[MAX_PROCS] = {false};
    int leaders = 0, max_leaders = 0, starts = 0;
    for (int i = 0; i < s->event_count; i++) {
        struct event *e = &s->events[i];
        if (e->what == 'L' && !leading[e->proc]) {
            leading[e->proc] = true;
            leaders++;
            starts++;
        } else if ((e->what == 'F' || e->what == 'K') && leading[e->proc]) {
            leading[e->proc] = false;
            leaders--;
        }
        max_leaders = leaders > max_leaders ? leaders : max_leaders;
    }
    cr_assert_eq(max_leaders, 1, "two processes led at once");
    cr_assert_geq(starts, 3);
}

static void stop_proc(struct scene *s, int i, int sig)
{
    struct proc *p = &s->procs[i];
    if (!p->alive)
        return;
    kill(p->pid, sig);
    int status = 0;
    while (waitpid(p->pid, &status, 0) < 0 && errno == EINTR)
        ;
    p->alive = false;
    if (sig == SIGTERM)
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "child %d ended with status %d", i, status);
}

static void run_scene(const struct durations *dur, const char *label)
{
    static struct scene s;
    memset(&s, 0, sizeof(s));
    s.dur = *dur;
    snprintf(s.lease_name, sizeof(s.lease_name), "lease-it-%d-%ld",
             (int)getpid(), dur->d);
    int64_t d_ns = dur->d * MS, rp_ns = dur->rp * MS;
    int64_t follower_poll = rp_ns + (int64_t)(LEASE_JITTER * (double)rp_ns);

    spawn(&s);
    spawn(&s);
    int64_t at = 0;
    int first = wait_leader(&s, -1, 10 * INT64_C(1000000000), &at);
    cr_assert_geq(first, 0, "nobody acquired the lease");
    open_client(&s.cfg, &s.c, 5000);
    sample(&s, first, 2 * d_ns);

    /* kill -9 the leader; the other must take over after expiry. */
    int64_t killed = clock_mono_ns();
    stop_proc(&s, first, SIGKILL);
    add_event(&s, first, 'K', killed);
    int second = wait_leader(&s, first, d_ns + 3 * follower_poll, &at);
    cr_assert_geq(second, 0, "no takeover after kill -9");
    double takeover = (double)(at - killed) / 1e9;
    printf("lease_it %s: takeover after kill -9: %.3f s (leaseDuration %.1f "
           "s, retryPeriod %.1f s)\n",
           label, takeover, (double)dur->d / 1e3, (double)dur->rp / 1e3);
    cr_assert_leq(at - killed, d_ns + follower_poll + 500 * MS);
    struct lease_record rec;
    read_lease(&s, &rec);
    cr_assert_str_eq(rec.holder, s.procs[second].identity);
    cr_assert_geq(rec.transitions, 1);

    /* Graceful stop releases: a new follower takes over within about a
     * (jittered) retry period. */
    spawn(&s);
    pump(&s, (int)(2 * dur->rp));
    int64_t stopped = clock_mono_ns();
    stop_proc(&s, second, SIGTERM);
    int third = wait_leader(&s, second, d_ns + 3 * follower_poll, &at);
    cr_assert_eq(third, 2, "no takeover after release");
    double release = (double)(at - stopped) / 1e9;
    printf("lease_it %s: takeover after graceful release: %.3f s\n", label,
           release);
    fflush(stdout);
    cr_assert_leq(at - stopped, follower_poll + 1000 * MS);
    sample(&s, third, 2 * rp_ns);
    read_lease(&s, &rec);
    cr_assert_geq(rec.transitions, 2);

    stop_proc(&s, third, SIGTERM);
    pump(&s, 100);
    check_single_leader(&s);
    read_lease(&s, &rec);
    cr_assert_str_eq(rec.holder, "", "released on stop");
    struct client_response r;
    client_response_init(&r);
    client_delete(s.c, &CLIENT_LEASES, NS, s.lease_name, NULL, &r);
    client_response_cleanup(&r);
    client_free(s.c);
    kubeconfig_cleanup(&s.cfg);
}

Test(lease_it, one_leader_kill_and_release_short, .timeout = 120)
{
    struct durations dur = {3000, 2000, 500};
    run_scene(&dur, "3s/2s/0.5s");
}

Test(lease_it, one_leader_kill_and_release_defaults, .timeout = 180)
{
    const char *on = getenv("LEASE_IT_DEFAULTS");
    if (on == NULL || strcmp(on, "1") != 0)
        cr_skip_test("set LEASE_IT_DEFAULTS=1 to time 15s/10s/2s");
    struct durations dur = {15000, 10000, 2000};
    run_scene(&dur, "15s/10s/2s");
}

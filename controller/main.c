/* SPDX-License-Identifier: Apache-2.0 */
/* zen-lead-controller: reads the options, starts the runtime, serves the
 * probes and metrics, and on SIGTERM or SIGINT drains, releases the Lease
 * and exits 0. Bad flags or configuration: one line on stderr, exit 2. */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "base/metrics.h"
#include "base/signals.h"
#include "controller/options.h"
#include "controller/runtime.h"
#include "serve/serve.h"

#define PROGRAM "zen-lead-controller"
#define STEP_MS 100 /* how often start-up progress is looked at */

static void drain(int fd)
{
    char buf[64];
    while (read(fd, buf, sizeof(buf)) > 0) {
    }
}

static void print_config(const struct options *o)
{
    printf("configuration OK\nmetrics-bind-address: %s\n"
           "health-probe-bind-address: %s\nleader-elect: %s\n"
           "leader-election-id: %s\nworkers: %lld\nqps: %lld\nburst: %lld\n"
           "namespaces:",
           o->common.metrics_bind_address, o->common.health_probe_bind_address,
           o->leader_elect ? "true" : "false", o->leader_election_id,
           (long long)o->workers, (long long)o->qps, (long long)o->burst);
    for (size_t i = 0; i < o->namespaces.count; i++)
        printf(" %s", o->namespaces.items[i]);
    printf("%s\n", o->namespaces.count == 0 ? " (all)" : "");
}

/* ---- HTTP: /metrics on one address, /healthz and /readyz on another ---- */

struct endpoints {
    struct serve *metrics;
    struct serve *health;
    struct serve_check ready;
};

static void handle_metrics(void *ctx, const struct serve_request *req,
                           struct serve_response *resp)
{
    (void)req;
    if (runtime_metrics(ctx, &resp->body) != ZL_OK) {
        resp->status = 500;
        buf_reset(&resp->body);
        return;
    }
    resp->content_type = METRICS_CONTENT_TYPE;
}

static bool caches_synced(void *ctx, struct buf *reason)
{
    if (runtime_ready(ctx))
        return true;
    buf_puts(reason, "informer caches are not synced yet");
    return false;
}

static enum zl_err start_endpoints(struct endpoints *ep, struct runtime *rt,
                                   const struct options *o)
{
    struct serve_options mo = {.bind_address = o->common.metrics_bind_address};
    struct serve_options ho = {.bind_address =
                                   o->common.health_probe_bind_address};
    ep->ready = (struct serve_check){caches_synced, rt};
    enum zl_err rc = serve_new(&mo, &ep->metrics);
    if (rc == ZL_OK)
        rc = serve_new(&ho, &ep->health);
    if (rc == ZL_OK)
        rc = serve_route(ep->metrics, "GET", "/metrics", handle_metrics, rt);
    if (rc == ZL_OK)
        rc = serve_route(ep->health, "GET", "/healthz", serve_handle_health,
                         NULL);
    if (rc == ZL_OK)
        rc = serve_route(ep->health, "GET", "/readyz", serve_handle_check,
                         &ep->ready);
    if (rc == ZL_OK)
        rc = serve_start(ep->metrics);
    if (rc == ZL_OK)
        rc = serve_start(ep->health);
    if (rc != ZL_OK)
        log_error("cannot serve metrics on %s / probes on %s: %s",
                  o->common.metrics_bind_address,
                  o->common.health_probe_bind_address, zl_err_str(rc));
    return rc;
}

static void stop_endpoints(struct endpoints *ep)
{
    serve_free(ep->metrics);
    serve_free(ep->health);
    ep->metrics = ep->health = NULL;
}

/* Runs until a signal (0) or a lost Lease (1). */
static int run_loop(struct runtime *rt, int signal_fd, int notify_fd)
{
    struct pollfd fds[2] = {{.fd = signal_fd, .events = POLLIN},
                            {.fd = notify_fd, .events = POLLIN}};
    for (;;) {
        int n = poll(fds, 2, STEP_MS);
        if (n < 0 && errno != EINTR)
            return 1;
        if (fds[0].revents & POLLIN) {
            log_info("signal received: shutting down");
            return 0;
        }
        if (fds[1].revents & POLLIN)
            drain(notify_fd);
        if (runtime_step(rt) == ZL_ERR_CANCELLED) {
            log_error("leadership lost: exiting so a fresh process can "
                      "stand by");
            return 1;
        }
    }
}

static int run(const struct options *opt)
{
    int notify[2] = {-1, -1};
    struct runtime *rt = NULL;
    struct endpoints ep = {0};
    int code = 1;
    log_configure(opt->common.level, opt->common.format, NULL);
    int signal_fd = signals_install();
    if (signal_fd < 0 || pipe2(notify, O_CLOEXEC | O_NONBLOCK) != 0) {
        log_error("cannot set up signal handling: %s", strerror(errno));
        goto out;
    }
    log_info(PROGRAM " %s starting", ZL_VERSION);
    if (runtime_new(opt, ZL_VERSION, notify[1], &rt) != ZL_OK ||
        start_endpoints(&ep, rt, opt) != ZL_OK || runtime_start(rt) != ZL_OK)
        goto out;
    code = run_loop(rt, signal_fd, notify[0]);
    runtime_stop(rt); /* drain and release the Lease before probes go */
out:
    stop_endpoints(&ep);
    runtime_free(rt);
    for (int i = 0; i < 2; i++) {
        if (notify[i] >= 0)
            close(notify[i]);
    }
    signals_close();
    return code;
}

int main(int argc, char **argv)
{
    struct options opt;
    struct config_error err = {{0}};
    enum flags_action action;
    int code = 0;
    if (options_load(argc, argv, &opt, &action, &err) != ZL_OK) {
        fprintf(stderr, PROGRAM ": %s\n", err.text);
        code = 2;
    } else if (action == FLAGS_HELP) {
        options_print_help(stdout, PROGRAM);
    } else if (action == FLAGS_VERSION) {
        printf(PROGRAM " %s (commit %s)\n", ZL_VERSION, ZL_COMMIT);
    } else if (action == FLAGS_CHECK_CONFIG) {
        print_config(&opt);
    } else {
        code = run(&opt);
    }
    options_cleanup(&opt);
    return code;
}

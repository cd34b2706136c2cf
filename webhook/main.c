/* SPDX-License-Identifier: Apache-2.0 */
/* zen-lead-webhook: reads the options, starts the pod and Service caches,
 * serves /validate and /mutate over TLS and /healthz, /readyz and
 * /metrics on plain ports, and on SIGTERM or SIGINT stops accepting,
 * answers what is in flight and exits 0. Bad flags or configuration: one
 * line on stderr, exit 2. */
#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/signals.h"
#include "kube/kubeconfig.h"
#include "serve/serve.h"
#include "webhook/auditlog.h"
#include "webhook/handler.h"
#include "webhook/lookup.h"
#include "webhook/options.h"
#include "webhook/whmetrics.h"

#define PROGRAM "zen-lead-webhook"
/* Handler threads of the TLS port: a lookup that falls back to the API
 * server blocks its thread for up to --lookup-timeout. */
#define WH_THREADS 8u
#define WH_TIMEOUT_S 10u /* a request must arrive whole within this */

/* Everything the daemon runs. */
struct webhook {
    const struct whopts *opt;
    struct kube_config cfg;
    struct whmetrics *metrics;
    struct lookup *lookup;
    struct auditlog *audit;
    struct admit_config admit;
    struct admit_lookups lookups, lookups_inline;
    struct handler_deps deps;
    struct serve_tls tls;
    struct serve *https, *metrics_srv, *health;
    struct serve_check ready;
    atomic_bool stopping;
};

static void handle_metrics(void *ctx, const struct serve_request *req,
                           struct serve_response *resp)
{
    struct webhook *w = ctx;
    struct serve_tls_status st;
    (void)req;
    if (serve_tls_state(w->https, &st) == ZL_OK)
        whmetrics_tls(w->metrics, &st);
    if (whmetrics_render(w->metrics, &resp->body) != ZL_OK) {
        resp->status = 500;
        buf_reset(&resp->body);
        return;
    }
    resp->content_type = METRICS_CONTENT_TYPE;
}

/* Ready: a certificate in service and both caches listed. */
static bool is_ready(void *ctx, struct buf *reason)
{
    struct webhook *w = ctx;
    struct serve_tls_status st;
    if (atomic_load(&w->stopping)) {
        buf_puts(reason, "shutting down");
        return false;
    }
    if (serve_tls_state(w->https, &st) != ZL_OK || !st.loaded) {
        buf_puts(reason, "no serving certificate loaded");
        return false;
    }
    if (!lookup_synced(w->lookup)) {
        buf_puts(reason, "pod and Service caches are not synced yet");
        return false;
    }
    return true;
}

static enum zl_err make_lookup(struct webhook *w)
{
    struct kubeconfig_error kerr = {0};
    const struct whopts *o = w->opt;
    if (kubeconfig_resolve(o->common.kubeconfig, NULL, &w->cfg, &kerr) !=
        ZL_OK) {
        log_error("kubeconfig: %s", kerr.text);
        return ZL_ERR_INVALID;
    }
    struct lookup_options lo = {
        .cfg = &w->cfg,
        .qps = (double)o->qps,
        .burst = (int)o->burst,
        .timeout_ms = (long)(o->lookup_timeout / CLOCK_NS_PER_MS),
        .metrics = whmetrics_registry(w->metrics),
        .observe = whmetrics_observe_api,
        .observe_ctx = w->metrics,
    };
    enum zl_err rc = lookup_new(&lo, &w->lookup);
    w->lookups =
        (struct admit_lookups){w->lookup, lookup_pods, lookup_services};
    w->lookups_inline = (struct admit_lookups){w->lookup, lookup_pods_cached,
                                               lookup_services_cached};
    return rc;
}

static void set_rules(struct webhook *w)
{
    const struct whopts *o = w->opt;
    w->admit = (struct admit_config){
        .controller_username = o->controller_username,
        .named_port_policy = o->named_port == WHOPTS_NAMED_PORT_WARN
                                 ? ADMIT_NAMED_PORT_WARN
                                 : ADMIT_NAMED_PORT_REJECT,
        .lookup_failure_policy = o->lookup_failure == WHOPTS_LOOKUP_DENY
                                     ? ADMIT_LOOKUP_DENY
                                     : ADMIT_LOOKUP_ALLOW,
    };
    w->deps = (struct handler_deps){.cfg = &w->admit,
                                    .lookups = &w->lookups,
                                    .lookups_inline = &w->lookups_inline,
                                    .audit = w->audit,
                                    .metrics = w->metrics};
}

static enum zl_err make_https(struct webhook *w)
{
    char bind[32];
    const struct whopts *o = w->opt;
    snprintf(bind, sizeof(bind), ":%lld", (long long)o->port);
    w->tls = (struct serve_tls){
        .cert_file = o->tls_cert_file,
        .key_file = o->tls_key_file,
        .min_version = o->tls_min == WHOPTS_TLS_1_3 ? 13 : 12,
    };
    struct serve_options so = {.bind_address = bind,
                               .threads = WH_THREADS,
                               .timeout_s = WH_TIMEOUT_S,
                               .max_body = (size_t)o->max_body_bytes,
                               .tls = &w->tls};
    enum zl_err rc = serve_new(&so, &w->https);
    if (rc == ZL_OK)
        rc = serve_route_inline(w->https, "POST", "/validate", handler_validate,
                                &w->deps);
    if (rc == ZL_OK)
        rc = serve_route_inline(w->https, "POST", "/mutate", handler_mutate,
                                &w->deps);
    if (rc != ZL_OK)
        log_error("TLS server on %s: %s", bind, zl_err_str(rc));
    return rc;
}

static enum zl_err make_plain(struct webhook *w)
{
    const struct flags_common *c = &w->opt->common;
    struct serve_options mo = {.bind_address = c->metrics_bind_address};
    struct serve_options ho = {.bind_address = c->health_probe_bind_address};
    w->ready = (struct serve_check){is_ready, w};
    enum zl_err rc = serve_new(&mo, &w->metrics_srv);
    if (rc == ZL_OK)
        rc = serve_new(&ho, &w->health);
    if (rc == ZL_OK)
        rc = serve_route(w->metrics_srv, "GET", "/metrics", handle_metrics, w);
    if (rc == ZL_OK)
        rc = serve_route(w->health, "GET", "/healthz", serve_handle_health,
                         NULL);
    if (rc == ZL_OK)
        rc = serve_route(w->health, "GET", "/readyz", serve_handle_check,
                         &w->ready);
    return rc;
}

static enum zl_err start(struct webhook *w)
{
    enum zl_err rc = whmetrics_new(ZL_VERSION, ZL_COMMIT, &w->metrics);
    if (rc == ZL_OK)
        rc = auditlog_open(w->opt->audit_log, &w->audit);
    if (rc == ZL_OK)
        rc = make_lookup(w);
    if (rc != ZL_OK)
        return rc;
    set_rules(w);
    rc = make_https(w);
    if (rc == ZL_OK)
        rc = make_plain(w);
    if (rc == ZL_OK)
        rc = lookup_start(w->lookup);
    if (rc == ZL_OK)
        rc = serve_start(w->metrics_srv);
    if (rc == ZL_OK)
        rc = serve_start(w->health);
    if (rc == ZL_OK)
        rc = serve_start(w->https);
    if (rc != ZL_OK)
        log_error("cannot start: %s", zl_err_str(rc));
    return rc;
}

/* In order: /readyz turns 503, admissions stop being accepted and those
 * in flight are answered (their handlers use the caches, the audit log
 * and the metrics), then the probe and metrics servers stop (their
 * handlers read the TLS server and the caches), and only then is
 * anything freed. */
static void stop(struct webhook *w)
{
    atomic_store(&w->stopping, true);
    serve_stop(w->https);
    serve_free(w->metrics_srv);
    serve_free(w->health);
    serve_free(w->https);
    lookup_free(w->lookup);
    auditlog_close(w->audit);
    whmetrics_free(w->metrics);
    kubeconfig_cleanup(&w->cfg);
}

static int wait_signal(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    for (;;) {
        int n = poll(&p, 1, -1);
        if (n < 0 && errno != EINTR)
            return 1;
        if (n > 0 && (p.revents & POLLIN)) {
            log_info("signal received: draining and shutting down");
            return 0;
        }
    }
}

static int run(const struct whopts *opt)
{
    struct webhook w = {.opt = opt};
    int code = 1;
    log_configure(opt->common.level, opt->common.format, NULL);
    int signal_fd = signals_install();
    if (signal_fd < 0) {
        log_error("cannot set up signal handling: %s", strerror(errno));
        return 1;
    }
    log_info(PROGRAM " %s starting", ZL_VERSION);
    if (start(&w) == ZL_OK)
        code = wait_signal(signal_fd);
    stop(&w);
    signals_close();
    if (code == 0)
        log_info("stopped");
    return code;
}

int main(int argc, char **argv)
{
    struct whopts opt;
    struct config_error err = {{0}};
    enum flags_action action;
    int code = 0;
    if (whopts_load(argc, argv, &opt, &action, &err) != ZL_OK) {
        fprintf(stderr, PROGRAM ": %s\n", err.text);
        code = 2;
    } else if (action == FLAGS_HELP) {
        whopts_print_help(stdout, PROGRAM);
    } else if (action == FLAGS_VERSION) {
        printf(PROGRAM " %s (commit %s)\n", ZL_VERSION, ZL_COMMIT);
    } else if (action == FLAGS_CHECK_CONFIG) {
        whopts_print(stdout, &opt);
    } else {
        code = run(&opt);
    }
    whopts_cleanup(&opt);
    return code;
}

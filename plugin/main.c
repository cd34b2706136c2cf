/* SPDX-License-Identifier: Apache-2.0 */
/* kubectl-zenlead: status, why and drill for zen-lead's leader routing,
 * as a kubectl plugin (a binary named kubectl-zenlead on PATH). */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/log.h"
#include "kube/client.h"
#include "kube/kubeconfig.h"
#include "plugin/drill.h"
#include "plugin/gather.h"
#include "plugin/options.h"
#include "plugin/report.h"
#include "plugin/screen.h"
#include "plugin/why.h"

#ifndef ZL_VERSION
#define ZL_VERSION "0.0.0"
#endif
#ifndef ZL_COMMIT
#define ZL_COMMIT "unknown"
#endif

#define MAX_OUTPUT (16u << 20)

struct app {
    struct options o;
    struct kube_config cfg;
    struct client *client;
    const char *ns;
    bool color;
};

static bool want_color(enum options_color c)
{
    const char *term = getenv("TERM");
    const char *no_color = getenv("NO_COLOR");
    if (c != OPTIONS_COLOR_AUTO)
        return c == OPTIONS_COLOR_ALWAYS;
    if (no_color != NULL && no_color[0] != '\0')
        return false;
    return isatty(STDOUT_FILENO) && term != NULL && strcmp(term, "dumb") != 0;
}

static int connect_api(struct app *a)
{
    struct kubeconfig_error kerr = {{0}};
    enum zl_err rc = kubeconfig_load_kubectl_env(a->o.kubeconfig, a->o.context,
                                                 &a->cfg, &kerr);
    if (rc != ZL_OK) {
        fprintf(stderr, "error: %s\n",
                kerr.text[0] != '\0' ? kerr.text : zl_err_str(rc));
        return 1;
    }
    struct client_options co = {
        .timeout_ms = (long)a->o.request_timeout_ms,
        .connect_timeout_ms = 5000,
        .max_retries = 2,
        .user_agent = "kubectl-zenlead/" ZL_VERSION,
    };
    rc = client_new(&a->cfg, &co, &a->client);
    if (rc != ZL_OK) {
        fprintf(stderr, "error: cannot make an API client: %s\n",
                zl_err_str(rc));
        return 1;
    }
    a->ns = a->o.namespace_name != NULL     ? a->o.namespace_name
            : a->cfg.namespace_name != NULL ? a->cfg.namespace_name
                                            : "default";
    return 0;
}

static int64_t now_ms(void)
{
    return clock_real_ns() / CLOCK_NS_PER_MS;
}

static int emit_json(struct json_object *o)
{
    const char *text = json_object_to_json_string_ext(
        o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
    int rc = text != NULL && printf("%s\n", text) >= 0 ? 0 : 1;
    json_object_put(o);
    return rc;
}

static int emit_buf(struct buf *b, enum zl_err rc)
{
    int code = 1;
    if (rc == ZL_OK && b->data != NULL)
        code = fputs(b->data, stdout) >= 0 ? 0 : 1;
    else if (rc != ZL_OK)
        fprintf(stderr, "error: output: %s\n", zl_err_str(rc));
    buf_cleanup(b);
    return code;
}

/* One Service: status screen, JSON, or the explanation. */
static int one_service(struct app *a, bool why)
{
    struct gather_service g;
    struct gather_lease lease;
    struct report r;
    struct buf out;
    int code = 1;
    buf_init(&out, MAX_OUTPUT);
    enum zl_err rc = gather_service(a->client, a->ns, a->o.service, &g);
    if (rc == ZL_OK)
        rc = gather_lease(a->client, a->o.controller_namespace, a->o.lease_name,
                          &lease);
    else
        memset(&lease, 0, sizeof(lease));
    if (rc == ZL_OK)
        rc = report_build(&g, &lease, now_ms(), &r);
    else
        memset(&r, 0, sizeof(r));
    if (rc != ZL_OK) {
        fprintf(stderr, "error: %s\n", zl_err_str(rc));
    } else if (a->o.json && !why) {
        struct json_object *o = NULL;
        rc = screen_status_json(&r, &o);
        code = rc == ZL_OK ? emit_json(o) : 1;
    } else {
        rc = why ? why_explain(&r, &out) : screen_status(&r, a->color, &out);
        code = emit_buf(&out, rc);
    }
    if (code == 0 && (r.state == REPORT_NOT_FOUND || r.state == REPORT_UNKNOWN))
        code = 1;
    buf_cleanup(&out);
    report_cleanup(&r);
    gather_lease_cleanup(&lease);
    gather_service_cleanup(&g);
    return code;
}

static int show_list(struct app *a, struct report *reports, size_t n)
{
    const struct report **ptrs = calloc(n + 1, sizeof(*ptrs));
    struct buf out;
    int code;
    if (ptrs == NULL)
        return 1;
    for (size_t i = 0; i < n; i++)
        ptrs[i] = &reports[i];
    if (a->o.json) {
        struct json_object *o = NULL;
        code = screen_list_json(ptrs, n, &o) == ZL_OK ? emit_json(o) : 1;
    } else if (n == 0) {
        fprintf(stderr, "No Service with zen-lead.io/enabled in %s.\n",
                a->o.all_namespaces ? "any namespace" : a->ns);
        code = 0;
    } else {
        buf_init(&out, MAX_OUTPUT);
        code = emit_buf(
            &out, screen_table(ptrs, n, a->o.all_namespaces, a->color, &out));
    }
    free(ptrs);
    return code;
}

/* Every annotated Service of the namespace (or all): the table. */
static int all_services(struct app *a)
{
    struct gather_service *list = NULL;
    struct gather_lease lease;
    char err[GATHER_ERROR_MAX];
    size_t n = 0;
    int code = 1;
    enum zl_err rc = gather_annotated(
        a->client, a->o.all_namespaces ? NULL : a->ns, &list, &n, err);
    if (rc != ZL_OK) {
        fprintf(stderr, "error: %s\n", err[0] != '\0' ? err : zl_err_str(rc));
        return 1;
    }
    struct report *reports = calloc(n + 1, sizeof(*reports));
    rc = reports == NULL ? ZL_ERR_NOMEM
                         : gather_lease(a->client, a->o.controller_namespace,
                                        a->o.lease_name, &lease);
    int64_t now = now_ms();
    for (size_t i = 0; rc == ZL_OK && i < n; i++)
        rc = report_build(&list[i], &lease, now, &reports[i]);
    if (rc == ZL_OK)
        code = show_list(a, reports, n);
    else
        fprintf(stderr, "error: %s\n", zl_err_str(rc));
    for (size_t i = 0; reports != NULL && i < n; i++)
        report_cleanup(&reports[i]);
    free(reports);
    if (rc == ZL_OK || reports != NULL)
        gather_lease_cleanup(&lease);
    gather_services_free(list, n);
    return code;
}

static int drill(struct app *a)
{
    struct drill_options d = {
        .namespace_name = a->ns,
        .service = a->o.service,
        .yes = a->o.yes,
        .watch_only = a->o.watch_only,
        .force = a->o.force,
        .probe_url = a->o.probe_url,
        .timeout_ms = a->o.timeout_ms,
        .json = a->o.json,
        .color = a->color,
        .lease_namespace = a->o.controller_namespace,
        .lease_name = a->o.lease_name,
        .out = stdout,
        .err = stderr,
        .in = stdin,
        .in_is_tty = isatty(STDIN_FILENO) != 0,
    };
    return drill_run(a->client, &d);
}

static int run(struct app *a)
{
    switch (a->o.command) {
    case OPTIONS_STATUS:
        return a->o.service != NULL ? one_service(a, false) : all_services(a);
    case OPTIONS_WHY:
        return one_service(a, true);
    case OPTIONS_DRILL:
        return drill(a);
    default:
        return 2;
    }
}

int main(int argc, char **argv)
{
    struct app a;
    char err[OPTIONS_ERROR_MAX];
    memset(&a, 0, sizeof(a));
    log_configure(LOG_LEVEL_ERROR, LOG_FORMAT_TEXT, stderr);
    if (options_parse(argc, argv, &a.o, err) != ZL_OK) {
        fprintf(stderr, "error: %s\n", err);
        return 2;
    }
    if (a.o.command == OPTIONS_HELP) {
        fputs(options_usage(), stdout);
        return 0;
    }
    if (a.o.command == OPTIONS_VERSION) {
        printf("kubectl-zenlead %s (commit %s)\n", ZL_VERSION, ZL_COMMIT);
        return 0;
    }
    a.color = want_color(a.o.color);
    int code = connect_api(&a);
    if (code == 0)
        code = run(&a);
    client_free(a.client);
    kubeconfig_cleanup(&a.cfg);
    return code;
}

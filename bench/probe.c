/* SPDX-License-Identifier: Apache-2.0 */
/* zl-probe: an open-loop HTTP/1.1 client that measures what a client of a
 * Service sees while its endpoints move. One request every --interval on
 * a new connection, naive (one long timeout) or guided (connect timeout,
 * per-attempt timeout, retries of idempotent requests with jittered
 * backoff); one JSON line per request and a summary. SIGTERM or SIGINT
 * stops the starts and waits for the requests in flight. Bad flags: one
 * line on stderr, exit 2. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/config.h"
#include "base/signals.h"
#include "probecore.h"
#include "probeloop.h"
#include "serve/serve.h"

#define PROGRAM "zl-probe"
#define MS CLOCK_NS_PER_MS
#define S CLOCK_NS_PER_S
#define PROBE_MAX_DURATION (INT64_C(7) * 24 * 3600 * S)

/* The flags; strings owned (config_cleanup frees them). */
struct probe_opts {
    bool help;
    char *config;
    bool summary;
    char *target;
    char *host;
    char *path;
    char *method;
    char *mode;
    char *out;
    int64_t interval;
    int64_t duration;
    int64_t count;
    int64_t timeout;
    int64_t connect_timeout;
    int64_t attempt_timeout;
    int64_t retries;
    int64_t backoff_base;
    int64_t backoff_cap;
    int64_t seed;
};

static const char *const methods[] = {"GET", "HEAD", "POST", NULL};
static const char *const modes[] = {"naive", "guided", NULL};

#define OPT(field) offsetof(struct probe_opts, field)
#define DURATION_KEY(n, f, d, lo, hi, h)                                       \
    {                                                                          \
        .name = (n), .type = CONFIG_DURATION, .offset = OPT(f), .def = (d),    \
        .min = (lo), .max = (hi), .help = (h)                                  \
    }

static const struct config_key keys[] = {
    {.name = "help",
     .type = CONFIG_BOOL,
     .offset = OPT(help),
     .flag_only = true,
     .help = "print this help and exit"},
    {.name = "config",
     .type = CONFIG_STRING,
     .offset = OPT(config),
     .flag_only = true,
     .help = "YAML file with the same keys as the flags (flags win)"},
    {.name = "target",
     .type = CONFIG_STRING,
     .offset = OPT(target),
     .help = "IPV4:PORT or [IPV6]:PORT to connect to (required)"},
    {.name = "host",
     .type = CONFIG_STRING,
     .offset = OPT(host),
     .help = "Host header (default: the target)"},
    {.name = "path",
     .type = CONFIG_STRING,
     .offset = OPT(path),
     .def = "/",
     .help = "request path"},
    {.name = "method",
     .type = CONFIG_STRING,
     .offset = OPT(method),
     .def = "GET",
     .choices = methods,
     .help = "GET|HEAD|POST (POST is never retried)"},
    {.name = "mode",
     .type = CONFIG_STRING,
     .offset = OPT(mode),
     .def = "guided",
     .choices = modes,
     .help = "naive: one --timeout, no retry; guided: connect and attempt "
             "timeouts, retries with backoff"},
    DURATION_KEY("interval", interval, "10ms", 100 * CLOCK_NS_PER_US, 3600 * S,
                 "a request starts every interval, whatever the earlier did"),
    DURATION_KEY("duration", duration, "0s", 0, PROBE_MAX_DURATION,
                 "start requests for this long; 0: until SIGINT or SIGTERM"),
    {.name = "count",
     .type = CONFIG_INT,
     .offset = OPT(count),
     .def = "0",
     .min = 0,
     .max = INT64_C(1000000000),
     .help = "start at most this many requests; 0: no limit"},
    DURATION_KEY("timeout", timeout, "10s", MS, 3600 * S,
                 "naive: the whole request"),
    DURATION_KEY("connect-timeout", connect_timeout, "2s", MS, 3600 * S,
                 "guided: to connect, per attempt"),
    DURATION_KEY("attempt-timeout", attempt_timeout, "3s", MS, 3600 * S,
                 "guided: connect, send and read the answer, per attempt"),
    {.name = "retries",
     .type = CONFIG_INT,
     .offset = OPT(retries),
     .def = "3",
     .min = 0,
     .max = PROBE_MAX_RETRIES,
     .help = "guided: retries of a GET or HEAD after a failed attempt"},
    DURATION_KEY("backoff-base", backoff_base, "50ms", MS, 3600 * S,
                 "guided: the first retry waits up to this (full jitter)"),
    DURATION_KEY("backoff-cap", backoff_cap, "1s", MS, 3600 * S,
                 "guided: no retry waits longer; each doubles until it"),
    {.name = "seed",
     .type = CONFIG_INT,
     .offset = OPT(seed),
     .def = "0",
     .min = 0,
     .max = INT64_MAX,
     .help = "seed of the backoff jitter; 0: from the clock (printed)"},
    {.name = "out",
     .type = CONFIG_STRING,
     .offset = OPT(out),
     .help = "write a JSON line per request and a summary line here (\"-\": "
             "stdout)"},
    {.name = "summary",
     .type = CONFIG_BOOL,
     .offset = OPT(summary),
     .help = "print a summary on stderr at the end"},
};

static const struct config_schema schema = {keys, sizeof(keys) / sizeof(*keys)};

/* What the run needs besides the flags. */
struct probe {
    struct probe_opts opt;
    struct probeloop_options loop;
    struct buf request;
    uint64_t seed;
    FILE *out;
    struct probe_summary summary;
    struct buf line;
    enum zl_err write_rc;
};

static enum zl_err parse_target(struct probe *p, struct config_error *err)
{
    struct serve_address a;
    const char *t = p->opt.target;
    struct sockaddr_in *v4 = (struct sockaddr_in *)&p->loop.addr;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&p->loop.addr;
    if (t == NULL || serve_parse_address(t, &a) != ZL_OK || a.disabled ||
        a.host[0] == '\0' || a.port == 0) {
        config_fail(err, "--target: \"%s\" is not IPV4:PORT or [IPV6]:PORT",
                    t != NULL ? t : "");
        return ZL_ERR_INVALID;
    }
    if (a.family == AF_INET6) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(a.port);
        p->loop.addr_len = sizeof(*v6);
        return inet_pton(AF_INET6, a.host, &v6->sin6_addr) == 1
                   ? ZL_OK
                   : ZL_ERR_INVALID;
    }
    v4->sin_family = AF_INET;
    v4->sin_port = htons(a.port);
    p->loop.addr_len = sizeof(*v4);
    return inet_pton(AF_INET, a.host, &v4->sin_addr) == 1 ? ZL_OK
                                                          : ZL_ERR_INVALID;
}

static enum zl_err check_cross(const struct probe_opts *o,
                               struct config_error *err)
{
    if (o->attempt_timeout < o->connect_timeout) {
        config_fail(err, "--attempt-timeout: must be at least "
                         "--connect-timeout");
        return ZL_ERR_INVALID;
    }
    if (o->backoff_cap < o->backoff_base) {
        config_fail(err, "--backoff-cap: must be at least --backoff-base");
        return ZL_ERR_INVALID;
    }
    return ZL_OK;
}

static void fill_loop(struct probe *p)
{
    const struct probe_opts *o = &p->opt;
    struct probeloop_options *l = &p->loop;
    l->request = p->request.data;
    l->request_len = p->request.len;
    l->head = strcmp(o->method, "HEAD") == 0;
    l->guided = strcmp(o->mode, "guided") == 0;
    l->retry = probe_method_idempotent(o->method);
    l->max_retries = (unsigned)o->retries;
    l->interval_ns = o->interval;
    l->count = (uint64_t)o->count;
    l->duration_ns = o->duration;
    l->timeout_ns = o->timeout;
    l->connect_timeout_ns = o->connect_timeout;
    l->attempt_timeout_ns = o->attempt_timeout;
    l->backoff = (struct probe_backoff){o->backoff_base, o->backoff_cap};
    p->seed = o->seed != 0
                  ? (uint64_t)o->seed
                  : (uint64_t)clock_real_ns() ^ ((uint64_t)getpid() << 32);
    l->seed = p->seed;
    l->stop_fd = -1;
}

static enum zl_err load(struct probe *p, int argc, char **argv,
                        struct config_error *err)
{
    enum zl_err rc = config_load(&schema, &p->opt, argc, argv, err);
    if (rc != ZL_OK || p->opt.help)
        return rc;
    rc = parse_target(p, err);
    if (rc == ZL_OK)
        rc = check_cross(&p->opt, err);
    if (rc != ZL_OK)
        return rc;
    const char *host = p->opt.host != NULL ? p->opt.host : p->opt.target;
    rc = probe_request_text(p->opt.method, p->opt.path, host, &p->request);
    if (rc == ZL_ERR_NOMEM)
        config_fail(err, "out of memory");
    else if (rc != ZL_OK)
        config_fail(err,
                    "--path or --host: \"%s\", \"%s\": a path starts with / "
                    "and neither holds spaces or control characters (at "
                    "most %d and %d bytes)",
                    p->opt.path, host, PROBE_MAX_PATH, PROBE_MAX_HOST);
    if (rc == ZL_OK)
        fill_loop(p);
    return rc;
}

static void write_line(struct probe *p)
{
    if (p->out == NULL || p->write_rc != ZL_OK)
        return;
    if (buf_putc(&p->line, '\n') != ZL_OK ||
        fwrite(p->line.data, 1, p->line.len, p->out) != p->line.len)
        p->write_rc = ZL_ERR_IO;
}

static void on_done(void *ctx, const struct probe_request *r)
{
    struct probe *p = ctx;
    bool partial = p->summary.gap_partial;
    if (probe_summary_add(&p->summary, r) != ZL_OK && !partial)
        fprintf(stderr, PROGRAM ": out of memory: the largest gap is "
                                "partial\n");
    buf_reset(&p->line);
    if (p->out != NULL && probe_request_json(r, &p->line) == ZL_OK)
        write_line(p);
}

/* Many requests may hang at once: each holds a descriptor. */
static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static void report(struct probe *p)
{
    struct probe_run run = {p->opt.mode, p->opt.method,   p->opt.target,
                            p->opt.path, p->opt.interval, p->seed};
    probe_summary_finish(&p->summary);
    buf_reset(&p->line);
    if (p->out != NULL &&
        probe_summary_json(&p->summary, &run, &p->line) == ZL_OK)
        write_line(p);
    buf_reset(&p->line);
    if (p->opt.summary && probe_summary_text(&p->summary, &p->line) == ZL_OK)
        fprintf(stderr, "seed %llu\n%s", (unsigned long long)p->seed,
                p->line.data);
}

static int run(struct probe *p)
{
    int code = 1;
    raise_nofile();
    if (p->opt.out != NULL)
        p->out = strcmp(p->opt.out, "-") == 0 ? stdout : fopen(p->opt.out, "w");
    if (p->opt.out != NULL && p->out == NULL) {
        fprintf(stderr, PROGRAM ": --out %s: %s\n", p->opt.out,
                strerror(errno));
        return 1;
    }
    p->loop.done = on_done;
    p->loop.done_ctx = p;
    p->loop.stop_fd = signals_install();
    enum zl_err rc = p->loop.stop_fd >= 0 ? probeloop_run(&p->loop) : ZL_ERR_IO;
    if (rc != ZL_OK)
        fprintf(stderr, PROGRAM ": %s\n", zl_err_str(rc));
    report(p);
    if (p->out != NULL &&
        (p->out == stdout ? fflush(stdout) : fclose(p->out)) != 0)
        p->write_rc = ZL_ERR_IO;
    if (p->write_rc != ZL_OK)
        fprintf(stderr, PROGRAM ": --out %s: write failed\n", p->opt.out);
    signals_close();
    if (rc == ZL_OK && p->write_rc == ZL_OK)
        code = 0;
    return code;
}

int main(int argc, char **argv)
{
    static struct probe p;
    struct config_error err = {{0}};
    int code = 0;
    buf_init(&p.request, PROBE_MAX_PATH + PROBE_MAX_HOST + 256);
    buf_init(&p.line, (size_t)1 << 20);
    probe_summary_init(&p.summary);
    if (load(&p, argc, argv, &err) != ZL_OK) {
        fprintf(stderr, PROGRAM ": %s\n", err.text);
        code = 2;
    } else if (p.opt.help) {
        printf("Usage: " PROGRAM " --target HOST:PORT [flags]\n"
               "Open-loop HTTP/1.1 probe: a request every --interval on a "
               "new connection.\n\nFlags:\n");
        config_print_help(&schema, stdout);
    } else {
        code = run(&p);
    }
    probe_summary_cleanup(&p.summary);
    buf_cleanup(&p.line);
    buf_cleanup(&p.request);
    config_cleanup(&schema, &p.opt);
    return code;
}

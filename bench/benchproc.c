/* SPDX-License-Identifier: Apache-2.0 */
/* The measured controller process (see benchproc.h). */
#include "benchproc.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"

extern char **environ;

static void benchproc_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* posix_spawn wants writable strings: copies argv (at most
 * BENCHPROC_MAX_ARGS) into store, pointed to by args. */
static bool benchproc_copy_args(const char *const argv[], char **args,
                                char *store, size_t store_len)
{
    size_t n = 0;
    size_t used = 0;
    for (; argv[n] != NULL && n + 1 < BENCHPROC_MAX_ARGS; n++) {
        size_t len = strlen(argv[n]) + 1;
        if (used + len > store_len)
            return false;
        memcpy(store + used, argv[n], len);
        args[n] = store + used;
        used += len;
    }
    args[n] = NULL;
    return n > 0 && argv[n] == NULL;
}

enum zl_err benchproc_spawn(struct benchproc *p, const char *const argv[],
                            const char *log_path, const char *health)
{
    char *args[BENCHPROC_MAX_ARGS] = {NULL};
    char store[BENCHPROC_ARGS_BYTES];
    memset(p, 0, sizeof(*p));
    snprintf(p->health, sizeof(p->health), "%s", health);
    p->idle_ticks = 2;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log_path,
                                     O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    int err = ENOMEM;
    p->started_ns = clock_mono_ns();
    if (benchproc_copy_args(argv, args, store, sizeof(store)))
        err = posix_spawn(&p->pid, args[0], &fa, NULL, args, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (err != 0) {
        fprintf(stderr, "bench: cannot start %s: %s\n", argv[0], strerror(err));
        p->pid = 0;
        return ZL_ERR_IO;
    }
    p->owned = true;
    return ZL_OK;
}

enum zl_err benchproc_free_address(char out[32])
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t len = sizeof(a);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return ZL_ERR_IO;
    bool ok = bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
              getsockname(fd, (struct sockaddr *)&a, &len) == 0;
    close(fd);
    if (!ok)
        return ZL_ERR_IO;
    snprintf(out, 32, "127.0.0.1:%u", (unsigned)ntohs(a.sin_port));
    return ZL_OK;
}

void benchproc_attach(struct benchproc *p, pid_t pid, const char *health)
{
    memset(p, 0, sizeof(*p));
    p->pid = pid;
    p->started_ns = clock_mono_ns();
    p->idle_ticks = 2;
    snprintf(p->health, sizeof(p->health), "%s", health);
}

/* libcurl's write callback type: d is not const there. */
static size_t
benchproc_discard(char *d, /* NOLINT(readability-non-const-parameter) */
                  size_t s, size_t n, void *ctx)
{
    (void)d;
    (void)ctx;
    return s * n;
}

/* The HTTP code, or 0 with *refused set when nothing listens. */
static long benchproc_get(CURL *h, bool *refused)
{
    long code = 0;
    CURLcode cc = curl_easy_perform(h);
    *refused = cc == CURLE_COULDNT_CONNECT;
    if (cc == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    return code;
}

static CURL *benchproc_probe(const struct benchproc *p)
{
    char url[128];
    snprintf(url, sizeof(url), "http://%s/readyz", p->health);
    CURL *h = curl_easy_init();
    if (h == NULL)
        return NULL;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 1000L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, benchproc_discard);
    return h;
}

enum zl_err benchproc_wait_ready(struct benchproc *p, int64_t timeout_ns)
{
    CURL *h = benchproc_probe(p);
    if (h == NULL)
        return ZL_ERR_NOMEM;
    int64_t start = clock_mono_ns();
    int64_t deadline = start + timeout_ns;
    enum zl_err rc = ZL_ERR_TIMEOUT;
    bool refused = false;
    while (clock_mono_ns() < deadline) {
        if (p->owned && !benchproc_alive(p)) {
            rc = ZL_ERR_IO;
            break;
        }
        if (benchproc_get(h, &refused) == 200) {
            rc = ZL_OK;
            break;
        }
        if (refused && clock_mono_ns() - start > BENCHPROC_NO_PROBE_NS) {
            /* No probe server: synced caches show as a process at rest. */
            fprintf(stderr,
                    "bench: nothing serves http://%s/readyz; "
                    "waiting for the process to go idle instead\n",
                    p->health);
            rc = benchproc_wait_idle(p, p->idle_ticks,
                                     deadline - clock_mono_ns());
            break;
        }
        benchproc_sleep_ms(20);
    }
    curl_easy_cleanup(h);
    return rc;
}

long benchproc_rss_kib(const struct benchproc *p)
{
    return benchproc_status_kib(p, "VmRSS");
}

long benchproc_status_kib(const struct benchproc *p, const char *field)
{
    char path[64];
    char line[256];
    size_t flen = strlen(field);
    long kib = -1;
    snprintf(path, sizeof(path), "/proc/%d/status", (int)p->pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof(line), f) != NULL)
        if (strncmp(line, field, flen) == 0 && line[flen] == ':') {
            kib = strtol(line + flen + 1, NULL, 10);
            break;
        }
    fclose(f);
    return kib;
}

struct benchproc_body {
    char data[1 << 20];
    size_t len;
};

static size_t benchproc_keep(char *d, size_t s, size_t n, void *ctx)
{
    struct benchproc_body *b = ctx;
    size_t len = s * n;
    if (b->len + len >= sizeof(b->data))
        return 0;
    memcpy(b->data + b->len, d, len);
    b->len += len;
    b->data[b->len] = '\0';
    return len;
}

/* Sums "<metric>{...} value" and "<metric> value" lines. */
static double benchproc_sum_lines(const char *text, const char *metric)
{
    size_t mlen = strlen(metric);
    double sum = 0;
    for (const char *line = text; line != NULL && *line != '\0';) {
        const char *next = strchr(line, '\n');
        if (strncmp(line, metric, mlen) == 0 &&
            (line[mlen] == '{' || line[mlen] == ' ')) {
            const char *v = line[mlen] == '{' ? strchr(line, '}') : line + mlen;
            if (v != NULL && (next == NULL || v < next))
                sum += strtod(v + 1, NULL);
        }
        line = next != NULL ? next + 1 : NULL;
    }
    return sum;
}

double benchproc_metric_sum(const char *metrics, const char *metric)
{
    static struct benchproc_body body;
    char url[128];
    snprintf(url, sizeof(url), "http://%s/metrics", metrics);
    CURL *h = curl_easy_init();
    if (h == NULL)
        return -1;
    body.len = 0;
    body.data[0] = '\0';
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 2000L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, benchproc_keep);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
    long code = 0;
    if (curl_easy_perform(h) == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(h);
    return code == 200 ? benchproc_sum_lines(body.data, metric) : -1;
}

enum zl_err benchproc_wait_metric_still(const char *metrics, const char *metric,
                                        int64_t quiet_ns, int64_t timeout_ns)
{
    int64_t deadline = clock_mono_ns() + timeout_ns;
    double last = benchproc_metric_sum(metrics, metric);
    int64_t since = clock_mono_ns();
    while (clock_mono_ns() < deadline) {
        benchproc_sleep_ms(100);
        double now = benchproc_metric_sum(metrics, metric);
        if (now < 0)
            return ZL_ERR_IO;
        if (now != last) {
            last = now;
            since = clock_mono_ns();
        } else if (clock_mono_ns() - since >= quiet_ns) {
            return ZL_OK;
        }
    }
    return ZL_ERR_TIMEOUT;
}

long benchproc_cpu_ticks(const struct benchproc *p)
{
    char path[64];
    char line[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)p->pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    char *got = fgets(line, sizeof(line), f);
    fclose(f);
    /* Fields after the command (which may hold spaces) start past ')':
     * state is field 3, utime 14, stime 15. */
    char *q = got != NULL ? strrchr(line, ')') : NULL;
    if (q == NULL)
        return -1;
    long v[13] = {0};
    char *end = q + 2;
    for (int i = 0; i < 13; i++) {
        while (*end == ' ')
            end++;
        if (i == 0) {
            end++; /* the state letter */
            continue;
        }
        v[i] = strtol(end, &end, 10);
    }
    return v[11] + v[12];
}

enum zl_err benchproc_wait_idle(struct benchproc *p, long max_ticks_per_s,
                                int64_t timeout_ns)
{
    int64_t deadline = clock_mono_ns() + timeout_ns;
    long before = benchproc_cpu_ticks(p);
    while (clock_mono_ns() < deadline) {
        benchproc_sleep_ms(1000);
        long after = benchproc_cpu_ticks(p);
        if (before < 0 || after < 0)
            return ZL_ERR_IO;
        if (after - before < max_ticks_per_s)
            return ZL_OK;
        before = after;
    }
    return ZL_ERR_TIMEOUT;
}

bool benchproc_alive(struct benchproc *p)
{
    if (p->pid <= 0)
        return false;
    if (!p->owned)
        return kill(p->pid, 0) == 0;
    int status;
    pid_t r = waitpid(p->pid, &status, WNOHANG);
    if (r == p->pid) {
        p->pid = 0;
        return false;
    }
    return r == 0;
}

int benchproc_stop(struct benchproc *p, int64_t grace_ns)
{
    if (!p->owned || p->pid <= 0)
        return -1;
    kill(p->pid, SIGTERM);
    int64_t deadline = clock_mono_ns() + grace_ns;
    int status = -1;
    for (;;) {
        pid_t r = waitpid(p->pid, &status, WNOHANG);
        if (r == p->pid || (r < 0 && errno != EINTR))
            break;
        if (clock_mono_ns() >= deadline) {
            kill(p->pid, SIGKILL);
            waitpid(p->pid, &status, 0);
            break;
        }
        benchproc_sleep_ms(10);
    }
    p->pid = 0;
    return status;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* The measured controller process (see benchproc.h). */
#include "benchproc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
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

struct benchproc_body {
    char data[1 << 20];
    size_t len;
};

/* Sends the request on fd and reads the answer to its end; the HTTP code
 * or 0. body keeps what follows the header. */
static long benchproc_http_exchange(int fd, const char *hostport,
                                    const char *path,
                                    struct benchproc_body *body)
{
    char req[256];
    int n = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n",
                     path, hostport);
    if (n < 0 || (size_t)n >= sizeof(req) || write(fd, req, (size_t)n) != n)
        return 0;
    size_t len = 0;
    ssize_t got;
    while (len + 1 < sizeof(body->data) &&
           (got = read(fd, body->data + len, sizeof(body->data) - 1 - len)) > 0)
        len += (size_t)got;
    body->data[len] = '\0';
    long code = 0;
    if (strncmp(body->data, "HTTP/1.", 7) == 0 && len > 12)
        code = strtol(body->data + 9, NULL, 10);
    char *head_end = strstr(body->data, "\r\n\r\n");
    size_t skip = head_end != NULL ? (size_t)(head_end + 4 - body->data) : len;
    memmove(body->data, body->data + skip, len - skip + 1);
    body->len = len - skip;
    return code;
}

/* A plain HTTP/1.0 GET of http://<hostport><path> on loopback, the whole
 * answer into body (cut at its size): the HTTP code, or 0 (with *refused
 * set when nothing listens). 2 s timeout for each read and write. */
static long benchproc_http_get(const char *hostport, const char *path,
                               struct benchproc_body *body, bool *refused)
{
    char host[64];
    const char *colon = strrchr(hostport, ':');
    *refused = false;
    body->len = 0;
    body->data[0] = '\0';
    if (colon == NULL || (size_t)(colon - hostport) >= sizeof(host))
        return 0;
    const char *h = hostport[0] == '[' ? hostport + 1 : hostport;
    size_t hlen = (size_t)(colon - h) - (hostport[0] == '[' ? 1 : 0);
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
    if (getaddrinfo(host, colon + 1, &hints, &ai) != 0)
        return 0;
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct timeval tv = {.tv_sec = 2};
    long code = 0;
    if (fd >= 0) {
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0)
            *refused = errno == ECONNREFUSED;
        else
            code = benchproc_http_exchange(fd, hostport, path, body);
        close(fd);
    }
    freeaddrinfo(ai);
    return code;
}

enum zl_err benchproc_wait_ready(struct benchproc *p, int64_t timeout_ns)
{
    static struct benchproc_body body;
    int64_t start = clock_mono_ns();
    int64_t deadline = start + timeout_ns;
    enum zl_err rc = ZL_ERR_TIMEOUT;
    bool refused = false;
    while (clock_mono_ns() < deadline) {
        if (p->owned && !benchproc_alive(p)) {
            rc = ZL_ERR_IO;
            break;
        }
        if (benchproc_http_get(p->health, "/readyz", &body, &refused) == 200) {
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
    bool refused;
    long code = benchproc_http_get(metrics, "/metrics", &body, &refused);
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

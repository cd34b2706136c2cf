/* SPDX-License-Identifier: Apache-2.0 */
/* The audit log file: one locked, retried write(2) per line. */
#include "webhook/auditlog.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"

struct auditlog {
    int fd;
    bool owned; /* not standard output */
    pthread_mutex_t mu;
    uint64_t failures;
    bool failing; /* the last write failed: do not log again */
};

enum zl_err auditlog_open(const char *path, struct auditlog **out)
{
    *out = NULL;
    struct auditlog *a = calloc(1, sizeof(*a));
    if (a == NULL)
        return ZL_ERR_NOMEM;
    a->fd = STDOUT_FILENO;
    if (strcmp(path, "-") != 0) {
        a->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
        a->owned = true;
    }
    if (a->fd < 0) {
        log_error("audit log %s: %s", path, strerror(errno));
        free(a);
        return ZL_ERR_IO;
    }
    if (pthread_mutex_init(&a->mu, NULL) != 0) {
        if (a->owned)
            close(a->fd);
        free(a);
        return ZL_ERR_NOMEM;
    }
    *out = a;
    return ZL_OK;
}

/* Writes all of it, going on after short writes and EINTR. */
static int write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return errno != 0 ? errno : EIO;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

void auditlog_write(struct auditlog *a, const char *line, size_t len)
{
    pthread_mutex_lock(&a->mu);
    int err = write_all(a->fd, line, len);
    if (err != 0) {
        a->failures++;
        if (!a->failing)
            log_error("audit log: cannot write: %s (counted until it "
                      "recovers)",
                      strerror(err));
        a->failing = true;
    } else {
        a->failing = false;
    }
    pthread_mutex_unlock(&a->mu);
}

uint64_t auditlog_failures(struct auditlog *a)
{
    pthread_mutex_lock(&a->mu);
    uint64_t n = a->failures;
    pthread_mutex_unlock(&a->mu);
    return n;
}

void auditlog_close(struct auditlog *a)
{
    if (a == NULL)
        return;
    if (a->owned)
        close(a->fd);
    pthread_mutex_destroy(&a->mu);
    free(a);
}

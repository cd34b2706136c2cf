/* SPDX-License-Identifier: Apache-2.0 */
/* Whole-file reads with a limit and atomic writes (temp + fsync + rename)
 * for certificates and keys. */
#include "certs/certfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static enum zl_err read_fd(int fd, struct buf *out)
{
    char chunk[4096];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return ZL_ERR_IO;
        if (n == 0)
            return ZL_OK;
        if (out->len + (size_t)n > CERTFILE_MAX)
            return ZL_ERR_LIMIT;
        enum zl_err rc = buf_append(out, chunk, (size_t)n);
        if (rc != ZL_OK)
            return rc;
    }
}

enum zl_err certfile_read(const char *path, struct buf *out)
{
    buf_reset(out);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? ZL_ERR_NOTFOUND : ZL_ERR_IO;
    enum zl_err rc = read_fd(fd, out);
    close(fd);
    if (rc == ZL_OK && out->data == NULL)
        rc = buf_append(out, "", 0);
    return rc;
}

static enum zl_err write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return ZL_ERR_IO;
        p += n;
        len -= (size_t)n;
    }
    return ZL_OK;
}

/* Makes the rename itself durable: fsync of the folder holding path. */
static void sync_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char dir[4096];
    if (slash == NULL)
        snprintf(dir, sizeof(dir), ".");
    else if (slash == path)
        snprintf(dir, sizeof(dir), "/");
    else if ((size_t)(slash - path) < sizeof(dir))
        snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
    else
        return;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

enum zl_err certfile_write(const char *path, const void *data, size_t len,
                           mode_t mode)
{
    struct buf tmp;
    buf_init(&tmp, 4096 + strlen(path));
    enum zl_err rc = buf_printf(&tmp, "%s.tmp.XXXXXX", path);
    if (rc != ZL_OK)
        goto out;
    int fd = mkstemp(tmp.data);
    if (fd < 0) {
        rc = ZL_ERR_IO;
        goto out;
    }
    rc = fchmod(fd, mode) == 0 ? write_all(fd, data, len) : ZL_ERR_IO;
    if (rc == ZL_OK && fsync(fd) != 0)
        rc = ZL_ERR_IO;
    if (close(fd) != 0 && rc == ZL_OK)
        rc = ZL_ERR_IO;
    if (rc == ZL_OK && rename(tmp.data, path) != 0)
        rc = ZL_ERR_IO;
    if (rc == ZL_OK)
        sync_dir(path);
    if (rc != ZL_OK) {
        int saved = errno;
        unlink(tmp.data);
        errno = saved;
    }
out:
    buf_cleanup(&tmp);
    return rc;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* The file I/O of zen-lead-certs: reading a PEM or DER file whole, with a
 * size limit, and writing a file atomically (a temporary file in the same
 * folder, fsync, rename) with a given mode. It knows nothing of X.509. */
#ifndef ZL_CERTS_CERTFILE_H
#define ZL_CERTS_CERTFILE_H

#include <stddef.h>
#include <sys/types.h>

#include "base/buf.h"
#include "base/err.h"

#define CERTFILE_MAX (1u << 20) /* largest certificate or key file read */
#define CERTFILE_MODE_KEY 0600
#define CERTFILE_MODE_CERT 0644

/* Reads path whole into out (reset first; NUL-terminated). ZL_ERR_NOTFOUND
 * when it does not exist, ZL_ERR_LIMIT past CERTFILE_MAX, ZL_ERR_IO,
 * ZL_ERR_NOMEM. out is initialised by the caller. */
enum zl_err certfile_read(const char *path, struct buf *out);

/* Writes data to path atomically with the given mode: a reader sees the old
 * content or the new, never a part. The temporary file is removed on
 * failure; the folder is synced after the rename. ZL_ERR_IO (errno says
 * why) or ZL_ERR_NOMEM. */
enum zl_err certfile_write(const char *path, const void *data, size_t len,
                           mode_t mode);

#endif

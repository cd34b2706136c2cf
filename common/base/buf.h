/* SPDX-License-Identifier: Apache-2.0 */
/* A growable byte buffer with a hard maximum fixed at init. The content is
 * always NUL-terminated (the terminator is not counted in len). It does not
 * shrink and does no I/O. */
#ifndef ZL_BASE_BUF_H
#define ZL_BASE_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "base/err.h"

struct buf {
    char *data; /* NULL until the first append; owned by the buffer */
    size_t len; /* bytes in use, terminator excluded */
    size_t cap; /* bytes allocated */
    size_t max; /* len may never exceed this */
};

/* Starts an empty buffer that may hold at most max bytes. Allocates nothing. */
void buf_init(struct buf *b, size_t max);

/* Frees the content and leaves the buffer empty (max kept). NULL is a no-op. */
void buf_cleanup(struct buf *b);

/* Empties the buffer, keeping its memory. */
void buf_reset(struct buf *b);

/* Appends n bytes. ZL_ERR_LIMIT when len + n would exceed max, ZL_ERR_NOMEM
 * when growing fails; on error the buffer is unchanged. */
enum zl_err buf_append(struct buf *b, const void *data, size_t n);

/* Appends a NUL-terminated string. Errors as buf_append. */
enum zl_err buf_puts(struct buf *b, const char *s);

/* Appends one byte. Errors as buf_append. */
enum zl_err buf_putc(struct buf *b, char c);

/* Appends printf-style output. Errors as buf_append. */
enum zl_err buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
enum zl_err buf_vprintf(struct buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* Appends s as a JSON string literal: quoted, with ", \\ and control
 * characters escaped (\u00XX). Bytes >= 0x80 are copied as they are, so
 * valid UTF-8 stays valid. Errors as buf_append, but a failure may leave
 * part of the literal appended. */
enum zl_err buf_put_json_string(struct buf *b, const char *s);

/* Makes sure room for n more bytes (and the terminator) is allocated. */
enum zl_err buf_reserve(struct buf *b, size_t n);

/* Removes the first n bytes (all when n >= len), moving the rest down. */
void buf_consume(struct buf *b, size_t n);

/* Hands the content to the caller (who frees it) and leaves the buffer empty.
 * Returns an allocated empty string for an empty buffer; NULL on ENOMEM. */
char *buf_take(struct buf *b);

#endif

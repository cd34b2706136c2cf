/* SPDX-License-Identifier: Apache-2.0 */
/* Growable buffer with a hard maximum. Growth doubles, capped at max + 1 so a
 * buffer fed by the outside can never hold more than it was allowed. */
#include "base/buf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUF_MIN_CAP 64

void buf_init(struct buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void buf_cleanup(struct buf *b)
{
    if (b == NULL)
        return;
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void buf_reset(struct buf *b)
{
    b->len = 0;
    if (b->data != NULL)
        b->data[0] = '\0';
}

enum zl_err buf_reserve(struct buf *b, size_t n)
{
    if (n > b->max || b->len > b->max - n)
        return ZL_ERR_LIMIT;
    size_t need = b->len + n + 1;
    if (need <= b->cap)
        return ZL_OK;
    size_t cap = b->cap < BUF_MIN_CAP ? BUF_MIN_CAP : b->cap;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    if (cap > b->max + 1)
        cap = b->max + 1;
    char *data = realloc(b->data, cap);
    if (data == NULL)
        return ZL_ERR_NOMEM;
    b->data = data;
    b->cap = cap;
    return ZL_OK;
}

enum zl_err buf_append(struct buf *b, const void *data, size_t n)
{
    enum zl_err err = buf_reserve(b, n);
    if (err != ZL_OK)
        return err;
    if (n > 0)
        memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = '\0';
    return ZL_OK;
}

enum zl_err buf_puts(struct buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

enum zl_err buf_putc(struct buf *b, char c)
{
    return buf_append(b, &c, 1);
}

enum zl_err buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (n < 0)
        return ZL_ERR_INVALID;
    enum zl_err err = buf_reserve(b, (size_t)n);
    if (err != ZL_OK)
        return err;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return ZL_OK;
}

enum zl_err buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    enum zl_err err = buf_vprintf(b, fmt, ap);
    va_end(ap);
    return err;
}

void buf_consume(struct buf *b, size_t n)
{
    if (n >= b->len) {
        buf_reset(b);
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
    b->data[b->len] = '\0';
}

char *buf_take(struct buf *b)
{
    char *out = b->data;
    if (out == NULL)
        out = calloc(1, 1);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    return out;
}

enum zl_err buf_put_json_string(struct buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    enum zl_err err = buf_putc(b, '"');
    for (const unsigned char *p = (const unsigned char *)s;
         err == ZL_OK && *p != '\0'; p++) {
        switch (*p) {
        case '"':
            err = buf_append(b, "\\\"", 2);
            break;
        case '\\':
            err = buf_append(b, "\\\\", 2);
            break;
        case '\n':
            err = buf_append(b, "\\n", 2);
            break;
        case '\r':
            err = buf_append(b, "\\r", 2);
            break;
        case '\t':
            err = buf_append(b, "\\t", 2);
            break;
        default:
            if (*p < 0x20 || *p == 0x7f) {
                char esc[6] = {'\\', 'u',          '0',
                               '0',  hex[*p >> 4], hex[*p & 0xf]};
                err = buf_append(b, esc, sizeof(esc));
            } else {
                err = buf_putc(b, (char)*p);
            }
        }
    }
    if (err == ZL_OK)
        err = buf_putc(b, '"');
    return err;
}

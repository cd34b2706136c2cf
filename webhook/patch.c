/* SPDX-License-Identifier: Apache-2.0 */
/* JSONPatch text builder. Each operation is appended whole or not at all,
 * and the closing bracket is kept at the end, so the text is a valid
 * patch after every successful call. */
#include "webhook/patch.h"

#include <string.h>

static const char *const op_names[] = {"add", "replace", "remove"};

void patch_init(struct patch *p)
{
    buf_init(&p->text, PATCH_MAX_TEXT);
    p->op_count = 0;
}

void patch_cleanup(struct patch *p)
{
    if (p == NULL)
        return;
    buf_cleanup(&p->text);
    p->op_count = 0;
}

enum zl_err patch_escape_token(struct buf *out, const char *token)
{
    enum zl_err err = ZL_OK;
    for (const char *c = token; err == ZL_OK && *c != '\0'; c++) {
        if (*c == '~')
            err = buf_append(out, "~0", 2);
        else if (*c == '/')
            err = buf_append(out, "~1", 2);
        else
            err = buf_putc(out, *c);
    }
    return err;
}

/* Appends one operation object to b (no separators). */
static enum zl_err put_op(struct buf *b, enum patch_op op, const char *key,
                          const char *value)
{
    struct buf path;
    buf_init(&path, PATCH_MAX_TEXT);
    enum zl_err err = buf_puts(&path, PATCH_ANNOTATIONS_PATH);
    if (err == ZL_OK && key != NULL) {
        err = buf_putc(&path, '/');
        if (err == ZL_OK)
            err = patch_escape_token(&path, key);
    }
    if (err == ZL_OK)
        err = buf_printf(b, "{\"op\":\"%s\",\"path\":", op_names[op]);
    if (err == ZL_OK)
        err = buf_put_json_string(b, path.data);
    if (err == ZL_OK && op != PATCH_OP_REMOVE) {
        err = buf_puts(b, ",\"value\":");
        if (err == ZL_OK)
            err =
                key != NULL ? buf_put_json_string(b, value) : buf_puts(b, "{}");
    }
    if (err == ZL_OK)
        err = buf_putc(b, '}');
    buf_cleanup(&path);
    return err;
}

/* Appends an operation to the array, keeping p unchanged on error. */
static enum zl_err append(struct patch *p, enum patch_op op, const char *key,
                          const char *value)
{
    struct buf one;
    buf_init(&one, PATCH_MAX_TEXT);
    enum zl_err err = buf_putc(&one, p->op_count == 0 ? '[' : ',');
    if (err == ZL_OK)
        err = put_op(&one, op, key, value);
    if (err == ZL_OK)
        err = buf_putc(&one, ']');
    if (err == ZL_OK) {
        size_t keep = p->op_count == 0 ? 0 : p->text.len - 1; /* drop ']' */
        size_t old_len = p->text.len;
        p->text.len = keep;
        err = buf_append(&p->text, one.data, one.len);
        if (err != ZL_OK)
            p->text.len = old_len;
        else
            p->op_count++;
    }
    buf_cleanup(&one);
    return err;
}

enum zl_err patch_annotation(struct patch *p, enum patch_op op, const char *key,
                             const char *value)
{
    if (key == NULL || key[0] == '\0' || (unsigned)op > PATCH_OP_REMOVE ||
        (op != PATCH_OP_REMOVE && value == NULL))
        return ZL_ERR_INVALID;
    return append(p, op, key, value);
}

enum zl_err patch_annotations_object(struct patch *p)
{
    return append(p, PATCH_OP_ADD, NULL, NULL);
}

const char *patch_text(const struct patch *p, size_t *len)
{
    *len = p->op_count > 0 ? p->text.len : 0;
    return p->op_count > 0 ? p->text.data : "";
}

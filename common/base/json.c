/* SPDX-License-Identifier: Apache-2.0 */
/* json-c's tokener behind one function: every caller gets the same limits
 * and the same strictness, so a body the watch decoder accepts is one the
 * views and the webhook accept too. */
#include "base/json.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "base/log.h"

/* Only JSON white space may follow the value. */
static bool only_space(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n')
            return false;
    }
    return true;
}

/* Parses one value of any type; *out may be NULL for a JSON null. */
static enum zl_err parse_value(const char *text, size_t text_len,
                               struct json_object **out)
{
    *out = NULL;
    if (text_len > JSON_MAX_TEXT || text_len > INT32_MAX) {
        log_debug("json: text of %zu bytes exceeds %zu", text_len,
                  JSON_MAX_TEXT);
        return ZL_ERR_LIMIT;
    }
    struct json_tokener *tok = json_tokener_new_ex(JSON_MAX_DEPTH);
    if (tok == NULL)
        return ZL_ERR_NOMEM;
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    struct json_object *obj = json_tokener_parse_ex(tok, text, (int)text_len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t used = json_tokener_get_parse_end(tok);
    if (jerr == json_tokener_continue && used == text_len) {
        /* A number at the very end ("1") is only known to be complete at
         * a delimiter: give it one. */
        obj = json_tokener_parse_ex(tok, " ", 1);
        jerr = json_tokener_get_error(tok);
    }
    json_tokener_free(tok);
    enum zl_err err = ZL_OK;
    if (jerr != json_tokener_success) {
        log_debug("json: %s at byte %zu", json_tokener_error_desc(jerr), used);
        err = jerr == json_tokener_error_depth ? ZL_ERR_LIMIT : ZL_ERR_PARSE;
    } else if (memchr(text, '\0', used) != NULL ||
               !only_space(text + used, text_len - used)) {
        log_debug("json: unexpected bytes after the value at byte %zu", used);
        err = ZL_ERR_PARSE;
    }
    if (err != ZL_OK) {
        json_object_put(obj);
        return err;
    }
    *out = obj;
    return ZL_OK;
}

enum zl_err json_parse_object(const char *text, size_t text_len,
                              struct json_object **out)
{
    enum zl_err err = parse_value(text, text_len, out);
    if (err == ZL_OK && !json_object_is_type(*out, json_type_object)) {
        log_debug("json: top-level value is not an object");
        json_object_put(*out);
        *out = NULL;
        err = ZL_ERR_PARSE;
    }
    return err;
}

enum zl_err json_check_value(const char *text, size_t text_len)
{
    struct json_object *obj = NULL;
    enum zl_err err = parse_value(text, text_len, &obj);
    json_object_put(obj);
    return err;
}

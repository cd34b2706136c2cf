/* SPDX-License-Identifier: Apache-2.0 */
/* A pull scanner over JSON text that builds nothing: the caller walks
 * objects and arrays member by member, reads the scalars it wants and
 * skips the rest, and the text is checked as it goes. For the hot paths
 * where a json-c tree (one allocation a node) costs more than the work
 * done with it, such as an AdmissionReview, which is mostly fields
 * zen-lead never reads.
 *
 * The grammar is RFC 8259's, strictly: json_parse_object's limits
 * (JSON_MAX_TEXT, nesting as deep as JSON_MAX_DEPTH allows), no NUL byte
 * outside an escape, and, stricter than json-c even in its strict mode,
 * no raw control character in a string, no single-quoted string, no NaN
 * and no number with a '.' but no digit after it (what this accepts,
 * json-c accepts too). Like json-c it does not check UTF-8, and an
 * escaped unpaired surrogate decodes to U+FFFD.
 *
 * Errors are sticky: once a call fails every later one fails, and
 * jscan_error says why (ZL_ERR_PARSE, or ZL_ERR_LIMIT past a limit). */
#ifndef ZL_BASE_JSCAN_H
#define ZL_BASE_JSCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

enum jscan_type {
    JSCAN_ERROR = 0, /* at the end of the text, or not a value */
    JSCAN_OBJECT,
    JSCAN_ARRAY,
    JSCAN_STRING,
    JSCAN_NUMBER,
    JSCAN_BOOL,
    JSCAN_NULL,
};

/* A string as it is in the text: raw[0..len) lies between the quotes,
 * escapes undecoded (escaped says whether there is any). */
struct jscan_str {
    const char *raw;
    size_t len;
    bool escaped;
};

/* The scanner; its fields are private. */
struct jscan {
    const char *p;
    const char *end;
    unsigned depth;
    bool fresh; /* just after '{' or '[': no comma before the next one */
    enum zl_err err;
};

/* Scans text[0..len). Past JSON_MAX_TEXT the scanner starts failed with
 * ZL_ERR_LIMIT. */
void jscan_init(struct jscan *s, const char *text, size_t len);

/* ZL_OK, or the first error. */
enum zl_err jscan_error(const struct jscan *s);

/* The type of the next value, by its first byte, without consuming it. */
enum jscan_type jscan_peek(struct jscan *s);

/* Where the next value starts (after white space). */
const char *jscan_pos(struct jscan *s);

/* Consumes '{'. Then jscan_member gives each member's key (and consumes
 * the ':'); the caller reads or skips its value before the next call. It
 * returns false after consuming the closing '}', or on an error. */
bool jscan_object(struct jscan *s);
bool jscan_member(struct jscan *s, struct jscan_str *key);

/* Consumes '['. Then jscan_item returns true when another item follows
 * (the caller reads or skips it), false after the closing ']' or on an
 * error. */
bool jscan_array(struct jscan *s);
bool jscan_item(struct jscan *s);

/* Scalars: false (and an error) when the next value is of another type. */
bool jscan_string(struct jscan *s, struct jscan_str *out);
bool jscan_bool(struct jscan *s, bool *out);
bool jscan_null(struct jscan *s);
/* A number that is an integer within int64 (no fraction or exponent);
 * ZL_ERR_PARSE for any other number. */
bool jscan_int64(struct jscan *s, int64_t *out);

/* Skips (and checks) the next value, whatever its type. */
bool jscan_skip(struct jscan *s);

/* True when only white space is left; else an error. */
bool jscan_finish(struct jscan *s);

/* Picking fields out of an object in one scan. fields[i].parent is the
 * index of the field whose object value holds field i, or JSCAN_TOP for a
 * member of the scanned object itself. */
#define JSCAN_TOP ((size_t)-1)

struct jscan_field {
    const char *key;
    size_t parent;
};

/* A value found: its type (JSCAN_ERROR while none was), and its text. */
struct jscan_value {
    enum jscan_type type;
    const char *start;
    size_t len;
};

/* Scans the object at the scan position (all of it, checked), recording
 * in values[i] (n of them, zeroed by the caller) the value of each field
 * found, the last one where a key repeats (as json-c and the API server's
 * decoder keep it; the fields under a replaced value are forgotten). An
 * object value of a field that has fields of its own is scanned for them
 * too. False on an error, or when the value there is not an object. */
bool jscan_collect(struct jscan *s, const struct jscan_field *fields, size_t n,
                   struct jscan_value *values);

/* A scanner over one collected value's text. */
void jscan_init_value(struct jscan *s, const struct jscan_value *v);

/* The string a collected (so already checked) value holds, without a
 * second scan; false when it is not a string. */
bool jscan_value_str(const struct jscan_value *v, struct jscan_str *out);

/* Decodes str into out, which holds at least str->len + 1 bytes, and
 * NUL-terminates it. Returns the decoded length, which is at most
 * str->len; an escaped NUL makes it larger than strlen(out). */
size_t jscan_decode(const struct jscan_str *str, char *out);

/* True when str decodes to exactly lit. */
bool jscan_str_is(const struct jscan_str *str, const char *lit);

#endif

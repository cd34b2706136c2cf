/* SPDX-License-Identifier: Apache-2.0 */
/* Daemon configuration from one table of keys: defaults, then a YAML file
 * (--config FILE, loaded with libcyaml), then command-line flags, each later
 * source overriding the earlier. Flags and YAML keys share one name. Unknown
 * keys and bad values are rejected with one line naming the source (flag or
 * file) and the key. No I/O besides reading the named file. */
#ifndef ZL_BASE_CONFIG_H
#define ZL_BASE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/err.h"

#define CONFIG_MAX_VALUE 4096 /* longest accepted value */
#define CONFIG_MAX_LIST 256   /* most entries in a list value */
#define CONFIG_MAX_FILE (1 << 20)
#define CONFIG_ERROR_MAX 512

enum config_type {
    CONFIG_STRING,   /* char * (owned by the config; NULL when unset) */
    CONFIG_BOOL,     /* bool; a bare flag means true */
    CONFIG_INT,      /* int64_t within [min, max] */
    CONFIG_DURATION, /* int64_t nanoseconds within [min, max], Go syntax */
    CONFIG_LIST,     /* struct config_list; a repeated flag appends */
};

struct config_list {
    char **items;
    size_t count;
};

struct config_key {
    const char *name; /* flag "--name" and YAML key "name" */
    size_t offset;    /* where the value lives in the caller's struct */
    const char *def;  /* default, as text; NULL for none */
    int64_t min;      /* CONFIG_INT and CONFIG_DURATION bounds */
    int64_t max;
    const char *const *choices; /* CONFIG_STRING: NULL-terminated allowed
                                   values, or NULL for any */
    const char *help;           /* one line for --help */
    enum config_type type;
    bool flag_only; /* not accepted in the file (--config, --help) */
};

struct config_schema {
    const struct config_key *keys;
    size_t count;
};

struct config_error {
    char text[CONFIG_ERROR_MAX]; /* one line, no trailing newline */
};

/* Formats err->text and keeps it one line: every control character of the
 * result (a newline in a quoted YAML value echoed back, say) becomes a
 * space. */
void config_fail(struct config_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Fills out (a zeroed struct laid out as the schema says) from defaults,
 * then the YAML file named by the flag --config (or --config=FILE) when
 * argv has it, then the flags argv[1..argc-1]. On error out holds whatever was
 * set so far, err says what and where, and the caller still calls
 * config_cleanup. ZL_ERR_INVALID bad value or unknown key; ZL_ERR_PARSE
 * malformed YAML; ZL_ERR_IO unreadable file; ZL_ERR_LIMIT oversize;
 * ZL_ERR_NOMEM. */
enum zl_err config_load(const struct config_schema *schema, void *out, int argc,
                        char *const *argv, struct config_error *err);

/* Frees the strings and lists config_load stored in out. */
void config_cleanup(const struct config_schema *schema, void *out);

/* Writes "  --name  help (default: x)" lines for --help. */
void config_print_help(const struct config_schema *schema, FILE *f);

#endif

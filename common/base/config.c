/* SPDX-License-Identifier: Apache-2.0 */
/* Configuration loading. The YAML file is read through a libcyaml schema
 * built at run time from the key table: every key is loaded as text (or a
 * list of text) and then converted by the same code that converts flags, so
 * a value means the same wherever it is written. */
#include "base/config.h"

#include <cyaml/cyaml.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/duration.h"
#include "base/yamlerr.h"

/* Where libcyaml stores one key's text while loading. */
struct raw_entry {
    char *scalar;
    char **items;
    uint32_t count;
};

void config_fail(struct config_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->text, sizeof(err->text), fmt, ap);
    va_end(ap);
    for (char *c = err->text; *c != '\0'; c++) {
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = ' ';
    }
}

static const struct config_key *find_key(const struct config_schema *schema,
                                         const char *name, size_t name_len)
{
    for (size_t i = 0; i < schema->count; i++) {
        const char *k = schema->keys[i].name;
        if (strlen(k) == name_len && strncmp(k, name, name_len) == 0)
            return &schema->keys[i];
    }
    return NULL;
}

static void *field(void *out, const struct config_key *key)
{
    return (char *)out + key->offset;
}

static void list_clear(struct config_list *list)
{
    for (size_t i = 0; i < list->count; i++)
        free(list->items[i]);
    free(list->items);
    list->items = NULL;
    list->count = 0;
}

static enum zl_err list_append(struct config_list *list, const char *value)
{
    if (list->count >= CONFIG_MAX_LIST)
        return ZL_ERR_LIMIT;
    char **grown = realloc(list->items, (list->count + 1) * sizeof(char *));
    if (grown == NULL)
        return ZL_ERR_NOMEM;
    list->items = grown;
    list->items[list->count] = strdup(value);
    if (list->items[list->count] == NULL)
        return ZL_ERR_NOMEM;
    list->count++;
    return ZL_OK;
}

static enum zl_err parse_bool(const char *text, bool *out)
{
    if (strcmp(text, "true") == 0 || strcmp(text, "True") == 0) {
        *out = true;
    } else if (strcmp(text, "false") == 0 || strcmp(text, "False") == 0) {
        *out = false;
    } else {
        return ZL_ERR_INVALID;
    }
    return ZL_OK;
}

static enum zl_err parse_int(const char *text, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (end == text || *end != '\0' || text[0] == ' ' || text[0] == '+')
        return ZL_ERR_INVALID;
    if (errno == ERANGE)
        return ZL_ERR_RANGE;
    *out = (int64_t)v;
    return ZL_OK;
}

static bool in_choices(const struct config_key *key, const char *text)
{
    if (key->choices == NULL)
        return true;
    for (const char *const *c = key->choices; *c != NULL; c++) {
        if (strcmp(*c, text) == 0)
            return true;
    }
    return false;
}

static void describe_range(const struct config_key *key, char *out,
                           size_t out_len)
{
    if (key->type == CONFIG_DURATION) {
        char lo[DURATION_FORMAT_MAX], hi[DURATION_FORMAT_MAX];
        duration_format(key->min, lo);
        duration_format(key->max, hi);
        snprintf(out, out_len, "%s to %s", lo, hi);
    } else {
        snprintf(out, out_len, "%lld to %lld", (long long)key->min,
                 (long long)key->max);
    }
}

/* Converts text for key and stores it. where names the source for errors
 * ("--qps" or "cfg.yaml: qps"). */
static enum zl_err set_value(const struct config_key *key, const char *text,
                             void *out, const char *where,
                             struct config_error *err)
{
    char range[96];
    int64_t num = 0;
    enum zl_err rc = ZL_OK;

    if (strlen(text) > CONFIG_MAX_VALUE) {
        config_fail(err, "%s: value is longer than %d bytes", where,
                    CONFIG_MAX_VALUE);
        return ZL_ERR_LIMIT;
    }
    switch (key->type) {
    case CONFIG_STRING: {
        if (!in_choices(key, text)) {
            char allowed[256] = "";
            for (const char *const *c = key->choices; *c != NULL; c++) {
                size_t used = strlen(allowed);
                snprintf(allowed + used, sizeof(allowed) - used, "%s%s",
                         used ? ", " : "", *c);
            }
            config_fail(err, "%s: \"%s\" is not one of: %s", where, text,
                        allowed);
            return ZL_ERR_INVALID;
        }
        char *copy = strdup(text);
        if (copy == NULL)
            return ZL_ERR_NOMEM;
        char **slot = field(out, key);
        free(*slot);
        *slot = copy;
        return ZL_OK;
    }
    case CONFIG_BOOL:
        if (parse_bool(text, field(out, key)) != ZL_OK) {
            config_fail(err, "%s: \"%s\" is not true or false", where, text);
            return ZL_ERR_INVALID;
        }
        return ZL_OK;
    case CONFIG_INT:
        rc = parse_int(text, &num);
        if (rc != ZL_OK) {
            config_fail(err, "%s: \"%s\" is not a whole number", where, text);
            return ZL_ERR_INVALID;
        }
        break;
    case CONFIG_DURATION:
        rc = duration_parse(text, &num);
        if (rc != ZL_OK) {
            config_fail(err,
                        "%s: \"%s\" is not a duration (examples: 500ms, 15s, "
                        "1m30s)",
                        where, text);
            return ZL_ERR_INVALID;
        }
        break;
    case CONFIG_LIST:
        rc = list_append(field(out, key), text);
        if (rc == ZL_ERR_LIMIT)
            config_fail(err, "%s: more than %d values", where, CONFIG_MAX_LIST);
        return rc;
    }
    if (num < key->min || num > key->max) {
        describe_range(key, range, sizeof(range));
        config_fail(err, "%s: \"%s\" is out of range (%s)", where, text, range);
        return ZL_ERR_INVALID;
    }
    *(int64_t *)field(out, key) = num;
    return ZL_OK;
}

static enum zl_err apply_defaults(const struct config_schema *schema, void *out,
                                  struct config_error *err)
{
    for (size_t i = 0; i < schema->count; i++) {
        const struct config_key *key = &schema->keys[i];
        if (key->def == NULL)
            continue;
        char where[128];
        snprintf(where, sizeof(where), "default of %s", key->name);
        enum zl_err rc = set_value(key, key->def, out, where, err);
        if (rc != ZL_OK)
            return rc;
    }
    return ZL_OK;
}

static const cyaml_schema_value_t raw_string = {
    CYAML_VALUE_STRING(CYAML_FLAG_POINTER, char, 0, CONFIG_MAX_VALUE),
};

/* Builds the cyaml fields for the file keys; the caller frees. */
static cyaml_schema_field_t *build_fields(const struct config_schema *schema)
{
    cyaml_schema_field_t *fields = calloc(schema->count + 1, sizeof(*fields));
    if (fields == NULL)
        return NULL;
    size_t n = 0;
    for (size_t i = 0; i < schema->count; i++) {
        const struct config_key *key = &schema->keys[i];
        if (key->flag_only)
            continue;
        cyaml_schema_field_t *f = &fields[n++];
        f->key = key->name;
        f->data_offset = (uint32_t)(i * sizeof(struct raw_entry));
        if (key->type == CONFIG_LIST) {
            f->data_offset += (uint32_t)offsetof(struct raw_entry, items);
            f->count_offset = (uint32_t)(i * sizeof(struct raw_entry) +
                                         offsetof(struct raw_entry, count));
            f->count_size = sizeof(uint32_t);
            f->value = (cyaml_schema_value_t){
                CYAML_VALUE_SEQUENCE(CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL,
                                     char *, &raw_string, 0, CONFIG_MAX_LIST),
            };
        } else {
            f->value = (cyaml_schema_value_t){
                CYAML_VALUE_STRING(CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL,
                                   char, 0, CONFIG_MAX_VALUE),
            };
        }
    }
    return fields;
}

/* Turns what libcyaml said into our one line: file, line, key path. */
static void explain_cyaml(const char *path, cyaml_err_t cerr,
                          const struct yamlerr *ye, struct config_error *err)
{
    yamlerr_describe(ye, path, cerr, err->text, sizeof(err->text));
}

static enum zl_err check_file(const char *path, struct config_error *err)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        config_fail(err, "%s: cannot read config file: %s", path,
                    strerror(errno));
        return ZL_ERR_IO;
    }
    if (!S_ISREG(st.st_mode)) {
        config_fail(err, "%s: config file is not a regular file", path);
        return ZL_ERR_IO;
    }
    if (st.st_size > CONFIG_MAX_FILE) {
        config_fail(err, "%s: config file is larger than %d bytes", path,
                    CONFIG_MAX_FILE);
        return ZL_ERR_LIMIT;
    }
    return ZL_OK;
}

static enum zl_err apply_raw(const struct config_schema *schema, void *out,
                             const char *path, struct raw_entry *raw,
                             struct config_error *err)
{
    char where[256];
    for (size_t i = 0; i < schema->count; i++) {
        const struct config_key *key = &schema->keys[i];
        snprintf(where, sizeof(where), "%s: %s", path, key->name);
        if (key->type == CONFIG_LIST && raw[i].items != NULL) {
            list_clear(field(out, key));
            for (uint32_t j = 0; j < raw[i].count; j++) {
                enum zl_err rc =
                    set_value(key, raw[i].items[j], out, where, err);
                if (rc != ZL_OK)
                    return rc;
            }
        } else if (key->type != CONFIG_LIST && raw[i].scalar != NULL) {
            enum zl_err rc = set_value(key, raw[i].scalar, out, where, err);
            if (rc != ZL_OK)
                return rc;
        }
    }
    return ZL_OK;
}

static enum zl_err load_file(const struct config_schema *schema, void *out,
                             const char *path, struct config_error *err)
{
    struct yamlerr cap = {{0}, {0}, 0};
    cyaml_config_t cfg = {
        .log_fn = yamlerr_log,
        .log_ctx = &cap,
        .mem_fn = cyaml_mem,
        .log_level = CYAML_LOG_ERROR,
        .flags = CYAML_CFG_DEFAULT,
    };
    struct raw_entry *raw = NULL;
    enum zl_err rc = check_file(path, err);
    if (rc != ZL_OK)
        return rc;
    cyaml_schema_field_t *fields = build_fields(schema);
    if (fields == NULL)
        return ZL_ERR_NOMEM;
    cyaml_schema_value_t top = {
        .type = CYAML_MAPPING,
        .flags = CYAML_FLAG_POINTER,
        .data_size = (uint32_t)(schema->count * sizeof(struct raw_entry)),
        .mapping = {.fields = fields},
    };
    cyaml_err_t cerr = cyaml_load_file(path, &cfg, &top, (void **)&raw, NULL);
    if (cerr == CYAML_ERR_OOM) {
        rc = ZL_ERR_NOMEM;
    } else if (cerr != CYAML_OK) {
        explain_cyaml(path, cerr, &cap, err);
        rc = cerr == CYAML_ERR_INVALID_KEY || cerr == CYAML_ERR_INVALID_VALUE
                 ? ZL_ERR_INVALID
                 : ZL_ERR_PARSE;
    } else if (raw != NULL) {
        rc = apply_raw(schema, out, path, raw, err);
    }
    if (raw != NULL)
        cyaml_free(&cfg, &top, raw, 0);
    free(fields);
    return rc;
}

/* Finds the value of --config before anything else is applied. */
static enum zl_err find_config_flag(int argc, char *const *argv,
                                    const char **path, struct config_error *err)
{
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--config=", 9) == 0) {
            *path = argv[i] + 9;
        } else if (strcmp(argv[i], "--config") == 0) {
            if (i + 1 >= argc) {
                config_fail(err, "--config: needs a file name");
                return ZL_ERR_INVALID;
            }
            *path = argv[++i];
        }
    }
    return ZL_OK;
}

static enum zl_err apply_flags(const struct config_schema *schema, void *out,
                               int argc, char *const *argv,
                               struct config_error *err)
{
    bool *list_reset = calloc(schema->count + 1, sizeof(bool));
    enum zl_err rc = list_reset == NULL ? ZL_ERR_NOMEM : ZL_OK;
    for (int i = 1; rc == ZL_OK && i < argc; i++) {
        const char *arg = argv[i];
        if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
            config_fail(err, "unexpected argument \"%s\" (flags start with --)",
                        arg);
            rc = ZL_ERR_INVALID;
            break;
        }
        const char *name = arg + 2;
        const char *eq = strchr(name, '=');
        size_t name_len = eq != NULL ? (size_t)(eq - name) : strlen(name);
        const struct config_key *key = find_key(schema, name, name_len);
        if (key == NULL) {
            config_fail(err, "--%.*s: unknown flag (see --help)", (int)name_len,
                        name);
            rc = ZL_ERR_INVALID;
            break;
        }
        const char *value = eq != NULL ? eq + 1 : NULL;
        if (value == NULL && key->type == CONFIG_BOOL) {
            value = "true";
        } else if (value == NULL) {
            if (i + 1 >= argc) {
                config_fail(err, "--%s: needs a value", key->name);
                rc = ZL_ERR_INVALID;
                break;
            }
            value = argv[++i];
        }
        size_t idx = (size_t)(key - schema->keys);
        if (key->type == CONFIG_LIST && !list_reset[idx]) {
            list_clear(field(out, key)); /* flags replace the file's list */
            list_reset[idx] = true;
        }
        char where[128];
        snprintf(where, sizeof(where), "--%s", key->name);
        rc = set_value(key, value, out, where, err);
    }
    free(list_reset);
    return rc;
}

enum zl_err config_load(const struct config_schema *schema, void *out, int argc,
                        char *const *argv, struct config_error *err)
{
    const char *path = NULL;
    err->text[0] = '\0';
    enum zl_err rc = find_config_flag(argc, argv, &path, err);
    if (rc == ZL_OK)
        rc = apply_defaults(schema, out, err);
    if (rc == ZL_OK && path != NULL)
        rc = load_file(schema, out, path, err);
    if (rc == ZL_OK)
        rc = apply_flags(schema, out, argc, argv, err);
    if (rc == ZL_ERR_NOMEM && err->text[0] == '\0')
        config_fail(err, "out of memory while loading the configuration");
    return rc;
}

void config_cleanup(const struct config_schema *schema, void *out)
{
    for (size_t i = 0; i < schema->count; i++) {
        const struct config_key *key = &schema->keys[i];
        if (key->type == CONFIG_STRING) {
            char **slot = field(out, key);
            free(*slot);
            *slot = NULL;
        } else if (key->type == CONFIG_LIST) {
            list_clear(field(out, key));
        }
    }
}

void config_print_help(const struct config_schema *schema, FILE *f)
{
    for (size_t i = 0; i < schema->count; i++) {
        const struct config_key *key = &schema->keys[i];
        fprintf(f, "  --%-28s %s", key->name, key->help ? key->help : "");
        if (key->def != NULL && key->def[0] != '\0')
            fprintf(f, " (default: %s)", key->def);
        fputc('\n', f);
    }
}

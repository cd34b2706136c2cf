/* SPDX-License-Identifier: Apache-2.0 */
/* Metrics registry and Prometheus text exposition. Series of a family are
 * kept in an array sorted by label values, so lookups are binary searches
 * and rendering needs no sort. */
#include "base/metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct metrics_series {
    char **values;     /* label_count strings */
    double value;      /* counter / gauge */
    uint64_t *buckets; /* histogram: per-bucket (non-cumulative) counts */
    double sum;
    uint64_t count;
};

struct metrics_family {
    struct metrics_registry *reg;
    enum metrics_type type;
    char *name;
    char *help;
    char **label_names;
    size_t label_count;
    double *bounds;
    size_t bound_count;
    struct metrics_series **series;
    size_t series_count;
    size_t series_cap;
};

struct metrics_registry {
    pthread_mutex_t lock;
    struct metrics_family **families;
    size_t family_count;
};

enum zl_err metrics_registry_new(struct metrics_registry **out)
{
    *out = NULL;
    struct metrics_registry *reg = calloc(1, sizeof(*reg));
    if (reg == NULL)
        return ZL_ERR_NOMEM;
    if (pthread_mutex_init(&reg->lock, NULL) != 0) {
        free(reg);
        return ZL_ERR_NOMEM;
    }
    *out = reg;
    return ZL_OK;
}

static void free_strings(char **strings, size_t count)
{
    if (strings == NULL)
        return;
    for (size_t i = 0; i < count; i++)
        free(strings[i]);
    free(strings);
}

static void series_free(struct metrics_series *s, size_t label_count)
{
    if (s == NULL)
        return;
    free_strings(s->values, label_count);
    free(s->buckets);
    free(s);
}

static void family_free(struct metrics_family *fam)
{
    if (fam == NULL)
        return;
    for (size_t i = 0; i < fam->series_count; i++)
        series_free(fam->series[i], fam->label_count);
    free(fam->series);
    free_strings(fam->label_names, fam->label_count);
    free(fam->bounds);
    free(fam->name);
    free(fam->help);
    free(fam);
}

void metrics_registry_free(struct metrics_registry *reg)
{
    if (reg == NULL)
        return;
    for (size_t i = 0; i < reg->family_count; i++)
        family_free(reg->families[i]);
    free(reg->families);
    pthread_mutex_destroy(&reg->lock);
    free(reg);
}

static bool valid_name(const char *s, bool allow_colon)
{
    if (s == NULL || *s == '\0')
        return false;
    for (const char *p = s; *p != '\0'; p++) {
        char c = *p;
        bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                     c == '_' || (allow_colon && c == ':');
        if (!alpha && !(p != s && c >= '0' && c <= '9'))
            return false;
    }
    return true;
}

static enum zl_err check_family_args(const char *name, enum metrics_type type,
                                     const char *const *label_names,
                                     size_t label_count, const double *buckets,
                                     size_t bucket_count)
{
    if (!valid_name(name, true) || label_count > METRICS_MAX_LABELS)
        return ZL_ERR_INVALID;
    for (size_t i = 0; i < label_count; i++) {
        if (!valid_name(label_names[i], false) ||
            strncmp(label_names[i], "__", 2) == 0)
            return ZL_ERR_INVALID;
        if (type == METRICS_HISTOGRAM && strcmp(label_names[i], "le") == 0)
            return ZL_ERR_INVALID;
        for (size_t j = 0; j < i; j++) {
            if (strcmp(label_names[i], label_names[j]) == 0)
                return ZL_ERR_INVALID;
        }
    }
    if (type != METRICS_HISTOGRAM)
        return bucket_count == 0 ? ZL_OK : ZL_ERR_INVALID;
    if (bucket_count == 0 || bucket_count > METRICS_MAX_BUCKETS)
        return ZL_ERR_INVALID;
    for (size_t i = 0; i < bucket_count; i++) {
        if (!isfinite(buckets[i]) || (i > 0 && buckets[i] <= buckets[i - 1]))
            return ZL_ERR_INVALID;
    }
    return ZL_OK;
}

static char **copy_strings(const char *const *src, size_t count)
{
    char **out = calloc(count > 0 ? count : 1, sizeof(char *));
    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < count; i++) {
        out[i] = strdup(src[i]);
        if (out[i] == NULL) {
            free_strings(out, count);
            return NULL;
        }
    }
    return out;
}

static struct metrics_series *series_new(const struct metrics_family *fam,
                                         const char *const *values)
{
    struct metrics_series *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return NULL;
    s->values = copy_strings(values, fam->label_count);
    if (s->values == NULL)
        goto fail;
    if (fam->type == METRICS_HISTOGRAM) {
        s->buckets = calloc(fam->bound_count + 1, sizeof(uint64_t));
        if (s->buckets == NULL)
            goto fail;
    }
    return s;
fail:
    series_free(s, fam->label_count);
    return NULL;
}

static int compare_values(const struct metrics_family *fam, char *const *a,
                          const char *const *b)
{
    for (size_t i = 0; i < fam->label_count; i++) {
        int c = strcmp(a[i], b[i]);
        if (c != 0)
            return c;
    }
    return 0;
}

/* Binary search; returns the index of the series or where it would go. */
static size_t find_series(const struct metrics_family *fam,
                          const char *const *values, bool *found)
{
    size_t lo = 0, hi = fam->series_count;
    *found = false;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = compare_values(fam, fam->series[mid]->values, values);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Finds or creates a series; called with the registry locked. */
static enum zl_err get_series(struct metrics_family *fam,
                              const char *const *values,
                              struct metrics_series **out)
{
    bool found;
    for (size_t i = 0; i < fam->label_count; i++) {
        if (values == NULL || values[i] == NULL)
            return ZL_ERR_INVALID;
    }
    size_t at = find_series(fam, values, &found);
    if (found) {
        *out = fam->series[at];
        return ZL_OK;
    }
    if (fam->series_count == fam->series_cap) {
        size_t cap = fam->series_cap ? fam->series_cap * 2 : 4;
        struct metrics_series **grown =
            realloc(fam->series, cap * sizeof(*grown));
        if (grown == NULL)
            return ZL_ERR_NOMEM;
        fam->series = grown;
        fam->series_cap = cap;
    }
    struct metrics_series *s = series_new(fam, values);
    if (s == NULL)
        return ZL_ERR_NOMEM;
    memmove(fam->series + at + 1, fam->series + at,
            (fam->series_count - at) * sizeof(*fam->series));
    fam->series[at] = s;
    fam->series_count++;
    *out = s;
    return ZL_OK;
}

static struct metrics_family *
family_new(enum metrics_type type, const char *name, const char *help,
           const char *const *label_names, size_t label_count,
           const double *buckets, size_t bucket_count)
{
    struct metrics_family *fam = calloc(1, sizeof(*fam));
    if (fam == NULL)
        return NULL;
    fam->type = type;
    fam->label_count = label_count;
    fam->bound_count = bucket_count;
    fam->name = strdup(name);
    fam->help = strdup(help != NULL ? help : "");
    fam->label_names = copy_strings(label_names, label_count);
    if (fam->name == NULL || fam->help == NULL || fam->label_names == NULL)
        goto fail;
    if (bucket_count > 0) {
        fam->bounds = malloc(bucket_count * sizeof(double));
        if (fam->bounds == NULL)
            goto fail;
        memcpy(fam->bounds, buckets, bucket_count * sizeof(double));
    }
    if (label_count == 0) {
        struct metrics_series *s;
        if (get_series(fam, NULL, &s) != ZL_OK)
            goto fail;
    }
    return fam;
fail:
    family_free(fam);
    return NULL;
}

enum zl_err metrics_register(struct metrics_registry *reg,
                             enum metrics_type type, const char *name,
                             const char *help, const char *const *label_names,
                             size_t label_count, const double *buckets,
                             size_t bucket_count, struct metrics_family **out)
{
    enum zl_err err = check_family_args(name, type, label_names, label_count,
                                        buckets, bucket_count);
    if (err != ZL_OK)
        return err;
    pthread_mutex_lock(&reg->lock);
    for (size_t i = 0; i < reg->family_count; i++) {
        if (strcmp(reg->families[i]->name, name) == 0) {
            err = ZL_ERR_EXISTS;
            goto out;
        }
    }
    struct metrics_family **grown = realloc(
        reg->families, (reg->family_count + 1) * sizeof(*reg->families));
    if (grown == NULL) {
        err = ZL_ERR_NOMEM;
        goto out;
    }
    reg->families = grown;
    struct metrics_family *fam = family_new(type, name, help, label_names,
                                            label_count, buckets, bucket_count);
    if (fam == NULL) {
        err = ZL_ERR_NOMEM;
        goto out;
    }
    fam->reg = reg;
    reg->families[reg->family_count++] = fam;
    *out = fam;
out:
    pthread_mutex_unlock(&reg->lock);
    return err;
}

/* Applies one operation to a series, creating it; the type was checked. */
enum metrics_op { OP_ADD, OP_SET, OP_OBSERVE };

static enum zl_err apply(struct metrics_family *fam, const char *const *values,
                         enum metrics_op op, double v)
{
    struct metrics_series *s;
    pthread_mutex_lock(&fam->reg->lock);
    enum zl_err err = get_series(fam, values, &s);
    if (err == ZL_OK) {
        if (op == OP_ADD) {
            s->value += v;
        } else if (op == OP_SET) {
            s->value = v;
        } else {
            size_t i = 0;
            while (i < fam->bound_count && v > fam->bounds[i])
                i++;
            s->buckets[i]++;
            s->sum += v;
            s->count++;
        }
    }
    pthread_mutex_unlock(&fam->reg->lock);
    return err;
}

enum zl_err metrics_add(struct metrics_family *fam,
                        const char *const *label_values, double delta)
{
    if (fam->type == METRICS_HISTOGRAM)
        return ZL_ERR_INVALID;
    if (fam->type == METRICS_COUNTER && !(delta >= 0))
        return ZL_ERR_INVALID;
    return apply(fam, label_values, OP_ADD, delta);
}

enum zl_err metrics_inc(struct metrics_family *fam,
                        const char *const *label_values)
{
    return metrics_add(fam, label_values, 1);
}

enum zl_err metrics_set(struct metrics_family *fam,
                        const char *const *label_values, double value)
{
    if (fam->type != METRICS_GAUGE)
        return ZL_ERR_INVALID;
    return apply(fam, label_values, OP_SET, value);
}

enum zl_err metrics_observe(struct metrics_family *fam,
                            const char *const *label_values, double value)
{
    if (fam->type != METRICS_HISTOGRAM || isnan(value))
        return ZL_ERR_INVALID;
    return apply(fam, label_values, OP_OBSERVE, value);
}

enum zl_err metrics_value(struct metrics_family *fam,
                          const char *const *label_values, double *out)
{
    bool found = false;
    pthread_mutex_lock(&fam->reg->lock);
    size_t at = fam->label_count == 0 || label_values != NULL
                    ? find_series(fam, label_values, &found)
                    : 0;
    if (found) {
        const struct metrics_series *s = fam->series[at];
        *out = fam->type == METRICS_HISTOGRAM ? (double)s->count : s->value;
    }
    pthread_mutex_unlock(&fam->reg->lock);
    return found ? ZL_OK : ZL_ERR_NOTFOUND;
}

static void remove_series(struct metrics_family *fam, size_t at)
{
    series_free(fam->series[at], fam->label_count);
    memmove(fam->series + at, fam->series + at + 1,
            (fam->series_count - at - 1) * sizeof(*fam->series));
    fam->series_count--;
}

enum zl_err metrics_delete(struct metrics_family *fam,
                           const char *const *label_values)
{
    bool found = false;
    if (fam->label_count == 0 || label_values == NULL)
        return ZL_ERR_INVALID;
    pthread_mutex_lock(&fam->reg->lock);
    size_t at = find_series(fam, label_values, &found);
    if (found)
        remove_series(fam, at);
    pthread_mutex_unlock(&fam->reg->lock);
    return found ? ZL_OK : ZL_ERR_NOTFOUND;
}

/* Maps each wanted label name to its index in fam; false if one is absent. */
static bool label_indexes(const struct metrics_family *fam,
                          const char *const *names, size_t count, size_t *idx)
{
    for (size_t p = 0; p < count; p++) {
        size_t i = 0;
        while (i < fam->label_count &&
               strcmp(fam->label_names[i], names[p]) != 0)
            i++;
        if (i == fam->label_count)
            return false;
        idx[p] = i;
    }
    return true;
}

size_t metrics_delete_matching(struct metrics_registry *reg,
                               const char *const *names,
                               const char *const *values, size_t pair_count)
{
    size_t deleted = 0;
    size_t idx[METRICS_MAX_LABELS];
    if (pair_count == 0 || pair_count > METRICS_MAX_LABELS)
        return 0;
    pthread_mutex_lock(&reg->lock);
    for (size_t f = 0; f < reg->family_count; f++) {
        struct metrics_family *fam = reg->families[f];
        if (!label_indexes(fam, names, pair_count, idx))
            continue;
        size_t i = 0;
        while (i < fam->series_count) {
            bool match = true;
            for (size_t p = 0; p < pair_count && match; p++)
                match = strcmp(fam->series[i]->values[idx[p]], values[p]) == 0;
            if (match) {
                remove_series(fam, i);
                deleted++;
            } else {
                i++;
            }
        }
    }
    pthread_mutex_unlock(&reg->lock);
    return deleted;
}

void metrics_format_value(double value, char out[static 32])
{
    if (isnan(value)) {
        snprintf(out, 32, "NaN");
        return;
    }
    if (isinf(value)) {
        snprintf(out, 32, value > 0 ? "+Inf" : "-Inf");
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(out, 32, "%.*g", prec, value);
        if (strtod(out, NULL) == value)
            return;
    }
}

/* HELP text escapes backslash and newline; label values also quote. */
static enum zl_err put_escaped(struct buf *b, const char *s, bool quote)
{
    enum zl_err err = ZL_OK;
    for (; err == ZL_OK && *s != '\0'; s++) {
        if (*s == '\\')
            err = buf_puts(b, "\\\\");
        else if (*s == '\n')
            err = buf_puts(b, "\\n");
        else if (quote && *s == '"')
            err = buf_puts(b, "\\\"");
        else
            err = buf_putc(b, *s);
    }
    return err;
}

/* Writes name{labels[,le="x"]} value\n. */
static enum zl_err put_sample(struct buf *b, const struct metrics_family *fam,
                              const struct metrics_series *s,
                              const char *suffix, const char *le, double value)
{
    char num[32];
    enum zl_err err = buf_printf(b, "%s%s", fam->name, suffix);
    bool any = fam->label_count > 0 || le != NULL;
    if (err == ZL_OK && any)
        err = buf_putc(b, '{');
    for (size_t i = 0; err == ZL_OK && i < fam->label_count; i++) {
        err = buf_printf(b, "%s%s=\"", i > 0 ? "," : "", fam->label_names[i]);
        if (err == ZL_OK)
            err = put_escaped(b, s->values[i], true);
        if (err == ZL_OK)
            err = buf_putc(b, '"');
    }
    if (err == ZL_OK && le != NULL)
        err = buf_printf(b, "%sle=\"%s\"", fam->label_count > 0 ? "," : "", le);
    if (err == ZL_OK && any)
        err = buf_putc(b, '}');
    metrics_format_value(value, num);
    if (err == ZL_OK)
        err = buf_printf(b, " %s\n", num);
    return err;
}

static enum zl_err put_histogram(struct buf *b,
                                 const struct metrics_family *fam,
                                 const struct metrics_series *s)
{
    char le[32];
    uint64_t cumulative = 0;
    enum zl_err err = ZL_OK;
    for (size_t i = 0; err == ZL_OK && i <= fam->bound_count; i++) {
        cumulative += s->buckets[i];
        if (i < fam->bound_count)
            metrics_format_value(fam->bounds[i], le);
        else
            snprintf(le, sizeof(le), "+Inf");
        err = put_sample(b, fam, s, "_bucket", le, (double)cumulative);
    }
    if (err == ZL_OK)
        err = put_sample(b, fam, s, "_sum", NULL, s->sum);
    if (err == ZL_OK)
        err = put_sample(b, fam, s, "_count", NULL, (double)s->count);
    return err;
}

static enum zl_err put_family(struct buf *b, const struct metrics_family *fam)
{
    static const char *const type_names[] = {"counter", "gauge", "histogram"};
    if (fam->series_count == 0)
        return ZL_OK;
    enum zl_err err = buf_printf(b, "# HELP %s ", fam->name);
    if (err == ZL_OK)
        err = put_escaped(b, fam->help, false);
    if (err == ZL_OK)
        err =
            buf_printf(b, "\n# TYPE %s %s\n", fam->name, type_names[fam->type]);
    for (size_t i = 0; err == ZL_OK && i < fam->series_count; i++) {
        const struct metrics_series *s = fam->series[i];
        err = fam->type == METRICS_HISTOGRAM
                  ? put_histogram(b, fam, s)
                  : put_sample(b, fam, s, "", NULL, s->value);
    }
    return err;
}

static int compare_families(const void *a, const void *b)
{
    const struct metrics_family *fa = *(struct metrics_family *const *)a;
    const struct metrics_family *fb = *(struct metrics_family *const *)b;
    return strcmp(fa->name, fb->name);
}

enum zl_err metrics_render(struct metrics_registry *reg, struct buf *out)
{
    enum zl_err err = ZL_OK;
    pthread_mutex_lock(&reg->lock);
    if (reg->family_count > 1)
        qsort(reg->families, reg->family_count, sizeof(*reg->families),
              compare_families);
    for (size_t i = 0; err == ZL_OK && i < reg->family_count; i++)
        err = put_family(out, reg->families[i]);
    pthread_mutex_unlock(&reg->lock);
    return err;
}

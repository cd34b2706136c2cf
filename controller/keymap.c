/* SPDX-License-Identifier: Apache-2.0 */
/* Chained hash table of string keys under one mutex; grows by doubling. */
#include "controller/keymap.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct keymap_entry {
    struct keymap_entry *next;
    int64_t value;
    char key[]; /* NUL-terminated */
};

struct keymap {
    pthread_mutex_t mu;
    struct keymap_entry **buckets;
    size_t bucket_count;
    size_t len;
};

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s != '\0'; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

enum zl_err keymap_new(struct keymap **out)
{
    struct keymap *m = calloc(1, sizeof(*m));
    if (m == NULL)
        return ZL_ERR_NOMEM;
    m->bucket_count = 64;
    m->buckets = calloc(m->bucket_count, sizeof(*m->buckets));
    if (m->buckets == NULL || pthread_mutex_init(&m->mu, NULL) != 0) {
        free(m->buckets);
        free(m);
        return ZL_ERR_NOMEM;
    }
    *out = m;
    return ZL_OK;
}

static void free_entries(struct keymap *m)
{
    for (size_t i = 0; i < m->bucket_count; i++) {
        struct keymap_entry *e = m->buckets[i];
        while (e != NULL) {
            struct keymap_entry *next = e->next;
            free(e);
            e = next;
        }
        m->buckets[i] = NULL;
    }
    m->len = 0;
}

void keymap_clear(struct keymap *m)
{
    pthread_mutex_lock(&m->mu);
    free_entries(m);
    pthread_mutex_unlock(&m->mu);
}

void keymap_free(struct keymap *m)
{
    if (m == NULL)
        return;
    free_entries(m);
    free(m->buckets);
    pthread_mutex_destroy(&m->mu);
    free(m);
}

static struct keymap_entry **slot_of(struct keymap *m, const char *key)
{
    struct keymap_entry **p = &m->buckets[hash(key) % m->bucket_count];
    while (*p != NULL && strcmp((*p)->key, key) != 0)
        p = &(*p)->next;
    return p;
}

static void grow(struct keymap *m)
{
    size_t n = m->bucket_count * 2;
    struct keymap_entry **b = calloc(n, sizeof(*b));
    if (b == NULL)
        return; /* keep the longer chains */
    for (size_t i = 0; i < m->bucket_count; i++) {
        struct keymap_entry *e = m->buckets[i];
        while (e != NULL) {
            struct keymap_entry *next = e->next;
            size_t at = hash(e->key) % n;
            e->next = b[at];
            b[at] = e;
            e = next;
        }
    }
    free(m->buckets);
    m->buckets = b;
    m->bucket_count = n;
}

static enum zl_err put_locked(struct keymap *m, const char *key, int64_t value,
                              bool keep_min)
{
    struct keymap_entry **p = slot_of(m, key);
    if (*p != NULL) {
        if (!keep_min || value < (*p)->value)
            (*p)->value = value;
        return ZL_OK;
    }
    size_t len = strlen(key);
    struct keymap_entry *e = malloc(sizeof(*e) + len + 1);
    if (e == NULL)
        return ZL_ERR_NOMEM;
    memcpy(e->key, key, len + 1);
    e->value = value;
    e->next = NULL;
    *p = e;
    if (++m->len > m->bucket_count * 2)
        grow(m);
    return ZL_OK;
}

enum zl_err keymap_set(struct keymap *m, const char *key, int64_t value)
{
    pthread_mutex_lock(&m->mu);
    enum zl_err rc = put_locked(m, key, value, false);
    pthread_mutex_unlock(&m->mu);
    return rc;
}

enum zl_err keymap_set_min(struct keymap *m, const char *key, int64_t value)
{
    pthread_mutex_lock(&m->mu);
    enum zl_err rc = put_locked(m, key, value, true);
    pthread_mutex_unlock(&m->mu);
    return rc;
}

bool keymap_get(struct keymap *m, const char *key, int64_t *value)
{
    pthread_mutex_lock(&m->mu);
    struct keymap_entry *e = *slot_of(m, key);
    if (e != NULL)
        *value = e->value;
    pthread_mutex_unlock(&m->mu);
    return e != NULL;
}

bool keymap_take(struct keymap *m, const char *key, int64_t *value)
{
    pthread_mutex_lock(&m->mu);
    struct keymap_entry **p = slot_of(m, key);
    struct keymap_entry *e = *p;
    if (e != NULL) {
        *p = e->next;
        m->len--;
        if (value != NULL)
            *value = e->value;
        free(e);
    }
    pthread_mutex_unlock(&m->mu);
    return e != NULL;
}

size_t keymap_len(struct keymap *m)
{
    pthread_mutex_lock(&m->mu);
    size_t n = m->len;
    pthread_mutex_unlock(&m->mu);
    return n;
}

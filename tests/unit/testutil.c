/* SPDX-License-Identifier: Apache-2.0 */
/* Fixture helpers for the unit tests. */
#include "testutil.h"

#include <dirent.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *testutil_read(const char *rel, size_t *len_out)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", ZL_TEST_DATA_DIR, rel);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "testutil: cannot open %s\n", path);
        return NULL;
    }
    size_t cap = 4096, len = 0;
    char *data = malloc(cap);
    size_t n;
    while (data != NULL && (n = fread(data + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len - 1 == 0) {
            char *bigger = realloc(data, cap * 2);
            if (bigger == NULL) {
                free(data);
                data = NULL;
                break;
            }
            data = bigger;
            cap *= 2;
        }
    }
    fclose(f);
    if (data == NULL)
        return NULL;
    data[len] = '\0';
    if (len_out != NULL)
        *len_out = len;
    return data;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

size_t testutil_list(const char *dir, const char *suffix, char ***names)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", ZL_TEST_DATA_DIR, dir);
    *names = NULL;
    DIR *d = opendir(path);
    if (d == NULL)
        return 0;
    size_t count = 0, cap = 0;
    struct dirent *e;
    size_t slen = strlen(suffix);
    while ((e = readdir(d)) != NULL) {
        size_t nlen = strlen(e->d_name);
        if (nlen < slen || strcmp(e->d_name + nlen - slen, suffix) != 0)
            continue;
        if (count == cap) {
            cap = cap ? cap * 2 : 16;
            char **grown = realloc(*names, cap * sizeof(char *));
            if (grown == NULL)
                break;
            *names = grown;
        }
        (*names)[count++] = strdup(e->d_name);
    }
    closedir(d);
    if (count > 0)
        qsort(*names, count, sizeof(char *), cmp_names);
    return count;
}

void testutil_free_names(char **names, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(names[i]);
    free(names);
}

struct json_object *testutil_json(const char *text)
{
    return json_tokener_parse(text);
}

struct json_object *testutil_load_json(const char *rel)
{
    char *text = testutil_read(rel, NULL);
    if (text == NULL)
        return NULL;
    struct json_object *obj = testutil_json(text);
    free(text);
    if (obj == NULL)
        fprintf(stderr, "testutil: %s is not JSON\n", rel);
    return obj;
}

int testutil_json_equal(const char *label, struct json_object *a,
                        struct json_object *b)
{
    if (json_object_equal(a, b))
        return 1;
    int flags = JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE;
    fprintf(stderr, "%s: JSON differs\n--- got\n%s\n--- want\n%s\n", label,
            json_object_to_json_string_ext(a, flags),
            json_object_to_json_string_ext(b, flags));
    return 0;
}

int testutil_argv(struct testutil_argv *a, const char *program,
                  const char *line)
{
    a->argc = 0;
    snprintf(a->text, sizeof(a->text), "%s %s", program, line);
    for (char *p = a->text; *p != '\0' && a->argc < TESTUTIL_ARGV_MAX - 1;) {
        while (*p == ' ')
            *p++ = '\0';
        if (*p == '\0')
            break;
        a->argv[a->argc++] = p;
        while (*p != '\0' && *p != ' ')
            p++;
    }
    a->argv[a->argc] = NULL;
    return a->argc;
}

char *testutil_write_temp(const char *tag, const char *text)
{
    char path[256];
    snprintf(path, sizeof(path), "/tmp/zl-%s-XXXXXX", tag);
    int fd = mkstemp(path);
    size_t len = strlen(text);
    if (fd < 0 || write(fd, text, len) != (ssize_t)len) {
        fprintf(stderr, "testutil: cannot write %s\n", path);
        if (fd >= 0) {
            close(fd);
            unlink(path);
        }
        return NULL;
    }
    close(fd);
    char *copy = strdup(path);
    if (copy == NULL)
        unlink(path);
    return copy;
}

void testutil_remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[512];
    while (d != NULL && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        unlink(path);
    }
    if (d != NULL)
        closedir(d);
    rmdir(dir);
}

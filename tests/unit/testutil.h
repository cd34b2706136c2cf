/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the unit tests: fixture files under tests/data, JSON
 * comparison with a readable diff, command lines and temporary files. */
#ifndef ZL_TESTS_TESTUTIL_H
#define ZL_TESTS_TESTUTIL_H

#include <stddef.h>

struct json_object;

/* Reads tests/data/<rel> whole; the caller frees. NULL (and a message on
 * stderr) when missing. *len_out may be NULL. */
char *testutil_read(const char *rel, size_t *len_out);

/* Lists the regular files of tests/data/<dir> ending in suffix, sorted;
 * returns the count and sets *names (each and the array freed by
 * testutil_free_names). */
size_t testutil_list(const char *dir, const char *suffix, char ***names);
void testutil_free_names(char **names, size_t count);

/* Parses JSON text; NULL on error. */
struct json_object *testutil_json(const char *text);

/* Reads tests/data/<rel> and parses it as JSON (the caller puts the
 * value); NULL, and a message on stderr, when it is missing or not JSON. */
struct json_object *testutil_load_json(const char *rel);

/* Returns 1 when a and b are equal JSON values; otherwise prints both
 * (pretty) to stderr under the given label and returns 0. */
int testutil_json_equal(const char *label, struct json_object *a,
                        struct json_object *b);

/* A command line split into words, for a daemon's options_load. */
#define TESTUTIL_ARGV_MAX 64
struct testutil_argv {
    char text[2048];
    char *argv[TESTUTIL_ARGV_MAX];
    int argc;
};

/* Fills a->argv with program and then the words of line (split at
 * spaces, no quoting; at most TESTUTIL_ARGV_MAX - 1 words in all, the text
 * cut at 2047 bytes), NULL-terminated. The words point into a->text, so
 * they live as long as a. Returns a->argc. */
int testutil_argv(struct testutil_argv *a, const char *program,
                  const char *line);

/* Writes text to a new file /tmp/zl-<tag>-XXXXXX and returns its path
 * (the caller unlinks and frees it); NULL (and a message on stderr) when
 * it cannot. */
char *testutil_write_temp(const char *tag, const char *text);

/* Removes the files of the folder dir (not its subfolders) and the folder
 * itself; what cannot be removed stays. */
void testutil_remove_dir(const char *dir);

#endif

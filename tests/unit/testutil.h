/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the unit tests: fixture files under tests/data and JSON
 * comparison with a readable diff. */
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

/* Returns 1 when a and b are equal JSON values; otherwise prints both
 * (pretty) to stderr under the given label and returns 0. */
int testutil_json_equal(const char *label, struct json_object *a,
                        struct json_object *b);

#endif

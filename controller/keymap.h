/* SPDX-License-Identifier: Apache-2.0 */
/* A small thread-safe map from string keys to 64-bit values, for the
 * per-Service facts the controller carries between reconciles: when the
 * first unprocessed event for a key arrived, which warning was last
 * emitted, which Services have metric series. */
#ifndef ZL_CONTROLLER_KEYMAP_H
#define ZL_CONTROLLER_KEYMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

struct keymap;

enum zl_err keymap_new(struct keymap **out);
void keymap_free(struct keymap *m);

/* Sets key to value (copying key). ZL_ERR_NOMEM. */
enum zl_err keymap_set(struct keymap *m, const char *key, int64_t value);

/* Sets key to value unless it holds a smaller one (keeps the earliest
 * instant). ZL_ERR_NOMEM. */
enum zl_err keymap_set_min(struct keymap *m, const char *key, int64_t value);

/* True and *value set when key is present. */
bool keymap_get(struct keymap *m, const char *key, int64_t *value);

/* Removes key; true and *value (may be NULL) set when it was present. */
bool keymap_take(struct keymap *m, const char *key, int64_t *value);

size_t keymap_len(struct keymap *m);

/* Removes every key. */
void keymap_clear(struct keymap *m);

#endif

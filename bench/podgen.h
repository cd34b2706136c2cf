/* SPDX-License-Identifier: Apache-2.0 */
/* Realistic Pod documents, as the API server returns them (10 labels, two
 * containers with ports, dual-stack IPs, conditions, managedFields), and a
 * heap meter, shared by the store memory benchmark and its unit test so the
 * figure they report and the bound the test asserts are the same thing. */
#ifndef ZL_BENCH_PODGEN_H
#define ZL_BENCH_PODGEN_H

#include <stdbool.h>
#include <stddef.h>

/* Large enough for any document podgen_json writes. */
#define PODGEN_JSON_MAX 16384

/* Writes the JSON of pod number i (0-based) into out (PODGEN_JSON_MAX
 * bytes) and returns its length. Pod i lives in namespace
 * podgen_namespace(i / per_ns) and has a unique name and uid; rv is its
 * resourceVersion. Deterministic; no allocation. */
size_t podgen_json(size_t i, size_t per_ns, unsigned long rv,
                   char out[static PODGEN_JSON_MAX]);

/* Writes the name of namespace k ("team-0042") into out (32 bytes). */
void podgen_namespace(size_t k, char out[static 32]);

/* Bytes of heap in use now: every live block's usable size plus its chunk
 * header, counted by malloc/calloc/realloc/free wrappers that podgen.c
 * defines for the program linking it (over glibc's __libc_* functions).
 * Blocks from memalign-style calls are not counted. */
size_t podgen_heap_bytes(void);

/* False in sanitizer builds, where malloc is the sanitizer's and
 * podgen_heap_bytes reports 0. */
bool podgen_heap_measurable(void);

#endif

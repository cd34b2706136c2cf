/* SPDX-License-Identifier: Apache-2.0 */
/* Failure injection: this program replaces malloc, calloc, realloc, free,
 * strdup and strndup for the whole process, counts the allocations that
 * common/ makes itself in one scenario, then runs the scenario again once
 * per allocation with exactly that allocation failing. Every run must end
 * in a clean error (or a success with the same output), never a crash, and
 * must free everything allocated meanwhile, by anyone: json-c's and
 * libcyaml's allocations are leak-checked too. Only allocations called from
 * our own code (and from the few library functions listed in
 * clean_failers) are failed: json-c 0.16 crashes when its own internal
 * allocations fail (json_object_object_add_ex after a failed key copy), and
 * that is not ours to fix. The dynamic linker's own allocations are not
 * tracked: a thread's TLS vector grows when it first touches a library's
 * thread-local data, belongs to the thread's cached stack and is freed with
 * it, long after the scenario. Not for sanitizer builds, which replace
 * malloc themselves. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenarios.h"

#define TRACK_SLOTS (1u << 18)
#define BOOT_BYTES 65536

static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static void (*real_free)(void *);

/* dlsym may allocate before the real functions are known. */
static _Alignas(max_align_t) char boot[BOOT_BYTES];
static size_t boot_used;
static bool resolving;

/* Threads of the scenario (work queues, event senders, lease loops) may
 * allocate at the same time: the table is guarded by a spin lock (a mutex
 * could allocate), and only the thread that armed the run has allocations
 * counted and failed, so the numbering stays deterministic. Allocations of
 * every thread are leak-checked. */
static atomic_flag table_lock = ATOMIC_FLAG_INIT;
static pthread_t armed_thread;
static bool armed;       /* track and count allocations */
static long alloc_count; /* allocations seen while armed */
static long fail_at;     /* fail the allocation with this number; 0: none */
static bool injected;    /* the failure was delivered */
static void *tracked[TRACK_SLOTS];
static long live; /* tracked allocations not yet freed */

/* dlsym returns an object pointer; copy it into the function pointer, as
 * ISO C has no conversion between the two. */
static void lookup(const char *name, void *fn_out, size_t fn_size)
{
    void *sym = dlsym(RTLD_NEXT, name);
    memcpy(fn_out, &sym, fn_size);
}

static void resolve(void)
{
    resolving = true;
    lookup("malloc", &real_malloc, sizeof(real_malloc));
    lookup("calloc", &real_calloc, sizeof(real_calloc));
    lookup("realloc", &real_realloc, sizeof(real_realloc));
    lookup("free", &real_free, sizeof(real_free));
    resolving = false;
}

static void *boot_alloc(size_t n)
{
    size_t aligned = (n + 15) & ~(size_t)15;
    if (aligned > BOOT_BYTES - boot_used)
        return NULL;
    void *p = boot + boot_used;
    boot_used += aligned;
    return p;
}

static bool from_boot(const void *p)
{
    return (const char *)p >= boot && (const char *)p < boot + BOOT_BYTES;
}

static size_t slot_of(const void *p)
{
    uintptr_t h = (uintptr_t)p;
    h ^= h >> 17;
    h *= UINT64_C(0xed5ad4bb);
    return (size_t)(h & (TRACK_SLOTS - 1));
}

static void lock_table(void)
{
    while (atomic_flag_test_and_set_explicit(&table_lock, memory_order_acquire))
        ;
}

static void unlock_table(void)
{
    atomic_flag_clear_explicit(&table_lock, memory_order_release);
}

static void track_locked(void *p);

static void track(void *p)
{
    lock_table();
    track_locked(p);
    unlock_table();
}

static void track_locked(void *p)
{
    size_t i = slot_of(p);
    while (tracked[i] != NULL)
        i = (i + 1) & (TRACK_SLOTS - 1);
    tracked[i] = p;
    live++;
}

/* Removes p if it is tracked, keeping the probe chains intact. */
static void untrack(const void *p)
{
    lock_table();
    size_t i = slot_of(p);
    while (tracked[i] != NULL && tracked[i] != p)
        i = (i + 1) & (TRACK_SLOTS - 1);
    if (tracked[i] != NULL) {
        tracked[i] = NULL;
        live--;
        for (size_t j = (i + 1) & (TRACK_SLOTS - 1); tracked[j] != NULL;
             j = (j + 1) & (TRACK_SLOTS - 1)) {
            void *q = tracked[j];
            tracked[j] = NULL;
            live--;
            track_locked(q);
        }
    }
    unlock_table();
}

/* Bounds of this executable's code, where common/ is linked in. */
extern char __executable_start;
extern char etext;

/* Library functions that handle a failed allocation of their own cleanly
 * (they return NULL), so base/json's out-of-memory path is exercised too. */
static const char *const clean_failers[] = {"json_tokener_new_ex", NULL};

static bool called_from_us(const void *caller)
{
    if ((const char *)caller >= &__executable_start &&
        (const char *)caller < &etext)
        return true;
    Dl_info info;
    if (dladdr(caller, &info) == 0 || info.dli_sname == NULL)
        return false;
    for (size_t i = 0; clean_failers[i] != NULL; i++) {
        if (strcmp(info.dli_sname, clean_failers[i]) == 0)
            return true;
    }
    return false;
}

/* True for a block the dynamic linker allocates (see the top). */
static bool from_loader(const void *caller)
{
    Dl_info info;
    return dladdr(caller, &info) != 0 && info.dli_fname != NULL &&
           strstr(info.dli_fname, "/ld-linux") != NULL;
}

/* True when this allocation is the one to fail. */
static bool should_fail(const void *caller)
{
    if (!armed || !called_from_us(caller) ||
        !pthread_equal(pthread_self(), armed_thread))
        return false;
    alloc_count++;
    if (alloc_count == fail_at) {
        injected = true;
        return true;
    }
    return false;
}

void *malloc(size_t n)
{
    if (real_malloc == NULL) {
        if (resolving)
            return boot_alloc(n);
        resolve();
    }
    if (should_fail(__builtin_return_address(0))) {
        errno = ENOMEM;
        return NULL;
    }
    void *p = real_malloc(n);
    if (p != NULL && armed && !from_loader(__builtin_return_address(0)))
        track(p);
    return p;
}

void *calloc(size_t count, size_t size)
{
    if (real_calloc == NULL) {
        if (resolving) {
            if (size != 0 && count > SIZE_MAX / size)
                return NULL;
            return boot_alloc(count * size); /* boot memory is zeroed */
        }
        resolve();
    }
    if (should_fail(__builtin_return_address(0))) {
        errno = ENOMEM;
        return NULL;
    }
    void *p = real_calloc(count, size);
    if (p != NULL && armed && !from_loader(__builtin_return_address(0)))
        track(p);
    return p;
}

void *realloc(void *old, size_t n)
{
    if (real_realloc == NULL)
        resolve();
    if (old != NULL && from_boot(old))
        return NULL; /* never happens: boot blocks are dlsym's own */
    if (should_fail(__builtin_return_address(0))) {
        errno = ENOMEM;
        return NULL;
    }
    void *p = real_realloc(old, n);
    if (p != NULL || n == 0) {
        if (old != NULL)
            untrack(old);
        if (p != NULL && armed && !from_loader(__builtin_return_address(0)))
            track(p);
    }
    return p;
}

void free(void *p)
{
    if (p == NULL || from_boot(p))
        return;
    if (real_free == NULL)
        resolve();
    untrack(p);
    real_free(p);
}

/* Ours, so that a copy made for common/ counts as its allocation. */
char *strndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    if (real_malloc == NULL)
        resolve();
    if (should_fail(__builtin_return_address(0))) {
        errno = ENOMEM;
        return NULL;
    }
    char *p = real_malloc(len + 1);
    if (p == NULL)
        return NULL;
    if (armed)
        track(p);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *strdup(const char *s)
{
    size_t len = strlen(s);
    if (real_malloc == NULL)
        resolve();
    if (should_fail(__builtin_return_address(0))) {
        errno = ENOMEM;
        return NULL;
    }
    char *p = real_malloc(len + 1);
    if (p == NULL)
        return NULL;
    if (armed)
        track(p);
    memcpy(p, s, len + 1);
    return p;
}

static void arm(long fail_number)
{
    alloc_count = 0;
    fail_at = fail_number;
    injected = false;
    if (live != 0) /* a leak was reported: forget it (rare, so a full clear) */
        memset(tracked, 0, sizeof(tracked));
    live = 0;
    armed_thread = pthread_self();
    armed = true;
}

static void disarm(void)
{
    armed = false;
}

/* Runs one scenario: a counting pass, then one pass per allocation. */
static int run_scenario(const struct scenario *sc)
{
    void *ctx = NULL;
    if (sc->setup(&ctx) != 0) {
        fprintf(stderr, "failinject: %s: setup failed\n", sc->name);
        return 1;
    }
    uint64_t want = 0, got = 0;
    sc->run(ctx, &want); /* warm-up: one-time caches of libc and libraries */
    arm(0);
    int rc = sc->run(ctx, &want);
    disarm();
    long total = alloc_count;
    long leaked = live;
    if (rc != 0 || leaked != 0) {
        fprintf(stderr,
                "failinject: %s: clean run failed (rc %d, %ld leaked)\n",
                sc->name, rc, leaked);
        sc->teardown(ctx);
        return 1;
    }
    long errors = 0, successes = 0, bad = 0;
    for (long i = 1; i <= total; i++) {
        arm(i);
        got = 0;
        rc = sc->run(ctx, &got);
        disarm();
        if (rc == 0 && got != want) {
            fprintf(stderr,
                    "failinject: %s: failing allocation %ld of %ld was "
                    "swallowed: success with different output\n",
                    sc->name, i, total);
            bad++;
        }
        if (live != 0) {
            fprintf(stderr,
                    "failinject: %s: failing allocation %ld of %ld leaked %ld "
                    "block(s)\n",
                    sc->name, i, total, live);
            bad++;
        }
        if (rc != 0)
            errors++;
        else
            successes++;
        if (!injected) {
            fprintf(stderr, "failinject: %s: allocation %ld never happened\n",
                    sc->name, i);
            bad++;
        }
    }
    sc->teardown(ctx);
    printf("failinject: %-22s %4ld allocations: %4ld clean errors, %4ld "
           "recovered, %ld bad\n",
           sc->name, total, errors, successes, bad);
    return bad == 0 ? 0 : 1;
}

int main(void)
{
    int failed = 0;
    size_t count = 0;
    const struct scenario *all = scenarios_all(&count);
    for (size_t i = 0; i < count; i++)
        failed += run_scenario(&all[i]);
    printf("%zu passed, %d failed\n", count - (size_t)failed, failed);
    return failed == 0 ? 0 : 1;
}

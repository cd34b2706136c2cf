/* SPDX-License-Identifier: Apache-2.0 */
/* Turns what libcyaml logs while loading into one line for a person: the
 * file, the line, the key path ("users[0].user.token") and what is wrong in
 * plain words. Shared by the config loader and the kubeconfig loader, the
 * two users of libcyaml. No I/O. */
#ifndef ZL_BASE_YAMLERR_H
#define ZL_BASE_YAMLERR_H

#include <cyaml/cyaml.h>
#include <stdarg.h>
#include <stddef.h>

#define YAMLERR_MAX 512

/* libcyaml's first error and the key path built from its backtrace
 * (innermost first). Zero it before a load. */
struct yamlerr {
    char first[YAMLERR_MAX];
    char path[YAMLERR_MAX];
    int line; /* 1-based; 0 when unknown */
};

/* A cyaml_config_t log_fn: pass a struct yamlerr as log_ctx. Records
 * error-level messages only. */
void yamlerr_log(cyaml_log_t level, void *ctx, const char *fmt, va_list args)
    __attribute__((format(printf, 3, 0)));

/* Writes "NAME[:LINE]: [PATH: ]WHAT" into out. An unknown key reads
 * "NAME:LINE: PATH.KEY: unknown key (not a known setting)". The text is one
 * line (control characters become spaces). */
void yamlerr_describe(const struct yamlerr *ye, const char *name,
                      cyaml_err_t cerr, char *out, size_t out_len);

#endif

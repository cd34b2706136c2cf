/* SPDX-License-Identifier: Apache-2.0 */
/* The one error type of zen-lead. Every function that can fail returns an
 * enum zl_err; outputs go through pointer arguments. Foreign error codes are
 * converted once, in the module that wraps the foreign library. */
#ifndef ZL_BASE_ERR_H
#define ZL_BASE_ERR_H

enum zl_err {
    ZL_OK = 0,
    ZL_ERR_NOMEM,      /* an allocation failed */
    ZL_ERR_INVALID,    /* input is well formed but breaks a rule */
    ZL_ERR_PARSE,      /* input is not well formed (JSON, YAML, duration) */
    ZL_ERR_LIMIT,      /* input exceeds a documented limit */
    ZL_ERR_RANGE,      /* a number is out of its allowed range or overflows */
    ZL_ERR_NOTFOUND,   /* a named thing does not exist */
    ZL_ERR_EXISTS,     /* a named thing exists already */
    ZL_ERR_IO,         /* reading or writing a file or socket failed */
    ZL_ERR_CONFLICT,   /* precondition failed (uid, resourceVersion) */
    ZL_ERR_TRANSIENT,  /* worth retrying later */
    ZL_ERR_GONE,       /* resourceVersion too old (HTTP 410 Expired/Gone) */
    ZL_ERR_FORBIDDEN,  /* not authenticated or not authorized (401/403) */
    ZL_ERR_TIMEOUT,    /* no answer in time */
    ZL_ERR_CANCELLED,  /* stopped on request (shutdown) */
    ZL_ERR_WOULDBLOCK, /* would have to wait, and the caller said not to */
    ZL_ERR_INTERNAL,   /* a bug: should not happen */
};

/* Static English text for an error code; never NULL. */
const char *zl_err_str(enum zl_err err);

#endif

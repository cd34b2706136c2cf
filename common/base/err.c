/* SPDX-License-Identifier: Apache-2.0 */
/* Text for the project's error codes. */
#include "base/err.h"

const char *zl_err_str(enum zl_err err)
{
    switch (err) {
    case ZL_OK:
        return "ok";
    case ZL_ERR_NOMEM:
        return "out of memory";
    case ZL_ERR_INVALID:
        return "invalid value";
    case ZL_ERR_PARSE:
        return "malformed input";
    case ZL_ERR_LIMIT:
        return "limit exceeded";
    case ZL_ERR_RANGE:
        return "out of range";
    case ZL_ERR_NOTFOUND:
        return "not found";
    case ZL_ERR_EXISTS:
        return "already exists";
    case ZL_ERR_IO:
        return "input/output error";
    case ZL_ERR_CONFLICT:
        return "conflict";
    case ZL_ERR_TRANSIENT:
        return "temporary failure";
    case ZL_ERR_GONE:
        return "resource version expired";
    case ZL_ERR_FORBIDDEN:
        return "forbidden";
    case ZL_ERR_TIMEOUT:
        return "timed out";
    case ZL_ERR_CANCELLED:
        return "cancelled";
    case ZL_ERR_WOULDBLOCK:
        return "would block";
    case ZL_ERR_INTERNAL:
        return "internal error";
    }
    return "unknown error";
}

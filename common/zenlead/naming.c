/* SPDX-License-Identifier: Apache-2.0 */
/* Leader Service naming. It never truncates or hashes a name: a name the
 * user did not choose and cannot predict would be worse than a clear error. */
#include "zenlead/naming.h"

#include <string.h>

static bool is_lower(char c)
{
    return c >= 'a' && c <= 'z';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

bool naming_is_dns1035_label(const char *name)
{
    if (name == NULL)
        return false;
    size_t len = strnlen(name, NAMING_MAX_LABEL + 1);
    if (len == 0 || len > NAMING_MAX_LABEL || !is_lower(name[0]))
        return false;
    for (size_t i = 1; i < len; i++) {
        char c = name[i];
        if (!is_lower(c) && !is_digit(c) && c != '-')
            return false;
    }
    return name[len - 1] != '-';
}

enum zl_err naming_leader_name(const char *source, const char *explicit_name,
                               char out[static NAMING_MAX_LABEL + 1])
{
    out[0] = '\0';
    if (explicit_name != NULL) {
        if (!naming_is_dns1035_label(explicit_name) ||
            strcmp(explicit_name, source) == 0)
            return ZL_ERR_INVALID;
        memcpy(out, explicit_name, strlen(explicit_name) + 1);
        return ZL_OK;
    }
    if (strnlen(source, NAMING_MAX_DERIVED_SOURCE + 1) >
        NAMING_MAX_DERIVED_SOURCE)
        return ZL_ERR_LIMIT;
    if (!naming_is_dns1035_label(source))
        return ZL_ERR_PARSE;
    size_t len = strlen(source);
    memcpy(out, source, len);
    memcpy(out + len, NAMING_SUFFIX, sizeof(NAMING_SUFFIX));
    return ZL_OK;
}

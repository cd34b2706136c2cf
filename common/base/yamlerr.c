/* SPDX-License-Identifier: Apache-2.0 */
/* libcyaml's log lines to one readable error line. libcyaml writes the
 * error first, then "Backtrace:" and one line per level, innermost first:
 * "in mapping field 'x' (line: 2, column: 3)" or "in sequence entry '1'". */
#include "base/yamlerr.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void prepend(struct yamlerr *ye, const char *piece, bool index)
{
    char joined[2 * YAMLERR_MAX + 4];
    const char *sep = ye->path[0] != '\0' && ye->path[0] != '[' ? "." : "";
    if (index) /* libcyaml counts entries from 1 */
        snprintf(joined, sizeof(joined), "[%ld]%s%s",
                 strtol(piece, NULL, 10) - 1, sep, ye->path);
    else
        snprintf(joined, sizeof(joined), "%s%s%s", piece, sep, ye->path);
    size_t n = strnlen(joined, sizeof(ye->path) - 1); /* cut if too deep */
    memcpy(ye->path, joined, n);
    ye->path[n] = '\0';
}

static void backtrace_line(struct yamlerr *ye, const char *msg)
{
    static const char field[] = "in mapping field '";
    static const char entry[] = "in sequence entry '";
    const char *q = strstr(msg, field);
    bool index = false;
    if (q != NULL) {
        q += strlen(field);
    } else if ((q = strstr(msg, entry)) != NULL) {
        q += strlen(entry);
        index = true;
    } else {
        return;
    }
    const char *end = strchr(q, '\'');
    if (end == NULL)
        return;
    char piece[YAMLERR_MAX];
    snprintf(piece, sizeof(piece), "%.*s", (int)(end - q), q);
    prepend(ye, piece, index);
    const char *l = strstr(end, "(line: ");
    if (l != NULL && ye->line == 0)
        ye->line = (int)strtol(l + strlen("(line: "), NULL, 10);
}

void yamlerr_log(cyaml_log_t level, void *ctx, const char *fmt, va_list args)
{
    struct yamlerr *ye = ctx;
    char msg[YAMLERR_MAX];
    if (level < CYAML_LOG_ERROR)
        return;
    vsnprintf(msg, sizeof(msg), fmt, args);
    size_t n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        msg[--n] = '\0';
    const char *text = strncmp(msg, "Load: ", 6) == 0 ? msg + 6 : msg;
    if (ye->first[0] == '\0')
        snprintf(ye->first, sizeof(ye->first), "%s", text);
    else
        backtrace_line(ye, text);
}

/* Plain words for libcyaml's messages about value shapes. */
static const char *plain_words(const char *detail)
{
    if (strstr(detail, "Expecting STRING") != NULL ||
        strstr(detail, "Invalid STRING") != NULL)
        return "needs a single value";
    if (strstr(detail, "Expecting SEQUENCE") != NULL)
        return "needs a list";
    if (strstr(detail, "Expecting MAPPING") != NULL)
        return "needs a mapping (key: value)";
    return detail;
}

void yamlerr_describe(const struct yamlerr *ye, const char *name,
                      cyaml_err_t cerr, char *out, size_t out_len)
{
    static const char unknown[] = "Unexpected key: ";
    const char *detail =
        ye->first[0] != '\0' ? ye->first : cyaml_strerror(cerr);
    char where[YAMLERR_MAX];
    if (ye->line > 0)
        snprintf(where, sizeof(where), "%s:%d", name, ye->line);
    else
        snprintf(where, sizeof(where), "%s", name);
    if (cerr == CYAML_ERR_INVALID_KEY &&
        strncmp(detail, unknown, strlen(unknown)) == 0)
        snprintf(out, out_len, "%s: %s%s%s: unknown key (not a known setting)",
                 where, ye->path, ye->path[0] != '\0' ? "." : "",
                 detail + strlen(unknown));
    else if (ye->path[0] != '\0')
        snprintf(out, out_len, "%s: %s: %s", where, ye->path,
                 plain_words(detail));
    else
        snprintf(out, out_len, "%s: %s", where, plain_words(detail));
    for (char *p = out; *p != '\0'; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = ' ';
    }
}

/* SPDX-License-Identifier: Apache-2.0 */
/* JSON-lines / text logger. Records are built in a bounded buffer and
 * written with one fwrite under a mutex. */
#include "base/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "base/clock.h"

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static enum log_level log_min = LOG_LEVEL_INFO;
static enum log_format log_fmt = LOG_FORMAT_JSON;
static FILE *log_sink;
static int64_t (*log_clock)(void);

static const char *const log_names[] = {"debug", "info", "warn", "error"};

void log_configure(enum log_level min_level, enum log_format format, FILE *sink)
{
    pthread_mutex_lock(&log_lock);
    log_min = min_level;
    log_fmt = format;
    log_sink = sink;
    pthread_mutex_unlock(&log_lock);
}

void log_set_clock(int64_t (*now_ms)(void))
{
    pthread_mutex_lock(&log_lock);
    log_clock = now_ms;
    pthread_mutex_unlock(&log_lock);
}

const char *log_level_name(enum log_level level)
{
    if ((unsigned)level >= sizeof(log_names) / sizeof(*log_names))
        return "unknown";
    return log_names[level];
}

enum zl_err log_level_parse(const char *text, enum log_level *out)
{
    for (size_t i = 0; i < sizeof(log_names) / sizeof(*log_names); i++) {
        if (strcasecmp(text, log_names[i]) == 0) {
            *out = (enum log_level)i;
            return ZL_OK;
        }
    }
    if (strcasecmp(text, "warning") == 0) {
        *out = LOG_LEVEL_WARN;
        return ZL_OK;
    }
    return ZL_ERR_INVALID;
}

enum zl_err log_format_parse(const char *text, enum log_format *out)
{
    if (strcmp(text, "json") == 0)
        *out = LOG_FORMAT_JSON;
    else if (strcmp(text, "text") == 0)
        *out = LOG_FORMAT_TEXT;
    else
        return ZL_ERR_INVALID;
    return ZL_OK;
}

int log_enabled(enum log_level level)
{
    pthread_mutex_lock(&log_lock);
    int on = level >= log_min;
    pthread_mutex_unlock(&log_lock);
    return on;
}

static int64_t real_now_ms(void)
{
    return clock_real_ns() / CLOCK_NS_PER_MS;
}

static bool needs_quotes(const char *s)
{
    if (*s == '\0')
        return true;
    for (; *s != '\0'; s++) {
        if (*s == ' ' || *s == '"' || *s == '=' || (unsigned char)*s < 0x20)
            return true;
    }
    return false;
}

static enum zl_err build_json(struct buf *b, const char *ts,
                              enum log_level level, const char *msg,
                              const struct log_field *fields, size_t n)
{
    enum zl_err err =
        buf_printf(b, "{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":", ts,
                   log_level_name(level));
    if (err == ZL_OK)
        err = buf_put_json_string(b, msg);
    for (size_t i = 0; err == ZL_OK && i < n; i++) {
        err = buf_putc(b, ',');
        if (err == ZL_OK)
            err = buf_put_json_string(b, fields[i].key);
        if (err == ZL_OK)
            err = buf_putc(b, ':');
        if (err == ZL_OK)
            err = fields[i].value == NULL
                      ? buf_puts(b, "null")
                      : buf_put_json_string(b, fields[i].value);
    }
    if (err == ZL_OK)
        err = buf_puts(b, "}\n");
    return err;
}

static enum zl_err build_text(struct buf *b, const char *ts,
                              enum log_level level, const char *msg,
                              const struct log_field *fields, size_t n)
{
    enum zl_err err =
        buf_printf(b, "%s %-5s %s", ts, log_level_name(level), msg);
    for (size_t i = 0; err == ZL_OK && i < n; i++) {
        const char *v = fields[i].value == NULL ? "null" : fields[i].value;
        err = buf_printf(b, " %s=", fields[i].key);
        if (err == ZL_OK)
            err = needs_quotes(v) ? buf_put_json_string(b, v) : buf_puts(b, v);
    }
    if (err == ZL_OK)
        err = buf_putc(b, '\n');
    return err;
}

void log_record(enum log_level level, const char *msg,
                const struct log_field *fields, size_t field_count)
{
    char ts[CLOCK_RFC3339_MAX];
    struct buf b;

    pthread_mutex_lock(&log_lock);
    if (level < log_min) {
        pthread_mutex_unlock(&log_lock);
        return;
    }
    FILE *sink = log_sink != NULL ? log_sink : stderr;
    clock_format_ms(log_clock != NULL ? log_clock() : real_now_ms(),
                    CLOCK_PREC_MS, ts);
    buf_init(&b, LOG_MAX_RECORD);
    enum zl_err err = log_fmt == LOG_FORMAT_TEXT
                          ? build_text(&b, ts, level, msg, fields, field_count)
                          : build_json(&b, ts, level, msg, fields, field_count);
    if (err == ZL_OK) {
        fwrite(b.data, 1, b.len, sink);
    } else if (log_fmt == LOG_FORMAT_TEXT) {
        fprintf(sink, "%s %-5s record dropped: %s\n", ts, log_level_name(level),
                zl_err_str(err));
    } else {
        fprintf(sink,
                "{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":\"record dropped\","
                "\"truncated\":true,\"error\":\"%s\"}\n",
                ts, log_level_name(level), zl_err_str(err));
    }
    fflush(sink);
    pthread_mutex_unlock(&log_lock);
    buf_cleanup(&b);
}

void log_printf(enum log_level level, const char *fmt, ...)
{
    char msg[2048];
    if (!log_enabled(level))
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (n < 0)
        snprintf(msg, sizeof(msg), "(unformattable message)");
    log_record(level, msg, NULL, 0);
}

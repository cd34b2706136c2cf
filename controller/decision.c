/* SPDX-License-Identifier: Apache-2.0 */
/* JSON lines for leader decisions. */
#include "controller/decision.h"

#include <time.h>
#include <unistd.h>

static enum zl_err put_time(struct buf *out, int64_t ms)
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    char text[32];
    if (gmtime_r(&s, &tm) == NULL)
        return buf_puts(out, "\"\"");
    strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%S", &tm);
    return buf_printf(out, "\"%s.%03dZ\"", text, (int)(ms % 1000));
}

static enum zl_err put_field(struct buf *out, const char *key,
                             const char *value)
{
    enum zl_err rc = buf_printf(out, ",\"%s\":", key);
    if (rc == ZL_OK)
        rc = buf_put_json_string(out, value != NULL ? value : "");
    return rc;
}

enum zl_err decision_format(const struct decision_entry *e, struct buf *out)
{
    enum zl_err rc = buf_puts(out, "{\"ts\":");
    if (rc == ZL_OK)
        rc = put_time(out, e->time_ms);
    if (rc == ZL_OK)
        rc = buf_puts(out, ",\"msg\":\"leader decision\"");
    if (rc == ZL_OK)
        rc = put_field(out, "namespace", e->ns);
    if (rc == ZL_OK)
        rc = put_field(out, "service", e->service);
    if (rc == ZL_OK)
        rc = put_field(out, "old", e->old_pod);
    if (rc == ZL_OK)
        rc = put_field(out, "new", e->new_pod);
    if (rc == ZL_OK)
        rc = put_field(out, "reason", e->reason);
    if (rc == ZL_OK && e->latency_ms >= 0)
        rc = buf_printf(out, ",\"latency_ms\":%.3f}\n", e->latency_ms);
    else if (rc == ZL_OK)
        rc = buf_puts(out, ",\"latency_ms\":null}\n");
    return rc;
}

void decision_write(FILE *f, const struct decision_entry *e)
{
    struct buf b;
    buf_init(&b, 8192);
    if (decision_format(e, &b) == ZL_OK) {
        fflush(f);
        ssize_t n = write(fileno(f), b.data, b.len);
        (void)n;
    }
    buf_cleanup(&b);
}

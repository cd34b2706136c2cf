/* SPDX-License-Identifier: Apache-2.0 */
/* The drill's bookkeeping (see drillstats.h): the slice's events one at a
 * time, and the probe's figures from its records in a pass for counts and
 * outages and one for the gap. No I/O and no clock. */
#include "plugin/drillstats.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

void drillstats_switch_init(struct drillstats_switch *sw)
{
    memset(sw, 0, sizeof(*sw));
    sw->removed_ms = sw->new_ms = -1;
}

bool drillstats_switch_seen(struct drillstats_switch *sw,
                            const struct views_endpointslice *s, bool deleted,
                            const char *old_pod, int64_t at_ms)
{
    bool old_present = false;
    size_t n = deleted || s == NULL ? 0 : s->endpoint_count;
    for (size_t i = 0; i < n; i++) {
        const struct views_endpoint *e = &s->endpoints[i];
        const char *name = e->target_ref.name;
        if (name == NULL || *name == '\0')
            continue;
        if (strcmp(name, old_pod) == 0) {
            old_present = true;
        } else if (e->ready && sw->new_ms < 0) {
            snprintf(sw->new_pod, sizeof(sw->new_pod), "%s", name);
            sw->new_ms = at_ms;
        }
    }
    if (!old_present && sw->removed_ms < 0)
        sw->removed_ms = at_ms;
    return sw->new_ms >= 0;
}

bool drillstats_set_pod(struct drillstats_record *rec, const char *body,
                        size_t len)
{
    size_t start = 0;
    while (start < len && isspace((unsigned char)body[start]))
        start++;
    while (len > start && isspace((unsigned char)body[len - 1]))
        len--;
    size_t n = len - start;
    if (n > DRILLSTATS_POD_MAX - 1)
        n = DRILLSTATS_POD_MAX - 1;
    memcpy(rec->pod, body + start, n);
    rec->pod[n] = '\0';
    return n > 0;
}

/* Counts name in t[0..*count), adding it while fewer than max are there,
 * else in *other. */
static void drillstats_tally(struct drillstats_tally *t, size_t max,
                             size_t *count, size_t *other, const char *name)
{
    for (size_t i = 0; i < *count; i++) {
        if (strcmp(t[i].name, name) == 0) {
            t[i].count++;
            return;
        }
    }
    if (*count == max) {
        (*other)++;
        return;
    }
    struct drillstats_tally *p = &t[(*count)++];
    snprintf(p->name, sizeof(p->name), "%s", name);
    p->count = 1;
}

static bool drillstats_from(const struct drillstats_record *r, const char *pod)
{
    return r->ok && pod != NULL && strcmp(r->pod, pod) == 0;
}

/* gap_ms and its instants: the first answer of new_pod ending after t0,
 * from t0 or the last answer of old_pod before it, when later. */
static void drillstats_gap(const struct drillstats_record *records,
                           size_t count, int64_t t0_ms, const char *old_pod,
                           const char *new_pod, struct drillstats_summary *s)
{
    s->gap_ms = s->gap_from_ms = s->gap_to_ms = -1;
    if (new_pod == NULL)
        return;
    int64_t from = t0_ms;
    for (size_t i = 0; i < count; i++) {
        const struct drillstats_record *r = &records[i];
        if (drillstats_from(r, new_pod) && r->end_ms >= t0_ms) {
            s->gap_from_ms = from;
            s->gap_to_ms = r->end_ms;
            s->gap_ms = r->end_ms - from;
            return;
        }
        if (drillstats_from(r, old_pod) && r->end_ms > from)
            from = r->end_ms;
    }
}

void drillstats_summarise(const struct drillstats_record *records, size_t count,
                          int64_t t0_ms, const char *old_pod,
                          const char *new_pod, struct drillstats_summary *out)
{
    memset(out, 0, sizeof(*out));
    out->requests = count;
    int64_t last = count > 0 ? records[0].start_ms : 0;
    for (size_t i = 0; i < count; i++) {
        const struct drillstats_record *r = &records[i];
        if (!r->ok) {
            out->failures++;
            drillstats_tally(out->errors, DRILLSTATS_MAX_ERRORS,
                             &out->error_count, &out->other_errors, r->error);
            continue;
        }
        drillstats_tally(out->pods, DRILLSTATS_MAX_PODS, &out->pod_count,
                         &out->other, r->pod);
        if (r->end_ms - last > out->longest_outage_ms)
            out->longest_outage_ms = r->end_ms - last;
        last = r->end_ms;
    }
    if (count > 0 && records[count - 1].end_ms - last > out->longest_outage_ms)
        out->longest_outage_ms = records[count - 1].end_ms - last;
    drillstats_gap(records, count, t0_ms, old_pod, new_pod, out);
}

size_t drillstats_pod_count(const struct drillstats_summary *s,
                            const char *name)
{
    for (size_t i = 0; i < s->pod_count; i++)
        if (strcmp(s->pods[i].name, name) == 0)
            return s->pods[i].count;
    return 0;
}

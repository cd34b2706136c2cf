/* SPDX-License-Identifier: Apache-2.0 */
/* Events: aggregation decisions step by step (tests/data/events/
 * aggregate.json), Event and patch rendering against golden JSON, name and
 * length limits, and a recorder that never blocks or loses memory when it
 * cannot deliver. */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "kube/client.h"
#include "kube/events.h"
#include "kube/kubeconfig.h"
#include "testutil.h"

static struct json_object *load(const char *rel)
{
    struct json_object *obj = testutil_load_json(rel);
    cr_assert_not_null(obj, "%s", rel);
    return obj;
}

static const char *str_of(struct json_object *obj, const char *key)
{
    struct json_object *v;
    if (!json_object_object_get_ex(obj, key, &v) ||
        !json_object_is_type(v, json_type_string))
        return "";
    return json_object_get_string(v);
}

static int64_t int_of(struct json_object *obj, const char *key)
{
    struct json_object *v;
    if (!json_object_object_get_ex(obj, key, &v))
        return 0;
    return json_object_get_int64(v);
}

static enum events_type type_of(const char *s)
{
    return strcmp(s, "Warning") == 0 ? EVENTS_WARNING : EVENTS_NORMAL;
}

#define MAX_STEPS 16

static void run_case(struct json_object *c)
{
    const char *name = str_of(c, "name");
    struct events_cache *cache = NULL;
    cr_assert_eq(events_cache_new((size_t)int_of(c, "cache_max"),
                                  (long)int_of(c, "window_s"), &cache),
                 ZL_OK);
    struct json_object *steps = NULL;
    json_object_object_get_ex(c, "steps", &steps);
    size_t n = json_object_array_length(steps);
    cr_assert_leq(n, MAX_STEPS);
    char names[MAX_STEPS][EVENTS_MAX_NAME + 1];
    for (size_t i = 0; i < n; i++) {
        struct json_object *s = json_object_array_get_idx(steps, i);
        struct events_object obj = {.kind = "Service",
                                    .api_version = "v1",
                                    .ns = "shop",
                                    .name = "db",
                                    .uid = str_of(s, "uid")};
        struct events_event ev = {.object = &obj,
                                  .type = type_of(str_of(s, "type")),
                                  .reason = str_of(s, "reason"),
                                  .message = str_of(s, "message")};
        int64_t at = int_of(s, "at_s") * CLOCK_NS_PER_S;
        struct events_decision d;
        events_cache_decide(cache, &ev, at, at + (int64_t)i, &d);
        cr_assert_str_eq(d.patch ? "patch" : "create", str_of(s, "want"),
                         "%s: step %zu", name, i);
        cr_assert_eq(d.count, int_of(s, "count"), "%s: step %zu count", name,
                     i);
        int64_t same = int_of(s, "same_as");
        if (same >= 0)
            cr_assert_str_eq(d.name, names[same], "%s: step %zu name", name, i);
        else
            for (size_t j = 0; j < i; j++)
                cr_assert_str_neq(d.name, names[j], "%s: step %zu fresh name",
                                  name, i);
        memcpy(names[i], d.name, sizeof(names[i]));
        cr_assert_eq(events_cache_commit(cache, &ev, &d, at), ZL_OK);
        cr_assert_leq(events_cache_len(cache), (size_t)int_of(c, "cache_max"));
    }
    events_cache_free(cache);
}

Test(events, aggregates_repeats_by_uid_type_reason_message)
{
    struct json_object *cases = load("events/aggregate.json");
    for (size_t i = 0; i < json_object_array_length(cases); i++)
        run_case(json_object_array_get_idx(cases, i));
    json_object_put(cases);
}

Test(events, forget_makes_the_next_repeat_create)
{
    struct events_cache *cache = NULL;
    cr_assert_eq(events_cache_new(0, 0, &cache), ZL_OK);
    struct events_object obj = {"Service", "v1", "shop", "db", "u1", NULL};
    struct events_event ev = {&obj, EVENTS_WARNING, "R", "m", 1, 0, 0};
    struct events_decision d;
    events_cache_decide(cache, &ev, CLOCK_NS_PER_S, 1, &d);
    cr_assert_eq(events_cache_commit(cache, &ev, &d, CLOCK_NS_PER_S), ZL_OK);
    events_cache_decide(cache, &ev, 2 * CLOCK_NS_PER_S, 2, &d);
    cr_assert(d.patch);
    events_cache_forget(cache, &ev);
    cr_assert_eq(events_cache_len(cache), 0);
    events_cache_decide(cache, &ev, 3 * CLOCK_NS_PER_S, 3, &d);
    cr_assert_not(d.patch);
    events_cache_free(cache);
}

Test(events, names_are_object_dot_hex_within_253)
{
    struct events_cache *cache = NULL;
    cr_assert_eq(events_cache_new(0, 0, &cache), ZL_OK);
    char long_name[300];
    memset(long_name, 'x', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0';
    struct events_object obj = {"Pod", "v1", "ns", "web-0", "u", NULL};
    struct events_event ev = {&obj, EVENTS_NORMAL, "R", "m", 1, 0, 0};
    struct events_decision d;
    events_cache_decide(cache, &ev, 0, INT64_C(0x18a8f4b2c3d4e5f6), &d);
    cr_assert_str_eq(d.name, "web-0.18a8f4b2c3d4e5f6");
    obj.name = long_name;
    events_cache_decide(cache, &ev, 0, INT64_C(0x18a8f4b2c3d4e5f6), &d);
    cr_assert_eq(strlen(d.name), EVENTS_MAX_NAME);
    cr_assert_str_eq(d.name + EVENTS_MAX_NAME - 17, ".18a8f4b2c3d4e5f6");
    events_cache_free(cache);
}

Test(events, renders_event_like_the_golden_files)
{
    struct json_object *cases = load("events/render.json");
    for (size_t i = 0; i < json_object_array_length(cases); i++) {
        struct json_object *c = json_object_array_get_idx(cases, i);
        struct json_object *o = NULL, *s = NULL, *want = NULL;
        json_object_object_get_ex(c, "object", &o);
        json_object_object_get_ex(c, "source", &s);
        json_object_object_get_ex(c, "want", &want);
        struct events_object obj = {
            str_of(o, "kind"), str_of(o, "api_version"),
            str_of(o, "ns"),   str_of(o, "name"),
            str_of(o, "uid"),  str_of(o, "resource_version")};
        struct events_source src = {str_of(s, "component"), str_of(s, "host"),
                                    str_of(s, "instance")};
        struct events_event ev = {&obj,
                                  type_of(str_of(c, "type")),
                                  str_of(c, "reason"),
                                  str_of(c, "message"),
                                  (long)int_of(c, "count"),
                                  int_of(c, "first_s") * CLOCK_NS_PER_S,
                                  int_of(c, "last_s") * CLOCK_NS_PER_S};
        struct buf out;
        buf_init(&out, 1 << 16);
        cr_assert_eq(events_render(&ev, str_of(c, "event_name"), &src, &out),
                     ZL_OK);
        struct json_object *got = testutil_json(out.data);
        cr_assert(testutil_json_equal(str_of(c, "name"), got, want));
        json_object_put(got);
        buf_cleanup(&out);
    }
    json_object_put(cases);
}

Test(events, renders_count_patch)
{
    struct buf out;
    buf_init(&out, 256);
    cr_assert_eq(
        events_render_patch(3, INT64_C(1772359260) * CLOCK_NS_PER_S, &out),
        ZL_OK);
    cr_assert_str_eq(
        out.data, "{\"count\":3,\"lastTimestamp\":\"2026-03-01T10:01:00Z\"}");
    buf_cleanup(&out);
}

Test(events, cuts_long_message_at_a_utf8_boundary)
{
    char msg[EVENTS_MAX_MESSAGE + 8];
    memset(msg, 'a', EVENTS_MAX_MESSAGE - 1);
    /* "é" (2 bytes) straddles the limit: it must go whole. */
    memcpy(msg + EVENTS_MAX_MESSAGE - 1, "\xc3\xa9zz", 5);
    struct events_object obj = {"Pod", "v1", "ns", "p", "u", NULL};
    struct events_source src = {"zen-lead-controller", NULL, NULL};
    struct events_event ev = {&obj, EVENTS_NORMAL, "R", msg, 1, 0, 0};
    struct buf out;
    buf_init(&out, 1 << 16);
    cr_assert_eq(events_render(&ev, "p.1", &src, &out), ZL_OK);
    struct json_object *got = testutil_json(out.data), *m;
    cr_assert(json_object_object_get_ex(got, "message", &m));
    cr_assert_eq(strlen(json_object_get_string(m)), EVENTS_MAX_MESSAGE - 1);
    json_object_put(got);
    buf_cleanup(&out);
}

Test(events, recorder_never_blocks_and_counts_drops, .timeout = 30)
{
    /* A server that refuses connections: every write fails; record must
     * still return at once and the full queue must drop, not wait. */
    struct kube_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.server = strdup("https://127.0.0.1:1");
    struct client_options copt = {
        .timeout_ms = 500, .connect_timeout_ms = 200, .max_retries = -1};
    struct client *c = NULL;
    cr_assert_eq(client_new(&cfg, &copt, &c), ZL_OK);
    struct events_recorder *r = NULL;
    cr_assert_eq(events_recorder_new(c, &(struct events_options){0}, &r),
                 ZL_ERR_INVALID);
    struct events_options opt = {.source = {"zen-lead-controller", NULL, NULL},
                                 .queue_max = 4,
                                 .max_tries = 2,
                                 .retry_ms = 10};
    cr_assert_eq(events_recorder_new(c, &opt, &r), ZL_OK);
    struct events_object obj = {"Service", "v1", "shop", "db", "u1", NULL};
    int64_t t0 = clock_mono_ns();
    for (int i = 0; i < 100; i++)
        events_record(r, &obj, EVENTS_WARNING, "NoReadyPods", "try %d", i);
    double ms = (double)(clock_mono_ns() - t0) / (double)CLOCK_NS_PER_MS;
    /* A recorder that waited for its writes (2 tries 10 ms apart, each
     * refused) would need over 2 s for 100; the bound leaves room for
     * valgrind on a busy machine. The drops below show no wait either. */
    cr_assert_lt(ms, 1000.0, "recording 100 events took %.1f ms", ms);
    cr_assert_geq(events_dropped(r), 95);
    cr_assert_eq(events_flush(r, 10000), ZL_OK);
    cr_assert_eq(events_dropped(r), 100);
    cr_assert_eq(events_written(r), 0);
    events_recorder_free(r);
    client_free(c);
    kubeconfig_cleanup(&cfg);
}

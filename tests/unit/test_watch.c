/* SPDX-License-Identifier: Apache-2.0 */
/* Watch stream decoder on streams recorded from a real API server
 * (tests/data/watch/, see its record script): every split point, random
 * multi-splits, byte by byte, size limit, and 410 in both encodings. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "base/json.h"
#include "kube/watch.h"
#include "testutil.h"

#define MAX_EVENTS 64

struct seen {
    size_t count;
    enum watch_type types[MAX_EVENTS];
    char *objects[MAX_EVENTS]; /* canonical JSON text */
};

static void seen_clear(struct seen *s)
{
    for (size_t i = 0; i < s->count; i++)
        free(s->objects[i]);
    s->count = 0;
}

static enum zl_err on_event(void *ctx, enum watch_type type,
                            struct json_object *object)
{
    struct seen *s = ctx;
    cr_assert_lt(s->count, MAX_EVENTS);
    s->types[s->count] = type;
    s->objects[s->count] = strdup(json_object_to_json_string_ext(
        object, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    s->count++;
    return ZL_OK;
}

/* The reference: split the file on newlines and parse each line whole. */
static void reference(const char *text, struct seen *s)
{
    const char *p = text;
    while (*p != '\0') {
        const char *nl = strchr(p, '\n');
        size_t n = nl == NULL ? strlen(p) : (size_t)(nl - p);
        char *line = strndup(p, n);
        struct json_object *ev = testutil_json(line);
        free(line);
        if (ev != NULL) {
            struct json_object *t = NULL;
            struct json_object *o = NULL;
            json_object_object_get_ex(ev, "type", &t);
            json_object_object_get_ex(ev, "object", &o);
            const char *ts = json_object_get_string(t);
            enum watch_type type = WATCH_ERROR;
            for (int i = 0; i <= WATCH_ERROR; i++)
                if (strcmp(ts, watch_type_name((enum watch_type)i)) == 0)
                    type = (enum watch_type)i;
            on_event(s, type, o);
            json_object_put(ev);
        }
        p += n + (nl != NULL);
    }
}

static void assert_same(const struct seen *want, const struct seen *got,
                        const char *what)
{
    cr_assert_eq(got->count, want->count, "%s: %zu events, want %zu", what,
                 got->count, want->count);
    for (size_t i = 0; i < want->count; i++) {
        cr_assert_eq(got->types[i], want->types[i], "%s: event %zu", what, i);
        cr_assert_str_eq(got->objects[i], want->objects[i], "%s: event %zu",
                         what, i);
    }
}

/* Feeds text in pieces ending at cuts[0..ncuts) and then the rest. */
static void feed_cuts(const char *text, size_t len, const size_t *cuts,
                      size_t ncuts, struct seen *got)
{
    struct watch_decoder d;
    watch_init(&d, 0, on_event, got);
    size_t at = 0;
    for (size_t i = 0; i < ncuts; i++) {
        cr_assert_eq(watch_feed(&d, text + at, cuts[i] - at), ZL_OK);
        at = cuts[i];
    }
    cr_assert_eq(watch_feed(&d, text + at, len - at), ZL_OK);
    cr_assert_eq(watch_finish(&d), ZL_OK);
    watch_cleanup(&d);
}

static const char *const STREAMS[] = {
    "watch/stream-basic.jsonl",
    "watch/stream-expired.jsonl",
};

Test(watch, every_split_point_gives_the_same_events)
{
    for (size_t f = 0; f < sizeof(STREAMS) / sizeof(STREAMS[0]); f++) {
        size_t len = 0;
        char *text = testutil_read(STREAMS[f], &len);
        cr_assert_not_null(text);
        struct seen want = {0};
        reference(text, &want);
        cr_assert_gt(want.count, 0);
        for (size_t cut = 0; cut <= len; cut++) {
            struct seen got = {0};
            feed_cuts(text, len, &cut, 1, &got);
            assert_same(&want, &got, STREAMS[f]);
            seen_clear(&got);
        }
        seen_clear(&want);
        free(text);
    }
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a;
    size_t y = *(const size_t *)b;
    return (x > y) - (x < y);
}

Test(watch, random_multi_splits_give_the_same_events)
{
    unsigned seed = 12345;
    for (size_t f = 0; f < sizeof(STREAMS) / sizeof(STREAMS[0]); f++) {
        size_t len = 0;
        char *text = testutil_read(STREAMS[f], &len);
        struct seen want = {0};
        reference(text, &want);
        for (int round = 0; round < 500; round++) {
            size_t cuts[32];
            size_t ncuts = (size_t)rand_r(&seed) % 32;
            for (size_t i = 0; i < ncuts; i++)
                cuts[i] = (size_t)rand_r(&seed) % (len + 1);
            qsort(cuts, ncuts, sizeof(cuts[0]), cmp_size);
            struct seen got = {0};
            feed_cuts(text, len, cuts, ncuts, &got);
            assert_same(&want, &got, STREAMS[f]);
            seen_clear(&got);
        }
        seen_clear(&want);
        free(text);
    }
}

Test(watch, byte_by_byte_and_whole_stream_agree)
{
    size_t len = 0;
    char *text = testutil_read("watch/stream-basic.jsonl", &len);
    struct seen want = {0};
    reference(text, &want);
    size_t cuts[16384];
    cr_assert_lt(len, sizeof(cuts) / sizeof(cuts[0]));
    for (size_t i = 0; i < len; i++)
        cuts[i] = i;
    struct seen got = {0};
    feed_cuts(text, len, cuts, len, &got);
    assert_same(&want, &got, "byte by byte");
    seen_clear(&got);
    seen_clear(&want);
    free(text);
}

Test(watch, recorded_stream_has_each_event_type_and_advancing_rvs)
{
    size_t len = 0;
    char *text = testutil_read("watch/stream-basic.jsonl", &len);
    struct seen got = {0};
    feed_cuts(text, len, NULL, 0, &got);
    bool have[WATCH_ERROR + 1] = {false};
    for (size_t i = 0; i < got.count; i++)
        have[got.types[i]] = true;
    cr_assert(have[WATCH_ADDED] && have[WATCH_MODIFIED] &&
              have[WATCH_DELETED] && have[WATCH_BOOKMARK]);
    cr_assert_eq(got.types[got.count - 1], WATCH_BOOKMARK);
    /* A bookmark carries only metadata.resourceVersion. */
    struct json_object *bm = testutil_json(got.objects[got.count - 1]);
    cr_assert_not_null(watch_object_rv(bm));
    json_object_put(bm);
    seen_clear(&got);
    free(text);
}

Test(watch, error_event_with_410_expired_is_recognised)
{
    size_t len = 0;
    char *text = testutil_read("watch/stream-expired.jsonl", &len);
    struct seen got = {0};
    feed_cuts(text, len, NULL, 0, &got);
    cr_assert_eq(got.count, 1);
    cr_assert_eq(got.types[0], WATCH_ERROR);
    struct json_object *st = testutil_json(got.objects[0]);
    cr_assert_eq(watch_classify(st), WATCH_STATUS_EXPIRED);
    json_object_put(st);
    seen_clear(&got);
    free(text);
}

Test(watch, http_410_body_is_recognised)
{
    char *text = testutil_read("watch/http-410.json", NULL);
    struct json_object *st = testutil_json(text);
    cr_assert_eq(watch_classify(st), WATCH_STATUS_EXPIRED);
    json_object_put(st);
    free(text);
}

Test(watch, classify_fields)
{
    cr_assert_eq(watch_classify_fields(410, "Expired", NULL),
                 WATCH_STATUS_EXPIRED);
    cr_assert_eq(watch_classify_fields(410, NULL, NULL), WATCH_STATUS_EXPIRED);
    cr_assert_eq(watch_classify_fields(0, "Gone", NULL), WATCH_STATUS_EXPIRED);
    cr_assert_eq(watch_classify_fields(504, "Timeout",
                                       "Too large resource version: 9, "
                                       "current: 5"),
                 WATCH_STATUS_TOO_LARGE_RV);
    cr_assert_eq(watch_classify_fields(504, "Timeout", "other"),
                 WATCH_STATUS_OTHER);
    cr_assert_eq(watch_classify_fields(500, "InternalError", NULL),
                 WATCH_STATUS_OTHER);
    struct json_object *pod = testutil_json("{\"kind\":\"Pod\",\"code\":410}");
    cr_assert_eq(watch_classify(pod), WATCH_STATUS_OTHER);
    json_object_put(pod);
    cr_assert_eq(watch_classify(NULL), WATCH_STATUS_OTHER);
}

Test(watch, event_over_the_limit_fails_and_blocks_until_reset)
{
    size_t len = 0;
    char *text = testutil_read("watch/stream-basic.jsonl", &len);
    const char *nl = strchr(text, '\n');
    size_t first = (size_t)(nl - text);
    struct seen got = {0};
    struct watch_decoder d;
    cr_assert_gt(len, first);
    /* Exactly the first event's size passes, one byte less fails. */
    watch_init(&d, first, on_event, &got);
    cr_assert_eq(watch_feed(&d, text, first + 1), ZL_OK);
    cr_assert_eq(got.count, 1);
    watch_cleanup(&d);
    for (size_t cut = 0; cut <= first; cut += 97) {
        watch_init(&d, first - 1, on_event, &got);
        enum zl_err err = watch_feed(&d, text, cut);
        if (err == ZL_OK)
            err = watch_feed(&d, text + cut, len - cut);
        cr_assert_eq(err, ZL_ERR_LIMIT, "cut %zu", cut);
        cr_assert_eq(watch_feed(&d, "\n", 1), ZL_ERR_INVALID);
        watch_reset(&d);
        const char *bm = "{\"type\":\"BOOKMARK\",\"object\":{}}\n";
        cr_assert_eq(watch_feed(&d, bm, strlen(bm)), ZL_OK);
        watch_cleanup(&d);
    }
    seen_clear(&got);
    free(text);
}

Test(watch, rejects_malformed_lines)
{
    static const char *const BAD[] = {
        "{\"type\":\"ADDED\"}\n",
        "{\"type\":\"NOPE\",\"object\":{}}\n",
        "{\"type\":\"ADDED\",\"object\":[]}\n",
        "[1,2]\n",
        "{\"type\":\"ADDED\",\"object\":{}} x\n",
        "{\"type\":\"ADDED\",\"object\":{\n",
        "garbage\n",
    };
    for (size_t i = 0; i < sizeof(BAD) / sizeof(BAD[0]); i++) {
        struct seen got = {0};
        struct watch_decoder d;
        watch_init(&d, 0, on_event, &got);
        cr_assert_eq(watch_feed(&d, BAD[i], strlen(BAD[i])), ZL_ERR_PARSE, "%s",
                     BAD[i]);
        cr_assert_eq(got.count, 0);
        watch_cleanup(&d);
    }
}

/* An ADDED event whose object is `levels` nested objects ({"a":{...{}}}),
 * so the whole line nests levels + 1 deep. */
static char *nested_event(int levels)
{
    const char *head = "{\"type\":\"ADDED\",\"object\":";
    size_t hn = strlen(head), n = hn + 6 * (size_t)levels + 4;
    char *s = malloc(n);
    cr_assert_not_null(s);
    memcpy(s, head, hn);
    size_t p = hn;
    for (int i = 1; i < levels; i++, p += 5)
        memcpy(s + p, "{\"a\":", 5);
    memcpy(s + p, "{}", 2);
    p += 2;
    memset(s + p, '}', (size_t)levels);
    memcpy(s + p + (size_t)levels, "\n", 2);
    return s;
}

Test(watch, nesting_is_limited_by_json_max_depth)
{
    static const struct {
        int depth; /* of the whole event line */
        enum zl_err want;
    } cases[] = {
        {2, ZL_OK},
        {JSON_MAX_DEPTH, ZL_OK},
        {JSON_MAX_DEPTH + 1, ZL_ERR_LIMIT},
        {JSON_MAX_DEPTH * 4, ZL_ERR_LIMIT},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *ev = nested_event(cases[i].depth - 1);
        struct seen got = {0};
        struct watch_decoder d;
        watch_init(&d, 0, on_event, &got);
        cr_expect_eq(watch_feed(&d, ev, strlen(ev)), cases[i].want, "depth %d",
                     cases[i].depth);
        cr_expect_eq(got.count, cases[i].want == ZL_OK ? 1u : 0u, "depth %d",
                     cases[i].depth);
        watch_cleanup(&d);
        seen_clear(&got);
        free(ev);
    }
}

Test(watch, truncated_last_event_is_a_parse_error_at_finish)
{
    const char *s = "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":"
                    "{\"resourceVersion\":\"7\"}}}\n{\"type\":\"ADD";
    struct seen got = {0};
    struct watch_decoder d;
    watch_init(&d, 0, on_event, &got);
    cr_assert_eq(watch_feed(&d, s, strlen(s)), ZL_OK);
    cr_assert_eq(got.count, 1);
    cr_assert_eq(watch_finish(&d), ZL_ERR_PARSE);
    watch_cleanup(&d);
    seen_clear(&got);
}

Test(watch, last_event_without_newline_and_blank_lines)
{
    const char *s = "\r\n  \n{\"type\":\"BOOKMARK\",\"object\":{\"metadata\""
                    ":{\"resourceVersion\":\"7\"}}}\r\n\n{\"type\":\"DELETED\""
                    ",\"object\":{\"metadata\":{\"resourceVersion\":\"8\"}}}";
    struct seen got = {0};
    struct watch_decoder d;
    watch_init(&d, 0, on_event, &got);
    cr_assert_eq(watch_feed(&d, s, strlen(s)), ZL_OK);
    cr_assert_eq(got.count, 1);
    cr_assert_eq(watch_finish(&d), ZL_OK);
    cr_assert_eq(got.count, 2);
    cr_assert_eq(got.types[1], WATCH_DELETED);
    cr_assert_eq(d.events, 2);
    watch_cleanup(&d);
    seen_clear(&got);
}

static enum zl_err stop_at_second(void *ctx, enum watch_type type,
                                  struct json_object *object)
{
    (void)type;
    (void)object;
    int *n = ctx;
    return ++*n == 2 ? ZL_ERR_CANCELLED : ZL_OK;
}

Test(watch, callback_error_stops_the_feed)
{
    size_t len = 0;
    char *text = testutil_read("watch/stream-basic.jsonl", &len);
    int n = 0;
    struct watch_decoder d;
    watch_init(&d, 0, stop_at_second, &n);
    cr_assert_eq(watch_feed(&d, text, len), ZL_ERR_CANCELLED);
    cr_assert_eq(n, 2);
    watch_cleanup(&d);
    free(text);
}

/* SPDX-License-Identifier: Apache-2.0 */
/* Leader election rules: duration validation, the acquire/renew/wait
 * decision under a fake clock, the next record, parsing a recorded Lease
 * and rendering the objects written. Cases live in tests/data/lease/. */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/lease.h"
#include "testutil.h"

#define MS CLOCK_NS_PER_MS

static struct json_object *load(const char *rel)
{
    struct json_object *obj = testutil_load_json(rel);
    cr_assert_not_null(obj, "%s", rel);
    return obj;
}

static const char *str_of(struct json_object *obj, const char *key,
                          const char *def)
{
    struct json_object *v;
    if (!json_object_object_get_ex(obj, key, &v) ||
        !json_object_is_type(v, json_type_string))
        return def;
    return json_object_get_string(v);
}

static int64_t int_of(struct json_object *obj, const char *key)
{
    struct json_object *v;
    if (!json_object_object_get_ex(obj, key, &v))
        return 0;
    return json_object_get_int64(v);
}

/* Fills a record from a case object; false for JSON null. */
static bool record_of(struct json_object *obj, struct lease_record *rec)
{
    memset(rec, 0, sizeof(*rec));
    if (obj == NULL || json_object_is_type(obj, json_type_null))
        return false;
    snprintf(rec->holder, sizeof(rec->holder), "%s", str_of(obj, "holder", ""));
    rec->duration_s = (long)int_of(obj, "duration_s");
    snprintf(rec->acquire_time, sizeof(rec->acquire_time), "%s",
             str_of(obj, "acquire_time", ""));
    snprintf(rec->renew_time, sizeof(rec->renew_time), "%s",
             str_of(obj, "renew_time", ""));
    rec->transitions = (long)int_of(obj, "transitions");
    snprintf(rec->resource_version, sizeof(rec->resource_version), "%s",
             str_of(obj, "resource_version", ""));
    return true;
}

static const char *action_name(enum lease_action a)
{
    switch (a) {
    case LEASE_WAIT:
        return "wait";
    case LEASE_CREATE:
        return "create";
    case LEASE_ACQUIRE:
        return "acquire";
    case LEASE_RENEW:
        return "renew";
    }
    return "?";
}

static enum lease_action action_of(const char *name)
{
    static const enum lease_action all[] = {LEASE_WAIT, LEASE_CREATE,
                                            LEASE_ACQUIRE, LEASE_RENEW};
    for (size_t i = 0; i < 4; i++)
        if (strcmp(action_name(all[i]), name) == 0)
            return all[i];
    cr_assert_fail("unknown action %s", name);
    return LEASE_WAIT;
}

Test(lease, validates_duration_ordering)
{
    static const struct {
        long d, rd, rp;
        enum zl_err want;
    } table[] = {
        {15000, 10000, 2000, ZL_OK},
        {3000, 2000, 500, ZL_OK},
        {10000, 10000, 2000, ZL_ERR_INVALID},
        {9000, 10000, 2000, ZL_ERR_INVALID},
        {15000, 2400, 2000, ZL_ERR_INVALID}, /* 2400 = 1.2 x 2000 */
        {15000, 2401, 2000, ZL_OK},
        {15000, 10000, 0, ZL_ERR_INVALID},
        {0, 10000, 2000, ZL_ERR_INVALID},
    };
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        cr_assert_eq(lease_validate(table[i].d, table[i].rd, table[i].rp),
                     table[i].want, "case %zu", i);
}

Test(lease, decides_from_local_observation_time)
{
    struct json_object *cases = load("lease/decide.json");
    size_t n = json_object_array_length(cases);
    cr_assert_gt(n, 0);
    for (size_t i = 0; i < n; i++) {
        struct json_object *c = json_object_array_get_idx(cases, i);
        struct json_object *r = NULL;
        json_object_object_get_ex(c, "record", &r);
        struct lease_record rec;
        bool exists = record_of(r, &rec);
        int64_t expires = -1;
        enum lease_action got = lease_decide(
            exists ? &rec : NULL, int_of(c, "observed_ms") * MS,
            int_of(c, "now_ms") * MS, str_of(c, "identity", ""), &expires);
        const char *name = str_of(c, "name", "?");
        cr_assert_str_eq(action_name(got), str_of(c, "want", "?"), "%s", name);
        cr_assert_eq(expires, int_of(c, "expires_ms") * MS, "%s: expires",
                     name);
    }
    json_object_put(cases);
}

Test(lease, next_record_follows_client_go)
{
    struct json_object *cases = load("lease/next.json");
    const char *now = "2026-03-01T12:00:00.000000Z";
    for (size_t i = 0; i < json_object_array_length(cases); i++) {
        struct json_object *c = json_object_array_get_idx(cases, i);
        struct json_object *o = NULL, *w = NULL;
        json_object_object_get_ex(c, "observed", &o);
        json_object_object_get_ex(c, "want", &w);
        struct lease_record observed, want, got;
        bool exists = record_of(o, &observed);
        record_of(w, &want);
        if (strcmp(want.acquire_time, "NOW") == 0)
            snprintf(want.acquire_time, sizeof(want.acquire_time), "%s", now);
        if (strcmp(want.renew_time, "NOW") == 0)
            snprintf(want.renew_time, sizeof(want.renew_time), "%s", now);
        lease_next_record(exists ? &observed : NULL,
                          action_of(str_of(c, "action", "")),
                          str_of(c, "identity", ""),
                          (long)int_of(c, "duration_s"), now, &got);
        const char *name = str_of(c, "name", "?");
        cr_assert_not(lease_record_changed(&got, &want), "%s", name);
        cr_assert_str_eq(got.resource_version, want.resource_version, "%s",
                         name);
    }
    json_object_put(cases);
}

Test(lease, release_record_empties_holder_with_one_second)
{
    struct lease_record observed = {.holder = "a",
                                    .duration_s = 15,
                                    .transitions = 7,
                                    .resource_version = "12"};
    struct lease_record got;
    lease_release_record(&observed, "2026-03-01T12:00:00.000000Z", &got);
    cr_assert_str_eq(got.holder, "");
    cr_assert_eq(got.duration_s, 1);
    cr_assert_eq(got.transitions, 7);
    cr_assert_str_eq(got.resource_version, "12");
    cr_assert_eq(lease_decide(&got, 0, 0, "b", NULL), LEASE_ACQUIRE);
}

Test(lease, parses_recorded_lease)
{
    size_t len = 0;
    char *text = testutil_read("lease/lease.json", &len);
    cr_assert_not_null(text);
    struct lease_record rec;
    cr_assert_eq(lease_record_parse(text, len, &rec), ZL_OK);
    cr_assert_str_eq(rec.holder, "zen-lead-controller-7d9f-abcde_4f1c");
    cr_assert_eq(rec.duration_s, 15);
    cr_assert_str_eq(rec.acquire_time, "2026-03-01T10:00:00.123456Z");
    cr_assert_str_eq(rec.renew_time, "2026-03-01T10:05:00.654321Z");
    cr_assert_eq(rec.transitions, 3);
    cr_assert_str_eq(rec.resource_version, "48213");
    free(text);
}

Test(lease, parse_rejects_garbage_and_tolerates_missing_spec)
{
    struct lease_record rec;
    const char *bad[] = {"", "[1]", "{\"spec\":", "42", "{} x", "{\"a\":1,}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert_eq(lease_record_parse(bad[i], strlen(bad[i]), &rec),
                     ZL_ERR_PARSE, "%s", bad[i]);
    const char *bare = "{\"metadata\":{\"resourceVersion\":\"5\"}}";
    cr_assert_eq(lease_record_parse(bare, strlen(bare), &rec), ZL_OK);
    cr_assert_str_eq(rec.holder, "");
    cr_assert_str_eq(rec.resource_version, "5");
    char big[600];
    int n = snprintf(big, sizeof(big),
                     "{\"spec\":{\"holderIdentity\":\"%0*d\"}}", 300, 0);
    cr_assert_eq(lease_record_parse(big, (size_t)n, &rec), ZL_ERR_LIMIT);
    /* Deeper than JSON_MAX_DEPTH: refused by the shared parser. */
    char deep[2 * 100 + 16];
    n = snprintf(deep, sizeof(deep), "{\"a\":%0*d%0*d}", 100, 0, 100, 0);
    for (int i = 0; i < 100; i++) {
        deep[5 + i] = '[';
        deep[5 + 100 + i] = ']';
    }
    cr_assert_eq(lease_record_parse(deep, (size_t)n, &rec), ZL_ERR_LIMIT);
}

Test(lease, renders_create_update_and_release)
{
    struct json_object *cases = load("lease/render.json");
    for (size_t i = 0; i < json_object_array_length(cases); i++) {
        struct json_object *c = json_object_array_get_idx(cases, i);
        struct json_object *r = NULL, *want = NULL;
        json_object_object_get_ex(c, "record", &r);
        json_object_object_get_ex(c, "want", &want);
        struct lease_record rec;
        record_of(r, &rec);
        struct buf out;
        buf_init(&out, 1 << 16);
        cr_assert_eq(
            lease_render("zen-lead-system", "zen-lead-controller", &rec, &out),
            ZL_OK);
        struct json_object *got = testutil_json(out.data);
        cr_assert(testutil_json_equal(str_of(c, "name", "?"), got, want));
        struct lease_record back;
        cr_assert_eq(lease_record_parse(out.data, out.len, &back), ZL_OK);
        cr_assert_not(lease_record_changed(&back, &rec));
        json_object_put(got);
        buf_cleanup(&out);
    }
    json_object_put(cases);
}

Test(lease, micro_time_fits_the_record_and_round_trips)
{
    struct lease_record rec, back;
    lease_next_record(NULL, LEASE_CREATE, "me", 15, "", &rec);
    clock_format_ns(INT64_C(1772359200123456789), CLOCK_PREC_US,
                    rec.renew_time);
    cr_assert_str_eq(rec.renew_time, "2026-03-01T10:00:00.123456Z");
    clock_format_ns(0, CLOCK_PREC_US, rec.acquire_time);
    cr_assert_str_eq(rec.acquire_time, "1970-01-01T00:00:00.000000Z");
    struct buf out;
    buf_init(&out, 4096);
    cr_assert_eq(lease_render("ns", "l", &rec, &out), ZL_OK);
    cr_assert_eq(lease_record_parse(out.data, out.len, &back), ZL_OK);
    cr_assert_str_eq(back.renew_time, rec.renew_time);
    cr_assert_str_eq(back.acquire_time, rec.acquire_time);
    buf_cleanup(&out);
}

Test(lease, new_checks_options)
{
    struct lease *l = NULL;
    struct lease_options opt = {
        .lease_namespace = "ns", .name = "x", .identity = "me"};
    cr_assert_eq(lease_new(NULL, &opt, &l), ZL_OK);
    cr_assert_not(lease_is_leader(l));
    lease_stop(l);
    cr_assert(lease_finished(l));
    lease_free(l);
    opt.renew_deadline_ms = 20000;
    cr_assert_eq(lease_new(NULL, &opt, &l), ZL_ERR_INVALID);
    cr_assert_null(l);
    opt.renew_deadline_ms = 0;
    opt.identity = "";
    cr_assert_eq(lease_new(NULL, &opt, &l), ZL_ERR_INVALID);
}

/* SPDX-License-Identifier: Apache-2.0 */
/* The benchmarks' slice table: decoding of built-in and zen-lead slices,
 * probes firing on the first event that makes them true (with that
 * event's time), arming on a state that already holds, deletes, and the
 * largest endpoint count seen. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "slicetab.h"

/* A slice of service svc managed by `managed` with endpoints "pod:ready"
 * separated by commas ("" for none). */
static void feed(struct slicetab *t, int64_t t_ns, enum watch_type type,
                 const char *name, const char *svc, const char *managed,
                 const char *eps)
{
    char json[4096];
    char list[3000] = "";
    size_t used = 0;
    char copy[512];
    snprintf(copy, sizeof(copy), "%s", eps);
    for (char *save = NULL, *e = strtok_r(copy, ",", &save); e != NULL;
         e = strtok_r(NULL, ",", &save)) {
        char *colon = strchr(e, ':');
        *colon = '\0';
        used += (size_t)snprintf(
            list + used, sizeof(list) - used,
            "%s{\"addresses\":[\"10.244.0.1\"],\"conditions\":{\"ready\":%s,"
            "\"terminating\":false},\"targetRef\":{\"kind\":\"Pod\","
            "\"name\":\"%s\"}}",
            used > 0 ? "," : "", colon + 1, e);
    }
    snprintf(json, sizeof(json),
             "{\"kind\":\"EndpointSlice\",\"metadata\":{\"name\":\"%s\","
             "\"namespace\":\"ns\",\"labels\":{\"kubernetes.io/service-name\":"
             "\"%s\",\"endpointslice.kubernetes.io/managed-by\":\"%s\"}},"
             "\"addressType\":\"IPv4\",\"endpoints\":[%s]}",
             name, svc, managed, list);
    struct json_object *o = json_tokener_parse(json);
    cr_assert(o != NULL, "%s", json);
    slicetab_on_event(t, t_ns, type, o);
    json_object_put(o);
}

#define BUILTIN "endpointslice-controller.k8s.io"

static char P0[] = "p0";

/* The leader slice names a pod other than ctx. */
static bool moved(const struct slicetab *t, void *ctx)
{
    const struct slicetab_slice *s = slicetab_find(t, "ns", "fo-leader-ipv4");
    return s != NULL && s->n_ep == 1 && strcmp(s->ep[0].pod, ctx) != 0;
}

/* The built-in slice has pod ctx not ready (or not at all). */
static bool dropped(const struct slicetab *t, void *ctx)
{
    const struct slicetab_slice *s = slicetab_find(t, "ns", "fo-abcde");
    if (s == NULL)
        return false;
    for (int i = 0; i < s->n_ep; i++)
        if (strcmp(s->ep[i].pod, ctx) == 0 && s->ep[i].ready)
            return false;
    return true;
}

Test(slicetab, probes_fire_on_the_first_event_that_holds)
{
    struct slicetab *t;
    cr_assert_eq(slicetab_new(&t), ZL_OK);
    feed(t, 10, WATCH_ADDED, "fo-abcde", "fo", BUILTIN, "p0:true,p1:true");
    feed(t, 11, WATCH_ADDED, "fo-leader-ipv4", "fo-leader", "zen-lead",
         "p0:true");
    cr_expect(slicetab_arm(t, 0, dropped, P0));
    cr_expect(slicetab_arm(t, 1, moved, P0));
    feed(t, 20, WATCH_MODIFIED, "fo-leader-ipv4", "fo-leader", "zen-lead",
         "p0:false");
    feed(t, 30, WATCH_MODIFIED, "fo-abcde", "fo", BUILTIN, "p0:false,p1:true");
    feed(t, 40, WATCH_MODIFIED, "fo-leader-ipv4", "fo-leader", "zen-lead",
         "p1:true");
    feed(t, 50, WATCH_MODIFIED, "fo-abcde", "fo", BUILTIN, "p1:true");
    int64_t times[SLICETAB_MAX_PROBES];
    cr_expect(slicetab_wait(t, 0, times));
    cr_expect(eq(i64, times[0], 30));
    cr_expect(eq(i64, times[1], 40));
    cr_expect(eq(i64, times[2], 0), "unarmed slot");
    slicetab_free(t);
}

Test(slicetab, arming_on_a_state_that_holds_says_so)
{
    struct slicetab *t;
    cr_assert_eq(slicetab_new(&t), ZL_OK);
    feed(t, 10, WATCH_ADDED, "fo-abcde", "fo", BUILTIN, "p1:true");
    cr_expect(not(slicetab_arm(t, 0, dropped, P0)));
    slicetab_disarm(t, 0);
    int64_t times[SLICETAB_MAX_PROBES];
    cr_expect(slicetab_wait(t, 0, times), "nothing armed");
    slicetab_free(t);
}

Test(slicetab, decodes_kinds_and_deletes)
{
    struct slicetab *t;
    cr_assert_eq(slicetab_new(&t), ZL_OK);
    feed(t, 1, WATCH_ADDED, "fo-abcde", "fo", BUILTIN, "p0:true,p1:false");
    feed(t, 2, WATCH_ADDED, "fo-leader-ipv4", "fo-leader", "zen-lead", "");
    slicetab_lock(t);
    const struct slicetab_slice *b = slicetab_find(t, "ns", "fo-abcde");
    cr_assert(b != NULL);
    cr_expect(b->builtin && !b->zenlead);
    cr_expect(strcmp(b->service, "fo") == 0);
    cr_expect(eq(int, b->n_ep, 2));
    cr_expect(b->ep[0].ready && !b->ep[1].ready);
    const struct slicetab_slice *l = slicetab_find(t, "ns", "fo-leader-ipv4");
    cr_assert(l != NULL);
    cr_expect(l->zenlead && !l->builtin && l->n_ep == 0);
    cr_expect(eq(sz, slicetab_count(t), 2));
    slicetab_unlock(t);
    feed(t, 3, WATCH_DELETED, "fo-abcde", "fo", BUILTIN, "");
    slicetab_lock(t);
    cr_expect(slicetab_find(t, "ns", "fo-abcde") == NULL);
    slicetab_unlock(t);
    cr_expect(eq(u64, slicetab_events(t), 3));
    slicetab_free(t);
}

Test(slicetab, remembers_the_most_endpoints_of_a_zenlead_slice)
{
    struct slicetab *t;
    cr_assert_eq(slicetab_new(&t), ZL_OK);
    feed(t, 1, WATCH_ADDED, "fo-abcde", "fo", BUILTIN, "a:true,b:true,c:true");
    feed(t, 2, WATCH_ADDED, "fo-leader-ipv4", "fo-leader", "zen-lead",
         "a:true");
    cr_expect(eq(int, slicetab_max_zenlead_endpoints(t), 1));
    feed(t, 3, WATCH_MODIFIED, "fo-leader-ipv4", "fo-leader", "zen-lead",
         "a:true,b:true");
    feed(t, 4, WATCH_MODIFIED, "fo-leader-ipv4", "fo-leader", "zen-lead",
         "b:true");
    cr_expect(eq(int, slicetab_max_zenlead_endpoints(t), 2));
    slicetab_free(t);
}

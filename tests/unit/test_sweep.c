/* SPDX-License-Identifier: Apache-2.0 */
/* The sweep's keys: every enabled Service, and the source of every leader
 * Service and slice we made (sources gone or opted out included), nothing
 * for other objects. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "controller/sweep.h"
#include "kube/store.h"
#include "kube/views.h"

struct seen {
    char text[1024];
};

static void collect(void *ctx, const char *key)
{
    struct seen *s = ctx;
    strncat(s->text, s->text[0] ? "," : "", sizeof(s->text) - 1);
    strncat(s->text, key, sizeof(s->text) - strlen(s->text) - 1);
}

static void put(struct store *st, const char *json, bool slice)
{
    void *view = NULL;
    if (slice)
        cr_assert_eq(
            views_endpointslice_parse(json, strlen(json),
                                      (struct views_endpointslice **)&view),
            ZL_OK);
    else
        cr_assert_eq(views_service_parse(json, strlen(json),
                                         (struct views_service **)&view),
                     ZL_OK);
    cr_assert_eq(store_put(st, view, NULL), ZL_OK);
}

Test(sweep, keys)
{
    struct store *svcs = NULL, *slices = NULL;
    cr_assert_eq(store_new(&STORE_SERVICE_OPS, &svcs), ZL_OK);
    cr_assert_eq(store_new(&STORE_ENDPOINTSLICE_OPS, &slices), ZL_OK);
    put(svcs,
        "{\"metadata\":{\"namespace\":\"a\",\"name\":\"on\",\"annotations\":"
        "{\"zen-lead.io/enabled\":\"true\"}}}",
        false);
    put(svcs, "{\"metadata\":{\"namespace\":\"a\",\"name\":\"plain\"}}", false);
    put(svcs,
        "{\"metadata\":{\"namespace\":\"b\",\"name\":\"gone-leader\","
        "\"labels\":{\"app.kubernetes.io/managed-by\":\"zen-lead\","
        "\"zen-lead.io/source-service\":\"gone\"}}}",
        false);
    put(slices,
        "{\"metadata\":{\"namespace\":\"c\",\"name\":\"x-leader-ipv4\","
        "\"labels\":{\"zen-lead.io/source-service\":\"x\"}},"
        "\"addressType\":\"IPv4\"}",
        true);
    struct seen s = {{0}};
    size_t n = 0;
    cr_assert_eq(sweep_keys(svcs, slices, collect, &s, &n), ZL_OK);
    cr_expect_str_eq(s.text, "a/on,b/gone,c/x");
    cr_expect_eq(n, 3);
    store_free(svcs);
    store_free(slices);
}

/* SPDX-License-Identifier: Apache-2.0 */
/* LIST answers read into views: items parsed one by one, the filter, the
 * continue token, and what a bad page leaves behind. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "kube/listviews.h"

#define POD(name, app)                                                         \
    "{\"metadata\":{\"name\":\"" name "\",\"namespace\":\"ns\","               \
    "\"labels\":{\"app\":\"" app "\"}}}"
#define PAGE(items, meta)                                                      \
    "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{" meta          \
    "},\"items\":[" items "]}"

static bool keep_app_db(const void *ctx, const void *view)
{
    (void)ctx;
    const struct views_pod *pod = view;
    const char *app = views_map_get(&pod->meta.labels, "app");
    return app != NULL && strcmp(app, "db") == 0;
}

static void parse_ok(struct listviews *l, const char *body, char **token)
{
    cr_assert_eq(listviews_parse(l, body, strlen(body), token), ZL_OK);
}

Test(listviews, pages_append_and_the_continue_token_is_returned)
{
    struct listviews l = {.kind = VIEWS_KIND_POD};
    char *token = NULL;
    parse_ok(&l,
             PAGE(POD("a", "db") "," POD("b", "web"), "\"continue\":\"t1\""),
             &token);
    cr_assert_str_eq(token, "t1");
    free(token);
    parse_ok(&l, PAGE(POD("c", "db"), "\"resourceVersion\":\"9\""), &token);
    cr_assert_null(token);
    cr_assert_eq(l.count, 3);
    cr_assert_str_eq(((struct views_pod *)l.items[2])->meta.name, "c");
    void **items;
    size_t count;
    listviews_take(&l, &items, &count);
    cr_assert_eq(count, 3);
    cr_assert_eq(l.count, 0);
    cr_assert_null(l.items);
    for (size_t i = 0; i < count; i++)
        views_release(items[i]);
    free(items);
}

Test(listviews, the_filter_drops_views)
{
    struct listviews l = {.kind = VIEWS_KIND_POD, .keep = keep_app_db};
    parse_ok(&l,
             PAGE(POD("a", "db") "," POD("b", "web") "," POD("c", "db"), ""),
             NULL);
    cr_assert_eq(l.count, 2);
    cr_assert_str_eq(((struct views_pod *)l.items[1])->meta.name, "c");
    listviews_clear(&l);
    cr_assert_eq(l.count, 0);
}

Test(listviews, a_bad_page_keeps_only_what_was_there)
{
    static const char *const bad[] = {
        PAGE(POD("b", "db") ",{\"metadata\":{\"name\":5}}", ""),
        PAGE(POD("b", "db") ",", ""),
        "{\"items\":[" POD("b", "db"),
        "[]",
        "",
    };
    struct listviews l = {.kind = VIEWS_KIND_POD};
    parse_ok(&l, PAGE(POD("a", "db"), ""), NULL);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        static char unchanged[] = "unchanged";
        char *token = unchanged;
        cr_expect_neq(listviews_parse(&l, bad[i], strlen(bad[i]), &token),
                      ZL_OK, "case %zu", i);
        cr_expect_null(token, "case %zu", i);
        cr_expect_eq(l.count, 1, "case %zu", i);
    }
    listviews_clear(&l);
}

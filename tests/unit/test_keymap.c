/* SPDX-License-Identifier: Apache-2.0 */
/* The key map: set, keep-earliest, take, growth past many keys. */
#include <criterion/criterion.h>
#include <stdio.h>

#include "controller/keymap.h"

Test(keymap, set_min_take)
{
    struct keymap *m = NULL;
    int64_t v = 0;
    cr_assert_eq(keymap_new(&m), ZL_OK);
    cr_expect_not(keymap_get(m, "a", &v));
    cr_assert_eq(keymap_set_min(m, "a", 50), ZL_OK);
    cr_assert_eq(keymap_set_min(m, "a", 70), ZL_OK);
    cr_expect(keymap_get(m, "a", &v));
    cr_expect_eq(v, 50, "the earliest instant is kept");
    cr_assert_eq(keymap_set_min(m, "a", 10), ZL_OK);
    cr_expect(keymap_get(m, "a", &v));
    cr_expect_eq(v, 10);
    cr_assert_eq(keymap_set(m, "a", 99), ZL_OK);
    cr_expect(keymap_take(m, "a", &v));
    cr_expect_eq(v, 99);
    cr_expect_not(keymap_take(m, "a", &v), "taken once");
    cr_expect_eq(keymap_len(m), 0);
    keymap_free(m);
}

Test(keymap, many_keys)
{
    struct keymap *m = NULL;
    char key[32];
    int64_t v;
    cr_assert_eq(keymap_new(&m), ZL_OK);
    for (int i = 0; i < 5000; i++) {
        snprintf(key, sizeof(key), "ns/svc-%d", i);
        cr_assert_eq(keymap_set(m, key, i), ZL_OK);
    }
    cr_expect_eq(keymap_len(m), 5000);
    keymap_clear(m);
    cr_expect_eq(keymap_len(m), 0);
    cr_expect_not(keymap_get(m, "ns/svc-7", &v));
    for (int i = 0; i < 5000; i++) {
        snprintf(key, sizeof(key), "ns/svc-%d", i);
        cr_assert_eq(keymap_set(m, key, i), ZL_OK);
    }
    for (int i = 0; i < 5000; i += 7) {
        snprintf(key, sizeof(key), "ns/svc-%d", i);
        cr_expect(keymap_get(m, key, &v));
        cr_expect_eq(v, i);
    }
    keymap_free(m);
}

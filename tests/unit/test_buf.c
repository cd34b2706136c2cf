/* SPDX-License-Identifier: Apache-2.0 */
/* The bounded growable buffer: growth, the hard maximum, take and consume. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"

Test(buf, starts_empty_without_allocating)
{
    struct buf b;
    buf_init(&b, 100);
    cr_expect_null(b.data);
    cr_expect_eq(b.len, 0);
    buf_cleanup(&b);
}

Test(buf, appends_and_terminates)
{
    struct buf b;
    buf_init(&b, 1000);
    cr_assert_eq(buf_puts(&b, "hello"), ZL_OK);
    cr_assert_eq(buf_putc(&b, ' '), ZL_OK);
    cr_assert_eq(buf_printf(&b, "%d-%s", 42, "x"), ZL_OK);
    cr_expect_str_eq(b.data, "hello 42-x");
    cr_expect_eq(b.len, 10);
    buf_cleanup(&b);
}

Test(buf, grows_past_initial_capacity)
{
    struct buf b;
    buf_init(&b, 1 << 20);
    for (int i = 0; i < 10000; i++)
        cr_assert_eq(buf_putc(&b, (char)('a' + i % 26)), ZL_OK);
    cr_expect_eq(b.len, 10000);
    cr_expect_eq(b.data[9999], (char)('a' + 9999 % 26));
    cr_expect_eq(b.data[10000], '\0');
    buf_cleanup(&b);
}

Test(buf, refuses_to_exceed_max_and_keeps_content)
{
    struct buf b;
    buf_init(&b, 8);
    cr_assert_eq(buf_puts(&b, "12345678"), ZL_OK);
    cr_expect_eq(buf_putc(&b, '9'), ZL_ERR_LIMIT);
    cr_expect_eq(buf_printf(&b, "%s", "x"), ZL_ERR_LIMIT);
    cr_expect_str_eq(b.data, "12345678");
    cr_expect_leq(b.cap, 9);
    buf_cleanup(&b);
}

Test(buf, refuses_oversized_single_append)
{
    struct buf b;
    buf_init(&b, 4);
    cr_expect_eq(buf_append(&b, "12345", 5), ZL_ERR_LIMIT);
    cr_expect_null(b.data);
    cr_expect_eq(buf_append(&b, "x", SIZE_MAX), ZL_ERR_LIMIT);
    buf_cleanup(&b);
}

Test(buf, consume_moves_rest_down)
{
    struct buf b;
    buf_init(&b, 100);
    cr_assert_eq(buf_puts(&b, "line1\nline2"), ZL_OK);
    buf_consume(&b, 6);
    cr_expect_str_eq(b.data, "line2");
    buf_consume(&b, 99);
    cr_expect_str_eq(b.data, "");
    cr_expect_eq(b.len, 0);
    buf_cleanup(&b);
}

Test(buf, take_hands_over_and_empties)
{
    struct buf b;
    buf_init(&b, 100);
    char *empty = buf_take(&b);
    cr_assert_not_null(empty);
    cr_expect_str_eq(empty, "");
    free(empty);
    cr_assert_eq(buf_puts(&b, "abc"), ZL_OK);
    char *s = buf_take(&b);
    cr_expect_str_eq(s, "abc");
    cr_expect_null(b.data);
    cr_expect_eq(b.len, 0);
    free(s);
    buf_cleanup(&b);
}

Test(buf, reset_keeps_memory)
{
    struct buf b;
    buf_init(&b, 100);
    cr_assert_eq(buf_puts(&b, "abc"), ZL_OK);
    char *before = b.data;
    buf_reset(&b);
    cr_expect_eq(b.data, before);
    cr_expect_str_eq(b.data, "");
    buf_cleanup(&b);
    buf_cleanup(NULL);
}

/* COPY text rows and formatting helpers of the PostgreSQL sink (no server). */
#include "rating/rt_pg.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static const char *
row(const char *s, size_t n)
{
    static struct rt_pg_buf b;
    rt_pg_buf_free(&b);
    rt_pg_copy_text(&b, s, n);
    rt_pg_copy_null(&b);
    rt_pg_copy_int(&b, -42);
    rt_pg_copy_end_row(&b);
    return rt_pg_buf_cstr(&b);
}

static void
test_copy_escapes_backslash_tab_newline_and_cr(void **state)
{
    (void)state;
    assert_string_equal(row("a\\b\tc\nd\re", 9), "a\\\\b\\tc\\nd\\re\t\\N\t-42\n");
    /* a lone "\." can never reach the server as an end-of-data line */
    assert_string_equal(row("\\.", 2), "\\\\.\t\\N\t-42\n");
    assert_string_equal(row("", 0), "\t\\N\t-42\n");
}

static void
test_copy_keeps_valid_utf8_and_replaces_invalid_bytes(void **state)
{
    (void)state;
    static const char ok[] = "M\xc3\xbcller \xe2\x82\xac \xf0\x9f\x93\x9e";
    static const char bad[] =
        "a\0b\x80" "c\xc0\xaf" "d\xed\xa0\x80" "e\xe2\x82";
    assert_string_equal(row(ok, sizeof ok - 1),
                        "M\xc3\xbcller \xe2\x82\xac \xf0\x9f\x93\x9e\t\\N\t-42\n");
    const char *fffd = "\xef\xbf\xbd";
    char want[64];
    /* NUL, lone continuation, overlong '/', surrogate, truncated sequence */
    snprintf(want, sizeof want, "a%sb%sc%s%sd%s%s%se%s%s\t\\N\t-42\n", fffd,
             fffd, fffd, fffd, fffd, fffd, fffd, fffd, fffd);
    assert_string_equal(row(bad, sizeof bad - 1), want);
}

static void
test_array_elements_are_quoted_and_escaped(void **state)
{
    struct rt_pg_buf b;
    (void)state;
    rt_pg_buf_init(&b);
    rt_pg_buf_add(&b, "{", 1);
    rt_pg_array_elem(&b, "CA1", 3);
    rt_pg_array_elem(&b, "a\"b\\c,d}", 8);
    rt_pg_buf_add(&b, "}", 1);
    assert_string_equal(rt_pg_buf_cstr(&b), "{\"CA1\",\"a\\\"b\\\\c,d}\"}");
    rt_pg_buf_free(&b);
}

static void
test_times_are_utc_iso8601(void **state)
{
    char buf[32];
    (void)state;
    rt_pg_format_time(0, buf, sizeof buf);
    assert_string_equal(buf, "1970-01-01T00:00:00Z");
    rt_pg_format_time(-1, buf, sizeof buf);
    assert_string_equal(buf, "1969-12-31T23:59:59Z");
    rt_pg_format_time(1709164800 + 3661, buf, sizeof buf);
    assert_string_equal(buf, "2024-02-29T01:01:01Z");
    rt_pg_format_time(1778400000, buf, sizeof buf);
    assert_string_equal(buf, "2026-05-10T08:00:00Z");
}

static void
test_nano_amounts_print_exactly(void **state)
{
    char buf[40];
    (void)state;
    rt_pg_format_nano(4500000, 6, buf, sizeof buf);
    assert_string_equal(buf, "0.004500");
    rt_pg_format_nano(-15000000, 4, buf, sizeof buf);
    assert_string_equal(buf, "-0.0150");
    rt_pg_format_nano(123000000000, 0, buf, sizeof buf);
    assert_string_equal(buf, "123");
    rt_pg_format_nano(1, 9, buf, sizeof buf);
    assert_string_equal(buf, "0.000000001");
    rt_pg_format_nano(INT64_MIN, 9, buf, sizeof buf);
    assert_string_equal(buf, "-9223372036.854775808");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_copy_escapes_backslash_tab_newline_and_cr),
        cmocka_unit_test(test_copy_keeps_valid_utf8_and_replaces_invalid_bytes),
        cmocka_unit_test(test_array_elements_are_quoted_and_escaped),
        cmocka_unit_test(test_times_are_utc_iso8601),
        cmocka_unit_test(test_nano_amounts_print_exactly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

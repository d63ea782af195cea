/* COPY text rows and formatting helpers of the PostgreSQL sink (no server). */
#include "rating/pg/rt_pg.h"
#include "cdr/util/cdr_time.h"

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
    assert_string_equal(row("a\\b\tc\nd\re", 9),
                        "a\\\\b\\tc\\nd\\re\t\\N\t-42\n");
    /* a lone "\." can never reach the server as an end-of-data line */
    assert_string_equal(row("\\.", 2), "\\\\.\t\\N\t-42\n");
    assert_string_equal(row("", 0), "\t\\N\t-42\n");
}

static void
test_copy_keeps_valid_utf8_and_replaces_invalid_bytes(void **state)
{
    (void)state;
    static const char ok[] = "M\xc3\xbcller \xe2\x82\xac \xf0\x9f\x93\x9e";
    static const char bad[] = "a\0b\x80"
                              "c\xc0\xaf"
                              "d\xed\xa0\x80"
                              "e\xe2\x82";
    assert_string_equal(
        row(ok, sizeof ok - 1),
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
    cdr_time_format(0, buf, sizeof buf);
    assert_string_equal(buf, "1970-01-01T00:00:00Z");
    cdr_time_format(-1, buf, sizeof buf);
    assert_string_equal(buf, "1969-12-31T23:59:59Z");
    cdr_time_format(1709164800 + 3661, buf, sizeof buf);
    assert_string_equal(buf, "2024-02-29T01:01:01Z");
    cdr_time_format(1778400000, buf, sizeof buf);
    assert_string_equal(buf, "2026-05-10T08:00:00Z");
}

/* One numeric field, text COPY: its text, or "" when the buffer went bad. */
static const char *
nano_field(int64_t nano, int places)
{
    static struct rt_pg_buf b;
    rt_pg_buf_free(&b);
    rt_pg_copy_nano(&b, nano, places);
    return b.bad ? "" : rt_pg_buf_cstr(&b);
}

/* Amounts go through the codec (cdr_decimal_format): exact, and an
 * amount with digits beyond its places is refused, never cut. */
static void
test_nano_amounts_print_exactly(void **state)
{
    (void)state;
    assert_string_equal(nano_field(4500000, 6), "0.004500");
    assert_string_equal(nano_field(-15000000, 4), "-0.0150");
    assert_string_equal(nano_field(123000000000, 0), "123");
    assert_string_equal(nano_field(1, 9), "0.000000001");
    assert_string_equal(nano_field(INT64_MIN, 9), "-9223372036.854775808");
    assert_string_equal(nano_field(4500001, 6), "");
    assert_string_equal(nano_field(1, 0), "");
}

/* A numeric given as text must be an exact decimal, in either format:
 * the buffer goes bad, and says so, rather than the server failing the
 * whole COPY (or, binary, reading garbage). */
static void
test_numeric_text_must_be_a_decimal(void **state)
{
    struct rt_pg_buf b;
    struct cdr_diag d;
    (void)state;
    for (int binary = 0; binary <= 1; binary++) {
        rt_pg_buf_init(&b);
        b.binary = binary;
        rt_pg_copy_numeric(&b, "-0.036000000001", 15);
        assert_false(b.bad);
        cdr_diag_clear(&d);
        assert_int_equal(rt_pg_buf_error(&b, "rows", &d), 0);
        rt_pg_copy_numeric(&b, "1e3", 3);
        assert_true(b.bad);
        assert_int_equal(rt_pg_buf_error(&b, "rows", &d), CDR_E_BAD_NUMBER);
        assert_non_null(strstr(d.message, "exactly"));
        rt_pg_buf_free(&b);
    }
}

/* numeric_recv's layout, worked out by hand: ndigits, weight, sign,
 * dscale, then base-10000 digits. */
static void
expect_numeric(const char *text, const uint16_t *want, size_t n_want)
{
    char out[8 + 2 * RT_PG_NUMERIC_MAX_DIGITS];
    size_t len = 0;
    assert_int_equal(
        rt_pg_numeric_binary(text, strlen(text), out, sizeof out, &len), 0);
    assert_int_equal(len, 2 * n_want);
    for (size_t i = 0; i < n_want; i++) {
        uint16_t got = (uint16_t)(((unsigned char)out[2 * i] << 8) |
                                  (unsigned char)out[2 * i + 1]);
        assert_int_equal(got, want[i]);
    }
}

static void
test_numeric_binary_layout(void **state)
{
    (void)state;
    /* 12345.6789 = 1 * 10000^1 + 2345 + 6789 / 10000 */
    expect_numeric("12345.6789", (const uint16_t[]){3, 1, 0, 4, 1, 2345, 6789},
                   7);
    /* 0.005200: one digit 52 of weight -1, scale 6 kept */
    expect_numeric("0.005200", (const uint16_t[]){1, 0xffff, 0, 6, 52}, 5);
    /* 0.00001: the zero group moves the weight to -2 */
    expect_numeric("0.00001", (const uint16_t[]){1, 0xfffe, 0, 5, 1000}, 5);
    /* trailing zero groups are dropped, the weight says where */
    expect_numeric("10000", (const uint16_t[]){1, 1, 0, 0, 1}, 5);
    expect_numeric("-0.0085", (const uint16_t[]){1, 0xffff, 0x4000, 4, 85}, 5);
    /* zero, and a negative zero, are positive with no digits */
    expect_numeric("0", (const uint16_t[]){0, 0, 0, 0}, 4);
    expect_numeric("-0.00", (const uint16_t[]){0, 0, 0, 2}, 4);
    expect_numeric("007.50", (const uint16_t[]){2, 0, 0, 2, 7, 5000}, 6);
}

static void
test_numeric_binary_refuses_what_is_not_a_decimal(void **state)
{
    (void)state;
    static const char *const bad[] = {"",   "-",     ".5", "5.",   "1e5",
                                      "+1", "1.2.3", " 1", "0x10", "--1"};
    char out[8 + 2 * RT_PG_NUMERIC_MAX_DIGITS], big[400];
    size_t len;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(
            rt_pg_numeric_binary(bad[i], strlen(bad[i]), out, sizeof out, &len),
            -1);
    /* more digits than the buffer holds */
    memset(big, '9', sizeof big);
    assert_int_equal(
        rt_pg_numeric_binary(big, sizeof big, out, sizeof out, &len), -1);
    /* and a buffer too small for the digits */
    assert_int_equal(rt_pg_numeric_binary("12345.6789", 10, out, 12, &len), -1);
}

/* Binary rows: field count, then length-prefixed values; -1 for NULL. */
static void
test_binary_rows(void **state)
{
    (void)state;
    struct rt_pg_buf b;
    /* four fields: text "ab", NULL, bigint -42, timestamptz 2000-01-01
     * (PostgreSQL's epoch: 0 microseconds) */
    static const unsigned char want[] = {
        0, 4, 0, 0, 0,    2,    'a',  'b',  0xff, 0xff, 0xff, 0xff,
        0, 0, 0, 8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xd6,
        0, 0, 0, 8, 0,    0,    0,    0,    0,    0,    0,    0};
    rt_pg_buf_init(&b);
    b.binary = 1;
    rt_pg_copy_text(&b, "ab", 2);
    rt_pg_copy_null(&b);
    rt_pg_copy_int(&b, -42);
    rt_pg_copy_time(&b, 946684800);
    rt_pg_copy_end_row(&b);
    assert_false(b.oom);
    assert_int_equal(b.n, sizeof want);
    assert_memory_equal(b.p, want, sizeof want);
    /* an invalid byte is replaced, and the length says so */
    rt_pg_buf_reset(&b);
    rt_pg_copy_text(&b, "\xff", 1);
    rt_pg_copy_end_row(&b);
    assert_int_equal(b.n, 2 + 4 + 3);
    assert_memory_equal(b.p, "\0\1\0\0\0\3\xef\xbf\xbd", 9);
    rt_pg_buf_free(&b);
}

/* The cleaner skips plain ASCII a word at a time: a bad byte, a NUL or a
 * multi-byte character at any place of a long value, in or after a word,
 * must come out exactly as the byte-by-byte rule says. */
static void
test_clean_finds_odd_bytes_at_every_position(void **state)
{
    static const struct {
        const char *in, *out;
    } odd[] = {
        {"\xff", "\xef\xbf\xbd"}, {"\x80", "\xef\xbf\xbd"},
        {"\x7f", "\x7f"},         {"\x01", "\x01"},
        {"\xc3\xbc", "\xc3\xbc"}, {"\xe2\x82", "\xef\xbf\xbd\xef\xbf\xbd"}};
    (void)state;
    for (size_t k = 0; k < sizeof odd / sizeof odd[0]; k++)
        for (size_t len = 1; len <= 24; len++)
            for (size_t at = 0; at < len; at++) {
                char in[40], want[80];
                struct rt_pg_buf b;
                size_t n = 0, m = 0, oin = strlen(odd[k].in);
                for (size_t i = 0; i < len; i++) {
                    if (i == at) {
                        memcpy(in + n, odd[k].in, oin);
                        n += oin;
                        memcpy(want + m, odd[k].out, strlen(odd[k].out));
                        m += strlen(odd[k].out);
                    } else {
                        in[n++] = (char)('a' + i % 26);
                        want[m++] = (char)('a' + i % 26);
                    }
                }
                rt_pg_buf_init(&b);
                rt_pg_add_clean(&b, in, n);
                assert_int_equal(b.n, m);
                assert_memory_equal(b.p, want, m);
                /* a NUL too, which strlen could not place */
                rt_pg_buf_reset(&b);
                in[at] = '\0';
                rt_pg_add_clean(&b, in, n);
                assert_memory_equal(b.p + at, "\xef\xbf\xbd", 3);
                rt_pg_buf_free(&b);
            }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_copy_escapes_backslash_tab_newline_and_cr),
        cmocka_unit_test(test_copy_keeps_valid_utf8_and_replaces_invalid_bytes),
        cmocka_unit_test(test_array_elements_are_quoted_and_escaped),
        cmocka_unit_test(test_clean_finds_odd_bytes_at_every_position),
        cmocka_unit_test(test_times_are_utc_iso8601),
        cmocka_unit_test(test_nano_amounts_print_exactly),
        cmocka_unit_test(test_numeric_text_must_be_a_decimal),
        cmocka_unit_test(test_numeric_binary_layout),
        cmocka_unit_test(test_numeric_binary_refuses_what_is_not_a_decimal),
        cmocka_unit_test(test_binary_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

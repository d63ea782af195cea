/*
 * The one exact-decimal codec: strict parsing at every scale, and
 * formatting that never rounds (64 and 128 bits).
 */
#include "cdr/util/cdr_decimal.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

struct pcase {
    const char *in;
    int scale, places, neg;
    int rc;
    int64_t v;
};

static void
run_parse_cases(const struct pcase *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int64_t v = 777;
        int rc = cdr_decimal_parse(c[i].in, strlen(c[i].in), c[i].scale,
                                   c[i].places, c[i].neg, &v);
        if (rc != c[i].rc)
            fail_msg("\"%s\" (scale %d, places %d): rc %d (%s), want %d",
                     c[i].in, c[i].scale, c[i].places, rc,
                     cdr_decimal_strerror(rc), c[i].rc);
        if (rc == 0 && v != c[i].v)
            fail_msg("\"%s\": %lld", c[i].in, (long long)v);
        if (rc != 0 && v != 777)
            fail_msg("\"%s\": output written on failure", c[i].in);
    }
}

static void
test_whole_numbers_take_digits_and_refuse_the_rest(void **state)
{
    (void)state;
    static const struct pcase c[] = {
        {"0", 0, 0, 0, 0, 0},
        {"42", 0, 0, 0, 0, 42},
        {"007", 0, 0, 0, 0, 7},
        {"9223372036854775807", 0, 0, 0, 0, INT64_MAX},
        {"9223372036854775808", 0, 0, 0, CDR_DEC_RANGE, 0},
        {"18446744073709551616", 0, 0, 0, CDR_DEC_RANGE, 0},
        {"", 0, 0, 0, CDR_DEC_EMPTY, 0},
        {"-1", 0, 0, 0, CDR_DEC_NEGATIVE, 0},
        {"+1", 0, 0, 0, CDR_DEC_SYNTAX, 0},
        {" 1", 0, 0, 0, CDR_DEC_SYNTAX, 0},
        {"1 ", 0, 0, 0, CDR_DEC_SYNTAX, 0},
        {"1.0", 0, 0, 0, CDR_DEC_PLACES, 0},
        {"1e3", 0, 0, 0, CDR_DEC_SYNTAX, 0},
        {"0x10", 0, 0, 0, CDR_DEC_SYNTAX, 0},
        {"-0", 0, 0, 1, 0, 0},
        {"-42", 0, 0, 1, 0, -42},
        {"-9223372036854775807", 0, 0, 1, 0, -INT64_MAX},
        {"-9223372036854775808", 0, 0, 1, CDR_DEC_RANGE, 0},
        {"-", 0, 0, 1, CDR_DEC_SYNTAX, 0},
        {"--1", 0, 0, 1, CDR_DEC_SYNTAX, 0},
        {"- 1", 0, 0, 1, CDR_DEC_SYNTAX, 0},
        {"1-", 0, 0, 1, CDR_DEC_SYNTAX, 0},
    };
    run_parse_cases(c, N_ELEMS(c));
}

static void
test_decimals_are_exact_nano_units(void **state)
{
    (void)state;
    static const struct pcase c[] = {
        {"0", 9, 9, 1, 0, 0},
        {"12", 9, 9, 1, 0, 12000000000},
        {"-0.0150", 9, 9, 1, 0, -15000000},
        {"0.0045", 9, 9, 0, 0, 4500000},
        {"007.5", 9, 9, 0, 0, 7500000000LL},
        {"0.000000001", 9, 9, 1, 0, 1},
        {"-0.000000001", 9, 9, 1, 0, -1},
        {"1.123456789", 9, 9, 1, 0, 1123456789},
        {"9223372036.854775807", 9, 9, 1, 0, INT64_MAX},
        {"-9223372036.854775807", 9, 9, 1, 0, -INT64_MAX},
        {"9223372036.854775808", 9, 9, 1, CDR_DEC_RANGE, 0},
        {"9223372037", 9, 9, 1, CDR_DEC_RANGE, 0},
        {"99999999999999999999999", 9, 9, 1, CDR_DEC_RANGE, 0},
        {"0.0000000001", 9, 9, 1, CDR_DEC_PLACES, 0},
        {"1.0000000000", 9, 9, 1, CDR_DEC_PLACES, 0},
        {"0.1234567891", 9, 9, 0, CDR_DEC_PLACES, 0},
        {".5", 9, 9, 1, CDR_DEC_SYNTAX, 0},
        {"5.", 9, 9, 1, CDR_DEC_NO_FRACTION, 0},
        {"-", 9, 9, 1, CDR_DEC_SYNTAX, 0},
        {"", 9, 9, 1, CDR_DEC_EMPTY, 0},
        {"-1", 9, 9, 0, CDR_DEC_NEGATIVE, 0},
        {"+1", 9, 9, 1, CDR_DEC_SYNTAX, 0},
        {"1e3", 9, 9, 1, CDR_DEC_SYNTAX, 0},
        {"1.5E-3", 9, 9, 1, CDR_DEC_SYNTAX, 0},
        {" 1.5", 9, 9, 1, CDR_DEC_SYNTAX, 0},
        {"1.5 ", 9, 9, 1, CDR_DEC_SYNTAX, 0},
        {"1 .5", 9, 9, 1, CDR_DEC_SYNTAX, 0},
        {"1,5", 9, 9, 1, CDR_DEC_SYNTAX, 0},
        {"--1", 9, 9, 1, CDR_DEC_SYNTAX, 0},
        {"0x1", 9, 9, 1, CDR_DEC_SYNTAX, 0},
        {"1.2.3", 9, 9, 1, CDR_DEC_SYNTAX, 0},
        /* fewer places allowed than the scale holds: a fee of a 4-place
         * deck */
        {"0.0100", 9, 4, 0, 0, 10000000},
        {"0.01000", 9, 4, 0, CDR_DEC_PLACES, 0},
        {"1", 9, 10, 0, CDR_DEC_SCALE, 0},
        {"1", 10, 9, 0, CDR_DEC_SCALE, 0},
    };
    run_parse_cases(c, N_ELEMS(c));
}

static void
test_parse_never_reads_past_the_given_length(void **state)
{
    (void)state;
    int64_t v = 0;
    assert_int_equal(cdr_decimal_parse("0.0045999", 6, 9, 9, 0, &v), 0);
    assert_int_equal(v, 4500000);
    assert_int_equal(cdr_decimal_parse("-12", 2, 0, 0, 1, &v), 0);
    assert_int_equal(v, -1);
    assert_int_equal(cdr_decimal_parse("12345", 2, 0, 0, 0, &v), 0);
    assert_int_equal(v, 12);
}

/* The same rule with any number of places: the parts point into the
 * text, leading zeros and all. */
static void
test_split_takes_any_places_by_the_same_rule(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        int rc, neg;
        const char *whole, *frac;
    } c[] = {
        {"0", 0, 0, "0", ""},
        {"-0.0360000000001", 0, 1, "0", "0360000000001"},
        {"007.50", 0, 0, "007", "50"},
        {"123456789012345678901234.123456789", 0, 0, "123456789012345678901234",
         "123456789"},
        {"", CDR_DEC_EMPTY, 0, "", ""},
        {"-", CDR_DEC_SYNTAX, 0, "", ""},
        {".5", CDR_DEC_SYNTAX, 0, "", ""},
        {"5.", CDR_DEC_NO_FRACTION, 0, "", ""},
        {"5.x", CDR_DEC_NO_FRACTION, 0, "", ""},
        {"+1", CDR_DEC_SYNTAX, 0, "", ""},
        {"1e3", CDR_DEC_SYNTAX, 0, "", ""},
        {"1.2.3", CDR_DEC_SYNTAX, 0, "", ""},
        {"1 ", CDR_DEC_SYNTAX, 0, "", ""},
        {"--1", CDR_DEC_SYNTAX, 0, "", ""},
    };
    for (size_t i = 0; i < N_ELEMS(c); i++) {
        struct cdr_decimal_parts v = {.whole_n = 777};
        int rc = cdr_decimal_split(c[i].in, strlen(c[i].in), &v);
        if (rc != c[i].rc)
            fail_msg("\"%s\": rc %d, want %d", c[i].in, rc, c[i].rc);
        if (rc != 0) {
            assert_int_equal(v.whole_n, 777); /* untouched */
            continue;
        }
        assert_int_equal(v.negative, c[i].neg);
        assert_int_equal(v.whole_n, strlen(c[i].whole));
        assert_memory_equal(v.whole, c[i].whole, v.whole_n);
        assert_int_equal(v.frac_n, strlen(c[i].frac));
        if (v.frac_n > 0)
            assert_memory_equal(v.frac, c[i].frac, v.frac_n);
    }
    /* never past n */
    struct cdr_decimal_parts v;
    assert_int_equal(cdr_decimal_split("12.5x", 4, &v), 0);
    assert_int_equal(v.frac_n, 1);
}

static void
test_format_writes_exactly_the_places_asked(void **state)
{
    (void)state;
    static const struct {
        cdr_i128 v;
        int scale, places;
        const char *want;
    } c[] = {
        {-4500000, 9, 6, "-0.004500"},
        {0, 9, 0, "0"},
        {0, 9, 6, "0.000000"},
        {1000000000, 9, 0, "1"},
        {-1000000000, 9, 2, "-1.00"},
        {12340000000LL, 9, 2, "12.34"},
        {5, 9, 9, "0.000000005"},
        {-5, 9, 9, "-0.000000005"},
        {INT64_MAX, 9, 9, "9223372036.854775807"},
        {INT64_MIN, 9, 9, "-9223372036.854775808"},
        {75000, 9, 6, "0.000075"},
        {42, 0, 0, "42"},
        {-7, 0, 0, "-7"},
        {INT64_MIN, 0, 0, "-9223372036854775808"},
        {(cdr_i128)INT64_MAX * 4, 9, 9, "36893488147.419103228"},
        {-(cdr_i128)INT64_MAX * 1000, 9, 9, "-9223372036854.775807000"},
    };
    for (size_t i = 0; i < N_ELEMS(c); i++) {
        char buf[48];
        int n = cdr_decimal_format(c[i].v, c[i].scale, c[i].places, buf,
                                   sizeof buf);
        if (n < 0)
            fail_msg("case %zu: refused", i);
        assert_string_equal(buf, c[i].want);
        assert_int_equal(n, (int)strlen(c[i].want));
    }
}

static void
test_format_refuses_to_drop_digits_or_overrun(void **state)
{
    (void)state;
    char buf[48];
    assert_int_equal(cdr_decimal_format(1500000000, 9, 0, buf, sizeof buf), -1);
    assert_int_equal(cdr_decimal_format(4500000, 9, 2, buf, sizeof buf), -1);
    assert_int_equal(cdr_decimal_format(-4500000, 9, 6, buf, 9), -1);
    assert_int_equal(cdr_decimal_format(-4500000, 9, 6, buf, 10), 9);
    assert_int_equal(cdr_decimal_format(1, 9, 10, buf, sizeof buf), -1);
    assert_int_equal(cdr_decimal_format(1, 0, 1, buf, sizeof buf), -1);
    assert_int_equal(
        cdr_decimal_format((cdr_i128)INT64_MAX * 4 + 1, 9, 8, buf, sizeof buf),
        -1);
    assert_int_equal(cdr_decimal_format(0, 9, 6, buf, 0), -1);
}

static void
test_formatted_values_parse_back(void **state)
{
    (void)state;
    static const int64_t vals[] = {0,    1,         -1,         4500000,
                                   -999, INT64_MAX, -INT64_MAX, 60000000000};
    for (size_t i = 0; i < N_ELEMS(vals); i++) {
        char buf[48];
        assert_true(cdr_decimal_format(vals[i], 9, 9, buf, sizeof buf) > 0);
        int64_t back;
        assert_int_equal(cdr_decimal_parse(buf, strlen(buf), 9, 9, 1, &back),
                         0);
        assert_true(back == vals[i]);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_whole_numbers_take_digits_and_refuse_the_rest),
        cmocka_unit_test(test_decimals_are_exact_nano_units),
        cmocka_unit_test(test_parse_never_reads_past_the_given_length),
        cmocka_unit_test(test_split_takes_any_places_by_the_same_rule),
        cmocka_unit_test(test_format_writes_exactly_the_places_asked),
        cmocka_unit_test(test_format_refuses_to_drop_digits_or_overrun),
        cmocka_unit_test(test_formatted_values_parse_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

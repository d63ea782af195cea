/*
 * rt_money: strict rate parsing, one rounding per component in every mode,
 * overflow and exact formatting.
 */
#include "rating/price/rt_money.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

struct amount_case {
    int64_t rate;
    int64_t seconds;
    int decimals;
    enum rt_rounding mode;
    int64_t want;
};

static void
check_amounts(const struct amount_case *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int64_t got = 0x5a5a;
        int rc = rt_money_amount(c[i].rate, c[i].seconds, c[i].decimals,
                                 c[i].mode, &got);
        if (rc != 0 || got != c[i].want)
            print_error("case %zu: rate %lld x %lld s, %d places, %s: got "
                        "%lld (rc %d), want %lld\n",
                        i, (long long)c[i].rate, (long long)c[i].seconds,
                        c[i].decimals, rt_rounding_name(c[i].mode),
                        (long long)got, rc, (long long)c[i].want);
        assert_int_equal(rc, 0);
        assert_int_equal(got, c[i].want);
    }
}

#define HU RT_ROUND_HALF_UP
#define HE RT_ROUND_HALF_EVEN
#define UP RT_ROUND_UP
#define DN RT_ROUND_DOWN

/* 0.000003/min x 10 s = 0.0000005: a tie at 6 places, even neighbour 0. */
static void
test_six_places_tie_rounds_per_mode(void **state)
{
    (void)state;
    static const struct amount_case c[] = {
        {3000, 10, 6, HU, 1000},
        {3000, 10, 6, HE, 0},
        {3000, 10, 6, UP, 1000},
        {3000, 10, 6, DN, 0},
        /* 0.0000015: the even neighbour is 0.000002 */
        {9000, 10, 6, HU, 2000},
        {9000, 10, 6, HE, 2000},
        {9000, 10, 6, UP, 2000},
        {9000, 10, 6, DN, 1000},
        /* negative ties mirror: away from zero is more negative */
        {-3000, 10, 6, HU, -1000},
        {-3000, 10, 6, HE, 0},
        {-3000, 10, 6, UP, -1000},
        {-3000, 10, 6, DN, 0},
        {-9000, 10, 6, HU, -2000},
        {-9000, 10, 6, HE, -2000},
        {-9000, 10, 6, UP, -2000},
        {-9000, 10, 6, DN, -1000},
        {3000, -10, 6, HU, -1000},
        {3000, -10, 6, HE, 0},
    };
    check_amounts(c, N_ELEMS(c));
}

/* 0.00000055 and 0.00000045: just above and below the tie. */
static void
test_six_places_just_off_a_tie_goes_to_nearest(void **state)
{
    (void)state;
    static const struct amount_case c[] = {
        {3000, 11, 6, HU, 1000},   {3000, 11, 6, HE, 1000},
        {3000, 11, 6, UP, 1000},   {3000, 11, 6, DN, 0},
        {3000, 9, 6, HU, 0},       {3000, 9, 6, HE, 0},
        {3000, 9, 6, UP, 1000},    {3000, 9, 6, DN, 0},
        {-3000, 11, 6, HU, -1000}, {-3000, 11, 6, HE, -1000},
        {-3000, 11, 6, UP, -1000}, {-3000, 11, 6, DN, 0},
        {-3000, 9, 6, HU, 0},      {-3000, 9, 6, HE, 0},
        {-3000, 9, 6, UP, -1000},  {-3000, 9, 6, DN, 0},
    };
    check_amounts(c, N_ELEMS(c));
}

static void
test_exact_amounts_are_not_rounded(void **state)
{
    (void)state;
    static const struct amount_case c[] = {
        /* 0.0045/min: 60 s = 0.0045, 1 s = 0.000075, 66 s = 0.00495 */
        {4500000, 60, 6, UP, 4500000}, {4500000, 1, 6, DN, 75000},
        {4500000, 66, 6, HU, 4950000}, {4500000, 0, 6, UP, 0},
        {0, 3600, 6, UP, 0},           {-4500000, 60, 6, DN, -4500000},
    };
    check_amounts(c, N_ELEMS(c));
}

static void
test_two_places_ties_and_neighbours(void **state)
{
    (void)state;
    static const struct amount_case c[] = {
        /* 0.30/min x 1 s = 0.005 */
        {300000000, 1, 2, HU, 10000000},
        {300000000, 1, 2, HE, 0},
        {300000000, 1, 2, UP, 10000000},
        {300000000, 1, 2, DN, 0},
        /* 0.90/min x 1 s = 0.015 -> even is 0.02 */
        {900000000, 1, 2, HE, 20000000},
        {900000000, 1, 2, DN, 10000000},
        /* 0.0045 x 66 s = 0.00495 -> 0.00 or 0.01 */
        {4500000, 66, 2, HU, 0},
        {4500000, 66, 2, UP, 10000000},
        {-300000000, 1, 2, HU, -10000000},
        {-300000000, 1, 2, HE, 0},
        {-900000000, 1, 2, HE, -20000000},
    };
    check_amounts(c, N_ELEMS(c));
}

static void
test_zero_places_round_to_whole_units(void **state)
{
    (void)state;
    static const struct amount_case c[] = {
        /* 30/min x 1 s = 0.5; 90 x 1 = 1.5; 150 x 1 = 2.5 */
        {30 * RT_NANO, 1, 0, HU, RT_NANO},
        {30 * RT_NANO, 1, 0, HE, 0},
        {30 * RT_NANO, 1, 0, UP, RT_NANO},
        {30 * RT_NANO, 1, 0, DN, 0},
        {90 * RT_NANO, 1, 0, HE, 2 * RT_NANO},
        {150 * RT_NANO, 1, 0, HE, 2 * RT_NANO},
        {150 * RT_NANO, 1, 0, HU, 3 * RT_NANO},
        {-150 * RT_NANO, 1, 0, HE, -2 * RT_NANO},
        {-150 * RT_NANO, 1, 0, HU, -3 * RT_NANO},
        /* 0.0045 x 60 s = 0.0045 */
        {4500000, 60, 0, UP, RT_NANO},
        {-4500000, 60, 0, UP, -RT_NANO},
        {4500000, 60, 0, HU, 0},
    };
    check_amounts(c, N_ELEMS(c));
}

/* At 9 places the only rounding left is the division by 60. */
static void
test_nine_places_rounds_the_division_by_sixty(void **state)
{
    (void)state;
    static const struct amount_case c[] = {
        {1, 30, 9, HU, 1},
        {1, 30, 9, HE, 0},
        {1, 30, 9, UP, 1},
        {1, 30, 9, DN, 0},
        {3, 30, 9, HE, 2},
        {1, 31, 9, HU, 1},
        {1, 31, 9, DN, 0},
        {1, 29, 9, HU, 0},
        {1, 29, 9, UP, 1},
        {-1, 30, 9, HU, -1},
        {-1, 30, 9, HE, 0},
        {-1, 29, 9, UP, -1},
        {4500000, 61, 9, HU, 4575000},
    };
    check_amounts(c, N_ELEMS(c));
}

static void
test_amount_overflow_is_a_limit_error(void **state)
{
    (void)state;
    int64_t out = 77;
    /* max rate x 60 s / 60 = max rate: fits at 9 places ... */
    assert_int_equal(rt_money_amount(INT64_MAX, 60, 9, DN, &out), 0);
    assert_int_equal(out, INT64_MAX);
    /* ... but rounding it up to whole units does not */
    out = 77;
    assert_int_equal(rt_money_amount(INT64_MAX, 60, 0, UP, &out), CDR_E_LIMIT);
    assert_int_equal(out, 77);
    assert_int_equal(rt_money_amount(INT64_MAX, 3600, 6, HU, &out),
                     CDR_E_LIMIT);
    assert_int_equal(rt_money_amount(INT64_MIN, 61, 6, HU, &out), CDR_E_LIMIT);
    assert_int_equal(rt_money_amount(INT64_MAX, INT64_MAX, 9, DN, &out),
                     CDR_E_LIMIT);
    assert_int_equal(rt_money_amount(1, 1, 10, DN, &out), CDR_E_LIMIT);
    assert_int_equal(rt_money_amount(1, 1, -1, DN, &out), CDR_E_LIMIT);
    assert_int_equal(out, 77);
}

static void
test_add_checks_overflow_both_ways(void **state)
{
    (void)state;
    int64_t out = 0;
    assert_int_equal(rt_money_add(1, 2, &out), 0);
    assert_int_equal(out, 3);
    assert_int_equal(rt_money_add(INT64_MAX - 1, 1, &out), 0);
    assert_int_equal(out, INT64_MAX);
    assert_int_equal(rt_money_add(INT64_MAX, 1, &out), CDR_E_LIMIT);
    assert_int_equal(rt_money_add(INT64_MIN, -1, &out), CDR_E_LIMIT);
    assert_int_equal(rt_money_add(INT64_MIN, INT64_MAX, &out), 0);
    assert_int_equal(out, -1);
}

static void
test_rounding_names_round_trip(void **state)
{
    (void)state;
    static const char *names[] = {"half-up", "half-even", "up", "down"};
    for (size_t i = 0; i < N_ELEMS(names); i++) {
        enum rt_rounding r;
        assert_int_equal(rt_rounding_parse(names[i], strlen(names[i]), &r), 0);
        assert_string_equal(rt_rounding_name(r), names[i]);
    }
    enum rt_rounding r;
    assert_int_equal(rt_rounding_parse("half_up", 7, &r), -1);
    assert_int_equal(rt_rounding_parse("HALF-UP", 7, &r), -1);
    assert_int_equal(rt_rounding_parse("up", 1, &r), -1);
    assert_int_equal(rt_rounding_parse("", 0, &r), -1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_six_places_tie_rounds_per_mode),
        cmocka_unit_test(test_six_places_just_off_a_tie_goes_to_nearest),
        cmocka_unit_test(test_exact_amounts_are_not_rounded),
        cmocka_unit_test(test_two_places_ties_and_neighbours),
        cmocka_unit_test(test_zero_places_round_to_whole_units),
        cmocka_unit_test(test_nine_places_rounds_the_division_by_sixty),
        cmocka_unit_test(test_amount_overflow_is_a_limit_error),
        cmocka_unit_test(test_add_checks_overflow_both_ways),
        cmocka_unit_test(test_rounding_names_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * rt_increment: first/next parsing and billable seconds.
 */
#include "rating/deck/rt_increment.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

static void
test_billable_seconds_round_up_to_increments(void **state)
{
    (void)state;
    static const struct {
        uint32_t first, next;
        int64_t durations[5]; /* 0, 1, 59, 60, 61 */
        int64_t want[5];
    } c[] = {
        {60, 60, {0, 1, 59, 60, 61}, {0, 60, 60, 60, 120}},
        {1, 1, {0, 1, 59, 60, 61}, {0, 1, 59, 60, 61}},
        {60, 6, {0, 1, 59, 60, 61}, {0, 60, 60, 60, 66}},
        {30, 6, {0, 1, 29, 30, 31}, {0, 30, 30, 30, 36}},
        {30, 6, {36, 37, 59, 60, 61}, {36, 42, 60, 60, 66}},
        {60, 60, {119, 120, 121, 3600, 3601}, {120, 120, 180, 3600, 3660}},
    };
    for (size_t i = 0; i < N_ELEMS(c); i++) {
        struct rt_increment inc = {c[i].first, c[i].next};
        for (size_t j = 0; j < 5; j++) {
            int64_t got = rt_increment_billable(inc, c[i].durations[j]);
            if (got != c[i].want[j])
                print_error("%u/%u, %lld s: got %lld want %lld\n", c[i].first,
                            c[i].next, (long long)c[i].durations[j],
                            (long long)got, (long long)c[i].want[j]);
            assert_int_equal(got, c[i].want[j]);
        }
    }
}

static void
test_billable_seconds_never_overflow(void **state)
{
    (void)state;
    struct rt_increment inc = {60, 86400};
    assert_int_equal(rt_increment_billable(inc, INT64_MAX), INT64_MAX);
    assert_int_equal(rt_increment_billable(inc, INT64_MAX - 5), INT64_MAX);
    struct rt_increment one = {1, 1};
    assert_int_equal(rt_increment_billable(one, INT64_MAX), INT64_MAX);
    assert_int_equal(rt_increment_billable(one, -5), 0);
}

static void
test_parse_reads_first_and_next(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        uint32_t first, next;
    } c[] = {
        {"60/60", 60, 60},
        {"1/1", 1, 1},
        {"60/6", 60, 6},
        {"30/6", 30, 6},
        {"86400/86400", 86400, 86400},
        {"060/06", 60, 6},
    };
    for (size_t i = 0; i < N_ELEMS(c); i++) {
        struct rt_increment inc = {0, 0};
        assert_int_equal(rt_increment_parse(c[i].s, strlen(c[i].s), &inc), 0);
        assert_int_equal(inc.first, c[i].first);
        assert_int_equal(inc.next, c[i].next);
    }
}

static void
test_parse_rejects_malformed_increments(void **state)
{
    (void)state;
    static const char *bad[] = {
        "60",       "0/60", "60/0",   "86401/1", "1/86401",  "a/b",
        "60/",      "/60",  " 60/60", "60/60 ",  "60/60/60", "-1/1",
        "600000/1", "",     "/",      "+60/60",  "60 / 60",  "6.0/60",
    };
    for (size_t i = 0; i < N_ELEMS(bad); i++) {
        struct rt_increment inc = {7, 7};
        if (rt_increment_parse(bad[i], strlen(bad[i]), &inc) != -1)
            print_error("accepted \"%s\"\n", bad[i]);
        assert_int_equal(rt_increment_parse(bad[i], strlen(bad[i]), &inc), -1);
        assert_int_equal(inc.first, 7);
    }
    /* only n bytes are read */
    struct rt_increment inc;
    assert_int_equal(rt_increment_parse("60/6x", 4, &inc), 0);
    assert_int_equal(inc.next, 6);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_billable_seconds_round_up_to_increments),
        cmocka_unit_test(test_billable_seconds_never_overflow),
        cmocka_unit_test(test_parse_reads_first_and_next),
        cmocka_unit_test(test_parse_rejects_malformed_increments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Times: the one parser, formatter and calendar split. */
#include "cdr/util/cdr_time.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#define T_2026_01_01 1767225600LL
#define T_2026_03_01 1772323200LL
#define T_2026_04_01 1775001600LL
#define T_2026_05_01 1777593600LL
#define T_2026_06_01 1780272000LL
#define T_2027_01_01 1798761600LL

struct tcase {
    const char *in;
    int rc;
    int64_t t;
};

static int
ptime(const char *s, int64_t *out)
{
    return cdr_time_parse(s, s + strlen(s), out);
}
static void
test_days_from_civil_matches_known_dates(void **state)
{
    (void)state;
    assert_true(cdr_days_from_civil(1970, 1, 1) == 0);
    assert_true(cdr_days_from_civil(1969, 12, 31) == -1);
    assert_true(cdr_days_from_civil(2000, 3, 1) == 11017);
    assert_true(cdr_days_from_civil(2026, 5, 10) == 20583);
    assert_true(cdr_days_from_civil(1600, 1, 1) == -135140);
    /* every day from 1900 to 2200 follows the previous one */
    int64_t prev = cdr_days_from_civil(1899, 12, 31);
    static const unsigned dm[12] = {31, 28, 31, 30, 31, 30,
                                    31, 31, 30, 31, 30, 31};
    for (int64_t y = 1900; y <= 2200; y++) {
        for (unsigned m = 1; m <= 12; m++) {
            unsigned n = dm[m - 1];
            if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
                n = 29;
            for (unsigned d = 1; d <= n; d++) {
                int64_t z = cdr_days_from_civil(y, m, d);
                assert_true(z == prev + 1);
                prev = z;
            }
        }
    }
}
static void
test_format_time_round_trips_through_parse(void **state)
{
    (void)state;
    static const int64_t ts[] = {
        0,          1,           86399, 86400, 951782400 /* 2000-02-29 */,
        1778400137, 253402300799 /* 9999-12-31 */};
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) {
        char buf[32];
        int64_t back;
        cdr_time_format(ts[i], buf, sizeof buf);
        assert_int_equal(ptime(buf, &back), 0);
        assert_true(back == ts[i]);
    }
    char buf[32];
    cdr_time_format(1778400137, buf, sizeof buf);
    assert_string_equal(buf, "2026-05-10T08:02:17Z");
    cdr_time_format(-1, buf, sizeof buf);
    assert_string_equal(buf, "1969-12-31T23:59:59Z");
    cdr_time_format(-86400, buf, sizeof buf);
    assert_string_equal(buf, "1969-12-31T00:00:00Z");
    /* extremes do not overflow (UBSan) and stay NUL-terminated */
    cdr_time_format(INT64_MIN, buf, sizeof buf);
    assert_true(strlen(buf) < sizeof buf);
    cdr_time_format(INT64_MAX, buf, sizeof buf);
    assert_true(strlen(buf) < sizeof buf);
    char small[8];
    cdr_time_format(0, small, sizeof small);
    assert_string_equal(small, "1970-01");
}
static void
run_time_cases(const struct tcase *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int64_t t = -12345;
        int rc = ptime(c[i].in, &t);
        if (rc != c[i].rc)
            fail_msg("\"%s\": rc %d, expected %d", c[i].in, rc, c[i].rc);
        if (rc == 0 && t != c[i].t)
            fail_msg("\"%s\": %lld, expected %lld", c[i].in, (long long)t,
                     (long long)c[i].t);
    }
}
static void
test_iso8601_with_z_or_offset_is_converted_to_utc(void **state)
{
    (void)state;
    static const struct tcase cases[] = {
        {"2026-05-10T08:02:17Z", 0, 1778400137},
        {"2026-05-10t08:02:17z", 0, 1778400137},
        {"2026-05-10 08:02:17Z", 0, 1778400137},
        {"2026-05-10T08:02:17.999Z", 0, 1778400137},
        {"2026-05-10T08:02:17.123456789+00:00", 0, 1778400137},
        {"2026-05-10T10:02:17+02:00", 0, 1778400137},
        {"2026-05-10T10:02:17+0200", 0, 1778400137},
        {"2026-05-10T10:02:17+02", 0, 1778400137},
        {"2026-05-10T03:02:17-05:00", 0, 1778400137},
        {"2026-05-10T13:32:17+05:30", 0, 1778400137},
        {"2026-05-09T22:02:17-10:00", 0, 1778400137},
        {"2026-05-10T08:02:17-00:00", 0, 1778400137},
        {"1970-01-01T00:00:00Z", 0, 0},
        {"2026-01-01T00:30:00+01:00", 0, 1767223800}, /* across new year */
    };
    run_time_cases(cases, sizeof cases / sizeof cases[0]);
}
static void
test_rfc2822_with_negative_offset_is_converted_to_utc(void **state)
{
    (void)state;
    static const struct tcase cases[] = {
        {"Tue, 10 Aug 2010 08:02:17 +0000", 0, 1281427337},
        {"Tue, 10 Aug 2010 03:02:17 -0500", 0, 1281427337},
        {"Tue, 10 Aug 2010 10:02:17 +0200", 0, 1281427337},
        {"10 Aug 2010 08:02:17 +0000", 0, 1281427337},
        {"Tue, 10 Aug 2010 08:02:17 GMT", 0, 1281427337},
        {"Tue, 10 Aug 2010 08:02:17 UT", 0, 1281427337},
        {"Tue, 10 Aug 2010 08:02:17 Z", 0, 1281427337},
        {"tue, 10 aug 2010 08:02:17 gmt", 0, 1281427337},
        {"Tue, 10 Aug 2010 08:02 +0000", 0, 1281427320},
        {"Sun, 1 Aug 2010 00:00:00 +0000", 0, 1280620800},
        /* the weekday is that of the local date */
        {"Mon, 9 Aug 2010 23:30:00 -0900", 0, 1281429000},
    };
    run_time_cases(cases, sizeof cases / sizeof cases[0]);
}
static void
test_rfc2822_with_a_wrong_weekday_is_refused(void **state)
{
    (void)state;
    static const struct tcase cases[] = {
        {"Wed, 10 Aug 2010 08:02:17 +0000", -1, 0},
        {"Tue, 9 Aug 2010 08:02:17 +0000", -1, 0},
        {"Xyz, 10 Aug 2010 08:02:17 +0000", -1, 0},
        {"Tue 10 Aug 2010 08:02:17 +0000", -1, 0},
    };
    run_time_cases(cases, sizeof cases / sizeof cases[0]);
}
static void
test_rfc2822_weekday_is_right_for_every_day_1970_to_2100(void **state)
{
    (void)state;
    static const char wd[7][4] = {"Thu", "Fri", "Sat", "Sun",
                                  "Mon", "Tue", "Wed"}; /* from 1970-01-01 */
    static const char mon[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    int64_t end = cdr_days_from_civil(2101, 1, 1);
    for (int64_t day = 0; day < end; day++) {
        char iso[32], rfc[48];
        cdr_time_format(day * 86400 + 45296, iso, sizeof iso); /* 12:34:56 */
        /* "YYYY-MM-DDT..." -> "Www, D Mon YYYY 12:34:56 +0000" */
        int m = (iso[5] - '0') * 10 + (iso[6] - '0');
        int d = (iso[8] - '0') * 10 + (iso[9] - '0');
        snprintf(rfc, sizeof rfc, "%s, %d %s %.4s 12:34:56 +0000", wd[day % 7],
                 d, mon[m - 1], iso);
        int64_t t;
        if (cdr_time_parse(rfc, rfc + strlen(rfc), &t) != 0 ||
            t != day * 86400 + 45296)
            fail_msg("\"%s\" (%s)", rfc, iso);
        /* and the day before's weekday is refused */
        snprintf(rfc, sizeof rfc, "%s, %d %s %.4s 12:34:56 +0000",
                 wd[(day + 6) % 7], d, mon[m - 1], iso);
        if (cdr_time_parse(rfc, rfc + strlen(rfc), &t) == 0)
            fail_msg("\"%s\" accepted", rfc);
    }
}
static void
test_leap_days_exist_only_in_leap_years(void **state)
{
    (void)state;
    static const struct tcase cases[] = {
        {"2024-02-29T00:00:00Z", 0, 1709164800},
        {"2000-02-29T00:00:00Z", 0, 951782400},
        {"2026-02-29T00:00:00Z", -1, 0},
        {"1900-02-29T00:00:00Z", -1, 0},
        {"2100-02-29T00:00:00Z", -1, 0},
        {"Thu, 29 Feb 2024 00:00:00 +0000", 0, 1709164800},
        {"29 Feb 2026 00:00:00 +0000", -1, 0},
    };
    run_time_cases(cases, sizeof cases / sizeof cases[0]);
}
static void
test_invalid_dates_and_times_are_refused(void **state)
{
    (void)state;
    static const struct tcase cases[] = {
        {"2026-13-01T00:00:00Z", -1, 0},
        {"2026-00-01T00:00:00Z", -1, 0},
        {"2026-04-31T00:00:00Z", -1, 0},
        {"2026-01-00T00:00:00Z", -1, 0},
        {"2026-01-32T00:00:00Z", -1, 0},
        {"2026-01-01T24:00:00Z", -1, 0},
        {"2026-01-01T23:60:00Z", -1, 0},
        {"2026-01-01T23:59:60Z", -1, 0},
        {"2026-01-01T00:00:00", -1, 0}, /* no offset */
        {"2026-01-01T00:00:00+24:00", -1, 0},
        {"2026-01-01T00:00:00+02:60", -1, 0},
        {"2026-01-01T00:00:00+2:00", -1, 0},
        {"2026-01-01T00:00:00+02:0", -1, 0},
        {"2026-01-01T00:00:00.Z", -1, 0},
        {"2026-01-01T00:00Z", -1, 0},
        {"2026-1-01T00:00:00Z", -1, 0},
        {"26-01-01T00:00:00Z", -1, 0},
        {"2026-01-01", -1, 0},
        {"2026-01-01T00:00:00Z ", -1, 0},
        {" 2026-01-01T00:00:00Z", -1, 0},
        {"2026-01-01T00:00:00ZZ", -1, 0},
        {"2026-01-01X00:00:00Z", -1, 0},
        {"", -1, 0},
        {"1778400137", -1, 0},
        {"Tue, 10 Aug 2010 08:02:17", -1, 0},
        {"Tue, 10 Aug 2010 08:02:17 EST", -1, 0},
        {"Tue, 10 Aug 10 08:02:17 +0000", -1, 0},
        {"Tue, 10 Foo 2010 08:02:17 +0000", -1, 0},
        {"Tue, 10 Aug 2010 08:02:17 +00", -1, 0},
        {"Tue, 10 Aug 2010 08:02:17 +0000 ", -1, 0},
        {"Tue, 100 Aug 2010 08:02:17 +0000", -1, 0},
        {"Tue, 31 Jun 2010 08:02:17 +0000", -1, 0},
        {"Tue, 10 Aug 2010 24:02:17 +0000", -1, 0},
        {"Tue,  10 Aug 2010 08:02:17 +0000", -1, 0},
    };
    run_time_cases(cases, sizeof cases / sizeof cases[0]);
}
static void
test_time_parser_never_reads_past_end(void **state)
{
    (void)state;
    /* The same text, cut short at every length: never accepted except
     * whole, and (under ASan) never read beyond the cut. */
    const char *full[] = {"2026-05-10T10:02:17.5+02:00",
                          "Tue, 10 Aug 2010 08:02:17 +0000"};
    for (size_t k = 0; k < 2; k++) {
        size_t n = strlen(full[k]);
        for (size_t i = 0; i < n; i++) {
            char *copy = test_malloc(i + 1);
            memcpy(copy, full[k], i);
            int64_t t;
            if (cdr_time_parse(copy, copy + i, &t) == 0) {
                /* "...+02" is a valid prefix of "+02:00" */
                assert_true(k == 0 && i == n - 3);
            }
            test_free(copy);
        }
    }
}

/* Deck and command-line dates: a bare date, or a time whose fraction is
 * all zeros. */
static void
test_dates_parse_to_utc_epoch_seconds(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        int64_t want;
    } ok[] = {
        {"2026-01-01", T_2026_01_01},
        {"1970-01-01", 0},
        {"2024-02-29", 1709164800},
        {"2000-03-01", 951868800},
        {"2026-01-01T00:00:00Z", T_2026_01_01},
        {"2026-01-01t00:00:01z", T_2026_01_01 + 1},
        {"2026-01-01 00:00:00Z", T_2026_01_01},
        {"2026-03-01T00:00:00+01:00", T_2026_03_01 - 3600},
        {"2026-03-01T00:00:00+0100", T_2026_03_01 - 3600},
        {"2026-03-01T00:00:00+01", T_2026_03_01 - 3600},
        {"2026-02-28T19:30:00-04:30", T_2026_03_01},
        {"2026-01-01T00:00:00.000Z", T_2026_01_01},
        {"1969-12-31T23:59:59Z", -1},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        int64_t t = 0;
        if (cdr_time_parse_date(ok[i].s, strlen(ok[i].s), &t) != 0 ||
            t != ok[i].want)
            print_error("\"%s\": %lld\n", ok[i].s, (long long)t);
        assert_int_equal(cdr_time_parse_date(ok[i].s, strlen(ok[i].s), &t), 0);
        assert_int_equal(t, ok[i].want);
    }
    static const char *bad[] = {
        "2026-02-29",
        "2026-13-01",
        "2026-00-10",
        "2026-01-32",
        "2026-1-01",
        "26-01-01",
        "2026-01-01T10:00:00",
        "2026-01-01T24:00:00Z",
        "2026-01-01T10:60:00Z",
        "2026-01-01T10:00:60Z",
        "2026-01-01T10:00Z",
        "2026-01-01T10:00:00.5Z",
        "2026-01-01T10:00:00+24:00",
        "2026-01-01T10:00:00+01:60",
        "2026-01-01Z",
        "2026-01-01 ",
        "2026/01/01",
        "",
        "2026-01-01T10:00:00ZZ",
        "2026-01-01T10:00:00+1",
        "2026-01-01T10:00:00.Z",
        "today",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t t = 42;
        if (cdr_time_parse_date(bad[i], strlen(bad[i]), &t) == 0)
            print_error("accepted \"%s\"\n", bad[i]);
        assert_int_equal(cdr_time_parse_date(bad[i], strlen(bad[i]), &t), -1);
        assert_int_equal(t, 42);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_days_from_civil_matches_known_dates),
        cmocka_unit_test(test_format_time_round_trips_through_parse),
        cmocka_unit_test(test_iso8601_with_z_or_offset_is_converted_to_utc),
        cmocka_unit_test(test_rfc2822_with_negative_offset_is_converted_to_utc),
        cmocka_unit_test(test_rfc2822_with_a_wrong_weekday_is_refused),
        cmocka_unit_test(
            test_rfc2822_weekday_is_right_for_every_day_1970_to_2100),
        cmocka_unit_test(test_leap_days_exist_only_in_leap_years),
        cmocka_unit_test(test_invalid_dates_and_times_are_refused),
        cmocka_unit_test(test_time_parser_never_reads_past_end),
        cmocka_unit_test(test_dates_parse_to_utc_epoch_seconds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

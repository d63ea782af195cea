#include "cdr/util/cdr_parse.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

static int
ptime(const char *s, int64_t *out)
{
    return cdr_parse_time(s, s + strlen(s), out);
}

static void
test_uint64_accepts_digits_and_refuses_the_rest(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        int rc;
        uint64_t v;
    } cases[] = {
        {"0", 0, 0},
        {"42", 0, 42},
        {"007", 0, 7},
        {"18446744073709551615", 0, UINT64_MAX},
        {"18446744073709551616", -1, 0},
        {"", -1, 0},
        {"-1", -1, 0},
        {"+1", -1, 0},
        {" 1", -1, 0},
        {"1 ", -1, 0},
        {"1.0", -1, 0},
        {"1e3", -1, 0},
        {"0x10", -1, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint64_t v = 99;
        const char *s = cases[i].in;
        int rc = cdr_parse_uint64(s, s + strlen(s), &v);
        if (rc != cases[i].rc)
            fail_msg("case %zu \"%s\": rc %d", i, s, rc);
        if (rc == 0)
            assert_true(v == cases[i].v);
    }
}

static void
test_uint64_never_reads_past_end(void **state)
{
    (void)state;
    const char *s = "12345";
    uint64_t v;
    assert_int_equal(cdr_parse_uint64(s, s + 2, &v), 0);
    assert_true(v == 12);
}

static void
test_int64_takes_a_minus_and_the_int64_range(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        int rc;
        int64_t v;
    } cases[] = {
        {"0", 0, 0},
        {"-0", 0, 0},
        {"-42", 0, -42},
        {"9223372036854775807", 0, INT64_MAX},
        {"-9223372036854775807", 0, -INT64_MAX},
        {"9223372036854775808", -1, 0},
        {"-9223372036854775808", -1, 0},
        {"-", -1, 0},
        {"", -1, 0},
        {"--1", -1, 0},
        {"+1", -1, 0},
        {"- 1", -1, 0},
        {"1-", -1, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t v = 99;
        const char *s = cases[i].in;
        int rc = cdr_parse_int64(s, s + strlen(s), &v);
        if (rc != cases[i].rc)
            fail_msg("case %zu \"%s\": rc %d", i, s, rc);
        if (rc == 0)
            assert_true(v == cases[i].v);
    }
    /* never past end: "-1" of "-12" */
    const char *s = "-12";
    int64_t v;
    assert_int_equal(cdr_parse_int64(s, s + 2, &v), 0);
    assert_true(v == -1);
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
        cdr_format_time(ts[i], buf, sizeof buf);
        assert_int_equal(ptime(buf, &back), 0);
        assert_true(back == ts[i]);
    }
    char buf[32];
    cdr_format_time(1778400137, buf, sizeof buf);
    assert_string_equal(buf, "2026-05-10T08:02:17Z");
    cdr_format_time(-1, buf, sizeof buf);
    assert_string_equal(buf, "1969-12-31T23:59:59Z");
    cdr_format_time(-86400, buf, sizeof buf);
    assert_string_equal(buf, "1969-12-31T00:00:00Z");
    /* extremes do not overflow (UBSan) and stay NUL-terminated */
    cdr_format_time(INT64_MIN, buf, sizeof buf);
    assert_true(strlen(buf) < sizeof buf);
    cdr_format_time(INT64_MAX, buf, sizeof buf);
    assert_true(strlen(buf) < sizeof buf);
    char small[8];
    cdr_format_time(0, small, sizeof small);
    assert_string_equal(small, "1970-01");
}

struct tcase {
    const char *in;
    int rc;
    int64_t t;
};

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
        cdr_format_time(day * 86400 + 45296, iso, sizeof iso); /* 12:34:56 */
        /* "YYYY-MM-DDT..." -> "Www, D Mon YYYY 12:34:56 +0000" */
        int m = (iso[5] - '0') * 10 + (iso[6] - '0');
        int d = (iso[8] - '0') * 10 + (iso[9] - '0');
        snprintf(rfc, sizeof rfc, "%s, %d %s %.4s 12:34:56 +0000", wd[day % 7],
                 d, mon[m - 1], iso);
        int64_t t;
        if (cdr_parse_time(rfc, rfc + strlen(rfc), &t) != 0 ||
            t != day * 86400 + 45296)
            fail_msg("\"%s\" (%s)", rfc, iso);
        /* and the day before's weekday is refused */
        snprintf(rfc, sizeof rfc, "%s, %d %s %.4s 12:34:56 +0000",
                 wd[(day + 6) % 7], d, mon[m - 1], iso);
        if (cdr_parse_time(rfc, rfc + strlen(rfc), &t) == 0)
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
            if (cdr_parse_time(copy, copy + i, &t) == 0) {
                /* "...+02" is a valid prefix of "+02:00" */
                assert_true(k == 0 && i == n - 3);
            }
            test_free(copy);
        }
    }
}

/* --- addresses --- */

struct acase {
    const char *in;
    int rc;
    enum cdr_addr_kind kind;
    const char *digits;
    const char *user;
    const char *host;
};

static void
run_addr_cases(const struct acase *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct cdr_addr a;
        memset(&a, 0x5a, sizeof a);
        const char *s = c[i].in;
        int rc = cdr_parse_addr(s, s + strlen(s), &a);
        if (rc != c[i].rc)
            fail_msg("\"%s\": rc %d, expected %d", s, rc, c[i].rc);
        if (rc != 0)
            continue;
        if (a.kind != c[i].kind)
            fail_msg("\"%s\": kind %d", s, (int)a.kind);
        if (strcmp(a.digits, c[i].digits) != 0 ||
            a.ndigits != strlen(c[i].digits))
            fail_msg("\"%s\": digits \"%s\"", s, a.digits);
        if (c[i].user != NULL && (a.user.n != strlen(c[i].user) ||
                                  memcmp(a.user.p, c[i].user, a.user.n) != 0))
            fail_msg("\"%s\": user \"%.*s\"", s, (int)a.user.n, a.user.p);
        if (c[i].host != NULL && (a.host.n != strlen(c[i].host) ||
                                  memcmp(a.host.p, c[i].host, a.host.n) != 0))
            fail_msg("\"%s\": host \"%.*s\"", s, (int)a.host.n, a.host.p);
    }
}

static void
test_e164_numbers_with_or_without_plus_give_their_digits(void **state)
{
    (void)state;
    static const struct acase cases[] = {
        {"+14155550100", 0, CDR_ADDR_E164, "14155550100", NULL, NULL},
        {"14155550100", 0, CDR_ADDR_E164, "14155550100", NULL, NULL},
        {"911", 0, CDR_ADDR_E164, "911", NULL, NULL},
        {"+123456789012345", 0, CDR_ADDR_E164, "123456789012345", NULL, NULL},
        {"+1234567890123456", -1, 0, "", NULL, NULL}, /* 16 digits */
        {"+", -1, 0, "", NULL, NULL},
        {"++1415", -1, 0, "", NULL, NULL},
        {"+1 415 555 0100", -1, 0, "", NULL, NULL},
        {"+1-415-555-0100", -1, 0, "", NULL, NULL},
        {"1415x", -1, 0, "", NULL, NULL},
        {"", -1, 0, "", NULL, NULL},
    };
    run_addr_cases(cases, sizeof cases / sizeof cases[0]);
}

static void
test_tel_uris_drop_visual_separators_and_params(void **state)
{
    (void)state;
    static const struct acase cases[] = {
        {"tel:+14152909007", 0, CDR_ADDR_TEL, "14152909007", NULL, NULL},
        {"TEL:+14152909007", 0, CDR_ADDR_TEL, "14152909007", NULL, NULL},
        {"tel:+1-415-290-9007", 0, CDR_ADDR_TEL, "14152909007", NULL, NULL},
        {"tel:+1.415.(290).9007", 0, CDR_ADDR_TEL, "14152909007", NULL, NULL},
        {"tel:+14152909007;ext=12", 0, CDR_ADDR_TEL, "14152909007", NULL, NULL},
        {"tel:911;phone-context=+1", 0, CDR_ADDR_TEL, "911", NULL, NULL},
        {"<tel:+14152909007>", 0, CDR_ADDR_TEL, "14152909007", NULL, NULL},
        {"tel:", -1, 0, "", NULL, NULL},
        {"tel:+", -1, 0, "", NULL, NULL},
        {"tel:+1415 2909007", -1, 0, "", NULL, NULL},
        {"tel:+1415abc", -1, 0, "", NULL, NULL},
        {"tel:+1415;", -1, 0, "", NULL, NULL},
        {"tel:+1415;;x", -1, 0, "", NULL, NULL},
        {"tel:+1415;=x", -1, 0, "", NULL, NULL},
        {"tel:+14+15", -1, 0, "", NULL, NULL},
        {"tel:+1234567890123456", -1, 0, "", NULL, NULL},
    };
    run_addr_cases(cases, sizeof cases / sizeof cases[0]);
}

static void
test_sip_uris_give_user_host_and_number_digits(void **state)
{
    (void)state;
    static const struct acase cases[] = {
        {"sip:+14155550100@mytrunk.pstn.twilio.com", 0, CDR_ADDR_SIP,
         "14155550100", "+14155550100", "mytrunk.pstn.twilio.com"},
        {"sips:+14155550100@mytrunk.pstn.twilio.com", 0, CDR_ADDR_SIP,
         "14155550100", "+14155550100", "mytrunk.pstn.twilio.com"},
        {"SIP:911@pbx.example.com", 0, CDR_ADDR_SIP, "911", "911",
         "pbx.example.com"},
        {"sip:alice@pbx.example.com", 0, CDR_ADDR_SIP, "", "alice",
         "pbx.example.com"},
        {"<sip:alice@pbx.example.com>", 0, CDR_ADDR_SIP, "", "alice",
         "pbx.example.com"},
        {"\"Alice Smith\" <sip:alice@pbx.example.com>", 0, CDR_ADDR_SIP, "",
         "alice", "pbx.example.com"},
        {"\"Smith, \\\"Al\\\" <x>\" <sip:alice@pbx.example.com>", 0,
         CDR_ADDR_SIP, "", "alice", "pbx.example.com"},
        {"Alice <sip:alice@pbx.example.com>", 0, CDR_ADDR_SIP, "", "alice",
         "pbx.example.com"},
        {"<sip:alice@pbx.example.com>;tag=abc123", 0, CDR_ADDR_SIP, "", "alice",
         "pbx.example.com"},
        {"sip:alice@pbx.example.com:5061", 0, CDR_ADDR_SIP, "", "alice",
         "pbx.example.com"},
        {"sip:alice@pbx.example.com;transport=tls", 0, CDR_ADDR_SIP, "",
         "alice", "pbx.example.com"},
        {"sip:+14155550100@10.0.0.1:5060;user=phone", 0, CDR_ADDR_SIP,
         "14155550100", "+14155550100", "10.0.0.1"},
        {"sip:alice@[2001:db8::1]:5060", 0, CDR_ADDR_SIP, "", "alice",
         "[2001:db8::1]"},
        {"sip:alice:secret@pbx.example.com", 0, CDR_ADDR_SIP, "", "alice",
         "pbx.example.com"},
        {"sip:pbx.example.com", 0, CDR_ADDR_SIP, "", "", "pbx.example.com"},
        {"sip:pbx.example.com.", 0, CDR_ADDR_SIP, "", "", "pbx.example.com."},
        {"<sip:bob@b.example.com?Replaces=abc%40host%3Bto-tag%3D1>", 0,
         CDR_ADDR_SIP, "", "bob", "b.example.com"},
        {"sip:%2B1415@host", 0, CDR_ADDR_SIP, "", "%2B1415", "host"},
        {"sip:+1-415-555-0100@gw.example.com;user=phone", 0, CDR_ADDR_SIP,
         "14155550100", "+1-415-555-0100", "gw.example.com"},
        {"sip:+1.415.555.0100;isub=12@gw.example.com;USER=Phone", 0,
         CDR_ADDR_SIP, "14155550100", NULL, "gw.example.com"},
        {"sip:1-415-555-0100@gw.example.com", 0, CDR_ADDR_SIP, "",
         "1-415-555-0100", "gw.example.com"},
        {"sip:a@h;x=a&b;lr", 0, CDR_ADDR_SIP, "", "a", "h"},
        {"Jos\xc3\xa9 <sip:jose@h>", 0, CDR_ADDR_SIP, "", "jose", "h"},
        {"1415 <sip:alice@h>", 0, CDR_ADDR_SIP, "", "alice", "h"},
        {"+1415 <sip:+1415@h>", 0, CDR_ADDR_SIP, "1415", "+1415", "h"},
    };
    run_addr_cases(cases, sizeof cases / sizeof cases[0]);
}

static void
test_malformed_addresses_are_refused(void **state)
{
    (void)state;
    static const struct acase cases[] = {
        {"alice@pbx.example.com", -1, 0, "", NULL, NULL},
        {"http://example.com", -1, 0, "", NULL, NULL},
        {"mailto:a@b", -1, 0, "", NULL, NULL},
        {"sip:", -1, 0, "", NULL, NULL},
        {"sip:alice@", -1, 0, "", NULL, NULL},
        {"sip:@host", -1, 0, "", NULL, NULL},
        {"sip:a@b@c", -1, 0, "", NULL, NULL},
        {"sip:alice@pbx example.com", -1, 0, "", NULL, NULL},
        {"sip:alice@pbx..example.com", -1, 0, "", NULL, NULL},
        {"sip:alice@-pbx.example.com", -1, 0, "", NULL, NULL},
        {"sip:alice@pbx_x.com", -1, 0, "", NULL, NULL},
        {"sip:alice@host:0", -1, 0, "", NULL, NULL},
        {"sip:alice@host:65536", -1, 0, "", NULL, NULL},
        {"sip:alice@host:", -1, 0, "", NULL, NULL},
        {"sip:alice@host:50a", -1, 0, "", NULL, NULL},
        {"sip:alice@host;", -1, 0, "", NULL, NULL},
        {"sip:alice@host?", -1, 0, "", NULL, NULL},
        {"sip:alice@[2001:db8::1", -1, 0, "", NULL, NULL},
        {"sip:alice@[zz]", -1, 0, "", NULL, NULL},
        {"sip:al ice@host", -1, 0, "", NULL, NULL},
        {"sip:al%2@host", -1, 0, "", NULL, NULL},
        {"sip:al\"ice@host", -1, 0, "", NULL, NULL},
        {"<sip:alice@host", -1, 0, "", NULL, NULL},
        {"<sip:alice@host>x", -1, 0, "", NULL, NULL},
        {"Al<ice <sip:alice@host>", -1, 0, "", NULL, NULL},
        {"\"Alice <sip:alice@host>", -1, 0, "", NULL, NULL},
        {"Alice sip:alice@host", -1, 0, "", NULL, NULL},
        {"<+14155550100>", -1, 0, "", NULL, NULL},
        {"<>", -1, 0, "", NULL, NULL},
        {"sip:12345678901234567890123456789012@host", -1, 0, "", NULL, NULL},
        {"sip:alice@gw.example.com;user=phone", -1, 0, "", NULL, NULL},
        {"sip:+1415x@gw.example.com;user=phone", -1, 0, "", NULL, NULL},
        {"sip:a@h;;lr", -1, 0, "", NULL, NULL},
    };
    run_addr_cases(cases, sizeof cases / sizeof cases[0]);
}

/* --- decimals --- */

static void
test_decimals_are_exact_nano_units(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        int rc;
        int64_t v;
    } cases[] = {
        {"0", 0, 0},
        {"12", 0, 12000000000},
        {"-0.0150", 0, -15000000},
        {"0.000000001", 0, 1},
        {"-0.000000001", 0, -1},
        {"1.123456789", 0, 1123456789},
        {"9223372036.854775807", 0, INT64_MAX},
        {"-9223372036.854775807", 0, -INT64_MAX},
        {"9223372036.854775808", -1, 0},
        {"9223372037", -1, 0},
        {"99999999999999999999999", -1, 0},
        {"0.0000000001", -1, 0}, /* 10 places */
        {"1.0000000000", -1, 0},
        {".5", -1, 0},
        {"5.", -1, 0},
        {"-", -1, 0},
        {"", -1, 0},
        {"+1", -1, 0},
        {"1e3", -1, 0},
        {"1.5E-3", -1, 0},
        {" 1.5", -1, 0},
        {"1.5 ", -1, 0},
        {"1 .5", -1, 0},
        {"1,5", -1, 0},
        {"--1", -1, 0},
        {"0x1", -1, 0},
        {"1.2.3", -1, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t v = 777;
        const char *s = cases[i].in;
        int rc = cdr_parse_decimal_nano(s, s + strlen(s), &v);
        if (rc != cases[i].rc)
            fail_msg("\"%s\": rc %d", s, rc);
        if (rc == 0 && v != cases[i].v)
            fail_msg("\"%s\": %lld", s, (long long)v);
        if (rc != 0 && v != 777)
            fail_msg("\"%s\": output written on failure", s);
    }
}

/* The PSTN host rule shared by the rater and the capture. */
static void
test_host_is_pstn_at_the_termination_domain_or_twilio(void **state)
{
    (void)state;
    struct cdr_slice h = {"Example.PSTN.twilio.com.", 24};
    assert_true(cdr_host_is_pstn(h, NULL));
    assert_true(cdr_host_is_pstn(h, ""));
    assert_true(cdr_host_is_pstn(h, "example.pstn.twilio.com"));
    assert_false(cdr_host_is_pstn(h, "other.pstn.twilio.com"));
    h = (struct cdr_slice){"pbx.example.com", 15};
    assert_false(cdr_host_is_pstn(h, NULL));
    assert_true(cdr_host_is_pstn(h, "pbx.example.com"));
    h = (struct cdr_slice){".pstn.twilio.com", 16}; /* no name before it */
    assert_false(cdr_host_is_pstn(h, NULL));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uint64_accepts_digits_and_refuses_the_rest),
        cmocka_unit_test(test_host_is_pstn_at_the_termination_domain_or_twilio),
        cmocka_unit_test(test_uint64_never_reads_past_end),
        cmocka_unit_test(test_int64_takes_a_minus_and_the_int64_range),
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
        cmocka_unit_test(
            test_e164_numbers_with_or_without_plus_give_their_digits),
        cmocka_unit_test(test_tel_uris_drop_visual_separators_and_params),
        cmocka_unit_test(test_sip_uris_give_user_host_and_number_digits),
        cmocka_unit_test(test_malformed_addresses_are_refused),
        cmocka_unit_test(test_decimals_are_exact_nano_units),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Addresses: E.164, tel: and sip: URIs, and the PSTN host rule. */
#include "cdr/record/cdr_addr.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

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
        /* escapes are decoded for the number (RFC 3261 19.1.4) */
        {"sip:%2B1415@host", 0, CDR_ADDR_SIP, "1415", "%2B1415", "host"},
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

static void
check_split(const char *uri, const char *user, const char *host, unsigned port,
            const char *params, const char *headers)
{
    struct cdr_uri u;
    if (cdr_uri_split((struct cdr_slice){uri, strlen(uri)}, &u) != 0)
        fail_msg("\"%s\" refused", uri);
#define PART(f, want)                                                          \
    if (strlen(want) != u.f.n || (u.f.n > 0 && memcmp(u.f.p, want, u.f.n)))    \
        fail_msg("\"%s\": " #f " is \"%.*s\", want \"%s\"", uri, (int)u.f.n,   \
                 u.f.p ? u.f.p : "", want);
    PART(user, user)
    PART(host, host)
    PART(params, params)
    PART(headers, headers)
#undef PART
    assert_int_equal(u.port, port);
}

/* Percent-escapes are the same user: a PSTN target written escaped is
 * still a number at the PSTN host (it was priced as a SIP target). */
static void
test_escaped_user_parts_are_decoded_for_their_number(void **state)
{
    (void)state;
    struct cdr_addr a;
    const char *s = "sip:%2B4915112345678@example.pstn.twilio.com";
    assert_int_equal(cdr_parse_addr(s, s + strlen(s), &a), 0);
    assert_string_equal(a.digits, "4915112345678");
    assert_true(cdr_addr_is_pstn(&a, NULL));
    assert_true(cdr_addr_is_pstn(&a, "example.pstn.twilio.com"));
    s = "sip:%39%311@pbx.example.com"; /* 911, at a PBX */
    assert_int_equal(cdr_parse_addr(s, s + strlen(s), &a), 0);
    assert_string_equal(a.digits, "911");
    s = "sip:%41lice@pbx.example.com"; /* Alice: a name, not a number */
    assert_int_equal(cdr_parse_addr(s, s + strlen(s), &a), 0);
    assert_int_equal(a.ndigits, 0);
    assert_false(cdr_addr_is_pstn(&a, NULL));
    s = "sip:%2B1-415%2E555@h;user=phone";
    assert_int_equal(cdr_parse_addr(s, s + strlen(s), &a), 0);
    assert_string_equal(a.digits, "1415555");
    char buf[8];
    assert_int_equal(cdr_uri_unescape((struct cdr_slice){"a%2", 3}, buf, 8),
                     -1);
    assert_int_equal(cdr_uri_unescape((struct cdr_slice){"a%zz", 4}, buf, 8),
                     -1);
    assert_int_equal(cdr_uri_unescape((struct cdr_slice){"%41bc", 5}, buf, 8),
                     3);
    assert_string_equal(buf, "Abc");
    assert_int_equal(
        cdr_uri_unescape((struct cdr_slice){"abcdefgh", 8}, buf, 8), -1);
}

/* The one way both programs cut a URI. */
/* The one reading of a written number, for tel: URIs here and the
 * capture's user parts: digits and the four RFC 3966 separators. */
static void
test_number_digits_keep_digits_and_drop_visual_separators(void **state)
{
    (void)state;
    char buf[16];
    assert_int_equal(cdr_number_digits("1-(415).555-0100", 16, buf, sizeof buf),
                     11);
    assert_string_equal(buf, "14155550100");
    assert_int_equal(cdr_number_digits("", 0, buf, sizeof buf), 0);
    assert_string_equal(buf, "");
    assert_int_equal(cdr_number_digits("--", 2, buf, sizeof buf), 0);
    const char *bad[] = {"415 555", "+1415", "1415;x", "141a", "1/2"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(
            cdr_number_digits(bad[i], strlen(bad[i]), buf, sizeof buf), -1);
    /* 15 digits fit 16 bytes, 16 do not */
    assert_int_equal(cdr_number_digits("123456789012345", 15, buf, 16), 15);
    assert_int_equal(cdr_number_digits("1234567890123456", 16, buf, 16), -1);
    assert_int_equal(cdr_number_digits("1", 1, buf, 0), -1);
}

static void
test_uris_split_into_their_parts(void **state)
{
    (void)state;
    check_split("sip:+14155550100@mytrunk.pstn.twilio.com;user=phone",
                "+14155550100", "mytrunk.pstn.twilio.com", 0, "user=phone", "");
    check_split("sips:alice:secret@[2001:db8::1]:5061;transport=tls?x=1",
                "alice", "[2001:db8::1]", 5061, "transport=tls", "x=1");
    check_split("sip:pbx.example.com", "", "pbx.example.com", 0, "", "");
    /* a user may hold '?' and ';' (RFC 3261 user-unreserved) */
    check_split("sip:a?b;c@host:5060", "a?b;c", "host", 5060, "", "");
    /* a Replaces header with a bare '@' does not move the host */
    check_split("sip:bob@biloxi.example.com?Replaces=12345@192.0.2.3%3Bto-tag",
                "bob", "biloxi.example.com", 0, "",
                "Replaces=12345@192.0.2.3%3Bto-tag");
    check_split("tel:+1-415-555-0100;ext=7", "+1-415-555-0100", "", 0, "ext=7",
                "");
    check_split("SIP:Bob@Host", "Bob", "Host", 0, "", "");
    static const char *bad[] = {
        "",          "sip",           "http://x",
        "sip:",      "sip:@",         "sip:a@",
        "sip:a@h:0", "sip:a@h:65536", "sip:a@h:123456",
        "sip:[::1",  "sip:[::1]x",    "tel:",
        "tel:;x=1",  "mailto:a@b",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct cdr_uri u;
        if (cdr_uri_split((struct cdr_slice){bad[i], strlen(bad[i])}, &u) == 0)
            fail_msg("\"%s\" accepted", bad[i]);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uris_split_into_their_parts),
        cmocka_unit_test(
            test_number_digits_keep_digits_and_drop_visual_separators),
        cmocka_unit_test(test_escaped_user_parts_are_decoded_for_their_number),
        cmocka_unit_test(
            test_e164_numbers_with_or_without_plus_give_their_digits),
        cmocka_unit_test(test_tel_uris_drop_visual_separators_and_params),
        cmocka_unit_test(test_sip_uris_give_user_host_and_number_digits),
        cmocka_unit_test(test_malformed_addresses_are_refused),
        cmocka_unit_test(test_host_is_pstn_at_the_termination_domain_or_twilio),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

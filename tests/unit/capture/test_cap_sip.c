/*
 * SIP parser tests on messages from RFC 3261 (section 24), RFC 3515 (REFER),
 * RFC 3892 (Referred-By), RFC 4488 (Refer-Sub) and RFC 5589 (transfer flows),
 * plus the odd forms real stacks send and inputs that must be refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cdr/capture/sip/cap_sip.h"

static struct cap_sip_msg msg;

static int
parse(const char *s)
{
    return cap_sip_parse(s, s + strlen(s), &msg);
}

static void
assert_slice(struct cdr_slice s, const char *want)
{
    char buf[512];
    size_t n = s.n < sizeof buf - 1 ? s.n : sizeof buf - 1;
    if (s.p != NULL)
        memcpy(buf, s.p, n);
    buf[s.p ? n : 0] = '\0';
    assert_string_equal(buf, want);
}

/* RFC 3261 24.2, F1: INVITE Alice -> atlanta.com proxy. */
static const char rfc3261_invite[] =
    "INVITE sip:bob@biloxi.com SIP/2.0\r\n"
    "Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bKnashds8\r\n"
    "Max-Forwards: 70\r\n"
    "To: Bob <sip:bob@biloxi.com>\r\n"
    "From: Alice <sip:alice@atlanta.com>;tag=1928301774\r\n"
    "Call-ID: a84b4c76e66710\r\n"
    "CSeq: 314159 INVITE\r\n"
    "Contact: <sip:alice@pc33.atlanta.com>\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length: 142\r\n"
    "\r\n"
    "v=0\r\n"
    "o=alice 2890844526 2890844526 IN IP4 pc33.atlanta.com\r\n"
    "s=-\r\n"
    "c=IN IP4 pc33.atlanta.com\r\n"
    "t=0 0\r\n"
    "m=audio 49172 RTP/AVP 0\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "12";

/* RFC 3261 24.2, F5/F6: 200 OK from Bob, with the Via list of the proxies
 * on one line and Record-Route. */
static const char rfc3261_ok[] =
    "SIP/2.0 200 OK\r\n"
    "Via: SIP/2.0/UDP "
    "server10.biloxi.com;branch=z9hG4bKnashds8;received=192.0.2.3,"
    " SIP/2.0/UDP "
    "bigbox3.site3.atlanta.com;branch=z9hG4bK77ef4c2312983.1;received=192.0.2."
    "2\r\n"
    "Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds "
    ";received=192.0.2.1\r\n"
    "To: Bob <sip:bob@biloxi.com>;tag=a6c85cf\r\n"
    "From: Alice <sip:alice@atlanta.com>;tag=1928301774\r\n"
    "Call-ID: a84b4c76e66710@pc33.atlanta.com\r\n"
    "CSeq: 314159 INVITE\r\n"
    "Contact: <sip:bob@192.0.2.4>\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length: 0\r\n"
    "\r\n";

static void
test_rfc3261_invite_parses_start_line_headers_and_body(void **state)
{
    (void)state;
    assert_int_equal(parse(rfc3261_invite), 0);
    assert_true(msg.is_request);
    assert_int_equal(msg.method, CAP_SIP_INVITE);
    assert_slice(msg.ruri, "sip:bob@biloxi.com");
    assert_slice(msg.hdr[CAP_H_CALL_ID], "a84b4c76e66710");
    assert_int_equal(msg.cseq, 314159);
    assert_int_equal(msg.cseq_method, CAP_SIP_INVITE);
    assert_int_equal(msg.body.n, 142);
    assert_ptr_equal(msg.raw.p + msg.raw.n, msg.body.p + 142);
    assert_ptr_equal(msg.raw.p, rfc3261_invite);
    struct cap_sip_nameaddr na;
    assert_int_equal(cap_sip_nameaddr(msg.hdr[CAP_H_FROM], &na), 0);
    assert_slice(na.display, "Alice");
    assert_slice(na.uri, "sip:alice@atlanta.com");
    assert_slice(na.tag, "1928301774");
    assert_int_equal(cap_sip_nameaddr(msg.hdr[CAP_H_TO], &na), 0);
    assert_null(na.tag.p);
    struct cap_sip_uri u;
    assert_int_equal(cap_sip_uri(na.uri, &u), 0);
    assert_slice(u.user, "bob");
    assert_slice(u.host, "biloxi.com");
}

static void
test_rfc3261_ok_with_via_list_counts_values(void **state)
{
    (void)state;
    assert_int_equal(parse(rfc3261_ok), 0);
    assert_false(msg.is_request);
    assert_int_equal(msg.status, 200);
    assert_slice(msg.reason, "OK");
    assert_int_equal(msg.nhdr[CAP_H_VIA], 2);
    struct cdr_slice v, rest;
    int n = 0;
    struct cdr_slice s = msg.hdr[CAP_H_VIA];
    while (cap_sip_first_value(s, &v, &rest) == 0) {
        n++;
        s = rest;
    }
    assert_int_equal(n, 2);
    struct cap_sip_nameaddr na;
    assert_int_equal(cap_sip_nameaddr(msg.hdr[CAP_H_TO], &na), 0);
    assert_slice(na.tag, "a6c85cf");
    assert_int_equal(msg.body.n, 0);
}

/* RFC 3261 7.3.3 / 20: compact forms, odd case, folding, spaces before ':'. */
static void
test_compact_forms_odd_case_and_folding(void **state)
{
    (void)state;
    const char *m =
        "INVITE sip:+14155550100@mytrunk.pstn.twilio.com SIP/2.0\r\n"
        "v: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1\r\n"
        "V: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bK2\r\n"
        "f: <sip:+14155550111@pbx.example.com>;tag=abc\r\n"
        "t  :   <sip:+14155550100@mytrunk.pstn.twilio.com>\r\n"
        "I: compact-1@host\r\n"
        "cSeQ:\r\n"
        " 7\r\n"
        "\tINVITE\r\n"
        "m: <sip:pbx@10.0.0.1>\r\n"
        "SUBJECT: folded\r\n"
        "  subject line\r\n"
        "c: application/sdp\r\n"
        "l:   4   \r\n"
        "\r\n"
        "v=0\n";
    assert_int_equal(parse(m), 0);
    assert_int_equal(msg.nhdr[CAP_H_VIA], 2);
    assert_slice(msg.hdr[CAP_H_CALL_ID], "compact-1@host");
    assert_int_equal(msg.cseq, 7);
    assert_int_equal(msg.cseq_method, CAP_SIP_INVITE);
    assert_slice(msg.hdr[CAP_H_CONTENT_TYPE], "application/sdp");
    assert_slice(msg.body, "v=0\n");
    assert_true(msg.has_content_length);
    struct cap_sip_nameaddr na;
    assert_int_equal(cap_sip_nameaddr(msg.hdr[CAP_H_FROM], &na), 0);
    assert_slice(na.tag, "abc");
    assert_int_equal(cap_sip_hdr_of("r", 1), CAP_H_REFER_TO);
    assert_int_equal(cap_sip_hdr_of("B", 1), CAP_H_REFERRED_BY);
    assert_int_equal(cap_sip_hdr_of("o", 1), CAP_H_EVENT);
    assert_int_equal(cap_sip_hdr_of("REFER-SUB", 9), CAP_H_REFER_SUB);
    assert_int_equal(cap_sip_hdr_of("k", 1), CAP_H_UNKNOWN);
    /* every method name maps back to itself; near misses do not */
    for (int i = CAP_SIP_INVITE; i <= CAP_SIP_PUBLISH; i++) {
        const char *name = cap_sip_method_name((enum cap_sip_method)i);
        size_t n = strlen(name);
        assert_int_equal(cap_sip_method_of(name, n), i);
        assert_int_equal(cap_sip_method_of(name, n - 1), CAP_SIP_OTHER);
    }
    assert_int_equal(cap_sip_method_of("ACKNOWLEDGE", 11), CAP_SIP_OTHER);
    assert_int_equal(cap_sip_method_of("invite", 6), CAP_SIP_OTHER);
}

/* RFC 3515 2.4.x example: REFER with Refer-To and the NOTIFY that follows. */
static const char rfc3515_refer[] =
    "REFER sip:b@atlanta.example.com SIP/2.0\r\n"
    "Via: SIP/2.0/UDP agenta.atlanta.example.com;branch=z9hG4bK2293940223\r\n"
    "To: <sip:b@atlanta.example.com>\r\n"
    "From: <sip:a@atlanta.example.com>;tag=193402342\r\n"
    "Call-ID: 898234234@agenta.atlanta.example.com\r\n"
    "CSeq: 93809823 REFER\r\n"
    "Max-Forwards: 70\r\n"
    "Refer-To: (whatever URI)\r\n"
    "Contact: sip:a@atlanta.example.com\r\n"
    "Content-Length: 0\r\n"
    "\r\n";

static const char rfc3515_notify[] =
    "NOTIFY sip:a@atlanta.example.com SIP/2.0\r\n"
    "Via: SIP/2.0/UDP agentb.atlanta.example.com;branch=z9hG4bK9922ef992-25\r\n"
    "To: <sip:a@atlanta.example.com>;tag=193402342\r\n"
    "From: <sip:b@atlanta.example.com>;tag=4992881234\r\n"
    "Call-ID: 898234234@agenta.atlanta.example.com\r\n"
    "CSeq: 1993402 NOTIFY\r\n"
    "Max-Forwards: 70\r\n"
    "Event: refer;id=93809823\r\n"
    "Subscription-State: terminated;reason=noresource\r\n"
    "Contact: sip:b@atlanta.example.com\r\n"
    "Content-Type: message/sipfrag;version=2.0\r\n"
    "Content-Length: 16\r\n"
    "\r\n"
    "SIP/2.0 200 OK\r\n";

static void
test_rfc3515_refer_and_notify(void **state)
{
    (void)state;
    assert_int_equal(parse(rfc3515_refer), 0);
    assert_int_equal(msg.method, CAP_SIP_REFER);
    assert_int_equal(msg.cseq, 93809823);
    assert_slice(msg.hdr[CAP_H_REFER_TO], "(whatever URI)");
    struct cap_sip_nameaddr na;
    assert_int_equal(cap_sip_nameaddr(msg.hdr[CAP_H_CONTACT], &na), 0);
    assert_slice(na.uri, "sip:a@atlanta.example.com");

    assert_int_equal(parse(rfc3515_notify), 0);
    assert_int_equal(msg.method, CAP_SIP_NOTIFY);
    struct cdr_slice tok, params, id;
    assert_int_equal(cap_sip_token(msg.hdr[CAP_H_EVENT], &tok, &params), 0);
    assert_true(cap_sip_eq(tok, "refer"));
    assert_int_equal(cap_sip_param(params, "id", &id), 0);
    assert_slice(id, "93809823");
    assert_int_equal(
        cap_sip_token(msg.hdr[CAP_H_SUBSCRIPTION_STATE], &tok, &params), 0);
    assert_slice(tok, "terminated");
    int st = 0;
    assert_int_equal(cap_sip_sipfrag_status(msg.body, &st), 0);
    assert_int_equal(st, 200);
}

/* RFC 3892 example: Referred-By with a cid parameter; RFC 5589 blind transfer
 * REFER with compact Refer-To and Referred-By. */
static void
test_rfc3892_referred_by_and_rfc5589_compact_refer(void **state)
{
    (void)state;
    const char *m =
        "REFER sip:refertarget@target.example SIP/2.0\r\n"
        "Via: SIP/2.0/UDP referrer.example;branch=z9hG4bK392039842\r\n"
        "To: sip:refertarget@target.example\r\n"
        "From: sip:referrer@referrer.example;tag=39092342\r\n"
        "Call-ID: 2203900ef0299349d9209f023a\r\n"
        "CSeq: 1239930 REFER\r\n"
        "Max-Forwards: 70\r\n"
        "Contact: <sip:referrer.example>\r\n"
        "r: <sip:refertarget@target.example>\r\n"
        "b: "
        "<sip:referrer@referrer.example>;cid=\"20398823.2UWQFN309shb3@referrer."
        "example\"\r\n"
        "Content-Length: 0\r\n"
        "\r\n";
    assert_int_equal(parse(m), 0);
    struct cap_sip_nameaddr na;
    assert_int_equal(cap_sip_nameaddr(msg.hdr[CAP_H_FROM], &na), 0);
    assert_slice(na.uri, "sip:referrer@referrer.example");
    assert_slice(na.tag, "39092342");
    assert_int_equal(cap_sip_nameaddr(msg.hdr[CAP_H_REFERRED_BY], &na), 0);
    assert_slice(na.uri, "sip:referrer@referrer.example");
    struct cdr_slice cid;
    assert_int_equal(cap_sip_param(na.params, "cid", &cid), 0);
    assert_slice(cid, "20398823.2UWQFN309shb3@referrer.example");
    assert_int_equal(cap_sip_nameaddr(msg.hdr[CAP_H_REFER_TO], &na), 0);
    struct cap_sip_uri u;
    assert_int_equal(cap_sip_uri(na.uri, &u), 0);
    assert_slice(u.user, "refertarget");
    /* Contact without a user part. */
    assert_int_equal(cap_sip_nameaddr(msg.hdr[CAP_H_CONTACT], &na), 0);
    assert_int_equal(cap_sip_uri(na.uri, &u), 0);
    assert_int_equal(u.user.n, 0);
    assert_slice(u.host, "referrer.example");
}

/* RFC 4488: Refer-Sub: false in the REFER and the 202. */
static void
test_rfc4488_refer_sub_false(void **state)
{
    (void)state;
    const char *m =
        "SIP/2.0 202 Accepted\r\n"
        "Via: SIP/2.0/UDP agenta.example.com;branch=z9hG4bK2293940223\r\n"
        "To: <sip:b@example.com>;tag=4992881234\r\n"
        "From: <sip:a@example.com>;tag=193402342\r\n"
        "Call-ID: 898234234@agenta.example.com\r\n"
        "CSeq: 93809823 REFER\r\n"
        "Contact: <sip:b@client.example.com>\r\n"
        "Refer-Sub: false\r\n"
        "Require: norefersub\r\n"
        "Content-Length: 0\r\n"
        "\r\n";
    assert_int_equal(parse(m), 0);
    assert_int_equal(msg.status, 202);
    assert_int_equal(msg.cseq_method, CAP_SIP_REFER);
    struct cdr_slice tok, params;
    assert_int_equal(cap_sip_token(msg.hdr[CAP_H_REFER_SUB], &tok, &params), 0);
    assert_true(cap_sip_eq(tok, "false"));
}

/* RFC 5589 attended transfer: Refer-To with an escaped Replaces header. */
static void
test_rfc5589_attended_refer_to_with_replaces(void **state)
{
    (void)state;
    const char *m =
        "REFER sip:transferee@192.0.2.4 SIP/2.0\r\n"
        "Via: SIP/2.0/UDP transferor.example;branch=z9hG4bKnashds9\r\n"
        "To: <sip:transferee@example>;tag=a6c85cf\r\n"
        "From: <sip:transferor@example>;tag=1928301774\r\n"
        "Call-ID: a84b4c76e66710\r\n"
        "CSeq: 314160 REFER\r\n"
        "Refer-To: "
        "<sips:transfertarget@example?Replaces=090459243588173445%3Bto-tag%"
        "3D7553452%3Bfrom-tag%3D31431>\r\n"
        "Referred-By: <sips:transferor@example>\r\n"
        "Content-Length: 0\r\n"
        "\r\n";
    assert_int_equal(parse(m), 0);
    struct cap_sip_nameaddr na;
    assert_int_equal(cap_sip_nameaddr(msg.hdr[CAP_H_REFER_TO], &na), 0);
    struct cap_sip_uri u;
    assert_int_equal(cap_sip_uri(na.uri, &u), 0);
    assert_slice(u.scheme, "sips");
    assert_slice(u.user, "transfertarget");
    assert_slice(u.host, "example");
    struct cdr_slice rep;
    assert_int_equal(cap_sip_uri_header(u.headers, "replaces", &rep), 0);
    char buf[128];
    assert_int_equal(cap_sip_unescape(rep, buf, sizeof buf), 48);
    assert_string_equal(buf,
                        "090459243588173445;to-tag=7553452;from-tag=31431");
}

static void
test_uri_forms(void **state)
{
    (void)state;
    struct cap_sip_uri u;
    const char *s = "sip:+1-415-555@[2001:db8::1]:5080;transport=tcp?x=y";
    assert_int_equal(cap_sip_uri((struct cdr_slice){s, strlen(s)}, &u), 0);
    assert_slice(u.user, "+1-415-555");
    assert_slice(u.host, "[2001:db8::1]");
    assert_int_equal(u.port, 5080);
    assert_slice(u.params, "transport=tcp");
    assert_slice(u.headers, "x=y");
    s = "tel:+14152909007;phone-context=x";
    assert_int_equal(cap_sip_uri((struct cdr_slice){s, strlen(s)}, &u), 0);
    assert_slice(u.user, "+14152909007");
    s = "sip:alice:secret@host:99999";
    assert_int_equal(cap_sip_uri((struct cdr_slice){s, strlen(s)}, &u), -1);
    s = "http://x";
    assert_int_equal(cap_sip_uri((struct cdr_slice){s, strlen(s)}, &u), -1);
    s = "sip:alice@";
    assert_int_equal(cap_sip_uri((struct cdr_slice){s, strlen(s)}, &u), -1);
    /* Display name with a comma and quotes keeps one value together. */
    s = "\"Doe, \\\"J\\\"\" <sip:j@x>;tag=1, <sip:k@y>";
    struct cdr_slice v, rest;
    assert_int_equal(
        cap_sip_first_value((struct cdr_slice){s, strlen(s)}, &v, &rest), 0);
    assert_slice(v, "\"Doe, \\\"J\\\"\" <sip:j@x>;tag=1");
    assert_slice(rest, " <sip:k@y>");
    struct cap_sip_nameaddr na;
    assert_int_equal(cap_sip_nameaddr(v, &na), 0);
    assert_slice(na.uri, "sip:j@x");
    assert_slice(na.tag, "1");
}

static void
test_keepalives_and_junk_before_start_line(void **state)
{
    (void)state;
    char buf[1024];
    snprintf(buf, sizeof buf, "\r\n\r\n\r\ngarbage line\r\n%s", rfc3261_ok);
    assert_int_equal(parse(buf), 0);
    assert_int_equal(msg.status, 200);
    assert_int_equal(parse("\r\n\r\n"), CAP_SIP_E_EMPTY);
    assert_int_equal(parse(""), CAP_SIP_E_EMPTY);
}

static void
test_lf_only_line_ends(void **state)
{
    (void)state;
    const char *m = "BYE sip:a@b SIP/2.0\n"
                    "Call-ID: x\n"
                    "CSeq: 2 BYE\n"
                    "From: <sip:a@b>;tag=1\n"
                    "To: <sip:c@d>;tag=2\n"
                    "\n";
    assert_int_equal(parse(m), 0);
    assert_int_equal(msg.method, CAP_SIP_BYE);
    assert_int_equal(msg.body.n, 0);
    assert_false(msg.has_content_length);
}

static void
test_sipfrag_bodies(void **state)
{
    (void)state;
    const char *bodies[] = {"SIP/2.0 100 Trying\r\n", "SIP/2.0 486 Busy Here\n",
                            "\r\nSIP/2.0 200 OK", "SIP/2.0 603"};
    int want[] = {100, 486, 200, 603};
    for (size_t i = 0; i < 4; i++) {
        int st = 0;
        assert_int_equal(
            cap_sip_sipfrag_status(
                (struct cdr_slice){bodies[i], strlen(bodies[i])}, &st),
            0);
        assert_int_equal(st, want[i]);
    }
    const char *bad[] = {"", "SIP/2.0 99 x", "INVITE sip:a@b SIP/2.0",
                         "SIP/2.0 2000 OK", "HTTP/1.1 200 OK"};
    for (size_t i = 0; i < 5; i++) {
        int st;
        assert_int_equal(cap_sip_sipfrag_status(
                             (struct cdr_slice){bad[i], strlen(bad[i])}, &st),
                         -1);
    }
}

/* Malformed inputs: each gives its error code. */
static void
test_malformed_messages_are_refused_with_a_code(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int code;
    } cases[] = {
        {"INVITE sip:a@b SIP/2.0\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\n"
         "From: a\r\nTo: b\r\nContent-Length: 10\r\n\r\nshort",
         CAP_SIP_E_TRUNCATED},
        {"INVITE sip:a@b SIP/2.0\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\n"
         "From: a\r\nTo: b\r\nContent-Length: -1\r\n\r\n",
         CAP_SIP_E_CONTENT_LENGTH},
        {"INVITE sip:a@b SIP/2.0\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\n"
         "From: a\r\nTo: b\r\nContent-Length: 99999999999999999999\r\n\r\n",
         CAP_SIP_E_CONTENT_LENGTH},
        {"INVITE sip:a@b SIP/2.0\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\n"
         "From: a\r\nTo: b\r\nl: 0\r\nl: 3\r\n\r\n",
         CAP_SIP_E_CONTENT_LENGTH},
        {"INVITE sip:a@b SIP/2.0\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\n"
         "From: a\r\nTo: b\r\n",
         CAP_SIP_E_TRUNCATED},
        {"INVITE sip:a@b SIP/2.0\r\nCall-ID: x\r\nCSeq: 1 INV",
         CAP_SIP_E_TRUNCATED},
        {"INVITE sip:a@b SIP/2.0\r\nCSeq: 1 INVITE\r\nFrom: a\r\nTo: b\r\n\r\n",
         CAP_SIP_E_MISSING},
        {"INVITE sip:a@b SIP/2.0\r\nCall-ID: x\r\nCSeq: one INVITE\r\n"
         "From: a\r\nTo: b\r\n\r\n",
         CAP_SIP_E_CSEQ},
        {"INVITE sip:a@b SIP/2.0\r\nCall-ID: x\r\nCSeq: 1\r\n"
         "From: a\r\nTo: b\r\n\r\n",
         CAP_SIP_E_CSEQ},
        {"INVITE sip:a@b SIP/2.0\r\nCall-ID x\r\n\r\n", CAP_SIP_E_HEADER},
        {"INVITE sip:a@b SIP/2.0\r\n folded-first: x\r\n\r\n",
         CAP_SIP_E_HEADER},
        {"HELLO WORLD\r\n\r\n", CAP_SIP_E_START_LINE},
        {"SIP/2.0 2000 OK\r\n\r\n", CAP_SIP_E_START_LINE},
        {"INVITE sip:a@b HTTP/1.1\r\n\r\n", CAP_SIP_E_START_LINE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = parse(cases[i].text);
        if (rc != cases[i].code)
            fail_msg("case %zu: got %d (%s), want %d", i, rc,
                     cap_sip_strerror(rc), cases[i].code);
    }
}

/* Every prefix of a valid message is parsed without reading past its end
 * (the buffer is exactly the prefix, so ASan sees any over-read). */
static void
test_every_truncation_is_safe(void **state)
{
    (void)state;
    const char *srcs[] = {rfc3261_invite, rfc3515_notify, rfc3261_ok};
    for (size_t k = 0; k < 3; k++) {
        size_t n = strlen(srcs[k]);
        for (size_t i = 0; i <= n; i++) {
            char *b = malloc(i ? i : 1);
            assert_non_null(b);
            memcpy(b, srcs[k], i);
            int rc = cap_sip_parse(b, b + i, &msg);
            if (rc == 0) {
                assert_true(msg.raw.p + msg.raw.n <= b + i);
                /* helpers on every slice stay in bounds too */
                struct cap_sip_nameaddr na;
                struct cap_sip_uri u;
                if (cap_sip_nameaddr(msg.hdr[CAP_H_FROM], &na) == 0)
                    (void)cap_sip_uri(na.uri, &u);
            }
            free(b);
        }
    }
}

static void
test_too_many_headers(void **state)
{
    (void)state;
    size_t cap = 64 + (CAP_SIP_MAX_HEADERS + 2) * 8;
    char *b = malloc(cap);
    assert_non_null(b);
    size_t n = (size_t)snprintf(b, cap, "OPTIONS sip:a@b SIP/2.0\r\n");
    for (int i = 0; i < CAP_SIP_MAX_HEADERS + 1; i++)
        n += (size_t)snprintf(b + n, cap - n, "X: %d\r\n", i % 10);
    n += (size_t)snprintf(b + n, cap - n, "\r\n");
    assert_int_equal(cap_sip_parse(b, b + n, &msg), CAP_SIP_E_TOO_BIG);
    free(b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(
            test_rfc3261_invite_parses_start_line_headers_and_body),
        cmocka_unit_test(test_rfc3261_ok_with_via_list_counts_values),
        cmocka_unit_test(test_compact_forms_odd_case_and_folding),
        cmocka_unit_test(test_rfc3515_refer_and_notify),
        cmocka_unit_test(test_rfc3892_referred_by_and_rfc5589_compact_refer),
        cmocka_unit_test(test_rfc4488_refer_sub_false),
        cmocka_unit_test(test_rfc5589_attended_refer_to_with_replaces),
        cmocka_unit_test(test_uri_forms),
        cmocka_unit_test(test_keepalives_and_junk_before_start_line),
        cmocka_unit_test(test_lf_only_line_ends),
        cmocka_unit_test(test_sipfrag_bodies),
        cmocka_unit_test(test_malformed_messages_are_refused_with_a_code),
        cmocka_unit_test(test_every_truncation_is_safe),
        cmocka_unit_test(test_too_many_headers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

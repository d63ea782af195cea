/*
 * Tracker tests: message sequences fed as cap_message_fn calls, records
 * checked as lines (see tracker_helpers.h).  The four scenarios of
 * TRANSFERS.md and the ways real stacks differ.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <unistd.h>

#include "tracker_helpers.h"

struct fx {
    struct cap_config *cfg;
    struct cap_tracker *t;
    struct collected out;
};

static int
setup_opts(void **state, size_t max)
{
    struct fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_int_equal(parse_config(&f->cfg, test_deck, NULL), 0);
    struct cap_tracker_opts o;
    cap_tracker_opts_default(&o);
    if (max)
        o.max_dialogs = max;
    f->t = cap_tracker_new(f->cfg, &o, collect, &f->out);
    assert_non_null(f->t);
    *state = f;
    return 0;
}

static int
setup(void **state)
{
    return setup_opts(state, 0);
}

static int
teardown(void **state)
{
    struct fx *f = *state;
    cap_tracker_free(f->t);
    cap_config_free(f->cfg);
    free(f);
    return 0;
}

#define A "+14155550111"
#define B "+14155550100"

static void
invite(struct fx *f, long ms, const char *src, const char *dst, const char *cid,
       const char *ruri, const char *from, const char *to, const char *extra)
{
    assert_int_equal(feed(f->t, ms, src, dst,
                          "INVITE %s SIP/2.0\n"
                          "Via: SIP/2.0/UDP %s:5060;branch=z9hG4bK-%s-%ld\n"
                          "From: <%s>;tag=ft-%s\n"
                          "To: <%s>\n"
                          "Call-ID: %s\n"
                          "CSeq: 1 INVITE\n"
                          "Contact: <sip:x@%s>\n"
                          "%s"
                          "Content-Type: application/sdp\n"
                          "\n"
                          "v=0\n",
                          ruri, src, cid, ms, from, cid, to, cid, src,
                          extra ? extra : ""),
                     0);
}

static void
resp(struct fx *f, long ms, const char *src, const char *dst, const char *cid,
     int code, unsigned cseq, const char *method, const char *extra)
{
    assert_int_equal(feed(f->t, ms, src, dst,
                          "SIP/2.0 %d Whatever\n"
                          "Via: SIP/2.0/UDP %s:5060;branch=z9hG4bK-x\n"
                          "From: <sip:a@x>;tag=ft-%s\n"
                          "To: <sip:b@y>;tag=tt-%s\n"
                          "Call-ID: %s\n"
                          "CSeq: %u %s\n"
                          "%s"
                          "\n",
                          code, dst, cid, cid, cid, cseq, method,
                          extra ? extra : ""),
                     0);
}

static void
req(struct fx *f, long ms, const char *src, const char *dst, const char *cid,
    const char *method, unsigned cseq, const char *extra, const char *body)
{
    assert_int_equal(feed(f->t, ms, src, dst,
                          "%s sip:peer@%s SIP/2.0\n"
                          "Via: SIP/2.0/UDP %s:5060;branch=z9hG4bK-%s-%u\n"
                          "From: <sip:a@x>;tag=ft-%s\n"
                          "To: <sip:b@y>;tag=tt-%s\n"
                          "Call-ID: %s\n"
                          "CSeq: %u %s\n"
                          "Max-Forwards: 70\n"
                          "%s"
                          "\n%s",
                          method, dst, src, method, cseq, cid, cid, cid, cseq,
                          method, extra ? extra : "", body ? body : ""),
                     0);
}

static void
notify(struct fx *f, long ms, const char *src, const char *dst, const char *cid,
       unsigned cseq, const char *frag, int terminated)
{
    char extra[256];
    snprintf(extra, sizeof extra,
             "Event: refer\n"
             "Subscription-State: %s\n"
             "Content-Type: message/sipfrag;version=2.0\n",
             terminated ? "terminated;reason=noresource" : "active;expires=60");
    req(f, ms, src, dst, cid, "NOTIFY", cseq, extra, frag);
}

static void
expect(struct fx *f, size_t n, ...)
{
    va_list ap;
    va_start(ap, n);
    for (size_t i = 0; i < n; i++) {
        const char *want = va_arg(ap, const char *);
        if (i >= f->out.n)
            fail_msg("record %zu missing, want %s", i, want);
        assert_string_equal(f->out.lines[i], want);
    }
    va_end(ap);
    if (f->out.n != n)
        fail_msg("%zu records, want %zu (extra: %s)", f->out.n, n,
                 f->out.lines[n < f->out.n ? n : 0]);
}

/* A terminating call from A at the PBX to B, ringing (100 Trying). */
static void
term_invite(struct fx *f, long ms, const char *cid)
{
    invite(f, ms, PBX, CARRIER, cid, "sip:" B "@mytrunk.pstn.twilio.com",
           "sip:" A "@pbx.example.com", "sip:" B "@mytrunk.pstn.twilio.com",
           NULL);
    resp(f, ms + 100, CARRIER, PBX, cid, 100, 1, "INVITE", NULL);
}

/* A terminating parent call up at T0+1s, from A to B. */
static void
term_parent(struct fx *f, const char *cid)
{
    term_invite(f, 0, cid);
    resp(f, 1000, CARRIER, PBX, cid, 200, 1, "INVITE", NULL);
    req(f, 1010, PBX, CARRIER, cid, "ACK", 1, NULL, NULL);
}

/* An originating parent: the carrier delivers a PSTN call from A to B. */
static void
orig_parent(struct fx *f, const char *cid)
{
    invite(f, 0, CARRIER, PBX, cid, "sip:" B "@10.0.0.1",
           "sip:" A "@mytrunk.pstn.twilio.com", "sip:" B "@10.0.0.1", NULL);
    resp(f, 1000, PBX, CARRIER, cid, 200, 1, "INVITE", NULL);
}

static void
refer(struct fx *f, long ms, const char *src, const char *dst, const char *cid,
      const char *target, const char *extra)
{
    char h[512];
    snprintf(h, sizeof h,
             "Refer-To: %s\nReferred-By: <sip:pbx@pbx.example.com>\n%s", target,
             extra ? extra : "");
    req(f, ms, src, dst, cid, "REFER", 2, h, NULL);
}

static void
test_termination_sip_target_links_observed_child(void **state)
{
    struct fx *f = *state;
    term_parent(f, "p1");
    refer(f, 10000, PBX, CARRIER, "p1", "<sip:alice@pbx.example.com>", NULL);
    resp(f, 10050, CARRIER, PBX, "p1", 202, 2, "REFER", NULL);
    notify(f, 10060, CARRIER, PBX, "p1", 1, "SIP/2.0 100 Trying\n", 0);
    invite(f, 10100, CARRIER, PBX, "c1", "sip:alice@pbx.example.com",
           "sip:" B "@mytrunk.pstn.twilio.com", "sip:alice@pbx.example.com",
           "Referred-By: <sip:pbx@pbx.example.com>\n");
    resp(f, 15000, PBX, CARRIER, "c1", 200, 1, "INVITE", NULL);
    notify(f, 15010, CARRIER, PBX, "p1", 2, "SIP/2.0 200 OK\n", 1);
    req(f, 15500, PBX, CARRIER, "p1", "BYE", 3, NULL, NULL);
    req(f, 75200, CARRIER, PBX, "c1", "BYE", 2, NULL, NULL);
    expect(f, 2,
           "p1||trunking-terminating|" A "|" B
           "|0|15|15|completed|TK0001|sip:alice@pbx.example.com|completed",
           "c1|p1|trunking-terminating|" B "|sip:alice@pbx.example.com|10|75|"
           "61|completed|TK0001||");
}

/* A number at a PBX is a SIP target: the child's "to" keeps the URI, or
 * the rater would price it as a PSTN leg (two components) or refuse it.
 * The same number at the trunk's termination domain is a PSTN target. */
static void
test_numeric_sip_target_keeps_its_uri(void **state)
{
    struct fx *f = *state;
    term_parent(f, "p1");
    refer(f, 10000, PBX, CARRIER, "p1",
          "<sip:+14155550199@pbx.example.com;user=phone>", NULL);
    resp(f, 10050, CARRIER, PBX, "p1", 202, 2, "REFER", NULL);
    invite(f, 10100, CARRIER, PBX, "c1", "sip:+14155550199@pbx.example.com",
           "sip:" B "@mytrunk.pstn.twilio.com",
           "sip:+14155550199@pbx.example.com",
           "Referred-By: <sip:pbx@pbx.example.com>\n");
    resp(f, 15000, PBX, CARRIER, "c1", 200, 1, "INVITE", NULL);
    notify(f, 15010, CARRIER, PBX, "p1", 2, "SIP/2.0 200 OK\n", 1);
    req(f, 15500, PBX, CARRIER, "p1", "BYE", 3, NULL, NULL);
    req(f, 75200, CARRIER, PBX, "c1", "BYE", 2, NULL, NULL);
    expect(f, 2,
           "p1||trunking-terminating|" A "|" B "|0|15|15|completed|TK0001|"
           "sip:+14155550199@pbx.example.com;user=phone|completed",
           "c1|p1|trunking-terminating|" B
           "|sip:+14155550199@pbx.example.com|10|75|61|completed|TK0001||");
}

/* After the transfer has failed (NOTIFY 486, terminated), a call the PBX
 * itself places to the same number is an ordinary call, not the child: a
 * child comes from the REFER's recipient, and none comes after the final
 * report. */
static void
test_call_after_a_failed_transfer_is_not_its_child(void **state)
{
    struct fx *f = *state;
    term_parent(f, "p2");
    refer(f, 20000, PBX, CARRIER, "p2", "<tel:+14152908007>", NULL);
    resp(f, 20040, CARRIER, PBX, "p2", 202, 2, "REFER", NULL);
    notify(f, 21000, CARRIER, PBX, "p2", 1, "SIP/2.0 486 Busy Here\n", 1);
    invite(f, 60000, PBX, CARRIER, "new3",
           "sip:+14152908007@mytrunk.pstn.twilio.com",
           "sip:" B "@pbx.example.com",
           "sip:+14152908007@mytrunk.pstn.twilio.com", NULL);
    resp(f, 61000, CARRIER, PBX, "new3", 200, 1, "INVITE", NULL);
    /* and one the carrier brings to that number */
    invite(f, 70000, CARRIER, PBX, "new4", "sip:+14152908007@10.0.0.1",
           "sip:" A "@mytrunk.pstn.twilio.com", "sip:+14152908007@10.0.0.1",
           NULL);
    resp(f, 71000, PBX, CARRIER, "new4", 200, 1, "INVITE", NULL);
    req(f, 90000, PBX, CARRIER, "p2", "BYE", 3, NULL, NULL);
    req(f, 95000, PBX, CARRIER, "new3", "BYE", 2, NULL, NULL);
    req(f, 96000, PBX, CARRIER, "new4", "BYE", 2, NULL, NULL);
    expect(f, 3,
           "p2||trunking-terminating|" A "|" B
           "|0|90|89|completed|TK0001|tel:+14152908007|failed 486",
           "new3||trunking-terminating|" B
           "|+14152908007|60|95|34|completed|TK0001||",
           "new4||trunking-originating|" A
           "|+14152908007|70|96|25|completed|TK0001||");
}

static void
test_termination_pstn_target_gives_unobserved_child(void **state)
{
    struct fx *f = *state;
    term_parent(f, "p2");
    refer(f, 20000, PBX, CARRIER, "p2",
          "<sip:+14152908007@mytrunk.pstn.twilio.com;user=phone>", NULL);
    resp(f, 20040, CARRIER, PBX, "p2", 202, 2, "REFER", NULL);
    notify(f, 20050, CARRIER, PBX, "p2", 1, "SIP/2.0 100 Trying", 0);
    notify(f, 27000, CARRIER, PBX, "p2", 2, "SIP/2.0 200 OK\r\n", 1);
    req(f, 27100, PBX, CARRIER, "p2", "BYE", 3, NULL, NULL);
    expect(f, 2,
           "p2||trunking-terminating|" A "|" B "|0|27|27|completed|TK0001|"
           "sip:+14152908007@mytrunk.pstn.twilio.com;user=phone|completed",
           "p2;refer=2|p2|trunking-terminating|" B
           "|+14152908007|20|||unobserved|TK0001||");
}

static void
test_origination_sip_target_child_is_from_a(void **state)
{
    struct fx *f = *state;
    orig_parent(f, "p3");
    refer(f, 5000, PBX, CARRIER, "p3", "<sip:bob@pbx.example.com>", NULL);
    resp(f, 5050, CARRIER, PBX, "p3", 202, 2, "REFER", NULL);
    invite(f, 5200, CARRIER, PBX, "c3", "sip:bob@10.0.0.1",
           "sip:" A "@mytrunk.pstn.twilio.com", "sip:bob@pbx.example.com",
           NULL);
    resp(f, 9000, PBX, CARRIER, "c3", 200, 1, "INVITE", NULL);
    req(f, 9100, PBX, CARRIER, "p3", "BYE", 3, NULL, NULL);
    req(f, 30000, PBX, CARRIER, "c3", "BYE", 2, NULL, NULL);
    expect(f, 2,
           "p3||trunking-originating|" A "|" B
           "|0|9|9|completed|TK0001|sip:bob@pbx.example.com|completed",
           "c3|p3|trunking-originating|" A
           "|sip:bob@pbx.example.com|5|30|21|completed|TK0001||");
}

static void
test_origination_pstn_target_tel_uri(void **state)
{
    struct fx *f = *state;
    orig_parent(f, "p4");
    refer(f, 5000, PBX, CARRIER, "p4", "<tel:+1-415-290-9007>", NULL);
    resp(f, 5050, CARRIER, PBX, "p4", 202, 2, "REFER", NULL);
    notify(f, 9000, CARRIER, PBX, "p4", 1, "SIP/2.0 200 OK", 1);
    req(f, 9100, PBX, CARRIER, "p4", "BYE", 3, NULL, NULL);
    expect(f, 2,
           "p4||trunking-originating|" A "|" B
           "|0|9|9|completed|TK0001|tel:+1-415-290-9007|completed",
           "p4;refer=2|p4|trunking-originating|" A
           "|+14152909007|5|||unobserved|TK0001||");
}

static void
test_refused_refer_has_no_child(void **state)
{
    struct fx *f = *state;
    term_parent(f, "p5");
    refer(f, 5000, PBX, CARRIER, "p5", "<sip:911@mytrunk.pstn.twilio.com>",
          NULL);
    resp(f, 5050, CARRIER, PBX, "p5", 403, 2, "REFER", NULL);
    req(f, 60000, PBX, CARRIER, "p5", "BYE", 3, NULL, NULL);
    expect(f, 1,
           "p5||trunking-terminating|" A "|" B "|0|60|59|completed|TK0001|"
           "sip:911@mytrunk.pstn.twilio.com|refused 403");
}

static void
test_failed_transfer_busy_target(void **state)
{
    struct fx *f = *state;
    term_parent(f, "p6");
    refer(f, 5000, PBX, CARRIER, "p6",
          "<sip:+14152908007@mytrunk.pstn.twilio.com>", NULL);
    resp(f, 5050, CARRIER, PBX, "p6", 202, 2, "REFER", NULL);
    notify(f, 5060, CARRIER, PBX, "p6", 1, "SIP/2.0 100 Trying\n", 0);
    notify(f, 8000, CARRIER, PBX, "p6", 2, "SIP/2.0 486 Busy Here\n", 1);
    req(f, 20000, PBX, CARRIER, "p6", "BYE", 3, NULL, NULL);
    expect(f, 1,
           "p6||trunking-terminating|" A "|" B "|0|20|19|completed|TK0001|"
           "sip:+14152908007@mytrunk.pstn.twilio.com|failed 486");
}

static void
test_notify_before_202_counts_as_accepted(void **state)
{
    struct fx *f = *state;
    term_parent(f, "p7");
    refer(f, 5000, PBX, CARRIER, "p7",
          "sip:+14152908007@mytrunk.pstn.twilio.com", NULL);
    notify(f, 5010, CARRIER, PBX, "p7", 1, "SIP/2.0 100 Trying\n", 0);
    resp(f, 5020, CARRIER, PBX, "p7", 202, 2, "REFER", NULL);
    notify(f, 9000, CARRIER, PBX, "p7", 2, "SIP/2.0 200 OK\n", 1);
    req(f, 9100, PBX, CARRIER, "p7", "BYE", 3, NULL, NULL);
    expect(f, 2,
           "p7||trunking-terminating|" A "|" B "|0|9|9|completed|TK0001|"
           "sip:+14152908007@mytrunk.pstn.twilio.com|completed",
           "p7;refer=2|p7|trunking-terminating|" B
           "|+14152908007|5|||unobserved|TK0001||");
}

/* The PBX hangs up the held call 300 ms after the 202, before the target
 * even rings: the child is still linked, the parent waits for it. */
static void
test_bye_before_target_answers_still_links_child(void **state)
{
    struct fx *f = *state;
    term_parent(f, "p8");
    refer(f, 5000, PBX, CARRIER, "p8", "<sip:alice@pbx.example.com>", NULL);
    resp(f, 5050, CARRIER, PBX, "p8", 202, 2, "REFER", NULL);
    req(f, 5350, PBX, CARRIER, "p8", "BYE", 3, NULL, NULL);
    resp(f, 5360, CARRIER, PBX, "p8", 200, 3, "BYE", NULL);
    assert_int_equal(f->out.n, 0);
    invite(f, 5400, CARRIER, PBX, "c8", "sip:alice@pbx.example.com",
           "sip:" B "@mytrunk.pstn.twilio.com", "sip:alice@pbx.example.com",
           NULL);
    resp(f, 12000, PBX, CARRIER, "c8", 200, 1, "INVITE", NULL);
    req(f, 42000, CARRIER, PBX, "c8", "BYE", 2, NULL, NULL);
    expect(f, 2,
           "p8||trunking-terminating|" A "|" B "|0|5|5|completed|TK0001|"
           "sip:alice@pbx.example.com|completed",
           "c8|p8|trunking-terminating|" B
           "|sip:alice@pbx.example.com|5|42|30|completed|TK0001||");
}

static void
test_notify_in_new_dialog_rfc7647(void **state)
{
    struct fx *f = *state;
    term_parent(f, "p9");
    refer(f, 5000, PBX, CARRIER, "p9",
          "<sip:+14152908007@mytrunk.pstn.twilio.com>", NULL);
    resp(f, 5050, CARRIER, PBX, "p9", 202, 2, "REFER", NULL);
    assert_int_equal(feed(f->t, 5060, CARRIER, PBX,
                          "NOTIFY sip:pbx@127.0.0.1 SIP/2.0\n"
                          "Via: SIP/2.0/UDP 127.0.0.2;branch=z9hG4bKn1\n"
                          "From: <sip:carrier@x>;tag=n1\n"
                          "To: <sip:pbx@y>;tag=n2\n"
                          "Call-ID: notify-dialog-9\n"
                          "CSeq: 1 NOTIFY\n"
                          "Event: refer;id=2\n"
                          "Subscription-State: active\n"
                          "Content-Type: message/sipfrag\n"
                          "\n"
                          "SIP/2.0 180 Ringing\n"),
                     0);
    assert_int_equal(feed(f->t, 8000, CARRIER, PBX,
                          "NOTIFY sip:pbx@127.0.0.1 SIP/2.0\n"
                          "Via: SIP/2.0/UDP 127.0.0.2;branch=z9hG4bKn2\n"
                          "From: <sip:carrier@x>;tag=n1\n"
                          "To: <sip:pbx@y>;tag=n2\n"
                          "Call-ID: notify-dialog-9\n"
                          "CSeq: 2 NOTIFY\n"
                          "o: refer;id=2\n"
                          "Subscription-State: terminated\n"
                          "c: message/sipfrag\n"
                          "\n"
                          "SIP/2.0 200 OK\n"),
                     0);
    req(f, 8100, PBX, CARRIER, "p9", "BYE", 3, NULL, NULL);
    expect(f, 2,
           "p9||trunking-terminating|" A "|" B "|0|8|8|completed|TK0001|"
           "sip:+14152908007@mytrunk.pstn.twilio.com|completed",
           "p9;refer=2|p9|trunking-terminating|" B
           "|+14152908007|5|||unobserved|TK0001||");
}

static void
test_attended_transfer_is_recorded_as_such(void **state)
{
    struct fx *f = *state;
    term_parent(f, "p10");
    refer(f, 5000, PBX, CARRIER, "p10",
          "<sip:alice@pbx.example.com?Replaces=abc%40pbx%3Bto-tag%3D1%3Bfrom-"
          "tag%3D2>",
          NULL);
    resp(f, 5050, CARRIER, PBX, "p10", 202, 2, "REFER", NULL);
    notify(f, 5100, CARRIER, PBX, "p10", 1, "SIP/2.0 200 OK\n", 1);
    req(f, 5200, PBX, CARRIER, "p10", "BYE", 3, NULL, NULL);
    expect(f, 1,
           "p10||trunking-terminating|" A "|" B "|0|5|5|completed|TK0001|"
           "sip:alice@pbx.example.com|attended");
}

static void
test_refer_to_without_user_is_failed(void **state)
{
    struct fx *f = *state;
    term_parent(f, "p11");
    refer(f, 5000, PBX, CARRIER, "p11", "<sip:pbx.example.com>", NULL);
    resp(f, 5050, CARRIER, PBX, "p11", 202, 2, "REFER", NULL);
    notify(f, 5100, CARRIER, PBX, "p11", 1, "SIP/2.0 200 OK\n", 1);
    req(f, 5200, PBX, CARRIER, "p11", "BYE", 3, NULL, NULL);
    expect(f, 1,
           "p11||trunking-terminating|" A "|" B "|0|5|5|completed|TK0001|"
           "sip:pbx.example.com|failed");
}

static void
test_refer_sub_false_child_outcome_resolves(void **state)
{
    struct fx *f = *state;
    term_parent(f, "p12");
    refer(f, 5000, PBX, CARRIER, "p12", "<sip:alice@pbx.example.com>",
          "Refer-Sub: false\n");
    resp(f, 5050, CARRIER, PBX, "p12", 202, 2, "REFER", "Refer-Sub: false\n");
    req(f, 5100, PBX, CARRIER, "p12", "BYE", 3, NULL, NULL);
    invite(f, 5200, CARRIER, PBX, "c12", "sip:alice@pbx.example.com",
           "sip:" B "@mytrunk.pstn.twilio.com", "sip:alice@pbx.example.com",
           NULL);
    resp(f, 9000, PBX, CARRIER, "c12", 486, 1, "INVITE", NULL);
    expect(f, 2,
           "p12||trunking-terminating|" A "|" B "|0|5|5|completed|TK0001|"
           "sip:alice@pbx.example.com|failed 486",
           "c12|p12|trunking-terminating|" B
           "|sip:alice@pbx.example.com|5|9|0|busy|TK0001||");
}

static void
test_reinvite_and_auth_retry_make_one_call(void **state)
{
    struct fx *f = *state;
    invite(f, 0, PBX, CARRIER, "r1", "sip:" B "@mytrunk.pstn.twilio.com",
           "sip:" A "@pbx.example.com", "sip:" B "@mytrunk.pstn.twilio.com",
           NULL);
    resp(f, 50, CARRIER, PBX, "r1", 407, 1, "INVITE", NULL);
    assert_int_equal(feed(f->t, 100, PBX, CARRIER,
                          "INVITE sip:" B "@mytrunk.pstn.twilio.com SIP/2.0\n"
                          "Via: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKr2\n"
                          "From: <sip:" A "@pbx.example.com>;tag=ft-r1\n"
                          "To: <sip:" B "@mytrunk.pstn.twilio.com>\n"
                          "Call-ID: r1\n"
                          "CSeq: 2 INVITE\n"
                          "Proxy-Authorization: Digest username=\"x\"\n"
                          "\n"),
                     0);
    resp(f, 2000, CARRIER, PBX, "r1", 200, 2, "INVITE", NULL);
    /* a re-INVITE (hold) and its 200 */
    req(f, 3000, PBX, CARRIER, "r1", "INVITE", 3, NULL, NULL);
    resp(f, 3100, CARRIER, PBX, "r1", 200, 3, "INVITE", NULL);
    req(f, 62500, CARRIER, PBX, "r1", "BYE", 1, NULL, NULL);
    req(f, 62600, CARRIER, PBX, "r1", "BYE", 1, NULL, NULL); /* rexmit */
    expect(f, 1,
           "r1||trunking-terminating|" A "|" B "|0|62|61|completed|TK0001||");
    assert_int_equal(cap_tracker_stats(f->t)->dialogs, 1);
}

static void
test_unanswered_outcomes(void **state)
{
    struct fx *f = *state;
    const char *cids[] = {"u1", "u2", "u3", "u4"};
    for (int i = 0; i < 4; i++)
        invite(f, i, PBX, CARRIER, cids[i], "sip:" B "@mytrunk.pstn.twilio.com",
               "sip:" A "@pbx.example.com", "sip:" B "@mytrunk.pstn.twilio.com",
               NULL);
    resp(f, 1000, CARRIER, PBX, "u1", 486, 1, "INVITE", NULL);
    resp(f, 2000, CARRIER, PBX, "u2", 480, 1, "INVITE", NULL);
    req(f, 3000, PBX, CARRIER, "u3", "CANCEL", 1, NULL, NULL);
    resp(f, 3010, CARRIER, PBX, "u3", 487, 1, "INVITE", NULL);
    resp(f, 4000, CARRIER, PBX, "u4", 503, 1, "INVITE", NULL);
    expect(f, 4, "u1||trunking-terminating|" A "|" B "|0|1|0|busy|TK0001||",
           "u2||trunking-terminating|" A "|" B "|0|2|0|no-answer|TK0001||",
           "u3||trunking-terminating|" A "|" B "|0|3|0|canceled|TK0001||",
           "u4||trunking-terminating|" A "|" B "|0|4|0|failed|TK0001||");
}

static void
test_calls_off_trunk_are_ignored_and_counted(void **state)
{
    struct fx *f = *state;
    invite(f, 0, PBX, OTHER, "x1", "sip:1000@other.example.com",
           "sip:2000@pbx.example.com", "sip:1000@other.example.com", NULL);
    resp(f, 100, OTHER, PBX, "x1", 200, 1, "INVITE", NULL);
    req(f, 5000, PBX, OTHER, "x1", "BYE", 2, NULL, NULL);
    assert_int_equal(f->out.n, 0);
    assert_int_equal(cap_tracker_stats(f->t)->ignored, 1);
    /* termination by domain alone (carrier address unknown) */
    invite(f, 6000, PBX, OTHER, "x2", "sip:" B "@MYTRUNK.pstn.twilio.com",
           "sip:" A "@pbx.example.com", "sip:" B "@mytrunk.pstn.twilio.com",
           NULL);
    resp(f, 6100, OTHER, PBX, "x2", 404, 1, "INVITE", NULL);
    expect(f, 1, "x2||trunking-terminating|" A "|" B "|6|6|0|failed|TK0001||");
}

static void
test_flush_writes_open_calls_in_progress(void **state)
{
    struct fx *f = *state;
    term_parent(f, "o1");
    invite(f, 2000, PBX, CARRIER, "o2", "sip:" B "@mytrunk.pstn.twilio.com",
           "sip:" A "@pbx.example.com", "sip:" B "@mytrunk.pstn.twilio.com",
           NULL);
    assert_int_equal(cap_tracker_flush(f->t), 0);
    expect(f, 2,
           "o1||trunking-terminating|" A "|" B "|0|||in-progress|TK0001||",
           "o2||trunking-terminating|" A "|" B "|2|||in-progress|TK0001||");
    assert_int_equal(cap_tracker_stats(f->t)->open_dialogs, 0);
}

static void
test_timeouts_expire_calls_and_free_memory(void **state)
{
    struct fx *f = *state;
    invite(f, 0, PBX, CARRIER, "t1", "sip:" B "@mytrunk.pstn.twilio.com",
           "sip:" A "@pbx.example.com", "sip:" B "@mytrunk.pstn.twilio.com",
           NULL);
    term_parent(f, "t2");
    assert_int_equal(cap_tracker_tick(f->t, T0 + 400), 0);
    expect(f, 1,
           "t1||trunking-terminating|" A "|" B "|0|0|0|no-answer|TK0001||");
    assert_int_equal(cap_tracker_tick(f->t, T0 + 20000), 0);
    expect(f, 2,
           "t1||trunking-terminating|" A "|" B "|0|0|0|no-answer|TK0001||",
           "t2||trunking-terminating|" A "|" B "|0|||in-progress|TK0001||");
    assert_int_equal(cap_tracker_tick(f->t, T0 + 20100), 0);
    assert_int_equal(cap_tracker_stats(f->t)->open_dialogs, 0);
    assert_int_equal(cap_tracker_stats(f->t)->dialogs_timed_out, 2);
}

static int
setup_small(void **state)
{
    return setup_opts(state, 3);
}

static void
test_max_dialogs_bounds_the_table(void **state)
{
    struct fx *f = *state;
    char cid[16];
    for (int i = 0; i < 5; i++) {
        snprintf(cid, sizeof cid, "m%d", i);
        invite(f, i, PBX, CARRIER, cid, "sip:" B "@mytrunk.pstn.twilio.com",
               "sip:" A "@pbx.example.com", "sip:" B "@mytrunk.pstn.twilio.com",
               NULL);
    }
    assert_int_equal(cap_tracker_stats(f->t)->dialogs, 3);
    assert_int_equal(cap_tracker_stats(f->t)->dialogs_dropped, 2);
    /* written calls make room */
    resp(f, 100, CARRIER, PBX, "m0", 486, 1, "INVITE", NULL);
    invite(f, 200, PBX, CARRIER, "m9", "sip:" B "@mytrunk.pstn.twilio.com",
           "sip:" A "@pbx.example.com", "sip:" B "@mytrunk.pstn.twilio.com",
           NULL);
    assert_int_equal(cap_tracker_stats(f->t)->dialogs, 4);
}

static void
test_garbage_is_counted_not_fatal(void **state)
{
    struct fx *f = *state;
    struct cap_meta m;
    memset(&m, 0, sizeof m);
    m.ts_sec = T0;
    const char *junk[] = {"\r\n\r\n", "hello", "INVITE sip:x SIP/2.0\r\n",
                          "SIP/2.0 200 OK\r\nCall-ID: q\r\n\r\n"};
    for (int i = 0; i < 4; i++)
        assert_int_equal(cap_tracker_message(f->t, &m, (const uint8_t *)junk[i],
                                             strlen(junk[i])),
                         0);
    assert_int_equal(cap_tracker_stats(f->t)->messages, 3);
    assert_int_equal(cap_tracker_stats(f->t)->parse_errors, 3);
}

static void
test_record_addr_forms(void **state)
{
    (void)state;
    char buf[128];
    struct {
        const char *in, *out;
    } cases[] = {
        {"sip:+14155550100@x.com;user=phone", "+14155550100"},
        {"tel:+1-415-555-0100;ext=1", "+14155550100"},
        {"sip:1001@10.0.0.1:5080;transport=udp", "sip:1001@10.0.0.1:5080"},
        {"SIP:alice@Example.com", "sip:alice@Example.com"},
        {"sip:+1234567890123456@x", "sip:+1234567890123456@x"},
        {"sips:bob@b.example?Replaces=x", "sips:bob@b.example"},
        {"sip:host.only", "sip:host.only"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(
            cap_record_addr(cases[i].in, strlen(cases[i].in), buf, sizeof buf),
            0);
        assert_string_equal(buf, cases[i].out);
    }
    assert_int_equal(cap_record_addr("mailto:x", 8, buf, sizeof buf), -1);
    assert_int_equal(cap_record_addr("sip:a@b", 7, buf, 4), -1);
}

static void
test_config_errors_have_line_and_column(void **state)
{
    (void)state;
    struct cap_config *c = NULL;
    struct cdr_diag d;
    const char *bad = "deck: x\ntrunks:\n  - sid: TK1\n    carrier_addresses: "
                      "[10.0.0.1, 300.1.1.1]\n";
    assert_int_equal(parse_config(&c, bad, &d), CDR_E_DECK);
    assert_null(c);
    assert_int_equal(d.line, 4);
    assert_int_equal(d.column, 35);
    char buf[512];
    cdr_diag_format(&d, buf, sizeof buf);
    assert_non_null(strstr(buf, "deck.yaml:4:35"));
    assert_non_null(strstr(buf, "300.1.1.1"));
    const char *cases[] = {
        "deck: x\n",
        "trunks: 3\n",
        ("trunks:\n  - sid: A\n    termination_domain: a\n  - sid: A\n"
         "    termination_domain: b\n"),
        "trunks:\n  - termination_domain: a\n",
        "trunks: [\n",
        "trunks:\n  - sid: A\n    carrier_addresses: [10.0.0.0/33]\n",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        d.line = 0;
        assert_int_not_equal(parse_config(&c, cases[i], &d), 0);
        assert_true(d.line > 0);
    }
    const char *ok = "rounding: half-up\ntrunks:\n  - sid: Z\n  - sid: A\n"
                     "    carrier_addresses: 2001:db8::/32\n"
                     "    caller_id_for_target: transferor\n";
    assert_int_equal(parse_config(&c, ok, NULL), 0);
    struct cap_addr a;
    set_addr(&a, "2001:db8:1::5", 5060);
    assert_non_null(cap_config_trunk_by_addr(c, &a));
    set_addr(&a, "2001:db9::5", 5060);
    assert_null(cap_config_trunk_by_addr(c, &a));
    cap_config_free(c);
}

/* Two transfers to the same queue at once: each child goes to the parent
 * whose transferee it presents as caller ID, else to the oldest REFER. */
static void
test_concurrent_transfers_to_one_target(void **state)
{
    struct fx *f = *state;
    invite(f, 0, PBX, CARRIER, "q1", "sip:+15550000001@mytrunk.pstn.twilio.com",
           "sip:" A "@pbx.example.com",
           "sip:+15550000001@mytrunk.pstn.twilio.com", NULL);
    resp(f, 500, CARRIER, PBX, "q1", 200, 1, "INVITE", NULL);
    invite(f, 100, PBX, CARRIER, "q2",
           "sip:+15550000002@mytrunk.pstn.twilio.com",
           "sip:" A "@pbx.example.com",
           "sip:+15550000002@mytrunk.pstn.twilio.com", NULL);
    resp(f, 600, CARRIER, PBX, "q2", 200, 1, "INVITE", NULL);
    refer(f, 1000, PBX, CARRIER, "q1", "<sip:queue@pbx.example.com>", NULL);
    refer(f, 1001, PBX, CARRIER, "q2", "<sip:queue@pbx.example.com>", NULL);
    /* the child of q2 shows up first, presenting q2's transferee */
    invite(f, 1100, CARRIER, PBX, "k2", "sip:queue@pbx.example.com",
           "sip:+15550000002@mytrunk.pstn.twilio.com",
           "sip:queue@pbx.example.com", NULL);
    invite(f, 1200, CARRIER, PBX, "k1", "sip:queue@pbx.example.com",
           "sip:+15550000001@mytrunk.pstn.twilio.com",
           "sip:queue@pbx.example.com", NULL);
    resp(f, 1300, PBX, CARRIER, "k1", 486, 1, "INVITE", NULL);
    resp(f, 1400, PBX, CARRIER, "k2", 486, 1, "INVITE", NULL);
    expect(f, 2,
           "k1|q1|trunking-terminating|+15550000001|sip:queue@pbx.example.com|"
           "1|1|0|busy|TK0001||",
           "k2|q2|trunking-terminating|+15550000002|sip:queue@pbx.example.com|"
           "1|1|0|busy|TK0001||");
    /* same caller ID (transferor presented): first come, first linked */
    req(f, 2000, PBX, CARRIER, "q1", "REFER", 5,
        "Refer-To: <sip:desk@pbx.example.com>\n", NULL);
    req(f, 2001, PBX, CARRIER, "q2", "REFER", 5,
        "Refer-To: <sip:desk@pbx.example.com>\n", NULL);
    invite(f, 2100, CARRIER, PBX, "d1", "sip:desk@pbx.example.com",
           "sip:pbx@pbx.example.com", "sip:desk@pbx.example.com", NULL);
    assert_int_equal(cap_tracker_flush(f->t), 0);
    assert_int_equal(f->out.n, 5); /* q1, q2 and d1 in progress */
    assert_non_null(strstr(f->out.lines[4], "d1|q1|"));
}

/* An unobserved child's sid quotes its parent's Call-ID while it fits in
 * a sid; a longer one is named by its cdr_hash, the project's one hash. */
static void
test_unobserved_child_sid_of_a_long_call_id_is_its_hash(void **state)
{
    struct fx *f = *state;
    char cid[2][CDR_MAX_SID + 1], want[2][2 * CDR_MAX_SID + 64];
    for (int i = 0; i < 2; i++) {
        size_t n = CDR_MAX_SID - 8 + (size_t)i; /* ";refer=2" is 8 bytes */
        memset(cid[i], 'a' + i, n);
        cid[i][n] = '\0';
        term_parent(f, cid[i]);
        refer(f, 20000, PBX, CARRIER, cid[i], "<tel:+14152908007>", NULL);
        resp(f, 20040, CARRIER, PBX, cid[i], 202, 2, "REFER", NULL);
        notify(f, 27000, CARRIER, PBX, cid[i], 2, "SIP/2.0 200 OK\n", 1);
        req(f, 27100, PBX, CARRIER, cid[i], "BYE", 3, NULL, NULL);
    }
    snprintf(want[0], sizeof want[0], "%s;refer=2|%s|", cid[0], cid[0]);
    snprintf(want[1], sizeof want[1], "xfer-%016llx-2|%s|",
             (unsigned long long)cdr_hash(cid[1], strlen(cid[1])), cid[1]);
    assert_int_equal(f->out.n, 4);
    assert_int_equal(strncmp(f->out.lines[1], want[0], strlen(want[0])), 0);
    assert_int_equal(strncmp(f->out.lines[3], want[1], strlen(want[1])), 0);
}

/* Many transfers pending at once to a few targets, their children coming
 * in another order: each child finds its own parent among those to its
 * target (the transferee it presents), and nothing is left pending. */
static void
test_many_pending_transfers_each_child_finds_its_parent(void **state)
{
    struct fx *f = *state;
    char cid[32], kid[32], from[64], to[64], target[64];
    enum { N = 60 };
    for (int i = 0; i < N; i++) {
        snprintf(cid, sizeof cid, "mp%d", i);
        snprintf(to, sizeof to, "sip:+1555%07d@mytrunk.pstn.twilio.com", i);
        invite(f, i, PBX, CARRIER, cid, to, "sip:" A "@pbx.example.com", to,
               NULL);
        resp(f, 500 + i, CARRIER, PBX, cid, 200, 1, "INVITE", NULL);
        snprintf(target, sizeof target, "<sip:queue%d@pbx.example.com>", i % 3);
        refer(f, 1000 + i, PBX, CARRIER, cid, target, NULL);
    }
    for (int i = N - 1; i >= 0; i--) {
        snprintf(kid, sizeof kid, "mk%d", i);
        snprintf(from, sizeof from, "sip:+1555%07d@mytrunk.pstn.twilio.com", i);
        snprintf(target, sizeof target, "sip:queue%d@pbx.example.com", i % 3);
        invite(f, 2000 + (N - i), CARRIER, PBX, kid, target, from, target,
               NULL);
    }
    assert_int_equal(cap_tracker_stats(f->t)->children_linked, N);
    for (int i = 0; i < N; i++) {
        snprintf(kid, sizeof kid, "mk%d", i);
        resp(f, 3000 + i, PBX, CARRIER, kid, 486, 1, "INVITE", NULL);
    }
    assert_int_equal(f->out.n, N);
    for (size_t j = 0; j < f->out.n; j++) {
        int i = -1;
        assert_int_equal(sscanf(f->out.lines[j], "mk%d|", &i), 1);
        snprintf(cid, sizeof cid, "|mp%d|", i);
        assert_non_null(strstr(f->out.lines[j], cid));
    }
}

/* Open calls and a pending transfer survive a restart through the state
 * file: the BYE and the child after the restart complete them. */
static void
test_state_file_resumes_open_calls(void **state)
{
    struct fx *f = *state;
    char path[] = "/tmp/referee-state-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    term_parent(f, "s1");
    refer(f, 5000, PBX, CARRIER, "s1", "<sip:alice@pbx.example.com>", NULL);
    resp(f, 5050, CARRIER, PBX, "s1", 202, 2, "REFER", NULL);
    invite(f, 6000, PBX, CARRIER, "s2\tweird%-",
           "sip:" B "@mytrunk.pstn.twilio.com", "sip:" A "@pbx.example.com",
           "sip:" B "@mytrunk.pstn.twilio.com", NULL);
    struct cdr_diag d;
    assert_int_equal(cap_tracker_save(f->t, path, &d), 0);
    assert_int_equal(cap_tracker_stats(f->t)->open_dialogs, 0);
    assert_int_equal(cap_tracker_flush(f->t), 0);
    assert_int_equal(f->out.n, 0);
    cap_tracker_free(f->t);

    f->t = cap_tracker_new(f->cfg, NULL, collect, &f->out);
    assert_int_equal(cap_tracker_load(f->t, path, &d), 2);
    invite(f, 7000, CARRIER, PBX, "s1c", "sip:alice@pbx.example.com",
           "sip:" B "@mytrunk.pstn.twilio.com", "sip:alice@pbx.example.com",
           NULL);
    resp(f, 8000, PBX, CARRIER, "s1c", 200, 1, "INVITE", NULL);
    req(f, 9000, PBX, CARRIER, "s1", "BYE", 3, NULL, NULL);
    resp(f, 9500, CARRIER, PBX, "s2\tweird%-", 486, 1, "INVITE", NULL);
    req(f, 20000, PBX, CARRIER, "s1c", "BYE", 3, NULL, NULL);
    expect(f, 3,
           "s1||trunking-terminating|" A "|" B
           "|0|9|8|completed|TK0001|sip:alice@pbx.example.com|completed",
           "s2\tweird%-||trunking-terminating|" A "|" B "|6|9|0|busy|TK0001||",
           "s1c|s1|trunking-terminating|" B
           "|sip:alice@pbx.example.com|7|20|12|completed|TK0001||");

    /* a damaged file is refused with its line */
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("state_version,call_id\n2,x,9\n", fp);
    fclose(fp);
    assert_int_equal(cap_tracker_load(f->t, path, &d), CDR_E_CSV);
    assert_int_equal(d.line, 1); /* the header lacks columns */
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("something else\n", fp);
    fclose(fp);
    assert_true(cap_tracker_load(f->t, path, &d) < 0);
    unlink(path);
    assert_true(cap_tracker_load(f->t, path, &d) < 0);
}

/* ---- the state file's format ---- */

static char state_path[64];

static void
write_text(const char *path, const char *text)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(text, 1, strlen(text), fp), strlen(text));
    assert_int_equal(fclose(fp), 0);
}

static char *
read_text(const char *path)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    char *buf = calloc(1, 1 << 16);
    assert_non_null(buf);
    size_t n = fread(buf, 1, (1 << 16) - 1, fp);
    buf[n] = '\0';
    fclose(fp);
    return buf;
}

/* The open calls of tests/fixtures/state/v1.state (written by the
 * version 1 tracker, see its README), made here by the same messages. */
static void
calls_of_the_v1_fixture(struct fx *f)
{
    term_parent(f, "s1");
    refer(f, 5000, PBX, CARRIER, "s1", "<sip:alice@pbx.example.com>", NULL);
    resp(f, 5050, CARRIER, PBX, "s1", 202, 2, "REFER", NULL);
    invite(f, 6000, PBX, CARRIER, "s2\tweird%-",
           "sip:" B "@mytrunk.pstn.twilio.com", "sip:" A "@pbx.example.com",
           "sip:" B "@mytrunk.pstn.twilio.com", NULL);
    orig_parent(f, "o1");
    refer(f, 7000, PBX, CARRIER, "o1", "<tel:+14155550199>", NULL);
    resp(f, 7050, CARRIER, PBX, "o1", 202, 2, "REFER", NULL);
}

/* What follows the restart, and the records it completes. */
static void
after_the_restart(struct fx *f)
{
    invite(f, 7100, CARRIER, PBX, "s1c", "sip:alice@pbx.example.com",
           "sip:" B "@mytrunk.pstn.twilio.com", "sip:alice@pbx.example.com",
           NULL);
    resp(f, 8000, PBX, CARRIER, "s1c", 200, 1, "INVITE", NULL);
    req(f, 9000, PBX, CARRIER, "s1", "BYE", 3, NULL, NULL);
    resp(f, 9500, CARRIER, PBX, "s2\tweird%-", 486, 1, "INVITE", NULL);
    notify(f, 10000, CARRIER, PBX, "o1", 1, "SIP/2.0 200 OK\n", 1);
    req(f, 11000, PBX, CARRIER, "o1", "BYE", 3, NULL, NULL);
    req(f, 20000, PBX, CARRIER, "s1c", "BYE", 3, NULL, NULL);
    assert_int_equal(cap_tracker_flush(f->t), 0);
    expect(f, 5,
           "s1||trunking-terminating|" A "|" B
           "|0|9|8|completed|TK0001|sip:alice@pbx.example.com|completed",
           "s2\tweird%-||trunking-terminating|" A "|" B "|6|9|0|busy|TK0001||",
           "o1||trunking-originating|" A "|" B
           "|0|11|10|completed|TK0001|tel:+14155550199|completed",
           "o1;refer=2|o1|trunking-originating|" A
           "|+14155550199|7|||unobserved|TK0001||",
           "s1c|s1|trunking-terminating|" B
           "|sip:alice@pbx.example.com|7|20|12|completed|TK0001||");
}

/* An upgrade keeps the calls open across it: a state file of version 1
 * (tab-separated) loads as the same calls a version 2 file holds, and
 * they end in the same records. */
static void
test_state_file_of_version_1_resumes_the_same_calls(void **state)
{
    struct fx *f = *state;
    char v2[] = "/tmp/referee-state-XXXXXX",
         again[] = "/tmp/referee-state-XXXXXX";
    int fd = mkstemp(v2);
    assert_true(fd >= 0);
    close(fd);
    fd = mkstemp(again);
    assert_true(fd >= 0);
    close(fd);
    struct cdr_diag d;
    calls_of_the_v1_fixture(f);
    assert_int_equal(cap_tracker_save(f->t, v2, &d), 0);

    char v1[4200];
    snprintf(v1, sizeof v1, "%s/tests/fixtures/state/v1.state",
             getenv("REFEREE_SOURCE_DIR"));
    cap_tracker_free(f->t);
    f->t = cap_tracker_new(f->cfg, NULL, collect, &f->out);
    if (cap_tracker_load(f->t, v1, &d) != 3) {
        char buf[1024];
        cdr_diag_format(&d, buf, sizeof buf);
        fail_msg("%s", buf);
    }
    /* saved again, it is the version 2 file of the same calls */
    assert_int_equal(cap_tracker_save(f->t, again, &d), 0);
    char *want = read_text(v2), *got = read_text(again);
    assert_string_equal(got, want);
    free(want);
    free(got);

    cap_tracker_free(f->t);
    f->t = cap_tracker_new(f->cfg, NULL, collect, &f->out);
    assert_int_equal(cap_tracker_load(f->t, v1, &d), 3);
    after_the_restart(f);
    f->out.n = 0;
    cap_tracker_free(f->t);
    f->t = cap_tracker_new(f->cfg, NULL, collect, &f->out);
    assert_int_equal(cap_tracker_load(f->t, v2, &d), 3);
    after_the_restart(f);
    unlink(v2);
    unlink(again);
}

/* A fresh tracker (max dialogs, 0: default) loads text as a state file. */
static int
load_text(struct fx *f, size_t max, const char *text, struct cdr_diag *d)
{
    struct cap_tracker_opts o;
    cap_tracker_opts_default(&o);
    if (max)
        o.max_dialogs = max;
    cap_tracker_free(f->t);
    f->t = cap_tracker_new(f->cfg, &o, collect, &f->out);
    assert_non_null(f->t);
    write_text(state_path, text);
    return cap_tracker_load(f->t, state_path, d);
}

static int
setup_state(void **state)
{
    snprintf(state_path, sizeof state_path, "/tmp/referee-state-XXXXXX");
    int fd = mkstemp(state_path);
    assert_true(fd >= 0);
    close(fd);
    return setup(state);
}

static int
teardown_state(void **state)
{
    unlink(state_path);
    return teardown(state);
}

/* The header row, as a save of no calls writes it. */
static char *
state_header(struct fx *f)
{
    struct cdr_diag d;
    assert_int_equal(cap_tracker_save(f->t, state_path, &d), 0);
    return read_text(state_path);
}

#define ROW_EARLY                                                              \
    "2,e1,early,1778400006000000,early,,0,trunking-terminating,TK0001,"        \
    "+14155550111,+14155550100,,,1,1778400006000000,0,0,127.0.0.1:5060,"       \
    "[::1]:5060,,,,,,,,,,,,,,,,,,,,,\n"
#define ROW_XFER                                                               \
    "2,s1,confirmed,1778400005000000,confirmed,,0,trunking-terminating,"       \
    "TK0001,+14155550111,+14155550100,,,1,1778400000000000,1778400001000000,"  \
    "0,127.0.0.1:5060,127.0.0.2:5060,2,1778400005000000,0,127.0.0.1:5060,"     \
    "127.0.0.2:5060,0,0,0,0,0,0,0,0,0,0,1,sip:alice@pbx.example.com,"          \
    "sip:alice@pbx.example.com,alice,sip:pbx@pbx.example.com,14155550100\n"

/* Strings with commas, quotes, line breaks, spaces at their ends and
 * bytes outside ASCII go through the state file unchanged: saved, loaded
 * and saved again byte for byte, and the records written afterwards carry
 * them as they were. */
static void
test_state_file_round_trips_hostile_strings(void **state)
{
    struct fx *f = *state;
    struct cdr_diag d;
    static const char *const cids[] = {"h1,\"q\"\xc3\xa9", " h2\t%-,x",
                                       "h3\xff\xfe;\"\""};
    for (int i = 0; i < 3; i++) {
        term_parent(f, cids[i]);
        refer(f, 5000 + i, PBX, CARRIER, cids[i], "<sip:alice@pbx.example.com>",
              NULL);
    }
    assert_int_equal(cap_tracker_save(f->t, state_path, &d), 0);
    char *first = read_text(state_path);
    assert_int_equal(load_text(f, 0, first, &d), 3);
    assert_int_equal(cap_tracker_save(f->t, state_path, &d), 0);
    char *second = read_text(state_path);
    assert_string_equal(first, second);
    free(second);

    /* line breaks (which no SIP header holds) in a Call-ID, a number and
     * a transfer target, written by hand */
    char *text = calloc(1, 1 << 16);
    assert_non_null(text);
    char *hdr = first;
    *strchr(hdr, '\n') = '\0';
    snprintf(text, 1 << 16,
             "%s\n2,\"c\r\n1,\"\"x\"\"\n\",confirmed,1778400005000000,"
             "confirmed,,0,trunking-terminating,TK0001,\"+1\n2 \xc3\xa9\","
             "+14155550100,,,1,1778400000000000,1778400001000000,0,"
             "127.0.0.1:5060,127.0.0.2:5060,2,1778400005000000,0,"
             "127.0.0.1:5060,127.0.0.2:5060,0,0,0,0,0,0,0,0,0,0,1,"
             "\"sip:a\nb@pbx\",sip:ab@pbx,ab,,ab\n",
             hdr);
    assert_int_equal(load_text(f, 0, text, &d), 1);
    assert_int_equal(cap_tracker_save(f->t, state_path, &d), 0);
    second = read_text(state_path);
    assert_string_equal(second, text);
    assert_int_equal(load_text(f, 0, text, &d), 1);
    assert_int_equal(cap_tracker_flush(f->t), 0);
    expect(f, 1,
           "c\r\n1,\"x\"\n||trunking-terminating|+1\n2 \xc3\xa9|+14155550100|"
           "0|||in-progress|TK0001|sip:a\nb@pbx|pending");
    free(second);
    free(text);
    free(first);
}

/* A version 1 file is read as strictly as version 2: any problem refuses
 * it with its line and field. */
static void
test_malformed_v1_state_files_are_refused_with_line_and_field(void **state)
{
    struct fx *f = *state;
    struct cdr_diag d;
#define V1 "referee-capture-state 1\n"
#define A4 "2,7f000001000000000000000000000000,5060"
#define V1D(cid, st)                                                           \
    "D\t" cid "\t" st "\t0\t0\t1\tTK0001\t+14155550111\t+14155550100\t-\t-\t1" \
    "\t1778400006000000\t0\t0\t0\t1778400006000000\t" A4 "\t" A4 "\n"
#define V1X(pending)                                                           \
    "X\t2\t1778400005000000\t0\t" A4 "\t" A4 "\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0"  \
    "\t" pending "\tsip:alice@pbx\tsip:alice@pbx\talice\t-\t1415\n"
    assert_int_equal(load_text(f, 0, V1 V1D("a%20b", "0") V1X("1"), &d), 1);
    static const struct {
        const char *text;
        long line;
        const char *field; /* NULL: the line as a whole */
    } cases[] = {
        {V1 V1D("a", "9"), 2, "state"},
        {V1 V1D("a%2", "0"), 2, "call_id"},
        {V1 V1D("a", "0") V1D("a", "0"), 3, "call_id"},
        {V1 V1X("1"), 2, NULL},
        {V1 V1D("a", "0") V1X("x"), 3, "in_pending"},
        {V1 V1D("a", "0") "D\tb\n", 3, NULL},
        {V1 V1D("a", "0") "Z\tb\n", 3, NULL},
        {V1 "D\ta", 2, NULL},                                /* cut short */
        {"referee-capture-state 1\r\n", 1, "state_version"}, /* not v1 */
        {V1 "D\ta\t0\t0\t0\t1\tTK0001\t-\t-\t-\t-\t1\t0\t0\t0\t0\t0\t"
            "2,7f00000100000000000000000000000,5060\t" A4 "\n",
         2, "src"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = load_text(f, 0, cases[i].text, &d);
        if (rc >= 0 || d.line != cases[i].line ||
            (cases[i].field ? strcmp(d.field, cases[i].field) != 0
                            : d.field[0] != '\0'))
            fail_msg("case %zu: rc %d line %ld field \"%s\": %s", i, rc, d.line,
                     d.field, d.message);
    }
    /* a line over its bound */
    char *text = calloc(1, 1 << 16);
    assert_non_null(text);
    memcpy(text, V1 "D\t", strlen(V1) + 2);
    memset(text + strlen(V1) + 2, 'x', 20000);
    strcat(text, "\n");
    assert_int_equal(load_text(f, 0, text, &d), CDR_E_CSV);
    assert_int_equal(d.line, 2);
    free(text);
#undef V1
#undef A4
#undef V1D
#undef V1X
}

/* A state file that is not whole, or not of this version, is refused with
 * the file, its line and the field. */
static void
test_malformed_state_files_are_refused_with_line_and_field(void **state)
{
    struct fx *f = *state;
    struct cdr_diag d;
    char *hdr = state_header(f);
    char *good = calloc(1, 1 << 16), *text = calloc(1, 1 << 16);
    assert_non_null(good);
    assert_non_null(text);
    snprintf(good, 1 << 16, "%s%s%s", hdr, ROW_EARLY, ROW_XFER);
    assert_int_equal(load_text(f, 0, good, &d), 2);
    struct {
        const char *from, *to; /* in the good file: the first from, to */
        size_t cut;            /* or: the good file without its last bytes */
        int code;
        long line;
        const char *field;
    } cases[] = {
        {NULL, NULL, 20, CDR_E_CSV, 3, ""},
        {",0,1,sip:alice", ",0,1,\"sip:alice", 0, CDR_E_CSV, 3, ""},
        {",1778400006000000,0,0,", ",abc,0,0,", 0, CDR_E_CSV, 2, "invite_us"},
        {"e1,early", "e1,ringing", 0, CDR_E_CSV, 2, "class"},
        {"2,s1,", "3,s1,", 0, CDR_E_CSV, 3, "state_version"},
        {",answer_us,", ",answered,", 0, CDR_E_CSV, 1, "answer_us"},
        {"[::1]:5060", "[::1]", 0, CDR_E_CSV, 2, "dst"},
        {"127.0.0.2:5060,0,0,0,0,", "127.0.0.2:5060,0,2,0,0,", 0, CDR_E_CSV, 3,
         "accepted"},
        {"[::1]:5060,,,", "[::1]:5060,,7,", 0, CDR_E_CSV, 2, "refer_us"},
        {"1778400006000000,early,,", "1778400006000000,early,done,", 0,
         CDR_E_CSV, 2, "status"},
        {"2,s1,", "2,e1,", 0, CDR_E_CSV, 3, "call_id"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (cases[i].from != NULL) {
            char *at = strstr(good, cases[i].from);
            assert_non_null(at);
            snprintf(text, 1 << 16, "%.*s%s%s", (int)(at - good), good,
                     cases[i].to, at + strlen(cases[i].from));
        } else {
            snprintf(text, 1 << 16, "%.*s", (int)(strlen(good) - cases[i].cut),
                     good);
        }
        int rc = load_text(f, 0, text, &d);
        if (rc != cases[i].code || d.line != cases[i].line ||
            strcmp(d.field, cases[i].field) != 0)
            fail_msg("case %zu: %d line %ld field \"%s\" (%s)", i, rc, d.line,
                     d.field, d.message);
        char buf[1024];
        cdr_diag_format(&d, buf, sizeof buf);
        snprintf(text, 1 << 16, "%s:%ld: ", state_path, cases[i].line);
        assert_non_null(strstr(buf, text));
    }
    /* a field over its bound */
    char from[400];
    memset(from, '9', 300);
    from[300] = '\0';
    const char *at = strstr(ROW_EARLY, "+14155550111,");
    snprintf(text, 1 << 16, "%s%.*s%s%s", hdr, (int)(at - ROW_EARLY), ROW_EARLY,
             from, at + 12);
    assert_int_equal(load_text(f, 0, text, &d), CDR_E_CSV);
    assert_int_equal(d.line, 2);
    assert_string_equal(d.field, "from");
    /* the format before this one, damaged; an empty file, too many calls */
    assert_int_equal(load_text(f, 0, "referee-capture-state 1\nD\tx\t9\n", &d),
                     CDR_E_CSV);
    assert_int_equal(d.line, 2);
    assert_non_null(strstr(d.message, "version 1"));
    assert_non_null(strstr(d.message, "without its 19 fields"));
    assert_int_equal(load_text(f, 0, "", &d), CDR_E_CSV);
    assert_int_equal(load_text(f, 1, good, &d), CDR_E_LIMIT);
    assert_int_equal(d.line, 3);
    free(good);
    free(text);
    free(hdr);
}

/* A source's tick ahead of the packets' clock (HEP agents, a late packet)
 * moves timeouts, never a call's own times. */
static void
test_tick_ahead_does_not_stretch_durations(void **state)
{
    struct fx *f = *state;
    term_parent(f, "k1");
    assert_int_equal(cap_tracker_tick(f->t, T0 + 20), 0);
    req(f, 10000, PBX, CARRIER, "k1", "BYE", 3, NULL, NULL);
    expect(f, 1,
           "k1||trunking-terminating|" A "|" B "|0|10|9|completed|TK0001||");
}

/* The 200 OK lost (a capture drop): the ACK and the BYE that follow show
 * the call was answered; it is billed from the ACK, not written as
 * canceled. */
static void
test_answer_lost_but_acked_is_completed(void **state)
{
    struct fx *f = *state;
    term_invite(f, 0, "l1");
    req(f, 1010, PBX, CARRIER, "l1", "ACK", 1, NULL, NULL);
    req(f, 10000, PBX, CARRIER, "l1", "BYE", 2, NULL, NULL);
    expect(f, 1,
           "l1||trunking-terminating|" A "|" B "|0|10|9|completed|TK0001||");
}

/* A CANCEL that crosses the 200 OK: the answer stands (the carrier bills
 * the call); a CANCEL answered by 487 is a canceled call. */
static void
test_cancel_crossing_the_answer_is_completed(void **state)
{
    struct fx *f = *state;
    term_invite(f, 0, "x1");
    req(f, 9000, PBX, CARRIER, "x1", "CANCEL", 1, NULL, NULL);
    resp(f, 9001, CARRIER, PBX, "x1", 200, 1, "INVITE", NULL);
    resp(f, 9002, CARRIER, PBX, "x1", 200, 1, "CANCEL", NULL);
    req(f, 9010, PBX, CARRIER, "x1", "ACK", 1, NULL, NULL);
    term_invite(f, 20000, "x2");
    req(f, 25000, PBX, CARRIER, "x2", "CANCEL", 1, NULL, NULL);
    resp(f, 25010, CARRIER, PBX, "x2", 487, 1, "INVITE", NULL);
    req(f, 70000, PBX, CARRIER, "x1", "BYE", 2, NULL, NULL);
    expect(f, 2,
           "x2||trunking-terminating|" A "|" B "|20|25|0|canceled|TK0001||",
           "x1||trunking-terminating|" A "|" B "|0|70|61|completed|TK0001||");
}

int
main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_termination_sip_target_links_observed_child),
        T(test_termination_pstn_target_gives_unobserved_child),
        T(test_origination_sip_target_child_is_from_a),
        T(test_origination_pstn_target_tel_uri),
        T(test_refused_refer_has_no_child),
        T(test_failed_transfer_busy_target),
        T(test_notify_before_202_counts_as_accepted),
        T(test_bye_before_target_answers_still_links_child),
        T(test_notify_in_new_dialog_rfc7647),
        T(test_attended_transfer_is_recorded_as_such),
        T(test_refer_to_without_user_is_failed),
        T(test_numeric_sip_target_keeps_its_uri),
        T(test_call_after_a_failed_transfer_is_not_its_child),
        T(test_answer_lost_but_acked_is_completed),
        T(test_cancel_crossing_the_answer_is_completed),
        T(test_refer_sub_false_child_outcome_resolves),
        T(test_concurrent_transfers_to_one_target),
        T(test_unobserved_child_sid_of_a_long_call_id_is_its_hash),
        T(test_many_pending_transfers_each_child_finds_its_parent),
        T(test_state_file_resumes_open_calls),
        T(test_state_file_of_version_1_resumes_the_same_calls),
        cmocka_unit_test_setup_teardown(
            test_state_file_round_trips_hostile_strings, setup_state,
            teardown_state),
        cmocka_unit_test_setup_teardown(
            test_malformed_state_files_are_refused_with_line_and_field,
            setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(
            test_malformed_v1_state_files_are_refused_with_line_and_field,
            setup_state, teardown_state),
        T(test_tick_ahead_does_not_stretch_durations),
        T(test_reinvite_and_auth_retry_make_one_call),
        T(test_unanswered_outcomes),
        T(test_calls_off_trunk_are_ignored_and_counted),
        T(test_flush_writes_open_calls_in_progress),
        T(test_timeouts_expire_calls_and_free_memory),
        cmocka_unit_test_setup_teardown(test_max_dialogs_bounds_the_table,
                                        setup_small, teardown),
        T(test_garbage_is_counted_not_fatal),
        cmocka_unit_test(test_record_addr_forms),
        cmocka_unit_test(test_config_errors_have_line_and_column),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

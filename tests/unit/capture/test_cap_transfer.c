/*
 * Transfer tests: REFER flows fed to the tracker, parents and children
 * checked as record lines (see tracker_fixture.h).  The four scenarios of
 * rating/README.md and the ways real stacks differ.
 */
#include "tracker_fixture.h"

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
        T(test_refer_sub_false_child_outcome_resolves),
        T(test_concurrent_transfers_to_one_target),
        T(test_unobserved_child_sid_of_a_long_call_id_is_its_hash),
        T(test_many_pending_transfers_each_child_finds_its_parent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

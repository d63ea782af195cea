/*
 * Call tests without a transfer: answers, cancels, retries and failures
 * as records (see tracker_fixture.h); calls off the trunk, timeouts, the
 * bound on dialogs followed, and what is not SIP.
 */
#include "tracker_fixture.h"

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
        T(test_answer_lost_but_acked_is_completed),
        T(test_cancel_crossing_the_answer_is_completed),
        T(test_tick_ahead_does_not_stretch_durations),
        T(test_reinvite_and_auth_retry_make_one_call),
        T(test_unanswered_outcomes),
        T(test_calls_off_trunk_are_ignored_and_counted),
        T(test_flush_writes_open_calls_in_progress),
        T(test_timeouts_expire_calls_and_free_memory),
        cmocka_unit_test_setup_teardown(test_max_dialogs_bounds_the_table,
                                        setup_small, teardown),
        T(test_garbage_is_counted_not_fatal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

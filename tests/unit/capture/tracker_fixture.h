/*
 * The tracker tests' fixture: a tracker on the test deck whose records are
 * collected (see tracker_helpers.h), and the SIP messages of the tests
 * (INVITE, responses, requests, NOTIFY, REFER, the parent calls) fed to it.
 * Header-only, static inline functions: each test file uses its part.
 */
#ifndef REFEREE_TEST_TRACKER_FIXTURE_H
#define REFEREE_TEST_TRACKER_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tracker_helpers.h"

struct fx {
    struct cap_config *cfg;
    struct cap_tracker *t;
    struct collected out;
};

static inline int
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

static inline int
setup(void **state)
{
    return setup_opts(state, 0);
}

static inline int
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

static inline void
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

static inline void
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

static inline void
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

static inline void
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

static inline void
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
static inline void
term_invite(struct fx *f, long ms, const char *cid)
{
    invite(f, ms, PBX, CARRIER, cid, "sip:" B "@mytrunk.pstn.twilio.com",
           "sip:" A "@pbx.example.com", "sip:" B "@mytrunk.pstn.twilio.com",
           NULL);
    resp(f, ms + 100, CARRIER, PBX, cid, 100, 1, "INVITE", NULL);
}

/* A terminating parent call up at T0+1s, from A to B. */
static inline void
term_parent(struct fx *f, const char *cid)
{
    term_invite(f, 0, cid);
    resp(f, 1000, CARRIER, PBX, cid, 200, 1, "INVITE", NULL);
    req(f, 1010, PBX, CARRIER, cid, "ACK", 1, NULL, NULL);
}

/* An originating parent: the carrier delivers a PSTN call from A to B. */
static inline void
orig_parent(struct fx *f, const char *cid)
{
    invite(f, 0, CARRIER, PBX, cid, "sip:" B "@10.0.0.1",
           "sip:" A "@mytrunk.pstn.twilio.com", "sip:" B "@10.0.0.1", NULL);
    resp(f, 1000, PBX, CARRIER, cid, 200, 1, "INVITE", NULL);
}

static inline void
refer(struct fx *f, long ms, const char *src, const char *dst, const char *cid,
      const char *target, const char *extra)
{
    char h[512];
    snprintf(h, sizeof h,
             "Refer-To: %s\nReferred-By: <sip:pbx@pbx.example.com>\n%s", target,
             extra ? extra : "");
    req(f, ms, src, dst, cid, "REFER", 2, h, NULL);
}

#endif

#include "rating/price/rt_scenario.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

static const struct cdr_trunk both_on = {.sid = "TK1",
                                         .transfers = 1,
                                         .pstn_transfers = 1,
                                         .termination_domain =
                                             "t1.pstn.twilio.com"};
static const struct cdr_trunk pstn_off = {
    .sid = "TK2", .transfers = 1, .pstn_transfers = 0};
static const struct cdr_trunk transfers_off = {
    .sid = "TK3", .transfers = 0, .pstn_transfers = 1};

static int
classify(enum cdr_direction dir, const struct cdr_trunk *t, const char *target,
         enum rt_scenario *scn, struct cdr_diag *d)
{
    struct cdr_slice s = {target, strlen(target)};
    cdr_diag_clear(d);
    return rt_classify(dir, t, &s, scn, d);
}

static void
test_target_kind_rules(void **state)
{
    (void)state;
    static const struct {
        const char *target;
        const struct cdr_trunk *trunk;
        int pstn;
    } cases[] = {
        {"tel:+14152909007", &both_on, 1},
        {"+14152909007", &both_on, 1},
        {"14152909007", NULL, 1},
        {"sip:+14152908007@t1.pstn.twilio.com", &both_on, 1},
        {"sip:+14152908007@T1.PSTN.Twilio.COM", &both_on, 1},
        {"<sip:+14152908007@t1.pstn.twilio.com;transport=udp>", &both_on, 1},
        /* the trunk names its domain: another carrier domain is not PSTN */
        {"sip:+14152908007@other.pstn.twilio.com", &both_on, 0},
        /* no domain known: any *.pstn.twilio.com is */
        {"sip:+14152908007@other.pstn.twilio.com", NULL, 1},
        {"sip:+14152908007@other.pstn.twilio.com", &pstn_off, 1},
        {"sip:+13105550100@pbx.example.com", &both_on, 0},
        {"sip:+13105550100@pbx.example.com", NULL, 0},
        {"sip:alice@pbx.example.com", NULL, 0},
        {"sip:alice@t1.pstn.twilio.com", &both_on, 0},
        {"sip:+1415@pstn.twilio.com.evil.example", NULL, 0},
        /* a fully qualified host (trailing dot) is the same host */
        {"sip:+14152908007@t1.pstn.twilio.com.", &both_on, 1},
        {"sip:+14152908007@other.pstn.twilio.com.", NULL, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct cdr_addr a;
        const char *t = cases[i].target;
        assert_int_equal(cdr_parse_addr(t, t + strlen(t), &a), 0);
        if (rt_addr_is_pstn(&a, cases[i].trunk) != cases[i].pstn)
            fail_msg("%s: expected %s", t, cases[i].pstn ? "PSTN" : "SIP");
    }
}

static void
test_emergency_numbers_in_every_form_are_refused(void **state)
{
    (void)state;
    static const char *const refused[] = {
        "911",
        "+1911",
        "1911",
        "tel:911",
        "tel:+1911",
        "sip:911@pbx.example.com",
        "sip:+1911@t1.pstn.twilio.com",
        "933",
        "+1933",
        "tel:933",
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        enum rt_scenario scn;
        struct cdr_diag d;
        if (classify(CDR_DIR_TERMINATING, &both_on, refused[i], &scn, &d) !=
            CDR_E_TRANSFER)
            fail_msg("%s was not refused", refused[i]);
        assert_string_equal(d.field, "to");
        assert_non_null(strstr(d.message, "emergency"));
    }
    static const char *const allowed[] = {"+19115550100", "9110", "+44911",
                                          "sip:911x@pbx.example.com"};
    for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++) {
        enum rt_scenario scn;
        struct cdr_diag d;
        if (classify(CDR_DIR_TERMINATING, &both_on, allowed[i], &scn, &d) != 0)
            fail_msg("%s was refused: %s", allowed[i], d.message);
    }
}

static void
test_scenario_table_is_direction_times_target_kind(void **state)
{
    (void)state;
    static const struct {
        enum cdr_direction dir;
        const char *target;
        enum rt_scenario scn;
    } cases[] = {
        {CDR_DIR_TERMINATING, "sip:alice@pbx.example.com",
         RT_SCN_TERMINATION_SIP},
        {CDR_DIR_TERMINATING, "tel:+14152909007", RT_SCN_TERMINATION_PSTN},
        {CDR_DIR_ORIGINATING, "sip:alice@pbx.example.com",
         RT_SCN_ORIGINATION_SIP},
        {CDR_DIR_ORIGINATING, "sip:+14152908007@t1.pstn.twilio.com",
         RT_SCN_ORIGINATION_PSTN},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        enum rt_scenario scn = RT_SCN_NONE;
        struct cdr_diag d;
        assert_int_equal(
            classify(cases[i].dir, &both_on, cases[i].target, &scn, &d), 0);
        assert_int_equal(scn, cases[i].scn);
    }
    assert_string_equal(rt_scenario_name(RT_SCN_ORIGINATION_PSTN),
                        "origination-pstn");
    assert_string_equal(rt_scenario_name(RT_SCN_NONE), "none");
}

static void
test_trunk_without_transfers_refuses_every_target(void **state)
{
    (void)state;
    enum rt_scenario scn;
    struct cdr_diag d;
    assert_int_equal(classify(CDR_DIR_TERMINATING, &transfers_off,
                              "sip:alice@pbx.example.com", &scn, &d),
                     CDR_E_TRANSFER);
    assert_non_null(strstr(d.message, "transfers are disabled on trunk TK3"));
}

static void
test_pstn_switch_off_refuses_only_pstn_targets(void **state)
{
    (void)state;
    enum rt_scenario scn;
    struct cdr_diag d;
    assert_int_equal(
        classify(CDR_DIR_ORIGINATING, &pstn_off, "tel:+14152909007", &scn, &d),
        CDR_E_TRANSFER);
    assert_non_null(strstr(d.message, "PSTN transfers are disabled"));
    assert_string_equal(d.value, "tel:+14152909007");
    assert_int_equal(classify(CDR_DIR_ORIGINATING, &pstn_off,
                              "sip:alice@pbx.example.com", &scn, &d),
                     0);
    assert_int_equal(scn, RT_SCN_ORIGINATION_SIP);
}

static void
test_unlisted_trunk_checks_no_switch(void **state)
{
    (void)state;
    enum rt_scenario scn;
    struct cdr_diag d;
    assert_int_equal(
        classify(CDR_DIR_TERMINATING, NULL, "+447700900123", &scn, &d), 0);
    assert_int_equal(scn, RT_SCN_TERMINATION_PSTN);
}

static void
test_malformed_target_is_a_bad_uri(void **state)
{
    (void)state;
    enum rt_scenario scn;
    struct cdr_diag d;
    assert_int_equal(
        classify(CDR_DIR_TERMINATING, NULL, "mailto:x@y", &scn, &d),
        CDR_E_BAD_URI);
    assert_string_equal(d.field, "to");
}

/* The target is shown the transferee by default (termination: B, the
 * party the PBX called; origination: A, the caller), the transferor with
 * caller_id_for_target: transferor. */
static void
test_target_caller_id_follows_the_trunk_setting(void **state)
{
    (void)state;
    struct cdr_record p;
    memset(&p, 0, sizeof p);
    p.from = (struct cdr_slice){"+1A", 3};
    p.to = (struct cdr_slice){"+1B", 3};
    struct cdr_trunk transferor = {.sid = "TKX",
                                   .transfers = 1,
                                   .caller_id_for_target =
                                       CDR_CALLER_ID_TRANSFEROR};
    p.direction = CDR_DIR_TERMINATING;
    assert_memory_equal(rt_target_caller_id(&p, NULL).p, "+1B", 3);
    assert_memory_equal(rt_target_caller_id(&p, &both_on).p, "+1B", 3);
    assert_memory_equal(rt_target_caller_id(&p, &transferor).p, "+1A", 3);
    p.direction = CDR_DIR_ORIGINATING;
    assert_memory_equal(rt_target_caller_id(&p, NULL).p, "+1A", 3);
    assert_memory_equal(rt_target_caller_id(&p, &transferor).p, "+1B", 3);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_target_caller_id_follows_the_trunk_setting),
        cmocka_unit_test(test_target_kind_rules),
        cmocka_unit_test(test_emergency_numbers_in_every_form_are_refused),
        cmocka_unit_test(test_scenario_table_is_direction_times_target_kind),
        cmocka_unit_test(test_trunk_without_transfers_refuses_every_target),
        cmocka_unit_test(test_pstn_switch_off_refuses_only_pstn_targets),
        cmocka_unit_test(test_unlisted_trunk_checks_no_switch),
        cmocka_unit_test(test_malformed_target_is_a_bad_uri),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

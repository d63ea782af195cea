/*
 * Every row of the billing table of rating/README.md, priced with
 * tests/fixtures/decks/charge-table.yaml (increment 1/1, so a 90 s leg
 * bills 1.5 minutes):
 *
 *   Term: 1 -> 0.0100, 44 -> 0.0200, 49 -> 0.0300, sip -> 0.0050
 *   Orig: 1 -> 0.0010, 44 -> 0.0020, sip -> 0.0005
 *
 * Termination calls: A = +14155550100 (PBX's number), B = +442071234567.
 * Origination calls: A = +442071234567 (caller), B = +14155550100 (ours).
 * PSTN target C = +4930123456 (Term 0.0300), SIP target C = sip:alice@pbx.
 */
#include "rating/price/rt_charge.h"
#include "rating/deck/rt_deck.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static struct rt_deck *deck;

static int
setup(void **state)
{
    (void)state;
    char path[4096];
    const char *src = getenv("REFEREE_SOURCE_DIR");
    snprintf(path, sizeof path, "%s/tests/fixtures/decks/charge-table.yaml",
             src ? src : ".");
    struct cdr_diag_list errs;
    cdr_diag_list_init(&errs);
    int rc = rt_deck_load(&deck, path, &errs);
    for (size_t i = 0; i < errs.count; i++)
        fprintf(stderr, "%s: %s\n", path, errs.items[i].message);
    cdr_diag_list_free(&errs);
    return rc;
}

static int
teardown(void **state)
{
    (void)state;
    rt_deck_free(deck);
    return 0;
}

static struct cdr_slice
S(const char *s) {
    return (struct cdr_slice){s, strlen(s)};
}

static struct cdr_record
call(enum cdr_direction dir, const char *from, const char *to, int64_t dur)
{
    struct cdr_record r;
    memset(&r, 0, sizeof r);
    r.sid = S("CA1");
    r.direction = dir;
    r.from = S(from);
    r.to = S(to);
    r.start_time = 1778400000; /* 2026-05-10 */
    r.duration = dur;
    r.status = CDR_ST_COMPLETED;
    return r;
}

struct want {
    enum rt_service service;
    const char *from, *to, *matched;
    int64_t billable, amount_nano;
};

static void
check(const struct rt_call *c, int n, const struct want *w)
{
    assert_int_equal(c->n_components, n);
    for (int i = 0; i < n; i++) {
        const struct rt_component *k = &c->comp[i];
        assert_int_equal(k->index, i + 1);
        assert_int_equal(k->service, w[i].service);
        assert_int_equal(k->from.n, strlen(w[i].from));
        assert_memory_equal(k->from.p, w[i].from, k->from.n);
        assert_int_equal(k->to.n, strlen(w[i].to));
        assert_memory_equal(k->to.p, w[i].to, k->to.n);
        assert_string_equal(k->matched, w[i].matched);
        assert_int_equal(k->billable_seconds, w[i].billable);
        assert_int_equal(k->amount_nano, w[i].amount_nano);
    }
}

static void
rate_child(enum cdr_direction dir, const char *target, enum rt_scenario scn,
           struct rt_call *out)
{
    static struct cdr_record parent, child;
    if (dir == CDR_DIR_TERMINATING) {
        parent = call(dir, "+14155550100", "+442071234567", 300);
        child = call(dir, "+442071234567", target, 90); /* from B to C */
    } else {
        parent = call(dir, "+442071234567", "+14155550100", 300);
        child = call(dir, "+442071234567", target, 90); /* from A to C */
    }
    struct cdr_diag d;
    cdr_diag_clear(&d);
    memset(out, 0, sizeof *out);
    assert_int_equal(rt_charge_leg(&(struct rt_charge_decks){deck, NULL, NULL},
                                   &child, &parent, RT_LEG_CHILD, scn, NULL,
                                   out, &d),
                     0);
}

static void
test_parent_of_termination_is_term_a_to_b(void **state)
{
    (void)state;
    struct cdr_record p =
        call(CDR_DIR_TERMINATING, "+14155550100", "+442071234567", 300);
    struct rt_call c;
    struct cdr_diag d;
    assert_int_equal(rt_charge_leg(&(struct rt_charge_decks){deck, NULL, NULL},
                                   &p, NULL, RT_LEG_PARENT,
                                   RT_SCN_TERMINATION_SIP, NULL, &c, &d),
                     0);
    /* 0.0200 x 300 s / 60 = 0.1 */
    const struct want w[] = {{RT_SVC_TERMINATION, "+14155550100",
                              "+442071234567", "44", 300, 100000000}};
    check(&c, 1, w);
}

static void
test_parent_of_origination_is_orig_a_to_b(void **state)
{
    (void)state;
    struct cdr_record p =
        call(CDR_DIR_ORIGINATING, "+442071234567", "+14155550100", 300);
    struct rt_call c;
    struct cdr_diag d;
    assert_int_equal(rt_charge_leg(&(struct rt_charge_decks){deck, NULL, NULL},
                                   &p, NULL, RT_LEG_SINGLE, RT_SCN_NONE, NULL,
                                   &c, &d),
                     0);
    /* 0.0010 x 5 min */
    const struct want w[] = {{RT_SVC_ORIGINATION, "+442071234567",
                              "+14155550100", "1", 300, 5000000}};
    check(&c, 1, w);
}

static void
test_termination_sip_child_is_term_c_to_b(void **state)
{
    (void)state;
    struct rt_call c;
    rate_child(CDR_DIR_TERMINATING, "sip:alice@pbx.example.com",
               RT_SCN_TERMINATION_SIP, &c);
    /* Term(C->B): priced by B (44: 0.0200) x 1.5 min = 0.03 */
    const struct want w[] = {{RT_SVC_TERMINATION, "sip:alice@pbx.example.com",
                              "+442071234567", "44", 90, 30000000}};
    check(&c, 1, w);
}

static void
test_termination_pstn_child_is_term_a_to_b_plus_term_a_to_c(void **state)
{
    (void)state;
    struct rt_call c;
    rate_child(CDR_DIR_TERMINATING, "+4930123456", RT_SCN_TERMINATION_PSTN, &c);
    /* 0.0200 x 1.5 = 0.03 and 0.0300 x 1.5 = 0.045 */
    const struct want w[] = {
        {RT_SVC_TERMINATION, "+14155550100", "+442071234567", "44", 90,
         30000000},
        {RT_SVC_TERMINATION, "+14155550100", "+4930123456", "49", 90, 45000000},
    };
    check(&c, 2, w);
}

static void
test_origination_sip_child_is_orig_a_to_c(void **state)
{
    (void)state;
    struct rt_call c;
    rate_child(CDR_DIR_ORIGINATING, "sip:alice@pbx.example.com",
               RT_SCN_ORIGINATION_SIP, &c);
    /* Orig(A->C), C a SIP URI: sip class 0.0005 x 1.5 = 0.00075 */
    const struct want w[] = {{RT_SVC_ORIGINATION, "+442071234567",
                              "sip:alice@pbx.example.com", "sip", 90, 750000}};
    check(&c, 1, w);
}

static void
test_origination_pstn_child_is_orig_a_to_b_plus_term_b_to_c(void **state)
{
    (void)state;
    struct rt_call c;
    rate_child(CDR_DIR_ORIGINATING, "tel:+4930123456", RT_SCN_ORIGINATION_PSTN,
               &c);
    /* Orig(A->B) 0.0010 x 1.5 = 0.0015; Term(B->C) 0.0300 x 1.5 = 0.045 */
    const struct want w[] = {
        {RT_SVC_ORIGINATION, "+442071234567", "+14155550100", "1", 90, 1500000},
        {RT_SVC_TERMINATION, "+14155550100", "tel:+4930123456", "49", 90,
         45000000},
    };
    check(&c, 2, w);
}

static void
test_busy_child_gets_zero_billable_seconds_and_zero_amount(void **state)
{
    (void)state;
    struct cdr_record parent =
        call(CDR_DIR_TERMINATING, "+14155550100", "+442071234567", 300);
    struct cdr_record child =
        call(CDR_DIR_TERMINATING, "+442071234567", "+4930123456", 12);
    child.status = CDR_ST_BUSY;
    struct rt_call c;
    struct cdr_diag d;
    assert_int_equal(rt_charge_leg(&(struct rt_charge_decks){deck, NULL, NULL},
                                   &child, &parent, RT_LEG_CHILD,
                                   RT_SCN_TERMINATION_PSTN, NULL, &c, &d),
                     0);
    assert_int_equal(c.n_components, 2);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(c.comp[i].duration, 12);
        assert_int_equal(c.comp[i].billable_seconds, 0);
        assert_int_equal(c.comp[i].amount_nano, 0);
    }
}

static void
test_no_status_bills_only_with_positive_duration(void **state)
{
    (void)state;
    struct cdr_record r =
        call(CDR_DIR_TERMINATING, "+14155550100", "+14155550199", 30);
    r.status = CDR_ST_NONE;
    struct rt_call c;
    struct cdr_diag d;
    assert_int_equal(rt_charge_leg(&(struct rt_charge_decks){deck, NULL, NULL},
                                   &r, NULL, RT_LEG_SINGLE, RT_SCN_NONE, NULL,
                                   &c, &d),
                     0);
    assert_int_equal(c.comp[0].amount_nano, 5000000); /* 0.01 x 0.5 */
    r.duration = 0;
    assert_int_equal(rt_charge_leg(&(struct rt_charge_decks){deck, NULL, NULL},
                                   &r, NULL, RT_LEG_SINGLE, RT_SCN_NONE, NULL,
                                   &c, &d),
                     0);
    assert_int_equal(c.comp[0].billable_seconds, 0);
}

static void
test_billable_component_without_rate_is_rejected(void **state)
{
    (void)state;
    struct cdr_record r =
        call(CDR_DIR_TERMINATING, "+14155550100", "+81312345678", 60);
    struct rt_call c;
    struct cdr_diag d;
    cdr_diag_clear(&d);
    assert_int_equal(rt_charge_leg(&(struct rt_charge_decks){deck, NULL, NULL},
                                   &r, NULL, RT_LEG_SINGLE, RT_SCN_NONE, NULL,
                                   &c, &d),
                     CDR_E_NO_RATE);
    assert_string_equal(d.field, "to");
    assert_string_equal(d.value, "+81312345678");
    assert_non_null(strstr(d.message, "no termination rate"));
    /* not billed: no rate needed */
    r.status = CDR_ST_FAILED;
    assert_int_equal(rt_charge_leg(&(struct rt_charge_decks){deck, NULL, NULL},
                                   &r, NULL, RT_LEG_SINGLE, RT_SCN_NONE, NULL,
                                   &c, &d),
                     0);
    assert_int_equal(c.comp[0].amount_nano, 0);
}

/* A child's component priced to the parent's B names where B comes from;
 * one priced to the child's own C names "to". */
static void
test_child_without_rate_names_whose_number(void **state)
{
    (void)state;
    struct cdr_record p =
        call(CDR_DIR_TERMINATING, "+14155550100", "+81312345678", 60);
    struct cdr_record k =
        call(CDR_DIR_TERMINATING, "+81312345678", "+14155550111", 60);
    struct rt_call c;
    struct cdr_diag d;
    cdr_diag_clear(&d);
    assert_int_equal(rt_charge_leg(&(struct rt_charge_decks){deck, NULL, NULL},
                                   &k, &p, RT_LEG_CHILD,
                                   RT_SCN_TERMINATION_PSTN, NULL, &c, &d),
                     CDR_E_NO_RATE);
    assert_string_equal(d.field, "parent's to");
    assert_string_equal(d.value, "+81312345678");
    p = call(CDR_DIR_TERMINATING, "+14155550100", "+14155550122", 60);
    k = call(CDR_DIR_TERMINATING, "+14155550122", "+81312345678", 60);
    cdr_diag_clear(&d);
    assert_int_equal(rt_charge_leg(&(struct rt_charge_decks){deck, NULL, NULL},
                                   &k, &p, RT_LEG_CHILD,
                                   RT_SCN_TERMINATION_PSTN, NULL, &c, &d),
                     CDR_E_NO_RATE);
    assert_string_equal(d.field, "to");
    assert_string_equal(d.value, "+81312345678");
}

/* A PSTN number without its '+' is priced only through the trunk's
 * dialling plan; else a billed leg is rejected (112 would otherwise match
 * the US prefix 1) and a leg not billed costs nothing. */
static void
test_numbers_not_in_e164_are_read_by_the_trunk_or_rejected(void **state)
{
    (void)state;
    struct rt_call c;
    struct cdr_diag d;
    const struct rt_charge_decks decks = {deck, NULL, NULL};
    const char *local[] = {"tel:112", "112", "14155550100", "004930123456"};
    for (size_t i = 0; i < sizeof local / sizeof local[0]; i++) {
        struct cdr_record r =
            call(CDR_DIR_TERMINATING, "+14155550100", local[i], 60);
        cdr_diag_clear(&d);
        assert_int_equal(rt_charge_leg(&decks, &r, NULL, RT_LEG_SINGLE,
                                       RT_SCN_NONE, NULL, &c, &d),
                         CDR_E_NOT_E164);
        assert_string_equal(d.field, "to");
        assert_string_equal(d.value, local[i]);
        assert_non_null(strstr(d.detail, "country_code"));
        r.status = CDR_ST_BUSY;
        assert_int_equal(rt_charge_leg(&decks, &r, NULL, RT_LEG_SINGLE,
                                       RT_SCN_NONE, NULL, &c, &d),
                         0);
        assert_int_equal(c.comp[0].amount_nano, 0);
        assert_string_equal(c.comp[0].matched, "");
    }

    /* a German trunk: 030... is +4930..., 0044... is +44..., 112 stays
     * refused */
    struct cdr_trunk de;
    memset(&de, 0, sizeof de);
    de.sid = "TKDE";
    de.dialling = (struct cdr_dialling){"49", "0", {"00"}, 1};
    struct cdr_record r =
        call(CDR_DIR_TERMINATING, "+14155550100", "tel:030123456", 60);
    assert_int_equal(rt_charge_leg(&decks, &r, NULL, RT_LEG_SINGLE, RT_SCN_NONE,
                                   &de, &c, &d),
                     0);
    check(&c, 1,
          (struct want[]){{RT_SVC_TERMINATION, "+14155550100", "tel:030123456",
                           "49", 60, 30000000}});
    r = call(CDR_DIR_TERMINATING, "+14155550100", "00442071234567", 60);
    assert_int_equal(rt_charge_leg(&decks, &r, NULL, RT_LEG_SINGLE, RT_SCN_NONE,
                                   &de, &c, &d),
                     0);
    assert_string_equal(c.comp[0].matched, "44");
    r = call(CDR_DIR_TERMINATING, "+14155550100", "tel:112", 60);
    assert_int_equal(rt_charge_leg(&decks, &r, NULL, RT_LEG_SINGLE, RT_SCN_NONE,
                                   &de, &c, &d),
                     CDR_E_NOT_E164);
    assert_non_null(strstr(d.detail, "national prefix"));
    /* a SIP destination is not a number to price: the sip class */
    r = call(CDR_DIR_TERMINATING, "+14155550100", "sip:112@pbx.example.com",
             60);
    assert_int_equal(rt_charge_leg(&decks, &r, NULL, RT_LEG_SINGLE, RT_SCN_NONE,
                                   NULL, &c, &d),
                     0);
    assert_string_equal(c.comp[0].matched, "sip");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parent_of_termination_is_term_a_to_b),
        cmocka_unit_test(test_parent_of_origination_is_orig_a_to_b),
        cmocka_unit_test(test_termination_sip_child_is_term_c_to_b),
        cmocka_unit_test(
            test_termination_pstn_child_is_term_a_to_b_plus_term_a_to_c),
        cmocka_unit_test(test_origination_sip_child_is_orig_a_to_c),
        cmocka_unit_test(
            test_origination_pstn_child_is_orig_a_to_b_plus_term_b_to_c),
        cmocka_unit_test(
            test_busy_child_gets_zero_billable_seconds_and_zero_amount),
        cmocka_unit_test(test_no_status_bills_only_with_positive_duration),
        cmocka_unit_test(test_billable_component_without_rate_is_rejected),
        cmocka_unit_test(test_child_without_rate_names_whose_number),
        cmocka_unit_test(
            test_numbers_not_in_e164_are_read_by_the_trunk_or_rejected),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

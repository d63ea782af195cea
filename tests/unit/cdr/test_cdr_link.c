#include "cdr/link/cdr_link.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

static struct cdr_slice
S(const char *s) {
    return (struct cdr_slice){s, strlen(s)};
}

static struct cdr_record
rec(const char *sid, const char *parent, const char *from, const char *to)
{
    struct cdr_record r;
    memset(&r, 0, sizeof r);
    r.sid = S(sid);
    r.parent_call_sid = S(parent);
    r.from = S(from);
    r.to = S(to);
    r.direction = CDR_DIR_TERMINATING;
    r.start_time = 1778400000;
    r.duration = 61;
    r.line = 7;
    return r;
}

static void
test_stored_call_round_trips_every_field(void **state)
{
    (void)state;
    struct cdr_link *l;
    assert_int_equal(cdr_link_new(&l), 0);
    struct cdr_record r = rec("CA1", "", "+14155550100", "+442071234567");
    r.account_sid = S("AC9");
    r.price = S("-0.0150");
    struct cdr_link_call *c;
    assert_int_equal(cdr_link_add(l, &r, CDR_LINK_CALL, 3, &c), 0);
    struct cdr_record back;
    cdr_link_record(c, "f.csv", &back);
    assert_memory_equal(back.sid.p, "CA1", 3);
    assert_int_equal(back.to.n, strlen("+442071234567"));
    assert_memory_equal(back.price.p, "-0.0150", 7);
    assert_memory_equal(back.account_sid.p, "AC9", 3);
    assert_int_equal(back.duration, 61);
    assert_int_equal(back.line, 7);
    assert_int_equal(c->file_index, 3);
    cdr_link_free(l);
}

static void
test_second_sid_is_a_duplicate_even_after_the_child_shrinks(void **state)
{
    (void)state;
    struct cdr_link *l;
    assert_int_equal(cdr_link_new(&l), 0);
    struct cdr_record child = rec("CH1", "CA1", "+1", "+2");
    struct cdr_link_call *c, *dup;
    assert_int_equal(cdr_link_add(l, &child, CDR_LINK_CHILD_WAITING, 0, &c), 0);
    assert_int_equal(cdr_link_add(l, &child, CDR_LINK_CHILD_WAITING, 0, &dup),
                     CDR_E_DUPLICATE);
    assert_ptr_equal(dup, c);
    struct cdr_link_call *w = cdr_link_take_waiting(l, "CA1", 3);
    assert_ptr_equal(w, c);
    assert_int_equal(cdr_link_done(l, c), 0);
    assert_int_equal(cdr_link_find(l, "CH1", 3, &dup), CDR_LINK_CHILD_DONE);
    assert_null(dup);
    assert_int_equal(cdr_link_add(l, &child, CDR_LINK_CHILD_WAITING, 0, &dup),
                     CDR_E_DUPLICATE);
    assert_null(dup);
    struct cdr_slice sid = S("CH1");
    assert_int_equal(cdr_link_add_done(l, &sid), CDR_E_DUPLICATE);
    cdr_link_free(l);
}

static void
test_waiting_children_come_back_in_arrival_order_once(void **state)
{
    (void)state;
    struct cdr_link *l;
    assert_int_equal(cdr_link_new(&l), 0);
    const char *sids[] = {"K1", "K2", "K3"};
    for (int i = 0; i < 3; i++) {
        struct cdr_record r = rec(sids[i], "P", "+1", "+2");
        struct cdr_link_call *c;
        assert_int_equal(cdr_link_add(l, &r, CDR_LINK_CHILD_WAITING, 0, &c), 0);
    }
    struct cdr_link_call *c = cdr_link_take_waiting(l, "P", 1);
    for (int i = 0; i < 3; i++) {
        assert_non_null(c);
        assert_memory_equal(c->data, sids[i], 2);
        c = c->next_waiting;
    }
    assert_null(c);
    assert_null(cdr_link_take_waiting(l, "P", 1));
    assert_null(cdr_link_take_waiting(l, "Q", 1));
    cdr_link_free(l);
}

static void
test_many_calls_survive_table_growth_in_order(void **state)
{
    (void)state;
    struct cdr_link *l;
    assert_int_equal(cdr_link_new(&l), 0);
    char sid[32];
    for (int i = 0; i < 50000; i++) {
        snprintf(sid, sizeof sid, "CA%08d", i);
        struct cdr_record r = rec(sid, "", "+1", "+2");
        struct cdr_link_call *c;
        assert_int_equal(cdr_link_add(l, &r, CDR_LINK_CALL, 0, &c), 0);
    }
    assert_int_equal(cdr_link_call_count(l), 50000);
    for (int i = 0; i < 50000; i += 997) {
        snprintf(sid, sizeof sid, "CA%08d", i);
        struct cdr_link_call *c;
        assert_int_equal(cdr_link_find(l, sid, strlen(sid), &c), CDR_LINK_CALL);
        assert_ptr_equal(c, cdr_link_call_at(l, (size_t)i));
    }
    assert_int_equal(cdr_link_find(l, "CA-none", 7, NULL), 0);
    cdr_link_free(l);
}

static void
test_reserved_table_finds_what_it_holds_and_still_grows(void **state)
{
    (void)state;
    struct cdr_link *l;
    assert_int_equal(cdr_link_new(&l), 0);
    assert_int_equal(cdr_link_reserve(l, 1000), 0);
    char sid[32];
    for (int i = 0; i < 5000; i++) { /* past the reservation */
        snprintf(sid, sizeof sid, "CH%d", i);
        struct cdr_slice s = {sid, strlen(sid)};
        assert_int_equal(cdr_link_add_done(l, &s), 0);
    }
    for (int i = 0; i < 5000; i++) {
        snprintf(sid, sizeof sid, "CH%d", i);
        assert_int_equal(cdr_link_find(l, sid, strlen(sid), NULL),
                         CDR_LINK_CHILD_DONE);
    }
    assert_int_equal(cdr_link_find(l, "CH5000", 6, NULL), 0);
    cdr_link_free(l);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stored_call_round_trips_every_field),
        cmocka_unit_test(
            test_second_sid_is_a_duplicate_even_after_the_child_shrinks),
        cmocka_unit_test(test_waiting_children_come_back_in_arrival_order_once),
        cmocka_unit_test(test_many_calls_survive_table_growth_in_order),
        cmocka_unit_test(
            test_reserved_table_finds_what_it_holds_and_still_grows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Transfers whose legs are stored in different runs: a child that waits in
 * pending for a parent rated nights later, a --force over a parent whose
 * child is stored, and a re-rate that brings a child's parent with it.
 * The sink must link them through what is stored, not only through the
 * night's input.  Against a real server (pg_virtualenv; 77 without one),
 * a fresh database per test.
 */
#include "tests/integration/pg/pg_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* Night 1: the child arrives alone, waits in pending. */
static void
child_waits_alone(struct rt_sink *s, struct tcall *c)
{
    struct rt_run_info run = run_info(files1, 1);
    struct rt_summary sum;
    struct cdr_diag d;
    struct collect got;
    cdr_diag_clear(&d);
    diag_ok(s->ops->begin(s->self, &run, &d), &d);
    memset(&got, 0, sizeof got);
    diag_ok(s->ops->stored_pending(s->self, collect_row, &got, &d), &d);
    assert_int_equal(got.n, 0);
    make_call(c, "CA9C", "CA9P", RT_LEG_CHILD, RT_SCN_NONE, T0 + 200, 90, 0);
    c->rec.line = 7;
    diag_ok(s->ops->pending(s->self, &c->rec, &d), &d);
    memset(&sum, 0, sizeof sum);
    sum.pending = 1;
    diag_ok(s->ops->commit(s->self, &sum, &d), &d);
}

/* Night 2: the parent, rated alone (single) before the child shows. */
static void
parent_rated_alone(struct rt_sink *s, const struct tcall *c)
{
    struct rt_run_info run = run_info(files2, 1);
    struct rt_summary sum;
    struct cdr_diag d;
    struct collect got;
    struct tcall p;
    cdr_diag_clear(&d);
    diag_ok(s->ops->begin(s->self, &run, &d), &d);
    make_call(&p, "CA9P", NULL, RT_LEG_SINGLE, RT_SCN_NONE, T0, 300, 0);
    add_comp(&p, RT_SVC_TERMINATION, 4500000, "0.0045"); /* 0.022500 */
    diag_ok(s->ops->call(s->self, &p.call, &d), &d);
    /* the pending child was handed back but stays pending (the driver
     * re-pends it): exercise the re-pend path too */
    memset(&got, 0, sizeof got);
    diag_ok(s->ops->stored_pending(s->self, collect_row, &got, &d), &d);
    assert_int_equal(got.n, 1);
    assert_string_equal(got.sids[0], "CA9C|CA9P|2026-05-10T08:03:20Z|"
                                     "trunking-terminating|calls.csv:7");
    diag_ok(s->ops->pending(s->self, &c->rec, &d), &d);
    memset(&sum, 0, sizeof sum);
    diag_ok(s->ops->commit(s->self, &sum, &d), &d);
}

/* Night 3: linked through the store: the parent is stored already. */
static void
child_linked_to_the_stored_parent(struct rt_sink *s,
                                  struct rt_store_report *rep)
{
    static struct rt_input_file files3[1] = {
        {"calls3.csv",
         "3333333333333333333333333333333333333333333333333333333333333333", 1,
         0, 0}};
    struct rt_run_info run = run_info(files3, 1);
    struct rt_summary sum;
    struct cdr_diag d;
    struct collect got;
    struct cdr_slice want;
    struct tcall p, c;
    cdr_diag_clear(&d);
    diag_ok(s->ops->begin(s->self, &run, &d), &d);
    memset(&got, 0, sizeof got);
    diag_ok(s->ops->stored_pending(s->self, collect_row, &got, &d), &d);
    assert_int_equal(got.n, 1);
    want = sl("CA9P");
    memset(&got, 0, sizeof got);
    diag_ok(s->ops->stored_parents(s->self, &want, 1, collect_row, &got, &d),
            &d);
    assert_int_equal(got.n, 1);
    assert_string_equal(got.sids[0], "CA9P||2026-05-10T08:00:00Z|"
                                     "trunking-terminating|calls.csv:2");
    make_call(&p, "CA9P", NULL, RT_LEG_PARENT, RT_SCN_TERMINATION_SIP, T0, 300,
              -1);
    p.call.relabel_only = 1;
    make_call(&c, "CA9C", "CA9P", RT_LEG_CHILD, RT_SCN_TERMINATION_SIP,
              T0 + 200, 90, -1);
    add_comp(&c, RT_SVC_TERMINATION, 4000000, "0.004"); /* 0.008000 */
    diag_ok(s->ops->call(s->self, &p.call, &d), &d);
    diag_ok(s->ops->call(s->self, &c.call, &d), &d);
    memset(&sum, 0, sizeof sum);
    sum.store = rep;
    diag_ok(s->ops->commit(s->self, &sum, &d), &d);
}

static void
test_child_in_a_later_run_than_its_parent(void **state)
{
    struct fx *f = *state;
    struct rt_sink s = open_sink(f);
    struct rt_store_report rep;
    struct tcall c;
    child_waits_alone(&s, &c);
    assert_string_equal(
        scalar(f->admin, "SELECT count(*) FROM referee.pending"), "1");
    parent_rated_alone(&s, &c);
    assert_string_equal(scalar(f->admin, "SELECT first_run_id || ' ' || run_id"
                                         " FROM referee.pending"),
                        "1 2");
    child_linked_to_the_stored_parent(&s, &rep);
    s.ops->free(s.self);
    assert_int_equal(rep.calls, 1);
    assert_int_equal(rep.duplicates, 0);
    assert_string_equal(
        scalar(f->admin, "SELECT count(*) FROM referee.pending"), "0");
    assert_string_equal(scalar(f->admin,
                               "SELECT concat_ws(' ', scenario, parent_amount,"
                               " child1_amount, child2_amount, total_amount)"
                               " FROM referee.transfers"),
                        "termination-sip 0.022500 0.008000 0.030500");
    assert_string_equal(scalar(f->admin,
                               "SELECT string_agg(leg || '/' || scenario, ' '"
                               " ORDER BY call_sid) FROM referee.charges"),
                        "child/termination-sip parent/termination-sip");
    /* the child keeps the file it first came from */
    assert_string_equal(scalar(f->admin,
                               "SELECT i.path FROM referee.calls c JOIN"
                               " referee.input_files i USING (file_id)"
                               " WHERE c.call_sid = 'CA9C'"),
                        "calls.csv");
}

static void
test_rerate_supersedes_and_keeps_old_charges(void **state)
{
    struct fx *f = *state;
    struct rt_sink s = open_sink(f);
    struct rt_store_report rep;
    struct rt_run_info run;
    struct rt_summary sum;
    struct cdr_diag d;
    struct collect got;
    struct tcall p, c, single;
    rate_night(&s, files1, "CA1", &rep);

    run = run_info(NULL, 0);
    run.kind = RT_RUN_RERATE;
    run.rerate_from = T0 + 50; /* only the child starts inside... */
    run.rerate_to = T0 + 200;
    run.deck_name = "new-deck";
    cdr_diag_clear(&d);
    diag_ok(s.ops->begin(s.self, &run, &d), &d);
    memset(&got, 0, sizeof got);
    diag_ok(s.ops->stored_calls(s.self, run.rerate_from, run.rerate_to,
                                collect_row, &got, &d),
            &d);
    /* ...and its parent comes with it; the single call does not */
    assert_int_equal(got.n, 2);
    assert_non_null(strstr(got.sids[0], "CA1P|"));
    assert_non_null(strstr(got.sids[1], "CA1C|CA1P|"));
    make_call(&p, "CA1P", NULL, RT_LEG_PARENT, RT_SCN_TERMINATION_PSTN, T0, 125,
              -1);
    add_comp(&p, RT_SVC_TERMINATION, 3000000, "0.003"); /* 0.009000 */
    make_call(&c, "CA1C", "CA1P", RT_LEG_CHILD, RT_SCN_TERMINATION_PSTN,
              T0 + 100, 60, -1);
    add_comp(&c, RT_SVC_TERMINATION, 3000000, "0.003"); /* 0.003000 */
    add_comp(&c, RT_SVC_TERMINATION, 6000000, "0.006"); /* 0.006000 */
    diag_ok(s.ops->call(s.self, &p.call, &d), &d);
    diag_ok(s.ops->call(s.self, &c.call, &d), &d);
    memset(&sum, 0, sizeof sum);
    sum.store = &rep;
    diag_ok(s.ops->commit(s.self, &sum, &d), &d);
    s.ops->free(s.self);
    (void)single;
    assert_int_equal(rep.calls, 2);
    assert_int_equal(rep.components, 3);
    assert_int_equal(rep.superseded, 3);
    assert_int_equal(rep.duplicates, 0);
    assert_string_equal(
        scalar(f->admin, "SELECT sum(amount) FROM referee.daily_totals"),
        "0.022500"); /* 0.009 + 0.003 + 0.006 + single 0.0045 */
    assert_string_equal(
        scalar(f->admin, "SELECT count(*) || ' ' || sum(amount)"
                         " FROM referee.charges WHERE superseded_by_run = 2"),
        "3 0.030000");
    assert_string_equal(scalar(f->admin,
                               "SELECT string_agg(deck, ',' ORDER BY deck)"
                               " FROM referee.current_charges"),
                        "new-deck,new-deck,new-deck,test-deck");
    /* the re-rated calls keep their input file */
    assert_string_equal(
        scalar(f->admin, "SELECT count(*) FROM referee.calls"
                         " WHERE superseded_by_run IS NULL AND file_id = 1"),
        "3");
}

/* One night with one call, through the C API. */
static void
one_call_night(struct rt_sink *s, const struct rt_input_file *files, int force,
               struct tcall *t, struct rt_store_report *rep)
{
    struct rt_run_info run = run_info(files, 1);
    struct rt_summary sum;
    struct cdr_diag d;
    run.force = force;
    cdr_diag_clear(&d);
    diag_ok(s->ops->begin(s->self, &run, &d), &d);
    diag_ok(s->ops->call(s->self, &t->call, &d), &d);
    memset(&sum, 0, sizeof sum);
    sum.store = rep;
    diag_ok(s->ops->commit(s->self, &sum, &d), &d);
}

static void
test_force_keeps_a_stored_childs_parent_labelled(void **state)
{
    struct fx *f = *state;
    struct rt_sink s = open_sink(f);
    struct rt_store_report rep;
    struct tcall p, c;
    make_call(&p, "CA5P", NULL, RT_LEG_SINGLE, RT_SCN_NONE, T0, 60, 0);
    add_comp(&p, RT_SVC_TERMINATION, 4500000, "0.0045");
    one_call_night(&s, files1, 0, &p, &rep);
    /* night 2: the child; its parent is stored */
    make_call(&p, "CA5P", NULL, RT_LEG_PARENT, RT_SCN_TERMINATION_SIP, T0, 60,
              -1);
    p.call.relabel_only = 1;
    make_call(&c, "CA5C", "CA5P", RT_LEG_CHILD, RT_SCN_TERMINATION_SIP, T0 + 30,
              60, 0);
    add_comp(&c, RT_SVC_TERMINATION, 4000000, "0.004");
    {
        struct rt_run_info run = run_info(files2, 1);
        struct rt_summary sum;
        struct cdr_diag d;
        cdr_diag_clear(&d);
        diag_ok(s.ops->begin(s.self, &run, &d), &d);
        diag_ok(s.ops->call(s.self, &c.call, &d), &d);
        diag_ok(s.ops->call(s.self, &p.call, &d), &d);
        memset(&sum, 0, sizeof sum);
        diag_ok(s.ops->commit(s.self, &sum, &d), &d);
    }
    /* night 3: file 1 again with --force: the parent alone, rated single */
    make_call(&p, "CA5P", NULL, RT_LEG_SINGLE, RT_SCN_NONE, T0, 60, 0);
    add_comp(&p, RT_SVC_TERMINATION, 4500000, "0.0045");
    one_call_night(&s, files1, 1, &p, &rep);
    s.ops->free(s.self);
    assert_int_equal(rep.superseded, 1);
    assert_string_equal(
        scalar(f->admin, "SELECT string_agg(call_sid || ':' || leg || ':'"
                         " || scenario || ':' || amount, ' '"
                         " ORDER BY call_sid) FROM referee.current_charges"),
        "CA5C:child:termination-sip:0.004000 "
        "CA5P:parent:termination-sip:0.004500");
    assert_string_equal(
        scalar(f->admin, "SELECT leg || ':' || scenario FROM referee.calls"
                         " WHERE call_sid = 'CA5P'"
                         " AND superseded_by_run IS NULL"),
        "parent:termination-sip");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_child_in_a_later_run_than_its_parent, setup_db, teardown_db),
        cmocka_unit_test_setup_teardown(
            test_rerate_supersedes_and_keeps_old_charges, setup_db,
            teardown_db),
        cmocka_unit_test_setup_teardown(
            test_force_keeps_a_stored_childs_parent_labelled, setup_db,
            teardown_db),
    };
    return pg_run_tests(tests, sizeof tests / sizeof tests[0]);
}

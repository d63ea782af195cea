/*
 * Monthly partitions: a month with no partition yet is loaded as plain
 * tables and attached at commit (fast, but the database must be as before
 * when such a load dies), and a month an operator detached is never filled
 * or attached again.  Against a real server (pg_virtualenv; 77 without
 * one), a fresh database per test.
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

/* A month with no partition is loaded as a plain table and attached with
 * its indexes at commit; a later run adds to it through the partitioned
 * table; an empty register gets its key back. */
static void
test_new_month_is_loaded_detached_then_attached(void **state)
{
    struct fx *f = *state;
    struct rt_sink s = open_sink(f);
    struct rt_store_report rep;
    struct cdr_diag d;
    cdr_diag_clear(&d);
    diag_ok(big_night_at(&s, T_OLD, 100, NULL, NULL, &rep, &d), &d);
    assert_int_equal(rep.calls, 200);
    assert_string_equal(
        scalar(f->admin,
               "SELECT string_agg(c.relname || ' ' || c.relispartition || ' '"
               " || (SELECT count(*) FROM pg_index i"
               "     WHERE i.indrelid = c.oid), ',' ORDER BY c.relname)"
               " FROM pg_class c WHERE c.relkind = 'r'"
               " AND c.relname LIKE '%y2025m10'"),
        "calls_y2025m10 true 2,charges_y2025m10 true 1");
    /* as ensure_partitions() makes them: no constraint or grant of its own */
    assert_string_equal(scalar(f->admin,
                               "SELECT count(*) FROM pg_constraint"
                               " WHERE conname LIKE '%y2025m10_month'"),
                        "0");
    assert_string_equal(scalar(f->admin,
                               "SELECT has_table_privilege('referee_writer',"
                               " 'referee.calls_y2025m10', 'INSERT')"),
                        "f");
    assert_string_equal(scalar(f->admin,
                               "SELECT count(*) FROM pg_constraint"
                               " WHERE conrelid = 'referee.call_sids'::regclass"
                               " AND contype = 'p'"),
                        "1");
    assert_string_equal(scalar(f->admin, "SELECT count(*) || ' ' || sum(amount)"
                                         " FROM referee.charges_y2025m10"),
                        "300 2.550000");
    s.ops->free(s.self);

    /* The month exists now: the next run's rows go through the parent, and
     * the sids of the first are duplicates. */
    s = open_sink(f);
    cdr_diag_clear(&d);
    diag_ok(big_night_at(&s, T_OLD, 150, NULL, NULL, &rep, &d), &d);
    s.ops->free(s.self);
    assert_int_equal(rep.calls, 100);
    assert_int_equal(rep.duplicates, 200);
    assert_string_equal(scalar(f->admin, "SELECT count(*) || ' ' || sum(amount)"
                                         " FROM referee.current_charges"),
                        "450 3.825000");
    assert_string_equal(
        scalar(f->admin, "SELECT count(*) FROM pg_class"
                         " WHERE relname LIKE '%y2025m10' AND relkind = 'r'"),
        "2");
}

/* A month an operator detached (to archive it) is neither filled nor
 * attached again by a run: a run into another new month goes on, one with
 * rows in that month fails and says what to do. */
static void
test_a_month_detached_by_hand_is_left_alone(void **state)
{
    struct fx *f = *state;
    struct rt_sink s = open_sink(f);
    struct rt_store_report rep;
    struct cdr_diag d;
    cdr_diag_clear(&d);
    diag_ok(big_night_at(&s, T_OLD, 10, NULL, NULL, &rep, &d), &d);
    s.ops->free(s.self);
    exec_ok(f->admin, "ALTER TABLE referee.calls DETACH PARTITION"
                      " referee.calls_y2025m10;"
                      "ALTER TABLE referee.charges DETACH PARTITION"
                      " referee.charges_y2025m10");
    /* three months earlier: a new month, loaded detached and attached */
    s = open_sink(f);
    cdr_diag_clear(&d);
    diag_ok(big_night_at(&s, T_OLD - 92 * 86400, 10, NULL, NULL, &rep, &d), &d);
    s.ops->free(s.self);
    assert_string_equal(
        scalar(f->admin,
               "SELECT string_agg(relname || ' ' || relispartition, ','"
               " ORDER BY relname) FROM pg_class WHERE relkind = 'r'"
               " AND relname ~ '^(calls|charges)_y2025m(07|10)$'"),
        "calls_y2025m07 true,calls_y2025m10 false,"
        "charges_y2025m07 true,charges_y2025m10 false");
    assert_string_equal(scalar(f->admin, "SELECT count(*) FROM"
                                         " referee.calls_y2025m10"),
                        "20");
    /* rows in the detached month: refused, nothing stored */
    s = open_sink(f);
    cdr_diag_clear(&d);
    assert_int_not_equal(
        big_night_at(&s, T_OLD + 3600, 10, NULL, NULL, &rep, &d), 0);
    s.ops->abort(s.self);
    s.ops->free(s.self);
    assert_non_null(strstr(d.message, "not a partition"));
    assert_string_equal(scalar(f->admin, "SELECT count(*) FROM"
                                         " referee.calls_y2025m10"),
                        "20");
    assert_string_equal(scalar(f->admin, "SELECT count(*) FROM referee.runs"),
                        "2");
}

/* The load of a new month into an empty database (detached tables, the
 * register without its key) killed half-way: no table left, key back. */
static void
test_backend_killed_in_a_new_month_leaves_database_as_before(void **state)
{
    struct fx *f = *state;
    struct rt_sink s;
    struct rt_store_report rep;
    struct cdr_diag d;
    char before[4096], conninfo[400];
    int rc;
    snprintf(before, sizeof before, "%s", snapshot(f->admin));
    snprintf(conninfo, sizeof conninfo, "%s application_name=victim2",
             f->conninfo);
    cdr_diag_clear(&d);
    diag_ok(rt_sink_pg_open(&s, conninfo, NULL, &d), &d);
    memset(&rep, 0, sizeof rep);
    rc = big_night_at(&s, T_OLD, 20000, f->admin, "victim2", &rep, &d);
    assert_int_equal(rc, CDR_E_DB);
    s.ops->free(s.self);
    assert_string_equal(snapshot(f->admin), before);

    s = open_sink(f);
    cdr_diag_clear(&d);
    diag_ok(big_night_at(&s, T_OLD, 20000, NULL, NULL, &rep, &d), &d);
    s.ops->free(s.self);
    assert_int_equal(rep.calls, 40000);
    assert_int_equal(rep.total_nano, (int64_t)20000 * 25500000);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_new_month_is_loaded_detached_then_attached, setup_db,
            teardown_db),
        cmocka_unit_test_setup_teardown(
            test_a_month_detached_by_hand_is_left_alone, setup_db, teardown_db),
        cmocka_unit_test_setup_teardown(
            test_backend_killed_in_a_new_month_leaves_database_as_before,
            setup_db, teardown_db),
    };
    return pg_run_tests(tests, sizeof tests / sizeof tests[0]);
}

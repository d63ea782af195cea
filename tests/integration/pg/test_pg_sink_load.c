/*
 * Loading a night into PostgreSQL, exactly once: what a run stores and how
 * it reads back, the same file again (skipped, or replaced with --force),
 * a sid already rated (a duplicate, the rest of the file stored), a sid
 * twice in one run (the run fails), and the binary COPY of numerics.
 * Against a real server: pg_virtualenv exports PGHOST and friends; without
 * a server the test is skipped with 77.  Each test gets a fresh database.
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

static void
test_round_trip_stores_calls_charges_and_rejects(void **state)
{
    struct fx *f = *state;
    struct rt_sink s = open_sink(f);
    struct rt_store_report rep;
    rate_night(&s, files1, "CA1", &rep);
    s.ops->free(s.self);

    assert_int_equal(rep.calls, 3);
    assert_int_equal(rep.components, 4);
    assert_int_equal(rep.duplicates, 0);
    assert_int_equal(rep.total_nano, 34500000);
    assert_string_equal(
        scalar(f->admin, "SELECT string_agg(call_sid || ':' || component"
                         " || ':' || amount || ':' || rate || ':' || leg,"
                         " ' ' ORDER BY call_sid, component)"
                         " FROM referee.charges"),
        "CA1C:1:0.004500:0.0045:child CA1C:2:0.012000:0.012:child "
        "CA1P:1:0.013500:0.0045:parent CA1S:1:0.004500:0.004500000:single");
    assert_string_equal(
        scalar(f->admin, "SELECT sum(amount) FROM referee.daily_totals"),
        "0.034500");
    assert_string_equal(scalar(f->admin,
                               "SELECT sum(amount) FROM referee.invoice_monthly"
                               " WHERE is_total"),
                        "0.034500");
    assert_string_equal(
        scalar(f->admin, "SELECT parent_amount || ' ' || child1_amount || ' '"
                         " || child2_amount || ' ' || total_amount"
                         " FROM referee.transfers"),
        "0.013500 0.004500 0.012000 0.030000");
    assert_string_equal(
        scalar(f->admin, "SELECT raw = E'CAbad,\\t2026-13-01\\n\\\\x,\\uFFFD'"
                         " FROM referee.rejects"),
        "t");
    assert_string_equal(
        scalar(f->admin, "SELECT concat_ws(' ', status, calls, components,"
                         " total_amount, totals->0->>'scenario')"
                         " FROM referee.runs"),
        "committed 3 4 0.034500 none");
    assert_string_equal(scalar(f->admin,
                               "SELECT count(*) FROM referee.calls"
                               " WHERE start_time = '2026-05-10T08:00:00Z'"),
                        "1");
}

static void
test_same_file_again_is_skipped(void **state)
{
    struct fx *f = *state;
    struct rt_sink s = open_sink(f);
    struct rt_store_report rep;
    struct rt_run_info run = run_info(files1, 1);
    struct rt_summary sum;
    struct cdr_diag d;
    int seen = -1;
    char before[4096];
    rate_night(&s, files1, "CA1", &rep);
    snprintf(before, sizeof before, "%s", snapshot(f->admin));

    cdr_diag_clear(&d);
    diag_ok(s.ops->begin(s.self, &run, &d), &d);
    diag_ok(s.ops->file_seen(s.self, files1[0].sha256, &seen, &d), &d);
    assert_int_equal(seen, 1);
    memset(&sum, 0, sizeof sum);
    sum.skipped_files = 1;
    sum.store = &rep;
    diag_ok(s.ops->commit(s.self, &sum, &d), &d);
    s.ops->free(s.self);
    assert_int_equal(rep.skipped_files, 1);
    assert_int_equal(rep.calls, 0);
    /* only a run row more */
    assert_string_equal(
        scalar(f->admin, "SELECT count(*) FROM referee.input_files"), "1");
    assert_string_equal(
        scalar(f->admin, "SELECT sum(amount) FROM referee.charges"),
        "0.034500");
    assert_string_equal(scalar(f->admin,
                               "SELECT skipped_files FROM referee.runs"
                               " ORDER BY run_id DESC LIMIT 1"),
                        "1");
    (void)before;
}

static void
test_force_replaces_instead_of_duplicating(void **state)
{
    struct fx *f = *state;
    struct rt_sink s = open_sink(f);
    struct rt_store_report rep;
    rate_night(&s, files1, "CA1", &rep);
    s.ops->free(s.self);
    s = open_sink(f);
    {
        /* rate_night with force: same content, same sids */
        struct rt_run_info run = run_info(files1, 1);
        struct tcall p;
        struct rt_summary sum;
        struct cdr_diag d;
        int seen;
        run.force = 1;
        cdr_diag_clear(&d);
        diag_ok(s.ops->begin(s.self, &run, &d), &d);
        diag_ok(s.ops->file_seen(s.self, files1[0].sha256, &seen, &d), &d);
        assert_int_equal(seen, 1);
        make_call(&p, "CA1P", NULL, RT_LEG_SINGLE, RT_SCN_NONE, T0, 125, 0);
        add_comp(&p, RT_SVC_TERMINATION, 6000000, "0.006"); /* 0.018000 */
        diag_ok(s.ops->call(s.self, &p.call, &d), &d);
        memset(&sum, 0, sizeof sum);
        sum.store = &rep;
        diag_ok(s.ops->commit(s.self, &sum, &d), &d);
    }
    s.ops->free(s.self);
    assert_int_equal(rep.duplicates, 0);
    assert_int_equal(rep.calls, 1);
    assert_int_equal(rep.superseded, 4); /* every charge of the old load */
    assert_string_equal(
        scalar(f->admin, "SELECT sum(amount) FROM referee.current_charges"),
        "0.018000");
    assert_string_equal(scalar(f->admin,
                               "SELECT count(*) FROM referee.input_files"
                               " WHERE superseded_by_run IS NULL"),
                        "1");
    assert_string_equal(scalar(f->admin, "SELECT count(*) FROM referee.calls"
                                         " WHERE superseded_by_run IS NULL"),
                        "1");
}

static void
test_sid_rated_in_an_earlier_run_is_a_duplicate(void **state)
{
    struct fx *f = *state;
    struct rt_sink s = open_sink(f);
    struct rt_store_report rep;
    rate_night(&s, files1, "CA1", &rep);
    /* another file with the same sids */
    rate_night(&s, files2, "CA1", &rep);
    s.ops->free(s.self);
    assert_int_equal(rep.duplicates, 3);
    assert_int_equal(rep.calls, 0);
    assert_int_equal(rep.components, 0);
    assert_int_equal(rep.total_nano, 0);
    assert_string_equal(
        scalar(f->admin, "SELECT sum(amount) FROM referee.charges"),
        "0.034500");
    assert_string_equal(
        scalar(f->admin, "SELECT count(*) FROM referee.rejects"
                         " WHERE code = -10 AND reason LIKE"
                         " 'duplicate call sid: already rated in run 1%'"),
        "3");
    assert_string_equal(
        scalar(f->admin, "SELECT duplicates || ' ' || calls FROM referee.runs"
                         " WHERE run_id = 2"),
        "3 0");
}

/* The driver never hands a sid over twice in a run; if it did, the
 * register fails the run rather than storing the call twice.  `between`
 * other calls come between the two. */
static void
sid_twice_in_one_run(void **state, int between)
{
    static struct rt_input_file files3[1] = {
        {"calls.csv",
         "3333333333333333333333333333333333333333333333333333333333333333",
         100, 2, 0}};
    struct fx *f = *state;
    struct rt_sink s = open_sink(f);
    struct rt_store_report rep;
    struct rt_run_info run;
    struct rt_summary sum;
    struct tcall a, b;
    struct cdr_diag d;
    int seen = 0, rc;
    rate_night(&s, files1, "CA1", &rep);
    cdr_diag_clear(&d);
    run = run_info(files3, 1);
    diag_ok(s.ops->begin(s.self, &run, &d), &d);
    diag_ok(s.ops->file_seen(s.self, files3[0].sha256, &seen, &d), &d);
    make_call(&a, "CA2S", NULL, RT_LEG_SINGLE, RT_SCN_NONE, T0 + 3600, 60, 0);
    add_comp(&a, RT_SVC_TERMINATION, 4500000, NULL);
    make_call(&b, "CA2S", NULL, RT_LEG_SINGLE, RT_SCN_NONE, T0 + 7200, 60, 0);
    add_comp(&b, RT_SVC_TERMINATION, 4500000, NULL);
    rc = s.ops->call(s.self, &a.call, &d);
    /* spread: the first in an earlier batch than the second (the register
     * then holds it under this run), or both in one batch */
    for (int i = 0; i < between && rc == 0; i++) {
        struct tcall other;
        char sid[32];
        snprintf(sid, sizeof sid, "CA9%07d", i);
        make_call(&other, sid, NULL, RT_LEG_SINGLE, RT_SCN_NONE, T0 + 60, 60,
                  0);
        add_comp(&other, RT_SVC_TERMINATION, 4500000, NULL);
        rc = s.ops->call(s.self, &other.call, &d);
    }
    if (rc == 0)
        rc = s.ops->call(s.self, &b.call, &d);
    if (rc == 0) {
        memset(&sum, 0, sizeof sum);
        sum.rows_read = 2;
        sum.calls = 2;
        sum.components = 2;
        sum.total_nano = 9000000;
        sum.store = &rep;
        rc = s.ops->commit(s.self, &sum, &d);
    }
    assert_int_not_equal(rc, 0);
    /* the error names the sid (as its value, or in the server's detail) */
    assert_true(strstr(d.value, "CA2S") != NULL ||
                strstr(d.detail, "CA2S") != NULL);
    s.ops->abort(s.self);
    s.ops->free(s.self);
    assert_string_equal(scalar(f->admin, "SELECT count(*) FROM referee.runs"),
                        "1");
    assert_string_equal(scalar(f->admin, "SELECT count(*) FROM referee.calls"
                                         " WHERE call_sid = 'CA2S'"),
                        "0");
}

static void
test_sid_twice_in_one_batch_fails_the_run(void **state)
{
    sid_twice_in_one_run(state, 0);
}

static void
test_sid_twice_in_two_batches_fails_the_run(void **state)
{
    sid_twice_in_one_run(state, RT_SINK_PG_BATCH);
}

/* A later file (same name, new content) with one sid of an earlier run and
 * one new: the direct load stores the new one only, lists the other as a
 * duplicate, and the run's totals are those of what it stored. */
static void
test_direct_load_drops_only_the_duplicates(void **state)
{
    static struct rt_input_file files3[1] = {
        {"calls.csv",
         "3333333333333333333333333333333333333333333333333333333333333333",
         100, 2, 0}};
    struct fx *f = *state;
    struct rt_sink s = open_sink(f);
    struct rt_store_report rep;
    struct rt_run_info run;
    struct rt_summary sum;
    struct tcall dup, fresh;
    struct cdr_diag d;
    int seen = 0;
    rate_night(&s, files1, "CA1", &rep);
    cdr_diag_clear(&d);
    run = run_info(files3, 1);
    diag_ok(s.ops->begin(s.self, &run, &d), &d);
    diag_ok(s.ops->file_seen(s.self, files3[0].sha256, &seen, &d), &d);
    assert_int_equal(seen, 0);
    make_call(&dup, "CA1S", NULL, RT_LEG_SINGLE, RT_SCN_NONE, T0 + 3600, 1, 0);
    add_comp(&dup, RT_SVC_TERMINATION, 4500000, NULL); /* 0.004500 */
    make_call(&fresh, "CA2S", NULL, RT_LEG_SINGLE, RT_SCN_NONE, T0 + 7200, 120,
              0);
    add_comp(&fresh, RT_SVC_TERMINATION, 4500000, "0.0045"); /* 0.009000 */
    diag_ok(s.ops->call(s.self, &dup.call, &d), &d);
    diag_ok(s.ops->call(s.self, &fresh.call, &d), &d);
    memset(&sum, 0, sizeof sum);
    sum.rows_read = 2;
    sum.calls = 2;
    sum.components = 2;
    sum.total_nano = 13500000;
    sum.store = &rep;
    diag_ok(s.ops->commit(s.self, &sum, &d), &d);
    s.ops->free(s.self);
    assert_int_equal(rep.duplicates, 1);
    assert_int_equal(rep.calls, 1);
    assert_int_equal(rep.components, 1);
    assert_int_equal(rep.total_nano, 9000000);
    assert_string_equal(
        scalar(f->admin,
               "SELECT concat_ws(' ', total_amount, duplicates, calls,"
               " components, totals->0->>'scenario',"
               " totals->0->>'components', totals->0->>'amount')"
               " FROM referee.runs WHERE run_id = 2"),
        "0.009000 1 1 1 none 1 0.009000");
    assert_string_equal(
        scalar(f->admin, "SELECT string_agg(concat_ws(' ', file, line,"
                         " call_sid, code, reason), ';')"
                         " FROM referee.rejects WHERE run_id = 2"),
        "calls.csv 2 CA1S -10 duplicate call sid: already rated in run 1"
        " \"CA1S\"");
    assert_string_equal(
        scalar(f->admin,
               "SELECT concat_ws(' ', c.call_sid, i.path, i.rows, c.run_id,"
               " g.amount) FROM referee.calls c"
               " JOIN referee.input_files i USING (file_id)"
               " JOIN referee.charges g USING (call_sid, start_time)"
               " WHERE c.run_id = 2"),
        "CA2S calls.csv 2 2 0.009000");
    assert_string_equal(
        scalar(f->admin,
               "SELECT count(*) || ' ' || sum(amount) FROM referee.charges"
               " WHERE superseded_by_run IS NULL"),
        "5 0.043500");
    assert_string_equal(
        scalar(f->admin, "SELECT string_agg(call_sid || ':' || run_id, ','"
                         " ORDER BY call_sid) FROM referee.call_sids"),
        "CA1C:1,CA1P:1,CA1S:1,CA2S:2");
}

/* Numerics sent in binary COPY read back as the same decimal text as
 * PostgreSQL's own parse of it (value and scale). */
static void
test_binary_numerics_keep_value_and_scale(void **state)
{
    struct fx *f = *state;
    static const char *const values[] = {
        "0",          "0.000000",    "-0.00",
        "0.0052",     "0.005200",    "0.00001",
        "1",          "-1.5",        "10000",
        "12345.6789", "-0.0085",     "9999.9999",
        "100000000",  "0.000000001", "123456789012345678901234.123456789",
        "007.50"};
    const size_t n_values = sizeof values / sizeof *values;
    struct rt_pg_buf b;
    size_t n;
    const char *edge;
    PGresult *r;
    char want[32];
    exec_ok(f->admin, "CREATE TEMP TABLE nums (v numeric, t text)");
    rt_pg_buf_init(&b);
    b.binary = 1;
    edge = rt_pg_copy_binary_header(&n);
    rt_pg_buf_add(&b, edge, n);
    for (size_t i = 0; i < n_values; i++) {
        rt_pg_copy_numeric(&b, values[i], strlen(values[i]));
        rt_pg_copy_str(&b, values[i]);
        rt_pg_copy_end_row(&b);
    }
    edge = rt_pg_copy_binary_trailer(&n);
    rt_pg_buf_add(&b, edge, n);
    assert_false(b.oom);
    r = PQexec(f->admin, "COPY nums FROM STDIN WITH (FORMAT binary)");
    assert_int_equal(PQresultStatus(r), PGRES_COPY_IN);
    PQclear(r);
    assert_int_equal(PQputCopyData(f->admin, b.p, (int)b.n), 1);
    assert_int_equal(PQputCopyEnd(f->admin, NULL), 1);
    r = PQgetResult(f->admin);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        fail_msg("COPY: %s", PQerrorMessage(f->admin));
    PQclear(r);
    while ((r = PQgetResult(f->admin)) != NULL)
        PQclear(r);
    rt_pg_buf_free(&b);
    snprintf(want, sizeof want, "%zu", n_values);
    assert_string_equal(scalar(f->admin, "SELECT count(*) FROM nums"), want);
    assert_string_equal(
        scalar(f->admin, "SELECT coalesce(string_agg(t || ' -> ' || v::text,"
                         " ', '), 'all equal') FROM nums"
                         " WHERE v::text IS DISTINCT FROM t::numeric::text"),
        "all equal");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_round_trip_stores_calls_charges_and_rejects, setup_db,
            teardown_db),
        cmocka_unit_test_setup_teardown(test_same_file_again_is_skipped,
                                        setup_db, teardown_db),
        cmocka_unit_test_setup_teardown(
            test_force_replaces_instead_of_duplicating, setup_db, teardown_db),
        cmocka_unit_test_setup_teardown(
            test_sid_rated_in_an_earlier_run_is_a_duplicate, setup_db,
            teardown_db),
        cmocka_unit_test_setup_teardown(
            test_sid_twice_in_one_batch_fails_the_run, setup_db, teardown_db),
        cmocka_unit_test_setup_teardown(
            test_sid_twice_in_two_batches_fails_the_run, setup_db, teardown_db),
        cmocka_unit_test_setup_teardown(
            test_direct_load_drops_only_the_duplicates, setup_db, teardown_db),
        cmocka_unit_test_setup_teardown(
            test_binary_numerics_keep_value_and_scale, setup_db, teardown_db),
    };
    return pg_run_tests(tests, sizeof tests / sizeof tests[0]);
}

/*
 * Runs that fail or wait: a failed step poisons its run, a killed backend
 * leaves the database as it was and the retry stores what an uninterrupted
 * run would, nothing of a failed run reaches the sink's next, and runs of
 * one database take turns (without a deadlock over the months).  Against a
 * real server (pg_virtualenv; 77 without one), a fresh database per test.
 */
#include "tests/integration/pg/pg_fixture.h"

#include "rating/pg/rt_pg_migrate.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

static void
test_a_failed_step_poisons_the_run(void **state)
{
    struct fx *f = *state;
    struct rt_sink s = open_sink(f);
    struct rt_run_info run = run_info(files1, 1);
    struct rt_summary sum;
    struct cdr_diag d;
    struct tcall ok, bad;
    char before[4096];
    snprintf(before, sizeof before, "%s", snapshot(f->admin));
    cdr_diag_clear(&d);
    diag_ok(s.ops->begin(s.self, &run, &d), &d);
    make_call(&ok, "CA7A", NULL, RT_LEG_SINGLE, RT_SCN_NONE, T0, 60, 0);
    add_comp(&ok, RT_SVC_TERMINATION, 4500000, "0.0045");
    diag_ok(s.ops->call(s.self, &ok.call, &d), &d);
    make_call(&bad, "CA7B", NULL, RT_LEG_SINGLE, RT_SCN_NONE, T0, 60, 0);
    bad.rec.price = sl("1e5");
    assert_int_equal(s.ops->call(s.self, &bad.call, &d), CDR_E_BAD_NUMBER);
    /* a driver that carried on anyway cannot commit half a run */
    memset(&sum, 0, sizeof sum);
    cdr_diag_clear(&d);
    assert_int_equal(s.ops->commit(s.self, &sum, &d), CDR_E_DB);
    assert_non_null(strstr(d.message, "not committed"));
    s.ops->free(s.self);
    assert_string_equal(snapshot(f->admin), before);
}

static void
test_runs_of_one_database_go_one_at_a_time(void **state)
{
    struct fx *f = *state;
    struct rt_sink s = open_sink(f);
    struct rt_run_info run = run_info(files1, 1);
    struct cdr_diag d;
    cdr_diag_clear(&d);
    diag_ok(s.ops->begin(s.self, &run, &d), &d);
    /* a second run (or a migration) would wait for this lock */
    assert_string_equal(
        scalar(f->admin,
               "SELECT pg_try_advisory_xact_lock(" RT_PG_LOCK_KEY ")"),
        "f");
    s.ops->abort(s.self);
    assert_string_equal(
        scalar(f->admin,
               "SELECT pg_try_advisory_xact_lock(" RT_PG_LOCK_KEY ")"),
        "t");
    s.ops->free(s.self);
    assert_string_equal(scalar(f->admin, "SELECT count(*) FROM referee.runs"),
                        "0");
}

/* A run that waits for another makes no partition before it has the run
 * lock: made while the other run holds its tables, they would wait for it
 * while holding the months' lock that run may need next (a deadlock). */
static void
test_a_waiting_run_makes_no_month_before_the_lock(void **state)
{
    struct fx *f = *state;
    struct rt_sink a = open_sink(f);
    struct rt_run_info run = run_info(files1, 1);
    struct cdr_diag d;
    const char *waiting = "SELECT count(*) FROM pg_locks"
                          " WHERE locktype = 'advisory' AND NOT granted";
    const char *months = "SELECT count(*) FROM pg_class"
                         " WHERE relname LIKE 'calls_y2027m%'";
    pid_t pid;
    int status = 0;
    cdr_diag_clear(&d);
    diag_ok(a.ops->begin(a.self, &run, &d), &d);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) { /* run b: exit codes only, no cmocka in here */
        struct rt_sink b;
        struct rt_run_info late = run_info(files2, 1);
        struct rt_summary sum;
        struct rt_store_report rep;
        struct cdr_diag bd;
        cdr_diag_clear(&bd);
        late.started_at += 400 * 86400; /* 2027-06: months nobody made */
        if (rt_sink_pg_open(&b, f->conninfo, NULL, &bd) != 0)
            _exit(2);
        if (b.ops->begin(b.self, &late, &bd) != 0)
            _exit(3);
        memset(&sum, 0, sizeof sum);
        sum.store = &rep;
        if (b.ops->commit(b.self, &sum, &bd) != 0)
            _exit(4);
        b.ops->free(b.self);
        _exit(0);
    }
    for (int i = 0; i < 400 && strcmp(scalar(f->admin, waiting), "1") != 0; i++)
        usleep(25000);
    assert_string_equal(scalar(f->admin, waiting), "1");
    assert_string_equal(scalar(f->admin, months), "0");
    a.ops->abort(a.self);
    a.ops->free(a.self);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_string_not_equal(scalar(f->admin, months), "0");
}

static int
big_night(struct rt_sink *s, int n, PGconn *killer, const char *appname,
          struct rt_store_report *rep, struct cdr_diag *d)
{
    return big_night_at(s, T0, n, killer, appname, rep, d);
}

/* A run that failed on a value out of PostgreSQL's range (its rows could
 * not be built: the COPY buffer's out-of-memory flag) leaves nothing behind
 * for the sink's next run. */
static void
test_a_failed_run_leaves_the_sink_usable(void **state)
{
    struct fx *f = *state;
    struct rt_sink s = open_sink(f);
    struct rt_run_info run = run_info(files3_bad, 1);
    struct rt_store_report rep;
    struct rt_summary sum;
    struct tcall far;
    struct cdr_diag d;
    int seen = 0, rc;
    cdr_diag_clear(&d);
    diag_ok(s.ops->begin(s.self, &run, &d), &d);
    diag_ok(s.ops->file_seen(s.self, files3_bad[0].sha256, &seen, &d), &d);
    make_call(&far, "CAfar", NULL, RT_LEG_SINGLE, RT_SCN_NONE, INT64_C(1) << 60,
              60, 0);
    add_comp(&far, RT_SVC_TERMINATION, 4500000, NULL);
    rc = s.ops->call(s.self, &far.call, &d);
    if (rc == 0) {
        memset(&sum, 0, sizeof sum);
        sum.store = &rep;
        rc = s.ops->commit(s.self, &sum, &d);
    }
    assert_int_not_equal(rc, 0);
    s.ops->abort(s.self);
    /* the same sink, a night of two batches (each buffer used again) */
    cdr_diag_clear(&d);
    diag_ok(big_night(&s, RT_SINK_PG_BATCH, NULL, NULL, &rep, &d), &d);
    s.ops->free(s.self);
    assert_int_equal(rep.calls, 2 * RT_SINK_PG_BATCH);
    assert_string_equal(scalar(f->admin, "SELECT count(*) FROM referee.runs"),
                        "1");
}

static void
test_backend_killed_mid_load_leaves_database_as_before(void **state)
{
    struct fx *f = *state;
    struct rt_sink s = open_sink(f);
    struct rt_store_report rep;
    struct cdr_diag d;
    char before[4096], conninfo[400];
    int rc;
    rate_night(&s, files2, "CA1", &rep); /* something already there */
    s.ops->free(s.self);
    snprintf(before, sizeof before, "%s", snapshot(f->admin));

    snprintf(conninfo, sizeof conninfo, "%s application_name=victim",
             f->conninfo);
    cdr_diag_clear(&d);
    diag_ok(rt_sink_pg_open(&s, conninfo, NULL, &d), &d);
    memset(&rep, 0, sizeof rep);
    rc = big_night(&s, 20000, f->admin, "victim", &rep, &d);
    assert_int_equal(rc, CDR_E_DB);
    assert_non_null(strstr(d.detail, "SQLSTATE"));
    s.ops->free(s.self);
    assert_string_equal(snapshot(f->admin), before);

    /* The retried run completes with the totals of an uninterrupted one. */
    s = open_sink(f);
    cdr_diag_clear(&d);
    diag_ok(big_night(&s, 20000, NULL, NULL, &rep, &d), &d);
    s.ops->free(s.self);
    assert_int_equal(rep.calls, 40000);
    assert_int_equal(rep.components, 60000);
    /* per transfer: parent 61 s -> 120 s at 0.0045 = 0.009, child 30 s ->
     * 60 s at 0.0045 + 0.012 = 0.0165: 0.0255 */
    assert_int_equal(rep.total_nano, (int64_t)20000 * 25500000);
    assert_string_equal(
        scalar(f->admin, "SELECT sum(amount) FROM referee.daily_totals"),
        "510.034500");
}

/* Nothing of a run outlives it (a failed run once left its COPY buffers'
 * out-of-memory flag set for the next).  A run into an empty database
 * fails at its commit, having loaded a new month without indexes and the
 * register without its key; the next run on the same sink is a run as on
 * a fresh sink; and once it committed, a read of the store is refused as
 * outside a run (it answered from the register's state of the run before:
 * "no earlier run stored a call"). */
static void
test_nothing_of_a_run_outlives_it(void **state)
{
    struct fx *f = *state;
    struct rt_sink s = open_sink(f);
    struct rt_run_info run = run_info(files1, 1);
    struct rt_store_report rep;
    struct rt_summary sum;
    struct collect got;
    struct cdr_slice want = sl("CAP0000001");
    struct cdr_diag d;
    int rc;
    char before[4096];
    snprintf(before, sizeof before, "%s", snapshot(f->admin));
    cdr_diag_clear(&d);
    rc = s.ops->begin(s.self, &run, &d);
    /* a sid twice, batches apart: found when the register's key is built */
    for (int i = 0; i <= RT_SINK_PG_BATCH && rc == 0; i++) {
        struct tcall t;
        char sid[32];
        snprintf(sid, sizeof sid, "CAX%07d", i % RT_SINK_PG_BATCH);
        make_call(&t, sid, NULL, RT_LEG_SINGLE, RT_SCN_NONE, T_OLD + i, 60, 0);
        add_comp(&t, RT_SVC_TERMINATION, 4500000, "0.0045");
        rc = s.ops->call(s.self, &t.call, &d);
    }
    if (rc == 0) {
        memset(&sum, 0, sizeof sum);
        sum.store = &rep;
        rc = s.ops->commit(s.self, &sum, &d);
    }
    assert_int_not_equal(rc, 0);
    assert_true(strstr(d.detail, "CAX0000000") != NULL ||
                strstr(d.value, "CAX0000000") != NULL);
    s.ops->abort(s.self);
    assert_string_equal(snapshot(f->admin), before);

    /* the same sink: the month loaded again, the register keyed again */
    cdr_diag_clear(&d);
    diag_ok(big_night_at(&s, T_OLD, 100, NULL, NULL, &rep, &d), &d);
    assert_int_equal(rep.calls, 200);
    assert_int_equal(rep.components, 300);
    assert_int_equal(rep.duplicates, 0);
    assert_int_equal(rep.total_nano, (int64_t)100 * 25500000);
    assert_string_equal(
        scalar(f->admin,
               "SELECT string_agg(c.relname || ' ' || c.relispartition, ','"
               " ORDER BY c.relname) FROM pg_class c WHERE c.relkind = 'r'"
               " AND c.relname LIKE '%y2025m10'"),
        "calls_y2025m10 true,charges_y2025m10 true");
    assert_string_equal(scalar(f->admin,
                               "SELECT count(*) FROM pg_constraint"
                               " WHERE conrelid = 'referee.call_sids'::regclass"
                               " AND contype = 'p'"),
                        "1");
    assert_string_equal(scalar(f->admin, "SELECT count(*) || ' ' ||"
                                         " sum(amount) FROM referee.charges"),
                        "300 2.550000");

    /* after the commit: no run, whatever the last one found */
    memset(&got, 0, sizeof got);
    cdr_diag_clear(&d);
    assert_int_equal(
        s.ops->stored_parents(s.self, &want, 1, collect_row, &got, &d),
        CDR_E_USAGE);
    assert_non_null(strstr(d.message, "outside a run"));
    assert_int_equal(got.n, 0);
    cdr_diag_clear(&d);
    assert_int_equal(s.ops->stored_calls(s.self, T_OLD, T_OLD + 86400,
                                         collect_row, &got, &d),
                     CDR_E_USAGE);
    s.ops->free(s.self);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_a_failed_step_poisons_the_run,
                                        setup_db, teardown_db),
        cmocka_unit_test_setup_teardown(
            test_runs_of_one_database_go_one_at_a_time, setup_db, teardown_db),
        cmocka_unit_test_setup_teardown(
            test_a_waiting_run_makes_no_month_before_the_lock, setup_db,
            teardown_db),
        cmocka_unit_test_setup_teardown(
            test_a_failed_run_leaves_the_sink_usable, setup_db, teardown_db),
        cmocka_unit_test_setup_teardown(
            test_backend_killed_mid_load_leaves_database_as_before, setup_db,
            teardown_db),
        cmocka_unit_test_setup_teardown(test_nothing_of_a_run_outlives_it,
                                        setup_db, teardown_db),
    };
    return pg_run_tests(tests, sizeof tests / sizeof tests[0]);
}

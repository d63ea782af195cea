/*
 * The PostgreSQL sink against a real server (pg_virtualenv exports PGHOST
 * and friends; without a server the test is skipped with 77).  Each test
 * gets a fresh database, migrated from the source tree's schema/.
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
test_migrate_twice_changes_nothing(void **state)
{
    struct fx *f = *state;
    struct cdr_diag d;
    int from, to;
    char before[4096];
    const char *objects =
        "SELECT count(*) || ' ' || string_agg(relname, ',' ORDER BY relname)"
        " FROM pg_class WHERE relnamespace = 'referee'::regnamespace";
    snprintf(before, sizeof before, "%s", scalar(f->admin, objects));
    cdr_diag_clear(&d);
    diag_ok(rt_pg_migrate(f->conninfo, schema_dir, &from, &to, &d), &d);
    assert_int_equal(from, RT_PG_SCHEMA_VERSION);
    assert_int_equal(to, RT_PG_SCHEMA_VERSION);
    assert_string_equal(scalar(f->admin, objects), before);
    assert_int_equal(
        atoi(scalar(f->admin, "SELECT count(*) FROM referee.schema_version")),
        RT_PG_SCHEMA_VERSION);
}

static void
test_migrate_refuses_an_edited_migration(void **state)
{
    struct fx *f = *state;
    struct cdr_diag d;
    char dir[] = "/tmp/referee-schema-XXXXXX", cmd[2048];
    int from, to;
    assert_non_null(mkdtemp(dir));
    snprintf(cmd, sizeof cmd,
             "cp %s/*.sql %s/ && echo '-- edited' >> %s/002_roles.sql",
             schema_dir, dir, dir);
    assert_int_equal(system(cmd), 0);
    cdr_diag_clear(&d);
    assert_int_equal(rt_pg_migrate(f->conninfo, dir, &from, &to, &d), CDR_E_DB);
    assert_non_null(strstr(d.message, "changed after it was applied"));
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static void
test_sink_refuses_unknown_schema_versions(void **state)
{
    struct fx *f = *state;
    struct rt_sink s;
    struct cdr_diag d;
    exec_ok(f->admin, "INSERT INTO referee.schema_version VALUES "
                      "(99, '099_future.sql', 'x')");
    cdr_diag_clear(&d);
    assert_int_equal(rt_sink_pg_open(&s, f->conninfo, NULL, &d), CDR_E_DB);
    assert_non_null(strstr(d.message, "newer"));
    /* and the migration runner will not touch it either */
    cdr_diag_clear(&d);
    assert_int_equal(rt_pg_migrate(f->conninfo, schema_dir, NULL, NULL, &d),
                     CDR_E_DB);
    exec_ok(f->admin, "DROP SCHEMA referee CASCADE");
    cdr_diag_clear(&d);
    assert_int_equal(rt_sink_pg_open(&s, f->conninfo, NULL, &d), CDR_E_DB);
    assert_non_null(strstr(d.message, "no referee schema"));
    assert_non_null(strstr(d.detail, "--migrate"));
}

static void
test_connection_error_names_host_port_and_database(void **state)
{
    struct rt_sink s;
    struct cdr_diag d;
    (void)state;
    cdr_diag_clear(&d);
    assert_int_equal(rt_sink_pg_open(&s,
                                     "host=127.0.0.1 port=1 dbname=billing "
                                     "password=secret connect_timeout=2",
                                     NULL, &d),
                     CDR_E_DB);
    assert_non_null(strstr(d.message, "\"billing\""));
    assert_non_null(strstr(d.message, "127.0.0.1"));
    assert_non_null(strstr(d.message, "port 1"));
    assert_non_null(strstr(d.detail, "refused"));
    assert_null(strstr(d.message, "secret"));
    assert_null(strstr(d.detail, "secret"));
    cdr_diag_clear(&d);
    assert_int_equal(rt_sink_pg_open(&s, "dbname=x port", NULL, &d),
                     CDR_E_USAGE);
    assert_non_null(strstr(d.message, "invalid connection string"));
}

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

struct collect {
    char sids[16][64];
    int n;
    int64_t dummy;
};

static int
collect_row(void *ctx, const struct cdr_row *row, struct cdr_diag *d)
{
    struct collect *c = ctx;
    (void)d;
    assert_true(c->n < 16);
    snprintf(c->sids[c->n], 64, "%.*s|%.*s|%.*s|%.*s|%s:%ld",
             (int)row->field[CDR_COL_SID].n, row->field[CDR_COL_SID].p,
             (int)row->field[CDR_COL_PARENT_CALL_SID].n,
             row->field[CDR_COL_PARENT_CALL_SID].p,
             (int)row->field[CDR_COL_START_TIME].n,
             row->field[CDR_COL_START_TIME].p,
             (int)row->field[CDR_COL_DIRECTION].n,
             row->field[CDR_COL_DIRECTION].p, row->file, row->line);
    c->n++;
    return 0;
}

static void
test_child_in_a_later_run_than_its_parent(void **state)
{
    struct fx *f = *state;
    struct rt_sink s = open_sink(f);
    struct rt_store_report rep;
    struct rt_summary sum;
    struct cdr_diag d;
    struct tcall p, c;
    struct collect got;
    struct cdr_slice want;

    /* Night 1: the child arrives alone, waits in pending. */
    {
        struct rt_run_info run = run_info(files1, 1);
        cdr_diag_clear(&d);
        diag_ok(s.ops->begin(s.self, &run, &d), &d);
        memset(&got, 0, sizeof got);
        diag_ok(s.ops->stored_pending(s.self, collect_row, &got, &d), &d);
        assert_int_equal(got.n, 0);
        make_call(&c, "CA9C", "CA9P", RT_LEG_CHILD, RT_SCN_NONE, T0 + 200, 90,
                  0);
        c.rec.line = 7;
        diag_ok(s.ops->pending(s.self, &c.rec, &d), &d);
        memset(&sum, 0, sizeof sum);
        sum.pending = 1;
        diag_ok(s.ops->commit(s.self, &sum, &d), &d);
    }
    assert_string_equal(
        scalar(f->admin, "SELECT count(*) FROM referee.pending"), "1");
    /* Night 2: the parent, rated alone (single) before the child shows. */
    {
        struct rt_run_info run = run_info(files2, 1);
        cdr_diag_clear(&d);
        diag_ok(s.ops->begin(s.self, &run, &d), &d);
        make_call(&p, "CA9P", NULL, RT_LEG_SINGLE, RT_SCN_NONE, T0, 300, 0);
        add_comp(&p, RT_SVC_TERMINATION, 4500000, "0.0045"); /* 0.022500 */
        diag_ok(s.ops->call(s.self, &p.call, &d), &d);
        /* the pending child was handed back but stays pending (the driver
         * re-pends it): exercise the re-pend path too */
        memset(&got, 0, sizeof got);
        diag_ok(s.ops->stored_pending(s.self, collect_row, &got, &d), &d);
        assert_int_equal(got.n, 1);
        assert_string_equal(got.sids[0], "CA9C|CA9P|2026-05-10T08:03:20Z|"
                                         "trunking-terminating|calls.csv:7");
        diag_ok(s.ops->pending(s.self, &c.rec, &d), &d);
        memset(&sum, 0, sizeof sum);
        diag_ok(s.ops->commit(s.self, &sum, &d), &d);
    }
    assert_string_equal(scalar(f->admin, "SELECT first_run_id || ' ' || run_id"
                                         " FROM referee.pending"),
                        "1 2");
    /* Night 3: linked through the store: the parent is stored already. */
    {
        static struct rt_input_file files3[1] = {
            {"calls3.csv",
             "3333333333333333333333333333333333333333333333333333333333333333",
             1, 0, 0}};
        struct rt_run_info run = run_info(files3, 1);
        cdr_diag_clear(&d);
        diag_ok(s.ops->begin(s.self, &run, &d), &d);
        memset(&got, 0, sizeof got);
        diag_ok(s.ops->stored_pending(s.self, collect_row, &got, &d), &d);
        assert_int_equal(got.n, 1);
        want = sl("CA9P");
        memset(&got, 0, sizeof got);
        diag_ok(s.ops->stored_parents(s.self, &want, 1, collect_row, &got, &d),
                &d);
        assert_int_equal(got.n, 1);
        assert_string_equal(got.sids[0], "CA9P||2026-05-10T08:00:00Z|"
                                         "trunking-terminating|calls.csv:2");
        make_call(&p, "CA9P", NULL, RT_LEG_PARENT, RT_SCN_TERMINATION_SIP, T0,
                  300, -1);
        p.call.relabel_only = 1;
        make_call(&c, "CA9C", "CA9P", RT_LEG_CHILD, RT_SCN_TERMINATION_SIP,
                  T0 + 200, 90, -1);
        add_comp(&c, RT_SVC_TERMINATION, 4000000, "0.004"); /* 0.008000 */
        diag_ok(s.ops->call(s.self, &p.call, &d), &d);
        diag_ok(s.ops->call(s.self, &c.call, &d), &d);
        memset(&sum, 0, sizeof sum);
        sum.store = &rep;
        diag_ok(s.ops->commit(s.self, &sum, &d), &d);
    }
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

/* Whole file for the upgrade test; caller frees. */
static char *
slurp(const char *path)
{
    FILE *fp = fopen(path, "rb");
    char *buf = calloc(1, 1 << 20);
    size_t n;
    assert_non_null(fp);
    assert_non_null(buf);
    n = fread(buf, 1, (1 << 20) - 1, fp);
    buf[n] = '\0';
    fclose(fp);
    return buf;
}

/* Drop the schema and apply the migrations up to version n by hand, as an
 * older referee would have left the database. */
static void
schema_at_version(struct fx *f, int n)
{
    static const char *const names[] = {"001_core.sql",
                                        "002_roles.sql",
                                        "003_views.sql",
                                        "004_call_sids.sql",
                                        "005_bulk_load.sql",
                                        "006_child_file_ids.sql",
                                        "007_own_detached_months.sql"};
    assert_true(n >= 1 && (size_t)n <= sizeof names / sizeof names[0]);
    exec_ok(f->admin, "DROP SCHEMA referee CASCADE");
    for (int i = 0; i < n; i++) {
        char path[1200], v[8];
        char *sql;
        const char *params[3];
        PGresult *r;
        snprintf(path, sizeof path, "%s/%s", schema_dir, names[i]);
        sql = slurp(path);
        exec_ok(f->admin, sql);
        snprintf(v, sizeof v, "%d", i + 1);
        params[0] = v;
        params[1] = names[i];
        params[2] = sql;
        r = PQexecParams(f->admin,
                         "INSERT INTO referee.schema_version"
                         " (version, name, checksum) VALUES ($1, $2, md5($3))",
                         3, NULL, params, NULL, NULL, 0);
        assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
        PQclear(r);
        free(sql);
    }
}

static void
test_upgrade_from_version_3_backfills_the_sid_register(void **state)
{
    struct fx *f = *state;
    struct rt_sink s;
    struct rt_store_report rep;
    struct cdr_diag d;
    int from, to;
    /* a database as version 3 left it, with a night in it */
    schema_at_version(f, 3);
    exec_ok(
        f->admin,
        "INSERT INTO referee.runs (kind, started_at) VALUES ('rate', now());"
        "SELECT referee.ensure_partitions('2026-05-10', '2026-05-10');"
        "INSERT INTO referee.calls (call_sid, start_time, run_id,"
        " direction, \"from\", \"to\", duration, leg, scenario) VALUES"
        " ('CA1S', '2026-05-10T09:00:00Z', 1, 'trunking-terminating',"
        " '+1', '+2', 1, 'single', 'none')");
    cdr_diag_clear(&d);
    assert_int_equal(rt_sink_pg_open(&s, f->conninfo, NULL, &d), CDR_E_DB);
    assert_non_null(strstr(d.message, "older"));
    diag_ok(rt_pg_migrate(f->conninfo, schema_dir, &from, &to, &d), &d);
    assert_int_equal(from, 3);
    assert_int_equal(to, RT_PG_SCHEMA_VERSION);
    assert_string_equal(scalar(f->admin, "SELECT string_agg(call_sid, ',') FROM"
                                         " referee.call_sids"),
                        "CA1S");
    /* the backfilled sid is known: rating it again is a duplicate */
    s = open_sink(f);
    rate_night(&s, files2, "CA1", &rep);
    s.ops->free(s.self);
    assert_int_equal(rep.duplicates, 1);
    assert_int_equal(rep.calls, 2);
    /* and the register refuses a second current row for a sid */
    {
        PGresult *r = PQexec(f->admin, "INSERT INTO referee.call_sids"
                                       " VALUES ('CA1P', now(), 1)");
        assert_int_equal(PQresultStatus(r), PGRES_FATAL_ERROR);
        assert_string_equal(PQresultErrorField(r, PG_DIAG_SQLSTATE), "23505");
        PQclear(r);
    }
}

/* A night of n transfers (parent + child with two components). */
static int
big_night_at(struct rt_sink *s, int64_t t0, int n, PGconn *killer,
             const char *appname, struct rt_store_report *rep,
             struct cdr_diag *d)
{
    struct rt_run_info run = run_info(files1, 1);
    struct rt_summary sum;
    int rc;
    rc = s->ops->begin(s->self, &run, d);
    if (rc != 0)
        return rc;
    for (int i = 0; i < n; i++) {
        struct tcall p, c;
        char ps[32], cs[32];
        snprintf(ps, sizeof ps, "CAP%07d", i);
        snprintf(cs, sizeof cs, "CAC%07d", i);
        make_call(&p, ps, NULL, RT_LEG_PARENT, RT_SCN_TERMINATION_PSTN, t0 + i,
                  61, 0);
        add_comp(&p, RT_SVC_TERMINATION, 4500000, "0.0045");
        make_call(&c, cs, ps, RT_LEG_CHILD, RT_SCN_TERMINATION_PSTN,
                  t0 + i + 30, 30, 0);
        add_comp(&c, RT_SVC_TERMINATION, 4500000, "0.0045");
        add_comp(&c, RT_SVC_TERMINATION, 12000000, "0.012");
        rc = s->ops->call(s->self, &p.call, d);
        if (rc == 0)
            rc = s->ops->call(s->self, &c.call, d);
        if (rc != 0) {
            s->ops->abort(s->self);
            return rc;
        }
        if (killer != NULL && i == n / 2) {
            char sql[320];
            /* this database's: e2e_cli.sh may run beside, with a victim
             * of the same name in another database of the cluster */
            snprintf(sql, sizeof sql,
                     "SELECT count(pg_terminate_backend(pid))"
                     " FROM pg_stat_activity WHERE application_name = '%s'"
                     " AND datname = current_database()",
                     appname);
            assert_string_equal(scalar(killer, sql), "1");
        }
    }
    memset(&sum, 0, sizeof sum);
    sum.store = rep;
    rc = s->ops->commit(s->self, &sum, d);
    return rc;
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

/* 2025-10-22: a month the run's start (T0) does not open in advance. */
static const int64_t T_OLD = 1778400000 - 200 * 86400;

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

/* Children stored before version 6 had no file id: the upgrade gives them
 * the file of their path loaded by the run that stored them, when there is
 * exactly one. */
static void
test_upgrade_from_version_5_gives_children_their_file(void **state)
{
    struct fx *f = *state;
    struct cdr_diag d;
    int from, to;
    schema_at_version(f, 5);
    exec_ok(
        f->admin,
        "INSERT INTO referee.runs (kind, started_at) VALUES ('rate', now());"
        "INSERT INTO referee.input_files (run_id, path, sha256, size_bytes,"
        " rows) VALUES (1, 'calls.csv', repeat('a', 64), 1, 3);"
        "SELECT referee.ensure_partitions('2026-05-10', '2026-05-10');"
        "INSERT INTO referee.calls (call_sid, start_time, run_id, file_id,"
        " source_file, parent_call_sid, direction, \"from\", \"to\","
        " duration, leg, scenario) VALUES"
        " ('CA1P', '2026-05-10T09:00:00Z', 1, 1, 'calls.csv', NULL,"
        "  'trunking-terminating', '+1', '+2', 1, 'parent', 'termination-sip'),"
        " ('CA1C', '2026-05-10T09:00:30Z', 1, NULL, 'calls.csv', 'CA1P',"
        "  'trunking-terminating', '+2', 'sip:a@b', 1, 'child',"
        "  'termination-sip'),"
        " ('CA2C', '2026-05-10T09:00:30Z', 1, NULL, 'other.csv', 'CA1P',"
        "  'trunking-terminating', '+2', 'sip:a@b', 1, 'child',"
        "  'termination-sip')");
    cdr_diag_clear(&d);
    diag_ok(rt_pg_migrate(f->conninfo, schema_dir, &from, &to, &d), &d);
    assert_int_equal(from, 5);
    assert_int_equal(to, RT_PG_SCHEMA_VERSION);
    assert_string_equal(
        scalar(f->admin, "SELECT string_agg(call_sid || '=' ||"
                         " coalesce(file_id::text, '-'), ',' ORDER BY call_sid)"
                         " FROM referee.calls"),
        "CA1C=1,CA1P=1,CA2C=-");
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

/* Every row of the tables that hold data, as text (to see that an
 * upgrade changes none). */
static char *
all_rows(PGconn *c)
{
    /* as jsonb without the columns later versions add (NULL in the rows
     * stored before them): the rows of the version they were stored in */
    return scalar(c, "SELECT md5(concat_ws('|',"
                     " (SELECT string_agg(x, ',' ORDER BY x) FROM (SELECT"
                     "   (to_jsonb(t) - '{plans_sha256,plans_path,"
                     "sell_totals}'::text[])::text x FROM referee.runs t) r),"
                     " (SELECT string_agg(t::text, ',' ORDER BY t::text)"
                     "   FROM referee.input_files t),"
                     " (SELECT string_agg(t::text, ',' ORDER BY t::text)"
                     "   FROM referee.calls t),"
                     " (SELECT string_agg(x, ',' ORDER BY x) FROM (SELECT"
                     "   (to_jsonb(t) - '{plan,sell_matched_prefix,sell_rate,"
                     "sell_billable_seconds,sell_amount,sell_currency,"
                     "target_caller_id}'::text[])::text x"
                     "   FROM referee.charges t) g),"
                     " (SELECT string_agg(t::text, ',' ORDER BY t::text)"
                     "   FROM referee.call_sids t),"
                     " (SELECT string_agg(t::text, ',' ORDER BY t::text)"
                     "   FROM referee.rejects t),"
                     " (SELECT string_agg(t::text, ',' ORDER BY t::text)"
                     "   FROM referee.pending t)))");
}

/* A night as version 7 stored it: a call, its charge and its sid (file
 * old.csv of run 1), a reject, a child waiting for its parent. */
static void
fill_version_7(struct fx *f)
{
    exec_ok(f->admin,
            "INSERT INTO referee.runs (kind, started_at, status, calls,"
            " components, total_amount, totals) VALUES ('rate',"
            " '2026-05-10T09:00:00Z', 'committed', 1, 1, 0.004500,"
            " '[{\"scenario\": \"none\", \"components\": 1,"
            " \"amount\": 0.004500}]');"
            "INSERT INTO referee.input_files (run_id, path, sha256, size_bytes,"
            " rows) VALUES (1, 'old.csv', repeat('a', 64), 10, 3);"
            "SELECT referee.ensure_partitions('2026-05-10', '2026-05-10');"
            "INSERT INTO referee.calls (call_sid, start_time, run_id, file_id,"
            " source_file, source_line, direction, \"from\", \"to\", duration,"
            " leg, scenario) VALUES ('CA7S', '2026-05-10T09:00:00Z', 1, 1,"
            " 'old.csv', 2, 'trunking-terminating', '+1', '+2', 60, 'single',"
            " 'none');"
            "INSERT INTO referee.charges (call_sid, start_time, run_id, leg,"
            " scenario, component, service, \"from\", \"to\", matched_prefix,"
            " rate, duration, billable_seconds, amount, currency, deck)"
            " VALUES ('CA7S', '2026-05-10T09:00:00Z', 1, 'single', 'none', 1,"
            " 'termination', '+1', '+2', '1', 0.0045, 60, 60, 0.004500, 'USD',"
            " 'test-deck');"
            "INSERT INTO referee.call_sids VALUES"
            " ('CA7S', '2026-05-10T09:00:00Z', 1);"
            "INSERT INTO referee.rejects (run_id, file, line, call_sid, field,"
            " reason, code) VALUES (1, 'old.csv', 4, 'CA7X', 'start_time',"
            " 'invalid timestamp', -3);"
            "INSERT INTO referee.pending (call_sid, parent_call_sid,"
            " first_run_id, run_id, file_id, source_file, source_line,"
            " direction, \"from\", \"to\", start_time, duration, status)"
            " VALUES ('CA7C', 'CA7P', 1, 1, 1, 'old.csv', 3,"
            " 'trunking-terminating', '+14155550100', '+14155550199',"
            " '2026-05-10T08:00:30Z', 60, 'completed')");
}

/* A database at version 7 with a night in it (a call, its charge and its
 * sid, a reject, a child waiting for its parent) is upgraded to 8 without
 * a row changing, and rating goes on: the stored sid is a duplicate, the
 * waiting child is rated with its parent and keeps its file. */
static void
test_upgrade_from_version_7_keeps_the_data_and_rates_on(void **state)
{
    struct fx *f = *state;
    struct rt_sink s;
    struct rt_store_report rep;
    struct rt_run_info run = run_info(files2, 1);
    struct rt_summary sum;
    struct collect got;
    struct tcall p, c, dup;
    struct cdr_diag d;
    char before[64];
    int from, to;
    schema_at_version(f, 7);
    fill_version_7(f);
    snprintf(before, sizeof before, "%s", all_rows(f->admin));
    cdr_diag_clear(&d);
    assert_int_equal(rt_sink_pg_open(&s, f->conninfo, NULL, &d), CDR_E_DB);
    assert_non_null(strstr(d.message, "older"));
    cdr_diag_clear(&d);
    diag_ok(rt_pg_migrate(f->conninfo, schema_dir, &from, &to, &d), &d);
    assert_int_equal(from, 7);
    assert_int_equal(to, RT_PG_SCHEMA_VERSION);
    assert_string_equal(all_rows(f->admin), before);

    /* night 2: the child's parent, and the stored sid again */
    s = open_sink(f);
    cdr_diag_clear(&d);
    diag_ok(s.ops->begin(s.self, &run, &d), &d);
    memset(&got, 0, sizeof got);
    diag_ok(s.ops->stored_pending(s.self, collect_row, &got, &d), &d);
    assert_int_equal(got.n, 1);
    assert_string_equal(got.sids[0], "CA7C|CA7P|2026-05-10T08:00:30Z|"
                                     "trunking-terminating|old.csv:3");
    make_call(&p, "CA7P", NULL, RT_LEG_PARENT, RT_SCN_TERMINATION_SIP, T0, 60,
              0);
    p.rec.file = "calls2.csv";
    add_comp(&p, RT_SVC_TERMINATION, 4500000, "0.0045"); /* 0.004500 */
    make_call(&c, "CA7C", "CA7P", RT_LEG_CHILD, RT_SCN_TERMINATION_SIP, T0 + 30,
              60, -1);
    c.rec.file = "old.csv";
    c.rec.line = 3;
    add_comp(&c, RT_SVC_TERMINATION, 4000000, "0.004"); /* 0.004000 */
    make_call(&dup, "CA7S", NULL, RT_LEG_SINGLE, RT_SCN_NONE, T0 + 3600, 60, 0);
    dup.rec.file = "calls2.csv";
    add_comp(&dup, RT_SVC_TERMINATION, 4500000, "0.0045");
    diag_ok(s.ops->call(s.self, &p.call, &d), &d);
    diag_ok(s.ops->call(s.self, &c.call, &d), &d);
    diag_ok(s.ops->call(s.self, &dup.call, &d), &d);
    memset(&sum, 0, sizeof sum);
    sum.rows_read = 2;
    sum.store = &rep;
    diag_ok(s.ops->commit(s.self, &sum, &d), &d);
    s.ops->free(s.self);
    assert_int_equal(rep.calls, 2);
    assert_int_equal(rep.duplicates, 1);
    assert_int_equal(rep.total_nano, 8500000);
    assert_string_equal(
        scalar(f->admin, "SELECT count(*) FROM referee.pending"), "0");
    assert_string_equal(scalar(f->admin,
                               "SELECT concat_ws(' ', scenario, parent_amount,"
                               " child1_amount, total_amount)"
                               " FROM referee.transfers"),
                        "termination-sip 0.004500 0.004000 0.008500");
    assert_string_equal(
        scalar(f->admin,
               "SELECT concat_ws(' ', c.source_file, c.source_line, i.path)"
               " FROM referee.calls c JOIN referee.input_files i"
               " USING (file_id) WHERE c.call_sid = 'CA7C'"),
        "old.csv 3 old.csv");
    assert_string_equal(scalar(f->admin,
                               "SELECT string_agg(call_sid || ' ' || code, ','"
                               " ORDER BY reject_id) FROM referee.rejects"),
                        "CA7X -3,CA7S -10");
    assert_string_equal(scalar(f->admin,
                               "SELECT concat_ws(' ', calls, components,"
                               " duplicates, total_amount, totals)"
                               " FROM referee.runs WHERE run_id = 2"),
                        "2 2 1 0.008500 [{\"amount\": 0.008500, \"scenario\":"
                        " \"termination-sip\", \"components\": 2}]");
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

static void
test_writer_role_is_enough_and_reader_sees_only_views(void **state)
{
    struct fx *f = *state;
    struct rt_sink s;
    struct rt_store_report rep;
    struct cdr_diag d;
    char conninfo[400];
    PGresult *r;
    exec_ok(f->admin, "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles"
                      " WHERE rolname = 'referee_t_rater') THEN"
                      " CREATE ROLE referee_t_rater LOGIN PASSWORD 'pw'"
                      " IN ROLE referee_writer; END IF;"
                      " IF NOT EXISTS (SELECT 1 FROM pg_roles"
                      " WHERE rolname = 'referee_t_fin') THEN"
                      " CREATE ROLE referee_t_fin LOGIN PASSWORD 'pw'"
                      " IN ROLE referee_reader; END IF; END $$");
    snprintf(conninfo, sizeof conninfo, "%s user=referee_t_rater password=pw",
             f->conninfo);
    cdr_diag_clear(&d);
    diag_ok(rt_sink_pg_open(&s, conninfo, NULL, &d), &d);
    rate_night(&s, files1, "CA1", &rep);
    s.ops->free(s.self);
    assert_int_equal(rep.calls, 3);

    exec_ok(f->admin, "SET ROLE referee_t_fin");
    assert_string_equal(
        scalar(f->admin, "SELECT sum(amount) FROM referee.monthly_totals"),
        "0.034500");
    r = PQexec(f->admin, "SELECT count(*) FROM referee.charges");
    assert_int_equal(PQresultStatus(r), PGRES_FATAL_ERROR);
    assert_string_equal(PQresultErrorField(r, PG_DIAG_SQLSTATE), "42501");
    PQclear(r);
    exec_ok(f->admin, "RESET ROLE");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_migrate_twice_changes_nothing,
                                        setup_db, teardown_db),
        cmocka_unit_test_setup_teardown(
            test_migrate_refuses_an_edited_migration, setup_db, teardown_db),
        cmocka_unit_test_setup_teardown(
            test_sink_refuses_unknown_schema_versions, setup_db, teardown_db),
        cmocka_unit_test(test_connection_error_names_host_port_and_database),
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
            test_direct_load_drops_only_the_duplicates, setup_db, teardown_db),
        cmocka_unit_test_setup_teardown(
            test_sid_twice_in_one_batch_fails_the_run, setup_db, teardown_db),
        cmocka_unit_test_setup_teardown(
            test_sid_twice_in_two_batches_fails_the_run, setup_db, teardown_db),
        cmocka_unit_test_setup_teardown(
            test_force_keeps_a_stored_childs_parent_labelled, setup_db,
            teardown_db),
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
            test_upgrade_from_version_3_backfills_the_sid_register, setup_db,
            teardown_db),
        cmocka_unit_test_setup_teardown(
            test_child_in_a_later_run_than_its_parent, setup_db, teardown_db),
        cmocka_unit_test_setup_teardown(
            test_rerate_supersedes_and_keeps_old_charges, setup_db,
            teardown_db),
        cmocka_unit_test_setup_teardown(
            test_backend_killed_mid_load_leaves_database_as_before, setup_db,
            teardown_db),
        cmocka_unit_test_setup_teardown(
            test_new_month_is_loaded_detached_then_attached, setup_db,
            teardown_db),
        cmocka_unit_test_setup_teardown(
            test_a_month_detached_by_hand_is_left_alone, setup_db, teardown_db),
        cmocka_unit_test_setup_teardown(
            test_upgrade_from_version_5_gives_children_their_file, setup_db,
            teardown_db),
        cmocka_unit_test_setup_teardown(
            test_backend_killed_in_a_new_month_leaves_database_as_before,
            setup_db, teardown_db),
        cmocka_unit_test_setup_teardown(
            test_upgrade_from_version_7_keeps_the_data_and_rates_on, setup_db,
            teardown_db),
        cmocka_unit_test_setup_teardown(test_nothing_of_a_run_outlives_it,
                                        setup_db, teardown_db),
        cmocka_unit_test_setup_teardown(
            test_binary_numerics_keep_value_and_scale, setup_db, teardown_db),
        cmocka_unit_test_setup_teardown(
            test_writer_role_is_enough_and_reader_sees_only_views, setup_db,
            teardown_db),
    };
    return pg_run_tests(tests, sizeof tests / sizeof tests[0]);
}

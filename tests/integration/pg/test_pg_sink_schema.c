/*
 * The schema the sink writes to: migrations (idempotent, refusing an edited
 * one), the versions the sink accepts, upgrades from older versions that
 * keep and complete the stored data, the connection error, and the roles
 * (a writer can rate, a reader sees only the views).  Against a real
 * server (pg_virtualenv; 77 without one), a fresh database per test.
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
            test_upgrade_from_version_3_backfills_the_sid_register, setup_db,
            teardown_db),
        cmocka_unit_test_setup_teardown(
            test_upgrade_from_version_5_gives_children_their_file, setup_db,
            teardown_db),
        cmocka_unit_test_setup_teardown(
            test_upgrade_from_version_7_keeps_the_data_and_rates_on, setup_db,
            teardown_db),
        cmocka_unit_test_setup_teardown(
            test_writer_role_is_enough_and_reader_sees_only_views, setup_db,
            teardown_db),
    };
    return pg_run_tests(tests, sizeof tests / sizeof tests[0]);
}

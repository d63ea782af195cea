/*
 * The PostgreSQL integration tests' shared fixture: a fresh database per
 * test (pg_virtualenv exports PGHOST and friends; without a server the
 * tests exit 77), hand-built calls, and the queries the tests share.
 */
#include "tests/integration/pg/pg_fixture.h"

#include "rating/pg/rt_pg_migrate.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
char schema_dir[1024];
static int db_counter;

/* ---- helpers --------------------------------------------------------- */

PGconn *
connect_or_die(const char *conninfo)
{
    PGconn *c;
    struct cdr_diag d;
    cdr_diag_clear(&d);
    if (rt_pg_connect(&c, conninfo, &d) != 0) {
        char buf[1024];
        cdr_diag_format(&d, buf, sizeof buf);
        fail_msg("%s", buf);
    }
    return c;
}

void
exec_ok(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(c));
    PQclear(r);
}

/* First column of the first row, as text ("" for NULL). */
char *
scalar(PGconn *c, const char *sql)
{
    static char out[4096];
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) < 1)
        fail_msg("%s: %s", sql, PQerrorMessage(c));
    snprintf(out, sizeof out, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return out;
}

void
diag_ok(int rc, const struct cdr_diag *d)
{
    if (rc != 0) {
        char buf[1024];
        cdr_diag_format(d, buf, sizeof buf);
        fail_msg("rc %d: %s", rc, buf);
    }
}

int
setup_db(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    PGconn *root = connect_or_die("");
    char sql[128];
    struct cdr_diag d;
    int from, to;
    snprintf(f->db, sizeof f->db, "referee_t%ld_%d", (long)getpid(),
             ++db_counter);
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", f->db);
    exec_ok(root, sql);
    PQfinish(root);
    snprintf(f->conninfo, sizeof f->conninfo, "dbname=%s", f->db);
    cdr_diag_clear(&d);
    diag_ok(rt_pg_migrate(f->conninfo, schema_dir, &from, &to, &d), &d);
    assert_int_equal(from, 0);
    assert_int_equal(to, RT_PG_SCHEMA_VERSION);
    f->admin = connect_or_die(f->conninfo);
    *state = f;
    return 0;
}

int
teardown_db(void **state)
{
    struct fx *f = *state;
    PGconn *root;
    char sql[160];
    PQfinish(f->admin);
    root = connect_or_die("");
    snprintf(sql, sizeof sql, "DROP DATABASE %s WITH (FORCE)", f->db);
    exec_ok(root, sql);
    PQfinish(root);
    free(f);
    return 0;
}

struct cdr_slice
sl(const char *s)
{
    struct cdr_slice v = {s, s != NULL ? strlen(s) : 0};
    return v;
}

void
make_call(struct tcall *t, const char *sid, const char *parent, enum rt_leg leg,
          enum rt_scenario scn, int64_t start, int64_t duration,
          long file_index)
{
    memset(t, 0, sizeof *t);
    snprintf(t->sid, sizeof t->sid, "%s", sid);
    snprintf(t->parent, sizeof t->parent, "%s", parent ? parent : "");
    t->rec.sid = sl(t->sid);
    t->rec.parent_call_sid = sl(t->parent);
    t->rec.account_sid = sl("AC0001");
    t->rec.trunk_sid = sl("TK0001");
    t->rec.direction = CDR_DIR_TERMINATING;
    t->rec.from = sl("+14155550100");
    t->rec.to = sl("+14155550199");
    t->rec.status_text = sl("completed");
    t->rec.status = CDR_ST_COMPLETED;
    t->rec.price = sl("-0.0085");
    t->rec.price_unit = sl("USD");
    t->rec.start_time = start;
    t->rec.end_time = start + duration;
    t->rec.has_end_time = 1;
    t->rec.duration = duration;
    t->rec.file = "calls.csv";
    t->rec.line = 2;
    t->call.rec = &t->rec;
    t->call.leg = leg;
    t->call.scenario = scn;
    t->call.file_index = file_index;
}

/* Add a component priced at rate_nano per minute, 60/60 increments, to 6
 * decimals (half-up on exact multiples here: the amounts are chosen so). */
void
add_comp(struct tcall *t, enum rt_service svc, int64_t rate_nano,
         const char *rate_text)
{
    struct rt_component *c = &t->call.comp[t->call.n_components];
    int64_t billable = (t->rec.duration + 59) / 60 * 60;
    c->index = t->call.n_components + 1;
    c->service = svc;
    c->from = t->rec.from;
    c->to = t->rec.to;
    snprintf(c->matched, sizeof c->matched, "1");
    c->rate_nano = rate_nano;
    c->rate_text = rate_text;
    c->duration = t->rec.duration;
    c->billable_seconds = billable;
    c->amount_nano = rate_nano * billable / 60 / 1000 * 1000;
    t->call.n_components++;
}

struct rt_input_file files1[1] = {
    {"calls.csv",
     "1111111111111111111111111111111111111111111111111111111111111111", 100, 3,
     0}};
struct rt_input_file files3_bad[1] = {
    {"calls.csv",
     "4444444444444444444444444444444444444444444444444444444444444444", 100, 1,
     0}};
struct rt_input_file files2[1] = {
    {"calls2.csv",
     "2222222222222222222222222222222222222222222222222222222222222222", 100, 3,
     0}};

struct rt_run_info
run_info(const struct rt_input_file *files, size_t n)
{
    struct rt_run_info r;
    memset(&r, 0, sizeof r);
    r.kind = RT_RUN_RATE;
    r.deck_name = "test-deck";
    r.deck_sha256 =
        "abababababababababababababababababababababababababababababababab";
    r.currency = "USD";
    r.decimals = 6;
    r.files = files;
    r.n_files = n;
    r.started_at = 1778400000; /* 2026-05-10 */
    return r;
}

struct rt_sink
open_sink(struct fx *f)
{
    struct rt_sink s;
    struct cdr_diag d;
    cdr_diag_clear(&d);
    diag_ok(rt_sink_pg_open(&s, f->conninfo, schema_dir, &d), &d);
    return s;
}

/* One night: a termination-pstn transfer (parent + child with two
 * components) and a single call, and one reject. */
void
rate_night(struct rt_sink *s, const struct rt_input_file *files,
           const char *prefix, struct rt_store_report *rep)
{
    struct tcall p, c, single;
    struct rt_run_info run = run_info(files, 1);
    struct rt_summary sum;
    struct rt_reject rej;
    struct cdr_diag d;
    char ps[64], cs[64], ss[64];
    int seen = 0;
    snprintf(ps, sizeof ps, "%sP", prefix);
    snprintf(cs, sizeof cs, "%sC", prefix);
    snprintf(ss, sizeof ss, "%sS", prefix);
    cdr_diag_clear(&d);
    diag_ok(s->ops->begin(s->self, &run, &d), &d);
    diag_ok(s->ops->file_seen(s->self, files[0].sha256, &seen, &d), &d);
    make_call(&p, ps, NULL, RT_LEG_PARENT, RT_SCN_TERMINATION_PSTN, T0, 125, 0);
    add_comp(&p, RT_SVC_TERMINATION, 4500000, "0.0045"); /* 180 s: 0.013500 */
    make_call(&c, cs, ps, RT_LEG_CHILD, RT_SCN_TERMINATION_PSTN, T0 + 100, 60,
              0);
    add_comp(&c, RT_SVC_TERMINATION, 4500000, "0.0045"); /* 0.004500 */
    add_comp(&c, RT_SVC_TERMINATION, 12000000, "0.012"); /* 0.012000 */
    make_call(&single, ss, NULL, RT_LEG_SINGLE, RT_SCN_NONE, T0 + 3600, 1, 0);
    add_comp(&single, RT_SVC_TERMINATION, 4500000, NULL); /* 0.004500 */
    diag_ok(s->ops->call(s->self, &p.call, &d), &d);
    diag_ok(s->ops->call(s->self, &c.call, &d), &d);
    diag_ok(s->ops->call(s->self, &single.call, &d), &d);
    memset(&rej, 0, sizeof rej);
    rej.file = "calls.csv";
    rej.line = 9;
    rej.sid = sl("CAbad");
    rej.field = "start_time";
    rej.reason = "invalid timestamp \"2026-13-01\"";
    /* tab, newline, backslash and a byte that is not UTF-8 */
    rej.raw = sl("CAbad,\t2026-13-01\n\\x,\xff");
    rej.code = CDR_E_BAD_TIME;
    diag_ok(s->ops->reject(s->self, &rej, &d), &d);
    memset(&sum, 0, sizeof sum);
    sum.rows_read = 4;
    sum.calls = 3;
    sum.components = 4;
    sum.rejects = 1;
    sum.total_nano = 34500000;
    sum.store = rep;
    diag_ok(s->ops->commit(s->self, &sum, &d), &d);
}

int
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

/* A night of n transfers (parent + child with two components). */
int
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

/* Everything that must be unchanged by a failed or skipped run. */
char *
snapshot(PGconn *c)
{
    return scalar(c, "SELECT concat_ws(' ',"
                     " (SELECT count(*) FROM referee.runs),"
                     " (SELECT count(*) FROM referee.input_files),"
                     " (SELECT count(*) FROM referee.calls),"
                     " (SELECT count(*) FROM referee.charges),"
                     " (SELECT count(*) FROM referee.charges"
                     "   WHERE superseded_by_run IS NULL),"
                     " (SELECT coalesce(sum(amount), 0) FROM referee.charges"
                     "   WHERE superseded_by_run IS NULL),"
                     " (SELECT count(*) FROM referee.rejects),"
                     " (SELECT count(*) FROM referee.pending),"
                     /* no table or key left behind or lost (begin's
                      * empty partitions around the run's start are
                      * committed apart, on purpose: not counted) */
                     " (SELECT string_agg(relname || ':' || relkind::text,"
                     "   ',' ORDER BY relname) FROM pg_class"
                     "   WHERE relnamespace = 'referee'::regnamespace"
                     "   AND NOT relispartition),"
                     " (SELECT string_agg(conname, ',' ORDER BY conname)"
                     "   FROM pg_constraint k JOIN pg_class c"
                     "   ON c.oid = k.conrelid"
                     "   WHERE k.connamespace = 'referee'::regnamespace"
                     "   AND NOT c.relispartition))");
}

/* ---- tests ----------------------------------------------------------- */

int
pg_run_tests(const struct CMUnitTest *tests, size_t n)
{
    const char *src = getenv("REFEREE_SOURCE_DIR");
    if (getenv("PGHOST") == NULL) {
        fprintf(stderr, "PGHOST not set: no PostgreSQL server, skipped\n");
        return 77;
    }
    snprintf(schema_dir, sizeof schema_dir, "%s/schema",
             src != NULL ? src : ".");
    return _cmocka_run_group_tests("pg", tests, n, NULL, NULL);
}

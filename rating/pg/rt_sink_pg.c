#include "rating/pg/rt_sink_pg.h"

#include "cdr/util/cdr_parse.h"
#include "rating/pg/rt_pg_migrate.h"
#include "rating/pg/rt_sink_pg_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * Staging: one TEMP table, one row per thing the driver hands over, kind
 *   C  a rated call with its (up to two) components inline
 *   L  a parent rated by an earlier run: only leg and scenario change
 *   R  a reject
 *   P  a child waiting for its parent
 *   D  a call of the direct load rated by an earlier run (r_field: that
 *      run's id): listed in rejects as a duplicate
 * One table means one COPY stream for what is staged (rated calls of a
 * rate run mostly go straight into the final tables: see pgs_direct_call).
 */
static const char stg_ddl[] =
    "CREATE TEMP TABLE referee_stg ("
    " kind text NOT NULL, sid text COLLATE \"C\","
    " parent_call_sid text COLLATE \"C\", account_sid text,"
    " trunk_sid text, direction text, \"from\" text, \"to\" text,"
    " start_time timestamptz, end_time timestamptz, duration bigint,"
    " status text, price numeric, price_unit text, transfer_target text,"
    " transfer_status text, leg text, scenario text, file_index integer,"
    " src_file text, src_line bigint,"
    " c1_service text, c1_from text, c1_to text, c1_matched text,"
    " c1_rate numeric, c1_duration bigint, c1_billable bigint,"
    " c1_amount numeric,"
    " c2_service text, c2_from text, c2_to text, c2_matched text,"
    " c2_rate numeric, c2_duration bigint, c2_billable bigint,"
    " c2_amount numeric,"
    " r_field text, r_reason text, r_code integer, r_raw text"
    ") ON COMMIT DROP";

/* ---- ops ------------------------------------------------------------- */

static void
free_run(struct pg_sink *s)
{
    pgs_free_direct(s);
    for (size_t i = 0; i < s->n_files; i++)
        free(s->files[i].path);
    free(s->files);
    free(s->deck_name);
    free(s->currency);
    free(s->seen);
    s->files = NULL;
    s->n_files = 0;
    s->deck_name = s->currency = NULL;
    s->seen = NULL;
    s->n_seen = s->cap_seen = 0;
    s->run_files = NULL;
}

char *
pgs_dup_str(const char *s)
{
    size_t n;
    char *p;
    if (s == NULL)
        s = "";
    n = strlen(s) + 1;
    p = malloc(n);
    if (p != NULL)
        memcpy(p, s, n);
    return p;
}

static int
copy_files(struct pg_sink *s, const struct rt_input_file *f, size_t n)
{
    for (size_t i = 0; i < s->n_files; i++)
        free(s->files[i].path);
    free(s->files);
    s->files = NULL;
    s->n_files = 0;
    if (n == 0)
        return 0;
    s->files = calloc(n, sizeof *s->files);
    if (s->files == NULL)
        return -1;
    for (size_t i = 0; i < n; i++) {
        s->files[i].path = pgs_dup_str(f[i].path);
        if (s->files[i].path == NULL) {
            s->n_files = i;
            return -1;
        }
        memcpy(s->files[i].sha256, f[i].sha256, sizeof s->files[i].sha256);
        s->files[i].sha256[64] = '\0';
        s->files[i].size = f[i].size;
        s->files[i].rows = f[i].rows;
        s->files[i].skipped = f[i].skipped;
    }
    s->n_files = n;
    return 0;
}

static void pg_abort(void *self);

static int
pg_begin(void *self, const struct rt_run_info *run, struct cdr_diag *d)
{
    struct pg_sink *s = self;
    char started[32], from[32], to[32], host[256], pid[24], dec[16];
    const char *params[11];
    PGresult *res;

    if (s->in_tx)
        return cdr_diag_set(d, CDR_E_USAGE, NULL, NULL, 0,
                            "PostgreSQL sink: begin inside a run");
    free_run(s);
    /* An out-of-memory flag stays set until its run has failed on it; a
     * new run starts without it. */
    s->buf.oom = 0;
    for (int i = 0; i < 2; i++) {
        s->bat[i].sids.oom = s->bat[i].calls.oom = 0;
        s->bat[i].charges.oom = s->bat[i].tmp.oom = 0;
    }
    s->kind = run->kind;
    s->force = run->force;
    s->decimals = run->decimals;
    s->deck_name = pgs_dup_str(run->deck_name);
    s->currency = pgs_dup_str(run->currency);
    if (s->deck_name == NULL || s->currency == NULL ||
        copy_files(s, run->files, run->n_files) != 0)
        return cdr_diag_set(d, CDR_E_NOMEM, NULL, NULL, 0, "out of memory");
    s->run_files = run->files;
    memset(s->scn_components, 0, sizeof s->scn_components);
    memset(s->scn_nano, 0, sizeof s->scn_nano);
    s->sums_overflow = 0;
    s->n_rated = s->n_relabel = s->n_reject = s->n_pending = 0;
    s->pending_fed = -1;
    s->failed = 0;

    /* This month's partitions and the neighbours, committed on their own:
     * creating a partition locks the whole table, so do it in a moment,
     * not for the length of the run (others are made in the run).  After
     * the run lock, as the run itself: made while another run holds its
     * tables, they would wait for it holding the months' lock, which that
     * run may want next (a deadlock, and a run lost). */
    {
        char lo[32], hi[32];
        const char *pp[2] = {lo, hi};
        PGresult *pres;
        cdr_format_time(run->started_at - 31 * 86400, lo, sizeof lo);
        cdr_format_time(run->started_at + 31 * 86400, hi, sizeof hi);
        pres = rt_pg_query(
            s->conn,
            "SELECT referee.ensure_partitions($1, $2) FROM"
            " (SELECT pg_advisory_xact_lock(" RT_PG_LOCK_KEY ")) run_lock",
            2, pp, PGRES_TUPLES_OK, "creating monthly partitions", d);
        if (pres == NULL)
            return CDR_E_DB;
        PQclear(pres);
    }
    if (rt_pg_exec(s->conn, "BEGIN", "starting the run's transaction", d) != 0)
        return CDR_E_DB;
    s->in_tx = 1;
    /* Runs of one database go one at a time: exactly-once checks are
     * done in SQL and must see every earlier run committed. */
    if (rt_pg_exec(s->conn, "SELECT pg_advisory_xact_lock(" RT_PG_LOCK_KEY ")",
                   "waiting for other runs (lock)", d) != 0)
        goto fail;

    cdr_format_time(run->started_at, started, sizeof started);
    cdr_format_time(run->rerate_from, from, sizeof from);
    cdr_format_time(run->rerate_to, to, sizeof to);
    if (gethostname(host, sizeof host) != 0)
        host[0] = '\0';
    host[sizeof host - 1] = '\0';
    snprintf(pid, sizeof pid, "%ld", (long)getpid());
    snprintf(dec, sizeof dec, "%d", run->decimals);
    params[0] = run->kind == RT_RUN_RERATE ? "rerate" : "rate";
    params[1] = started;
    params[2] = host;
    params[3] = pid;
    params[4] = run->deck_name;
    params[5] = run->deck_sha256;
    params[6] = run->currency;
    params[7] = dec;
    params[8] = run->force ? "t" : "f";
    params[9] = run->kind == RT_RUN_RERATE ? from : NULL;
    params[10] = run->kind == RT_RUN_RERATE ? to : NULL;
    res = rt_pg_query(s->conn,
                      "INSERT INTO referee.runs (kind, started_at, host, pid,"
                      " deck_name, deck_sha256, currency, decimals, force,"
                      " rerate_from, rerate_to) VALUES ($1, $2, $3, $4, $5,"
                      " $6, $7, $8, $9, $10, $11) RETURNING run_id",
                      11, params, PGRES_TUPLES_OK, "recording the run", d);
    if (res == NULL)
        goto fail;
    snprintf(s->run_id, sizeof s->run_id, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    if (pgs_parse_long(s->run_id, &s->run_num) != 0)
        goto fail;
    if (rt_pg_exec(s->conn, stg_ddl, "creating the staging table", d) != 0)
        goto fail;
    if (pgs_direct_setup(s, d) != 0)
        goto fail;
    return 0;
fail:
    pg_abort(s);
    return CDR_E_DB;
}

/* Sums and the time span of the rated calls (staged or direct). */
static void
track_call(struct pg_sink *s, const struct rt_call *c)
{
    unsigned k =
        (unsigned)c->scenario < RT_SCN_COUNT ? (unsigned)c->scenario : 0;
    for (int i = 0; i < c->n_components; i++) {
        if (__builtin_add_overflow(s->scn_nano[k], c->comp[i].amount_nano,
                                   &s->scn_nano[k]))
            s->sums_overflow = 1;
        s->scn_components[k]++;
    }
    if (s->n_rated == 0 || c->rec->start_time < s->min_start)
        s->min_start = c->rec->start_time;
    if (s->n_rated == 0 || c->rec->start_time > s->max_start)
        s->max_start = c->rec->start_time;
    s->n_rated++;
}

static int
call_impl(void *self, const struct rt_call *c, struct cdr_diag *d)
{
    struct pg_sink *s = self;
    struct rt_pg_buf *b = &s->buf;
    int rc, taken = 0;
    if (!s->in_tx)
        return cdr_diag_set(d, CDR_E_USAGE, NULL, NULL, 0,
                            "PostgreSQL sink: row outside begin/commit");
    if (c->n_components < 0 || c->n_components > 2)
        return cdr_diag_set(d, CDR_E_USAGE, NULL, NULL, 0,
                            "call with %d components", c->n_components);
    rc = pgs_direct_call(s, c, &taken, d);
    if (rc != 0)
        return rc;
    if (taken) {
        track_call(s, c);
        return 0;
    }
    rc = pgs_copy_open(s, d);
    if (rc != 0)
        return rc;
    if (c->relabel_only) {
        rt_pg_copy_str(b, "L");
        s->n_relabel++;
        pgs_copy_slice(b, c->rec->sid);
        pgs_copy_nulls(b, 6);
        rt_pg_copy_time(b, c->rec->start_time);
        pgs_copy_nulls(b, 7);
    } else {
        /* checks before it writes: nothing partial is left behind */
        rc = pgs_copy_record(s, "C", c->rec, d);
        if (rc != 0)
            return rc;
    }
    rt_pg_copy_str(b, rt_leg_name(c->leg));
    rt_pg_copy_str(b, rt_scenario_name(c->scenario));
    pgs_copy_file_pos(s, c->file_index, c->rec->file, c->rec->line);
    for (int i = 0; i < 2; i++) {
        if (!c->relabel_only && i < c->n_components)
            pgs_copy_component(s, &c->comp[i]);
        else
            pgs_copy_nulls(b, 8);
    }
    pgs_copy_nulls(b, 4);
    if (!c->relabel_only)
        track_call(s, c);
    return pgs_row_done(s, d);
}

static int
reject_impl(void *self, const struct rt_reject *r, struct cdr_diag *d)
{
    struct pg_sink *s = self;
    struct rt_pg_buf *b = &s->buf;
    int rc = pgs_copy_open(s, d);
    if (rc != 0)
        return rc;
    rt_pg_copy_str(b, "R");
    s->n_reject++;
    pgs_copy_opt(b, r->sid);
    pgs_copy_nulls(b, 16);
    pgs_copy_file_pos(s, pgs_file_index_of(s, r->file), r->file, r->line);
    pgs_copy_nulls(b, 16);
    if (r->field != NULL && r->field[0] != '\0')
        rt_pg_copy_str(b, r->field);
    else
        rt_pg_copy_null(b);
    rt_pg_copy_str(b, r->reason != NULL ? r->reason : "");
    rt_pg_copy_int(b, r->code);
    pgs_copy_opt(b, r->raw);
    return pgs_row_done(s, d);
}

static int
pending_impl(void *self, const struct cdr_record *rec, struct cdr_diag *d)
{
    struct pg_sink *s = self;
    struct rt_pg_buf *b = &s->buf;
    int rc;
    if (rec->parent_call_sid.n == 0)
        return cdr_diag_set(d, CDR_E_USAGE, "parent_call_sid", NULL, 0,
                            "pending call without a parent sid");
    rc = pgs_copy_open(s, d);
    if (rc != 0)
        return rc;
    s->n_pending++;
    rc = pgs_copy_record(s, "P", rec, d);
    if (rc != 0)
        return rc;
    pgs_copy_nulls(b, 2);
    pgs_copy_file_pos(s, pgs_file_index_of(s, rec->file), rec->file, rec->line);
    pgs_copy_nulls(b, 20);
    return pgs_row_done(s, d);
}

static int
pg_commit(void *self, const struct rt_summary *sum, struct cdr_diag *d)
{
    struct pg_sink *s = self;
    struct rt_store_report rep;
    int rc;
    if (!s->in_tx)
        return cdr_diag_set(d, CDR_E_USAGE, NULL, NULL, 0,
                            "PostgreSQL sink: commit without begin");
    if (s->failed) {
        pg_abort(s);
        return cdr_diag_set(d, CDR_E_DB, NULL, NULL, 0,
                            "run not committed: an earlier step failed");
    }
    rc = pgs_direct_send(s, d);
    if (rc == 0)
        rc = pgs_copy_close(s, NULL, d); /* and the last batch done */
    pgs_loader_stop(s);
    if (rc == 0 &&
        copy_files(s, sum->files != NULL ? sum->files : s->run_files,
                   sum->files != NULL ? sum->n_files : s->n_files) != 0)
        rc = cdr_diag_set(d, CDR_E_NOMEM, NULL, NULL, 0, "out of memory");
    /* Indexes of what was loaded without them, before the merge uses
     * them (a sid loaded twice fails here). */
    if (rc == 0 && s->reg_unindexed)
        rc = pgs_step(s, "SELECT referee.register_reindex()", 0, NULL,
                      "indexing the sid register", NULL, d);
    if (rc == 0 && s->n_months > 0)
        rc = pgs_step(s, "SELECT referee.attach_loaded()", 0, NULL,
                      "attaching the loaded months", NULL, d);
    if (rc == 0)
        rc = pgs_merge(s, sum, &rep, d);
    if (rc == 0) {
        /* A transaction that failed answers COMMIT with "ROLLBACK". */
        PGresult *res = PQexec(s->conn, "COMMIT");
        if (PQresultStatus(res) != PGRES_COMMAND_OK ||
            strcmp(PQcmdStatus(res), "COMMIT") != 0)
            rc = rt_pg_fail(s->conn, res, "committing the run", d);
        PQclear(res);
    }
    if (rc != 0) {
        pg_abort(s);
        return rc;
    }
    s->in_tx = 0;
    s->last = rep;
    s->has_last = 1;
    if (sum->store != NULL)
        *sum->store = rep;
    return 0;
}

static void
pg_abort(void *self)
{
    struct pg_sink *s = self;
    struct cdr_diag ignore;
    cdr_diag_clear(&ignore);
    (void)pgs_loader_idle(s); /* its rows are dropped with the rest */
    pgs_loader_stop(s);
    (void)pgs_copy_close(s, "run aborted", &ignore);
    if (s->in_tx && PQstatus(s->conn) == CONNECTION_OK) {
        PGresult *res = PQexec(s->conn, "ROLLBACK");
        PQclear(res);
    }
    s->in_tx = 0;
    rt_pg_buf_reset(&s->buf);
    pgs_batch_reset(&s->bat[0]);
    pgs_batch_reset(&s->bat[1]);
}

static void
pg_free(void *self)
{
    struct pg_sink *s = self;
    if (s == NULL)
        return;
    if (s->in_tx)
        pg_abort(s);
    PQfinish(s->conn);
    free_run(s);
    rt_pg_buf_free(&s->buf);
    pgs_batch_free(&s->bat[0]);
    pgs_batch_free(&s->bat[1]);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

/* Any failure inside a run poisons it: commit refuses, so a driver that
 * went on after an error cannot commit a run with rows missing. */
static int
poison(void *self, int rc)
{
    if (rc != 0)
        ((struct pg_sink *)self)->failed = 1;
    return rc;
}

static int
pg_call(void *self, const struct rt_call *c, struct cdr_diag *d)
{
    return poison(self, call_impl(self, c, d));
}

static int
pg_reject(void *self, const struct rt_reject *r, struct cdr_diag *d)
{
    return poison(self, reject_impl(self, r, d));
}

static int
pg_pending(void *self, const struct cdr_record *rec, struct cdr_diag *d)
{
    return poison(self, pending_impl(self, rec, d));
}

static int
pg_file_seen(void *self, const char *sha256, int *seen, struct cdr_diag *d)
{
    return poison(self, pgs_file_seen_impl(self, sha256, seen, d));
}

static int
pg_stored_pending(void *self, rt_row_fn fn, void *ctx, struct cdr_diag *d)
{
    return poison(self, pgs_stored_pending_impl(self, fn, ctx, d));
}

static int
pg_stored_parents(void *self, const struct cdr_slice *sids, size_t n,
                  rt_row_fn fn, void *ctx, struct cdr_diag *d)
{
    return poison(self, pgs_stored_parents_impl(self, sids, n, fn, ctx, d));
}

static int
pg_stored_calls(void *self, int64_t from, int64_t to, rt_row_fn fn, void *ctx,
                struct cdr_diag *d)
{
    return poison(self, pgs_stored_calls_impl(self, from, to, fn, ctx, d));
}

static const struct rt_sink_ops pg_ops = {
    .begin = pg_begin,
    .call = pg_call,
    .reject = pg_reject,
    .pending = pg_pending,
    .commit = pg_commit,
    .abort = pg_abort,
    .free = pg_free,
    .file_seen = pg_file_seen,
    .stored_pending = pg_stored_pending,
    .stored_parents = pg_stored_parents,
    .stored_calls = pg_stored_calls,
};

int
rt_sink_pg_report(const struct rt_sink *sink, struct rt_store_report *out)
{
    const struct pg_sink *s;
    if (sink == NULL || sink->ops != &pg_ops)
        return -1;
    s = sink->self;
    if (!s->has_last)
        return -1;
    *out = s->last;
    return 0;
}

int
rt_sink_pg_open(struct rt_sink *out, const char *conninfo,
                const char *schema_dir, struct cdr_diag *d)
{
    struct pg_sink *s;
    int rc;
    out->ops = NULL;
    out->self = NULL;
    s = calloc(1, sizeof *s);
    if (s == NULL)
        return cdr_diag_set(d, CDR_E_NOMEM, NULL, NULL, 0, "out of memory");
    rt_pg_buf_init(&s->buf);
    for (int i = 0; i < 2; i++)
        s->bat[i].calls.binary = s->bat[i].charges.binary = 1;
    s->cur = &s->bat[0];
    if (pthread_mutex_init(&s->mu, NULL) != 0) {
        free(s);
        return cdr_diag_set(d, CDR_E_NOMEM, NULL, NULL, 0, "out of memory");
    }
    if (pthread_cond_init(&s->cv, NULL) != 0) {
        pthread_mutex_destroy(&s->mu);
        free(s);
        return cdr_diag_set(d, CDR_E_NOMEM, NULL, NULL, 0, "out of memory");
    }
    rc = rt_pg_connect(&s->conn, conninfo, d);
    if (rc == 0) {
        rc = rt_pg_schema_check(s->conn, d);
        if (rc != 0 && schema_dir != NULL && d->detail[0] != '\0') {
            char was[CDR_DIAG_TEXT];
            memcpy(was, d->detail, sizeof was);
            cdr_diag_detail(d, "%s (schema folder %s)", was, schema_dir);
        }
    }
    /* Staging lives in a temp table: let it stay in memory (about 1 GB
     * per million transfer cases; allocated only as used).  This nearly
     * halves the merge.  A temp_buffers set for the role, the database or
     * in the connection string (options='-c temp_buffers=256MB') wins. */
    if (rc == 0)
        rc = rt_pg_exec(s->conn,
                        "SELECT set_config('temp_buffers', '2GB', false)"
                        " FROM pg_settings WHERE name = 'temp_buffers'"
                        " AND source IN ('default', 'configuration file')",
                        "configuring the session", d);
    /* A run is one long transaction, idle while the driver reads and links
     * before its first row: a site-wide timeout must not cut it half-way. */
    if (rc == 0)
        rc = rt_pg_exec(s->conn,
                        "SET statement_timeout = 0;"
                        " SET idle_in_transaction_session_timeout = 0",
                        "configuring the session", d);
    if (rc != 0) {
        PQfinish(s->conn);
        rt_pg_buf_free(&s->buf);
        pthread_cond_destroy(&s->cv);
        pthread_mutex_destroy(&s->mu);
        free(s);
        return rc;
    }
    out->ops = &pg_ops;
    out->self = s;
    return 0;
}

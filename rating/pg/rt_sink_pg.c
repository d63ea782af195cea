#include "rating/pg/rt_sink_pg.h"

#include "cdr/util/cdr_time.h"
#include "rating/pg/rt_pg_migrate.h"
#include "rating/pg/rt_sink_pg_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * A run: everything that lives from begin to commit or abort, made at
 * begin and freed at its end, so nothing of a run can outlive it.  The
 * sink itself keeps only its connection (whose schema version was checked
 * at open) and the report of the last committed run.
 */
struct pg_run {
    struct pgs_facts facts;
    int in_tx;  /* BEGIN sent */
    int failed; /* an op of this run failed: commit refuses */
    struct pgs_link *link;
    struct pgs_stage *stage;
    struct pgs_direct *direct; /* NULL: nothing is loaded directly */
    struct pgs_rated rated;    /* sums of the rated calls, staged or direct */
    char (*seen)[65];          /* sha256s file_seen answered "loaded" for */
    size_t n_seen, cap_seen;
    long pending_fed; /* rows stored_pending handed out; -1: not asked */
};

struct pg_sink {
    PGconn *conn;
    struct pg_run *run;          /* NULL between runs */
    struct rt_store_report last; /* of the last committed run */
    int has_last;
};

static void
free_files(struct pgs_facts *f)
{
    for (size_t i = 0; i < f->n_files; i++)
        free(f->files[i].path);
    free(f->files);
    f->files = NULL;
    f->n_files = 0;
}

static int
copy_files(struct pgs_facts *fa, const struct rt_input_file *f, size_t n)
{
    free_files(fa);
    if (n == 0)
        return 0;
    fa->files = calloc(n, sizeof *fa->files);
    if (fa->files == NULL)
        return -1;
    for (size_t i = 0; i < n; i++) {
        fa->files[i].path = pgs_dup_str(f[i].path);
        if (fa->files[i].path == NULL) {
            fa->n_files = i;
            return -1;
        }
        memcpy(fa->files[i].sha256, f[i].sha256, sizeof fa->files[i].sha256);
        fa->files[i].sha256[64] = '\0';
        fa->files[i].size = f[i].size;
        fa->files[i].rows = f[i].rows;
        fa->files[i].skipped = f[i].skipped;
    }
    fa->n_files = n;
    return 0;
}

/* End the run: a COPY in progress aborted, the transaction rolled back
 * unless it committed (a lost connection or a killed backend has the same
 * effect), everything of the run freed. */
static void
end_run(struct pg_sink *s, int committed)
{
    struct pg_run *r = s->run;
    if (r == NULL)
        return;
    s->run = NULL;
    /* the loader's job done first: its rows are dropped with the rest */
    pgs_stage_free(r->stage);
    if (!committed && r->in_tx && PQstatus(s->conn) == CONNECTION_OK) {
        PGresult *res = PQexec(s->conn, "ROLLBACK");
        PQclear(res);
    }
    pgs_direct_free(r->direct);
    pgs_link_free(r->link);
    free_files(&r->facts);
    free(r->facts.deck_name);
    free(r->facts.currency);
    free(r->seen);
    free(r);
}

/* ---- begin ------------------------------------------------------------ */

static struct pg_run *
new_run(const struct rt_run_info *info)
{
    struct pg_run *r = calloc(1, sizeof *r);
    if (r == NULL)
        return NULL;
    r->facts.kind = info->kind;
    r->facts.force = info->force;
    r->facts.decimals = info->decimals;
    r->facts.plans = info->plans_sha256 != NULL;
    r->facts.run_files = info->files;
    r->facts.deck_name = pgs_dup_str(info->deck_name);
    r->facts.currency = pgs_dup_str(info->currency);
    r->pending_fed = -1;
    if (r->facts.deck_name == NULL || r->facts.currency == NULL ||
        copy_files(&r->facts, info->files, info->n_files) != 0) {
        free_files(&r->facts);
        free(r->facts.deck_name);
        free(r->facts.currency);
        free(r);
        return NULL;
    }
    return r;
}

/* This month's partitions and the neighbours, committed on their own:
 * creating a partition locks the whole table, so do it in a moment, not
 * for the length of the run (others are made in the run).  After the run
 * lock, as the run itself: made while another run holds its tables, they
 * would wait for it holding the months' lock, which that run may want
 * next (a deadlock, and a run lost). */
static int
make_months(PGconn *conn, int64_t started_at, struct cdr_diag *d)
{
    char lo[32], hi[32];
    const char *pp[2] = {lo, hi};
    PGresult *res;
    cdr_time_format(started_at - 31 * 86400, lo, sizeof lo);
    cdr_time_format(started_at + 31 * 86400, hi, sizeof hi);
    res = rt_pg_query(conn,
                      "SELECT referee.ensure_partitions($1, $2) FROM"
                      " (SELECT pg_advisory_xact_lock(" RT_PG_LOCK_KEY
                      ")) run_lock",
                      2, pp, PGRES_TUPLES_OK, "creating monthly partitions", d);
    if (res == NULL)
        return CDR_E_DB;
    PQclear(res);
    return 0;
}

/* The runs row; the run's id from it. */
static int
record_run(PGconn *conn, const struct rt_run_info *run, struct pgs_facts *f,
           struct cdr_diag *d)
{
    char started[32], from[32], to[32], host[256], pid[24], dec[16];
    const char *params[13];
    struct rt_pg_buf path;
    PGresult *res;
    cdr_time_format(run->started_at, started, sizeof started);
    cdr_time_format(run->rerate_from, from, sizeof from);
    cdr_time_format(run->rerate_to, to, sizeof to);
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
    params[11] = run->plans_sha256;
    /* a path is bytes; the column is text */
    rt_pg_buf_init(&path);
    if (run->plans_sha256 != NULL && run->plans_path != NULL)
        rt_pg_add_clean(&path, run->plans_path, strlen(run->plans_path));
    params[12] = path.n > 0 ? rt_pg_buf_cstr(&path) : NULL;
    if (path.oom) {
        rt_pg_buf_free(&path);
        return cdr_diag_set(d, CDR_E_NOMEM, NULL, NULL, 0, "out of memory");
    }
    res = rt_pg_query(conn,
                      "INSERT INTO referee.runs (kind, started_at, host, pid,"
                      " deck_name, deck_sha256, currency, decimals, force,"
                      " rerate_from, rerate_to, plans_sha256, plans_path)"
                      " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,"
                      " $11, $12, $13) RETURNING run_id",
                      13, params, PGRES_TUPLES_OK, "recording the run", d);
    rt_pg_buf_free(&path);
    if (res == NULL)
        return CDR_E_DB;
    snprintf(f->run_id, sizeof f->run_id, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return pgs_parse_long(f->run_id, &f->run_num) != 0 ? CDR_E_DB : 0;
}

/* In the run's transaction: the run lock, the runs row, the staging table
 * and the direct load's look at the store. */
static int
open_run(PGconn *conn, struct pg_run *r, const struct rt_run_info *info,
         struct cdr_diag *d)
{
    int rc;
    if (rt_pg_exec(conn, "BEGIN", "starting the run's transaction", d) != 0)
        return CDR_E_DB;
    r->in_tx = 1;
    /* Runs of one database go one at a time: exactly-once checks are
     * done in SQL and must see every earlier run committed. */
    if (rt_pg_exec(conn, "SELECT pg_advisory_xact_lock(" RT_PG_LOCK_KEY ")",
                   "waiting for other runs (lock)", d) != 0)
        return CDR_E_DB;
    rc = record_run(conn, info, &r->facts, d);
    if (rc == 0)
        rc = pgs_link_new(&r->link, conn, d);
    if (rc == 0)
        rc = pgs_stage_new(&r->stage, r->link, &r->facts, d);
    /* A rate run without --force loads the rated calls of its input
     * files straight into the final tables (rt_sink_pg_direct.c). */
    if (rc == 0 && r->facts.kind == RT_RUN_RATE && !r->facts.force &&
        r->facts.n_files > 0)
        rc = pgs_direct_new(&r->direct, &r->facts, r->link, r->stage, d);
    return rc;
}

static int
pg_begin(void *self, const struct rt_run_info *info, struct cdr_diag *d)
{
    struct pg_sink *s = self;
    int rc;
    if (s->run != NULL)
        return cdr_diag_set(d, CDR_E_USAGE, NULL, NULL, 0,
                            "PostgreSQL sink: begin inside a run");
    s->run = new_run(info);
    if (s->run == NULL)
        return cdr_diag_set(d, CDR_E_NOMEM, NULL, NULL, 0, "out of memory");
    rc = make_months(s->conn, info->started_at, d);
    if (rc == 0)
        rc = open_run(s->conn, s->run, info, d);
    if (rc != 0) {
        end_run(s, 0);
        return CDR_E_DB;
    }
    return 0;
}

/* ---- rows ------------------------------------------------------------- */

/* Sums and the time span of the rated calls (staged or direct). */
static void
track_call(struct pgs_rated *s, const struct rt_call *c)
{
    unsigned k =
        (unsigned)c->scenario < RT_SCN_COUNT ? (unsigned)c->scenario : 0;
    for (int i = 0; i < c->n_components; i++) {
        if (__builtin_add_overflow(s->nano[k], c->comp[i].amount_nano,
                                   &s->nano[k]))
            s->overflow = 1;
        s->comp[k]++;
    }
    if (s->n == 0 || c->rec->start_time < s->min_start)
        s->min_start = c->rec->start_time;
    if (s->n == 0 || c->rec->start_time > s->max_start)
        s->max_start = c->rec->start_time;
    s->n++;
}

static int
call_impl(struct pg_sink *s, const struct rt_call *c, struct cdr_diag *d)
{
    struct pg_run *r = s->run;
    int rc, taken = 0;
    if (r == NULL)
        return cdr_diag_set(d, CDR_E_USAGE, NULL, NULL, 0,
                            "PostgreSQL sink: row outside begin/commit");
    if (c->n_components < 0 || c->n_components > 2)
        return cdr_diag_set(d, CDR_E_USAGE, NULL, NULL, 0,
                            "call with %d components", c->n_components);
    if (r->direct != NULL) {
        rc = pgs_direct_call(r->direct, c, &taken, d);
        if (rc != 0)
            return rc;
    }
    if (!taken) {
        rc = pgs_stage_call(r->stage, c, d);
        if (rc != 0 || c->relabel_only)
            return rc;
    }
    track_call(&r->rated, c);
    return 0;
}

static int
reject_impl(struct pg_sink *s, const struct rt_reject *rej, struct cdr_diag *d)
{
    if (s->run == NULL)
        return cdr_diag_set(d, CDR_E_USAGE, NULL, NULL, 0,
                            "PostgreSQL sink: row outside begin/commit");
    return pgs_stage_reject(s->run->stage, rej, d);
}

static int
pending_impl(struct pg_sink *s, const struct cdr_record *rec,
             struct cdr_diag *d)
{
    if (rec->parent_call_sid.n == 0)
        return cdr_diag_set(d, CDR_E_USAGE, "parent_call_sid", NULL, 0,
                            "pending call without a parent sid");
    if (s->run == NULL)
        return cdr_diag_set(d, CDR_E_USAGE, NULL, NULL, 0,
                            "PostgreSQL sink: row outside begin/commit");
    return pgs_stage_pending(s->run->stage, rec, d);
}

/* ---- commit and abort ------------------------------------------------- */

/* Everything loaded and staged sent; the connection free. */
static int
flush_run(struct pg_run *r, const struct rt_summary *sum, PGconn **conn,
          struct cdr_diag *d)
{
    int rc = r->direct != NULL ? pgs_direct_finish(r->direct, d) : 0;
    if (rc == 0)
        rc = pgs_stage_close(r->stage, conn, d);
    /* The files' final sha256, size and rows. */
    if (rc == 0 &&
        copy_files(&r->facts,
                   sum->files != NULL ? sum->files : r->facts.run_files,
                   sum->files != NULL ? sum->n_files : r->facts.n_files) != 0)
        rc = cdr_diag_set(d, CDR_E_NOMEM, NULL, NULL, 0, "out of memory");
    if (rc == 0 && r->direct != NULL)
        rc = pgs_direct_attach(r->direct, d);
    return rc;
}

static int
pg_commit(void *self, const struct rt_summary *sum, struct cdr_diag *d)
{
    struct pg_sink *s = self;
    struct pg_run *r = s->run;
    struct rt_store_report rep;
    struct pgs_merge_in in;
    PGconn *conn = NULL;
    int rc;
    if (r == NULL)
        return cdr_diag_set(d, CDR_E_USAGE, NULL, NULL, 0,
                            "PostgreSQL sink: commit without begin");
    if (r->failed) {
        end_run(s, 0);
        return cdr_diag_set(d, CDR_E_DB, NULL, NULL, 0,
                            "run not committed: an earlier step failed");
    }
    rc = flush_run(r, sum, &conn, d);
    if (rc == 0) {
        memset(&in, 0, sizeof in);
        in.sum = sum;
        in.staged = pgs_stage_counts(r->stage);
        in.rated = &r->rated;
        in.direct = r->direct != NULL ? pgs_direct_sums(r->direct) : NULL;
        if (r->direct != NULL)
            in.direct_file_ids =
                pgs_direct_file_ids(r->direct, &in.n_direct_file_ids);
        in.seen = r->seen;
        in.n_seen = r->n_seen;
        in.pending_fed = r->pending_fed;
        rc = pgs_merge(conn, &r->facts, &in, &rep, d);
    }
    if (rc == 0) {
        /* A transaction that failed answers COMMIT with "ROLLBACK". */
        PGresult *res = PQexec(conn, "COMMIT");
        if (PQresultStatus(res) != PGRES_COMMAND_OK ||
            strcmp(PQcmdStatus(res), "COMMIT") != 0)
            rc = rt_pg_fail(conn, res, "committing the run", d);
        PQclear(res);
    }
    end_run(s, rc == 0);
    if (rc != 0)
        return rc;
    s->last = rep;
    s->has_last = 1;
    if (sum->store != NULL)
        *sum->store = rep;
    return 0;
}

static void
pg_abort(void *self)
{
    end_run(self, 0);
}

static void
pg_free(void *self)
{
    struct pg_sink *s = self;
    if (s == NULL)
        return;
    end_run(s, 0);
    PQfinish(s->conn);
    free(s);
}

/* ---- reads of the store ----------------------------------------------- */

static int
outside_run(struct cdr_diag *d)
{
    return cdr_diag_set(d, CDR_E_USAGE, NULL, NULL, 0,
                        "PostgreSQL sink: store read outside a run");
}

static int
file_seen_impl(struct pg_sink *s, const char *sha256, int *seen,
               struct cdr_diag *d)
{
    struct pg_run *r = s->run;
    int rc;
    *seen = 0;
    if (r == NULL)
        return outside_run(d);
    rc = pgs_store_file_seen(r->stage, sha256, seen, d);
    if (rc != 0 || !*seen)
        return rc;
    if (r->n_seen == r->cap_seen) {
        size_t cap = r->cap_seen ? r->cap_seen * 2 : 8;
        char(*p)[65] = realloc(r->seen, cap * sizeof *p);
        if (p == NULL)
            return cdr_diag_set(d, CDR_E_NOMEM, NULL, NULL, 0, "out of memory");
        r->seen = p;
        r->cap_seen = cap;
    }
    snprintf(r->seen[r->n_seen++], 65, "%s", sha256);
    return 0;
}

static int
stored_pending_impl(struct pg_sink *s, rt_row_fn fn, void *ctx,
                    struct cdr_diag *d)
{
    long fed = 0;
    int rc;
    if (s->run == NULL)
        return outside_run(d);
    rc = pgs_store_pending(s->run->stage, fn, ctx, &fed, d);
    /* (fn may have failed the run: it is still there) */
    if (rc == 0 && s->run != NULL)
        s->run->pending_fed =
            s->run->pending_fed < 0 ? fed : s->run->pending_fed + fed;
    return rc;
}

static int
stored_parents_impl(struct pg_sink *s, const struct cdr_slice *sids, size_t n,
                    rt_row_fn fn, void *ctx, struct cdr_diag *d)
{
    if (s->run == NULL)
        return outside_run(d);
    /* No earlier run stored a call: nothing to find (and the register has
     * no index to find it with). */
    if (s->run->direct != NULL && pgs_direct_register_empty(s->run->direct))
        return 0;
    return pgs_store_parents(s->run->stage, sids, n, fn, ctx, d);
}

static int
stored_calls_impl(struct pg_sink *s, int64_t from, int64_t to, rt_row_fn fn,
                  void *ctx, struct cdr_diag *d)
{
    if (s->run == NULL)
        return outside_run(d);
    return pgs_store_calls(s->run->stage, from, to, fn, ctx, d);
}

/* Any failure inside a run poisons it: commit refuses, so a driver that
 * went on after an error cannot commit a run with rows missing. */
static int
poison(void *self, int rc)
{
    struct pg_sink *s = self;
    if (rc != 0 && s->run != NULL)
        s->run->failed = 1;
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
    return poison(self, file_seen_impl(self, sha256, seen, d));
}

static int
pg_stored_pending(void *self, rt_row_fn fn, void *ctx, struct cdr_diag *d)
{
    return poison(self, stored_pending_impl(self, fn, ctx, d));
}

static int
pg_stored_parents(void *self, const struct cdr_slice *sids, size_t n,
                  rt_row_fn fn, void *ctx, struct cdr_diag *d)
{
    return poison(self, stored_parents_impl(self, sids, n, fn, ctx, d));
}

static int
pg_stored_calls(void *self, int64_t from, int64_t to, rt_row_fn fn, void *ctx,
                struct cdr_diag *d)
{
    return poison(self, stored_calls_impl(self, from, to, fn, ctx, d));
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
        free(s);
        return rc;
    }
    out->ops = &pg_ops;
    out->self = s;
    return 0;
}

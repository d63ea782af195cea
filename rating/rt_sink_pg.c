#include "rating/rt_sink_pg.h"

#include "cdr/cdr_parse.h"
#include "rating/rt_pg.h"
#include "rating/rt_pg_migrate.h"

#include <limits.h>
#include <poll.h>
#include <pthread.h>
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
 * rate run mostly go straight into the final tables: see direct_call).
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

#define STR_(x) #x
#define STR(x) STR_(x)

static const char stg_copy[] = "COPY pg_temp.referee_stg FROM STDIN";

struct file_copy {
    char *path;
    char sha256[65];
    uint64_t size;
    long rows;
    int skipped;
};

__extension__ typedef __int128 i128;
__extension__ typedef unsigned __int128 u128;

/* A rated call of an input file, loaded straight into the final tables:
 * where its text is in the batch buffers. */
struct direct_row {
    size_t sid_off, sid_len;   /* in d_sids */
    size_t call_off, call_end; /* in d_calls */
    size_t ch_off, ch_end;     /* in d_charges */
    int64_t start_time;
    long file_index, line; /* file_index: -1 for a child */
    long name_index;       /* s->files[] entry of its file name */
    long dup_run;          /* >0: rated by that earlier run */
    int target;            /* -1: the partitioned tables; else months[] */
    int scn, n_comp;
    i128 amount_nano;
};

/* A month loaded as a detached table: UTC year * 12 + month - 1, and the
 * partition suffix (yYYYYmMM). */
struct loaded_month {
    int key;
    char suffix[16];
};

/* One batch of the direct load: its rows and their COPY data. */
struct direct_batch {
    struct direct_row *rows;
    size_t n, cap;
    struct rt_pg_buf sids, calls, charges, tmp;
    int rc;               /* of its load */
    struct cdr_diag diag; /* of its load */
};

struct pg_sink {
    PGconn *conn;
    int in_tx, in_copy;
    struct rt_pg_buf buf;
    char run_id[24];
    long run_num; /* run_id as a number */
    enum rt_run_kind kind;
    int force;
    int decimals;
    char *deck_name, *currency;
    struct file_copy *files;
    size_t n_files;
    /* The driver's array: final sha256/size/rows are read at commit. */
    const struct rt_input_file *run_files;
    char (*seen)[65];            /* sha256s file_seen answered "loaded" for */
    struct rt_store_report last; /* of the last committed run */
    /* Of the staged C rows, so commit need not scan them again. */
    long scn_components[RT_SCN_COUNT];
    int64_t scn_nano[RT_SCN_COUNT];
    int sums_overflow;
    int64_t min_start, max_start;
    long n_rated, n_relabel, n_reject, n_pending;
    long pending_fed; /* rows stored_pending handed out; -1: not asked */
    int has_last;
    int failed; /* an op of this run failed: commit refuses */
    size_t n_seen, cap_seen;

    /* Direct load (a rate run without --force): rated calls of input files
     * go in batches straight into call_sids, calls and charges by COPY;
     * each batch's sids are first looked up in call_sids (calls rated by
     * an earlier run are dropped and listed as duplicates).  Everything
     * else (rows re-fed from the store, relabels, rejects, pending, sids
     * still pending from earlier runs) goes through staging as before. */
    int direct;
    int check_dups;   /* call_sids had rows at begin */
    long *file_ids;   /* per file index: 0 unknown, >0 id, -1 NULL */
    char **pend_sids; /* sids pending at begin, sorted (memcmp) */
    size_t n_pend_sids;
    /* The driver fills cur while the loader thread loads fly (the
     * connection is the loader's until loader_wait takes fly back: the
     * server loads one batch while the driver rates the next). */
    struct direct_batch bat[2];
    struct direct_batch *cur, *fly;
    pthread_t loader;
    int loader_on, loader_busy, loader_quit;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    long n_direct_calls, n_direct_comp, n_ddup;
    long dst_comp[RT_SCN_COUNT]; /* stored by the direct load */
    i128 dst_nano[RT_SCN_COUNT];
    int has_cov; /* months known to be open for [cov_lo, cov_hi] */
    /* Months this run loads as detached tables, without indexes (schema
     * 005: open_months, attach_loaded): their rows are COPYed to the
     * month's own tables, the others through the partitioned ones. */
    struct loaded_month *months;
    size_t n_months, cap_months;
    int reg_unindexed; /* call_sids was empty: its key is built at commit */
    int64_t cov_lo, cov_hi;
};

/* ---- names (local: the rating modules own the public ones) ----------- */

/* -?digits(.digits)? : what numeric accepts and the validator lets through. */
static int
is_decimal(const char *p, size_t n)
{
    size_t i = 0, digits = 0;
    if (i < n && p[i] == '-')
        i++;
    for (; i < n && p[i] >= '0' && p[i] <= '9'; i++)
        digits++;
    if (digits == 0)
        return 0;
    if (i < n && p[i] == '.') {
        size_t frac = 0;
        for (i++; i < n && p[i] >= '0' && p[i] <= '9'; i++)
            frac++;
        if (frac == 0)
            return 0;
    }
    return i == n;
}

static int
parse_long(const char *s, long *out)
{
    int64_t v;
    if (cdr_parse_int64(s, s + strlen(s), &v) != 0 || v < LONG_MIN ||
        v > LONG_MAX)
        return -1;
    *out = (long)v;
    return 0;
}

/* ---- COPY ------------------------------------------------------------ */

/* Staged rows gather in s->buf; the staging COPY starts when they are
 * first sent, so staging a row never waits for the loader thread. */

static int loader_wait(struct pg_sink *s, struct cdr_diag *d);

static int
stage_start(struct pg_sink *s, struct cdr_diag *d)
{
    PGresult *res;
    if (s->in_copy)
        return 0;
    res = PQexec(s->conn, stg_copy);
    if (PQresultStatus(res) != PGRES_COPY_IN) {
        rt_pg_fail(s->conn, res, "starting COPY", d);
        PQclear(res);
        return CDR_E_DB;
    }
    PQclear(res);
    s->in_copy = 1;
    return 0;
}

static int
flush_buf(struct pg_sink *s, struct cdr_diag *d)
{
    int rc;
    if (s->buf.oom)
        return cdr_diag_set(d, CDR_E_NOMEM, NULL, NULL, 0,
                            "out of memory building COPY rows");
    /* may add rows of duplicates to s->buf */
    if ((rc = loader_wait(s, d)) != 0)
        return rc;
    if (s->buf.n == 0)
        return 0;
    if ((rc = stage_start(s, d)) != 0)
        return rc;
    if (s->buf.n > (size_t)INT32_MAX ||
        PQputCopyData(s->conn, s->buf.p, (int)s->buf.n) != 1)
        return rt_pg_fail(s->conn, NULL, "sending rows to PostgreSQL", d);
    rt_pg_buf_reset(&s->buf);
    return 0;
}

static int
copy_open(struct pg_sink *s, struct cdr_diag *d)
{
    if (!s->in_tx)
        return cdr_diag_set(d, CDR_E_USAGE, NULL, NULL, 0,
                            "PostgreSQL sink: row outside begin/commit");
    return 0;
}

/* Take the connection back from the loader, send what is staged, end the
 * COPY and drain its results (pg_dump does the same: PQputCopyEnd, then
 * PQgetResult until NULL).  With errmsg, the staged rows are dropped and
 * a COPY in progress is aborted with that message. */
static int
copy_close(struct pg_sink *s, const char *errmsg, struct cdr_diag *d)
{
    PGresult *res;
    int rc = 0;
    if (errmsg == NULL) {
        if ((rc = flush_buf(s, d)) != 0)
            return rc;
    } else {
        rt_pg_buf_reset(&s->buf);
    }
    if (!s->in_copy)
        return 0;
    s->in_copy = 0;
    if (PQputCopyEnd(s->conn, errmsg) != 1 && errmsg == NULL)
        rc = rt_pg_fail(s->conn, NULL, "ending COPY", d);
    while ((res = PQgetResult(s->conn)) != NULL) {
        if (PQresultStatus(res) != PGRES_COMMAND_OK && rc == 0 &&
            errmsg == NULL)
            rc = rt_pg_fail(s->conn, res, "loading rows (COPY)", d);
        PQclear(res);
        if (PQstatus(s->conn) == CONNECTION_BAD)
            break;
    }
    if (rc == 0 && errmsg == NULL && PQstatus(s->conn) == CONNECTION_BAD)
        rc = rt_pg_fail(s->conn, NULL, "loading rows (COPY)", d);
    return rc;
}

static int
row_done(struct pg_sink *s, struct cdr_diag *d)
{
    rt_pg_copy_end_row(&s->buf);
    if (s->buf.n >= RT_SINK_PG_CHUNK || s->buf.oom)
        return flush_buf(s, d);
    return 0;
}

static void
copy_slice(struct rt_pg_buf *b, struct cdr_slice v)
{
    rt_pg_copy_text(b, v.p != NULL ? v.p : "", v.n);
}

/* Optional numeric (a checked decimal): empty is NULL. */
static void
copy_opt_numeric(struct rt_pg_buf *b, struct cdr_slice v)
{
    if (v.n == 0 || v.p == NULL)
        rt_pg_copy_null(b);
    else
        rt_pg_copy_numeric(b, v.p, v.n);
}

/* Optional text: empty is NULL. */
static void
copy_opt(struct rt_pg_buf *b, struct cdr_slice v)
{
    if (v.n == 0 || v.p == NULL)
        rt_pg_copy_null(b);
    else
        rt_pg_copy_text(b, v.p, v.n);
}

static void
copy_nulls(struct rt_pg_buf *b, int n)
{
    while (n-- > 0)
        rt_pg_copy_null(b);
}

/* The columns the staging and the final calls rows share, in their order:
 * parent_call_sid .. to, then end_time .. transfer_status (start_time sits
 * between them in staging, earlier in calls). */
static void
copy_parties(struct rt_pg_buf *b, const struct cdr_record *r)
{
    copy_opt(b, r->parent_call_sid);
    copy_opt(b, r->account_sid);
    copy_opt(b, r->trunk_sid);
    rt_pg_copy_str(b, cdr_direction_name(r->direction));
    copy_slice(b, r->from);
    copy_slice(b, r->to);
}

static void
copy_outcome(struct rt_pg_buf *b, const struct cdr_record *r)
{
    if (r->has_end_time)
        rt_pg_copy_time(b, r->end_time);
    else
        rt_pg_copy_null(b);
    rt_pg_copy_int(b, r->duration);
    copy_opt(b, r->status_text);
    copy_opt_numeric(b, r->price);
    copy_opt(b, r->price_unit);
    copy_opt(b, r->transfer_target);
    copy_opt(b, r->transfer_status);
}

/* The record part of a staging row: kind .. transfer_status, 16 fields. */
static int
copy_record(struct pg_sink *s, const char *kind, const struct cdr_record *r,
            struct cdr_diag *d)
{
    struct rt_pg_buf *b = &s->buf;
    if (r->price.n > 0 && !is_decimal(r->price.p, r->price.n))
        return cdr_diag_set(d, CDR_E_BAD_NUMBER, "price", r->price.p,
                            r->price.n, "price is not a plain decimal");
    rt_pg_copy_str(b, kind);
    copy_slice(b, r->sid);
    copy_parties(b, r);
    rt_pg_copy_time(b, r->start_time);
    copy_outcome(b, r);
    return 0;
}

static void
copy_file_pos(struct pg_sink *s, long file_index, const char *file, long line)
{
    if (file_index >= 0 && (size_t)file_index < s->n_files)
        rt_pg_copy_int(&s->buf, file_index);
    else
        rt_pg_copy_null(&s->buf);
    rt_pg_copy_str(&s->buf, file);
    if (line > 0)
        rt_pg_copy_int(&s->buf, line);
    else
        rt_pg_copy_null(&s->buf);
}

static void
copy_component_to(struct rt_pg_buf *b, int decimals,
                  const struct rt_component *c)
{
    char num[40];
    size_t rate_n = c->rate_text != NULL ? strlen(c->rate_text) : 0;
    int n;
    rt_pg_copy_str(b, rt_service_name(c->service));
    copy_slice(b, c->from);
    copy_slice(b, c->to);
    rt_pg_copy_str(b, c->matched);
    if (rate_n > 0 && is_decimal(c->rate_text, rate_n))
        rt_pg_copy_numeric(b, c->rate_text, rate_n);
    else {
        n = rt_pg_format_nano(c->rate_nano, 9, num, sizeof num);
        rt_pg_copy_numeric(b, num, (size_t)n);
    }
    rt_pg_copy_int(b, c->duration);
    rt_pg_copy_int(b, c->billable_seconds);
    n = rt_pg_format_nano(c->amount_nano, decimals, num, sizeof num);
    rt_pg_copy_numeric(b, num, (size_t)n);
}

static void
copy_component(struct pg_sink *s, const struct rt_component *c)
{
    copy_component_to(&s->buf, s->decimals, c);
}

static long
file_index_of(const struct pg_sink *s, const char *path)
{
    if (path == NULL)
        return -1;
    for (size_t i = 0; i < s->n_files; i++)
        if (strcmp(s->files[i].path, path) == 0)
            return (long)i;
    return -1;
}

/* ---- ops ------------------------------------------------------------- */

static void free_direct(struct pg_sink *s);

static void
free_run(struct pg_sink *s)
{
    free_direct(s);
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

static char *
dup_str(const char *s)
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
        s->files[i].path = dup_str(f[i].path);
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
static int direct_setup(struct pg_sink *s, struct cdr_diag *d);

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
    s->kind = run->kind;
    s->force = run->force;
    s->decimals = run->decimals;
    s->deck_name = dup_str(run->deck_name);
    s->currency = dup_str(run->currency);
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
     * not for the length of the run (others are made in the run). */
    {
        char lo[32], hi[32];
        const char *pp[2] = {lo, hi};
        PGresult *pres;
        cdr_format_time(run->started_at - 31 * 86400, lo, sizeof lo);
        cdr_format_time(run->started_at + 31 * 86400, hi, sizeof hi);
        pres =
            rt_pg_query(s->conn, "SELECT referee.ensure_partitions($1, $2)", 2,
                        pp, PGRES_TUPLES_OK, "creating monthly partitions", d);
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
    if (parse_long(s->run_id, &s->run_num) != 0)
        goto fail;
    if (rt_pg_exec(s->conn, stg_ddl, "creating the staging table", d) != 0)
        goto fail;
    if (direct_setup(s, d) != 0)
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

/* Nano as a decimal with the deck's decimals (amounts are rounded to
 * them, so nothing is cut). */
static void
format_i128(i128 v, int decimals, char *buf, size_t size)
{
    char digits[48];
    size_t n = 0, at = 0;
    int neg = v < 0;
    u128 mag = neg ? (u128)0 - (u128)v : (u128)v;
    if (decimals < 0)
        decimals = 0;
    if (decimals > 9)
        decimals = 9;
    do {
        digits[n++] = (char)('0' + (int)(mag % 10));
        mag /= 10;
    } while (mag > 0 || n < 10);
    /* digits[] is least significant first; the point is after 9 digits */
    if (size == 0)
        return;
    if (neg && at + 1 < size)
        buf[at++] = '-';
    for (size_t i = n; i-- > 9 && at + 1 < size;)
        buf[at++] = digits[i];
    if (decimals > 0 && at + 1 < size)
        buf[at++] = '.';
    for (size_t i = 9; i-- > (size_t)(9 - decimals) && at + 1 < size;)
        buf[at++] = digits[i];
    buf[at] = '\0';
}

/* ---- direct load ------------------------------------------------------ */

static int
cmp_sid(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A sid that goes straight in: printable ASCII (so its text in SQL is its
 * bytes, whatever the sanitising) and not waiting in pending. */
static int
direct_sid_ok(const struct pg_sink *s, struct cdr_slice sid)
{
    char key[256];
    if (sid.p == NULL || sid.n == 0 || sid.n >= sizeof key)
        return 0;
    for (size_t i = 0; i < sid.n; i++) {
        unsigned char ch = (unsigned char)sid.p[i];
        if (ch < 0x20 || ch >= 0x7f || ch == '\\')
            return 0;
    }
    if (s->n_pend_sids == 0)
        return 1;
    memcpy(key, sid.p, sid.n);
    key[sid.n] = '\0';
    {
        const char *k = key;
        return bsearch(&k, s->pend_sids, s->n_pend_sids, sizeof *s->pend_sids,
                       cmp_sid) == NULL;
    }
}

static void
batch_reset(struct direct_batch *bt)
{
    bt->n = 0;
    rt_pg_buf_reset(&bt->sids);
    rt_pg_buf_reset(&bt->calls);
    rt_pg_buf_reset(&bt->charges);
    rt_pg_buf_reset(&bt->tmp);
}

static void
batch_free(struct direct_batch *bt)
{
    free(bt->rows);
    rt_pg_buf_free(&bt->sids);
    rt_pg_buf_free(&bt->calls);
    rt_pg_buf_free(&bt->charges);
    rt_pg_buf_free(&bt->tmp);
    memset(bt, 0, sizeof *bt);
}

static void
free_direct(struct pg_sink *s)
{
    for (size_t i = 0; i < s->n_pend_sids; i++)
        free(s->pend_sids[i]);
    free(s->pend_sids);
    s->pend_sids = NULL;
    s->n_pend_sids = 0;
    free(s->file_ids);
    s->file_ids = NULL;
    free(s->months);
    s->months = NULL;
    s->n_months = s->cap_months = 0;
    s->reg_unindexed = 0;
    batch_reset(&s->bat[0]);
    batch_reset(&s->bat[1]);
}

/* At begin, in the run's transaction (after the run lock): may this run
 * load directly, must its sids be checked, which sids are pending. */
static int
direct_setup(struct pg_sink *s, struct cdr_diag *d)
{
    PGresult *res;
    int n;
    memset(s->dst_comp, 0, sizeof s->dst_comp);
    memset(s->dst_nano, 0, sizeof s->dst_nano);
    s->n_direct_calls = s->n_direct_comp = s->n_ddup = 0;
    s->has_cov = 0;
    s->direct = s->kind == RT_RUN_RATE && !s->force && s->n_files > 0;
    if (!s->direct)
        return 0;
    s->file_ids = calloc(s->n_files, sizeof *s->file_ids);
    if (s->file_ids == NULL)
        return cdr_diag_set(d, CDR_E_NOMEM, NULL, NULL, 0, "out of memory");
    /* No earlier run stored a sid: nothing to look up (runs are serialised
     * by the run lock, so none can appear before this one commits). */
    res =
        rt_pg_query(s->conn, "SELECT EXISTS (SELECT 1 FROM referee.call_sids)",
                    0, NULL, PGRES_TUPLES_OK, "looking up stored calls", d);
    if (res == NULL)
        return CDR_E_DB;
    s->check_dups = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    if (!s->check_dups) {
        res = rt_pg_query(s->conn, "SELECT referee.register_unindex()", 0, NULL,
                          PGRES_TUPLES_OK, "preparing the sid register", d);
        if (res == NULL)
            return CDR_E_DB;
        s->reg_unindexed = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
        PQclear(res);
    }
    res = rt_pg_query(s->conn, "SELECT call_sid FROM referee.pending", 0, NULL,
                      PGRES_TUPLES_OK, "looking up pending calls", d);
    if (res == NULL)
        return CDR_E_DB;
    n = PQntuples(res);
    if (n > 0) {
        s->pend_sids = calloc((size_t)n, sizeof *s->pend_sids);
        if (s->pend_sids == NULL) {
            PQclear(res);
            return cdr_diag_set(d, CDR_E_NOMEM, NULL, NULL, 0, "out of memory");
        }
        for (int i = 0; i < n; i++) {
            s->pend_sids[i] = dup_str(PQgetvalue(res, i, 0));
            if (s->pend_sids[i] == NULL) {
                PQclear(res);
                return cdr_diag_set(d, CDR_E_NOMEM, NULL, NULL, 0,
                                    "out of memory");
            }
            s->n_pend_sids++;
        }
        qsort(s->pend_sids, s->n_pend_sids, sizeof *s->pend_sids, cmp_sid);
    }
    PQclear(res);
    return 0;
}

/* The input file's id, recording the file now (rows and size are final at
 * commit, which updates them).  -1: none (no content hash, or its content
 * is already recorded by this run). */
static int
direct_file_id(struct pg_sink *s, long fi, long *id, struct cdr_diag *d)
{
    const struct rt_input_file *f = &s->run_files[fi];
    char size[24];
    const char *params[4];
    PGresult *res;
    int rc;
    if (s->file_ids[fi] != 0) {
        *id = s->file_ids[fi];
        return 0;
    }
    if (strnlen(f->sha256, sizeof f->sha256) != 64) {
        *id = s->file_ids[fi] = -1;
        return 0;
    }
    rc = copy_close(s, NULL, d);
    if (rc != 0)
        return rc;
    snprintf(size, sizeof size, "%llu", (unsigned long long)f->size);
    params[0] = s->run_id;
    params[1] = f->path != NULL ? f->path : "";
    params[2] = f->sha256;
    params[3] = size;
    res = rt_pg_query(
        s->conn,
        "WITH f AS (INSERT INTO referee.input_files"
        " (run_id, path, sha256, size_bytes, rows)"
        " VALUES ($1, $2, $3, $4, 0)"
        " ON CONFLICT (sha256) WHERE superseded_by_run IS NULL DO NOTHING"
        " RETURNING file_id)"
        " SELECT file_id FROM f",
        4, params, PGRES_TUPLES_OK, "recording input files", d);
    if (res == NULL)
        return CDR_E_DB;
    s->file_ids[fi] = -1;
    if (PQntuples(res) == 1)
        (void)parse_long(PQgetvalue(res, 0, 0), &s->file_ids[fi]);
    PQclear(res);
    *id = s->file_ids[fi];
    return 0;
}

/* Send p[0, n) to the COPY in progress, in chunks. */
static int
send_span(struct pg_sink *s, const char *p, size_t n, struct cdr_diag *d)
{
    while (n > 0) {
        size_t k = n > RT_SINK_PG_CHUNK ? RT_SINK_PG_CHUNK : n;
        if (PQputCopyData(s->conn, p, (int)k) != 1)
            return rt_pg_fail(s->conn, NULL, "sending rows to PostgreSQL", d);
        p += k;
        n -= k;
    }
    return 0;
}

static int
copy_start(struct pg_sink *s, const char *sql, struct cdr_diag *d)
{
    PGresult *res = PQexec(s->conn, sql);
    if (PQresultStatus(res) != PGRES_COPY_IN) {
        rt_pg_fail(s->conn, res, "starting COPY", d);
        PQclear(res);
        return CDR_E_DB;
    }
    PQclear(res);
    return 0;
}

static int
copy_finish(struct pg_sink *s, int rc, struct cdr_diag *d)
{
    PGresult *res;
    if (PQputCopyEnd(s->conn, rc == 0 ? NULL : "client error") != 1 && rc == 0)
        rc = rt_pg_fail(s->conn, NULL, "ending COPY", d);
    while ((res = PQgetResult(s->conn)) != NULL) {
        if (PQresultStatus(res) != PGRES_COMMAND_OK && rc == 0)
            rc = rt_pg_fail(s->conn, res, "loading rows (COPY)", d);
        PQclear(res);
        if (PQstatus(s->conn) == CONNECTION_BAD)
            break;
    }
    if (rc == 0 && PQstatus(s->conn) == CONNECTION_BAD)
        rc = rt_pg_fail(s->conn, NULL, "loading rows (COPY)", d);
    return rc;
}

/* COPY the parts [off, end) of the batch's rows loaded into target that
 * are not duplicates (contiguous spans in one piece), framed as binary. */
static int
copy_spans(struct pg_sink *s, const struct direct_batch *bt, const char *sql,
           const struct rt_pg_buf *b, int charges, int target,
           struct cdr_diag *d)
{
    size_t hn, span_from = 0, span_to = 0;
    const char *edge = rt_pg_copy_binary_header(&hn);
    int open = 0, rc = copy_start(s, sql, d);
    if (rc == 0)
        rc = send_span(s, edge, hn, d);
    for (size_t i = 0; i < bt->n && rc == 0; i++) {
        const struct direct_row *r = &bt->rows[i];
        size_t off = charges ? r->ch_off : r->call_off;
        size_t end = charges ? r->ch_end : r->call_end;
        if (r->dup_run > 0 || off == end || r->target != target)
            continue;
        if (open && off == span_to) {
            span_to = end;
            continue;
        }
        if (open)
            rc = send_span(s, b->p + span_from, span_to - span_from, d);
        span_from = off;
        span_to = end;
        open = 1;
    }
    if (rc == 0 && open)
        rc = send_span(s, b->p + span_from, span_to - span_from, d);
    if (rc == 0) {
        edge = rt_pg_copy_binary_trailer(&hn);
        rc = send_span(s, edge, hn, d);
    }
    return copy_finish(s, rc, d);
}

/* The month key of a partition suffix "yYYYYmMM", or -1. */
static int
suffix_month(const char *suffix)
{
    int y = 0, m = 0;
    if (strlen(suffix) != 8 || suffix[0] != 'y' || suffix[5] != 'm')
        return -1;
    for (int i = 1; i < 8; i++) {
        if (i == 5)
            continue;
        if (suffix[i] < '0' || suffix[i] > '9')
            return -1;
        if (i < 5)
            y = y * 10 + (suffix[i] - '0');
        else
            m = m * 10 + (suffix[i] - '0');
    }
    return m >= 1 && m <= 12 ? y * 12 + m - 1 : -1;
}

/* Record the detached months of an open_months() answer (suffix,
 * detached). */
static int
note_detached_months(struct pg_sink *s, PGresult *res, struct cdr_diag *d)
{
    for (int i = 0; i < PQntuples(res); i++) {
        const char *suffix = PQgetvalue(res, i, 0);
        int key;
        size_t k;
        if (strcmp(PQgetvalue(res, i, 1), "t") != 0)
            continue;
        key = suffix_month(suffix);
        if (key < 0)
            return cdr_diag_set(d, CDR_E_DB, NULL, NULL, 0,
                                "unexpected partition name \"%s\"", suffix);
        for (k = 0; k < s->n_months && s->months[k].key != key; k++)
            ;
        if (k < s->n_months)
            continue;
        if (s->n_months == s->cap_months) {
            size_t cap = s->cap_months ? s->cap_months * 2 : 4;
            struct loaded_month *p = realloc(s->months, cap * sizeof *p);
            if (p == NULL)
                return cdr_diag_set(d, CDR_E_NOMEM, NULL, NULL, 0,
                                    "out of memory");
            s->months = p;
            s->cap_months = cap;
        }
        s->months[s->n_months].key = key;
        memcpy(s->months[s->n_months].suffix, suffix, 9);
        s->n_months++;
    }
    return 0;
}

/* Where a call starting at t is loaded: its detached month, or -1 (the
 * partitioned tables). */
static int
month_target(const struct pg_sink *s, int64_t t)
{
    int key;
    if (s->n_months == 0)
        return -1;
    key = rt_pg_month_key(t);
    for (size_t k = 0; k < s->n_months; k++)
        if (s->months[k].key == key)
            return (int)k;
    return -1;
}

static const char calls_cols[] =
    " (call_sid, start_time, run_id, file_id, source_file, source_line,"
    " parent_call_sid, account_sid, trunk_sid, direction, \"from\", \"to\","
    " end_time, duration, status, price, price_unit, transfer_target,"
    " transfer_status, leg, scenario) FROM STDIN WITH (FORMAT binary)";
static const char charges_cols[] =
    " (call_sid, start_time, run_id, parent_call_sid, account_sid,"
    " trunk_sid, leg, scenario, component, service, \"from\", \"to\","
    " matched_prefix, rate, duration, billable_seconds, amount, currency,"
    " deck, carrier_price, carrier_price_unit) FROM STDIN"
    " WITH (FORMAT binary)";

/* COPY the batch's calls (or charges) rows: one COPY per detached month
 * they fall in, one through the partitioned table for the rest. */
static int
copy_by_month(struct pg_sink *s, const struct direct_batch *bt, int charges,
              struct cdr_diag *d)
{
    const char *table = charges ? "charges" : "calls";
    int last = -2, rc = 0;
    for (size_t i = 0; i < bt->n; i++)
        if (bt->rows[i].dup_run <= 0 && bt->rows[i].target > last)
            last = bt->rows[i].target;
    for (int t = -1; t <= last && rc == 0; t++) {
        char name[64], sql[512];
        char *ident;
        size_t i;
        for (i = 0; i < bt->n; i++)
            if (bt->rows[i].dup_run <= 0 && bt->rows[i].target == t)
                break;
        if (i == bt->n)
            continue;
        if (t < 0)
            snprintf(name, sizeof name, "%s", table);
        else
            snprintf(name, sizeof name, "%s_%s", table, s->months[t].suffix);
        ident = PQescapeIdentifier(s->conn, name, strlen(name));
        if (ident == NULL)
            return rt_pg_fail(s->conn, NULL, "naming a partition", d);
        snprintf(sql, sizeof sql, "COPY referee.%s%s", ident,
                 charges ? charges_cols : calls_cols);
        PQfreemem(ident);
        rc = copy_spans(s, bt, sql, charges ? &bt->charges : &bt->calls,
                        charges, t, d);
    }
    return rc;
}

/* Load a batch (on the loader thread; the connection is its own and no
 * COPY is open): find the sids rated by earlier runs, then COPY the rest
 * into call_sids (whose primary key refuses a sid twice), calls and
 * charges.  finish_batch lists the duplicates. */
static int
load_batch(struct pg_sink *s, struct direct_batch *bt, struct cdr_diag *d)
{
    struct rt_pg_buf *t = &bt->tmp;
    int64_t lo, hi;
    int rc;
    if (bt->n == 0)
        return 0;
    if (bt->sids.oom || bt->calls.oom || bt->charges.oom)
        return cdr_diag_set(d, CDR_E_NOMEM, NULL, NULL, 0,
                            "out of memory building COPY rows");
    lo = hi = bt->rows[0].start_time;
    for (size_t i = 1; i < bt->n; i++) {
        if (bt->rows[i].start_time < lo)
            lo = bt->rows[i].start_time;
        if (bt->rows[i].start_time > hi)
            hi = bt->rows[i].start_time;
    }
    if (!s->has_cov || lo < s->cov_lo || hi > s->cov_hi) {
        char a[32], z[32];
        const char *params[2] = {a, z};
        PGresult *res;
        if (s->has_cov) {
            lo = lo < s->cov_lo ? lo : s->cov_lo;
            hi = hi > s->cov_hi ? hi : s->cov_hi;
        }
        cdr_format_time(lo, a, sizeof a);
        cdr_format_time(hi, z, sizeof z);
        res = rt_pg_query(s->conn,
                          "SELECT suffix, detached FROM referee.open_months("
                          "$1, $2)",
                          2, params, PGRES_TUPLES_OK,
                          "creating monthly partitions", d);
        if (res == NULL)
            return CDR_E_DB;
        rc = note_detached_months(s, res, d);
        PQclear(res);
        if (rc != 0)
            return rc;
        s->has_cov = 1;
        s->cov_lo = lo;
        s->cov_hi = hi;
    }
    for (size_t i = 0; i < bt->n; i++)
        bt->rows[i].target = month_target(s, bt->rows[i].start_time);
    if (s->check_dups) {
        const char *params[2];
        PGresult *res;
        rt_pg_buf_reset(t);
        rt_pg_buf_add(t, "{", 1);
        for (size_t i = 0; i < bt->n; i++)
            rt_pg_array_elem(t, bt->sids.p + bt->rows[i].sid_off,
                             bt->rows[i].sid_len);
        rt_pg_buf_add(t, "}", 1);
        params[0] = rt_pg_buf_cstr(t);
        params[1] = s->run_id;
        if (params[0] == NULL)
            return cdr_diag_set(d, CDR_E_NOMEM, NULL, NULL, 0, "out of memory");
        res = rt_pg_query(
            s->conn,
            /* one index probe per sid: a join would let the planner
             * hash the whole (growing) register once per batch */
            "SELECT u.i, r.run_id FROM unnest($1::text[]) WITH ORDINALITY"
            " u(sid, i) CROSS JOIN LATERAL (SELECT c.run_id"
            " FROM referee.call_sids c WHERE c.call_sid = u.sid COLLATE \"C\""
            " AND c.run_id <> $2::bigint LIMIT 1) r",
            2, params, PGRES_TUPLES_OK, "finding calls rated by earlier runs",
            d);
        if (res == NULL)
            return CDR_E_DB;
        for (int i = 0; i < PQntuples(res); i++) {
            long at = 0, run = 0;
            if (parse_long(PQgetvalue(res, i, 0), &at) == 0 && at >= 1 &&
                (size_t)at <= bt->n &&
                parse_long(PQgetvalue(res, i, 1), &run) == 0 && run > 0)
                bt->rows[at - 1].dup_run = run;
        }
        PQclear(res);
    }
    /* The register first: a sid twice in this run fails here, as in the
     * staged merge (or, when the register is built at commit, there). */
    {
        size_t n;
        const char *edge = rt_pg_copy_binary_header(&n);
        rt_pg_buf_reset(t);
        t->binary = 1;
        rt_pg_buf_add(t, edge, n);
        for (size_t i = 0; i < bt->n; i++) {
            const struct direct_row *r = &bt->rows[i];
            if (r->dup_run > 0)
                continue;
            rt_pg_copy_text(t, bt->sids.p + r->sid_off, r->sid_len);
            rt_pg_copy_time(t, r->start_time);
            rt_pg_copy_int(t, s->run_num);
            rt_pg_copy_end_row(t);
        }
        edge = rt_pg_copy_binary_trailer(&n);
        rt_pg_buf_add(t, edge, n);
        t->binary = 0;
    }
    if (t->oom)
        return cdr_diag_set(d, CDR_E_NOMEM, NULL, NULL, 0, "out of memory");
    rc = copy_start(s,
                    "COPY referee.call_sids (call_sid, start_time, run_id)"
                    " FROM STDIN WITH (FORMAT binary)",
                    d);
    if (rc == 0)
        rc = copy_finish(s, send_span(s, t->p, t->n, d), d);
    if (rc == 0)
        rc = copy_by_month(s, bt, 0, d);
    if (rc == 0)
        rc = copy_by_month(s, bt, 1, d);
    return rc;
}

/* After its load, on the driver's thread: count the batch's stored rows,
 * stage its duplicates (D: listed in rejects at commit), empty it. */
static int
finish_batch(struct pg_sink *s, struct direct_batch *bt, struct cdr_diag *d)
{
    int rc = 0;
    for (size_t i = 0; i < bt->n && rc == 0; i++) {
        const struct direct_row *r = &bt->rows[i];
        char run[24];
        if (r->dup_run <= 0) {
            s->n_direct_calls++;
            s->n_direct_comp += r->n_comp;
            s->dst_comp[r->scn] += r->n_comp;
            s->dst_nano[r->scn] += r->amount_nano;
            continue;
        }
        /* D: a duplicate of an earlier run, listed in rejects at commit */
        rc = copy_open(s, d);
        if (rc != 0)
            break;
        s->n_ddup++;
        rt_pg_copy_str(&s->buf, "D");
        rt_pg_copy_text(&s->buf, bt->sids.p + r->sid_off, r->sid_len);
        copy_nulls(&s->buf, 16);
        copy_file_pos(s, r->file_index, s->files[r->name_index].path, r->line);
        copy_nulls(&s->buf, 16);
        snprintf(run, sizeof run, "%ld", r->dup_run);
        rt_pg_copy_str(&s->buf, run);
        copy_nulls(&s->buf, 3);
        rc = row_done(s, d);
    }
    batch_reset(bt);
    return rc;
}

/* ---- the loader thread ------------------------------------------------ */

static void *
loader_main(void *arg)
{
    struct pg_sink *s = arg;
    struct direct_batch *bt;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!s->loader_busy && !s->loader_quit)
            pthread_cond_wait(&s->cv, &s->mu);
        if (s->loader_quit)
            break;
        bt = s->fly;
        pthread_mutex_unlock(&s->mu);
        cdr_diag_clear(&bt->diag);
        bt->rc = load_batch(s, bt, &bt->diag);
        pthread_mutex_lock(&s->mu);
        s->loader_busy = 0;
        pthread_cond_broadcast(&s->cv);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* Take the connection back: wait for the batch in flight (NULL if none),
 * which is no longer in flight. */
static struct direct_batch *
loader_idle(struct pg_sink *s)
{
    struct direct_batch *bt = s->fly;
    if (bt == NULL)
        return NULL;
    pthread_mutex_lock(&s->mu);
    while (s->loader_busy)
        pthread_cond_wait(&s->cv, &s->mu);
    pthread_mutex_unlock(&s->mu);
    s->fly = NULL;
    return bt;
}

/* loader_idle, then finish the batch here; its load's error is the
 * run's. */
static int
loader_wait(struct pg_sink *s, struct cdr_diag *d)
{
    struct direct_batch *bt = loader_idle(s);
    int rc;
    if (bt == NULL)
        return 0;
    if (bt->rc != 0) {
        rc = bt->rc;
        *d = bt->diag;
        batch_reset(bt);
        return rc;
    }
    return finish_batch(s, bt, d);
}

static void
loader_stop(struct pg_sink *s)
{
    if (!s->loader_on)
        return;
    pthread_mutex_lock(&s->mu);
    s->loader_quit = 1;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->loader, NULL);
    s->loader_on = s->loader_quit = 0;
}

/* Hand the full batch to the loader and go on filling the other one.
 * Without a thread (none could be started), load it here. */
static int
direct_send(struct pg_sink *s, struct cdr_diag *d)
{
    struct direct_batch *bt = s->cur;
    int rc;
    if (bt->n == 0)
        return 0;
    /* the previous batch done, and the connection out of COPY mode */
    if ((rc = copy_close(s, NULL, d)) != 0)
        return rc;
    if (!s->loader_on && pthread_create(&s->loader, NULL, loader_main, s) == 0)
        s->loader_on = 1;
    s->cur = bt == &s->bat[0] ? &s->bat[1] : &s->bat[0];
    s->fly = bt;
    if (!s->loader_on) {
        cdr_diag_clear(&bt->diag);
        bt->rc = load_batch(s, bt, &bt->diag);
        return loader_wait(s, d);
    }
    pthread_mutex_lock(&s->mu);
    s->loader_busy = 1;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return 0;
}

/* 1: the call went into the direct batch; 0: not eligible (stage it). */
static int
direct_call(struct pg_sink *s, const struct rt_call *c, int *taken,
            struct cdr_diag *d)
{
    const struct cdr_record *r = c->rec;
    struct direct_batch *bt = s->cur;
    struct rt_pg_buf *b;
    struct direct_row *row;
    long fi = c->file_index, file_id = -1, name_fi;
    int rc;
    *taken = 0;
    /* Children come with no file index (as in staging, they are stored
     * without a file id); rows of the store (pending) are staged. */
    if (!s->direct || c->relabel_only || s->run_files == NULL ||
        (fi >= 0 && (size_t)fi >= s->n_files))
        return 0;
    name_fi = file_index_of(s, r->file);
    if (name_fi < 0 || (fi >= 0 && fi != name_fi) ||
        s->run_files[name_fi].skipped || !direct_sid_ok(s, r->sid))
        return 0;
    if (r->price.n > 0 && !is_decimal(r->price.p, r->price.n))
        return cdr_diag_set(d, CDR_E_BAD_NUMBER, "price", r->price.p,
                            r->price.n, "price is not a plain decimal");
    if (fi >= 0) {
        rc = direct_file_id(s, fi, &file_id, d);
        if (rc != 0)
            return rc;
    }
    if (bt->n == bt->cap) {
        size_t cap = bt->cap ? bt->cap * 2 : 1024;
        struct direct_row *p = realloc(bt->rows, cap * sizeof *p);
        if (p == NULL)
            return cdr_diag_set(d, CDR_E_NOMEM, NULL, NULL, 0, "out of memory");
        bt->rows = p;
        bt->cap = cap;
    }
    row = &bt->rows[bt->n];
    memset(row, 0, sizeof *row);
    row->sid_off = bt->sids.n;
    row->sid_len = r->sid.n;
    rt_pg_buf_add(&bt->sids, r->sid.p, r->sid.n);
    row->start_time = r->start_time;
    row->file_index = fi;
    row->name_index = name_fi;
    row->line = r->line;
    row->scn = (unsigned)c->scenario < RT_SCN_COUNT ? (int)c->scenario : 0;
    row->n_comp = c->n_components;

    b = &bt->calls;
    row->call_off = b->n;
    copy_slice(b, r->sid);
    rt_pg_copy_time(b, r->start_time);
    rt_pg_copy_int(b, s->run_num);
    if (file_id > 0)
        rt_pg_copy_int(b, file_id);
    else
        rt_pg_copy_null(b);
    rt_pg_copy_str(b, s->files[name_fi].path);
    if (r->line > 0)
        rt_pg_copy_int(b, r->line);
    else
        rt_pg_copy_null(b);
    copy_parties(b, r);
    copy_outcome(b, r);
    rt_pg_copy_str(b, rt_leg_name(c->leg));
    rt_pg_copy_str(b, rt_scenario_name(c->scenario));
    rt_pg_copy_end_row(b);
    row->call_end = b->n;

    b = &bt->charges;
    row->ch_off = b->n;
    for (int i = 0; i < c->n_components; i++) {
        copy_slice(b, r->sid);
        rt_pg_copy_time(b, r->start_time);
        rt_pg_copy_int(b, s->run_num);
        copy_opt(b, r->parent_call_sid);
        copy_opt(b, r->account_sid);
        copy_opt(b, r->trunk_sid);
        rt_pg_copy_str(b, rt_leg_name(c->leg));
        rt_pg_copy_str(b, rt_scenario_name(c->scenario));
        rt_pg_copy_int2(b, (int16_t)(i + 1));
        copy_component_to(b, s->decimals, &c->comp[i]);
        rt_pg_copy_str(b, s->currency);
        rt_pg_copy_str(b, s->deck_name);
        copy_opt_numeric(b, r->price);
        copy_opt(b, r->price_unit);
        rt_pg_copy_end_row(b);
        row->amount_nano += c->comp[i].amount_nano;
    }
    row->ch_end = b->n;
    bt->n++;
    *taken = 1;
    if (bt->n >= RT_SINK_PG_BATCH ||
        bt->calls.n + bt->charges.n >= RT_SINK_PG_BATCH_BYTES ||
        bt->calls.oom || bt->charges.oom || bt->sids.oom)
        return direct_send(s, d);
    return 0;
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
    rc = direct_call(s, c, &taken, d);
    if (rc != 0)
        return rc;
    if (taken) {
        track_call(s, c);
        return 0;
    }
    rc = copy_open(s, d);
    if (rc != 0)
        return rc;
    if (c->relabel_only) {
        rt_pg_copy_str(b, "L");
        s->n_relabel++;
        copy_slice(b, c->rec->sid);
        copy_nulls(b, 6);
        rt_pg_copy_time(b, c->rec->start_time);
        copy_nulls(b, 7);
    } else {
        /* checks before it writes: nothing partial is left behind */
        rc = copy_record(s, "C", c->rec, d);
        if (rc != 0)
            return rc;
    }
    rt_pg_copy_str(b, rt_leg_name(c->leg));
    rt_pg_copy_str(b, rt_scenario_name(c->scenario));
    copy_file_pos(s, c->file_index, c->rec->file, c->rec->line);
    for (int i = 0; i < 2; i++) {
        if (!c->relabel_only && i < c->n_components)
            copy_component(s, &c->comp[i]);
        else
            copy_nulls(b, 8);
    }
    copy_nulls(b, 4);
    if (!c->relabel_only)
        track_call(s, c);
    return row_done(s, d);
}

static int
reject_impl(void *self, const struct rt_reject *r, struct cdr_diag *d)
{
    struct pg_sink *s = self;
    struct rt_pg_buf *b = &s->buf;
    int rc = copy_open(s, d);
    if (rc != 0)
        return rc;
    rt_pg_copy_str(b, "R");
    s->n_reject++;
    copy_opt(b, r->sid);
    copy_nulls(b, 16);
    copy_file_pos(s, file_index_of(s, r->file), r->file, r->line);
    copy_nulls(b, 16);
    if (r->field != NULL && r->field[0] != '\0')
        rt_pg_copy_str(b, r->field);
    else
        rt_pg_copy_null(b);
    rt_pg_copy_str(b, r->reason != NULL ? r->reason : "");
    rt_pg_copy_int(b, r->code);
    copy_opt(b, r->raw);
    return row_done(s, d);
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
    rc = copy_open(s, d);
    if (rc != 0)
        return rc;
    s->n_pending++;
    rc = copy_record(s, "P", rec, d);
    if (rc != 0)
        return rc;
    copy_nulls(b, 2);
    copy_file_pos(s, file_index_of(s, rec->file), rec->file, rec->line);
    copy_nulls(b, 20);
    return row_done(s, d);
}

static int
file_seen_impl(void *self, const char *sha256, int *seen, struct cdr_diag *d)
{
    struct pg_sink *s = self;
    const char *params[1] = {sha256};
    PGresult *res;
    int rc = copy_close(s, NULL, d);
    *seen = 0;
    if (rc != 0)
        return rc;
    res = rt_pg_query(s->conn,
                      "SELECT run_id FROM referee.input_files"
                      " WHERE sha256 = $1 AND superseded_by_run IS NULL",
                      1, params, PGRES_TUPLES_OK, "looking up a file", d);
    if (res == NULL)
        return CDR_E_DB;
    *seen = PQntuples(res) > 0;
    PQclear(res);
    if (*seen) {
        if (s->n_seen == s->cap_seen) {
            size_t cap = s->cap_seen ? s->cap_seen * 2 : 8;
            char(*p)[65] = realloc(s->seen, cap * sizeof *p);
            if (p == NULL)
                return cdr_diag_set(d, CDR_E_NOMEM, NULL, NULL, 0,
                                    "out of memory");
            s->seen = p;
            s->cap_seen = cap;
        }
        snprintf(s->seen[s->n_seen++], 65, "%s", sha256);
    }
    return 0;
}

/* The stored-row columns, in cdr_column order, then file and line. */
#define ROW_COLS                                                               \
    "call_sid, parent_call_sid, account_sid, trunk_sid, direction,"            \
    " \"from\", \"to\","                                                       \
    " to_char(start_time AT TIME ZONE 'UTC',"                                  \
    " 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"                                      \
    " to_char(end_time AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')," \
    " duration::text, status, price::text, price_unit, transfer_target,"       \
    " transfer_status, source_file, source_line::text"

/* Run a query through a cursor and hand every row to fn. */
static int
feed_rows(struct pg_sink *s, const char *select, int nparams,
          const char *const *params, rt_row_fn fn, void *ctx, long *fed,
          struct cdr_diag *d)
{
    struct rt_pg_buf q;
    PGresult *res;
    long record = 0;
    int rc = copy_close(s, NULL, d);
    if (rc != 0)
        return rc;
    if (!s->in_tx)
        return cdr_diag_set(d, CDR_E_USAGE, NULL, NULL, 0,
                            "PostgreSQL sink: store read outside a run");
    rt_pg_buf_init(&q);
    {
        static const char decl[] = "DECLARE referee_rows NO SCROLL CURSOR FOR ";
        rt_pg_buf_add(&q, decl, sizeof decl - 1);
    }
    rt_pg_buf_add(&q, select, strlen(select));
    if (rt_pg_buf_cstr(&q) == NULL) {
        rt_pg_buf_free(&q);
        return cdr_diag_set(d, CDR_E_NOMEM, NULL, NULL, 0, "out of memory");
    }
    res = rt_pg_query(s->conn, q.p, nparams, params, PGRES_COMMAND_OK,
                      "reading stored calls", d);
    rt_pg_buf_free(&q);
    if (res == NULL)
        return CDR_E_DB;
    PQclear(res);
    for (;;) {
        int n;
        rc = copy_close(s, NULL, d); /* fn may have sent rows */
        if (rc != 0)
            return rc;
        res = rt_pg_query(s->conn,
                          "FETCH " STR(RT_SINK_PG_FETCH) " FROM referee_rows",
                          0, NULL, PGRES_TUPLES_OK, "reading stored calls", d);
        if (res == NULL)
            return CDR_E_DB;
        n = PQntuples(res);
        for (int i = 0; i < n && rc == 0; i++) {
            struct cdr_row row;
            long line = 0;
            memset(&row, 0, sizeof row);
            for (int c = 0; c < CDR_COL__COUNT; c++) {
                row.field[c].p = PQgetvalue(res, i, c);
                row.field[c].n = (size_t)PQgetlength(res, i, c);
                row.present[c] = 1;
            }
            row.file = PQgetisnull(res, i, CDR_COL__COUNT)
                           ? "(referee database)"
                           : PQgetvalue(res, i, CDR_COL__COUNT);
            if (!PQgetisnull(res, i, CDR_COL__COUNT + 1))
                (void)parse_long(PQgetvalue(res, i, CDR_COL__COUNT + 1), &line);
            row.line = line;
            row.record = ++record;
            if (fed != NULL)
                (*fed)++;
            rc = fn(ctx, &row, d);
        }
        PQclear(res);
        if (rc != 0) {
            /* Leave no cursor behind for the next read. */
            struct cdr_diag ignore;
            cdr_diag_clear(&ignore);
            if (copy_close(s, NULL, &ignore) == 0)
                (void)rt_pg_exec(s->conn, "CLOSE referee_rows", "", &ignore);
            return rc;
        }
        if (n == 0)
            break;
    }
    rc = copy_close(s, NULL, d);
    if (rc == 0)
        rc = rt_pg_exec(s->conn, "CLOSE referee_rows", "reading stored calls",
                        d);
    return rc;
}

static int
stored_pending_impl(void *self, rt_row_fn fn, void *ctx, struct cdr_diag *d)
{
    struct pg_sink *s = self;
    long fed = 0;
    int rc = feed_rows(s,
                       "SELECT " ROW_COLS " FROM referee.pending"
                       " ORDER BY start_time, call_sid FOR UPDATE",
                       0, NULL, fn, ctx, &fed, d);
    if (rc == 0)
        s->pending_fed = s->pending_fed < 0 ? fed : s->pending_fed + fed;
    return rc;
}

static int
stored_parents_impl(void *self, const struct cdr_slice *sids, size_t n,
                    rt_row_fn fn, void *ctx, struct cdr_diag *d)
{
    struct pg_sink *s = self;
    struct rt_pg_buf arr;
    int rc = 0;
    /* No earlier run stored a call: nothing to find (and the register has
     * no index to find it with). */
    if (s->reg_unindexed)
        return 0;
    rt_pg_buf_init(&arr);
    for (size_t at = 0; at < n && rc == 0; at += RT_SINK_PG_SIDS) {
        size_t end = n - at > RT_SINK_PG_SIDS ? at + RT_SINK_PG_SIDS : n;
        const char *params[1];
        rt_pg_buf_reset(&arr);
        rt_pg_buf_add(&arr, "{", 1);
        for (size_t i = at; i < end; i++)
            rt_pg_array_elem(&arr, sids[i].p != NULL ? sids[i].p : "",
                             sids[i].n);
        rt_pg_buf_add(&arr, "}", 1);
        params[0] = rt_pg_buf_cstr(&arr);
        if (params[0] == NULL) {
            rc = cdr_diag_set(d, CDR_E_NOMEM, NULL, NULL, 0, "out of memory");
            break;
        }
        rc = feed_rows(s,
                       "SELECT " ROW_COLS " FROM referee.calls"
                       " WHERE (call_sid, start_time) IN"
                       " (SELECT call_sid, start_time FROM referee.call_sids"
                       "   WHERE call_sid = ANY ($1::text[]))"
                       " AND superseded_by_run IS NULL",
                       1, params, fn, ctx, NULL, d);
    }
    rt_pg_buf_free(&arr);
    return rc;
}

static int
stored_calls_impl(void *self, int64_t from, int64_t to, rt_row_fn fn, void *ctx,
                  struct cdr_diag *d)
{
    char f[32], t[32];
    const char *params[2] = {f, t};
    cdr_format_time(from, f, sizeof f);
    cdr_format_time(to, t, sizeof t);
    /* The calls of the period, their parents and their children. */
    return feed_rows(
        self,
        "SELECT " ROW_COLS " FROM referee.calls WHERE superseded_by_run IS NULL"
        " AND call_sid IN ("
        "  SELECT call_sid FROM referee.calls"
        "   WHERE superseded_by_run IS NULL"
        "     AND start_time >= $1::timestamptz AND start_time < "
        "$2::timestamptz"
        "  UNION SELECT parent_call_sid FROM referee.calls"
        "   WHERE superseded_by_run IS NULL AND parent_call_sid IS NOT NULL"
        "     AND start_time >= $1::timestamptz AND start_time < "
        "$2::timestamptz"
        "  UNION SELECT k.call_sid FROM referee.calls k JOIN referee.calls p"
        "     ON k.parent_call_sid = p.call_sid"
        "   WHERE k.superseded_by_run IS NULL AND p.superseded_by_run IS NULL"
        "     AND p.start_time >= $1::timestamptz"
        "     AND p.start_time < $2::timestamptz)"
        " ORDER BY start_time, call_sid",
        2, params, fn, ctx, NULL, d);
}

/* ---- commit: the merge ---------------------------------------------- */

static int
was_seen(const struct pg_sink *s, const char *sha)
{
    for (size_t i = 0; i < s->n_seen; i++)
        if (strcmp(s->seen[i], sha) == 0)
            return 1;
    return 0;
}

static int
step(struct pg_sink *s, const char *sql, int nparams, const char *const *params,
     const char *what, long *affected, struct cdr_diag *d)
{
    PGresult *res =
        PQexecParams(s->conn, sql, nparams, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(res);
    if (res == NULL || (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)) {
        rt_pg_fail(s->conn, res, what, d);
        PQclear(res);
        return CDR_E_DB;
    }
    if (affected != NULL) {
        long v = 0;
        const char *t = PQcmdTuples(res);
        if (t != NULL && *t != '\0')
            (void)parse_long(t, &v);
        *affected = v;
    }
    PQclear(res);
    return 0;
}

/* Record this run's input files (those not skipped) and map the driver's
 * file indexes to their ids. */
static int
store_files(struct pg_sink *s, long *skipped, struct cdr_diag *d)
{
    const char *run[1] = {s->run_id};
    int rc;
    *skipped = 0;
    rc = step(s,
              "CREATE TEMP TABLE referee_files (file_index integer PRIMARY KEY,"
              " file_id bigint NOT NULL) ON COMMIT DROP",
              0, NULL, "recording input files", NULL, d);
    if (rc != 0)
        return rc;
    if (s->force) {
        struct rt_pg_buf arr;
        const char *params[2];
        rt_pg_buf_init(&arr);
        rt_pg_buf_add(&arr, "{", 1);
        for (size_t i = 0; i < s->n_files; i++)
            rt_pg_array_elem(&arr, s->files[i].sha256,
                             strlen(s->files[i].sha256));
        rt_pg_buf_add(&arr, "}", 1);
        params[0] = run[0];
        params[1] = rt_pg_buf_cstr(&arr);
        rc = params[1] == NULL
                 ? cdr_diag_set(d, CDR_E_NOMEM, NULL, NULL, 0, "out of memory")
                 : step(s,
                        "CREATE TEMP TABLE referee_old_files ON COMMIT DROP AS"
                        " SELECT file_id FROM referee.input_files"
                        " WHERE sha256 = ANY ($2::text[])"
                        " AND superseded_by_run IS NULL AND run_id <> $1",
                        2, params, "finding files to replace", NULL, d);
        rt_pg_buf_free(&arr);
        if (rc == 0)
            rc = step(
                s,
                "UPDATE referee.input_files SET superseded_by_run = $1"
                " WHERE file_id IN (SELECT file_id FROM referee_old_files)",
                1, run, "replacing files (--force)", NULL, d);
        if (rc != 0)
            return rc;
    }
    for (size_t i = 0; i < s->n_files; i++) {
        char idx[24], size[24], rows[24];
        const char *params[6];
        PGresult *res;
        if (s->files[i].skipped ||
            (!s->force && was_seen(s, s->files[i].sha256))) {
            (*skipped)++;
            continue;
        }
        /* Recorded by the direct load: its final size and rows. */
        if (s->file_ids != NULL && s->file_ids[i] != 0) {
            char id[24], sz[24], nrows[24], ix[24];
            const char *p4[5] = {id, s->files[i].path, sz, nrows, ix};
            if (s->file_ids[i] < 0)
                continue;
            snprintf(id, sizeof id, "%ld", s->file_ids[i]);
            snprintf(sz, sizeof sz, "%llu",
                     (unsigned long long)s->files[i].size);
            snprintf(nrows, sizeof nrows, "%ld", s->files[i].rows);
            snprintf(ix, sizeof ix, "%zu", i);
            rc = step(s,
                      "WITH f AS (UPDATE referee.input_files SET path = $2,"
                      " size_bytes = $3, rows = $4 WHERE file_id = $1"
                      " RETURNING file_id)"
                      " INSERT INTO referee_files SELECT $5::integer, file_id"
                      " FROM f",
                      5, p4, "recording input files", NULL, d);
            if (rc != 0)
                return rc;
            continue;
        }
        /* No content hash (e.g. a reader that could not hash a pipe): the
         * file cannot be recognised again; its sids are still checked. */
        if (strlen(s->files[i].sha256) != 64)
            continue;
        snprintf(idx, sizeof idx, "%zu", i);
        snprintf(size, sizeof size, "%llu",
                 (unsigned long long)s->files[i].size);
        snprintf(rows, sizeof rows, "%ld", s->files[i].rows);
        params[0] = run[0];
        params[1] = s->files[i].path;
        params[2] = s->files[i].sha256;
        params[3] = size;
        params[4] = rows;
        params[5] = idx;
        /* The same content twice in one run is recorded once. */
        res = rt_pg_query(
            s->conn,
            "WITH f AS (INSERT INTO referee.input_files"
            " (run_id, path, sha256, size_bytes, rows)"
            " VALUES ($1, $2, $3, $4, $5)"
            " ON CONFLICT (sha256) WHERE superseded_by_run IS NULL DO NOTHING"
            " RETURNING file_id)"
            " INSERT INTO referee_files SELECT $6::integer, file_id FROM f",
            6, params, PGRES_COMMAND_OK, "recording input files", d);
        if (res == NULL)
            return CDR_E_DB;
        PQclear(res);
    }
    return 0;
}

static int
merge(struct pg_sink *s, const struct rt_summary *sum,
      struct rt_store_report *rep, struct cdr_diag *d)
{
    const char *run[1] = {s->run_id};
    long n = 0, superseded = 0;
    int rc;

    memset(rep, 0, sizeof *rep);
    rc = store_files(s, &rep->skipped_files, d);
    if (rc != 0)
        return rc;
    /* Temp tables have no statistics until analysed: the joins below
     * need them to pick hash joins on big runs. */
    rc = step(s, "ANALYZE pg_temp.referee_stg (kind, sid)", 0, NULL,
              "analysing staged rows", NULL, d);
    if (rc == 0 && s->n_rated > 0) {
        char lo[32], hi[32];
        const char *params[2] = {lo, hi};
        cdr_format_time(s->min_start, lo, sizeof lo);
        cdr_format_time(s->max_start, hi, sizeof hi);
        rc = step(s, "SELECT referee.ensure_partitions($1, $2)", 2, params,
                  "creating monthly partitions", NULL, d);
    }
    if (rc != 0)
        return rc;

    /* Rows this run replaces: for a rerate every stored call it re-priced;
     * with --force every call of a file loaded again. */
    rc = step(s,
              "CREATE TEMP TABLE referee_old (call_sid text COLLATE \"C\","
              " start_time"
              " timestamptz, file_id bigint, source_file text,"
              " source_line bigint) ON COMMIT DROP",
              0, NULL, "merging", NULL, d);
    if (rc == 0 && (s->kind == RT_RUN_RERATE || s->force))
        rc = step(s,
                  s->kind == RT_RUN_RERATE
                      ? "WITH u AS (UPDATE referee.calls c"
                        " SET superseded_by_run = $1 FROM pg_temp.referee_stg s"
                        " WHERE s.kind = 'C' AND c.call_sid = s.sid"
                        " AND c.superseded_by_run IS NULL"
                        " RETURNING c.call_sid, c.start_time, c.file_id,"
                        " c.source_file, c.source_line)"
                        " INSERT INTO referee_old SELECT * FROM u"
                      /* every call of the old load, whatever became of
                       * it this time (a scan: --force is a manual fix) */
                      : "WITH u AS (UPDATE referee.calls c"
                        " SET superseded_by_run = $1"
                        " WHERE c.superseded_by_run IS NULL AND c.file_id IN"
                        " (SELECT file_id FROM referee_old_files)"
                        " RETURNING c.call_sid, c.start_time, c.file_id,"
                        " c.source_file, c.source_line)"
                        " INSERT INTO referee_old SELECT * FROM u",
                  1, run, "superseding replaced calls", NULL, d);
    if (rc == 0 && (s->kind == RT_RUN_RERATE || s->force))
        rc = step(s,
                  "DELETE FROM referee.call_sids r USING referee_old o"
                  " WHERE r.call_sid = o.call_sid",
                  0, NULL, "superseding replaced calls", NULL, d);
    if (rc == 0 && (s->kind == RT_RUN_RERATE || s->force))
        rc = step(s,
                  "UPDATE referee.charges g SET superseded_by_run = $1"
                  " FROM referee_old o WHERE g.call_sid = o.call_sid"
                  " AND g.start_time = o.start_time"
                  " AND g.superseded_by_run IS NULL",
                  1, run, "superseding replaced charges", &superseded, d);
    if (rc == 0 && s->force)
        rc = step(s,
                  "UPDATE referee.rejects SET superseded_by_run = $1"
                  " WHERE superseded_by_run IS NULL AND run_id IN"
                  " (SELECT run_id FROM referee.input_files WHERE file_id IN"
                  "  (SELECT file_id FROM referee_old_files))"
                  " AND file IN (SELECT path FROM referee.input_files"
                  "  WHERE file_id IN (SELECT file_id FROM referee_old_files))",
                  1, run, "superseding replaced rejects", NULL, d);
    if (rc != 0)
        return rc;

    /* Exactly once: a sid with a current call from an earlier run is not
     * billed again; it is listed in rejects as a duplicate. */
    rc = step(s,
              "CREATE TEMP TABLE referee_dup ON COMMIT DROP AS"
              " SELECT DISTINCT ON (s.sid) s.sid, r.run_id"
              " FROM pg_temp.referee_stg s JOIN referee.call_sids r"
              " ON r.call_sid = s.sid"
              " WHERE s.kind IN ('C', 'P') AND r.run_id <> $1::bigint"
              " ORDER BY s.sid, r.run_id",
              1, run, "finding calls rated by earlier runs", &rep->duplicates,
              d);
    rep->duplicates += s->n_ddup;
    if (rc == 0 && rep->duplicates > 0)
        rc =
            step(s,
                 "INSERT INTO referee.rejects (run_id, file, line, call_sid,"
                 " field, reason, code)"
                 " SELECT $1::bigint, s.src_file, s.src_line, s.sid, 'sid',"
                 " format('duplicate call sid: already rated in run %s \"%s\"',"
                 " d.run_id, s.sid), -10"
                 " FROM pg_temp.referee_stg s JOIN referee_dup d"
                 " ON d.sid = s.sid WHERE s.kind IN ('C', 'P')"
                 /* found by the direct load */
                 " UNION ALL SELECT $1::bigint, src_file, src_line, sid, 'sid',"
                 " format('duplicate call sid: already rated in run %s \"%s\"',"
                 " r_field, sid), -10"
                 " FROM pg_temp.referee_stg WHERE kind = 'D'",
                 1, run, "listing duplicates", NULL, d);
    if (rc != 0)
        return rc;

    /* The register's primary key is the database's own guarantee: a sid
     * stored twice fails the run rather than bill twice. */
    rc = step(
        s,
        "WITH ins AS (INSERT INTO referee.calls (call_sid, start_time, run_id,"
        " file_id, source_file, source_line, parent_call_sid,"
        " account_sid, trunk_sid, direction, \"from\", \"to\","
        " end_time, duration, status, price, price_unit,"
        " transfer_target, transfer_status, leg, scenario)"
        " SELECT s.sid, s.start_time, $1::bigint,"
        " coalesce(f.file_id, o.file_id, p.file_id),"
        /* rows re-fed from the store keep where they came from */
        " CASE WHEN s.file_index IS NOT NULL THEN s.src_file"
        "  WHEN o.call_sid IS NOT NULL THEN o.source_file"
        "  WHEN p.call_sid IS NOT NULL THEN p.source_file"
        "  ELSE s.src_file END,"
        " CASE WHEN s.file_index IS NOT NULL THEN s.src_line"
        "  WHEN o.call_sid IS NOT NULL THEN o.source_line"
        "  WHEN p.call_sid IS NOT NULL THEN p.source_line"
        "  ELSE s.src_line END,"
        " s.parent_call_sid, s.account_sid, s.trunk_sid,"
        " s.direction, s.\"from\", s.\"to\", s.end_time, s.duration,"
        " s.status, s.price, s.price_unit, s.transfer_target,"
        " s.transfer_status, s.leg, s.scenario"
        " FROM pg_temp.referee_stg s"
        " LEFT JOIN referee_files f ON f.file_index = s.file_index"
        " LEFT JOIN referee_old o ON o.call_sid = s.sid"
        " LEFT JOIN referee.pending p ON p.call_sid = s.sid"
        " WHERE s.kind = 'C'"
        " AND NOT EXISTS (SELECT 1 FROM referee_dup x WHERE x.sid = s.sid)"
        " RETURNING call_sid, start_time)"
        " INSERT INTO referee.call_sids (call_sid, start_time, run_id)"
        " SELECT call_sid, start_time, $1::bigint FROM ins",
        1, run, "storing calls", &rep->calls, d);
    rep->calls += s->n_direct_calls;
    if (rc == 0)
        rc = step(
            s,
            "INSERT INTO referee.charges (call_sid, start_time, run_id,"
            " parent_call_sid, account_sid, trunk_sid, leg, scenario,"
            " component, service, \"from\", \"to\", matched_prefix, rate,"
            " duration, billable_seconds, amount, currency, deck,"
            " carrier_price, carrier_price_unit)"
            " SELECT s.sid, s.start_time, $1::bigint, s.parent_call_sid,"
            " s.account_sid, s.trunk_sid, s.leg, s.scenario, v.component,"
            " v.service, v.f, v.t, v.matched, v.rate, v.duration, v.billable,"
            " v.amount, $2::text, $3::text, s.price, s.price_unit"
            " FROM pg_temp.referee_stg s CROSS JOIN LATERAL (VALUES"
            " (1, s.c1_service, s.c1_from, s.c1_to, s.c1_matched, s.c1_rate,"
            "  s.c1_duration, s.c1_billable, s.c1_amount),"
            " (2, s.c2_service, s.c2_from, s.c2_to, s.c2_matched, s.c2_rate,"
            "  s.c2_duration, s.c2_billable, s.c2_amount))"
            " v(component, service, f, t, matched, rate, duration, billable,"
            " amount)"
            " WHERE s.kind = 'C' AND v.service IS NOT NULL"
            " AND NOT EXISTS (SELECT 1 FROM referee_dup x WHERE x.sid = s.sid)",
            3, (const char *const[]){s->run_id, s->currency, s->deck_name},
            "storing charges", &rep->components, d);
    rep->components += s->n_direct_comp;
    /* --force: a replaced parent whose child came in another file (stored,
     * not in this input) was rated as a single call; its charge is the
     * same, but it keeps its label as the child's parent. */
    if (rc == 0 && s->force)
        rc = step(s,
                  "WITH r AS (UPDATE referee.calls p SET leg = 'parent',"
                  " scenario = k.scenario FROM referee_old o, referee.calls k"
                  " WHERE o.call_sid = p.call_sid AND p.run_id = $1"
                  " AND p.superseded_by_run IS NULL AND p.leg = 'single'"
                  " AND k.parent_call_sid = p.call_sid"
                  " AND k.superseded_by_run IS NULL AND k.leg = 'child'"
                  " RETURNING p.call_sid, p.start_time, p.scenario)"
                  " UPDATE referee.charges g SET leg = 'parent',"
                  " scenario = r.scenario FROM r WHERE g.call_sid = r.call_sid"
                  " AND g.start_time = r.start_time AND g.run_id = $1",
                  1, run, "relabelling replaced parents", NULL, d);
    if (rc != 0)
        return rc;

    /* Parents rated by an earlier run, now known to have a child. */
    if (s->n_relabel > 0)
        rc =
            step(s,
                 "UPDATE referee.calls c SET leg = s.leg, scenario = s.scenario"
                 " FROM pg_temp.referee_stg s WHERE s.kind = 'L'"
                 " AND c.call_sid = s.sid AND c.superseded_by_run IS NULL",
                 0, NULL, "relabelling stored parents", &n, d);
    if (rc == 0 && n > 0)
        rc = step(s,
                  "UPDATE referee.charges c SET leg = s.leg,"
                  " scenario = s.scenario FROM pg_temp.referee_stg s"
                  " WHERE s.kind = 'L' AND c.call_sid = s.sid"
                  " AND c.superseded_by_run IS NULL",
                  0, NULL, "relabelling stored parents", NULL, d);
    if (rc == 0 && s->n_reject > 0)
        rc = step(
            s,
            "INSERT INTO referee.rejects (run_id, file, line, call_sid,"
            " field, reason, code, raw)"
            " SELECT $1::bigint, src_file, src_line, sid, r_field, r_reason,"
            " r_code, r_raw FROM pg_temp.referee_stg WHERE kind = 'R'",
            1, run, "storing rejects", NULL, d);
    if (rc != 0)
        return rc;

    /* Pending children: every one this run rated, rejected or re-pended
     * leaves, the re-pended come back (keeping when they first came). */
    if (s->pending_fed == 0) /* nothing was pending: nothing leaves */
        rc = step(s,
                  "CREATE TEMP TABLE referee_gone (call_sid text COLLATE \"C\","
                  " first_run_id bigint, file_id bigint, source_file text,"
                  " source_line bigint) ON COMMIT DROP",
                  0, NULL, "moving pending calls", NULL, d);
    else
        rc = step(s,
                  "CREATE TEMP TABLE referee_gone ON COMMIT DROP AS"
                  " WITH g AS (DELETE FROM referee.pending p USING"
                  "  (SELECT DISTINCT sid FROM pg_temp.referee_stg"
                  "    WHERE kind IN ('C', 'R', 'P') AND sid IS NOT NULL) s"
                  "  WHERE p.call_sid = s.sid"
                  "  RETURNING p.call_sid, p.first_run_id, p.file_id,"
                  "  p.source_file, p.source_line)"
                  " SELECT * FROM g",
                  0, NULL, "moving pending calls", NULL, d);
    if (rc == 0 && s->n_pending > 0)
        rc = step(s,
                  "INSERT INTO referee.pending (call_sid, parent_call_sid,"
                  " first_run_id, run_id, file_id, source_file, source_line,"
                  " account_sid, trunk_sid, direction, \"from\", \"to\","
                  " start_time, end_time, duration, status, price,"
                  " price_unit, transfer_target, transfer_status)"
                  " SELECT DISTINCT ON (s.sid) s.sid, s.parent_call_sid,"
                  " coalesce(g.first_run_id, $1::bigint), $1::bigint,"
                  " coalesce(f.file_id, g.file_id),"
                  " CASE WHEN f.file_id IS NULL AND g.call_sid IS NOT NULL"
                  "  THEN g.source_file ELSE s.src_file END,"
                  " CASE WHEN f.file_id IS NULL AND g.call_sid IS NOT NULL"
                  "  THEN g.source_line ELSE s.src_line END,"
                  " s.account_sid, s.trunk_sid, s.direction, s.\"from\","
                  " s.\"to\", s.start_time, s.end_time, s.duration, s.status,"
                  " s.price, s.price_unit, s.transfer_target,"
                  " s.transfer_status"
                  " FROM pg_temp.referee_stg s"
                  " LEFT JOIN referee_gone g ON g.call_sid = s.sid"
                  " LEFT JOIN referee_files f ON f.file_index = s.file_index"
                  " WHERE s.kind = 'P' AND NOT EXISTS"
                  "  (SELECT 1 FROM referee_dup x WHERE x.sid = s.sid)"
                  " ORDER BY s.sid",
                  1, run, "storing pending calls", NULL, d);
    if (rc != 0)
        return rc;

    /* The run's row: counts, and totals from what was stored. */
    {
        char v[9][24];
        const char *params[10];
        PGresult *res;
        snprintf(v[0], 24, "%ld", sum->rows_read);
        snprintf(v[1], 24, "%ld", rep->calls);
        snprintf(v[2], 24, "%ld", rep->components);
        snprintf(v[3], 24, "%ld", sum->rejects + rep->duplicates);
        snprintf(v[4], 24, "%ld", sum->pending);
        snprintf(v[5], 24, "%ld", sum->duplicates + rep->duplicates);
        snprintf(v[6], 24, "%ld",
                 sum->skipped_files > rep->skipped_files ? sum->skipped_files
                                                         : rep->skipped_files);
        snprintf(v[7], 24, "%ld", superseded);
        snprintf(v[8], 24, "%lld", (long long)sum->elapsed_ms);
        params[0] = s->run_id;
        for (int i = 0; i < 9; i++)
            params[i + 1] = v[i];
        if (rep->duplicates == 0 && !s->sums_overflow) {
            /* Nothing was dropped: the sums kept while staging are the
             * stored ones (no second scan of the staging table). */
            struct rt_pg_buf js;
            char total[40], amt[40];
            const char *p2[12];
            int64_t t = 0;
            int first = 1, over = 0;
            rt_pg_buf_init(&js);
            rt_pg_buf_add(&js, "[", 1);
            for (int k = 0; k < RT_SCN_COUNT; k++) {
                char one[160];
                int n1;
                if (s->scn_components[k] == 0)
                    continue;
                if (__builtin_add_overflow(t, s->scn_nano[k], &t))
                    over = 1;
                rt_pg_format_nano(s->scn_nano[k], s->decimals, amt, sizeof amt);
                n1 = snprintf(one, sizeof one,
                              "%s{\"scenario\": \"%s\", \"components\": %ld,"
                              " \"amount\": %s}",
                              first ? "" : ", ",
                              rt_scenario_name((enum rt_scenario)k),
                              s->scn_components[k], amt);
                rt_pg_buf_add(&js, one, (size_t)n1);
                first = 0;
            }
            rt_pg_buf_add(&js, "]", 1);
            rt_pg_format_nano(t, s->decimals, total, sizeof total);
            for (int i = 0; i < 10; i++)
                p2[i] = params[i];
            p2[10] = rt_pg_buf_cstr(&js);
            p2[11] = total;
            res = over || p2[10] == NULL
                      ? NULL
                      : rt_pg_query(
                            s->conn,
                            "UPDATE referee.runs r SET status = 'committed',"
                            " finished_at = clock_timestamp(), rows_read = $2,"
                            " calls = $3, components = $4, rejects = $5,"
                            " pending = $6, duplicates = $7,"
                            " skipped_files = $8, superseded = $9,"
                            " elapsed_ms = $10, totals = $11::jsonb,"
                            " total_amount = $12::numeric"
                            " WHERE r.run_id = $1"
                            " RETURNING r.total_amount::text",
                            12, p2, PGRES_TUPLES_OK,
                            "recording the run's totals", d);
            if (p2[10] == NULL && !over)
                cdr_diag_set(d, CDR_E_NOMEM, NULL, NULL, 0, "out of memory");
            rt_pg_buf_free(&js);
            if (res == NULL && !over)
                return d->code != 0 ? d->code : CDR_E_DB;
        } else {
            res = NULL;
        }
        /* Duplicates dropped (or sums too large): sum what was stored,
         * staged in SQL, loaded directly from the sums kept (exact). */
        if (res == NULL) {
            struct rt_pg_buf a[3];
            const char *p3[13];
            int first = 1;
            for (int i = 0; i < 3; i++) {
                rt_pg_buf_init(&a[i]);
                rt_pg_buf_add(&a[i], "{", 1);
            }
            for (int k = 0; k < RT_SCN_COUNT; k++) {
                char num[64];
                int nn;
                if (s->dst_comp[k] == 0)
                    continue;
                if (!first)
                    for (int i = 0; i < 3; i++)
                        rt_pg_buf_add(&a[i], ",", 1);
                first = 0;
                rt_pg_buf_add(&a[0], rt_scenario_name((enum rt_scenario)k),
                              strlen(rt_scenario_name((enum rt_scenario)k)));
                nn = snprintf(num, sizeof num, "%ld", s->dst_comp[k]);
                rt_pg_buf_add(&a[1], num, (size_t)nn);
                format_i128(s->dst_nano[k], s->decimals, num, sizeof num);
                rt_pg_buf_add(&a[2], num, strlen(num));
            }
            for (int i = 0; i < 10; i++)
                p3[i] = params[i];
            for (int i = 0; i < 3; i++) {
                rt_pg_buf_add(&a[i], "}", 1);
                p3[10 + i] = rt_pg_buf_cstr(&a[i]);
            }
            if (p3[10] == NULL || p3[11] == NULL || p3[12] == NULL)
                cdr_diag_set(d, CDR_E_NOMEM, NULL, NULL, 0, "out of memory");
            else
                res = rt_pg_query(
                    s->conn,
                    "WITH t0 AS ("
                    "  SELECT s.scenario, count(*) AS components,"
                    "         sum(v.amount) AS amount"
                    "  FROM pg_temp.referee_stg s CROSS JOIN LATERAL"
                    "   (VALUES (s.c1_amount), (s.c2_amount)) v(amount)"
                    "  WHERE s.kind = 'C' AND v.amount IS NOT NULL"
                    "  AND NOT EXISTS"
                    "   (SELECT 1 FROM referee_dup x WHERE x.sid = s.sid)"
                    "  GROUP BY s.scenario"
                    "  UNION ALL SELECT * FROM unnest($11::text[],"
                    "   $12::bigint[], $13::numeric[])),"
                    " t AS (SELECT scenario,"
                    "   sum(components)::bigint AS components,"
                    "   sum(amount) AS amount FROM t0 GROUP BY scenario),"
                    " a AS (SELECT coalesce(sum(amount), 0) AS total,"
                    "   coalesce(jsonb_agg(jsonb_build_object('scenario',"
                    "   scenario, 'components', components, 'amount', amount)"
                    "   ORDER BY scenario), '[]') AS totals FROM t)"
                    " UPDATE referee.runs r SET status = 'committed',"
                    " finished_at = clock_timestamp(), rows_read = $2,"
                    " calls = $3, components = $4, rejects = $5,"
                    " pending = $6, duplicates = $7, skipped_files = $8,"
                    " superseded = $9, elapsed_ms = $10,"
                    " total_amount = a.total, totals = a.totals FROM a"
                    " WHERE r.run_id = $1 RETURNING r.total_amount::text",
                    13, p3, PGRES_TUPLES_OK, "recording the run's totals", d);
            for (int i = 0; i < 3; i++)
                rt_pg_buf_free(&a[i]);
        }
        if (res == NULL)
            return CDR_E_DB;
        if (PQntuples(res) != 1 ||
            cdr_parse_decimal_nano(PQgetvalue(res, 0, 0),
                                   PQgetvalue(res, 0, 0) +
                                       PQgetlength(res, 0, 0),
                                   &rep->total_nano) != 0) {
            PQclear(res);
            return cdr_diag_set(d, CDR_E_DB, NULL, NULL, 0,
                                "run %s: total out of range", s->run_id);
        }
        PQclear(res);
    }
    (void)parse_long(s->run_id, &rep->run_id);
    rep->superseded = superseded;
    return 0;
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
    rc = direct_send(s, d);
    if (rc == 0)
        rc = copy_close(s, NULL, d); /* and the last batch done */
    loader_stop(s);
    if (rc == 0 &&
        copy_files(s, sum->files != NULL ? sum->files : s->run_files,
                   sum->files != NULL ? sum->n_files : s->n_files) != 0)
        rc = cdr_diag_set(d, CDR_E_NOMEM, NULL, NULL, 0, "out of memory");
    /* Indexes of what was loaded without them, before the merge uses
     * them (a sid loaded twice fails here). */
    if (rc == 0 && s->reg_unindexed)
        rc = step(s, "SELECT referee.register_reindex()", 0, NULL,
                  "indexing the sid register", NULL, d);
    if (rc == 0 && s->n_months > 0)
        rc = step(s, "SELECT referee.attach_loaded()", 0, NULL,
                  "attaching the loaded months", NULL, d);
    if (rc == 0)
        rc = merge(s, sum, &rep, d);
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
    (void)loader_idle(s); /* its rows are dropped with the rest */
    loader_stop(s);
    (void)copy_close(s, "run aborted", &ignore);
    if (s->in_tx && PQstatus(s->conn) == CONNECTION_OK) {
        PGresult *res = PQexec(s->conn, "ROLLBACK");
        PQclear(res);
    }
    s->in_tx = 0;
    rt_pg_buf_reset(&s->buf);
    batch_reset(&s->bat[0]);
    batch_reset(&s->bat[1]);
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
    batch_free(&s->bat[0]);
    batch_free(&s->bat[1]);
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

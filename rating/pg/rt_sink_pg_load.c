/*
 * The loader thread's job in the PostgreSQL sink's direct load: one batch
 * of rated calls into the final tables.  The months of its calls are
 * opened first (a month with no partition is made as a detached table,
 * loaded without indexes and attached at commit: schema 005), its sids
 * looked up in call_sids (those rated by an earlier run are marked, not
 * loaded), then its rows COPYed (binary) into call_sids, calls and
 * charges.  What it learns across batches (the months open, the detached
 * ones) is its own, made at begin and freed with the run.
 */
#include "rating/pg/rt_sink_pg_int.h"

#include "cdr/util/cdr_decimal.h"
#include "cdr/util/cdr_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A month loaded as a detached table: UTC year * 12 + month - 1, and the
 * partition suffix (yYYYYmMM). */
struct loaded_month {
    int key;
    char suffix[16];
};

struct pgs_load {
    const struct pgs_facts *facts;
    int check_dups;    /* call_sids had rows at begin */
    int reg_unindexed; /* call_sids was empty: its key is built at commit */
    /* Months known to be open for [cov_lo, cov_hi]. */
    int has_cov;
    int64_t cov_lo, cov_hi;
    /* Months this run loads as detached tables, without indexes (schema
     * 005: open_months, attach_loaded): their rows are COPYed to the
     * month's own tables, the others through the partitioned ones. */
    struct loaded_month *months;
    size_t n_months, cap_months;
};

/* Must the sids be checked; if not, the empty register loses its key. */
static int
look_at_register(struct pgs_load *ld, PGconn *conn, struct cdr_diag *d)
{
    /* No earlier run stored a sid: nothing to look up (runs are serialised
     * by the run lock, so none can appear before this one commits). */
    PGresult *res =
        rt_pg_query(conn, "SELECT EXISTS (SELECT 1 FROM referee.call_sids)", 0,
                    NULL, PGRES_TUPLES_OK, "looking up stored calls", d);
    if (res == NULL)
        return CDR_E_DB;
    ld->check_dups = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    if (ld->check_dups)
        return 0;
    res = rt_pg_query(conn, "SELECT referee.register_unindex()", 0, NULL,
                      PGRES_TUPLES_OK, "preparing the sid register", d);
    if (res == NULL)
        return CDR_E_DB;
    ld->reg_unindexed = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    return 0;
}

int
pgs_load_new(struct pgs_load **out, const struct pgs_facts *f, PGconn *conn,
             struct cdr_diag *d)
{
    struct pgs_load *ld = calloc(1, sizeof *ld);
    *out = ld;
    if (ld == NULL)
        return cdr_diag_set(d, CDR_E_NOMEM, NULL, NULL, 0, "out of memory");
    ld->facts = f;
    return look_at_register(ld, conn, d);
}

int
pgs_load_register_empty(const struct pgs_load *ld)
{
    return ld->reg_unindexed;
}

void
pgs_load_free(struct pgs_load *ld)
{
    if (ld == NULL)
        return;
    free(ld->months);
    free(ld);
}

/* COPY the parts [off, end) of the batch's rows loaded into target that
 * are not duplicates (contiguous spans in one piece), framed as binary. */
static int
copy_spans(PGconn *conn, const struct pgs_batch *bt, const char *sql,
           const struct rt_pg_buf *b, int charges, int target,
           struct cdr_diag *d)
{
    size_t hn, span_from = 0, span_to = 0;
    const char *edge = rt_pg_copy_binary_header(&hn);
    int open = 0, rc = pgs_copy_start(conn, sql, d);
    if (rc == 0)
        rc = pgs_copy_send(conn, edge, hn, d);
    for (size_t i = 0; i < bt->n && rc == 0; i++) {
        const struct pgs_batch_row *r = &bt->rows[i];
        size_t off = charges ? r->ch_off : r->call_off;
        size_t end = charges ? r->ch_end : r->call_end;
        if (r->dup_run > 0 || off == end || r->target != target)
            continue;
        if (open && off == span_to) {
            span_to = end;
            continue;
        }
        if (open)
            rc = pgs_copy_send(conn, b->p + span_from, span_to - span_from, d);
        span_from = off;
        span_to = end;
        open = 1;
    }
    if (rc == 0 && open)
        rc = pgs_copy_send(conn, b->p + span_from, span_to - span_from, d);
    if (rc == 0) {
        edge = rt_pg_copy_binary_trailer(&hn);
        rc = pgs_copy_send(conn, edge, hn, d);
    }
    return pgs_copy_finish(conn, rc, d);
}

/* The month key of a partition suffix "yYYYYmMM", or -1. */
static int
suffix_month(const char *suffix)
{
    int64_t y, m;
    if (strlen(suffix) != 8 || suffix[0] != 'y' || suffix[5] != 'm' ||
        cdr_decimal_parse(suffix + 1, 4, 0, 0, 0, &y) != 0 ||
        cdr_decimal_parse(suffix + 6, 2, 0, 0, 0, &m) != 0 || m < 1 || m > 12)
        return -1;
    return (int)(y * 12 + m - 1);
}

/* Record the detached months of an open_months() answer (suffix,
 * detached). */
static int
note_detached_months(struct pgs_load *ld, PGresult *res, struct cdr_diag *d)
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
        for (k = 0; k < ld->n_months && ld->months[k].key != key; k++)
            ;
        if (k < ld->n_months)
            continue;
        if (ld->n_months == ld->cap_months) {
            size_t cap = ld->cap_months ? ld->cap_months * 2 : 4;
            struct loaded_month *p = realloc(ld->months, cap * sizeof *p);
            if (p == NULL)
                return cdr_diag_set(d, CDR_E_NOMEM, NULL, NULL, 0,
                                    "out of memory");
            ld->months = p;
            ld->cap_months = cap;
        }
        ld->months[ld->n_months].key = key;
        memcpy(ld->months[ld->n_months].suffix, suffix, 9);
        ld->n_months++;
    }
    return 0;
}

/* Where a call starting at t is loaded: its detached month, or -1 (the
 * partitioned tables). */
static int
month_target(const struct pgs_load *ld, int64_t t)
{
    int key;
    if (ld->n_months == 0)
        return -1;
    key = rt_pg_month_key(t);
    for (size_t k = 0; k < ld->n_months; k++)
        if (ld->months[k].key == key)
            return (int)k;
    return -1;
}

/* The months of the batch's calls opened (made as detached tables when
 * new), and each row's target. */
static int
open_batch_months(struct pgs_load *ld, PGconn *conn, struct pgs_batch *bt,
                  struct cdr_diag *d)
{
    int64_t lo = bt->rows[0].start_time, hi = lo;
    for (size_t i = 1; i < bt->n; i++) {
        if (bt->rows[i].start_time < lo)
            lo = bt->rows[i].start_time;
        if (bt->rows[i].start_time > hi)
            hi = bt->rows[i].start_time;
    }
    if (!ld->has_cov || lo < ld->cov_lo || hi > ld->cov_hi) {
        char a[32], z[32];
        const char *params[2] = {a, z};
        PGresult *res;
        int rc;
        if (ld->has_cov) {
            lo = lo < ld->cov_lo ? lo : ld->cov_lo;
            hi = hi > ld->cov_hi ? hi : ld->cov_hi;
        }
        cdr_time_format(lo, a, sizeof a);
        cdr_time_format(hi, z, sizeof z);
        res = rt_pg_query(conn,
                          "SELECT suffix, detached FROM referee.open_months("
                          "$1, $2)",
                          2, params, PGRES_TUPLES_OK,
                          "creating monthly partitions", d);
        if (res == NULL)
            return CDR_E_DB;
        rc = note_detached_months(ld, res, d);
        PQclear(res);
        if (rc != 0)
            return rc;
        ld->has_cov = 1;
        ld->cov_lo = lo;
        ld->cov_hi = hi;
    }
    for (size_t i = 0; i < bt->n; i++)
        bt->rows[i].target = month_target(ld, bt->rows[i].start_time);
    return 0;
}

/* Mark the batch's rows whose sid an earlier run rated. */
static int
find_duplicates(struct pgs_load *ld, PGconn *conn, struct pgs_batch *bt,
                struct cdr_diag *d)
{
    struct rt_pg_buf *t = &bt->tmp;
    const char *params[2];
    PGresult *res;
    rt_pg_buf_reset(t);
    rt_pg_buf_add(t, "{", 1);
    for (size_t i = 0; i < bt->n; i++)
        rt_pg_array_elem(t, bt->sids.p + bt->rows[i].sid_off,
                         bt->rows[i].sid_len);
    rt_pg_buf_add(t, "}", 1);
    params[0] = rt_pg_buf_cstr(t);
    params[1] = ld->facts->run_id;
    if (params[0] == NULL)
        return cdr_diag_set(d, CDR_E_NOMEM, NULL, NULL, 0, "out of memory");
    res = rt_pg_query(
        conn,
        /* one index probe per sid: a join would let the planner hash the
         * whole (growing) register once per batch */
        "SELECT u.i, r.run_id FROM unnest($1::text[]) WITH ORDINALITY"
        " u(sid, i) CROSS JOIN LATERAL (SELECT c.run_id"
        " FROM referee.call_sids c WHERE c.call_sid = u.sid COLLATE \"C\""
        " AND c.run_id <> $2::bigint LIMIT 1) r",
        2, params, PGRES_TUPLES_OK, "finding calls rated by earlier runs", d);
    if (res == NULL)
        return CDR_E_DB;
    for (int i = 0; i < PQntuples(res); i++) {
        long at = 0, run = 0;
        if (pgs_parse_long(PQgetvalue(res, i, 0), &at) == 0 && at >= 1 &&
            (size_t)at <= bt->n &&
            pgs_parse_long(PQgetvalue(res, i, 1), &run) == 0 && run > 0)
            bt->rows[at - 1].dup_run = run;
    }
    PQclear(res);
    return 0;
}

/* The register first: a sid twice in this run fails here, as in the
 * staged merge (or, when the register is built at commit, there). */
static int
copy_register(struct pgs_load *ld, PGconn *conn, struct pgs_batch *bt,
              struct cdr_diag *d)
{
    struct rt_pg_buf *t = &bt->tmp;
    size_t n;
    const char *edge = rt_pg_copy_binary_header(&n);
    int rc;
    rt_pg_buf_reset(t);
    t->binary = 1;
    rt_pg_buf_add(t, edge, n);
    for (size_t i = 0; i < bt->n; i++) {
        const struct pgs_batch_row *r = &bt->rows[i];
        if (r->dup_run > 0)
            continue;
        rt_pg_copy_text(t, bt->sids.p + r->sid_off, r->sid_len);
        rt_pg_copy_time(t, r->start_time);
        rt_pg_copy_int(t, ld->facts->run_num);
        rt_pg_copy_end_row(t);
    }
    edge = rt_pg_copy_binary_trailer(&n);
    rt_pg_buf_add(t, edge, n);
    t->binary = 0;
    rc = rt_pg_buf_error(t, "the register's rows", d);
    if (rc != 0)
        return rc;
    rc = pgs_copy_start(conn,
                        "COPY referee.call_sids (call_sid, start_time, run_id)"
                        " FROM STDIN WITH (FORMAT binary)",
                        d);
    if (rc == 0)
        rc = pgs_copy_finish(conn, pgs_copy_send(conn, t->p, t->n, d), d);
    return rc;
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
    " deck, carrier_price, carrier_price_unit, plan, sell_matched_prefix,"
    " sell_rate, sell_billable_seconds, sell_amount, sell_currency,"
    " target_caller_id) FROM STDIN"
    " WITH (FORMAT binary)";

/* COPY the batch's calls (or charges) rows: one COPY per detached month
 * they fall in, one through the partitioned table for the rest. */
static int
copy_by_month(struct pgs_load *ld, PGconn *conn, const struct pgs_batch *bt,
              int charges, struct cdr_diag *d)
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
            snprintf(name, sizeof name, "%s_%s", table, ld->months[t].suffix);
        ident = PQescapeIdentifier(conn, name, strlen(name));
        if (ident == NULL)
            return rt_pg_fail(conn, NULL, "naming a partition", d);
        snprintf(sql, sizeof sql, "COPY referee.%s%s", ident,
                 charges ? charges_cols : calls_cols);
        PQfreemem(ident);
        rc = copy_spans(conn, bt, sql, charges ? &bt->charges : &bt->calls,
                        charges, t, d);
    }
    return rc;
}

/* Load a batch (on the loader thread; the connection is the job's and no
 * COPY is open): find the sids rated by earlier runs, then COPY the rest
 * into call_sids (whose primary key refuses a sid twice), calls and
 * charges.  The driver counts them and stages the duplicates. */
int
pgs_load_batch(void *arg, PGconn *conn, struct cdr_diag *d)
{
    struct pgs_batch *bt = arg;
    struct pgs_load *ld = bt->load;
    int rc;
    if (bt->n == 0)
        return 0;
    rc = rt_pg_buf_error(&bt->sids, "sids", d);
    if (rc == 0)
        rc = rt_pg_buf_error(&bt->calls, "calls rows", d);
    if (rc == 0)
        rc = rt_pg_buf_error(&bt->charges, "charges rows", d);
    if (rc == 0)
        rc = open_batch_months(ld, conn, bt, d);
    if (rc == 0 && ld->check_dups)
        rc = find_duplicates(ld, conn, bt, d);
    if (rc == 0)
        rc = copy_register(ld, conn, bt, d);
    if (rc == 0)
        rc = copy_by_month(ld, conn, bt, 0, d);
    if (rc == 0)
        rc = copy_by_month(ld, conn, bt, 1, d);
    return rc;
}

int
pgs_load_attach(struct pgs_load *ld, PGconn *conn, struct cdr_diag *d)
{
    /* Indexes of what was loaded without them, before the merge uses
     * them (a sid loaded twice fails here). */
    if (ld->reg_unindexed &&
        rt_pg_exec(conn, "SELECT referee.register_reindex()",
                   "indexing the sid register", d) != 0)
        return CDR_E_DB;
    if (ld->n_months > 0 && rt_pg_exec(conn, "SELECT referee.attach_loaded()",
                                       "attaching the loaded months", d) != 0)
        return CDR_E_DB;
    return 0;
}

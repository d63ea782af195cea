/*
 * The PostgreSQL sink's direct load: rated calls of input files go in
 * batches straight into call_sids, calls and charges (binary COPY), one
 * batch loaded by the loader thread while the driver fills the next.
 */
#include "rating/pg/rt_sink_pg_int.h"

#include "cdr/util/cdr_parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

void
pgs_batch_reset(struct direct_batch *bt)
{
    bt->n = 0;
    rt_pg_buf_reset(&bt->sids);
    rt_pg_buf_reset(&bt->calls);
    rt_pg_buf_reset(&bt->charges);
    rt_pg_buf_reset(&bt->tmp);
}

void
pgs_batch_free(struct direct_batch *bt)
{
    free(bt->rows);
    rt_pg_buf_free(&bt->sids);
    rt_pg_buf_free(&bt->calls);
    rt_pg_buf_free(&bt->charges);
    rt_pg_buf_free(&bt->tmp);
    memset(bt, 0, sizeof *bt);
}

void
pgs_free_direct(struct pg_sink *s)
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
    pgs_batch_reset(&s->bat[0]);
    pgs_batch_reset(&s->bat[1]);
}

/* At begin, in the run's transaction (after the run lock): may this run
 * load directly, must its sids be checked, which sids are pending. */
int
pgs_direct_setup(struct pg_sink *s, struct cdr_diag *d)
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
            s->pend_sids[i] = pgs_dup_str(PQgetvalue(res, i, 0));
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
    rc = pgs_copy_close(s, NULL, d);
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
        (void)pgs_parse_long(PQgetvalue(res, 0, 0), &s->file_ids[fi]);
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
            if (pgs_parse_long(PQgetvalue(res, i, 0), &at) == 0 && at >= 1 &&
                (size_t)at <= bt->n &&
                pgs_parse_long(PQgetvalue(res, i, 1), &run) == 0 && run > 0)
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
        rc = pgs_copy_open(s, d);
        if (rc != 0)
            break;
        s->n_ddup++;
        rt_pg_copy_str(&s->buf, "D");
        rt_pg_copy_text(&s->buf, bt->sids.p + r->sid_off, r->sid_len);
        pgs_copy_nulls(&s->buf, 16);
        pgs_copy_file_pos(s, r->file_index, s->files[r->name_index].path,
                          r->line);
        pgs_copy_nulls(&s->buf, 16);
        snprintf(run, sizeof run, "%ld", r->dup_run);
        rt_pg_copy_str(&s->buf, run);
        pgs_copy_nulls(&s->buf, 3);
        rc = pgs_row_done(s, d);
    }
    pgs_batch_reset(bt);
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
struct direct_batch *
pgs_loader_idle(struct pg_sink *s)
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

/* pgs_loader_idle, then finish the batch here; its load's error is the
 * run's. */
int
pgs_loader_wait(struct pg_sink *s, struct cdr_diag *d)
{
    struct direct_batch *bt = pgs_loader_idle(s);
    int rc;
    if (bt == NULL)
        return 0;
    if (bt->rc != 0) {
        rc = bt->rc;
        *d = bt->diag;
        pgs_batch_reset(bt);
        return rc;
    }
    return finish_batch(s, bt, d);
}

void
pgs_loader_stop(struct pg_sink *s)
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
int
pgs_direct_send(struct pg_sink *s, struct cdr_diag *d)
{
    struct direct_batch *bt = s->cur;
    int rc;
    if (bt->n == 0)
        return 0;
    /* the previous batch done, and the connection out of COPY mode */
    if ((rc = pgs_copy_close(s, NULL, d)) != 0)
        return rc;
    if (!s->loader_on && pthread_create(&s->loader, NULL, loader_main, s) == 0)
        s->loader_on = 1;
    s->cur = bt == &s->bat[0] ? &s->bat[1] : &s->bat[0];
    s->fly = bt;
    if (!s->loader_on) {
        cdr_diag_clear(&bt->diag);
        bt->rc = load_batch(s, bt, &bt->diag);
        return pgs_loader_wait(s, d);
    }
    pthread_mutex_lock(&s->mu);
    s->loader_busy = 1;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return 0;
}

/* 1: the call went into the direct batch; 0: not eligible (stage it). */
int
pgs_direct_call(struct pg_sink *s, const struct rt_call *c, int *taken,
                struct cdr_diag *d)
{
    const struct cdr_record *r = c->rec;
    struct direct_batch *bt = s->cur;
    struct rt_pg_buf *b;
    struct direct_row *row;
    long fi = c->file_index, file_id = -1, name_fi;
    int rc;
    *taken = 0;
    /* Rows of the store (pending children, re-fed with no file index)
     * are staged, as are calls of files this run does not load. */
    if (!s->direct || c->relabel_only || s->run_files == NULL ||
        (fi >= 0 && (size_t)fi >= s->n_files))
        return 0;
    name_fi = pgs_file_index_of(s, r->file);
    if (name_fi < 0 || (fi >= 0 && fi != name_fi) ||
        s->run_files[name_fi].skipped || !direct_sid_ok(s, r->sid))
        return 0;
    if (r->price.n > 0 && !pgs_is_decimal(r->price.p, r->price.n))
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
    pgs_copy_slice(b, r->sid);
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
    pgs_copy_parties(b, r);
    pgs_copy_outcome(b, r);
    rt_pg_copy_str(b, rt_leg_name(c->leg));
    rt_pg_copy_str(b, rt_scenario_name(c->scenario));
    rt_pg_copy_end_row(b);
    row->call_end = b->n;

    b = &bt->charges;
    row->ch_off = b->n;
    for (int i = 0; i < c->n_components; i++) {
        pgs_copy_slice(b, r->sid);
        rt_pg_copy_time(b, r->start_time);
        rt_pg_copy_int(b, s->run_num);
        pgs_copy_opt(b, r->parent_call_sid);
        pgs_copy_opt(b, r->account_sid);
        pgs_copy_opt(b, r->trunk_sid);
        rt_pg_copy_str(b, rt_leg_name(c->leg));
        rt_pg_copy_str(b, rt_scenario_name(c->scenario));
        rt_pg_copy_int2(b, (int16_t)(i + 1));
        pgs_copy_component_to(b, s->decimals, &c->comp[i]);
        rt_pg_copy_str(b, s->currency);
        rt_pg_copy_str(b, s->deck_name);
        pgs_copy_opt_numeric(b, r->price);
        pgs_copy_opt(b, r->price_unit);
        rt_pg_copy_end_row(b);
        row->amount_nano += c->comp[i].amount_nano;
    }
    row->ch_end = b->n;
    bt->n++;
    *taken = 1;
    if (bt->n >= RT_SINK_PG_BATCH ||
        bt->calls.n + bt->charges.n >= RT_SINK_PG_BATCH_BYTES ||
        bt->calls.oom || bt->charges.oom || bt->sids.oom)
        return pgs_direct_send(s, d);
    return 0;
}

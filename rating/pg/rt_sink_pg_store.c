/*
 * The PostgreSQL sink's reads of the store: file_seen, and stored rows
 * handed back through a cursor (stored_pending, stored_parents,
 * stored_calls).
 */
#include "rating/pg/rt_sink_pg_int.h"

#include "cdr/util/cdr_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STR_(x) #x
#define STR(x) STR_(x)

int
pgs_store_file_seen(struct pgs_stage *st, const char *sha256, int *seen,
                    struct cdr_diag *d)
{
    const char *params[1] = {sha256};
    PGconn *conn;
    PGresult *res;
    int rc = pgs_stage_close(st, &conn, d);
    *seen = 0;
    if (rc != 0)
        return rc;
    res = rt_pg_query(conn,
                      "SELECT run_id FROM referee.input_files"
                      " WHERE sha256 = $1 AND superseded_by_run IS NULL",
                      1, params, PGRES_TUPLES_OK, "looking up a file", d);
    if (res == NULL)
        return CDR_E_DB;
    *seen = PQntuples(res) > 0;
    PQclear(res);
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

/* One fetched row as the driver reads rows: fields in cdr_column order,
 * then file and line. */
static void
fetched_row(const PGresult *res, int i, struct cdr_row *row)
{
    long line = 0;
    memset(row, 0, sizeof *row);
    for (int c = 0; c < CDR_COL__COUNT; c++) {
        row->field[c].p = PQgetvalue(res, i, c);
        row->field[c].n = (size_t)PQgetlength(res, i, c);
        row->present[c] = 1;
    }
    row->file = PQgetisnull(res, i, CDR_COL__COUNT)
                    ? "(referee database)"
                    : PQgetvalue(res, i, CDR_COL__COUNT);
    if (!PQgetisnull(res, i, CDR_COL__COUNT + 1))
        (void)pgs_parse_long(PQgetvalue(res, i, CDR_COL__COUNT + 1), &line);
    row->line = line;
}

static int
declare_cursor(PGconn *conn, const char *select, int nparams,
               const char *const *params, struct cdr_diag *d)
{
    static const char decl[] = "DECLARE referee_rows NO SCROLL CURSOR FOR ";
    struct rt_pg_buf q;
    PGresult *res;
    rt_pg_buf_init(&q);
    rt_pg_buf_add(&q, decl, sizeof decl - 1);
    rt_pg_buf_add(&q, select, strlen(select));
    if (rt_pg_buf_cstr(&q) == NULL) {
        rt_pg_buf_free(&q);
        return cdr_diag_set(d, CDR_E_NOMEM, NULL, NULL, 0, "out of memory");
    }
    res = rt_pg_query(conn, q.p, nparams, params, PGRES_COMMAND_OK,
                      "reading stored calls", d);
    rt_pg_buf_free(&q);
    if (res == NULL)
        return CDR_E_DB;
    PQclear(res);
    return 0;
}

/* Run a query through a cursor and hand every row to fn (which may stage
 * rows and load batches: the connection is taken back before each
 * fetch). */
static int
feed_rows(struct pgs_stage *st, const char *select, int nparams,
          const char *const *params, rt_row_fn fn, void *ctx, long *fed,
          struct cdr_diag *d)
{
    PGconn *conn;
    long record = 0;
    int rc = pgs_stage_close(st, &conn, d);
    if (rc == 0)
        rc = declare_cursor(conn, select, nparams, params, d);
    for (int n = 1; rc == 0 && n > 0;) {
        PGresult *res;
        rc = pgs_stage_close(st, &conn, d); /* fn may have sent rows */
        if (rc != 0)
            return rc;
        res = rt_pg_query(conn,
                          "FETCH " STR(RT_SINK_PG_FETCH) " FROM referee_rows",
                          0, NULL, PGRES_TUPLES_OK, "reading stored calls", d);
        if (res == NULL)
            return CDR_E_DB;
        n = PQntuples(res);
        for (int i = 0; i < n && rc == 0; i++) {
            struct cdr_row row;
            fetched_row(res, i, &row);
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
            if (pgs_stage_close(st, &conn, &ignore) == 0)
                (void)rt_pg_exec(conn, "CLOSE referee_rows", "", &ignore);
            return rc;
        }
    }
    if (rc == 0)
        rc = pgs_stage_close(st, &conn, d);
    if (rc == 0)
        rc = rt_pg_exec(conn, "CLOSE referee_rows", "reading stored calls", d);
    return rc;
}

int
pgs_store_pending(struct pgs_stage *st, rt_row_fn fn, void *ctx, long *fed,
                  struct cdr_diag *d)
{
    *fed = 0;
    return feed_rows(st,
                     "SELECT " ROW_COLS " FROM referee.pending"
                     " ORDER BY start_time, call_sid FOR UPDATE",
                     0, NULL, fn, ctx, fed, d);
}

int
pgs_store_parents(struct pgs_stage *st, const struct cdr_slice *sids, size_t n,
                  rt_row_fn fn, void *ctx, struct cdr_diag *d)
{
    struct rt_pg_buf arr;
    int rc = 0;
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
        rc = feed_rows(st,
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

int
pgs_store_calls(struct pgs_stage *st, int64_t from, int64_t to, rt_row_fn fn,
                void *ctx, struct cdr_diag *d)
{
    char f[32], t[32];
    const char *params[2] = {f, t};
    cdr_time_format(from, f, sizeof f);
    cdr_time_format(to, t, sizeof t);
    /* The calls of the period, their parents and their children. */
    return feed_rows(
        st,
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

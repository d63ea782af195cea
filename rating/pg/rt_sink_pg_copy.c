/*
 * The PostgreSQL sink's staging rows: COPY text of calls, rejects and
 * pending children into the TEMP staging table (rt_sink_pg.c), and the
 * field writers the direct load shares.
 */
#include "rating/pg/rt_sink_pg_int.h"

#include "cdr/util/cdr_parse.h"

#include <limits.h>
#include <string.h>

static const char stg_copy[] = "COPY pg_temp.referee_stg FROM STDIN";

/* ---- names (local: the rating modules own the public ones) ----------- */

/* -?digits(.digits)? : what numeric accepts and the validator lets through. */
int
pgs_is_decimal(const char *p, size_t n)
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

int
pgs_parse_long(const char *s, long *out)
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
    if ((rc = pgs_loader_wait(s, d)) != 0)
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

int
pgs_copy_open(struct pg_sink *s, struct cdr_diag *d)
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
int
pgs_copy_close(struct pg_sink *s, const char *errmsg, struct cdr_diag *d)
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

int
pgs_row_done(struct pg_sink *s, struct cdr_diag *d)
{
    rt_pg_copy_end_row(&s->buf);
    if (s->buf.n >= RT_SINK_PG_CHUNK || s->buf.oom)
        return flush_buf(s, d);
    return 0;
}

void
pgs_copy_slice(struct rt_pg_buf *b, struct cdr_slice v)
{
    rt_pg_copy_text(b, v.p != NULL ? v.p : "", v.n);
}

/* Optional numeric (a checked decimal): empty is NULL. */
void
pgs_copy_opt_numeric(struct rt_pg_buf *b, struct cdr_slice v)
{
    if (v.n == 0 || v.p == NULL)
        rt_pg_copy_null(b);
    else
        rt_pg_copy_numeric(b, v.p, v.n);
}

/* Optional text: empty is NULL. */
void
pgs_copy_opt(struct rt_pg_buf *b, struct cdr_slice v)
{
    if (v.n == 0 || v.p == NULL)
        rt_pg_copy_null(b);
    else
        rt_pg_copy_text(b, v.p, v.n);
}

void
pgs_copy_nulls(struct rt_pg_buf *b, int n)
{
    while (n-- > 0)
        rt_pg_copy_null(b);
}

/* The columns the staging and the final calls rows share, in their order:
 * parent_call_sid .. to, then end_time .. transfer_status (start_time sits
 * between them in staging, earlier in calls). */
void
pgs_copy_parties(struct rt_pg_buf *b, const struct cdr_record *r)
{
    pgs_copy_opt(b, r->parent_call_sid);
    pgs_copy_opt(b, r->account_sid);
    pgs_copy_opt(b, r->trunk_sid);
    rt_pg_copy_str(b, cdr_direction_name(r->direction));
    pgs_copy_slice(b, r->from);
    pgs_copy_slice(b, r->to);
}

void
pgs_copy_outcome(struct rt_pg_buf *b, const struct cdr_record *r)
{
    if (r->has_end_time)
        rt_pg_copy_time(b, r->end_time);
    else
        rt_pg_copy_null(b);
    rt_pg_copy_int(b, r->duration);
    pgs_copy_opt(b, r->status_text);
    pgs_copy_opt_numeric(b, r->price);
    pgs_copy_opt(b, r->price_unit);
    pgs_copy_opt(b, r->transfer_target);
    pgs_copy_opt(b, r->transfer_status);
}

/* The record part of a staging row: kind .. transfer_status, 16 fields. */
int
pgs_copy_record(struct pg_sink *s, const char *kind, const struct cdr_record *r,
                struct cdr_diag *d)
{
    struct rt_pg_buf *b = &s->buf;
    if (r->price.n > 0 && !pgs_is_decimal(r->price.p, r->price.n))
        return cdr_diag_set(d, CDR_E_BAD_NUMBER, "price", r->price.p,
                            r->price.n, "price is not a plain decimal");
    rt_pg_copy_str(b, kind);
    pgs_copy_slice(b, r->sid);
    pgs_copy_parties(b, r);
    rt_pg_copy_time(b, r->start_time);
    pgs_copy_outcome(b, r);
    return 0;
}

void
pgs_copy_file_pos(struct pg_sink *s, long file_index, const char *file,
                  long line)
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

void
pgs_copy_component_to(struct rt_pg_buf *b, int decimals,
                      const struct rt_component *c)
{
    char num[40];
    size_t rate_n = c->rate_text != NULL ? strlen(c->rate_text) : 0;
    int n;
    rt_pg_copy_str(b, rt_service_name(c->service));
    pgs_copy_slice(b, c->from);
    pgs_copy_slice(b, c->to);
    rt_pg_copy_str(b, c->matched);
    if (rate_n > 0 && pgs_is_decimal(c->rate_text, rate_n))
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

void
pgs_copy_component(struct pg_sink *s, const struct rt_component *c)
{
    pgs_copy_component_to(&s->buf, s->decimals, c);
}

long
pgs_file_index_of(const struct pg_sink *s, const char *path)
{
    if (path == NULL)
        return -1;
    for (size_t i = 0; i < s->n_files; i++)
        if (strcmp(s->files[i].path, path) == 0)
            return (long)i;
    return -1;
}

/*
 * The PostgreSQL sink's staged rows: what a run does not load straight
 * into the final tables (rejects, pending children, relabelled parents,
 * rows re-fed from the store, every row of a --rerate or --force run, the
 * duplicates the direct load found) goes by COPY text into its TEMP table
 * referee_stg (schema 008: stage_create(), and the kinds of row), merged
 * at commit.  Also the COPY fields the direct load shares.
 */
#include "rating/pg/rt_sink_pg_int.h"

#include "cdr/util/cdr_decimal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char stg_copy[] = "COPY pg_temp.referee_stg FROM STDIN";

/* The staging columns schema 009 added after r_raw: target_caller_id,
 * plan, sell_currency, then four per component. */
#define SELL_FIELDS 11

struct pgs_stage {
    struct pgs_link *link;
    const struct pgs_facts *facts;
    struct rt_pg_buf buf; /* rows not sent yet */
    int in_copy;          /* the staging COPY is open on the connection */
    struct pgs_staged counts;
};

/* ---- names and fields ------------------------------------------------- */

/* The carrier's price goes into a numeric column: the validator lets
 * only an exact decimal through (any places), but a row must not fail
 * its whole COPY at the server. */
int
pgs_check_price(const struct cdr_record *r, struct cdr_diag *d)
{
    struct cdr_decimal_parts v;
    if (r->price.n > 0 && cdr_decimal_split(r->price.p, r->price.n, &v) != 0)
        return cdr_diag_set(d, CDR_E_BAD_NUMBER, "price", r->price.p,
                            r->price.n, "price is not a plain decimal");
    return 0;
}

long
pgs_file_index_of(const struct pgs_facts *f, const char *path)
{
    if (path == NULL)
        return -1;
    for (size_t i = 0; i < f->n_files; i++)
        if (strcmp(f->files[i].path, path) == 0)
            return (long)i;
    return -1;
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

/* A component's fields: the rate as the deck wrote it (its scale kept),
 * or its value when there is no text; the amount with the deck's
 * decimals. */
void
pgs_copy_component_to(struct rt_pg_buf *b, int decimals,
                      const struct rt_component *c)
{
    size_t rate_n = c->rate_text != NULL ? strlen(c->rate_text) : 0;
    rt_pg_copy_str(b, rt_service_name(c->service));
    pgs_copy_slice(b, c->from);
    pgs_copy_slice(b, c->to);
    rt_pg_copy_str(b, c->matched);
    if (rate_n > 0)
        rt_pg_copy_numeric(b, c->rate_text, rate_n);
    else
        rt_pg_copy_nano(b, c->rate_nano, 9);
    rt_pg_copy_int(b, c->duration);
    rt_pg_copy_int(b, c->billable_seconds);
    rt_pg_copy_nano(b, c->amount_nano, decimals);
}

/* A component's sell side (sell_matched_prefix, sell_rate,
 * sell_billable_seconds, sell_amount): the plan deck's rate text and
 * decimals, as the CSV sink writes them; NULLs without plans. */
void
pgs_copy_sell_to(struct rt_pg_buf *b, const struct rt_call *call,
                 const struct rt_component *c)
{
    const struct rt_side *s = &c->sell;
    size_t rate_n = s->rate_text != NULL ? strlen(s->rate_text) : 0;
    if (call->plan_deck == NULL) {
        pgs_copy_nulls(b, 4);
        return;
    }
    rt_pg_copy_str(b, s->matched);
    if (rate_n > 0)
        rt_pg_copy_numeric(b, s->rate_text, rate_n);
    else
        rt_pg_copy_nano(b, s->rate_nano, 9);
    rt_pg_copy_int(b, s->billable_seconds);
    rt_pg_copy_nano(b, s->amount_nano, rt_deck_decimals(call->plan_deck));
}

void
pgs_copy_plan(struct rt_pg_buf *b, const struct rt_call *call)
{
    rt_pg_copy_str(b, call->plan_deck != NULL ? call->plan : NULL);
}

void
pgs_copy_sell_currency(struct rt_pg_buf *b, const struct rt_call *call)
{
    rt_pg_copy_str(
        b, call->plan_deck != NULL ? rt_deck_currency(call->plan_deck) : NULL);
}

/* ---- the COPY stream -------------------------------------------------- */

int
pgs_stage_new(struct pgs_stage **out, struct pgs_link *link,
              const struct pgs_facts *f, struct cdr_diag *d)
{
    struct pgs_stage *st = calloc(1, sizeof *st);
    *out = NULL;
    if (st == NULL)
        return cdr_diag_set(d, CDR_E_NOMEM, NULL, NULL, 0, "out of memory");
    st->link = link;
    st->facts = f;
    rt_pg_buf_init(&st->buf);
    *out = st;
    return rt_pg_exec(pgs_link_conn(link), "SELECT referee.stage_create()",
                      "creating the staging table", d);
}

/* Staged rows gather in st->buf; the staging COPY starts when they are
 * first sent, so staging a row never waits for the loader thread. */
static int
stage_start(struct pgs_stage *st, struct cdr_diag *d)
{
    if (st->in_copy)
        return 0;
    if (pgs_copy_start(pgs_link_conn(st->link), stg_copy, d) != 0)
        return CDR_E_DB;
    st->in_copy = 1;
    return 0;
}

/* Send the rows waiting, taking the connection back first. */
static int
flush_buf(struct pgs_stage *st, struct cdr_diag *d)
{
    PGconn *conn = pgs_link_conn(st->link);
    int rc = rt_pg_buf_error(&st->buf, "staged rows", d);
    if (rc != 0)
        return rc;
    if ((rc = pgs_link_take(st->link, d)) != 0)
        return rc;
    if (st->buf.n == 0)
        return 0;
    if ((rc = stage_start(st, d)) != 0)
        return rc;
    if (st->buf.n > (size_t)INT32_MAX ||
        PQputCopyData(conn, st->buf.p, (int)st->buf.n) != 1)
        return rt_pg_fail(conn, NULL, "sending rows to PostgreSQL", d);
    rt_pg_buf_reset(&st->buf);
    return 0;
}

/* End the COPY in progress.  With errmsg, it is aborted with that
 * message. */
static int
end_copy(struct pgs_stage *st, const char *errmsg, struct cdr_diag *d)
{
    if (!st->in_copy)
        return 0;
    st->in_copy = 0;
    return pgs_copy_end(pgs_link_conn(st->link), errmsg, d);
}

int
pgs_stage_close(struct pgs_stage *st, PGconn **conn, struct cdr_diag *d)
{
    int rc = flush_buf(st, d);
    if (rc == 0)
        rc = end_copy(st, NULL, d);
    if (conn != NULL)
        *conn = pgs_link_conn(st->link);
    return rc;
}

const struct pgs_staged *
pgs_stage_counts(const struct pgs_stage *st)
{
    return &st->counts;
}

void
pgs_stage_free(struct pgs_stage *st)
{
    struct cdr_diag ignore;
    if (st == NULL)
        return;
    cdr_diag_clear(&ignore);
    (void)pgs_link_take(st->link, &ignore); /* its rows dropped with ours */
    (void)end_copy(st, "run aborted", &ignore);
    rt_pg_buf_free(&st->buf);
    free(st);
}

/* ---- rows ------------------------------------------------------------- */

static int
row_done(struct pgs_stage *st, struct cdr_diag *d)
{
    rt_pg_copy_end_row(&st->buf);
    if (st->buf.n >= RT_SINK_PG_CHUNK || st->buf.oom || st->buf.bad)
        return flush_buf(st, d);
    return 0;
}

/* file_index (or NULL), src_file, src_line */
static void
file_pos(struct pgs_stage *st, long file_index, const char *file, long line)
{
    if (file_index >= 0 && (size_t)file_index < st->facts->n_files)
        rt_pg_copy_int(&st->buf, file_index);
    else
        rt_pg_copy_null(&st->buf);
    rt_pg_copy_str(&st->buf, file);
    if (line > 0)
        rt_pg_copy_int(&st->buf, line);
    else
        rt_pg_copy_null(&st->buf);
}

/* The record part of a staging row: kind .. transfer_status, 16 fields. */
static int
record_fields(struct pgs_stage *st, const char *kind,
              const struct cdr_record *r, struct cdr_diag *d)
{
    struct rt_pg_buf *b = &st->buf;
    int rc = pgs_check_price(r, d);
    if (rc != 0)
        return rc;
    rt_pg_copy_str(b, kind);
    pgs_copy_slice(b, r->sid);
    pgs_copy_parties(b, r);
    rt_pg_copy_time(b, r->start_time);
    pgs_copy_outcome(b, r);
    return 0;
}

int
pgs_stage_call(struct pgs_stage *st, const struct rt_call *c,
               struct cdr_diag *d)
{
    struct rt_pg_buf *b = &st->buf;
    if (c->relabel_only) {
        rt_pg_copy_str(b, "relabel");
        st->counts.relabel++;
        pgs_copy_slice(b, c->rec->sid);
        pgs_copy_nulls(b, 6);
        rt_pg_copy_time(b, c->rec->start_time);
        pgs_copy_nulls(b, 7);
    } else {
        /* checks before it writes: nothing partial is left behind */
        int rc = record_fields(st, "rated", c->rec, d);
        if (rc != 0)
            return rc;
        st->counts.rated++;
    }
    rt_pg_copy_str(b, rt_leg_name(c->leg));
    rt_pg_copy_str(b, rt_scenario_name(c->scenario));
    file_pos(st, c->file_index, c->rec->file, c->rec->line);
    for (int i = 0; i < 2; i++) {
        if (!c->relabel_only && i < c->n_components)
            pgs_copy_component_to(b, st->facts->decimals, &c->comp[i]);
        else
            pgs_copy_nulls(b, 8);
    }
    pgs_copy_nulls(b, 4);
    if (c->relabel_only) {
        pgs_copy_nulls(b, SELL_FIELDS);
        return row_done(st, d);
    }
    pgs_copy_opt(b, c->target_caller_id);
    pgs_copy_plan(b, c);
    pgs_copy_sell_currency(b, c);
    for (int i = 0; i < 2; i++) {
        if (i < c->n_components)
            pgs_copy_sell_to(b, c, &c->comp[i]);
        else
            pgs_copy_nulls(b, 4);
    }
    return row_done(st, d);
}

int
pgs_stage_reject(struct pgs_stage *st, const struct rt_reject *r,
                 struct cdr_diag *d)
{
    struct rt_pg_buf *b = &st->buf;
    rt_pg_copy_str(b, "reject");
    st->counts.reject++;
    pgs_copy_opt(b, r->sid);
    pgs_copy_nulls(b, 16);
    file_pos(st, pgs_file_index_of(st->facts, r->file), r->file, r->line);
    pgs_copy_nulls(b, 16);
    if (r->field != NULL && r->field[0] != '\0')
        rt_pg_copy_str(b, r->field);
    else
        rt_pg_copy_null(b);
    rt_pg_copy_str(b, r->reason != NULL ? r->reason : "");
    rt_pg_copy_int(b, r->code);
    pgs_copy_opt(b, r->raw);
    pgs_copy_nulls(b, SELL_FIELDS);
    return row_done(st, d);
}

int
pgs_stage_pending(struct pgs_stage *st, const struct cdr_record *rec,
                  struct cdr_diag *d)
{
    struct rt_pg_buf *b = &st->buf;
    int rc;
    st->counts.pending++;
    rc = record_fields(st, "pending", rec, d);
    if (rc != 0)
        return rc;
    pgs_copy_nulls(b, 2);
    file_pos(st, pgs_file_index_of(st->facts, rec->file), rec->file, rec->line);
    pgs_copy_nulls(b, 20 + SELL_FIELDS);
    return row_done(st, d);
}

int
pgs_stage_duplicate(struct pgs_stage *st, const char *sid, size_t sid_len,
                    long file_index, long name_index, long line, long dup_run,
                    struct cdr_diag *d)
{
    struct rt_pg_buf *b = &st->buf;
    char run[24];
    st->counts.duplicate++;
    rt_pg_copy_str(b, "duplicate");
    rt_pg_copy_text(b, sid, sid_len);
    pgs_copy_nulls(b, 16);
    file_pos(st, file_index, st->facts->files[name_index].path, line);
    pgs_copy_nulls(b, 16);
    snprintf(run, sizeof run, "%ld", dup_run);
    rt_pg_copy_str(b, run);
    pgs_copy_nulls(b, 3 + SELL_FIELDS);
    return row_done(st, d);
}

/*
 * The PostgreSQL sink's direct load (a rate run without --force): rated
 * calls of input files go in batches straight into call_sids, calls and
 * charges (binary COPY).  The driver fills one batch while the loader
 * thread loads the other (rt_sink_pg_link.c, rt_sink_pg_load.c); calls
 * the load found rated by an earlier run are staged as duplicates (listed
 * in rejects at commit).  Calls that cannot go straight in (rows of the
 * store, sids still pending, sids that are not plain ASCII) are staged.
 */
#include "rating/pg/rt_sink_pg_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pgs_direct {
    const struct pgs_facts *facts;
    struct pgs_link *link;
    struct pgs_stage *stage;
    struct pgs_load *load;
    long *file_ids;    /* per file index: 0 unknown, >0 id, -1 NULL */
    size_t n_file_ids; /* the files at begin */
    char **pend_sids;  /* sids pending at begin, sorted (memcmp) */
    size_t n_pend_sids;
    /* The driver fills cur; fly is lent to the loader, or loaded and not
     * yet counted (settle). */
    struct pgs_batch bat[2];
    struct pgs_batch *cur, *fly;
    struct pgs_direct_sums sums;
};

static int
cmp_sid(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
batch_reset(struct pgs_batch *bt)
{
    bt->n = 0;
    rt_pg_buf_reset(&bt->sids);
    rt_pg_buf_reset(&bt->calls);
    rt_pg_buf_reset(&bt->charges);
    rt_pg_buf_reset(&bt->tmp);
}

static void
batch_free(struct pgs_batch *bt)
{
    free(bt->rows);
    rt_pg_buf_free(&bt->sids);
    rt_pg_buf_free(&bt->calls);
    rt_pg_buf_free(&bt->charges);
    rt_pg_buf_free(&bt->tmp);
}

void
pgs_direct_free(struct pgs_direct *dl)
{
    struct cdr_diag ignore;
    if (dl == NULL)
        return;
    cdr_diag_clear(&ignore);
    (void)pgs_link_take(dl->link, &ignore); /* its batch is ours */
    for (size_t i = 0; i < dl->n_pend_sids; i++)
        free(dl->pend_sids[i]);
    free(dl->pend_sids);
    free(dl->file_ids);
    pgs_load_free(dl->load);
    batch_free(&dl->bat[0]);
    batch_free(&dl->bat[1]);
    free(dl);
}

/* ---- begin ------------------------------------------------------------ */

/* The sids waiting in pending, sorted: their calls are staged. */
static int
load_pending_sids(struct pgs_direct *dl, PGconn *conn, struct cdr_diag *d)
{
    PGresult *res =
        rt_pg_query(conn, "SELECT call_sid FROM referee.pending", 0, NULL,
                    PGRES_TUPLES_OK, "looking up pending calls", d);
    int n;
    if (res == NULL)
        return CDR_E_DB;
    n = PQntuples(res);
    if (n > 0) {
        dl->pend_sids = calloc((size_t)n, sizeof *dl->pend_sids);
        if (dl->pend_sids == NULL) {
            PQclear(res);
            return cdr_diag_set(d, CDR_E_NOMEM, NULL, NULL, 0, "out of memory");
        }
        for (int i = 0; i < n; i++) {
            dl->pend_sids[i] = pgs_dup_str(PQgetvalue(res, i, 0));
            if (dl->pend_sids[i] == NULL) {
                PQclear(res);
                return cdr_diag_set(d, CDR_E_NOMEM, NULL, NULL, 0,
                                    "out of memory");
            }
            dl->n_pend_sids++;
        }
        qsort(dl->pend_sids, dl->n_pend_sids, sizeof *dl->pend_sids, cmp_sid);
    }
    PQclear(res);
    return 0;
}

int
pgs_direct_new(struct pgs_direct **out, const struct pgs_facts *f,
               struct pgs_link *link, struct pgs_stage *st, struct cdr_diag *d)
{
    PGconn *conn = pgs_link_conn(link);
    struct pgs_direct *dl = calloc(1, sizeof *dl);
    int rc;
    *out = dl;
    if (dl == NULL)
        return cdr_diag_set(d, CDR_E_NOMEM, NULL, NULL, 0, "out of memory");
    dl->facts = f;
    dl->link = link;
    dl->stage = st;
    for (int i = 0; i < 2; i++)
        dl->bat[i].calls.binary = dl->bat[i].charges.binary = 1;
    dl->cur = &dl->bat[0];
    dl->file_ids = calloc(f->n_files, sizeof *dl->file_ids);
    if (dl->file_ids == NULL)
        return cdr_diag_set(d, CDR_E_NOMEM, NULL, NULL, 0, "out of memory");
    dl->n_file_ids = f->n_files;
    rc = pgs_load_new(&dl->load, f, conn, d);
    if (rc == 0)
        rc = load_pending_sids(dl, conn, d);
    for (int i = 0; i < 2; i++)
        dl->bat[i].load = dl->load;
    return rc;
}

int
pgs_direct_register_empty(const struct pgs_direct *dl)
{
    return pgs_load_register_empty(dl->load);
}

const struct pgs_direct_sums *
pgs_direct_sums(const struct pgs_direct *dl)
{
    return &dl->sums;
}

const long *
pgs_direct_file_ids(const struct pgs_direct *dl, size_t *n)
{
    *n = dl->n_file_ids;
    return dl->file_ids;
}

/* ---- on the driver's thread ------------------------------------------- */

/* Take the connection back from the loader; count the batch it loaded
 * and stage its duplicates (listed in rejects at commit); empty it. */
static int
settle(struct pgs_direct *dl, struct cdr_diag *d)
{
    struct pgs_batch *bt = dl->fly;
    int rc;
    if (bt == NULL)
        return 0;
    dl->fly = NULL;
    rc = pgs_link_take(dl->link, d);
    for (size_t i = 0; i < bt->n && rc == 0; i++) {
        const struct pgs_batch_row *r = &bt->rows[i];
        if (r->dup_run <= 0) {
            dl->sums.calls++;
            dl->sums.components += r->n_comp;
            dl->sums.comp[r->scn] += r->n_comp;
            dl->sums.nano[r->scn] += r->amount_nano;
            continue;
        }
        dl->sums.duplicates++;
        rc = pgs_stage_duplicate(dl->stage, bt->sids.p + r->sid_off, r->sid_len,
                                 r->file_index, r->name_index, r->line,
                                 r->dup_run, d);
    }
    batch_reset(bt);
    return rc;
}

/* Hand the full batch to the loader and go on filling the other one. */
static int
direct_send(struct pgs_direct *dl, struct cdr_diag *d)
{
    struct pgs_batch *bt = dl->cur;
    int rc;
    if (bt->n == 0)
        return 0;
    /* the batch before done, and the connection out of COPY mode */
    rc = settle(dl, d);
    if (rc == 0)
        rc = pgs_stage_close(dl->stage, NULL, d);
    if (rc != 0)
        return rc;
    dl->cur = bt == &dl->bat[0] ? &dl->bat[1] : &dl->bat[0];
    dl->fly = bt;
    return pgs_link_lend(dl->link, pgs_load_batch, bt, d);
}

int
pgs_direct_finish(struct pgs_direct *dl, struct cdr_diag *d)
{
    int rc = direct_send(dl, d);
    if (rc == 0)
        rc = settle(dl, d);
    return rc;
}

int
pgs_direct_attach(struct pgs_direct *dl, struct cdr_diag *d)
{
    return pgs_load_attach(dl->load, pgs_link_conn(dl->link), d);
}

/* The input file's id, recording the file now (rows and size are final at
 * commit, which updates them).  -1: none (no content hash, or its content
 * is already recorded by this run). */
static int
direct_file_id(struct pgs_direct *dl, long fi, long *id, struct cdr_diag *d)
{
    const struct rt_input_file *f = &dl->facts->run_files[fi];
    char size[24];
    const char *params[4];
    PGconn *conn;
    PGresult *res;
    int rc;
    if (dl->file_ids[fi] != 0) {
        *id = dl->file_ids[fi];
        return 0;
    }
    if (strnlen(f->sha256, sizeof f->sha256) != 64) {
        *id = dl->file_ids[fi] = -1;
        return 0;
    }
    rc = pgs_stage_close(dl->stage, &conn, d);
    if (rc != 0)
        return rc;
    snprintf(size, sizeof size, "%llu", (unsigned long long)f->size);
    params[0] = dl->facts->run_id;
    params[1] = f->path != NULL ? f->path : "";
    params[2] = f->sha256;
    params[3] = size;
    res = rt_pg_query(
        conn,
        "WITH f AS (INSERT INTO referee.input_files"
        " (run_id, path, sha256, size_bytes, rows)"
        " VALUES ($1, $2, $3, $4, 0)"
        " ON CONFLICT (sha256) WHERE superseded_by_run IS NULL DO NOTHING"
        " RETURNING file_id)"
        " SELECT file_id FROM f",
        4, params, PGRES_TUPLES_OK, "recording input files", d);
    if (res == NULL)
        return CDR_E_DB;
    dl->file_ids[fi] = -1;
    if (PQntuples(res) == 1)
        (void)pgs_parse_long(PQgetvalue(res, 0, 0), &dl->file_ids[fi]);
    PQclear(res);
    *id = dl->file_ids[fi];
    return 0;
}

/* A sid that goes straight in: printable ASCII (so its text in SQL is its
 * bytes, whatever the sanitising) and not waiting in pending. */
static int
direct_sid_ok(const struct pgs_direct *dl, struct cdr_slice sid)
{
    char key[256];
    if (sid.p == NULL || sid.n == 0 || sid.n >= sizeof key)
        return 0;
    for (size_t i = 0; i < sid.n; i++) {
        unsigned char ch = (unsigned char)sid.p[i];
        if (ch < 0x20 || ch >= 0x7f || ch == '\\')
            return 0;
    }
    if (dl->n_pend_sids == 0)
        return 1;
    memcpy(key, sid.p, sid.n);
    key[sid.n] = '\0';
    {
        const char *k = key;
        return bsearch(&k, dl->pend_sids, dl->n_pend_sids,
                       sizeof *dl->pend_sids, cmp_sid) == NULL;
    }
}

/* The entry of the call's file name in the facts' files, when the call
 * goes straight in; else -1.  Rows of the store (pending children, re-fed
 * with no file index) are staged, as are calls of files this run does not
 * load. */
static long
direct_name_index(const struct pgs_direct *dl, const struct rt_call *c)
{
    const struct pgs_facts *f = dl->facts;
    long fi = c->file_index, name_fi;
    if (c->relabel_only || f->run_files == NULL ||
        (fi >= 0 && (size_t)fi >= f->n_files))
        return -1;
    name_fi = pgs_file_index_of(f, c->rec->file);
    if (name_fi < 0 || (fi >= 0 && fi != name_fi) ||
        f->run_files[name_fi].skipped || !direct_sid_ok(dl, c->rec->sid))
        return -1;
    return name_fi;
}

/* The call's calls row, binary. */
static void
add_call_row(const struct pgs_direct *dl, struct rt_pg_buf *b,
             const struct rt_call *c, long file_id, long name_fi)
{
    const struct cdr_record *r = c->rec;
    pgs_copy_slice(b, r->sid);
    rt_pg_copy_time(b, r->start_time);
    rt_pg_copy_int(b, dl->facts->run_num);
    if (file_id > 0)
        rt_pg_copy_int(b, file_id);
    else
        rt_pg_copy_null(b);
    rt_pg_copy_str(b, dl->facts->files[name_fi].path);
    if (r->line > 0)
        rt_pg_copy_int(b, r->line);
    else
        rt_pg_copy_null(b);
    pgs_copy_parties(b, r);
    pgs_copy_outcome(b, r);
    rt_pg_copy_str(b, rt_leg_name(c->leg));
    rt_pg_copy_str(b, rt_scenario_name(c->scenario));
    rt_pg_copy_end_row(b);
}

/* The call's charges rows, binary; their total. */
static i128
add_charge_rows(const struct pgs_direct *dl, struct rt_pg_buf *b,
                const struct rt_call *c)
{
    const struct pgs_facts *f = dl->facts;
    const struct cdr_record *r = c->rec;
    i128 total = 0;
    for (int i = 0; i < c->n_components; i++) {
        pgs_copy_slice(b, r->sid);
        rt_pg_copy_time(b, r->start_time);
        rt_pg_copy_int(b, f->run_num);
        pgs_copy_opt(b, r->parent_call_sid);
        pgs_copy_opt(b, r->account_sid);
        pgs_copy_opt(b, r->trunk_sid);
        rt_pg_copy_str(b, rt_leg_name(c->leg));
        rt_pg_copy_str(b, rt_scenario_name(c->scenario));
        rt_pg_copy_int2(b, (int16_t)(i + 1));
        pgs_copy_component_to(b, f->decimals, &c->comp[i]);
        rt_pg_copy_str(b, f->currency);
        rt_pg_copy_str(b, f->deck_name);
        pgs_copy_opt_numeric(b, r->price);
        pgs_copy_opt(b, r->price_unit);
        pgs_copy_plan(b, c);
        pgs_copy_sell_to(b, c, &c->comp[i]);
        pgs_copy_sell_currency(b, c);
        pgs_copy_opt(b, c->target_caller_id);
        rt_pg_copy_end_row(b);
        total += c->comp[i].amount_nano;
    }
    return total;
}

/* A free row at the end of the batch being filled, or NULL. */
static struct pgs_batch_row *
new_row(struct pgs_batch *bt)
{
    if (bt->n == bt->cap) {
        size_t cap = bt->cap ? bt->cap * 2 : 1024;
        struct pgs_batch_row *p = realloc(bt->rows, cap * sizeof *p);
        if (p == NULL)
            return NULL;
        bt->rows = p;
        bt->cap = cap;
    }
    memset(&bt->rows[bt->n], 0, sizeof bt->rows[bt->n]);
    return &bt->rows[bt->n];
}

int
pgs_direct_call(struct pgs_direct *dl, const struct rt_call *c, int *taken,
                struct cdr_diag *d)
{
    const struct cdr_record *r = c->rec;
    struct pgs_batch *bt = dl->cur;
    struct pgs_batch_row *row;
    long fi = c->file_index, file_id = -1, name_fi;
    int rc;
    *taken = 0;
    name_fi = direct_name_index(dl, c);
    if (name_fi < 0)
        return 0;
    rc = pgs_check_price(r, d);
    if (rc != 0)
        return rc;
    if (fi >= 0) {
        rc = direct_file_id(dl, fi, &file_id, d);
        if (rc != 0)
            return rc;
    }
    row = new_row(bt);
    if (row == NULL)
        return cdr_diag_set(d, CDR_E_NOMEM, NULL, NULL, 0, "out of memory");
    row->sid_off = bt->sids.n;
    row->sid_len = r->sid.n;
    rt_pg_buf_add(&bt->sids, r->sid.p, r->sid.n);
    row->start_time = r->start_time;
    row->file_index = fi;
    row->name_index = name_fi;
    row->line = r->line;
    row->scn = (unsigned)c->scenario < RT_SCN_COUNT ? (int)c->scenario : 0;
    row->n_comp = c->n_components;
    row->call_off = bt->calls.n;
    add_call_row(dl, &bt->calls, c, file_id, name_fi);
    row->call_end = bt->calls.n;
    row->ch_off = bt->charges.n;
    row->amount_nano = add_charge_rows(dl, &bt->charges, c);
    row->ch_end = bt->charges.n;
    bt->n++;
    *taken = 1;
    if (bt->n >= RT_SINK_PG_BATCH ||
        bt->calls.n + bt->charges.n >= RT_SINK_PG_BATCH_BYTES ||
        bt->calls.oom || bt->charges.oom || bt->sids.oom || bt->calls.bad ||
        bt->charges.bad)
        return direct_send(dl, d);
    return 0;
}

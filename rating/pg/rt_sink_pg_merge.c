/*
 * The PostgreSQL sink's commit: the merge of staging into the final
 * tables, the run's input files and its totals.  The SQL is schema 008's
 * merge_* functions (read them there); this file calls them in order with
 * what only the rater knows: the files, what it staged and the sums it
 * kept.
 */
#include "rating/pg/rt_sink_pg_int.h"

#include "cdr/util/cdr_decimal.h"
#include "cdr/util/cdr_time.h"

#include <stdio.h>
#include <string.h>

/* One step: a call of a merge function; *out (may be NULL) its value. */
static int
step(PGconn *conn, const char *what, long *out, const char *sql, int nparams,
     const char *const *params, struct cdr_diag *d)
{
    PGresult *res =
        rt_pg_query(conn, sql, nparams, params, PGRES_TUPLES_OK, what, d);
    if (res == NULL)
        return CDR_E_DB;
    if (out != NULL) {
        *out = 0;
        if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
            (void)pgs_parse_long(PQgetvalue(res, 0, 0), out);
    }
    PQclear(res);
    return 0;
}

static int
was_seen(const struct pgs_merge_in *in, const char *sha)
{
    for (size_t i = 0; i < in->n_seen; i++)
        if (strcmp(in->seen[i], sha) == 0)
            return 1;
    return 0;
}

/* --force: the earlier loads of these contents are replaced. */
static int
replace_files(PGconn *conn, const struct pgs_facts *f, struct cdr_diag *d)
{
    struct rt_pg_buf arr;
    const char *params[2];
    int rc;
    rt_pg_buf_init(&arr);
    rt_pg_buf_add(&arr, "{", 1);
    for (size_t i = 0; i < f->n_files; i++)
        rt_pg_array_elem(&arr, f->files[i].sha256, strlen(f->files[i].sha256));
    rt_pg_buf_add(&arr, "}", 1);
    params[0] = f->run_id;
    params[1] = rt_pg_buf_cstr(&arr);
    rc = params[1] == NULL
             ? cdr_diag_set(d, CDR_E_NOMEM, NULL, NULL, 0, "out of memory")
             : step(conn, "replacing files (--force)", NULL,
                    "SELECT referee.merge_files_replace($1, $2)", 2, params, d);
    rt_pg_buf_free(&arr);
    return rc;
}

/* Record this run's input files (those not skipped) and map the driver's
 * file indexes to their ids; *skipped: files skipped. */
static int
store_files(PGconn *conn, const struct pgs_facts *f,
            const struct pgs_merge_in *in, long *skipped, struct cdr_diag *d)
{
    int rc = step(conn, "recording input files", NULL,
                  "SELECT referee.merge_files_open()", 0, NULL, d);
    *skipped = 0;
    if (rc == 0 && f->force)
        rc = replace_files(conn, f, d);
    for (size_t i = 0; i < f->n_files && rc == 0; i++) {
        const struct pgs_file *fl = &f->files[i];
        long direct_id = i < in->n_direct_file_ids ? in->direct_file_ids[i] : 0;
        char idx[24], size[24], rows[24], id[24];
        const char *params[7] = {f->run_id, idx,  fl->path, fl->sha256,
                                 size,      rows, NULL};
        if (fl->skipped || (!f->force && was_seen(in, fl->sha256))) {
            (*skipped)++;
            continue;
        }
        /* None recorded by the direct load (same content twice); or no
         * content hash (e.g. a reader that could not hash a pipe). */
        if (direct_id < 0 || (direct_id == 0 && strlen(fl->sha256) != 64))
            continue;
        snprintf(idx, sizeof idx, "%zu", i);
        snprintf(size, sizeof size, "%llu", (unsigned long long)fl->size);
        snprintf(rows, sizeof rows, "%ld", fl->rows);
        snprintf(id, sizeof id, "%ld", direct_id);
        params[6] = direct_id > 0 ? id : NULL;
        rc = step(conn, "recording input files", NULL,
                  "SELECT referee.merge_file($1, $2, $3, $4, $5, $6, $7)", 7,
                  params, d);
    }
    return rc;
}

/* Sums per scenario as merge_finish's parallel arrays (scenario,
 * components, amount) appended to a[0..2] (initialised by the caller, who
 * frees them on every path), amounts with the deck's decimals.  0,
 * or -1: memory ran out, or an amount is off that grid (sums of rounded
 * amounts never are; it would be an error, never a rounding). */
static int
sum_arrays(struct rt_pg_buf a[3], const long comp[RT_SCN_COUNT],
           const i128 nano[RT_SCN_COUNT], int decimals)
{
    int bad = 0;
    for (int i = 0; i < 3; i++)
        rt_pg_buf_add(&a[i], "{", 1);
    for (int k = 0; k < RT_SCN_COUNT && !bad; k++) {
        const char *name = rt_scenario_name((enum rt_scenario)k);
        char num[64];
        int nn;
        if (comp[k] == 0)
            continue;
        if (a[0].n > 1)
            for (int i = 0; i < 3; i++)
                rt_pg_buf_add(&a[i], ",", 1);
        rt_pg_buf_add(&a[0], name, strlen(name));
        nn = snprintf(num, sizeof num, "%ld", comp[k]);
        rt_pg_buf_add(&a[1], num, (size_t)nn);
        nn = cdr_decimal_format(nano[k], 9, decimals, num, sizeof num);
        bad = nn < 0;
        rt_pg_buf_add(&a[2], num, bad ? 0 : (size_t)nn);
    }
    for (int i = 0; i < 3; i++) {
        rt_pg_buf_add(&a[i], "}", 1);
        bad |= rt_pg_buf_cstr(&a[i]) == NULL;
    }
    return bad ? -1 : 0;
}

/* merge_finish's counts, $2 .. $10. */
static void
run_counts(char v[9][24], const struct rt_summary *sum,
           const struct rt_store_report *rep)
{
    long skipped = sum->skipped_files > rep->skipped_files ? sum->skipped_files
                                                           : rep->skipped_files;
    snprintf(v[0], 24, "%ld", sum->rows_read);
    snprintf(v[1], 24, "%ld", rep->calls);
    snprintf(v[2], 24, "%ld", rep->components);
    snprintf(v[3], 24, "%ld", sum->rejects + rep->duplicates);
    snprintf(v[4], 24, "%ld", sum->pending);
    snprintf(v[5], 24, "%ld", sum->duplicates + rep->duplicates);
    snprintf(v[6], 24, "%ld", skipped);
    snprintf(v[7], 24, "%ld", rep->superseded);
    snprintf(v[8], 24, "%lld", (long long)sum->elapsed_ms);
}

/* The sums merge_finish is given.  Nothing dropped (and the sums fit):
 * those kept while rating are the stored ones, and *total their total (no
 * second scan of staging).  Else only the direct load's (exact): the
 * stored staged calls are summed in SQL; *total is then empty. */
static int
finish_sums(const struct pgs_merge_in *in, const struct rt_store_report *rep,
            int decimals, struct rt_pg_buf a[3], char total[48])
{
    const struct pgs_rated *rt = in->rated;
    long comp[RT_SCN_COUNT] = {0};
    i128 nano[RT_SCN_COUNT] = {0};
    int64_t t = 0;
    int fast = rep->duplicates == 0 && !rt->overflow;
    for (int k = 0; k < RT_SCN_COUNT && fast; k++)
        if (rt->comp[k] != 0 && __builtin_add_overflow(t, rt->nano[k], &t))
            fast = 0;
    total[0] = '\0';
    for (int k = 0; k < RT_SCN_COUNT; k++) {
        if (fast) {
            comp[k] = rt->comp[k];
            nano[k] = rt->nano[k];
        } else if (in->direct != NULL) {
            comp[k] = in->direct->comp[k];
            nano[k] = in->direct->nano[k];
        }
    }
    if (fast && cdr_decimal_format(t, 9, decimals, total, 48) < 0)
        return -1;
    return sum_arrays(a, comp, nano, decimals);
}

/* The run's row: counts, and totals of what was stored (finish_sums). */
static int
finish_run(PGconn *conn, const struct pgs_facts *f,
           const struct pgs_merge_in *in, struct rt_store_report *rep,
           struct cdr_diag *d)
{
    char v[9][24], total[48];
    const char *params[14] = {f->run_id};
    struct rt_pg_buf a[3];
    PGresult *res = NULL;
    for (int i = 0; i < 3; i++)
        rt_pg_buf_init(&a[i]);
    int rc = finish_sums(in, rep, f->decimals, a, total);
    run_counts(v, in->sum, rep);
    for (int i = 0; i < 9; i++)
        params[i + 1] = v[i];
    for (int i = 0; i < 3; i++)
        params[i + 10] = a[i].p;
    params[13] = total[0] != '\0' ? total : NULL;
    if (rc != 0)
        cdr_diag_set(d, CDR_E_LIMIT, NULL, NULL, 0,
                     "run %s: the totals cannot be written exactly", f->run_id);
    else
        res = rt_pg_query(conn,
                          "SELECT referee.merge_finish($1, $2, $3, $4, $5,"
                          " $6, $7, $8, $9, $10, $11, $12, $13, $14)",
                          14, params, PGRES_TUPLES_OK,
                          "recording the run's totals", d);
    for (int i = 0; i < 3; i++)
        rt_pg_buf_free(&a[i]);
    if (res == NULL)
        return d->code != 0 ? d->code : CDR_E_DB;
    rc =
        PQntuples(res) != 1 || PQgetisnull(res, 0, 0) ||
        cdr_decimal_parse(PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0),
                          9, 9, 1, &rep->total_nano) != 0;
    PQclear(res);
    if (rc != 0)
        return cdr_diag_set(d, CDR_E_DB, NULL, NULL, 0,
                            "run %s: total out of range", f->run_id);
    return 0;
}

/* The run's sell totals (with plans).  Nothing dropped: the driver's sums
 * per currency are those of the rows stored.  Else merge_sell sums the
 * run's stored charges over the span of its calls. */
static int
finish_sell(PGconn *conn, const struct pgs_facts *f,
            const struct pgs_merge_in *in, const struct rt_store_report *rep,
            struct cdr_diag *d)
{
    const struct rt_summary *sum = in->sum;
    struct rt_pg_buf a[3];
    char lo[32], hi[32];
    const char *params[6] = {f->run_id, NULL, NULL, NULL, lo, hi};
    int bad = 0, rc;
    cdr_time_format(in->rated->min_start, lo, sizeof lo);
    cdr_time_format(in->rated->max_start, hi, sizeof hi);
    for (int i = 0; i < 3; i++) {
        rt_pg_buf_init(&a[i]);
        rt_pg_buf_add(&a[i], "{", 1);
    }
    for (size_t k = 0; k < sum->n_sell && rep->duplicates == 0 && !bad; k++) {
        const struct rt_sell_total *t = &sum->sell[k];
        char num[64];
        int nn;
        if (k > 0) /* (array_elem separates its own) */
            for (int i = 1; i < 3; i++)
                rt_pg_buf_add(&a[i], ",", 1);
        rt_pg_array_elem(&a[0], t->currency, strnlen(t->currency, 3));
        nn = snprintf(num, sizeof num, "%ld", t->components);
        rt_pg_buf_add(&a[1], num, (size_t)nn);
        nn =
            cdr_decimal_format(t->amount_nano, 9, t->decimals, num, sizeof num);
        bad = nn < 0;
        rt_pg_buf_add(&a[2], num, bad ? 0 : (size_t)nn);
    }
    for (int i = 0; i < 3; i++) {
        rt_pg_buf_add(&a[i], "}", 1);
        if (rep->duplicates == 0)
            params[i + 1] = rt_pg_buf_cstr(&a[i]);
        bad |= rep->duplicates == 0 && params[i + 1] == NULL;
    }
    rc = bad ? cdr_diag_set(d, CDR_E_LIMIT, NULL, NULL, 0,
                            "run %s: the sell totals cannot be written",
                            f->run_id)
             : step(conn, "recording the run's sell totals", NULL,
                    "SELECT referee.merge_sell($1, $2, $3, $4, $5, $6)", 6,
                    params, d);
    for (int i = 0; i < 3; i++)
        rt_pg_buf_free(&a[i]);
    return rc;
}

int
pgs_merge(PGconn *conn, const struct pgs_facts *f,
          const struct pgs_merge_in *in, struct rt_store_report *rep,
          struct cdr_diag *d)
{
    const struct pgs_direct_sums *dl = in->direct;
    const char *run[1] = {f->run_id};
    const char *sup[3] = {f->run_id, f->kind == RT_RUN_RERATE ? "t" : "f",
                          f->force ? "t" : "f"};
    const char *chg[3] = {f->run_id, f->currency, f->deck_name};
    char lo[32], hi[32], found[24], fed[24];
    const char *span[2] = {lo, hi}, *dup[2] = {f->run_id, found};
    const char *pend[3] = {f->run_id, in->pending_fed < 0 ? NULL : fed,
                           in->staged->pending > 0 ? "t" : "f"};
    int rc;

    memset(rep, 0, sizeof *rep);
    cdr_time_format(in->rated->min_start, lo, sizeof lo);
    cdr_time_format(in->rated->max_start, hi, sizeof hi);
    snprintf(found, sizeof found, "%ld", dl != NULL ? dl->duplicates : 0);
    snprintf(fed, sizeof fed, "%ld", in->pending_fed);
    rc = store_files(conn, f, in, &rep->skipped_files, d);
    if (rc == 0)
        rc = step(conn, "analysing staged rows", NULL,
                  "SELECT referee.stage_analyze()", 0, NULL, d);
    if (rc == 0 && in->rated->n > 0)
        rc = step(conn, "creating monthly partitions", NULL,
                  "SELECT referee.ensure_partitions($1, $2)", 2, span, d);
    if (rc == 0)
        rc = step(conn, "superseding replaced calls", &rep->superseded,
                  "SELECT referee.merge_supersede($1, $2, $3)", 3, sup, d);
    if (rc == 0)
        rc = step(conn, "finding calls rated by earlier runs", &rep->duplicates,
                  "SELECT referee.merge_duplicates($1, $2)", 2, dup, d);
    if (rc == 0)
        rc = step(conn, "storing calls", &rep->calls,
                  "SELECT referee.merge_calls($1)", 1, run, d);
    if (rc == 0)
        rc = step(conn, "storing charges", &rep->components,
                  "SELECT referee.merge_charges($1, $2, $3)", 3, chg, d);
    if (rc == 0 && f->force)
        rc = step(conn, "relabelling replaced parents", NULL,
                  "SELECT referee.merge_relabel_replaced($1)", 1, run, d);
    if (rc == 0 && in->staged->relabel > 0)
        rc = step(conn, "relabelling stored parents", NULL,
                  "SELECT referee.merge_relabel()", 0, NULL, d);
    if (rc == 0 && in->staged->reject > 0)
        rc = step(conn, "storing rejects", NULL,
                  "SELECT referee.merge_rejects($1)", 1, run, d);
    if (rc == 0)
        rc = step(conn, "moving pending calls", NULL,
                  "SELECT referee.merge_pending($1, $2, $3)", 3, pend, d);
    if (rc != 0)
        return rc;
    if (dl != NULL) {
        rep->calls += dl->calls;
        rep->components += dl->components;
    }
    rc = finish_run(conn, f, in, rep, d);
    if (rc == 0 && f->plans)
        rc = finish_sell(conn, f, in, rep, d);
    if (rc == 0)
        (void)pgs_parse_long(f->run_id, &rep->run_id);
    return rc;
}

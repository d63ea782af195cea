/*
 * The PostgreSQL sink's commit: the merge of staging into the final
 * tables, the run's input files and its totals.  The SQL is schema 008's
 * merge_* functions (read them there); this file calls them in order with
 * what only the rater knows: the files, what it staged and the sums it
 * kept.
 */
#include "rating/pg/rt_sink_pg_int.h"

#include "cdr/util/cdr_parse.h"

#include <stdio.h>
#include <string.h>

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

/* Parallel arrays scenario, components, amount of the sums kept, for
 * merge_finish: p[0..2] (NULL after an allocation failure). */
static void
sum_arrays(struct rt_pg_buf a[3], const long comp[RT_SCN_COUNT],
           const int64_t *nano, const i128 *nano128, int decimals,
           const char *p[3])
{
    int first = 1;
    for (int i = 0; i < 3; i++) {
        rt_pg_buf_init(&a[i]);
        rt_pg_buf_add(&a[i], "{", 1);
    }
    for (int k = 0; k < RT_SCN_COUNT; k++) {
        const char *name = rt_scenario_name((enum rt_scenario)k);
        char num[64];
        int nn;
        if (comp[k] == 0)
            continue;
        if (!first)
            for (int i = 0; i < 3; i++)
                rt_pg_buf_add(&a[i], ",", 1);
        first = 0;
        rt_pg_buf_add(&a[0], name, strlen(name));
        nn = snprintf(num, sizeof num, "%ld", comp[k]);
        rt_pg_buf_add(&a[1], num, (size_t)nn);
        if (nano != NULL)
            rt_pg_format_nano(nano[k], decimals, num, sizeof num);
        else
            format_i128(nano128[k], decimals, num, sizeof num);
        rt_pg_buf_add(&a[2], num, strlen(num));
    }
    for (int i = 0; i < 3; i++) {
        rt_pg_buf_add(&a[i], "}", 1);
        p[i] = rt_pg_buf_cstr(&a[i]);
    }
}

/* The run's row: counts, and totals of what was stored.  Nothing dropped
 * (and the sums fit): the sums kept while rating are the stored ones (no
 * second scan of staging).  Else the stored staged calls are summed in
 * SQL and the direct load's sums (exact) added. */
static int
finish_run(PGconn *conn, const struct pgs_facts *f,
           const struct pgs_merge_in *in, struct rt_store_report *rep,
           struct cdr_diag *d)
{
    static const long none[RT_SCN_COUNT];
    static const i128 zero[RT_SCN_COUNT];
    const struct rt_summary *sum = in->sum;
    const struct pgs_rated *rt = in->rated;
    char v[10][40];
    const char *params[14];
    struct rt_pg_buf a[3];
    int64_t t = 0;
    int fast = rep->duplicates == 0 && !rt->overflow, rc;
    PGresult *res;
    for (int k = 0; k < RT_SCN_COUNT && fast; k++)
        if (rt->comp[k] != 0 && __builtin_add_overflow(t, rt->nano[k], &t))
            fast = 0;
    snprintf(v[0], 40, "%ld", sum->rows_read);
    snprintf(v[1], 40, "%ld", rep->calls);
    snprintf(v[2], 40, "%ld", rep->components);
    snprintf(v[3], 40, "%ld", sum->rejects + rep->duplicates);
    snprintf(v[4], 40, "%ld", sum->pending);
    snprintf(v[5], 40, "%ld", sum->duplicates + rep->duplicates);
    snprintf(v[6], 40, "%ld",
             sum->skipped_files > rep->skipped_files ? sum->skipped_files
                                                     : rep->skipped_files);
    snprintf(v[7], 40, "%ld", rep->superseded);
    snprintf(v[8], 40, "%lld", (long long)sum->elapsed_ms);
    rt_pg_format_nano(t, f->decimals, v[9], 40);
    params[0] = f->run_id;
    for (int i = 0; i < 9; i++)
        params[i + 1] = v[i];
    if (fast)
        sum_arrays(a, rt->comp, rt->nano, NULL, f->decimals, params + 10);
    else
        sum_arrays(a, in->direct != NULL ? in->direct->comp : none, NULL,
                   in->direct != NULL ? in->direct->nano : zero, f->decimals,
                   params + 10);
    params[13] = fast ? v[9] : NULL;
    res = params[10] == NULL || params[11] == NULL || params[12] == NULL
              ? NULL
              : rt_pg_query(conn,
                            "SELECT referee.merge_finish($1, $2, $3, $4, $5,"
                            " $6, $7, $8, $9, $10, $11, $12, $13, $14)",
                            14, params, PGRES_TUPLES_OK,
                            "recording the run's totals", d);
    if (params[10] == NULL || params[11] == NULL || params[12] == NULL)
        cdr_diag_set(d, CDR_E_NOMEM, NULL, NULL, 0, "out of memory");
    for (int i = 0; i < 3; i++)
        rt_pg_buf_free(&a[i]);
    if (res == NULL)
        return d->code != 0 ? d->code : CDR_E_DB;
    rc = PQntuples(res) != 1 || PQgetisnull(res, 0, 0) ||
         cdr_parse_decimal_nano(PQgetvalue(res, 0, 0),
                                PQgetvalue(res, 0, 0) + PQgetlength(res, 0, 0),
                                &rep->total_nano) != 0;
    PQclear(res);
    if (rc != 0)
        return cdr_diag_set(d, CDR_E_DB, NULL, NULL, 0,
                            "run %s: total out of range", f->run_id);
    return 0;
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
    cdr_format_time(in->rated->min_start, lo, sizeof lo);
    cdr_format_time(in->rated->max_start, hi, sizeof hi);
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
    if (rc == 0)
        (void)pgs_parse_long(f->run_id, &rep->run_id);
    return rc;
}

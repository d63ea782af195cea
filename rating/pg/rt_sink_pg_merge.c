/*
 * The PostgreSQL sink's commit: the merge of staging into the final
 * tables, the run's input files and its totals, all in SQL.
 */
#include "rating/pg/rt_sink_pg_int.h"

#include "cdr/util/cdr_parse.h"

#include <stdio.h>
#include <string.h>

/* ---- commit: the merge ---------------------------------------------- */

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

static int
was_seen(const struct pg_sink *s, const char *sha)
{
    for (size_t i = 0; i < s->n_seen; i++)
        if (strcmp(s->seen[i], sha) == 0)
            return 1;
    return 0;
}

int
pgs_step(struct pg_sink *s, const char *sql, int nparams,
         const char *const *params, const char *what, long *affected,
         struct cdr_diag *d)
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
            (void)pgs_parse_long(t, &v);
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
    rc = pgs_step(
        s,
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
                 : pgs_step(
                       s,
                       "CREATE TEMP TABLE referee_old_files ON COMMIT DROP AS"
                       " SELECT file_id FROM referee.input_files"
                       " WHERE sha256 = ANY ($2::text[])"
                       " AND superseded_by_run IS NULL AND run_id <> $1",
                       2, params, "finding files to replace", NULL, d);
        rt_pg_buf_free(&arr);
        if (rc == 0)
            rc = pgs_step(
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
            rc = pgs_step(
                s,
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

int
pgs_merge(struct pg_sink *s, const struct rt_summary *sum,
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
    rc = pgs_step(s, "ANALYZE pg_temp.referee_stg (kind, sid)", 0, NULL,
                  "analysing staged rows", NULL, d);
    if (rc == 0 && s->n_rated > 0) {
        char lo[32], hi[32];
        const char *params[2] = {lo, hi};
        cdr_format_time(s->min_start, lo, sizeof lo);
        cdr_format_time(s->max_start, hi, sizeof hi);
        rc = pgs_step(s, "SELECT referee.ensure_partitions($1, $2)", 2, params,
                      "creating monthly partitions", NULL, d);
    }
    if (rc != 0)
        return rc;

    /* Rows this run replaces: for a rerate every stored call it re-priced;
     * with --force every call of a file loaded again. */
    rc = pgs_step(s,
                  "CREATE TEMP TABLE referee_old (call_sid text COLLATE \"C\","
                  " start_time"
                  " timestamptz, file_id bigint, source_file text,"
                  " source_line bigint) ON COMMIT DROP",
                  0, NULL, "merging", NULL, d);
    if (rc == 0 && (s->kind == RT_RUN_RERATE || s->force))
        rc = pgs_step(
            s,
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
        rc = pgs_step(s,
                      "DELETE FROM referee.call_sids r USING referee_old o"
                      " WHERE r.call_sid = o.call_sid",
                      0, NULL, "superseding replaced calls", NULL, d);
    if (rc == 0 && (s->kind == RT_RUN_RERATE || s->force))
        rc = pgs_step(s,
                      "UPDATE referee.charges g SET superseded_by_run = $1"
                      " FROM referee_old o WHERE g.call_sid = o.call_sid"
                      " AND g.start_time = o.start_time"
                      " AND g.superseded_by_run IS NULL",
                      1, run, "superseding replaced charges", &superseded, d);
    if (rc == 0 && s->force)
        rc = pgs_step(
            s,
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
    rc = pgs_step(s,
                  "CREATE TEMP TABLE referee_dup ON COMMIT DROP AS"
                  " SELECT DISTINCT ON (s.sid) s.sid, r.run_id"
                  " FROM pg_temp.referee_stg s JOIN referee.call_sids r"
                  " ON r.call_sid = s.sid"
                  " WHERE s.kind IN ('C', 'P') AND r.run_id <> $1::bigint"
                  " ORDER BY s.sid, r.run_id",
                  1, run, "finding calls rated by earlier runs",
                  &rep->duplicates, d);
    rep->duplicates += s->n_ddup;
    if (rc == 0 && rep->duplicates > 0)
        rc = pgs_step(
            s,
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
    rc = pgs_step(
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
        rc = pgs_step(
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
        rc = pgs_step(
            s,
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
        rc = pgs_step(
            s,
            "UPDATE referee.calls c SET leg = s.leg, scenario = s.scenario"
            " FROM pg_temp.referee_stg s WHERE s.kind = 'L'"
            " AND c.call_sid = s.sid AND c.superseded_by_run IS NULL",
            0, NULL, "relabelling stored parents", &n, d);
    if (rc == 0 && n > 0)
        rc = pgs_step(s,
                      "UPDATE referee.charges c SET leg = s.leg,"
                      " scenario = s.scenario FROM pg_temp.referee_stg s"
                      " WHERE s.kind = 'L' AND c.call_sid = s.sid"
                      " AND c.superseded_by_run IS NULL",
                      0, NULL, "relabelling stored parents", NULL, d);
    if (rc == 0 && s->n_reject > 0)
        rc = pgs_step(
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
        rc = pgs_step(
            s,
            "CREATE TEMP TABLE referee_gone (call_sid text COLLATE \"C\","
            " first_run_id bigint, file_id bigint, source_file text,"
            " source_line bigint) ON COMMIT DROP",
            0, NULL, "moving pending calls", NULL, d);
    else
        rc = pgs_step(s,
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
        rc = pgs_step(
            s,
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
    (void)pgs_parse_long(s->run_id, &rep->run_id);
    rep->superseded = superseded;
    return 0;
}

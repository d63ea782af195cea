-- 008_merge_functions.sql: a run's staging table and the merge of its
-- commit, as functions of the database; staged rows' kinds get names.
--
-- What a rate run cannot load straight into the final tables (rejects,
-- pending children, relabelled parents, rows re-fed from the store, every
-- row of a --rerate or --force run) is streamed by COPY into a TEMP table,
-- referee_stg (stage_create()).  At commit the rater merges it into the
-- final tables by calling, in the run's transaction and in this order:
--
--   merge_files_open()                 the run's input files: a map of the
--   merge_files_replace(run, sha256s)    rater's file indexes to file ids;
--   merge_file(run, index, ...)          --force replaces the earlier loads
--   stage_analyze()                    statistics for the joins below
--   ensure_partitions(from, to)        (001) the months of the staged calls
--   merge_supersede(run, rerate, force)  rows that a rerate or --force
--                                        replaces
--   merge_duplicates(run, found)       sids rated by an earlier run: listed
--                                        in rejects, not stored
--   merge_calls(run)                   calls and the sid register
--   merge_charges(run, currency, deck) charges
--   merge_relabel_replaced(run)        (--force) a replaced parent whose
--                                        child is stored stays a parent
--   merge_relabel(run)                 stored parents of this run's children
--   merge_rejects(run)                 rejects
--   merge_pending(run, fed, staged)    children that leave or (re)enter
--                                        pending
--   merge_finish(run, ...)             the run's row: counts and totals
--
-- Until version 7 these statements were built by the rater in C; they are
-- the same statements, one function per step, so that a step can be read,
-- and run by hand from psql inside a transaction that staged rows.  They
-- are SECURITY INVOKER: they act with the writer's rights, as the rater's
-- statements did.  force_custom_plan: each call is planned with its own
-- arguments, as the rater's one-off statements were (a cached generic plan
-- could pick nested loops for a night of a million staged rows).
--
-- Kinds of staged rows (they were one letter: C, L, R, P, D):
--   rated      a rated call with its (up to two) components inline
--   relabel    a parent rated by an earlier run: only leg and scenario
--              change
--   reject     a reject
--   pending    a child waiting for its parent
--   duplicate  a call of the direct load rated by an earlier run (r_field:
--              that run's id): listed in rejects as a duplicate

CREATE TYPE referee.staged AS ENUM
    ('rated', 'relabel', 'reject', 'pending', 'duplicate');

-- One table means one COPY stream for what is staged.  Its columns are
-- the rater's COPY rows, in order.
CREATE FUNCTION referee.stage_create()
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    CREATE TEMP TABLE referee_stg (
        kind referee.staged NOT NULL, sid text COLLATE "C",
        parent_call_sid text COLLATE "C", account_sid text,
        trunk_sid text, direction text, "from" text, "to" text,
        start_time timestamptz, end_time timestamptz, duration bigint,
        status text, price numeric, price_unit text, transfer_target text,
        transfer_status text, leg text, scenario text, file_index integer,
        src_file text, src_line bigint,
        c1_service text, c1_from text, c1_to text, c1_matched text,
        c1_rate numeric, c1_duration bigint, c1_billable bigint,
        c1_amount numeric,
        c2_service text, c2_from text, c2_to text, c2_matched text,
        c2_rate numeric, c2_duration bigint, c2_billable bigint,
        c2_amount numeric,
        r_field text, r_reason text, r_code integer, r_raw text
    ) ON COMMIT DROP;
END;
$$;

-- Temp tables have no statistics until analysed: the joins of the merge
-- need them to pick hash joins on big runs.
CREATE FUNCTION referee.stage_analyze()
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    ANALYZE pg_temp.referee_stg (kind, sid);
END;
$$;

-- The rater's file indexes and the ids of the files this run recorded.
CREATE FUNCTION referee.merge_files_open()
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    CREATE TEMP TABLE referee_files (file_index integer PRIMARY KEY,
        file_id bigint NOT NULL) ON COMMIT DROP;
END;
$$;

-- --force: the current loads of these contents (referee_old_files) are
-- superseded by this run.
CREATE FUNCTION referee.merge_files_replace(p_run bigint, p_sha256 text[])
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_custom_plan
AS $$
BEGIN
    CREATE TEMP TABLE referee_old_files ON COMMIT DROP AS
    SELECT file_id FROM referee.input_files
    WHERE sha256 = ANY (p_sha256)
      AND superseded_by_run IS NULL AND run_id <> p_run;
    UPDATE referee.input_files SET superseded_by_run = p_run
    WHERE file_id IN (SELECT file_id FROM referee_old_files);
END;
$$;

-- Record one input file of this run (the rater skips those skipped, and
-- those without a content hash: such a file cannot be recognised again;
-- its sids are still checked).  p_file_id: the file as the direct load
-- recorded it, rows 0: its final path, size and rows.
CREATE FUNCTION referee.merge_file(p_run bigint, p_index integer,
                                   p_path text, p_sha256 text,
                                   p_size bigint, p_rows bigint,
                                   p_file_id bigint)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_custom_plan
AS $$
BEGIN
    IF p_file_id IS NOT NULL THEN
        WITH f AS (UPDATE referee.input_files SET path = p_path,
                          size_bytes = p_size, rows = p_rows
                   WHERE file_id = p_file_id RETURNING file_id)
        INSERT INTO referee_files SELECT p_index, file_id FROM f;
    ELSE
        -- The same content twice in one run is recorded once.
        WITH f AS (INSERT INTO referee.input_files
                       (run_id, path, sha256, size_bytes, rows)
                   VALUES (p_run, p_path, p_sha256, p_size, p_rows)
                   ON CONFLICT (sha256) WHERE superseded_by_run IS NULL
                   DO NOTHING
                   RETURNING file_id)
        INSERT INTO referee_files SELECT p_index, file_id FROM f;
    END IF;
END;
$$;

-- Rows this run replaces (referee_old): for a rerate every stored call it
-- re-priced; with --force every call of a file loaded again.  They and
-- their charges (and, --force, the files' rejects) are superseded, their
-- sids leave the register.  Returns the charge rows superseded.
CREATE FUNCTION referee.merge_supersede(p_run bigint, p_rerate boolean,
                                        p_force boolean)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_custom_plan
AS $$
DECLARE
    n bigint;
BEGIN
    CREATE TEMP TABLE referee_old (call_sid text COLLATE "C",
        start_time timestamptz, file_id bigint, source_file text,
        source_line bigint) ON COMMIT DROP;
    IF NOT (p_rerate OR p_force) THEN
        RETURN 0;
    END IF;
    IF p_rerate THEN
        WITH u AS (UPDATE referee.calls c
                   SET superseded_by_run = p_run FROM pg_temp.referee_stg s
                   WHERE s.kind = 'rated' AND c.call_sid = s.sid
                     AND c.superseded_by_run IS NULL
                   RETURNING c.call_sid, c.start_time, c.file_id,
                             c.source_file, c.source_line)
        INSERT INTO referee_old SELECT * FROM u;
    ELSE
        -- every call of the old load, whatever became of it this time (a
        -- scan: --force is a manual fix)
        WITH u AS (UPDATE referee.calls c
                   SET superseded_by_run = p_run
                   WHERE c.superseded_by_run IS NULL AND c.file_id IN
                         (SELECT file_id FROM referee_old_files)
                   RETURNING c.call_sid, c.start_time, c.file_id,
                             c.source_file, c.source_line)
        INSERT INTO referee_old SELECT * FROM u;
    END IF;
    DELETE FROM referee.call_sids r USING referee_old o
    WHERE r.call_sid = o.call_sid;
    UPDATE referee.charges g SET superseded_by_run = p_run
    FROM referee_old o WHERE g.call_sid = o.call_sid
      AND g.start_time = o.start_time
      AND g.superseded_by_run IS NULL;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF p_force THEN
        UPDATE referee.rejects SET superseded_by_run = p_run
        WHERE superseded_by_run IS NULL AND run_id IN
              (SELECT run_id FROM referee.input_files WHERE file_id IN
               (SELECT file_id FROM referee_old_files))
          AND file IN (SELECT path FROM referee.input_files
                       WHERE file_id IN
                       (SELECT file_id FROM referee_old_files));
    END IF;
    RETURN n;
END;
$$;

-- Exactly once: a sid with a current call from an earlier run is not
-- billed again (referee_dup); it is listed in rejects as a duplicate, and
-- so are the duplicate rows the direct load found (p_found of them).
-- Returns the duplicates, both kinds.
CREATE FUNCTION referee.merge_duplicates(p_run bigint, p_found bigint)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_custom_plan
AS $$
DECLARE
    n bigint;
BEGIN
    CREATE TEMP TABLE referee_dup ON COMMIT DROP AS
    SELECT DISTINCT ON (s.sid) s.sid, r.run_id
    FROM pg_temp.referee_stg s JOIN referee.call_sids r
      ON r.call_sid = s.sid
    WHERE s.kind IN ('rated', 'pending') AND r.run_id <> p_run
    ORDER BY s.sid, r.run_id;
    GET DIAGNOSTICS n = ROW_COUNT;
    n := n + p_found;
    IF n > 0 THEN
        INSERT INTO referee.rejects (run_id, file, line, call_sid, field,
                                     reason, code)
        SELECT p_run, s.src_file, s.src_line, s.sid, 'sid',
               format('duplicate call sid: already rated in run %s "%s"',
                      d.run_id, s.sid), -10
        FROM pg_temp.referee_stg s JOIN referee_dup d ON d.sid = s.sid
        WHERE s.kind IN ('rated', 'pending')
        UNION ALL
        SELECT p_run, src_file, src_line, sid, 'sid',
               format('duplicate call sid: already rated in run %s "%s"',
                      r_field, sid), -10
        FROM pg_temp.referee_stg WHERE kind = 'duplicate';
    END IF;
    RETURN n;
END;
$$;

-- The staged rated calls, and their sids into the register.  Its primary
-- key is the database's own guarantee: a sid stored twice fails the run
-- rather than bill twice.  Returns the calls stored.
CREATE FUNCTION referee.merge_calls(p_run bigint)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_custom_plan
AS $$
DECLARE
    n bigint;
BEGIN
    WITH ins AS (
        INSERT INTO referee.calls (call_sid, start_time, run_id, file_id,
            source_file, source_line, parent_call_sid, account_sid,
            trunk_sid, direction, "from", "to", end_time, duration,
            status, price, price_unit, transfer_target, transfer_status,
            leg, scenario)
        SELECT s.sid, s.start_time, p_run,
               coalesce(f.file_id, o.file_id, p.file_id),
               -- rows re-fed from the store keep where they came from
               CASE WHEN s.file_index IS NOT NULL THEN s.src_file
                    WHEN o.call_sid IS NOT NULL THEN o.source_file
                    WHEN p.call_sid IS NOT NULL THEN p.source_file
                    ELSE s.src_file END,
               CASE WHEN s.file_index IS NOT NULL THEN s.src_line
                    WHEN o.call_sid IS NOT NULL THEN o.source_line
                    WHEN p.call_sid IS NOT NULL THEN p.source_line
                    ELSE s.src_line END,
               s.parent_call_sid, s.account_sid, s.trunk_sid,
               s.direction, s."from", s."to", s.end_time, s.duration,
               s.status, s.price, s.price_unit, s.transfer_target,
               s.transfer_status, s.leg, s.scenario
        FROM pg_temp.referee_stg s
        LEFT JOIN referee_files f ON f.file_index = s.file_index
        LEFT JOIN referee_old o ON o.call_sid = s.sid
        LEFT JOIN referee.pending p ON p.call_sid = s.sid
        WHERE s.kind = 'rated'
          AND NOT EXISTS (SELECT 1 FROM referee_dup x WHERE x.sid = s.sid)
        RETURNING call_sid, start_time)
    INSERT INTO referee.call_sids (call_sid, start_time, run_id)
    SELECT call_sid, start_time, p_run FROM ins;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END;
$$;

-- The staged rated calls' components, one charge row each.  Returns the
-- charge rows stored.
CREATE FUNCTION referee.merge_charges(p_run bigint, p_currency text,
                                      p_deck text)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_custom_plan
AS $$
DECLARE
    n bigint;
BEGIN
    INSERT INTO referee.charges (call_sid, start_time, run_id,
        parent_call_sid, account_sid, trunk_sid, leg, scenario,
        component, service, "from", "to", matched_prefix, rate,
        duration, billable_seconds, amount, currency, deck,
        carrier_price, carrier_price_unit)
    SELECT s.sid, s.start_time, p_run, s.parent_call_sid,
           s.account_sid, s.trunk_sid, s.leg, s.scenario, v.component,
           v.service, v.f, v.t, v.matched, v.rate, v.duration, v.billable,
           v.amount, p_currency, p_deck, s.price, s.price_unit
    FROM pg_temp.referee_stg s CROSS JOIN LATERAL (VALUES
        (1, s.c1_service, s.c1_from, s.c1_to, s.c1_matched, s.c1_rate,
         s.c1_duration, s.c1_billable, s.c1_amount),
        (2, s.c2_service, s.c2_from, s.c2_to, s.c2_matched, s.c2_rate,
         s.c2_duration, s.c2_billable, s.c2_amount))
        v(component, service, f, t, matched, rate, duration, billable,
          amount)
    WHERE s.kind = 'rated' AND v.service IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM referee_dup x WHERE x.sid = s.sid);
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END;
$$;

-- --force: a replaced parent whose child came in another file (stored,
-- not in this input) was rated as a single call; its charge is the same,
-- but it keeps its label as the child's parent.
CREATE FUNCTION referee.merge_relabel_replaced(p_run bigint)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_custom_plan
AS $$
BEGIN
    WITH r AS (UPDATE referee.calls p SET leg = 'parent',
                      scenario = k.scenario
               FROM referee_old o, referee.calls k
               WHERE o.call_sid = p.call_sid AND p.run_id = p_run
                 AND p.superseded_by_run IS NULL AND p.leg = 'single'
                 AND k.parent_call_sid = p.call_sid
                 AND k.superseded_by_run IS NULL AND k.leg = 'child'
               RETURNING p.call_sid, p.start_time, p.scenario)
    UPDATE referee.charges g SET leg = 'parent', scenario = r.scenario
    FROM r WHERE g.call_sid = r.call_sid AND g.start_time = r.start_time
      AND g.run_id = p_run;
END;
$$;

-- Parents rated by an earlier run, now known to have a child.
CREATE FUNCTION referee.merge_relabel()
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_custom_plan
AS $$
DECLARE
    n bigint;
BEGIN
    UPDATE referee.calls c SET leg = s.leg, scenario = s.scenario
    FROM pg_temp.referee_stg s WHERE s.kind = 'relabel'
      AND c.call_sid = s.sid AND c.superseded_by_run IS NULL;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n > 0 THEN
        UPDATE referee.charges c SET leg = s.leg, scenario = s.scenario
        FROM pg_temp.referee_stg s WHERE s.kind = 'relabel'
          AND c.call_sid = s.sid AND c.superseded_by_run IS NULL;
    END IF;
END;
$$;

CREATE FUNCTION referee.merge_rejects(p_run bigint)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_custom_plan
AS $$
BEGIN
    INSERT INTO referee.rejects (run_id, file, line, call_sid, field,
                                 reason, code, raw)
    SELECT p_run, src_file, src_line, sid, r_field, r_reason, r_code, r_raw
    FROM pg_temp.referee_stg WHERE kind = 'reject';
END;
$$;

-- Pending children: every one this run rated, rejected or re-pended
-- leaves (referee_gone), the re-pended come back (keeping when they first
-- came).  p_fed: the pending rows handed to the rater (0: nothing was
-- pending, nothing leaves; NULL: not asked); p_staged: whether it staged
-- any pending row.
CREATE FUNCTION referee.merge_pending(p_run bigint, p_fed bigint,
                                      p_staged boolean)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_custom_plan
AS $$
BEGIN
    IF p_fed = 0 THEN
        CREATE TEMP TABLE referee_gone (call_sid text COLLATE "C",
            first_run_id bigint, file_id bigint, source_file text,
            source_line bigint) ON COMMIT DROP;
    ELSE
        CREATE TEMP TABLE referee_gone ON COMMIT DROP AS
        WITH g AS (DELETE FROM referee.pending p USING
                       (SELECT DISTINCT sid FROM pg_temp.referee_stg
                        WHERE kind IN ('rated', 'reject', 'pending')
                          AND sid IS NOT NULL) s
                   WHERE p.call_sid = s.sid
                   RETURNING p.call_sid, p.first_run_id, p.file_id,
                             p.source_file, p.source_line)
        SELECT * FROM g;
    END IF;
    IF NOT p_staged THEN
        RETURN;
    END IF;
    INSERT INTO referee.pending (call_sid, parent_call_sid, first_run_id,
        run_id, file_id, source_file, source_line, account_sid,
        trunk_sid, direction, "from", "to", start_time, end_time,
        duration, status, price, price_unit, transfer_target,
        transfer_status)
    SELECT DISTINCT ON (s.sid) s.sid, s.parent_call_sid,
           coalesce(g.first_run_id, p_run), p_run,
           coalesce(f.file_id, g.file_id),
           CASE WHEN f.file_id IS NULL AND g.call_sid IS NOT NULL
                THEN g.source_file ELSE s.src_file END,
           CASE WHEN f.file_id IS NULL AND g.call_sid IS NOT NULL
                THEN g.source_line ELSE s.src_line END,
           s.account_sid, s.trunk_sid, s.direction, s."from", s."to",
           s.start_time, s.end_time, s.duration, s.status, s.price,
           s.price_unit, s.transfer_target, s.transfer_status
    FROM pg_temp.referee_stg s
    LEFT JOIN referee_gone g ON g.call_sid = s.sid
    LEFT JOIN referee_files f ON f.file_index = s.file_index
    WHERE s.kind = 'pending'
      AND NOT EXISTS (SELECT 1 FROM referee_dup x WHERE x.sid = s.sid)
    ORDER BY s.sid;
END;
$$;

-- The run's row: committed, its counts, its totals.  p_scenario,
-- p_components and p_amount are sums per scenario the rater kept.  With
-- p_total (nothing was dropped, and the sums fit) they are those of every
-- call stored, in the rater's order of scenarios, and p_total their total:
-- no second scan of staging.  Without, they are those of the direct load
-- only (exact), and the staged calls stored are summed here.  Returns the
-- run's total as stored.
CREATE FUNCTION referee.merge_finish(p_run bigint, p_rows_read bigint,
    p_calls bigint, p_components bigint, p_rejects bigint,
    p_pending bigint, p_duplicates bigint, p_skipped_files bigint,
    p_superseded bigint, p_elapsed_ms bigint, p_scenario text[],
    p_scenario_components bigint[], p_scenario_amount numeric[],
    p_total numeric)
RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_custom_plan
AS $$
DECLARE
    v_total  numeric;
    v_totals jsonb;
    v_out    text;
BEGIN
    IF p_total IS NOT NULL THEN
        SELECT coalesce(jsonb_agg(jsonb_build_object('scenario', t.s,
                   'components', t.c, 'amount', t.a) ORDER BY t.i), '[]')
        INTO v_totals
        FROM unnest(p_scenario, p_scenario_components, p_scenario_amount)
             WITH ORDINALITY t(s, c, a, i);
        v_total := p_total;
    ELSE
        WITH t0 AS (
            SELECT s.scenario, count(*) AS components,
                   sum(v.amount) AS amount
            FROM pg_temp.referee_stg s CROSS JOIN LATERAL
                 (VALUES (s.c1_amount), (s.c2_amount)) v(amount)
            WHERE s.kind = 'rated' AND v.amount IS NOT NULL
              AND NOT EXISTS
                  (SELECT 1 FROM referee_dup x WHERE x.sid = s.sid)
            GROUP BY s.scenario
            UNION ALL
            SELECT * FROM unnest(p_scenario, p_scenario_components,
                                 p_scenario_amount)),
        t AS (SELECT scenario, sum(components)::bigint AS components,
                     sum(amount) AS amount
              FROM t0 GROUP BY scenario)
        SELECT coalesce(sum(amount), 0),
               coalesce(jsonb_agg(jsonb_build_object('scenario', scenario,
                   'components', components, 'amount', amount)
                   ORDER BY scenario), '[]')
        INTO v_total, v_totals
        FROM t;
    END IF;
    UPDATE referee.runs r SET status = 'committed',
           finished_at = clock_timestamp(), rows_read = p_rows_read,
           calls = p_calls, components = p_components,
           rejects = p_rejects, pending = p_pending,
           duplicates = p_duplicates, skipped_files = p_skipped_files,
           superseded = p_superseded, elapsed_ms = p_elapsed_ms,
           total_amount = v_total, totals = v_totals
    WHERE r.run_id = p_run
    RETURNING r.total_amount::text INTO v_out;
    RETURN v_out;
END;
$$;

REVOKE ALL ON FUNCTION referee.stage_create(), referee.stage_analyze(),
    referee.merge_files_open(),
    referee.merge_files_replace(bigint, text[]),
    referee.merge_file(bigint, integer, text, text, bigint, bigint, bigint),
    referee.merge_supersede(bigint, boolean, boolean),
    referee.merge_duplicates(bigint, bigint), referee.merge_calls(bigint),
    referee.merge_charges(bigint, text, text),
    referee.merge_relabel_replaced(bigint), referee.merge_relabel(),
    referee.merge_rejects(bigint),
    referee.merge_pending(bigint, bigint, boolean),
    referee.merge_finish(bigint, bigint, bigint, bigint, bigint, bigint,
        bigint, bigint, bigint, bigint, text[], bigint[], numeric[], numeric)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION referee.stage_create(), referee.stage_analyze(),
    referee.merge_files_open(),
    referee.merge_files_replace(bigint, text[]),
    referee.merge_file(bigint, integer, text, text, bigint, bigint, bigint),
    referee.merge_supersede(bigint, boolean, boolean),
    referee.merge_duplicates(bigint, bigint), referee.merge_calls(bigint),
    referee.merge_charges(bigint, text, text),
    referee.merge_relabel_replaced(bigint), referee.merge_relabel(),
    referee.merge_rejects(bigint),
    referee.merge_pending(bigint, bigint, boolean),
    referee.merge_finish(bigint, bigint, bigint, bigint, bigint, bigint,
        bigint, bigint, bigint, bigint, text[], bigint[], numeric[], numeric)
    TO referee_writer;

-- 007_own_detached_months.sql: a run attaches only the month tables it
-- created itself.
--
-- open_months() took any plain table named like a month partition
-- (calls_yYYYYmMM) for one of its own, and attach_loaded() attached every
-- such table: a month an operator detached (to archive it) would have
-- received the run's rows and been attached again, or failed every run
-- that opened a new month.  A run's own tables carry the CHECK constraint
-- <table>_month, created with them in the run's transaction and dropped
-- when they are attached; a plain table without it is now refused with a
-- message that says what to do, and never attached.

CREATE OR REPLACE FUNCTION referee.open_months(p_from timestamptz,
                                               p_to timestamptz)
RETURNS TABLE (suffix text, detached boolean)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    m       timestamp;
    last    timestamp;
    lo      timestamptz;
    hi      timestamptz;
    tbl     text;
    name    text;
    rel     regclass;
BEGIN
    IF p_from IS NULL OR p_to IS NULL THEN
        RETURN;
    END IF;
    -- the lock of ensure_partitions(): one creator of months at a time
    PERFORM pg_advisory_xact_lock(7263746710002);
    m := date_trunc('month', p_from AT TIME ZONE 'UTC');
    last := date_trunc('month', p_to AT TIME ZONE 'UTC');
    WHILE m <= last LOOP
        lo := m AT TIME ZONE 'UTC';
        hi := (m + interval '1 month') AT TIME ZONE 'UTC';
        suffix := to_char(m, '"y"YYYY"m"MM');
        FOREACH tbl IN ARRAY ARRAY['calls', 'charges'] LOOP
            name := tbl || '_' || suffix;
            rel := to_regclass(format('referee.%I', name));
            IF rel IS NULL THEN
                EXECUTE format(
                    'CREATE TABLE referee.%I (LIKE referee.%I'
                    ' INCLUDING DEFAULTS INCLUDING CONSTRAINTS,'
                    ' CONSTRAINT %I CHECK (start_time >= %L'
                    ' AND start_time < %L))',
                    name, tbl, name || '_month', lo, hi);
                EXECUTE format('GRANT INSERT ON referee.%I TO referee_writer',
                               name);
            ELSIF NOT (SELECT c.relispartition FROM pg_class c
                       WHERE c.oid = rel)
                  AND NOT EXISTS (SELECT 1 FROM pg_constraint k
                                  WHERE k.conrelid = rel
                                    AND k.conname = name || '_month') THEN
                RAISE EXCEPTION 'referee.% exists but is not a partition of referee.%',
                    name, tbl
                    USING HINT = 'A month detached by hand: attach it back'
                        ' (ALTER TABLE referee.' || tbl || ' ATTACH PARTITION'
                        ' referee.' || name || ' FOR VALUES FROM ('''
                        || lo || ''') TO (''' || hi || ''')) or rename it.';
            END IF;
        END LOOP;
        SELECT NOT c.relispartition INTO detached
        FROM pg_class c
        WHERE c.oid = to_regclass(format('referee.%I', 'calls_' || suffix));
        RETURN NEXT;
        m := m + interval '1 month';
    END LOOP;
END;
$$;

CREATE OR REPLACE FUNCTION referee.attach_loaded()
RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r       record;
    m       timestamp;
    n       integer := 0;
BEGIN
    FOR r IN
        SELECT c.relname,
               substring(c.relname FROM '^(calls|charges)_') AS parent,
               substring(c.relname FROM '_(y[0-9]{4}m[0-9]{2})$') AS suffix
        FROM pg_class c
        WHERE c.relnamespace = 'referee'::regnamespace
          AND c.relkind = 'r' AND NOT c.relispartition
          AND c.relname ~ '^(calls|charges)_y[0-9]{4}m[0-9]{2}$'
          -- a run's own (open_months): never a table detached by hand
          AND EXISTS (SELECT 1 FROM pg_constraint k
                      WHERE k.conrelid = c.oid
                        AND k.conname = c.relname || '_month')
        ORDER BY c.relname
    LOOP
        -- not to_timestamp(): a local midnight can fall in a DST gap
        m := make_timestamp(substr(r.suffix, 2, 4)::integer,
                            substr(r.suffix, 7, 2)::integer, 1, 0, 0, 0);
        EXECUTE format(
            'ALTER TABLE referee.%I ATTACH PARTITION referee.%I'
            ' FOR VALUES FROM (%L) TO (%L)',
            r.parent, r.relname, m AT TIME ZONE 'UTC',
            (m + interval '1 month') AT TIME ZONE 'UTC');
        -- as ensure_partitions() would have made it: no direct grant, no
        -- constraint of its own
        EXECUTE format('ALTER TABLE referee.%I DROP CONSTRAINT %I',
                       r.relname, r.relname || '_month');
        EXECUTE format('REVOKE INSERT ON referee.%I FROM referee_writer',
                       r.relname);
        n := n + 1;
    END LOOP;
    RETURN n;
END;
$$;

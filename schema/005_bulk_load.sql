-- 005_bulk_load.sql: load new months and an empty register without
-- upkeeping their indexes row by row.
--
-- A COPY into an indexed table pays one index insertion per row and index;
-- building the index once, after the load, is one sort and costs a fraction
-- of that (for 1,000,000 transfer cases: about 7 s of index upkeep against
-- 2 s of index builds).  So:
--
-- * A month with no partition yet (a fresh database, a backfill, the first
--   run of a month) is loaded into a plain table of the partition's shape,
--   created in the run's transaction with no index: open_months() creates
--   it and says so.  attach_loaded() then attaches it: ATTACH PARTITION
--   builds the indexes, and the table's CHECK constraint on the month
--   spares it the validation scan.  Rows of months that exist go through
--   the partitioned table as before.
-- * An empty call_sids loses its primary key for the run
--   (register_unindex()) and gets it back, built in one pass, before the
--   run's merge (register_reindex()).  A sid stored twice then fails the
--   run at that point instead of at its COPY: the same outcome.
--
-- Everything happens in the run's transaction: a failed run leaves no
-- table behind and the primary key where it was.  Only the loader calls
-- these (SECURITY DEFINER: the writer role does not own the tables), and
-- it attaches the loaded months before anything else may need a month
-- (ensure_partitions() would take a detached month for an existing one,
-- and a row routed there would fail the run).

-- The months of [p_from, p_to] (UTC), each with its partition suffix
-- (yYYYYmMM) and whether this run loads it as a detached table.
CREATE FUNCTION referee.open_months(p_from timestamptz, p_to timestamptz)
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
        IF to_regclass(format('referee.%I', 'calls_' || suffix)) IS NULL THEN
            FOREACH tbl IN ARRAY ARRAY['calls', 'charges'] LOOP
                name := tbl || '_' || suffix;
                EXECUTE format(
                    'CREATE TABLE referee.%I (LIKE referee.%I'
                    ' INCLUDING DEFAULTS INCLUDING CONSTRAINTS,'
                    ' CONSTRAINT %I CHECK (start_time >= %L'
                    ' AND start_time < %L))',
                    name, tbl, name || '_month', lo, hi);
                EXECUTE format('GRANT INSERT ON referee.%I TO referee_writer',
                               name);
            END LOOP;
        END IF;
        SELECT NOT c.relispartition INTO detached
        FROM pg_class c
        WHERE c.oid = to_regclass(format('referee.%I', 'calls_' || suffix));
        RETURN NEXT;
        m := m + interval '1 month';
    END LOOP;
END;
$$;

-- Attach every detached month table (only a run's own can exist: one that
-- failed took its tables with it).  Returns how many tables it attached.
CREATE FUNCTION referee.attach_loaded()
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

-- true: call_sids was empty and is now without its primary key.
CREATE FUNCTION referee.register_unindex()
RETURNS boolean
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    LOCK TABLE referee.call_sids IN ACCESS EXCLUSIVE MODE;
    IF EXISTS (SELECT 1 FROM referee.call_sids) THEN
        RETURN false;
    END IF;
    ALTER TABLE referee.call_sids DROP CONSTRAINT call_sids_pkey;
    RETURN true;
END;
$$;

-- Give call_sids its primary key back if it has none.
CREATE FUNCTION referee.register_reindex()
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_constraint
                   WHERE conrelid = 'referee.call_sids'::regclass
                     AND contype = 'p') THEN
        ALTER TABLE referee.call_sids
            ADD CONSTRAINT call_sids_pkey PRIMARY KEY (call_sid);
    END IF;
END;
$$;

REVOKE ALL ON FUNCTION referee.open_months(timestamptz, timestamptz),
    referee.attach_loaded(), referee.register_unindex(),
    referee.register_reindex() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION referee.open_months(timestamptz, timestamptz),
    referee.attach_loaded(), referee.register_unindex(),
    referee.register_reindex() TO referee_writer;

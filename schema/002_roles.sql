-- 002_roles.sql: who may do what.
--
--   referee_writer  what referee-rate needs: read and write the tables,
--                   create monthly partitions through ensure_partitions().
--   referee_reader  finance: SELECT on the report views only (003).
--
-- Both are NOLOGIN group roles: grant them to login roles, e.g.
--   CREATE ROLE rater LOGIN IN ROLE referee_writer;
-- Roles are cluster-wide, so they may exist already (another database).

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'referee_writer') THEN
        CREATE ROLE referee_writer NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'referee_reader') THEN
        CREATE ROLE referee_reader NOLOGIN;
    END IF;
END
$$;

GRANT USAGE ON SCHEMA referee TO referee_writer, referee_reader;

GRANT SELECT ON referee.schema_version TO referee_writer;
GRANT SELECT, INSERT, UPDATE ON referee.runs, referee.input_files,
    referee.calls, referee.charges, referee.rejects TO referee_writer;
GRANT SELECT, INSERT, UPDATE, DELETE ON referee.pending TO referee_writer;
GRANT EXECUTE ON FUNCTION referee.ensure_partitions(timestamptz, timestamptz)
    TO referee_writer;
REVOKE EXECUTE ON FUNCTION referee.ensure_partitions(timestamptz, timestamptz)
    FROM PUBLIC;

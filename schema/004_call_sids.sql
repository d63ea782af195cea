-- 004_call_sids.sql: one row per current call sid, across all months.
--
-- calls is partitioned by month, and a unique index on a partitioned table
-- must contain the partition key: calls_current_sid is unique per
-- (call_sid, start_time) only, and looking a sid up probes every month.
-- This table is the exactly-once register: its primary key makes a sid
-- current at most once in the whole database, and the loader's duplicate
-- check is one index probe per staged call, however many years are stored.
-- The loader keeps it in step with calls (superseded rows leave it).

CREATE TABLE referee.call_sids (
    call_sid    text COLLATE "C" PRIMARY KEY,
    start_time  timestamptz NOT NULL,   -- finds the call's partition
    run_id      bigint NOT NULL          -- the run that stored it
);

INSERT INTO referee.call_sids (call_sid, start_time, run_id)
SELECT call_sid, start_time, run_id
FROM referee.calls
WHERE superseded_by_run IS NULL;

GRANT SELECT, INSERT, DELETE ON referee.call_sids TO referee_writer;

-- 001_core.sql: referee's core tables.
--
-- Applied by `referee-rate --migrate` inside one transaction, recorded in
-- referee.schema_version.  Migrations are forward-only: never edit an applied
-- file (the runner compares checksums), add 00N_*.sql instead.
--
-- Money is numeric everywhere: exact decimals as the rater computed them.
-- Call sids are identifiers, compared byte for byte: COLLATE "C" (also
-- what makes their indexes cheap to build and probe).
-- Times are timestamptz; months and days in the views are UTC.
-- A row is "current" while superseded_by_run is NULL: re-rating and --force
-- keep the old rows for audit and mark them with the run that replaced them.

CREATE SCHEMA IF NOT EXISTS referee;

CREATE TABLE referee.schema_version (
    version     integer PRIMARY KEY,
    name        text NOT NULL,
    checksum    text NOT NULL,               -- md5 of the file's text
    applied_at  timestamptz NOT NULL DEFAULT now(),
    applied_by  text NOT NULL DEFAULT current_user
);

-- One row per committed run.  The row is written in the run's own
-- transaction, so a run that failed leaves no trace at all.
CREATE TABLE referee.runs (
    run_id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind            text NOT NULL CHECK (kind IN ('rate', 'rerate')),
    status          text NOT NULL DEFAULT 'running'
                    CHECK (status IN ('running', 'committed')),
    started_at      timestamptz NOT NULL,
    finished_at     timestamptz,
    host            text,
    pid             integer,
    db_user         text NOT NULL DEFAULT current_user,
    deck_name       text,
    deck_sha256     text,
    currency        text,
    decimals        integer,
    force           boolean NOT NULL DEFAULT false,
    rerate_from     timestamptz,
    rerate_to       timestamptz,
    rows_read       bigint,
    calls           bigint,        -- call rows stored by this run
    components      bigint,        -- charge rows stored by this run
    rejects         bigint,        -- incl. duplicates
    pending         bigint,        -- children left waiting by this run
    duplicates      bigint,        -- in the input, or rated by an earlier run
    skipped_files   bigint,        -- already loaded, skipped
    superseded      bigint,        -- charge rows this run superseded
    total_amount    numeric,       -- of this run's charges, deck currency
    totals          jsonb,         -- [{currency, scenario, components, amount}]
    elapsed_ms      bigint
);

CREATE TABLE referee.input_files (
    file_id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id              bigint NOT NULL REFERENCES referee.runs,
    path                text NOT NULL,
    sha256              text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    size_bytes          bigint NOT NULL CHECK (size_bytes >= 0),
    rows                bigint NOT NULL CHECK (rows >= 0),
    superseded_by_run   bigint REFERENCES referee.runs
);
-- Exactly once per file content: one current load of a given sha256.
CREATE UNIQUE INDEX input_files_current_sha256
    ON referee.input_files (sha256) WHERE superseded_by_run IS NULL;

-- Every accepted call record.  Partitioned by month of start_time (UTC);
-- partitions are created on demand by referee.ensure_partitions().
-- No foreign keys on the two big tables: the loader writes its own run_id
-- and a per-row RI trigger would cost as much as the load itself.
CREATE TABLE referee.calls (
    call_sid            text COLLATE "C" NOT NULL,
    start_time          timestamptz NOT NULL,
    run_id              bigint NOT NULL,
    file_id             bigint,
    source_file         text,
    source_line         bigint,
    parent_call_sid     text COLLATE "C",
    account_sid         text,
    trunk_sid           text,
    direction           text NOT NULL
                        CHECK (direction IN ('trunking-terminating',
                                             'trunking-originating')),
    "from"              text NOT NULL,
    "to"                text NOT NULL,
    end_time            timestamptz,
    duration            bigint NOT NULL CHECK (duration >= 0),
    status              text,
    price               numeric,
    price_unit          text,
    transfer_target     text,
    transfer_status     text,
    leg                 text NOT NULL CHECK (leg IN ('single', 'parent', 'child')),
    scenario            text NOT NULL
                        CHECK (scenario IN ('none', 'termination-sip',
                               'termination-pstn', 'origination-sip',
                               'origination-pstn')),
    superseded_by_run   bigint
) PARTITION BY RANGE (start_time);
-- A call sid is current at most once (per start time: the partition key
-- must be part of a unique index; the loader checks the sid alone).
CREATE UNIQUE INDEX calls_current_sid
    ON referee.calls (call_sid, start_time) WHERE superseded_by_run IS NULL;
CREATE INDEX calls_parent
    ON referee.calls (parent_call_sid) WHERE parent_call_sid IS NOT NULL;

-- One row per charge component: the columns of DESIGN.md "Rated output",
-- named as in the CSV folder's charges.csv, plus the call's start
-- (partition key), account and trunk for reports.
CREATE TABLE referee.charges (
    call_sid            text COLLATE "C" NOT NULL,
    start_time          timestamptz NOT NULL,
    run_id              bigint NOT NULL,
    parent_call_sid     text COLLATE "C",
    account_sid         text,
    trunk_sid           text,
    leg                 text NOT NULL CHECK (leg IN ('single', 'parent', 'child')),
    scenario            text NOT NULL
                        CHECK (scenario IN ('none', 'termination-sip',
                               'termination-pstn', 'origination-sip',
                               'origination-pstn')),
    component           smallint NOT NULL CHECK (component IN (1, 2)),
    service             text NOT NULL
                        CHECK (service IN ('termination', 'origination')),
    "from"              text NOT NULL,
    "to"                text NOT NULL,
    matched_prefix      text NOT NULL,     -- digits, or "sip"
    rate                numeric NOT NULL CHECK (rate >= 0),
    duration            bigint NOT NULL CHECK (duration >= 0),
    billable_seconds    bigint NOT NULL CHECK (billable_seconds >= 0),
    amount              numeric NOT NULL,
    currency            text NOT NULL,
    deck                text NOT NULL,
    carrier_price       numeric,           -- the input's price (sign kept)
    carrier_price_unit  text,
    superseded_by_run   bigint
) PARTITION BY RANGE (start_time);
-- Never billed twice: one current row per call and component.
CREATE UNIQUE INDEX charges_current
    ON referee.charges (call_sid, component, start_time)
    WHERE superseded_by_run IS NULL;

CREATE TABLE referee.rejects (
    reject_id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id              bigint NOT NULL REFERENCES referee.runs,
    file                text,
    line                bigint,
    call_sid            text COLLATE "C",
    field               text,
    reason              text NOT NULL,
    code                integer,
    raw                 text,
    superseded_by_run   bigint REFERENCES referee.runs
);
CREATE INDEX rejects_run ON referee.rejects (run_id);

-- Children whose parent is in no loaded file yet.  Each run hands them to
-- the rater again; a row leaves only in the transaction that rated,
-- rejected or re-pended it.
CREATE TABLE referee.pending (
    call_sid            text COLLATE "C" PRIMARY KEY,
    parent_call_sid     text COLLATE "C" NOT NULL,
    first_run_id        bigint NOT NULL REFERENCES referee.runs,
    run_id              bigint NOT NULL REFERENCES referee.runs,
    file_id             bigint REFERENCES referee.input_files,
    source_file         text,
    source_line         bigint,
    account_sid         text,
    trunk_sid           text,
    direction           text NOT NULL,
    "from"              text NOT NULL,
    "to"                text NOT NULL,
    start_time          timestamptz NOT NULL,
    end_time            timestamptz,
    duration            bigint NOT NULL,
    status              text,
    price               numeric,
    price_unit          text,
    transfer_target     text,
    transfer_status     text
);
CREATE INDEX pending_parent ON referee.pending (parent_call_sid);

-- Monthly partitions (UTC) of calls and charges covering [p_from, p_to].
-- SECURITY DEFINER: creating a partition needs the parent's owner, and the
-- writer role should not own the tables.
CREATE FUNCTION referee.ensure_partitions(p_from timestamptz, p_to timestamptz)
RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    m       timestamp;
    last    timestamp;
    lo      timestamptz;
    hi      timestamptz;
    suffix  text;
    tbl     text;
    created integer := 0;
BEGIN
    IF p_from IS NULL OR p_to IS NULL THEN
        RETURN 0;
    END IF;
    m := date_trunc('month', p_from AT TIME ZONE 'UTC');
    last := date_trunc('month', p_to AT TIME ZONE 'UTC');
    WHILE m <= last LOOP
        lo := m AT TIME ZONE 'UTC';
        hi := (m + interval '1 month') AT TIME ZONE 'UTC';
        suffix := to_char(m, '"y"YYYY"m"MM');
        FOREACH tbl IN ARRAY ARRAY['calls', 'charges'] LOOP
            IF to_regclass(format('referee.%I', tbl || '_' || suffix)) IS NULL THEN
                EXECUTE format(
                    'CREATE TABLE referee.%I PARTITION OF referee.%I '
                    'FOR VALUES FROM (%L) TO (%L)',
                    tbl || '_' || suffix, tbl, lo, hi);
                created := created + 1;
            END IF;
        END LOOP;
        m := m + interval '1 month';
    END LOOP;
    RETURN created;
END;
$$;

-- 009_price_plans.sql: the sell side of price plans (--plans), margins,
-- and the table of reject codes.
--
-- A run with --plans prices every component twice: the cost from the
-- carrier's deck (as before) and the sell price from the plan in force for
-- the record's account.  charges gains the sell columns of charges.csv,
-- in its order, and target_caller_id (charges.csv's last column); all are
-- NULL for rows rated without --plans (target_caller_id: on a child's rows
-- only).  Adding nullable columns without a default rewrites no partition:
-- the upgrade is instant whatever the months stored.  No CHECK is added:
-- on a partitioned table it would scan every month.

ALTER TABLE referee.charges
    ADD COLUMN plan                  text,
    ADD COLUMN sell_matched_prefix   text,
    ADD COLUMN sell_rate             numeric,
    ADD COLUMN sell_billable_seconds bigint,
    ADD COLUMN sell_amount           numeric,
    ADD COLUMN sell_currency         text,
    ADD COLUMN target_caller_id      text;

-- A month detached by hand (an archive, 007) is no partition: the ALTER
-- above did not reach it, and ATTACH PARTITION refuses a table whose
-- columns differ.  Give it the columns too, so it can be attached back.
DO $$
DECLARE
    t text;
BEGIN
    FOR t IN
        SELECT c.relname FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'referee' AND c.relkind = 'r'
          AND NOT c.relispartition
          AND c.relname ~ '^charges_y[0-9]{4}m[0-9]{2}$'
    LOOP
        EXECUTE format('ALTER TABLE referee.%I'
            ' ADD COLUMN IF NOT EXISTS plan text,'
            ' ADD COLUMN IF NOT EXISTS sell_matched_prefix text,'
            ' ADD COLUMN IF NOT EXISTS sell_rate numeric,'
            ' ADD COLUMN IF NOT EXISTS sell_billable_seconds bigint,'
            ' ADD COLUMN IF NOT EXISTS sell_amount numeric,'
            ' ADD COLUMN IF NOT EXISTS sell_currency text,'
            ' ADD COLUMN IF NOT EXISTS target_caller_id text', t);
    END LOOP;
END
$$;

-- The run's plans (summary.json's "plans" and "sell_totals"): NULL for a
-- run without --plans.
ALTER TABLE referee.runs
    ADD COLUMN plans_sha256 text,
    ADD COLUMN plans_path   text,       -- as given on the command line
    ADD COLUMN sell_totals  jsonb;      -- [{currency, components, amount}]

-- Every code a reject (or a run) can carry: rejects.code explained.  The
-- rows are the rater's own table (cdr/util/cdr_diag.c); the test suite
-- checks that the two agree, code by code.  Codes are never renumbered;
-- a new code comes with a new migration adding its row.
CREATE TABLE referee.reject_codes (
    code    smallint PRIMARY KEY,
    name    text NOT NULL UNIQUE,
    meaning text NOT NULL
);
INSERT INTO referee.reject_codes (code, name, meaning) VALUES
    (-1, 'no_memory', 'out of memory'),
    (-2, 'io', 'I/O error'),
    (-3, 'csv', 'malformed CSV'),
    (-4, 'missing', 'missing required field'),
    (-5, 'bad_time', 'invalid timestamp'),
    (-6, 'bad_number', 'invalid number'),
    (-7, 'bad_direction', 'not a trunk call'),
    (-8, 'bad_address', 'malformed address'),
    (-9, 'too_long', 'field too long'),
    (-10, 'duplicate', 'duplicate call sid'),
    (-11, 'field_count', 'wrong number of fields'),
    (-12, 'unobserved', 'leg not observed'),
    (-13, 'no_rate', 'no rate in force'),
    (-14, 'transfer_refused', 'transfer not allowed'),
    (-15, 'deck', 'rate deck error'),
    (-16, 'database', 'database error'),
    (-17, 'usage', 'usage error'),
    (-18, 'limit', 'limit reached'),
    (-19, 'bad_value', 'invalid value'),
    (-20, 'too_many_rejects', 'too many rejects'),
    (-21, 'no_plan', 'no price plan'),
    (-22, 'not_e164', 'number not in E.164');

-- The staging table gains the sell side, after its earlier columns (the
-- rater's COPY rows end with them): the child's target_caller_id, the
-- plan and its currency, and each component's sell price.
CREATE OR REPLACE FUNCTION referee.stage_create()
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
        r_field text, r_reason text, r_code integer, r_raw text,
        target_caller_id text, plan text, sell_currency text,
        c1_sell_matched text, c1_sell_rate numeric, c1_sell_billable bigint,
        c1_sell_amount numeric,
        c2_sell_matched text, c2_sell_rate numeric, c2_sell_billable bigint,
        c2_sell_amount numeric
    ) ON COMMIT DROP;
END;
$$;

-- As in 008, with the sell side and target_caller_id.
CREATE OR REPLACE FUNCTION referee.merge_charges(p_run bigint,
                                                 p_currency text,
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
        carrier_price, carrier_price_unit, plan, sell_matched_prefix,
        sell_rate, sell_billable_seconds, sell_amount, sell_currency,
        target_caller_id)
    SELECT s.sid, s.start_time, p_run, s.parent_call_sid,
           s.account_sid, s.trunk_sid, s.leg, s.scenario, v.component,
           v.service, v.f, v.t, v.matched, v.rate, v.duration, v.billable,
           v.amount, p_currency, p_deck, s.price, s.price_unit, s.plan,
           v.sell_matched, v.sell_rate, v.sell_billable, v.sell_amount,
           s.sell_currency, s.target_caller_id
    FROM pg_temp.referee_stg s CROSS JOIN LATERAL (VALUES
        (1, s.c1_service, s.c1_from, s.c1_to, s.c1_matched, s.c1_rate,
         s.c1_duration, s.c1_billable, s.c1_amount, s.c1_sell_matched,
         s.c1_sell_rate, s.c1_sell_billable, s.c1_sell_amount),
        (2, s.c2_service, s.c2_from, s.c2_to, s.c2_matched, s.c2_rate,
         s.c2_duration, s.c2_billable, s.c2_amount, s.c2_sell_matched,
         s.c2_sell_rate, s.c2_sell_billable, s.c2_sell_amount))
        v(component, service, f, t, matched, rate, duration, billable,
          amount, sell_matched, sell_rate, sell_billable, sell_amount)
    WHERE s.kind = 'rated' AND v.service IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM referee_dup x WHERE x.sid = s.sid);
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END;
$$;

-- The run's sell totals per currency.  With p_currency (nothing was
-- dropped: the rater's sums are those of the rows stored) they are the
-- rater's, in its order; without, they are summed from the run's stored
-- charges, whose start times lie in [p_from, p_to] (only the months the
-- run wrote are read).  A run without --plans keeps NULL.
CREATE FUNCTION referee.merge_sell(p_run bigint, p_currency text[],
    p_components bigint[], p_amount numeric[], p_from timestamptz,
    p_to timestamptz)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_custom_plan
AS $$
DECLARE
    v jsonb;
BEGIN
    IF p_currency IS NOT NULL THEN
        SELECT coalesce(jsonb_agg(jsonb_build_object('currency', t.c,
                   'components', t.n, 'amount', t.a) ORDER BY t.i), '[]')
        INTO v
        FROM unnest(p_currency, p_components, p_amount)
             WITH ORDINALITY t(c, n, a, i);
    ELSE
        SELECT coalesce(jsonb_agg(jsonb_build_object('currency', t.c,
                   'components', t.n, 'amount', t.a) ORDER BY t.c), '[]')
        INTO v
        FROM (SELECT sell_currency AS c, count(*) AS n,
                     sum(sell_amount) AS a
              FROM referee.charges
              WHERE run_id = p_run AND sell_currency IS NOT NULL
                AND start_time BETWEEN p_from AND p_to
              GROUP BY sell_currency) t;
    END IF;
    UPDATE referee.runs SET sell_totals = v WHERE run_id = p_run;
END;
$$;

REVOKE ALL ON FUNCTION referee.merge_sell(bigint, text[], bigint[],
    numeric[], timestamptz, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION referee.merge_sell(bigint, text[], bigint[],
    numeric[], timestamptz, timestamptz) TO referee_writer;
GRANT SELECT ON referee.reject_codes TO referee_writer, referee_reader;

-- Views keep their columns (CREATE OR REPLACE VIEW may only append).

CREATE OR REPLACE VIEW referee.current_charges AS
SELECT call_sid, parent_call_sid, leg, scenario, component, service,
       "from", "to", matched_prefix, rate, duration, billable_seconds,
       amount, currency, deck, carrier_price, carrier_price_unit,
       start_time, account_sid, trunk_sid, run_id,
       plan, sell_matched_prefix, sell_rate, sell_billable_seconds,
       sell_amount, sell_currency, target_caller_id
FROM referee.charges
WHERE superseded_by_run IS NULL;

-- The sell side of each leg beside its cost.  Parent and child may be on
-- different accounts, so on different plans and in different currencies:
-- each leg's sell currency is shown, and total_sell only where the three
-- components sell in one currency.
CREATE OR REPLACE VIEW referee.transfers AS
SELECT c.scenario,
       p.account_sid,
       p.trunk_sid,
       p.call_sid                 AS parent_call_sid,
       p."from"                   AS parent_from,
       p."to"                     AS parent_to,
       p.start_time               AS parent_start,
       p.duration                 AS parent_duration,
       c.call_sid                 AS child_call_sid,
       c."from"                   AS child_from,
       c."to"                     AS child_to,
       c.start_time               AS child_start,
       c.duration                 AS child_duration,
       pc.service                 AS parent_service,
       pc."from"                  AS parent_rated_from,
       pc."to"                    AS parent_rated_to,
       pc.matched_prefix          AS parent_matched_prefix,
       pc.rate                    AS parent_rate,
       pc.billable_seconds        AS parent_billable_seconds,
       pc.amount                  AS parent_amount,
       c1.service                 AS child1_service,
       c1."from"                  AS child1_from,
       c1."to"                    AS child1_to,
       c1.matched_prefix          AS child1_matched_prefix,
       c1.rate                    AS child1_rate,
       c1.billable_seconds        AS child1_billable_seconds,
       c1.amount                  AS child1_amount,
       c2.service                 AS child2_service,
       c2."from"                  AS child2_from,
       c2."to"                    AS child2_to,
       c2.matched_prefix          AS child2_matched_prefix,
       c2.rate                    AS child2_rate,
       c2.billable_seconds        AS child2_billable_seconds,
       c2.amount                  AS child2_amount,
       coalesce(pc.amount, 0) + coalesce(c1.amount, 0)
           + coalesce(c2.amount, 0)                     AS total_amount,
       coalesce(pc.currency, c1.currency)               AS currency,
       pc.plan                    AS parent_plan,
       pc.sell_amount             AS parent_sell_amount,
       pc.sell_currency           AS parent_sell_currency,
       c1.plan                    AS child_plan,
       c1.sell_amount             AS child1_sell_amount,
       c2.sell_amount             AS child2_sell_amount,
       c1.sell_currency           AS child_sell_currency,
       c1.target_caller_id        AS target_caller_id,
       CASE WHEN pc.sell_currency = c1.sell_currency
             AND (c2.call_sid IS NULL OR c2.sell_currency = c1.sell_currency)
            THEN pc.sell_amount + c1.sell_amount
                 + coalesce(c2.sell_amount, 0) END      AS total_sell_amount
FROM referee.calls c
JOIN referee.calls p
  ON p.call_sid = c.parent_call_sid AND p.superseded_by_run IS NULL
LEFT JOIN referee.charges pc
  ON pc.call_sid = p.call_sid AND pc.start_time = p.start_time
 AND pc.component = 1 AND pc.superseded_by_run IS NULL
LEFT JOIN referee.charges c1
  ON c1.call_sid = c.call_sid AND c1.start_time = c.start_time
 AND c1.component = 1 AND c1.superseded_by_run IS NULL
LEFT JOIN referee.charges c2
  ON c2.call_sid = c.call_sid AND c2.start_time = c.start_time
 AND c2.component = 2 AND c2.superseded_by_run IS NULL
WHERE c.superseded_by_run IS NULL
  AND c.leg = 'child';

CREATE OR REPLACE VIEW referee.run_history AS
SELECT run_id, kind, status, started_at, finished_at, host, db_user,
       deck_name, deck_sha256, currency, force, rerate_from, rerate_to,
       rows_read, calls, components, rejects, pending, duplicates,
       skipped_files, superseded, total_amount, totals, elapsed_ms,
       plans_sha256, plans_path, sell_totals
FROM referee.runs;

-- Cost against sell per account, month (UTC), plan and scenario.  cost is
-- in currency (the carrier deck's), sell in sell_currency (the plan
-- deck's); margin = sell - cost only where the two are one currency, else
-- NULL: no exchange rate is guessed.  Charges rated without --plans show
-- with plan, sell_currency, sell and margin NULL.
CREATE VIEW referee.margin_monthly AS
SELECT date_trunc('month', start_time AT TIME ZONE 'UTC')::date AS month,
       account_sid,
       plan,
       scenario,
       currency,
       count(*) FILTER (WHERE component = 1)             AS calls,
       count(*)                                          AS components,
       sum(amount)                                       AS cost,
       sell_currency,
       sum(sell_amount)                                  AS sell,
       CASE WHEN sell_currency = currency
            THEN sum(sell_amount) - sum(amount) END      AS margin
FROM referee.charges
WHERE superseded_by_run IS NULL
GROUP BY 1, account_sid, plan, scenario, currency, sell_currency;

-- The customer's invoice: invoice_monthly's lines on the sell side, each
-- account's in its plan's currency (an account whose plan changed to one
-- of another currency has an invoice per currency).  Only charges with a
-- sell side (rated with --plans); billable seconds and amounts are the
-- plan's.  The total line (is_total) is per account, month and currency;
-- its plan is NULL.
CREATE VIEW referee.invoice_monthly_sell AS
SELECT date_trunc('month', start_time AT TIME ZONE 'UTC')::date AS month,
       account_sid,
       sell_currency                                     AS currency,
       GROUPING(plan, service, scenario, leg) <> 0       AS is_total,
       plan,
       service,
       scenario,
       leg,
       count(*) FILTER (WHERE component = 1)             AS calls,
       count(*)                                          AS components,
       sum(sell_billable_seconds)                        AS billable_seconds,
       round(sum(sell_billable_seconds) / 60.0, 2)       AS billable_minutes,
       sum(sell_amount)                                  AS amount
FROM referee.charges
WHERE superseded_by_run IS NULL AND sell_currency IS NOT NULL
GROUP BY GROUPING SETS (
    (1, account_sid, sell_currency, plan, service, scenario, leg),
    (1, account_sid, sell_currency));

GRANT SELECT ON referee.margin_monthly, referee.invoice_monthly_sell
    TO referee_reader;

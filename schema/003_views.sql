-- 003_views.sql: reports for finance.
--
-- Every view shows current charges only (superseded_by_run IS NULL): charges
-- replaced by a re-rating or a --force run stay in referee.charges for
-- audit, never here.  Days and months are UTC, of the call's start.
-- Amounts are numeric sums of the per-component amounts the rater rounded:
-- nothing is rounded again here.

CREATE VIEW referee.current_charges AS
SELECT call_sid, parent_call_sid, leg, scenario, component, service,
       "from", "to", matched_prefix, rate, duration, billable_seconds,
       amount, currency, deck, carrier_price, carrier_price_unit,
       start_time, account_sid, trunk_sid, run_id
FROM referee.charges
WHERE superseded_by_run IS NULL;

CREATE VIEW referee.daily_totals AS
SELECT (start_time AT TIME ZONE 'UTC')::date            AS day,
       account_sid, trunk_sid, scenario, currency,
       count(*) FILTER (WHERE component = 1)             AS calls,
       count(*)                                          AS components,
       sum(billable_seconds)                             AS billable_seconds,
       sum(amount)                                       AS amount
FROM referee.charges
WHERE superseded_by_run IS NULL
GROUP BY 1, account_sid, trunk_sid, scenario, currency;

CREATE VIEW referee.monthly_totals AS
SELECT date_trunc('month', start_time AT TIME ZONE 'UTC')::date AS month,
       account_sid, trunk_sid, scenario, currency,
       count(*) FILTER (WHERE component = 1)             AS calls,
       count(*)                                          AS components,
       sum(billable_seconds)                             AS billable_seconds,
       sum(amount)                                       AS amount
FROM referee.charges
WHERE superseded_by_run IS NULL
GROUP BY 1, account_sid, trunk_sid, scenario, currency;

-- The billing table of TRANSFERS.md, filled in: one row per transfer, the
-- parent's component and the child's one or two components side by side.
CREATE VIEW referee.transfers AS
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
       coalesce(pc.currency, c1.currency)               AS currency
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

-- Invoice lines per account, month and currency: one line per service,
-- scenario and leg, then a total line (is_total) per account and month.
CREATE VIEW referee.invoice_monthly AS
SELECT date_trunc('month', start_time AT TIME ZONE 'UTC')::date AS month,
       account_sid,
       currency,
       GROUPING(service, scenario, leg) <> 0             AS is_total,
       service,
       scenario,
       leg,
       count(*) FILTER (WHERE component = 1)             AS calls,
       count(*)                                          AS components,
       sum(billable_seconds)                             AS billable_seconds,
       sum(billable_seconds) / 60                        AS billable_minutes,
       sum(amount)                                       AS amount
FROM referee.charges
WHERE superseded_by_run IS NULL
GROUP BY GROUPING SETS (
    (1, account_sid, currency, service, scenario, leg),
    (1, account_sid, currency));

-- The carrier's own price beside referee's amount, per current call (the
-- carrier writes charges as negative numbers: carrier_charge flips it).
CREATE VIEW referee.carrier_audit AS
SELECT c.call_sid, c.account_sid, c.trunk_sid, c.start_time, c.leg,
       c.scenario, c.duration,
       -c.price                                         AS carrier_charge,
       c.price_unit,
       s.amount                                         AS referee_amount,
       s.currency,
       s.amount - (-c.price)                            AS difference
FROM referee.calls c
LEFT JOIN LATERAL (
    SELECT sum(amount) AS amount, min(currency) AS currency
    FROM referee.charges g
    WHERE g.call_sid = c.call_sid AND g.start_time = c.start_time
      AND g.superseded_by_run IS NULL) s ON true
WHERE c.superseded_by_run IS NULL
  AND c.price IS NOT NULL;

CREATE VIEW referee.run_history AS
SELECT run_id, kind, status, started_at, finished_at, host, db_user,
       deck_name, deck_sha256, currency, force, rerate_from, rerate_to,
       rows_read, calls, components, rejects, pending, duplicates,
       skipped_files, superseded, total_amount, totals, elapsed_ms
FROM referee.runs;

GRANT SELECT ON referee.current_charges, referee.daily_totals,
    referee.monthly_totals, referee.transfers, referee.invoice_monthly,
    referee.carrier_audit, referee.run_history TO referee_reader;

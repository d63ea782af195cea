#!/bin/sh
# The full job on a private PostgreSQL: create the schema, rate the bundled
# example into it, print the finance views.  Run inside a throw-away cluster:
#   pg_virtualenv -t -v 15 tests/example-pg.sh [BUILD_DIR]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
rate=${1:-$root/build}/referee-rate
db=${PGDATABASE:-postgres}
"$rate" --db "dbname=$db" --migrate --schema-dir "$root/schema"
"$rate" --deck "$root/rates/example.yaml" --db "dbname=$db" "$root/rates/example-calls.csv"
for v in daily_totals monthly_totals invoice_monthly; do
    echo
    echo "== referee.$v"
    psql -X -d "$db" -P footer=off -c "select * from referee.$v order by 1, 2, 3, 4"
done
echo
echo "== referee.transfers (parent and child side by side)"
psql -X -d "$db" -P footer=off -c "select scenario, parent_call_sid, child_call_sid,
    parent_service || ' ' || parent_matched_prefix || ' ' || parent_rate || ' x ' || parent_billable_seconds || ' s = ' || parent_amount as parent,
    child1_service || ' ' || child1_matched_prefix || ' ' || child1_rate || ' x ' || child1_billable_seconds || ' s = ' || child1_amount as child_1,
    child2_service || ' ' || child2_matched_prefix || ' ' || child2_rate || ' x ' || child2_billable_seconds || ' s = ' || child2_amount as child_2,
    total_amount from referee.transfers order by parent_start"
echo
echo "== referee.rejects"
psql -X -d "$db" -P footer=off -c "select run_id, file, line, call_sid, field, reason from referee.rejects order by reject_id"

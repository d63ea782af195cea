#!/bin/sh
# Builds referee and runs the main job on the bundled example: first to a
# CSV folder (rated/), the carrier's cost only; then with the price plans
# (rated-plans/: cost and the customer's price of every component); then
# into a throwaway PostgreSQL 15 (pg_virtualenv): migrate, rate with the
# plans, rate the same file again (skipped: nothing is billed twice), and
# print the finance views, margins included.
set -eu
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j"$(nproc)" --target referee-rate referee-capture

./build/referee-rate --deck rates/example.yaml --out rated/ rates/example-calls.csv
echo "== rated/charges.csv"
cat rated/charges.csv
echo "== rated/rejects.csv"
cat rated/rejects.csv

./build/referee-rate --check-deck rates/example.yaml --plans rates/plans.yaml
./build/referee-rate --deck rates/example.yaml --plans rates/plans.yaml \
    --out rated-plans/ rates/example-calls.csv

pg_virtualenv -t -v 15 sh -c '
    set -e
    q() { echo "== $1"; psql -X -P pager=off -c "$2"; }
    ./build/referee-rate --db "" --migrate
    ./build/referee-rate --deck rates/example.yaml --plans rates/plans.yaml --db "" rates/example-calls.csv
    ./build/referee-rate --deck rates/example.yaml --plans rates/plans.yaml --db "" rates/example-calls.csv
    q "cost and price of each component (referee.current_charges)" \
      "select call_sid, leg, scenario, component as c, amount as cost, currency,
              plan, sell_amount as price, sell_currency
         from referee.current_charges order by call_sid, component"
    for v in daily_totals monthly_totals transfers invoice_monthly margin_monthly invoice_monthly_sell; do
        q "referee.$v" "select * from referee.$v"
    done'

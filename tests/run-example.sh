#!/bin/sh
# Builds referee and runs the main job on the bundled example: first to a
# CSV folder (rated/), then into a throwaway PostgreSQL 15 (pg_virtualenv):
# migrate, rate, and print the finance report views.
set -eu
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j"$(nproc)" --target referee-rate referee-capture

./build/referee-rate --deck rates/example.yaml --out rated/ rates/example-calls.csv
echo "== rated/charges.csv"
cat rated/charges.csv

pg_virtualenv -t -v 15 sh -c '
    set -e
    ./build/referee-rate --db "" --migrate
    ./build/referee-rate --deck rates/example.yaml --db "" rates/example-calls.csv
    ./build/referee-rate --deck rates/example.yaml --db "" rates/example-calls.csv
    for v in daily_totals monthly_totals transfers invoice_monthly; do
        echo "== referee.$v"
        psql -X -P pager=off -c "select * from referee.$v"
    done'

#!/bin/sh
# Old against new: the same eleven runs, made by each of two referee-rate
# builds into a database of its own, must leave the same rows in every
# table and view, with the same ids.  Compared: the columns both schemas
# have (a newer schema's new columns are listed, not compared), every row,
# sorted; left out, as they differ from one run to the next whoever runs
# them: the runs' times, host, pid and elapsed_ms.
#
# The runs: the example; the same file again (skipped); a sid rated
# earlier (a duplicate); a night with the parent of the waiting child; two
# generated files (the second with sids of the first, orphans, a carrier
# price of 12 places and a record with bytes that are not UTF-8); two
# rerates with new prices; two --force.
#
# Run by hand, inside a throw-away cluster (each build migrates its own
# database from its own schema folder):
#   pg_virtualenv -t -v 15 tests/bench/pg_same_rows.sh OLD_RATE NEW_RATE GEN_CALLS
# Exit 0 when every compared row is equal.
set -eu
old=$1
new=$2
gen=$3
src=$(cd "$(dirname "$0")/../.." && pwd)
if [ -z "${PGHOST:-}" ]; then
    echo "no PostgreSQL: run inside pg_virtualenv -t -v 15 $0" >&2
    exit 1
fi
work=$(mktemp -d /tmp/referee-same.XXXXXX)
db_old=referee_same_old_$$
db_new=referee_same_new_$$
trap 'dropdb --if-exists --force "$db_old"; dropdb --if-exists --force "$db_new"; rm -rf "$work"' EXIT
createdb "$db_old"
createdb "$db_new"
q() { psql -X -A -t -q -v ON_ERROR_STOP=1 -d "$@"; }

# --- the inputs --------------------------------------------------------------
deck=$src/rates/example.yaml
calls=$src/rates/example-calls.csv
head -2 "$calls" > "$work/again.csv"
{
    head -1 "$calls"
    echo 'CA99,,AC001,TK0001,trunking-terminating,+14155550199,+12125550127,2026-05-31T22:05:00Z,2026-05-31T22:12:30Z,450,completed,,'
} > "$work/night2.csv"
mkdir -p "$work/deck2"
cp "$src"/rates/*.csv "$work/deck2/"
sed -e 's/deck: example-us/deck: example-us-2/' \
    -e 's/{ prefix: "1", rate: "0.0045" }/{ prefix: "1", rate: "0.0050" }/' \
    "$deck" > "$work/deck2/example.yaml"
"$gen" deck 300 "$work"
sed -e 's/^deck: .*/deck: bench-2/' -e 's/rate: "0.00\([0-9]\)/rate: "0.01\1/' \
    "$work/bench.yaml" > "$work/bench2.yaml"
"$gen" calls 1200 > "$work/gen.csv"
total=$(wc -l < "$work/gen.csv")
half=$((total / 2))
head -n "$half" "$work/gen.csv" > "$work/a.csv"
{
    head -1 "$work/gen.csv"
    tail -n +"$((half + 1))" "$work/gen.csv"
    sed -n 2,101p "$work/gen.csv"                      # rated by a.csv
    tail -n 40 "$work/gen.csv" | grep -v ',,' | sed 's/^\(CA[0-9a-f]*\),CA/\1X,CZ/' # orphans
    sed -n 2p "$work/gen.csv" | sed 's/^CA\([^,]*\),/CP\1,/' |
        awk -F, -v OFS=, '{ $12 = "-0.012345678901"; $13 = "USD"; print }'
    sed -n 3p "$work/gen.csv" | sed 's/^CA\([^,]*\),/CU\1,/' |
        awk -F, -v OFS=, '{ $7 = "sip:\377\376@x"; print }'
} > "$work/b.csv"

# --- the runs ------------------------------------------------------------------
runs() { # runs RATE DB
    r=$1
    d="dbname=$2"
    "$r" --quiet --db "$d" --migrate
    "$r" --quiet --deck "$deck" --db "$d" "$calls"
    "$r" --quiet --deck "$deck" --db "$d" "$calls"
    "$r" --quiet --deck "$deck" --db "$d" "$work/again.csv"
    "$r" --quiet --deck "$deck" --db "$d" "$work/night2.csv"
    "$r" --quiet --deck "$work/bench.yaml" --db "$d" "$work/a.csv"
    "$r" --quiet --deck "$work/bench.yaml" --db "$d" "$work/b.csv"
    "$r" --quiet --rerate --deck "$work/bench2.yaml" --db "$d" \
        --from 2026-05-01 --to 2026-05-20
    "$r" --quiet --rerate --deck "$work/deck2/example.yaml" --db "$d" \
        --from 2026-05-31 --to 2026-07-01
    "$r" --quiet --force --deck "$deck" --db "$d" "$calls"
    "$r" --quiet --force --deck "$work/bench2.yaml" --db "$d" "$work/b.csv"
}
runs "$old" "$db_old"
runs "$new" "$db_new"

# --- the comparison --------------------------------------------------------------
cols() { # cols DB RELATION: its columns, in order, less the volatile ones
    q "$1" -c "select column_name from information_schema.columns
        where table_schema = 'referee' and table_name = '$2'
          and not (table_name in ('runs', 'run_history') and column_name in
              ('started_at', 'finished_at', 'host', 'pid', 'elapsed_ms'))
        order by ordinal_position"
}
status=0
for t in runs input_files calls charges call_sids rejects pending \
    current_charges daily_totals monthly_totals transfers invoice_monthly \
    carrier_audit run_history; do
    cols "$db_old" "$t" > "$work/c.old"
    cols "$db_new" "$t" > "$work/c.new"
    # the old relation's columns that the new one has, in the old order
    common=$(grep -Fxf "$work/c.new" "$work/c.old" | sed 's/.*/"&"/' | paste -sd, -)
    added=$(grep -Fvxf "$work/c.old" "$work/c.new" | paste -sd' ' - || true)
    for side in old new; do
        eval db=\$db_$side
        q "$db" -c "\\copy (select $common from referee.$t) to '$work/$t.$side'"
        LC_ALL=C sort "$work/$t.$side" > "$work/$t.$side.sorted"
    done
    n=$(wc -l < "$work/$t.old.sorted")
    if cmp -s "$work/$t.old.sorted" "$work/$t.new.sorted"; then
        echo "same: $t ($n rows)${added:+; new columns, not compared: $added}"
    else
        echo "DIFFERENT: $t" >&2
        diff "$work/$t.old.sorted" "$work/$t.new.sorted" | head -20 >&2
        status=1
    fi
done
echo "totals: old $(q "$db_old" -c "select count(*) || ' ' || sum(amount) from referee.current_charges"), new $(q "$db_new" -c "select count(*) || ' ' || sum(amount) from referee.current_charges")"
exit $status

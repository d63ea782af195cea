#!/bin/sh
# referee-rate --db end to end, against the PostgreSQL of pg_virtualenv:
#   migrate (twice), rate the example, the views' totals equal the sums of
#   the CSV sink's charges.csv for the same input, the same file again is
#   skipped, a sid rated earlier is a duplicate, a child waits for a parent
#   of a later night, rerate, --force with new prices, and a run whose backend is killed during COPY
#   leaves the database as it was (and so does kill -9 of referee-rate); the
#   retried run has the right totals.
# Usage: e2e_cli.sh REFEREE_RATE GEN_CALLS SOURCE_DIR      (77 = skipped)
set -eu
rate=$1
gen=$2
src=$3
if [ -z "${PGHOST:-}" ]; then
    echo "PGHOST not set: no PostgreSQL server, skipped"
    exit 77
fi

work=$(mktemp -d /tmp/referee-e2e.XXXXXX)
db=referee_e2e_$$
cleanup() {
    for d in "$db" "${db}_empty" "${db}_kill" "${db}_force"; do
        dropdb --if-exists --force "$d" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT
createdb "$db"
createdb "${db}_empty"
createdb "${db}_kill"
createdb "${db}_force"

fail() {
    echo "FAIL: $*" >&2
    exit 1
}
q() { # q DB SQL: one value
    psql -X -A -t -q -v ON_ERROR_STOP=1 -d "$1" -c "$2"
}
check() { # check GOT WANT WHAT
    [ "$1" = "$2" ] || fail "$3: got '$1', want '$2'"
    echo "ok: $3"
}

deck=$src/rates/example.yaml
calls=$src/rates/example-calls.csv

# --- migrate twice ---------------------------------------------------------
"$rate" --db "dbname=$db" --migrate 2>"$work/err"
grep -q "from version 0 to 9" "$work/err" || fail "first migrate: $(cat "$work/err")"
"$rate" --db "dbname=$db" --migrate 2>"$work/err"
grep -q "nothing to do" "$work/err" || fail "second migrate: $(cat "$work/err")"
check "$(q "$db" "select count(*) from referee.schema_version")" 9 "migrate twice"

# --- refuses a database without the schema, names the database -----------
rc=0
"$rate" --quiet --deck "$deck" --db "dbname=${db}_empty" "$calls" 2>"$work/err" || rc=$?
check "$rc" 1 "no schema: exit 1"
grep -q "no referee schema" "$work/err" || fail "no schema message: $(cat "$work/err")"
rc=0
"$rate" --quiet --deck "$deck" --db "host=127.0.0.1 port=1 dbname=nowhere connect_timeout=2" "$calls" 2>"$work/err" || rc=$?
check "$rc" 1 "no server: exit 1"
grep -q '"nowhere" on host "127.0.0.1" port 1' "$work/err" || fail "connection message: $(cat "$work/err")"

# --- the views equal the CSV sink's charges.csv ----------------------------
# load charges.csv into a scratch table of the same shape and compare.
csv_vs_db() { # csv_vs_db DB CHARGES.CSV WHAT
    q "$1" "drop table if exists public.csv_charges;
        create table public.csv_charges (call_sid text, parent_call_sid text,
          leg text, scenario text, component int, service text, \"from\" text,
          \"to\" text, matched_prefix text, rate numeric, duration bigint,
          billable_seconds bigint, amount numeric, currency text, deck text,
          carrier_price numeric, carrier_price_unit text, plan text,
          sell_matched_prefix text, sell_rate numeric,
          sell_billable_seconds bigint, sell_amount numeric,
          sell_currency text, target_caller_id text)" >/dev/null
    psql -X -q -v ON_ERROR_STOP=1 -d "$1" \
        -c "\\copy public.csv_charges from '$2' with (format csv, header)"
    cols="call_sid, coalesce(parent_call_sid, '') p, leg, scenario, component,
          service, \"from\", \"to\", matched_prefix, rate, duration,
          billable_seconds, amount, currency, deck, carrier_price,
          coalesce(carrier_price_unit, '') u"
    check "$(q "$1" "select count(*) from (
        (select $cols from public.csv_charges
         except all select $cols from referee.current_charges)
        union all
        (select $cols from referee.current_charges
         except all select $cols from public.csv_charges)) x")" 0 \
        "$3: every charge row equal"
    want=$(q "$1" "select coalesce(sum(amount), 0) from public.csv_charges")
    check "$(q "$1" "select coalesce(sum(amount), 0) from referee.daily_totals")" "$want" "$3: daily_totals total"
    check "$(q "$1" "select coalesce(sum(amount), 0) from referee.monthly_totals")" "$want" "$3: monthly_totals total"
    check "$(q "$1" "select coalesce(sum(amount), 0) from referee.invoice_monthly where is_total")" "$want" "$3: invoice total"
    check "$(q "$1" "select string_agg(scenario || '=' || a, ' ' order by scenario)
        from (select scenario, sum(amount) a from referee.daily_totals group by 1) x")" \
        "$(q "$1" "select string_agg(scenario || '=' || a, ' ' order by scenario)
        from (select scenario, sum(amount) a from public.csv_charges group by 1) x")" \
        "$3: totals by scenario"
    check "$(q "$1" "select string_agg(k || '=' || a, ' ' order by k)
        from (select concat_ws('/', day, account_sid, trunk_sid, scenario, currency) k,
              sum(amount) a from referee.daily_totals group by 1) x")" \
        "$(q "$1" "select string_agg(k || '=' || a, ' ' order by k)
        from (select concat_ws('/', (c.start_time at time zone 'UTC')::date,
              c.account_sid, c.trunk_sid, g.scenario, g.currency) k,
              sum(g.amount) a from public.csv_charges g
              join referee.calls c on c.call_sid = g.call_sid
               and c.superseded_by_run is null group by 1) x")" \
        "$3: daily totals by account, trunk, scenario, currency"
    check "$(q "$1" "select count(*) || ' ' || coalesce(sum(total_amount), 0) from referee.transfers")" \
        "$(q "$1" "select (select count(distinct call_sid) from public.csv_charges
          where leg = 'child') || ' ' || coalesce(sum(amount), 0)
        from public.csv_charges where leg = 'child' or call_sid in
        (select parent_call_sid from public.csv_charges where leg = 'child')")" \
        "$3: transfers view"
}

"$rate" --quiet --deck "$deck" --db "dbname=$db" "$calls"
rm -rf "$work/csv1"
"$rate" --quiet --deck "$deck" --out "$work/csv1" "$calls"
csv_vs_db "$db" "$work/csv1/charges.csv" "example"
check "$(q "$db" "select count(*) from referee.pending")" 1 "the orphan child waits"

snapshot() {
    q "$1" "select concat_ws(' ', (select count(*) from referee.input_files),
        (select count(*) from referee.calls), (select count(*) from referee.charges),
        (select coalesce(sum(amount), 0) from referee.current_charges),
        (select count(*) from referee.rejects), (select count(*) from referee.pending))"
}

# --- the same file again: skipped -----------------------------------------
before=$(snapshot "$db")
"$rate" --deck "$deck" --db "postgresql:///$db" "$calls" 2>"$work/err"  # a URI
grep -q "1 files skipped" "$work/err" || fail "skip notice: $(cat "$work/err")"
check "$(snapshot "$db")" "$before" "same file again changes nothing"

# --- a sid rated in an earlier run is a duplicate -------------------------
head -2 "$calls" > "$work/again.csv"
"$rate" --deck "$deck" --db "dbname=$db" "$work/again.csv" 2>"$work/err"
grep -q "(1 duplicates)" "$work/err" || fail "duplicate count: $(cat "$work/err")"
check "$(q "$db" "select count(*) from referee.rejects where code = -10 and call_sid = 'CA01' and reason like '%already rated in run 1%'")" 1 "duplicate listed in rejects"
check "$(q "$db" "select sum(amount) from referee.current_charges")" \
    "$(q "$db" "select sum(amount) from public.csv_charges")" "duplicate not billed"

# --- a child whose parent comes a night later ------------------------------
{
    head -1 "$calls"
    echo 'CA99,,AC001,TK0001,trunking-terminating,+14155550199,+12125550127,2026-05-31T22:05:00Z,2026-05-31T22:12:30Z,450,completed,,'
} > "$work/night2.csv"
"$rate" --quiet --deck "$deck" --db "dbname=$db" "$work/night2.csv"
check "$(q "$db" "select count(*) from referee.pending")" 0 "pending child rated"
check "$(q "$db" "select parent_call_sid || '/' || child_call_sid || '/' || scenario from referee.transfers where child_call_sid = 'CA20'")" \
    "CA99/CA20/termination-sip" "late parent and child side by side"
rm -rf "$work/csv2"
"$rate" --quiet --deck "$deck" --out "$work/csv2" "$calls" "$work/night2.csv"
csv_vs_db "$db" "$work/csv2/charges.csv" "two nights = one run of both files"

# --- rerate with new prices -------------------------------------------------
mkdir -p "$work/deck2"
cp "$src"/rates/*.csv "$work/deck2/"
sed -e 's/deck: example-us/deck: example-us-2/' \
    -e 's/{ prefix: "1", rate: "0.0045" }/{ prefix: "1", rate: "0.0050" }/' \
    "$deck" > "$work/deck2/example.yaml"
before_all=$(q "$db" "select count(*) from referee.charges")
"$rate" --quiet --rerate --deck "$work/deck2/example.yaml" --db "dbname=$db" \
    --from 2026-05-01 --to 2026-07-01
rm -rf "$work/csv3"
"$rate" --quiet --deck "$work/deck2/example.yaml" --out "$work/csv3" "$calls" "$work/night2.csv"
csv_vs_db "$db" "$work/csv3/charges.csv" "rerated = rated with the new deck"
check "$(q "$db" "select count(*) from referee.charges where superseded_by_run is not null") $(q "$db" "select count(*) from referee.charges")" \
    "$before_all $((before_all * 2))" "old charges kept, superseded"

# --- --force with new prices replaces every call of the file ---------------
# children included: they name their file, so the forced load supersedes them
# (they were once stored without a file id and stayed current, old prices)
"$rate" --quiet --db "dbname=${db}_force" --migrate
"$rate" --quiet --deck "$deck" --db "dbname=${db}_force" "$calls"
"$rate" --quiet --force --deck "$work/deck2/example.yaml" --db "dbname=${db}_force" "$calls"
rm -rf "$work/csv4"
"$rate" --quiet --deck "$work/deck2/example.yaml" --out "$work/csv4" "$calls"
csv_vs_db "${db}_force" "$work/csv4/charges.csv" "--force = rated with the new deck"
check "$(q "${db}_force" "select count(*) from referee.calls where superseded_by_run is null and run_id = 1") $(q "${db}_force" "select count(*) from referee.rejects where run_id = 2 and reason like '%already rated%'")" \
    "0 0" "--force: nothing of the first run current, nothing a duplicate"

# --- two runs at once: one waits for the other, both commit ------------------
for n in 1 2; do
    {
        head -1 "$calls"
        echo "CAX$n,,AC009,TK0001,trunking-terminating,+14155550100,+12125550199,2026-08-0${n}T10:00:00Z,,60,completed,,"
    } > "$work/par$n.csv"
done
"$rate" --quiet --deck "$deck" --db "dbname=$db" "$work/par1.csv" & p1=$!
"$rate" --quiet --deck "$deck" --db "dbname=$db" "$work/par2.csv" & p2=$!
rc1=0; rc2=0
wait $p1 || rc1=$?
wait $p2 || rc2=$?
check "$rc1 $rc2" "0 0" "two runs at once both commit"
check "$(q "$db" "select count(*) from referee.current_charges where call_sid like 'CAX%'")" 2 "both runs stored"

# --- a backend killed during COPY -------------------------------------------
"$gen" calls 300000 > "$work/big.csv"
"$gen" deck 1000 "$work"
"$rate" --quiet --db "dbname=${db}_kill" --migrate 2>/dev/null
"$rate" --quiet --deck "$deck" --db "dbname=${db}_kill" "$calls"
before=$(snapshot "${db}_kill")
rc=0
"$rate" --quiet --deck "$work/bench.yaml" \
    --db "dbname=${db}_kill application_name=victim" "$work/big.csv" \
    2>"$work/kill.err" &
pid=$!
killed=0
i=0
while [ $i -lt 600 ]; do
    n=$(q "${db}_kill" "select count(pg_terminate_backend(pid)) from pg_stat_activity
        where application_name = 'victim' and query like 'COPY%'
        and datname = current_database()")
    if [ "$n" = 1 ]; then
        killed=1
        break
    fi
    kill -0 $pid 2>/dev/null || break
    sleep 0.05
    i=$((i + 1))
done
wait $pid || rc=$?
[ $killed = 1 ] || fail "the run ended before its COPY could be killed"
check "$rc" 1 "killed run: exit 1"
grep -q "SQLSTATE" "$work/kill.err" || fail "killed run message: $(cat "$work/kill.err")"
echo "   $(head -2 "$work/kill.err" | tr '\n' ' ')"
check "$(snapshot "${db}_kill")" "$before" "killed run left the database as before"

# kill -9 of referee-rate itself during its COPY: the server rolls back
"$rate" --quiet --deck "$work/bench.yaml" \
    --db "dbname=${db}_kill application_name=victim9" "$work/big.csv" \
    2>/dev/null &
pid=$!
killed=0
i=0
while [ $i -lt 600 ]; do
    n=$(q "${db}_kill" "select count(*) from pg_stat_activity
        where application_name = 'victim9' and query like 'COPY%'
        and datname = current_database()")
    if [ "$n" = 1 ]; then
        kill -9 $pid
        killed=1
        break
    fi
    kill -0 $pid 2>/dev/null || break
    sleep 0.05
    i=$((i + 1))
done
wait $pid 2>/dev/null || true
[ $killed = 1 ] || fail "the run ended before it could be killed"
i=0
while [ "$(q "${db}_kill" "select count(*) from pg_stat_activity where application_name = 'victim9' and datname = current_database()")" != 0 ]; do
    i=$((i + 1))
    [ $i -lt 200 ] || fail "the killed client's backend did not go away"
    sleep 0.05
done
check "$(snapshot "${db}_kill")" "$before" "kill -9 of the rater left the database as before"

"$rate" --quiet --deck "$work/bench.yaml" --db "dbname=${db}_kill" "$work/big.csv"
rm -rf "$work/csv4"
"$rate" --quiet --deck "$work/bench.yaml" --out "$work/csv4" "$work/big.csv"
want=$(psql -X -A -t -q -v ON_ERROR_STOP=1 -d "${db}_kill" \
    -c "create temp table t (call_sid text, parent_call_sid text,
          leg text, scenario text, component int, service text, \"from\" text,
          \"to\" text, matched_prefix text, rate numeric, duration bigint,
          billable_seconds bigint, amount numeric, currency text, deck text,
          carrier_price numeric, carrier_price_unit text, plan text,
          sell_matched_prefix text, sell_rate numeric,
          sell_billable_seconds bigint, sell_amount numeric,
          sell_currency text, target_caller_id text)" \
    -c "\\copy t from '$work/csv4/charges.csv' with (format csv, header)" \
    -c "select count(*) || ' ' || sum(amount) from t")
check "$(q "${db}_kill" "select count(*) || ' ' || sum(amount) from referee.current_charges where deck <> 'example-us'")" \
    "$want" "retried run = uninterrupted run"
echo "all ok"

#!/bin/sh
# Benchmark of referee-rate --db (issue: 1,000,000 transfer cases into a
# fresh database, end to end: read, rate, COPY, merge, commit), against, on
# the same data and server:
#   (a) plain \copy of the same charge rows into a table of the same shape
#       (LIKE referee.charges: its 29 columns, no index or constraint), the
#       rows referee stored, as COPY text: the floor of any loader; also
#       (a2) the same charge rows and call rows, in one transaction (text,
#       and binary as referee sends them): (a) for all a run must store;
#       (a') the CSV sink's charges.csv into a table of its 24 columns;
#   (b) rating in pure SQL: \copy the raw CSV, then price every component
#       with hash joins on left(number, L) for each prefix length L.
# Also: a second run of the same file (skipped), a second night, a rerate
# of the first night (all of it staged and merged), and a check that they
# agree on the number of charge rows and the total.
#
# Run inside a throw-away cluster:
#   pg_virtualenv -t -v 15 tests/bench/bench_pg.sh [CASES] [PREFIXES]
#   SIDS=random pg_virtualenv ...: sids that look random (see below)
#   PLANS=1 pg_virtualenv ...: every run also prices the sell side, with
#       gen_calls' three plans of PREFIXES prefixes each (--plans)
# Data goes to $BENCH_DIR (default /tmp/referee-bench), never the repo.
set -eu
cases=${1:-1000000}
prefixes=${2:-20000}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=${BENCH_DIR:-/tmp/referee-bench}
build="$root/build/release"

if [ -z "${PGHOST:-}" ]; then
    echo "no PostgreSQL: run inside pg_virtualenv -t -v 15 $0" >&2
    exit 1
fi
command -v /usr/bin/time >/dev/null || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j"$(nproc)" --target referee-rate gen_calls >/dev/null
mkdir -p "$work"
# SIDS=random: sids that look random, as a carrier's do (the default counts
# up, which keeps every index insertion at the right edge of its index)
case ${SIDS:-sequential} in
sequential) calls="$work/calls-$cases.csv"; sid_opt= ;;
random) calls="$work/calls-$cases-random.csv"; sid_opt=--random-sids ;;
*) echo "SIDS is sequential or random" >&2; exit 64 ;;
esac
[ -s "$calls" ] || "$build/tests/gen_calls" calls "$cases" $sid_opt > "$calls"
"$build/tests/gen_calls" deck "$prefixes" "$work"
plans_opt=
if [ -n "${PLANS:-}" ]; then
    "$build/tests/gen_calls" plans "$prefixes" "$work"
    plans_opt="--plans $work/plans.yaml"
fi
rate="$build/referee-rate"
db=referee_bench_$$
trap 'dropdb --if-exists --force "$db" 2>/dev/null || true' EXIT
createdb "$db"
q() { psql -X -A -t -q -v ON_ERROR_STOP=1 -d "$db" "$@"; }
timed() { # timed LABEL CMD...: wall seconds into $work/t.LABEL
    # each from a clean start: no checkpoint owed by the step before
    q -c checkpoint
    /usr/bin/time -f "%e" -o "$work/t.$1" sh -c "shift; \"\$@\"" sh "$@"
}
secs() { cat "$work/t.$1"; }

echo "input: $calls ($(($(wc -l < "$calls") - 1)) rows); deck: $prefixes termination prefixes${plans_opt:+; plans: $work/plans.yaml}"
"$rate" --quiet --db "dbname=$db" --migrate

# --- referee, end to end --------------------------------------------------
timed ref "$rate" --quiet --deck "$work/bench.yaml" $plans_opt --db "dbname=$db" "$calls"
timed skip "$rate" --quiet --deck "$work/bench.yaml" $plans_opt --db "dbname=$db" "$calls"
ref=$(q -c "select count(*) || ' rows, total ' || sum(amount) from referee.current_charges")

# --- (a) plain \copy of the same charge rows --------------------------------
q -c "\\copy (select * from referee.charges where run_id = (select min(run_id) from referee.runs)) to '$work/charges-pg.txt'"
q -c "create table same_shape (like referee.charges)"
timed copy psql -X -q -d "$db" -c "\\copy same_shape from '$work/charges-pg.txt'"
same=$(q -c "select count(*) || ' rows, total ' || sum(amount) from same_shape")
# (a2) (a) for all a run must store: the same charge rows and the same call
# rows, into tables of their shapes, in one transaction; no index, no
# constraint, no register.  Once as text (as (a)), once in COPY's binary
# format (as referee sends them).
floor_step() { # floor_step LABEL COPY-OPTIONS
    q -c "create table same_calls (like referee.calls)" -c "create table same_charges (like referee.charges)"
    printf '%s\n' "\\copy same_calls from '$work/calls-pg.$1' $2" \
        "\\copy same_charges from '$work/charges-pg.$1' $2" > "$work/floor.sql"
    timed "floor-$1" psql -X -q -1 -v ON_ERROR_STOP=1 -d "$db" -f "$work/floor.sql"
    q -c "drop table same_calls, same_charges"
}
first_run="run_id = (select min(run_id) from referee.runs)"
q -c "\\copy (select * from referee.calls where $first_run) to '$work/calls-pg.txt'"
q -c "\\copy (select * from referee.calls where $first_run) to '$work/calls-pg.bin' with (format binary)"
q -c "\\copy (select * from referee.charges where $first_run) to '$work/charges-pg.bin' with (format binary)"
floor_step txt ""
floor_step bin "with (format binary)"
rm -f "$work"/charges-pg.* "$work"/calls-pg.*
# (a') the CSV sink's charges.csv, into a table of its columns
rm -rf "$work/rated-pg"
"$rate" --quiet --deck "$work/bench.yaml" $plans_opt --out "$work/rated-pg" "$calls"
q -c "create table plain_charges (call_sid text, parent_call_sid text,
      leg text, scenario text, component smallint, service text, \"from\" text,
      \"to\" text, matched_prefix text, rate numeric, duration bigint,
      billable_seconds bigint, amount numeric, currency text, deck text,
      carrier_price numeric, carrier_price_unit text, plan text,
      sell_matched_prefix text, sell_rate numeric,
      sell_billable_seconds bigint, sell_amount numeric, sell_currency text,
      target_caller_id text)"
timed csv psql -X -q -d "$db" -c "\\copy plain_charges from '$work/rated-pg/charges.csv' with (format csv, header)"
plain=$(q -c "select count(*) || ' rows, total ' || sum(amount) from plain_charges")
sell_sums="select coalesce(string_agg(c || ' ' || a, ', ' order by c), 'none') from
    (select sell_currency c, sum(sell_amount) a from %s where sell_currency is not null %s group by 1) x"
# shellcheck disable=SC2059
ref_sell=$(q -c "$(printf "$sell_sums" referee.charges "and $first_run")")
# shellcheck disable=SC2059
plain_sell=$(q -c "$(printf "$sell_sums" plain_charges "")")

# --- (b) rating in pure SQL ---------------------------------------------------
# The bench deck: termination prefixes from the csv list (+ sip class),
# origination by country code (+ sip class), 60/60, 6 decimals, half-up.
orig_values=$(sed -n 's/^  - { prefix: "\([0-9]*\)", rate: "\([0-9.]*\)" }$/(\x27\1\x27, \2),/p' \
    "$work/bench.yaml" | tr -d '\n' | sed 's/,$//')
cat > "$work/rate.sql" <<EOF
\\set ON_ERROR_STOP 1
create table raw (sid text, parent_call_sid text, account_sid text,
    trunk_sid text, direction text, "from" text, "to" text,
    start_time timestamptz, end_time timestamptz, duration bigint,
    status text, price numeric, price_unit text);
\\copy raw from '$calls' with (format csv, header)
create table term (prefix text primary key, rate numeric);
\\copy term from '$work/bench-termination.csv' with (format csv, header)
create table orig (prefix text primary key, rate numeric);
insert into orig values $orig_values;
-- one row per charge component, its destination digits (NULL: a SIP URI)
set work_mem = '256MB';
create unlogged table comp as
with calls as (
    select r.*, case when "to" like 'sip:%' and "to" not like '%.pstn.twilio.com%'
                     then null else regexp_replace("to", '^(tel:)?\\+', '') end as to_digits
    from raw r where status = 'completed'),
legs as (
    select c.*, p.direction as pdir, p.to_digits as p_to_digits,
           case when c.parent_call_sid is null then
                     case when c.sid in (select parent_call_sid from raw where parent_call_sid is not null)
                          then 'parent' else 'single' end
                else 'child' end as leg,
           (c.to_digits is null) as sip_target
    from calls c left join calls p on p.sid = c.parent_call_sid)
-- parent / single: the leg's own service, to its destination
select sid, leg, 1 as component,
       case when direction = 'trunking-terminating' then 'termination' else 'origination' end as service,
       to_digits as dest, duration
from legs where leg <> 'child'
union all
-- child, first component: termination -> Term(x->B); origination SIP ->
-- Orig(A->C); origination PSTN -> Orig(A->B)
select sid, leg, 1,
       case when pdir = 'trunking-terminating' then 'termination' else 'origination' end,
       case when pdir = 'trunking-originating' and sip_target then null else p_to_digits end,
       duration
from legs where leg = 'child'
union all
-- child to the PSTN, second component: Term(A->C) / Term(B->C)
select sid, leg, 2, 'termination', to_digits, duration
from legs where leg = 'child' and not sip_target;
EOF
lens=$(cut -d, -f1 "$work/bench-termination.csv" | tail -n +2 | awk '{ print length($0) }' | sort -rnu)
olens=$(sed -n 's/^  - { prefix: "\([0-9]*\)", rate: .*/\1/p' "$work/bench.yaml" | awk '{ print length($0) }' | sort -rnu)
# Longest prefix: one hash left join per prefix length, the longest match
# first in a coalesce (no sort, no nested loop).
{
    echo "set work_mem = '256MB';"
    echo "create table sql_charges as"
    echo "select c.sid, c.leg, c.component, c.service, c.dest, r.rate, c.duration,"
    echo "       (c.duration + 59) / 60 * 60 as billable_seconds,"
    echo "       round(r.rate * ((c.duration + 59) / 60 * 60) / 60, 6) as amount"
    echo "from comp c"
    tj=""; tc=""
    for l in $lens; do
        echo "left join term t$l on c.service = 'termination' and t$l.prefix = left(c.dest, $l)"
        tc="$tc t$l.rate,"
    done
    oc=""
    for l in $olens; do
        echo "left join orig o$l on c.service = 'origination' and o$l.prefix = left(c.dest, $l)"
        oc="$oc o$l.rate,"
    done
    echo "cross join lateral (select case"
    echo "    when c.dest is null then case c.service when 'termination' then 0.0040 else 0.0034 end"
    echo "    when c.service = 'termination' then coalesce($tc null)"
    echo "    else coalesce($oc null) end as rate) r;"
} >> "$work/rate.sql"
timed sql psql -X -q -d "$db" -f "$work/rate.sql"
sqlr=$(q -c "select count(*) || ' rows, total ' || sum(amount) from sql_charges")

# --- a second night (last: its writes must not weigh on (a) and (b)) -------
# As many cases, other sids, ten days later: the month exists and the
# register is full, so every index is kept up row by row.
night2="${calls%.csv}-night2.csv"
[ -s "$night2" ] || sed 's/\(^\|,\)CA\([0-9a-f]\{32\}\)/\1CB\2/g; s/2026-05-1\([01]\)T/2026-05-2\1T/g' "$calls" > "$night2"
timed night2 "$rate" --quiet --deck "$work/bench.yaml" $plans_opt --db "dbname=$db" "$night2"
# A rerate of the first night: every call staged and merged at commit (the
# merge functions of schema 008), the old rows superseded.  Same deck: the
# first night's total must not move.
first_total() {
    q -c "select count(*) || ' rows, total ' || sum(amount) from referee.current_charges where start_time < '2026-05-20'"
}
# Statistics first, as autovacuum gives a nightly database long before
# anyone rerates it: without them the planner takes the fresh months for
# empty and reads the stored calls with nested loops (minutes, not
# seconds, on this size).
q -c analyze
timed rerate "$rate" --quiet --rerate --deck "$work/bench.yaml" $plans_opt --db "dbname=$db" \
    --from 2026-05-01 --to 2026-05-20
rerated=$(first_total)

echo
echo "referee --db (read, rate, COPY, merge, commit): $(secs ref) s   [$ref]"
[ -z "$plans_opt" ] || echo "  sold (plans): $ref_sell"
echo "same file again (skipped):                      $(secs skip) s"
echo "a second night into the same month:             $(secs night2) s"
echo "a rerate of the first night (staged, merged):   $(secs rerate) s   [$rerated]"
echo "(a) plain copy, same rows, same shape:          $(secs copy) s   [$same]"
echo "(a2) plain copy, same calls and charge rows:   $(secs floor-txt) s (binary: $(secs floor-bin) s)"
echo "(a') plain copy of charges.csv (24 columns):     $(secs csv) s   [$plain]"
echo "(b) pure SQL rating (copy raw + SQL):           $(secs sql) s   [$sqlr]"
awk -v r="$(secs ref)" -v a="$(secs copy)" -v b="$(secs sql)" \
    'BEGIN { printf "ratios: referee / (a) = %.2f, (b) / referee = %.2f\n", r / a, b / r }'
[ "$ref" = "$plain" ] || echo "WARNING: referee and the CSV sink disagree" >&2
[ "$ref_sell" = "$plain_sell" ] || echo "WARNING: referee and the CSV sink disagree on the sell side" >&2
[ "$ref" = "$same" ] || echo "WARNING: the same-shape copy disagrees" >&2
[ "$ref" = "$sqlr" ] || echo "WARNING: the SQL rating disagrees with referee" >&2
[ "$ref" = "$rerated" ] || echo "WARNING: the rerate changed the first night" >&2

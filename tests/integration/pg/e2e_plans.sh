#!/bin/sh
# referee-rate --plans --db end to end, against the PostgreSQL of
# pg_virtualenv: every charge column (cost and sell side, as text) equals
# charges.csv of the same input rated with --out; the run's plans and sell
# totals equal summary.json's; margin_monthly and invoice_monthly_sell sum
# to the CSV's; a pending child rated with its late parent, and a child of
# a parent stored by an earlier run, get their own account's plan; a
# duplicate leaves the sell totals of what was stored; --rerate with new
# plans re-prices the sell side, --rerate without --plans leaves none.
# Usage: e2e_plans.sh REFEREE_RATE SOURCE_DIR      (77 = skipped)
set -eu
rate=$1
src=$2
if [ -z "${PGHOST:-}" ]; then
    echo "PGHOST not set: no PostgreSQL server, skipped"
    exit 77
fi

work=$(mktemp -d /tmp/referee-plans.XXXXXX)
db=referee_plans_$$
cleanup() {
    dropdb --if-exists --force "$db" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
createdb "$db"

fail() {
    echo "FAIL: $*" >&2
    exit 1
}
q() { # q SQL: one value
    psql -X -A -t -q -v ON_ERROR_STOP=1 -d "$db" -c "$1"
}
check() { # check GOT WANT WHAT
    [ "$1" = "$2" ] || fail "$3: got '$1', want '$2'"
    echo "ok: $3"
}

deck=$src/rates/example.yaml
plans=$src/rates/plans.yaml
calls=$src/rates/example-calls.csv

# Every column of charges.csv, numbers as the text written: equal as sets
# of rows (with repeats) to the current charges.
csv_vs_db() { # csv_vs_db CHARGES.CSV WHAT
    q "drop table if exists public.csv_charges;
       create table public.csv_charges (call_sid text, parent_call_sid text,
         leg text, scenario text, component int, service text, \"from\" text,
         \"to\" text, matched_prefix text, rate text, duration bigint,
         billable_seconds bigint, amount text, currency text, deck text,
         carrier_price text, carrier_price_unit text, plan text,
         sell_matched_prefix text, sell_rate text,
         sell_billable_seconds bigint, sell_amount text,
         sell_currency text, target_caller_id text)" >/dev/null
    psql -X -q -v ON_ERROR_STOP=1 -d "$db" \
        -c "\\copy public.csv_charges from '$1' with (format csv, header)"
    c="call_sid, coalesce(parent_call_sid, ''), leg, scenario, component,
       service, \"from\", \"to\", matched_prefix, rate::text, duration,
       billable_seconds, amount::text, currency, deck,
       coalesce(carrier_price::text, ''), coalesce(carrier_price_unit, ''),
       coalesce(plan, ''), coalesce(sell_matched_prefix, ''),
       coalesce(sell_rate::text, ''), sell_billable_seconds,
       coalesce(sell_amount::text, ''), coalesce(sell_currency, ''),
       coalesce(target_caller_id, '')"
    check "$(q "select count(*) from public.csv_charges")" \
        "$(q "select count(*) from referee.current_charges")" "$2: as many rows"
    check "$(q "select count(*) from (
        (select $c from public.csv_charges
         except all select $c from referee.current_charges)
        union all
        (select $c from referee.current_charges
         except all select $c from public.csv_charges)) x")" 0 \
        "$2: every column of every charge row equal"
}

"$rate" --quiet --db "dbname=$db" --migrate

# --- one night, direct load ---------------------------------------------
"$rate" --quiet --deck "$deck" --plans "$plans" --db "dbname=$db" "$calls"
rm -rf "$work/csv1"
"$rate" --quiet --deck "$deck" --plans "$plans" --out "$work/csv1" "$calls"
csv_vs_db "$work/csv1/charges.csv" "example with plans"
check "$(q "select count(*) from referee.current_charges where plan is null")" \
    0 "every charge has a plan"

sha=$(sed -n '/"plans"/,/}/s/.*"sha256": "\([0-9a-f]*\)".*/\1/p' "$work/csv1/summary.json")
check "$(q "select plans_sha256 || ' ' || plans_path from referee.run_history where run_id = 1")" \
    "$sha $plans" "the run's plans: summary.json's sha256, the path given"
# summary.json's sell_totals as "CUR components amount" lines
want=$(tr -d ' \n' < "$work/csv1/summary.json" |
    sed 's/.*"sell_totals":\[\([^]]*\)\].*/\1/' | tr '}' '\n' |
    sed -n 's/.*"currency":"\([A-Z]*\)","components":\([0-9]*\),"amount":"\([0-9.]*\)".*/\1 \2 \3/p')
check "$(q "select string_agg(concat_ws(' ', e->>'currency', e->>'components',
        e->>'amount'), chr(10) order by o)
        from referee.runs, jsonb_array_elements(sell_totals) with ordinality t(e, o)
        where run_id = 1")" "$want" "the run's sell totals = summary.json's"

# --- the finance views on the sell side -----------------------------------
check "$(q "select string_agg(k, ' ' order by k) from (select concat_ws('/',
        account_sid, plan, currency, cost, sell_currency, sell,
        coalesce(margin::text, '-')) k from (select account_sid, plan,
        currency, sum(cost) cost, sell_currency, sum(sell) sell, sum(margin) margin
        from referee.margin_monthly group by 1, 2, 3, 5) m) x")" \
    "$(q "select string_agg(k, ' ' order by k) from (select concat_ws('/',
        c.account_sid, g.plan, g.currency, sum(g.amount::numeric),
        g.sell_currency, sum(g.sell_amount::numeric),
        case when g.sell_currency = g.currency then
        (sum(g.sell_amount::numeric) - sum(g.amount::numeric))::text
        else '-' end) k from public.csv_charges g join referee.calls c
        on c.call_sid = g.call_sid and c.superseded_by_run is null
        group by c.account_sid, g.plan, g.currency, g.sell_currency) x")" \
    "margin_monthly: cost, sell and margin per account and plan"
check "$(q "select count(*) from referee.margin_monthly
        where sell_currency <> currency and margin is not null")" 0 \
    "no margin across currencies"
check "$(q "select string_agg(account_sid || '/' || currency || '=' || amount, ' '
        order by account_sid, currency) from (select account_sid, currency,
        sum(amount) amount from referee.invoice_monthly_sell where is_total
        group by 1, 2) x")" \
    "$(q "select string_agg(account_sid || '/' || sell_currency || '=' || a, ' '
        order by account_sid, sell_currency) from (select c.account_sid,
        g.sell_currency, sum(g.sell_amount::numeric) a from public.csv_charges g
        join referee.calls c on c.call_sid = g.call_sid
         and c.superseded_by_run is null group by 1, 2) x")" \
    "invoice_monthly_sell: each account's total in its plan's currency"
check "$(q "select sum(amount) from referee.invoice_monthly_sell where not is_total
        and currency = 'USD'") $(q "select sum(amount) from referee.invoice_monthly_sell
        where is_total and currency = 'USD'")" \
    "$(q "select sum(sell_amount::numeric) from public.csv_charges where sell_currency = 'USD'") $(q "select sum(sell_amount::numeric) from public.csv_charges where sell_currency = 'USD'")" \
    "invoice_monthly_sell: lines add up to the totals"
check "$(q "select coalesce(sum(parent_sell_amount), 0) + coalesce(sum(child1_sell_amount), 0)
        + coalesce(sum(child2_sell_amount), 0) from referee.transfers where child_sell_currency = 'USD'
        and parent_sell_currency = 'USD'") $(q "select count(*) from referee.transfers
        where total_sell_amount is null")" \
    "$(q "select sum(total_sell_amount) from referee.transfers") 1" \
    "transfers: the sell side, totals only in one currency"

# --- a duplicate: the sell totals of what was stored (none) -----------------
head -2 "$calls" > "$work/again.csv"
"$rate" --quiet --deck "$deck" --plans "$plans" --db "dbname=$db" "$work/again.csv"
check "$(q "select duplicates || ' ' || sell_totals::text from referee.runs where run_id = 2")" \
    "1 []" "a duplicate is not in the sell totals"

# --- the late parent of a pending child; a child of a stored parent ---------
{
    head -1 "$calls"
    echo 'CA99,,AC001,TK0001,trunking-terminating,+14155550199,+12125550127,2026-05-31T22:05:00Z,2026-05-31T22:12:30Z,450,completed,,'
} > "$work/night2.csv"
{
    head -1 "$calls"
    echo 'CA98,CA01,AC003,TK0001,trunking-terminating,+12125550199,+442071838752,2026-05-31T14:01:00Z,2026-05-31T14:02:05Z,65,completed,,'
} > "$work/night3.csv"
"$rate" --quiet --deck "$deck" --plans "$plans" --db "dbname=$db" "$work/night2.csv"
"$rate" --quiet --deck "$deck" --plans "$plans" --db "dbname=$db" "$work/night3.csv"
rm -rf "$work/csv2"
"$rate" --quiet --deck "$deck" --plans "$plans" --out "$work/csv2" \
    "$calls" "$work/night2.csv" "$work/night3.csv"
csv_vs_db "$work/csv2/charges.csv" "three nights = one run of the three files"
check "$(q "select string_agg(call_sid || ':' || plan || ':' || sell_currency || ':' || leg, ' '
        order by call_sid) from referee.current_charges where component = 1 and call_sid in ('CA20', 'CA98', 'CA01')")" \
    "CA01:retail:USD:parent CA20:retail:USD:child CA98:europe:EUR:child" \
    "children priced by their own account's plan, parents relabelled"

# --- rerate with new plans, then without plans ------------------------------
mkdir -p "$work/plans2"
cp "$src"/rates/plan-europe.yaml "$src"/rates/plans.yaml "$work/plans2/"
sed 's/{ prefix: "1", rate: "0.0100" }/{ prefix: "1", rate: "0.0110" }/' \
    "$src/rates/plan-retail.yaml" > "$work/plans2/plan-retail.yaml"
"$rate" --quiet --rerate --deck "$deck" --plans "$work/plans2/plans.yaml" \
    --db "dbname=$db" --from 2026-05-01 --to 2026-07-01
rm -rf "$work/csv3"
"$rate" --quiet --deck "$deck" --plans "$work/plans2/plans.yaml" --out "$work/csv3" \
    "$calls" "$work/night2.csv" "$work/night3.csv"
csv_vs_db "$work/csv3/charges.csv" "rerated with new plans = rated with them"
check "$(q "select count(*) > 0 from referee.charges where superseded_by_run is not null
        and plan = 'retail' and sell_matched_prefix = '1' and service = 'termination'
        and sell_rate = 0.0100") $(q "select count(*) from referee.current_charges
        where plan = 'retail' and sell_matched_prefix = '1' and service = 'termination'
        and sell_rate <> 0.0110")" "t 0" "old sell prices kept, superseded; new ones current"
run=$(q "select max(run_id) from referee.runs")
check "$(q "select sell_totals is not null and plans_path = '$work/plans2/plans.yaml'
        from referee.runs where run_id = $run")" t "the rerate records its plans"
"$rate" --quiet --rerate --deck "$deck" --db "dbname=$db" --from 2026-05-01 --to 2026-07-01
check "$(q "select count(*) || ' ' || count(plan) || ' ' || count(sell_amount)
        from referee.current_charges")" \
    "$(q "select count(*) from referee.current_charges") 0 0" \
    "rerate without --plans: the new rows have no sell side"
check "$(q "select coalesce(plans_sha256, '-') || ' ' || coalesce(sell_totals::text, '-')
        from referee.runs where run_id = $run + 1")" "- -" \
    "a run without plans records none"
check "$(q "select count(*) from referee.margin_monthly where sell is not null")" 0 \
    "margin_monthly: no sell side, no margin"
echo "all ok"

#!/bin/sh
# Benchmark of referee-rate to the CSV sink (issue: 1,000,000 transfer cases,
# 2,000,000 rows, deck of 20,000 termination prefixes, under 4 s wall and
# 400 MB peak on 2 cores), then the same with --plans.  Run by hand:
#   tests/bench/bench_rate.sh [CASES] [PREFIXES]
# Prints each run's wall seconds and peak RSS, the medians of 3 runs and
# the ratio with plans / without.
# Data goes to $BENCH_DIR (default /tmp/referee-bench), never the repo.
set -eu
cases=${1:-1000000}
prefixes=${2:-20000}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=${BENCH_DIR:-/tmp/referee-bench}
build="$root/build/release"

command -v /usr/bin/time >/dev/null || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j"$(nproc)" --target referee-rate gen_calls >/dev/null
mkdir -p "$work"
calls="$work/calls-$cases.csv"
[ -s "$calls" ] || "$build/tests/gen_calls" calls "$cases" > "$calls"
"$build/tests/gen_calls" deck "$prefixes" "$work"
echo "input: $calls ($(wc -c < "$calls") bytes, $(($(wc -l < "$calls") - 1)) rows); deck: $prefixes termination prefixes"

# Without and with --plans (three plan decks of as many prefixes), side by
# side in each round so both see the same machine (issue: with plans at
# most 1.3x the time without).
"$build/tests/gen_calls" plans "$prefixes" "$work"
: > "$work/times"
: > "$work/times.plans"
for i in 1 2 3; do
    /usr/bin/time -f "%e %M" -o "$work/time.$i" \
        "$build/referee-rate" --quiet --deck "$work/bench.yaml" \
        --out "$work/rated" "$calls"
    read -r wall rss < "$work/time.$i"
    echo "run $i: ${wall} s wall, $((rss / 1024)) MB peak RSS"
    echo "$wall $rss" >> "$work/times"
    /usr/bin/time -f "%e %M" -o "$work/time.$i" \
        "$build/referee-rate" --quiet --deck "$work/bench.yaml" \
        --plans "$work/plans.yaml" --out "$work/rated-plans" "$calls"
    read -r wall rss < "$work/time.$i"
    echo "run $i with plans: ${wall} s wall, $((rss / 1024)) MB peak RSS"
    echo "$wall $rss" >> "$work/times.plans"
done
sort -n "$work/times" | sed -n 2p > "$work/median"
sort -n "$work/times.plans" | sed -n 2p > "$work/median.plans"
read -r wall rss < "$work/median"
read -r pwall prss < "$work/median.plans"
echo "median of 3: ${wall} s wall, $((rss / 1024)) MB peak RSS"
echo "median of 3 with plans: ${pwall} s wall, $((prss / 1024)) MB peak RSS"
python3 -c 'import sys; print("with plans / without: %.2fx time, %.2fx memory" % (float(sys.argv[1]) / float(sys.argv[2]), float(sys.argv[3]) / float(sys.argv[4])))' \
    "$pwall" "$wall" "$prss" "$rss"
python3 -c 'import json, sys; print("sell totals:", json.load(open(sys.argv[1]))["sell_totals"])' "$work/rated-plans/summary.json"
python3 -c 'import json, sys; print("counts:", json.load(open(sys.argv[1]))["counts"])' "$work/rated/summary.json"

# Deck load and full validation with 100,000 prefixes (issue: well under 1 s).
mkdir -p "$work/deck100k"
"$build/tests/gen_calls" deck 100000 "$work/deck100k"
/usr/bin/time -f "%e %M" -o "$work/time.deck" \
    "$build/referee-rate" --check-deck "$work/deck100k/bench.yaml" 2>/dev/null
read -r wall rss < "$work/time.deck"
echo "deck of 100000 prefixes: loaded and validated in ${wall} s, $((rss / 1024)) MB peak RSS"

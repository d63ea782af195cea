#!/bin/sh
# Benchmark of referee-rate to the CSV sink (issue: 1,000,000 transfer cases,
# 2,000,000 rows, deck of 20,000 termination prefixes, under 4 s wall and
# 400 MB peak on 2 cores), then the same with --plans.  Run by hand:
#   tests/bench/bench_rate.sh [CASES] [PREFIXES]
# Prints each run's wall and CPU (user + system) seconds and peak RSS, the
# medians of 3 runs and the ratios with plans / without.  On a shared
# machine the CPU ratio is the steadier one: wall time also counts the
# time other processes held the cores.
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
    /usr/bin/time -f "%e %M %U %S" -o "$work/time.$i" \
        "$build/referee-rate" --quiet --deck "$work/bench.yaml" \
        --out "$work/rated" "$calls"
    read -r wall rss usr sys < "$work/time.$i"
    cpu=$(awk "BEGIN { print $usr + $sys }")
    echo "run $i: ${wall} s wall, ${cpu} s CPU, $((rss / 1024)) MB peak RSS"
    echo "$wall $rss $cpu" >> "$work/times"
    /usr/bin/time -f "%e %M %U %S" -o "$work/time.$i" \
        "$build/referee-rate" --quiet --deck "$work/bench.yaml" \
        --plans "$work/plans.yaml" --out "$work/rated-plans" "$calls"
    read -r wall rss usr sys < "$work/time.$i"
    cpu=$(awk "BEGIN { print $usr + $sys }")
    echo "run $i with plans: ${wall} s wall, ${cpu} s CPU, $((rss / 1024)) MB peak RSS"
    echo "$wall $rss $cpu" >> "$work/times.plans"
done
# The median of each column on its own: the run with the median wall time
# need not be the one with the median CPU time.
median() { cut -d' ' -f"$2" "$1" | sort -n | sed -n 2p; }
wall=$(median "$work/times" 1); rss=$(median "$work/times" 2); cpu=$(median "$work/times" 3)
pwall=$(median "$work/times.plans" 1); prss=$(median "$work/times.plans" 2); pcpu=$(median "$work/times.plans" 3)
echo "median of 3: ${wall} s wall, ${cpu} s CPU, $((rss / 1024)) MB peak RSS"
echo "median of 3 with plans: ${pwall} s wall, ${pcpu} s CPU, $((prss / 1024)) MB peak RSS"
python3 -c 'import sys; w, pw, c, pc, m, pm = map(float, sys.argv[1:]); print("with plans / without: %.2fx wall, %.2fx CPU, %.2fx memory" % (pw / w, pc / c, pm / m))' \
    "$wall" "$pwall" "$cpu" "$pcpu" "$rss" "$prss"
python3 -c 'import json, sys; print("sell totals:", json.load(open(sys.argv[1]))["sell_totals"])' "$work/rated-plans/summary.json"
python3 -c 'import json, sys; print("counts:", json.load(open(sys.argv[1]))["counts"])' "$work/rated/summary.json"

# Deck load and full validation with 100,000 prefixes (issue: well under 1 s).
mkdir -p "$work/deck100k"
"$build/tests/gen_calls" deck 100000 "$work/deck100k"
/usr/bin/time -f "%e %M" -o "$work/time.deck" \
    "$build/referee-rate" --check-deck "$work/deck100k/bench.yaml" 2>/dev/null
read -r wall rss < "$work/time.deck"
echo "deck of 100000 prefixes: loaded and validated in ${wall} s, $((rss / 1024)) MB peak RSS"

#!/bin/sh
# Two builds of referee-rate on the same input, alternated A B B A ... so
# both see the same machine (this one is shared and noisy: the same binary
# swings 30% in wall time between runs).  For "no slower than before":
#   git worktree add /tmp/referee-old <rev>
#   cmake -S /tmp/referee-old -B /tmp/referee-old/build/release -DCMAKE_BUILD_TYPE=Release
#   cmake --build /tmp/referee-old/build/release --target referee-rate
#   tests/bench/ab_rate.sh /tmp/referee-old/build/release/referee-rate build/release/referee-rate
# Input and deck are bench_rate.sh's (run it once first), in $BENCH_DIR.
# Prints each run's wall and CPU seconds and the medians; the CPU ratio
# B / A is the figure to quote.
set -eu
a=$1
b=$2
rounds=${3:-3}
work=${BENCH_DIR:-/tmp/referee-bench}
calls=$(ls "$work"/calls-*.csv | head -n 1)
[ -s "$work/bench.yaml" ] && [ -s "$calls" ] ||
    { echo "run tests/bench/bench_rate.sh first" >&2; exit 1; }
echo "input: $calls; A: $a; B: $b"

run() { # binary label
    /usr/bin/time -f "%e %U %S" -o "$work/ab.time" \
        "$1" --quiet --deck "$work/bench.yaml" --out "$work/ab-$2" "$calls"
    read -r wall usr sys < "$work/ab.time"
    cpu=$(awk "BEGIN { print $usr + $sys }")
    echo "$2: ${wall} s wall, ${cpu} s CPU"
    echo "$wall $cpu" >> "$work/ab.$2"
}
: > "$work/ab.A"
: > "$work/ab.B"
i=0
while [ $i -lt "$rounds" ]; do
    if [ $((i % 2)) -eq 0 ]; then run "$a" A; run "$b" B; else run "$b" B; run "$a" A; fi
    i=$((i + 1))
done
median() { cut -d' ' -f"$2" "$1" | sort -n | sed -n "$((($(wc -l < "$1") + 1) / 2))p"; }
wa=$(median "$work/ab.A" 1); ca=$(median "$work/ab.A" 2)
wb=$(median "$work/ab.B" 1); cb=$(median "$work/ab.B" 2)
echo "median A: ${wa} s wall, ${ca} s CPU"
echo "median B: ${wb} s wall, ${cb} s CPU"
awk "BEGIN { printf \"B / A: %.2fx wall, %.2fx CPU\n\", $wb / $wa, $cb / $ca }"
# The shared columns must agree: the old release has fewer columns.
n=$(head -n 1 "$work/ab-A/charges.csv" | tr ',' '\n' | wc -l)
if cut -d, -f1-"$n" "$work/ab-B/charges.csv" | cmp -s - "$work/ab-A/charges.csv"; then
    echo "charges.csv: B's first $n columns identical to A's"
else
    echo "charges.csv: B differs from A in the first $n columns" >&2
    exit 1
fi

#!/bin/sh
# Two builds of referee-rate --db, alternated A B B A ... in one cluster, on
# bench_pg.sh's data: per round and side a new database (migrated with that
# side's own schema folder), the first night, then a second night into the
# same month.  For "no slower than before" on a shared machine.
#   pg_virtualenv -t -v 15 tests/bench/ab_pg.sh OLD_BIN OLD_SCHEMA NEW_BIN NEW_SCHEMA [ROUNDS] [CASES]
# e.g. OLD_BIN=/tmp/referee-old/build/release/referee-rate,
# OLD_SCHEMA=/tmp/referee-old/schema (see ab_rate.sh for the worktree).
# SIDS=random for carrier-like sids.  Prints every time and the medians.
set -eu
a=$1 a_schema=$2 b=$3 b_schema=$4
rounds=${5:-4}
cases=${6:-200000}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=${BENCH_DIR:-/tmp/referee-bench}
build="$root/build/release"
[ -n "${PGHOST:-}" ] || { echo "run inside pg_virtualenv -t -v 15 $0" >&2; exit 1; }
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j"$(nproc)" --target gen_calls >/dev/null
mkdir -p "$work"
case ${SIDS:-sequential} in
sequential) calls="$work/calls-$cases.csv"; sid_opt= ;;
random) calls="$work/calls-$cases-random.csv"; sid_opt=--random-sids ;;
*) echo "SIDS is sequential or random" >&2; exit 64 ;;
esac
[ -s "$calls" ] || "$build/tests/gen_calls" calls "$cases" $sid_opt > "$calls"
[ -s "$work/bench.yaml" ] || "$build/tests/gen_calls" deck 20000 "$work"
# The second night as bench_pg.sh makes it: other sids, ten days later.
night2="${calls%.csv}-night2.csv"
[ -s "$night2" ] || sed 's/\(^\|,\)CA\([0-9a-f]\{32\}\)/\1CB\2/g; s/2026-05-1\([01]\)T/2026-05-2\1T/g' "$calls" > "$night2"
echo "input: $calls and $night2 ($(($(wc -l < "$calls") - 1)) rows each)"
echo "A: $a ($a_schema); B: $b ($b_schema)"

side() { # side LABEL BINARY SCHEMA
    db=referee_ab_$$
    createdb "$db"
    "$2" --quiet --db "dbname=$db" --schema-dir "$3" --migrate
    for night in 1 2; do
        f=$calls
        [ $night = 2 ] && f=$night2
        sync
        psql -X -q -d "$db" -c checkpoint
        /usr/bin/time -f "%e" -o "$work/ab.t" \
            "$2" --quiet --deck "$work/bench.yaml" --db "dbname=$db" "$f"
        t=$(cat "$work/ab.t")
        echo "$1 night $night: $t s"
        echo "$t" >> "$work/ab-pg.$1.$night"
    done
    dropdb "$db"
}
rm -f "$work"/ab-pg.*
i=0
while [ $i -lt "$rounds" ]; do
    if [ $((i % 2)) -eq 0 ]; then side A "$a" "$a_schema"; side B "$b" "$b_schema"
    else side B "$b" "$b_schema"; side A "$a" "$a_schema"; fi
    i=$((i + 1))
done
median() { sort -n "$1" | sed -n "$((($(wc -l < "$1") + 1) / 2))p"; }
for night in 1 2; do
    ma=$(median "$work/ab-pg.A.$night"); mb=$(median "$work/ab-pg.B.$night")
    awk "BEGIN { printf \"night $night: median A %.2f s, B %.2f s, B / A %.2fx\n\", $ma, $mb, $mb / $ma }"
done

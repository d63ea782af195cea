#!/bin/sh
# referee-capture end to end on a generated pcap: the four transfer scenarios,
# a refused REFER, a busy target, compact headers, TCP, IPv6, a call off the
# trunk, a call still up at the end; then the command-line contract.
# With REFEREE_RATE given, the records are then rated and the legs checked.
# Usage: sip_e2e.sh REFEREE_CAPTURE SOURCE_DIR WORK_DIR [REFEREE_RATE]
set -u
bin=$1 src=$2/tests/integration/capture work=$3 rate=${4:-}
command -v python3 >/dev/null 2>&1 || { echo "python3 missing"; exit 77; }
rm -rf "$work" && mkdir -p "$work/out" || exit 1
fail() { echo "FAIL: $*"; exit 1; }

python3 "$src/sip_flows.py" "$work/flows.pcap" || fail "pcap generation"
"$bin" --config "$src/sip_deck.yaml" -r "$work/flows.pcap" --out "$work/out" \
    2>"$work/stats.txt" || fail "referee-capture exit $?"
n=$(ls "$work/out" | wc -l)
[ "$n" -eq 1 ] || fail "expected 1 file, got $n: $(ls -a "$work/out")"
diff -u "$src/expected/sip_flows.csv" "$work/out/calls-20260510T080000Z.csv" ||
    fail "records differ"
grep -q "records 13 in 1 files" "$work/stats.txt" || fail "stats: $(cat "$work/stats.txt")"

# The records rated with the example deck: legs and scenarios as in
# rating/README.md's billing table; unobserved children rejected with their reason.
if [ -n "$rate" ]; then
    "$rate" --deck "$2/rates/example.yaml" --out "$work/rated" \
        "$work/out"/calls-*.csv >/dev/null 2>"$work/rate.txt" ||
        fail "referee-rate: $(cat "$work/rate.txt")"
    c="$work/rated/charges.csv"
    for want in \
        "term-sip,,parent,termination-sip,1,termination," \
        "term-sip-child,term-sip,child,termination-sip,1,termination,sip:alice@pbx.example.com,+14155550100," \
        "orig-sip,,parent,origination-sip,1,origination," \
        "orig-sip-child,orig-sip,child,origination-sip,1,origination,+14155550111,sip:bob@pbx.example.com," \
        "busy,,single,none,1,termination,"; do
        grep -q "^$want" "$c" || fail "charges: no row $want: $(cat "$c")"
    done
    [ "$(grep -c 'unobserved' "$work/rated/rejects.csv")" -eq 2 ] ||
        fail "rejects: $(cat "$work/rated/rejects.csv")"
fi

# Same flows, one file per 5 minutes: rotation by capture time.
mkdir -p "$work/rot"
"$bin" -q -c "$src/sip_deck.yaml" -r "$work/flows.pcap" -o "$work/rot" \
    --rotate 300 || fail "rotate run"
[ "$(ls "$work/rot" | wc -l)" -ge 3 ] || fail "rotation: $(ls "$work/rot")"
[ "$(cat "$work/rot"/*.csv | grep -vc '^sid,')" -eq 13 ] || fail "rotated rows"

# Exit codes.
"$bin" --help >"$work/help.txt" || fail "--help"
diff -u "$src/expected/referee-capture-help.txt" "$work/help.txt" ||
    fail "--help text changed (update expected/ and the man page together)"
"$bin" --version | grep -q '^referee-capture ' || fail "--version"
"$bin" --bogus >/dev/null 2>&1; [ $? -eq 64 ] || fail "usage exit"
"$bin" -c "$src/sip_deck.yaml" -o "$work/out" >/dev/null 2>&1
[ $? -eq 64 ] || fail "no source: usage exit"
"$bin" -c "$src/sip_deck.yaml" -r x -i lo -o "$work/out" >/dev/null 2>&1
[ $? -eq 64 ] || fail "two sources: usage exit"
printf 'trunks:\n  - sid: T\n    carrier_addresses: [10.0.0.300]\n' >"$work/bad.yaml"
"$bin" -c "$work/bad.yaml" -r "$work/flows.pcap" -o "$work/out" 2>"$work/err.txt"
[ $? -eq 2 ] || fail "config exit"
grep -q "bad.yaml:3:25" "$work/err.txt" || fail "config position: $(cat "$work/err.txt")"
"$bin" -c "$src/sip_deck.yaml" -r "$work/flows.pcap" -o "$work/nope" 2>/dev/null
[ $? -eq 1 ] || fail "missing output folder exit"
"$bin" -c "$src/sip_deck.yaml" -r "$work/missing.pcap" -o "$work/out" 2>/dev/null
[ $? -eq 1 ] || fail "missing pcap exit"
echo ok

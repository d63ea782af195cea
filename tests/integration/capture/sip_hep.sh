#!/bin/sh
# referee-capture --hep: the SIPp fixtures replayed as HEPv3 over UDP in real
# time (timestamps moved to now) must give the same records as the pcap,
# times apart.  One flow is sent plain, one with every payload compressed
# (zlib, as captagent sends it), one mixed (plain, zlib, gzip, raw deflate).
# Usage: sip_hep.sh REFEREE_CAPTURE SOURCE_DIR WORK_DIR
set -u
bin=$1 root=$2 work=$3
src=$root/tests/integration/capture
command -v python3 >/dev/null 2>&1 || { echo "python3 missing"; exit 77; }
rm -rf "$work" && mkdir -p "$work/out" || exit 1
port=$((30000 + $$ % 20000))
pid=
fail() {
    echo "FAIL: $*"
    cat "$work/err.txt" 2>/dev/null
    [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
    exit 1
}
# Wait (up to 10 s) until the capture has its socket open.
wait_ready() {
    i=0
    while [ $i -lt 100 ]; do
        kill -0 "$1" 2>/dev/null || return 1
        ls -l /proc/"$1"/fd 2>/dev/null | grep -q 'socket:' && { sleep 0.3; return 0; }
        sleep 0.1
        i=$((i + 1))
    done
    return 0
}
"$bin" -c "$src/sip_deck.yaml" --hep "127.0.0.1:$port" -o "$work/out" \
    --no-state >"$work/out.txt" 2>"$work/err.txt" &
pid=$!
wait_ready $pid
kill -0 $pid 2>/dev/null || fail "listener did not start"
compressed=0
for flow in term_sip:none failed:zlib orig_pstn:mixed; do
    s=${flow%:*}
    out=$(python3 "$src/sip_hep_send.py" \
        "$root/tests/fixtures/pcap/sipp_$s.pcap" 127.0.0.1 $port ${flow#*:}) ||
        fail "sender $s"
    compressed=$((compressed + $(printf '%s\n' "$out" | tail -n 1)))
done
[ "$compressed" -gt 0 ] || fail "nothing was sent compressed"
sleep 1.5
kill -TERM $pid
wait $pid || { rc=$?; pid=; fail "exit status $rc"; }
pid=
# all but start_time and end_time (columns 8 and 9)
cut -d, -f1-7,10- "$work"/out/calls-*.csv | tail -n +2 | sort >"$work/got.txt"
for s in term_sip failed orig_pstn; do
    tail -n +2 "$src/expected/sipp_$s.csv"
done | cut -d, -f1-7,10- | sort >"$work/want.txt"
diff -u "$work/want.txt" "$work/got.txt" || fail "records differ"
grep -q "SIP messages 45" "$work/err.txt" || fail "stats"
grep -q "inflated $compressed, inflate errors 0, oversize 0" "$work/err.txt" ||
    fail "inflate stats (want $compressed inflated)"

# Killed (SIGKILL) after writing records: the next start into the same
# folder commits every record the killed one had written.
mkdir -p "$work/out2" || exit 1
"$bin" -c "$src/sip_deck.yaml" --hep "127.0.0.1:$port" -o "$work/out2" \
    --no-state >"$work/out.txt" 2>"$work/err.txt" &
pid=$!
wait_ready $pid
python3 "$src/sip_hep_send.py" "$root/tests/fixtures/pcap/sipp_failed.pcap" \
    127.0.0.1 $port none >/dev/null || fail "sender (kill)"
sleep 1.5
kill -USR1 $pid
i=0 # the statistics come at the loop's next turn (a second at most)
while [ $i -lt 50 ] && ! grep -q '^referee-capture: records' "$work/err.txt"; do
    sleep 0.1
    i=$((i + 1))
done
written=$(sed -n 's/^referee-capture: records \([0-9]*\) in .*/\1/p' \
    "$work/err.txt" | tail -n 1)
[ "${written:-0}" -gt 0 ] || fail "no record written before the kill"
kill -KILL $pid
wait $pid 2>/dev/null
pid=
ls -a "$work/out2" | grep -q '^\.calls-' || fail "no file left open by the kill"
"$bin" -c "$src/sip_deck.yaml" --hep "127.0.0.1:$port" -o "$work/out2" \
    --no-state >"$work/out.txt" 2>"$work/err.txt" &
pid=$!
wait_ready $pid
kill -TERM $pid
wait $pid || { rc=$?; pid=; fail "exit status $rc after the kill"; }
pid=
grep -q "committed 1 file(s) a killed run left open ($written records)" \
    "$work/err.txt" || fail "recovery not reported"
[ "$(cat "$work"/out2/calls-*.csv | grep -vc '^sid,')" -eq "$written" ] ||
    fail "recovered rows"
ls -a "$work/out2" | grep -q '^\.calls-' && fail "a file left open"
echo ok

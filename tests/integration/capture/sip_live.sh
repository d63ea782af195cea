#!/bin/sh
# referee-capture live on lo: flows sent over UDP on loopback, then SIGUSR1
# (stats), SIGHUP (rotate) and SIGTERM (flush: the call still up is written
# as in-progress, files committed, exit 0).
# Usage: sip_live.sh REFEREE_CAPTURE SOURCE_DIR WORK_DIR
set -u
bin=$1 src=$2/tests/integration/capture work=$3
command -v python3 >/dev/null 2>&1 || { echo "python3 missing"; exit 77; }
rm -rf "$work" && mkdir -p "$work/out" || exit 1
port=$((20000 + $$ % 20000))
pid=
fail() {
    echo "FAIL: $*"
    cat "$work/err.txt" 2>/dev/null
    [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
    exit 1
}

"$bin" -c "$src/sip_deck.yaml" -i lo -f "udp port $port" -o "$work/out" \
    >"$work/out.txt" 2>"$work/err.txt" &
pid=$!
sleep 1
if ! kill -0 $pid 2>/dev/null; then
    wait $pid
    rc=$?
    # no capture permission here (not root, no CAP_NET_RAW): skipped
    grep -qi "permission\|operation not permitted" "$work/err.txt" && exit 77
    fail "referee-capture exited $rc before any traffic"
fi
python3 "$src/sip_live_send.py" $port || fail "sender"
sleep 2
kill -USR1 $pid; sleep 1.5
grep -q "SIP messages 12" "$work/err.txt" || fail "SIGUSR1 stats"
kill -HUP $pid; sleep 1.5
kill -TERM $pid
wait $pid || { rc=$?; pid=; fail "exit status $rc"; }
pid=
ls "$work/out"/*.tmp.* "$work/out"/.*.csv.* 2>/dev/null && fail "temporary file left"
all=$(cat "$work/out"/*.csv)
[ "$(ls "$work/out" | wc -l)" -eq 2 ] || fail "SIGHUP: files $(ls "$work/out")"
echo "$all" | grep -q '^live-xfer,,trunking-terminating,+14155550111,+14155550100,.*,completed,TK0001,tel:+14152909007,completed$' || fail "parent: $all"
echo "$all" | grep -q '^live-xfer;refer=2,live-xfer,trunking-terminating,+14155550100,+14152909007,.*,,,unobserved,TK0001,,$' || fail "child: $all"
echo "$all" | grep -q '^live-busy,.*,0,busy,TK0001,,$' || fail "busy: $all"
echo "$all" | grep -q '^live-up,.*,,,in-progress,TK0001,,$' || fail "in-progress: $all"
echo ok

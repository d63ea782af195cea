#!/bin/sh
# referee-capture live on lo: flows sent over UDP on loopback, then SIGUSR1
# (stats), SIGHUP (rotate) and SIGTERM (files committed, the call still up
# kept in the state file); a restart resumes that call; with --no-state it is
# written as in-progress instead.
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
# until SECONDS COMMAND...: poll COMMAND every 0.2 s for up to SECONDS.
until_ok() {
    n=$(($1 * 5))
    shift
    while [ $n -gt 0 ]; do
        "$@" && return 0
        sleep 0.2
        n=$((n - 1))
    done
    return 1
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

"$bin" -c "$src/sip_deck.yaml" -i lo -f "udp port $port" -o "$work/out" \
    >"$work/out.txt" 2>"$work/err.txt" &
pid=$!
wait_ready $pid
if ! kill -0 $pid 2>/dev/null; then
    wait $pid
    rc=$?
    # no capture permission here (not root, no CAP_NET_RAW): skipped
    grep -qi "permission\|operation not permitted" "$work/err.txt" && exit 77
    fail "referee-capture exited $rc before any traffic"
fi
python3 "$src/sip_live_send.py" $port || fail "sender"
sleep 2
kill -USR1 $pid
until_ok 10 grep -q "SIP messages 12" "$work/err.txt" || fail "SIGUSR1 stats"
kill -HUP $pid
committed() { ls "$work/out"/calls-*.csv >/dev/null 2>&1; }
until_ok 10 committed || fail "SIGHUP: no file committed"
kill -TERM $pid
wait $pid || { rc=$?; pid=; fail "exit status $rc"; }
pid=
ls "$work/out"/*.tmp.* "$work/out"/.calls* 2>/dev/null && fail "temporary file left"
all=$(cat "$work/out"/*.csv)
[ "$(ls "$work/out" | wc -l)" -eq 1 ] || fail "files $(ls "$work/out")"
echo "$all" | grep -q '^live-xfer,,,TK0001,trunking-terminating,+14155550111,+14155550100,.*,completed,,,tel:+14152909007,completed$' || fail "parent: $all"
echo "$all" | grep -q '^live-xfer;refer=2,live-xfer,,TK0001,trunking-terminating,+14155550100,+14152909007,.*,,,unobserved,,,,$' || fail "child: $all"
echo "$all" | grep -q '^live-busy,,,TK0001,.*,0,busy,,,,$' || fail "busy: $all"
echo "$all" | grep -q '^live-up,' && fail "open call written: $all"
grep -q "live-up" "$work/out/.referee-capture.state" || fail "state file"

# Restart: the open call is resumed and completed by its BYE.
"$bin" -c "$src/sip_deck.yaml" -i lo -f "udp port $port" -o "$work/out" \
    >"$work/out.txt" 2>"$work/err.txt" &
pid=$!
wait_ready $pid
grep -q "resumed 1 open calls" "$work/err.txt" || fail "resume"
python3 "$src/sip_live_send.py" $port 2 || fail "sender"
sleep 1.5
kill -TERM $pid
wait $pid || { rc=$?; pid=; fail "exit status $rc"; }
pid=
cat "$work/out"/*.csv | grep -q '^live-up,,,TK0001,trunking-terminating,.*,completed,,,,$' ||
    fail "resumed call: $(cat "$work/out"/*.csv)"

# --no-state: open calls are written as in-progress at SIGTERM.
rm -rf "$work/out2" && mkdir "$work/out2"
"$bin" -c "$src/sip_deck.yaml" -i lo -f "udp port $port" -o "$work/out2" \
    --no-state >"$work/out.txt" 2>"$work/err.txt" &
pid=$!
wait_ready $pid
python3 "$src/sip_live_send.py" $port || fail "sender"
sleep 1.5
kill -INT $pid
wait $pid || { rc=$?; pid=; fail "exit status $rc"; }
pid=
cat "$work/out2"/*.csv | grep -q '^live-up,,,TK0001,.*,,,in-progress,,,,$' ||
    fail "in-progress: $(cat "$work/out2"/*.csv)"
[ -e "$work/out2/.referee-capture.state" ] && fail "state written with --no-state"
echo ok

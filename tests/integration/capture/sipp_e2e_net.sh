#!/bin/sh
# End to end on the SIPp transfer flows: referee-capture turns them into call
# records, referee-rate prices them, and both outputs (without call ids,
# times and durations, which change from run to run) must equal the golden
# files expected/sipp_e2e_records.txt and expected/sipp_e2e_charges.txt.
#
#   sipp_e2e_net.sh offline|hep|live REFEREE_CAPTURE REFEREE_RATE SOURCE_DIR
#                   WORK_DIR [CAPNET_DUMP]
#
# offline: referee-capture -r on each recorded fixture (tests/fixtures/pcap).
# hep:     referee-capture --hep 127.0.0.1:PORT while capnet_dump --send-hep
#          sends every message of the fixtures as HEP3 over UDP.
# live:    referee-capture -i lo while run.sh plays every scenario with SIPp
#          on 127.0.0.x; needs sipp and the right to capture on lo (root or
#          CAP_NET_RAW), else skipped (77).
# Every SIPp call lasts under a minute and the deck bills 60/60, so the
# charges do not depend on the timing.
set -u
mode=$1 capture=$2 rate=$3 src=$4 work=$5 dump=${6:-}
here=$src/tests/integration/capture
deck=$here/sipp_deck.yaml
scenarios="term_sip term_pstn orig_sip orig_pstn refused failed tcp compact"
rm -rf "$work"
mkdir -p "$work/records" "$work/rated"

if [ "$mode" = offline ]; then
    for s in $scenarios; do
        mkdir -p "$work/records/$s"
        "$capture" -q -c "$deck" -r "$src/tests/fixtures/pcap/sipp_$s.pcap" \
            -o "$work/records/$s" || { echo "referee-capture failed on $s"; exit 1; }
    done
elif [ "$mode" = hep ]; then
    port=$((20000 + $$ % 20000))
    "$capture" -q -c "$deck" --hep 127.0.0.1:$port -o "$work/records" \
        2>"$work/capture.err" &
    pid=$!
    sleep 1
    kill -0 $pid 2>/dev/null || { cat "$work/capture.err"; exit 1; }
    files=
    for s in $scenarios; do
        files="$files $src/tests/fixtures/pcap/sipp_$s.pcap"
    done
    # one sender for all: each file's times follow the previous file's
    "$dump" --send-hep 127.0.0.1:$port -f "" $files >/dev/null ||
        { echo "sending as HEP failed"; kill -TERM $pid; exit 1; }
    sleep 1
    kill -TERM $pid
    wait $pid
    rc=$?
    cat "$work/capture.err"
    [ $rc = 0 ] || { echo "referee-capture exited $rc"; exit 1; }
else
    command -v sipp >/dev/null 2>&1 || { echo "sipp not installed: skipped"; exit 77; }
    "$capture" -q -c "$deck" -i lo -f "port 5060 or port 5062" \
        -o "$work/records" 2>"$work/capture.err" &
    pid=$!
    sleep 1
    if ! kill -0 $pid 2>/dev/null; then
        cat "$work/capture.err"
        if grep -qi "permission\|not permitted" "$work/capture.err"; then
            echo "no right to capture on lo: skipped"
            exit 77
        fi
        exit 1
    fi
    fail=0
    for s in $scenarios; do
        "$here/sipp/run.sh" $s || { echo "SIPp scenario $s failed"; fail=1; }
    done
    sleep 1
    kill -TERM $pid
    wait $pid
    rc=$?
    cat "$work/capture.err"
    [ $rc = 0 ] || { echo "referee-capture exited $rc"; exit 1; }
    [ $fail = 0 ] || exit 1
fi

# one CSV of all the records, header once
find "$work/records" -name '*.csv' | sort | xargs cat |
    awk 'NR == 1 || !/^sid,/' >"$work/all.csv"
"$rate" --quiet --deck "$deck" --out "$work/rated" "$work/all.csv" ||
    { echo "referee-rate failed"; exit 1; }

# records: drop sid, times and duration; keep whether there is a parent
awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
    { print ($(c["parent_call_sid"]) != "" ? "child" : "call"),
            $(c["direction"]), $(c["from"]), $(c["to"]), $(c["status"]),
            $(c["trunk_sid"]), $(c["transfer_target"]), $(c["transfer_status"]) }' \
    "$work/all.csv" | sort >"$work/records.txt"
awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
    { print $(c["leg"]), $(c["scenario"]), $(c["component"]), $(c["service"]),
            $(c["from"]), $(c["to"]), $(c["matched_prefix"]), $(c["rate"]),
            $(c["billable_seconds"]), $(c["amount"]), $(c["currency"]) }' \
    "$work/rated/charges.csv" | sort >"$work/charges.txt"
awk -F, 'NR > 1 { print $(5) }' "$work/rated/rejects.csv" | sort >>"$work/charges.txt"

ok=0
diff -u "$here/expected/sipp_e2e_records.txt" "$work/records.txt" || ok=1
diff -u "$here/expected/sipp_e2e_charges.txt" "$work/charges.txt" || ok=1
exit $ok

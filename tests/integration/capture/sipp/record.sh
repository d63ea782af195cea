#!/bin/sh
# Re-record the SIPp fixtures: tests/fixtures/pcap/sipp_<scenario>.pcap, one
# per scenario, on lo; and sipp_term_pstn_any.pcap on the "any" device (Linux
# cooked headers).  Needs root (or the capture capabilities), sipp and
# dumpcap (Wireshark) or tcpdump.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=$here/../../../fixtures/pcap
mkdir -p "$out"
for s in term_sip term_pstn orig_sip orig_pstn refused failed tcp compact; do
    "$here/run.sh" $s "$out/sipp_$s.pcap"
    echo "recorded sipp_$s.pcap"
done
# the same PSTN termination flow on "any"
f=$out/sipp_term_pstn_any.pcap
rm -f "$f"
if command -v dumpcap >/dev/null 2>&1; then
    dumpcap -q -i any -P -f "port 5060 or port 5062" -w "$f" 2>/dev/null &
else
    tcpdump -i any -U -w "$f" "port 5060 or port 5062" 2>/dev/null &
fi
cap=$!
sleep 1
"$here/run.sh" term_pstn
sleep 0.5
kill $cap
wait $cap 2>/dev/null || true
echo "recorded sipp_term_pstn_any.pcap"

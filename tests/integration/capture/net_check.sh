#!/bin/sh
# net_check.sh CAPNET_DUMP pcap|hep FILE.pcap EXPECTED.txt
# The messages the packet path delivers from FILE.pcap must be EXPECTED.txt
# exactly (order, time, transport, addresses, length, first line).
set -u
dump=$1 mode=$2 pcap=$3 expected=$4
out=$(mktemp)
trap 'rm -f "$out"' EXIT
if [ "$mode" = hep ]; then
    "$dump" --via-hep -f "" "$pcap" >"$out" || exit 1
else
    "$dump" -f "" "$pcap" >"$out" || exit 1
fi
diff -u "$expected" "$out"

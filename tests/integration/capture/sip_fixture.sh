#!/bin/sh
# One SIPp fixture (tests/fixtures/pcap/sipp_NAME.pcap, recorded by the
# packet-path engineer) read offline by referee-capture; the records must be
# expected/sipp_NAME.csv byte for byte.
# Usage: sip_fixture.sh REFEREE_CAPTURE SOURCE_DIR WORK_DIR NAME
set -u
bin=$1 root=$2 work=$3 name=$4
src=$root/tests/integration/capture
rm -rf "$work" && mkdir -p "$work" || exit 1
"$bin" -q -c "$src/sip_deck.yaml" -r "$root/tests/fixtures/pcap/sipp_$name.pcap" \
    -o "$work" || { echo "FAIL: exit $?"; exit 1; }
[ "$(ls "$work" | wc -l)" -eq 1 ] || { echo "FAIL: files $(ls -a "$work")"; exit 1; }
diff -u "$src/expected/sipp_$name.csv" "$work"/calls-*.csv || exit 1
echo ok

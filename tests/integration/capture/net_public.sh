#!/bin/sh
# net_public.sh CAPNET_DUMP DIR
# The public odd captures of DIR (tests/fixtures/captures: copied unchanged
# from sngrep's and zeek's test data, see SOURCES.md there) read through the
# packet path; each must give the number of SIP messages below.  They are
# part of the repository: a missing file is a failure, never a skip.
set -u
dump=$1
dir=$2
fail=0
check() { # file expected-count [filter]
    f=$dir/$1
    [ -f "$f" ] || { echo "$f: missing"; fail=1; return; }
    n=$("$dump" --count -f "${3-}" "$f") || { echo "$1: dump failed"; fail=1; return; }
    if [ "$n" != "$2" ]; then
        echo "$1: $n messages, expected $2"
        "$dump" --stats -f "${3-}" "$f"
        fail=1
    else
        echo "$1: $n messages"
    fi
}
check sngrep_ipv6frag.pcap 32
check sngrep_ipip.pcap 4
check zeek_invalid-content-length.pcap 2
# the 4-byte datagram of zeros is a candidate too (the SIP parser refuses it)
check zeek_sip-junk-before-request.pcap 2
exit $fail

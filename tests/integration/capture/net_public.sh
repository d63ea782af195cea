#!/bin/sh
# net_public.sh CAPNET_DUMP DIR...
# The public odd captures (not in the repository: their own licences) read
# through the packet path, from $REFEREE_SHARED_CAPTURES or the first DIR
# that exists.  Skipped (77) when none does.
set -u
dump=$1
shift
dir=
for d in ${REFEREE_SHARED_CAPTURES:-} "$@"; do
    [ -d "$d" ] && { dir=$d; break; }
done
[ -n "$dir" ] || { echo "no shared captures: skipped"; exit 77; }
fail=0
check() { # file expected-count [filter]
    f=$dir/$1
    [ -f "$f" ] || { echo "missing $f: skipped"; return; }
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

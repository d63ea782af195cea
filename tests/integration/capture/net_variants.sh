#!/bin/sh
# net_variants.sh NET_VARIANTS CAPNET_DUMP FIXTURE.pcap EXPECTED.txt WORK_DIR
# The fixture rewritten into every encapsulation (net_variants.c) must give
# the same messages as the original: same listing, with fd00::x for
# 127.0.0.x in the IPv6 variants.
set -u
variants=$1 dump=$2 fixture=$3 expected=$4 work=$5
mkdir -p "$work"
fail=0
for v in vlan qinq sll sll2 raw null loop ipip frag ipv6 ipv6frag ip6ip4; do
    "$variants" "$fixture" $v "$work/$v.pcap" || { echo "$v: rewrite failed"; fail=1; continue; }
    case $v in
    ipv6*|ip6*) # the addresses (fields 3 and 5), not the SIP text
        awk '{ for (i = 3; i <= 5; i += 2) if ($i ~ /^127\.0\.0\./) {
                   split($i, a, ":"); sub(/^127\.0\.0\./, "", a[1]);
                   $i = "[fd00::" a[1] "]:" a[2] }
               print }' \
            "$expected" >"$work/$v.want" ;;
    *) cp "$expected" "$work/$v.want" ;;
    esac
    "$dump" -f "" "$work/$v.pcap" >"$work/$v.got" || { echo "$v: dump failed"; fail=1; continue; }
    if diff -u "$work/$v.want" "$work/$v.got" >"$work/$v.diff"; then
        echo "$v: ok"
    else
        echo "$v: differs"
        cat "$work/$v.diff"
        fail=1
    fi
done
exit $fail

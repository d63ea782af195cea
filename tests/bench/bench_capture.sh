#!/bin/sh
# Capture benchmark: a pcap of many concurrent SIP REFER transfers (at least
# 1,000,000 SIP messages), read offline
#   1. by the packet path alone (cap_pcap + cap_net: capnet_dump --count),
#   2. by referee-capture (when it is built), to call records,
#   3. by tshark extracting Call-ID and method of every SIP message,
# each timed with /usr/bin/time -v (elapsed, maximum RSS).
#
#   tests/bench/bench_capture.sh [BUILD_DIR] [MESSAGES] [CONCURRENT]
#
# TCP_EVERY=N: one transfer in N over TCP (default 8, 0 none).
# BUILD_DIR defaults to build/ (configure it with -DCMAKE_BUILD_TYPE=Release
# for figures worth quoting).  The pcap goes to /tmp and is removed at the
# end unless KEEP=1; it is never committed.  tshark is slow on this file
# (measured: about 1,500 SIP messages per CPU second, so 10+ minutes for the
# million); TSHARK_PACKETS=N has it read only the first N packets and the
# rate is computed on what it read; NO_TSHARK=1 skips it.  Target: >= 1,000,000 SIP
# messages per second on one core and RSS < 100 MB.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build}
messages=${2:-1000000}
concurrent=${3:-5000}
tmp=${TMPDIR:-/tmp}/referee-bench.$$
mkdir -p "$tmp"
pcap=$tmp/transfers.pcap
cleanup() { [ "${KEEP:-0}" = 1 ] || rm -rf "$tmp"; }
trap cleanup EXIT

cc=${CC:-cc}
$cc -O2 -std=c11 -D_DEFAULT_SOURCE -Wall -Wextra -Werror \
    -o "$tmp/gen" "$here/gen_transfers_pcap.c" -lpcap
"$tmp/gen" "$pcap" "$messages" "$concurrent" "${TCP_EVERY:-8}"
size=$(wc -c <"$pcap")
echo "pcap: $pcap, $size bytes"

# run NAME COMMAND...: time it, print elapsed seconds, max RSS, output
run() {
    name=$1
    shift
    /usr/bin/time -v -o "$tmp/$name.time" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" ||
        { echo "$name failed:"; cat "$tmp/$name.err"; return 1; }
    el=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$tmp/$name.time" |
        awk -F: '{ if (NF == 3) print $1 * 3600 + $2 * 60 + $3; else print $1 * 60 + $2 }')
    user=$(sed -n 's/.*User time (seconds): //p' "$tmp/$name.time")
    sys=$(sed -n 's/.*System time (seconds): //p' "$tmp/$name.time")
    rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$tmp/$name.time")
    echo "$name: elapsed ${el}s (user $user, sys $sys), max RSS $((rss / 1024)) MB"
    echo "$el" >"$tmp/$name.elapsed"
    awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }' >"$tmp/$name.cpu"
}

rate() { # messages seconds
    awk -v m="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.0f", m / s; else print "inf" }'
}

# messages/s by wall clock and by CPU time (user + sys: what one core does,
# whatever else the machine is running)
rates() { # name messages
    echo "  $2 SIP messages: $(rate "$2" "$(cat "$tmp/$1.elapsed")") messages/s" \
        "elapsed, $(rate "$2" "$(cat "$tmp/$1.cpu")") messages per CPU second"
}

dump=$build/tests/integration/capture/capnet_dump
[ -x "$dump" ] || { echo "build $dump first"; exit 1; }
# warm the page cache so the first run is not the one paying for the disk
cat "$pcap" >/dev/null

run packet_path "$dump" --count -f "" "$pcap"
n=$(cat "$tmp/packet_path.out")
rates packet_path "$n"

if [ -x "$build/referee-capture" ]; then
    mkdir -p "$tmp/records"
    deck=${DECK:-$root/tests/bench/bench_deck.yaml}
    [ -f "$deck" ] || deck=$root/rates/example.yaml
    if run referee_capture "$build/referee-capture" --config "$deck" -r "$pcap" \
        --out "$tmp/records"; then
        rates referee_capture "$n"
        echo "  $(cat "$tmp"/records/*.csv 2>/dev/null | grep -vc '^sid,') call records"
    fi
else
    echo "referee_capture: not built (skipped)"
fi

if command -v tshark >/dev/null 2>&1 && [ "${NO_TSHARK:-0}" != 1 ]; then
    limit=
    [ -n "${TSHARK_PACKETS:-}" ] && limit="-c $TSHARK_PACKETS"
    # shellcheck disable=SC2086
    run tshark tshark -r "$pcap" $limit -Y sip -T fields -e sip.Call-ID \
        -e sip.Method -e sip.Status-Code -e ip.src -e ip.dst
    t=$(wc -l <"$tmp/tshark.out")
    rates tshark "$t"
    for x in packet_path referee_capture; do
        [ -f "$tmp/$x.cpu" ] || continue
        awk -v a="$(cat "$tmp/tshark.cpu")" -v b="$(cat "$tmp/$x.cpu")" -v x=$x \
            -v t="$t" -v n="$n" 'BEGIN { if (b > 0 && t > 0)
                printf "%s vs tshark: %.0fx the messages per CPU second\n", x, (n / b) / (t / a) }'
    done
else
    echo "tshark: skipped (NO_TSHARK=1 or not installed)"
fi

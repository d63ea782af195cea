#!/bin/sh
# Play one transfer scenario with SIPp on 127.0.0.x, optionally recording it.
#
#   run.sh SCENARIO [OUT.pcap]
#
# SCENARIO: term_sip term_pstn orig_sip orig_pstn refused failed tcp compact
# Addresses: PBX 127.0.0.1:5060, carrier 127.0.0.2:5060 (its calls to the
# transfer target from 127.0.0.2:5062), transfer target 127.0.0.3:5060.
# With OUT.pcap, dumpcap (or tcpdump) records lo, "port 5060 or port 5062".
# Exit status: 0 when every SIPp instance completed its call, 77 when SIPp is
# not installed, 1 otherwise.
set -u
here=$(cd "$(dirname "$0")" && pwd)
scen=${1:?usage: run.sh SCENARIO [OUT.pcap]}
out=${2:-}
command -v sipp >/dev/null 2>&1 || { echo "sipp not installed" >&2; exit 77; }

work=$(mktemp -d /tmp/referee-sipp.XXXXXX)
trap 'rm -rf "$work"' EXIT

A_TERM=+14155550111      # PBX user calling out
B_TERM=+13125550123      # PSTN number called through the carrier
A_ORIG=+13125550123      # PSTN caller
B_ORIG=+14155550100      # the customer's number the carrier delivers
DOMAIN=mytrunk.pstn.twilio.com
PSTN_TARGET=sip:+14152908007@$DOMAIN
TEL_TARGET=tel:+14152909007
SIP_TARGET=sip:alice@127.0.0.3
BUSY_TARGET=sip:bob@127.0.0.3

transport=u1
pbx=pbx_uac.xml carrier=carrier_uas.xml dir=term
target= child= final="200 OK"
case $scen in
term_sip) refer=$SIP_TARGET target=target_uas.xml child=child_uac.xml ;;
term_pstn) refer=$PSTN_TARGET ;;
orig_sip) dir=orig refer=$SIP_TARGET target=target_uas.xml child=child_uac.xml ;;
orig_pstn) dir=orig refer=$TEL_TARGET ;;
refused) refer=tel:911 carrier=carrier_uas_refused.xml ;;
failed) refer=$BUSY_TARGET target=target_busy.xml child=child_uac_busy.xml
        final="486 Busy Here" ;;
tcp) transport=t1 refer=$SIP_TARGET target=target_uas.xml child=child_uac.xml ;;
compact) refer=$PSTN_TARGET pbx=compact/pbx_uac.xml
         carrier=compact/carrier_uas.xml ;;
*) echo "unknown scenario $scen" >&2; exit 2 ;;
esac
if [ $dir = orig ]; then
    pbx=pbx_uas.xml carrier=carrier_uac.xml
    caller=$A_ORIG callee=$B_ORIG child_from=$A_ORIG referred_by=sip:pbx@127.0.0.1
else
    caller=$A_TERM callee=$B_TERM child_from=$B_TERM referred_by=sip:$A_TERM@127.0.0.1
fi

# one call each; give up after 30 s
sipp_run() {
    name=$1; shift
    (cd "$work" && timeout 30 sipp "$@" -m 1 -t $transport -nostdin \
        -key caller "$caller" -key callee "$callee" -key trunk_domain $DOMAIN \
        -key refer_to "$refer" -key final "$final" -key child_from "$child_from" \
        -key referred_by "$referred_by" -trace_err \
        >"$work/$name.out" 2>&1; echo $? >"$work/$name.rc")
}

cap_pid=
if [ -n "$out" ]; then
    rm -f "$out"
    if command -v dumpcap >/dev/null 2>&1; then
        dumpcap -q -i lo -P -f "port 5060 or port 5062" -w "$out" 2>"$work/cap.err" &
    else
        tcpdump -i lo -U -w "$out" "port 5060 or port 5062" 2>"$work/cap.err" &
    fi
    cap_pid=$!
    sleep 1
fi

pids=
if [ -n "$target" ]; then
    sipp_run target -sf "$here/$target" -i 127.0.0.3 -p 5060 & pids="$pids $!"
fi
if [ $dir = term ]; then
    sipp_run carrier -sf "$here/$carrier" -i 127.0.0.2 -p 5060 & pids="$pids $!"
    sleep 0.3
    sipp_run pbx 127.0.0.2:5060 -sf "$here/$pbx" -i 127.0.0.1 -p 5060 & pids="$pids $!"
else
    sipp_run pbx -sf "$here/$pbx" -i 127.0.0.1 -p 5060 & pids="$pids $!"
    sleep 0.3
    sipp_run carrier 127.0.0.1:5060 -sf "$here/$carrier" -i 127.0.0.2 -p 5060 & pids="$pids $!"
fi
if [ -n "$child" ]; then
    # the REFER goes out 1 s after the answer; the carrier calls the target
    # between its NOTIFY 100 and the final NOTIFY 1.5 s later
    sleep 1.4
    sipp_run child 127.0.0.3:5060 -sf "$here/$child" -i 127.0.0.2 -p 5062 & pids="$pids $!"
fi
for p in $pids; do wait $p; done
if [ -n "$cap_pid" ]; then
    sleep 0.5
    kill "$cap_pid"
    wait "$cap_pid" 2>/dev/null
fi
rc=0
for f in "$work"/*.rc; do
    if [ "$(cat "$f")" != 0 ]; then
        n=$(basename "$f" .rc)
        echo "sipp $n failed (exit $(cat "$f")):" >&2
        tail -5 "$work/$n.out" >&2
        cat "$work"/*errors.log >&2 2>/dev/null
        rc=1
    fi
done
exit $rc

#!/usr/bin/env python3
"""Send a few SIP flows over UDP on loopback for the live-capture test:
127.0.0.1 (PBX) <-> 127.0.0.2 (carrier), port PORT on both sides.
Flows: a terminating call with a transfer to a PSTN target (unobserved
child), a busy call, and a call left up (written as in-progress at SIGTERM).
Usage: sip_live_send.py PORT [PHASE]   (1: the flows, 2: BYE of the call
left up, after a restart)
"""
import socket
import sys
import time

port = int(sys.argv[1])
sock = {}
for ip in ("127.0.0.1", "127.0.0.2"):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((ip, port))
    sock[ip] = s
PBX, CAR = "127.0.0.1", "127.0.0.2"
B, A, DOM = "+14155550100", "+14155550111", "mytrunk.pstn.twilio.com"


def send(src, dst, text, body=""):
    body = body.replace("\n", "\r\n")
    text = text.replace("\n", "\r\n") + "Content-Length: %d\r\n\r\n" % len(body) + body
    sock[src].sendto(text.encode(), (dst, port))
    time.sleep(0.02)


def m(start, cid, cseq, extra="", totag=True):
    return (start + "\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK" + cid + cseq.split()[0] +
            "\nFrom: <sip:%s@pbx.example.com>;tag=f\nTo: <sip:%s@%s>%s\n"
            "Call-ID: %s\nCSeq: %s\n%s" % (A, B, DOM, ";tag=t" if totag else "",
                                          cid, cseq, extra))


def call(cid):
    send(PBX, CAR, m("INVITE sip:%s@%s SIP/2.0" % (B, DOM), cid, "1 INVITE",
                     totag=False))
    send(CAR, PBX, m("SIP/2.0 200 OK", cid, "1 INVITE"))
    send(PBX, CAR, m("ACK sip:x@127.0.0.2 SIP/2.0", cid, "1 ACK"))


if len(sys.argv) > 2 and sys.argv[2] == "2":
    # after a restart: the call left up ends
    send(PBX, CAR, m("BYE sip:x@127.0.0.2 SIP/2.0", "live-up", "2 BYE"))
    sys.exit(0)

call("live-xfer")
send(PBX, CAR, m("REFER sip:x@127.0.0.2 SIP/2.0", "live-xfer", "2 REFER",
                 "Refer-To: <tel:+14152909007>\n"))
send(CAR, PBX, m("SIP/2.0 202 Accepted", "live-xfer", "2 REFER"))
send(CAR, PBX, m("NOTIFY sip:x@127.0.0.1 SIP/2.0", "live-xfer", "1 NOTIFY",
                 "Event: refer\nSubscription-State: terminated\n"
                 "Content-Type: message/sipfrag\n"), "SIP/2.0 200 OK\n")
time.sleep(1.1)
send(PBX, CAR, m("BYE sip:x@127.0.0.2 SIP/2.0", "live-xfer", "3 BYE"))
send(PBX, CAR, m("INVITE sip:%s@%s SIP/2.0" % (B, DOM), "live-busy",
                 "1 INVITE", totag=False))
send(CAR, PBX, m("SIP/2.0 486 Busy Here", "live-busy", "1 INVITE"))
call("live-up")

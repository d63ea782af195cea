#!/usr/bin/env python3
"""Write a large pcap of concurrent SIP transfer flows for benchmarking
referee-capture offline (-r): N flows, each a terminating call with a blind
transfer to a SIP target (INVITE 100 200 ACK REFER 202 NOTIFY 200 child
INVITE 200 ACK NOTIFY 200 BYE 200 child-BYE 200: 17 messages), started
every START_MS milliseconds so thousands overlap.

Usage: cap_sip_flows.py OUT.pcap FLOWS [START_MS]
"""
import struct
import sys

T0 = 1778400000
out, flows = sys.argv[1], int(sys.argv[2])
step = int(sys.argv[3]) if len(sys.argv) > 3 else 2
PBX, CAR = bytes([127, 0, 0, 1]), bytes([127, 0, 0, 2])
B = "+14155550100"
DOM = "mytrunk.pstn.twilio.com"


def hdr(start, cid, cseq, src, extra="", body="", totag=True):
    return (f"{start}\r\nVia: SIP/2.0/UDP {src}:5060;branch=z9hG4bK{cid}{cseq.split()[0]}\r\n"
            f"From: <sip:+14155550111@pbx.example.com>;tag=f{cid}\r\n"
            f"To: <sip:{B}@{DOM}>{';tag=t' + cid if totag else ''}\r\n"
            f"Call-ID: {cid}\r\nCSeq: {cseq}\r\nMax-Forwards: 70\r\n{extra}"
            f"Content-Length: {len(body)}\r\n\r\n{body}")


def flow(i):
    p, c = f"p{i}x7f3a9", f"c{i}x7f3a9"
    sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"
    inv = f"INVITE sip:{B}@{DOM} SIP/2.0"
    return [
        (0, 1, hdr(inv, p, "1 INVITE", "127.0.0.1", "Content-Type: application/sdp\r\n", sdp, False)),
        (20, 0, hdr("SIP/2.0 100 Trying", p, "1 INVITE", "127.0.0.2")),
        (1000, 0, hdr("SIP/2.0 200 OK", p, "1 INVITE", "127.0.0.2", "Content-Type: application/sdp\r\n", sdp)),
        (1010, 1, hdr("ACK sip:x@127.0.0.2 SIP/2.0", p, "1 ACK", "127.0.0.1")),
        (5000, 1, hdr("REFER sip:x@127.0.0.2 SIP/2.0", p, "2 REFER", "127.0.0.1",
                      "Refer-To: <sip:alice@pbx.example.com>\r\nReferred-By: <sip:pbx@pbx.example.com>\r\n")),
        (5020, 0, hdr("SIP/2.0 202 Accepted", p, "2 REFER", "127.0.0.2")),
        (5030, 0, hdr("NOTIFY sip:x@127.0.0.1 SIP/2.0", p, "1 NOTIFY", "127.0.0.2",
                      "Event: refer\r\nSubscription-State: active\r\nContent-Type: message/sipfrag\r\n", "SIP/2.0 100 Trying\r\n")),
        (5040, 1, hdr("SIP/2.0 200 OK", p, "1 NOTIFY", "127.0.0.1")),
        (5100, 0, hdr("INVITE sip:alice@pbx.example.com SIP/2.0", c, "1 INVITE", "127.0.0.2",
                      "Referred-By: <sip:pbx@pbx.example.com>\r\nContent-Type: application/sdp\r\n", sdp, False)),
        (9000, 1, hdr("SIP/2.0 200 OK", c, "1 INVITE", "127.0.0.1", "Content-Type: application/sdp\r\n", sdp)),
        (9010, 0, hdr("ACK sip:x@127.0.0.1 SIP/2.0", c, "1 ACK", "127.0.0.2")),
        (9020, 0, hdr("NOTIFY sip:x@127.0.0.1 SIP/2.0", p, "2 NOTIFY", "127.0.0.2",
                      "Event: refer\r\nSubscription-State: terminated\r\nContent-Type: message/sipfrag\r\n", "SIP/2.0 200 OK\r\n")),
        (9030, 1, hdr("SIP/2.0 200 OK", p, "2 NOTIFY", "127.0.0.1")),
        (9100, 1, hdr("BYE sip:x@127.0.0.2 SIP/2.0", p, "3 BYE", "127.0.0.1")),
        (9110, 0, hdr("SIP/2.0 200 OK", p, "3 BYE", "127.0.0.2")),
        (60000, 0, hdr("BYE sip:x@127.0.0.1 SIP/2.0", c, "2 BYE", "127.0.0.2")),
        (60010, 1, hdr("SIP/2.0 200 OK", c, "2 BYE", "127.0.0.1")),
    ]


def frame(fwd, data):
    src, dst = (PBX, CAR) if fwd else (CAR, PBX)
    udp = struct.pack("!HHHH", 5060, 5060, 8 + len(data), 0) + data
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                     src, dst)
    return b"\0\0\0\0\0\2\0\0\0\0\0\1\x08\0" + ip + udp


events = []
for i in range(flows):
    base = i * step
    for off, fwd, text in flow(i):
        events.append((base + off, fwd, text.encode()))
events.sort(key=lambda e: e[0])
with open(out, "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    for ms, fwd, data in events:
        fr = frame(fwd, data)
        f.write(struct.pack("<IIII", T0 + ms // 1000, (ms % 1000) * 1000,
                            len(fr), len(fr)))
        f.write(fr)
print(len(events))

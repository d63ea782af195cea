#!/usr/bin/env python3
"""Write a pcap of SIP transfer flows (the four scenarios of rating/README.md, a
refused REFER, a busy target, compact headers, SIP over TCP, an IPv6 call,
a call off the trunk) for the referee-capture end-to-end test.

PBX 127.0.0.1, carrier 127.0.0.2 (the deck's carrier_addresses).
Usage: sip_flows.py OUT.pcap
"""
import struct
import sys

T0 = 1778400000  # 2026-05-10T08:00:00Z
PBX, CARRIER = "127.0.0.1", "127.0.0.2"
PBX6, CARRIER6 = "::1", "2001:db8::2"
A, B = "+14155550111", "+14155550100"
DOMAIN = "mytrunk.pstn.twilio.com"

packets = []  # (ms, frame bytes)


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ip4(a):
    return bytes(int(x) for x in a.split("."))


def ip6(a):
    import ipaddress
    return ipaddress.IPv6Address(a).packed


def eth(ethertype, payload):
    return b"\x00\x00\x00\x00\x00\x02" + b"\x00\x00\x00\x00\x00\x01" + \
        struct.pack("!H", ethertype) + payload


def ipv4(src, dst, proto, payload):
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, 0, 64,
                      proto, 0, ip4(src), ip4(dst))
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return eth(0x0800, hdr + payload)


def ipv6(src, dst, proto, payload):
    hdr = struct.pack("!IHBB16s16s", 6 << 28, len(payload), proto, 64,
                      ip6(src), ip6(dst))
    return eth(0x86DD, hdr + payload)


def udp(ms, src, dst, text, sport=5060, dport=5060):
    data = text.replace("\n", "\r\n").encode()
    seg = struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data
    frame = ipv6(src, dst, 17, seg) if ":" in src else ipv4(src, dst, 17, seg)
    packets.append((ms, frame))


tcp_seq = {}


def tcp(ms, src, dst, text, sport, dport, flags=0x18):
    key = (src, sport, dst, dport)
    seq = tcp_seq.get(key, 1000)
    data = text.replace("\n", "\r\n").encode()
    ack = tcp_seq.get((dst, dport, src, sport), 1000)
    seg = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags,
                      65535, 0, 0) + data
    tcp_seq[key] = seq + len(data) + (1 if flags & 0x02 else 0)
    packets.append((ms, ipv4(src, dst, 6, seg)))


def msg(start, cid, cseq, extra="", body="", compact=False, ftag="f",
        ttag=None):
    h = {"via": "Via", "from": "From", "to": "To", "cid": "Call-ID",
         "ct": "Content-Type", "cl": "Content-Length"}
    if compact:
        h = {"via": "v", "from": "f", "to": "t", "cid": "i", "ct": "c",
             "cl": "l"}
    body = body.replace("\n", "\r\n")
    s = start + "\n"
    s += "%s: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-%s-%s\n" % (
        h["via"], cid, cseq.replace(" ", ""))
    s += "%s: <sip:a@x>;tag=%s-%s\n" % (h["from"], ftag, cid)
    s += "%s: <sip:b@y>%s\n" % (h["to"], ";tag=t-" + cid if ttag else "")
    s += "%s: %s\nCSeq: %s\nMax-Forwards: 70\n%s" % (h["cid"], cid, cseq, extra)
    s += "%s: %d\n\n" % (h["cl"], len(body))
    return s + body.replace("\r\n", "\n")


def invite(ms, src, dst, cid, ruri, frm, to, extra="", compact=False):
    h = ("f", "t", "i", "l") if compact else ("From", "To", "Call-ID",
                                              "Content-Length")
    sdp = "v=0\no=- 1 1 IN IP4 %s\ns=-\nc=IN IP4 %s\nt=0 0\nm=audio 4000 RTP/AVP 0\n" % (src, src)
    s = ("INVITE %s SIP/2.0\nVia: SIP/2.0/UDP %s:5060;branch=z9hG4bK-%s-inv\n"
         "%s: <%s>;tag=f-%s\n%s: <%s>\n%s: %s\nCSeq: 1 INVITE\n"
         "Contact: <sip:x@%s>\n%sContent-Type: application/sdp\n%s: %d\n\n%s"
         % (ruri, src, cid, h[0], frm, cid, h[1], to, h[2], cid, src, extra,
            h[3], len(sdp.replace("\n", "\r\n")), sdp))
    udp(ms, src, dst, s)


def resp(ms, src, dst, cid, code, cseq, extra=""):
    udp(ms, src, dst, msg("SIP/2.0 %d Reason" % code, cid, cseq, extra,
                          ttag=True))


def req(ms, src, dst, cid, method, cseq, extra="", body="", compact=False):
    udp(ms, src, dst, msg("%s sip:peer@%s SIP/2.0" % (method, dst), cid,
                          "%d %s" % (cseq, method), extra, body, compact,
                          ttag=True))


def notify(ms, src, dst, cid, cseq, frag, terminated, compact=False):
    if compact:
        extra = "o: refer\nSubscription-State: %s\nc: message/sipfrag\n" % (
            "terminated;reason=noresource" if terminated else "active")
    else:
        extra = ("Event: refer\nSubscription-State: %s\n"
                 "Content-Type: message/sipfrag;version=2.0\n" % (
                     "terminated;reason=noresource" if terminated else "active"))
    req(ms, src, dst, cid, "NOTIFY", cseq, extra, frag + "\n", compact)


def refer(ms, src, dst, cid, target, compact=False):
    extra = ("r: %s\nb: <sip:pbx@pbx.example.com>\n" if compact else
             "Refer-To: %s\nReferred-By: <sip:pbx@pbx.example.com>\n") % target
    req(ms, src, dst, cid, "REFER", 2, extra, compact=compact)


def term_parent(t, cid):
    invite(t, PBX, CARRIER, cid, "sip:%s@%s" % (B, DOMAIN),
           "sip:%s@pbx.example.com" % A, "sip:%s@%s" % (B, DOMAIN))
    resp(t + 50, CARRIER, PBX, cid, 100, "1 INVITE")
    resp(t + 1000, CARRIER, PBX, cid, 200, "1 INVITE")
    req(t + 1010, PBX, CARRIER, cid, "ACK", 1)


def orig_parent(t, cid):
    invite(t, CARRIER, PBX, cid, "sip:%s@127.0.0.1" % B,
           "sip:%s@%s" % (A, DOMAIN), "sip:%s@127.0.0.1" % B)
    resp(t + 1000, PBX, CARRIER, cid, 200, "1 INVITE")
    req(t + 1010, CARRIER, PBX, cid, "ACK", 1)


# 1. termination, SIP target: the carrier's INVITE to the target is visible
t = 0
term_parent(t, "term-sip")
refer(t + 10000, PBX, CARRIER, "term-sip", "<sip:alice@pbx.example.com>")
resp(t + 10050, CARRIER, PBX, "term-sip", 202, "2 REFER")
notify(t + 10060, CARRIER, PBX, "term-sip", 1, "SIP/2.0 100 Trying", False)
invite(t + 10100, CARRIER, PBX, "term-sip-child", "sip:alice@pbx.example.com",
       "sip:%s@%s" % (B, DOMAIN), "sip:alice@pbx.example.com",
       "Referred-By: <sip:pbx@pbx.example.com>\n")
resp(t + 15000, PBX, CARRIER, "term-sip-child", 200, "1 INVITE")
notify(t + 15010, CARRIER, PBX, "term-sip", 2, "SIP/2.0 200 OK", True)
req(t + 15500, PBX, CARRIER, "term-sip", "BYE", 3)
resp(t + 15510, CARRIER, PBX, "term-sip", 200, "3 BYE")
req(t + 75200, CARRIER, PBX, "term-sip-child", "BYE", 2)

# 2. termination, PSTN target: no INVITE visible, child from the NOTIFYs
t = 100000
term_parent(t, "term-pstn")
refer(t + 20000, PBX, CARRIER, "term-pstn",
      "<sip:+14152908007@%s>" % DOMAIN)
resp(t + 20040, CARRIER, PBX, "term-pstn", 202, "2 REFER")
notify(t + 20050, CARRIER, PBX, "term-pstn", 1, "SIP/2.0 100 Trying", False)
notify(t + 27000, CARRIER, PBX, "term-pstn", 2, "SIP/2.0 200 OK", True)
req(t + 27100, PBX, CARRIER, "term-pstn", "BYE", 3)

# 3. origination, SIP target
t = 200000
orig_parent(t, "orig-sip")
refer(t + 5000, PBX, CARRIER, "orig-sip", "<sip:bob@pbx.example.com>")
resp(t + 5050, CARRIER, PBX, "orig-sip", 202, "2 REFER")
invite(t + 5200, CARRIER, PBX, "orig-sip-child", "sip:bob@127.0.0.1",
       "sip:%s@%s" % (A, DOMAIN), "sip:bob@pbx.example.com")
resp(t + 9000, PBX, CARRIER, "orig-sip-child", 200, "1 INVITE")
notify(t + 9010, CARRIER, PBX, "orig-sip", 1, "SIP/2.0 200 OK", True)
req(t + 9100, PBX, CARRIER, "orig-sip", "BYE", 3)
req(t + 30000, PBX, CARRIER, "orig-sip-child", "BYE", 2)

# 4. origination, PSTN target (tel: URI), compact headers throughout
t = 300000
orig_parent(t, "orig-pstn")
refer(t + 5000, PBX, CARRIER, "orig-pstn", "<tel:+14152909007>", compact=True)
resp(t + 5050, CARRIER, PBX, "orig-pstn", 202, "2 REFER")
notify(t + 9000, CARRIER, PBX, "orig-pstn", 1, "SIP/2.0 200 OK", True,
       compact=True)
req(t + 9100, PBX, CARRIER, "orig-pstn", "BYE", 3, compact=True)

# 5. refused REFER (emergency number)
t = 400000
term_parent(t, "refused")
refer(t + 5000, PBX, CARRIER, "refused", "<sip:911@%s>" % DOMAIN)
resp(t + 5050, CARRIER, PBX, "refused", 403, "2 REFER")
req(t + 60000, PBX, CARRIER, "refused", "BYE", 3)

# 6. failed transfer: the target is busy (sipfrag 486)
t = 500000
term_parent(t, "busy")
refer(t + 5000, PBX, CARRIER, "busy", "<sip:+14152908007@%s>" % DOMAIN)
resp(t + 5050, CARRIER, PBX, "busy", 202, "2 REFER")
notify(t + 5060, CARRIER, PBX, "busy", 1, "SIP/2.0 100 Trying", False)
notify(t + 8000, CARRIER, PBX, "busy", 2, "SIP/2.0 486 Busy Here", True)
req(t + 20000, PBX, CARRIER, "busy", "BYE", 3)

# 7. SIP over TCP: a plain terminating call, two messages in one segment
t = 600000
tcp(t - 10, PBX, CARRIER, "", 40000, 5060, flags=0x02)
tcp(t - 9, CARRIER, PBX, "", 5060, 40000, flags=0x12)
inv = ("INVITE sip:%s@%s;transport=tcp SIP/2.0\n"
       "Via: SIP/2.0/TCP 127.0.0.1:40000;branch=z9hG4bK-tcp1\n"
       "From: <sip:%s@pbx.example.com>;tag=f-tcp\nTo: <sip:%s@%s>\n"
       "Call-ID: tcp-call\nCSeq: 1 INVITE\nContent-Length: 0\n\n"
       % (B, DOMAIN, A, B, DOMAIN))
tcp(t, PBX, CARRIER, inv, 40000, 5060)
ok = ("SIP/2.0 100 Trying\nVia: SIP/2.0/TCP 127.0.0.1:40000;branch=z9hG4bK-tcp1\n"
      "From: <sip:a@x>;tag=f-tcp\nTo: <sip:b@y>\nCall-ID: tcp-call\n"
      "CSeq: 1 INVITE\nContent-Length: 0\n\n"
      "SIP/2.0 200 OK\nVia: SIP/2.0/TCP 127.0.0.1:40000;branch=z9hG4bK-tcp1\n"
      "From: <sip:a@x>;tag=f-tcp\nTo: <sip:b@y>;tag=t-tcp\nCall-ID: tcp-call\n"
      "CSeq: 1 INVITE\nContent-Length: 0\n\n")
tcp(t + 2000, CARRIER, PBX, ok, 5060, 40000)
bye = ("BYE sip:%s@127.0.0.2 SIP/2.0\nVia: SIP/2.0/TCP 127.0.0.1:40000;branch=z9hG4bK-tcp2\n"
       "From: <sip:a@x>;tag=f-tcp\nTo: <sip:b@y>;tag=t-tcp\nCall-ID: tcp-call\n"
       "CSeq: 2 BYE\nContent-Length: 0\n\n" % B)
tcp(t + 32500, PBX, CARRIER, bye[:40], 40000, 5060)   # split over two
tcp(t + 32501, PBX, CARRIER, bye[40:], 40000, 5060)   # segments

# 8. a call that touches no configured trunk: ignored
t = 700000
invite(t, PBX, "192.0.2.9", "other", "sip:1000@other.example.com",
       "sip:2000@pbx.example.com", "sip:1000@other.example.com")
resp(t + 100, "192.0.2.9", PBX, "other", 200, "1 INVITE")
req(t + 5000, PBX, "192.0.2.9", "other", "BYE", 2)

# 9. IPv6, busy
t = 800000
invite(t, PBX6, CARRIER6, "v6-busy", "sip:%s@%s" % (B, DOMAIN),
       "sip:%s@pbx.example.com" % A, "sip:%s@%s" % (B, DOMAIN))
resp(t + 3000, CARRIER6, PBX6, "v6-busy", 486, "1 INVITE")

# 10. a call still up at the end of the file: written as in-progress
t = 900000
term_parent(t, "still-up")

packets.sort(key=lambda p: p[0])
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    for ms, frame in packets:
        sec = T0 + ms // 1000
        usec = (ms % 1000) * 1000
        f.write(struct.pack("<IIII", sec, usec, len(frame), len(frame)))
        f.write(frame)

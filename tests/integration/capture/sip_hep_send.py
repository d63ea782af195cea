#!/usr/bin/env python3
"""Replay the SIP/UDP messages of a pcap as HEPv3 packets to a listener, in
real time, with their timestamps moved to now (whole seconds, so durations
stay the same).  Link types: Ethernet, Linux cooked (SLL), BSD loopback.
Usage: sip_hep_send.py FILE.pcap HOST PORT [COMPRESS]
COMPRESS (default none) sends payloads as compressed chunks (0x0010):
  zlib   every one with zlib's compress(), as captagent and homer do, the
         level cycling 0-9 (stored, fixed and dynamic blocks)
  mixed  in turn plain (0x000f), zlib, gzip, raw deflate
Prints the shift in seconds, then how many payloads were compressed.
"""
import gzip
import socket
import struct
import sys
import time
import zlib

path, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
mode = sys.argv[4] if len(sys.argv) > 4 else "none"
if mode not in ("none", "zlib", "mixed"):
    sys.exit("compress mode: none, zlib or mixed")
data = open(path, "rb").read()
magic = struct.unpack("<I", data[:4])[0]
end = "<" if magic == 0xA1B2C3D4 else ">"
linktype = struct.unpack(end + "I", data[20:24])[0]
off = 24
msgs = []
while off + 16 <= len(data):
    sec, usec, incl, _ = struct.unpack(end + "IIII", data[off:off + 16])
    frame = data[off + 16:off + 16 + incl]
    off += 16 + incl
    if linktype == 1:
        l3, et = frame[14:], struct.unpack("!H", frame[12:14])[0]
    elif linktype == 113:
        l3, et = frame[16:], struct.unpack("!H", frame[14:16])[0]
    elif linktype == 0:
        l3, et = frame[4:], 0x0800
    else:
        sys.exit("link type %d" % linktype)
    if et != 0x0800 or l3[9] != 17:
        continue
    ihl = (l3[0] & 15) * 4
    udp = l3[ihl:]
    sport, dport = struct.unpack("!HH", udp[:4])
    msgs.append((sec, usec, l3[12:16], l3[16:20], sport, dport, udp[8:]))


def chunk(t, value):
    return struct.pack("!HHH", 0, t, 6 + len(value)) + value


def raw_deflate(data):
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


def payload_chunk(i, payload):
    """The payload chunk of the i-th message, compressed as mode says."""
    if mode == "zlib":
        return chunk(16, zlib.compress(payload, i % 10))
    if mode == "mixed" and i % 4 == 1:
        return chunk(16, zlib.compress(payload))
    if mode == "mixed" and i % 4 == 2:
        return chunk(16, gzip.compress(payload, mtime=0))
    if mode == "mixed" and i % 4 == 3:
        return chunk(16, raw_deflate(payload))
    return chunk(15, payload)


shift = int(time.time()) + 1 - msgs[0][0]
print(shift)
sys.stdout.flush()
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
t_start, first = time.time(), msgs[0][0] + msgs[0][1] / 1e6
compressed = 0
for i, (sec, usec, src, dst, sport, dport, payload) in enumerate(msgs):
    delay = (sec + usec / 1e6 - first) - (time.time() - t_start)
    if delay > 0:
        time.sleep(delay)
    pc = payload_chunk(i, payload)
    compressed += pc[2:4] == b"\x00\x10"
    body = (chunk(1, b"\x02") + chunk(2, b"\x11") + chunk(3, src) +
            chunk(4, dst) + chunk(7, struct.pack("!H", sport)) +
            chunk(8, struct.pack("!H", dport)) +
            chunk(9, struct.pack("!I", sec + shift)) +
            chunk(10, struct.pack("!I", usec)) + chunk(11, b"\x01") +
            chunk(12, struct.pack("!I", 2001)) + pc)
    s.sendto(b"HEP3" + struct.pack("!H", 6 + len(body)) + body, (host, port))
print(compressed)

#!/usr/bin/env python3
"""Write the seed corpora of fuzz_cap_packet, fuzz_cap_hep and fuzz_cap_frame
from the SIPp pcap fixtures (tests/fixtures/pcap/sipp_*.pcap).

  fuzz_cap_packet: byte 0 link type index (0 Ethernet, 1 SLL, 3 raw),
                   byte 1 bounds flags, then frames as 16-bit length + bytes
  fuzz_cap_hep:    one HEP3 packet per SIP message of a fixture
  fuzz_cap_frame:  the TCP fixture's client-to-server byte stream
"""
import os
import struct
import sys

here = os.path.dirname(os.path.abspath(__file__))
fixtures = os.path.join(here, '..', 'fixtures', 'pcap')


def frames(path):
    with open(path, 'rb') as f:
        data = f.read()
    magic = struct.unpack('<I', data[:4])[0]
    e = '<' if magic in (0xa1b2c3d4, 0xa1b23c4d) else '>'
    linktype = struct.unpack(e + 'I', data[20:24])[0]
    off = 24
    out = []
    while off + 16 <= len(data):
        sec, usec, incl, orig = struct.unpack(e + 'IIII', data[off:off + 16])
        out.append(data[off + 16:off + 16 + incl])
        off += 16 + incl
    return linktype, out


def chunk(t, v):
    return struct.pack('>HHH', 0, t, len(v) + 6) + v


def hep(src, dst, sport, dport, proto, payload):
    body = (chunk(1, b'\x02') + chunk(2, bytes([proto])) + chunk(3, src) +
            chunk(4, dst) + chunk(7, struct.pack('>H', sport)) +
            chunk(8, struct.pack('>H', dport)) +
            chunk(9, struct.pack('>I', 1700000000)) +
            chunk(10, struct.pack('>I', 1)) + chunk(11, b'\x01') +
            chunk(12, struct.pack('>I', 2001)) + chunk(15, payload))
    return b'HEP3' + struct.pack('>H', len(body) + 6) + body


def write(name, fname, data):
    d = os.path.join(here, 'corpus', name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, fname), 'wb') as f:
        f.write(data)


dlt_index = {1: 0, 113: 1, 101: 3, 12: 3}
for fn in sorted(os.listdir(fixtures)):
    if not fn.endswith('.pcap'):
        continue
    lt, fr = frames(os.path.join(fixtures, fn))
    base = fn[:-5]
    for flags in (0, 3):
        seed = bytes([dlt_index.get(lt, 0), flags])
        for x in fr:
            seed += struct.pack('>H', len(x)) + x
        write('fuzz_cap_packet', '%s_%d' % (base, flags), seed)
    if lt != 1:
        continue
    # HEP packets and a stream from the Ethernet/IPv4 fixtures
    stream = b''
    for i, x in enumerate(fr):
        ip = x[14:]
        ihl = (ip[0] & 15) * 4
        proto = ip[9]
        l4 = ip[ihl:]
        if proto == 17:
            payload = l4[8:]
        else:
            payload = l4[(l4[12] >> 4) * 4:]
            if ip[12:16] == b'\x7f\x00\x00\x01':
                stream += payload
        if not payload:
            continue
        sport, dport = struct.unpack('>HH', l4[:4])
        if i < 4 or base == 'sipp_compact':
            write('fuzz_cap_hep', '%s_%02d' % (base, i),
                  hep(ip[12:16], ip[16:20], sport, dport, proto, payload))
    if stream:
        write('fuzz_cap_frame', base, stream)
write('fuzz_cap_frame', 'junk_keepalive_bad_cl',
      b'\x16\x03garbage\r\n\r\n\r\nINVITE sip:a@b SIP/2.0\r\nl: 1x\r\n\r\n'
      b'BYE sip:a@b SIP/2.0\r\nContent-Length:  2 \r\n\r\nok'
      b'SIP/2.0 200 OK\nl:0\n\n')
write('fuzz_cap_hep', 'truncated', hep(b'\x01\x02\x03\x04', b'\x05\x06\x07\x08',
                                       5060, 5060, 17, b'OPTIONS')[:40])

#!/usr/bin/env python3
"""Differential check of cap_inflate against the real zlib (by hand, not in
CI): random data compressed by Python's zlib with random levels, window
sizes, memLevels, strategies, flushes and wrappers must inflate to the same
bytes; the same streams with random bits flipped must be accepted or refused
as zlib decides (a disagreement is printed for a look: some are legitimate,
see the notes in the output).
Usage: python3 tests/fuzz/inflate_diff.py [SECONDS]   (from the repo root)
"""
import ctypes
import os
import random
import subprocess
import sys
import tempfile
import time
import zlib

root = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
lib_path = os.path.join(tempfile.mkdtemp(), "libcapinflate.so")
subprocess.check_call(["cc", "-shared", "-fPIC", "-O1", "-g", "-I", root,
                       os.path.join(root, "cdr/capture/cap_inflate.c"),
                       "-o", lib_path])
lib = ctypes.CDLL(lib_path)
lib.cap_inflate.argtypes = [ctypes.c_char_p, ctypes.c_size_t,
                            ctypes.c_char_p, ctypes.c_size_t,
                            ctypes.POINTER(ctypes.c_size_t)]
CAP = 1 << 20
outbuf = ctypes.create_string_buffer(CAP)


def ours(data):
    n = ctypes.c_size_t(0)
    rc = lib.cap_inflate(data, len(data), outbuf, CAP, ctypes.byref(n))
    return rc, outbuf.raw[:n.value] if rc == 0 else None


def theirs(data, wbits):
    """zlib's verdict: the output, or None when zlib refuses the stream or
    it is incomplete."""
    d = zlib.decompressobj(wbits)
    try:
        out = d.decompress(data, CAP + 1)
    except zlib.error:
        return None
    if not d.eof or len(out) > CAP:
        return None
    return out


def sample(rng):
    kind = rng.randrange(5)
    n = rng.choice([0, 1, 2, 10, 100, 1000, 5000, 40000, 70000])
    if kind == 0:
        return os.urandom(n)
    if kind == 1:  # few symbols: long matches
        return bytes(rng.choice(b"ab") for _ in range(n))
    if kind == 2:  # runs
        out = bytearray()
        while len(out) < n:
            out += bytes([rng.randrange(256)]) * rng.randrange(1, 300)
        return bytes(out[:n])
    words = [b"INVITE", b"sip:", b"SIP/2.0", b"\r\n", b"Via: ", b"Call-ID: ",
             b"+1415555", b"0123", b";branch=z9hG4bK", b" ", b"tag="]
    out = bytearray()
    while len(out) < n:
        out += rng.choice(words)
    return bytes(out[:n])


def compress(rng, data):
    wrapper = rng.choice(["zlib", "gzip", "raw"])
    wb = rng.randrange(9, 16)
    wbits = {"zlib": wb, "gzip": 16 + wb, "raw": -wb}[wrapper]
    c = zlib.compressobj(rng.randrange(0, 10), zlib.DEFLATED, wbits,
                         rng.randrange(1, 10),
                         rng.choice([zlib.Z_DEFAULT_STRATEGY, zlib.Z_FILTERED,
                                     zlib.Z_HUFFMAN_ONLY, zlib.Z_RLE,
                                     zlib.Z_FIXED]))
    out, pos = b"", 0
    while pos < len(data):
        step = rng.randrange(1, len(data) - pos + 1)
        out += c.compress(data[pos:pos + step])
        pos += step
        if rng.random() < 0.3:
            out += c.flush(rng.choice([zlib.Z_SYNC_FLUSH, zlib.Z_FULL_FLUSH]))
    return out + c.flush(), {"zlib": 15, "gzip": 31, "raw": -15}[wrapper]


def detected(data):
    """The wrapper cap_inflate will assume, by the same rule."""
    if data[:2] == b"\x1f\x8b":
        return 31
    if len(data) >= 2 and data[0] & 15 == 8 and \
            (data[0] * 256 + data[1]) % 31 == 0:
        return 15
    return -15


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 60
    rng = random.Random(int(time.time()))
    end = time.time() + seconds
    valid = flipped = reformatted = disagree = 0
    while time.time() < end:
        data = sample(rng)
        stream, wbits = compress(rng, data)
        rc, out = ours(stream)
        if rc != 0 or out != data:
            print("FAIL valid stream: rc %d, %r" % (rc, stream[:40]))
            open("inflate_diff_fail.bin", "wb").write(stream)
            return 1
        valid += 1
        bad = bytearray(stream)
        for _ in range(rng.randrange(1, 4)):
            i = rng.randrange(len(bad))
            bad[i] ^= 1 << rng.randrange(8)
        bad = bytes(bad)
        rc, out = ours(bad)
        flipped += 1
        if detected(bad) != wbits:  # a flip in the header: another format
            reformatted += 1
            continue
        want = theirs(bad, wbits)
        if (rc == 0) != (want is not None) or (rc == 0 and out != want):
            disagree += 1
            if disagree <= 10:
                print("disagree: ours rc %d, zlib %s, wbits %d: %s" %
                      (rc, "ok" if want is not None else "refused", wbits,
                       bad[:48].hex()))
    print("valid streams %d (all equal), flipped %d (%d turned into another "
          "format by a flip in the header: not compared), disagreements %d" %
          (valid, flipped, reformatted, disagree))
    print("note: zlib may refuse distances beyond the window the zlib header "
          "declares; cap_inflate allows any distance within its output")
    return 0


sys.exit(main())

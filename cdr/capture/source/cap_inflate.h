/*
 * A small, bounded DEFLATE decoder (RFC 1951) for HEP chunk 0x0010, with
 * the zlib (RFC 1950) and gzip (RFC 1952) wrappers.  Our own code because
 * zlib is not an approved dependency; HEP payloads are small, so it favours
 * checks and readability over speed.
 *
 * The format is told by the first bytes: 1f 8b is gzip (method 8 only);
 * CMF/FLG with method 8 and (CMF * 256 + FLG) % 31 == 0 is zlib; anything
 * else is decoded as raw deflate.  Bytes after the end of the stream (after
 * its check value) are ignored, as zlib's uncompress() does; a gzip file of
 * several members yields the first one.
 */
#ifndef REFEREE_CAP_INFLATE_H
#define REFEREE_CAP_INFLATE_H

#include <stddef.h>
#include <stdint.h>

enum cap_inflate_code {
    CAP_INFLATE_OK = 0,
    CAP_INFLATE_E_FORMAT = -1,    /* zlib/gzip header refused: method not 8,
                                     window over 32 KiB, preset dictionary,
                                     reserved gzip flags */
    CAP_INFLATE_E_DATA = -2,      /* invalid deflate data: block type 3,
                                     bad code set, symbol or distance */
    CAP_INFLATE_E_OUTPUT = -3,    /* output would exceed out_cap */
    CAP_INFLATE_E_TRUNCATED = -4, /* input ends inside the stream */
    CAP_INFLATE_E_CHECK = -5,     /* Adler-32, CRC-32, ISIZE or gzip
                                     header CRC mismatch */
};

/* Short fixed text for a CAP_INFLATE_* code. */
const char *cap_inflate_strerror(int code);

/*
 * Decompress [in, in + in_len) into out (out_cap bytes, borrowed; may be
 * NULL when out_cap is 0).  Never reads or writes outside these ranges and
 * allocates nothing.  Returns CAP_INFLATE_OK with *out_len set, or a
 * negative CAP_INFLATE_E_* code with *out_len 0 (out may hold partial
 * output then).
 */
int cap_inflate(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_cap,
                size_t *out_len);

#endif

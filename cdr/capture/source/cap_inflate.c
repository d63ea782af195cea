/*
 * DEFLATE decoder.  See cap_inflate.h.
 *
 * Written for this project after reading Mark Adler's puff.c, the classic
 * small inflater: the canonical-code decoding and the set of checks (those
 * zlib makes) follow it; the first-level lookup table, the bit buffer and
 * the wrappers are ours.  Everything lives on the stack (about 8 KiB) and
 * every read and write is checked against its end, so a hostile stream costs
 * at most out_cap bytes of output and time linear in in_len + out_cap (the
 * worst case per input byte being a stream of tiny dynamic blocks, each
 * with its own tables: a few milliseconds for 64 KiB of them).
 */
#include "cdr/capture/source/cap_inflate.h"

#include "cdr/capture/net/cap_bytes.h"

#include <string.h>

#define MAXBITS 15    /* longest Huffman code */
#define FAST_BITS 9   /* codes up to this long are found by one lookup */
#define MAXLCODES 288 /* literal/length symbols the fixed code defines */
#define MAXDCODES 32  /* distance symbols the fixed code defines */
#define NLEN_MAX 286  /* literal/length symbols a stream may use */
#define NDIST_MAX 30  /* distance symbols a stream may use */

const char *
cap_inflate_strerror(int code)
{
    switch (code) {
    case CAP_INFLATE_OK: return "ok";
    case CAP_INFLATE_E_FORMAT: return "unsupported compression header";
    case CAP_INFLATE_E_DATA: return "invalid deflate data";
    case CAP_INFLATE_E_OUTPUT: return "inflated data too large";
    case CAP_INFLATE_E_TRUNCATED: return "truncated compressed data";
    case CAP_INFLATE_E_CHECK: return "compressed data checksum mismatch";
    default: return "unknown inflate error";
    }
}

/* ---------------------------------------------------------------- bits */

/* Deflate packs fields from the lowest bit of each byte up, so bytes are
 * loaded above the bits not yet used and fields taken from the bottom. */
struct bits {
    const uint8_t *in;
    size_t len;
    size_t pos;   /* next byte to load */
    uint64_t buf; /* loaded, unused bits; the next one lowest */
    unsigned cnt; /* how many */
};

static void
bits_refill(struct bits *s)
{
    while (s->cnt <= 56 && s->pos < s->len) {
        s->buf |= (uint64_t)s->in[s->pos++] << s->cnt;
        s->cnt += 8;
    }
}

static void
bits_drop(struct bits *s, unsigned n)
{
    s->buf >>= n;
    s->cnt -= n;
}

/* n <= 16 bits, the first read lowest. */
static int
bits_get(struct bits *s, unsigned n, unsigned *v)
{
    if (s->cnt < n) {
        bits_refill(s);
        if (s->cnt < n)
            return CAP_INFLATE_E_TRUNCATED;
    }
    *v = (unsigned)(s->buf & ((1u << n) - 1));
    bits_drop(s, n);
    return 0;
}

/*
 * Skip to the next byte boundary and give the whole bytes still buffered
 * back to the input: stored blocks and trailers are then read as bytes at
 * s->pos.
 */
static void
bits_to_bytes(struct bits *s)
{
    s->pos -= (s->cnt - s->cnt % 8) / 8;
    s->buf = 0;
    s->cnt = 0;
}

/* ------------------------------------------------------------- huffman */

/*
 * A canonical Huffman code (RFC 1951 3.2.2).  Codes up to FAST_BITS long
 * are found with one lookup of the next FAST_BITS input bits; longer codes
 * by walking the lengths with count[] and symbol[] as puff does.
 */
struct huffman {
    uint16_t count[MAXBITS + 1]; /* codes of each length */
    uint16_t symbol[MAXLCODES];  /* symbols ordered by code */
    unsigned ncodes;             /* symbols with a code */
    /* next FAST_BITS bits (first bit lowest) -> length << 9 | symbol,
     * 0 when the code is longer or unused */
    uint16_t fast[1u << FAST_BITS];
};

static unsigned
reverse_bits(unsigned code, unsigned len)
{
    unsigned r = 0;
    while (len-- > 0) {
        r = (r << 1) | (code & 1);
        code >>= 1;
    }
    return r;
}

/* Huffman codes are packed most significant bit first, the reverse of other
 * fields: the table is indexed by each code reversed, with every value of
 * the bits after it. */
static void
huffman_fill_fast(struct huffman *h)
{
    unsigned code = 0, index = 0;
    memset(h->fast, 0, sizeof h->fast);
    for (unsigned len = 1; len <= FAST_BITS; len++) {
        for (unsigned k = 0; k < h->count[len]; k++, code++, index++) {
            uint16_t entry = (uint16_t)(len << 9 | h->symbol[index]);
            for (unsigned i = reverse_bits(code, len); i < (1u << FAST_BITS);
                 i += 1u << len)
                h->fast[i] = entry;
        }
        code <<= 1;
    }
}

/*
 * Build h from n code lengths (0: symbol unused).  Returns 0 for a complete
 * code, > 0 for an incomplete one (usable: unused codes decode as errors),
 * < 0 for an over-subscribed one (not built).
 */
static int
huffman_build(struct huffman *h, const uint8_t *lengths, unsigned n)
{
    memset(h->count, 0, sizeof h->count);
    for (unsigned i = 0; i < n; i++)
        h->count[lengths[i]]++;
    int left = 1; /* codes of the current length still free */
    for (unsigned len = 1; len <= MAXBITS; len++) {
        left = left * 2 - h->count[len];
        if (left < 0)
            return left;
    }
    uint16_t offs[MAXBITS + 1];
    offs[1] = 0;
    for (unsigned len = 1; len < MAXBITS; len++)
        offs[len + 1] = (uint16_t)(offs[len] + h->count[len]);
    h->ncodes = 0;
    for (unsigned i = 0; i < n; i++)
        if (lengths[i] != 0) {
            h->symbol[offs[lengths[i]]++] = (uint16_t)i;
            h->ncodes++;
        }
    huffman_fill_fast(h);
    return left;
}

/* Codes longer than FAST_BITS, and unused ones, bit by bit. */
static int
decode_slow(struct bits *s, const struct huffman *h, unsigned *sym)
{
    unsigned code = 0;  /* bits so far, first one highest */
    unsigned first = 0; /* first code of this length */
    unsigned index = 0; /* its position in symbol[] */
    for (unsigned len = 1; len <= MAXBITS; len++) {
        if (index >= h->ncodes) /* no longer code left to match */
            return CAP_INFLATE_E_DATA;
        if (len > s->cnt)
            return CAP_INFLATE_E_TRUNCATED;
        code |= (unsigned)(s->buf >> (len - 1)) & 1;
        unsigned count = h->count[len];
        if (code - first < count) {
            *sym = h->symbol[index + (code - first)];
            bits_drop(s, len);
            return 0;
        }
        index += count;
        first = (first + count) << 1;
        code <<= 1;
    }
    return CAP_INFLATE_E_DATA;
}

static int
decode(struct bits *s, const struct huffman *h, unsigned *sym)
{
    if (s->cnt < MAXBITS)
        bits_refill(s); /* missing bits read as 0 below; cnt tells */
    unsigned entry = h->fast[s->buf & ((1u << FAST_BITS) - 1)];
    unsigned len = entry >> 9;
    if (len == 0)
        return decode_slow(s, h, sym);
    if (len > s->cnt)
        return CAP_INFLATE_E_TRUNCATED;
    *sym = entry & 511;
    bits_drop(s, len);
    return 0;
}

/* -------------------------------------------------------------- blocks */

struct out {
    uint8_t *p;
    size_t cap;
    size_t len;
};

static int
inflate_stored(struct bits *s, struct out *o)
{
    bits_to_bytes(s);
    if (s->len - s->pos < 4)
        return CAP_INFLATE_E_TRUNCATED;
    const uint8_t *h = s->in + s->pos;
    size_t len = (size_t)h[0] | (size_t)h[1] << 8;
    size_t nlen = (size_t)h[2] | (size_t)h[3] << 8;
    if (len != (~nlen & 0xffff))
        return CAP_INFLATE_E_DATA;
    s->pos += 4;
    if (s->len - s->pos < len)
        return CAP_INFLATE_E_TRUNCATED;
    if (o->cap - o->len < len)
        return CAP_INFLATE_E_OUTPUT;
    if (len > 0) /* o->p may be NULL when out_cap is 0 */
        memcpy(o->p + o->len, s->in + s->pos, len);
    o->len += len;
    s->pos += len;
    return 0;
}

static const uint16_t LEN_BASE[29] = {
    3,  4,  5,  6,  7,  8,  9,  10, 11,  13,  15,  17,  19,  23, 27,
    31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
static const uint8_t LEN_EXTRA[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1,
                                      1, 1, 2, 2, 2, 2, 3, 3, 3, 3,
                                      4, 4, 4, 4, 5, 5, 5, 5, 0};
static const uint16_t DIST_BASE[30] = {
    1,    2,    3,    4,    5,    7,    9,    13,    17,    25,
    33,   49,   65,   97,   129,  193,  257,  385,   513,   769,
    1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
static const uint8_t DIST_EXTRA[30] = {0, 0, 0,  0,  1,  1,  2,  2,  3,  3,
                                       4, 4, 5,  5,  6,  6,  7,  7,  8,  8,
                                       9, 9, 10, 10, 11, 11, 12, 12, 13, 13};

/* A copy of len bytes from dist back; may overlap itself (runs). */
static int
copy_match(struct out *o, size_t len, size_t dist)
{
    if (dist > o->len)
        return CAP_INFLATE_E_DATA;
    if (len > o->cap - o->len)
        return CAP_INFLATE_E_OUTPUT;
    for (size_t i = 0; i < len; i++, o->len++)
        o->p[o->len] = o->p[o->len - dist];
    return 0;
}

/* The symbols of a Huffman-coded block, up to its end-of-block code. */
static int
inflate_codes(struct bits *s, struct out *o, const struct huffman *lencode,
              const struct huffman *distcode)
{
    for (;;) {
        unsigned sym, extra;
        int rc = decode(s, lencode, &sym);
        if (rc != 0)
            return rc;
        if (sym < 256) {
            if (o->len == o->cap)
                return CAP_INFLATE_E_OUTPUT;
            o->p[o->len++] = (uint8_t)sym;
            continue;
        }
        if (sym == 256)
            return 0;
        sym -= 257;
        if (sym >= 29) /* 286 and 287: in the fixed code, never valid */
            return CAP_INFLATE_E_DATA;
        if ((rc = bits_get(s, LEN_EXTRA[sym], &extra)) != 0)
            return rc;
        size_t len = LEN_BASE[sym] + extra;
        if ((rc = decode(s, distcode, &sym)) != 0)
            return rc;
        if (sym >= 30) /* 30 and 31: likewise */
            return CAP_INFLATE_E_DATA;
        if ((rc = bits_get(s, DIST_EXTRA[sym], &extra)) != 0)
            return rc;
        if ((rc = copy_match(o, len, DIST_BASE[sym] + extra)) != 0)
            return rc;
    }
}

/* The fixed code (RFC 1951 3.2.6), built at the first fixed block of a
 * stream: a stream of empty fixed blocks (10 bits each) would otherwise
 * cost a table build per 10 bits. */
struct fixed_codes {
    int built;
    struct huffman lencode, distcode;
};

static int
inflate_fixed(struct bits *s, struct out *o, struct fixed_codes *f)
{
    if (!f->built) {
        uint8_t lengths[MAXLCODES + MAXDCODES];
        memset(lengths, 8, 144);
        memset(lengths + 144, 9, 256 - 144);
        memset(lengths + 256, 7, 280 - 256);
        memset(lengths + 280, 8, MAXLCODES - 280);
        memset(lengths + MAXLCODES, 5, MAXDCODES);
        huffman_build(&f->lencode, lengths, MAXLCODES);
        huffman_build(&f->distcode, lengths + MAXLCODES, MAXDCODES);
        f->built = 1;
    }
    return inflate_codes(s, o, &f->lencode, &f->distcode);
}

/* The code lengths of a dynamic block, run-length coded with the
 * code-length code cl (RFC 1951 3.2.7). */
static int
read_lengths(struct bits *s, const struct huffman *cl, uint8_t *lengths,
             unsigned n)
{
    unsigned i = 0;
    while (i < n) {
        unsigned sym, rep;
        int rc = decode(s, cl, &sym);
        if (rc != 0)
            return rc;
        if (sym < 16) {
            lengths[i++] = (uint8_t)sym;
            continue;
        }
        /* 16: the previous length 3-6 times, 17: zeros 3-10 times,
         * 18: zeros 11-138 times */
        static const uint8_t rep_bits[3] = {2, 3, 7}, rep_base[3] = {3, 3, 11};
        if (sym == 16 && i == 0) /* nothing to repeat */
            return CAP_INFLATE_E_DATA;
        uint8_t len = sym == 16 ? lengths[i - 1] : 0;
        if ((rc = bits_get(s, rep_bits[sym - 16], &rep)) != 0)
            return rc;
        rep += rep_base[sym - 16];
        if (rep > n - i)
            return CAP_INFLATE_E_DATA;
        memset(lengths + i, len, rep);
        i += rep;
    }
    return 0;
}

/* zlib's rule: an incomplete code is only allowed when it is a single
 * one-bit code (or no code at all, for distances: a block of literals). */
static int
usable_code(int left, const struct huffman *h, unsigned n)
{
    if (left < 0)
        return 0;
    return left == 0 || n == (unsigned)h->count[0] + h->count[1];
}

static int
inflate_dynamic(struct bits *s, struct out *o)
{
    static const uint8_t order[19] = {16, 17, 18, 0, 8,  7, 9,  6, 10, 5,
                                      11, 4,  12, 3, 13, 2, 14, 1, 15};
    unsigned nlen, ndist, ncode;
    int rc;
    if ((rc = bits_get(s, 5, &nlen)) != 0 ||
        (rc = bits_get(s, 5, &ndist)) != 0 ||
        (rc = bits_get(s, 4, &ncode)) != 0)
        return rc;
    nlen += 257;
    ndist += 1;
    ncode += 4;
    if (nlen > NLEN_MAX || ndist > NDIST_MAX)
        return CAP_INFLATE_E_DATA;
    uint8_t lengths[NLEN_MAX + NDIST_MAX];
    memset(lengths, 0, sizeof lengths);
    for (unsigned i = 0; i < ncode; i++) {
        unsigned v;
        if ((rc = bits_get(s, 3, &v)) != 0)
            return rc;
        lengths[order[i]] = (uint8_t)v;
    }
    struct huffman lencode, distcode;
    if (huffman_build(&lencode, lengths, 19) != 0) /* complete only */
        return CAP_INFLATE_E_DATA;
    if ((rc = read_lengths(s, &lencode, lengths, nlen + ndist)) != 0)
        return rc;
    if (lengths[256] == 0) /* a block that cannot end */
        return CAP_INFLATE_E_DATA;
    if (!usable_code(huffman_build(&lencode, lengths, nlen), &lencode, nlen))
        return CAP_INFLATE_E_DATA;
    if (!usable_code(huffman_build(&distcode, lengths + nlen, ndist), &distcode,
                     ndist))
        return CAP_INFLATE_E_DATA;
    return inflate_codes(s, o, &lencode, &distcode);
}

static int
inflate_blocks(struct bits *s, struct out *o)
{
    struct fixed_codes fixed;
    unsigned last, type;
    fixed.built = 0;
    do {
        int rc;
        if ((rc = bits_get(s, 1, &last)) != 0 ||
            (rc = bits_get(s, 2, &type)) != 0)
            return rc;
        switch (type) {
        case 0: rc = inflate_stored(s, o); break;
        case 1: rc = inflate_fixed(s, o, &fixed); break;
        case 2: rc = inflate_dynamic(s, o); break;
        default: rc = CAP_INFLATE_E_DATA; break;
        }
        if (rc != 0)
            return rc;
    } while (!last);
    bits_to_bytes(s);
    return 0;
}

/* ------------------------------------------------------------ wrappers */

static uint32_t
adler32_of(const uint8_t *p, size_t n)
{
    uint32_t a = 1, b = 0;
    while (n > 0) {
        /* 5552: the most bytes before b could overflow 32 bits */
        size_t run = n < 5552 ? n : 5552;
        n -= run;
        for (; run > 0; run--) {
            a += *p++;
            b += a;
        }
        a %= 65521;
        b %= 65521;
    }
    return b << 16 | a;
}

static uint32_t
crc32_update(uint32_t crc, const uint8_t *p, size_t n)
{
    /* reflected 0xedb88320, four bits at a time: a small table is enough
     * for packets */
    static const uint32_t t[16] = {
        0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac, 0x76dc4190, 0x6b6b51f4,
        0x4db26158, 0x5005713c, 0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c,
        0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c};
    crc = ~crc;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        crc = (crc >> 4) ^ t[crc & 15];
        crc = (crc >> 4) ^ t[crc & 15];
    }
    return ~crc;
}

static int
is_zlib_header(const uint8_t *in, size_t n)
{
    return n >= 2 && (in[0] & 15) == 8 && (in[0] * 256 + in[1]) % 31 == 0;
}

static int
inflate_zlib(const uint8_t *in, size_t n, struct out *o)
{
    if (in[0] >> 4 > 7) /* window over 32 KiB */
        return CAP_INFLATE_E_FORMAT;
    if (in[1] & 0x20) /* FDICT: a dictionary we cannot have */
        return CAP_INFLATE_E_FORMAT;
    struct bits s = {in, n, 2, 0, 0};
    int rc = inflate_blocks(&s, o);
    if (rc != 0)
        return rc;
    if (n - s.pos < 4)
        return CAP_INFLATE_E_TRUNCATED;
    if (cap_be32(in + s.pos) != adler32_of(o->p, o->len))
        return CAP_INFLATE_E_CHECK;
    return 0;
}

/* Skip a zero-terminated gzip header field. */
static int
skip_string(const uint8_t *in, size_t n, size_t *pos)
{
    const uint8_t *z = memchr(in + *pos, 0, n - *pos);
    if (z == NULL)
        return CAP_INFLATE_E_TRUNCATED;
    *pos = (size_t)(z - in) + 1;
    return 0;
}

/* RFC 1952 2.3: the member header; *pos is where deflate data starts. */
static int
gzip_header(const uint8_t *in, size_t n, size_t *pos)
{
    enum { FHCRC = 2, FEXTRA = 4, FNAME = 8, FCOMMENT = 16, RESERVED = 0xe0 };
    if (n < 10)
        return CAP_INFLATE_E_TRUNCATED;
    if (in[2] != 8)
        return CAP_INFLATE_E_FORMAT;
    unsigned flags = in[3];
    if (flags & RESERVED)
        return CAP_INFLATE_E_FORMAT;
    size_t p = 10; /* after MTIME, XFL, OS */
    int rc;
    if (flags & FEXTRA) {
        if (n - p < 2)
            return CAP_INFLATE_E_TRUNCATED;
        size_t xlen = (size_t)in[p] | (size_t)in[p + 1] << 8;
        p += 2;
        if (n - p < xlen)
            return CAP_INFLATE_E_TRUNCATED;
        p += xlen;
    }
    if ((flags & FNAME) && (rc = skip_string(in, n, &p)) != 0)
        return rc;
    if ((flags & FCOMMENT) && (rc = skip_string(in, n, &p)) != 0)
        return rc;
    if (flags & FHCRC) {
        if (n - p < 2)
            return CAP_INFLATE_E_TRUNCATED;
        if ((crc32_update(0, in, p) & 0xffff) !=
            ((unsigned)in[p + 1] << 8 | in[p]))
            return CAP_INFLATE_E_CHECK;
        p += 2;
    }
    *pos = p;
    return 0;
}

static int
inflate_gzip(const uint8_t *in, size_t n, struct out *o)
{
    size_t start;
    int rc = gzip_header(in, n, &start);
    if (rc != 0)
        return rc;
    struct bits s = {in, n, start, 0, 0};
    if ((rc = inflate_blocks(&s, o)) != 0)
        return rc;
    if (n - s.pos < 8)
        return CAP_INFLATE_E_TRUNCATED;
    if (cap_le32(in + s.pos) != crc32_update(0, o->p, o->len) ||
        cap_le32(in + s.pos + 4) != (uint32_t)o->len)
        return CAP_INFLATE_E_CHECK;
    return 0;
}

int
cap_inflate(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_cap,
            size_t *out_len)
{
    struct out o = {out, out_cap, 0};
    int rc;
    *out_len = 0;
    if (in_len >= 2 && in[0] == 0x1f && in[1] == 0x8b) {
        rc = inflate_gzip(in, in_len, &o);
    } else if (is_zlib_header(in, in_len)) {
        rc = inflate_zlib(in, in_len, &o);
    } else {
        struct bits s = {in, in_len, 0, 0, 0};
        rc = inflate_blocks(&s, &o);
    }
    if (rc == 0)
        *out_len = o.len;
    return rc;
}

/*
 * cap_inflate on streams made by the real zlib (tests/fixtures/inflate/, see
 * make_vectors.py there for how each was made) and on broken streams built
 * bit by bit here.  Every refusal checks its specific error code: a stream
 * refused for the wrong reason hides the check it meant to exercise.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cdr/capture/source/cap_inflate.h"
#include "fixture_file.h"

/* ------------------------------------------------------------ fixtures */

struct blob {
    uint8_t *p;
    size_t n;
};

static struct blob
load(const char *name)
{
    char rel[256];
    struct blob b = {malloc(1 << 20), 0};
    assert_non_null(b.p);
    snprintf(rel, sizeof rel, "inflate/%s", name);
    b.n = read_fixture(rel, b.p, 1 << 20);
    return b;
}

static const char SHORT[] = "REFER sip:carrier@127.0.0.2 SIP/2.0\r\n";

enum plain { INVITE, SHORT_LINE, EMPTY };

static const struct {
    const char *file;
    enum plain plain;
} VECTORS[] = {
    {"stored.zlib", INVITE},   {"fixed.zlib", SHORT_LINE},
    {"dynamic6.zlib", INVITE}, {"dynamic9.zlib", INVITE},
    {"multi.zlib", INVITE},    {"raw.deflate", INVITE},
    {"fname.gz", INVITE},      {"extra.gz", INVITE},
    {"empty.zlib", EMPTY},     {"empty.gz", EMPTY},
};
#define NVECTORS (sizeof VECTORS / sizeof VECTORS[0])

static struct blob
plain_text(enum plain which)
{
    if (which == INVITE)
        return load("invite.txt");
    struct blob b = {malloc(64), 0};
    assert_non_null(b.p);
    if (which == SHORT_LINE) {
        b.n = sizeof SHORT - 1;
        memcpy(b.p, SHORT, b.n);
    }
    return b;
}

static uint8_t out[1 << 17];

/* Inflate from a buffer of exactly n bytes, so that ASan sees any read past
 * the end of the input. */
static int
inflate_exact(const uint8_t *in, size_t n, size_t cap, size_t *out_len)
{
    uint8_t *copy = malloc(n ? n : 1);
    assert_non_null(copy);
    if (n)
        memcpy(copy, in, n);
    int rc = cap_inflate(copy, n, out, cap, out_len);
    free(copy);
    return rc;
}

/* ------------------------------------------------------ valid streams */

static void
test_zlib_gzip_and_raw_vectors_inflate_to_their_text(void **state)
{
    (void)state;
    for (size_t i = 0; i < NVECTORS; i++) {
        struct blob in = load(VECTORS[i].file);
        struct blob want = plain_text(VECTORS[i].plain);
        size_t n = 12345;
        int rc = inflate_exact(in.p, in.n, sizeof out, &n);
        if (rc != CAP_INFLATE_OK)
            fail_msg("%s: %s", VECTORS[i].file, cap_inflate_strerror(rc));
        assert_int_equal(n, want.n);
        if (n > 0)
            assert_memory_equal(out, want.p, n);
        free(in.p);
        free(want.p);
    }
}

static void
test_output_of_exactly_out_cap_fits_and_one_byte_less_is_refused(void **state)
{
    (void)state;
    for (size_t i = 0; i < NVECTORS; i++) {
        struct blob in = load(VECTORS[i].file);
        struct blob want = plain_text(VECTORS[i].plain);
        size_t n = 12345;
        assert_int_equal(inflate_exact(in.p, in.n, want.n, &n), CAP_INFLATE_OK);
        assert_int_equal(n, want.n);
        if (want.n > 0) {
            assert_int_equal(inflate_exact(in.p, in.n, want.n - 1, &n),
                             CAP_INFLATE_E_OUTPUT);
            assert_int_equal(n, 0);
        }
        free(in.p);
        free(want.p);
    }
    /* nowhere to write at all, and an empty stream: fine */
    struct blob in = load("empty.zlib");
    size_t n = 1;
    assert_int_equal(cap_inflate(in.p, in.n, NULL, 0, &n), CAP_INFLATE_OK);
    assert_int_equal(n, 0);
    free(in.p);
}

static void
test_zip_bomb_stops_at_out_cap(void **state)
{
    (void)state;
    struct blob in = load("bomb.zlib"); /* 1 MB of zeros in about 1 KB */
    size_t n;
    assert_int_equal(inflate_exact(in.p, in.n, 64 * 1024, &n),
                     CAP_INFLATE_E_OUTPUT);
    free(in.p);
}

static void
test_bytes_after_the_stream_are_ignored(void **state)
{
    (void)state;
    struct blob in = load("dynamic6.zlib");
    memcpy(in.p + in.n, "junk", 4);
    size_t n;
    assert_int_equal(inflate_exact(in.p, in.n + 4, sizeof out, &n),
                     CAP_INFLATE_OK);
    assert_int_equal(n, 1062);
    free(in.p);
}

/* ------------------------------------------------- wrappers and checks */

static void
test_every_prefix_of_a_valid_stream_is_truncated(void **state)
{
    (void)state;
    for (size_t i = 0; i < NVECTORS; i++) {
        struct blob in = load(VECTORS[i].file);
        for (size_t cut = 0; cut < in.n; cut++) {
            size_t n;
            int rc = inflate_exact(in.p, cut, sizeof out, &n);
            /* "1f" alone is no gzip magic yet; as raw deflate it starts
             * with the reserved block type */
            int want = cut == 1 && in.p[0] == 0x1f ? CAP_INFLATE_E_DATA
                                                   : CAP_INFLATE_E_TRUNCATED;
            if (rc != want)
                fail_msg("%s cut at %zu: %s", VECTORS[i].file, cut,
                         cap_inflate_strerror(rc));
        }
        free(in.p);
    }
}

static void
test_a_wrong_adler32_is_a_check_error(void **state)
{
    (void)state;
    struct blob in = load("dynamic6.zlib");
    size_t n;
    for (size_t k = 1; k <= 4; k++) {
        in.p[in.n - k] ^= 0x01;
        assert_int_equal(inflate_exact(in.p, in.n, sizeof out, &n),
                         CAP_INFLATE_E_CHECK);
        in.p[in.n - k] ^= 0x01;
    }
    assert_int_equal(inflate_exact(in.p, in.n, sizeof out, &n), CAP_INFLATE_OK);
    free(in.p);
}

static void
test_a_wrong_crc32_or_isize_is_a_check_error(void **state)
{
    (void)state;
    struct blob in = load("fname.gz");
    size_t n;
    for (size_t k = 1; k <= 8; k++) { /* ISIZE, then CRC-32 */
        in.p[in.n - k] ^= 0x80;
        assert_int_equal(inflate_exact(in.p, in.n, sizeof out, &n),
                         CAP_INFLATE_E_CHECK);
        in.p[in.n - k] ^= 0x80;
    }
    assert_int_equal(inflate_exact(in.p, in.n, sizeof out, &n), CAP_INFLATE_OK);
    free(in.p);
}

static void
test_the_gzip_header_crc_covers_the_optional_fields(void **state)
{
    (void)state;
    struct blob in = load("extra.gz");
    size_t n;
    /* "a SIP INVITE ..." comment at 31: change a letter, then the CRC */
    assert_int_equal(in.p[31], 'a');
    in.p[31] = 'A';
    assert_int_equal(inflate_exact(in.p, in.n, sizeof out, &n),
                     CAP_INFLATE_E_CHECK);
    in.p[31] = 'a';
    in.p[66] ^= 0x01; /* low byte of the header CRC */
    assert_int_equal(inflate_exact(in.p, in.n, sizeof out, &n),
                     CAP_INFLATE_E_CHECK);
    free(in.p);
}

/* A zlib header with the FCHECK bits that make it valid. */
static void
zlib_header(uint8_t h[2], unsigned cmf, unsigned flg)
{
    flg &= 0xe0;
    flg |= (31 - (cmf * 256 + flg) % 31) % 31;
    h[0] = (uint8_t)cmf;
    h[1] = (uint8_t)flg;
    assert_int_equal((h[0] * 256 + h[1]) % 31, 0);
}

static void
test_zlib_headers_with_a_dictionary_or_a_big_window_are_refused(void **state)
{
    (void)state;
    struct blob in = load("dynamic6.zlib");
    size_t n;
    /* FDICT: the dictionary id follows the header */
    static uint8_t buf[2048];
    /* clamped as well as checked: gcc -O3 cannot see through cmocka */
    size_t len = in.n >= 2 && in.n <= sizeof buf - 4 ? in.n : 2;
    assert_int_equal(len, in.n);
    zlib_header(buf, 0x78, 0x80 | 0x20);
    memcpy(buf + 2, "\x01\x02\x03\x04", 4);
    memcpy(buf + 6, in.p + 2, len - 2);
    assert_int_equal(inflate_exact(buf, len + 4, sizeof out, &n),
                     CAP_INFLATE_E_FORMAT);
    /* CINFO 8: a 64 KiB window is not deflate */
    zlib_header(in.p, 0x88, 0x80);
    assert_int_equal(inflate_exact(in.p, in.n, sizeof out, &n),
                     CAP_INFLATE_E_FORMAT);
    /* a smaller window than the default is fine */
    zlib_header(in.p, 0x58, 0x80);
    assert_int_equal(inflate_exact(in.p, in.n, sizeof out, &n), CAP_INFLATE_OK);
    /* CM 7 is no zlib header; as raw deflate it is block type 3 */
    zlib_header(in.p, 0x77, 0x80);
    assert_int_equal(inflate_exact(in.p, in.n, sizeof out, &n),
                     CAP_INFLATE_E_DATA);
    free(in.p);
}

static void
test_gzip_headers_are_checked_and_skipped_within_bounds(void **state)
{
    (void)state;
    struct blob in = load("fname.gz");
    size_t n;
    in.p[2] = 9; /* CM */
    assert_int_equal(inflate_exact(in.p, in.n, sizeof out, &n),
                     CAP_INFLATE_E_FORMAT);
    in.p[2] = 8;
    in.p[3] |= 0x20; /* reserved flag */
    assert_int_equal(inflate_exact(in.p, in.n, sizeof out, &n),
                     CAP_INFLATE_E_FORMAT);
    in.p[3] &= (uint8_t)~0x20;
    assert_int_equal(inflate_exact(in.p, in.n, sizeof out, &n), CAP_INFLATE_OK);
    /* FNAME without its NUL: the header never ends */
    static const uint8_t noname[] = {0x1f, 0x8b, 8, 8,   0,   0,  0,
                                     0,    0,    3, 'a', 'b', 'c'};
    assert_int_equal(inflate_exact(noname, sizeof noname, sizeof out, &n),
                     CAP_INFLATE_E_TRUNCATED);
    /* FEXTRA longer than the data */
    static const uint8_t extra[] = {0x1f, 0x8b, 8, 4,    0,    0, 0,
                                    0,    0,    3, 0xff, 0xff, 1, 2};
    assert_int_equal(inflate_exact(extra, sizeof extra, sizeof out, &n),
                     CAP_INFLATE_E_TRUNCATED);
    free(in.p);
}

/* ------------------------------------------ deflate streams built here */

/* Bits in deflate order: fields LSB first, Huffman codes MSB first. */
struct bw {
    uint8_t b[512];
    size_t bits;
};

static void
bw_reset(struct bw *w)
{
    memset(w, 0, sizeof *w);
}

static void
bw_bits(struct bw *w, unsigned v, unsigned n)
{
    for (unsigned i = 0; i < n; i++, w->bits++)
        if ((v >> i) & 1)
            w->b[w->bits / 8] |= (uint8_t)(1u << (w->bits % 8));
}

static void
bw_code(struct bw *w, unsigned code, unsigned len)
{
    while (len-- > 0)
        bw_bits(w, (code >> len) & 1, 1);
}

static size_t
bw_len(const struct bw *w)
{
    return (w->bits + 7) / 8;
}

static int
bw_inflate(const struct bw *w, size_t *n)
{
    return inflate_exact(w->b, bw_len(w), sizeof out, n);
}

/* RFC 1951 3.2.2: canonical codes from code lengths. */
static void
canonical(const uint8_t *len, unsigned n, unsigned *code)
{
    unsigned count[16] = {0}, next[16] = {0}, c = 0;
    for (unsigned i = 0; i < n; i++)
        count[len[i]]++;
    count[0] = 0;
    for (unsigned b = 1; b < 16; b++) {
        c = (c + count[b - 1]) << 1;
        next[b] = c;
    }
    for (unsigned i = 0; i < n; i++)
        if (len[i])
            code[i] = next[len[i]]++;
}

/* Fixed Huffman code of a literal/length symbol (RFC 1951 3.2.6). */
static void
fixed_sym(struct bw *w, unsigned sym)
{
    if (sym < 144)
        bw_code(w, 0x30 + sym, 8);
    else if (sym < 256)
        bw_code(w, 0x190 + sym - 144, 9);
    else if (sym < 280)
        bw_code(w, sym - 256, 7);
    else
        bw_code(w, 0xc0 + sym - 280, 8);
}

/* A final fixed block: 'A', the literal/length symbol lsym (257: length 3,
 * 285: length 258; no extra bits) at distance symbol dsym (no extra bits
 * for 0..3), end of block. */
static void
fixed_block(struct bw *w, unsigned lsym, unsigned dsym)
{
    bw_reset(w);
    bw_bits(w, 1, 1);
    bw_bits(w, 1, 2);
    fixed_sym(w, 'A');
    fixed_sym(w, lsym);
    if (lsym > 256)
        bw_code(w, dsym, 5);
    fixed_sym(w, 256);
}

static void
test_fixed_block_symbols_and_distances_are_checked(void **state)
{
    (void)state;
    struct bw w;
    size_t n;
    fixed_block(&w, 257, 0); /* "A" + copy 3 at distance 1 */
    assert_int_equal(bw_inflate(&w, &n), CAP_INFLATE_OK);
    assert_int_equal(n, 4);
    assert_memory_equal(out, "AAAA", 4);
    fixed_block(&w, 257, 1); /* distance 2, one byte written */
    assert_int_equal(bw_inflate(&w, &n), CAP_INFLATE_E_DATA);
    fixed_block(&w, 257, 30);
    assert_int_equal(bw_inflate(&w, &n), CAP_INFLATE_E_DATA);
    fixed_block(&w, 257, 31);
    assert_int_equal(bw_inflate(&w, &n), CAP_INFLATE_E_DATA);
    fixed_block(&w, 285, 0); /* length 258 at distance 1 */
    assert_int_equal(bw_inflate(&w, &n), CAP_INFLATE_OK);
    assert_int_equal(n, 259);
    fixed_block(&w, 286, 0);
    assert_int_equal(bw_inflate(&w, &n), CAP_INFLATE_E_DATA);
    fixed_block(&w, 287, 0);
    assert_int_equal(bw_inflate(&w, &n), CAP_INFLATE_E_DATA);
}

static void
test_stored_len_must_match_nlen(void **state)
{
    (void)state;
    size_t n;
    static const uint8_t good[] = {0x01, 5,   0,   0xfa, 0xff,
                                   'h',  'e', 'l', 'l',  'o'};
    assert_int_equal(inflate_exact(good, sizeof good, sizeof out, &n),
                     CAP_INFLATE_OK);
    assert_int_equal(n, 5);
    assert_memory_equal(out, "hello", 5);
    static const uint8_t bad[] = {0x01, 5,   0,   0xfb, 0xff,
                                  'h',  'e', 'l', 'l',  'o'};
    assert_int_equal(inflate_exact(bad, sizeof bad, sizeof out, &n),
                     CAP_INFLATE_E_DATA);
}

static void
test_block_type_3_is_refused(void **state)
{
    (void)state;
    size_t n;
    static const uint8_t raw[] = {0x07, 0, 0, 0, 0};
    assert_int_equal(inflate_exact(raw, sizeof raw, sizeof out, &n),
                     CAP_INFLATE_E_DATA);
    /* in a zlib stream, after a good first block */
    static const uint8_t zl[] = {0x78, 0x01, 0x00, 1, 0, 0xfe, 0xff, 'x',
                                 0x07, 0,    0,    0, 0, 0,    0,    0};
    assert_int_equal(inflate_exact(zl, sizeof zl, sizeof out, &n),
                     CAP_INFLATE_E_DATA);
}

/* Code-length code used by dyn_block(): symbols 0, 1, 2 and 18, 2 bits
 * each, a complete code. */
static const uint8_t CL_012_18[19] = {2, 2, 2, [18] = 2};
#define NLEN_ROOM (288 + 32)

/* Start a final dynamic block: counts and code-length code lengths. */
static void
dyn_header(struct bw *w, unsigned nlen, unsigned ndist, const uint8_t cl[19])
{
    static const uint8_t order[19] = {16, 17, 18, 0, 8,  7, 9,  6, 10, 5,
                                      11, 4,  12, 3, 13, 2, 14, 1, 15};
    bw_reset(w);
    bw_bits(w, 1, 1);
    bw_bits(w, 2, 2);
    bw_bits(w, nlen - 257, 5);
    bw_bits(w, ndist - 1, 5);
    bw_bits(w, 19 - 4, 4);
    for (unsigned i = 0; i < 19; i++)
        bw_bits(w, cl[order[i]], 3);
}

/* A final dynamic block with the given code lengths (each 0, 1 or 2),
 * written with the code-length code cl_lens (NULL: CL_012_18), which must
 * give 0, 1 and 18 a code (and 2, if used); returns the literal/length and
 * distance codes for writing the data. */
static void
dyn_block(struct bw *w, const uint8_t *cl_lens, const uint8_t *lens,
          unsigned nlen, unsigned ndist, unsigned *lcode, unsigned *dcode)
{
    unsigned cl[19];
    if (cl_lens == NULL)
        cl_lens = CL_012_18;
    canonical(cl_lens, 19, cl);
    dyn_header(w, nlen, ndist, cl_lens);
    for (unsigned i = 0; i < nlen + ndist;) {
        unsigned run = 0;
        while (i + run < nlen + ndist && lens[i + run] == 0 && run < 138)
            run++;
        if (run >= 11) {
            bw_code(w, cl[18], cl_lens[18]);
            bw_bits(w, run - 11, 7);
            i += run;
        } else {
            bw_code(w, cl[lens[i]], cl_lens[lens[i]]);
            i++;
        }
    }
    canonical(lens, nlen, lcode);
    canonical(lens + nlen, ndist, dcode);
}

/* dyn_block() with 'A' and end-of-block as the one-bit literal/length codes
 * (and one distance code of one bit), then the data "A". */
static int
dyn_inflate_a(const uint8_t *cl_lens, unsigned nlen, unsigned ndist)
{
    uint8_t lens[NLEN_ROOM] = {0};
    unsigned lc[NLEN_ROOM], dc[32];
    lens['A'] = 1;
    lens[256] = 1;
    lens[nlen] = 1;
    struct bw w;
    size_t n;
    dyn_block(&w, cl_lens, lens, nlen, ndist, lc, dc);
    bw_code(&w, lc['A'], 1);
    bw_code(&w, lc[256], 1);
    int rc = bw_inflate(&w, &n);
    if (rc == CAP_INFLATE_OK) {
        assert_int_equal(n, 1);
        assert_int_equal(out[0], 'A');
    }
    return rc;
}

static void
test_a_single_distance_code_of_one_bit_is_allowed(void **state)
{
    (void)state;
    uint8_t lens[259] = {0};
    unsigned lc[258], dc[1];
    lens['A'] = 1;
    lens[256] = 2;
    lens[257] = 2;
    lens[258] = 1; /* the only distance code */
    struct bw w;
    size_t n;
    dyn_block(&w, NULL, lens, 258, 1, lc, dc);
    bw_code(&w, lc['A'], 1);
    bw_code(&w, lc[257], 2);
    bw_code(&w, dc[0], 1);
    bw_code(&w, lc[256], 2);
    assert_int_equal(bw_inflate(&w, &n), CAP_INFLATE_OK);
    assert_int_equal(n, 4);
    assert_memory_equal(out, "AAAA", 4);
    /* the other one-bit code is unused: invalid */
    dyn_block(&w, NULL, lens, 258, 1, lc, dc);
    bw_code(&w, lc['A'], 1);
    bw_code(&w, lc[257], 2);
    bw_code(&w, !dc[0], 1);
    bw_code(&w, lc[256], 2);
    assert_int_equal(bw_inflate(&w, &n), CAP_INFLATE_E_DATA);
}

static void
test_bad_code_sets_are_refused(void **state)
{
    (void)state;
    struct bw w;
    size_t n;
    unsigned lc[NLEN_ROOM], dc[32];
    uint8_t lens[NLEN_ROOM];
    /* over-subscribed code-length code */
    static const uint8_t all_one[19] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
                                        1, 1, 1, 1, 1, 1, 1, 1, 1};
    dyn_header(&w, 257, 1, all_one);
    w.bits += 64;
    assert_int_equal(bw_inflate(&w, &n), CAP_INFLATE_E_DATA);
    /* incomplete code-length code (never allowed), else the same block */
    assert_int_equal(dyn_inflate_a(NULL, 257, 1), CAP_INFLATE_OK);
    static const uint8_t cl_0_1_18[19] = {2, 2, [18] = 2};
    assert_int_equal(dyn_inflate_a(cl_0_1_18, 257, 1), CAP_INFLATE_E_DATA);
    /* over-subscribed literal/length code: 257 one-bit codes */
    memset(lens, 1, sizeof lens);
    dyn_block(&w, NULL, lens, 257, 1, lc, dc);
    w.bits += 16;
    assert_int_equal(bw_inflate(&w, &n), CAP_INFLATE_E_DATA);
    /* incomplete literal/length code: one code of two bits (with one
     * distance code, lens[257]) */
    memset(lens, 0, sizeof lens);
    lens[256] = 2;
    lens[257] = 1;
    dyn_block(&w, NULL, lens, 257, 1, lc, dc);
    w.bits += 16;
    assert_int_equal(bw_inflate(&w, &n), CAP_INFLATE_E_DATA);
    /* over-subscribed distance code */
    memset(lens, 0, sizeof lens);
    lens['A'] = 1;
    lens[256] = 1;
    lens[257] = lens[258] = lens[259] = 1;
    dyn_block(&w, NULL, lens, 257, 3, lc, dc);
    w.bits += 16;
    assert_int_equal(bw_inflate(&w, &n), CAP_INFLATE_E_DATA);
    /* no end-of-block code */
    memset(lens, 0, sizeof lens);
    lens['A'] = lens['B'] = 1;
    lens[257] = 1;
    dyn_block(&w, NULL, lens, 257, 1, lc, dc);
    w.bits += 16;
    assert_int_equal(bw_inflate(&w, &n), CAP_INFLATE_E_DATA);
}

/* A dynamic block's header and its 257 literal/length code lengths, all
 * zero but 'A' and end-of-block (one bit each), written with CL_012_18
 * (cl: its codes); the distance code's one length is the caller's. */
static void
lengths_a_and_end(struct bw *w, unsigned cl[19])
{
    canonical(CL_012_18, 19, cl);
    dyn_header(w, 257, 1, CL_012_18);
    bw_code(w, cl[18], 2);
    bw_bits(w, 'A' - 11, 7);
    bw_code(w, cl[1], 2);
    bw_code(w, cl[18], 2);
    bw_bits(w, 138 - 11, 7);
    bw_code(w, cl[18], 2);
    bw_bits(w, 256 - 'A' - 1 - 138 - 11, 7);
    bw_code(w, cl[1], 2);
}

static void
test_bad_code_length_sequences_are_refused(void **state)
{
    (void)state;
    struct bw w;
    size_t n;
    unsigned cl[19];
    /* 287 literal/length codes, or 31 distance codes; 286 and 30 fine */
    assert_int_equal(dyn_inflate_a(NULL, 286, 30), CAP_INFLATE_OK);
    assert_int_equal(dyn_inflate_a(NULL, 287, 1), CAP_INFLATE_E_DATA);
    assert_int_equal(dyn_inflate_a(NULL, 257, 31), CAP_INFLATE_E_DATA);
    /* repeat the previous length (16) with none before it */
    static const uint8_t cl_0_16[19] = {1, [16] = 1};
    canonical(cl_0_16, 19, cl);
    dyn_header(&w, 257, 1, cl_0_16);
    bw_code(&w, cl[16], 1);
    bw_bits(&w, 0, 2);
    w.bits += 300;
    assert_int_equal(bw_inflate(&w, &n), CAP_INFLATE_E_DATA);
    /* a run of zeros past the 258 lengths: 'A' and end-of-block at one
     * bit, then 11 zeros where one distance length is left */
    lengths_a_and_end(&w, cl);
    bw_code(&w, cl[18], 2);
    bw_bits(&w, 0, 7);
    bw_code(&w, 0, 1); /* 'A' */
    bw_code(&w, 1, 1); /* end of block */
    assert_int_equal(bw_inflate(&w, &n), CAP_INFLATE_E_DATA);
    /* the same with the one distance length: fine */
    lengths_a_and_end(&w, cl);
    bw_code(&w, cl[0], 2);
    bw_code(&w, 0, 1);
    bw_code(&w, 1, 1);
    assert_int_equal(bw_inflate(&w, &n), CAP_INFLATE_OK);
    assert_int_equal(n, 1);
}

static void
test_each_code_has_a_short_name(void **state)
{
    (void)state;
    assert_string_equal(cap_inflate_strerror(CAP_INFLATE_OK), "ok");
    const char *seen[6];
    int codes[] = {CAP_INFLATE_E_FORMAT, CAP_INFLATE_E_DATA,
                   CAP_INFLATE_E_OUTPUT, CAP_INFLATE_E_TRUNCATED,
                   CAP_INFLATE_E_CHECK,  -99};
    for (size_t i = 0; i < 6; i++) {
        seen[i] = cap_inflate_strerror(codes[i]);
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(seen[i], seen[j]);
    }
    assert_string_equal(cap_inflate_strerror(CAP_INFLATE_E_OUTPUT),
                        "inflated data too large");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zlib_gzip_and_raw_vectors_inflate_to_their_text),
        cmocka_unit_test(
            test_output_of_exactly_out_cap_fits_and_one_byte_less_is_refused),
        cmocka_unit_test(test_zip_bomb_stops_at_out_cap),
        cmocka_unit_test(test_bytes_after_the_stream_are_ignored),
        cmocka_unit_test(test_every_prefix_of_a_valid_stream_is_truncated),
        cmocka_unit_test(test_a_wrong_adler32_is_a_check_error),
        cmocka_unit_test(test_a_wrong_crc32_or_isize_is_a_check_error),
        cmocka_unit_test(test_the_gzip_header_crc_covers_the_optional_fields),
        cmocka_unit_test(
            test_zlib_headers_with_a_dictionary_or_a_big_window_are_refused),
        cmocka_unit_test(
            test_gzip_headers_are_checked_and_skipped_within_bounds),
        cmocka_unit_test(test_fixed_block_symbols_and_distances_are_checked),
        cmocka_unit_test(test_stored_len_must_match_nlen),
        cmocka_unit_test(test_block_type_3_is_refused),
        cmocka_unit_test(test_a_single_distance_code_of_one_bit_is_allowed),
        cmocka_unit_test(test_bad_code_sets_are_refused),
        cmocka_unit_test(test_bad_code_length_sequences_are_refused),
        cmocka_unit_test(test_each_code_has_a_short_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

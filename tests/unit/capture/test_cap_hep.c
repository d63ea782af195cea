/*
 * HEPv3 decoder, delivery and UDP listener, on packets encoded here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#define ZLIB_CONST
#include <zlib.h>

#include "cdr/capture/source/cap_source_hep.h"
#include "hep_build.h"
#include "net_build.h"

static const char SIP[] =
    "REFER sip:carrier@127.0.0.2 SIP/2.0\r\n"
    "Call-ID: hep-1@127.0.0.1\r\n"
    "Refer-To: <sip:+14152908007@mytrunk.pstn.twilio.com>\r\n"
    "Content-Length: 0\r\n\r\n";

static struct hb pkt;
static struct nb_sink sink;

static void
test_decode_ipv4_packet(void **state)
{
    (void)state;
    hb_sip4(&pkt, 0x7f000001, 0x7f000002, 5060, 5080, 17, 1700000000, 123456,
            SIP, sizeof SIP - 1);
    struct cap_hep_packet p;
    assert_int_equal(cap_hep_decode(pkt.b, pkt.b + pkt.n, &p), CAP_HEP_OK);
    assert_int_equal(p.meta.src.family, AF_INET);
    assert_int_equal(p.meta.src.ip[0], 127);
    assert_int_equal(p.meta.src.ip[3], 1);
    assert_int_equal(p.meta.dst.ip[3], 2);
    assert_int_equal(p.meta.src.port, 5060);
    assert_int_equal(p.meta.dst.port, 5080);
    assert_int_equal(p.meta.ts_sec, 1700000000);
    assert_int_equal(p.meta.ts_usec, 123456);
    assert_int_equal(p.meta.transport, CAP_TRANSPORT_UDP);
    assert_int_equal(p.proto_type, 1);
    assert_int_equal(p.capture_id, 2001);
    assert_int_equal(p.payload_len, sizeof SIP - 1);
    assert_memory_equal(p.payload, SIP, sizeof SIP - 1);
    assert_false(p.compressed);
}

static void
test_decode_ipv6_tcp_tls_and_vendor_chunks(void **state)
{
    (void)state;
    static const unsigned protos[][2] = {{6, CAP_TRANSPORT_TCP},
                                         {22, CAP_TRANSPORT_TLS},
                                         {132, CAP_TRANSPORT_SCTP}};
    for (size_t i = 0; i < 3; i++) {
        uint8_t a[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
        uint8_t b[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
        hb_start(&pkt);
        hb_chunk(&pkt, 0x0022, 0x0001, "vendor!", 7); /* skipped */
        hb_u8(&pkt, 1, 10);
        hb_u8(&pkt, 2, protos[i][0]);
        hb_chunk(&pkt, 0, 5, a, 16);
        hb_chunk(&pkt, 0, 6, b, 16);
        hb_u16(&pkt, 7, 5061);
        hb_u16(&pkt, 8, 5061);
        hb_u8(&pkt, 11, 1);
        hb_u16(&pkt, 12, 7);                  /* old 16-bit capture id */
        hb_chunk(&pkt, 0, 0x0011, "corr", 4); /* correlation id: skipped */
        hb_chunk(&pkt, 0, 0x0f, SIP, sizeof SIP - 1);
        hb_end(&pkt);
        struct cap_hep_packet p;
        assert_int_equal(cap_hep_decode(pkt.b, pkt.b + pkt.n, &p), CAP_HEP_OK);
        assert_int_equal(p.meta.src.family, AF_INET6);
        assert_int_equal(p.meta.src.ip[15], 1);
        assert_int_equal(p.meta.dst.ip[15], 2);
        assert_int_equal(p.meta.transport, (int)protos[i][1]);
        assert_int_equal(p.capture_id, 7);
        assert_false(p.has_time);
    }
}

static void
test_every_truncation_is_refused(void **state)
{
    (void)state;
    hb_sip4(&pkt, 1, 2, 3, 4, 17, 5, 6, SIP, sizeof SIP - 1);
    for (size_t cut = 0; cut < pkt.n; cut++) {
        uint8_t *copy = malloc(cut ? cut : 1);
        memcpy(copy, pkt.b, cut);
        struct cap_hep_packet p;
        int rc = cap_hep_decode(copy, copy + cut, &p);
        free(copy);
        assert_true(rc < 0);
        assert_true(rc == CAP_HEP_E_NOT_HEP || rc == CAP_HEP_E_TRUNCATED);
    }
    /* the total length also cuts: chunks beyond it are not read */
    hb_sip4(&pkt, 1, 2, 3, 4, 17, 5, 6, SIP, sizeof SIP - 1);
    pkt.b[5] = (uint8_t)(pkt.b[5] - 1);
    struct cap_hep_packet p;
    assert_int_equal(cap_hep_decode(pkt.b, pkt.b + pkt.n, &p),
                     CAP_HEP_E_TRUNCATED);
}

static void
test_wrong_lengths_are_refused(void **state)
{
    (void)state;
    struct cap_hep_packet p;
    /* a chunk shorter than its own header */
    hb_sip4(&pkt, 1, 2, 3, 4, 17, 5, 6, SIP, sizeof SIP - 1);
    pkt.b[6 + 5] = 3; /* first chunk (family) length 3 */
    assert_int_equal(cap_hep_decode(pkt.b, pkt.b + pkt.n, &p),
                     CAP_HEP_E_LENGTH);
    /* a total length under the header */
    hb_sip4(&pkt, 1, 2, 3, 4, 17, 5, 6, SIP, sizeof SIP - 1);
    pkt.b[4] = 0;
    pkt.b[5] = 2;
    assert_int_equal(cap_hep_decode(pkt.b, pkt.b + pkt.n, &p),
                     CAP_HEP_E_LENGTH);
    /* known chunks with the wrong value size */
    static const struct {
        unsigned type;
        size_t len;
    } wrong[] = {{1, 2}, {2, 0},  {3, 16}, {5, 4}, {7, 4},
                 {9, 8}, {10, 2}, {11, 4}, {12, 3}};
    for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++) {
        uint8_t zeros[16] = {0};
        hb_start(&pkt);
        hb_chunk(&pkt, 0, wrong[i].type, zeros, wrong[i].len);
        hb_chunk(&pkt, 0, 0x0f, SIP, sizeof SIP - 1);
        hb_end(&pkt);
        assert_int_equal(cap_hep_decode(pkt.b, pkt.b + pkt.n, &p),
                         CAP_HEP_E_LENGTH);
    }
    /* microseconds out of range */
    hb_start(&pkt);
    hb_u32(&pkt, 10, 1000000);
    hb_end(&pkt);
    assert_int_equal(cap_hep_decode(pkt.b, pkt.b + pkt.n, &p),
                     CAP_HEP_E_LENGTH);
}

static void
test_missing_parts_and_bad_family(void **state)
{
    (void)state;
    struct cap_hep_packet p;
    /* no payload */
    hb_start(&pkt);
    hb_u8(&pkt, 1, 2);
    hb_u32(&pkt, 3, 1);
    hb_u32(&pkt, 4, 2);
    hb_end(&pkt);
    assert_int_equal(cap_hep_decode(pkt.b, pkt.b + pkt.n, &p),
                     CAP_HEP_E_MISSING);
    /* IPv6 family with IPv4 addresses */
    hb_start(&pkt);
    hb_u8(&pkt, 1, 10);
    hb_u32(&pkt, 3, 1);
    hb_u32(&pkt, 4, 2);
    hb_chunk(&pkt, 0, 0x0f, SIP, sizeof SIP - 1);
    hb_end(&pkt);
    assert_int_equal(cap_hep_decode(pkt.b, pkt.b + pkt.n, &p),
                     CAP_HEP_E_FAMILY);
    /* unknown family */
    hb_start(&pkt);
    hb_u8(&pkt, 1, 7);
    hb_chunk(&pkt, 0, 0x0f, SIP, sizeof SIP - 1);
    hb_end(&pkt);
    assert_int_equal(cap_hep_decode(pkt.b, pkt.b + pkt.n, &p),
                     CAP_HEP_E_FAMILY);
    /* HEPv2 */
    static const uint8_t v2[] = {2, 16, 2, 17, 0x13, 0xc4, 0x13, 0xc4};
    assert_int_equal(cap_hep_decode(v2, v2 + sizeof v2, &p), CAP_HEP_E_NOT_HEP);
    assert_string_equal(cap_hep_strerror(CAP_HEP_E_MISSING),
                        "HEP3 packet without payload or addresses");
}

static void
test_input_delivers_sip_and_counts_the_rest(void **state)
{
    (void)state;
    nb_sink_reset(&sink);
    struct cap_hep *h = cap_hep_new(nb_collect, &sink, 0);
    assert_non_null(h);
    hb_sip4(&pkt, 0x7f000001, 0x7f000002, 5060, 5080, 6, 1700000000, 5, SIP,
            sizeof SIP - 1);
    assert_int_equal(cap_hep_input(h, pkt.b, pkt.n, 1700000000, 2), 0);
    assert_int_equal(sink.count, 1);
    assert_int_equal(sink.msgs[0].meta.transport, CAP_TRANSPORT_TCP);
    assert_int_equal(sink.msgs[0].meta.ts_sec, 1700000000);
    assert_memory_equal(sink.msgs[0].data, SIP, sizeof SIP - 1);
    /* no time chunk: stamped with the receive time */
    hb_start(&pkt);
    hb_u8(&pkt, 1, 2);
    hb_u32(&pkt, 3, 1);
    hb_u32(&pkt, 4, 2);
    hb_u8(&pkt, 11, 1);
    hb_chunk(&pkt, 0, 0x0f, SIP, sizeof SIP - 1);
    hb_end(&pkt);
    assert_int_equal(cap_hep_input(h, pkt.b, pkt.n, 42, 7), 0);
    assert_int_equal(sink.count, 2);
    assert_int_equal(sink.msgs[1].meta.ts_sec, 42);
    assert_int_equal(sink.msgs[1].meta.ts_usec, 7);
    /* RTCP report (proto type 5), corrupt compressed SIP, keep-alive, junk */
    hb_start(&pkt);
    hb_u8(&pkt, 1, 2);
    hb_u32(&pkt, 3, 1);
    hb_u32(&pkt, 4, 2);
    hb_u8(&pkt, 11, 5);
    hb_chunk(&pkt, 0, 0x0f, "{}", 2);
    hb_end(&pkt);
    cap_hep_input(h, pkt.b, pkt.n, 0, 0);
    hb_start(&pkt);
    hb_u8(&pkt, 1, 2);
    hb_u32(&pkt, 3, 1);
    hb_u32(&pkt, 4, 2);
    hb_u8(&pkt, 11, 1);
    hb_chunk(&pkt, 0, 0x10, "\x78\x9c\x03\x00\x00\x00\x00\x02", 8);
    hb_end(&pkt);
    cap_hep_input(h, pkt.b, pkt.n, 0, 0);
    hb_sip4(&pkt, 1, 2, 3, 4, 17, 5, 6, "\r\n\r\n", 4);
    cap_hep_input(h, pkt.b, pkt.n, 0, 0);
    cap_hep_input(h, (const uint8_t *)"GET /", 5, 0, 0);
    /* stamped too far ahead of the receive time: skipped; just within: in */
    hb_sip4(&pkt, 1, 2, 3, 4, 17, 1700000000 + CAP_HEP_MAX_AHEAD + 1, 0, SIP,
            sizeof SIP - 1);
    assert_int_equal(cap_hep_input(h, pkt.b, pkt.n, 1700000000, 0), 0);
    assert_int_equal(sink.count, 2);
    hb_sip4(&pkt, 1, 2, 3, 4, 17, 1700000000 + CAP_HEP_MAX_AHEAD, 0, SIP,
            sizeof SIP - 1);
    assert_int_equal(cap_hep_input(h, pkt.b, pkt.n, 1700000000, 0), 0);
    assert_int_equal(sink.count, 3);
    const struct cap_hep_stats *st = cap_hep_stats(h);
    assert_int_equal(st->packets, 8);
    assert_int_equal(st->messages, 3);
    assert_int_equal(st->ahead, 1);
    assert_int_equal(st->not_sip, 1);
    assert_int_equal(st->inflate_errors, 1);
    assert_int_equal(st->inflated, 0);
    assert_int_equal(st->keepalives, 1);
    assert_int_equal(st->not_hep, 1);
    cap_hep_free(h);
}

/* A TCP segment (as heplify and captagent send it) can hold several SIP
 * messages: each is delivered, keep-alives between them dropped; a UDP
 * datagram is one message. */
static void
test_tcp_payload_with_two_messages_gives_both(void **state)
{
    static const char two[] = "OPTIONS sip:a@127.0.0.2 SIP/2.0\r\n"
                              "Call-ID: o-1\r\nContent-Length: 4\r\n\r\n"
                              "abcd\r\n\r\n"
                              "BYE sip:b@127.0.0.2 SIP/2.0\r\n"
                              "Call-ID: c-1\r\nContent-Length: 0\r\n\r\n";
    (void)state;
    nb_sink_reset(&sink);
    struct cap_hep *h = cap_hep_new(nb_collect, &sink, 0);
    assert_non_null(h);
    hb_sip4(&pkt, 0x7f000001, 0x7f000002, 5060, 5080, 6, 1700000000, 5, two,
            sizeof two - 1);
    assert_int_equal(cap_hep_input(h, pkt.b, pkt.n, 1700000000, 0), 0);
    assert_int_equal(sink.count, 2);
    assert_int_equal(sink.msgs[0].len, 72);
    assert_memory_equal(sink.msgs[0].data, "OPTIONS", 7);
    assert_memory_equal(sink.msgs[1].data, "BYE sip:b", 9);
    assert_int_equal(sink.msgs[1].len, 64);
    assert_int_equal(cap_hep_stats(h)->messages, 2);
    cap_hep_free(h);
}

/* ---- compressed payloads (chunk 0x0010), made here by zlib ---- */

static const char INVITE[] =
    "INVITE sip:+14155550100@mytrunk.pstn.twilio.com SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-524287-1---6d0a3e5b7c1f"
    "2a94;rport\r\n"
    "Max-Forwards: 70\r\n"
    "Contact: <sip:+14155550199@192.0.2.10:5060;transport=udp>\r\n"
    "To: <sip:+14155550100@mytrunk.pstn.twilio.com>\r\n"
    "From: \"Front Desk\" <sip:+14155550199@pbx.example.com>;tag=8f3c2a1d\r\n"
    "Call-ID: 5b2e7f3a9c1d4e6f8a0b2c4d6e8f0a1b@192.0.2.10\r\n"
    "CSeq: 1 INVITE\r\n"
    "Allow: INVITE, ACK, CANCEL, BYE, NOTIFY, REFER, MESSAGE, OPTIONS, INFO, "
    "SUBSCRIBE\r\n"
    "Supported: replaces, norefersub, timer\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length: 142\r\n"
    "\r\n"
    "v=0\r\n"
    "o=- 3895120871 3895120871 IN IP4 192.0.2.10\r\n"
    "s=Example PBX\r\n"
    "c=IN IP4 192.0.2.10\r\n"
    "t=0 0\r\n"
    "m=audio 18562 RTP/AVP 0 8 101\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n";
#define INVITE_LEN (sizeof INVITE - 1)

static uint8_t packed[8192];

enum wrapper { ZLIB = MAX_WBITS, GZIP = 16 + MAX_WBITS, RAW = -MAX_WBITS };

/* [p, p + n) compressed by zlib into packed at level, in wrapper w (with
 * the gzip header gh when not NULL), flushed fully every `every` bytes
 * (0: never, one block).  The compressed length. */
static size_t
pack(const void *p, size_t n, int level, enum wrapper w, gz_header *gh,
     size_t every)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    assert_int_equal(
        deflateInit2(&z, level, Z_DEFLATED, (int)w, 8, Z_DEFAULT_STRATEGY),
        Z_OK);
    if (gh != NULL)
        assert_int_equal(deflateSetHeader(&z, gh), Z_OK);
    z.next_out = packed;
    z.avail_out = sizeof packed;
    const uint8_t *in = p;
    for (size_t o = 0; every != 0 && o + every < n; o += every) {
        z.next_in = in + o;
        z.avail_in = (uInt)every;
        assert_int_equal(deflate(&z, Z_FULL_FLUSH), Z_OK);
    }
    size_t done = every != 0 && n > every ? n - (n - 1) % every - 1 : 0;
    z.next_in = in + done;
    z.avail_in = (uInt)(n - done);
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    size_t out = z.total_out;
    deflateEnd(&z);
    return out;
}

/* A minimal HEP packet (family, addresses, SIP) whose payload is
 * packed[0, n) as a compressed chunk. */
static void
compressed_packet(size_t n)
{
    hb_start(&pkt);
    hb_u8(&pkt, 1, 2);
    hb_u32(&pkt, 3, 0x7f000001);
    hb_u32(&pkt, 4, 0x7f000002);
    hb_u8(&pkt, 11, 1);
    hb_chunk(&pkt, 0, 0x10, packed, n);
    hb_end(&pkt);
}

/* The INVITE as plain 0x000f, then as 0x0010 in every form an agent may
 * send: zlib at levels 0 (stored blocks) to 9, in several flushed blocks,
 * gzip with no optional field and with all of them (FEXTRA, FNAME,
 * FCOMMENT, FHCRC), raw deflate; and with bytes after the stream (ignored,
 * as zlib's uncompress does: a second gzip member too). */
static void
test_compressed_payload_gives_the_same_message_as_plain(void **state)
{
    (void)state;
    nb_sink_reset(&sink);
    struct cap_hep *h = cap_hep_new(nb_collect, &sink, 0);
    assert_non_null(h);
    hb_start(&pkt);
    hb_u8(&pkt, 1, 2);
    hb_u32(&pkt, 3, 0x7f000001);
    hb_u32(&pkt, 4, 0x7f000002);
    hb_u8(&pkt, 11, 1);
    hb_chunk(&pkt, 0, 0x0f, INVITE, INVITE_LEN);
    hb_end(&pkt);
    assert_int_equal(cap_hep_input(h, pkt.b, pkt.n, 1700000000, 2), 0);
    gz_header gh;
    memset(&gh, 0, sizeof gh);
    gh.extra = (Bytef *)"AP\4\0\1\2\3\4";
    gh.extra_len = 8;
    gh.name = (Bytef *)"invite.txt";
    gh.comment = (Bytef *)"from captagent";
    gh.hcrc = 1;
    struct {
        int level;
        enum wrapper w;
        gz_header *gh;
        size_t every;
    } forms[] = {
        {0, ZLIB, NULL, 0},  {1, ZLIB, NULL, 0},   {2, ZLIB, NULL, 0},
        {3, ZLIB, NULL, 0},  {4, ZLIB, NULL, 0},   {5, ZLIB, NULL, 0},
        {6, ZLIB, NULL, 0},  {7, ZLIB, NULL, 0},   {8, ZLIB, NULL, 0},
        {9, ZLIB, NULL, 0},  {6, ZLIB, NULL, 100}, {6, GZIP, NULL, 0},
        {9, GZIP, &gh, 0},   {1, RAW, NULL, 0},    {9, RAW, NULL, 0},
        {0, RAW, NULL, 200},
    };
    size_t sent = 0;
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++, sent++) {
        compressed_packet(pack(INVITE, INVITE_LEN, forms[i].level, forms[i].w,
                               forms[i].gh, forms[i].every));
        struct cap_hep_packet p;
        assert_int_equal(cap_hep_decode(pkt.b, pkt.b + pkt.n, &p), CAP_HEP_OK);
        assert_true(p.compressed);
        assert_int_equal(cap_hep_input(h, pkt.b, pkt.n, 1700000000, 2), 0);
    }
    size_t z = pack(INVITE, INVITE_LEN, 6, ZLIB, NULL, 0);
    memcpy(packed + z, "trailing junk", 13);
    compressed_packet(z + 13);
    assert_int_equal(cap_hep_input(h, pkt.b, pkt.n, 1700000000, 2), 0);
    uint8_t second[64];
    size_t g = pack("SIP/2.0 200 OK\r\n\r\n", 18, 6, GZIP, NULL, 0);
    memcpy(second, packed, g);
    z = pack(INVITE, INVITE_LEN, 6, GZIP, NULL, 0);
    memcpy(packed + z, second, g);
    compressed_packet(z + g);
    assert_int_equal(cap_hep_input(h, pkt.b, pkt.n, 1700000000, 2), 0);
    sent += 2;
    assert_int_equal(sink.count, 1 + sent);
    for (size_t i = 1; i <= sent; i++) {
        assert_int_equal(sink.msgs[i].len, INVITE_LEN);
        assert_memory_equal(sink.msgs[i].data, sink.msgs[0].data, INVITE_LEN);
        assert_memory_equal(&sink.msgs[i].meta, &sink.msgs[0].meta,
                            sizeof sink.msgs[0].meta);
    }
    const struct cap_hep_stats *st = cap_hep_stats(h);
    assert_int_equal(st->messages, 1 + sent);
    assert_int_equal(st->inflated, sent);
    assert_int_equal(st->inflate_errors, 0);
    assert_int_equal(st->oversize, 0);
    cap_hep_free(h);
}

/* Input the packet of packed[0, n) to h; expect the counter *field to
 * grow by one and nothing delivered. */
static void
refused(struct cap_hep *h, size_t n, const uint64_t *field)
{
    uint64_t before = *field;
    size_t count = sink.count;
    compressed_packet(n);
    assert_int_equal(cap_hep_input(h, pkt.b, pkt.n, 1700000000, 2), 0);
    assert_int_equal(*field, before + 1);
    assert_int_equal(sink.count, count);
}

/* Inflated into at most max_message bytes: a payload that would inflate
 * to more (a zip bomb: 1 MB of zeros in 1 KB) is oversize, whatever its
 * wrapper; one that is corrupt (checksum, length, cut anywhere, bad data,
 * a preset dictionary, a window over 32 KiB) an inflate error.  Both are
 * counted and skipped. */
static void
test_corrupt_or_oversized_compressed_payloads_are_counted_and_skipped(
    void **state)
{
    (void)state;
    nb_sink_reset(&sink);
    /* room for the INVITE exactly */
    struct cap_hep *h = cap_hep_new(nb_collect, &sink, INVITE_LEN);
    assert_non_null(h);
    const struct cap_hep_stats *st = cap_hep_stats(h);
    static const enum wrapper wrappers[] = {ZLIB, GZIP, RAW};
    for (size_t w = 0; w < 3; w++) {
        compressed_packet(pack(INVITE, INVITE_LEN, 9, wrappers[w], NULL, 0));
        assert_int_equal(cap_hep_input(h, pkt.b, pkt.n, 1700000000, 2), 0);
        assert_int_equal(sink.count, w + 1);
    }
    assert_int_equal(st->inflated, 3);
    size_t n = pack(INVITE, INVITE_LEN, 9, ZLIB, NULL, 0);
    packed[n - 1] ^= 1; /* Adler-32 */
    refused(h, n, &st->inflate_errors);
    for (int k = 1; k <= 8; k++) { /* CRC-32, then ISIZE */
        n = pack(INVITE, INVITE_LEN, 9, GZIP, NULL, 0);
        packed[n - (size_t)k] ^= 0x10;
        refused(h, n, &st->inflate_errors);
    }
    for (size_t w = 0; w < 3; w++) { /* every cut of each */
        n = pack(INVITE, INVITE_LEN, 6, wrappers[w], NULL, 0);
        for (size_t cut = 0; cut < n; cut++)
            refused(h, cut, &st->inflate_errors);
    }
    static const uint8_t bad[][8] = {
        {0xff, 0xff, 0xff},                /* raw: block type 3 */
        {0x78, 0xbb, 0, 0, 0, 1, 3, 0},    /* zlib with a dictionary */
        {0x88, 0x1c, 0x03, 0, 0, 0, 0, 1}, /* zlib, 64 KiB window */
        {0x1f, 0x8b, 9, 0, 0, 0, 0, 0},    /* gzip, method 9 */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memcpy(packed, bad[i], sizeof bad[i]);
        refused(h, sizeof bad[i], &st->inflate_errors);
    }
    assert_int_equal(st->oversize, 0);
    static uint8_t zeros[1 << 20];
    for (size_t w = 0; w < 3; w++) {
        n = pack(zeros, sizeof zeros, 9, wrappers[w], NULL, 0);
        assert_true(n < 2048);
        refused(h, n, &st->oversize);
    }
    cap_hep_free(h);
    /* with a byte less than the INVITE, the INVITE is oversize */
    h = cap_hep_new(nb_collect, &sink, INVITE_LEN - 1);
    assert_non_null(h);
    st = cap_hep_stats(h);
    for (size_t w = 0; w < 3; w++)
        refused(h, pack(INVITE, INVITE_LEN, 9, wrappers[w], NULL, 0),
                &st->oversize);
    assert_int_equal(st->inflate_errors, 0);
    assert_int_equal(st->inflated, 0);
    cap_hep_free(h);
}

static void
test_listener_receives_datagrams(void **state)
{
    (void)state;
    struct cdr_diag d;
    struct cap_hep_listener *l;
    int rc = cap_hep_listener_open("127.0.0.1:0", &l, &d);
    if (rc != 0)
        skip();
    uint16_t port = cap_hep_listener_port(l);
    assert_true(port != 0);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in to = {0};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    to.sin_addr.s_addr = htonl(0x7f000001);
    hb_sip4(&pkt, 0x7f000001, 0x7f000002, 5060, 5080, 17, 1700000000, 5, SIP,
            sizeof SIP - 1);
    for (int i = 0; i < 3; i++)
        sendto(fd, pkt.b, pkt.n, 0, (struct sockaddr *)&to, sizeof to);
    close(fd);
    nb_sink_reset(&sink);
    sink.stop_after = 3; /* the callback stops the loop */
    struct cap_hep *h = cap_hep_new(nb_collect, &sink, 0);
    assert_int_equal(cap_hep_listener_run(l, h, NULL, 100, NULL, NULL, &d), -1);
    assert_int_equal(sink.count, 3);
    cap_hep_free(h);
    cap_hep_listener_close(l);
    /* address forms */
    static const char *const bad[] = {
        "", "host:", "[::1]", "[::1]5060", "1.2.3.4:http", "1.2.3.4:123456"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(cap_hep_listener_open(bad[i], &l, &d), CDR_E_USAGE);
    assert_int_equal(
        cap_hep_listener_open("[::1]:0", &l, &d) == 0 || d.code == CDR_E_IO, 1);
    cap_hep_listener_close(l);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_ipv4_packet),
        cmocka_unit_test(test_decode_ipv6_tcp_tls_and_vendor_chunks),
        cmocka_unit_test(test_every_truncation_is_refused),
        cmocka_unit_test(test_wrong_lengths_are_refused),
        cmocka_unit_test(test_missing_parts_and_bad_family),
        cmocka_unit_test(test_input_delivers_sip_and_counts_the_rest),
        cmocka_unit_test(test_tcp_payload_with_two_messages_gives_both),
        cmocka_unit_test(
            test_compressed_payload_gives_the_same_message_as_plain),
        cmocka_unit_test(
            test_corrupt_or_oversized_compressed_payloads_are_counted_and_skipped),
        cmocka_unit_test(test_listener_receives_datagrams),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    nb_sink_reset(&sink);
    return rc;
}

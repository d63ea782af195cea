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

#include "cdr/capture/source/cap_source_hep.h"
#include "fixture_file.h"
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

/* A fixture of tests/fixtures/inflate/ (made by the real zlib). */
static size_t
load_fixture(const char *name, uint8_t *buf, size_t cap)
{
    char rel[256];
    snprintf(rel, sizeof rel, "inflate/%s", name);
    return read_fixture(rel, buf, cap);
}

static uint8_t invite[4096], packed[4096];

/* The INVITE as plain 0x000f, then as 0x0010 with each wrapper. */
static void
test_compressed_payload_gives_the_same_message_as_plain(void **state)
{
    (void)state;
    size_t invite_len = load_fixture("invite.txt", invite, sizeof invite);
    nb_sink_reset(&sink);
    struct cap_hep *h = cap_hep_new(nb_collect, &sink, 0);
    assert_non_null(h);
    hb_sip4(&pkt, 0x7f000001, 0x7f000002, 5060, 5080, 17, 1700000000, 5, invite,
            invite_len);
    assert_int_equal(cap_hep_input(h, pkt.b, pkt.n, 1700000000, 2), 0);
    static const char *const files[] = {"dynamic6.zlib", "stored.zlib",
                                        "fname.gz", "raw.deflate"};
    for (size_t i = 0; i < 4; i++) {
        size_t n = load_fixture(files[i], packed, sizeof packed);
        hb_sip4(&pkt, 0x7f000001, 0x7f000002, 5060, 5080, 17, 1700000000, 5,
                packed, n);
        pkt.b[pkt.n - n - 6 + 3] = 0x10; /* the payload chunk's type */
        struct cap_hep_packet p;
        assert_int_equal(cap_hep_decode(pkt.b, pkt.b + pkt.n, &p), CAP_HEP_OK);
        assert_true(p.compressed);
        assert_int_equal(cap_hep_input(h, pkt.b, pkt.n, 1700000000, 2), 0);
    }
    assert_int_equal(sink.count, 5);
    for (size_t i = 1; i < 5; i++) {
        assert_int_equal(sink.msgs[i].len, invite_len);
        assert_memory_equal(sink.msgs[i].data, sink.msgs[0].data, invite_len);
        assert_memory_equal(&sink.msgs[i].meta, &sink.msgs[0].meta,
                            sizeof sink.msgs[0].meta);
    }
    const struct cap_hep_stats *st = cap_hep_stats(h);
    assert_int_equal(st->messages, 5);
    assert_int_equal(st->inflated, 4);
    assert_int_equal(st->inflate_errors, 0);
    cap_hep_free(h);
}

/* A minimal HEP packet (family, protocol, ports, SIP) whose payload is
 * packed[0, n) as a compressed chunk. */
static void
compressed_packet(size_t n)
{
    hb_start(&pkt);
    hb_u8(&pkt, 1, 2);
    hb_u32(&pkt, 3, 1);
    hb_u32(&pkt, 4, 2);
    hb_u8(&pkt, 11, 1);
    hb_chunk(&pkt, 0, 0x10, packed, n);
    hb_end(&pkt);
}

static void
test_corrupt_or_oversized_compressed_payloads_are_counted_and_skipped(
    void **state)
{
    (void)state;
    size_t invite_len = load_fixture("invite.txt", invite, sizeof invite);
    nb_sink_reset(&sink);
    /* room for the INVITE exactly */
    struct cap_hep *h = cap_hep_new(nb_collect, &sink, invite_len);
    assert_non_null(h);
    size_t n = load_fixture("dynamic9.zlib", packed, sizeof packed);
    packed[n - 1] ^= 1; /* Adler-32 */
    compressed_packet(n);
    assert_int_equal(cap_hep_input(h, pkt.b, pkt.n, 1700000000, 2), 0);
    packed[n - 1] ^= 1;
    size_t good = pkt.n;
    compressed_packet(n / 2); /* cut */
    assert_int_equal(cap_hep_input(h, pkt.b, pkt.n, 1700000000, 2), 0);
    const struct cap_hep_stats *st = cap_hep_stats(h);
    assert_int_equal(st->inflate_errors, 2);
    assert_int_equal(sink.count, 0);
    /* 1 MB of zeros in 1 KB: stops at max_message, counted as oversize */
    n = load_fixture("bomb.zlib", packed, sizeof packed);
    compressed_packet(n);
    assert_int_equal(cap_hep_input(h, pkt.b, pkt.n, 1700000000, 2), 0);
    assert_int_equal(st->oversize, 1);
    assert_int_equal(st->inflate_errors, 2);
    assert_int_equal(sink.count, 0);
    /* the INVITE itself fits exactly; with a byte less it is oversize */
    n = load_fixture("dynamic9.zlib", packed, sizeof packed);
    compressed_packet(n);
    assert_int_equal(pkt.n, good);
    assert_int_equal(cap_hep_input(h, pkt.b, pkt.n, 1700000000, 2), 0);
    assert_int_equal(sink.count, 1);
    assert_int_equal(st->inflated, 1);
    cap_hep_free(h);
    h = cap_hep_new(nb_collect, &sink, invite_len - 1);
    assert_non_null(h);
    assert_int_equal(cap_hep_input(h, pkt.b, pkt.n, 1700000000, 2), 0);
    assert_int_equal(sink.count, 1);
    assert_int_equal(cap_hep_stats(h)->oversize, 1);
    assert_int_equal(cap_hep_stats(h)->inflate_errors, 0);
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

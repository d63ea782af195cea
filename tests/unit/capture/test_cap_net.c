/*
 * Packet path: link layers, VLAN/QinQ, IP-in-IP, IPv4/IPv6 with extension
 * headers and fragments, UDP.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "cdr/capture/net/cap_net.h"
#include "net_build.h"

static const char MSG[] = "OPTIONS sip:carrier@127.0.0.2 SIP/2.0\r\n"
                          "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-1\r\n"
                          "Call-ID: net-1@127.0.0.1\r\n"
                          "CSeq: 1 OPTIONS\r\n"
                          "Content-Length: 0\r\n"
                          "\r\n";

static struct nb frame;
static struct nb_sink sink;

static struct cap_net *
new_net(void)
{
    nb_sink_reset(&sink);
    struct cap_net *n = cap_net_new(NULL, nb_collect, &sink);
    assert_non_null(n);
    return n;
}

static void
udp4(struct nb *b, const void *payload, size_t len)
{
    nb_init(b);
    nb_append(b, payload, len);
    nb_udp(b, 5060, 5080);
    nb_ipv4(b, 0x7f000001, 0x7f000002, 17, 1, 0, 0);
}

static void
udp6(struct nb *b, const void *payload, size_t len)
{
    nb_init(b);
    nb_append(b, payload, len);
    nb_udp(b, 5060, 5080);
    nb_ipv6(b, 1, 2, 17);
}

static void
assert_one_msg_v4(void)
{
    assert_int_equal(sink.count, 1);
    struct nb_msg *m = &sink.msgs[0];
    assert_int_equal(m->len, sizeof MSG - 1);
    assert_memory_equal(m->data, MSG, sizeof MSG - 1);
    assert_int_equal(m->meta.src.family, AF_INET);
    assert_int_equal(m->meta.src.ip[0], 127);
    assert_int_equal(m->meta.src.ip[3], 1);
    assert_int_equal(m->meta.dst.ip[3], 2);
    assert_int_equal(m->meta.src.port, 5060);
    assert_int_equal(m->meta.dst.port, 5080);
    assert_int_equal(m->meta.transport, CAP_TRANSPORT_UDP);
    assert_int_equal(m->meta.ts_sec, 1700000000);
    assert_int_equal(m->meta.ts_usec, 42);
}

static int
feed(struct cap_net *n, int dlt)
{
    return cap_net_frame(n, dlt, 1700000000, 42, nb_data(&frame), frame.len);
}

static void
test_ethernet_ipv4_udp_delivers_payload_and_addresses(void **state)
{
    (void)state;
    struct cap_net *n = new_net();
    udp4(&frame, MSG, sizeof MSG - 1);
    nb_eth(&frame, 0x0800);
    /* Ethernet padding after the IP packet must not reach the message */
    nb_append(&frame, "\0\0\0\0", 4);
    assert_int_equal(feed(n, CAP_DLT_EN10MB), 0);
    assert_one_msg_v4();
    assert_int_equal(cap_net_stats(n)->messages_udp, 1);
    cap_net_free(n);
}

static void
test_vlan_and_qinq_tags_are_skipped(void **state)
{
    (void)state;
    static const unsigned outer[] = {0x8100, 0x88a8, 0x9100};
    for (size_t i = 0; i < 3; i++) {
        struct cap_net *n = new_net();
        udp4(&frame, MSG, sizeof MSG - 1);
        nb_vlan(&frame, 10, 0x0800);
        if (i > 0) /* QinQ: service tag outside the customer tag */
            nb_vlan(&frame, 20, 0x8100);
        nb_eth(&frame, outer[i]);
        assert_int_equal(feed(n, CAP_DLT_EN10MB), 0);
        assert_one_msg_v4();
        cap_net_free(n);
    }
}

static void
test_too_many_vlan_tags_are_refused(void **state)
{
    (void)state;
    struct cap_net *n = new_net();
    udp4(&frame, MSG, sizeof MSG - 1);
    nb_vlan(&frame, 1, 0x0800);
    for (int i = 0; i < 20; i++)
        nb_vlan(&frame, 1, 0x8100);
    nb_eth(&frame, 0x8100);
    assert_int_equal(feed(n, CAP_DLT_EN10MB), 0);
    assert_int_equal(sink.count, 0);
    assert_int_equal(cap_net_stats(n)->encap_too_deep, 1);
    cap_net_free(n);
}

static void
test_linux_cooked_sll_and_sll2(void **state)
{
    (void)state;
    struct cap_net *n = new_net();
    udp4(&frame, MSG, sizeof MSG - 1);
    uint8_t *h = nb_prepend(&frame, 16);
    h[1] = 4; /* outgoing */
    nb_w16(h + 14, 0x0800);
    assert_int_equal(feed(n, CAP_DLT_LINUX_SLL), 0);
    assert_one_msg_v4();
    cap_net_free(n);

    n = new_net();
    udp4(&frame, MSG, sizeof MSG - 1);
    h = nb_prepend(&frame, 20);
    nb_w16(h, 0x0800);
    nb_w32(h + 4, 1); /* ifindex */
    assert_int_equal(feed(n, CAP_DLT_LINUX_SLL2), 0);
    assert_one_msg_v4();
    cap_net_free(n);
}

static void
test_raw_ip_link_types(void **state)
{
    (void)state;
    static const int dlts[] = {CAP_DLT_RAW, CAP_DLT_RAW_BSD, CAP_DLT_RAW_LT,
                               CAP_DLT_IPV4};
    for (size_t i = 0; i < 4; i++) {
        struct cap_net *n = new_net();
        udp4(&frame, MSG, sizeof MSG - 1);
        assert_int_equal(feed(n, dlts[i]), 0);
        assert_one_msg_v4();
        cap_net_free(n);
    }
}

static void
test_loopback_null_either_byte_order_and_loop(void **state)
{
    (void)state;
    static const uint8_t fams[][4] = {
        {2, 0, 0, 0},  /* DLT_NULL, little-endian host, AF_INET */
        {0, 0, 0, 2},  /* DLT_NULL, big-endian host */
        {30, 0, 0, 0}, /* macOS AF_INET6 */
    };
    for (size_t i = 0; i < 3; i++) {
        struct cap_net *n = new_net();
        if (i < 2)
            udp4(&frame, MSG, sizeof MSG - 1);
        else
            udp6(&frame, MSG, sizeof MSG - 1);
        memcpy(nb_prepend(&frame, 4), fams[i], 4);
        assert_int_equal(feed(n, CAP_DLT_NULL), 0);
        assert_int_equal(sink.count, 1);
        cap_net_free(n);
    }
    struct cap_net *n = new_net();
    udp4(&frame, MSG, sizeof MSG - 1);
    nb_w32(nb_prepend(&frame, 4), 2);
    assert_int_equal(feed(n, CAP_DLT_LOOP), 0);
    assert_one_msg_v4();
    /* an unknown family is counted */
    udp4(&frame, MSG, sizeof MSG - 1);
    nb_w32(nb_prepend(&frame, 4), 7);
    assert_int_equal(feed(n, CAP_DLT_LOOP), 0);
    assert_int_equal(sink.count, 1);
    assert_int_equal(cap_net_stats(n)->unsupported_link, 1);
    cap_net_free(n);
}

static void
test_ipv6_with_extension_headers(void **state)
{
    (void)state;
    struct cap_net *n = new_net();
    udp6(&frame, MSG, sizeof MSG - 1);
    /* rebuild: payload, UDP, dest-opts, hop-by-hop, IPv6 */
    nb_init(&frame);
    nb_append(&frame, MSG, sizeof MSG - 1);
    nb_udp(&frame, 5060, 5080);
    nb_ipv6_ext(&frame, 17);
    nb_ipv6_ext(&frame, 60);
    nb_ipv6(&frame, 1, 2, 0);
    nb_eth(&frame, 0x86dd);
    assert_int_equal(feed(n, CAP_DLT_EN10MB), 0);
    assert_int_equal(sink.count, 1);
    struct nb_msg *m = &sink.msgs[0];
    assert_int_equal(m->meta.src.family, AF_INET6);
    assert_int_equal(m->meta.src.ip[0], 0xfd);
    assert_int_equal(m->meta.src.ip[15], 1);
    assert_int_equal(m->meta.dst.ip[15], 2);
    assert_memory_equal(m->data, MSG, sizeof MSG - 1);
    /* AH counts its length in 4-byte units, minus 2: 12 bytes here (in
     * 8-byte units the same field would say 16) */
    nb_init(&frame);
    nb_append(&frame, MSG, sizeof MSG - 1);
    nb_udp(&frame, 5060, 5080);
    uint8_t *ah = nb_prepend(&frame, 12);
    ah[0] = 17;
    ah[1] = 1;
    nb_ipv6(&frame, 1, 2, 51);
    nb_eth(&frame, 0x86dd);
    assert_int_equal(feed(n, CAP_DLT_EN10MB), 0);
    assert_int_equal(sink.count, 2);
    assert_memory_equal(sink.msgs[1].data, MSG, sizeof MSG - 1);
    cap_net_free(n);
}

static void
test_ip_in_ip_both_families(void **state)
{
    (void)state;
    /* IPv4 in IPv4 (proto 4) */
    struct cap_net *n = new_net();
    udp4(&frame, MSG, sizeof MSG - 1);
    nb_ipv4(&frame, 0x0a000001, 0x0a000002, 4, 9, 0, 0);
    nb_eth(&frame, 0x0800);
    assert_int_equal(feed(n, CAP_DLT_EN10MB), 0);
    assert_one_msg_v4(); /* the inner addresses */
    cap_net_free(n);
    /* IPv6 in IPv4 (proto 41) and IPv4 in IPv6 (next header 4) */
    n = new_net();
    udp6(&frame, MSG, sizeof MSG - 1);
    nb_ipv4(&frame, 0x0a000001, 0x0a000002, 41, 9, 0, 0);
    assert_int_equal(feed(n, CAP_DLT_RAW), 0);
    udp4(&frame, MSG, sizeof MSG - 1);
    nb_ipv6(&frame, 7, 8, 4);
    assert_int_equal(feed(n, CAP_DLT_RAW), 0);
    assert_int_equal(sink.count, 2);
    assert_int_equal(sink.msgs[0].meta.src.family, AF_INET6);
    assert_int_equal(sink.msgs[1].meta.src.family, AF_INET);
    cap_net_free(n);
    /* a tunnel in a tunnel in a tunnel ... is bounded */
    n = new_net();
    udp4(&frame, MSG, sizeof MSG - 1);
    for (int i = 0; i < 12; i++)
        nb_ipv4(&frame, 0x0a000001, 0x0a000002, 4, 9, 0, 0);
    assert_int_equal(feed(n, CAP_DLT_RAW), 0);
    assert_int_equal(sink.count, 0);
    assert_int_equal(cap_net_stats(n)->encap_too_deep, 1);
    cap_net_free(n);
}

static void
test_every_truncation_is_counted_never_delivered(void **state)
{
    (void)state;
    struct cap_net *n = new_net();
    udp4(&frame, MSG, sizeof MSG - 1);
    nb_vlan(&frame, 5, 0x0800);
    nb_eth(&frame, 0x8100);
    size_t full = frame.len;
    for (size_t cut = 0; cut < full; cut++) {
        /* copy so ASan sees reads past the cut */
        uint8_t *copy = malloc(cut ? cut : 1);
        memcpy(copy, nb_data(&frame), cut);
        assert_int_equal(cap_net_frame(n, CAP_DLT_EN10MB, 1, 0, copy, cut), 0);
        free(copy);
    }
    assert_int_equal(sink.count, 0);
    assert_int_equal(cap_net_stats(n)->truncated, full);
    cap_net_free(n);
}

static void
test_udp_keepalives_and_unknown_protocols_are_counted(void **state)
{
    (void)state;
    struct cap_net *n = new_net();
    udp4(&frame, "\r\n\r\n", 4);
    assert_int_equal(feed(n, CAP_DLT_RAW), 0);
    udp4(&frame, "", 0);
    assert_int_equal(feed(n, CAP_DLT_RAW), 0);
    nb_init(&frame);
    nb_append(&frame, "ping", 4);
    nb_ipv4(&frame, 1, 2, 1, 1, 0, 0); /* ICMP */
    assert_int_equal(feed(n, CAP_DLT_RAW), 0);
    assert_int_equal(feed(n, 9999), 0);
    assert_int_equal(sink.count, 0);
    const struct cap_net_stats *st = cap_net_stats(n);
    assert_int_equal(st->udp_keepalives, 1);
    assert_int_equal(st->udp_empty, 1);
    assert_int_equal(st->not_udp_tcp, 1);
    assert_int_equal(st->unsupported_link, 1);
    cap_net_free(n);
}

static void
test_callback_stop_value_is_returned(void **state)
{
    (void)state;
    struct cap_net *n = new_net();
    sink.stop_after = 1;
    udp4(&frame, MSG, sizeof MSG - 1);
    assert_int_equal(feed(n, CAP_DLT_RAW), -1);
    cap_net_free(n);
}

/* ------------------------------------------------------------ fragments */

/* A UDP datagram of SIP with a body, big enough to need fragments. */
static uint8_t dgram[4000];
static size_t dgram_len;
static char big_msg[3900];
static size_t big_len;

static void
make_big(void)
{
    char body[3000];
    for (size_t i = 0; i < sizeof body; i++)
        body[i] = (char)('a' + i % 26);
    int h = snprintf(big_msg, sizeof big_msg,
                     "MESSAGE sip:a@127.0.0.2 SIP/2.0\r\n"
                     "Call-ID: frag@x\r\nContent-Length: %zu\r\n\r\n",
                     sizeof body);
    memcpy(big_msg + h, body, sizeof body);
    big_len = (size_t)h + sizeof body;
    /* UDP header + payload */
    nb_init(&frame);
    nb_append(&frame, big_msg, big_len);
    nb_udp(&frame, 5060, 5080);
    memcpy(dgram, nb_data(&frame), frame.len);
    dgram_len = frame.len;
}

/* Fragment k of dgram, v4: [off, off+len) */
static void
frag4(size_t off, size_t len, unsigned id)
{
    nb_init(&frame);
    nb_append(&frame, dgram + off, len);
    nb_ipv4(&frame, 0x7f000001, 0x7f000002, 17, id, (unsigned)off,
            off + len < dgram_len);
}

static void
frag6(size_t off, size_t len, uint32_t id, int ext)
{
    nb_init(&frame);
    nb_append(&frame, dgram + off, len);
    nb_ipv6_frag(&frame, 17, (unsigned)off, off + len < dgram_len, id);
    if (ext) {
        nb_ipv6_ext(&frame, 44);
        nb_ipv6(&frame, 1, 2, 0);
    } else {
        nb_ipv6(&frame, 1, 2, 44);
    }
}

static void
assert_big_delivered(size_t count)
{
    assert_int_equal(sink.count, count);
    assert_int_equal(sink.msgs[count - 1].len, big_len);
    assert_memory_equal(sink.msgs[count - 1].data, big_msg, big_len);
}

static void
test_ipv4_fragments_in_order_and_out_of_order(void **state)
{
    (void)state;
    make_big();
    static const size_t orders[][3] = {
        {0, 1, 2}, {2, 1, 0}, {1, 2, 0}, {2, 0, 1}};
    struct cap_net *n = new_net();
    for (size_t o = 0; o < 4; o++) {
        for (size_t k = 0; k < 3; k++) {
            size_t part = orders[o][k];
            size_t off = part * 1480;
            size_t len = part == 2 ? dgram_len - off : 1480;
            frag4(off, len, (unsigned)(100 + o));
            assert_int_equal(feed(n, CAP_DLT_RAW), 0);
            assert_int_equal(sink.count, k == 2 ? o + 1 : o);
        }
        assert_big_delivered(o + 1);
    }
    const struct cap_net_stats *st = cap_net_stats(n);
    assert_int_equal(st->frag_reassembled, 4);
    assert_int_equal(st->frag_fragments, 12);
    assert_int_equal(st->frag_inflight, 0);
    cap_net_free(n);
}

static void
test_ipv4_overlapping_fragments_are_counted_and_reassembled(void **state)
{
    (void)state;
    make_big();
    struct cap_net *n = new_net();
    frag4(0, 1480, 7);
    feed(n, CAP_DLT_RAW);
    frag4(1000, 1480, 7); /* overlaps the first */
    feed(n, CAP_DLT_RAW);
    frag4(1000, 1480, 7); /* duplicate */
    feed(n, CAP_DLT_RAW);
    frag4(2480, dgram_len - 2480, 7);
    feed(n, CAP_DLT_RAW);
    assert_big_delivered(1);
    assert_int_equal(cap_net_stats(n)->frag_overlaps, 2);
    cap_net_free(n);
}

static void
test_fragments_time_out_and_table_is_bounded(void **state)
{
    (void)state;
    make_big();
    struct cap_net_config cfg;
    cap_net_config_default(&cfg);
    cfg.max_fragments = 4;
    cfg.fragment_timeout_sec = 10;
    nb_sink_reset(&sink);
    struct cap_net *n = cap_net_new(&cfg, nb_collect, &sink);
    /* first halves only, ids 1..6: the table holds 4 */
    for (unsigned id = 1; id <= 6; id++) {
        frag4(0, 1480, id);
        assert_int_equal(
            cap_net_frame(n, CAP_DLT_RAW, 100, 0, nb_data(&frame), frame.len),
            0);
    }
    const struct cap_net_stats *st = cap_net_stats(n);
    assert_int_equal(st->frag_evicted, 2);
    assert_int_equal(st->frag_inflight, 4);
    assert_int_equal(st->frag_inflight_max, 4);
    cap_net_expire(n, 105);
    assert_int_equal(st->frag_timeouts, 0);
    cap_net_expire(n, 111);
    assert_int_equal(st->frag_timeouts, 4);
    assert_int_equal(st->frag_inflight, 0);
    /* the rest of id 6 now starts a new, incomplete datagram */
    frag4(1480, 1480, 6);
    cap_net_frame(n, CAP_DLT_RAW, 112, 0, nb_data(&frame), frame.len);
    frag4(2960, dgram_len - 2960, 6);
    cap_net_frame(n, CAP_DLT_RAW, 112, 0, nb_data(&frame), frame.len);
    assert_int_equal(sink.count, 0);
    cap_net_free(n);
}

static void
test_bad_fragments_are_refused(void **state)
{
    (void)state;
    make_big();
    struct cap_net *n = new_net();
    /* a non-last fragment whose length is not a multiple of 8 */
    frag4(0, 1001, 3);
    feed(n, CAP_DLT_RAW);
    /* beyond 64 KiB */
    nb_init(&frame);
    nb_append(&frame, dgram, 100);
    nb_ipv4(&frame, 1, 2, 17, 4, 65528, 0);
    feed(n, CAP_DLT_RAW);
    /* two different ends */
    frag4(2960, dgram_len - 2960, 5);
    feed(n, CAP_DLT_RAW);
    nb_init(&frame);
    nb_append(&frame, dgram, 16);
    nb_ipv4(&frame, 0x7f000001, 0x7f000002, 17, 5, 8, 0);
    feed(n, CAP_DLT_RAW);
    assert_int_equal(cap_net_stats(n)->frag_invalid, 3);
    assert_int_equal(sink.count, 0);
    cap_net_free(n);
}

static void
test_ipv6_fragments_with_and_without_extension_headers(void **state)
{
    (void)state;
    make_big();
    struct cap_net *n = new_net();
    for (int ext = 0; ext < 2; ext++) {
        frag6(1448, 1448, 77u + (uint32_t)ext, ext);
        feed(n, CAP_DLT_RAW);
        frag6(2896, dgram_len - 2896, 77u + (uint32_t)ext, ext);
        feed(n, CAP_DLT_RAW);
        frag6(0, 1448, 77u + (uint32_t)ext, ext);
        feed(n, CAP_DLT_RAW);
        assert_big_delivered((size_t)ext + 1);
        assert_int_equal(sink.msgs[ext].meta.src.family, AF_INET6);
        assert_int_equal(sink.msgs[ext].meta.dst.port, 5080);
    }
    /* atomic fragment (offset 0, no more) */
    nb_init(&frame);
    nb_append(&frame, MSG, sizeof MSG - 1);
    nb_udp(&frame, 5060, 5080);
    nb_ipv6_frag(&frame, 17, 0, 0, 1);
    nb_ipv6(&frame, 1, 2, 44);
    feed(n, CAP_DLT_RAW);
    assert_int_equal(sink.count, 3);
    cap_net_free(n);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ethernet_ipv4_udp_delivers_payload_and_addresses),
        cmocka_unit_test(test_vlan_and_qinq_tags_are_skipped),
        cmocka_unit_test(test_too_many_vlan_tags_are_refused),
        cmocka_unit_test(test_linux_cooked_sll_and_sll2),
        cmocka_unit_test(test_raw_ip_link_types),
        cmocka_unit_test(test_loopback_null_either_byte_order_and_loop),
        cmocka_unit_test(test_ipv6_with_extension_headers),
        cmocka_unit_test(test_ip_in_ip_both_families),
        cmocka_unit_test(test_every_truncation_is_counted_never_delivered),
        cmocka_unit_test(test_udp_keepalives_and_unknown_protocols_are_counted),
        cmocka_unit_test(test_callback_stop_value_is_returned),
        cmocka_unit_test(test_ipv4_fragments_in_order_and_out_of_order),
        cmocka_unit_test(
            test_ipv4_overlapping_fragments_are_counted_and_reassembled),
        cmocka_unit_test(test_fragments_time_out_and_table_is_bounded),
        cmocka_unit_test(test_bad_fragments_are_refused),
        cmocka_unit_test(
            test_ipv6_fragments_with_and_without_extension_headers),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    nb_sink_reset(&sink);
    return rc;
}

/*
 * TCP stream reassembly and SIP framing on streams.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "cdr/capture/net/cap_net.h"
#include "cdr/capture/net/cap_tcp.h"
#include "net_build.h"

/* Five messages as one side of a connection sends them. */
static const char *const MSGS[] = {
    "INVITE sip:+14155550100@127.0.0.2 SIP/2.0\r\n"
    "Via: SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bK-1\r\n"
    "Call-ID: tcp-1@127.0.0.1\r\n"
    "CSeq: 1 INVITE\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length:   11  \r\n"
    "\r\n"
    "v=0\r\no=- \r\n",
    /* compact form, no space, body with an embedded start-line look-alike */
    "NOTIFY sip:pbx@127.0.0.1 SIP/2.0\r\n"
    "i: tcp-1@127.0.0.1\r\n"
    "c: message/sipfrag\r\n"
    "l:16\r\n"
    "\r\n"
    "SIP/2.0 200 OK\r\n",
    /* no Content-Length at all: 0 on a stream */
    "SIP/2.0 200 OK\r\n"
    "Call-ID: tcp-1@127.0.0.1\r\n"
    "CSeq: 2 NOTIFY\r\n"
    "\r\n",
    /* LF-only line ends, lower-case name */
    "BYE sip:+14155550100@127.0.0.2 SIP/2.0\n"
    "call-id: tcp-1@127.0.0.1\n"
    "content-length: 0\n"
    "\n",
    "SIP/2.0 200 OK\r\n"
    "Call-ID: tcp-1@127.0.0.1\r\n"
    "CSeq: 3 BYE\r\n"
    "Location: nowhere\r\n"
    "CONTENT-LENGTH : 0\r\n"
    "\r\n",
};
#define NMSGS (sizeof MSGS / sizeof MSGS[0])

static uint8_t stream[8192];
static size_t stream_len;
static size_t msg_off[NMSGS];

/* The stream: junk, the messages with CRLF keep-alives between some. */
static void
make_stream(void)
{
    stream_len = 0;
    static const char junk[] = "\x16\x03\x01garbage line\r\n\r\n";
    memcpy(stream, junk, sizeof junk - 1);
    stream_len = sizeof junk - 1;
    for (size_t i = 0; i < NMSGS; i++) {
        if (i == 2) {
            memcpy(stream + stream_len, "\r\n\r\n", 4);
            stream_len += 4;
        }
        msg_off[i] = stream_len;
        size_t l = strlen(MSGS[i]);
        memcpy(stream + stream_len, MSGS[i], l);
        stream_len += l;
    }
}

static struct nb_sink sink;
static struct nb frame;

static void
assert_all_messages(size_t first)
{
    assert_int_equal(sink.count, NMSGS - first);
    for (size_t i = first; i < NMSGS; i++) {
        struct nb_msg *m = &sink.msgs[i - first];
        assert_int_equal(m->len, strlen(MSGS[i]));
        assert_memory_equal(m->data, MSGS[i], m->len);
        assert_int_equal(m->meta.transport, CAP_TRANSPORT_TCP);
        assert_int_equal(m->meta.src.port, 40000);
        assert_int_equal(m->meta.dst.port, 5060);
    }
}

static struct cap_net *
new_net(const struct cap_net_config *cfg)
{
    nb_sink_reset(&sink);
    struct cap_net *n = cap_net_new(cfg, nb_collect, &sink);
    assert_non_null(n);
    return n;
}

static int
seg(struct cap_net *n, uint32_t seq, unsigned flags, const void *p, size_t len)
{
    nb_init(&frame);
    nb_append(&frame, p, len);
    nb_tcp(&frame, 40000, 5060, seq, flags | NB_ACK);
    nb_ipv4(&frame, 0x7f000001, 0x7f000002, 6, 1, 0, 0);
    nb_eth(&frame, 0x0800);
    return cap_net_frame(n, CAP_DLT_EN10MB, 1000, 0, nb_data(&frame),
                         frame.len);
}

/* The same at capture time sec. */
static int
seg_at(struct cap_net *n, int64_t sec, uint32_t seq, unsigned flags,
       const void *p, size_t len)
{
    nb_init(&frame);
    nb_append(&frame, p, len);
    nb_tcp(&frame, 40000, 5060, seq, flags | NB_ACK);
    nb_ipv4(&frame, 0x7f000001, 0x7f000002, 6, 1, 0, 0);
    nb_eth(&frame, 0x0800);
    return cap_net_frame(n, CAP_DLT_EN10MB, sec, 0, nb_data(&frame), frame.len);
}

#define ISN 0xfffff000u /* wraps around 2^32 within the stream */

/* ------------------------------------------------------------- framer */

static void
test_framer_cuts_each_message(void **state)
{
    (void)state;
    make_stream();
    const uint8_t *p = stream, *end = stream + stream_len;
    for (size_t i = 0; i < NMSGS; i++) {
        struct cap_frame f;
        assert_int_equal(cap_stream_frame(p, end, 65536, &f),
                         CAP_FRAME_MESSAGE);
        assert_int_equal(f.len, strlen(MSGS[i]));
        assert_memory_equal(p + f.skip, MSGS[i], f.len);
        if (i == 0)
            assert_int_equal(f.junk, 17);
        else
            assert_int_equal(f.junk, 0);
        p += f.skip + f.len;
    }
    struct cap_frame f;
    assert_int_equal(cap_stream_frame(p, end, 65536, &f), CAP_FRAME_MORE);
}

static void
test_framer_start_lines(void **state)
{
    (void)state;
    static const struct {
        const char *line;
        int ok;
    } cases[] = {
        {"SIP/2.0 200 OK", 1},
        {"SIP/2.0 486 Busy Here\r", 1},
        {"sip/2.0 100", 1},
        {"SIP/2.0 20 OK", 0},
        {"INVITE sip:a@b SIP/2.0", 1},
        {"REFER sip:a@b SIP/2.0\r", 1},
        {"INVITE  SIP/2.0", 0},
        {"INVITE sip:a@b HTTP/1.1", 0},
        {"GET / HTTP/1.1", 0},
        {"", 0},
        {"v=0", 0},
        {" INVITE sip:a@b SIP/2.0", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const uint8_t *p = (const uint8_t *)cases[i].line;
        assert_int_equal(cap_stream_is_start_line(p, p + strlen(cases[i].line)),
                         cases[i].ok);
    }
}

static void
test_framer_bad_content_length_resynchronises(void **state)
{
    (void)state;
    static const char *const bad[] = {"Content-Length: 12x", "l: -1",
                                      "Content-Length:", "l: 99999999999",
                                      "Content-Length: 5\r\nl: 6"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char buf[512];
        int n = snprintf(buf, sizeof buf,
                         "INVITE sip:a@b SIP/2.0\r\n%s\r\n\r\nxxxx\r\n"
                         "BYE sip:a@b SIP/2.0\r\nl: 0\r\n\r\n",
                         bad[i]);
        const uint8_t *p = (const uint8_t *)buf, *end = p + n;
        struct cap_frame f;
        assert_int_equal(cap_stream_frame(p, end, 65536, &f), CAP_FRAME_SKIP);
        assert_int_equal(f.reason, CAP_FRAME_BAD_CONTENT_LENGTH);
        p += f.skip;
        assert_int_equal(cap_stream_frame(p, end, 65536, &f),
                         CAP_FRAME_MESSAGE);
        assert_memory_equal(p + f.skip, "BYE ", 4);
    }
}

static void
test_framer_refuses_oversize(void **state)
{
    (void)state;
    static const char m[] =
        "MESSAGE sip:a@b SIP/2.0\r\nContent-Length: 500\r\n\r\n";
    const uint8_t *p = (const uint8_t *)m;
    struct cap_frame f;
    assert_int_equal(cap_stream_frame(p, p + sizeof m - 1, 200, &f),
                     CAP_FRAME_SKIP);
    assert_int_equal(f.reason, CAP_FRAME_OVERSIZE);
    /* headers that never end within the bound */
    uint8_t big[400];
    memset(big, 'X', sizeof big);
    memcpy(big, "INVITE sip:a@b SIP/2.0\r\nX: ", 27);
    assert_int_equal(cap_stream_frame(big, big + sizeof big, 200, &f),
                     CAP_FRAME_SKIP);
    assert_int_equal(f.reason, CAP_FRAME_OVERSIZE);
    /* a line with no end at all */
    memset(big, 'X', sizeof big);
    assert_int_equal(cap_stream_frame(big, big + sizeof big, 200, &f),
                     CAP_FRAME_SKIP);
    assert_int_equal(f.skip, sizeof big);
}

/* ------------------------------------------------------------- streams */

static void
test_several_messages_in_one_segment(void **state)
{
    (void)state;
    make_stream();
    struct cap_net *n = new_net(NULL);
    assert_int_equal(seg(n, ISN, NB_SYN, NULL, 0), 0);
    assert_int_equal(seg(n, ISN + 1, 0, stream, stream_len), 0);
    assert_all_messages(0);
    const struct cap_net_stats *st = cap_net_stats(n);
    assert_int_equal(st->messages_tcp, NMSGS);
    assert_int_equal(st->sip_junk_bytes, 17);
    assert_int_equal(st->tcp_active, 1);
    assert_int_equal(seg(n, ISN + 1 + (uint32_t)stream_len, NB_FIN, NULL, 0),
                     0);
    assert_int_equal(st->tcp_active, 0);
    assert_int_equal(st->tcp_closed, 1);
    cap_net_free(n);
}

static void
test_every_chunk_size_from_one_byte(void **state)
{
    (void)state;
    make_stream();
    for (size_t chunk = 1; chunk <= stream_len; chunk++) {
        struct cap_net *n = new_net(NULL);
        seg(n, ISN, NB_SYN, NULL, 0);
        uint32_t seq = ISN + 1;
        for (size_t off = 0; off < stream_len; off += chunk) {
            size_t l = stream_len - off < chunk ? stream_len - off : chunk;
            assert_int_equal(seg(n, seq, 0, stream + off, l), 0);
            seq += (uint32_t)l;
        }
        assert_all_messages(0);
        cap_net_free(n);
    }
}

static void
test_every_split_point_in_two_segments(void **state)
{
    (void)state;
    make_stream();
    for (size_t cut = 1; cut < stream_len; cut++) {
        struct cap_net *n = new_net(NULL);
        seg(n, ISN, NB_SYN, NULL, 0);
        seg(n, ISN + 1, 0, stream, cut);
        seg(n, ISN + 1 + (uint32_t)cut, 0, stream + cut, stream_len - cut);
        assert_all_messages(0);
        cap_net_free(n);
    }
}

static void
test_retransmissions_are_ignored(void **state)
{
    (void)state;
    make_stream();
    struct cap_net *n = new_net(NULL);
    seg(n, ISN, NB_SYN, NULL, 0);
    seg(n, ISN, NB_SYN, NULL, 0); /* SYN retransmitted */
    uint32_t s = ISN + 1;
    size_t a = 100, b = 300;
    seg(n, s, 0, stream, a);
    seg(n, s, 0, stream, a);                /* exact repeat */
    seg(n, s + 50, 0, stream + 50, b - 50); /* overlaps: new tail kept */
    seg(n, s, 0, stream, b);                /* old data again */
    seg(n, ISN, NB_SYN, NULL, 0); /* a late SYN does not start again */
    seg(n, s + (uint32_t)b, 0, stream + b, stream_len - b);
    seg(n, s + (uint32_t)b, 0, stream + b, stream_len - b);
    assert_all_messages(0);
    assert_int_equal(cap_net_stats(n)->tcp_retransmits, 3);
    cap_net_free(n);
}

static void
test_out_of_order_segments_are_held(void **state)
{
    (void)state;
    make_stream();
    struct cap_net *n = new_net(NULL);
    seg(n, ISN, NB_SYN, NULL, 0);
    uint32_t s = ISN + 1;
    /* four pieces, sent 3 1 2 0 */
    size_t cuts[5] = {0, 90, 200, 333, stream_len};
    static const int order[4] = {3, 1, 2, 0};
    for (int k = 0; k < 4; k++) {
        int i = order[k];
        seg(n, s + (uint32_t)cuts[i], 0, stream + cuts[i],
            cuts[i + 1] - cuts[i]);
        if (k < 3)
            assert_int_equal(sink.count, 0);
    }
    assert_all_messages(0);
    assert_int_equal(cap_net_stats(n)->tcp_out_of_order, 3);
    cap_net_free(n);
}

static void
test_a_gap_is_given_up_and_the_stream_resynchronises(void **state)
{
    (void)state;
    make_stream();
    struct cap_net_config cfg;
    cap_net_config_default(&cfg);
    cfg.max_stream_segments = 2;
    struct cap_net *n = new_net(&cfg);
    seg(n, ISN, NB_SYN, NULL, 0);
    uint32_t s = ISN + 1;
    /* lose the bytes 20..40 (inside the first message); then 1-byte
     * segments until the bound is reached */
    seg(n, s, 0, stream, 20);
    size_t off = 40;
    while (off < stream_len) {
        seg(n, s + (uint32_t)off, 0, stream + off, 1);
        off++;
    }
    const struct cap_net_stats *st = cap_net_stats(n);
    assert_int_equal(st->tcp_gaps, 20);
    /* the first message is lost, the others come through */
    assert_all_messages(1);
    cap_net_free(n);
}

/* A segment lost by the capture (never retransmitted on this wire), the
 * rest held, then FIN: the held messages are delivered (the gap counted),
 * each at the time its own bytes came, not dropped with the stream. */
static void
test_fin_delivers_what_was_held_at_its_own_time(void **state)
{
    (void)state;
    make_stream();
    struct cap_net *n = new_net(NULL);
    seg_at(n, 1000, ISN, NB_SYN, NULL, 0);
    uint32_t s = ISN + 1;
    size_t lost_from = msg_off[1], lost_to = msg_off[1] + strlen(MSGS[1]);
    seg_at(n, 1000, s, 0, stream, lost_from);
    seg_at(n, 1100, s + (uint32_t)lost_to, 0, stream + lost_to,
           stream_len - lost_to);
    assert_int_equal(sink.count, 1);
    seg_at(n, 1200, s + (uint32_t)stream_len, NB_FIN, NULL, 0);
    assert_int_equal(sink.count, NMSGS - 1);
    for (size_t i = 1; i < sink.count; i++) {
        assert_int_equal(sink.msgs[i].len, strlen(MSGS[i + 1]));
        assert_memory_equal(sink.msgs[i].data, MSGS[i + 1], sink.msgs[i].len);
        assert_int_equal(sink.msgs[i].meta.ts_sec, 1100);
    }
    assert_int_equal(cap_net_stats(n)->tcp_gaps, lost_to - lost_from);
    cap_net_free(n);
}

static void
test_joining_mid_stream_finds_the_next_start_line(void **state)
{
    (void)state;
    make_stream();
    struct cap_net *n = new_net(NULL);
    size_t from = msg_off[0] + 10; /* no SYN seen, inside message 0 */
    seg(n, 12345, 0, stream + from, stream_len - from);
    assert_all_messages(1);
    cap_net_free(n);
}

static void
test_a_new_connection_without_syn_is_picked_up(void **state)
{
    (void)state;
    make_stream();
    struct cap_net *n = new_net(NULL);
    seg(n, ISN, NB_SYN, NULL, 0);
    seg(n, ISN + 1, 0, stream, msg_off[1]); /* junk + message 0 */
    assert_int_equal(sink.count, 1);
    /* the same ports again, SYN and FIN missed, sequence numbers far away
     * both behind and ahead */
    seg(n, ISN - 0x40000000u, 0, stream + msg_off[1], msg_off[2] - msg_off[1]);
    assert_int_equal(sink.count, 2);
    seg(n, ISN + 0x50000000u, 0, stream + msg_off[2], stream_len - msg_off[2]);
    assert_int_equal(sink.count, NMSGS);
    assert_int_equal(cap_net_stats(n)->tcp_resyncs, 2);
    cap_net_free(n);
}

static void
test_stream_table_is_bounded(void **state)
{
    (void)state;
    struct cap_net_config cfg;
    cap_net_config_default(&cfg);
    cfg.max_streams = 8;
    cfg.stream_timeout_sec = 60;
    struct cap_net *n = new_net(&cfg);
    static const char part[] = "INVITE sip:a@b SIP/2.0\r\nCall-ID: x\r\n";
    for (unsigned i = 0; i < 20; i++) {
        nb_init(&frame);
        nb_append(&frame, part, sizeof part - 1);
        nb_tcp(&frame, 40000 + i, 5060, 1, NB_ACK);
        nb_ipv4(&frame, 0x7f000001, 0x7f000002, 6, 1, 0, 0);
        cap_net_frame(n, CAP_DLT_RAW, 1000 + i, 0, nb_data(&frame), frame.len);
    }
    const struct cap_net_stats *st = cap_net_stats(n);
    assert_int_equal(st->tcp_streams, 20);
    assert_int_equal(st->tcp_active, 8);
    assert_int_equal(st->tcp_active_max, 8);
    assert_int_equal(st->tcp_evicted, 12);
    cap_net_expire(n, 1000 + 15 + 61);
    assert_int_equal(st->tcp_active, 4);
    assert_int_equal(st->tcp_timeouts, 4);
    cap_net_expire(n, 5000);
    assert_int_equal(st->tcp_active, 0);
    cap_net_free(n);
}

static void
test_stream_memory_is_bounded(void **state)
{
    (void)state;
    struct cap_net_config cfg;
    cap_net_config_default(&cfg);
    cfg.max_stream_bytes = 16 * 1024;
    struct cap_net *n = new_net(&cfg);
    /* each stream holds an unfinished 4 KiB-ish message */
    static char part[4000];
    memset(part, 'x', sizeof part);
    memcpy(part, "INVITE sip:a@b SIP/2.0\r\nX: ", 27);
    for (unsigned i = 0; i < 10; i++) {
        nb_init(&frame);
        nb_append(&frame, part, sizeof part);
        nb_tcp(&frame, 40000 + i, 5060, 1, NB_ACK);
        nb_ipv4(&frame, 0x7f000001, 0x7f000002, 6, 1, 0, 0);
        cap_net_frame(n, CAP_DLT_RAW, 1000, 0, nb_data(&frame), frame.len);
    }
    const struct cap_net_stats *st = cap_net_stats(n);
    assert_true(st->tcp_evicted >= 6);
    assert_true(st->tcp_active <= 4);
    cap_net_free(n);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_framer_cuts_each_message),
        cmocka_unit_test(test_framer_start_lines),
        cmocka_unit_test(test_framer_bad_content_length_resynchronises),
        cmocka_unit_test(test_framer_refuses_oversize),
        cmocka_unit_test(test_several_messages_in_one_segment),
        cmocka_unit_test(test_every_chunk_size_from_one_byte),
        cmocka_unit_test(test_every_split_point_in_two_segments),
        cmocka_unit_test(test_retransmissions_are_ignored),
        cmocka_unit_test(test_out_of_order_segments_are_held),
        cmocka_unit_test(test_a_gap_is_given_up_and_the_stream_resynchronises),
        cmocka_unit_test(test_fin_delivers_what_was_held_at_its_own_time),
        cmocka_unit_test(test_joining_mid_stream_finds_the_next_start_line),
        cmocka_unit_test(test_a_new_connection_without_syn_is_picked_up),
        cmocka_unit_test(test_stream_table_is_bounded),
        cmocka_unit_test(test_stream_memory_is_bounded),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    nb_sink_reset(&sink);
    return rc;
}

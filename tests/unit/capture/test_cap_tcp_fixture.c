/*
 * The SIPp TCP fixture (tests/fixtures/pcap/sipp_tcp.pcap), re-segmented:
 * each direction's byte stream is fed to the packet path again in every
 * segment size from 1 byte up, and must give the same messages as the
 * recorded segmentation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>
#include <pcap/pcap.h>

#include "cdr/capture/net/cap_net.h"
#include "net_build.h"

#define MAX_DIRS 8

/* One direction of a connection as recorded: addresses and its bytes. */
struct dir {
    uint32_t src, dst;
    uint16_t sport, dport;
    uint32_t isn;
    uint8_t data[16384];
    size_t len;
};

static struct dir dirs[MAX_DIRS];
static size_t ndirs;
static struct nb_sink sink;
static struct nb frame;

static uint32_t
rd32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
           ((uint32_t)p[2] << 8) | p[3];
}

static struct dir *
dir_of(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport)
{
    for (size_t i = 0; i < ndirs; i++)
        if (dirs[i].src == src && dirs[i].dst == dst &&
            dirs[i].sport == sport && dirs[i].dport == dport)
            return &dirs[i];
    assert_true(ndirs < MAX_DIRS);
    struct dir *d = &dirs[ndirs++];
    d->src = src;
    d->dst = dst;
    d->sport = sport;
    d->dport = dport;
    d->len = 0;
    return d;
}

/* Read the fixture: every TCP payload appended to its direction (the
 * recording has no loss or retransmission). */
static int
load(void **state)
{
    (void)state;
    const char *root = getenv("REFEREE_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/fixtures/pcap/sipp_tcp.pcap",
             root ? root : ".");
    char eb[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline(path, eb);
    if (p == NULL) {
        fprintf(stderr, "%s\n", eb);
        return -1;
    }
    struct pcap_pkthdr *h;
    const u_char *b;
    ndirs = 0;
    while (pcap_next_ex(p, &h, &b) == 1) {
        const uint8_t *ip = b + 14;
        if (h->caplen < 14 + 40 || ip[9] != 6)
            continue;
        size_t ihl = (size_t)(ip[0] & 15) * 4;
        size_t tot = (size_t)((ip[2] << 8) | ip[3]);
        const uint8_t *t = ip + ihl;
        size_t off = (size_t)(t[12] >> 4) * 4;
        struct dir *d =
            dir_of(rd32(ip + 12), rd32(ip + 16), (uint16_t)((t[0] << 8) | t[1]),
                   (uint16_t)((t[2] << 8) | t[3]));
        if (t[13] & 0x02)
            d->isn = rd32(t + 4);
        size_t n = tot - ihl - off;
        if (n == 0)
            continue;
        if (d->len + n > sizeof d->data)
            return -1;
        memcpy(d->data + d->len, t + off, n);
        d->len += n;
    }
    pcap_close(p);
    return ndirs > 0 ? 0 : -1;
}

static int
seg(struct cap_net *n, const struct dir *d, uint32_t seq, unsigned flags,
    const uint8_t *p, size_t len)
{
    nb_init(&frame);
    nb_append(&frame, p, len);
    nb_tcp(&frame, d->sport, d->dport, seq, flags | NB_ACK);
    nb_ipv4(&frame, d->src, d->dst, 6, 1, 0, 0);
    nb_eth(&frame, 0x0800);
    return cap_net_frame(n, CAP_DLT_EN10MB, 1, 0, nb_data(&frame), frame.len);
}

/* Feed every direction in segments of size chunk; returns messages seen. */
static size_t
replay(size_t chunk, char *firsts, size_t cap)
{
    nb_sink_reset(&sink);
    struct cap_net *n = cap_net_new(NULL, nb_collect, &sink);
    assert_non_null(n);
    for (size_t i = 0; i < ndirs; i++) {
        const struct dir *d = &dirs[i];
        seg(n, d, d->isn, NB_SYN, NULL, 0);
        uint32_t s = d->isn + 1;
        for (size_t off = 0; off < d->len; off += chunk) {
            size_t l = d->len - off < chunk ? d->len - off : chunk;
            assert_int_equal(seg(n, d, s, 0, d->data + off, l), 0);
            s += (uint32_t)l;
        }
        seg(n, d, s, NB_FIN, NULL, 0);
    }
    size_t used = 0;
    firsts[0] = 0;
    for (size_t i = 0; i < sink.count && i < 256; i++) {
        int w = snprintf(firsts + used, cap - used, "%zu:%.20s|",
                         sink.msgs[i].len, (const char *)sink.msgs[i].data);
        if (w > 0 && (size_t)w < cap - used)
            used += (size_t)w;
    }
    size_t count = sink.count;
    assert_int_equal(cap_net_stats(n)->sip_junk_bytes, 0);
    cap_net_free(n);
    return count;
}

static void
test_fixture_stream_in_every_segment_size(void **state)
{
    (void)state;
    static char want[16384], got[16384];
    size_t longest = 0;
    for (size_t i = 0; i < ndirs; i++)
        if (dirs[i].len > longest)
            longest = dirs[i].len;
    size_t n = replay(longest, want, sizeof want);
    assert_int_equal(n, 18); /* the SIPp flow: 18 messages */
    for (size_t chunk = 1; chunk <= longest; chunk++) {
        assert_int_equal(replay(chunk, got, sizeof got), n);
        assert_string_equal(got, want);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixture_stream_in_every_segment_size),
    };
    int rc = cmocka_run_group_tests(tests, load, NULL);
    nb_sink_reset(&sink);
    return rc;
}

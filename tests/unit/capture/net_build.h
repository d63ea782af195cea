/*
 * Test helpers: build frames (link layer, IPv4/IPv6, UDP/TCP) in memory, and
 * a message collector for cap_message_fn.  Header-only, static functions.
 */
#ifndef REFEREE_TEST_NET_BUILD_H
#define REFEREE_TEST_NET_BUILD_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cdr/capture/source/cap_packet.h"

#define NB_HEADROOM 512
#define NB_MAX (NB_HEADROOM + 70000)

/* A frame under construction: data grows at both ends. */
struct nb {
    uint8_t buf[NB_MAX];
    size_t off, len; /* frame is buf[off, off+len) */
};

static inline void
nb_init(struct nb *b)
{
    b->off = NB_HEADROOM;
    b->len = 0;
}

static inline uint8_t *
nb_data(struct nb *b)
{
    return b->buf + b->off;
}

static inline void
nb_append(struct nb *b, const void *p, size_t n)
{
    if (n)
        memcpy(b->buf + b->off + b->len, p, n);
    b->len += n;
}

static inline uint8_t *
nb_prepend(struct nb *b, size_t n)
{
    b->off -= n;
    b->len += n;
    memset(b->buf + b->off, 0, n);
    return b->buf + b->off;
}

static inline void
nb_w16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void
nb_w32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* UDP header in front of the current data. */
static inline void
nb_udp(struct nb *b, unsigned sport, unsigned dport)
{
    size_t l = b->len + 8;
    uint8_t *h = nb_prepend(b, 8);
    nb_w16(h, sport);
    nb_w16(h + 2, dport);
    nb_w16(h + 4, (unsigned)l);
}

#define NB_FIN 0x01
#define NB_SYN 0x02
#define NB_RST 0x04
#define NB_ACK 0x10

static inline void
nb_tcp(struct nb *b, unsigned sport, unsigned dport, uint32_t seq,
       unsigned flags)
{
    uint8_t *h = nb_prepend(b, 20);
    nb_w16(h, sport);
    nb_w16(h + 2, dport);
    nb_w32(h + 4, seq);
    h[12] = 5 << 4;
    h[13] = (uint8_t)flags;
    nb_w16(h + 14, 65535);
}

/* IPv4 header; ip addresses as 0xAABBCCDD; frag: offset in bytes | MF. */
static inline void
nb_ipv4(struct nb *b, uint32_t src, uint32_t dst, unsigned proto, unsigned id,
        unsigned frag_off, int more)
{
    size_t l = b->len + 20;
    uint8_t *h = nb_prepend(b, 20);
    h[0] = 0x45;
    nb_w16(h + 2, (unsigned)l);
    nb_w16(h + 4, id);
    nb_w16(h + 6, (frag_off / 8) | (more ? 0x2000u : 0u));
    h[8] = 64;
    h[9] = (uint8_t)proto;
    nb_w32(h + 12, src);
    nb_w32(h + 16, dst);
}

/* IPv6 header; addresses ::1-style with the last byte given (fd00::x). */
static inline void
nb_ipv6(struct nb *b, unsigned src_last, unsigned dst_last, unsigned nh)
{
    size_t l = b->len;
    uint8_t *h = nb_prepend(b, 40);
    h[0] = 0x60;
    nb_w16(h + 4, (unsigned)l);
    h[6] = (uint8_t)nh;
    h[7] = 64;
    h[8] = 0xfd;
    h[23] = (uint8_t)src_last;
    h[24] = 0xfd;
    h[39] = (uint8_t)dst_last;
}

/* IPv6 fragment extension header. */
static inline void
nb_ipv6_frag(struct nb *b, unsigned nh, unsigned off, int more, uint32_t id)
{
    uint8_t *h = nb_prepend(b, 8);
    h[0] = (uint8_t)nh;
    nb_w16(h + 2, (off & 0xfff8u) | (more ? 1u : 0u));
    nb_w32(h + 4, id);
}

/* Generic 8-byte extension header (hop-by-hop, destination options). */
static inline void
nb_ipv6_ext(struct nb *b, unsigned nh)
{
    uint8_t *h = nb_prepend(b, 8);
    h[0] = (uint8_t)nh;
    h[1] = 0;
    h[2] = 1; /* PadN */
    h[3] = 4;
}

static inline void
nb_eth(struct nb *b, unsigned type)
{
    uint8_t *h = nb_prepend(b, 14);
    h[0] = 0x02;
    h[6] = 0x02;
    h[11] = 1;
    nb_w16(h + 12, type);
}

/* A VLAN tag of tpid in front: call after building the inner ethertype
 * layer by passing that type; the Ethernet header is added afterwards with
 * nb_eth(b, tpid). */
static inline void
nb_vlan(struct nb *b, unsigned vid, unsigned inner_type)
{
    uint8_t *h = nb_prepend(b, 4);
    nb_w16(h, vid);
    nb_w16(h + 2, inner_type);
}

static inline unsigned
nb_ethertype_of(const struct nb *b)
{
    return (b->buf[b->off] >> 4) == 6 ? 0x86ddu : 0x0800u;
}

/* ---------------------------------------------------------- collector */

struct nb_msg {
    struct cap_meta meta;
    size_t len;
    uint8_t *data;
};

struct nb_sink {
    struct nb_msg msgs[256];
    size_t count;
    int stop_after; /* return -1 after this many, 0: never */
};

static inline int
nb_collect(void *ctx, const struct cap_meta *meta, const uint8_t *data,
           size_t len)
{
    struct nb_sink *s = ctx;
    if (s->count < 256) {
        struct nb_msg *m = &s->msgs[s->count];
        m->meta = *meta;
        m->len = len;
        m->data = malloc(len + 1);
        memcpy(m->data, data, len);
        m->data[len] = 0;
    }
    s->count++;
    if (s->stop_after && s->count >= (size_t)s->stop_after)
        return -1;
    return 0;
}

static inline void
nb_sink_reset(struct nb_sink *s)
{
    for (size_t i = 0; i < s->count && i < 256; i++)
        free(s->msgs[i].data);
    memset(s, 0, sizeof *s);
}

#endif

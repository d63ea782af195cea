/*
 * Test helper: encode HEP3 packets.  Header-only, static inline functions.
 */
#ifndef REFEREE_TEST_HEP_BUILD_H
#define REFEREE_TEST_HEP_BUILD_H

#include <stdint.h>
#include <string.h>

struct hb {
    uint8_t b[70000];
    size_t n;
};

static inline void
hb_start(struct hb *h)
{
    memcpy(h->b, "HEP3\0\0", 6);
    h->n = 6;
}

static inline void
hb_chunk(struct hb *h, unsigned vendor, unsigned type, const void *v,
         size_t len)
{
    uint8_t *c = h->b + h->n;
    c[0] = (uint8_t)(vendor >> 8);
    c[1] = (uint8_t)vendor;
    c[2] = (uint8_t)(type >> 8);
    c[3] = (uint8_t)type;
    c[4] = (uint8_t)((len + 6) >> 8);
    c[5] = (uint8_t)(len + 6);
    if (len)
        memcpy(c + 6, v, len);
    h->n += 6 + len;
}

static inline void
hb_u8(struct hb *h, unsigned type, unsigned v)
{
    uint8_t x = (uint8_t)v;
    hb_chunk(h, 0, type, &x, 1);
}

static inline void
hb_u16(struct hb *h, unsigned type, unsigned v)
{
    uint8_t x[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    hb_chunk(h, 0, type, x, 2);
}

static inline void
hb_u32(struct hb *h, unsigned type, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8),
                    (uint8_t)v};
    hb_chunk(h, 0, type, x, 4);
}

static inline void
hb_end(struct hb *h)
{
    h->b[4] = (uint8_t)(h->n >> 8);
    h->b[5] = (uint8_t)h->n;
}

/* A whole IPv4 SIP packet the way Kamailio / heplify send it. */
static inline void
hb_sip4(struct hb *h, uint32_t src, uint32_t dst, unsigned sport,
        unsigned dport, unsigned ipproto, uint32_t sec, uint32_t usec,
        const void *payload, size_t len)
{
    hb_start(h);
    hb_u8(h, 1, 2);
    hb_u8(h, 2, ipproto);
    hb_u32(h, 3, src);
    hb_u32(h, 4, dst);
    hb_u16(h, 7, sport);
    hb_u16(h, 8, dport);
    hb_u32(h, 9, sec);
    hb_u32(h, 10, usec);
    hb_u8(h, 11, 1);
    hb_u32(h, 12, 2001);
    hb_chunk(h, 0, 0x0f, payload, len);
    hb_end(h);
}

#endif

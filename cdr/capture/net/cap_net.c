/*
 * Link layers, IPv4/IPv6, IP-in-IP, fragment reassembly and UDP.  TCP goes to
 * cap_tcp.c.  See cap_net.h.
 *
 * Every parser here takes (p, end) and checks the length before each read;
 * a frame that is too short for what its headers announce is counted as
 * truncated and dropped.
 */
#include "cdr/capture/net/cap_net.h"

#include "cdr/capture/net/cap_bytes.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cdr/capture/net/cap_tcp.h"

#define IP_MAX_DATAGRAM 65535u
#define FRAG_UNITS (IP_MAX_DATAGRAM / 8u + 1u)

struct frag {
    int used;
    int family;
    uint8_t src[16], dst[16];
    uint32_t id;
    uint8_t proto;
    int64_t first_sec;
    uint32_t parts;
    int32_t total; /* payload length once the last fragment is in, else -1 */
    size_t cap;
    uint8_t *buf;
    uint8_t have[FRAG_UNITS / 8 + 1]; /* one bit per 8 bytes received */
};

struct cap_net {
    struct cap_net_config cfg;
    struct cap_net_stats st;
    cap_message_fn fn;
    void *ctx;
    struct cap_tcp *tcp;
    struct frag *frags; /* cfg.max_fragments slots */
    uint32_t nfrags;
    uint8_t *done; /* last reassembled datagram, freed on the next */
};

void
cap_net_config_default(struct cap_net_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->max_message = 64 * 1024;
    cfg->max_streams = 4096;
    cfg->max_stream_pending = 256 * 1024;
    cfg->max_stream_segments = 64;
    cfg->stream_timeout_sec = 300;
    cfg->max_stream_bytes = 32 * 1024 * 1024;
    cfg->max_fragments = 256;
    cfg->max_fragment_parts = 64;
    cfg->fragment_timeout_sec = 30;
    cfg->max_encap = 8;
}

struct cap_net *
cap_net_new(const struct cap_net_config *cfg, cap_message_fn fn, void *ctx)
{
    struct cap_net *n = calloc(1, sizeof *n);
    if (n == NULL)
        return NULL;
    if (cfg)
        n->cfg = *cfg;
    else
        cap_net_config_default(&n->cfg);
    if (n->cfg.max_message == 0)
        n->cfg.max_message = 64 * 1024;
    if (n->cfg.max_streams == 0)
        n->cfg.max_streams = 1;
    if (n->cfg.max_fragments == 0)
        n->cfg.max_fragments = 1;
    n->fn = fn;
    n->ctx = ctx;
    n->frags = calloc(n->cfg.max_fragments, sizeof *n->frags);
    n->tcp = cap_tcp_new(&n->cfg, &n->st, fn, ctx);
    if (n->frags == NULL || n->tcp == NULL) {
        cap_net_free(n);
        return NULL;
    }
    return n;
}

static void
frag_drop(struct cap_net *n, struct frag *f)
{
    free(f->buf);
    f->buf = NULL;
    f->cap = 0;
    f->used = 0;
    n->nfrags--;
    n->st.frag_inflight = n->nfrags;
}

void
cap_net_flush(struct cap_net *n)
{
    for (uint32_t i = 0; i < n->cfg.max_fragments; i++)
        if (n->frags[i].used)
            frag_drop(n, &n->frags[i]);
    free(n->done);
    n->done = NULL;
    cap_tcp_flush(n->tcp);
}

void
cap_net_free(struct cap_net *n)
{
    if (n == NULL)
        return;
    if (n->frags && n->tcp)
        cap_net_flush(n);
    if (n->frags)
        for (uint32_t i = 0; i < n->cfg.max_fragments; i++)
            free(n->frags[i].buf);
    free(n->frags);
    free(n->done);
    cap_tcp_free(n->tcp);
    free(n);
}

void
cap_net_expire(struct cap_net *n, int64_t now_sec)
{
    for (uint32_t i = 0; i < n->cfg.max_fragments && n->nfrags; i++) {
        struct frag *f = &n->frags[i];
        if (f->used &&
            f->first_sec + (int64_t)n->cfg.fragment_timeout_sec < now_sec) {
            n->st.frag_timeouts++;
            frag_drop(n, f);
        }
    }
    cap_tcp_expire(n->tcp, now_sec);
}

const struct cap_net_stats *
cap_net_stats(const struct cap_net *n)
{
    return &n->st;
}

int
cap_net_dlt_supported(int dlt)
{
    switch (dlt) {
    case CAP_DLT_NULL:
    case CAP_DLT_EN10MB:
    case CAP_DLT_RAW:
    case CAP_DLT_RAW_BSD:
    case CAP_DLT_RAW_LT:
    case CAP_DLT_LOOP:
    case CAP_DLT_LINUX_SLL:
    case CAP_DLT_IPV4:
    case CAP_DLT_IPV6:
    case CAP_DLT_LINUX_SLL2: return 1;
    default: return 0;
    }
}

/* ------------------------------------------------------------ transport */

static int
is_keepalive(const uint8_t *p, const uint8_t *end)
{
    for (; p < end; p++)
        if (*p != '\r' && *p != '\n')
            return 0;
    return 1;
}

static int
transport(struct cap_net *n, struct cap_meta *m, uint8_t proto,
          const uint8_t *p, const uint8_t *end, int complete)
{
    if (proto == 17) {
        if (end - p < 8) {
            n->st.truncated++;
            return 0;
        }
        n->st.udp++;
        uint16_t ulen = cap_be16(p + 4);
        m->src.port = cap_be16(p);
        m->dst.port = cap_be16(p + 2);
        m->transport = CAP_TRANSPORT_UDP;
        const uint8_t *pl = p + 8;
        if (ulen >= 8) {
            if ((size_t)ulen > (size_t)(end - p)) {
                n->st.truncated++;
                return 0;
            }
            end = p + ulen;
        } else if (ulen != 0 || !complete) {
            /* 0 is allowed for IPv6 jumbograms only; trust the IP length */
            n->st.malformed++;
            return 0;
        }
        if (pl == end) {
            n->st.udp_empty++;
            return 0;
        }
        if (is_keepalive(pl, end)) {
            n->st.udp_keepalives++;
            return 0;
        }
        n->st.messages++;
        n->st.messages_udp++;
        return n->fn(n->ctx, m, pl, (size_t)(end - pl));
    }
    if (proto == 6) {
        if (end - p < 20) {
            n->st.truncated++;
            return 0;
        }
        size_t off = (size_t)(p[12] >> 4) * 4;
        if (off < 20) {
            n->st.malformed++;
            return 0;
        }
        if (off > (size_t)(end - p)) {
            n->st.truncated++;
            return 0;
        }
        n->st.tcp++;
        m->src.port = cap_be16(p);
        m->dst.port = cap_be16(p + 2);
        m->transport = CAP_TRANSPORT_TCP;
        if (!complete) {
            /* payload cut by the snaplen: the stream would have a hole */
            n->st.truncated++;
            return 0;
        }
        unsigned flags = 0;
        if (p[13] & 0x01)
            flags |= CAP_TCP_FIN;
        if (p[13] & 0x02)
            flags |= CAP_TCP_SYN;
        if (p[13] & 0x04)
            flags |= CAP_TCP_RST;
        return cap_tcp_segment(n->tcp, m, cap_be32(p + 4), flags, p + off,
                               (size_t)(end - p - (ptrdiff_t)off));
    }
    n->st.not_udp_tcp++;
    return 0;
}

/* ------------------------------------------------------------ fragments */

static struct frag *
frag_find(struct cap_net *n, int family, const uint8_t *src, const uint8_t *dst,
          uint32_t id, uint8_t proto, int64_t now)
{
    size_t al = family == AF_INET6 ? 16 : 4;
    struct frag *free_slot = NULL, *oldest = NULL;
    for (uint32_t i = 0; i < n->cfg.max_fragments; i++) {
        struct frag *f = &n->frags[i];
        if (!f->used) {
            if (free_slot == NULL)
                free_slot = f;
            continue;
        }
        if (f->family == family && f->id == id && f->proto == proto &&
            memcmp(f->src, src, al) == 0 && memcmp(f->dst, dst, al) == 0)
            return f;
        if (oldest == NULL || f->first_sec < oldest->first_sec)
            oldest = f;
    }
    if (free_slot == NULL) {
        n->st.frag_evicted++;
        frag_drop(n, oldest);
        free_slot = oldest;
    }
    struct frag *f = free_slot;
    memset(f, 0, sizeof *f);
    f->used = 1;
    f->family = family;
    memcpy(f->src, src, al);
    memcpy(f->dst, dst, al);
    f->id = id;
    f->proto = proto;
    f->first_sec = now;
    f->total = -1;
    n->nfrags++;
    n->st.frag_inflight = n->nfrags;
    if (n->nfrags > n->st.frag_inflight_max)
        n->st.frag_inflight_max = n->nfrags;
    return f;
}

/*
 * Add a fragment: payload bytes [p, end) at byte offset off.  Returns 1 and
 * the whole payload in *out / *outlen when the datagram is complete (valid
 * until the next call), else 0.
 */
static int
frag_add(struct cap_net *n, struct cap_meta *m, uint32_t id, uint8_t proto,
         uint32_t off, int more, const uint8_t *p, const uint8_t *end,
         const uint8_t **out, size_t *outlen)
{
    size_t len = (size_t)(end - p);
    n->st.frag_fragments++;
    if ((more && (len == 0 || len % 8 != 0)) ||
        (size_t)off + len > IP_MAX_DATAGRAM) {
        n->st.frag_invalid++;
        return 0;
    }
    struct frag *f =
        frag_find(n, m->src.family, m->src.ip, m->dst.ip, id, proto, m->ts_sec);
    if (++f->parts > n->cfg.max_fragment_parts) {
        n->st.frag_invalid++;
        frag_drop(n, f);
        return 0;
    }
    size_t last = (size_t)off + len;
    if (!more) {
        if (f->total >= 0 && (size_t)f->total != last) {
            n->st.frag_invalid++;
            frag_drop(n, f);
            return 0;
        }
        f->total = (int32_t)last;
    }
    if (f->total >= 0 && last > (size_t)f->total) {
        n->st.frag_invalid++;
        frag_drop(n, f);
        return 0;
    }
    if (last > f->cap) {
        size_t nc = f->cap ? f->cap : 2048;
        while (nc < last)
            nc *= 2;
        if (nc > IP_MAX_DATAGRAM)
            nc = IP_MAX_DATAGRAM;
        uint8_t *nb = realloc(f->buf, nc);
        if (nb == NULL) {
            frag_drop(n, f);
            return 0;
        }
        f->buf = nb;
        f->cap = nc;
    }
    if (len)
        memcpy(f->buf + off, p, len);
    int overlap = 0;
    for (size_t u = off / 8; u < (last + 7) / 8; u++) {
        uint8_t bit = (uint8_t)(1u << (u % 8));
        if (f->have[u / 8] & bit)
            overlap = 1;
        f->have[u / 8] |= bit;
    }
    if (overlap)
        n->st.frag_overlaps++;
    if (f->total < 0)
        return 0;
    for (size_t u = 0; u < ((size_t)f->total + 7) / 8; u++)
        if (!(f->have[u / 8] & (1u << (u % 8))))
            return 0;
    /* complete: keep the buffer until the next call */
    free(n->done);
    n->done = f->buf;
    f->buf = NULL;
    *out = n->done;
    *outlen = (size_t)f->total;
    n->st.frag_reassembled++;
    frag_drop(n, f);
    return 1;
}

/* ---------------------------------------------------------------- IP */

static int ip_packet(struct cap_net *n, struct cap_meta *m, const uint8_t *p,
                     const uint8_t *end, unsigned depth);

static int
ip_payload(struct cap_net *n, struct cap_meta *m, uint8_t proto,
           const uint8_t *p, const uint8_t *end, int complete, unsigned depth)
{
    if (proto == 4 || proto == 41) {
        if (depth >= n->cfg.max_encap) {
            n->st.encap_too_deep++;
            return 0;
        }
        return ip_packet(n, m, p, end, depth + 1);
    }
    return transport(n, m, proto, p, end, complete);
}

static int
ipv4(struct cap_net *n, struct cap_meta *m, const uint8_t *p,
     const uint8_t *end, unsigned depth)
{
    if (end - p < 20) {
        n->st.truncated++;
        return 0;
    }
    size_t ihl = (size_t)(p[0] & 0x0f) * 4;
    size_t total = cap_be16(p + 2);
    if (ihl < 20 || total < ihl) {
        n->st.malformed++;
        return 0;
    }
    if (ihl > (size_t)(end - p)) {
        n->st.truncated++;
        return 0;
    }
    n->st.ipv4++;
    int complete = 1;
    if (total <= (size_t)(end - p))
        end = p + total; /* drop Ethernet padding */
    else
        complete = 0;
    m->src.family = m->dst.family = AF_INET;
    memset(m->src.ip, 0, sizeof m->src.ip);
    memset(m->dst.ip, 0, sizeof m->dst.ip);
    memcpy(m->src.ip, p + 12, 4);
    memcpy(m->dst.ip, p + 16, 4);
    uint16_t fo = cap_be16(p + 6);
    int more = (fo & 0x2000) != 0;
    uint32_t off = (uint32_t)(fo & 0x1fff) * 8;
    uint8_t proto = p[9];
    const uint8_t *pl = p + ihl;
    if (more || off) {
        if (!complete) {
            n->st.truncated++;
            return 0;
        }
        const uint8_t *whole;
        size_t wlen;
        if (!frag_add(n, m, cap_be16(p + 4), proto, off, more, pl, end, &whole,
                      &wlen))
            return 0;
        return ip_payload(n, m, proto, whole, whole + wlen, 1, depth);
    }
    return ip_payload(n, m, proto, pl, end, complete, depth);
}

/*
 * An IPv6 fragment header at *q: an atomic fragment goes on with its next
 * header; the last missing fragment gives the whole fragmentable part,
 * which may start with more extension headers (*q, *end point into it).
 * 0 to go on with *nh, -1 when there is nothing (yet) to go on with.
 */
static int
ipv6_fragment(struct cap_net *n, struct cap_meta *m, int complete, uint8_t *nh,
              const uint8_t **q, const uint8_t **end)
{
    if (*end - *q < 8 || !complete) {
        n->st.truncated++;
        return -1;
    }
    const uint8_t *f = *q;
    uint8_t fnh = f[0];
    uint16_t fo = cap_be16(f + 2);
    uint32_t off = (uint32_t)(fo & 0xfff8);
    int more = fo & 1;
    uint32_t id = cap_be32(f + 4);
    *q = f + 8;
    *nh = fnh;
    if (!more && off == 0) /* atomic fragment (RFC 6946) */
        return 0;
    const uint8_t *whole;
    size_t wlen;
    if (!frag_add(n, m, id, fnh, off, more, *q, *end, &whole, &wlen))
        return -1;
    *q = whole;
    *end = whole + wlen;
    return 0;
}

static int
ipv6(struct cap_net *n, struct cap_meta *m, const uint8_t *p,
     const uint8_t *end, unsigned depth)
{
    if (end - p < 40) {
        n->st.truncated++;
        return 0;
    }
    n->st.ipv6++;
    size_t plen = cap_be16(p + 4);
    int complete = 1;
    if (plen == 0) {
        /* jumbogram (RFC 2675) or nothing: take what was captured */
    } else if (40 + plen <= (size_t)(end - p)) {
        end = p + 40 + plen;
    } else {
        complete = 0;
    }
    m->src.family = m->dst.family = AF_INET6;
    memcpy(m->src.ip, p + 8, 16);
    memcpy(m->dst.ip, p + 24, 16);
    uint8_t nh = p[6];
    const uint8_t *q = p + 40;
    for (unsigned hops = 0;; hops++) {
        if (hops > 16) {
            n->st.malformed++;
            return 0;
        }
        switch (nh) {
        case 0:   /* hop-by-hop */
        case 43:  /* routing */
        case 60:  /* destination options */
        case 135: /* mobility */
        case 139: /* HIP */
        case 140: /* shim6 */
        case 51:  /* AH */
        {
            if (end - q < 8) {
                n->st.truncated++;
                return 0;
            }
            /* 8-byte units after the first 8; AH: 4-byte units, minus 2 */
            size_t hl =
                nh == 51 ? ((size_t)q[1] + 2) * 4 : ((size_t)q[1] + 1) * 8;
            if (hl > (size_t)(end - q)) {
                n->st.truncated++;
                return 0;
            }
            nh = q[0];
            q += hl;
            continue;
        }
        case 44: /* fragment */
            if (ipv6_fragment(n, m, complete, &nh, &q, &end) != 0)
                return 0;
            continue;
        case 59: /* no next header */ return 0;
        case 50: /* ESP: encrypted */ n->st.not_udp_tcp++; return 0;
        default: return ip_payload(n, m, nh, q, end, complete, depth);
        }
    }
}

static int
ip_packet(struct cap_net *n, struct cap_meta *m, const uint8_t *p,
          const uint8_t *end, unsigned depth)
{
    if (p >= end) {
        n->st.truncated++;
        return 0;
    }
    switch (p[0] >> 4) {
    case 4: return ipv4(n, m, p, end, depth);
    case 6: return ipv6(n, m, p, end, depth);
    default: n->st.unsupported_link++; return 0;
    }
}

/* ---------------------------------------------------------- link layers */

static int
ethertype(struct cap_net *n, struct cap_meta *m, uint16_t type,
          const uint8_t *p, const uint8_t *end)
{
    unsigned tags = 0;
    while (type == 0x8100 || type == 0x88a8 || type == 0x9100) {
        if (++tags > n->cfg.max_encap) {
            n->st.encap_too_deep++;
            return 0;
        }
        if (end - p < 4) {
            n->st.truncated++;
            return 0;
        }
        type = cap_be16(p + 2);
        p += 4;
    }
    if (type == 0x0800 || type == 0x86dd)
        return ip_packet(n, m, p, end, 0);
    n->st.unsupported_link++;
    return 0;
}

int
cap_net_frame(struct cap_net *n, int dlt, int64_t ts_sec, int32_t ts_usec,
              const uint8_t *p, size_t caplen)
{
    const uint8_t *end = p + caplen;
    struct cap_meta m;
    memset(&m, 0, sizeof m);
    m.ts_sec = ts_sec;
    m.ts_usec = ts_usec;
    n->st.frames++;
    n->st.bytes += caplen;
    switch (dlt) {
    case CAP_DLT_EN10MB:
        if (caplen < 14) {
            n->st.truncated++;
            return 0;
        }
        return ethertype(n, &m, cap_be16(p + 12), p + 14, end);
    case CAP_DLT_LINUX_SLL:
        if (caplen < 16) {
            n->st.truncated++;
            return 0;
        }
        return ethertype(n, &m, cap_be16(p + 14), p + 16, end);
    case CAP_DLT_LINUX_SLL2:
        if (caplen < 20) {
            n->st.truncated++;
            return 0;
        }
        return ethertype(n, &m, cap_be16(p), p + 20, end);
    case CAP_DLT_RAW:
    case CAP_DLT_RAW_BSD:
    case CAP_DLT_RAW_LT:
    case CAP_DLT_IPV4:
    case CAP_DLT_IPV6: return ip_packet(n, &m, p, end, 0);
    case CAP_DLT_NULL:
    case CAP_DLT_LOOP: {
        if (caplen < 4) {
            n->st.truncated++;
            return 0;
        }
        /* DLT_NULL: host byte order of the capturing machine, either way;
         * DLT_LOOP: network order.  AF_INET is 2 everywhere, AF_INET6 is
         * 10 (Linux), 24 (NetBSD/OpenBSD), 28 (FreeBSD), 30 (macOS). */
        uint32_t be = cap_be32(p);
        uint32_t le = ((uint32_t)p[3] << 24) | ((uint32_t)p[2] << 16) |
                      ((uint32_t)p[1] << 8) | p[0];
        uint32_t fam = be < 256 ? be : le;
        if (fam == 2 || fam == 10 || fam == 24 || fam == 28 || fam == 30)
            return ip_packet(n, &m, p + 4, end, 0);
        n->st.unsupported_link++;
        return 0;
    }
    default: n->st.unsupported_link++; return 0;
    }
}

/*
 * HEPv3 decoder and UDP listener.  See cap_source_hep.h.
 */
#include "cdr/capture/source/cap_source_hep.h"
#include "cdr/capture/net/cap_tcp.h"

#include "cdr/capture/net/cap_bytes.h"

#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define ZLIB_CONST /* next_in is const */
#include <zlib.h>

const char *
cap_hep_strerror(int code)
{
    switch (code) {
    case CAP_HEP_OK: return "ok";
    case CAP_HEP_E_NOT_HEP: return "not a HEP3 packet";
    case CAP_HEP_E_TRUNCATED: return "truncated HEP3 packet";
    case CAP_HEP_E_LENGTH: return "invalid HEP3 length";
    case CAP_HEP_E_MISSING: return "HEP3 packet without payload or addresses";
    case CAP_HEP_E_FAMILY: return "invalid HEP3 address family";
    default: return "unknown HEP3 error";
    }
}

/* The address chunks, kept until the family chunk (which may come after
 * them) says which pair to use. */
struct hep_addrs {
    int family;
    int have4s, have4d, have6s, have6d;
    uint8_t s4[4], d4[4], s6[16], d6[16];
};

/* Chunks 0x0003 to 0x0006: the IPv4 and IPv6 source and destination. */
static int
hep_address_chunk(uint16_t type, const uint8_t *v, size_t vlen,
                  struct hep_addrs *a)
{
    if (type == 0x0003 || type == 0x0004) {
        if (vlen != 4)
            return CAP_HEP_E_LENGTH;
        memcpy(type == 3 ? a->s4 : a->d4, v, 4);
        *(type == 3 ? &a->have4s : &a->have4d) = 1;
        return CAP_HEP_OK;
    }
    if (vlen != 16)
        return CAP_HEP_E_LENGTH;
    memcpy(type == 5 ? a->s6 : a->d6, v, 16);
    *(type == 5 ? &a->have6s : &a->have6d) = 1;
    return CAP_HEP_OK;
}

/* Chunk 0x000a: microseconds, which must be under a second. */
static int
hep_usec_chunk(const uint8_t *v, size_t vlen, struct cap_hep_packet *out)
{
    if (vlen != 4)
        return CAP_HEP_E_LENGTH;
    uint32_t us = cap_be32(v);
    if (us > 999999)
        return CAP_HEP_E_LENGTH;
    out->meta.ts_usec = (int32_t)us;
    return CAP_HEP_OK;
}

/* Chunk 0x000c: the capture agent's id, sent in 4 bytes or in 2. */
static int
hep_capture_id_chunk(const uint8_t *v, size_t vlen, struct cap_hep_packet *out)
{
    if (vlen == 4)
        out->capture_id = cap_be32(v);
    else if (vlen == 2)
        out->capture_id = cap_be16(v);
    else
        return CAP_HEP_E_LENGTH;
    return CAP_HEP_OK;
}

/* One generic (vendor 0) chunk; types not listed are skipped. */
static int
hep_chunk(uint16_t type, const uint8_t *v, size_t vlen,
          struct cap_hep_packet *out, struct hep_addrs *a)
{
    switch (type) {
    case 0x0001:
        if (vlen != 1)
            return CAP_HEP_E_LENGTH;
        a->family = v[0];
        break;
    case 0x0002:
        if (vlen != 1)
            return CAP_HEP_E_LENGTH;
        out->ip_proto = v[0];
        break;
    case 0x0003:
    case 0x0004:
    case 0x0005:
    case 0x0006: return hep_address_chunk(type, v, vlen, a);
    case 0x0007:
    case 0x0008:
        if (vlen != 2)
            return CAP_HEP_E_LENGTH;
        (type == 7 ? &out->meta.src : &out->meta.dst)->port = cap_be16(v);
        break;
    case 0x0009:
        if (vlen != 4)
            return CAP_HEP_E_LENGTH;
        out->meta.ts_sec = (int64_t)cap_be32(v);
        out->has_time = 1;
        break;
    case 0x000a: return hep_usec_chunk(v, vlen, out);
    case 0x000b:
        if (vlen != 1)
            return CAP_HEP_E_LENGTH;
        out->proto_type = v[0];
        break;
    case 0x000c: return hep_capture_id_chunk(v, vlen, out);
    case 0x000f:
    case 0x0010:
        out->payload = v;
        out->payload_len = vlen;
        out->compressed = type == 0x0010;
        break;
    default: break;
    }
    return CAP_HEP_OK;
}

/* The chunks in [q, end), each checked against the packet's end before it
 * is read; the first bad one ends the decoding. */
static int
hep_chunks(const uint8_t *q, const uint8_t *end, struct cap_hep_packet *out,
           struct hep_addrs *a)
{
    while (q < end) {
        if (end - q < 6)
            return CAP_HEP_E_TRUNCATED;
        uint16_t vendor = cap_be16(q), type = cap_be16(q + 2);
        size_t clen = cap_be16(q + 4);
        if (clen < 6)
            return CAP_HEP_E_LENGTH;
        if (clen > (size_t)(end - q))
            return CAP_HEP_E_TRUNCATED;
        const uint8_t *v = q + 6;
        q += clen;
        if (vendor != 0)
            continue;
        int rc = hep_chunk(type, v, clen - 6, out, a);
        if (rc != CAP_HEP_OK)
            return rc;
    }
    return CAP_HEP_OK;
}

/* The address pair of the family chunk's family (2 is IPv4, 10 IPv6).  A
 * packet with only the other family's pair has the wrong family, not a
 * missing address. */
static int
hep_set_addresses(const struct hep_addrs *a, struct cap_hep_packet *out)
{
    if (a->family == 2) {
        if (!a->have4s || !a->have4d)
            return a->have6s || a->have6d ? CAP_HEP_E_FAMILY
                                          : CAP_HEP_E_MISSING;
        out->meta.src.family = out->meta.dst.family = AF_INET;
        memcpy(out->meta.src.ip, a->s4, 4);
        memcpy(out->meta.dst.ip, a->d4, 4);
    } else if (a->family == 10) {
        if (!a->have6s || !a->have6d)
            return a->have4s || a->have4d ? CAP_HEP_E_FAMILY
                                          : CAP_HEP_E_MISSING;
        out->meta.src.family = out->meta.dst.family = AF_INET6;
        memcpy(out->meta.src.ip, a->s6, 16);
        memcpy(out->meta.dst.ip, a->d6, 16);
    } else {
        return CAP_HEP_E_FAMILY;
    }
    return CAP_HEP_OK;
}

static enum cap_transport
hep_transport(uint8_t ip_proto)
{
    switch (ip_proto) {
    case 6: return CAP_TRANSPORT_TCP;
    case 22: /* Kamailio's marker for TLS (decrypted by the sender) */
        return CAP_TRANSPORT_TLS;
    case 132: return CAP_TRANSPORT_SCTP;
    default: return CAP_TRANSPORT_UDP;
    }
}

int
cap_hep_decode(const uint8_t *p, const uint8_t *end, struct cap_hep_packet *out)
{
    memset(out, 0, sizeof *out);
    if (end - p < 6 || memcmp(p, "HEP3", 4) != 0)
        return CAP_HEP_E_NOT_HEP;
    size_t total = cap_be16(p + 4);
    if (total < 6)
        return CAP_HEP_E_LENGTH;
    if (total > (size_t)(end - p))
        return CAP_HEP_E_TRUNCATED;
    struct hep_addrs a = {0};
    int rc = hep_chunks(p + 6, p + total, out, &a);
    if (rc != CAP_HEP_OK)
        return rc;
    if (out->payload == NULL || a.family == 0)
        return CAP_HEP_E_MISSING;
    rc = hep_set_addresses(&a, out);
    if (rc != CAP_HEP_OK)
        return rc;
    out->meta.transport = hep_transport(out->ip_proto);
    return CAP_HEP_OK;
}

/* ----------------------------------------------------------- delivery */

struct cap_hep {
    cap_message_fn fn;
    void *ctx;
    size_t max_message;
    uint8_t *inflated; /* max_message bytes: the last inflated payload */
    z_stream z;        /* reset for each compressed payload */
    struct cap_hep_stats st;
};

struct cap_hep *
cap_hep_new(cap_message_fn fn, void *ctx, size_t max_message)
{
    struct cap_hep *h = calloc(1, sizeof *h);
    if (h == NULL)
        return NULL;
    h->fn = fn;
    h->ctx = ctx;
    h->max_message = max_message ? max_message : 64 * 1024;
    if (h->max_message > UINT_MAX) /* avail_out is a uInt */
        h->max_message = UINT_MAX;
    h->inflated = malloc(h->max_message);
    if (h->inflated == NULL || inflateInit2(&h->z, -MAX_WBITS) != Z_OK) {
        free(h->inflated);
        free(h);
        return NULL;
    }
    return h;
}

void
cap_hep_free(struct cap_hep *h)
{
    if (h == NULL)
        return;
    inflateEnd(&h->z);
    free(h->inflated);
    free(h);
}

const struct cap_hep_stats *
cap_hep_stats(const struct cap_hep *h)
{
    return &h->st;
}

/*
 * The zlib window bits for a compressed payload, told by its first bytes
 * as before: 1f 8b is gzip (RFC 1952); a zlib header (RFC 1950: method 8,
 * CMF * 256 + FLG a multiple of 31) is zlib, as captagent and homer send
 * it; anything else raw deflate (RFC 1951).  Each wrapper alone, not
 * zlib's automatic detection, so a payload means one thing only.
 */
static int
window_bits(const uint8_t *p, size_t n)
{
    if (n >= 2 && p[0] == 0x1f && p[1] == 0x8b)
        return 16 + MAX_WBITS;
    if (n >= 2 && (p[0] & 15) == 8 && (p[0] * 256 + p[1]) % 31 == 0)
        return MAX_WBITS;
    return -MAX_WBITS;
}

/*
 * Chunk 0x0010, inflated by zlib into at most max_message bytes (avail_out),
 * the same limit as a plain payload, so a small packet that would inflate
 * to megabytes costs at most that much and is counted as oversize; a
 * corrupt one (bad data, checksum, cut short, a preset dictionary) is an
 * inflate error.  Bytes after the end of the stream are ignored, and of a
 * gzip file of several members the first is taken.
 */
static int
hep_inflate(struct cap_hep *h, const struct cap_hep_packet *pk,
            const uint8_t **out, size_t *out_len)
{
    z_stream *z = &h->z;
    int rc = inflateReset2(z, window_bits(pk->payload, pk->payload_len));
    z->next_in = pk->payload;
    z->avail_in = (uInt)pk->payload_len; /* < 64 KiB: a chunk's length */
    z->next_out = h->inflated;
    z->avail_out = (uInt)h->max_message;
    if (rc == Z_OK)
        rc = inflate(z, Z_FINISH);
    if ((rc == Z_OK || rc == Z_BUF_ERROR) && z->avail_out == 0) {
        /* Full: is there more output, or only the end of the stream?  One
         * byte more tells (never kept). */
        uint8_t more;
        z->next_out = &more;
        z->avail_out = 1;
        rc = inflate(z, Z_FINISH);
        if (z->avail_out == 0) {
            h->st.oversize++;
            return -1;
        }
        z->avail_out = 0;
    }
    if (rc != Z_STREAM_END) {
        h->st.inflate_errors++;
        return -1;
    }
    h->st.inflated++;
    *out = h->inflated;
    *out_len = h->max_message - z->avail_out;
    return 0;
}

static int
is_keepalive(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != '\r' && p[i] != '\n')
            return 0;
    return 1;
}

/* A TCP segment as the agent saw it: it may hold several messages (and
 * keep-alives between them), cut as the stream framer does.  A part of a
 * message at the end (split by the segment) goes to the parser as it is,
 * as a whole payload did before. */
static int
deliver_stream(struct cap_hep *h, const struct cap_meta *meta, const uint8_t *p,
               size_t n)
{
    const uint8_t *q = p, *end = p + n;
    while (q < end) {
        struct cap_frame fr;
        int st = cap_stream_frame(q, end, h->max_message, &fr);
        if (st == CAP_FRAME_MESSAGE) {
            h->st.messages++;
            int rc = h->fn(h->ctx, meta, q + fr.skip, fr.len);
            if (rc != 0)
                return rc;
            q += fr.skip + fr.len;
        } else if (st == CAP_FRAME_SKIP && fr.skip > 0) {
            q += fr.skip;
        } else {
            q += fr.skip < (size_t)(end - q) ? fr.skip : (size_t)(end - q);
            if (q == end || is_keepalive(q, (size_t)(end - q)))
                break;
            h->st.messages++;
            return h->fn(h->ctx, meta, q, (size_t)(end - q));
        }
    }
    return 0;
}

int
cap_hep_input(struct cap_hep *h, const uint8_t *p, size_t len, int64_t now_sec,
              int32_t now_usec)
{
    struct cap_hep_packet pk;
    h->st.packets++;
    int rc = cap_hep_decode(p, p + len, &pk);
    switch (rc) {
    case CAP_HEP_OK: break;
    case CAP_HEP_E_NOT_HEP: h->st.not_hep++; return 0;
    case CAP_HEP_E_TRUNCATED: h->st.truncated++; return 0;
    case CAP_HEP_E_LENGTH: h->st.bad_length++; return 0;
    case CAP_HEP_E_MISSING: h->st.missing++; return 0;
    default: h->st.bad_family++; return 0;
    }
    if (pk.proto_type != CAP_HEP_PROTO_SIP) {
        h->st.not_sip++;
        return 0;
    }
    const uint8_t *pl = pk.payload;
    size_t pl_len = pk.payload_len;
    if (pk.compressed && hep_inflate(h, &pk, &pl, &pl_len) != 0)
        return 0;
    if (pl_len > h->max_message) {
        h->st.oversize++;
        return 0;
    }
    if (is_keepalive(pl, pl_len)) {
        h->st.keepalives++;
        return 0;
    }
    if (!pk.has_time) {
        pk.meta.ts_sec = now_sec;
        pk.meta.ts_usec = now_usec;
    } else if (now_sec > 0 && pk.meta.ts_sec > now_sec + CAP_HEP_MAX_AHEAD) {
        h->st.ahead++;
        return 0;
    }
    if (pk.meta.transport == CAP_TRANSPORT_TCP ||
        pk.meta.transport == CAP_TRANSPORT_TLS)
        return deliver_stream(h, &pk.meta, pl, pl_len);
    h->st.messages++;
    return h->fn(h->ctx, &pk.meta, pl, pl_len);
}

/* ----------------------------------------------------------- listener */

struct cap_hep_listener {
    int fd;
    uint16_t port;
    uint8_t buf[65536]; /* one datagram at a time */
};

/* HOST:PORT, [IPv6]:PORT or PORT into host (empty for every address) and
 * the port's digits; -1 when it is none of these. */
static int
split_hostport(const char *hostport, char *host, size_t host_size,
               const char **port)
{
    if (hostport[0] == '[') {
        const char *rb = strchr(hostport, ']');
        if (rb == NULL || rb[1] != ':' || (size_t)(rb - hostport) > host_size)
            return -1;
        memcpy(host, hostport + 1, (size_t)(rb - hostport - 1));
        host[rb - hostport - 1] = 0;
        *port = rb + 2;
    } else {
        const char *colon = strrchr(hostport, ':');
        if (colon == NULL) {
            *port = hostport;
        } else {
            if ((size_t)(colon - hostport) >= host_size)
                return -1;
            memcpy(host, hostport, (size_t)(colon - hostport));
            host[colon - hostport] = 0;
            *port = colon + 1;
        }
    }
    if (**port == 0 || strspn(*port, "0123456789") != strlen(*port) ||
        strlen(*port) > 5)
        return -1;
    return 0;
}

/* A UDP socket bound to the first of the resolved addresses that takes it;
 * -1 with errno's value in *err when none does. */
static int
bind_first(const struct addrinfo *ai, int *err)
{
    for (const struct addrinfo *a = ai; a; a = a->ai_next) {
        int fd =
            socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) {
            *err = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        int rcvbuf = 8 * 1024 * 1024; /* bursts from a busy proxy */
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
        if (bind(fd, a->ai_addr, a->ai_addrlen) == 0)
            return fd;
        *err = errno;
        close(fd);
    }
    return -1;
}

/* The socket listening on host (NULL: every address) and port, or a
 * negative CDR_E_* code with d set. */
static int
listen_udp(const char *host, const char *port, const char *hostport,
           struct cdr_diag *d)
{
    size_t n = strlen(hostport);
    struct addrinfo hints, *ai = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int gai = getaddrinfo(host, port, &hints, &ai);
    if (gai != 0) {
        cdr_diag_set(d, CDR_E_USAGE, "hep", hostport, n,
                     "cannot resolve the HEP listen address");
        cdr_diag_detail(d, "%s", gai_strerror(gai));
        return CDR_E_USAGE;
    }
    int err = 0;
    int fd = bind_first(ai, &err);
    freeaddrinfo(ai);
    if (fd < 0) {
        cdr_diag_set(d, CDR_E_IO, "hep", hostport, n, "cannot listen for HEP");
        cdr_diag_detail(d, "%s", strerror(err));
        return CDR_E_IO;
    }
    return fd;
}

/* The port the socket is bound to, which the kernel chose for port 0. */
static uint16_t
bound_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0)
        return 0;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return 0;
}

int
cap_hep_listener_open(const char *hostport, struct cap_hep_listener **out,
                      struct cdr_diag *d)
{
    char host[256] = "";
    const char *port;
    *out = NULL;
    if (split_hostport(hostport, host, sizeof host, &port) != 0) {
        cdr_diag_set(d, CDR_E_USAGE, "hep", hostport, strlen(hostport),
                     "expected HOST:PORT, [IPv6]:PORT or PORT");
        return CDR_E_USAGE;
    }
    int fd = listen_udp(*host ? host : NULL, port, hostport, d);
    if (fd < 0)
        return fd;
    struct cap_hep_listener *l = calloc(1, sizeof *l);
    if (l == NULL) {
        close(fd);
        return cdr_diag_set(d, CDR_E_NOMEM, NULL, NULL, 0, "out of memory");
    }
    l->fd = fd;
    l->port = bound_port(fd);
    *out = l;
    return 0;
}

uint16_t
cap_hep_listener_port(const struct cap_hep_listener *l)
{
    return l->port;
}

void
cap_hep_listener_close(struct cap_hep_listener *l)
{
    if (l == NULL)
        return;
    close(l->fd);
    free(l);
}

static void
now_wall(int64_t *sec, int32_t *usec)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    *sec = (int64_t)ts.tv_sec;
    *usec = (int32_t)(ts.tv_nsec / 1000);
}

int
cap_hep_listener_run(struct cap_hep_listener *l, struct cap_hep *h,
                     volatile sig_atomic_t *stop, unsigned tick_ms,
                     cap_tick_fn tick, void *tick_ctx, struct cdr_diag *d)
{
    if (tick_ms == 0)
        tick_ms = 1000;
    int64_t last_sec, sec;
    int32_t usec;
    now_wall(&last_sec, &usec);
    while (stop == NULL || !*stop) {
        struct pollfd pfd = {l->fd, POLLIN, 0};
        int prc = poll(&pfd, 1, (int)tick_ms);
        if (prc < 0 && errno != EINTR)
            return cdr_diag_set(d, CDR_E_IO, NULL, NULL, 0,
                                "poll on the HEP socket failed: %s",
                                strerror(errno));
        if (prc > 0) {
            /* drain what is queued, but come back to check stop/tick */
            for (int i = 0; i < 1024 && (stop == NULL || !*stop); i++) {
                ssize_t r = recv(l->fd, l->buf, sizeof l->buf, MSG_DONTWAIT);
                if (r < 0) {
                    if (errno == EAGAIN || errno == EWOULDBLOCK ||
                        errno == EINTR)
                        break;
                    return cdr_diag_set(d, CDR_E_IO, NULL, NULL, 0,
                                        "receiving HEP failed: %s",
                                        strerror(errno));
                }
                now_wall(&sec, &usec);
                int rc = cap_hep_input(h, l->buf, (size_t)r, sec, usec);
                if (rc < 0)
                    return rc;
            }
        }
        now_wall(&sec, &usec);
        if ((sec - last_sec) * 1000 >= (int64_t)tick_ms || sec < last_sec) {
            last_sec = sec;
            if (tick) {
                int rc = tick(tick_ctx, sec, usec);
                if (rc < 0)
                    return rc;
            }
        }
    }
    return 0;
}

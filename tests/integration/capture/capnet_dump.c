/*
 * capnet_dump: read pcap/pcapng files through the packet path (cap_pcap +
 * cap_net) and print one line per SIP message delivered:
 *
 *   <sec>.<usec> <UDP|TCP> <src>:<port> > <dst>:<port> <len> <first line>
 *
 * With --via-hep every message is first encoded as a HEP3 packet and decoded
 * again by cap_hep_input(): the output must be the same as without it.
 * With --send-hep HOST:PORT the HEP3 packets are sent over UDP instead (to
 * referee-capture --hep), with the times of each file moved so that it
 * starts "now" (or after the previous file), as a live HEP agent would stamp
 * them; only the count is printed.
 * With --stats the counters go to stderr at the end.  With --count only the
 * number of messages is printed.  -f FILTER as in referee-capture ("" none).
 *
 * Exit: 0 ok, 1 error, 2 usage.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <netdb.h>
#include <time.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cdr/capture/net/cap_net.h"
#include "cdr/capture/source/cap_source_hep.h"
#include "cdr/capture/source/cap_source_pcap.h"

int main(int argc, char **argv);

struct dump {
    int via_hep;
    int count_only;
    uint64_t count;
    struct cap_hep *hep;
    int send_fd;   /* --send-hep: connected UDP socket, else -1 */
    int64_t shift; /* --send-hep: added to the times of this file */
    int shift_set;
    int64_t last_sent; /* latest time sent */
    uint8_t buf[70000];
};

static const char *
transport_name(enum cap_transport t)
{
    switch (t) {
    case CAP_TRANSPORT_UDP: return "UDP";
    case CAP_TRANSPORT_TCP: return "TCP";
    case CAP_TRANSPORT_TLS: return "TLS";
    case CAP_TRANSPORT_SCTP: return "SCTP";
    }
    return "?";
}

static void
addr_str(const struct cap_addr *a, char *out, size_t n)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    inet_ntop(a->family, a->ip, ip, sizeof ip);
    if (a->family == AF_INET6)
        snprintf(out, n, "[%s]:%u", ip, a->port);
    else
        snprintf(out, n, "%s:%u", ip, a->port);
}

static int
print_msg(void *ctx, const struct cap_meta *m, const uint8_t *p, size_t len)
{
    struct dump *d = ctx;
    d->count++;
    if (d->count_only)
        return 0;
    char s[64], t[64];
    addr_str(&m->src, s, sizeof s);
    addr_str(&m->dst, t, sizeof t);
    size_t l = 0;
    while (l < len && l < 120 && p[l] != '\r' && p[l] != '\n')
        l++;
    printf("%" PRId64 ".%06d %s %s > %s %zu %.*s\n", m->ts_sec, (int)m->ts_usec,
           transport_name(m->transport), s, t, len, (int)l, (const char *)p);
    return 0;
}

static void
put(uint8_t **w, unsigned type, const void *v, size_t len)
{
    uint8_t *c = *w;
    c[0] = 0;
    c[1] = 0;
    c[2] = (uint8_t)(type >> 8);
    c[3] = (uint8_t)type;
    c[4] = (uint8_t)((len + 6) >> 8);
    c[5] = (uint8_t)(len + 6);
    memcpy(c + 6, v, len);
    *w += 6 + len;
}

/* Encode as HEP3 (the way a proxy would send it) and decode again. */
static int
via_hep(void *ctx, const struct cap_meta *m, const uint8_t *p, size_t len)
{
    struct dump *d = ctx;
    uint8_t *w = d->buf + 6;
    size_t al = m->src.family == AF_INET6 ? 16 : 4;
    uint8_t fam = m->src.family == AF_INET6 ? 10 : 2;
    uint8_t proto = m->transport == CAP_TRANSPORT_TCP ? 6 : 17;
    uint8_t sip = 1;
    uint8_t u16[2], u32[4];
    put(&w, 1, &fam, 1);
    put(&w, 2, &proto, 1);
    put(&w, al == 4 ? 3 : 5, m->src.ip, al);
    put(&w, al == 4 ? 4 : 6, m->dst.ip, al);
    u16[0] = (uint8_t)(m->src.port >> 8);
    u16[1] = (uint8_t)m->src.port;
    put(&w, 7, u16, 2);
    u16[0] = (uint8_t)(m->dst.port >> 8);
    u16[1] = (uint8_t)m->dst.port;
    put(&w, 8, u16, 2);
    if (d->send_fd >= 0 && !d->shift_set) {
        /* this file starts now, or after the previous one ended: a
         * receiver's clock only goes forward */
        int64_t start = (int64_t)time(NULL);
        if (start <= d->last_sent)
            start = d->last_sent + 1;
        d->shift = start - m->ts_sec;
        d->shift_set = 1;
    }
    if (d->send_fd >= 0 && m->ts_sec + d->shift > d->last_sent)
        d->last_sent = m->ts_sec + d->shift;
    uint32_t v = (uint32_t)(m->ts_sec + (d->send_fd >= 0 ? d->shift : 0));
    u32[0] = (uint8_t)(v >> 24);
    u32[1] = (uint8_t)(v >> 16);
    u32[2] = (uint8_t)(v >> 8);
    u32[3] = (uint8_t)v;
    put(&w, 9, u32, 4);
    v = (uint32_t)m->ts_usec;
    u32[0] = (uint8_t)(v >> 24);
    u32[1] = (uint8_t)(v >> 16);
    u32[2] = (uint8_t)(v >> 8);
    u32[3] = (uint8_t)v;
    put(&w, 10, u32, 4);
    put(&w, 11, &sip, 1);
    if (len > sizeof d->buf - 200 || len + (size_t)(w - d->buf) > 65535) {
        fprintf(stderr, "message too big for one HEP packet\n");
        return -1;
    }
    put(&w, 15, p, len);
    size_t total = (size_t)(w - d->buf);
    memcpy(d->buf, "HEP3", 4);
    d->buf[4] = (uint8_t)(total >> 8);
    d->buf[5] = (uint8_t)total;
    if (d->send_fd >= 0) {
        d->count++;
        if (send(d->send_fd, d->buf, total, 0) < 0) {
            perror("send");
            return -1;
        }
        /* a little pacing: the receiver is a test process on a busy host */
        struct timespec ts = {0, 200000};
        nanosleep(&ts, NULL);
        return 0;
    }
    return cap_hep_input(d->hep, d->buf, total, 0, 0);
}

static void
print_stats(const struct cap_net_stats *s)
{
    fprintf(stderr,
            "frames %" PRIu64 " messages %" PRIu64 " (udp %" PRIu64
            " tcp %" PRIu64 ") truncated %" PRIu64 " unsupported %" PRIu64
            " malformed %" PRIu64 " frag_reassembled %" PRIu64
            " tcp_streams %" PRIu64 " tcp_retransmits %" PRIu64
            " tcp_gaps %" PRIu64 " sip_junk_bytes %" PRIu64
            " sip_bad_content_length %" PRIu64 " keepalives %" PRIu64 "\n",
            s->frames, s->messages, s->messages_udp, s->messages_tcp,
            s->truncated, s->unsupported_link, s->malformed,
            s->frag_reassembled, s->tcp_streams, s->tcp_retransmits,
            s->tcp_gaps, s->sip_junk_bytes, s->sip_bad_content_length,
            s->udp_keepalives);
}

static int
connect_udp(const char *hostport)
{
    char host[256];
    const char *colon = strrchr(hostport, ':');
    if (colon == NULL || (size_t)(colon - hostport) >= sizeof host)
        return -1;
    memcpy(host, hostport, (size_t)(colon - hostport));
    host[colon - hostport] = 0;
    struct addrinfo hints, *ai;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_DGRAM;
    if (getaddrinfo(host, colon + 1, &hints, &ai) != 0)
        return -1;
    int fd = socket(ai->ai_family, SOCK_DGRAM, 0);
    if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    return fd;
}

int
main(int argc, char **argv)
{
    static struct dump d;
    d.send_fd = -1;
    const char *filter = NULL;
    int stats = 0, i = 1;
    for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
        if (strcmp(argv[i], "--via-hep") == 0)
            d.via_hep = 1;
        else if (strcmp(argv[i], "--stats") == 0)
            stats = 1;
        else if (strcmp(argv[i], "--count") == 0)
            d.count_only = 1;
        else if (strcmp(argv[i], "-f") == 0 && i + 1 < argc)
            filter = argv[++i];
        else if (strcmp(argv[i], "--send-hep") == 0 && i + 1 < argc) {
            d.via_hep = 1;
            d.count_only = 1;
            d.send_fd = connect_udp(argv[++i]);
            if (d.send_fd < 0) {
                fprintf(stderr, "capnet_dump: cannot send to %s\n", argv[i]);
                return 1;
            }
        } else
            break;
    }
    if (i >= argc) {
        fprintf(stderr, "usage: capnet_dump [--via-hep | --send-hep HOST:PORT] "
                        "[--stats] [--count] [-f FILTER] FILE...\n");
        return 2;
    }
    d.hep = cap_hep_new(print_msg, &d, 0);
    struct cap_net *net =
        cap_net_new(NULL, d.via_hep ? via_hep : print_msg, &d);
    if (net == NULL || d.hep == NULL)
        return 1;
    int rc = 0;
    for (; i < argc && rc == 0; i++) {
        struct cap_pcap_config cfg = {0};
        cfg.file = argv[i];
        cfg.filter = filter;
        struct cap_pcap *src;
        struct cdr_diag diag;
        if (cap_pcap_open(&cfg, &src, &diag) != 0 ||
            cap_pcap_run(src, net, NULL, NULL, NULL, &diag) != 0) {
            char text[1024];
            cdr_diag_format(&diag, text, sizeof text);
            fprintf(stderr, "capnet_dump: %s: %s\n", argv[i], text);
            rc = 1;
        }
        cap_pcap_close(src);
        cap_net_flush(net);
        d.shift_set = 0;
    }
    if (d.count_only)
        printf("%" PRIu64 "\n", d.count);
    if (stats)
        print_stats(cap_net_stats(net));
    cap_net_free(net);
    cap_hep_free(d.hep);
    if (d.send_fd >= 0)
        close(d.send_fd);
    return rc;
}

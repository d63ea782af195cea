/*
 * gen_transfers_pcap: write a pcap (Ethernet, IPv4) of many concurrent SIP
 * REFER transfers for the capture benchmark.
 *
 *   gen_transfers_pcap OUT.pcap [MESSAGES] [CONCURRENT] [TCP_EVERY]
 *
 * MESSAGES (default 1000000) SIP messages; CONCURRENT (default 5000)
 * transfers in flight at once; one transfer in TCP_EVERY (default 8) over
 * TCP, 0 for none.  Each transfer is the termination-to-SIP-target
 * flow of the SIPp fixtures (18 messages: INVITE 100 200 ACK REFER 202
 * NOTIFY 200, the carrier's INVITE to the target 180 200 ACK, final NOTIFY
 * 200, BYE 200, the child's BYE 200); TCP ones with SYN, data, FIN.
 * The slots take turns, so messages of thousands of dialogs interleave; time
 * advances 20 microseconds per message.  Not for the repository: written to
 * /tmp by bench_capture.sh.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

int main(int argc, char **argv);

#define FLOW_LEN 18

struct slot {
    unsigned flow; /* global flow number */
    unsigned step; /* next message */
    int tcp;
    uint32_t seq[3][2]; /* per leg pair (0 pbx-carrier, 1 carrier-target) */
};

static uint8_t frame[70000];
static char msg[4096];
static pcap_dumper_t *dumper;
static int64_t now_us = 1700000000LL * 1000000;
static unsigned long written;
static unsigned tcp_every = 8;

static int
is_tcp(unsigned flow)
{
    return tcp_every != 0 && flow % tcp_every == tcp_every - 1;
}

static void
w16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void
w32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void
emit(uint32_t src, uint32_t dst, unsigned sport, unsigned dport, int tcp,
     uint32_t seq, unsigned flags, const char *payload, size_t len)
{
    uint8_t *p = frame;
    memset(p, 0, 14);
    p[0] = 2;
    p[6] = 2;
    w16(p + 12, 0x0800);
    uint8_t *ip = p + 14;
    size_t l4 = tcp ? 20 : 8;
    memset(ip, 0, 20 + l4);
    ip[0] = 0x45;
    w16(ip + 2, (unsigned)(20 + l4 + len));
    ip[8] = 64;
    ip[9] = tcp ? 6 : 17;
    w32(ip + 12, src);
    w32(ip + 16, dst);
    uint8_t *t = ip + 20;
    w16(t, sport);
    w16(t + 2, dport);
    if (tcp) {
        w32(t + 4, seq);
        t[12] = 5 << 4;
        t[13] = (uint8_t)(flags | 0x10);
        w16(t + 14, 65535);
    } else {
        w16(t + 4, (unsigned)(8 + len));
    }
    memcpy(t + l4, payload, len);
    struct pcap_pkthdr h;
    memset(&h, 0, sizeof h);
    h.ts.tv_sec = (time_t)(now_us / 1000000);
    h.ts.tv_usec = (suseconds_t)(now_us % 1000000);
    h.caplen = h.len = (bpf_u_int32)(14 + 20 + l4 + len);
    pcap_dump((u_char *)dumper, &h, frame);
    now_us += 20;
}

/* Addresses: PBX 10.x.y.z per flow, carrier 192.0.2.10, target 10.200.x.y */
#define CARRIER 0xc000020au

static const char sdp[] =
    "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\n"
    "t=0 0\r\nm=audio 40000 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\n";

/* What a flow's messages are made of, derived from its number alone so
 * that every message of the flow agrees. */
struct flow_names {
    unsigned f;
    uint32_t pbx, tgt;
    char ip_pbx[32], ip_tgt[32];
    const char *tr;
    unsigned pport;
    char cid[64], ccid[64];
    char a[24], b[24];
};

/* The parts of one message that differ from step to step. */
struct sip_parts {
    char first[256];
    const char *body;
    const char *ctype;
    char extra[512];
    const char *callid;
    char from[160], to[160], cseq[40];
};

static void
name_flow(const struct slot *s, struct flow_names *n)
{
    unsigned f = s->flow;
    n->f = f;
    n->pbx = 0x0a000000u | ((f * 7919u) & 0x00ffff00u) | (f & 0xffu) | 1u;
    n->tgt = 0x0ac80000u | (f & 0xffffu);
    snprintf(n->ip_pbx, sizeof n->ip_pbx, "%u.%u.%u.%u", n->pbx >> 24,
             (n->pbx >> 16) & 255, (n->pbx >> 8) & 255, n->pbx & 255);
    snprintf(n->ip_tgt, sizeof n->ip_tgt, "%u.%u.%u.%u", n->tgt >> 24,
             (n->tgt >> 16) & 255, (n->tgt >> 8) & 255, n->tgt & 255);
    n->tr = s->tcp ? "TCP" : "UDP";
    n->pport = s->tcp ? 20000u + (f % 40000u) : 5060u;
    snprintf(n->cid, sizeof n->cid, "%08x-%u@%s", f * 2654435761u, f,
             n->ip_pbx);
    snprintf(n->ccid, sizeof n->ccid, "child-%08x-%u@192.0.2.10", f * 40503u,
             f);
    snprintf(n->a, sizeof n->a, "+1415%07u", f % 10000000u);
    snprintf(n->b, sizeof n->b, "+1312%07u", (f * 31u) % 10000000u);
}

/* From, To and Call-ID of the parent call (legs 0 and 1) or of the child
 * call to the target (legs 2 and 3); some steps change To after. */
static void
name_parties(const struct flow_names *n, int d, struct sip_parts *m)
{
    if (d <= 1) {
        m->callid = n->cid;
        snprintf(m->from, sizeof m->from, "<sip:%s@%s>;tag=pbx%u", n->a,
                 n->ip_pbx, n->f);
        snprintf(m->to, sizeof m->to,
                 "<sip:%s@mytrunk.pstn.twilio.com>;tag=car%u", n->b, n->f);
    } else {
        m->callid = n->ccid;
        snprintf(m->from, sizeof m->from,
                 "<sip:%s@mytrunk.pstn.twilio.com>;tag=cc%u", n->b, n->f);
        snprintf(m->to, sizeof m->to, "<sip:alice@%s>;tag=tg%u", n->ip_tgt,
                 n->f);
    }
}

/* The start line (formatted) and the CSeq of a step. */
static void __attribute__((format(printf, 3, 4)))
start_line(struct sip_parts *m, const char *cseq, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m->first, sizeof m->first, fmt, ap);
    va_end(ap);
    snprintf(m->cseq, sizeof m->cseq, "%s", cseq);
}

static void
with_sdp(struct sip_parts *m)
{
    m->body = sdp;
    m->ctype = "application/sdp";
}

/* The steps of the parent call: the call, the REFER and its NOTIFYs, the
 * BYE. */
static void
parent_step(unsigned step, const struct flow_names *n, struct sip_parts *m)
{
    switch (step) {
    case 0:
        start_line(m, "1 INVITE",
                   "INVITE sip:%s@mytrunk.pstn.twilio.com SIP/2.0", n->b);
        snprintf(m->to, sizeof m->to, "<sip:%s@mytrunk.pstn.twilio.com>", n->b);
        with_sdp(m);
        break;
    case 1:
        start_line(m, "1 INVITE", "SIP/2.0 100 Trying");
        snprintf(m->to, sizeof m->to, "<sip:%s@mytrunk.pstn.twilio.com>", n->b);
        break;
    case 2:
        start_line(m, "1 INVITE", "SIP/2.0 200 OK");
        with_sdp(m);
        break;
    case 3:
        start_line(m, "1 ACK", "ACK sip:%s@192.0.2.10:5060 SIP/2.0", n->b);
        break;
    case 4:
        start_line(m, "2 REFER", "REFER sip:%s@192.0.2.10:5060 SIP/2.0", n->b);
        snprintf(m->extra, sizeof m->extra,
                 "Refer-To: <sip:alice@%s>\r\nReferred-By: <sip:%s@%s>\r\n",
                 n->ip_tgt, n->a, n->ip_pbx);
        break;
    case 5: start_line(m, "2 REFER", "SIP/2.0 202 Accepted"); break;
    case 6:
    case 12:
        start_line(m, step == 6 ? "1 NOTIFY" : "2 NOTIFY",
                   "NOTIFY sip:%s@%s:%u SIP/2.0", n->a, n->ip_pbx, n->pport);
        snprintf(m->extra, sizeof m->extra,
                 "Event: refer\r\nSubscription-State: %s\r\n",
                 step == 6 ? "active;expires=60"
                           : "terminated;reason=noresource");
        m->body = step == 6 ? "SIP/2.0 100 Trying\r\n" : "SIP/2.0 200 OK\r\n";
        m->ctype = "message/sipfrag;version=2.0";
        break;
    case 7:
    case 13:
        start_line(m, step == 7 ? "1 NOTIFY" : "2 NOTIFY", "SIP/2.0 200 OK");
        break;
    case 14:
        start_line(m, "3 BYE", "BYE sip:%s@192.0.2.10:5060 SIP/2.0", n->b);
        break;
    case 15: start_line(m, "3 BYE", "SIP/2.0 200 OK"); break;
    }
}

/* The steps of the child call, the carrier's INVITE to the target and its
 * BYE. */
static void
child_step(unsigned step, const struct flow_names *n, struct sip_parts *m)
{
    switch (step) {
    case 8:
        start_line(m, "1 INVITE", "INVITE sip:alice@%s SIP/2.0", n->ip_tgt);
        snprintf(m->to, sizeof m->to, "<sip:alice@%s>", n->ip_tgt);
        snprintf(m->extra, sizeof m->extra, "Referred-By: <sip:%s@%s>\r\n",
                 n->a, n->ip_pbx);
        with_sdp(m);
        break;
    case 9: start_line(m, "1 INVITE", "SIP/2.0 180 Ringing"); break;
    case 10:
        start_line(m, "1 INVITE", "SIP/2.0 200 OK");
        with_sdp(m);
        break;
    case 11:
        start_line(m, "1 ACK", "ACK sip:alice@%s SIP/2.0", n->ip_tgt);
        break;
    case 16:
        start_line(m, "2 BYE", "BYE sip:alice@%s SIP/2.0", n->ip_tgt);
        break;
    default: start_line(m, "2 BYE", "SIP/2.0 200 OK"); break;
    }
}

/* The whole message into msg; its length. */
static int
format_message(const struct flow_names *n, const struct sip_parts *m, int d,
               unsigned step)
{
    const char *via_host =
        d == 0 ? n->ip_pbx : (d == 3 ? n->ip_tgt : "192.0.2.10");
    int len = snprintf(msg, sizeof msg,
                       "%s\r\nVia: SIP/2.0/%s %s:%u;branch=z9hG4bK%u-%u\r\n"
                       "Max-Forwards: 70\r\n",
                       m->first, n->tr, via_host, d == 2 ? 5060u : n->pport,
                       n->f, step);
    len +=
        snprintf(msg + len, sizeof msg - (size_t)len,
                 "From: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %s\r\n"
                 "Contact: <sip:%s@%s:%u;transport=%s>\r\n"
                 "User-Agent: referee-bench\r\n%s",
                 m->from, m->to, m->callid, m->cseq, d == 0 ? n->a : "carrier",
                 d == 0 ? n->ip_pbx : "192.0.2.10", n->pport, n->tr, m->extra);
    if (m->ctype)
        len += snprintf(msg + len, sizeof msg - (size_t)len,
                        "Content-Type: %s\r\n", m->ctype);
    len += snprintf(msg + len, sizeof msg - (size_t)len,
                    "Content-Length: %zu\r\n\r\n%s", strlen(m->body), m->body);
    return len;
}

/* The message of the slot's current step into msg (its length), with the
 * addresses and ports it goes between and its leg. */
static int
build(const struct slot *s, uint32_t *src, uint32_t *dst, unsigned *sport,
      unsigned *dport, int *leg)
{
    /* who sends: 0 pbx->carrier, 1 carrier->pbx, 2 carrier->target,
     * 3 target->carrier */
    static const int dir[FLOW_LEN] = {0, 1, 1, 0, 0, 1, 1, 0, 2,
                                      3, 3, 2, 1, 0, 0, 1, 2, 3};
    int d = dir[s->step];
    struct flow_names n;
    struct sip_parts m = {.body = "", .ctype = NULL, .extra = ""};
    name_flow(s, &n);
    name_parties(&n, d, &m);
    if (d <= 1)
        parent_step(s->step, &n, &m);
    else
        child_step(s->step, &n, &m);
    int len = format_message(&n, &m, d, s->step);
    switch (d) {
    case 0:
        *src = n.pbx, *dst = CARRIER, *sport = n.pport, *dport = 5060;
        break;
    case 1:
        *src = CARRIER, *dst = n.pbx, *sport = 5060, *dport = n.pport;
        break;
    case 2: *src = CARRIER, *dst = n.tgt, *sport = 5062, *dport = 5060; break;
    default: *src = n.tgt, *dst = CARRIER, *sport = 5060, *dport = 5062; break;
    }
    *leg = d;
    return len;
}

/* One packet each way on both TCP connections of the slot's flow (the
 * parent's, pbx-carrier, and the child's, carrier-target): SYNs before
 * the first message, FINs after the last. */
static void
emit_connections(const struct slot *s, const uint32_t seq[4], unsigned flags)
{
    uint32_t src, dst;
    unsigned sport, dport;
    int leg;
    uint32_t tgt = 0x0ac80000u | (s->flow & 0xffffu);
    build(s, &src, &dst, &sport, &dport, &leg);
    emit(src, dst, sport, dport, 1, seq[0], flags, "", 0);
    emit(dst, src, dport, sport, 1, seq[1], flags, "", 0);
    emit(CARRIER, tgt, 5062, 5060, 1, seq[2], flags, "", 0);
    emit(tgt, CARRIER, 5060, 5062, 1, seq[3], flags, "", 0);
}

static void
open_connections(struct slot *s)
{
    uint32_t pbx_isn = s->flow * 1000u, car_isn = s->flow * 3000u;
    s->seq[0][0] = pbx_isn + 1;
    s->seq[0][1] = car_isn + 1;
    s->seq[1][0] = car_isn + 7;
    s->seq[1][1] = pbx_isn + 7;
    const uint32_t syn[4] = {pbx_isn, car_isn, car_isn + 6, pbx_isn + 6};
    emit_connections(s, syn, 0x02);
}

static void
close_connections(struct slot *s)
{
    s->step = 0;
    const uint32_t fin[4] = {s->seq[0][0], s->seq[0][1], s->seq[1][0],
                             s->seq[1][1]};
    emit_connections(s, fin, 0x01);
}

/* The slot's next message; after its last one the slot takes a new flow. */
static void
emit_step(struct slot *s, unsigned *next_flow)
{
    uint32_t src, dst;
    unsigned sport, dport;
    int leg;
    if (s->tcp && s->step == 0)
        open_connections(s);
    int n = build(s, &src, &dst, &sport, &dport, &leg);
    if (s->tcp) {
        uint32_t *sq = &s->seq[leg / 2][leg % 2];
        emit(src, dst, sport, dport, 1, *sq, 0, msg, (size_t)n);
        *sq += (uint32_t)n;
    } else {
        emit(src, dst, sport, dport, 0, 0, 0, msg, (size_t)n);
    }
    written++;
    if (++s->step == FLOW_LEN) {
        if (s->tcp)
            close_connections(s);
        s->flow = (*next_flow)++;
        s->step = 0;
        s->tcp = is_tcp(s->flow);
    }
}

int
main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: gen_transfers_pcap OUT.pcap [MESSAGES] "
                        "[CONCURRENT] [TCP_EVERY]\n");
        return 2;
    }
    unsigned long total = argc > 2 ? strtoul(argv[2], NULL, 10) : 1000000;
    unsigned conc = argc > 3 ? (unsigned)strtoul(argv[3], NULL, 10) : 5000;
    if (conc == 0)
        conc = 1;
    if (argc > 4)
        tcp_every = (unsigned)strtoul(argv[4], NULL, 10);
    pcap_t *dead = pcap_open_dead(DLT_EN10MB, 65535);
    dumper = pcap_dump_open(dead, argv[1]);
    if (dumper == NULL) {
        fprintf(stderr, "%s\n", pcap_geterr(dead));
        return 1;
    }
    struct slot *slots = calloc(conc, sizeof *slots);
    unsigned next_flow = 0;
    for (unsigned i = 0; i < conc; i++) {
        slots[i].flow = next_flow++;
        slots[i].tcp = is_tcp(slots[i].flow);
    }
    while (written < total)
        for (unsigned i = 0; i < conc && written < total; i++)
            emit_step(&slots[i], &next_flow);
    pcap_dump_close(dumper);
    pcap_close(dead);
    free(slots);
    fprintf(stderr, "%lu SIP messages, %u transfers started, %u concurrent\n",
            written, next_flow, conc);
    return 0;
}

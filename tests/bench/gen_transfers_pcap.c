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

static int
build(const struct slot *s, uint32_t *src, uint32_t *dst, unsigned *sport,
      unsigned *dport, int *leg)
{
    unsigned f = s->flow;
    uint32_t pbx = 0x0a000000u | ((f * 7919u) & 0x00ffff00u) | (f & 0xffu) | 1u;
    uint32_t tgt = 0x0ac80000u | (f & 0xffffu);
    char ip_pbx[32], ip_tgt[32];
    snprintf(ip_pbx, sizeof ip_pbx, "%u.%u.%u.%u", pbx >> 24, (pbx >> 16) & 255,
             (pbx >> 8) & 255, pbx & 255);
    snprintf(ip_tgt, sizeof ip_tgt, "%u.%u.%u.%u", tgt >> 24, (tgt >> 16) & 255,
             (tgt >> 8) & 255, tgt & 255);
    const char *tr = s->tcp ? "TCP" : "UDP";
    unsigned pport = s->tcp ? 20000u + (f % 40000u) : 5060u;
    char cid[64], ccid[64];
    snprintf(cid, sizeof cid, "%08x-%u@%s", f * 2654435761u, f, ip_pbx);
    snprintf(ccid, sizeof ccid, "child-%08x-%u@192.0.2.10", f * 40503u, f);
    char a[24], b[24];
    snprintf(a, sizeof a, "+1415%07u", f % 10000000u);
    snprintf(b, sizeof b, "+1312%07u", (f * 31u) % 10000000u);
    static const char sdp[] =
        "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\n"
        "t=0 0\r\nm=audio 40000 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\n"
        "a=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\n";
    int n = 0;
    /* who sends: 0 pbx->carrier, 1 carrier->pbx, 2 carrier->target,
     * 3 target->carrier */
    static const int dir[FLOW_LEN] = {0, 1, 1, 0, 0, 1, 1, 0, 2,
                                      3, 3, 2, 1, 0, 0, 1, 2, 3};
    int d = dir[s->step];
#define HDR(first, via_host, cseq)                                             \
    n = snprintf(msg, sizeof msg,                                              \
                 "%s\r\nVia: SIP/2.0/%s %s:%u;branch=z9hG4bK%u-%u\r\n"         \
                 "Max-Forwards: 70\r\n",                                       \
                 first, tr, via_host, d == 2 ? 5060u : pport, f, s->step)
    char first[256];
    const char *body = "";
    const char *ctype = NULL;
    char extra[512] = "";
    const char *callid = cid;
    char from[160], to[160], cseq[40];
    if (d <= 1) {
        snprintf(from, sizeof from, "<sip:%s@%s>;tag=pbx%u", a, ip_pbx, f);
        snprintf(to, sizeof to, "<sip:%s@mytrunk.pstn.twilio.com>;tag=car%u", b,
                 f);
    } else {
        callid = ccid;
        snprintf(from, sizeof from, "<sip:%s@mytrunk.pstn.twilio.com>;tag=cc%u",
                 b, f);
        snprintf(to, sizeof to, "<sip:alice@%s>;tag=tg%u", ip_tgt, f);
    }
    switch (s->step) {
    case 0:
        snprintf(first, sizeof first,
                 "INVITE sip:%s@mytrunk.pstn.twilio.com SIP/2.0", b);
        snprintf(to, sizeof to, "<sip:%s@mytrunk.pstn.twilio.com>", b);
        snprintf(cseq, sizeof cseq, "1 INVITE");
        body = sdp;
        ctype = "application/sdp";
        break;
    case 1:
        snprintf(first, sizeof first, "SIP/2.0 100 Trying");
        snprintf(to, sizeof to, "<sip:%s@mytrunk.pstn.twilio.com>", b);
        snprintf(cseq, sizeof cseq, "1 INVITE");
        break;
    case 2:
        snprintf(first, sizeof first, "SIP/2.0 200 OK");
        snprintf(cseq, sizeof cseq, "1 INVITE");
        body = sdp;
        ctype = "application/sdp";
        break;
    case 3:
        snprintf(first, sizeof first, "ACK sip:%s@192.0.2.10:5060 SIP/2.0", b);
        snprintf(cseq, sizeof cseq, "1 ACK");
        break;
    case 4:
        snprintf(first, sizeof first, "REFER sip:%s@192.0.2.10:5060 SIP/2.0",
                 b);
        snprintf(cseq, sizeof cseq, "2 REFER");
        snprintf(extra, sizeof extra,
                 "Refer-To: <sip:alice@%s>\r\nReferred-By: <sip:%s@%s>\r\n",
                 ip_tgt, a, ip_pbx);
        break;
    case 5:
        snprintf(first, sizeof first, "SIP/2.0 202 Accepted");
        snprintf(cseq, sizeof cseq, "2 REFER");
        break;
    case 6:
    case 12:
        snprintf(first, sizeof first, "NOTIFY sip:%s@%s:%u SIP/2.0", a, ip_pbx,
                 pport);
        snprintf(cseq, sizeof cseq, "%d NOTIFY", s->step == 6 ? 1 : 2);
        snprintf(extra, sizeof extra,
                 "Event: refer\r\nSubscription-State: %s\r\n",
                 s->step == 6 ? "active;expires=60"
                              : "terminated;reason=noresource");
        body = s->step == 6 ? "SIP/2.0 100 Trying\r\n" : "SIP/2.0 200 OK\r\n";
        ctype = "message/sipfrag;version=2.0";
        break;
    case 7:
    case 13:
        snprintf(first, sizeof first, "SIP/2.0 200 OK");
        snprintf(cseq, sizeof cseq, "%d NOTIFY", s->step == 7 ? 1 : 2);
        break;
    case 8:
        snprintf(first, sizeof first, "INVITE sip:alice@%s SIP/2.0", ip_tgt);
        snprintf(to, sizeof to, "<sip:alice@%s>", ip_tgt);
        snprintf(cseq, sizeof cseq, "1 INVITE");
        snprintf(extra, sizeof extra, "Referred-By: <sip:%s@%s>\r\n", a,
                 ip_pbx);
        body = sdp;
        ctype = "application/sdp";
        break;
    case 9:
        snprintf(first, sizeof first, "SIP/2.0 180 Ringing");
        snprintf(cseq, sizeof cseq, "1 INVITE");
        break;
    case 10:
        snprintf(first, sizeof first, "SIP/2.0 200 OK");
        snprintf(cseq, sizeof cseq, "1 INVITE");
        body = sdp;
        ctype = "application/sdp";
        break;
    case 11:
        snprintf(first, sizeof first, "ACK sip:alice@%s SIP/2.0", ip_tgt);
        snprintf(cseq, sizeof cseq, "1 ACK");
        break;
    case 14:
        snprintf(first, sizeof first, "BYE sip:%s@192.0.2.10:5060 SIP/2.0", b);
        snprintf(cseq, sizeof cseq, "3 BYE");
        break;
    case 15:
        snprintf(first, sizeof first, "SIP/2.0 200 OK");
        snprintf(cseq, sizeof cseq, "3 BYE");
        break;
    case 16:
        snprintf(first, sizeof first, "BYE sip:alice@%s SIP/2.0", ip_tgt);
        snprintf(cseq, sizeof cseq, "2 BYE");
        break;
    default:
        snprintf(first, sizeof first, "SIP/2.0 200 OK");
        snprintf(cseq, sizeof cseq, "2 BYE");
        break;
    }
    HDR(first, d == 0 ? ip_pbx : (d == 3 ? ip_tgt : "192.0.2.10"), cseq);
    n += snprintf(msg + n, sizeof msg - (size_t)n,
                  "From: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %s\r\n"
                  "Contact: <sip:%s@%s:%u;transport=%s>\r\n"
                  "User-Agent: referee-bench\r\n%s",
                  from, to, callid, cseq, d == 0 ? a : "carrier",
                  d == 0 ? ip_pbx : "192.0.2.10", pport, tr, extra);
    if (ctype)
        n += snprintf(msg + n, sizeof msg - (size_t)n, "Content-Type: %s\r\n",
                      ctype);
    n += snprintf(msg + n, sizeof msg - (size_t)n,
                  "Content-Length: %zu\r\n\r\n%s", strlen(body), body);
    switch (d) {
    case 0: *src = pbx, *dst = CARRIER, *sport = pport, *dport = 5060; break;
    case 1: *src = CARRIER, *dst = pbx, *sport = 5060, *dport = pport; break;
    case 2: *src = CARRIER, *dst = tgt, *sport = 5062, *dport = 5060; break;
    default: *src = tgt, *dst = CARRIER, *sport = 5060, *dport = 5062; break;
    }
    *leg = d;
    return n;
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
    while (written < total) {
        for (unsigned i = 0; i < conc && written < total; i++) {
            struct slot *s = &slots[i];
            uint32_t src, dst;
            unsigned sport, dport;
            int leg;
            if (s->tcp && s->step == 0) {
                /* both connections open: SYNs */
                uint32_t pbx_isn = s->flow * 1000u, car_isn = s->flow * 3000u;
                s->seq[0][0] = pbx_isn + 1;
                s->seq[0][1] = car_isn + 1;
                s->seq[1][0] = car_isn + 7;
                s->seq[1][1] = pbx_isn + 7;
                build(s, &src, &dst, &sport, &dport, &leg);
                emit(src, dst, sport, dport, 1, pbx_isn, 0x02, "", 0);
                emit(dst, src, dport, sport, 1, car_isn, 0x02, "", 0);
                emit(CARRIER, 0x0ac80000u | (s->flow & 0xffffu), 5062, 5060, 1,
                     car_isn + 6, 0x02, "", 0);
                emit(0x0ac80000u | (s->flow & 0xffffu), CARRIER, 5060, 5062, 1,
                     pbx_isn + 6, 0x02, "", 0);
            }
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
                if (s->tcp) { /* close both connections */
                    s->step = 0;
                    build(s, &src, &dst, &sport, &dport, &leg);
                    emit(src, dst, sport, dport, 1, s->seq[0][0], 0x01, "", 0);
                    emit(dst, src, dport, sport, 1, s->seq[0][1], 0x01, "", 0);
                    emit(CARRIER, 0x0ac80000u | (s->flow & 0xffffu), 5062, 5060,
                         1, s->seq[1][0], 0x01, "", 0);
                    emit(0x0ac80000u | (s->flow & 0xffffu), CARRIER, 5060, 5062,
                         1, s->seq[1][1], 0x01, "", 0);
                }
                s->flow = next_flow++;
                s->step = 0;
                s->tcp = is_tcp(s->flow);
            }
        }
    }
    pcap_dump_close(dumper);
    pcap_close(dead);
    free(slots);
    fprintf(stderr, "%lu SIP messages, %u transfers started, %u concurrent\n",
            written, next_flow, conc);
    return 0;
}

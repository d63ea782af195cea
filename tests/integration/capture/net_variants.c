/*
 * net_variants: rewrite an Ethernet/IPv4 capture (a SIPp fixture) into the
 * other encapsulations the packet path reads, so one recorded flow checks
 * them all end to end:
 *
 *   net_variants IN.pcap VARIANT OUT.pcap
 *
 *   vlan      802.1Q tag             qinq     0x88a8 + 0x8100 tags
 *   sll       Linux cooked v1        sll2     Linux cooked v2
 *   raw       DLT_RAW                null     DLT_NULL (host order)
 *   loop      DLT_LOOP               ipip     IPv4 in IPv4 (10.9.9.x outer)
 *   frag      IPv4 fragments of 256 bytes, last fragment first
 *   ipv6      IPv6, 127.0.0.x -> fd00::x
 *   ipv6frag  IPv6 with fragment headers (256 bytes), reverse order
 *   ip6ip4    the IPv6 packets inside IPv4 (protocol 41)
 *
 * Exit: 0 ok, 1 error, 2 usage.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

int main(int argc, char **argv);

static uint8_t out[70000 + 256];
static pcap_dumper_t *dumper;
static struct pcap_pkthdr hdr;

static void
w16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void
dump(const uint8_t *p, size_t n)
{
    hdr.caplen = hdr.len = (bpf_u_int32)n;
    pcap_dump((u_char *)dumper, &hdr, p);
}

/* IPv4 -> IPv6 (fd00::last byte), same payload; 40-byte header at ip6. */
static size_t
to_ipv6(const uint8_t *ip, size_t iplen, uint8_t *ip6, int frag_hdr,
        uint32_t id, size_t off, size_t len, int more)
{
    size_t ihl = (size_t)(ip[0] & 15) * 4;
    const uint8_t *pl = ip + ihl;
    size_t plen = iplen - ihl;
    if (!frag_hdr) {
        off = 0;
        len = plen;
    }
    memset(ip6, 0, 40);
    ip6[0] = 0x60;
    ip6[6] = frag_hdr ? 44 : ip[9];
    ip6[7] = 64;
    ip6[8] = 0xfd;
    ip6[23] = ip[15];
    ip6[24] = 0xfd;
    ip6[39] = ip[19];
    size_t h = 40;
    if (frag_hdr) {
        uint8_t *f = ip6 + 40;
        memset(f, 0, 8);
        f[0] = ip[9];
        w16(f + 2, (unsigned)(off | (more ? 1u : 0u)));
        f[4] = (uint8_t)(id >> 24);
        f[5] = (uint8_t)(id >> 16);
        f[6] = (uint8_t)(id >> 8);
        f[7] = (uint8_t)id;
        h += 8;
    }
    memcpy(ip6 + h, pl + off, len);
    w16(ip6 + 4, (unsigned)(h - 40 + len));
    return h + len;
}

int
main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: net_variants IN.pcap VARIANT OUT.pcap\n");
        return 2;
    }
    const char *v = argv[2];
    int dlt = DLT_EN10MB;
    if (strcmp(v, "sll") == 0)
        dlt = DLT_LINUX_SLL;
    else if (strcmp(v, "sll2") == 0)
        dlt = DLT_LINUX_SLL2;
    else if (strcmp(v, "raw") == 0)
        dlt = DLT_RAW;
    else if (strcmp(v, "null") == 0)
        dlt = DLT_NULL;
    else if (strcmp(v, "loop") == 0)
        dlt = DLT_LOOP;
    else if (strcmp(v, "vlan") && strcmp(v, "qinq") && strcmp(v, "ipip") &&
             strcmp(v, "frag") && strcmp(v, "ipv6") && strcmp(v, "ipv6frag") &&
             strcmp(v, "ip6ip4")) {
        fprintf(stderr, "net_variants: unknown variant %s\n", v);
        return 2;
    }
    char eb[PCAP_ERRBUF_SIZE];
    pcap_t *in = pcap_open_offline(argv[1], eb);
    if (in == NULL || pcap_datalink(in) != DLT_EN10MB) {
        fprintf(stderr, "net_variants: %s: %s\n", argv[1],
                in ? "not Ethernet" : eb);
        return 1;
    }
    pcap_t *dead = pcap_open_dead(dlt, 262144);
    dumper = pcap_dump_open(dead, argv[3]);
    if (dumper == NULL) {
        fprintf(stderr, "net_variants: %s\n", pcap_geterr(dead));
        return 1;
    }
    struct pcap_pkthdr *h;
    const u_char *b;
    uint32_t id = 1;
    while (pcap_next_ex(in, &h, &b) == 1) {
        if (h->caplen < 34 || b[12] != 0x08 || b[13] != 0x00)
            continue;
        hdr = *h;
        const uint8_t *ip = b + 14;
        size_t iplen = (size_t)((ip[2] << 8) | ip[3]);
        if (iplen > h->caplen - 14)
            continue;
        id++;
        uint8_t *o = out + 128; /* headroom for link headers */
        if (strcmp(v, "vlan") == 0 || strcmp(v, "qinq") == 0) {
            size_t at = 12;
            memcpy(out, b, 12);
            if (v[0] == 'q') { /* service tag outside */
                w16(out + at, 0x88a8);
                w16(out + at + 2, 100);
                at += 4;
            }
            w16(out + at, 0x8100);
            w16(out + at + 2, 200);
            at += 4;
            w16(out + at, 0x0800);
            at += 2;
            memcpy(out + at, ip, iplen);
            dump(out, at + iplen);
        } else if (strcmp(v, "sll") == 0) {
            memset(out, 0, 16);
            w16(out + 2, 772); /* ARPHRD_LOOPBACK */
            w16(out + 14, 0x0800);
            memcpy(out + 16, ip, iplen);
            dump(out, 16 + iplen);
        } else if (strcmp(v, "sll2") == 0) {
            memset(out, 0, 20);
            w16(out, 0x0800);
            out[7] = 1; /* ifindex */
            w16(out + 8, 772);
            memcpy(out + 20, ip, iplen);
            dump(out, 20 + iplen);
        } else if (strcmp(v, "raw") == 0) {
            dump(ip, iplen);
        } else if (strcmp(v, "null") == 0 || strcmp(v, "loop") == 0) {
            uint32_t fam = 2;
            if (v[0] == 'n')
                memcpy(out, &fam, 4); /* host order */
            else {
                memset(out, 0, 4);
                out[3] = 2;
            }
            memcpy(out + 4, ip, iplen);
            dump(out, 4 + iplen);
        } else if (strcmp(v, "ipip") == 0) {
            memcpy(out, b, 14);
            uint8_t *oh = out + 14;
            memcpy(oh, ip, 20); /* outer header from the inner one */
            oh[0] = 0x45;
            w16(oh + 2, (unsigned)(20 + iplen));
            oh[9] = 4;
            oh[12] = 10, oh[13] = 9, oh[14] = 9;
            oh[16] = 10, oh[17] = 9, oh[18] = 9;
            memcpy(oh + 20, ip, iplen);
            dump(out, 34 + iplen);
        } else if (strcmp(v, "frag") == 0) {
            size_t ihl = (size_t)(ip[0] & 15) * 4;
            size_t plen = iplen - ihl;
            size_t nfr = (plen + 255) / 256;
            for (size_t k = nfr; k-- > 0;) { /* last fragment first */
                size_t off = k * 256;
                size_t len = plen - off < 256 ? plen - off : 256;
                memcpy(out, b, 14);
                memcpy(out + 14, ip, ihl);
                w16(out + 14 + 2, (unsigned)(ihl + len));
                w16(out + 14 + 4, id);
                w16(out + 14 + 6,
                    (unsigned)(off / 8) | (k + 1 < nfr ? 0x2000u : 0u));
                memcpy(out + 14 + ihl, ip + ihl + off, len);
                dump(out, 14 + ihl + len);
            }
        } else if (strcmp(v, "ipv6") == 0 || strcmp(v, "ip6ip4") == 0) {
            int tun = v[2] == '6';
            size_t at = tun ? 14 + 20 : 14;
            size_t n = to_ipv6(ip, iplen, o + at, 0, 0, 0, 0, 0);
            memcpy(o, b, 12);
            w16(o + 12, tun ? 0x0800 : 0x86dd);
            if (tun) {
                uint8_t *oh = o + 14;
                memcpy(oh, ip, 20);
                oh[0] = 0x45;
                w16(oh + 2, (unsigned)(20 + n));
                w16(oh + 6, 0);
                oh[9] = 41;
            }
            dump(o, at + n);
        } else { /* ipv6frag */
            size_t ihl = (size_t)(ip[0] & 15) * 4;
            size_t plen = iplen - ihl;
            size_t nfr = (plen + 255) / 256;
            for (size_t k = nfr; k-- > 0;) {
                size_t off = k * 256;
                size_t len = plen - off < 256 ? plen - off : 256;
                size_t n =
                    to_ipv6(ip, iplen, o + 14, 1, id, off, len, k + 1 < nfr);
                memcpy(o, b, 12);
                w16(o + 12, 0x86dd);
                dump(o, 14 + n);
            }
        }
    }
    pcap_dump_close(dumper);
    pcap_close(dead);
    pcap_close(in);
    return 0;
}

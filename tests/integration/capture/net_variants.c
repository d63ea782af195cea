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

/* One IPv4 packet of the input: its Ethernet frame, the IP datagram in it
 * and the id given to its fragments. */
struct frame {
    const u_char *eth;
    const uint8_t *ip;
    size_t iplen;
    uint32_t id;
};

/* vlan: one 802.1Q tag; qinq: a service tag (0x88a8) outside it. */
static void
write_vlan(const char *v, const struct frame *f)
{
    size_t at = 12;
    memcpy(out, f->eth, 12);
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
    memcpy(out + at, f->ip, f->iplen);
    dump(out, at + f->iplen);
}

static void
write_sll(const char *v, const struct frame *f)
{
    (void)v;
    memset(out, 0, 16);
    w16(out + 2, 772); /* ARPHRD_LOOPBACK */
    w16(out + 14, 0x0800);
    memcpy(out + 16, f->ip, f->iplen);
    dump(out, 16 + f->iplen);
}

static void
write_sll2(const char *v, const struct frame *f)
{
    (void)v;
    memset(out, 0, 20);
    w16(out, 0x0800);
    out[7] = 1; /* ifindex */
    w16(out + 8, 772);
    memcpy(out + 20, f->ip, f->iplen);
    dump(out, 20 + f->iplen);
}

static void
write_raw(const char *v, const struct frame *f)
{
    (void)v;
    dump(f->ip, f->iplen);
}

/* null: the family in host order; loop: in network order. */
static void
write_null(const char *v, const struct frame *f)
{
    uint32_t fam = 2;
    if (v[0] == 'n')
        memcpy(out, &fam, 4); /* host order */
    else {
        memset(out, 0, 4);
        out[3] = 2;
    }
    memcpy(out + 4, f->ip, f->iplen);
    dump(out, 4 + f->iplen);
}

static void
write_ipip(const char *v, const struct frame *f)
{
    (void)v;
    memcpy(out, f->eth, 14);
    uint8_t *oh = out + 14;
    memcpy(oh, f->ip, 20); /* outer header from the inner one */
    oh[0] = 0x45;
    w16(oh + 2, (unsigned)(20 + f->iplen));
    oh[9] = 4;
    oh[12] = 10, oh[13] = 9, oh[14] = 9;
    oh[16] = 10, oh[17] = 9, oh[18] = 9;
    memcpy(oh + 20, f->ip, f->iplen);
    dump(out, 34 + f->iplen);
}

/* The IP payload cut into fragments of 256 bytes: how many there are, and
 * the length of fragment k. */
static size_t
fragments(size_t plen)
{
    return (plen + 255) / 256;
}

static size_t
fragment_len(size_t plen, size_t k)
{
    size_t off = k * 256;
    return plen - off < 256 ? plen - off : 256;
}

static void
write_frag(const char *v, const struct frame *f)
{
    (void)v;
    size_t ihl = (size_t)(f->ip[0] & 15) * 4;
    size_t plen = f->iplen - ihl;
    size_t nfr = fragments(plen);
    for (size_t k = nfr; k-- > 0;) { /* last fragment first */
        size_t off = k * 256;
        size_t len = fragment_len(plen, k);
        memcpy(out, f->eth, 14);
        memcpy(out + 14, f->ip, ihl);
        w16(out + 14 + 2, (unsigned)(ihl + len));
        w16(out + 14 + 4, f->id);
        w16(out + 14 + 6, (unsigned)(off / 8) | (k + 1 < nfr ? 0x2000u : 0u));
        memcpy(out + 14 + ihl, f->ip + ihl + off, len);
        dump(out, 14 + ihl + len);
    }
}

/* ipv6: over Ethernet; ip6ip4: inside an IPv4 header (protocol 41). */
static void
write_ipv6(const char *v, const struct frame *f)
{
    uint8_t *o = out + 128; /* headroom for link headers */
    int tun = v[2] == '6';
    size_t at = tun ? 14 + 20 : 14;
    size_t n = to_ipv6(f->ip, f->iplen, o + at, 0, 0, 0, 0, 0);
    memcpy(o, f->eth, 12);
    w16(o + 12, tun ? 0x0800 : 0x86dd);
    if (tun) {
        uint8_t *oh = o + 14;
        memcpy(oh, f->ip, 20);
        oh[0] = 0x45;
        w16(oh + 2, (unsigned)(20 + n));
        w16(oh + 6, 0);
        oh[9] = 41;
    }
    dump(o, at + n);
}

static void
write_ipv6frag(const char *v, const struct frame *f)
{
    (void)v;
    uint8_t *o = out + 128; /* headroom for link headers */
    size_t ihl = (size_t)(f->ip[0] & 15) * 4;
    size_t plen = f->iplen - ihl;
    size_t nfr = fragments(plen);
    for (size_t k = nfr; k-- > 0;) {
        size_t n = to_ipv6(f->ip, f->iplen, o + 14, 1, f->id, k * 256,
                           fragment_len(plen, k), k + 1 < nfr);
        memcpy(o, f->eth, 12);
        w16(o + 12, 0x86dd);
        dump(o, 14 + n);
    }
}

static const struct variant {
    const char *name;
    int dlt;
    void (*write)(const char *v, const struct frame *f);
} variants[] = {
    {"vlan", DLT_EN10MB, write_vlan},
    {"qinq", DLT_EN10MB, write_vlan},
    {"sll", DLT_LINUX_SLL, write_sll},
    {"sll2", DLT_LINUX_SLL2, write_sll2},
    {"raw", DLT_RAW, write_raw},
    {"null", DLT_NULL, write_null},
    {"loop", DLT_LOOP, write_null},
    {"ipip", DLT_EN10MB, write_ipip},
    {"frag", DLT_EN10MB, write_frag},
    {"ipv6", DLT_EN10MB, write_ipv6},
    {"ipv6frag", DLT_EN10MB, write_ipv6frag},
    {"ip6ip4", DLT_EN10MB, write_ipv6},
};

static const struct variant *
find_variant(const char *name)
{
    for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++)
        if (strcmp(variants[i].name, name) == 0)
            return &variants[i];
    return NULL;
}

/* Every Ethernet/IPv4 packet of in, rewritten; the others are left out. */
static void
rewrite(pcap_t *in, const struct variant *var)
{
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
        struct frame f = {b, ip, iplen, ++id};
        var->write(var->name, &f);
    }
}

int
main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: net_variants IN.pcap VARIANT OUT.pcap\n");
        return 2;
    }
    const struct variant *var = find_variant(argv[2]);
    if (var == NULL) {
        fprintf(stderr, "net_variants: unknown variant %s\n", argv[2]);
        return 2;
    }
    char eb[PCAP_ERRBUF_SIZE];
    pcap_t *in = pcap_open_offline(argv[1], eb);
    if (in == NULL || pcap_datalink(in) != DLT_EN10MB) {
        fprintf(stderr, "net_variants: %s: %s\n", argv[1],
                in ? "not Ethernet" : eb);
        return 1;
    }
    pcap_t *dead = pcap_open_dead(var->dlt, 262144);
    dumper = pcap_dump_open(dead, argv[3]);
    if (dumper == NULL) {
        fprintf(stderr, "net_variants: %s\n", pcap_geterr(dead));
        return 1;
    }
    rewrite(in, var);
    pcap_dump_close(dumper);
    pcap_close(dead);
    pcap_close(in);
    return 0;
}

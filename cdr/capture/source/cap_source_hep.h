/*
 * HEPv3 (Homer Encapsulation Protocol, "EEP") source: a decoder for one HEP3
 * packet, a delivery step that hands the SIP payload to cap_message_fn, and a
 * UDP listener (`--hep HOST:PORT`).
 *
 * A HEP3 packet is "HEP3", a 16-bit total length, then chunks: vendor id
 * (16 bits), type id (16 bits), length (16 bits, including these 6 bytes),
 * value.  All in network order.  Generic chunks (vendor 0) used here:
 *   0x0001 IP family (8 bits: 2 = IPv4, 10 = IPv6)
 *   0x0002 IP protocol (8 bits: 17 UDP, 6 TCP, 132 SCTP; 22 is what
 *          Kamailio's siptrace sends for TLS)
 *   0x0003 / 0x0004 IPv4 source / destination, 0x0005 / 0x0006 IPv6
 *   0x0007 / 0x0008 source / destination port (16 bits)
 *   0x0009 / 0x000a timestamp seconds / microseconds (32 bits)
 *   0x000b protocol type (8 bits: 1 = SIP)
 *   0x000c capture agent id (32 bits; 16 bits from old agents accepted)
 *   0x000f payload, 0x0010 compressed payload (zlib as captagent and
 *          homer send it; gzip and raw deflate accepted too), inflated
 *          with zlib into at most max_message bytes
 * Other chunks and other vendors' chunks are skipped.
 */
#ifndef REFEREE_CAP_SOURCE_HEP_H
#define REFEREE_CAP_SOURCE_HEP_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "cdr/capture/source/cap_packet.h"
#include "cdr/capture/source/cap_source_pcap.h" /* cap_tick_fn */
#include "cdr/util/cdr_diag.h"

#define CAP_HEP_PROTO_SIP 1

enum cap_hep_code {
    CAP_HEP_OK = 0,
    CAP_HEP_E_NOT_HEP = -1,   /* no "HEP3" magic (HEPv1/v2 included) */
    CAP_HEP_E_TRUNCATED = -2, /* total or a chunk runs past the data */
    CAP_HEP_E_LENGTH = -3,    /* impossible length (total, chunk, value) */
    CAP_HEP_E_MISSING = -4,   /* no payload, family or addresses */
    CAP_HEP_E_FAMILY = -5,    /* family neither IPv4 nor IPv6, or addresses
                                 of the other family */
};

/* Short fixed text for a CAP_HEP_* code. */
const char *cap_hep_strerror(int code);

struct cap_hep_packet {
    struct cap_meta meta; /* addresses, ports, time (0 when absent) */
    int has_time;
    uint8_t ip_proto;       /* 0x0002 as sent */
    uint8_t proto_type;     /* 0x000b; 0 when absent */
    uint32_t capture_id;    /* 0x000c; 0 when absent */
    const uint8_t *payload; /* borrowed from the packet */
    size_t payload_len;
    int compressed; /* payload came from chunk 0x0010 */
};

/*
 * Decode one HEP3 packet in [p, end).  Never reads outside the range.
 * Returns CAP_HEP_OK with out filled (payload points into [p, end)), or a
 * negative CAP_HEP_E_* code.
 */
int cap_hep_decode(const uint8_t *p, const uint8_t *end,
                   struct cap_hep_packet *out);

struct cap_hep_stats {
    uint64_t packets; /* cap_hep_input() calls */
    uint64_t not_hep;
    uint64_t truncated;
    uint64_t bad_length;
    uint64_t missing;
    uint64_t bad_family;
    uint64_t not_sip;        /* proto type other than SIP (RTCP, logs ...) */
    uint64_t inflated;       /* 0x0010 payloads inflated */
    uint64_t inflate_errors; /* 0x0010 payloads that did not inflate */
    uint64_t oversize;       /* payload (inflated or not) over max_message */
    uint64_t keepalives;     /* payload of CR/LF only */
    uint64_t ahead;          /* stamped over CAP_HEP_MAX_AHEAD s after now */
    uint64_t messages;       /* delivered */
};

struct cap_hep;

/*
 * A HEP input: decodes packets and hands SIP payloads to fn (borrowed, with
 * ctx).  max_message 0 means 64 KiB; it also sizes the buffer that
 * compressed payloads are inflated into (allocated here).  NULL when out of
 * memory; free with cap_hep_free() (NULL is a no-op).
 */
struct cap_hep *cap_hep_new(cap_message_fn fn, void *ctx, size_t max_message);
void cap_hep_free(struct cap_hep *h);

/*
 * One received HEP packet (a UDP datagram's payload), borrowed for the call.
 * now_sec/now_usec (the receive time; 0: none) stamp packets without a
 * timestamp chunk.  A packet stamped more than CAP_HEP_MAX_AHEAD seconds
 * after now_sec is counted and skipped: the capture clocks never step back,
 * so one such packet (a wrong agent clock, a forged packet) would leave
 * every open call unable to end and the output file never rotated.
 * Returns 0, or the callback's negative stop value; a bad packet is
 * counted, not an error.
 */
#define CAP_HEP_MAX_AHEAD 300
int cap_hep_input(struct cap_hep *h, const uint8_t *p, size_t len,
                  int64_t now_sec, int32_t now_usec);

/* Borrowed; valid until cap_hep_free(). */
const struct cap_hep_stats *cap_hep_stats(const struct cap_hep *h);

struct cap_hep_listener;

/*
 * Bind a UDP socket to "HOST:PORT", "[IPv6]:PORT" or ":PORT" / "PORT" (all
 * addresses).  Returns 0 and *out (close with cap_hep_listener_close()), or
 * a negative CDR_E_* code with d filled.
 */
int cap_hep_listener_open(const char *hostport, struct cap_hep_listener **out,
                          struct cdr_diag *d);

/* The bound port (host order), useful after binding port 0. */
uint16_t cap_hep_listener_port(const struct cap_hep_listener *l);

/*
 * Receive datagrams into h until *stop is set or a callback returns
 * negative; tick (may be NULL) is called about every tick_ms (0: 1000) of
 * wall-clock time.  Returns 0 when stopped, the callback's negative value,
 * or CDR_E_IO with d filled.
 */
int cap_hep_listener_run(struct cap_hep_listener *l, struct cap_hep *h,
                         volatile sig_atomic_t *stop, unsigned tick_ms,
                         cap_tick_fn tick, void *tick_ctx, struct cdr_diag *d);

void cap_hep_listener_close(struct cap_hep_listener *l);

#endif

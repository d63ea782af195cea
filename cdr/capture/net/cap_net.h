/*
 * The packet path: one captured link-layer frame in, complete candidate SIP
 * messages out (through cap_message_fn, see cap_packet.h).
 *
 * Link layers: Ethernet (+ 802.1Q / QinQ tags), Linux cooked SLL and SLL2,
 * raw IP (DLT_RAW, DLT_IPV4, DLT_IPV6), BSD loopback (DLT_NULL, DLT_LOOP).
 * IPv4 and IPv6 (extension headers), IP-in-IP (IPv4 proto 4, IPv6 proto 41),
 * fragment reassembly for both, UDP, and TCP stream reassembly per direction
 * (4-tuple) with SIP framing by Content-Length.
 *
 * Everything is bounded by struct cap_net_config; whatever is dropped is
 * counted in struct cap_net_stats.  Memory use is bounded by the caps, not by
 * uptime: old reassembly state is expired by time (packet time, so offline
 * files behave like live capture) and evicted when a table is full.
 *
 * Not thread-safe: one struct cap_net per capture thread.
 */
#ifndef REFEREE_CAP_NET_H
#define REFEREE_CAP_NET_H

#include <stddef.h>
#include <stdint.h>

#include "cdr/capture/source/cap_packet.h"

/* Default capture filter: the SIP ports. `-f` replaces it. */
#define CAP_NET_DEFAULT_FILTER "port 5060 or port 5061"
#define CAP_NET_SNAPLEN 65535

/* Link-layer types, the libpcap DLT_* values (pcap_datalink()). */
#define CAP_DLT_NULL 0
#define CAP_DLT_EN10MB 1
#define CAP_DLT_RAW 12     /* DLT_RAW on Linux and most systems */
#define CAP_DLT_RAW_BSD 14 /* DLT_RAW on OpenBSD */
#define CAP_DLT_RAW_LT 101 /* LINKTYPE_RAW as stored in files */
#define CAP_DLT_LOOP 108
#define CAP_DLT_LINUX_SLL 113
#define CAP_DLT_IPV4 228
#define CAP_DLT_IPV6 229
#define CAP_DLT_LINUX_SLL2 276

struct cap_net_config {
    size_t max_message;            /* one SIP message, bytes (64 KiB) */
    uint32_t max_streams;          /* TCP directions tracked at once */
    size_t max_stream_pending;     /* out-of-order bytes held per stream */
    uint32_t max_stream_segments;  /* out-of-order segments held per stream */
    uint32_t stream_timeout_sec;   /* idle TCP stream forgotten after */
    size_t max_stream_bytes;       /* all streams' buffers together; the
                                      least recently used stream is dropped
                                      when they would exceed it */
    uint32_t max_fragments;        /* IP datagrams being reassembled at once */
    uint32_t max_fragment_parts;   /* fragments per datagram */
    uint32_t fragment_timeout_sec; /* unfinished datagram dropped after */
    uint32_t max_encap;            /* nested VLAN tags / IP-in-IP levels */
};

/* Fill with the defaults above. */
void cap_net_config_default(struct cap_net_config *cfg);

struct cap_net_stats {
    uint64_t frames;    /* cap_net_frame() calls */
    uint64_t bytes;     /* captured bytes seen */
    uint64_t truncated; /* frame shorter than its headers say (snaplen) */
    uint64_t unsupported_link; /* unknown DLT or ethertype / address family */
    uint64_t malformed;        /* impossible header field */
    uint64_t not_udp_tcp;      /* IP payload neither UDP nor TCP (ICMP ...) */
    uint64_t encap_too_deep;   /* more than max_encap tags / tunnels */
    uint64_t ipv4, ipv6;       /* IP packets (outermost and tunnelled) */
    uint64_t udp, tcp;         /* transport segments */
    uint64_t udp_keepalives;   /* datagrams of CR/LF only (RFC 5626) */
    uint64_t udp_empty;
    /* fragments */
    uint64_t frag_fragments;    /* fragments received */
    uint64_t frag_reassembled;  /* datagrams completed */
    uint64_t frag_timeouts;     /* datagrams dropped by age */
    uint64_t frag_evicted;      /* dropped because the table was full */
    uint64_t frag_overlaps;     /* fragments overlapping earlier data */
    uint64_t frag_invalid;      /* bad offsets, too big, too many parts */
    uint32_t frag_inflight;     /* now */
    uint32_t frag_inflight_max; /* high-water mark */
    /* TCP */
    uint64_t tcp_streams;      /* streams created */
    uint64_t tcp_closed;       /* by FIN / RST */
    uint64_t tcp_timeouts;     /* idle streams dropped */
    uint64_t tcp_evicted;      /* dropped because the table was full */
    uint64_t tcp_retransmits;  /* segments wholly before the next byte */
    uint64_t tcp_out_of_order; /* segments held for later */
    uint64_t tcp_ooo_dropped;  /* could not be held (bounds) */
    uint64_t tcp_gaps;         /* bytes never seen: stream resynchronised */
    uint64_t tcp_resyncs;      /* sequence far from the expected one (a new
                                  connection whose SYN was missed) */
    uint32_t tcp_active;       /* now */
    uint32_t tcp_active_max;
    /* SIP framing on streams */
    uint64_t sip_junk_bytes;         /* skipped before a start line */
    uint64_t sip_bad_content_length; /* stream resynchronised */
    uint64_t sip_oversize;           /* message over max_message */
    /* out */
    uint64_t messages; /* delivered to the callback */
    uint64_t messages_udp, messages_tcp;
};

struct cap_net;

/*
 * New packet path.  cfg is copied (NULL: defaults).  fn/ctx are borrowed and
 * called for every message.  Returns NULL when out of memory.  Free with
 * cap_net_free() (NULL is a no-op).
 */
struct cap_net *cap_net_new(const struct cap_net_config *cfg, cap_message_fn fn,
                            void *ctx);
void cap_net_free(struct cap_net *net);

/*
 * One captured frame of link type dlt (CAP_DLT_*), caplen bytes at data
 * (borrowed for the call).  Returns 0, or the callback's negative value when
 * it asked to stop.  A frame that cannot be used is counted, never an error.
 */
int cap_net_frame(struct cap_net *net, int dlt, int64_t ts_sec, int32_t ts_usec,
                  const uint8_t *data, size_t caplen);

/* Whether cap_net_frame() understands link type dlt. */
int cap_net_dlt_supported(int dlt);

/*
 * Time passes: drop fragments and streams older than their timeouts relative
 * to now.  The sources call it about once a second (packet time offline).
 */
void cap_net_expire(struct cap_net *net, int64_t now_sec);

/* Forget all reassembly state (end of a file). */
void cap_net_flush(struct cap_net *net);

/* Counters so far; borrowed, valid until cap_net_free(). */
const struct cap_net_stats *cap_net_stats(const struct cap_net *net);

#endif

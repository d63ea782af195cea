/*
 * libpcap source: live capture on an interface (`any` too) or a pcap/pcapng
 * file, with a BPF filter, feeding the packet path (cap_net).
 *
 * The run loop never blocks longer than the tick interval, stops when the
 * caller's flag is set (a signal handler sets it), and calls a tick function
 * about once per interval (live: wall clock; offline: packet time) so the
 * layers above can expire dialogs.  Reassembly timeouts of cap_net are run
 * on the same tick.
 */
#ifndef REFEREE_CAP_SOURCE_PCAP_H
#define REFEREE_CAP_SOURCE_PCAP_H

#include <signal.h>
#include <stdint.h>

#include "cdr/capture/net/cap_net.h"
#include "cdr/util/cdr_diag.h"

struct cap_pcap_config {
    const char *device; /* live interface name ("any"); borrowed */
    const char *file;   /* or an offline pcap/pcapng file ("-" stdin) */
    const char *filter; /* BPF; NULL: CAP_NET_DEFAULT_FILTER; "": none */
    int snaplen;        /* 0: CAP_NET_SNAPLEN */
    int promisc;        /* live: promiscuous mode */
    int buffer_bytes;   /* live: kernel buffer, 0: libpcap default */
    unsigned tick_ms;   /* 0: 1000 */
};

/*
 * Time passes (about every tick_ms).  Returns 0, or negative to stop the
 * loop.
 */
typedef int (*cap_tick_fn)(void *ctx, int64_t now_sec, int32_t now_usec);

struct cap_pcap_stats {
    uint64_t packets;    /* handed to cap_net by this source */
    uint64_t received;   /* libpcap ps_recv (live) */
    uint64_t dropped;    /* ps_drop: no room in the buffer */
    uint64_t if_dropped; /* ps_ifdrop: dropped by the interface/driver */
    int live;            /* received/dropped are only meaningful live */
};

struct cap_pcap;

/*
 * Open and activate the source and install the filter.  On success *out is
 * the source (free with cap_pcap_close()) and 0 is returned; otherwise a
 * negative CDR_E_* code with d filled (libpcap's text in detail).
 */
int cap_pcap_open(const struct cap_pcap_config *cfg, struct cap_pcap **out,
                  struct cdr_diag *d);

/* The link type (CAP_DLT_*); supported ones only, checked at open. */
int cap_pcap_datalink(const struct cap_pcap *src);

/*
 * Read packets into net until end of file, *stop becomes non-zero, or the
 * message or tick callback returns negative.  stop may be NULL; tick may be
 * NULL.  Returns 0 (end of file or stopped), the callback's negative value,
 * or CDR_E_IO with d filled.
 */
int cap_pcap_run(struct cap_pcap *src, struct cap_net *net,
                 volatile sig_atomic_t *stop, cap_tick_fn tick, void *tick_ctx,
                 struct cdr_diag *d);

/* Counters; the libpcap ones are refreshed from pcap_stats() when live. */
void cap_pcap_get_stats(struct cap_pcap *src, struct cap_pcap_stats *out);

void cap_pcap_close(struct cap_pcap *src);

/*
 * Drop root after opening the capture, like tcpdump -Z: initgroups or
 * setgroups to the user's groups, setgid, setuid, and check that root cannot
 * be regained.  A no-op returning 0 when user is NULL.  Returns 0 or a
 * negative CDR_E_* code with d filled.
 */
int cap_drop_privileges(const char *user, struct cdr_diag *d);

#endif

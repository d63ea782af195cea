/*
 * The seam between the packet path (pcap / HEP sources, link layers, IP
 * reassembly, TCP streams) and the SIP layer: complete candidate SIP
 * messages with their addresses and time.
 */
#ifndef REFEREE_CAP_PACKET_H
#define REFEREE_CAP_PACKET_H

#include <stddef.h>
#include <stdint.h>

enum cap_transport {
    CAP_TRANSPORT_UDP = 1,
    CAP_TRANSPORT_TCP,
    CAP_TRANSPORT_TLS, /* only from HEP: decrypted by the sender */
    CAP_TRANSPORT_SCTP,
};

struct cap_addr {
    int family;     /* AF_INET or AF_INET6 */
    uint8_t ip[16]; /* network order; IPv4 in the first 4 bytes */
    uint16_t port;  /* host order */
};

struct cap_meta {
    int64_t ts_sec; /* capture time, UTC epoch */
    int32_t ts_usec;
    struct cap_addr src, dst;
    enum cap_transport transport;
};

/*
 * Called once per SIP message payload (UDP datagram payload, or one message
 * cut from a TCP stream by Content-Length framing).  data is borrowed for the
 * call only.  Returns 0; a negative value stops the source.
 */
typedef int (*cap_message_fn)(void *ctx, const struct cap_meta *meta,
                              const uint8_t *data, size_t len);

#endif

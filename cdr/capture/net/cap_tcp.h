/*
 * TCP stream reassembly per direction (4-tuple) and SIP framing on a byte
 * stream (RFC 3261 18.3: headers end at an empty line, the body is
 * Content-Length bytes, a missing Content-Length on a stream means 0).
 *
 * Used by cap_net.c; the framer is public so tests and the HEP path can cut
 * messages from any byte stream.
 */
#ifndef REFEREE_CAP_TCP_H
#define REFEREE_CAP_TCP_H

#include <stddef.h>
#include <stdint.h>

#include "cdr/capture/net/cap_net.h"
#include "cdr/capture/source/cap_packet.h"

enum cap_frame_status {
    CAP_FRAME_MESSAGE = 0, /* a whole message at skip, len bytes */
    CAP_FRAME_MORE,        /* need more bytes; drop skip bytes first */
    CAP_FRAME_SKIP,        /* drop skip bytes (resynchronise) and retry */
};

enum cap_frame_reason {
    CAP_FRAME_OK = 0,
    CAP_FRAME_BAD_CONTENT_LENGTH,
    CAP_FRAME_OVERSIZE,
};

struct cap_frame {
    size_t skip; /* bytes before the message (keep-alives, junk) or to drop */
    size_t junk; /* of skip: bytes that were not CR/LF keep-alives */
    size_t len;  /* CAP_FRAME_MESSAGE: message length */
    enum cap_frame_reason reason; /* CAP_FRAME_SKIP: why */
};

/*
 * Find the next SIP message in [p, end).  Never reads outside the range.
 * Returns an enum cap_frame_status and fills out.  A message longer than
 * max_message is refused (CAP_FRAME_SKIP, CAP_FRAME_OVERSIZE).
 */
int cap_stream_frame(const uint8_t *p, const uint8_t *end, size_t max_message,
                     struct cap_frame *out);

/*
 * Whether [p, end) (one line without its line end) is a SIP start line:
 * "SIP/2.0 NNN ..." or "METHOD uri SIP/2.0".
 */
int cap_stream_is_start_line(const uint8_t *p, const uint8_t *end);

struct cap_tcp;

/* cfg and stats are borrowed and must outlive the tracker; fn/ctx too. */
struct cap_tcp *cap_tcp_new(const struct cap_net_config *cfg,
                            struct cap_net_stats *stats, cap_message_fn fn,
                            void *ctx);
void cap_tcp_free(struct cap_tcp *t);

#define CAP_TCP_FIN 0x01
#define CAP_TCP_SYN 0x02
#define CAP_TCP_RST 0x04

/*
 * One TCP segment of the direction meta->src -> meta->dst: sequence number,
 * flags (CAP_TCP_*), payload (borrowed).  Returns 0 or the callback's
 * negative stop value.
 */
int cap_tcp_segment(struct cap_tcp *t, const struct cap_meta *meta,
                    uint32_t seq, unsigned flags, const uint8_t *p, size_t len);

void cap_tcp_expire(struct cap_tcp *t, int64_t now_sec);
void cap_tcp_flush(struct cap_tcp *t);

#endif

/*
 * Fuzz the packet path: link layers, IP, fragments, UDP, TCP streams and SIP
 * framing.  Input: byte 0 picks the link type, byte 1 the bounds (small ones
 * so eviction and resynchronisation are reached), then frames, each a 16-bit
 * big-endian length and that many bytes (the last one may be short).  One
 * cap_net per input, so fragments and streams span frames; time advances a
 * second per frame so timeouts are reached too.
 */
#include <stddef.h>
#include <stdint.h>

#include "cdr/capture/net/cap_net.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int dlts[] = {
    CAP_DLT_EN10MB, CAP_DLT_LINUX_SLL, CAP_DLT_LINUX_SLL2, CAP_DLT_RAW,
    CAP_DLT_NULL,   CAP_DLT_LOOP,      CAP_DLT_IPV4,       CAP_DLT_IPV6,
};

static int
touch(void *ctx, const struct cap_meta *meta, const uint8_t *p, size_t len)
{
    unsigned *sum = ctx;
    (void)meta;
    for (size_t i = 0; i < len; i++) /* every byte must be readable */
        *sum += p[i];
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    int dlt = dlts[data[0] % (sizeof dlts / sizeof dlts[0])];
    struct cap_net_config cfg;
    cap_net_config_default(&cfg);
    if (data[1] & 1) {
        cfg.max_message = 512;
        cfg.max_streams = 2;
        cfg.max_stream_segments = 2;
        cfg.max_stream_pending = 1024;
        cfg.max_stream_bytes = 4096;
        cfg.max_fragments = 2;
        cfg.max_fragment_parts = 4;
        cfg.fragment_timeout_sec = 2;
        cfg.stream_timeout_sec = 3;
        cfg.max_encap = 2;
    }
    unsigned sum = 0;
    struct cap_net *net = cap_net_new(&cfg, touch, &sum);
    if (net == NULL)
        return 0;
    const uint8_t *p = data + 2, *end = data + size;
    int64_t t = 1000;
    while (end - p >= 2) {
        size_t len = (size_t)((p[0] << 8) | p[1]);
        p += 2;
        if (len > (size_t)(end - p))
            len = (size_t)(end - p);
        cap_net_frame(net, dlt, t, 0, p, len);
        p += len;
        if (data[1] & 2)
            cap_net_expire(net, ++t);
    }
    cap_net_free(net);
    return 0;
}

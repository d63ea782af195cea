/*
 * Fuzz the HEPv3 decoder and delivery: the input is one received datagram.
 */
#include <stddef.h>
#include <stdint.h>

#include "cdr/capture/source/cap_source_hep.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
touch(void *ctx, const struct cap_meta *meta, const uint8_t *p, size_t len)
{
    unsigned *sum = ctx;
    *sum += (unsigned)meta->src.port;
    for (size_t i = 0; i < len; i++)
        *sum += p[i];
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned sum = 0;
    struct cap_hep_packet pk;
    if (cap_hep_decode(data, data + size, &pk) == CAP_HEP_OK)
        for (size_t i = 0; i < pk.payload_len; i++) /* inside the input */
            sum += pk.payload[i];
    struct cap_hep *h = cap_hep_new(touch, &sum, 1024);
    if (h == NULL)
        return 0;
    cap_hep_input(h, data, size, 1, 2);
    cap_hep_free(h);
    return 0;
}

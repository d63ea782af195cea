/*
 * Fuzz SIP framing on a byte stream (cap_stream_frame): cut messages from the
 * input as a TCP stream would be cut, with a small and a large bound.
 */
#include <stddef.h>
#include <stdint.h>

#include "cdr/capture/net/cap_tcp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t bounds[] = {64, 65536};
    for (size_t b = 0; b < 2; b++) {
        const uint8_t *p = data, *end = data + size;
        unsigned sum = 0;
        while (p < end) {
            struct cap_frame f;
            int rc = cap_stream_frame(p, end, bounds[b], &f);
            if (f.skip > (size_t)(end - p))
                __builtin_trap();
            if (rc == CAP_FRAME_MORE)
                break;
            if (rc == CAP_FRAME_MESSAGE) {
                if (f.len == 0 || f.len > bounds[b] ||
                    f.len > (size_t)(end - p) - f.skip)
                    __builtin_trap();
                for (size_t i = 0; i < f.len; i++)
                    sum += p[f.skip + i];
                p += f.skip + f.len;
            } else {
                if (f.skip == 0) /* no progress: would loop for ever */
                    __builtin_trap();
                p += f.skip;
            }
        }
        (void)sum;
    }
    return 0;
}

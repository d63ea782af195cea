/*
 * Fuzz the DEFLATE decoder: the input is one compressed payload (zlib, gzip
 * or raw, told by its first bytes as in HEP chunk 0x0010).  Beyond "no
 * crash", a stream that inflates must give the same bytes into a buffer of
 * exactly its size (heap, so ASan sees one byte too far) and be refused as
 * too large with one byte less.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cdr/capture/source/cap_inflate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t out[64 * 1024];

static void
check_exact_room(const uint8_t *data, size_t size, size_t n)
{
    uint8_t *room = malloc(n ? n : 1);
    size_t m = 1;
    if (room == NULL)
        return;
    if (cap_inflate(data, size, room, n, &m) != CAP_INFLATE_OK || m != n ||
        memcmp(room, out, n) != 0)
        abort();
    if (n > 0 &&
        (cap_inflate(data, size, room, n - 1, &m) != CAP_INFLATE_E_OUTPUT ||
         m != 0))
        abort();
    free(room);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t n = 1;
    int rc = cap_inflate(data, size, out, sizeof out, &n);
    if (rc == CAP_INFLATE_OK)
        check_exact_room(data, size, n);
    else if (rc > 0 || rc < CAP_INFLATE_E_CHECK || n != 0)
        abort();
    return 0;
}

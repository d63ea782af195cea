#include "cdr/util/cdr_utf8.h"

#include <stdint.h>
#include <string.h>

size_t
cdr_utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len, i;
    if (c >= 0x01 && c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        len = 2;
    else if (c >= 0xe0 && c <= 0xef)
        len = 3;
    else if (c >= 0xf0 && c <= 0xf4)
        len = 4;
    else
        return 0; /* NUL, continuation byte, 0xc0/0xc1, 0xf5.. */
    if (n < len)
        return 0;
    for (i = 1; i < len; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    if (c == 0xe0 && s[1] < 0xa0)
        return 0; /* overlong */
    if (c == 0xed && s[1] > 0x9f)
        return 0; /* surrogate */
    if (c == 0xf0 && s[1] < 0x90)
        return 0; /* overlong */
    if (c == 0xf4 && s[1] > 0x8f)
        return 0; /* > U+10FFFF */
    return len;
}

size_t
cdr_utf8_ascii_prefix(const unsigned char *u, size_t n)
{
    size_t i = 0;
    for (; n - i >= 8; i += 8) {
        uint64_t v;
        memcpy(&v, u + i, 8);
        /* a byte >= 0x80 shows in v, a NUL in v - 0x01..01 (its borrow
         * only reaches bytes above it) */
        if (((v | (v - 0x0101010101010101u)) & 0x8080808080808080u) != 0)
            break;
    }
    return i;
}

int
cdr_utf8_clean(const char *s, size_t n, char *out, size_t outsz)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t o = 0, i = 0;
    while (i < n) {
        size_t len = cdr_utf8_len(u + i, n - i);
        const char *src = len ? s + i : CDR_UTF8_REPLACEMENT;
        size_t k = len ? len : 3;
        if (o + k + 1 > outsz)
            return -1;
        memcpy(out + o, src, k);
        o += k;
        i += len ? len : 1;
    }
    if (o + 1 > outsz)
        return -1;
    out[o] = '\0';
    return (int)o;
}

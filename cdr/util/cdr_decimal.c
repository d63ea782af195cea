#include "cdr/util/cdr_decimal.h"

#include "cdr/util/cdr_ascii.h"

#include <string.h>

__extension__ typedef unsigned __int128 cdr_u128;

static const uint64_t pow10_u64[CDR_DECIMAL_MAX_SCALE + 1] = {
    1u,      10u,      100u,      1000u,      10000u,
    100000u, 1000000u, 10000000u, 100000000u, 1000000000u,
};

const char *
cdr_decimal_strerror(int err)
{
    switch (err) {
    case CDR_DEC_OK: return "ok";
    case CDR_DEC_EMPTY: return "empty";
    case CDR_DEC_SYNTAX: return "not a decimal number";
    case CDR_DEC_NO_FRACTION: return "no digits after the decimal point";
    case CDR_DEC_PLACES: return "too many decimal places";
    case CDR_DEC_NEGATIVE: return "negative";
    case CDR_DEC_RANGE: return "out of range";
    case CDR_DEC_SCALE: return "invalid scale";
    default: return "invalid decimal";
    }
}

int
cdr_decimal_parse(const char *p, size_t n, int scale, int max_places,
                  int allow_negative, int64_t *out)
{
    if (scale < 0 || scale > CDR_DECIMAL_MAX_SCALE || max_places < 0 ||
        max_places > scale)
        return CDR_DEC_SCALE;
    const char *s = p, *end = p + n;
    if (n == 0)
        return CDR_DEC_EMPTY;
    int neg = *s == '-';
    if (neg && !allow_negative)
        return CDR_DEC_NEGATIVE;
    s += neg;
    /* The magnitude stays <= INT64_MAX, checked before every step. */
    const uint64_t unit = pow10_u64[scale];
    const uint64_t max_whole = (uint64_t)INT64_MAX / unit;
    uint64_t whole = 0;
    const char *digits = s;
    for (; s < end && cdr_is_digit(*s); s++) {
        uint64_t dgt = (uint64_t)(*s - '0');
        if (whole > (max_whole - dgt) / 10)
            return CDR_DEC_RANGE;
        whole = whole * 10 + dgt;
    }
    if (s == digits)
        return CDR_DEC_SYNTAX;
    uint64_t frac = 0;
    int places = 0;
    if (s < end && *s == '.') {
        const char *fd = ++s;
        for (; s < end && cdr_is_digit(*s); s++) {
            if (places == max_places)
                return CDR_DEC_PLACES;
            frac = frac * 10 + (uint64_t)(*s - '0');
            places++;
        }
        if (s == fd)
            return CDR_DEC_NO_FRACTION;
    }
    if (s != end)
        return CDR_DEC_SYNTAX;
    frac *= pow10_u64[scale - places];
    uint64_t v = whole * unit;
    if (v > (uint64_t)INT64_MAX - frac)
        return CDR_DEC_RANGE;
    v += frac;
    *out = neg ? -(int64_t)v : (int64_t)v;
    return CDR_DEC_OK;
}

int
cdr_decimal_split(const char *p, size_t n, struct cdr_decimal_parts *out)
{
    if (n == 0)
        return CDR_DEC_EMPTY;
    struct cdr_decimal_parts v = {.negative = p[0] == '-'};
    size_t i = (size_t)v.negative;
    v.whole = p + i;
    while (i < n && cdr_is_digit(p[i]))
        i++;
    v.whole_n = (size_t)(p + i - v.whole);
    if (v.whole_n == 0)
        return CDR_DEC_SYNTAX;
    if (i < n && p[i] == '.') {
        v.frac = p + ++i;
        while (i < n && cdr_is_digit(p[i]))
            i++;
        v.frac_n = (size_t)(p + i - v.frac);
        if (v.frac_n == 0)
            return CDR_DEC_NO_FRACTION;
    }
    if (i != n)
        return CDR_DEC_SYNTAX;
    *out = v;
    return CDR_DEC_OK;
}

/* Digits of v, backwards from end; returns where they start. */
static char *
digits_back(cdr_u128 v, char *end)
{
    while (v > UINT64_MAX) { /* rare: only sums beyond int64 */
        *--end = (char)('0' + (int)(v % 10));
        v /= 10;
    }
    uint64_t u = (uint64_t)v;
    do {
        *--end = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    return end;
}

int
cdr_decimal_format(cdr_i128 v, int scale, int places, char *buf, size_t size)
{
    if (scale < 0 || scale > CDR_DECIMAL_MAX_SCALE || places < 0 ||
        places > scale || size == 0)
        return -1;
    /* The magnitude as unsigned, so the most negative value is fine. */
    cdr_u128 mag = v < 0 ? (cdr_u128)0 - (cdr_u128)v : (cdr_u128)v;
    uint64_t drop = pow10_u64[scale - places];
    uint64_t unit = pow10_u64[places];
    uint64_t frac;
    cdr_u128 whole;
    if (mag <= UINT64_MAX) { /* every amount: 64-bit division is cheaper */
        uint64_t m = (uint64_t)mag;
        if (m % drop != 0)
            return -1; /* would lose digits: never round quietly */
        m /= drop;
        frac = m % unit;
        whole = m / unit;
    } else {
        if (mag % drop != 0)
            return -1;
        mag /= drop;
        frac = (uint64_t)(mag % unit);
        whole = mag / unit;
    }
    char tmp[48];
    char *end = tmp + sizeof tmp, *p = end;
    for (int i = 0; i < places; i++) {
        *--p = (char)('0' + frac % 10);
        frac /= 10;
    }
    if (places > 0)
        *--p = '.';
    p = digits_back(whole, p);
    if (v < 0)
        *--p = '-';
    size_t len = (size_t)(end - p);
    if (len + 1 > size)
        return -1;
    memcpy(buf, p, len);
    buf[len] = '\0';
    return (int)len;
}

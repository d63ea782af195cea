/*
 * Money without floating point: see rt_money.h for the rounding rule.
 */
#include "rating/price/rt_money.h"

#include <string.h>

__extension__ typedef __int128 rt_i128;

static const int64_t rt_pow10[RT_MAX_DECIMALS + 1] = {
    1LL,      10LL,      100LL,      1000LL,      10000LL,
    100000LL, 1000000LL, 10000000LL, 100000000LL, 1000000000LL,
};

static const struct {
    const char *name;
    enum rt_rounding mode;
} rt_rounding_names[] = {
    {"half-up", RT_ROUND_HALF_UP},
    {"half-even", RT_ROUND_HALF_EVEN},
    {"up", RT_ROUND_UP},
    {"down", RT_ROUND_DOWN},
};

int
rt_rounding_parse(const char *s, size_t n, enum rt_rounding *out)
{
    for (size_t i = 0;
         i < sizeof rt_rounding_names / sizeof rt_rounding_names[0]; i++) {
        const char *name = rt_rounding_names[i].name;
        if (strlen(name) == n && memcmp(name, s, n) == 0) {
            *out = rt_rounding_names[i].mode;
            return 0;
        }
    }
    return -1;
}

const char *
rt_rounding_name(enum rt_rounding r)
{
    for (size_t i = 0;
         i < sizeof rt_rounding_names / sizeof rt_rounding_names[0]; i++) {
        if (rt_rounding_names[i].mode == r)
            return rt_rounding_names[i].name;
    }
    return "unknown";
}

/*
 * q = v / unit rounded with mode.  C division truncates toward zero, so
 * q0 is the "down" result and r carries v's sign; everything else is an
 * adjustment of one step away from zero.
 */
static rt_i128
rt_round_div(rt_i128 v, rt_i128 unit, enum rt_rounding mode)
{
    rt_i128 q = v / unit;
    rt_i128 r = v % unit;
    if (r == 0)
        return q;
    rt_i128 ar = r < 0 ? -r : r;
    int away;
    switch (mode) {
    case RT_ROUND_UP: away = 1; break;
    case RT_ROUND_DOWN: away = 0; break;
    case RT_ROUND_HALF_EVEN:
        if (2 * ar == unit)
            away = (q % 2) != 0;
        else
            away = 2 * ar > unit;
        break;
    case RT_ROUND_HALF_UP:
    default: away = 2 * ar >= unit; break;
    }
    if (away)
        q += v < 0 ? -1 : 1;
    return q;
}

int
rt_money_amount(int64_t rate_nano, int64_t seconds, int decimals,
                enum rt_rounding mode, int64_t *out_nano)
{
    if (decimals < 0 || decimals > RT_MAX_DECIMALS)
        return CDR_E_LIMIT;
    /* |rate x seconds| < 2^126: exact in 128 bits. */
    rt_i128 v = (rt_i128)rate_nano * (rt_i128)seconds;
    rt_i128 step = rt_pow10[RT_MAX_DECIMALS - decimals];
    rt_i128 q = rt_round_div(v, 60 * step, mode);
    rt_i128 r = q * step;
    if (r > INT64_MAX || r < INT64_MIN)
        return CDR_E_LIMIT;
    *out_nano = (int64_t)r;
    return 0;
}

int
rt_money_add(int64_t a, int64_t b, int64_t *out)
{
    if ((b > 0 && a > INT64_MAX - b) || (b < 0 && a < INT64_MIN - b))
        return CDR_E_LIMIT;
    *out = a + b;
    return 0;
}

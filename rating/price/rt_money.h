/*
 * Money without floating point.  Rates and amounts are int64 counts of
 * 10^-9 of the currency unit ("nano"); rates have at most 9 decimals.
 *
 * Rounding rule: amount = rate x billable_seconds / 60, computed exactly in
 * 128-bit integers and rounded ONCE per charge component to the deck's
 * `decimals` places with the deck's mode:
 *   half-up   ties away from zero      half-even ties to the even digit
 *   up        away from zero           down      towards zero
 * Negative amounts round symmetrically: at 6 places -0.0000005 becomes
 * -0.000001 (half-up, up) or 0.000000 (half-even, down); 0.0000015 becomes
 * 0.000002 with half-even.  Sums of rounded components are exact.
 */
#ifndef REFEREE_RT_MONEY_H
#define REFEREE_RT_MONEY_H

#include "cdr/util/cdr_diag.h"

#include <stddef.h>
#include <stdint.h>

#define RT_NANO 1000000000LL
#define RT_MAX_DECIMALS 9

enum rt_rounding {
    RT_ROUND_HALF_UP = 1,
    RT_ROUND_HALF_EVEN,
    RT_ROUND_UP,
    RT_ROUND_DOWN,
};

/* "half-up" ... to the enum; 0 or -1. */
int rt_rounding_parse(const char *s, size_t n, enum rt_rounding *out);
const char *rt_rounding_name(enum rt_rounding r);

/*
 * rate_nano x seconds / 60 rounded to `decimals` places with mode; result in
 * nano (a multiple of 10^(9-decimals)).  Either sign of rate or seconds.
 * 0, or CDR_E_LIMIT when the rounded amount does not fit int64 nano or
 * decimals is outside 0..9 (*out_nano untouched).
 */
int rt_money_amount(int64_t rate_nano, int64_t seconds, int decimals,
                    enum rt_rounding mode, int64_t *out_nano);

/* a + b with overflow check: 0 or CDR_E_LIMIT. */
int rt_money_add(int64_t a, int64_t b, int64_t *out);

#endif

/*
 * Exact decimals, in and out: the one codec for every number the project
 * reads or writes as text (rates, amounts, carrier prices, fees, whole
 * seconds, counts).  A value is an integer count of 10^-scale units (money
 * is held at scale 9, "nano"; whole numbers at scale 0).
 *
 * The rules, everywhere:
 * - Parsing is strict: "-"? digits ("." digits)?.  No '+', no spaces, no
 *   exponent, no ".5" or "5.", at most max_places decimals: anything else
 *   is an error, never a rounding.
 * - Formatting never rounds: a value with non-zero digits beyond the
 *   places asked for is an error (round first, with rt_money_amount).
 */
#ifndef REFEREE_CDR_DECIMAL_H
#define REFEREE_CDR_DECIMAL_H

#include <stddef.h>
#include <stdint.h>

__extension__ typedef __int128 cdr_i128;

#define CDR_DECIMAL_MAX_SCALE 9

enum cdr_decimal_err {
    CDR_DEC_OK = 0,
    CDR_DEC_EMPTY = -1,
    CDR_DEC_SYNTAX = -2,      /* not "-"? digits ("." digits)? */
    CDR_DEC_NO_FRACTION = -3, /* "5." */
    CDR_DEC_PLACES = -4,      /* more decimals than allowed */
    CDR_DEC_NEGATIVE = -5,    /* a '-' where none is allowed */
    CDR_DEC_RANGE = -6,       /* does not fit int64 at this scale */
    CDR_DEC_SCALE = -7,       /* scale or places outside 0..9 (caller) */
};

/* Short fixed text of an error ("not a decimal number"); never NULL. */
const char *cdr_decimal_strerror(int err);

/*
 * p[0..n) as a count of 10^-scale units: "0.0045" at scale 9 is 4500000,
 * "12" at scale 0 is 12.  At most max_places (<= scale) decimals; a '-'
 * only with allow_negative ("-0" is 0).  0 and *out, or a CDR_DEC_* error
 * (*out untouched).  Reads only n bytes.
 */
int cdr_decimal_parse(const char *p, size_t n, int scale, int max_places,
                      int allow_negative, int64_t *out);

/*
 * The parts of p[0..n) read by the same rule as cdr_decimal_parse but
 * with any number of places, for exact decimals kept as text: a carrier's
 * price may have more places than the 9 a count of nano units holds, and
 * PostgreSQL's numeric takes them all.  whole and frac point into p
 * (frac_n is 0 without a point; whole keeps its leading zeros).  0 and
 * *out, or CDR_DEC_EMPTY, CDR_DEC_SYNTAX, CDR_DEC_NO_FRACTION (*out
 * untouched).
 */
struct cdr_decimal_parts {
    int negative;
    const char *whole, *frac;
    size_t whole_n, frac_n;
};
int cdr_decimal_split(const char *p, size_t n, struct cdr_decimal_parts *out);

/*
 * v (a count of 10^-scale units) as text with exactly `places` decimals
 * ("-0.004500"; "12" for places 0), NUL-terminated in buf.  The length,
 * or -1 when v has non-zero digits beyond `places` (never rounds), places
 * > scale, or buf is too small (a 128-bit value needs at most 42 bytes).
 */
int cdr_decimal_format(cdr_i128 v, int scale, int places, char *buf,
                       size_t size);

#endif

/*
 * Strict field parsers.  They take (p, end), never assume NUL termination,
 * never read past end, and accept only the whole range (no trailing bytes;
 * callers trim surrounding spaces first if they want to allow them).
 */
#ifndef REFEREE_CDR_PARSE_H
#define REFEREE_CDR_PARSE_H

#include "cdr/record/cdr_record.h"

#include <stdint.h>

/* Non-negative decimal integer, no sign, no spaces, no overflow. 0 or -1. */
int cdr_parse_uint64(const char *p, const char *end, uint64_t *out);

/* The same with an optional leading '-', within -INT64_MAX..INT64_MAX. */
int cdr_parse_int64(const char *p, const char *end, int64_t *out);

/*
 * ISO 8601 with offset or Z ("2026-05-10T08:02:17Z", "...+02:00", "+0200",
 * fractional seconds allowed and dropped, a space allowed for 'T') or
 * RFC 2822 ("Tue, 10 Aug 2010 08:02:17 +0000", weekday optional, checked
 * when present).  Out: UTC epoch seconds.  0 or -1.  No libc time functions.
 */
int cdr_parse_time(const char *p, const char *end, int64_t *out);

/* Days since 1970-01-01 of a proleptic Gregorian date (valid dates only). */
int64_t cdr_days_from_civil(int64_t y, unsigned m, unsigned d);

/* The inverse: year, month 1..12 and day 1..31 of day z since 1970-01-01,
 * for any int64 z. */
void cdr_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);

/* Format epoch seconds as "2026-05-10T08:02:17Z" (buf >= 21 bytes). */
void cdr_format_time(int64_t t, char *buf, size_t size);

enum cdr_addr_kind {
    CDR_ADDR_E164 = 1, /* +14155550100 or 14155550100 (digits only) */
    CDR_ADDR_TEL,      /* tel:+14155550100 (params after ';' ignored) */
    CDR_ADDR_SIP,      /* sip:user@host[:port][;params] or sips:, <> allowed */
};

/*
 * An address in a from/to/Refer-To field.  digits: the number's digits
 * without '+' or visual separators ('-', '.', '(', ')' inside tel:), empty if
 * the user part is not a number.  user and host only for SIP (host lower-case
 * comparison is the caller's job).  Slices borrow from the input.
 */
struct cdr_addr {
    enum cdr_addr_kind kind;
    struct cdr_slice user;
    struct cdr_slice host;
    char digits[32];
    size_t ndigits;
};

/* 0 or -1 (malformed: empty, unknown scheme, no host, bad number ...). */
int cdr_parse_addr(const char *p, const char *end, struct cdr_addr *out);

/*
 * Whether a number at host is on the PSTN: host is the trunk's termination
 * domain (case-insensitive; NULL or "": the trunk has none), else any
 * "*.pstn.twilio.com".  A trailing dot (fully qualified) is the same host.
 * The one rule for referee-rate (scenario) and referee-capture (how it
 * writes a transfer target), which must agree.
 */
int cdr_host_is_pstn(struct cdr_slice host, const char *termination_domain);

/*
 * Exact decimal ("-0.0150", "12", ".5" rejected, no exponent) to a count of
 * 10^-9 units.  0, or -1 when malformed, more than 9 decimals or out of range.
 */
int cdr_parse_decimal_nano(const char *p, const char *end, int64_t *out);

#endif

/*
 * Times: int64 UTC epoch seconds.  The one parser of timestamps (call
 * records, deck dates, --from/--to), the one formatter, and the one split
 * into calendar parts, for every year, without libc's time functions (no
 * time zone or locale can change a result).
 */
#ifndef REFEREE_CDR_TIME_H
#define REFEREE_CDR_TIME_H

#include <stddef.h>
#include <stdint.h>

/*
 * A call record's time: ISO 8601 with offset or Z ("2026-05-10T08:02:17Z",
 * "...+02:00", "+0200", "+02"; 't' or a space for 'T'; a fraction of a
 * second is allowed and dropped), or RFC 2822 ("Tue, 10 Aug 2010 08:02:17
 * +0000", the weekday optional and checked when present, seconds optional,
 * UT/GMT/Z).  0 and *out, or -1 (*out untouched).  Reads only [p, end).
 */
int cdr_time_parse(const char *p, const char *end, int64_t *out);

/*
 * A date as decks and the command line write it: "2026-01-01" (00:00 UTC
 * that day), or an ISO 8601 date and time with offset or Z as above where
 * a fraction of a second must be all zeros (a date is never truncated
 * quietly).  0 and *out, or -1.
 */
int cdr_time_parse_date(const char *p, size_t n, int64_t *out);

/* "2026-05-10T08:02:17Z" (buf >= 21 bytes for years 0..9999; any year is
 * written in full when buf is big enough). */
void cdr_time_format(int64_t t, char *buf, size_t size);

/* Calendar parts of t in UTC. */
struct cdr_tm {
    int64_t year;
    unsigned month, day; /* 1..12, 1..31 */
    unsigned hour, minute, second;
};
void cdr_time_split(int64_t t, struct cdr_tm *out);

/* Days since 1970-01-01 of a proleptic Gregorian date (valid dates only). */
int64_t cdr_days_from_civil(int64_t y, unsigned m, unsigned d);

/* The inverse: year, month 1..12 and day 1..31 of day z since 1970-01-01,
 * for any int64 z. */
void cdr_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);

#endif

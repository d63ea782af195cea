/*
 * Times: UTC epoch seconds, parsed strictly and split into calendar parts
 * without libc's time functions (no time zone, no locale, any year).
 */
#include "cdr/util/cdr_time.h"

#include "cdr/util/cdr_ascii.h"

#include <stdio.h>

/* Exactly n digits at *pp (not past end); advances on success. */
static int
fixed_digits(const char **pp, const char *end, int n, unsigned *out)
{
    const char *s = *pp;
    unsigned v = 0;
    if (end - s < n)
        return -1;
    for (int i = 0; i < n; i++) {
        if (!cdr_is_digit(s[i]))
            return -1;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    *pp = s + n;
    *out = v;
    return 0;
}

static int
expect(const char **pp, const char *end, char c)
{
    if (*pp >= end || **pp != c)
        return -1;
    (*pp)++;
    return 0;
}

static int
is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned
days_in_month(int64_t y, unsigned m)
{
    static const unsigned char dm[12] = {31, 28, 31, 30, 31, 30,
                                         31, 31, 30, 31, 30, 31};
    if (m == 2 && is_leap(y))
        return 29;
    return dm[m - 1];
}

/* Howard Hinnant's days_from_civil, valid for every proleptic Gregorian
 * date; m in 1..12, d in 1..31 (the caller checks the day fits). */
int64_t
cdr_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const int64_t yoe = y - era * 400;                         /* [0, 399] */
    const int64_t mp = (int64_t)(m > 2 ? m - 3 : m + 9);       /* [0, 11] */
    const int64_t doy = (153 * mp + 2) / 5 + (int64_t)d - 1;   /* [0, 365] */
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; /* [0, 146096] */
    return era * 146097 + doe - 719468;
}

void
cdr_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const int64_t doe = z - era * 146097;
    const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const int64_t mp = (5 * doy + 2) / 153;
    *d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    *m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int
floor_mod(int64_t a, int64_t b)
{
    int64_t r = a % b;
    return (int)(r < 0 ? r + b : r);
}

void
cdr_time_split(int64_t t, struct cdr_tm *out)
{
    int64_t days = t / 86400, secs = t % 86400; /* no overflow at INT64_MIN */
    if (secs < 0) {
        secs += 86400;
        days--;
    }
    cdr_civil_from_days(days, &out->year, &out->month, &out->day);
    out->hour = (unsigned)(secs / 3600);
    out->minute = (unsigned)(secs / 60 % 60);
    out->second = (unsigned)(secs % 60);
}

void
cdr_time_format(int64_t t, char *buf, size_t size)
{
    struct cdr_tm tm;
    cdr_time_split(t, &tm);
    snprintf(buf, size, "%04lld-%02u-%02uT%02u:%02u:%02uZ", (long long)tm.year,
             tm.month, tm.day, tm.hour, tm.minute, tm.second);
}

/* Date and time of day to epoch seconds, checking every part's range. */
static int
make_time(unsigned y, unsigned mo, unsigned d, unsigned h, unsigned mi,
          unsigned s, int offset_min, int64_t *out)
{
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month((int64_t)y, mo))
        return -1;
    if (h > 23 || mi > 59 || s > 59)
        return -1;
    int64_t days = cdr_days_from_civil((int64_t)y, mo, d);
    *out = days * 86400 + (int64_t)h * 3600 + (int64_t)mi * 60 + (int64_t)s -
           (int64_t)offset_min * 60;
    return 0;
}

/* A UTC offset of hours and minutes, signed; 0 or -1 out of range. */
static int
offset_minutes(int neg, unsigned oh, unsigned om, int *out)
{
    if (oh > 23 || om > 59)
        return -1;
    *out = neg ? -(int)(oh * 60 + om) : (int)(oh * 60 + om);
    return 0;
}

/* How strict parse_iso is. */
enum {
    ISO_DATE_ONLY_OK = 1,  /* "2026-01-01" alone: 00:00 UTC that day */
    ISO_FRACTION_ZERO = 2, /* a fraction of a second only if all zeros */
};

/* ISO 8601 / RFC 3339 subset: YYYY-MM-DD(T|t| )hh:mm:ss[.f+](Z|z|±hh[[:]mm]) */
static int
parse_iso(const char *p, const char *end, int flags, int64_t *out)
{
    unsigned y, mo, d, h, mi, s, oh = 0, om = 0;
    if (fixed_digits(&p, end, 4, &y) || expect(&p, end, '-') ||
        fixed_digits(&p, end, 2, &mo) || expect(&p, end, '-') ||
        fixed_digits(&p, end, 2, &d))
        return -1;
    if (p == end && (flags & ISO_DATE_ONLY_OK))
        return make_time(y, mo, d, 0, 0, 0, 0, out);
    if (p >= end || (*p != 'T' && *p != 't' && *p != ' '))
        return -1;
    p++;
    if (fixed_digits(&p, end, 2, &h) || expect(&p, end, ':') ||
        fixed_digits(&p, end, 2, &mi) || expect(&p, end, ':') ||
        fixed_digits(&p, end, 2, &s))
        return -1;
    if (p < end && *p == '.') { /* fraction: at least one digit, dropped */
        p++;
        if (p >= end || !cdr_is_digit(*p))
            return -1;
        for (; p < end && cdr_is_digit(*p); p++)
            if (*p != '0' && (flags & ISO_FRACTION_ZERO))
                return -1; /* a deck date never drops a fraction quietly */
    }
    if (p >= end)
        return -1; /* no offset: local time is ambiguous */
    int offset = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int neg = *p == '-';
        p++;
        if (fixed_digits(&p, end, 2, &oh))
            return -1;
        if (p < end) {
            if (*p == ':')
                p++;
            if (fixed_digits(&p, end, 2, &om))
                return -1;
        }
        if (offset_minutes(neg, oh, om, &offset) != 0)
            return -1;
    } else {
        return -1;
    }
    if (p != end)
        return -1;
    return make_time(y, mo, d, h, mi, s, offset, out);
}

/* RFC 2822: [Day, ]D Mon YYYY hh:mm[:ss] (±hhmm|UT|GMT|Z) */
static int
parse_rfc2822(const char *p, const char *end, int64_t *out)
{
    static const char wdays[7][4] = {"Sun", "Mon", "Tue", "Wed",
                                     "Thu", "Fri", "Sat"};
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr",
                                       "May", "Jun", "Jul", "Aug",
                                       "Sep", "Oct", "Nov", "Dec"};
    int wday = -1;
    if (end - p >= 4 && cdr_is_alpha(p[0])) {
        for (int i = 0; i < 7; i++)
            if (cdr_starts_ieq(p, end, wdays[i], 3))
                wday = i;
        if (wday < 0 || p[3] != ',')
            return -1;
        p += 4;
        if (expect(&p, end, ' '))
            return -1;
    }
    unsigned d = 0, mo = 0, y, h, mi, s = 0;
    if (p >= end || !cdr_is_digit(*p))
        return -1;
    d = (unsigned)(*p++ - '0');
    if (p < end && cdr_is_digit(*p))
        d = d * 10 + (unsigned)(*p++ - '0');
    if (expect(&p, end, ' '))
        return -1;
    for (unsigned i = 0; i < 12; i++)
        if (cdr_starts_ieq(p, end, months[i], 3))
            mo = i + 1;
    if (mo == 0)
        return -1;
    p += 3;
    if (expect(&p, end, ' ') || fixed_digits(&p, end, 4, &y) ||
        expect(&p, end, ' ') || fixed_digits(&p, end, 2, &h) ||
        expect(&p, end, ':') || fixed_digits(&p, end, 2, &mi))
        return -1;
    if (p < end && *p == ':') {
        p++;
        if (fixed_digits(&p, end, 2, &s))
            return -1;
    }
    if (expect(&p, end, ' '))
        return -1;
    int offset = 0;
    if (p < end && (*p == '+' || *p == '-')) {
        int neg = *p == '-';
        unsigned oh, om;
        p++;
        if (fixed_digits(&p, end, 2, &oh) || fixed_digits(&p, end, 2, &om) ||
            offset_minutes(neg, oh, om, &offset) != 0)
            return -1;
    } else if (end - p == 2 && cdr_starts_ieq(p, end, "UT", 2)) {
        p += 2;
    } else if (end - p == 3 && cdr_starts_ieq(p, end, "GMT", 3)) {
        p += 3;
    } else if (end - p == 1 && (*p == 'Z' || *p == 'z')) {
        p += 1;
    } else {
        return -1;
    }
    if (p != end)
        return -1;
    int64_t t;
    if (make_time(y, mo, d, h, mi, s, offset, &t))
        return -1;
    if (wday >= 0) {
        /* The weekday is of the local date, before the offset applies. */
        int64_t days = cdr_days_from_civil((int64_t)y, mo, d);
        if (floor_mod(days + 4, 7) != wday) /* 1970-01-01 was a Thursday */
            return -1;
    }
    *out = t;
    return 0;
}

int
cdr_time_parse(const char *p, const char *end, int64_t *out)
{
    if (p >= end)
        return -1;
    /* ISO starts with a 4-digit year; RFC 2822 with a weekday or a 1-2
     * digit day followed by a space. */
    if (end - p >= 5 && cdr_is_digit(p[0]) && cdr_is_digit(p[1]) &&
        cdr_is_digit(p[2]) && cdr_is_digit(p[3]) && p[4] == '-')
        return parse_iso(p, end, 0, out);
    return parse_rfc2822(p, end, out);
}

int
cdr_time_parse_date(const char *p, size_t n, int64_t *out)
{
    return parse_iso(p, p + n, ISO_DATE_ONLY_OK | ISO_FRACTION_ZERO, out);
}

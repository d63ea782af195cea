/*
 * Strict field parsers.  Every parser takes (p, end), reads nothing outside
 * it, and accepts the whole range or nothing: trailing bytes are an error.
 */
#include "cdr/util/cdr_parse.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static int
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int
is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
is_alnum(char c)
{
    return is_digit(c) || is_alpha(c);
}

static char
to_lower(char c)
{
    if (c >= 'A' && c <= 'Z')
        c = (char)(c - 'A' + 'a');
    return c;
}

static int
is_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

int
cdr_parse_uint64(const char *p, const char *end, uint64_t *out)
{
    uint64_t v = 0;
    if (p >= end)
        return -1;
    for (const char *s = p; s < end; s++) {
        if (!is_digit(*s))
            return -1;
        unsigned dgt = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - dgt) / 10)
            return -1;
        v = v * 10 + dgt;
    }
    *out = v;
    return 0;
}

int
cdr_parse_int64(const char *p, const char *end, int64_t *out)
{
    int neg = p < end && *p == '-';
    uint64_t v;
    if (cdr_parse_uint64(p + neg, end, &v) != 0 || v > (uint64_t)INT64_MAX)
        return -1;
    *out = neg ? -(int64_t)v : (int64_t)v;
    return 0;
}

/* Exactly n digits at *pp (not past end); advances on success. */
static int
fixed_digits(const char **pp, const char *end, int n, unsigned *out)
{
    const char *s = *pp;
    unsigned v = 0;
    if (end - s < n)
        return -1;
    for (int i = 0; i < n; i++) {
        if (!is_digit(s[i]))
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
cdr_format_time(int64_t t, char *buf, size_t size)
{
    int64_t days = t / 86400, secs = t % 86400; /* no overflow at INT64_MIN */
    if (secs < 0) {
        secs += 86400;
        days--;
    }
    int64_t y;
    unsigned m, d;
    cdr_civil_from_days(days, &y, &m, &d);
    snprintf(buf, size, "%04lld-%02u-%02uT%02d:%02d:%02dZ", (long long)y, m, d,
             (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60));
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

/* ISO 8601 / RFC 3339 subset: YYYY-MM-DD(T|t| )hh:mm:ss[.f+](Z|z|±hh[[:]mm]) */
static int
parse_iso(const char *p, const char *end, int64_t *out)
{
    unsigned y, mo, d, h, mi, s, oh = 0, om = 0;
    if (fixed_digits(&p, end, 4, &y) || expect(&p, end, '-') ||
        fixed_digits(&p, end, 2, &mo) || expect(&p, end, '-') ||
        fixed_digits(&p, end, 2, &d))
        return -1;
    if (p >= end || (*p != 'T' && *p != 't' && *p != ' '))
        return -1;
    p++;
    if (fixed_digits(&p, end, 2, &h) || expect(&p, end, ':') ||
        fixed_digits(&p, end, 2, &mi) || expect(&p, end, ':') ||
        fixed_digits(&p, end, 2, &s))
        return -1;
    if (p < end && *p == '.') { /* fraction: at least one digit, dropped */
        p++;
        if (p >= end || !is_digit(*p))
            return -1;
        while (p < end && is_digit(*p))
            p++;
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
        if (oh > 23 || om > 59)
            return -1;
        offset = (int)(oh * 60 + om);
        if (neg)
            offset = -offset;
    } else {
        return -1;
    }
    if (p != end)
        return -1;
    return make_time(y, mo, d, h, mi, s, offset, out);
}

static int
word_eq(const char *p, const char *end, const char *w, size_t n)
{
    if ((size_t)(end - p) < n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (to_lower(p[i]) != to_lower(w[i]))
            return 0;
    return 1;
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
    if (end - p >= 4 && is_alpha(p[0])) {
        for (int i = 0; i < 7; i++)
            if (word_eq(p, end, wdays[i], 3))
                wday = i;
        if (wday < 0 || p[3] != ',')
            return -1;
        p += 4;
        if (expect(&p, end, ' '))
            return -1;
    }
    unsigned d = 0, mo = 0, y, h, mi, s = 0;
    if (p >= end || !is_digit(*p))
        return -1;
    d = (unsigned)(*p++ - '0');
    if (p < end && is_digit(*p))
        d = d * 10 + (unsigned)(*p++ - '0');
    if (expect(&p, end, ' '))
        return -1;
    for (unsigned i = 0; i < 12; i++)
        if (word_eq(p, end, months[i], 3))
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
        if (fixed_digits(&p, end, 2, &oh) || fixed_digits(&p, end, 2, &om))
            return -1;
        if (oh > 23 || om > 59)
            return -1;
        offset = (int)(oh * 60 + om);
        if (neg)
            offset = -offset;
    } else if (end - p == 2 && word_eq(p, end, "UT", 2)) {
        p += 2;
    } else if (end - p == 3 && word_eq(p, end, "GMT", 3)) {
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
cdr_parse_time(const char *p, const char *end, int64_t *out)
{
    if (p >= end)
        return -1;
    /* ISO starts with a 4-digit year; RFC 2822 with a weekday or a 1-2
     * digit day followed by a space. */
    if (end - p >= 5 && is_digit(p[0]) && is_digit(p[1]) && is_digit(p[2]) &&
        is_digit(p[3]) && p[4] == '-')
        return parse_iso(p, end, out);
    return parse_rfc2822(p, end, out);
}

/* --- addresses ---------------------------------------------------------- */

#define E164_MAX_DIGITS 15

static int
scheme_is(const char *p, const char *end, const char *scheme)
{
    size_t n = strlen(scheme);
    return word_eq(p, end, scheme, n);
}

/* "+"? DIGIT+ with at most max digits; fills digits. */
static int
plain_number(const char *p, const char *end, size_t max, struct cdr_addr *a)
{
    if (p < end && *p == '+')
        p++;
    if (p >= end)
        return -1;
    size_t n = 0;
    for (; p < end; p++) {
        if (!is_digit(*p) || n >= max)
            return -1;
        a->digits[n++] = *p;
    }
    a->digits[n] = '\0';
    a->ndigits = n;
    return 0;
}

/* RFC 3966 parameter/extension text: printable, no spaces or separators
 * that would end a field. */
static int
param_chars_ok(const char *p, const char *end)
{
    for (; p < end; p++) {
        unsigned char c = (unsigned char)*p;
        if (c <= 0x20 || c >= 0x7f || c == '<' || c == '>' || c == '"' ||
            c == '@')
            return -1;
        if (c == '%' && (end - p < 3 || !is_hex(p[1]) || !is_hex(p[2])))
            return -1;
    }
    return 0;
}

/* (sep name[=value])+ with non-empty names; p starts at a sep. */
static int
params_ok(const char *p, const char *end, char sep)
{
    while (p < end) {
        if (*p != sep)
            return -1;
        p++;
        const char *q = memchr(p, sep, (size_t)(end - p));
        if (q == NULL)
            q = end;
        if (q == p || *p == '=' || param_chars_ok(p, q))
            return -1;
        p = q;
    }
    return 0;
}

/* Is ";name=value" among the ';' params in [p, end)?  Case-insensitive. */
static int
has_param_value(const char *p, const char *end, const char *name,
                const char *value)
{
    size_t nn = strlen(name), vn = strlen(value);
    while (p < end) {
        const char *q = memchr(p + 1, ';', (size_t)(end - p - 1));
        if (q == NULL)
            q = end;
        const char *s = p + 1;
        if ((size_t)(q - s) == nn + 1 + vn && word_eq(s, q, name, nn) &&
            s[nn] == '=' && word_eq(s + nn + 1, q, value, vn))
            return 1;
        p = q;
    }
    return 0;
}

static int
parse_tel(const char *p, const char *end, struct cdr_addr *a)
{
    const char *semi = memchr(p, ';', (size_t)(end - p));
    const char *nend = semi ? semi : end;
    const char *s = p;
    size_t n = 0;
    if (s < nend && *s == '+')
        s++;
    for (; s < nend; s++) {
        if (is_digit(*s)) {
            if (n >= E164_MAX_DIGITS)
                return -1;
            a->digits[n++] = *s;
        } else if (*s != '-' && *s != '.' && *s != '(' && *s != ')') {
            return -1;
        }
    }
    if (n == 0)
        return -1;
    if (semi && params_ok(semi, end, ';'))
        return -1;
    a->digits[n] = '\0';
    a->ndigits = n;
    a->kind = CDR_ADDR_TEL;
    a->user.p = p;
    a->user.n = (size_t)(nend - p);
    return 0;
}

/* RFC 3261 user: unreserved / escaped / user-unreserved "&=+$,;?/" */
static int
sip_user_ok(const char *p, const char *end)
{
    if (p >= end)
        return -1;
    for (; p < end; p++) {
        char c = *p;
        if (is_alnum(c) || strchr("-_.!~*'()&=+$,;?/", c) != NULL) {
            if (c == '\0')
                return -1;
            continue;
        }
        if (c == '%' && end - p >= 3 && is_hex(p[1]) && is_hex(p[2])) {
            p += 2;
            continue;
        }
        return -1;
    }
    return 0;
}

static int
sip_host_ok(const char *p, const char *end)
{
    if (p >= end)
        return -1;
    if (*p == '[') { /* IPv6 reference */
        if (end - p < 4 || end[-1] != ']')
            return -1;
        for (const char *s = p + 1; s < end - 1; s++)
            if (!is_hex(*s) && *s != ':' && *s != '.')
                return -1;
        return 0;
    }
    /* hostname or IPv4: labels of alnum and '-', not starting or ending
     * with '-', separated by single dots; one trailing dot allowed. */
    if (end - p > 1 && end[-1] == '.')
        end--;
    const char *label = p;
    for (const char *s = p;; s++) {
        if (s == end || *s == '.') {
            if (s == label || *label == '-' || s[-1] == '-')
                return -1;
            if (s == end)
                return 0;
            label = s + 1;
        } else if (!is_alnum(*s) && *s != '-') {
            return -1;
        }
    }
}

/* Does the user part look like a number ("+"? DIGIT+)? */
static int
numeric_user(const char *p, const char *end)
{
    if (p < end && *p == '+')
        p++;
    if (p >= end)
        return 0;
    for (; p < end; p++)
        if (!is_digit(*p))
            return 0;
    return 1;
}

static int
parse_sip_uri(const char *p, const char *end, struct cdr_addr *a)
{
    p += scheme_is(p, end, "sips:") ? 5 : 4;
    /* Headers and params cannot hold an unescaped '@', so the one '@' ends
     * the user part (which itself may hold '?' and ';'). */
    const char *at = memchr(p, '@', (size_t)(end - p));
    const char *hp = p;
    a->user.p = p;
    a->user.n = 0;
    if (at != NULL) {
        if (memchr(at + 1, '@', (size_t)(end - at - 1)) != NULL)
            return -1;
        const char *colon = memchr(p, ':', (size_t)(at - p));
        const char *uende = colon ? colon : at; /* a password is dropped */
        if (sip_user_ok(p, uende))
            return -1;
        if (colon != NULL && colon + 1 < at && sip_user_ok(colon + 1, at))
            return -1;
        a->user.n = (size_t)(uende - p);
        hp = at + 1;
    }
    const char *uend = end;
    const char *qm = memchr(hp, '?', (size_t)(end - hp));
    if (qm != NULL) { /* headers: hname=hvalue joined by '&' */
        if (qm + 1 >= end || param_chars_ok(qm + 1, end))
            return -1;
        uend = qm;
    }
    const char *semi = memchr(hp, ';', (size_t)(uend - hp));
    const char *hend = semi ? semi : uend;
    const char *port = NULL;
    if (hp < hend && *hp == '[') {
        const char *rb = memchr(hp, ']', (size_t)(hend - hp));
        if (rb == NULL)
            return -1;
        if (rb + 1 < hend) {
            if (rb[1] != ':')
                return -1;
            port = rb + 1;
        }
    } else {
        port = memchr(hp, ':', (size_t)(hend - hp));
    }
    const char *hostend = port ? port : hend;
    if (sip_host_ok(hp, hostend))
        return -1;
    if (port != NULL) {
        uint64_t pv;
        if (hend - port - 1 > 5 || cdr_parse_uint64(port + 1, hend, &pv) ||
            pv == 0 || pv > 65535)
            return -1;
    }
    if (semi && params_ok(semi, uend, ';'))
        return -1;
    a->host.p = hp;
    a->host.n = (size_t)(hostend - hp);
    a->kind = CDR_ADDR_SIP;
    /* A user part that is a number ("+14155550100", "911") gives digits;
     * one too long for digits[] is refused rather than taken as a name.
     * With ";user=phone" the user part is a tel: number (RFC 3261 19.1.1),
     * visual separators and all, and must be one. */
    const char *ue = a->user.p + a->user.n;
    if (semi != NULL && has_param_value(semi, uend, "user", "phone")) {
        struct cdr_addr t;
        memset(&t, 0, sizeof t);
        if (parse_tel(a->user.p, ue, &t) != 0)
            return -1;
        memcpy(a->digits, t.digits, sizeof a->digits);
        a->ndigits = t.ndigits;
    } else if (numeric_user(a->user.p, ue) &&
               plain_number(a->user.p, ue, sizeof a->digits - 1, a) != 0) {
        return -1;
    }
    return 0;
}

/* "display name" or token words, then spaces, before '<'. */
static int
display_name_ok(const char *p, const char *end)
{
    while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    if (p == end)
        return 0;
    if (*p == '"') {
        const char *s = p + 1;
        for (; s < end; s++) {
            unsigned char c = (unsigned char)*s;
            if (c == '\\') {
                if (s + 1 >= end)
                    return -1;
                s++;
                continue;
            }
            if (c == '"')
                break;
            if (c < 0x20 || c == 0x7f)
                return -1;
        }
        return (s == end - 1 && *s == '"') ? 0 : -1;
    }
    /* token words; UTF-8 bytes are let through (names are not billed) */
    for (const char *s = p; s < end; s++)
        if (!is_alnum(*s) && (unsigned char)*s < 0x80 &&
            (*s == '\0' || strchr(" \t-.!%*_+`'~", *s) == NULL))
            return -1;
    return 0;
}

static int
parse_uri(const char *p, const char *end, struct cdr_addr *a)
{
    if (scheme_is(p, end, "tel:"))
        return parse_tel(p + 4, end, a);
    if (scheme_is(p, end, "sip:") || scheme_is(p, end, "sips:"))
        return parse_sip_uri(p, end, a);
    return -1;
}

int
cdr_host_is_pstn(struct cdr_slice host, const char *termination_domain)
{
    static const char suffix[] = ".pstn.twilio.com";
    const size_t ns = sizeof suffix - 1;
    if (host.n > 1 && host.p[host.n - 1] == '.')
        host.n--;
    if (termination_domain != NULL && termination_domain[0] != '\0')
        return host.n == strlen(termination_domain) &&
               strncasecmp(host.p, termination_domain, host.n) == 0;
    return host.n > ns && strncasecmp(host.p + host.n - ns, suffix, ns) == 0;
}

int
cdr_parse_addr(const char *p, const char *end, struct cdr_addr *out)
{
    struct cdr_addr a;
    memset(&a, 0, sizeof a);
    if (p >= end)
        return -1;
    /* The common case first: a bare E.164 number. */
    if ((*p == '+' || is_digit(*p)) &&
        plain_number(p, end, E164_MAX_DIGITS, &a) == 0) {
        a.kind = CDR_ADDR_E164;
        a.user.p = p;
        a.user.n = (size_t)(end - p);
        *out = a;
        return 0;
    }
    memset(&a, 0, sizeof a);
    for (const char *s = p; s < end; s++)
        if (*s == '\0')
            return -1;
    const char *lt = NULL;
    /* '<' outside a quoted display name starts a name-addr. */
    {
        int inq = 0;
        for (const char *s = p; s < end; s++) {
            if (inq && *s == '\\' && s + 1 < end) {
                s++;
                continue;
            }
            if (*s == '"')
                inq = !inq;
            else if (!inq && *s == '<') {
                lt = s;
                break;
            }
        }
    }
    int rc;
    if (lt != NULL) {
        const char *gt = memchr(lt, '>', (size_t)(end - lt));
        if (gt == NULL || display_name_ok(p, lt))
            return -1;
        rc = parse_uri(lt + 1, gt, &a);
        if (rc == 0 && gt + 1 < end) /* header params after '>' (;tag=) */
            rc = params_ok(gt + 1, end, ';');
    } else {
        rc = parse_uri(p, end, &a);
    }
    if (rc != 0)
        return -1;
    *out = a;
    return 0;
}

/* --- exact decimals ----------------------------------------------------- */

int
cdr_parse_decimal_nano(const char *p, const char *end, int64_t *out)
{
    int neg = 0;
    if (p < end && *p == '-') {
        neg = 1;
        p++;
    }
    if (p >= end || !is_digit(*p))
        return -1;
    uint64_t ip = 0;
    for (; p < end && is_digit(*p); p++) {
        ip = ip * 10 + (uint64_t)(*p - '0');
        if (ip > (uint64_t)INT64_MAX / 1000000000u)
            return -1;
    }
    uint64_t frac = 0;
    int places = 0;
    if (p < end && *p == '.') {
        p++;
        if (p >= end)
            return -1;
        for (; p < end && is_digit(*p); p++) {
            if (++places > 9)
                return -1;
            frac = frac * 10 + (uint64_t)(*p - '0');
        }
        if (places == 0)
            return -1;
    }
    if (p != end)
        return -1;
    for (int i = places; i < 9; i++)
        frac *= 10;
    uint64_t v = ip * 1000000000u;
    if (v > (uint64_t)INT64_MAX - frac)
        return -1;
    v += frac;
    *out = neg ? -(int64_t)v : (int64_t)v;
    return 0;
}

/*
 * Addresses of call records and SIP messages: E.164 numbers, tel: URIs
 * and sip:/sips: URIs (name-addr or addr-spec).  Strict: the whole range
 * or nothing.
 */
#include "cdr/record/cdr_addr.h"

#include "cdr/util/cdr_ascii.h"
#include "cdr/util/cdr_decimal.h"

#include <string.h>
#include <strings.h>

static int
scheme_is(const char *p, const char *end, const char *scheme)
{
    size_t n = strlen(scheme);
    return cdr_starts_ieq(p, end, scheme, n);
}

/* "+"? DIGIT+ with at most max digits; fills digits. */
static int
plain_number(const char *p, const char *end, size_t max, struct cdr_addr *a)
{
    int global = p < end && *p == '+';
    p += global;
    if (p >= end)
        return -1;
    a->global = global;
    size_t n = 0;
    for (; p < end; p++) {
        if (!cdr_is_digit(*p) || n >= max)
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
        if (c == '%' && (end - p < 3 || !cdr_is_hex(p[1]) || !cdr_is_hex(p[2])))
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
        if ((size_t)(q - s) == nn + 1 + vn && cdr_starts_ieq(s, q, name, nn) &&
            s[nn] == '=' && cdr_starts_ieq(s + nn + 1, q, value, vn))
            return 1;
        p = q;
    }
    return 0;
}

int
cdr_number_digits(const char *p, size_t n, char *buf, size_t size)
{
    size_t o = 0;
    if (size == 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (cdr_is_digit(c)) {
            if (o + 1 >= size)
                return -1;
            buf[o++] = c;
        } else if (c != '-' && c != '.' && c != '(' && c != ')') {
            return -1;
        }
    }
    buf[o] = '\0';
    return (int)o;
}

static int
parse_tel(const char *p, const char *end, struct cdr_addr *a)
{
    const char *semi = memchr(p, ';', (size_t)(end - p));
    const char *nend = semi ? semi : end;
    const char *s = p < nend && *p == '+' ? p + 1 : p;
    int n = cdr_number_digits(s, (size_t)(nend - s), a->digits,
                              CDR_E164_MAX_DIGITS + 1);
    if (n <= 0)
        return -1;
    if (semi && params_ok(semi, end, ';'))
        return -1;
    a->ndigits = (size_t)n;
    a->global = s != p;
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
        if (cdr_is_alnum(c) || strchr("-_.!~*'()&=+$,;?/", c) != NULL) {
            if (c == '\0')
                return -1;
            continue;
        }
        if (c == '%' && end - p >= 3 && cdr_is_hex(p[1]) && cdr_is_hex(p[2])) {
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
            if (!cdr_is_hex(*s) && *s != ':' && *s != '.')
                return -1;
        return 0;
    }
    return cdr_addr_hostname_ok(p, (size_t)(end - p)) ? 0 : -1;
}

int
cdr_addr_hostname_ok(const char *p, size_t n)
{
    /* labels of alnum and '-', not starting or ending with '-', separated
     * by single dots; one trailing dot allowed. */
    const char *end = p + n;
    if (n == 0)
        return 0;
    if (n > 1 && end[-1] == '.')
        end--;
    const char *label = p;
    for (const char *s = p;; s++) {
        if (s == end || *s == '.') {
            if (s == label || *label == '-' || s[-1] == '-')
                return 0;
            if (s == end)
                return 1;
            label = s + 1;
        } else if (!cdr_is_alnum(*s) && *s != '-') {
            return 0;
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
        if (!cdr_is_digit(*p))
            return 0;
    return 1;
}

int
cdr_uri_split(struct cdr_slice uri, struct cdr_uri *out)
{
    memset(out, 0, sizeof *out);
    const char *p = uri.p, *end = uri.p + uri.n;
    const char *colon = p ? memchr(p, ':', uri.n) : NULL;
    if (colon == NULL)
        return -1;
    out->scheme = (struct cdr_slice){p, (size_t)(colon - p)};
    int tel = scheme_is(p, colon + 1, "tel:");
    if (!tel && !scheme_is(p, colon + 1, "sip:") &&
        !scheme_is(p, colon + 1, "sips:"))
        return -1;
    p = colon + 1;
    /* The user part ends at the first '@': no part before the host holds
     * one unescaped, and a Replaces header written with a bare '@' (some
     * stacks do) must not move the host. */
    const char *at = tel ? NULL : memchr(p, '@', (size_t)(end - p));
    const char *hp = p;
    if (at != NULL) {
        const char *pw = memchr(p, ':', (size_t)(at - p));
        out->user = (struct cdr_slice){p, (size_t)((pw ? pw : at) - p)};
        if (pw != NULL)
            out->password = (struct cdr_slice){pw + 1, (size_t)(at - pw - 1)};
        out->has_user = 1;
        hp = at + 1;
    }
    const char *qm = memchr(hp, '?', (size_t)(end - hp));
    const char *body_end = qm ? qm : end;
    if (qm != NULL) {
        out->headers = (struct cdr_slice){qm + 1, (size_t)(end - qm - 1)};
        out->has_headers = 1;
    }
    const char *semi = memchr(hp, ';', (size_t)(body_end - hp));
    const char *hend = semi ? semi : body_end;
    if (semi != NULL) {
        out->params =
            (struct cdr_slice){semi + 1, (size_t)(body_end - semi - 1)};
        out->has_params = 1;
    }
    if (tel) { /* the number is the user part; a tel: URI has no host */
        out->user = (struct cdr_slice){hp, (size_t)(hend - hp)};
        out->has_user = 1;
        return out->user.n > 0 ? 0 : -1;
    }
    const char *port = NULL;
    if (hp < hend && *hp == '[') { /* IPv6 reference */
        const char *rb = memchr(hp, ']', (size_t)(hend - hp));
        if (rb == NULL || (rb + 1 < hend && rb[1] != ':'))
            return -1;
        port = rb + 1 < hend ? rb + 1 : NULL;
    } else {
        port = memchr(hp, ':', (size_t)(hend - hp));
    }
    out->host = (struct cdr_slice){hp, (size_t)((port ? port : hend) - hp)};
    if (port != NULL) {
        int64_t pv;
        if (hend - port - 1 > 5 ||
            cdr_decimal_parse(port + 1, (size_t)(hend - port - 1), 0, 0, 0,
                              &pv) != 0 ||
            pv == 0 || pv > 65535)
            return -1;
        out->port = (unsigned)pv;
    }
    return out->host.n > 0 ? 0 : -1;
}

/* Every part of a split sip: URI checked against RFC 3261's grammar. */
static int
sip_parts_ok(const struct cdr_uri *u)
{
    if (u->has_user && sip_user_ok(u->user.p, u->user.p + u->user.n))
        return -1;
    if (u->password.n > 0 &&
        sip_user_ok(u->password.p, u->password.p + u->password.n))
        return -1;
    if (sip_host_ok(u->host.p, u->host.p + u->host.n))
        return -1;
    /* params_ok wants the separator: the slice starts after it */
    if (u->has_params &&
        params_ok(u->params.p - 1, u->params.p + u->params.n, ';'))
        return -1;
    if (u->has_headers &&
        (u->headers.n == 0 ||
         param_chars_ok(u->headers.p, u->headers.p + u->headers.n)))
        return -1;
    return 0;
}

static int
parse_sip_uri(const char *p, const char *end, struct cdr_addr *a)
{
    struct cdr_uri u;
    if (cdr_uri_split((struct cdr_slice){p, (size_t)(end - p)}, &u) != 0 ||
        sip_parts_ok(&u) != 0)
        return -1;
    a->user = u.has_user ? u.user : (struct cdr_slice){u.host.p, 0};
    a->host = u.host;
    a->kind = CDR_ADDR_SIP;
    /* A user part that is a number ("+14155550100", "911") gives digits;
     * one too long for digits[] is refused rather than taken as a name.
     * With ";user=phone" the user part is a tel: number (RFC 3261 19.1.1),
     * visual separators and all, and must be one. */
    /* Percent-escapes are the same user (RFC 3261 19.1.4): sip:%2B49...@
     * is the number +49..., a PSTN target like its plain form. */
    char dec[CDR_MAX_FIELD + 1];
    const char *up = a->user.p, *ue = a->user.p + a->user.n;
    if (memchr(up, '%', a->user.n) != NULL) {
        int dn = cdr_uri_unescape(a->user, dec, sizeof dec);
        if (dn < 0)
            return -1;
        up = dec;
        ue = dec + dn;
    }
    if (u.has_params && has_param_value(u.params.p - 1, u.params.p + u.params.n,
                                        "user", "phone")) {
        struct cdr_addr t;
        memset(&t, 0, sizeof t);
        if (parse_tel(up, ue, &t) != 0)
            return -1;
        memcpy(a->digits, t.digits, sizeof a->digits);
        a->ndigits = t.ndigits;
        a->global = t.global;
    } else if (numeric_user(up, ue) &&
               plain_number(up, ue, sizeof a->digits - 1, a) != 0) {
        return -1;
    }
    return 0;
}

int
cdr_uri_unescape(struct cdr_slice s, char *buf, size_t size)
{
    size_t o = 0;
    if (size == 0)
        return -1;
    for (size_t i = 0; i < s.n; i++) {
        char c = s.p[i];
        if (c == '%') {
            if (i + 2 >= s.n)
                return -1;
            int hi = cdr_hex_value(s.p[i + 1]), lo = cdr_hex_value(s.p[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        if (o + 1 >= size)
            return -1;
        buf[o++] = c;
    }
    buf[o] = '\0';
    return (int)o;
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
        if (!cdr_is_alnum(*s) && (unsigned char)*s < 0x80 &&
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
cdr_addr_is_pstn(const struct cdr_addr *a, const char *termination_domain)
{
    if (a->kind == CDR_ADDR_E164 || a->kind == CDR_ADDR_TEL)
        return 1;
    if (a->ndigits == 0)
        return 0; /* sip:alice@...: never a number */
    return cdr_host_is_pstn(a->host, termination_domain);
}

int
cdr_parse_addr(const char *p, const char *end, struct cdr_addr *out)
{
    struct cdr_addr a;
    memset(&a, 0, sizeof a);
    if (p >= end)
        return -1;
    /* The common case first: a bare E.164 number. */
    if ((*p == '+' || cdr_is_digit(*p)) &&
        plain_number(p, end, CDR_E164_MAX_DIGITS, &a) == 0) {
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

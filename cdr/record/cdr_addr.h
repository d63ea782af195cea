/*
 * Addresses in a call record's from, to and transfer_target, and in SIP
 * headers: the one parser both programs use, and the rule of what a PSTN
 * destination is.
 */
#ifndef REFEREE_CDR_ADDR_H
#define REFEREE_CDR_ADDR_H

#include "cdr/record/cdr_record.h"

#include <stddef.h>
#include <stdint.h>

enum cdr_addr_kind {
    CDR_ADDR_E164 = 1, /* +14155550100 or 14155550100 (digits only) */
    CDR_ADDR_TEL,      /* tel:+14155550100 (params after ';' ignored) */
    CDR_ADDR_SIP,      /* sip:user@host[:port][;params] or sips:, <> allowed */
};

/*
 * An address in a from/to/Refer-To field.  digits: the number's digits
 * without '+' or visual separators ('-', '.', '(', ')' inside tel:), empty if
 * the user part is not a number; global: the number was written with its
 * '+' (an E.164 number, RFC 3966's global number), else it is in a local
 * form (112, 030 1234567, 011 44 ...) that only the trunk's dialling plan
 * can turn into E.164 (cdr_e164).  user and host only for SIP (host lower-case
 * comparison is the caller's job).  Slices borrow from the input.
 */
struct cdr_addr {
    enum cdr_addr_kind kind;
    struct cdr_slice user;
    struct cdr_slice host;
    char digits[32];
    size_t ndigits;
    int global;
};

#define CDR_E164_MAX_DIGITS 15 /* ITU-T E.164: country code included */

/*
 * The digits of a telephone number written with RFC 3966 visual
 * separators ('-', '.', '(', ')'), no '+' and no parameters: p[0..n).
 * NUL-terminated into buf: the number of digits (0: none), or -1 for any
 * other character or when they do not fit.
 */
int cdr_number_digits(const char *p, size_t n, char *buf, size_t size);

/* 0 or -1 (malformed: empty, unknown scheme, no host, bad number ...). */
int cdr_parse_addr(const char *p, const char *end, struct cdr_addr *out);

/*
 * The parts of a sip:, sips: or tel: URI (without <> or a display name):
 *   scheme ":" [user [":" password] "@"] host [":" port] [";" params]
 *   ["?" headers]
 * where the user part ends at the first '@' and the headers start at the
 * first '?' after it; a tel: URI has its number as user and no host.
 * Slices of the URI; a part's has_ flag says it was there (even empty).
 * This is the one way both programs cut a URI: cdr_parse_addr then checks
 * each part's characters, referee-capture takes wire URIs as they come.
 */
struct cdr_uri {
    struct cdr_slice scheme, user, password, host, params, headers;
    unsigned port; /* 1..65535; 0: none */
    int has_user, has_params, has_headers;
};

/* Percent-decode a URI part into buf (size bytes, NUL-terminated): its
 * length, or -1 if it does not fit or an escape is malformed. */
int cdr_uri_unescape(struct cdr_slice s, char *buf, size_t size);

/* 0, or -1: no ':', an unknown scheme, no host (sip), no number (tel), a
 * port outside 1..65535, an IPv6 reference without its ']'. */
int cdr_uri_split(struct cdr_slice uri, struct cdr_uri *out);

/* A host name or IPv4 address as a SIP URI may name it: labels of
 * letters, digits and '-' (not at either end of a label) separated by
 * single dots, one trailing dot allowed.  1 or 0. */
int cdr_addr_hostname_ok(const char *p, size_t n);

/*
 * Whether a number at host is on the PSTN: host is the trunk's termination
 * domain (case-insensitive; NULL or "": the trunk has none), else any
 * "*.pstn.twilio.com".  A trailing dot (fully qualified) is the same host.
 * The one rule for referee-rate (scenario) and referee-capture (how it
 * writes a transfer target), which must agree.
 */
int cdr_host_is_pstn(struct cdr_slice host, const char *termination_domain);

/*
 * Is this address a PSTN destination?  tel: URIs and bare E.164 numbers
 * are; a sip: URI is when its user part is a number and its host is on
 * the PSTN (cdr_host_is_pstn).  Every other sip: URI, even
 * sip:+13105550100@pbx.example.com, is a SIP destination.
 */
int cdr_addr_is_pstn(const struct cdr_addr *a, const char *termination_domain);

#endif

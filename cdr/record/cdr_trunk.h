/*
 * Trunks: the deck's `trunks:` section, the one model and the one reader
 * for both programs.  referee-rate takes the transfer switches from it,
 * referee-capture the termination domain and the carrier's addresses, and
 * both read the same entries with the same checks, so a deck one accepts
 * the other accepts too.
 *
 *   trunks:
 *     - sid: TK0001
 *       transfers: true                    # default false
 *       pstn_transfers: false              # default false
 *       caller_id_for_target: transferee   # or transferor (default transferee)
 *       termination_domain: mytrunk.pstn.twilio.com
 *       carrier_addresses: [54.172.60.0/30, "2600:1f18::/32", 10.0.0.9]
 *       country_code: "1"                  # these three: struct
 *       national_prefix: "1"               #   cdr_dialling below
 *       international_prefixes: ["011"]
 */
#ifndef REFEREE_CDR_TRUNK_H
#define REFEREE_CDR_TRUNK_H

#include "cdr/util/cdr_yaml.h"

#include <stddef.h>
#include <stdint.h>

#define CDR_TRUNKS_MAX 4096          /* trunks in one deck */
#define CDR_TRUNK_MAX_ADDRESSES 1024 /* carrier_addresses of one trunk */
#define CDR_TRUNK_MAX_DOMAIN 253     /* bytes of a termination domain */

enum cdr_caller_id {
    CDR_CALLER_ID_TRANSFEREE = 0, /* the carrier's default */
    CDR_CALLER_ID_TRANSFEROR,
};
const char *cdr_caller_id_name(enum cdr_caller_id c); /* "transferee" ... */

/* An IPv4 or IPv6 address with a prefix length (a single address: 32 or
 * 128). */
struct cdr_cidr {
    int family; /* AF_INET or AF_INET6 */
    uint8_t ip[16];
    unsigned prefix;
};

/* "10.0.0.0/8", "2001:db8::1", "192.0.2.1/32".  0 or -1. */
int cdr_cidr_parse(const char *s, size_t n, struct cdr_cidr *out);
/* Is the address (family, ip: 4 or 16 bytes) inside c?  1 or 0. */
int cdr_cidr_contains(const struct cdr_cidr *c, int family, const uint8_t *ip);

/*
 * How the numbers of a trunk's records that are not written in E.164
 * (without their '+') become E.164, for pricing: the deck's
 *   country_code: "49"              # 1 to 3 digits, not starting with 0
 *   national_prefix: "0"            # default "0"; "" for none
 *   international_prefixes: ["00"]  # up to 4, of 1 to 4 digits
 * Zeroed: none given, and such a number is refused (cdr_e164).
 */
#define CDR_DIAL_MAX_INTL 4
struct cdr_dialling {
    char country_code[4];    /* "" when not given */
    char national_prefix[3]; /* with country_code */
    char intl[CDR_DIAL_MAX_INTL][5];
    size_t n_intl;
};

struct cdr_trunk {
    char *sid;          /* a record id: printable ASCII, no spaces */
    int transfers;      /* 0 unless the deck says true */
    int pstn_transfers; /* 0 unless the deck says true */
    enum cdr_caller_id caller_id_for_target;
    char *termination_domain; /* lower case, no trailing dot; NULL: none */
    struct cdr_cidr *carrier_addresses;
    size_t n_carrier_addresses;
    struct cdr_dialling dialling;
    long line, column; /* where the entry is written */
};

/* A deck's trunks; zeroed is empty.  Owns its strings. */
struct cdr_trunks {
    struct cdr_trunk *items; /* file order */
    size_t n;
    const struct cdr_trunk **by_sid; /* sorted by sid */
};

/*
 * Read the `trunks:` value (a list of mappings) into *out, reporting
 * every problem at its line and column through y: not a list, unknown or
 * repeated keys, a missing or malformed sid, sids given twice, values of
 * the wrong type, a termination domain that is not a host name, an
 * address that is not an IP address or CIDR block, more than the bounds
 * above.  Entries with a problem are left out.  0, or -1 when there was
 * any problem.
 */
int cdr_trunks_read(struct cdr_trunks *out, struct cdr_yaml *y,
                    const yaml_node_t *list);
void cdr_trunks_free(struct cdr_trunks *t);

/* The trunk with this sid (n bytes), or NULL. */
const struct cdr_trunk *cdr_trunks_find(const struct cdr_trunks *t,
                                        const char *sid, size_t n);
/* The first trunk one of whose carrier_addresses contains the address. */
const struct cdr_trunk *cdr_trunks_by_address(const struct cdr_trunks *t,
                                              int family, const uint8_t *ip);
/* The first trunk whose termination_domain is host (any case; a
 * trailing dot is the same host). */
const struct cdr_trunk *cdr_trunks_by_domain(const struct cdr_trunks *t,
                                             const char *host, size_t n);

#endif

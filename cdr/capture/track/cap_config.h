/*
 * The capture feeder's settings from the deck YAML: the `trunks:` section,
 * each trunk with its sid, termination domain and the carrier's signalling
 * hosts.  Every other top-level section belongs to the rater and is ignored.
 *
 *   trunks:
 *     - sid: TK0001
 *       termination_domain: mytrunk.pstn.twilio.com
 *       carrier_addresses: [54.172.60.0/30, "2600:1f18::/32", 10.0.0.9]
 */
#ifndef REFEREE_CAP_CONFIG_H
#define REFEREE_CAP_CONFIG_H

#include "cdr/capture/source/cap_packet.h"
#include "cdr/util/cdr_diag.h"

#include <stddef.h>
#include <stdint.h>

#define CAP_CONFIG_MAX_FILE (16u << 20) /* bytes of YAML read at once */
#define CAP_CONFIG_MAX_SID 64
#define CAP_CONFIG_MAX_DOMAIN 256
#define CAP_CONFIG_MAX_TRUNKS 4096
#define CAP_CONFIG_MAX_NETS 1024 /* carrier_addresses per trunk */

struct cap_cidr {
    int family; /* AF_INET or AF_INET6 */
    uint8_t ip[16];
    unsigned prefix; /* bits */
};

struct cap_trunk {
    char sid[CAP_CONFIG_MAX_SID];
    char termination_domain[CAP_CONFIG_MAX_DOMAIN]; /* lower case, "" if none */
    struct cap_cidr *nets;                          /* owned by the config */
    size_t nnets;
};

struct cap_config {
    struct cap_trunk *trunks; /* owned */
    size_t ntrunks;
};

/*
 * Read path.  *out for the caller to free with cap_config_free().  On error
 * d names the file, line and column (CDR_E_IO, CDR_E_DECK).
 */
int cap_config_load(struct cap_config **out, const char *path,
                    struct cdr_diag *d);
/* The same from memory; name is used in diagnostics. */
int cap_config_parse(struct cap_config **out, const char *text, size_t len,
                     const char *name, struct cdr_diag *d);
void cap_config_free(struct cap_config *c); /* NULL is a no-op */

/* "10.0.0.0/8", "2001:db8::1", "192.0.2.1/32".  0 or -1. */
int cap_cidr_parse(const char *s, struct cap_cidr *out);
int cap_cidr_contains(const struct cap_cidr *n, const struct cap_addr *a);

/* The trunk one of whose carrier_addresses contains a; NULL if none.
 * Borrowed from the config. */
const struct cap_trunk *cap_config_trunk_by_addr(const struct cap_config *c,
                                                 const struct cap_addr *a);
/* The trunk whose termination_domain is host (case-insensitive, n bytes). */
const struct cap_trunk *cap_config_trunk_by_domain(const struct cap_config *c,
                                                   const char *host, size_t n);

#endif

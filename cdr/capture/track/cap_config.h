/*
 * The capture feeder's settings: the deck's `trunks:` section, read by
 * the same reader and with the same checks as referee-rate's
 * (cdr_trunks_read), so a deck one program accepts the other accepts.
 * The capture uses each trunk's sid, termination_domain and
 * carrier_addresses; every other top-level section belongs to the rater
 * and is not read here.
 *
 *   trunks:
 *     - sid: TK0001
 *       termination_domain: mytrunk.pstn.twilio.com
 *       carrier_addresses: [54.172.60.0/30, "2600:1f18::/32", 10.0.0.9]
 */
#ifndef REFEREE_CAP_CONFIG_H
#define REFEREE_CAP_CONFIG_H

#include "cdr/capture/source/cap_packet.h"
#include "cdr/record/cdr_trunk.h"
#include "cdr/util/cdr_diag.h"

#include <stddef.h>

#define CAP_CONFIG_MAX_FILE (16u << 20) /* bytes of YAML read at once */
#define CAP_CONFIG_MAX_ERRORS 50        /* problems kept for the message */

struct cap_config {
    struct cdr_trunks trunks;
};

/*
 * Read path.  *out for the caller to free with cap_config_free().  On a
 * problem every one found (up to CAP_CONFIG_MAX_ERRORS) is added to errs
 * with its file, line and column, and the code is returned: CDR_E_IO,
 * CDR_E_LIMIT, CDR_E_NOMEM or CDR_E_DECK.
 */
int cap_config_load(struct cap_config **out, const char *path,
                    struct cdr_diag_list *errs);
/* The same from memory; name is used in diagnostics. */
int cap_config_parse(struct cap_config **out, const char *text, size_t len,
                     const char *name, struct cdr_diag_list *errs);
void cap_config_free(struct cap_config *c); /* NULL is a no-op */

/* The trunk one of whose carrier_addresses contains a; NULL if none.
 * Borrowed from the config. */
const struct cdr_trunk *cap_config_trunk_by_addr(const struct cap_config *c,
                                                 const struct cap_addr *a);
/* The trunk whose termination_domain is host (any case, n bytes). */
const struct cdr_trunk *cap_config_trunk_by_domain(const struct cap_config *c,
                                                   const char *host, size_t n);

#endif

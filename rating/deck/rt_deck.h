/*
 * The rate deck (rating/README.md, "The rate deck"): prices by service and
 * longest destination prefix (or the `sip` class), effective dates, optional
 * origin prefix, per-entry increments; and the trunks' transfer settings.
 */
#ifndef REFEREE_RT_DECK_H
#define REFEREE_RT_DECK_H

#include "cdr/record/cdr_trunk.h"
#include "cdr/util/cdr_diag.h"
#include "rating/deck/rt_increment.h"
#include "rating/price/rt_money.h"

#include <stddef.h>
#include <stdint.h>

struct rt_deck;

/* Bounds of what a deck holds, for its loader and for what writes decks
 * (referee-rate --import-prices): the text of a rate or of any csv:
 * field, a csv: list's description, the entries of all its files. */
#define RT_DECK_MAX_TEXT 64
#define RT_DECK_MAX_DESCRIPTION 256
#define RT_DECK_MAX_ENTRIES 5000000

/* A deck name as the deck's `deck:` takes it: 1 to 64 printable ASCII
 * characters without spaces.  1 when it is one, else 0. */
int rt_deck_name_ok(const char *s, size_t n);

enum rt_service {
    RT_SVC_TERMINATION = 1,
    RT_SVC_ORIGINATION = 2,
};
const char *rt_service_name(enum rt_service s); /* "termination" ... */

/*
 * Load and validate the whole deck: YAML syntax (line and column), unknown
 * or repeated keys, wrong types, missing required keys (deck, currency,
 * decimals, rounding; increment defaults to 60/60), missing rates, empty or
 * non-digit prefixes (1..32 digits), negative or non-decimal rates, more
 * than 9 decimals, bad increments and dates, effective_to <= effective_from,
 * overlapping effective ranges for the same service + prefix + from_prefix
 * (the sip class too), trunk settings and duplicate trunk sids, csv: files
 * (relative to the YAML's folder) missing or malformed.  Every problem is
 * appended to errs (YAML ones with 1-based line:column, csv ones with the
 * csv file and line; at most 100, then one "too many problems" entry);
 * returns 0 and *out (caller frees with rt_deck_free) only when there is
 * none, else CDR_E_DECK (CDR_E_NOMEM if the deck could not even be set up);
 * *out is NULL then.
 */
int rt_deck_load(struct rt_deck **out, const char *path,
                 struct cdr_diag_list *errs);
void rt_deck_free(struct rt_deck *deck);

const char *rt_deck_name(const struct rt_deck *deck);
const char *rt_deck_currency(const struct rt_deck *deck);
int rt_deck_decimals(const struct rt_deck *deck);
enum rt_rounding rt_deck_rounding(const struct rt_deck *deck);
/* Number of price entries (all services, csv lists included). */
size_t rt_deck_entries(const struct rt_deck *deck);

/* The trunk with this sid, or NULL if the deck does not list it. */
const struct cdr_trunk *rt_deck_trunk(const struct rt_deck *deck,
                                      const char *sid, size_t n);
size_t rt_deck_trunk_count(const struct rt_deck *deck);
const struct cdr_trunk *rt_deck_trunk_at(const struct rt_deck *deck, size_t i);

/*
 * The deck's sha256, stored with every run: the SHA-256 of the lines
 * `sha256sum` prints for every file the deck loaded, the YAML first (by
 * its base name) then each csv: list (by the name the deck gives it), in
 * the order loaded:
 *   cd rates && sha256sum example.yaml example-mobile.csv | sha256sum
 * So a changed price list changes the deck's sha256.  rt_deck_manifest
 * is those lines.  Both borrowed from the deck.
 */
const char *rt_deck_sha256(const struct rt_deck *deck);
const char *rt_deck_manifest(const struct rt_deck *deck);

/*
 * A component's fees (rating/README.md, "Fees"), each the entry's, else
 * the deck's, else none: connect_fee is added once to a billed component,
 * minimum_charge is the least a billed component costs, and a component
 * of free_seconds or fewer is not billed at all.
 */
struct rt_fees {
    int64_t connect_fee_nano; /* >= 0, on the deck's decimals grid */
    int64_t minimum_nano;     /* >= 0, on the deck's decimals grid */
    int64_t free_seconds;     /* >= 0 */
};

/* What a lookup found.  Strings borrow from the deck. */
struct rt_price {
    int64_t rate_nano;             /* per minute */
    const char *rate_text;         /* the rate as written in the deck */
    const char *matched;           /* destination prefix digits, or "sip" */
    const char *from_prefix;       /* "" when the entry has none */
    struct rt_increment increment; /* the entry's, else the deck's */
    struct rt_fees fees;           /* the entry's, else the deck's */
};

/*
 * Price a component: among entries of `service` in force at `at` (epoch
 * seconds; effective_from inclusive, effective_to exclusive), the longest
 * prefix of dest_digits wins, then the longest matching from_prefix of
 * from_digits, then an entry without from_prefix.  An entry whose
 * from_prefix does not match is not applicable, so when a prefix has no
 * applicable entry in force at `at` the next shorter prefix is tried.
 * dest_is_sip selects the `sip` class instead (dest_digits ignored; its
 * from_prefix entries work the same way).  from_digits may be NULL.  Reads
 * only dest_n / from_n bytes, allocates nothing, O(digits); safe to call
 * from several threads on one loaded deck.  0 (*out filled), or
 * CDR_E_NO_RATE (*out untouched).
 */
int rt_deck_price(const struct rt_deck *deck, enum rt_service service,
                  const char *dest_digits, size_t dest_n, int dest_is_sip,
                  const char *from_digits, size_t from_n, int64_t at,
                  struct rt_price *out);

#endif

/*
 * Price plans (rating/README.md, "Price plans"): the customer's price of
 * every component, beside the carrier's cost.  A plans file names plan
 * decks and assigns them to accounts by date:
 *
 *   plans:
 *     - { name: retail, deck: retail.yaml }      # relative to this file
 *     - { name: wholesale, deck: wholesale.yaml }
 *   accounts:                                    # by the leg's start
 *     - { account_sid: AC001, plan: retail }
 *     - { account_sid: AC002, plan: wholesale, effective_to: 2026-06-01 }
 *     - { account_sid: AC002, plan: retail, effective_from: 2026-06-01 }
 *   default_plan: retail   # optional: other accounts, and no account_sid
 */
#ifndef REFEREE_RT_PLANS_H
#define REFEREE_RT_PLANS_H

#include "cdr/util/cdr_diag.h"
#include "cdr/util/cdr_digest.h"
#include "rating/deck/rt_deck.h"

#include <stddef.h>
#include <stdint.h>

#define RT_PLANS_MAX 1000             /* plans in one file */
#define RT_PLANS_MAX_ACCOUNTS 1000000 /* assignments in one file */

struct rt_plan {
    const char *name;           /* 1..64 printable bytes, no spaces */
    const struct rt_deck *deck; /* owned by the plans */
};

struct rt_plans;

/*
 * Load and check the plans file and every plan deck (each with every deck
 * check): unknown or repeated keys, a plan named twice, a deck that fails
 * its checks, an assignment to an unknown plan, overlapping ranges for one
 * account, an unknown default_plan.  Every problem goes to errs (the plan
 * decks' under their own file names); 0 and *out only when there is none,
 * else CDR_E_DECK (or CDR_E_NOMEM).  *out for rt_plans_free().
 */
int rt_plans_load(struct rt_plans **out, const char *path,
                  struct cdr_diag_list *errs);
void rt_plans_free(struct rt_plans *p); /* NULL is a no-op */

size_t rt_plans_count(const struct rt_plans *p);
const struct rt_plan *rt_plans_at(const struct rt_plans *p, size_t i);

/*
 * The plan in force for account (n bytes; n == 0: a record without
 * account_sid) at `at` (effective_from inclusive, effective_to exclusive).
 * An account the file does not list (and no account) gets the default
 * plan; a listed account outside all its ranges gets none.  NULL: no
 * plan.
 */
const struct rt_plan *rt_plans_find(const struct rt_plans *p,
                                    const char *account, size_t n, int64_t at);

/*
 * The plans' sha256, stored with every run: the SHA-256 of a line for the
 * plans file (its sha256 and name, as sha256sum prints it) and one per
 * plan deck (the deck's own sha256, which covers its csv: lists, and the
 * name the plans file gives it), in the file's order.  Borrowed.
 */
const char *rt_plans_sha256(const struct rt_plans *p);

#endif

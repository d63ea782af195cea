/*
 * Charge components of one leg, per the billing table (rating/README.md)
 * (A, B: the parent's from and to; C: the child's to; d: the leg's duration):
 *
 *   scenario          parent / single      child
 *   termination-sip   Term(A->B) x dP      Term(C->B) x dC
 *   termination-pstn  Term(A->B) x dP      Term(A->B) x dC + Term(A->C) x dC
 *   origination-sip   Orig(A->B) x dP      Orig(A->C) x dC
 *   origination-pstn  Orig(A->B) x dP      Orig(A->B) x dC + Term(B->C) x dC
 *
 * A and B always come from the parent's record, so the caller-ID setting that
 * changes the child's `from` never changes its price.  Each component is
 * priced at the leg's own start time.
 */
#ifndef REFEREE_RT_CHARGE_H
#define REFEREE_RT_CHARGE_H

#include "cdr/util/cdr_diag.h"
#include "cdr/record/cdr_record.h"
#include "rating/deck/rt_deck.h"
#include "rating/run/rt_sink.h"

/* The decks that price a leg: the carrier's (the cost), and the plan's
 * for the sell side (NULL: no plans; plan names it in messages). */
struct rt_charge_decks {
    const struct rt_deck *cost;
    const struct rt_deck *sell;
    const char *plan;
};

/*
 * Fill out->comp / n_components for `leg`, each component priced by the
 * cost deck and, when there is one, the sell deck (comp[i].sell) with the
 * same rules.  For RT_LEG_CHILD, parent is the
 * parent's record and scn the child's scenario; otherwise parent is NULL and
 * the call is priced as a parent/single leg.  A billable leg whose component
 * has no rate in force fails with CDR_E_NO_RATE (d names the field and
 * value); a leg that is not billable gets zero billable seconds and zero
 * amount, at the rate in force if there is one.  out->rec, leg and scenario
 * are the caller's.
 */
int rt_charge_leg(const struct rt_charge_decks *decks,
                  const struct cdr_record *call,
                  const struct cdr_record *parent, enum rt_leg leg,
                  enum rt_scenario scn, const struct cdr_trunk *trunk,
                  struct rt_call *out, struct cdr_diag *d);

#endif

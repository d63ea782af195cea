/*
 * The transfer scenario table: origination/termination x SIP/PSTN target,
 * and the rules that refuse a transfer (emergency numbers, trunk switches).
 */
#ifndef REFEREE_RT_SCENARIO_H
#define REFEREE_RT_SCENARIO_H

#include "cdr/util/cdr_diag.h"
#include "cdr/record/cdr_addr.h"
#include "cdr/record/cdr_record.h"
#include "rating/deck/rt_deck.h"
#include "rating/run/rt_sink.h"

/*
 * Is this address a PSTN destination?  tel: URIs and bare E.164 are; a sip:
 * URI is when its host is the trunk's termination_domain, or, when the trunk
 * is unknown or has none, any host under .pstn.twilio.com.  Every other sip:
 * URI (even sip:+13105550100@pbx.example.com) is a SIP destination.
 * trunk may be NULL.
 */
int rt_addr_is_pstn(const struct cdr_addr *a, const struct cdr_trunk *trunk);

/* 911 or 933, with or without +1 / 1, in any address form. */
int rt_addr_is_emergency(const struct cdr_addr *a);

/*
 * The caller ID a transfer's target is shown: the transferee's number by
 * default (termination: B, the party the PBX called; origination: A, the
 * caller), the transferor's with caller_id_for_target: transferor
 * (termination: A; origination: B).  A and B are the parent's from and to;
 * trunk may be NULL (the carrier's default).
 */
struct cdr_slice rt_target_caller_id(const struct cdr_record *parent,
                                     const struct cdr_trunk *trunk);

/*
 * Scenario of a child leg whose target is `target`, on a parent of direction
 * dir.  trunk (may be NULL: not listed in the deck, no switch is checked)
 * must allow transfers, and PSTN transfers for a PSTN target.  0 with *out,
 * or CDR_E_TRANSFER with d naming field "to", the value and the reason.
 */
int rt_classify(enum cdr_direction dir, const struct cdr_trunk *trunk,
                const struct cdr_slice *target, enum rt_scenario *out,
                struct cdr_diag *d);

#endif

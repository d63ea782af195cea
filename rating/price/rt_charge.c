#include "rating/price/rt_charge.h"

#include "cdr/record/cdr_addr.h"
#include "cdr/record/cdr_e164.h"
#include "cdr/util/cdr_time.h"
#include "rating/deck/rt_increment.h"
#include "rating/price/rt_money.h"
#include "rating/price/rt_scenario.h"

#include <stdio.h>
#include <string.h>

/* What one component is: service, x -> y, and which record field y is
 * (for a message that names the field to look at). */
struct comp_spec {
    enum rt_service service;
    const struct cdr_slice *from, *to;
    const char *to_field;
};

/*
 * The amount of a billed component: rate x billable / 60 rounded once to
 * the deck's decimals by its rounding, then the connect fee added and the
 * minimum applied, both exactly (they are on the decimals grid).
 */
static int
component_amount(const struct rt_deck *deck, const struct rt_price *p,
                 int64_t billable, int64_t *out)
{
    int64_t a;
    if (rt_money_amount(p->rate_nano, billable, rt_deck_decimals(deck),
                        rt_deck_rounding(deck), &a) != 0 ||
        rt_money_add(a, p->fees.connect_fee_nano, &a) != 0)
        return CDR_E_LIMIT;
    *out = a < p->fees.minimum_nano ? p->fees.minimum_nano : a;
    return 0;
}

/* A component's addresses, parsed once for both sides; their digits are
 * E.164 (cdr_e164) where a number is priced. */
struct comp_addrs {
    struct cdr_addr to, from;
    int sip;      /* the destination is a SIP URI: the sip class prices it */
    int unpriced; /* a number not in E.164 on a leg not billed */
};

/* A number's digits made E.164 by the trunk's dialling plan, in place.
 * 0, or -1 with *why. */
static int
to_e164(struct cdr_addr *a, const struct cdr_trunk *trunk, const char **why)
{
    char e164[CDR_E164_MAX_DIGITS + 1];
    int n =
        cdr_e164(a, trunk ? &trunk->dialling : NULL, e164, sizeof e164, why);
    if (n < 0)
        return -1;
    memcpy(a->digits, e164, (size_t)n + 1);
    a->ndigits = (size_t)n;
    return 0;
}

/* One side of a component, by deck (the carrier's, or plan's for the sell
 * side: then a missing rate says so). */
static int
price_side(const struct rt_deck *deck, const char *plan,
           const struct cdr_record *call, const struct comp_spec *spec,
           const struct comp_addrs *a, struct rt_side *s, struct cdr_diag *d)
{
    memset(s, 0, sizeof *s);
    struct rt_price p;
    int billable = cdr_record_billable(call);
    if (a->unpriced) {
        s->rate_text = "";
        return 0;
    }
    if (rt_deck_price(deck, spec->service, a->to.digits, a->to.ndigits, a->sip,
                      a->from.digits, a->from.ndigits, call->start_time,
                      &p) != 0) {
        if (billable) {
            char when[32];
            cdr_time_format(call->start_time, when, sizeof when);
            cdr_diag_set(d, CDR_E_NO_RATE, spec->to_field, spec->to->p,
                         spec->to->n, "no %s%s rate in force",
                         plan ? "sell " : "", rt_service_name(spec->service));
            cdr_diag_detail(d, "%s at %s%s%s",
                            a->sip ? "sip class" : "any prefix", when,
                            plan ? " in plan " : "", plan ? plan : "");
            return CDR_E_NO_RATE;
        }
        s->rate_text = "";
        return 0; /* not billed: zero, with no rate to show */
    }
    snprintf(s->matched, sizeof s->matched, "%s", p.matched);
    s->rate_nano = p.rate_nano;
    s->rate_text = p.rate_text;
    /* free seconds: a component this short is not billed at all */
    if (!billable || call->duration <= p.fees.free_seconds)
        return 0;
    s->billable_seconds = rt_increment_billable(p.increment, call->duration);
    if (component_amount(deck, &p, s->billable_seconds, &s->amount_nano) != 0)
        return cdr_diag_set(d, CDR_E_LIMIT, "duration", NULL, 0,
                            "amount out of range");
    return 0;
}

static int
price_component(const struct rt_charge_decks *decks,
                const struct cdr_record *call, const struct comp_spec *spec,
                const struct cdr_trunk *trunk, int index,
                struct rt_component *c, struct cdr_diag *d)
{
    struct comp_addrs a = {.unpriced = 0};
    if (cdr_parse_addr(spec->to->p, spec->to->p + spec->to->n, &a.to) != 0)
        return cdr_diag_set(d, CDR_E_BAD_URI, spec->to_field, spec->to->p,
                            spec->to->n, "malformed address");
    /* An origin that is not a number (or not one the trunk can make
     * E.164) simply matches no from_prefix. */
    const char *why;
    if (cdr_parse_addr(spec->from->p, spec->from->p + spec->from->n, &a.from) !=
            0 ||
        (a.from.ndigits > 0 && to_e164(&a.from, trunk, &why) != 0))
        a.from.ndigits = 0;
    a.sip = !rt_addr_is_pstn(&a.to, trunk);
    if (!a.sip && to_e164(&a.to, trunk, &why) != 0) {
        if (cdr_record_billable(call)) {
            cdr_diag_set(d, CDR_E_NOT_E164, spec->to_field, spec->to->p,
                         spec->to->n, "number not in E.164");
            cdr_diag_detail(d, "%s", why);
            return CDR_E_NOT_E164;
        }
        a.unpriced = 1; /* not billed: zero, no rate looked up */
    }

    memset(c, 0, sizeof *c);
    c->index = index;
    c->service = spec->service;
    c->from = *spec->from;
    c->to = *spec->to;
    c->duration = call->duration;
    struct rt_side cost;
    int rc = price_side(decks->cost, NULL, call, spec, &a, &cost, d);
    if (rc != 0)
        return rc;
    memcpy(c->matched, cost.matched, sizeof c->matched);
    c->rate_nano = cost.rate_nano;
    c->rate_text = cost.rate_text;
    c->billable_seconds = cost.billable_seconds;
    c->amount_nano = cost.amount_nano;
    if (decks->sell == NULL)
        return 0;
    return price_side(decks->sell, decks->plan, call, spec, &a, &c->sell, d);
}

int
rt_charge_leg(const struct rt_charge_decks *decks,
              const struct cdr_record *call, const struct cdr_record *parent,
              enum rt_leg leg, enum rt_scenario scn,
              const struct cdr_trunk *trunk, struct rt_call *out,
              struct cdr_diag *d)
{
    struct comp_spec spec[2];
    int n = 1;
    if (leg != RT_LEG_CHILD) {
        enum rt_service svc = call->direction == CDR_DIR_ORIGINATING
                                  ? RT_SVC_ORIGINATION
                                  : RT_SVC_TERMINATION;
        spec[0] = (struct comp_spec){svc, &call->from, &call->to, "to"};
    } else {
        const struct cdr_slice *A = &parent->from, *B = &parent->to,
                               *C = &call->to;
        switch (scn) {
        case RT_SCN_TERMINATION_SIP:
            spec[0] =
                (struct comp_spec){RT_SVC_TERMINATION, C, B, "parent's to"};
            break;
        case RT_SCN_TERMINATION_PSTN:
            spec[0] =
                (struct comp_spec){RT_SVC_TERMINATION, A, B, "parent's to"};
            spec[1] = (struct comp_spec){RT_SVC_TERMINATION, A, C, "to"};
            n = 2;
            break;
        case RT_SCN_ORIGINATION_SIP:
            spec[0] = (struct comp_spec){RT_SVC_ORIGINATION, A, C, "to"};
            break;
        case RT_SCN_ORIGINATION_PSTN:
            spec[0] =
                (struct comp_spec){RT_SVC_ORIGINATION, A, B, "parent's to"};
            spec[1] = (struct comp_spec){RT_SVC_TERMINATION, B, C, "to"};
            n = 2;
            break;
        case RT_SCN_NONE:
        default:
            return cdr_diag_set(d, CDR_E_TRANSFER, "parent_call_sid", NULL, 0,
                                "child without a transfer scenario");
        }
    }
    for (int i = 0; i < n; i++) {
        int rc = price_component(decks, call, &spec[i], trunk, i + 1,
                                 &out->comp[i], d);
        if (rc != 0)
            return rc;
    }
    out->n_components = n;
    return 0;
}

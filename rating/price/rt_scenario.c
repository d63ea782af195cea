#include "rating/price/rt_scenario.h"

#include <string.h>

const char *
rt_leg_name(enum rt_leg l)
{
    switch (l) {
    case RT_LEG_SINGLE: return "single";
    case RT_LEG_PARENT: return "parent";
    case RT_LEG_CHILD: return "child";
    }
    return "?";
}

const char *
rt_scenario_name(enum rt_scenario s)
{
    switch (s) {
    case RT_SCN_NONE: return "none";
    case RT_SCN_TERMINATION_SIP: return "termination-sip";
    case RT_SCN_TERMINATION_PSTN: return "termination-pstn";
    case RT_SCN_ORIGINATION_SIP: return "origination-sip";
    case RT_SCN_ORIGINATION_PSTN: return "origination-pstn";
    }
    return "?";
}

int
rt_addr_is_pstn(const struct cdr_addr *a, const struct cdr_trunk *trunk)
{
    return cdr_addr_is_pstn(a,
                            trunk != NULL ? trunk->termination_domain : NULL);
}

int
rt_addr_is_emergency(const struct cdr_addr *a)
{
    static const char *const numbers[] = {"911", "933", "1911", "1933"};
    for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++) {
        size_t n = strlen(numbers[i]);
        if (a->ndigits == n && memcmp(a->digits, numbers[i], n) == 0)
            return 1;
    }
    return 0;
}

struct cdr_slice
rt_target_caller_id(const struct cdr_record *parent,
                    const struct cdr_trunk *trunk)
{
    int transferor = trunk != NULL &&
                     trunk->caller_id_for_target == CDR_CALLER_ID_TRANSFEROR;
    /* the transferee is the carrier's party: B on termination, A on
     * origination; the transferor is the PBX's: the other one */
    int show_from = (parent->direction == CDR_DIR_ORIGINATING) != transferor;
    return show_from ? parent->from : parent->to;
}

int
rt_classify(enum cdr_direction dir, const struct cdr_trunk *trunk,
            const struct cdr_slice *target, enum rt_scenario *out,
            struct cdr_diag *d)
{
    struct cdr_addr a;
    if (cdr_parse_addr(target->p, target->p + target->n, &a) != 0)
        return cdr_diag_set(d, CDR_E_BAD_URI, "to", target->p, target->n,
                            "malformed transfer target");
    if (rt_addr_is_emergency(&a))
        return cdr_diag_set(d, CDR_E_TRANSFER, "to", target->p, target->n,
                            "transfer to an emergency number is not allowed");
    int pstn = rt_addr_is_pstn(&a, trunk);
    if (trunk != NULL && !trunk->transfers)
        return cdr_diag_set(d, CDR_E_TRANSFER, "to", target->p, target->n,
                            "transfers are disabled on trunk %s", trunk->sid);
    if (trunk != NULL && pstn && !trunk->pstn_transfers)
        return cdr_diag_set(d, CDR_E_TRANSFER, "to", target->p, target->n,
                            "PSTN transfers are disabled on trunk %s",
                            trunk->sid);
    if (dir == CDR_DIR_TERMINATING)
        *out = pstn ? RT_SCN_TERMINATION_PSTN : RT_SCN_TERMINATION_SIP;
    else
        *out = pstn ? RT_SCN_ORIGINATION_PSTN : RT_SCN_ORIGINATION_SIP;
    return 0;
}

/*
 * The tracker: its life cycle, the dispatch of each SIP message to the
 * call it belongs to, call states, and expiry by timeout class.  Transfers
 * are matched in cap_transfer.c, records built in cap_record.c, the state
 * file kept in cap_state.c.
 */
#include "cdr/capture/track/cap_track_int.h"
#include "cdr/record/cdr_record.h"

#include <stdlib.h>
#include <string.h>

void
cap_tracker_opts_default(struct cap_tracker_opts *o)
{
    o->max_dialogs = 200000;
    o->invite_timeout = 300;
    o->dialog_timeout = 14400;
    o->xfer_window = 120;
    o->linger = 32;
}

/* ---- the dialog table ---- */

void
cap_track_remove_dialog(struct cap_tracker *t, struct cap_dialog *d)
{
    if (d->xfer != NULL) {
        cap_xfer_pending_remove(t, d->xfer);
        cap_xfer_free(d->xfer);
        d->xfer = NULL;
    }
    cap_dialog_remove(t->tab, d, NULL);
}

struct cap_dialog *
cap_track_add_dialog(struct cap_tracker *t, struct cdr_slice cid,
                     enum cap_dialog_class cls)
{
    struct cap_dialog *d = cap_dialog_add(t->tab, cid.p, cid.n, cls, t->now_us);
    if (d == NULL && cap_dialog_count(t->tab) >= cap_dialog_max(t->tab)) {
        /* Full: give up the oldest call already written, never a live one. */
        struct cap_dialog *old = cap_dialog_oldest(t->tab, CAP_DC_LINGER);
        if (old == NULL)
            old = cap_dialog_oldest(t->tab, CAP_DC_ALIAS);
        if (old != NULL) {
            cap_track_remove_dialog(t, old);
            d = cap_dialog_add(t->tab, cid.p, cid.n, cls, t->now_us);
        }
    }
    if (d == NULL)
        t->st.dialogs_dropped++;
    return d;
}

/* ---- call states ---- */

static int
end_call(struct cap_tracker *t, struct cap_dialog *d, enum cdr_status st,
         int code)
{
    d->state = CAP_CS_ENDED;
    d->status = st;
    d->t_end_us = t->ev_us;
    int rc = 0;
    if (code >= 300 && d->t_answer_us == 0)
        rc = cap_xfer_child_outcome(t, d, code);
    else if (st == CDR_ST_CANCELED && d->t_answer_us == 0)
        rc = cap_xfer_child_outcome(t, d, 487);
    if (rc != 0)
        return rc;
    return cap_rec_maybe_finish(t, d);
}

static void
touch(struct cap_tracker *t, struct cap_dialog *d)
{
    if (d->cls == CAP_DC_EARLY || d->cls == CAP_DC_CONFIRMED ||
        d->cls == CAP_DC_ALIAS)
        cap_dialog_set_class(t->tab, d, d->cls, t->now_us);
}

static int
answered(struct cap_tracker *t, struct cap_dialog *d, int64_t at_us)
{
    d->state = CAP_CS_CONFIRMED;
    d->t_answer_us = at_us;
    cap_dialog_set_class(t->tab, d, CAP_DC_CONFIRMED, t->now_us);
    return cap_xfer_child_outcome(t, d, 200);
}

/* ---- expiry ---- */

static int
sweep(struct cap_tracker *t)
{
    int64_t now = t->now_us, ev = t->ev_us;
    struct cap_dialog *d;
    int rc = 0;
    while (rc == 0 && (d = cap_dialog_oldest(t->tab, CAP_DC_EARLY)) != NULL &&
           d->class_since_us + t->o.invite_timeout * CAP_US < now) {
        t->st.dialogs_timed_out++;
        d->final_code = d->state == CAP_CS_CHALLENGED ? d->final_code : 0;
        t->ev_us = d->class_since_us; /* ended when last heard of */
        rc = end_call(t, d,
                      d->state == CAP_CS_CHALLENGED ? CDR_ST_FAILED
                      : d->t_cancel_us != 0         ? CDR_ST_CANCELED
                                                    : CDR_ST_NO_ANSWER,
                      0);
        if (d->cls == CAP_DC_EARLY) /* cannot happen; never loop */
            cap_dialog_set_class(t->tab, d, CAP_DC_LINGER, now);
    }
    t->ev_us = ev;
    while (rc == 0 &&
           (d = cap_dialog_oldest(t->tab, CAP_DC_CONFIRMED)) != NULL &&
           d->class_since_us + t->o.dialog_timeout * CAP_US < now) {
        t->st.dialogs_timed_out++;
        d->status = CDR_ST_IN_PROGRESS;
        rc = cap_rec_emit_call(t, d);
    }
    while (rc == 0 &&
           (d = cap_dialog_oldest(t->tab, CAP_DC_WAIT_XFER)) != NULL &&
           d->class_since_us + t->o.xfer_window * CAP_US < now)
        rc = cap_rec_emit_call(t, d);
    while ((d = cap_dialog_oldest(t->tab, CAP_DC_LINGER)) != NULL &&
           d->class_since_us + t->o.linger * CAP_US < now)
        cap_track_remove_dialog(t, d);
    while ((d = cap_dialog_oldest(t->tab, CAP_DC_ALIAS)) != NULL &&
           d->class_since_us + t->o.xfer_window * CAP_US < now)
        cap_track_remove_dialog(t, d);
    while (t->phead != NULL &&
           t->phead->t_refer_us + t->o.xfer_window * CAP_US < now)
        cap_xfer_pending_remove(t, t->phead);
    t->st.open_dialogs = cap_dialog_count(t->tab);
    return rc;
}

int
cap_tracker_tick(struct cap_tracker *t, int64_t now_sec)
{
    if (now_sec * CAP_US > t->now_us)
        t->now_us = now_sec * CAP_US;
    return sweep(t);
}

/* ---- new calls ---- */

static void
new_invite(struct cap_tracker *t, const struct cap_meta *meta,
           const struct cap_sip_msg *m, struct cdr_slice cid)
{
    struct cap_sip_nameaddr to;
    if (cap_sip_nameaddr(m->hdr[CAP_H_TO], &to) == 0 && to.tag.p != NULL) {
        t->st.unmatched++; /* a re-INVITE of a call we do not follow */
        return;
    }
    struct cap_transfer *x = cap_xfer_match_child(t, meta, m);
    const struct cdr_trunk *tk = NULL;
    int dir = 0;
    if (x == NULL) {
        struct cap_sip_uri u;
        if ((tk = cap_config_trunk_by_addr(t->cfg, &meta->src)) != NULL) {
            dir = CDR_DIR_ORIGINATING;
        } else if ((tk = cap_config_trunk_by_addr(t->cfg, &meta->dst)) !=
                   NULL) {
            dir = CDR_DIR_TERMINATING;
        } else if (cap_sip_uri(m->ruri, &u) == 0 &&
                   (tk = cap_config_trunk_by_domain(t->cfg, u.host.p,
                                                    u.host.n)) != NULL) {
            dir = CDR_DIR_TERMINATING;
        } else if (cap_sip_uri(to.uri, &u) == 0 &&
                   (tk = cap_config_trunk_by_domain(t->cfg, u.host.p,
                                                    u.host.n)) != NULL) {
            dir = CDR_DIR_TERMINATING;
        } else {
            t->st.ignored++;
            return;
        }
    }
    struct cap_dialog *d = cap_track_add_dialog(t, cid, CAP_DC_EARLY);
    if (d == NULL)
        return;
    t->st.dialogs++;
    d->state = CAP_CS_EARLY;
    d->invite_cseq = m->cseq;
    d->t_invite_us = t->ev_us;
    d->src = meta->src;
    d->dst = meta->dst;
    if (x != NULL) {
        cap_xfer_link_child(t, d, x, m);
    } else {
        d->direction = dir;
        d->trunk_sid = tk->sid;
        d->from = cap_rec_addr_dup(m->hdr[CAP_H_FROM], (struct cdr_slice){0});
        d->to = cap_rec_addr_dup(m->hdr[CAP_H_TO], m->ruri);
    }
}

/* ---- the callback ---- */

static int
invite_response(struct cap_tracker *t, struct cap_dialog *d,
                const struct cap_sip_msg *m)
{
    if (m->cseq != d->invite_cseq || d->state == CAP_CS_ENDED ||
        m->status < 200)
        return 0;
    if (m->status < 300) {
        if (d->state == CAP_CS_CONFIRMED)
            return 0; /* retransmitted or forked 200 */
        return answered(t, d, t->ev_us);
    }
    if (d->state == CAP_CS_CONFIRMED)
        return 0;
    d->final_code = m->status;
    if (m->status == 401 || m->status == 407) {
        d->state = CAP_CS_CHALLENGED; /* a new INVITE with credentials */
        return 0;
    }
    enum cdr_status st;
    switch (m->status) {
    case 486:
    case 600: st = CDR_ST_BUSY; break;
    case 408:
    case 480: st = CDR_ST_NO_ANSWER; break;
    case 487: st = CDR_ST_CANCELED; break;
    default: st = CDR_ST_FAILED; break;
    }
    return end_call(t, d, st, m->status);
}

/* A request in the dialog of a NOTIFY (RFC 7647): it reports on a parent. */
static int
alias_request(struct cap_tracker *t, const struct cap_sip_msg *m,
              struct cap_dialog *d)
{
    uint32_t id;
    struct cap_dialog *p = NULL;
    touch(t, d);
    if (m->method == CAP_SIP_NOTIFY && cap_xfer_is_refer_notify(m, &id) &&
        d->parent_sid != NULL)
        p = cap_dialog_find(t->tab, d->parent_sid, strlen(d->parent_sid));
    if (p != NULL && p->cls != CAP_DC_ALIAS)
        return cap_xfer_notify(t, p, m, id);
    return 0;
}

/* A request of no followed dialog: a new call, or a NOTIFY in a dialog of
 * its own. */
static int
new_request(struct cap_tracker *t, const struct cap_meta *meta,
            const struct cap_sip_msg *m, struct cdr_slice cid)
{
    uint32_t id;
    if (m->method == CAP_SIP_INVITE)
        new_invite(t, meta, m, cid);
    else if (m->method == CAP_SIP_NOTIFY && cap_xfer_is_refer_notify(m, &id))
        return cap_xfer_notify_new_dialog(t, meta, m, cid, id);
    else if (m->method != CAP_SIP_ACK)
        t->st.unmatched++;
    return 0;
}

static int
bye(struct cap_tracker *t, struct cap_dialog *d)
{
    /* ACKed, then BYE: the 200 OK was lost, the call was answered */
    if (d->state == CAP_CS_EARLY && d->t_ack_us != 0) {
        int rc = answered(t, d, d->t_ack_us);
        if (rc != 0 || d->state != CAP_CS_CONFIRMED)
            return rc;
    }
    if (d->state == CAP_CS_CONFIRMED)
        return end_call(t, d, CDR_ST_COMPLETED, 0);
    if (d->state != CAP_CS_ENDED)
        return end_call(t, d, CDR_ST_CANCELED, 0);
    return 0;
}

static int
request(struct cap_tracker *t, const struct cap_meta *meta,
        const struct cap_sip_msg *m, struct cap_dialog *d, struct cdr_slice cid)
{
    uint32_t id;
    if (d != NULL && d->cls == CAP_DC_ALIAS)
        return alias_request(t, m, d);
    if (d == NULL)
        return new_request(t, meta, m, cid);
    if (d->emitted)
        return 0; /* retransmissions, BYE of a timed-out call ... */
    touch(t, d);
    switch (m->method) {
    case CAP_SIP_INVITE:
        if (d->state == CAP_CS_CHALLENGED && m->cseq > d->invite_cseq) {
            d->invite_cseq = m->cseq; /* retried with credentials */
            d->state = CAP_CS_EARLY;
        }
        return 0; /* else a re-INVITE or a retransmission */
    case CAP_SIP_ACK:
        /* in an early call, the ACK of a final response this wire lost */
        if (d->state == CAP_CS_EARLY && m->cseq == d->invite_cseq &&
            d->t_ack_us == 0)
            d->t_ack_us = t->ev_us;
        return 0;
    case CAP_SIP_BYE: return bye(t, d);
    case CAP_SIP_CANCEL:
        /* it may cross the 200 OK: the final response decides (487:
         * canceled); if none is seen, the call ends canceled by timeout */
        if (d->state == CAP_CS_EARLY) {
            if (d->t_cancel_us == 0)
                d->t_cancel_us = t->ev_us;
            return 0;
        }
        if (d->state == CAP_CS_CHALLENGED)
            return end_call(t, d, CDR_ST_CANCELED, 0);
        return 0;
    case CAP_SIP_REFER:
        if (d->state == CAP_CS_ENDED)
            return 0;
        return cap_xfer_refer(t, d, meta, m);
    case CAP_SIP_NOTIFY:
        if (cap_xfer_is_refer_notify(m, &id))
            return cap_xfer_notify(t, d, m, id);
        return 0;
    default: return 0;
    }
}

int
cap_tracker_message(void *ctx, const struct cap_meta *meta, const uint8_t *data,
                    size_t len)
{
    struct cap_tracker *t = ctx;
    struct cap_sip_msg *m = &t->msg;
    const char *p = (const char *)data;
    int64_t now = meta->ts_sec * CAP_US + meta->ts_usec;
    t->ev_us = now;
    if (now > t->now_us)
        t->now_us = now; /* capture time never steps back for us */
    int rc = 0;
    if (t->now_us >= t->next_sweep_us) {
        rc = sweep(t);
        t->next_sweep_us = t->now_us + CAP_US;
        if (rc != 0)
            return rc;
    }
    int prc = cap_sip_parse(p, p + len, m);
    if (prc == CAP_SIP_E_EMPTY)
        return 0; /* keep-alive */
    t->st.messages++;
    if (prc != 0) {
        t->st.parse_errors++;
        return 0;
    }
    struct cdr_slice cid = m->hdr[CAP_H_CALL_ID];
    if (cid.n > CDR_MAX_SID) {
        t->st.parse_errors++;
        return 0;
    }
    struct cap_dialog *d = cap_dialog_find(t->tab, cid.p, cid.n);
    if (m->is_request) {
        rc = request(t, meta, m, d, cid);
    } else if (d != NULL && d->cls != CAP_DC_ALIAS && !d->emitted) {
        touch(t, d);
        if (m->cseq_method == CAP_SIP_INVITE)
            rc = invite_response(t, d, m);
        else if (m->cseq_method == CAP_SIP_REFER)
            rc = cap_xfer_refer_response(t, d, m);
    } else if (d == NULL) {
        t->st.unmatched++;
    }
    t->st.open_dialogs = cap_dialog_count(t->tab);
    return rc;
}

/* ---- life cycle ---- */

struct cap_tracker *
cap_tracker_new(const struct cap_config *cfg,
                const struct cap_tracker_opts *opts, cap_record_fn fn,
                void *ctx)
{
    struct cap_tracker *t = calloc(1, sizeof *t);
    if (t == NULL)
        return NULL;
    t->cfg = cfg;
    if (opts != NULL)
        t->o = *opts;
    else
        cap_tracker_opts_default(&t->o);
    t->emit = fn;
    t->emit_ctx = ctx;
    t->tab = cap_dialog_table_new(t->o.max_dialogs);
    if (t->tab == NULL || cdr_hmap_init(&t->pending, 64) != 0) {
        cap_dialog_table_free(t->tab, NULL);
        free(t);
        return NULL;
    }
    return t;
}

/* Write every call of class cls (as in-progress when in_progress); the
 * first error, but every one is tried. */
static int
flush_class(struct cap_tracker *t, enum cap_dialog_class cls, int in_progress)
{
    int rc = 0;
    struct cap_dialog *d;
    while ((d = cap_dialog_oldest(t->tab, cls)) != NULL) {
        if (in_progress)
            d->status = CDR_ST_IN_PROGRESS;
        int r = cap_rec_emit_call(t, d);
        if (rc == 0)
            rc = r;
    }
    return rc;
}

int
cap_tracker_flush(struct cap_tracker *t)
{
    int rc = flush_class(t, CAP_DC_WAIT_XFER, 0);
    int r = flush_class(t, CAP_DC_CONFIRMED, 1);
    if (rc == 0)
        rc = r;
    r = flush_class(t, CAP_DC_EARLY, 1);
    if (rc == 0)
        rc = r;
    struct cap_dialog *d;
    while ((d = cap_dialog_oldest(t->tab, CAP_DC_LINGER)) != NULL)
        cap_track_remove_dialog(t, d);
    while ((d = cap_dialog_oldest(t->tab, CAP_DC_ALIAS)) != NULL)
        cap_track_remove_dialog(t, d);
    t->st.open_dialogs = 0;
    return rc;
}

const struct cap_stats *
cap_tracker_stats(const struct cap_tracker *t)
{
    return &t->st;
}

void
cap_tracker_free(struct cap_tracker *t)
{
    if (t == NULL)
        return;
    cap_dialog_table_free(t->tab, cap_xfer_free);
    cap_xfer_pending_free(t);
    free(t);
}

/*
 * The tracker: dialogs, transfers, child linking and record output.
 *
 * Why the rules are as they are:
 * - The link from a parent to its child never waits for the final NOTIFY:
 *   some PBXs BYE the original call a few hundred milliseconds after the
 *   202, and some stacks never send the last NOTIFY.  The INVITE to the
 *   target is matched on its own (target user, Referred-By, time window).
 * - A NOTIFY may come before the 202 (it implies acceptance, RFC 3515 2.4.4),
 *   and in a new dialog (RFC 7647); the latter is matched by the REFER's
 *   addresses and Event id, then followed as an alias of the parent.
 * - A parent is written only when its transfer is resolved or the window
 *   has passed, so transfer_status is final when a cron job reads the file.
 * - An unobserved child (PSTN target dialled by the carrier itself) is
 *   written only when the NOTIFYs say the target answered: that leg exists
 *   and must not be lost; a failed attempt is already in the parent's
 *   transfer_status.
 */
#include "cdr/capture/track/cap_transfer.h"
#include "cdr/capture/track/cap_dialog.h"
#include "cdr/capture/sip/cap_sip.h"
#include "cdr/csv/cdr_csv_writer.h"
#include "cdr/util/cdr_parse.h"
#include "cdr/record/cdr_record.h"

#include <stdio.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>

#define US 1000000
#define CAP_PENDING_BUCKETS 4096 /* power of two */

static uint64_t
key_hash(const char *s)
{
    uint64_t h = 1469598103934665603u;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211u;
    }
    return h;
}

struct cap_transfer {
    struct cap_transfer *pprev, *pnext; /* pending list: awaiting a child */
    struct cap_transfer *kprev, *knext; /* same, in its target's bucket */
    uint64_t khash;
    int in_pending;
    struct cap_dialog *parent; /* the owner */
    char *target_uri;     /* Refer-To URI without ?headers (transfer_target) */
    char *target_rec;     /* record form of the target (the child's "to") */
    char *target_key;     /* matching key: digits of a number, or the user */
    char *referred_by;    /* the REFER's Referred-By URI, or NULL */
    char *transferee_key; /* the caller ID the child should present */
    uint32_t cseq;
    int64_t t_refer_us, t_accept_us;
    struct cap_addr refer_src, refer_dst;
    int refer_final; /* final response to the REFER, 0 if none yet */
    int accepted;    /* 2xx to the REFER, or a NOTIFY */
    int norefersub;  /* Refer-Sub: false: no NOTIFY will come */
    int attended, no_user, bad;
    int sipfrag_final; /* last final status line from a NOTIFY, 0 if none */
    int sub_terminated;
    int64_t t_final_us; /* the first final NOTIFY; 0 if none (or restored) */
    int child_seen;
    int child_code; /* observed child: 200 answered, >= 300 failed */
};

struct cap_tracker {
    const struct cap_config *cfg;
    struct cap_tracker_opts o;
    cap_record_fn emit;
    void *emit_ctx;
    struct cap_dialog_table *tab;
    struct cap_transfer *phead, *ptail; /* pending, by REFER time */
    /* pending again, by target key: a new INVITE looks at one bucket */
    struct {
        struct cap_transfer *head, *tail;
    } kb[CAP_PENDING_BUCKETS];
    struct cap_stats st;
    /* now_us: the clock for timeouts, never steps back (capture times and
       the source's ticks); ev_us: the time of the message being handled,
       used for the call's own times so a late tick or a reordered packet
       does not stretch a duration. */
    int64_t now_us, ev_us, next_sweep_us;
    struct cap_sip_msg msg; /* big: kept here, not on the stack */
};

void
cap_tracker_opts_default(struct cap_tracker_opts *o)
{
    o->max_dialogs = 200000;
    o->invite_timeout = 300;
    o->dialog_timeout = 14400;
    o->xfer_window = 120;
    o->linger = 32;
}

/* ---- small helpers ---- */

static int
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int
is_visual(char c)
{
    return c == '-' || c == '.' || c == '(' || c == ')' || c == ' ';
}

/* Digits of a telephone number ("+1-415-555-0100"), up to ';'.  Returns the
 * count, or -1 if anything but digits and visual separators is there. */
static int
number_digits(const char *p, size_t n, char *buf, size_t size)
{
    size_t o = 0;
    for (size_t i = 0; i < n && p[i] != ';'; i++) {
        if (is_digit(p[i])) {
            if (o + 1 >= size)
                return -1;
            buf[o++] = p[i];
        } else if (!is_visual(p[i])) {
            return -1;
        }
    }
    buf[o] = '\0';
    return (int)o;
}

static int uri_form(const struct cap_sip_uri *u, char *buf, size_t size);

int
cap_record_addr(const char *uri, size_t n, char *buf, size_t size)
{
    struct cap_sip_uri u;
    if (size < 2 || cap_sip_uri((struct cdr_slice){uri, n}, &u) != 0)
        return -1;
    int tel = cap_sip_eq(u.scheme, "tel");
    if (u.user.n > 1 && u.user.p[0] == '+') {
        char d[32];
        int nd = number_digits(u.user.p + 1, u.user.n - 1, d, sizeof d);
        if (nd >= 1 && nd <= 15) {
            if ((size_t)nd + 2 > size)
                return -1;
            buf[0] = '+';
            memcpy(buf + 1, d, (size_t)nd + 1);
            return 0;
        }
    }
    if (tel) {
        int w = snprintf(buf, size, "tel:%.*s", (int)u.user.n, u.user.p);
        return w < 0 || (size_t)w >= size ? -1 : 0;
    }
    return uri_form(&u, buf, size);
}

/* scheme:user@host[:port], without parameters and headers, the scheme in
 * lower case. */
static int
uri_form(const struct cap_sip_uri *pu, char *buf, size_t size)
{
    const struct cap_sip_uri u = *pu;
    int w;
    if (u.port != 0)
        w = snprintf(buf, size, "%.*s:%.*s%s%.*s:%u", (int)u.scheme.n,
                     u.scheme.p, (int)u.user.n, u.user.p, u.user.n ? "@" : "",
                     (int)u.host.n, u.host.p, u.port);
    else
        w = snprintf(buf, size, "%.*s:%.*s%s%.*s", (int)u.scheme.n, u.scheme.p,
                     (int)u.user.n, u.user.p, u.user.n ? "@" : "",
                     (int)u.host.n, u.host.p);
    if (w < 0 || (size_t)w >= size)
        return -1;
    for (char *c = buf; *c; c++) { /* scheme in lower case */
        if (*c == ':')
            break;
        if (*c >= 'A' && *c <= 'Z')
            *c = (char)(*c + ('a' - 'A'));
    }
    return 0;
}

/* Matching key of a user part: its digits if it is a number, else itself. */
static int
user_key(struct cdr_slice user, char *buf, size_t size)
{
    if (user.n == 0)
        return -1;
    const char *p = user.p;
    size_t n = user.n;
    if (p[0] == '+') {
        p++;
        n--;
    }
    int nd = number_digits(p, n, buf, size);
    if (nd > 0)
        return 0;
    if (user.n >= size)
        return -1;
    memcpy(buf, user.p, user.n);
    buf[user.n] = '\0';
    return 0;
}

static int
uri_key(struct cdr_slice uri, char *buf, size_t size)
{
    struct cap_sip_uri u;
    if (cap_sip_uri(uri, &u) != 0)
        return -1;
    return user_key(u.user, buf, size);
}

/* URI of a name-addr header (first value) as a string: for Referred-By. */
static char *
header_uri(struct cdr_slice v)
{
    struct cdr_slice first, rest;
    struct cap_sip_nameaddr na;
    char buf[CAP_DIALOG_MAX_STR];
    if (cap_sip_first_value(v, &first, &rest) != 0 ||
        cap_sip_nameaddr(first, &na) != 0 ||
        cap_record_addr(na.uri.p, na.uri.n, buf, sizeof buf) != 0)
        return NULL;
    return cap_strndup(buf, strlen(buf), CAP_DIALOG_MAX_STR);
}

static int
same_ip(const struct cap_addr *a, const struct cap_addr *b)
{
    size_t n = a->family == AF_INET ? 4 : 16;
    return a->family == b->family && memcmp(a->ip, b->ip, n) == 0;
}

static int64_t
floor_sec(int64_t us)
{
    return us >= 0 ? us / US : -((-us + US - 1) / US);
}

static int64_t
ceil_sec(int64_t us)
{
    return us <= 0 ? 0 : (us + US - 1) / US;
}

/* ---- pending transfers ---- */

static void
pending_remove(struct cap_tracker *t, struct cap_transfer *x)
{
    if (!x->in_pending)
        return;
    if (x->pprev)
        x->pprev->pnext = x->pnext;
    else
        t->phead = x->pnext;
    if (x->pnext)
        x->pnext->pprev = x->pprev;
    else
        t->ptail = x->pprev;
    x->pprev = x->pnext = NULL;
    size_t b = x->khash & (CAP_PENDING_BUCKETS - 1);
    if (x->kprev)
        x->kprev->knext = x->knext;
    else
        t->kb[b].head = x->knext;
    if (x->knext)
        x->knext->kprev = x->kprev;
    else
        t->kb[b].tail = x->kprev;
    x->kprev = x->knext = NULL;
    x->in_pending = 0;
}

static void
pending_append(struct cap_tracker *t, struct cap_transfer *x)
{
    x->pprev = t->ptail;
    x->pnext = NULL;
    if (t->ptail)
        t->ptail->pnext = x;
    else
        t->phead = x;
    t->ptail = x;
    x->khash = key_hash(x->target_key);
    size_t b = x->khash & (CAP_PENDING_BUCKETS - 1);
    x->kprev = t->kb[b].tail;
    x->knext = NULL;
    if (t->kb[b].tail)
        t->kb[b].tail->knext = x;
    else
        t->kb[b].head = x;
    t->kb[b].tail = x;
    x->in_pending = 1;
}

static void
xfer_free(struct cap_transfer *x)
{
    if (x == NULL)
        return;
    free(x->target_uri);
    free(x->target_rec);
    free(x->target_key);
    free(x->referred_by);
    free(x->transferee_key);
    free(x);
}

static void
remove_dialog(struct cap_tracker *t, struct cap_dialog *d)
{
    if (d->xfer != NULL) {
        pending_remove(t, d->xfer);
        xfer_free(d->xfer);
        d->xfer = NULL;
    }
    cap_dialog_remove(t->tab, d, NULL);
}

static int
xfer_resolved(const struct cap_transfer *x)
{
    return x->bad || x->no_user || x->refer_final >= 300 ||
           (x->attended && x->accepted) || x->child_code != 0 ||
           x->sipfrag_final != 0 || x->sub_terminated;
}

static void
xfer_status(const struct cap_transfer *x, char *buf, size_t size)
{
    if (x->bad || x->no_user)
        snprintf(buf, size, "failed");
    else if (x->refer_final >= 300)
        snprintf(buf, size, "refused %d", x->refer_final);
    else if (x->attended)
        snprintf(buf, size, "attended");
    else if (x->child_code >= 200 && x->child_code < 300)
        snprintf(buf, size, "completed");
    else if (x->child_code >= 300)
        snprintf(buf, size, "failed %d", x->child_code);
    else if (x->sipfrag_final >= 200 && x->sipfrag_final < 300)
        snprintf(buf, size, "completed");
    else if (x->sipfrag_final >= 300)
        snprintf(buf, size, "failed %d", x->sipfrag_final);
    else if (x->sub_terminated)
        snprintf(buf, size, "failed");
    else if (x->accepted)
        snprintf(buf, size, "accepted");
    else
        snprintf(buf, size, "pending");
}

/* ---- records ---- */

static int
emit(struct cap_tracker *t, const struct cap_record *r)
{
    t->st.records++;
    return t->emit ? t->emit(t->emit_ctx, r) : 0;
}

static int
emit_unobserved_child(struct cap_tracker *t, struct cap_dialog *d)
{
    struct cap_transfer *x = d->xfer;
    char sid[CDR_MAX_SID + 1];
    size_t cl = strlen(d->call_id);
    /* A stable sid that names the parent and the REFER. */
    int w = snprintf(sid, sizeof sid, "%s;refer=%u", d->call_id, x->cseq);
    if (w < 0 || (size_t)w > CDR_MAX_SID) {
        uint64_t h = 1469598103934665603u;
        for (size_t i = 0; i < cl; i++) {
            h ^= (unsigned char)d->call_id[i];
            h *= 1099511628211u;
        }
        snprintf(sid, sizeof sid, "xfer-%016llx-%u", (unsigned long long)h,
                 x->cseq);
    }
    int64_t start = x->t_accept_us ? x->t_accept_us : x->t_refer_us;
    struct cap_record r = {
        .sid = sid,
        .parent_call_sid = d->call_id,
        .direction = cdr_direction_name((enum cdr_direction)d->direction),
        .from = d->direction == CDR_DIR_ORIGINATING ? (d->from ? d->from : "")
                                                    : (d->to ? d->to : ""),
        .to = x->target_rec ? x->target_rec : "",
        .start_time = floor_sec(start),
        .status = cap_call_status_name(CAP_ST_UNOBSERVED),
        .trunk_sid = d->trunk_sid ? d->trunk_sid : "",
        .transfer_target = "",
        .transfer_status = "",
    };
    return emit(t, &r);
}

/* Write d's record (and an unobserved child), then let it linger. */
static int
emit_call(struct cap_tracker *t, struct cap_dialog *d)
{
    char xs[32] = "";
    struct cap_transfer *x = d->xfer;
    if (x != NULL) {
        pending_remove(t, x);
        xfer_status(x, xs, sizeof xs);
    }
    struct cap_record r = {
        .sid = d->call_id,
        .parent_call_sid = d->parent_sid ? d->parent_sid : "",
        .direction = cdr_direction_name((enum cdr_direction)d->direction),
        .from = d->from ? d->from : "",
        .to = d->to ? d->to : "",
        .start_time = floor_sec(d->t_invite_us),
        .status = cap_call_status_name(d->status),
        .trunk_sid = d->trunk_sid ? d->trunk_sid : "",
        .transfer_target = x && x->target_uri ? x->target_uri : "",
        .transfer_status = xs,
    };
    if (d->state == CAP_CS_ENDED) {
        r.end_time = floor_sec(d->t_end_us);
        r.has_end_time = 1;
        r.has_duration = 1;
        r.duration = d->status == CAP_ST_COMPLETED
                         ? ceil_sec(d->t_end_us - d->t_answer_us)
                         : 0;
    }
    d->emitted = 1;
    cap_dialog_set_class(t->tab, d, CAP_DC_LINGER, t->now_us);
    int rc = emit(t, &r);
    if (rc == 0 && x != NULL && !x->child_seen && !x->attended && !x->bad &&
        !x->no_user && x->refer_final < 300 && x->sipfrag_final >= 200 &&
        x->sipfrag_final < 300)
        rc = emit_unobserved_child(t, d);
    return rc;
}

/* A parent that ended waits for its transfer; write it once resolved. */
static int
maybe_finish(struct cap_tracker *t, struct cap_dialog *d)
{
    if (d->emitted || d->state != CAP_CS_ENDED)
        return 0;
    if (d->xfer != NULL && !xfer_resolved(d->xfer)) {
        if (d->cls != CAP_DC_WAIT_XFER)
            cap_dialog_set_class(t->tab, d, CAP_DC_WAIT_XFER, t->now_us);
        return 0;
    }
    return emit_call(t, d);
}

/* The observed child's outcome resolves its parent's transfer. */
static int
child_outcome(struct cap_tracker *t, struct cap_dialog *child, int code)
{
    if (child->parent_sid == NULL)
        return 0;
    struct cap_dialog *p =
        cap_dialog_find(t->tab, child->parent_sid, strlen(child->parent_sid));
    if (p == NULL || p->emitted || p->xfer == NULL || p->cls == CAP_DC_ALIAS)
        return 0;
    if (p->xfer->child_code == 0 || code < 300)
        p->xfer->child_code = code;
    return maybe_finish(t, p);
}

static int
end_call(struct cap_tracker *t, struct cap_dialog *d, enum cap_call_status st,
         int code)
{
    d->state = CAP_CS_ENDED;
    d->status = st;
    d->t_end_us = t->ev_us;
    int rc = 0;
    if (code >= 300 && d->t_answer_us == 0)
        rc = child_outcome(t, d, code);
    else if (st == CAP_ST_CANCELED && d->t_answer_us == 0)
        rc = child_outcome(t, d, 487);
    if (rc != 0)
        return rc;
    return maybe_finish(t, d);
}

/* ---- expiry ---- */

static int
sweep(struct cap_tracker *t)
{
    int64_t now = t->now_us, ev = t->ev_us;
    struct cap_dialog *d;
    int rc = 0;
    while (rc == 0 && (d = cap_dialog_oldest(t->tab, CAP_DC_EARLY)) != NULL &&
           d->class_since_us + t->o.invite_timeout * US < now) {
        t->st.dialogs_timed_out++;
        d->final_code = d->state == CAP_CS_CHALLENGED ? d->final_code : 0;
        t->ev_us = d->class_since_us; /* ended when last heard of */
        rc = end_call(t, d,
                      d->state == CAP_CS_CHALLENGED ? CAP_ST_FAILED
                      : d->t_cancel_us != 0         ? CAP_ST_CANCELED
                                                    : CAP_ST_NO_ANSWER,
                      0);
        if (d->cls == CAP_DC_EARLY) /* cannot happen; never loop */
            cap_dialog_set_class(t->tab, d, CAP_DC_LINGER, now);
    }
    t->ev_us = ev;
    while (rc == 0 &&
           (d = cap_dialog_oldest(t->tab, CAP_DC_CONFIRMED)) != NULL &&
           d->class_since_us + t->o.dialog_timeout * US < now) {
        t->st.dialogs_timed_out++;
        d->status = CAP_ST_IN_PROGRESS;
        rc = emit_call(t, d);
    }
    while (rc == 0 &&
           (d = cap_dialog_oldest(t->tab, CAP_DC_WAIT_XFER)) != NULL &&
           d->class_since_us + t->o.xfer_window * US < now)
        rc = emit_call(t, d);
    while ((d = cap_dialog_oldest(t->tab, CAP_DC_LINGER)) != NULL &&
           d->class_since_us + t->o.linger * US < now)
        remove_dialog(t, d);
    while ((d = cap_dialog_oldest(t->tab, CAP_DC_ALIAS)) != NULL &&
           d->class_since_us + t->o.xfer_window * US < now)
        remove_dialog(t, d);
    while (t->phead != NULL &&
           t->phead->t_refer_us + t->o.xfer_window * US < now)
        pending_remove(t, t->phead);
    t->st.open_dialogs = cap_dialog_count(t->tab);
    return rc;
}

int
cap_tracker_tick(struct cap_tracker *t, int64_t now_sec)
{
    if (now_sec * US > t->now_us)
        t->now_us = now_sec * US;
    return sweep(t);
}

/* ---- new calls ---- */

static struct cap_dialog *
add_dialog(struct cap_tracker *t, struct cdr_slice cid,
           enum cap_dialog_class cls)
{
    struct cap_dialog *d = cap_dialog_add(t->tab, cid.p, cid.n, cls, t->now_us);
    if (d == NULL && cap_dialog_count(t->tab) >= cap_dialog_max(t->tab)) {
        /* Full: give up the oldest call already written, never a live one. */
        struct cap_dialog *old = cap_dialog_oldest(t->tab, CAP_DC_LINGER);
        if (old == NULL)
            old = cap_dialog_oldest(t->tab, CAP_DC_ALIAS);
        if (old != NULL) {
            remove_dialog(t, old);
            d = cap_dialog_add(t->tab, cid.p, cid.n, cls, t->now_us);
        }
    }
    if (d == NULL)
        t->st.dialogs_dropped++;
    return d;
}

static char *
record_addr_dup(struct cdr_slice hdr, struct cdr_slice fallback_uri)
{
    char buf[CAP_DIALOG_MAX_STR];
    struct cap_sip_nameaddr na;
    struct cdr_slice first, rest;
    if (cap_sip_first_value(hdr, &first, &rest) == 0 &&
        cap_sip_nameaddr(first, &na) == 0 &&
        cap_record_addr(na.uri.p, na.uri.n, buf, sizeof buf) == 0)
        return cap_strndup(buf, strlen(buf), CAP_DIALOG_MAX_STR);
    if (fallback_uri.n > 0 &&
        cap_record_addr(fallback_uri.p, fallback_uri.n, buf, sizeof buf) == 0)
        return cap_strndup(buf, strlen(buf), CAP_DIALOG_MAX_STR);
    return NULL;
}

/*
 * Could an INVITE from meta->src now be x's child?  Not one from the
 * transferor (the child comes from the REFER's recipient, or from
 * elsewhere when the carrier routes it on), and not one well after the
 * final report of the transfer (a final NOTIFY follows its child's
 * answer; a second's grace for capture reordering): otherwise a call the
 * PBX places itself to the same number, after a transfer there failed,
 * was taken for the child and billed as one.
 */
static int
may_be_child(const struct cap_tracker *t, const struct cap_meta *meta,
             const struct cap_transfer *x)
{
    if (same_ip(&x->refer_src, &meta->src))
        return 0;
    if (x->sipfrag_final != 0 || x->sub_terminated)
        return x->t_final_us != 0 && t->ev_us <= x->t_final_us + US;
    return 1;
}

/*
 * The transfer a new INVITE is the child of, or NULL.  Candidates: pending
 * transfers whose target is the INVITE's Request-URI or To user, with the
 * same Referred-By when both have one.  Several transfers to one target (a
 * queue, an operator) can be pending at once: prefer the one whose
 * transferee is the caller ID the INVITE presents (the carrier's default),
 * else the oldest (the carrier acts on REFERs in order).
 */
static struct cap_transfer *
match_child(struct cap_tracker *t, const struct cap_meta *meta,
            const struct cap_sip_msg *m)
{
    char k[2][CAP_DIALOG_MAX_STR], fk[CAP_DIALOG_MAX_STR];
    int has[2] = {uri_key(m->ruri, k[0], sizeof k[0]) == 0, 0};
    struct cap_sip_nameaddr na;
    if (cap_sip_nameaddr(m->hdr[CAP_H_TO], &na) == 0)
        has[1] = uri_key(na.uri, k[1], sizeof k[1]) == 0;
    if (has[0] && has[1] && strcmp(k[0], k[1]) == 0)
        has[1] = 0;
    int has_from = cap_sip_nameaddr(m->hdr[CAP_H_FROM], &na) == 0 &&
                   uri_key(na.uri, fk, sizeof fk) == 0;
    char *rb = NULL;
    if (m->nhdr[CAP_H_REFERRED_BY] > 0)
        rb = header_uri(m->hdr[CAP_H_REFERRED_BY]);
    struct cap_transfer *oldest = NULL, *best = NULL;
    for (int i = 0; i < 2 && best == NULL; i++) {
        if (!has[i])
            continue;
        uint64_t h = key_hash(k[i]);
        for (struct cap_transfer *x = t->kb[h & (CAP_PENDING_BUCKETS - 1)].head;
             x != NULL; x = x->knext) {
            if (x->khash != h || x->child_seen ||
                strcmp(k[i], x->target_key) != 0 ||
                x->t_refer_us > t->ev_us + US || !may_be_child(t, meta, x))
                continue;
            if (rb != NULL && x->referred_by != NULL &&
                strcmp(rb, x->referred_by) != 0)
                continue;
            if (has_from && x->transferee_key != NULL &&
                strcmp(fk, x->transferee_key) == 0) {
                best = x;
                break;
            }
            if (oldest == NULL || x->t_refer_us < oldest->t_refer_us)
                oldest = x;
        }
    }
    free(rb);
    return best != NULL ? best : oldest;
}

static void
new_invite(struct cap_tracker *t, const struct cap_meta *meta,
           const struct cap_sip_msg *m, struct cdr_slice cid)
{
    struct cap_sip_nameaddr to;
    if (cap_sip_nameaddr(m->hdr[CAP_H_TO], &to) == 0 && to.tag.p != NULL) {
        t->st.unmatched++; /* a re-INVITE of a call we do not follow */
        return;
    }
    struct cap_transfer *x = match_child(t, meta, m);
    const struct cap_trunk *tk = NULL;
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
    struct cap_dialog *d = add_dialog(t, cid, CAP_DC_EARLY);
    if (d == NULL)
        return;
    t->st.dialogs++;
    d->state = CAP_CS_EARLY;
    d->invite_cseq = m->cseq;
    d->t_invite_us = t->ev_us;
    d->src = meta->src;
    d->dst = meta->dst;
    if (x != NULL) {
        struct cap_dialog *p = x->parent;
        d->direction = p->direction;
        d->trunk_sid = p->trunk_sid;
        /* TRANSFERS.md: termination child from B to C, origination from A
           to C; C as the REFER named it. */
        const char *from =
            p->direction == CDR_DIR_ORIGINATING ? p->from : p->to;
        d->from =
            from ? cap_strndup(from, strlen(from), CAP_DIALOG_MAX_STR) : NULL;
        d->to = x->target_rec
                    ? cap_strndup(x->target_rec, strlen(x->target_rec),
                                  CAP_DIALOG_MAX_STR)
                    : record_addr_dup(m->hdr[CAP_H_TO], m->ruri);
        d->parent_sid =
            cap_strndup(p->call_id, strlen(p->call_id), CDR_MAX_SID);
        x->child_seen = 1;
        pending_remove(t, x);
        t->st.children_linked++;
    } else {
        d->direction = dir;
        d->trunk_sid = tk->sid;
        d->from = record_addr_dup(m->hdr[CAP_H_FROM], (struct cdr_slice){0});
        d->to = record_addr_dup(m->hdr[CAP_H_TO], m->ruri);
    }
}

/* ---- transfers ---- */

/*
 * The child's "to": the Refer-To as referee-rate must read it.  A number
 * in a SIP URI is a PSTN target only at the trunk's termination domain
 * (with none, at a *.pstn.twilio.com host), the rater's rule
 * (cdr_host_is_pstn): there it is written as E.164, like a tel: URI.
 * Anywhere else (sip:+14155550199@pbx.example.com, a PBX) it is a SIP
 * target and keeps its URI: as a bare number the rater would price it as
 * a PSTN leg, two components instead of one, or refuse it.
 */
static int
target_record(const struct cap_tracker *t, const struct cap_dialog *d,
              const struct cap_sip_uri *u, struct cdr_slice uri, char *buf,
              size_t size)
{
    if (!cap_sip_eq(u->scheme, "tel") && u->user.n > 1 && u->user.p[0] == '+') {
        const char *domain = NULL;
        for (size_t i = 0; d->trunk_sid != NULL && i < t->cfg->ntrunks; i++)
            if (strcmp(t->cfg->trunks[i].sid, d->trunk_sid) == 0)
                domain = t->cfg->trunks[i].termination_domain;
        if (!cdr_host_is_pstn(u->host, domain))
            return uri_form(u, buf, size);
    }
    return cap_record_addr(uri.p, uri.n, buf, size);
}

static int
new_refer(struct cap_tracker *t, struct cap_dialog *d,
          const struct cap_meta *meta, const struct cap_sip_msg *m)
{
    if (d->xfer != NULL) {
        if (d->xfer->cseq == m->cseq)
            return 0; /* retransmission */
        char st[32];
        xfer_status(d->xfer, st, sizeof st);
        if (strcmp(st, "completed") == 0 || strcmp(st, "attended") == 0)
            return 0; /* keep a transfer that worked */
        pending_remove(t, d->xfer);
        xfer_free(d->xfer);
        d->xfer = NULL;
    }
    struct cap_transfer *x = calloc(1, sizeof *x);
    if (x == NULL)
        return 0;
    t->st.transfers++;
    d->xfer = x;
    x->parent = d;
    x->cseq = m->cseq;
    x->t_refer_us = t->ev_us;
    x->refer_src = meta->src;
    x->refer_dst = meta->dst;

    struct cdr_slice first, rest, tok, params;
    struct cap_sip_nameaddr na;
    struct cap_sip_uri u;
    if (m->nhdr[CAP_H_REFER_TO] != 1 ||
        cap_sip_first_value(m->hdr[CAP_H_REFER_TO], &first, &rest) != 0 ||
        cap_sip_nameaddr(first, &na) != 0 || cap_sip_uri(na.uri, &u) != 0) {
        x->bad = 1;
        struct cdr_slice v = m->hdr[CAP_H_REFER_TO];
        x->target_uri = cap_strndup(v.p, v.n, CAP_DIALOG_MAX_STR);
        return maybe_finish(t, d);
    }
    size_t un = u.headers.n ? (size_t)(u.headers.p - 1 - na.uri.p) : na.uri.n;
    x->target_uri = cap_strndup(na.uri.p, un, CAP_DIALOG_MAX_STR);
    struct cdr_slice rep;
    if (cap_sip_uri_header(u.headers, "Replaces", &rep) == 0)
        x->attended = 1;
    if (u.user.n == 0)
        x->no_user = 1;
    char buf[CAP_DIALOG_MAX_STR];
    if (target_record(t, d, &u, na.uri, buf, sizeof buf) == 0)
        x->target_rec = cap_strndup(buf, strlen(buf), CAP_DIALOG_MAX_STR);
    if (user_key(u.user, buf, sizeof buf) == 0)
        x->target_key = cap_strndup(buf, strlen(buf), CAP_DIALOG_MAX_STR);
    if (m->nhdr[CAP_H_REFERRED_BY] > 0)
        x->referred_by = header_uri(m->hdr[CAP_H_REFERRED_BY]);
    /* TRANSFERS.md: the transferee is B on termination, A on origination */
    const char *te = d->direction == CDR_DIR_ORIGINATING ? d->from : d->to;
    if (te != NULL && te[0] == '+')
        x->transferee_key =
            cap_strndup(te + 1, strlen(te + 1), CAP_DIALOG_MAX_STR);
    else if (te != NULL &&
             uri_key((struct cdr_slice){te, strlen(te)}, buf, sizeof buf) == 0)
        x->transferee_key = cap_strndup(buf, strlen(buf), CAP_DIALOG_MAX_STR);
    if (m->nhdr[CAP_H_REFER_SUB] > 0 &&
        cap_sip_token(m->hdr[CAP_H_REFER_SUB], &tok, &params) == 0 &&
        cap_sip_eq(tok, "false"))
        x->norefersub = 1;
    if (!x->attended && !x->no_user && x->target_key != NULL)
        pending_append(t, x);
    return maybe_finish(t, d);
}

static int
refer_response(struct cap_tracker *t, struct cap_dialog *d,
               const struct cap_sip_msg *m)
{
    struct cap_transfer *x = d->xfer;
    if (x == NULL || m->cseq != x->cseq || m->status < 200)
        return 0;
    if (m->status < 300) {
        x->accepted = 1;
        if (x->t_accept_us == 0)
            x->t_accept_us = t->ev_us;
        struct cdr_slice tok, params;
        if (m->nhdr[CAP_H_REFER_SUB] > 0 &&
            cap_sip_token(m->hdr[CAP_H_REFER_SUB], &tok, &params) == 0 &&
            cap_sip_eq(tok, "false"))
            x->norefersub = 1;
    } else if (x->refer_final == 0) {
        x->refer_final = m->status;
        pending_remove(t, x);
    }
    return maybe_finish(t, d);
}

/* Is this NOTIFY about a refer subscription?  Fills *id (0 if none). */
static int
refer_notify(const struct cap_sip_msg *m, uint32_t *id)
{
    struct cdr_slice tok, params, v;
    *id = 0;
    if (m->nhdr[CAP_H_EVENT] > 0) {
        if (cap_sip_token(m->hdr[CAP_H_EVENT], &tok, &params) != 0 ||
            !cap_sip_eq(tok, "refer"))
            return 0;
        if (cap_sip_param(params, "id", &v) == 0) {
            uint64_t n = 0;
            for (size_t i = 0; i < v.n && n <= UINT32_MAX; i++) {
                if (!is_digit(v.p[i]))
                    return 1;
                n = n * 10 + (uint64_t)(v.p[i] - '0');
            }
            if (n <= UINT32_MAX)
                *id = (uint32_t)n;
        }
        return 1;
    }
    /* No Event header: trust a sipfrag body. */
    return cap_sip_token(m->hdr[CAP_H_CONTENT_TYPE], &tok, &params) == 0 &&
           cap_sip_eq(tok, "message/sipfrag");
}

static int
apply_notify(struct cap_tracker *t, struct cap_dialog *d,
             const struct cap_sip_msg *m, uint32_t id)
{
    struct cap_transfer *x = d->xfer;
    if (x == NULL || (id != 0 && id != x->cseq) || d->emitted)
        return 0;
    if (!x->accepted) { /* NOTIFY before the 202: acceptance implied */
        x->accepted = 1;
        x->t_accept_us = t->ev_us;
    }
    int code;
    if (cap_sip_sipfrag_status(m->body, &code) == 0 && code >= 200)
        x->sipfrag_final = code;
    struct cdr_slice tok, params;
    if (cap_sip_token(m->hdr[CAP_H_SUBSCRIPTION_STATE], &tok, &params) == 0 &&
        cap_sip_eq(tok, "terminated"))
        x->sub_terminated = 1;
    if ((x->sipfrag_final != 0 || x->sub_terminated) && x->t_final_us == 0)
        x->t_final_us = t->ev_us;
    return maybe_finish(t, d);
}

/* A NOTIFY in a dialog of its own (RFC 7647): find the REFER it reports on
 * by the addresses (it flows back from the REFER's recipient) and Event id. */
static int
notify_new_dialog(struct cap_tracker *t, const struct cap_meta *meta,
                  const struct cap_sip_msg *m, struct cdr_slice cid,
                  uint32_t id)
{
    for (struct cap_transfer *x = t->ptail; x != NULL; x = x->pprev) {
        if (!same_ip(&x->refer_dst, &meta->src) ||
            !same_ip(&x->refer_src, &meta->dst) || (id != 0 && id != x->cseq))
            continue;
        struct cap_dialog *p = x->parent;
        struct cap_dialog *a = add_dialog(t, cid, CAP_DC_ALIAS);
        if (a != NULL)
            a->parent_sid =
                cap_strndup(p->call_id, strlen(p->call_id), CDR_MAX_SID);
        return apply_notify(t, p, m, id);
    }
    t->st.unmatched++;
    return 0;
}

/* ---- the callback ---- */

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
    return child_outcome(t, d, 200);
}

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
    enum cap_call_status st;
    switch (m->status) {
    case 486:
    case 600: st = CAP_ST_BUSY; break;
    case 408:
    case 480: st = CAP_ST_NO_ANSWER; break;
    case 487: st = CAP_ST_CANCELED; break;
    default: st = CAP_ST_FAILED; break;
    }
    return end_call(t, d, st, m->status);
}

static int
request(struct cap_tracker *t, const struct cap_meta *meta,
        const struct cap_sip_msg *m, struct cap_dialog *d, struct cdr_slice cid)
{
    uint32_t id;
    if (d != NULL && d->cls == CAP_DC_ALIAS) {
        struct cap_dialog *p = NULL;
        touch(t, d);
        if (m->method == CAP_SIP_NOTIFY && refer_notify(m, &id) &&
            d->parent_sid != NULL)
            p = cap_dialog_find(t->tab, d->parent_sid, strlen(d->parent_sid));
        if (p != NULL && p->cls != CAP_DC_ALIAS)
            return apply_notify(t, p, m, id);
        return 0;
    }
    if (d == NULL) {
        if (m->method == CAP_SIP_INVITE)
            new_invite(t, meta, m, cid);
        else if (m->method == CAP_SIP_NOTIFY && refer_notify(m, &id))
            return notify_new_dialog(t, meta, m, cid, id);
        else if (m->method != CAP_SIP_ACK)
            t->st.unmatched++;
        return 0;
    }
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
    case CAP_SIP_BYE:
        /* ACKed, then BYE: the 200 OK was lost, the call was answered */
        if (d->state == CAP_CS_EARLY && d->t_ack_us != 0) {
            int rc = answered(t, d, d->t_ack_us);
            if (rc != 0 || d->state != CAP_CS_CONFIRMED)
                return rc;
        }
        if (d->state == CAP_CS_CONFIRMED)
            return end_call(t, d, CAP_ST_COMPLETED, 0);
        if (d->state != CAP_CS_ENDED)
            return end_call(t, d, CAP_ST_CANCELED, 0);
        return 0;
    case CAP_SIP_CANCEL:
        /* it may cross the 200 OK: the final response decides (487:
         * canceled); if none is seen, the call ends canceled by timeout */
        if (d->state == CAP_CS_EARLY) {
            if (d->t_cancel_us == 0)
                d->t_cancel_us = t->ev_us;
            return 0;
        }
        if (d->state == CAP_CS_CHALLENGED)
            return end_call(t, d, CAP_ST_CANCELED, 0);
        return 0;
    case CAP_SIP_REFER:
        if (d->state == CAP_CS_ENDED)
            return 0;
        return new_refer(t, d, meta, m);
    case CAP_SIP_NOTIFY:
        if (refer_notify(m, &id))
            return apply_notify(t, d, m, id);
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
    int64_t now = meta->ts_sec * US + meta->ts_usec;
    t->ev_us = now;
    if (now > t->now_us)
        t->now_us = now; /* capture time never steps back for us */
    int rc = 0;
    if (t->now_us >= t->next_sweep_us) {
        rc = sweep(t);
        t->next_sweep_us = t->now_us + US;
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
            rc = refer_response(t, d, m);
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
    if (t->tab == NULL) {
        free(t);
        return NULL;
    }
    return t;
}

int
cap_tracker_flush(struct cap_tracker *t)
{
    int rc = 0;
    struct cap_dialog *d;
    while ((d = cap_dialog_oldest(t->tab, CAP_DC_WAIT_XFER)) != NULL) {
        int r = emit_call(t, d);
        if (rc == 0)
            rc = r;
    }
    while ((d = cap_dialog_oldest(t->tab, CAP_DC_CONFIRMED)) != NULL) {
        d->status = CAP_ST_IN_PROGRESS;
        int r = emit_call(t, d);
        if (rc == 0)
            rc = r;
    }
    while ((d = cap_dialog_oldest(t->tab, CAP_DC_EARLY)) != NULL) {
        d->status = CAP_ST_IN_PROGRESS;
        int r = emit_call(t, d);
        if (rc == 0)
            rc = r;
    }
    while ((d = cap_dialog_oldest(t->tab, CAP_DC_LINGER)) != NULL)
        remove_dialog(t, d);
    while ((d = cap_dialog_oldest(t->tab, CAP_DC_ALIAS)) != NULL)
        remove_dialog(t, d);
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
    cap_dialog_table_free(t->tab, xfer_free);
    free(t);
}

/* ---- state file ----
 *
 * Line "D" per open call, followed by an "X" line for its transfer:
 *   D call_id state status final_code direction trunk_sid from to
 *     referred_by parent_sid invite_cseq t_invite t_answer t_end class
 *     class_since src dst
 *   X cseq t_refer t_accept refer_src refer_dst refer_final accepted
 *     norefersub attended no_user bad sipfrag_final sub_terminated
 *     child_seen child_code in_pending target_uri target_rec target_key
 *     referred_by transferee_key
 * Strings: "-" for none, else %-escaped (%, tab, CR, LF, '-' alone, and
 * bytes outside printable ASCII).  Addresses: family,hex16,port.
 */

#define STATE_MAGIC "referee-capture-state 1\n"
#define STATE_MAX_LINE 16384

static int
put_str(struct cdr_writer *w, const char *s)
{
    char buf[3 * CAP_DIALOG_MAX_STR + 8];
    size_t o = 0;
    buf[o++] = '\t';
    if (s == NULL) {
        buf[o++] = '-';
    } else if (s[0] == '\0') {
        buf[o++] = '%'; /* "%" alone: the empty string */
    } else {
        for (const unsigned char *p = (const unsigned char *)s;
             *p && o + 4 < sizeof buf; p++) {
            if (*p <= ' ' || *p >= 0x7f || *p == '%' ||
                (*p == '-' && p == (const unsigned char *)s && p[1] == '\0')) {
                snprintf(buf + o, 4, "%%%02X", *p);
                o += 3;
            } else {
                buf[o++] = (char)*p;
            }
        }
    }
    return cdr_writer_raw(w, buf, o);
}

static int
put_int(struct cdr_writer *w, int64_t v)
{
    char buf[32];
    int n = snprintf(buf, sizeof buf, "\t%lld", (long long)v);
    return cdr_writer_raw(w, buf, (size_t)n);
}

static int
put_addr(struct cdr_writer *w, const struct cap_addr *a)
{
    char buf[64];
    size_t o = (size_t)snprintf(buf, sizeof buf, "\t%d,", a->family);
    for (int i = 0; i < 16; i++)
        o += (size_t)snprintf(buf + o, sizeof buf - o, "%02x", a->ip[i]);
    o += (size_t)snprintf(buf + o, sizeof buf - o, ",%u", a->port);
    return cdr_writer_raw(w, buf, o);
}

static void
save_dialog(struct cdr_writer *w, const struct cap_dialog *d)
{
    cdr_writer_raw(w, "D", 1);
    put_str(w, d->call_id);
    put_int(w, d->state);
    put_int(w, d->status);
    put_int(w, d->final_code);
    put_int(w, d->direction);
    put_str(w, d->trunk_sid);
    put_str(w, d->from);
    put_str(w, d->to);
    put_str(w, d->referred_by);
    put_str(w, d->parent_sid);
    put_int(w, d->invite_cseq);
    put_int(w, d->t_invite_us);
    put_int(w, d->t_answer_us);
    put_int(w, d->t_end_us);
    put_int(w, d->cls);
    put_int(w, d->class_since_us);
    put_addr(w, &d->src);
    put_addr(w, &d->dst);
    cdr_writer_raw(w, "\n", 1);
    const struct cap_transfer *x = d->xfer;
    if (x == NULL)
        return;
    cdr_writer_raw(w, "X", 1);
    put_int(w, x->cseq);
    put_int(w, x->t_refer_us);
    put_int(w, x->t_accept_us);
    put_addr(w, &x->refer_src);
    put_addr(w, &x->refer_dst);
    put_int(w, x->refer_final);
    put_int(w, x->accepted);
    put_int(w, x->norefersub);
    put_int(w, x->attended);
    put_int(w, x->no_user);
    put_int(w, x->bad);
    put_int(w, x->sipfrag_final);
    put_int(w, x->sub_terminated);
    put_int(w, x->child_seen);
    put_int(w, x->child_code);
    put_int(w, x->in_pending);
    put_str(w, x->target_uri);
    put_str(w, x->target_rec);
    put_str(w, x->target_key);
    put_str(w, x->referred_by);
    put_str(w, x->transferee_key);
    cdr_writer_raw(w, "\n", 1);
}

int
cap_tracker_save(struct cap_tracker *t, const char *path, struct cdr_diag *d)
{
    struct cdr_writer *w;
    int rc = cdr_writer_open(&w, path, d);
    if (rc != 0)
        return rc;
    static const enum cap_dialog_class open_cls[] = {
        CAP_DC_EARLY, CAP_DC_CONFIRMED, CAP_DC_WAIT_XFER};
    cdr_writer_raw(w, STATE_MAGIC, strlen(STATE_MAGIC));
    for (size_t c = 0; c < 3; c++) {
        struct cap_dialog *dl = cap_dialog_oldest(t->tab, open_cls[c]);
        /* walk the class list through the table's links */
        for (; dl != NULL; dl = dl->cnext)
            save_dialog(w, dl);
    }
    rc = cdr_writer_commit(w, d);
    cdr_writer_free(w);
    if (rc != 0)
        return rc;
    for (size_t c = 0; c < 3; c++) {
        struct cap_dialog *dl;
        while ((dl = cap_dialog_oldest(t->tab, open_cls[c])) != NULL)
            remove_dialog(t, dl);
    }
    t->st.open_dialogs = cap_dialog_count(t->tab);
    return 0;
}

/* Split a line at tabs. Returns the number of fields (<= max). */
static size_t
split_tabs(char *line, char **f, size_t max)
{
    size_t n = 0;
    char *p = line;
    while (n < max) {
        f[n++] = p;
        char *tab = strchr(p, '\t');
        if (tab == NULL)
            break;
        *tab = '\0';
        p = tab + 1;
    }
    return n;
}

static int
get_int(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
    int64_t r;
    if (cdr_parse_int64(s, s + strlen(s), &r) != 0 || r < lo || r > hi)
        return -1;
    *out = r;
    return 0;
}

static int
hexdig(char c)
{
    if (is_digit(c))
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* "-" -> NULL (*ok stays 1); "%" -> ""; else unescaped copy. */
static char *
get_str(const char *s, int *ok)
{
    if (strcmp(s, "-") == 0)
        return NULL;
    char buf[CAP_DIALOG_MAX_STR + 1];
    size_t o = 0;
    if (strcmp(s, "%") != 0) {
        for (; *s; s++) {
            char c = *s;
            if (c == '%') {
                int hi = hexdig(s[1]), lo = hi >= 0 ? hexdig(s[2]) : -1;
                if (lo < 0) {
                    *ok = 0;
                    return NULL;
                }
                c = (char)(hi * 16 + lo);
                s += 2;
            }
            if (o == CAP_DIALOG_MAX_STR) {
                *ok = 0;
                return NULL;
            }
            buf[o++] = c;
        }
    }
    char *r = cap_strndup(buf, o, CAP_DIALOG_MAX_STR);
    if (r == NULL)
        *ok = 0;
    return r;
}

static int
get_addr(const char *s, struct cap_addr *a)
{
    memset(a, 0, sizeof *a);
    int64_t fam, port;
    char tmp[64];
    size_t n = strlen(s);
    if (n >= sizeof tmp)
        return -1;
    memcpy(tmp, s, n + 1);
    char *c1 = strchr(tmp, ','), *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
    if (c2 == NULL || c2 - c1 - 1 != 32)
        return -1;
    *c1 = *c2 = '\0';
    if (get_int(tmp, 0, 255, &fam) != 0 || get_int(c2 + 1, 0, 65535, &port))
        return -1;
    for (int i = 0; i < 16; i++) {
        int hi = hexdig(c1[1 + 2 * i]), lo = hexdig(c1[2 + 2 * i]);
        if (hi < 0 || lo < 0)
            return -1;
        a->ip[i] = (uint8_t)(hi * 16 + lo);
    }
    a->family = (int)fam;
    a->port = (uint16_t)port;
    return 0;
}

static const char *
trunk_of(const struct cap_tracker *t, const char *sid)
{
    if (sid == NULL)
        return NULL;
    for (size_t i = 0; i < t->cfg->ntrunks; i++) {
        if (strcmp(t->cfg->trunks[i].sid, sid) == 0)
            return t->cfg->trunks[i].sid;
    }
    return NULL;
}

static int
load_dialog(struct cap_tracker *t, char **f, size_t nf, struct cap_dialog **out)
{
    int64_t v[9];
    int ok = 1;
    if (nf != 19)
        return -1;
    static const size_t ix[] = {2, 3, 4, 5, 11, 12, 13, 14, 15};
    static const int64_t hi[] = {
        CAP_CS_ENDED,    CAP_ST_UNOBSERVED, 699,       2,
        UINT32_MAX,      INT64_MAX,         INT64_MAX, INT64_MAX,
        CAP_DC_WAIT_XFER};
    for (size_t i = 0; i < 9; i++) {
        if (get_int(f[ix[i]], 0, hi[i], &v[i]) != 0)
            return -1;
    }
    int64_t since;
    if (get_int(f[16], INT64_MIN, INT64_MAX, &since) != 0)
        return -1;
    struct cap_addr src, dst;
    if (get_addr(f[17], &src) != 0 || get_addr(f[18], &dst) != 0)
        return -1;
    char *cid = get_str(f[1], &ok);
    if (cid == NULL || !ok || cap_dialog_find(t->tab, cid, strlen(cid))) {
        free(cid);
        return -1;
    }
    struct cap_dialog *d = cap_dialog_add(t->tab, cid, strlen(cid),
                                          (enum cap_dialog_class)v[8], since);
    free(cid);
    if (d == NULL)
        return -2;
    d->state = (enum cap_call_state)v[0];
    d->status = (enum cap_call_status)v[1];
    d->final_code = (int)v[2];
    d->direction = (int)v[3];
    char *tk = get_str(f[6], &ok);
    d->trunk_sid = trunk_of(t, tk);
    free(tk);
    d->from = get_str(f[7], &ok);
    d->to = get_str(f[8], &ok);
    d->referred_by = get_str(f[9], &ok);
    d->parent_sid = get_str(f[10], &ok);
    d->invite_cseq = (uint32_t)v[4];
    d->t_invite_us = v[5];
    d->t_answer_us = v[6];
    d->t_end_us = v[7];
    d->src = src;
    d->dst = dst;
    *out = d;
    if (!ok) {
        remove_dialog(t, d);
        return -1;
    }
    return 0;
}

static int
load_xfer(struct cap_tracker *t, struct cap_dialog *d, char **f, size_t nf)
{
    int64_t v[14];
    int ok = 1;
    if (nf != 22 || d == NULL || d->xfer != NULL)
        return -1;
    static const size_t ix[] = {1,  2,  3,  6,  7,  8,  9,
                                10, 11, 12, 13, 14, 15, 16};
    for (size_t i = 0; i < 14; i++) {
        if (get_int(f[ix[i]], 0, INT64_MAX, &v[i]) != 0)
            return -1;
    }
    if (v[0] > UINT32_MAX)
        return -1;
    struct cap_transfer *x = calloc(1, sizeof *x);
    if (x == NULL)
        return -2;
    x->parent = d;
    x->cseq = (uint32_t)v[0];
    x->t_refer_us = v[1];
    x->t_accept_us = v[2];
    if (get_addr(f[4], &x->refer_src) != 0 ||
        get_addr(f[5], &x->refer_dst) != 0)
        ok = 0;
    x->refer_final = (int)(v[3] % 1000);
    x->accepted = v[4] != 0;
    x->norefersub = v[5] != 0;
    x->attended = v[6] != 0;
    x->no_user = v[7] != 0;
    x->bad = v[8] != 0;
    x->sipfrag_final = (int)(v[9] % 1000);
    x->sub_terminated = v[10] != 0;
    x->child_seen = v[11] != 0;
    x->child_code = (int)(v[12] % 1000);
    x->target_uri = get_str(f[17], &ok);
    x->target_rec = get_str(f[18], &ok);
    x->target_key = get_str(f[19], &ok);
    x->referred_by = get_str(f[20], &ok);
    x->transferee_key = get_str(f[21], &ok);
    if (!ok) {
        xfer_free(x);
        return -1;
    }
    d->xfer = x;
    if (v[13] && x->target_key != NULL)
        pending_append(t, x);
    return 0;
}

int
cap_tracker_load(struct cap_tracker *t, const char *path, struct cdr_diag *d)
{
    cdr_diag_clear(d);
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
        cdr_diag_set(d, CDR_E_IO, NULL, NULL, 0, "cannot open state file");
        cdr_diag_at(d, path, 0, 0);
        return CDR_E_IO;
    }
    char line[STATE_MAX_LINE];
    long lineno = 0;
    int count = 0, rc = 0;
    struct cap_dialog *last = NULL;
    while (fgets(line, sizeof line, fp) != NULL) {
        lineno++;
        size_t n = strlen(line);
        if (n == 0 || line[n - 1] != '\n') {
            rc = -1;
            break;
        }
        line[n - 1] = '\0';
        if (lineno == 1) {
            if (strncmp(line, STATE_MAGIC, strlen(STATE_MAGIC) - 1) != 0) {
                rc = -1;
                break;
            }
            continue;
        }
        char *f[24];
        size_t nf = split_tabs(line, f, 24);
        if (strcmp(f[0], "D") == 0) {
            last = NULL;
            rc = load_dialog(t, f, nf, &last);
            if (rc == 0)
                count++;
        } else if (strcmp(f[0], "X") == 0) {
            rc = load_xfer(t, last, f, nf);
        } else {
            rc = -1;
        }
        if (rc != 0)
            break;
    }
    fclose(fp);
    if (rc != 0) {
        cdr_diag_set(d, rc == -2 ? CDR_E_LIMIT : CDR_E_CSV, NULL, NULL, 0, "%s",
                     rc == -2 ? "more open calls than --max-dialogs"
                              : "malformed state line");
        cdr_diag_at(d, path, lineno, 0);
        return d->code;
    }
    t->st.open_dialogs = cap_dialog_count(t->tab);
    return count;
}

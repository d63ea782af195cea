/*
 * Transfer matching: the REFER of a followed call, its responses and
 * NOTIFYs, and the INVITE the carrier sends to the target, linked back to
 * its parent.
 *
 * Why the rules are as they are:
 * - The link from a parent to its child never waits for the final NOTIFY:
 *   some PBXs BYE the original call a few hundred milliseconds after the
 *   202, and some stacks never send the last NOTIFY.  The INVITE to the
 *   target is matched on its own (target user, Referred-By, time window).
 * - A NOTIFY may come before the 202 (it implies acceptance, RFC 3515 2.4.4),
 *   and in a new dialog (RFC 7647); the latter is matched by the REFER's
 *   addresses and Event id, then followed as an alias of the parent.
 */
#include "cdr/capture/track/cap_track_int.h"
#include "cdr/record/cdr_record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* The pending transfers to one target key, in REFER order: an entry of
 * the tracker's pending map, there while the list is not empty. */
struct cap_pending_key {
    struct cap_transfer *head, *tail;
    uint64_t hash; /* cdr_hash of key */
    size_t n;
    char key[]; /* n bytes and a NUL */
};

static int
pending_key_eq(const void *entry, const void *key, size_t n)
{
    const struct cap_pending_key *k = entry;
    return k->n == n && memcmp(k->key, key, n) == 0;
}

static struct cap_pending_key *
pending_key_find(const struct cap_tracker *t, const char *key)
{
    size_t n = strlen(key);
    return cdr_hmap_get(&t->pending, cdr_hash(key, n), key, n, pending_key_eq);
}

/* ---- keys ---- */

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
    int nd = cap_rec_number_digits(p, n, buf, size);
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

/* ---- pending transfers ---- */

void
cap_xfer_pending_remove(struct cap_tracker *t, struct cap_transfer *x)
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
    struct cap_pending_key *k = x->pk;
    if (x->kprev)
        x->kprev->knext = x->knext;
    else
        k->head = x->knext;
    if (x->knext)
        x->knext->kprev = x->kprev;
    else
        k->tail = x->kprev;
    x->kprev = x->knext = NULL;
    x->pk = NULL;
    x->in_pending = 0;
    if (k->head == NULL) {
        cdr_hmap_remove(&t->pending, k->hash, k->key, k->n, pending_key_eq);
        free(k);
    }
}

/* The list of key, created empty if there is none; NULL out of memory. */
static struct cap_pending_key *
pending_key_get(struct cap_tracker *t, const char *key)
{
    struct cap_pending_key *k = pending_key_find(t, key);
    if (k != NULL)
        return k;
    size_t n = strlen(key);
    k = malloc(sizeof *k + n + 1);
    if (k == NULL)
        return NULL;
    k->head = k->tail = NULL;
    k->hash = cdr_hash(key, n);
    k->n = n;
    memcpy(k->key, key, n + 1);
    if (cdr_hmap_put(&t->pending, k->hash, k->key, n, pending_key_eq, k,
                     NULL) != 0) {
        free(k);
        return NULL;
    }
    return k;
}

void
cap_xfer_pending_append(struct cap_tracker *t, struct cap_transfer *x)
{
    struct cap_pending_key *k = pending_key_get(t, x->target_key);
    if (k == NULL)
        return;
    x->pprev = t->ptail;
    x->pnext = NULL;
    if (t->ptail)
        t->ptail->pnext = x;
    else
        t->phead = x;
    t->ptail = x;
    x->pk = k;
    x->kprev = k->tail;
    x->knext = NULL;
    if (k->tail)
        k->tail->knext = x;
    else
        k->head = x;
    k->tail = x;
    x->in_pending = 1;
}

void
cap_xfer_pending_free(struct cap_tracker *t)
{
    size_t i = 0;
    struct cap_pending_key *k;
    while ((k = cdr_hmap_next(&t->pending, &i)) != NULL)
        free(k);
    cdr_hmap_free(&t->pending);
}

void
cap_xfer_free(struct cap_transfer *x)
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

int
cap_xfer_resolved(const struct cap_transfer *x)
{
    return x->bad || x->no_user || x->refer_final >= 300 ||
           (x->attended && x->accepted) || x->child_code != 0 ||
           x->sipfrag_final != 0 || x->sub_terminated;
}

/* ---- the child ---- */

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
        return x->t_final_us != 0 && t->ev_us <= x->t_final_us + CAP_US;
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
struct cap_transfer *
cap_xfer_match_child(struct cap_tracker *t, const struct cap_meta *meta,
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
        struct cap_pending_key *pk = pending_key_find(t, k[i]);
        for (struct cap_transfer *x = pk ? pk->head : NULL; x != NULL;
             x = x->knext) {
            if (x->child_seen || x->t_refer_us > t->ev_us + CAP_US ||
                !may_be_child(t, meta, x))
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

void
cap_xfer_link_child(struct cap_tracker *t, struct cap_dialog *d,
                    struct cap_transfer *x, const struct cap_sip_msg *m)
{
    struct cap_dialog *p = x->parent;
    d->direction = p->direction;
    d->trunk_sid = p->trunk_sid;
    /* rating/README.md, the billing table: termination child from B to C,
       origination from A to C; C as the REFER named it. */
    const char *from = p->direction == CDR_DIR_ORIGINATING ? p->from : p->to;
    d->from = from ? cap_strndup(from, strlen(from), CAP_DIALOG_MAX_STR) : NULL;
    d->to = x->target_rec ? cap_strndup(x->target_rec, strlen(x->target_rec),
                                        CAP_DIALOG_MAX_STR)
                          : cap_rec_addr_dup(m->hdr[CAP_H_TO], m->ruri);
    d->parent_sid = cap_strndup(p->call_id, strlen(p->call_id), CDR_MAX_SID);
    x->child_seen = 1;
    cap_xfer_pending_remove(t, x);
    t->st.children_linked++;
}

int
cap_xfer_child_outcome(struct cap_tracker *t, struct cap_dialog *child,
                       int code)
{
    if (child->parent_sid == NULL)
        return 0;
    struct cap_dialog *p =
        cap_dialog_find(t->tab, child->parent_sid, strlen(child->parent_sid));
    if (p == NULL || p->emitted || p->xfer == NULL || p->cls == CAP_DC_ALIAS)
        return 0;
    if (p->xfer->child_code == 0 || code < 300)
        p->xfer->child_code = code;
    return cap_rec_maybe_finish(t, p);
}

/* ---- the REFER and its answers ---- */

static int
refer_sub_false(const struct cap_sip_msg *m)
{
    struct cdr_slice tok, params;
    return m->nhdr[CAP_H_REFER_SUB] > 0 &&
           cap_sip_token(m->hdr[CAP_H_REFER_SUB], &tok, &params) == 0 &&
           cap_sip_eq(tok, "false");
}

/* What the Refer-To names: target, record form, matching key, and the
 * caller ID the child should present. */
static void
refer_target(struct cap_tracker *t, struct cap_dialog *d,
             struct cap_transfer *x, const struct cap_sip_nameaddr *na,
             const struct cap_sip_uri *u, const struct cap_sip_msg *m)
{
    size_t un =
        u->headers.n ? (size_t)(u->headers.p - 1 - na->uri.p) : na->uri.n;
    x->target_uri = cap_strndup(na->uri.p, un, CAP_DIALOG_MAX_STR);
    struct cdr_slice rep;
    if (cap_sip_uri_header(u->headers, "Replaces", &rep) == 0)
        x->attended = 1;
    if (u->user.n == 0)
        x->no_user = 1;
    char buf[CAP_DIALOG_MAX_STR];
    if (cap_rec_target(t, d, u, na->uri, buf, sizeof buf) == 0)
        x->target_rec = cap_strndup(buf, strlen(buf), CAP_DIALOG_MAX_STR);
    if (user_key(u->user, buf, sizeof buf) == 0)
        x->target_key = cap_strndup(buf, strlen(buf), CAP_DIALOG_MAX_STR);
    if (m->nhdr[CAP_H_REFERRED_BY] > 0)
        x->referred_by = header_uri(m->hdr[CAP_H_REFERRED_BY]);
    /* rating/README.md: the transferee is B on termination, A on origination */
    const char *te = d->direction == CDR_DIR_ORIGINATING ? d->from : d->to;
    if (te != NULL && te[0] == '+')
        x->transferee_key =
            cap_strndup(te + 1, strlen(te + 1), CAP_DIALOG_MAX_STR);
    else if (te != NULL &&
             uri_key((struct cdr_slice){te, strlen(te)}, buf, sizeof buf) == 0)
        x->transferee_key = cap_strndup(buf, strlen(buf), CAP_DIALOG_MAX_STR);
}

int
cap_xfer_refer(struct cap_tracker *t, struct cap_dialog *d,
               const struct cap_meta *meta, const struct cap_sip_msg *m)
{
    if (d->xfer != NULL) {
        if (d->xfer->cseq == m->cseq)
            return 0; /* retransmission */
        char st[32];
        cap_rec_xfer_status(d->xfer, st, sizeof st);
        if (strcmp(st, "completed") == 0 || strcmp(st, "attended") == 0)
            return 0; /* keep a transfer that worked */
        cap_xfer_pending_remove(t, d->xfer);
        cap_xfer_free(d->xfer);
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

    struct cdr_slice first, rest;
    struct cap_sip_nameaddr na;
    struct cap_sip_uri u;
    if (m->nhdr[CAP_H_REFER_TO] != 1 ||
        cap_sip_first_value(m->hdr[CAP_H_REFER_TO], &first, &rest) != 0 ||
        cap_sip_nameaddr(first, &na) != 0 || cap_sip_uri(na.uri, &u) != 0) {
        x->bad = 1;
        struct cdr_slice v = m->hdr[CAP_H_REFER_TO];
        x->target_uri = cap_strndup(v.p, v.n, CAP_DIALOG_MAX_STR);
        return cap_rec_maybe_finish(t, d);
    }
    refer_target(t, d, x, &na, &u, m);
    if (refer_sub_false(m))
        x->norefersub = 1;
    if (!x->attended && !x->no_user && x->target_key != NULL)
        cap_xfer_pending_append(t, x);
    return cap_rec_maybe_finish(t, d);
}

int
cap_xfer_refer_response(struct cap_tracker *t, struct cap_dialog *d,
                        const struct cap_sip_msg *m)
{
    struct cap_transfer *x = d->xfer;
    if (x == NULL || m->cseq != x->cseq || m->status < 200)
        return 0;
    if (m->status < 300) {
        x->accepted = 1;
        if (x->t_accept_us == 0)
            x->t_accept_us = t->ev_us;
        if (refer_sub_false(m))
            x->norefersub = 1;
    } else if (x->refer_final == 0) {
        x->refer_final = m->status;
        cap_xfer_pending_remove(t, x);
    }
    return cap_rec_maybe_finish(t, d);
}

/* ---- NOTIFYs ---- */

int
cap_xfer_is_refer_notify(const struct cap_sip_msg *m, uint32_t *id)
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
                if (v.p[i] < '0' || v.p[i] > '9')
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

int
cap_xfer_notify(struct cap_tracker *t, struct cap_dialog *d,
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
    return cap_rec_maybe_finish(t, d);
}

/* A NOTIFY in a dialog of its own (RFC 7647): find the REFER it reports on
 * by the addresses (it flows back from the REFER's recipient) and Event id. */
int
cap_xfer_notify_new_dialog(struct cap_tracker *t, const struct cap_meta *meta,
                           const struct cap_sip_msg *m, struct cdr_slice cid,
                           uint32_t id)
{
    for (struct cap_transfer *x = t->ptail; x != NULL; x = x->pprev) {
        if (!same_ip(&x->refer_dst, &meta->src) ||
            !same_ip(&x->refer_src, &meta->dst) || (id != 0 && id != x->cseq))
            continue;
        struct cap_dialog *p = x->parent;
        struct cap_dialog *a = cap_track_add_dialog(t, cid, CAP_DC_ALIAS);
        if (a != NULL)
            a->parent_sid =
                cap_strndup(p->call_id, strlen(p->call_id), CDR_MAX_SID);
        return cap_xfer_notify(t, p, m, id);
    }
    t->st.unmatched++;
    return 0;
}

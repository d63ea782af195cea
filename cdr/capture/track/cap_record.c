/*
 * What a followed dialog and its transfer become as call records, and
 * when they are written.
 *
 * - A parent is written only when its transfer is resolved or the window
 *   has passed, so transfer_status is final when a cron job reads the file.
 * - An unobserved child (PSTN target dialled by the carrier itself) is
 *   written only when the NOTIFYs say the target answered: that leg exists
 *   and must not be lost; a failed attempt is already in the parent's
 *   transfer_status.
 */
#include "cdr/capture/track/cap_track_int.h"
#include "cdr/record/cdr_record.h"
#include "cdr/util/cdr_hash.h"
#include "cdr/record/cdr_addr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- addresses ---- */

int
cap_rec_number_digits(const char *p, size_t n, char *buf, size_t size)
{
    const char *semi = memchr(p, ';', n); /* a tel: number's parameters */
    return cdr_number_digits(p, semi ? (size_t)(semi - p) : n, buf, size);
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
        int nd = cap_rec_number_digits(u.user.p + 1, u.user.n - 1, d, sizeof d);
        if (nd >= 1 && nd <= CDR_E164_MAX_DIGITS) {
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

char *
cap_rec_addr_dup(struct cdr_slice hdr, struct cdr_slice fallback_uri)
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
 * The child's "to": the Refer-To as referee-rate must read it.  A number
 * in a SIP URI is a PSTN target only at the trunk's termination domain
 * (with none, at a *.pstn.twilio.com host), the rater's rule
 * (cdr_host_is_pstn): there it is written as E.164, like a tel: URI.
 * Anywhere else (sip:+14155550199@pbx.example.com, a PBX) it is a SIP
 * target and keeps its URI: as a bare number the rater would price it as
 * a PSTN leg, two components instead of one, or refuse it.
 */
int
cap_rec_target(const struct cap_tracker *t, const struct cap_dialog *d,
               const struct cap_sip_uri *u, struct cdr_slice uri, char *buf,
               size_t size)
{
    if (!cap_sip_eq(u->scheme, "tel") && u->user.n > 1 && u->user.p[0] == '+') {
        const struct cdr_trunk *tk =
            d->trunk_sid == NULL
                ? NULL
                : cdr_trunks_find(&t->cfg->trunks, d->trunk_sid,
                                  strlen(d->trunk_sid));
        if (!cdr_host_is_pstn(u->host, tk ? tk->termination_domain : NULL))
            return uri_form(u, buf, size);
    }
    return cap_record_addr(uri.p, uri.n, buf, size);
}

/* ---- records ---- */

static int64_t
floor_sec(int64_t us)
{
    return us >= 0 ? us / CAP_US : -((-us + CAP_US - 1) / CAP_US);
}

static int64_t
ceil_sec(int64_t us)
{
    return us <= 0 ? 0 : (us + CAP_US - 1) / CAP_US;
}

void
cap_rec_xfer_status(const struct cap_transfer *x, char *buf, size_t size)
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

static int
emit(struct cap_tracker *t, const struct cdr_record *r)
{
    t->st.records++;
    return t->emit ? t->emit(t->emit_ctx, r) : 0;
}

/* A slice of one of our strings; NULL (none) is "". */
static struct cdr_slice
str(const char *s)
{
    return s != NULL ? (struct cdr_slice){s, strlen(s)}
                     : (struct cdr_slice){"", 0};
}

/* The record fields every record of d shares; the capture knows no
 * account or price. */
static struct cdr_record
record_of(const struct cap_dialog *d, enum cdr_status st)
{
    struct cdr_record r = {
        .parent_call_sid = str(NULL),
        .account_sid = str(NULL),
        .trunk_sid = str(d->trunk_sid),
        .status_text = str(cdr_status_name(st)),
        .price = str(NULL),
        .price_unit = str(NULL),
        .transfer_target = str(NULL),
        .transfer_status = str(NULL),
        .direction = d->direction == CDR_DIR_ORIGINATING ? CDR_DIR_ORIGINATING
                                                         : CDR_DIR_TERMINATING,
        .status = st,
    };
    return r;
}

static int
emit_unobserved_child(struct cap_tracker *t, struct cap_dialog *d)
{
    struct cap_transfer *x = d->xfer;
    char sid[CDR_MAX_SID + 1];
    /* A stable sid that names the parent and the REFER; a Call-ID too
     * long to quote is named by its cdr_hash (whose values are pinned). */
    int w = snprintf(sid, sizeof sid, "%s;refer=%u", d->call_id, x->cseq);
    if (w < 0 || (size_t)w > CDR_MAX_SID) {
        uint64_t h = cdr_hash(d->call_id, strlen(d->call_id));
        snprintf(sid, sizeof sid, "xfer-%016llx-%u", (unsigned long long)h,
                 x->cseq);
    }
    int64_t start = x->t_accept_us ? x->t_accept_us : x->t_refer_us;
    struct cdr_record r = record_of(d, CDR_ST_UNOBSERVED);
    r.sid = str(sid);
    r.parent_call_sid = str(d->call_id);
    r.from = str(d->direction == CDR_DIR_ORIGINATING ? d->from : d->to);
    r.to = str(x->target_rec);
    r.start_time = floor_sec(start);
    return emit(t, &r); /* no end, no duration: the leg was not seen */
}

int
cap_rec_emit_call(struct cap_tracker *t, struct cap_dialog *d)
{
    char xs[32] = "";
    struct cap_transfer *x = d->xfer;
    if (x != NULL) {
        cap_xfer_pending_remove(t, x);
        cap_rec_xfer_status(x, xs, sizeof xs);
    }
    struct cdr_record r = record_of(d, d->status);
    r.sid = str(d->call_id);
    r.parent_call_sid = str(d->parent_sid);
    r.from = str(d->from);
    r.to = str(d->to);
    r.start_time = floor_sec(d->t_invite_us);
    r.transfer_target = str(x != NULL ? x->target_uri : NULL);
    r.transfer_status = str(xs);
    if (d->state == CAP_CS_ENDED) {
        r.end_time = floor_sec(d->t_end_us);
        r.has_end_time = 1;
        r.has_duration = 1;
        r.duration = d->status == CDR_ST_COMPLETED
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

int
cap_rec_maybe_finish(struct cap_tracker *t, struct cap_dialog *d)
{
    if (d->emitted || d->state != CAP_CS_ENDED)
        return 0;
    if (d->xfer != NULL && !cap_xfer_resolved(d->xfer)) {
        if (d->cls != CAP_DC_WAIT_XFER)
            cap_dialog_set_class(t->tab, d, CAP_DC_WAIT_XFER, t->now_us);
        return 0;
    }
    return cap_rec_emit_call(t, d);
}

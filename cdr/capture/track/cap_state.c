/*
 * The state file: the calls still open at shutdown (and their transfers),
 * so a restarted capture resumes them instead of writing them as
 * in-progress.
 *
 * A CSV file, written with the project's atomic CSV writer and read with
 * its generic reader: a header row of column names (state_columns below,
 * matched by name as every CSV header of the project is), then one row
 * per open call, its transfer in the same row (the transfer columns empty
 * when it has none).  Every row starts with state_version, 2: a row of
 * another version is refused, so a format change is never read as this
 * one.  The tab-separated format before it, version 1, is still read
 * (cap_state_v1.c), so an upgrade resumes the calls open across it.  Strings
 * are written as they are (the CSV writer quotes what needs it); an empty
 * optional string is none.  Times are microseconds of capture time,
 * addresses "192.0.2.1:5060" or "[2001:db8::1]:5060".
 *
 * What is read is bounded: a field by CAP_DIALOG_MAX_STR bytes (a sid by
 * CDR_MAX_SID), a row by STATE_MAX_ROW, numbers by their ranges, the calls
 * by --max-dialogs.  Anything else is refused with the file, line and
 * column.
 */
#include "cdr/capture/track/cap_track_int.h"
#include "cdr/csv/cdr_csv_reader.h"
#include "cdr/csv/cdr_csv_writer.h"
#include "cdr/util/cdr_decimal.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define STATE_VERSION 2
#define STATE_MAX_ROW 16384

enum state_col {
    SC_VERSION,
    SC_CALL_ID,
    SC_CLASS,
    SC_CLASS_SINCE,
    SC_STATE,
    SC_STATUS,
    SC_FINAL_CODE,
    SC_DIRECTION,
    SC_TRUNK,
    SC_FROM,
    SC_TO,
    SC_REFERRED_BY,
    SC_PARENT,
    SC_INVITE_CSEQ,
    SC_T_INVITE,
    SC_T_ANSWER,
    SC_T_END,
    SC_SRC,
    SC_DST,
    /* the transfer: empty without one */
    SC_X_CSEQ,
    SC_T_REFER,
    SC_T_ACCEPT,
    SC_REFER_SRC,
    SC_REFER_DST,
    SC_REFER_FINAL,
    SC_ACCEPTED,
    SC_NOREFERSUB,
    SC_ATTENDED,
    SC_NO_USER,
    SC_BAD,
    SC_SIPFRAG_FINAL,
    SC_SUB_TERMINATED,
    SC_CHILD_SEEN,
    SC_CHILD_CODE,
    SC_PENDING,
    SC_TARGET_URI,
    SC_TARGET_REC,
    SC_TARGET_KEY,
    SC_X_REFERRED_BY,
    SC_TRANSFEREE_KEY,
    SC__COUNT
};

static const char *const state_columns[SC__COUNT] = {
    [SC_VERSION] = "state_version",
    [SC_CALL_ID] = "call_id",
    [SC_CLASS] = "class",
    [SC_CLASS_SINCE] = "class_since_us",
    [SC_STATE] = "state",
    [SC_STATUS] = "status",
    [SC_FINAL_CODE] = "final_code",
    [SC_DIRECTION] = "direction",
    [SC_TRUNK] = "trunk_sid",
    [SC_FROM] = "from",
    [SC_TO] = "to",
    [SC_REFERRED_BY] = "referred_by",
    [SC_PARENT] = "parent_call_sid",
    [SC_INVITE_CSEQ] = "invite_cseq",
    [SC_T_INVITE] = "invite_us",
    [SC_T_ANSWER] = "answer_us",
    [SC_T_END] = "end_us",
    [SC_SRC] = "src",
    [SC_DST] = "dst",
    [SC_X_CSEQ] = "refer_cseq",
    [SC_T_REFER] = "refer_us",
    [SC_T_ACCEPT] = "accept_us",
    [SC_REFER_SRC] = "refer_src",
    [SC_REFER_DST] = "refer_dst",
    [SC_REFER_FINAL] = "refer_final",
    [SC_ACCEPTED] = "accepted",
    [SC_NOREFERSUB] = "norefersub",
    [SC_ATTENDED] = "attended",
    [SC_NO_USER] = "no_user",
    [SC_BAD] = "bad_refer_to",
    [SC_SIPFRAG_FINAL] = "sipfrag_final",
    [SC_SUB_TERMINATED] = "sub_terminated",
    [SC_CHILD_SEEN] = "child_seen",
    [SC_CHILD_CODE] = "child_code",
    [SC_PENDING] = "pending",
    [SC_TARGET_URI] = "target_uri",
    [SC_TARGET_REC] = "target_record",
    [SC_TARGET_KEY] = "target_key",
    [SC_X_REFERRED_BY] = "refer_referred_by",
    [SC_TRANSFEREE_KEY] = "transferee_key",
};

/* The classes of an open call, and the call states, by name. */
static const char *const class_names[] = {
    [CAP_DC_EARLY] = "early",
    [CAP_DC_CONFIRMED] = "confirmed",
    [CAP_DC_WAIT_XFER] = "wait-transfer",
};
static const char *const state_names[] = {
    [CAP_CS_EARLY] = "early",
    [CAP_CS_CHALLENGED] = "challenged",
    [CAP_CS_CONFIRMED] = "confirmed",
    [CAP_CS_ENDED] = "ended",
};
#define NCLASSES (sizeof class_names / sizeof class_names[0])
#define NSTATES (sizeof state_names / sizeof state_names[0])

/* ---- writing ---- */

/* "192.0.2.1:5060", "[2001:db8::1]:5060"; "" for an address never set. */
static void
put_addr(struct cdr_writer *w, const struct cap_addr *a)
{
    char ip[INET6_ADDRSTRLEN] = "", buf[INET6_ADDRSTRLEN + 16] = "";
    if ((a->family == AF_INET || a->family == AF_INET6) &&
        inet_ntop(a->family, a->ip, ip, sizeof ip) != NULL)
        snprintf(buf, sizeof buf, a->family == AF_INET6 ? "[%s]:%u" : "%s:%u",
                 ip, a->port);
    cdr_writer_field_str(w, buf);
}

static void
save_transfer(struct cdr_writer *w, const struct cap_transfer *x)
{
    if (x == NULL) {
        for (int c = SC_X_CSEQ; c < SC__COUNT; c++)
            cdr_writer_field_str(w, "");
        return;
    }
    cdr_writer_field_int(w, x->cseq);
    cdr_writer_field_int(w, x->t_refer_us);
    cdr_writer_field_int(w, x->t_accept_us);
    put_addr(w, &x->refer_src);
    put_addr(w, &x->refer_dst);
    cdr_writer_field_int(w, x->refer_final);
    cdr_writer_field_int(w, x->accepted != 0);
    cdr_writer_field_int(w, x->norefersub != 0);
    cdr_writer_field_int(w, x->attended != 0);
    cdr_writer_field_int(w, x->no_user != 0);
    cdr_writer_field_int(w, x->bad != 0);
    cdr_writer_field_int(w, x->sipfrag_final);
    cdr_writer_field_int(w, x->sub_terminated != 0);
    cdr_writer_field_int(w, x->child_seen != 0);
    cdr_writer_field_int(w, x->child_code);
    cdr_writer_field_int(w, x->in_pending != 0);
    cdr_writer_field_str(w, x->target_uri);
    cdr_writer_field_str(w, x->target_rec);
    cdr_writer_field_str(w, x->target_key);
    cdr_writer_field_str(w, x->referred_by);
    cdr_writer_field_str(w, x->transferee_key);
}

static void
save_dialog(struct cdr_writer *w, const struct cap_dialog *d)
{
    cdr_writer_field_int(w, STATE_VERSION);
    cdr_writer_field_str(w, d->call_id);
    cdr_writer_field_str(w, class_names[d->cls]);
    cdr_writer_field_int(w, d->class_since_us);
    cdr_writer_field_str(w, state_names[d->state]);
    cdr_writer_field_str(w, cdr_status_name(d->status));
    cdr_writer_field_int(w, d->final_code);
    cdr_writer_field_str(w,
                         cdr_direction_name((enum cdr_direction)d->direction));
    cdr_writer_field_str(w, d->trunk_sid);
    cdr_writer_field_str(w, d->from);
    cdr_writer_field_str(w, d->to);
    cdr_writer_field_str(w, d->referred_by);
    cdr_writer_field_str(w, d->parent_sid);
    cdr_writer_field_int(w, d->invite_cseq);
    cdr_writer_field_int(w, d->t_invite_us);
    cdr_writer_field_int(w, d->t_answer_us);
    cdr_writer_field_int(w, d->t_end_us);
    put_addr(w, &d->src);
    put_addr(w, &d->dst);
    save_transfer(w, d->xfer);
    cdr_writer_end_row(w);
}

static const enum cap_dialog_class open_classes[] = {
    CAP_DC_EARLY, CAP_DC_CONFIRMED, CAP_DC_WAIT_XFER};

int
cap_tracker_save(struct cap_tracker *t, const char *path, struct cdr_diag *d)
{
    struct cdr_writer *w;
    int rc = cdr_writer_open(&w, path, d);
    if (rc != 0)
        return rc;
    for (int c = 0; c < SC__COUNT; c++)
        cdr_writer_field_str(w, state_columns[c]);
    cdr_writer_end_row(w);
    for (size_t c = 0; c < NCLASSES; c++) {
        struct cap_dialog *dl = cap_dialog_oldest(t->tab, open_classes[c]);
        /* walk the class list through the table's links */
        for (; dl != NULL; dl = dl->cnext)
            save_dialog(w, dl);
    }
    rc = cdr_writer_commit(w, d); /* the writer's errors are sticky */
    cdr_writer_free(w);
    if (rc != 0)
        return rc;
    for (size_t c = 0; c < NCLASSES; c++) {
        struct cap_dialog *dl;
        while ((dl = cap_dialog_oldest(t->tab, open_classes[c])) != NULL)
            cap_track_remove_dialog(t, dl);
    }
    t->st.open_dialogs = cap_dialog_count(t->tab);
    return 0;
}

/* ---- reading ---- */

struct state_rd {
    struct cap_tracker *t;
    const char *path;
    struct cdr_diag *d;
    const struct cdr_csv_row *row;
    size_t nfields;     /* of the header: every row has as many */
    int col[SC__COUNT]; /* header position of each column */
};

/* Refuse the file at the current row, column c (-1: none), showing the
 * field's value if show_value. */
static int bad(struct state_rd *r, int c, int show_value, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int
bad(struct state_rd *r, int c, int show_value, const char *fmt, ...)
{
    char msg[CDR_DIAG_TEXT];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    struct cdr_slice v = {NULL, 0};
    if (c >= 0 && show_value)
        v = r->row->field[r->col[c]];
    cdr_diag_set(r->d, CDR_E_CSV, c >= 0 ? state_columns[c] : NULL, v.p, v.n,
                 "state file: %s", msg);
    cdr_diag_at(r->d, r->path, r->row ? r->row->line : 0, 0);
    return CDR_E_CSV;
}

static int
no_memory(struct state_rd *r)
{
    cdr_diag_set(r->d, CDR_E_NOMEM, NULL, NULL, 0, "out of memory");
    cdr_diag_at(r->d, r->path, r->row->line, 0);
    return CDR_E_NOMEM;
}

static struct cdr_slice
field(const struct state_rd *r, int c)
{
    return r->row->field[r->col[c]];
}

static int
get_int(struct state_rd *r, int c, int64_t lo, int64_t hi, int64_t *out)
{
    struct cdr_slice v = field(r, c);
    if (cdr_decimal_parse(v.p, v.n, 0, 0, 1, out) != 0 || *out < lo ||
        *out > hi)
        return bad(r, c, 1, "expected a whole number from %lld to %lld",
                   (long long)lo, (long long)hi);
    return 0;
}

static int
get_flag(struct state_rd *r, int c, int *out)
{
    int64_t v;
    int rc = get_int(r, c, 0, 1, &v);
    *out = (int)v;
    return rc;
}

/* A string of at most max bytes; empty is none (NULL) unless keep_empty. */
static int
get_str(struct state_rd *r, int c, size_t max, int keep_empty, char **out)
{
    struct cdr_slice v = field(r, c);
    *out = NULL;
    if (v.n > max)
        return bad(r, c, 0, "longer than %zu bytes", max);
    if (v.n == 0 && !keep_empty)
        return 0;
    if ((*out = cap_strndup(v.p, v.n, max)) == NULL)
        return no_memory(r);
    return 0;
}

/* One of n names (NULL entries skipped): its index. */
static int
get_name(struct state_rd *r, int c, const char *const *names, size_t n,
         int *out)
{
    struct cdr_slice v = field(r, c);
    *out = 0;
    for (size_t i = 0; i < n; i++) {
        if (names[i] != NULL && strlen(names[i]) == v.n &&
            memcmp(names[i], v.p, v.n) == 0) {
            *out = (int)i;
            return 0;
        }
    }
    return bad(r, c, 1, "unknown value");
}

static int
get_addr(struct state_rd *r, int c, struct cap_addr *a)
{
    struct cdr_slice v = field(r, c);
    char buf[INET6_ADDRSTRLEN + 16];
    memset(a, 0, sizeof *a);
    if (v.n == 0)
        return 0; /* never set */
    const char *colon = NULL;
    for (size_t i = 0; i < v.n; i++)
        colon = v.p[i] == ':' ? v.p + i : colon;
    int v6 = v.p[0] == '[';
    const char *ip = v.p + v6, *ip_end = colon ? colon - v6 : NULL;
    int64_t port;
    if (colon == NULL || ip_end < ip || (size_t)(ip_end - ip) >= sizeof buf ||
        (v6 && colon[-1] != ']') ||
        cdr_decimal_parse(colon + 1, (size_t)(v.p + v.n - colon - 1), 0, 0, 0,
                          &port) != 0 ||
        port > 65535)
        return bad(r, c, 1, "expected IP:PORT or [IPv6]:PORT");
    memcpy(buf, ip, (size_t)(ip_end - ip));
    buf[ip_end - ip] = '\0';
    a->family = v6 ? AF_INET6 : AF_INET;
    if (inet_pton(a->family, buf, a->ip) != 1)
        return bad(r, c, 1, "expected IP:PORT or [IPv6]:PORT");
    a->port = (uint16_t)port;
    return 0;
}

static int
get_status(struct state_rd *r, enum cdr_status *out)
{
    const char *names[CDR_ST_UNOBSERVED + 1];
    for (int s = 0; s <= CDR_ST_UNOBSERVED; s++)
        names[s] = cdr_status_name((enum cdr_status)s);
    int v = 0;
    int rc = get_name(r, SC_STATUS, names, CDR_ST_UNOBSERVED + 1, &v);
    *out = (enum cdr_status)v;
    return rc;
}

static int
get_direction(struct state_rd *r, int *out)
{
    const char *names[] = {
        NULL,
        [CDR_DIR_TERMINATING] = cdr_direction_name(CDR_DIR_TERMINATING),
        [CDR_DIR_ORIGINATING] = cdr_direction_name(CDR_DIR_ORIGINATING),
    };
    return get_name(r, SC_DIRECTION, names, sizeof names / sizeof names[0],
                    out);
}

/* The call's fields of the current row into d (strings owned by d). */
static int
read_call(struct state_rd *r, struct cap_dialog *d, char **trunk)
{
    int64_t v[5];
    int st = 0, rc;
    if ((rc = get_name(r, SC_STATE, state_names, NSTATES, &st)) != 0 ||
        (rc = get_status(r, &d->status)) != 0 ||
        (rc = get_int(r, SC_FINAL_CODE, 0, 699, &v[0])) != 0 ||
        (rc = get_direction(r, &d->direction)) != 0 ||
        (rc = get_str(r, SC_TRUNK, CAP_DIALOG_MAX_STR, 0, trunk)) != 0 ||
        (rc = get_str(r, SC_FROM, CAP_DIALOG_MAX_STR, 0, &d->from)) != 0 ||
        (rc = get_str(r, SC_TO, CAP_DIALOG_MAX_STR, 0, &d->to)) != 0 ||
        (rc = get_str(r, SC_REFERRED_BY, CAP_DIALOG_MAX_STR, 0,
                      &d->referred_by)) != 0 ||
        (rc = get_str(r, SC_PARENT, CDR_MAX_SID, 0, &d->parent_sid)) != 0 ||
        (rc = get_int(r, SC_INVITE_CSEQ, 0, UINT32_MAX, &v[1])) != 0 ||
        (rc = get_int(r, SC_T_INVITE, 0, INT64_MAX, &v[2])) != 0 ||
        (rc = get_int(r, SC_T_ANSWER, 0, INT64_MAX, &v[3])) != 0 ||
        (rc = get_int(r, SC_T_END, 0, INT64_MAX, &v[4])) != 0 ||
        (rc = get_addr(r, SC_SRC, &d->src)) != 0 ||
        (rc = get_addr(r, SC_DST, &d->dst)) != 0)
        return rc;
    d->state = (enum cap_call_state)st;
    d->final_code = (int)v[0];
    d->invite_cseq = (uint32_t)v[1];
    d->t_invite_us = v[2];
    d->t_answer_us = v[3];
    d->t_end_us = v[4];
    return 0;
}

/* The transfer's fields of the current row into x (strings owned by x). */
static int
read_transfer(struct state_rd *r, struct cap_transfer *x, int *pending)
{
    int64_t v[6];
    int rc;
    if ((rc = get_int(r, SC_X_CSEQ, 0, UINT32_MAX, &v[0])) != 0 ||
        (rc = get_int(r, SC_T_REFER, 0, INT64_MAX, &v[1])) != 0 ||
        (rc = get_int(r, SC_T_ACCEPT, 0, INT64_MAX, &v[2])) != 0 ||
        (rc = get_addr(r, SC_REFER_SRC, &x->refer_src)) != 0 ||
        (rc = get_addr(r, SC_REFER_DST, &x->refer_dst)) != 0 ||
        (rc = get_int(r, SC_REFER_FINAL, 0, 999, &v[3])) != 0 ||
        (rc = get_flag(r, SC_ACCEPTED, &x->accepted)) != 0 ||
        (rc = get_flag(r, SC_NOREFERSUB, &x->norefersub)) != 0 ||
        (rc = get_flag(r, SC_ATTENDED, &x->attended)) != 0 ||
        (rc = get_flag(r, SC_NO_USER, &x->no_user)) != 0 ||
        (rc = get_flag(r, SC_BAD, &x->bad)) != 0 ||
        (rc = get_int(r, SC_SIPFRAG_FINAL, 0, 999, &v[4])) != 0 ||
        (rc = get_flag(r, SC_SUB_TERMINATED, &x->sub_terminated)) != 0 ||
        (rc = get_flag(r, SC_CHILD_SEEN, &x->child_seen)) != 0 ||
        (rc = get_int(r, SC_CHILD_CODE, 0, 999, &v[5])) != 0 ||
        (rc = get_flag(r, SC_PENDING, pending)) != 0 ||
        (rc = get_str(r, SC_TARGET_URI, CAP_DIALOG_MAX_STR, 0,
                      &x->target_uri)) != 0 ||
        (rc = get_str(r, SC_TARGET_REC, CAP_DIALOG_MAX_STR, 0,
                      &x->target_rec)) != 0 ||
        (rc = get_str(r, SC_TARGET_KEY, CAP_DIALOG_MAX_STR, 0,
                      &x->target_key)) != 0 ||
        (rc = get_str(r, SC_X_REFERRED_BY, CAP_DIALOG_MAX_STR, 0,
                      &x->referred_by)) != 0 ||
        (rc = get_str(r, SC_TRANSFEREE_KEY, CAP_DIALOG_MAX_STR, 0,
                      &x->transferee_key)) != 0)
        return rc;
    cap_state_xfer_numbers(x, v);
    return 0;
}

/* A call without transfer has every transfer column empty. */
static int
no_transfer(struct state_rd *r)
{
    for (int c = SC_X_CSEQ + 1; c < SC__COUNT; c++)
        if (field(r, c).n != 0)
            return bad(r, c, 1, "a transfer field without refer_cseq");
    return 0;
}

void
cap_state_xfer_numbers(struct cap_transfer *x, const int64_t v[6])
{
    x->cseq = (uint32_t)v[0];
    x->t_refer_us = v[1];
    x->t_accept_us = v[2];
    x->refer_final = (int)v[3];
    x->sipfrag_final = (int)v[4];
    x->child_code = (int)v[5];
}

const char *
cap_state_trunk_of(const struct cap_tracker *t, const char *sid)
{
    const struct cdr_trunk *tk =
        sid == NULL ? NULL : cdr_trunks_find(&t->cfg->trunks, sid, strlen(sid));
    return tk != NULL ? tk->sid : NULL;
}

void
cap_state_free_fields(struct cap_dialog *d, struct cap_transfer *x)
{
    free(d->from);
    free(d->to);
    free(d->referred_by);
    free(d->parent_sid);
    free(x->target_uri);
    free(x->target_rec);
    free(x->target_key);
    free(x->referred_by);
    free(x->transferee_key);
}

int
cap_state_restore(struct cap_tracker *t, const char *call_id, int cls,
                  int64_t since, struct cap_dialog *f, struct cap_transfer *fx,
                  int pending, struct cdr_diag *diag)
{
    struct cap_transfer *x = NULL;
    if (fx != NULL && (x = malloc(sizeof *x)) == NULL)
        return cdr_diag_set(diag, CDR_E_NOMEM, NULL, NULL, 0, "out of memory");
    struct cap_dialog *d = cap_dialog_add(t->tab, call_id, strlen(call_id),
                                          (enum cap_dialog_class)cls, since);
    if (d == NULL) {
        free(x);
        if (cap_dialog_count(t->tab) < cap_dialog_max(t->tab))
            return cdr_diag_set(diag, CDR_E_NOMEM, NULL, NULL, 0,
                                "out of memory");
        return cdr_diag_set(diag, CDR_E_LIMIT, NULL, NULL, 0,
                            "more open calls than --max-dialogs");
    }
    d->state = f->state;
    d->status = f->status;
    d->final_code = f->final_code;
    d->direction = f->direction;
    d->trunk_sid = f->trunk_sid;
    d->from = f->from;
    d->to = f->to;
    d->referred_by = f->referred_by;
    d->parent_sid = f->parent_sid;
    d->invite_cseq = f->invite_cseq;
    d->t_invite_us = f->t_invite_us;
    d->t_answer_us = f->t_answer_us;
    d->t_end_us = f->t_end_us;
    d->src = f->src;
    d->dst = f->dst;
    if (x != NULL) {
        *x = *fx;
        x->parent = d;
        d->xfer = x;
        if (pending && x->target_key != NULL)
            cap_xfer_pending_append(t, x);
    }
    return 0;
}

/* One row: one open call, with its transfer if it has one. */
static int
load_row(struct state_rd *r)
{
    struct cap_dialog f;
    struct cap_transfer fx;
    memset(&f, 0, sizeof f);
    memset(&fx, 0, sizeof fx);
    char *call_id = NULL, *trunk = NULL;
    int cls = 0, pending = 0, rc;
    int64_t since = 0;
    struct cdr_slice ver = field(r, SC_VERSION);
    if (ver.n != 1 || ver.p[0] != '0' + STATE_VERSION)
        return bad(r, SC_VERSION, 1, "this referee-capture reads version %d",
                   STATE_VERSION);
    int has_x = field(r, SC_X_CSEQ).n != 0;
    if ((rc = get_str(r, SC_CALL_ID, CDR_MAX_SID, 1, &call_id)) == 0 &&
        (rc = get_name(r, SC_CLASS, class_names, NCLASSES, &cls)) == 0 &&
        (rc = get_int(r, SC_CLASS_SINCE, -INT64_MAX, INT64_MAX, &since)) == 0 &&
        (rc = read_call(r, &f, &trunk)) == 0)
        rc = has_x ? read_transfer(r, &fx, &pending) : no_transfer(r);
    if (rc == 0 && cap_dialog_find(r->t->tab, call_id, strlen(call_id)))
        rc = bad(r, SC_CALL_ID, 1, "a call twice");
    if (rc == 0) {
        f.trunk_sid = cap_state_trunk_of(r->t, trunk);
        rc = cap_state_restore(r->t, call_id, cls, since, &f,
                               has_x ? &fx : NULL, pending, r->d);
        if (rc != 0)
            cdr_diag_at(r->d, r->path, r->row->line, 0);
    }
    if (rc != 0)
        cap_state_free_fields(&f, &fx);
    free(call_id);
    free(trunk);
    return rc;
}

static int
column_of(const char *normalised)
{
    for (int c = 0; c < SC__COUNT; c++) {
        char name[64];
        const char *s = state_columns[c];
        cdr_csv_normalise_name(s, strlen(s), name, sizeof name);
        if (strcmp(name, normalised) == 0)
            return c;
    }
    return -1;
}

static int
read_header(struct state_rd *r)
{
    const struct cdr_csv_row *h = r->row;
    cdr_csv_map_header(h, column_of, r->col, SC__COUNT);
    for (int c = 0; c < SC__COUNT; c++)
        if (r->col[c] < 0) {
            cdr_diag_set(r->d, CDR_E_CSV, state_columns[c], NULL, 0,
                         "state file: no such column in the header");
            cdr_diag_at(r->d, r->path, h->line, 0);
            return CDR_E_CSV;
        }
    r->nfields = h->nfields;
    return 0;
}

/* The column at header position i, for a diagnostic; -1 if not ours. */
static int
column_at(const struct state_rd *r, size_t i)
{
    for (int c = 0; c < SC__COUNT; c++)
        if (r->col[c] == (int)i)
            return c;
    return -1;
}

static int
read_row(struct state_rd *r, const struct cdr_csv_row *row)
{
    r->row = row;
    if (row->nfields != r->nfields)
        return bad(r, -1, 0, "%zu fields where the header has %zu",
                   row->nfields, r->nfields);
    if (row->too_long) {
        int c = column_at(r, (size_t)row->too_long - 1);
        if (c >= 0)
            return bad(r, c, 0, "longer than %d bytes", CAP_DIALOG_MAX_STR);
        return bad(r, -1, 0, "field %d longer than %d bytes", row->too_long,
                   CAP_DIALOG_MAX_STR);
    }
    return load_row(r);
}

/* 1 if path starts with the version 1 line, 0 if not (or unreadable:
 * the CSV reader then says why). */
static int
is_version_1(const char *path)
{
    static const char magic[] = CAP_STATE_V1_MAGIC "\n";
    char head[sizeof magic];
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return 0;
    size_t n = fread(head, 1, sizeof magic - 1, f);
    fclose(f);
    return n == sizeof magic - 1 && memcmp(head, magic, n) == 0;
}

int
cap_tracker_load(struct cap_tracker *t, const char *path, struct cdr_diag *d)
{
    cdr_diag_clear(d);
    if (is_version_1(path))
        return cap_state_load_v1(t, path, d);
    struct cdr_csv_reader *rd;
    struct cdr_csv_limits lim = {CAP_DIALOG_MAX_STR, STATE_MAX_ROW};
    int rc = cdr_csv_reader_open(&rd, path, NULL, lim, d);
    if (rc != 0)
        return rc;
    struct state_rd r = {.t = t, .path = path, .d = d};
    struct cdr_csv_row row;
    int count = 0;
    rc = cdr_csv_reader_next(rd, &row, d);
    if (rc == 0) {
        rc = bad(&r, -1, 0, "empty file, no header row");
    } else if (rc == 1) {
        r.row = &row;
        rc = read_header(&r);
    }
    while (rc == 0 && (rc = cdr_csv_reader_next(rd, &row, d)) == 1) {
        rc = read_row(&r, &row);
        count += rc == 0;
    }
    cdr_csv_reader_close(rd);
    if (rc < 0)
        return rc;
    t->st.open_dialogs = cap_dialog_count(t->tab);
    return count;
}

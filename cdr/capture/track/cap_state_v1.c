/*
 * The state file as referee-capture wrote it before the CSV format
 * (version 1), read so that an upgrade resumes the calls open across it
 * instead of losing them.  Never written: the next save is version 2.
 *
 *   referee-capture-state 1
 *   D <19 tab-separated fields of one open call>
 *   X <22 fields of its transfer>        (only when it has one)
 *
 * Strings are "-" for none, "%" alone for empty, else %XX-escaped;
 * addresses "family,32 hex digits,port"; the rest decimal integers, the
 * enumerations by the numbers that version gave them (the same order as
 * today's).  As for version 2, any problem refuses the whole file with
 * its line and field.
 */
#include "cdr/capture/track/cap_track_int.h"
#include "cdr/util/cdr_ascii.h"
#include "cdr/util/cdr_decimal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define V1_MAX_LINE 16384
#define V1_CALL_FIELDS 19
#define V1_XFER_FIELDS 22

static const char *const call_fields[V1_CALL_FIELDS] = {
    "D",          "call_id",     "state",    "status",   "final_code",
    "direction",  "trunk_sid",   "from",     "to",       "referred_by",
    "parent_sid", "invite_cseq", "t_invite", "t_answer", "t_end",
    "class",      "class_since", "src",      "dst"};
static const char *const xfer_fields[V1_XFER_FIELDS] = {"X",
                                                        "cseq",
                                                        "t_refer",
                                                        "t_accept",
                                                        "refer_src",
                                                        "refer_dst",
                                                        "refer_final",
                                                        "accepted",
                                                        "norefersub",
                                                        "attended",
                                                        "no_user",
                                                        "bad",
                                                        "sipfrag_final",
                                                        "sub_terminated",
                                                        "child_seen",
                                                        "child_code",
                                                        "in_pending",
                                                        "target_uri",
                                                        "target_rec",
                                                        "target_key",
                                                        "referred_by",
                                                        "transferee_key"};

struct v1_rd {
    struct cap_tracker *t;
    const char *path;
    struct cdr_diag *d;
    long line;
    char *f[V1_XFER_FIELDS];
    const char *const *names; /* of the current line's fields */
    /* the call read last, restored when its line (and its X) is done */
    int have_call;
    long call_line;
    char *call_id;
    int cls;
    int64_t since;
    struct cap_dialog call;
};

static int bad(struct v1_rd *r, int i, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Refuse the file at the current line, field i (-1: none). */
static int
bad(struct v1_rd *r, int i, const char *fmt, ...)
{
    char msg[CDR_DIAG_TEXT];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const char *v = i >= 0 ? r->f[i] : NULL;
    cdr_diag_set(r->d, CDR_E_CSV, i >= 0 ? r->names[i] : NULL, v,
                 v ? strlen(v) : 0, "state file (version 1): %s", msg);
    cdr_diag_at(r->d, r->path, r->line, 0);
    return CDR_E_CSV;
}

static int
get_int(struct v1_rd *r, int i, int64_t lo, int64_t hi, int64_t *out)
{
    if (cdr_decimal_parse(r->f[i], strlen(r->f[i]), 0, 0, 1, out) != 0 ||
        *out < lo || *out > hi)
        return bad(r, i, "expected a whole number from %lld to %lld",
                   (long long)lo, (long long)hi);
    return 0;
}

/* A flag: version 1 wrote 0 or 1 and read any other number as 1. */
static int
get_flag(struct v1_rd *r, int i, int *out)
{
    int64_t v;
    int rc = get_int(r, i, 0, INT64_MAX, &v);
    *out = v != 0;
    return rc;
}

/* "-": none; "%": empty (none, as version 2 reads it, unless keep_empty);
 * else unescaped, at most max bytes. */
static int
get_str(struct v1_rd *r, int i, size_t max, int keep_empty, char **out)
{
    const char *s = r->f[i];
    char buf[CAP_DIALOG_MAX_STR + 1];
    size_t o = 0;
    *out = NULL;
    if (strcmp(s, "-") == 0)
        return 0;
    if (strcmp(s, "%") != 0) {
        for (; *s; s++) {
            char c = *s;
            if (c == '%') {
                int hi = cdr_hex_value(s[1]),
                    lo = hi >= 0 ? cdr_hex_value(s[2]) : -1;
                if (lo < 0)
                    return bad(r, i, "malformed %%-escape");
                c = (char)(hi * 16 + lo);
                s += 2;
            }
            if (o == max)
                return bad(r, i, "longer than %zu bytes", max);
            buf[o++] = c;
        }
    }
    if (o == 0 && !keep_empty)
        return 0;
    if ((*out = cap_strndup(buf, o, max)) == NULL)
        return cdr_diag_set(r->d, CDR_E_NOMEM, NULL, NULL, 0, "out of memory");
    return 0;
}

/* "2,7f000001000000000000000000000000,5060": family (0: never set),
 * the 16 address bytes, the port. */
static int
get_addr(struct v1_rd *r, int i, struct cap_addr *a)
{
    const char *s = r->f[i];
    const char *c1 = strchr(s, ','), *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
    int64_t fam = -1, port = -1;
    memset(a, 0, sizeof *a);
    if (c2 == NULL || c2 - c1 - 1 != 32 ||
        cdr_decimal_parse(s, (size_t)(c1 - s), 0, 0, 0, &fam) != 0 ||
        cdr_decimal_parse(c2 + 1, strlen(c2 + 1), 0, 0, 0, &port) != 0 ||
        (fam != 0 && fam != AF_INET && fam != AF_INET6) || port > 65535)
        return bad(r, i, "expected family,32 hex digits,port");
    for (int k = 0; k < 16; k++) {
        int hi = cdr_hex_value(c1[1 + 2 * k]),
            lo = cdr_hex_value(c1[2 + 2 * k]);
        if (hi < 0 || lo < 0)
            return bad(r, i, "expected family,32 hex digits,port");
        a->ip[k] = (uint8_t)(hi * 16 + lo);
    }
    a->family = (int)fam;
    a->port = (uint16_t)port;
    return 0;
}

/* Split the line at tabs into r->f: the number of fields, or -1 when
 * there are more than max. */
static int
split(struct v1_rd *r, char *line, int max)
{
    int n = 0;
    for (char *p = line;; n++) {
        if (n == max)
            return -1;
        r->f[n] = p;
        char *tab = strchr(p, '\t');
        if (tab == NULL)
            return n + 1;
        *tab = '\0';
        p = tab + 1;
    }
}

/* The enumerations' ranges in version 1: states early..ended, statuses
 * none..unobserved (cdr_status's first eight, in its order), directions
 * terminating and originating, classes early..wait-transfer. */
static int
read_call(struct v1_rd *r)
{
    struct cap_dialog *c = &r->call;
    int64_t v[11];
    int rc;
    char *trunk = NULL;
    memset(c, 0, sizeof *c);
    if ((rc = get_str(r, 1, CDR_MAX_SID, 1, &r->call_id)) != 0)
        return rc;
    if (r->call_id == NULL)
        return bad(r, 1, "no Call-ID");
    if ((rc = get_int(r, 2, CAP_CS_EARLY, CAP_CS_ENDED, &v[0])) != 0 ||
        (rc = get_int(r, 3, CDR_ST_NONE, CDR_ST_UNOBSERVED, &v[1])) != 0 ||
        (rc = get_int(r, 4, 0, 699, &v[2])) != 0 ||
        (rc = get_int(r, 5, CDR_DIR_TERMINATING, CDR_DIR_ORIGINATING, &v[3])) !=
            0 ||
        (rc = get_str(r, 6, CAP_DIALOG_MAX_STR, 0, &trunk)) != 0 ||
        (rc = get_str(r, 7, CAP_DIALOG_MAX_STR, 0, &c->from)) != 0 ||
        (rc = get_str(r, 8, CAP_DIALOG_MAX_STR, 0, &c->to)) != 0 ||
        (rc = get_str(r, 9, CAP_DIALOG_MAX_STR, 0, &c->referred_by)) != 0 ||
        (rc = get_str(r, 10, CDR_MAX_SID, 0, &c->parent_sid)) != 0 ||
        (rc = get_int(r, 11, 0, UINT32_MAX, &v[4])) != 0 ||
        (rc = get_int(r, 12, 0, INT64_MAX, &v[5])) != 0 ||
        (rc = get_int(r, 13, 0, INT64_MAX, &v[6])) != 0 ||
        (rc = get_int(r, 14, 0, INT64_MAX, &v[7])) != 0 ||
        (rc = get_int(r, 15, CAP_DC_EARLY, CAP_DC_WAIT_XFER, &v[8])) != 0 ||
        (rc = get_int(r, 16, -INT64_MAX, INT64_MAX, &v[9])) != 0 ||
        (rc = get_addr(r, 17, &c->src)) != 0 ||
        (rc = get_addr(r, 18, &c->dst)) != 0) {
        free(trunk);
        return rc;
    }
    if (cap_dialog_find(r->t->tab, r->call_id, strlen(r->call_id)) != NULL) {
        free(trunk);
        return bad(r, 1, "a call twice");
    }
    c->state = (enum cap_call_state)v[0];
    c->status = (enum cdr_status)v[1];
    c->final_code = (int)v[2];
    c->direction = (int)v[3];
    c->trunk_sid = cap_state_trunk_of(r->t, trunk);
    free(trunk);
    c->invite_cseq = (uint32_t)v[4];
    c->t_invite_us = v[5];
    c->t_answer_us = v[6];
    c->t_end_us = v[7];
    r->cls = (int)v[8];
    r->since = v[9];
    r->have_call = 1;
    r->call_line = r->line;
    return 0;
}

static int
read_xfer(struct v1_rd *r, struct cap_transfer *x, int *pending)
{
    int64_t v[6];
    int rc;
    memset(x, 0, sizeof *x);
    if ((rc = get_int(r, 1, 0, UINT32_MAX, &v[0])) != 0 ||
        (rc = get_int(r, 2, 0, INT64_MAX, &v[1])) != 0 ||
        (rc = get_int(r, 3, 0, INT64_MAX, &v[2])) != 0 ||
        (rc = get_addr(r, 4, &x->refer_src)) != 0 ||
        (rc = get_addr(r, 5, &x->refer_dst)) != 0 ||
        (rc = get_int(r, 6, 0, 999, &v[3])) != 0 ||
        (rc = get_flag(r, 7, &x->accepted)) != 0 ||
        (rc = get_flag(r, 8, &x->norefersub)) != 0 ||
        (rc = get_flag(r, 9, &x->attended)) != 0 ||
        (rc = get_flag(r, 10, &x->no_user)) != 0 ||
        (rc = get_flag(r, 11, &x->bad)) != 0 ||
        (rc = get_int(r, 12, 0, 999, &v[4])) != 0 ||
        (rc = get_flag(r, 13, &x->sub_terminated)) != 0 ||
        (rc = get_flag(r, 14, &x->child_seen)) != 0 ||
        (rc = get_int(r, 15, 0, 999, &v[5])) != 0 ||
        (rc = get_flag(r, 16, pending)) != 0 ||
        (rc = get_str(r, 17, CAP_DIALOG_MAX_STR, 0, &x->target_uri)) != 0 ||
        (rc = get_str(r, 18, CAP_DIALOG_MAX_STR, 0, &x->target_rec)) != 0 ||
        (rc = get_str(r, 19, CAP_DIALOG_MAX_STR, 0, &x->target_key)) != 0 ||
        (rc = get_str(r, 20, CAP_DIALOG_MAX_STR, 0, &x->referred_by)) != 0 ||
        (rc = get_str(r, 21, CAP_DIALOG_MAX_STR, 0, &x->transferee_key)) != 0)
        return rc;
    cap_state_xfer_numbers(x, v);
    return 0;
}

/* Restore the call read last, with its transfer x if not NULL. */
static int
restore_call(struct v1_rd *r, struct cap_transfer *x, int pending)
{
    struct cap_transfer none;
    memset(&none, 0, sizeof none);
    r->have_call = 0;
    int rc = cap_state_restore(r->t, r->call_id, r->cls, r->since, &r->call, x,
                               pending, r->d);
    if (rc != 0) {
        cdr_diag_at(r->d, r->path, r->call_line, 0);
        cap_state_free_fields(&r->call, x ? x : &none);
    }
    free(r->call_id);
    r->call_id = NULL;
    return rc;
}

/* One line after the first: 0, or the error. */
static int
read_line(struct v1_rd *r, char *line, int *count)
{
    int rc = 0;
    if (line[0] == 'D' && line[1] == '\t') {
        if (r->have_call && (rc = restore_call(r, NULL, 0)) != 0)
            return rc;
        r->names = call_fields;
        if (split(r, line, V1_CALL_FIELDS) != V1_CALL_FIELDS)
            return bad(r, -1, "a call line without its %d fields",
                       V1_CALL_FIELDS);
        if ((rc = read_call(r)) == 0) {
            ++*count;
        } else {
            struct cap_transfer none;
            memset(&none, 0, sizeof none);
            cap_state_free_fields(&r->call, &none);
        }
        return rc;
    }
    if (line[0] == 'X' && line[1] == '\t') {
        r->names = xfer_fields;
        if (!r->have_call)
            return bad(r, -1, "a transfer line without its call line");
        if (split(r, line, V1_XFER_FIELDS) != V1_XFER_FIELDS)
            return bad(r, -1, "a transfer line without its %d fields",
                       V1_XFER_FIELDS);
        struct cap_transfer x;
        int pending = 0;
        if ((rc = read_xfer(r, &x, &pending)) != 0) {
            cap_state_free_fields(&r->call, &x);
            r->have_call = 0;
            return rc;
        }
        return restore_call(r, &x, pending);
    }
    return bad(r, -1, "neither a call (D) nor a transfer (X) line");
}

int
cap_state_load_v1(struct cap_tracker *t, const char *path, struct cdr_diag *d)
{
    cdr_diag_clear(d);
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
        cdr_diag_set(d, CDR_E_IO, NULL, NULL, 0, "cannot open state file: %s",
                     strerror(errno));
        cdr_diag_at(d, path, 0, 0);
        return CDR_E_IO;
    }
    char *line = malloc(V1_MAX_LINE + 2);
    struct v1_rd r = {.t = t, .path = path, .d = d, .names = call_fields};
    int rc =
        line ? 0 : cdr_diag_set(d, CDR_E_NOMEM, NULL, NULL, 0, "out of memory");
    int count = 0;
    while (rc == 0 && fgets(line, V1_MAX_LINE + 2, fp) != NULL) {
        r.line++;
        size_t n = strlen(line);
        if (n == 0 || line[n - 1] != '\n') {
            rc = bad(&r, -1,
                     n > V1_MAX_LINE ? "line longer than %d bytes"
                                     : "cut short (no end of line)",
                     V1_MAX_LINE);
            break;
        }
        line[n - 1] = '\0';
        if (r.line == 1)
            rc = strcmp(line, CAP_STATE_V1_MAGIC) == 0
                     ? 0
                     : bad(&r, -1, "not a version 1 state file");
        else
            rc = read_line(&r, line, &count);
    }
    if (rc == 0 && ferror(fp)) {
        cdr_diag_set(d, CDR_E_IO, NULL, NULL, 0, "read error: %s",
                     strerror(errno));
        cdr_diag_at(d, path, r.line, 0);
        rc = CDR_E_IO;
    }
    if (r.have_call) {
        if (rc == 0)
            rc = restore_call(&r, NULL, 0);
        else
            cap_state_free_fields(&r.call, &(struct cap_transfer){.cseq = 0});
    }
    free(r.call_id);
    free(line);
    fclose(fp);
    if (rc != 0)
        return rc;
    t->st.open_dialogs = cap_dialog_count(t->tab);
    return count;
}

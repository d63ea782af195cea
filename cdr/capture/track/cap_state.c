/*
 * The state file: the calls still open at shutdown (and their transfers),
 * so a restarted capture resumes them instead of writing them as
 * in-progress.
 */
#include "cdr/capture/track/cap_track_int.h"
#include "cdr/csv/cdr_csv_writer.h"
#include "cdr/util/cdr_parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
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
            cap_track_remove_dialog(t, dl);
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
    if (c >= '0' && c <= '9')
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
        CAP_CS_ENDED,    CDR_ST_UNOBSERVED, 699,       2,
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
    d->status = (enum cdr_status)v[1];
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
        cap_track_remove_dialog(t, d);
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
        cap_xfer_free(x);
        return -1;
    }
    d->xfer = x;
    if (v[13] && x->target_key != NULL)
        cap_xfer_pending_append(t, x);
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

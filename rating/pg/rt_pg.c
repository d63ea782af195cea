#include "rating/pg/rt_pg.h"

#include "cdr/util/cdr_decimal.h"
#include "cdr/util/cdr_time.h"
#include "cdr/util/cdr_utf8.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* libpq messages end with a newline and may span lines: keep one line of
 * text per line, joined with "; ". */
static void
flatten(char *dst, size_t size, const char *src)
{
    size_t o = 0;
    int pending_sep = 0;
    if (size == 0)
        return;
    for (; src != NULL && *src != '\0' && o + 1 < size; src++) {
        if (*src == '\n' || *src == '\r') {
            pending_sep = o > 0;
            continue;
        }
        if (*src == '\t') {
            if (o > 0 && dst[o - 1] != ' ')
                dst[o++] = ' ';
            continue;
        }
        if (pending_sep) {
            if (o + 3 >= size)
                break;
            dst[o++] = ';';
            dst[o++] = ' ';
            pending_sep = 0;
        }
        dst[o++] = *src;
    }
    dst[o] = '\0';
}

static const char *
nz(const char *s, const char *dflt)
{
    return (s != NULL && *s != '\0') ? s : dflt;
}

int
rt_pg_connect(PGconn **out, const char *conninfo, struct cdr_diag *d)
{
    const char *const keys[] = {"dbname", "fallback_application_name",
                                "client_encoding", NULL};
    const char *const vals[] = {conninfo != NULL ? conninfo : "",
                                "referee-rate", "UTF8", NULL};
    PGconn *conn;
    char why[CDR_DIAG_TEXT];

    *out = NULL;
    if (conninfo != NULL && conninfo[0] != '\0') {
        /* A malformed string is not a connection failure: say so. */
        char *err = NULL;
        PQconninfoOption *opts = PQconninfoParse(conninfo, &err);
        if (opts == NULL) {
            flatten(why, sizeof why, err != NULL ? err : "out of memory");
            PQfreemem(err);
            cdr_diag_set(d, CDR_E_USAGE, "--db", NULL, 0,
                         "invalid connection string or URI");
            cdr_diag_detail(d, "%s", why);
            return CDR_E_USAGE;
        }
        PQconninfoFree(opts);
    }
    conn = PQconnectdbParams(keys, vals, 1);
    if (conn == NULL)
        return cdr_diag_set(d, CDR_E_NOMEM, NULL, NULL, 0,
                            "cannot connect to PostgreSQL: out of memory");
    if (PQstatus(conn) != CONNECTION_OK) {
        const char *host = PQhost(conn);
        flatten(why, sizeof why, PQerrorMessage(conn));
        cdr_diag_set(d, CDR_E_DB, NULL, NULL, 0,
                     "cannot connect to PostgreSQL database \"%s\" on host "
                     "\"%s\" port %s as user \"%s\"",
                     nz(PQdb(conn), "?"), nz(host, "(default socket)"),
                     nz(PQport(conn), "5432"), nz(PQuser(conn), "?"));
        cdr_diag_detail(d, "%s", why);
        PQfinish(conn);
        return CDR_E_DB;
    }
    /* Views and partition bounds work in UTC explicitly; this only makes
     * timestamps read back by the store unambiguous. */
    if (rt_pg_exec(conn, "SET TimeZone = 'UTC'", "setting the time zone", d) !=
        0) {
        PQfinish(conn);
        return CDR_E_DB;
    }
    *out = conn;
    return 0;
}

int
rt_pg_fail(PGconn *conn, const PGresult *res, const char *what,
           struct cdr_diag *d)
{
    char primary[CDR_DIAG_TEXT];
    const char *state = NULL, *detail = NULL, *hint = NULL;

    if (res != NULL && PQresultStatus(res) == PGRES_FATAL_ERROR) {
        flatten(primary, sizeof primary,
                nz(PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY),
                   PQresultErrorMessage(res)));
        state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
        hint = PQresultErrorField(res, PG_DIAG_MESSAGE_HINT);
    } else {
        flatten(primary, sizeof primary,
                conn != NULL ? PQerrorMessage(conn) : "no connection");
        if (primary[0] == '\0' && res != NULL)
            snprintf(primary, sizeof primary, "unexpected result %s",
                     PQresStatus(PQresultStatus(res)));
    }
    if (primary[0] == '\0')
        snprintf(primary, sizeof primary, "%s",
                 (conn != NULL && PQstatus(conn) == CONNECTION_BAD)
                     ? "connection lost"
                     : "unknown error");
    cdr_diag_set(d, CDR_E_DB, NULL, NULL, 0, "%s: %s", what, primary);
    {
        char det[CDR_DIAG_TEXT], hin[CDR_DIAG_TEXT];
        flatten(det, sizeof det, detail);
        flatten(hin, sizeof hin, hint);
        cdr_diag_detail(
            d, "SQLSTATE %s%s%s%s%s",
            nz(state, conn != NULL && PQstatus(conn) == CONNECTION_BAD
                          ? "(none: connection lost)"
                          : "(none)"),
            det[0] ? "; " : "", det, hin[0] ? "; hint: " : "", hin);
    }
    return CDR_E_DB;
}

int
rt_pg_exec(PGconn *conn, const char *sql, const char *what, struct cdr_diag *d)
{
    PGresult *res = PQexec(conn, sql);
    ExecStatusType st = PQresultStatus(res);
    if (res == NULL || (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)) {
        rt_pg_fail(conn, res, what, d);
        PQclear(res);
        return CDR_E_DB;
    }
    PQclear(res);
    return 0;
}

PGresult *
rt_pg_query(PGconn *conn, const char *sql, int nparams,
            const char *const *values, ExecStatusType expect, const char *what,
            struct cdr_diag *d)
{
    PGresult *res =
        PQexecParams(conn, sql, nparams, NULL, values, NULL, NULL, 0);
    if (res == NULL || PQresultStatus(res) != expect) {
        rt_pg_fail(conn, res, what, d);
        PQclear(res);
        return NULL;
    }
    return res;
}

/* ---- buffers and COPY rows ------------------------------------------ */

void
rt_pg_buf_init(struct rt_pg_buf *b)
{
    memset(b, 0, sizeof *b);
}

void
rt_pg_buf_free(struct rt_pg_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

void
rt_pg_buf_reset(struct rt_pg_buf *b)
{
    b->n = 0;
    b->fields = 0;
}

static int
reserve(struct rt_pg_buf *b, size_t more)
{
    size_t need, cap;
    char *p;
    if (b->oom)
        return -1;
    if (more > SIZE_MAX - b->n - 1) {
        b->oom = 1;
        return -1;
    }
    need = b->n + more + 1;
    if (need <= b->cap)
        return 0;
    cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    p = realloc(b->p, cap);
    if (p == NULL) {
        b->oom = 1;
        return -1;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

void
rt_pg_buf_add(struct rt_pg_buf *b, const char *s, size_t n)
{
    if (n == 0 || reserve(b, n) != 0)
        return;
    memcpy(b->p + b->n, s, n);
    b->n += n;
}

const char *
rt_pg_buf_cstr(struct rt_pg_buf *b)
{
    if (reserve(b, 0) != 0)
        return NULL;
    b->p[b->n] = '\0';
    return b->p;
}

int
rt_pg_buf_error(const struct rt_pg_buf *b, const char *what, struct cdr_diag *d)
{
    if (b->oom)
        return cdr_diag_set(d, CDR_E_NOMEM, NULL, NULL, 0,
                            "out of memory building %s", what);
    if (b->bad)
        return cdr_diag_set(d, CDR_E_BAD_NUMBER, NULL, NULL, 0,
                            "a number of the %s cannot be stored exactly "
                            "(not a decimal, or digits beyond its places)",
                            what);
    return 0;
}

/* The two-byte escape of c in mode (below), or NULL. */
static const char *
escape_of(char c, int mode)
{
    if (mode == 1)
        switch (c) {
        case '\\': return "\\\\";
        case '\t': return "\\t";
        case '\n': return "\\n";
        case '\r': return "\\r";
        default: return NULL;
        }
    if (mode == 2 && (c == '\\' || c == '"'))
        return c == '\\' ? "\\\\" : "\\\"";
    return NULL;
}

/* s cleaned as cdr_utf8_clean cleans it, escaped for where it goes:
 * mode 0: not at all; 1: COPY text; 2: an array element.  Not
 * cdr_utf8_clean itself: the escapes go in the same pass, and mode 0
 * skips plain ASCII a word at a time (cdr_utf8_ascii_prefix): nearly
 * every value (sids, numbers, names) is all of it, and the byte-by-byte
 * check was a sixth of the loader's time. */
static void
add_value(struct rt_pg_buf *b, const char *s, size_t n, int mode)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, run = 0;
    /* Worst case every byte becomes 3: reserve once. */
    if (n > (SIZE_MAX - 8) / 3 || reserve(b, n * 3 + 4) != 0) {
        b->oom = 1;
        return;
    }
    while (i < n) {
        size_t len;
        if (mode == 0) {
            size_t plain = cdr_utf8_ascii_prefix(u + i, n - i);
            run += plain;
            i += plain;
            if (i == n)
                break;
        }
        len = cdr_utf8_len(u + i, n - i);
        if (len == 1) {
            const char *esc = escape_of(s[i], mode);
            if (esc != NULL) {
                memcpy(b->p + b->n, s + i - run, run);
                b->n += run;
                run = 0;
                memcpy(b->p + b->n, esc, 2);
                b->n += 2;
            } else {
                run++;
            }
            i++;
        } else if (len > 1) {
            run += len;
            i += len;
        } else {
            memcpy(b->p + b->n, s + i - run, run);
            b->n += run;
            run = 0;
            memcpy(b->p + b->n, CDR_UTF8_REPLACEMENT, 3);
            b->n += 3;
            i++;
        }
    }
    memcpy(b->p + b->n, s + i - run, run);
    b->n += run;
}

/* Big-endian integers, as the binary COPY format wants them. */
static void
add_be(struct rt_pg_buf *b, uint64_t v, int bytes)
{
    char tmp[8];
    for (int i = bytes - 1; i >= 0; i--) {
        tmp[i] = (char)(v & 0xff);
        v >>= 8;
    }
    rt_pg_buf_add(b, tmp, (size_t)bytes);
}

static void
put_be16(char *at, uint16_t v)
{
    at[0] = (char)(v >> 8);
    at[1] = (char)v;
}

static void
put_be32(char *at, uint32_t v)
{
    at[0] = (char)(v >> 24);
    at[1] = (char)(v >> 16);
    at[2] = (char)(v >> 8);
    at[3] = (char)v;
}

/* Text: the tab between fields.  Binary: the row's field count, kept at
 * row_at and filled in by end_row. */
static void
field_sep(struct rt_pg_buf *b)
{
    if (b->binary) {
        if (b->fields++ == 0) {
            b->row_at = b->n;
            add_be(b, 0, 2);
        }
        return;
    }
    if (b->fields++ > 0)
        rt_pg_buf_add(b, "\t", 1);
}

/* Binary: a value of n bytes follows. */
static void
field_len(struct rt_pg_buf *b, size_t n)
{
    add_be(b, (uint32_t)n, 4);
}

void
rt_pg_copy_text(struct rt_pg_buf *b, const char *s, size_t n)
{
    field_sep(b);
    if (b->binary) {
        /* cleaned, the value can grow: write it, then its length */
        size_t at = b->n;
        field_len(b, 0);
        add_value(b, s, n, 0);
        if (!b->oom) {
            size_t len = b->n - at - 4;
            if (len > INT32_MAX)
                b->oom = 1;
            else
                put_be32(b->p + at, (uint32_t)len);
        }
        return;
    }
    add_value(b, s, n, 1);
}

void
rt_pg_copy_str(struct rt_pg_buf *b, const char *s)
{
    if (s == NULL)
        rt_pg_copy_null(b);
    else
        rt_pg_copy_text(b, s, strlen(s));
}

void
rt_pg_copy_null(struct rt_pg_buf *b)
{
    field_sep(b);
    if (b->binary)
        add_be(b, UINT32_MAX, 4); /* length -1 */
    else
        rt_pg_buf_add(b, "\\N", 2);
}

static void
copy_integer(struct rt_pg_buf *b, int64_t v, int bytes)
{
    char tmp[24];
    int n;
    field_sep(b);
    if (b->binary) {
        field_len(b, (size_t)bytes);
        add_be(b, (uint64_t)v, bytes);
        return;
    }
    n = snprintf(tmp, sizeof tmp, "%lld", (long long)v);
    rt_pg_buf_add(b, tmp, (size_t)n);
}

void
rt_pg_copy_int(struct rt_pg_buf *b, int64_t v)
{
    copy_integer(b, v, 8);
}

void
rt_pg_copy_int2(struct rt_pg_buf *b, int16_t v)
{
    copy_integer(b, v, 2);
}

/* PostgreSQL's timestamps count microseconds from 2000-01-01 UTC. */
#define PG_EPOCH_OFFSET 946684800

void
rt_pg_copy_time(struct rt_pg_buf *b, int64_t t)
{
    char tmp[32];
    if (b->binary) {
        int64_t us;
        if (__builtin_sub_overflow(t, (int64_t)PG_EPOCH_OFFSET, &us) ||
            __builtin_mul_overflow(us, (int64_t)1000000, &us)) {
            b->oom = 1; /* out of any range PostgreSQL takes */
            return;
        }
        field_sep(b);
        field_len(b, 8);
        add_be(b, (uint64_t)us, 8);
        return;
    }
    cdr_time_format(t, tmp, sizeof tmp);
    field_sep(b);
    rt_pg_buf_add(b, tmp, strlen(tmp));
}

/* The base-10000 digits of a decimal: the whole part (its leading zeros
 * dropped) in groups of four from the point leftwards, then the fraction
 * rightwards, its last group padded with zeros; *weight is the first
 * group's.  Their count, or -1 when more than max. */
static int
base10000(const struct cdr_decimal_parts *v, uint16_t *digits, size_t max,
          int *weight)
{
    const char *w = v->whole;
    size_t wn = v->whole_n, nd = 0;
    while (wn > 0 && *w == '0') {
        w++;
        wn--;
    }
    size_t groups = (wn + 3) / 4, take = wn - (groups > 0 ? groups - 1 : 0) * 4;
    if (groups > max)
        return -1;
    for (size_t g = 0; g < groups; g++, take = 4) {
        uint16_t x = 0;
        for (size_t k = 0; k < take; k++)
            x = (uint16_t)(x * 10 + (uint16_t)(*w++ - '0'));
        digits[nd++] = x;
    }
    *weight = (int)groups - 1;
    for (size_t at = 0; at < v->frac_n; at += 4) {
        uint16_t x = 0;
        for (size_t k = 0; k < 4; k++)
            x = (uint16_t)(x * 10 + (at + k < v->frac_n
                                         ? (uint16_t)(v->frac[at + k] - '0')
                                         : 0));
        if (nd == max)
            return -1;
        digits[nd++] = x;
    }
    return (int)nd;
}

/*
 * numeric_recv's layout: ndigits, weight, sign, dscale (int16 each), then
 * ndigits base-10000 digits, the first of weight 10000^weight.  dscale is
 * the text's number of fraction digits, so the value keeps the scale its
 * text had.  Zero groups at either end are left out (the weight says
 * where the rest stand), and zero is positive with no digits.
 */
int
rt_pg_numeric_binary(const char *s, size_t n, char *out, size_t size,
                     size_t *len)
{
    uint16_t digits[RT_PG_NUMERIC_MAX_DIGITS];
    struct cdr_decimal_parts v;
    int weight, nd;
    size_t skip = 0;
    if (cdr_decimal_split(s, n, &v) != 0 || v.frac_n > 0x3fff)
        return -1;
    nd = base10000(&v, digits, RT_PG_NUMERIC_MAX_DIGITS, &weight);
    if (nd < 0)
        return -1;
    if (weight < 0) /* no whole part: leading zero groups move the weight */
        while (skip < (size_t)nd && digits[skip] == 0) {
            skip++;
            weight--;
        }
    while ((size_t)nd > skip && digits[nd - 1] == 0)
        nd--;
    if ((size_t)nd == skip)
        weight = 0;
    if (8 + 2 * ((size_t)nd - skip) > size)
        return -1;
    put_be16(out, (uint16_t)((size_t)nd - skip));
    put_be16(out + 2, (uint16_t)(int16_t)weight);
    put_be16(out + 4, v.negative && (size_t)nd > skip ? 0x4000 : 0x0000);
    put_be16(out + 6, (uint16_t)v.frac_n);
    for (size_t k = skip; k < (size_t)nd; k++)
        put_be16(out + 8 + 2 * (k - skip), digits[k]);
    *len = 8 + 2 * ((size_t)nd - skip);
    return 0;
}

void
rt_pg_copy_numeric(struct rt_pg_buf *b, const char *s, size_t n)
{
    char tmp[8 + 2 * RT_PG_NUMERIC_MAX_DIGITS];
    size_t len;
    if (!b->binary) {
        struct cdr_decimal_parts v;
        if (cdr_decimal_split(s, n, &v) != 0)
            b->bad = 1;
        rt_pg_copy_text(b, s, n);
        return;
    }
    if (rt_pg_numeric_binary(s, n, tmp, sizeof tmp, &len) != 0) {
        b->bad = 1;
        return;
    }
    field_sep(b);
    field_len(b, len);
    rt_pg_buf_add(b, tmp, len);
}

void
rt_pg_copy_nano(struct rt_pg_buf *b, int64_t nano, int places)
{
    char num[48];
    int n = cdr_decimal_format(nano, 9, places, num, sizeof num);
    if (n < 0) {
        b->bad = 1;
        return;
    }
    rt_pg_copy_numeric(b, num, (size_t)n);
}

void
rt_pg_copy_end_row(struct rt_pg_buf *b)
{
    if (b->binary) {
        if (b->fields > 0 && !b->oom) {
            b->p[b->row_at] = (char)((unsigned)b->fields >> 8);
            b->p[b->row_at + 1] = (char)(b->fields & 0xff);
        }
    } else {
        rt_pg_buf_add(b, "\n", 1);
    }
    b->fields = 0;
}

/* "PGCOPY\n\377\r\n\0", flags 0, no header extension. */
static const char binary_header[19] = "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0";
static const char binary_trailer[2] = "\377\377";

const char *
rt_pg_copy_binary_header(size_t *n)
{
    *n = sizeof binary_header;
    return binary_header;
}

const char *
rt_pg_copy_binary_trailer(size_t *n)
{
    *n = sizeof binary_trailer;
    return binary_trailer;
}

void
rt_pg_add_clean(struct rt_pg_buf *b, const char *s, size_t n)
{
    add_value(b, s, n, 0);
}

void
rt_pg_array_elem(struct rt_pg_buf *b, const char *s, size_t n)
{
    if (b->fields++ > 0)
        rt_pg_buf_add(b, ",", 1);
    rt_pg_buf_add(b, "\"", 1);
    add_value(b, s, n, 2);
    rt_pg_buf_add(b, "\"", 1);
}

/* ---- formatting ------------------------------------------------------ */

int
rt_pg_month_key(int64_t t)
{
    int64_t days = t / 86400, y;
    unsigned m, dd;
    if (t % 86400 < 0)
        days -= 1;
    cdr_civil_from_days(days, &y, &m, &dd);
    return (int)(y * 12 + (int64_t)m - 1);
}

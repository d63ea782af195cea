#include "rating/pg/rt_pg.h"

#include "cdr/util/cdr_parse.h"

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

/* Length of the valid UTF-8 sequence at s[0..n), or 0 if invalid (overlong
 * forms, surrogates and code points above U+10FFFF are invalid). */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len, i;
    if (c >= 0x01 && c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        len = 2;
    else if (c >= 0xe0 && c <= 0xef)
        len = 3;
    else if (c >= 0xf0 && c <= 0xf4)
        len = 4;
    else
        return 0; /* NUL, continuation byte, 0xc0/0xc1, 0xf5.. */
    if (n < len)
        return 0;
    for (i = 1; i < len; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    if (c == 0xe0 && s[1] < 0xa0)
        return 0; /* overlong */
    if (c == 0xed && s[1] > 0x9f)
        return 0; /* surrogate */
    if (c == 0xf0 && s[1] < 0x90)
        return 0; /* overlong */
    if (c == 0xf4 && s[1] > 0x8f)
        return 0; /* > U+10FFFF */
    return len;
}

static const char replacement[] = "\xef\xbf\xbd"; /* U+FFFD */

/* How many leading bytes, in whole words, are 0x01..0x7f: bytes that need
 * no cleaning.  Nearly every value (sids, numbers, names) is all of them,
 * and the byte-by-byte UTF-8 check was a sixth of the loader's time. */
static size_t
plain_ascii_prefix(const unsigned char *u, size_t n)
{
    size_t i = 0;
    for (; n - i >= 8; i += 8) {
        uint64_t v;
        memcpy(&v, u + i, 8);
        /* a byte >= 0x80 shows in v, a NUL in v - 0x01..01 (its borrow
         * only reaches bytes above it) */
        if (((v | (v - 0x0101010101010101u)) & 0x8080808080808080u) != 0)
            break;
    }
    return i;
}

/* mode 0: clean only; 1: COPY text escapes; 2: array element escapes. */
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
            size_t plain = plain_ascii_prefix(u + i, n - i);
            run += plain;
            i += plain;
            if (i == n)
                break;
        }
        len = utf8_len(u + i, n - i);
        if (len == 1) {
            char c = s[i];
            const char *esc = NULL;
            if (mode == 1) {
                if (c == '\\')
                    esc = "\\\\";
                else if (c == '\t')
                    esc = "\\t";
                else if (c == '\n')
                    esc = "\\n";
                else if (c == '\r')
                    esc = "\\r";
            } else if (mode == 2) {
                if (c == '\\')
                    esc = "\\\\";
                else if (c == '"')
                    esc = "\\\"";
            }
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
            memcpy(b->p + b->n, replacement, 3);
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
    cdr_format_time(t, tmp, sizeof tmp);
    field_sep(b);
    rt_pg_buf_add(b, tmp, strlen(tmp));
}

/*
 * numeric_recv's layout: ndigits, weight, sign, dscale (int16 each), then
 * ndigits base-10000 digits, the first of weight 10000^weight.  s is
 * -?digits(.digits)? (the callers check); dscale is its number of
 * fraction digits, so the value keeps the scale its text had.
 */
int
rt_pg_numeric_binary(const char *s, size_t n, char *out, size_t size,
                     size_t *len)
{
    uint16_t digits[RT_PG_NUMERIC_MAX_DIGITS];
    size_t i = 0, int_from, int_to, frac_from, frac_to, nd = 0;
    int neg = 0, weight;
    if (i < n && s[i] == '-') {
        neg = 1;
        i++;
    }
    int_from = i;
    while (i < n && s[i] >= '0' && s[i] <= '9')
        i++;
    int_to = i;
    frac_from = frac_to = i;
    if (i < n && s[i] == '.') {
        frac_from = ++i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        frac_to = i;
    }
    if (i != n || int_to == int_from ||
        (frac_from > int_to && frac_to == frac_from))
        return -1;
    while (int_from < int_to && s[int_from] == '0')
        int_from++;
    /* whole part: groups of four from the decimal point leftwards */
    {
        size_t len_i = int_to - int_from;
        size_t groups = (len_i + 3) / 4;
        size_t at = int_from;
        size_t first = len_i - (groups > 0 ? (groups - 1) * 4 : 0);
        if (groups > RT_PG_NUMERIC_MAX_DIGITS)
            return -1;
        for (size_t g = 0; g < groups; g++) {
            size_t take = g == 0 ? first : 4;
            uint16_t v = 0;
            for (size_t k = 0; k < take; k++)
                v = (uint16_t)(v * 10 + (uint16_t)(s[at++] - '0'));
            digits[nd++] = v;
        }
        weight = (int)groups - 1;
    }
    /* fraction: groups of four rightwards, the last padded with zeros */
    for (size_t at = frac_from; at < frac_to; at += 4) {
        uint16_t v = 0;
        for (size_t k = 0; k < 4; k++)
            v = (uint16_t)(v * 10 + (at + k < frac_to
                                         ? (uint16_t)(s[at + k] - '0')
                                         : 0));
        if (nd == RT_PG_NUMERIC_MAX_DIGITS)
            return -1;
        digits[nd++] = v;
    }
    /* no whole part: leading zero groups only move the weight */
    {
        size_t skip = 0;
        if (weight < 0)
            while (skip < nd && digits[skip] == 0) {
                skip++;
                weight--;
            }
        while (nd > skip && digits[nd - 1] == 0)
            nd--;
        if (nd == skip)
            weight = 0;
        if (frac_to - frac_from > 0x3fff || 8 + 2 * (nd - skip) > size)
            return -1;
        put_be16(out, (uint16_t)(nd - skip));
        put_be16(out + 2, (uint16_t)(int16_t)weight);
        put_be16(out + 4, neg && nd > skip ? 0x4000 : 0x0000);
        put_be16(out + 6, (uint16_t)(frac_to - frac_from));
        for (size_t k = skip; k < nd; k++)
            put_be16(out + 8 + 2 * (k - skip), digits[k]);
        *len = 8 + 2 * (nd - skip);
    }
    return 0;
}

void
rt_pg_copy_numeric(struct rt_pg_buf *b, const char *s, size_t n)
{
    char tmp[8 + 2 * RT_PG_NUMERIC_MAX_DIGITS];
    size_t len;
    if (!b->binary) {
        rt_pg_copy_text(b, s, n);
        return;
    }
    if (rt_pg_numeric_binary(s, n, tmp, sizeof tmp, &len) != 0) {
        b->oom = 1; /* callers pass checked decimals: cannot happen */
        return;
    }
    field_sep(b);
    field_len(b, len);
    rt_pg_buf_add(b, tmp, len);
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

int
rt_pg_format_nano(int64_t nano, int decimals, char *buf, size_t size)
{
    /* Work on the magnitude as unsigned so INT64_MIN is fine. */
    uint64_t mag = nano < 0 ? (uint64_t)0 - (uint64_t)nano : (uint64_t)nano;
    uint64_t whole = mag / 1000000000u, frac = mag % 1000000000u;
    char fr[16];
    if (decimals < 0)
        decimals = 0;
    if (decimals > 9)
        decimals = 9;
    snprintf(fr, sizeof fr, "%09llu", (unsigned long long)frac);
    fr[decimals] = '\0';
    return snprintf(buf, size, "%s%llu%s%s", nano < 0 ? "-" : "",
                    (unsigned long long)whole, decimals > 0 ? "." : "", fr);
}

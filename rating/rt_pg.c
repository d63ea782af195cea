#include "rating/rt_pg.h"

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
                     nz(PQdb(conn), "?"),
                     nz(host, "(default socket)"), nz(PQport(conn), "5432"),
                     nz(PQuser(conn), "?"));
        cdr_diag_detail(d, "%s", why);
        PQfinish(conn);
        return CDR_E_DB;
    }
    /* Views and partition bounds work in UTC explicitly; this only makes
     * timestamps read back by the store unambiguous. */
    if (rt_pg_exec(conn, "SET TimeZone = 'UTC'", "setting the time zone",
                   d) != 0) {
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
        cdr_diag_detail(d, "SQLSTATE %s%s%s%s%s", nz(state, "(none)"),
                        det[0] ? "; " : "", det, hin[0] ? "; hint: " : "",
                        hin);
    }
    return CDR_E_DB;
}

int
rt_pg_exec(PGconn *conn, const char *sql, const char *what,
           struct cdr_diag *d)
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
            const char *const *values, ExecStatusType expect,
            const char *what, struct cdr_diag *d)
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
        size_t len = utf8_len(u + i, n - i);
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

static void
field_sep(struct rt_pg_buf *b)
{
    if (b->fields++ > 0)
        rt_pg_buf_add(b, "\t", 1);
}

void
rt_pg_copy_text(struct rt_pg_buf *b, const char *s, size_t n)
{
    field_sep(b);
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
    rt_pg_buf_add(b, "\\N", 2);
}

void
rt_pg_copy_int(struct rt_pg_buf *b, int64_t v)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof tmp, "%lld", (long long)v);
    field_sep(b);
    rt_pg_buf_add(b, tmp, (size_t)n);
}

void
rt_pg_copy_time(struct rt_pg_buf *b, int64_t t)
{
    char tmp[32];
    rt_pg_format_time(t, tmp, sizeof tmp);
    field_sep(b);
    rt_pg_buf_add(b, tmp, strlen(tmp));
}

void
rt_pg_copy_end_row(struct rt_pg_buf *b)
{
    rt_pg_buf_add(b, "\n", 1);
    b->fields = 0;
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

/* Howard Hinnant's civil_from_days: proleptic Gregorian, any int64 day. */
static void
civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *dd)
{
    int64_t era, yy;
    uint64_t doe, yoe, doy, mp;
    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = (uint64_t)(z - era * 146097);
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    yy = (int64_t)yoe + era * 400;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *dd = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    *m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    *y = yy + (*m <= 2);
}

void
rt_pg_format_time(int64_t t, char *buf, size_t size)
{
    int64_t days = t / 86400, secs = t % 86400, y;
    unsigned m, dd;
    if (secs < 0) {
        secs += 86400;
        days -= 1;
    }
    civil_from_days(days, &y, &m, &dd);
    snprintf(buf, size, "%04lld-%02u-%02uT%02d:%02d:%02dZ", (long long)y, m,
             dd, (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60));
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

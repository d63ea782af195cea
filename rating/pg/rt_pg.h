/*
 * libpq helpers shared by the PostgreSQL sink and the migration runner:
 * connecting with errors that say where and why, turning a failed result
 * into a diagnostic (message, PQerrorMessage as detail, SQLSTATE), and
 * building COPY text-format rows without ever putting a value into SQL.
 */
#ifndef REFEREE_RT_PG_H
#define REFEREE_RT_PG_H

#include "cdr/util/cdr_diag.h"

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Connect with any libpq connection string or URI (PGPASSWORD, ~/.pgpass,
 * service files work as usual).  Sets client_encoding UTF8, TimeZone UTC and
 * application_name "referee-rate" unless the string names another.  On
 * failure d names the database, host and port and has libpq's reason as
 * detail; the connection string itself is never echoed (it may hold a
 * password).  *out for the caller to PQfinish.
 */
int rt_pg_connect(PGconn **out, const char *conninfo, struct cdr_diag *d);

/*
 * Fill d from a failed result (res may be NULL: the connection's error is
 * used).  message: "<what>: <primary message>"; detail: "SQLSTATE xxxxx"
 * and libpq's detail/hint when there are any.  Returns CDR_E_DB.
 */
int rt_pg_fail(PGconn *conn, const PGresult *res, const char *what,
               struct cdr_diag *d);

/* Run a statement without parameters that returns no rows; 0 or CDR_E_DB. */
int rt_pg_exec(PGconn *conn, const char *sql, const char *what,
               struct cdr_diag *d);

/*
 * PQexecParams in text format.  Returns the result (caller PQclears) when it
 * has status `expect` (PGRES_COMMAND_OK or PGRES_TUPLES_OK), else NULL with
 * d filled.
 */
PGresult *rt_pg_query(PGconn *conn, const char *sql, int nparams,
                      const char *const *values, ExecStatusType expect,
                      const char *what, struct cdr_diag *d);

/* A growable byte buffer.  oom and bad are sticky: callers check them
 * once (rt_pg_buf_error). */
struct rt_pg_buf {
    char *p; /* owned; NUL-terminated after rt_pg_buf_cstr */
    size_t n, cap;
    int oom;
    int bad;       /* a number that could not be written exactly */
    int fields;    /* fields in the current COPY row */
    int binary;    /* COPY rows in binary format (set by the owner) */
    size_t row_at; /* binary: where the current row's field count is */
};
void rt_pg_buf_init(struct rt_pg_buf *b);
void rt_pg_buf_free(struct rt_pg_buf *b);
void rt_pg_buf_reset(struct rt_pg_buf *b);
void rt_pg_buf_add(struct rt_pg_buf *b, const char *s, size_t n);
/* NUL-terminated view of the contents (NULL after an allocation failure). */
const char *rt_pg_buf_cstr(struct rt_pg_buf *b);
/* 0, or the buffer's sticky failure in d (what: the rows it held). */
int rt_pg_buf_error(const struct rt_pg_buf *b, const char *what,
                    struct cdr_diag *d);

/*
 * COPY rows, text format (delimiter tab, NULL \N) or, with b->binary set,
 * binary format (the stream's header and trailer are the caller's: see
 * rt_pg_copy_binary_header).  Binary spares the server parsing every value
 * (for timestamps most of its COPY time) and the client formatting it; the
 * column types must then match exactly: rt_pg_copy_int is bigint,
 * rt_pg_copy_int2 smallint, rt_pg_copy_numeric numeric, rt_pg_copy_time
 * timestamptz, rt_pg_copy_text text.  Text is cleaned as every output
 * cleans it (cdr/util/cdr_utf8.h: a NUL byte or an invalid UTF-8 sequence
 * becomes U+FFFD; a PostgreSQL text value can hold neither, and one bad
 * byte in a rejected record must not fail the whole run); then backslash,
 * tab, newline and carriage return are escaped.  Numbers are read and
 * written by the one codec, cdr/util/cdr_decimal.h; only their binary
 * layout is PostgreSQL's.
 */
void rt_pg_copy_text(struct rt_pg_buf *b, const char *s, size_t n);
void rt_pg_copy_str(struct rt_pg_buf *b, const char *s); /* NULL -> \N */
void rt_pg_copy_null(struct rt_pg_buf *b);
void rt_pg_copy_int(struct rt_pg_buf *b, int64_t v);
void rt_pg_copy_int2(struct rt_pg_buf *b, int16_t v);
/* An exact decimal as text (cdr_decimal_split's rule, any places); the
 * value keeps its scale.  Anything else marks the buffer bad. */
void rt_pg_copy_numeric(struct rt_pg_buf *b, const char *s, size_t n);
/* A count of 10^-9 units with exactly `places` decimals (cdr_decimal_
 * format: digits beyond them mark the buffer bad, never a rounding). */
void rt_pg_copy_nano(struct rt_pg_buf *b, int64_t nano, int places);
/* Epoch seconds as "2026-05-10T08:02:17Z". */
void rt_pg_copy_time(struct rt_pg_buf *b, int64_t t);
/* Ends the row (text: a newline; binary: fills in its field count). */
void rt_pg_copy_end_row(struct rt_pg_buf *b);

/* The bytes a binary COPY stream starts and ends with. */
const char *rt_pg_copy_binary_header(size_t *n);
const char *rt_pg_copy_binary_trailer(size_t *n);

/* numeric_recv's binary form of the decimal s[0..n) into out (at most
 * 8 + 2 * RT_PG_NUMERIC_MAX_DIGITS bytes), its length in *len.  0, or -1
 * when s is not an exact decimal (cdr_decimal_split) or too long. */
#define RT_PG_NUMERIC_MAX_DIGITS 64
int rt_pg_numeric_binary(const char *s, size_t n, char *out, size_t size,
                         size_t *len);

/* Appends s sanitised as above but unescaped (for parameters). */
void rt_pg_add_clean(struct rt_pg_buf *b, const char *s, size_t n);

/* Appends one element to a text[] literal being built in b ("{" ... "}"
 * are the caller's): in quotes, with \ and " escaped, comma first
 * unless it is the first element. */
void rt_pg_array_elem(struct rt_pg_buf *b, const char *s, size_t n);

/* The UTC month of epoch seconds t: year * 12 + month - 1. */
int rt_pg_month_key(int64_t t);

#endif

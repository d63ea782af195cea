/*
 * The call record: the raw row as read from CSV (slices by column) and the
 * validated record built from it.
 */
#ifndef REFEREE_CDR_RECORD_H
#define REFEREE_CDR_RECORD_H

#include <stddef.h>
#include <stdint.h>

/* A borrowed byte range, not NUL-terminated. */
struct cdr_slice {
    const char *p;
    size_t n;
};

/* s without the spaces and tabs at either end: how a CSV value is read,
 * in call records and in price lists alike. */
struct cdr_slice cdr_slice_trim(struct cdr_slice s);

/* The columns referee knows, in the canonical order of pending.csv. */
enum cdr_column {
    CDR_COL_SID,
    CDR_COL_PARENT_CALL_SID,
    CDR_COL_ACCOUNT_SID,
    CDR_COL_TRUNK_SID,
    CDR_COL_DIRECTION,
    CDR_COL_FROM,
    CDR_COL_TO,
    CDR_COL_START_TIME,
    CDR_COL_END_TIME,
    CDR_COL_DURATION,
    CDR_COL_STATUS,
    CDR_COL_PRICE,
    CDR_COL_PRICE_UNIT,
    CDR_COL_TRANSFER_TARGET, /* written by referee-capture on parents */
    CDR_COL_TRANSFER_STATUS,
    CDR_COL__COUNT
};

/* snake_case name of a column ("parent_call_sid"). */
const char *cdr_column_name(enum cdr_column c);

/*
 * The column a CSV header names, or -1 for one referee does not read.
 * normalised is the header as cdr_csv_normalise_name() gives it
 * (lower case, letters and digits only): a column's name without its
 * underscores ("parentcallsid"), or "callsid" for sid.
 */
int cdr_column_of(const char *normalised);

/* Bounds on untrusted input. */
#define CDR_MAX_FIELD 1024 /* bytes in one field */
#define CDR_MAX_SID 128    /* bytes in a sid */
#define CDR_MAX_ROW 65536  /* bytes in one CSV record, all fields */

/*
 * One CSV row mapped onto the known columns.  present[c] is 0 when the file
 * has no such column.  Slices point into the reader's buffer and live until
 * the next cdr_reader_next() call.
 */
struct cdr_row {
    struct cdr_slice field[CDR_COL__COUNT];
    unsigned char present[CDR_COL__COUNT];
    const char *file; /* borrowed: the reader's display name */
    long line;        /* physical line where the record starts, 1-based */
    long record;      /* data record number, 1-based */
};

enum cdr_direction {
    CDR_DIR_TERMINATING = 1, /* trunking-terminating */
    CDR_DIR_ORIGINATING = 2, /* trunking-originating */
};

enum cdr_status {
    CDR_ST_NONE = 0, /* no status given */
    CDR_ST_COMPLETED,
    CDR_ST_BUSY,
    CDR_ST_NO_ANSWER,
    CDR_ST_FAILED,
    CDR_ST_CANCELED,
    CDR_ST_IN_PROGRESS,
    CDR_ST_UNOBSERVED, /* referee-capture could not see this leg */
    CDR_ST_QUEUED,     /* the carrier's, for a call not yet placed */
    CDR_ST_RINGING,
    CDR_ST_OTHER, /* any other text: not in the vocabulary (rejected) */
};

/* What validation noticed about the carrier's price, which only feeds the
 * audit: the call is rated either way. */
enum cdr_price_note {
    CDR_PRICE_OK = 0,
    CDR_PRICE_PRECISE,    /* more than 9 decimal places: kept as written */
    CDR_PRICE_UNREADABLE, /* not an exact decimal: dropped (price empty) */
};

/*
 * A record: validated from a row (its slices borrow from the cdr_row it
 * was built from), or built by referee-capture (slices borrow from the
 * capture's strings).  status_text is the status as written; status its
 * meaning.  From a row, duration is always set (the duration column, else
 * end - start, else 0) and has_duration is 1; the capture leaves it 0
 * where it does not know the length (a leg it could not see, a call still
 * up).
 */
struct cdr_record {
    struct cdr_slice sid, parent_call_sid, account_sid, trunk_sid;
    struct cdr_slice from, to;
    struct cdr_slice status_text, price, price_unit;
    struct cdr_slice transfer_target, transfer_status;
    enum cdr_direction direction;
    enum cdr_status status;
    int64_t start_time; /* UTC epoch seconds */
    int64_t end_time;   /* valid when has_end_time */
    int has_end_time;
    int64_t duration; /* seconds, >= 0; valid when has_duration */
    int has_duration;
    enum cdr_price_note price_note;
    const char *file;
    long line;
};

/* An id (a call sid, account or trunk sid, a Call-ID): 1..CDR_MAX_SID
 * bytes of printable ASCII without spaces.  1 or 0. */
int cdr_id_ok(const char *p, size_t n);

/* The row's sid as far as a reject may name it: empty when the column is
 * absent, cut to CDR_MAX_SID bytes.  Borrows from the row. */
struct cdr_slice cdr_row_sid(const struct cdr_row *row);

/* "trunking-terminating" or "trunking-originating". */
const char *cdr_direction_name(enum cdr_direction dir);

/* The direction a record's text names: either name, in any case, '_' for
 * '-' ("Trunking_Originating").  0 and *out, or -1. */
int cdr_direction_of(struct cdr_slice text, enum cdr_direction *out);

/* "completed", "busy", "no-answer", "failed", "canceled", "in-progress",
 * "unobserved", "queued", "ringing"; "" for CDR_ST_NONE and
 * CDR_ST_OTHER. */
const char *cdr_status_name(enum cdr_status s);

/* What a status text means: empty is CDR_ST_NONE; the names above in any
 * case, with '_' or ' ' for '-' ("No Answer" in console exports) and the
 * spelling "cancelled"; anything else CDR_ST_OTHER. */
enum cdr_status cdr_status_of(struct cdr_slice text);

/* Only these are billed: completed, or no status and duration > 0. */
int cdr_record_billable(const struct cdr_record *r);

#endif

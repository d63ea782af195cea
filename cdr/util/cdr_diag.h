/*
 * Diagnostics: where a problem is (file, line, field, value) and what it is.
 * Library code fills a caller-owned struct cdr_diag and returns a negative
 * CDR_E_* code; only the command-line front ends print.
 */
#ifndef REFEREE_CDR_DIAG_H
#define REFEREE_CDR_DIAG_H

#include <stdarg.h>
#include <stddef.h>

/*
 * Error and reject codes.  Their numbers are stable: a reject stores its
 * code (rejects.csv's code column, referee.rejects.code, explained by
 * referee.reject_codes), so a number is never reused or changed and new
 * codes get new numbers.  cdr/README.md has the table.
 */
enum cdr_code {
    CDR_OK = 0,
    CDR_E_NOMEM = -1,
    CDR_E_IO = -2,
    CDR_E_CSV = -3,     /* malformed CSV structure */
    CDR_E_MISSING = -4, /* required field empty or column absent */
    CDR_E_BAD_TIME = -5,
    CDR_E_BAD_NUMBER = -6, /* duration, price ... */
    CDR_E_BAD_DIRECTION = -7,
    CDR_E_BAD_URI = -8,
    CDR_E_TOO_LONG = -9,
    CDR_E_DUPLICATE = -10,
    CDR_E_FIELD_COUNT = -11,
    CDR_E_UNOBSERVED = -12, /* capture could not see the leg */
    CDR_E_NO_RATE = -13,    /* no deck entry in force */
    CDR_E_TRANSFER = -14,   /* transfer not allowed (emergency, trunk) */
    CDR_E_DECK = -15,       /* rate deck problem */
    CDR_E_DB = -16,
    CDR_E_USAGE = -17,
    CDR_E_LIMIT = -18,     /* a configured bound was reached */
    CDR_E_BAD_VALUE = -19, /* text not allowed here (sid bytes, price unit) */
    CDR_E_TOO_MANY_REJECTS = -20, /* the run's --max-rejects was passed */
    CDR_E_NO_PLAN = -21,          /* no price plan for the account */
    CDR_E_NOT_E164 = -22, /* a PSTN number the trunk cannot make E.164 */
};
#define CDR_CODE_MIN CDR_E_NOT_E164

/* Short fixed text for a code ("invalid timestamp"); never NULL. */
const char *cdr_strerror(int code);

/* The code's stable name ("bad_time"), or NULL for a number that is no
 * code. */
const char *cdr_code_name(int code);

#define CDR_DIAG_FILE 512
#define CDR_DIAG_FIELD 64
#define CDR_DIAG_VALUE 160
#define CDR_DIAG_TEXT 256

struct cdr_diag {
    int code;
    char file[CDR_DIAG_FILE];
    long line;   /* physical line, 1-based; 0 if none */
    long column; /* 1-based; 0 if none (deck YAML uses it) */
    char field[CDR_DIAG_FIELD];
    char value[CDR_DIAG_VALUE]; /* escaped, truncated with "..." */
    int has_value;
    char message[CDR_DIAG_TEXT];
    char detail[CDR_DIAG_TEXT];
};

void cdr_diag_clear(struct cdr_diag *d);

/*
 * Fill d: code, field (may be NULL), value (may be NULL; len bytes, not
 * NUL-terminated; escaped so control bytes and quotes stay readable) and a
 * printf-style message.  Returns code, so callers can `return
 * cdr_diag_set(..)`. file/line are left as they are: the reader sets them.
 */
int cdr_diag_set(struct cdr_diag *d, int code, const char *field,
                 const char *value, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* Set the position part. file may be NULL (kept). */
void cdr_diag_at(struct cdr_diag *d, const char *file, long line, long column);

/* A failed system call on path: CDR_E_IO, "what: strerror(errnum)" at
 * path.  Returns CDR_E_IO. */
int cdr_diag_io(struct cdr_diag *d, const char *path, const char *what,
                int errnum);

/* printf-style detail line. */
void cdr_diag_detail(struct cdr_diag *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Compiler-style text, PostgreSQL primary/detail shape, without trailing
 * newline:  exports/may.csv:1042: start_time: invalid timestamp "2026-13-01"
 *             detail: expected ISO 8601 with offset or Z, or RFC 2822
 * Returns the length snprintf would have written.
 */
int cdr_diag_format(const struct cdr_diag *d, char *buf, size_t size);

/* The one-line reason used in rejects: `message "value"` (no position). */
int cdr_diag_reason(const struct cdr_diag *d, char *buf, size_t size);

/* A growable list of diagnostics, for "report every problem" checks. */
struct cdr_diag_list {
    struct cdr_diag *items; /* owned */
    size_t count, cap;
    size_t dropped; /* appended after a failed allocation: counted only */
};
void cdr_diag_list_init(struct cdr_diag_list *l);
void cdr_diag_list_free(struct cdr_diag_list *l);
/* Copies *d in. Never fails: on ENOMEM the entry is only counted. */
void cdr_diag_list_add(struct cdr_diag_list *l, const struct cdr_diag *d);

/*
 * The problems of one checked file and what it loads (a deck and its
 * price lists, a plans file), reported into a list shared with other
 * files: every one is counted, the first max (0: all) are kept.
 */
struct cdr_problems {
    struct cdr_diag_list *list; /* borrowed */
    size_t count;               /* all of this file's problems */
    size_t max;
};

/* Add a problem at file:line:column (0: no line or column): code, field
 * and value (either may be NULL) as cdr_diag_set, a printf-style
 * message. */
void cdr_problem(struct cdr_problems *p, const char *file, long line,
                 long column, int code, const char *field, const char *value,
                 size_t vlen, const char *fmt, ...)
    __attribute__((format(printf, 9, 10)));
/* The same with the message's arguments already taken (for a file's own
 * wrapper that adds its position). */
void cdr_problemv(struct cdr_problems *p, const char *file, long line,
                  long column, int code, const char *field, const char *value,
                  size_t vlen, const char *fmt, va_list ap)
    __attribute__((format(printf, 9, 0)));

/* After the last problem: when more than max were counted, one more
 * entry at file saying how many were not kept. */
void cdr_problems_finish(struct cdr_problems *p, const char *file);

#endif

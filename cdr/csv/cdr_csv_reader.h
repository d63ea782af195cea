/*
 * Streaming CSV reader on libcsv, for every CSV file the project reads:
 * call records (cdr_record_reader.h builds on it), the deck's csv: price
 * lists, the capture's state file.  It hands out rows of fields, each with
 * the physical line where it starts, and bounds memory by one record plus
 * libcsv's buffer, whatever the file size.
 *
 * A UTF-8 byte order mark is skipped, CRLF and LF both end a row, quoted
 * fields may hold commas, quotes and line breaks; blank lines are skipped
 * (and counted in line numbers).  libcsv runs in strict mode: a quote
 * inside an unquoted field, or text after a closing quote, stops the file.
 */
#ifndef REFEREE_CDR_CSV_READER_H
#define REFEREE_CDR_CSV_READER_H

#include "cdr/record/cdr_record.h"
#include "cdr/util/cdr_diag.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct cdr_csv_reader;

/*
 * Bounds: a field of more than max_field bytes marks its row (too_long);
 * a record of more than max_row bytes (fields plus one separator each),
 * or one field whose text with its surrounding spaces passes 2 * max_row
 * bytes, stops the file (CDR_E_CSV "record too long": unbalanced quotes,
 * usually).  Both > 0.
 */
struct cdr_csv_limits {
    size_t max_field, max_row;
};

/*
 * Open path ("-" is standard input).  display_name names the file in
 * diagnostics (NULL: path, or "<stdin>").  *out for the caller to free with
 * cdr_csv_reader_close().
 */
int cdr_csv_reader_open(struct cdr_csv_reader **out, const char *path,
                        const char *display_name, struct cdr_csv_limits lim,
                        struct cdr_diag *d);

/* Read from an already open stream (borrowed; not closed). */
int cdr_csv_reader_open_stream(struct cdr_csv_reader **out, FILE *f,
                               const char *display_name,
                               struct cdr_csv_limits lim, struct cdr_diag *d);

/* One row.  The slices live until the next cdr_csv_reader_next(). */
struct cdr_csv_row {
    const struct cdr_slice *field;
    size_t nfields;
    long line;    /* physical line where the row starts, 1-based */
    int too_long; /* 0, or 1 + the index of the first field over max_field */
};

/*
 * Next row (the header too: the caller decides what the first row means).
 * 1 with *row, 0 at end of file, or a negative code with d naming the file
 * and line when the file cannot be read further: CDR_E_CSV (malformed
 * quoting, record too long, unterminated quote), CDR_E_IO, CDR_E_NOMEM.
 * Rows read before the problem are all returned first.
 */
int cdr_csv_reader_next(struct cdr_csv_reader *r, struct cdr_csv_row *row,
                        struct cdr_diag *d);

/* The last row returned, as a CSV line without line end (fields quoted
 * only where needed); for the rejects' raw record.  Lives until the next
 * call. */
struct cdr_slice cdr_csv_reader_raw(const struct cdr_csv_reader *r);

/* The name diagnostics use.  Borrowed, lives as long as r. */
const char *cdr_csv_reader_name(const struct cdr_csv_reader *r);

/*
 * Read at most n bytes per fread (default 1 MiB, at most 256 MiB).  Only
 * before the first cdr_csv_reader_next(); 0 or -1.  Tests use it to put
 * chunk boundaries everywhere.
 */
int cdr_csv_reader_set_chunk_size(struct cdr_csv_reader *r, size_t n);

/* Every byte read from the file, in order, is also passed to fn (a run
 * hashes its inputs this way, in the same pass).  Before the first
 * cdr_csv_reader_next(). */
typedef void (*cdr_csv_tap_fn)(void *ctx, const void *p, size_t n);
void cdr_csv_reader_set_tap(struct cdr_csv_reader *r, cdr_csv_tap_fn fn,
                            void *ctx);

/* Bytes consumed so far (for progress). */
uint64_t cdr_csv_reader_offset(const struct cdr_csv_reader *r);

/* NULL is a no-op. */
void cdr_csv_reader_close(struct cdr_csv_reader *r);

/*
 * Header names as the project matches them: lower-cased, every byte that
 * is not a letter or digit dropped ("Parent Call SID" is
 * "parentcallsid").  Writes at most outsz - 1 bytes and a NUL; returns the
 * full normalised length (>= outsz: it did not fit).
 */
size_t cdr_csv_normalise_name(const char *s, size_t n, char *out, size_t outsz);

/*
 * Map a header row onto the caller's columns: index[col] = the header
 * position of column col, or -1 when the header does not name it.
 * column_of(name) gives the caller's column for a normalised name, or -1
 * for a column the caller does not know (ignored).  index has ncols
 * entries.  0, or when a column is named twice ("Sid" and "Call Sid") the
 * 1-based position of the second name (index keeps the first).
 */
size_t cdr_csv_map_header(const struct cdr_csv_row *header,
                          int (*column_of)(const char *normalised), int *index,
                          size_t ncols);

#endif

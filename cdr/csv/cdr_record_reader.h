/*
 * The call-record reader: the project's CSV reader (cdr_csv_reader.h) with
 * the record's header and bounds.  Memory is bounded by one record
 * (CDR_MAX_ROW) plus libcsv's buffer, whatever the file size.
 *
 * The first row is the header.  Its names are matched as the record's
 * vocabulary says (cdr_column_of: lower-cased, only letters and digits,
 * "Call Sid" for sid); unknown columns are ignored.
 */
#ifndef REFEREE_CDR_RECORD_READER_H
#define REFEREE_CDR_RECORD_READER_H

#include "cdr/csv/cdr_csv_reader.h"
#include "cdr/record/cdr_record.h"
#include "cdr/util/cdr_diag.h"

#include <stdio.h>

struct cdr_reader;

/*
 * Open path ("-" is standard input).  display_name is used in diagnostics
 * (NULL: path, or "<stdin>").  *out is returned for the caller to free with
 * cdr_reader_close().
 */
int cdr_reader_open(struct cdr_reader **out, const char *path,
                    const char *display_name, struct cdr_diag *d);

/* Read from an already open stream (borrowed; not closed). For tests, fuzz. */
int cdr_reader_open_stream(struct cdr_reader **out, FILE *f,
                           const char *display_name, struct cdr_diag *d);

/*
 * Next data row.  Returns 1 with *row filled, 0 at end of file, or a negative
 * code with d filled (file, line, field, message):
 *  - CDR_E_FIELD_COUNT, CDR_E_TOO_LONG: this row is bad, the next call goes on
 *    with the following row (the caller rejects this one);
 *  - CDR_E_CSV, CDR_E_MISSING, CDR_E_IO, CDR_E_NOMEM: the file cannot be
 *    read further.
 * Row slices live until the next call.  Blank lines are skipped (counted in
 * line numbers).  On CDR_E_FIELD_COUNT and CDR_E_TOO_LONG *row is filled as
 * far as the row goes (file, line, record, the columns it has), so the
 * caller can name the sid in its reject.  The first non-blank row is the
 * header: a known column named twice (CDR_E_CSV), and with
 * cdr_reader_require_columns a required column missing (CDR_E_MISSING:
 * sid, direction, from, to, start_time), is an error of the file, at the
 * header's line.  A record over CDR_MAX_ROW bytes
 * (fields plus separators) is CDR_E_CSV.
 */
int cdr_reader_next(struct cdr_reader *r, struct cdr_row *row,
                    struct cdr_diag *d);

/* A file without a column every record needs (sid, direction, from, to,
 * start_time) is an error of the file, not a reject on each row.  Before
 * the first cdr_reader_next(). */
void cdr_reader_require_columns(struct cdr_reader *r);

/* Is a negative cdr_reader_next() result about that row only (the file
 * goes on), not the file? */
static inline int
cdr_reader_row_error(int rc)
{
    return rc == CDR_E_FIELD_COUNT || rc == CDR_E_TOO_LONG;
}

/* The raw text of the last row returned (or rejected), as a CSV line without
 * line end; for the rejects' "raw record".  Lives until the next call. */
struct cdr_slice cdr_reader_raw(const struct cdr_reader *r);

/*
 * Read at most n bytes per fread (default 1 MiB, at most 256 MiB).  Only
 * before the first cdr_reader_next(); 0 or -1.  Tests use it to put chunk
 * boundaries everywhere.
 */
int cdr_reader_set_chunk_size(struct cdr_reader *r, size_t n);

/* Every byte read from the file, in order, is also passed to fn (the run
 * hashes its inputs this way, in the same pass).  Before the first
 * cdr_reader_next(). */
void cdr_reader_set_tap(struct cdr_reader *r, cdr_csv_tap_fn fn, void *ctx);

/* Bytes consumed so far (for progress). */
uint64_t cdr_reader_offset(const struct cdr_reader *r);

void cdr_reader_close(struct cdr_reader *r);

#endif

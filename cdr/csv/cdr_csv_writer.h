/*
 * CSV writer that makes a file appear only complete: rows go to a temporary
 * file beside the target (same folder, so rename is atomic), and commit
 * flushes, fsyncs, renames over the target and fsyncs the folder.  abort (or
 * free without commit) removes the temporary file: the old target stays.
 * Quoting is libcsv's (csv_write), used only for fields that need it.
 */
#ifndef REFEREE_CDR_CSV_WRITER_H
#define REFEREE_CDR_CSV_WRITER_H

#include "cdr/util/cdr_diag.h"

#include <stddef.h>
#include <stdint.h>

struct cdr_writer;

/* *out for the caller to free with cdr_writer_free().  path is copied. */
int cdr_writer_open(struct cdr_writer **out, const char *path,
                    struct cdr_diag *d);

/* Does this field need quotes to be read back unchanged by libcsv (a comma,
 * quote, CR or LF inside, or a space or tab at either end)? */
int cdr_csv_needs_quotes(const char *s, size_t n);

/* Append one field to the current row (n bytes, need not be NUL-terminated). */
int cdr_writer_field(struct cdr_writer *w, const char *s, size_t n);
int cdr_writer_field_str(struct cdr_writer *w, const char *s); /* NULL = "" */
int cdr_writer_field_int(struct cdr_writer *w, int64_t v);
/* End the current row with "\n". */
int cdr_writer_end_row(struct cdr_writer *w);
/* Raw bytes, written as they are (for JSON or other non-CSV files). */
int cdr_writer_raw(struct cdr_writer *w, const char *s, size_t n);

/* Hand what is buffered to the kernel (no fsync): a process killed after
 * this loses none of it, a machine that crashes may.  0 or the sticky
 * error. */
int cdr_writer_flush(struct cdr_writer *w);

/* Errors from the calls above are sticky: the first is reported by prepare
 * or commit.  prepare flushes, fsyncs and closes the temporary file (every
 * write error shows here); commit prepares if needed, then renames over the
 * target.  A caller with several files prepares them all before renaming
 * any, so a failing one leaves every old file in place. */
int cdr_writer_prepare(struct cdr_writer *w, struct cdr_diag *d);
int cdr_writer_commit(struct cdr_writer *w, struct cdr_diag *d);
void cdr_writer_abort(struct cdr_writer *w);
/* Aborts if not committed. NULL is a no-op. */
void cdr_writer_free(struct cdr_writer *w);

#endif

/*
 * Call-record files of the capture feeder: CSV in the call-record format
 * referee-rate reads (cdr/README.md), with the one column list of both
 * programs (cdr_record_write_header(), cdr/csv/cdr_record_writer.h:
 * account_sid, price and price_unit are empty here), one file per rotation
 * period, each written
 * through the atomic writer (cdr/cdr_csv_writer.h): a temporary name while
 * open, fsync'd and renamed when the period ends, on SIGHUP and at exit, so
 * a reader never sees half a file.  A writer that is killed leaves its open
 * file under the temporary name; the next writer in the folder commits it.
 *
 * File names: DIR/calls-YYYYMMDDTHHMMSSZ.csv, the period's start in UTC; a
 * second file for the same period (after a restart) gets -1, -2 ... so an
 * earlier file is never replaced.
 */
#ifndef REFEREE_CAP_WRITER_H
#define REFEREE_CAP_WRITER_H

#include "cdr/capture/track/cap_tracker.h"
#include "cdr/util/cdr_diag.h"

#include <stdint.h>

struct cap_writer;

/*
 * dir must exist and is copied; rotate is the period in seconds (> 0).
 * *out for the caller to free with cap_writer_close().  Takes the folder's
 * lock (one writer per folder: CDR_E_IO when another holds it), then
 * commits the files a killed writer left open there (their whole rows,
 * under the names they would have had; see cap_writer_recovered).
 */
int cap_writer_new(struct cap_writer **out, const char *dir, int64_t rotate,
                   struct cdr_diag *d);

/* A cap_record_fn: ctx is the struct cap_writer.  0 or a CDR_E_* code
 * (details in cap_writer_error()). */
int cap_writer_record(void *ctx, const struct cdr_record *r);

/* The clock (capture time, epoch seconds): when a period ends the open file
 * is committed.  0 or a CDR_E_* code. */
int cap_writer_set_time(struct cap_writer *w, int64_t now);

/* Commit the open file now (SIGHUP).  0 or a CDR_E_* code. */
int cap_writer_rotate(struct cap_writer *w);

/* on: each record is handed to the kernel as it is written, so a killed
 * process loses none (live sources: a file cannot be read again). */
void cap_writer_flush_each(struct cap_writer *w, int on);

/* What cap_writer_new recovered: files, and rows in them. */
void cap_writer_recovered(const struct cap_writer *w, uint64_t *files,
                          uint64_t *rows);

/* Commit and free.  NULL is a no-op.  0 or the first error. */
int cap_writer_close(struct cap_writer *w, struct cdr_diag *d);

/* The first error's diagnostics (code 0 if none).  Borrowed. */
const struct cdr_diag *cap_writer_error(const struct cap_writer *w);

uint64_t cap_writer_files(const struct cap_writer *w);   /* committed */
uint64_t cap_writer_records(const struct cap_writer *w); /* rows written */

#endif

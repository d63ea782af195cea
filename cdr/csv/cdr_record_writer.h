/*
 * Call records out, in the one column list both programs use (enum
 * cdr_column, in its order): referee-capture's files and referee-rate's
 * pending.csv are read back by the record reader without any mapping.
 */
#ifndef REFEREE_CDR_RECORD_WRITER_H
#define REFEREE_CDR_RECORD_WRITER_H

#include "cdr/csv/cdr_csv_writer.h"
#include "cdr/record/cdr_record.h"

/* The header row: every column's name (cdr_column_name), in order, and
 * the line end. */
int cdr_record_write_header(struct cdr_writer *w);

/* The same header row as text, with its "\n", NUL-terminated in buf (for
 * a reader that recognises the files).  Its length, or -1 if size is too
 * small. */
int cdr_record_header_text(char *buf, size_t size);

/*
 * One record as a row: its text fields as they are, direction by name,
 * times as "2026-05-10T08:02:17Z" (end_time empty without has_end_time),
 * duration empty without has_duration.  Errors are the writer's sticky
 * ones: 0 or its first error.
 */
int cdr_record_write(struct cdr_writer *w, const struct cdr_record *r);

#endif

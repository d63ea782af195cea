/*
 * Reading on a second thread.  A worker reads one CSV file, parses it with
 * libcsv, validates each row and hashes the bytes (SHA-256), and hands the
 * results over in batches, in file order; the caller links and rates on its
 * own thread meanwhile.  Four batches of about 1 MiB are in flight at most,
 * so memory stays bounded whatever the file size.
 */
#ifndef REFEREE_CDR_PREFETCH_H
#define REFEREE_CDR_PREFETCH_H

#include "cdr/util/cdr_diag.h"
#include "cdr/record/cdr_record.h"

#include <stdint.h>

enum cdr_item_kind {
    CDR_ITEM_RECORD = 1, /* rec is a validated record */
    CDR_ITEM_REJECT,     /* the row is bad: diag says why */
};

/* One row of the file.  Everything borrows from the prefetcher and lives
 * until the next cdr_prefetch_next() call. */
struct cdr_item {
    enum cdr_item_kind kind;
    struct cdr_record rec;       /* RECORD */
    const struct cdr_diag *diag; /* REJECT */
    struct cdr_slice sid;        /* REJECT: the row's sid if it had one */
    struct cdr_slice raw;        /* the row as a CSV line, for rejects */
    long line;
};

struct cdr_prefetch;

/* Start reading path ("-": standard input); display name as in the reader.
 * *out for the caller to close with cdr_prefetch_close(). */
int cdr_prefetch_open(struct cdr_prefetch **out, const char *path,
                      struct cdr_diag *d);

/* 1 with *item, 0 at end of file, or a negative code with d filled when the
 * file cannot be read further (malformed CSV, I/O). */
int cdr_prefetch_next(struct cdr_prefetch *p, const struct cdr_item **item,
                      struct cdr_diag *d);

/* After end of file: the SHA-256 (hex) and size of every byte read. */
void cdr_prefetch_digest(const struct cdr_prefetch *p, char hex[65],
                         uint64_t *bytes);

/* Stops the worker if it is still reading, and frees.  NULL is a no-op. */
void cdr_prefetch_close(struct cdr_prefetch *p);

#endif

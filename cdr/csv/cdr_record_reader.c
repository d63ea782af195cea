/*
 * Call records from CSV: the header row mapped onto the record's columns,
 * then each row as a struct cdr_row, with the checks that only make sense
 * once the header is known (the field count).
 */
#include "cdr/csv/cdr_record_reader.h"

#include <stdlib.h>
#include <string.h>

struct cdr_reader {
    struct cdr_csv_reader *csv;
    int have_header;
    size_t ncols;
    int col[CDR_COL__COUNT]; /* header index of each known column, or -1 */
    long record;
    struct cdr_diag failed; /* a file error of the header: sticky */
    int require;            /* a missing required column is a file error */
};

static const struct cdr_csv_limits record_limits = {CDR_MAX_FIELD, CDR_MAX_ROW};

static int
wrap(struct cdr_reader **out, struct cdr_csv_reader *csv, int rc,
     struct cdr_diag *d)
{
    if (rc != 0)
        return rc;
    struct cdr_reader *r = calloc(1, sizeof *r);
    if (r == NULL) {
        cdr_csv_reader_close(csv);
        return cdr_diag_set(d, CDR_E_NOMEM, NULL, NULL, 0, NULL);
    }
    r->csv = csv;
    *out = r;
    return 0;
}

int
cdr_reader_open(struct cdr_reader **out, const char *path,
                const char *display_name, struct cdr_diag *d)
{
    struct cdr_csv_reader *csv = NULL;
    int rc = cdr_csv_reader_open(&csv, path, display_name, record_limits, d);
    return wrap(out, csv, rc, d);
}

int
cdr_reader_open_stream(struct cdr_reader **out, FILE *f,
                       const char *display_name, struct cdr_diag *d)
{
    struct cdr_csv_reader *csv = NULL;
    int rc =
        cdr_csv_reader_open_stream(&csv, f, display_name, record_limits, d);
    return wrap(out, csv, rc, d);
}

static void
fill_row(const struct cdr_reader *r, const struct cdr_csv_row *in,
         struct cdr_row *row)
{
    memset(row, 0, sizeof *row);
    for (int c = 0; c < CDR_COL__COUNT; c++) {
        int i = r->col[c];
        if (i < 0)
            continue;
        row->present[c] = 1;
        if ((size_t)i < in->nfields)
            row->field[c] = in->field[i];
        else
            row->field[c].p = "";
    }
    row->file = cdr_csv_reader_name(r->csv);
    row->line = in->line;
    row->record = r->record;
}

/* Name of header column i, for messages. */
static const char *
column_label(const struct cdr_reader *r, size_t i)
{
    for (int c = 0; c < CDR_COL__COUNT; c++)
        if (r->col[c] == (int)i)
            return cdr_column_name((enum cdr_column)c);
    return NULL;
}

/* The columns every record needs: a file without one is a file error,
 * named once, not a reject on every row. */
static const enum cdr_column required[] = {CDR_COL_SID, CDR_COL_DIRECTION,
                                           CDR_COL_FROM, CDR_COL_TO,
                                           CDR_COL_START_TIME};

void
cdr_reader_require_columns(struct cdr_reader *r)
{
    r->require = 1;
}

/* Which column a header field names, or -1. */
static int
column_of_field(struct cdr_slice f)
{
    char key[64];
    if (cdr_csv_normalise_name(f.p, f.n, key, sizeof key) >= sizeof key)
        return -1;
    return cdr_column_of(key);
}

/* Map the header: 0, or a file error (a column named twice, a required
 * one missing) that stops the file; later calls return it again. */
static int
take_header(struct cdr_reader *r, const struct cdr_csv_row *h,
            struct cdr_diag *d)
{
    size_t twice = cdr_csv_map_header(h, cdr_column_of, r->col, CDR_COL__COUNT);
    r->ncols = h->nfields;
    r->have_header = 1;
    if (twice > 0) {
        /* "Sid" and "Call Sid", "To" and "to": which one is meant? */
        struct cdr_slice f = h->field[twice - 1];
        enum cdr_column c = (enum cdr_column)column_of_field(f);
        cdr_diag_set(d, CDR_E_CSV, cdr_column_name(c), f.p, f.n,
                     "column named twice");
        cdr_diag_detail(d, "fields %d and %zu of the header both name %s",
                        r->col[c] + 1, twice, cdr_column_name(c));
    } else {
        size_t i = 0;
        while (i < sizeof required / sizeof required[0] &&
               r->col[required[i]] >= 0)
            i++;
        if (!r->require || i == sizeof required / sizeof required[0])
            return 0;
        const char *col = cdr_column_name(required[i]);
        cdr_diag_set(d, CDR_E_MISSING, col, NULL, 0,
                     "the header has no %s column", col);
        cdr_diag_detail(d, "every record needs sid, direction, from, to and "
                           "start_time");
    }
    cdr_diag_at(d, cdr_csv_reader_name(r->csv), h->line, 0);
    r->failed = *d;
    return d->code;
}

int
cdr_reader_next(struct cdr_reader *r, struct cdr_row *row, struct cdr_diag *d)
{
    struct cdr_csv_row in;
    int rc;
    if (r->failed.code != 0) {
        *d = r->failed;
        return d->code;
    }
    while ((rc = cdr_csv_reader_next(r->csv, &in, d)) == 1 && !r->have_header)
        if ((rc = take_header(r, &in, d)) != 0)
            return rc;
    if (rc != 1)
        return rc;
    const char *name = cdr_csv_reader_name(r->csv);
    r->record++;
    fill_row(r, &in, row);
    if (in.nfields != r->ncols) {
        cdr_diag_set(d, CDR_E_FIELD_COUNT, NULL, NULL, 0,
                     "wrong number of fields: %zu, the header has %zu",
                     in.nfields, r->ncols);
        cdr_diag_at(d, name, in.line, 0);
        return CDR_E_FIELD_COUNT;
    }
    if (in.too_long) {
        size_t i = (size_t)in.too_long - 1;
        cdr_diag_set(d, CDR_E_TOO_LONG, column_label(r, i), in.field[i].p, 40,
                     "field too long");
        cdr_diag_detail(d, "field %zu has %zu bytes, at most %d allowed", i + 1,
                        in.field[i].n, CDR_MAX_FIELD);
        cdr_diag_at(d, name, in.line, 0);
        return CDR_E_TOO_LONG;
    }
    return 1;
}

struct cdr_slice
cdr_reader_raw(const struct cdr_reader *r)
{
    return cdr_csv_reader_raw(r->csv);
}

int
cdr_reader_set_chunk_size(struct cdr_reader *r, size_t n)
{
    return cdr_csv_reader_set_chunk_size(r->csv, n);
}

void
cdr_reader_set_tap(struct cdr_reader *r, cdr_csv_tap_fn fn, void *ctx)
{
    cdr_csv_reader_set_tap(r->csv, fn, ctx);
}

uint64_t
cdr_reader_offset(const struct cdr_reader *r)
{
    return cdr_csv_reader_offset(r->csv);
}

void
cdr_reader_close(struct cdr_reader *r)
{
    if (r == NULL)
        return;
    cdr_csv_reader_close(r->csv);
    free(r);
}

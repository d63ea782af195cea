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

int
cdr_reader_next(struct cdr_reader *r, struct cdr_row *row, struct cdr_diag *d)
{
    struct cdr_csv_row in;
    int rc;
    while ((rc = cdr_csv_reader_next(r->csv, &in, d)) == 1 && !r->have_header) {
        cdr_csv_map_header(&in, cdr_column_of, r->col, CDR_COL__COUNT);
        r->ncols = in.nfields;
        r->have_header = 1;
    }
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

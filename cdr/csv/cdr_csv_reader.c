/*
 * Streaming CSV reader on libcsv.
 *
 * Bytes are read in big chunks and handed to csv_parse one physical line at
 * a time (up to and including each '\n'), so a record is usually complete
 * after one csv_parse call and the field store stays small and hot.  libcsv
 * copies each field into its own buffer; the field callback appends it to
 * our store (no allocation per field) and the row callback queues the row.
 * Several rows can complete in one call (a bare CR ends a row in libcsv),
 * hence a small queue.  Every byte goes through libcsv: CSV is its job, and
 * reading runs on its own thread beside the rating, which is the slower of
 * the two.
 *
 * Line numbers: each csv_parse call is given at most one line feed, its last
 * byte, so r->line (line feeds fed before this call, plus one) is the line
 * of every byte of the call but that last one; a row ended by that line
 * feed makes the next row start on r->line + 1.  Line feeds inside quoted
 * fields are counted the same way, without looking at field text, so each
 * record reports the physical line where it starts whatever the chunk
 * boundaries.
 */
#include "cdr/csv/cdr_csv_reader.h"
#include "cdr/csv/cdr_csv_writer.h"
#include "cdr/util/cdr_array.h"

#include <csv.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define READ_CHUNK (1u << 20)
/* Field offsets are 32-bit: the queue holds about two chunks at most. */
#define CDR_MAX_CHUNK ((size_t)1 << 28)

struct field_ref {
    uint32_t off, len;
};

struct row_ref {
    size_t first; /* index in fields[] */
    size_t nfields;
    long line;
    int too_long; /* index+1 of the first field over max_field */
};

struct cdr_csv_reader {
    FILE *f;
    int own_f;
    char *name;
    struct csv_parser csv;
    int csv_ok;
    struct cdr_csv_limits lim;

    unsigned char *in; /* read buffer */
    size_t in_cap, in_len, in_pos, chunk;
    int eof;     /* fread said end of file; csv_fini done */
    int started; /* first bytes read (BOM check done) */
    uint64_t offset;
    cdr_csv_tap_fn tap;
    void *tap_ctx;

    /* Field bytes and refs of queued rows and of the row being built. */
    char *data;
    size_t data_len, data_cap;
    struct field_ref *fields;
    size_t nfields, fields_cap;
    struct row_ref *rows;
    size_t nrows, rows_cap, rhead;

    /* The row being built. */
    size_t cur_first, cur_bytes;
    long cur_line;
    int cur_too_long;

    long line; /* physical line of the bytes being parsed, 1-based */
    long record;

    /* Fatal state, reported after the rows queued before it. */
    int fatal;
    long fatal_line;
    char fatal_msg[128];
    char fatal_detail[128];

    /* The slices of the row handed out. */
    struct cdr_slice *out;
    size_t out_cap;

    /* Last row returned, for cdr_csv_reader_raw. */
    const struct row_ref *last;
    char *raw;
    size_t raw_cap;
};

static int
grow(void **p, size_t *cap, size_t need, size_t elem)
{
    return cdr_array_grow(p, cap, need, elem, 64);
}

static void
set_fatal(struct cdr_csv_reader *r, int code, long line, const char *msg,
          const char *detail)
{
    if (r->fatal)
        return;
    r->fatal = code;
    r->fatal_line = line;
    snprintf(r->fatal_msg, sizeof r->fatal_msg, "%s", msg);
    snprintf(r->fatal_detail, sizeof r->fatal_detail, "%s",
             detail ? detail : "");
}

/* Record bound: field bytes plus one per field (the separators). */
static int
row_too_big(const struct cdr_csv_reader *r, size_t more)
{
    return r->cur_bytes + (r->nfields - r->cur_first) + more > r->lim.max_row;
}

/*
 * The field in progress is in libcsv's buffer, which grows with it (its
 * text and, until the field ends, the spaces around it).  Past twice the
 * record bound the record cannot be valid: stop before the buffer takes
 * the memory of a whole unbalanced-quote file.  csv_get_buffer_size is
 * libcsv's documented view of that buffer; checked in the callbacks and
 * after every csv_parse call, the verdict and its line do not depend on
 * where a chunk ends.
 */
static int
field_runaway(struct cdr_csv_reader *r)
{
    return csv_get_buffer_size(&r->csv) > 2 * r->lim.max_row;
}

static void
too_long_record(struct cdr_csv_reader *r)
{
    char det[96];
    snprintf(det, sizeof det,
             "more than %zu bytes in one record: unbalanced quotes?",
             r->lim.max_row);
    set_fatal(r, CDR_E_CSV, r->cur_line, "record too long", det);
}

static void
on_field(void *s, size_t len, void *data)
{
    struct cdr_csv_reader *r = data;
    if (r->fatal)
        return;
    const char *f = s;
    if (row_too_big(r, len + 1) || field_runaway(r)) {
        too_long_record(r);
        return;
    }
    if (grow((void **)&r->data, &r->data_cap, r->data_len + len + 1, 1) ||
        grow((void **)&r->fields, &r->fields_cap, r->nfields + 1,
             sizeof *r->fields)) {
        set_fatal(r, CDR_E_NOMEM, r->cur_line, "out of memory", NULL);
        return;
    }
    memcpy(r->data + r->data_len, f, len);
    r->data[r->data_len + len] = '\0';
    r->fields[r->nfields].off = (uint32_t)r->data_len;
    r->fields[r->nfields].len = (uint32_t)len;
    r->nfields++;
    r->data_len += len + 1;
    r->cur_bytes += len;
    if (len > r->lim.max_field && !r->cur_too_long)
        r->cur_too_long = (int)(r->nfields - r->cur_first);
}

static void
on_row(int c, void *data)
{
    struct cdr_csv_reader *r = data;
    if (r->fatal)
        return;
    if (r->nfields > r->cur_first) { /* not a blank line */
        if (grow((void **)&r->rows, &r->rows_cap, r->nrows + 1,
                 sizeof *r->rows)) {
            set_fatal(r, CDR_E_NOMEM, r->cur_line, "out of memory", NULL);
            return;
        }
        struct row_ref *rr = &r->rows[r->nrows++];
        rr->first = r->cur_first;
        rr->nfields = r->nfields - r->cur_first;
        rr->line = r->cur_line;
        rr->too_long = r->cur_too_long;
    }
    r->cur_first = r->nfields;
    r->cur_bytes = 0;
    r->cur_too_long = 0;
    /* A '\n' that ends a row is the last byte of this csv_parse call. */
    r->cur_line = c == '\n' ? r->line + 1 : r->line;
}

/* Drop the rows already returned, keeping the row being built. */
static void
compact(struct cdr_csv_reader *r)
{
    size_t keep_f = r->nfields - r->cur_first;
    size_t doff = keep_f ? r->fields[r->cur_first].off : r->data_len;
    size_t keep_d = r->data_len - doff;
    if (keep_d)
        memmove(r->data, r->data + doff, keep_d);
    for (size_t i = 0; i < keep_f; i++) {
        r->fields[i] = r->fields[r->cur_first + i];
        r->fields[i].off -= (uint32_t)doff;
    }
    r->data_len = keep_d;
    r->nfields = keep_f;
    r->cur_first = 0;
    r->nrows = 0;
    r->rhead = 0;
    r->last = NULL;
}

static int
reader_new(struct cdr_csv_reader **out, FILE *f, int own, const char *name,
           struct cdr_csv_limits lim, struct cdr_diag *d)
{
    if (lim.max_field == 0 || lim.max_row == 0 ||
        lim.max_row > (SIZE_MAX - 16) / 3)
        return cdr_diag_set(d, CDR_E_USAGE, NULL, NULL, 0,
                            "invalid CSV reader limits");
    struct cdr_csv_reader *r = calloc(1, sizeof *r);
    if (r == NULL)
        return cdr_diag_set(d, CDR_E_NOMEM, NULL, NULL, 0, NULL);
    r->f = f;
    r->own_f = own;
    r->lim = lim;
    r->name = strdup(name);
    r->chunk = READ_CHUNK;
    r->line = 1;
    r->cur_line = 1;
    r->raw_cap = 3 * lim.max_row + 16;
    r->raw = malloc(r->raw_cap);
    if (r->name == NULL || r->raw == NULL ||
        csv_init(&r->csv, CSV_STRICT | CSV_STRICT_FINI | CSV_REPALL_NL |
                              CSV_APPEND_NULL) != 0) {
        r->csv_ok = 0;
        cdr_csv_reader_close(r);
        return cdr_diag_set(d, CDR_E_NOMEM, NULL, NULL, 0, NULL);
    }
    r->csv_ok = 1;
    *out = r;
    return 0;
}

int
cdr_csv_reader_open(struct cdr_csv_reader **out, const char *path,
                    const char *display_name, struct cdr_csv_limits lim,
                    struct cdr_diag *d)
{
    int is_stdin = strcmp(path, "-") == 0;
    const char *name =
        display_name ? display_name : (is_stdin ? "<stdin>" : path);
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    if (f == NULL) {
        int e = errno;
        cdr_diag_set(d, CDR_E_IO, NULL, NULL, 0, "could not open file: %s",
                     strerror(e));
        cdr_diag_at(d, name, 0, 0);
        return CDR_E_IO;
    }
    int rc = reader_new(out, f, !is_stdin, name, lim, d);
    if (rc != 0 && !is_stdin)
        fclose(f);
    return rc;
}

int
cdr_csv_reader_open_stream(struct cdr_csv_reader **out, FILE *f,
                           const char *display_name, struct cdr_csv_limits lim,
                           struct cdr_diag *d)
{
    return reader_new(out, f, 0, display_name ? display_name : "<stream>", lim,
                      d);
}

int
cdr_csv_reader_set_chunk_size(struct cdr_csv_reader *r, size_t n)
{
    if (r->started || n == 0 || n > CDR_MAX_CHUNK)
        return -1;
    r->chunk = n;
    return 0;
}

void
cdr_csv_reader_set_tap(struct cdr_csv_reader *r, cdr_csv_tap_fn fn, void *ctx)
{
    r->tap = fn;
    r->tap_ctx = ctx;
}

/* Fill the read buffer; the first fill gathers at least 3 bytes (or the
 * whole file) so a UTF-8 byte order mark can be recognised and skipped. */
static int
fill(struct cdr_csv_reader *r, size_t *got)
{
    if (r->in == NULL) {
        r->in_cap = r->chunk < 4 ? 4 : r->chunk;
        r->in = malloc(r->in_cap);
        if (r->in == NULL)
            return CDR_E_NOMEM;
    }
    r->in_len = r->in_pos = 0;
    size_t want = r->started ? 1 : 3;
    while (r->in_len < want) {
        size_t room = r->in_cap - r->in_len;
        size_t n = fread(r->in + r->in_len, 1,
                         room < r->chunk ? room : r->chunk, r->f);
        if (n > 0 && r->tap != NULL)
            r->tap(r->tap_ctx, r->in + r->in_len, n);
        r->in_len += n;
        if (n == 0)
            break;
    }
    *got = r->in_len;
    if (ferror(r->f))
        return CDR_E_IO;
    if (!r->started) {
        r->started = 1;
        if (r->in_len >= 3 && memcmp(r->in, "\xEF\xBB\xBF", 3) == 0) {
            r->in_pos = 3;
            r->offset += 3;
        }
    }
    return 0;
}

/* Parse more input until a row is queued, a fatal error, or end of file. */
static void
parse_more(struct cdr_csv_reader *r)
{
    while (r->rhead == r->nrows && !r->fatal && !r->eof) {
        if (r->in_pos == r->in_len) {
            size_t got;
            int rc = fill(r, &got);
            if (rc != 0) {
                set_fatal(r, rc, r->line,
                          rc == CDR_E_IO ? "read error" : "out of memory",
                          rc == CDR_E_IO ? strerror(errno) : NULL);
                return;
            }
            if (got == 0) {
                r->eof = 1;
                if (csv_fini(&r->csv, on_field, on_row, r) != 0)
                    set_fatal(r, CDR_E_CSV, r->cur_line,
                              "unterminated quoted field",
                              "a quote opened in this record is never closed");
                return;
            }
            continue; /* the buffer may hold only a byte order mark */
        }
        const unsigned char *s = r->in + r->in_pos;
        size_t avail = r->in_len - r->in_pos;
        const unsigned char *nl = memchr(s, '\n', avail);
        size_t len = nl ? (size_t)(nl - s) + 1 : avail;
        size_t n = csv_parse(&r->csv, s, len, on_field, on_row, r);
        r->in_pos += n;
        r->offset += n;
        if (n == len && nl != NULL)
            r->line++;
        if (r->fatal)
            return;
        if (n < len) {
            if (csv_error(&r->csv) == CSV_EPARSE) {
                /* The offending byte is not a line feed: it is on r->line */
                char det[128];
                snprintf(det, sizeof det,
                         "unexpected quote on line %ld: a quote inside a "
                         "field must be doubled and the field quoted",
                         r->line);
                set_fatal(r, CDR_E_CSV, r->cur_line, "malformed quoting", det);
            } else {
                set_fatal(r, CDR_E_NOMEM, r->cur_line, "out of memory", NULL);
            }
            return;
        }
        if (field_runaway(r))
            too_long_record(r);
    }
}

size_t
cdr_csv_normalise_name(const char *s, size_t n, char *out, size_t outsz)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
            continue;
        if (o + 1 < outsz)
            out[o] = c;
        o++;
    }
    out[o + 1 < outsz ? o : outsz - 1] = '\0';
    return o;
}

size_t
cdr_csv_map_header(const struct cdr_csv_row *header,
                   int (*column_of)(const char *normalised), int *index,
                   size_t ncols)
{
    size_t twice = 0;
    for (size_t c = 0; c < ncols; c++)
        index[c] = -1;
    for (size_t i = 0; i < header->nfields; i++) {
        char key[64];
        if (cdr_csv_normalise_name(header->field[i].p, header->field[i].n, key,
                                   sizeof key) >= sizeof key)
            continue; /* longer than any name of ours */
        int c = column_of(key);
        if (c < 0 || (size_t)c >= ncols)
            continue;
        if (index[c] < 0)
            index[c] = (int)i;
        else if (twice == 0)
            twice = i + 1;
    }
    return twice;
}

int
cdr_csv_reader_next(struct cdr_csv_reader *r, struct cdr_csv_row *row,
                    struct cdr_diag *d)
{
    if (r->rhead == r->nrows && !r->fatal && !r->eof) {
        r->last = NULL;
        compact(r);
        parse_more(r);
    }
    if (r->rhead == r->nrows) {
        r->last = NULL;
        if (r->fatal) {
            cdr_diag_set(d, r->fatal, NULL, NULL, 0, "%s", r->fatal_msg);
            if (r->fatal_detail[0] != '\0')
                cdr_diag_detail(d, "%s", r->fatal_detail);
            cdr_diag_at(d, r->name, r->fatal_line, 0);
            return r->fatal;
        }
        return 0;
    }
    const struct row_ref *rr = &r->rows[r->rhead++];
    if (grow((void **)&r->out, &r->out_cap, rr->nfields, sizeof *r->out)) {
        cdr_diag_set(d, CDR_E_NOMEM, NULL, NULL, 0, "out of memory");
        cdr_diag_at(d, r->name, rr->line, 0);
        return CDR_E_NOMEM;
    }
    for (size_t i = 0; i < rr->nfields; i++) {
        const struct field_ref *fr = &r->fields[rr->first + i];
        r->out[i] = (struct cdr_slice){r->data + fr->off, fr->len};
    }
    r->last = rr;
    row->field = r->out;
    row->nfields = rr->nfields;
    row->line = rr->line;
    row->too_long = rr->too_long;
    return 1;
}

const char *
cdr_csv_reader_name(const struct cdr_csv_reader *r)
{
    return r->name;
}

struct cdr_slice
cdr_csv_reader_raw(const struct cdr_csv_reader *r)
{
    struct cdr_slice out = {"", 0};
    const struct row_ref *rr = r->last;
    if (rr == NULL)
        return out;
    /* raw holds 3 * max_row bytes: each field at most doubles plus two
     * quotes and a comma, and fields + separators <= max_row. */
    char *o = r->raw;
    size_t pos = 0;
    for (size_t i = 0; i < rr->nfields; i++) {
        const struct field_ref *fr = &r->fields[rr->first + i];
        const char *s = r->data + fr->off;
        if (i > 0)
            o[pos++] = ',';
        if (cdr_csv_needs_quotes(s, fr->len)) {
            pos += csv_write(o + pos, r->raw_cap - pos, s, fr->len);
        } else {
            memcpy(o + pos, s, fr->len);
            pos += fr->len;
        }
    }
    o[pos] = '\0';
    out.p = o;
    out.n = pos;
    return out;
}

uint64_t
cdr_csv_reader_offset(const struct cdr_csv_reader *r)
{
    return r->offset;
}

void
cdr_csv_reader_close(struct cdr_csv_reader *r)
{
    if (r == NULL)
        return;
    if (r->csv_ok)
        csv_free(&r->csv);
    if (r->own_f && r->f != NULL)
        fclose(r->f);
    free(r->name);
    free(r->in);
    free(r->data);
    free(r->fields);
    free(r->rows);
    free(r->out);
    free(r->raw);
    free(r);
}

/*
 * csv: price lists, read with the project's CSV reader.  With a header
 * (a first row whose first field names a column) the columns are read by
 * name, in any order: prefix and rate, and any of effective_from,
 * effective_to, increment, from_prefix, connect_fee, minimum_charge,
 * free_seconds (a row may stop before the last columns: they are then
 * empty), and description, which is for the reader of the list and is
 * not read (referee-rate --import-prices writes it).  Without one they
 * are positional:
 * prefix,rate[,effective_from,effective_to,increment].  Blank lines are
 * skipped; empty optional fields are absent.  The bytes read are hashed on
 * the way for the deck's sha256.
 */
#include "rating/deck/rt_deck_int.h"

#include "cdr/csv/cdr_csv_reader.h"
#include "cdr/util/cdr_array.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RT_CSV_PATH 4096
#define RT_CSV_MAX_ROW 4096 /* bytes of one row: a few short fields */

size_t rt_deck_csv_chunk = 65536;

enum {
    C_PREFIX,
    C_RATE,
    C_FROM,
    C_TO,
    C_INCREMENT,
    C_FROM_PREFIX,
    C_CONNECT_FEE,
    C_MINIMUM_CHARGE,
    C_FREE_SECONDS,
    C_DESCRIPTION, /* known so it is allowed; never read */
    C__COUNT,
    C_POSITIONAL = 5, /* without a header: the first five */
};
static const char *const rt_csv_names[C__COUNT] = {
    "prefix",       "rate",        "effective_from", "effective_to",
    "increment",    "from_prefix", "connect_fee",    "minimum_charge",
    "free_seconds", "description",
};

/* One list being read: its column map and the row at hand, its fields as
 * NUL-terminated copies by column. */
struct rt_csv {
    struct rt_deck_loader *ld;
    enum rt_service service;
    const char *file;  /* arena */
    int header;        /* columns by name */
    int col[C__COUNT]; /* field index of each column, -1 absent */
    size_t ncols;      /* fields a row has (header mode) */
    long row_line;     /* line the row starts on */
    size_t nfields;
    size_t too_long; /* 1 + the first field too long for its column */
    char field[C__COUNT][RT_DECK_MAX_TEXT + 1];
    size_t len[C__COUNT];
};

/* The column a header name is, or -1. */
static int
column_of(const char *normalised)
{
    for (int c = 0; c < C__COUNT; c++) {
        char n[32];
        cdr_csv_normalise_name(rt_csv_names[c], strlen(rt_csv_names[c]), n,
                               sizeof n);
        if (strcmp(n, normalised) == 0)
            return c;
    }
    return -1;
}

/* A first row whose first field names a column is the header: every
 * field must name one, once; prefix and rate are required.  1 when it is
 * a header (problems reported), 0 when it is data. */
static int
take_header(struct rt_csv *c, const struct cdr_csv_row *row)
{
    char n[64];
    if (row->nfields == 0 ||
        cdr_csv_normalise_name(row->field[0].p, row->field[0].n, n, sizeof n) >=
            sizeof n ||
        column_of(n) < 0)
        return 0;
    struct rt_pos at = {c->file, row->line, 0};
    c->header = 1;
    c->ncols = row->nfields;
    for (size_t i = 0; i < row->nfields; i++) {
        struct cdr_slice f = row->field[i];
        int col = cdr_csv_normalise_name(f.p, f.n, n, sizeof n) < sizeof n
                      ? column_of(n)
                      : -1;
        if (col < 0)
            rt_deck_error(c->ld, at, CDR_E_DECK, NULL, f.p, f.n,
                          "unknown column (known: prefix, rate, "
                          "effective_from, effective_to, increment, "
                          "from_prefix, connect_fee, minimum_charge, "
                          "free_seconds, description)");
        else if (c->col[col] >= 0)
            rt_deck_error(c->ld, at, CDR_E_DECK, rt_csv_names[col], f.p, f.n,
                          "column named twice");
        else
            c->col[col] = (int)i;
    }
    for (int col = C_PREFIX; col <= C_RATE; col++)
        if (c->col[col] < 0)
            rt_deck_error(c->ld, at, CDR_E_DECK, rt_csv_names[col], NULL, 0,
                          "the header has no %s column", rt_csv_names[col]);
    return 1;
}

/* A description may be longer than a value: it holds what the carrier
 * calls the destination.  The reader stops at the description's bound
 * (row->too_long); a value column's is checked here.  0, or 1 + the index
 * of the first field too long for its column. */
static size_t
field_too_long(const struct rt_csv *c, const struct cdr_csv_row *row)
{
    if (row->too_long)
        return (size_t)row->too_long;
    for (size_t i = 0; i < row->nfields; i++)
        if (row->field[i].n > RT_DECK_MAX_TEXT &&
            !(c->header && (int)i == c->col[C_DESCRIPTION]))
            return i + 1;
    return 0;
}

/* The row's fields by column; 0, or -1 after reporting a wrong count. */
static int
take_row(struct rt_csv *c, const struct cdr_csv_row *row)
{
    struct rt_pos at = {c->file, row->line, 0};
    c->row_line = row->line;
    c->nfields = row->nfields;
    c->too_long = field_too_long(c, row);
    /* fewer fields than the header: the missing ones are empty */
    if (c->header && row->nfields > c->ncols) {
        rt_deck_error(c->ld, at, CDR_E_DECK, NULL, NULL, 0,
                      "expected at most %zu fields as the header has, got %zu",
                      c->ncols, row->nfields);
        return -1;
    }
    if (!c->header && (row->nfields < 2 || row->nfields > C_POSITIONAL)) {
        rt_deck_error(c->ld, at, CDR_E_DECK, NULL, NULL, 0,
                      "expected 2 to 5 fields (prefix,rate[,effective_from,"
                      "effective_to,increment]), got %zu",
                      row->nfields);
        return -1;
    }
    for (int col = 0; col < C__COUNT; col++) {
        int i = c->header ? c->col[col] : (col < C_POSITIONAL ? col : -1);
        size_t n = 0;
        if (i >= 0 && (size_t)i < row->nfields && col != C_DESCRIPTION)
            n = row->field[i].n > RT_DECK_MAX_TEXT ? 0 : row->field[i].n;
        if (n > 0)
            memcpy(c->field[col], row->field[i].p, n);
        c->field[col][n] = '\0';
        c->len[col] = n;
    }
    return 0;
}

/* The optional columns of a row, where given.  0 or -1. */
static int
row_options(struct rt_csv *c, struct rt_pos at, struct rt_entry *e)
{
    struct rt_deck_loader *ld = c->ld;
    int ok = 1;
    if (c->len[C_FROM] > 0)
        ok &= rt_deck_check_date(ld, at, rt_csv_names[C_FROM], c->field[C_FROM],
                                 c->len[C_FROM], &e->from) == 0;
    if (c->len[C_TO] > 0)
        ok &= rt_deck_check_date(ld, at, rt_csv_names[C_TO], c->field[C_TO],
                                 c->len[C_TO], &e->to) == 0;
    if (ok && e->to <= e->from) {
        rt_deck_error(ld, at, CDR_E_DECK, "effective_to", c->field[C_TO],
                      c->len[C_TO],
                      "effective_to must be after effective_from");
        ok = 0;
    }
    if (c->len[C_INCREMENT] > 0) {
        ok &= rt_deck_check_increment(ld, at, c->field[C_INCREMENT],
                                      c->len[C_INCREMENT], &e->inc) == 0;
        e->has_inc = 1;
    }
    if (c->len[C_FROM_PREFIX] > 0) {
        if (rt_deck_check_prefix(ld, at, "from_prefix", c->field[C_FROM_PREFIX],
                                 c->len[C_FROM_PREFIX]) != 0)
            ok = 0;
        else
            e->from_len = c->len[C_FROM_PREFIX];
    }
    if (c->len[C_CONNECT_FEE] > 0)
        ok &= rt_deck_check_fee(ld, at, RT_FEE_CONNECT, c->field[C_CONNECT_FEE],
                                c->len[C_CONNECT_FEE], &e->fees,
                                &e->has_fees) == 0;
    if (c->len[C_MINIMUM_CHARGE] > 0)
        ok &= rt_deck_check_fee(
                  ld, at, RT_FEE_MINIMUM, c->field[C_MINIMUM_CHARGE],
                  c->len[C_MINIMUM_CHARGE], &e->fees, &e->has_fees) == 0;
    if (c->len[C_FREE_SECONDS] > 0)
        ok &= rt_deck_check_free_seconds(ld, at, c->field[C_FREE_SECONDS],
                                         c->len[C_FREE_SECONDS], &e->fees,
                                         &e->has_fees) == 0;
    return ok ? 0 : -1;
}

static void
rt_csv_row_entry(struct rt_csv *c)
{
    struct rt_deck_loader *ld = c->ld;
    struct rt_pos at = {c->file, c->row_line, 0};
    if (c->too_long) {
        int desc = c->header && (int)c->too_long - 1 == c->col[C_DESCRIPTION];
        rt_deck_error(ld, at, CDR_E_DECK, desc ? "description" : NULL, NULL, 0,
                      "field longer than %d characters",
                      desc ? RT_DECK_MAX_DESCRIPTION : RT_DECK_MAX_TEXT);
        return;
    }
    struct rt_entry e;
    memset(&e, 0, sizeof e);
    e.service = c->service;
    e.from = INT64_MIN;
    e.to = INT64_MAX;
    e.next = -1;
    e.file = c->file;
    e.line = c->row_line;
    e.from_prefix = "";
    int ok = 1;
    ok &= rt_deck_check_prefix(ld, at, "prefix", c->field[C_PREFIX],
                               c->len[C_PREFIX]) == 0;
    ok &= rt_deck_check_rate(ld, at, c->field[C_RATE], c->len[C_RATE],
                             &e.rate_nano) == 0;
    ok &= row_options(c, at, &e) == 0;
    if (!ok)
        return;
    struct rt_arena *a = &ld->deck->arena;
    e.prefix = rt_arena_strndup(a, c->field[C_PREFIX], c->len[C_PREFIX]);
    e.rate_text = rt_arena_strndup(a, c->field[C_RATE], c->len[C_RATE]);
    if (e.from_len > 0)
        e.from_prefix =
            rt_arena_strndup(a, c->field[C_FROM_PREFIX], e.from_len);
    if (e.prefix == NULL || e.rate_text == NULL || e.from_prefix == NULL ||
        rt_deck_add_entry(ld, &e) != 0)
        rt_deck_error(ld, at, CDR_E_NOMEM, NULL, NULL, 0, "out of memory");
}

static void
tap(void *ctx, const void *p, size_t n)
{
    cdr_digest_update(ctx, p, n);
}

/* Every row of an open list: entries, or problems at their lines; the
 * reading stops where the deck's files pass RT_DECK_MAX_BYTES. */
static void
read_rows(struct rt_csv *c, struct cdr_csv_reader *r)
{
    struct cdr_csv_row row;
    struct cdr_diag d;
    int rc, first = 1;
    uint64_t before = c->ld->bytes;
    while ((rc = cdr_csv_reader_next(r, &row, &d)) == 1) {
        c->ld->bytes = before + cdr_csv_reader_offset(r);
        if (c->ld->bytes > RT_DECK_MAX_BYTES) {
            rt_deck_error(c->ld, (struct rt_pos){c->file, row.line, 0},
                          CDR_E_LIMIT, NULL, NULL, 0,
                          "the deck's files hold more than %ld bytes",
                          RT_DECK_MAX_BYTES);
            return;
        }
        if (first && (first = 0, take_header(c, &row)))
            continue;
        if (take_row(c, &row) == 0)
            rt_csv_row_entry(c);
    }
    if (rc < 0)
        rt_deck_error(c->ld, (struct rt_pos){c->file, d.line, 0}, d.code, NULL,
                      NULL, 0, "malformed CSV: %s", d.message);
}

/* A list is loaded once: named again (by alias or by hand) it would add
 * every entry twice, and a list named a hundred times takes the memory of
 * a hundred.  The same path, or the same file through another path, is a
 * deck error.  0 the first time, -1 after. */
static int
named_before(struct rt_deck_loader *ld, struct rt_pos pos, const char *path)
{
    char real[RT_CSV_PATH];
    const char *key = realpath(path, real) != NULL ? real : path;
    for (size_t i = 0; i < ld->n_lists; i++) {
        if (strcmp(ld->list_paths[i], key) != 0)
            continue;
        rt_deck_error(ld, pos, CDR_E_DECK, "csv", path, strlen(path),
                      "csv list named twice (also at line %ld)",
                      ld->lists[i].line);
        return -1;
    }
    const char *copy = rt_arena_strndup(&ld->deck->arena, key, strlen(key));
    if (copy == NULL ||
        cdr_array_grow((void **)&ld->lists, &ld->cap_lists, ld->n_lists + 1,
                       sizeof *ld->lists, 8) != 0 ||
        cdr_array_grow((void **)&ld->list_paths, &ld->cap_paths,
                       ld->n_lists + 1, sizeof *ld->list_paths, 8) != 0)
        return 0; /* no memory to remember it: load it all the same */
    ld->lists[ld->n_lists] = pos;
    ld->list_paths[ld->n_lists++] = copy;
    return 0;
}

void
rt_deck_load_csv(struct rt_deck_loader *ld, struct rt_pos pos,
                 enum rt_service service, const char *name, size_t n)
{
    char path[RT_CSV_PATH];
    size_t dl = name[0] == '/' ? 0 : strlen(ld->dir);
    if (n == 0 || memchr(name, '\0', n) != NULL || dl + n >= sizeof path) {
        rt_deck_error(ld, pos, CDR_E_DECK, "csv", name, n,
                      "invalid csv file name");
        return;
    }
    memcpy(path, ld->dir, dl);
    memcpy(path + dl, name, n);
    path[dl + n] = '\0';
    if (named_before(ld, pos, path) != 0)
        return;

    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        rt_deck_error(ld, pos, CDR_E_IO, "csv", path, strlen(path),
                      "cannot open csv file: %s", strerror(errno));
        return;
    }
    struct cdr_diag d;
    struct cdr_csv_reader *r = NULL;
    struct cdr_csv_limits lim = {RT_DECK_MAX_DESCRIPTION, RT_CSV_MAX_ROW};
    struct rt_csv *c = calloc(1, sizeof *c);
    struct cdr_digest *dg = cdr_digest_new();
    if (c == NULL || dg == NULL ||
        (c->file = rt_arena_strndup(&ld->deck->arena, path, strlen(path))) ==
            NULL ||
        cdr_csv_reader_open_stream(&r, f, c->file, lim, &d) != 0) {
        rt_deck_error(ld, pos, CDR_E_NOMEM, NULL, NULL, 0, "out of memory");
    } else {
        c->ld = ld;
        c->service = service;
        for (int col = 0; col < C__COUNT; col++)
            c->col[col] = -1;
        cdr_csv_reader_set_chunk_size(r, rt_deck_csv_chunk);
        cdr_csv_reader_set_tap(r, tap, dg);
        read_rows(c, r);
        char hex[CDR_DIGEST_HEX];
        if (cdr_digest_final(dg, hex, NULL) == 0)
            rt_deck_digest_line(ld, name, n, hex);
        else
            ld->manifest_oom = 1;
    }
    cdr_csv_reader_close(r);
    fclose(f);
    cdr_digest_free(dg);
    free(c);
}

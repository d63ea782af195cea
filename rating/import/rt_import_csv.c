/*
 * A CSV price list: a header row naming Country, Description, Prefixes,
 * Price and, optionally, Origination Prefixes (names matched as every
 * header of the project: any case, only letters and digits count), then
 * one row per destination.  A Prefixes cell holds one or more prefixes
 * separated by commas and/or spaces.  The file names no currency: the
 * caller requires --currency.
 *
 * Any other column is refused, not ignored: a misspelt "Origination
 * Prefixes" would otherwise price every origin alike.
 */
#include "rating/import/rt_import_int.h"

#include "cdr/csv/cdr_csv_reader.h"

#include <stdio.h>
#include <string.h>

/* A Prefixes cell may list hundreds of prefixes (a country's mobiles). */
#define RT_IMPORT_MAX_FIELD ((size_t)1 << 20)
#define RT_IMPORT_MAX_ROW ((size_t)4 << 20)

enum {
    K_COUNTRY,
    K_DESCRIPTION,
    K_PREFIXES,
    K_PRICE,
    K_ORIGINS,
    K__COUNT,
};
static const char *const k_names[K__COUNT] = {
    "Country", "Description", "Prefixes", "Price", "Origination Prefixes",
};

struct rt_csv_list {
    struct rt_import *im;
    size_t file;
    int col[K__COUNT]; /* field index, -1 absent */
    size_t ncols;
    struct rt_import_item item;
    int nomem;
};

static int
column_of(const char *normalised)
{
    for (int k = 0; k < K__COUNT; k++) {
        char n[32];
        cdr_csv_normalise_name(k_names[k], strlen(k_names[k]), n, sizeof n);
        if (strcmp(n, normalised) == 0)
            return k;
    }
    return -1;
}

/* The header: every column known, each once, Prefixes and Price there.
 * 0 when the rows can be read, -1 when they cannot. */
static int
take_header(struct rt_csv_list *c, const struct cdr_csv_row *row)
{
    c->ncols = row->nfields;
    size_t twice = cdr_csv_map_header(row, column_of, c->col, K__COUNT);
    for (size_t i = 0; i < row->nfields; i++) {
        char n[64];
        struct cdr_slice f = row->field[i];
        if (cdr_csv_normalise_name(f.p, f.n, n, sizeof n) >= sizeof n ||
            column_of(n) < 0)
            rt_import_problem(c->im, c->file, row->line, 0, NULL, f.p, f.n,
                              "unknown column (known: Country, Description, "
                              "Prefixes, Price, Origination Prefixes)");
    }
    if (twice > 0)
        rt_import_problem(c->im, c->file, row->line, 0, NULL,
                          row->field[twice - 1].p, row->field[twice - 1].n,
                          "column named twice");
    int ok = 1;
    for (int k = K_PREFIXES; k <= K_PRICE; k++) {
        if (c->col[k] < 0) {
            rt_import_problem(c->im, c->file, row->line, 0, k_names[k], NULL, 0,
                              "the header has no %s column", k_names[k]);
            ok = 0;
        }
    }
    return ok ? 0 : -1;
}

/* Column k of the row, spaces and tabs around it dropped; empty when the
 * header has no such column or the row stops before it. */
static struct cdr_slice
cell(const struct rt_csv_list *c, const struct cdr_csv_row *row, int k)
{
    struct cdr_slice s = {"", 0};
    int i = c->col[k];
    if (i < 0 || (size_t)i >= row->nfields)
        return s;
    s = row->field[i];
    return cdr_slice_trim(s);
}

static int
is_separator(char ch)
{
    return ch == ',' || ch == ' ' || ch == '\t';
}

/* The prefixes of a cell, each checked (every bad one listed).  0 or -1. */
static int
split_prefixes(struct rt_csv_list *c, long line, int k, struct cdr_slice s,
               struct rt_import_prefixes *out)
{
    int ok = 1;
    size_t i = 0, found = 0;
    while (i < s.n) {
        while (i < s.n && is_separator(s.p[i]))
            i++;
        size_t start = i;
        while (i < s.n && !is_separator(s.p[i]))
            i++;
        if (i == start)
            break;
        char digits[RT_PREFIX_MAX + 1];
        const char *why;
        found++;
        if (rt_import_prefix(s.p + start, i - start, digits, &why) != 0) {
            rt_import_problem(c->im, c->file, line, 0, k_names[k], s.p + start,
                              i - start, "%s", why);
            ok = 0;
        } else if (rt_import_prefixes_add(out, digits) != 0) {
            c->nomem = 1;
        }
    }
    if (found == 0) {
        rt_import_problem(c->im, c->file, line, 0, k_names[k], NULL, 0,
                          "no prefix");
        ok = 0;
    }
    return ok ? 0 : -1;
}

/* Origination Prefixes: empty or ALL is every origin. */
static int
row_origins(struct rt_csv_list *c, const struct cdr_csv_row *row)
{
    struct cdr_slice o = cell(c, row, K_ORIGINS);
    if (o.n == 0 || (o.n == 3 && memcmp(o.p, "ALL", 3) == 0))
        return 0;
    return split_prefixes(c, row->line, K_ORIGINS, o, &c->item.orig);
}

/* "Country - Description", for the reviewer. */
static void
row_description(struct rt_csv_list *c, const struct cdr_csv_row *row)
{
    struct cdr_slice country = cell(c, row, K_COUNTRY);
    struct cdr_slice desc = cell(c, row, K_DESCRIPTION);
    char raw[2 * RT_DECK_MAX_DESCRIPTION + 4];
    int cn =
        (int)(country.n < RT_DECK_MAX_DESCRIPTION ? country.n
                                                  : RT_DECK_MAX_DESCRIPTION);
    int dn = (int)(desc.n < RT_DECK_MAX_DESCRIPTION ? desc.n
                                                    : RT_DECK_MAX_DESCRIPTION);
    snprintf(raw, sizeof raw, "%.*s%s%.*s", cn, country.p,
             cn > 0 && dn > 0 ? " - " : "", dn, desc.p);
    rt_import_clean(raw, strlen(raw), c->item.desc, sizeof c->item.desc);
}

static void
take_row(struct rt_csv_list *c, const struct cdr_csv_row *row)
{
    if (row->nfields > c->ncols) {
        rt_import_problem(c->im, c->file, row->line, 0, NULL, NULL, 0,
                          "%zu fields, the header has %zu", row->nfields,
                          c->ncols);
        return;
    }
    if (row->too_long) {
        rt_import_problem(c->im, c->file, row->line, 0, NULL, NULL, 0,
                          "field longer than %zu bytes", RT_IMPORT_MAX_FIELD);
        return;
    }
    struct rt_import_item *it = &c->item;
    rt_import_item_reset(it);
    it->line = row->line;
    it->where = k_names[K_PREFIXES];
    const char *why;
    struct cdr_slice price = cell(c, row, K_PRICE);
    int ok = split_prefixes(c, row->line, K_PREFIXES, cell(c, row, K_PREFIXES),
                            &it->dest) == 0;
    ok &= row_origins(c, row) == 0;
    if (rt_import_price(price.p, price.n, &it->rate_nano, &why) != 0) {
        rt_import_problem(c->im, c->file, row->line, 0, k_names[K_PRICE],
                          price.p, price.n, "%s", why);
        ok = 0;
    }
    if (!ok)
        return;
    it->rate = price.p;
    it->rate_len = price.n;
    row_description(c, row);
    if (rt_import_add_item(c->im, c->file, it) != 0)
        c->nomem = 1;
}

/* Every row; 0, or the reader's I/O or memory error (with d).  Malformed
 * CSV is a problem of the list, like any other. */
static int
read_rows(struct rt_csv_list *c, struct cdr_csv_reader *r, struct cdr_diag *d)
{
    struct cdr_csv_row row;
    int rc, header = 0;
    while ((rc = cdr_csv_reader_next(r, &row, d)) == 1 && !c->nomem) {
        if (!header) {
            header = 1;
            if (take_header(c, &row) != 0)
                return 0;
            continue;
        }
        take_row(c, &row);
    }
    if (rc == CDR_E_CSV)
        rt_import_problem(c->im, c->file, d->line, 0, NULL, NULL, 0,
                          "malformed CSV: %s", d->message);
    else if (rc < 0)
        return rc;
    if (!header && rc == 0)
        rt_import_problem(c->im, c->file, 0, 0, NULL, NULL, 0,
                          "no header row (Country, Description, Prefixes, "
                          "Price)");
    return 0;
}

int
rt_import_read_csv(struct rt_import *im, size_t file, const char *path,
                   struct cdr_diag *d)
{
    struct cdr_csv_reader *r = NULL;
    struct cdr_csv_limits lim = {RT_IMPORT_MAX_FIELD, RT_IMPORT_MAX_ROW};
    int rc = cdr_csv_reader_open(&r, path, NULL, lim, d);
    if (rc != 0)
        return rc;
    struct rt_csv_list c;
    memset(&c, 0, sizeof c);
    c.im = im;
    c.file = file;
    rc = read_rows(&c, r, d);
    cdr_csv_reader_close(r);
    rt_import_item_free(&c.item);
    if (rc == 0 && c.nomem)
        rc = cdr_diag_set(d, CDR_E_NOMEM, NULL, NULL, 0, NULL);
    return rc;
}

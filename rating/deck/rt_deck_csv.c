/*
 * csv: price lists (prefix,rate[,effective_from,effective_to,increment]),
 * read with libcsv in strict mode.  libcsv reports no positions, so line
 * feeds are counted in both callbacks (inside quoted fields too); blank
 * lines and a header row (first field "prefix") are skipped.
 */
#include "rating/deck/rt_deck_int.h"

#include <csv.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define RT_CSV_FIELDS 5
#define RT_CSV_PATH 4096

#define RT_CSV_BUF 65536

size_t rt_deck_csv_chunk = RT_CSV_BUF;

static const char *const rt_csv_names[RT_CSV_FIELDS] = {
    "prefix", "rate", "effective_from", "effective_to", "increment",
};

struct rt_csv {
    struct rt_deck_loader *ld;
    enum rt_service service;
    const char *file; /* arena */
    long line;        /* current physical line, 1-based */
    long row_line;    /* line the current row started on */
    size_t nfields;   /* fields seen in the current row */
    int too_long;     /* a field beyond RT_DECK_MAX_TEXT */
    int seen_row;     /* a non-blank row has been handled */
    char field[RT_CSV_FIELDS][RT_DECK_MAX_TEXT + 1];
    size_t len[RT_CSV_FIELDS];
};

static void
rt_csv_field(void *data, size_t n, void *priv)
{
    struct rt_csv *c = priv;
    const char *s = data;
    for (size_t i = 0; i < n; i++) /* quoted line feeds */
        c->line += s[i] == '\n';
    if (c->nfields < RT_CSV_FIELDS) {
        if (n > RT_DECK_MAX_TEXT) {
            c->too_long = 1;
            n = 0;
        }
        if (n > 0)
            memcpy(c->field[c->nfields], s, n);
        c->field[c->nfields][n] = '\0';
        c->len[c->nfields] = n;
    }
    c->nfields++;
}

static void
rt_csv_row_entry(struct rt_csv *c)
{
    struct rt_deck_loader *ld = c->ld;
    struct rt_pos at = {c->file, c->row_line, 0};
    int ok = 1;

    if (c->nfields < 2 || c->nfields > RT_CSV_FIELDS) {
        rt_deck_error(ld, at, CDR_E_DECK, NULL, NULL, 0,
                      "expected 2 to 5 fields (prefix,rate[,effective_from,"
                      "effective_to,increment]), got %zu",
                      c->nfields);
        return;
    }
    if (c->too_long) {
        rt_deck_error(ld, at, CDR_E_DECK, NULL, NULL, 0,
                      "field longer than %d characters", RT_DECK_MAX_TEXT);
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

    if (rt_deck_check_prefix(ld, at, "prefix", c->field[0], c->len[0]) != 0)
        ok = 0;
    if (rt_deck_check_rate(ld, at, c->field[1], c->len[1], &e.rate_nano) != 0)
        ok = 0;
    /* optional columns may be empty */
    if (c->nfields > 2 && c->len[2] > 0 &&
        rt_deck_check_date(ld, at, rt_csv_names[2], c->field[2], c->len[2],
                           &e.from) != 0)
        ok = 0;
    if (c->nfields > 3 && c->len[3] > 0 &&
        rt_deck_check_date(ld, at, rt_csv_names[3], c->field[3], c->len[3],
                           &e.to) != 0)
        ok = 0;
    if (ok && e.to <= e.from) {
        rt_deck_error(ld, at, CDR_E_DECK, "effective_to", c->field[3],
                      c->len[3], "effective_to must be after effective_from");
        ok = 0;
    }
    if (c->nfields > 4 && c->len[4] > 0) {
        if (rt_deck_check_increment(ld, at, c->field[4], c->len[4], &e.inc) !=
            0)
            ok = 0;
        e.has_inc = 1;
    }
    if (!ok)
        return;
    struct rt_arena *a = &ld->deck->arena;
    e.prefix = rt_arena_strndup(a, c->field[0], c->len[0]);
    e.rate_text = rt_arena_strndup(a, c->field[1], c->len[1]);
    if (e.prefix == NULL || e.rate_text == NULL ||
        rt_deck_add_entry(ld, &e) != 0)
        rt_deck_error(ld, at, CDR_E_NOMEM, NULL, NULL, 0, "out of memory");
}

static void
rt_csv_row(int term, void *priv)
{
    struct rt_csv *c = priv;
    if (c->nfields > 0) {
        int header = !c->seen_row && c->len[0] == 6 &&
                     strcasecmp(c->field[0], "prefix") == 0;
        c->seen_row = 1;
        if (!header)
            rt_csv_row_entry(c);
    }
    c->nfields = 0;
    c->too_long = 0;
    if (term == '\n')
        c->line++;
    c->row_line = c->line;
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

    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        rt_deck_error(ld, pos, CDR_E_IO, "csv", path, strlen(path),
                      "cannot open csv file: %s", strerror(errno));
        return;
    }
    struct rt_csv *c = calloc(1, sizeof *c);
    struct csv_parser p;
    int csv_ok =
        c != NULL && csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_REPALL_NL |
                                      CSV_APPEND_NULL) == 0;
    if (c == NULL || !csv_ok ||
        (c->file = rt_arena_strndup(&ld->deck->arena, path, strlen(path))) ==
            NULL) {
        rt_deck_error(ld, pos, CDR_E_NOMEM, NULL, NULL, 0, "out of memory");
        if (csv_ok)
            csv_free(&p);
        free(c);
        fclose(f);
        return;
    }
    c->ld = ld;
    c->service = service;
    c->line = c->row_line = 1;

    char buf[RT_CSV_BUF];
    size_t chunk = rt_deck_csv_chunk;
    if (chunk == 0 || chunk > sizeof buf)
        chunk = sizeof buf;
    size_t got;
    int failed = 0;
    while (!failed && (got = fread(buf, 1, chunk, f)) > 0) {
        if (csv_parse(&p, buf, got, rt_csv_field, rt_csv_row, c) != got)
            failed = 1;
    }
    if (!failed && ferror(f)) {
        rt_deck_error(ld, (struct rt_pos){c->file, c->line, 0}, CDR_E_IO, NULL,
                      NULL, 0, "read error: %s", strerror(errno));
    } else if (failed || csv_fini(&p, rt_csv_field, rt_csv_row, c) != 0) {
        rt_deck_error(ld, (struct rt_pos){c->file, c->line, 0}, CDR_E_DECK,
                      NULL, NULL, 0, "malformed CSV: %s",
                      csv_strerror(csv_error(&p)));
    }
    csv_free(&p);
    free(c);
    fclose(f);
}

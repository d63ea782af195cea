/*
 * csv: price lists (prefix,rate[,effective_from,effective_to,increment]),
 * read with the project's CSV reader.  Blank lines and a header row (first
 * field "prefix") are skipped.  The bytes read are hashed on the way for
 * the deck's sha256.
 */
#include "rating/deck/rt_deck_int.h"

#include "cdr/csv/cdr_csv_reader.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define RT_CSV_FIELDS 5
#define RT_CSV_PATH 4096
#define RT_CSV_MAX_ROW 4096 /* bytes of one row: five short fields */

size_t rt_deck_csv_chunk = 65536;

static const char *const rt_csv_names[RT_CSV_FIELDS] = {
    "prefix", "rate", "effective_from", "effective_to", "increment",
};

/* One row, its fields as NUL-terminated copies. */
struct rt_csv {
    struct rt_deck_loader *ld;
    enum rt_service service;
    const char *file; /* arena */
    long row_line;    /* line the row starts on */
    size_t nfields;
    int too_long; /* a field beyond RT_DECK_MAX_TEXT */
    char field[RT_CSV_FIELDS][RT_DECK_MAX_TEXT + 1];
    size_t len[RT_CSV_FIELDS];
};

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
tap(void *ctx, const void *p, size_t n)
{
    cdr_digest_update(ctx, p, n);
}

static void
take_row(struct rt_csv *c, const struct cdr_csv_row *row)
{
    c->row_line = row->line;
    c->nfields = row->nfields;
    c->too_long = row->too_long != 0;
    for (size_t i = 0; i < row->nfields && i < RT_CSV_FIELDS; i++) {
        size_t n = row->field[i].n > RT_DECK_MAX_TEXT ? 0 : row->field[i].n;
        memcpy(c->field[i], row->field[i].p, n);
        c->field[i][n] = '\0';
        c->len[i] = n;
    }
}

/* Every row of an open list: entries, or problems at their lines. */
static void
read_rows(struct rt_csv *c, struct cdr_csv_reader *r)
{
    struct cdr_csv_row row;
    struct cdr_diag d;
    int rc, first = 1;
    while ((rc = cdr_csv_reader_next(r, &row, &d)) == 1) {
        take_row(c, &row);
        if (first && c->len[0] == 6 && strcasecmp(c->field[0], "prefix") == 0) {
            first = 0;
            continue; /* the header */
        }
        first = 0;
        rt_csv_row_entry(c);
    }
    if (rc < 0)
        rt_deck_error(c->ld, (struct rt_pos){c->file, d.line, 0}, d.code, NULL,
                      NULL, 0, "malformed CSV: %s", d.message);
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
    struct cdr_diag d;
    struct cdr_csv_reader *r = NULL;
    struct cdr_csv_limits lim = {RT_DECK_MAX_TEXT, RT_CSV_MAX_ROW};
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

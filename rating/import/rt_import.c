/*
 * The merged list of an import: every file's termination entries, kept in
 * reading order until rt_import_finish sorts them by prefix and from_prefix,
 * which puts the prices given for one (prefix, from_prefix) side by side:
 * equal ones become one entry, different ones a problem naming both.
 */
#include "rating/import/rt_import_int.h"

#include "cdr/util/cdr_array.h"
#include "cdr/util/cdr_ascii.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
rt_import_new(struct rt_import **out, const char *currency,
              struct cdr_diag_list *errs)
{
    *out = NULL;
    if (currency != NULL &&
        (strlen(currency) != 3 || !cdr_is_alpha(currency[0]) ||
         !cdr_is_alpha(currency[1]) || !cdr_is_alpha(currency[2])))
        return CDR_E_USAGE;
    struct rt_import *im = calloc(1, sizeof *im);
    if (im == NULL)
        return CDR_E_NOMEM;
    im->probs = (struct cdr_problems){errs, 0, RT_IMPORT_MAX_ERRORS};
    im->currency_file = SIZE_MAX;
    for (int i = 0; currency != NULL && i < 3; i++)
        im->currency[i] = (char)(currency[i] & ~0x20); /* upper case */
    *out = im;
    return 0;
}

void
rt_import_free(struct rt_import *im)
{
    if (im == NULL)
        return;
    free(im->text.p);
    free(im->e);
    free(im->notes);
    free(im->files);
    free(im);
}

void
rt_import_problem(struct rt_import *im, size_t file, long line, long column,
                  const char *field, const char *value, size_t vlen,
                  const char *fmt, ...)
{
    const char *path = file < im->n_files
                           ? rt_import_text_at(im, im->files[file].path)
                           : "--import-prices";
    va_list ap;
    va_start(ap, fmt);
    cdr_problemv(&im->probs, path, line, column, CDR_E_DECK, field, value, vlen,
                 fmt, ap);
    va_end(ap);
}

size_t
rt_import_text_add(struct rt_import *im, const char *s, size_t n)
{
    struct rt_import_text *t = &im->text;
    if (n >= SIZE_MAX - t->n - 1 ||
        cdr_array_grow((void **)&t->p, &t->cap, t->n + n + 1, 1, 4096) != 0)
        return RT_TEXT_NONE;
    size_t off = t->n;
    if (n > 0)
        memcpy(t->p + off, s, n);
    t->p[off + n] = '\0';
    t->n += n + 1;
    return off;
}

const char *
rt_import_text_at(const struct rt_import *im, size_t off)
{
    return im->text.p + off;
}

/* One entry; 0, or CDR_E_NOMEM.  Past the deck's bound, one problem and
 * nothing more (a deck could not load the result). */
static int
add_entry(struct rt_import *im, const struct rt_import_entry *e)
{
    if (im->n >= RT_DECK_MAX_ENTRIES) {
        if (!im->full)
            rt_import_problem(im, e->file, e->line, 0, NULL, NULL, 0,
                              "more than %d termination prices in all: more "
                              "than a deck holds",
                              RT_DECK_MAX_ENTRIES);
        im->full = 1;
        return 0;
    }
    if (cdr_array_grow((void **)&im->e, &im->cap, im->n + 1, sizeof *im->e,
                       256) != 0)
        return CDR_E_NOMEM;
    im->e[im->n] = *e;
    im->e[im->n++].seq = im->seq++;
    return 0;
}

int
rt_import_add_item(struct rt_import *im, size_t file,
                   const struct rt_import_item *item)
{
    struct rt_import_entry e;
    memset(&e, 0, sizeof e);
    e.rate_nano = item->rate_nano;
    e.rate = rt_import_text_add(im, item->rate, item->rate_len);
    e.desc = rt_import_text_add(im, item->desc, strlen(item->desc));
    e.where = rt_import_text_add(im, item->where, strlen(item->where));
    if (e.rate == RT_TEXT_NONE || e.desc == RT_TEXT_NONE ||
        e.where == RT_TEXT_NONE)
        return CDR_E_NOMEM;
    e.file = file;
    e.line = item->line;
    size_t n_orig = item->orig.n > 0 ? item->orig.n : 1;
    for (size_t d = 0; d < item->dest.n; d++) {
        for (size_t o = 0; o < n_orig; o++) {
            memcpy(e.prefix, item->dest.p[d], sizeof e.prefix);
            if (item->orig.n > 0)
                memcpy(e.from, item->orig.p[o], sizeof e.from);
            if (add_entry(im, &e) != 0)
                return CDR_E_NOMEM;
            im->files[file].entries++;
        }
    }
    return 0;
}

int
rt_import_add_note(struct rt_import *im, size_t file, const char *type,
                   size_t type_len, const char *rate, size_t rate_len)
{
    struct rt_import_note nt = {file, rt_import_text_add(im, type, type_len),
                                rt_import_text_add(im, rate, rate_len)};
    if (nt.type == RT_TEXT_NONE || nt.rate == RT_TEXT_NONE ||
        cdr_array_grow((void **)&im->notes, &im->cap_notes, im->n_notes + 1,
                       sizeof *im->notes, 16) != 0)
        return CDR_E_NOMEM;
    im->notes[im->n_notes++] = nt;
    im->files[file].notes++;
    return 0;
}

int
rt_import_take_currency(struct rt_import *im, size_t file, const char *field,
                        const char *s, size_t n)
{
    if (n != 3 || !cdr_is_alpha(s[0]) || !cdr_is_alpha(s[1]) ||
        !cdr_is_alpha(s[2])) {
        rt_import_problem(im, file, 0, 0, field, s, n,
                          "a currency is 3 letters (USD)");
        return -1;
    }
    char up[4] = {(char)(s[0] & ~0x20), (char)(s[1] & ~0x20),
                  (char)(s[2] & ~0x20), '\0'};
    if (im->currency[0] == '\0') {
        memcpy(im->currency, up, sizeof up);
        im->currency_file = file;
        return 0;
    }
    if (memcmp(im->currency, up, 3) == 0)
        return 0;
    /* a deck has one currency: a list in another would be priced wrong */
    if (im->currency_file == SIZE_MAX)
        rt_import_problem(im, file, 0, 0, field, s, n,
                          "currency differs from --currency %s", im->currency);
    else
        rt_import_problem(
            im, file, 0, 0, field, s, n, "currency differs from %s in %s",
            im->currency,
            rt_import_text_at(im, im->files[im->currency_file].path));
    return -1;
}

int
rt_import_sniff(const char *path, enum rt_import_format *fmt,
                struct cdr_diag *d)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        cdr_diag_set(d, CDR_E_IO, NULL, NULL, 0, "cannot open price list: %s",
                     strerror(errno));
        cdr_diag_at(d, path, 0, 0);
        return CDR_E_IO;
    }
    /* the first byte that is not a byte order mark or a space */
    int c = getc(f);
    if (c == 0xef && getc(f) == 0xbb && getc(f) == 0xbf)
        c = getc(f);
    while (c == ' ' || c == '\t' || c == '\r' || c == '\n')
        c = getc(f);
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        cdr_diag_set(d, CDR_E_IO, NULL, NULL, 0, "cannot read price list: %s",
                     strerror(errno));
        cdr_diag_at(d, path, 0, 0);
        return CDR_E_IO;
    }
    /* '[' too: a list of documents is refused with a JSON message, not
     * read as a CSV header */
    *fmt = c == '{' || c == '[' ? RT_IMPORT_JSON : RT_IMPORT_CSV;
    return 0;
}

int
rt_import_read(struct rt_import *im, const char *path,
               enum rt_import_format fmt, struct cdr_diag *d)
{
    struct rt_import_file f = {rt_import_text_add(im, path, strlen(path)),
                               rt_import_text_add(im, "", 0), 0, 0};
    if (f.path == RT_TEXT_NONE || f.label == RT_TEXT_NONE ||
        cdr_array_grow((void **)&im->files, &im->cap_files, im->n_files + 1,
                       sizeof *im->files, 8) != 0)
        return cdr_diag_set(d, CDR_E_NOMEM, NULL, NULL, 0, NULL);
    size_t file = im->n_files++;
    im->files[file] = f;
    return fmt == RT_IMPORT_JSON ? rt_import_read_json(im, file, path, d)
                                 : rt_import_read_csv(im, file, path, d);
}

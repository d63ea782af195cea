/*
 * The end of the reading: entries sorted by prefix then from_prefix (the
 * order termination.csv is written in), and the prices of one (prefix,
 * from_prefix) compared.  The same price twice, from two countries' files
 * or one list naming a prefix twice, is one entry; two prices are a
 * problem naming both places, since no rule could say which the carrier
 * charges.
 */
#include "rating/import/rt_import_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
by_key_then_order(const void *a, const void *b)
{
    const struct rt_import_entry *x = a, *y = b;
    int c = strcmp(x->prefix, y->prefix);
    if (c == 0)
        c = strcmp(x->from, y->from);
    if (c == 0)
        c = x->seq < y->seq ? -1 : x->seq > y->seq;
    return c;
}

/* "us.json: terminating_prefix_prices[3]" or "ca.csv:4". */
static void
place_of(const struct rt_import *im, const struct rt_import_entry *e, char *buf,
         size_t size)
{
    const char *path = rt_import_text_at(im, im->files[e->file].path);
    if (e->line > 0)
        snprintf(buf, size, "%s:%ld", path, e->line);
    else
        snprintf(buf, size, "%s: %s", path, rt_import_text_at(im, e->where));
}

static void
conflict(struct rt_import *im, const struct rt_import_entry *first,
         const struct rt_import_entry *e)
{
    char at[CDR_DIAG_FILE + 80];
    place_of(im, first, at, sizeof at);
    const char *rate = rt_import_text_at(im, e->rate);
    rt_import_problem(im, e->file, e->line, 0, rt_import_text_at(im, e->where),
                      rate, strlen(rate),
                      "prefix %s%s%s has two prices: \"%s\" at %s and here",
                      e->prefix, e->from[0] ? " from " : "", e->from,
                      rt_import_text_at(im, first->rate), at);
}

/* Keep the first entry of each (prefix, from_prefix); the ones after it
 * are merged when their price is the same, else a problem. */
static void
merge_sorted(struct rt_import *im)
{
    size_t kept = 0;
    for (size_t i = 0; i < im->n; i++) {
        const struct rt_import_entry *e = &im->e[i];
        struct rt_import_entry *last = kept > 0 ? &im->e[kept - 1] : NULL;
        if (last == NULL || strcmp(last->prefix, e->prefix) != 0 ||
            strcmp(last->from, e->from) != 0) {
            im->e[kept++] = *e;
            continue;
        }
        if (last->rate_nano == e->rate_nano)
            im->merged++;
        else
            conflict(im, last, e);
    }
    im->n = kept;
}

void
rt_import_finish(struct rt_import *im)
{
    if (im->n > 1)
        qsort(im->e, im->n, sizeof *im->e, by_key_then_order);
    merge_sorted(im);
    if (im->n == 0 && im->probs.count == 0)
        rt_import_problem(im, SIZE_MAX, 0, 0, NULL, NULL, 0,
                          "no termination prices in the files given");
    cdr_problems_finish(&im->probs, "--import-prices");
}

size_t
rt_import_problems(const struct rt_import *im)
{
    return im->probs.count;
}

size_t
rt_import_entries(const struct rt_import *im)
{
    return im->n;
}

size_t
rt_import_merged(const struct rt_import *im)
{
    return im->merged;
}

size_t
rt_import_notes(const struct rt_import *im)
{
    return im->n_notes;
}

const char *
rt_import_currency(const struct rt_import *im)
{
    return im->currency;
}

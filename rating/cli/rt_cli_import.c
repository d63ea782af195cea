#include "rating/cli/rt_cli_import.h"

#include "cdr/util/cdr_ascii.h"
#include "rating/cli/rt_cli.h"
#include "rating/deck/rt_deck.h"
#include "rating/import/rt_import.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
usage(const char *msg)
{
    fprintf(stderr, "referee-rate: %s\nTry referee-rate --help.\n", msg);
    return RT_EXIT_USAGE;
}

/* The deck's name by default: the output folder's own name, so that
 * imports into decks/twilio-2026-06 and decks/twilio-2026-07 differ in
 * every charge row. */
static const char *
default_name(const char *out, char *buf, size_t size)
{
    size_t n = strlen(out);
    while (n > 1 && out[n - 1] == '/')
        n--;
    size_t start = n;
    while (start > 0 && out[start - 1] != '/')
        start--;
    snprintf(buf, size, "%.*s", (int)(n - start), out + start);
    return buf;
}

int
rt_cli_import_check(struct rt_cli_import *o, int rating_opts)
{
    if (!o->on) {
        if (o->currency != NULL || o->deck_name != NULL)
            return usage("--currency and --deck-name go with --import-prices");
        return 0;
    }
    if (rating_opts)
        return usage("--import-prices takes only --out, --currency, "
                     "--deck-name and --quiet");
    if (o->out == NULL)
        return usage("--import-prices needs --out DIR");
    if (o->nfiles == 0)
        return usage("--import-prices needs at least one price list");
    const char *c = o->currency;
    if (c != NULL && (strlen(c) != 3 || !cdr_is_alpha(c[0]) ||
                      !cdr_is_alpha(c[1]) || !cdr_is_alpha(c[2]))) {
        fprintf(stderr, "referee-rate: --currency: not 3 letters: \"%s\"\n", c);
        return RT_EXIT_USAGE;
    }
    char buf[4096];
    const char *name =
        o->deck_name ? o->deck_name : default_name(o->out, buf, sizeof buf);
    if (!rt_deck_name_ok(name, strlen(name))) {
        fprintf(stderr,
                "referee-rate: %s \"%s\" is not a deck name (1 to 64 "
                "printable characters, no spaces)%s\n",
                o->deck_name ? "--deck-name" : "the name of --out", name,
                o->deck_name ? "" : ": give --deck-name");
        return RT_EXIT_USAGE;
    }
    return 0;
}

static void
print_list(struct cdr_diag_list *errs)
{
    char buf[2048];
    for (size_t i = 0; i < errs->count; i++) {
        cdr_diag_format(&errs->items[i], buf, sizeof buf);
        fprintf(stderr, "%s\n", buf);
    }
    if (errs->dropped > 0)
        fprintf(stderr,
                "referee-rate: %zu more problems not listed (out of "
                "memory)\n",
                errs->dropped);
}

static int
io_error(const struct cdr_diag *d)
{
    char buf[2048];
    cdr_diag_format(d, buf, sizeof buf);
    fprintf(stderr, "%s\nreferee-rate: nothing written\n", buf);
    return RT_EXIT_FAILURE;
}

/* Every file's format; a CSV list names no currency: --currency is then
 * required (exit 64 before anything is read). */
static int
sniff_all(const struct rt_cli_import *o, enum rt_import_format *fmt)
{
    struct cdr_diag d;
    for (int i = 0; i < o->nfiles; i++) {
        cdr_diag_clear(&d);
        if (rt_import_sniff(o->files[i], &fmt[i], &d) != 0)
            return io_error(&d);
        if (fmt[i] == RT_IMPORT_CSV && o->currency == NULL) {
            fprintf(stderr,
                    "referee-rate: %s is a CSV price list, which names no "
                    "currency: give --currency (USD)\n",
                    o->files[i]);
            return RT_EXIT_USAGE;
        }
    }
    return 0;
}

/* Read every file; problems are listed, I/O stops. */
static int
read_all(struct rt_import *im, const struct rt_cli_import *o,
         const enum rt_import_format *fmt)
{
    struct cdr_diag d;
    for (int i = 0; i < o->nfiles; i++) {
        cdr_diag_clear(&d);
        if (rt_import_read(im, o->files[i], fmt[i], &d) != 0)
            return io_error(&d);
    }
    rt_import_finish(im);
    return 0;
}

static void
report(const struct rt_import *im, const struct rt_cli_import *o,
       const struct rt_import_written *w)
{
    if (rt_import_notes(im) > 0) /* said even with --quiet: no price yet */
        fprintf(stderr,
                "referee-rate: %zu origination prices are by number type, "
                "which a deck cannot key by prefix: they are comments at "
                "the end of %s, not prices; add origination entries for "
                "your numbers\n",
                rt_import_notes(im), w->deck_path);
    if (o->quiet)
        return;
    fprintf(stderr,
            "referee-rate: %s: ok: %zu termination prices in %s (%zu "
            "duplicates merged), deck sha256 %s; review it before use\n",
            w->deck_path, w->entries, rt_import_currency(im),
            rt_import_merged(im), w->sha256);
}

/* Problems of the inputs, or of the deck they made: exit 2. */
static int
problems(struct cdr_diag_list *errs, size_t count)
{
    print_list(errs);
    fprintf(stderr, "referee-rate: %zu problem%s; nothing written\n", count,
            count == 1 ? "" : "s");
    return RT_EXIT_DECK;
}

static int
import(const struct rt_cli_import *o, const enum rt_import_format *fmt,
       struct cdr_diag_list *errs)
{
    struct rt_import *im = NULL;
    if (rt_import_new(&im, o->currency, errs) != 0) {
        fprintf(stderr, "referee-rate: out of memory\n");
        return RT_EXIT_FAILURE;
    }
    char buf[4096];
    const char *name =
        o->deck_name ? o->deck_name : default_name(o->out, buf, sizeof buf);
    struct rt_import_written w;
    struct cdr_diag d;
    int rc = read_all(im, o, fmt);
    if (rc == 0 && rt_import_problems(im) > 0)
        rc = problems(errs, rt_import_problems(im));
    if (rc == 0) {
        int wrc = rt_import_write(im, o->out, name, &w, errs, &d);
        if (wrc == CDR_E_DECK)
            rc = problems(errs, errs->count);
        else if (wrc != 0)
            rc = io_error(&d);
        else
            report(im, o, &w);
    }
    rt_import_free(im);
    return rc;
}

int
rt_cli_import_run(const struct rt_cli_import *o)
{
    struct cdr_diag d;
    cdr_diag_clear(&d);
    enum rt_import_format *fmt = calloc((size_t)o->nfiles, sizeof *fmt);
    if (fmt == NULL) {
        fprintf(stderr, "referee-rate: out of memory\n");
        return RT_EXIT_FAILURE;
    }
    int rc = sniff_all(o, fmt);
    /* an existing output is refused before anything is read */
    if (rc == 0 && rt_import_check_out(o->out, &d) != 0)
        rc = io_error(&d);
    struct cdr_diag_list errs;
    cdr_diag_list_init(&errs);
    if (rc == 0)
        rc = import(o, fmt, &errs);
    cdr_diag_list_free(&errs);
    free(fmt);
    return rc;
}

/*
 * Fuzz the importer's two readers (the pricing API's JSON, CSV price
 * lists) and what it writes: the input is one price list, optionally
 * followed by a line "#next" and a second one (so merging and conflicts
 * are reached), each sniffed as the command line does.  An import without
 * problems must write a deck that rt_deck_load accepts with every entry
 * (rt_import_write checks it; a failure aborts), and the text made for
 * reviewers must always be one clean line of UTF-8.
 */
#include "rating/import/rt_import.h"
#include "rating/import/rt_import_int.h"

#include "cdr/util/cdr_utf8.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fz_dir[64];
static char fz_file[2][128];
static char fz_out[128];

static void
fz_remove_out(void)
{
    char p[256];
    snprintf(p, sizeof p, "%s/deck.yaml", fz_out);
    unlink(p);
    snprintf(p, sizeof p, "%s/termination.csv", fz_out);
    unlink(p);
    rmdir(fz_out);
}

static void
fz_cleanup(void)
{
    fz_remove_out();
    unlink(fz_file[0]);
    unlink(fz_file[1]);
    rmdir(fz_dir);
}

static void
fz_setup(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(fz_dir, sizeof fz_dir, "%s/fuzz_rt_import_XXXXXX",
             tmp ? tmp : "/tmp");
    if (mkdtemp(fz_dir) == NULL)
        abort();
    snprintf(fz_file[0], sizeof fz_file[0], "%s/a", fz_dir);
    snprintf(fz_file[1], sizeof fz_file[1], "%s/b", fz_dir);
    snprintf(fz_out, sizeof fz_out, "%s/out", fz_dir);
    atexit(fz_cleanup);
}

static int
fz_write(const char *path, const uint8_t *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return -1;
    size_t w = n ? fwrite(p, 1, n, f) : 0;
    return (fclose(f) == 0 && w == n) ? 0 : -1;
}

/* Reviewer text: valid UTF-8 without a control character or a line
 * break YAML knows, nothing at either end to trim. */
static void
fz_check_clean(const uint8_t *data, size_t size)
{
    char out[RT_DECK_MAX_DESCRIPTION + 1];
    size_t n = rt_import_clean((const char *)data, size, out, sizeof out);
    const unsigned char *u = (const unsigned char *)out;
    if (n >= sizeof out || strlen(out) != n ||
        (n > 0 && (out[0] == ' ' || out[n - 1] == ' ')))
        abort();
    for (size_t i = 0; i < n;) {
        size_t len = cdr_utf8_len(u + i, n - i);
        if (len == 0 || (len == 1 && (u[i] < 0x20 || u[i] == 0x7f)) ||
            (len == 2 && u[i] == 0xc2 && u[i + 1] == 0x85) ||
            (len == 3 && u[i] == 0xe2 && u[i + 1] == 0x80 &&
             (u[i + 2] == 0xa8 || u[i + 2] == 0xa9)))
            abort();
        i += len;
    }
}

/* Where "\n#next\n" starts, or size. */
static size_t
fz_split(const uint8_t *data, size_t size)
{
    static const char sep[] = "\n#next\n";
    for (size_t i = 0; i + sizeof sep - 1 <= size; i++)
        if (memcmp(data + i, sep, sizeof sep - 1) == 0)
            return i;
    return size;
}

static void
fz_write_deck(const struct rt_import *im, struct cdr_diag_list *errs)
{
    struct rt_import_written w;
    struct cdr_diag d;
    fz_remove_out();
    int rc = rt_import_write(im, fz_out, "fuzz", &w, errs, &d);
    if (rc != 0 || w.entries != rt_import_entries(im)) {
        for (size_t i = 0; i < errs->count; i++) {
            char buf[1024];
            cdr_diag_format(&errs->items[i], buf, sizeof buf);
            fprintf(stderr, "%s\n", buf);
        }
        abort(); /* a clean import that makes a deck that does not load */
    }
    fz_remove_out();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (fz_dir[0] == '\0')
        fz_setup();
    fz_check_clean(data, size);
    size_t at = fz_split(data, size);
    size_t nfiles = at < size ? 2 : 1;
    if (fz_write(fz_file[0], data, at) != 0 ||
        (nfiles == 2 &&
         fz_write(fz_file[1], data + at + 7, size - at - 7) != 0))
        abort();

    struct cdr_diag_list errs;
    cdr_diag_list_init(&errs);
    struct rt_import *im = NULL;
    if (rt_import_new(&im, "USD", &errs) != 0)
        abort();
    for (size_t i = 0; i < nfiles; i++) {
        enum rt_import_format fmt;
        struct cdr_diag d;
        cdr_diag_clear(&d);
        if (rt_import_sniff(fz_file[i], &fmt, &d) != 0 ||
            rt_import_read(im, fz_file[i], fmt, &d) != 0)
            abort(); /* the files are there and small */
    }
    rt_import_finish(im);
    if (rt_import_problems(im) == 0)
        fz_write_deck(im, &errs);
    else if (errs.count == 0)
        abort(); /* problems counted but none listed */
    for (size_t i = 0; i < errs.count; i++) {
        char buf[1024];
        cdr_diag_format(&errs.items[i], buf, sizeof buf);
    }
    rt_import_free(im);
    cdr_diag_list_free(&errs);
    return 0;
}

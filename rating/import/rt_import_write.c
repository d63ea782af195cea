/*
 * The output of an import: DIR/deck.yaml and DIR/termination.csv, which
 * a person reviews before any call is rated with them.
 *
 * Both are written by the atomic writer into a private folder inside DIR
 * (.import-XXXXXX), where the deck is loaded with rt_deck_load exactly as
 * --check-deck would: what is published is known to load.  Then each is
 * linked into DIR: link(2) never replaces a file, so an existing deck or
 * list, even one made a moment ago by someone else, stays as it was.
 * termination.csv goes first: a reader who sees deck.yaml finds its list.
 */
#include "rating/import/rt_import_int.h"

#include "cdr/csv/cdr_csv_writer.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define RT_IMPORT_DECK "deck.yaml"
#define RT_IMPORT_LIST "termination.csv"

/* dir/name into buf.  0, or CDR_E_IO when it does not fit. */
static int
join(char *buf, size_t size, const char *dir, const char *name,
     struct cdr_diag *d)
{
    int n = snprintf(buf, size, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= size) {
        cdr_diag_set(d, CDR_E_IO, NULL, NULL, 0, "path too long");
        cdr_diag_at(d, dir, 0, 0);
        return CDR_E_IO;
    }
    return 0;
}

static int
refuse_existing(const char *path, struct cdr_diag *d)
{
    cdr_diag_set(d, CDR_E_IO, NULL, NULL, 0,
                 "already exists: --import-prices never replaces a file "
                 "(remove it, or give another --out)");
    cdr_diag_at(d, path, 0, 0);
    return CDR_E_IO;
}

int
rt_import_check_out(const char *dir, struct cdr_diag *d)
{
    static const char *const names[] = {RT_IMPORT_DECK, RT_IMPORT_LIST};
    char path[PATH_MAX];
    struct stat st;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (join(path, sizeof path, dir, names[i], d) != 0)
            return CDR_E_IO;
        if (lstat(path, &st) == 0)
            return refuse_existing(path, d);
        if (errno != ENOENT)
            return cdr_diag_io(d, path, "cannot look at the output", errno);
    }
    return 0;
}

/* dir, made when missing (its parent must exist).  *made: it was. */
static int
make_dir(const char *dir, int *made, struct cdr_diag *d)
{
    struct stat st;
    *made = mkdir(dir, 0777) == 0;
    if (*made)
        return 0;
    if (errno != EEXIST)
        return cdr_diag_io(d, dir, "cannot create the output folder", errno);
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return cdr_diag_io(d, dir, "the output is not a folder", ENOTDIR);
    return 0;
}

static int
write_list(const struct rt_import *im, const char *path, struct cdr_diag *d)
{
    struct cdr_writer *w;
    int rc = cdr_writer_open(&w, path, d);
    if (rc != 0)
        return rc;
    static const char *const head[] = {"prefix", "from_prefix", "rate",
                                       "description"};
    for (size_t i = 0; i < sizeof head / sizeof head[0]; i++)
        cdr_writer_field_str(w, head[i]);
    cdr_writer_end_row(w);
    for (size_t i = 0; i < im->n; i++) {
        const struct rt_import_entry *e = &im->e[i];
        cdr_writer_field_str(w, e->prefix);
        cdr_writer_field_str(w, e->from);
        cdr_writer_field_str(w, rt_import_text_at(im, e->rate));
        cdr_writer_field_str(w, rt_import_text_at(im, e->desc));
        cdr_writer_end_row(w);
    }
    rc = cdr_writer_commit(w, d); /* every write error shows here */
    cdr_writer_free(w);
    return rc;
}

static int
write_deck(const struct rt_import *im, const char *path, const char *name,
           struct cdr_diag *d)
{
    struct cdr_writer *w;
    int rc = cdr_writer_open(&w, path, d);
    if (rc != 0)
        return rc;
    rc = rt_import_write_deck(im, w, name);
    if (rc == CDR_E_NOMEM)
        cdr_diag_set(d, rc, NULL, NULL, 0, NULL);
    if (rc == 0 || rc == CDR_E_IO)
        rc = cdr_writer_commit(w, d);
    cdr_writer_free(w);
    return rc;
}

/* The written deck, loaded as --check-deck loads it, with every entry. */
static int
verify(const struct rt_import *im, const char *deck_path,
       struct rt_import_written *out, struct cdr_diag_list *errs)
{
    struct rt_deck *deck = NULL;
    if (rt_deck_load(&deck, deck_path, errs) != 0)
        return CDR_E_DECK;
    int rc = 0;
    out->entries = rt_deck_entries(deck);
    if (out->entries != im->n ||
        strcmp(rt_deck_currency(deck), im->currency) != 0) {
        struct cdr_diag p;
        cdr_diag_clear(&p);
        cdr_diag_set(&p, CDR_E_DECK, NULL, NULL, 0,
                     "the written deck loads %zu prices in %s, not %zu in %s",
                     out->entries, rt_deck_currency(deck), im->n, im->currency);
        cdr_diag_at(&p, deck_path, 0, 0);
        cdr_diag_list_add(errs, &p);
        rc = CDR_E_DECK;
    }
    snprintf(out->sha256, sizeof out->sha256, "%s", rt_deck_sha256(deck));
    rt_deck_free(deck);
    return rc;
}

static int
sync_dir(const char *dir, struct cdr_diag *d)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0 || fsync(fd) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return cdr_diag_io(d, dir, "cannot sync the output folder", e);
    }
    close(fd);
    return 0;
}

/* Link the list, then the deck, into dir; on failure neither stays. */
static int
publish(const char *stage, const char *dir, struct rt_import_written *w,
        struct cdr_diag *d)
{
    char from[PATH_MAX];
    if (join(from, sizeof from, stage, RT_IMPORT_LIST, d) != 0)
        return CDR_E_IO;
    if (link(from, w->csv_path) != 0)
        return errno == EEXIST
                   ? refuse_existing(w->csv_path, d)
                   : cdr_diag_io(d, w->csv_path, "cannot link", errno);
    int rc = join(from, sizeof from, stage, RT_IMPORT_DECK, d);
    if (rc == 0 && link(from, w->deck_path) != 0) {
        int e = errno;
        rc = e == EEXIST ? refuse_existing(w->deck_path, d)
                         : cdr_diag_io(d, w->deck_path, "cannot link", e);
    }
    if (rc != 0) {
        unlink(w->csv_path);
        return rc;
    }
    return sync_dir(dir, d);
}

static void
remove_stage(const char *stage)
{
    char p[PATH_MAX];
    struct cdr_diag d; /* stage/name fitted when it was written */
    if (join(p, sizeof p, stage, RT_IMPORT_LIST, &d) == 0)
        unlink(p);
    if (join(p, sizeof p, stage, RT_IMPORT_DECK, &d) == 0)
        unlink(p);
    rmdir(stage);
}

/* Write both files in stage, check the deck, publish them. */
static int
write_staged(const struct rt_import *im, const char *stage, const char *dir,
             const char *name, struct rt_import_written *w,
             struct cdr_diag_list *errs, struct cdr_diag *d)
{
    char list[PATH_MAX], deck[PATH_MAX];
    int rc = join(list, sizeof list, stage, RT_IMPORT_LIST, d);
    if (rc == 0)
        rc = join(deck, sizeof deck, stage, RT_IMPORT_DECK, d);
    if (rc == 0)
        rc = write_list(im, list, d);
    if (rc == 0)
        rc = write_deck(im, deck, name, d);
    if (rc == 0)
        rc = verify(im, deck, w, errs);
    if (rc == 0)
        rc = publish(stage, dir, w, d);
    return rc;
}

int
rt_import_write(const struct rt_import *im, const char *dir,
                const char *deck_name, struct rt_import_written *w,
                struct cdr_diag_list *errs, struct cdr_diag *d)
{
    memset(w, 0, sizeof *w);
    cdr_diag_clear(d);
    char stage[PATH_MAX];
    int made = 0;
    int rc = join(w->deck_path, sizeof w->deck_path, dir, RT_IMPORT_DECK, d);
    if (rc == 0)
        rc = join(w->csv_path, sizeof w->csv_path, dir, RT_IMPORT_LIST, d);
    if (rc == 0)
        rc = join(stage, sizeof stage, dir, ".import-XXXXXX", d);
    if (rc == 0)
        rc = make_dir(dir, &made, d);
    if (rc == 0)
        rc = rt_import_check_out(dir, d);
    if (rc != 0) {
        if (made)
            rmdir(dir);
        return rc;
    }
    if (mkdtemp(stage) == NULL) {
        rc = cdr_diag_io(d, stage, "cannot create a folder for writing", errno);
    } else {
        rc = write_staged(im, stage, dir, deck_name, w, errs, d);
        remove_stage(stage);
    }
    if (rc != 0 && made)
        rmdir(dir);
    return rc;
}

/*
 * Inside the importer: shared by rt_import.c (the merged list),
 * rt_import_field.c (prefixes, prices, text), rt_import_json.c and
 * rt_import_csv.c (the two readers), rt_import_deck.c and
 * rt_import_write.c (the output).  Not for other modules.
 */
#ifndef REFEREE_RT_IMPORT_INT_H
#define REFEREE_RT_IMPORT_INT_H

#include "rating/deck/rt_deck.h"
#include "rating/deck/rt_prefix.h"
#include "rating/import/rt_import.h"

#include <stddef.h>
#include <stdint.h>

#define RT_IMPORT_MAX_ERRORS 100
/* One country's document is a few hundred kilobytes; a bound keeps a
 * wrong file from taking the machine. */
#define RT_IMPORT_MAX_JSON ((size_t)64 << 20)

/* Text that lives as long as the import, by offset: the store grows. */
struct rt_import_text {
    char *p;
    size_t n, cap;
};
#define RT_TEXT_NONE ((size_t)-1)

/* One termination price: a (prefix, from_prefix) and where it came from. */
struct rt_import_entry {
    char prefix[RT_PREFIX_MAX + 1];
    char from[RT_PREFIX_MAX + 1]; /* "": every origin */
    int64_t rate_nano;
    size_t rate;  /* text: the price as the list writes it */
    size_t desc;  /* text: for the reviewer */
    size_t where; /* text: the JSON item's path, or the CSV column */
    size_t file;  /* index into files */
    long line;    /* the CSV row's line; 0 in JSON */
    size_t seq;   /* reading order: the first of equal duplicates stays */
};

/* An origination price by number type: a comment in the deck. */
struct rt_import_note {
    size_t file;
    size_t type, rate; /* text */
};

struct rt_import_file {
    size_t path;  /* text: as given, for diagnostics */
    size_t label; /* text: "United States (US)" from a JSON document */
    size_t entries, notes;
};

struct rt_import {
    struct cdr_problems probs; /* into the caller's list */
    char currency[4];          /* "" until known */
    size_t currency_file;      /* the file that gave it; SIZE_MAX: option */
    struct rt_import_text text;
    struct rt_import_entry *e; /* owned */
    size_t n, cap;
    struct rt_import_note *notes; /* owned */
    size_t n_notes, cap_notes;
    struct rt_import_file *files; /* owned */
    size_t n_files, cap_files;
    size_t seq, merged;
    int full; /* RT_DECK_MAX_ENTRIES passed: reported once */
};

/* A list of prefixes being read (digits only, each NUL-terminated). */
struct rt_import_prefixes {
    char (*p)[RT_PREFIX_MAX + 1]; /* owned */
    size_t n, cap;
};

/* One priced line of a list (a JSON item, a CSV row), checked whole
 * before it adds anything.  No origin prefixes: every origin. */
struct rt_import_item {
    long line;         /* CSV */
    const char *where; /* the JSON item's path, or the CSV column */
    struct rt_import_prefixes dest, orig;
    const char *rate; /* borrowed from the reader */
    size_t rate_len;
    int64_t rate_nano;
    char desc[RT_DECK_MAX_DESCRIPTION + 1];
};

/* ---- rt_import.c ------------------------------------------------------ */

/* A problem of file (an index; SIZE_MAX: no file) at line and column (0:
 * none), in field, about value (may be NULL). */
void rt_import_problem(struct rt_import *im, size_t file, long line,
                       long column, const char *field, const char *value,
                       size_t vlen, const char *fmt, ...)
    __attribute__((format(printf, 8, 9)));

/* Copy s[0..n) in, NUL-terminated: its offset, or RT_TEXT_NONE (no
 * memory).  rt_import_text_at gives it back (valid until the next add). */
size_t rt_import_text_add(struct rt_import *im, const char *s, size_t n);
const char *rt_import_text_at(const struct rt_import *im, size_t off);

/* The entries of item: each destination prefix, from each origin prefix.
 * 0, or CDR_E_NOMEM. */
int rt_import_add_item(struct rt_import *im, size_t file,
                       const struct rt_import_item *item);
/* An origination price by number type.  0, or CDR_E_NOMEM. */
int rt_import_add_note(struct rt_import *im, size_t file, const char *type,
                       size_t type_len, const char *rate, size_t rate_len);

/* A document's currency (field names it in problems): 3 letters, the
 * same as --currency and as every other document's.  0 or -1 (listed). */
int rt_import_take_currency(struct rt_import *im, size_t file,
                            const char *field, const char *s, size_t n);

/* ---- rt_import_field.c ------------------------------------------------ */

/*
 * A prefix as the lists write it: a leading '+' dropped, then 1 to
 * RT_PREFIX_MAX digits, into out.  0, or -1 with *why ("prefix must be
 * digits ...").
 */
int rt_import_prefix(const char *s, size_t n, char out[RT_PREFIX_MAX + 1],
                     const char **why);

/* A price as the deck takes a rate: an exact decimal, not negative, at
 * most 9 places and RT_DECK_MAX_TEXT characters.  0 with *nano, or -1
 * with *why. */
int rt_import_price(const char *s, size_t n, int64_t *nano, const char **why);

/*
 * Text for a reviewer (a description, a comment): invalid UTF-8 becomes
 * U+FFFD, control characters and the other line breaks YAML knows
 * (U+0085, U+2028, U+2029) a space, spaces at either end dropped, cut at
 * a character boundary to fit outsz - 1 bytes.  Its length; out is
 * NUL-terminated.
 */
size_t rt_import_clean(const char *s, size_t n, char *out, size_t outsz);

/* Append a prefix.  0, or CDR_E_NOMEM. */
int rt_import_prefixes_add(struct rt_import_prefixes *l,
                           const char digits[RT_PREFIX_MAX + 1]);
void rt_import_item_reset(struct rt_import_item *it);
void rt_import_item_free(struct rt_import_item *it);

/* ---- the readers -------------------------------------------------------
 * file is the index of the file in im.  0, or CDR_E_IO / CDR_E_NOMEM
 * with d (a problem of the content is listed, not returned). */
int rt_import_read_json(struct rt_import *im, size_t file, const char *path,
                        struct cdr_diag *d);
int rt_import_read_csv(struct rt_import *im, size_t file, const char *path,
                       struct cdr_diag *d);

/* ---- rt_import_deck.c: deck.yaml, to the writer w -------------------- */
struct cdr_writer;
int rt_import_write_deck(const struct rt_import *im, struct cdr_writer *w,
                         const char *deck_name);

#endif

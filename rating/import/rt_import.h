/*
 * referee-rate --import-prices (rating/README.md, "Importing the carrier's
 * price lists"): the carrier's published trunking prices, as its pricing
 * API's JSON (one country per document) or as a CSV of Country,
 * Description, Prefixes, Price, merged into one termination list and
 * written as a rate deck for a person to review.
 *
 * Use: rt_import_new, rt_import_read for each file, rt_import_finish,
 * then, when rt_import_problems is 0, rt_import_write.  Every problem of
 * the inputs' content (a price that is a JSON number, a bad prefix, two
 * prices for one prefix ...) goes to the caller's list, with its file and
 * its line (CSV) or JSON path; nothing is written while there is one.
 */
#ifndef REFEREE_RT_IMPORT_H
#define REFEREE_RT_IMPORT_H

#include "cdr/util/cdr_diag.h"

#include <stddef.h>

struct rt_import;

enum rt_import_format {
    RT_IMPORT_JSON = 1,
    RT_IMPORT_CSV = 2,
};

/*
 * What path holds, from its first byte that is not a space or a UTF-8
 * byte order mark: '{' (or '[') is the pricing API's JSON, anything
 * else a CSV price list.  0, or CDR_E_IO with d naming the file.
 */
int rt_import_sniff(const char *path, enum rt_import_format *fmt,
                    struct cdr_diag *d);

/*
 * currency: the --currency given (3 letters, any case), or NULL: then the
 * JSON documents' price_unit gives it.  Problems are appended to errs (at
 * most 100 kept, all counted).  0, CDR_E_NOMEM, or CDR_E_USAGE when
 * currency is not 3 letters.
 */
int rt_import_new(struct rt_import **out, const char *currency,
                  struct cdr_diag_list *errs);
void rt_import_free(struct rt_import *im);

/*
 * Read one price list.  Problems of its content are listed (they make the
 * import fail, exit status 2) and 0 is returned; a file that cannot be
 * opened or read returns CDR_E_IO (CDR_E_NOMEM) with d.  path is copied.
 */
int rt_import_read(struct rt_import *im, const char *path,
                   enum rt_import_format fmt, struct cdr_diag *d);

/* After the last file: the entries sorted by prefix then from_prefix, one
 * for the same price given twice, a problem for two prices; a problem
 * when nothing was imported; the "too many problems" line. */
void rt_import_finish(struct rt_import *im);

/* Problems found so far (all of them, not only those kept). */
size_t rt_import_problems(const struct rt_import *im);

/* After finish: termination entries, duplicates merged into them, and
 * origination prices by number type (written as comments). */
size_t rt_import_entries(const struct rt_import *im);
size_t rt_import_merged(const struct rt_import *im);
size_t rt_import_notes(const struct rt_import *im);
/* "" until a file or --currency gave it. */
const char *rt_import_currency(const struct rt_import *im);

/* What rt_import_write made. */
struct rt_import_written {
    char deck_path[4096], csv_path[4096];
    char sha256[65]; /* the deck's, as --check-deck and a run compute it */
    size_t entries;  /* as the deck loaded them */
};

/*
 * Write dir/deck.yaml (named deck_name, with the currency, default
 * decimals, rounding and increment for the user to check, the
 * origination prices as comments) and dir/termination.csv (prefix,
 * from_prefix, rate, description), both through the atomic writer in a
 * private folder inside dir, load that deck with rt_deck_load, and only
 * then link both into dir.  dir is created if missing (not its parent);
 * an existing deck.yaml or termination.csv there is never replaced.
 * 0 with *w; CDR_E_IO / CDR_E_NOMEM with d; CDR_E_DECK when the written
 * deck does not load (its problems in errs).  Nothing is left in dir
 * but both files, or neither.
 */
int rt_import_write(const struct rt_import *im, const char *dir,
                    const char *deck_name, struct rt_import_written *w,
                    struct cdr_diag_list *errs, struct cdr_diag *d);

/* 0 when neither dir/deck.yaml nor dir/termination.csv exists (dir may
 * not exist yet); CDR_E_IO with d naming the one that does.  To refuse
 * early, before the inputs are read; rt_import_write checks again. */
int rt_import_check_out(const char *dir, struct cdr_diag *d);

#endif

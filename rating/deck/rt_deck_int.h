/*
 * Inside the rate deck: shared by rt_deck.c (storage, index, lookup),
 * rt_deck_yaml.c (the YAML loader) and rt_deck_csv.c (csv: price lists).
 * Not for other modules.
 */
#ifndef REFEREE_RT_DECK_INTERNAL_H
#define REFEREE_RT_DECK_INTERNAL_H

#include "cdr/util/cdr_digest.h"
#include "cdr/util/cdr_yaml.h"
#include "rating/deck/rt_deck.h"
#include "rating/deck/rt_prefix.h"

#include <stddef.h>
#include <stdint.h>

#define RT_DECK_MAX_ERRORS 100       /* kept in the list; more are counted */
#define RT_DECK_MAX_YAML (16L << 20) /* bytes; big lists go in csv files */
/* What a deck may load in all: its files' bytes (a list named many
 * times, or a huge one, must fail, not take the machine).  The bounds a
 * writer of decks needs too are in rt_deck.h. */
#define RT_DECK_MAX_BYTES (512L << 20)

/* Strings and small arrays that live as long as the deck. */
struct rt_arena_block;
struct rt_arena {
    struct rt_arena_block *head; /* owned */
};
void *rt_arena_alloc(struct rt_arena *a, size_t size);
/* NUL-terminated copy of s[0..n), or NULL (no memory). */
char *rt_arena_strndup(struct rt_arena *a, const char *s, size_t n);
void rt_arena_free(struct rt_arena *a);

/* Where a problem is; file borrowed. */
struct rt_pos {
    const char *file;
    long line, column;
};

/* Which fees an entry (or the deck) sets itself. */
enum {
    RT_FEE_CONNECT = 1,
    RT_FEE_MINIMUM = 2,
    RT_FEE_FREE = 4,
};

struct rt_entry {
    int64_t rate_nano;
    int64_t from, to;        /* [from, to); INT64_MIN / INT64_MAX if open */
    const char *rate_text;   /* arena */
    const char *prefix;      /* arena; "sip" for the class */
    const char *from_prefix; /* arena; "" when none */
    size_t from_len;
    struct rt_increment inc; /* the entry's, else the deck's once loaded */
    int has_inc;
    struct rt_fees fees; /* the entry's (has_fees), else the deck's once
                            loaded */
    unsigned has_fees;   /* RT_FEE_* */
    int is_sip;
    enum rt_service service;
    int32_t next;     /* next entry of the same trie node, -1 */
    const char *file; /* arena; where it was written */
    long line, column;
};

struct rt_deck {
    const char *name;
    char currency[4];
    int decimals;
    enum rt_rounding rounding;
    struct rt_increment increment;
    struct rt_fees fees; /* the deck's defaults */

    struct rt_entry *entries; /* owned */
    size_t n_entries, cap_entries;
    struct rt_prefix trie[2]; /* by service - 1 */
    int32_t sip_head[2];

    struct cdr_trunks trunks;

    /* The files it was loaded from, as `sha256sum` lists them ("<sha256>
     * <name>" lines, in load order: the YAML, then each csv: list), and
     * the SHA-256 of that text. */
    char *manifest; /* arena */
    char sha256[CDR_DIGEST_HEX];

    struct rt_arena arena;
};

struct rt_deck_loader {
    struct rt_deck *deck;
    struct cdr_problems probs; /* into the caller's list */
    struct cdr_yaml y;
    const char *yaml_file; /* arena */
    const char *dir;       /* arena; the YAML's folder, "" for cwd */
    struct rt_pos fees_at; /* where the deck's own fees are written */
    unsigned deck_fees;    /* RT_FEE_*: set at the top level */
    int decimals_ok;       /* decimals was read: fees can be checked */
    char *manifest;        /* owned while loading */
    size_t manifest_len, manifest_cap;
    int manifest_oom;
    uint64_t bytes;          /* read so far, the YAML and every list */
    struct rt_pos *lists;    /* owned: where each csv: list is named */
    const char **list_paths; /* owned array of arena paths */
    size_t n_lists, cap_lists, cap_paths;
    int too_many_entries; /* reported once */
};

/* Append a problem (up to RT_DECK_MAX_ERRORS kept). value may be NULL. */
void rt_deck_error(struct rt_deck_loader *ld, struct rt_pos pos, int code,
                   const char *field, const char *value, size_t vlen,
                   const char *fmt, ...) __attribute__((format(printf, 7, 8)));

/* Field checks shared by YAML and csv entries; each reports its own error
 * and returns 0 or -1. */
int rt_deck_check_prefix(struct rt_deck_loader *ld, struct rt_pos pos,
                         const char *field, const char *s, size_t n);
int rt_deck_check_rate(struct rt_deck_loader *ld, struct rt_pos pos,
                       const char *s, size_t n, int64_t *out);
int rt_deck_check_date(struct rt_deck_loader *ld, struct rt_pos pos,
                       const char *field, const char *s, size_t n,
                       int64_t *out);
int rt_deck_check_increment(struct rt_deck_loader *ld, struct rt_pos pos,
                            const char *s, size_t n, struct rt_increment *out);
/* connect_fee or minimum_charge (which: RT_FEE_CONNECT / RT_FEE_MINIMUM):
 * an exact, non-negative decimal, set in fees and flagged in *has.  Its
 * places are checked against the deck's decimals when the deck is whole
 * (rt_deck_finish), as decimals may come later in the file. */
int rt_deck_check_fee(struct rt_deck_loader *ld, struct rt_pos pos,
                      unsigned which, const char *s, size_t n,
                      struct rt_fees *fees, unsigned *has);
/* free_seconds: whole seconds, at most a call's longest duration. */
int rt_deck_check_free_seconds(struct rt_deck_loader *ld, struct rt_pos pos,
                               const char *s, size_t n, struct rt_fees *fees,
                               unsigned *has);

/* Copy e in (strings must already be in the arena).  0 or CDR_E_NOMEM. */
int rt_deck_add_entry(struct rt_deck_loader *ld, const struct rt_entry *e);

/* Load `name` (relative to the YAML's folder) as entries of `service`;
 * problems reported against the csv file, or at pos when it cannot be read. */
void rt_deck_load_csv(struct rt_deck_loader *ld, struct rt_pos pos,
                      enum rt_service service, const char *name, size_t n);

/* Bytes handed to libcsv per csv_parse call (default and maximum 65536);
 * tests lower it to check that results do not depend on chunking. */
extern size_t rt_deck_csv_chunk;

/* After parsing: check fees against the deck's decimals, link entries
 * into the tries, fill default increments and fees, check overlapping
 * ranges. */
void rt_deck_finish(struct rt_deck_loader *ld);

/* A file the deck loaded, for its digest: its sha256 and its name
 * (relative to the YAML's folder, as the deck names it). */
void rt_deck_digest_line(struct rt_deck_loader *ld, const char *name,
                         size_t name_len, const char hex[CDR_DIGEST_HEX]);
/* The same for bytes held in memory. */
void rt_deck_digest_add(struct rt_deck_loader *ld, const char *name,
                        const char *p, size_t n);
/* The deck's sha256, of the manifest: 0 or -1 (no memory). */
int rt_deck_digest_finish(struct rt_deck_loader *ld);

#endif

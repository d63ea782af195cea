/*
 * One hash function and one hash map, for every table of both programs
 * that needs one: the run's sids and the children waiting for a parent
 * (cdr/link), the capture's dialogs, TCP streams and pending transfers.
 *
 * The map is open addressing with linear probing.  A slot holds an entry's
 * full 64-bit hash beside its pointer, so a probe passes over every other
 * key without loading its entry (on a night of millions of calls that load
 * is a cache miss), and growing or removing never needs the key again.
 * Entries and keys are the caller's: the map stores pointers and compares
 * keys through the caller's eq function, only when the hashes are equal.
 */
#ifndef REFEREE_CDR_HASH_H
#define REFEREE_CDR_HASH_H

#include <stddef.h>
#include <stdint.h>

/*
 * The hash of n bytes.  Its values are fixed (the unit test pins some):
 * which child labels a parent when two start in the same second depends
 * on it, and so does the capture's sid for a child whose parent's Call-ID
 * is too long to quote, so a change must be deliberate.
 */
uint64_t cdr_hash(const void *p, size_t n);

struct cdr_hmap_slot {
    uint64_t hash;
    void *entry; /* NULL: empty */
};

struct cdr_hmap {
    struct cdr_hmap_slot *slots; /* owned; cap is a power of two */
    size_t cap, count;
};

/* Does entry have this key (n bytes)? */
typedef int (*cdr_hmap_eq_fn)(const void *entry, const void *key, size_t n);

/* An empty map sized for about hint entries.  0 or -1 (no memory). */
int cdr_hmap_init(struct cdr_hmap *m, size_t hint);
/* Frees the slots, not the entries.  A zeroed map is fine. */
void cdr_hmap_free(struct cdr_hmap *m);
/* Room for n entries without growing.  0 or -1 (no memory). */
int cdr_hmap_reserve(struct cdr_hmap *m, size_t n);

/* The entry with this key, or NULL.  h is cdr_hash of the key, or any
 * other hash the caller uses for every entry of this map. */
void *cdr_hmap_get(const struct cdr_hmap *m, uint64_t h, const void *key,
                   size_t n, cdr_hmap_eq_fn eq);

/*
 * Add entry (not NULL) under key unless one with the key is there: 0
 * (added), 1 (*found is the entry already there; nothing changed) or -1
 * (no memory; nothing changed).  found may be NULL.
 */
int cdr_hmap_put(struct cdr_hmap *m, uint64_t h, const void *key, size_t n,
                 cdr_hmap_eq_fn eq, void *entry, void **found);

/* Put entry in the place of the one with key: 0, or -1 if there is none. */
int cdr_hmap_replace(struct cdr_hmap *m, uint64_t h, const void *key, size_t n,
                     cdr_hmap_eq_fn eq, void *entry);

/* Take the entry with key out of the map: it, or NULL if there is none. */
void *cdr_hmap_remove(struct cdr_hmap *m, uint64_t h, const void *key, size_t n,
                      cdr_hmap_eq_fn eq);

/* Every entry, in no particular order: start with *i = 0; NULL at the end.
 * The map must not change during the walk. */
void *cdr_hmap_next(const struct cdr_hmap *m, size_t *i);

/* Bytes the map itself holds (its slots). */
size_t cdr_hmap_memory(const struct cdr_hmap *m);

#endif

#include "cdr/util/cdr_hash.h"

#include <stdlib.h>
#include <string.h>

/* Eight bytes per step (sids are ~34 bytes); a final avalanche so the low
 * bits that pick a slot depend on every byte. */
uint64_t
cdr_hash(const void *data, size_t n)
{
    const char *p = data;
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ (n * 0xff51afd7ed558ccdULL);
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = (h ^ w) * 0xbf58476d1ce4e5b9ULL;
        h ^= h >> 31;
        p += 8;
        n -= 8;
    }
    uint64_t w = 0;
    if (n > 0)
        memcpy(&w, p, n);
    h = (h ^ w) * 0x94d049bb133111ebULL;
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ULL;
    return h ^ (h >> 32);
}

#define MIN_CAP 16

/* Grown before a put would pass 70 % full: probes stay short. */
static int
too_full(size_t count, size_t cap)
{
    return count * 10 >= cap * 7;
}

static int
rehash(struct cdr_hmap *m, size_t ncap)
{
    struct cdr_hmap_slot *ns = calloc(ncap, sizeof *ns);
    if (ns == NULL)
        return -1;
    for (size_t i = 0; i < m->cap; i++) {
        if (m->slots[i].entry == NULL)
            continue;
        size_t j = (size_t)m->slots[i].hash & (ncap - 1);
        while (ns[j].entry != NULL)
            j = (j + 1) & (ncap - 1);
        ns[j] = m->slots[i];
    }
    free(m->slots);
    m->slots = ns;
    m->cap = ncap;
    return 0;
}

int
cdr_hmap_reserve(struct cdr_hmap *m, size_t n)
{
    size_t cap = m->cap ? m->cap : MIN_CAP;
    while (cap < SIZE_MAX / 20 && too_full(n, cap))
        cap *= 2;
    return cap == m->cap ? 0 : rehash(m, cap);
}

int
cdr_hmap_init(struct cdr_hmap *m, size_t hint)
{
    memset(m, 0, sizeof *m);
    return cdr_hmap_reserve(m, hint);
}

void
cdr_hmap_free(struct cdr_hmap *m)
{
    free(m->slots);
    memset(m, 0, sizeof *m);
}

/* The slot holding key, or the empty slot where it would go. */
static size_t
probe(const struct cdr_hmap *m, uint64_t h, const void *key, size_t n,
      cdr_hmap_eq_fn eq)
{
    size_t mask = m->cap - 1;
    size_t i = (size_t)h & mask;
    for (;;) {
        const struct cdr_hmap_slot *s = &m->slots[i];
        if (s->entry == NULL || (s->hash == h && eq(s->entry, key, n)))
            return i;
        i = (i + 1) & mask;
    }
}

void *
cdr_hmap_get(const struct cdr_hmap *m, uint64_t h, const void *key, size_t n,
             cdr_hmap_eq_fn eq)
{
    if (m->cap == 0)
        return NULL;
    return m->slots[probe(m, h, key, n, eq)].entry;
}

int
cdr_hmap_put(struct cdr_hmap *m, uint64_t h, const void *key, size_t n,
             cdr_hmap_eq_fn eq, void *entry, void **found)
{
    if (m->cap == 0 || too_full(m->count + 1, m->cap)) {
        /* Look first: a key already there must not cost a growth. */
        void *old = cdr_hmap_get(m, h, key, n, eq);
        if (old != NULL) {
            if (found != NULL)
                *found = old;
            return 1;
        }
        if (cdr_hmap_reserve(m, m->count + 1) != 0)
            return -1;
    }
    size_t i = probe(m, h, key, n, eq);
    if (m->slots[i].entry != NULL) {
        if (found != NULL)
            *found = m->slots[i].entry;
        return 1;
    }
    m->slots[i].hash = h;
    m->slots[i].entry = entry;
    m->count++;
    return 0;
}

int
cdr_hmap_replace(struct cdr_hmap *m, uint64_t h, const void *key, size_t n,
                 cdr_hmap_eq_fn eq, void *entry)
{
    if (m->cap == 0)
        return -1;
    size_t i = probe(m, h, key, n, eq);
    if (m->slots[i].entry == NULL)
        return -1;
    m->slots[i].entry = entry;
    return 0;
}

void *
cdr_hmap_remove(struct cdr_hmap *m, uint64_t h, const void *key, size_t n,
                cdr_hmap_eq_fn eq)
{
    if (m->cap == 0)
        return NULL;
    size_t mask = m->cap - 1;
    size_t i = probe(m, h, key, n, eq);
    void *entry = m->slots[i].entry;
    if (entry == NULL)
        return NULL;
    /* Backward shift: move later members of the run into the hole when
     * their home slot does not lie (cyclically) after it, so every key
     * stays reachable from its home without tombstones. */
    size_t j = i;
    for (;;) {
        m->slots[i].entry = NULL;
        for (;;) {
            j = (j + 1) & mask;
            if (m->slots[j].entry == NULL) {
                m->count--;
                return entry;
            }
            size_t home = (size_t)m->slots[j].hash & mask;
            /* j may move to i unless home is in (i, j] cyclically */
            if (i <= j ? (home <= i || home > j) : (home <= i && home > j))
                break;
        }
        m->slots[i] = m->slots[j];
        i = j;
    }
}

void *
cdr_hmap_next(const struct cdr_hmap *m, size_t *i)
{
    for (; *i < m->cap; (*i)++) {
        if (m->slots[*i].entry != NULL)
            return m->slots[(*i)++].entry;
    }
    return NULL;
}

size_t
cdr_hmap_memory(const struct cdr_hmap *m)
{
    return m->cap * sizeof *m->slots;
}

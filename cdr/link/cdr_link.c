#include "cdr/link/cdr_link.h"

#include <stdlib.h>
#include <string.h>

/*
 * Every table slot points at something that starts with struct entry_head:
 * a whole cdr_link_call, or a tomb (the sid of a handled child).  Keeping
 * tombs small matters: a night of a million transfers keeps a million of
 * them.
 */
struct entry_head {
    uint64_t hash;
    uint8_t kind;
};

struct tomb {
    uint64_t hash;
    uint8_t kind; /* CDR_LINK_CHILD_DONE */
    uint16_t sid_len;
    char sid[];
};

struct wait_head {
    uint64_t hash;
    const char *key; /* arena copy of the parent sid */
    size_t key_len;
    struct cdr_link_call *head, *tail;
};

struct arena_chunk {
    struct arena_chunk *next;
    size_t used, size;
    char mem[];
};

struct cdr_link {
    uint64_t *slots; /* packed entry_head * + hash tag; linear probing */
    size_t cap, count;
    struct wait_head **wslots;
    size_t wcap, wcount;
    struct wait_head **worder; /* wait heads in creation order */
    size_t worder_cap;
    struct cdr_link_call **calls; /* CDR_LINK_CALL entries in order */
    size_t ncalls, calls_cap;
    struct arena_chunk *arena;
    size_t arena_bytes, waiting_bytes;
};

enum { ARENA_CHUNK = 1 << 20 };

/*
 * A slot packs an entry's address (user-space addresses fit in 48 bits on
 * x86-64 and arm64 Linux; checked on insert) with the top 16 bits of its
 * hash, so a probe passes over almost every other sid without loading its
 * entry: on a night of millions of calls that load is a cache miss.
 */
#define SLOT_ADDR_MASK ((UINT64_C(1) << 48) - 1)

static uint64_t
slot_make(const void *e, uint64_t h)
{
    return (h & ~SLOT_ADDR_MASK) | (uint64_t)(uintptr_t)e;
}

static void *
slot_entry(uint64_t s)
{
    return (void *)(uintptr_t)(s & SLOT_ADDR_MASK);
}

static int
fits_slot(const void *e)
{
    return ((uint64_t)(uintptr_t)e & ~SLOT_ADDR_MASK) == 0;
}

static void *
arena_alloc(struct cdr_link *l, size_t n)
{
    n = (n + 7) & ~(size_t)7;
    struct arena_chunk *c = l->arena;
    if (c == NULL || c->size - c->used < n) {
        size_t size = n > ARENA_CHUNK ? n : ARENA_CHUNK;
        c = malloc(sizeof *c + size);
        if (c == NULL)
            return NULL;
        c->next = l->arena;
        c->used = 0;
        c->size = size;
        l->arena = c;
        l->arena_bytes += sizeof *c + size;
    }
    void *p = c->mem + c->used;
    c->used += n;
    return p;
}

/* Eight bytes per step (sids are ~34 bytes); a final avalanche so the low
 * bits that pick a slot depend on every byte. */
static uint64_t
hash_bytes(const char *p, size_t n)
{
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

static struct cdr_slice
entry_sid(const void *e)
{
    const struct entry_head *h = e;
    if (h->kind == CDR_LINK_CHILD_DONE) {
        const struct tomb *t = e;
        return (struct cdr_slice){t->sid, t->sid_len};
    }
    const struct cdr_link_call *c = e;
    return (struct cdr_slice){c->data, c->len[CDR_COL_SID]};
}

int
cdr_link_new(struct cdr_link **out)
{
    struct cdr_link *l = calloc(1, sizeof *l);
    if (l == NULL)
        return CDR_E_NOMEM;
    l->cap = 1024;
    l->slots = calloc(l->cap, sizeof *l->slots);
    l->wcap = 256;
    l->wslots = calloc(l->wcap, sizeof *l->wslots);
    if (l->slots == NULL || l->wslots == NULL) {
        cdr_link_free(l);
        return CDR_E_NOMEM;
    }
    *out = l;
    return 0;
}

void
cdr_link_free(struct cdr_link *l)
{
    if (l == NULL)
        return;
    for (size_t i = 0; i < l->cap && l->slots != NULL; i++) {
        struct entry_head *h = slot_entry(l->slots[i]);
        if (h != NULL && h->kind == CDR_LINK_CHILD_WAITING)
            free(h);
    }
    free(l->slots);
    free(l->wslots);
    free(l->worder);
    free(l->calls);
    struct arena_chunk *c = l->arena;
    while (c != NULL) {
        struct arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    free(l);
}

/* Slot index holding sid, or the empty slot where it would go. */
static size_t
probe(const uint64_t *slots, size_t cap, uint64_t h, const char *sid, size_t n)
{
    size_t i = (size_t)h & (cap - 1);
    for (;;) {
        uint64_t s = slots[i];
        if (s == 0)
            return i;
        if ((s & ~SLOT_ADDR_MASK) == (h & ~SLOT_ADDR_MASK)) {
            const struct entry_head *e = slot_entry(s);
            if (e->hash == h) {
                struct cdr_slice k = entry_sid(e);
                if (k.n == n && memcmp(k.p, sid, n) == 0)
                    return i;
            }
        }
        i = (i + 1) & (cap - 1);
    }
}

static int
rehash(struct cdr_link *l, size_t ncap)
{
    uint64_t *ns = calloc(ncap, sizeof *ns);
    if (ns == NULL)
        return CDR_E_NOMEM;
    for (size_t i = 0; i < l->cap; i++) {
        uint64_t s = l->slots[i];
        if (s == 0)
            continue;
        const struct entry_head *e = slot_entry(s);
        size_t j = (size_t)e->hash & (ncap - 1);
        while (ns[j] != 0)
            j = (j + 1) & (ncap - 1);
        ns[j] = s;
    }
    free(l->slots);
    l->slots = ns;
    l->cap = ncap;
    return 0;
}

static int
grow(struct cdr_link *l)
{
    if ((l->count + 1) * 10 < l->cap * 7)
        return 0;
    return rehash(l, l->cap * 2);
}

int
cdr_link_reserve(struct cdr_link *l, size_t n)
{
    size_t cap = l->cap;
    while (cap < SIZE_MAX / 20 && n * 10 >= cap * 7)
        cap *= 2;
    return cap == l->cap ? 0 : rehash(l, cap);
}

int
cdr_link_find(const struct cdr_link *l, const char *sid, size_t n,
              struct cdr_link_call **out)
{
    uint64_t h = hash_bytes(sid, n);
    struct entry_head *e =
        slot_entry(l->slots[probe(l->slots, l->cap, h, sid, n)]);
    if (out != NULL)
        *out = (e != NULL && e->kind != CDR_LINK_CHILD_DONE)
                   ? (struct cdr_link_call *)(void *)e
                   : NULL;
    return e == NULL ? 0 : e->kind;
}

static struct wait_head *
wait_head_for(struct cdr_link *l, const char *sid, size_t n, int create)
{
    uint64_t h = hash_bytes(sid, n);
    size_t i = (size_t)h & (l->wcap - 1);
    for (;;) {
        struct wait_head *w = l->wslots[i];
        if (w == NULL)
            break;
        if (w->hash == h && w->key_len == n && memcmp(w->key, sid, n) == 0)
            return w;
        i = (i + 1) & (l->wcap - 1);
    }
    if (!create)
        return NULL;
    if ((l->wcount + 1) * 10 >= l->wcap * 7) {
        size_t ncap = l->wcap * 2;
        struct wait_head **ns = calloc(ncap, sizeof *ns);
        if (ns == NULL)
            return NULL;
        for (size_t k = 0; k < l->wcap; k++) {
            struct wait_head *w = l->wslots[k];
            if (w == NULL)
                continue;
            size_t j = (size_t)w->hash & (ncap - 1);
            while (ns[j] != NULL)
                j = (j + 1) & (ncap - 1);
            ns[j] = w;
        }
        free(l->wslots);
        l->wslots = ns;
        l->wcap = ncap;
        i = (size_t)h & (ncap - 1);
        while (l->wslots[i] != NULL)
            i = (i + 1) & (ncap - 1);
    }
    if (l->wcount == l->worder_cap) {
        size_t nc = l->worder_cap ? l->worder_cap * 2 : 64;
        struct wait_head **no = realloc(l->worder, nc * sizeof *no);
        if (no == NULL)
            return NULL;
        l->worder = no;
        l->worder_cap = nc;
    }
    struct wait_head *w = arena_alloc(l, sizeof *w);
    char *key = arena_alloc(l, n ? n : 1);
    if (w == NULL || key == NULL)
        return NULL;
    memcpy(key, sid, n);
    *w = (struct wait_head){.hash = h, .key = key, .key_len = n};
    l->wslots[i] = w;
    l->worder[l->wcount++] = w;
    return w;
}

/* Text of each column as held in a record (NULL slice: not stored). */
static struct cdr_slice
record_field(const struct cdr_record *r, int col)
{
    switch (col) {
    case CDR_COL_SID: return r->sid;
    case CDR_COL_PARENT_CALL_SID: return r->parent_call_sid;
    case CDR_COL_ACCOUNT_SID: return r->account_sid;
    case CDR_COL_TRUNK_SID: return r->trunk_sid;
    case CDR_COL_FROM: return r->from;
    case CDR_COL_TO: return r->to;
    case CDR_COL_STATUS: return r->status_text;
    case CDR_COL_PRICE: return r->price;
    case CDR_COL_PRICE_UNIT: return r->price_unit;
    case CDR_COL_TRANSFER_TARGET: return r->transfer_target;
    case CDR_COL_TRANSFER_STATUS: return r->transfer_status;
    default: return (struct cdr_slice){NULL, 0};
    }
}

int
cdr_link_add(struct cdr_link *l, const struct cdr_record *rec,
             enum cdr_link_kind kind, uint32_t file_index,
             struct cdr_link_call **out)
{
    *out = NULL;
    if (rec->sid.n > CDR_MAX_SID)
        return CDR_E_TOO_LONG;
    if (grow(l) != 0)
        return CDR_E_NOMEM;
    uint64_t h = hash_bytes(rec->sid.p, rec->sid.n);
    size_t i = probe(l->slots, l->cap, h, rec->sid.p, rec->sid.n);
    struct entry_head *prev = slot_entry(l->slots[i]);
    if (prev != NULL) {
        if (prev->kind != CDR_LINK_CHILD_DONE)
            *out = (struct cdr_link_call *)(void *)prev;
        return CDR_E_DUPLICATE;
    }
    size_t total = 0;
    for (int c = 0; c < CDR_COL__COUNT; c++) {
        size_t n = record_field(rec, c).n;
        if (n > CDR_MAX_FIELD)
            return CDR_E_TOO_LONG;
        total += n;
    }
    struct wait_head *w = NULL;
    if (kind == CDR_LINK_CHILD_WAITING) {
        w = wait_head_for(l, rec->parent_call_sid.p, rec->parent_call_sid.n, 1);
        if (w == NULL)
            return CDR_E_NOMEM;
    } else if (l->ncalls == l->calls_cap) {
        size_t nc = l->calls_cap ? l->calls_cap * 2 : 1024;
        struct cdr_link_call **ncalls = realloc(l->calls, nc * sizeof *ncalls);
        if (ncalls == NULL)
            return CDR_E_NOMEM;
        l->calls = ncalls;
        l->calls_cap = nc;
    }
    struct cdr_link_call *c;
    size_t size = sizeof *c + total;
    if (kind == CDR_LINK_CHILD_WAITING) {
        c = malloc(size);
        l->waiting_bytes += size;
    } else {
        c = arena_alloc(l, size);
    }
    if (c == NULL || !fits_slot(c)) {
        if (kind == CDR_LINK_CHILD_WAITING)
            free(c);
        return CDR_E_NOMEM;
    }
    memset(c, 0, sizeof *c);
    c->hash = h;
    c->kind = (uint8_t)kind;
    c->direction = (uint8_t)rec->direction;
    c->status = (uint8_t)rec->status;
    c->has_end_time = (uint8_t)(rec->has_end_time != 0);
    c->file_index = file_index;
    c->line = rec->line;
    c->start_time = rec->start_time;
    c->end_time = rec->end_time;
    c->duration = rec->duration;
    char *p = c->data;
    for (int col = 0; col < CDR_COL__COUNT; col++) {
        struct cdr_slice s = record_field(rec, col);
        c->len[col] = (uint16_t)s.n;
        if (s.n > 0)
            memcpy(p, s.p, s.n);
        p += s.n;
    }
    l->slots[i] = slot_make(c, h); /* probed above: nothing moved since */
    l->count++;
    if (w != NULL) {
        if (w->tail != NULL)
            w->tail->next_waiting = c;
        else
            w->head = c;
        w->tail = c;
    } else {
        l->calls[l->ncalls++] = c;
    }
    *out = c;
    return 0;
}

int
cdr_link_add_done(struct cdr_link *l, const struct cdr_slice *sid)
{
    if (sid->n > CDR_MAX_SID)
        return CDR_E_TOO_LONG;
    if (grow(l) != 0)
        return CDR_E_NOMEM;
    uint64_t h = hash_bytes(sid->p, sid->n);
    size_t i = probe(l->slots, l->cap, h, sid->p, sid->n);
    if (l->slots[i] != 0)
        return CDR_E_DUPLICATE;
    struct tomb *t = arena_alloc(l, sizeof *t + sid->n);
    if (t == NULL || !fits_slot(t))
        return CDR_E_NOMEM;
    t->hash = h;
    t->kind = CDR_LINK_CHILD_DONE;
    t->sid_len = (uint16_t)sid->n;
    memcpy(t->sid, sid->p, sid->n);
    l->slots[i] = slot_make(t, h);
    l->count++;
    return 0;
}

struct cdr_link_call *
cdr_link_take_waiting(struct cdr_link *l, const char *parent_sid, size_t n)
{
    if (l->wcount == 0)
        return NULL;
    struct wait_head *w = wait_head_for(l, parent_sid, n, 0);
    if (w == NULL)
        return NULL;
    struct cdr_link_call *head = w->head;
    w->head = w->tail = NULL;
    return head;
}

int
cdr_link_done(struct cdr_link *l, struct cdr_link_call *c)
{
    struct cdr_slice sid = {c->data, c->len[CDR_COL_SID]};
    size_t i = probe(l->slots, l->cap, c->hash, sid.p, sid.n);
    struct tomb *t = arena_alloc(l, sizeof *t + sid.n);
    if (t == NULL || !fits_slot(t))
        return CDR_E_NOMEM;
    t->hash = c->hash;
    t->kind = CDR_LINK_CHILD_DONE;
    t->sid_len = (uint16_t)sid.n;
    memcpy(t->sid, sid.p, sid.n);
    l->slots[i] = slot_make(t, c->hash);
    size_t size = sizeof *c;
    for (int col = 0; col < CDR_COL__COUNT; col++)
        size += c->len[col];
    l->waiting_bytes -= size;
    free(c);
    return 0;
}

int
cdr_link_each_waiting(struct cdr_link *l,
                      int (*fn)(void *ctx, struct cdr_link_call *c), void *ctx)
{
    for (size_t i = 0; i < l->wcount; i++) {
        struct cdr_link_call *c = l->worder[i]->head;
        while (c != NULL) {
            struct cdr_link_call *next = c->next_waiting;
            int rc = fn(ctx, c);
            if (rc != 0)
                return rc;
            c = next;
        }
    }
    return 0;
}

size_t
cdr_link_call_count(const struct cdr_link *l)
{
    return l->ncalls;
}

struct cdr_link_call *
cdr_link_call_at(const struct cdr_link *l, size_t i)
{
    return i < l->ncalls ? l->calls[i] : NULL;
}

struct cdr_slice
cdr_link_field(const struct cdr_link_call *c, enum cdr_column col)
{
    const char *p = c->data;
    for (int i = 0; i < (int)col; i++)
        p += c->len[i];
    return (struct cdr_slice){p, c->len[col]};
}

void
cdr_link_record(const struct cdr_link_call *c, const char *file,
                struct cdr_record *r)
{
    memset(r, 0, sizeof *r);
    struct cdr_slice f[CDR_COL__COUNT];
    const char *p = c->data;
    for (int i = 0; i < CDR_COL__COUNT; i++) {
        f[i] = (struct cdr_slice){p, c->len[i]};
        p += c->len[i];
    }
    r->sid = f[CDR_COL_SID];
    r->parent_call_sid = f[CDR_COL_PARENT_CALL_SID];
    r->account_sid = f[CDR_COL_ACCOUNT_SID];
    r->trunk_sid = f[CDR_COL_TRUNK_SID];
    r->from = f[CDR_COL_FROM];
    r->to = f[CDR_COL_TO];
    r->status_text = f[CDR_COL_STATUS];
    r->price = f[CDR_COL_PRICE];
    r->price_unit = f[CDR_COL_PRICE_UNIT];
    r->transfer_target = f[CDR_COL_TRANSFER_TARGET];
    r->transfer_status = f[CDR_COL_TRANSFER_STATUS];
    r->direction = (enum cdr_direction)c->direction;
    r->status = (enum cdr_status)c->status;
    r->start_time = c->start_time;
    r->end_time = c->end_time;
    r->has_end_time = c->has_end_time;
    r->duration = c->duration;
    r->file = file;
    r->line = c->line;
}

size_t
cdr_link_memory(const struct cdr_link *l)
{
    return l->arena_bytes + l->waiting_bytes + l->cap * sizeof *l->slots +
           l->wcap * sizeof *l->wslots + l->calls_cap * sizeof *l->calls;
}

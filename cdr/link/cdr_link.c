#include "cdr/link/cdr_link.h"

#include "cdr/util/cdr_array.h"
#include "cdr/util/cdr_hash.h"

#include <stdlib.h>
#include <string.h>

/*
 * Every entry of the sid map starts with struct entry_head: a whole
 * cdr_link_call, or a tomb (the sid of a handled child).  Keeping tombs
 * small matters: a night of a million transfers keeps a million of them.
 */
struct entry_head {
    uint8_t kind;
};

struct tomb {
    uint8_t kind; /* CDR_LINK_CHILD_DONE */
    uint16_t sid_len;
    char sid[];
};

struct wait_head {
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
    struct cdr_hmap sids;      /* entry_head * by sid */
    struct cdr_hmap waits;     /* wait_head * by parent sid */
    struct wait_head **worder; /* wait heads in creation order */
    size_t worder_cap;
    struct cdr_link_call **calls; /* CDR_LINK_CALL entries in order */
    size_t ncalls, calls_cap;
    struct arena_chunk *arena;
    size_t arena_bytes, waiting_bytes;
};

enum { ARENA_CHUNK = 1 << 20 };

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

static int
sid_eq(const void *entry, const void *key, size_t n)
{
    struct cdr_slice k = entry_sid(entry);
    return k.n == n && memcmp(k.p, key, n) == 0;
}

static int
wait_eq(const void *entry, const void *key, size_t n)
{
    const struct wait_head *w = entry;
    return w->key_len == n && memcmp(w->key, key, n) == 0;
}

int
cdr_link_new(struct cdr_link **out)
{
    struct cdr_link *l = calloc(1, sizeof *l);
    if (l == NULL)
        return CDR_E_NOMEM;
    if (cdr_hmap_init(&l->sids, 700) != 0 ||
        cdr_hmap_init(&l->waits, 170) != 0) {
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
    struct entry_head *h;
    size_t i = 0;
    while ((h = cdr_hmap_next(&l->sids, &i)) != NULL)
        if (h->kind == CDR_LINK_CHILD_WAITING)
            free(h);
    cdr_hmap_free(&l->sids);
    cdr_hmap_free(&l->waits);
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

int
cdr_link_reserve(struct cdr_link *l, size_t n)
{
    return cdr_hmap_reserve(&l->sids, n) == 0 ? 0 : CDR_E_NOMEM;
}

int
cdr_link_find(const struct cdr_link *l, const char *sid, size_t n,
              struct cdr_link_call **out)
{
    struct entry_head *e =
        cdr_hmap_get(&l->sids, cdr_hash(sid, n), sid, n, sid_eq);
    if (out != NULL)
        *out = (e != NULL && e->kind != CDR_LINK_CHILD_DONE)
                   ? (struct cdr_link_call *)(void *)e
                   : NULL;
    return e == NULL ? 0 : e->kind;
}

static struct wait_head *
wait_head_for(struct cdr_link *l, const char *sid, size_t n, int create)
{
    uint64_t h = cdr_hash(sid, n);
    struct wait_head *w = cdr_hmap_get(&l->waits, h, sid, n, wait_eq);
    if (w != NULL || !create)
        return w;
    if (cdr_array_grow((void **)&l->worder, &l->worder_cap, l->waits.count + 1,
                       sizeof *l->worder, 64) != 0)
        return NULL;
    w = arena_alloc(l, sizeof *w);
    char *key = arena_alloc(l, n ? n : 1);
    if (w == NULL || key == NULL)
        return NULL;
    memcpy(key, sid, n);
    *w = (struct wait_head){.key = key, .key_len = n};
    if (cdr_hmap_put(&l->waits, h, key, n, wait_eq, w, NULL) != 0)
        return NULL;
    l->worder[l->waits.count - 1] = w;
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
    uint64_t h = cdr_hash(rec->sid.p, rec->sid.n);
    struct entry_head *prev =
        cdr_hmap_get(&l->sids, h, rec->sid.p, rec->sid.n, sid_eq);
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
    } else if (cdr_array_grow((void **)&l->calls, &l->calls_cap, l->ncalls + 1,
                              sizeof *l->calls, 1024) != 0) {
        return CDR_E_NOMEM;
    }
    struct cdr_link_call *c;
    size_t size = sizeof *c + total;
    if (kind == CDR_LINK_CHILD_WAITING) {
        c = malloc(size);
        l->waiting_bytes += size;
    } else {
        c = arena_alloc(l, size);
    }
    if (c == NULL)
        return CDR_E_NOMEM;
    memset(c, 0, sizeof *c);
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
    if (cdr_hmap_put(&l->sids, h, rec->sid.p, rec->sid.n, sid_eq, c, NULL) !=
        0) {
        if (kind == CDR_LINK_CHILD_WAITING) {
            l->waiting_bytes -= size;
            free(c);
        }
        return CDR_E_NOMEM;
    }
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

/* A tomb for sid, in the arena. */
static struct tomb *
new_tomb(struct cdr_link *l, struct cdr_slice sid)
{
    struct tomb *t = arena_alloc(l, sizeof *t + sid.n);
    if (t == NULL)
        return NULL;
    t->kind = CDR_LINK_CHILD_DONE;
    t->sid_len = (uint16_t)sid.n;
    memcpy(t->sid, sid.p, sid.n);
    return t;
}

int
cdr_link_add_done(struct cdr_link *l, const struct cdr_slice *sid)
{
    if (sid->n > CDR_MAX_SID)
        return CDR_E_TOO_LONG;
    uint64_t h = cdr_hash(sid->p, sid->n);
    if (cdr_hmap_get(&l->sids, h, sid->p, sid->n, sid_eq) != NULL)
        return CDR_E_DUPLICATE;
    struct tomb *t = new_tomb(l, *sid);
    if (t == NULL ||
        cdr_hmap_put(&l->sids, h, sid->p, sid->n, sid_eq, t, NULL) != 0)
        return CDR_E_NOMEM; /* a tomb lost to the arena: freed with it */
    return 0;
}

struct cdr_link_call *
cdr_link_take_waiting(struct cdr_link *l, const char *parent_sid, size_t n)
{
    if (l->waits.count == 0)
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
    struct tomb *t = new_tomb(l, sid);
    if (t == NULL)
        return CDR_E_NOMEM;
    cdr_hmap_replace(&l->sids, cdr_hash(sid.p, sid.n), sid.p, sid.n, sid_eq, t);
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
    for (size_t i = 0; i < l->waits.count; i++) {
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
    r->has_duration = 1; /* stored records are validated ones */
    r->file = file;
    r->line = c->line;
}

size_t
cdr_link_memory(const struct cdr_link *l)
{
    return l->arena_bytes + l->waiting_bytes + cdr_hmap_memory(&l->sids) +
           cdr_hmap_memory(&l->waits) + l->calls_cap * sizeof *l->calls;
}

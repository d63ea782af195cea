/*
 * Dialog table: the project's hash map (cdr_hmap, cdr_hash of the
 * Call-ID), one list per timeout class.  The map grows with the calls
 * followed, never past the bound.
 */
#include "cdr/capture/track/cap_dialog.h"
#include "cdr/record/cdr_record.h"
#include "cdr/util/cdr_hash.h"

#include <stdlib.h>
#include <string.h>

struct class_list {
    struct cap_dialog *head, *tail;
};

struct cap_dialog_table {
    struct cdr_hmap map; /* struct cap_dialog * by Call-ID */
    size_t count, max;
    struct class_list cls[CAP_DC__COUNT];
};

char *
cap_strndup(const char *p, size_t n, size_t max)
{
    if (n > max)
        return NULL;
    char *s = malloc(n + 1);
    if (s == NULL)
        return NULL;
    if (n > 0)
        memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

static int
dialog_eq(const void *entry, const void *key, size_t n)
{
    const struct cap_dialog *d = entry;
    return d->call_id_len == n && memcmp(d->call_id, key, n) == 0;
}

struct cap_dialog_table *
cap_dialog_table_new(size_t max)
{
    if (max == 0)
        return NULL;
    struct cap_dialog_table *t = calloc(1, sizeof *t);
    if (t == NULL)
        return NULL;
    if (cdr_hmap_init(&t->map, max < 1024 ? max : 1024) != 0) {
        free(t);
        return NULL;
    }
    t->max = max;
    return t;
}

static void
free_entry(struct cap_dialog *d, void (*free_xfer)(struct cap_transfer *))
{
    if (d->xfer != NULL && free_xfer != NULL)
        free_xfer(d->xfer);
    free(d->from);
    free(d->to);
    free(d->referred_by);
    free(d->parent_sid);
    free(d);
}

void
cap_dialog_table_free(struct cap_dialog_table *t,
                      void (*free_xfer)(struct cap_transfer *))
{
    if (t == NULL)
        return;
    for (int c = 0; c < CAP_DC__COUNT; c++) {
        struct cap_dialog *d = t->cls[c].head;
        while (d != NULL) {
            struct cap_dialog *n = d->cnext;
            free_entry(d, free_xfer);
            d = n;
        }
    }
    cdr_hmap_free(&t->map);
    free(t);
}

struct cap_dialog *
cap_dialog_find(struct cap_dialog_table *t, const char *call_id, size_t n)
{
    return cdr_hmap_get(&t->map, cdr_hash(call_id, n), call_id, n, dialog_eq);
}

static void
class_unlink(struct cap_dialog_table *t, struct cap_dialog *d)
{
    struct class_list *l = &t->cls[d->cls];
    if (d->cprev != NULL)
        d->cprev->cnext = d->cnext;
    else
        l->head = d->cnext;
    if (d->cnext != NULL)
        d->cnext->cprev = d->cprev;
    else
        l->tail = d->cprev;
    d->cprev = d->cnext = NULL;
}

static void
class_append(struct cap_dialog_table *t, struct cap_dialog *d,
             enum cap_dialog_class cls, int64_t now_us)
{
    struct class_list *l = &t->cls[cls];
    d->cls = cls;
    /* Keep each list sorted even if capture time steps back a little
       (several sources, clock jumps): never before the tail. */
    if (l->tail != NULL && now_us < l->tail->class_since_us)
        now_us = l->tail->class_since_us;
    d->class_since_us = now_us;
    d->cprev = l->tail;
    d->cnext = NULL;
    if (l->tail != NULL)
        l->tail->cnext = d;
    else
        l->head = d;
    l->tail = d;
}

struct cap_dialog *
cap_dialog_add(struct cap_dialog_table *t, const char *call_id, size_t n,
               enum cap_dialog_class cls, int64_t now_us)
{
    if (t->count >= t->max || n > CDR_MAX_SID)
        return NULL;
    /* The Call-ID in the entry's own block: one allocation less per call,
     * and the key a lookup compares beside the entry it loads. */
    struct cap_dialog *d = calloc(1, sizeof *d + n + 1);
    if (d == NULL)
        return NULL;
    d->call_id = (char *)(d + 1);
    if (n > 0)
        memcpy(d->call_id, call_id, n);
    d->hash = cdr_hash(call_id, n);
    d->call_id_len = n;
    if (cdr_hmap_put(&t->map, d->hash, d->call_id, n, dialog_eq, d, NULL) !=
        0) { /* no memory (the caller found no entry with this Call-ID) */
        free(d);
        return NULL;
    }
    class_append(t, d, cls, now_us);
    t->count++;
    return d;
}

void
cap_dialog_set_class(struct cap_dialog_table *t, struct cap_dialog *d,
                     enum cap_dialog_class cls, int64_t now_us)
{
    class_unlink(t, d);
    class_append(t, d, cls, now_us);
}

void
cap_dialog_remove(struct cap_dialog_table *t, struct cap_dialog *d,
                  void (*free_xfer)(struct cap_transfer *))
{
    cdr_hmap_remove(&t->map, d->hash, d->call_id, d->call_id_len, dialog_eq);
    class_unlink(t, d);
    t->count--;
    free_entry(d, free_xfer);
}

struct cap_dialog *
cap_dialog_oldest(struct cap_dialog_table *t, enum cap_dialog_class cls)
{
    return t->cls[cls].head;
}

size_t
cap_dialog_count(const struct cap_dialog_table *t)
{
    return t->count;
}

size_t
cap_dialog_max(const struct cap_dialog_table *t)
{
    return t->max;
}

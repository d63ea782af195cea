#include "cdr/csv/cdr_prefetch.h"

#include "cdr/csv/cdr_record_reader.h"
#include "cdr/util/cdr_digest.h"
#include "cdr/record/cdr_validate.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

enum {
    NBATCH = 4,
    BATCH_ITEMS = 2048,
    BATCH_BYTES = 1 << 20,
};

struct batch {
    struct cdr_item items[BATCH_ITEMS];
    size_t n;
    char *mem; /* field copies, raw lines, diagnostics */
    size_t used, cap;
    int end; /* last batch: rc says how the file ended */
    int rc;
    struct cdr_diag diag; /* when rc < 0 */
};

struct cdr_prefetch {
    char *path;
    const char *name; /* as the reader names it; outlives the reader */
    pthread_t thread;
    int started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct batch batches[NBATCH];
    /* ring: batches [head, head + full) are filled, the rest free */
    size_t head, full;
    int stop;
    /* consumer side */
    struct batch *cur;
    size_t pos;
    int finished;
    /* worker side */
    struct cdr_digest *dg;
    uint64_t bytes;
    char hex[CDR_DIGEST_HEX];
};

static void
tap(void *ctx, const void *p, size_t n)
{
    struct cdr_prefetch *pf = ctx;
    cdr_digest_update(pf->dg, p, n);
}

static char *
stash(struct batch *b, const void *p, size_t n)
{
    char *dst = b->mem + b->used;
    if (n > 0)
        memcpy(dst, p, n);
    b->used += (n + 7) & ~(size_t)7;
    return dst;
}

/* Copy a row's fields into the batch so the record outlives the reader's
 * buffer. */
static void
copy_row(struct cdr_prefetch *p, struct batch *b, const struct cdr_row *in,
         struct cdr_row *out)
{
    *out = *in;
    out->file = p->name;
    for (int c = 0; c < CDR_COL__COUNT; c++) {
        if (!in->present[c] || in->field[c].n == 0)
            continue;
        out->field[c].p = stash(b, in->field[c].p, in->field[c].n);
    }
}

static size_t
row_bytes(const struct cdr_row *row, struct cdr_slice raw)
{
    size_t n = sizeof(struct cdr_diag) + raw.n + 16 * 8;
    for (int c = 0; c < CDR_COL__COUNT; c++)
        n += row->field[c].n + 8;
    return n;
}

/* Worker: wait for a free batch; NULL when told to stop. */
static struct batch *
take_free(struct cdr_prefetch *p)
{
    pthread_mutex_lock(&p->mu);
    while (p->full == NBATCH && !p->stop)
        pthread_cond_wait(&p->cv, &p->mu);
    struct batch *b =
        p->stop ? NULL : &p->batches[(p->head + p->full) % NBATCH];
    pthread_mutex_unlock(&p->mu);
    if (b != NULL) {
        b->n = 0;
        b->used = 0;
        b->end = 0;
        b->rc = 0;
    }
    return b;
}

static void
publish(struct cdr_prefetch *p)
{
    pthread_mutex_lock(&p->mu);
    p->full++;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

static void *
worker(void *arg)
{
    struct cdr_prefetch *p = arg;
    struct batch *b = take_free(p);
    if (b == NULL)
        return NULL;
    struct cdr_reader *r = NULL;
    int rc = cdr_reader_open(&r, p->path, p->name, &b->diag);
    if (rc == 0) {
        cdr_reader_set_tap(r, tap, p);
        cdr_reader_require_columns(r);
    }
    struct cdr_row row, copy;
    struct cdr_diag d;
    while (rc == 0) {
        rc = cdr_reader_next(r, &row, &d);
        if (rc == 0) /* end of file */
            break;
        int bad_row = cdr_reader_row_error(rc);
        if (rc < 0 && !bad_row) {
            b->diag = d;
            break;
        }
        struct cdr_slice raw = cdr_reader_raw(r);
        size_t need = row_bytes(&row, raw);
        if (b->n == BATCH_ITEMS || b->cap - b->used < need) {
            publish(p);
            if ((b = take_free(p)) == NULL) { /* the caller gave up */
                cdr_reader_close(r);
                return NULL;
            }
            if (b->cap < need) { /* one row bigger than a batch */
                char *m = realloc(b->mem, need);
                if (m == NULL) {
                    cdr_diag_set(&b->diag, CDR_E_NOMEM, NULL, NULL, 0, NULL);
                    rc = CDR_E_NOMEM;
                    break;
                }
                b->mem = m;
                b->cap = need;
            }
        }
        struct cdr_item *it = &b->items[b->n++];
        it->raw.p = stash(b, raw.p, raw.n);
        it->raw.n = raw.n;
        it->line = bad_row ? d.line : row.line;
        it->sid = (struct cdr_slice){NULL, 0};
        if (bad_row) { /* the row is filled as far as it went */
            struct cdr_slice sid = cdr_row_sid(&row);
            if (sid.n > 0)
                it->sid = (struct cdr_slice){stash(b, sid.p, sid.n), sid.n};
        }
        if (!bad_row) {
            copy_row(p, b, &row, &copy);
            rc = cdr_validate(&copy, &it->rec, &d);
            if (rc == 0) {
                it->kind = CDR_ITEM_RECORD;
                continue;
            }
            it->sid = cdr_row_sid(&copy);
        }
        it->kind = CDR_ITEM_REJECT;
        it->diag = (const struct cdr_diag *)(void *)stash(b, &d, sizeof d);
        rc = 0;
    }
    if (r != NULL)
        cdr_reader_close(r);
    if (cdr_digest_final(p->dg, p->hex, &p->bytes) != 0 && rc == 0) {
        rc = cdr_diag_set(&b->diag, CDR_E_IO, NULL, NULL, 0,
                          "cannot compute the file's sha256 (libcrypto)");
        cdr_diag_at(&b->diag, p->name, 0, 0);
    }
    b->end = 1;
    b->rc = rc;
    publish(p);
    return NULL;
}

int
cdr_prefetch_open(struct cdr_prefetch **out, const char *path,
                  struct cdr_diag *d)
{
    struct cdr_prefetch *p = calloc(1, sizeof *p);
    if (p == NULL || (p->path = strdup(path)) == NULL) {
        free(p);
        return cdr_diag_set(d, CDR_E_NOMEM, NULL, NULL, 0, NULL);
    }
    for (int i = 0; i < NBATCH; i++) {
        p->batches[i].mem = malloc(BATCH_BYTES);
        p->batches[i].cap = BATCH_BYTES;
        if (p->batches[i].mem == NULL) {
            cdr_prefetch_close(p);
            return cdr_diag_set(d, CDR_E_NOMEM, NULL, NULL, 0, NULL);
        }
    }
    p->name = strcmp(path, "-") == 0 ? "<stdin>" : p->path;
    if ((p->dg = cdr_digest_new()) == NULL) {
        cdr_prefetch_close(p);
        return cdr_diag_set(d, CDR_E_NOMEM, NULL, NULL, 0, NULL);
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    if (pthread_create(&p->thread, NULL, worker, p) != 0) {
        cdr_prefetch_close(p);
        return cdr_diag_set(d, CDR_E_NOMEM, NULL, NULL, 0,
                            "cannot start the reading thread");
    }
    p->started = 1;
    *out = p;
    return 0;
}

int
cdr_prefetch_next(struct cdr_prefetch *p, const struct cdr_item **item,
                  struct cdr_diag *d)
{
    for (;;) {
        if (p->finished)
            return 0;
        if (p->cur != NULL && p->pos < p->cur->n) {
            *item = &p->cur->items[p->pos++];
            return 1;
        }
        pthread_mutex_lock(&p->mu);
        if (p->cur != NULL) { /* done with it: give it back */
            if (p->cur->end) {
                int rc = p->cur->rc;
                if (rc < 0)
                    *d = p->cur->diag;
                p->finished = 1;
                pthread_mutex_unlock(&p->mu);
                return rc < 0 ? rc : 0;
            }
            p->head = (p->head + 1) % NBATCH;
            p->full--;
            pthread_cond_broadcast(&p->cv);
        }
        while (p->full == 0)
            pthread_cond_wait(&p->cv, &p->mu);
        p->cur = &p->batches[p->head];
        p->pos = 0;
        pthread_mutex_unlock(&p->mu);
    }
}

void
cdr_prefetch_digest(const struct cdr_prefetch *p, char hex[65], uint64_t *bytes)
{
    memcpy(hex, p->hex, 65);
    if (bytes != NULL)
        *bytes = p->bytes;
}

void
cdr_prefetch_close(struct cdr_prefetch *p)
{
    if (p == NULL)
        return;
    if (p->started) {
        pthread_mutex_lock(&p->mu);
        p->stop = 1;
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
        pthread_join(p->thread, NULL);
        pthread_mutex_destroy(&p->mu);
        pthread_cond_destroy(&p->cv);
    }
    for (int i = 0; i < NBATCH; i++)
        free(p->batches[i].mem);
    cdr_digest_free(p->dg);
    free(p->path);
    free(p);
}

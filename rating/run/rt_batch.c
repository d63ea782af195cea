#include "rating/run/rt_batch.h"

#include "cdr/csv/cdr_prefetch.h"
#include "cdr/link/cdr_link.h"
#include "cdr/util/cdr_array.h"
#include "cdr/util/cdr_hash.h"
#include "cdr/util/cdr_time.h"
#include "cdr/util/cdr_digest.h"
#include "cdr/record/cdr_validate.h"
#include "rating/price/rt_charge.h"
#include "rating/price/rt_money.h"
#include "rating/price/rt_scenario.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define NO_RAW ((struct cdr_slice){NULL, 0})

/* Our flags on stored calls (struct cdr_link_call.mark). */
enum {
    MARK_HAS_CHILD = 1, /* scenario holds the first rated child's */
    MARK_STORED = 2,    /* came from the sink's store: rated earlier */
};

struct batch {
    const struct rt_batch_opts *o;
    struct rt_sink *sink;
    struct cdr_link *link;
    struct cdr_link *rejected;   /* sids rejected in this run */
    struct rt_input_file *files; /* inputs, then the two pseudo files */
    size_t nfiles;
    size_t fi_pending, fi_stored;
    struct rt_run_info info; /* sinks keep a pointer until commit/abort */
    struct rt_summary sum;
    struct rt_totals tot[RT_SCN_COUNT];
    struct cdr_diag *d; /* the run's fatal error */
    int64_t t0_ms, last_progress_ms;
};

static int64_t
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *
file_name(const struct batch *b, size_t fi)
{
    return fi < b->nfiles + 2 ? b->files[fi].path : "?";
}

static int
fail(struct batch *b, const struct cdr_diag *rd)
{
    *b->d = *rd;
    return rd->code != 0 ? rd->code : CDR_E_IO;
}

static int
nomem(struct batch *b)
{
    struct cdr_diag sd;
    cdr_diag_clear(&sd);
    cdr_diag_set(&sd, CDR_E_NOMEM, NULL, NULL, 0, "out of memory");
    return fail(b, &sd);
}

/* raw: the record as a CSV line (empty for rows from a store). */
static int
reject(struct batch *b, const char *file, long line, struct cdr_slice sid,
       const struct cdr_diag *rd, struct cdr_slice raw)
{
    char reason[CDR_DIAG_TEXT * 2 + CDR_DIAG_VALUE + 16];
    int n = cdr_diag_reason(rd, reason, sizeof reason);
    if (rd->detail[0] != '\0' && n > 0 && (size_t)n < sizeof reason)
        snprintf(reason + n, sizeof reason - (size_t)n, " (%s)", rd->detail);
    struct rt_reject r = {
        .file = file,
        .line = line,
        .sid = sid,
        .field = rd->field,
        .reason = reason,
        .raw = raw,
        .code = rd->code,
    };
    struct cdr_diag sd;
    cdr_diag_clear(&sd);
    if (b->sink->ops->reject(b->sink->self, &r, &sd) != 0)
        return fail(b, &sd);
    /* Children naming it must not wait for it forever (pend_one). */
    if (sid.n > 0 && sid.n <= CDR_MAX_SID &&
        cdr_link_add_done(b->rejected, &sid) == CDR_E_NOMEM)
        return nomem(b);
    b->sum.rejects++;
    if (rd->code == CDR_E_DUPLICATE)
        b->sum.duplicates++;
    if (b->o->max_rejects >= 0 && b->sum.rejects > b->o->max_rejects) {
        cdr_diag_clear(&sd);
        cdr_diag_set(&sd, CDR_E_TOO_MANY_REJECTS, NULL, NULL, 0,
                     "more than %ld records rejected (--max-rejects)",
                     b->o->max_rejects);
        cdr_diag_at(&sd, file, line, 0);
        return fail(b, &sd);
    }
    return 0;
}

static int
reject_rec(struct batch *b, const struct cdr_record *rec,
           const struct cdr_diag *rd, struct cdr_slice raw)
{
    return reject(b, rec->file, rec->line, rec->sid, rd, raw);
}

/* The sell side's totals, per currency (plans may sell in several). */
static int
add_sell(struct batch *b, const struct rt_call *call)
{
    const char *cur = rt_deck_currency(call->plan_deck);
    int dec = rt_deck_decimals(call->plan_deck);
    struct rt_summary *s = &b->sum;
    size_t i = 0;
    while (i < s->n_sell && strcmp(s->sell[i].currency, cur) != 0)
        i++;
    struct cdr_diag sd;
    cdr_diag_clear(&sd);
    if (i == RT_MAX_SELL_CURRENCIES) {
        cdr_diag_set(&sd, CDR_E_LIMIT, "plan", NULL, 0,
                     "more than %d sell currencies in one run",
                     RT_MAX_SELL_CURRENCIES);
        return fail(b, &sd);
    }
    struct rt_sell_total *t = &s->sell[i];
    if (i == s->n_sell) {
        memset(t, 0, sizeof *t);
        memcpy(t->currency, cur, 3);
        s->n_sell++;
    }
    if (dec > t->decimals)
        t->decimals = dec;
    for (int k = 0; k < call->n_components; k++) {
        if (rt_money_add(t->amount_nano, call->comp[k].sell.amount_nano,
                         &t->amount_nano) != 0) {
            cdr_diag_set(&sd, CDR_E_LIMIT, "amount", NULL, 0,
                         "sell total out of range");
            return fail(b, &sd);
        }
        t->components++;
    }
    return 0;
}

static int
emit(struct batch *b, const struct rt_call *call)
{
    struct cdr_diag sd;
    cdr_diag_clear(&sd);
    if (b->sink->ops->call(b->sink->self, call, &sd) != 0)
        return fail(b, &sd);
    if (call->relabel_only)
        return 0;
    b->sum.calls++;
    struct rt_totals *t = &b->tot[call->scenario];
    for (int i = 0; i < call->n_components; i++) {
        int64_t a = call->comp[i].amount_nano;
        if (rt_money_add(b->sum.total_nano, a, &b->sum.total_nano) != 0 ||
            rt_money_add(t->amount_nano, a, &t->amount_nano) != 0) {
            cdr_diag_set(&sd, CDR_E_LIMIT, "amount", NULL, 0,
                         "run total out of range");
            return fail(b, &sd);
        }
        t->components++;
        b->sum.components++;
    }
    return call->plan_deck != NULL ? add_sell(b, call) : 0;
}

static const struct cdr_trunk *
trunk_of(const struct batch *b, const struct cdr_record *parent,
         const struct cdr_record *child)
{
    const struct cdr_slice *t = &parent->trunk_sid;
    if (t->n == 0 && child != NULL)
        t = &child->trunk_sid;
    if (t->n == 0)
        return NULL;
    return rt_deck_trunk(b->o->deck, t->p, t->n);
}

/* Orders a parent's children: smaller wins.  Not billed in the top bit,
 * then seconds since 2000 (40 bits: 34,000 years), then 23 bits of sid
 * hash so equal starts still order the same way in every run. */
static uint64_t
label_key(const struct cdr_record *child)
{
    uint64_t h = cdr_hash(child->sid.p, child->sid.n);
    int64_t t = child->start_time - 946684800;
    uint64_t when = t < 0 ? 0 : (uint64_t)t & ((UINT64_C(1) << 40) - 1);
    return (uint64_t)!cdr_record_billable(child) << 63 | when << 23 |
           (h & ((UINT64_C(1) << 23) - 1));
}

/* Rate a child whose parent is stored as p; fi: the child's file (its
 * calls row names the file, so --force of that file supersedes it). */
/* The decks that price rec's leg: the carrier's, and with plans the plan
 * in force for rec's own account at its start (a child's plan is its own
 * account's, not its parent's).  0, or CDR_E_NO_RATE with d naming
 * account_sid when the account has no plan then. */
static int
leg_decks(const struct batch *b, const struct cdr_record *rec,
          struct rt_charge_decks *out, struct rt_call *call, struct cdr_diag *d)
{
    *out = (struct rt_charge_decks){b->o->deck, NULL, NULL};
    if (b->o->plans == NULL)
        return 0;
    const struct rt_plan *plan = rt_plans_find(
        b->o->plans, rec->account_sid.p, rec->account_sid.n, rec->start_time);
    if (plan == NULL) {
        char when[32];
        cdr_time_format(rec->start_time, when, sizeof when);
        cdr_diag_set(d, CDR_E_NO_PLAN, "account_sid", rec->account_sid.p,
                     rec->account_sid.n, "no plan for the account");
        cdr_diag_detail(d,
                        "none in force at %s (a listed account takes "
                        "only its own plans, others the default_plan)",
                        when);
        return CDR_E_NO_PLAN;
    }
    out->sell = plan->deck;
    out->plan = plan->name;
    call->plan = plan->name;
    call->plan_deck = plan->deck;
    return 0;
}

/* A child is created by a REFER during its parent: one that starts before
 * it is a broken link (rejected: 1); one that starts more than a day after
 * it, or on another account, is odd but priced as linked (counted: 0).
 * Negative on failure. */
#define CHILD_LATE_SECONDS 86400

static int
check_child_link(struct batch *b, const struct cdr_record *parent,
                 const struct cdr_record *child, struct cdr_slice raw)
{
    if (child->start_time < parent->start_time) {
        char c[32], p[32];
        struct cdr_diag rd;
        cdr_time_format(child->start_time, c, sizeof c);
        cdr_time_format(parent->start_time, p, sizeof p);
        cdr_diag_set(&rd, CDR_E_BAD_TIME, "start_time", c, strlen(c),
                     "a transferred leg starts before its parent");
        cdr_diag_detail(&rd, "the parent %.*s starts at %s", (int)parent->sid.n,
                        parent->sid.p, p);
        int rc = reject_rec(b, child, &rd, raw);
        return rc != 0 ? rc : 1;
    }
    if (child->start_time - parent->start_time > CHILD_LATE_SECONDS)
        b->sum.warnings.child_late++;
    if (child->account_sid.n > 0 && parent->account_sid.n > 0 &&
        (child->account_sid.n != parent->account_sid.n ||
         memcmp(child->account_sid.p, parent->account_sid.p,
                child->account_sid.n) != 0))
        b->sum.warnings.child_other_account++;
    return 0;
}

static int
link_child(struct batch *b, struct cdr_link_call *p,
           const struct cdr_record *child, size_t fi, struct cdr_slice raw)
{
    struct cdr_record prec;
    cdr_link_record(p, file_name(b, p->file_index), &prec);
    int lrc = check_child_link(b, &prec, child, raw);
    if (lrc != 0)
        return lrc > 0 ? 0 : lrc;
    const struct cdr_trunk *trunk = trunk_of(b, &prec, child);
    struct cdr_diag rd;
    enum rt_scenario scn;
    struct rt_call call = {.rec = child,
                           .leg = RT_LEG_CHILD,
                           .file_index = fi < b->nfiles ? (long)fi : -1};
    struct rt_charge_decks decks;
    if (leg_decks(b, child, &decks, &call, &rd) != 0 ||
        rt_classify(prec.direction, trunk, &child->to, &scn, &rd) != 0 ||
        rt_charge_leg(&decks, child, &prec, RT_LEG_CHILD, scn, trunk, &call,
                      &rd) != 0)
        return reject_rec(b, child, &rd, raw);
    call.scenario = scn;
    call.target_caller_id = rt_target_caller_id(&prec, trunk);
    int rc = emit(b, &call);
    if (rc != 0)
        return rc;
    /* The parent takes the scenario of one child chosen whatever the input
     * order: a billed child before one that was not, then the earliest
     * start, then the sid's hash. */
    uint64_t key = label_key(child);
    if (!(p->mark & MARK_HAS_CHILD) || key < p->label_key) {
        p->mark |= MARK_HAS_CHILD;
        p->scenario = (uint8_t)scn;
        p->label_key = key;
    }
    return 0;
}

static int
reject_duplicate(struct batch *b, const struct cdr_record *rec,
                 const struct cdr_link_call *first, struct cdr_slice raw)
{
    struct cdr_diag rd;
    cdr_diag_clear(&rd);
    cdr_diag_set(&rd, CDR_E_DUPLICATE, "sid", rec->sid.p, rec->sid.n,
                 "duplicate call sid");
    if (first != NULL)
        cdr_diag_detail(&rd, "first seen at %s:%ld",
                        file_name(b, first->file_index), first->line);
    else
        cdr_diag_detail(&rd, "already rated in this run");
    return reject_rec(b, rec, &rd, raw);
}

static int
reject_chained(struct batch *b, const struct cdr_record *rec,
               struct cdr_slice raw)
{
    struct cdr_diag rd;
    cdr_diag_set(&rd, CDR_E_TRANSFER, "parent_call_sid", rec->parent_call_sid.p,
                 rec->parent_call_sid.n,
                 "the parent is itself a transferred leg");
    cdr_diag_detail(&rd, "chained transfers are not rated");
    return reject_rec(b, rec, &rd, raw);
}

/* Where a record comes from. */
enum origin {
    FROM_INPUT = 0,
    FROM_PENDING, /* left pending by an earlier run */
    FROM_STORED,  /* rated by an earlier run (a parent, for a child here) */
};

static int
process_record(struct batch *b, const struct cdr_record *rec, size_t fi,
               enum origin origin, struct cdr_slice raw)
{
    struct cdr_link_call *c;
    struct cdr_diag rd;
    if (origin == FROM_INPUT && rec->price_note == CDR_PRICE_PRECISE)
        b->sum.warnings.price_precise++;
    if (origin == FROM_INPUT && rec->price_note == CDR_PRICE_UNREADABLE)
        b->sum.warnings.price_unreadable++;
    /* A child pending from an earlier run that this run's input holds
     * again (a file rated again): the input's copy stands, quietly. */
    if (origin == FROM_PENDING &&
        cdr_link_find(b->link, rec->sid.p, rec->sid.n, NULL) != 0)
        return 0;
    if (rec->parent_call_sid.n == 0) {
        int rc = cdr_link_add(b->link, rec, CDR_LINK_CALL, (uint32_t)fi, &c);
        if (rc == CDR_E_DUPLICATE)
            return reject_duplicate(b, rec, c, raw);
        if (rc != 0)
            return nomem(b);
        if (origin == FROM_STORED)
            c->mark |= MARK_STORED;
        struct cdr_link_call *w =
            cdr_link_take_waiting(b->link, rec->sid.p, rec->sid.n);
        while (w != NULL) {
            struct cdr_link_call *next = w->next_waiting;
            struct cdr_record crec;
            cdr_link_record(w, file_name(b, w->file_index), &crec);
            rc = link_child(b, c, &crec, w->file_index, NO_RAW);
            if (rc != 0)
                return rc;
            if (cdr_link_done(b->link, w) != 0)
                return nomem(b);
            w = next;
        }
        return 0;
    }

    if (rec->parent_call_sid.n == rec->sid.n &&
        memcmp(rec->parent_call_sid.p, rec->sid.p, rec->sid.n) == 0) {
        cdr_diag_set(&rd, CDR_E_TRANSFER, "parent_call_sid",
                     rec->parent_call_sid.p, rec->parent_call_sid.n,
                     "a call cannot be its own parent");
        return reject_rec(b, rec, &rd, raw);
    }
    struct cdr_link_call *p;
    int pk = cdr_link_find(b->link, rec->parent_call_sid.p,
                           rec->parent_call_sid.n, &p);
    if (pk == 0) { /* parent not seen yet: wait for it */
        int rc = cdr_link_add(b->link, rec, CDR_LINK_CHILD_WAITING,
                              (uint32_t)fi, &c);
        if (rc == CDR_E_DUPLICATE)
            return reject_duplicate(b, rec, c, raw);
        return rc == 0 ? 0 : nomem(b);
    }
    /* Handled now: only the sid is kept, to catch a later duplicate. */
    int rc = cdr_link_add_done(b->link, &rec->sid);
    if (rc == CDR_E_DUPLICATE) {
        cdr_link_find(b->link, rec->sid.p, rec->sid.n, &c);
        return reject_duplicate(b, rec, c, raw);
    }
    if (rc != 0)
        return nomem(b);
    if (pk == CDR_LINK_CALL)
        return link_child(b, p, rec, fi, raw);
    return reject_chained(b, rec, raw);
}

/* Rows handed back by the sink's store (they have no raw text). */
static int
process_row(struct batch *b, const struct cdr_row *row, size_t fi,
            enum origin origin)
{
    struct cdr_record rec;
    struct cdr_diag rd;
    if (cdr_validate(row, &rec, &rd) != 0) {
        return reject(b, row->file, row->line, cdr_row_sid(row), &rd, NO_RAW);
    }
    return process_record(b, &rec, fi, origin, NO_RAW);
}

static int
stored_pending_row(void *ctx, const struct cdr_row *row, struct cdr_diag *d)
{
    struct batch *b = ctx;
    (void)d;
    return process_row(b, row, b->fi_pending, FROM_PENDING);
}

static int
stored_row(void *ctx, const struct cdr_row *row, struct cdr_diag *d)
{
    struct batch *b = ctx;
    (void)d;
    return process_row(b, row, b->fi_stored, FROM_STORED);
}

/* Re-rating: stored calls are rated again, like input. */
static int
rerate_row(void *ctx, const struct cdr_row *row, struct cdr_diag *d)
{
    struct batch *b = ctx;
    (void)d;
    return process_row(b, row, b->fi_stored, FROM_INPUT);
}

static void
progress(struct batch *b, const char *path, long rows, int final)
{
    if (!b->o->progress)
        return;
    int64_t t = now_ms();
    if (!final && t - b->last_progress_ms < 1000)
        return;
    b->last_progress_ms = t;
    fprintf(stderr, "\rreferee-rate: %s: %ld rows, %ld calls, %ld rejects   %s",
            path, rows, b->sum.calls, b->sum.rejects, final ? "\n" : "");
}

static int
read_file(struct batch *b, size_t fi)
{
    struct rt_input_file *f = &b->files[fi];
    struct cdr_diag rd;
    struct cdr_prefetch *pf;
    int rc = cdr_prefetch_open(&pf, f->path, &rd);
    if (rc != 0)
        return fail(b, &rd);
    const struct cdr_item *it;
    while ((rc = cdr_prefetch_next(pf, &it, &rd)) == 1) {
        f->rows++;
        b->sum.rows_read++;
        if (it->kind == CDR_ITEM_RECORD)
            rc = process_record(b, &it->rec, fi, FROM_INPUT, it->raw);
        else
            rc =
                reject(b, it->diag->file, it->line, it->sid, it->diag, it->raw);
        if (rc != 0)
            break;
        if ((f->rows & 0xffff) == 0)
            progress(b, f->path, f->rows, 0);
    }
    if (rc < 0 && b->d->code == 0)
        rc = fail(b, &rd);
    if (rc == 0) {
        char hex[65];
        uint64_t bytes;
        cdr_prefetch_digest(pf, hex, &bytes);
        if (f->sha256[0] != '\0' && strcmp(hex, f->sha256) != 0) {
            /* hashed before (to ask the store) and now: it changed */
            cdr_diag_set(&rd, CDR_E_IO, NULL, NULL, 0,
                         "file changed while it was being rated");
            cdr_diag_at(&rd, f->path, 0, 0);
            rc = fail(b, &rd);
        }
        memcpy(f->sha256, hex, sizeof hex);
        f->size = bytes;
    }
    cdr_prefetch_close(pf);
    if (rc == 0)
        progress(b, f->path, f->rows, 1);
    return rc;
}

struct sid_list {
    struct cdr_slice *v;
    size_t n, cap;
};

static int
collect_parent(void *ctx, struct cdr_link_call *c)
{
    struct sid_list *l = ctx;
    struct cdr_slice p = cdr_link_field(c, CDR_COL_PARENT_CALL_SID);
    if (l->n > 0 && l->v[l->n - 1].n == p.n &&
        memcmp(l->v[l->n - 1].p, p.p, p.n) == 0)
        return 0; /* siblings are queued together */
    if (cdr_array_grow((void **)&l->v, &l->cap, l->n + 1, sizeof *l->v, 256) !=
        0)
        return CDR_E_NOMEM;
    l->v[l->n++] = p;
    return 0;
}

static int
resolve_stored_parents(struct batch *b)
{
    if (b->sink->ops->stored_parents == NULL)
        return 0;
    struct sid_list l = {0};
    if (cdr_link_each_waiting(b->link, collect_parent, &l) != 0) {
        free(l.v);
        return nomem(b);
    }
    int rc = 0;
    if (l.n > 0) {
        struct cdr_diag sd;
        cdr_diag_clear(&sd);
        /* The parents' rows link the waiting children as they arrive, which
         * frees those children: copy the sids first. */
        size_t total = 0;
        for (size_t i = 0; i < l.n; i++)
            total += l.v[i].n;
        char *buf = malloc(total ? total : 1);
        if (buf == NULL) {
            free(l.v);
            return nomem(b);
        }
        char *p = buf;
        for (size_t i = 0; i < l.n; i++) {
            memcpy(p, l.v[i].p, l.v[i].n);
            l.v[i].p = p;
            p += l.v[i].n;
        }
        rc = b->sink->ops->stored_parents(b->sink->self, l.v, l.n, stored_row,
                                          b, &sd);
        if (rc != 0 && b->d->code == 0)
            rc = fail(b, &sd);
        free(buf);
    }
    free(l.v);
    return rc;
}

static int
pend_one(void *ctx, struct cdr_link_call *c)
{
    struct batch *b = ctx;
    struct cdr_record rec;
    cdr_link_record(c, file_name(b, c->file_index), &rec);
    struct cdr_diag sd;
    cdr_diag_clear(&sd);
    /* Its parent arrived after it, as a transfer leg itself: it will never
     * be a parent, so waiting for it is pointless. */
    int pk = cdr_link_find(b->link, rec.parent_call_sid.p,
                           rec.parent_call_sid.n, NULL);
    if (pk == CDR_LINK_CHILD_DONE || pk == CDR_LINK_CHILD_WAITING)
        return reject_chained(b, &rec, NO_RAW);
    if (cdr_link_find(b->rejected, rec.parent_call_sid.p, rec.parent_call_sid.n,
                      NULL) != 0) {
        cdr_diag_set(&sd, CDR_E_TRANSFER, "parent_call_sid",
                     rec.parent_call_sid.p, rec.parent_call_sid.n,
                     "the parent call was rejected in this run");
        cdr_diag_detail(&sd, "correct the parent, then rate both again");
        return reject_rec(b, &rec, &sd, NO_RAW);
    }
    if (b->sink->ops->pending(b->sink->self, &rec, &sd) != 0)
        return fail(b, &sd);
    b->sum.pending++;
    return 0;
}

/* Parents and single calls go out once every child of the run is known. */
static int
emit_calls(struct batch *b)
{
    size_t n = cdr_link_call_count(b->link);
    for (size_t i = 0; i < n; i++) {
        struct cdr_link_call *c = cdr_link_call_at(b->link, i);
        struct cdr_record rec;
        cdr_link_record(c, file_name(b, c->file_index), &rec);
        int has_child = (c->mark & MARK_HAS_CHILD) != 0;
        struct rt_call call = {
            .rec = &rec,
            .leg = has_child ? RT_LEG_PARENT : RT_LEG_SINGLE,
            .scenario = has_child ? (enum rt_scenario)c->scenario : RT_SCN_NONE,
            .file_index = c->file_index < b->nfiles ? (long)c->file_index : -1,
        };
        int rc;
        if (c->mark & MARK_STORED) {
            if (!has_child)
                continue;
            call.relabel_only = 1;
            rc = emit(b, &call);
        } else {
            struct cdr_diag rd;
            struct rt_charge_decks decks;
            cdr_diag_clear(&rd);
            if (leg_decks(b, &rec, &decks, &call, &rd) != 0 ||
                rt_charge_leg(&decks, &rec, NULL, call.leg, call.scenario,
                              trunk_of(b, &rec, NULL), &call, &rd) != 0)
                rc = reject_rec(b, &rec, &rd, NO_RAW);
            else
                rc = emit(b, &call);
        }
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* Was this input loaded by an earlier run?  Skips it if so (1), else 0;
 * negative on failure.  A store is asked before reading; the hash taken
 * while reading then confirms the file did not change in between. */
static int
skip_if_seen(struct batch *b, struct rt_input_file *f)
{
    struct cdr_diag sd;
    cdr_diag_clear(&sd);
    const struct rt_sink_ops *ops = b->sink->ops;
    if (ops->file_seen == NULL)
        return 0;
    if (strcmp(f->path, "-") != 0 &&
        cdr_digest_file(f->path, f->sha256, &f->size) != 0) {
        cdr_diag_set(&sd, CDR_E_IO, NULL, NULL, 0, "cannot read: %s",
                     strerror(errno));
        cdr_diag_at(&sd, f->path, 0, 0);
        return fail(b, &sd);
    }
    if (b->o->force || f->sha256[0] == '\0')
        return 0;
    int seen = 0;
    if (ops->file_seen(b->sink->self, f->sha256, &seen, &sd) != 0)
        return fail(b, &sd);
    if (!seen)
        return 0;
    f->skipped = 1;
    b->sum.skipped_files++;
    if (b->o->on_skip != NULL)
        b->o->on_skip(b->o->ctx, f);
    return 1;
}

static int
read_inputs(struct batch *b, size_t n)
{
    /* Every row is a sid to remember.  Exports run 150 to 300 bytes a row;
     * a low guess only costs a doubling later, a high one idle memory. */
    uint64_t bytes = 0;
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        if (stat(b->files[i].path, &st) == 0 && S_ISREG(st.st_mode))
            bytes += (uint64_t)st.st_size;
    }
    if (cdr_link_reserve(b->link, (size_t)(bytes / 200)) != 0)
        return nomem(b);
    for (size_t i = 0; i < n; i++) {
        int rc = skip_if_seen(b, &b->files[i]);
        if (rc < 0)
            return rc;
        if (rc == 0 && (rc = read_file(b, i)) != 0)
            return rc;
    }
    return 0;
}

static int
run(struct batch *b, size_t n)
{
    struct cdr_diag sd;
    cdr_diag_clear(&sd);
    const struct rt_sink_ops *ops = b->sink->ops;
    b->info = (struct rt_run_info){
        .kind = b->o->kind,
        .force = b->o->force,
        .rerate_from = b->o->rerate_from,
        .rerate_to = b->o->rerate_to,
        .deck_name = rt_deck_name(b->o->deck),
        .deck_sha256 = b->o->deck_sha256,
        .currency = rt_deck_currency(b->o->deck),
        .decimals = rt_deck_decimals(b->o->deck),
        .plans_sha256 = b->o->plans ? b->o->plans_sha256 : NULL,
        .plans_path = b->o->plans ? b->o->plans_path : NULL,
        .files = b->files,
        .n_files = n,
        .started_at = (int64_t)time(NULL),
    };
    if (ops->begin(b->sink->self, &b->info, &sd) != 0)
        return fail(b, &sd);
    int rc;
    if (b->o->kind == RT_RUN_RERATE) {
        if (ops->stored_calls == NULL) {
            cdr_diag_set(&sd, CDR_E_USAGE, NULL, NULL, 0,
                         "re-rating needs a database (--db)");
            return fail(b, &sd);
        }
        rc = ops->stored_calls(b->sink->self, b->o->rerate_from,
                               b->o->rerate_to, rerate_row, b, &sd);
        if (rc != 0)
            return b->d->code != 0 ? rc : fail(b, &sd);
    }
    if ((rc = read_inputs(b, n)) != 0)
        return rc;
    /* After the input, so a child both pending and in a file read again is
     * taken from the file. */
    if (ops->stored_pending != NULL) {
        rc = ops->stored_pending(b->sink->self, stored_pending_row, b, &sd);
        if (rc != 0)
            return b->d->code != 0 ? rc : fail(b, &sd);
    }
    if ((rc = resolve_stored_parents(b)) != 0)
        return rc;
    if ((rc = cdr_link_each_waiting(b->link, pend_one, b)) != 0)
        return b->d->code != 0 ? rc : nomem(b);
    if ((rc = emit_calls(b)) != 0)
        return rc;
    return 0;
}

int
rt_batch_run(const struct rt_batch_opts *o, const char *const *paths, size_t n,
             struct rt_summary *sum, struct cdr_diag *d)
{
    struct batch b = {.o = o, .sink = o->sink, .d = d, .nfiles = n};
    cdr_diag_clear(d);
    b.t0_ms = now_ms();
    b.files = calloc(n + 2, sizeof *b.files);
    int rc = b.files == NULL ? CDR_E_NOMEM : cdr_link_new(&b.link);
    if (rc == 0 && cdr_link_new(&b.rejected) != 0)
        rc = CDR_E_NOMEM;
    if (rc != 0) {
        cdr_link_free(b.link);
        free(b.files);
        return cdr_diag_set(d, CDR_E_NOMEM, NULL, NULL, 0, "out of memory");
    }
    for (size_t i = 0; i < n; i++)
        b.files[i].path = paths[i];
    b.fi_pending = n;
    b.fi_stored = n + 1;
    b.files[n].path = "(pending from earlier runs)";
    b.files[n + 1].path = "(rated in earlier runs)";

    rc = run(&b, n);

    b.sum.elapsed_ms = now_ms() - b.t0_ms;
    for (int s = 0; s < RT_SCN_COUNT; s++) {
        if (b.tot[s].components == 0)
            continue;
        b.tot[s].scenario = (enum rt_scenario)s;
        b.tot[s].currency = rt_deck_currency(o->deck);
        b.sum.totals[b.sum.n_totals++] = b.tot[s];
    }
    if (rc == 0) {
        struct cdr_diag sd;
        cdr_diag_clear(&sd);
        if (o->sink->ops->commit(o->sink->self, &b.sum, &sd) != 0)
            rc = fail(&b, &sd);
    }
    if (rc != 0)
        o->sink->ops->abort(o->sink->self);
    /* the caller's figure includes the commit (the sink's record of the
     * run cannot: it is written inside it) */
    b.sum.elapsed_ms = now_ms() - b.t0_ms;
    if (sum != NULL)
        *sum = b.sum;
    cdr_link_free(b.link);
    cdr_link_free(b.rejected);
    free(b.files);
    return rc;
}

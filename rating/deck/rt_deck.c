/*
 * The rate deck: storage, field checks, the index and lookups.  Loading
 * lives in rt_deck_yaml.c and rt_deck_csv.c.
 */
#include "cdr/record/cdr_validate.h"
#include "cdr/util/cdr_array.h"
#include "cdr/util/cdr_decimal.h"
#include "cdr/util/cdr_time.h"
#include "rating/deck/rt_deck_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- arena ---------------------------------------------------------- */

struct rt_arena_block {
    struct rt_arena_block *next;
    size_t used, cap;
    max_align_t data[]; /* aligned storage */
};

#define RT_ARENA_BLOCK (64 * 1024)

void *
rt_arena_alloc(struct rt_arena *a, size_t size)
{
    size_t need = (size + sizeof(max_align_t) - 1) / sizeof(max_align_t) *
                  sizeof(max_align_t);
    if (need < size)
        return NULL;
    struct rt_arena_block *b = a->head;
    if (b == NULL || b->cap - b->used < need) {
        size_t cap = need > RT_ARENA_BLOCK ? need : RT_ARENA_BLOCK;
        b = malloc(sizeof *b + cap);
        if (b == NULL)
            return NULL;
        b->used = 0;
        b->cap = cap;
        if (a->head != NULL && need > RT_ARENA_BLOCK) {
            /* a big one-off: keep filling the current block after it */
            b->next = a->head->next;
            a->head->next = b;
        } else {
            b->next = a->head;
            a->head = b;
        }
    }
    void *p = (char *)b->data + b->used;
    b->used += need;
    return p;
}

char *
rt_arena_strndup(struct rt_arena *a, const char *s, size_t n)
{
    if (n == SIZE_MAX)
        return NULL;
    char *p = rt_arena_alloc(a, n + 1);
    if (p == NULL)
        return NULL;
    if (n > 0)
        memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void
rt_arena_free(struct rt_arena *a)
{
    struct rt_arena_block *b = a->head;
    while (b != NULL) {
        struct rt_arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
}

/* ---- errors and field checks -------------------------------------- */

void
rt_deck_error(struct rt_deck_loader *ld, struct rt_pos pos, int code,
              const char *field, const char *value, size_t vlen,
              const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cdr_problemv(&ld->probs, pos.file, pos.line, pos.column, code, field, value,
                 vlen, fmt, ap);
    va_end(ap);
}

int
rt_deck_check_prefix(struct rt_deck_loader *ld, struct rt_pos pos,
                     const char *field, const char *s, size_t n)
{
    if (n == 0) {
        rt_deck_error(ld, pos, CDR_E_DECK, field, s, n, "empty prefix");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            rt_deck_error(ld, pos, CDR_E_DECK, field, s, n,
                          "prefix must be digits only");
            return -1;
        }
    }
    if (n > RT_PREFIX_MAX) {
        rt_deck_error(ld, pos, CDR_E_DECK, field, s, n,
                      "prefix longer than %d digits", RT_PREFIX_MAX);
        return -1;
    }
    return 0;
}

/* What is wrong with a rate, in the words of the deck's messages. */
static const char *
rate_problem(int err)
{
    switch (err) {
    case CDR_DEC_EMPTY: return "empty rate";
    case CDR_DEC_NEGATIVE: return "negative rate";
    case CDR_DEC_RANGE: return "rate too large";
    case CDR_DEC_PLACES: return "more than 9 decimal places";
    default: return cdr_decimal_strerror(err);
    }
}

int
rt_deck_check_rate(struct rt_deck_loader *ld, struct rt_pos pos, const char *s,
                   size_t n, int64_t *out)
{
    int err = cdr_decimal_parse(s, n, 9, RT_MAX_DECIMALS, 0, out);
    if (err != 0) {
        rt_deck_error(ld, pos, CDR_E_DECK, "rate", s, n, "%s",
                      rate_problem(err));
        return -1;
    }
    if (n > RT_DECK_MAX_TEXT) { /* only zero padding can get here */
        rt_deck_error(ld, pos, CDR_E_DECK, "rate", s, n,
                      "rate longer than %d characters", RT_DECK_MAX_TEXT);
        return -1;
    }
    return 0;
}

int
rt_deck_check_date(struct rt_deck_loader *ld, struct rt_pos pos,
                   const char *field, const char *s, size_t n, int64_t *out)
{
    if (cdr_time_parse_date(s, n, out) != 0) {
        rt_deck_error(ld, pos, CDR_E_DECK, field, s, n,
                      "invalid date: expected 2026-01-01 or "
                      "2026-01-01T00:00:00Z (or an offset like +02:00)");
        return -1;
    }
    return 0;
}

int
rt_deck_check_increment(struct rt_deck_loader *ld, struct rt_pos pos,
                        const char *s, size_t n, struct rt_increment *out)
{
    if (rt_increment_parse(s, n, out) != 0) {
        rt_deck_error(ld, pos, CDR_E_DECK, "increment", s, n,
                      "invalid increment: expected first/next seconds, "
                      "each 1..86400 (60/60, 60/6)");
        return -1;
    }
    return 0;
}

static const char *
fee_name(unsigned which)
{
    return which == RT_FEE_CONNECT ? "connect_fee" : "minimum_charge";
}

int
rt_deck_check_fee(struct rt_deck_loader *ld, struct rt_pos pos, unsigned which,
                  const char *s, size_t n, struct rt_fees *fees, unsigned *has)
{
    int64_t v;
    int err = cdr_decimal_parse(s, n, 9, RT_MAX_DECIMALS, 0, &v);
    if (err != 0) {
        rt_deck_error(ld, pos, CDR_E_DECK, fee_name(which), s, n, "%s%s",
                      err == CDR_DEC_NEGATIVE ? "a fee cannot be negative"
                      : err == CDR_DEC_PLACES ? "more than 9 decimal places"
                                              : cdr_decimal_strerror(err),
                      err == CDR_DEC_NEGATIVE || err == CDR_DEC_PLACES
                          ? ""
                          : " (an exact decimal such as 0.0100)");
        return -1;
    }
    if (which == RT_FEE_CONNECT)
        fees->connect_fee_nano = v;
    else
        fees->minimum_nano = v;
    *has |= which;
    return 0;
}

int
rt_deck_check_free_seconds(struct rt_deck_loader *ld, struct rt_pos pos,
                           const char *s, size_t n, struct rt_fees *fees,
                           unsigned *has)
{
    int64_t v;
    if (cdr_decimal_parse(s, n, 0, 0, 0, &v) != 0 || v > CDR_MAX_DURATION) {
        rt_deck_error(ld, pos, CDR_E_DECK, "free_seconds", s, n,
                      "free_seconds must be whole seconds, 0..%d",
                      CDR_MAX_DURATION);
        return -1;
    }
    fees->free_seconds = v;
    *has |= RT_FEE_FREE;
    return 0;
}

/* ---- building --------------------------------------------------------- */

int
rt_deck_add_entry(struct rt_deck_loader *ld, const struct rt_entry *e)
{
    struct rt_deck *dk = ld->deck;
    if (dk->n_entries >= RT_DECK_MAX_ENTRIES) {
        if (!ld->too_many_entries)
            rt_deck_error(ld, (struct rt_pos){e->file, e->line, e->column},
                          CDR_E_LIMIT, NULL, NULL, 0,
                          "more than %d price entries in the deck",
                          RT_DECK_MAX_ENTRIES);
        ld->too_many_entries = 1;
        return 0; /* reported: not out of memory */
    }
    /* entries are linked by int32 indexes */
    if (dk->n_entries >= (size_t)INT32_MAX ||
        cdr_array_grow((void **)&dk->entries, &dk->cap_entries,
                       dk->n_entries + 1, sizeof *dk->entries, 64) != 0)
        return CDR_E_NOMEM;
    dk->entries[dk->n_entries++] = *e;
    return 0;
}

static int
rt_entry_key_cmp(const struct rt_entry *a, const struct rt_entry *b)
{
    if (a->service != b->service)
        return a->service < b->service ? -1 : 1;
    if (a->is_sip != b->is_sip)
        return a->is_sip < b->is_sip ? -1 : 1;
    int c = strcmp(a->prefix, b->prefix);
    if (c != 0)
        return c;
    return strcmp(a->from_prefix, b->from_prefix);
}

static int
rt_entry_order(const void *pa, const void *pb)
{
    const struct rt_entry *a = *(const struct rt_entry *const *)pa;
    const struct rt_entry *b = *(const struct rt_entry *const *)pb;
    int c = rt_entry_key_cmp(a, b);
    if (c != 0)
        return c;
    if (a->from != b->from)
        return a->from < b->from ? -1 : 1;
    /* then file order, so the report is deterministic */
    return a < b ? -1 : a > b;
}

static void
rt_deck_check_overlaps(struct rt_deck_loader *ld)
{
    struct rt_deck *dk = ld->deck;
    if (dk->n_entries < 2)
        return;
    const struct rt_entry **idx = malloc(dk->n_entries * sizeof *idx);
    if (idx == NULL) {
        rt_deck_error(ld, (struct rt_pos){ld->yaml_file, 0, 0}, CDR_E_NOMEM,
                      NULL, NULL, 0, "out of memory");
        return;
    }
    for (size_t i = 0; i < dk->n_entries; i++)
        idx[i] = &dk->entries[i];
    qsort(idx, dk->n_entries, sizeof *idx, rt_entry_order);

    /* Within a key group sorted by start, an entry overlaps an earlier one
     * exactly when it starts before the latest end seen so far. */
    size_t reach = 0; /* the earlier entry with the latest end */
    for (size_t k = 1; k < dk->n_entries; k++) {
        const struct rt_entry *cur = idx[k];
        const struct rt_entry *prev = idx[k - 1];
        if (rt_entry_key_cmp(cur, prev) != 0) {
            reach = k;
            continue;
        }
        const struct rt_entry *far = idx[reach];
        if (cur->from < far->to) {
            char other[CDR_DIAG_TEXT / 2];
            snprintf(other, sizeof other, "%s:%ld", far->file, far->line);
            rt_deck_error(
                ld, (struct rt_pos){cur->file, cur->line, cur->column},
                CDR_E_DECK, cur->is_sip ? "class" : "prefix", NULL, 0,
                "%s %s%s%s: effective range overlaps the entry at %s",
                rt_service_name(cur->service), cur->prefix,
                cur->from_len ? " from_prefix " : "", cur->from_prefix, other);
        }
        if (cur->to > far->to)
            reach = k;
    }
    free(idx);
}

/* ---- digest ----------------------------------------------------------- */

void
rt_deck_digest_line(struct rt_deck_loader *ld, const char *name,
                    size_t name_len, const char hex[CDR_DIGEST_HEX])
{
    size_t need = ld->manifest_len + 64 + 2 + name_len + 2;
    if (cdr_array_grow((void **)&ld->manifest, &ld->manifest_cap, need, 1,
                       256) != 0) {
        ld->manifest_oom = 1;
        return;
    }
    char *o = ld->manifest + ld->manifest_len;
    memcpy(o, hex, 64);
    memcpy(o + 64, "  ", 2);
    memcpy(o + 66, name, name_len);
    o[66 + name_len] = '\n';
    ld->manifest_len += 66 + name_len + 1;
    ld->manifest[ld->manifest_len] = '\0';
}

void
rt_deck_digest_add(struct rt_deck_loader *ld, const char *name, const char *p,
                   size_t n)
{
    char hex[CDR_DIGEST_HEX];
    struct cdr_digest *dg = cdr_digest_new();
    if (dg == NULL) {
        ld->manifest_oom = 1;
        return;
    }
    cdr_digest_update(dg, p, n);
    if (cdr_digest_final(dg, hex, NULL) != 0)
        ld->manifest_oom = 1;
    else
        rt_deck_digest_line(ld, name, strlen(name), hex);
    cdr_digest_free(dg);
}

int
rt_deck_digest_finish(struct rt_deck_loader *ld)
{
    struct rt_deck *dk = ld->deck;
    struct cdr_digest *dg = cdr_digest_new();
    if (ld->manifest_oom || ld->manifest == NULL || dg == NULL) {
        cdr_digest_free(dg);
        return -1;
    }
    cdr_digest_update(dg, ld->manifest, ld->manifest_len);
    int rc = cdr_digest_final(dg, dk->sha256, NULL);
    cdr_digest_free(dg);
    dk->manifest = rt_arena_strndup(&dk->arena, ld->manifest, ld->manifest_len);
    return rc == 0 && dk->manifest != NULL ? 0 : -1;
}

/* A fee with digits below the deck's decimals could not be added to a
 * rounded amount without a second rounding: a deck error. */
static void
check_fee_places(struct rt_deck_loader *ld, struct rt_pos at,
                 const struct rt_fees *f, unsigned has)
{
    const struct rt_deck *dk = ld->deck;
    static const unsigned which[] = {RT_FEE_CONNECT, RT_FEE_MINIMUM};
    for (size_t i = 0; ld->decimals_ok && i < 2; i++) {
        if (!(has & which[i]))
            continue;
        int64_t v =
            which[i] == RT_FEE_CONNECT ? f->connect_fee_nano : f->minimum_nano;
        char grid[48], text[48];
        if (cdr_decimal_format(v, 9, dk->decimals, grid, sizeof grid) >= 0)
            continue;
        int n = cdr_decimal_format(v, 9, 9, text, sizeof text);
        while (n > 1 && text[n - 1] == '0' && text[n - 2] != '.')
            text[--n] = '\0';
        rt_deck_error(ld, at, CDR_E_DECK, fee_name(which[i]), text, (size_t)n,
                      "%s has more decimal places than the deck's decimals "
                      "(%d)",
                      fee_name(which[i]), dk->decimals);
    }
}

/* The entry's own fees, the deck's for the rest. */
static void
inherit_fees(struct rt_fees *f, unsigned has, const struct rt_fees *deck)
{
    if (!(has & RT_FEE_CONNECT))
        f->connect_fee_nano = deck->connect_fee_nano;
    if (!(has & RT_FEE_MINIMUM))
        f->minimum_nano = deck->minimum_nano;
    if (!(has & RT_FEE_FREE))
        f->free_seconds = deck->free_seconds;
}

void
rt_deck_finish(struct rt_deck_loader *ld)
{
    struct rt_deck *dk = ld->deck;
    check_fee_places(ld, ld->fees_at, &dk->fees, ld->deck_fees);
    for (size_t i = 0; i < dk->n_entries; i++) {
        struct rt_entry *e = &dk->entries[i];
        check_fee_places(ld, (struct rt_pos){e->file, e->line, e->column},
                         &e->fees, e->has_fees);
        inherit_fees(&e->fees, e->has_fees, &dk->fees);
        if (!e->has_inc)
            e->inc = dk->increment;
        int s = e->service == RT_SVC_ORIGINATION;
        if (e->is_sip) {
            e->next = dk->sip_head[s];
            dk->sip_head[s] = (int32_t)i;
            continue;
        }
        int32_t node =
            rt_prefix_insert(&dk->trie[s], e->prefix, strlen(e->prefix));
        if (node < 0) {
            rt_deck_error(ld, (struct rt_pos){ld->yaml_file, 0, 0}, CDR_E_NOMEM,
                          NULL, NULL, 0, "out of memory");
            return;
        }
        e->next = dk->trie[s].nodes[node].head;
        dk->trie[s].nodes[node].head = (int32_t)i;
    }
    rt_deck_check_overlaps(ld);
}

/* ---- the public side ------------------------------------------------ */

const char *
rt_service_name(enum rt_service s)
{
    switch (s) {
    case RT_SVC_TERMINATION: return "termination";
    case RT_SVC_ORIGINATION: return "origination";
    default: return "unknown";
    }
}

void
rt_deck_free(struct rt_deck *deck)
{
    if (deck == NULL)
        return;
    free(deck->entries);
    rt_prefix_free(&deck->trie[0]);
    rt_prefix_free(&deck->trie[1]);
    cdr_trunks_free(&deck->trunks);
    rt_arena_free(&deck->arena);
    free(deck);
}

const char *
rt_deck_name(const struct rt_deck *deck)
{
    return deck->name;
}

const char *
rt_deck_currency(const struct rt_deck *deck)
{
    return deck->currency;
}

int
rt_deck_decimals(const struct rt_deck *deck)
{
    return deck->decimals;
}

enum rt_rounding
rt_deck_rounding(const struct rt_deck *deck)
{
    return deck->rounding;
}

size_t
rt_deck_entries(const struct rt_deck *deck)
{
    return deck->n_entries;
}

size_t
rt_deck_trunk_count(const struct rt_deck *deck)
{
    return deck->trunks.n;
}

const struct cdr_trunk *
rt_deck_trunk_at(const struct rt_deck *deck, size_t i)
{
    return i < deck->trunks.n ? &deck->trunks.items[i] : NULL;
}

const struct cdr_trunk *
rt_deck_trunk(const struct rt_deck *deck, const char *sid, size_t n)
{
    return cdr_trunks_find(&deck->trunks, sid, n);
}

const char *
rt_deck_sha256(const struct rt_deck *deck)
{
    return deck->sha256;
}

const char *
rt_deck_manifest(const struct rt_deck *deck)
{
    return deck->manifest != NULL ? deck->manifest : "";
}

/* Among one prefix's entries in force at `at`: the longest matching
 * from_prefix, else the one without; -1 if none applies. */
static int32_t
rt_deck_pick(const struct rt_deck *deck, int32_t head, const char *from,
             size_t from_n, int64_t at)
{
    int32_t best = -1;
    size_t best_len = 0;
    for (int32_t i = head; i >= 0; i = deck->entries[i].next) {
        const struct rt_entry *e = &deck->entries[i];
        if (at < e->from || (at >= e->to && e->to != INT64_MAX))
            continue; /* INT64_MAX: open end, in force forever */
        if (e->from_len > 0 &&
            (e->from_len > from_n || memcmp(e->from_prefix, from, e->from_len)))
            continue;
        if (best < 0 || e->from_len > best_len) {
            best = i;
            best_len = e->from_len;
        }
    }
    return best;
}

int
rt_deck_price(const struct rt_deck *deck, enum rt_service service,
              const char *dest_digits, size_t dest_n, int dest_is_sip,
              const char *from_digits, size_t from_n, int64_t at,
              struct rt_price *out)
{
    if (service != RT_SVC_TERMINATION && service != RT_SVC_ORIGINATION)
        return CDR_E_NO_RATE;
    int s = service == RT_SVC_ORIGINATION;
    if (from_digits == NULL)
        from_n = 0;
    int32_t found = -1;
    if (dest_is_sip) {
        found = rt_deck_pick(deck, deck->sip_head[s], from_digits, from_n, at);
    } else if (dest_digits != NULL) {
        int32_t path[RT_PREFIX_MAX];
        size_t k = rt_prefix_path(&deck->trie[s], dest_digits, dest_n, path,
                                  RT_PREFIX_MAX);
        /* Longest first; a prefix with nothing in force falls back. */
        while (k > 0 && found < 0) {
            k--;
            found = rt_deck_pick(deck, deck->trie[s].nodes[path[k]].head,
                                 from_digits, from_n, at);
        }
    }
    if (found < 0)
        return CDR_E_NO_RATE;
    const struct rt_entry *e = &deck->entries[found];
    out->rate_nano = e->rate_nano;
    out->rate_text = e->rate_text;
    out->matched = e->prefix;
    out->from_prefix = e->from_prefix;
    out->increment = e->inc;
    out->fees = e->fees;
    return 0;
}

/*
 * Loading the deck's YAML with libyaml's document API.  The shape is fixed
 * and shallow (top mapping -> lists -> mappings of scalars), so the walk
 * never recurses and aliases cost nothing extra.  Every problem is reported
 * with its 1-based line and column; nothing is returned until all of it
 * has been checked.
 */
#include "rating/deck/rt_deck_int.h"

#include "cdr/util/cdr_digest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

static struct rt_pos
rt_yaml_pos(const struct rt_deck_loader *ld, const yaml_node_t *n)
{
    struct rt_pos p = {ld->yaml_file, (long)n->start_mark.line + 1,
                       (long)n->start_mark.column + 1};
    return p;
}

static const char *
rt_yaml_text(const yaml_node_t *n, size_t *len)
{
    *len = n->data.scalar.length;
    return (const char *)n->data.scalar.value;
}

/* ---- price entries ---------------------------------------------------- */

enum {
    PK_PREFIX,
    PK_CLASS,
    PK_CSV,
    PK_RATE,
    PK_FROM,
    PK_TO,
    PK_INCREMENT,
    PK_FROM_PREFIX,
    PK_CONNECT_FEE,
    PK_MINIMUM_CHARGE,
    PK_FREE_SECONDS,
};
static const char *const rt_price_keys[] = {
    "prefix",         "class",          "csv",          "rate",
    "effective_from", "effective_to",   "increment",    "from_prefix",
    "connect_fee",    "minimum_charge", "free_seconds",
};

/* The keys of one price entry: the value (and key node) of each. */
struct price_keys {
    const yaml_node_t *val[N_ELEMS(rt_price_keys)];
    const yaml_node_t *key[N_ELEMS(rt_price_keys)];
};

/* 0, or -1 after reporting an unknown or repeated key. */
static int
price_keys_of(struct rt_deck_loader *ld, const yaml_node_t *map,
              struct price_keys *pk)
{
    unsigned seen = 0;
    int ok = 1;
    memset(pk, 0, sizeof *pk);
    CDR_YAML_FOR_PAIRS(&ld->y, map, p, k, v)
    {
        int i = cdr_yaml_key(&ld->y, k, rt_price_keys, N_ELEMS(rt_price_keys),
                             &seen);
        if (i < 0) {
            ok = 0;
            continue;
        }
        pk->key[i] = k;
        pk->val[i] = v;
    }
    return ok ? 0 : -1;
}

/* { csv: FILE }, alone. */
static void
price_csv(struct rt_deck_loader *ld, const struct price_keys *pk, int ok,
          enum rt_service service)
{
    const char *s;
    size_t len;
    for (size_t i = 0; i < N_ELEMS(rt_price_keys); i++) {
        if (i != PK_CSV && pk->key[i] != NULL) {
            rt_deck_error(ld, rt_yaml_pos(ld, pk->key[i]), CDR_E_DECK,
                          rt_price_keys[i], NULL, 0,
                          "a csv: entry takes no other keys");
            ok = 0;
        }
    }
    if (cdr_yaml_scalar(&ld->y, pk->val[PK_CSV], "csv", &s, &len) == 0 && ok)
        rt_deck_load_csv(ld, rt_yaml_pos(ld, pk->val[PK_CSV]), service, s, len);
}

/* What the entry prices: a prefix or the sip class.  0 or -1. */
static int
price_target(struct rt_deck_loader *ld, const struct price_keys *pk,
             struct rt_pos at, struct rt_entry *e)
{
    const char *s;
    size_t len;
    const yaml_node_t *prefix = pk->val[PK_PREFIX], *class = pk->val[PK_CLASS];
    if (prefix != NULL && class != NULL) {
        rt_deck_error(ld, rt_yaml_pos(ld, pk->key[PK_CLASS]), CDR_E_DECK,
                      "class", NULL, 0,
                      "an entry has a prefix or a class, not both");
        return -1;
    }
    if (prefix != NULL) {
        if (cdr_yaml_scalar(&ld->y, prefix, "prefix", &s, &len) != 0 ||
            rt_deck_check_prefix(ld, rt_yaml_pos(ld, prefix), "prefix", s,
                                 len) != 0)
            return -1;
        e->prefix = rt_arena_strndup(&ld->deck->arena, s, len);
        return 0;
    }
    if (class == NULL) {
        rt_deck_error(ld, at, CDR_E_DECK, "prefix", NULL, 0,
                      "a price entry needs prefix, class or csv");
        return -1;
    }
    if (cdr_yaml_scalar(&ld->y, class, "class", &s, &len) != 0)
        return -1;
    if (len != 3 || memcmp(s, "sip", 3) != 0) {
        rt_deck_error(ld, rt_yaml_pos(ld, class), CDR_E_DECK, "class", s, len,
                      "unknown class (only sip)");
        return -1;
    }
    e->is_sip = 1;
    e->prefix = "sip";
    return 0;
}

static int
price_rate(struct rt_deck_loader *ld, const struct price_keys *pk,
           struct rt_pos at, struct rt_entry *e)
{
    const char *s;
    size_t len;
    const yaml_node_t *v = pk->val[PK_RATE];
    if (v == NULL) {
        rt_deck_error(ld, at, CDR_E_DECK, "rate", NULL, 0, "missing rate");
        return -1;
    }
    if (cdr_yaml_scalar(&ld->y, v, "rate", &s, &len) != 0 ||
        rt_deck_check_rate(ld, rt_yaml_pos(ld, v), s, len, &e->rate_nano) != 0)
        return -1;
    e->rate_text = rt_arena_strndup(&ld->deck->arena, s, len);
    return 0;
}

/* A date key, when given.  0 or -1. */
static int
price_date(struct rt_deck_loader *ld, const yaml_node_t *v, const char *field,
           int64_t *out)
{
    const char *s;
    size_t len;
    if (v == NULL)
        return 0;
    if (cdr_yaml_scalar(&ld->y, v, field, &s, &len) != 0 ||
        rt_deck_check_date(ld, rt_yaml_pos(ld, v), field, s, len, out) != 0)
        return -1;
    return 0;
}

/* The entry's own fees, when given.  0 or -1. */
static int
price_fees(struct rt_deck_loader *ld, const struct price_keys *pk,
           struct rt_entry *e)
{
    static const struct {
        int key;
        unsigned which;
    } fees[] = {{PK_CONNECT_FEE, RT_FEE_CONNECT},
                {PK_MINIMUM_CHARGE, RT_FEE_MINIMUM},
                {PK_FREE_SECONDS, RT_FEE_FREE}};
    int ok = 1;
    for (size_t i = 0; i < N_ELEMS(fees); i++) {
        const yaml_node_t *v = pk->val[fees[i].key];
        const char *s;
        size_t len;
        if (v == NULL)
            continue;
        if (cdr_yaml_scalar(&ld->y, v, rt_price_keys[fees[i].key], &s, &len) !=
            0) {
            ok = 0;
        } else if (fees[i].which == RT_FEE_FREE) {
            ok &= rt_deck_check_free_seconds(ld, rt_yaml_pos(ld, v), s, len,
                                             &e->fees, &e->has_fees) == 0;
        } else {
            ok &= rt_deck_check_fee(ld, rt_yaml_pos(ld, v), fees[i].which, s,
                                    len, &e->fees, &e->has_fees) == 0;
        }
    }
    return ok ? 0 : -1;
}

/* increment and from_prefix, when given.  0 or -1. */
static int
price_options(struct rt_deck_loader *ld, const struct price_keys *pk,
              struct rt_entry *e)
{
    const char *s;
    size_t len;
    int ok = 1;
    const yaml_node_t *inc = pk->val[PK_INCREMENT];
    if (inc != NULL) {
        if (cdr_yaml_scalar(&ld->y, inc, "increment", &s, &len) != 0 ||
            rt_deck_check_increment(ld, rt_yaml_pos(ld, inc), s, len,
                                    &e->inc) != 0)
            ok = 0;
        e->has_inc = 1;
    }
    const yaml_node_t *fp = pk->val[PK_FROM_PREFIX];
    if (fp != NULL) {
        if (cdr_yaml_scalar(&ld->y, fp, "from_prefix", &s, &len) != 0 ||
            rt_deck_check_prefix(ld, rt_yaml_pos(ld, fp), "from_prefix", s,
                                 len) != 0) {
            ok = 0;
        } else {
            e->from_prefix = rt_arena_strndup(&ld->deck->arena, s, len);
            e->from_len = len;
        }
    }
    return ok ? 0 : -1;
}

static void
rt_yaml_price(struct rt_deck_loader *ld, const yaml_node_t *map,
              enum rt_service service)
{
    if (cdr_yaml_expect(&ld->y, map, YAML_MAPPING_NODE,
                        rt_service_name(service),
                        "a price entry ({prefix: ..., rate: ...})") != 0)
        return;
    struct price_keys pk;
    int ok = price_keys_of(ld, map, &pk) == 0;
    if (pk.val[PK_CSV] != NULL) {
        price_csv(ld, &pk, ok, service);
        return;
    }
    struct rt_pos at = rt_yaml_pos(ld, map);
    struct rt_entry e;
    memset(&e, 0, sizeof e);
    e.service = service;
    e.from = INT64_MIN;
    e.to = INT64_MAX;
    e.next = -1;
    e.file = ld->yaml_file;
    e.line = at.line;
    e.column = at.column;
    e.from_prefix = "";
    /* each check reports its own problem: run them all */
    ok &= price_target(ld, &pk, at, &e) == 0;
    ok &= price_rate(ld, &pk, at, &e) == 0;
    ok &= price_date(ld, pk.val[PK_FROM], "effective_from", &e.from) == 0;
    ok &= price_date(ld, pk.val[PK_TO], "effective_to", &e.to) == 0;
    if (ok && e.to <= e.from) { /* only when both are given */
        size_t len;
        const char *s = rt_yaml_text(pk.val[PK_TO], &len);
        rt_deck_error(ld, rt_yaml_pos(ld, pk.val[PK_TO]), CDR_E_DECK,
                      "effective_to", s, len,
                      "effective_to must be after effective_from");
        ok = 0;
    }
    ok &= price_options(ld, &pk, &e) == 0;
    ok &= price_fees(ld, &pk, &e) == 0;
    if (!ok)
        return;
    if (e.prefix == NULL || e.rate_text == NULL || e.from_prefix == NULL ||
        rt_deck_add_entry(ld, &e) != 0)
        cdr_yaml_nomem(&ld->y, map);
}

static void
rt_yaml_prices(struct rt_deck_loader *ld, const yaml_node_t *seq,
               enum rt_service service)
{
    if (cdr_yaml_expect(&ld->y, seq, YAML_SEQUENCE_NODE,
                        rt_service_name(service),
                        "a list of price entries") != 0)
        return;
    CDR_YAML_FOR_ITEMS(&ld->y, seq, it, v)
    {
        rt_yaml_price(ld, v, service);
    }
}

int
rt_deck_name_ok(const char *s, size_t len)
{
    if (len == 0 || len > 64)
        return 0;
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
            return 0;
    }
    return 1;
}

/* ---- the top level ---------------------------------------------------- */

enum {
    TOP_DECK,
    TOP_CURRENCY,
    TOP_DECIMALS,
    TOP_ROUNDING,
    TOP_INCREMENT,
    TOP_TERMINATION,
    TOP_ORIGINATION,
    TOP_TRUNKS,
    TOP_CONNECT_FEE,
    TOP_MINIMUM_CHARGE,
    TOP_FREE_SECONDS,
};
static const char *const rt_top_keys[] = {
    "deck",        "currency",       "decimals",     "rounding",
    "increment",   "termination",    "origination",  "trunks",
    "connect_fee", "minimum_charge", "free_seconds",
};

/* The top level's scalars: the deck's name, currency, decimals, rounding,
 * default increment and fees. */
static void
top_scalar(struct rt_deck_loader *ld, int key, const yaml_node_t *v)
{
    struct rt_deck *dk = ld->deck;
    const char *s;
    size_t len;
    if (cdr_yaml_scalar(&ld->y, v, rt_top_keys[key], &s, &len) != 0)
        return;
    struct rt_pos at = rt_yaml_pos(ld, v);
    switch (key) {
    case TOP_DECK:
        if (!rt_deck_name_ok(s, len))
            rt_deck_error(ld, at, CDR_E_DECK, "deck", s, len,
                          "deck name must be 1 to 64 printable "
                          "characters without spaces");
        else if ((dk->name = rt_arena_strndup(&dk->arena, s, len)) == NULL)
            cdr_yaml_nomem(&ld->y, v);
        break;
    case TOP_CURRENCY:
        if (len != 3 || s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' || s[1] > 'Z' ||
            s[2] < 'A' || s[2] > 'Z')
            rt_deck_error(ld, at, CDR_E_DECK, "currency", s, len,
                          "currency must be 3 upper-case letters");
        else
            memcpy(dk->currency, s, 4 - 1);
        break;
    case TOP_DECIMALS:
        if (len != 1 || s[0] < '0' || s[0] > '0' + RT_MAX_DECIMALS ||
            v->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) {
            rt_deck_error(ld, at, CDR_E_DECK, "decimals", s, len,
                          "decimals must be an integer 0..%d", RT_MAX_DECIMALS);
        } else {
            dk->decimals = s[0] - '0';
            ld->decimals_ok = 1;
        }
        break;
    case TOP_ROUNDING:
        if (rt_rounding_parse(s, len, &dk->rounding) != 0)
            rt_deck_error(ld, at, CDR_E_DECK, "rounding", s, len,
                          "rounding must be half-up, half-even, up or down");
        break;
    case TOP_INCREMENT:
        rt_deck_check_increment(ld, at, s, len, &dk->increment);
        break;
    case TOP_CONNECT_FEE:
    case TOP_MINIMUM_CHARGE:
        ld->fees_at = at;
        rt_deck_check_fee(
            ld, at, key == TOP_CONNECT_FEE ? RT_FEE_CONNECT : RT_FEE_MINIMUM, s,
            len, &dk->fees, &ld->deck_fees);
        break;
    case TOP_FREE_SECONDS:
        rt_deck_check_free_seconds(ld, at, s, len, &dk->fees, &ld->deck_fees);
        break;
    default: break;
    }
}

static void
rt_yaml_top(struct rt_deck_loader *ld, const yaml_node_t *root)
{
    struct rt_deck *dk = ld->deck;
    if (cdr_yaml_expect(&ld->y, root, YAML_MAPPING_NODE, NULL,
                        "a mapping (deck:, currency:, ...) at the top") != 0)
        return;
    unsigned seen = 0;
    CDR_YAML_FOR_PAIRS(&ld->y, root, p, k, v)
    {
        int i =
            cdr_yaml_key(&ld->y, k, rt_top_keys, N_ELEMS(rt_top_keys), &seen);
        switch (i) {
        case -1: break;
        case TOP_TERMINATION: rt_yaml_prices(ld, v, RT_SVC_TERMINATION); break;
        case TOP_ORIGINATION: rt_yaml_prices(ld, v, RT_SVC_ORIGINATION); break;
        case TOP_TRUNKS: cdr_trunks_read(&dk->trunks, &ld->y, v); break;
        default: top_scalar(ld, i, v); break;
        }
    }
    static const int required[] = {TOP_DECK, TOP_CURRENCY, TOP_DECIMALS,
                                   TOP_ROUNDING};
    for (size_t i = 0; i < N_ELEMS(required); i++) {
        int r = required[i];
        if (!(seen & (1u << r)))
            rt_deck_error(ld, rt_yaml_pos(ld, root), CDR_E_DECK, rt_top_keys[r],
                          NULL, 0, "missing required key %s", rt_top_keys[r]);
    }
}

/* Read the YAML (hashing exactly the bytes parsed) and check it. */
static void
rt_yaml_load_file(struct rt_deck_loader *ld, const char *path)
{
    struct cdr_diag d;
    char *text;
    size_t len;
    cdr_diag_clear(&d);
    if (cdr_yaml_read_file(path, "rate deck", RT_DECK_MAX_YAML, &text, &len,
                           &d) != 0) {
        if (d.code == CDR_E_LIMIT)
            cdr_diag_detail(&d, "put long price lists in csv: files");
        rt_deck_error(ld, (struct rt_pos){ld->yaml_file, 0, 0}, d.code, NULL,
                      NULL, 0, "%s%s%s%s", d.message, d.detail[0] ? " (" : "",
                      d.detail, d.detail[0] ? ")" : "");
        return;
    }
    const char *slash = strrchr(path, '/');
    rt_deck_digest_add(ld, slash ? slash + 1 : path, text, len);
    ld->bytes += len;
    ld->y.file = ld->yaml_file;
    ld->y.what = "rate deck";
    ld->y.code = CDR_E_DECK;
    ld->y.probs = &ld->probs;
    if (cdr_yaml_load(&ld->y, text, len) == 0)
        rt_yaml_top(ld, cdr_yaml_root(&ld->y));
    cdr_yaml_free(&ld->y);
    free(text);
}

int
rt_deck_load(struct rt_deck **out, const char *path, struct cdr_diag_list *errs)
{
    *out = NULL;
    struct rt_deck *dk = calloc(1, sizeof *dk);
    if (dk == NULL)
        goto nomem;
    dk->name = "";
    dk->decimals = 0;
    dk->rounding = RT_ROUND_HALF_UP;
    dk->increment.first = 60;
    dk->increment.next = 60;
    dk->sip_head[0] = dk->sip_head[1] = -1;
    if (rt_prefix_init(&dk->trie[0]) != 0 || rt_prefix_init(&dk->trie[1]) != 0)
        goto nomem;

    struct rt_deck_loader ld;
    memset(&ld, 0, sizeof ld);
    ld.deck = dk;
    ld.probs = (struct cdr_problems){errs, 0, RT_DECK_MAX_ERRORS};
    ld.yaml_file = rt_arena_strndup(&dk->arena, path, strlen(path));
    const char *slash = strrchr(path, '/');
    ld.dir = rt_arena_strndup(&dk->arena, path,
                              slash ? (size_t)(slash - path) + 1 : 0);
    if (ld.yaml_file == NULL || ld.dir == NULL)
        goto nomem;

    rt_yaml_load_file(&ld, path);
    /* even after problems, so one pass lists overlaps and fees too */
    rt_deck_finish(&ld);
    if (ld.probs.count == 0 && rt_deck_digest_finish(&ld) != 0)
        rt_deck_error(&ld, (struct rt_pos){ld.yaml_file, 0, 0}, CDR_E_NOMEM,
                      NULL, NULL, 0, "cannot compute the deck's sha256");
    free(ld.manifest);
    free(ld.lists);
    free(ld.list_paths);
    cdr_problems_finish(&ld.probs, path);
    if (ld.probs.count > 0) {
        rt_deck_free(dk);
        return CDR_E_DECK;
    }
    *out = dk;
    return 0;

nomem:
    rt_deck_free(dk);
    {
        struct cdr_diag d;
        cdr_diag_clear(&d);
        cdr_diag_set(&d, CDR_E_NOMEM, NULL, NULL, 0, "out of memory");
        cdr_diag_at(&d, path, 0, 0);
        cdr_diag_list_add(errs, &d);
    }
    return CDR_E_NOMEM;
}

/*
 * Loading the deck's YAML with libyaml's document API.  The shape is fixed
 * and shallow (top mapping -> lists -> mappings of scalars), so the walk
 * never recurses and aliases cost nothing extra.  Every problem is reported
 * with its 1-based line and column; nothing is returned until all of it
 * has been checked.
 */
#include "rating/deck/rt_deck_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

struct rt_yaml {
    struct rt_deck_loader *ld;
    yaml_document_t *doc;
};

static struct rt_pos
rt_yaml_pos(const struct rt_yaml *y, const yaml_node_t *n)
{
    struct rt_pos p = {y->ld->yaml_file, (long)n->start_mark.line + 1,
                       (long)n->start_mark.column + 1};
    return p;
}

static const char *
rt_yaml_text(const yaml_node_t *n, size_t *len)
{
    *len = n->data.scalar.length;
    return (const char *)n->data.scalar.value;
}

/* A scalar with a value; plain empty, ~ and null count as missing. */
static int
rt_yaml_scalar(struct rt_yaml *y, const yaml_node_t *n, const char *field,
               const char **s, size_t *len)
{
    if (n->type != YAML_SCALAR_NODE) {
        rt_deck_error(y->ld, rt_yaml_pos(y, n), CDR_E_DECK, field, NULL, 0,
                      "expected a single value, not a %s",
                      n->type == YAML_SEQUENCE_NODE ? "list" : "mapping");
        return -1;
    }
    *s = rt_yaml_text(n, len);
    if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
        (*len == 0 || (*len == 1 && **s == '~') ||
         (*len == 4 && memcmp(*s, "null", 4) == 0))) {
        rt_deck_error(y->ld, rt_yaml_pos(y, n), CDR_E_DECK, field, NULL, 0,
                      "missing value");
        return -1;
    }
    return 0;
}

static int
rt_yaml_bool(struct rt_yaml *y, const yaml_node_t *n, const char *field,
             int *out)
{
    const char *s;
    size_t len;
    if (rt_yaml_scalar(y, n, field, &s, &len) != 0)
        return -1;
    if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
        if (len == 4 && memcmp(s, "true", 4) == 0) {
            *out = 1;
            return 0;
        }
        if (len == 5 && memcmp(s, "false", 5) == 0) {
            *out = 0;
            return 0;
        }
    }
    rt_deck_error(y->ld, rt_yaml_pos(y, n), CDR_E_DECK, field, s, len,
                  "expected true or false");
    return -1;
}

/* Index of the key in `keys`, reporting unknown and repeated keys. */
static int
rt_yaml_key(struct rt_yaml *y, const yaml_node_t *key, const char *const *keys,
            size_t nkeys, unsigned *seen)
{
    const char *s;
    size_t len;
    if (key->type != YAML_SCALAR_NODE) {
        rt_deck_error(y->ld, rt_yaml_pos(y, key), CDR_E_DECK, NULL, NULL, 0,
                      "expected a key name");
        return -1;
    }
    s = rt_yaml_text(key, &len);
    for (size_t i = 0; i < nkeys; i++) {
        if (strlen(keys[i]) == len && memcmp(keys[i], s, len) == 0) {
            if (*seen & (1u << i)) {
                rt_deck_error(y->ld, rt_yaml_pos(y, key), CDR_E_DECK, keys[i],
                              s, len, "duplicate key");
                return -1;
            }
            *seen |= 1u << i;
            return (int)i;
        }
    }
    rt_deck_error(y->ld, rt_yaml_pos(y, key), CDR_E_DECK, NULL, s, len,
                  "unknown key");
    return -1;
}

static int
rt_yaml_expect(struct rt_yaml *y, const yaml_node_t *n, yaml_node_type_t t,
               const char *field, const char *what)
{
    if (n->type == t)
        return 0;
    rt_deck_error(y->ld, rt_yaml_pos(y, n), CDR_E_DECK, field, NULL, 0,
                  "expected %s", what);
    return -1;
}

static void
rt_yaml_nomem(struct rt_yaml *y, const yaml_node_t *n)
{
    rt_deck_error(y->ld, rt_yaml_pos(y, n), CDR_E_NOMEM, NULL, NULL, 0,
                  "out of memory");
}

#define FOR_PAIRS(y, map, p, k, v)                                             \
    for (yaml_node_pair_t *p = (map)->data.mapping.pairs.start;                \
         p < (map)->data.mapping.pairs.top; p++)                               \
        for (yaml_node_t *k = yaml_document_get_node((y)->doc, p->key),        \
                         *v = yaml_document_get_node((y)->doc, p->value);      \
             k != NULL && v != NULL; k = v = NULL)

#define FOR_ITEMS(y, seq, it, v)                                               \
    for (yaml_node_item_t *it = (seq)->data.sequence.items.start;              \
         it < (seq)->data.sequence.items.top; it++)                            \
        for (yaml_node_t *v = yaml_document_get_node((y)->doc, *it);           \
             v != NULL; v = NULL)

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
};
static const char *const rt_price_keys[] = {
    "prefix",         "class",        "csv",       "rate",
    "effective_from", "effective_to", "increment", "from_prefix",
};

static void
rt_yaml_price(struct rt_yaml *y, const yaml_node_t *map,
              enum rt_service service)
{
    struct rt_deck_loader *ld = y->ld;
    struct rt_arena *a = &ld->deck->arena;
    const char *field = rt_service_name(service);
    if (rt_yaml_expect(y, map, YAML_MAPPING_NODE, field,
                       "a price entry ({prefix: ..., rate: ...})") != 0)
        return;

    const yaml_node_t *val[N_ELEMS(rt_price_keys)] = {0};
    const yaml_node_t *key[N_ELEMS(rt_price_keys)] = {0};
    unsigned seen = 0;
    int ok = 1;
    FOR_PAIRS(y, map, p, k, v)
    {
        int i = rt_yaml_key(y, k, rt_price_keys, N_ELEMS(rt_price_keys), &seen);
        if (i < 0) {
            ok = 0;
            continue;
        }
        key[i] = k;
        val[i] = v;
    }

    const char *s;
    size_t len;
    if (val[PK_CSV] != NULL) {
        for (size_t i = 0; i < N_ELEMS(rt_price_keys); i++) {
            if (i != PK_CSV && key[i] != NULL) {
                rt_deck_error(ld, rt_yaml_pos(y, key[i]), CDR_E_DECK,
                              rt_price_keys[i], NULL, 0,
                              "a csv: entry takes no other keys");
                ok = 0;
            }
        }
        if (rt_yaml_scalar(y, val[PK_CSV], "csv", &s, &len) == 0 && ok)
            rt_deck_load_csv(ld, rt_yaml_pos(y, val[PK_CSV]), service, s, len);
        return;
    }

    struct rt_pos at = rt_yaml_pos(y, map);
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

    if (val[PK_PREFIX] != NULL && val[PK_CLASS] != NULL) {
        rt_deck_error(ld, rt_yaml_pos(y, key[PK_CLASS]), CDR_E_DECK, "class",
                      NULL, 0, "an entry has a prefix or a class, not both");
        ok = 0;
    } else if (val[PK_PREFIX] != NULL) {
        if (rt_yaml_scalar(y, val[PK_PREFIX], "prefix", &s, &len) != 0 ||
            rt_deck_check_prefix(ld, rt_yaml_pos(y, val[PK_PREFIX]), "prefix",
                                 s, len) != 0)
            ok = 0;
        else
            e.prefix = rt_arena_strndup(a, s, len);
    } else if (val[PK_CLASS] != NULL) {
        if (rt_yaml_scalar(y, val[PK_CLASS], "class", &s, &len) != 0) {
            ok = 0;
        } else if (len != 3 || memcmp(s, "sip", 3) != 0) {
            rt_deck_error(ld, rt_yaml_pos(y, val[PK_CLASS]), CDR_E_DECK,
                          "class", s, len, "unknown class (only sip)");
            ok = 0;
        } else {
            e.is_sip = 1;
            e.prefix = "sip";
        }
    } else {
        rt_deck_error(ld, at, CDR_E_DECK, "prefix", NULL, 0,
                      "a price entry needs prefix, class or csv");
        ok = 0;
    }

    if (val[PK_RATE] == NULL) {
        rt_deck_error(ld, at, CDR_E_DECK, "rate", NULL, 0, "missing rate");
        ok = 0;
    } else if (rt_yaml_scalar(y, val[PK_RATE], "rate", &s, &len) != 0 ||
               rt_deck_check_rate(ld, rt_yaml_pos(y, val[PK_RATE]), s, len,
                                  &e.rate_nano) != 0) {
        ok = 0;
    } else {
        e.rate_text = rt_arena_strndup(a, s, len);
    }

    if (val[PK_FROM] != NULL &&
        (rt_yaml_scalar(y, val[PK_FROM], "effective_from", &s, &len) != 0 ||
         rt_deck_check_date(ld, rt_yaml_pos(y, val[PK_FROM]), "effective_from",
                            s, len, &e.from) != 0))
        ok = 0;
    if (val[PK_TO] != NULL &&
        (rt_yaml_scalar(y, val[PK_TO], "effective_to", &s, &len) != 0 ||
         rt_deck_check_date(ld, rt_yaml_pos(y, val[PK_TO]), "effective_to", s,
                            len, &e.to) != 0))
        ok = 0;
    if (ok && e.to <= e.from) { /* only when both are given */
        s = rt_yaml_text(val[PK_TO], &len);
        rt_deck_error(ld, rt_yaml_pos(y, val[PK_TO]), CDR_E_DECK,
                      "effective_to", s, len,
                      "effective_to must be after effective_from");
        ok = 0;
    }
    if (val[PK_INCREMENT] != NULL) {
        if (rt_yaml_scalar(y, val[PK_INCREMENT], "increment", &s, &len) != 0 ||
            rt_deck_check_increment(ld, rt_yaml_pos(y, val[PK_INCREMENT]), s,
                                    len, &e.inc) != 0)
            ok = 0;
        e.has_inc = 1;
    }
    if (val[PK_FROM_PREFIX] != NULL) {
        if (rt_yaml_scalar(y, val[PK_FROM_PREFIX], "from_prefix", &s, &len) !=
                0 ||
            rt_deck_check_prefix(ld, rt_yaml_pos(y, val[PK_FROM_PREFIX]),
                                 "from_prefix", s, len) != 0) {
            ok = 0;
        } else {
            e.from_prefix = rt_arena_strndup(a, s, len);
            e.from_len = len;
        }
    }
    if (!ok)
        return;
    if (e.prefix == NULL || e.rate_text == NULL || e.from_prefix == NULL ||
        rt_deck_add_entry(ld, &e) != 0)
        rt_yaml_nomem(y, map);
}

static void
rt_yaml_prices(struct rt_yaml *y, const yaml_node_t *seq,
               enum rt_service service)
{
    if (rt_yaml_expect(y, seq, YAML_SEQUENCE_NODE, rt_service_name(service),
                       "a list of price entries") != 0)
        return;
    FOR_ITEMS(y, seq, it, v)
    {
        rt_yaml_price(y, v, service);
    }
}

/* ---- trunks ----------------------------------------------------------- */

/* IPv4 or IPv6 address, optionally /prefix-length within the family. */
static int
rt_check_address(const char *s, size_t len)
{
    char buf[INET6_ADDRSTRLEN + 8];
    if (len == 0 || len >= sizeof buf || memchr(s, '\0', len) != NULL)
        return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *slash = strchr(buf, '/');
    if (slash != NULL)
        *slash = '\0';
    unsigned char addr[16];
    long maxlen;
    if (inet_pton(AF_INET, buf, addr) == 1)
        maxlen = 32;
    else if (inet_pton(AF_INET6, buf, addr) == 1)
        maxlen = 128;
    else
        return -1;
    if (slash == NULL)
        return 0;
    const char *d = slash + 1;
    size_t nd = strlen(d);
    if (nd == 0 || nd > 3)
        return -1;
    long plen = 0;
    for (size_t i = 0; i < nd; i++) {
        if (d[i] < '0' || d[i] > '9')
            return -1;
        plen = plen * 10 + (d[i] - '0');
    }
    return plen <= maxlen ? 0 : -1;
}

/* Printable ASCII without spaces, 1..max bytes. */
static int
rt_check_token(const char *s, size_t len, size_t max)
{
    if (len == 0 || len > max)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
            return -1;
    }
    return 0;
}

enum {
    TK_SID,
    TK_TRANSFERS,
    TK_PSTN,
    TK_CALLER_ID,
    TK_DOMAIN,
    TK_ADDRESSES,
};
static const char *const rt_trunk_keys[] = {
    "sid",
    "transfers",
    "pstn_transfers",
    "caller_id_for_target",
    "termination_domain",
    "carrier_addresses",
};

static void
rt_yaml_trunk(struct rt_yaml *y, const yaml_node_t *map)
{
    struct rt_deck_loader *ld = y->ld;
    struct rt_deck *dk = ld->deck;
    struct rt_arena *a = &dk->arena;
    if (rt_yaml_expect(y, map, YAML_MAPPING_NODE, "trunks",
                       "a trunk ({sid: ..., transfers: ...})") != 0)
        return;

    struct rt_trunk t;
    memset(&t, 0, sizeof t);
    t.caller_id_for_target = RT_CALLER_ID_TRANSFEREE;
    unsigned seen = 0;
    int ok = 1;
    const char *s;
    size_t len;
    FOR_PAIRS(y, map, p, k, v)
    {
        int i = rt_yaml_key(y, k, rt_trunk_keys, N_ELEMS(rt_trunk_keys), &seen);
        switch (i) {
        case TK_SID:
            if (rt_yaml_scalar(y, v, "sid", &s, &len) != 0) {
                ok = 0;
            } else if (rt_check_token(s, len, 64) != 0) {
                rt_deck_error(ld, rt_yaml_pos(y, v), CDR_E_DECK, "sid", s, len,
                              "trunk sid must be 1 to 64 printable "
                              "characters without spaces");
                ok = 0;
            } else if ((t.sid = rt_arena_strndup(a, s, len)) == NULL) {
                rt_yaml_nomem(y, v);
                ok = 0;
            }
            break;
        case TK_TRANSFERS:
            ok &= rt_yaml_bool(y, v, "transfers", &t.transfers) == 0;
            break;
        case TK_PSTN:
            ok &= rt_yaml_bool(y, v, "pstn_transfers", &t.pstn_transfers) == 0;
            break;
        case TK_CALLER_ID:
            if (rt_yaml_scalar(y, v, "caller_id_for_target", &s, &len) != 0) {
                ok = 0;
            } else if (len == 10 && memcmp(s, "transferee", 10) == 0) {
                t.caller_id_for_target = RT_CALLER_ID_TRANSFEREE;
            } else if (len == 10 && memcmp(s, "transferor", 10) == 0) {
                t.caller_id_for_target = RT_CALLER_ID_TRANSFEROR;
            } else {
                rt_deck_error(ld, rt_yaml_pos(y, v), CDR_E_DECK,
                              "caller_id_for_target", s, len,
                              "expected transferee or transferor");
                ok = 0;
            }
            break;
        case TK_DOMAIN: {
            if (rt_yaml_scalar(y, v, "termination_domain", &s, &len) != 0) {
                ok = 0;
                break;
            }
            char *dom = rt_arena_strndup(a, s, len);
            if (dom == NULL) {
                rt_yaml_nomem(y, v);
                ok = 0;
                break;
            }
            int bad = len > 253;
            for (size_t j = 0; j < len; j++) {
                char c = dom[j];
                if (c >= 'A' && c <= 'Z')
                    dom[j] = (char)(c - 'A' + 'a');
                else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                           c == '-' || c == '.'))
                    bad = 1;
            }
            if (bad) {
                rt_deck_error(ld, rt_yaml_pos(y, v), CDR_E_DECK,
                              "termination_domain", s, len,
                              "invalid domain name");
                ok = 0;
            }
            t.termination_domain = dom;
            break;
        }
        case TK_ADDRESSES: {
            /* A list, or one address on its own (as referee-capture's
             * reader of the same file also accepts). */
            yaml_node_item_t one = p->value;
            yaml_node_item_t *first = &one, *last = &one + 1;
            if (v->type == YAML_SEQUENCE_NODE) {
                first = v->data.sequence.items.start;
                last = v->data.sequence.items.top;
            } else if (v->type != YAML_SCALAR_NODE) {
                rt_deck_error(ld, rt_yaml_pos(y, v), CDR_E_DECK,
                              "carrier_addresses", NULL, 0,
                              "expected a list of IP addresses or CIDR "
                              "blocks");
                ok = 0;
                break;
            }
            size_t n = (size_t)(last - first);
            const char **list = rt_arena_alloc(a, (n ? n : 1) * sizeof *list);
            if (list == NULL) {
                rt_yaml_nomem(y, v);
                ok = 0;
                break;
            }
            size_t m = 0;
            for (yaml_node_item_t *it = first; it < last; it++) {
                yaml_node_t *addr = yaml_document_get_node(y->doc, *it);
                if (addr == NULL)
                    continue;
                if (rt_yaml_scalar(y, addr, "carrier_addresses", &s, &len) !=
                    0) {
                    ok = 0;
                } else if (rt_check_address(s, len) != 0) {
                    rt_deck_error(ld, rt_yaml_pos(y, addr), CDR_E_DECK,
                                  "carrier_addresses", s, len,
                                  "not an IP address or CIDR block");
                    ok = 0;
                } else if ((list[m++] = rt_arena_strndup(a, s, len)) == NULL) {
                    rt_yaml_nomem(y, addr);
                    ok = 0;
                }
            }
            t.carrier_addresses = list;
            t.n_carrier_addresses = m;
            break;
        }
        default: ok = 0; break;
        }
    }
    if (!(seen & (1u << TK_SID))) {
        rt_deck_error(ld, rt_yaml_pos(y, map), CDR_E_DECK, "sid", NULL, 0,
                      "trunk without sid");
        ok = 0;
    }
    if (!ok)
        return;
    if (dk->n_trunks == dk->cap_trunks) {
        size_t cap = dk->cap_trunks ? dk->cap_trunks * 2 : 8;
        struct rt_trunk *nt = realloc(dk->trunks, cap * sizeof *nt);
        if (nt == NULL) {
            rt_yaml_nomem(y, map);
            return;
        }
        dk->trunks = nt;
        struct rt_pos *np = realloc(dk->trunk_pos, cap * sizeof *np);
        if (np == NULL) {
            rt_yaml_nomem(y, map);
            return;
        }
        dk->trunk_pos = np;
        dk->cap_trunks = cap;
    }
    dk->trunk_pos[dk->n_trunks] = rt_yaml_pos(y, map);
    dk->trunks[dk->n_trunks++] = t;
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
};
static const char *const rt_top_keys[] = {
    "deck",      "currency",    "decimals",    "rounding",
    "increment", "termination", "origination", "trunks",
};

static void
rt_yaml_top(struct rt_yaml *y, const yaml_node_t *root)
{
    struct rt_deck_loader *ld = y->ld;
    struct rt_deck *dk = ld->deck;
    if (rt_yaml_expect(y, root, YAML_MAPPING_NODE, NULL,
                       "a mapping (deck:, currency:, ...) at the top") != 0)
        return;
    unsigned seen = 0;
    const char *s;
    size_t len;
    FOR_PAIRS(y, root, p, k, v)
    {
        int i = rt_yaml_key(y, k, rt_top_keys, N_ELEMS(rt_top_keys), &seen);
        switch (i) {
        case TOP_DECK:
            if (rt_yaml_scalar(y, v, "deck", &s, &len) != 0)
                break;
            if (rt_check_token(s, len, 64) != 0)
                rt_deck_error(ld, rt_yaml_pos(y, v), CDR_E_DECK, "deck", s, len,
                              "deck name must be 1 to 64 printable "
                              "characters without spaces");
            else if ((dk->name = rt_arena_strndup(&dk->arena, s, len)) == NULL)
                rt_yaml_nomem(y, v);
            break;
        case TOP_CURRENCY:
            if (rt_yaml_scalar(y, v, "currency", &s, &len) != 0)
                break;
            if (len != 3 || s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' ||
                s[1] > 'Z' || s[2] < 'A' || s[2] > 'Z')
                rt_deck_error(ld, rt_yaml_pos(y, v), CDR_E_DECK, "currency", s,
                              len, "currency must be 3 upper-case letters");
            else
                memcpy(dk->currency, s, 4 - 1);
            break;
        case TOP_DECIMALS:
            if (rt_yaml_scalar(y, v, "decimals", &s, &len) != 0)
                break;
            if (len != 1 || s[0] < '0' || s[0] > '0' + RT_MAX_DECIMALS ||
                v->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
                rt_deck_error(ld, rt_yaml_pos(y, v), CDR_E_DECK, "decimals", s,
                              len, "decimals must be an integer 0..%d",
                              RT_MAX_DECIMALS);
            else
                dk->decimals = s[0] - '0';
            break;
        case TOP_ROUNDING:
            if (rt_yaml_scalar(y, v, "rounding", &s, &len) != 0)
                break;
            if (rt_rounding_parse(s, len, &dk->rounding) != 0)
                rt_deck_error(ld, rt_yaml_pos(y, v), CDR_E_DECK, "rounding", s,
                              len,
                              "rounding must be half-up, half-even, up "
                              "or down");
            break;
        case TOP_INCREMENT:
            if (rt_yaml_scalar(y, v, "increment", &s, &len) == 0)
                rt_deck_check_increment(ld, rt_yaml_pos(y, v), s, len,
                                        &dk->increment);
            break;
        case TOP_TERMINATION: rt_yaml_prices(y, v, RT_SVC_TERMINATION); break;
        case TOP_ORIGINATION: rt_yaml_prices(y, v, RT_SVC_ORIGINATION); break;
        case TOP_TRUNKS:
            if (rt_yaml_expect(y, v, YAML_SEQUENCE_NODE, "trunks",
                               "a list of trunks") != 0)
                break;
            FOR_ITEMS(y, v, it, t)
            {
                rt_yaml_trunk(y, t);
            }
            break;
        default: break;
        }
    }
    static const int required[] = {TOP_DECK, TOP_CURRENCY, TOP_DECIMALS,
                                   TOP_ROUNDING};
    for (size_t i = 0; i < N_ELEMS(required); i++) {
        int r = required[i];
        if (!(seen & (1u << r)))
            rt_deck_error(ld, rt_yaml_pos(y, root), CDR_E_DECK, rt_top_keys[r],
                          NULL, 0, "missing required key %s", rt_top_keys[r]);
    }
}

static void
rt_yaml_syntax(struct rt_deck_loader *ld, const yaml_parser_t *parser, FILE *f)
{
    struct rt_pos at = {ld->yaml_file, 0, 0};
    const char *problem = parser->problem ? parser->problem : "unknown";
    if (parser->error == YAML_READER_ERROR) {
        /* The reader (encoding) reports a byte offset, not a mark: find
         * the line and column (in bytes) of that offset. */
        size_t off = parser->problem_offset;
        if (fseek(f, 0, SEEK_SET) == 0) {
            at.line = 1;
            at.column = 1;
            int ch;
            for (size_t i = 0; i < off && (ch = getc(f)) != EOF; i++) {
                if (ch == '\n') {
                    at.line++;
                    at.column = 1;
                } else {
                    at.column++;
                }
            }
        }
        rt_deck_error(ld, at, CDR_E_DECK, NULL, NULL, 0,
                      "invalid YAML: %s at byte %zu", problem, off);
        return;
    }
    at.line = (long)parser->problem_mark.line + 1;
    at.column = (long)parser->problem_mark.column + 1;
    if (parser->context != NULL)
        rt_deck_error(ld, at, CDR_E_DECK, NULL, NULL, 0,
                      "invalid YAML: %s (%s at line %lu)", problem,
                      parser->context,
                      (unsigned long)parser->context_mark.line + 1);
    else
        rt_deck_error(ld, at, CDR_E_DECK, NULL, NULL, 0, "invalid YAML: %s",
                      problem);
}

static void
rt_yaml_load_file(struct rt_deck_loader *ld, const char *path)
{
    struct rt_pos at = {ld->yaml_file, 0, 0};
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        rt_deck_error(ld, at, CDR_E_IO, NULL, NULL, 0,
                      "cannot open rate deck: %s", strerror(errno));
        return;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        rt_deck_error(ld, at, CDR_E_IO, NULL, NULL, 0,
                      "rate deck is not a regular file");
        fclose(f);
        return;
    }
    if (st.st_size > RT_DECK_MAX_YAML) {
        rt_deck_error(ld, at, CDR_E_LIMIT, NULL, NULL, 0,
                      "rate deck larger than %ld bytes (put long price lists "
                      "in csv: files)",
                      RT_DECK_MAX_YAML);
        fclose(f);
        return;
    }

    yaml_parser_t parser;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&parser)) {
        rt_deck_error(ld, at, CDR_E_NOMEM, NULL, NULL, 0, "out of memory");
        fclose(f);
        return;
    }
    yaml_parser_set_input_file(&parser, f);
    if (!yaml_parser_load(&parser, &doc)) {
        rt_yaml_syntax(ld, &parser, f);
    } else {
        yaml_node_t *root = yaml_document_get_root_node(&doc);
        if (root == NULL) {
            rt_deck_error(ld, at, CDR_E_DECK, NULL, NULL, 0, "empty rate deck");
        } else {
            struct rt_yaml y = {ld, &doc};
            rt_yaml_top(&y, root);
            yaml_document_t more;
            if (!yaml_parser_load(&parser, &more)) {
                rt_yaml_syntax(ld, &parser, f);
            } else {
                yaml_node_t *r2 = yaml_document_get_root_node(&more);
                if (r2 != NULL) {
                    struct rt_pos p2 = {ld->yaml_file,
                                        (long)r2->start_mark.line + 1,
                                        (long)r2->start_mark.column + 1};
                    rt_deck_error(ld, p2, CDR_E_DECK, NULL, NULL, 0,
                                  "more than one YAML document");
                }
                yaml_document_delete(&more);
            }
        }
        yaml_document_delete(&doc);
    }
    yaml_parser_delete(&parser);
    fclose(f);
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
    ld.errs = errs;
    ld.yaml_file = rt_arena_strndup(&dk->arena, path, strlen(path));
    const char *slash = strrchr(path, '/');
    ld.dir = rt_arena_strndup(&dk->arena, path,
                              slash ? (size_t)(slash - path) + 1 : 0);
    if (ld.yaml_file == NULL || ld.dir == NULL)
        goto nomem;

    rt_yaml_load_file(&ld, path);
    if (ld.n_errors == 0)
        rt_deck_finish(&ld);
    if (ld.n_errors > RT_DECK_MAX_ERRORS) {
        struct cdr_diag d;
        cdr_diag_clear(&d);
        cdr_diag_set(&d, CDR_E_LIMIT, NULL, NULL, 0,
                     "too many problems: %zu more not shown",
                     ld.n_errors - RT_DECK_MAX_ERRORS);
        cdr_diag_at(&d, path, 0, 0);
        cdr_diag_list_add(errs, &d);
    }
    if (ld.n_errors > 0) {
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

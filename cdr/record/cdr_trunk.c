#include "cdr/record/cdr_trunk.h"

#include "cdr/record/cdr_addr.h"
#include "cdr/record/cdr_record.h"
#include "cdr/util/cdr_ascii.h"
#include "cdr/util/cdr_decimal.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

const char *
cdr_caller_id_name(enum cdr_caller_id c)
{
    return c == CDR_CALLER_ID_TRANSFEROR ? "transferor" : "transferee";
}

int
cdr_cidr_parse(const char *s, size_t n, struct cdr_cidr *out)
{
    char buf[INET6_ADDRSTRLEN + 8];
    if (n == 0 || n >= sizeof buf || memchr(s, '\0', n) != NULL)
        return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    int64_t bits = -1;
    char *slash = strchr(buf, '/');
    if (slash != NULL) {
        *slash = '\0';
        size_t nd = strlen(slash + 1);
        if (nd == 0 || nd > 3 ||
            cdr_decimal_parse(slash + 1, nd, 0, 0, 0, &bits) != 0)
            return -1;
    }
    memset(out, 0, sizeof *out);
    unsigned max;
    if (inet_pton(AF_INET, buf, out->ip) == 1) {
        out->family = AF_INET;
        max = 32;
    } else if (inet_pton(AF_INET6, buf, out->ip) == 1) {
        out->family = AF_INET6;
        max = 128;
    } else {
        return -1;
    }
    if (bits > (int64_t)max)
        return -1;
    out->prefix = bits < 0 ? max : (unsigned)bits;
    return 0;
}

int
cdr_cidr_contains(const struct cdr_cidr *c, int family, const uint8_t *ip)
{
    if (c->family != family)
        return 0;
    unsigned full = c->prefix / 8, rest = c->prefix % 8;
    if (memcmp(c->ip, ip, full) != 0)
        return 0;
    if (rest == 0)
        return 1;
    uint8_t mask = (uint8_t)(0xffu << (8 - rest));
    return (c->ip[full] & mask) == (ip[full] & mask);
}

/* ---- reading ---------------------------------------------------------- */

enum {
    TK_SID,
    TK_TRANSFERS,
    TK_PSTN,
    TK_CALLER_ID,
    TK_DOMAIN,
    TK_ADDRESSES,
    TK_COUNTRY,
    TK_NATIONAL,
    TK_INTL,
};
static const char *const trunk_keys[] = {
    "sid",
    "transfers",
    "pstn_transfers",
    "caller_id_for_target",
    "termination_domain",
    "carrier_addresses",
    "country_code",
    "national_prefix",
    "international_prefixes",
};

static char *
dup_text(struct cdr_yaml *y, const yaml_node_t *n, const char *s, size_t len)
{
    char *p = malloc(len + 1);
    if (p == NULL) {
        cdr_yaml_nomem(y, n);
        return NULL;
    }
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

static void
trunk_free(struct cdr_trunk *t)
{
    free(t->sid);
    free(t->termination_domain);
    free(t->carrier_addresses);
}

static int
read_sid(struct cdr_yaml *y, const yaml_node_t *v, struct cdr_trunk *t)
{
    const char *s;
    size_t len;
    if (cdr_yaml_scalar(y, v, "sid", &s, &len) != 0)
        return -1;
    if (!cdr_id_ok(s, len)) {
        cdr_yaml_error(y, v, y->code, "sid", s, len,
                       "trunk sid must be 1 to %d printable characters "
                       "without spaces",
                       CDR_MAX_SID);
        return -1;
    }
    return (t->sid = dup_text(y, v, s, len)) != NULL ? 0 : -1;
}

static int
read_caller_id(struct cdr_yaml *y, const yaml_node_t *v, struct cdr_trunk *t)
{
    const char *s;
    size_t len;
    if (cdr_yaml_scalar(y, v, "caller_id_for_target", &s, &len) != 0)
        return -1;
    if (len == 10 && memcmp(s, "transferee", 10) == 0)
        t->caller_id_for_target = CDR_CALLER_ID_TRANSFEREE;
    else if (len == 10 && memcmp(s, "transferor", 10) == 0)
        t->caller_id_for_target = CDR_CALLER_ID_TRANSFEROR;
    else {
        cdr_yaml_error(y, v, y->code, "caller_id_for_target", s, len,
                       "expected transferee or transferor");
        return -1;
    }
    return 0;
}

/* A host name, the rule of a SIP URI's host (so a record can name it),
 * kept in lower case and without a trailing dot. */
static int
read_domain(struct cdr_yaml *y, const yaml_node_t *v, struct cdr_trunk *t)
{
    const char *s;
    size_t len;
    if (cdr_yaml_scalar(y, v, "termination_domain", &s, &len) != 0)
        return -1;
    if (len > 1 && s[len - 1] == '.')
        len--;
    if (len > CDR_TRUNK_MAX_DOMAIN || memchr(s, '\0', len) != NULL ||
        !cdr_addr_hostname_ok(s, len)) {
        cdr_yaml_error(y, v, y->code, "termination_domain", s, len,
                       "invalid domain name");
        return -1;
    }
    if ((t->termination_domain = dup_text(y, v, s, len)) == NULL)
        return -1;
    for (char *c = t->termination_domain; *c; c++)
        if (*c >= 'A' && *c <= 'Z')
            *c = (char)(*c - 'A' + 'a');
    return 0;
}

/* A list, or one address on its own. */
static int
read_addresses(struct cdr_yaml *y, const yaml_node_pair_t *pair,
               const yaml_node_t *v, struct cdr_trunk *t)
{
    yaml_node_item_t one = pair->value;
    const yaml_node_item_t *first = &one, *last = &one + 1;
    if (v->type == YAML_SEQUENCE_NODE) {
        first = v->data.sequence.items.start;
        last = v->data.sequence.items.top;
    } else if (v->type != YAML_SCALAR_NODE) {
        cdr_yaml_error(y, v, y->code, "carrier_addresses", NULL, 0,
                       "expected a list of IP addresses or CIDR blocks");
        return -1;
    }
    size_t n = (size_t)(last - first);
    if (n > CDR_TRUNK_MAX_ADDRESSES) {
        cdr_yaml_error(y, v, y->code, "carrier_addresses", NULL, 0,
                       "more than %d addresses", CDR_TRUNK_MAX_ADDRESSES);
        return -1;
    }
    t->carrier_addresses = calloc(n ? n : 1, sizeof *t->carrier_addresses);
    if (t->carrier_addresses == NULL) {
        cdr_yaml_nomem(y, v);
        return -1;
    }
    int ok = 1;
    for (const yaml_node_item_t *it = first; it < last; it++) {
        yaml_node_t *a = yaml_document_get_node(&y->doc, *it);
        const char *s;
        size_t len;
        if (a == NULL)
            continue;
        if (cdr_yaml_scalar(y, a, "carrier_addresses", &s, &len) != 0) {
            ok = 0;
        } else if (cdr_cidr_parse(
                       s, len, &t->carrier_addresses[t->n_carrier_addresses]) !=
                   0) {
            cdr_yaml_error(y, a, y->code, "carrier_addresses", s, len,
                           "not an IP address or CIDR block");
            ok = 0;
        } else {
            t->n_carrier_addresses++;
        }
    }
    return ok ? 0 : -1;
}

/* A string of min..max digits into buf (max + 1 bytes).  0 or -1. */
static int
read_digits(struct cdr_yaml *y, const yaml_node_t *v, const char *field,
            size_t min, size_t max, char *buf)
{
    const char *s;
    size_t len;
    if (v->type == YAML_SCALAR_NODE && v->data.scalar.length == 0 && min == 0 &&
        v->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) {
        buf[0] = '\0'; /* "" : none */
        return 0;
    }
    if (cdr_yaml_scalar(y, v, field, &s, &len) != 0)
        return -1;
    size_t i = 0;
    while (i < len && cdr_is_digit(s[i]))
        i++;
    if (i != len || len < min || len > max) {
        cdr_yaml_error(y, v, y->code, field, s, len,
                       "expected %zu to %zu digits", min, max);
        return -1;
    }
    memcpy(buf, s, len);
    buf[len] = '\0';
    return 0;
}

static int
read_country(struct cdr_yaml *y, const yaml_node_t *v, struct cdr_dialling *dp)
{
    if (read_digits(y, v, "country_code", 1, 3, dp->country_code) != 0)
        return -1;
    if (dp->country_code[0] == '0') {
        cdr_yaml_error(y, v, y->code, "country_code", dp->country_code,
                       strlen(dp->country_code),
                       "a country code does not start with 0");
        return -1;
    }
    return 0;
}

static int
read_intl(struct cdr_yaml *y, const yaml_node_t *v, struct cdr_dialling *dp)
{
    if (cdr_yaml_expect(y, v, YAML_SEQUENCE_NODE, "international_prefixes",
                        "a list of prefixes ([\"00\"])") != 0)
        return -1;
    int ok = 1;
    CDR_YAML_FOR_ITEMS(y, v, it, item)
    {
        if (dp->n_intl == CDR_DIAL_MAX_INTL) {
            cdr_yaml_error(y, item, y->code, "international_prefixes", NULL, 0,
                           "more than %d prefixes", CDR_DIAL_MAX_INTL);
            return -1;
        }
        if (read_digits(y, item, "international_prefixes", 1, 4,
                        dp->intl[dp->n_intl]) == 0)
            dp->n_intl++;
        else
            ok = 0;
    }
    return ok ? 0 : -1;
}

/* The dialling plan's keys make sense together only. */
static int
check_dialling(struct cdr_yaml *y, const yaml_node_t *map, unsigned seen,
               struct cdr_dialling *dp)
{
    if ((seen & (1u << TK_NATIONAL)) && !(seen & (1u << TK_COUNTRY))) {
        cdr_yaml_error(y, map, y->code, "national_prefix", NULL, 0,
                       "national_prefix without country_code");
        return -1;
    }
    if ((seen & (1u << TK_COUNTRY)) && !(seen & (1u << TK_NATIONAL)))
        memcpy(dp->national_prefix, "0", 2);
    return 0;
}

/* One entry; 0 when it is whole (then *t is filled). */
static int
read_trunk(struct cdr_yaml *y, const yaml_node_t *map, struct cdr_trunk *t)
{
    memset(t, 0, sizeof *t);
    t->line = (long)map->start_mark.line + 1;
    t->column = (long)map->start_mark.column + 1;
    if (cdr_yaml_expect(y, map, YAML_MAPPING_NODE, "trunks",
                        "a trunk ({sid: ..., transfers: ...})") != 0)
        return -1;
    unsigned seen = 0;
    int ok = 1;
    CDR_YAML_FOR_PAIRS(y, map, p, k, v)
    {
        switch (cdr_yaml_key(y, k, trunk_keys, N_ELEMS(trunk_keys), &seen)) {
        case TK_SID: ok &= read_sid(y, v, t) == 0; break;
        case TK_TRANSFERS:
            ok &= cdr_yaml_bool(y, v, "transfers", &t->transfers) == 0;
            break;
        case TK_PSTN:
            ok &=
                cdr_yaml_bool(y, v, "pstn_transfers", &t->pstn_transfers) == 0;
            break;
        case TK_CALLER_ID: ok &= read_caller_id(y, v, t) == 0; break;
        case TK_DOMAIN: ok &= read_domain(y, v, t) == 0; break;
        case TK_ADDRESSES: ok &= read_addresses(y, p, v, t) == 0; break;
        case TK_COUNTRY: ok &= read_country(y, v, &t->dialling) == 0; break;
        case TK_NATIONAL:
            ok &= read_digits(y, v, "national_prefix", 0, 2,
                              t->dialling.national_prefix) == 0;
            break;
        case TK_INTL: ok &= read_intl(y, v, &t->dialling) == 0; break;
        default: ok = 0; break;
        }
    }
    ok &= check_dialling(y, map, seen, &t->dialling) == 0;
    if (!(seen & (1u << TK_SID))) {
        cdr_yaml_error(y, map, y->code, "sid", NULL, 0, "trunk without sid");
        ok = 0;
    }
    if (!ok)
        trunk_free(t);
    return ok ? 0 : -1;
}

static int
by_sid_order(const void *pa, const void *pb)
{
    const struct cdr_trunk *a = *(const struct cdr_trunk *const *)pa;
    const struct cdr_trunk *b = *(const struct cdr_trunk *const *)pb;
    int c = strcmp(a->sid, b->sid);
    if (c != 0)
        return c;
    return a < b ? -1 : a > b; /* file order among duplicates */
}

/* Sort for lookups; a sid given twice is a problem at its later entry. */
static int
index_sids(struct cdr_trunks *t, struct cdr_yaml *y, const yaml_node_t *list)
{
    if (t->n == 0)
        return 0;
    t->by_sid = malloc(t->n * sizeof *t->by_sid);
    if (t->by_sid == NULL) {
        cdr_yaml_nomem(y, list);
        return -1;
    }
    for (size_t i = 0; i < t->n; i++)
        t->by_sid[i] = &t->items[i];
    qsort(t->by_sid, t->n, sizeof *t->by_sid, by_sid_order);
    int rc = 0;
    for (size_t i = 1; i < t->n; i++) {
        const struct cdr_trunk *a = t->by_sid[i - 1], *b = t->by_sid[i];
        if (strcmp(a->sid, b->sid) != 0)
            continue;
        cdr_problem(y->probs, y->file, b->line, b->column, y->code, "sid",
                    b->sid, strlen(b->sid),
                    "duplicate trunk sid (also at line %ld)", a->line);
        rc = -1;
    }
    return rc;
}

int
cdr_trunks_read(struct cdr_trunks *out, struct cdr_yaml *y,
                const yaml_node_t *list)
{
    memset(out, 0, sizeof *out);
    if (cdr_yaml_expect(y, list, YAML_SEQUENCE_NODE, "trunks",
                        "a list of trunks") != 0)
        return -1;
    size_t n = (size_t)(list->data.sequence.items.top -
                        list->data.sequence.items.start);
    if (n > CDR_TRUNKS_MAX) {
        cdr_yaml_error(y, list, y->code, "trunks", NULL, 0,
                       "more than %d trunks", CDR_TRUNKS_MAX);
        return -1;
    }
    out->items = calloc(n ? n : 1, sizeof *out->items);
    if (out->items == NULL) {
        cdr_yaml_nomem(y, list);
        return -1;
    }
    int rc = 0;
    CDR_YAML_FOR_ITEMS(y, list, it, v)
    {
        if (read_trunk(y, v, &out->items[out->n]) == 0)
            out->n++;
        else
            rc = -1;
    }
    if (index_sids(out, y, list) != 0)
        rc = -1;
    return rc;
}

void
cdr_trunks_free(struct cdr_trunks *t)
{
    for (size_t i = 0; i < t->n; i++)
        trunk_free(&t->items[i]);
    free(t->items);
    free(t->by_sid);
    memset(t, 0, sizeof *t);
}

/* ---- lookups ---------------------------------------------------------- */

const struct cdr_trunk *
cdr_trunks_find(const struct cdr_trunks *t, const char *sid, size_t n)
{
    size_t lo = 0, hi = t->by_sid != NULL ? t->n : 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *m = t->by_sid[mid]->sid;
        size_t mn = strlen(m);
        int c = memcmp(m, sid, mn < n ? mn : n);
        if (c == 0)
            c = mn < n ? -1 : mn > n;
        if (c == 0)
            return t->by_sid[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

const struct cdr_trunk *
cdr_trunks_by_address(const struct cdr_trunks *t, int family, const uint8_t *ip)
{
    for (size_t i = 0; i < t->n; i++)
        for (size_t j = 0; j < t->items[i].n_carrier_addresses; j++)
            if (cdr_cidr_contains(&t->items[i].carrier_addresses[j], family,
                                  ip))
                return &t->items[i];
    return NULL;
}

const struct cdr_trunk *
cdr_trunks_by_domain(const struct cdr_trunks *t, const char *host, size_t n)
{
    if (n > 1 && host[n - 1] == '.')
        n--;
    for (size_t i = 0; i < t->n; i++) {
        const char *d = t->items[i].termination_domain;
        if (d != NULL && strlen(d) == n && strncasecmp(d, host, n) == 0)
            return &t->items[i];
    }
    return NULL;
}

/*
 * Trunk settings from the deck YAML, through libyaml's document API: the
 * deck is small (bounded by CAP_CONFIG_MAX_FILE) and node marks give the
 * line and column for every message.
 */
#include "cdr/capture/track/cap_config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <yaml.h>

void
cap_config_free(struct cap_config *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->ntrunks; i++)
        free(c->trunks[i].nets);
    free(c->trunks);
    free(c);
}

int
cap_cidr_parse(const char *s, struct cap_cidr *out)
{
    char buf[INET6_ADDRSTRLEN + 8];
    size_t n = strlen(s);
    if (n == 0 || n >= sizeof buf)
        return -1;
    memcpy(buf, s, n + 1);
    char *slash = strchr(buf, '/');
    long bits = -1;
    if (slash != NULL) {
        *slash = '\0';
        const char *q = slash + 1;
        if (*q == '\0' || strlen(q) > 3)
            return -1;
        bits = 0;
        for (; *q; q++) {
            if (*q < '0' || *q > '9')
                return -1;
            bits = bits * 10 + (*q - '0');
        }
    }
    memset(out, 0, sizeof *out);
    if (inet_pton(AF_INET, buf, out->ip) == 1) {
        out->family = AF_INET;
        if (bits > 32)
            return -1;
        out->prefix = bits < 0 ? 32u : (unsigned)bits;
    } else if (inet_pton(AF_INET6, buf, out->ip) == 1) {
        out->family = AF_INET6;
        if (bits > 128)
            return -1;
        out->prefix = bits < 0 ? 128u : (unsigned)bits;
    } else {
        return -1;
    }
    return 0;
}

int
cap_cidr_contains(const struct cap_cidr *n, const struct cap_addr *a)
{
    if (n->family != a->family)
        return 0;
    unsigned full = n->prefix / 8, rest = n->prefix % 8;
    if (memcmp(n->ip, a->ip, full) != 0)
        return 0;
    if (rest == 0)
        return 1;
    uint8_t mask = (uint8_t)(0xffu << (8 - rest));
    return (n->ip[full] & mask) == (a->ip[full] & mask);
}

const struct cap_trunk *
cap_config_trunk_by_addr(const struct cap_config *c, const struct cap_addr *a)
{
    for (size_t i = 0; i < c->ntrunks; i++) {
        for (size_t j = 0; j < c->trunks[i].nnets; j++) {
            if (cap_cidr_contains(&c->trunks[i].nets[j], a))
                return &c->trunks[i];
        }
    }
    return NULL;
}

const struct cap_trunk *
cap_config_trunk_by_domain(const struct cap_config *c, const char *host,
                           size_t n)
{
    for (size_t i = 0; i < c->ntrunks; i++) {
        const char *d = c->trunks[i].termination_domain;
        if (d[0] == '\0' || strlen(d) != n)
            continue;
        size_t k = 0;
        for (; k < n; k++) {
            char h = host[k];
            if (h >= 'A' && h <= 'Z')
                h = (char)(h + ('a' - 'A'));
            if (h != d[k])
                break;
        }
        if (k == n)
            return &c->trunks[i];
    }
    return NULL;
}

struct ctx {
    yaml_document_t *doc;
    const char *name;
    struct cdr_diag *d;
};

static int
fail(struct ctx *x, const yaml_node_t *n, const char *field, const char *msg)
{
    const char *v = NULL;
    size_t vl = 0;
    if (n != NULL && n->type == YAML_SCALAR_NODE) {
        v = (const char *)n->data.scalar.value;
        vl = n->data.scalar.length;
    }
    cdr_diag_set(x->d, CDR_E_DECK, field, v, vl, "%s", msg);
    cdr_diag_at(x->d, x->name, n ? (long)n->start_mark.line + 1 : 0,
                n ? (long)n->start_mark.column + 1 : 0);
    return CDR_E_DECK;
}

static const char *
scalar(const yaml_node_t *n)
{
    return n != NULL && n->type == YAML_SCALAR_NODE
               ? (const char *)n->data.scalar.value
               : NULL;
}

static int
copy_scalar(struct ctx *x, const yaml_node_t *n, const char *field, char *dst,
            size_t size, int lower_case)
{
    const char *s = scalar(n);
    if (s == NULL)
        return fail(x, n, field, "expected a single value");
    size_t len = n->data.scalar.length;
    if (len == 0 || len >= size || strlen(s) != len)
        return fail(x, n, field, "empty, too long or holds a NUL byte");
    for (size_t i = 0; i <= len; i++) {
        char ch = s[i];
        if (lower_case && ch >= 'A' && ch <= 'Z')
            ch = (char)(ch + ('a' - 'A'));
        dst[i] = ch;
    }
    return 0;
}

static int
add_net(struct ctx *x, struct cap_trunk *t, const yaml_node_t *n)
{
    const char *s = scalar(n);
    struct cap_cidr net;
    if (s == NULL || strlen(s) != n->data.scalar.length ||
        cap_cidr_parse(s, &net) != 0)
        return fail(x, n, "carrier_addresses",
                    "expected an IPv4 or IPv6 address or CIDR");
    if (t->nnets == CAP_CONFIG_MAX_NETS)
        return fail(x, n, "carrier_addresses", "too many entries");
    struct cap_cidr *nn = realloc(t->nets, (t->nnets + 1) * sizeof *nn);
    if (nn == NULL)
        return cdr_diag_set(x->d, CDR_E_NOMEM, NULL, NULL, 0, "out of memory");
    t->nets = nn;
    t->nets[t->nnets++] = net;
    return 0;
}

static int
parse_trunk(struct ctx *x, yaml_node_t *map, struct cap_trunk *t)
{
    if (map->type != YAML_MAPPING_NODE)
        return fail(x, map, "trunks", "each entry must be a mapping");
    for (yaml_node_pair_t *pr = map->data.mapping.pairs.start;
         pr < map->data.mapping.pairs.top; pr++) {
        yaml_node_t *k = yaml_document_get_node(x->doc, pr->key);
        yaml_node_t *v = yaml_document_get_node(x->doc, pr->value);
        const char *key = scalar(k);
        int rc = 0;
        if (key == NULL)
            return fail(x, k, "trunks", "keys must be plain names");
        if (strcmp(key, "sid") == 0) {
            rc = copy_scalar(x, v, "sid", t->sid, sizeof t->sid, 0);
        } else if (strcmp(key, "termination_domain") == 0) {
            rc = copy_scalar(x, v, "termination_domain", t->termination_domain,
                             sizeof t->termination_domain, 1);
        } else if (strcmp(key, "carrier_addresses") == 0) {
            if (v != NULL && v->type == YAML_SEQUENCE_NODE) {
                for (yaml_node_item_t *it = v->data.sequence.items.start;
                     rc == 0 && it < v->data.sequence.items.top; it++)
                    rc = add_net(x, t, yaml_document_get_node(x->doc, *it));
            } else {
                rc = add_net(x, t, v);
            }
        } /* other keys (transfers, caller_id_for_target ...) are the
             rater's */
        if (rc != 0)
            return rc;
    }
    if (t->sid[0] == '\0')
        return fail(x, map, "sid", "trunk without a sid");
    /* A trunk with neither carrier_addresses nor termination_domain is the
       rater's business only: no captured call can match it. */
    return 0;
}

static int
parse_doc(struct ctx *x, struct cap_config *c)
{
    yaml_node_t *root = yaml_document_get_root_node(x->doc);
    if (root == NULL || root->type != YAML_MAPPING_NODE)
        return fail(x, root, NULL, "the deck must be a mapping");
    yaml_node_t *trunks = NULL;
    for (yaml_node_pair_t *pr = root->data.mapping.pairs.start;
         pr < root->data.mapping.pairs.top; pr++) {
        const char *key = scalar(yaml_document_get_node(x->doc, pr->key));
        if (key != NULL && strcmp(key, "trunks") == 0)
            trunks = yaml_document_get_node(x->doc, pr->value);
    }
    if (trunks == NULL)
        return fail(x, root, "trunks", "no trunks section: nothing to capture");
    if (trunks->type != YAML_SEQUENCE_NODE)
        return fail(x, trunks, "trunks", "expected a list of trunks");
    size_t n = (size_t)(trunks->data.sequence.items.top -
                        trunks->data.sequence.items.start);
    if (n == 0)
        return fail(x, trunks, "trunks", "empty list");
    if (n > CAP_CONFIG_MAX_TRUNKS)
        return fail(x, trunks, "trunks", "too many trunks");
    c->trunks = calloc(n, sizeof *c->trunks);
    if (c->trunks == NULL)
        return cdr_diag_set(x->d, CDR_E_NOMEM, NULL, NULL, 0, "out of memory");
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *t = yaml_document_get_node(
            x->doc, trunks->data.sequence.items.start[i]);
        c->ntrunks = i + 1;
        int rc = parse_trunk(x, t, &c->trunks[i]);
        if (rc != 0)
            return rc;
        for (size_t j = 0; j < i; j++) {
            if (strcmp(c->trunks[j].sid, c->trunks[i].sid) == 0)
                return fail(x, t, "sid", "duplicate trunk sid");
        }
    }
    return 0;
}

int
cap_config_parse(struct cap_config **out, const char *text, size_t len,
                 const char *name, struct cdr_diag *d)
{
    *out = NULL;
    cdr_diag_clear(d);
    yaml_parser_t parser;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&parser))
        return cdr_diag_set(d, CDR_E_NOMEM, NULL, NULL, 0, "out of memory");
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        cdr_diag_set(d, CDR_E_DECK, NULL, NULL, 0, "YAML: %s",
                     parser.problem ? parser.problem : "syntax error");
        cdr_diag_at(d, name, (long)parser.problem_mark.line + 1,
                    (long)parser.problem_mark.column + 1);
        if (parser.context != NULL)
            cdr_diag_detail(d, "%s", parser.context);
        yaml_parser_delete(&parser);
        return CDR_E_DECK;
    }
    struct cap_config *c = calloc(1, sizeof *c);
    int rc;
    if (c == NULL) {
        rc = cdr_diag_set(d, CDR_E_NOMEM, NULL, NULL, 0, "out of memory");
    } else {
        struct ctx x = {&doc, name, d};
        rc = parse_doc(&x, c);
    }
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    if (rc != 0) {
        cap_config_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

int
cap_config_load(struct cap_config **out, const char *path, struct cdr_diag *d)
{
    *out = NULL;
    cdr_diag_clear(d);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        cdr_diag_set(d, CDR_E_IO, NULL, NULL, 0, "cannot open: %s",
                     strerror(errno));
        cdr_diag_at(d, path, 0, 0);
        return CDR_E_IO;
    }
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    int rc = 0;
    while (buf != NULL) {
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
        if (len == cap) {
            if (cap >= CAP_CONFIG_MAX_FILE) {
                rc = cdr_diag_set(d, CDR_E_TOO_LONG, NULL, NULL, 0,
                                  "deck larger than %u bytes",
                                  CAP_CONFIG_MAX_FILE);
                break;
            }
            char *nb = realloc(buf, cap * 2);
            if (nb == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    if (rc == 0 && buf == NULL)
        rc = cdr_diag_set(d, CDR_E_NOMEM, NULL, NULL, 0, "out of memory");
    if (rc == 0 && ferror(f))
        rc = cdr_diag_set(d, CDR_E_IO, NULL, NULL, 0, "read error: %s",
                          strerror(errno));
    fclose(f);
    if (rc != 0) {
        cdr_diag_at(d, path, 0, 0);
        free(buf);
        return rc;
    }
    rc = cap_config_parse(out, buf, len, path, d);
    free(buf);
    return rc;
}

/*
 * The plans file: plan decks, and which account is on which plan when.
 * Loaded and checked whole, like a deck, every problem at its line.
 */
#include "rating/deck/rt_plans.h"

#include "cdr/record/cdr_record.h"
#include "cdr/util/cdr_array.h"
#include "cdr/util/cdr_time.h"
#include "cdr/util/cdr_yaml.h"
#include "rating/deck/rt_deck_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))
#define RT_PLANS_MAX_YAML (64L << 20) /* bytes: a million assignments */

/* One account on one plan for [from, to). */
struct assign {
    const char *account; /* arena */
    size_t n;
    int plan;
    int64_t from, to;
    long line, column;
};

struct rt_plans {
    struct rt_plan *plans;   /* owned */
    struct rt_deck **decks;  /* owned, one per plan */
    const char **deck_names; /* arena: as the file writes them */
    size_t n_plans;
    struct assign *as; /* owned; sorted by account, then from */
    size_t n_as, cap_as;
    int default_plan; /* index, or -1 */
    char sha256[CDR_DIGEST_HEX];
    struct rt_arena arena;
};

struct loader {
    struct rt_plans *p;
    struct cdr_yaml y;
    struct cdr_problems probs;
    struct cdr_diag_list *errs;
    const char *file, *dir; /* arena */
    int deck_failed;
};

static void
problem(struct loader *ld, const yaml_node_t *n, const char *field,
        const char *value, size_t vlen, const char *msg)
{
    cdr_yaml_error(&ld->y, n, CDR_E_DECK, field, value, vlen, "%s", msg);
}

static int
plan_index(const struct rt_plans *p, const char *s, size_t n)
{
    for (size_t i = 0; i < p->n_plans; i++)
        if (strlen(p->plans[i].name) == n &&
            memcmp(p->plans[i].name, s, n) == 0)
            return (int)i;
    return -1;
}

/* ---- plans: ----------------------------------------------------------- */

/* { name: NAME, deck: FILE }: the deck loaded with its own checks. */
static void
read_plan(struct loader *ld, const yaml_node_t *map)
{
    static const char *const keys[] = {"name", "deck"};
    const yaml_node_t *val[2] = {NULL, NULL};
    unsigned seen = 0;
    int ok = cdr_yaml_expect(&ld->y, map, YAML_MAPPING_NODE, "plans",
                             "a plan ({name: ..., deck: ...})") == 0;
    if (!ok)
        return;
    CDR_YAML_FOR_PAIRS(&ld->y, map, pr, k, v)
    {
        int i = cdr_yaml_key(&ld->y, k, keys, N_ELEMS(keys), &seen);
        if (i < 0)
            ok = 0;
        else
            val[i] = v;
    }
    const char *name = NULL, *deck = NULL;
    size_t nn = 0, dn = 0;
    for (int i = 0; i < 2; i++)
        if (val[i] == NULL) {
            problem(ld, map, keys[i], NULL, 0,
                    i == 0 ? "a plan needs a name" : "a plan needs a deck");
            ok = 0;
        }
    if (!ok || cdr_yaml_scalar(&ld->y, val[0], "name", &name, &nn) != 0 ||
        cdr_yaml_scalar(&ld->y, val[1], "deck", &deck, &dn) != 0)
        return;
    if (!cdr_id_ok(name, nn) || nn > 64) {
        problem(ld, val[0], "name", name, nn,
                "plan name must be 1 to 64 printable characters without "
                "spaces");
        return;
    }
    if (plan_index(ld->p, name, nn) >= 0) {
        problem(ld, val[0], "name", name, nn, "plan named twice");
        return;
    }
    char path[4096];
    size_t dl = deck[0] == '/' ? 0 : strlen(ld->dir);
    if (memchr(deck, '\0', dn) != NULL || dl + dn >= sizeof path) {
        problem(ld, val[1], "deck", deck, dn, "invalid deck file name");
        return;
    }
    memcpy(path, ld->dir, dl);
    memcpy(path + dl, deck, dn);
    path[dl + dn] = '\0';
    struct rt_plans *p = ld->p;
    size_t i = p->n_plans;
    if (rt_deck_load(&p->decks[i], path, ld->errs) != 0) {
        ld->deck_failed = 1;
        return;
    }
    p->plans[i].name = rt_arena_strndup(&p->arena, name, nn);
    p->deck_names[i] = rt_arena_strndup(&p->arena, deck, dn);
    p->plans[i].deck = p->decks[i];
    p->n_plans++;
    if (p->plans[i].name == NULL || p->deck_names[i] == NULL)
        cdr_yaml_nomem(&ld->y, map);
}

static void
read_plans(struct loader *ld, const yaml_node_t *seq)
{
    struct rt_plans *p = ld->p;
    if (cdr_yaml_expect(&ld->y, seq, YAML_SEQUENCE_NODE, "plans",
                        "a list of plans") != 0)
        return;
    size_t n =
        (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
    if (n == 0 || n > RT_PLANS_MAX) {
        problem(ld, seq, "plans", NULL, 0,
                n == 0 ? "no plans" : "more than 1000 plans");
        return;
    }
    p->plans = calloc(n, sizeof *p->plans);
    p->decks = calloc(n, sizeof *p->decks);
    p->deck_names = calloc(n, sizeof *p->deck_names);
    if (p->plans == NULL || p->decks == NULL || p->deck_names == NULL) {
        cdr_yaml_nomem(&ld->y, seq);
        return;
    }
    CDR_YAML_FOR_ITEMS(&ld->y, seq, it, v)
    {
        read_plan(ld, v);
    }
}

/* ---- accounts: -------------------------------------------------------- */

enum { A_ACCOUNT, A_PLAN, A_FROM, A_TO };
static const char *const account_keys[] = {"account_sid", "plan",
                                           "effective_from", "effective_to"};

/* A date key, when given.  0 or -1. */
static int
read_date(struct loader *ld, const yaml_node_t *v, const char *field,
          int64_t *out)
{
    const char *s;
    size_t n;
    if (v == NULL)
        return 0;
    if (cdr_yaml_scalar(&ld->y, v, field, &s, &n) != 0)
        return -1;
    if (cdr_time_parse_date(s, n, out) != 0) {
        problem(ld, v, field, s, n,
                "invalid date: expected 2026-01-01 or 2026-01-01T00:00:00Z "
                "(or an offset like +02:00)");
        return -1;
    }
    return 0;
}

static void
read_account(struct loader *ld, const yaml_node_t *map)
{
    struct rt_plans *p = ld->p;
    const yaml_node_t *val[N_ELEMS(account_keys)] = {0};
    unsigned seen = 0;
    if (cdr_yaml_expect(&ld->y, map, YAML_MAPPING_NODE, "accounts",
                        "an assignment ({account_sid: ..., plan: ...})") != 0)
        return;
    int ok = 1;
    CDR_YAML_FOR_PAIRS(&ld->y, map, pr, k, v)
    {
        int i =
            cdr_yaml_key(&ld->y, k, account_keys, N_ELEMS(account_keys), &seen);
        if (i < 0)
            ok = 0;
        else
            val[i] = v;
    }
    struct assign a = {.from = INT64_MIN,
                       .to = INT64_MAX,
                       .line = (long)map->start_mark.line + 1,
                       .column = (long)map->start_mark.column + 1};
    const char *s;
    size_t n;
    if (val[A_ACCOUNT] == NULL || val[A_PLAN] == NULL) {
        problem(ld, map, val[A_ACCOUNT] ? "plan" : "account_sid", NULL, 0,
                "an assignment needs account_sid and plan");
        return;
    }
    if (cdr_yaml_scalar(&ld->y, val[A_ACCOUNT], "account_sid", &s, &n) == 0) {
        if (!cdr_id_ok(s, n)) {
            problem(ld, val[A_ACCOUNT], "account_sid", s, n,
                    "an account sid is 1 to 128 printable characters "
                    "without spaces");
            ok = 0;
        }
        a.account = rt_arena_strndup(&p->arena, s, n);
        a.n = n;
    } else {
        ok = 0;
    }
    if (cdr_yaml_scalar(&ld->y, val[A_PLAN], "plan", &s, &n) != 0) {
        ok = 0;
    } else if ((a.plan = plan_index(p, s, n)) < 0) {
        problem(ld, val[A_PLAN], "plan", s, n, "unknown plan");
        ok = 0;
    }
    ok &= read_date(ld, val[A_FROM], "effective_from", &a.from) == 0;
    ok &= read_date(ld, val[A_TO], "effective_to", &a.to) == 0;
    if (ok && a.to <= a.from) {
        problem(ld, val[A_TO], "effective_to", NULL, 0,
                "effective_to must be after effective_from");
        ok = 0;
    }
    if (!ok)
        return;
    if (a.account == NULL ||
        cdr_array_grow((void **)&p->as, &p->cap_as, p->n_as + 1, sizeof *p->as,
                       64) != 0)
        cdr_yaml_nomem(&ld->y, map);
    else
        p->as[p->n_as++] = a;
}

static int
assign_order(const void *pa, const void *pb)
{
    const struct assign *a = pa, *b = pb;
    size_t n = a->n < b->n ? a->n : b->n;
    int c = memcmp(a->account, b->account, n);
    if (c == 0 && a->n != b->n)
        c = a->n < b->n ? -1 : 1;
    if (c == 0 && a->from != b->from)
        c = a->from < b->from ? -1 : 1;
    if (c == 0)
        c = a->line < b->line ? -1 : a->line > b->line;
    return c;
}

/* Sorted by account and start, an assignment overlaps an earlier one of
 * its account exactly when it starts before the latest end so far. */
static void
check_overlaps(struct loader *ld)
{
    struct rt_plans *p = ld->p;
    if (p->n_as == 0)
        return; /* and qsort must not see a NULL array */
    qsort(p->as, p->n_as, sizeof *p->as, assign_order);
    int64_t reach = INT64_MIN;
    long reach_line = 0;
    for (size_t i = 0; i < p->n_as; i++) {
        const struct assign *a = &p->as[i];
        int same = i > 0 && p->as[i - 1].n == a->n &&
                   memcmp(p->as[i - 1].account, a->account, a->n) == 0;
        if (same && a->from < reach)
            cdr_problem(&ld->probs, ld->file, a->line, a->column, CDR_E_DECK,
                        "account_sid", a->account, a->n,
                        "account on two plans at once: this range overlaps "
                        "the one at line %ld",
                        reach_line);
        if (!same || a->to > reach) {
            reach = a->to;
            reach_line = a->line;
        }
    }
}

static void
read_accounts(struct loader *ld, const yaml_node_t *seq)
{
    if (cdr_yaml_expect(&ld->y, seq, YAML_SEQUENCE_NODE, "accounts",
                        "a list of assignments") != 0)
        return;
    size_t n =
        (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
    if (n > RT_PLANS_MAX_ACCOUNTS) {
        problem(ld, seq, "accounts", NULL, 0, "more than 1000000 assignments");
        return;
    }
    CDR_YAML_FOR_ITEMS(&ld->y, seq, it, v)
    {
        read_account(ld, v);
    }
    check_overlaps(ld);
}

/* ---- the file --------------------------------------------------------- */

static void
read_top(struct loader *ld, const yaml_node_t *root)
{
    static const char *const keys[] = {"plans", "accounts", "default_plan"};
    const yaml_node_t *val[3] = {NULL, NULL, NULL};
    unsigned seen = 0;
    if (cdr_yaml_expect(&ld->y, root, YAML_MAPPING_NODE, NULL,
                        "a mapping (plans:, accounts:, default_plan:)") != 0)
        return;
    CDR_YAML_FOR_PAIRS(&ld->y, root, pr, k, v)
    {
        int i = cdr_yaml_key(&ld->y, k, keys, N_ELEMS(keys), &seen);
        if (i >= 0)
            val[i] = v;
    }
    /* the plans first: the other keys name them, in any order */
    if (val[0] == NULL)
        problem(ld, root, "plans", NULL, 0, "missing required key plans");
    else
        read_plans(ld, val[0]);
    if (val[1] != NULL)
        read_accounts(ld, val[1]);
    const char *s;
    size_t n;
    if (val[2] != NULL &&
        cdr_yaml_scalar(&ld->y, val[2], "default_plan", &s, &n) == 0 &&
        (ld->p->default_plan = plan_index(ld->p, s, n)) < 0)
        problem(ld, val[2], "default_plan", s, n, "unknown plan");
}

/* The file's own line, then one per plan deck (its digest covers its
 * lists), hashed together. */
static int
plans_digest(struct loader *ld, const char *name, const char *text, size_t len)
{
    struct rt_plans *p = ld->p;
    char hex[CDR_DIGEST_HEX];
    struct cdr_digest *all = cdr_digest_new(), *file = cdr_digest_new();
    int rc = all != NULL && file != NULL ? 0 : -1;
    if (rc == 0) {
        cdr_digest_update(file, text, len);
        rc = cdr_digest_final(file, hex, NULL);
    }
    for (size_t i = 0; rc == 0 && i <= p->n_plans; i++) {
        const char *h = i == 0 ? hex : rt_deck_sha256(p->decks[i - 1]);
        const char *nm = i == 0 ? name : p->deck_names[i - 1];
        cdr_digest_update(all, h, 64);
        cdr_digest_update(all, "  ", 2);
        cdr_digest_update(all, nm, strlen(nm));
        cdr_digest_update(all, "\n", 1);
    }
    if (rc == 0)
        rc = cdr_digest_final(all, p->sha256, NULL);
    cdr_digest_free(all);
    cdr_digest_free(file);
    return rc;
}

static void
load_file(struct loader *ld, const char *path)
{
    struct cdr_diag d;
    char *text;
    size_t len;
    cdr_diag_clear(&d);
    if (cdr_yaml_read_file(path, "plans file", RT_PLANS_MAX_YAML, &text, &len,
                           &d) != 0) {
        cdr_problem(&ld->probs, path, 0, 0, d.code, NULL, NULL, 0, "%s",
                    d.message);
        return;
    }
    ld->y.file = ld->file;
    ld->y.what = "plans file";
    ld->y.code = CDR_E_DECK;
    ld->y.probs = &ld->probs;
    if (cdr_yaml_load(&ld->y, text, len) == 0)
        read_top(ld, cdr_yaml_root(&ld->y));
    cdr_yaml_free(&ld->y);
    const char *slash = strrchr(path, '/');
    if (ld->probs.count == 0 && !ld->deck_failed &&
        plans_digest(ld, slash ? slash + 1 : path, text, len) != 0)
        cdr_problem(&ld->probs, path, 0, 0, CDR_E_NOMEM, NULL, NULL, 0,
                    "cannot compute the plans' sha256");
    free(text);
}

int
rt_plans_load(struct rt_plans **out, const char *path,
              struct cdr_diag_list *errs)
{
    *out = NULL;
    struct rt_plans *p = calloc(1, sizeof *p);
    struct loader ld = {.p = p, .errs = errs};
    ld.probs = (struct cdr_problems){errs, 0, RT_DECK_MAX_ERRORS};
    if (p != NULL) {
        p->default_plan = -1;
        const char *slash = strrchr(path, '/');
        ld.file = rt_arena_strndup(&p->arena, path, strlen(path));
        ld.dir = rt_arena_strndup(&p->arena, path,
                                  slash ? (size_t)(slash - path) + 1 : 0);
    }
    if (p == NULL || ld.file == NULL || ld.dir == NULL) {
        rt_plans_free(p);
        struct cdr_diag d;
        cdr_diag_set(&d, CDR_E_NOMEM, NULL, NULL, 0, "out of memory");
        cdr_diag_at(&d, path, 0, 0);
        cdr_diag_list_add(errs, &d);
        return CDR_E_NOMEM;
    }
    load_file(&ld, path);
    cdr_problems_finish(&ld.probs, path);
    if (ld.probs.count > 0 || ld.deck_failed) {
        rt_plans_free(p);
        return CDR_E_DECK;
    }
    *out = p;
    return 0;
}

void
rt_plans_free(struct rt_plans *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; p->decks != NULL && i < p->n_plans; i++)
        rt_deck_free(p->decks[i]);
    free(p->plans);
    free(p->decks);
    free(p->deck_names);
    free(p->as);
    rt_arena_free(&p->arena);
    free(p);
}

size_t
rt_plans_count(const struct rt_plans *p)
{
    return p->n_plans;
}

const struct rt_plan *
rt_plans_at(const struct rt_plans *p, size_t i)
{
    return i < p->n_plans ? &p->plans[i] : NULL;
}

const struct rt_plan *
rt_plans_find(const struct rt_plans *p, const char *account, size_t n,
              int64_t at)
{
    /* the first assignment of the account (sorted), then its ranges */
    size_t lo = 0, hi = p->n_as;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct assign *a = &p->as[mid];
        size_t k = a->n < n ? a->n : n;
        int c = memcmp(a->account, account, k);
        if (c == 0)
            c = a->n < n ? -1 : a->n > n;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    int listed = 0;
    for (size_t i = lo; i < p->n_as && p->as[i].n == n &&
                        memcmp(p->as[i].account, account, n) == 0;
         i++) {
        listed = 1;
        if (at >= p->as[i].from && at < p->as[i].to)
            return &p->plans[p->as[i].plan];
    }
    /* a listed account outside its ranges has no plan: the default is for
     * the accounts the file does not list */
    if (listed || p->default_plan < 0)
        return NULL;
    return &p->plans[p->default_plan];
}

const char *
rt_plans_sha256(const struct rt_plans *p)
{
    return p->sha256;
}

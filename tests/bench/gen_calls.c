/*
 * Benchmark data: `gen_calls calls N` writes N transfer cases (2N rows: a
 * parent and its child, the four scenarios in turn) as call-record CSV on
 * stdout (--random-sids: sids that look random, as real ones do); `gen_calls
 * deck P DIR` writes DIR/bench.yaml with a csv: list of P termination
 * prefixes; `gen_calls plans P DIR` writes DIR/plans.yaml and its three
 * plan decks of P prefixes each.
 * Children follow their parents a few hundred rows later, as in a carrier
 * export sorted by start time.  Deterministic.
 */
#include "cdr/util/cdr_time.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv);

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t
next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Destination countries: prefix, digits after it. */
static const struct {
    const char *cc;
    int rest;
} dest[] = {{"1", 10}, {"44", 10}, {"49", 11}, {"33", 9},
            {"61", 9}, {"81", 10}, {"55", 11}, {"91", 10}};

static void
number(char *buf, size_t n)
{
    int c = (int)(next() % (sizeof dest / sizeof dest[0]));
    int len = snprintf(buf, n, "+%s", dest[c].cc);
    for (int i = 0; i < dest[c].rest && (size_t)len + 1 < n; i++)
        buf[len++] = (char)('0' + next() % 10);
    buf[len] = '\0';
}

struct pending_child {
    uint64_t id;
    char a[24], b[24];
    int64_t start;
    int scenario;
};

/* 0: sids count up (CA000...0002); 1: they look random, as a carrier's
 * do (CA + 32 hex digits), which makes index upkeep touch pages at random. */
static int random_sids;

/* splitmix64's finalizer: a bijection, so distinct ids stay distinct. */
static uint64_t
mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void
print_sid(uint64_t id)
{
    if (random_sids)
        printf("CA%016" PRIx64 "%016" PRIx64, mix(id), mix(~id));
    else
        printf("CA%032" PRIx64, id);
}

static void
row(uint64_t id, uint64_t parent, const char *dir, const char *from,
    const char *to, int64_t start, int64_t dur)
{
    char s[64], e[64];
    cdr_time_format(start, s, sizeof s);
    cdr_time_format(start + dur, e, sizeof e);
    print_sid(id);
    printf(",");
    if (parent)
        print_sid(parent);
    printf(",AC%032" PRIx64 ",TK0001,%s,%s,%s,%s,%s,%" PRId64
           ",completed,-0.0%03d,USD\n",
           id % 97, dir, from, to, s, e, dur, (int)(id % 1000));
}

static void
child_row(const struct pending_child *c)
{
    char target[64];
    const char *dir =
        c->scenario < 2 ? "trunking-terminating" : "trunking-originating";
    if (c->scenario % 2 == 0) {
        snprintf(target, sizeof target, "sip:agent%" PRIu64 "@pbx.example.com",
                 c->id % 500);
    } else {
        number(target, sizeof target);
    }
    /* termination child: from B; origination child: from A */
    row(c->id + 1, c->id, dir, c->scenario < 2 ? c->b : c->a, target,
        c->start + 30, (int64_t)(next() % 900));
}

static int
gen_calls(long n)
{
    enum { LAG = 256 };
    struct pending_child ring[LAG];
    printf("sid,parent_call_sid,account_sid,trunk_sid,direction,from,to,"
           "start_time,end_time,duration,status,price,price_unit\n");
    int64_t t = 1778371200; /* 2026-05-10T00:00:00Z */
    for (long i = 0; i < n + LAG; i++) {
        if (i >= LAG)
            child_row(&ring[i % LAG]);
        if (i >= n)
            continue;
        struct pending_child *c = &ring[i % LAG];
        c->id = (uint64_t)i * 2 + 2;
        c->scenario = (int)(i % 4);
        number(c->a, sizeof c->a);
        number(c->b, sizeof c->b);
        c->start = t + i * 86400 / (n + 1);
        row(c->id, 0,
            c->scenario < 2 ? "trunking-terminating" : "trunking-originating",
            c->a, c->b, c->start, 60 + (int64_t)(next() % 1200));
    }
    return 0;
}

/* DIR/NAME.yaml with a csv: list DIR/NAME-termination.csv of P
 * termination prefixes; currency, decimals and increment as given (the
 * carrier's deck and the plan decks differ in all three). */
static int
write_deck(const char *dir, const char *name, long prefixes,
           const char *currency, int decimals, const char *increment)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.yaml", dir, name);
    FILE *y = fopen(path, "w");
    snprintf(path, sizeof path, "%s/%s-termination.csv", dir, name);
    FILE *c = fopen(path, "w");
    if (y == NULL || c == NULL) {
        perror(path);
        return 1;
    }
    fprintf(y,
            "deck: %s\ncurrency: %s\ndecimals: %d\nrounding: half-up\n"
            "increment: %s\ntermination:\n"
            "  - { csv: %s-termination.csv }\n"
            "  - { class: sip, rate: \"0.0040\" }\n"
            "origination:\n"
            "  - { class: sip, rate: \"0.0034\" }\n",
            name, currency, decimals, increment, name);
    for (size_t i = 0; i < sizeof dest / sizeof dest[0]; i++)
        fprintf(y, "  - { prefix: \"%s\", rate: \"0.00%02d\" }\n", dest[i].cc,
                (int)(30 + i));
    fprintf(y, "trunks:\n  - { sid: TK0001, transfers: true, "
               "pstn_transfers: true }\n");
    fprintf(c, "prefix,rate\n");
    /* Every country code itself, then longer prefixes under them. */
    for (size_t i = 0; i < sizeof dest / sizeof dest[0]; i++)
        fprintf(c, "%s,0.0%03d\n", dest[i].cc, (int)(10 + i));
    char seen_buf[24];
    for (long i = (long)(sizeof dest / sizeof dest[0]); i < prefixes; i++) {
        int cc = (int)(i % (long)(sizeof dest / sizeof dest[0]));
        /* unique: the index itself, in base 10, after the country code */
        snprintf(seen_buf, sizeof seen_buf, "%ld", i);
        fprintf(c, "%s%s,0.%04d\n", dest[cc].cc, seen_buf,
                (int)(1 + next() % 9999));
    }
    fclose(y);
    fclose(c);
    return 0;
}

static int
gen_deck(long prefixes, const char *dir)
{
    return write_deck(dir, "bench", prefixes, "USD", 6, "60/60");
}

/*
 * DIR/plans.yaml: three plan decks of P prefixes (one selling in EUR with
 * other decimals and increments), the 97 accounts of the calls spread over
 * them, one account moving plans at noon of the calls' day, the rest by
 * the default plan.
 */
static int
gen_plans(long prefixes, const char *dir)
{
    if (write_deck(dir, "plan-a", prefixes, "USD", 4, "60/60") != 0 ||
        write_deck(dir, "plan-b", prefixes, "USD", 6, "30/6") != 0 ||
        write_deck(dir, "plan-eu", prefixes, "EUR", 2, "60/1") != 0)
        return 1;
    char path[4096];
    snprintf(path, sizeof path, "%s/plans.yaml", dir);
    FILE *y = fopen(path, "w");
    if (y == NULL) {
        perror(path);
        return 1;
    }
    fprintf(y,
            "plans:\n  - { name: a, deck: plan-a.yaml }\n"
            "  - { name: b, deck: plan-b.yaml }\n"
            "  - { name: eu, deck: plan-eu.yaml }\n"
            "accounts:\n"
            "  - { account_sid: AC%032x, plan: a, effective_to: "
            "\"2026-05-10T12:00:00Z\" }\n"
            "  - { account_sid: AC%032x, plan: eu, effective_from: "
            "\"2026-05-10T12:00:00Z\" }\n",
            0, 0);
    for (int acct = 1; acct < 97; acct++)
        if (acct % 3 != 0) /* a third by the default plan */
            fprintf(y, "  - { account_sid: AC%032x, plan: %s }\n", acct,
                    acct % 3 == 1 ? "b" : "eu");
    fprintf(y, "default_plan: a\n");
    fclose(y);
    return 0;
}

int
main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "calls") == 0) {
        random_sids = argc >= 4 && strcmp(argv[3], "--random-sids") == 0;
        return gen_calls(strtol(argv[2], NULL, 10));
    }
    if (argc >= 4 && strcmp(argv[1], "deck") == 0)
        return gen_deck(strtol(argv[2], NULL, 10), argv[3]);
    if (argc >= 4 && strcmp(argv[1], "plans") == 0)
        return gen_plans(strtol(argv[2], NULL, 10), argv[3]);
    fprintf(stderr, "usage: gen_calls calls N [--random-sids] > calls.csv\n"
                    "       gen_calls deck PREFIXES DIR\n"
                    "       gen_calls plans PREFIXES DIR\n");
    return 64;
}

/*
 * Fees at their edges (rating/README.md, "Fees"): for one component of
 * duration d,
 *   not billed (status, d = 0, d <= free_seconds): billable 0, amount 0,
 *     no fee, no minimum;
 *   else amount = max(round(rate x increments(d) / 60) + connect_fee,
 *                     minimum_charge).
 * The decks are written to a temporary folder; amounts in the comments are
 * worked out by hand.
 */
#include "rating/deck/rt_deck.h"
#include "rating/price/rt_charge.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

static char dir[64];

static void
write_file(const char *name, const char *text)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Load deck.yaml (and list.csv if csv != NULL); NULL when it has problems,
 * which go to *errs. */
static struct rt_deck *
load(const char *yaml, const char *csv, struct cdr_diag_list *errs)
{
    snprintf(dir, sizeof dir, "/tmp/referee-fees-XXXXXX");
    assert_non_null(mkdtemp(dir));
    write_file("deck.yaml", yaml);
    if (csv != NULL)
        write_file("list.csv", csv);
    char path[128];
    snprintf(path, sizeof path, "%s/deck.yaml", dir);
    struct rt_deck *deck = NULL;
    rt_deck_load(&deck, path, errs);
    unlink(path);
    snprintf(path, sizeof path, "%s/list.csv", dir);
    unlink(path);
    rmdir(dir);
    return deck;
}

static struct rt_deck *
load_ok(const char *yaml, const char *csv)
{
    struct cdr_diag_list errs;
    cdr_diag_list_init(&errs);
    struct rt_deck *deck = load(yaml, csv, &errs);
    for (size_t i = 0; i < errs.count; i++)
        print_error("%ld:%ld: %s\n", errs.items[i].line, errs.items[i].column,
                    errs.items[i].message);
    cdr_diag_list_free(&errs);
    assert_non_null(deck);
    return deck;
}

static struct cdr_slice
S(const char *s) {
    return (struct cdr_slice){s, strlen(s)};
}

/* A termination call from A to to, d seconds, completed (or status st). */
static struct cdr_record
call(const char *to, int64_t d, enum cdr_status st)
{
    struct cdr_record r;
    memset(&r, 0, sizeof r);
    r.sid = S("CA1");
    r.direction = CDR_DIR_TERMINATING;
    r.from = S("+14155550100");
    r.to = S(to);
    r.start_time = 1778400000; /* 2026-05-10 */
    r.duration = d;
    r.has_duration = 1;
    r.status = st;
    return r;
}

static void
rate_single(const struct rt_deck *deck, const struct cdr_record *r,
            int64_t billable, int64_t amount_nano)
{
    struct rt_call c;
    struct cdr_diag d;
    memset(&c, 0, sizeof c);
    assert_int_equal(rt_charge_leg(&(struct rt_charge_decks){deck, NULL, NULL},
                                   r, NULL, RT_LEG_SINGLE, RT_SCN_NONE, NULL,
                                   &c, &d),
                     0);
    assert_int_equal(c.n_components, 1);
    if (c.comp[0].billable_seconds != billable ||
        c.comp[0].amount_nano != amount_nano)
        fail_msg("%lld s: billable %lld, amount %lld nano (want %lld, %lld)",
                 (long long)r->duration, (long long)c.comp[0].billable_seconds,
                 (long long)c.comp[0].amount_nano, (long long)billable,
                 (long long)amount_nano);
}

#define HEAD                                                                   \
    "deck: fees\ncurrency: USD\ndecimals: 4\nrounding: half-up\n"              \
    "increment: 60/60\n"

/* Rate 0.0100/min to prefix 1, 5 free seconds, 0.0100 connect fee. */
static void
test_free_seconds_up_to_d_are_free_and_d_plus_one_bills_in_full(void **state)
{
    (void)state;
    struct rt_deck *deck = load_ok(HEAD "free_seconds: 5\nconnect_fee: "
                                        "\"0.0100\"\ntermination:\n"
                                        "  - { prefix: \"1\", rate: \"0.0100\" "
                                        "}\n",
                                   NULL);
    struct cdr_record r = call("+12125550100", 5, CDR_ST_COMPLETED);
    rate_single(deck, &r, 0, 0); /* 5 <= 5: not billed, no fee */
    r.duration = 6;
    /* 6 s -> 60 s: 0.0100 + fee 0.0100 = 0.0200 */
    rate_single(deck, &r, 60, 20000000);
    r.duration = 0;
    rate_single(deck, &r, 0, 0);
    rt_deck_free(deck);
}

/* A minimum equal to the amount is the amount; above it, the minimum. */
static void
test_minimum_charge_at_and_around_the_amount(void **state)
{
    (void)state;
    /* 60 s at 0.0120 = 0.0120 + fee 0.0030 = 0.0150 */
    struct rt_deck *deck =
        load_ok(HEAD "connect_fee: \"0.0030\"\n"
                     "termination:\n"
                     "  - { prefix: \"1\", rate: \"0.0120\", "
                     "minimum_charge: \"0.0150\" }\n"
                     "  - { prefix: \"2\", rate: \"0.0120\", "
                     "minimum_charge: \"0.0151\" }\n"
                     "  - { prefix: \"3\", rate: \"0.0120\", "
                     "minimum_charge: \"0.0149\" }\n",
                NULL);
    struct cdr_record r = call("+12125550100", 30, CDR_ST_COMPLETED);
    rate_single(deck, &r, 60, 15000000);
    r.to = S("+22125550100");
    rate_single(deck, &r, 60, 15100000);
    r.to = S("+32125550100");
    rate_single(deck, &r, 60, 15000000);
    /* 150 s -> 180 s: 0.0360 + 0.0030 = 0.0390, over every minimum */
    r.duration = 150;
    rate_single(deck, &r, 180, 39000000);
    rt_deck_free(deck);
}

/* The fee is per component: a PSTN child's two components each get it.
 * Parent A=+14155550100 -> B=+442071234567; the child to C=+4930123456.
 * 90 s at 60/60 -> 120 s: Term(A->B) 44 0.0200 x 2 = 0.0400 + 0.0010;
 * Term(A->C) 49 0.0300 x 2 = 0.0600 + 0.0010. */
static void
test_connect_fee_is_added_to_each_component(void **state)
{
    (void)state;
    struct rt_deck *deck = load_ok(HEAD "connect_fee: \"0.0010\"\n"
                                        "termination:\n"
                                        "  - { prefix: \"44\", rate: "
                                        "\"0.0200\" }\n"
                                        "  - { prefix: \"49\", rate: "
                                        "\"0.0300\" }\n",
                                   NULL);
    struct cdr_record parent = call("+442071234567", 300, CDR_ST_COMPLETED);
    struct cdr_record child = call("+4930123456", 90, CDR_ST_COMPLETED);
    child.from = S("+442071234567");
    struct rt_call c;
    struct cdr_diag d;
    memset(&c, 0, sizeof c);
    assert_int_equal(rt_charge_leg(&(struct rt_charge_decks){deck, NULL, NULL},
                                   &child, &parent, RT_LEG_CHILD,
                                   RT_SCN_TERMINATION_PSTN, NULL, &c, &d),
                     0);
    assert_int_equal(c.n_components, 2);
    assert_int_equal(c.comp[0].billable_seconds, 120);
    assert_int_equal(c.comp[0].amount_nano, 41000000);
    assert_int_equal(c.comp[1].amount_nano, 61000000);
    rt_deck_free(deck);
}

/* A busy leg, or one with no status and no length, costs nothing at all:
 * no connect fee and no minimum. */
static void
test_fees_never_apply_to_an_unbilled_component(void **state)
{
    (void)state;
    struct rt_deck *deck = load_ok(HEAD "connect_fee: \"0.0100\"\n"
                                        "minimum_charge: \"0.0500\"\n"
                                        "termination:\n"
                                        "  - { prefix: \"1\", rate: \"0.0100\" "
                                        "}\n",
                                   NULL);
    struct cdr_record r = call("+12125550100", 40, CDR_ST_BUSY);
    rate_single(deck, &r, 0, 0);
    r.status = CDR_ST_NONE;
    r.duration = 0;
    rate_single(deck, &r, 0, 0);
    /* billed: 0.0100 + 0.0100 = 0.0200, under the minimum 0.0500 */
    r.status = CDR_ST_COMPLETED;
    r.duration = 1;
    rate_single(deck, &r, 60, 50000000);
    rt_deck_free(deck);
}

/* An entry's fees override the deck's, one by one; csv: lists carry them
 * in named columns. */
static void
test_entry_and_csv_list_fees_override_the_deck(void **state)
{
    (void)state;
    struct rt_deck *deck =
        load_ok(HEAD "connect_fee: \"0.0100\"\nfree_seconds: 3\n"
                     "termination:\n"
                     "  - { prefix: \"1\", rate: \"0.0100\", connect_fee: "
                     "\"0\" }\n"
                     "  - { csv: list.csv }\n",
                "rate,prefix,free_seconds,connect_fee,minimum_charge\n"
                "0.0100,44,10,,\n"
                "0.0100,49,,0.0005,0.0200\n");
    /* prefix 1: no fee, 3 free seconds from the deck: 4 s -> 60 s */
    struct cdr_record r = call("+12125550100", 4, CDR_ST_COMPLETED);
    rate_single(deck, &r, 60, 10000000);
    /* prefix 44: 10 free seconds, the deck's fee */
    r.to = S("+442071234567");
    r.duration = 10;
    rate_single(deck, &r, 0, 0);
    r.duration = 11;
    rate_single(deck, &r, 60, 20000000);
    /* prefix 49: 0.0100 + 0.0005 = 0.0105, minimum 0.0200 */
    r.to = S("+4930123456");
    rate_single(deck, &r, 60, 20000000);
    rt_deck_free(deck);
}

/* Every fee problem is a deck error, listed at once, and decimals may come
 * after the fees in the file. */
static void
test_fee_problems_are_deck_errors(void **state)
{
    (void)state;
    static const struct {
        const char *yaml, *csv, *message, *value;
    } c[] = {
        {"connect_fee: \"0.00001\"\n" HEAD, NULL,
         "connect_fee has more decimal places than the deck's decimals (4)",
         "0.00001"},
        {HEAD "termination:\n  - { prefix: \"1\", rate: \"0.01\", "
              "minimum_charge: \"0.01234\" }\n",
         NULL,
         "minimum_charge has more decimal places than the deck's decimals (4)",
         "0.01234"},
        {HEAD "connect_fee: \"-0.01\"\n", NULL, "a fee cannot be negative",
         "-0.01"},
        {HEAD "free_seconds: 2.5\n", NULL, "free_seconds must be whole", "2.5"},
        {HEAD "free_seconds: \"-1\"\n", NULL, "free_seconds must be whole",
         "-1"},
        {HEAD "termination:\n  - { csv: list.csv }\n",
         "prefix,rate,connect_fee\n1,0.01,0.000001\n",
         "connect_fee has more decimal places", "0.000001"},
        {HEAD "termination:\n  - { csv: list.csv }\n",
         "prefix,rate,conect_fee\n1,0.01,0.01\n", "unknown column",
         "conect_fee"},
        {HEAD "termination:\n  - { csv: list.csv }\n",
         "prefix,rate,rate\n1,0.01,0.01\n", "column named twice", "rate"},
        {HEAD "termination:\n  - { csv: list.csv }\n",
         "prefix,increment\n1,60/6\n", "the header has no rate column", NULL},
    };
    for (size_t i = 0; i < N_ELEMS(c); i++) {
        struct cdr_diag_list errs;
        cdr_diag_list_init(&errs);
        struct rt_deck *deck = load(c[i].yaml, c[i].csv, &errs);
        if (deck != NULL || errs.count == 0)
            fail_msg("case %zu: accepted", i);
        int found = 0;
        for (size_t k = 0; k < errs.count; k++)
            if (strstr(errs.items[k].message, c[i].message) != NULL &&
                (c[i].value == NULL ||
                 strcmp(errs.items[k].value, c[i].value) == 0))
                found = 1;
        if (!found)
            fail_msg("case %zu: no \"%s\" (first: %s \"%s\")", i, c[i].message,
                     errs.items[0].message, errs.items[0].value);
        cdr_diag_list_free(&errs);
    }
}

/* --check-deck lists every problem in one pass: an overlap and a fee off
 * the grid are found beside a bad currency (they used to wait for it). */
static void
test_one_pass_lists_overlaps_and_fees_beside_other_problems(void **state)
{
    (void)state;
    struct cdr_diag_list errs;
    cdr_diag_list_init(&errs);
    struct rt_deck *deck = load("deck: x\ncurrency: usd\ndecimals: 2\n"
                                "rounding: half-up\nconnect_fee: \"0.001\"\n"
                                "termination:\n"
                                "  - { prefix: \"1\", rate: \"0.01\" }\n"
                                "  - { prefix: \"1\", rate: \"0.02\" }\n",
                                NULL, &errs);
    assert_null(deck);
    int currency = 0, overlap = 0, fee = 0;
    for (size_t i = 0; i < errs.count; i++) {
        currency |= strstr(errs.items[i].message, "currency") != NULL;
        overlap |= strstr(errs.items[i].message, "overlaps") != NULL;
        fee |= strstr(errs.items[i].message, "connect_fee has more") != NULL;
    }
    assert_int_equal(errs.count, 3);
    assert_true(currency && overlap && fee);
    cdr_diag_list_free(&errs);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(
            test_free_seconds_up_to_d_are_free_and_d_plus_one_bills_in_full),
        cmocka_unit_test(test_minimum_charge_at_and_around_the_amount),
        cmocka_unit_test(test_connect_fee_is_added_to_each_component),
        cmocka_unit_test(test_fees_never_apply_to_an_unbilled_component),
        cmocka_unit_test(test_entry_and_csv_list_fees_override_the_deck),
        cmocka_unit_test(test_fee_problems_are_deck_errors),
        cmocka_unit_test(
            test_one_pass_lists_overlaps_and_fees_beside_other_problems),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

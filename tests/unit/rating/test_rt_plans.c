/*
 * Price plans: which plan an account is on at a given instant (the
 * boundaries are the contract: effective_from inclusive, effective_to
 * exclusive, a bare date 00:00 UTC), the default plan, and every problem
 * of a plans file listed at once.
 */
#include "rating/deck/rt_plans.h"

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
#define T_2026_06_01 1780272000LL

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

static const char deck_a[] = "deck: a\ncurrency: USD\ndecimals: 4\n"
                             "rounding: half-up\ntermination:\n"
                             "  - { prefix: \"1\", rate: \"0.01\" }\n";
static const char deck_b[] = "deck: b\ncurrency: EUR\ndecimals: 2\n"
                             "rounding: up\ntermination:\n"
                             "  - { prefix: \"1\", rate: \"0.02\" }\n";

/* Load plans.yaml (with a.yaml and b.yaml beside it); NULL on problems,
 * which go to *errs. */
static struct rt_plans *
load(const char *plans, const char *b_deck, struct cdr_diag_list *errs)
{
    snprintf(dir, sizeof dir, "/tmp/referee-plans-XXXXXX");
    assert_non_null(mkdtemp(dir));
    write_file("a.yaml", deck_a);
    write_file("b.yaml", b_deck);
    write_file("plans.yaml", plans);
    char path[128];
    snprintf(path, sizeof path, "%s/plans.yaml", dir);
    struct rt_plans *p = NULL;
    rt_plans_load(&p, path, errs);
    static const char *names[] = {"a.yaml", "b.yaml", "plans.yaml"};
    for (size_t i = 0; i < N_ELEMS(names); i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
    return p;
}

#define PLANS                                                                  \
    "plans:\n  - { name: one, deck: a.yaml }\n"                                \
    "  - { name: two, deck: b.yaml }\n"

static const char *
plan_of(const struct rt_plans *p, const char *account, int64_t at)
{
    const struct rt_plan *pl = rt_plans_find(p, account, strlen(account), at);
    return pl ? pl->name : "(none)";
}

static void
test_plan_in_force_at_the_boundary_instant(void **state)
{
    (void)state;
    struct cdr_diag_list errs;
    cdr_diag_list_init(&errs);
    struct rt_plans *p =
        load(PLANS "accounts:\n"
                   "  - { account_sid: AC1, plan: one, effective_to: "
                   "2026-06-01 }\n"
                   "  - { account_sid: AC1, plan: two, effective_from: "
                   "2026-06-01 }\n"
                   "  - { account_sid: AC2, plan: two, effective_from: "
                   "2026-06-01T00:00:00+02:00 }\n"
                   "default_plan: one\n",
             deck_b, &errs);
    for (size_t i = 0; i < errs.count; i++)
        print_error("%s\n", errs.items[i].message);
    assert_non_null(p);
    assert_int_equal(rt_plans_count(p), 2);
    /* effective_to exclusive, effective_from inclusive, 00:00 UTC */
    assert_string_equal(plan_of(p, "AC1", T_2026_06_01 - 1), "one");
    assert_string_equal(plan_of(p, "AC1", T_2026_06_01), "two");
    /* an offset moves the instant: 2026-05-31T22:00:00Z */
    assert_string_equal(plan_of(p, "AC2", T_2026_06_01 - 7201), "(none)");
    assert_string_equal(plan_of(p, "AC2", T_2026_06_01 - 7200), "two");
    /* not listed, or no account: the default; a listed account outside
     * its ranges: none */
    assert_string_equal(plan_of(p, "AC9", 0), "one");
    assert_string_equal(plan_of(p, "", 0), "one");
    assert_string_equal(plan_of(p, "AC", 0), "one");
    assert_string_equal(plan_of(p, "AC10", 0), "one");
    assert_int_equal(strlen(rt_plans_sha256(p)), 64);
    assert_string_equal(rt_deck_currency(rt_plans_at(p, 1)->deck), "EUR");
    rt_plans_free(p);
    cdr_diag_list_free(&errs);
}

static void
test_without_a_default_an_unlisted_account_has_no_plan(void **state)
{
    (void)state;
    struct cdr_diag_list errs;
    cdr_diag_list_init(&errs);
    struct rt_plans *p =
        load(PLANS "accounts:\n  - { account_sid: AC1, plan: two }\n", deck_b,
             &errs);
    assert_non_null(p);
    assert_string_equal(plan_of(p, "AC1", 0), "two");
    assert_string_equal(plan_of(p, "AC2", 0), "(none)");
    assert_string_equal(plan_of(p, "", 0), "(none)");
    rt_plans_free(p);
    cdr_diag_list_free(&errs);
}

/* One pass lists every problem: the plans file's and its decks'. */
static void
test_every_problem_is_listed_at_once(void **state)
{
    (void)state;
    struct cdr_diag_list errs;
    cdr_diag_list_init(&errs);
    struct rt_plans *p =
        load(PLANS "  - { name: one, deck: a.yaml }\n"
                   "accounts:\n"
                   "  - { account_sid: AC1, plan: three }\n"
                   "  - { account_sid: AC2, plan: one, effective_to: "
                   "2026-07-01 }\n"
                   "  - { account_sid: AC2, plan: one, effective_from: "
                   "2026-06-01 }\n"
                   "  - { account_sid: AC3, plan: one, effective_from: "
                   "2026-06-01, effective_to: 2026-06-01 }\n"
                   "  - { account_sid: \"A C\", plan: one }\n"
                   "default_plan: four\nextra: 1\n",
             "deck: b\ncurrency: eur\ndecimals: 2\nrounding: up\n", &errs);
    assert_null(p);
    static const char *want[] = {
        "plan named twice",
        "unknown plan",
        "account on two plans at once",
        "effective_to must be after effective_from",
        "an account sid is 1 to 128",
        "unknown key",
        "currency must be 3 upper-case letters", /* b.yaml's own */
    };
    for (size_t i = 0; i < N_ELEMS(want); i++) {
        int found = 0;
        for (size_t k = 0; k < errs.count; k++)
            found |= strstr(errs.items[k].message, want[i]) != NULL;
        if (!found) {
            for (size_t k = 0; k < errs.count; k++)
                print_error("%s:%ld: %s\n", errs.items[k].file,
                            errs.items[k].line, errs.items[k].message);
            fail_msg("no \"%s\"", want[i]);
        }
    }
    /* "unknown plan" twice: three, and the default four */
    int unknown = 0;
    for (size_t k = 0; k < errs.count; k++)
        unknown += strcmp(errs.items[k].message, "unknown plan") == 0;
    assert_int_equal(unknown, 2);
    cdr_diag_list_free(&errs);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plan_in_force_at_the_boundary_instant),
        cmocka_unit_test(
            test_without_a_default_an_unlisted_account_has_no_plan),
        cmocka_unit_test(test_every_problem_is_listed_at_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

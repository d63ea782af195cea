/*
 * A deck (or plans file) is trusted but must not take the machine: nesting,
 * aliases, a csv: list named again, are refused with a clear problem
 * before the document is built or the list read twice.
 */
#include "rating/deck/rt_deck.h"
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

static void
remove_files(void)
{
    static const char *names[] = {"deck.yaml", "list.csv", "plans.yaml"};
    char path[128];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
}

/* Load deck.yaml (list.csv beside it) or, with plans, plans.yaml naming
 * it; 1 when some problem contains want. */
static int
refused_with(const char *yaml, const char *plans, const char *want)
{
    snprintf(dir, sizeof dir, "/tmp/referee-bounds-XXXXXX");
    assert_non_null(mkdtemp(dir));
    write_file("deck.yaml", yaml);
    write_file("list.csv", "prefix,rate\n1,0.01\n");
    if (plans != NULL)
        write_file("plans.yaml", plans);
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir,
             plans ? "plans.yaml" : "deck.yaml");
    struct cdr_diag_list errs;
    cdr_diag_list_init(&errs);
    int rc;
    if (plans != NULL) {
        struct rt_plans *p = NULL;
        rc = rt_plans_load(&p, path, &errs);
        rt_plans_free(p);
    } else {
        struct rt_deck *d = NULL;
        rc = rt_deck_load(&d, path, &errs);
        rt_deck_free(d);
    }
    remove_files();
    int found = 0;
    for (size_t i = 0; i < errs.count; i++)
        found |= strstr(errs.items[i].message, want) != NULL;
    if (rc == 0 || !found)
        for (size_t i = 0; i < errs.count; i++)
            print_error("%ld:%ld: %s\n", errs.items[i].line,
                        errs.items[i].column, errs.items[i].message);
    cdr_diag_list_free(&errs);
    return rc != 0 && found;
}

#define HEAD "deck: b\ncurrency: USD\ndecimals: 4\nrounding: up\n"

static void
test_deep_nesting_is_refused_before_the_document_is_built(void **state)
{
    (void)state;
    size_t depth = 100000;
    char *y = malloc(2 * depth + 64);
    assert_non_null(y);
    size_t o = (size_t)sprintf(y, HEAD "termination: ");
    memset(y + o, '[', depth);
    memset(y + o + depth, ']', depth);
    y[o + 2 * depth] = '\0';
    assert_true(refused_with(y, NULL, "nested deeper than 64 levels"));
    free(y);
}

static void
test_many_aliases_are_refused(void **state)
{
    (void)state;
    char y[8192];
    size_t o =
        (size_t)snprintf(y, sizeof y,
                         HEAD "termination:\n"
                              "  - &e { prefix: \"1\", rate: \"0.01\" }\n");
    for (int i = 0; i < 199; i++)
        o += (size_t)snprintf(y + o, sizeof y - o, "  - *e\n");
    assert_true(refused_with(y, NULL, "more than 100 aliases"));
}

static void
test_a_csv_list_named_twice_is_loaded_once(void **state)
{
    (void)state;
    assert_true(refused_with(HEAD "termination:\n"
                                  "  - &c { csv: list.csv }\n"
                                  "  - *c\n",
                             NULL, "csv list named twice (also at line 6)"));
    assert_true(refused_with(HEAD "termination:\n"
                                  "  - { csv: list.csv }\n"
                                  "origination:\n"
                                  "  - { csv: ./list.csv }\n",
                             NULL, "csv list named twice"));
}

/* The plans loader shares the bounds. */
static void
test_the_plans_file_has_the_same_bounds(void **state)
{
    (void)state;
    char y[8192];
    size_t o = (size_t)snprintf(y, sizeof y,
                                "plans:\n  - &p { name: a, deck: deck.yaml }\n"
                                "accounts:\n");
    for (int i = 0; i < 150; i++)
        o +=
            (size_t)snprintf(y + o, sizeof y - o,
                             "  - { account_sid: AC%d, plan: a }\n  - *p\n", i);
    assert_true(refused_with(HEAD, y, "plans file has more than 100 aliases"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(
            test_deep_nesting_is_refused_before_the_document_is_built),
        cmocka_unit_test(test_many_aliases_are_refused),
        cmocka_unit_test(test_a_csv_list_named_twice_is_loaded_once),
        cmocka_unit_test(test_the_plans_file_has_the_same_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Diagnostics: the codes are stable (rejects store them: a renumbered or
 * renamed code would change the meaning of stored rows, so this list is
 * written out here on purpose), and problem lists count past their cap.
 */
#include "cdr/util/cdr_diag.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

static void
test_codes_keep_their_numbers_and_names(void **state)
{
    (void)state;
    static const struct {
        int code;
        const char *name;
    } pinned[] = {
        {0, "ok"},           {-1, "no_memory"},     {-2, "io"},
        {-3, "csv"},         {-4, "missing"},       {-5, "bad_time"},
        {-6, "bad_number"},  {-7, "bad_direction"}, {-8, "bad_address"},
        {-9, "too_long"},    {-10, "duplicate"},    {-11, "field_count"},
        {-12, "unobserved"}, {-13, "no_rate"},      {-14, "transfer_refused"},
        {-15, "deck"},       {-16, "database"},     {-17, "usage"},
        {-18, "limit"},      {-19, "bad_value"},    {-20, "too_many_rejects"},
        {-21, "no_plan"},    {-22, "not_e164"},
    };
    for (size_t i = 0; i < sizeof pinned / sizeof pinned[0]; i++) {
        const char *name = cdr_code_name(pinned[i].code);
        assert_non_null(name);
        assert_string_equal(name, pinned[i].name);
        assert_string_not_equal(cdr_strerror(pinned[i].code), "unknown error");
    }
    assert_int_equal(CDR_E_BAD_TIME, -5);
    assert_int_equal(CDR_E_TOO_MANY_REJECTS, -20);
    assert_int_equal(CDR_CODE_MIN, -22);
    assert_null(cdr_code_name(CDR_CODE_MIN - 1));
    assert_null(cdr_code_name(1));
    assert_string_equal(cdr_strerror(1), "unknown error");
}

static void
test_problems_are_counted_past_their_cap(void **state)
{
    (void)state;
    struct cdr_diag_list l;
    cdr_diag_list_init(&l);
    struct cdr_problems p = {&l, 0, 3};
    for (int i = 0; i < 5; i++)
        cdr_problem(&p, "deck.yaml", i + 1, 2, CDR_E_DECK, "rate", "x", 1,
                    "problem %d", i);
    assert_int_equal(p.count, 5);
    assert_int_equal(l.count, 3);
    assert_string_equal(l.items[2].message, "problem 2");
    assert_int_equal(l.items[2].line, 3);
    assert_int_equal(l.items[2].column, 2);
    assert_string_equal(l.items[2].file, "deck.yaml");
    assert_string_equal(l.items[2].value, "x");
    struct cdr_problems all = {&l, 0, 0};
    cdr_problem(&all, NULL, 0, 0, CDR_E_IO, NULL, NULL, 0, "no cap");
    assert_int_equal(l.count, 4);
    cdr_diag_list_free(&l);
}

static void
test_io_failure_names_the_path_and_the_system_error(void **state)
{
    (void)state;
    struct cdr_diag d;
    cdr_diag_clear(&d);
    assert_int_equal(cdr_diag_io(&d, "out/x", "cannot link", ENOENT), CDR_E_IO);
    assert_int_equal(d.code, CDR_E_IO);
    assert_string_equal(d.file, "out/x");
    assert_int_equal(d.line, 0);
    char want[CDR_DIAG_TEXT];
    snprintf(want, sizeof want, "cannot link: %s", strerror(ENOENT));
    assert_string_equal(d.message, want);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_codes_keep_their_numbers_and_names),
        cmocka_unit_test(test_problems_are_counted_past_their_cap),
        cmocka_unit_test(test_io_failure_names_the_path_and_the_system_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

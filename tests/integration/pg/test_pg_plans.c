/*
 * Schema 009 against a real server: the table of reject codes agrees with
 * the rater's own (cdr/util/cdr_diag.c), and finance may read what 009
 * adds.  The sell columns themselves are checked end to end against the
 * CSV sink (e2e_plans.sh).
 */
#include "tests/integration/pg/pg_fixture.h"

#include "cdr/util/cdr_diag.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

/* Every code of the C table (but CDR_OK, no reject) has its row, with its
 * name and text, and the table has no other row: they cannot drift. */
static void
test_reject_codes_agree_with_the_c_table(void **state)
{
    struct fx *f = *state;
    PGresult *r = PQexec(f->admin, "SELECT code, name, meaning"
                                   " FROM referee.reject_codes ORDER BY code"
                                   " DESC");
    int row = 0;
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    for (int code = -1; code >= CDR_CODE_MIN - 100; code--) {
        const char *name = cdr_code_name(code);
        char num[16];
        if (name == NULL)
            continue;
        snprintf(num, sizeof num, "%d", code);
        assert_true(row < PQntuples(r));
        assert_string_equal(PQgetvalue(r, row, 0), num);
        assert_string_equal(PQgetvalue(r, row, 1), name);
        assert_string_equal(PQgetvalue(r, row, 2), cdr_strerror(code));
        row++;
    }
    assert_int_equal(row, PQntuples(r));
    assert_int_equal(row, -CDR_CODE_MIN); /* no gap in the C table either */
    PQclear(r);
}

/* Every reject code stored names a row of reject_codes. */
static void
test_stored_rejects_name_their_code(void **state)
{
    struct fx *f = *state;
    struct rt_sink s = open_sink(f);
    struct rt_store_report rep;
    rate_night(&s, files1, "CA1", &rep);
    s.ops->free(s.self);
    assert_string_equal(scalar(f->admin, "SELECT string_agg(k.name, ',')"
                                         " FROM referee.rejects r"
                                         " LEFT JOIN referee.reject_codes k"
                                         " ON k.code = r.code"),
                        "bad_time");
}

static void
test_reader_sees_the_new_views_and_codes(void **state)
{
    struct fx *f = *state;
    exec_ok(f->admin, "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles"
                      " WHERE rolname = 'referee_t_fin') THEN"
                      " CREATE ROLE referee_t_fin LOGIN PASSWORD 'pw'"
                      " IN ROLE referee_reader; END IF; END $$");
    exec_ok(f->admin, "SET ROLE referee_t_fin");
    assert_string_equal(
        scalar(f->admin, "SELECT (SELECT count(*) FROM referee.reject_codes)"
                         " + (SELECT count(*) FROM referee.margin_monthly)"
                         " + (SELECT count(*) FROM"
                         " referee.invoice_monthly_sell)"),
        "22");
    assert_string_equal(scalar(f->admin,
                               "SELECT count(sell_amount) + count(plan)"
                               " FROM referee.current_charges"),
                        "0");
    exec_ok(f->admin, "RESET ROLE");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_reject_codes_agree_with_the_c_table, setup_db, teardown_db),
        cmocka_unit_test_setup_teardown(test_stored_rejects_name_their_code,
                                        setup_db, teardown_db),
        cmocka_unit_test_setup_teardown(
            test_reader_sees_the_new_views_and_codes, setup_db, teardown_db),
    };
    return pg_run_tests(tests, sizeof tests / sizeof tests[0]);
}

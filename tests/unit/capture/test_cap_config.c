/*
 * Deck tests: the trunks: section's problems with their line and column,
 * and carrier addresses matched by prefix.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tracker_helpers.h"

static void
test_config_errors_have_line_and_column(void **state)
{
    (void)state;
    struct cap_config *c = NULL;
    struct cdr_diag d;
    const char *bad = "deck: x\ntrunks:\n  - sid: TK1\n    carrier_addresses: "
                      "[10.0.0.1, 300.1.1.1]\n";
    assert_int_equal(parse_config(&c, bad, &d), CDR_E_DECK);
    assert_null(c);
    assert_int_equal(d.line, 4);
    assert_int_equal(d.column, 35);
    char buf[512];
    cdr_diag_format(&d, buf, sizeof buf);
    assert_non_null(strstr(buf, "deck.yaml:4:35"));
    assert_non_null(strstr(buf, "300.1.1.1"));
    const char *cases[] = {
        "deck: x\n",
        "trunks: 3\n",
        ("trunks:\n  - sid: A\n    termination_domain: a\n  - sid: A\n"
         "    termination_domain: b\n"),
        "trunks:\n  - termination_domain: a\n",
        "trunks: [\n",
        "trunks:\n  - sid: A\n    carrier_addresses: [10.0.0.0/33]\n",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        d.line = 0;
        assert_int_not_equal(parse_config(&c, cases[i], &d), 0);
        assert_true(d.line > 0);
    }
    const char *ok = "rounding: half-up\ntrunks:\n  - sid: Z\n  - sid: A\n"
                     "    carrier_addresses: 2001:db8::/32\n"
                     "    caller_id_for_target: transferor\n";
    assert_int_equal(parse_config(&c, ok, NULL), 0);
    struct cap_addr a;
    set_addr(&a, "2001:db8:1::5", 5060);
    assert_non_null(cap_config_trunk_by_addr(c, &a));
    set_addr(&a, "2001:db9::5", 5060);
    assert_null(cap_config_trunk_by_addr(c, &a));
    cap_config_free(c);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_errors_have_line_and_column),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

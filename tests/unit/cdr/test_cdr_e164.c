/*
 * cdr_e164: a number with its '+' is E.164 as written; one without is
 * E.164 only through the trunk's dialling plan, else refused.
 */
#include "cdr/record/cdr_e164.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static struct cdr_addr
addr(const char *text)
{
    struct cdr_addr a;
    if (cdr_parse_addr(text, text + strlen(text), &a) != 0)
        fail_msg("cannot parse %s", text);
    return a;
}

/* The E.164 digits of text under dp, or "refused". */
static const char *
e164(const char *text, const struct cdr_dialling *dp)
{
    static char buf[CDR_E164_MAX_DIGITS + 1];
    const char *why = NULL;
    struct cdr_addr a = addr(text);
    if (cdr_e164(&a, dp, buf, sizeof buf, &why) < 0) {
        assert_non_null(why);
        return "refused";
    }
    return buf;
}

static void
test_a_number_with_its_plus_is_e164_as_written(void **state)
{
    (void)state;
    assert_string_equal(e164("+14155550100", NULL), "14155550100");
    assert_string_equal(e164("tel:+49-30-123456", NULL), "4930123456");
    assert_string_equal(e164("sip:+442071838750@x.pstn.twilio.com", NULL),
                        "442071838750");
    assert_string_equal(e164("sip:%2B4930123@x.pstn.twilio.com", NULL),
                        "4930123");
    assert_string_equal(e164("sip:+44-20-7183@pbx;user=phone", NULL),
                        "44207183");
}

/* 112 priced as written would match the US prefix 1. */
static void
test_a_number_without_plus_is_refused_without_a_dialling_plan(void **state)
{
    (void)state;
    struct cdr_dialling none;
    memset(&none, 0, sizeof none);
    const char *local[] = {"112",
                           "tel:112",
                           "14155550100",
                           "tel:004930123",
                           "sip:112@x.pstn.twilio.com",
                           "sip:030123;phone-context=+49@pbx;user=phone"};
    for (size_t i = 0; i < sizeof local / sizeof local[0]; i++) {
        assert_string_equal(e164(local[i], NULL), "refused");
        assert_string_equal(e164(local[i], &none), "refused");
    }
    char buf[16];
    const char *why;
    struct cdr_addr a = addr("tel:112");
    assert_int_equal(cdr_e164(&a, NULL, buf, sizeof buf, &why), -1);
    assert_non_null(strstr(why, "country_code"));
}

static void
test_the_trunk_dialling_plan_reads_local_forms(void **state)
{
    (void)state;
    struct cdr_dialling de = {"49", "0", {"00"}, 1};
    assert_string_equal(e164("tel:030123456", &de), "4930123456");
    assert_string_equal(e164("0044207183875", &de), "44207183875");
    assert_string_equal(e164("+4930123", &de), "4930123"); /* as written */
    assert_string_equal(e164("tel:112", &de), "refused");  /* no 0 */
    assert_string_equal(e164("tel:0", &de), "refused");    /* nothing left */
    assert_string_equal(e164("tel:00", &de), "refused");
    /* 15 digits at most once the country code is on */
    assert_string_equal(e164("01234567890123", &de), "491234567890123");
    assert_string_equal(e164("012345678901234", &de), "refused");

    /* North America: the national prefix is 1, the international 011;
     * the longest international prefix wins */
    struct cdr_dialling us = {"1", "1", {"011", "01"}, 2};
    assert_string_equal(e164("14155550100", &us), "14155550100");
    assert_string_equal(e164("tel:1-415-555-0100", &us), "14155550100");
    assert_string_equal(e164("011442071838750", &us), "442071838750");
    assert_string_equal(e164("4155550100", &us), "refused");
    assert_string_equal(e164("911", &us), "refused");

    /* no national prefix: every number without an international one is
     * national */
    struct cdr_dialling fr = {"33", "", {"00"}, 1};
    assert_string_equal(e164("612345678", &fr), "33612345678");
    assert_string_equal(e164("0049301", &fr), "49301");
    /* international prefixes without a country code */
    struct cdr_dialling intl = {"", "", {"00"}, 1};
    assert_string_equal(e164("004930123", &intl), "4930123");
    assert_string_equal(e164("030123", &intl), "refused");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_number_with_its_plus_is_e164_as_written),
        cmocka_unit_test(
            test_a_number_without_plus_is_refused_without_a_dialling_plan),
        cmocka_unit_test(test_the_trunk_dialling_plan_reads_local_forms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

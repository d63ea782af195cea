/*
 * Record address tests: the form a SIP or tel URI takes in a call record.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cdr/capture/track/cap_tracker.h"

static void
test_record_addr_forms(void **state)
{
    (void)state;
    char buf[128];
    struct {
        const char *in, *out;
    } cases[] = {
        {"sip:+14155550100@x.com;user=phone", "+14155550100"},
        {"tel:+1-415-555-0100;ext=1", "+14155550100"},
        {"sip:1001@10.0.0.1:5080;transport=udp", "sip:1001@10.0.0.1:5080"},
        {"SIP:alice@Example.com", "sip:alice@Example.com"},
        {"sip:+1234567890123456@x", "sip:+1234567890123456@x"},
        {"sips:bob@b.example?Replaces=x", "sips:bob@b.example"},
        {"sip:host.only", "sip:host.only"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(
            cap_record_addr(cases[i].in, strlen(cases[i].in), buf, sizeof buf),
            0);
        assert_string_equal(buf, cases[i].out);
    }
    assert_int_equal(cap_record_addr("mailto:x", 8, buf, sizeof buf), -1);
    assert_int_equal(cap_record_addr("sip:a@b", 7, buf, 4), -1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record_addr_forms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

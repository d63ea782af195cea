/*
 * rt_deck: loading the fixture and example decks, longest-prefix lookups,
 * from_prefix preference, effective-date boundaries (with fallback to a
 * shorter prefix), the sip class, trunks and the date parser.
 */
#include "rating/deck/rt_deck.h"
#include "rating/deck/rt_deck_int.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

#define T_2026_01_01 1767225600LL
#define T_2026_03_01 1772323200LL
#define T_2026_04_01 1775001600LL
#define T_2026_05_01 1777593600LL
#define T_2026_06_01 1780272000LL
#define T_2027_01_01 1798761600LL

static struct rt_deck *
load_source_deck(const char *rel)
{
    const char *root = getenv("REFEREE_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", root ? root : ".", rel);
    struct cdr_diag_list errs;
    cdr_diag_list_init(&errs);
    struct rt_deck *deck = NULL;
    int rc = rt_deck_load(&deck, path, &errs);
    for (size_t i = 0; i < errs.count; i++) {
        char buf[1024];
        cdr_diag_format(&errs.items[i], buf, sizeof buf);
        print_error("%s\n", buf);
    }
    assert_int_equal(rc, 0);
    assert_int_equal(errs.count, 0);
    assert_non_null(deck);
    cdr_diag_list_free(&errs);
    return deck;
}

static int
setup_lookup(void **state)
{
    *state = load_source_deck("tests/fixtures/decks/lookup.yaml");
    return 0;
}

static int
teardown_deck(void **state)
{
    rt_deck_free(*state);
    return 0;
}

struct price_case {
    enum rt_service svc;
    const char *dest; /* NULL: sip */
    const char *from;
    int64_t at;
    int rc;
    const char *matched, *rate, *from_prefix;
    uint32_t first, next;
};

#define TERM RT_SVC_TERMINATION
#define ORIG RT_SVC_ORIGINATION

static void
check_prices(const struct rt_deck *deck, const struct price_case *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct rt_price p;
        memset(&p, 0, sizeof p);
        const char *dest = c[i].dest ? c[i].dest : "";
        int rc =
            rt_deck_price(deck, c[i].svc, dest, strlen(dest), c[i].dest == NULL,
                          c[i].from, strlen(c[i].from), c[i].at, &p);
        if (rc != c[i].rc ||
            (rc == 0 && (strcmp(p.matched, c[i].matched) != 0 ||
                         strcmp(p.rate_text, c[i].rate) != 0 ||
                         strcmp(p.from_prefix, c[i].from_prefix) != 0 ||
                         p.increment.first != c[i].first ||
                         p.increment.next != c[i].next)))
            print_error("case %zu (%s -> %s at %lld): rc %d matched %s rate "
                        "%s from %s inc %u/%u\n",
                        i, c[i].from, dest, (long long)c[i].at, rc,
                        rc ? "-" : p.matched, rc ? "-" : p.rate_text,
                        rc ? "-" : p.from_prefix, p.increment.first,
                        p.increment.next);
        assert_int_equal(rc, c[i].rc);
        if (rc != 0)
            continue;
        assert_string_equal(p.matched, c[i].matched);
        assert_string_equal(p.rate_text, c[i].rate);
        assert_string_equal(p.from_prefix, c[i].from_prefix);
        assert_int_equal(p.increment.first, c[i].first);
        assert_int_equal(p.increment.next, c[i].next);
    }
}

static void
test_fixture_deck_header_is_read(void **state)
{
    const struct rt_deck *deck = *state;
    assert_string_equal(rt_deck_name(deck), "lookup");
    assert_string_equal(rt_deck_currency(deck), "EUR");
    assert_int_equal(rt_deck_decimals(deck), 4);
    assert_int_equal(rt_deck_rounding(deck), RT_ROUND_HALF_EVEN);
    assert_int_equal(rt_deck_entries(deck), 17);
}

static void
test_longest_destination_prefix_wins(void **state)
{
    static const struct price_case c[] = {
        {TERM, "14155550100", "12125550100", T_2026_05_01, 0, "1415", "0.0050",
         "", 1, 1},
        {TERM, "12125550100", "12125550100", T_2026_05_01, 0, "1", "0.0045", "",
         60, 60},
        {TERM, "1", "", T_2026_05_01, 0, "1", "0.0045", "", 60, 60},
        {TERM, "141", "", T_2026_05_01, 0, "1", "0.0045", "", 60, 60},
        {TERM, "447700900123", "1", T_2026_05_01, 0, "447", "0.0350", "", 60,
         60},
        {TERM, "442071234567", "1", T_2026_05_01, 0, "44", "0.0120", "", 60,
         60},
        {TERM, "9991234", "1", T_2026_05_01, CDR_E_NO_RATE, NULL, NULL, NULL, 0,
         0},
        {TERM, "", "1", T_2026_05_01, CDR_E_NO_RATE, NULL, NULL, NULL, 0, 0},
        {TERM, "x1", "1", T_2026_05_01, CDR_E_NO_RATE, NULL, NULL, NULL, 0, 0},
        {ORIG, "18005550100", "", T_2026_05_01, 0, "1800", "0.0130", "", 60, 6},
        {ORIG, "14155550100", "", T_2026_05_01, 0, "1", "0.0034", "", 60, 60},
        {ORIG, "442071234567", "1", T_2026_05_01, CDR_E_NO_RATE, NULL, NULL,
         NULL, 0, 0},
    };
    check_prices(*state, c, N_ELEMS(c));
}

static void
test_longest_from_prefix_then_plain_entry(void **state)
{
    static const struct price_case c[] = {
        {TERM, "12125550100", "442071234567", T_2026_05_01, 0, "1", "0.0060",
         "44", 60, 60},
        {TERM, "12125550100", "447700900123", T_2026_05_01, 0, "1", "0.0070",
         "447", 60, 60},
        {TERM, "12125550100", "4", T_2026_05_01, 0, "1", "0.0045", "", 60, 60},
        {TERM, "12125550100", "", T_2026_05_01, 0, "1", "0.0045", "", 60, 60},
        /* a longer destination prefix beats an origin-based price */
        {TERM, "14155550100", "447700900123", T_2026_05_01, 0, "1415", "0.0050",
         "", 1, 1},
        /* 33 only has a from_prefix entry: other origins fall back to 3 */
        {TERM, "33123456789", "4930123", T_2026_05_01, 0, "33", "0.0200", "49",
         60, 60},
        {TERM, "33123456789", "12125550100", T_2026_05_01, 0, "3", "0.0300", "",
         60, 60},
    };
    check_prices(*state, c, N_ELEMS(c));
}

static void
test_effective_from_is_inclusive_and_to_exclusive(void **state)
{
    static const struct price_case c[] = {
        {TERM, "447", "", T_2026_06_01 - 1, 0, "447", "0.0350", "", 60, 60},
        {TERM, "442071234567", "", T_2026_06_01 - 1, 0, "44", "0.0120", "", 60,
         60},
        {TERM, "442071234567", "", T_2026_06_01, 0, "44", "0.0105", "", 60, 60},
        {TERM, "449", "", T_2026_06_01 + 1, 0, "44", "0.0105", "", 60, 60},
        {TERM, "4930123", "", T_2026_01_01 - 1, CDR_E_NO_RATE, NULL, NULL, NULL,
         0, 0},
        {TERM, "4930123", "", T_2026_01_01, 0, "49", "0.0098", "", 60, 60},
        {TERM, "4930123", "", INT64_MAX, 0, "49", "0.0098", "", 60, 60},
        {TERM, "442", "", INT64_MIN, 0, "44", "0.0120", "", 60, 60},
    };
    check_prices(*state, c, N_ELEMS(c));
}

/* 4420 is priced only in March (from 2026-03-01T00:00+01:00); outside it
 * the lookup falls back to 44; 4915 (csv) ends on 2027-01-01 -> 49. */
static void
test_prefix_not_in_force_falls_back_to_shorter_one(void **state)
{
    const int64_t promo = T_2026_03_01 - 3600;
    const struct price_case c[] = {
        {TERM, "442071234567", "", promo - 1, 0, "44", "0.0120", "", 60, 60},
        {TERM, "442071234567", "", promo, 0, "4420", "0.0080", "", 60, 60},
        {TERM, "442071234567", "", T_2026_04_01 - 1, 0, "4420", "0.0080", "",
         60, 60},
        {TERM, "442071234567", "", T_2026_04_01, 0, "44", "0.0120", "", 60, 60},
        {TERM, "4915112345678", "", T_2026_01_01 - 1, CDR_E_NO_RATE, NULL, NULL,
         NULL, 0, 0},
        {TERM, "4915112345678", "", T_2026_01_01, 0, "4915", "0.0420", "", 30,
         6},
        {TERM, "4915112345678", "", T_2027_01_01 - 1, 0, "4915", "0.0420", "",
         30, 6},
        {TERM, "4915112345678", "", T_2027_01_01, 0, "49", "0.0098", "", 60,
         60},
    };
    check_prices(*state, c, N_ELEMS(c));
}

static void
test_sip_class_is_separate_from_digits(void **state)
{
    static const struct price_case c[] = {
        {TERM, NULL, "12125550100", T_2026_05_01, 0, "sip", "0.0040", "", 60,
         60},
        {TERM, NULL, "442071234567", T_2026_05_01, 0, "sip", "0.0041", "44", 60,
         60},
        {TERM, NULL, "", T_2026_05_01, 0, "sip", "0.0040", "", 60, 60},
        {ORIG, NULL, "", T_2026_05_01, 0, "sip", "0.0034", "", 60, 60},
    };
    check_prices(*state, c, N_ELEMS(c));
    /* dest digits are ignored for the sip class */
    struct rt_price p;
    assert_int_equal(
        rt_deck_price(*state, TERM, "1415", 4, 1, NULL, 0, T_2026_05_01, &p),
        0);
    assert_string_equal(p.matched, "sip");
}

static void
test_lookup_reads_only_the_given_lengths(void **state)
{
    struct rt_price p;
    /* "1415..." cut to "14": prefix 1; from "447..." cut to "44" */
    assert_int_equal(rt_deck_price(*state, TERM, "14155550100", 2, 0,
                                   "447700900123", 2, T_2026_05_01, &p),
                     0);
    assert_string_equal(p.matched, "1");
    assert_string_equal(p.from_prefix, "44");
    assert_int_equal(p.rate_nano, 6000000);
    assert_int_equal(rt_deck_price(*state, 0, "1", 1, 0, "", 0, 0, &p),
                     CDR_E_NO_RATE);
}

static void
test_trunks_are_read_with_defaults(void **state)
{
    const struct rt_deck *deck = *state;
    assert_int_equal(rt_deck_trunk_count(deck), 3);
    const struct cdr_trunk *a = rt_deck_trunk(deck, "TKA", 3);
    assert_non_null(a);
    assert_ptr_equal(a, rt_deck_trunk_at(deck, 0));
    assert_int_equal(a->transfers, 0);
    assert_int_equal(a->pstn_transfers, 0);
    assert_int_equal(a->caller_id_for_target, CDR_CALLER_ID_TRANSFEREE);
    assert_null(a->termination_domain);
    assert_int_equal(a->n_carrier_addresses, 0);

    const struct cdr_trunk *b = rt_deck_trunk(deck, "TKBX", 3);
    assert_non_null(b);
    assert_string_equal(b->sid, "TKB");
    assert_int_equal(b->transfers, 1);
    assert_int_equal(b->pstn_transfers, 1);
    assert_int_equal(b->caller_id_for_target, CDR_CALLER_ID_TRANSFEROR);
    assert_string_equal(b->termination_domain, "acme.pstn.twilio.com");
    assert_int_equal(b->n_carrier_addresses, 4);
    assert_int_equal(b->carrier_addresses[1].family, AF_INET);
    assert_int_equal(b->carrier_addresses[1].prefix, 24);
    assert_memory_equal(b->carrier_addresses[1].ip, "\xc0\x00\x02\x00", 4);
    assert_int_equal(b->carrier_addresses[3].family, AF_INET6);
    assert_int_equal(b->carrier_addresses[3].prefix, 128);
    assert_int_equal(b->carrier_addresses[3].ip[15], 1);

    /* one address may be written without a list */
    const struct cdr_trunk *c = rt_deck_trunk(deck, "TKC", 3);
    assert_non_null(c);
    assert_ptr_equal(c, rt_deck_trunk_at(deck, 1));
    assert_int_equal(c->n_carrier_addresses, 1);
    assert_int_equal(c->carrier_addresses[0].prefix, 32);
    assert_memory_equal(c->carrier_addresses[0].ip, "\xc6\x33\x64\x07", 4);

    assert_null(rt_deck_trunk(deck, "TK", 2));
    assert_null(rt_deck_trunk(deck, "TKD", 3));
    assert_null(rt_deck_trunk(deck, "TKAA", 4));
    assert_null(rt_deck_trunk_at(deck, 3));
}

static void
test_example_deck_prices_and_trunks(void **state)
{
    (void)state;
    struct rt_deck *deck = load_source_deck("rates/example.yaml");
    assert_string_equal(rt_deck_name(deck), "example-us");
    assert_string_equal(rt_deck_currency(deck), "USD");
    assert_int_equal(rt_deck_decimals(deck), 6);
    assert_int_equal(rt_deck_rounding(deck), RT_ROUND_HALF_UP);
    static const struct price_case c[] = {
        {TERM, "14155550100", "12125550100", T_2026_05_01, 0, "1", "0.0045", "",
         60, 60},
        {TERM, "14155550100", "442071234567", T_2026_05_01, 0, "1", "0.0060",
         "44", 60, 60},
        {TERM, "442071234567", "1", T_2026_06_01 - 1, 0, "44", "0.0120", "", 60,
         60},
        {TERM, "442071234567", "1", T_2026_06_01, 0, "44", "0.0105", "", 60,
         60},
        {TERM, "447700900123", "1", T_2026_06_01, 0, "447", "0.0350", "", 60,
         60},
        {TERM, "4915112345678", "1", T_2026_06_01, 0, "4915", "0.0420", "", 60,
         60},
        {TERM, "4930123", "1", T_2026_06_01, 0, "49", "0.0098", "", 60, 60},
        {TERM, NULL, "1", T_2026_06_01, 0, "sip", "0.0040", "", 60, 60},
        {ORIG, "18885550100", "1", T_2026_06_01, 0, "1888", "0.0130", "", 60,
         6},
        {ORIG, "18775550100", "1", T_2026_06_01, 0, "1877", "0.0130", "", 60,
         6},
        {ORIG, "18005550100", "1", T_2026_06_01, 0, "1800", "0.0130", "", 60,
         6},
        {ORIG, "14155550100", "1", T_2026_06_01, 0, "1", "0.0034", "", 60, 60},
        {ORIG, "442071234567", "1", T_2026_06_01, 0, "44", "0.0100", "", 60,
         60},
        {ORIG, NULL, "1", T_2026_06_01, 0, "sip", "0.0034", "", 60, 60},
    };
    check_prices(deck, c, N_ELEMS(c));
    const struct cdr_trunk *t1 = rt_deck_trunk(deck, "TK0001", 6);
    assert_non_null(t1);
    assert_int_equal(t1->transfers, 1);
    assert_int_equal(t1->pstn_transfers, 1);
    assert_string_equal(t1->termination_domain, "example.pstn.twilio.com");
    assert_true(t1->n_carrier_addresses >= 2);
    const struct cdr_trunk *t2 = rt_deck_trunk(deck, "TK0002", 6);
    assert_non_null(t2);
    assert_int_equal(t2->transfers, 1);
    assert_int_equal(t2->pstn_transfers, 0);
    assert_int_equal(t2->caller_id_for_target, CDR_CALLER_ID_TRANSFEROR);
    rt_deck_free(deck);
}

static void
test_free_of_null_is_a_no_op(void **state)
{
    (void)state;
    rt_deck_free(NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fixture_deck_header_is_read,
                                        setup_lookup, teardown_deck),
        cmocka_unit_test_setup_teardown(test_longest_destination_prefix_wins,
                                        setup_lookup, teardown_deck),
        cmocka_unit_test_setup_teardown(
            test_longest_from_prefix_then_plain_entry, setup_lookup,
            teardown_deck),
        cmocka_unit_test_setup_teardown(
            test_effective_from_is_inclusive_and_to_exclusive, setup_lookup,
            teardown_deck),
        cmocka_unit_test_setup_teardown(
            test_prefix_not_in_force_falls_back_to_shorter_one, setup_lookup,
            teardown_deck),
        cmocka_unit_test_setup_teardown(test_sip_class_is_separate_from_digits,
                                        setup_lookup, teardown_deck),
        cmocka_unit_test_setup_teardown(
            test_lookup_reads_only_the_given_lengths, setup_lookup,
            teardown_deck),
        cmocka_unit_test_setup_teardown(test_trunks_are_read_with_defaults,
                                        setup_lookup, teardown_deck),
    };
    const struct CMUnitTest plain[] = {
        cmocka_unit_test(test_example_deck_prices_and_trunks),
        cmocka_unit_test(test_free_of_null_is_a_no_op),
    };
    int failed = 0;
    /* The lookup deck is loaded afresh for each test: cheap, isolated. */
    failed += cmocka_run_group_tests_name("lookup", tests, NULL, NULL);
    failed += cmocka_run_group_tests_name("deck", plain, NULL, NULL);
    return failed;
}

/*
 * One deck, both programs: referee-rate (rt_deck_load) and
 * referee-capture (cap_config_load) read the `trunks:` section with the
 * same reader, so for every deck they give the same verdict and the same
 * problems at the same places.  The only difference is on purpose: a deck
 * with no trunks rates (every trunk is then unknown to it) but gives the
 * capture nothing to watch.
 */
#include "cdr/capture/track/cap_config.h"
#include "rating/deck/rt_deck.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

#define HDR                                                                    \
    "deck: t\ncurrency: USD\ndecimals: 6\nrounding: half-up\n"                 \
    "termination:\n  - { prefix: \"1\", rate: \"0.0045\" }\n"

/* The trunks: sections; each is appended to HDR. */
static const char *const sections[] = {
    /* accepted */
    "trunks:\n  - sid: TK1\n    transfers: true\n"
    "    termination_domain: MyTrunk.pstn.twilio.com.\n"
    "    carrier_addresses: [127.0.0.2, \"10.9.0.0/16\", \"2001:db8::/32\"]\n",
    "trunks:\n  - sid: TK1\n    carrier_addresses: 10.0.0.1\n"
    "  - sid: TK2\n    caller_id_for_target: transferor\n"
    "    pstn_transfers: false\n",
    /* rejected */
    "trunks:\n  - sid: TK1\n    carrier_addresses: [10.0.0.1, 300.1.1.1]\n",
    "trunks:\n  - sid: TK1\n    carrier_addresses: [10.0.0.0/33]\n",
    "trunks:\n  - sid: TK1\n    carrier_addresses: [\"\"]\n",
    "trunks:\n  - sid: A\n  - sid: A\n",
    "trunks:\n  - sid: a b\n",
    "trunks:\n  - termination_domain: a.example\n",
    "trunks:\n  - sid: TK1\n    termination_domain: \"bad domain\"\n",
    "trunks:\n  - sid: TK1\n    termination_domain: [a]\n",
    "trunks:\n  - sid: TK1\n    transfers: yes please\n",
    "trunks:\n  - sid: TK1\n    caller_id_for_target: nobody\n",
    "trunks:\n  - sid: TK1\n    colour: blue\n",
    "trunks:\n  - sid: TK1\n    sid: TK2\n",
    "trunks: 3\n",
    "trunks:\n  - 7\n",
    "trunks: [\n",
};

static void
write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

/* "line:column: message" of every problem, one per line. */
static void
describe(const struct cdr_diag_list *l, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < l->count && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%ld:%ld: %s\n",
                                 l->items[i].line, l->items[i].column,
                                 l->items[i].message);
}

/* 1 when both accepted the deck, 0 when both refused it. */
static int
check_one(const char *path, const char *section)
{
    static char text[4096];
    snprintf(text, sizeof text, "%s%s", HDR, section);
    write_file(path, text);

    struct cdr_diag_list rate_errs, cap_errs;
    cdr_diag_list_init(&rate_errs);
    cdr_diag_list_init(&cap_errs);
    struct rt_deck *deck = NULL;
    struct cap_config *cfg = NULL;
    int rate_rc = rt_deck_load(&deck, path, &rate_errs);
    int cap_rc = cap_config_load(&cfg, path, &cap_errs);

    static char rate_text[8192], cap_text[8192];
    describe(&rate_errs, rate_text, sizeof rate_text);
    describe(&cap_errs, cap_text, sizeof cap_text);
    if ((rate_rc == 0) != (cap_rc == 0) || strcmp(rate_text, cap_text) != 0)
        fail_msg("verdicts differ for\n%s\nreferee-rate (%d):\n%s"
                 "referee-capture (%d):\n%s",
                 section, rate_rc, rate_text, cap_rc, cap_text);
    if (rate_rc == 0) {
        /* the same trunks, in the same order */
        assert_non_null(deck);
        assert_non_null(cfg);
        assert_true(cfg->trunks.n > 0);
        assert_int_equal(rt_deck_trunk_count(deck), cfg->trunks.n);
        for (size_t i = 0; i < cfg->trunks.n; i++)
            assert_string_equal(rt_deck_trunk_at(deck, i)->sid,
                                cfg->trunks.items[i].sid);
    } else {
        assert_true(cap_errs.count > 0);
    }
    rt_deck_free(deck);
    cap_config_free(cfg);
    cdr_diag_list_free(&rate_errs);
    cdr_diag_list_free(&cap_errs);
    return rate_rc == 0;
}

static void
test_same_verdicts(void **state)
{
    (void)state;
    char path[] = "/tmp/referee-agree-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    size_t accepted = 0;
    for (size_t i = 0; i < N_ELEMS(sections); i++)
        accepted += (size_t)check_one(path, sections[i]);
    assert_int_equal(accepted, 2); /* the first two */
    unlink(path);
}

/* The one difference: without trunks the capture has nothing to do. */
static void
test_no_trunks_only_the_capture_refuses(void **state)
{
    (void)state;
    char path[] = "/tmp/referee-agree-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    const char *decks[] = {HDR, HDR "trunks: []\n"};
    for (size_t i = 0; i < N_ELEMS(decks); i++) {
        write_file(path, decks[i]);
        struct cdr_diag_list errs;
        cdr_diag_list_init(&errs);
        struct rt_deck *deck = NULL;
        struct cap_config *cfg = NULL;
        assert_int_equal(rt_deck_load(&deck, path, &errs), 0);
        assert_int_equal(cap_config_load(&cfg, path, &errs), CDR_E_DECK);
        assert_int_equal(errs.count, 1);
        assert_non_null(strstr(errs.items[0].message, "nothing to capture"));
        rt_deck_free(deck);
        cdr_diag_list_free(&errs);
    }
    unlink(path);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_verdicts),
        cmocka_unit_test(test_no_trunks_only_the_capture_refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

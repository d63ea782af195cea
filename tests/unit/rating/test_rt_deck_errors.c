/*
 * rt_deck_load validation: every kind of deck problem is reported with its
 * file, line and column, all problems at once, and no deck is returned.
 * Each case writes its YAML (and csv) to a fresh temporary folder.
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
#include <unistd.h>

#include <cmocka.h>

/* Table rows leave trailing fields (nth, csv, csv_line, count) out when
 * they are zero; that is what the warning is about. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

#define HDR "deck: t\ncurrency: USD\ndecimals: 6\nrounding: half-up\n"
#define TERM(entries) HDR "termination:\n" entries

struct deck_case {
    const char *yaml;
    const char *message; /* substring of one diagnostic's message */
    const char *at;      /* where in the YAML it points (first char), or NULL */
    int nth;             /* which occurrence of `at` */
    const char *csv;     /* content of list.csv, or NULL */
    long csv_line;       /* the csv line it points to, if in the csv */
    size_t count;        /* number of diagnostics, 0 = not checked */
};

struct tmp_deck {
    char dir[64];
    char yaml[128];
    char csv[128];
};

static void
write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

static void
tmp_deck_write(struct tmp_deck *t, const char *yaml, const char *csv)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(t->dir, sizeof t->dir, "%s/rt_deck_XXXXXX", tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(t->dir));
    snprintf(t->yaml, sizeof t->yaml, "%s/deck.yaml", t->dir);
    snprintf(t->csv, sizeof t->csv, "%s/list.csv", t->dir);
    write_file(t->yaml, yaml);
    if (csv != NULL)
        write_file(t->csv, csv);
}

static void
tmp_deck_remove(struct tmp_deck *t)
{
    unlink(t->yaml);
    unlink(t->csv);
    rmdir(t->dir);
}

/* 1-based line and column of the nth occurrence of needle in text. */
static void
position_of(const char *text, const char *needle, int nth, long *line,
            long *col)
{
    const char *p = strstr(text, needle);
    for (int i = 0; i < nth && p != NULL; i++)
        p = strstr(p + 1, needle);
    assert_non_null(p);
    *line = 1;
    const char *bol = text;
    for (const char *q = text; q < p; q++) {
        if (*q == '\n') {
            (*line)++;
            bol = q + 1;
        }
    }
    *col = (long)(p - bol) + 1;
}

static void
dump(const struct cdr_diag_list *errs)
{
    for (size_t i = 0; i < errs->count; i++) {
        char buf[1024];
        cdr_diag_format(&errs->items[i], buf, sizeof buf);
        print_error("  %s\n", buf);
    }
}

static void
check_case(const struct deck_case *c, size_t idx)
{
    struct tmp_deck t;
    tmp_deck_write(&t, c->yaml, c->csv);
    struct cdr_diag_list errs;
    cdr_diag_list_init(&errs);
    struct rt_deck *deck = (struct rt_deck *)&t; /* must be reset to NULL */
    int rc = rt_deck_load(&deck, t.yaml, &errs);

    const struct cdr_diag *hit = NULL;
    for (size_t i = 0; i < errs.count && hit == NULL; i++)
        if (strstr(errs.items[i].message, c->message) != NULL)
            hit = &errs.items[i];
    if (rc != CDR_E_DECK || hit == NULL ||
        (c->count != 0 && errs.count != c->count)) {
        print_error("case %zu: rc %d, wanted \"%s\", got %zu:\n", idx, rc,
                    c->message, errs.count);
        dump(&errs);
    }
    assert_int_equal(rc, CDR_E_DECK);
    assert_null(deck);
    assert_non_null(hit);
    if (c->count != 0)
        assert_int_equal(errs.count, c->count);
    if (c->csv_line != 0) {
        size_t fl = strlen(hit->file);
        assert_true(fl >= 8 && strcmp(hit->file + fl - 8, "list.csv") == 0);
        assert_int_equal(hit->line, c->csv_line);
    } else {
        assert_string_equal(hit->file, t.yaml);
    }
    if (c->at != NULL) {
        long line, col;
        position_of(c->yaml, c->at, c->nth, &line, &col);
        if (hit->line != line || hit->column != col) {
            print_error("case %zu: at %ld:%ld, wanted %ld:%ld\n", idx,
                        hit->line, hit->column, line, col);
            dump(&errs);
        }
        assert_int_equal(hit->line, line);
        assert_int_equal(hit->column, col);
    }
    cdr_diag_list_free(&errs);
    tmp_deck_remove(&t);
}

static void
check_cases(const struct deck_case *c, size_t n)
{
    for (size_t i = 0; i < n; i++)
        check_case(&c[i], i);
}

static void
test_yaml_syntax_errors_have_a_position(void **state)
{
    (void)state;
    static const struct deck_case c[] = {
        {TERM("  - { prefix: \"1\", rate: \"0.1\"\n"), "invalid YAML", NULL},
        {HDR "termination: [\n", "invalid YAML", NULL},
        {HDR "deck: \"unterminated\n", "invalid YAML", NULL},
        {HDR "origination: *nowhere\n", "invalid YAML", NULL},
        {HDR "---\ndeck: again\n", "more than one YAML document",
         "deck: again"},
        {"", "empty rate deck", NULL, 0, NULL, 0, 1},
        {"# only a comment\n", "empty rate deck", NULL},
        {"- a\n- b\n", "expected a mapping", "- a"},
        {"just text\n", "expected a mapping", "just"},
        /* invalid UTF-8: the reader's byte offset becomes line:column */
        {HDR "termination:\n  - { prefix: \"1\", rate: \"\xff\" }\n",
         "invalid YAML: invalid leading UTF-8 octet", "\xff"},
    };
    check_cases(c, N_ELEMS(c));
    /* a syntax error always carries a line */
    struct tmp_deck t;
    tmp_deck_write(&t, HDR "termination: [\n", NULL);
    struct cdr_diag_list errs;
    cdr_diag_list_init(&errs);
    struct rt_deck *deck;
    assert_int_equal(rt_deck_load(&deck, t.yaml, &errs), CDR_E_DECK);
    assert_int_equal(errs.count, 1);
    assert_true(errs.items[0].line >= 5);
    cdr_diag_list_free(&errs);
    tmp_deck_remove(&t);
}

static void
test_header_keys_are_checked(void **state)
{
    (void)state;
    static const struct deck_case c[] = {
        {HDR "colour: red\n", "unknown key", "colour"},
        {HDR "currency: EUR\n", "duplicate key", "currency: EUR"},
        {"deck: t\n", "missing required key currency", "deck", 0, NULL, 0, 3},
        {"deck: t\n", "missing required key rounding", "deck"},
        {"currency: USD\ndecimals: 2\nrounding: up\n",
         "missing required key deck", "currency"},
        {"deck: t\ncurrency: usd\ndecimals: 6\nrounding: up\n",
         "currency must be 3 upper-case letters", "usd"},
        {"deck: t\ncurrency: DOLLAR\ndecimals: 6\nrounding: up\n",
         "currency must be 3 upper-case letters", "DOLLAR"},
        {"deck: t\ncurrency: USD\ndecimals: 10\nrounding: up\n",
         "decimals must be an integer 0..9", "10"},
        {"deck: t\ncurrency: USD\ndecimals: \"6\"\nrounding: up\n",
         "decimals must be an integer 0..9", "\"6\""},
        {"deck: t\ncurrency: USD\ndecimals: -1\nrounding: up\n",
         "decimals must be an integer 0..9", "-1"},
        {"deck: t\ncurrency: USD\ndecimals: [6]\nrounding: up\n",
         "expected a single value, not a list", "[6]"},
        {"deck: t\ncurrency: USD\ndecimals: 6\nrounding: nearest\n",
         "rounding must be half-up, half-even, up or down", "nearest"},
        {"deck: two words\ncurrency: USD\ndecimals: 6\nrounding: up\n",
         "deck name must be", "two words"},
        {"deck:\ncurrency: USD\ndecimals: 6\nrounding: up\n", "missing value",
         NULL},
        {"deck: {a: b}\ncurrency: USD\ndecimals: 6\nrounding: up\n",
         "expected a single value, not a mapping", "{a: b}"},
        {HDR "increment: 0/60\n", "invalid increment", "0/60"},
        {HDR "increment: 60\n", "invalid increment", "60\n"},
        {HDR "[a]: 1\n", "expected a key name", "[a]"},
    };
    check_cases(c, N_ELEMS(c));
}

static void
test_price_entries_are_checked(void **state)
{
    (void)state;
    static const struct deck_case c[] = {
        {HDR "termination: {prefix: 1}\n", "expected a list of price entries",
         "{prefix"},
        {TERM("  - \"1\"\n"), "expected a price entry", "\"1\""},
        {TERM("  - { prefix: \"1\", rate: \"0.1\", rat: \"0.2\" }\n"),
         "unknown key", "rat:"},
        {TERM("  - { prefix: \"1\", rate: \"0.1\", rate: \"0.2\" }\n"),
         "duplicate key", "rate: \"0.2\""},
        {TERM("  - { prefix: \"1\" }\n"), "missing rate", "{ prefix"},
        {TERM("  - prefix: \"1\"\n    rate:\n"), "missing value", NULL},
        {TERM("  - { prefix: \"+44\", rate: \"0.1\" }\n"),
         "prefix must be digits only", "\"+44\""},
        {TERM("  - { prefix: \"4 4\", rate: \"0.1\" }\n"),
         "prefix must be digits only", "\"4 4\""},
        {TERM("  - { prefix: \"\", rate: \"0.1\" }\n"), "empty prefix", "\"\""},
        {TERM("  - { prefix: \"123456789012345678901234567890123\", rate: "
              "\"0.1\" }\n"),
         "prefix longer than 32 digits", "\"123"},
        {TERM("  - { prefix: \"1\", from_prefix: \"4a\", rate: \"0.1\" }\n"),
         "prefix must be digits only", "\"4a\""},
        {TERM("  - { prefix: \"1\", rate: \"-0.1\" }\n"), "negative rate",
         "\"-0.1\""},
        {TERM("  - { prefix: \"1\", rate: \"1e-3\" }\n"),
         "not a decimal number", "\"1e-3\""},
        {TERM("  - { prefix: \"1\", rate: .5 }\n"), "not a decimal number",
         ".5"},
        {TERM("  - { prefix: \"1\", rate: \"0.1 \" }\n"),
         "not a decimal number", "\"0.1 \""},
        {TERM("  - { prefix: \"1\", rate: \"0.0045123456\" }\n"),
         "more than 9 decimal places", "\"0.0045123456\""},
        {TERM("  - { prefix: \"1\", rate: \"10000000000\" }\n"),
         "rate too large", "\"10000000000\""},
        {TERM("  - { prefix: \"1\", rate: [1] }\n"),
         "expected a single value, not a list", "[1]"},
        {TERM("  - { prefix: \"1\", rate: \"0.1\", increment: 60/0 }\n"),
         "invalid increment", "60/0"},
        {TERM("  - { prefix: \"1\", rate: \"0.1\", increment: 60 }\n"),
         "invalid increment", "60 }"},
        {TERM("  - { prefix: \"1\", class: sip, rate: \"0.1\" }\n"), "not both",
         "class"},
        {TERM("  - { class: mms, rate: \"0.1\" }\n"), "unknown class", "mms"},
        {TERM("  - { rate: \"0.1\" }\n"), "needs prefix, class or csv",
         "{ rate"},
        {TERM("  - { csv: list.csv, rate: \"0.1\" }\n"),
         "a csv: entry takes no other keys", "rate"},
    };
    check_cases(c, N_ELEMS(c));
}

static void
test_effective_dates_are_checked(void **state)
{
    (void)state;
    static const struct deck_case c[] = {
        {TERM("  - { prefix: \"1\", rate: \"0.1\", effective_from: 2026-02-30 "
              "}\n"),
         "invalid date", "2026-02-30"},
        {TERM("  - { prefix: \"1\", rate: \"0.1\", effective_to: "
              "\"2026-01-01T10:00:00\" }\n"),
         "invalid date", "\"2026"},
        {TERM("  - { prefix: \"1\", rate: \"0.1\", effective_from: 2026-01-01, "
              "effective_to: 2026-01-01 }\n"),
         "effective_to must be after effective_from", "2026-01-01", 1},
        {TERM("  - { prefix: \"1\", rate: \"0.1\", effective_from: 2026-02-01, "
              "effective_to: 2026-01-01 }\n"),
         "effective_to must be after effective_from", "2026-01-01"},
        {TERM("  - { prefix: \"1\", rate: \"0.1\", effective_from: "
              "\"2026-01-01T01:00:00+01:00\", effective_to: 2026-01-01 }\n"),
         "effective_to must be after effective_from", "2026-01-01 }"},
    };
    check_cases(c, N_ELEMS(c));
}

static void
test_overlapping_ranges_are_rejected(void **state)
{
    (void)state;
    static const struct deck_case c[] = {
        {TERM(
             "  - { prefix: \"44\", rate: \"0.1\", effective_to: 2026-06-01 }\n"
             "  - { prefix: \"44\", rate: \"0.2\", effective_from: 2026-05-31 "
             "}\n"),
         "overlaps the entry at", "{ prefix", 1, NULL, 0, 1},
        {TERM("  - { prefix: \"44\", rate: \"0.1\" }\n"
              "  - { prefix: \"44\", rate: \"0.2\" }\n"),
         "termination 44: effective range overlaps the entry at", "{ prefix",
         1},
        {TERM("  - { prefix: \"1\", from_prefix: \"44\", rate: \"0.1\" }\n"
              "  - { prefix: \"1\", from_prefix: \"44\", rate: \"0.2\", "
              "effective_from: 2026-01-01 }\n"),
         "termination 1 from_prefix 44: effective range overlaps", "{ prefix",
         1},
        {TERM("  - { class: sip, rate: \"0.1\", effective_from: 2026-01-01 }\n"
              "  - { class: sip, rate: \"0.2\", effective_from: 2026-03-01, "
              "effective_to: 2026-04-01 }\n"),
         "overlaps", "{ class", 1},
        /* a later entry inside an earlier long one, past a short one */
        {TERM("  - { prefix: \"7\", rate: \"0.1\", effective_to: 2027-01-01 }\n"
              "  - { prefix: \"7\", rate: \"0.2\", effective_from: 2026-01-01, "
              "effective_to: 2026-02-01 }\n"
              "  - { prefix: \"7\", rate: \"0.3\", effective_from: 2026-03-01, "
              "effective_to: 2026-04-01 }\n"),
         "overlaps", "{ prefix", 1, NULL, 0, 2},
        {HDR "origination:\n  - { prefix: \"1800\", rate: \"0.1\" }\n"
             "  - { csv: list.csv }\n",
         "overlaps", NULL, 0, "1800,0.2\n", 1},
    };
    check_cases(c, N_ELEMS(c));
}

static void
test_non_overlapping_ranges_are_accepted(void **state)
{
    (void)state;
    struct tmp_deck t;
    tmp_deck_write(
        &t,
        TERM("  - { prefix: \"44\", rate: \"0.1\", effective_to: 2026-06-01 }\n"
             "  - { prefix: \"44\", rate: \"0.2\", effective_from: 2026-06-01 "
             "}\n"
             "  - { prefix: \"44\", from_prefix: \"1\", rate: \"0.3\" }\n"
             "  - { prefix: \"4\", rate: \"0.3\" }\n"
             "  - { class: sip, rate: \"0.1\" }\n") "origination:\n"
                                                    "  - { prefix: \"44\", "
                                                    "rate: \"0.1\" }\n"
                                                    "  - { class: sip, rate: "
                                                    "\"0.1\" }\n",
        NULL);
    struct cdr_diag_list errs;
    cdr_diag_list_init(&errs);
    struct rt_deck *deck = NULL;
    int rc = rt_deck_load(&deck, t.yaml, &errs);
    dump(&errs);
    assert_int_equal(rc, 0);
    assert_int_equal(errs.count, 0);
    assert_int_equal(rt_deck_entries(deck), 7);
    rt_deck_free(deck);
    cdr_diag_list_free(&errs);
    tmp_deck_remove(&t);
}

#define CSV_DECK TERM("  - { csv: list.csv }\n")
#define D8 "abcdefgh"
#define D64 D8 D8 D8 D8 D8 D8 D8 D8
#define D256 D64 D64 D64 D64
#define D257 "x" D256

static void
test_csv_lists_are_checked_by_line(void **state)
{
    (void)state;
    static const struct deck_case c[] = {
        {TERM("  - { csv: nope.csv }\n"), "cannot open csv file", "nope.csv"},
        {TERM("  - { csv: \"\" }\n"), "invalid csv file name", "\"\""},
        {CSV_DECK, "not a decimal number", NULL, 0,
         "prefix,rate\n1,0.1\n44,abc\n", 3},
        {CSV_DECK, "expected 2 to 5 fields", NULL, 0, "1,0.1\n44\n", 2},
        {CSV_DECK, "expected 2 to 5 fields", NULL, 0, "1,0.1,,,60/60,extra\n",
         1},
        {CSV_DECK, "malformed CSV", NULL, 0, "1,0.1\n44,\"0.2\n", 2},
        {CSV_DECK, "malformed CSV", NULL, 0, "1,0.1\n4\"4,0.2\n", 2},
        {CSV_DECK, "prefix must be digits only", NULL, 0, "+1,0.1\n", 1},
        {CSV_DECK, "empty prefix", NULL, 0, "1,0.1\n,0.1\n", 2},
        {CSV_DECK, "negative rate", NULL, 0, "1,-0.1\n", 1},
        {CSV_DECK, "more than 9 decimal places", NULL, 0, "1,0.0000000001\n",
         1},
        {CSV_DECK, "invalid date", NULL, 0, "1,0.1,2026-13-01\n", 1},
        {CSV_DECK, "effective_to must be after", NULL, 0,
         "1,0.1,2026-02-01,2026-01-01\n", 1},
        {CSV_DECK, "invalid increment", NULL, 0, "1,0.1,,,60/0\n", 1},
        {CSV_DECK, "field longer than", NULL, 0,
         "1,0.1000000000000000000000000000000000000000000000000000000000000000"
         "00000\n",
         1},
        /* blank lines, CRLF and a quoted line feed keep the count right */
        {CSV_DECK, "not a decimal number", NULL, 0,
         "prefix,rate\r\n\r\n1,0.1\r\n44,x\r\n", 4},
        {CSV_DECK, "not a decimal number", NULL, 0, "\"1\n\",0.1\n44,x\n", 3},
        {CSV_DECK, "overlaps", NULL, 0, "44,0.1\n1,0.1\n44,0.2\n", 3},
        /* a description may be longer than a value, not without bound */
        {CSV_DECK, "field longer than 256 characters", NULL, 0,
         "prefix,rate,description\n1,0.1,x\n44,0.1," D257 "\n", 3},
        {CSV_DECK, "field longer than 64 characters", NULL, 0,
         "prefix,rate,description\n1,0.1,x\n1," D64 "0,x\n", 3},
        {CSV_DECK, "unknown column", NULL, 0, "prefix,rate,descr\n1,0.1,x\n",
         1},
    };
    check_cases(c, N_ELEMS(c));
}

/* The description column (what --import-prices writes for a reviewer) is
 * allowed, up to 256 characters, and changes no price. */
static void
test_csv_description_is_allowed_and_not_read(void **state)
{
    (void)state;
    struct tmp_deck t;
    tmp_deck_write(&t, CSV_DECK,
                   "prefix,from_prefix,rate,description\n"
                   "1907,,0.085,\"United States, Alaska\"\n"
                   "44,1,0.0120," D256 "\n"
                   "49,,0.0098,\n");
    struct cdr_diag_list errs;
    cdr_diag_list_init(&errs);
    struct rt_deck *deck = NULL;
    int rc = rt_deck_load(&deck, t.yaml, &errs);
    dump(&errs);
    assert_int_equal(rc, 0);
    assert_int_equal(rt_deck_entries(deck), 3);
    struct rt_price p;
    assert_int_equal(rt_deck_price(deck, RT_SVC_TERMINATION, "19075550100", 11,
                                   0, NULL, 0, 0, &p),
                     0);
    assert_string_equal(p.rate_text, "0.085");
    assert_int_equal(rt_deck_price(deck, RT_SVC_TERMINATION, "442071838750", 12,
                                   0, "14155550100", 11, 0, &p),
                     0);
    assert_string_equal(p.rate_text, "0.0120");
    assert_string_equal(p.from_prefix, "1");
    rt_deck_free(deck);
    cdr_diag_list_free(&errs);
    tmp_deck_remove(&t);
}

/* Load `csv` as list.csv in every chunk size from 1 byte up; the entries
 * or the problems (line and message) must always be the same. */
static void
check_csv_every_chunk_size(const char *csv)
{
    struct tmp_deck t;
    tmp_deck_write(&t, CSV_DECK, csv);
    size_t len = strlen(csv);
    struct cdr_diag_list ref;
    cdr_diag_list_init(&ref);
    struct rt_deck *deck = NULL;
    int ref_rc = rt_deck_load(&deck, t.yaml, &ref);
    size_t ref_entries = deck ? rt_deck_entries(deck) : 0;
    rt_deck_free(deck);
    for (size_t chunk = 1; chunk <= len + 1; chunk++) {
        rt_deck_csv_chunk = chunk;
        struct cdr_diag_list errs;
        cdr_diag_list_init(&errs);
        deck = NULL;
        int rc = rt_deck_load(&deck, t.yaml, &errs);
        rt_deck_csv_chunk = 65536;
        if (rc != ref_rc || errs.count != ref.count)
            print_error("chunk %zu: rc %d, %zu problems\n", chunk, rc,
                        errs.count);
        assert_int_equal(rc, ref_rc);
        assert_int_equal(errs.count, ref.count);
        assert_int_equal(deck ? rt_deck_entries(deck) : 0, ref_entries);
        for (size_t i = 0; i < errs.count; i++) {
            assert_int_equal(errs.items[i].line, ref.items[i].line);
            assert_string_equal(errs.items[i].message, ref.items[i].message);
        }
        rt_deck_free(deck);
        cdr_diag_list_free(&errs);
    }
    cdr_diag_list_free(&ref);
    tmp_deck_remove(&t);
}

static void
test_csv_results_do_not_depend_on_chunk_size(void **state)
{
    (void)state;
    static const char good[] =
        "prefix,rate,effective_from,effective_to,increment\r\n\r\n"
        "\"1\",0.1\r\n44,0.0120,2026-01-01,2026-06-01,60/6\r\n"
        "\"447\",\"0.035\"\n4915,0.0420,,,30/6";
    static const char bad[] = "prefix,rate\r\n\r\n\"1\n\",0.1\r\n44,0.0120\r\n"
                              "\"4\"\"5\",x\n447,0.035\n4915,-1";
    check_csv_every_chunk_size(good);
    check_csv_every_chunk_size(bad);

    /* and the reference results are the expected ones */
    struct tmp_deck t;
    tmp_deck_write(&t, CSV_DECK, bad);
    struct cdr_diag_list errs;
    cdr_diag_list_init(&errs);
    struct rt_deck *deck = NULL;
    assert_int_equal(rt_deck_load(&deck, t.yaml, &errs), CDR_E_DECK);
    dump(&errs);
    assert_int_equal(errs.count, 4);
    assert_int_equal(errs.items[0].line, 3); /* "1\n": quoted line feed */
    assert_int_equal(errs.items[1].line, 6); /* 4"5 */
    assert_int_equal(errs.items[2].line, 6); /* x */
    assert_int_equal(errs.items[3].line, 8); /* -1, no final newline */
    cdr_diag_list_free(&errs);
    tmp_deck_remove(&t);
}

static void
test_trunks_are_checked(void **state)
{
    (void)state;
    static const struct deck_case c[] = {
        {HDR "trunks: {sid: TK1}\n", "expected a list of trunks", "{sid"},
        {HDR "trunks:\n  - TK1\n", "expected a trunk", "TK1"},
        {HDR "trunks:\n  - { sid: TK1 }\n  - { sid: TK2 }\n  - { sid: TK1 }\n",
         "duplicate trunk sid", "{ sid: TK1", 1, NULL, 0, 1},
        {HDR "trunks:\n  - { transfers: true }\n", "trunk without sid",
         "{ transfers"},
        {HDR "trunks:\n  - { sid: \"TK 1\" }\n", "trunk sid must be",
         "\"TK 1\""},
        {HDR "trunks:\n  - { sid: TK1, colour: red }\n", "unknown key",
         "colour"},
        {HDR "trunks:\n  - { sid: TK1, transfers: yes }\n",
         "expected true or false", "yes"},
        {HDR "trunks:\n  - { sid: TK1, pstn_transfers: \"true\" }\n",
         "expected true or false", "\"true\""},
        {HDR "trunks:\n  - { sid: TK1, caller_id_for_target: callee }\n",
         "expected transferee or transferor", "callee"},
        {HDR "trunks:\n  - { sid: TK1, termination_domain: \"a b.com\" }\n",
         "invalid domain name", "\"a b.com\""},
        {HDR "trunks:\n  - { sid: TK1, country_code: \"049\" }\n",
         "does not start with 0", "\"049\""},
        {HDR "trunks:\n  - { sid: TK1, country_code: 1234 }\n",
         "expected 1 to 3 digits", "1234"},
        {HDR "trunks:\n  - { sid: TK1, country_code: \"+1\" }\n",
         "expected 1 to 3 digits", "\"+1\""},
        {HDR "trunks:\n  - { sid: TK1, national_prefix: \"0\" }\n",
         "national_prefix without country_code", "{ sid"},
        {HDR "trunks:\n  - { sid: TK1, country_code: 49, national_prefix: "
             "\"000\" }\n",
         "expected 0 to 2 digits", "\"000\""},
        {HDR "trunks:\n  - { sid: TK1, international_prefixes: \"00\" }\n",
         "expected a list of prefixes", "\"00\""},
        {HDR "trunks:\n  - { sid: TK1, international_prefixes: [\"00\", x] }\n",
         "expected 1 to 4 digits", "x]"},
        {HDR "trunks:\n  - { sid: TK1, international_prefixes: [0, 1, 2, 3, "
             "4] }\n",
         "more than 4 prefixes", "4]"},
        {HDR "trunks:\n  - { sid: TK1, carrier_addresses: {a: 1} }\n",
         "expected a list of IP addresses", "{a: 1}"},
        {HDR "trunks:\n  - { sid: TK1, carrier_addresses: 10.0.0.256 }\n",
         "not an IP address or CIDR block", "10.0.0.256"},
        {HDR "trunks:\n  - { sid: TK1, carrier_addresses: [[10.0.0.1]] }\n",
         "expected a single value, not a list", "[10.0.0.1]"},
        {HDR "trunks:\n  - { sid: TK1, carrier_addresses: [300.1.1.1] }\n",
         "not an IP address or CIDR block", "300.1.1.1"},
        {HDR "trunks:\n  - { sid: TK1, carrier_addresses: [10.0.0.0/33] }\n",
         "not an IP address or CIDR block", "10.0.0.0/33"},
        {HDR "trunks:\n  - { sid: TK1, carrier_addresses: [\"::1/129\"] }\n",
         "not an IP address or CIDR block", "\"::1/129\""},
        {HDR "trunks:\n  - { sid: TK1, carrier_addresses: [10.0.0.1/] }\n",
         "not an IP address or CIDR block", "10.0.0.1/"},
        {HDR "trunks:\n  - { sid: TK1, carrier_addresses: [10.0.0.1/x] }\n",
         "not an IP address or CIDR block", "10.0.0.1/x"},
        {HDR
         "trunks:\n  - { sid: TK1, carrier_addresses: [pbx.example.com] }\n",
         "not an IP address or CIDR block", "pbx"},
    };
    check_cases(c, N_ELEMS(c));
}

static void
test_every_problem_is_reported_at_once(void **state)
{
    (void)state;
    static const struct deck_case c[] = {
        {"deck: t\ncurrency: usd\ndecimals: 6\nrounding: up\n"
         "termination:\n"
         "  - { prefix: \"x\", rate: \"-1\" }\n"
         "  - { prefix: \"1\", rate: \"0.1\", increment: 0/0 }\n"
         "trunks:\n  - { sid: TK1, transfers: maybe }\n",
         "currency", NULL, 0, NULL, 0, 5},
    };
    check_cases(c, N_ELEMS(c));

    /* 150 bad csv rows: 100 kept, then one line saying how many more */
    char csv[150 * 8 + 1];
    size_t o = 0;
    for (int i = 0; i < 150; i++)
        o += (size_t)snprintf(csv + o, sizeof csv - o, "x,0.1\n");
    const struct deck_case many[] = {
        {CSV_DECK, "too many problems: 50 more not shown", NULL, 0, csv, 0,
         101},
    };
    struct tmp_deck t;
    tmp_deck_write(&t, many[0].yaml, many[0].csv);
    struct cdr_diag_list errs;
    cdr_diag_list_init(&errs);
    struct rt_deck *deck;
    assert_int_equal(rt_deck_load(&deck, t.yaml, &errs), CDR_E_DECK);
    assert_int_equal(errs.count, 101);
    assert_string_equal(errs.items[100].message,
                        "too many problems: 50 more not shown");
    assert_int_equal(errs.items[99].line, 100);
    cdr_diag_list_free(&errs);
    tmp_deck_remove(&t);
}

static void
test_missing_deck_file_is_an_error(void **state)
{
    (void)state;
    struct cdr_diag_list errs;
    cdr_diag_list_init(&errs);
    struct rt_deck *deck = NULL;
    assert_int_equal(rt_deck_load(&deck, "/nonexistent/deck.yaml", &errs),
                     CDR_E_DECK);
    assert_null(deck);
    assert_int_equal(errs.count, 1);
    assert_int_equal(errs.items[0].code, CDR_E_IO);
    assert_non_null(strstr(errs.items[0].message, "cannot open rate deck"));
    assert_string_equal(errs.items[0].file, "/nonexistent/deck.yaml");
    cdr_diag_list_free(&errs);
}

static void
test_fixture_csv_deck_loads_relative_to_its_folder(void **state)
{
    (void)state;
    const char *root = getenv("REFEREE_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/fixtures/decks/bad-csv.yaml",
             root ? root : ".");
    struct cdr_diag_list errs;
    cdr_diag_list_init(&errs);
    struct rt_deck *deck = NULL;
    assert_int_equal(rt_deck_load(&deck, path, &errs), CDR_E_DECK);
    dump(&errs);
    assert_int_equal(errs.count, 2);
    char buf[1024];
    cdr_diag_format(&errs.items[0], buf, sizeof buf);
    assert_non_null(strstr(buf, "decks/bad-csv.csv:3: rate: more than 9 "
                                "decimal places \"0.0045123456789\""));
    cdr_diag_format(&errs.items[1], buf, sizeof buf);
    assert_non_null(strstr(buf, "decks/bad-csv.yaml:9:5: rate: missing rate"));
    cdr_diag_list_free(&errs);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_yaml_syntax_errors_have_a_position),
        cmocka_unit_test(test_header_keys_are_checked),
        cmocka_unit_test(test_price_entries_are_checked),
        cmocka_unit_test(test_effective_dates_are_checked),
        cmocka_unit_test(test_overlapping_ranges_are_rejected),
        cmocka_unit_test(test_non_overlapping_ranges_are_accepted),
        cmocka_unit_test(test_csv_lists_are_checked_by_line),
        cmocka_unit_test(test_csv_results_do_not_depend_on_chunk_size),
        cmocka_unit_test(test_csv_description_is_allowed_and_not_read),
        cmocka_unit_test(test_trunks_are_checked),
        cmocka_unit_test(test_every_problem_is_reported_at_once),
        cmocka_unit_test(test_missing_deck_file_is_an_error),
        cmocka_unit_test(test_fixture_csv_deck_loads_relative_to_its_folder),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

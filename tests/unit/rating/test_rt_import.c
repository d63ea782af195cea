/*
 * --import-prices: the carrier's JSON and CSV price lists read into one
 * sorted list (one entry for the same price twice, a problem for two),
 * every rejection named by file, line or JSON path, and field, and the
 * deck written only whole, never over an existing file, always one that
 * rt_deck_load accepts.  Each test works in its own temporary folder.
 */
#include "rating/deck/rt_deck.h"
#include "rating/import/rt_import.h"
#include "rating/import/rt_import_int.h"

#include "cdr/util/cdr_utf8.h"

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

/* Table rows leave trailing fields out when they are not checked. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

static char dir[64];

static void
remove_tree(const char *path)
{
    DIR *dh = opendir(path);
    if (dh == NULL) {
        unlink(path);
        return;
    }
    struct dirent *e;
    while ((e = readdir(dh)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char p[512];
        snprintf(p, sizeof p, "%s/%s", path, e->d_name);
        remove_tree(p);
    }
    closedir(dh);
    rmdir(path);
}

static int
setup(void **state)
{
    (void)state;
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/rt_import_XXXXXX", tmp ? tmp : "/tmp");
    return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
    (void)state;
    remove_tree(dir);
    return 0;
}

/* dir/name, written with text; the path in a static buffer per slot. */
static const char *
put(int slot, const char *name, const char *text)
{
    static char paths[4][256];
    snprintf(paths[slot], sizeof paths[slot], "%s/%s", dir, name);
    FILE *f = fopen(paths[slot], "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
    return paths[slot];
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

/* Read the files (each sniffed) and finish; the import for the caller to
 * free. */
static struct rt_import *
import(const char *currency, const char *const *paths, size_t n,
       struct cdr_diag_list *errs)
{
    struct rt_import *im = NULL;
    assert_int_equal(rt_import_new(&im, currency, errs), 0);
    for (size_t i = 0; i < n; i++) {
        enum rt_import_format fmt;
        struct cdr_diag d;
        cdr_diag_clear(&d);
        assert_int_equal(rt_import_sniff(paths[i], &fmt, &d), 0);
        assert_int_equal(rt_import_read(im, paths[i], fmt, &d), 0);
    }
    rt_import_finish(im);
    return im;
}

static const char *
fixture(int slot, const char *name)
{
    static char paths[4][1024];
    const char *root = getenv("REFEREE_SOURCE_DIR");
    snprintf(paths[slot], sizeof paths[slot], "%s/tests/fixtures/import/%s",
             root ? root : ".", name);
    return paths[slot];
}

/* ---- reading and merging ---------------------------------------------- */

static void
test_fixtures_merge_sorted_with_one_entry_per_price(void **state)
{
    (void)state;
    const char *paths[] = {fixture(0, "us.json"), fixture(1, "gb.json"),
                           fixture(2, "ca.csv")};
    struct cdr_diag_list errs;
    cdr_diag_list_init(&errs);
    struct rt_import *im = import("USD", paths, N_ELEMS(paths), &errs);
    dump(&errs);
    assert_int_equal(rt_import_problems(im), 0);
    /* 1264 is in us.json at 0.085 and in ca.csv at 0.0850: one entry */
    assert_int_equal(rt_import_entries(im), 14);
    assert_int_equal(rt_import_merged(im), 1);
    assert_int_equal(rt_import_notes(im), 3);
    assert_string_equal(rt_import_currency(im), "USD");
    static const char *const want[][3] = {
        {"1", "", "0.0045"},    {"1", "33", "0.0060"},  {"1", "44", "0.0060"},
        {"1264", "", "0.085"},  {"1416", "", "0.0050"}, {"1437", "", "0.0050"},
        {"1647", "", "0.0050"}, {"1808", "", "0.0130"}, {"1867", "", "0.0600"},
        {"1907", "", "0.085"},  {"44", "", "0.0120"},   {"447", "", "0.0350"},
        {"4475", "", "0.0350"}, {"4477", "", "0.0350"},
    };
    for (size_t i = 0; i < N_ELEMS(want); i++) {
        assert_string_equal(im->e[i].prefix, want[i][0]);
        assert_string_equal(im->e[i].from, want[i][1]);
        assert_string_equal(rt_import_text_at(im, im->e[i].rate), want[i][2]);
    }
    /* the first of a merged pair keeps its description */
    assert_string_equal(rt_import_text_at(im, im->e[3].desc),
                        "Trunking Outbound Minute - United States - Alaska");
    assert_string_equal(rt_import_text_at(im, im->e[4].desc),
                        "Canada - Toronto");
    rt_import_free(im);
    cdr_diag_list_free(&errs);
}

/* current_price is what is charged; base_price only without it.  Each
 * origin prefix gives every destination prefix an entry of its own. */
static void
test_current_price_and_origin_pairs(void **state)
{
    (void)state;
    const char *p =
        put(0, "x.json",
            "{\"price_unit\": \"usd\", \"terminating_prefix_prices\": "
            "[{\"origination_prefixes\": [\"+44\", \"33\"], "
            "\"destination_prefixes\": [\"49\", \"+4930\"], "
            "\"base_price\": \"0.02\", \"current_price\": "
            "\"0.01\"}, {\"destination_prefixes\": [\"50\"], "
            "\"base_price\": \"0.03\", \"current_price\": null}]}");
    struct cdr_diag_list errs;
    cdr_diag_list_init(&errs);
    struct rt_import *im = import(NULL, &p, 1, &errs);
    dump(&errs);
    assert_int_equal(rt_import_problems(im), 0);
    assert_string_equal(rt_import_currency(im), "USD");
    assert_int_equal(rt_import_entries(im), 5);
    static const char *const want[][3] = {
        {"49", "33", "0.01"},   {"49", "44", "0.01"}, {"4930", "33", "0.01"},
        {"4930", "44", "0.01"}, {"50", "", "0.03"},
    };
    for (size_t i = 0; i < N_ELEMS(want); i++) {
        assert_string_equal(im->e[i].prefix, want[i][0]);
        assert_string_equal(im->e[i].from, want[i][1]);
        assert_string_equal(rt_import_text_at(im, im->e[i].rate), want[i][2]);
    }
    rt_import_free(im);
    cdr_diag_list_free(&errs);
}

/* A UTF-8 byte order mark starts either kind of file; CRLF ends CSV
 * rows. */
static void
test_byte_order_marks_are_skipped(void **state)
{
    (void)state;
    const char *paths[] = {
        put(0, "bom.json",
            "\xef\xbb\xbf {\"price_unit\": \"USD\", "
            "\"terminating_prefix_prices\": [{\"destination_prefixes\": "
            "[\"1\"], \"current_price\": \"0.01\"}]}"),
        put(1, "bom.csv",
            "\xef\xbb\xbf"
            "country,DESCRIPTION,Prefixes,price\r\nUK,,44,0.02\r\n"),
    };
    struct cdr_diag_list errs;
    cdr_diag_list_init(&errs);
    struct rt_import *im = import("USD", paths, 2, &errs);
    dump(&errs);
    assert_int_equal(rt_import_problems(im), 0);
    assert_int_equal(rt_import_entries(im), 2);
    assert_string_equal(rt_import_text_at(im, im->e[1].desc), "UK");
    rt_import_free(im);
    cdr_diag_list_free(&errs);
}

/* Two prices for one (prefix, from_prefix), in two files: a problem at
 * the second, naming the first; the same price twice is merged. */
static void
test_conflicting_duplicate_names_both_places(void **state)
{
    (void)state;
    const char *paths[] = {
        put(0, "a.json",
            "{\"price_unit\": \"USD\", \"terminating_prefix_prices\": ["
            "{\"destination_prefixes\": [\"44\"], \"current_price\": \"0.01\"},"
            "{\"destination_prefixes\": [\"1907\"], \"current_price\": "
            "\"0.085\"}]}"),
        put(1, "b.csv",
            "Country,Description,Prefixes,Price,Origination "
            "Prefixes\nUS,Alaska,1907,0.086,\nUS,Alaska,1907,0."
            "085,44\nUK,,44,0.0100,ALL\n"),
    };
    struct cdr_diag_list errs;
    cdr_diag_list_init(&errs);
    struct rt_import *im = import("USD", paths, 2, &errs);
    dump(&errs);
    assert_int_equal(rt_import_problems(im), 1);
    const struct cdr_diag *d = &errs.items[0];
    assert_string_equal(d->file, paths[1]);
    assert_int_equal(d->line, 2);
    assert_string_equal(d->field, "Prefixes");
    assert_string_equal(d->value, "0.086");
    char want[512];
    snprintf(want, sizeof want,
             "prefix 1907 has two prices: \"0.085\" at %s: "
             "terminating_prefix_prices[1] and here",
             paths[0]);
    assert_string_equal(d->message, want);
    assert_int_equal(rt_import_merged(im), 1); /* 44 at 0.01 and 0.0100 */
    rt_import_free(im);
    cdr_diag_list_free(&errs);
}

static void
test_conflict_in_one_json_document(void **state)
{
    (void)state;
    const char *p =
        put(0, "c.json",
            "{\"price_unit\": \"USD\", \"terminating_prefix_prices\": ["
            "{\"origination_prefixes\": [\"44\"], \"destination_prefixes\": "
            "[\"1\"], \"current_price\": \"0.01\"},"
            "{\"origination_prefixes\": [\"44\"], \"destination_prefixes\": "
            "[\"1\"], \"current_price\": \"0.02\"}]}");
    struct cdr_diag_list errs;
    cdr_diag_list_init(&errs);
    struct rt_import *im = import(NULL, &p, 1, &errs);
    assert_int_equal(rt_import_problems(im), 1);
    assert_string_equal(errs.items[0].field, "terminating_prefix_prices[1]");
    assert_non_null(strstr(errs.items[0].message,
                           "prefix 1 from 44 has two prices: \"0.01\" at"));
    rt_import_free(im);
    cdr_diag_list_free(&errs);
}

/* A deck has one currency: every document's must agree, and with
 * --currency. */
static void
test_currencies_must_agree(void **state)
{
    (void)state;
    const char *paths[] = {
        put(0, "us.json",
            "{\"price_unit\": \"USD\", "
            "\"terminating_prefix_prices\": [{"
            "\"destination_prefixes\": [\"1\"], "
            "\"current_price\": \"0.01\"}]}"),
        put(1, "de.json",
            "{\"price_unit\": \"EUR\", "
            "\"terminating_prefix_prices\": [{"
            "\"destination_prefixes\": [\"49\"], "
            "\"current_price\": \"0.01\"}]}"),
    };
    struct cdr_diag_list errs;
    cdr_diag_list_init(&errs);
    struct rt_import *im = import(NULL, paths, 2, &errs);
    assert_int_equal(rt_import_problems(im), 1);
    assert_string_equal(errs.items[0].file, paths[1]);
    assert_string_equal(errs.items[0].field, "price_unit");
    assert_string_equal(errs.items[0].value, "EUR");
    char want[512];
    snprintf(want, sizeof want, "currency differs from USD in %s", paths[0]);
    assert_string_equal(errs.items[0].message, want);
    rt_import_free(im);
    cdr_diag_list_free(&errs);

    cdr_diag_list_init(&errs);
    im = import("eur", paths, 2, &errs);
    assert_int_equal(rt_import_problems(im), 1);
    assert_string_equal(errs.items[0].file, paths[0]);
    assert_string_equal(errs.items[0].message,
                        "currency differs from --currency EUR");
    rt_import_free(im);
    cdr_diag_list_free(&errs);

    assert_int_equal(rt_import_new(&im, "US", &errs), CDR_E_USAGE);
    assert_int_equal(rt_import_new(&im, "U$D", &errs), CDR_E_USAGE);
}

/* ---- every rejection ---------------------------------------------------- */

struct bad_case {
    const char *name; /* .json or .csv: the file's name */
    const char *text;
    const char *message; /* a substring */
    const char *field;   /* NULL: not checked */
    long line;           /* -1: not checked */
    const char *value;   /* NULL: not checked */
};

#define DOC(items)                                                             \
    "{\"price_unit\": \"USD\", \"terminating_prefix_prices\": [" items "]}"
#define ITEM(dest, price)                                                      \
    "{\"origination_prefixes\": [\"ALL\"], \"destination_prefixes\": " dest    \
    ", \"current_price\": " price "}"
#define OK_ITEM ITEM("[\"1\"]", "\"0.01\"")
#define T0 "terminating_prefix_prices[0]"
#define HEAD "Country,Description,Prefixes,Price\n"

static const struct bad_case bad_json[] = {
    /* money is never a double */
    {"a.json", DOC(ITEM("[\"1\"]", "0.085")), "must be a JSON string",
     T0 ".current_price", 0},
    {"a.json", DOC(ITEM("[\"1\"]", "1")), "not a number", T0 ".current_price",
     0},
    {"a.json",
     DOC("{\"destination_prefixes\": [\"1\"], \"current_price\": \"0.01\", "
         "\"base_price\": 0.02}"),
     "must be a JSON string", T0 ".base_price", 0},
    {"a.json",
     "{\"price_unit\": \"USD\", \"terminating_prefix_prices\": [" OK_ITEM
     "], \"originating_call_prices\": [{\"number_type\": \"local\", "
     "\"current_price\": 0.0034}]}",
     "must be a JSON string", "originating_call_prices[0].current_price", 0},
    {"a.json", DOC(ITEM("[\"1\"]", "true")), "expected a string, not a boolean",
     T0 ".current_price", 0},
    /* prefixes */
    {"a.json", DOC(ITEM("[\"1\", \"1a\"]", "\"0.01\"")), "digits only",
     T0 ".destination_prefixes[1]", 0, "1a"},
    {"a.json", DOC(ITEM("[1907]", "\"0.01\"")),
     "a prefix must be a JSON string, not a number",
     T0 ".destination_prefixes[0]", 0},
    {"a.json", DOC(ITEM("[\"+\"]", "\"0.01\"")), "empty prefix",
     T0 ".destination_prefixes[0]", 0, "+"},
    {"a.json", DOC(ITEM("[\"1 907\"]", "\"0.01\"")), "digits only",
     T0 ".destination_prefixes[0]", 0},
    {"a.json", DOC(ITEM("[\"123456789012345678901234567890123\"]", "\"0.01\"")),
     "prefix longer than 32 digits", T0 ".destination_prefixes[0]", 0},
    {"a.json", DOC(ITEM("[]", "\"0.01\"")), "expected a list of prefixes",
     T0 ".destination_prefixes", 0},
    {"a.json", DOC("{\"current_price\": \"0.01\"}"), "missing",
     T0 ".destination_prefixes", 0},
    {"a.json",
     DOC("{\"origination_prefixes\": [\"ALL\", \"44\"], "
         "\"destination_prefixes\": [\"1\"], \"current_price\": \"0.01\"}"),
     "ALL stands alone", T0 ".origination_prefixes[0]", 0},
    {"a.json",
     DOC("{\"origination_prefixes\": [], \"destination_prefixes\": [\"1\"], "
         "\"current_price\": \"0.01\"}"),
     "expected a list of prefixes", T0 ".origination_prefixes", 0},
    /* prices */
    {"a.json", DOC(ITEM("[\"1\"]", "\"-0.01\"")), "cannot be negative",
     T0 ".current_price", 0, "-0.01"},
    {"a.json", DOC(ITEM("[\"1\"]", "\"0.0000000001\"")),
     "more than 9 decimal places", T0 ".current_price", 0},
    {"a.json", DOC(ITEM("[\"1\"]", "\"1e-3\"")), "exact decimal",
     T0 ".current_price", 0, "1e-3"},
    {"a.json", DOC(ITEM("[\"1\"]", "\".5\"")), "exact decimal",
     T0 ".current_price", 0},
    {"a.json", DOC(ITEM("[\"1\"]", "\"\"")), "empty price", T0 ".current_price",
     0},
    {"a.json", DOC("{\"destination_prefixes\": [\"1\"]}"),
     "no current_price or base_price", T0 ".base_price", 0},
    /* the document */
    {"a.json", "{\"terminating_prefix_prices\": [" OK_ITEM "]}", "missing",
     "price_unit", 0},
    {"a.json",
     "{\"price_unit\": \"US\", \"terminating_prefix_prices\": [" OK_ITEM "]}",
     "3 letters", "price_unit", 0, "US"},
    {"a.json", "{\"price_unit\": \"USD\"}", "missing",
     "terminating_prefix_prices", 0},
    {"a.json", "{\"price_unit\": \"USD\", \"terminating_prefix_prices\": {}}",
     "expected a list", "terminating_prefix_prices", 0},
    {"a.json", DOC("\"1\""), "expected an object", T0, 0},
    {"a.json", DOC(""), "no termination prices in the files given", NULL, 0},
    {"a.json",
     "{\"price_unit\": \"USD\", \"price_unit\": \"EUR\", "
     "\"terminating_prefix_prices\": []}",
     "invalid JSON: duplicate object key", NULL, 1},
    {"a.json", "{\"price_unit\": \"USD\",\n \"terminating_prefix_prices\": [}",
     "invalid JSON", NULL, 2},
    {"a.json", "[" DOC(OK_ITEM) "]", "expected a JSON object", NULL, 0},
    {"a.json",
     "{\"price_unit\": \"USD\", \"terminating_prefix_prices\": [" OK_ITEM
     "], \"originating_call_prices\": [{\"current_price\": \"0.01\"}]}",
     "missing", "originating_call_prices[0].number_type", 0},
};

static const struct bad_case bad_csv[] = {
    {"b.csv", "Country,Description,Prefixes\nUS,x,1\n",
     "the header has no Price column", "Price", 1},
    {"b.csv", "Country,Description,Price\nUS,x,0.1\n",
     "the header has no Prefixes column", "Prefixes", 1},
    {"b.csv", HEAD, "no termination prices in the files given", NULL, 0},
    {"b.csv", "Country,Description,Prefixes,Price,Rate\nUS,x,1,0.1,0.2\n",
     "unknown column", NULL, 1, "Rate"},
    {"b.csv", "Country,Prefixes,Price,price\nUS,1,0.1,0.2\n",
     "column named twice", NULL, 1, "price"},
    /* a Prefixes cell with junk */
    {"b.csv", HEAD "US,x,\"1907;1264\",0.1\n", "digits only", "Prefixes", 2,
     "1907;1264"},
    {"b.csv", HEAD "US,x,\"1907, abc 1264\",0.1\n", "digits only", "Prefixes",
     2, "abc"},
    {"b.csv", HEAD "US,x,1-907,0.1\n", "digits only", "Prefixes", 2, "1-907"},
    {"b.csv", HEAD "US,x,++1,0.1\n", "digits only", "Prefixes", 2, "++1"},
    {"b.csv", HEAD "US,x,,0.1\n", "no prefix", "Prefixes", 2},
    {"b.csv", HEAD "US,x,\" , ,\",0.1\n", "no prefix", "Prefixes", 2},
    {"b.csv", HEAD "US,x,1,$0.50\n", "exact decimal", "Price", 2, "$0.50"},
    {"b.csv", HEAD "US,x,1,\"0,085\"\n", "exact decimal", "Price", 2},
    {"b.csv", HEAD "US,x,1,\n", "empty price", "Price", 2},
    {"b.csv", HEAD "US,x,1,0.1,extra\n", "5 fields, the header has 4", NULL, 2},
    {"b.csv",
     "Country,Description,Prefixes,Price,Origination Prefixes\n"
     "US,x,1,0.1,\"ALL, 44\"\n",
     "digits only", "Origination Prefixes", 2, "ALL"},
    {"b.csv", HEAD "US,x,1,0.1\nUS,x\"y,1,0.1\n", "malformed CSV", NULL, 3},
    {"b.csv", "", "no header row", NULL, 0},
    /* lines count blank lines and CRLF */
    {"b.csv",
     "Country,Description,Prefixes,Price\r\n\r\nUS,x,1,0.1\r\nUS,y,1x,0.1\r\n",
     "digits only", "Prefixes", 4, "1x"},
};

static void
check_bad(const struct bad_case *c, size_t idx)
{
    const char *p = put(0, c->name, c->text);
    struct cdr_diag_list errs;
    cdr_diag_list_init(&errs);
    struct rt_import *im = import("USD", &p, 1, &errs);
    const struct cdr_diag *hit = NULL;
    for (size_t i = 0; i < errs.count && hit == NULL; i++) {
        const struct cdr_diag *d = &errs.items[i];
        if (strstr(d->message, c->message) != NULL &&
            (c->field == NULL || strcmp(d->field, c->field) == 0) &&
            (c->line < 0 || d->line == c->line) &&
            (c->value == NULL || strcmp(d->value, c->value) == 0))
            hit = d;
    }
    if (hit == NULL) {
        print_error("case %zu (%s): wanted \"%s\" at %s line %ld, got:\n", idx,
                    c->name, c->message, c->field ? c->field : "-", c->line);
        dump(&errs);
    }
    assert_non_null(hit);
    assert_true(rt_import_problems(im) > 0);
    /* a problem names its file, except the one about all of them */
    if (strstr(c->message, "files given") == NULL)
        assert_string_equal(hit->file, p);
    rt_import_free(im);
    cdr_diag_list_free(&errs);
    unlink(p);
}

static void
test_json_rejections(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ELEMS(bad_json); i++)
        check_bad(&bad_json[i], i);
}

static void
test_csv_rejections(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_ELEMS(bad_csv); i++)
        check_bad(&bad_csv[i], i);
}

/* Every problem of a file is listed, not only the first. */
static void
test_every_problem_is_listed(void **state)
{
    (void)state;
    const char *p = put(0, "m.csv",
                        HEAD "US,x,1a,0.1\nUS,x,1,-1\n"
                             "US,x,2b 3c,x\n");
    struct cdr_diag_list errs;
    cdr_diag_list_init(&errs);
    struct rt_import *im = import("USD", &p, 1, &errs);
    dump(&errs);
    assert_int_equal(rt_import_problems(im), 5);
    assert_int_equal(rt_import_entries(im), 0);
    rt_import_free(im);
    cdr_diag_list_free(&errs);
}

/* ---- fields ----------------------------------------------------------- */

static void
test_prefixes_and_prices_follow_the_deck(void **state)
{
    (void)state;
    char out[RT_PREFIX_MAX + 1];
    const char *why = NULL;
    assert_int_equal(rt_import_prefix("+1907", 5, out, &why), 0);
    assert_string_equal(out, "1907");
    assert_int_equal(rt_import_prefix("044", 3, out, &why), 0);
    assert_string_equal(out, "044");
    assert_int_equal(
        rt_import_prefix("12345678901234567890123456789012", 32, out, &why), 0);
    assert_int_equal(rt_import_prefix("+", 1, out, &why), -1);
    assert_int_equal(rt_import_prefix(" 1", 2, out, &why), -1);
    int64_t nano;
    assert_int_equal(rt_import_price("0.0085", 6, &nano, &why), 0);
    assert_int_equal(nano, 8500000);
    assert_int_equal(rt_import_price("0.123456789", 11, &nano, &why), 0);
    assert_int_equal(nano, 123456789);
    assert_int_equal(rt_import_price("12", 2, &nano, &why), 0);
    assert_int_equal(nano, 12000000000LL);
    assert_int_equal(rt_import_price("+1", 2, &nano, &why), -1);
    assert_int_equal(rt_import_price("0.5 ", 4, &nano, &why), -1);
}

static void
test_text_for_reviewers_is_one_line(void **state)
{
    (void)state;
    char out[RT_DECK_MAX_DESCRIPTION + 1];
    static const struct {
        const char *in, *want;
    } c[] = {
        {"  Alaska  ", "Alaska"},
        {"a\nb\r\tc", "a b c"},
        {"a\xc2\x85"
         "b",
         "a b"}, /* NEL */
        {"a\xe2\x80\xa8"
         "b",
         "a b"}, /* LINE SEPARATOR */
        {"a\xe2\x80\xa9"
         "b",
         "a b"}, /* PARAGRAPH SEPARATOR */
        {"Cura\xc3\xa7"
         "ao",
         "Cura\xc3\xa7"
         "ao"},
        {"bad\xff", "bad" CDR_UTF8_REPLACEMENT},
        {"x\x7fy", "x y"},
    };
    for (size_t i = 0; i < N_ELEMS(c); i++) {
        rt_import_clean(c[i].in, strlen(c[i].in), out, sizeof out);
        assert_string_equal(out, c[i].want);
    }
    /* cut at a character, never inside one */
    char small[5];
    assert_int_equal(rt_import_clean("abc\xc3\xa9", 5, small, sizeof small), 3);
    assert_string_equal(small, "abc");
}

/* ---- writing ------------------------------------------------------------ */

static struct rt_import *
fixture_import(struct cdr_diag_list *errs)
{
    const char *paths[] = {fixture(0, "us.json"), fixture(1, "gb.json"),
                           fixture(2, "ca.csv")};
    struct rt_import *im = import("USD", paths, N_ELEMS(paths), errs);
    assert_int_equal(rt_import_problems(im), 0);
    return im;
}

static size_t
entries_in(const char *path)
{
    DIR *dh = opendir(path);
    assert_non_null(dh);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(dh)) != NULL)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(dh);
    return n;
}

static void
test_write_publishes_a_deck_that_loads(void **state)
{
    (void)state;
    struct cdr_diag_list errs;
    cdr_diag_list_init(&errs);
    struct rt_import *im = fixture_import(&errs);
    char out[128];
    snprintf(out, sizeof out, "%s/deck-a", dir);
    struct rt_import_written w;
    struct cdr_diag d;
    int rc = rt_import_write(im, out, "null", &w, &errs, &d);
    dump(&errs);
    assert_int_equal(rc, 0);
    assert_int_equal(w.entries, 14);
    assert_int_equal(entries_in(out), 2); /* no working folder left */
    struct rt_deck *deck = NULL;
    assert_int_equal(rt_deck_load(&deck, w.deck_path, &errs), 0);
    /* a name YAML would read as null is quoted */
    assert_string_equal(rt_deck_name(deck), "null");
    assert_string_equal(rt_deck_currency(deck), "USD");
    assert_string_equal(rt_deck_sha256(deck), w.sha256);
    struct rt_price p;
    assert_int_equal(rt_deck_price(deck, RT_SVC_TERMINATION, "19075550100", 11,
                                   0, "14155550100", 11, 0, &p),
                     0);
    assert_string_equal(p.rate_text, "0.085");
    assert_int_equal(rt_deck_price(deck, RT_SVC_TERMINATION, "12125550100", 11,
                                   0, "447700900123", 12, 0, &p),
                     0);
    assert_string_equal(p.rate_text, "0.0060");
    assert_string_equal(p.from_prefix, "44");
    rt_deck_free(deck);
    rt_import_free(im);
    cdr_diag_list_free(&errs);
}

static void
read_all(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t n = fread(buf, 1, size - 1, f);
    buf[n] = '\0';
    fclose(f);
}

/* An existing deck.yaml or termination.csv is never replaced, and a
 * refused write leaves nothing of its own behind. */
static void
test_write_never_replaces_a_file(void **state)
{
    (void)state;
    struct cdr_diag_list errs;
    cdr_diag_list_init(&errs);
    struct rt_import *im = fixture_import(&errs);
    char out[128], path[256];
    snprintf(out, sizeof out, "%s/deck-b", dir);
    assert_int_equal(mkdir(out, 0777), 0);
    snprintf(path, sizeof path, "%s/termination.csv", out);
    put(1, "deck-b/termination.csv", "mine\n");
    struct rt_import_written w;
    struct cdr_diag d;
    assert_int_equal(rt_import_check_out(out, &d), CDR_E_IO);
    assert_int_equal(rt_import_write(im, out, "x", &w, &errs, &d), CDR_E_IO);
    assert_non_null(strstr(d.message, "already exists"));
    assert_string_equal(d.file, path);
    char text[64];
    read_all(path, text, sizeof text);
    assert_string_equal(text, "mine\n");
    assert_int_equal(entries_in(out), 1);

    /* a first import succeeds; a second into the same folder is refused */
    snprintf(out, sizeof out, "%s/deck-c", dir);
    assert_int_equal(rt_import_write(im, out, "x", &w, &errs, &d), 0);
    char before[4096], after[4096];
    read_all(w.deck_path, before, sizeof before);
    assert_int_equal(rt_import_write(im, out, "y", &w, &errs, &d), CDR_E_IO);
    read_all(w.deck_path, after, sizeof after);
    assert_string_equal(before, after);
    assert_int_equal(entries_in(out), 2);

    /* the folder's parent must exist */
    snprintf(out, sizeof out, "%s/no/such", dir);
    assert_int_equal(rt_import_write(im, out, "x", &w, &errs, &d), CDR_E_IO);
    snprintf(path, sizeof path, "%s/no", dir);
    struct stat st;
    assert_int_not_equal(stat(path, &st), 0);
    rt_import_free(im);
    cdr_diag_list_free(&errs);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_fixtures_merge_sorted_with_one_entry_per_price, setup,
            teardown),
        cmocka_unit_test_setup_teardown(test_current_price_and_origin_pairs,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_byte_order_marks_are_skipped,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_conflicting_duplicate_names_both_places, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conflict_in_one_json_document,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_currencies_must_agree, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_json_rejections, setup, teardown),
        cmocka_unit_test_setup_teardown(test_csv_rejections, setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_problem_is_listed, setup,
                                        teardown),
        cmocka_unit_test(test_prefixes_and_prices_follow_the_deck),
        cmocka_unit_test(test_text_for_reviewers_is_one_line),
        cmocka_unit_test_setup_teardown(test_write_publishes_a_deck_that_loads,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_never_replaces_a_file, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

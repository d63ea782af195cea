/*
 * Fuzz the rate deck loader and the plans loader: the input is a YAML
 * deck, optionally followed by a line "#csv" and the content of list.csv
 * (which the deck can name with `csv: list.csv`), optionally followed by
 * a line "#plans" and a plans file (which can name the deck as deck.yaml).
 * They go to files in a private temporary folder because the loaders read
 * paths.
 */
#include "rating/deck/rt_deck.h"
#include "rating/deck/rt_plans.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fz_dir[64];
static char fz_yaml[128];
static char fz_csv[128];
static char fz_plans[128];

static void
fz_cleanup(void)
{
    unlink(fz_yaml);
    unlink(fz_csv);
    unlink(fz_plans);
    rmdir(fz_dir);
}

/* Where sep starts in data[from..size), or size. */
static size_t
fz_find(const uint8_t *data, size_t from, size_t size, const char *sep)
{
    size_t n = strlen(sep);
    for (size_t i = from; i + n <= size; i++)
        if (memcmp(data + i, sep, n) == 0)
            return i;
    return size;
}

/* The plans file over the deck: a plans object exactly when no problem,
 * and lookups on what loaded. */
static void
fz_plans_check(void)
{
    struct cdr_diag_list errs;
    cdr_diag_list_init(&errs);
    struct rt_plans *p = NULL;
    int rc = rt_plans_load(&p, fz_plans, &errs);
    if ((rc == 0) != (p != NULL) || (rc == 0) != (errs.count == 0))
        abort();
    if (p != NULL) {
        static const char *const accounts[] = {"AC001", "AC002", ""};
        for (size_t i = 0; i < sizeof accounts / sizeof accounts[0]; i++) {
            const struct rt_plan *pl =
                rt_plans_find(p, accounts[i], strlen(accounts[i]), 1780272000);
            if (pl != NULL && (pl->name == NULL || pl->deck == NULL))
                abort();
        }
        if (strlen(rt_plans_sha256(p)) != 64)
            abort();
        rt_plans_free(p);
    }
    cdr_diag_list_free(&errs);
}

static int
fz_write(const char *path, const uint8_t *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return -1;
    size_t w = n ? fwrite(p, 1, n, f) : 0;
    return (fclose(f) == 0 && w == n) ? 0 : -1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (fz_dir[0] == '\0') {
        const char *tmp = getenv("TMPDIR");
        snprintf(fz_dir, sizeof fz_dir, "%s/fuzz_rt_deck_XXXXXX",
                 tmp ? tmp : "/tmp");
        if (mkdtemp(fz_dir) == NULL)
            abort();
        snprintf(fz_yaml, sizeof fz_yaml, "%s/deck.yaml", fz_dir);
        snprintf(fz_csv, sizeof fz_csv, "%s/list.csv", fz_dir);
        snprintf(fz_plans, sizeof fz_plans, "%s/plans.yaml", fz_dir);
        atexit(fz_cleanup);
    }

    size_t pat = fz_find(data, 0, size, "\n#plans\n");
    size_t pstart = pat < size ? pat + 8 : size;
    size_t cat = fz_find(data, 0, pat, "\n#csv\n");
    size_t ylen = cat < pat ? cat + 1 : (pat < size ? pat + 1 : size);
    size_t cstart = cat < pat ? cat + 6 : pat;
    if (fz_write(fz_yaml, data, ylen) != 0 ||
        fz_write(fz_csv, data + cstart, pat - cstart) != 0 ||
        fz_write(fz_plans, data + pstart, size - pstart) != 0)
        abort();
    if (pat < size)
        fz_plans_check();

    struct cdr_diag_list errs;
    cdr_diag_list_init(&errs);
    struct rt_deck *deck = NULL;
    int rc = rt_deck_load(&deck, fz_yaml, &errs);
    if ((rc == 0) != (deck != NULL) || (rc == 0) != (errs.count == 0))
        abort(); /* a deck exactly when there is no problem */
    if (deck != NULL) {
        /* exercise lookups on what was loaded */
        struct rt_price p;
        static const char *const dests[] = {"14155550100", "442071234567",
                                            "4915112345678", "1800", ""};
        for (size_t i = 0; i < sizeof dests / sizeof dests[0]; i++) {
            for (int svc = RT_SVC_TERMINATION; svc <= RT_SVC_ORIGINATION;
                 svc++) {
                if (rt_deck_price(deck, (enum rt_service)svc, dests[i],
                                  strlen(dests[i]), i == 4, "447700900123", 12,
                                  1780272000, &p) == 0 &&
                    (p.rate_text == NULL || p.matched == NULL ||
                     p.from_prefix == NULL || p.rate_nano < 0))
                    abort();
            }
        }
        for (size_t i = 0; i < rt_deck_trunk_count(deck); i++) {
            const struct cdr_trunk *t = rt_deck_trunk_at(deck, i);
            if (rt_deck_trunk(deck, t->sid, strlen(t->sid)) == NULL)
                abort();
        }
        rt_deck_free(deck);
    }
    for (size_t i = 0; i < errs.count; i++) {
        char buf[1024];
        cdr_diag_format(&errs.items[i], buf, sizeof buf);
    }
    cdr_diag_list_free(&errs);
    return 0;
}

/*
 * Fuzz the rate deck loader: the input is a YAML deck, optionally followed
 * by a line "#csv" and the content of list.csv (which the deck can name
 * with `csv: list.csv`), so the csv reader is fuzzed too.  Both go to files
 * in a private temporary folder because rt_deck_load reads paths.
 */
#include "rating/deck/rt_deck.h"

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

static void
fz_cleanup(void)
{
    unlink(fz_yaml);
    unlink(fz_csv);
    rmdir(fz_dir);
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
        atexit(fz_cleanup);
    }

    static const char sep[] = "\n#csv\n";
    size_t ylen = size, cstart = size;
    for (size_t i = 0; i + sizeof sep - 1 <= size; i++) {
        if (memcmp(data + i, sep, sizeof sep - 1) == 0) {
            ylen = i + 1;
            cstart = i + sizeof sep - 1;
            break;
        }
    }
    if (fz_write(fz_yaml, data, ylen) != 0 ||
        fz_write(fz_csv, data + cstart, size - cstart) != 0)
        abort();

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

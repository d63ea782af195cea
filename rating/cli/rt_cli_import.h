/*
 * referee-rate --import-prices: the command line's side of the importer
 * (rating/import/rt_import.h).  rt_cli.c reads the options; this checks
 * their combination and runs the import.
 */
#ifndef REFEREE_RT_CLI_IMPORT_H
#define REFEREE_RT_CLI_IMPORT_H

struct rt_cli_import {
    int on;                /* --import-prices */
    const char *currency;  /* --currency, or NULL */
    const char *deck_name; /* --deck-name, or NULL */
    const char *out;       /* --out */
    char **files;
    int nfiles;
    int quiet;
};

/*
 * The combination, once every option is read: --out and at least one
 * file, --currency of 3 letters, a deck name; rating_opts is set when an
 * option of a rating run was given too (--deck, --db ...).  Without
 * --import-prices, --currency and --deck-name are refused.  0, or
 * RT_EXIT_USAGE after a message.
 */
int rt_cli_import_check(struct rt_cli_import *o, int rating_opts);

/* The import; an exit status (rt_cli.h): 0, 1 (I/O, an existing output
 * file), 2 (problems in the price lists, every one listed), 64. */
int rt_cli_import_run(const struct rt_cli_import *o);

#endif

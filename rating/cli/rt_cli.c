#include "rating/cli/rt_cli.h"

#include "cdr/util/cdr_decimal.h"
#include "rating/run/rt_batch.h"
#include "rating/cli/rt_cli_db.h"
#include "rating/cli/rt_cli_import.h"
#include "rating/deck/rt_deck.h"
#include "rating/deck/rt_plans.h"
#include "rating/price/rt_money.h"
#include "rating/run/rt_sink_csv.h"

#include <errno.h>
#include <limits.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage_text[] =
    "Usage: referee-rate --deck DECK.yaml [--plans PLANS.yaml] [--out DIR]\n"
    "                    [options] FILE.csv...\n"
    "       referee-rate --check-deck DECK.yaml [--plans PLANS.yaml]\n"
    "       referee-rate --import-prices --out DIR [--currency XXX]\n"
    "                    [--deck-name NAME] PRICES.json|PRICES.csv...\n"
    "\n"
    "Rates call-record CSV exports (\"-\" reads standard input) against a "
    "rate\n"
    "deck and writes every charge component of every leg.\n"
    "\n"
    "Options:\n"
    "  --deck FILE         rate deck (YAML); validated whole before any input\n"
    "  --out DIR           write charges.csv, rejects.csv, pending.csv and\n"
    "                      summary.json to DIR (default: rated/)\n"
    "  --plans FILE        price plans (YAML): each component also gets the\n"
    "                      price of the plan of its account (the sell side)\n"
    "  --check-deck FILE   only validate the deck (and --plans) and list "
    "every\n"
    "                      problem\n"
    "  --max-rejects N     fail the run (nothing written) when more than N\n"
    "                      records are rejected\n"
    "  --quiet             no progress line and no summary line\n"
    "  --db CONNINFO       write to PostgreSQL instead of a folder: any libpq\n"
    "                      connection string or URI ('service=billing',\n"
    "                      'postgresql:///billing'); passwords from "
    "PGPASSWORD,\n"
    "                      ~/.pgpass or a service file.  One transaction per "
    "run\n"
    "  --migrate           create or upgrade the database schema (with --db);\n"
    "                      alone, or before rating when files are given\n"
    "  --schema-dir DIR    migrations folder (default: installed\n"
    "                      share/referee/schema, else the source tree's)\n"
    "  --force             rate files already loaded again, replacing (not\n"
    "                      duplicating) their earlier results\n"
    "  --rerate --from T --to T\n"
    "                      re-price the stored calls starting in [T, T) with\n"
    "                      --deck (and --plans), keeping the superseded\n"
    "                      charges for audit;\n"
    "                      T is YYYY-MM-DD (00:00 UTC) or ISO 8601 with "
    "offset\n"
    "  --import-prices     read the carrier's price lists (its pricing\n"
    "                      API's JSON, one country each, or CSV: Country,\n"
    "                      Description, Prefixes, Price) and write a deck,\n"
    "                      DIR/deck.yaml and DIR/termination.csv, to review;\n"
    "                      written only when every file is clean, checked as\n"
    "                      --check-deck would; existing files never replaced\n"
    "  --currency XXX      with --import-prices: the lists' currency; needed\n"
    "                      for CSV lists, must agree with JSON price_unit\n"
    "  --deck-name NAME    with --import-prices: the deck's name (default:\n"
    "                      the name of DIR)\n"
    "  --help, --version\n"
    "\n"
    "Exit status:\n"
    "  0   run committed (with --check-deck: the deck is valid; with\n"
    "      --import-prices: the deck is written)\n"
    "  1   run failed: unreadable or malformed input file, I/O or\n"
    "      database error (the database is left as before the run);\n"
    "      nothing written, earlier output untouched\n"
    "  2   the rate deck or the plans are invalid; nothing read or written\n"
    "      (--import-prices: a price list is; every problem listed, nothing\n"
    "      written; an existing output file or I/O error is 1)\n"
    "  3   more records rejected than --max-rejects; nothing written\n"
    "  64  bad command line\n";

struct cli {
    struct rt_cli_db db;      /* --db and friends: rt_cli_db.c */
    struct rt_cli_import imp; /* --import-prices: rt_cli_import.c */
    const char *deck_path, *out, *check_deck, *plans_path;
    long max_rejects;
    int quiet;
    char **files;
    int nfiles;
};

static int
parse_long(const char *s, long *out)
{
    int64_t v;
    if (cdr_decimal_parse(s, strlen(s), 0, 0, 0, &v) != 0 || v > LONG_MAX)
        return -1;
    *out = (long)v;
    return 0;
}

/* Any option of a rating run or a check (not of an import). */
static int
rating_options(const struct cli *c)
{
    return c->deck_path != NULL || c->check_deck != NULL ||
           c->plans_path != NULL || c->max_rejects >= 0 || c->db.db != NULL ||
           c->db.migrate || c->db.schema_dir != NULL || c->db.force ||
           c->db.rerate || c->db.from != NULL || c->db.to != NULL;
}

/* The combinations, once every option is read. */
static int
check_args(struct cli *c)
{
    c->imp.out = c->out;
    c->imp.files = c->files;
    c->imp.nfiles = c->nfiles;
    c->imp.quiet = c->quiet;
    int rc = rt_cli_import_check(&c->imp, rating_options(c));
    if (rc != 0 || c->imp.on)
        return rc;
    if (c->check_deck != NULL)
        return 0;
    int dbrc = rt_cli_db_check(&c->db, c->deck_path, c->nfiles, c->out);
    if (dbrc != 0)
        return dbrc;
    if (c->db.migrate && c->deck_path == NULL && c->nfiles == 0)
        return 0; /* --migrate alone */
    if (c->deck_path == NULL) {
        fprintf(stderr, "referee-rate: --deck is required\n"
                        "Try referee-rate --help.\n");
        return RT_EXIT_USAGE;
    }
    if (c->nfiles == 0 && !c->db.rerate) {
        fprintf(stderr, "referee-rate: no input files (use - for stdin)\n");
        return RT_EXIT_USAGE;
    }
    if (c->out == NULL)
        c->out = "rated";
    return 0;
}

enum option_id {
    O_DECK = 256,
    O_PLANS,
    O_OUT,
    O_CHECK,
    O_MAXREJ,
    O_QUIET,
    O_HELP,
    O_VER,
    O_DB,
    O_MIGRATE,
    O_SCHEMA,
    O_FORCE,
    O_RERATE,
    O_FROM,
    O_TO,
    O_IMPORT,
    O_CURRENCY,
    O_DECK_NAME
};

static const struct option options[] = {
    {"deck", required_argument, NULL, O_DECK},
    {"plans", required_argument, NULL, O_PLANS},
    {"out", required_argument, NULL, O_OUT},
    {"check-deck", required_argument, NULL, O_CHECK},
    {"max-rejects", required_argument, NULL, O_MAXREJ},
    {"quiet", no_argument, NULL, O_QUIET},
    {"help", no_argument, NULL, O_HELP},
    {"version", no_argument, NULL, O_VER},
    {"db", required_argument, NULL, O_DB},
    {"migrate", no_argument, NULL, O_MIGRATE},
    {"schema-dir", required_argument, NULL, O_SCHEMA},
    {"force", no_argument, NULL, O_FORCE},
    {"rerate", no_argument, NULL, O_RERATE},
    {"from", required_argument, NULL, O_FROM},
    {"to", required_argument, NULL, O_TO},
    {"import-prices", no_argument, NULL, O_IMPORT},
    {"currency", required_argument, NULL, O_CURRENCY},
    {"deck-name", required_argument, NULL, O_DECK_NAME},
    {NULL, 0, NULL, 0},
};

/* One option into c: 0, -1 after --help or --version, or an exit
 * status.  arg is the option as written, for the message. */
static int
apply_option(struct cli *c, int ch, const char *arg)
{
    switch (ch) {
    case O_DECK: c->deck_path = optarg; break;
    case O_PLANS: c->plans_path = optarg; break;
    case O_OUT: c->out = optarg; break;
    case O_CHECK: c->check_deck = optarg; break;
    case O_MAXREJ:
        if (parse_long(optarg, &c->max_rejects) != 0) {
            fprintf(stderr,
                    "referee-rate: --max-rejects: not a count: \"%s\"\n",
                    optarg);
            return RT_EXIT_USAGE;
        }
        break;
    case O_QUIET: c->quiet = 1; break;
    case O_DB: c->db.db = optarg; break;
    case O_MIGRATE: c->db.migrate = 1; break;
    case O_SCHEMA: c->db.schema_dir = optarg; break;
    case O_FORCE: c->db.force = 1; break;
    case O_RERATE: c->db.rerate = 1; break;
    case O_FROM: c->db.from = optarg; break;
    case O_TO: c->db.to = optarg; break;
    case O_IMPORT: c->imp.on = 1; break;
    case O_CURRENCY: c->imp.currency = optarg; break;
    case O_DECK_NAME: c->imp.deck_name = optarg; break;
    case O_HELP: fputs(usage_text, stdout); return -1;
    case O_VER: printf("referee-rate %s\n", REFEREE_VERSION); return -1;
    default:
        fprintf(stderr,
                "referee-rate: unknown or incomplete option \"%s\"\n"
                "Try referee-rate --help.\n",
                arg);
        return RT_EXIT_USAGE;
    }
    return 0;
}

static int
parse_args(struct cli *c, int argc, char **argv)
{
    memset(c, 0, sizeof *c);
    c->max_rejects = -1;
    optind = 1;
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, "", options, NULL)) != -1) {
        int rc = apply_option(c, ch, argv[optind - 1]);
        if (rc != 0)
            return rc;
    }
    c->files = argv + optind;
    c->nfiles = argc - optind;
    return check_args(c);
}

static void
print_diag(const struct cdr_diag *d)
{
    char buf[2048];
    cdr_diag_format(d, buf, sizeof buf);
    fprintf(stderr, "%s\n", buf);
}

/* Print every problem of a loaded file and the count; rc is the load's. */
static void
print_problems(const char *path, const char *what, int rc,
               struct cdr_diag_list *errs)
{
    for (size_t i = 0; i < errs->count; i++)
        print_diag(&errs->items[i]);
    if (errs->dropped > 0)
        fprintf(stderr, "%s: %zu more problems not listed (out of memory)\n",
                path, errs->dropped);
    if (rc != 0 && errs->count == 0)
        fprintf(stderr, "%s: %s invalid\n", path, what);
    if (rc != 0)
        fprintf(stderr, "referee-rate: %s: %zu problem%s; nothing rated\n",
                path, errs->count + errs->dropped,
                errs->count + errs->dropped == 1 ? "" : "s");
    cdr_diag_list_free(errs);
}

static int
load_deck(const char *path, struct rt_deck **deck)
{
    struct cdr_diag_list errs;
    cdr_diag_list_init(&errs);
    int rc = rt_deck_load(deck, path, &errs);
    print_problems(path, "rate deck", rc, &errs);
    return rc;
}

/* The plans file and its decks; *plans stays NULL without --plans. */
static int
load_plans(const char *path, struct rt_plans **plans)
{
    *plans = NULL;
    if (path == NULL)
        return 0;
    struct cdr_diag_list errs;
    cdr_diag_list_init(&errs);
    int rc = rt_plans_load(plans, path, &errs);
    print_problems(path, "plans file", rc, &errs);
    return rc;
}

/* --check-deck: the deck, and the plans when given, nothing else. */
static int
check_only(const struct cli *c)
{
    struct rt_deck *deck = NULL;
    struct rt_plans *plans = NULL;
    int deck_rc = load_deck(c->check_deck, &deck);
    int plans_rc = load_plans(c->plans_path, &plans);
    if (deck_rc == 0)
        fprintf(stderr, "%s: ok: deck \"%s\", %zu prices, %zu trunks\n",
                c->check_deck, rt_deck_name(deck), rt_deck_entries(deck),
                rt_deck_trunk_count(deck));
    if (plans_rc == 0 && plans != NULL)
        fprintf(stderr, "%s: ok: %zu plans\n", c->plans_path,
                rt_plans_count(plans));
    rt_deck_free(deck);
    rt_plans_free(plans);
    return deck_rc == 0 && plans_rc == 0 ? RT_EXIT_OK : RT_EXIT_DECK;
}

static void
notice_skip(void *ctx, const struct rt_input_file *f)
{
    (void)ctx;
    fprintf(stderr,
            "referee-rate: %s: already loaded by an earlier run "
            "(sha256 %.12s...), skipped; --force rates it again\n",
            f->path, f->sha256);
}

static void
print_summary(const struct rt_summary *s, const struct rt_deck *deck,
              int committed)
{
    char total[48];
    cdr_decimal_format(s->total_nano, 9, rt_deck_decimals(deck), total,
                       sizeof total);
    fprintf(stderr,
            "referee-rate: %s: %ld rows, %ld calls, %ld components, "
            "%ld rejects (%ld duplicates), %ld pending, %ld files skipped, "
            "total %s %s, %lld.%03lld s\n",
            committed ? "committed" : "FAILED, nothing written", s->rows_read,
            s->calls, s->components, s->rejects, s->duplicates, s->pending,
            s->skipped_files, total, rt_deck_currency(deck),
            (long long)(s->elapsed_ms / 1000),
            (long long)(s->elapsed_ms % 1000));
    const struct rt_warnings *w = &s->warnings;
    long nw = w->child_late + w->child_other_account + w->price_precise +
              w->price_unreadable;
    if (nw > 0) /* rated all the same: worth a look, not a failure */
        fprintf(stderr,
                "referee-rate: %ld warnings: %ld children more than a day "
                "after their parent, %ld on another account than their "
                "parent, %ld carrier prices over 9 places (kept), %ld "
                "unreadable (dropped)\n",
                nw, w->child_late, w->child_other_account, w->price_precise,
                w->price_unreadable);
}

static int rate(const struct cli *c, const struct rt_deck *deck,
                const struct rt_plans *plans);

int
rt_cli_main(int argc, char **argv)
{
    struct cli c;
    int rc = parse_args(&c, argc, argv);
    if (rc != 0)
        return rc < 0 ? RT_EXIT_OK : rc;
    if (c.imp.on)
        return rt_cli_import_run(&c.imp);

    if (c.db.migrate) {
        rc = rt_cli_db_migrate(&c.db);
        if (rc != RT_EXIT_OK || (c.deck_path == NULL && c.nfiles == 0))
            return rc;
    }

    if (c.check_deck != NULL)
        return check_only(&c);
    struct rt_deck *deck = NULL;
    struct rt_plans *plans = NULL;
    /* both checked whole before any input is read */
    int deck_rc = load_deck(c.deck_path, &deck);
    if (load_plans(c.plans_path, &plans) != 0 || deck_rc != 0) {
        rt_deck_free(deck);
        rt_plans_free(plans);
        return RT_EXIT_DECK;
    }
    rc = rate(&c, deck, plans);
    rt_plans_free(plans);
    rt_deck_free(deck);
    return rc;
}

/* The run itself, once the deck (and plans) are valid. */
static int
rate(const struct cli *cp, const struct rt_deck *deck,
     const struct rt_plans *plans)
{
    struct cli c = *cp;
    int rc;
    struct cdr_diag d;
    cdr_diag_clear(&d);
    struct rt_sink sink;
    if ((c.db.db != NULL ? rt_cli_db_open_sink(&c.db, &sink, &d)
                         : rt_sink_csv_open(&sink, c.out, &d)) != 0) {
        print_diag(&d);
        return RT_EXIT_FAILURE;
    }
    struct rt_batch_opts o = {
        .deck = deck,
        .deck_sha256 = rt_deck_sha256(deck),
        .plans = plans,
        .plans_sha256 = plans ? rt_plans_sha256(plans) : NULL,
        .plans_path = plans ? c.plans_path : NULL,
        .sink = &sink,
        .max_rejects = c.max_rejects,
        .progress = !c.quiet && isatty(STDERR_FILENO),
        .force = c.db.force,
        .kind = c.db.rerate ? RT_RUN_RERATE : RT_RUN_RATE,
        .rerate_from = c.db.from_t,
        .rerate_to = c.db.to_t,
        .on_skip = notice_skip,
    };
    struct rt_summary sum;
    rc = rt_batch_run(&o, (const char *const *)c.files, (size_t)c.nfiles, &sum,
                      &d);
    if (rc != 0)
        print_diag(&d);
    if (rc == 0 && c.db.db != NULL)
        rt_cli_db_adjust(&sum, &sink);
    if (!c.quiet)
        print_summary(&sum, deck, rc == 0);
    sink.ops->free(sink.self);
    if (rc == 0)
        return RT_EXIT_OK;
    return rc == CDR_E_TOO_MANY_REJECTS ? RT_EXIT_MAX_REJECTS : RT_EXIT_FAILURE;
}

#include "rating/rt_cli.h"

#include "cdr/cdr_parse.h"
#include "cdr/cdr_sha256.h"
#include "rating/rt_batch.h"
#include "rating/rt_deck.h"
#include "rating/rt_money.h"
#include "rating/rt_pg_migrate.h"
#include "rating/rt_sink_csv.h"
#include "rating/rt_sink_pg.h"

#include <errno.h>
#include <limits.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage_text[] =
    "Usage: referee-rate --deck DECK.yaml [--out DIR | --db CONNINFO] [options]"
    " FILE.csv...\n"
    "       referee-rate --check-deck DECK.yaml\n"
    "       referee-rate --db CONNINFO --migrate\n"
    "       referee-rate --db CONNINFO --rerate --deck DECK.yaml --from DATE"
    " --to DATE\n"
    "\n"
    "Rates call-record CSV exports (\"-\" reads standard input) against a rate\n"
    "deck and writes every charge component of every leg.\n"
    "\n"
    "Options:\n"
    "  --deck FILE         rate deck (YAML); validated whole before any input\n"
    "  --out DIR           write charges.csv, rejects.csv, pending.csv and\n"
    "                      summary.json to DIR (default: rated/)\n"
    "  --db CONNINFO       write to PostgreSQL instead (any libpq connection\n"
    "                      string or URI; passwords from PGPASSWORD, ~/.pgpass\n"
    "                      or a service file), one transaction per run\n"
    "  --migrate           create or upgrade the database schema, then exit\n"
    "  --schema-dir DIR    migrations folder (default: the installed one)\n"
    "  --force             rate files again that an earlier run loaded\n"
    "                      (their earlier charges are superseded)\n"
    "  --rerate            re-price the stored calls that start in\n"
    "                      [--from, --to) with --deck; old charges are kept,\n"
    "                      marked superseded\n"
    "  --from DATE, --to DATE   2026-05-01 (00:00 UTC) or ISO 8601\n"
    "  --check-deck FILE   only validate the deck and list every problem\n"
    "  --max-rejects N     fail the run (nothing written) when more than N\n"
    "                      records are rejected\n"
    "  --quiet             no progress line and no summary line\n"
    "  --help, --version\n"
    "\n"
    "Exit status:\n"
    "  0   run committed (with --check-deck: the deck is valid)\n"
    "  1   run failed: unreadable or malformed input file, I/O or database\n"
    "      error; nothing written, earlier output untouched\n"
    "  2   the rate deck is invalid; nothing read or written\n"
    "  3   more records rejected than --max-rejects; nothing written\n"
    "  64  bad command line\n";

struct cli {
    const char *deck_path, *out, *check_deck, *db, *schema_dir;
    const char *from_text, *to_text;
    int64_t from, to;
    long max_rejects;
    int quiet, migrate, force, rerate;
    char **files;
    int nfiles;
};

static int
parse_long(const char *s, long *out)
{
    uint64_t v;
    if (cdr_parse_uint64(s, s + strlen(s), &v) != 0 || v > (uint64_t)LONG_MAX)
        return -1;
    *out = (long)v;
    return 0;
}

static int
parse_args(struct cli *c, int argc, char **argv)
{
    enum {
        O_DECK = 256, O_OUT, O_CHECK, O_MAXREJ, O_QUIET, O_HELP, O_VER,
        O_DB, O_MIGRATE, O_SCHEMA, O_FORCE, O_RERATE, O_FROM, O_TO
    };
    static const struct option opts[] = {
        {"db", required_argument, NULL, O_DB},
        {"migrate", no_argument, NULL, O_MIGRATE},
        {"schema-dir", required_argument, NULL, O_SCHEMA},
        {"force", no_argument, NULL, O_FORCE},
        {"rerate", no_argument, NULL, O_RERATE},
        {"from", required_argument, NULL, O_FROM},
        {"to", required_argument, NULL, O_TO},
        {"deck", required_argument, NULL, O_DECK},
        {"out", required_argument, NULL, O_OUT},
        {"check-deck", required_argument, NULL, O_CHECK},
        {"max-rejects", required_argument, NULL, O_MAXREJ},
        {"quiet", no_argument, NULL, O_QUIET},
        {"help", no_argument, NULL, O_HELP},
        {"version", no_argument, NULL, O_VER},
        {NULL, 0, NULL, 0},
    };
    memset(c, 0, sizeof *c);
    c->max_rejects = -1;
    optind = 1;
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (ch) {
        case O_DECK: c->deck_path = optarg; break;
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
        case O_DB: c->db = optarg; break;
        case O_MIGRATE: c->migrate = 1; break;
        case O_SCHEMA: c->schema_dir = optarg; break;
        case O_FORCE: c->force = 1; break;
        case O_RERATE: c->rerate = 1; break;
        case O_FROM: c->from_text = optarg; break;
        case O_TO: c->to_text = optarg; break;
        case O_HELP: fputs(usage_text, stdout); return -1;
        case O_VER: printf("referee-rate %s\n", REFEREE_VERSION); return -1;
        default:
            fprintf(stderr, "referee-rate: unknown or incomplete option \"%s\"\n"
                            "Try referee-rate --help.\n",
                    argv[optind - 1]);
            return RT_EXIT_USAGE;
        }
    }
    c->files = argv + optind;
    c->nfiles = argc - optind;
    if (c->check_deck != NULL)
        return 0;
    if ((c->migrate || c->rerate || c->force) && c->db == NULL) {
        fprintf(stderr, "referee-rate: --migrate, --rerate and --force need "
                        "--db\n");
        return RT_EXIT_USAGE;
    }
    if (c->db != NULL && c->out != NULL) {
        fprintf(stderr, "referee-rate: --db and --out do not go together\n");
        return RT_EXIT_USAGE;
    }
    if (c->migrate)
        return 0;
    if (c->rerate) {
        if (c->from_text == NULL || c->to_text == NULL ||
            rt_deck_parse_date(c->from_text, strlen(c->from_text),
                               &c->from) != 0 ||
            rt_deck_parse_date(c->to_text, strlen(c->to_text), &c->to) != 0 ||
            c->from >= c->to) {
            fprintf(stderr, "referee-rate: --rerate needs --from and --to, "
                            "dates like 2026-05-01, from before to\n");
            return RT_EXIT_USAGE;
        }
        if (c->nfiles > 0) {
            fprintf(stderr, "referee-rate: --rerate reads no input files\n");
            return RT_EXIT_USAGE;
        }
    } else if (c->from_text != NULL || c->to_text != NULL) {
        fprintf(stderr, "referee-rate: --from and --to go with --rerate\n");
        return RT_EXIT_USAGE;
    }
    if (c->deck_path == NULL) {
        fprintf(stderr, "referee-rate: --deck is required\n"
                        "Try referee-rate --help.\n");
        return RT_EXIT_USAGE;
    }
    if (c->nfiles == 0 && !c->rerate) {
        fprintf(stderr, "referee-rate: no input files (use - for stdin)\n");
        return RT_EXIT_USAGE;
    }
    if (c->out == NULL && c->db == NULL)
        c->out = "rated";
    return 0;
}

static void
print_diag(const struct cdr_diag *d)
{
    char buf[2048];
    cdr_diag_format(d, buf, sizeof buf);
    fprintf(stderr, "%s\n", buf);
}

static int
load_deck(const char *path, struct rt_deck **deck)
{
    struct cdr_diag_list errs;
    cdr_diag_list_init(&errs);
    int rc = rt_deck_load(deck, path, &errs);
    for (size_t i = 0; i < errs.count; i++)
        print_diag(&errs.items[i]);
    if (errs.dropped > 0)
        fprintf(stderr, "%s: %zu more problems not listed (out of memory)\n",
                path, errs.dropped);
    if (rc != 0 && errs.count == 0)
        fprintf(stderr, "%s: rate deck invalid\n", path);
    if (rc != 0)
        fprintf(stderr, "referee-rate: %s: %zu problem%s; nothing rated\n",
                path, errs.count + errs.dropped,
                errs.count + errs.dropped == 1 ? "" : "s");
    cdr_diag_list_free(&errs);
    return rc;
}

static void
notice_skip(void *ctx, const struct rt_input_file *f)
{
    (void)ctx;
    fprintf(stderr,
            "referee-rate: %s: already loaded by an earlier run (sha256 %.12s...), "
            "skipped; --force rates it again\n",
            f->path, f->sha256);
}

static void
print_summary(const struct rt_summary *s, const struct rt_deck *deck,
              int committed)
{
    char total[48];
    rt_money_format(s->total_nano, rt_deck_decimals(deck), total,
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
}

/* --schema-dir, else the installed migrations, else the source tree's
 * (a build that was never installed). */
static const char *
schema_dir(const struct cli *c)
{
    if (c->schema_dir != NULL)
        return c->schema_dir;
    if (access(REFEREE_SCHEMA_DIR_INSTALLED "/001_core.sql", R_OK) == 0)
        return REFEREE_SCHEMA_DIR_INSTALLED;
    return REFEREE_SCHEMA_DIR_SOURCE;
}

static int
migrate(const struct cli *c)
{
    struct cdr_diag d;
    cdr_diag_clear(&d);
    int from = 0, to = 0;
    if (rt_pg_migrate(c->db, schema_dir(c), &from, &to, &d) != 0) {
        print_diag(&d);
        return RT_EXIT_FAILURE;
    }
    if (from == to)
        fprintf(stderr, "referee-rate: schema at version %d, nothing to do\n",
                to);
    else
        fprintf(stderr, "referee-rate: schema migrated from version %d to %d\n",
                from, to);
    return RT_EXIT_OK;
}

int
rt_cli_main(int argc, char **argv)
{
    struct cli c;
    int rc = parse_args(&c, argc, argv);
    if (rc != 0)
        return rc < 0 ? RT_EXIT_OK : rc;
    if (c.migrate)
        return migrate(&c);

    struct rt_deck *deck = NULL;
    if (c.check_deck != NULL) {
        if (load_deck(c.check_deck, &deck) != 0)
            return RT_EXIT_DECK;
        fprintf(stderr, "%s: ok: deck \"%s\", %zu prices, %zu trunks\n",
                c.check_deck, rt_deck_name(deck), rt_deck_entries(deck),
                rt_deck_trunk_count(deck));
        rt_deck_free(deck);
        return RT_EXIT_OK;
    }
    if (load_deck(c.deck_path, &deck) != 0)
        return RT_EXIT_DECK;
    char deck_sha[65];
    if (cdr_sha256_file(c.deck_path, deck_sha, NULL) != 0) {
        fprintf(stderr, "%s: %s\n", c.deck_path, strerror(errno));
        rt_deck_free(deck);
        return RT_EXIT_FAILURE;
    }

    struct cdr_diag d;
    cdr_diag_clear(&d);
    struct rt_sink sink;
    rc = c.db != NULL ? rt_sink_pg_open(&sink, c.db, schema_dir(&c), &d)
                      : rt_sink_csv_open(&sink, c.out, &d);
    if (rc != 0) {
        print_diag(&d);
        rt_deck_free(deck);
        return RT_EXIT_FAILURE;
    }
    struct rt_batch_opts o = {
        .deck = deck,
        .deck_sha256 = deck_sha,
        .sink = &sink,
        .max_rejects = c.max_rejects,
        .progress = !c.quiet && isatty(STDERR_FILENO),
        .force = c.force,
        .kind = c.rerate ? RT_RUN_RERATE : RT_RUN_RATE,
        .rerate_from = c.from,
        .rerate_to = c.to,
        .on_skip = notice_skip,
    };
    struct rt_summary sum;
    rc = rt_batch_run(&o, (const char *const *)c.files, (size_t)c.nfiles, &sum,
                      &d);
    if (rc != 0)
        print_diag(&d);
    if (!c.quiet)
        print_summary(&sum, deck, rc == 0);
    sink.ops->free(sink.self);
    rt_deck_free(deck);
    if (rc == 0)
        return RT_EXIT_OK;
    return rc == CDR_E_LIMIT && strstr(d.message, "--max-rejects") != NULL
               ? RT_EXIT_MAX_REJECTS
               : RT_EXIT_FAILURE;
}

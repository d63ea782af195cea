#include "rating/cli/rt_cli_db.h"

#include "rating/cli/rt_cli.h"
#include "rating/deck/rt_deck.h"
#include "rating/pg/rt_pg_migrate.h"
#include "rating/pg/rt_sink_pg.h"
#include "cdr/util/cdr_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int
usage(const char *msg)
{
    fprintf(stderr, "referee-rate: %s\nTry referee-rate --help.\n", msg);
    return RT_EXIT_USAGE;
}

int
rt_cli_db_check(struct rt_cli_db *c, const char *deck, int nfiles,
                const char *out)
{
    if (c->db == NULL && (c->migrate || c->rerate || c->force))
        return usage("--migrate, --rerate and --force need --db");
    if (c->db != NULL && out != NULL)
        return usage("--db and --out are exclusive");
    if (c->rerate) {
        if (c->from == NULL || c->to == NULL)
            return usage("--rerate needs --from and --to");
        if (nfiles > 0)
            return usage("--rerate re-prices stored calls: no input files");
        if (deck == NULL)
            return usage("--rerate needs --deck (the new prices)");
        if (cdr_time_parse_date(c->from, strlen(c->from), &c->from_t) != 0) {
            fprintf(stderr, "referee-rate: --from: invalid time \"%s\"\n",
                    c->from);
            return RT_EXIT_USAGE;
        }
        if (cdr_time_parse_date(c->to, strlen(c->to), &c->to_t) != 0) {
            fprintf(stderr, "referee-rate: --to: invalid time \"%s\"\n", c->to);
            return RT_EXIT_USAGE;
        }
        if (c->to_t <= c->from_t)
            return usage("--to must be after --from");
    } else if (c->from != NULL || c->to != NULL) {
        return usage("--from and --to go with --rerate");
    }
    return 0;
}

const char *
rt_cli_db_schema_dir(const struct rt_cli_db *c)
{
    struct stat st;
    const char *env = getenv("REFEREE_SCHEMA_DIR");
    if (c->schema_dir != NULL)
        return c->schema_dir;
    if (env != NULL && env[0] != '\0')
        return env;
    if (stat(REFEREE_SCHEMA_INSTALL_DIR, &st) == 0 && S_ISDIR(st.st_mode))
        return REFEREE_SCHEMA_INSTALL_DIR;
    return REFEREE_SCHEMA_SOURCE_DIR;
}

static void
print_diag(const struct cdr_diag *d)
{
    char buf[2048];
    cdr_diag_format(d, buf, sizeof buf);
    fprintf(stderr, "referee-rate: %s\n", buf);
}

int
rt_cli_db_migrate(const struct rt_cli_db *c)
{
    struct cdr_diag d;
    int from = 0, to = 0;
    cdr_diag_clear(&d);
    if (rt_pg_migrate(c->db, rt_cli_db_schema_dir(c), &from, &to, &d) != 0) {
        print_diag(&d);
        return RT_EXIT_FAILURE;
    }
    if (from == to)
        fprintf(stderr,
                "referee-rate: database schema is at version %d: "
                "nothing to do\n",
                to);
    else
        fprintf(stderr,
                "referee-rate: database schema migrated from version "
                "%d to %d\n",
                from, to);
    return RT_EXIT_OK;
}

int
rt_cli_db_open_sink(const struct rt_cli_db *c, struct rt_sink *sink,
                    struct cdr_diag *d)
{
    return rt_sink_pg_open(sink, c->db, rt_cli_db_schema_dir(c), d);
}

void
rt_cli_db_adjust(struct rt_summary *sum, const struct rt_sink *sink)
{
    struct rt_store_report r;
    const struct rt_store_report *rep = &r;
    if (rt_sink_pg_report(sink, &r) != 0)
        return;
    sum->calls = rep->calls;
    sum->components = rep->components;
    sum->total_nano = rep->total_nano;
    sum->duplicates += rep->duplicates;
    sum->rejects += rep->duplicates;
    if (rep->skipped_files > sum->skipped_files)
        sum->skipped_files = rep->skipped_files;
}

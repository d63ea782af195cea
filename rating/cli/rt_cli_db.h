/*
 * The PostgreSQL part of referee-rate's command line: --db, --migrate,
 * --schema-dir, --force, --rerate --from --to.  Kept apart from rt_cli.c so
 * the file sink's CLI reads as it did.
 */
#ifndef REFEREE_RT_CLI_DB_H
#define REFEREE_RT_CLI_DB_H

#include "cdr/util/cdr_diag.h"
#include "rating/run/rt_sink.h"

#include <stdint.h>

struct rt_cli_db {
    const char *db;         /* --db CONNINFO, NULL: CSV folder */
    const char *schema_dir; /* --schema-dir, NULL: default */
    const char *from, *to;  /* --from, --to (with --rerate) */
    int migrate, force, rerate;
    int64_t from_t, to_t; /* parsed by rt_cli_db_check */
};

/* After option parsing: combinations and dates.  0, or prints the problem
 * and returns RT_EXIT_USAGE. */
int rt_cli_db_check(struct rt_cli_db *c, const char *deck, int nfiles,
                    const char *out);

/* The schema folder: --schema-dir, $REFEREE_SCHEMA_DIR, the installed
 * share/referee/schema if present, else the source tree's schema/. */
const char *rt_cli_db_schema_dir(const struct rt_cli_db *c);

/* --migrate: prints what it did; returns an exit code. */
int rt_cli_db_migrate(const struct rt_cli_db *c);

/* Open the PostgreSQL sink (checks the schema version). */
int rt_cli_db_open_sink(const struct rt_cli_db *c, struct rt_sink *sink,
                        struct cdr_diag *d);

/* After a committed run: replace the driver's counts with what the
 * database stored (duplicates of earlier runs are only found there). */
void rt_cli_db_adjust(struct rt_summary *sum, const struct rt_sink *sink);

#endif

/*
 * Schema migrations: schema/NNN_name.sql, applied in order, forward only.
 * Each applied file is recorded in referee.schema_version with its md5, so
 * running migrate twice changes nothing and an edited applied file is
 * refused instead of silently diverging.
 */
#ifndef REFEREE_RT_PG_MIGRATE_H
#define REFEREE_RT_PG_MIGRATE_H

#include "cdr/util/cdr_diag.h"

#include <libpq-fe.h>

/* The schema version this build reads and writes: the highest migration
 * number it ships.  The rater refuses any other version. */
#define RT_PG_SCHEMA_VERSION 9

/* Advisory lock (transaction scope) taken by migrations and by every run:
 * runs and migrations of one database happen one at a time. */
#define RT_PG_LOCK_KEY "7263746710001"

/* Bounds on what the runner reads. */
#define RT_PG_MAX_MIGRATIONS 999
#define RT_PG_MAX_MIGRATION_BYTES (1024 * 1024)

/*
 * Bring the database up to RT_PG_SCHEMA_VERSION with the files of
 * schema_dir (the source tree's schema/ or the installed
 * share/referee/schema), all pending files in ONE transaction under an
 * advisory lock (two concurrent runners serialise).  Fails, changing
 * nothing, when: the folder lacks a file up to the known version or has
 * one beyond it, two files share a number, an applied file's checksum
 * differs, or the database is at a newer version.  *from and *to (may be
 * NULL) get the versions before and after.
 */
int rt_pg_migrate(const char *conninfo, const char *schema_dir, int *from,
                  int *to, struct cdr_diag *d);
int rt_pg_migrate_conn(PGconn *conn, const char *schema_dir, int *from, int *to,
                       struct cdr_diag *d);

/*
 * The database's schema version: 0 when there is no referee schema.
 * 0 or CDR_E_DB.
 */
int rt_pg_schema_version(PGconn *conn, int *version, struct cdr_diag *d);

/*
 * 0 when the database is exactly at RT_PG_SCHEMA_VERSION; else CDR_E_DB
 * with a message saying to run --migrate (missing or older schema) or to
 * upgrade referee (newer schema).
 */
int rt_pg_schema_check(PGconn *conn, struct cdr_diag *d);

#endif

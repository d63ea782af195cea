/*
 * The PostgreSQL sink: one run, one transaction.
 *
 * begin      BEGIN, take the run lock (runs and migrations of a database go
 *            one at a time), insert the runs row, create a TEMP staging
 *            table; note whether call_sids holds any sid and which sids
 *            are pending.
 * call       a rate run without --force loads the rated calls of its input
 *            files (parents, singles and their children) straight into
 *            the final tables: in batches of RT_SINK_PG_BATCH calls, the
 *            batch's sids are looked up in call_sids (those rated by an
 *            earlier run are dropped and listed as duplicates at commit),
 *            then COPY (binary format) into call_sids (its primary key
 *            refuses a sid twice), calls and charges.  A loader thread
 *            loads a full batch while the driver's thread fills the next
 *            one; the connection is the loader's until the driver's
 *            thread needs it again (and waits).  A month with no partition
 *            is loaded as a detached table and attached, with its indexes
 *            built, at commit; an empty call_sids loses its primary key
 *            until then (schema 005).  Everything else (rerate and --force
 *            runs, rows re-fed from the store, sids still pending,
 *            relabelled parents) goes to staging.
 * reject, pending
 *            rows go to the staging table through COPY (text format,
 *            PQputCopyData), sent once RT_SINK_PG_CHUNK bytes wait and the
 *            connection is free; no SQL is ever built from values.
 * file_seen, stored_pending, stored_parents, stored_calls
 *            end the COPY in progress (it reopens at the next row) and
 *            query the store; rows come back through a cursor, in batches.
 * commit     loads the last batch, builds the register's key and attaches
 *            the loaded months, merges staging into the final tables with
 *            the merge functions of schema 008, in the same transaction:
 *            records the input files, supersedes what --force or a rerate
 *            replaces, drops (and lists in rejects) calls rated by an
 *            earlier run, relabels stored parents, moves pending children,
 *            records the run's totals; then COMMIT.
 * A run's state is made at begin and freed at commit or abort: nothing of
 * one run is seen by the next (rt_sink_pg_int.h).
 * abort      ROLLBACK: the database is as before the run.  A lost
 *            connection or a killed backend has the same effect.
 */
#ifndef REFEREE_RT_SINK_PG_H
#define REFEREE_RT_SINK_PG_H

#include "cdr/util/cdr_diag.h"
#include "rating/run/rt_sink.h"

/*
 * Connect (any libpq connection string or URI) and check the schema is
 * exactly the version this build knows (rt_pg_schema_check).  schema_dir
 * may be NULL; it is only named in the hint when the schema needs
 * migrating.  On success *out is a sink the caller frees through
 * out->ops->free(out->self).
 */
int rt_sink_pg_open(struct rt_sink *out, const char *conninfo,
                    const char *schema_dir, struct cdr_diag *d);

/* What the last committed run stored (duplicates of earlier runs are only
 * found by the database).  0, or -1 if no run committed or s is not a
 * PostgreSQL sink. */
int rt_sink_pg_report(const struct rt_sink *s, struct rt_store_report *out);

/* COPY rows are sent in chunks of about this many bytes. */
#define RT_SINK_PG_CHUNK (256 * 1024)
/* Rated calls loaded straight into the final tables per batch (one
 * call_sids look-up and three COPYs), or fewer when their rows reach
 * RT_SINK_PG_BATCH_BYTES.  Two batches are in memory: one filling, one
 * loading. */
#define RT_SINK_PG_BATCH 20000
#define RT_SINK_PG_BATCH_BYTES (16 * 1024 * 1024)
/* Rows fetched per round trip when handing stored rows back. */
#define RT_SINK_PG_FETCH 10000
/* Sids per stored_parents query (the driver may pass more). */
#define RT_SINK_PG_SIDS 50000

#endif

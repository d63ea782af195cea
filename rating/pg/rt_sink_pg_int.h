/*
 * Inside the PostgreSQL sink.  Not for other modules: they use
 * rating/pg/rt_sink_pg.h.
 *
 * Its files are layers, each calling only the ones below it:
 *
 *   rt_sink_pg.c         the ops: a run (struct pg_run) is made at begin
 *                        and freed at commit or abort; the sink keeps only
 *                        its connection and the last committed run's report
 *   rt_sink_pg_merge.c   commit's merge: the SQL functions of schema 008
 *   rt_sink_pg_direct.c  the direct load of rated calls, batch by batch
 *   rt_sink_pg_store.c   the reads of the store
 *   rt_sink_pg_load.c    the loader thread's job: one batch into the final
 *                        tables
 *   rt_sink_pg_stage.c   staged rows: COPY text into the run's TEMP table
 *   rt_sink_pg_link.c    the connection, lent to the loader thread and
 *                        taken back
 *   rt_pg.c              libpq helpers, COPY fields
 *
 * Each keeps its state private, in a struct only its file defines, made
 * for the run and freed with it (pg_dump's pg_backup_*.c each keep a
 * private context hung off the shared handle).  What they all read is the
 * run's facts, fixed at begin.  The one call the other way is the job the
 * direct load hands the link (pgs_load_batch) to run on its thread: a
 * function pointer passed down, as to pthread_create.
 */
#ifndef REFEREE_RT_SINK_PG_INTERNAL_H
#define REFEREE_RT_SINK_PG_INTERNAL_H

#include "rating/pg/rt_pg.h"
#include "rating/run/rt_sink.h"
#include "rating/pg/rt_sink_pg.h"

#include <stddef.h>
#include <stdint.h>

__extension__ typedef __int128 i128;
__extension__ typedef unsigned __int128 u128;

/* An input file as the sink keeps it: the driver's is final at commit. */
struct pgs_file {
    char *path;
    char sha256[65];
    uint64_t size;
    long rows;
    int skipped;
};

/* The run's facts: set by the ops at begin (the files again at commit),
 * read by every layer. */
struct pgs_facts {
    char run_id[24];
    long run_num; /* run_id as a number */
    enum rt_run_kind kind;
    int force;
    int decimals;
    int plans; /* --plans: each charge has a sell side */
    char *deck_name, *currency;
    struct pgs_file *files;
    size_t n_files;
    /* The driver's array, borrowed until commit or abort. */
    const struct rt_input_file *run_files;
};

/* ---- rt_sink_pg_link.c: the connection and small helpers ------------- */

/* A job run on the connection by the loader thread. */
typedef int (*pgs_job_fn)(void *arg, PGconn *conn, struct cdr_diag *d);

struct pgs_link;
int pgs_link_new(struct pgs_link **out, PGconn *conn, struct cdr_diag *d);
/* Lend the connection to job (on the loader thread, started when first
 * needed; without a thread, the job runs here and its result is
 * returned).  The connection must be free: taken, and out of COPY. */
int pgs_link_lend(struct pgs_link *l, pgs_job_fn job, void *arg,
                  struct cdr_diag *d);
/* Take the connection back: wait for the job lent, if any; its error. */
int pgs_link_take(struct pgs_link *l, struct cdr_diag *d);
/* The connection, for whoever has it (taken back). */
PGconn *pgs_link_conn(const struct pgs_link *l);
/* Waits for a job lent, ends the thread. */
void pgs_link_free(struct pgs_link *l);

/* COPY on a connection: start (sql is a COPY ... FROM STDIN), send p[0,
 * n) in chunks, end (with errmsg: aborted) and drain its results;
 * finish: end it, aborted when rc (a step before failed), and rc or its
 * error. */
int pgs_copy_start(PGconn *conn, const char *sql, struct cdr_diag *d);
int pgs_copy_send(PGconn *conn, const char *p, size_t n, struct cdr_diag *d);
int pgs_copy_end(PGconn *conn, const char *errmsg, struct cdr_diag *d);
int pgs_copy_finish(PGconn *conn, int rc, struct cdr_diag *d);

char *pgs_dup_str(const char *s);
int pgs_parse_long(const char *s, long *out);

/* ---- rt_sink_pg_stage.c: staged rows --------------------------------- */

/* 0, or CDR_E_BAD_NUMBER (field price) when r's price is not an exact
 * decimal: it goes into a numeric column. */
int pgs_check_price(const struct cdr_record *r, struct cdr_diag *d);
/* The index in f->files of the file named path, or -1. */
long pgs_file_index_of(const struct pgs_facts *f, const char *path);

/* COPY fields the staged rows and the direct load share. */
void pgs_copy_slice(struct rt_pg_buf *b, struct cdr_slice v);
void pgs_copy_opt_numeric(struct rt_pg_buf *b, struct cdr_slice v);
void pgs_copy_opt(struct rt_pg_buf *b, struct cdr_slice v);
void pgs_copy_nulls(struct rt_pg_buf *b, int n);
void pgs_copy_parties(struct rt_pg_buf *b, const struct cdr_record *r);
void pgs_copy_outcome(struct rt_pg_buf *b, const struct cdr_record *r);
void pgs_copy_component_to(struct rt_pg_buf *b, int decimals,
                           const struct rt_component *c);
/* c's sell side (4 fields), NULLs when call has no plan. */
void pgs_copy_sell_to(struct rt_pg_buf *b, const struct rt_call *call,
                      const struct rt_component *c);
/* The call's plan and the plan deck's currency, NULL without a plan. */
void pgs_copy_plan(struct rt_pg_buf *b, const struct rt_call *call);
void pgs_copy_sell_currency(struct rt_pg_buf *b, const struct rt_call *call);

/* Rows staged, by kind (schema 008's referee.staged). */
struct pgs_staged {
    long rated, relabel, reject, pending, duplicate;
};

struct pgs_stage;
/* Creates the run's staging table (the connection is free). */
int pgs_stage_new(struct pgs_stage **out, struct pgs_link *link,
                  const struct pgs_facts *f, struct cdr_diag *d);
/* A rated call, or (relabel_only) a stored parent's new leg and scenario. */
int pgs_stage_call(struct pgs_stage *st, const struct rt_call *c,
                   struct cdr_diag *d);
int pgs_stage_reject(struct pgs_stage *st, const struct rt_reject *r,
                     struct cdr_diag *d);
int pgs_stage_pending(struct pgs_stage *st, const struct cdr_record *rec,
                      struct cdr_diag *d);
/* A call of the direct load rated by run dup_run; file_index -1 for a
 * child, name_index its file's entry in the facts' files. */
int pgs_stage_duplicate(struct pgs_stage *st, const char *sid, size_t sid_len,
                        long file_index, long name_index, long line,
                        long dup_run, struct cdr_diag *d);
/* Send what is staged and end the COPY: the connection is then free, the
 * loader's job (if any) done, *conn (may be NULL) it. */
int pgs_stage_close(struct pgs_stage *st, PGconn **conn, struct cdr_diag *d);
const struct pgs_staged *pgs_stage_counts(const struct pgs_stage *st);
/* Drop what is staged, abort a COPY in progress (the loader's job done). */
void pgs_stage_free(struct pgs_stage *st);

/* ---- rt_sink_pg_store.c: reads of the store -------------------------- */

int pgs_store_file_seen(struct pgs_stage *st, const char *sha256, int *seen,
                        struct cdr_diag *d);
/* *fed: rows handed to fn. */
int pgs_store_pending(struct pgs_stage *st, rt_row_fn fn, void *ctx, long *fed,
                      struct cdr_diag *d);
int pgs_store_parents(struct pgs_stage *st, const struct cdr_slice *sids,
                      size_t n, rt_row_fn fn, void *ctx, struct cdr_diag *d);
int pgs_store_calls(struct pgs_stage *st, int64_t from, int64_t to,
                    rt_row_fn fn, void *ctx, struct cdr_diag *d);

/* ---- rt_sink_pg_load.c: the loader's job ------------------------------ */

/* A rated call of an input file, loaded straight into the final tables:
 * where its text is in the batch buffers. */
struct pgs_batch_row {
    size_t sid_off, sid_len;   /* in sids */
    size_t call_off, call_end; /* in calls */
    size_t ch_off, ch_end;     /* in charges */
    int64_t start_time;
    long file_index, line; /* file_index: -1 for a child */
    long name_index;       /* facts->files[] entry of its file name */
    long dup_run;          /* >0: rated by that earlier run (the load's) */
    int target;            /* -1: the partitioned tables; else a month (the
                              load's) */
    int scn, n_comp;
    i128 amount_nano;
};

/* One batch of the direct load: filled by the driver's thread, loaded by
 * the loader's (pgs_load_batch, a pgs_job_fn on it). */
struct pgs_batch {
    struct pgs_load *load;
    struct pgs_batch_row *rows;
    size_t n, cap;
    struct rt_pg_buf sids, calls, charges; /* COPY rows, binary */
    struct rt_pg_buf tmp;                  /* the load's */
};

struct pgs_load;
/* At begin: must the sids be checked; if not, the empty register loses
 * its key for the run. */
int pgs_load_new(struct pgs_load **out, const struct pgs_facts *f, PGconn *conn,
                 struct cdr_diag *d);
int pgs_load_batch(void *batch, PGconn *conn, struct cdr_diag *d);
/* 1: no earlier run stored a call (the register has no key to look in). */
int pgs_load_register_empty(const struct pgs_load *ld);
/* At commit: the register's key built, the loaded months attached. */
int pgs_load_attach(struct pgs_load *ld, PGconn *conn, struct cdr_diag *d);
void pgs_load_free(struct pgs_load *ld);

/* ---- rt_sink_pg_direct.c: the direct load ---------------------------- */

/* What the direct load stored, and the duplicates it found. */
struct pgs_direct_sums {
    long calls, components, duplicates;
    long comp[RT_SCN_COUNT];
    i128 nano[RT_SCN_COUNT];
};

struct pgs_direct;
/* At begin, in the run's transaction: must its sids be checked, which
 * sids are pending, is the register empty (then without its key). */
int pgs_direct_new(struct pgs_direct **out, const struct pgs_facts *f,
                   struct pgs_link *link, struct pgs_stage *st,
                   struct cdr_diag *d);
/* *taken 1: the call went into the direct batch; 0: not eligible (stage
 * it). */
int pgs_direct_call(struct pgs_direct *dl, const struct rt_call *c, int *taken,
                    struct cdr_diag *d);
/* At commit: the last batch loaded and its duplicates staged. */
int pgs_direct_finish(struct pgs_direct *dl, struct cdr_diag *d);
/* Then, the connection free: the register's key built and the loaded
 * months attached, before the merge uses them. */
int pgs_direct_attach(struct pgs_direct *dl, struct cdr_diag *d);
/* 1: no earlier run stored a call (the register has no key to look in). */
int pgs_direct_register_empty(const struct pgs_direct *dl);
const struct pgs_direct_sums *pgs_direct_sums(const struct pgs_direct *dl);
/* Per file index (*n of them: the files at begin): 0 not recorded, >0
 * its id, -1 none (no content hash, or its content already recorded by
 * this run). */
const long *pgs_direct_file_ids(const struct pgs_direct *dl, size_t *n);
void pgs_direct_free(struct pgs_direct *dl);

/* ---- rt_sink_pg_merge.c: commit -------------------------------------- */

/* Sums of the rated calls (staged or direct), per scenario, kept as they
 * are handed over so that commit need not scan staging again when
 * nothing was dropped. */
struct pgs_rated {
    long n;
    long comp[RT_SCN_COUNT];
    int64_t nano[RT_SCN_COUNT];
    int overflow;
    int64_t min_start, max_start;
};

/* What the merge is told of the run. */
struct pgs_merge_in {
    const struct rt_summary *sum;
    const struct pgs_staged *staged;
    const struct pgs_rated *rated;
    const struct pgs_direct_sums *direct; /* NULL: no direct load */
    const long *direct_file_ids;          /* NULL: none */
    size_t n_direct_file_ids;
    char (*seen)[65]; /* sha256s file_seen said loaded */
    size_t n_seen;
    long pending_fed; /* rows stored_pending handed out; -1: not asked */
};

/* The merge of staging into the final tables, the run's files and its
 * totals, in the run's transaction (the connection free). */
int pgs_merge(PGconn *conn, const struct pgs_facts *f,
              const struct pgs_merge_in *in, struct rt_store_report *rep,
              struct cdr_diag *d);

#endif

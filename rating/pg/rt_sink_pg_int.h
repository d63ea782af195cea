/*
 * Inside the PostgreSQL sink: the sink's state and the functions its files
 * share, split by job: rt_sink_pg.c (the ops: begin, rows, commit, abort),
 * rt_sink_pg_copy.c (staging rows, COPY text), rt_sink_pg_direct.c (the
 * direct load and its loader thread), rt_sink_pg_store.c (reads of the
 * store) and rt_sink_pg_merge.c (commit's merge).  Not for other modules:
 * they use rating/rt_sink_pg.h.
 */
#ifndef REFEREE_RT_SINK_PG_INTERNAL_H
#define REFEREE_RT_SINK_PG_INTERNAL_H

#include "rating/pg/rt_pg.h"
#include "rating/run/rt_sink.h"
#include "rating/pg/rt_sink_pg.h"

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

struct file_copy {
    char *path;
    char sha256[65];
    uint64_t size;
    long rows;
    int skipped;
};

__extension__ typedef __int128 i128;
__extension__ typedef unsigned __int128 u128;

/* A rated call of an input file, loaded straight into the final tables:
 * where its text is in the batch buffers. */
struct direct_row {
    size_t sid_off, sid_len;   /* in d_sids */
    size_t call_off, call_end; /* in d_calls */
    size_t ch_off, ch_end;     /* in d_charges */
    int64_t start_time;
    long file_index, line; /* file_index: -1 for a child */
    long name_index;       /* s->files[] entry of its file name */
    long dup_run;          /* >0: rated by that earlier run */
    int target;            /* -1: the partitioned tables; else months[] */
    int scn, n_comp;
    i128 amount_nano;
};

/* A month loaded as a detached table: UTC year * 12 + month - 1, and the
 * partition suffix (yYYYYmMM). */
struct loaded_month {
    int key;
    char suffix[16];
};

/* One batch of the direct load: its rows and their COPY data. */
struct direct_batch {
    struct direct_row *rows;
    size_t n, cap;
    struct rt_pg_buf sids, calls, charges, tmp;
    int rc;               /* of its load */
    struct cdr_diag diag; /* of its load */
};

struct pg_sink {
    PGconn *conn;
    int in_tx, in_copy;
    struct rt_pg_buf buf;
    char run_id[24];
    long run_num; /* run_id as a number */
    enum rt_run_kind kind;
    int force;
    int decimals;
    char *deck_name, *currency;
    struct file_copy *files;
    size_t n_files;
    /* The driver's array: final sha256/size/rows are read at commit. */
    const struct rt_input_file *run_files;
    char (*seen)[65];            /* sha256s file_seen answered "loaded" for */
    struct rt_store_report last; /* of the last committed run */
    /* Of the staged C rows, so commit need not scan them again. */
    long scn_components[RT_SCN_COUNT];
    int64_t scn_nano[RT_SCN_COUNT];
    int sums_overflow;
    int64_t min_start, max_start;
    long n_rated, n_relabel, n_reject, n_pending;
    long pending_fed; /* rows stored_pending handed out; -1: not asked */
    int has_last;
    int failed; /* an op of this run failed: commit refuses */
    size_t n_seen, cap_seen;

    /* Direct load (a rate run without --force): rated calls of input files
     * go in batches straight into call_sids, calls and charges by COPY;
     * each batch's sids are first looked up in call_sids (calls rated by
     * an earlier run are dropped and listed as duplicates).  Everything
     * else (rows re-fed from the store, relabels, rejects, pending, sids
     * still pending from earlier runs) goes through staging as before. */
    int direct;
    int check_dups;   /* call_sids had rows at begin */
    long *file_ids;   /* per file index: 0 unknown, >0 id, -1 NULL */
    char **pend_sids; /* sids pending at begin, sorted (memcmp) */
    size_t n_pend_sids;
    /* The driver fills cur while the loader thread loads fly (the
     * connection is the loader's until pgs_loader_wait takes fly back: the
     * server loads one batch while the driver rates the next). */
    struct direct_batch bat[2];
    struct direct_batch *cur, *fly;
    pthread_t loader;
    int loader_on, loader_busy, loader_quit;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    long n_direct_calls, n_direct_comp, n_ddup;
    long dst_comp[RT_SCN_COUNT]; /* stored by the direct load */
    i128 dst_nano[RT_SCN_COUNT];
    int has_cov; /* months known to be open for [cov_lo, cov_hi] */
    /* Months this run loads as detached tables, without indexes (schema
     * 005: open_months, attach_loaded): their rows are COPYed to the
     * month's own tables, the others through the partitioned ones. */
    struct loaded_month *months;
    size_t n_months, cap_months;
    int reg_unindexed; /* call_sids was empty: its key is built at commit */
    int64_t cov_lo, cov_hi;
};

/* rt_sink_pg.c */
char *pgs_dup_str(const char *s);

/* rt_sink_pg_copy.c: names */
int pgs_is_decimal(const char *p, size_t n);
int pgs_parse_long(const char *s, long *out);

/* rt_sink_pg_copy.c: staging rows (COPY) */
int pgs_copy_open(struct pg_sink *s, struct cdr_diag *d);
int pgs_copy_close(struct pg_sink *s, const char *errmsg, struct cdr_diag *d);
int pgs_row_done(struct pg_sink *s, struct cdr_diag *d);
void pgs_copy_slice(struct rt_pg_buf *b, struct cdr_slice v);
void pgs_copy_opt_numeric(struct rt_pg_buf *b, struct cdr_slice v);
void pgs_copy_opt(struct rt_pg_buf *b, struct cdr_slice v);
void pgs_copy_nulls(struct rt_pg_buf *b, int n);
void pgs_copy_parties(struct rt_pg_buf *b, const struct cdr_record *r);
void pgs_copy_outcome(struct rt_pg_buf *b, const struct cdr_record *r);
int pgs_copy_record(struct pg_sink *s, const char *kind,
                    const struct cdr_record *r, struct cdr_diag *d);
void pgs_copy_file_pos(struct pg_sink *s, long file_index, const char *file,
                       long line);
void pgs_copy_component_to(struct rt_pg_buf *b, int decimals,
                           const struct rt_component *c);
void pgs_copy_component(struct pg_sink *s, const struct rt_component *c);
long pgs_file_index_of(const struct pg_sink *s, const char *path);

/* rt_sink_pg_direct.c: the direct load and the loader thread */
void pgs_batch_reset(struct direct_batch *bt);
void pgs_batch_free(struct direct_batch *bt);
void pgs_free_direct(struct pg_sink *s);
int pgs_direct_setup(struct pg_sink *s, struct cdr_diag *d);
struct direct_batch *pgs_loader_idle(struct pg_sink *s);
int pgs_loader_wait(struct pg_sink *s, struct cdr_diag *d);
void pgs_loader_stop(struct pg_sink *s);
int pgs_direct_send(struct pg_sink *s, struct cdr_diag *d);
int pgs_direct_call(struct pg_sink *s, const struct rt_call *c, int *taken,
                    struct cdr_diag *d);

/* rt_sink_pg_store.c: reads of the store (self: a struct pg_sink) */
int pgs_file_seen_impl(void *self, const char *sha256, int *seen,
                       struct cdr_diag *d);
int pgs_stored_pending_impl(void *self, rt_row_fn fn, void *ctx,
                            struct cdr_diag *d);
int pgs_stored_parents_impl(void *self, const struct cdr_slice *sids, size_t n,
                            rt_row_fn fn, void *ctx, struct cdr_diag *d);
int pgs_stored_calls_impl(void *self, int64_t from, int64_t to, rt_row_fn fn,
                          void *ctx, struct cdr_diag *d);

/* rt_sink_pg_merge.c: commit */
int pgs_step(struct pg_sink *s, const char *sql, int nparams,
             const char *const *params, const char *what, long *affected,
             struct cdr_diag *d);
int pgs_merge(struct pg_sink *s, const struct rt_summary *sum,
              struct rt_store_report *rep, struct cdr_diag *d);

#endif

/*
 * Where a run's results go.  The batch driver calls, in this order:
 * begin, then any mix of call / reject / pending, then commit (or abort on
 * any failure).  A sink makes the run's output visible only at commit:
 * the CSV folder renames its temporary files, PostgreSQL commits its one
 * transaction.  Every struct passed in is borrowed for the call only,
 * except begin's run info (and the files it points to), which stays valid
 * until commit or abort returns; file sha256/size/rows are final by commit.
 */
#ifndef REFEREE_RT_SINK_H
#define REFEREE_RT_SINK_H

#include "cdr/util/cdr_diag.h"
#include "cdr/record/cdr_record.h"
#include "rating/deck/rt_deck.h"

#include <stddef.h>
#include <stdint.h>

enum rt_leg {
    RT_LEG_SINGLE = 0,
    RT_LEG_PARENT,
    RT_LEG_CHILD,
};
const char *rt_leg_name(enum rt_leg l); /* "single" "parent" "child" */

enum rt_scenario {
    RT_SCN_NONE = 0,
    RT_SCN_TERMINATION_SIP,
    RT_SCN_TERMINATION_PSTN,
    RT_SCN_ORIGINATION_SIP,
    RT_SCN_ORIGINATION_PSTN,
};
#define RT_SCN_COUNT 5
const char *rt_scenario_name(enum rt_scenario s); /* "termination-sip" ... */

/* A component priced by one deck: the carrier's (the cost) or a plan's
 * (the sell price). */
struct rt_side {
    char matched[40]; /* prefix digits or "sip"; "" without a rate */
    int64_t rate_nano;
    const char *rate_text;    /* as in the deck */
    int64_t billable_seconds; /* after increments; 0 when not billed */
    int64_t amount_nano;      /* rounded to the deck's decimals, fees in */
};

/* One charge component: rate x duration for one service. */
struct rt_component {
    int index; /* 1 or 2 */
    enum rt_service service;
    struct cdr_slice from, to; /* the x -> y of Term(x->y) / Orig(x->y) */
    char matched[40];          /* prefix digits or "sip" */
    int64_t rate_nano;
    const char *rate_text;    /* as in the deck */
    int64_t duration;         /* seconds of the leg */
    int64_t billable_seconds; /* after increments; 0 when not billable */
    int64_t amount_nano;      /* rounded to the deck's decimals */
    struct rt_side sell;      /* the plan's price, when there are plans */
};

/* An accepted call and its components (0 when not rated, e.g. pending). */
struct rt_call {
    const struct cdr_record *rec;
    enum rt_leg leg;
    enum rt_scenario scenario;
    int n_components;
    struct rt_component comp[2];
    long file_index; /* into rt_run_info.files; -1 for stored rows */
    /* The plan that priced the sell side, NULL without plans; its deck
     * gives the sell currency and decimals. */
    const char *plan;
    const struct rt_deck *plan_deck;
    /* A child: the number its target was shown, by the trunk's
     * caller_id_for_target (the transferee's by default); else empty. */
    struct cdr_slice target_caller_id;
    /* 1 when this parent was rated in an earlier run (found in the sink's
     * store for a child of this run): only its leg and scenario change. */
    int relabel_only;
};

struct rt_input_file {
    const char *path; /* as given ("-" for stdin) */
    char sha256[65];  /* hex */
    uint64_t size;    /* bytes read */
    long rows;        /* data rows */
    int skipped;      /* already loaded by an earlier run: not read */
};

enum rt_run_kind {
    RT_RUN_RATE = 0, /* rate input files */
    RT_RUN_RERATE,   /* re-price stored calls of [rerate_from, rerate_to) */
};

struct rt_run_info {
    enum rt_run_kind kind;
    int force; /* --force: rate files again, replacing earlier results */
    int64_t rerate_from, rerate_to;
    const char *deck_name, *deck_sha256, *currency;
    int decimals;
    const char *plans_sha256; /* NULL: no plans */
    const char *plans_path;   /* as given; NULL: no plans or not known */
    /* Borrowed until commit or abort (unlike everything else): the driver
     * fills in sha256, size, rows and skipped while it reads, and a sink
     * with a store records them at commit. */
    const struct rt_input_file *files;
    size_t n_files;
    int64_t started_at; /* epoch seconds */
};

/* A record (or file-level problem) not rated. */
struct rt_reject {
    const char *file;
    long line;
    struct cdr_slice sid; /* may be empty */
    const char *field;    /* may be "" */
    const char *reason;   /* message with value */
    struct cdr_slice raw; /* the raw CSV record, may be empty */
    int code;             /* CDR_E_* */
};

struct rt_totals {
    const char *currency;
    enum rt_scenario scenario;
    long components;
    int64_t amount_nano;
};

/* What a sink with a store found at commit that the driver cannot know:
 * call sids already rated by an earlier run are not stored again (they are
 * listed in the store's rejects), so its counts may be lower. */
struct rt_store_report {
    long run_id;            /* the store's id of this run */
    long calls, components; /* rows stored by this run */
    long duplicates;        /* sids rated by an earlier run: not stored */
    long superseded;        /* charge rows replaced (--force, rerate) */
    long skipped_files;     /* files already loaded: skipped */
    int64_t total_nano;     /* of the charges stored by this run */
};

/* What a run noticed and still rated (rating/README.md, "Warnings"). */
struct rt_warnings {
    long child_late;          /* a child starting > 1 day after its parent */
    long child_other_account; /* a child on another account than its parent */
    long price_precise;       /* carrier price with > 9 places, kept */
    long price_unreadable;    /* carrier price not a decimal, dropped */
};

/* The sell side's total in one currency: the sum of every component's
 * sell amount, exact; decimals is the most any plan in it uses. */
struct rt_sell_total {
    char currency[4];
    int decimals;
    long components;
    int64_t amount_nano;
};
#define RT_MAX_SELL_CURRENCIES 32

struct rt_summary {
    long rows_read, calls, components, rejects, pending, duplicates;
    struct rt_warnings warnings;
    struct rt_sell_total sell[RT_MAX_SELL_CURRENCIES]; /* with plans */
    size_t n_sell;
    long skipped_files;
    int64_t total_nano;                    /* in the deck's currency */
    struct rt_totals totals[RT_SCN_COUNT]; /* per scenario that occurred */
    size_t n_totals;
    int64_t elapsed_ms; /* wall time of the run (to commit, in the sink;
                           with it, in the caller's copy) */
    /* Optional (NULL: as given to begin): the input files with their final
     * sha256, size and rows, when the driver learns them while reading. */
    const struct rt_input_file *files;
    size_t n_files;
    /* Optional out (NULL: not wanted): filled by commit of a sink with a
     * store.  Add report->duplicates to the printed duplicates. */
    struct rt_store_report *store;
};

/* Rows handed back from a sink's store go through the same validation as
 * input rows.  row is borrowed for the call. */
typedef int (*rt_row_fn)(void *ctx, const struct cdr_row *row,
                         struct cdr_diag *d);

struct rt_sink_ops {
    int (*begin)(void *self, const struct rt_run_info *run, struct cdr_diag *d);
    int (*call)(void *self, const struct rt_call *call, struct cdr_diag *d);
    int (*reject)(void *self, const struct rt_reject *rej, struct cdr_diag *d);
    /* A child whose parent is not in this run; rec is its validated record
     * and raw the row it came from (for re-feeding as input). */
    int (*pending)(void *self, const struct cdr_record *rec,
                   struct cdr_diag *d);
    int (*commit)(void *self, const struct rt_summary *sum, struct cdr_diag *d);
    void (*abort)(void *self);
    void (*free)(void *self);

    /* Optional: NULL in sinks without a store (the CSV folder). Called
     * between begin and commit. */

    /* Was a file with this sha256 (hex) loaded by an earlier committed run? */
    int (*file_seen)(void *self, const char *sha256, int *seen,
                     struct cdr_diag *d);
    /* Every child left pending by earlier runs, as rows; the driver links
     * them like input (the sink removes those rated or re-pended). */
    int (*stored_pending)(void *self, rt_row_fn fn, void *ctx,
                          struct cdr_diag *d);
    /* Stored (already rated) calls with these sids, as rows: parents for
     * children whose parent is not in this run's input. */
    int (*stored_parents)(void *self, const struct cdr_slice *sids, size_t n,
                          rt_row_fn fn, void *ctx, struct cdr_diag *d);
    /* Re-rating: every stored call that starts in [from, to), with the
     * parents and children linked to them, as rows. */
    int (*stored_calls)(void *self, int64_t from, int64_t to, rt_row_fn fn,
                        void *ctx, struct cdr_diag *d);
};

struct rt_sink {
    const struct rt_sink_ops *ops;
    void *self;
};

#endif

/*
 * The batch driver: read every input, validate, link children to parents,
 * classify, price, and hand calls, rejects and pending children to a sink,
 * then commit — or abort, leaving the sink's earlier state untouched.
 */
#ifndef REFEREE_RT_BATCH_H
#define REFEREE_RT_BATCH_H

#include "cdr/util/cdr_diag.h"
#include "rating/deck/rt_deck.h"
#include "rating/deck/rt_plans.h"
#include "rating/run/rt_sink.h"

#include <stddef.h>
#include <stdint.h>

struct rt_batch_opts {
    const struct rt_deck *deck; /* borrowed: the carrier's, the cost */
    const char *deck_sha256;    /* hex */
    /* Borrowed, NULL without: each leg's sell price from the plan of its
     * own account at its start. */
    const struct rt_plans *plans;
    const char *plans_sha256; /* hex, with plans */
    const char *plans_path;   /* as given, with plans (a store records it) */
    struct rt_sink *sink;     /* borrowed; the driver calls begin..commit */
    long max_rejects;         /* fail the run above this; < 0: no limit */
    int progress;             /* progress line on stderr */
    int force;
    enum rt_run_kind kind;
    int64_t rerate_from, rerate_to;
    /* Told of each input an earlier run already loaded (not read). */
    void (*on_skip)(void *ctx, const struct rt_input_file *f);
    void *ctx;
};

/*
 * Rate paths[0..n) ("-" is standard input).  0 when the sink committed;
 * otherwise a negative CDR_E_* with d filled, and the sink aborted.
 * sum (may be NULL) gets the counts either way.
 */
int rt_batch_run(const struct rt_batch_opts *o, const char *const *paths,
                 size_t n, struct rt_summary *sum, struct cdr_diag *d);

#endif

/*
 * The tracker: SIP messages in (as a cap_message_fn), call records out.
 *
 * It follows INVITE dialogs that touch a configured trunk, the REFERs inside
 * them, their responses and NOTIFYs, and links the INVITE the carrier sends
 * to the transfer target back to its parent.  A record is handed to the
 * record callback once it is final:
 *   - a call without transfer when it ends (BYE, CANCEL, final failure);
 *   - a parent when it has ended and its transfer is resolved (refused,
 *     failed, completed, attended) or the transfer window has passed;
 *   - an observed child when it ends;
 *   - an unobserved child (no INVITE to the target on this wire) when its
 *     parent is written and the NOTIFYs said the target answered.
 * All times are capture times, so a pcap file read offline gives the same
 * records as the live capture did.
 */
#ifndef REFEREE_CAP_TRACKER_H
#define REFEREE_CAP_TRACKER_H

#include "cdr/capture/track/cap_config.h"
#include "cdr/capture/source/cap_packet.h"
#include "cdr/record/cdr_record.h"

#include <stddef.h>
#include <stdint.h>

/*
 * Records are struct cdr_record (cdr/record/cdr_record.h), the one record
 * type of both programs.  Its slices point into the tracker's own strings
 * (NUL-terminated, "" when empty; account_sid, price and price_unit always
 * empty) and are borrowed for the duration of the callback only.
 * status_text is cdr_status_name(status); has_duration is 0 where the
 * capture does not know the length (an unobserved leg, a call still up),
 * as is has_end_time; file is NULL, line 0.
 * Returns 0, or a negative value to stop the capture (e.g. disk full).
 */
typedef int (*cap_record_fn)(void *ctx, const struct cdr_record *r);

struct cap_tracker_opts {
    size_t max_dialogs;     /* default 200000 */
    int64_t invite_timeout; /* seconds without a final answer; default 300 */
    int64_t dialog_timeout; /* seconds an answered call may last without
                               BYE; default 14400 */
    int64_t xfer_window;    /* seconds after a REFER in which the INVITE to
                               the target is looked for, and in which a
                               transfer must resolve; default 120 */
    int64_t linger;         /* seconds a written call is kept to absorb
                               retransmissions; default 32 */
};
void cap_tracker_opts_default(struct cap_tracker_opts *o);

struct cap_stats {
    uint64_t messages; /* SIP messages handed in */
    uint64_t parse_errors;
    uint64_t ignored;         /* INVITEs that touch no configured trunk */
    uint64_t unmatched;       /* in-dialog messages of no followed dialog */
    uint64_t dialogs;         /* calls followed */
    uint64_t dialogs_dropped; /* not followed: max_dialogs reached */
    uint64_t dialogs_timed_out;
    uint64_t transfers;       /* REFERs seen in followed calls */
    uint64_t children_linked; /* INVITEs to a target linked to a parent */
    uint64_t records;         /* handed to the record callback */
    uint64_t open_dialogs;    /* now */
};

struct cap_tracker;

/*
 * cfg is borrowed and must outlive the tracker.  emit is called with every
 * final record.  NULL on allocation failure.
 */
struct cap_tracker *cap_tracker_new(const struct cap_config *cfg,
                                    const struct cap_tracker_opts *opts,
                                    cap_record_fn emit, void *emit_ctx);
void cap_tracker_free(struct cap_tracker *t); /* NULL is a no-op */

/*
 * A cap_message_fn: ctx is the struct cap_tracker.  Returns 0, or the
 * negative value of the record callback that failed.
 */
int cap_tracker_message(void *ctx, const struct cap_meta *meta,
                        const uint8_t *data, size_t len);

/* Expire what is due at capture time now (live capture calls this when
 * idle).  0 or the callback's error. */
int cap_tracker_tick(struct cap_tracker *t, int64_t now_sec);

/*
 * Shutdown: write every call still open as status in-progress (an answered
 * call: start and answer known, no end) and every pending transfer with what
 * is known, so nothing is silently lost.  The tracker is empty afterwards.
 */
int cap_tracker_flush(struct cap_tracker *t);

const struct cap_stats *cap_tracker_stats(const struct cap_tracker *t);

/*
 * State file: the calls still open at shutdown (and their transfers), so a
 * restarted capture resumes them instead of writing them as in-progress.
 * save writes path atomically (temporary name, fsync, rename) and empties
 * the tracker of open calls without writing records; on failure nothing is
 * removed (flush them instead).  load resumes the calls of path (open calls
 * whose trunk is no longer configured keep an empty trunk_sid) and returns
 * the number resumed, or a negative CDR_E_* code with d naming the file,
 * line and field (CDR_E_CSV: not a state file of this version, or
 * malformed; CDR_E_LIMIT: more calls than max_dialogs; CDR_E_IO); the
 * calls of the rows before the one refused stay resumed.  The file is CSV
 * with a header row, one row per open call, each with state_version 2
 * (see cap_state.c); the tab-separated version 1 file written before it
 * is read too (cap_state_v1.c), so an upgrade resumes its calls.
 */
int cap_tracker_save(struct cap_tracker *t, const char *path,
                     struct cdr_diag *d);
int cap_tracker_load(struct cap_tracker *t, const char *path,
                     struct cdr_diag *d);

/*
 * The record form of an address (From, To, Refer-To): the user part as
 * E.164 ("+14155550100") when it is one ('+' and 1..15 digits, visual
 * separators dropped), else the URI without <> and header parameters.
 * Writes a NUL-terminated string into buf; -1 if it does not fit or the
 * URI is malformed.
 */
int cap_record_addr(const char *uri, size_t n, char *buf, size_t size);

#endif

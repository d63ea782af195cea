/*
 * The tracker's insides, shared by its files (private to track/ and the
 * unit tests):
 *   cap_tracker.c   life cycle, dispatch of each message, call states and
 *                   expiry
 *   cap_transfer.c  transfer matching: the REFER, its responses and
 *                   NOTIFYs, pending transfers, the INVITE to the target
 *                   linked back to its parent
 *   cap_record.c    what a dialog and its transfer become as a record, and
 *                   when it is written
 *   cap_state.c     the state file (open calls kept across a restart)
 *   cap_state_v1.c  the state file as referee-capture wrote it before 2026-12
 */
#ifndef REFEREE_CAP_TRACK_INT_H
#define REFEREE_CAP_TRACK_INT_H

#include "cdr/capture/sip/cap_sip.h"
#include "cdr/capture/track/cap_dialog.h"
#include "cdr/capture/track/cap_tracker.h"
#include "cdr/util/cdr_hash.h"

#include <stddef.h>
#include <stdint.h>

#define CAP_US 1000000

struct cap_pending_key;

/* A REFER of a followed call and what is known of its outcome.  Owned by
 * its parent dialog (d->xfer). */
struct cap_transfer {
    struct cap_transfer *pprev, *pnext; /* pending list: awaiting a child */
    struct cap_transfer *kprev, *knext; /* same, among those to its target */
    struct cap_pending_key *pk;         /* those, while pending */
    int in_pending;
    struct cap_dialog *parent; /* the owner */
    char *target_uri;     /* Refer-To URI without ?headers (transfer_target) */
    char *target_rec;     /* record form of the target (the child's "to") */
    char *target_key;     /* matching key: digits of a number, or the user */
    char *referred_by;    /* the REFER's Referred-By URI, or NULL */
    char *transferee_key; /* the caller ID the child should present */
    uint32_t cseq;
    int64_t t_refer_us, t_accept_us;
    struct cap_addr refer_src, refer_dst;
    int refer_final; /* final response to the REFER, 0 if none yet */
    int accepted;    /* 2xx to the REFER, or a NOTIFY */
    int norefersub;  /* Refer-Sub: false: no NOTIFY will come */
    int attended, no_user, bad;
    int sipfrag_final; /* last final status line from a NOTIFY, 0 if none */
    int sub_terminated;
    int64_t t_final_us; /* the first final NOTIFY; 0 if none (or restored) */
    int child_seen;
    int child_code; /* observed child: 200 answered, >= 300 failed */
};

struct cap_tracker {
    const struct cap_config *cfg;
    struct cap_tracker_opts o;
    cap_record_fn emit;
    void *emit_ctx;
    struct cap_dialog_table *tab;
    struct cap_transfer *phead, *ptail; /* pending, by REFER time */
    /* pending again, by target key (struct cap_pending_key *, each a list
       in REFER order): a new INVITE looks at those to its target only */
    struct cdr_hmap pending;
    struct cap_stats st;
    /* now_us: the clock for timeouts, never steps back (capture times and
       the source's ticks); ev_us: the time of the message being handled,
       used for the call's own times so a late tick or a reordered packet
       does not stretch a duration. */
    int64_t now_us, ev_us, next_sweep_us;
    struct cap_sip_msg msg; /* big: kept here, not on the stack */
};

/* ---- cap_tracker.c ---- */

/* A new dialog in class cls (the oldest written call makes room when the
 * table is full); NULL and counted as dropped when there is none. */
struct cap_dialog *cap_track_add_dialog(struct cap_tracker *t,
                                        struct cdr_slice cid,
                                        enum cap_dialog_class cls);
/* Forget d and its transfer. */
void cap_track_remove_dialog(struct cap_tracker *t, struct cap_dialog *d);

/* ---- cap_transfer.c ---- */

void cap_xfer_free(struct cap_transfer *x); /* NULL is a no-op */
/* Free the pending index (the transfers are their dialogs'). */
void cap_xfer_pending_free(struct cap_tracker *t);
/* Take x off the pending lists (no-op if it is not there). */
void cap_xfer_pending_remove(struct cap_tracker *t, struct cap_transfer *x);
/* Put x (with a target_key) on the pending lists, at their ends; out of
 * memory, it stays off them (no child is looked for, the NOTIFYs still
 * give its outcome). */
void cap_xfer_pending_append(struct cap_tracker *t, struct cap_transfer *x);
/* Is the outcome of x known (its parent may be written)? */
int cap_xfer_resolved(const struct cap_transfer *x);
/* The pending transfer a new INVITE is the child of, or NULL. */
struct cap_transfer *cap_xfer_match_child(struct cap_tracker *t,
                                          const struct cap_meta *meta,
                                          const struct cap_sip_msg *m);
/* Make the new dialog d the child of x's parent. */
void cap_xfer_link_child(struct cap_tracker *t, struct cap_dialog *d,
                         struct cap_transfer *x, const struct cap_sip_msg *m);
/* The observed child's outcome (200, or a final failure) resolves its
 * parent's transfer.  0 or the record callback's error. */
int cap_xfer_child_outcome(struct cap_tracker *t, struct cap_dialog *child,
                           int code);
/* A REFER, its final response, a NOTIFY in d's dialog or in a dialog of
 * its own.  0 or the record callback's error. */
int cap_xfer_refer(struct cap_tracker *t, struct cap_dialog *d,
                   const struct cap_meta *meta, const struct cap_sip_msg *m);
int cap_xfer_refer_response(struct cap_tracker *t, struct cap_dialog *d,
                            const struct cap_sip_msg *m);
/* Is m a NOTIFY about a refer subscription?  Fills *id (0 if none). */
int cap_xfer_is_refer_notify(const struct cap_sip_msg *m, uint32_t *id);
int cap_xfer_notify(struct cap_tracker *t, struct cap_dialog *d,
                    const struct cap_sip_msg *m, uint32_t id);
int cap_xfer_notify_new_dialog(struct cap_tracker *t,
                               const struct cap_meta *meta,
                               const struct cap_sip_msg *m,
                               struct cdr_slice cid, uint32_t id);

/* ---- cap_record.c ---- */

/* cdr_number_digits of a user part up to its first ';' ("1-415-555-0100").
 * Returns the count, or -1 if anything but digits and visual separators is
 * there. */
int cap_rec_number_digits(const char *p, size_t n, char *buf, size_t size);
/* The record form (cap_record_addr) of the first name-addr of hdr, else of
 * fallback_uri; a string for the caller to free, or NULL. */
char *cap_rec_addr_dup(struct cdr_slice hdr, struct cdr_slice fallback_uri);
/* The child's "to" for a Refer-To URI u (its text uri) of d's transfer. */
int cap_rec_target(const struct cap_tracker *t, const struct cap_dialog *d,
                   const struct cap_sip_uri *u, struct cdr_slice uri, char *buf,
                   size_t size);
/* transfer_status of x ("completed", "failed 486" ...). */
void cap_rec_xfer_status(const struct cap_transfer *x, char *buf, size_t size);
/* Write d's record (and an unobserved child), then let d linger. */
int cap_rec_emit_call(struct cap_tracker *t, struct cap_dialog *d);
/* Write d if it ended and its transfer (if any) is resolved; else a parent
 * that ended waits for its transfer. */
int cap_rec_maybe_finish(struct cap_tracker *t, struct cap_dialog *d);

/* ---- cap_state.c, cap_state_v1.c ---- */

/* The configured trunk's own sid for sid, or NULL when it is no longer
 * configured (the restored call's record has an empty trunk_sid). */
const char *cap_state_trunk_of(const struct cap_tracker *t, const char *sid);
/* A new dialog for call_id in class cls with the fields of f and, if fx,
 * its transfer (on the pending lists if pending); f's and fx's strings
 * are taken over on success.  0, or CDR_E_NOMEM / CDR_E_LIMIT with diag
 * set (the caller adds the position). */
int cap_state_restore(struct cap_tracker *t, const char *call_id, int cls,
                      int64_t since, struct cap_dialog *f,
                      struct cap_transfer *fx, int pending,
                      struct cdr_diag *diag);
/* A transfer's numbers as both versions read them, checked: cseq,
 * refer time, accept time, refer_final, sipfrag_final, child_code. */
void cap_state_xfer_numbers(struct cap_transfer *x, const int64_t v[6]);
/* Free the strings of fields never restored. */
void cap_state_free_fields(struct cap_dialog *f, struct cap_transfer *fx);

/* The first line of a version 1 state file. */
#define CAP_STATE_V1_MAGIC "referee-capture-state 1"
/* Load a version 1 (tab-separated) state file: as cap_tracker_load. */
int cap_state_load_v1(struct cap_tracker *t, const char *path,
                      struct cdr_diag *d);

#endif

/*
 * The run's call store, for linking children to parents in one pass over any
 * number of files in any order.
 *
 * Every sid seen in the run is remembered (duplicates are caught across
 * files).  A call without parent_call_sid may still receive children later in
 * the run, so it is kept whole (compactly, in an arena) until the end.  A
 * child waits here only until its parent shows up; once rated it shrinks to
 * its sid.  Memory therefore grows with the calls that can still be a parent
 * and the children still waiting, not with the rows read.
 */
#ifndef REFEREE_CDR_LINK_H
#define REFEREE_CDR_LINK_H

#include "cdr/util/cdr_diag.h"
#include "cdr/record/cdr_record.h"

#include <stddef.h>
#include <stdint.h>

struct cdr_link;

enum cdr_link_kind {
    CDR_LINK_CALL = 1,      /* no parent_call_sid: kept whole */
    CDR_LINK_CHILD_WAITING, /* child whose parent is not known yet */
    CDR_LINK_CHILD_DONE,    /* child already handled: only its sid is kept */
};

/*
 * A stored record.  The fields are copies; cdr_link_record() rebuilds a
 * struct cdr_record pointing into it.  `mark` and `scenario` belong to the
 * caller (the rater keeps its labels there).
 */
struct cdr_link_call {
    uint8_t kind;     /* enum cdr_link_kind */
    uint8_t mark;     /* caller's flags */
    uint8_t scenario; /* caller's */
    uint8_t direction, status, has_end_time;
    uint32_t file_index;
    long line;
    int64_t start_time, end_time, duration;
    uint64_t label_key; /* caller's (the rater: which child labels a parent) */
    struct cdr_link_call *next_waiting; /* same parent, in arrival order */
    uint16_t len[CDR_COL__COUNT];
    char data[]; /* the text fields, back to back, in column order */
};

/* *out for the caller to free with cdr_link_free(). */
int cdr_link_new(struct cdr_link **out);
void cdr_link_free(struct cdr_link *l);

/* Size the sid table for about n calls up front (a hint: it still grows
 * past it).  0 or CDR_E_NOMEM. */
int cdr_link_reserve(struct cdr_link *l, size_t n);

/*
 * Store rec (kind CDR_LINK_CALL, or CDR_LINK_CHILD_WAITING for a child that
 * must wait).  CDR_E_DUPLICATE if its sid is already known (*out is then the
 * earlier entry when it is stored whole, NULL when only its sid is kept),
 * CDR_E_NOMEM, or 0.  A CDR_LINK_CHILD_WAITING entry is queued under its
 * parent_call_sid.
 */
int cdr_link_add(struct cdr_link *l, const struct cdr_record *rec,
                 enum cdr_link_kind kind, uint32_t file_index,
                 struct cdr_link_call **out);

/* Remember only the sid of a child handled at once (never stored whole).
 * CDR_E_DUPLICATE if known, CDR_E_NOMEM, or 0. */
int cdr_link_add_done(struct cdr_link *l, const struct cdr_slice *sid);

/* What is known of sid: 0 (nothing) or an enum cdr_link_kind. *out gets the
 * stored entry, NULL for CDR_LINK_CHILD_DONE or unknown.  out may be NULL. */
int cdr_link_find(const struct cdr_link *l, const char *sid, size_t n,
                  struct cdr_link_call **out);

/* Children waiting for parent sid, in arrival order (NULL if none); they
 * leave the queue but stay stored until cdr_link_done(). */
struct cdr_link_call *cdr_link_take_waiting(struct cdr_link *l,
                                            const char *parent_sid, size_t n);

/* A waiting child was handled: shrink it to its sid (c is freed on
 * success).  0 or CDR_E_NOMEM (c is then untouched). */
int cdr_link_done(struct cdr_link *l, struct cdr_link_call *c);

/* Visit the children still queued, in arrival order of their parent sid's
 * first child.  fn returns 0 to go on. */
int cdr_link_each_waiting(struct cdr_link *l,
                          int (*fn)(void *ctx, struct cdr_link_call *c),
                          void *ctx);

/* CDR_LINK_CALL entries in the order they were added. */
size_t cdr_link_call_count(const struct cdr_link *l);
struct cdr_link_call *cdr_link_call_at(const struct cdr_link *l, size_t i);

/* Rebuild a record from a stored entry; file is the caller's name for
 * file_index.  Slices borrow from c. */
void cdr_link_record(const struct cdr_link_call *c, const char *file,
                     struct cdr_record *out);

/* Field text of a stored entry. */
struct cdr_slice cdr_link_field(const struct cdr_link_call *c,
                                enum cdr_column col);

/* Bytes held (arena + waiting children + tables), for the summary. */
size_t cdr_link_memory(const struct cdr_link *l);

#endif

/*
 * Dialog table: the INVITE dialogs the tracker follows, by Call-ID.
 *
 * Bounded: at most max entries; each entry is one allocation plus its
 * strings, freed when the call has been written and its linger time is over.
 * Every entry sits in exactly one timeout class list (early, confirmed,
 * waiting for its transfer, lingering, alias); a class has one timeout, so
 * each list is sorted by deadline and expiry is a walk from its head: memory
 * does not grow with uptime and no sweep looks at live entries.
 */
#ifndef REFEREE_CAP_DIALOG_H
#define REFEREE_CAP_DIALOG_H

#include "cdr/capture/source/cap_packet.h"
#include "cdr/record/cdr_record.h"

#include <stddef.h>
#include <stdint.h>

enum cap_dialog_class {
    CAP_DC_EARLY,     /* INVITE seen, no final answer yet */
    CAP_DC_CONFIRMED, /* answered, no BYE yet */
    CAP_DC_WAIT_XFER, /* ended; its transfer is not resolved yet */
    CAP_DC_LINGER,    /* written; kept to absorb retransmissions */
    CAP_DC_ALIAS,     /* a NOTIFY dialog (RFC 7647) pointing at a parent */
    CAP_DC__COUNT
};

enum cap_call_state {
    CAP_CS_EARLY,      /* INVITE sent */
    CAP_CS_CHALLENGED, /* 401/407: the caller will retry with credentials */
    CAP_CS_CONFIRMED,  /* 200 to the INVITE */
    CAP_CS_ENDED,      /* BYE, CANCEL or a final failure */
};

struct cap_transfer; /* cap_track_int.h */

/*
 * One followed dialog.  Strings are owned by the entry (NUL-terminated,
 * bounded by CDR_MAX_SID / CAP_DIALOG_MAX_STR) and freed with it.
 */
#define CAP_DIALOG_MAX_STR 256

struct cap_dialog {
    /* table links: private to cap_dialog.c */
    struct cap_dialog *cprev, *cnext;
    uint64_t hash; /* cdr_hash of the Call-ID */
    enum cap_dialog_class cls;
    int64_t class_since_us; /* when it entered (or last touched) its class */

    char *call_id; /* in the entry's block, not freed on its own */
    size_t call_id_len;
    /* a call (every class but ALIAS) */
    enum cap_call_state state;
    enum cdr_status status; /* of the record; CDR_ST_NONE while open */
    int final_code;         /* final response to the INVITE, 0 if none */
    int direction;          /* CDR_DIR_TERMINATING / _ORIGINATING */
    const char *trunk_sid;  /* borrowed from the config */
    char *from, *to;        /* record form: E.164 or the URI */
    char *referred_by;      /* the INVITE's Referred-By URI, or NULL */
    uint32_t invite_cseq;
    int64_t t_invite_us, t_answer_us, t_end_us;
    /* still early: an ACK of a final response not seen (a lost 200, if a
     * BYE follows), a CANCEL waiting for the final response (0: none) */
    int64_t t_ack_us, t_cancel_us;
    struct cap_addr src, dst; /* of the initial INVITE */
    /* a child: the parent's Call-ID (owned), NULL otherwise */
    char *parent_sid;
    /* a parent: its transfer (owned), NULL if none */
    struct cap_transfer *xfer;
    int emitted;
    /* ALIAS: the parent's Call-ID is in parent_sid */
};

struct cap_dialog_table;

/* max: bound on entries (> 0).  NULL on allocation failure. */
struct cap_dialog_table *cap_dialog_table_new(size_t max);
/* Frees every entry (and its transfer through free_xfer). NULL: no-op. */
void cap_dialog_table_free(struct cap_dialog_table *t,
                           void (*free_xfer)(struct cap_transfer *));

/* Borrowed entry, or NULL. */
struct cap_dialog *cap_dialog_find(struct cap_dialog_table *t,
                                   const char *call_id, size_t n);
/*
 * New zeroed entry with a copy of call_id, in class cls since now_us.
 * NULL when the table is full or memory is short.  Owned by the table.
 */
struct cap_dialog *cap_dialog_add(struct cap_dialog_table *t,
                                  const char *call_id, size_t n,
                                  enum cap_dialog_class cls, int64_t now_us);
/* Move d to the tail of class cls (also restarts its timeout). */
void cap_dialog_set_class(struct cap_dialog_table *t, struct cap_dialog *d,
                          enum cap_dialog_class cls, int64_t now_us);
/* Unlink and free d (its transfer through free_xfer). */
void cap_dialog_remove(struct cap_dialog_table *t, struct cap_dialog *d,
                       void (*free_xfer)(struct cap_transfer *));
/* Oldest entry of a class (the next to expire), or NULL. */
struct cap_dialog *cap_dialog_oldest(struct cap_dialog_table *t,
                                     enum cap_dialog_class cls);
size_t cap_dialog_count(const struct cap_dialog_table *t);
size_t cap_dialog_max(const struct cap_dialog_table *t);

/* A bounded copy of n bytes as a NUL-terminated string (NULL if n > max
 * or out of memory).  For the caller to free. */
char *cap_strndup(const char *p, size_t n, size_t max);

#endif

/*
 * From a raw row to a validated record, or a diagnostic naming the field.
 */
#ifndef REFEREE_CDR_VALIDATE_H
#define REFEREE_CDR_VALIDATE_H

#include "cdr/util/cdr_diag.h"
#include "cdr/record/cdr_record.h"

/* Longest call accepted, in seconds (31 days); longer is taken as bad data. */
#define CDR_MAX_DURATION 2678400

/* How many seconds a duration may exceed end_time - start_time: the
 * capture rounds the talk time up and both times down (a shorter duration
 * is normal: the time before the answer is not talk time). */
#define CDR_DURATION_SLACK 1

/*
 * Checks, in this order, stopping at the first problem:
 * sid (required, <= CDR_MAX_SID), direction (required; trunking-terminating /
 * trunking-originating, '_' for '-' and any case accepted, others
 * CDR_E_BAD_DIRECTION), from and to (required; E.164, tel: or sip: URI),
 * start_time (required), end_time (optional), duration (optional whole
 * seconds >= 0; else end - start, which must not be negative; else 0),
 * status (optional; "unobserved" gives CDR_E_UNOBSERVED), price (optional
 * decimal), price_unit (optional, 3 letters), transfer_target (optional
 * address).  parent_call_sid, account_sid and trunk_sid, when given, are
 * checked like sid (printable ASCII, no spaces, <= CDR_MAX_SID; else
 * CDR_E_TOO_LONG / CDR_E_BAD_VALUE).  Spaces and tabs around every field are
 * trimmed.  Times before 1970 and durations over CDR_MAX_DURATION are
 * rejected.  On error rec holds what was checked so far (for CDR_E_UNOBSERVED
 * everything but price).  rec's slices borrow from row.  d gets file/line
 * from the row.
 */
int cdr_validate(const struct cdr_row *row, struct cdr_record *rec,
                 struct cdr_diag *d);

#endif

/*
 * From a raw row to a validated record, or a diagnostic naming the field.
 */
#ifndef REFEREE_CDR_VALIDATE_H
#define REFEREE_CDR_VALIDATE_H

#include "cdr/cdr_diag.h"
#include "cdr/cdr_record.h"

/*
 * Checks, in this order, stopping at the first problem:
 * sid (required, <= CDR_MAX_SID), direction (required; trunking-terminating /
 * trunking-originating, '_' for '-' and any case accepted, others
 * CDR_E_BAD_DIRECTION), from and to (required; E.164, tel: or sip: URI),
 * start_time (required), end_time (optional), duration (optional whole
 * seconds >= 0; else end - start, which must not be negative; else 0),
 * status (optional; "unobserved" gives CDR_E_UNOBSERVED), price (optional
 * decimal).  rec's slices borrow from row.  d gets file/line from the row.
 */
int cdr_validate(const struct cdr_row *row, struct cdr_record *rec,
                 struct cdr_diag *d);

#endif

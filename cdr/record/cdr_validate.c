/*
 * Row -> validated record.  Each check names its column, the (escaped)
 * value and, in the detail, what was expected, so a reject can be fixed
 * without reading this code.
 */
#include "cdr/record/cdr_validate.h"

#include "cdr/record/cdr_addr.h"
#include "cdr/util/cdr_ascii.h"
#include "cdr/util/cdr_decimal.h"
#include "cdr/util/cdr_time.h"

#include <string.h>

#define EXPECT_TIME "expected ISO 8601 with offset or Z, or RFC 2822"

static struct cdr_slice
trimmed(const struct cdr_row *row, enum cdr_column c)
{
    struct cdr_slice s = {"", 0};
    if (!row->present[c] || row->field[c].p == NULL)
        return s;
    s = row->field[c];
    return cdr_slice_trim(s);
}

/* Fill d for column c with value v; message is cdr_strerror(code) unless
 * msg is given.  Returns code. */
static int
fail(struct cdr_diag *d, const struct cdr_row *row, int code, enum cdr_column c,
     struct cdr_slice v, const char *msg, const char *detail)
{
    if (msg != NULL)
        cdr_diag_set(d, code, cdr_column_name(c), v.p, v.n, "%s", msg);
    else
        cdr_diag_set(d, code, cdr_column_name(c), v.p, v.n, NULL);
    if (detail != NULL)
        cdr_diag_detail(d, "%s", detail);
    cdr_diag_at(d, row->file, row->line, 0);
    return code;
}

static int
missing(struct cdr_diag *d, const struct cdr_row *row, enum cdr_column c)
{
    cdr_diag_set(d, CDR_E_MISSING, cdr_column_name(c), NULL, 0, NULL);
    if (!row->present[c])
        cdr_diag_detail(d, "the file has no %s column", cdr_column_name(c));
    else
        cdr_diag_detail(d, "%s is required and empty", cdr_column_name(c));
    cdr_diag_at(d, row->file, row->line, 0);
    return CDR_E_MISSING;
}

/* Ids (call sids, Call-IDs): printable ASCII without spaces, bounded. */
static int
check_id(struct cdr_diag *d, const struct cdr_row *row, enum cdr_column c,
         struct cdr_slice v)
{
    if (v.n == 0 || cdr_id_ok(v.p, v.n))
        return 0;
    if (v.n > CDR_MAX_SID)
        return fail(d, row, CDR_E_TOO_LONG, c, v, NULL,
                    "an id has at most 128 bytes");
    return fail(d, row, CDR_E_BAD_VALUE, c, v, "invalid id",
                "an id is printable ASCII without spaces");
}

static int
check_addr(struct cdr_diag *d, const struct cdr_row *row, enum cdr_column c,
           struct cdr_slice v)
{
    struct cdr_addr a;
    if (cdr_parse_addr(v.p, v.p + v.n, &a) != 0)
        return fail(d, row, CDR_E_BAD_URI, c, v, NULL,
                    "expected E.164 (+14155550100), a tel: URI or a sip: "
                    "URI");
    return 0;
}

static int
check_time(struct cdr_diag *d, const struct cdr_row *row, enum cdr_column c,
           struct cdr_slice v, int64_t *out)
{
    if (cdr_time_parse(v.p, v.p + v.n, out) != 0)
        return fail(d, row, CDR_E_BAD_TIME, c, v, NULL, EXPECT_TIME);
    if (*out < 0)
        return fail(d, row, CDR_E_BAD_TIME, c, v, NULL,
                    "a call cannot start or end before 1970");
    return 0;
}

/* Below, each step checks some fields in the documented order and fills
 * rec as far as it got; the first problem ends the record. */

static int
check_ids(const struct cdr_row *row, struct cdr_record *rec, struct cdr_diag *d)
{
    int rc;
    rec->sid = trimmed(row, CDR_COL_SID);
    if (rec->sid.n == 0)
        return missing(d, row, CDR_COL_SID);
    if ((rc = check_id(d, row, CDR_COL_SID, rec->sid)) != 0)
        return rc;
    rec->parent_call_sid = trimmed(row, CDR_COL_PARENT_CALL_SID);
    rec->account_sid = trimmed(row, CDR_COL_ACCOUNT_SID);
    rec->trunk_sid = trimmed(row, CDR_COL_TRUNK_SID);
    if ((rc = check_id(d, row, CDR_COL_PARENT_CALL_SID,
                       rec->parent_call_sid)) != 0 ||
        (rc = check_id(d, row, CDR_COL_ACCOUNT_SID, rec->account_sid)) != 0)
        return rc;
    return check_id(d, row, CDR_COL_TRUNK_SID, rec->trunk_sid);
}

/* direction, from, to */
static int
check_parties(const struct cdr_row *row, struct cdr_record *rec,
              struct cdr_diag *d)
{
    int rc;
    struct cdr_slice dir = trimmed(row, CDR_COL_DIRECTION);
    if (dir.n == 0)
        return missing(d, row, CDR_COL_DIRECTION);
    if (cdr_direction_of(dir, &rec->direction) != 0)
        return fail(d, row, CDR_E_BAD_DIRECTION, CDR_COL_DIRECTION, dir, NULL,
                    "expected trunking-terminating or trunking-originating");
    rec->from = trimmed(row, CDR_COL_FROM);
    if (rec->from.n == 0)
        return missing(d, row, CDR_COL_FROM);
    if ((rc = check_addr(d, row, CDR_COL_FROM, rec->from)) != 0)
        return rc;
    rec->to = trimmed(row, CDR_COL_TO);
    if (rec->to.n == 0)
        return missing(d, row, CDR_COL_TO);
    return check_addr(d, row, CDR_COL_TO, rec->to);
}

static int
check_times(const struct cdr_row *row, struct cdr_record *rec,
            struct cdr_diag *d)
{
    int rc;
    struct cdr_slice st = trimmed(row, CDR_COL_START_TIME);
    if (st.n == 0)
        return missing(d, row, CDR_COL_START_TIME);
    if ((rc = check_time(d, row, CDR_COL_START_TIME, st, &rec->start_time)) !=
        0)
        return rc;
    struct cdr_slice et = trimmed(row, CDR_COL_END_TIME);
    if (et.n == 0)
        return 0;
    if ((rc = check_time(d, row, CDR_COL_END_TIME, et, &rec->end_time)) != 0)
        return rc;
    if (rec->end_time < rec->start_time)
        return fail(d, row, CDR_E_BAD_TIME, CDR_COL_END_TIME, et,
                    "end before start",
                    "end_time must not be earlier than start_time");
    rec->has_end_time = 1;
    return 0;
}

/* The duration column, else end - start, else 0. */
static int
check_duration(const struct cdr_row *row, struct cdr_record *rec,
               struct cdr_diag *d)
{
    struct cdr_slice du = trimmed(row, CDR_COL_DURATION);
    rec->has_duration = 1;
    if (du.n > 0) {
        int64_t v;
        if (cdr_decimal_parse(du.p, du.n, 0, 0, 0, &v) != 0)
            return fail(d, row, CDR_E_BAD_NUMBER, CDR_COL_DURATION, du, NULL,
                        "expected whole seconds (digits only)");
        if (v > CDR_MAX_DURATION)
            return fail(d, row, CDR_E_BAD_NUMBER, CDR_COL_DURATION, du,
                        "duration out of range",
                        "a call lasts at most 31 days (2678400 seconds)");
        /* A length the call's own times cannot hold is believed by no one:
         * 2678400 s on a call that ended two minutes after it started. */
        if (rec->has_end_time &&
            v > rec->end_time - rec->start_time + CDR_DURATION_SLACK) {
            fail(d, row, CDR_E_BAD_NUMBER, CDR_COL_DURATION, du,
                 "duration longer than the call", NULL);
            cdr_diag_detail(d,
                            "duration %lld s, but end_time - start_time is "
                            "%lld s",
                            (long long)v,
                            (long long)(rec->end_time - rec->start_time));
            return CDR_E_BAD_NUMBER;
        }
        rec->duration = v;
    } else if (rec->has_end_time) {
        rec->duration = rec->end_time - rec->start_time;
        if (rec->duration > CDR_MAX_DURATION)
            return fail(d, row, CDR_E_BAD_NUMBER, CDR_COL_END_TIME,
                        trimmed(row, CDR_COL_END_TIME), "duration out of range",
                        "end_time - start_time is more than 31 days");
    } else {
        rec->duration = 0;
    }
    return 0;
}

static int
check_status(const struct cdr_row *row, struct cdr_record *rec,
             struct cdr_diag *d)
{
    rec->status_text = trimmed(row, CDR_COL_STATUS);
    rec->status = cdr_status_of(rec->status_text);
    if (rec->status == CDR_ST_UNOBSERVED)
        return fail(d, row, CDR_E_UNOBSERVED, CDR_COL_STATUS, rec->status_text,
                    NULL,
                    "referee-capture could not see this leg; it is not "
                    "billed");
    /* The carrier's vocabulary is closed: a status outside it ("complete",
     * a typo) would be billed at zero without anyone noticing. */
    if (rec->status == CDR_ST_OTHER)
        return fail(d, row, CDR_E_BAD_VALUE, CDR_COL_STATUS, rec->status_text,
                    "unknown status",
                    "known: completed, busy, no-answer, failed, canceled, "
                    "in-progress, queued, ringing (or empty)");
    /* Billed by its length, which nothing gives: zero would be a guess. */
    struct cdr_slice du = trimmed(row, CDR_COL_DURATION);
    if (rec->status == CDR_ST_COMPLETED && du.n == 0 && !rec->has_end_time)
        return fail(d, row, CDR_E_MISSING, CDR_COL_DURATION, du,
                    "a completed call needs a duration or an end_time",
                    "both are empty: the call's length is unknown");
    return 0;
}

/* The carrier's own price feeds only the audit: a price that cannot be
 * read whole never costs the call its rating.  More than 9 places is
 * kept as written (an exact decimal still); anything else is dropped.
 * Either is noted in price_note and counted by the run. */
static int
check_price(const struct cdr_row *row, struct cdr_record *rec,
            struct cdr_diag *d)
{
    rec->price = trimmed(row, CDR_COL_PRICE);
    int64_t nano;
    if (rec->price.n > 0 &&
        cdr_decimal_parse(rec->price.p, rec->price.n, 9, 9, 1, &nano) != 0) {
        struct cdr_decimal_parts parts;
        if (cdr_decimal_split(rec->price.p, rec->price.n, &parts) == 0 &&
            rec->price.n <= 64) {
            rec->price_note = CDR_PRICE_PRECISE;
        } else {
            rec->price_note = CDR_PRICE_UNREADABLE;
            rec->price = (struct cdr_slice){"", 0};
        }
    }
    rec->price_unit = trimmed(row, CDR_COL_PRICE_UNIT);
    if (rec->price_unit.n == 0)
        return 0;
    int ok = rec->price_unit.n == 3;
    for (size_t i = 0; ok && i < 3; i++)
        ok = cdr_is_alpha(rec->price_unit.p[i]);
    if (!ok)
        return fail(d, row, CDR_E_BAD_VALUE, CDR_COL_PRICE_UNIT,
                    rec->price_unit, "invalid currency code",
                    "expected a 3-letter ISO 4217 code such as USD");
    return 0;
}

int
cdr_validate(const struct cdr_row *row, struct cdr_record *rec,
             struct cdr_diag *d)
{
    int rc;
    memset(rec, 0, sizeof *rec);
    rec->file = row->file;
    rec->line = row->line;
    if ((rc = check_ids(row, rec, d)) != 0 ||
        (rc = check_parties(row, rec, d)) != 0 ||
        (rc = check_times(row, rec, d)) != 0 ||
        (rc = check_duration(row, rec, d)) != 0 ||
        (rc = check_status(row, rec, d)) != 0 ||
        (rc = check_price(row, rec, d)) != 0)
        return rc;
    rec->transfer_target = trimmed(row, CDR_COL_TRANSFER_TARGET);
    if (rec->transfer_target.n > 0 &&
        (rc = check_addr(d, row, CDR_COL_TRANSFER_TARGET,
                         rec->transfer_target)) != 0)
        return rc;
    rec->transfer_status = trimmed(row, CDR_COL_TRANSFER_STATUS);
    return 0;
}

#include "cdr/record/cdr_record.h"

#include <string.h>

const char *
cdr_column_name(enum cdr_column c)
{
    static const char *const names[CDR_COL__COUNT] = {
        [CDR_COL_SID] = "sid",
        [CDR_COL_PARENT_CALL_SID] = "parent_call_sid",
        [CDR_COL_ACCOUNT_SID] = "account_sid",
        [CDR_COL_TRUNK_SID] = "trunk_sid",
        [CDR_COL_DIRECTION] = "direction",
        [CDR_COL_FROM] = "from",
        [CDR_COL_TO] = "to",
        [CDR_COL_START_TIME] = "start_time",
        [CDR_COL_END_TIME] = "end_time",
        [CDR_COL_DURATION] = "duration",
        [CDR_COL_STATUS] = "status",
        [CDR_COL_PRICE] = "price",
        [CDR_COL_PRICE_UNIT] = "price_unit",
        [CDR_COL_TRANSFER_TARGET] = "transfer_target",
        [CDR_COL_TRANSFER_STATUS] = "transfer_status",
    };
    if ((unsigned)c >= CDR_COL__COUNT)
        return "?";
    return names[c];
}

int
cdr_column_of(const char *normalised)
{
    /* The carrier's console exports say "Call Sid" */
    if (strcmp(normalised, "callsid") == 0)
        return CDR_COL_SID;
    for (int c = 0; c < CDR_COL__COUNT; c++) {
        const char *name = cdr_column_name((enum cdr_column)c);
        const char *n = normalised;
        for (; *name != '\0'; name++) {
            if (*name == '_')
                continue;
            if (*name != *n)
                break;
            n++;
        }
        if (*name == '\0' && *n == '\0')
            return c;
    }
    return -1;
}

struct cdr_slice
cdr_row_sid(const struct cdr_row *row)
{
    struct cdr_slice sid = {NULL, 0};
    if (row->present[CDR_COL_SID])
        sid = row->field[CDR_COL_SID];
    if (sid.n > CDR_MAX_SID)
        sid.n = CDR_MAX_SID;
    return sid;
}

const char *
cdr_direction_name(enum cdr_direction dir)
{
    return dir == CDR_DIR_ORIGINATING ? "trunking-originating"
                                      : "trunking-terminating";
}

int
cdr_record_billable(const struct cdr_record *r)
{
    if (r->status == CDR_ST_COMPLETED)
        return 1;
    return r->status == CDR_ST_NONE && r->duration > 0;
}

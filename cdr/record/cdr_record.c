#include "cdr/record/cdr_record.h"

#include <string.h>

struct cdr_slice
cdr_slice_trim(struct cdr_slice s)
{
    while (s.n > 0 && (s.p[0] == ' ' || s.p[0] == '\t')) {
        s.p++;
        s.n--;
    }
    while (s.n > 0 && (s.p[s.n - 1] == ' ' || s.p[s.n - 1] == '\t'))
        s.n--;
    return s;
}

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

int
cdr_id_ok(const char *p, size_t n)
{
    if (n == 0 || n > CDR_MAX_SID)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)p[i];
        if (ch <= 0x20 || ch >= 0x7f)
            return 0;
    }
    return 1;
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

/* Lower case, '_' (and, if space_too, ' ') as '-'; 0 if it does not fit. */
static size_t
fold(struct cdr_slice v, char *out, size_t outsz, int space_too)
{
    if (v.n >= outsz)
        return 0;
    for (size_t i = 0; i < v.n; i++) {
        char c = v.p[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        else if (c == '_' || (space_too && c == ' '))
            c = '-';
        out[i] = c;
    }
    out[v.n] = '\0';
    return v.n;
}

int
cdr_direction_of(struct cdr_slice text, enum cdr_direction *out)
{
    char buf[32];
    if (fold(text, buf, sizeof buf, 0) == 0)
        return -1;
    if (strcmp(buf, cdr_direction_name(CDR_DIR_TERMINATING)) == 0)
        *out = CDR_DIR_TERMINATING;
    else if (strcmp(buf, cdr_direction_name(CDR_DIR_ORIGINATING)) == 0)
        *out = CDR_DIR_ORIGINATING;
    else
        return -1;
    return 0;
}

static const char *const status_names[] = {
    [CDR_ST_NONE] = "",
    [CDR_ST_COMPLETED] = "completed",
    [CDR_ST_BUSY] = "busy",
    [CDR_ST_NO_ANSWER] = "no-answer",
    [CDR_ST_FAILED] = "failed",
    [CDR_ST_CANCELED] = "canceled",
    [CDR_ST_IN_PROGRESS] = "in-progress",
    [CDR_ST_UNOBSERVED] = "unobserved",
    [CDR_ST_QUEUED] = "queued",
    [CDR_ST_RINGING] = "ringing",
    [CDR_ST_OTHER] = "",
};

const char *
cdr_status_name(enum cdr_status s)
{
    if ((unsigned)s >= sizeof status_names / sizeof status_names[0])
        return "";
    return status_names[s];
}

enum cdr_status
cdr_status_of(struct cdr_slice text)
{
    char buf[16];
    if (text.n == 0)
        return CDR_ST_NONE;
    if (fold(text, buf, sizeof buf, 1) == 0)
        return CDR_ST_OTHER;
    if (strcmp(buf, "cancelled") == 0)
        return CDR_ST_CANCELED;
    for (int s = CDR_ST_COMPLETED; s < CDR_ST_OTHER; s++)
        if (strcmp(buf, status_names[s]) == 0)
            return (enum cdr_status)s;
    return CDR_ST_OTHER;
}

int
cdr_record_billable(const struct cdr_record *r)
{
    if (r->status == CDR_ST_COMPLETED)
        return 1;
    return r->status == CDR_ST_NONE && r->duration > 0;
}

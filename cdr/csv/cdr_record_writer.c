#include "cdr/csv/cdr_record_writer.h"

#include "cdr/util/cdr_time.h"

#include <string.h>

int
cdr_record_write_header(struct cdr_writer *w)
{
    for (int c = 0; c < CDR_COL__COUNT; c++)
        cdr_writer_field_str(w, cdr_column_name((enum cdr_column)c));
    return cdr_writer_end_row(w);
}

int
cdr_record_header_text(char *buf, size_t size)
{
    size_t o = 0;
    for (int c = 0; c < CDR_COL__COUNT; c++) {
        const char *name = cdr_column_name((enum cdr_column)c);
        size_t n = strlen(name);
        if (o + n + 2 > size)
            return -1;
        memcpy(buf + o, name, n);
        o += n;
        buf[o++] = c + 1 < CDR_COL__COUNT ? ',' : '\n';
    }
    buf[o] = '\0';
    return (int)o;
}

static void
slice(struct cdr_writer *w, struct cdr_slice s)
{
    cdr_writer_field(w, s.p ? s.p : "", s.n);
}

static void
time_field(struct cdr_writer *w, int has, int64_t t)
{
    char buf[32] = "";
    if (has)
        cdr_time_format(t, buf, sizeof buf);
    cdr_writer_field_str(w, buf);
}

int
cdr_record_write(struct cdr_writer *w, const struct cdr_record *r)
{
    /* The order of enum cdr_column, as the header says. */
    slice(w, r->sid);
    slice(w, r->parent_call_sid);
    slice(w, r->account_sid);
    slice(w, r->trunk_sid);
    cdr_writer_field_str(w, cdr_direction_name(r->direction));
    slice(w, r->from);
    slice(w, r->to);
    time_field(w, 1, r->start_time);
    time_field(w, r->has_end_time, r->end_time);
    if (r->has_duration)
        cdr_writer_field_int(w, r->duration);
    else
        cdr_writer_field_str(w, "");
    slice(w, r->status_text);
    slice(w, r->price);
    slice(w, r->price_unit);
    slice(w, r->transfer_target);
    slice(w, r->transfer_status);
    return cdr_writer_end_row(w);
}

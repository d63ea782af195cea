/*
 * Rotated call-record files over the atomic CSV writer.
 */
#include "cdr/capture/cap_writer.h"
#include "cdr/cdr_csv_writer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct cap_writer {
    char *dir;
    int64_t rotate;
    int64_t now;           /* latest clock */
    int64_t period_start;  /* of the open file */
    struct cdr_writer *cw; /* NULL when no file is open */
    struct cdr_diag err;
    uint64_t files, records;
};

/* Civil date from days since 1970-01-01 (H. Hinnant's algorithm). */
static void
civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    *m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static void
split_time(int64_t t, int64_t *y, unsigned *mo, unsigned *d, unsigned *h,
           unsigned *mi, unsigned *s)
{
    int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
    int64_t sec = t - days * 86400;
    civil_from_days(days, y, mo, d);
    *h = (unsigned)(sec / 3600);
    *mi = (unsigned)(sec / 60 % 60);
    *s = (unsigned)(sec % 60);
}

void
cap_format_time(int64_t t, char *buf, size_t size)
{
    int64_t y;
    unsigned mo, d, h, mi, s;
    split_time(t, &y, &mo, &d, &h, &mi, &s);
    snprintf(buf, size, "%04lld-%02u-%02uT%02u:%02u:%02uZ", (long long)y, mo, d,
             h, mi, s);
}

int
cap_writer_new(struct cap_writer **out, const char *dir, int64_t rotate,
               struct cdr_diag *d)
{
    *out = NULL;
    cdr_diag_clear(d);
    struct stat st;
    errno = 0;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        cdr_diag_set(d, CDR_E_IO, NULL, NULL, 0, "output folder: %s",
                     errno ? strerror(errno) : "not a folder");
        cdr_diag_at(d, dir, 0, 0);
        return CDR_E_IO;
    }
    if (rotate <= 0)
        return cdr_diag_set(d, CDR_E_USAGE, "rotate", NULL, 0,
                            "rotation period must be positive");
    struct cap_writer *w = calloc(1, sizeof *w);
    if (w == NULL || (w->dir = strdup(dir)) == NULL) {
        free(w);
        return cdr_diag_set(d, CDR_E_NOMEM, NULL, NULL, 0, "out of memory");
    }
    w->rotate = rotate;
    cdr_diag_clear(&w->err);
    *out = w;
    return 0;
}

static int
fail(struct cap_writer *w, int rc, const struct cdr_diag *d)
{
    if (w->err.code == 0) {
        if (d != NULL)
            w->err = *d;
        else
            cdr_diag_set(&w->err, rc, NULL, NULL, 0, "%s", cdr_strerror(rc));
        w->err.code = rc;
    }
    return rc;
}

static int
commit(struct cap_writer *w)
{
    if (w->cw == NULL)
        return w->err.code;
    struct cdr_diag d;
    cdr_diag_clear(&d);
    int rc = cdr_writer_commit(w->cw, &d);
    cdr_writer_free(w->cw);
    w->cw = NULL;
    if (rc != 0)
        return fail(w, rc, &d);
    w->files++;
    return 0;
}

static int64_t
period_of(const struct cap_writer *w, int64_t t)
{
    int64_t p = t >= 0 ? t / w->rotate : -((-t + w->rotate - 1) / w->rotate);
    return p * w->rotate;
}

static int
open_file(struct cap_writer *w)
{
    int64_t start = period_of(w, w->now);
    int64_t y;
    unsigned mo, d, h, mi, s;
    split_time(start, &y, &mo, &d, &h, &mi, &s);
    size_t size = strlen(w->dir) + 64;
    char *path = malloc(size);
    if (path == NULL)
        return fail(w, CDR_E_NOMEM, NULL);
    struct stat st;
    for (unsigned seq = 0;; seq++) {
        char suffix[16] = "";
        if (seq > 0)
            snprintf(suffix, sizeof suffix, "-%u", seq);
        snprintf(path, size, "%s/calls-%04lld%02u%02uT%02u%02u%02uZ%s.csv",
                 w->dir, (long long)y, mo, d, h, mi, s, suffix);
        if (stat(path, &st) != 0 || seq == 9999)
            break;
    }
    struct cdr_diag dg;
    cdr_diag_clear(&dg);
    int rc = cdr_writer_open(&w->cw, path, &dg);
    free(path);
    if (rc != 0) {
        w->cw = NULL;
        return fail(w, rc, &dg);
    }
    w->period_start = start;
    rc = cdr_writer_raw(w->cw, CAP_WRITER_COLUMNS "\n",
                        strlen(CAP_WRITER_COLUMNS "\n"));
    return rc ? fail(w, rc, NULL) : 0;
}

int
cap_writer_set_time(struct cap_writer *w, int64_t now)
{
    if (now > w->now)
        w->now = now;
    if (w->cw != NULL && w->now >= w->period_start + w->rotate)
        return commit(w);
    return w->err.code;
}

int
cap_writer_rotate(struct cap_writer *w)
{
    return commit(w);
}

int
cap_writer_record(void *ctx, const struct cap_record *r)
{
    struct cap_writer *w = ctx;
    int rc;
    if (w->err.code != 0)
        return w->err.code;
    if (w->now == 0)
        w->now = r->start_time; /* no clock yet: the call's own time */
    if ((rc = cap_writer_set_time(w, w->now)) != 0)
        return rc;
    if (w->cw == NULL && (rc = open_file(w)) != 0)
        return rc;
    char start[32], end[32] = "";
    cap_format_time(r->start_time, start, sizeof start);
    if (r->has_end_time)
        cap_format_time(r->end_time, end, sizeof end);
    struct cdr_writer *c = w->cw;
    cdr_writer_field_str(c, r->sid);
    cdr_writer_field_str(c, r->parent_call_sid);
    cdr_writer_field_str(c, r->direction);
    cdr_writer_field_str(c, r->from);
    cdr_writer_field_str(c, r->to);
    cdr_writer_field_str(c, start);
    cdr_writer_field_str(c, end);
    if (r->has_duration)
        cdr_writer_field_int(c, r->duration);
    else
        cdr_writer_field_str(c, "");
    cdr_writer_field_str(c, r->status);
    cdr_writer_field_str(c, r->trunk_sid);
    cdr_writer_field_str(c, r->transfer_target);
    cdr_writer_field_str(c, r->transfer_status);
    rc = cdr_writer_end_row(c); /* errors are sticky: one check is enough */
    if (rc != 0)
        return fail(w, rc, NULL);
    w->records++;
    return 0;
}

int
cap_writer_close(struct cap_writer *w, struct cdr_diag *d)
{
    if (w == NULL)
        return 0;
    int rc = commit(w);
    if (d != NULL)
        *d = w->err;
    free(w->dir);
    free(w);
    return rc;
}

const struct cdr_diag *
cap_writer_error(const struct cap_writer *w)
{
    return &w->err;
}

uint64_t
cap_writer_files(const struct cap_writer *w)
{
    return w->files;
}

uint64_t
cap_writer_records(const struct cap_writer *w)
{
    return w->records;
}

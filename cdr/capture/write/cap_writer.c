/*
 * Rotated call-record files over the atomic CSV writer.
 */
#include "cdr/capture/write/cap_writer.h"
#include "cdr/csv/cdr_csv_writer.h"
#include "cdr/csv/cdr_record_writer.h"
#include "cdr/util/cdr_time.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

struct cap_writer {
    char *dir;
    int64_t rotate;
    int64_t now;           /* latest clock */
    int64_t period_start;  /* of the open file */
    struct cdr_writer *cw; /* NULL when no file is open */
    struct cdr_diag err;
    uint64_t files, records;
    int dir_fd;     /* holds the folder's lock */
    int flush_each; /* each record goes to the kernel as it is written */
    uint64_t recovered_files, recovered_rows;
};

/* One writer per folder: a second one would take the first's open file
 * for a crashed writer's.  The lock is on the folder itself (flock), so no
 * file is added; it goes with the process. */
static int
lock_folder(struct cap_writer *w, struct cdr_diag *d)
{
    w->dir_fd = open(w->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (w->dir_fd < 0 || flock(w->dir_fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        cdr_diag_set(d, CDR_E_IO, NULL, NULL, 0, "output folder: %s",
                     e == EWOULDBLOCK
                         ? "another referee-capture is writing to it"
                         : strerror(e));
        cdr_diag_at(d, w->dir, 0, 0);
        return CDR_E_IO;
    }
    return 0;
}

/* ".calls-<period>[-N].csv.XXXXXX": an open file of a writer that died
 * (the atomic writer's temporary name). */
static int
is_left_over(const char *name)
{
    size_t n = strlen(name);
    return strncmp(name, ".calls-", 7) == 0 && n > 7 + 5 + 7 &&
           strncmp(name + n - 11, ".csv.", 5) == 0;
}

static int
recover_fail(struct cdr_diag *d, const char *path, const char *what, int e)
{
    cdr_diag_set(d, CDR_E_IO, NULL, NULL, 0, "recovering records: %s: %s", what,
                 strerror(e));
    cdr_diag_at(d, path, 0, 0);
    return CDR_E_IO;
}

/* The header of the files of referee-capture 0.1 (before the one column
 * list): a file such a run left open when it was killed is still ours to
 * commit (referee-rate maps columns by name). */
static const char legacy_header[] =
    "sid,parent_call_sid,direction,from,to,start_time,end_time,duration,"
    "status,trunk_sid,transfer_target,transfer_status\n";

/* The length of the whole rows of fd (a header, then rows; a row never
 * spans lines: SIP values hold no CR or LF) and how many rows there are.
 * 1: not a file of ours (it does not start with the record header,
 * cdr_record_header_text, or the legacy one); -1: read error. */
static int
whole_rows(int fd, off_t *keep, uint64_t *rows)
{
    char header[2][512];
    off_t hlen[2] = {cdr_record_header_text(header[0], sizeof header[0]),
                     (off_t)sizeof legacy_header - 1};
    int ours[2] = {hlen[0] > 0, 1};
    memcpy(header[1], legacy_header, sizeof legacy_header);
    char buf[65536];
    off_t at = 0, last = 0;
    uint64_t lines = 0;
    ssize_t got;
    *keep = 0;
    *rows = 0;
    while ((got = read(fd, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < got; i++) {
            for (int k = 0; k < 2; k++)
                if (at + i < hlen[k] && buf[i] != header[k][at + i])
                    ours[k] = 0;
            if (!ours[0] && !ours[1])
                return 1;
            if (buf[i] == '\n') {
                last = at + i + 1;
                lines++;
            }
        }
        at += got;
    }
    if (got < 0)
        return -1;
    *keep = last;
    *rows = lines > 0 ? lines - 1 : 0;
    return 0;
}

/* Move one left-over file into place: its whole rows, under the name it
 * would have had (or the next free -N), fsync'd.  One without rows goes. */
static int
recover_one(struct cap_writer *w, const char *name, struct cdr_diag *d)
{
    size_t size = strlen(w->dir) + strlen(name) + 32;
    char *from = malloc(size), *to = malloc(size);
    int rc = 0, fd = -1, kind = 0;
    off_t keep;
    uint64_t rows;
    if (from == NULL || to == NULL) {
        free(from);
        free(to);
        return cdr_diag_set(d, CDR_E_NOMEM, NULL, NULL, 0, "out of memory");
    }
    snprintf(from, size, "%s/%s", w->dir, name);
    fd = open(from, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        rc = recover_fail(d, from, "open", errno);
    else if ((kind = whole_rows(fd, &keep, &rows)) < 0)
        rc = recover_fail(d, from, "read", errno);
    else if (kind > 0)
        ;                 /* not ours: left alone */
    else if (rows == 0) { /* killed before its first row */
        if (unlink(from) != 0)
            rc = recover_fail(d, from, "unlink", errno);
    } else if (ftruncate(fd, keep) != 0 || fsync(fd) != 0) {
        rc = recover_fail(d, from, "truncate", errno);
    } else {
        /* ".calls-X.csv.XXXXXX" -> "calls-X.csv", else "calls-X-N.csv" */
        size_t stem = strlen(name) - 1 - 11;
        struct stat st;
        for (unsigned seq = 0;; seq++) {
            if (seq == 0)
                snprintf(to, size, "%s/%.*s.csv", w->dir, (int)stem, name + 1);
            else
                snprintf(to, size, "%s/%.*s-%u.csv", w->dir, (int)stem,
                         name + 1, seq);
            if (stat(to, &st) != 0 || seq == 9999)
                break;
        }
        if (rename(from, to) != 0 || fsync(w->dir_fd) != 0)
            rc = recover_fail(d, from, "rename", errno);
        else {
            w->recovered_files++;
            w->recovered_rows += rows;
        }
    }
    if (fd >= 0)
        close(fd);
    free(from);
    free(to);
    return rc;
}

/* Files a writer that was killed (SIGKILL, OOM, power) left open: their
 * rows reached the kernel (flush_each) and are committed now rather than
 * lost. */
static int
recover(struct cap_writer *w, struct cdr_diag *d)
{
    DIR *dh = opendir(w->dir);
    struct dirent *e;
    int rc = 0;
    if (dh == NULL)
        return recover_fail(d, w->dir, "opendir", errno);
    while (rc == 0 && (e = readdir(dh)) != NULL)
        if (is_left_over(e->d_name))
            rc = recover_one(w, e->d_name, d);
    closedir(dh);
    return rc;
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
    w->dir_fd = -1;
    cdr_diag_clear(&w->err);
    int rc = lock_folder(w, d);
    if (rc == 0)
        rc = recover(w, d);
    if (rc != 0) {
        if (w->dir_fd >= 0)
            close(w->dir_fd);
        free(w->dir);
        free(w);
        return rc;
    }
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
    struct cdr_tm tm;
    cdr_time_split(start, &tm);
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
                 w->dir, (long long)tm.year, tm.month, tm.day, tm.hour,
                 tm.minute, tm.second, suffix);
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
    rc = cdr_record_write_header(w->cw);
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
cap_writer_record(void *ctx, const struct cdr_record *r)
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
    rc = cdr_record_write(w->cw, r); /* errors are sticky: one check */
    if (rc == 0 && w->flush_each)
        rc = cdr_writer_flush(w->cw);
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
    if (w->dir_fd >= 0)
        close(w->dir_fd);
    free(w->dir);
    free(w);
    return rc;
}

void
cap_writer_flush_each(struct cap_writer *w, int on)
{
    w->flush_each = on;
}

void
cap_writer_recovered(const struct cap_writer *w, uint64_t *files,
                     uint64_t *rows)
{
    *files = w->recovered_files;
    *rows = w->recovered_rows;
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

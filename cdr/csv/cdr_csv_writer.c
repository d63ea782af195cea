/*
 * Atomic CSV writer: a temporary file beside the target, renamed over it
 * only once everything is on disk.
 */
#include "cdr/csv/cdr_csv_writer.h"

#include "cdr/util/cdr_decimal.h"

#include <csv.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define WRITE_BUF (1u << 20)

struct cdr_writer {
    char *path;
    char *tmp;
    char *dir;
    FILE *f;
    char *iobuf; /* our own buffer: a call per field into stdio was the
                    rater's top cost */
    size_t iolen;
    char *qbuf; /* quoting scratch, grown as needed */
    size_t qcap;
    int in_row; /* a field was written on this row */
    int err;    /* first error (sticky) */
    int err_errno;
    int done;     /* committed or aborted */
    int prepared; /* on disk under the temporary name, closed */
};

static int
werr(struct cdr_writer *w, int code, int e)
{
    if (w->err == 0) {
        w->err = code;
        w->err_errno = e;
    }
    return w->err;
}

int
cdr_writer_open(struct cdr_writer **out, const char *path, struct cdr_diag *d)
{
    struct cdr_writer *w = calloc(1, sizeof *w);
    if (w == NULL)
        return cdr_diag_set(d, CDR_E_NOMEM, NULL, NULL, 0, NULL);
    size_t n = strlen(path);
    const char *slash = strrchr(path, '/');
    size_t dlen = slash ? (size_t)(slash - path) : 0;
    const char *base = slash ? slash + 1 : path;
    w->path = strdup(path);
    w->dir = malloc(dlen + 2);
    w->tmp = malloc(n + 16);
    w->iobuf = malloc(WRITE_BUF);
    if (w->path == NULL || w->dir == NULL || w->tmp == NULL ||
        w->iobuf == NULL) {
        w->done = 1; /* no temporary file yet */
        cdr_writer_free(w);
        return cdr_diag_set(d, CDR_E_NOMEM, NULL, NULL, 0, NULL);
    }
    if (slash == NULL)
        memcpy(w->dir, ".", 2);
    else if (dlen == 0)
        memcpy(w->dir, "/", 2);
    else {
        memcpy(w->dir, path, dlen);
        w->dir[dlen] = '\0';
    }
    /* Hidden, in the same folder: rename(2) is then atomic. */
    snprintf(w->tmp, n + 16, "%.*s%s.%s.XXXXXX", (int)dlen, path,
             slash ? "/" : "", base);
    int fd = mkstemp(w->tmp);
    if (fd < 0) {
        int e = errno;
        w->done = 1;
        cdr_writer_free(w);
        cdr_diag_set(d, CDR_E_IO, NULL, NULL, 0,
                     "could not create a temporary file: %s", strerror(e));
        cdr_diag_at(d, path, 0, 0);
        return CDR_E_IO;
    }
    /* mkstemp makes 0600; give the file the mode a plain creat would. */
    mode_t mask = umask(022);
    umask(mask);
    struct stat st;
    mode_t mode =
        stat(path, &st) == 0 ? (st.st_mode & 07777) : (mode_t)(0666 & ~mask);
    (void)fchmod(fd, mode);
    w->f = fdopen(fd, "wb");
    if (w->f == NULL) {
        int e = errno;
        close(fd);
        cdr_writer_free(w);
        cdr_diag_set(d, CDR_E_IO, NULL, NULL, 0, "fdopen: %s", strerror(e));
        cdr_diag_at(d, path, 0, 0);
        return CDR_E_IO;
    }
    setvbuf(w->f, NULL, _IONBF, 0);
    *out = w;
    return 0;
}

static int
flush_buf(struct cdr_writer *w)
{
    if (w->iolen > 0 && fwrite(w->iobuf, 1, w->iolen, w->f) != w->iolen)
        return werr(w, CDR_E_IO, errno);
    w->iolen = 0;
    return 0;
}

static int put_slow(struct cdr_writer *w, const void *s, size_t n);

/* Every byte written passes here (a few puts a field, two million rows a
 * night): the common case, room in the buffer, is a copy. */
static inline int
put(struct cdr_writer *w, const void *s, size_t n)
{
    if (w->err == 0 && !w->done && w->f != NULL && WRITE_BUF - w->iolen >= n) {
        memcpy(w->iobuf + w->iolen, s, n);
        w->iolen += n;
        return 0;
    }
    return put_slow(w, s, n);
}

static int
put_slow(struct cdr_writer *w, const void *s, size_t n)
{
    if (w->err)
        return w->err;
    if (w->done || w->f == NULL)
        return werr(w, CDR_E_USAGE, 0);
    if (WRITE_BUF - w->iolen < n) {
        if (flush_buf(w) != 0)
            return w->err;
        if (n > WRITE_BUF) {
            if (fwrite(s, 1, n, w->f) != n)
                return werr(w, CDR_E_IO, errno);
            return 0;
        }
    }
    memcpy(w->iobuf + w->iolen, s, n);
    w->iolen += n;
    return 0;
}

int
cdr_writer_flush(struct cdr_writer *w)
{
    if (w->err)
        return w->err;
    if (w->done || w->f == NULL)
        return werr(w, CDR_E_USAGE, 0);
    return flush_buf(w);
}

int
cdr_csv_needs_quotes(const char *s, size_t n)
{
    if (n == 0)
        return 0;
    if (s[0] == ' ' || s[0] == '\t' || s[n - 1] == ' ' || s[n - 1] == '\t')
        return 1;
    /* one table load a byte: this runs on every byte written */
    static const unsigned char special[256] = {
        [','] = 1, ['"'] = 1, ['\r'] = 1, ['\n'] = 1};
    const unsigned char *u = (const unsigned char *)s;
    unsigned char any = 0;
    for (size_t i = 0; i < n; i++)
        any |= special[u[i]];
    return any;
}

int
cdr_writer_field(struct cdr_writer *w, const char *s, size_t n)
{
    int rc;
    int plain = !cdr_csv_needs_quotes(s, n);
    if (plain && w->in_row && w->err == 0 && !w->done && w->f != NULL &&
        WRITE_BUF - w->iolen > n) { /* the separator and the field at once */
        w->iobuf[w->iolen++] = ',';
        memcpy(w->iobuf + w->iolen, s, n);
        w->iolen += n;
        return 0;
    }
    if (w->in_row && (rc = put(w, ",", 1)) != 0)
        return rc;
    w->in_row = 1;
    if (plain)
        return put(w, s, n);
    if (n > (SIZE_MAX - 2) / 2)
        return werr(w, CDR_E_LIMIT, 0);
    size_t need = 2 * n + 2;
    if (need > w->qcap) {
        char *nb = realloc(w->qbuf, need);
        if (nb == NULL)
            return werr(w, CDR_E_NOMEM, ENOMEM);
        w->qbuf = nb;
        w->qcap = need;
    }
    size_t q = csv_write(w->qbuf, w->qcap, s, n);
    return put(w, w->qbuf, q);
}

int
cdr_writer_field_str(struct cdr_writer *w, const char *s)
{
    return cdr_writer_field(w, s ? s : "", s ? strlen(s) : 0);
}

int
cdr_writer_field_int(struct cdr_writer *w, int64_t v)
{
    char buf[24];
    int n = cdr_decimal_format(v, 0, 0, buf, sizeof buf);
    return cdr_writer_field(w, buf, (size_t)n);
}

int
cdr_writer_end_row(struct cdr_writer *w)
{
    w->in_row = 0;
    return put(w, "\n", 1);
}

int
cdr_writer_raw(struct cdr_writer *w, const char *s, size_t n)
{
    return put(w, s, n);
}

static int
fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    errno = e;
    return rc;
}

int
cdr_writer_prepare(struct cdr_writer *w, struct cdr_diag *d)
{
    const char *what = NULL;
    int e = 0;
    if (w->done) {
        cdr_diag_set(d, CDR_E_USAGE, NULL, NULL, 0,
                     "writer already committed or aborted");
        cdr_diag_at(d, w->path, 0, 0);
        return CDR_E_USAGE;
    }
    if (w->prepared)
        return 0;
    flush_buf(w);
    if (w->err) {
        int code = w->err;
        e = w->err_errno;
        cdr_writer_abort(w);
        cdr_diag_set(d, code, NULL, NULL, 0, "write failed%s%s", e ? ": " : "",
                     e ? strerror(e) : "");
        cdr_diag_at(d, w->path, 0, 0);
        return code;
    }
    if (fflush(w->f) != 0)
        what = "write";
    else if (fsync(fileno(w->f)) != 0)
        what = "fsync";
    e = errno;
    if (fclose(w->f) != 0 && what == NULL) {
        what = "close";
        e = errno;
    }
    w->f = NULL;
    if (what != NULL) {
        cdr_writer_abort(w);
        cdr_diag_set(d, CDR_E_IO, NULL, NULL, 0, "%s failed: %s", what,
                     strerror(e));
        cdr_diag_at(d, w->path, 0, 0);
        return CDR_E_IO;
    }
    w->prepared = 1;
    return 0;
}

int
cdr_writer_commit(struct cdr_writer *w, struct cdr_diag *d)
{
    int rc = cdr_writer_prepare(w, d);
    if (rc != 0)
        return rc;
    if (rename(w->tmp, w->path) != 0) {
        int e = errno;
        cdr_writer_abort(w);
        cdr_diag_set(d, CDR_E_IO, NULL, NULL, 0, "rename failed: %s",
                     strerror(e));
        cdr_diag_at(d, w->path, 0, 0);
        return CDR_E_IO;
    }
    w->done = 1;
    /* The rename itself must survive a crash: sync the folder. */
    if (fsync_dir(w->dir) != 0) {
        int e = errno;
        cdr_diag_set(d, CDR_E_IO, NULL, NULL, 0,
                     "fsync of the folder failed: %s", strerror(e));
        cdr_diag_at(d, w->dir, 0, 0);
        return CDR_E_IO;
    }
    return 0;
}

void
cdr_writer_abort(struct cdr_writer *w)
{
    if (w == NULL || w->done)
        return;
    if (w->f != NULL) {
        fclose(w->f);
        w->f = NULL;
    }
    unlink(w->tmp);
    w->done = 1;
}

void
cdr_writer_free(struct cdr_writer *w)
{
    if (w == NULL)
        return;
    cdr_writer_abort(w);
    free(w->path);
    free(w->tmp);
    free(w->dir);
    free(w->iobuf);
    free(w->qbuf);
    free(w);
}

/*
 * Stand-in for cdr/cdr_csv_writer.c until it lands on main: the same
 * interface (cdr/cdr_csv_writer.h) and the same promise (temporary file in
 * the target's folder, fsync, rename, fsync of the folder), minimal.  Built
 * only when cdr/cdr_csv_writer.c does not exist (see CMakeLists.txt), so the
 * real writer replaces it by merely arriving.
 */
#ifdef CAP_WRITER_SHIM
#include "cdr/cdr_csv_writer.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct cdr_writer {
    char *path, *tmp;
    FILE *f;
    int in_row, err, done;
};

int
cdr_writer_open(struct cdr_writer **out, const char *path, struct cdr_diag *d)
{
    struct cdr_writer *w = calloc(1, sizeof *w);
    size_t n = strlen(path);
    if (w == NULL || (w->path = strdup(path)) == NULL ||
        (w->tmp = malloc(n + 16)) == NULL) {
        if (w)
            free(w->path);
        free(w);
        return cdr_diag_set(d, CDR_E_NOMEM, NULL, NULL, 0, "out of memory");
    }
    snprintf(w->tmp, n + 16, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(w->tmp);
    if (fd < 0 || (w->f = fdopen(fd, "wb")) == NULL) {
        int e = errno;
        if (fd >= 0) {
            close(fd);
            unlink(w->tmp);
        }
        free(w->tmp);
        free(w->path);
        free(w);
        cdr_diag_set(d, CDR_E_IO, NULL, NULL, 0, "cannot create: %s",
                     strerror(e));
        cdr_diag_at(d, path, 0, 0);
        return CDR_E_IO;
    }
    (void)fchmod(fd, 0644);
    *out = w;
    return 0;
}

static int
put(struct cdr_writer *w, const char *s, size_t n)
{
    if (w->err == 0 && n > 0 && fwrite(s, 1, n, w->f) != n)
        w->err = CDR_E_IO;
    return w->err;
}

int
cdr_writer_field(struct cdr_writer *w, const char *s, size_t n)
{
    if (w->in_row)
        put(w, ",", 1);
    w->in_row = 1;
    int q = 0;
    for (size_t i = 0; i < n; i++)
        q |= s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n';
    if (!q)
        return put(w, s, n);
    put(w, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        put(w, s + i, 1);
        if (s[i] == '"')
            put(w, "\"", 1);
    }
    return put(w, "\"", 1);
}

int
cdr_writer_field_str(struct cdr_writer *w, const char *s)
{
    return cdr_writer_field(w, s ? s : "", s ? strlen(s) : 0);
}

int
cdr_writer_field_int(struct cdr_writer *w, int64_t v)
{
    char b[24];
    int n = snprintf(b, sizeof b, "%" PRId64, v);
    return cdr_writer_field(w, b, (size_t)n);
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

int
cdr_writer_commit(struct cdr_writer *w, struct cdr_diag *d)
{
    int rc = w->err;
    if (rc == 0 && (fflush(w->f) != 0 || fsync(fileno(w->f)) != 0))
        rc = CDR_E_IO;
    int e = errno;
    if (fclose(w->f) != 0 && rc == 0)
        rc = CDR_E_IO;
    w->f = NULL;
    if (rc == 0 && rename(w->tmp, w->path) != 0) {
        e = errno;
        rc = CDR_E_IO;
    }
    if (rc != 0) {
        unlink(w->tmp);
        cdr_diag_set(d, rc, NULL, NULL, 0, "write failed: %s", strerror(e));
        cdr_diag_at(d, w->path, 0, 0);
    } else {
        char *slash = strrchr(w->path, '/');
        if (slash != NULL) {
            *slash = '\0';
            int dfd = open(slash == w->path ? "/" : w->path, O_RDONLY);
            *slash = '/';
            if (dfd >= 0) {
                (void)fsync(dfd);
                close(dfd);
            }
        }
    }
    w->done = 1;
    return rc;
}

void
cdr_writer_abort(struct cdr_writer *w)
{
    if (w->f != NULL) {
        fclose(w->f);
        w->f = NULL;
        unlink(w->tmp);
    }
    w->done = 1;
}

void
cdr_writer_free(struct cdr_writer *w)
{
    if (w == NULL)
        return;
    if (!w->done)
        cdr_writer_abort(w);
    free(w->tmp);
    free(w->path);
    free(w);
}
#else
typedef int cap_writer_shim_unused; /* ISO C wants a non-empty unit */
#endif

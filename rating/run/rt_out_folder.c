/* renameat2 (RENAME_EXCHANGE) is a GNU/Linux call */
#define _GNU_SOURCE
#include "rating/run/rt_out_folder.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

struct rt_out_folder {
    char *target;  /* the output folder, resolved */
    char *parent;  /* its folder */
    char *base;    /* its name */
    char *work;    /* this run's folder */
    int work_fd;   /* locked while the run lives */
    int published; /* work now is the output (or the earlier output) */
    const char *const *names;
    size_t n;
    char path[PATH_MAX];
};

static int
is_ours(const struct rt_out_folder *f, const char *name)
{
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(name, f->names[i]) == 0)
            return 1;
    return 0;
}

/* ".charges.csv.XXXXXX": what the atomic writer leaves when killed. */
static int
is_writer_leftover(const struct rt_out_folder *f, const char *name)
{
    size_t len = strlen(name);
    for (size_t i = 0; i < f->n; i++) {
        size_t k = strlen(f->names[i]);
        if (name[0] == '.' && len == 1 + k + 7 &&
            strncmp(name + 1, f->names[i], k) == 0 && name[1 + k] == '.')
            return 1;
    }
    return 0;
}

/* Remove the writer leftovers of dir, and with all its files of ours,
 * then dir itself when that left it empty: anything else stays. */
static void
remove_files(const struct rt_out_folder *f, const char *dir, int all,
             int rm_dir)
{
    DIR *dh = opendir(dir);
    if (dh == NULL)
        return;
    struct dirent *e;
    char p[PATH_MAX];
    while ((e = readdir(dh)) != NULL) {
        if (!(all && is_ours(f, e->d_name)) &&
            !is_writer_leftover(f, e->d_name))
            continue;
        if (snprintf(p, sizeof p, "%s/%s", dir, e->d_name) < (int)sizeof p)
            (void)unlink(p);
    }
    closedir(dh);
    if (rm_dir)
        (void)rmdir(dir);
}

/* Runs' folders of this output whose run is gone (their lock is free). */
static void
remove_dead_runs(const struct rt_out_folder *f)
{
    DIR *dh = opendir(f->parent);
    if (dh == NULL)
        return;
    char prefix[NAME_MAX + 8];
    snprintf(prefix, sizeof prefix, ".%s.run-", f->base);
    struct dirent *e;
    char p[PATH_MAX];
    while ((e = readdir(dh)) != NULL) {
        if (strncmp(e->d_name, prefix, strlen(prefix)) != 0 ||
            snprintf(p, sizeof p, "%s/%s", f->parent, e->d_name) >=
                (int)sizeof p)
            continue;
        int fd = open(p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
            continue;
        if (flock(fd, LOCK_EX | LOCK_NB) == 0)
            remove_files(f, p, 1, 1);
        close(fd); /* a live run keeps its lock */
    }
    closedir(dh);
}

/* An earlier output moved aside by publish_in_two and left there by a
 * crash goes back to its name, unless a newer one took it. */
static void
restore_aside(const struct rt_out_folder *f)
{
    char old[PATH_MAX];
    struct stat st;
    if (snprintf(old, sizeof old, "%s/.%s.old", f->parent, f->base) >=
        (int)sizeof old)
        return;
    if (lstat(old, &st) != 0 || !S_ISDIR(st.st_mode))
        return;
    if (lstat(f->target, &st) != 0 && errno == ENOENT)
        (void)rename(old, f->target);
    else
        remove_files(f, old, 1, 1);
}

/* The output folder may hold only our files (or leftovers of ours):
 * publishing replaces it whole.  0 or CDR_E_IO. */
static int
check_target(const struct rt_out_folder *f, struct cdr_diag *d)
{
    DIR *dh = opendir(f->target);
    if (dh == NULL)
        return errno == ENOENT
                   ? 0
                   : cdr_diag_io(d, f->target, "output folder", errno);
    struct dirent *e;
    int rc = 0;
    char p[PATH_MAX];
    struct stat st;
    while (rc == 0 && (e = readdir(dh)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
            is_writer_leftover(f, e->d_name))
            continue;
        snprintf(p, sizeof p, "%s/%s", f->target, e->d_name);
        if (is_ours(f, e->d_name) && lstat(p, &st) == 0 && S_ISREG(st.st_mode))
            continue;
        cdr_diag_set(d, CDR_E_IO, NULL, e->d_name, strlen(e->d_name),
                     "the output folder holds a file that is not "
                     "referee-rate's");
        cdr_diag_detail(d, "each run replaces the folder whole: give "
                           "--out a folder of its own");
        cdr_diag_at(d, f->target, 0, 0);
        rc = CDR_E_IO;
    }
    closedir(dh);
    return rc;
}

/* target, parent and base of the folder as given (resolved when it
 * exists, so a symlink to it stays a symlink). */
static int
locate(struct rt_out_folder *f, const char *folder, struct cdr_diag *d)
{
    char buf[PATH_MAX];
    const char *t = realpath(folder, buf) != NULL ? buf : folder;
    if (t != buf && errno != ENOENT)
        return cdr_diag_io(d, folder, "output folder", errno);
    f->target = strdup(t);
    if (f->target == NULL)
        return cdr_diag_set(d, CDR_E_NOMEM, NULL, NULL, 0, NULL);
    size_t len = strlen(f->target);
    while (len > 1 && f->target[len - 1] == '/')
        f->target[--len] = '\0';
    const char *slash = strrchr(f->target, '/');
    f->base = strdup(slash ? slash + 1 : f->target);
    f->parent = slash == NULL ? strdup(".")
                : slash == f->target
                    ? strdup("/")
                    : strndup(f->target, (size_t)(slash - f->target));
    if (f->base == NULL || f->parent == NULL)
        return cdr_diag_set(d, CDR_E_NOMEM, NULL, NULL, 0, NULL);
    if (f->base[0] == '\0' || strcmp(f->base, ".") == 0 ||
        strcmp(f->base, "..") == 0 || strcmp(f->base, "/") == 0)
        return cdr_diag_io(d, folder, "output folder", EINVAL);
    return 0;
}

int
rt_out_folder_open(struct rt_out_folder **out, const char *folder,
                   const char *const *names, size_t n, struct cdr_diag *d)
{
    *out = NULL;
    struct rt_out_folder *f = calloc(1, sizeof *f);
    if (f == NULL)
        return cdr_diag_set(d, CDR_E_NOMEM, NULL, NULL, 0, NULL);
    f->work_fd = -1;
    f->names = names;
    f->n = n;
    int rc = locate(f, folder, d);
    if (rc == 0) {
        restore_aside(f);
        remove_dead_runs(f);
        remove_files(f, f->target, 0, 0); /* an older version's leftovers */
        rc = check_target(f, d);
    }
    char tmpl[PATH_MAX];
    if (rc == 0 && snprintf(tmpl, sizeof tmpl, "%s/.%s.run-XXXXXX", f->parent,
                            f->base) >= (int)sizeof tmpl)
        rc = cdr_diag_io(d, folder, "output folder", ENAMETOOLONG);
    if (rc == 0 && (mkdtemp(tmpl) == NULL || (f->work = strdup(tmpl)) == NULL))
        rc = cdr_diag_io(d, f->parent, "cannot create the run's folder", errno);
    if (rc == 0 &&
        ((f->work_fd = open(f->work, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
         flock(f->work_fd, LOCK_EX | LOCK_NB) != 0))
        rc = cdr_diag_io(d, f->work, "cannot lock the run's folder", errno);
    if (rc != 0) {
        rt_out_folder_free(f);
        return rc;
    }
    *out = f;
    return 0;
}

const char *
rt_out_folder_path(struct rt_out_folder *f, const char *name)
{
    snprintf(f->path, sizeof f->path, "%s/%s", f->work, name);
    return f->path;
}

static int
fsync_path(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* Where the file system cannot exchange two names (some network and
 * FUSE file systems): the earlier output moves aside, then this run's
 * takes its name.  Between the two renames the folder is missing, never
 * mixed; after a crash there the next run puts the earlier output back
 * (restore_aside) before anything else. */
static int
publish_in_two(struct rt_out_folder *f, struct cdr_diag *d)
{
    char old[PATH_MAX];
    if (snprintf(old, sizeof old, "%s/.%s.old", f->parent, f->base) >=
        (int)sizeof old)
        return cdr_diag_io(d, f->target, "publishing the output", ENAMETOOLONG);
    if (rename(f->target, old) != 0)
        return cdr_diag_io(d, f->target, "publishing the output (aside)",
                           errno);
    if (rename(f->work, f->target) != 0) {
        int e = errno;
        (void)rename(old, f->target);
        return cdr_diag_io(d, f->target, "publishing the output", e);
    }
    f->published = 1;
    remove_files(f, old, 1, 1);
    return 0;
}

int
rt_out_folder_publish(struct rt_out_folder *f, struct cdr_diag *d)
{
    if (fsync(f->work_fd) != 0)
        return cdr_diag_io(d, f->work, "fsync of the run's folder", errno);
    struct stat st;
    if (stat(f->target, &st) != 0) {
        if (errno != ENOENT || rename(f->work, f->target) != 0)
            return cdr_diag_io(d, f->target, "publishing the output", errno);
        f->published = 1;
    } else if (renameat2(AT_FDCWD, f->work, AT_FDCWD, f->target,
                         RENAME_EXCHANGE) == 0) {
        f->published = 1; /* the earlier output is now at f->work */
        remove_files(f, f->work, 1, 1);
    } else if (errno == EINVAL || errno == ENOSYS) {
        int rc = publish_in_two(f, d);
        if (rc != 0)
            return rc;
    } else {
        return cdr_diag_io(d, f->target, "publishing the output (rename)",
                           errno);
    }
    if (fsync_path(f->parent) != 0)
        return cdr_diag_io(d, f->parent, "fsync of the output's folder", errno);
    return 0;
}

void
rt_out_folder_free(struct rt_out_folder *f)
{
    if (f == NULL)
        return;
    if (f->work != NULL && !f->published)
        remove_files(f, f->work, 1, 1);
    if (f->work_fd >= 0)
        close(f->work_fd);
    free(f->target);
    free(f->parent);
    free(f->base);
    free(f->work);
    free(f);
}

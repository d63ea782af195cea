/*
 * The CSV sink's output folder, published whole: a run writes its files
 * into a folder of its own beside the output folder, and commit swaps the
 * two in one rename (renameat2 RENAME_EXCHANGE), so a reader sees the
 * earlier run's four files or this run's, never a mix, whatever fails or
 * kills the run on the way.  The earlier output is then removed.
 *
 * A run's folder is named .NAME.run-XXXXXX beside the output folder NAME
 * and locked (flock) while its run lives: the next run removes the ones
 * whose run died (killed, out of memory), and the hidden temporary files
 * older versions left inside NAME.
 *
 * The output folder belongs to referee-rate: one that holds anything but
 * its four files is refused rather than replaced.
 */
#ifndef REFEREE_RT_OUT_FOLDER_H
#define REFEREE_RT_OUT_FOLDER_H

#include "cdr/util/cdr_diag.h"

#include <stddef.h>

struct rt_out_folder;

/*
 * Get ready to publish into `folder` (created at commit if missing):
 * remove what dead runs left, check the folder holds only the files named
 * in names[0..n), create and lock this run's folder.  *out for
 * rt_out_folder_free().  0, or CDR_E_IO / CDR_E_NOMEM with d filled.
 */
int rt_out_folder_open(struct rt_out_folder **out, const char *folder,
                       const char *const *names, size_t n, struct cdr_diag *d);

/* Where file `name` of this run is written (in the run's folder).
 * Borrowed until the next call. */
const char *rt_out_folder_path(struct rt_out_folder *f, const char *name);

/* Publish the run's folder as the output folder (its files complete and
 * synced first: the caller committed them).  0, or CDR_E_IO; the earlier
 * output is as it was then. */
int rt_out_folder_publish(struct rt_out_folder *f, struct cdr_diag *d);

/* Remove the run's folder unless published, and free.  NULL: no-op. */
void rt_out_folder_free(struct rt_out_folder *f);

#endif

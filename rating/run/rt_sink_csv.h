/*
 * The CSV folder sink: charges.csv, rejects.csv, pending.csv and
 * summary.json in one folder.  Each is written under a temporary name and
 * renamed at commit, summary.json last, so a folder whose summary.json names
 * this run holds this run's complete output; a failed run leaves the
 * previous output as it was.
 */
#ifndef REFEREE_RT_SINK_CSV_H
#define REFEREE_RT_SINK_CSV_H

#include "cdr/util/cdr_diag.h"
#include "rating/run/rt_sink.h"

/* The folder is created if missing (one level).  out->self is freed by
 * out->ops->free(out->self). */
int rt_sink_csv_open(struct rt_sink *out, const char *folder,
                     struct cdr_diag *d);

#endif

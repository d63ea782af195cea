/*
 * The CSV folder sink: charges.csv, rejects.csv, pending.csv and
 * summary.json in one folder, published whole at commit
 * (rt_out_folder.h): a reader sees the earlier run's four files or this
 * run's, and a failed or killed run leaves the earlier output as it was.
 */
#ifndef REFEREE_RT_SINK_CSV_H
#define REFEREE_RT_SINK_CSV_H

#include "cdr/util/cdr_diag.h"
#include "rating/run/rt_sink.h"

/* The folder is created at commit if missing (one level); it must hold
 * nothing but these four files.  out->self is freed by
 * out->ops->free(out->self). */
int rt_sink_csv_open(struct rt_sink *out, const char *folder,
                     struct cdr_diag *d);

#endif

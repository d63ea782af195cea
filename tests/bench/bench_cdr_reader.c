/*
 * Reader throughput: read (and, with -v, validate) every row of a file.
 * Not built by CMake (benchmarks are run by hand):
 *   cc -O2 -I. tests/bench/bench_cdr_reader.c build/libreferee_cdr.a -lcsv \
 *      -o /tmp/bench_cdr_reader
 *   /tmp/bench_cdr_reader [-v] calls.csv
 */
#include "cdr/csv/cdr_record_reader.h"
#include "cdr/record/cdr_validate.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int main(int argc, char **argv);

int
main(int argc, char **argv)
{
    int validate = argc > 2 && strcmp(argv[1], "-v") == 0;
    const char *path = argv[argc - 1];
    struct cdr_reader *r;
    struct cdr_diag d;
    cdr_diag_clear(&d);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (cdr_reader_open(&r, path, NULL, &d) != 0) {
        fprintf(stderr, "%s: %s\n", path, d.message);
        return 1;
    }
    long rows = 0, bad = 0;
    int rc;
    struct cdr_row row;
    struct cdr_record rec;
    while ((rc = cdr_reader_next(r, &row, &d)) != 0) {
        if (rc < 0 && !cdr_reader_row_error(rc))
            break;
        rows++;
        if (rc < 0 || (validate && cdr_validate(&row, &rec, &d) != 0))
            bad++;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    /* integers only: the project keeps floating point out */
    long long us = (long long)(t1.tv_sec - t0.tv_sec) * 1000000 +
                   (t1.tv_nsec - t0.tv_nsec) / 1000;
    if (us <= 0)
        us = 1;
    unsigned long long bytes = (unsigned long long)cdr_reader_offset(r);
    printf("%ld rows (%ld bad), %llu bytes, %lld ms, %llu MB/s, %lld rows/s\n",
           rows, bad, bytes, us / 1000, bytes / (unsigned long long)us,
           (long long)rows * 1000000 / us);
    cdr_reader_close(r);
    return rc < 0 ? 1 : 0;
}

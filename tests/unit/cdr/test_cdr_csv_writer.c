#include "cdr/csv/cdr_csv_writer.h"
#include "cdr/csv/cdr_record_reader.h"

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

struct ctx {
    char dir[256];
    char path[320];
};

static int
setup(void **state)
{
    struct ctx *c = calloc(1, sizeof *c);
    if (c == NULL)
        return -1;
    snprintf(c->dir, sizeof c->dir, "/tmp/referee-writer-XXXXXX");
    if (mkdtemp(c->dir) == NULL)
        return -1;
    snprintf(c->path, sizeof c->path, "%s/out.csv", c->dir);
    *state = c;
    return 0;
}

static int
files_in(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d != NULL && (e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    if (d != NULL)
        closedir(d);
    return n;
}

static int
teardown(void **state)
{
    struct ctx *c = *state;
    unlink(c->path);
    rmdir(c->dir);
    free(c);
    return 0;
}

static char *
slurp(const char *path)
{
    static char buf[8192];
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

static void
write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void
test_commit_replaces_the_target_and_leaves_no_temporary(void **state)
{
    struct ctx *c = *state;
    write_file(c->path, "old\n");
    struct cdr_writer *w;
    struct cdr_diag d;
    cdr_diag_clear(&d);
    assert_int_equal(cdr_writer_open(&w, c->path, &d), 0);
    assert_int_equal(cdr_writer_field_str(w, "sid"), 0);
    assert_int_equal(cdr_writer_field_str(w, "duration"), 0);
    assert_int_equal(cdr_writer_end_row(w), 0);
    assert_int_equal(cdr_writer_field(w, "CA1xyz", 3), 0);
    assert_int_equal(cdr_writer_field_int(w, -120), 0);
    assert_int_equal(cdr_writer_end_row(w), 0);
    /* not visible until commit */
    assert_string_equal(slurp(c->path), "old\n");
    assert_int_equal(files_in(c->dir), 2);
    assert_int_equal(cdr_writer_commit(w, &d), 0);
    cdr_writer_free(w);
    assert_string_equal(slurp(c->path), "sid,duration\nCA1,-120\n");
    assert_int_equal(files_in(c->dir), 1);
}

static void
test_abort_leaves_the_old_file_and_removes_the_temporary(void **state)
{
    struct ctx *c = *state;
    write_file(c->path, "old\n");
    struct cdr_writer *w;
    struct cdr_diag d;
    assert_int_equal(cdr_writer_open(&w, c->path, &d), 0);
    assert_int_equal(cdr_writer_field_str(w, "new"), 0);
    assert_int_equal(cdr_writer_end_row(w), 0);
    cdr_writer_abort(w);
    cdr_writer_free(w);
    assert_string_equal(slurp(c->path), "old\n");
    assert_int_equal(files_in(c->dir), 1);
}

static void
test_free_without_commit_aborts(void **state)
{
    struct ctx *c = *state;
    unlink(c->path);
    struct cdr_writer *w;
    struct cdr_diag d;
    assert_int_equal(cdr_writer_open(&w, c->path, &d), 0);
    assert_int_equal(cdr_writer_raw(w, "{}\n", 3), 0);
    cdr_writer_free(w);
    assert_null(slurp(c->path));
    assert_int_equal(files_in(c->dir), 0);
    cdr_writer_free(NULL);
}

static void
test_new_file_gets_ordinary_permissions(void **state)
{
    struct ctx *c = *state;
    unlink(c->path);
    mode_t old = umask(022);
    struct cdr_writer *w;
    struct cdr_diag d;
    assert_int_equal(cdr_writer_open(&w, c->path, &d), 0);
    assert_int_equal(cdr_writer_commit(w, &d), 0);
    cdr_writer_free(w);
    umask(old);
    struct stat st;
    assert_int_equal(stat(c->path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
    assert_string_equal(slurp(c->path), "");
}

static void
test_open_in_a_missing_folder_fails_with_the_path(void **state)
{
    (void)state;
    struct cdr_writer *w = NULL;
    struct cdr_diag d;
    cdr_diag_clear(&d);
    assert_int_equal(cdr_writer_open(&w, "/nonexistent-dir/out.csv", &d),
                     CDR_E_IO);
    assert_string_equal(d.file, "/nonexistent-dir/out.csv");
    assert_null(w);
}

static void
test_failed_rename_reports_io_and_removes_the_temporary(void **state)
{
    struct ctx *c = *state;
    /* the target is a folder: rename(2) over it fails */
    assert_int_equal(mkdir(c->path, 0755), 0);
    struct cdr_writer *w;
    struct cdr_diag d;
    cdr_diag_clear(&d);
    assert_int_equal(cdr_writer_open(&w, c->path, &d), 0);
    assert_int_equal(cdr_writer_field_str(w, "x"), 0);
    assert_int_equal(cdr_writer_commit(w, &d), CDR_E_IO);
    assert_non_null(strstr(d.message, "rename"));
    assert_string_equal(d.file, c->path);
    cdr_writer_free(w);
    assert_int_equal(files_in(c->dir), 1); /* only the folder */
    assert_int_equal(rmdir(c->path), 0);
}

static void
test_commit_twice_is_a_usage_error(void **state)
{
    struct ctx *c = *state;
    struct cdr_writer *w;
    struct cdr_diag d;
    assert_int_equal(cdr_writer_open(&w, c->path, &d), 0);
    assert_int_equal(cdr_writer_commit(w, &d), 0);
    assert_int_equal(cdr_writer_commit(w, &d), CDR_E_USAGE);
    assert_int_equal(cdr_writer_field_str(w, "x"), CDR_E_USAGE);
    cdr_writer_free(w);
}

static void
test_only_fields_that_need_it_are_quoted(void **state)
{
    struct ctx *c = *state;
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"plain", "plain"},
        {"", ""},
        {"a,b", "\"a,b\""},
        {"say \"hi\"", "\"say \"\"hi\"\"\""},
        {"two\nlines", "\"two\nlines\""},
        {"cr\r", "\"cr\r\""},
        {" lead", "\" lead\""},
        {"trail ", "\"trail \""},
        {"in side", "in side"},
        {"\ttab", "\"\ttab\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct cdr_writer *w;
        struct cdr_diag d;
        assert_int_equal(cdr_writer_open(&w, c->path, &d), 0);
        assert_int_equal(cdr_writer_field_str(w, cases[i].in), 0);
        assert_int_equal(cdr_writer_commit(w, &d), 0);
        cdr_writer_free(w);
        assert_string_equal(slurp(c->path), cases[i].out);
    }
}

static void
test_quoted_fields_round_trip_through_the_reader(void **state)
{
    struct ctx *c = *state;
    static const char *const values[] = {
        "CA1",    "a,b",        "say \"hi\"", "two\nlines", " lead",
        "trail ", "crlf\r\nin", "\"\"",       ",",          "x",
    };
    const size_t n = sizeof values / sizeof values[0];
    struct cdr_writer *w;
    struct cdr_diag d;
    assert_int_equal(cdr_writer_open(&w, c->path, &d), 0);
    assert_int_equal(cdr_writer_field_str(w, "sid"), 0);
    assert_int_equal(cdr_writer_field_str(w, "from"), 0);
    assert_int_equal(cdr_writer_end_row(w), 0);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(cdr_writer_field_str(w, values[i]), 0);
        assert_int_equal(cdr_writer_field_str(w, values[n - 1 - i]), 0);
        assert_int_equal(cdr_writer_end_row(w), 0);
    }
    assert_int_equal(cdr_writer_commit(w, &d), 0);
    cdr_writer_free(w);

    struct cdr_reader *r;
    assert_int_equal(cdr_reader_open(&r, c->path, NULL, &d), 0);
    for (size_t i = 0; i < n; i++) {
        struct cdr_row row;
        assert_int_equal(cdr_reader_next(r, &row, &d), 1);
        struct cdr_slice s = row.field[CDR_COL_SID];
        struct cdr_slice f = row.field[CDR_COL_FROM];
        assert_true(s.n == strlen(values[i]) &&
                    memcmp(s.p, values[i], s.n) == 0);
        assert_true(f.n == strlen(values[n - 1 - i]) &&
                    memcmp(f.p, values[n - 1 - i], f.n) == 0);
        /* and the reader's raw text is what the writer wrote */
        struct cdr_slice raw = cdr_reader_raw(r);
        assert_non_null(raw.p);
    }
    struct cdr_row row;
    assert_int_equal(cdr_reader_next(r, &row, &d), 0);
    cdr_reader_close(r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_commit_replaces_the_target_and_leaves_no_temporary, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_abort_leaves_the_old_file_and_removes_the_temporary, setup,
            teardown),
        cmocka_unit_test_setup_teardown(test_free_without_commit_aborts, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_new_file_gets_ordinary_permissions,
                                        setup, teardown),
        cmocka_unit_test(test_open_in_a_missing_folder_fails_with_the_path),
        cmocka_unit_test_setup_teardown(
            test_failed_rename_reports_io_and_removes_the_temporary, setup,
            teardown),
        cmocka_unit_test_setup_teardown(test_commit_twice_is_a_usage_error,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_only_fields_that_need_it_are_quoted, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_quoted_fields_round_trip_through_the_reader, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

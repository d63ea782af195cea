/*
 * Record files: columns as referee-rate reads them, rotation by period,
 * nothing visible before a file is complete, earlier files never replaced.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "cdr/capture/write/cap_writer.h"
#include "cdr/csv/cdr_record_writer.h"
#include "cdr/util/cdr_time.h"
#include "cdr/record/cdr_record.h"

#define T0 1778400000 /* 2026-05-10T08:00:00Z */

static char dir[256];

static int
setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/referee-capw-XXXXXX");
    assert_non_null(mkdtemp(dir));
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[512];
    while (d != NULL && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' &&
            (e->d_name[1] == '\0' || (e->d_name[1] == '.' && !e->d_name[2])))
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    if (d)
        closedir(d);
    rmdir(dir);
    return 0;
}

/* Names in dir, sorted, joined by ' '. */
static void
list_dir(char *out, size_t size)
{
    struct dirent **names;
    int n = scandir(dir, &names, NULL, alphasort);
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        if (names[i]->d_name[0] != '.' || strstr(names[i]->d_name, ".csv.")) {
            if (out[0])
                strncat(out, " ", size - strlen(out) - 1);
            strncat(out, names[i]->d_name, size - strlen(out) - 1);
        }
        free(names[i]);
    }
    free(names);
}

static void
read_file(const char *name, char *out, size_t size)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "rb");
    assert_non_null(f);
    size_t n = fread(out, 1, size - 1, f);
    out[n] = '\0';
    fclose(f);
}

static struct cdr_slice
sl(const char *s)
{
    return (struct cdr_slice){s, strlen(s)};
}

static struct cdr_record
rec(const char *sid, int64_t start)
{
    struct cdr_record r = {
        .sid = sl(sid),
        .parent_call_sid = sl(""),
        .direction = CDR_DIR_TERMINATING,
        .from = sl("+14155550111"),
        .to = sl("+14155550100"),
        .start_time = start,
        .end_time = start + 61,
        .has_end_time = 1,
        .duration = 61,
        .has_duration = 1,
        .status_text = sl("completed"),
        .status = CDR_ST_COMPLETED,
        .trunk_sid = sl("TK0001"),
        .transfer_target = sl("sip:a@b.example;x=\"1,2\""),
        .transfer_status = sl("failed 486"),
    };
    return r;
}

/* The record header of both programs (cdr_record_header_text). */
static char header[512];

static void
test_header_is_the_one_column_list(void **state)
{
    (void)state;
    assert_true(cdr_record_header_text(header, sizeof header) > 0);
    assert_string_equal(
        header, "sid,parent_call_sid,account_sid,trunk_sid,direction,from,to,"
                "start_time,end_time,duration,status,price,price_unit,"
                "transfer_target,transfer_status\n");
}

static void
test_rows_are_written_on_commit_only(void **state)
{
    (void)state;
    struct cap_writer *w;
    struct cdr_diag d;
    assert_int_equal(cap_writer_new(&w, dir, 3600, &d), 0);
    assert_int_equal(cap_writer_set_time(w, T0 + 10), 0);
    struct cdr_record r = rec("call-1", T0 + 5);
    assert_int_equal(cap_writer_record(w, &r), 0);
    r = rec("call,2", T0 + 6);
    r.has_duration = 0;
    r.has_end_time = 0;
    r.status_text = sl("unobserved");
    r.status = CDR_ST_UNOBSERVED;
    r.parent_call_sid = sl("call-1");
    r.transfer_target = sl("");
    r.transfer_status = sl("");
    assert_int_equal(cap_writer_record(w, &r), 0);
    char names[1024];
    list_dir(names, sizeof names);
    assert_null(strstr(names, "calls-20260510T080000Z.csv ")); /* temp only */
    assert_int_equal(
        strncmp(names, ".calls", 6) == 0 || strstr(names, ".tmp.") != NULL, 1);
    assert_int_equal(cap_writer_close(w, &d), 0);
    list_dir(names, sizeof names);
    assert_string_equal(names, "calls-20260510T080000Z.csv");
    char text[2048], want[2048];
    assert_true(cdr_record_header_text(header, sizeof header) > 0);
    read_file("calls-20260510T080000Z.csv", text, sizeof text);
    snprintf(want, sizeof want, "%s%s", header,
             "call-1,,,TK0001,trunking-terminating,+14155550111,+14155550100,"
             "2026-05-10T08:00:05Z,2026-05-10T08:01:06Z,61,completed,,,"
             "\"sip:a@b.example;x=\"\"1,2\"\"\",failed 486\n"
             "\"call,2\",call-1,,TK0001,trunking-terminating,+14155550111,"
             "+14155550100,2026-05-10T08:00:06Z,,,unobserved,,,,\n");
    assert_string_equal(text, want);
}

static void
test_rotation_by_period_and_sighup(void **state)
{
    (void)state;
    struct cap_writer *w;
    struct cdr_diag d;
    assert_int_equal(cap_writer_new(&w, dir, 3600, &d), 0);
    struct cdr_record r = rec("a", T0);
    assert_int_equal(cap_writer_set_time(w, T0 + 3599), 0);
    assert_int_equal(cap_writer_record(w, &r), 0);
    assert_int_equal(cap_writer_set_time(w, T0 + 3600), 0); /* commit */
    assert_int_equal(cap_writer_files(w), 1);
    assert_int_equal(cap_writer_set_time(w, T0 + 7300), 0); /* no file open */
    assert_int_equal(cap_writer_record(w, &r), 0);
    assert_int_equal(cap_writer_rotate(w), 0); /* SIGHUP */
    assert_int_equal(cap_writer_record(w, &r), 0);
    assert_int_equal(cap_writer_close(w, &d), 0);
    char names[1024];
    list_dir(names, sizeof names);
    assert_string_equal(names, "calls-20260510T080000Z.csv "
                               "calls-20260510T100000Z-1.csv "
                               "calls-20260510T100000Z.csv");
    assert_int_equal(cap_writer_close(NULL, NULL), 0);
}

static void
test_time_formatting(void **state)
{
    (void)state;
    char b[32];
    cdr_time_format(0, b, sizeof b);
    assert_string_equal(b, "1970-01-01T00:00:00Z");
    cdr_time_format(951782400, b, sizeof b); /* leap day */
    assert_string_equal(b, "2000-02-29T00:00:00Z");
    cdr_time_format(T0 + 86399, b, sizeof b);
    assert_string_equal(b, "2026-05-11T07:59:59Z");
    cdr_time_format(-1, b, sizeof b);
    assert_string_equal(b, "1969-12-31T23:59:59Z");
}

static void
test_bad_output_folder(void **state)
{
    (void)state;
    struct cap_writer *w;
    struct cdr_diag d;
    assert_int_equal(cap_writer_new(&w, "/nonexistent/x", 3600, &d), CDR_E_IO);
    assert_int_equal(cap_writer_new(&w, dir, 0, &d), CDR_E_USAGE);
}

static void
write_raw(const char *name, const char *text)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

/* A writer killed with rows written (SIGKILL: nothing runs at exit): the
 * next writer in the folder commits them, once. */
static void
test_a_killed_writers_rows_are_committed_by_the_next(void **state)
{
    (void)state;
    struct cap_writer *w;
    struct cdr_diag d;
    uint64_t files, rows;
    char names[1024], text[2048];
    int status;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct cdr_record r = rec("call-1", T0 + 5);
        if (cap_writer_new(&w, dir, 3600, &d) != 0)
            _exit(2);
        cap_writer_flush_each(w, 1);
        if (cap_writer_record(w, &r) != 0)
            _exit(3);
        r.sid = sl("call-2");
        if (cap_writer_record(w, &r) != 0)
            _exit(4);
        raise(SIGKILL);
        _exit(5);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    list_dir(names, sizeof names);
    assert_int_equal(strncmp(names, ".calls-20260510T080000Z.csv.", 28), 0);

    assert_int_equal(cap_writer_new(&w, dir, 3600, &d), 0);
    cap_writer_recovered(w, &files, &rows);
    assert_int_equal(files, 1);
    assert_int_equal(rows, 2);
    assert_int_equal(cap_writer_close(w, &d), 0);
    list_dir(names, sizeof names);
    assert_string_equal(names, "calls-20260510T080000Z.csv");
    read_file("calls-20260510T080000Z.csv", text, sizeof text);
    assert_non_null(strstr(text, "\ncall-1,"));
    assert_non_null(strstr(text, "\ncall-2,"));

    /* and not twice */
    assert_int_equal(cap_writer_new(&w, dir, 3600, &d), 0);
    cap_writer_recovered(w, &files, &rows);
    assert_int_equal(files, 0);
    assert_int_equal(cap_writer_close(w, &d), 0);
}

/* A row cut by the kill is dropped, a file with no whole row goes, a
 * foreign file stays, and a taken name gets the next -N.  A file that a
 * killed referee-capture 0.1 left open (its own header) is committed too. */
static void
test_recovery_keeps_whole_rows_only(void **state)
{
    (void)state;
    struct cap_writer *w;
    struct cdr_diag d;
    uint64_t files, rows;
    char names[1024], text[2048], body[2048];
    static const char legacy[] =
        "sid,parent_call_sid,direction,from,to,start_time,end_time,duration,"
        "status,trunk_sid,transfer_target,transfer_status\n";
    assert_true(cdr_record_header_text(header, sizeof header) > 0);
    write_raw("calls-20260510T080000Z.csv", header);
    snprintf(body, sizeof body,
             "%swhole,,,TK,d,f,t,s,e,1,completed,,,,\n"
             "cut,,d,f",
             header);
    write_raw(".calls-20260510T080000Z.csv.aB3dE9", body);
    write_raw(".calls-20260510T090000Z.csv.xY12zz", "sid,par");
    write_raw(".calls-20260510T100000Z.csv.qwerty", "not,our,header\na,b,c\n");
    snprintf(body, sizeof body, "%sold,,d,f,t,s,e,1,completed,TK,,\n", legacy);
    write_raw(".calls-20260510T110000Z.csv.l3gacy", body);
    assert_int_equal(cap_writer_new(&w, dir, 3600, &d), 0);
    cap_writer_recovered(w, &files, &rows);
    assert_int_equal(files, 2);
    assert_int_equal(rows, 2);
    assert_int_equal(cap_writer_close(w, &d), 0);
    list_dir(names, sizeof names);
    assert_string_equal(names, ".calls-20260510T100000Z.csv.qwerty "
                               "calls-20260510T080000Z-1.csv "
                               "calls-20260510T080000Z.csv "
                               "calls-20260510T110000Z.csv");
    read_file("calls-20260510T080000Z-1.csv", text, sizeof text);
    snprintf(body, sizeof body, "%swhole,,,TK,d,f,t,s,e,1,completed,,,,\n",
             header);
    assert_string_equal(text, body);
    read_file("calls-20260510T110000Z.csv", text, sizeof text);
    snprintf(body, sizeof body, "%sold,,d,f,t,s,e,1,completed,TK,,\n", legacy);
    assert_string_equal(text, body);
}

static void
test_one_writer_per_folder(void **state)
{
    (void)state;
    struct cap_writer *w, *w2;
    struct cdr_diag d;
    assert_int_equal(cap_writer_new(&w, dir, 3600, &d), 0);
    assert_int_equal(cap_writer_new(&w2, dir, 3600, &d), CDR_E_IO);
    assert_non_null(strstr(d.message, "another referee-capture"));
    assert_int_equal(cap_writer_close(w, &d), 0);
    assert_int_equal(cap_writer_new(&w2, dir, 3600, &d), 0);
    assert_int_equal(cap_writer_close(w2, &d), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_is_the_one_column_list),
        cmocka_unit_test_setup_teardown(test_rows_are_written_on_commit_only,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_rotation_by_period_and_sighup,
                                        setup, teardown),
        cmocka_unit_test(test_time_formatting),
        cmocka_unit_test_setup_teardown(test_bad_output_folder, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_a_killed_writers_rows_are_committed_by_the_next, setup,
            teardown),
        cmocka_unit_test_setup_teardown(test_recovery_keeps_whole_rows_only,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_one_writer_per_folder, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

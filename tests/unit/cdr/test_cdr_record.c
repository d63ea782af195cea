/*
 * The record's vocabulary (columns, header names, directions, statuses)
 * and the record writer, read back by the record reader.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cdr/csv/cdr_record_reader.h"
#include "cdr/csv/cdr_record_writer.h"
#include "cdr/record/cdr_validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct cdr_slice
S(const char *s) {
    return (struct cdr_slice){s, strlen(s)};
}

static void
test_header_names_map_to_columns(void **state)
{
    (void)state;
    assert_int_equal(cdr_column_of("sid"), CDR_COL_SID);
    assert_int_equal(cdr_column_of("callsid"), CDR_COL_SID);
    assert_int_equal(cdr_column_of("parentcallsid"), CDR_COL_PARENT_CALL_SID);
    assert_int_equal(cdr_column_of("transferstatus"), CDR_COL_TRANSFER_STATUS);
    assert_int_equal(cdr_column_of("priceunit"), CDR_COL_PRICE_UNIT);
    assert_int_equal(cdr_column_of("price"), CDR_COL_PRICE);
    assert_int_equal(cdr_column_of("parent_call_sid"), -1); /* normalised */
    assert_int_equal(cdr_column_of("pric"), -1);
    assert_int_equal(cdr_column_of("prices"), -1);
    assert_int_equal(cdr_column_of(""), -1);
    for (int c = 0; c < CDR_COL__COUNT; c++) {
        char norm[64];
        const char *name = cdr_column_name((enum cdr_column)c);
        cdr_csv_normalise_name(name, strlen(name), norm, sizeof norm);
        assert_int_equal(cdr_column_of(norm), c);
    }
}

static void
test_statuses_and_directions_round_trip(void **state)
{
    (void)state;
    for (int s = CDR_ST_COMPLETED; s < CDR_ST_OTHER; s++) {
        const char *name = cdr_status_name((enum cdr_status)s);
        assert_true(name[0] != '\0');
        assert_int_equal(cdr_status_of(S(name)), s);
    }
    assert_int_equal(cdr_status_of(S("")), CDR_ST_NONE);
    assert_int_equal(cdr_status_of(S("No Answer")), CDR_ST_NO_ANSWER);
    assert_int_equal(cdr_status_of(S("IN_PROGRESS")), CDR_ST_IN_PROGRESS);
    assert_int_equal(cdr_status_of(S("cancelled")), CDR_ST_CANCELED);
    assert_int_equal(cdr_status_of(S("weird")), CDR_ST_OTHER);
    assert_int_equal(cdr_status_of(S("completed-and-then-some")), CDR_ST_OTHER);
    assert_string_equal(cdr_status_name(CDR_ST_OTHER), "");
    enum cdr_direction d;
    assert_int_equal(cdr_direction_of(S("Trunking_Originating"), &d), 0);
    assert_int_equal(d, CDR_DIR_ORIGINATING);
    assert_int_equal(cdr_direction_of(S("trunking-terminating"), &d), 0);
    assert_int_equal(d, CDR_DIR_TERMINATING);
    assert_int_equal(cdr_direction_of(S("inbound"), &d), -1);
}

static void
test_written_records_read_back_the_same(void **state)
{
    (void)state;
    char path[] = "/tmp/referee-record-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    struct cdr_diag d;
    struct cdr_writer *w;
    assert_int_equal(cdr_writer_open(&w, path, &d), 0);
    assert_int_equal(cdr_record_write_header(w), 0);
    struct cdr_record a = {
        .sid = S("CA1"),
        .parent_call_sid = S(""),
        .account_sid = S("AC1"),
        .trunk_sid = S("TK1"),
        .direction = CDR_DIR_ORIGINATING,
        .from = S("+14155550100"),
        .to = S("sip:alice@pbx.example.com"),
        .start_time = 1778400137,
        .end_time = 1778400200,
        .has_end_time = 1,
        .duration = 61,
        .has_duration = 1,
        .status_text = S("completed"),
        .price = S("-0.0150"),
        .price_unit = S("USD"),
        .transfer_target = S("tel:+14155550199"),
        .transfer_status = S("failed 486"),
    };
    struct cdr_record b = a;
    b.sid = S("CA2;refer=2");
    b.parent_call_sid = S("CA1");
    b.has_end_time = 0;
    b.has_duration = 0;
    b.status_text = S("in-progress");
    b.price = b.price_unit = S("");
    b.transfer_target = S("\"Bob, Jr\" <sip:bob@pbx.example.com>");
    assert_int_equal(cdr_record_write(w, &a), 0);
    assert_int_equal(cdr_record_write(w, &b), 0);
    assert_int_equal(cdr_writer_commit(w, &d), 0);
    cdr_writer_free(w);

    char head[512];
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(fgets(head, sizeof head, f));
    fclose(f);
    char expect[512];
    assert_true(cdr_record_header_text(expect, sizeof expect) > 0);
    assert_string_equal(head, expect);
    assert_int_equal(cdr_record_header_text(expect, 10), -1);

    struct cdr_reader *r;
    struct cdr_row row;
    struct cdr_record got;
    assert_int_equal(cdr_reader_open(&r, path, NULL, &d), 0);
    const struct cdr_record *want[2] = {&a, &b};
    for (int i = 0; i < 2; i++) {
        assert_int_equal(cdr_reader_next(r, &row, &d), 1);
        for (int c = 0; c < CDR_COL__COUNT; c++)
            assert_true(row.present[c]);
        assert_int_equal(cdr_validate(&row, &got, &d), 0);
        const struct cdr_record *e = want[i];
        assert_int_equal(got.sid.n, e->sid.n);
        assert_memory_equal(got.sid.p, e->sid.p, e->sid.n);
        assert_int_equal(got.direction, e->direction);
        assert_int_equal(got.start_time, e->start_time);
        assert_int_equal(got.has_end_time, e->has_end_time);
        assert_int_equal(got.duration, e->has_duration ? e->duration : 0);
        assert_int_equal(got.transfer_target.n, e->transfer_target.n);
        assert_memory_equal(got.transfer_target.p, e->transfer_target.p,
                            e->transfer_target.n);
        assert_int_equal(got.status,
                         i == 0 ? CDR_ST_COMPLETED : CDR_ST_IN_PROGRESS);
    }
    assert_int_equal(row.field[CDR_COL_DURATION].n, 0); /* unknown: empty */
    assert_int_equal(cdr_reader_next(r, &row, &d), 0);
    cdr_reader_close(r);
    unlink(path);
}

static void
test_a_value_is_trimmed_of_spaces_and_tabs_only(void **state)
{
    (void)state;
    struct cdr_slice s =
        cdr_slice_trim((struct cdr_slice){" \t+1 415\r\t ", 11});
    assert_int_equal(s.n, 7);
    assert_memory_equal(s.p, "+1 415\r", 7);
    s = cdr_slice_trim((struct cdr_slice){" \t ", 3});
    assert_int_equal(s.n, 0);
    s = cdr_slice_trim((struct cdr_slice){"", 0});
    assert_int_equal(s.n, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_names_map_to_columns),
        cmocka_unit_test(test_statuses_and_directions_round_trip),
        cmocka_unit_test(test_written_records_read_back_the_same),
        cmocka_unit_test(test_a_value_is_trimmed_of_spaces_and_tabs_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

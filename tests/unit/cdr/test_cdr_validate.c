#include "cdr/record/cdr_validate.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

/* A good terminating record; tests change one column at a time. */
static const char *const good[CDR_COL__COUNT] = {
    [CDR_COL_SID] = "CA0001",
    [CDR_COL_PARENT_CALL_SID] = "",
    [CDR_COL_ACCOUNT_SID] = "AC01",
    [CDR_COL_TRUNK_SID] = "TK0001",
    [CDR_COL_DIRECTION] = "trunking-terminating",
    [CDR_COL_FROM] = "+14155550100",
    [CDR_COL_TO] = "+14155550199",
    [CDR_COL_START_TIME] = "2026-05-10T08:02:17Z",
    [CDR_COL_END_TIME] = "2026-05-10T08:04:17Z",
    [CDR_COL_DURATION] = "120",
    [CDR_COL_STATUS] = "completed",
    [CDR_COL_PRICE] = "-0.0090",
    [CDR_COL_PRICE_UNIT] = "USD",
    [CDR_COL_TRANSFER_TARGET] = "",
    [CDR_COL_TRANSFER_STATUS] = "",
};

static void
make_row(struct cdr_row *row, enum cdr_column col, const char *value)
{
    memset(row, 0, sizeof *row);
    for (int c = 0; c < CDR_COL__COUNT; c++) {
        const char *v = c == (int)col ? value : good[c];
        if (v == NULL)
            continue; /* NULL: the file has no such column */
        row->present[c] = 1;
        row->field[c].p = v;
        row->field[c].n = strlen(v);
    }
    row->file = "may.csv";
    row->line = 42;
    row->record = 41;
}

static int
check(enum cdr_column col, const char *value, struct cdr_record *rec,
      struct cdr_diag *d)
{
    struct cdr_row row;
    make_row(&row, col, value);
    cdr_diag_clear(d);
    return cdr_validate(&row, rec, d);
}

static void
test_good_record_is_accepted_with_every_field(void **state)
{
    (void)state;
    struct cdr_record rec;
    struct cdr_diag d;
    assert_int_equal(check(CDR_COL__COUNT, NULL, &rec, &d), 0);
    assert_int_equal(rec.direction, CDR_DIR_TERMINATING);
    assert_int_equal(rec.status, CDR_ST_COMPLETED);
    assert_true(rec.start_time == 1778400137);
    assert_true(rec.end_time == 1778400257);
    assert_true(rec.has_end_time);
    assert_true(rec.duration == 120);
    assert_true(rec.sid.n == 6 && memcmp(rec.sid.p, "CA0001", 6) == 0);
    assert_true(rec.price.n == 7 && memcmp(rec.price.p, "-0.0090", 7) == 0);
    assert_true(rec.price_unit.n == 3);
    assert_string_equal(rec.file, "may.csv");
    assert_int_equal(rec.line, 42);
    assert_true(cdr_record_billable(&rec));
}

/* One row per rejection: the column changed, its value, the code, the field
 * the diagnostic names and a piece of its detail. */
static const struct {
    enum cdr_column col;
    const char *value;
    int code;
    const char *field;
    const char *detail;
} rejects[] = {
    {CDR_COL_SID, "", CDR_E_MISSING, "sid", "required"},
    {CDR_COL_SID, NULL, CDR_E_MISSING, "sid", "no sid column"},
    {CDR_COL_SID, "   ", CDR_E_MISSING, "sid", "required"},
    {CDR_COL_SID, "CA 01", CDR_E_BAD_VALUE, "sid", "printable"},
    {CDR_COL_SID, "CA\n01", CDR_E_BAD_VALUE, "sid", "printable"},
    {CDR_COL_SID,
     "CA012345678901234567890123456789012345678901234567890123456789012345678"
     "90123456789012345678901234567890123456789012345678901234567890",
     CDR_E_TOO_LONG, "sid", "128"},
    {CDR_COL_PARENT_CALL_SID, "CA\x01", CDR_E_BAD_VALUE, "parent_call_sid",
     "printable"},
    {CDR_COL_TRUNK_SID, "TK 1", CDR_E_BAD_VALUE, "trunk_sid", "printable"},
    {CDR_COL_DIRECTION, "", CDR_E_MISSING, "direction", "required"},
    {CDR_COL_DIRECTION, "inbound", CDR_E_BAD_DIRECTION, "direction",
     "trunking-terminating or trunking-originating"},
    {CDR_COL_DIRECTION, "outbound-api", CDR_E_BAD_DIRECTION, "direction",
     "trunking-terminating"},
    {CDR_COL_DIRECTION, "trunking terminating", CDR_E_BAD_DIRECTION,
     "direction", "trunking"},
    {CDR_COL_DIRECTION, "trunking-terminatingx", CDR_E_BAD_DIRECTION,
     "direction", "trunking"},
    {CDR_COL_DIRECTION, "trunking-terminating-and-more-text-here",
     CDR_E_BAD_DIRECTION, "direction", "trunking"},
    {CDR_COL_FROM, "", CDR_E_MISSING, "from", "required"},
    {CDR_COL_FROM, "alice", CDR_E_BAD_URI, "from", "E.164"},
    {CDR_COL_TO, NULL, CDR_E_MISSING, "to", "no to column"},
    {CDR_COL_TO, "sip:@x", CDR_E_BAD_URI, "to", "sip: URI"},
    {CDR_COL_START_TIME, "", CDR_E_MISSING, "start_time", "required"},
    {CDR_COL_START_TIME, "2026-13-01T00:00:00Z", CDR_E_BAD_TIME, "start_time",
     "expected ISO 8601 with offset or Z, or RFC 2822"},
    {CDR_COL_START_TIME, "2026-05-10T08:02:17", CDR_E_BAD_TIME, "start_time",
     "ISO 8601"},
    {CDR_COL_START_TIME, "1969-12-31T23:59:59Z", CDR_E_BAD_TIME, "start_time",
     "1970"},
    {CDR_COL_END_TIME, "2026-02-29T00:00:00Z", CDR_E_BAD_TIME, "end_time",
     "ISO 8601"},
    {CDR_COL_END_TIME, "2026-05-10T08:02:16Z", CDR_E_BAD_TIME, "end_time",
     "earlier"},
    {CDR_COL_DURATION, "-5", CDR_E_BAD_NUMBER, "duration", "whole seconds"},
    {CDR_COL_DURATION, "12.5", CDR_E_BAD_NUMBER, "duration", "whole seconds"},
    {CDR_COL_DURATION, "1e3", CDR_E_BAD_NUMBER, "duration", "whole seconds"},
    {CDR_COL_DURATION, "99999999999999999999", CDR_E_BAD_NUMBER, "duration",
     "whole seconds"},
    {CDR_COL_DURATION, "2678401", CDR_E_BAD_NUMBER, "duration", "31 days"},
    {CDR_COL_STATUS, "unobserved", CDR_E_UNOBSERVED, "status", "could not see"},
    {CDR_COL_PRICE_UNIT, "US$", CDR_E_BAD_VALUE, "price_unit", "ISO 4217"},
    {CDR_COL_PRICE_UNIT, "USDX", CDR_E_BAD_VALUE, "price_unit", "ISO 4217"},
    {CDR_COL_TRANSFER_TARGET, "bob", CDR_E_BAD_URI, "transfer_target", "E.164"},
};

static void
test_every_rejection_names_code_field_value_and_detail(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof rejects / sizeof rejects[0]; i++) {
        struct cdr_record rec;
        struct cdr_diag d;
        int rc = check(rejects[i].col, rejects[i].value, &rec, &d);
        const char *v = rejects[i].value ? rejects[i].value : "(absent)";
        if (rc != rejects[i].code)
            fail_msg("case %zu %s=\"%s\": rc %d, expected %d", i,
                     cdr_column_name(rejects[i].col), v, rc, rejects[i].code);
        if (d.code != rc)
            fail_msg("case %zu: diag code %d", i, d.code);
        if (strcmp(d.field, rejects[i].field) != 0)
            fail_msg("case %zu: field \"%s\"", i, d.field);
        if (strstr(d.detail, rejects[i].detail) == NULL)
            fail_msg("case %zu \"%s\": detail \"%s\"", i, v, d.detail);
        if (strcmp(d.file, "may.csv") != 0 || d.line != 42)
            fail_msg("case %zu: position %s:%ld", i, d.file, d.line);
        if (d.message[0] == '\0')
            fail_msg("case %zu: no message", i);
        if (rc != CDR_E_MISSING && !d.has_value)
            fail_msg("case %zu: no value", i);
    }
}

static void
test_diag_prints_compiler_style_with_escaped_value(void **state)
{
    (void)state;
    struct cdr_record rec;
    struct cdr_diag d;
    char text[1024];
    check(CDR_COL_START_TIME, "2026-13-01T00:00:00Z", &rec, &d);
    cdr_diag_format(&d, text, sizeof text);
    assert_string_equal(text,
                        "may.csv:42: start_time: invalid timestamp "
                        "\"2026-13-01T00:00:00Z\"\n"
                        "  detail: expected ISO 8601 with offset or Z, or "
                        "RFC 2822");
    check(CDR_COL_SID, "A\"\n", &rec, &d);
    cdr_diag_format(&d, text, sizeof text);
    assert_non_null(strstr(text, "\"A\\\"\\x0a\""));
}

static void
test_direction_accepts_underscore_and_any_case(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        enum cdr_direction dir;
    } cases[] = {
        {"trunking-terminating", CDR_DIR_TERMINATING},
        {"trunking_terminating", CDR_DIR_TERMINATING},
        {"Trunking-Terminating", CDR_DIR_TERMINATING},
        {"TRUNKING_ORIGINATING", CDR_DIR_ORIGINATING},
        {" trunking-originating ", CDR_DIR_ORIGINATING},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct cdr_record rec;
        struct cdr_diag d;
        assert_int_equal(check(CDR_COL_DIRECTION, cases[i].in, &rec, &d), 0);
        assert_int_equal(rec.direction, cases[i].dir);
    }
}

static void
test_status_text_maps_to_its_enum(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        enum cdr_status st;
    } cases[] = {
        {"completed", CDR_ST_COMPLETED},
        {"Completed", CDR_ST_COMPLETED},
        {"busy", CDR_ST_BUSY},
        {"no-answer", CDR_ST_NO_ANSWER},
        {"no_answer", CDR_ST_NO_ANSWER},
        {"No Answer", CDR_ST_NO_ANSWER},
        {"failed", CDR_ST_FAILED},
        {"canceled", CDR_ST_CANCELED},
        {"cancelled", CDR_ST_CANCELED},
        {"in-progress", CDR_ST_IN_PROGRESS},
        {"queued", CDR_ST_QUEUED},
        {"Ringing", CDR_ST_RINGING},
        {"", CDR_ST_NONE},
        {NULL, CDR_ST_NONE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct cdr_record rec;
        struct cdr_diag d;
        assert_int_equal(check(CDR_COL_STATUS, cases[i].in, &rec, &d), 0);
        if (rec.status != cases[i].st)
            fail_msg("\"%s\": %d", cases[i].in, (int)rec.status);
    }
}

/* The carrier's vocabulary is closed: anything else is a reject naming
 * the field and the known values, never a call billed at zero. */
static void
test_unknown_status_is_rejected_with_the_known_values(void **state)
{
    (void)state;
    static const char *bad[] = {"complete", "weird",
                                "completed-but-much-longer-than-any"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct cdr_record rec;
        struct cdr_diag d;
        assert_int_equal(check(CDR_COL_STATUS, bad[i], &rec, &d),
                         CDR_E_BAD_VALUE);
        assert_string_equal(d.field, "status");
        assert_string_equal(d.message, "unknown status");
        assert_non_null(strstr(d.detail, "completed, busy, no-answer"));
    }
}

/* A duration longer than end_time - start_time (beyond the 1 s the
 * capture's rounding can add) contradicts the call's own times: rejected
 * with both values.  A shorter one is normal (ringing before the answer). */
static void
test_duration_longer_than_its_times_is_rejected(void **state)
{
    (void)state;
    struct cdr_record rec;
    struct cdr_diag d;
    /* end - start = 120 s */
    assert_int_equal(check(CDR_COL_DURATION, "2678400", &rec, &d),
                     CDR_E_BAD_NUMBER);
    assert_string_equal(d.field, "duration");
    assert_string_equal(d.message, "duration longer than the call");
    assert_string_equal(d.detail,
                        "duration 2678400 s, but end_time - start_time is "
                        "120 s");
    assert_int_equal(check(CDR_COL_DURATION, "122", &rec, &d),
                     CDR_E_BAD_NUMBER);
    assert_int_equal(check(CDR_COL_DURATION, "121", &rec, &d), 0);
    assert_int_equal(check(CDR_COL_DURATION, "3", &rec, &d), 0);
    assert_int_equal(rec.duration, 3);
}

/* The carrier's price feeds only the audit: a price that cannot be read
 * whole keeps the call (it used to be a reject of the whole call).  More
 * than 9 places is kept as written, anything else dropped; both noted. */
static void
test_an_odd_carrier_price_never_costs_the_call(void **state)
{
    (void)state;
    static const struct {
        const char *in, *kept;
        enum cdr_price_note note;
    } c[] = {
        {"-0.0090", "-0.0090", CDR_PRICE_OK},
        {"0.0000000001", "0.0000000001", CDR_PRICE_PRECISE},
        {"-0.00451234567891", "-0.00451234567891", CDR_PRICE_PRECISE},
        {"1e-3", "", CDR_PRICE_UNREADABLE},
        {"- 0.5", "", CDR_PRICE_UNREADABLE},
        {"$0.50", "", CDR_PRICE_UNREADABLE},
        {".5", "", CDR_PRICE_UNREADABLE},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        struct cdr_record rec;
        struct cdr_diag d;
        assert_int_equal(check(CDR_COL_PRICE, c[i].in, &rec, &d), 0);
        assert_int_equal(rec.price_note, c[i].note);
        assert_int_equal(rec.price.n, strlen(c[i].kept));
        assert_memory_equal(rec.price.p, c[i].kept, rec.price.n);
    }
}

static void
test_missing_duration_comes_from_end_minus_start(void **state)
{
    (void)state;
    struct cdr_record rec;
    struct cdr_diag d;
    assert_int_equal(check(CDR_COL_DURATION, "", &rec, &d), 0);
    assert_true(rec.duration == 120);
    assert_int_equal(check(CDR_COL_DURATION, NULL, &rec, &d), 0);
    assert_true(rec.duration == 120);
    /* explicit duration wins over end - start */
    assert_int_equal(check(CDR_COL_DURATION, "7", &rec, &d), 0);
    assert_true(rec.duration == 7);
}

/* No duration and no end_time: a call that was not completed lasted zero
 * seconds (it is not billed); a completed one is refused, not billed at
 * zero. */
static void
test_no_duration_and_no_end_time_is_zero_unless_completed(void **state)
{
    (void)state;
    struct cdr_row row;
    struct cdr_record rec;
    struct cdr_diag d;
    make_row(&row, CDR_COL_DURATION, "");
    row.field[CDR_COL_END_TIME].n = 0;
    row.field[CDR_COL_STATUS].p = "busy";
    row.field[CDR_COL_STATUS].n = 4;
    assert_int_equal(cdr_validate(&row, &rec, &d), 0);
    assert_true(rec.duration == 0);
    assert_false(rec.has_end_time);
    row.field[CDR_COL_STATUS].p = "completed";
    row.field[CDR_COL_STATUS].n = 9;
    cdr_diag_clear(&d);
    assert_int_equal(cdr_validate(&row, &rec, &d), CDR_E_MISSING);
    assert_string_equal(d.field, "duration");
    assert_non_null(strstr(d.detail, "length is unknown"));
    assert_int_equal(d.line, 42);
}

static void
test_end_before_start_without_duration_is_refused_on_end_time(void **state)
{
    (void)state;
    struct cdr_row row;
    struct cdr_record rec;
    struct cdr_diag d;
    make_row(&row, CDR_COL_DURATION, "");
    row.field[CDR_COL_END_TIME].p = "2026-05-10T08:00:00Z";
    row.field[CDR_COL_END_TIME].n = 20;
    assert_int_equal(cdr_validate(&row, &rec, &d), CDR_E_BAD_TIME);
    assert_string_equal(d.field, "end_time");
}

static void
test_surrounding_spaces_are_trimmed(void **state)
{
    (void)state;
    struct cdr_record rec;
    struct cdr_diag d;
    assert_int_equal(check(CDR_COL_FROM, "  +14155550100\t", &rec, &d), 0);
    assert_true(rec.from.n == 12);
    assert_int_equal(check(CDR_COL_DURATION, " 60 ", &rec, &d), 0);
    assert_true(rec.duration == 60);
    assert_int_equal(check(CDR_COL_PRICE, " -0.5 ", &rec, &d), 0);
    assert_true(rec.price.n == 4);
}

static void
test_rfc2822_start_and_sip_addresses_are_accepted(void **state)
{
    (void)state;
    struct cdr_record rec;
    struct cdr_diag d;
    struct cdr_row row;
    make_row(&row, CDR_COL_START_TIME, "Sun, 10 May 2026 08:02:17 +0000");
    row.field[CDR_COL_TO].p = "\"Bob\" <sip:bob@pbx.example.com>";
    row.field[CDR_COL_TO].n = strlen(row.field[CDR_COL_TO].p);
    row.field[CDR_COL_TRANSFER_TARGET].p = "tel:+14152909007";
    row.field[CDR_COL_TRANSFER_TARGET].n = 16;
    assert_int_equal(cdr_validate(&row, &rec, &d), 0);
    assert_true(rec.start_time == 1778400137);
    assert_true(rec.transfer_target.n == 16);
}

static void
test_unobserved_leg_is_rejected_with_the_rest_filled(void **state)
{
    (void)state;
    struct cdr_record rec;
    struct cdr_diag d;
    assert_int_equal(check(CDR_COL_STATUS, "Unobserved", &rec, &d),
                     CDR_E_UNOBSERVED);
    assert_int_equal(rec.status, CDR_ST_UNOBSERVED);
    assert_true(rec.sid.n == 6);
    assert_true(rec.duration == 120);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_record_is_accepted_with_every_field),
        cmocka_unit_test(
            test_every_rejection_names_code_field_value_and_detail),
        cmocka_unit_test(test_diag_prints_compiler_style_with_escaped_value),
        cmocka_unit_test(test_direction_accepts_underscore_and_any_case),
        cmocka_unit_test(test_status_text_maps_to_its_enum),
        cmocka_unit_test(test_unknown_status_is_rejected_with_the_known_values),
        cmocka_unit_test(test_duration_longer_than_its_times_is_rejected),
        cmocka_unit_test(test_an_odd_carrier_price_never_costs_the_call),
        cmocka_unit_test(test_missing_duration_comes_from_end_minus_start),
        cmocka_unit_test(
            test_no_duration_and_no_end_time_is_zero_unless_completed),
        cmocka_unit_test(
            test_end_before_start_without_duration_is_refused_on_end_time),
        cmocka_unit_test(test_surrounding_spaces_are_trimmed),
        cmocka_unit_test(test_rfc2822_start_and_sip_addresses_are_accepted),
        cmocka_unit_test(test_unobserved_leg_is_rejected_with_the_rest_filled),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

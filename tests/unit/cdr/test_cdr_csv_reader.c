#include "cdr/csv/cdr_record_reader.h"

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

/* A growing string for transcripts. */
struct buf {
    char *p;
    size_t n, cap;
};

static void
bput(struct buf *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n + 1)
            cap *= 2;
        b->p = realloc(b->p, cap);
        assert_non_null(b->p);
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void bprintf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void
bprintf(struct buf *b, const char *fmt, ...)
{
    char tmp[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    assert_true(n >= 0 && (size_t)n < sizeof tmp);
    bput(b, tmp, (size_t)n);
}

static FILE *
stream_of(const char *data, size_t len)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    if (len > 0)
        assert_int_equal(fwrite(data, 1, len, f), len);
    rewind(f);
    return f;
}

/*
 * Every result of reading data with the given chunk size, one line each:
 * "rc line record | sid | direction | from | ... | raw".  chunk 0 = default.
 */
static char *
transcript(const char *data, size_t len, size_t chunk)
{
    struct buf b = {0};
    FILE *f = stream_of(data, len);
    struct cdr_reader *r;
    struct cdr_diag d;
    cdr_diag_clear(&d);
    assert_int_equal(cdr_reader_open_stream(&r, f, "t.csv", &d), 0);
    if (chunk > 0)
        assert_int_equal(cdr_reader_set_chunk_size(r, chunk), 0);
    for (int guard = 0; guard < 1000; guard++) {
        struct cdr_row row;
        cdr_diag_clear(&d);
        int rc = cdr_reader_next(r, &row, &d);
        if (rc == 0) {
            bprintf(&b, "EOF\n");
            break;
        }
        if (rc < 0 && !cdr_reader_row_error(rc)) {
            bprintf(&b, "%d L%ld %s\n", rc, d.line, d.message);
            break;
        }
        bprintf(&b, "%d L%ld R%ld", rc, row.line, row.record);
        if (rc < 0)
            bprintf(&b, " (%s:%ld %s)", d.file, d.line, d.field);
        for (int c = 0; c < CDR_COL__COUNT; c++) {
            if (!row.present[c])
                continue;
            bprintf(&b, " %s=", cdr_column_name((enum cdr_column)c));
            bput(&b, row.field[c].p, row.field[c].n);
        }
        struct cdr_slice raw = cdr_reader_raw(r);
        bprintf(&b, " RAW=");
        bput(&b, raw.p, raw.n);
        bprintf(&b, "\n");
    }
    cdr_reader_close(r);
    fclose(f);
    return b.p;
}

/* The transcript with every chunk size from 1 byte to the whole input is
 * the same as with the default (1 MiB) buffer. */
static void
assert_chunk_independent(const char *data, size_t len, const char *expect)
{
    char *ref = transcript(data, len, 0);
    if (expect != NULL && strcmp(ref, expect) != 0)
        fail_msg("transcript:\n%s\nexpected:\n%s", ref, expect);
    for (size_t k = 1; k <= len + 1; k++) {
        char *t = transcript(data, len, k);
        if (strcmp(t, ref) != 0)
            fail_msg("chunk %zu:\n%s\ndefault:\n%s", k, t, ref);
        free(t);
    }
    free(ref);
}

static char *
read_fixture(const char *name, size_t *len)
{
    const char *root = getenv("REFEREE_SOURCE_DIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/fixtures/cdr/%s", root ? root : ".",
             name);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open %s", path);
    char *p = malloc(1 << 20);
    assert_non_null(p);
    *len = fread(p, 1, 1 << 20, f);
    fclose(f);
    return p;
}

static void
check_fixture(const char *name, const char *expect)
{
    size_t len;
    char *p = read_fixture(name, &len);
    assert_chunk_independent(p, len, expect);
    free(p);
}

static void
check_text(const char *text, const char *expect)
{
    assert_chunk_independent(text, strlen(text), expect);
}

static void
test_snake_case_header_maps_every_column(void **state)
{
    (void)state;
    check_fixture(
        "snake.csv",
        "1 L2 R1 sid=CA0001 parent_call_sid= account_sid=AC01 "
        "trunk_sid=TK0001 direction=trunking-terminating from=+14155550100 "
        "to=+14155550199 start_time=2026-05-10T08:02:17Z "
        "end_time=2026-05-10T08:04:17Z duration=120 status=completed "
        "price=-0.0090 price_unit=USD RAW=CA0001,,AC01,TK0001,trunking-"
        "terminating,+14155550100,+14155550199,2026-05-10T08:02:17Z,2026-05-"
        "10T08:04:17Z,120,completed,-0.0090,USD\n"
        "1 L3 R2 sid=CA0002 parent_call_sid=CA0001 account_sid=AC01 "
        "trunk_sid=TK0001 direction=trunking-terminating from=+14155550199 "
        "to=sip:alice@pbx.example.com start_time=2026-05-10T08:03:00Z "
        "end_time= duration= status=completed price= price_unit= "
        "RAW=CA0002,CA0001,AC01,TK0001,trunking-terminating,+14155550199,"
        "sip:alice@pbx.example.com,2026-05-10T08:03:00Z,,,completed,,\n"
        "EOF\n");
}

static void
test_pascal_case_header_and_quoted_rfc2822_times_are_read(void **state)
{
    (void)state;
    check_fixture(
        "pascal.csv",
        "1 L2 R1 sid=CA0001 parent_call_sid= account_sid=AC01 "
        "trunk_sid=TK0001 direction=trunking-originating from=+14155550100 "
        "to=+14155550199 start_time=Tue, 10 Aug 2010 08:02:17 +0000 "
        "end_time=Tue, 10 Aug 2010 08:04:17 +0000 duration=120 "
        "status=completed price=-0.0085 price_unit=USD "
        "RAW=CA0001,,AC01,TK0001,trunking-originating,+14155550100,"
        "+14155550199,\"Tue, 10 Aug 2010 08:02:17 +0000\",\"Tue, 10 Aug 2010 "
        "08:04:17 +0000\",120,completed,-0.0085,USD\n"
        "EOF\n");
}

static void
test_title_case_header_with_bom_and_crlf_is_read(void **state)
{
    (void)state;
    check_fixture(
        "title_bom_crlf.csv",
        "1 L2 R1 sid=CA0001 parent_call_sid= direction=trunking-terminating "
        "from=+14155550100 to=+14155550199 start_time=2026-05-10T08:02:17Z "
        "duration=60 status=completed RAW=CA0001,,trunking-terminating,"
        "+14155550100,+14155550199,2026-05-10T08:02:17Z,60,completed,x\n"
        "1 L4 R2 sid=CA0002 parent_call_sid=CA0001 "
        "direction=trunking_terminating from=+14155550199 "
        "to=tel:+14152909007 start_time=2026-05-10T08:03:00Z duration=30 "
        "status=completed RAW=CA0002,CA0001,trunking_terminating,"
        "+14155550199,tel:+14152909007,2026-05-10T08:03:00Z,30,completed,y\n"
        "EOF\n");
}

static void
test_quoted_newlines_keep_physical_line_numbers(void **state)
{
    (void)state;
    check_fixture(
        "quoted_lines.csv",
        "1 L3 R1 sid=CA0001 direction=trunking-terminating "
        "from=\"Alice, A.\" <sip:alice@pbx.example.com> to=+14155550199 "
        "start_time=2026-05-10T08:02:17Z duration=60 status=completed "
        "transfer_target=sip:+14152908007@mytrunk.pstn.twilio.com "
        "RAW=CA0001,trunking-terminating,\"\"\"Alice, A.\"\" "
        "<sip:alice@pbx.example.com>\",+14155550199,2026-05-10T08:02:17Z,60,"
        "completed,sip:+14152908007@mytrunk.pstn.twilio.com\n"
        "1 L4 R2 sid=CA\n0002 direction=trunking-terminating "
        "from=+14155550100 to=+14155550199 start_time=2026-05-10T08:02:17Z "
        "duration=60 status=multi\nline\nstatus transfer_target= "
        "RAW=\"CA\n0002\",trunking-terminating,+14155550100,+14155550199,"
        "2026-05-10T08:02:17Z,60,\"multi\nline\nstatus\",\n"
        "1 L10 R3 sid=CA0003 direction=trunking-terminating "
        "from=+14155550100 to=+14155550199 start_time=2026-05-10T08:02:17Z "
        "duration=60 status=completed transfer_target= RAW=CA0003,trunking-"
        "terminating,+14155550100,+14155550199,2026-05-10T08:02:17Z,60,"
        "completed,\n"
        "-11 L11 R4 (t.csv:11 ) sid=CA0004 direction=too from=few to= "
        "start_time= duration= status= transfer_target= RAW=CA0004,too,few\n"
        "-11 L12 R5 (t.csv:12 ) sid=CA0005 direction=trunking-terminating "
        "from=+14155550100 to=+14155550199 start_time=2026-05-10T08:02:17Z "
        "duration=60 status=completed transfer_target= RAW=CA0005,trunking-"
        "terminating,+14155550100,+14155550199,2026-05-10T08:02:17Z,60,"
        "completed,,extra\n"
        "1 L13 R6 sid=CA0006 direction=trunking-terminating "
        "from=+14155550100 to=+14155550199 start_time=2026-05-10T08:02:17Z "
        "duration=60 status=completed transfer_target= RAW=CA0006,trunking-"
        "terminating,+14155550100,+14155550199,2026-05-10T08:02:17Z,60,"
        "completed,\n"
        "EOF\n");
}

static void
test_unquoted_lines_split_and_trim_like_libcsv(void **state)
{
    (void)state;
    /* libcsv's own rules for unquoted fields: spaces and tabs around a
     * field go, a lone CR ends a row, a line of blanks is no row */
    check_fixture("plain_edge.csv",
                  "1 L3 R1 sid=A from=2 to=1 RAW=A,1,2\n"
                  "1 L4 R2 sid=B from= to= RAW=B,,\n"
                  "1 L5 R3 sid= from= to= RAW=,,\n"
                  "-11 L6 R4 (t.csv:6 ) sid= from= to= RAW=,\n"
                  "1 L7 R5 sid=C from= to=x y RAW=C,x y,\n"
                  "1 L7 R6 sid=D from=2 to=1 RAW=D,1,2\n"
                  "1 L9 R7 sid=E from=3 to=q RAW=E,q,3\n"
                  "1 L10 R8 sid=F from=2 to=1 RAW=F,1,2\n"
                  "EOF\n");
}

static void
test_stray_quote_stops_the_file_at_its_record(void **state)
{
    (void)state;
    check_fixture("bad_quote.csv",
                  "1 L2 R1 sid=CA1 direction=trunking-terminating "
                  "RAW=CA1,trunking-terminating\n"
                  "-3 L3 malformed quoting\n");
}

static void
test_stray_quote_detail_names_its_own_line(void **state)
{
    (void)state;
    for (size_t k = 1; k < 24; k++) {
        static const char text[] = "sid,to\nA,\"x\n\ny\"z\n";
        FILE *f = stream_of(text, sizeof text - 1);
        struct cdr_reader *r;
        struct cdr_diag d;
        struct cdr_row row;
        assert_int_equal(cdr_reader_open_stream(&r, f, "q.csv", &d), 0);
        assert_int_equal(cdr_reader_set_chunk_size(r, k), 0);
        assert_int_equal(cdr_reader_next(r, &row, &d), CDR_E_CSV);
        assert_int_equal(d.line, 2);
        assert_non_null(strstr(d.detail, "on line 4"));
        /* sticky */
        assert_int_equal(cdr_reader_next(r, &row, &d), CDR_E_CSV);
        cdr_reader_close(r);
        fclose(f);
    }
}

static void
test_unterminated_quote_stops_the_file_at_its_record(void **state)
{
    (void)state;
    check_fixture("unterminated.csv",
                  "1 L2 R1 sid=CA1 direction=trunking-terminating "
                  "RAW=CA1,trunking-terminating\n"
                  "-3 L3 unterminated quoted field\n");
}

static void
test_every_fixture_reads_the_same_in_every_chunk_size(void **state)
{
    (void)state;
    const char *root = getenv("REFEREE_SOURCE_DIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/fixtures/cdr", root ? root : ".");
    DIR *dir = opendir(path);
    assert_non_null(dir);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(dir)) != NULL) {
        size_t l = strlen(e->d_name);
        if (l < 4 || strcmp(e->d_name + l - 4, ".csv") != 0)
            continue;
        check_fixture(e->d_name, NULL);
        n++;
    }
    closedir(dir);
    assert_true(n >= 6);
}

static void
test_header_names_are_normalised_and_a_column_named_twice_stops_the_file(
    void **state)
{
    (void)state;
    /* "CALL_SID" and "Sid", "Parent Call SID" and "parent-call-sid": which
     * one is meant is anybody's guess */
    check_text("CALL_SID,Parent Call SID,parent-call-sid,Sid,x y z,To\n"
               "a,b,c,d,e,f\n",
               "-3 L1 column named twice\n");
    check_text("sid,to,To\nA,B,C\n", "-3 L1 column named twice\n");
    check_text("Call Sid,ParentCallSid\nA,B\n",
               "1 L2 R1 sid=A parent_call_sid=B RAW=A,B\nEOF\n");
    /* punctuation of any length is dropped; long names are not ours */
    check_text(
        "\"s _-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-"
        "_-_-_-_-_-_-_-_-_-_ i d\",tosidtosidtosidtosidtosidtosidto\n"
        "A,B\n",
        "1 L2 R1 sid=A RAW=A,B\nEOF\n");
}

/* A file without a column every record needs is one error of the file,
 * at its header, and stays so: not a reject on each of its rows. */
static void
test_a_missing_required_column_is_an_error_of_the_file(void **state)
{
    (void)state;
    static const char text[] =
        "sid,direction,from,start_time\nA,trunking-terminating,+1,x\n";
    FILE *f = fmemopen((void *)(uintptr_t)text, sizeof text - 1, "rb");
    assert_non_null(f);
    struct cdr_reader *r;
    struct cdr_diag d;
    struct cdr_row row;
    cdr_diag_clear(&d);
    assert_int_equal(cdr_reader_open_stream(&r, f, "t.csv", &d), 0);
    cdr_reader_require_columns(r);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(cdr_reader_next(r, &row, &d), CDR_E_MISSING);
        assert_int_equal(cdr_reader_row_error(CDR_E_MISSING), 0);
        assert_string_equal(d.message, "the header has no to column");
        assert_string_equal(d.field, "to");
        assert_string_equal(d.file, "t.csv");
        assert_int_equal(d.line, 1);
    }
    cdr_reader_close(r);
    fclose(f);
}

static void
test_blank_lines_are_skipped_but_counted(void **state)
{
    (void)state;
    check_text("\n\n  \nsid\n\nA\n\r\n\nB",
               "1 L6 R1 sid=A RAW=A\n1 L9 R2 sid=B RAW=B\nEOF\n");
}

static void
test_empty_file_and_header_only_file_have_no_rows(void **state)
{
    (void)state;
    check_text("", "EOF\n");
    check_text("\xef\xbb\xbf", "EOF\n");
    check_text("sid,direction\n", "EOF\n");
    check_text("sid,direction", "EOF\n");
}

static void
test_bom_prefix_alone_is_not_mistaken_for_a_bom(void **state)
{
    (void)state;
    /* two bytes of a BOM are text: here a header of one unknown column */
    check_text("\xef\xbb\nsid\nA\n", "1 L2 R1 RAW=sid\n1 L3 R2 RAW=A\nEOF\n");
}

static void
test_spaces_around_unquoted_fields_are_dropped_and_raw_is_requoted(void **state)
{
    (void)state;
    check_text("sid,from\n  A  ,\" +1 \"\n",
               "1 L2 R1 sid=A from= +1  RAW=A,\" +1 \"\nEOF\n");
}

/* Big inputs: a selection of chunk sizes (every size would be quadratic). */
static void
assert_some_chunks_agree(const char *data, size_t len, const char *expect)
{
    static const size_t sizes[] = {1, 2, 3, 7, 64, 1000, 4096, 65536, 65537};
    char *ref = transcript(data, len, 0);
    if (expect != NULL && strcmp(ref, expect) != 0)
        fail_msg("transcript:\n%.2000s\nexpected:\n%s", ref, expect);
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        char *t = transcript(data, len, sizes[i]);
        if (strcmp(t, ref) != 0)
            fail_msg("chunk %zu:\n%.2000s\ndefault:\n%.2000s", sizes[i], t,
                     ref);
        free(t);
    }
    free(ref);
}

static void
test_field_over_the_limit_rejects_only_its_row(void **state)
{
    (void)state;
    struct buf b = {0};
    bprintf(&b, "sid,from\nA,1\nB,");
    for (int i = 0; i < CDR_MAX_FIELD + 1; i++)
        bput(&b, "9", 1);
    bprintf(&b, "\nC,");
    for (int i = 0; i < CDR_MAX_FIELD; i++)
        bput(&b, "8", 1);
    bprintf(&b, "\nD,2\n");
    char *ref = transcript(b.p, b.n, 0);
    /* B is refused with its line; C (exactly the limit) and D are read */
    assert_non_null(strstr(ref, "1 L2 R1 sid=A from=1 RAW=A,1\n"));
    assert_non_null(strstr(ref, "\n-9 L3 R2 (t.csv:3 from) sid=B from=999"));
    assert_non_null(strstr(ref, "\n1 L4 R3 sid=C from=888"));
    assert_non_null(strstr(ref, "\n1 L5 R4 sid=D from=2 RAW=D,2\nEOF\n"));
    free(ref);
    assert_chunk_independent(b.p, b.n, NULL);
    free(b.p);
}

static void
test_record_over_the_row_limit_stops_the_file(void **state)
{
    (void)state;
    struct buf b = {0};
    bprintf(&b, "sid,from\nA,1\nB,\"");
    for (int i = 0; i < CDR_MAX_ROW + 10; i++)
        bput(&b, i % 100 == 99 ? "\n" : "x", 1);
    bprintf(&b, "\"\nC,2\n");
    assert_some_chunks_agree(b.p, b.n,
                             "1 L2 R1 sid=A from=1 RAW=A,1\n"
                             "-3 L3 record too long\n");
    /* the same without a closing quote: libcsv finds it at end of file */
    b.n -= 7;
    assert_some_chunks_agree(b.p, b.n,
                             "1 L2 R1 sid=A from=1 RAW=A,1\n"
                             "-3 L3 unterminated quoted field\n");
    /* a runaway quoted field stops the file once it passes twice the
     * record bound, before it takes the memory of the rest of the file */
    for (int i = 0; i < 2 * CDR_MAX_ROW; i++)
        bput(&b, i % 100 == 99 ? "\n" : "x", 1);
    bprintf(&b, "\"\nC,2\n");
    assert_some_chunks_agree(b.p, b.n,
                             "1 L2 R1 sid=A from=1 RAW=A,1\n"
                             "-3 L3 record too long\n");
    free(b.p);
}

static void
test_trailing_spaces_libcsv_drops_do_not_count_towards_the_row_limit(
    void **state)
{
    (void)state;
    struct buf b = {0};
    bprintf(&b, "sid,from\nA,1");
    for (int i = 0; i < CDR_MAX_ROW + 10; i++)
        bput(&b, " ", 1);
    bprintf(&b, "\nB,\"2\"");
    for (int i = 0; i < CDR_MAX_ROW + 10; i++)
        bput(&b, " ", 1);
    bprintf(&b, "\n");
    assert_some_chunks_agree(b.p, b.n,
                             "1 L2 R1 sid=A from=1 RAW=A,1\n"
                             "1 L3 R2 sid=B from=2 RAW=B,2\nEOF\n");
    free(b.p);
}

static void
test_many_empty_fields_count_towards_the_row_limit(void **state)
{
    (void)state;
    struct buf b = {0};
    bprintf(&b, "sid\nA\n");
    for (int i = 0; i < CDR_MAX_ROW + 10; i++)
        bput(&b, ",", 1);
    bprintf(&b, "\nC\n");
    assert_some_chunks_agree(b.p, b.n,
                             "1 L2 R1 sid=A RAW=A\n"
                             "-3 L3 record too long\n");
    free(b.p);
}

static void
test_bare_carriage_returns_end_rows(void **state)
{
    (void)state;
    check_text("sid,to\rA,1\rB,2\r",
               "1 L1 R1 sid=A to=1 RAW=A,1\n1 L1 R2 sid=B to=2 RAW=B,2\n"
               "EOF\n");
}

static void
test_stdin_dash_and_missing_file_are_handled(void **state)
{
    (void)state;
    struct cdr_reader *r = NULL;
    struct cdr_diag d;
    cdr_diag_clear(&d);
    assert_int_equal(cdr_reader_open(&r, "/nonexistent/x.csv", NULL, &d),
                     CDR_E_IO);
    assert_string_equal(d.file, "/nonexistent/x.csv");
    assert_non_null(strstr(d.message, "could not open"));
    cdr_diag_clear(&d);
    assert_int_equal(cdr_reader_open(&r, "-", NULL, &d), 0);
    cdr_reader_close(r);
    cdr_reader_close(NULL);
}

static void
test_diag_of_a_bad_row_names_file_and_line(void **state)
{
    (void)state;
    FILE *f = stream_of("sid,to\n\"A\nB\",1,2\n", 17);
    struct cdr_reader *r;
    struct cdr_diag d;
    struct cdr_row row;
    cdr_diag_clear(&d);
    assert_int_equal(cdr_reader_open_stream(&r, f, "exports/may.csv", &d), 0);
    assert_int_equal(cdr_reader_next(r, &row, &d), CDR_E_FIELD_COUNT);
    char text[512];
    cdr_diag_format(&d, text, sizeof text);
    assert_string_equal(
        text, "exports/may.csv:2: wrong number of fields: 3, the header has 2");
    assert_true(cdr_reader_offset(r) == 17);
    assert_int_equal(cdr_reader_next(r, &row, &d), 0);
    cdr_reader_close(r);
    fclose(f);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_snake_case_header_maps_every_column),
        cmocka_unit_test(
            test_pascal_case_header_and_quoted_rfc2822_times_are_read),
        cmocka_unit_test(test_title_case_header_with_bom_and_crlf_is_read),
        cmocka_unit_test(test_quoted_newlines_keep_physical_line_numbers),
        cmocka_unit_test(test_unquoted_lines_split_and_trim_like_libcsv),
        cmocka_unit_test(test_stray_quote_stops_the_file_at_its_record),
        cmocka_unit_test(test_stray_quote_detail_names_its_own_line),
        cmocka_unit_test(test_unterminated_quote_stops_the_file_at_its_record),
        cmocka_unit_test(test_every_fixture_reads_the_same_in_every_chunk_size),
        cmocka_unit_test(
            test_header_names_are_normalised_and_a_column_named_twice_stops_the_file),
        cmocka_unit_test(test_blank_lines_are_skipped_but_counted),
        cmocka_unit_test(
            test_a_missing_required_column_is_an_error_of_the_file),
        cmocka_unit_test(test_empty_file_and_header_only_file_have_no_rows),
        cmocka_unit_test(test_bom_prefix_alone_is_not_mistaken_for_a_bom),
        cmocka_unit_test(
            test_spaces_around_unquoted_fields_are_dropped_and_raw_is_requoted),
        cmocka_unit_test(test_field_over_the_limit_rejects_only_its_row),
        cmocka_unit_test(test_record_over_the_row_limit_stops_the_file),
        cmocka_unit_test(
            test_trailing_spaces_libcsv_drops_do_not_count_towards_the_row_limit),
        cmocka_unit_test(test_many_empty_fields_count_towards_the_row_limit),
        cmocka_unit_test(test_bare_carriage_returns_end_rows),
        cmocka_unit_test(test_stdin_dash_and_missing_file_are_handled),
        cmocka_unit_test(test_diag_of_a_bad_row_names_file_and_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

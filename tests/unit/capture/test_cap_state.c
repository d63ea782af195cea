/*
 * State-file tests: the open calls a tracker saves at shutdown and the
 * next one loads (see tracker_fixture.h), the version 1 file an upgrade
 * finds, and the files that must be refused with their line and field.
 */
#include "tracker_fixture.h"

#include <unistd.h>

/* Open calls and a pending transfer survive a restart through the state
 * file: the BYE and the child after the restart complete them. */
static void
test_state_file_resumes_open_calls(void **state)
{
    struct fx *f = *state;
    char path[] = "/tmp/referee-state-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    term_parent(f, "s1");
    refer(f, 5000, PBX, CARRIER, "s1", "<sip:alice@pbx.example.com>", NULL);
    resp(f, 5050, CARRIER, PBX, "s1", 202, 2, "REFER", NULL);
    invite(f, 6000, PBX, CARRIER, "s2\tweird%-",
           "sip:" B "@mytrunk.pstn.twilio.com", "sip:" A "@pbx.example.com",
           "sip:" B "@mytrunk.pstn.twilio.com", NULL);
    struct cdr_diag d;
    assert_int_equal(cap_tracker_save(f->t, path, &d), 0);
    assert_int_equal(cap_tracker_stats(f->t)->open_dialogs, 0);
    assert_int_equal(cap_tracker_flush(f->t), 0);
    assert_int_equal(f->out.n, 0);
    cap_tracker_free(f->t);

    f->t = cap_tracker_new(f->cfg, NULL, collect, &f->out);
    assert_int_equal(cap_tracker_load(f->t, path, &d), 2);
    invite(f, 7000, CARRIER, PBX, "s1c", "sip:alice@pbx.example.com",
           "sip:" B "@mytrunk.pstn.twilio.com", "sip:alice@pbx.example.com",
           NULL);
    resp(f, 8000, PBX, CARRIER, "s1c", 200, 1, "INVITE", NULL);
    req(f, 9000, PBX, CARRIER, "s1", "BYE", 3, NULL, NULL);
    resp(f, 9500, CARRIER, PBX, "s2\tweird%-", 486, 1, "INVITE", NULL);
    req(f, 20000, PBX, CARRIER, "s1c", "BYE", 3, NULL, NULL);
    expect(f, 3,
           "s1||trunking-terminating|" A "|" B
           "|0|9|8|completed|TK0001|sip:alice@pbx.example.com|completed",
           "s2\tweird%-||trunking-terminating|" A "|" B "|6|9|0|busy|TK0001||",
           "s1c|s1|trunking-terminating|" B
           "|sip:alice@pbx.example.com|7|20|12|completed|TK0001||");

    /* a damaged file is refused with its line */
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("state_version,call_id\n2,x,9\n", fp);
    fclose(fp);
    assert_int_equal(cap_tracker_load(f->t, path, &d), CDR_E_CSV);
    assert_int_equal(d.line, 1); /* the header lacks columns */
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("something else\n", fp);
    fclose(fp);
    assert_true(cap_tracker_load(f->t, path, &d) < 0);
    unlink(path);
    assert_true(cap_tracker_load(f->t, path, &d) < 0);
}

/* ---- the state file's format ---- */

static char state_path[64];

static void
write_text(const char *path, const char *text)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(text, 1, strlen(text), fp), strlen(text));
    assert_int_equal(fclose(fp), 0);
}

static char *
read_text(const char *path)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    char *buf = calloc(1, 1 << 16);
    assert_non_null(buf);
    size_t n = fread(buf, 1, (1 << 16) - 1, fp);
    buf[n] = '\0';
    fclose(fp);
    return buf;
}

/* The open calls of tests/fixtures/state/v1.state (written by the
 * version 1 tracker, see its README), made here by the same messages. */
static void
calls_of_the_v1_fixture(struct fx *f)
{
    term_parent(f, "s1");
    refer(f, 5000, PBX, CARRIER, "s1", "<sip:alice@pbx.example.com>", NULL);
    resp(f, 5050, CARRIER, PBX, "s1", 202, 2, "REFER", NULL);
    invite(f, 6000, PBX, CARRIER, "s2\tweird%-",
           "sip:" B "@mytrunk.pstn.twilio.com", "sip:" A "@pbx.example.com",
           "sip:" B "@mytrunk.pstn.twilio.com", NULL);
    orig_parent(f, "o1");
    refer(f, 7000, PBX, CARRIER, "o1", "<tel:+14155550199>", NULL);
    resp(f, 7050, CARRIER, PBX, "o1", 202, 2, "REFER", NULL);
}

/* What follows the restart, and the records it completes. */
static void
after_the_restart(struct fx *f)
{
    invite(f, 7100, CARRIER, PBX, "s1c", "sip:alice@pbx.example.com",
           "sip:" B "@mytrunk.pstn.twilio.com", "sip:alice@pbx.example.com",
           NULL);
    resp(f, 8000, PBX, CARRIER, "s1c", 200, 1, "INVITE", NULL);
    req(f, 9000, PBX, CARRIER, "s1", "BYE", 3, NULL, NULL);
    resp(f, 9500, CARRIER, PBX, "s2\tweird%-", 486, 1, "INVITE", NULL);
    notify(f, 10000, CARRIER, PBX, "o1", 1, "SIP/2.0 200 OK\n", 1);
    req(f, 11000, PBX, CARRIER, "o1", "BYE", 3, NULL, NULL);
    req(f, 20000, PBX, CARRIER, "s1c", "BYE", 3, NULL, NULL);
    assert_int_equal(cap_tracker_flush(f->t), 0);
    expect(f, 5,
           "s1||trunking-terminating|" A "|" B
           "|0|9|8|completed|TK0001|sip:alice@pbx.example.com|completed",
           "s2\tweird%-||trunking-terminating|" A "|" B "|6|9|0|busy|TK0001||",
           "o1||trunking-originating|" A "|" B
           "|0|11|10|completed|TK0001|tel:+14155550199|completed",
           "o1;refer=2|o1|trunking-originating|" A
           "|+14155550199|7|||unobserved|TK0001||",
           "s1c|s1|trunking-terminating|" B
           "|sip:alice@pbx.example.com|7|20|12|completed|TK0001||");
}

/* An upgrade keeps the calls open across it: a state file of version 1
 * (tab-separated) loads as the same calls a version 2 file holds, and
 * they end in the same records. */
static void
test_state_file_of_version_1_resumes_the_same_calls(void **state)
{
    struct fx *f = *state;
    char v2[] = "/tmp/referee-state-XXXXXX",
         again[] = "/tmp/referee-state-XXXXXX";
    int fd = mkstemp(v2);
    assert_true(fd >= 0);
    close(fd);
    fd = mkstemp(again);
    assert_true(fd >= 0);
    close(fd);
    struct cdr_diag d;
    calls_of_the_v1_fixture(f);
    assert_int_equal(cap_tracker_save(f->t, v2, &d), 0);

    char v1[4200];
    snprintf(v1, sizeof v1, "%s/tests/fixtures/state/v1.state",
             getenv("REFEREE_SOURCE_DIR"));
    cap_tracker_free(f->t);
    f->t = cap_tracker_new(f->cfg, NULL, collect, &f->out);
    if (cap_tracker_load(f->t, v1, &d) != 3) {
        char buf[1024];
        cdr_diag_format(&d, buf, sizeof buf);
        fail_msg("%s", buf);
    }
    /* saved again, it is the version 2 file of the same calls */
    assert_int_equal(cap_tracker_save(f->t, again, &d), 0);
    char *want = read_text(v2), *got = read_text(again);
    assert_string_equal(got, want);
    free(want);
    free(got);

    cap_tracker_free(f->t);
    f->t = cap_tracker_new(f->cfg, NULL, collect, &f->out);
    assert_int_equal(cap_tracker_load(f->t, v1, &d), 3);
    after_the_restart(f);
    f->out.n = 0;
    cap_tracker_free(f->t);
    f->t = cap_tracker_new(f->cfg, NULL, collect, &f->out);
    assert_int_equal(cap_tracker_load(f->t, v2, &d), 3);
    after_the_restart(f);
    unlink(v2);
    unlink(again);
}

/* A fresh tracker (max dialogs, 0: default) loads text as a state file. */
static int
load_text(struct fx *f, size_t max, const char *text, struct cdr_diag *d)
{
    struct cap_tracker_opts o;
    cap_tracker_opts_default(&o);
    if (max)
        o.max_dialogs = max;
    cap_tracker_free(f->t);
    f->t = cap_tracker_new(f->cfg, &o, collect, &f->out);
    assert_non_null(f->t);
    write_text(state_path, text);
    return cap_tracker_load(f->t, state_path, d);
}

static int
setup_state(void **state)
{
    snprintf(state_path, sizeof state_path, "/tmp/referee-state-XXXXXX");
    int fd = mkstemp(state_path);
    assert_true(fd >= 0);
    close(fd);
    return setup(state);
}

static int
teardown_state(void **state)
{
    unlink(state_path);
    return teardown(state);
}

/* The header row, as a save of no calls writes it. */
static char *
state_header(struct fx *f)
{
    struct cdr_diag d;
    assert_int_equal(cap_tracker_save(f->t, state_path, &d), 0);
    return read_text(state_path);
}

#define ROW_EARLY                                                              \
    "2,e1,early,1778400006000000,early,,0,trunking-terminating,TK0001,"        \
    "+14155550111,+14155550100,,,1,1778400006000000,0,0,127.0.0.1:5060,"       \
    "[::1]:5060,,,,,,,,,,,,,,,,,,,,,\n"

#define ROW_XFER                                                               \
    "2,s1,confirmed,1778400005000000,confirmed,,0,trunking-terminating,"       \
    "TK0001,+14155550111,+14155550100,,,1,1778400000000000,1778400001000000,"  \
    "0,127.0.0.1:5060,127.0.0.2:5060,2,1778400005000000,0,127.0.0.1:5060,"     \
    "127.0.0.2:5060,0,0,0,0,0,0,0,0,0,0,1,sip:alice@pbx.example.com,"          \
    "sip:alice@pbx.example.com,alice,sip:pbx@pbx.example.com,14155550100\n"

/* Strings with commas, quotes, line breaks, spaces at their ends and
 * bytes outside ASCII go through the state file unchanged: saved, loaded
 * and saved again byte for byte, and the records written afterwards carry
 * them as they were. */
static void
test_state_file_round_trips_hostile_strings(void **state)
{
    struct fx *f = *state;
    struct cdr_diag d;
    static const char *const cids[] = {"h1,\"q\"\xc3\xa9", " h2\t%-,x",
                                       "h3\xff\xfe;\"\""};
    for (int i = 0; i < 3; i++) {
        term_parent(f, cids[i]);
        refer(f, 5000 + i, PBX, CARRIER, cids[i], "<sip:alice@pbx.example.com>",
              NULL);
    }
    assert_int_equal(cap_tracker_save(f->t, state_path, &d), 0);
    char *first = read_text(state_path);
    assert_int_equal(load_text(f, 0, first, &d), 3);
    assert_int_equal(cap_tracker_save(f->t, state_path, &d), 0);
    char *second = read_text(state_path);
    assert_string_equal(first, second);
    free(second);

    /* line breaks (which no SIP header holds) in a Call-ID, a number and
     * a transfer target, written by hand */
    char *text = calloc(1, 1 << 16);
    assert_non_null(text);
    char *hdr = first;
    *strchr(hdr, '\n') = '\0';
    snprintf(text, 1 << 16,
             "%s\n2,\"c\r\n1,\"\"x\"\"\n\",confirmed,1778400005000000,"
             "confirmed,,0,trunking-terminating,TK0001,\"+1\n2 \xc3\xa9\","
             "+14155550100,,,1,1778400000000000,1778400001000000,0,"
             "127.0.0.1:5060,127.0.0.2:5060,2,1778400005000000,0,"
             "127.0.0.1:5060,127.0.0.2:5060,0,0,0,0,0,0,0,0,0,0,1,"
             "\"sip:a\nb@pbx\",sip:ab@pbx,ab,,ab\n",
             hdr);
    assert_int_equal(load_text(f, 0, text, &d), 1);
    assert_int_equal(cap_tracker_save(f->t, state_path, &d), 0);
    second = read_text(state_path);
    assert_string_equal(second, text);
    assert_int_equal(load_text(f, 0, text, &d), 1);
    assert_int_equal(cap_tracker_flush(f->t), 0);
    expect(f, 1,
           "c\r\n1,\"x\"\n||trunking-terminating|+1\n2 \xc3\xa9|+14155550100|"
           "0|||in-progress|TK0001|sip:a\nb@pbx|pending");
    free(second);
    free(text);
    free(first);
}

/* A version 1 file is read as strictly as version 2: any problem refuses
 * it with its line and field. */
static void
test_malformed_v1_state_files_are_refused_with_line_and_field(void **state)
{
    struct fx *f = *state;
    struct cdr_diag d;
#define V1 "referee-capture-state 1\n"
#define A4 "2,7f000001000000000000000000000000,5060"
#define V1D(cid, st)                                                           \
    "D\t" cid "\t" st "\t0\t0\t1\tTK0001\t+14155550111\t+14155550100\t-\t-\t1" \
    "\t1778400006000000\t0\t0\t0\t1778400006000000\t" A4 "\t" A4 "\n"
#define V1X(pending)                                                           \
    "X\t2\t1778400005000000\t0\t" A4 "\t" A4 "\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0"  \
    "\t" pending "\tsip:alice@pbx\tsip:alice@pbx\talice\t-\t1415\n"
    assert_int_equal(load_text(f, 0, V1 V1D("a%20b", "0") V1X("1"), &d), 1);
    static const struct {
        const char *text;
        long line;
        const char *field; /* NULL: the line as a whole */
    } cases[] = {
        {V1 V1D("a", "9"), 2, "state"},
        {V1 V1D("a%2", "0"), 2, "call_id"},
        {V1 V1D("a", "0") V1D("a", "0"), 3, "call_id"},
        {V1 V1X("1"), 2, NULL},
        {V1 V1D("a", "0") V1X("x"), 3, "in_pending"},
        {V1 V1D("a", "0") "D\tb\n", 3, NULL},
        {V1 V1D("a", "0") "Z\tb\n", 3, NULL},
        {V1 "D\ta", 2, NULL},                                /* cut short */
        {"referee-capture-state 1\r\n", 1, "state_version"}, /* not v1 */
        {V1 "D\ta\t0\t0\t0\t1\tTK0001\t-\t-\t-\t-\t1\t0\t0\t0\t0\t0\t"
            "2,7f00000100000000000000000000000,5060\t" A4 "\n",
         2, "src"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = load_text(f, 0, cases[i].text, &d);
        if (rc >= 0 || d.line != cases[i].line ||
            (cases[i].field ? strcmp(d.field, cases[i].field) != 0
                            : d.field[0] != '\0'))
            fail_msg("case %zu: rc %d line %ld field \"%s\": %s", i, rc, d.line,
                     d.field, d.message);
    }
    /* a line over its bound */
    char *text = calloc(1, 1 << 16);
    assert_non_null(text);
    memcpy(text, V1 "D\t", strlen(V1) + 2);
    memset(text + strlen(V1) + 2, 'x', 20000);
    strcat(text, "\n");
    assert_int_equal(load_text(f, 0, text, &d), CDR_E_CSV);
    assert_int_equal(d.line, 2);
    free(text);
#undef V1
#undef A4
#undef V1D
#undef V1X
}

/* A state file that is not whole, or not of this version, is refused with
 * the file, its line and the field. */
static void
test_malformed_state_files_are_refused_with_line_and_field(void **state)
{
    struct fx *f = *state;
    struct cdr_diag d;
    char *hdr = state_header(f);
    char *good = calloc(1, 1 << 16), *text = calloc(1, 1 << 16);
    assert_non_null(good);
    assert_non_null(text);
    snprintf(good, 1 << 16, "%s%s%s", hdr, ROW_EARLY, ROW_XFER);
    assert_int_equal(load_text(f, 0, good, &d), 2);
    struct {
        const char *from, *to; /* in the good file: the first from, to */
        size_t cut;            /* or: the good file without its last bytes */
        int code;
        long line;
        const char *field;
    } cases[] = {
        {NULL, NULL, 20, CDR_E_CSV, 3, ""},
        {",0,1,sip:alice", ",0,1,\"sip:alice", 0, CDR_E_CSV, 3, ""},
        {",1778400006000000,0,0,", ",abc,0,0,", 0, CDR_E_CSV, 2, "invite_us"},
        {"e1,early", "e1,ringing", 0, CDR_E_CSV, 2, "class"},
        {"2,s1,", "3,s1,", 0, CDR_E_CSV, 3, "state_version"},
        {",answer_us,", ",answered,", 0, CDR_E_CSV, 1, "answer_us"},
        {"[::1]:5060", "[::1]", 0, CDR_E_CSV, 2, "dst"},
        {"127.0.0.2:5060,0,0,0,0,", "127.0.0.2:5060,0,2,0,0,", 0, CDR_E_CSV, 3,
         "accepted"},
        {"[::1]:5060,,,", "[::1]:5060,,7,", 0, CDR_E_CSV, 2, "refer_us"},
        {"1778400006000000,early,,", "1778400006000000,early,done,", 0,
         CDR_E_CSV, 2, "status"},
        {"2,s1,", "2,e1,", 0, CDR_E_CSV, 3, "call_id"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (cases[i].from != NULL) {
            char *at = strstr(good, cases[i].from);
            assert_non_null(at);
            snprintf(text, 1 << 16, "%.*s%s%s", (int)(at - good), good,
                     cases[i].to, at + strlen(cases[i].from));
        } else {
            snprintf(text, 1 << 16, "%.*s", (int)(strlen(good) - cases[i].cut),
                     good);
        }
        int rc = load_text(f, 0, text, &d);
        if (rc != cases[i].code || d.line != cases[i].line ||
            strcmp(d.field, cases[i].field) != 0)
            fail_msg("case %zu: %d line %ld field \"%s\" (%s)", i, rc, d.line,
                     d.field, d.message);
        char buf[1024];
        cdr_diag_format(&d, buf, sizeof buf);
        snprintf(text, 1 << 16, "%s:%ld: ", state_path, cases[i].line);
        assert_non_null(strstr(buf, text));
    }
    /* a field over its bound */
    char from[400];
    memset(from, '9', 300);
    from[300] = '\0';
    const char *at = strstr(ROW_EARLY, "+14155550111,");
    snprintf(text, 1 << 16, "%s%.*s%s%s", hdr, (int)(at - ROW_EARLY), ROW_EARLY,
             from, at + 12);
    assert_int_equal(load_text(f, 0, text, &d), CDR_E_CSV);
    assert_int_equal(d.line, 2);
    assert_string_equal(d.field, "from");
    /* the format before this one, damaged; an empty file, too many calls */
    assert_int_equal(load_text(f, 0, "referee-capture-state 1\nD\tx\t9\n", &d),
                     CDR_E_CSV);
    assert_int_equal(d.line, 2);
    assert_non_null(strstr(d.message, "version 1"));
    assert_non_null(strstr(d.message, "without its 19 fields"));
    assert_int_equal(load_text(f, 0, "", &d), CDR_E_CSV);
    assert_int_equal(load_text(f, 1, good, &d), CDR_E_LIMIT);
    assert_int_equal(d.line, 3);
    free(good);
    free(text);
    free(hdr);
}

int
main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_state_file_resumes_open_calls),
        T(test_state_file_of_version_1_resumes_the_same_calls),
        cmocka_unit_test_setup_teardown(
            test_state_file_round_trips_hostile_strings, setup_state,
            teardown_state),
        cmocka_unit_test_setup_teardown(
            test_malformed_state_files_are_refused_with_line_and_field,
            setup_state, teardown_state),
        cmocka_unit_test_setup_teardown(
            test_malformed_v1_state_files_are_refused_with_line_and_field,
            setup_state, teardown_state),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Shared by the PostgreSQL integration tests (pg_fixture.c).
 */
#ifndef REFEREE_TESTS_PG_FIXTURE_H
#define REFEREE_TESTS_PG_FIXTURE_H

#include "rating/pg/rt_pg.h"
#include "rating/pg/rt_sink_pg.h"
#include "rating/run/rt_sink.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

/* The source tree's schema/ (set by each test program's main). */
extern char schema_dir[1024];

struct fx {
    char db[64];
    char conninfo[256];
    PGconn *admin; /* connected to the test database */
};

/* A hand-built call: records and components live in this struct. */
struct tcall {
    struct cdr_record rec;
    struct rt_call call;
    char sid[64], parent[64];
};

#define T0 ((int64_t)1778400000) /* 2026-05-10T08:00:00Z */
/* 2025-10-22: a month the run's start (T0) does not open in advance. */
#define T_OLD (T0 - 200 * 86400)

/* The rows a store read handed back (collect_row), as
 * "sid|parent|start|direction|file:line". */
struct collect {
    char sids[16][64];
    int n;
    int64_t dummy;
};

extern struct rt_input_file files1[1], files3_bad[1], files2[1];

PGconn *connect_or_die(const char *conninfo);
void exec_ok(PGconn *c, const char *sql);
/* First column of the first row, as text ("" for NULL); a static buffer. */
char *scalar(PGconn *c, const char *sql);
void diag_ok(int rc, const struct cdr_diag *d);
/* A fresh database migrated to RT_PG_SCHEMA_VERSION (struct fx), and its
 * drop. */
int setup_db(void **state);
int teardown_db(void **state);
struct cdr_slice sl(const char *s);
void make_call(struct tcall *t, const char *sid, const char *parent,
               enum rt_leg leg, enum rt_scenario scn, int64_t start,
               int64_t duration, long file_index);
/* A component at rate_nano per minute, 60/60 increments, 6 decimals. */
void add_comp(struct tcall *t, enum rt_service svc, int64_t rate_nano,
              const char *rate_text);
struct rt_run_info run_info(const struct rt_input_file *files, size_t n);
struct rt_sink open_sink(struct fx *f);
/* One night: a termination-pstn transfer, a single call, one reject. */
void rate_night(struct rt_sink *s, const struct rt_input_file *files,
                const char *prefix, struct rt_store_report *rep);
/* rt_row_fn for struct collect. */
int collect_row(void *ctx, const struct cdr_row *row, struct cdr_diag *d);
/* A night of n transfers (parent + child with two components) from t0; with
 * a killer, it terminates the backend named appname half-way. */
int big_night_at(struct rt_sink *s, int64_t t0, int n, PGconn *killer,
                 const char *appname, struct rt_store_report *rep,
                 struct cdr_diag *d);
/* Everything that must be unchanged by a failed or skipped run. */
char *snapshot(PGconn *c);
/* The test program's main: skipped (77) without a server. */
int pg_run_tests(const struct CMUnitTest *tests, size_t n);

#endif

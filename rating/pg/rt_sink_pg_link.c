/*
 * The PostgreSQL sink's connection during a run: the driver's thread has
 * it, except while it is lent to the loader thread for a job (the server
 * loads one batch while the driver rates the next).  Whoever wants it
 * back takes it, waiting for the job and getting its error.  Made for a
 * run and freed with it: no job, thread or error outlives its run.
 */
#include "rating/pg/rt_sink_pg_int.h"

#include "cdr/util/cdr_decimal.h"

#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct pgs_link {
    PGconn *conn;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int thread_on, busy, quit;
    int lent; /* a job was lent and the connection not taken back */
    pgs_job_fn job;
    void *arg;
    int rc;               /* of the job lent */
    struct cdr_diag diag; /* of the job lent */
};

int
pgs_link_new(struct pgs_link **out, PGconn *conn, struct cdr_diag *d)
{
    struct pgs_link *l = calloc(1, sizeof *l);
    *out = NULL;
    if (l == NULL)
        return cdr_diag_set(d, CDR_E_NOMEM, NULL, NULL, 0, "out of memory");
    if (pthread_mutex_init(&l->mu, NULL) != 0) {
        free(l);
        return cdr_diag_set(d, CDR_E_NOMEM, NULL, NULL, 0, "out of memory");
    }
    if (pthread_cond_init(&l->cv, NULL) != 0) {
        pthread_mutex_destroy(&l->mu);
        free(l);
        return cdr_diag_set(d, CDR_E_NOMEM, NULL, NULL, 0, "out of memory");
    }
    l->conn = conn;
    *out = l;
    return 0;
}

static void *
loader_main(void *arg)
{
    struct pgs_link *l = arg;
    pthread_mutex_lock(&l->mu);
    for (;;) {
        int rc;
        while (!l->busy && !l->quit)
            pthread_cond_wait(&l->cv, &l->mu);
        if (l->quit)
            break;
        pthread_mutex_unlock(&l->mu);
        cdr_diag_clear(&l->diag);
        rc = l->job(l->arg, l->conn, &l->diag);
        pthread_mutex_lock(&l->mu);
        l->rc = rc;
        l->busy = 0;
        pthread_cond_broadcast(&l->cv);
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

int
pgs_link_lend(struct pgs_link *l, pgs_job_fn job, void *arg, struct cdr_diag *d)
{
    if (!l->thread_on && pthread_create(&l->thread, NULL, loader_main, l) == 0)
        l->thread_on = 1;
    if (!l->thread_on) {
        /* no thread could be started: load it here */
        return job(arg, l->conn, d);
    }
    pthread_mutex_lock(&l->mu);
    l->job = job;
    l->arg = arg;
    l->lent = 1;
    l->busy = 1;
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
    return 0;
}

int
pgs_link_take(struct pgs_link *l, struct cdr_diag *d)
{
    if (!l->lent)
        return 0;
    pthread_mutex_lock(&l->mu);
    while (l->busy)
        pthread_cond_wait(&l->cv, &l->mu);
    pthread_mutex_unlock(&l->mu);
    l->lent = 0;
    if (l->rc != 0)
        *d = l->diag;
    return l->rc;
}

PGconn *
pgs_link_conn(const struct pgs_link *l)
{
    return l->conn;
}

void
pgs_link_free(struct pgs_link *l)
{
    struct cdr_diag ignore;
    if (l == NULL)
        return;
    cdr_diag_clear(&ignore);
    (void)pgs_link_take(l, &ignore);
    if (l->thread_on) {
        pthread_mutex_lock(&l->mu);
        l->quit = 1;
        pthread_cond_broadcast(&l->cv);
        pthread_mutex_unlock(&l->mu);
        pthread_join(l->thread, NULL);
    }
    pthread_cond_destroy(&l->cv);
    pthread_mutex_destroy(&l->mu);
    free(l);
}

/* ---- COPY ------------------------------------------------------------- */

int
pgs_copy_start(PGconn *conn, const char *sql, struct cdr_diag *d)
{
    PGresult *res = PQexec(conn, sql);
    if (PQresultStatus(res) != PGRES_COPY_IN) {
        rt_pg_fail(conn, res, "starting COPY", d);
        PQclear(res);
        return CDR_E_DB;
    }
    PQclear(res);
    return 0;
}

int
pgs_copy_send(PGconn *conn, const char *p, size_t n, struct cdr_diag *d)
{
    while (n > 0) {
        size_t k = n > RT_SINK_PG_CHUNK ? RT_SINK_PG_CHUNK : n;
        if (PQputCopyData(conn, p, (int)k) != 1)
            return rt_pg_fail(conn, NULL, "sending rows to PostgreSQL", d);
        p += k;
        n -= k;
    }
    return 0;
}

/* pg_dump does the same: PQputCopyEnd, then PQgetResult until NULL. */
int
pgs_copy_end(PGconn *conn, const char *errmsg, struct cdr_diag *d)
{
    PGresult *res;
    int rc = 0;
    if (PQputCopyEnd(conn, errmsg) != 1 && errmsg == NULL)
        rc = rt_pg_fail(conn, NULL, "ending COPY", d);
    while ((res = PQgetResult(conn)) != NULL) {
        if (PQresultStatus(res) != PGRES_COMMAND_OK && rc == 0 &&
            errmsg == NULL)
            rc = rt_pg_fail(conn, res, "loading rows (COPY)", d);
        PQclear(res);
        if (PQstatus(conn) == CONNECTION_BAD)
            break;
    }
    if (rc == 0 && errmsg == NULL && PQstatus(conn) == CONNECTION_BAD)
        rc = rt_pg_fail(conn, NULL, "loading rows (COPY)", d);
    return rc;
}

int
pgs_copy_finish(PGconn *conn, int rc, struct cdr_diag *d)
{
    int end = pgs_copy_end(conn, rc == 0 ? NULL : "client error", d);
    return rc != 0 ? rc : end;
}

/* ---- small helpers ---------------------------------------------------- */

char *
pgs_dup_str(const char *s)
{
    size_t n;
    char *p;
    if (s == NULL)
        s = "";
    n = strlen(s) + 1;
    p = malloc(n);
    if (p != NULL)
        memcpy(p, s, n);
    return p;
}

int
pgs_parse_long(const char *s, long *out)
{
    int64_t v;
    if (cdr_decimal_parse(s, strlen(s), 0, 0, 1, &v) != 0 || v < LONG_MIN ||
        v > LONG_MAX)
        return -1;
    *out = (long)v;
    return 0;
}

#include "rating/pg/rt_pg_migrate.h"

#include "rating/pg/rt_pg.h"

#include "cdr/util/cdr_ascii.h"
#include "cdr/util/cdr_decimal.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct migration {
    int version;
    char name[256];
};

/* "NNN_word.sql" -> version; -1 if the name is not a migration. */
static int
migration_number(const char *name)
{
    size_t len = strlen(name);
    const char *us = memchr(name, '_', len);
    int64_t v;
    if (len < 6 || strcmp(name + len - 4, ".sql") != 0 || us == NULL ||
        cdr_decimal_parse(name, (size_t)(us - name), 0, 0, 0, &v) != 0 ||
        v > RT_PG_MAX_MIGRATIONS)
        return -1;
    for (const char *c = us + 1; c < name + len - 4; c++)
        if (!cdr_is_alnum(*c) && *c != '_' && *c != '-')
            return -1;
    return (int)v;
}

static int
list_migrations(const char *dir, struct migration *m, int *n,
                struct cdr_diag *d)
{
    DIR *dp = opendir(dir);
    struct dirent *e;
    *n = 0;
    if (dp == NULL) {
        cdr_diag_set(d, CDR_E_IO, NULL, NULL, 0,
                     "cannot open schema folder: %s", strerror(errno));
        cdr_diag_at(d, dir, 0, 0);
        return CDR_E_IO;
    }
    for (int i = 0; i <= RT_PG_SCHEMA_VERSION; i++)
        m[i].version = 0;
    while ((e = readdir(dp)) != NULL) {
        int v = migration_number(e->d_name);
        if (v < 0)
            continue;
        if (v == 0 || v > RT_PG_SCHEMA_VERSION) {
            closedir(dp);
            cdr_diag_set(d, CDR_E_DB, NULL, e->d_name, strlen(e->d_name),
                         "migration %03d is not one this referee knows "
                         "(it knows 1 to %d)",
                         v, RT_PG_SCHEMA_VERSION);
            cdr_diag_at(d, dir, 0, 0);
            cdr_diag_detail(d, "use the schema folder installed with this "
                               "referee-rate, or upgrade referee-rate");
            return CDR_E_DB;
        }
        if (m[v].version != 0) {
            char both[600];
            snprintf(both, sizeof both, "%s and %s", m[v].name, e->d_name);
            closedir(dp);
            cdr_diag_set(d, CDR_E_DB, NULL, both, strlen(both),
                         "two migrations numbered %03d", v);
            cdr_diag_at(d, dir, 0, 0);
            return CDR_E_DB;
        }
        m[v].version = v;
        snprintf(m[v].name, sizeof m[v].name, "%s", e->d_name);
    }
    closedir(dp);
    for (int v = 1; v <= RT_PG_SCHEMA_VERSION; v++) {
        if (m[v].version == 0) {
            cdr_diag_set(d, CDR_E_DB, NULL, NULL, 0,
                         "migration %03d_*.sql missing", v);
            cdr_diag_at(d, dir, 0, 0);
            return CDR_E_DB;
        }
    }
    *n = RT_PG_SCHEMA_VERSION;
    return 0;
}

/* Whole file, NUL-terminated, bounded; caller frees. */
static char *
read_file(const char *path, struct cdr_diag *d)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    size_t n;
    if (f == NULL) {
        cdr_diag_set(d, CDR_E_IO, NULL, NULL, 0, "cannot open: %s",
                     strerror(errno));
        cdr_diag_at(d, path, 0, 0);
        return NULL;
    }
    buf = malloc(RT_PG_MAX_MIGRATION_BYTES + 1);
    if (buf == NULL) {
        fclose(f);
        cdr_diag_set(d, CDR_E_NOMEM, NULL, NULL, 0, "out of memory");
        return NULL;
    }
    n = fread(buf, 1, RT_PG_MAX_MIGRATION_BYTES + 1, f);
    if (ferror(f) || n > RT_PG_MAX_MIGRATION_BYTES) {
        int err = ferror(f);
        fclose(f);
        free(buf);
        cdr_diag_set(d, err ? CDR_E_IO : CDR_E_LIMIT, NULL, NULL, 0,
                     err ? "read error" : "migration larger than %d bytes",
                     RT_PG_MAX_MIGRATION_BYTES);
        cdr_diag_at(d, path, 0, 0);
        return NULL;
    }
    fclose(f);
    if (memchr(buf, '\0', n) != NULL) {
        free(buf);
        cdr_diag_set(d, CDR_E_DB, NULL, NULL, 0, "NUL byte in migration");
        cdr_diag_at(d, path, 0, 0);
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}

static int
parse_int(const char *s, int *out)
{
    int64_t v;
    if (s == NULL || cdr_decimal_parse(s, strlen(s), 0, 0, 0, &v) != 0 ||
        v > 1000000)
        return -1;
    *out = (int)v;
    return 0;
}

int
rt_pg_schema_version(PGconn *conn, int *version, struct cdr_diag *d)
{
    PGresult *res = rt_pg_query(
        conn,
        "SELECT CASE WHEN to_regclass('referee.schema_version') IS NULL "
        "THEN -1 END",
        0, NULL, PGRES_TUPLES_OK, "reading the schema version", d);
    int missing;
    *version = 0;
    if (res == NULL)
        return CDR_E_DB;
    missing = !PQgetisnull(res, 0, 0);
    PQclear(res);
    if (missing)
        return 0;
    res =
        rt_pg_query(conn,
                    "SELECT coalesce(max(version), 0)::text "
                    "FROM referee.schema_version",
                    0, NULL, PGRES_TUPLES_OK, "reading the schema version", d);
    if (res == NULL)
        return CDR_E_DB;
    if (parse_int(PQgetvalue(res, 0, 0), version) != 0) {
        PQclear(res);
        return cdr_diag_set(d, CDR_E_DB, NULL, NULL, 0,
                            "unreadable schema version");
    }
    PQclear(res);
    return 0;
}

int
rt_pg_schema_check(PGconn *conn, struct cdr_diag *d)
{
    int v;
    if (rt_pg_schema_version(conn, &v, d) != 0)
        return CDR_E_DB;
    if (v == RT_PG_SCHEMA_VERSION)
        return 0;
    if (v == 0) {
        cdr_diag_set(d, CDR_E_DB, NULL, NULL, 0,
                     "database \"%s\" has no referee schema",
                     PQdb(conn) ? PQdb(conn) : "?");
        cdr_diag_detail(d, "create it with: referee-rate --db ... --migrate");
    } else if (v < RT_PG_SCHEMA_VERSION) {
        cdr_diag_set(d, CDR_E_DB, NULL, NULL, 0,
                     "database schema version %d is older than this "
                     "referee-rate's (%d)",
                     v, RT_PG_SCHEMA_VERSION);
        cdr_diag_detail(d, "upgrade it with: referee-rate --db ... --migrate");
    } else {
        cdr_diag_set(d, CDR_E_DB, NULL, NULL, 0,
                     "database schema version %d is newer than this "
                     "referee-rate knows (%d)",
                     v, RT_PG_SCHEMA_VERSION);
        cdr_diag_detail(d, "upgrade referee-rate; refusing to write with an "
                           "older program");
    }
    return CDR_E_DB;
}

/* Applied migrations must still be the files we ship. */
static int
check_applied(PGconn *conn, const char *dir, const struct migration *m,
              int upto, struct cdr_diag *d)
{
    for (int v = 1; v <= upto; v++) {
        char path[1024], vs[16];
        char *sql;
        const char *params[2];
        PGresult *res;
        snprintf(path, sizeof path, "%s/%s", dir, m[v].name);
        sql = read_file(path, d);
        if (sql == NULL)
            return d->code;
        snprintf(vs, sizeof vs, "%d", v);
        params[0] = vs;
        params[1] = sql;
        res = rt_pg_query(conn,
                          "SELECT checksum = md5($2), name "
                          "FROM referee.schema_version WHERE version = $1",
                          2, params, PGRES_TUPLES_OK,
                          "reading applied migrations", d);
        free(sql);
        if (res == NULL)
            return CDR_E_DB;
        if (PQntuples(res) != 1 || strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
            cdr_diag_set(d, CDR_E_DB, NULL, m[v].name, strlen(m[v].name),
                         PQntuples(res) != 1
                             ? "migration %03d is not recorded as applied"
                             : "migration %03d was changed after it was "
                               "applied",
                         v);
            cdr_diag_at(d, path, 0, 0);
            cdr_diag_detail(d, "migrations are forward-only: restore the "
                               "file and add a new NNN_*.sql instead");
            PQclear(res);
            return CDR_E_DB;
        }
        PQclear(res);
    }
    return 0;
}

int
rt_pg_migrate_conn(PGconn *conn, const char *schema_dir, int *from, int *to,
                   struct cdr_diag *d)
{
    struct migration m[RT_PG_SCHEMA_VERSION + 1];
    int n, v0 = 0, rc;

    if (from != NULL)
        *from = 0;
    if (to != NULL)
        *to = 0;
    if (list_migrations(schema_dir, m, &n, d) != 0)
        return d->code;
    if (rt_pg_exec(conn, "BEGIN", "starting the migration", d) != 0)
        return CDR_E_DB;
    rc = rt_pg_exec(conn, "SELECT pg_advisory_xact_lock(" RT_PG_LOCK_KEY ")",
                    "locking the schema", d);
    if (rc == 0)
        rc = rt_pg_schema_version(conn, &v0, d);
    if (rc == 0 && v0 > RT_PG_SCHEMA_VERSION) {
        rc = rt_pg_schema_check(conn, d);
    }
    if (rc == 0)
        rc = check_applied(conn, schema_dir, m, v0, d);
    for (int v = v0 + 1; rc == 0 && v <= n; v++) {
        char path[1024], vs[16], what[320];
        const char *params[3];
        PGresult *res;
        char *sql;
        snprintf(path, sizeof path, "%s/%s", schema_dir, m[v].name);
        sql = read_file(path, d);
        if (sql == NULL) {
            rc = d->code;
            break;
        }
        snprintf(what, sizeof what, "applying %s", m[v].name);
        /* Simple query protocol: a file may hold many statements. */
        rc = rt_pg_exec(conn, sql, what, d);
        if (rc != 0) {
            cdr_diag_at(d, path, 0, 0);
            free(sql);
            break;
        }
        snprintf(vs, sizeof vs, "%d", v);
        params[0] = vs;
        params[1] = m[v].name;
        params[2] = sql;
        res = rt_pg_query(conn,
                          "INSERT INTO referee.schema_version "
                          "(version, name, checksum) VALUES ($1, $2, md5($3))",
                          3, params, PGRES_COMMAND_OK, "recording the version",
                          d);
        free(sql);
        if (res == NULL) {
            rc = CDR_E_DB;
            break;
        }
        PQclear(res);
    }
    if (rc != 0) {
        PGresult *r = PQexec(conn, "ROLLBACK");
        PQclear(r);
        return rc;
    }
    if (rt_pg_exec(conn, "COMMIT", "committing the migration", d) != 0)
        return CDR_E_DB;
    if (from != NULL)
        *from = v0;
    if (to != NULL)
        *to = v0 > n ? v0 : n;
    return 0;
}

int
rt_pg_migrate(const char *conninfo, const char *schema_dir, int *from, int *to,
              struct cdr_diag *d)
{
    PGconn *conn;
    int rc = rt_pg_connect(&conn, conninfo, d);
    if (rc != 0)
        return rc;
    rc = rt_pg_migrate_conn(conn, schema_dir, from, to, d);
    PQfinish(conn);
    return rc;
}

/*
 * postgres.c - the PostgreSQL engine of the store (libpq), for several casd instances on one
 * database. Write transactions take one transaction-scoped advisory lock first, so writers are
 * serialised across instances exactly as SQLite's BEGIN IMMEDIATE serialises them in one: a
 * predecessor check and its write can never interleave with another's. The portable schema's
 * BLOB is a domain over bytea. Results come in binary format: integers by their type's width.
 */
#include <arpa/inet.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/backend.h"
#include "util/alloc.h"

/* pg_advisory_xact_lock key of cas's writers: "cas1" as an integer. */
#define WRITE_LOCK 0x63617331

struct cas_conn {
    PGconn *pg;
};

struct pg_row {
    PGresult *res;
    int row;
};

static cas_rc
pg_error(PGconn *pg, const PGresult *res, const char *what, struct cas_err *err)
{
    const char *state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res != NULL ? PQresultErrorMessage(res) : PQerrorMessage(pg);
    char line[400];
    size_t n;
    cas_rc rc = CAS_E_IO;

    (void)snprintf(line, sizeof(line), "%s", msg != NULL ? msg : "unknown error");
    n = strlen(line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == ' '))
        line[--n] = '\0';
    if (state != NULL && (strncmp(state, "23", 2) == 0 || strcmp(state, "40001") == 0 ||
                          strcmp(state, "40P01") == 0))
        rc = CAS_E_CONFLICT;
    return cas_err_set(err, rc, "%s: %s", what, line);
}

static cas_rc
run(struct cas_conn *c, const char *sql, struct cas_err *err)
{
    PGresult *res = PQexec(c->pg, sql);
    cas_rc rc = CAS_OK;

    if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
        rc = pg_error(c->pg, res, "database statement failed", err);
    PQclear(res);
    return rc;
}

static cas_rc
pg_connect(const char *target, struct cas_conn **out, struct cas_err *err)
{
    struct cas_conn *c;
    cas_rc rc;

    *out = NULL;
    if ((c = cas_calloc(1, sizeof(*c))) == NULL)
        return cas_err_set(err, CAS_E_NOMEM, "out of memory");
    c->pg = PQconnectdb(target);
    if (c->pg == NULL || PQstatus(c->pg) != CONNECTION_OK) {
        rc = pg_error(c->pg, NULL, "cannot connect to PostgreSQL", err);
        PQfinish(c->pg);
        free(c);
        return rc;
    }
    /* The portable schema says BLOB: make it bytea here, once per database. */
    if ((rc = run(c,
                  "SET client_min_messages = warning;"
                  "DO $$ BEGIN CREATE DOMAIN blob AS bytea;"
                  " EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$",
                  err)) != CAS_OK) {
        PQfinish(c->pg);
        free(c);
        return rc;
    }
    *out = c;
    return CAS_OK;
}

static void
pg_disconnect(struct cas_conn *c)
{
    if (c == NULL)
        return;
    PQfinish(c->pg);
    free(c);
}

static cas_rc
pg_begin(struct cas_conn *c, enum cas_tx_mode mode, struct cas_err *err)
{
    char sql[128];

    if (mode == CAS_TX_READ)
        return run(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", err);
    /* Appended records take no part in the instances' write order: no lock, no wait for the
     * WAL flush (SET LOCAL ends with the transaction). */
    if (mode == CAS_TX_RECORD)
        return run(c, "BEGIN; SET LOCAL synchronous_commit TO OFF", err);
    (void)snprintf(sql, sizeof(sql), "BEGIN; SELECT pg_advisory_xact_lock(%d)", WRITE_LOCK);
    return run(c, sql, err);
}

static cas_rc
pg_commit(struct cas_conn *c, struct cas_err *err)
{
    return run(c, "COMMIT", err);
}

static void
pg_rollback(struct cas_conn *c)
{
    if (PQtransactionStatus(c->pg) != PQTRANS_IDLE)
        PQclear(PQexec(c->pg, "ROLLBACK"));
}

static bool
row_is_null(const struct cas_row *row, int col)
{
    const struct pg_row *r = row->impl;

    return PQgetisnull(r->res, r->row, col) != 0;
}

static const char *
row_text(const struct cas_row *row, int col)
{
    const struct pg_row *r = row->impl;

    return PQgetvalue(r->res, r->row, col); /* binary text is the bytes, terminated by libpq */
}

static const uint8_t *
row_blob(const struct cas_row *row, int col, size_t *len)
{
    const struct pg_row *r = row->impl;
    int n = PQgetlength(r->res, r->row, col);

    *len = n > 0 ? (size_t)n : 0;
    return (const uint8_t *)PQgetvalue(r->res, r->row, col);
}

static int64_t
row_int(const struct cas_row *row, int col)
{
    const struct pg_row *r = row->impl;
    const uint8_t *p = (const uint8_t *)PQgetvalue(r->res, r->row, col);
    int n = PQgetlength(r->res, r->row, col);
    uint64_t v = 0;

    if (PQgetisnull(r->res, r->row, col) || (n != 2 && n != 4 && n != 8))
        return 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    if (n == 2)
        return (int16_t)v;
    if (n == 4)
        return (int32_t)v;
    return (int64_t)v;
}

static const struct cas_row_ops row_ops = {row_is_null, row_text, row_blob, row_int};

#define MAX_PARAMS 16

static cas_rc
pg_exec(struct cas_conn *c, const char *sql, const struct cas_param *params, size_t n_params,
        cas_row_fn row_fn, void *arg, int64_t *changes, struct cas_err *err)
{
    const char *values[MAX_PARAMS];
    int lengths[MAX_PARAMS], formats[MAX_PARAMS];
    char ints[MAX_PARAMS][24];
    PGresult *res;
    cas_rc rc = CAS_OK;

    if (changes != NULL)
        *changes = 0;
    if (n_params > MAX_PARAMS)
        return cas_err_set(err, CAS_E_INTERNAL, "a statement has more than %d parameters",
                           MAX_PARAMS);
    if (n_params == 0 && row_fn == NULL && changes == NULL)
        return run(c, sql, err); /* migrations may hold several statements */
    for (size_t i = 0; i < n_params; i++) {
        formats[i] = 0;
        lengths[i] = 0;
        switch (params[i].type) {
        case CAS_P_NULL:
            values[i] = NULL;
            break;
        case CAS_P_TEXT:
            values[i] = params[i].p;
            break;
        case CAS_P_BLOB:
            if (params[i].len > INT32_MAX)
                return cas_err_set(err, CAS_E_TOOBIG, "a value is too large for the database");
            values[i] = params[i].p;
            lengths[i] = (int)params[i].len;
            formats[i] = 1;
            break;
        case CAS_P_INT:
            (void)snprintf(ints[i], sizeof(ints[i]), "%lld", (long long)params[i].i);
            values[i] = ints[i];
            break;
        }
    }
    res = PQexecParams(c->pg, sql, (int)n_params, NULL, values, lengths, formats, 1);
    switch (PQresultStatus(res)) {
    case PGRES_TUPLES_OK:
        for (int r = 0; row_fn != NULL && r < PQntuples(res); r++) {
            struct pg_row pr = {res, r};
            struct cas_row row = {&row_ops, &pr};
            if ((rc = row_fn(&row, arg, err)) != CAS_OK)
                break;
        }
        break;
    case PGRES_COMMAND_OK:
        if (changes != NULL)
            *changes = strtoll(PQcmdTuples(res), NULL, 10);
        break;
    default:
        rc = pg_error(c->pg, res, "database statement failed", err);
        break;
    }
    PQclear(res);
    return rc;
}

const struct cas_backend cas_backend_postgres = {
    .name = "postgresql",
    .connect = pg_connect,
    .disconnect = pg_disconnect,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .exec = pg_exec,
};

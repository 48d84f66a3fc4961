/*
 * sqlite.c - the SQLite engine of the store: one database file in WAL mode with synchronous=FULL
 * (an acknowledged commit survives a crash or power loss; NORMAL for CAS_TX_RECORD only),
 * secure_delete (freed pages are zeroed), a busy timeout instead of immediate SQLITE_BUSY, and $N
 * parameters rewritten to SQLite's ?N.
 */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "store/backend.h"
#include "util/alloc.h"
#include "util/buf.h"

#define BUSY_TIMEOUT_MS 10000

#define STMT_CACHE 64

/* Prepared statements kept per connection, by their text: the store runs the same few dozen
 * statements over and over, and preparing one costs more than running it. */
struct cached_stmt {
    char *sql;
    sqlite3_stmt *stmt;
};

struct cas_conn {
    sqlite3 *db;
    struct cached_stmt cache[STMT_CACHE];
    size_t n_cache;
    bool relaxed; /* synchronous=NORMAL is set (a CAS_TX_RECORD ran last) */
};

static cas_rc
db_error(sqlite3 *db, int code, const char *what, struct cas_err *err)
{
    cas_rc rc = CAS_E_IO;

    if (code == SQLITE_BUSY || code == SQLITE_LOCKED)
        rc = CAS_E_CONFLICT;
    else if ((code & 0xff) == SQLITE_CONSTRAINT)
        rc = CAS_E_CONFLICT;
    else if (code == SQLITE_NOMEM)
        rc = CAS_E_NOMEM;
    return cas_err_set(err, rc, "%s: %s", what,
                       db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(code));
}

static cas_rc
run(sqlite3 *db, const char *sql, struct cas_err *err)
{
    int code = sqlite3_exec(db, sql, NULL, NULL, NULL);

    return code == SQLITE_OK ? CAS_OK : db_error(db, code, "database statement failed", err);
}

static cas_rc
sq_connect(const char *target, struct cas_conn **out, struct cas_err *err)
{
    struct cas_conn *c;
    int code;
    cas_rc rc;

    *out = NULL;
    if ((c = cas_calloc(1, sizeof(*c))) == NULL)
        return cas_err_set(err, CAS_E_NOMEM, "out of memory");
    code = sqlite3_open_v2(target, &c->db,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX |
                               SQLITE_OPEN_NOFOLLOW,
                           NULL);
    if (code != SQLITE_OK) {
        rc = db_error(c->db, code, "cannot open the database", err);
        cas_err_wrap(err, "database '%s'", target);
        sqlite3_close(c->db);
        free(c);
        return rc;
    }
    sqlite3_busy_timeout(c->db, BUSY_TIMEOUT_MS);
    if ((rc = run(c->db,
                  "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
                  " PRAGMA secure_delete=ON; PRAGMA trusted_schema=OFF;",
                  err)) != CAS_OK) {
        cas_err_wrap(err, "cannot configure database '%s'", target);
        sqlite3_close(c->db);
        free(c);
        return rc;
    }
    *out = c;
    return CAS_OK;
}

static void
sq_disconnect(struct cas_conn *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->n_cache; i++) {
        sqlite3_finalize(c->cache[i].stmt);
        free(c->cache[i].sql);
    }
    sqlite3_close(c->db);
    free(c);
}

/* A prepared single statement for sql from the cache, or NULL. */
static sqlite3_stmt *
cached(struct cas_conn *c, const char *sql)
{
    for (size_t i = 0; i < c->n_cache; i++) {
        if (strcmp(c->cache[i].sql, sql) == 0) {
            sqlite3_reset(c->cache[i].stmt);
            sqlite3_clear_bindings(c->cache[i].stmt);
            return c->cache[i].stmt;
        }
    }
    return NULL;
}

/* Keeps stmt for sql when there is room; true when the cache owns it now. */
static bool
keep(struct cas_conn *c, const char *sql, sqlite3_stmt *stmt)
{
    char *copy;

    if (c->n_cache == STMT_CACHE || (copy = cas_strdup(sql)) == NULL)
        return false;
    c->cache[c->n_cache].sql = copy;
    c->cache[c->n_cache].stmt = stmt;
    c->n_cache++;
    return true;
}

static cas_rc sq_exec(struct cas_conn *c, const char *sql, const struct cas_param *params,
                      size_t n_params, cas_row_fn row_fn, void *arg, int64_t *changes,
                      struct cas_err *err);

/* Transaction statements run prepared from the statement cache, as every request runs some. */
static cas_rc
run_cached(struct cas_conn *c, const char *sql, struct cas_err *err)
{
    return sq_exec(c, sql, NULL, 0, NULL, NULL, NULL, err);
}

/* The level can only change outside a transaction, so it is set at BEGIN, and only when a
 * write needs the other one: reads do not care. */
static cas_rc
sq_begin(struct cas_conn *c, enum cas_tx_mode mode, struct cas_err *err)
{
    bool relaxed = mode == CAS_TX_RECORD;
    cas_rc rc;

    if (mode == CAS_TX_READ)
        return run_cached(c, "BEGIN DEFERRED", err);
    if (relaxed != c->relaxed) {
        rc = run_cached(c, relaxed ? "PRAGMA synchronous=NORMAL" : "PRAGMA synchronous=FULL", err);
        if (rc != CAS_OK)
            return rc;
        c->relaxed = relaxed;
    }
    return run_cached(c, "BEGIN IMMEDIATE", err);
}

static cas_rc
sq_commit(struct cas_conn *c, struct cas_err *err)
{
    return run_cached(c, "COMMIT", err);
}

static void
sq_rollback(struct cas_conn *c)
{
    struct cas_err ignored = {0};

    if (!sqlite3_get_autocommit(c->db))
        (void)run_cached(c, "ROLLBACK", &ignored);
}

/* $N -> ?N outside quoted text: SQLite reads "$1" as a named parameter. */
static char *
rewrite(const char *sql)
{
    struct cas_buf b;
    char quote = 0;

    cas_buf_init(&b, 1 << 20);
    for (const char *p = sql; *p != '\0'; p++) {
        if (quote != 0) {
            if (*p == quote)
                quote = 0;
        } else if (*p == '\'' || *p == '"') {
            quote = *p;
        } else if (*p == '$' && p[1] >= '1' && p[1] <= '9') {
            cas_buf_addc(&b, '?');
            continue;
        }
        cas_buf_addc(&b, *p);
    }
    return cas_buf_detach(&b, NULL);
}

static bool
row_is_null(const struct cas_row *row, int col)
{
    return sqlite3_column_type(row->impl, col) == SQLITE_NULL;
}

static const char *
row_text(const struct cas_row *row, int col)
{
    return (const char *)sqlite3_column_text(row->impl, col);
}

static const uint8_t *
row_blob(const struct cas_row *row, int col, size_t *len)
{
    const uint8_t *p = sqlite3_column_blob(row->impl, col);
    int n = sqlite3_column_bytes(row->impl, col);

    *len = n > 0 ? (size_t)n : 0;
    return p;
}

static int64_t
row_int(const struct cas_row *row, int col)
{
    return sqlite3_column_int64(row->impl, col);
}

static const struct cas_row_ops row_ops = {row_is_null, row_text, row_blob, row_int};

static cas_rc
bind(sqlite3_stmt *stmt, const struct cas_param *params, size_t n, struct cas_err *err)
{
    for (size_t i = 0; i < n; i++) {
        int idx = (int)i + 1, code = SQLITE_OK;
        if (i >= (size_t)sqlite3_bind_parameter_count(stmt))
            break;
        switch (params[i].type) {
        case CAS_P_NULL:
            code = sqlite3_bind_null(stmt, idx);
            break;
        case CAS_P_TEXT:
            code = sqlite3_bind_text(stmt, idx, params[i].p, -1, SQLITE_TRANSIENT);
            break;
        case CAS_P_BLOB:
            code = sqlite3_bind_blob64(stmt, idx, params[i].p, params[i].len, SQLITE_TRANSIENT);
            break;
        case CAS_P_INT:
            code = sqlite3_bind_int64(stmt, idx, params[i].i);
            break;
        }
        if (code != SQLITE_OK)
            return cas_err_set(err, CAS_E_INTERNAL, "cannot bind parameter %d", idx);
    }
    return CAS_OK;
}

static cas_rc
step_rows(struct cas_conn *c, sqlite3_stmt *stmt, cas_row_fn row_fn, void *arg, int64_t *changes,
          struct cas_err *err)
{
    cas_rc rc = CAS_OK;
    int code;

    while ((code = sqlite3_step(stmt)) == SQLITE_ROW) {
        struct cas_row row = {&row_ops, stmt};
        if (row_fn != NULL && (rc = row_fn(&row, arg, err)) != CAS_OK)
            break;
    }
    if (rc == CAS_OK && code != SQLITE_DONE)
        rc = db_error(c->db, code, "database statement failed", err);
    if (rc == CAS_OK && changes != NULL)
        *changes += sqlite3_changes64(c->db);
    sqlite3_reset(stmt); /* a cached statement must not hold its read lock */
    return rc;
}

static cas_rc
sq_exec(struct cas_conn *c, const char *sql, const struct cas_param *params, size_t n_params,
        cas_row_fn row_fn, void *arg, int64_t *changes, struct cas_err *err)
{
    char *text;
    const char *tail;
    sqlite3_stmt *stmt;
    cas_rc rc = CAS_OK;
    int code;

    if (changes != NULL)
        *changes = 0;
    if ((stmt = cached(c, sql)) != NULL) {
        if ((rc = bind(stmt, params, n_params, err)) != CAS_OK)
            return rc;
        return step_rows(c, stmt, row_fn, arg, changes, err);
    }
    if ((text = rewrite(sql)) == NULL)
        return cas_err_set(err, CAS_E_NOMEM, "out of memory for a statement");
    /* A migration may hold several statements: run each in turn (those are not cached). */
    for (tail = text; rc == CAS_OK && *tail != '\0';) {
        bool single;
        stmt = NULL;
        code = sqlite3_prepare_v2(c->db, tail, -1, &stmt, &tail);
        if (code != SQLITE_OK) {
            rc = db_error(c->db, code, "cannot prepare a statement", err);
            break;
        }
        if (stmt == NULL) /* only white space or a comment was left */
            break;
        single = strspn(tail, " \t\n;") == strlen(tail);
        if ((rc = bind(stmt, params, n_params, err)) == CAS_OK)
            rc = step_rows(c, stmt, row_fn, arg, changes, err);
        if (!(rc == CAS_OK && single && keep(c, sql, stmt)))
            sqlite3_finalize(stmt);
    }
    free(text);
    return rc;
}

const struct cas_backend cas_backend_sqlite = {
    .name = "sqlite",
    .connect = sq_connect,
    .disconnect = sq_disconnect,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .exec = sq_exec,
};

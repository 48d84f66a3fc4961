/*
 * store.c - the engine-neutral half of the store: the URI, the connection pool, transactions and
 * the schema migrations (portable SQL, applied in order inside one write transaction, so two
 * instances starting together cannot both apply one).
 */
#include "store/store.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/backend.h"
#include "util/alloc.h"

#define POOL_MAX 64

/*
 * The schema, version N at index N-1. Never edit a shipped step: add one. Sealed values are
 * BLOBs (crypto/seal.h); certificates are PEM TEXT; times are Unix seconds.
 */
static const char *const migrations[] = {
    /* 1: the CAS identity (root, shared by all instances) and each instance's own chain. */
    "CREATE TABLE cas_identity ("
    " name TEXT PRIMARY KEY,"
    " cert TEXT NOT NULL,"
    " sealed_key BLOB NOT NULL,"
    " created_at BIGINT NOT NULL);"
    "CREATE TABLE cas_instance ("
    " id TEXT PRIMARY KEY,"
    " intermediate_cert TEXT NOT NULL,"
    " intermediate_key BLOB NOT NULL,"
    " leaf_cert TEXT NOT NULL,"
    " leaf_key BLOB NOT NULL,"
    " created_at BIGINT NOT NULL,"
    " updated_at BIGINT NOT NULL);",
    /* 2: sessions. Every version is kept, keyed by its hash, its normalised document sealed;
     * cas_session names the current one. Secret values are sealed, one row per secret. */
    "CREATE TABLE cas_session_version ("
    " name TEXT NOT NULL,"
    " hash TEXT NOT NULL,"
    " predecessor TEXT,"
    " creator TEXT NOT NULL,"
    " created_at BIGINT NOT NULL,"
    " document BLOB NOT NULL,"
    " PRIMARY KEY (name, hash));"
    "CREATE TABLE cas_session ("
    " name TEXT PRIMARY KEY,"
    " hash TEXT NOT NULL,"
    " parent TEXT NOT NULL,"
    " updated_at BIGINT NOT NULL);"
    "CREATE INDEX cas_session_parent ON cas_session (parent);"
    "CREATE TABLE cas_secret ("
    " session TEXT NOT NULL,"
    " name TEXT NOT NULL,"
    " value BLOB NOT NULL,"
    " expires_at BIGINT,"
    " renew_at BIGINT,"
    " updated_at BIGINT NOT NULL,"
    " PRIMARY KEY (session, name));"
    "CREATE TABLE cas_import ("
    " importer TEXT NOT NULL,"
    " exporter TEXT NOT NULL,"
    " PRIMARY KEY (importer, exporter));"
    "CREATE INDEX cas_import_exporter ON cas_import (exporter);",
    /* 3: the audit log of attestation attempts (never a secret). */
    "CREATE TABLE cas_audit ("
    " at BIGINT NOT NULL,"
    " caller TEXT NOT NULL,"
    " config_id TEXT NOT NULL,"
    " verdict TEXT NOT NULL);",
    /* 4: where the running instances of this CAS listen for the attested join of a new one. */
    "CREATE TABLE cas_member ("
    " instance TEXT PRIMARY KEY,"
    " enclave_addr TEXT NOT NULL,"
    " seen_at BIGINT NOT NULL);",
    /* 5: unpinned export grants bound to the creator of the session that first imported
     * through them (policy.md §8.3, docs/policy.md "Sharing secrets"). */
    "CREATE TABLE cas_export_binding ("
    " exporter TEXT NOT NULL,"
    " secret TEXT NOT NULL,"
    " importer TEXT NOT NULL,"
    " creator TEXT NOT NULL,"
    " bound_at BIGINT NOT NULL,"
    " PRIMARY KEY (exporter, secret, importer));",
};

struct cas_store {
    const struct cas_backend *be;
    char *target;
    pthread_mutex_t lock;
    struct cas_conn *idle[POOL_MAX];
    size_t n_idle;
    int schema_version;
};

struct cas_tx {
    struct cas_store *st;
    struct cas_conn *conn;
};

static cas_rc
take_conn(struct cas_store *st, struct cas_conn **out, struct cas_err *err)
{
    pthread_mutex_lock(&st->lock);
    if (st->n_idle > 0) {
        *out = st->idle[--st->n_idle];
        pthread_mutex_unlock(&st->lock);
        return CAS_OK;
    }
    pthread_mutex_unlock(&st->lock);
    return st->be->connect(st->target, out, err);
}

static void
give_conn(struct cas_store *st, struct cas_conn *c)
{
    pthread_mutex_lock(&st->lock);
    if (st->n_idle < POOL_MAX) {
        st->idle[st->n_idle++] = c;
        c = NULL;
    }
    pthread_mutex_unlock(&st->lock);
    if (c != NULL)
        st->be->disconnect(c);
}

cas_rc
cas_store_begin(struct cas_store *st, enum cas_tx_mode mode, struct cas_tx **out,
                struct cas_err *err)
{
    struct cas_tx *tx;
    cas_rc rc;

    *out = NULL;
    if ((tx = cas_calloc(1, sizeof(*tx))) == NULL)
        return cas_err_set(err, CAS_E_NOMEM, "out of memory for a transaction");
    tx->st = st;
    if ((rc = take_conn(st, &tx->conn, err)) != CAS_OK) {
        free(tx);
        return rc;
    }
    if ((rc = st->be->begin(tx->conn, mode, err)) != CAS_OK) {
        /* A connection that cannot begin is suspect: drop it rather than pool it. */
        st->be->disconnect(tx->conn);
        free(tx);
        return rc;
    }
    *out = tx;
    return CAS_OK;
}

cas_rc
cas_tx_commit(struct cas_tx *tx, struct cas_err *err)
{
    cas_rc rc = tx->st->be->commit(tx->conn, err);

    if (rc != CAS_OK)
        tx->st->be->rollback(tx->conn);
    give_conn(tx->st, tx->conn);
    free(tx);
    return rc;
}

void
cas_tx_rollback(struct cas_tx *tx)
{
    if (tx == NULL)
        return;
    tx->st->be->rollback(tx->conn);
    give_conn(tx->st, tx->conn);
    free(tx);
}

cas_rc
cas_tx_exec(struct cas_tx *tx, const char *sql, const struct cas_param *params, size_t n_params,
            cas_row_fn row_fn, void *arg, int64_t *changes, struct cas_err *err)
{
    return tx->st->be->exec(tx->conn, sql, params, n_params, row_fn, arg, changes, err);
}

bool
cas_row_is_null(const struct cas_row *row, int col)
{
    return row->ops->is_null(row, col);
}

const char *
cas_row_text(const struct cas_row *row, int col)
{
    return row->ops->text(row, col);
}

const uint8_t *
cas_row_blob(const struct cas_row *row, int col, size_t *len)
{
    return row->ops->blob(row, col, len);
}

int64_t
cas_row_int(const struct cas_row *row, int col)
{
    return row->ops->integer(row, col);
}

static cas_rc
read_version(const struct cas_row *row, void *arg, struct cas_err *err)
{
    (void)err;
    *(int64_t *)arg = cas_row_int(row, 0);
    return CAS_OK;
}

static cas_rc
migrate(struct cas_store *st, struct cas_err *err)
{
    struct cas_tx *tx = NULL;
    int64_t version = 0;
    size_t count = sizeof(migrations) / sizeof(migrations[0]);
    cas_rc rc;

    if ((rc = cas_store_begin(st, CAS_TX_WRITE, &tx, err)) != CAS_OK)
        return cas_err_wrap(err, "cannot start the schema migration");
    if ((rc = cas_tx_exec(tx, "CREATE TABLE IF NOT EXISTS cas_schema (version BIGINT NOT NULL)",
                          NULL, 0, NULL, NULL, NULL, err)) != CAS_OK ||
        (rc = cas_tx_exec(tx, "SELECT COALESCE(MAX(version), 0) FROM cas_schema", NULL, 0,
                          read_version, &version, NULL, err)) != CAS_OK)
        goto fail;
    if (version > (int64_t)count) {
        rc = cas_err_set(err, CAS_E_CONFLICT,
                         "database schema version %lld is newer than this casd knows (%zu); "
                         "run the newer casd or restore a backup",
                         (long long)version, count);
        goto fail;
    }
    for (size_t v = (size_t)version; v < count; v++) {
        struct cas_param p = CAS_PINT(v + 1);
        if ((rc = cas_tx_exec(tx, migrations[v], NULL, 0, NULL, NULL, NULL, err)) != CAS_OK ||
            (rc = cas_tx_exec(tx, "INSERT INTO cas_schema (version) VALUES ($1)", &p, 1, NULL, NULL,
                              NULL, err)) != CAS_OK) {
            cas_err_wrap(err, "schema migration to version %zu failed", v + 1);
            goto fail;
        }
    }
    if ((rc = cas_tx_commit(tx, err)) != CAS_OK)
        return cas_err_wrap(err, "cannot commit the schema migration");
    st->schema_version = (int)count;
    return CAS_OK;
fail:
    cas_tx_rollback(tx);
    return rc;
}

#define FIX_DAMAGED                                                                                \
    "casd does not run on a damaged database: restore cas.db from a backup together with the "     \
    "sealing.key it was made with, or salvage what is readable with `sqlite3 cas.db .recover | "   \
    "sqlite3 recovered.db` and put recovered.db in place of cas.db (without its -wal and -shm "    \
    "files); `sqlite3 cas.db 'PRAGMA integrity_check'` lists every problem"

struct quick_check {
    char first[256]; /* the first problem reported, or "ok" */
    size_t n;        /* rows: 1 with "ok" for a sound database */
};

static cas_rc
read_check(const struct cas_row *row, void *arg, struct cas_err *err)
{
    struct quick_check *q = arg;
    const char *t = cas_row_text(row, 0);

    (void)err;
    if (q->n++ == 0)
        (void)snprintf(q->first, sizeof(q->first), "%s", t != NULL ? t : "?");
    return CAS_OK;
}

/*
 * SQLite only: PRAGMA quick_check before anything else, so that a database with corrupt pages
 * is refused at start rather than written into (it reads every page once: O(N), no index
 * cross-checks; docs/operations.md gives its time). PostgreSQL checksums its own pages.
 */
static cas_rc
check_sqlite(struct cas_store *st, struct cas_err *err)
{
    struct cas_tx *tx = NULL;
    struct quick_check q = {.first = "", .n = 0};
    cas_rc rc;

    if ((rc = cas_store_begin(st, CAS_TX_READ, &tx, err)) == CAS_OK) {
        rc = cas_tx_exec(tx, "PRAGMA quick_check", NULL, 0, read_check, &q, NULL, err);
        cas_tx_rollback(tx);
    }
    if (rc == CAS_OK && (q.n != 1 || strcmp(q.first, "ok") != 0)) {
        cas_err_set(err, CAS_E_IO, "%s", FIX_DAMAGED);
        cas_err_wrap(err, "PRAGMA quick_check reports '%s'%s", q.first,
                     q.n > 1 ? " and more problems" : "");
        rc = cas_err_wrap(err, "database '%s' is damaged", st->target);
    } else if (rc == CAS_E_IO) { /* SQLITE_CORRUPT, SQLITE_NOTADB, a read error */
        char why[CAS_ERR_LEN];
        cas_err_join(err, why, sizeof(why));
        cas_err_set(err, CAS_E_IO, "%s", FIX_DAMAGED);
        cas_err_wrap(err, "PRAGMA quick_check failed (%s)", why);
        cas_err_wrap(err, "database '%s' is damaged", st->target);
    } else if (rc != CAS_OK) {
        cas_err_wrap(err, "cannot check database '%s'", st->target);
    }
    return rc;
}

cas_rc
cas_store_open(const char *uri, const char *default_sqlite_path, struct cas_store **out,
               struct cas_err *err)
{
    struct cas_store *st;
    const char *target;
    cas_rc rc;
    const struct cas_backend *be = &cas_backend_sqlite;

    *out = NULL;
    if (uri == NULL || uri[0] == '\0') {
        target = default_sqlite_path;
    } else if (strncmp(uri, "postgresql://", 13) == 0 || strncmp(uri, "postgres://", 11) == 0) {
        target = uri;
        be = &cas_backend_postgres;
    } else if (strncmp(uri, "sqlite:", 7) == 0) {
        target = uri + 7;
    } else {
        target = uri;
    }
    if ((st = cas_calloc(1, sizeof(*st))) == NULL)
        return cas_err_set(err, CAS_E_NOMEM, "out of memory");
    st->be = be;
    pthread_mutex_init(&st->lock, NULL);
    if ((st->target = cas_strdup(target)) == NULL) {
        cas_store_close(st);
        return cas_err_set(err, CAS_E_NOMEM, "out of memory");
    }
    if ((be == &cas_backend_sqlite && (rc = check_sqlite(st, err)) != CAS_OK) ||
        (rc = migrate(st, err)) != CAS_OK) {
        cas_store_close(st);
        return rc;
    }
    *out = st;
    return CAS_OK;
}

void
cas_store_close(struct cas_store *st)
{
    if (st == NULL)
        return;
    for (size_t i = 0; i < st->n_idle; i++)
        st->be->disconnect(st->idle[i]);
    pthread_mutex_destroy(&st->lock);
    free(st->target);
    free(st);
}

const char *
cas_store_engine(const struct cas_store *st)
{
    return st->be->name;
}

int
cas_store_schema_version(const struct cas_store *st)
{
    return st->schema_version;
}

cas_rc
cas_store_ping(struct cas_store *st, struct cas_err *err)
{
    struct cas_tx *tx = NULL;
    int64_t v = 0;
    cas_rc rc;

    if ((rc = cas_store_begin(st, CAS_TX_READ, &tx, err)) != CAS_OK)
        return rc;
    rc = cas_tx_exec(tx, "SELECT 1", NULL, 0, read_version, &v, NULL, err);
    cas_tx_rollback(tx);
    return rc;
}

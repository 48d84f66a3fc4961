/*
 * store.h - the database behind casd, one interface over SQLite (embedded default) and, later,
 * PostgreSQL (several instances). SQL is kept portable: parameters are written $1, $2, ... for
 * both engines; types are TEXT, BLOB (BYTEA), BIGINT; no engine-specific functions in queries.
 *
 * Transactions are explicit: every read and write runs inside cas_store_begin() ... commit or
 * rollback, on a connection the transaction holds alone, so handlers on different worker threads
 * never share one. Connections are pooled. A transaction is used by one thread at a time.
 * The store never sees a secret in clear: callers seal values (crypto/seal.h) before they write.
 */
#ifndef CAS_STORE_STORE_H
#define CAS_STORE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include <stdbool.h>

#include "cas/err.h"

struct cas_store;
struct cas_tx;
struct cas_row;

enum cas_param_type { CAS_P_NULL, CAS_P_TEXT, CAS_P_BLOB, CAS_P_INT };

struct cas_param {
    enum cas_param_type type;
    const void *p; /* TEXT (NUL-terminated) or BLOB */
    size_t len;    /* BLOB */
    int64_t i;     /* INT */
};

#define CAS_PTEXT(s) ((struct cas_param){.type = CAS_P_TEXT, .p = (s)})
#define CAS_PBLOB(b, n) ((struct cas_param){.type = CAS_P_BLOB, .p = (b), .len = (n)})
#define CAS_PINT(v) ((struct cas_param){.type = CAS_P_INT, .i = (int64_t)(v)})
#define CAS_PNULL ((struct cas_param){.type = CAS_P_NULL})

/* Called once per result row; a non-OK return stops the query and is returned by it. */
typedef cas_rc (*cas_row_fn)(const struct cas_row *row, void *arg, struct cas_err *err);

/*
 * CAS_TX_RECORD is a write of records only appended (the attestation audit log), committed
 * without waiting for the disk: the commit survives casd's crash, and an OS crash or power loss
 * may lose the last ones, never corrupt or reorder anything (SQLite synchronous=NORMAL in WAL
 * mode, PostgreSQL synchronous_commit=off). Sessions, values and keys use CAS_TX_WRITE.
 */
enum cas_tx_mode { CAS_TX_READ, CAS_TX_WRITE, CAS_TX_RECORD };

/*
 * Opens the database named by uri: NULL or "" for SQLite at default_sqlite_path, a path or
 * "sqlite:PATH" for SQLite, "postgresql://..." for PostgreSQL. Runs the schema migrations.
 */
cas_rc cas_store_open(const char *uri, const char *default_sqlite_path, struct cas_store **out,
                      struct cas_err *err) CAS_MUST_CHECK;
/* Closes every pooled connection; no transaction may be open. NULL is fine. */
void cas_store_close(struct cas_store *st);
/* "sqlite" or "postgresql". */
const char *cas_store_engine(const struct cas_store *st);
/* The schema version after migrations. */
int cas_store_schema_version(const struct cas_store *st);
/* A cheap query proving the database answers (for /v1/health). */
cas_rc cas_store_ping(struct cas_store *st, struct cas_err *err) CAS_MUST_CHECK;

/* CAS_TX_WRITE takes the write lock up front (SQLite BEGIN IMMEDIATE), so a transaction that
 * reads then writes cannot deadlock with another writer; CAS_E_CONFLICT on serialization
 * failures the caller may retry. */
cas_rc cas_store_begin(struct cas_store *st, enum cas_tx_mode mode, struct cas_tx **out,
                       struct cas_err *err) CAS_MUST_CHECK;
cas_rc cas_tx_commit(struct cas_tx *tx, struct cas_err *err) CAS_MUST_CHECK;
/* Ends the transaction without writing; always succeeds; NULL is fine. */
void cas_tx_rollback(struct cas_tx *tx);

/* Runs one statement; row_fn (may be NULL) sees each result row. *changes (may be NULL) gets
 * the number of rows written. */
cas_rc cas_tx_exec(struct cas_tx *tx, const char *sql, const struct cas_param *params,
                   size_t n_params, cas_row_fn row_fn, void *arg, int64_t *changes,
                   struct cas_err *err) CAS_MUST_CHECK;

/* Column accessors for a row; column indexes start at 0. Pointers live until row_fn returns. */
bool cas_row_is_null(const struct cas_row *row, int col);
const char *cas_row_text(const struct cas_row *row, int col);
const uint8_t *cas_row_blob(const struct cas_row *row, int col, size_t *len);
int64_t cas_row_int(const struct cas_row *row, int col);

#endif

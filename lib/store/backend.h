/*
 * backend.h - what a storage engine provides to store.c: connections, statements with $N
 * parameters, transactions and row access. One file per engine (sqlite.c, later postgres.c).
 */
#ifndef CAS_STORE_BACKEND_H
#define CAS_STORE_BACKEND_H

#include "store/store.h"

struct cas_conn; /* an engine connection */

struct cas_backend {
    const char *name;
    cas_rc (*connect)(const char *target, struct cas_conn **out, struct cas_err *err);
    void (*disconnect)(struct cas_conn *c);
    cas_rc (*begin)(struct cas_conn *c, enum cas_tx_mode mode, struct cas_err *err);
    cas_rc (*commit)(struct cas_conn *c, struct cas_err *err);
    void (*rollback)(struct cas_conn *c);
    cas_rc (*exec)(struct cas_conn *c, const char *sql, const struct cas_param *params,
                   size_t n_params, cas_row_fn row_fn, void *arg, int64_t *changes,
                   struct cas_err *err);
};

extern const struct cas_backend cas_backend_sqlite;
extern const struct cas_backend cas_backend_postgres;

/* Row access is per engine; a row starts with its engine so the accessors can dispatch. */
struct cas_row_ops {
    bool (*is_null)(const struct cas_row *row, int col);
    const char *(*text)(const struct cas_row *row, int col);
    const uint8_t *(*blob)(const struct cas_row *row, int col, size_t *len);
    int64_t (*integer)(const struct cas_row *row, int col);
};

struct cas_row {
    const struct cas_row_ops *ops;
    void *impl;
};

#endif

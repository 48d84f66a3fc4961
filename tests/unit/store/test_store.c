/* test_store.c - the store over SQLite: migrations, transactions, parameters, rows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/sessions.h"
#include "store/store.h"

static char g_dir[64];
static char g_db[128];

static int
setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof(g_dir), "/tmp/cas-store-test-XXXXXX");
    assert_non_null(mkdtemp(g_dir));
    snprintf(g_db, sizeof(g_db), "%s/cas.db", g_dir);
    return 0;
}

static int
teardown(void **state)
{
    char p[160];
    (void)state;
    const char *suffix[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof(p), "%s%s", g_db, suffix[i]);
        unlink(p);
    }
    rmdir(g_dir);
    return 0;
}

static cas_rc
count_rows(const struct cas_row *row, void *arg, struct cas_err *err)
{
    (void)err;
    *(int64_t *)arg = cas_row_int(row, 0);
    return CAS_OK;
}

struct got {
    char text[64];
    uint8_t blob[8];
    size_t blob_len;
    int64_t i;
    bool null;
};

static cas_rc
read_row(const struct cas_row *row, void *arg, struct cas_err *err)
{
    struct got *g = arg;
    const uint8_t *b;
    (void)err;
    snprintf(g->text, sizeof(g->text), "%s", cas_row_text(row, 0));
    b = cas_row_blob(row, 1, &g->blob_len);
    memcpy(g->blob, b, g->blob_len < 8 ? g->blob_len : 8);
    g->i = cas_row_int(row, 2);
    g->null = cas_row_is_null(row, 3);
    return CAS_OK;
}

static void
test_open_migrates_once_and_reopening_keeps_the_version(void **state)
{
    struct cas_store *st = NULL;
    struct cas_err err = {0};
    int v;
    (void)state;
    assert_int_equal(cas_store_open(NULL, g_db, &st, &err), CAS_OK);
    v = cas_store_schema_version(st);
    assert_true(v >= 1);
    assert_string_equal(cas_store_engine(st), "sqlite");
    assert_int_equal(cas_store_ping(st, &err), CAS_OK);
    cas_store_close(st);
    assert_int_equal(cas_store_open("sqlite:"
                                    "/nonexistent-dir/x.db",
                                    g_db, &st, &err),
                     CAS_E_IO);
    assert_int_equal(cas_store_open(g_db, NULL, &st, &err), CAS_OK);
    assert_int_equal(cas_store_schema_version(st), v);
    cas_store_close(st);
}

static void
test_parameters_round_trip_and_rollback_discards(void **state)
{
    struct cas_store *st = NULL;
    struct cas_tx *tx = NULL;
    struct cas_err err = {0};
    struct got g = {0};
    int64_t n = -1, changes = 0;
    const struct cas_param p[4] = {CAS_PTEXT("it's $1 'quoted'"), CAS_PBLOB("\0\1\2", 3),
                                   CAS_PINT(-7), CAS_PNULL};
    (void)state;
    assert_int_equal(cas_store_open(NULL, g_db, &st, &err), CAS_OK);
    assert_int_equal(cas_store_begin(st, CAS_TX_WRITE, &tx, &err), CAS_OK);
    assert_int_equal(cas_tx_exec(tx, "CREATE TABLE t (a TEXT, b BLOB, c BIGINT, d TEXT)", NULL, 0,
                                 NULL, NULL, NULL, &err),
                     CAS_OK);
    assert_int_equal(
        cas_tx_exec(tx, "INSERT INTO t VALUES ($1, $2, $3, $4)", p, 4, NULL, NULL, &changes, &err),
        CAS_OK);
    assert_int_equal(changes, 1);
    assert_int_equal(cas_tx_commit(tx, &err), CAS_OK);

    assert_int_equal(cas_store_begin(st, CAS_TX_READ, &tx, &err), CAS_OK);
    assert_int_equal(
        cas_tx_exec(tx, "SELECT a, b, c, d FROM t WHERE a = $1", p, 1, read_row, &g, NULL, &err),
        CAS_OK);
    cas_tx_rollback(tx);
    assert_string_equal(g.text, "it's $1 'quoted'");
    assert_int_equal(g.blob_len, 3);
    assert_memory_equal(g.blob, "\0\1\2", 3);
    assert_int_equal(g.i, -7);
    assert_true(g.null);

    assert_int_equal(cas_store_begin(st, CAS_TX_WRITE, &tx, &err), CAS_OK);
    assert_int_equal(cas_tx_exec(tx, "DELETE FROM t", NULL, 0, NULL, NULL, NULL, &err), CAS_OK);
    cas_tx_rollback(tx);
    assert_int_equal(cas_store_begin(st, CAS_TX_READ, &tx, &err), CAS_OK);
    assert_int_equal(cas_tx_exec(tx, "SELECT COUNT(*) FROM t", NULL, 0, count_rows, &n, NULL, &err),
                     CAS_OK);
    cas_tx_rollback(tx);
    assert_int_equal(n, 1);
    cas_store_close(st);
}

static void
test_a_constraint_violation_is_a_conflict_and_bad_sql_an_error(void **state)
{
    struct cas_store *st = NULL;
    struct cas_tx *tx = NULL;
    struct cas_err err = {0};
    const struct cas_param p[1] = {CAS_PTEXT("x")};
    (void)state;
    assert_int_equal(cas_store_open(NULL, g_db, &st, &err), CAS_OK);
    assert_int_equal(cas_store_begin(st, CAS_TX_WRITE, &tx, &err), CAS_OK);
    assert_int_equal(
        cas_tx_exec(tx, "CREATE TABLE u (k TEXT PRIMARY KEY)", NULL, 0, NULL, NULL, NULL, &err),
        CAS_OK);
    assert_int_equal(cas_tx_exec(tx, "INSERT INTO u VALUES ($1)", p, 1, NULL, NULL, NULL, &err),
                     CAS_OK);
    assert_int_equal(cas_tx_exec(tx, "INSERT INTO u VALUES ($1)", p, 1, NULL, NULL, NULL, &err),
                     CAS_E_CONFLICT);
    assert_int_equal(cas_tx_exec(tx, "SELEC nonsense", NULL, 0, NULL, NULL, NULL, &err), CAS_E_IO);
    cas_tx_rollback(tx);
    cas_store_close(st);
}

static void
test_an_export_binding_keeps_its_first_creator_until_the_exporter_clears_it(void **state)
{
    struct cas_store *st = NULL;
    struct cas_tx *tx = NULL;
    struct cas_err err = {0};
    char c[65];
    (void)state;
    assert_int_equal(cas_store_open(NULL, g_db, &st, &err), CAS_OK);
    assert_true(cas_store_schema_version(st) >= 5);
    assert_int_equal(cas_store_begin(st, CAS_TX_WRITE, &tx, &err), CAS_OK);
    assert_int_equal(cas_store_binding_get(tx, "a", "db_password", "b", c, &err), CAS_OK);
    assert_string_equal(c, "");
    assert_int_equal(cas_store_binding_put(tx, "a", "db_password", "b", "bb", 1, &err), CAS_OK);
    assert_int_equal(cas_store_binding_put(tx, "a", "db_password", "b", "cc", 2, &err), CAS_OK);
    assert_int_equal(cas_store_binding_put(tx, "a", "other", "b", "dd", 2, &err), CAS_OK);
    assert_int_equal(cas_store_binding_get(tx, "a", "db_password", "b", c, &err), CAS_OK);
    assert_string_equal(c, "bb");
    assert_int_equal(cas_store_binding_get(tx, "a", "db_password", "x", c, &err), CAS_OK);
    assert_string_equal(c, "");
    assert_int_equal(cas_tx_commit(tx, &err), CAS_OK);
    assert_int_equal(cas_store_begin(st, CAS_TX_WRITE, &tx, &err), CAS_OK);
    assert_int_equal(cas_store_binding_clear(tx, "a", "db_password", &err), CAS_OK);
    assert_int_equal(cas_store_binding_get(tx, "a", "db_password", "b", c, &err), CAS_OK);
    assert_string_equal(c, "");
    assert_int_equal(cas_store_binding_get(tx, "a", "other", "b", c, &err), CAS_OK);
    assert_string_equal(c, "dd");
    assert_int_equal(cas_store_binding_clear(tx, "a", NULL, &err), CAS_OK);
    assert_int_equal(cas_store_binding_get(tx, "a", "other", "b", c, &err), CAS_OK);
    assert_string_equal(c, "");
    assert_int_equal(cas_tx_commit(tx, &err), CAS_OK);
    cas_store_close(st);
}

static void
test_a_newer_schema_than_known_is_refused(void **state)
{
    struct cas_store *st = NULL;
    struct cas_tx *tx = NULL;
    struct cas_err err = {0};
    (void)state;
    assert_int_equal(cas_store_open(NULL, g_db, &st, &err), CAS_OK);
    assert_int_equal(cas_store_begin(st, CAS_TX_WRITE, &tx, &err), CAS_OK);
    assert_int_equal(cas_tx_exec(tx, "INSERT INTO cas_schema (version) VALUES (999)", NULL, 0, NULL,
                                 NULL, NULL, &err),
                     CAS_OK);
    assert_int_equal(cas_tx_commit(tx, &err), CAS_OK);
    cas_store_close(st);
    assert_int_equal(cas_store_open(NULL, g_db, &st, &err), CAS_E_CONFLICT);
    assert_non_null(strstr(cas_err_get(&err, 0), "newer than this casd knows"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_migrates_once_and_reopening_keeps_the_version,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_parameters_round_trip_and_rollback_discards, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_a_constraint_violation_is_a_conflict_and_bad_sql_an_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_newer_schema_than_known_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_an_export_binding_keeps_its_first_creator_until_the_exporter_clears_it, setup,
            teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_session_cache.c - built session versions kept by (name, hash), checked against the
 * database on every lookup: two store handles on one SQLite file stand for two casd instances
 * (on one PostgreSQL database instead when CAS_TEST_PG_URI names one). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/session_cache.h"
#include "store/sessions.h"
#include "store/store.h"

struct fixture {
    char dir[64];
    char db[128];
    struct cas_store *a, *b; /* instance A writes, instance B reads through its cache */
    struct cas_session_cache *cache;
    int built, dropped;
    bool fail_build;
};

/* The "built object": the document's bytes as a string, so a test sees which version it got. */
static cas_rc
build(const struct cas_session_row *row, void *arg, void **obj, struct cas_err *err)
{
    struct fixture *f = arg;
    char *s;

    if (f->fail_build)
        return cas_err_set(err, CAS_E_INTERNAL, "stored session '%s' no longer parses", row->name);
    if ((s = calloc(1, row->document_len + 1)) == NULL)
        return cas_err_set(err, CAS_E_NOMEM, "out of memory");
    memcpy(s, row->document, row->document_len);
    f->built++;
    *obj = s;
    return CAS_OK;
}

static struct fixture *g_f; /* drop has no argument */
static const char *const g_names[] = {"shop", "a", "b", "c"};

static void delete (struct fixture *f, const char *name);

static void
drop(void *obj)
{
    g_f->dropped++;
    free(obj);
}

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct cas_err err = {0};

    snprintf(f->dir, sizeof(f->dir), "/tmp/cas-cache-test-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->db, sizeof(f->db), "%s/cas.db", f->dir);
    assert_int_equal(cas_store_open(getenv("CAS_TEST_PG_URI"), f->db, &f->a, &err), CAS_OK);
    assert_int_equal(cas_store_open(getenv("CAS_TEST_PG_URI"), f->db, &f->b, &err), CAS_OK);
    g_f = f;
    for (size_t i = 0; i < sizeof(g_names) / sizeof(g_names[0]); i++)
        delete (f, g_names[i]); /* a shared PostgreSQL database outlives each test */
    f->cache = cas_session_cache_new(2, build, drop, f);
    assert_non_null(f->cache);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    const char *suffix[] = {"", "-wal", "-shm"};
    char p[160];

    cas_session_cache_free(f->cache);
    cas_store_close(f->a);
    cas_store_close(f->b);
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof(p), "%s%s", f->db, suffix[i]);
        unlink(p);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

static void
hash_of(char c, char out[65])
{
    memset(out, c, 64);
    out[64] = '\0';
}

/* Instance A stores version (name, hash of c) with document doc and makes it current. */
static void
put(struct fixture *f, const char *name, char c, const char *doc)
{
    struct cas_session_row r = {0};
    struct cas_tx *tx = NULL;
    struct cas_err err = {0};
    char n[32];
    uint8_t d[64];

    snprintf(n, sizeof(n), "%s", name);
    memcpy(d, doc, strlen(doc));
    r.name = n;
    hash_of(c, r.hash);
    hash_of('c', r.creator);
    r.document = d;
    r.document_len = strlen(doc);
    assert_int_equal(cas_store_begin(f->a, CAS_TX_WRITE, &tx, &err), CAS_OK);
    assert_int_equal(cas_store_session_put(tx, &r, "", 1, &err), CAS_OK);
    assert_int_equal(cas_tx_commit(tx, &err), CAS_OK);
}

static void delete (struct fixture *f, const char *name)
{
    struct cas_tx *tx = NULL;
    struct cas_err err = {0};

    assert_int_equal(cas_store_begin(f->a, CAS_TX_WRITE, &tx, &err), CAS_OK);
    assert_int_equal(cas_store_session_delete(tx, name, &err), CAS_OK);
    assert_int_equal(cas_tx_commit(tx, &err), CAS_OK);
}

/* Instance B's lookup in a read transaction of its own; returns the document ("" not found). */
static const char *
get(struct fixture *f, const char *name, char hash[65], struct cas_session_ref **ref)
{
    struct cas_tx *tx = NULL;
    struct cas_err err = {0};
    const void *obj = NULL;
    bool found = true;

    assert_int_equal(cas_store_begin(f->b, CAS_TX_READ, &tx, &err), CAS_OK);
    assert_int_equal(cas_session_cache_current(f->cache, tx, name, hash, &obj, ref, &found, &err),
                     CAS_OK);
    cas_tx_rollback(tx);
    if (!found) {
        assert_null(*ref);
        return "";
    }
    return obj;
}

static void
test_a_second_lookup_of_an_unchanged_session_is_not_built_again(void **state)
{
    struct fixture *f = *state;
    struct cas_session_ref *r1, *r2;
    char h[65], want[65];
    unsigned long hits, misses;

    put(f, "shop", '1', "version one");
    assert_string_equal(get(f, "shop", h, &r1), "version one");
    assert_string_equal(get(f, "shop", h, &r2), "version one");
    hash_of('1', want);
    assert_string_equal(h, want);
    assert_ptr_equal(r1, r2);
    assert_int_equal(f->built, 1);
    cas_session_cache_stats(f->cache, &hits, &misses);
    assert_int_equal(hits, 1);
    assert_int_equal(misses, 1);
    cas_session_ref_release(f->cache, r1);
    cas_session_ref_release(f->cache, r2);
    assert_int_equal(f->dropped, 0);
}

static void
test_an_update_written_by_another_instance_is_seen_by_the_next_lookup(void **state)
{
    struct fixture *f = *state;
    struct cas_session_ref *r;
    char h[65], want[65];

    put(f, "shop", '1', "version one");
    assert_string_equal(get(f, "shop", h, &r), "version one");
    cas_session_ref_release(f->cache, r);
    put(f, "shop", '2', "version two"); /* through the other handle */
    assert_string_equal(get(f, "shop", h, &r), "version two");
    hash_of('2', want);
    assert_string_equal(h, want);
    cas_session_ref_release(f->cache, r);
    assert_int_equal(f->built, 2);
    assert_int_equal(f->dropped, 1); /* the old version left the cache */
}

static void
test_a_session_deleted_by_another_instance_is_not_found(void **state)
{
    struct fixture *f = *state;
    struct cas_session_ref *r;
    char h[65];

    put(f, "shop", '1', "version one");
    assert_string_equal(get(f, "shop", h, &r), "version one");
    cas_session_ref_release(f->cache, r);
    delete (f, "shop");
    assert_string_equal(get(f, "shop", h, &r), "");
    assert_string_equal(h, "");
}

static void
test_a_session_recreated_with_an_earlier_version_serves_that_version(void **state)
{
    struct fixture *f = *state;
    struct cas_session_ref *r;
    char h[65], want[65];

    put(f, "shop", '1', "version one");
    assert_string_equal(get(f, "shop", h, &r), "version one");
    cas_session_ref_release(f->cache, r);
    put(f, "shop", '2', "version two");
    put(f, "shop", '1', "version one"); /* current again: cas_session points back to it */
    assert_string_equal(get(f, "shop", h, &r), "version one");
    hash_of('1', want);
    assert_string_equal(h, want);
    cas_session_ref_release(f->cache, r);
}

static void
test_an_entry_in_use_outlives_its_eviction(void **state)
{
    struct fixture *f = *state;
    struct cas_session_ref *held, *r;
    const char *held_doc;
    char h[65];

    put(f, "a", '1', "doc a");
    put(f, "b", '2', "doc b");
    put(f, "c", '3', "doc c");
    held_doc = get(f, "a", h, &held);
    assert_string_equal(held_doc, "doc a");
    assert_string_equal(get(f, "b", h, &r), "doc b");
    cas_session_ref_release(f->cache, r);
    assert_string_equal(get(f, "c", h, &r), "doc c"); /* capacity 2: "a" is evicted */
    cas_session_ref_release(f->cache, r);
    assert_int_equal(f->dropped, 0);        /* still held */
    assert_string_equal(held_doc, "doc a"); /* still readable */
    cas_session_ref_release(f->cache, held);
    assert_int_equal(f->dropped, 1);
    assert_string_equal(get(f, "a", h, &r), "doc a"); /* built again */
    cas_session_ref_release(f->cache, r);
    assert_int_equal(f->built, 4);
}

static void
test_a_failed_build_is_reported_and_not_cached(void **state)
{
    struct fixture *f = *state;
    struct cas_session_ref *r = NULL;
    struct cas_tx *tx = NULL;
    struct cas_err err = {0};
    const void *obj;
    char h[65];
    bool found;

    put(f, "shop", '1', "version one");
    f->fail_build = true;
    assert_int_equal(cas_store_begin(f->b, CAS_TX_READ, &tx, &err), CAS_OK);
    assert_int_equal(cas_session_cache_current(f->cache, tx, "shop", h, &obj, &r, &found, &err),
                     CAS_E_INTERNAL);
    cas_tx_rollback(tx);
    assert_null(r);
    assert_non_null(strstr(err.msg[0], "no longer parses"));
    f->fail_build = false;
    assert_string_equal(get(f, "shop", h, &r), "version one");
    cas_session_ref_release(f->cache, r);
    assert_int_equal(f->built, 1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_a_second_lookup_of_an_unchanged_session_is_not_built_again, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_an_update_written_by_another_instance_is_seen_by_the_next_lookup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_session_deleted_by_another_instance_is_not_found,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_a_session_recreated_with_an_earlier_version_serves_that_version, setup, teardown),
        cmocka_unit_test_setup_teardown(test_an_entry_in_use_outlives_its_eviction, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_failed_build_is_reported_and_not_cached, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_dcap_collateral_cache.c - parsed collateral kept by the SHA-256 of its JSON text, with
 * the real collateral of two tests/data/dcap cases. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "dcap/collateral_cache.h"
#include "fixture.h"

struct fx {
    char *json[2]; /* api.md §1 JSON of two different collateral sets */
    struct cas_dcap_collateral c[2];
    struct cas_dcap_collateral_cache *cc;
};

static int
setup(void **state)
{
    static const char *const cases[2] = {"automata-sgx-v3-2025-08", "automata-tdx-v4-2025-07"};
    struct fx *f = calloc(1, sizeof(*f));
    struct cas_err err = {0};

    for (int i = 0; i < 2; i++) {
        char dir[4096];
        fx_path(dir, DCAP_DIR, cases[i]);
        assert_int_equal(cas_dcap_collateral_from_dir(dir, &f->c[i], &err), CAS_OK);
        assert_int_equal(cas_dcap_collateral_to_json(&f->c[i], &f->json[i], &err), CAS_OK);
    }
    assert_non_null(f->cc = cas_dcap_collateral_cache_new(1));
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fx *f = *state;

    for (int i = 0; i < 2; i++) {
        free(f->json[i]);
        cas_dcap_collateral_release(&f->c[i]);
    }
    cas_dcap_collateral_cache_free(f->cc);
    free(f);
    return 0;
}

static void
assert_same(const struct cas_dcap_collateral *a, const struct cas_dcap_collateral *b)
{
    assert_true(a->sealed && b->sealed);
    assert_memory_equal(a->id, b->id, 32);
    for (int i = 0; i < CAS_DCAP_FIELD_COUNT; i++) {
        assert_int_equal(a->f[i].len, b->f[i].len);
        assert_memory_equal(a->f[i].p, b->f[i].p, a->f[i].len);
    }
}

static void
test_learnt_text_gives_back_what_parsing_it_gives(void **state)
{
    struct fx *f = *state;
    struct cas_dcap_collateral got;
    unsigned long hits, misses;

    assert_false(cas_dcap_collateral_cache_get(f->cc, f->json[0], strlen(f->json[0]), &got));
    cas_dcap_collateral_cache_learn(f->cc, f->json[0], strlen(f->json[0]), &f->c[0]);
    assert_true(cas_dcap_collateral_cache_get(f->cc, f->json[0], strlen(f->json[0]), &got));
    assert_same(&got, &f->c[0]);
    cas_dcap_collateral_release(&got);
    cas_dcap_collateral_cache_stats(f->cc, &hits, &misses);
    assert_int_equal(hits, 1);
    assert_int_equal(misses, 1);
}

static void
test_one_changed_byte_misses(void **state)
{
    struct fx *f = *state;
    struct cas_dcap_collateral got;
    char *t = strdup(f->json[0]);
    char *p = strstr(t, "BEGIN CERTIFICATE");

    cas_dcap_collateral_cache_learn(f->cc, f->json[0], strlen(f->json[0]), &f->c[0]);
    assert_non_null(p);
    p[0] = 'b';
    assert_false(cas_dcap_collateral_cache_get(f->cc, t, strlen(t), &got));
    assert_false(cas_dcap_collateral_cache_get(f->cc, f->json[0], strlen(f->json[0]) - 1, &got));
    free(t);
}

static void
test_text_that_does_not_parse_to_the_expected_set_is_not_learnt(void **state)
{
    struct fx *f = *state;
    struct cas_dcap_collateral got;

    /* The caller's claim (c[1]) does not match what the text (json[0]) parses to. */
    cas_dcap_collateral_cache_learn(f->cc, f->json[0], strlen(f->json[0]), &f->c[1]);
    assert_false(cas_dcap_collateral_cache_get(f->cc, f->json[0], strlen(f->json[0]), &got));
    /* Nor is text that is no collateral at all. */
    cas_dcap_collateral_cache_learn(f->cc, "{\"tcb_info\":1}", 14, &f->c[0]);
    assert_false(cas_dcap_collateral_cache_get(f->cc, "{\"tcb_info\":1}", 14, &got));
}

static void
test_a_full_cache_forgets_the_least_recently_used_set(void **state)
{
    struct fx *f = *state;
    struct cas_dcap_collateral got;

    cas_dcap_collateral_cache_learn(f->cc, f->json[0], strlen(f->json[0]), &f->c[0]);
    cas_dcap_collateral_cache_learn(f->cc, f->json[1], strlen(f->json[1]), &f->c[1]);
    assert_false(cas_dcap_collateral_cache_get(f->cc, f->json[0], strlen(f->json[0]), &got));
    assert_true(cas_dcap_collateral_cache_get(f->cc, f->json[1], strlen(f->json[1]), &got));
    assert_same(&got, &f->c[1]);
    cas_dcap_collateral_release(&got);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_learnt_text_gives_back_what_parsing_it_gives, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_one_changed_byte_misses, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_text_that_does_not_parse_to_the_expected_set_is_not_learnt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_full_cache_forgets_the_least_recently_used_set,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

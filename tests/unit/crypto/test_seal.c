/* test_seal.c - AES-256-GCM sealing: round trip, and every tampering refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "crypto/seal.h"
#include "util/secret.h"

struct fx {
    struct cas_secret *key, *plain;
    uint8_t *sealed;
    size_t len;
};

static int
setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct cas_err err = {0};
    assert_int_equal(cas_secret_random(32, &f->key, &err), CAS_OK);
    assert_int_equal(cas_secret_from("the value 42", 12, &f->plain, &err), CAS_OK);
    assert_int_equal(cas_seal(f->key, "s/x", 3, f->plain, &f->sealed, &f->len, &err), CAS_OK);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fx *f = *state;
    cas_secret_free(f->key);
    cas_secret_free(f->plain);
    free(f->sealed);
    free(f);
    return 0;
}

static void
test_a_sealed_value_opens_to_the_same_bytes(void **state)
{
    struct fx *f = *state;
    struct cas_secret *out = NULL;
    struct cas_err err = {0};
    assert_int_equal(f->len, 12 + CAS_SEAL_OVERHEAD);
    assert_null(memmem(f->sealed, f->len, "the value 42", 12));
    assert_int_equal(cas_unseal(f->key, "s/x", 3, f->sealed, f->len, &out, &err), CAS_OK);
    assert_true(cas_secret_equal(out, f->plain));
    cas_secret_free(out);
}

static void
test_two_seals_of_one_value_differ(void **state)
{
    struct fx *f = *state;
    uint8_t *again = NULL;
    size_t len = 0;
    struct cas_err err = {0};
    assert_int_equal(cas_seal(f->key, "s/x", 3, f->plain, &again, &len, &err), CAS_OK);
    assert_int_equal(len, f->len);
    assert_memory_not_equal(again, f->sealed, len);
    free(again);
}

static void
test_every_flipped_byte_is_refused(void **state)
{
    struct fx *f = *state;
    struct cas_secret *out = NULL;
    struct cas_err err = {0};
    for (size_t i = 0; i < f->len; i++) {
        f->sealed[i] ^= 0x01;
        assert_int_equal(cas_unseal(f->key, "s/x", 3, f->sealed, f->len, &out, &err), CAS_E_CRYPTO);
        assert_null(out);
        f->sealed[i] ^= 0x01;
    }
}

static void
test_another_name_or_key_or_length_is_refused(void **state)
{
    struct fx *f = *state;
    struct cas_secret *out = NULL, *other = NULL;
    struct cas_err err = {0};
    assert_int_equal(cas_unseal(f->key, "s/y", 3, f->sealed, f->len, &out, &err), CAS_E_CRYPTO);
    assert_non_null(strstr(cas_err_get(&err, 0), "does not open"));
    assert_int_equal(cas_secret_random(32, &other, &err), CAS_OK);
    assert_int_equal(cas_unseal(other, "s/x", 3, f->sealed, f->len, &out, &err), CAS_E_CRYPTO);
    assert_int_equal(cas_unseal(f->key, "s/x", 3, f->sealed, f->len - 1, &out, &err), CAS_E_CRYPTO);
    assert_int_equal(cas_unseal(f->key, "s/x", 3, f->sealed, 5, &out, &err), CAS_E_CRYPTO);
    cas_secret_free(other);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_a_sealed_value_opens_to_the_same_bytes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_two_seals_of_one_value_differ, setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_flipped_byte_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_another_name_or_key_or_length_is_refused, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

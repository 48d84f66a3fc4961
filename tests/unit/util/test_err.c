/* test_err.c - the message chain of struct cas_err. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <string.h>

#include "cas/err.h"
#include "util/err_openssl.h"

static cas_rc
inner(struct cas_err *err)
{
    return cas_err_set(err, CAS_E_NOTFOUND, "file '%s' does not exist", "x.yaml");
}

static cas_rc
outer(struct cas_err *err)
{
    if (inner(err) != CAS_OK)
        return cas_err_wrap(err, "Failed to read session '%s'", "app");
    return CAS_OK;
}

static void
test_wrap_returns_the_inner_code_and_reads_outermost_first(void **state)
{
    struct cas_err err = {0};
    (void)state;
    assert_int_equal(outer(&err), CAS_E_NOTFOUND);
    assert_int_equal(err.rc, CAS_E_NOTFOUND);
    assert_int_equal(err.n, 2);
    assert_string_equal(cas_err_get(&err, 0), "Failed to read session 'app'");
    assert_string_equal(cas_err_get(&err, 1), "file 'x.yaml' does not exist");
    assert_null(cas_err_get(&err, 2));
}

static void
test_join_puts_the_chain_on_one_line(void **state)
{
    struct cas_err err = {0};
    char line[256];
    (void)state;
    (void)outer(&err);
    cas_err_join(&err, line, sizeof(line));
    assert_string_equal(line, "Failed to read session 'app': file 'x.yaml' does not exist");
    cas_err_join(&err, line, 10); /* cut, still terminated */
    assert_string_equal(line, "Failed to");
}

static void
test_a_full_chain_keeps_the_cause_and_the_outermost_context(void **state)
{
    struct cas_err err = {0};
    (void)state;
    (void)cas_err_set(&err, CAS_E_IO, "cause");
    for (int i = 0; i < CAS_ERR_DEPTH + 5; i++)
        (void)cas_err_wrap(&err, "level %d", i);
    assert_int_equal(err.n, CAS_ERR_DEPTH);
    assert_string_equal(cas_err_get(&err, 0), "level 12");
    assert_string_equal(cas_err_get(&err, CAS_ERR_DEPTH - 1), "cause");
}

static void
test_a_long_message_is_cut_not_overflowed(void **state)
{
    struct cas_err err = {0};
    char big[CAS_ERR_LEN * 2];
    (void)state;
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    (void)cas_err_set(&err, CAS_E_INVALID, "%s", big);
    assert_int_equal(strlen(err.msg[0]), CAS_ERR_LEN - 1);
}

static void
test_wrapping_without_an_error_is_marked_internal(void **state)
{
    struct cas_err err = {0};
    (void)state;
    assert_int_equal(cas_err_wrap(&err, "context"), CAS_E_INTERNAL);
}

static void
test_openssl_errors_become_the_cause_and_the_queue_is_emptied(void **state)
{
    struct cas_err err = {0};
    (void)state;
    assert_null(EVP_get_digestbyname("no-such-digest"));
    ERR_raise(ERR_LIB_EVP, EVP_R_UNSUPPORTED_ALGORITHM);
    assert_int_equal(cas_err_openssl(&err, CAS_E_CRYPTO, "hashing failed"), CAS_E_CRYPTO);
    assert_int_equal(err.n, 2);
    assert_string_equal(cas_err_get(&err, 0), "hashing failed");
    assert_non_null(strstr(cas_err_get(&err, 1), "unsupported"));
    assert_int_equal(ERR_peek_error(), 0);
}

static void
test_a_null_err_is_tolerated(void **state)
{
    (void)state;
    assert_int_equal(cas_err_set(NULL, CAS_E_IO, "x"), CAS_E_IO);
    assert_null(cas_err_get(NULL, 0));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wrap_returns_the_inner_code_and_reads_outermost_first),
        cmocka_unit_test(test_join_puts_the_chain_on_one_line),
        cmocka_unit_test(test_a_full_chain_keeps_the_cause_and_the_outermost_context),
        cmocka_unit_test(test_a_long_message_is_cut_not_overflowed),
        cmocka_unit_test(test_wrapping_without_an_error_is_marked_internal),
        cmocka_unit_test(test_openssl_errors_become_the_cause_and_the_queue_is_emptied),
        cmocka_unit_test(test_a_null_err_is_tolerated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_binding.c - the report data that bind evidence to a connection (crypto/binding.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <openssl/sha.h>
#include <string.h>

#include "crypto/binding.h"
#include "crypto/pki.h"

static X509 *
self_signed_root(EVP_PKEY **key)
{
    const struct cas_cert_spec spec = {CAS_CERT_ROOT_CA, "cas", NULL, 0, 0, CAS_NOT_AFTER_NEVER};
    struct cas_err err = {0};
    X509 *cert = NULL;

    assert_int_equal(cas_key_new_p256(key, &err), CAS_OK);
    assert_int_equal(cas_cert_issue(&spec, *key, NULL, *key, &cert, &err), CAS_OK);
    return cert;
}

static void
test_join_binding_is_the_documented_hash_of_nonce_client_key_and_root(void **state)
{
    EVP_PKEY *key = NULL;
    X509 *root = self_signed_root(&key);
    struct cas_err err = {0};
    uint8_t nonce[32], client[32], rd[64], want[64] = {0}, root_hash[32], msg[11 + 96];

    (void)state;
    memset(nonce, 0x5a, sizeof(nonce));
    memset(client, 0xc3, sizeof(client));
    assert_int_equal(cas_cert_key_hash(root, root_hash, &err), CAS_OK);
    memcpy(msg, "CAS-JOIN-1", 11); /* with its NUL */
    memcpy(msg + 11, nonce, 32);
    memcpy(msg + 43, client, 32);
    memcpy(msg + 75, root_hash, 32);
    SHA256(msg, sizeof(msg), want);
    assert_true(cas_binding_join(nonce, client, root, rd));
    assert_memory_equal(rd, want, 64);
    /* Another client key (another connection) gives other report data. */
    client[0] ^= 1;
    assert_true(cas_binding_join(nonce, client, root, rd));
    assert_memory_not_equal(rd, want, 32);
    assert_false(cas_binding_join(nonce, client, NULL, rd));
    X509_free(root);
    EVP_PKEY_free(key);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_join_binding_is_the_documented_hash_of_nonce_client_key_and_root),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

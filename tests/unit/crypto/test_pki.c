/* test_pki.c - issuing the CAS PKI: extensions, chain verification, key hashes, PEM. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/pki.h"
#include "util/secret.h"

static void
test_a_root_intermediate_leaf_chain_verifies_with_the_right_extensions(void **state)
{
    struct cas_err err = {0};
    EVP_PKEY *rk = NULL, *ik = NULL, *lk = NULL;
    X509 *root = NULL, *inter = NULL, *leaf = NULL;
    const char *names[] = {"cas", "localhost", "127.0.0.1", "::1"};
    time_t now = time(NULL);
    const struct cas_cert_spec rs = {CAS_CERT_ROOT_CA, "cas", NULL, 0, now, CAS_NOT_AFTER_NEVER};
    const struct cas_cert_spec is = {CAS_CERT_INTERMEDIATE_CA, "cas-instance", NULL, 0, now,
                                     CAS_NOT_AFTER_NEVER};
    const struct cas_cert_spec ls = {CAS_CERT_TLS_SERVER, "cas", names, 4, now, now + 86400};
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    STACK_OF(X509) *untrusted = sk_X509_new_null();
    time_t na = 0;
    (void)state;

    assert_int_equal(cas_key_new_p256(&rk, &err), CAS_OK);
    assert_int_equal(cas_key_new_p256(&ik, &err), CAS_OK);
    assert_int_equal(cas_key_new_p256(&lk, &err), CAS_OK);
    assert_int_equal(cas_cert_issue(&rs, rk, NULL, rk, &root, &err), CAS_OK);
    assert_int_equal(cas_cert_issue(&is, ik, root, rk, &inter, &err), CAS_OK);
    assert_int_equal(cas_cert_issue(&ls, lk, inter, ik, &leaf, &err), CAS_OK);

    assert_int_equal(X509_check_ca(root), 1);
    assert_true(X509_get_extension_flags(inter) & EXFLAG_CA);
    assert_int_equal(X509_get_pathlen(inter), 0);
    assert_int_equal(X509_check_ca(leaf), 0);
    assert_true(X509_get_extended_key_usage(leaf) & XKU_SSL_SERVER);
    assert_int_equal(X509_check_host(leaf, "cas", 3, 0, NULL), 1);
    assert_int_equal(X509_check_ip_asc(leaf, "127.0.0.1", 0), 1);
    assert_int_equal(X509_check_ip_asc(leaf, "::1", 0), 1);
    assert_int_equal(X509_check_host(leaf, "other", 5, 0, NULL), 0);
    assert_int_equal(cas_cert_not_after(root, &na, &err), CAS_OK);
    assert_true(na == CAS_NOT_AFTER_NEVER);

    X509_STORE_add_cert(store, root);
    sk_X509_push(untrusted, inter);
    X509_STORE_CTX_init(ctx, store, leaf, untrusted);
    assert_int_equal(X509_verify_cert(ctx), 1);

    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    sk_X509_free(untrusted);
    X509_free(root);
    X509_free(inter);
    X509_free(leaf);
    EVP_PKEY_free(rk);
    EVP_PKEY_free(ik);
    EVP_PKEY_free(lk);
}

static void
test_key_hash_of_a_certificate_equals_that_of_its_key_and_pem_round_trips(void **state)
{
    struct cas_err err = {0};
    EVP_PKEY *k = NULL, *back = NULL;
    X509 *c = NULL, *c2 = NULL;
    struct cas_secret *pem = NULL;
    uint8_t h1[32], h2[32], h3[32];
    char *text = NULL;
    const struct cas_cert_spec s = {CAS_CERT_TLS_CLIENT, "cas cli", NULL, 0, 0,
                                    CAS_NOT_AFTER_NEVER};
    (void)state;
    assert_int_equal(cas_key_new_p256(&k, &err), CAS_OK);
    assert_int_equal(cas_cert_issue(&s, k, NULL, k, &c, &err), CAS_OK);
    assert_int_equal(cas_key_hash(k, h1, &err), CAS_OK);
    assert_int_equal(cas_cert_key_hash(c, h2, &err), CAS_OK);
    assert_memory_equal(h1, h2, 32);
    assert_int_equal(cas_key_to_pem(k, &pem, &err), CAS_OK);
    assert_int_equal(cas_key_from_pem(pem, &back, &err), CAS_OK);
    assert_int_equal(cas_key_hash(back, h3, &err), CAS_OK);
    assert_memory_equal(h1, h3, 32);
    assert_int_equal(cas_cert_to_pem(c, &text, &err), CAS_OK);
    assert_int_equal(cas_cert_from_pem(text, strlen(text), &c2, &err), CAS_OK);
    assert_int_equal(X509_cmp(c, c2), 0);
    X509_free(c2);
    assert_int_equal(cas_cert_from_pem("junk", 4, &c2, &err), CAS_E_INVALID);
    assert_null(c2);
    free(text);
    X509_free(c);
    X509_free(c2);
    cas_secret_free(pem);
    EVP_PKEY_free(k);
    EVP_PKEY_free(back);
}

/* The direct P-256 PKCS#8 encoding equals OpenSSL's encoder byte for byte, and reads back. */
static void
test_p256_pem_equals_openssls_encoding_for_many_keys(void **state)
{
    struct cas_err err = {0};
    (void)state;
    for (int i = 0; i < 64; i++) {
        EVP_PKEY *k = NULL, *back = NULL;
        struct cas_secret *pem = NULL;
        BIO *bio = BIO_new(BIO_s_mem());
        BUF_MEM *mem = NULL;
        size_t len;
        const uint8_t *p;
        uint8_t h1[32], h2[32];
        assert_int_equal(cas_key_new_p256(&k, &err), CAS_OK);
        assert_int_equal(cas_key_to_pem(k, &pem, &err), CAS_OK);
        assert_int_equal(PEM_write_bio_PKCS8PrivateKey(bio, k, NULL, NULL, 0, NULL, NULL), 1);
        BIO_get_mem_ptr(bio, &mem);
        p = cas_secret_peek(pem, &len);
        assert_int_equal(len, mem->length);
        assert_memory_equal(p, mem->data, len);
        assert_int_equal(cas_key_from_pem(pem, &back, &err), CAS_OK);
        assert_int_equal(EVP_PKEY_eq(k, back), 1);
        assert_int_equal(cas_key_hash(k, h1, &err), CAS_OK);
        assert_int_equal(cas_key_hash(back, h2, &err), CAS_OK);
        assert_memory_equal(h1, h2, 32);
        BIO_free(bio);
        cas_secret_free(pem);
        EVP_PKEY_free(k);
        EVP_PKEY_free(back);
    }
}

static void
test_other_key_types_keep_openssls_encoding(void **state)
{
    struct cas_err err = {0};
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384"), *back = NULL;
    struct cas_secret *pem = NULL;
    (void)state;
    assert_non_null(k);
    assert_int_equal(cas_key_to_pem(k, &pem, &err), CAS_OK);
    assert_int_equal(cas_key_from_pem(pem, &back, &err), CAS_OK);
    assert_int_equal(EVP_PKEY_eq(k, back), 1);
    cas_secret_free(pem);
    EVP_PKEY_free(k);
    EVP_PKEY_free(back);
}

static void
test_a_name_with_a_comma_is_refused_as_a_san(void **state)
{
    struct cas_err err = {0};
    EVP_PKEY *k = NULL;
    X509 *c = NULL;
    const char *names[] = {"a,DNS:evil"};
    const struct cas_cert_spec s = {CAS_CERT_TLS_SERVER, "cas", names, 1, 0, CAS_NOT_AFTER_NEVER};
    (void)state;
    assert_int_equal(cas_key_new_p256(&k, &err), CAS_OK);
    assert_int_equal(cas_cert_issue(&s, k, NULL, k, &c, &err), CAS_E_INVALID);
    assert_null(c);
    EVP_PKEY_free(k);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_root_intermediate_leaf_chain_verifies_with_the_right_extensions),
        cmocka_unit_test(test_key_hash_of_a_certificate_equals_that_of_its_key_and_pem_round_trips),
        cmocka_unit_test(test_p256_pem_equals_openssls_encoding_for_many_keys),
        cmocka_unit_test(test_other_key_types_keep_openssls_encoding),
        cmocka_unit_test(test_a_name_with_a_comma_is_refused_as_a_san),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

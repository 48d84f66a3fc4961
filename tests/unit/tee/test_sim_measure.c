/* test_sim_measure.c - MRENCLAVE of an open file, MRSIGNER of an RSA-3072 key, the PPID. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tee/sim.h"
#include "tee_test.h"

struct fixture {
    char *dir;
};

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    f->dir = make_temp_dir();
    *state = f;
    return f->dir != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;

    rm_tree(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

/* SHA-256("CAS-SIM-MRENCLAVE-1" || 0x00 || bytes), as api.md §1.1 defines it. */
static void
expected_mrenclave(const uint8_t *bytes, size_t len, uint8_t out[32])
{
    static const char label[] = "CAS-SIM-MRENCLAVE-1";
    uint8_t *buf = malloc(sizeof(label) + len);

    memcpy(buf, label, sizeof(label) - 1);
    buf[sizeof(label) - 1] = 0x00;
    if (len > 0)
        memcpy(buf + sizeof(label), bytes, len);
    SHA256(buf, sizeof(label) + len, out);
    free(buf);
}

static int
open_file_with(const struct fixture *f, const char *name, const uint8_t *p, size_t len)
{
    char path[4200];

    snprintf(path, sizeof(path), "%s/%s", f->dir, name);
    write_file(path, p, len);
    return open(path, O_RDONLY);
}

static void
test_mrenclave_is_sha256_of_label_nul_and_every_byte_across_chunks(void **state)
{
    struct fixture *f = *state;
    size_t len = 200000; /* over three read chunks */
    uint8_t *bytes = malloc(len), got[32], want[32];
    struct cas_err err = {0};
    int fd;

    for (size_t i = 0; i < len; i++)
        bytes[i] = (uint8_t)(i * 7);
    fd = open_file_with(f, "prog", bytes, len);
    assert_int_equal(cas_tee_sim_measure_fd(fd, got, &err), CAS_OK);
    expected_mrenclave(bytes, len, want);
    assert_memory_equal(got, want, 32);
    close(fd);
    free(bytes);
}

static void
test_measuring_leaves_the_file_offset_where_it_was(void **state)
{
    struct fixture *f = *state;
    uint8_t got[32], want[32];
    struct cas_err err = {0};
    int fd = open_file_with(f, "prog2", (const uint8_t *)"#!/bin/sh\necho hi\n", 18);

    assert_int_equal(lseek(fd, 5, SEEK_SET), 5);
    assert_int_equal(cas_tee_sim_measure_fd(fd, got, &err), CAS_OK);
    assert_int_equal(lseek(fd, 0, SEEK_CUR), 5);
    expected_mrenclave((const uint8_t *)"#!/bin/sh\necho hi\n", 18, want);
    assert_memory_equal(got, want, 32);
    close(fd);
}

static void
test_an_empty_file_measures_as_the_label_alone(void **state)
{
    struct fixture *f = *state;
    uint8_t got[32], want[32];
    struct cas_err err = {0};
    int fd = open_file_with(f, "empty", NULL, 0);

    assert_int_equal(cas_tee_sim_measure_fd(fd, got, &err), CAS_OK);
    expected_mrenclave(NULL, 0, want);
    assert_memory_equal(got, want, 32);
    close(fd);
}

static void
test_an_unreadable_descriptor_is_an_io_error(void **state)
{
    uint8_t got[32];
    struct cas_err err = {0};
    (void)state;

    assert_int_equal(cas_tee_sim_measure_fd(-1, got, &err), CAS_E_IO);
    assert_non_null(strstr(err.msg[0], "cannot read"));
}

/* SHA-256 of the modulus as 384 little-endian bytes, reversed here by hand. */
static void
expected_mrsigner(EVP_PKEY *key, uint8_t out[32])
{
    BIGNUM *n = NULL;
    uint8_t be[384], le[384];

    assert_int_equal(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n), 1);
    assert_int_equal(BN_bn2binpad(n, be, sizeof(be)), 384);
    for (int i = 0; i < 384; i++)
        le[i] = be[383 - i];
    SHA256(le, sizeof(le), out);
    BN_free(n);
}

static EVP_PKEY *
published_key(void)
{
    BIO *bio = BIO_new_mem_buf(cas_tee_sim_signing_key_pem(), -1);
    EVP_PKEY *key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);

    BIO_free(bio);
    return key;
}

static void
test_mrsigner_of_the_published_key_is_sha256_of_its_little_endian_modulus(void **state)
{
    EVP_PKEY *key = published_key();
    uint8_t got[32], want[32];
    struct cas_err err = {0};
    const char *pem = cas_tee_sim_signing_key_pem();
    (void)state;

    assert_non_null(key);
    expected_mrsigner(key, want);
    assert_int_equal(cas_tee_sim_mrsigner_from_pem(pem, strlen(pem), got, &err), CAS_OK);
    assert_memory_equal(got, want, 32);
    memset(got, 0, sizeof(got));
    assert_int_equal(cas_tee_sim_mrsigner_default(got, &err), CAS_OK);
    assert_memory_equal(got, want, 32);
    EVP_PKEY_free(key);
}

static void
test_mrsigner_of_a_public_key_file_equals_that_of_its_private_key(void **state)
{
    struct fixture *f = *state;
    EVP_PKEY *key = published_key();
    uint8_t got[32], want[32];
    struct cas_err err = {0};
    char path[4200];
    FILE *fp;

    snprintf(path, sizeof(path), "%s/signer.pub.pem", f->dir);
    fp = fopen(path, "w");
    assert_int_equal(PEM_write_PUBKEY(fp, key), 1);
    fclose(fp);
    expected_mrsigner(key, want);
    assert_int_equal(cas_tee_sim_mrsigner_from_file(path, got, &err), CAS_OK);
    assert_memory_equal(got, want, 32);
    EVP_PKEY_free(key);
}

static void
test_mrsigner_refuses_keys_that_are_not_rsa_3072(void **state)
{
    EVP_PKEY *rsa2048 = EVP_RSA_gen(2048), *ec = EVP_EC_gen("P-256");
    BIO *bio = BIO_new(BIO_s_mem());
    char *pem;
    long len;
    uint8_t got[32];
    struct cas_err err = {0};
    (void)state;

    assert_int_equal(PEM_write_bio_PUBKEY(bio, rsa2048), 1);
    len = BIO_get_mem_data(bio, &pem);
    assert_int_equal(cas_tee_sim_mrsigner_from_pem(pem, (size_t)len, got, &err), CAS_E_INVALID);
    assert_non_null(strstr(err.msg[0], "RSA-3072"));
    BIO_reset(bio);
    assert_int_equal(PEM_write_bio_PUBKEY(bio, ec), 1);
    len = BIO_get_mem_data(bio, &pem);
    assert_int_equal(cas_tee_sim_mrsigner_from_pem(pem, (size_t)len, got, &err), CAS_E_INVALID);
    assert_int_equal(cas_tee_sim_mrsigner_from_pem("garbage", 7, got, &err), CAS_E_INVALID);
    BIO_free(bio);
    EVP_PKEY_free(rsa2048);
    EVP_PKEY_free(ec);
}

static void
test_mrsigner_of_a_missing_file_names_it(void **state)
{
    uint8_t got[32];
    struct cas_err err = {0};
    (void)state;

    assert_int_equal(cas_tee_sim_mrsigner_from_file("/nonexistent/key.pem", got, &err),
                     CAS_E_NOTFOUND);
    assert_non_null(strstr(cas_err_get(&err, 0), "'/nonexistent/key.pem'"));
}

static void
test_ppid_is_the_first_16_bytes_of_sha256_of_the_machine_id_file(void **state)
{
    struct fixture *f = *state;
    static const char id[] = "b08dfa6083e7567a1921a715000001fb\n";
    uint8_t got[16], digest[32];
    struct cas_err err = {0};
    char path[4200];

    snprintf(path, sizeof(path), "%s/machine-id", f->dir);
    write_file(path, id, strlen(id));
    assert_int_equal(cas_tee_sim_ppid(path, got, &err), CAS_OK);
    SHA256((const uint8_t *)id, strlen(id), digest);
    assert_memory_equal(got, digest, 16);
}

static void
test_ppid_is_16_zero_bytes_without_a_machine_id_file(void **state)
{
    uint8_t got[16], zero[16] = {0};
    struct cas_err err = {0};
    (void)state;

    memset(got, 0xFF, sizeof(got));
    assert_int_equal(cas_tee_sim_ppid("/nonexistent/machine-id", got, &err), CAS_OK);
    assert_memory_equal(got, zero, 16);
}

static void
test_ppid_refuses_a_machine_id_that_is_a_directory(void **state)
{
    struct fixture *f = *state;
    uint8_t got[16];
    struct cas_err err = {0};

    assert_int_equal(cas_tee_sim_ppid(f->dir, got, &err), CAS_E_INVALID);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mrenclave_is_sha256_of_label_nul_and_every_byte_across_chunks),
        cmocka_unit_test(test_measuring_leaves_the_file_offset_where_it_was),
        cmocka_unit_test(test_an_empty_file_measures_as_the_label_alone),
        cmocka_unit_test(test_an_unreadable_descriptor_is_an_io_error),
        cmocka_unit_test(test_mrsigner_of_the_published_key_is_sha256_of_its_little_endian_modulus),
        cmocka_unit_test(test_mrsigner_of_a_public_key_file_equals_that_of_its_private_key),
        cmocka_unit_test(test_mrsigner_refuses_keys_that_are_not_rsa_3072),
        cmocka_unit_test(test_mrsigner_of_a_missing_file_names_it),
        cmocka_unit_test(test_ppid_is_the_first_16_bytes_of_sha256_of_the_machine_id_file),
        cmocka_unit_test(test_ppid_is_16_zero_bytes_without_a_machine_id_file),
        cmocka_unit_test(test_ppid_refuses_a_machine_id_that_is_a_directory),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

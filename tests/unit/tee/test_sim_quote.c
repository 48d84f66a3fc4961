/* test_sim_quote.c - simulator quotes: Intel's v3 layout, every signature and binding in it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tee/sim.h"
#include "tee_test.h"

static const uint8_t intel_qe_vendor_id[16] = {0x93, 0x9A, 0x72, 0x33, 0xF7, 0x9C, 0x4C, 0xA9,
                                               0x94, 0x0A, 0x0D, 0xB3, 0x95, 0x7F, 0x06, 0x07};

struct fixture {
    char *dir;
    struct cas_tee_sim *sim;
    struct cas_tee_sim_enclave enc;
    uint8_t report_data[64];
    uint8_t *quote;
    size_t quote_len;
    struct quote_view v;
};

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct cas_tee_sim_config cfg;
    struct cas_err err = {0};

    f->dir = make_temp_dir();
    cas_tee_sim_config_init(&cfg);
    if ((f->sim = sim_on_machine(f->dir, "0123456789abcdef0123456789abcdef\n", &cfg)) == NULL)
        return -1;
    for (int i = 0; i < 32; i++) {
        f->enc.mrenclave[i] = (uint8_t)(0xA0 + i);
        f->enc.mrsigner[i] = (uint8_t)(0x50 + i);
    }
    f->enc.isvprodid = 0x1234;
    f->enc.isvsvn = 0x0507;
    for (int i = 0; i < 64; i++)
        f->report_data[i] = (uint8_t)(255 - i);
    if (cas_tee_sim_quote(f->sim, &f->enc, f->report_data, &f->quote, &f->quote_len, &err) !=
            CAS_OK ||
        !quote_view_parse(f->quote, f->quote_len, &f->v))
        return -1;
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;

    cas_tee_sim_free(f->sim);
    free(f->quote);
    rm_tree(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

static uint16_t
le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static void
test_the_header_says_version_3_ecdsa_p256_sgx_and_intels_qe_vendor(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(f->v.version, 3);
    assert_int_equal(f->v.att_key_type, 2);
    assert_int_equal(f->v.tee_type, 0);
    assert_memory_equal(f->v.qe_vendor_id, intel_qe_vendor_id, 16);
    assert_int_equal(f->v.pce_svn, 13);
    assert_int_equal(f->v.qe_svn, le16(f->v.qe_body + 258)); /* the QE's own ISVSVN */
}

static void
test_the_report_body_holds_the_enclave_fields_at_intels_offsets(void **state)
{
    struct fixture *f = *state;
    const uint8_t *b = f->v.body;

    assert_memory_equal(b + 64, f->enc.mrenclave, 32);
    assert_memory_equal(b + 128, f->enc.mrsigner, 32);
    assert_int_equal(le16(b + 256), 0x1234);
    assert_int_equal(le16(b + 258), 0x0507);
    assert_memory_equal(b + 320, f->report_data, 64);
}

static void
test_the_debug_attribute_is_always_set(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(f->v.body[48] & 0x02, 0x02); /* ATTRIBUTES.FLAGS.DEBUG */
    assert_int_equal(f->v.body[48] & 0x01, 0x01); /* INIT */
    assert_int_equal(f->v.qe_body[48] & 0x02, 0); /* the QE is a production enclave */
}

static void
test_the_quote_signature_verifies_with_the_attestation_key_over_header_and_body(void **state)
{
    struct fixture *f = *state;
    EVP_PKEY *ak = pubkey_from_xy(f->v.att_key);

    assert_non_null(ak);
    assert_true(verify_raw_sig(ak, f->quote, 48 + 384, f->v.isv_sig));
    EVP_PKEY_free(ak);
}

static void
test_a_changed_report_data_byte_breaks_the_quote_signature(void **state)
{
    struct fixture *f = *state;
    EVP_PKEY *ak = pubkey_from_xy(f->v.att_key);

    f->quote[48 + 320] ^= 1;
    assert_false(verify_raw_sig(ak, f->quote, 48 + 384, f->v.isv_sig));
    f->quote[48 + 320] ^= 1;
    EVP_PKEY_free(ak);
}

static void
test_the_certification_data_is_a_nul_terminated_pem_chain_of_three(void **state)
{
    struct fixture *f = *state;
    STACK_OF(X509) * chain;

    assert_int_equal(f->v.cert_type, 5);
    assert_int_equal(f->v.cert[f->v.cert_len - 1], 0);
    chain = certs_from_pem(f->v.cert, f->v.cert_len - 1);
    assert_int_equal(sk_X509_num(chain), 3);
    sk_X509_pop_free(chain, X509_free);
}

static void
test_the_qe_report_signature_verifies_with_the_pck_certificate_key(void **state)
{
    struct fixture *f = *state;
    STACK_OF(X509) *chain = certs_from_pem(f->v.cert, f->v.cert_len - 1);
    EVP_PKEY *pck = X509_get0_pubkey(sk_X509_value(chain, 0));

    assert_true(verify_raw_sig(pck, f->v.qe_body, 384, f->v.qe_sig));
    assert_false(verify_raw_sig(pck, f->quote, 48 + 384, f->v.isv_sig)); /* not the AK */
    sk_X509_pop_free(chain, X509_free);
}

static void
test_the_qe_report_data_binds_the_attestation_key_and_auth_data(void **state)
{
    struct fixture *f = *state;
    uint8_t buf[64 + 512], digest[32], zero[32] = {0};

    assert_int_equal(f->v.auth_len, 32);
    memcpy(buf, f->v.att_key, 64);
    memcpy(buf + 64, f->v.auth, f->v.auth_len);
    SHA256(buf, 64 + f->v.auth_len, digest);
    assert_memory_equal(f->v.qe_body + 320, digest, 32);
    assert_memory_equal(f->v.qe_body + 352, zero, 32);
}

static void
test_the_pck_chain_verifies_to_the_published_simulator_root(void **state)
{
    struct fixture *f = *state;
    STACK_OF(X509) *chain = certs_from_pem(f->v.cert, f->v.cert_len - 1);

    assert_true(chain_verifies_to(chain, cas_tee_sim_root_pem()));
    sk_X509_pop_free(chain, X509_free);
}

static void
test_the_pck_chain_does_not_verify_to_intels_root(void **state)
{
    struct fixture *f = *state;
    STACK_OF(X509) *chain = certs_from_pem(f->v.cert, f->v.cert_len - 1);
    size_t len = 0;
    uint8_t *intel = read_file(CAS_TESTDATA "/dcap/intel-sgx-root-ca.pem", &len);

    assert_non_null(intel);
    assert_false(chain_verifies_to(chain, (const char *)intel));
    free(intel);
    sk_X509_pop_free(chain, X509_free);
}

static void
test_each_quote_is_signed_afresh_by_the_same_attestation_key(void **state)
{
    struct fixture *f = *state;
    struct cas_err err = {0};
    struct quote_view v2;
    uint8_t *q2 = NULL;
    size_t len2 = 0;

    assert_int_equal(cas_tee_sim_quote(f->sim, &f->enc, f->report_data, &q2, &len2, &err), CAS_OK);
    assert_true(quote_view_parse(q2, len2, &v2));
    assert_memory_equal(v2.att_key, f->v.att_key, 64);
    assert_memory_equal(v2.body, f->v.body, 384);
    free(q2);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_header_says_version_3_ecdsa_p256_sgx_and_intels_qe_vendor),
        cmocka_unit_test(test_the_report_body_holds_the_enclave_fields_at_intels_offsets),
        cmocka_unit_test(test_the_debug_attribute_is_always_set),
        cmocka_unit_test(
            test_the_quote_signature_verifies_with_the_attestation_key_over_header_and_body),
        cmocka_unit_test(test_a_changed_report_data_byte_breaks_the_quote_signature),
        cmocka_unit_test(test_the_certification_data_is_a_nul_terminated_pem_chain_of_three),
        cmocka_unit_test(test_the_qe_report_signature_verifies_with_the_pck_certificate_key),
        cmocka_unit_test(test_the_qe_report_data_binds_the_attestation_key_and_auth_data),
        cmocka_unit_test(test_the_pck_chain_verifies_to_the_published_simulator_root),
        cmocka_unit_test(test_the_pck_chain_does_not_verify_to_intels_root),
        cmocka_unit_test(test_each_quote_is_signed_afresh_by_the_same_attestation_key),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

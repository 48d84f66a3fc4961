/* test_sim_pki.c - the published hierarchy and the PCK certificate's SGX extensions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <openssl/sha.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tee/sim.h"
#include "tee_test.h"

#define MACHINE_ID "4c4c4544003957108052b4c04f384833\n"

struct fixture {
    char *dir;
    X509 *pck;
    uint8_t *ext; /* DER of the SGX extension's value */
    size_t ext_len;
};

/* Intel's SGX extension members: SEQUENCE { OID 1.2.840.113741.1.13.1.<...>, value }. */
static const uint8_t oid_prefix[] = {0x2A, 0x86, 0x48, 0x86, 0xF8, 0x4D, 0x01, 0x0D, 0x01};

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct cas_tee_sim_config cfg;
    struct cas_tee_sim_enclave enc;
    struct cas_tee_sim *sim = NULL;
    struct cas_err err = {0};
    struct quote_view v;
    uint8_t rd[64] = {0}, *q = NULL;
    size_t qlen = 0;
    STACK_OF(X509) * chain;
    ASN1_OBJECT *obj = OBJ_txt2obj("1.2.840.113741.1.13.1", 1);
    int idx;
    const ASN1_OCTET_STRING *os;

    memset(&enc, 0, sizeof(enc));
    f->dir = make_temp_dir();
    cas_tee_sim_config_init(&cfg);
    if ((sim = sim_on_machine(f->dir, MACHINE_ID, &cfg)) == NULL ||
        cas_tee_sim_quote(sim, &enc, rd, &q, &qlen, &err) != CAS_OK ||
        !quote_view_parse(q, qlen, &v))
        return -1;
    chain = certs_from_pem(v.cert, v.cert_len - 1);
    f->pck = X509_dup(sk_X509_value(chain, 0));
    sk_X509_pop_free(chain, X509_free);
    if ((idx = X509_get_ext_by_OBJ(f->pck, obj, -1)) < 0)
        return -1;
    os = X509_EXTENSION_get_data(X509_get_ext(f->pck, idx));
    f->ext_len = (size_t)ASN1_STRING_length(os);
    f->ext = malloc(f->ext_len);
    memcpy(f->ext, ASN1_STRING_get0_data(os), f->ext_len);
    ASN1_OBJECT_free(obj);
    free(q);
    cas_tee_sim_free(sim);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;

    X509_free(f->pck);
    free(f->ext);
    rm_tree(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

/* The value TLV right after member OID .<a>[.<b>]: returns its tag, *p and *n its content. */
static int
member_value(const struct fixture *f, const uint8_t *suffix, size_t suffix_len, const uint8_t **p,
             size_t *n)
{
    uint8_t oid[2 + sizeof(oid_prefix) + 2];
    size_t oid_len = 2 + sizeof(oid_prefix) + suffix_len;
    const uint8_t *hit;

    oid[0] = 0x06;
    oid[1] = (uint8_t)(sizeof(oid_prefix) + suffix_len);
    memcpy(oid + 2, oid_prefix, sizeof(oid_prefix));
    memcpy(oid + 2 + sizeof(oid_prefix), suffix, suffix_len);
    hit = memmem(f->ext, f->ext_len, oid, oid_len);
    if (hit == NULL)
        return -1;
    hit += oid_len;
    *p = hit + 2;
    *n = hit[1];
    return hit[0];
}

static void
test_the_ppid_is_the_first_16_bytes_of_sha256_of_the_machine_id(void **state)
{
    struct fixture *f = *state;
    const uint8_t sfx[] = {1};
    const uint8_t *p;
    size_t n;
    uint8_t digest[32];

    SHA256((const uint8_t *)MACHINE_ID, strlen(MACHINE_ID), digest);
    assert_int_equal(member_value(f, sfx, 1, &p, &n), 0x04);
    assert_int_equal(n, 16);
    assert_memory_equal(p, digest, 16);
}

static void
test_the_fmspc_pce_id_and_sgx_type_are_the_documented_values(void **state)
{
    struct fixture *f = *state;
    const uint8_t fmspc_sfx[] = {4}, pce_sfx[] = {3}, type_sfx[] = {5};
    const uint8_t fmspc[6] = {0xCA, 0x55, 0xE1, 0, 0, 0}, pce[2] = {0, 0};
    const uint8_t *p;
    size_t n;

    assert_int_equal(member_value(f, fmspc_sfx, 1, &p, &n), 0x04);
    assert_int_equal(n, 6);
    assert_memory_equal(p, fmspc, 6);
    assert_string_equal(CAS_TEE_SIM_FMSPC_HEX, "CA55E1000000");
    assert_int_equal(member_value(f, pce_sfx, 1, &p, &n), 0x04);
    assert_int_equal(n, 2);
    assert_memory_equal(p, pce, 2);
    assert_int_equal(member_value(f, type_sfx, 1, &p, &n), 0x0A); /* ENUMERATED */
    assert_int_equal(n, 1);
    assert_int_equal(p[0], 0); /* Standard */
}

static void
test_the_tcb_holds_16_components_pcesvn_13_and_the_cpusvn(void **state)
{
    struct fixture *f = *state;
    uint8_t comps[16];
    const uint8_t *p;
    size_t n;

    for (uint8_t i = 1; i <= 16; i++) {
        const uint8_t sfx[] = {2, i};
        assert_int_equal(member_value(f, sfx, 2, &p, &n), 0x02); /* INTEGER */
        assert_true(n == 1 || (n == 2 && p[0] == 0));
        comps[i - 1] = p[n - 1];
    }
    {
        const uint8_t pcesvn[] = {2, 17}, cpusvn[] = {2, 18};
        assert_int_equal(member_value(f, pcesvn, 2, &p, &n), 0x02);
        assert_int_equal(n, 1);
        assert_int_equal(p[0], 13);
        assert_int_equal(member_value(f, cpusvn, 2, &p, &n), 0x04);
        assert_int_equal(n, 16);
        assert_memory_equal(p, comps, 16);
    }
}

static void
test_the_pck_certificate_is_an_end_entity_issued_by_the_pck_ca(void **state)
{
    struct fixture *f = *state;
    char cn[128];

    assert_int_equal(X509_check_ca(f->pck), 0);
    assert_true(X509_get_key_usage(f->pck) & KU_DIGITAL_SIGNATURE);
    X509_NAME_get_text_by_NID(X509_get_issuer_name(f->pck), NID_commonName, cn, sizeof(cn));
    assert_string_equal(cn, "CAS TEE Simulator PCK CA");
}

static void
test_the_published_root_digest_is_sha256_of_the_root_der(void **state)
{
    STACK_OF(X509) *roots = certs_from_pem(cas_tee_sim_root_pem(), strlen(cas_tee_sim_root_pem()));
    unsigned char *der = NULL;
    int len;
    uint8_t digest[32];
    char cn[128];
    (void)state;

    assert_int_equal(sk_X509_num(roots), 1);
    len = i2d_X509(sk_X509_value(roots, 0), &der);
    assert_true(len > 0);
    SHA256(der, (size_t)len, digest);
    assert_memory_equal(cas_tee_sim_root_sha256(), digest, 32);
    X509_NAME_get_text_by_NID(X509_get_subject_name(sk_X509_value(roots, 0)), NID_commonName, cn,
                              sizeof(cn));
    assert_string_equal(cn, "CAS TEE Simulator Root CA");
    assert_int_equal(
        ASN1_TIME_cmp_time_t(X509_get0_notAfter(sk_X509_value(roots, 0)), (time_t)253402300798),
        1); /* valid until 9999-12-31T23:59:59Z */
    OPENSSL_free(der);
    sk_X509_pop_free(roots, X509_free);
}

static void
test_the_published_root_is_the_checked_in_pem(void **state)
{
    size_t len = 0;
    uint8_t *pem = read_file(CAS_SOURCE_DIR "/lib/tee/sim/root_ca.crt", &len);
    (void)state;

    assert_non_null(pem);
    assert_int_equal(strlen(cas_tee_sim_root_pem()), len);
    assert_memory_equal(cas_tee_sim_root_pem(), pem, len);
    free(pem);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_ppid_is_the_first_16_bytes_of_sha256_of_the_machine_id),
        cmocka_unit_test(test_the_fmspc_pce_id_and_sgx_type_are_the_documented_values),
        cmocka_unit_test(test_the_tcb_holds_16_components_pcesvn_13_and_the_cpusvn),
        cmocka_unit_test(test_the_pck_certificate_is_an_end_entity_issued_by_the_pck_ca),
        cmocka_unit_test(test_the_published_root_digest_is_sha256_of_the_root_der),
        cmocka_unit_test(test_the_published_root_is_the_checked_in_pem),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

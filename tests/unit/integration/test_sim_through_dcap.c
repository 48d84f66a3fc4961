/*
 * test_sim_through_dcap.c - the software TEE simulator's evidence goes through the very same
 * DCAP verifier as hardware quotes (api.md §1.1): with the simulator root trusted, every
 * configured TCB status comes out as configured, with its advisories, DEBUG set and the
 * measurements as given; with only Intel's root trusted, it fails the PCK chain check.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dcap/verify.h"
#include "tee/sim.h"

struct fx {
    struct cas_dcap_verifier *v;
    struct cas_dcap_verifier *intel_only;
};

static int
setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct cas_dcap_anchor a[2];
    struct cas_err err = {0};
    const char *pem = cas_tee_sim_root_pem();

    cas_dcap_anchor_intel(&a[0]);
    assert_int_equal(cas_dcap_anchor_from_pem((const uint8_t *)pem, strlen(pem),
                                              "CAS TEE Simulator Root CA", &a[1], &err),
                     CAS_OK);
    assert_memory_equal(a[1].sha256, cas_tee_sim_root_sha256(), 32);
    assert_int_equal(cas_dcap_verifier_new(a, 2, &f->v, &err), CAS_OK);
    assert_int_equal(cas_dcap_verifier_new(a, 1, &f->intel_only, &err), CAS_OK);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fx *f = *state;
    cas_dcap_verifier_free(f->v);
    cas_dcap_verifier_free(f->intel_only);
    free(f);
    return 0;
}

static void
make_evidence(const struct cas_tee_sim_config *cfg, const struct cas_tee_sim_enclave *enc,
              const uint8_t rd[64], int64_t now, uint8_t **quote, size_t *qlen,
              struct cas_dcap_collateral *c)
{
    struct cas_tee_sim *sim = NULL;
    struct cas_err err = {0};
    char *json = NULL;
    size_t jlen = 0;

    assert_int_equal(cas_tee_sim_new(cfg, &sim, &err), CAS_OK);
    assert_int_equal(cas_tee_sim_quote(sim, enc, rd, quote, qlen, &err), CAS_OK);
    assert_int_equal(cas_tee_sim_collateral(sim, now, &json, &jlen, &err), CAS_OK);
    assert_int_equal(cas_dcap_collateral_from_json(json, jlen, c, &err), CAS_OK);
    free(json);
    cas_tee_sim_free(sim);
}

static void
test_each_configured_status_comes_out_of_the_verifier(void **state)
{
    struct fx *f = *state;
    struct cas_tee_sim_enclave enc;
    uint8_t rd[64];
    int64_t now = (int64_t)time(NULL);

    memset(enc.mrenclave, 0x11, 32);
    memset(enc.mrsigner, 0x22, 32);
    enc.isvprodid = 7;
    enc.isvsvn = 3;
    for (int i = 0; i < 64; i++)
        rd[i] = (uint8_t)i;
    for (int s = 0; s < CAS_TEE_TCB_STATUS_COUNT; s++) {
        struct cas_tee_sim_config cfg;
        struct cas_dcap_collateral c;
        struct cas_dcap_verdict vd;
        struct cas_err err = {0};
        enum cas_dcap_status want;
        uint8_t *quote = NULL;
        size_t qlen = 0;
        cas_rc rc;

        cas_tee_sim_config_init(&cfg);
        cfg.tcb_status = (enum cas_tee_tcb_status)s;
        make_evidence(&cfg, &enc, rd, now, &quote, &qlen, &c);
        rc = cas_dcap_verify(f->v, quote, qlen, &c, now, &vd, &err);
        assert_true(cas_dcap_status_parse(cas_tee_tcb_status_name(cfg.tcb_status), &want));
        if (want == CAS_DCAP_REVOKED) {
            assert_int_not_equal(rc, CAS_OK);
            assert_int_equal(vd.failed, CAS_DCAP_CHECK_TCB_REVOKED);
        } else {
            if (rc != CAS_OK) {
                char msg[1024];
                cas_err_join(&err, msg, sizeof(msg));
                fail_msg("status %s: %s", cas_tee_tcb_status_name(cfg.tcb_status), msg);
            }
            assert_int_equal(vd.status, want);
            assert_string_equal(vd.evidence_type, "sgx-dcap-v3");
            assert_string_equal(vd.root, "CAS TEE Simulator Root CA");
            assert_true(vd.debug);
            assert_memory_equal(vd.quote.sgx.mrenclave, enc.mrenclave, 32);
            assert_memory_equal(vd.quote.sgx.mrsigner, enc.mrsigner, 32);
            assert_int_equal(vd.quote.sgx.isvprodid, 7);
            assert_int_equal(vd.quote.sgx.isvsvn, 3);
            assert_memory_equal(vd.quote.sgx.report_data, rd, 64);
            if (want != CAS_DCAP_UP_TO_DATE) {
                assert_int_equal(vd.advisories.count, 2);
                assert_string_equal(vd.advisories.id[0], "INTEL-SA-00828");
                assert_string_equal(vd.advisories.id[1], "INTEL-SA-00837");
            }
        }
        free(quote);
        cas_dcap_collateral_release(&c);
    }
}

static void
test_simulator_evidence_fails_where_only_intel_is_trusted(void **state)
{
    struct fx *f = *state;
    struct cas_tee_sim_config cfg;
    struct cas_tee_sim_enclave enc = {{0}, {0}, 0, 0};
    struct cas_dcap_collateral c;
    struct cas_dcap_verdict vd;
    struct cas_err err = {0};
    uint8_t rd[64] = {0}, *quote = NULL;
    size_t qlen = 0;
    int64_t now = (int64_t)time(NULL);

    cas_tee_sim_config_init(&cfg);
    make_evidence(&cfg, &enc, rd, now, &quote, &qlen, &c);
    assert_int_not_equal(cas_dcap_verify(f->intel_only, quote, qlen, &c, now, &vd, &err), CAS_OK);
    assert_int_equal(vd.failed, CAS_DCAP_CHECK_PCK_CHAIN);
    free(quote);
    cas_dcap_collateral_release(&c);
}

static void
test_simulator_collateral_expires_after_thirty_days(void **state)
{
    struct fx *f = *state;
    struct cas_tee_sim_config cfg;
    struct cas_tee_sim_enclave enc = {{0}, {0}, 0, 0};
    struct cas_dcap_collateral c;
    struct cas_dcap_verdict vd;
    struct cas_err err = {0};
    uint8_t rd[64] = {0}, *quote = NULL;
    size_t qlen = 0;
    int64_t now = (int64_t)time(NULL);

    cas_tee_sim_config_init(&cfg);
    make_evidence(&cfg, &enc, rd, now, &quote, &qlen, &c);
    assert_int_not_equal(cas_dcap_verify(f->v, quote, qlen, &c, now + 31 * 86400, &vd, &err),
                         CAS_OK);
    free(quote);
    cas_dcap_collateral_release(&c);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_configured_status_comes_out_of_the_verifier),
        cmocka_unit_test(test_simulator_evidence_fails_where_only_intel_is_trusted),
        cmocka_unit_test(test_simulator_collateral_expires_after_thirty_days),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

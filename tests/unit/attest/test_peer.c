/* test_peer.c - the attested join's decision (attest/peer.h): the CAS's own policy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "attest/peer.h"

static struct cas_attest_self
self_sim(void)
{
    struct cas_attest_self s;

    memset(&s, 0, sizeof(s));
    s.body = CAS_DCAP_BODY_SGX;
    memset(s.mrenclave, 0x11, 32);
    memset(s.mrsigner, 0x22, 32);
    s.isvprodid = 7;
    s.isvsvn = 3;
    s.simulator = true;
    s.debug = true;
    s.status = CAS_DCAP_OUT_OF_DATE;
    return s;
}

/* A verified verdict carrying self's measurements, status and flags. */
static void
peer_of(const struct cas_attest_self *s, struct cas_dcap_verdict *vd,
        struct cas_attest_evidence *ev)
{
    memset(vd, 0, sizeof(*vd));
    vd->evidence_type = "sgx-dcap-v3";
    vd->has_status = true;
    vd->status = s->status;
    vd->debug = s->debug;
    vd->quote.body_type = CAS_DCAP_BODY_SGX;
    memcpy(vd->quote.sgx.mrenclave, s->mrenclave, 32);
    memcpy(vd->quote.sgx.mrsigner, s->mrsigner, 32);
    vd->quote.sgx.isvprodid = (uint16_t)s->isvprodid;
    vd->quote.sgx.isvsvn = (uint16_t)s->isvsvn;
    *ev = (struct cas_attest_evidence){true, true, false, vd, s->simulator, NULL};
}

static void
test_the_same_mrenclave_joins_both_ways(void **state)
{
    struct cas_attest_self s = self_sim();
    struct cas_dcap_verdict vd;
    struct cas_attest_evidence ev;
    struct cas_attest_decision d;

    (void)state;
    peer_of(&s, &vd, &ev);
    cas_attest_peer(&s, &ev, CAS_PEER_NEWCOMER, &d);
    assert_int_equal(d.n, 0);
    cas_attest_peer(&s, &ev, CAS_PEER_SOURCE, &d);
    assert_int_equal(d.n, 0);
}

static void
test_another_mrenclave_and_signer_is_refused_naming_both(void **state)
{
    struct cas_attest_self s = self_sim();
    struct cas_dcap_verdict vd;
    struct cas_attest_evidence ev;
    struct cas_attest_decision d;

    (void)state;
    peer_of(&s, &vd, &ev);
    memset(vd.quote.sgx.mrenclave, 0xab, 32);
    memset(vd.quote.sgx.mrsigner, 0xcd, 32);
    cas_attest_peer(&s, &ev, CAS_PEER_NEWCOMER, &d);
    assert_int_equal(d.n, 2);
    assert_string_equal(
        d.problems[0], "Unexpected enclave measurement (MRENCLAVE, "
                       "abababababababababababababababababababababababababababababababab) - "
                       "Expected 1111111111111111111111111111111111111111111111111111111111111111");
    assert_string_equal(
        d.problems[1], "Unexpected enclave signer (MRSIGNER, "
                       "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd) - "
                       "Expected 2222222222222222222222222222222222222222222222222222222222222222");
}

static void
test_same_signer_upgrade_gets_the_key_and_an_older_release_does_not(void **state)
{
    struct cas_attest_self s = self_sim();
    struct cas_dcap_verdict vd;
    struct cas_attest_evidence ev;
    struct cas_attest_decision d;

    (void)state;
    peer_of(&s, &vd, &ev);
    memset(vd.quote.sgx.mrenclave, 0xab, 32);
    vd.quote.sgx.isvsvn = 4; /* an upgrade asks */
    cas_attest_peer(&s, &ev, CAS_PEER_NEWCOMER, &d);
    assert_int_equal(d.n, 0);
    vd.quote.sgx.isvsvn = 2; /* an older release asks: refused */
    cas_attest_peer(&s, &ev, CAS_PEER_NEWCOMER, &d);
    assert_int_equal(d.n, 2);
    assert_non_null(strstr(d.problems[1], "(ISVSVN, 2) - Expected at least 3"));
    /* ... but a newcomer accepts the key from an older release of its signer. */
    cas_attest_peer(&s, &ev, CAS_PEER_SOURCE, &d);
    assert_int_equal(d.n, 0);
    vd.quote.sgx.isvprodid = 8;
    cas_attest_peer(&s, &ev, CAS_PEER_SOURCE, &d);
    assert_int_equal(d.n, 2);
    assert_string_equal(d.problems[1], "Unexpected product (ISVPRODID, 8) - Expected 7");
}

static void
test_simulator_and_debug_evidence_only_for_a_simulated_instance(void **state)
{
    struct cas_attest_self s = self_sim(), hw = self_sim();
    struct cas_dcap_verdict vd;
    struct cas_attest_evidence ev;
    struct cas_attest_decision d;

    (void)state;
    peer_of(&s, &vd, &ev);
    hw.simulator = false;
    hw.debug = false;
    cas_attest_peer(&hw, &ev, CAS_PEER_NEWCOMER, &d);
    assert_int_equal(d.n, 2);
    assert_non_null(strstr(d.problems[0], "software TEE simulator"));
    assert_non_null(strstr(d.problems[1], "debug mode"));
}

static void
test_tcb_status_must_be_final_or_our_own_and_never_revoked(void **state)
{
    struct cas_attest_self s = self_sim();
    struct cas_dcap_verdict vd;
    struct cas_attest_evidence ev;
    struct cas_attest_decision d;

    (void)state;
    peer_of(&s, &vd, &ev);
    vd.status = CAS_DCAP_SW_HARDENING_NEEDED;
    cas_attest_peer(&s, &ev, CAS_PEER_NEWCOMER, &d);
    assert_int_equal(d.n, 0);
    s.status = CAS_DCAP_UP_TO_DATE;
    vd.status = CAS_DCAP_OUT_OF_DATE;
    cas_attest_peer(&s, &ev, CAS_PEER_NEWCOMER, &d);
    assert_int_equal(d.n, 1);
    assert_non_null(strstr(d.problems[0], "TCB status OutOfDate - Expected UpToDate"));
    ev.revoked = true;
    cas_attest_peer(&s, &ev, CAS_PEER_SOURCE, &d);
    assert_int_equal(d.n, 1);
    assert_non_null(strstr(d.problems[0], "Revoked"));
}

static void
test_unverified_or_missing_evidence_is_refused_with_the_reason(void **state)
{
    struct cas_attest_self s = self_sim();
    struct cas_dcap_verdict vd;
    struct cas_attest_evidence ev;
    struct cas_attest_decision d;

    (void)state;
    peer_of(&s, &vd, &ev);
    ev.verified = false;
    ev.failure = "check 'quote-signature' failed";
    cas_attest_peer(&s, &ev, CAS_PEER_NEWCOMER, &d);
    assert_int_equal(d.n, 1);
    assert_string_equal(d.problems[0], "Evidence does not verify: check 'quote-signature' failed");
    ev.present = false;
    cas_attest_peer(&s, &ev, CAS_PEER_NEWCOMER, &d);
    assert_int_equal(d.n, 1);
    assert_non_null(strstr(d.problems[0], "No evidence"));
}

static void
test_td_evidence_is_not_sgx_and_compares_mrtd(void **state)
{
    struct cas_attest_self s = self_sim();
    struct cas_dcap_verdict vd;
    struct cas_attest_evidence ev;
    struct cas_attest_decision d;

    (void)state;
    peer_of(&s, &vd, &ev);
    vd.quote.body_type = CAS_DCAP_BODY_TD10;
    vd.evidence_type = "tdx-v4";
    cas_attest_peer(&s, &ev, CAS_PEER_NEWCOMER, &d);
    assert_int_equal(d.n, 1);
    assert_non_null(strstr(d.problems[0], "Unexpected evidence type (tdx-v4)"));
    s.body = CAS_DCAP_BODY_TD10;
    memset(s.mrtd, 0x33, 48);
    memset(vd.quote.td.mrtd, 0x33, 48);
    cas_attest_peer(&s, &ev, CAS_PEER_NEWCOMER, &d);
    assert_int_equal(d.n, 0);
    vd.quote.td.mrtd[47] = 0x34;
    cas_attest_peer(&s, &ev, CAS_PEER_NEWCOMER, &d);
    assert_int_equal(d.n, 1);
    assert_non_null(strstr(d.problems[0], "Unexpected TD measurement (MRTD, 3333"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_same_mrenclave_joins_both_ways),
        cmocka_unit_test(test_another_mrenclave_and_signer_is_refused_naming_both),
        cmocka_unit_test(test_same_signer_upgrade_gets_the_key_and_an_older_release_does_not),
        cmocka_unit_test(test_simulator_and_debug_evidence_only_for_a_simulated_instance),
        cmocka_unit_test(test_tcb_status_must_be_final_or_our_own_and_never_revoked),
        cmocka_unit_test(test_unverified_or_missing_evidence_is_refused_with_the_reason),
        cmocka_unit_test(test_td_evidence_is_not_sgx_and_compares_mrtd),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

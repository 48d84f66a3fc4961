/* test_attest.c - the service attestation decision (policy.md §5.1, §11; api.md §2.4). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "attest/attest.h"

#define MRE "1111111111111111111111111111111111111111111111111111111111111111"
#define MRS "2222222222222222222222222222222222222222222222222222222222222222"

static struct cas_policy *
parse(const char *yaml)
{
    struct cas_policy_options opt = {0};
    struct cas_policy_diags d;
    struct cas_policy *p = NULL;
    struct cas_err err = {0};

    cas_policy_diags_init(&d);
    if (cas_policy_parse((const uint8_t *)yaml, strlen(yaml), &opt, &p, &d, &err) != CAS_OK) {
        for (size_t i = 0; i < d.count; i++)
            fprintf(stderr, "%u:%u: %s\n", d.items[i].line, d.items[i].column, d.items[i].text);
        fail_msg("the test session does not parse");
    }
    cas_policy_diags_release(&d);
    return p;
}

static void
verdict(struct cas_dcap_verdict *vd, enum cas_dcap_status st, bool debug)
{
    memset(vd, 0, sizeof(*vd));
    vd->evidence_type = "sgx-dcap-v3";
    vd->has_status = true;
    vd->status = st;
    vd->debug = debug;
    vd->quote.body_type = CAS_DCAP_BODY_SGX;
    memset(vd->quote.sgx.mrenclave, 0x11, 32);
    memset(vd->quote.sgx.mrsigner, 0x22, 32);
    vd->quote.sgx.isvprodid = 7;
    vd->quote.sgx.isvsvn = 3;
    if (st != CAS_DCAP_UP_TO_DATE) {
        vd->advisories.count = 2;
        snprintf(vd->advisories.id[0], CAS_DCAP_ADVISORY_LEN, "INTEL-SA-00828");
        snprintf(vd->advisories.id[1], CAS_DCAP_ADVISORY_LEN, "INTEL-SA-00837");
    }
}

static void
decide(const char *yaml, const struct cas_dcap_verdict *vd, bool simulator, const char *token,
       struct cas_attest_decision *out)
{
    struct cas_policy *p = parse(yaml);
    struct cas_attest_evidence ev = {true, true, false, vd, simulator, NULL};
    struct cas_err err = {0};

    assert_int_equal(cas_attest_decide(p, &p->services[0], &ev, token, NULL, NULL, out, &err),
                     CAS_OK);
    cas_policy_free(p);
}

static const char sim_ok[] = "name: s\nversion: \"0.3\"\n"
                             "services:\n  - name: svc\n    command: /bin/app\n"
                             "    attestation: {mrenclave: [" MRE "]}\n"
                             "security:\n  attestation:\n    mode: sim\n"
                             "    tolerate: [debug-mode, outdated-tcb]\n"
                             "    ignore_advisories: [INTEL-SA-00828, INTEL-SA-00837]\n";

static void
test_matching_simulator_evidence_with_its_tolerances_passes(void **state)
{
    struct cas_dcap_verdict vd;
    struct cas_attest_decision d;
    (void)state;
    verdict(&vd, CAS_DCAP_OUT_OF_DATE, true);
    decide(sim_ok, &vd, true, NULL, &d);
    assert_int_equal(d.n, 0);
}

static void
test_another_mrenclave_names_seen_and_expected(void **state)
{
    struct cas_dcap_verdict vd;
    struct cas_attest_decision d;
    (void)state;
    verdict(&vd, CAS_DCAP_OUT_OF_DATE, true);
    memset(vd.quote.sgx.mrenclave, 0x33, 32);
    decide(sim_ok, &vd, true, NULL, &d);
    assert_int_equal(d.n, 1);
    assert_string_equal(d.problems[0], "Unexpected enclave measurement (MRENCLAVE, "
                                       "3333333333333333333333333333333333333333333333333333333333"
                                       "333333) - Expected " MRE);
}

static void
test_simulator_evidence_under_hardware_mode_names_the_mode(void **state)
{
    static const char yaml[] = "name: s\nversion: \"0.3\"\n"
                               "services:\n  - name: svc\n    command: /bin/app\n"
                               "    attestation: {mrenclave: " MRE "}\n";
    struct cas_dcap_verdict vd;
    struct cas_attest_decision d;
    bool saw_mode = false, saw_debug = false, saw_tcb = false;
    (void)state;
    verdict(&vd, CAS_DCAP_OUT_OF_DATE, true);
    decide(yaml, &vd, true, NULL, &d);
    for (unsigned i = 0; i < d.n; i++) {
        saw_mode |= strstr(d.problems[i], "accepted only under 'mode: sim'") != NULL;
        saw_debug |=
            strstr(d.problems[i], "add debug-mode to security.attestation.tolerate") != NULL;
        saw_tcb |= strcmp(d.problems[i],
                          "TCB status OutOfDate (INTEL-SA-00828, INTEL-SA-00837): add outdated-tcb "
                          "to tolerate and the advisories to ignore_advisories") == 0;
    }
    assert_true(saw_mode && saw_debug && saw_tcb);
}

static void
test_signer_variant_checks_each_factor_and_svn_bounds(void **state)
{
    static const char yaml[] =
        "name: s\nversion: \"0.3\"\n"
        "services:\n  - name: svc\n    command: /bin/app\n"
        "    attestation:\n      - signer: {mrsigner: " MRS ", isvprodid: 8, isvsvn_min: 4}\n"
        "security:\n  attestation:\n    tolerate: [debug-mode]\n";
    struct cas_dcap_verdict vd;
    struct cas_attest_decision d;
    (void)state;
    verdict(&vd, CAS_DCAP_UP_TO_DATE, false);
    decide(yaml, &vd, false, NULL, &d);
    assert_int_equal(d.n, 2);
    assert_string_equal(d.problems[0], "Unexpected product (ISVPRODID, 7) - Expected 8");
    assert_string_equal(d.problems[1],
                        "Unexpected security version (ISVSVN, 3) - Expected at least 4");
}

static void
test_one_matching_variant_of_several_suffices(void **state)
{
    static const char yaml[] = "name: s\nversion: \"0.3\"\n"
                               "services:\n  - name: svc\n    command: /bin/app\n"
                               "    attestation:\n"
                               "      - mrenclave: "
                               "4444444444444444444444444444444444444444444444444444444444444444\n"
                               "      - signer: {mrsigner: " MRS ", isvprodid: 7, isvsvn: 3}\n";
    struct cas_dcap_verdict vd;
    struct cas_attest_decision d;
    (void)state;
    verdict(&vd, CAS_DCAP_UP_TO_DATE, false);
    decide(yaml, &vd, false, NULL, &d);
    assert_int_equal(d.n, 0);
}

static void
test_shortcut_tolerances_cover_their_advisories(void **state)
{
    static const char yaml[] = "name: s\nversion: \"0.3\"\n"
                               "services:\n  - name: svc\n    command: /bin/app\n"
                               "    attestation: {mrenclave: " MRE "}\n"
                               "security:\n  attestation:\n    tolerate: [hyperthreading]\n";
    struct cas_dcap_verdict vd;
    struct cas_attest_decision d;
    (void)state;
    verdict(&vd, CAS_DCAP_CONFIGURATION_NEEDED, false);
    vd.advisories.count = 1;
    snprintf(vd.advisories.id[0], CAS_DCAP_ADVISORY_LEN, "INTEL-SA-00233");
    decide(yaml, &vd, false, NULL, &d);
    assert_int_equal(d.n, 0);
}

static void
test_revoked_never_passes(void **state)
{
    struct cas_policy *p = parse(sim_ok);
    struct cas_dcap_verdict vd;
    struct cas_attest_evidence ev;
    struct cas_attest_decision d;
    struct cas_err err = {0};
    (void)state;
    verdict(&vd, CAS_DCAP_OUT_OF_DATE, true);
    ev = (struct cas_attest_evidence){true, true, true, &vd, true, NULL};
    assert_int_equal(cas_attest_decide(p, &p->services[0], &ev, NULL, NULL, NULL, &d, &err),
                     CAS_OK);
    assert_int_equal(d.n, 1);
    assert_non_null(strstr(d.problems[0], "Revoked"));
    cas_policy_free(p);
}

static void
test_the_access_token_is_checked_in_every_mode(void **state)
{
    static const char yaml[] = "name: s\nversion: \"0.3\"\n"
                               "services:\n  - name: svc\n    command: /bin/app\n"
                               "security:\n  attestation:\n    mode: none\n"
                               "  service_access_token: open-sesame\n";
    struct cas_dcap_verdict vd;
    struct cas_attest_decision d;
    (void)state;
    verdict(&vd, CAS_DCAP_UP_TO_DATE, false);
    decide(yaml, &vd, false, "open-sesame", &d);
    assert_int_equal(d.n, 0);
    assert_false(d.wrong_token);
    decide(yaml, &vd, false, "open-sesamE", &d);
    assert_int_equal(d.n, 1);
    assert_true(d.wrong_token);
    assert_string_equal(d.problems[0], "Wrong or missing service access token");
    decide(yaml, &vd, false, NULL, &d);
    assert_int_equal(d.n, 1);
    assert_true(d.wrong_token);
}

static void
test_a_denial_for_another_reason_is_no_wrong_token(void **state)
{
    struct cas_policy *p = parse(sim_ok);
    struct cas_attest_evidence ev = {.present = false};
    struct cas_attest_decision d;
    struct cas_err err = {0};
    (void)state;
    assert_int_equal(cas_attest_decide(p, &p->services[0], &ev, NULL, NULL, NULL, &d, &err),
                     CAS_OK);
    assert_true(d.n > 0);
    assert_false(d.wrong_token);
    cas_policy_free(p);
}

static void
test_evidence_that_does_not_verify_is_refused_with_the_reason(void **state)
{
    struct cas_policy *p = parse(sim_ok);
    struct cas_dcap_verdict vd;
    struct cas_attest_evidence ev;
    struct cas_attest_decision d;
    struct cas_err err = {0};
    (void)state;
    verdict(&vd, CAS_DCAP_UP_TO_DATE, false);
    ev = (struct cas_attest_evidence){true, false, false, &vd, false, "check 'pck-chain' failed"};
    assert_int_equal(cas_attest_decide(p, &p->services[0], &ev, NULL, NULL, NULL, &d, &err),
                     CAS_OK);
    assert_int_equal(d.n, 1);
    assert_string_equal(d.problems[0], "Evidence does not verify: check 'pck-chain' failed");
    cas_policy_free(p);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matching_simulator_evidence_with_its_tolerances_passes),
        cmocka_unit_test(test_another_mrenclave_names_seen_and_expected),
        cmocka_unit_test(test_simulator_evidence_under_hardware_mode_names_the_mode),
        cmocka_unit_test(test_signer_variant_checks_each_factor_and_svn_bounds),
        cmocka_unit_test(test_one_matching_variant_of_several_suffices),
        cmocka_unit_test(test_shortcut_tolerances_cover_their_advisories),
        cmocka_unit_test(test_revoked_never_passes),
        cmocka_unit_test(test_the_access_token_is_checked_in_every_mode),
        cmocka_unit_test(test_a_denial_for_another_reason_is_no_wrong_token),
        cmocka_unit_test(test_evidence_that_does_not_verify_is_refused_with_the_reason),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

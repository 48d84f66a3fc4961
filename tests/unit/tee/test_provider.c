/* test_provider.c - the provider interface: choosing by name, the simulator's evidence, and the
 * evidence type of real captured quotes from tests/data/dcap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tee/provider.h"
#include "tee_test.h"
#include "util/alloc.h"

static int64_t
fixed_clock(void)
{
    return 1763800000; /* 2025-11-22 */
}

static void
test_the_simulator_provider_gives_a_v3_quote_with_its_collateral(void **state)
{
    struct cas_tee_options opt;
    struct cas_tee_provider *p = NULL;
    struct cas_tee_evidence ev;
    struct cas_err err = {0};
    struct quote_view v;
    uint8_t rd[64];
    (void)state;

    cas_tee_options_init(&opt);
    opt.now = fixed_clock;
    opt.sim.machine_id_path = "/nonexistent/machine-id";
    memset(opt.enclave.mrenclave, 0x11, 32);
    opt.enclave.isvsvn = 3;
    for (int i = 0; i < 64; i++)
        rd[i] = (uint8_t)i;
    assert_int_equal(cas_tee_provider_new(&opt, &p, &err), CAS_OK);
    assert_string_equal(cas_tee_provider_name(p), "sim");
    assert_int_equal(cas_tee_provider_get_evidence(p, rd, &ev, &err), CAS_OK);
    assert_string_equal(ev.type, "sgx-dcap-v3");
    assert_true(quote_view_parse(ev.quote, ev.quote_len, &v));
    assert_memory_equal(v.body + 64, opt.enclave.mrenclave, 32);
    assert_memory_equal(v.body + 320, rd, 64);
    assert_non_null(ev.collateral);
    assert_int_equal(strlen(ev.collateral), ev.collateral_len);
    assert_non_null(strstr(ev.collateral, "2025-11-22T00:00:00Z"));
    cas_tee_evidence_release(&ev);
    assert_null(ev.quote);
    cas_tee_provider_free(p);
}

static void
test_an_unknown_tee_name_is_refused_with_the_choices(void **state)
{
    struct cas_tee_options opt;
    struct cas_tee_provider *p = NULL;
    struct cas_err err = {0};
    (void)state;

    cas_tee_options_init(&opt);
    opt.tee = "sev";
    assert_int_equal(cas_tee_provider_new(&opt, &p, &err), CAS_E_INVALID);
    assert_null(p);
    assert_non_null(strstr(err.msg[0], "'sev'"));
    assert_non_null(strstr(err.msg[0], "sim, gramine or tsm"));
}

static void
check_case(const char *name, const char *type, size_t off)
{
    char path[512];
    size_t len = 0, got_off = 0;
    uint8_t *q;
    const char *got = NULL;
    struct cas_err err = {0};

    snprintf(path, sizeof(path), "%s/dcap/%s/quote.bin", CAS_TESTDATA, name);
    q = read_file(path, &len);
    assert_non_null(q);
    assert_int_equal(cas_tee_quote_type(q, len, &got, &got_off, &err), CAS_OK);
    assert_string_equal(got, type);
    assert_int_equal(got_off, off);
    free(q);
}

static void
test_real_quotes_are_typed_by_their_header(void **state)
{
    (void)state;
    check_case("phala-sgx-v3", "sgx-dcap-v3", 48 + 320);
    check_case("phala-tdx-v4", "tdx-v4", 48 + 520);
    check_case("gotdx-v5-tdx", "tdx-v5", 48 + 6 + 520);
}

static void
test_a_quote_shorter_than_its_header_or_body_is_refused(void **state)
{
    size_t len = 0, off = 0;
    uint8_t *q = read_file(CAS_TESTDATA "/dcap/phala-sgx-v3/quote.bin", &len);
    const char *type = NULL;
    struct cas_err err = {0};
    (void)state;

    assert_int_equal(cas_tee_quote_type(q, 47, &type, &off, &err), CAS_E_INVALID);
    assert_non_null(strstr(err.msg[0], "header"));
    assert_int_equal(cas_tee_quote_type(q, 48 + 383, &type, &off, &err), CAS_E_UNSUPPORTED);
    assert_null(type);
    assert_int_equal(cas_tee_quote_type(NULL, 0, &type, &off, &err), CAS_E_INVALID);
    free(q);
}

static void
test_an_unknown_version_or_tee_type_is_unsupported(void **state)
{
    size_t len = 0, off = 0;
    uint8_t *q = read_file(CAS_TESTDATA "/dcap/phala-sgx-v3/quote.bin", &len);
    const char *type = NULL;
    struct cas_err err = {0};
    (void)state;

    q[0] = 2; /* EPID-era version */
    assert_int_equal(cas_tee_quote_type(q, len, &type, &off, &err), CAS_E_UNSUPPORTED);
    q[0] = 3;
    q[4] = 0x81; /* v3 claiming TDX */
    assert_int_equal(cas_tee_quote_type(q, len, &type, &off, &err), CAS_E_UNSUPPORTED);
    free(q);
}

static void
test_a_v5_quote_whose_body_size_runs_past_the_end_is_refused(void **state)
{
    size_t len = 0, off = 0;
    uint8_t *q = read_file(CAS_TESTDATA "/dcap/gotdx-v5-tdx/quote.bin", &len);
    const char *type = NULL;
    struct cas_err err = {0};
    (void)state;

    q[50] = 0xFF; /* body size 0x...FF */
    q[51] = 0xFF;
    q[52] = 0xFF;
    q[53] = 0x7F;
    assert_int_equal(cas_tee_quote_type(q, len, &type, &off, &err), CAS_E_UNSUPPORTED);
    free(q);
}

static void
test_every_allocation_failure_while_making_sim_evidence_is_out_of_memory(void **state)
{
    struct cas_tee_options opt;
    uint8_t rd[64] = {0};
    long n;
    (void)state;

    cas_tee_options_init(&opt);
    opt.now = fixed_clock;
    opt.sim.machine_id_path = CAS_SOURCE_DIR "/lib/tee/sim/root_ca.sha256"; /* any file */
    for (n = 0; n < 10000; n++) {
        struct cas_tee_provider *p = NULL;
        struct cas_tee_evidence ev = {0};
        struct cas_err err = {0};
        cas_rc rc;

        cas_alloc_fail_after(n);
        rc = cas_tee_provider_new(&opt, &p, &err);
        if (rc == CAS_OK)
            rc = cas_tee_provider_get_evidence(p, rd, &ev, &err);
        cas_alloc_fail_after(-1);
        cas_tee_evidence_release(&ev);
        cas_tee_provider_free(p);
        if (rc == CAS_OK)
            break;
        assert_int_equal(rc, CAS_E_NOMEM);
        assert_null(ev.quote);
    }
    assert_true(n > 3); /* the walk did reach the quote and collateral */
    assert_true(n < 10000);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_simulator_provider_gives_a_v3_quote_with_its_collateral),
        cmocka_unit_test(test_an_unknown_tee_name_is_refused_with_the_choices),
        cmocka_unit_test(test_real_quotes_are_typed_by_their_header),
        cmocka_unit_test(test_a_quote_shorter_than_its_header_or_body_is_refused),
        cmocka_unit_test(test_an_unknown_version_or_tee_type_is_unsupported),
        cmocka_unit_test(test_a_v5_quote_whose_body_size_runs_past_the_end_is_refused),
        cmocka_unit_test(test_every_allocation_failure_while_making_sim_evidence_is_out_of_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_dcap_collateral.c - the collateral side: PCS times, TCB info (v2, v3) and QE identity
 * parsing with the exact signed bytes, hostile bodies, the api.md §1 JSON object, the PCK
 * certificate's SGX extensions, and Intel's TCB level algorithm on hand-made TCB infos (TDX
 * module identities, QE and module convergence, no matching level).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dcap/pck.h"
#include "fixture.h"

static void
test_pcs_times_parse_as_rfc3339_and_cli_times_also_as_unix_seconds(void **state)
{
    int64_t t = 0;
    char out[21];
    (void)state;

    assert_true(cas_dcap_time_parse("2025-06-19T10:56:11Z", 20, false, &t));
    assert_int_equal(t, 1750330571);
    assert_true(cas_dcap_time_parse("2025-06-19T12:56:11.250+02:00", 29, false, &t));
    assert_int_equal(t, 1750330571);
    assert_true(cas_dcap_time_parse("2024-02-29T23:59:59Z", 20, false, &t));
    assert_int_equal(t, 1709251199);
    assert_false(cas_dcap_time_parse("2025-02-29T00:00:00Z", 20, false, &t));
    assert_false(cas_dcap_time_parse("2025-13-01T00:00:00Z", 20, false, &t));
    assert_false(cas_dcap_time_parse("2025-06-19T10:56:11", 19, false, &t));
    assert_false(cas_dcap_time_parse("2025-06-19T10:56:11Zx", 21, false, &t));
    assert_false(cas_dcap_time_parse("1750330571", 10, false, &t));
    assert_true(cas_dcap_time_parse("1750330571", 10, true, &t));
    assert_int_equal(t, 1750330571);
    assert_false(cas_dcap_time_parse("17503x0571", 10, true, &t));
    cas_dcap_time_format(1750330571, out);
    assert_string_equal(out, "2025-06-19T10:56:11Z");
}

/* SHA-256 of the inner object as the file writes it, found by plain string search. */
static void
inner_digest(const char *text, const char *key, uint8_t out[32])
{
    const char *start = strstr(text, key), *end = strstr(text, ",\"signature\"");

    assert_non_null(start);
    assert_non_null(end);
    start = strchr(start, '{');
    SHA256((const uint8_t *)start, (size_t)(end - start), out);
}

static void
test_every_testdata_tcb_info_and_qe_identity_parses_with_its_exact_signed_bytes(void **state)
{
    const char *parents[] = {DCAP_DIR, DCAP_DIR "/negative"};
    (void)state;

    for (int p = 0; p < 2; p++) {
        char **dirs;
        size_t n = fx_list(parents[p], "tcb_info.json", &dirs);
        for (size_t i = 0; i < n; i++) {
            char path[4096];
            struct cas_dcap_tcb_info *ti = NULL;
            struct cas_dcap_qe_identity *qi = NULL;
            struct cas_err err = {0};
            uint8_t *text, want[32];
            size_t len;
            fx_path(path, dirs[i], "tcb_info.json");
            text = fx_read(path, &len);
            if (cas_dcap_tcb_info_parse(text, len, &ti, &err) != CAS_OK)
                fail_msg("%s: %s", path, err.msg[0]);
            inner_digest((char *)text, "\"tcbInfo\"", want);
            assert_memory_equal(ti->signed_digest, want, 32);
            assert_true(ti->level_count > 0 && ti->next_update > ti->issue_date);
            free(text);
            fx_path(path, dirs[i], "qe_identity.json");
            text = fx_read(path, &len);
            if (cas_dcap_qe_identity_parse(text, len, &qi, &err) != CAS_OK)
                fail_msg("%s: %s", path, err.msg[0]);
            inner_digest((char *)text, "\"enclaveIdentity\"", want);
            assert_memory_equal(qi->signed_digest, want, 32);
            assert_int_equal(qi->is_td_qe, ti->is_tdx);
            free(text);
            cas_dcap_tcb_info_free(ti);
            cas_dcap_qe_identity_free(qi);
        }
        fx_list_free(dirs, n);
    }
}

static void
test_tcb_info_v2_reads_components_from_named_fields(void **state)
{
    struct cas_dcap_tcb_info *ti = NULL;
    struct cas_err err = {0};
    size_t len;
    uint8_t *text = fx_read(DCAP_DIR "/automata-sgx-v3-tcbinfo-v2/tcb_info.json", &len);
    (void)state;

    assert_int_equal(cas_dcap_tcb_info_parse(text, len, &ti, &err), CAS_OK);
    assert_int_equal(ti->version, 2);
    assert_false(ti->is_tdx);
    assert_int_equal(ti->levels[0].sgx[0], 14);
    assert_int_equal(ti->levels[0].sgx[4], 255);
    assert_int_equal(ti->levels[0].advisories.count, 0);
    cas_dcap_tcb_info_free(ti);
    free(text);
}

static cas_rc
parse_text(const char *text, struct cas_err *err)
{
    struct cas_dcap_tcb_info *ti = NULL;
    cas_rc rc = cas_dcap_tcb_info_parse((const uint8_t *)text, strlen(text), &ti, err);

    cas_dcap_tcb_info_free(ti);
    return rc;
}

/* The real phala-sgx-v3 body with `from` replaced by `to` once. */
static cas_rc
parse_edited(const char *from, const char *to, struct cas_err *err)
{
    size_t len;
    char *text = (char *)fx_read(DCAP_DIR "/phala-sgx-v3/tcb_info.json", &len);
    char *at = strstr(text, from), *out;
    cas_rc rc;

    assert_non_null(at);
    out = malloc(len + strlen(to) + 1);
    memcpy(out, text, (size_t)(at - text));
    strcpy(out + (at - text), to);
    strcat(out, at + strlen(from));
    rc = parse_text(out, err);
    free(out);
    free(text);
    return rc;
}

static void
test_hostile_tcb_info_bodies_are_refused_with_the_reason(void **state)
{
    struct cas_err err = {0};
    (void)state;

    assert_int_equal(parse_text("not json", &err), CAS_E_INVALID);
    assert_non_null(strstr(err.msg[0], "not JSON"));
    assert_int_equal(parse_text("{\"signature\":\"00\"}", &err), CAS_E_INVALID);
    assert_non_null(strstr(err.msg[0], "no 'tcbInfo'"));
    assert_int_equal(parse_edited("{\"tcbInfo\":", "{\"tcbInfo\":{},\"tcbInfo\":", &err),
                     CAS_E_INVALID); /* duplicate key */
    assert_int_equal(parse_edited("\"signature\":\"", "\"signature\":\"00", &err), CAS_E_INVALID);
    assert_non_null(strstr(err.msg[0], "signature"));
    assert_int_equal(parse_edited("\"version\":3", "\"version\":4", &err), CAS_E_INVALID);
    assert_int_equal(parse_edited("\"id\":\"SGX\"", "\"id\":\"SEV\"", &err), CAS_E_INVALID);
    assert_int_equal(parse_edited("\"tcbStatus\":\"", "\"tcbStatus\":\"Nearly", &err),
                     CAS_E_INVALID);
    assert_non_null(strstr(err.msg[0], "tcbStatus"));
    assert_int_equal(parse_edited("{\"svn\":11},", "{\"svn\":11},{\"svn\":1},", &err),
                     CAS_E_INVALID);
    assert_int_equal(parse_edited("{\"svn\":11},", "{\"svn\":256},", &err), CAS_E_INVALID);
    assert_int_equal(parse_edited("\"fmspc\":\"00A067110000\"", "\"fmspc\":\"00A0671100\"", &err),
                     CAS_E_INVALID);
    assert_int_equal(
        parse_edited("\"issueDate\":\"2025-06-19T10:56:11Z\"", "\"issueDate\":\"yesterday\"", &err),
        CAS_E_INVALID);
    assert_int_equal(parse_edited("\"tcbLevels\":[", "\"tcbLevels\":[1,", &err), CAS_E_INVALID);
}

static void
test_a_body_with_a_nul_byte_or_over_the_limit_is_refused(void **state)
{
    static const char text[] = "{\"tcbInfo\":{}\0,\"signature\":\"\"}";
    struct cas_dcap_tcb_info *ti = NULL;
    struct cas_err err = {0};
    (void)state;

    assert_int_equal(cas_dcap_tcb_info_parse((const uint8_t *)text, sizeof(text) - 1, &ti, &err),
                     CAS_E_INVALID);
    assert_non_null(strstr(err.msg[0], "NUL"));
    assert_int_equal(
        cas_dcap_tcb_info_parse((const uint8_t *)text, CAS_DCAP_BODY_MAX + 1, &ti, &err),
        CAS_E_TOOBIG);
    assert_null(ti);
}

static void
test_collateral_json_needs_every_field_and_base64_crls(void **state)
{
    struct cas_dcap_collateral c;
    struct cas_err err = {0};
    (void)state;

    assert_int_equal(cas_dcap_collateral_from_json("[]", 2, &c, &err), CAS_E_INVALID);
    assert_int_equal(cas_dcap_collateral_from_json("{\"tcb_info\":\"x\"}", 16, &c, &err),
                     CAS_E_INVALID);
    assert_non_null(strstr(err.msg[0], "qe_identity"));
    {
        const char *j = "{\"tcb_info\":\"a\",\"qe_identity\":\"b\",\"tcb_info_issuer_chain\":\"c\","
                        "\"qe_identity_issuer_chain\":\"d\",\"pck_crl_issuer_chain\":\"e\","
                        "\"pck_crl\":\"not base64!\",\"root_ca_crl\":\"AA==\"}";
        assert_int_equal(cas_dcap_collateral_from_json(j, strlen(j), &c, &err), CAS_E_INVALID);
        assert_non_null(strstr(err.msg[0], "pck_crl"));
    }
    assert_int_equal(cas_dcap_collateral_from_dir("/nonexistent", &c, &err), CAS_E_NOTFOUND);
}

static void
test_pck_extensions_of_every_real_quote_match_the_case(void **state)
{
    char **dirs;
    size_t n = fx_list(DCAP_DIR, "case.json", &dirs);
    (void)state;

    for (size_t i = 0; i < n; i++) {
        char path[4096];
        struct cas_dcap_pck_info pck;
        struct cas_err err = {0};
        struct cas_quote q;
        bool platform;
        const json_t *x;
        json_t *doc;
        size_t len;
        uint8_t *quote;
        fx_path(path, dirs[i], "quote.bin");
        quote = fx_read(path, &len);
        fx_path(path, dirs[i], "case.json");
        doc = fx_json(path);
        assert_int_equal(cas_dcap_quote_parse(quote, len, &q, &err), CAS_OK);
        assert_int_equal(cas_dcap_quote_pck(&q, &pck, &platform, &err), CAS_OK);
        assert_true(fx_hex_eq(pck.fmspc, 6, json_string_value(json_object_get(doc, "fmspc"))));
        assert_int_equal(platform, strcmp(json_string_value(json_object_get(doc, "pck_issuer_ca")),
                                          "platform") == 0);
        x = json_object_get(doc, "intel_algorithm_crosscheck");
        assert_int_equal(pck.tcb.pcesvn, json_integer_value(json_object_get(x, "pck_pcesvn")));
        for (size_t k = 0; k < 16; k++)
            assert_int_equal(pck.tcb.comp[k], json_integer_value(json_array_get(
                                                  json_object_get(x, "pck_sgx_tcb_comp_svns"), k)));
        json_decref(doc);
        free(quote);
    }
    fx_list_free(dirs, n);
}

static void
test_a_malformed_pck_extension_is_refused(void **state)
{
    static const uint8_t not_seq[] = {0x04, 0x01, 0x00};
    static const uint8_t long_len[] = {0x30, 0x84, 0xff, 0xff, 0xff, 0xff};
    static const uint8_t empty[] = {0x30, 0x00};
    struct cas_dcap_pck_info pck;
    struct cas_err err = {0};
    (void)state;

    assert_int_equal(cas_dcap_pck_ext_parse(not_seq, sizeof(not_seq), &pck, &err), CAS_E_INVALID);
    assert_int_equal(cas_dcap_pck_ext_parse(long_len, sizeof(long_len), &pck, &err), CAS_E_INVALID);
    assert_int_equal(cas_dcap_pck_ext_parse(empty, sizeof(empty), &pck, &err), CAS_E_INVALID);
    assert_non_null(strstr(err.msg[0], "lacks"));
}

/* ---- TCB evaluation on a hand-made TDX TCB info ---- */

struct tdx_fx {
    struct cas_dcap_tcb_info ti;
    struct cas_dcap_tcb_level levels[2];
    struct cas_dcap_module_level mlevels[2];
    struct cas_dcap_pck_tcb pck;
    struct cas_quote q;
};

/* Level 0 UpToDate needs TDX components {5,0,7}; level 1 OutOfDate needs {3,0,5}. TDX_01
 * identity: isvsvn 4 UpToDate, 2 OutOfDate. */
static void
tdx_setup(struct tdx_fx *f)
{
    memset(f, 0, sizeof(*f));
    f->ti.is_tdx = true;
    f->ti.version = 3;
    f->ti.level_count = 2;
    f->ti.levels = f->levels;
    f->levels[0].status = CAS_DCAP_UP_TO_DATE;
    f->levels[0].tdx[0] = 5;
    f->levels[0].tdx[2] = 7;
    f->levels[1].status = CAS_DCAP_OUT_OF_DATE;
    f->levels[1].tdx[0] = 3;
    f->levels[1].tdx[2] = 5;
    (void)cas_dcap_advisories_add(&f->levels[1].advisories, "INTEL-SA-00960");
    f->ti.module_count = 1;
    memcpy(f->ti.modules[0].id, "TDX_01", 7);
    f->ti.modules[0].level_count = 2;
    f->ti.modules[0].levels = f->mlevels;
    f->mlevels[0].isvsvn = 4;
    f->mlevels[0].status = CAS_DCAP_UP_TO_DATE;
    f->mlevels[1].isvsvn = 2;
    f->mlevels[1].status = CAS_DCAP_OUT_OF_DATE;
    f->q.version = 4;
    f->q.tee_type = CAS_DCAP_TEE_TDX;
    f->q.body_type = CAS_DCAP_BODY_TD10;
    f->q.td.tee_tcb_svn[0] = 4;
    f->q.td.tee_tcb_svn[1] = 1;
    f->q.td.tee_tcb_svn[2] = 7;
}

static enum cas_dcap_status
evaluate(struct tdx_fx *f, enum cas_dcap_status qe, cas_rc want_rc)
{
    struct cas_dcap_tcb_result res;
    struct cas_err err = {0};

    assert_int_equal(cas_dcap_tcb_evaluate(&f->ti, &f->pck, &f->q, qe, &res, &err), want_rc);
    return res.status;
}

static void
test_tdx_levels_skip_the_module_bytes_when_a_module_version_is_set(void **state)
{
    struct tdx_fx f;
    (void)state;

    tdx_setup(&f); /* TEE_TCB_SVN[0] = 4 < 5, but index 0 is the module's: judged by TDX_01 */
    assert_int_equal(evaluate(&f, CAS_DCAP_UP_TO_DATE, CAS_OK), CAS_DCAP_UP_TO_DATE);
    f.q.td.tee_tcb_svn[1] = 0; /* no module version: all 16 bytes count, level 1 matches */
    assert_int_equal(evaluate(&f, CAS_DCAP_UP_TO_DATE, CAS_OK), CAS_DCAP_OUT_OF_DATE);
}

static void
test_an_out_of_date_module_or_qe_makes_the_platform_out_of_date(void **state)
{
    struct tdx_fx f;
    (void)state;

    tdx_setup(&f);
    f.q.td.tee_tcb_svn[0] = 3; /* TDX_01 level isvsvn 2: OutOfDate */
    assert_int_equal(evaluate(&f, CAS_DCAP_UP_TO_DATE, CAS_OK), CAS_DCAP_OUT_OF_DATE);
    tdx_setup(&f);
    assert_int_equal(evaluate(&f, CAS_DCAP_OUT_OF_DATE, CAS_OK), CAS_DCAP_OUT_OF_DATE);
    f.levels[0].status = CAS_DCAP_CONFIGURATION_NEEDED;
    assert_int_equal(evaluate(&f, CAS_DCAP_OUT_OF_DATE, CAS_OK),
                     CAS_DCAP_OUT_OF_DATE_CONFIGURATION_NEEDED);
    assert_int_equal(evaluate(&f, CAS_DCAP_REVOKED, CAS_OK), CAS_DCAP_REVOKED);
}

static void
test_no_matching_level_or_module_identity_is_tcb_not_supported(void **state)
{
    struct tdx_fx f;
    (void)state;

    tdx_setup(&f);
    f.q.td.tee_tcb_svn[2] = 4; /* below both levels */
    evaluate(&f, CAS_DCAP_UP_TO_DATE, CAS_E_DENIED);
    tdx_setup(&f);
    f.q.td.tee_tcb_svn[0] = 1; /* below every TDX_01 level */
    evaluate(&f, CAS_DCAP_UP_TO_DATE, CAS_E_DENIED);
    tdx_setup(&f);
    f.q.td.tee_tcb_svn[1] = 3; /* TDX_03 has no identity */
    evaluate(&f, CAS_DCAP_UP_TO_DATE, CAS_E_DENIED);
    tdx_setup(&f);
    f.levels[0].pcesvn = f.levels[1].pcesvn = 1; /* the PCK's PCESVN 0 reaches no level */
    evaluate(&f, CAS_DCAP_UP_TO_DATE, CAS_E_DENIED);
}

/* TD 1.5: out of date only through its TDX module, and TEE_TCB_SVN2 already current. */
static void
test_a_td_behind_only_its_module_is_advised_to_relaunch(void **state)
{
    struct tdx_fx f;
    (void)state;

    tdx_setup(&f);
    f.q.body_type = CAS_DCAP_BODY_TD15;
    f.q.td.tee_tcb_svn[0] = 3; /* TDX_01 at isvsvn 3: OutOfDate */
    memcpy(f.q.td.tee_tcb_svn2, (const uint8_t[]){4, 1, 7}, 3);
    assert_int_equal(evaluate(&f, CAS_DCAP_UP_TO_DATE, CAS_OK), CAS_DCAP_TD_RELAUNCH_ADVISED);
    f.levels[0].status = CAS_DCAP_CONFIGURATION_NEEDED;
    assert_int_equal(evaluate(&f, CAS_DCAP_UP_TO_DATE, CAS_OK),
                     CAS_DCAP_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED);
    f.levels[0].status = CAS_DCAP_UP_TO_DATE;
    f.q.td.tee_tcb_svn2[0] = 3; /* the relaunched module would still be behind */
    assert_int_equal(evaluate(&f, CAS_DCAP_UP_TO_DATE, CAS_OK), CAS_DCAP_OUT_OF_DATE);
    f.q.td.tee_tcb_svn2[0] = 4;
    assert_int_equal(evaluate(&f, CAS_DCAP_OUT_OF_DATE, CAS_OK), CAS_DCAP_OUT_OF_DATE);
    f.q.body_type = CAS_DCAP_BODY_TD10; /* no TEE_TCB_SVN2: no advice */
    assert_int_equal(evaluate(&f, CAS_DCAP_UP_TO_DATE, CAS_OK), CAS_DCAP_OUT_OF_DATE);
}

static void
test_advisories_come_from_the_matched_level(void **state)
{
    struct cas_dcap_tcb_result res;
    struct cas_err err = {0};
    struct tdx_fx f;
    (void)state;

    tdx_setup(&f);
    f.q.td.tee_tcb_svn[2] = 6; /* level 1 */
    assert_int_equal(cas_dcap_tcb_evaluate(&f.ti, &f.pck, &f.q, CAS_DCAP_UP_TO_DATE, &res, &err),
                     CAS_OK);
    assert_int_equal(res.advisories.count, 1);
    assert_string_equal(res.advisories.id[0], "INTEL-SA-00960");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pcs_times_parse_as_rfc3339_and_cli_times_also_as_unix_seconds),
        cmocka_unit_test(
            test_every_testdata_tcb_info_and_qe_identity_parses_with_its_exact_signed_bytes),
        cmocka_unit_test(test_tcb_info_v2_reads_components_from_named_fields),
        cmocka_unit_test(test_hostile_tcb_info_bodies_are_refused_with_the_reason),
        cmocka_unit_test(test_a_body_with_a_nul_byte_or_over_the_limit_is_refused),
        cmocka_unit_test(test_collateral_json_needs_every_field_and_base64_crls),
        cmocka_unit_test(test_pck_extensions_of_every_real_quote_match_the_case),
        cmocka_unit_test(test_a_malformed_pck_extension_is_refused),
        cmocka_unit_test(test_tdx_levels_skip_the_module_bytes_when_a_module_version_is_set),
        cmocka_unit_test(test_an_out_of_date_module_or_qe_makes_the_platform_out_of_date),
        cmocka_unit_test(test_no_matching_level_or_module_identity_is_tcb_not_supported),
        cmocka_unit_test(test_a_td_behind_only_its_module_is_advised_to_relaunch),
        cmocka_unit_test(test_advisories_come_from_the_matched_level),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

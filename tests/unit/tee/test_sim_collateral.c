/*
 * test_sim_collateral.c - the simulator's collateral: PCS-shaped TCB info and QE identity signed
 * over their exact inner bytes, CRLs, issuer chains, the status each configuration produces
 * (Intel's TCB level matching, re-done here), the per-day cache and the directory writer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tee/sim.h"
#include "tee_test.h"
#include "util/codec.h"

#define NOW 1763800000         /* 2025-11-22T08:26:40Z */
#define DAY_START 1763769600   /* 2025-11-22T00:00:00Z */
#define NEXT_UPDATE 1766361600 /* 2025-12-22T00:00:00Z */

struct fixture {
    char *dir;
    struct cas_tee_sim *sim;
    char *json;
    size_t json_len;
    json_t *obj;
    uint8_t *quote;
    size_t quote_len;
    struct quote_view v;
};

static int
load(struct fixture *f, struct cas_tee_sim_config *cfg)
{
    struct cas_tee_sim_enclave enc;
    struct cas_err err = {0};
    uint8_t rd[64] = {0};

    memset(&enc, 0, sizeof(enc));
    if ((f->sim = sim_on_machine(f->dir, "00112233445566778899aabbccddeeff\n", cfg)) == NULL ||
        cas_tee_sim_collateral(f->sim, NOW, &f->json, &f->json_len, &err) != CAS_OK ||
        cas_tee_sim_quote(f->sim, &enc, rd, &f->quote, &f->quote_len, &err) != CAS_OK ||
        !quote_view_parse(f->quote, f->quote_len, &f->v))
        return -1;
    f->obj = json_loadb(f->json, f->json_len, JSON_REJECT_DUPLICATES, NULL);
    return f->obj != NULL ? 0 : -1;
}

static void
unload(struct fixture *f)
{
    json_decref(f->obj);
    free(f->json);
    free(f->quote);
    cas_tee_sim_free(f->sim);
    f->obj = NULL;
    f->json = NULL;
    f->quote = NULL;
    f->sim = NULL;
}

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct cas_tee_sim_config cfg;

    f->dir = make_temp_dir();
    cas_tee_sim_config_init(&cfg);
    if (load(f, &cfg) != 0)
        return -1;
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;

    unload(f);
    rm_tree(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

static const char *
member(const struct fixture *f, const char *key)
{
    return json_string_value(json_object_get(f->obj, key));
}

/* The signed PCS body's inner object, parsed; checks the signature with the chain's first key. */
static json_t *
signed_inner(const struct fixture *f, const char *member_key, const char *pcs_key)
{
    const char *body = member(f, member_key), *chain_pem = member(f, "tcb_info_issuer_chain");
    const char *inner = NULL;
    size_t inner_len = 0;
    uint8_t sig[64];
    STACK_OF(X509) * chain;
    json_t *j = NULL;

    if (body == NULL || chain_pem == NULL || !pcs_inner(body, pcs_key, &inner, &inner_len, sig))
        return NULL;
    chain = certs_from_pem(chain_pem, strlen(chain_pem));
    if (verify_raw_sig(X509_get0_pubkey(sk_X509_value(chain, 0)), inner, inner_len, sig))
        j = json_loadb(inner, inner_len, JSON_REJECT_DUPLICATES, NULL);
    sk_X509_pop_free(chain, X509_free);
    return j;
}

static void
test_the_collateral_has_exactly_the_seven_members_of_api_section_1(void **state)
{
    struct fixture *f = *state;
    const char *keys[] = {"tcb_info",
                          "qe_identity",
                          "tcb_info_issuer_chain",
                          "qe_identity_issuer_chain",
                          "pck_crl_issuer_chain",
                          "pck_crl",
                          "root_ca_crl"};

    assert_int_equal(json_object_size(f->obj), 7);
    for (size_t i = 0; i < 7; i++)
        assert_non_null(member(f, keys[i]));
}

static void
test_the_tcb_info_signature_verifies_over_the_exact_inner_bytes(void **state)
{
    struct fixture *f = *state;
    json_t *tcb = signed_inner(f, "tcb_info", "tcbInfo");

    assert_non_null(tcb);
    assert_string_equal(json_string_value(json_object_get(tcb, "id")), "SGX");
    assert_int_equal(json_integer_value(json_object_get(tcb, "version")), 3);
    assert_string_equal(json_string_value(json_object_get(tcb, "fmspc")), "CA55E1000000");
    assert_string_equal(json_string_value(json_object_get(tcb, "pceId")), "0000");
    assert_string_equal(json_string_value(json_object_get(tcb, "issueDate")),
                        "2025-11-22T00:00:00Z");
    assert_string_equal(json_string_value(json_object_get(tcb, "nextUpdate")),
                        "2025-12-22T00:00:00Z");
    json_decref(tcb);
}

static void
test_a_changed_byte_of_the_tcb_info_breaks_its_signature(void **state)
{
    struct fixture *f = *state;
    char *copy = strdup(member(f, "tcb_info"));
    char *p = strstr(copy, "\"pcesvn\":13");
    const char *inner;
    size_t inner_len;
    uint8_t sig[64];
    STACK_OF(X509) * chain;

    assert_non_null(p);
    p[10] = '4'; /* pcesvn 14 */
    assert_true(pcs_inner(copy, "tcbInfo", &inner, &inner_len, sig));
    chain = certs_from_pem(member(f, "tcb_info_issuer_chain"),
                           strlen(member(f, "tcb_info_issuer_chain")));
    assert_false(verify_raw_sig(X509_get0_pubkey(sk_X509_value(chain, 0)), inner, inner_len, sig));
    sk_X509_pop_free(chain, X509_free);
    free(copy);
}

static void
test_the_qe_identity_signature_verifies_and_matches_the_qe_report(void **state)
{
    struct fixture *f = *state;
    json_t *qe = signed_inner(f, "qe_identity", "enclaveIdentity"), *level;
    char mrsigner[65];
    uint8_t attributes[16], mask[16];
    const uint8_t *body = f->v.qe_body;

    assert_non_null(qe);
    assert_string_equal(json_string_value(json_object_get(qe, "id")), "QE");
    assert_int_equal(json_integer_value(json_object_get(qe, "version")), 2);
    cas_hex_encode(body + 128, 32, mrsigner);
    assert_int_equal(strcasecmp(json_string_value(json_object_get(qe, "mrsigner")), mrsigner), 0);
    assert_int_equal(json_integer_value(json_object_get(qe, "isvprodid")),
                     body[256] | body[257] << 8);
    hex_to_bytes(json_string_value(json_object_get(qe, "attributes")), attributes, 16);
    hex_to_bytes(json_string_value(json_object_get(qe, "attributesMask")), mask, 16);
    for (int i = 0; i < 16; i++)
        assert_int_equal(body[48 + i] & mask[i], attributes[i] & mask[i]);
    level = json_array_get(json_object_get(qe, "tcbLevels"), 0);
    assert_true((body[258] | body[259] << 8) >=
                json_integer_value(json_object_get(json_object_get(level, "tcb"), "isvsvn")));
    assert_string_equal(json_string_value(json_object_get(level, "tcbStatus")), "UpToDate");
    json_decref(qe);
}

static void
test_the_issuer_chains_verify_to_the_simulator_root(void **state)
{
    struct fixture *f = *state;
    const char *keys[] = {"tcb_info_issuer_chain", "qe_identity_issuer_chain",
                          "pck_crl_issuer_chain"};

    for (size_t i = 0; i < 3; i++) {
        STACK_OF(X509) *chain = certs_from_pem(member(f, keys[i]), strlen(member(f, keys[i])));
        assert_int_equal(sk_X509_num(chain), 2);
        assert_true(chain_verifies_to(chain, cas_tee_sim_root_pem()));
        sk_X509_pop_free(chain, X509_free);
    }
}

static X509_CRL *
crl_member(const struct fixture *f, const char *key)
{
    const char *b64 = member(f, key);
    size_t len = strlen(b64), der_len = 0;
    uint8_t *der = malloc(len);
    const uint8_t *p = der;
    X509_CRL *crl = NULL;

    if (cas_b64_decode(b64, len, der, len, &der_len, false))
        crl = d2i_X509_CRL(NULL, &p, (long)der_len);
    free(der);
    return crl;
}

static void
check_crl(X509_CRL *crl, X509 *issuer)
{
    STACK_OF(X509_REVOKED) *revoked = X509_CRL_get_REVOKED(crl);

    assert_int_equal(X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(issuer)), 0);
    assert_int_equal(X509_CRL_verify(crl, X509_get0_pubkey(issuer)), 1);
    assert_int_equal(ASN1_TIME_cmp_time_t(X509_CRL_get0_lastUpdate(crl), DAY_START), 0);
    assert_int_equal(ASN1_TIME_cmp_time_t(X509_CRL_get0_nextUpdate(crl), NEXT_UPDATE), 0);
    assert_true(revoked == NULL || sk_X509_REVOKED_num(revoked) == 0);
}

static void
test_the_crls_are_empty_signed_by_their_ca_and_valid_for_30_days(void **state)
{
    struct fixture *f = *state;
    STACK_OF(X509) *chain = certs_from_pem(member(f, "pck_crl_issuer_chain"),
                                           strlen(member(f, "pck_crl_issuer_chain")));
    X509_CRL *pck_crl = crl_member(f, "pck_crl"), *root_crl = crl_member(f, "root_ca_crl");

    assert_non_null(pck_crl);
    assert_non_null(root_crl);
    check_crl(pck_crl, sk_X509_value(chain, 0));
    check_crl(root_crl, sk_X509_value(chain, 1));
    X509_CRL_free(pck_crl);
    X509_CRL_free(root_crl);
    sk_X509_pop_free(chain, X509_free);
}

static int
svn_at(json_t *level, size_t i)
{
    json_t *comps = json_object_get(json_object_get(level, "tcb"), "sgxtcbcomponents");
    return (int)json_integer_value(json_object_get(json_array_get(comps, i), "svn"));
}

static int
pcesvn_of(json_t *level)
{
    return (int)json_integer_value(json_object_get(json_object_get(level, "tcb"), "pcesvn"));
}

/*
 * Intel's matching (PCK certificate and TCB info spec, "TCB status"): the first level, in the
 * order listed, whose 16 SGX components are all <= the platform's and whose PCESVN is <= the
 * platform's. The platform's components are the quote's CPUSVN (test_sim_pki.c shows the PCK
 * certificate carries the same bytes) and its PCESVN the quote header's.
 */
static json_t *
matching_level(json_t *levels, const uint8_t cpusvn[16], int pcesvn)
{
    for (size_t l = 0; l < json_array_size(levels); l++) {
        json_t *level = json_array_get(levels, l);
        bool ok = pcesvn >= pcesvn_of(level);
        for (size_t i = 0; i < 16 && ok; i++)
            ok = cpusvn[i] >= svn_at(level, i);
        if (ok)
            return level;
    }
    return NULL;
}

/* PCS lists levels newest first: each level's SVNs are <= the one before, its date earlier. */
static void
check_level_order(json_t *levels)
{
    for (size_t l = 1; l < json_array_size(levels); l++) {
        json_t *a = json_array_get(levels, l - 1), *b = json_array_get(levels, l);
        assert_true(pcesvn_of(b) <= pcesvn_of(a));
        for (size_t i = 0; i < 16; i++)
            assert_true(svn_at(b, i) <= svn_at(a, i));
        assert_true(strcmp(json_string_value(json_object_get(b, "tcbDate")),
                           json_string_value(json_object_get(a, "tcbDate"))) < 0);
    }
}

static void
test_each_configured_status_is_the_status_of_the_first_matching_level(void **state)
{
    const struct fixture *group = *state;
    struct fixture mine = {.dir = group->dir}, *f = &mine; /* leaves the group's fixture alone */

    for (int s = 0; s < CAS_TEE_TCB_STATUS_COUNT; s++) {
        struct cas_tee_sim_config cfg;
        struct cas_err err = {0};
        json_t *tcb, *levels, *level, *ids;

        unload(f);
        cas_tee_sim_config_init(&cfg);
        cfg.tcb_status = (enum cas_tee_tcb_status)s;
        cas_tee_sim_config_clear_advisories(&cfg);
        assert_int_equal(cas_tee_sim_config_add_advisory(&cfg, "INTEL-SA-01000", &err), CAS_OK);
        assert_int_equal(cas_tee_sim_config_add_advisory(&cfg, "INTEL-SA-01001", &err), CAS_OK);
        assert_int_equal(load(f, &cfg), 0);
        tcb = signed_inner(f, "tcb_info", "tcbInfo");
        assert_non_null(tcb);
        levels = json_object_get(tcb, "tcbLevels");
        check_level_order(levels);
        level = matching_level(levels, f->v.body, f->v.pce_svn);
        assert_non_null(level);
        assert_string_equal(json_string_value(json_object_get(level, "tcbStatus")),
                            cas_tee_tcb_status_name((enum cas_tee_tcb_status)s));
        ids = json_object_get(level, "advisoryIDs");
        assert_int_equal(json_array_size(ids), 2);
        assert_string_equal(json_string_value(json_array_get(ids, 0)), "INTEL-SA-01000");
        assert_string_equal(json_string_value(json_array_get(ids, 1)), "INTEL-SA-01001");
        if (s != CAS_TEE_TCB_UP_TO_DATE) /* a newer level exists or the platform's is the top */
            assert_true(json_array_size(levels) >= 2);
        json_decref(tcb);
    }
    unload(f);
}

static void
test_the_default_is_out_of_date_with_the_two_published_advisories(void **state)
{
    struct fixture *f = *state;
    json_t *tcb = signed_inner(f, "tcb_info", "tcbInfo");
    json_t *level = matching_level(json_object_get(tcb, "tcbLevels"), f->v.body, f->v.pce_svn);
    json_t *ids = json_object_get(level, "advisoryIDs");

    assert_string_equal(json_string_value(json_object_get(level, "tcbStatus")), "OutOfDate");
    assert_int_equal(json_array_size(ids), 2);
    assert_string_equal(json_string_value(json_array_get(ids, 0)), "INTEL-SA-00828");
    assert_string_equal(json_string_value(json_array_get(ids, 1)), "INTEL-SA-00837");
    json_decref(tcb);
}

static void
test_the_collateral_is_signed_once_a_day_and_anew_the_next_day(void **state)
{
    struct fixture *f = *state;
    struct cas_err err = {0};
    char *again = NULL, *tomorrow = NULL;
    size_t again_len = 0, tomorrow_len = 0;

    /* ECDSA signatures are randomised: equal bytes mean the cache answered. */
    assert_int_equal(cas_tee_sim_collateral(f->sim, DAY_START + 86399, &again, &again_len, &err),
                     CAS_OK);
    assert_int_equal(again_len, f->json_len);
    assert_memory_equal(again, f->json, again_len);
    assert_int_equal(
        cas_tee_sim_collateral(f->sim, DAY_START + 86400, &tomorrow, &tomorrow_len, &err), CAS_OK);
    assert_non_null(strstr(tomorrow, "2025-11-23T00:00:00Z"));
    assert_null(strstr(tomorrow, "2025-11-22T00:00:00Z"));
    free(again);
    free(tomorrow);
}

static void
test_a_time_outside_the_four_digit_years_is_refused(void **state)
{
    struct fixture *f = *state;
    struct cas_err err = {0};
    char *json = NULL;
    size_t len = 0;

    assert_int_equal(cas_tee_sim_collateral(f->sim, -1, &json, &len, &err), CAS_E_INVALID);
    assert_null(json);
    assert_int_equal(cas_tee_sim_collateral(f->sim, INT64_C(253399622401), &json, &len, &err),
                     CAS_E_INVALID);
    assert_non_null(strstr(err.msg[0], "outside"));
    assert_int_equal(cas_tee_sim_collateral(f->sim, INT64_C(253399622400), &json, &len, &err),
                     CAS_OK);
    assert_non_null(strstr(json, "9999-12-31T00:00:00Z")); /* nextUpdate */
    free(json);
}

static void
test_the_directory_writer_lays_out_a_testdata_case(void **state)
{
    struct fixture *f = *state;
    struct cas_err err = {0};
    char dir[4200], path[4300];
    const char *files[][2] = {{"tcb_info.json", "tcb_info"},
                              {"qe_identity.json", "qe_identity"},
                              {"tcb_info_issuer_chain.pem", "tcb_info_issuer_chain"},
                              {"qe_identity_issuer_chain.pem", "qe_identity_issuer_chain"},
                              {"pck_crl_issuer_chain.pem", "pck_crl_issuer_chain"}};
    uint8_t *p;
    size_t len;
    const uint8_t *der;

    snprintf(dir, sizeof(dir), "%s/case", f->dir);
    assert_int_equal(
        cas_tee_collateral_write_dir(dir, f->quote, f->quote_len, f->json, f->json_len, &err),
        CAS_OK);
    snprintf(path, sizeof(path), "%s/quote.bin", dir);
    p = read_file(path, &len);
    assert_int_equal(len, f->quote_len);
    assert_memory_equal(p, f->quote, len);
    free(p);
    for (size_t i = 0; i < 5; i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, files[i][0]);
        p = read_file(path, &len);
        assert_non_null(p);
        assert_string_equal((char *)p, member(f, files[i][1]));
        free(p);
    }
    snprintf(path, sizeof(path), "%s/pck_crl.der", dir);
    p = read_file(path, &len);
    der = p;
    X509_CRL *crl = d2i_X509_CRL(NULL, &der, (long)len);
    assert_non_null(crl);
    X509_CRL_free(crl);
    free(p);
    snprintf(path, sizeof(path), "%s/root_ca_crl.der", dir);
    p = read_file(path, &len);
    der = p;
    crl = d2i_X509_CRL(NULL, &der, (long)len);
    assert_non_null(crl);
    X509_CRL_free(crl);
    free(p);
}

/* Writes f's quote with the collateral copy (consumed) into f->dir/sub. */
static cas_rc
write_mutated(const struct fixture *f, json_t *copy, const char *sub, struct cas_err *err)
{
    char dir[4200], *text = json_dumps(copy, JSON_COMPACT);
    cas_rc rc;

    snprintf(dir, sizeof(dir), "%s/%s", f->dir, sub);
    rc = cas_tee_collateral_write_dir(dir, f->quote, f->quote_len, text, strlen(text), err);
    free(text);
    json_decref(copy);
    return rc;
}

static void
test_the_directory_writer_refuses_collateral_without_a_member(void **state)
{
    struct fixture *f = *state;
    struct cas_err err = {0};
    json_t *copy = json_deep_copy(f->obj);

    json_object_del(copy, "root_ca_crl");
    assert_int_equal(write_mutated(f, copy, "missing", &err), CAS_E_INVALID);
    assert_non_null(strstr(err.msg[0], "'root_ca_crl'"));
}

static void
test_the_directory_writer_refuses_a_crl_that_is_not_base64(void **state)
{
    struct fixture *f = *state;
    struct cas_err err = {0};
    json_t *copy = json_deep_copy(f->obj);

    json_object_set_new(copy, "pck_crl", json_string("not base64!"));
    assert_int_equal(write_mutated(f, copy, "badcrl", &err), CAS_E_INVALID);
    assert_non_null(strstr(err.msg[0], "base64"));
}

static void
test_the_directory_writer_refuses_text_that_is_not_a_json_object(void **state)
{
    struct fixture *f = *state;
    struct cas_err err = {0};
    char dir[4200];

    snprintf(dir, sizeof(dir), "%s/notjson", f->dir);
    assert_int_equal(cas_tee_collateral_write_dir(dir, f->quote, f->quote_len, "[1]", 3, &err),
                     CAS_E_INVALID);
    assert_int_equal(
        cas_tee_collateral_write_dir(dir, f->quote, f->quote_len, "{\"a\":1,\"a\":2}", 13, &err),
        CAS_E_INVALID);
    assert_int_equal(cas_tee_collateral_write_dir(dir, f->quote, f->quote_len, "{", 1, &err),
                     CAS_E_INVALID);
}

static void
test_status_names_round_trip_and_unknown_ones_are_refused(void **state)
{
    struct cas_err err = {0};
    enum cas_tee_tcb_status s;
    (void)state;

    for (int i = 0; i < CAS_TEE_TCB_STATUS_COUNT; i++) {
        assert_int_equal(
            cas_tee_tcb_status_parse(cas_tee_tcb_status_name((enum cas_tee_tcb_status)i), &s, &err),
            CAS_OK);
        assert_int_equal(s, i);
    }
    assert_int_equal(cas_tee_tcb_status_parse("outofdate", &s, &err), CAS_E_INVALID);
    assert_non_null(strstr(err.msg[0], "'outofdate'"));
    assert_null(cas_tee_tcb_status_name((enum cas_tee_tcb_status)CAS_TEE_TCB_STATUS_COUNT));
}

static void
test_advisory_ids_are_checked_and_bounded(void **state)
{
    struct cas_tee_sim_config cfg;
    struct cas_err err = {0};
    char long_id[80];
    (void)state;

    cas_tee_sim_config_init(&cfg);
    assert_int_equal(cfg.advisory_count, 2);
    assert_int_equal(cas_tee_sim_config_add_advisory(&cfg, "INTEL-SA-\"1", &err), CAS_E_INVALID);
    assert_int_equal(cas_tee_sim_config_add_advisory(&cfg, "", &err), CAS_E_INVALID);
    memset(long_id, 'A', sizeof(long_id) - 1);
    long_id[sizeof(long_id) - 1] = '\0';
    assert_int_equal(cas_tee_sim_config_add_advisory(&cfg, long_id, &err), CAS_E_INVALID);
    cas_tee_sim_config_clear_advisories(&cfg);
    for (int i = 0; i < CAS_TEE_SIM_MAX_ADVISORIES; i++)
        assert_int_equal(cas_tee_sim_config_add_advisory(&cfg, "INTEL-SA-00001", &err), CAS_OK);
    assert_int_equal(cas_tee_sim_config_add_advisory(&cfg, "INTEL-SA-00001", &err), CAS_E_INVALID);
    assert_int_equal(cfg.advisory_count, CAS_TEE_SIM_MAX_ADVISORIES);
}

static void
test_a_hand_filled_config_with_a_bad_status_or_advisory_is_refused(void **state)
{
    const struct fixture *f = *state;
    struct cas_tee_sim_config cfg;
    struct cas_tee_sim *sim;

    cas_tee_sim_config_init(&cfg);
    cfg.tcb_status = (enum cas_tee_tcb_status)CAS_TEE_TCB_STATUS_COUNT;
    assert_null(sim_on_machine(f->dir, "id\n", &cfg));
    cas_tee_sim_config_init(&cfg);
    memset(cfg.advisories[1], 'A', CAS_TEE_SIM_ADVISORY_LEN); /* no terminator */
    assert_null(sim_on_machine(f->dir, "id\n", &cfg));
    cas_tee_sim_config_init(&cfg);
    cfg.advisory_count = CAS_TEE_SIM_MAX_ADVISORIES + 1;
    assert_null(sim_on_machine(f->dir, "id\n", &cfg));
    cas_tee_sim_config_init(&cfg);
    sim = sim_on_machine(f->dir, "id\n", &cfg); /* the same config, valid again */
    assert_non_null(sim);
    cas_tee_sim_free(sim);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_collateral_has_exactly_the_seven_members_of_api_section_1),
        cmocka_unit_test(test_the_tcb_info_signature_verifies_over_the_exact_inner_bytes),
        cmocka_unit_test(test_a_changed_byte_of_the_tcb_info_breaks_its_signature),
        cmocka_unit_test(test_the_qe_identity_signature_verifies_and_matches_the_qe_report),
        cmocka_unit_test(test_the_issuer_chains_verify_to_the_simulator_root),
        cmocka_unit_test(test_the_crls_are_empty_signed_by_their_ca_and_valid_for_30_days),
        cmocka_unit_test(test_each_configured_status_is_the_status_of_the_first_matching_level),
        cmocka_unit_test(test_the_default_is_out_of_date_with_the_two_published_advisories),
        cmocka_unit_test(test_the_collateral_is_signed_once_a_day_and_anew_the_next_day),
        cmocka_unit_test(test_a_time_outside_the_four_digit_years_is_refused),
        cmocka_unit_test(test_the_directory_writer_lays_out_a_testdata_case),
        cmocka_unit_test(test_the_directory_writer_refuses_collateral_without_a_member),
        cmocka_unit_test(test_the_directory_writer_refuses_a_crl_that_is_not_base64),
        cmocka_unit_test(test_the_directory_writer_refuses_text_that_is_not_a_json_object),
        cmocka_unit_test(test_status_names_round_trip_and_unknown_ones_are_refused),
        cmocka_unit_test(test_advisory_ids_are_checked_and_bounded),
        cmocka_unit_test(test_a_hand_filled_config_with_a_bad_status_or_advisory_is_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

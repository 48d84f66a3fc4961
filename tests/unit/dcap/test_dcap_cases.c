/*
 * test_dcap_cases.c - every real quote in tests/data/dcap verified at its recorded time
 * gives the reference verdict of its case.json (Intel QVL); every ready-made negative case
 * fails the check its expect.json names; and the negatives NEGATIVE.md asks us to derive
 * (expiry of each item, collateral of another platform or TEE, re-serialised or tampered
 * signed JSON, an untrusted root) are refused for the right reason. Folders are walked at run
 * time, so a case added later is tested without a change here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "util/alloc.h"

struct run {
    uint8_t *quote;
    size_t quote_len;
    struct cas_dcap_collateral col;
    struct cas_dcap_verdict verdict;
    struct cas_err err;
    cas_rc rc;
};

static void
run_free(struct run *r)
{
    free(r->quote);
    cas_dcap_collateral_release(&r->col);
}

/* Loads dir's quote and collateral and verifies them at `at` with v. */
static void
run_case(struct cas_dcap_verifier *v, const char *dir, int64_t at, struct run *r)
{
    char p[4096];
    struct cas_err err = {0};

    memset(r, 0, sizeof(*r));
    fx_path(p, dir, "quote.bin");
    r->quote = fx_read(p, &r->quote_len);
    assert_non_null(r->quote);
    assert_int_equal(cas_dcap_collateral_from_dir(dir, &r->col, &err), CAS_OK);
    r->rc = cas_dcap_verify(v, r->quote, r->quote_len, &r->col, at, &r->verdict, &r->err);
}

static int64_t
case_time(const json_t *doc)
{
    return (int64_t)json_integer_value(
        json_object_get(json_object_get(doc, "verification_time"), "unix"));
}

static const char *
jstr(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* Every measurement case.json's `report` records equals the verdict's. */
static void
check_report(const char *name, const json_t *rep, const struct cas_dcap_verdict *v)
{
    const struct cas_quote *q = &v->quote;
    int bad = 0;

    if (q->body_type == CAS_DCAP_BODY_SGX) {
        bad += !fx_hex_eq(q->sgx.mrenclave, 32, jstr(rep, "mrenclave"));
        bad += !fx_hex_eq(q->sgx.mrsigner, 32, jstr(rep, "mrsigner"));
        bad += !fx_hex_eq(q->sgx.attributes, 16, jstr(rep, "attributes"));
        bad += !fx_hex_eq(q->sgx.report_data, 64, jstr(rep, "report_data"));
        bad += !fx_hex_eq(q->sgx.cpusvn, 16, jstr(rep, "cpusvn"));
        bad += q->sgx.isvprodid != json_integer_value(json_object_get(rep, "isvprodid"));
        bad += q->sgx.isvsvn != json_integer_value(json_object_get(rep, "isvsvn"));
        bad += q->sgx.miscselect != json_integer_value(json_object_get(rep, "miscselect"));
    } else {
        static const char *const rt[] = {"rtmr0", "rtmr1", "rtmr2", "rtmr3"};
        bad += !fx_hex_eq(q->td.tee_tcb_svn, 16, jstr(rep, "tee_tcb_svn"));
        bad += !fx_hex_eq(q->td.mrseam, 48, jstr(rep, "mrseam"));
        bad += !fx_hex_eq(q->td.mrsignerseam, 48, jstr(rep, "mrsignerseam"));
        bad += !fx_hex_eq(q->td.seam_attributes, 8, jstr(rep, "seam_attributes"));
        bad += !fx_hex_eq(q->td.td_attributes, 8, jstr(rep, "td_attributes"));
        bad += !fx_hex_eq(q->td.xfam, 8, jstr(rep, "xfam"));
        bad += !fx_hex_eq(q->td.mrtd, 48, jstr(rep, "mrtd"));
        bad += !fx_hex_eq(q->td.mrconfigid, 48, jstr(rep, "mrconfigid"));
        bad += !fx_hex_eq(q->td.mrowner, 48, jstr(rep, "mrowner"));
        bad += !fx_hex_eq(q->td.mrownerconfig, 48, jstr(rep, "mrownerconfig"));
        for (int i = 0; i < 4; i++)
            bad += !fx_hex_eq(q->td.rtmr[i], 48, jstr(rep, rt[i]));
        bad += !fx_hex_eq(q->td.report_data, 64, jstr(rep, "report_data"));
        if (q->body_type == CAS_DCAP_BODY_TD15) {
            bad += !fx_hex_eq(q->td.tee_tcb_svn2, 16, jstr(rep, "tee_tcb_svn2"));
            bad += !fx_hex_eq(q->td.mrservicetd, 48, jstr(rep, "mr_servicetd"));
        }
    }
    bad += v->debug != json_is_true(json_object_get(rep, "debug"));
    if (bad != 0)
        fail_msg("%s: %d measurement(s) differ from case.json", name, bad);
}

static bool
advisories_equal(const struct cas_dcap_advisories *a, const json_t *want)
{
    if (a->count != json_array_size(want))
        return false;
    for (size_t i = 0; i < json_array_size(want); i++) {
        bool found = false;
        for (unsigned k = 0; k < a->count; k++)
            found = found || strcmp(a->id[k], json_string_value(json_array_get(want, i))) == 0;
        if (!found)
            return false;
    }
    return true;
}

/* The matched level's date equals Intel QvE's tcb_level_date_tag, where the case records it. */
static void
check_tcb_date(const char *name, const json_t *doc, const struct cas_dcap_verdict *v)
{
    const json_t *qvl = json_object_get(json_object_get(doc, "intel_qvl"), "qvl_verify_quote");
    const char *tag = jstr(qvl, "tcb_level_date_tag");
    int64_t want;

    if (tag == NULL)
        return;
    assert_true(cas_dcap_time_parse(tag, strlen(tag), false, &want));
    if (v->tcb_date != want)
        fail_msg("%s: matched a level of another date than Intel QvE's %s", name, tag);
}

static void
check_case(struct cas_dcap_verifier *v, const char *dir, bool warm)
{
    char p[4096], msg[2048];
    const char *name = strrchr(dir, '/') + 1;
    json_t *doc;
    const json_t *ref;
    struct run r;

    fx_path(p, dir, "case.json");
    assert_non_null(doc = fx_json(p));
    ref = json_object_get(doc, "reference");
    run_case(v, dir, case_time(doc), &r);
    cas_err_join(&r.err, msg, sizeof(msg));
    assert_non_null(r.verdict.evidence_type);
    check_report(name, json_object_get(doc, "report"), &r.verdict);
    assert_int_equal(r.verdict.quote.version,
                     json_integer_value(json_object_get(doc, "quote_version")));
    if (strcmp(jstr(ref, "result"), "ok") == 0) {
        if (r.rc != CAS_OK)
            fail_msg("%s: want %s, got failure: %s", name, jstr(ref, "tcb_status"), msg);
        if (strcmp(cas_dcap_status_name(r.verdict.status), jstr(ref, "tcb_status")) != 0)
            fail_msg("%s: want %s, got %s", name, jstr(ref, "tcb_status"),
                     cas_dcap_status_name(r.verdict.status));
        if (!advisories_equal(&r.verdict.advisories, json_object_get(ref, "advisory_ids")))
            fail_msg("%s: advisories differ (%u here)", name, r.verdict.advisories.count);
        assert_true(fx_hex_eq(r.verdict.fmspc, 6, jstr(doc, "fmspc")));
        assert_string_equal(r.verdict.root, "Intel SGX Root CA");
        assert_true(r.verdict.collateral_expires > case_time(doc));
        assert_int_equal(r.verdict.qe_status, CAS_DCAP_UP_TO_DATE); /* QE OK in every case */
        check_tcb_date(name, doc, &r.verdict);
    } else {
        /* The only reference error in the set: no TCB level matches (TcbNotSupported). */
        assert_non_null(strstr(jstr(ref, "error"), "TcbNotSupported"));
        if (r.rc == CAS_OK || r.verdict.failed != CAS_DCAP_CHECK_TCB_LEVEL ||
            strstr(msg, "TcbNotSupported") == NULL)
            fail_msg("%s: want TcbNotSupported at tcb-level, got %s: %s", name,
                     cas_dcap_check_name(r.verdict.failed), msg);
    }
    print_message("%-34s %s %-34s %s\n", name, warm ? "warm" : "cold",
                  r.rc == CAS_OK ? cas_dcap_status_name(r.verdict.status)
                                 : cas_dcap_check_name(r.verdict.failed),
                  r.rc == CAS_OK ? "" : msg);
    run_free(&r);
    json_decref(doc);
}

/* Cold with a fresh verifier, then warm: the second run hits both cache entries. */
static void
test_every_real_case_gets_the_intel_reference_verdict_cold_and_warm(void **state)
{
    unsigned long hits, misses;
    char **dirs;
    size_t n = fx_list(DCAP_DIR, "case.json", &dirs);
    (void)state;

    assert_true(n >= 13);
    for (size_t i = 0; i < n; i++) {
        struct cas_dcap_verifier *v = fx_intel_verifier();
        check_case(v, dirs[i], false);
        cas_dcap_verifier_stats(v, &hits, &misses);
        assert_int_equal(hits, 0);
        check_case(v, dirs[i], true);
        cas_dcap_verifier_stats(v, &hits, &misses);
        assert_int_equal(hits, 2); /* the PCK chain and the collateral */
        cas_dcap_verifier_free(v);
    }
    fx_list_free(dirs, n);
}

/* An entry asked for past its window is dropped: the next use at a valid time rebuilds it. */
static void
test_a_cache_entry_is_dropped_once_asked_for_after_its_next_update(void **state)
{
    struct cas_dcap_verifier *v = fx_intel_verifier();
    unsigned long hits, misses;
    struct run r;
    (void)state;

    run_case(v, DCAP_DIR "/phala-sgx-v3", 1751623200, &r);
    assert_int_equal(r.rc, CAS_OK);
    r.rc = cas_dcap_verify(v, r.quote, r.quote_len, &r.col, 1751623200, &r.verdict, &r.err);
    cas_dcap_verifier_stats(v, &hits, &misses);
    assert_int_equal(hits, 2);
    /* 2025-07-20: past every nextUpdate of this collateral */
    r.rc = cas_dcap_verify(v, r.quote, r.quote_len, &r.col, 1753000000, &r.verdict, &r.err);
    assert_int_not_equal(r.rc, CAS_OK);
    r.rc = cas_dcap_verify(v, r.quote, r.quote_len, &r.col, 1751623200, &r.verdict, &r.err);
    assert_int_equal(r.rc, CAS_OK);
    cas_dcap_verifier_stats(v, &hits, &misses);
    /* The late call dropped the PCK entry (its CRL had expired) and stopped there, so the
     * collateral entry was never asked for late: it still hits, the PCK chain is rebuilt. */
    assert_int_equal(hits, 3);
    assert_int_equal(misses, 4);
    run_free(&r);
    cas_dcap_verifier_free(v);
}

/* Where needle's bytes first sit in hay, or -1. */
static long
offset_of(const uint8_t *hay, size_t hay_len, const uint8_t *needle, size_t len)
{
    for (size_t i = 0; i + len <= hay_len; i++) {
        if (memcmp(hay + i, needle, len) == 0)
            return (long)i;
    }
    return -1;
}

/* A warm entry skips the QE report's ECDSA check only for the very report and signature it
 * verified: one changed byte in either is verified, and refused. */
static void
test_a_warm_verifier_still_refuses_a_changed_qe_report_or_signature(void **state)
{
    struct cas_dcap_verifier *v = fx_intel_verifier();
    const int64_t at = 1751623200;
    struct cas_dcap_verdict vd;
    struct cas_err err = {0};
    struct run r;
    long sig, rep;
    uint8_t *bad;
    (void)state;

    run_case(v, DCAP_DIR "/phala-sgx-v3", at, &r);
    assert_int_equal(r.rc, CAS_OK);
    sig = offset_of(r.quote, r.quote_len, r.verdict.quote.qe_report_signature, 64);
    rep = offset_of(r.quote, r.quote_len, r.verdict.quote.qe_report_bytes.buf, 384);
    assert_true(sig > 0 && rep > 0);
    assert_non_null(bad = malloc(r.quote_len));
    for (int which = 0; which < 2; which++) {
        memcpy(bad, r.quote, r.quote_len);
        bad[which == 0 ? sig + 10 : rep + 100] ^= 0x01; /* rep + 100: a reserved byte */
        memset(&err, 0, sizeof(err));
        assert_int_not_equal(cas_dcap_verify(v, bad, r.quote_len, &r.col, at, &vd, &err), CAS_OK);
        assert_int_equal(vd.failed, CAS_DCAP_CHECK_QE_REPORT_SIGNATURE);
    }
    memset(&err, 0, sizeof(err));
    assert_int_equal(cas_dcap_verify(v, r.quote, r.quote_len, &r.col, at, &vd, &err), CAS_OK);
    free(bad);
    run_free(&r);
    cas_dcap_verifier_free(v);
}

/* Intel QVL's status for a negative case, as the check we name (NEGATIVE.md). */
static bool
check_matches_qvl(const char *qvl, enum cas_dcap_check got)
{
    static const struct {
        const char *qvl;
        enum cas_dcap_check check[3];
    } map[] = {
        {"STATUS_INVALID_QUOTE_SIGNATURE", {CAS_DCAP_CHECK_QUOTE_SIGNATURE}},
        {"STATUS_INVALID_QE_REPORT_SIGNATURE", {CAS_DCAP_CHECK_QE_REPORT_SIGNATURE}},
        {"STATUS_INVALID_QE_REPORT_DATA", {CAS_DCAP_CHECK_QE_REPORT_DATA}},
        {"STATUS_TCB_INFO_MISMATCH", {CAS_DCAP_CHECK_TCB_INFO_MISMATCH}},
        {"STATUS_SGX_CRL_UNKNOWN_ISSUER", {CAS_DCAP_CHECK_PCK_CRL, CAS_DCAP_CHECK_ROOT_CA_CRL}},
        {"STATUS_SGX_CRL_EXPIRED", {CAS_DCAP_CHECK_PCK_CRL, CAS_DCAP_CHECK_ROOT_CA_CRL}},
        {"STATUS_SGX_TCB_INFO_EXPIRED", {CAS_DCAP_CHECK_TCB_INFO}},
        {"STATUS_SGX_ENCLAVE_IDENTITY_EXPIRED", {CAS_DCAP_CHECK_QE_IDENTITY}},
        {"STATUS_TCB_NOT_SUPPORTED", {CAS_DCAP_CHECK_TCB_LEVEL}},
    };

    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        if (strcmp(map[i].qvl, qvl) != 0)
            continue;
        for (int k = 0; k < 3; k++) {
            if (map[i].check[k] != CAS_DCAP_CHECK_NONE && map[i].check[k] == got)
                return true;
        }
        return false;
    }
    fail_msg("Intel QVL status %s has no check in this test's map: add it", qvl);
    return false;
}

static void
test_every_ready_made_negative_case_fails_the_check_intel_names(void **state)
{
    struct cas_dcap_verifier *v = fx_intel_verifier();
    char **dirs;
    size_t n = fx_list(DCAP_DIR "/negative", "expect.json", &dirs);
    (void)state;

    assert_true(n >= 13);
    for (size_t i = 0; i < n; i++) {
        char p[4096], msg[2048];
        const char *name = strrchr(dirs[i], '/') + 1, *qvl;
        json_t *doc;
        struct run r;
        fx_path(p, dirs[i], "expect.json");
        assert_non_null(doc = fx_json(p));
        qvl = jstr(json_object_get(doc, "intel_qvl"), "status");
        run_case(v, dirs[i], case_time(doc), &r);
        cas_err_join(&r.err, msg, sizeof(msg));
        print_message("%-38s %-20s %s\n", name, cas_dcap_check_name(r.verdict.failed), msg);
        if (r.rc == CAS_OK)
            fail_msg("%s: accepted (%s), want %s", name, cas_dcap_status_name(r.verdict.status),
                     qvl);
        if (!check_matches_qvl(qvl, r.verdict.failed))
            fail_msg("%s: failed '%s', Intel QVL says %s", name,
                     cas_dcap_check_name(r.verdict.failed), qvl);
        assert_non_null(strstr(msg, cas_dcap_check_name(r.verdict.failed)));
        run_free(&r);
        json_decref(doc);
    }
    fx_list_free(dirs, n);
    cas_dcap_verifier_free(v);
}

static bool
is_time_check(enum cas_dcap_check c)
{
    return c == CAS_DCAP_CHECK_PCK_CHAIN || c == CAS_DCAP_CHECK_ROOT_CA_CRL ||
           c == CAS_DCAP_CHECK_PCK_CRL || c == CAS_DCAP_CHECK_TCB_INFO ||
           c == CAS_DCAP_CHECK_QE_IDENTITY;
}

static void
expect_refused_at(struct cas_dcap_verifier *v, const char *dir, int64_t at, const char *why)
{
    char msg[2048];
    struct run r;

    run_case(v, dir, at, &r);
    cas_err_join(&r.err, msg, sizeof(msg));
    if (r.rc == CAS_OK || !is_time_check(r.verdict.failed) ||
        (strstr(msg, "not valid at") == NULL && strstr(msg, "expired") == NULL &&
         strstr(msg, "not yet valid") == NULL))
        fail_msg("%s at %lld (%s): want a validity failure, got %s: %s", dir, (long long)at, why,
                 cas_dcap_check_name(r.verdict.failed), msg);
    run_free(&r);
}

static int64_t
json_time(const json_t *o, const char *key)
{
    int64_t t = 0;
    const char *s = jstr(o, key);

    assert_non_null(s);
    assert_true(cas_dcap_time_parse(s, strlen(s), false, &t));
    return t;
}

/* Just outside the common window, and at each signed item's nextUpdate, every case fails. */
static void
test_collateral_outside_its_validity_is_refused_with_a_warm_cache(void **state)
{
    struct cas_dcap_verifier *v = fx_intel_verifier();
    char **dirs;
    size_t n = fx_list(DCAP_DIR, "case.json", &dirs);
    (void)state;

    for (size_t i = 0; i < n; i++) {
        char p[4096];
        json_t *doc;
        const json_t *win;
        struct run r;
        fx_path(p, dirs[i], "case.json");
        assert_non_null(doc = fx_json(p));
        win = json_object_get(doc, "collateral_common_validity_window");
        run_case(v, dirs[i], case_time(doc), &r); /* warm the cache first */
        run_free(&r);
        expect_refused_at(v, dirs[i], json_time(win, "to") + 1, "after the window");
        expect_refused_at(v, dirs[i], json_time(win, "from") - 1, "before the window");
        expect_refused_at(v, dirs[i], json_time(json_object_get(doc, "tcb_info"), "nextUpdate"),
                          "TCB info nextUpdate");
        expect_refused_at(v, dirs[i], json_time(json_object_get(doc, "qe_identity"), "nextUpdate"),
                          "QE identity nextUpdate");
        json_decref(doc);
    }
    fx_list_free(dirs, n);
    cas_dcap_verifier_free(v);
}

/* Replaces field f of a case's collateral with the same file of another case. */
static void
swap_field(struct run *r, const char *other, enum cas_dcap_field f)
{
    char p[4096];
    size_t len;
    uint8_t *data;
    struct cas_err err = {0};

    fx_path(p, other, cas_dcap_field_file(f));
    assert_non_null(data = fx_read(p, &len));
    assert_int_equal(cas_dcap_collateral_set(&r->col, f, data, len, &err), CAS_OK);
    assert_int_equal(cas_dcap_collateral_seal(&r->col, &err), CAS_OK);
    free(data);
}

static void
reverify(struct cas_dcap_verifier *v, struct run *r, int64_t at)
{
    memset(&r->err, 0, sizeof(r->err));
    r->rc = cas_dcap_verify(v, r->quote, r->quote_len, &r->col, at, &r->verdict, &r->err);
}

static void
expect_failed(const struct run *r, enum cas_dcap_check want, const char *words)
{
    char msg[2048];

    cas_err_join(&r->err, msg, sizeof(msg));
    if (r->rc == CAS_OK || r->verdict.failed != want || strstr(msg, words) == NULL)
        fail_msg("want '%s' (%s), got %s: %s", cas_dcap_check_name(want), words,
                 r->rc == CAS_OK ? "accepted" : cas_dcap_check_name(r->verdict.failed), msg);
}

static void
test_tcb_info_of_another_platform_is_refused_as_a_mismatch(void **state)
{
    struct cas_dcap_verifier *v = fx_intel_verifier();
    struct run r;
    const int64_t at = 1751011200; /* 2025-06-27: both cases' collateral is valid */
    (void)state;

    run_case(v, DCAP_DIR "/phala-sgx-v3", at, &r);
    assert_int_equal(r.rc, CAS_OK);
    swap_field(&r, DCAP_DIR "/automata-sgx-v3-tcbinfo-v2", CAS_DCAP_TCB_INFO);
    swap_field(&r, DCAP_DIR "/automata-sgx-v3-tcbinfo-v2", CAS_DCAP_TCB_INFO_ISSUER_CHAIN);
    reverify(v, &r, at);
    expect_failed(&r, CAS_DCAP_CHECK_TCB_INFO_MISMATCH, "FMSPC");
    run_free(&r);
    cas_dcap_verifier_free(v);
}

static void
test_an_sgx_qe_identity_in_a_tdx_case_is_refused(void **state)
{
    struct cas_dcap_verifier *v = fx_intel_verifier();
    struct run r;
    (void)state;

    run_case(v, DCAP_DIR "/phala-tdx-v4", 1751623200, &r);
    assert_int_equal(r.rc, CAS_OK);
    swap_field(&r, DCAP_DIR "/phala-sgx-v3", CAS_DCAP_QE_IDENTITY);
    reverify(v, &r, 1751623200);
    expect_failed(&r, CAS_DCAP_CHECK_QE_IDENTITY_MISMATCH, "TD_QE");
    run_free(&r);
    cas_dcap_verifier_free(v);
}

static void
test_a_processor_ca_crl_in_a_platform_ca_case_is_refused_for_its_issuer(void **state)
{
    struct cas_dcap_verifier *v = fx_intel_verifier();
    struct run r;
    (void)state;

    run_case(v, DCAP_DIR "/phala-tdx-v4", 1751623200, &r);
    swap_field(&r, DCAP_DIR "/phala-sgx-v3", CAS_DCAP_PCK_CRL);
    reverify(v, &r, 1751623200);
    expect_failed(&r, CAS_DCAP_CHECK_PCK_CRL, "issued by");
    run_free(&r);
    cas_dcap_verifier_free(v);
}

/* Rewrites a signed JSON body: pretty-printed, or one SVN changed. */
static void
rewrite_body(struct run *r, enum cas_dcap_field f, bool pretty)
{
    struct cas_err err = {0};
    char *text;

    if (pretty) {
        json_error_t jerr;
        json_t *doc = json_loadb((const char *)r->col.f[f].p, r->col.f[f].len, 0, &jerr);
        assert_non_null(doc);
        text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        json_decref(doc);
    } else {
        char *at;
        text = strdup((const char *)r->col.f[f].p);
        at = strstr(text, "\"isvsvn\":");
        if (at == NULL)
            at = strstr(text, "\"pcesvn\":");
        assert_non_null(at);
        at = strchr(at, ':') + 1;
        *at = *at == '9' ? '8' : (char)(*at + 1);
    }
    assert_int_equal(cas_dcap_collateral_set(&r->col, f, text, strlen(text), &err), CAS_OK);
    assert_int_equal(cas_dcap_collateral_seal(&r->col, &err), CAS_OK);
    free(text);
}

static void
test_reserialised_or_tampered_signed_json_fails_its_signature(void **state)
{
    static const struct {
        enum cas_dcap_field f;
        bool pretty;
        enum cas_dcap_check check;
    } cases[] = {
        {CAS_DCAP_TCB_INFO, true, CAS_DCAP_CHECK_TCB_INFO},
        {CAS_DCAP_TCB_INFO, false, CAS_DCAP_CHECK_TCB_INFO},
        {CAS_DCAP_QE_IDENTITY, true, CAS_DCAP_CHECK_QE_IDENTITY},
        {CAS_DCAP_QE_IDENTITY, false, CAS_DCAP_CHECK_QE_IDENTITY},
    };
    struct cas_dcap_verifier *v = fx_intel_verifier();
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct run r;
        run_case(v, DCAP_DIR "/phala-sgx-v3", 1751623200, &r);
        assert_int_equal(r.rc, CAS_OK);
        rewrite_body(&r, cases[i].f, cases[i].pretty);
        reverify(v, &r, 1751623200);
        expect_failed(&r, cases[i].check, "signature does not verify");
        run_free(&r);
    }
    cas_dcap_verifier_free(v);
}

static void
test_a_quote_is_refused_when_intel_is_not_a_trusted_root(void **state)
{
    struct cas_dcap_anchor other;
    struct cas_dcap_verifier *v = NULL;
    struct cas_err err = {0};
    struct run r;
    (void)state;

    memset(&other, 0, sizeof(other));
    memset(other.sha256, 0xab, 32);
    memcpy(other.name, "Some other root", sizeof("Some other root"));
    assert_int_equal(cas_dcap_verifier_new(&other, 1, &v, &err), CAS_OK);
    run_case(v, DCAP_DIR "/phala-sgx-v3", 1751623200, &r);
    expect_failed(&r, CAS_DCAP_CHECK_PCK_CHAIN, "not trusted");
    run_free(&r);
    cas_dcap_verifier_free(v);
}

static void
test_collateral_survives_the_json_form_byte_for_byte(void **state)
{
    struct cas_dcap_verifier *v = fx_intel_verifier();
    struct cas_dcap_collateral back;
    struct cas_err err = {0};
    char *json = NULL;
    struct run r;
    (void)state;

    run_case(v, DCAP_DIR "/phala-tdx-v4", 1751623200, &r);
    assert_int_equal(cas_dcap_collateral_to_json(&r.col, &json, &err), CAS_OK);
    assert_int_equal(cas_dcap_collateral_from_json(json, strlen(json), &back, &err), CAS_OK);
    assert_memory_equal(back.id, r.col.id, 32);
    cas_dcap_collateral_release(&r.col);
    r.col = back;
    reverify(v, &r, 1751623200);
    assert_int_equal(r.rc, CAS_OK);
    free(json);
    run_free(&r);
    cas_dcap_verifier_free(v);
}

static void
test_the_pinned_intel_root_is_the_certificate_in_testdata(void **state)
{
    struct cas_dcap_anchor pinned, file;
    struct cas_err err = {0};
    size_t len;
    uint8_t *pem = fx_read(DCAP_DIR "/intel-sgx-root-ca.pem", &len);
    (void)state;

    assert_non_null(pem);
    cas_dcap_anchor_intel(&pinned);
    assert_int_equal(cas_dcap_anchor_from_pem(pem, len, "Intel SGX Root CA", &file, &err), CAS_OK);
    assert_memory_equal(pinned.sha256, file.sha256, 32);
    assert_string_equal(pinned.name, file.name);
    assert_int_equal(cas_dcap_anchor_from_pem(pem, len, "", &file, &err), CAS_E_INVALID);
    free(pem);
}

static void
test_a_verdict_becomes_one_json_object_with_every_measurement(void **state)
{
    struct cas_dcap_verifier *v = fx_intel_verifier();
    json_t *j;
    struct run r;
    (void)state;

    run_case(v, DCAP_DIR "/phala-tdx-v4", 1751623200, &r);
    assert_int_equal(r.rc, CAS_OK);
    assert_non_null(j = cas_dcap_verdict_json(&r.verdict));
    assert_string_equal(jstr(j, "tcb_status"), "UpToDate");
    assert_string_equal(jstr(j, "evidence_type"), "tdx-v4");
    assert_string_equal(jstr(j, "verified_at"), "2025-07-04T10:00:00Z");
    assert_non_null(jstr(j, "collateral_valid_until"));
    assert_null(json_object_get(j, "failed_check"));
    assert_string_equal(jstr(json_object_get(j, "report"), "mrtd"),
                        "91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc"
                        "5f87f27428b2538873118b7");
    json_decref(j);
    reverify(v, &r, 1753000000); /* after nextUpdate */
    assert_non_null(j = cas_dcap_verdict_json(&r.verdict));
    assert_string_equal(jstr(j, "failed_check"), "pck-crl");
    assert_null(json_object_get(j, "tcb_status"));
    assert_null(json_object_get(j, "collateral_valid_until"));
    json_decref(j);
    run_free(&r);
    cas_dcap_verifier_free(v);
}

struct shared {
    struct cas_dcap_verifier *v;
    struct run sgx, tdx;
    int failures;
    pthread_mutex_t lock;
};

static void *
hammer(void *arg)
{
    struct shared *sh = arg;

    for (int i = 0; i < 40; i++) {
        struct cas_dcap_verdict verdict;
        struct cas_err err = {0};
        const struct run *r = i % 2 ? &sh->sgx : &sh->tdx;
        if (cas_dcap_verify(sh->v, r->quote, r->quote_len, &r->col, 1751623200, &verdict, &err) !=
                CAS_OK ||
            verdict.status != r->verdict.status) {
            pthread_mutex_lock(&sh->lock);
            sh->failures++;
            pthread_mutex_unlock(&sh->lock);
        }
    }
    return NULL;
}

/* One verifier, four threads, two platforms, a cold start: every verdict as single-threaded. */
static void
test_one_verifier_serves_many_threads_with_the_same_verdicts(void **state)
{
    struct shared sh = {.v = fx_intel_verifier(), .lock = PTHREAD_MUTEX_INITIALIZER};
    struct cas_dcap_verifier *single = fx_intel_verifier();
    pthread_t t[4];
    (void)state;

    run_case(single, DCAP_DIR "/phala-sgx-v3", 1751623200, &sh.sgx);
    run_case(single, DCAP_DIR "/phala-tdx-v4", 1751623200, &sh.tdx);
    assert_int_equal(sh.sgx.rc, CAS_OK);
    assert_int_equal(sh.tdx.rc, CAS_OK);
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, hammer, &sh), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(sh.failures, 0);
    run_free(&sh.sgx);
    run_free(&sh.tdx);
    cas_dcap_verifier_free(single);
    cas_dcap_verifier_free(sh.v);
}

/* Fails the 1st, 2nd, ... allocation of a cold verification: each is reported, none leaks. */
static void
test_every_allocation_failure_of_a_cold_verification_is_reported_cleanly(void **state)
{
    struct cas_dcap_verifier *loader = fx_intel_verifier();
    struct run r;
    cas_rc rc = CAS_E_NOMEM;
    long n;
    (void)state;

    run_case(loader, DCAP_DIR "/phala-tdx-v4", 1751623200, &r);
    cas_dcap_verifier_free(loader);
    for (n = 0; n < 1000 && rc != CAS_OK; n++) {
        struct cas_dcap_verifier *v = NULL;
        struct cas_dcap_anchor intel;
        struct cas_err err = {0};
        cas_dcap_anchor_intel(&intel);
        cas_alloc_fail_after(n);
        rc = cas_dcap_verifier_new(&intel, 1, &v, &err);
        if (rc == CAS_OK)
            rc = cas_dcap_verify(v, r.quote, r.quote_len, &r.col, 1751623200, &r.verdict, &err);
        cas_alloc_fail_after(-1);
        if (rc != CAS_OK && rc != CAS_E_NOMEM)
            fail_msg("allocation %ld failed: %s", n, err.msg[0]);
        cas_dcap_verifier_free(v);
    }
    assert_int_equal(rc, CAS_OK);
    assert_true(n > 3); /* the walk met several allocations before it got through */
    run_free(&r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_real_case_gets_the_intel_reference_verdict_cold_and_warm),
        cmocka_unit_test(test_a_cache_entry_is_dropped_once_asked_for_after_its_next_update),
        cmocka_unit_test(test_every_ready_made_negative_case_fails_the_check_intel_names),
        cmocka_unit_test(test_collateral_outside_its_validity_is_refused_with_a_warm_cache),
        cmocka_unit_test(test_a_warm_verifier_still_refuses_a_changed_qe_report_or_signature),
        cmocka_unit_test(test_tcb_info_of_another_platform_is_refused_as_a_mismatch),
        cmocka_unit_test(test_an_sgx_qe_identity_in_a_tdx_case_is_refused),
        cmocka_unit_test(test_a_processor_ca_crl_in_a_platform_ca_case_is_refused_for_its_issuer),
        cmocka_unit_test(test_reserialised_or_tampered_signed_json_fails_its_signature),
        cmocka_unit_test(test_a_quote_is_refused_when_intel_is_not_a_trusted_root),
        cmocka_unit_test(test_collateral_survives_the_json_form_byte_for_byte),
        cmocka_unit_test(test_the_pinned_intel_root_is_the_certificate_in_testdata),
        cmocka_unit_test(test_a_verdict_becomes_one_json_object_with_every_measurement),
        cmocka_unit_test(test_one_verifier_serves_many_threads_with_the_same_verdicts),
        cmocka_unit_test(test_every_allocation_failure_of_a_cold_verification_is_reported_cleanly),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

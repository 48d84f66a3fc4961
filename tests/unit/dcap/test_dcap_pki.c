/*
 * test_dcap_pki.c - verification under a synthetic test PKI generated here with OpenSSL (no
 * real revoked PCK exists, and no one else's private key is checked in): a test root, a PCK
 * CA, a PCK certificate with SGX extensions, a TCB signing certificate, signed TCB info and QE
 * identity, CRLs, and an SGX v3 quote built byte by byte. With the test root as the trusted
 * anchor the quote verifies and the verdict names that root; a PCK on the PCK CRL, a PCK CA or
 * TCB signer on the root CA CRL, a Revoked TCB level, an out-of-date QE and a foreign QE are
 * each refused or converged as Intel's rules say; Intel's root alone refuses it all.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "util/buf.h"
#include "util/codec.h"

#define AT 1750000000 /* 2025-06-15T15:06:40Z */
#define DAY 86400

struct pki {
    EVP_PKEY *root, *ca, *pck, *signer, *ak;
};

struct variant {
    bool revoke_pck, revoke_ca, revoke_signer, foreign_qe;
    const char *tcb_status;
    unsigned qe_isvsvn;
};

struct built {
    struct cas_buf quote;
    struct cas_dcap_collateral col;
    char *root_pem;
};

static EVP_PKEY *
p256(void)
{
    return EVP_EC_gen("P-256");
}

static X509 *
cert(const char *cn, EVP_PKEY *key, const char *issuer_cn, EVP_PKEY *issuer_key, long serial,
     bool ca, const uint8_t *sgx_ext, size_t sgx_len)
{
    X509 *x = X509_new();
    X509_NAME *subj = X509_NAME_new(), *iss = X509_NAME_new();
    X509V3_CTX ctx;
    X509_EXTENSION *ext;

    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
    X509_NAME_add_entry_by_txt(subj, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_NAME_add_entry_by_txt(iss, "CN", MBSTRING_ASC, (const unsigned char *)issuer_cn, -1, -1,
                               0);
    X509_set_subject_name(x, subj);
    X509_set_issuer_name(x, iss);
    ASN1_TIME_set(X509_getm_notBefore(x), AT - 365 * DAY);
    ASN1_TIME_set(X509_getm_notAfter(x), AT + 365 * DAY);
    X509_set_pubkey(x, key);
    X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints,
                              ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    if (sgx_ext != NULL) {
        ASN1_OBJECT *obj = OBJ_txt2obj("1.2.840.113741.1.13.1", 1);
        ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
        ASN1_OCTET_STRING_set(os, sgx_ext, (int)sgx_len);
        ext = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, os);
        X509_add_ext(x, ext, -1);
        X509_EXTENSION_free(ext);
        ASN1_OCTET_STRING_free(os);
        ASN1_OBJECT_free(obj);
    }
    X509_sign(x, issuer_key, EVP_sha256());
    X509_NAME_free(subj);
    X509_NAME_free(iss);
    return x;
}

static void
add_pem(struct cas_buf *b, X509 *x)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *p;
    long n;

    PEM_write_bio_X509(bio, x);
    n = BIO_get_mem_data(bio, &p);
    cas_buf_add(b, p, (size_t)n);
    BIO_free(bio);
}

static void
crl(struct cas_dcap_collateral *c, enum cas_dcap_field f, X509 *issuer, EVP_PKEY *key,
    X509 *revoked)
{
    X509_CRL *l = X509_CRL_new();
    ASN1_TIME *t = ASN1_TIME_new();
    unsigned char *der = NULL;
    struct cas_err err = {0};
    int n;

    X509_CRL_set_version(l, 1);
    X509_CRL_set_issuer_name(l, X509_get_subject_name(issuer));
    ASN1_TIME_set(t, AT - DAY);
    X509_CRL_set1_lastUpdate(l, t);
    ASN1_TIME_set(t, AT + 30 * DAY);
    X509_CRL_set1_nextUpdate(l, t);
    if (revoked != NULL) {
        X509_REVOKED *r = X509_REVOKED_new();
        ASN1_TIME_set(t, AT - DAY);
        X509_REVOKED_set_serialNumber(r, X509_get_serialNumber(revoked));
        X509_REVOKED_set_revocationDate(r, t);
        X509_CRL_add0_revoked(l, r);
        X509_CRL_sort(l);
    }
    X509_CRL_sign(l, key, EVP_sha256());
    n = i2d_X509_CRL(l, &der);
    assert_int_equal(cas_dcap_collateral_set(c, f, der, (size_t)n, &err), CAS_OK);
    OPENSSL_free(der);
    ASN1_TIME_free(t);
    X509_CRL_free(l);
}

/* ECDSA P-256 over SHA-256(msg) as raw r||s. */
static void
sign_rs(EVP_PKEY *key, const uint8_t *msg, size_t len, uint8_t rs[64])
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    uint8_t der[80];
    const unsigned char *p = der;
    size_t n = sizeof(der);
    ECDSA_SIG *sig;

    assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key), 1);
    assert_int_equal(EVP_DigestSign(md, der, &n, msg, len), 1);
    sig = d2i_ECDSA_SIG(NULL, &p, (long)n);
    BN_bn2binpad(ECDSA_SIG_get0_r(sig), rs, 32);
    BN_bn2binpad(ECDSA_SIG_get0_s(sig), rs + 32, 32);
    ECDSA_SIG_free(sig);
    EVP_MD_CTX_free(md);
}

/* {"<key>":<inner>,"signature":"<hex r||s over inner>"} */
static void
signed_body(struct cas_dcap_collateral *c, enum cas_dcap_field f, const char *key,
            const char *inner, EVP_PKEY *signer)
{
    struct cas_buf b;
    struct cas_err err = {0};
    uint8_t rs[64];

    sign_rs(signer, (const uint8_t *)inner, strlen(inner), rs);
    cas_buf_init(&b, 1 << 20);
    cas_buf_addf(&b, "{\"%s\":%s,\"signature\":\"", key, inner);
    cas_buf_add_hex(&b, rs, 64);
    cas_buf_adds(&b, "\"}\n");
    assert_int_equal(cas_dcap_collateral_set(c, f, b.buf, b.len, &err), CAS_OK);
    cas_buf_release(&b);
}

static const uint8_t fmspc[6] = {0x00, 0x90, 0x6e, 0xd5, 0x00, 0x00};

/* The SGX extension: PPID, TCB (comps 2, PCESVN 11, CPUSVN), PCE ID 0, FMSPC, type 0. */
static size_t
sgx_extension(uint8_t *out)
{
    static const uint8_t arc[] = {0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, 0x0d, 0x01};
    uint8_t tcb[400];
    size_t t = 0, o = 0, body = 0;
    uint8_t items[600];

    for (unsigned i = 1; i <= 18; i++) {
        tcb[t++] = 0x30;
        tcb[t++] = (uint8_t)(2 + 11 + (i == 18 ? 18 : 3));
        tcb[t++] = 0x06;
        tcb[t++] = 11;
        memcpy(tcb + t, arc, 9);
        t += 9;
        tcb[t++] = 2;
        tcb[t++] = (uint8_t)i;
        if (i == 18) {
            tcb[t++] = 0x04;
            tcb[t++] = 16;
            memset(tcb + t, 2, 16);
            t += 16;
        } else {
            tcb[t++] = 0x02;
            tcb[t++] = 1;
            tcb[t++] = i == 17 ? 11 : 2;
        }
    }
    /* PPID */
    items[o++] = 0x30, items[o++] = 2 + 10 + 18, items[o++] = 0x06, items[o++] = 10;
    memcpy(items + o, arc, 9), o += 9, items[o++] = 1;
    items[o++] = 0x04, items[o++] = 16;
    memset(items + o, 0x5a, 16), o += 16;
    /* TCB */
    items[o++] = 0x30, items[o++] = 0x82, items[o++] = (uint8_t)((12 + 4 + t) >> 8);
    items[o++] = (uint8_t)(12 + 4 + t), items[o++] = 0x06, items[o++] = 10;
    memcpy(items + o, arc, 9), o += 9, items[o++] = 2;
    items[o++] = 0x30, items[o++] = 0x82, items[o++] = (uint8_t)(t >> 8), items[o++] = (uint8_t)t;
    memcpy(items + o, tcb, t), o += t;
    /* PCE ID, FMSPC, SGX type */
    items[o++] = 0x30, items[o++] = 12 + 4, items[o++] = 0x06, items[o++] = 10;
    memcpy(items + o, arc, 9), o += 9, items[o++] = 3;
    items[o++] = 0x04, items[o++] = 2, items[o++] = 0, items[o++] = 0;
    items[o++] = 0x30, items[o++] = 12 + 8, items[o++] = 0x06, items[o++] = 10;
    memcpy(items + o, arc, 9), o += 9, items[o++] = 4;
    items[o++] = 0x04, items[o++] = 6;
    memcpy(items + o, fmspc, 6), o += 6;
    items[o++] = 0x30, items[o++] = 12 + 3, items[o++] = 0x06, items[o++] = 10;
    memcpy(items + o, arc, 9), o += 9, items[o++] = 5;
    items[o++] = 0x0a, items[o++] = 1, items[o++] = 0;
    out[body++] = 0x30, out[body++] = 0x82, out[body++] = (uint8_t)(o >> 8);
    out[body++] = (uint8_t)o;
    memcpy(out + body, items, o);
    return body + o;
}

static void
put16(struct cas_buf *b, unsigned v)
{
    uint8_t x[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    cas_buf_add(b, x, 2);
}

static void
put32(struct cas_buf *b, size_t v)
{
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    cas_buf_add(b, x, 4);
}

static const uint8_t qe_mrsigner[32] = {0x51, 0x52, 0x53};

/* A 384-byte SGX report body with the fields the tests read. */
static void
report(uint8_t r[384], uint8_t attr0, const uint8_t *mrsigner, unsigned prodid, unsigned svn,
       const uint8_t *report_data)
{
    memset(r, 0, 384);
    r[48] = attr0;
    memset(r + 64, 0xe1, 32); /* MRENCLAVE */
    memcpy(r + 128, mrsigner, 32);
    r[256] = (uint8_t)prodid;
    r[258] = (uint8_t)svn;
    memcpy(r + 320, report_data, 64);
}

static void
build_quote(struct pki *k, const struct variant *v, X509 *pck, X509 *ca, X509 *root,
            struct cas_buf *q)
{
    static const uint8_t vendor[16] = {0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9,
                                       0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07};
    uint8_t ak[65], auth[32], rd[64] = {0}, isv[384], qe[384], rs[64], user[20] = {0};
    size_t ak_len = 0;
    struct cas_buf chain, sig;
    static const uint8_t foreign[32] = {0xff};

    EVP_PKEY_get_octet_string_param(k->ak, OSSL_PKEY_PARAM_PUB_KEY, ak, sizeof(ak), &ak_len);
    assert_int_equal(ak_len, 65);
    memset(auth, 0xa5, sizeof(auth));
    cas_buf_init(&chain, 1 << 16);
    add_pem(&chain, pck);
    add_pem(&chain, ca);
    add_pem(&chain, root);
    cas_buf_init(q, 1 << 16);
    put16(q, 3), put16(q, 2), put32(q, 0), put16(q, 8), put16(q, 11);
    cas_buf_add(q, vendor, 16);
    cas_buf_add(q, user, 20);
    memset(rd, 0x42, 64);
    report(isv, 0x07, qe_mrsigner, 0, 0, rd); /* DEBUG set, as the simulator's */
    cas_buf_add(q, isv, 384);
    sign_rs(k->ak, (const uint8_t *)q->buf, q->len, rs);
    memset(rd, 0, 64);
    {
        uint8_t both[96];
        memcpy(both, ak + 1, 64);
        memcpy(both + 64, auth, 32);
        SHA256(both, sizeof(both), rd);
    }
    report(qe, 0x11, v->foreign_qe ? foreign : qe_mrsigner, 1, v->qe_isvsvn, rd);
    cas_buf_init(&sig, 1 << 16);
    cas_buf_add(&sig, rs, 64);
    cas_buf_add(&sig, ak + 1, 64);
    cas_buf_add(&sig, qe, 384);
    sign_rs(k->pck, qe, 384, rs);
    cas_buf_add(&sig, rs, 64);
    put16(&sig, 32);
    cas_buf_add(&sig, auth, 32);
    put16(&sig, 5);
    put32(&sig, chain.len);
    cas_buf_add(&sig, chain.buf, chain.len);
    put32(q, sig.len);
    cas_buf_add(q, sig.buf, sig.len);
    assert_false(q->failed);
    cas_buf_release(&chain);
    cas_buf_release(&sig);
}

static void
build(struct pki *k, const struct variant *v, struct built *out)
{
    uint8_t ext[700];
    size_t ext_len = sgx_extension(ext);
    X509 *root = cert("Test SGX Root CA", k->root, "Test SGX Root CA", k->root, 1, true, NULL, 0);
    X509 *ca =
        cert("Test SGX PCK Platform CA", k->ca, "Test SGX Root CA", k->root, 2, true, NULL, 0);
    X509 *pck = cert("Test SGX PCK Certificate", k->pck, "Test SGX PCK Platform CA", k->ca, 3,
                     false, ext, ext_len);
    X509 *signer =
        cert("Test SGX TCB Signing", k->signer, "Test SGX Root CA", k->root, 4, false, NULL, 0);
    struct cas_buf chain, inner;
    struct cas_err err = {0};
    char fm[13];

    cas_dcap_collateral_init(&out->col);
    build_quote(k, v, pck, ca, root, &out->quote);
    cas_buf_init(&chain, 1 << 16);
    add_pem(&chain, signer);
    add_pem(&chain, root);
    assert_int_equal(cas_dcap_collateral_set(&out->col, CAS_DCAP_TCB_INFO_ISSUER_CHAIN, chain.buf,
                                             chain.len, &err),
                     CAS_OK);
    assert_int_equal(cas_dcap_collateral_set(&out->col, CAS_DCAP_QE_IDENTITY_ISSUER_CHAIN,
                                             chain.buf, chain.len, &err),
                     CAS_OK);
    cas_buf_reset(&chain);
    add_pem(&chain, ca);
    add_pem(&chain, root);
    assert_int_equal(cas_dcap_collateral_set(&out->col, CAS_DCAP_PCK_CRL_ISSUER_CHAIN, chain.buf,
                                             chain.len, &err),
                     CAS_OK);
    cas_buf_reset(&chain);
    add_pem(&chain, root);
    out->root_pem = cas_buf_detach(&chain, NULL);
    crl(&out->col, CAS_DCAP_PCK_CRL, ca, k->ca, v->revoke_pck ? pck : NULL);
    crl(&out->col, CAS_DCAP_ROOT_CA_CRL, root, k->root,
        v->revoke_ca ? ca : (v->revoke_signer ? signer : NULL));
    cas_hex_encode(fmspc, 6, fm);
    cas_buf_init(&inner, 1 << 16);
    cas_buf_addf(&inner,
                 "{\"id\":\"SGX\",\"version\":3,\"issueDate\":\"2025-06-10T00:00:00Z\","
                 "\"nextUpdate\":\"2025-07-10T00:00:00Z\",\"fmspc\":\"%s\",\"pceId\":\"0000\","
                 "\"tcbType\":0,\"tcbEvaluationDataNumber\":17,\"tcbLevels\":[{\"tcb\":{"
                 "\"sgxtcbcomponents\":[",
                 fm);
    for (int i = 0; i < 16; i++)
        cas_buf_addf(&inner, "%s{\"svn\":2}", i ? "," : "");
    cas_buf_addf(&inner,
                 "],\"pcesvn\":11},\"tcbDate\":\"2025-01-01T00:00:00Z\",\"tcbStatus\":\"%s\","
                 "\"advisoryIDs\":[\"INTEL-SA-00828\",\"INTEL-SA-00837\"]}]}",
                 v->tcb_status);
    signed_body(&out->col, CAS_DCAP_TCB_INFO, "tcbInfo", inner.buf, k->signer);
    cas_buf_reset(&inner);
    cas_buf_adds(&inner, "{\"id\":\"QE\",\"version\":2,\"issueDate\":\"2025-06-10T00:00:00Z\","
                         "\"nextUpdate\":\"2025-07-10T00:00:00Z\",\"tcbEvaluationDataNumber\":17,"
                         "\"miscselect\":\"00000000\",\"miscselectMask\":\"FFFFFFFF\","
                         "\"attributes\":\"11000000000000000000000000000000\","
                         "\"attributesMask\":\"FBFFFFFFFFFFFFFF0000000000000000\",\"mrsigner\":\"");
    cas_buf_add_hex(&inner, qe_mrsigner, 32);
    cas_buf_adds(&inner, "\",\"isvprodid\":1,\"tcbLevels\":[{\"tcb\":{\"isvsvn\":8},\"tcbDate\":"
                         "\"2025-01-01T00:00:00Z\",\"tcbStatus\":\"UpToDate\"},{\"tcb\":{"
                         "\"isvsvn\":6},\"tcbDate\":\"2024-01-01T00:00:00Z\",\"tcbStatus\":"
                         "\"OutOfDate\"}]}");
    signed_body(&out->col, CAS_DCAP_QE_IDENTITY, "enclaveIdentity", inner.buf, k->signer);
    assert_int_equal(cas_dcap_collateral_seal(&out->col, &err), CAS_OK);
    cas_buf_release(&inner);
    cas_buf_release(&chain);
    X509_free(root);
    X509_free(ca);
    X509_free(pck);
    X509_free(signer);
}

static void
built_free(struct built *b)
{
    cas_buf_release(&b->quote);
    cas_dcap_collateral_release(&b->col);
    free(b->root_pem);
}

static int
setup(void **state)
{
    struct pki *k = calloc(1, sizeof(*k));

    k->root = p256();
    k->ca = p256();
    k->pck = p256();
    k->signer = p256();
    k->ak = p256();
    *state = k;
    return k->ak == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
    struct pki *k = *state;

    EVP_PKEY_free(k->root);
    EVP_PKEY_free(k->ca);
    EVP_PKEY_free(k->pck);
    EVP_PKEY_free(k->signer);
    EVP_PKEY_free(k->ak);
    free(k);
    return 0;
}

/* Builds the variant and verifies it with the test root (and Intel's) trusted. */
static cas_rc
verify_variant(struct pki *k, const struct variant *var, struct cas_dcap_verdict *out,
               char msg[1024])
{
    struct cas_dcap_anchor anchors[2];
    struct cas_dcap_verifier *v = NULL;
    struct cas_err err = {0};
    struct built b;
    cas_rc rc;

    build(k, var, &b);
    cas_dcap_anchor_intel(&anchors[0]);
    assert_int_equal(cas_dcap_anchor_from_pem((const uint8_t *)b.root_pem, strlen(b.root_pem),
                                              "Test SGX Root CA", &anchors[1], &err),
                     CAS_OK);
    assert_int_equal(cas_dcap_verifier_new(anchors, 2, &v, &err), CAS_OK);
    rc = cas_dcap_verify(v, (const uint8_t *)b.quote.buf, b.quote.len, &b.col, AT, out, &err);
    cas_err_join(&err, msg, 1024);
    cas_dcap_verifier_free(v);
    built_free(&b);
    return rc;
}

static void
test_a_quote_under_a_given_test_root_verifies_and_names_that_root(void **state)
{
    struct variant var = {.tcb_status = "OutOfDate", .qe_isvsvn = 8};
    struct cas_dcap_verdict v;
    char msg[1024];

    if (verify_variant(*state, &var, &v, msg) != CAS_OK)
        fail_msg("%s", msg);
    assert_string_equal(v.root, "Test SGX Root CA");
    assert_string_equal(cas_dcap_status_name(v.status), "OutOfDate");
    assert_int_equal(v.advisories.count, 2);
    assert_string_equal(v.advisories.id[0], "INTEL-SA-00828");
    assert_true(v.debug);
    assert_true(fx_hex_eq(v.fmspc, 6, "00906ed50000"));
}

static void
test_a_pck_on_the_pck_crl_is_refused_as_revoked(void **state)
{
    struct variant var = {.tcb_status = "UpToDate", .qe_isvsvn = 8, .revoke_pck = true};
    struct cas_dcap_verdict v;
    char msg[1024];

    assert_int_equal(verify_variant(*state, &var, &v, msg), CAS_E_DENIED);
    assert_int_equal(v.failed, CAS_DCAP_CHECK_PCK_REVOKED);
    assert_non_null(strstr(msg, "PCK certificate is revoked"));
}

static void
test_a_pck_ca_on_the_root_ca_crl_is_refused_as_revoked(void **state)
{
    struct variant var = {.tcb_status = "UpToDate", .qe_isvsvn = 8, .revoke_ca = true};
    struct cas_dcap_verdict v;
    char msg[1024];

    assert_int_equal(verify_variant(*state, &var, &v, msg), CAS_E_DENIED);
    assert_int_equal(v.failed, CAS_DCAP_CHECK_PCK_REVOKED);
    assert_non_null(strstr(msg, "PCK CA certificate is revoked"));
}

static void
test_a_revoked_tcb_signing_certificate_fails_the_tcb_info(void **state)
{
    struct variant var = {.tcb_status = "UpToDate", .qe_isvsvn = 8, .revoke_signer = true};
    struct cas_dcap_verdict v;
    char msg[1024];

    assert_int_equal(verify_variant(*state, &var, &v, msg), CAS_E_DENIED);
    assert_int_equal(v.failed, CAS_DCAP_CHECK_TCB_INFO);
    assert_non_null(strstr(msg, "revoked"));
}

static void
test_a_revoked_tcb_level_is_refused_with_its_verdict(void **state)
{
    struct variant var = {.tcb_status = "Revoked", .qe_isvsvn = 8};
    struct cas_dcap_verdict v;
    char msg[1024];

    assert_int_equal(verify_variant(*state, &var, &v, msg), CAS_E_DENIED);
    assert_int_equal(v.failed, CAS_DCAP_CHECK_TCB_REVOKED);
    assert_true(v.has_status);
    assert_string_equal(cas_dcap_status_name(v.status), "Revoked");
}

static void
test_an_out_of_date_qe_makes_an_up_to_date_platform_out_of_date(void **state)
{
    struct variant var = {.tcb_status = "UpToDate", .qe_isvsvn = 7};
    struct cas_dcap_verdict v;
    char msg[1024];

    assert_int_equal(verify_variant(*state, &var, &v, msg), CAS_OK);
    assert_string_equal(cas_dcap_status_name(v.status), "OutOfDate");
    var.qe_isvsvn = 5; /* below every QE level */
    assert_int_equal(verify_variant(*state, &var, &v, msg), CAS_E_DENIED);
    assert_int_equal(v.failed, CAS_DCAP_CHECK_QE_IDENTITY_MISMATCH);
    assert_non_null(strstr(msg, "TcbNotSupported"));
}

static void
test_a_qe_of_another_signer_is_refused(void **state)
{
    struct variant var = {.tcb_status = "UpToDate", .qe_isvsvn = 8, .foreign_qe = true};
    struct cas_dcap_verdict v;
    char msg[1024];

    assert_int_equal(verify_variant(*state, &var, &v, msg), CAS_E_DENIED);
    assert_int_equal(v.failed, CAS_DCAP_CHECK_QE_IDENTITY_MISMATCH);
    assert_non_null(strstr(msg, "MRSIGNER"));
}

static void
test_intels_root_alone_refuses_test_evidence(void **state)
{
    struct variant var = {.tcb_status = "UpToDate", .qe_isvsvn = 8};
    struct cas_dcap_verifier *v = fx_intel_verifier();
    struct cas_dcap_verdict verdict;
    struct cas_err err = {0};
    struct built b;

    build(*state, &var, &b);
    assert_int_equal(
        cas_dcap_verify(v, (const uint8_t *)b.quote.buf, b.quote.len, &b.col, AT, &verdict, &err),
        CAS_E_CRYPTO);
    assert_int_equal(verdict.failed, CAS_DCAP_CHECK_PCK_CHAIN);
    assert_non_null(strstr(err.msg[0], "not trusted"));
    built_free(&b);
    cas_dcap_verifier_free(v);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_quote_under_a_given_test_root_verifies_and_names_that_root),
        cmocka_unit_test(test_a_pck_on_the_pck_crl_is_refused_as_revoked),
        cmocka_unit_test(test_a_pck_ca_on_the_root_ca_crl_is_refused_as_revoked),
        cmocka_unit_test(test_a_revoked_tcb_signing_certificate_fails_the_tcb_info),
        cmocka_unit_test(test_a_revoked_tcb_level_is_refused_with_its_verdict),
        cmocka_unit_test(test_an_out_of_date_qe_makes_an_up_to_date_platform_out_of_date),
        cmocka_unit_test(test_a_qe_of_another_signer_is_refused),
        cmocka_unit_test(test_intels_root_alone_refuses_test_evidence),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}

/*
 * sim_pki.c - the simulator's provisioning hierarchy: loads the published root CA, PCK CA and TCB
 * signing certificate with their keys, issues this platform's PCK certificate with Intel's SGX
 * extensions (OID 1.2.840.113741.1.13.1, PCK certificate and CRL profile, section "SGX PCK
 * Certificate" of Intel's spec), makes empty CRLs and raw r || s ECDSA signatures.
 * Holds no state of its own; the fresh PCK and attestation keys live in struct cas_tee_sim.
 */
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/err_openssl.h"

/* 1.2.840.113741.1.13.1 without its tag and length: the SGX extension and its members' prefix. */
static const uint8_t sgx_oid[] = {0x2A, 0x86, 0x48, 0x86, 0xF8, 0x4D, 0x01, 0x0D, 0x01};
#define SGX_EXT_OID_TEXT "1.2.840.113741.1.13.1"
#define SGX_EXT_MAX 1024

const uint8_t sim_tcb_comps[SIM_TCB_COMP_COUNT] = {5, 5, 2, 2, 3, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};

cas_rc
sim_sha256_2(const void *a, size_t a_len, const void *b, size_t b_len, uint8_t out[32],
             struct cas_err *err)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    cas_rc rc = CAS_OK;

    if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1 ||
        EVP_DigestUpdate(md, a, a_len) != 1 || EVP_DigestUpdate(md, b, b_len) != 1 ||
        EVP_DigestFinal_ex(md, out, NULL) != 1)
        rc = cas_err_openssl(err, CAS_E_CRYPTO, "SHA-256 failed");
    EVP_MD_CTX_free(md);
    return rc;
}

cas_rc
sim_sign_raw(EVP_PKEY *key, const void *msg, size_t len, uint8_t sig[64], struct cas_err *err)
{
    EVP_MD_CTX *md = NULL;
    ECDSA_SIG *es = NULL;
    uint8_t der[80];
    const uint8_t *p = der;
    size_t der_len = sizeof(der);
    const BIGNUM *r, *s;
    cas_rc rc = CAS_OK;

    if ((md = EVP_MD_CTX_new()) == NULL ||
        EVP_DigestSignInit_ex(md, NULL, "SHA256", NULL, NULL, key, NULL) != 1 ||
        EVP_DigestSign(md, der, &der_len, msg, len) != 1 || der_len > (size_t)INT32_MAX ||
        (es = d2i_ECDSA_SIG(NULL, &p, (long)der_len)) == NULL) {
        rc = cas_err_openssl(err, CAS_E_CRYPTO, "ECDSA signing failed");
        goto out;
    }
    ECDSA_SIG_get0(es, &r, &s);
    if (BN_bn2binpad(r, sig, 32) != 32 || BN_bn2binpad(s, sig + 32, 32) != 32)
        rc = cas_err_openssl(err, CAS_E_CRYPTO, "ECDSA signature does not fit 64 bytes");
out:
    ECDSA_SIG_free(es);
    EVP_MD_CTX_free(md);
    return rc;
}

cas_rc
sim_pubkey_xy(EVP_PKEY *key, uint8_t xy[64], struct cas_err *err)
{
    uint8_t pt[65];
    size_t len = 0;

    if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt), &len) != 1)
        return cas_err_openssl(err, CAS_E_CRYPTO, "cannot read the public key");
    if (len != sizeof(pt) || pt[0] != 0x04)
        return cas_err_set(err, CAS_E_CRYPTO, "public key is not an uncompressed P-256 point");
    memcpy(xy, pt + 1, 64);
    return CAS_OK;
}

static cas_rc
load_pair(const char *cert_pem, const char *key_pem, const char *what, X509 **cert, EVP_PKEY **key,
          struct cas_err *err)
{
    BIO *bio = NULL;
    cas_rc rc = CAS_OK;

    if ((bio = BIO_new_mem_buf(cert_pem, -1)) == NULL ||
        (*cert = PEM_read_bio_X509(bio, NULL, NULL, NULL)) == NULL) {
        rc = cas_err_openssl(err, CAS_E_INTERNAL, "published %s certificate is not PEM", what);
        goto out;
    }
    BIO_free(bio);
    if ((bio = BIO_new_mem_buf(key_pem, -1)) == NULL ||
        (*key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)) == NULL) {
        rc = cas_err_openssl(err, CAS_E_INTERNAL, "published %s key is not PEM", what);
        goto out;
    }
    if (X509_check_private_key(*cert, *key) != 1)
        rc = cas_err_openssl(err, CAS_E_INTERNAL, "published %s key does not match", what);
out:
    BIO_free(bio);
    return rc;
}

cas_rc
sim_load_hierarchy(struct cas_tee_sim *sim, struct cas_err *err)
{
    if (load_pair(cas_tee_sim_root_ca_crt, cas_tee_sim_root_ca_key, "root CA", &sim->root,
                  &sim->root_key, err) != CAS_OK ||
        load_pair(cas_tee_sim_pck_ca_crt, cas_tee_sim_pck_ca_key, "PCK CA", &sim->pck_ca,
                  &sim->pck_ca_key, err) != CAS_OK ||
        load_pair(cas_tee_sim_tcb_signing_crt, cas_tee_sim_tcb_signing_key, "TCB signing",
                  &sim->tcb_cert, &sim->tcb_key, err) != CAS_OK)
        return cas_err_wrap(err, "Failed to load the simulator hierarchy");
    return CAS_OK;
}

/* DER: tag, definite length (short or long form; our values stay under 64 KiB). */
static void
der_header(struct cas_buf *b, uint8_t tag, size_t len)
{
    uint8_t h[4] = {tag, 0, 0, 0};
    size_t n = 2;

    if (len < 0x80) {
        h[1] = (uint8_t)len;
    } else if (len < 0x100) {
        h[1] = 0x81;
        h[2] = (uint8_t)len;
        n = 3;
    } else if (len < 0x10000) {
        h[1] = 0x82;
        h[2] = (uint8_t)(len >> 8);
        h[3] = (uint8_t)len;
        n = 4;
    } else {
        b->failed = true;
        return;
    }
    cas_buf_add(b, h, n);
}

static void
der_tlv(struct cas_buf *b, uint8_t tag, const void *p, size_t len)
{
    der_header(b, tag, len);
    cas_buf_add(b, p, len);
}

/* Wraps the bytes built in inner as one TLV appended to b; releases inner. */
static void
der_wrap(struct cas_buf *b, uint8_t tag, struct cas_buf *inner)
{
    if (inner->failed)
        b->failed = true;
    else
        der_tlv(b, tag, inner->buf, inner->len);
    cas_buf_release(inner);
}

/* OID 1.2.840.113741.1.13.1.<a>[.<b>]; b == 0 means none. */
static void
der_sgx_oid(struct cas_buf *b, uint8_t a, uint8_t sub)
{
    uint8_t oid[sizeof(sgx_oid) + 2];
    size_t n = sizeof(sgx_oid);

    memcpy(oid, sgx_oid, sizeof(sgx_oid));
    oid[n++] = a;
    if (sub != 0)
        oid[n++] = sub;
    der_tlv(b, 0x06, oid, n);
}

/* A non-negative INTEGER below 65536 in its minimal two's complement form. */
static void
der_uint16(struct cas_buf *b, uint16_t v)
{
    uint8_t x[3] = {0, (uint8_t)(v >> 8), (uint8_t)v};
    size_t off = 0;

    while (off < 2 && x[off] == 0 && (x[off + 1] & 0x80) == 0)
        off++;
    der_tlv(b, 0x02, x + off, 3 - off);
}

/* SEQUENCE { OID sgx.<a>[.<sub>], <value TLV> } with the value already encoded in val. */
static void
der_member(struct cas_buf *b, uint8_t a, uint8_t sub, struct cas_buf *val)
{
    struct cas_buf m;

    cas_buf_init(&m, SGX_EXT_MAX);
    der_sgx_oid(&m, a, sub);
    if (val->failed)
        m.failed = true;
    else
        cas_buf_add(&m, val->buf, val->len);
    cas_buf_release(val);
    der_wrap(b, 0x30, &m);
}

static void
der_member_octets(struct cas_buf *b, uint8_t a, const uint8_t *p, size_t n)
{
    struct cas_buf v;

    cas_buf_init(&v, SGX_EXT_MAX);
    der_tlv(&v, 0x04, p, n);
    der_member(b, a, 0, &v);
}

/* The SGX extension's value (Intel's SGXExtensions SEQUENCE) for this platform. */
static void
build_sgx_extension(const struct cas_tee_sim *sim, struct cas_buf *out)
{
    static const uint8_t pce_id[2] = {0, SIM_PCE_ID};
    static const uint8_t sgx_type = 0; /* Standard */
    struct cas_buf all, tcb, v;

    cas_buf_init(&all, SGX_EXT_MAX);
    cas_buf_init(&tcb, SGX_EXT_MAX);
    der_member_octets(&all, 1, sim->ppid, sizeof(sim->ppid));
    for (uint8_t i = 0; i < SIM_TCB_COMP_COUNT; i++) {
        cas_buf_init(&v, 16);
        der_uint16(&v, sim_tcb_comps[i]);
        der_member(&tcb, 2, (uint8_t)(i + 1), &v);
    }
    cas_buf_init(&v, 16);
    der_uint16(&v, SIM_PCESVN);
    der_member(&tcb, 2, 17, &v);
    cas_buf_init(&v, 32);
    der_tlv(&v, 0x04, sim_tcb_comps, SIM_TCB_COMP_COUNT); /* CPUSVN */
    der_member(&tcb, 2, 18, &v);
    cas_buf_init(&v, SGX_EXT_MAX);
    der_sgx_oid(&v, 2, 0);
    der_wrap(&v, 0x30, &tcb);
    der_wrap(&all, 0x30, &v);
    der_member_octets(&all, 3, pce_id, sizeof(pce_id));
    der_member_octets(&all, 4, sim->fmspc, sizeof(sim->fmspc));
    cas_buf_init(&v, 16);
    der_tlv(&v, 0x0A, &sgx_type, 1);
    der_member(&all, 5, 0, &v);
    der_wrap(out, 0x30, &all);
}

static cas_rc
add_conf_ext(X509 *cert, X509V3_CTX *ctx, int nid, const char *value, struct cas_err *err)
{
    X509_EXTENSION *ext = X509V3_EXT_nconf_nid(NULL, ctx, nid, value);
    cas_rc rc = CAS_OK;

    if (ext == NULL || X509_add_ext(cert, ext, -1) != 1)
        rc = cas_err_openssl(err, CAS_E_CRYPTO, "cannot add extension '%s'", OBJ_nid2sn(nid));
    X509_EXTENSION_free(ext);
    return rc;
}

static cas_rc
add_sgx_ext(const struct cas_tee_sim *sim, X509 *cert, struct cas_err *err)
{
    struct cas_buf der;
    ASN1_OBJECT *obj = NULL;
    ASN1_OCTET_STRING *os = NULL;
    X509_EXTENSION *ext = NULL;
    int len;
    cas_rc rc = CAS_OK;

    cas_buf_init(&der, SGX_EXT_MAX);
    build_sgx_extension(sim, &der);
    if (der.failed || der.len > (size_t)INT32_MAX) { /* our fixed fields stay far below it */
        rc = cas_err_set(err, CAS_E_NOMEM, "out of memory building the SGX extension");
        goto out;
    }
    len = (int)der.len;
    if ((obj = OBJ_txt2obj(SGX_EXT_OID_TEXT, 1)) == NULL ||
        (os = ASN1_OCTET_STRING_new()) == NULL ||
        ASN1_OCTET_STRING_set(os, (const unsigned char *)der.buf, len) != 1 ||
        (ext = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, os)) == NULL ||
        X509_add_ext(cert, ext, -1) != 1)
        rc = cas_err_openssl(err, CAS_E_CRYPTO, "cannot add the SGX extension");
out:
    X509_EXTENSION_free(ext);
    ASN1_OCTET_STRING_free(os);
    ASN1_OBJECT_free(obj);
    cas_buf_release(&der);
    return rc;
}

static cas_rc
set_random_serial(X509 *cert, struct cas_err *err)
{
    uint8_t raw[16];
    BIGNUM *bn = NULL;
    cas_rc rc = CAS_OK;

    if (RAND_bytes(raw, sizeof(raw)) != 1)
        return cas_err_openssl(err, CAS_E_CRYPTO, "random number generator failed");
    raw[0] &= 0x7F; /* positive, as RFC 5280 wants */
    raw[0] |= 0x01; /* and never short */
    if ((bn = BN_bin2bn(raw, sizeof(raw), NULL)) == NULL ||
        BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) == NULL)
        rc = cas_err_openssl(err, CAS_E_CRYPTO, "cannot set a serial number");
    BN_free(bn);
    return rc;
}

cas_rc
sim_append_pem(X509 *cert, char **pem, size_t *len, struct cas_err *err)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *data = NULL, *grown;
    long n;
    cas_rc rc = CAS_OK;

    if (bio == NULL || PEM_write_bio_X509(bio, cert) != 1 ||
        (n = BIO_get_mem_data(bio, &data)) <= 0) {
        rc = cas_err_openssl(err, CAS_E_CRYPTO, "cannot write a certificate as PEM");
        goto out;
    }
    if ((grown = cas_realloc(*pem, *len + (size_t)n + 1)) == NULL) {
        rc = cas_err_set(err, CAS_E_NOMEM, "out of memory writing a certificate chain");
        goto out;
    }
    memcpy(grown + *len, data, (size_t)n);
    *len += (size_t)n;
    grown[*len] = '\0';
    *pem = grown;
out:
    BIO_free(bio);
    return rc;
}

static cas_rc
set_subject(X509 *cert, const char *cn, struct cas_err *err)
{
    X509_NAME *name = X509_get_subject_name(cert);

    if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1,
                                   0) != 1 ||
        X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, (const unsigned char *)"cas", -1, -1,
                                   0) != 1)
        return cas_err_openssl(err, CAS_E_CRYPTO, "cannot set the subject '%s'", cn);
    return CAS_OK;
}

cas_rc
sim_issue_pck(struct cas_tee_sim *sim, struct cas_err *err)
{
    X509 *cert = NULL;
    X509V3_CTX ctx;
    cas_rc rc;

    if ((cert = X509_new()) == NULL || X509_set_version(cert, X509_VERSION_3) != 1 ||
        X509_set_issuer_name(cert, X509_get_subject_name(sim->pck_ca)) != 1 ||
        X509_set1_notBefore(cert, X509_get0_notBefore(sim->pck_ca)) != 1 ||
        X509_set1_notAfter(cert, X509_get0_notAfter(sim->pck_ca)) != 1 ||
        X509_set_pubkey(cert, sim->pck_key) != 1) {
        rc = cas_err_openssl(err, CAS_E_CRYPTO, "cannot build the PCK certificate");
        goto out;
    }
    X509V3_set_ctx(&ctx, sim->pck_ca, cert, NULL, NULL, 0);
    if ((rc = set_subject(cert, "CAS TEE Simulator PCK Certificate", err)) != CAS_OK ||
        (rc = set_random_serial(cert, err)) != CAS_OK ||
        (rc = add_conf_ext(cert, &ctx, NID_authority_key_identifier, "keyid:always", err)) !=
            CAS_OK ||
        (rc = add_conf_ext(cert, &ctx, NID_subject_key_identifier, "hash", err)) != CAS_OK ||
        (rc = add_conf_ext(cert, &ctx, NID_key_usage, "critical,digitalSignature,nonRepudiation",
                           err)) != CAS_OK ||
        (rc = add_conf_ext(cert, &ctx, NID_basic_constraints, "critical,CA:FALSE", err)) !=
            CAS_OK ||
        (rc = add_sgx_ext(sim, cert, err)) != CAS_OK)
        goto out;
    if (X509_sign(cert, sim->pck_ca_key, EVP_sha256()) <= 0) {
        rc = cas_err_openssl(err, CAS_E_CRYPTO, "cannot sign the PCK certificate");
        goto out;
    }
    /* Intel's certification data type 5: leaf, intermediate, root, and a terminating NUL. */
    if ((rc = sim_append_pem(cert, &sim->cert_data, &sim->cert_len, err)) != CAS_OK ||
        (rc = sim_append_pem(sim->pck_ca, &sim->cert_data, &sim->cert_len, err)) != CAS_OK ||
        (rc = sim_append_pem(sim->root, &sim->cert_data, &sim->cert_len, err)) != CAS_OK)
        goto out;
    sim->cert_len++;
out:
    X509_free(cert);
    if (rc != CAS_OK)
        cas_err_wrap(err, "Failed to issue the simulator PCK certificate");
    return rc;
}

static cas_rc
crl_set_times(X509_CRL *crl, int64_t this_update, struct cas_err *err)
{
    ASN1_TIME *t = ASN1_TIME_set(NULL, (time_t)this_update);
    ASN1_TIME *n =
        ASN1_TIME_set(NULL, (time_t)(this_update + (int64_t)SIM_COLLATERAL_DAYS * 86400));
    cas_rc rc = CAS_OK;

    if (t == NULL || n == NULL || X509_CRL_set1_lastUpdate(crl, t) != 1 ||
        X509_CRL_set1_nextUpdate(crl, n) != 1)
        rc = cas_err_openssl(err, CAS_E_CRYPTO, "cannot set the CRL dates");
    ASN1_TIME_free(t);
    ASN1_TIME_free(n);
    return rc;
}

cas_rc
sim_make_crl(X509 *ca, EVP_PKEY *ca_key, int64_t this_update, uint8_t **der, size_t *len,
             struct cas_err *err)
{
    X509_CRL *crl = NULL;
    ASN1_INTEGER *number = NULL;
    X509_EXTENSION *aki = NULL;
    X509V3_CTX ctx;
    unsigned char *p = NULL;
    int n;
    cas_rc rc = CAS_OK;

    *der = NULL;
    *len = 0;
    if ((crl = X509_CRL_new()) == NULL || X509_CRL_set_version(crl, X509_CRL_VERSION_2) != 1 ||
        X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca)) != 1 ||
        (rc = crl_set_times(crl, this_update, err)) != CAS_OK) {
        rc = rc != CAS_OK ? rc : cas_err_openssl(err, CAS_E_CRYPTO, "cannot build a CRL");
        goto out;
    }
    X509V3_set_ctx(&ctx, ca, NULL, NULL, crl, 0);
    if ((number = ASN1_INTEGER_new()) == NULL ||
        ASN1_INTEGER_set_int64(number, this_update / 86400) != 1 ||
        X509_CRL_add1_ext_i2d(crl, NID_crl_number, number, 0, 0) != 1 ||
        (aki = X509V3_EXT_nconf_nid(NULL, &ctx, NID_authority_key_identifier, "keyid:always")) ==
            NULL ||
        X509_CRL_add_ext(crl, aki, -1) != 1 || X509_CRL_sign(crl, ca_key, EVP_sha256()) <= 0 ||
        (n = i2d_X509_CRL(crl, &p)) <= 0) {
        rc = cas_err_openssl(err, CAS_E_CRYPTO, "cannot sign a CRL");
        goto out;
    }
    if ((*der = cas_malloc((size_t)n)) == NULL) {
        rc = cas_err_set(err, CAS_E_NOMEM, "out of memory encoding a CRL");
        goto out;
    }
    memcpy(*der, p, (size_t)n);
    *len = (size_t)n;
out:
    OPENSSL_free(p);
    X509_EXTENSION_free(aki);
    ASN1_INTEGER_free(number);
    X509_CRL_free(crl);
    return rc;
}

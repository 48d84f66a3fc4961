/*
 * pki.c - key generation, key hashes and certificate issuing (pki.h). Extensions are added with
 * X509V3_EXT_conf_nid over a context naming subject and issuer, so SKI and AKI are computed by
 * OpenSSL from the real keys.
 */
#include "crypto/pki.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/buf.h"
#include "util/codec.h"
#include "util/err_openssl.h"
#include "util/secret.h"

cas_rc
cas_key_new_p256(EVP_PKEY **out, struct cas_err *err)
{
    *out = EVP_EC_gen("P-256");
    if (*out == NULL)
        return cas_err_openssl(err, CAS_E_CRYPTO, "cannot generate a P-256 key");
    return CAS_OK;
}

cas_rc
cas_key_hash(const EVP_PKEY *key, uint8_t out[32], struct cas_err *err)
{
    unsigned char *der = NULL;
    int len = i2d_PUBKEY(key, &der);
    cas_rc rc = CAS_OK;

    if (len <= 0)
        return cas_err_openssl(err, CAS_E_CRYPTO, "cannot encode a public key");
    if (EVP_Digest(der, (size_t)len, out, NULL, EVP_sha256(), NULL) != 1)
        rc = cas_err_openssl(err, CAS_E_CRYPTO, "cannot hash a public key");
    OPENSSL_free(der);
    return rc;
}

cas_rc
cas_cert_key_hash(const X509 *cert, uint8_t out[32], struct cas_err *err)
{
    /* The certificate's own SubjectPublicKeyInfo, re-encoded as parsed: the same DER as
     * i2d_PUBKEY of its key, without OpenSSL 3's encoder lookup on every request. */
    X509_PUBKEY *spki = X509_get_X509_PUBKEY(cert);
    unsigned char *der = NULL;
    int len = spki != NULL ? i2d_X509_PUBKEY(spki, &der) : -1;
    cas_rc rc = CAS_OK;

    if (len <= 0)
        return cas_err_openssl(err, CAS_E_CRYPTO, "certificate has no usable public key");
    if (EVP_Digest(der, (size_t)len, out, NULL, EVP_sha256(), NULL) != 1)
        rc = cas_err_openssl(err, CAS_E_CRYPTO, "cannot hash a public key");
    OPENSSL_free(der);
    return rc;
}

/*
 * PKCS#8 of a P-256 key (RFC 5208 around RFC 5915's ECPrivateKey, curve in the algorithm, public
 * key included): a fixed 138-byte layout, the bytes OpenSSL's encoder writes. Built directly
 * because OpenSSL 3.0 looks up its encoders for every key, which cost more than generating the
 * key (bench/sessions.sh); tests compare both byte for byte. False for any other key.
 */
#define P256_PKCS8_LEN 138
static bool
p256_pkcs8(const EVP_PKEY *key, uint8_t der[P256_PKCS8_LEN])
{
    static const uint8_t head[36] = {0x30, 0x81, 0x87, 0x02, 0x01, 0x00, 0x30, 0x13, 0x06,
                                     0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06,
                                     0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07,
                                     0x04, 0x6d, 0x30, 0x6b, 0x02, 0x01, 0x01, 0x04, 0x20};
    static const uint8_t mid[5] = {0xa1, 0x44, 0x03, 0x42, 0x00};
    char group[32];
    BIGNUM *d = NULL;
    size_t len = 0;
    bool ok;

    if (!EVP_PKEY_is_a(key, "EC") ||
        EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                       NULL) != 1 ||
        strcmp(group, "prime256v1") != 0) {
        ERR_clear_error();
        return false;
    }
    memcpy(der, head, sizeof(head));
    memcpy(der + 68, mid, sizeof(mid));
    ok = EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_PRIV_KEY, &d) == 1 &&
         BN_bn2binpad(d, der + 36, 32) == 32 &&
         EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, der + 73, 65,
                                         &len) == 1 &&
         len == 65 && der[73] == 0x04;
    BN_clear_free(d);
    if (!ok) {
        OPENSSL_cleanse(der, P256_PKCS8_LEN);
        ERR_clear_error();
    }
    return ok;
}

/* PEM "PRIVATE KEY" of a P-256 key into a secret, with no copy outside secrets and the stack. */
static cas_rc
p256_pem(const EVP_PKEY *key, struct cas_secret **out, bool *done, struct cas_err *err)
{
    static const char begin[] = "-----BEGIN PRIVATE KEY-----\n";
    static const char end[] = "-----END PRIVATE KEY-----\n";
    uint8_t der[P256_PKCS8_LEN];
    char b64[4 * ((P256_PKCS8_LEN + 2) / 3) + 1];
    struct cas_buf b;
    size_t n;
    cas_rc rc = CAS_OK;

    *done = false;
    if (!p256_pkcs8(key, der))
        return CAS_OK;
    cas_b64_encode(der, sizeof(der), b64, false);
    OPENSSL_cleanse(der, sizeof(der));
    cas_buf_init_secret(&b, 512);
    cas_buf_adds(&b, begin);
    n = strlen(b64);
    for (size_t i = 0; i < n; i += 64) {
        cas_buf_add(&b, b64 + i, n - i < 64 ? n - i : 64);
        cas_buf_addc(&b, '\n');
    }
    cas_buf_adds(&b, end);
    OPENSSL_cleanse(b64, sizeof(b64));
    if (b.failed)
        rc = cas_err_set(err, CAS_E_NOMEM, "out of memory encoding a key");
    else if ((rc = cas_secret_from(b.buf, b.len, out, err)) == CAS_OK)
        *done = true;
    cas_buf_release(&b);
    return rc;
}

cas_rc
cas_key_to_pem(const EVP_PKEY *key, struct cas_secret **out, struct cas_err *err)
{
    BIO *bio = NULL;
    BUF_MEM *mem = NULL;
    bool done = false;
    cas_rc rc;

    *out = NULL;
    if ((rc = p256_pem(key, out, &done, err)) != CAS_OK || done)
        return rc;
    if ((bio = BIO_new(BIO_s_secmem())) == NULL)
        return cas_err_openssl(err, CAS_E_NOMEM, "cannot allocate a buffer for a key");
    if (PEM_write_bio_PKCS8PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) != 1 ||
        BIO_get_mem_ptr(bio, &mem) != 1 || mem == NULL) {
        rc = cas_err_openssl(err, CAS_E_CRYPTO, "cannot encode a private key");
        goto out;
    }
    rc = cas_secret_from(mem->data, mem->length, out, err);
out:
    BIO_free(bio); /* a secmem BIO cleanses its buffer */
    return rc;
}

cas_rc
cas_key_from_pem(const struct cas_secret *pem, EVP_PKEY **out, struct cas_err *err)
{
    size_t len;
    const uint8_t *p = cas_secret_peek(pem, &len);
    BIO *bio;

    *out = NULL;
    if (len > INT32_MAX)
        return cas_err_set(err, CAS_E_INVALID, "private key is too large");
    if ((bio = BIO_new_mem_buf(p, (int)len)) == NULL)
        return cas_err_openssl(err, CAS_E_NOMEM, "cannot read a private key");
    *out = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    BIO_free(bio);
    if (*out == NULL)
        return cas_err_openssl(err, CAS_E_INVALID, "private key is not valid PEM");
    return CAS_OK;
}

static cas_rc
add_ext(X509 *cert, X509V3_CTX *ctx, int nid, const char *value, struct cas_err *err)
{
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
    int ok;

    if (ext == NULL)
        return cas_err_openssl(err, CAS_E_CRYPTO, "cannot build extension %s = %s", OBJ_nid2sn(nid),
                               value);
    ok = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    if (ok != 1)
        return cas_err_openssl(err, CAS_E_CRYPTO, "cannot add extension %s", OBJ_nid2sn(nid));
    return CAS_OK;
}

static bool
is_ip_literal(const char *s)
{
    ASN1_OCTET_STRING *ip = a2i_IPADDRESS(s);

    if (ip == NULL) {
        ERR_clear_error();
        return false;
    }
    ASN1_OCTET_STRING_free(ip);
    return true;
}

static cas_rc
san_text(const struct cas_cert_spec *spec, char **out, struct cas_err *err)
{
    struct cas_buf b;

    cas_buf_init(&b, 64 * 1024);
    for (size_t i = 0; i < spec->dns_count; i++) {
        const char *n = spec->dns[i];
        if (n[0] == '\0' || strpbrk(n, ",\n\r") != NULL) {
            cas_buf_release(&b);
            return cas_err_set(err, CAS_E_INVALID, "subjectAltName '%.100s' is not a name", n);
        }
        cas_buf_addf(&b, "%s%s:%s", i ? "," : "", is_ip_literal(n) ? "IP" : "DNS", n);
    }
    if ((*out = cas_buf_detach(&b, NULL)) == NULL)
        return cas_err_set(err, CAS_E_NOMEM, "out of memory for subjectAltNames");
    return CAS_OK;
}

static cas_rc
set_time(ASN1_TIME *t, time_t when, struct cas_err *err)
{
    /* ASN1_TIME_set picks UTCTime before 2050 and GeneralizedTime after, as RFC 5280 says. */
    if (ASN1_TIME_set(t, when) == NULL)
        return cas_err_openssl(err, CAS_E_CRYPTO, "cannot set a certificate time");
    return CAS_OK;
}

static cas_rc
add_extensions(const struct cas_cert_spec *spec, X509 *cert, X509 *issuer, bool self_signed,
               struct cas_err *err)
{
    X509V3_CTX ctx;
    char *san = NULL;
    cas_rc rc = CAS_OK;

    X509V3_set_ctx(&ctx, self_signed ? cert : issuer, cert, NULL, NULL, 0);
    switch (spec->kind) {
    case CAS_CERT_ROOT_CA:
        if ((rc = add_ext(cert, &ctx, NID_basic_constraints, "critical,CA:TRUE", err)) ||
            (rc = add_ext(cert, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign", err)) ||
            (rc = add_ext(cert, &ctx, NID_subject_key_identifier, "hash", err)))
            return rc;
        break;
    case CAS_CERT_INTERMEDIATE_CA:
        if ((rc = add_ext(cert, &ctx, NID_basic_constraints, "critical,CA:TRUE,pathlen:0", err)) ||
            (rc = add_ext(cert, &ctx, NID_key_usage, "critical,keyCertSign", err)) ||
            (rc = add_ext(cert, &ctx, NID_subject_key_identifier, "hash", err)) ||
            (rc = add_ext(cert, &ctx, NID_authority_key_identifier, "keyid:always", err)))
            return rc;
        break;
    case CAS_CERT_TLS_SERVER:
    case CAS_CERT_TLS_CLIENT:
        if ((rc = add_ext(cert, &ctx, NID_basic_constraints, "CA:FALSE", err)) ||
            (rc = add_ext(cert, &ctx, NID_key_usage, "critical,digitalSignature", err)) ||
            (rc = add_ext(cert, &ctx, NID_ext_key_usage,
                          spec->kind == CAS_CERT_TLS_SERVER ? "serverAuth" : "clientAuth", err)))
            return rc;
        if (!self_signed &&
            (rc = add_ext(cert, &ctx, NID_authority_key_identifier, "keyid:always", err)))
            return rc;
        break;
    }
    if (spec->dns_count > 0) {
        if ((rc = san_text(spec, &san, err)) == CAS_OK)
            rc = add_ext(cert, &ctx, NID_subject_alt_name, san, err);
        free(san);
    }
    return rc;
}

cas_rc
cas_cert_issue(const struct cas_cert_spec *spec, EVP_PKEY *subject_key, X509 *issuer_cert,
               EVP_PKEY *issuer_key, X509 **out, struct cas_err *err)
{
    X509 *cert = NULL;
    X509_NAME *name = NULL;
    BIGNUM *serial = NULL;
    bool self_signed = issuer_cert == NULL;
    cas_rc rc;

    *out = NULL;
    if ((cert = X509_new()) == NULL || (name = X509_NAME_new()) == NULL ||
        (serial = BN_new()) == NULL) {
        rc = cas_err_openssl(err, CAS_E_NOMEM, "cannot allocate a certificate");
        goto out;
    }
    /* A positive 127-bit serial: random, and never read as negative by strict parsers. */
    if (X509_set_version(cert, X509_VERSION_3) != 1 || BN_rand(serial, 127, -1, 0) != 1 ||
        BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(cert)) == NULL ||
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                   (const unsigned char *)spec->common_name, -1, -1, 0) != 1 ||
        X509_set_subject_name(cert, name) != 1 ||
        X509_set_issuer_name(cert, self_signed ? name : X509_get_subject_name(issuer_cert)) != 1 ||
        X509_set_pubkey(cert, subject_key) != 1) {
        rc = cas_err_openssl(err, CAS_E_CRYPTO, "cannot fill in certificate '%s'",
                             spec->common_name);
        goto out;
    }
    if ((rc = set_time(X509_getm_notBefore(cert), spec->not_before, err)) != CAS_OK ||
        (rc = set_time(X509_getm_notAfter(cert), spec->not_after, err)) != CAS_OK ||
        (rc = add_extensions(spec, cert, issuer_cert, self_signed, err)) != CAS_OK)
        goto out;
    if (X509_sign(cert, issuer_key, EVP_sha256()) <= 0) {
        rc = cas_err_openssl(err, CAS_E_CRYPTO, "cannot sign certificate '%s'", spec->common_name);
        goto out;
    }
    *out = cert;
    cert = NULL;
out:
    X509_free(cert);
    X509_NAME_free(name);
    BN_free(serial);
    return rc;
}

cas_rc
cas_cert_to_pem(const X509 *cert, char **out, struct cas_err *err)
{
    BIO *bio = BIO_new(BIO_s_mem());
    BUF_MEM *mem = NULL;
    cas_rc rc = CAS_OK;

    *out = NULL;
    if (bio == NULL || PEM_write_bio_X509(bio, cert) != 1 || BIO_get_mem_ptr(bio, &mem) != 1) {
        rc = cas_err_openssl(err, CAS_E_CRYPTO, "cannot encode a certificate");
    } else if ((*out = cas_strndup(mem->data, mem->length)) == NULL) {
        rc = cas_err_set(err, CAS_E_NOMEM, "out of memory");
    }
    BIO_free(bio);
    return rc;
}

cas_rc
cas_cert_from_pem(const char *pem, size_t len, X509 **out, struct cas_err *err)
{
    BIO *bio;

    *out = NULL;
    if (len > INT32_MAX)
        return cas_err_set(err, CAS_E_INVALID, "certificate text is too large");
    if ((bio = BIO_new_mem_buf(pem, (int)len)) == NULL)
        return cas_err_openssl(err, CAS_E_NOMEM, "cannot read a certificate");
    *out = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    BIO_free(bio);
    if (*out == NULL)
        return cas_err_openssl(err, CAS_E_INVALID, "certificate is not valid PEM");
    return CAS_OK;
}

cas_rc
cas_cert_not_after(const X509 *cert, time_t *out, struct cas_err *err)
{
    struct tm tm;

    if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) != 1)
        return cas_err_openssl(err, CAS_E_INVALID, "certificate has an unreadable notAfter");
    *out = timegm(&tm);
    return CAS_OK;
}

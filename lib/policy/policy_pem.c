/*
 * policy_pem.c - PEM checks for session validation. Works on copies in BIOs OpenSSL frees; the
 * caller's text may be a secret value, so nothing here logs or keeps it.
 */
#include "policy_pem.h"

#include <limits.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <string.h>

static BIO *
bio_of(const char *s, size_t len)
{
    if (len > INT_MAX)
        return NULL;
    return BIO_new_mem_buf(s, (int)len);
}

bool
pem_looks_like_cert(const char *s)
{
    return strstr(s, "-----BEGIN CERTIFICATE-----") != NULL;
}

bool
pem_cert_key_hash(const char *s, size_t len, uint8_t out[32])
{
    BIO *bio = bio_of(s, len);
    X509 *x = NULL;
    unsigned char *der = NULL;
    int n;
    bool ok = false;

    if (bio == NULL || (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) == NULL)
        goto out;
    if ((n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der)) <= 0)
        goto out;
    ok = EVP_Digest(der, (size_t)n, out, NULL, EVP_sha256(), NULL) == 1;
out:
    OPENSSL_free(der);
    X509_free(x);
    BIO_free(bio);
    ERR_clear_error();
    return ok;
}

size_t
pem_cert_count(const char *s, size_t len)
{
    BIO *bio = bio_of(s, len);
    size_t n = 0;
    X509 *x;

    if (bio == NULL)
        return 0;
    while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        X509_free(x);
        n++;
    }
    BIO_free(bio);
    ERR_clear_error(); /* the end of the PEM data is reported as an error */
    /* count only BEGIN CERTIFICATE blocks: one that did not parse makes the value invalid */
    {
        size_t blocks = 0;
        const char *p = s, *end = s + len;
        while ((p = memmem(p, (size_t)(end - p), "-----BEGIN CERTIFICATE-----", 27)) != NULL) {
            blocks++;
            p += 27;
        }
        if (blocks != n)
            return 0;
    }
    return n;
}

/* The DER body of the first PEM block in s, which must be named want (OPENSSL_free it). Reading
 * the block ourselves and d2i-ing it skips OpenSSL 3's decoder setup, several times faster per
 * key: a 1 MiB session can hold thousands of explicit keys. */
static unsigned char *
pem_body(const char *s, size_t len, const char *want, long *dlen)
{
    BIO *bio = bio_of(s, len);
    char *name = NULL, *header = NULL;
    unsigned char *data = NULL;

    if (bio == NULL)
        return NULL;
    if (PEM_read_bio(bio, &name, &header, &data, dlen) != 1 || strcmp(name, want) != 0) {
        OPENSSL_free(data);
        data = NULL;
    }
    OPENSSL_free(name);
    OPENSSL_free(header);
    BIO_free(bio);
    ERR_clear_error();
    return data;
}

static bool
key_type_of(EVP_PKEY *k, enum cas_policy_key_type *type)
{
    char group[64];
    size_t glen = 0;

    switch (EVP_PKEY_get_base_id(k)) {
    case EVP_PKEY_ED25519:
        *type = CAS_POLICY_KEY_ED25519;
        return true;
    case EVP_PKEY_RSA:
        if (EVP_PKEY_get_bits(k) != 2048 && EVP_PKEY_get_bits(k) != 3072)
            return false;
        *type = EVP_PKEY_get_bits(k) == 2048 ? CAS_POLICY_KEY_RSA2048 : CAS_POLICY_KEY_RSA3072;
        return true;
    case EVP_PKEY_EC:
        if (EVP_PKEY_get_utf8_string_param(k, "group", group, sizeof(group), &glen) != 1)
            return false;
        if (strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0)
            *type = CAS_POLICY_KEY_P256;
        else if (strcmp(group, "secp384r1") == 0 || strcmp(group, "P-384") == 0)
            *type = CAS_POLICY_KEY_P384;
        else
            return false;
        return true;
    default:
        return false;
    }
}

bool
pem_private_key(const char *s, size_t len, enum cas_policy_key_type *type)
{
    long dlen = 0;
    unsigned char *der = pem_body(s, len, "PRIVATE KEY", &dlen); /* PKCS#8, unencrypted */
    const unsigned char *p = der;
    EVP_PKEY *k;
    bool ok;

    if (der == NULL)
        return false;
    k = d2i_AutoPrivateKey(NULL, &p, dlen);
    ok = k != NULL && p == der + dlen && key_type_of(k, type);
    EVP_PKEY_free(k);
    OPENSSL_clear_free(der, (size_t)dlen);
    ERR_clear_error();
    return ok;
}

bool
pem_public_key(const char *s, size_t len)
{
    long dlen = 0;
    unsigned char *der = pem_body(s, len, "PUBLIC KEY", &dlen);
    const unsigned char *p = der;
    X509_PUBKEY *x;
    bool ok;

    if (der == NULL)
        return false;
    x = d2i_X509_PUBKEY(NULL, &p, dlen);
    ok = x != NULL && p == der + dlen && X509_PUBKEY_get0(x) != NULL;
    X509_PUBKEY_free(x);
    OPENSSL_free(der);
    ERR_clear_error();
    return ok;
}

bool
pem_key_matches_cert(const char *key, size_t key_len, const char *cert, size_t cert_len)
{
    BIO *kb = bio_of(key, key_len), *cb = bio_of(cert, cert_len);
    EVP_PKEY *k = NULL;
    X509 *x = NULL;
    bool ok = false;

    if (kb == NULL || cb == NULL)
        goto out;
    if ((k = PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL)) == NULL ||
        (x = PEM_read_bio_X509(cb, NULL, NULL, NULL)) == NULL)
        goto out;
    ok = X509_check_private_key(x, k) == 1;
out:
    X509_free(x);
    EVP_PKEY_free(k);
    BIO_free(kb);
    BIO_free(cb);
    ERR_clear_error();
    return ok;
}

/*
 * dcap_x509.c - certificates, CRLs and raw ECDSA signatures for DCAP verification, on OpenSSL 3
 * EVP and X509 APIs. Every check takes the verification time as input (never the clock).
 */
#include <stdint.h>

#include <limits.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <string.h>

#include "dcap/collateral.h"
#include "dcap/x509.h"
#include "util/err_openssl.h"

void
cas_dcap_window_init(struct cas_dcap_window *w)
{
    w->lo = INT64_MIN;
    w->hi = INT64_MAX;
}

void
cas_dcap_window_narrow(struct cas_dcap_window *w, int64_t lo, int64_t hi)
{
    if (lo > w->lo)
        w->lo = lo;
    if (hi < w->hi)
        w->hi = hi;
}

bool
cas_dcap_asn1_time(const ASN1_TIME *t, int64_t *out)
{
    struct tm tm;

    if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1 || tm.tm_year < -1900 || tm.tm_mon < 0 ||
        tm.tm_mday < 1 || tm.tm_hour < 0 || tm.tm_min < 0 || tm.tm_sec < 0)
        return false;
    *out = cas_dcap_time_from_civil((int64_t)tm.tm_year + 1900, (unsigned)tm.tm_mon + 1,
                                    (unsigned)tm.tm_mday, (unsigned)tm.tm_hour, (unsigned)tm.tm_min,
                                    (unsigned)tm.tm_sec);
    return true;
}

static void
fmt_time(int64_t t, char out[21])
{
    cas_dcap_time_format(t, out);
}

cas_rc
cas_dcap_pem_chain(const uint8_t *pem, size_t len, const char *what, STACK_OF(X509) * *out,
                   struct cas_err *err)
{
    STACK_OF(X509) *chain = NULL;
    BIO *bio = NULL;
    X509 *x;
    cas_rc rc = CAS_OK;

    *out = NULL;
    if (len > INT_MAX || (bio = BIO_new_mem_buf(pem, (int)len)) == NULL ||
        (chain = sk_X509_new_null()) == NULL) {
        rc = cas_err_set(err, CAS_E_NOMEM, "Cannot read the %s", what);
        goto out;
    }
    ERR_clear_error();
    while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        if (sk_X509_num(chain) >= CAS_DCAP_CHAIN_MAX || sk_X509_push(chain, x) <= 0) {
            X509_free(x);
            rc = cas_err_set(err, CAS_E_INVALID, "The %s holds more than %d certificates", what,
                             CAS_DCAP_CHAIN_MAX);
            goto out;
        }
    }
    /* The loop ends at the first block that is not a certificate: only "no more" is fine. */
    if (ERR_GET_REASON(ERR_peek_last_error()) != PEM_R_NO_START_LINE || sk_X509_num(chain) < 1) {
        rc = cas_err_openssl(err, CAS_E_INVALID, "The %s is not a PEM certificate chain", what);
        goto out;
    }
    ERR_clear_error();
    *out = chain;
    chain = NULL;
out:
    sk_X509_pop_free(chain, X509_free);
    BIO_free(bio);
    return rc;
}

cas_rc
cas_dcap_der_crl(const uint8_t *der, size_t len, const char *what, X509_CRL **out,
                 struct cas_err *err)
{
    const unsigned char *p = der;

    *out = NULL;
    if (len > LONG_MAX || (*out = d2i_X509_CRL(NULL, &p, (long)len)) == NULL)
        return cas_err_openssl(err, CAS_E_INVALID, "The %s is not a DER CRL", what);
    if ((size_t)(p - der) != len) {
        X509_CRL_free(*out);
        *out = NULL;
        return cas_err_set(err, CAS_E_INVALID, "The %s has bytes after its end", what);
    }
    return CAS_OK;
}

bool
cas_dcap_cert_sha256(X509 *cert, uint8_t out[32])
{
    unsigned int n = 0;

    return X509_digest(cert, EVP_sha256(), out, &n) == 1 && n == 32;
}

static cas_rc
narrow_by_cert(X509 *c, const char *what, struct cas_dcap_window *w, struct cas_err *err)
{
    int64_t nb, na;

    if (!cas_dcap_asn1_time(X509_get0_notBefore(c), &nb) ||
        !cas_dcap_asn1_time(X509_get0_notAfter(c), &na))
        return cas_err_set(err, CAS_E_INVALID, "A certificate of the %s has unreadable dates",
                           what);
    cas_dcap_window_narrow(w, nb, na + 1);
    return CAS_OK;
}

cas_rc
cas_dcap_chain_verify(STACK_OF(X509) * chain, int64_t at, const char *what,
                      struct cas_dcap_window *w, struct cas_err *err)
{
    int n = sk_X509_num(chain);
    X509_STORE *store = NULL;
    X509_STORE_CTX *ctx = NULL;
    STACK_OF(X509) *untrusted = NULL, *built;
    X509_VERIFY_PARAM *param;
    cas_rc rc = CAS_OK;

    if (n < 2)
        return cas_err_set(err, CAS_E_INVALID, "The %s has no issuer certificate", what);
    if ((store = X509_STORE_new()) == NULL || (ctx = X509_STORE_CTX_new()) == NULL ||
        (untrusted = sk_X509_new_null()) == NULL ||
        X509_STORE_add_cert(store, sk_X509_value(chain, n - 1)) != 1) {
        rc = cas_err_openssl(err, CAS_E_NOMEM, "Cannot set up the %s check", what);
        goto out;
    }
    for (int i = 1; i < n - 1; i++) {
        if (sk_X509_push(untrusted, sk_X509_value(chain, i)) <= 0) {
            rc = cas_err_set(err, CAS_E_NOMEM, "Cannot set up the %s check", what);
            goto out;
        }
    }
    if (X509_STORE_CTX_init(ctx, store, sk_X509_value(chain, 0), untrusted) != 1) {
        rc = cas_err_openssl(err, CAS_E_NOMEM, "Cannot set up the %s check", what);
        goto out;
    }
    param = X509_STORE_CTX_get0_param(ctx);
    X509_VERIFY_PARAM_set_time(param, (time_t)at);
    X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_CHECK_SS_SIGNATURE);
    if (X509_verify_cert(ctx) != 1) {
        int e = X509_STORE_CTX_get_error(ctx);
        rc = cas_err_set(err, CAS_E_CRYPTO, "The %s does not verify: %s (certificate %d)", what,
                         X509_verify_cert_error_string(e), X509_STORE_CTX_get_error_depth(ctx));
        ERR_clear_error();
        goto out;
    }
    built = X509_STORE_CTX_get0_chain(ctx);
    for (int i = 0; i < n; i++) {
        if (sk_X509_num(built) != n || X509_cmp(sk_X509_value(built, i), sk_X509_value(chain, i))) {
            rc = cas_err_set(err, CAS_E_CRYPTO, "The %s verifies only through other certificates",
                             what);
            goto out;
        }
        if ((rc = narrow_by_cert(sk_X509_value(chain, i), what, w, err)) != CAS_OK)
            goto out;
    }
out:
    sk_X509_free(untrusted);
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    return rc;
}

cas_rc
cas_dcap_crl_check(X509_CRL *crl, X509 *issuer, int64_t at, const char *what,
                   struct cas_dcap_window *w, struct cas_err *err)
{
    int64_t last, next;
    char a[21], b[21];

    if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(issuer)) != 0) {
        char want[256], got[256];
        X509_NAME_oneline(X509_get_subject_name(issuer), want, sizeof(want));
        X509_NAME_oneline(X509_CRL_get_issuer(crl), got, sizeof(got));
        return cas_err_set(err, CAS_E_CRYPTO, "The %s is issued by '%s', not by '%s'", what, got,
                           want);
    }
    if (X509_CRL_verify(crl, X509_get0_pubkey(issuer)) != 1)
        return cas_err_openssl(err, CAS_E_CRYPTO, "The %s signature does not verify", what);
    if (!cas_dcap_asn1_time(X509_CRL_get0_lastUpdate(crl), &last) ||
        !cas_dcap_asn1_time(X509_CRL_get0_nextUpdate(crl), &next))
        return cas_err_set(err, CAS_E_INVALID, "The %s has no readable thisUpdate and nextUpdate",
                           what);
    cas_dcap_window_narrow(w, last, next);
    if (at < last || at >= next) {
        fmt_time(last, a);
        fmt_time(next, b);
        return cas_err_set(err, CAS_E_CRYPTO,
                           "The %s is not valid at the verification time: it holds from %s to %s",
                           what, a, b);
    }
    return CAS_OK;
}

bool
cas_dcap_crl_lists(X509_CRL *crl, X509 *cert)
{
    X509_REVOKED *rev = NULL;

    return X509_CRL_get0_by_cert(crl, &rev, cert) == 1;
}

cas_rc
cas_dcap_p256_key(const uint8_t xy[64], EVP_PKEY **out, struct cas_err *err)
{
    OSSL_PARAM_BLD *bld = NULL;
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    uint8_t point[65];
    cas_rc rc = CAS_OK;

    *out = NULL;
    point[0] = 0x04;
    memcpy(point + 1, xy, 64);
    if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
        OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) != 1 ||
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point)) != 1 ||
        (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
        (ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
        EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) != 1)
        rc = cas_err_openssl(err, CAS_E_INVALID, "The attestation key is not a P-256 point");
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    EVP_PKEY_CTX_free(ctx);
    return rc;
}

/* One DER INTEGER of a 32-byte big-endian value: minimal, non-negative. */
static size_t
der_int(const uint8_t v[32], uint8_t *out)
{
    size_t i = 0, n;

    while (i < 31 && v[i] == 0)
        i++;
    n = 32 - i;
    out[0] = 0x02;
    if (v[i] & 0x80) {
        out[1] = (uint8_t)(n + 1);
        out[2] = 0;
        memcpy(out + 3, v + i, n);
        return n + 3;
    }
    out[1] = (uint8_t)n;
    memcpy(out + 2, v + i, n);
    return n + 2;
}

bool
cas_dcap_ecdsa_verify(EVP_PKEY *key, const uint8_t digest[32], const uint8_t rs[64])
{
    uint8_t der[72];
    size_t n;
    EVP_PKEY_CTX *ctx;
    bool ok;

    n = der_int(rs, der + 2);
    n += der_int(rs + 32, der + 2 + n);
    der[0] = 0x30;
    der[1] = (uint8_t)n;
    if ((ctx = EVP_PKEY_CTX_new(key, NULL)) == NULL)
        return false;
    ok = EVP_PKEY_verify_init(ctx) == 1 && EVP_PKEY_verify(ctx, der, n + 2, digest, 32) == 1;
    EVP_PKEY_CTX_free(ctx);
    ERR_clear_error();
    return ok;
}

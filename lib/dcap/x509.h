/*
 * x509.h - the OpenSSL work of DCAP verification, internal to lib/dcap: PEM chains and DER CRLs
 * with ceilings, chain verification to one pinned root at an explicit time, CRL issuer /
 * signature / validity checks, raw r||s ECDSA P-256 signatures, and the validity window (the
 * intersection of every period checked) that tells the cache how long a result holds.
 */
#ifndef CAS_DCAP_X509_H
#define CAS_DCAP_X509_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdbool.h>

#include "cas/err.h"

#define CAS_DCAP_CHAIN_MAX 4

/* [lo, hi): when every period seen so far holds. */
struct cas_dcap_window {
    int64_t lo, hi;
};

void cas_dcap_window_init(struct cas_dcap_window *w);
void cas_dcap_window_narrow(struct cas_dcap_window *w, int64_t lo, int64_t hi);

/* ASN1_TIME to Unix seconds; false when it cannot be read. */
bool cas_dcap_asn1_time(const ASN1_TIME *t, int64_t *out);

/* 1..CAS_DCAP_CHAIN_MAX PEM certificates, leaf first; trailing NULs and whitespace ignored. */
cas_rc cas_dcap_pem_chain(const uint8_t *pem, size_t len, const char *what, STACK_OF(X509) * *out,
                          struct cas_err *err) CAS_MUST_CHECK;
cas_rc cas_dcap_der_crl(const uint8_t *der, size_t len, const char *what, X509_CRL **out,
                        struct cas_err *err) CAS_MUST_CHECK;

/* SHA-256 of a certificate's DER. */
bool cas_dcap_cert_sha256(X509 *cert, uint8_t out[32]);

/*
 * Verifies chain (leaf first, its last certificate the trusted root, self-signed) at time at,
 * requiring the path OpenSSL builds to be exactly chain; narrows w by every certificate.
 */
cas_rc cas_dcap_chain_verify(STACK_OF(X509) * chain, int64_t at, const char *what,
                             struct cas_dcap_window *w, struct cas_err *err) CAS_MUST_CHECK;

/* The CRL is issued by issuer (name), signed by its key and current at at; narrows w. */
cas_rc cas_dcap_crl_check(X509_CRL *crl, X509 *issuer, int64_t at, const char *what,
                          struct cas_dcap_window *w, struct cas_err *err) CAS_MUST_CHECK;
/* True when cert is listed in crl. */
bool cas_dcap_crl_lists(X509_CRL *crl, X509 *cert);

/* A P-256 public key from its uncompressed point x||y (the point is checked). */
cas_rc cas_dcap_p256_key(const uint8_t xy[64], EVP_PKEY **out, struct cas_err *err) CAS_MUST_CHECK;
/* ECDSA P-256 over a SHA-256 digest with a raw r||s signature; false when it does not verify. */
bool cas_dcap_ecdsa_verify(EVP_PKEY *key, const uint8_t digest[32], const uint8_t rs[64]);

#endif

/*
 * pki.h - keys and X.509 certificates on OpenSSL 3: P-256 key generation, key hashes
 * (SHA-256 of the DER SubjectPublicKeyInfo, api.md §1), certificate issuing with the extensions
 * the CAS PKI and session CAs need, and PEM in and out. Private keys leave only as PEM inside a
 * struct cas_secret. Thread safe: no shared state.
 */
#ifndef CAS_CRYPTO_PKI_H
#define CAS_CRYPTO_PKI_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <time.h>

#include "cas/err.h"

struct cas_secret;

/* RFC 5280's "no well-defined expiration": 99991231235959Z. */
#define CAS_NOT_AFTER_NEVER ((time_t)253402300799)

cas_rc cas_key_new_p256(EVP_PKEY **out, struct cas_err *err) CAS_MUST_CHECK;
/* SHA-256 of the DER SubjectPublicKeyInfo of key / of cert's key. */
cas_rc cas_key_hash(const EVP_PKEY *key, uint8_t out[32], struct cas_err *err) CAS_MUST_CHECK;
cas_rc cas_cert_key_hash(const X509 *cert, uint8_t out[32], struct cas_err *err) CAS_MUST_CHECK;

/* PEM PKCS#8 of a private key, into a secret (never the malloc heap). */
cas_rc cas_key_to_pem(const EVP_PKEY *key, struct cas_secret **out,
                      struct cas_err *err) CAS_MUST_CHECK;
cas_rc cas_key_from_pem(const struct cas_secret *pem, EVP_PKEY **out,
                        struct cas_err *err) CAS_MUST_CHECK;

enum cas_cert_kind {
    CAS_CERT_ROOT_CA,         /* CA:TRUE critical; keyCertSign, cRLSign critical; SKI */
    CAS_CERT_INTERMEDIATE_CA, /* CA:TRUE pathlen 0 critical; keyCertSign critical; SKI, AKI */
    CAS_CERT_TLS_SERVER,      /* CA:FALSE; digitalSignature; EKU serverAuth; SAN; AKI */
    CAS_CERT_TLS_CLIENT,      /* CA:FALSE; digitalSignature; EKU clientAuth; self-signed ok */
};

struct cas_cert_spec {
    enum cas_cert_kind kind;
    const char *common_name;
    const char *const *dns; /* subjectAltNames: DNS names or IP literals (v4/v6) */
    size_t dns_count;
    time_t not_before;
    time_t not_after; /* CAS_NOT_AFTER_NEVER for 99991231235959Z */
};

/*
 * Issues a certificate for subject_key per spec, signed by issuer_key; issuer_cert NULL means
 * self-signed. A random 128-bit serial. Returns a new X509 in *out.
 */
cas_rc cas_cert_issue(const struct cas_cert_spec *spec, EVP_PKEY *subject_key, X509 *issuer_cert,
                      EVP_PKEY *issuer_key, X509 **out, struct cas_err *err) CAS_MUST_CHECK;

/* PEM text of one certificate, appended to a malloc'd string (caller frees). */
cas_rc cas_cert_to_pem(const X509 *cert, char **out, struct cas_err *err) CAS_MUST_CHECK;
/* The first certificate of PEM text. */
cas_rc cas_cert_from_pem(const char *pem, size_t len, X509 **out,
                         struct cas_err *err) CAS_MUST_CHECK;
/* notAfter as Unix time. */
cas_rc cas_cert_not_after(const X509 *cert, time_t *out, struct cas_err *err) CAS_MUST_CHECK;

#endif

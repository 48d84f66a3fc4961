/*
 * secrets_int.h - helpers shared by the files of lib/secrets: PEM blocks in and out, keys from a
 * value, and moving a secret-holding buffer into a struct cas_secret. Not installed.
 */
#ifndef CAS_SECRETS_INT_H
#define CAS_SECRETS_INT_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdbool.h>

#include "secrets/secrets.h"
#include "util/buf.h"

/*
 * The DER bytes of each PEM block of text[0..len), which must all be labelled `label`
 * ("CERTIFICATE", "PRIVATE KEY", "PUBLIC KEY"); at most max blocks, at least one. Each block
 * goes to cb; a key's DER is cleansed after cb returns. CAS_E_INVALID names `what`.
 */
typedef cas_rc (*pem_block_fn)(void *ctx, const uint8_t *der, size_t der_len, struct cas_err *err);
cas_rc pem_blocks(const char *text, size_t len, const char *label, size_t max, const char *what,
                  pem_block_fn cb, void *ctx, struct cas_err *err) CAS_MUST_CHECK;

/* The certificates (at most CAS_SECRETS_CHAIN_MAX + 1) of PEM text[0..len) appended to *stack,
 * created when NULL; NULL text or len 0: none. */
cas_rc certs_from_pem(const char *text, size_t len, STACK_OF(X509) * *stack,
                      struct cas_err *err) CAS_MUST_CHECK;

/* The private key of PKCS#8 PEM held in a secret (never prompting for a password). */
cas_rc key_from_secret(const struct cas_secret *pem, EVP_PKEY **out,
                       struct cas_err *err) CAS_MUST_CHECK;

/*
 * The value of the secret `what` (private_key, issuer) names, which must be of kind want. NULL
 * name: *out NULL and CAS_OK; no value yet, or another kind: CAS_E_INVALID naming it.
 */
cas_rc resolve_named(const char *what, const char *name, enum cas_policy_kind want,
                     cas_secrets_resolve_fn resolve, void *ctx, const struct cas_secret_value **out,
                     struct cas_err *err) CAS_MUST_CHECK;

/* Which of policy.md's five key types key is; false for any other. */
bool key_type_of(const EVP_PKEY *key, enum cas_policy_key_type *type);

/* PEM text of a certificate or a public key, appended to b. */
void cert_pem_add(struct cas_buf *b, const X509 *cert);
void pubkey_pem_add(struct cas_buf *b, const EVP_PKEY *key);

/* Moves b's bytes into a new secret and releases (wipes) b, failed or not. */
cas_rc buf_to_secret(struct cas_buf *b, struct cas_secret **out,
                     struct cas_err *err) CAS_MUST_CHECK;
/* Moves b's bytes into a malloc'd terminated string and releases b. */
cas_rc buf_to_str(struct cas_buf *b, char **out, struct cas_err *err) CAS_MUST_CHECK;

/* Unix time of an ASN1_TIME. */
bool asn1_time_unix(const ASN1_TIME *t, int64_t *out);

/* RFC 8785 canonical JSON of j appended to b (reals are refused: CAS_E_INVALID). */
cas_rc json_canonical(struct cas_buf *b, json_t *j, struct cas_err *err) CAS_MUST_CHECK;

/* Whether s[0..len) is valid UTF-8 without NUL. */
bool utf8_valid(const uint8_t *s, size_t len);

#endif

/*
 * policy_pem.h - the few PEM checks validation needs (policy.md §8 explicit values, §3 creator,
 * §10 certificates): parse, classify, key hash. OpenSSL only; nothing here keeps a key.
 */
#ifndef CAS_POLICY_PEM_H
#define CAS_POLICY_PEM_H

#include <stddef.h>
#include <stdint.h>

#include <stdbool.h>

#include "policy/policy.h"

/* Whether s holds the PEM header of a certificate. */
bool pem_looks_like_cert(const char *s);

/* The key hash (SHA-256 of the DER SPKI) of the first certificate in s; false if none. */
bool pem_cert_key_hash(const char *s, size_t len, uint8_t out[32]);

/* Number of certificates in s (all must parse), or 0 when any does not. */
size_t pem_cert_count(const char *s, size_t len);

/* An unencrypted PKCS#8 private key of one of §8's types: sets *type; false otherwise. */
bool pem_private_key(const char *s, size_t len, enum cas_policy_key_type *type);

/* A PEM SubjectPublicKeyInfo. */
bool pem_public_key(const char *s, size_t len);

/* Whether the first certificate of cert matches the private key key. */
bool pem_key_matches_cert(const char *key, size_t key_len, const char *cert, size_t cert_len);

#endif
